#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""SIGINT and SIGTERM stop rxsec cleanly under load (spec section 6): the
rings drain, final counters are printed, every mbuf is back, exit status 0.
Traffic: the quick-start sample looped by net_pcap (infinite_rx), anti-replay
off since the loop repeats sequence numbers; -l 0 and -l 0-1, and two engines
(two RX queues) on -l 0-1, one of them sharing its lcore with the transport
stage whose ring the other fills: an engine waiting for ring room runs its own
lcore's transports, or the two lcores would wait on each other for ever.
A --verdicts pipe whose reader goes away is no SIGPIPE death either: rxsec
stops as for a signal, says why and exits 1 (the record is no longer whole)."""
import os
import re
import signal
import shutil
import subprocess
import sys
import tempfile

from interrupted import run_interrupted

rxsec = os.environ.get('RXSEC', 'build/app/rxsec')
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
sample = os.path.join(root, 'config', 'sample')
failed = total = 0
LAYOUTS = (('0', 1, []), ('0-1', 1, []), ('0-1', 2, ['--workers', '2']),
           ('0-1', 2, ['--workers', '2', '--transports', '2']))
for sig in (signal.SIGINT, signal.SIGTERM):
    for n, (lcores, queues, stages) in enumerate(LAYOUTS):
        total += 1
        rc, out, err = run_interrupted(
            [rxsec, '--no-huge', '-m', '512', '--no-pci', '--file-prefix',
             'sig%d_%d_%d' % (os.getpid(), sig, n), '-l', lcores, '--log-level=warning',
             '--vdev', 'net_pcap0,%sinfinite_rx=1' % (('rx_pcap=%s/in.pcap,' % sample) * queues),
             '--vdev', 'net_null0,no-rx=1', '--',
             '--sa', os.path.join(sample, 'sa.conf'), '--replay-window', '0'] + stages,
            seconds=3 if queues > 1 else 1.5, sig=sig)
        m = re.search(r'^engine: rx (\d+)', out, re.M)
        t = re.search(r'^transport: rx (\d+) delivered (\d+)', out, re.M)
        ok = (rc == 0 and 'stopped by signal %d' % sig in out and
              'mbufs: all' in out and m is not None and t is not None and
              int(m.group(1)) > 0 and int(m.group(1)) == int(t.group(1)))
        failed += not ok
        print('%s %s with -l %s %s: exit %s, engine rx %s = transport rx %s' % (
            'ok  ' if ok else 'FAIL', signal.Signals(sig).name, lcores, ' '.join(stages), rc,
            m.group(1) if m else '?', t.group(1) if t else '?'))
        if not ok:
            print(out[-1500:], err[-1500:])
for lcores in ('0', '0-1'):
    total += 1
    wd = tempfile.mkdtemp(prefix='rxsec-sigpipe-')
    fifo = os.path.join(wd, 'verdicts')
    os.mkfifo(fifo)
    prefix = 'sigpipe%d_%s' % (os.getpid(), lcores)
    p = subprocess.Popen(
        [rxsec, '--no-huge', '-m', '512', '--no-pci', '--file-prefix', prefix, '-l', lcores,
         '--log-level=warning', '--vdev', 'net_pcap0,rx_pcap=%s/in.pcap,infinite_rx=1' % sample,
         '--vdev', 'net_null0,no-rx=1', '--', '--sa', os.path.join(sample, 'sa.conf'),
         '--replay-window', '0', '--verdicts', fifo],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(fifo) as reader:	# one line, then the reader goes away
        first = reader.readline()
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    ok = (p.returncode == 1 and first.startswith('{"n":0,') and
          "--verdicts: writing '%s' failed: stopping" % fifo in err and
          'mbufs: all' in out and
          not os.path.exists('/var/run/dpdk/' + prefix))
    failed += not ok
    print('%s verdicts reader gone with -l %s: exit %s (%s)' % (
        'ok  ' if ok else 'FAIL', lcores, p.returncode,
        'killed by signal %d' % -p.returncode if p.returncode < 0 else 'no signal'))
    if not ok:
        print(out[-1500:], err[-1500:])
    shutil.rmtree(wd, ignore_errors=True)
print('%d passed, %d failed' % (total - failed, failed))
sys.exit(1 if failed else 0)
