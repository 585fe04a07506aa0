# SPDX-License-Identifier: BSD-3-Clause
"""Write test cases: gen.py OUTDIR FAMILY [FAMILY...] (or `all`).
Each case goes to OUTDIR/<case>/ (sa.conf, in.pcap, expected.pcap,
expect.json); the case names are printed one per line."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402


def generate(outdir, families):
    if families == ['all']:
        families = list(cases.FAMILIES)
    dirs = []
    for fam in families:
        for c in cases.FAMILIES[fam]():
            dirs.append(c.write(os.path.join(outdir, c.name)))
    return dirs


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    for d in generate(argv[1], argv[2:]):
        print(d)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
