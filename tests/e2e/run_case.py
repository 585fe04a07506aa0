# SPDX-License-Identifier: BSD-3-Clause
"""Run rxsec on test case directories and check what it did.

    run_case.py [--rxsec PATH] [--lcores 0|0-1|both] [--workdir DIR]
                [--timeout S] CASEDIR [CASEDIR...]

A case directory holds sa.conf, in.pcap, expected.pcap and expect.json
(tests/vectors or shared/linux-xfrm/captures), and optionally args.json, a
JSON list of extra rxsec options (e.g. ["--offload", "v1"]) appended after
the ones below (capability cases: the same traffic under other options). rxsec (PATH, else $RXSEC,
else build/app/rxsec) reads in.pcap on net_pcap0 and writes what it delivers
to out.pcap; outputs go to WORKDIR/<case>-l<lcores>/, never into the case.
With -l 0 rxsec keeps its mbufs and SAs on the transparent-huge-page heap it
builds without hugepages; with -l 0-1 it runs with --no-thp, on EAL memory.
Checks, each printed as `ok` or `FAIL`:
  exit       rxsec exited 0 within the timeout
  mbufs      stdout has "mbufs: all N returned to pool"
  frames     out.pcap == expected.pcap, frame for frame, byte for byte
  verdicts   one verdict line per received frame, in order, equal to
             expect.json (n, spi, verdict, crypto_done, next_crypto_done,
             sa_delete_req, crypto_status, reason; a capture without
             `reason` expects `ok` for delivered frames)
  report     when expect.json has `report` (a list of regexes), each
             matches a line of rxsec's output (e.g. per-stage reassembly
             counters)
Exit status 0 only if every check of every case passed.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'vectors'))

from rxsec_vectors import read_pcap  # noqa: E402

FIELDS = ('n', 'spi', 'verdict', 'crypto_done', 'next_crypto_done', 'sa_delete_req',
          'crypto_status', 'reason')


def hexdiff(got, want, width=16):
    """Side-by-side hex lines of two frames, marking differing lines."""
    out = []
    first = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]),
                 min(len(got), len(want)))
    out.append('    length got %d want %d, first difference at byte %d' %
               (len(got), len(want), first))
    start = max(0, (first // width - 2) * width)
    for off in range(start, min(max(len(got), len(want)), start + 8 * width), width):
        g, w = got[off:off + width], want[off:off + width]
        mark = '  ' if g == w else '!!'
        out.append('  %s %04x got  %-48s' % (mark, off, g.hex(' ')))
        out.append('  %s %04x want %-48s' % (mark, off, w.hex(' ')))
    return '\n'.join(out)


def check_frames(out_pcaps, case):
    """Delivered frames, byte for byte, in order. With several transports
    (one TX queue and pcap each) their interleaving is the scheduler's:
    the frames are compared as sorted lists."""
    want = read_pcap(os.path.join(case, 'expected.pcap'))
    got = []
    try:
        for path in out_pcaps:
            got += read_pcap(path)
    except (OSError, ValueError) as ex:
        return ['no out.pcap: %s' % ex]
    if len(out_pcaps) > 1:
        got, want = sorted(got), sorted(want)
    errs = []
    for i in range(max(len(got), len(want))):
        if i >= len(got):
            errs.append('delivered frame %d missing (%d delivered, %d expected)' %
                        (i, len(got), len(want)))
            break
        if i >= len(want):
            errs.append('extra delivered frame %d (%d delivered, %d expected): %s' %
                        (i, len(got), len(want), got[i][:64].hex()))
            break
        if got[i] != want[i]:
            errs.append('delivered frame %d differs:\n%s' % (i, hexdiff(got[i], want[i])))
            break
    return errs


def check_verdicts(vpath, case):
    exp = json.load(open(os.path.join(case, 'expect.json')))['packets']
    try:
        lines = [ln for ln in open(vpath).read().splitlines() if ln.strip()]
    except OSError as ex:
        return ['no verdicts file: %s' % ex]
    errs = []
    got = []
    for i, ln in enumerate(lines):
        try:
            got.append(json.loads(ln))
        except ValueError:
            errs.append('verdict line %d is not JSON: %r' % (i, ln[:120]))
            return errs
    if len(got) != len(exp):
        errs.append('%d verdict lines for %d received frames' % (len(got), len(exp)))
    for i, e in enumerate(exp):
        e = dict(e)
        if 'reason' not in e:
            e['reason'] = 'ok' if e['verdict'] == 'deliver' else None
        if i >= len(got):
            break
        g = got[i]
        diff = ['%s: got %r want %r' % (f, g.get(f), e[f]) for f in FIELDS
                if e.get(f) is not None and g.get(f) != e[f]]
        if diff:
            errs.append('frame %d (%s): %s' % (i, e.get('wire', '?'), '; '.join(diff)))
    return errs


def report_regexes(case):
    return json.load(open(os.path.join(case, 'expect.json'))).get('report', [])


def check_report(out, want):
    """Each regex of expect.json's `report` matches a line of rxsec's output."""
    lines = out.splitlines()
    return ['no output line matches %r' % r for r in want
            if not any(re.search(r, ln) for ln in lines)]


def case_args(case):
    """Extra rxsec options of a case (args.json), none if absent."""
    path = os.path.join(case, 'args.json')
    if not os.path.exists(path):
        return []
    args = json.load(open(path))
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError('%s: expected a JSON list of strings' % path)
    return args


def run_one(rxsec, case, lcores, workdir, timeout, extra=()):
    name = os.path.basename(os.path.normpath(case))
    wd = os.path.join(workdir, '%s-l%s' % (name, lcores))
    shutil.rmtree(wd, ignore_errors=True)
    os.makedirs(wd)
    args = case_args(case)
    ntx = int(args[args.index('--transports') + 1]) if '--transports' in args else 1
    outs = [os.path.join(wd, 'out%s.pcap' % ('' if ntx == 1 else i)) for i in range(ntx)]
    vpath = os.path.join(wd, 'v.jsonl')
    # RXSEC_FILE_PREFIX: a stem for EAL file prefixes, so that runs sharing a
    # machine can tell (and clean up) their own /var/run/dpdk directories
    prefix = '%srxt%d_%s_%s' % (os.environ.get('RXSEC_FILE_PREFIX', ''), os.getpid(),
                                re.sub(r'\W', '', name)[-24:], lcores.replace('-', ''))
    cmd = [rxsec, '--no-huge', '-m', '512', '--no-pci', '--file-prefix', prefix,
           '-l', lcores, '--vdev',
           'net_pcap0,rx_pcap=%s,%s' % (os.path.join(os.path.abspath(case), 'in.pcap'),
                                       ','.join('tx_pcap=' + o for o in outs)),
           '--', '--sa', os.path.join(os.path.abspath(case), 'sa.conf'),
           '--verdicts', vpath, '--idle-exit', '300'] + args + list(extra)
    results = []
    tag = '%s [-l %s%s]' % (name, lcores, ''.join(' ' + x for x in extra))
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, cwd=wd)
        out = p.stdout.decode(errors='replace')
        rc = p.returncode
    except subprocess.TimeoutExpired as ex:
        out = (ex.stdout or b'').decode(errors='replace')
        rc = 'timeout after %ds' % timeout
    with open(os.path.join(wd, 'rxsec.log'), 'w') as f:
        f.write(' '.join(cmd) + '\n' + out)
    results.append(('exit', [] if rc == 0 else ['exit status %s; log %s/rxsec.log; last lines:\n%s'
                                                % (rc, wd, '\n'.join(out.splitlines()[-15:]))]))
    results.append(('mbufs', [] if re.search(r'mbufs: all \d+ returned to pool', out)
                    else ['no "mbufs: all N returned to pool" line']))
    results.append(('frames', check_frames(outs, case)))
    results.append(('verdicts', check_verdicts(vpath, case)))
    want_report = report_regexes(case)
    if want_report:
        results.append(('report', check_report(out, want_report)))
    ok = True
    for check, errs in results:
        if errs:
            ok = False
            print('FAIL %-9s %s' % (check, tag))
            for e in errs[:12]:
                print('     ' + e.replace('\n', '\n     '))
            if len(errs) > 12:
                print('     ... %d more' % (len(errs) - 12))
        else:
            print('ok   %-9s %s' % (check, tag))
    sys.stdout.flush()
    return ok


def default_rxsec():
    return os.environ.get('RXSEC') or os.path.join(HERE, '..', '..', 'build', 'app', 'rxsec')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--rxsec', default=None)
    ap.add_argument('--lcores', default='both', help='0, 0-1 or both')
    ap.add_argument('--workdir', default=None)
    ap.add_argument('--timeout', type=int, default=60)
    ap.add_argument('cases', nargs='+')
    a = ap.parse_args(argv)
    return run_cases(a.cases, a.rxsec or default_rxsec(), a.lcores, a.workdir, a.timeout)


def run_cases(cases, rxsec, lcores='both', workdir=None, timeout=60):
    rxsec = os.path.abspath(rxsec)     # rxsec runs in its output directory
    if not os.access(rxsec, os.X_OK):
        print('FAIL rxsec binary %s not found' % rxsec)
        return 1
    lc = ['0', '0-1'] if lcores == 'both' else [lcores]
    own = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix='rxsec-e2e-')
    failed = []
    for case in cases:
        for l in lc:
            # One layout per memory mode: -l 0 on the huge-page heap rxsec
            # makes without hugepages, -l 0-1 on EAL's own memory.
            extra = ('--no-thp',) if l == '0-1' else ()
            if not run_one(rxsec, case, l, workdir, timeout, extra):
                failed.append('%s [-l %s%s]' % (os.path.basename(os.path.normpath(case)), l,
                                                ''.join(' ' + x for x in extra)))
    print('%d case runs, %d failed%s' % (len(cases) * len(lc), len(failed),
                                         (': ' + ', '.join(failed)) if failed else ''))
    if own and not failed and not os.environ.get('RXSEC_KEEP'):
        shutil.rmtree(workdir, ignore_errors=True)
    elif failed:
        print('outputs kept in %s' % workdir)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
