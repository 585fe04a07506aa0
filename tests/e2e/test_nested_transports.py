# SPDX-License-Identifier: BSD-3-Clause
"""Nested SAs with two transport stages: each replay window keeps one writer.

A nested packet (spec rule 5) moves its tunnel's window and its
transport-mode inner SA's. Two tunnels T1 and T2 carry packets of one
transport-mode SA X, alternating, so without care T1's and T2's stages
would both write X's window.

- SA files with a transport-mode SA: every SA shares transport stage 0
  (said at start); all packets are delivered, all through stage 0's TX
  queue, and X's numbers sent again through the other tunnel are replays.
- X added at run time while T1 and T2 already live on stages 0 and 1: X
  joins one of them; the other tunnel's stage moves its own window and
  hands X's packets to X's stage (nested_handed), so nothing is dropped
  and each of X's numbers is taken once.
- Host-to-host: transport-mode ESP SAs and nothing that could carry them
  spread over both stages; each SA's packets leave in order through its
  stage's TX queue, and its replays are caught. One AH SA in the same file
  (AH may carry transport-mode ESP) puts them all on stage 0 again.
- Mixed: X and a tunnel that may carry it share stage 0, while two tunnels
  whose selectors take no packet to X's address spread over both stages;
  with X's flag icmp (an ICMP error may pass a selector) all four share it.
  Added at run time beside that shared stage: an SA with nothing to nest
  with spreads by slot, one that may nest joins the shared stage.
- X added at run time with --sa-placement receiver: the tunnels went to
  the stage of the worker that received them, and X joins it.
"""
import copy
import os
import re
import struct
import time

from issue4_lib import (Sa, Daemon, workdir, check, finish, report_counts, write_pcap,
                        read_pcap, eth, ipv4, inner_packet, run_to_idle)

T1 = Sa(0xe100, reqid=1, src='192.0.2.31')
T2 = Sa(0xe200, reqid=2, src='192.0.2.32')
X = Sa(0xe300, reqid=3, mode='transport', src='198.51.100.10', dst='203.0.113.20')
N = 40


def nested(tunnel, tseq, xseq):
    return tunnel.esp(tseq, inner=X.transport_esp(xseq, inner_packet(X.tag, xseq)))


def delivered(xseq):
    return eth(inner_packet(X.tag, xseq))


def traffic():
    """X's numbers 1..2N alternate between the tunnels; then X's 1..N again
    through T2 (tunnel numbers fresh): replays of X."""
    frames = [nested(T1 if x % 2 else T2, (x + 1) // 2, x) for x in range(1, 2 * N + 1)]
    frames += [nested(T2, N + x, x) for x in range(1, N + 1)]
    return frames


def vdev(wd, infinite=False):
    return 'net_pcap0,rx_pcap=%s,%s%s' % (
        os.path.join(wd, 'in.pcap'),
        ','.join('tx_pcap=%s' % os.path.join(wd, 'out%d.pcap' % q) for q in range(2)),
        ',infinite_rx=1' if infinite else '')


def run_two_stages(wd, sa_text, tag, lcores, name, args=()):
    """in.pcap through one worker and two transport stages until idle (args
    added to rxsec's); the output of the run (run_to_idle)."""
    return run_to_idle(wd, sa_text, tag, lcores, vdev(wd), name,
                       ['--workers', '1', '--transports', '2'] + list(args))


def case_loaded(lcores):
    name = 'loaded -l %s' % lcores
    wd = workdir('nt')
    write_pcap(os.path.join(wd, 'in.pcap'), traffic())
    out = run_two_stages(wd, T1.xfrm() + T2.xfrm() + X.xfrm(), 'nt', lcores, name)
    check('share transport stage 0' in out, '%s: the start says all SAs share stage 0' % name)
    reasons, (trx, tdel), _ = report_counts(out)
    again = reasons.get('replay', 0) + reasons.get('below_window', 0)
    check(tdel == 2 * N and again == N and trx == 3 * N,
          '%s: %d delivered, the %d sent again replays or below the window (%s)'
          % (name, 2 * N, N, {k: v for k, v in reasons.items() if v}))
    outs = [read_pcap(os.path.join(wd, 'out%d.pcap' % q)) for q in range(2)]
    check(outs[0] == [delivered(x) for x in range(1, 2 * N + 1)] and outs[1] == [],
          '%s: all through stage 0, in order (%d, %d frames)' % (name, len(outs[0]),
                                                                 len(outs[1])))


def with_window(sa, window):
    w = copy.copy(sa)
    w.window = window
    return w


def case_added(lcores):
    """The pcap loops, so the tunnels' numbers repeat: their windows are off.
    X's window (128) is on, so each of X's 2N numbers is taken once, by the
    one stage that owns X's window, whichever tunnel carried it."""
    name = 'added -l %s' % lcores
    wd = workdir('ntadd')
    write_pcap(os.path.join(wd, 'in.pcap'), traffic())
    d = Daemon(wd, [with_window(T1, 0), with_window(T2, 0)], vdev(wd, infinite=True),
               lcores=lcores, args=['--workers', '1', '--transports', '2'],
               prefix='nta%d%s' % (os.getpid(), lcores.replace('-', '')))
    rc, r = d.ctl('list')
    tr = {s['spi']: s.get('transport') for s in r.get('sas', [])} if rc == 0 else {}
    check(sorted(tr.values()) == [0, 1], '%s: T1 and T2 on stages 0 and 1 (%s)' % (name, tr))
    rc, r = d.ctl('add', *with_window(X, 128).xfrm().split()[4:])
    check(rc == 0 and r.get('ok'), '%s: X added at run time (%s)' % (name, r))
    time.sleep(1.0)
    rc, r = d.ctl('list')
    sas = {s['spi']: s for s in r.get('sas', [])} if rc == 0 else {}
    rc, st = d.ctl('stats')
    handed = st.get('transport', {}).get('nested_handed', 0) if rc == 0 else 0
    x = sas.get('0x%08x' % X.spi, {})
    across = [t for t in (T1, T2) if sas.get('0x%08x' % t.spi, {}).get('transport')
              != x.get('transport')]
    rc, out = d.stop()
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, mbufs home (%s)' % (name, wd))
    reasons, _, _ = report_counts(out)
    m = re.search(r'^transport: .* nested_handed (\d+)$', out, re.M)
    check(len(across) == 1 and handed > 0 and m is not None and int(m.group(1)) >= handed,
          '%s: X on stage %s; packets through %s handed to it (%s, at exit %s)'
          % (name, x.get('transport'), ['0x%x' % t.spi for t in across], handed,
             m.group(1) if m else None))
    drops = {k: v for k, v in reasons.items() if v and k != 'ok'}
    check(set(drops) == {'replay'},
          '%s: nothing dropped but X\'s numbers seen again (%s)' % (name, drops))
    adrops = sas.get('0x%08x' % across[0].spi, {}).get('drops', {}) if across else None
    check(x.get('delivered') == 2 * N and adrops == {},
          '%s: each of X\'s %d numbers delivered once, whichever stage its tunnel is on '
          '(X %s, drops %s; the tunnel across: drops %s)'
          % (name, 2 * N, x.get('delivered'), x.get('drops'), adrops))


def case_added_receiver(lcores):
    """As case_added with --sa-placement receiver: the one worker's packets
    claim T1 and T2 for its lcore's stage (0 on -l 0, 1 on -l 0-1, where
    the worker shares lcore 1 with stage 1); X added later joins them there,
    so nothing is handed across and each of X's numbers is taken once."""
    name = 'added, by receiver -l %s' % lcores
    home = 0 if lcores == '0' else 1
    wd = workdir('ntrcv')
    write_pcap(os.path.join(wd, 'in.pcap'), traffic())
    d = Daemon(wd, [with_window(T1, 0), with_window(T2, 0)], vdev(wd, infinite=True),
               lcores=lcores, args=['--workers', '1', '--transports', '2',
                                    '--sa-placement', 'receiver'],
               prefix='ntr%d%s' % (os.getpid(), lcores.replace('-', '')))
    tr = {}
    for _ in range(50):
        rc, r = d.ctl('list')
        tr = {s['spi']: s.get('transport') for s in r.get('sas', [])} if rc == 0 else {}
        if None not in tr.values():
            break
        time.sleep(0.1)
    check(sorted(tr.values()) == [home, home],
          '%s: T1 and T2 claimed for stage %d (%s)' % (name, home, tr))
    rc, r = d.ctl('add', *with_window(X, 128).xfrm().split()[4:])
    check(rc == 0 and r.get('ok'), '%s: X added at run time (%s)' % (name, r))
    time.sleep(1.0)
    rc, r = d.ctl('list')
    sas = {s['spi']: s for s in r.get('sas', [])} if rc == 0 else {}
    x = sas.get('0x%08x' % X.spi, {})
    rc, out = d.stop()
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, mbufs home (%s)' % (name, wd))
    reasons, _, _ = report_counts(out)
    m = re.search(r'^transport: .* nested_handed (\d+)$', out, re.M)
    drops = {k: v for k, v in reasons.items() if v and k != 'ok'}
    check(x.get('transport') == home and m is not None and m.group(1) == '0' and
          set(drops) == {'replay'} and x.get('delivered') == 2 * N,
          '%s: X on stage %s, nothing handed (%s), each of its %d numbers delivered once '
          '(%s; drops %s)' % (name, x.get('transport'), m.group(1) if m else None, 2 * N,
                              x.get('delivered'), drops))


H = [Sa(0xe400 + i, reqid=10 + i, mode='transport', src='198.51.100.10',
        dst='203.0.113.20') for i in range(1, 5)]
AH_LINE = ('ip xfrm state add src 198.51.100.10 dst 203.0.113.20 proto ah spi 0x0000e4a0 '
           'reqid 20 mode transport auth-trunc "hmac(sha256)" 0x%s 128\n' % ('5a' * 32))


def host_frames():
    """Every SA's numbers 1..N, interleaved; then H[0]'s first 10 again."""
    frames = [eth(h.transport_esp(q, inner_packet(h.tag, q)))
              for q in range(1, N + 1) for h in H]
    return frames + [eth(H[0].transport_esp(q, inner_packet(H[0].tag, q)))
                     for q in range(1, 11)]


def case_host(lcores, with_ah):
    name = 'host-to-host%s -l %s' % (' with AH' if with_ah else '', lcores)
    wd = workdir('nth')
    write_pcap(os.path.join(wd, 'in.pcap'), host_frames())
    out = run_two_stages(wd, ''.join(h.xfrm() for h in H) + (AH_LINE if with_ah else ''),
                         'nth%d' % with_ah, lcores, name)
    check(('share transport stage 0' in out) == with_ah,
          '%s: the start %s all SAs share stage 0' % (name, 'says' if with_ah else
                                                     'does not say'))
    reasons, (trx, tdel), _ = report_counts(out)
    check(tdel == 4 * N and reasons.get('replay', 0) == 10 and trx == 4 * N + 10,
          '%s: %d delivered, 10 replays (%s)' % (name, 4 * N,
                                                 {k: v for k, v in reasons.items() if v}))
    outs = [read_pcap(os.path.join(wd, 'out%d.pcap' % q)) for q in range(2)]
    where = []
    for h in H:
        want = [eth(inner_packet(h.tag, q)) for q in range(1, N + 1)]
        got = [[f for f in o if f in want] for o in outs]
        where.append([q for q in range(2) if got[q]])
        check(got in ([want, []], [[], want]),
              '%s: SA 0x%x delivered in order through one stage (%s)'
              % (name, h.spi, [len(g) for g in got]))
    stages = sorted({w[0] for w in where if len(w) == 1})
    check(stages == ([0] if with_ah else [0, 1]),
          '%s: SAs on stages %s' % (name, stages))


# Tunnels whose selectors take no packet to X's destination: they cannot
# carry X, unless X's flag icmp may let an ICMP error through.
SEL_NET8 = ' sel src 198.51.100.0/24 dst 10.8.0.0/16\n'
TA = Sa(0xe500, reqid=40, src='192.0.2.41')
TB = Sa(0xe600, reqid=41, src='192.0.2.42')


def to_net8(tag, seq):
    """A plaintext inside SEL_NET8, naming its SA and number."""
    data = ('%s seq %d ' % (tag, seq)).encode().ljust(48, b'.')
    udp = struct.pack('!HHHH', 50101, 9000, 8 + len(data), 0) + data
    return ipv4('198.51.100.10', '10.8.0.1', 17, udp, ident=seq)


def case_mixed(lcores, icmp):
    """TA, TB (selectors elsewhere), T1 (no selector) and X in one file:
    only T1 and X must share stage 0; TA and TB spread (slots 0 and 1)."""
    name = 'mixed%s -l %s' % (' with flag icmp' if icmp else '', lcores)
    wd = workdir('ntmix')
    frames, want = [], {TA: [], TB: [], X: []}
    for q in range(1, N + 1):
        for t in (TA, TB):
            frames.append(t.esp(q, inner=to_net8(t.tag, q)))
            want[t].append(eth(to_net8(t.tag, q)))
        frames.append(nested(T1, q, q))
        want[X].append(delivered(q))
    write_pcap(os.path.join(wd, 'in.pcap'), frames)
    sa_text = (TA.xfrm().rstrip('\n') + SEL_NET8 + TB.xfrm().rstrip('\n') + SEL_NET8 +
               T1.xfrm() + X.xfrm().rstrip('\n') + (' flag icmp\n' if icmp else '\n'))
    out = run_two_stages(wd, sa_text, 'ntm%d' % icmp, lcores, name)
    shared = '%d of 4 SAs' % (4 if icmp else 2)
    check(shared in out and 'share transport stage 0' in out,
          '%s: the start says %s share stage 0' % (name, shared))
    reasons, (trx, tdel), _ = report_counts(out)
    check(tdel == 3 * N and trx == 3 * N,
          '%s: all %d delivered (%s)' % (name, 3 * N, {k: v for k, v in reasons.items() if v}))
    outs = [read_pcap(os.path.join(wd, 'out%d.pcap' % q)) for q in range(2)]
    stage = {}
    for sa, frames_of in want.items():
        got = [[f for f in o if f in frames_of] for o in outs]
        check(got in ([frames_of, []], [[], frames_of]),
              '%s: SA 0x%x delivered in order through one stage (%s)'
              % (name, sa.spi, [len(g) for g in got]))
        stage['0x%x' % sa.spi] = 0 if got[0] else 1
    expect = {'0x%x' % TA.spi: 0, '0x%x' % TB.spi: 0 if icmp else 1, '0x%x' % X.spi: 0}
    check(stage == expect, '%s: stages by SA %s, want %s' % (name, stage, expect))


def case_added_spread(lcores):
    """T1 and X loaded (sharing stage 0), then added at run time: TA and TB
    (nothing to nest with: by slot, 2 and 3), T2 (may carry X: stage 0)
    and Y, transport-mode to X's address in slot 5 (T1 and T2 may carry
    it: stage 0)."""
    name = 'added beside a shared stage -l %s' % lcores
    wd = workdir('ntas')
    write_pcap(os.path.join(wd, 'in.pcap'), [])
    d = Daemon(wd, [T1, X], vdev(wd), lcores=lcores,
               args=['--workers', '1', '--transports', '2'],
               prefix='ntas%d%s' % (os.getpid(), lcores.replace('-', '')))
    Y = Sa(0xe700, reqid=50, mode='transport', src='198.51.100.11', dst=X.dst)
    for sa, sel in ((TA, SEL_NET8), (TB, SEL_NET8), (T2, '\n'), (Y, '\n')):
        rc, r = d.ctl('add', *(sa.xfrm().rstrip('\n') + sel).split()[4:])
        check(rc == 0 and r.get('ok'), '%s: 0x%x added (%s)' % (name, sa.spi, r))
    rc, r = d.ctl('list')
    got = {s['spi']: (s.get('id'), s.get('transport')) for s in r.get('sas', [])} \
        if rc == 0 else {}
    want = {'0x%08x' % s.spi: st for s, st in ((T1, 0), (X, 0), (TA, 0), (TB, 1), (T2, 0),
                                              (Y, 0))}
    check({k: v[1] for k, v in got.items()} == want,
          '%s: stages by SA %s, want %s' % (name, got, want))
    rc, out = d.stop()
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, mbufs home (%s)' % (name, wd))



def many_text(n):
    """n tunnels whose selectors take no packet to X's address, and n
    transport-mode SAs to it: no pair may nest."""
    key = '0x' + '3c' * 20
    line = ('ip xfrm state add src %s dst %s proto esp spi 0x%08x reqid %d mode %s '
            'replay-window 0 aead "rfc4106(gcm(aes))" ' + key + ' 128%s\n')
    return ''.join(line % ('192.0.2.31', '192.0.2.1', 0x100000 + i, 1, 'tunnel', SEL_NET8.rstrip())
                   for i in range(n)) + \
        ''.join(line % (X.src, X.dst, 0x200000 + i, 2, 'transport', '') for i in range(n))


def case_many(lcores):
    """Over 2^24 tunnel/transport pairs rxsec does not check them at load:
    every tunnel and transport-mode SA shares stage 0, even where no pair
    could nest. At 2^24 pairs they are checked, and none share it."""
    for n, want in ((4096, None), (4097, 'rxsec: 8194 of 8194 SAs may be nested')):
        name = 'many %d+%d -l %s' % (n, n, lcores)
        wd = workdir('ntmany')
        write_pcap(os.path.join(wd, 'in.pcap'), [])
        out = run_two_stages(wd, many_text(n), 'ntm', lcores, name, ['--max-sa', '8200'])
        said = [l for l in out.splitlines() if 'may be nested' in l]
        check(said == [] if want is None else len(said) == 1 and said[0].startswith(want),
              '%s: %s (%s)' % (name, 'no SA shares stage 0' if want is None else want, said))


for lc in ('0', '0-1'):
    case_loaded(lc)
    case_added(lc)
    case_added_receiver(lc)
    case_host(lc, False)
    case_host(lc, True)
    case_mixed(lc, False)
    case_mixed(lc, True)
    case_added_spread(lc)
case_many('0')
finish()
