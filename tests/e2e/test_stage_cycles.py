#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""--stage-cycles: at exit rxsec prints the TSC cycles per packet of each
stage (receive, classify, SA lookup, crypto, checks, enqueue, transport,
transmit) and their total. Checked on the quick-start sample looped by
net_pcap, with -l 0 (both stages on one lcore) and -l 0-1: every stage
named once, in order, each a number of cycles at or above 0, the ones
every packet passes through above 0, and a total that is their sum.
Without the option there is no such line."""
import os
import sys

from interrupted import run_interrupted

rxsec = os.environ.get('RXSEC', 'build/app/rxsec')
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
sample = os.path.join(root, 'config', 'sample')
STAGES = ['rx', 'classify', 'sa_lookup', 'crypto', 'checks', 'enqueue', 'transport', 'tx']
BUSY = ['rx', 'classify', 'crypto', 'checks', 'transport', 'tx']


def run(lcores, extra):
    return run_interrupted(
        [rxsec, '--no-huge', '-m', '512', '--no-pci', '--file-prefix',
         'stc%d_%s_%d' % (os.getpid(), lcores, len(extra)), '-l', lcores,
         '--log-level=warning',
         '--vdev', 'net_pcap0,rx_pcap=%s/in.pcap,infinite_rx=1' % sample,
         '--vdev', 'net_null0,no-rx=1', '--',
         '--sa', os.path.join(sample, 'sa.conf'), '--replay-window', '0'] + extra)


def check(lcores):
    errs = []
    rc, out, err = run(lcores, ['--stage-cycles'])
    if rc != 0:
        errs.append('exit status %s: %s' % (rc, err.strip()[-300:]))
    lines = [ln for ln in out.splitlines() if ln.startswith('cycles per packet:')]
    if len(lines) != 1:
        return errs + ['%d "cycles per packet:" lines, not 1' % len(lines)]
    words = lines[0][len('cycles per packet:'):].split()
    pairs = list(zip(words[0::2], words[1::2]))
    names = [n for n, _ in pairs]
    if names[:len(STAGES)] != STAGES or names[len(STAGES):len(STAGES) + 1] != ['total']:
        return errs + ['stages %s, not %s then total' % (names, STAGES)]
    try:
        val = {n: float(v) for n, v in pairs[:len(STAGES) + 1]}
    except ValueError:
        return errs + ['not numbers: %s' % lines[0]]
    for n in STAGES:
        if val[n] < 0:
            errs.append('%s %.1f below 0' % (n, val[n]))
    for n in BUSY:
        if val[n] <= 0:
            errs.append('%s %.1f: every packet passes through it' % (n, val[n]))
    if abs(sum(val[n] for n in STAGES) - val['total']) > 0.5:
        errs.append('total %.1f is not the sum %.1f' % (val['total'],
                                                      sum(val[n] for n in STAGES)))
    rc, out, _ = run(lcores, [])
    if rc != 0 or 'cycles per packet' in out:
        errs.append('without --stage-cycles: exit %s, %s' % (
            rc, 'a cycles line' if 'cycles per packet' in out else 'no cycles line'))
    print('%s -l %s: %s' % ('FAIL' if errs else 'ok  ', lcores,
                            '; '.join(errs) if errs else lines[0]))
    return errs


failed = sum(1 for lc in ('0', '0-1') if check(lc))
print('%d of 2 runs failed' % failed)
sys.exit(1 if failed else 0)
