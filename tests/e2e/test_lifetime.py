# SPDX-License-Identifier: BSD-3-Clause
"""SA lifetimes end to end (issue 4 item 3), with -l 0 and -l 0-1:
  packet-hard  the packet reaching the limit carries SaDeleteReq and is still
               delivered; the transport deletes the inbound SA, then the paired
               outbound SA (same reqid, swapped addresses), logs both; later
               packets are no_sa; an unrelated SA with another reqid stays;
  byte-hard    the same on bytes; both also with --no-offload (the
               transport's software path counts lifetimes as the engine does);
  linux bytes  byte-hard counts what Linux's xfrm_input adds to curlft.bytes:
               skb->len once the SA's transform ran, i.e. the tunnel's inner
               packet (TFC padding included) or the transport payload, for
               ESP (bare, in UDP, IPv4/IPv6) and AH, and each SA of a nested
               packet its own layer; the expected expiry point is computed
               from the lengths of the packets scapy built;
  replays     packets dropped as replayed (or forged) do not count: as Linux's
               xfrm_input, the lifetime moves only with the replay window, so
               replaying captured packets cannot expire an SA;
  soft         packet-soft: one expire event logged and counted, nothing deleted;
  time         time-soft / time-hard (seconds since add): checked by the main
               lcore's housekeeping; hard deletes the pair, later packets no_sa.
"""
import os
import time

from issue4_lib import (Sa, Daemon, run, run_files, workdir, check, finish, report_counts,
                        parse_tag, file_prefix, inner_packet)
from rxsec_vectors import Case, INNER, OUTER, IP, IPv6, AH, freeze, raw, udp_packet


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
    out_sa = sa.outbound(0x5202, direction=None)   # an SA of no direction pairs too
    wd = workdir('life-time')
    from issue4_lib import write_pcap
    write_pcap(os.path.join(wd, 'in.pcap'), [sa.esp(i) for i in range(1, 4)])
    d = Daemon(wd, [sa, out_sa],
               'net_pcap0,rx_pcap=%s,tx_pcap=/dev/null,infinite_rx=1' %
               os.path.join(wd, 'in.pcap'), lcores=lcores,
               prefix=file_prefix('i4t%d%s' % (os.getpid(), lcores.replace('-', ''))))
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



def reach(limit, lengths):
    """The 1-based packet whose bytes, added up, reach limit (None: none)."""
    total = 0
    for i, b in enumerate(lengths, 1):
        total += b
        if total >= limit:
            return i
    return None


def inner_lengths(sa, seqs):
    """What Linux counts for sa.esp(seq), a tunnel SA: the inner packet,
    whose length scapy reads from its IPv4 header."""
    return [IP(inner_packet(sa.tag, q)).len for q in seqs]


# Linux's xfrm_input adds skb->len to curlft.bytes after the transform
# (esp_input_done2 pulled the ESP header and IV and trimmed padding, trailer
# and ICV; ah_input pulled the AH header) and after the replay advance. The
# lengths below come from the packets scapy built before protecting them.
SIZES = (10, 200, 37, 90, 5, 150, 60, 20)   # UDP payload bytes, one packet each
K = 5                                       # the packet that reaches the limit


def transport_len(pkt):
    """A transport SA's count: the IP payload (no extension headers here)."""
    return len(raw(pkt.payload))


def single(name, family, tfc=None, **kw):
    """One SA, one layer; tfc: TFC padding bytes behind each tunnel-mode
    inner packet (RFC 4303 2.4), which Linux counts (it trims them only when
    the decapsulated packet is received again)."""
    c = Case('life_%s' % name, name)
    sa = c.sa(family=family, **kw)
    frames, counted, dgram, inner = [], [], [], []
    for i, n in enumerate(SIZES):
        pkt = c.inner(sa, n)
        pad = tfc[i] if tfc else 0
        craft = dict(data=raw(pkt) + bytes(pad)) if tfc else {}
        frames.append(c.ipsec(sa, pkt, **craft))
        inner.append(len(raw(pkt)))
        counted.append(len(raw(pkt)) + pad if sa.mode == 'tunnel' else transport_len(pkt))
        dgram.append(len(frames[-1]) - 14)
    return dict(c=c, sa=sa, frames=frames, counted=counted, dgram=dgram,
                inner=inner if tfc else None, tail_no_sa=True)


def nested(name, family, limit_inner):
    """Tunnel ESP around transport ESP of a second SA: Linux's xfrm_input
    sees the packet twice, the tunnel SA counting its inner packet (the
    inner ESP datagram, decrypted here by scapy), the inner SA its payload."""
    c = Case('life_%s' % name, name)
    tun = c.sa(mode='tunnel', family=family, enc='aes128gcm16')
    isa = c.sa(mode='transport', family=family, enc='aes128cbc', auth='sha256')
    isa.src, isa.dst = INNER[family]
    frames, counted, dgram = [], [], []
    for n in SIZES:
        pkt = c.inner(tun, n)
        frames.append(c.nested(tun, isa, pkt))
        outer = (IP if family == 4 else IPv6)(frames[-1][14:])
        mid = len(raw(tun.scapy_sa(1).decrypt(outer)))
        counted.append(transport_len(pkt) if limit_inner else mid)
        dgram.append(mid if limit_inner else len(frames[-1]) - 14)
    return dict(c=c, sa=isa if limit_inner else tun, other=tun if limit_inner else isa,
                frames=frames, counted=counted, dgram=dgram, inner=None,
                tail_no_sa=not limit_inner)


def bundle(name, family, limit_esp):
    """AH over ESP under one IP header: xfrm_input's loop counts AH with
    what follows the AH header (the whole ESP part), then ESP its payload."""
    c = Case('life_%s' % name, name)
    ah = c.sa(proto='ah', mode='transport', family=family, auth='sha256')
    esp = c.sa(mode='transport', family=family, enc='aes128cbc', auth='sha256')
    frames, counted, dgram = [], [], []
    for n in SIZES:
        pkt = c.inner(esp, n)
        frames.append(c.nested(ah, esp, pkt))
        wire = (IP if family == 4 else IPv6)(frames[-1][14:])
        counted.append(transport_len(pkt) if limit_esp else len(raw(wire[AH].payload)))
        dgram.append(len(frames[-1]) - 14)
    return dict(c=c, sa=esp if limit_esp else ah, other=ah if limit_esp else esp,
                frames=frames, counted=counted, dgram=dgram, inner=None,
                tail_no_sa=not limit_esp)


BYTE_CASES = [
    single('esp_tun4_tfc', 4, tfc=(0, 64, 0, 24, 16, 0, 8, 0), mode='tunnel',
           enc='aes128gcm16'),
    single('esp_trans6_cbc', 6, mode='transport', enc='aes128cbc', auth='sha256'),
    single('esp_udp_trans4', 4, mode='transport', enc='aes256gcm16', encap=(4500, 4500)),
    single('ah_trans4', 4, proto='ah', mode='transport', auth='sha256'),
    single('ah_tun6', 6, proto='ah', mode='tunnel', auth='sha1'),
    nested('nested_tun4_outer', 4, limit_inner=False),
    nested('nested_tun6_inner', 6, limit_inner=True),
    bundle('bundle4_ah', 4, limit_esp=False),
    bundle('bundle6_esp', 6, limit_esp=True),
]


def sa_conf(c, limited, limit):
    out = []
    for s in c.sas:
        line = s.xfrm_line()
        if s is limited:
            line = line.rstrip('\n') + ' \\\n    limit byte-hard %d\n' % limit
        out.append(line)
    return ''.join(out)


def case_linux_bytes(lcores, bc, args=()):
    c, sa, counted = bc['c'], bc['sa'], bc['counted']
    limit = sum(counted[:K])
    name = '%s byte-hard %d -l %s%s' % (c.name, limit, lcores, ''.join(' ' + a for a in args))
    # the case tells Linux's count from the IP datagram carrying the layer
    # (rxsec's count before) and, with TFC padding, from the inner packet
    check(reach(limit, counted) == K and reach(limit, bc['dgram']) < K,
          '%s: datagram lengths would reach the limit at packet %s, not %d'
          % (name, reach(limit, bc['dgram']), K))
    if bc['inner']:
        check(reach(limit, bc['inner']) != K, '%s: TFC padding decides the packet' % name)
    wd = workdir('life-bytes')
    with open(os.path.join(wd, 'sa.conf'), 'w') as f:
        f.write(sa_conf(c, sa, limit))
    rc, out, v, delivered = run_files(wd, [os.path.join(wd, 'sa.conf')], bc['frames'],
                                      lcores, args)
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, mbufs home (%s)' % (name, wd))
    check([x['sa_delete_req'] for x in v[:K]] == [0] * (K - 1) + [1],
          '%s: SaDeleteReq first on packet %d (%s)'
          % (name, K, [x['sa_delete_req'] for x in v]))
    check([x['reason'] for x in v[:K]] == ['ok'] * K,
          '%s: packets 1-%d delivered (%s)' % (name, K, [x['reason'] for x in v]))
    want = [bytes.fromhex(e['out_hex']) for _, e in c.entries[:K]]
    check(all(w in delivered for w in want), '%s: packets 1-%d delivered as built' % (name, K))
    check('SaDeleteReq: deleted inbound SA spi 0x%08x' % sa.spi in out,
          '%s: SA 0x%08x deleted' % (name, sa.spi))
    if bc.get('other') is not None:
        check('deleted inbound SA spi 0x%08x' % bc['other'].spi not in out,
              '%s: the other layer\'s SA 0x%08x stays' % (name, bc['other'].spi))
    if bc['tail_no_sa']:
        check([x['reason'] for x in v[K:]] == ['no_sa'] * (len(SIZES) - K),
              '%s: no_sa after the limit' % name)
    else:
        # the inner SA is gone: no later packet is decrypted with it, in
        # the same burst (no_sa) or after (only the outer layer removed)
        late = [bytes.fromhex(e['out_hex']) for _, e in c.entries[K:]]
        check(all(x['reason'] in ('no_sa', 'ok') for x in v[K:]) and
              not any(w in delivered for w in late),
              '%s: the deleted SA decrypts nothing after the limit (%s)'
              % (name, [(x['reason'], x['sa_delete_req']) for x in v[K:]]))

for lc in ('0', '0-1'):
    case_packet_hard(lc)
    # bytes are the inner packets' (scapy reads their length), not the
    # outer datagrams': 400 is reached by a later packet than before
    n_bytes = reach(400, inner_lengths(Sa(0x5001), range(1, 9)))
    case_packet_hard(lc, 'limit byte-hard 400', n_ok=n_bytes)
    # the software path (offload off) counts lifetimes too
    case_packet_hard(lc, args=['--no-offload'])
    case_packet_hard(lc, 'limit byte-hard 400', n_ok=n_bytes, args=['--no-offload'])
    for bc in BYTE_CASES:
        case_linux_bytes(lc, bc)
        case_linux_bytes(lc, bc, args=['--no-offload'])
    case_replays_not_counted(lc)
    case_replays_not_counted(lc, args=['--no-offload'])
    case_soft(lc)
    case_time(lc)
finish()
