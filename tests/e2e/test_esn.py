# SPDX-License-Identifier: BSD-3-Clause
"""ESN end to end (RFC 4303 2.2.1, A2.1; issue 4 item 1), with -l 0 and -l 0-1:
  cross    sequences start just below 2^32 and cross it, reordered inside the
           window, plus a replay and a below-window packet (GCM, CCM and
           CBC+HMAC: seq_hi in the AAD / appended to the ICV input);
  resync   the receiver's window lags a whole subspace (RFC 4303 A2.3): the
           inferred high bits are wrong, the ICV fails, the transport
           re-verifies with the other high value and delivers; a corrupted
           packet near the boundary still fails; the window then follows
           (GCM, CCM and CBC+HMAC, 48 and 1400-byte payloads);
  edges    windows 32 and 4096 (and --replay-window 0 disabling) at their edges;
  nested   a tunnel SA carrying transport-mode ESP of a second SA (spec rule 5),
           either or both windows a subspace behind: the lagging layer is
           re-verified, a first layer saved so has its second one checked
           (delivered as the plaintext, replays of it dropped); offloaded
           and with --no-offload.
"""
import random
import struct

from issue4_lib import Sa, eth, inner_packet, ipv4, run, workdir, check, finish, parse_tag

B = 1 << 32


def expect(verdicts, frames_n, want):
    """want: list of (verdict, reason) per received frame."""
    got = [(v['verdict'], v['reason']) for v in verdicts]
    ok = check(len(verdicts) == frames_n, 'one verdict per frame (%d/%d)' % (len(verdicts), frames_n))
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
    return check(ok and not bad, 'verdicts as expected%s' % (
        '' if not bad else ': first mismatches %s' % bad[:4]))


def case_cross(alg, lcores):
    sa = Sa(0x4001, alg=alg, esn=True, window=64, seq=0xffffffe0, seq_hi=0)
    seqs = list(range(B - 31, B + 32))
    rng = random.Random(4)
    # reorder in blocks of 16: every packet stays inside the 64-packet window
    order = []
    for i in range(0, len(seqs), 16):
        blk = seqs[i:i + 16]
        rng.shuffle(blk)
        order += blk
    frames = [sa.esp(s) for s in order]
    want = [('deliver', 'ok')] * len(order)
    frames.append(sa.esp(B + 3))            # replay of an accepted packet
    want.append(('drop', 'replay'))
    frames.append(sa.esp(B + 31 - 64))      # top B+31, window 64: just below
    want.append(('drop', 'below_window'))
    frames.append(sa.esp(B + 31 - 63, corrupt=True))  # in window, bad ICV
    want.append(('drop', 'tunnel_esp_auth_failed'))
    frames.append(sa.esp(B + 31 - 63))      # the window's bottom, never sent before:
    want.append(('deliver', 'ok'))          # the failed copy did not mark it seen
    wd = workdir('esn-cross')
    rc, out, verdicts, delivered = run(wd, [sa], frames, lcores)
    name = 'cross 2^32 %s -l %s' % (alg, lcores)
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, mbufs home (%s)' % (name, wd))
    expect(verdicts, len(frames), want)
    check(delivered == [sa.delivered(s) for s in order + [B + 31 - 63]],
          '%s: delivered frames = inner packets, in receive order' % name)


def sized_inner(tag, seq, size):
    """inner_packet with `size` bytes of UDP payload."""
    data = ('%s seq %d ' % (tag, seq)).encode().ljust(size, b'.')
    udp = struct.pack('!HHHH', 50101, 9000, 8 + len(data), 0) + data
    return ipv4('198.51.100.10', '203.0.113.20', 17, udp, ident=seq & 0xffff)


def case_resync(lcores, alg='gcm', size=48):
    # Window top at 0x10 in subspace 0; the peer is already in subspace 1.
    # The first check decrypted in place; the second one needs the bytes as
    # received back, whatever the packet's size (1400: no room in its mbuf
    # for a copy).
    sa = Sa(0x4002, alg=alg, esn=True, window=32, seq=0x10, seq_hi=0)
    seqs = [B + 0x20, B + 0x22, B + 0x21, B + 0x23]

    def esp(seq, corrupt=False):
        return sa.esp(seq, inner=sized_inner(sa.tag, seq, size), corrupt=corrupt)
    frames = [esp(seqs[0], corrupt=True)] + [esp(s) for s in seqs] + \
        [esp(0x11), esp(B + 0x21)]
    want = [('drop', 'tunnel_esp_auth_failed')] + [('deliver', 'ok')] * 4 + \
        [('drop', 'below_window'), ('drop', 'replay')]
    wd = workdir('esn-resync')
    rc, out, verdicts, delivered = run(wd, [sa], frames, lcores)
    name = 'resync %s %d-byte payload -l %s' % (alg, size, lcores)
    check(rc == 0, '%s: exit 0 (%s)' % (name, wd))
    expect(verdicts, len(frames), want)
    # The engine's record keeps its own finding for the first packet it
    # checked with the stale high bits; the transport's re-verification saved it.
    check(verdicts[1]['crypto_status'] == 'CRYPTO_TUNNEL_ESP_AUTH_FAILED' and
          verdicts[1]['verdict'] == 'deliver',
          '%s: engine said ICV failed (stale high bits), transport re-verified' % name)
    check([parse_tag(f) for f in delivered] == [(sa.tag, s) for s in seqs],
          '%s: delivered the subspace-1 packets' % name)


def case_edges(window, lcores, override=None):
    sa = Sa(0x4100 + window, alg='gcm', esn=False, window=window)
    top = 3 * max(window, 1) + 5
    seqs = [top, top - max(window, 1) + 1, top - max(window, 1), top, top + 1, top - max(window, 1) + 1]
    args = []
    if override is not None:
        args = ['--replay-window', str(override)]
        want = [('deliver', 'ok')] * len(seqs)
    else:
        want = [('deliver', 'ok'), ('deliver', 'ok'), ('drop', 'below_window'),
                ('drop', 'replay'), ('deliver', 'ok'), ('drop', 'below_window')]
    frames = [sa.esp(s) for s in seqs]
    wd = workdir('win')
    rc, out, verdicts, delivered = run(wd, [sa], frames, lcores, args)
    check(rc == 0, 'window %d%s -l %s: exit 0 (%s)' % (
        window, '' if override is None else ' --replay-window %d' % override, lcores, wd))
    expect(verdicts, len(frames), want)


INNER_SRC, INNER_DST = '198.51.100.10', '203.0.113.20'   # inner_packet's addresses


def case_nested(lcores, lag, args=()):
    """lag: 'inner', 'outer' or 'both' windows start a subspace behind;
    args ['--no-offload']: both layers on the software path."""
    outer = Sa(0x4201, esn=lag != 'inner', window=32, seq=0x10 if lag != 'inner' else 0)
    inner = Sa(0x4202, esn=lag != 'outer', window=32, seq=0x10 if lag != 'outer' else 0,
               mode='transport', src=INNER_SRC, dst=INNER_DST)
    obase = B if outer.esn else 0
    ibase = B if inner.esn else 0

    def nested(k, iseq, corrupt=False):
        ip = inner.transport_esp(iseq, inner_packet(inner.tag, iseq))
        if corrupt:
            ip = ip[:-1] + bytes([ip[-1] ^ 1])
        return outer.esp(obase + 0x20 + k, inner=ip)
    iseqs = [ibase + 0x20, ibase + 0x22, ibase + 0x21, ibase + 0x23]
    frames = [nested(0, iseqs[0], corrupt=True)]
    want = [('drop', 'transport_esp_auth_failed')]
    frames += [nested(1 + k, s) for k, s in enumerate(iseqs)]
    want += [('deliver', 'ok')] * len(iseqs)
    frames.append(nested(5, ibase + 0x21))      # a fresh outer packet, a replayed inner one
    want.append(('drop', 'replay'))
    wd = workdir('esn-nested')
    rc, out, verdicts, delivered = run(wd, [outer, inner], frames, lcores, args)
    name = 'nested, %s window behind, -l %s%s' % (lag, lcores, ''.join(' ' + a for a in args))
    check(rc == 0, '%s: exit 0 (%s)' % (name, wd))
    expect(verdicts, len(frames), want)
    if lag == 'inner' and not args:
        check(all(v['next_crypto_done'] == 1 for v in verdicts),
              '%s: the engine checked both layers' % name)
    check(delivered == [eth(inner_packet(inner.tag, s)) for s in iseqs],
          '%s: delivered frames = the inner plaintext, both layers removed' % name)


for lc in ('0', '0-1'):
    for lag in ('inner', 'outer', 'both'):
        case_nested(lc, lag)
        case_nested(lc, lag, ['--no-offload'])
    for alg in ('gcm', 'ccm', 'cbc'):
        case_cross(alg, lc)
    for alg in ('gcm', 'ccm', 'cbc'):
        for size in (48, 1400):
            case_resync(lc, alg, size)
    for w in (32, 4096):
        case_edges(w, lc)
    case_edges(64, lc, override=0)
finish()
