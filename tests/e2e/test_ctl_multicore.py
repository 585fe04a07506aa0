# SPDX-License-Identifier: BSD-3-Clause
"""Many cores (issue 4 item 5): --workers 2 --transports 2 on a two-queue
net_pcap port (one RX queue per rx_pcap, one TX queue per tx_pcap), with
-l 0-1 and with everything on -l 0. Each SA's packets arrive on one queue
(as RSS by outer addresses would do); every packet of an SA goes to the
same transport stage, so each SA's delivered frames appear in exactly one
output, complete and in sequence order. Counters add up; mbufs come home.
Which stage: by default the one on the lcore of the worker that received
the SA's first packet, so that nothing crosses lcores (queue q's SAs leave
through stage q); with --sa-placement slot, SA slot i's is stage i % 2,
which here is the other queue's for half of them. An SA whose packets
arrive on both queues still gets one stage. --sa-placement receiver is
refused when a worker's lcore runs no transport stage. SAs whose packets
all come fragmented still take their receiving lcore's stage, whichever
stage reassembles them. Without --workers
and --transports, -l 0-1 on two queues runs an engine and a stage on each
lcore.
While the same setup runs with a control socket, rxsec-ctl stats and
telemetry /rxsec/stages give each worker's and each stage's counters, and
they add up to the totals. Packets of no SA (plain flows, an unknown SPI)
spread over the stages by outer addresses, each flow in order.
"""
import os
import struct
import subprocess
import time

from issue4_lib import (Sa, Daemon, workdir, check, finish, report_counts, write_pcap,
                        read_pcap, parse_tag, eth, ipv4, run_to_idle, eal, file_prefix,
                        fix_lengths)

SAS = [Sa(0xd000 + i, window=64, reqid=20 + i, src='192.0.2.%d' % (30 + i)) for i in range(4)]
N = 150


def queue_of(i):
    """SAs 0 and 1 arrive on queue 0, 2 and 3 on queue 1: not their slots'
    parity, so receiver and slot placement send them to different stages."""
    return i // 2 % 2


def two_queues(wd, both=None):
    """Each SA's packets on one RX queue (and those of `both` alternating
    between the two); the vdev with two RX, two TX."""
    queues = [[], []]
    for k in range(N):
        for i, sa in enumerate(SAS):
            queues[queue_of(i)].append(sa.esp(k + 1))
        if both is not None:
            queues[k % 2].append(both.esp(k + 1))
    for q in range(2):
        write_pcap(os.path.join(wd, 'q%d.pcap' % q), queues[q])
    return 'net_pcap0,' + ','.join('rx_pcap=%s' % os.path.join(wd, 'q%d.pcap' % q)
                                   for q in range(2)) + ',' + \
        ','.join('tx_pcap=%s' % os.path.join(wd, 'out%d.pcap' % q) for q in range(2))


def stages_to_idle(wd, tag, lcores, vdev, sas, workers, name, args=()):
    """rxsec with two transport stages until idle; its output (run_to_idle)."""
    return run_to_idle(wd, ''.join(s.xfrm() for s in sas), tag, lcores, vdev, name,
                       ['--workers', str(workers), '--transports', '2'] + list(args))


def case(lcores, placement=None):
    wd = workdir('mc')
    args = ['--sa-placement', placement] if placement else []
    name = '--workers 2 --transports 2 %s-l %s' % (' '.join(args + ['']), lcores)
    out = stages_to_idle(wd, 'i4m', lcores, two_queues(wd), SAS, 2, name, args)
    check('2 worker(s), 2 transport(s)' in out, '%s: two workers and two transports' % name)
    claims = 'each SA takes the transport stage of the lcore that first receives it'
    check((claims in out) == (placement != 'slot'),
          '%s: the start says %s' % (name, 'nothing of placement' if placement == 'slot'
                                     else 'SAs take their receiver\'s stage'))
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
    want = [i % 2 if placement == 'slot' else queue_of(i) for i in range(len(SAS))]
    got = [next((q for q in range(2) if any(t[0] == sa.tag for t in per_out[q])), None)
           for sa in SAS]
    check(got == want, '%s: SAs leave through stages %s, want %s' % (name, got, want))


def case_default():
    """No --workers or --transports on -l 0-1: with two RX and two TX queues
    an engine and a stage on each lcore, SAs staying on their receiver's;
    with one RX queue, the pipeline of one worker and one transport."""
    wd = workdir('mcd')
    out = run_to_idle(wd, ''.join(s.xfrm() for s in SAS), 'i4d', '0-1', two_queues(wd),
                      'default stages, two queues')
    reasons, (trx, tdel), _ = report_counts(out)
    check('2 worker(s), 2 transport(s)' in out and 'first receives it' in out and
          tdel == 4 * N, 'default stages, two queues -l 0-1: two of each, by receiver, '
          '%s of %d delivered' % (tdel, 4 * N))
    per_out = [[parse_tag(f) for f in read_pcap(os.path.join(wd, 'out%d.pcap' % q))]
               for q in range(2)]
    got = [next((q for q in range(2) if any(t[0] == sa.tag for t in per_out[q])), None)
           for sa in SAS]
    want = [queue_of(i) for i in range(len(SAS))]
    check(got == want, 'default stages, two queues -l 0-1: SAs leave through stages %s, '
          'want %s' % (got, want))
    wd = workdir('mcd1')
    write_pcap(os.path.join(wd, 'in.pcap'), [sa.esp(k + 1) for k in range(N) for sa in SAS])
    vdev = 'net_pcap0,rx_pcap=%s,%s' % (os.path.join(wd, 'in.pcap'), ','.join(
        'tx_pcap=%s' % os.path.join(wd, 'out%d.pcap' % q) for q in range(2)))
    out = run_to_idle(wd, ''.join(s.xfrm() for s in SAS), 'i4e', '0-1', vdev,
                      'default stages, one queue')
    reasons, (trx, tdel), _ = report_counts(out)
    check('1 worker(s), 1 transport(s)' in out and tdel == 4 * N,
          'default stages, one queue -l 0-1: one of each, %s of %d delivered' % (tdel, 4 * N))


def fragments(frame, ident, cut=64):
    """frame's IPv4 packet as two fragments (the first cut bytes of its
    payload, then the rest), with identification ident."""
    hdr, payload = frame[14:34], frame[34:]
    out = []
    for off, part, more in ((0, payload[:cut], 1), (cut, payload[cut:], 0)):
        h = bytearray(hdr)
        struct.pack_into('!HH', h, 4, ident, more << 13 | off // 8)
        out.append(frame[:14] + fix_lengths(bytes(h) + part))
    return out


def case_fragments(lcores):
    """SAs whose every packet comes fragmented: each datagram is reassembled
    by the stage its identity hashes to, but an SA still takes the stage of
    the lcore its fragments came in on, not the reassembler's."""
    wd = workdir('mcf')
    name = 'fragmented SAs -l %s' % lcores
    queues = [[], []]
    for k in range(1, 11):
        for i, sa in enumerate(SAS):
            queues[queue_of(i)] += fragments(sa.esp(k), i << 8 | k)
    for q in range(2):
        write_pcap(os.path.join(wd, 'q%d.pcap' % q), queues[q])
    vdev = 'net_pcap0,' + ','.join('rx_pcap=%s' % os.path.join(wd, 'q%d.pcap' % q)
                                   for q in range(2)) + ',' + \
        ','.join('tx_pcap=%s' % os.path.join(wd, 'out%d.pcap' % q) for q in range(2))
    out = stages_to_idle(wd, 'i4f', lcores, vdev, SAS, 2, name)
    reasons, (trx, tdel), _ = report_counts(out)
    check(tdel == 40, '%s: all 40 datagrams delivered (%s; %s)'
          % (name, tdel, {k: v for k, v in reasons.items() if v}))
    per_out = [[parse_tag(f) for f in read_pcap(os.path.join(wd, 'out%d.pcap' % q))]
               for q in range(2)]
    got = [sorted(q for q in range(2) if any(t[0] == sa.tag for t in per_out[q]))
           for sa in SAS]
    want = [[queue_of(i)] for i in range(len(SAS))]
    check(got == want, '%s: SAs leave through stages %s, want %s' % (name, got, want))


def case_both_queues(lcores):
    """An SA whose packets come in on both queues: the two workers may
    claim it at once; one stage wins and takes every packet of it."""
    wd = workdir('mcb')
    both = Sa(0xd100, window=1024, reqid=40, src='192.0.2.40')
    name = 'an SA on both queues -l %s' % lcores
    out = stages_to_idle(wd, 'i4b', lcores, two_queues(wd, both), SAS + [both], 2, name)
    reasons, (trx, tdel), _ = report_counts(out)
    check(tdel == trx == 5 * N, '%s: all %d delivered (%s/%s; %s)'
          % (name, 5 * N, trx, tdel, {k: v for k, v in reasons.items() if v}))
    per_out = [[parse_tag(f) for f in read_pcap(os.path.join(wd, 'out%d.pcap' % q))]
               for q in range(2)]
    where = [q for q in range(2) if any(t[0] == both.tag for t in per_out[q])]
    seqs = sorted(t[1] for q in where for t in per_out[q] if t[0] == both.tag)
    check(len(where) == 1 and seqs == list(range(1, N + 1)),
          '%s: on one stage (%s), each of %d numbers once' % (name, where, N))


def case_receiver_refused():
    """Three lcores on two CPUs: worker 1 alone on lcore 2."""
    wd = workdir('mcr')
    with open(os.path.join(wd, 'sa.conf'), 'w') as f:
        f.write(''.join(s.xfrm() for s in SAS))
    for placement, status in (('receiver', 2), ('auto', 0)):
        cmd = eal(file_prefix('i4r%d%s' % (os.getpid(), placement)), '0', 'net_null0,no-rx=1')
        i = cmd.index('-l')
        cmd[i:i + 2] = ['--lcores', '0@0,1@1,2@1']
        cmd += ['--sa', os.path.join(wd, 'sa.conf'), '--workers', '2', '--transports', '2',
                '--sa-placement', placement, '--idle-exit', '200']
        p = subprocess.run(cmd, cwd=wd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        err = [ln for ln in p.stderr.decode(errors='replace').splitlines()
               if ln.startswith('rxsec:')]
        out = p.stdout.decode(errors='replace')
        if status:
            check(p.returncode == 2 and len(err) == 1 and
                  '--sa-placement receiver needs a transport stage on every engine' in err[0],
                  'a worker alone on its lcore: --sa-placement receiver refused (%d, %s)'
                  % (p.returncode, err))
        else:
            check(p.returncode == 0 and 'mbufs: all' in out and
                  'first receives it' not in out,
                  'a worker alone on its lcore: auto places by slot (%d, %s)'
                  % (p.returncode, err))


def case_live(lcores):
    name = 'per-stage counters -l %s' % lcores
    wd = workdir('mcl')
    idle = Sa(0xd200, esn=True, reqid=50, src='192.0.2.50')	# no packets
    d = Daemon(wd, SAS + [idle], two_queues(wd), lcores=lcores,
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
    rc, r = d.ctl('list')
    tr = {x['spi']: x.get('transport') for x in r.get('sas', [])} if rc == 0 else {}
    want = {'0x%08x' % sa.spi: queue_of(i) for i, sa in enumerate(SAS)}
    want['0x%08x' % idle.spi] = None
    check(tr == want, '%s: rxsec-ctl list: stages %s, want %s (null: no packet yet)'
          % (name, tr, want))
    # an ESN update needs the window's owner: it pins an SA nobody claimed
    # (slot 4: stage 0), which then applies it
    rc, r = d.ctl('update-esn', 'spi', hex(idle.spi), 'dst', idle.dst, 'hi', '7')
    time.sleep(0.3)
    rc2, r2 = d.ctl('stats', 'spi', hex(idle.spi), 'dst', idle.dst)
    sa = r2.get('sa', {}) if rc2 == 0 else {}
    check(rc == 0 and sa.get('transport') == 0 and sa.get('seq_hi') == 7,
          '%s: update-esn on an SA with no stage pins it and is applied (%s, %s)'
          % (name, r, sa))
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
case('0-1', 'slot')
case('0', 'receiver')
case_default()
case_fragments('0-1')
case_fragments('0')
case_both_queues('0-1')
case_both_queues('0')
case_receiver_refused()
case_plain('0-1')
case_plain('0')
case_live('0-1')
case_live('0')
finish()
