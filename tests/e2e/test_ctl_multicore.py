# SPDX-License-Identifier: BSD-3-Clause
"""Many cores (issue 4 item 5): --workers 2 --transports 2 on a two-queue
net_pcap port (one RX queue per rx_pcap, one TX queue per tx_pcap), with
-l 0-1 and with everything on -l 0. Each SA's packets arrive on one queue
(as RSS by outer addresses would do); every packet of an SA goes to the
same transport stage, so each SA's delivered frames appear in exactly one
output, complete and in sequence order. Counters add up; mbufs come home.
While the same setup runs with a control socket, rxsec-ctl stats and
telemetry /rxsec/stages give each worker's and each stage's counters, and
they add up to the totals. Packets of no SA (plain flows, an unknown SPI)
spread over the stages by outer addresses, each flow in order.
"""
import os
import struct
import time

from issue4_lib import (Sa, Daemon, workdir, check, finish, report_counts, write_pcap,
                        read_pcap, parse_tag, eth, ipv4, run_to_idle)

SAS = [Sa(0xd000 + i, window=64, reqid=20 + i, src='192.0.2.%d' % (30 + i)) for i in range(4)]
N = 150


def two_queues(wd):
    """Each SA's packets on one RX queue; the vdev with two RX, two TX."""
    queues = [[], []]
    for k in range(N):
        for i, sa in enumerate(SAS):
            queues[i % 2].append(sa.esp(k + 1))
    for q in range(2):
        write_pcap(os.path.join(wd, 'q%d.pcap' % q), queues[q])
    return 'net_pcap0,' + ','.join('rx_pcap=%s' % os.path.join(wd, 'q%d.pcap' % q)
                                   for q in range(2)) + ',' + \
        ','.join('tx_pcap=%s' % os.path.join(wd, 'out%d.pcap' % q) for q in range(2))


def stages_to_idle(wd, tag, lcores, vdev, sas, workers, name):
    """rxsec with two transport stages until idle; its output (run_to_idle)."""
    return run_to_idle(wd, ''.join(s.xfrm() for s in sas), tag, lcores, vdev, name,
                       ['--workers', str(workers), '--transports', '2'])


def case(lcores):
    wd = workdir('mc')
    name = '--workers 2 --transports 2 -l %s' % lcores
    out = stages_to_idle(wd, 'i4m', lcores, two_queues(wd), SAS, 2, name)
    check('2 worker(s), 2 transport(s)' in out, '%s: two workers and two transports' % name)
    reasons, (trx, tdel), erx = report_counts(out)
    check(erx == trx == 4 * N and tdel == 4 * N,
          '%s: all %d packets received and delivered (%s/%s/%s)' % (name, 4 * N, erx, trx, tdel))
    per_out = [[parse_tag(f) for f in read_pcap(os.path.join(wd, 'out%d.pcap' % q))]
               for q in range(2)]
    for sa in SAS:
        where = [q for q in range(2) if any(t[0] == sa.tag for t in per_out[q])]
        seqs = [t[1] for q in where for t in per_out[q] if t[0] == sa.tag]
        check(len(where) == 1 and seqs == list(range(1, N + 1)),
              '%s: SA 0x%x on one transport, all %d in order' % (name, sa.spi, N))


def case_live(lcores):
    name = 'per-stage counters -l %s' % lcores
    wd = workdir('mcl')
    d = Daemon(wd, SAS, two_queues(wd), lcores=lcores,
               args=['--workers', '2', '--transports', '2'],
               prefix='i4ml%d%s' % (os.getpid(), lcores.replace('-', '')))
    r = {}
    for _ in range(100):
        rc, r = d.ctl('stats')
        if rc == 0 and r['transport']['rx'] == 4 * N:
            break
        time.sleep(0.1)
    eng, tr = r.get('engine', {}), r.get('transport', {})
    workers, stages = eng.get('workers', []), tr.get('stages', [])
    check([w['rx'] for w in workers] == [2 * N, 2 * N] and
          sum(w['crypto_done'] for w in workers) == eng.get('crypto_done') == 4 * N,
          '%s: rxsec-ctl stats: each worker received its queue (%s)' % (name, workers))
    check(len(stages) == 2 and all(s['delivered'] > 0 for s in stages) and
          sum(s['delivered'] for s in stages) == tr.get('delivered') == 4 * N and
          sum(s['rx'] for s in stages) == tr.get('rx') and
          sum(s['delivered_bytes'] for s in stages) == tr.get('delivered_bytes'),
          '%s: rxsec-ctl stats: both stages deliver, adding up to the totals (%s)'
          % (name, stages))
    t = d.telemetry('/rxsec/stages').get('/rxsec/stages', {})
    check(sorted(t) == ['transport_0', 'transport_1', 'worker_0', 'worker_1'] and
          [t['worker_%d' % i]['rx'] for i in range(2)] == [w['rx'] for w in workers] and
          [t['transport_%d' % i]['delivered'] for i in range(2)] ==
          [s['delivered'] for s in stages],
          '%s: telemetry /rxsec/stages has the same numbers (%s)' % (name, t))
    rc, out = d.stop()
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, mbufs home (%s)' % (name, wd))


def plain(src, k):
    """Plain UDP from src, its number k in the payload."""
    data = ('plain %s %d ' % (src, k)).encode().ljust(40, b'.')
    return eth(ipv4(src, '203.0.113.9', 17, struct.pack('!HHHH', 4000, 5000, 8 + len(data), 0)
                    + data, ident=k))


def case_plain(lcores):
    """Packets of no SA go by their outer addresses, not all to stage 0:
    16 plain UDP flows and ESP of an unknown SPI on one queue, one worker,
    two stages. Every flow leaves in order through one stage, the flows use
    both, and the unknown SPI is dropped as no_sa."""
    name = 'plain flows, --transports 2 -l %s' % lcores
    wd = workdir('mcp')
    srcs = ['198.51.100.%d' % (1 + i) for i in range(16)]
    frames = [plain(s, k) for k in range(1, 11) for s in srcs]
    frames += [Sa(0xdead, src='192.0.2.99').esp(k) for k in range(1, 6)]
    write_pcap(os.path.join(wd, 'in.pcap'), frames)
    vdev = 'net_pcap0,rx_pcap=%s,%s' % (os.path.join(wd, 'in.pcap'), ','.join(
        'tx_pcap=%s' % os.path.join(wd, 'out%d.pcap' % q) for q in range(2)))
    out = stages_to_idle(wd, 'i4p', lcores, vdev, SAS[:1], 1, name)
    reasons, (trx, tdel), _ = report_counts(out)
    check(tdel == 160 and reasons.get('no_sa') == 5 and trx == 165,
          '%s: 160 delivered, 5 no_sa (%s)' % (name, {k: v for k, v in reasons.items() if v}))
    outs = [read_pcap(os.path.join(wd, 'out%d.pcap' % q)) for q in range(2)]
    stages = set()
    for s in srcs:
        want = [plain(s, k) for k in range(1, 11)]
        got = [[f for f in o if f in want] for o in outs]
        check(got in ([want, []], [[], want]),
              '%s: flow from %s in order through one stage (%s)'
              % (name, s, [len(g) for g in got]))
        stages.add(0 if got[0] else 1)
    check(stages == {0, 1}, '%s: the flows use both stages (%s)' % (name, sorted(stages)))


case('0-1')
case('0')
case_plain('0-1')
case_plain('0')
case_live('0-1')
case_live('0')
finish()
