#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A delivery port that refuses packets: they become tx_failed, are freed and
counted, and the per-SA counters move them from delivered to tx_failed.
The delivery port is a net_ring nobody reads, so it takes its ring's worth of
packets and refuses the rest. Traffic: 16 scapy-built AES-GCM tunnel
packets of one SA, looped by net_pcap (anti-replay off, the loop repeats
sequence numbers); -l 0 and -l 0-1. The mbufs the ring still holds at exit
are exactly the delivered ones: every other mbuf is back in the pool."""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'vectors'))
import rxsec_vectors as V  # noqa: E402
from interrupted import run_interrupted  # noqa: E402

rxsec = os.environ.get('RXSEC', 'build/app/rxsec')
work = tempfile.mkdtemp(prefix='rxsec-txf-')


def make_traffic():
    c = V.Case('txf', 'one SA, all delivered')
    sa = c.sa(mode='tunnel', family=4, enc='aes128gcm16', window=0)
    for n in range(16):
        c.ipsec(sa, c.inner(sa, 40 + n))
    c.write(work)


def reasons(out):
    m = re.search(r'^reasons: (.*)$', out, re.M)
    return {k: int(v) for k, v in re.findall(r'(\w+) (\d+)', m.group(1))} if m else {}


def sa_totals(out):
    """Sum over the SA lines of delivered and of tx_failed."""
    d = t = 0
    for line in re.findall(r'^sa 0x.*$', out, re.M):
        m = re.search(r'delivered (\d+)', line)
        d += int(m.group(1)) if m else 0
        m = re.search(r'tx_failed (\d+)', line)
        t += int(m.group(1)) if m else 0
    return d, t


def run(lcores):
    return run_interrupted(
        [rxsec, '--no-huge', '-m', '512', '--no-pci', '--file-prefix',
         'txf%d_%s' % (os.getpid(), lcores), '-l', lcores, '--log-level=warning',
         '--vdev', 'net_pcap0,rx_pcap=%s/in.pcap,infinite_rx=1' % work,
         '--vdev', 'net_ring0', '--', '--sa', os.path.join(work, 'sa.conf')])


def check(lcores):
    rc, out, err = run(lcores)
    t = re.search(r'^transport: rx (\d+) delivered (\d+)', out, re.M)
    e = re.search(r'^engine: rx (\d+)', out, re.M)
    port1 = re.search(r'^port 1: rx \d+ tx (\d+)', out, re.M)
    pool = re.search(r'^mbufs: (\d+) of (\d+) returned to pool', out, re.M)
    r = reasons(out)
    problems = []
    if not (t and e and port1 and pool and r):
        return ['missing counters (exit %d)' % rc, out[-1500:], err[-1500:]]
    rx, delivered = int(t.group(1)), int(t.group(2))
    sa_delivered, sa_tx_failed = sa_totals(out)
    if int(e.group(1)) != rx:
        problems.append('engine rx %s != transport rx %d' % (e.group(1), rx))
    if sum(r.values()) != rx:
        problems.append('reasons sum to %d, transport rx %d' % (sum(r.values()), rx))
    if r.get('tx_failed', 0) == 0 or delivered == 0:
        problems.append('expected both delivered (%d) and tx_failed (%d)'
                        % (delivered, r.get('tx_failed', 0)))
    if r.get('ok') != delivered or int(port1.group(1)) != delivered:
        problems.append('ok %s, port 1 tx %s, delivered %d'
                        % (r.get('ok'), port1.group(1), delivered))
    if sa_delivered != delivered or sa_tx_failed != r.get('tx_failed'):
        problems.append('per-SA delivered %d tx_failed %d, stage %d and %d'
                        % (sa_delivered, sa_tx_failed, delivered, r.get('tx_failed', 0)))
    held = int(pool.group(2)) - int(pool.group(1))
    if held != delivered:
        problems.append('%d mbufs not returned, %d delivered into the ring' % (held, delivered))
    if rc != 3:
        problems.append('exit status %d, want 3 (mbufs held by the port)' % rc)
    return problems


make_traffic()
failed = 0
for lcores in ('0', '0-1'):
    problems = check(lcores)
    failed += bool(problems)
    print('%s -l %s' % ('FAIL' if problems else 'ok  ', lcores))
    for p in problems:
        print('    ' + p)
shutil.rmtree(work, ignore_errors=True)
print('%d passed, %d failed' % (2 - failed, failed))
sys.exit(1 if failed else 0)
