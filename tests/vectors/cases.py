# SPDX-License-Identifier: BSD-3-Clause
"""Case families for the rxsec end-to-end tests. Each family is a function
returning a list of rxsec_vectors.Case; FAMILIES maps names to them.

  issue2           ESP AES-GCM (rfc4106) tunnel/transport, IPv4/IPv6, replay,
                   no SA, non-IPsec, seq 0, VLAN, ICV failures
  issue3_esp       the ESP algorithm matrix x tunnel/transport x IPv4/IPv6
  issue3_ah        AH tunnel/transport IPv4/IPv6; AH sized for the whole
                   digest (Linux icv_full_len); HMAC-SHA-512-512; AH
                   lengths other than the SA's ICV or the whole digest
                   padded to 32/64 bits refused
  issue3_natt      ESP in UDP (RFC 3948), NAT keepalive, IKE beside it; UDP
                   lengths that lie; ESP not encapsulated as its SA says (invalid_protocol before
                   replay and ICV, per layer, fragments); UDP checksums (malformed
                   before replay and ICV, whole and fragmented); transport-mode
                   checksums behind a NAT (TCP, UDP, ICMPv6, UDP-Lite and DCCP
                   over their coverage); --no-offload,
                   --no-offload-udp-esp, --offload-algs
  issue3_malformed truncations, bad padding, protocol mismatch, TFC dummy
  issue3_nested    tunnel ESP around transport ESP/AH, AH over ESP, ICV
                   failures per layer, unknown inner SA, replay per layer,
                   inner IPv4 header checksum wrong
  issue3_hdrs      IPv4 options / IPv6 extension headers before ESP and AH;
                   AH behind more than 224 bytes of IPv6 extension headers
  issue3_caps      one traffic set under --offload v1/v2, --no-offload,
                   --offload-algs, --no-offload-* (Case.variant, args.json)
  issue3_caps_nested  nested traffic on the software path
  reassembly       fragmented ESP/AH datagrams, reassembled then decided on
                   the software path; --transports 2 (every stage reassembles
                   what is hashed to it: many flows, the exit report's
                   per-stage counters), --frag-flows 0
  selectors        SA traffic selectors (sel): addresses, protocol, ports,
                   ICMP type/code, IPv6 extension headers, fragments, nested
                   SAs, wildcards; the inner IP version a tunnel SA takes
                   (its selector's family, flag af-unspec both); replay after
                   a mismatch; flag icmp (ICMP errors quoting a flow inside,
                   read backwards); --no-offload
  ecn              ECN and DSCP at tunnel decapsulation: outer DS x inner DS,
                   flag noecn / decap-dscp, AH, ESP in UDP, transport, nested,
                   fragments (their ECN fields merged at reassembly);
                   --no-offload
ESN cases (flag esn, sequence numbers crossing 2^32) are for a later issue:
see esn_cases() below, not yet registered.
"""
import hashlib
import hmac
import socket
import struct

from scapy.all import ICMP, IP, IPv6, TCP, UDP, ICMPv6EchoRequest, Raw, raw
from scapy.layers.inet import in4_chksum
from scapy.layers.inet6 import in6_chksum

import rxsec_vectors as V
from rxsec_vectors import Case, Sa, OUTER, INNER, OTHER_DST

SIZES = (0, 1, 3, 16, 100, 1400)


def ike_header(exchange=34):
    """An IKE_SA_INIT-shaped IKEv2 header + a little body (RFC 7296 3.1)."""
    body = b'\x00' * 8
    hdr = bytes(range(1, 9)) + b'\x00' * 8 + bytes([33, 0x20, exchange, 0x08]) + \
        b'\x00' * 4 + struct.pack('!L', 28 + len(body))
    return hdr + body


def udp_datagram(family, sport, dport, payload, ipid=0x55):
    src, dst = OUTER[family]
    if family == 4:
        p = IP(src=src, dst=dst, id=ipid, flags='DF') / UDP(sport=sport, dport=dport) / Raw(payload)
    else:
        p = IPv6(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload)
    return raw(p)


def same_cache_set_spis(n, sets=2048):
    """n SPIs that the engine's SA cache (lib/engine.h) puts in one set:
    Fibonacci hashing of the SPI as the engine reads it (wire bytes, as a
    little-endian word), top log2(sets) bits."""
    shift = 32 - (sets.bit_length() - 1)

    def set_of(spi):
        word = struct.unpack('<I', struct.pack('!I', spi))[0]
        return ((word * 0x9e3779b1) & 0xffffffff) >> shift

    target = set_of(0x7000)
    found, spi = [], 0x7000
    while len(found) < n:
        if set_of(spi) == target:
            found.append(spi)
        spi += 1
    return found


def _sizes_case(name, mode, family, enc, auth=None, inner_families=None, sizes=SIZES,
                icmp=True, quote=True):
    fams = inner_families or (family,)
    c = Case(name, 'ESP %s IPv%d %s, payload sizes %s' % (mode, family, enc, sizes),
             mode, 'IPv%d' % family)
    # a tunnel SA carrying both inner families: flag af-unspec (no selector),
    # as strongSwan installs them; with a selector family it takes only one
    sa = c.sa(mode=mode, family=family, enc=enc, auth=auth, quote=quote,
              af_unspec=mode == 'tunnel' and set(fams) != {family})
    for fam in fams:
        for n in sizes:
            c.ipsec(sa, c.inner(sa, n, family=fam))
        if icmp:
            c.ipsec(sa, c.inner(sa, 56, kind='icmp', family=fam))
    return c


# ---------------------------------------------------------------------------
# issue 2: AES-GCM
# ---------------------------------------------------------------------------

def issue2():
    cases = []
    # tunnel: all four outer/inner combinations, GCM-128 and GCM-256
    for fam in (4, 6):
        for bits in (128, 256):
            cases.append(_sizes_case('i2_tun%d_gcm%d' % (fam, bits), 'tunnel', fam,
                                     'aes%dgcm16' % bits, inner_families=(4, 6),
                                     quote=(bits == 128)))
            cases.append(_sizes_case('i2_trans%d_gcm%d' % (fam, bits), 'transport', fam,
                                     'aes%dgcm16' % bits))

    # VLAN-tagged frames: the tag stays, the inner ethertype is set
    c = Case('i2_vlan', 'ESP AES-GCM-128 behind an 802.1Q tag (VLAN 100); '
             'tunnel v4-in-v4, v6-in-v4 and transport v4; plus a tagged non-IPsec frame',
             'tunnel', 'IPv4')
    tun = c.sa(mode='tunnel', family=4, enc='aes128gcm16', af_unspec=True)
    tra = c.sa(mode='transport', family=4, enc='aes128gcm16')
    c.ipsec(tun, c.inner(tun, 40), vlan=100)
    c.ipsec(tun, c.inner(tun, 40, family=6), vlan=100)
    c.ipsec(tra, c.inner(tra, 40), vlan=100)
    c.plain(udp_datagram(4, 40000, 9000, b'plain in vlan'), 'non-IPsec: UDP in VLAN 100', vlan=100)
    c.ipsec(tun, c.inner(tun, 1), vlan=4094)
    cases.append(c)

    # ICV (GCM tag) failures in all four mode/family combinations
    c = Case('i2_icv_fail', 'ESP AES-GCM: a flipped ICV byte gives the mode\'s '
             'ESP_AUTH_FAILED status, crypto_done 1, dropped; neighbours delivered')
    for mode in ('tunnel', 'transport'):
        for fam in (4, 6):
            sa = c.sa(mode=mode, family=fam, enc='aes128gcm16')
            c.ipsec(sa, c.inner(sa, 20))
            c.ipsec(sa, c.inner(sa, 20), expect='auth', mutate=V.flip_last_byte)
            c.ipsec(sa, c.inner(sa, 0), expect='auth', mutate=V.flip_last_byte)
            c.ipsec(sa, c.inner(sa, 20))
    sa = c.sa(mode='tunnel', family=4, enc='aes256gcm16')
    c.ipsec(sa, c.inner(sa, 64), expect='auth', mutate=V.flip_last_byte)
    c.ipsec(sa, c.inner(sa, 64))
    cases.append(c)

    # anti-replay (RFC 4303 3.4.3), window 32
    c = Case('i2_replay', 'anti-replay, window 32: duplicate, below window, window '
             'edges, a failed ICV does not move the window; window 0 disables the check',
             'tunnel', 'IPv4')
    sa = c.sa(mode='tunnel', family=4, enc='aes128gcm16', window=32)
    c.ipsec(sa, c.inner(sa, 10), seq=1)
    c.ipsec(sa, c.inner(sa, 10), seq=2)
    c.ipsec(sa, c.inner(sa, 10), seq=2, expect='replay')
    c.ipsec(sa, c.inner(sa, 10), seq=3)
    c.ipsec(sa, c.inner(sa, 10), seq=1, expect='replay')
    c.ipsec(sa, c.inner(sa, 10), seq=100)
    c.ipsec(sa, c.inner(sa, 10), seq=10, expect='below_window')
    c.ipsec(sa, c.inner(sa, 10), seq=69)                         # 100 - 32 + 1: inside
    c.ipsec(sa, c.inner(sa, 10), seq=68, expect='below_window')  # just below
    c.ipsec(sa, c.inner(sa, 10), seq=200, expect='auth', mutate=V.flip_last_byte)
    c.ipsec(sa, c.inner(sa, 10), seq=75)                         # window still at 100
    c.ipsec(sa, c.inner(sa, 10), seq=200)                        # failed one left no mark
    c.ipsec(sa, c.inner(sa, 10), seq=200, expect='replay')
    c.ipsec(sa, c.inner(sa, 10), seq=150, expect='below_window')
    c.ipsec(sa, c.inner(sa, 10), seq=169)
    c.ipsec(sa, c.inner(sa, 10), seq=168, expect='below_window')
    v6 = c.sa(mode='transport', family=6, enc='aes256gcm16', window=32)
    c.ipsec(v6, c.inner(v6, 10), seq=5)
    c.ipsec(v6, c.inner(v6, 10), seq=5, expect='replay')
    c.ipsec(v6, c.inner(v6, 10), seq=4)
    w0 = c.sa(mode='tunnel', family=4, enc='aes128gcm16', window=0)
    c.ipsec(w0, c.inner(w0, 10), seq=7)
    c.ipsec(w0, c.inner(w0, 10), seq=7)      # no anti-replay: delivered again
    c.ipsec(w0, c.inner(w0, 10), seq=1)
    big = c.sa(mode='tunnel', family=4, enc='aes128gcm16', window=1024)
    c.ipsec(big, c.inner(big, 10), seq=2000)
    c.ipsec(big, c.inner(big, 10), seq=977)                      # 2000 - 1024 + 1
    c.ipsec(big, c.inner(big, 10), seq=976, expect='below_window')
    c.ipsec(big, c.inner(big, 10), seq=977, expect='replay')
    cases.append(c)

    # sequence number 0 without ESN (RFC 4303 3.3.3: never sent)
    c = Case('i2_seq_zero', 'ESP seq 0 on a non-ESN SA: decrypted (crypto_done 1) '
             'then dropped seq_zero', 'tunnel', 'IPv4')
    sa = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    c.ipsec(sa, c.inner(sa, 10), seq=0, expect='seq_zero')
    c.ipsec(sa, c.inner(sa, 10), seq=1)
    tr6 = c.sa(mode='transport', family=6, enc='aes128gcm16')
    c.ipsec(tr6, c.inner(tr6, 10), seq=0, expect='seq_zero')
    c.ipsec(tr6, c.inner(tr6, 10), seq=1)
    cases.append(c)

    # no SA: unknown SPI, or known SPI with another destination (RFC 4303 3.4.2)
    c = Case('i2_no_sa', 'unknown SPI and known SPI with the wrong destination: '
             'crypto_done 0, CRYPTO_SUCCESS, spi shown, dropped no_sa')
    for fam in (4, 6):
        sa = c.sa(mode='tunnel', family=fam, enc='aes128gcm16')
        stranger = Sa(c.rng, spi=0xdead0000 + fam, mode='tunnel', family=fam,
                      enc='aes128gcm16')
        c.ipsec(sa, c.inner(sa, 10))
        c.ipsec(stranger, c.inner(sa, 10), expect='no_sa')
        c.ipsec(sa, c.inner(sa, 10), expect='no_sa', mutate=V.set_dst(OTHER_DST[fam]))
        c.ipsec(sa, c.inner(sa, 10))
    # same SPI as a v4 SA, but sent over IPv6 to our v6 address
    sa4 = c.sas[0]
    alias = Sa(c.rng, spi=sa4.spi, mode='tunnel', family=6, enc='aes128gcm16')
    c.ipsec(alias, c.inner(alias, 10), expect='no_sa')
    cases.append(c)

    # SA directions (Linux 6.10): a received packet meets inbound SAs and
    # SAs of no direction; an outbound one (ESN without a window included,
    # which iproute2 takes for dir out only) is no SA to it
    c = Case('i2_sa_dir', '`dir in` and `dir out` SAs, ESP and AH, IPv4 and IPv6: an '
             'inbound SA delivers, an outbound one (with ESN and no replay window, '
             'as Linux keeps them) drops no_sa, crypto_done 0; SAs with Linux NIC '
             'offload settings but no dir deliver, whichever way the offload goes')
    for fam in (4, 6):
        sa_in = c.sa(mode='tunnel', family=fam, enc='aes128gcm16', direction='in')
        out = c.sa(mode='tunnel', family=fam, enc='aes128gcm16', direction='out',
                   esn=True, window=0)
        ah_out = c.sa(proto='ah', mode='transport', family=fam, auth='sha256',
                      direction='out')
        c.ipsec(sa_in, c.inner(sa_in, 10))
        c.ipsec(out, c.inner(out, 10), expect='no_sa')
        c.ipsec(ah_out, c.inner(ah_out, 10), expect='no_sa')
        c.ipsec(sa_in, c.inner(sa_in, 20))
        for way in ('in', 'out'):
            hw = c.sa(mode='transport', family=fam, enc='aes128gcm16', offload=way)
            c.ipsec(hw, c.inner(hw, 30))
    cases.append(c)

    # More SAs than the engine's SA cache has ways, all in one set, over
    # several receive bursts: every packet must still meet its own SA.
    c = Case('i2_sa_cache_set', 'five ESP SAs (IPv4 and IPv6, two sharing one SPI) '
             'whose SPIs fall in one set of the engine SA cache, 150 packets '
             'interleaved over three bursts: each delivered with its own SA',
             'tunnel', 'IPv4')
    spis = same_cache_set_spis(4)
    sas = [c.sa(mode='tunnel', family=4 if i % 2 == 0 else 6, enc='aes128gcm16', window=0,
                spi=spi) for i, spi in enumerate(spis)]
    sas.append(c.sa(mode='tunnel', family=6, enc='aes128gcm16', window=0, spi=spis[0]))
    for i in range(150):
        sa = sas[(i * i + i // 7) % len(sas)]
        c.ipsec(sa, c.inner(sa, 8 + i % 40))
    cases.append(c)

    # Jumbo frames arrive from net_pcap as chains of 2 KiB segments; the
    # engine flattens them up to 9216 bytes and drops longer ones as too_long.
    j = jumbo_case()
    cases.append(j)
    # --mtu 9000 on a port without RX scatter (net_pcap): every frame is
    # received into one large buffer instead of a chain; same outcomes.
    cases.append(j.variant('i2_jumbo_mtu9000', j.description + '; with --mtu 9000',
                           ['--mtu', '9000'], lambda info: False))

    # non-IPsec traffic, incl. IKE (RFC 7296 2.23 / RFC 3948 2.2 non-ESP marker)
    c = Case('i2_non_ipsec', 'non-IPsec frames are delivered unchanged: UDP, ICMP, '
             'IKE on 500, IKE on 4500 behind the zero non-ESP marker; an ESP SA is '
             'present', 'tunnel', 'IPv4')
    sa = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    c.plain(udp_datagram(4, 40000, 9000, b'hello'), 'non-IPsec: UDP v4')
    c.ipsec(sa, c.inner(sa, 10))
    c.plain(udp_datagram(4, 500, 500, ike_header()), 'non-IPsec: IKE on UDP 500')
    c.plain(udp_datagram(4, 4500, 4500, b'\x00' * 4 + ike_header(35)),
            'non-IPsec: IKE on UDP 4500 with the non-ESP marker')
    c.plain(udp_datagram(6, 500, 500, ike_header()), 'non-IPsec: IKE v6 on UDP 500')
    c.plain(udp_datagram(6, 4500, 4500, b'\x00' * 4 + ike_header(36)),
            'non-IPsec: IKE v6 on UDP 4500 with the non-ESP marker')
    c.plain(udp_datagram(6, 40000, 9000, b''), 'non-IPsec: UDP v6, empty')
    c.plain(raw(V.freeze(V.icmp_packet(4, OUTER[4][0], OUTER[4][1], 32, 'ping'))),
            'non-IPsec: ICMP echo v4')
    c.ipsec(sa, c.inner(sa, 10))
    cases.append(c)
    return cases


# ---------------------------------------------------------------------------
# issue 3: algorithm matrix
# ---------------------------------------------------------------------------

# (enc, auth) pairs; AEADs have no auth. Every enc and every auth appears.
def matrix_pairs():
    pairs = []
    for bits in (128, 192, 256):
        for icv in (8, 12, 16):
            pairs.append(('aes%dgcm%d' % (bits, icv), None))
        pairs.append(('aes%dgmac' % bits, None))
    for bits in (128, 256):
        for icv in (8, 12, 16):
            pairs.append(('aes%dccm%d' % (bits, icv), None))
    if 'chacha20poly1305' in V.ENC:
        pairs.append(('chacha20poly1305', None))
    auths = list(V.AUTH)
    for i, (enc) in enumerate(('aes128cbc', 'aes192cbc', 'aes256cbc', 'aes128ctr',
                               'aes192ctr', 'aes256ctr', '3des', 'des', 'null')):
        # each cipher with two auths, rotating so every auth meets CBC and CTR
        pairs.append((enc, auths[i % len(auths)]))
        pairs.append((enc, auths[(i + 3) % len(auths)]))
    # every auth with AES-CBC-128 at least once
    for a in auths:
        if ('aes128cbc', a) not in pairs:
            pairs.append(('aes128cbc', a))
    return pairs


def _esp_frame_len(c, sa, n):
    return len(V.eth(V.esp_protect(sa, c.inner(sa, n), 1, c.iv_for(sa))))


def _inner_for_frame(c, sa, frame_len):
    """The inner size whose ESP frame on sa is exactly frame_len bytes."""
    n = frame_len - 200
    while _esp_frame_len(c, sa, n) < frame_len:
        n += 1
    assert _esp_frame_len(c, sa, n) == frame_len, 'no inner size gives %d' % frame_len
    return n


def jumbo_case():
    c = Case('i2_jumbo', 'frames longer than one 2 KiB segment: GCM tunnel v4 and '
             'CBC+HMAC-SHA256 transport v6 up to the 9216-byte limit, a forged ICV, '
             'a plain UDP frame; a 9218-byte frame is too_long', 'tunnel', 'IPv4')
    gcm = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    cbc = c.sa(mode='transport', family=6, enc='aes128cbc', auth='sha256')
    for sa, n in ((gcm, 100), (gcm, 1990), (gcm, 2100), (cbc, 3000), (gcm, 8900),
                  (cbc, 8900)):
        c.ipsec(sa, c.inner(sa, n))
    # GCM frames here are 2 mod 4 bytes long: 9214 is the longest under the limit
    c.ipsec(gcm, c.inner(gcm, _inner_for_frame(c, gcm, 9214)))
    c.ipsec(cbc, c.inner(cbc, 5000), expect='auth', mutate=V.flip_last_byte)
    c.plain(udp_datagram(4, 40000, 9000, bytes(range(256)) * 20), 'non-IPsec: UDP v4, 5148 bytes')
    big = V.eth(V.esp_protect(gcm, c.inner(gcm, _inner_for_frame(c, gcm, 9218)),
                              gcm.next_seq, c.iv_for(gcm)))
    assert len(big) == 9218
    c.raw_frame(big, V._exp(None, 'drop', 0, 'CRYPTO_SUCCESS', 'too_long',
                            'ESP spi=0x%08x, a 9218-byte frame' % gcm.spi))
    c.ipsec(gcm, c.inner(gcm, 40), seq=gcm.next_seq + 1)
    return c


def issue3_esp():
    cases = []
    for enc, auth in matrix_pairs():
        name = 'i3_esp_%s%s' % (enc, '_' + auth if auth else '')
        c = Case(name, 'ESP %s%s, tunnel/transport x IPv4/IPv6: sizes, a flipped ICV'
                 % (V.ENC[enc]['blurb'], ' + ' + auth if auth else ''))
        for mode in ('tunnel', 'transport'):
            for fam in (4, 6):
                # tunnels carry the other inner family too: af-unspec
                sa = c.sa(mode=mode, family=fam, enc=enc, auth=auth,
                          af_unspec=mode == 'tunnel')
                for n in (0, 1, 17, 200):
                    c.ipsec(sa, c.inner(sa, n))
                if mode == 'tunnel':
                    c.ipsec(sa, c.inner(sa, 33, family=10 - fam))   # the other inner family
                c.ipsec(sa, c.inner(sa, 50), expect='auth', mutate=V.flip_last_byte)
                c.ipsec(sa, c.inner(sa, 1300))
        cases.append(c)
    return cases


def issue3_ah():
    cases = []
    for auth in ('sha1', 'sha256', 'md5', 'cmac'):
        c = Case('i3_ah_%s' % auth, 'AH %s, tunnel/transport x IPv4/IPv6 (scapy pads '
                 'IPv4 AH to 4 bytes); a flipped ICV' % auth)
        for mode in ('tunnel', 'transport'):
            for fam in (4, 6):
                sa = c.sa(proto='ah', mode=mode, family=fam, auth=auth)
                for n in (0, 1, 100, 1400):
                    c.ipsec(sa, c.inner(sa, n))
                c.ipsec(sa, c.inner(sa, 56, kind='icmp'))
                c.ipsec(sa, c.inner(sa, 50), expect='auth', mutate=V.flip_ah_icv)
                c.ipsec(sa, c.inner(sa, 10))
        cases.append(c)
    # Linux style: IPv4 AH padded to 8 bytes with non-zero padding in the ICV
    c = Case('i3_ah_pad8', 'AH IPv4 HMAC-SHA256-128 padded to 8 bytes like Linux, the '
             '4 padding bytes non-zero and covered by the ICV', 'transport', 'IPv4')
    for mode in ('transport', 'tunnel'):
        sa = c.sa(proto='ah', mode=mode, family=4, auth='sha256')
        pad = bytes.fromhex('c0000214')
        c.ipsec(sa, c.inner(sa, 10), pad=pad)
        c.ipsec(sa, c.inner(sa, 0), pad=pad)
        c.ipsec(sa, c.inner(sa, 10), pad=pad, expect='auth', mutate=V.flip_ah_icv)
        c.ipsec(sa, c.inner(sa, 10))   # scapy's 4-byte alignment on the same SA
    cases.append(c)
    # RFC 4302 2.2, 3.3.3.2.1: AH is its fixed part and the ICV, padded
    # only to 32 (IPv4) or 64 bits (IPv6); Linux's ah4_input/ah6_input refuse
    # any length but 12 + the SA's ICV or 12 + the whole digest, padded,
    # before the ICV. A longer AH whose ICV holds (padding covered by it)
    # is invalid_packet_syntax, and its window did not move.
    c = Case('i3_ah_len', 'AH longer than the SA\'s ICV needs and not sized for the whole '
             'digest either (padding beyond 32/64-bit alignment, ICV right): '
             'invalid_packet_syntax before the window moves; the same sequence number with '
             'the right length delivered', 'transport', 'IPv4')
    # sha1: 24 (ICV) or 32 (digest); sha256-128: 28/32 (ICV) or 44/48 (digest)
    for fam, auth, mode, pads in ((4, 'sha1', 'transport', (4, 12)),
                                  (4, 'sha256', 'tunnel', (8, 12, 24)),
                                  (6, 'sha256', 'transport', (8, 24)),
                                  (6, 'sha1', 'tunnel', (16,))):
        sa = c.sa(proto='ah', mode=mode, family=fam, auth=auth)
        for n in pads:
            seq = sa.next_seq
            pad = bytes(range(1, n + 1))
            if fam == 6 and auth == 'sha256':
                pad = bytes(4) + pad          # on top of the 4 bytes 64 bits need
            c.ipsec(sa, c.inner(sa, 20), pad=pad, expect='invalid_packet_syntax',
                    wire='AH %s IPv%d %s, %d bytes longer than 12 + ICV%s (%d bytes)'
                    % (mode, fam, auth, n, ' + 4' if len(pad) > n else '',
                       12 + sa.icv_len + len(pad)))
            c.ipsec(sa, c.inner(sa, 20), seq=seq)
    cases.append(c)
    cases.append(_ah_full_digest())
    c = Case('i3_ah_sha512_512', 'AH auth-trunc hmac(sha512) 512: the whole 64-byte digest '
             'as the ICV, tunnel/transport x IPv4/IPv6; a flipped ICV')
    for mode in ('tunnel', 'transport'):
        for fam in (4, 6):
            sa = c.sa(proto='ah', mode=mode, family=fam, auth='sha512_512')
            for n in (0, 100):
                c.ipsec(sa, c.inner(sa, n))
            c.ipsec(sa, c.inner(sa, 50), expect='auth', mutate=V.flip_ah_icv)
            c.ipsec(sa, c.inner(sa, 10))
    cases.append(c)
    return cases


HASHLIB = {'hmac(md5)': hashlib.md5, 'hmac(sha1)': hashlib.sha1,
           'hmac(sha256)': hashlib.sha256, 'hmac(sha512)': hashlib.sha512}


def _ah_at(ipb):
    return V.ip_hdr_len(ipb)         # no options or extension headers here


def _flip_at(off):
    """Flip a bit off bytes into AH (12: the first ICV byte)."""
    def f(ipb):
        b = bytearray(ipb)
        b[_ah_at(ipb) + off] ^= 0x04
        return bytes(b)
    return f


def _linux_mac_input(ipb, icv_len):
    """The bytes Linux's ah_input/ah6_input hash, worked out by hand for a
    header without options: IPv4 TOS, flags/offset, TTL and checksum, IPv6
    class, flow label and hop limit zeroed, and the first icv_len bytes of
    the ICV field; the rest of the field as received."""
    b = bytearray(ipb)
    if b[0] >> 4 == 4:
        b[1] = 0
        b[6:9] = bytes(3)
        b[10:12] = bytes(2)
    else:
        b[0] &= 0xf0
        b[1:4] = bytes(3)
        b[7] = 0
    at = _ah_at(ipb) + 12
    b[at:at + icv_len] = bytes(icv_len)
    return bytes(b)


def _whole_digest(sa):
    """A sender that puts the whole digest into an AH sized for it, computed
    with the whole field zeroed (RFC 4302 3.3.3.1 read literally). Linux
    zeroes only the truncated ICV: the digest's tail is hashed as received,
    so the ICV fails there. The frame comes with a zero tail (the same
    input); the digest is computed here with Python's hmac, and its leading
    bytes checked against the ICV scapy put there."""
    name = sa.auth['xfrm']
    full = V.AUTH_FULL[name]

    def f(ipb):
        at = _ah_at(ipb) + 12
        d = hmac.new(sa.auth_key, _linux_mac_input(ipb, full), HASHLIB[name]).digest()
        assert d[:sa.icv_len] == ipb[at:at + sa.icv_len], 'scapy and hmac disagree'
        return ipb[:at] + d + ipb[at + full:]
    return f


def _ah_full_digest():
    """Linux's ah_input/ah6_input also take an AH sized for the algorithm's
    whole digest (icv_full_len): only the truncated ICV is zeroed and
    compared, the rest of the field is covered by the ICV as received, the
    payload begins after the whole header."""
    c = Case('i3_ah_full', 'AH sized for the whole digest (Linux icv_full_len), tunnel/'
             'transport x IPv4/IPv6, several algorithms: delivered with the field\'s tail '
             'zero or not; a flipped bit in the truncated ICV, in the tail or in the padding '
             'fails the ICV; the whole digest computed over a zeroed field fails (Linux hashes '
             'the tail as received); the SA\'s truncated length still taken')
    rng = c.rng
    # (auth, family, mode, alignment of the field): sha256-128 tail 16,
    # sha1-96 tail 8 + 4 padding, md5-96 / xcbc-96 / cmac-96 tail 4 (+ 4 over IPv6),
    # sha256-96 tail 20, sha512-256 tail 32
    for auth, fam, mode, align in (('sha256', 4, 'transport', 8), ('sha256', 4, 'tunnel', 4),
                                   ('sha256', 6, 'transport', 8), ('sha256', 6, 'tunnel', 8),
                                   ('sha1', 4, 'tunnel', 8), ('sha1', 6, 'transport', 8),
                                   ('sha1', 4, 'transport', 4), ('md5', 6, 'tunnel', 8),
                                   ('xcbc', 4, 'transport', 8), ('xcbc', 6, 'transport', 8),
                                   ('sha256_96', 4, 'tunnel', 8), ('sha512', 6, 'tunnel', 8),
                                   ('sha512', 4, 'transport', 4), ('cmac', 4, 'tunnel', 8),
                                   ('cmac', 6, 'transport', 8)):
        sa = c.sa(proto='ah', mode=mode, family=fam, auth=auth)
        full = V.AUTH_FULL[sa.auth['xfrm']]
        tail = full - sa.icv_len
        align_pad = -(12 + full) % align
        what = 'AH %s IPv%d %s-%d, %d-byte field for the %d-byte digest' % (
            mode, fam, sa.auth['xfrm'], sa.icv_len * 8, full + align_pad, full)
        zero = bytes(tail + align_pad)
        noise = bytes(rng.getrandbits(8) for _ in range(tail)) + bytes(align_pad)
        c.ipsec(sa, c.inner(sa, 20), pad=zero, wire=what + ', tail zero')
        c.ipsec(sa, c.inner(sa, 100), pad=noise, wire=what + ', tail not zero')
        c.ipsec(sa, c.inner(sa, 0, kind='icmp'), pad=noise, wire=what + ', ICMP')
        c.ipsec(sa, c.inner(sa, 40), pad=noise, expect='auth', mutate=V.flip_ah_icv,
                wire=what + ', a bit of the truncated ICV flipped')
        c.ipsec(sa, c.inner(sa, 40), pad=zero, expect='auth',
                mutate=_flip_at(12 + sa.icv_len),
                wire=what + ', a bit of the tail flipped after signing')
        if align_pad:
            c.ipsec(sa, c.inner(sa, 40), pad=noise, expect='auth',
                    mutate=_flip_at(12 + full),
                    wire=what + ', a bit of the padding flipped after signing')
        if sa.auth['xfrm'] in HASHLIB:
            c.ipsec(sa, c.inner(sa, 40), pad=zero, expect='auth', mutate=_whole_digest(sa),
                    wire=what + ', the whole digest over a zeroed field')
        c.ipsec(sa, c.inner(sa, 30), wire='AH %s IPv%d %s, the SA\'s truncated length' % (
            mode, fam, sa.auth['xfrm']))
    return c


def issue3_natt():
    cases = []
    c = Case('i3_natt', 'ESP in UDP 4500 (encap espinudp 4500 4500 0.0.0.0), tunnel '
             'IPv4 and IPv6, GCM and CBC; NAT keepalive and IKE on 4500 delivered '
             'unchanged', 'tunnel', 'IPv4')
    # each carries both inner families: af-unspec
    g4 = c.sa(mode='tunnel', family=4, enc='aes256gcm16', encap=(4500, 4500), af_unspec=True)
    b4 = c.sa(mode='tunnel', family=4, enc='aes128cbc', auth='sha256', encap=(4500, 4500),
              af_unspec=True)
    g6 = c.sa(mode='tunnel', family=6, enc='aes128gcm16', encap=(4500, 4500), af_unspec=True)
    for sa in (g4, b4, g6):
        c.ipsec(sa, c.inner(sa, 0))
        c.ipsec(sa, c.inner(sa, 100, family=10 - sa.family))
        c.ipsec(sa, c.inner(sa, 100), expect='auth', mutate=V.flip_last_byte)
    c.plain(udp_datagram(4, 4500, 4500, b'\xff'), 'non-IPsec: NAT keepalive (RFC 3948 2.3)')
    c.plain(udp_datagram(6, 4500, 4500, b'\xff'), 'non-IPsec: NAT keepalive v6')
    c.plain(udp_datagram(4, 4500, 4500, b'\x00' * 4 + ike_header()),
            'non-IPsec: IKE on UDP 4500 with the non-ESP marker')
    c.plain(udp_datagram(4, 500, 500, ike_header()), 'non-IPsec: IKE on UDP 500')
    c.ipsec(g4, c.inner(g4, 1400))
    c.ipsec(g4, c.inner(g4, 10), seq=1, expect='replay')
    _udp_length_lies(c, g4, g6)
    cases.append(c)
    cases.append(_natt_transport())
    cases.append(_natt_transport_coverage())
    cases.append(_natt_other_port())
    return cases + _with_variants(_natt_mismatch(), NATT_MISMATCH_VARIANTS) + \
        _with_variants(_natt_checksum(), NATT_MISMATCH_VARIANTS)


def _set_udp_len(delta=None, value=None, junk=b''):
    """A mutation of an ESP-in-UDP packet: its UDP length off by delta (or
    set to value), or junk appended behind the datagram inside the IP
    payload (the UDP length still right)."""
    def f(ipb):
        hl = V.ip_hdr_len(ipb)
        b = bytearray(V.fix_lengths(ipb + junk))
        ulen = len(ipb) - hl + (delta or 0) if value is None else value
        struct.pack_into('!H', b, hl + 4, ulen)
        return bytes(b)
    return f


def _udp_length_lies(c, g4, g6):
    """UDP input comes first (Linux's udp_rcv): a datagram longer than its IP
    payload, or shorter than a UDP header, is dropped before anyone reads
    it as ESP; bytes behind a shorter one are not part of it."""
    for sa in (g4, g6):
        for ulen_fix, what in (((4, None), 'UDP length 4 more than the IP payload'),
                               ((None, 7), 'UDP length 7')):
            frame = V.eth(_set_udp_len(*ulen_fix)(V.esp_protect(
                sa, c.inner(sa, 40), 60 + len(c.entries), c.iv_for(sa))))
            c.raw_frame(frame, V._exp(None, 'drop', 0, 'CRYPTO_SUCCESS', 'malformed',
                                      'ESP in UDP, IPv%d, %s' % (sa.family, what)))
        c.ipsec(sa, c.inner(sa, 40), mutate=_set_udp_len(junk=b'\xee' * 6),
                wire='ESP in UDP, IPv%d, 6 bytes behind the UDP datagram' % sa.family)
    c.ipsec(g4, c.inner(g4, 30))


def _natt_other_port():
    """An IKE daemon may take another NAT-T port (strongSwan's port_nat_t):
    its SAs say `encap espinudp 4501 4501`, and ESP arrives on 4501."""
    c = Case('i3_natt_port', 'ESP in UDP on port 4501 (encap espinudp 4501 4501): ESP '
             'processed, IKE and keepalives on 4501 and UDP on 4502 delivered unchanged',
             'tunnel', 'IPv4')
    g = c.sa(mode='tunnel', family=4, enc='aes128gcm16', encap=(4501, 4501))
    c.ipsec(g, c.inner(g, 100))
    c.ipsec(g, c.inner(g, 1000))
    c.ipsec(g, c.inner(g, 200), expect='auth', mutate=V.flip_last_byte)
    c.plain(udp_datagram(4, 4501, 4501, b'\xff'), 'non-IPsec: NAT keepalive on 4501')
    c.plain(udp_datagram(4, 4501, 4501, b'\x00' * 4 + ike_header()),
            'non-IPsec: IKE on UDP 4501 with the non-ESP marker')
    c.plain(udp_datagram(4, 4502, 4502, bytes(range(64))),
            'non-IPsec: UDP 4502, no SA listens there')
    c.ipsec(g, c.inner(g, 60))
    return c


def _natt_transport():
    """Transport-mode ESP in UDP from a peer behind a NAT: the peer computed
    its TCP/UDP checksum over its own address, the NAT rewrote the source
    in the IP header only. The receiver recomputes the checksum over the
    addresses received (RFC 3948 3.1.2 step 4); the reference is scapy's
    checksum of the delivered packet."""
    c = Case('i3_natt_transport', 'ESP in UDP, transport mode, sender behind a NAT (its '
             'address 10.9.0.5 rewritten to the SA source): TCP and UDP checksums recomputed '
             'over the received addresses (RFC 3948 3.1.2); UDP checksum zero and ICMP '
             'unchanged; the same without a NAT; IPv6 through a NAT66, ICMPv6 (whose '
             'checksum covers the pseudo-header) recomputed too', 'transport', 'IPv4')
    gcm = c.sa(mode='transport', family=4, enc='aes128gcm16', encap=(4500, 4500))
    cbc = c.sa(mode='transport', family=4, enc='aes128cbc', auth='sha256', encap=(4500, 4500))
    public, dst = OUTER[4]
    private = '10.9.0.5'

    def nat(ipb):
        b = bytearray(ipb)
        b[12:16] = bytes(int(x) for x in public.split('.'))
        b[10:12] = b'\0\0'
        b[10:12] = struct.pack('!H', _ones_complement(bytes(b[:V.ip_hdr_len(ipb)])))
        return bytes(b)

    def segment(ip, l4, k):
        body = Raw(bytes((k * 7 + i) & 0xff for i in range(40 + 13 * k)))
        if l4 == 'tcp':
            return ip / TCP(sport=40000 + k, dport=443, seq=1000 * k, flags='PA') / body
        if l4 == 'udp':
            return ip / UDP(sport=40000 + k, dport=1701) / body
        if l4 == 'udp0':
            return ip / UDP(sport=40000 + k, dport=1701, chksum=0) / body
        if l4 == 'icmp6':
            return ip / ICMPv6EchoRequest(id=k, seq=k, data=raw(body))
        return ip / ICMP(id=k, seq=k) / body

    def add(sa, ip, l4, nat, public, wire):
        """pkt sent through `nat` (None: no NAT); delivered with the
        received source and scapy's checksums for it."""
        pkt = V.freeze(segment(ip, l4, len(c.entries)))
        c.ipsec(sa, pkt, mutate=nat, wire=wire)
        want = pkt.copy()
        want.src = public
        if IP in want:
            del want[IP].chksum
        if l4 == 'tcp':
            del want[TCP].chksum
        elif l4 == 'udp':
            del want[UDP].chksum
        elif l4 == 'icmp6':
            del want[ICMPv6EchoRequest].cksum
        c.entries[-1][1]['out_hex'] = V.eth(raw(want)).hex()

    for sa in (gcm, cbc):
        for l4 in ('tcp', 'udp', 'udp0', 'icmp'):
            for natted in (True, False):
                ip = IP(src=private if natted else public, dst=dst, id=0x500 + len(c.entries),
                        flags='DF')
                add(sa, ip, l4, nat if natted else None, public, 'ESPUDP transport %s %s' %
                    (l4, 'behind a NAT' if natted else 'without a NAT'))

    # A UDP length that is not the IP payload's: bytes behind the datagram
    # are not summed (Linux's udp_rcv trims them before its check), and a
    # datagram longer than the payload, which udp_rcv drops, is left as it
    # came. The reference is udp_sum_of, over the datagram as long as its
    # UDP length says.
    for junk, ulen_delta in ((13, 0), (0, 9)):
        body = bytes(range(7, 47))
        udp = bytearray(raw(UDP(sport=40100, dport=1701, chksum=0) / Raw(body)))
        struct.pack_into('!H', udp, 4, len(udp) + ulen_delta)
        tail = bytes(range(200, 200 + junk))
        ipid = 0x580 + len(c.entries)

        def plain(src):
            ipb = raw(IP(src=src, dst=dst, id=ipid, flags='DF', proto=17) /
                      Raw(bytes(udp) + tail))
            return V.set_udp_sum(ipb, V.udp_sum_of(ipb) if ulen_delta == 0 else 0x1234)
        sent = plain(private)
        c.ipsec(gcm, IP(sent), mutate=nat, wire='ESPUDP transport udp behind a NAT, %s' % (
            '%d bytes behind the UDP length' % junk if junk else
            'UDP length %d bytes past the payload' % ulen_delta))
        want = plain(public) if ulen_delta == 0 else nat(sent)
        c.entries[-1][1]['out_hex'] = V.eth(want).hex()

    # IPv6 through a NAT66 (rare, but the pseudo-header holds the addresses
    # there too, ICMPv6's included: RFC 4443 2.3; Linux marks the whole
    # transport-mode NAT-T payload CHECKSUM_UNNECESSARY, so icmpv6_rcv takes
    # it); a UDP checksum of zero stays (RFC 6935)
    gcm6 = c.sa(mode='transport', family=6, enc='aes128gcm16', encap=(4500, 4500))
    public6, dst6 = OUTER[6]
    private6 = 'fd00:9::5'

    def nat6(ipb):
        # the NAT66 updates the outer UDP checksum it covers (the ESP's
        # inner TCP/UDP checksum it cannot reach)
        return V.resum_udp(ipb[:8] + socket.inet_pton(socket.AF_INET6, public6) + ipb[24:])

    for l4 in ('tcp', 'udp', 'udp0', 'icmp6'):
        for natted in (True, False):
            ip = IPv6(src=private6 if natted else public6, dst=dst6)
            add(gcm6, ip, l4, nat6 if natted else None, public6, 'ESPUDP transport IPv6 %s %s' %
                (l4, 'behind a NAT66' if natted else 'without a NAT'))
    return c



# UDP-Lite (RFC 3828) and DCCP (RFC 4340) sum the pseudo-header too, but only
# over a coverage; scapy has neither protocol, so their headers are packed
# here and their checksums are scapy's pseudo-header checksum over the
# segment with the bytes past the coverage read as zeros (which add nothing
# to a one's complement sum; the pseudo-header keeps the whole length).
UDPLITE, DCCP = 136, 33


def _cov_cksum(family, src, dst, proto, seg, cov):
    """seg's checksum (bytes 6-7) over src/dst's pseudo-header, its first
    cov bytes summed (RFC 3828 3.1, RFC 4340 9.1)."""
    body = seg[:6] + b'\0\0' + seg[8:cov] + bytes(len(seg) - max(cov, 8))
    if family == 4:
        return in4_chksum(proto, IP(src=src, dst=dst), body)
    return in6_chksum(proto, (IPv6(src=src, dst=dst) / Raw(body))[Raw], body)


def _udplite(k, cov, n):
    """A UDP-Lite header (checksum coverage cov; checksum 0 for now) and n
    bytes of data."""
    data = bytes((k * 11 + i) & 0xff for i in range(n))
    return struct.pack('!HHHH', 41000 + k, 5004, cov, 0) + data


def _dccp(k, cscov, n, doff=4):
    """A DCCP-Data header with 48-bit sequence numbers (X=1, 16 bytes, data
    offset doff words), CsCov cscov, then n bytes of data."""
    data = bytes((k * 13 + i) & 0xff for i in range(n))
    return struct.pack('!HHBBHBB', 42000 + k, 5001, doff, 0x10 | cscov, 0, 2 << 1 | 1, 0) + \
        struct.pack('!Q', 0x1000 + k)[2:] + data


def _dccp_cov(seg):
    """The DCCP coverage (RFC 4340 9.2): CsCov 0 the packet, else the header
    (data offset words) and (CsCov - 1) words of data."""
    cscov = seg[5] & 0xf
    return len(seg) if cscov == 0 else (seg[4] + cscov - 1) * 4


def _with_sum(seg, ck):
    return seg[:6] + struct.pack('!H', ck) + seg[8:]


def _natt_transport_coverage():
    """Transport-mode ESP in UDP from behind a NAT (and a NAT66) carrying
    UDP-Lite and DCCP, whose checksums cover the pseudo-header but only the
    first bytes their coverage says: recomputed over the received addresses
    and that coverage (RFC 3948 3.1.2 step 4, as for TCP and UDP). A
    coverage a receiver must refuse (UDP-Lite 1..7 or past the datagram,
    DCCP past the packet or a data offset out of it) or a zero UDP-Lite
    checksum is delivered as received, for the host to refuse."""
    c = Case('i3_natt_transport_cov', 'ESP in UDP, transport mode, IPv4 through a NAT and '
             'IPv6 through a NAT66: UDP-Lite and DCCP checksums recomputed over the received '
             'addresses and their checksum coverage (whole, header only, partial, odd); a '
             'computed UDP-Lite zero sent as 0xffff; invalid coverages, data offsets and a '
             'zero UDP-Lite checksum delivered as received; without a NAT unchanged',
             'transport', 'IPv4')
    private = {4: '10.9.0.5', 6: 'fd00:9::5'}
    sas = {4: c.sa(mode='transport', family=4, enc='aes128gcm16', encap=(4500, 4500)),
           6: c.sa(mode='transport', family=6, enc='aes256cbc', auth='sha256',
                   encap=(4500, 4500))}

    def nat(family, public):
        def f(ipb):
            if family == 4:
                b = bytearray(ipb)
                b[12:16] = socket.inet_pton(socket.AF_INET, public)
                b[10:12] = b'\0\0'
                b[10:12] = struct.pack('!H', _ones_complement(bytes(b[:V.ip_hdr_len(ipb)])))
                return bytes(b)
            # the NAT66 updates the outer UDP checksum, not the ESP's payload
            return V.resum_udp(ipb[:8] + socket.inet_pton(socket.AF_INET6, public) + ipb[24:])
        return f

    def add(family, proto, seg, cov, fixed, natted=True, what='', zero=False):
        """seg sent with its sender's checksum over its own (private) source
        and cov, through the NAT; delivered with the sum over the received
        source when fixed, else as sent. zero: sent with checksum 0."""
        sa = sas[family]
        public, dst = OUTER[family]
        src = private[family] if natted else public
        ck = 0 if zero else _cov_cksum(family, src, dst, proto, seg, min(cov, len(seg)))
        if proto == UDPLITE and ck == 0 and not zero:
            ck = 0xffff
        sent = _with_sum(seg, ck)
        ipid = 0x600 + len(c.entries)
        if family == 4:
            pkt = IP(src=src, dst=dst, id=ipid, flags='DF', proto=proto) / Raw(sent)
        else:
            pkt = IPv6(src=src, dst=dst, nh=proto) / Raw(sent)
        pkt = V.freeze(pkt)
        c.ipsec(sa, pkt, mutate=nat(family, public) if natted else None,
                wire='ESPUDP transport IPv%d %s %s, %s' % (
                    family, 'UDP-Lite' if proto == UDPLITE else 'DCCP', what,
                    'behind a NAT' if natted else 'without a NAT'))
        out = sent
        if fixed:
            ck = _cov_cksum(family, public, dst, proto, seg, cov)
            if proto == UDPLITE and ck == 0:
                ck = 0xffff     # RFC 3828 3.1: a computed zero goes as ones
            out = _with_sum(seg, ck)
        if family == 4:
            want = IP(src=public, dst=dst, id=ipid, flags='DF', proto=proto) / Raw(out)
        else:
            want = IPv6(src=public, dst=dst, nh=proto) / Raw(out)
        c.entries[-1][1]['out_hex'] = V.eth(raw(want)).hex()

    for fam in (4, 6):
        k = len(c.entries)
        for cov, n, what in ((0, 50, 'coverage 0 (whole)'), (8, 50, 'coverage 8 (header)'),
                             (21, 50, 'coverage 21 (odd)'), (58, 50, 'coverage 58 (exact)')):
            add(fam, UDPLITE, _udplite(k, cov, n), cov or 8 + n, True, what=what)
        add(fam, UDPLITE, _udplite(k, 12, 30), 12, True, natted=False, what='coverage 12')
        for cov, what in ((5, 'coverage 5 (1..7: invalid)'),
                          (59, 'coverage 59 past the 58-byte datagram')):
            add(fam, UDPLITE, _udplite(k, cov, 50), 58, False, what=what)
        add(fam, UDPLITE, _udplite(k, 0, 50), 58, False, zero=True, what='checksum 0 (illegal)')
        # a data word making the sum over the received source come out zero
        public, dst = OUTER[fam]
        seg = _udplite(k + 1, 0, 30)
        seg = seg[:8] + b'\0\0' + seg[10:]
        w = _cov_cksum(fam, public, dst, UDPLITE, seg, len(seg))
        seg = seg[:8] + struct.pack('!H', w) + seg[10:]
        assert _cov_cksum(fam, public, dst, UDPLITE, seg, len(seg)) in (0, 0xffff)
        add(fam, UDPLITE, seg, len(seg), True, what='computed sum 0')
        for cscov, n, what in ((0, 40, 'CsCov 0 (whole)'), (1, 40, 'CsCov 1 (header)'),
                               (3, 40, 'CsCov 3 (header + 8)'),
                               (10, 36, 'CsCov 10 (header + 36: the whole packet)'),
                               (0, 21, 'CsCov 0, odd length')):
            seg = _dccp(k, cscov, n)
            add(fam, DCCP, seg, _dccp_cov(seg), True, what=what)
        seg = _dccp(k, 0, 24)
        add(fam, DCCP, seg, len(seg), True, natted=False, what='CsCov 0')
        seg = _dccp(k, 15, 20)
        add(fam, DCCP, seg, len(seg), False, what='CsCov 15 past the packet')
        for doff, what in ((2, 'data offset 2 (< 12 bytes)'), (60, 'data offset 60 (past it)')):
            add(fam, DCCP, _dccp(k, 0, 20, doff=doff), 36, False, what=what)
    return c

def _ones_complement(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


# A packet must come the way its SA says: Linux's xfrm_input drops it right
# after the SA lookup, before the replay check and the ICV, when its
# encapsulation is not the SA's ((x->encap ? x->encap->encap_type : 0) !=
# encap_type: XfrmInStateMismatch), on every layer. rxsec: invalid_protocol.
# The software path decides the same (--no-offload, UDP-ESP under
# --no-offload-udp-esp, CBC under --offload-algs GCM): crypto_done 0 (or
# next_crypto_done 0 for an inner layer), the reason says it.
NATT_MISMATCH_VARIANTS = [
    ('off', ['--no-offload'], lambda sa, f: True),
    ('no_udp', ['--no-offload-udp-esp'], lambda sa, f: 'udp_esp' in f),
    # outer GCM tunnels offloaded, their inner CBC layer in software
    ('gcm_only', ['--offload-algs', 'rfc4106(gcm(aes))'],
     lambda sa, f: sa.enc_id is None or V.ENC[sa.enc_id]['xfrm'] != 'rfc4106(gcm(aes))'),
]


def _then(*mutations):
    """The mutations (None: none) applied left to right."""
    def f(ipb):
        for m in mutations:
            ipb = m(ipb) if m else ipb
        return ipb
    return f


def _note(c, text):
    """Append text to the last frame's wire description."""
    c.entries[-1][1]['wire'] += text


def _as_sa_says(c, sa, n=40, seq=None, note=''):
    """sa's packet as its peer sends it: in UDP for an SA with encap (its UDP
    length the datagram's, V.udp_len), bare ESP for one without."""
    c.ipsec(sa, c.inner(sa, n), seq=seq, mutate=V.udp_len if sa.encap else None)
    _note(c, note)


def _rewrap(sa, port=4500):
    """The mutation sending sa's packet, protected by scapy, the other way
    (bare ESP for an SA with encap, in UDP to port for one without), and
    the wire text for sequence number seq."""
    how = 'bare for an SA with encap espinudp' if sa.encap else \
        'in UDP %d for an SA without encap' % port
    return (V.strip_udp if sa.encap else V.in_udp(port, port),
            lambda seq: '%s spi=0x%08x seq=0x%x %s IPv%d, %s' % (
                'ESP' if sa.encap else 'ESPUDP', sa.spi, seq, sa.mode, sa.family, how))


def _other_way(c, sa, n=40, seq=None, forge=None, port=4500, note=''):
    """sa's packet the other way (_rewrap), forge mutating it first:
    invalid_protocol. -> its sequence number."""
    seq = sa.next_seq if seq is None else seq
    wrap, wire = _rewrap(sa, port)
    c.ipsec(sa, c.inner(sa, n), seq=seq, expect='invalid_protocol', mutate=_then(forge, wrap),
            wire=wire(seq) + note)
    return seq


AGAIN = ', its sequence number again as its SA says: the window did not move'


def _natt_mismatch():
    c = Case('i3_natt_mismatch', 'ESP not encapsulated as its SA says (bare for encap '
             'espinudp, in UDP 4500 or 4501 without it), tunnel and transport, IPv4 and '
             'IPv6: invalid_protocol before the replay check and the ICV, the sequence '
             'number then delivered as the SA says; nested (either layer); fragmented',
             'tunnel', 'IPv4')
    # first: its encap port makes 4501 a NAT-T port for every frame
    u4p = c.sa(mode='tunnel', family=4, enc='aes128gcm16', encap=(4501, 4501))
    u4 = c.sa(mode='tunnel', family=4, enc='aes256gcm16', encap=(4500, 4500))
    ut4 = c.sa(mode='transport', family=4, enc='aes128cbc', auth='sha256', encap=(4500, 4500))
    u6 = c.sa(mode='tunnel', family=6, enc='aes128gcm16', encap=(4500, 4500))
    ut6 = c.sa(mode='transport', family=6, enc='aes256cbc', auth='sha1', encap=(4500, 4500))
    p4 = c.sa(mode='tunnel', family=4, enc='aes128cbc', auth='sha1')
    pt4 = c.sa(mode='transport', family=4, enc='aes128gcm16')
    p6 = c.sa(mode='tunnel', family=6, enc='aes256cbc', auth='sha256')
    pt6 = c.sa(mode='transport', family=6, enc='aes256gcm16')
    for sa in (u4, ut4, u6, ut6, p4, pt4, p6, pt6):
        _as_sa_says(c, sa)
        _as_sa_says(c, sa, seq=_other_way(c, sa), note=AGAIN)
    # before the replay check: a sequence number already seen, and zero
    _other_way(c, u4, seq=1, note=', seq 1 seen: not replay')
    _other_way(c, p4, seq=1, note=', seq 1 seen: not replay')
    _other_way(c, pt4, seq=0, note=', seq 0: not seq_zero')
    # before the ICV: forged too, still invalid_protocol
    for sa in (u4, ut6, p4, pt6):
        seq = _other_way(c, sa, forge=V.flip_last_byte, note=', ICV flipped: not an auth failure')
        _as_sa_says(c, sa, seq=seq, note=AGAIN)
    # 4501 is a NAT-T port: ESP in UDP there too. Only the form counts, not
    # the port (Linux compares encapsulation types): u4's packet on 4501 passes.
    _as_sa_says(c, u4p)
    _other_way(c, p4, port=4501)
    c.ipsec(u4, c.inner(u4, 40), mutate=_then(V.strip_udp, V.in_udp(4501, 4501)))
    _note(c, ', in UDP 4501 for an SA with encap espinudp 4500 4500')
    _natt_mismatch_nested(c, ((4, p4, u4), (6, p6, u6)))
    _natt_mismatch_fragments(c, p4, u6)
    _as_sa_says(c, u4)
    return c


def _natt_mismatch_nested(c, tunnels):
    """Nested (spec rule 5): each layer is checked as it comes, an inner one
    in UDP as well as a bare one. For each
    (family, tunnel SA without encap, tunnel SA with encap), inner SAs
    with and without encap between the inner addresses."""
    for fam, tun, utun in tunnels:
        iu = _inner_sa(c, fam, enc='aes128cbc', auth='sha256', encap=(4500, 4500))
        ip = _inner_sa(c, fam, enc='aes128gcm16')
        c.nested(tun, ip, _inner_pkt(c, fam, 40))
        oseq, iseq = tun.next_seq, iu.next_seq
        c.nested(tun, iu, _inner_pkt(c, fam, 40), expect='inner_protocol', imutate=V.strip_udp)
        _note(c, ', inner bare for an SA with encap espinudp')
        # neither window moved: the outer sequence number with a good inner
        # packet, the inner one in UDP on its own
        c.nested(tun, ip, _inner_pkt(c, fam, 40), oseq=oseq)
        _note(c, ', the outer sequence number again')
        src, dst = INNER[fam]
        c.ipsec(iu, V.freeze(V.udp_packet(fam, src, dst, 40, 'inner alone')), seq=iseq,
                mutate=V.udp_len)
        _note(c, ', the inner SA alone, its sequence number again')
        c.nested(tun, iu, _inner_pkt(c, fam, 40), expect='inner_protocol',
                 imutate=_then(V.flip_last_byte, V.strip_udp))
        _note(c, ', inner bare for an SA with encap, its ICV flipped')
        # the outer layer the other way: the inner one is never looked at
        c.nested(tun, ip, _inner_pkt(c, fam, 40), expect='outer_protocol', omutate=V.in_udp())
        _note(c, ', outer in UDP for an SA without encap')
        c.nested(utun, iu, _inner_pkt(c, fam, 40), expect='inner_protocol',
                 imutate=V.strip_udp, omutate=V.udp_len)
        _note(c, ', outer in UDP as its SA says, inner bare for an SA with encap')
        c.nested(utun, ip, _inner_pkt(c, fam, 40), omutate=V.udp_len)
        _note(c, ', outer in UDP as its SA says')
        # as the SAs say: the inner ESP in UDP is a second layer too
        c.nested(tun, iu, _inner_pkt(c, fam, 40))
        _note(c, ', inner in UDP as its SA says')
        c.nested(utun, iu, _inner_pkt(c, fam, 40), omutate=V.udp_len)
        _note(c, ', both layers in UDP as their SAs say')


def _natt_mismatch_fragments(c, plain, udp):
    """Fragmented datagrams the other way: reassembled first, then checked
    on the software path. plain: an SA without encap, udp: one with."""
    for sa, size, ipid in ((plain, 576, 0x4a1), (udp, 800, 0x4a3)):
        seq = sa.next_seq
        wrap, wire = _rewrap(sa)
        c.fragmented(sa, c.inner(sa, 1400), size, expect='invalid_protocol', mutate=wrap,
                     ipid=ipid, wire=wire(seq))
        c.fragmented(sa, c.inner(sa, 1400), size, seq=seq, ipid=ipid + 1,
                     mutate=V.udp_len if sa.encap else None,
                     wire='%s spi=0x%08x seq=0x%x %s%s' % (
                         'ESPUDP' if sa.encap else 'ESP', sa.spi, seq, sa.mode, AGAIN))


# UDP input verifies the checksum of ESP in UDP before the encap hook
# (Linux's udp_queue_rcv_one_skb: "Verify checksum before giving to
# encap"): a non-zero sum must be right; zero is none over IPv4 (Linux
# sends 0) and refused over IPv6 (__udp6_lib_rcv; Linux's esp6 always sums).
# A refused datagram is malformed before any SA lookup (no SPI read,
# crypto_done 0): neither the window nor the ICV is looked at, so the same
# sequence number sent right is delivered. Only ESP is summed: keepalives,
# IKE (the non-ESP marker) and payloads no longer than an ESP header go to
# the host as they came. Fragmented: the first fragment is not summed, the
# reassembled datagram is (the software path). The software path sums too
# (NATT_MISMATCH_VARIANTS).

CSUM_AGAIN = ', the same sequence number with a right UDP checksum: the window did not move'


def _csum_then_right(c, sa, bad, what, n=40, again=True):
    """sa's packet with the mutation bad (a wrong UDP checksum):
    malformed; then (again) its sequence number with a right sum (IPv4: a
    non-zero one), delivered."""
    seq = sa.next_seq
    c.ipsec(sa, c.inner(sa, n), seq=seq, expect='udp_checksum', mutate=bad)
    _note(c, ', ' + what)
    if again:
        c.ipsec(sa, c.inner(sa, n), seq=seq, mutate=V.udp_sum('right'))
        _note(c, CSUM_AGAIN)


def _sum_zero(ipb):
    """The source port (a NAT's choice: the ICV does not cover it, the SA
    does not name it) set so that the datagram sums to 0, which UDP sends
    as 0xffff (RFC 768). With the port 0, the sum s over the rest; the port
    s then makes the total all ones."""
    at = V.udp_at(ipb)
    b = bytearray(ipb)
    b[at:at + 2] = b'\0\0'
    struct.pack_into('!H', b, at, V.udp_sum_of(bytes(b), at))
    assert V.udp_sum_of(bytes(b), at) == 0xffff
    return V.set_udp_sum(bytes(b), 0xffff, at)


def _sum_zero_frame(c, sa, expect='ok', zero=False):
    """A datagram whose sum is 0, sent as 0xffff (zero: sent with 0, which
    says none). The port must look like a NAT's (1024 and up, not a NAT-T
    port): the packet is protected again, another IV, until it does."""
    seq, n = sa.next_seq, len(c.entries)
    for _ in range(32):
        c.ipsec(sa, c.inner(sa, 60), seq=seq, expect=expect,
                mutate=_then(_sum_zero, V.udp_sum('zero') if zero else None))
        ipb = c.entries[-1][0][14:]
        sport = struct.unpack('!H', ipb[V.udp_at(ipb):][:2])[0]
        if sport >= 1024 and sport not in c.natt_ports():
            _note(c, ', sums to 0, sent %s (source port %d)' %
                  ('with 0' if zero else 'as 0xffff', sport))
            return
        del c.entries[n:], c.info[n:]
    raise AssertionError('no NAT-like source port for a zero sum')


def _with_junk_summed(ipb):
    """The checksum computed as if the datagram ran to the end of the IP
    payload (the bytes behind it and that length summed): wrong for the
    datagram its UDP length says."""
    at = V.udp_at(ipb)
    whole = bytearray(ipb)
    struct.pack_into('!H', whole, at + 4, len(ipb) - at)
    return V.set_udp_sum(ipb, V.udp_sum_of(bytes(whole), at), at)


def _natt_checksum():
    c = Case('i3_natt_csum', 'UDP checksums of ESP in UDP, tunnel and transport, IPv4 and '
             'IPv6, ports 4500 and 4501: right sums (and IPv4 zero) delivered; wrong ones, IPv6 '
             'zero, sums over another pseudo-header or over bytes behind the datagram '
             'malformed before the replay check and the ICV, the sequence number then '
             'delivered; a sum of 0 sent as 0xffff; fragmented datagrams summed once '
             'reassembled; keepalives and IKE with wrong sums passed on', 'tunnel', 'IPv4')
    # first: its encap port makes 4501 a NAT-T port for every frame
    p4 = c.sa(mode='tunnel', family=4, enc='aes128gcm16', encap=(4501, 4501))
    t4 = c.sa(mode='tunnel', family=4, enc='aes256gcm16', encap=(4500, 4500))
    r4 = c.sa(mode='transport', family=4, enc='aes128cbc', auth='sha256', encap=(4500, 4500))
    t6 = c.sa(mode='tunnel', family=6, enc='aes128gcm16', encap=(4500, 4500))
    r6 = c.sa(mode='transport', family=6, enc='aes256cbc', auth='sha1', encap=(4500, 4500))
    v4, v6 = (p4, t4, r4), (t6, r6)
    # right sums: IPv4 zero (none) and summed, IPv6 summed (as generated)
    for sa in v4:
        c.ipsec(sa, c.inner(sa, 40))
        _note(c, ', UDP checksum 0')
        c.ipsec(sa, c.inner(sa, 40), mutate=V.udp_sum('right'))
        _note(c, ', UDP checksum right')
    for sa in v6:
        c.ipsec(sa, c.inner(sa, 40))
        _note(c, ', UDP checksum right')
    # wrong: malformed, the window untouched
    for sa in v4 + v6:
        _csum_then_right(c, sa, V.udp_sum('wrong'), 'UDP checksum wrong')
    for sa in v6:
        _csum_then_right(c, sa, V.udp_sum('zero'), 'UDP checksum 0 over IPv6')
    # before the ICV: forged and summed wrong (IPv4 forged with a right sum
    # is an ICV failure, as ever)
    for sa in (t4, r6):
        _csum_then_right(c, sa, _then(V.flip_last_byte, V.udp_sum('wrong')),
                         'ICV flipped, UDP checksum wrong: not an auth failure')
    c.ipsec(t4, c.inner(t4, 40), expect='auth', mutate=_then(V.udp_sum('right'),
                                                             V.flip_last_byte))
    _note(c, ', ICV flipped, UDP checksum right for it')
    # before the replay check: a number seen, and zero
    for sa in (t4, t6):
        c.ipsec(sa, c.inner(sa, 40), seq=1, expect='udp_checksum', mutate=V.udp_sum('wrong'))
        _note(c, ', seq 1 seen, UDP checksum wrong: not replay')
    c.ipsec(r4, c.inner(r4, 40), seq=0, expect='udp_checksum', mutate=V.udp_sum('wrong'))
    _note(c, ', seq 0, UDP checksum wrong: not seq_zero')
    # the pseudo-header counts: right for another destination, source (a
    # NAT that did not fix the sum), or UDP length
    for sa in (t4, t6, r4):
        fam = sa.family
        _csum_then_right(c, sa, V.udp_sum('other', dst=OTHER_DST[fam]),
                         'UDP checksum right for destination %s' % OTHER_DST[fam], again=False)
        private = '10.9.0.5' if fam == 4 else 'fd00:9::5'
        _csum_then_right(c, sa, V.udp_sum('other', src=private),
                         'UDP checksum right for source %s' % private, again=False)
        _csum_then_right(c, sa, V.udp_sum('other', ulen_delta=8),
                         'UDP checksum right for a pseudo-header length 8 more')
    # 0 sent as 0xffff; the same sum sent as 0: none over IPv4, refused over IPv6
    for sa in (t4, t6, r6):
        _sum_zero_frame(c, sa)
    _sum_zero_frame(c, t4, zero=True)
    _sum_zero_frame(c, t6, expect='udp_checksum', zero=True)
    # bytes behind a shorter datagram: not summed; summed, malformed
    junk = _set_udp_len(junk=b'\xee' * 6)
    for sa in (t4, t6):
        c.ipsec(sa, c.inner(sa, 40), mutate=_then(V.udp_sum('right'), junk))
        _note(c, ', 6 bytes behind the UDP datagram, UDP checksum over the datagram')
        _csum_then_right(c, sa, _then(junk, _with_junk_summed),
                         '6 bytes behind the UDP datagram, UDP checksum over them too')
    # fragmented: the reassembled datagram is summed. Its first fragment
    # (the UDP header) comes first; a transport-mode IPv4 datagram is sent
    # without DF, its fragments keep its identification (the delivered
    # header is the reassembled one)
    ipids = iter(range(0xc50, 0xcff))

    def frag(sa, how, expect='ok', seq=None, order=None, note=None):
        if sa.mode == 'transport' and sa.family == 4:
            pkt, ipid = _no_df(c.inner(sa, 1400)), None
        else:
            pkt, ipid = c.inner(sa, 1400), next(ipids)
        seq = sa.next_seq if seq is None else seq
        wire = 'ESPUDP spi=0x%08x seq=0x%x %s IPv%d, %s' % (
            sa.spi, seq, sa.mode, sa.family, note or 'UDP checksum %s' % (
                '0' if how == 'zero' else how))
        c.fragmented(sa, pkt, 576, seq=seq, expect=expect, mutate=V.udp_sum(how),
                     order=order, ipid=ipid, wire=wire)
    for sa, how in ((t4, 'right'), (t4, 'zero'), (r4, 'right'), (t6, 'right'), (r6, 'right')):
        frag(sa, how)
    frag(t4, 'right', order=[0, 2, 1])
    for sa, how in ((t4, 'wrong'), (r4, 'wrong'), (t6, 'wrong'), (t6, 'zero'), (r6, 'wrong')):
        seq = sa.next_seq
        frag(sa, how, expect='udp_checksum', seq=seq)
        frag(sa, 'right', seq=seq, note=CSUM_AGAIN[2:])
    frag(t6, 'wrong', expect='udp_checksum', order=[0, 2, 1])
    # not ESP: passed on as it came, whatever its sum
    for fam in (4, 6):
        for how, what in (('wrong', 'wrong'), ('zero', '0')):
            c.plain(V.udp_sum(how)(udp_datagram(fam, 4500, 4500, b'\xff')),
                    'non-IPsec: NAT keepalive v%d, UDP checksum %s' % (fam, what))
            c.plain(V.udp_sum(how)(udp_datagram(fam, 4500, 4500, b'\x00' * 4 + ike_header())),
                    'non-IPsec: IKE v%d on UDP 4500 (non-ESP marker), UDP checksum %s' %
                    (fam, what))
            c.plain(V.udp_sum(how)(udp_datagram(fam, 4500, 4500, bytes(range(1, 9)))),
                    'non-IPsec: 8 bytes on UDP 4500 v%d (no longer than an ESP header), '
                    'UDP checksum %s' % (fam, what))
    c.plain(V.udp_sum('wrong')(udp_datagram(4, 4501, 4501, b'\x00' * 4 + ike_header())),
            'non-IPsec: IKE on UDP 4501 (non-ESP marker), UDP checksum wrong')
    for fam in (4, 6):
        c.plain(V.udp_sum('wrong')(udp_datagram(fam, 4502, 4502, bytes(range(1, 65)))),
                'non-IPsec: UDP 4502 v%d (no SA listens there), UDP checksum wrong' % fam)
    for sa in v4 + v6:
        c.ipsec(sa, c.inner(sa, 20))
    return c


def issue3_malformed():
    cases = []
    c = Case('i3_malformed', 'syntax errors after a successful SA lookup: '
             'CRYPTO_INVALID_PACKET_SYNTAX (spec section 2), crypto_done 1')
    gcm = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    cbc = c.sa(mode='tunnel', family=4, enc='aes128cbc', auth='sha1')
    tcbc = c.sa(mode='transport', family=6, enc='aes256cbc', auth='sha256')
    c.ipsec(gcm, c.inner(gcm, 10))
    # ESP header complete but IV/ICV missing
    c.ipsec(gcm, c.inner(gcm, 10), expect='invalid_packet_syntax', mutate=V.keep_ipsec(12),
            wire='ESP truncated inside the IV')
    c.ipsec(gcm, c.inner(gcm, 10), expect='invalid_packet_syntax', mutate=V.keep_ipsec(8 + 8 + 10),
            wire='ESP IV + 10 bytes: shorter than the ICV')
    c.ipsec(cbc, c.inner(cbc, 10), expect='invalid_packet_syntax', mutate=V.keep_ipsec(8 + 16 + 4),
            wire='ESP CBC IV + 4 bytes')
    # CBC ciphertext not a multiple of the block: 4 bytes cut from the
    # ciphertext's end, ICV kept in place (so only the length is wrong)

    def cbc_cut(ipb, icv=12):
        return V.fix_lengths(ipb[:len(ipb) - icv - 4] + ipb[len(ipb) - icv:])
    c.ipsec(cbc, c.inner(cbc, 40), expect='invalid_packet_syntax', mutate=cbc_cut,
            wire='ESP CBC ciphertext not a block multiple')
    c.ipsec(tcbc, c.inner(tcbc, 40), expect='invalid_packet_syntax',
            mutate=lambda b: cbc_cut(b, 16), wire='ESP CBC transport v6 ciphertext not a block multiple')
    c.ipsec(cbc, c.inner(cbc, 10))
    # Valid ICV over bad padding (crafted plaintext, encrypted by scapy's
    # CryptAlgo): pad bytes not 1,2,3,...
    inner = c.inner(cbc, 10)
    body = raw(inner)      # 38 bytes: +2 = 40, pad 8 to 48
    c.ipsec(cbc, inner, expect='invalid_packet_syntax', padding=(b'\x01\x02\x03\x04\x05\x06\x07\x09', 8),
            wire='ESP CBC pad bytes not monotonic')
    c.ipsec(cbc, inner, expect='invalid_packet_syntax', padding=(b'\x00' * 8, 8),
            wire='ESP CBC pad bytes zero')
    # pad length larger than the plaintext
    c.ipsec(cbc, inner, expect='invalid_packet_syntax', data=b'',
            padding=(bytes(range(1, 15)), 200), wire='ESP CBC pad length 200 > payload')
    c.ipsec(gcm, c.inner(gcm, 10), expect='invalid_packet_syntax', data=b'\x45' * 2,
            padding=(b'', 250), wire='ESP GCM pad length 250 > payload')
    # the same on transport v6
    tin = c.inner(tcbc, 20)
    c.ipsec(tcbc, tin, expect='invalid_packet_syntax', padding=(bytes(range(1, 18)) + b'\x20', 18),
            wire='ESP CBC transport v6 pad bytes wrong')
    c.ipsec(tcbc, c.inner(tcbc, 20))
    c.ipsec(gcm, c.inner(gcm, 10))
    assert len(body) == 38
    # AES-CCM (RFC 4309), its 8-byte ICV: lengths and a valid ICV over bad
    # padding, made by scapy's AES-CCM at the SA's ICV length
    ccm = c.sa(mode='tunnel', family=4, enc='aes128ccm8')
    c.ipsec(ccm, c.inner(ccm, 10))
    c.ipsec(ccm, c.inner(ccm, 10), expect='invalid_packet_syntax', mutate=V.keep_ipsec(8 + 8 + 6),
            wire='ESP CCM IV + 6 bytes: shorter than the ICV')
    c.ipsec(ccm, c.inner(ccm, 10), expect='invalid_packet_syntax', data=b'\x45' * 2,
            padding=(b'', 250), wire='ESP CCM pad length 250 > payload')
    c.ipsec(ccm, c.inner(ccm, 10), expect='invalid_packet_syntax', data=b'\x45' * 4,
            padding=(b'\x01\x03', 2), wire='ESP CCM pad bytes 1, 3')
    c.ipsec(ccm, c.inner(ccm, 10))
    cases.append(c)

    # A truncated ESP header. Our reading (to confirm with the spec owner):
    # with the SPI readable the lookup can run, so the SA's engine reports
    # CRYPTO_INVALID_PACKET_SYNTAX (spec section 2 lists "truncated
    # header"); with fewer than 4 bytes there is no SPI to look up, the
    # packet is not processable IPsec: crypto_done 0, dropped `malformed`.
    c = Case('i3_trunc_header', 'ESP header shorter than 8 bytes: with the SPI '
             '(invalid_packet_syntax) and without it (malformed)', 'tunnel', 'IPv4')
    gcm = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    c.ipsec(gcm, c.inner(gcm, 10))
    c.ipsec(gcm, c.inner(gcm, 10), expect='invalid_packet_syntax', mutate=V.keep_ipsec(6),
            wire='ESP header cut to 6 bytes (SPI + half the sequence number)')
    frame = V.eth(V.keep_ipsec(2)(V.esp_protect(gcm, c.inner(gcm, 10), 50, b'\x11' * 8)))
    c.raw_frame(frame, V._exp(None, 'drop', 0, 'CRYPTO_SUCCESS', 'malformed',
                              'ESP header cut to 2 bytes (no SPI)'))
    c.ipsec(gcm, c.inner(gcm, 10))
    cases.append(c)

    c = Case('i3_protocol', 'TFC dummy (next header 59: crypto_done 1, drop '
             'tfc_dummy), tunnel SA carrying a non-IP next header (invalid_protocol), '
             'ESP sent to an AH SA\'s SPI (lookup includes the protocol: no_sa)')
    tun = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    tra = c.sa(mode='transport', family=6, enc='aes128cbc', auth='sha256')
    ah = c.sa(proto='ah', mode='transport', family=4, auth='sha1')
    c.ipsec(tun, c.inner(tun, 10))
    c.ipsec(tun, c.inner(tun, 10), nh=59, data=b'', expect='tfc_dummy', wire='ESP TFC dummy nh 59')
    c.ipsec(tun, c.inner(tun, 10), nh=59, data=b'\x00' * 32, expect='tfc_dummy',
            wire='ESP TFC dummy nh 59 with 32 bytes of junk')
    c.ipsec(tra, c.inner(tra, 10), nh=59, data=b'', expect='tfc_dummy', wire='ESP transport TFC dummy')
    c.ipsec(tun, c.inner(tun, 10), nh=17, data=raw(UDP(sport=1, dport=2) / Raw(b'x' * 8)),
            expect='invalid_protocol', wire='ESP tunnel SA, next header 17 (not IP in IP)')
    # ESP packet carrying an AH SA's SPI: (SPI, dst, ESP) has no SA
    fake = Sa(c.rng, spi=ah.spi, mode='transport', family=4, enc='aes128gcm16')
    c.ipsec(fake, c.inner(ah, 10), expect='no_sa', wire='ESP with the SPI of an AH SA')
    c.ipsec(ah, c.inner(ah, 10))
    c.ipsec(tun, c.inner(tun, 10))
    cases.append(c)

    # An IP fragment of an ESP packet is outside the capabilities (spec
    # section 3, rule 4): indicated unprocessed, and the transport takes it
    # into reassembly. Lone fragments whose datagram never completes stay
    # held (verdict "held"), are discarded at exit and counted; the SA's
    # next packet is unaffected. Whole datagrams: the reassembly family.
    c = Case('i3_fragment', 'lone IPv4 fragments (MF set, or a fragment offset) of ESP '
             'packets: crypto_done 0, held for reassembly that never completes', 'tunnel', 'IPv4')
    fsa = c.sa(mode='tunnel', family=4, enc='aes128gcm16')

    def frag(mf, offset):
        def f(ipb):
            b = bytearray(ipb)
            b[6] = (b[6] & 0x40) | (0x20 if mf else 0) | (offset >> 8)
            b[7] = offset & 0xff
            return V.fix_lengths(bytes(b))
        return f
    for mf, off, what in ((1, 0, 'first fragment (MF)'), (0, 185, 'last fragment (offset 1480)')):
        c.ipsec(fsa, c.inner(fsa, 10), mutate=frag(mf, off), wire='ESP in an IPv4 %s' % what)
        frame, e = c.entries[-1]
        c.entries[-1] = (frame, _as_fragment(e, 'held', 'reassembly'))
    c.ipsec(fsa, c.inner(fsa, 10))
    cases.append(c)
    return cases


def esn_cases():
    """Hook for the ESN issue: flag esn SAs, sequence numbers crossing 2^32.
    Sa(esn=True) already emits `flag esn`, and esp_protect passes esn_en to
    scapy; what is missing is the high-order bits per packet (scapy's esn=)
    and the expectations around the subspace boundary."""
    return []


def _as_fragment(e, verdict, reason, **more):
    """Expectation e for a fragment the engine left alone and the transport
    did not complete a datagram with: no SPI read, nothing checked, nothing
    delivered."""
    e = dict(e, spi=None, verdict=verdict, reason=reason, crypto_done=0, next_crypto_done=0,
             crypto_status='CRYPTO_SUCCESS', **more)
    e.pop('out_hex', None)
    return e


def _no_df(pkt):
    """pkt sent without DF, as a datagram that may be fragmented."""
    p = pkt.copy()
    p.flags = 0
    del p.chksum
    return V.freeze(p)


def _plain_fragments(c, family, n, size, order=None, ipid=0x777):
    """A UDP datagram (not IPsec) cut into fragments, sent in `order`
    (indexes, default as cut): each is delivered unchanged, reassembly is
    only for ESP and AH."""
    src, dst = OUTER[family]
    pkt = V.udp_packet(family, src, dst, n, 'plain fragments %02d' % len(c.entries),
                       ipid=ipid)
    if family == 4:
        pkt = _no_df(pkt)
    frags = V.fragments_of(raw(pkt), size, ipid=ipid)
    for i in order or range(len(frags)):
        c.plain(frags[i], 'UDP IPv%d datagram (not IPsec), fragment %d' % (family, i + 1))


def _early_natt(c, sa, n, size, order, ipid, **kw):
    """ESP in UDP cut into fragments and sent in `order`, where later
    fragments come before the first: those are delivered unchanged (plain
    UDP as far as the receiver can tell), and still join the datagram once
    the first fragment shows ESP in UDP. Fragments sent after the first are
    held, the last sent carries the datagram's outcome."""
    _early_fragments(c, sa, c.inner(sa, n), size, order, ipid, 'UDP', **kw)


def _early_fragments(c, sa, pkt, size, order, ipid, what, **kw):
    """_early_natt for any datagram only its first fragment names IPsec
    (what: what the others look like)."""
    first_at = order.index(0)
    assert first_at > 0, 'no later fragment ahead of the first'
    frags = c.fragment_entries(sa, pkt, size, order=order, ipid=ipid, **kw)
    for frame, e, _ in frags[:first_at]:
        c.plain(frame[14:], '%s, %s, ahead of its first' % (what, e['wire']))
    for frame, e, info in frags[first_at:]:
        c.add(frame, e, info)


def _break_ipv4_checksum(ipb):
    b = bytearray(ipb)
    b[10] ^= 0x0f
    b[11] ^= 0xf0
    return bytes(b)


def _hbh(nh, optdata=bytes(4)):
    """An 8-byte hop-by-hop options header: one PadN option (its data
    immutable en route, so AH covers it)."""
    return bytes([nh, 0, 1, len(optdata)]) + optdata


def _with_hbh(ipb):
    """IPv6 packet ipb with a hop-by-hop header in front of what it carried."""
    b = bytearray(ipb[:40])
    b[6] = 0
    b[4:6] = struct.pack('!H', len(ipb) - 40 + 8)
    return bytes(b) + _hbh(ipb[6]) + ipb[40:]


def _ipv6_unfragmentable():
    """IPv6 fragments behind a hop-by-hop header (RFC 8200 4.5): every
    fragment repeats it, the datagram keeps the first fragment's."""
    c = Case('frag_ipv6_hbh', 'IPv6 fragments behind a hop-by-hop header: AH SHA256 transport '
             '(the ICV covers the option) and ESP GCM tunnel, in and out of order, forged',
             'transport', 'IPv6')
    ah6 = c.sa(proto='ah', mode='transport', family=6, auth='sha256')
    tun6 = c.sa(mode='tunnel', family=6, enc='aes128gcm16')

    def ah_pkt(n):
        p = c.inner(ah6, n)
        return V.freeze(IPv6(_with_hbh(raw(p))))
    c.fragmented(ah6, ah_pkt(1400), 600, ipid=0x601)
    c.fragmented(ah6, ah_pkt(2000), 800, order=[2, 0, 1], ipid=0x602)
    def flip_icv_behind_hbh(ipb):
        b = bytearray(ipb)
        b[40 + 8 + 12] ^= 0x80      # AH's ICV, behind the 8-byte hop-by-hop header
        return bytes(b)
    c.fragmented(ah6, ah_pkt(900), 400, expect='auth', mutate=flip_icv_behind_hbh,
                 ipid=0x603)
    c.fragmented(tun6, c.inner(tun6, 1400), 640, mutate=_with_hbh, ipid=0x604)
    c.fragmented(tun6, c.inner(tun6, 1400), 640, mutate=_with_hbh, order=[1, 2, 0],
                 ipid=0x605)
    c.fragmented(tun6, c.inner(tun6, 700), 256, expect='auth',
                 mutate=lambda b: _with_hbh(V.flip_last_byte(b)), ipid=0x606)
    c.ipsec(ah6, ah_pkt(100), wire='AH transport IPv6 behind hop-by-hop, whole')
    return c


def _dstopts(nh, opt=(1, bytes(4))):
    """An 8-byte destination options header holding one option (type,
    data): PadN by default."""
    return bytes([nh, 0, opt[0], len(opt[1])]) + opt[1]


def _with_dstopts(ipb, opt=(1, bytes(4))):
    """IPv6 packet ipb with a destination options header in front of what
    it carried (behind any hop-by-hop header): once fragmented, the first
    header of the fragmentable part (RFC 8200 4.5), so every fragment
    header names it, not ESP or AH."""
    at, last = 40, 6
    while ipb[last] == 0:
        last, at = at, at + (ipb[at + 1] + 1) * 8
    b = bytearray(ipb[:at])
    b[4:6] = struct.pack('!H', len(ipb) - 40 + 8)
    nh, b[last] = b[last], 60
    return bytes(b) + _dstopts(nh, opt) + ipb[at:]


# An experimental option whose data may change en route (RFC 4727, RFC
# 8200 4.2: the third bit of its type): AH covers it as zeros (RFC 4302 A.2).
_MUTABLE_OPT = (0x3e, b'\x11\x22\x33\x44')


def _ipv6_dstopts():
    """ESP and AH datagrams whose fragmentable part begins with destination
    options: every fragment header names them (60), only the first
    fragment shows ESP or AH behind them. Linux reassembles whatever the
    fragment header names, so all fragments join; a later one ahead of its
    first looks like any fragment that is not IPsec: delivered unchanged,
    and joins when the first comes (as ESP in UDP, frag_natt)."""
    c = Case('frag_ipv6_dstopts', 'IPv6 fragments whose fragment header names destination '
             'options: ESP GCM tunnel and AH SHA256 transport (the ICV covers the options, '
             'a mutable one as zeros), in order, out of order, later fragments ahead of the '
             'first, forged, behind hop-by-hop; TCP behind the options passes', 'tunnel', 'IPv6')
    tun6 = c.sa(mode='tunnel', family=6, enc='aes128gcm16')
    ah6 = c.sa(proto='ah', mode='transport', family=6, auth='sha256')

    def ah_pkt(n, opt=(1, bytes(4))):
        return V.freeze(IPv6(_with_dstopts(raw(c.inner(ah6, n)), opt)))

    def change_opt(ipb):
        """A change to the mutable option's data after signing, which the
        ICV does not see and delivery keeps (transport mode: the header as
        received)."""
        b = bytearray(ipb)
        assert b[6] == 60 and b[42] == 0x3e
        b[44:48] = b'\x55\x66\x77\x88'
        return bytes(b)

    def flip_icv_behind_do(ipb):
        b = bytearray(ipb)
        b[40 + 8 + 12] ^= 0x80      # AH's ICV, behind the 8-byte options
        return bytes(b)
    c.ipsec(tun6, c.inner(tun6, 100), mutate=_with_dstopts,
            wire='ESP tunnel IPv6 behind destination options, whole')
    c.fragmented(tun6, c.inner(tun6, 1400), 640, mutate=_with_dstopts, ipid=0x701)
    c.fragmented(tun6, c.inner(tun6, 1400), 640, mutate=_with_dstopts, order=[0, 2, 1],
                 ipid=0x702)
    _early_fragments(c, tun6, c.inner(tun6, 1400), 640, [2, 1, 0], 0x703, 'IPv6',
                     mutate=_with_dstopts)
    _early_fragments(c, tun6, c.inner(tun6, 1400), 640, [1, 0, 2], 0x704, 'IPv6',
                     mutate=_with_dstopts)
    c.fragmented(tun6, c.inner(tun6, 700), 256, expect='auth',
                 mutate=lambda b: _with_dstopts(V.flip_last_byte(b)), ipid=0x705)
    _early_fragments(c, tun6, c.inner(tun6, 1400), 640, [1, 2, 0], 0x706, 'IPv6',
                     mutate=lambda b: _with_dstopts(_with_hbh(b)))
    c.ipsec(ah6, ah_pkt(100), wire='AH transport IPv6 behind destination options, whole')
    c.fragmented(ah6, ah_pkt(1400), 600, ipid=0x711)
    _early_fragments(c, ah6, ah_pkt(2000), 800, [2, 1, 0], 0x712, 'IPv6')
    _early_fragments(c, ah6, ah_pkt(1400, _MUTABLE_OPT), 600, [1, 0, 2], 0x713, 'IPv6',
                     mutate=change_opt)
    out = bytes.fromhex(c.entries[-1][1]['out_hex'])
    c.entries[-1][1]['out_hex'] = (out[:14] + change_opt(out[14:])).hex()
    c.fragmented(ah6, ah_pkt(900), 400, expect='auth', mutate=flip_icv_behind_do, ipid=0x714)
    # not IPsec behind the options: every fragment delivered unchanged,
    # the copy of one ahead of its first freed when the first comes
    src, dst = OUTER[6]
    tcp = raw(IPv6(src=src, dst=dst) / TCP(sport=1234, dport=80) / Raw(bytes(range(256)) * 5))
    frags = V.fragments_of(_with_dstopts(tcp), 512, ipid=0x720)
    for i in [1, 0, 2]:
        c.plain(frags[i], 'TCP IPv6 behind destination options, fragment %d' % (i + 1))
    c.ipsec(tun6, c.inner(tun6, 100))

    # Reassembly off: a first fragment of ESP or AH is dropped as fragment,
    # the later ones are delivered unchanged (nothing says they are IPsec).
    return [c, _unreassembled(c, ('IPv6, ', 'TCP '), _first_fragment6)]


def _first_fragment6(frame):
    """Is the IPv6 fragment in frame (its fragment header behind any
    hop-by-hop header) its datagram's first?"""
    ipb, nh, at = frame[14:], frame[14 + 6], 40
    while nh == 0:
        nh, at = ipb[at], at + (ipb[at + 1] + 1) * 8
    return struct.unpack('!H', ipb[at + 2:at + 4])[0] & 0xfff8 == 0


def _unreassembled(c, plain, is_first):
    """c's frames with --frag-flows 0 (variant <name>_off): the fragments
    of IPsec datagrams (their wire not starting with `plain`) are not taken:
    a first fragment (is_first) is dropped as fragment, a later one goes on
    unchanged."""
    off = c.variant(c.name + '_off', '%s with --frag-flows 0' % c.name, ['--frag-flows', '0'],
                    lambda info: False)
    for i, (frame, e) in enumerate(off.entries):
        if e['verdict'] == 'held' or ', fragment ' in e['wire'] and \
                not e['wire'].startswith(plain):
            if is_first(frame):
                e = _as_fragment(e, 'drop', 'fragment')
            else:
                e = dict(V._exp(None, 'deliver', 0, 'CRYPTO_SUCCESS', 'ok', e['wire'], frame),
                         n=e['n'])
            off.entries[i] = (frame, e)
    return off


def _first_fragment(frame):
    ipb = frame[14:]
    if ipb[0] >> 4 == 4:
        return struct.unpack('!H', ipb[6:8])[0] & 0x1fff == 0
    return struct.unpack('!H', ipb[42:44])[0] & 0xfff8 == 0


def _natt_fragments():
    """ESP in UDP (RFC 3948) fragmented by its sender: only the first
    fragment shows port 4500. Later fragments join a datagram whose first
    fragment came before them; one ahead of its first is delivered
    unchanged and joins too when the first comes; every other UDP
    fragment (IKE's, plain ones, in any order) is delivered unchanged."""
    c = Case('frag_natt', 'ESP in UDP fragmented (IPv4 and IPv6): in order, the first '
             'fragment first then the rest out of order, forged ICV, later fragments ahead '
             'of their first (IPv4, IPv6, forged, first never sent); IKE and plain UDP '
             'fragments in and out of order', 'tunnel', 'IPv4')
    n4 = c.sa(mode='tunnel', family=4, enc='aes128gcm16', encap=(4500, 4500))
    n6 = c.sa(mode='tunnel', family=6, enc='aes256gcm16', encap=(4500, 4500))
    c.ipsec(n4, c.inner(n4, 100))
    c.fragmented(n4, c.inner(n4, 1400), 576, ipid=0x401)
    c.fragmented(n4, c.inner(n4, 1400), 576, order=[0, 2, 1], ipid=0x402)
    c.fragmented(n4, c.inner(n4, 3000), 1480, ipid=0x403)
    c.fragmented(n4, c.inner(n4, 700), 256, expect='auth', mutate=V.flip_last_byte,
                 ipid=0x404)
    c.fragmented(n6, c.inner(n6, 1400), 800, ipid=0x405)
    # A later fragment ahead of its first one looks like any UDP fragment:
    # delivered unchanged, and a copy waits. When the first fragment says
    # ESP in UDP the copy joins the datagram, as Linux reassembles before
    # UDP reads the port.
    _early_natt(c, n4, 1400, 576, [1, 0, 2], 0x406)
    _early_natt(c, n4, 1400, 576, [2, 1, 0], 0x408)
    _early_natt(c, n6, 1400, 800, [1, 0], 0x409)
    _early_natt(c, n4, 700, 256, [3, 1, 0, 2], 0x40a, expect='auth', mutate=V.flip_last_byte)
    # one whose first fragment never comes
    alone = c.fragment_entries(n4, c.inner(n4, 1000), 512, ipid=0x40b)
    c.plain(alone[1][0][14:], 'UDP IPv4, a later fragment of ESP in UDP whose first never comes')
    # IKE behind the non-ESP marker, too big for one packet (certificates)
    src, dst = OUTER[4]
    ike = IP(src=src, dst=dst, id=0x407) / UDP(sport=4500, dport=4500) / \
        Raw(bytes(4) + bytes(range(256)) * 6)
    for i, ipb in enumerate(V.fragments_of(raw(ike), 512, ipid=0x407)):
        c.plain(ipb, 'UDP IPv4 IKE on 4500 (non-ESP marker), fragment %d' % (i + 1))
    _plain_fragments(c, 4, 1200, 512)
    # plain UDP with later fragments ahead of the first: their copies are
    # freed when it comes, every fragment delivered unchanged
    _plain_fragments(c, 4, 1200, 512, order=[2, 1, 0], ipid=0x778)
    _plain_fragments(c, 6, 1200, 512, order=[1, 2, 0], ipid=0x779)
    c.ipsec(n4, c.inner(n4, 100))

    # Reassembly off: a first fragment of ESP in UDP is dropped as
    # fragment, later ones are UDP fragments like any other.
    return [c, _unreassembled(c, 'UDP', _first_fragment)]


def _interleave(*lists):
    out = []
    for k in range(max(len(x) for x in lists)):
        out += [x[k] for x in lists if k < len(x)]
    return out


def _stage_report(stages, handed=()):
    """Regexes for the exit report: every stage in `stages` reassembled
    datagrams, and those in `handed` gave some to the stage owning their SA.
    Which stage a datagram goes to is a fixed hash of its addresses and
    identification: the same case spreads the same way every run."""
    return [r'^reassembly transport %d: fragments held [1-9]\d* datagrams [1-9]\d* '
            r'discarded \d+ waiting 0 handed_over %s' % (t, r'[1-9]' if t in handed else r'\d')
            for t in stages]


def _spread_flows():
    """Many fragmented datagrams of many flows (sources, destinations, IP
    identifications) under --transports 2, for tunnel SAs owned by both
    stages (slot i goes to stage i % 2): IPv4 and IPv6, interleaved, out of
    order, ESP in UDP and IPv6 destination options with later fragments
    ahead of their first, a forged one, plain UDP fragments. Every fragment
    of a datagram must reach one stage: each stage reassembles what is
    hashed to it and hands a datagram to the stage that owns its SA."""
    c = Case('frag_flows_transports2', 'fragmented datagrams of 10 flows for SAs on both '
             'of 2 transport stages: interleaved, out of order, ESP in UDP and IPv6 '
             'destination options with later fragments first, forged; reassembled on '
             'both stages', 'tunnel', 'IPv4')
    c.args = ['--transports', '2']
    sas = []
    for k in range(8):
        fam = 4 if k // 2 % 2 == 0 else 6
        sa = c.sa(mode='tunnel', family=fam, enc='aes128gcm16' if k % 3 else 'aes256gcm16')
        if fam == 4:
            sa.src, sa.dst = '192.0.2.%d' % (40 + k), '198.18.0.%d' % (1 + k)
        else:
            sa.src, sa.dst = '2001:db8:0:1::%x' % (0x40 + k), '2001:db8:0:2::%x' % (1 + k)
        sas.append(sa)
    natt = c.sa(mode='tunnel', family=4, enc='aes128gcm16', encap=(4500, 4500))
    natt.src, natt.dst = '192.0.2.60', '198.18.1.1'
    natt6 = c.sa(mode='tunnel', family=6, enc='aes128gcm16', encap=(4500, 4500))
    natt6.src, natt6.dst = '2001:db8:0:1::60', '2001:db8:0:3::1'
    for sa in sas:
        c.ipsec(sa, c.inner(sa, 100))
    lists, ipid = [], 0x900
    for r in range(3):
        for k, sa in enumerate(sas):
            size, cut = ((1400, 576), (1000, 400), (2000, 800))[r]
            # behind destination options a later fragment ahead of the
            # first is delivered as well (below): here the first comes first
            dstopts = sa.family == 6 and (r + k) % 2 == 1
            orders = [None, [0, 2, 1]] if dstopts else [None, [2, 0, 1], [1, 2, 0]]
            order = orders[(r + k) % len(orders)]
            mutate = _with_dstopts if dstopts else None
            lists.append(c.fragment_entries(sa, c.inner(sa, size), cut, order=order,
                                            ipid=ipid, mutate=mutate))
            ipid += 1
    for frame, e, info in _interleave(*lists):
        c.add(frame, e, info)
    for k, sa in enumerate(sas):
        if sa.family == 6:
            _early_fragments(c, sa, c.inner(sa, 1400), 640, [2, 1, 0], ipid, 'IPv6',
                             mutate=_with_dstopts)
            ipid += 1
    for k in range(4):
        _early_natt(c, natt, 1400, 576, [[1, 0, 2], [2, 1, 0]][k % 2], ipid)
        if k % 2:
            _early_natt(c, natt6, 1400, 800, [1, 0], ipid + 1)
        else:
            c.fragmented(natt6, c.inner(natt6, 1400), 800, ipid=ipid + 1)
        ipid += 2
    c.fragmented(sas[1], c.inner(sas[1], 700), 256, expect='auth', mutate=V.flip_last_byte,
                 ipid=ipid)
    c.fragmented(sas[2], c.inner(sas[2], 700), 256, expect='auth', mutate=V.flip_last_byte,
                 ipid=ipid + 1)
    for k in range(4):
        _plain_fragments(c, 4 + 2 * (k % 2), 1200, 512, order=[2, 0, 1], ipid=0x7a0 + k)
    for sa in sas:
        c.ipsec(sa, c.inner(sa, 100))
    c.report = _stage_report((0, 1), handed=(0, 1))
    return c


def reassembly():
    """Fragmented ESP and AH datagrams (RFC 4303 3.4.1, RFC 4302 3.4.1):
    reassembled by the transport, then processed on its software path."""
    cases = []
    c = Case('frag_esp_tun4', 'AES-GCM tunnel IPv4: datagrams fragmented in order, out of '
             'order, interleaved, with a forged ICV, replayed, with an unknown SPI, '
             'larger than an mbuf, incomplete; plain UDP fragments', 'tunnel', 'IPv4')
    gcm = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    other = c.sa(mode='tunnel', family=4, enc='aes256gcm16')
    c.ipsec(gcm, c.inner(gcm, 100))
    c.fragmented(gcm, c.inner(gcm, 1400), 576, ipid=0x101)
    c.fragmented(gcm, c.inner(gcm, 1400), 576, order=[2, 0, 1], ipid=0x102)
    c.fragmented(gcm, c.inner(gcm, 1000), 1024, order=[1, 0], ipid=0x103)
    a = c.fragment_entries(gcm, c.inner(gcm, 1200), 400, ipid=0x104)
    b = c.fragment_entries(other, c.inner(other, 900), 400, ipid=0x105, order=[2, 1, 0])
    for frame, e, info in _interleave(a, b):
        c.add(frame, e, info)
    c.fragmented(gcm, c.inner(gcm, 700), 256, expect='auth', mutate=V.flip_last_byte,
                 ipid=0x106)
    c.fragmented(gcm, c.inner(gcm, 3000), 1480, ipid=0x107)
    c.fragmented(gcm, c.inner(gcm, 7000), 1480, ipid=0x108)
    # a fragment whose header checksum is wrong is discarded (RFC 1122
    # 3.2.1.2), and its datagram never completes
    broken = c.fragment_entries(gcm, c.inner(gcm, 1000), 512, ipid=0x10d)
    for k, (frame, e, info) in enumerate(broken):
        if k == 1:
            frame = frame[:14] + _break_ipv4_checksum(frame[14:])
            e = _as_fragment(e, 'drop', 'fragment', wire=e['wire'] + ', checksum wrong')
        else:
            e = _as_fragment(e, 'held', 'reassembly')
        c.add(frame, e, {})
    # the same datagram twice: its sequence number was seen
    frags = c.fragment_entries(gcm, c.inner(gcm, 600), 256, ipid=0x109)
    for frame, e, info in frags:
        c.add(frame, e, info)
    frame, e, info = frags[-1]
    for fr, held, _ in frags[:-1]:
        c.add(fr, dict(held), {})
    replayed = dict(e, verdict='drop', reason='replay')
    replayed.pop('out_hex')
    c.add(frame, replayed, info)
    unknown = Sa(c.rng, spi=0x0badf00d, mode='tunnel', family=4, enc='aes128gcm16')
    c.fragmented(unknown, c.inner(gcm, 800), 400, expect='no_sa', ipid=0x10a)
    # a datagram that never completes: its fragments are held, then discarded
    lone = c.fragment_entries(gcm, c.inner(gcm, 1400), 576, ipid=0x10b)
    for frame, e, info in lone[:1] + lone[2:]:
        c.add(frame, _as_fragment(e, 'held', 'reassembly'), {})
    # a last fragment of 8 bytes, in a frame the sender pads to 60 bytes:
    # the padding is not datagram data (ESP payload 16 + 1000 + 16 = 4 * 256 + 8)
    padded = c.fragment_entries(gcm, c.inner(gcm, 970), 256, ipid=0x10c)
    assert len(padded[-1][0]) == 14 + 20 + 8
    for frame, e, info in padded:
        c.add(frame + bytes(max(0, 60 - len(frame))), e, info)
    _plain_fragments(c, 4, 1200, 512)
    c.ipsec(gcm, c.inner(gcm, 100))
    cases.append(c)

    c = Case('frag_esp_trans6', 'AES-CBC + HMAC-SHA256 transport IPv6: fragment header '
             'behind the fixed header, in order, out of order, forged ICV; plain UDP '
             'fragments', 'transport', 'IPv6')
    cbc = c.sa(mode='transport', family=6, enc='aes128cbc', auth='sha256')
    c.ipsec(cbc, c.inner(cbc, 100))
    c.fragmented(cbc, c.inner(cbc, 1400), 600, ipid=0x201)
    c.fragmented(cbc, c.inner(cbc, 2500), 1200, order=[2, 1, 0], ipid=0x202)
    c.fragmented(cbc, c.inner(cbc, 900), 304, expect='auth', mutate=V.flip_last_byte,
                 ipid=0x203)
    _plain_fragments(c, 6, 1200, 504)
    c.ipsec(cbc, c.inner(cbc, 100))
    cases.append(c)

    # AH authenticates the IP identification and total length (RFC 4302
    # 3.3.3.1.1.1): the sender keeps the datagram's id in every fragment.
    c = Case('frag_ah_trans4', 'AH HMAC-SHA256 transport IPv4 and ESP GCM tunnel IPv6 '
             'datagrams fragmented: the AH ICV covers the reassembled header',
             'transport', 'IPv4')
    ah = c.sa(proto='ah', mode='transport', family=4, auth='sha256')
    tun6 = c.sa(mode='tunnel', family=6, enc='aes128gcm16')
    c.fragmented(ah, _no_df(c.inner(ah, 1400)), 560)
    c.fragmented(ah, _no_df(c.inner(ah, 1000)), 320, order=[3, 1, 2, 0])
    c.fragmented(ah, _no_df(c.inner(ah, 800)), 400, expect='auth', mutate=V.flip_ah_icv)
    c.fragmented(tun6, c.inner(tun6, 1400), 800, ipid=0x304)

    def atomic(ipb):
        """An atomic fragment header (offset 0, M clear) before ESP: a whole
        datagram, processed as one (RFC 6946 4), offloaded."""
        hdr = bytearray(ipb[:40])
        hdr[6] = 44
        hdr[4:6] = struct.pack('!H', len(ipb) - 40 + 8)
        return bytes(hdr) + bytes([ipb[6], 0, 0, 0]) + struct.pack('!I', 0x305) + ipb[40:]
    c.ipsec(tun6, c.inner(tun6, 300), mutate=atomic, wire='ESP tunnel IPv6 in an atomic fragment')
    # The IPv4 checksum is not covered by AH (a mutable field, RFC 4302
    # 3.3.3.1.1.1): the packet would verify, but a wrong header checksum
    # discards it first (RFC 1122 3.2.1.2), and its number stays unused.
    seq = ah.next_seq
    c.ipsec(ah, _no_df(c.inner(ah, 60)), expect='malformed', mutate=_break_ipv4_checksum,
            wire='AH transport IPv4, header checksum wrong')
    c.ipsec(ah, _no_df(c.inner(ah, 60)), seq=seq,
            wire='AH transport IPv4, the same sequence number intact')
    c.ipsec(ah, _no_df(c.inner(ah, 50)))
    cases.append(c)

    cases += _natt_fragments()
    cases.append(_ipv6_unfragmentable())
    cases += _ipv6_dstopts()

    # The same traffic with several transports (datagrams whose SA another
    # transport owns are handed to its ring) and with reassembly off.
    base = cases[0]
    v = base.variant('frag_esp_tun4_transports2', 'frag_esp_tun4 with --transports 2',
                     ['--transports', '2'], lambda info: False)
    v.report = _stage_report((0, 1), handed=(1,))
    cases.append(v)
    off = base.variant('frag_esp_tun4_off', 'frag_esp_tun4 with --frag-flows 0: every '
                       'ESP fragment dropped as fragment', ['--frag-flows', '0'],
                       lambda info: False)
    for i, (frame, e) in enumerate(off.entries):
        if e['verdict'] == 'held' or e['wire'].find(', fragment ') > 0 and \
                not e['wire'].startswith('UDP'):
            off.entries[i] = (frame, _as_fragment(e, 'drop', 'fragment'))
    cases.append(off)

    # Every stage reassembles what is hashed to it: the cases above with
    # --transports 2. A transport-mode SA shares stage 0 with the tunnels
    # that may carry it, here all of them (frag_esp_trans6, frag_ah_trans4,
    # frag_ipv6_hbh, frag_ipv6_dstopts), so stage 1 hands what it reassembles to stage 0; frag_natt has an SA
    # on each. Below: the stages that reassemble, and those that hand over.
    by_name = {k.name: k for k in cases}
    for name, stages, handed in (('frag_esp_trans6', (1,), (1,)),
                                 ('frag_ah_trans4', (0, 1), (1,)),
                                 ('frag_natt', (0, 1), (0, 1)),
                                 ('frag_ipv6_hbh', (0, 1), (1,)),
                                 ('frag_ipv6_dstopts', (0, 1), (1,))):
        v = by_name[name].variant(name + '_transports2', name + ' with --transports 2',
                                  ['--transports', '2'], lambda info: False)
        v.report = _stage_report(stages, handed)
        cases.append(v)
    cases.append(_spread_flows())
    return cases


FAMILIES = {
    'issue2': issue2,
    'issue3_esp': issue3_esp,
    'issue3_ah': issue3_ah,
    'issue3_natt': issue3_natt,
    'issue3_malformed': issue3_malformed,
    'reassembly': reassembly,
}


# ---------------------------------------------------------------------------
# issue 3 item 4: nested SAs (spec section 3, rule 5)
# ---------------------------------------------------------------------------

def _inner_sa(c, family, **kw):
    """A transport SA between the tunnel's inner addresses (inner dst = the
    tunnel's inner destination), in the SA file beside the tunnel SA."""
    sa = c.sa(mode='transport', family=family, **kw)
    sa.src, sa.dst = INNER[family]
    return sa


def _stranger_inner(c, family, **kw):
    """Like _inner_sa but not in the SA file."""
    sa = Sa(c.rng, spi=0xbad00000 + family, mode='transport', family=family, **kw)
    sa.src, sa.dst = INNER[family]
    return sa


def _inner_pkt(c, family, n, kind='udp'):
    src, dst = INNER[family]
    tag = '%s pkt %02d' % (c.name, len(c.entries))
    ipid = 0x200 + len(c.entries)
    if kind == 'icmp':
        return V.freeze(V.icmp_packet(family, src, dst, n, tag, ipid))
    return V.freeze(V.udp_packet(family, src, dst, n, tag, ipid))


def _bundle_pkt(c, family, n):
    src, dst = OUTER[family]
    return V.freeze(V.udp_packet(family, src, dst, n, '%s pkt %02d' % (c.name, len(c.entries)),
                                 0x300 + len(c.entries)))


def issue3_nested():
    cases = []
    # a. tunnel ESP around transport ESP / transport AH of a second SA
    for fam in (4, 6):
        c = Case('i3_nested_tun%d' % fam, 'tunnel ESP (IPv%d) whose inner packet is '
                 'transport ESP or AH of a second SA: crypto_done 1, next_crypto_done 1, '
                 'the innermost plaintext delivered' % fam, 'tunnel', 'IPv%d' % fam)
        # tun carries an inner packet of the other family too: af-unspec
        tun = c.sa(mode='tunnel', family=fam, enc='aes128gcm16', af_unspec=True)
        tcbc = c.sa(mode='tunnel', family=fam, enc='aes256cbc', auth='sha256')
        iesp = _inner_sa(c, fam, enc='aes256cbc', auth='sha1')
        igcm = _inner_sa(c, fam, enc='aes256gcm16')
        iah = _inner_sa(c, fam, proto='ah', auth='sha256')
        iesp_x = _inner_sa(c, 10 - fam, enc='aes128gcm16')    # the other inner family
        for n in (0, 1, 100, 1300):
            c.nested(tun, iesp, _inner_pkt(c, fam, n))
        c.nested(tun, iesp, _inner_pkt(c, fam, 56, kind='icmp'))
        c.nested(tcbc, igcm, _inner_pkt(c, fam, 33))
        c.nested(tcbc, iesp, _inner_pkt(c, fam, 200), vlan=100)
        for n in (0, 100, 1300):
            c.nested(tun, iah, _inner_pkt(c, fam, n))
        c.nested(tcbc, iah, _inner_pkt(c, fam, 56, kind='icmp'))
        c.nested(tun, iesp_x, _inner_pkt(c, 10 - fam, 77))
        # plain single-layer traffic on the same SAs stays as it was
        c.ipsec(tun, c.inner(tun, 20))
        c.ipsec(iesp, V.freeze(V.udp_packet(fam, INNER[fam][0], INNER[fam][1], 20, 'single')),
                wire='transport ESP of the inner SA, alone (its own dst)')
        c.nested(tun, iesp, _inner_pkt(c, fam, 10))
        cases.append(c)

    # b. a flipped ICV in either layer
    c = Case('i3_nested_icv', 'nested: flipped ICV in the inner layer (crypto_done 1, '
             'next_crypto_done 1, the inner SA\'s status, dropped) and in the outer layer '
             '(next_crypto_done 0, the tunnel status)')
    for fam in (4, 6):
        tun = c.sa(mode='tunnel', family=fam, enc='aes128gcm16')
        iesp = _inner_sa(c, fam, enc='aes128cbc', auth='sha256')
        iah = _inner_sa(c, fam, proto='ah', auth='sha1')
        c.nested(tun, iesp, _inner_pkt(c, fam, 40))
        c.nested(tun, iesp, _inner_pkt(c, fam, 40), expect='inner_auth', imutate=V.flip_last_byte)
        c.nested(tun, iah, _inner_pkt(c, fam, 40), expect='inner_auth', imutate=V.flip_ah_icv)
        c.nested(tun, iesp, _inner_pkt(c, fam, 40), expect='outer_auth', omutate=V.flip_last_byte)
        c.nested(tun, iah, _inner_pkt(c, fam, 40), expect='outer_auth', omutate=V.flip_last_byte)
        # the failures moved no window: the same sequence numbers pass now
        c.nested(tun, iesp, _inner_pkt(c, fam, 40), oseq=tun.next_seq - 1, iseq=iesp.next_seq - 1)
        c.nested(tun, iah, _inner_pkt(c, fam, 40))
    cases.append(c)

    # c. inner SA unknown: only the tunnel is removed
    c = Case('i3_nested_unknown', 'nested: the inner transport SA is not in the SA file: '
             'next_crypto_done 0, the inner packet delivered with its ESP/AH as it was')
    for fam in (4, 6):
        tun = c.sa(mode='tunnel', family=fam, enc='aes256gcm16')
        iesp = _inner_sa(c, fam, enc='aes128gcm16')
        ghost = _stranger_inner(c, fam, enc='aes128cbc', auth='sha1')
        ghost_ah = Sa(c.rng, spi=0xbad10000 + fam, proto='ah', mode='transport', family=fam,
                      auth='sha256')
        ghost_ah.src, ghost_ah.dst = INNER[fam]
        c.nested(tun, ghost, _inner_pkt(c, fam, 30), inner_known=False)
        c.nested(tun, ghost_ah, _inner_pkt(c, fam, 30), inner_known=False)
        c.nested(tun, iesp, _inner_pkt(c, fam, 30))
        # inner ESP with a known SPI but another destination: not that SA
        other = Sa(c.rng, spi=iesp.spi, mode='transport', family=fam, enc='aes128gcm16',
                   keys=dict(enc=iesp.enc_key))
        other.src, other.dst = INNER[fam][0], OTHER_DST[fam]
        src = INNER[fam][0]
        c.nested(tun, other, V.freeze(V.udp_packet(fam, src, OTHER_DST[fam], 30, 'other dst')),
                 inner_known=False)
    cases.append(c)

    # d. AH over ESP under one IP header (RFC 4302 3.1; Linux ah+esp bundle)
    c = Case('i3_nested_bundle', 'AH over ESP, both transport, same dst, ESP applied '
             'first then AH: crypto_done 1, next_crypto_done 1, the plaintext delivered; '
             'ICV failures in either layer; ESP SA unknown', 'transport')
    for fam in (4, 6):
        esp = c.sa(mode='transport', family=fam, enc='aes128cbc', auth='sha256')
        egcm = c.sa(mode='transport', family=fam, enc='aes256gcm16')
        ah = c.sa(proto='ah', mode='transport', family=fam, auth='sha256')
        ah1 = c.sa(proto='ah', mode='transport', family=fam, auth='sha1')
        for n in (0, 1, 100, 1300):
            c.nested(ah, esp, _bundle_pkt(c, fam, n))
        c.nested(ah1, egcm, _bundle_pkt(c, fam, 64))
        c.nested(ah, esp, _bundle_pkt(c, fam, 64), vlan=7)
        c.nested(ah, esp, _bundle_pkt(c, fam, 64), expect='inner_auth', imutate=V.flip_last_byte)
        c.nested(ah, esp, _bundle_pkt(c, fam, 64), expect='outer_auth', omutate=V.flip_ah_icv)
        ghost = Sa(c.rng, spi=0xbad20000 + fam, mode='transport', family=fam, enc='aes128gcm16')
        c.nested(ah, ghost, _bundle_pkt(c, fam, 64), inner_known=False)
        c.ipsec(esp, c.inner(esp, 20), wire='the ESP SA alone')
        c.nested(ah, esp, _bundle_pkt(c, fam, 64))
    cases.append(c)

    # e. anti-replay on both layers: both windows must accept
    c = Case('i3_nested_replay', 'nested: inner sequence number replayed (outer fresh), '
             'outer replayed (inner fresh), inner below its window: dropped after both '
             'checks passed', 'tunnel', 'IPv4')
    # IPv4 tunnel, IPv4 and IPv6 inside: af-unspec
    tun = c.sa(mode='tunnel', family=4, enc='aes128gcm16', window=32, af_unspec=True)
    iesp = _inner_sa(c, 4, enc='aes128cbc', auth='sha1', window=32)
    steps = [(1, 1, 'ok'), (2, 1, 'replay'),      # inner replayed, outer fresh
             (3, 2, 'ok'), (3, 3, 'replay'),      # outer replayed, inner fresh
             (4, 3, 'ok'),                        # inner 3 was not marked by the drop
             (2, 4, 'ok'),                        # outer 2 was not marked either
             (5, 100, 'ok'), (6, 50, 'below_window'), (7, 99, 'ok'), (8, 99, 'replay'),
             (6, 98, 'ok')]                       # outer 6 still fresh
    for oseq, iseq, exp in steps:
        c.nested(tun, iesp, _inner_pkt(c, 4, 10), oseq=oseq, iseq=iseq, expect=exp)
    ah6 = c.sa(proto='ah', mode='transport', family=6, auth='sha256', window=32)
    ah6.src, ah6.dst = INNER[6]
    for oseq, iseq, exp in ((9, 1, 'ok'), (10, 1, 'replay'), (11, 2, 'ok')):
        c.nested(tun, ah6, _inner_pkt(c, 6, 10), oseq=oseq, iseq=iseq, expect=exp)
    cases.append(c)

    # f. inner IPv4 header checksum wrong: Linux hands the decapsulated
    # packet back to ip_rcv, which discards it (RFC 1122 3.2.1.2) before the
    # inner SA sees it. Only the tunnel is removed (next_crypto_done 0, the
    # inner packet delivered as it came, for the host to drop, as an inner
    # ESP in UDP with a wrong sum), the inner window does not move: the same
    # inner sequence number sent intact is delivered.
    c = Case('i3_nested_inner_cksum', 'nested: inner IPv4 header checksum wrong: the tunnel '
             'is removed, the inner layer left alone (next_crypto_done 0) and its window '
             'unmoved', 'tunnel', 'IPv4')
    for fam in (4, 6):
        tun = c.sa(mode='tunnel', family=fam, enc='aes128gcm16', af_unspec=True)
        iesp = _inner_sa(c, 4, enc='aes128cbc', auth='sha256')
        iah = _inner_sa(c, 4, proto='ah', auth='sha1')
        for isa in (iesp, iah):
            iseq = isa.next_seq
            c.nested(tun, isa, _inner_pkt(c, 4, 40), imutate=_break_ipv4_checksum,
                     inner_known=False, wire='ESP tunnel IPv%d around %s transport IPv4 '
                     'seq=0x%x, inner IPv4 header checksum wrong'
                     % (fam, isa.proto.upper(), iseq))
            c.nested(tun, isa, _inner_pkt(c, 4, 40), iseq=iseq)
    cases.append(c)
    return cases


FAMILIES['issue3_nested'] = issue3_nested


# ---------------------------------------------------------------------------
# issue 3 item 6: capabilities (spec sections 2-4). The same traffic runs
# under several option sets; what falls outside the capabilities goes to the
# transport's software path: crypto_done 0, same verdicts and bytes.
# ---------------------------------------------------------------------------

def _v4_opts_pkt(c, n, src, dst):
    """IPv4 with Router Alert (immutable for AH) and a Record Route with two
    free slots (mutable) - RFC 4302 A.1."""
    from scapy.all import IPOption_Router_Alert, IPOption_RR
    tag = '%s pkt %02d' % (c.name, len(c.entries))
    return V.freeze(IP(src=src, dst=dst, id=0x400 + len(c.entries), flags='DF',
                       options=[IPOption_Router_Alert(),
                                IPOption_RR(pointer=4, routers=['0.0.0.0', '0.0.0.0'])]) /
                    UDP(sport=50101, dport=9000) / Raw(V.payload_bytes(tag, n)))


def _v6_ext_pkt(c, n, src, dst, hbh=False):
    """IPv6 with a destination-options header (one option whose data may
    change en route, type 0x3e, and one that may not, 0x1e), optionally
    after a hop-by-hop header; ESP/AH go after them (scapy, like Linux)."""
    from scapy.layers.inet6 import HBHOptUnknown, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop
    tag = '%s pkt %02d' % (c.name, len(c.entries))
    p = IPv6(src=src, dst=dst, fl=0x2345, tc=0x10)
    if hbh:
        p = p / IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x1d, optdata=b'\x05\x06')])
    p = p / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3e, optdata=b'\x11\x22\x33\x44'),
                                       HBHOptUnknown(otype=0x1e, optdata=b'\xaa\xbb')])
    return V.freeze(p / UDP(sport=50101, dport=9000) / Raw(V.payload_bytes(tag, n)))


def route_v4(ipb):
    """What routers may do to an IPv4 header (RFC 4302 3.3.3.1.1.1): TTL,
    DSCP, a Record Route entry; checksum fixed. The same bytes change in the
    plaintext packet (the header is before ESP/AH in both)."""
    b = bytearray(ipb)
    ihl = (b[0] & 0xf) * 4
    b[1] = 0x28
    b[8] -= 3
    off = 20
    while off < ihl and b[off] != 0:
        if b[off] == 1:
            off += 1
            continue
        if b[off] == 7:                     # Record Route: write slot 1
            ptr = b[off + 2]
            b[off + ptr - 1:off + ptr + 3] = bytes([198, 51, 100, 1])
            b[off + 2] = ptr + 4
        off += b[off + 1]
    struct.pack_into('!H', b, 10, 0)
    struct.pack_into('!H', b, 10, V._csum(bytes(b[:ihl])))
    return bytes(b)


def route_v4_ra(ipb):
    """Change the Router Alert value (immutable): AH must fail."""
    b = bytearray(route_v4(ipb))
    b[23] ^= 0x01
    struct.pack_into('!H', b, 10, 0)
    struct.pack_into('!H', b, 10, V._csum(bytes(b[:(b[0] & 0xf) * 4])))
    return bytes(b)


def _v6_destopt_off(b):
    off, nh = 40, b[6]
    while nh != 60:
        nh, off = b[off], off + (b[off + 1] + 1) * 8
    return off


def route_v6(ipb):
    """IPv6 fields that change en route (RFC 4302 3.3.3.1.2): traffic class,
    flow label, hop limit, and the data of the dest-opts option whose type
    has the 0x20 bit."""
    b = bytearray(ipb)
    b[0], b[1], b[2], b[3] = 0x6b, 0x80, 0x00, 0x07
    b[7] -= 2
    off = _v6_destopt_off(b)
    assert b[off + 2] == 0x3e
    b[off + 4:off + 8] = b'\x99\x88\x77\x66'
    return bytes(b)


def route_v6_immutable(ipb):
    """Change the data of the option without the 0x20 bit: AH must fail."""
    b = bytearray(route_v6(ipb))
    off = _v6_destopt_off(b)
    assert b[off + 8] == 0x1e
    b[off + 10] ^= 0x01
    return bytes(b)


def _routed(c, sa, pkt, route, expect='ok'):
    """AH packet changed en route; the delivered header shows the changes."""
    frame = c.ipsec(sa, pkt, mutate=route, expect=expect)
    if expect == 'ok':
        e = c.entries[-1][1]
        e['out_hex'] = V.eth(route(raw(pkt))).hex()
        e['wire'] += ' (header changed en route)'
    return frame


def _hdr_frames(c):
    """IPv4 options and IPv6 extension headers before ESP/AH."""
    s4, d4 = OUTER[4]
    s6, d6 = OUTER[6]
    et4 = c.sa(mode='transport', family=4, enc='aes128gcm16')
    ec4 = c.sa(mode='transport', family=4, enc='3des', auth='sha1')
    et6 = c.sa(mode='transport', family=6, enc='aes256gcm16')
    ah4 = c.sa(proto='ah', mode='transport', family=4, auth='sha1')
    ah6 = c.sa(proto='ah', mode='transport', family=6, auth='sha256')
    for n in (0, 100):
        c.ipsec(et4, _v4_opts_pkt(c, n, s4, d4), wire='ESP transport IPv4 with options')
    c.ipsec(ec4, _v4_opts_pkt(c, 60, s4, d4), wire='ESP 3DES transport IPv4 with options')
    c.ipsec(et4, _v4_opts_pkt(c, 60, s4, d4), expect='auth', mutate=V.flip_last_byte,
            wire='ESP transport IPv4 with options, flipped ICV')
    c.ipsec(et6, _v6_ext_pkt(c, 0, s6, d6), wire='ESP transport IPv6 after dest-opts')
    c.ipsec(et6, _v6_ext_pkt(c, 100, s6, d6, hbh=True),
            wire='ESP transport IPv6 after hop-by-hop + dest-opts')
    c.ipsec(et6, _v6_ext_pkt(c, 50, s6, d6), expect='auth', mutate=V.flip_last_byte,
            wire='ESP transport IPv6 after dest-opts, flipped ICV')
    c.ipsec(ah4, _v4_opts_pkt(c, 40, s4, d4), wire='AH IPv4 with RA + RR options')
    _routed(c, ah4, _v4_opts_pkt(c, 40, s4, d4), route_v4)
    _routed(c, ah4, _v4_opts_pkt(c, 40, s4, d4), route_v4_ra, expect='auth')
    c.ipsec(ah6, _v6_ext_pkt(c, 40, s6, d6), wire='AH IPv6 after dest-opts')
    _routed(c, ah6, _v6_ext_pkt(c, 40, s6, d6, hbh=True), route_v6)
    _routed(c, ah6, _v6_ext_pkt(c, 40, s6, d6), route_v6_immutable, expect='auth')
    c.ipsec(ah6, _v6_ext_pkt(c, 40, s6, d6), expect='auth', mutate=V.flip_ah_icv)
    c.ipsec(et4, c.inner(et4, 10))
    _header_checksums(c)


def _outer_v4_opts(ipb):
    """Four bytes of options (NOP NOP NOP EOL) put into an outer IPv4
    header, which ESP does not cover."""
    hl = V.ip_hdr_len(ipb)
    b = bytearray(ipb[:hl] + b'\x01\x01\x01\x00' + ipb[hl:])
    b[0] = 0x40 | (hl + 4) // 4
    return V.fix_lengths(bytes(b))


def _set_ipsec_spi(sa, spi):
    """The SPI field of sa's header (AH's is 4 bytes in) set to spi."""
    def f(ipb):
        b = bytearray(ipb)
        struct.pack_into('!L', b, V.ip_hdr_len(ipb) + (4 if sa.proto == 'ah' else 0), spi)
        return bytes(b)
    return f


def _header_checksums(c):
    """A receiver discards an IPv4 packet whose header checksum is wrong
    (RFC 1122 3.2.1.2; Linux's ip_rcv, before IPsec): malformed, and the
    window has not moved, so the same sequence number sent intact is
    delivered."""
    gt4 = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    at4 = c.sa(proto='ah', mode='tunnel', family=4, auth='sha256')
    et4 = c.sa(mode='transport', family=4, enc='aes128cbc', auth='sha256')
    for sa in (gt4, at4, et4):
        seq = sa.next_seq
        c.ipsec(sa, c.inner(sa, 40), expect='malformed', mutate=_break_ipv4_checksum,
                wire='%s %s, IPv4 header checksum wrong' % (sa.proto.upper(), sa.mode))
        c.ipsec(sa, c.inner(sa, 40), seq=seq,
                wire='%s %s, the same sequence number intact' % (sa.proto.upper(), sa.mode))
        # ip_rcv drops it before any IPsec verdict: malformed, not the
        # ICV's failure (the engine's CryptoStatus stays in the record)
        c.ipsec(sa, c.inner(sa, 40), expect='auth',
                mutate=_then(V.flip_ah_icv if sa.proto == 'ah' else V.flip_last_byte,
                             _break_ipv4_checksum),
                wire='%s %s, IPv4 header checksum wrong and ICV forged' % (
                    sa.proto.upper(), sa.mode))
        c.entries[-1][1]['reason'] = 'malformed'
        # ... nor the SA lookup's: no SA for this SPI
        c.ipsec(sa, c.inner(sa, 40), expect='no_sa',
                mutate=_then(_set_ipsec_spi(sa, 0xdead0000 | sa.spi), _break_ipv4_checksum),
                wire='%s %s, IPv4 header checksum wrong, no SA for the SPI' % (
                    sa.proto.upper(), sa.mode))
        c.entries[-1][1].update(reason='malformed', spi='0x%08x' % (0xdead0000 | sa.spi))
    c.ipsec(gt4, c.inner(gt4, 60), mutate=_outer_v4_opts,
            wire='ESP tunnel, outer IPv4 header with options')
    c.ipsec(gt4, c.inner(gt4, 60), expect='malformed',
            mutate=lambda b: _break_ipv4_checksum(_outer_v4_opts(b)),
            wire='ESP tunnel, outer IPv4 header with options, checksum wrong')
    c.ipsec(gt4, c.inner(gt4, 20))


def _v6_long_hdrs(n_dst=4, mutable=4, big=0):
    """IPv6 extension headers well over 224 bytes: a hop-by-hop header with
    a mutable option (type 0x3e: may change en route, RFC 8200 4.2), n_dst
    destination options headers of 64 bytes with an immutable option
    (0x1e), and one with a mutable option of `mutable` bytes; big > 0: that
    many more destination options headers each with a 250-byte mutable
    option instead (more mutable data than a packet's scratch). Types
    00xxxxxx: Linux skips them."""
    from scapy.layers.inet6 import HBHOptUnknown, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop
    h = IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x3e, optdata=b'\x01\x02\x03\x04')])
    for i in range(n_dst):
        h = h / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1e,
                                                         optdata=bytes([0x40 + i]) * 60)])
    for i in range(big):
        h = h / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3e,
                                                         optdata=bytes([0x70 + i]) * 250)])
    return h / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3e, optdata=b'\x55' * mutable)])


def _v6_long_pkt(c, n, **kw):
    s6, d6 = OUTER[6]
    tag = '%s pkt %02d' % (c.name, len(c.entries))
    return V.freeze(IPv6(src=s6, dst=d6, fl=0x2345, tc=0x10) / _v6_long_hdrs(**kw) /
                    UDP(sport=50101, dport=9000) / Raw(V.payload_bytes(tag, n)))


def _v6_opts(b):
    """[(data offset, length, type)] of the options in the hop-by-hop and
    destination options headers in front of AH, and AH's offset."""
    opts, off, nh = [], 40, b[6]
    while nh in (0, 60):
        end = off + (b[off + 1] + 1) * 8
        o = off + 2
        while o < end:
            if b[o] == 0:
                o += 1
                continue
            opts.append((o + 2, b[o + 1], b[o]))
            o += 2 + b[o + 1]
        nh, off = b[off], end
    return opts, off


def route_v6_all(ipb):
    """What may change en route (RFC 4302 3.3.3.1.2, A.2): class, flow
    label, hop limit, the data of every option with the 0x20 bit."""
    b = bytearray(ipb)
    b[0], b[1], b[2], b[3] = 0x6b, 0x80, 0x00, 0x07
    b[7] -= 5
    for at, n, t in _v6_opts(b)[0]:
        if t & 0x20:
            b[at:at + n] = bytes(x ^ 0x5a for x in b[at:at + n])
    return bytes(b)


def route_v6_immutable_too(ipb):
    """... and one byte of an option that may not change: AH fails."""
    b = bytearray(route_v6_all(ipb))
    at = [a for a, n, t in _v6_opts(b)[0] if t == 0x1e][-1]
    b[at + 7] ^= 0x01
    return bytes(b)


def flip_ah_icv_v6(ipb):
    b = bytearray(ipb)
    b[_v6_opts(b)[1] + 12] ^= 0x80
    return bytes(b)


def _v6_long_tunnel(c, auth, **kw):
    """A tunnel SA whose outer IPv6 header carries the long extension
    headers in front of AH."""
    sa = c.sa(proto='ah', mode='tunnel', family=6, auth=auth)
    sa.tunnel_header = lambda: IPv6(src=sa.src, dst=sa.dst, fl=0x777, tc=0x20) / \
        _v6_long_hdrs(**kw)
    return sa


def _long_v6_frames(c):
    """AH behind more than 224 bytes of IPv6 extension headers, changed en
    route or not; failures keep their window (the same sequence number then
    delivered)."""
    t = c.sa(proto='ah', mode='transport', family=6, auth='sha256')
    hdrs = len(raw(_v6_long_hdrs())) + 40
    what = 'AH transport IPv6 behind %d bytes of headers' % hdrs
    c.ipsec(t, _v6_long_pkt(c, 40), wire=what)
    _routed(c, t, _v6_long_pkt(c, 100), route_v6_all)
    c.entries[-1][1]['wire'] = what + ', mutable data changed en route'
    for mutate, why in ((route_v6_immutable_too, 'an immutable option changed'),
                        (flip_ah_icv_v6, 'ICV flipped')):
        seq = t.next_seq
        c.ipsec(t, _v6_long_pkt(c, 30), expect='auth', mutate=mutate, wire=what + ', ' + why)
        c.ipsec(t, _v6_long_pkt(c, 30), seq=seq, wire=what + ', the same seq intact')
    # more mutable option data than a packet's scratch: verified alone,
    # between packets of the batch
    for big, n in ((3, 20), (5, 6000)):
        kw = dict(n_dst=1, big=big)
        what = 'AH transport IPv6, %d bytes of mutable option data, %d bytes of headers' % (
            8 + 250 * big, 40 + len(raw(_v6_long_hdrs(**kw))))
        _routed(c, t, _v6_long_pkt(c, n, **kw), route_v6_all)
        c.entries[-1][1]['wire'] = what + ', changed en route'
        c.ipsec(t, _v6_long_pkt(c, 10))
        c.ipsec(t, _v6_long_pkt(c, n, **kw), expect='auth', mutate=route_v6_immutable_too,
                wire=what + ', an immutable option changed')
        c.ipsec(t, _v6_long_pkt(c, n, **kw), expect='auth', mutate=flip_ah_icv_v6,
                wire=what + ', ICV flipped')
    for auth, kw in (('sha1', {}), ('sha256', dict(n_dst=2, big=2))):
        u = _v6_long_tunnel(c, auth, **kw)
        what = 'AH tunnel IPv6 %s, outer header with %d bytes of headers' % (
            auth, 40 + len(raw(_v6_long_hdrs(**kw))))
        c.ipsec(u, c.inner(u, 60), wire=what)
        c.ipsec(u, c.inner(u, 60, family=6), mutate=route_v6_all, wire=what + ', changed en route')
        c.ipsec(u, c.inner(u, 60), expect='auth', mutate=route_v6_immutable_too,
                wire=what + ', an immutable option changed')
        c.ipsec(u, c.inner(u, 60), expect='auth', mutate=flip_ah_icv_v6,
                wire=what + ', ICV flipped')
    c.ipsec(t, _v6_long_pkt(c, 0), wire='AH transport IPv6 behind %d bytes of headers' % hdrs)


def issue3_hdrs():
    c = Case('i3_hdrs', 'IPv4 options and IPv6 extension headers before ESP/AH, '
             'offload on (v2): ESP transport keeps the options / extension headers; '
             'AH zeroes the mutable ones for the ICV (RFC 4302 3.3.3.1, A.1, A.2)')
    _hdr_frames(c)
    c2 = Case('i3_hdrs_v6_long', 'AH behind more than 224 bytes of IPv6 extension headers '
              '(hop-by-hop + several destination options), transport and tunnel (outer '
              'headers), mutable option data changed en route; more mutable data than one '
              'packet\'s scratch (up to a 6 KB payload); an immutable option changed or the '
              'ICV flipped fails and keeps the window')
    _long_v6_frames(c2)
    return [c, c2]


V1_ENC = (None, '3des', 'des', 'null')
V1_AUTH = (None, 'md5', 'sha1')


def _caps_base(name):
    c = Case(name, 'capability traffic: every family and algorithm class, IPv4 '
             'options, IPv6 extension headers, UDP-ESP, ICV failures, replay, '
             'no SA, non-IPsec')
    # the tunnel SAs carry both inner families: af-unspec
    tun = dict(mode='tunnel', af_unspec=True)
    g4 = c.sa(family=4, enc='aes128gcm16', **tun)
    g6 = c.sa(mode='transport', family=6, enc='aes256gcm16')
    b4 = c.sa(family=4, enc='aes128cbc', auth='sha256', **tun)
    b6 = c.sa(mode='transport', family=6, enc='aes256cbc', auth='sha1')
    d4 = c.sa(family=4, enc='3des', auth='sha1', **tun)
    m4 = c.sa(mode='transport', family=4, enc='des', auth='md5')
    n4 = c.sa(family=4, enc='null', auth='sha1', **tun)
    d6 = c.sa(mode='transport', family=6, enc='3des', auth='sha1')
    gm = c.sa(family=4, enc='aes128gmac', **tun)
    a4 = c.sa(proto='ah', mode='transport', family=4, auth='sha1')
    a6 = c.sa(proto='ah', family=6, auth='sha256', **tun)
    u4 = c.sa(family=4, enc='aes128gcm16', encap=(4500, 4500), **tun)
    ud = c.sa(family=4, enc='3des', auth='md5', encap=(4500, 4500), **tun)
    cc = c.sa(family=4, enc='aes128ccm8', **tun)
    ac = c.sa(proto='ah', mode='transport', family=6, auth='cmac')
    for sa in (g4, g6, b4, b6, d4, m4, n4, d6, gm, a4, a6, u4, ud, cc, ac):
        c.ipsec(sa, c.inner(sa, 0))
        c.ipsec(sa, c.inner(sa, 100, family=10 - sa.family if sa.mode == 'tunnel' else None))
        if sa.proto == 'ah':
            c.ipsec(sa, c.inner(sa, 30), expect='auth', mutate=V.flip_ah_icv)
        else:
            c.ipsec(sa, c.inner(sa, 30), expect='auth', mutate=V.flip_last_byte)
        c.ipsec(sa, c.inner(sa, 500))
        c.ipsec(sa, c.inner(sa, 10), seq=1, expect='replay')
    c.ipsec(d4, c.inner(d4, 10), vlan=33)
    c.ipsec(b4, c.inner(b4, 10), seq=0, expect='seq_zero')
    c.ipsec(n4, c.inner(n4, 10), nh=59, data=b'', expect='tfc_dummy', wire='ESP TFC dummy')
    c.ipsec(b4, c.inner(b4, 40), expect='invalid_packet_syntax',
            mutate=lambda b: V.fix_lengths(b[:len(b) - 16] + b[len(b) - 12:]),
            wire='ESP CBC ciphertext not a block multiple')
    stranger = Sa(c.rng, spi=0xdead0004, mode='tunnel', family=4, enc='3des', auth='sha1')
    c.ipsec(stranger, c.inner(d4, 10), expect='no_sa')
    c.plain(udp_datagram(4, 40000, 9000, b'hello'), 'non-IPsec: UDP v4')
    c.plain(udp_datagram(4, 4500, 4500, b'\xff'), 'non-IPsec: NAT keepalive')
    c.plain(udp_datagram(6, 500, 500, ike_header()), 'non-IPsec: IKE v6 on UDP 500')
    _hdr_frames(c)
    return c


def _excluded(pred):
    """software(info) for Case.variant from a per-(SA, header flags) test."""
    return lambda info: pred(info['sa'], info.get('flags', set()))


def _v1_excluded(sa, flags):
    return 'ipv6' in flags or sa.enc_id not in V1_ENC or sa.auth_id not in V1_AUTH


CAPS_VARIANTS = [
    # name suffix, options, excluded(sa, header flags)
    ('v1', ['--offload', 'v1'], _v1_excluded),
    ('v2', ['--offload', 'v2'], lambda sa, f: False),
    ('off', ['--no-offload'], lambda sa, f: True),
    ('gcm_only', ['--offload-algs', 'rfc4106(gcm(aes))'],
     lambda sa, f: sa.enc_id is None or V.ENC[sa.enc_id]['xfrm'] != 'rfc4106(gcm(aes))'),
    ('cbc_sha1', ['--offload-algs', 'cbc(aes),cbc(des3_ede),hmac(sha1)'],
     lambda sa, f: sa.enc_id not in (None, 'aes128cbc', 'aes256cbc', '3des') or
     sa.auth_id not in (None, 'sha1')),
    ('no_v4opts', ['--no-offload-ipv4-options'], lambda sa, f: 'ipv4_opts' in f),
    ('no_v6ext', ['--no-offload-ipv6-ext'], lambda sa, f: 'ipv6_ext' in f),
    ('no_udp', ['--no-offload-udp-esp'], lambda sa, f: 'udp_esp' in f),
    ('v1_narrow', ['--offload', 'v1', '--no-offload-udp-esp', '--no-offload-ipv4-options'],
     lambda sa, f: _v1_excluded(sa, f) or 'udp_esp' in f or 'ipv4_opts' in f),
]


def _with_variants(base, variants):
    """The base case, then the same traffic under each (suffix, rxsec args,
    excluded-SA predicate) variant."""
    return [base] + [base.variant('%s_%s' % (base.name, suffix),
                                  '%s; rxsec %s' % (base.description, ' '.join(args)),
                                  args, _excluded(pred))
                     for suffix, args, pred in variants]


def issue3_caps():
    return _with_variants(_caps_base('i3_caps'), CAPS_VARIANTS)


FAMILIES['issue3_hdrs'] = issue3_hdrs
FAMILIES['issue3_caps'] = issue3_caps


def _caps_nested_base(name):
    c = Case(name, 'nested SAs under the capabilities: tunnel ESP around transport '
             'ESP/AH, AH over ESP; flipped inner ICV; inner replay')
    gt = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    # bt carries an IPv6 inner packet too: af-unspec
    bt = c.sa(mode='tunnel', family=4, enc='aes128cbc', auth='sha1', af_unspec=True)
    gi = _inner_sa(c, 4, enc='aes256gcm16')
    bi = _inner_sa(c, 4, enc='3des', auth='sha1')
    ai = _inner_sa(c, 4, proto='ah', auth='sha1')
    gi6 = _inner_sa(c, 6, enc='aes128gcm16')
    esp = c.sa(mode='transport', family=4, enc='3des', auth='sha1')
    ah = c.sa(proto='ah', mode='transport', family=4, auth='sha1')
    for outer, inner, fam in ((gt, bi, 4), (bt, gi, 4), (gt, gi, 4), (bt, bi, 4),
                              (gt, ai, 4), (bt, gi6, 6)):
        c.nested(outer, inner, _inner_pkt(c, fam, 50))
        c.nested(outer, inner, _inner_pkt(c, fam, 0))
        c.nested(outer, inner, _inner_pkt(c, fam, 50), expect='inner_auth',
                 imutate=V.flip_ah_icv if inner.proto == 'ah' else V.flip_last_byte)
        c.nested(outer, inner, _inner_pkt(c, fam, 50), iseq=1, expect='replay')
    c.nested(ah, esp, _bundle_pkt(c, 4, 50))
    c.nested(ah, esp, _bundle_pkt(c, 4, 50), expect='inner_auth', imutate=V.flip_last_byte)
    return c


CAPS_NESTED_VARIANTS = [
    ('off', ['--no-offload'], lambda sa, f: True),
    ('gcm_only', ['--offload-algs', 'rfc4106(gcm(aes))'],
     lambda sa, f: sa.enc_id is None or V.ENC[sa.enc_id]['xfrm'] != 'rfc4106(gcm(aes))'),
    ('v1', ['--offload', 'v1'], _v1_excluded),
]


def issue3_caps_nested():
    return _with_variants(_caps_nested_base('i3_caps_nested'), CAPS_NESTED_VARIANTS)


FAMILIES['issue3_caps_nested'] = issue3_caps_nested


# ---------------------------------------------------------------------------
# Traffic selectors (`sel` in ip xfrm state): after integrity, anti-replay
# and decapsulation, the delivered packet must fall inside the selector of
# every SA it used (Linux __xfrm_policy_check, XfrmInStateMismatch), else it
# is dropped selector_mismatch with crypto_done 1 and CRYPTO_SUCCESS. The
# packet was authentic: its sequence number stays marked in the window.
# ---------------------------------------------------------------------------

RAW_L4 = {'udplite': 136, 'dccp': 33, 'mh': 135}


def _sel_pkt(c, family, src, dst, kind='udp', sport=50101, dport=9000, n=24, ext=(),
             df=True):
    """A packet for the selector cases. kind: udp, tcp, sctp, icmp (sport is
    the type, dport the code; IPv4 ICMP or ICMPv6 echo), or udplite, dccp,
    mh (mobility header, sport = MH type) whose headers scapy lacks and are
    written by hand (the selector reads only ports and type). ext: IPv6
    extension headers (scapy layers) in front of the transport header."""
    from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest
    from scapy.layers.sctp import SCTP
    tag = '%s pkt %02d' % (c.name, len(c.entries))
    body = Raw(V.payload_bytes(tag, n))
    if family == 4:
        ip = IP(src=src, dst=dst, id=0x500 + len(c.entries), flags='DF' if df else 0)
    else:
        ip = IPv6(src=src, dst=dst, fl=0x5e1)
    if kind == 'udp':
        l4 = UDP(sport=sport, dport=dport) / body
    elif kind == 'tcp':
        l4 = TCP(sport=sport, dport=dport, seq=1, flags='PA') / body
    elif kind == 'sctp':
        l4 = SCTP(sport=sport, dport=dport) / body
    elif kind == 'icmp' and family == 4:
        l4 = ICMP(type=sport, code=dport, id=7, seq=len(c.entries)) / body
    elif kind == 'icmp':
        l4 = {128: ICMPv6EchoRequest, 129: ICMPv6EchoReply}[sport](
            code=dport, id=7, seq=len(c.entries), data=body.load)
    elif kind == 'mh':
        # payload proto 59, length 1 (16 bytes), type, reserved, checksum 0
        l4 = Raw(bytes([59, 1, sport, 0, 0, 0]) + bytes(10))
    else:
        # ports, then 4 bytes of the rest of the header (not checked here)
        l4 = Raw(struct.pack('!HHL', sport, dport, 0x08000000)) / body
    for h in ext:
        ip = ip / h
    if kind in RAW_L4:
        last = ip.lastlayer()
        if family == 4:
            last.proto = RAW_L4[kind]
        else:
            last.nh = RAW_L4[kind]
    return V.freeze(ip / l4)


def _ip(ipb):
    p = IP(ipb) if ipb[0] >> 4 == 4 else IPv6(ipb)
    assert raw(p) == ipb
    return p


def _frags(pkt, size):
    """pkt as its sender fragments it (scapy), each fragment a packet of its own."""
    return [_ip(b) for b in V.fragments_of(raw(pkt), size, ipid=0x5f0)]


def _mismatch_then_replay(c, sa, bad, good, mutate_icv):
    """A packet outside the selector, its sequence number again with a packet
    inside (replay: the mismatch was authentic and marked the window), and
    a forged packet outside the selector (the ICV is checked first)."""
    seq = sa.next_seq
    c.ipsec(sa, bad, expect='selector_mismatch')
    c.ipsec(sa, good, seq=seq, expect='replay', wire='%s %s seq=0x%x again, inside the selector'
            % (sa.proto.upper(), sa.mode, seq))
    c.ipsec(sa, bad, expect='auth', mutate=mutate_icv)


def _sel_tun4():
    c = Case('sel_tun4', 'tunnel SAs with address selectors (ESP GCM and CBC+SHA256, AH, '
             'ESP in UDP; IPv4 and IPv6 outer): inner source or destination outside, inner '
             'IPv6 under an IPv4 selector, replay after a mismatch, ICV failure first',
             'tunnel', 'IPv4')
    isrc, idst = INNER[4]
    gcm = c.sa(mode='tunnel', family=4, enc='aes128gcm16',
               sel=dict(src='198.51.100.0/24', dst=idst + '/32'))
    c.ipsec(gcm, _sel_pkt(c, 4, isrc, idst))
    c.ipsec(gcm, _sel_pkt(c, 4, '198.51.100.200', idst, n=300))
    c.ipsec(gcm, _sel_pkt(c, 4, '198.51.100.1', idst, kind='icmp', sport=8, dport=0))
    c.ipsec(gcm, _sel_pkt(c, 4, isrc, idst, kind='tcp', sport=40000, dport=443))
    c.ipsec(gcm, _sel_pkt(c, 4, '198.51.101.10', idst), expect='selector_mismatch')
    c.ipsec(gcm, _sel_pkt(c, 4, isrc, '203.0.113.21'), expect='selector_mismatch')
    c.ipsec(gcm, _sel_pkt(c, 6, *INNER[6]), expect='selector_mismatch')
    _mismatch_then_replay(c, gcm, _sel_pkt(c, 4, '10.0.0.1', idst), _sel_pkt(c, 4, isrc, idst),
                          V.flip_last_byte)
    c.ipsec(gcm, _sel_pkt(c, 4, isrc, idst), seq=gcm.next_seq - 1)  # the forged one's seq
    # source restricted only; the selector after the algorithms
    cbc = c.sa(mode='tunnel', family=4, enc='aes128cbc', auth='sha256', sel_last=True,
               sel=dict(src='198.51.100.0/22', dst='0.0.0.0/0'))
    c.ipsec(cbc, _sel_pkt(c, 4, '198.51.103.255', '192.0.2.77'))
    c.ipsec(cbc, _sel_pkt(c, 4, '198.51.104.1', idst), expect='selector_mismatch')
    c.ipsec(cbc, _sel_pkt(c, 6, *INNER[6]), expect='selector_mismatch')  # src /22 is IPv4
    # IPv6 outer, IPv4 selector: the selector is about the inner packet
    v6o = c.sa(mode='tunnel', family=6, enc='aes256gcm16',
               sel=dict(src=isrc + '/32', dst='203.0.113.0/24'))
    c.ipsec(v6o, _sel_pkt(c, 4, isrc, '203.0.113.99'))
    c.ipsec(v6o, _sel_pkt(c, 4, isrc, '203.0.114.20'), expect='selector_mismatch')
    c.ipsec(v6o, _sel_pkt(c, 6, *INNER[6]), expect='selector_mismatch')
    ah = c.sa(proto='ah', mode='tunnel', family=4, auth='sha256',
              sel=dict(src=isrc + '/32', dst=idst + '/32'))
    c.ipsec(ah, _sel_pkt(c, 4, isrc, idst))
    _mismatch_then_replay(c, ah, _sel_pkt(c, 4, idst, isrc), _sel_pkt(c, 4, isrc, idst),
                          V.flip_ah_icv)
    natt = c.sa(mode='tunnel', family=4, enc='aes128gcm16', encap=(4500, 4500),
                sel=dict(src='198.51.100.0/24', dst='203.0.113.0/24'))
    c.ipsec(natt, _sel_pkt(c, 4, isrc, idst))
    c.ipsec(natt, _sel_pkt(c, 4, isrc, '192.0.2.20'), expect='selector_mismatch')
    c.ipsec(gcm, _sel_pkt(c, 4, isrc, idst))
    return c


def _sel_ports():
    c = Case('sel_ports', 'selectors with a protocol and ports / ICMP type and code: '
             'transport ESP GCM, CBC+SHA256 and AH, ESP fragments reassembled, inner '
             'IPv4 fragments in a tunnel (ports read as 0), UDP-Lite, SCTP, DCCP '
             '(ports not read), sport 0 (any) and type 0 (must be 0), a cut ICMP header')
    s4, d4 = OUTER[4]
    host = dict(src=s4 + '/32', dst=d4 + '/32')

    def sa(proto='udp', esp='gcm', **ports):
        kw = dict(enc='aes128gcm16') if esp == 'gcm' else \
            dict(enc='aes256cbc', auth='sha256') if esp == 'cbc' else \
            dict(proto='ah', auth='sha1')
        return c.sa(mode='transport', family=4, sel=dict(host, proto=proto, **ports), **kw)

    def p(kind='udp', sport=50101, dport=9000, **kw):
        return _sel_pkt(c, 4, s4, d4, kind, sport, dport, **kw)

    # as in the Linux dump esp_trans4_aesgcm128_sel
    gcm = sa(dport=9000)
    c.ipsec(gcm, p())
    c.ipsec(gcm, p(sport=1, n=700))
    c.ipsec(gcm, p(dport=9001), expect='selector_mismatch')
    c.ipsec(gcm, p(sport=9000, dport=50101), expect='selector_mismatch')
    c.ipsec(gcm, p('tcp'), expect='selector_mismatch')
    c.ipsec(gcm, p('icmp', 8, 0), expect='selector_mismatch')
    _mismatch_then_replay(c, gcm, p(dport=9002), p(), V.flip_last_byte)
    # whole again after reassembly: ports read from the reassembled datagram
    c.fragmented(gcm, p(n=1400, df=False), 576)
    c.fragmented(gcm, p(dport=9001, n=1400, df=False), 576, expect='selector_mismatch')
    cbc = sa('udp', 'cbc', sport=50101, dport=9000)
    c.ipsec(cbc, p())
    c.ipsec(cbc, p(sport=50102), expect='selector_mismatch')
    c.ipsec(cbc, p(dport=9001), expect='selector_mismatch')
    # iproute2 sets no mask for `sport 0`: any source port
    zero = sa('udp', sport=0, dport=9000)
    c.ipsec(zero, p(sport=0))
    c.ipsec(zero, p(sport=50101))
    c.ipsec(zero, p(sport=0, dport=9001), expect='selector_mismatch')
    icmp = sa('icmp', 'cbc', type=8, code=0)
    c.ipsec(icmp, p('icmp', 8, 0))
    c.ipsec(icmp, p('icmp', 0, 0), expect='selector_mismatch')        # echo reply
    c.ipsec(icmp, p('icmp', 8, 1), expect='selector_mismatch')
    c.ipsec(icmp, p('udp', 8, 0), expect='selector_mismatch')
    # but `type 0` and `code 0` are set: type and code must be 0; an ICMP
    # header of 1 byte has neither, and reads as 0 0
    reply = sa('icmp', type=0, code=0)
    c.ipsec(reply, p('icmp', 0, 0))
    c.ipsec(reply, p('icmp', 8, 0), expect='selector_mismatch')
    c.ipsec(reply, V.freeze(IP(src=s4, dst=d4, proto=1, id=0x5aa, flags='DF') / Raw(b'\x08')),
            wire='ESP transport, ICMP header of 1 byte (type 8, no code)')
    tcp = sa('tcp', 'ah', dport=443)
    c.ipsec(tcp, p('tcp', 40000, 443))
    c.ipsec(tcp, p('tcp', 40000, 80), expect='selector_mismatch')
    c.ipsec(tcp, p('udp', 40000, 443), expect='selector_mismatch')
    anytcp = sa('tcp')
    c.ipsec(anytcp, p('tcp', 1, 2))
    c.ipsec(anytcp, p('udp', 1, 2), expect='selector_mismatch')
    sctp = sa('sctp', dport=9000)
    c.ipsec(sctp, p('sctp', 5000, 9000))
    c.ipsec(sctp, p('sctp', 5000, 9001), expect='selector_mismatch')
    lite = sa(136)                       # UDP-Lite by number (iproute2 takes no ports)
    c.ipsec(lite, p('udplite', 5000, 9000))
    c.ipsec(lite, p('udp', 5000, 9000), expect='selector_mismatch')
    # DCCP ports are not read (Linux's xfrm_flowi_sport/dport know no DCCP)
    anydccp = sa('dccp')
    c.ipsec(anydccp, p('dccp', 5000, 6000))
    dccp = sa('dccp', dport=6000)
    c.ipsec(dccp, p('dccp', 5000, 6000), expect='selector_mismatch')

    # inner IPv4 fragments in a tunnel: protocol read, ports 0
    isrc, idst = INNER[4]
    tport = c.sa(mode='tunnel', family=4, enc='aes128gcm16',
                 sel=dict(src=isrc + '/32', dst=idst + '/32', proto='udp', dport=9000))
    tudp = c.sa(mode='tunnel', family=4, enc='aes256cbc', auth='sha1',
                sel=dict(src=isrc + '/32', dst=idst + '/32', proto='udp'))
    ttcp = c.sa(mode='tunnel', family=4, enc='aes128gcm16',
                sel=dict(src='0.0.0.0/0', dst='0.0.0.0/0', proto='tcp'))
    c.ipsec(tport, _sel_pkt(c, 4, isrc, idst))
    whole = _sel_pkt(c, 4, isrc, idst, n=1000, df=False)
    first, last = _frags(whole, 512)
    c.ipsec(tport, first, expect='selector_mismatch', wire='ESP tunnel, inner first fragment')
    c.ipsec(tport, last, expect='selector_mismatch', wire='ESP tunnel, inner last fragment')
    for f in (first, last):
        c.ipsec(tudp, f, wire='ESP tunnel, inner fragment, selector proto udp without ports')
        c.ipsec(ttcp, f, expect='selector_mismatch', wire='ESP tunnel, inner UDP fragment, '
                'selector proto tcp')
    c.ipsec(tport, _sel_pkt(c, 4, isrc, idst))
    return c


def _sel_tun6():
    from scapy.layers.inet6 import (IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                    IPv6ExtHdrHopByHop, IPv6ExtHdrRouting)
    c = Case('sel_tun6', 'IPv6 selectors: tunnel with /64 and /128 prefixes and UDP port; '
             'hop-by-hop, routing and destination options before UDP (ports found), '
             'fragment headers (ports 0, atomic too); ICMPv6 type, mobility header type; '
             'transport behind destination options', 'tunnel', 'IPv6')
    isrc, idst = INNER[6]
    tun = c.sa(mode='tunnel', family=6, enc='aes128gcm16',
               sel=dict(src='2001:db8:0:a::/64', dst=idst + '/128', proto='udp', dport=9000))

    def p(src=isrc, dst=idst, **kw):
        return _sel_pkt(c, 6, src, dst, **kw)
    c.ipsec(tun, p())
    c.ipsec(tun, p(src='2001:db8:0:a:ffff::1', n=500))
    c.ipsec(tun, p(src='2001:db8:0:c::10'), expect='selector_mismatch')
    c.ipsec(tun, p(dst='2001:db8:0:b::21'), expect='selector_mismatch')
    c.ipsec(tun, p(dport=9001), expect='selector_mismatch')
    c.ipsec(tun, _sel_pkt(c, 4, *INNER[4]), expect='selector_mismatch')
    c.ipsec(tun, p(ext=[IPv6ExtHdrHopByHop()]), wire='ESP tunnel, inner hop-by-hop + UDP')
    c.ipsec(tun, p(ext=[IPv6ExtHdrDestOpt()]), wire='ESP tunnel, inner dest-opts + UDP')
    c.ipsec(tun, p(ext=[IPv6ExtHdrHopByHop(), IPv6ExtHdrRouting(), IPv6ExtHdrDestOpt()]),
            wire='ESP tunnel, inner hop-by-hop + routing + dest-opts + UDP')
    c.ipsec(tun, p(dport=9001, ext=[IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt()]),
            expect='selector_mismatch', wire='ESP tunnel, inner hop-by-hop + dest-opts + '
            'UDP to another port')
    c.ipsec(tun, p(ext=[IPv6ExtHdrFragment(id=0x5f1)]), expect='selector_mismatch',
            wire='ESP tunnel, inner atomic fragment (offset 0, M 0) of UDP: ports 0')
    first, last = _frags(p(n=900), 504)
    c.ipsec(tun, first, expect='selector_mismatch', wire='ESP tunnel, inner first fragment')
    _mismatch_then_replay(c, tun, last, p(), V.flip_last_byte)
    anyudp = c.sa(mode='tunnel', family=6, enc='aes256cbc', auth='sha256',
                  sel=dict(src='2001:db8::/32', dst='2001:db8::/32', proto='udp'))
    for f in (first, last):
        c.ipsec(anyudp, f, wire='ESP tunnel, inner fragment, selector proto udp without ports')
    c.ipsec(anyudp, _ip(V.fragments_of(raw(p(n=900, ext=[IPv6ExtHdrHopByHop()])), 504)[0]),
            wire='ESP tunnel, inner hop-by-hop + fragment header, first fragment')
    c.ipsec(anyudp, p(kind='tcp'), expect='selector_mismatch')
    icmp = c.sa(mode='tunnel', family=6, enc='aes128gcm16',
                sel=dict(src='::/0', dst=idst + '/128', proto='ipv6-icmp', type=128))
    c.ipsec(icmp, p(kind='icmp', sport=128, dport=0))
    c.ipsec(icmp, p(kind='icmp', sport=128, dport=5))     # no code given: any
    c.ipsec(icmp, p(kind='icmp', sport=129, dport=0), expect='selector_mismatch')
    mh = c.sa(mode='tunnel', family=6, enc='aes128gcm16',
              sel=dict(src=isrc + '/128', dst=idst + '/128', proto='mobility-header', type=5))
    c.ipsec(mh, p(kind='mh', sport=5), wire='ESP tunnel, inner mobility header type 5')
    c.ipsec(mh, p(kind='mh', sport=6), expect='selector_mismatch',
            wire='ESP tunnel, inner mobility header type 6')
    # transport: the selector sees the header as delivered, dest-opts included
    s6, d6 = OUTER[6]
    tra = c.sa(mode='transport', family=6, enc='aes256gcm16',
               sel=dict(src=s6 + '/128', dst=d6 + '/128', proto='udp', dport=9000))
    c.ipsec(tra, p(s6, d6))
    c.ipsec(tra, p(s6, d6, ext=[IPv6ExtHdrDestOpt()]), wire='ESP transport IPv6 behind '
            'dest-opts')
    c.ipsec(tra, p(s6, d6, dport=9001, ext=[IPv6ExtHdrDestOpt()]), expect='selector_mismatch',
            wire='ESP transport IPv6 behind dest-opts, UDP to another port')
    c.ipsec(tra, p(s6, d6, kind='icmp', sport=128, dport=0), expect='selector_mismatch')
    c.ipsec(tun, p())
    return c


def _sel_wild():
    c = Case('sel_wild', 'selectors that match every address, and the IP version a '
             'tunnel SA decapsulates (Linux: the mode of the selector\'s family): '
             '0.0.0.0/0 and ::/0 match any address, but a tunnel SA with a /0 selector '
             'takes only inner packets of that selector\'s family, one without sel only its '
             'own family (the kernel gives it the SA\'s), the other dropped '
             'selector_mismatch; flag af-unspec (no selector) takes both; IPv4, IPv6, TCP, '
             'ICMP, later fragments; transport SAs with /0 and without sel deliver all')
    any4 = dict(src='0.0.0.0/0', dst='0.0.0.0/0')
    any6 = dict(src='::/0', dst='::/0')
    sas = [c.sa(mode='tunnel', family=4, enc='aes128gcm16', sel=any4),
           c.sa(mode='tunnel', family=6, enc='aes128gcm16', sel=any6),
           c.sa(mode='tunnel', family=4, enc='aes128gcm16', sel=any6),
           c.sa(mode='tunnel', family=4, enc='aes256cbc', auth='sha256', af_unspec=True),
           c.sa(mode='tunnel', family=6, enc='aes128gcm16', af_unspec=True),
           c.sa(mode='tunnel', family=4, enc='aes128gcm16')]
    for sa in sas:
        def expect(fam):
            return 'ok' if sa.takes(fam) else 'selector_mismatch'
        for fam in (4, 6):
            c.ipsec(sa, _sel_pkt(c, fam, *INNER[fam]), expect=expect(fam))
            c.ipsec(sa, _sel_pkt(c, fam, *INNER[fam], kind='tcp', sport=1, dport=2),
                    expect=expect(fam))
        c.ipsec(sa, _sel_pkt(c, 4, *INNER[4], kind='icmp', sport=0, dport=0), expect=expect(4))
        c.ipsec(sa, _frags(_sel_pkt(c, 4, *INNER[4], n=600, df=False), 304)[1],
                expect=expect(4), wire='ESP tunnel, inner later fragment')
    for fam, sel in ((4, any4), (6, any6), (4, None), (6, None)):
        sa = c.sa(mode='transport', family=fam, enc='aes128gcm16', sel=sel)
        c.ipsec(sa, _sel_pkt(c, fam, *OUTER[fam]))
        c.ipsec(sa, _sel_pkt(c, fam, *OUTER[fam], kind='sctp', sport=3, dport=4))
    ah = c.sa(proto='ah', mode='transport', family=4, auth='sha256', sel=any4)
    c.ipsec(ah, _sel_pkt(c, 4, *OUTER[4], kind='icmp', sport=8, dport=0))
    return c


def _family_wire(sa, seq, text):
    """ipsec()'s wire text for sa's packet with seq (None: the next), and text."""
    return '%s%s spi=0x%08x seq=0x%x %s, %s' % (
        sa.proto.upper(), 'UDP' if sa.encap else '', sa.spi,
        sa.next_seq if seq is None else seq, sa.mode, text)


def _family_then_replay(c, sa, bad, good, mutate_icv, what):
    """_mismatch_then_replay for an inner packet of the other IP version
    (what), and the forged packet's sequence number fresh afterwards."""
    seq = sa.next_seq
    c.ipsec(sa, bad, expect='selector_mismatch', wire=_family_wire(sa, seq, 'inner ' + what))
    c.ipsec(sa, good, seq=seq, expect='replay',
            wire=_family_wire(sa, seq, 'again, inner of the selector\'s family'))
    c.ipsec(sa, bad, expect='auth', mutate=mutate_icv,
            wire=_family_wire(sa, None, 'inner %s, ICV flipped' % what))
    # the forged packet moved no window: its sequence number is fresh
    c.ipsec(sa, good, seq=sa.next_seq - 1)


def _sel_family():
    """Linux decapsulates a tunnel SA's inner packet with the mode of the
    selector's family (xfrm_input: x->inner_mode unless x->sel.family is
    AF_UNSPEC): xfrm4_remove_tunnel_encap takes IPv4 (IPIP) only, xfrm6's
    IPv6 only; the other is XfrmInStateModeError, after the replay window
    advanced. An SA without sel has the SA's family (the kernel fills it in),
    one with flag af-unspec none."""
    c = Case('sel_family', 'the IP version a tunnel SA decapsulates: an IPv4 tunnel SA '
             'without sel drops an inner IPv6 packet selector_mismatch (its window moved: '
             'the number again is a replay; a forged one moves nothing), ICMPv6 and IPv6 '
             'later fragments too; a TFC dummy is tfc_dummy first; sel ::/0 on an IPv4 SA '
             'takes IPv6 only, 0.0.0.0/0 on an IPv6 SA IPv4 only, sel proto udp the SA\'s '
             'family; flag af-unspec takes both; ESP in UDP (IPv4 and IPv6) and AH tunnels '
             'alike; nested: an IPv4 tunnel around an IPv6 packet holding transport ESP/AH '
             'is dropped after the outer window moved (its number again is a replay; the inner '
             'layer is never seen, its number stays fresh), '
             'through an af-unspec tunnel delivered; an unknown inner SA', 'tunnel')

    def p(fam, **kw):
        return _sel_pkt(c, fam, *INNER[fam], **kw)

    def send(sa, fam, what='', pkt=None, **kw):
        """An inner packet of IP version fam (pkt, else p(fam)) on sa:
        delivered if sa takes fam, else selector_mismatch."""
        kw.setdefault('expect', 'ok' if sa.takes(fam) else 'selector_mismatch')
        c.ipsec(sa, pkt or p(fam), wire=_family_wire(sa, kw.get('seq'), 'inner IPv%d%s' %
                                                     (fam, what)), **kw)

    def later(fam):
        return _frags(p(fam, n=600, df=False), 304)[1]

    any4 = dict(src='0.0.0.0/0', dst='0.0.0.0/0')
    any6 = dict(src='::/0', dst='::/0')
    # an IPv4 tunnel SA without sel: an IPv4 selector
    t4 = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    send(t4, 4)
    _family_then_replay(c, t4, p(6), p(4), V.flip_last_byte, 'IPv6')
    send(t4, 6, ' TCP', p(6, kind='tcp', sport=1, dport=2))
    send(t4, 6, ' ICMPv6 echo', p(6, kind='icmp', sport=128, dport=0))
    send(t4, 6, ' later fragment', later(6))
    send(t4, 4, ' later fragment', later(4))
    # no inner packet at all: a TFC dummy is one whatever its bytes
    c.ipsec(t4, p(6), nh=59, data=b'', expect='tfc_dummy',
            wire=_family_wire(t4, None, 'TFC dummy (nh 59), empty'))
    c.ipsec(t4, p(6), nh=59, expect='tfc_dummy',
            wire=_family_wire(t4, None, 'TFC dummy (nh 59) whose bytes are an IPv6 packet'))
    send(t4, 4)
    # explicit /0 selectors of the other family than the SA's
    s6 = c.sa(mode='tunnel', family=4, enc='aes256cbc', auth='sha256', sel=any6)
    send(s6, 6)
    send(s6, 6, ' TCP', p(6, kind='tcp', sport=1, dport=2))
    send(s6, 4)
    send(s6, 4, ' later fragment', later(4))
    _family_then_replay(c, s6, p(4, kind='icmp', sport=8, dport=0), p(6), V.flip_last_byte,
                        'IPv4 ICMP echo')
    s4 = c.sa(mode='tunnel', family=6, enc='aes128gcm16', sel=any4, sel_last=True)
    send(s4, 4)
    send(s4, 6)
    send(s4, 6, ' later fragment', later(6))
    send(s4, 4, pkt=p(4, n=400))
    # a selector without addresses has the SA's family
    u6 = c.sa(mode='tunnel', family=6, enc='aes128gcm16', sel=dict(proto='udp'))
    send(u6, 6)
    send(u6, 4)
    send(u6, 6, ' TCP', p(6, kind='tcp'), expect='selector_mismatch')     # the protocol's
    # flag af-unspec: no selector, both families
    for fam in (4, 6):
        sa = c.sa(mode='tunnel', family=fam, enc='aes128gcm16', af_unspec=True)
        for inner in (4, 6):
            send(sa, inner)
            send(sa, inner, ' later fragment', later(inner))
    # ESP in UDP and AH: the same rule
    n4 = c.sa(mode='tunnel', family=4, enc='aes128gcm16', encap=(4500, 4500))
    send(n4, 4)
    _family_then_replay(c, n4, p(6), p(4), V.flip_last_byte, 'IPv6')
    n6 = c.sa(mode='tunnel', family=6, enc='aes256cbc', auth='sha1', encap=(4500, 4500))
    send(n6, 6)
    send(n6, 4)
    send(n6, 6)
    a6 = c.sa(proto='ah', mode='tunnel', family=6, auth='sha256')
    send(a6, 6)
    _family_then_replay(c, a6, p(4), p(6), V.flip_ah_icv, 'IPv4')
    a4 = c.sa(proto='ah', mode='tunnel', family=4, auth='sha1', sel=any4)
    send(a4, 6)
    send(a4, 4)
    # nested: the outer tunnel's inner packet is IPv6, holding transport ESP/AH
    tn = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    tu = c.sa(mode='tunnel', family=4, enc='aes256gcm16', af_unspec=True)
    ie4 = _inner_sa(c, 4, enc='aes128gcm16')
    ie6 = _inner_sa(c, 6, enc='aes128cbc', auth='sha1')
    ia6 = _inner_sa(c, 6, proto='ah', auth='sha256')
    c.nested(tn, ie4, p(4))
    oseq, iseq = tn.next_seq, ie6.next_seq
    c.nested(tn, ie6, p(6), expect='selector_mismatch', inner_seen=False)
    c.nested(tn, ie4, p(4), oseq=oseq, expect='replay')     # the outer window moved
    c.nested(tu, ie6, p(6), iseq=iseq)      # the inner layer was never seen
    c.nested(tu, ie6, p(6))
    c.nested(tn, ia6, p(6), expect='selector_mismatch', inner_seen=False)
    c.nested(tu, ia6, p(6))
    c.nested(tu, ie4, p(4))
    # the inner SA unknown: the inner IPv6 packet still is IPv6
    ghost = _stranger_inner(c, 6, enc='aes128gcm16')
    c.nested(tn, ghost, p(6), inner_known=False, expect='selector_mismatch')
    c.nested(tu, ghost, p(6), inner_known=False)
    c.nested(tn, ie4, p(4))
    send(t4, 4)
    return c


def _sel_nested():
    c = Case('sel_nested', 'nested SAs: every SA used checks the packet finally '
             'delivered (the outer tunnel\'s selector sees the inner UDP, not the inner '
             'ESP): outer violated, inner violated, both; replay of either layer after a '
             'mismatch; an unknown inner SA (its ESP packet delivered) under a selector '
             'with and without proto; AH over ESP')
    fam = 4
    isrc, idst = INNER[fam]
    host = dict(src=isrc + '/32', dst=idst + '/32')
    tun = c.sa(mode='tunnel', family=fam, enc='aes128gcm16',
               sel=dict(src=isrc + '/32', dst='203.0.113.0/24', proto='udp', dport=9000))
    iesp = _inner_sa(c, fam, enc='aes128cbc', auth='sha1',
                     sel=dict(host, proto='udp', sport=50101))
    iah = _inner_sa(c, fam, proto='ah', auth='sha256', sel=dict(host, proto='udp'))

    def p(sport=50101, dport=9000, kind='udp', family=fam):
        return _sel_pkt(c, family, *INNER[family], kind=kind, sport=sport, dport=dport)
    c.nested(tun, iesp, p())
    c.nested(tun, iesp, p(dport=9001), expect='selector_mismatch')     # the outer's
    c.nested(tun, iesp, p(sport=50102), expect='selector_mismatch')    # the inner's
    c.nested(tun, iesp, p(sport=50102, dport=9001), expect='selector_mismatch')
    c.nested(tun, iesp, p(kind='icmp', sport=8, dport=0), expect='selector_mismatch')
    c.nested(tun, iah, p(sport=7))
    c.nested(tun, iah, p(kind='tcp'), expect='selector_mismatch')
    # both windows marked by a mismatch: either sequence number again is a replay
    oseq, iseq = tun.next_seq, iesp.next_seq
    c.nested(tun, iesp, p(dport=9003), expect='selector_mismatch')
    c.nested(tun, iesp, p(), oseq=oseq, expect='replay')
    c.nested(tun, iesp, p(), iseq=iseq, expect='replay')
    c.nested(tun, iesp, p())
    # inner SA unknown: the selector sees the inner ESP packet (protocol 50)
    ghost = _stranger_inner(c, fam, enc='aes128gcm16')
    c.nested(tun, ghost, p(), inner_known=False, expect='selector_mismatch')
    addr_only = c.sa(mode='tunnel', family=fam, enc='aes256gcm16', sel=host)
    c.nested(addr_only, ghost, p(), inner_known=False)
    c.nested(addr_only, iesp, p())
    c.nested(addr_only, iesp, p(sport=1), expect='selector_mismatch')
    # a flipped inner ICV beats a mismatch
    c.nested(tun, iesp, p(dport=1), expect='inner_auth', imutate=V.flip_last_byte)
    # IPv6 inside IPv6
    isrc6, idst6 = INNER[6]
    tun6 = c.sa(mode='tunnel', family=6, enc='aes128gcm16',
                sel=dict(src='2001:db8:0:a::/64', dst='2001:db8:0:b::/64'))
    iesp6 = _inner_sa(c, 6, enc='aes256gcm16',
                      sel=dict(src=isrc6 + '/128', dst=idst6 + '/128', proto='udp',
                               dport=9000))
    c.nested(tun6, iesp6, p(family=6))
    c.nested(tun6, iesp6, p(family=6, dport=53), expect='selector_mismatch')
    # AH over ESP under one header (both transport, the outer addresses)
    s4, d4 = OUTER[4]
    ohost = dict(src=s4 + '/32', dst=d4 + '/32')
    ah = c.sa(proto='ah', mode='transport', family=4, auth='sha256',
              sel=dict(ohost, proto='udp', dport=9000))
    esp = c.sa(mode='transport', family=4, enc='aes128cbc', auth='sha256',
               sel=dict(ohost, proto='udp', sport=50101))

    def b(sport=50101, dport=9000):
        return _sel_pkt(c, 4, s4, d4, sport=sport, dport=dport)
    c.nested(ah, esp, b())
    c.nested(ah, esp, b(dport=9001), expect='selector_mismatch')
    c.nested(ah, esp, b(sport=50102), expect='selector_mismatch')
    c.nested(ah, esp, b())
    c.nested(tun, iesp, p())
    return c


def _quoted(c, family, src=None, dst=None, kind='udp', sport=9000, dport=50101, n=40,
            keep=None, frag=False, opts=False, ext=()):
    """The bytes of a packet this host sent (src: ours, dst: the peer; by
    default the inner addresses INNER[family] backwards), as an ICMP error
    quotes it: kind udp, tcp or icmp (sport: the ICMP type, dport
    the code); the whole packet, or its fixed IP header (and options /
    extension headers ext) and `keep` bytes behind it, its length field
    still the whole packet's. frag: an IPv4 first fragment (MF set); opts:
    an IPv4 header with a router-alert option (IHL 6)."""
    from scapy.layers.inet import IPOption_Router_Alert
    from scapy.layers.inet6 import ICMPv6EchoRequest
    if src is None:
        src = INNER[family][1]
    if dst is None:
        dst = INNER[family][0]
    body = Raw(V.payload_bytes('%s quoted %02d' % (c.name, len(c.entries)), n))
    if family == 4:
        ip = IP(src=src, dst=dst, id=0x700 + len(c.entries), flags='MF' if frag else 'DF',
                options=[IPOption_Router_Alert()] if opts else [])
    else:
        ip = IPv6(src=src, dst=dst, fl=0x5e2)
        for h in ext:
            ip = ip / h
    if kind == 'udp':
        l4 = UDP(sport=sport, dport=dport) / body
    elif kind == 'tcp':
        l4 = TCP(sport=sport, dport=dport, seq=1, flags='S') / body
    elif family == 4:
        l4 = ICMP(type=sport, code=dport, id=9, seq=len(c.entries)) / body
    else:
        l4 = ICMPv6EchoRequest(code=dport, id=9, seq=len(c.entries), data=body.load)
    b = raw(ip / l4)
    if keep is not None:
        hl = V.ip_hdr_len(b) if family == 4 else len(raw(ip))
        b = b[:hl + keep]
    return b


def _icmp_msg(c, family, src, dst, quoted, type_, code=0, ext=(), mtu=1400):
    """An ICMP (IPv4) or ICMPv6 message src -> dst of type_/code whose body
    (8 bytes after the ICMP header start) is `quoted`: destination
    unreachable, time exceeded, packet too big (ICMPv6, mtu) or an echo
    request (its data the quoted bytes). ext: IPv6 extension headers in
    front of the ICMPv6 header."""
    from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6PacketTooBig,
                                    ICMPv6TimeExceeded)
    n = len(c.entries)
    if family == 4:
        ip = IP(src=src, dst=dst, id=0x600 + n, flags='DF')
        if type_ == 8:
            l4 = ICMP(type=8, code=code, id=7, seq=n) / Raw(quoted)
        elif type_ == 3 and code == 4:
            l4 = ICMP(type=3, code=4, nexthopmtu=mtu) / Raw(quoted)
        else:
            l4 = ICMP(type=type_, code=code) / Raw(quoted)
    else:
        ip = IPv6(src=src, dst=dst, fl=0x5e3)
        for h in ext:
            ip = ip / h
        if type_ == 128:
            l4 = ICMPv6EchoRequest(code=code, id=7, seq=n, data=quoted)
        else:
            l4 = {1: ICMPv6DestUnreach, 2: ICMPv6PacketTooBig,
                  3: ICMPv6TimeExceeded}[type_](code=code)
            if type_ == 2:
                l4.mtu = mtu
            l4 = l4 / Raw(quoted)
    pkt = V.freeze(ip / l4)
    assert raw(pkt).endswith(quoted)
    return pkt


ICMP_TYPES = {4: {'unreach': (3, 3), 'needfrag': (3, 4), 'ttl': (11, 0), 'param': (12, 0),
                  'echo': (8, 0)},
              6: {'unreach': (1, 4), 'toobig': (2, 0), 'ttl': (3, 0), 'echo': (128, 0)}}


def _sel_icmp():
    """flag icmp (XFRM_STATE_ICMP), as Linux's icmp_rcv / icmpv6_rcv apply
    it: an ICMP or ICMPv6 message (not a fragment) outside the selectors
    is still taken when the last SA applied has flag icmp and the packet it
    quotes (8 bytes behind the ICMP header start; the ICMP message holding at
    least the quoted fixed IP header), read backwards (addresses swapped,
    TCP/UDP/UDP-Lite/SCTP ports swapped, ICMP type and code not), is
    inside the selector of every SA applied (xfrm4/6_policy_check_reverse)."""
    from scapy.layers.inet6 import IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop
    c = Case('sel_icmp', 'flag icmp: ICMP destination unreachable / time exceeded / '
             'parameter problem / echo and ICMPv6 packet too big / unreachable / time '
             'exceeded / echo (behind destination options too) from outside a udp dport '
             '9000 selector, quoting a UDP packet this host sent from port 9000 (read '
             'backwards: inside) delivered, tunnel and transport, IPv4 and IPv6, ESP and AH; '
             'quoting other ports, the ports not swapped, another host, TCP, a fragment, '
             'a header cut after 2 UDP bytes (ports 0), an ICMP message too short for the '
             'quoted header, an inner ICMP fragment: selector_mismatch; cut after 4 bytes, '
             'quoted IPv4 options, quoted IPv6 destination options: delivered; no flag '
             'icmp: selector_mismatch, the window moved; nested: flag icmp on the inner '
             '(last) SA rescues (every selector read backwards, a wild outer one too), on '
             'the outer only not; selectors with proto icmp / ipv6-icmp match forward, '
             'ICMP type and code quoted read as they are')

    def msg(family, src, dst, what, quoted, **kw):
        t, code = ICMP_TYPES[family][what]
        return _icmp_msg(c, family, src, dst, quoted, t, code, **kw)

    def sent(sa, pkt, text, **kw):
        c.ipsec(sa, pkt, wire='%s%s spi=0x%08x seq=0x%x %s, %s' % (
            sa.proto.upper(), 'UDP' if sa.encap else '', sa.spi,
            kw.get('seq') or sa.next_seq, sa.mode, text), **kw)

    # -- IPv4 tunnel, udp dport 9000 --
    isrc, idst = INNER[4]
    router4 = '192.0.2.254'
    sel4 = dict(src='198.51.100.0/24', dst=idst + '/32', proto='udp', dport=9000)
    t4 = c.sa(mode='tunnel', family=4, enc='aes128gcm16', sel=sel4, icmp=True)

    def q4(**kw):
        """Our UDP packet idst:9000 -> isrc:50101 (kw: _quoted's)."""
        return _quoted(c, 4, **kw)
    c.ipsec(t4, _sel_pkt(c, 4, isrc, idst))
    sent(t4, msg(4, isrc, idst, 'unreach', q4()), 'ICMP port unreachable quoting our UDP '
         'from port 9000, whole')
    sent(t4, msg(4, router4, idst, 'ttl', q4(keep=8)), 'ICMP time exceeded from a router '
         'outside the selector, quoting our UDP header + 8')
    sent(t4, msg(4, isrc, idst, 'needfrag', q4(keep=8)), 'ICMP fragmentation needed '
         '(MTU 1400) quoting our UDP header + 8')
    sent(t4, msg(4, isrc, idst, 'param', q4(keep=8)), 'ICMP parameter problem quoting our '
         'UDP header + 8')
    sent(t4, msg(4, isrc, idst, 'echo', q4(keep=8)), 'ICMP echo request whose data is our '
         'UDP header + 8')
    sent(t4, msg(4, isrc, idst, 'unreach', q4(keep=4)), 'ICMP port unreachable quoting our '
         'UDP cut after 4 bytes (ports)')
    sent(t4, msg(4, isrc, idst, 'unreach', q4(opts=True, keep=8)), 'ICMP port unreachable '
         'quoting our UDP behind an IPv4 option (IHL 6)')
    sent(t4, msg(4, isrc, idst, 'unreach', q4(keep=2)), 'ICMP port unreachable quoting our '
         'UDP cut after 2 bytes (ports 0)', expect='selector_mismatch')
    sent(t4, msg(4, isrc, idst, 'unreach', q4(keep=0)), 'ICMP port unreachable quoting the '
         'IP header alone (ports 0)', expect='selector_mismatch')
    sent(t4, msg(4, isrc, idst, 'unreach', q4(sport=9001)), 'ICMP port unreachable quoting '
         'our UDP from port 9001', expect='selector_mismatch')
    sent(t4, msg(4, isrc, idst, 'unreach', q4(sport=50101, dport=9000)), 'ICMP port '
         'unreachable quoting our UDP to port 9000 (backwards: dport 50101)',
         expect='selector_mismatch')
    sent(t4, msg(4, isrc, idst, 'unreach', q4(dst='198.51.101.10')), 'ICMP port unreachable '
         'quoting our UDP to another host', expect='selector_mismatch')
    sent(t4, msg(4, isrc, idst, 'unreach', q4(src='203.0.113.21')), 'ICMP port unreachable '
         'quoting UDP from another address of ours', expect='selector_mismatch')
    sent(t4, msg(4, isrc, idst, 'unreach', q4(kind='tcp')), 'ICMP port unreachable quoting '
         'our TCP from port 9000', expect='selector_mismatch')
    sent(t4, msg(4, isrc, idst, 'unreach', q4(frag=True, keep=8)), 'ICMP port unreachable '
         'quoting our UDP first fragment (ports 0)', expect='selector_mismatch')
    sent(t4, msg(4, isrc, idst, 'unreach', q4(keep=0)[:19]), 'ICMP port unreachable holding '
         '19 bytes of the quoted IP header', expect='selector_mismatch')
    big = msg(4, isrc, idst, 'unreach', q4(n=600))
    sent(t4, _frags(big, 304)[0], 'inner ICMP port unreachable quoting our UDP, first '
         'fragment', expect='selector_mismatch')
    # the selector without ports: the quoted fixed header alone is enough
    a4 = c.sa(mode='tunnel', family=4, enc='aes256cbc', auth='sha256', icmp=True,
              sel=dict(src='198.51.100.0/24', dst=idst + '/32'))
    sent(a4, msg(4, router4, idst, 'ttl', q4(keep=0)), 'ICMP time exceeded from a router '
         'outside the address selector quoting our IP header alone')
    sent(a4, msg(4, router4, idst, 'ttl', q4(keep=0)[:19]), 'ICMP time exceeded from a '
         'router holding 19 bytes of the quoted IP header', expect='selector_mismatch')
    sent(a4, msg(4, router4, idst, 'ttl', q4(dst='198.51.101.10', keep=0)), 'ICMP time '
         'exceeded from a router quoting our IP header to another host',
         expect='selector_mismatch')
    # the same selector without flag icmp: the same messages dropped
    n4 = c.sa(mode='tunnel', family=4, enc='aes128gcm16', sel=sel4)
    c.ipsec(n4, _sel_pkt(c, 4, isrc, idst))
    sent(n4, msg(4, isrc, idst, 'unreach', q4()), 'no flag icmp: ICMP port unreachable '
         'quoting our UDP from port 9000', expect='selector_mismatch')
    sent(n4, msg(4, router4, idst, 'ttl', q4(keep=8)), 'no flag icmp: ICMP time exceeded '
         'quoting our UDP header + 8', expect='selector_mismatch')
    _mismatch_then_replay(c, n4, msg(4, isrc, idst, 'needfrag', q4(keep=8)),
                          _sel_pkt(c, 4, isrc, idst), V.flip_last_byte)
    c.ipsec(n4, _sel_pkt(c, 4, isrc, idst))

    # -- IPv6 tunnel --
    isrc6, idst6 = INNER[6]
    router6 = '2001:db8:0:f::1'
    sel6 = dict(src='2001:db8:0:a::/64', dst=idst6 + '/128', proto='udp', dport=9000)
    t6 = c.sa(mode='tunnel', family=6, enc='aes256gcm16', sel=sel6, icmp=True)

    def q6(**kw):
        return _quoted(c, 6, **kw)
    c.ipsec(t6, _sel_pkt(c, 6, isrc6, idst6))
    sent(t6, msg(6, isrc6, idst6, 'toobig', q6(), mtu=1280), 'ICMPv6 packet too big quoting '
         'our UDP from port 9000')
    sent(t6, msg(6, isrc6, idst6, 'unreach', q6()), 'ICMPv6 port unreachable quoting our UDP')
    sent(t6, msg(6, router6, idst6, 'ttl', q6()), 'ICMPv6 time exceeded from a router outside '
         'the selector quoting our UDP')
    sent(t6, msg(6, isrc6, idst6, 'echo', q6(keep=8)), 'ICMPv6 echo request whose data is our '
         'IPv6 + UDP header')
    sent(t6, msg(6, isrc6, idst6, 'toobig', q6(), ext=[IPv6ExtHdrDestOpt()], mtu=1280),
         'ICMPv6 packet too big behind destination options quoting our UDP')
    sent(t6, msg(6, router6, idst6, 'ttl', q6(), ext=[IPv6ExtHdrHopByHop(),
                                                      IPv6ExtHdrDestOpt()]),
         'ICMPv6 time exceeded behind hop-by-hop + destination options quoting our UDP')
    sent(t6, msg(6, isrc6, idst6, 'unreach', q6(ext=[IPv6ExtHdrDestOpt()])), 'ICMPv6 port '
         'unreachable quoting our UDP behind destination options')
    sent(t6, msg(6, isrc6, idst6, 'toobig', q6(keep=4)), 'ICMPv6 packet too big quoting our '
         'UDP cut after 4 bytes (ports)')
    sent(t6, msg(6, isrc6, idst6, 'toobig', q6(keep=2)), 'ICMPv6 packet too big quoting our '
         'UDP cut after 2 bytes (ports 0)', expect='selector_mismatch')
    sent(t6, msg(6, isrc6, idst6, 'unreach', q6(sport=9001)), 'ICMPv6 port unreachable '
         'quoting our UDP from port 9001', expect='selector_mismatch')
    sent(t6, msg(6, isrc6, idst6, 'unreach', q6(dst='2001:db8:0:c::10')), 'ICMPv6 port '
         'unreachable quoting our UDP to another host', expect='selector_mismatch')
    sent(t6, msg(6, isrc6, idst6, 'toobig', q6(keep=0)[:39]), 'ICMPv6 packet too big '
         'holding 39 bytes of the quoted IPv6 header', expect='selector_mismatch')
    sent(t6, msg(6, isrc6, idst6, 'toobig', q6(kind='tcp'), ext=[IPv6ExtHdrDestOpt()]),
         'ICMPv6 packet too big behind destination options quoting our TCP',
         expect='selector_mismatch')
    a6 = c.sa(mode='tunnel', family=6, enc='aes128gcm16', icmp=True,
              sel=dict(src='2001:db8:0:a::/64', dst=idst6 + '/128'))
    sent(a6, msg(6, router6, idst6, 'ttl', q6(keep=0)), 'ICMPv6 time exceeded from a router '
         'outside the address selector quoting our IPv6 header alone')
    sent(a6, msg(6, router6, idst6, 'ttl', q6(keep=0)[:39]), 'ICMPv6 time exceeded from a '
         'router holding 39 bytes of the quoted IPv6 header', expect='selector_mismatch')

    # -- transport, IPv4 (ESP and AH) and IPv6 --
    s4, d4 = OUTER[4]
    host4 = dict(src=s4 + '/32', dst=d4 + '/32')
    p4 = c.sa(mode='transport', family=4, enc='aes128cbc', auth='sha256', icmp=True,
              sel=dict(host4, proto='udp', dport=9000))
    ah4 = c.sa(proto='ah', mode='transport', family=4, auth='sha256', icmp=True,
               sel=dict(host4, proto='udp', dport=9000))
    n4t = c.sa(mode='transport', family=4, enc='aes128gcm16',
               sel=dict(host4, proto='udp', dport=9000))

    def o4(**kw):
        a = dict(src=d4, dst=s4)
        a.update(kw)
        return _quoted(c, 4, a.pop('src'), a.pop('dst'), **a)
    c.ipsec(p4, _sel_pkt(c, 4, s4, d4))
    sent(p4, msg(4, s4, d4, 'unreach', o4()), 'ICMP port unreachable quoting our UDP from '
         'port 9000')
    sent(p4, msg(4, s4, d4, 'ttl', o4(keep=8)), 'ICMP time exceeded quoting our UDP header + 8')
    sent(p4, msg(4, s4, d4, 'unreach', o4(dst=OTHER_DST[4])), 'ICMP port unreachable quoting '
         'our UDP to another host', expect='selector_mismatch')
    sent(p4, msg(4, s4, d4, 'unreach', o4(dport=9000)), 'ICMP port unreachable quoting our '
         'UDP 9000 -> 9000')
    sent(ah4, msg(4, s4, d4, 'needfrag', o4(keep=8)), 'ICMP fragmentation needed quoting our '
         'UDP header + 8')
    sent(ah4, msg(4, s4, d4, 'needfrag', o4(sport=9002, keep=8)), 'ICMP fragmentation needed '
         'quoting our UDP from port 9002', expect='selector_mismatch')
    sent(n4t, msg(4, s4, d4, 'unreach', o4()), 'no flag icmp: ICMP port unreachable quoting '
         'our UDP from port 9000', expect='selector_mismatch')
    s6, d6 = OUTER[6]
    host6 = dict(src=s6 + '/128', dst=d6 + '/128')
    p6 = c.sa(mode='transport', family=6, enc='aes128gcm16', icmp=True,
              sel=dict(host6, proto='udp', dport=9000))
    n6t = c.sa(mode='transport', family=6, enc='aes256cbc', auth='sha1',
               sel=dict(host6, proto='udp', dport=9000))

    def o6(**kw):
        a = dict(src=d6, dst=s6)
        a.update(kw)
        return _quoted(c, 6, a.pop('src'), a.pop('dst'), **a)
    c.ipsec(p6, _sel_pkt(c, 6, s6, d6))
    sent(p6, msg(6, s6, d6, 'unreach', o6()), 'ICMPv6 port unreachable quoting our UDP from '
         'port 9000')
    sent(p6, msg(6, s6, d6, 'toobig', o6(), mtu=1280), 'ICMPv6 packet too big quoting our UDP')
    sent(p6, msg(6, s6, d6, 'ttl', o6(), ext=[IPv6ExtHdrDestOpt()]), 'ICMPv6 time exceeded '
         'behind destination options quoting our UDP')
    sent(p6, msg(6, s6, d6, 'toobig', o6(sport=9001), mtu=1280), 'ICMPv6 packet too big '
         'quoting our UDP from port 9001', expect='selector_mismatch')
    sent(n6t, msg(6, s6, d6, 'toobig', o6(), mtu=1280), 'no flag icmp: ICMPv6 packet too big '
         'quoting our UDP from port 9000', expect='selector_mismatch')
    sent(n6t, msg(6, s6, d6, 'unreach', o6(), ext=[IPv6ExtHdrDestOpt()]), 'no flag icmp: '
         'ICMPv6 port unreachable behind destination options quoting our UDP',
         expect='selector_mismatch')

    # -- nested: tunnel around transport ESP between the inner addresses --
    host = dict(src=isrc + '/32', dst=idst + '/32')
    oudp = dict(host, proto='udp', dport=9000)
    to = c.sa(mode='tunnel', family=4, enc='aes128gcm16', sel=oudp)
    tof = c.sa(mode='tunnel', family=4, enc='aes256gcm16', sel=oudp, icmp=True)
    tw = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    iin = _inner_sa(c, 4, enc='aes128cbc', auth='sha1', icmp=True,
                    sel=dict(host, proto='udp'))
    iout = _inner_sa(c, 4, enc='aes128cbc', auth='sha256', sel=dict(host, proto='udp'))

    def nest(outer, inner, quoted, text, **kw):
        c.nested(outer, inner, msg(4, isrc, idst, 'unreach', quoted), wire='%s spi=0x%08x '
                 'seq=0x%x tunnel around %s spi=0x%08x seq=0x%x transport, %s' % (
                     outer.proto.upper(), outer.spi, outer.next_seq, inner.proto.upper(),
                     inner.spi, inner.next_seq, text), **kw)
    c.nested(to, iin, _sel_pkt(c, 4, isrc, idst))
    nest(to, iin, q4(), 'flag icmp on the inner SA: ICMP port unreachable quoting our UDP '
         'from port 9000')
    nest(to, iin, q4(keep=4), 'flag icmp on the inner SA: ICMP port unreachable quoting our '
         'UDP cut after 4 bytes')
    nest(to, iin, q4(sport=9001), 'flag icmp on the inner SA: ICMP quoting our UDP from port '
         '9001 (inside the inner selector, outside the outer)', expect='selector_mismatch')
    nest(tw, iin, q4(sport=9001), 'wild outer, flag icmp on the inner SA: ICMP quoting our '
         'UDP from port 9001')
    nest(tw, iin, q4(kind='tcp'), 'wild outer, flag icmp on the inner SA: ICMP quoting our '
         'TCP', expect='selector_mismatch')
    nest(tof, iout, q4(), 'flag icmp on the outer SA only: ICMP port unreachable quoting our '
         'UDP from port 9000', expect='selector_mismatch')
    nest(to, iout, q4(), 'no flag icmp: ICMP port unreachable quoting our UDP from port '
         '9000', expect='selector_mismatch')
    c.nested(tof, iout, _sel_pkt(c, 4, isrc, idst))

    # -- selectors on ICMP itself: matched forward; quoted type and code as they are --
    ic4 = c.sa(mode='transport', family=4, enc='aes128gcm16', icmp=True,
               sel=dict(host4, proto='icmp'))
    sent(ic4, msg(4, s4, d4, 'unreach', o4(kind='tcp', dst=OTHER_DST[4])), 'selector proto '
         'icmp: ICMP port unreachable quoting TCP to another host')
    sent(ic4, msg(4, s4, d4, 'ttl', o4()), 'selector proto icmp: ICMP time exceeded quoting '
         'our UDP')
    echo = c.sa(mode='transport', family=4, enc='aes256gcm16', icmp=True,
                sel=dict(host4, proto='icmp', type=8, code=0))
    sent(echo, _sel_pkt(c, 4, s4, d4, kind='icmp', sport=8, dport=0), 'selector icmp type 8 '
         'code 0: an echo request')
    sent(echo, msg(4, s4, d4, 'unreach', o4(kind='icmp', sport=8, dport=0)), 'selector icmp '
         'type 8 code 0: ICMP port unreachable quoting our echo request (type 8 code 0 '
         'backwards too)')
    sent(echo, msg(4, s4, d4, 'unreach', o4(kind='icmp', sport=0, dport=0)), 'selector icmp '
         'type 8 code 0: ICMP port unreachable quoting our echo reply',
         expect='selector_mismatch')
    sent(echo, msg(4, s4, d4, 'unreach', o4()), 'selector icmp type 8 code 0: ICMP port '
         'unreachable quoting our UDP', expect='selector_mismatch')
    ic6 = c.sa(mode='tunnel', family=6, enc='aes128gcm16', icmp=True,
               sel=dict(src='::/0', dst=idst6 + '/128', proto='ipv6-icmp'))
    sent(ic6, msg(6, router6, idst6, 'toobig', q6(kind='tcp', dst='2001:db8:0:c::10'),
                  mtu=1280), 'selector proto ipv6-icmp: ICMPv6 packet too big quoting TCP '
         'to another host')
    sent(ic6, _sel_pkt(c, 6, isrc6, idst6), 'selector proto ipv6-icmp: UDP',
         expect='selector_mismatch')
    c.ipsec(t4, _sel_pkt(c, 4, isrc, idst))
    return c


def selectors():
    off = [('off', ['--no-offload'], lambda sa, f: True)]
    return _with_variants(_sel_tun4(), off) + _with_variants(_sel_ports(), off) + \
        _with_variants(_sel_tun6(), off) + [_sel_wild()] + \
        _with_variants(_sel_family(), off) + _with_variants(_sel_nested(), off) + \
        _with_variants(_sel_icmp(), off)


FAMILIES['selectors'] = selectors


# ---------------------------------------------------------------------------
# ECN and DSCP at tunnel decapsulation, as Linux 6.1's xfrm does it
# (xfrm4/6_remove_tunnel_outer_header): an outer CE mark is carried into an
# ECN-capable inner packet unless flag noecn; flag decap-dscp copies the
# outer DSCP in. The outer DS field is set after protection, as a router on
# the path marks it (V.set_ds); the delivered inner DS field is
# V.tunnel_ds's. Transport mode delivers the received header: its DS field
# as it arrived, flags or not.
# ---------------------------------------------------------------------------

# Not-ECT, ECT(1), ECT(0), CE; DSCP EF (46) with Not-ECT and with CE
OUTER_DS = (0x00, 0x01, 0x02, 0x03, 0xb8, 0xbb)
# Not-ECT, ECT(1), ECT(0), CE; DSCP EF with ECT(1)
INNER_DS = (0x00, 0x01, 0x02, 0x03, 0xb9)
# for the other transforms: no mark, CE, CE under a DSCP; over Not-ECT,
# ECT(0) and a DSCP with ECT(1)
SOME_OUTER_DS = (0x02, 0x03, 0xbb)
SOME_INNER_DS = (0x00, 0x02, 0xb9)
DS_FLAGS = ({}, dict(noecn=True), dict(decap_dscp=True), dict(noecn=True, decap_dscp=True))


def _ds_pkt(c, family, ds, addrs=None, kind='udp', n=24):
    """A plaintext packet whose DS field is ds, between the tunnel's inner
    addresses (or addrs)."""
    src, dst = addrs or INNER[family]
    tag = '%s pkt %02d' % (c.name, len(c.entries))
    make = V.icmp_packet if kind == 'icmp' else V.udp_packet
    p = make(family, src, dst, n, tag, 0x600 + len(c.entries))
    if family == 4:
        p.tos = ds
    else:
        p.tc = ds
    return V.freeze(p)


def _ds_matrix(c, sa, outers=OUTER_DS, inners=INNER_DS, families=(4, 6)):
    for fam in families:
        for o in outers:
            for i in inners:
                c.ipsec(sa, _ds_pkt(c, fam, i), outer_ds=o)


def _ecn_tun(family):
    c = Case('ecn_tun%d' % family, 'ESP AES-GCM tunnel, IPv%d outer: every outer DS field '
             '(Not-ECT, ECT(1), ECT(0), CE, EF, EF+CE) over every inner one (Not-ECT, '
             'ECT(1), ECT(0), CE, EF+ECT(1)), IPv4 and IPv6 inside; no flag, flag noecn, '
             'flag decap-dscp, both' % family, 'tunnel', 'IPv%d' % family)
    for flags in DS_FLAGS:
        # IPv4 and IPv6 inside: af-unspec
        _ds_matrix(c, c.sa(mode='tunnel', family=family, enc='aes128gcm16', af_unspec=True,
                           **flags))
    return c


def _ecn_xforms():
    c = Case('ecn_xforms', 'outer DS over inner DS for AH tunnel (IPv4 and IPv6 outer: AH '
             'zeroes the DS field for its ICV, so a mark made on the path verifies), ESP in '
             'UDP, AES-CBC+HMAC and NULL tunnels, with and without noecn / decap-dscp; CE '
             'behind a VLAN tag, over inner IPv4 options, IPv6 extension headers and ICMP; '
             'fragmented datagrams marked CE; a forged ICV and a replay under CE', 'tunnel')
    # every tunnel SA here carries IPv4 and IPv6 inside: af-unspec
    tun = dict(mode='tunnel', af_unspec=True)
    ah4 = c.sa(proto='ah', family=4, auth='sha256', **tun)
    _ds_matrix(c, ah4)
    _ds_matrix(c, c.sa(proto='ah', family=6, auth='sha1', decap_dscp=True, **tun),
               SOME_OUTER_DS, SOME_INNER_DS)
    _ds_matrix(c, c.sa(proto='ah', family=4, auth='sha256', noecn=True, **tun),
               SOME_OUTER_DS, SOME_INNER_DS)
    natt = c.sa(family=4, enc='aes128gcm16', encap=(4500, 4500), **tun)
    _ds_matrix(c, natt)
    _ds_matrix(c, c.sa(family=4, enc='aes128cbc', auth='sha256', encap=(4500, 4500),
                       decap_dscp=True, **tun), SOME_OUTER_DS, SOME_INNER_DS)
    _ds_matrix(c, c.sa(family=6, enc='aes256gcm16', encap=(4500, 4500), noecn=True,
                       decap_dscp=True, **tun), SOME_OUTER_DS, SOME_INNER_DS)
    cbc = c.sa(family=6, enc='aes256cbc', auth='sha1', **tun)
    _ds_matrix(c, cbc, SOME_OUTER_DS, SOME_INNER_DS)
    _ds_matrix(c, c.sa(family=4, enc='null', auth='sha256', decap_dscp=True, **tun),
               SOME_OUTER_DS, SOME_INNER_DS)
    # where the inner header is not the plain one, and the outer one sits
    # behind a VLAN tag
    gcm = c.sa(family=4, enc='aes128gcm16', **tun)
    i4, i6 = INNER[4], INNER[6]
    for o, i in ((0x03, 0x02), (0x03, 0x00), (0xbb, 0x01)):
        c.ipsec(gcm, _ds_pkt(c, 4, i), vlan=33, outer_ds=o,
                wire='ESP tunnel, 802.1Q tag, outer DS 0x%02x, inner 0x%02x' % (o, i))
    for o, i in ((0x03, 0x02), (0x03, 0x00)):
        c.ipsec(gcm, V.with_ds(_v4_opts_pkt(c, 40, *i4), i), outer_ds=o,
                wire='ESP tunnel, inner IPv4 options, outer DS 0x%02x, inner 0x%02x' % (o, i))
        c.ipsec(ah4, V.with_ds(_v4_opts_pkt(c, 40, *i4), i), outer_ds=o,
                wire='AH tunnel, inner IPv4 options, outer DS 0x%02x, inner 0x%02x' % (o, i))
        c.ipsec(cbc, V.with_ds(_v6_ext_pkt(c, 40, *i6, hbh=True), i | 0x10), outer_ds=o,
                wire='ESP tunnel, inner IPv6 hop-by-hop + dest-opts, outer DS 0x%02x, '
                'inner 0x%02x' % (o, i | 0x10))
        for fam in (4, 6):
            c.ipsec(gcm, _ds_pkt(c, fam, i, kind='icmp'), outer_ds=o)
    # a mark does not make a forged packet pass, nor a replayed one
    c.ipsec(gcm, _ds_pkt(c, 4, 0x02), outer_ds=0x03, expect='auth', mutate=V.flip_last_byte)
    c.ipsec(ah4, _ds_pkt(c, 4, 0x02), outer_ds=0x03, expect='auth', mutate=V.flip_ah_icv)
    c.ipsec(gcm, _ds_pkt(c, 4, 0x02), outer_ds=0x03, seq=1, expect='replay')
    # every fragment marked CE (Linux's reassembly keeps CE when all are):
    # the reassembled datagram's outer header decides
    c.fragmented(gcm, _ds_pkt(c, 4, 0x02, n=1400), 576, ipid=0xec1, outer_ds=0x03)
    c.fragmented(cbc, _ds_pkt(c, 6, 0x01, n=1400), 576, ipid=0xec2, outer_ds=0x03)
    c.fragmented(natt, _ds_pkt(c, 4, 0xb9, n=1000), 512, ipid=0xec3, outer_ds=0xbb)
    c.ipsec(gcm, _ds_pkt(c, 6, 0x02), outer_ds=0x03)
    return c


def _ecn_nested():
    c = Case('ecn_nested', 'transport ESP/AH with the DS field changed on the path (the '
             'received header is delivered as it arrived, flags or not); tunnel around '
             'transport ESP/AH: the tunnel SA\'s outer DS and flags decide the delivered '
             'header (no flag, decap-dscp, noecn; IPv4 and IPv6, IPv6 inside IPv4), also '
             'with an unknown inner SA; AH over ESP')
    for fam in (4, 6):
        for sa in (c.sa(mode='transport', family=fam, enc='aes128gcm16'),
                   c.sa(proto='ah', mode='transport', family=fam, auth='sha256'),
                   c.sa(mode='transport', family=fam, enc='aes256cbc', auth='sha1',
                        decap_dscp=True)):
            for i, o in ((0x02, 0x03), (0x00, 0x03), (0xb9, 0xbb), (0xb9, 0x00)):
                c.ipsec(sa, _ds_pkt(c, fam, i, OUTER[fam]), outer_ds=o,
                        wire='%s transport, sent with DS 0x%02x, received with 0x%02x' %
                        (sa.proto.upper(), i, o))
    # IPv4 and IPv6 inside: af-unspec
    tun = c.sa(mode='tunnel', family=4, enc='aes128gcm16', af_unspec=True)
    iesp = _inner_sa(c, 4, enc='aes128cbc', auth='sha1')
    iesp6 = _inner_sa(c, 6, enc='aes128gcm16')
    for i in INNER_DS:
        c.nested(tun, iesp, _ds_pkt(c, 4, i), outer_ds=0x03)
    c.nested(tun, iesp, _ds_pkt(c, 4, 0x02), outer_ds=0xb8)
    for i in (0x00, 0x01, 0xb9):
        c.nested(tun, iesp6, _ds_pkt(c, 6, i), outer_ds=0xbb)
    tun6 = c.sa(mode='tunnel', family=6, enc='aes256gcm16', decap_dscp=True)
    iah6 = _inner_sa(c, 6, proto='ah', auth='sha256')
    for o in (0x03, 0xb8, 0xbb):
        for i in SOME_INNER_DS:
            c.nested(tun6, iah6, _ds_pkt(c, 6, i), outer_ds=o)
    quiet = c.sa(mode='tunnel', family=4, enc='aes128cbc', auth='sha256', noecn=True)
    iah = _inner_sa(c, 4, proto='ah', auth='sha1')
    for i in (0x01, 0x02):
        c.nested(quiet, iah, _ds_pkt(c, 4, i), outer_ds=0x03)
        c.nested(quiet, iesp, _ds_pkt(c, 4, i), outer_ds=0x03)
    # the inner SA unknown: the inner ESP packet is delivered, its header
    # decapsulated as any tunnel's inner packet
    ghost = _stranger_inner(c, 4, enc='aes128gcm16')
    for i in (0x00, 0x02):
        c.nested(tun, ghost, _ds_pkt(c, 4, i), outer_ds=0x03, inner_known=False)
    # AH over ESP under one header (both transport): the header as received
    ah = c.sa(proto='ah', mode='transport', family=4, auth='sha256')
    esp = c.sa(mode='transport', family=4, enc='aes128cbc', auth='sha256')
    for i, o in ((0x02, 0x03), (0xb9, 0xbb)):
        c.nested(ah, esp, _ds_pkt(c, 4, i, OUTER[4]), outer_ds=o)
    c.nested(tun, iesp, _ds_pkt(c, 4, 0x02), outer_ds=0x03)
    return c


# ECN codepoints a fragment arrives with, and the same under DSCP EF
NE, E1, E0, CE = V.NOT_ECT, V.ECT1, V.ECT0, V.CE
EF = 0xb8


def _ecn_frag():
    """Fragments of one datagram marked differently on the path: reassembly
    merges their ECN fields as Linux 6.1 does (V.frag_ecn_merge, RFC 3168
    5.3), then the merged outer DS field goes through decapsulation as any
    other; a Not-ECT fragment beside an ECN-capable one discards the
    datagram (every fragment held)."""
    c = Case('ecn_frag', 'fragments of one datagram with different ECN fields: CE on the '
             'first or a later fragment beside ECT(0)/ECT(1) marks the datagram CE, ECT(0) '
             'with ECT(1) and CE alone keep the offset-0 fragment\'s field, Not-ECT beside '
             'ECT/CE discards the datagram (a fresh one on the SA is delivered), all Not-ECT '
             'is delivered; out of order (the offset-0 fragment\'s DSCP and ECN, not the '
             'first sent); ESP GCM IPv4, ESP CBC IPv6, ESP in UDP IPv4/IPv6 and AH IPv6 '
             'tunnels (no flag, noecn, decap-dscp), ESP and AH transport (the merged field '
             'delivered)')
    ipids = iter(range(0xec4, 0xfff))

    def frag(sa, inner_ds, frag_ds, order=None, family=None):
        """A datagram with 1400 bytes of payload, cut in three fragments of at
        most 576, marked as frag_ds says (fragment_entries checks the count)."""
        ipid = next(ipids)
        if sa.mode == 'tunnel':
            pkt = _ds_pkt(c, family or sa.family, inner_ds, n=1400)
        else:
            pkt = _transport_frag_pkt(c, sa.family, inner_ds, ipid)
        c.fragmented(sa, pkt, 576, order=order, ipid=ipid, frag_ds=frag_ds)

    # gcm and cbc6 carry a datagram of the other family too: af-unspec
    gcm = c.sa(mode='tunnel', family=4, enc='aes128gcm16', af_unspec=True)
    frag(gcm, E0, [CE, E0, E0])             # CE on the first fragment only
    frag(gcm, E0, [E0, E0, CE])             # CE on the last one only
    frag(gcm, E1, [E1, CE, E1])             # ECT(1) + CE
    frag(gcm, E0, [E0, E1, E0])             # ECT(0) + ECT(1): the head's ECT(0)
    frag(gcm, E0, [E1, E0, E0])             # ... the head's ECT(1), not copied in
    frag(gcm, E0, [CE, CE, CE])             # CE alone
    frag(gcm, NE, [E0, CE, E0])             # CE over a Not-ECT inner packet
    frag(gcm, E0, [NE, NE, NE])             # not ECN-capable: as sent
    frag(gcm, E0, [NE, CE, NE])             # discarded
    frag(gcm, E0, [E0, E0, NE])             # discarded, by its last fragment
    frag(gcm, E0, [E0, E0, CE])             # the SA goes on after a discard
    c.ipsec(gcm, _ds_pkt(c, 4, E0), outer_ds=CE)
    frag(gcm, E0, [E0, E0, CE], order=[2, 0, 1])    # the offset-0 fragment second
    frag(gcm, E0, [E0, CE, E0], order=[1, 2, 0])    # ... last, completing it
    frag(gcm, E0, [NE, CE, NE], order=[1, 2, 0])    # discarded by the head, sent last
    frag(gcm, E0, [E0, CE, E0], family=6)
    quiet = c.sa(mode='tunnel', family=4, enc='aes128gcm16', noecn=True)
    frag(quiet, E0, [E0, CE, E0])           # merged CE, not carried in
    frag(quiet, E0, [NE, CE, NE])           # reassembly discards before any SA flag
    frag(quiet, E0, [E0, E0, E0])
    # decap-dscp shows whose DSCP the datagram has: the offset-0 fragment's
    dscp = c.sa(mode='tunnel', family=4, enc='aes128gcm16', decap_dscp=True)
    frag(dscp, E0, [EF | E0, CE, E0], order=[1, 2, 0])
    frag(dscp, E0, [EF | E1, E0, E0])
    frag(dscp, E0, [EF | CE, CE, CE])
    frag(dscp, E0, [E0, EF | CE, EF | E0])
    cbc6 = c.sa(mode='tunnel', family=6, enc='aes256cbc', auth='sha1', af_unspec=True)
    frag(cbc6, E1, [E0, CE, E0])
    frag(cbc6, E0, [CE, E1, E1])
    frag(cbc6, E0, [E1, E0, E1])
    frag(cbc6, E0, [NE, NE, NE])
    frag(cbc6, E0, [NE, E0, NE])            # discarded
    frag(cbc6, E0, [E0, E0, E0])
    frag(cbc6, E0, [EF | E0, E0, CE], order=[2, 1, 0])
    frag(cbc6, E0, [E0, E0, CE], family=4)
    # ESP in UDP: its first fragment (the UDP header) must come first
    natt = c.sa(mode='tunnel', family=4, enc='aes128gcm16', encap=(4500, 4500))
    frag(natt, E0, [E0, CE, E0])
    frag(natt, E1, [CE, E1, E1])
    frag(natt, E0, [E0, E1, E0])
    frag(natt, E0, [NE, NE, CE])            # discarded
    frag(natt, E0, [E0, E0, E0])
    frag(natt, E0, [E0, E0, CE], order=[0, 2, 1])
    natt6 = c.sa(mode='tunnel', family=6, enc='aes256gcm16', encap=(4500, 4500))
    frag(natt6, E0, [E0, CE, E0])
    frag(natt6, E0, [CE, NE, NE])           # discarded
    frag(natt6, E0, [E0, E0, E0])
    # AH zeroes the DS field for its ICV: a merged CE still verifies
    ah6 = c.sa(proto='ah', mode='tunnel', family=6, auth='sha256')
    frag(ah6, E0, [E0, CE, E0])
    frag(ah6, E0, [E0, E1, E0])
    frag(ah6, E0, [NE, CE, NE])             # discarded
    frag(ah6, E0, [E0, E0, CE], order=[2, 1, 0])
    frag(ah6, NE, [NE, NE, NE])
    # transport mode delivers the reassembled header: its merged DS field
    t4 = c.sa(mode='transport', family=4, enc='aes128gcm16')
    frag(t4, E0, [E0, CE, E0])
    frag(t4, E0, [E0, E1, E0])
    frag(t4, E0, [E1, E0, E0])
    frag(t4, NE, [NE, NE, NE])
    frag(t4, E0, [NE, CE, NE])              # discarded
    frag(t4, E0, [E0, E0, E0])
    frag(t4, E0, [EF | E0, E0, CE], order=[2, 0, 1])
    ah4 = c.sa(proto='ah', mode='transport', family=4, auth='sha256')
    frag(ah4, E0, [E0, E0, CE])
    frag(ah4, E0, [E0, NE, E0])             # discarded
    frag(ah4, E1, [E1, E1, E1])
    t6 = c.sa(mode='transport', family=6, enc='aes128cbc', auth='sha256')
    frag(t6, E1, [E1, CE, E1])
    frag(t6, E0, [E0, E0, E1])
    c.ipsec(gcm, _ds_pkt(c, 4, E0), outer_ds=CE)
    return c


def _transport_frag_pkt(c, family, ds, ipid):
    """A transport-mode datagram with DS field ds between the SA's own
    addresses; IPv4 without DF and identified as its fragments will be (the
    delivered header is the reassembled one, and AH covers the
    identification)."""
    p = _ds_pkt(c, family, ds, OUTER[family], n=1400)
    if family == 6:
        return p
    p = p.copy()
    p.id, p.flags = ipid, 0
    del p.chksum
    return V.freeze(p)


def ecn():
    off = [('off', ['--no-offload'], lambda sa, f: True)]
    return [case for base in (_ecn_tun(4), _ecn_tun(6), _ecn_xforms(), _ecn_nested(),
                              _ecn_frag())
            for case in _with_variants(base, off)]


FAMILIES['ecn'] = ecn
