# SPDX-License-Identifier: BSD-3-Clause
"""SA lifetimes end to end (issue 4 item 3), with -l 0 and -l 0-1:
  packet-hard  the packet reaching the limit carries SaDeleteReq and is still
               delivered; the transport deletes the inbound SA, then the paired
               outbound SA (same reqid, swapped addresses), logs both; later
               packets are no_sa; an unrelated SA with another reqid stays;
  byte-hard    the same on bytes; both also with --no-offload (the
               transport's software path counts lifetimes as the engine does);
  replays     packets dropped as replayed (or forged) do not count: as Linux's
               xfrm_input, the lifetime moves only with the replay window, so
               replaying captured packets cannot expire an SA;
  soft         packet-soft: one expire event logged and counted, nothing deleted;
  time         time-soft / time-hard (seconds since add): checked by the main
               lcore's housekeeping; hard deletes the pair, later packets no_sa.
"""
import os
import time

from issue4_lib import Sa, Daemon, run, workdir, check, finish, report_counts, parse_tag


def case_packet_hard(lcores, limit='limit packet-hard 5', n_ok=5, args=()):
    sa = Sa(0x5001, reqid=7, limits=limit)
    out_sa = sa.outbound(0x5002)
    other = Sa(0x5003, reqid=8, src='192.0.2.11')
    frames = [sa.esp(i) for i in range(1, 9)] + [other.esp(1)]
    wd = workdir('life-hard')
    rc, out, v, delivered = run(wd, [sa, out_sa, other], frames, lcores, args=args)
    name = '%s -l %s%s' % (limit, lcores, ''.join(' ' + a for a in args))
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, mbufs home (%s)' % (name, wd))
    # Packets the engine checked after the limit, before the transport deleted
    # the SA, also carry the flag (the SA is over its limit); they are no_sa.
    check([x['sa_delete_req'] for x in v[:n_ok]] == [0] * (n_ok - 1) + [1],
          '%s: SaDeleteReq first on packet %d, the one reaching the limit' % (name, n_ok))
    check([(x['verdict'], x['reason']) for x in v[:8]] ==
          [('deliver', 'ok')] * n_ok + [('drop', 'no_sa')] * (8 - n_ok),
          '%s: delivered up to the limit, no_sa after' % name)
    check(v[8]['verdict'] == 'deliver', '%s: the other SA is untouched' % name)
    check('SaDeleteReq: deleted inbound SA spi 0x00005001' in out and
          'SaDeleteReq: deleted paired outbound SA spi 0x00005002' in out,
          '%s: inbound then paired outbound deleted, both logged' % name)
    check(' sa_deleted 2 ' in out, '%s: sa_deleted 2 counted' % name)
    check('0x00005003' in out and '0x00005003' not in
          ''.join(l for l in out.splitlines() if 'deleted' in l),
          '%s: SA of reqid 8 not deleted' % name)


def case_replays_not_counted(lcores, args=()):
    """limit packet-hard 5 with two replays and a forged packet among the
    first five sent: only accepted packets count (Linux's xfrm_input adds to
    curlft after the replay window moved), so seq 5 reaches the limit."""
    sa = Sa(0x5401, reqid=12, limits='limit packet-hard 5')
    frames = [sa.esp(1), sa.esp(2), sa.esp(3), sa.esp(3), sa.esp(2), sa.esp(4, corrupt=True),
              sa.esp(4), sa.esp(5), sa.esp(6)]
    wd = workdir('life-replay')
    rc, out, v, delivered = run(wd, [sa], frames, lcores, args=args)
    name = 'packet-hard 5 with replays -l %s%s' % (lcores, ''.join(' ' + a for a in args))
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, mbufs home (%s)' % (name, wd))
    check([x['reason'] for x in v] == ['ok'] * 3 + ['replay'] * 2 +
          ['tunnel_esp_auth_failed', 'ok', 'ok', 'no_sa'],
          '%s: replays and the forged packet dropped, seq 4 and 5 delivered, then no_sa (%s)'
          % (name, [x['reason'] for x in v]))
    check([x['sa_delete_req'] for x in v[:8]] == [0] * 7 + [1],
          '%s: SaDeleteReq on seq 5, the fifth packet accepted (%s)'
          % (name, [x['sa_delete_req'] for x in v]))
    check(sorted(parse_tag(f)[1] for f in delivered) == [1, 2, 3, 4, 5],
          '%s: seq 1-5 delivered' % name)


def case_soft(lcores):
    sa = Sa(0x5101, reqid=9, limits='limit packet-soft 3')
    frames = [sa.esp(i) for i in range(1, 7)]
    wd = workdir('life-soft')
    rc, out, v, delivered = run(wd, [sa], frames, lcores)
    name = 'packet-soft -l %s' % lcores
    check(rc == 0, '%s: exit 0 (%s)' % (name, wd))
    check(all(x['verdict'] == 'deliver' for x in v) and len(v) == 6,
          '%s: all delivered (soft only warns)' % name)
    check(out.count('expire (soft, packet-soft): SA spi 0x00005101') == 1,
          '%s: one expire event logged' % name)
    check(' soft_expired 1' in out, '%s: soft_expired 1 counted' % name)


def case_time(lcores):
    """time-soft 1 / time-hard 2 on one SA pair, traffic on a looping pcap."""
    sa = Sa(0x5201, reqid=11, window=0, limits='limit time-soft 1 limit time-hard 2')
    out_sa = sa.outbound(0x5202)
    wd = workdir('life-time')
    from issue4_lib import write_pcap
    write_pcap(os.path.join(wd, 'in.pcap'), [sa.esp(i) for i in range(1, 4)])
    d = Daemon(wd, [sa, out_sa],
               'net_pcap0,rx_pcap=%s,tx_pcap=/dev/null,infinite_rx=1' %
               os.path.join(wd, 'in.pcap'), lcores=lcores,
               prefix='i4t%d%s' % (os.getpid(), lcores.replace('-', '')))
    time.sleep(1.5)
    rc1, st1 = d.ctl('stats')
    rc2, lst = d.ctl('list')
    time.sleep(1.7)
    rc3, st2 = d.ctl('stats')
    rc, out = d.stop()
    name = 'time-soft 1 time-hard 2 -l %s' % lcores
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, mbufs home (%s)' % (name, wd))
    check(rc1 == 0 and st1['sa']['soft_expired'] == 1 and st1['sa']['live'] == 2,
          '%s: after 1.5 s soft expired, SAs live (%s)' % (name, st1.get('sa')))
    check(rc2 == 0 and any(s['spi'] == '0x00005201' and s['soft_expired'] for s in lst['sas']),
          '%s: list shows soft_expired' % name)
    check(rc3 == 0 and st2['sa']['hard_expired'] == 1 and st2['sa']['live'] == 0,
          '%s: after 3.2 s hard expired, pair deleted (%s)' % (name, st2.get('sa')))
    check('expire (hard, time): deleted inbound SA spi 0x00005201' in out and
          'expire (hard, time): deleted paired outbound SA spi 0x00005202' in out,
          '%s: both deletions logged' % name)
    reasons, (trx, tdel), erx = report_counts(out)
    check(reasons.get('no_sa', 0) > 0 and reasons.get('ok', 0) > 0,
          '%s: delivered before, no_sa after the deletion' % name)
    check(trx == erx == sum(reasons.values()) and tdel == reasons.get('ok'),
          '%s: counters add up (rx %s = %s reasons)' % (name, trx, sum(reasons.values())))


for lc in ('0', '0-1'):
    case_packet_hard(lc)
    # inner packet 70 bytes + ESP: each outer IPv4 packet is 130 bytes
    case_packet_hard(lc, 'limit byte-hard 400', n_ok=4)
    # the software path (offload off) counts lifetimes too
    case_packet_hard(lc, args=['--no-offload'])
    case_packet_hard(lc, 'limit byte-hard 400', n_ok=4, args=['--no-offload'])
    case_replays_not_counted(lc)
    case_replays_not_counted(lc, args=['--no-offload'])
    case_soft(lc)
    case_time(lc)
finish()
