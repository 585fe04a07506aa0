# SPDX-License-Identifier: BSD-3-Clause
"""Generate a case family with tests/vectors and run rxsec on every case.

    run_family.py [--rxsec PATH] [--lcores 0|0-1|both] FAMILY [FAMILY...]
    run_family.py [--rxsec PATH] --captures DIR [DIR...]

FAMILY is one of tests/vectors/cases.py FAMILIES (issue2, issue3_esp, ...).
--captures runs existing case directories as they are (the Linux captures).
Cases are generated into a fresh temporary directory (deterministic seeds),
so no generated pcap is committed. Set RXSEC_KEEP=1 to keep the outputs.
"""
import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'vectors'))
sys.path.insert(0, HERE)

import run_case  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--rxsec', default=None)
    ap.add_argument('--lcores', default='both')
    ap.add_argument('--timeout', type=int, default=60)
    ap.add_argument('--captures', action='store_true')
    ap.add_argument('--only', default=None, help='regex on case names')
    ap.add_argument('names', nargs='+')
    a = ap.parse_args()
    rxsec = a.rxsec or run_case.default_rxsec()
    work = tempfile.mkdtemp(prefix='rxsec-e2e-')
    if a.captures:
        dirs = a.names
        missing = [d for d in dirs if not os.path.isfile(os.path.join(d, 'expect.json'))]
        if missing:
            print('FAIL capture directory missing (or without expect.json): %s\n'
                  '     the Linux captures come from shared/linux-xfrm beside the repo '
                  '(CI clones it there)' % ', '.join(missing))
            os.rmdir(work)
            return 1
    else:
        import gen
        dirs = gen.generate(os.path.join(work, 'cases'), a.names)
    if a.only:
        import re
        dirs = [d for d in dirs if re.search(a.only, os.path.basename(d))]
    print('%d cases from %s' % (len(dirs), ' '.join(a.names)))
    rc = run_case.run_cases(dirs, rxsec, a.lcores, os.path.join(work, 'runs'), a.timeout)
    if rc == 0 and not os.environ.get('RXSEC_KEEP'):
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    else:
        print('cases and outputs in %s' % work)
    return rc


if __name__ == '__main__':
    sys.exit(main())
