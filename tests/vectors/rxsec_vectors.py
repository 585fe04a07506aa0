# SPDX-License-Identifier: BSD-3-Clause
"""Test vectors for rxsec, built by scapy's own IPsec implementation
(scapy.layers.ipsec) from known plaintext.

A Case is a list of SAs and a list of received frames, each with what rxsec
must do with it. Case.write(DIR) produces:
  sa.conf        the SAs as `ip xfrm state add` lines (same keys scapy uses)
  in.pcap        the received Ethernet frames (wire side), in order
  expected.pcap  the frames rxsec must deliver, in order
  expect.json    per received frame, in the format of
                 shared/linux-xfrm/captures/*/expect.json, plus `reason`

The reference is always the plaintext we built: tunnel mode delivers the
received Ethernet header (ethertype set to the inner IP version) + the inner
packet as built; transport mode delivers the original IP packet as built
(scapy's transport encryption keeps its header; the receiver restores
protocol, length and checksum). Never rxsec's own output.

Transforms scapy lacks live in rfc_extra.py (python3-cryptography).
Deterministic: keys and IVs come from random.Random(seeded by case name).
"""
import json
import os
import random
import socket
import struct
import warnings

warnings.filterwarnings('ignore')

import scapy  # noqa: E402
from scapy.all import IP, IPv6, UDP, ICMP, Raw, raw, conf, fragment  # noqa: E402
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6ExtHdrFragment, fragment6  # noqa: E402
from scapy.layers.ipsec import (SecurityAssociation, ESP, AH, AUTH_ALGOS,  # noqa: E402
                                CRYPT_ALGOS, _ESPPlain, split_for_transport)
import cryptography  # noqa: E402

import rfc_extra  # noqa: E402

conf.verb = 0

# Scapy-side registration of the two integrity algorithms scapy lacks
# (see rfc_extra). SecurityAssociation looks algorithms up by name.
AUTH_ALGOS.setdefault('HMAC-SHA256-96', rfc_extra.HMAC_SHA256_96)
AUTH_ALGOS.setdefault('AES-XCBC-MAC-96', rfc_extra.AES_XCBC_96)
AUTH_ALGOS.setdefault('HMAC-SHA512-512', rfc_extra.HMAC_SHA512_512)

MAC_A = '00:00:5e:00:53:0a'     # sender
MAC_B = '00:00:5e:00:53:14'     # receiver (rxsec)
OUTER = {4: ('192.0.2.10', '192.0.2.20'), 6: ('2001:db8:0:1::10', '2001:db8:0:1::20')}
INNER = {4: ('198.51.100.10', '203.0.113.20'), 6: ('2001:db8:0:a::10', '2001:db8:0:b::20')}
OTHER_DST = {4: '192.0.2.99', 6: '2001:db8:0:1::99'}

# ---------------------------------------------------------------------------
# Algorithms: our id -> ip-xfrm name, key bytes, and how scapy calls it.
# ---------------------------------------------------------------------------

# kind 'aead': key is KEY||salt(4) in ip xfrm, and scapy takes the same bytes
# (SecurityAssociation splits the trailing salt_size bytes off crypt_key);
# checked against the kernel's captures by check_linux.py.
ENC = {}
for _bits in (128, 192, 256):
    for _icv in (8, 12, 16):
        ENC['aes%dgcm%d' % (_bits, _icv)] = dict(
            kind='aead', xfrm='rfc4106(gcm(aes))', keylen=_bits // 8, saltlen=4,
            icv=_icv, scapy='AES-GCM', blurb='AES-GCM-%d ICV %d' % (_bits, _icv * 8))
    ENC['aes%dgmac' % _bits] = dict(
        kind='aead', xfrm='rfc4543(gcm(aes))', keylen=_bits // 8, saltlen=4, icv=16,
        scapy=None, blurb='AES-GMAC-%d' % _bits)    # rfc_extra.gmac_esp
    ENC['aes%dcbc' % _bits] = dict(kind='enc', xfrm='cbc(aes)', keylen=_bits // 8,
                                   saltlen=0, scapy='AES-CBC', blurb='AES-CBC-%d' % _bits)
    ENC['aes%dctr' % _bits] = dict(kind='enc', xfrm='rfc3686(ctr(aes))', keylen=_bits // 8,
                                   saltlen=4, scapy='AES-CTR', blurb='AES-CTR-%d' % _bits)
# RFC 4309: a 3-byte salt; scapy makes CCM's tag at the SA's length (the
# length is part of CCM's first block, so it cannot be cut from a longer
# one). IPsec-MB 1.3 has no AES-192 CCM: rxsec refuses such SAs.
for _bits in (128, 256):
    for _icv in (8, 12, 16):
        ENC['aes%dccm%d' % (_bits, _icv)] = dict(
            kind='aead', xfrm='rfc4309(ccm(aes))', keylen=_bits // 8, saltlen=3,
            icv=_icv, scapy='AES-CCM', blurb='AES-CCM-%d ICV %d' % (_bits, _icv * 8))
if 'CHACHA20-POLY1305' in CRYPT_ALGOS:
    ENC['chacha20poly1305'] = dict(kind='aead', xfrm='rfc7539esp(chacha20,poly1305)',
                                   keylen=32, saltlen=4, icv=16, scapy='CHACHA20-POLY1305',
                                   blurb='ChaCha20-Poly1305')
ENC['3des'] = dict(kind='enc', xfrm='cbc(des3_ede)', keylen=24, saltlen=0, scapy='3DES',
                   blurb='3DES-CBC')
ENC['des'] = dict(kind='enc', xfrm='cbc(des)', keylen=8, saltlen=0, scapy='DES',
                  blurb='DES-CBC')
ENC['null'] = dict(kind='enc', xfrm='ecb(cipher_null)', keylen=0, saltlen=0, scapy='NULL',
                   blurb='NULL')

# plain=True: written as `auth NAME KEY`, relying on Linux's default
# truncation (README: 96 for md5/sha1/sha256/xcbc, 192 sha384, 256 sha512).
AUTH = {
    'md5': dict(xfrm='hmac(md5)', keylen=16, bits=96, scapy='HMAC-MD5-96', plain=True),
    'sha1': dict(xfrm='hmac(sha1)', keylen=20, bits=96, scapy='HMAC-SHA1-96', plain=False),
    'sha256_96': dict(xfrm='hmac(sha256)', keylen=32, bits=96, scapy='HMAC-SHA256-96',
                      plain=True),
    'sha256': dict(xfrm='hmac(sha256)', keylen=32, bits=128, scapy='SHA2-256-128',
                   plain=False),
    'sha384': dict(xfrm='hmac(sha384)', keylen=48, bits=192, scapy='SHA2-384-192',
                   plain=True),
    'sha512': dict(xfrm='hmac(sha512)', keylen=64, bits=256, scapy='SHA2-512-256',
                   plain=False),
    'sha512_512': dict(xfrm='hmac(sha512)', keylen=64, bits=512, scapy='HMAC-SHA512-512',
                       plain=False),
    'xcbc': dict(xfrm='xcbc(aes)', keylen=16, bits=96, scapy='AES-XCBC-MAC-96', plain=False),
    'cmac': dict(xfrm='cmac(aes)', keylen=16, bits=96, scapy='AES-CMAC-96', plain=True),
}

# The algorithms' whole digests in bytes (RFC 2104 with MD5/SHA-1/SHA-2,
# RFC 3566): Linux's icv_full_len, the other AH length ah_input takes.
AUTH_FULL = {'hmac(md5)': 16, 'hmac(sha1)': 20, 'hmac(sha256)': 32, 'hmac(sha384)': 48,
             'hmac(sha512)': 64, 'xcbc(aes)': 16, 'cmac(aes)': 16}

STATUS_FAIL = {('esp', 'tunnel'): 'CRYPTO_TUNNEL_ESP_AUTH_FAILED',
               ('esp', 'transport'): 'CRYPTO_TRANSPORT_ESP_AUTH_FAILED',
               ('ah', 'tunnel'): 'CRYPTO_TUNNEL_AH_AUTH_FAILED',
               ('ah', 'transport'): 'CRYPTO_TRANSPORT_AH_AUTH_FAILED'}


def reason_of(status):
    return status[len('CRYPTO_'):].lower()


def layer_failure(sa, expect):
    """The status of an IPsec layer of sa failing as expect ('..._auth':
    its ICV; '..._protocol': not encapsulated as sa says)."""
    if expect.endswith('_protocol'):
        return 'CRYPTO_INVALID_PROTOCOL'
    return STATUS_FAIL[(sa.proto, sa.mode)]


# ---------------------------------------------------------------------------
# SA
# ---------------------------------------------------------------------------

class Sa:
    """One inbound SA, as rxsec reads it and as scapy uses it."""

    def __init__(self, rng, spi, proto='esp', mode='tunnel', family=4, enc=None,
                 auth=None, window=32, esn=False, encap=None, reqid=1, keys=None,
                 quote=True, sel=None, sel_last=False, af_unspec=False, noecn=False,
                 decap_dscp=False, icmp=False, direction=None, offload=None):
        self.spi, self.proto, self.mode, self.family = spi, proto, mode, family
        # direction: 'in', 'out' or None, written as `dir` (Linux 6.10); a
        # received packet never meets an outbound SA (xfrm_input drops it,
        # XfrmInStateDirError), so it is dropped no_sa
        self.direction = direction
        # offload: 'in' or 'out', written `offload packet dev eth0 dir X`
        # (Linux's NIC offload; its direction is not the SA's)
        self.offload = offload
        # flag noecn / decap-dscp: what tunnel decapsulation does to the
        # inner DS field (tunnel_ds below)
        self.noecn, self.decap_dscp = noecn, decap_dscp
        # sel: dict(src='A/L', dst='B/L', proto=name or number, sport=,
        # dport=, type=, code=), written as an inline `sel` clause after
        # the ID, or (sel_last) after the algorithms: iproute2 takes both.
        # A tunnel SA decapsulates only inner packets of its selector's
        # family (no sel: the SA's own), the other dropped
        # selector_mismatch; af_unspec (flag af-unspec, no selector, as
        # strongSwan installs tunnel SAs) takes both (sel_family).
        self.sel, self.sel_last, self.af_unspec = sel, sel_last, af_unspec
        # flag icmp: an ICMP/ICMPv6 message outside the selector is still
        # delivered when this SA is the last one applied and the packet the
        # message quotes, read backwards, is inside every applied SA's
        # selector (Linux icmp_rcv / icmpv6_rcv; sel_icmp)
        self.icmp = icmp
        self.src, self.dst = OUTER[family]
        self.enc = ENC[enc] if enc else None
        self.enc_id, self.auth_id = enc, auth
        self.auth = AUTH[auth] if auth else None
        self.window, self.esn, self.encap, self.reqid = window, esn, encap, reqid
        self.quote = quote
        keys = keys or {}
        if self.enc:
            n = self.enc['keylen'] + self.enc['saltlen']
            self.enc_key = keys.get('enc') or bytes(rng.getrandbits(8) for _ in range(n))
        if self.auth:
            n = self.auth['keylen']
            self.auth_key = keys.get('auth') or bytes(rng.getrandbits(8) for _ in range(n))
        self.next_seq = 1

    @property
    def is_aead(self):
        return self.enc is not None and self.enc['kind'] == 'aead'

    @property
    def gcm_cut(self):
        """scapy writes GCM's whole 16-byte tag: a shorter ICV is its start
        (RFC 4106 section 6), cut off afterwards."""
        return self.is_aead and self.enc['scapy'] == 'AES-GCM' and self.enc['icv'] != 16

    @property
    def icv_len(self):
        if self.proto == 'ah':
            return self.auth['bits'] // 8
        if self.is_aead:
            return self.enc['icv']
        return self.auth['bits'] // 8 if self.auth else 0

    def describe(self):
        parts = [self.proto.upper(), self.mode, 'IPv%d' % self.family]
        if self.enc:
            parts.append(self.enc['blurb'])
        if self.auth:
            parts.append('%s-%d' % (self.auth['xfrm'], self.auth['bits']))
        if self.encap:
            parts.append('espinudp %d->%d' % self.encap)
        flags = self.ds_flags() + (['icmp'] if self.icmp else []) + \
            (['af-unspec'] if self.af_unspec else [])
        if flags:
            parts.append('flag ' + ' '.join(flags))
        return ' '.join(parts)

    def sel_family(self):
        """The IP version of the inner packets a tunnel SA decapsulates
        (Linux: the mode of x->sel.family), None for both: a `sel` prefix's
        family, else the SA's own (the kernel fills an unset selector family
        with the SA's, copy_from_user_state), unless flag af-unspec."""
        for k in ('src', 'dst'):
            if self.sel and k in self.sel:
                return 6 if ':' in self.sel[k] else 4
        return None if self.af_unspec else self.family

    def takes(self, family):
        """Does this SA deliver an inner packet of IP version family?
        Transport SAs: always (the rule is about tunnel decapsulation)."""
        return self.mode != 'tunnel' or self.sel_family() in (None, family)

    def ds_flags(self):
        return [f for f, on in (('noecn', self.noecn), ('decap-dscp', self.decap_dscp)) if on]

    def _q(self, name):
        return '"%s"' % name if self.quote else name

    def xfrm_line(self):
        w = ['ip xfrm state add src', self.src, 'dst', self.dst, 'proto', self.proto,
             'spi 0x%08x' % self.spi, 'reqid %d' % self.reqid, 'mode', self.mode]
        if self.direction:
            w.append('dir ' + self.direction)
        if self.window:
            w.append('replay-window %d' % self.window)
        flags = self.ds_flags() + \
            [f for f, on in (('icmp', self.icmp), ('esn', self.esn),
                             ('af-unspec', self.af_unspec)) if on]
        if flags:
            w.append('flag ' + ' '.join(flags))
        if self.sel and not self.sel_last:
            w.append(self.sel_clause())
        cont = []
        if self.enc:
            key = '0x' + self.enc_key.hex() if self.enc_key else '""'
            if self.is_aead:
                cont.append('aead %s %s %d' % (self._q(self.enc['xfrm']), key,
                                               self.enc['icv'] * 8))
            else:
                cont.append('enc %s %s' % (self._q(self.enc['xfrm']), key))
        if self.auth:
            if self.auth['plain']:
                cont.append('auth %s 0x%s' % (self._q(self.auth['xfrm']), self.auth_key.hex()))
            else:
                cont.append('auth-trunc %s 0x%s %d' % (self._q(self.auth['xfrm']),
                                                       self.auth_key.hex(), self.auth['bits']))
        if self.encap:
            cont.append('encap espinudp %d %d 0.0.0.0' % self.encap)
        if self.sel and self.sel_last:
            cont.append(self.sel_clause())
        if self.offload:
            cont.append('offload packet dev eth0 dir %s' % self.offload)
        return ' '.join(w) + ' \\\n    ' + ' \\\n    '.join(cont) + '\n'

    def sel_clause(self):
        """The selector in iproute2's add syntax, its words in the order
        `ip xfrm state add` documents them."""
        w = ['sel']
        for k in ('src', 'dst', 'proto', 'sport', 'dport', 'type', 'code'):
            if k in self.sel:
                w.append('%s %s' % (k, self.sel[k]))
        return ' '.join(w)

    def tunnel_header(self):
        return IP(src=self.src, dst=self.dst) if self.family == 4 else \
            IPv6(src=self.src, dst=self.dst)

    def scapy_sa(self, seq):
        kw = dict(seq_num=seq, esn_en=self.esn)
        if self.proto == 'esp':
            if self.enc and self.enc['scapy']:
                kw['crypt_algo'] = self.enc['scapy']
                kw['crypt_key'] = self.enc_key
                if self.is_aead:
                    kw['crypt_icv_size'] = self.enc['icv']
            if self.auth:
                kw['auth_algo'] = self.auth['scapy']
                kw['auth_key'] = self.auth_key
            if self.encap:
                kw['nat_t_header'] = UDP(sport=self.encap[0], dport=self.encap[1])
        else:
            kw['auth_algo'] = self.auth['scapy']
            kw['auth_key'] = self.auth_key
        if self.mode == 'tunnel':
            kw['tunnel_header'] = self.tunnel_header()
        return SecurityAssociation(ESP if self.proto == 'esp' else AH, self.spi, **kw)


# ---------------------------------------------------------------------------
# Byte-level helpers
# ---------------------------------------------------------------------------

def _csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip_hdr_len(ipb):
    return (ipb[0] & 0xf) * 4 if ipb[0] >> 4 == 4 else 40


def fix_lengths(ipb, udp_encap=False):
    """Recompute IPv4 total length + checksum / IPv6 payload length (and the
    UDP length and checksum of ESP-in-UDP, resum_udp) after the payload was
    cut or grown."""
    ipb = bytearray(ipb)
    hl = ip_hdr_len(ipb)
    if ipb[0] >> 4 == 4:
        struct.pack_into('!H', ipb, 2, len(ipb))
        struct.pack_into('!H', ipb, 10, 0)
        struct.pack_into('!H', ipb, 10, _csum(bytes(ipb[:hl])))
    else:
        struct.pack_into('!H', ipb, 4, len(ipb) - 40)
    if udp_encap:
        struct.pack_into('!H', ipb, hl + 4, len(ipb) - hl)
        return resum_udp(bytes(ipb))
    return bytes(ipb)


# The UDP checksum of ESP in UDP (RFC 768; RFC 8200 8.1 for IPv6). Linux
# sends none (0) over IPv4 (RFC 3948 2.1) and always a sum over IPv6 (esp6
# output: "UDP encap with IPv6 requires a valid checksum"); its UDP input
# verifies a non-zero sum before the encap hook and refuses a zero one over
# IPv6. scapy 2.5's nat_t_header writes 0 for both families, so IPv6 is
# summed here (resum_udp, via fix_lengths(udp_encap=True)).

def udp_at(ipb):
    """Offset of the UDP header of an IP packet carrying UDP (IPv6: behind
    hop-by-hop / destination options, which leave the pseudo-header as it
    is), else None."""
    if ipb[0] >> 4 == 4:
        return ip_hdr_len(ipb) if ipb[9] == 17 else None
    nh, off = ipb[6], 40
    while nh in (0, 60) and off + 8 <= len(ipb):
        nh, off = ipb[off], off + (ipb[off + 1] + 1) * 8
    return off if nh == 17 else None


def udp_sum_of(ipb, at=None, src=None, dst=None, ulen_delta=0):
    """The checksum a sender computes for the UDP datagram at `at` (default
    udp_at): over the pseudo-header (source, destination, protocol 17, the
    UDP length) and the datagram as its UDP length says, its checksum field
    taken as 0; a sum of 0 goes out as 0xffff. src / dst / ulen_delta: the
    sum over another pseudo-header (another address, another length), the
    datagram's bytes the same."""
    at = udp_at(ipb) if at is None else at
    ulen = struct.unpack('!H', ipb[at + 4:at + 6])[0]
    plen = ulen + ulen_delta
    if ipb[0] >> 4 == 4:
        a = socket.inet_pton(socket.AF_INET, src) if src else ipb[12:16]
        b = socket.inet_pton(socket.AF_INET, dst) if dst else ipb[16:20]
        pseudo = a + b + struct.pack('!BBH', 0, 17, plen)
    else:
        a = socket.inet_pton(socket.AF_INET6, src) if src else ipb[8:24]
        b = socket.inet_pton(socket.AF_INET6, dst) if dst else ipb[24:40]
        pseudo = a + b + struct.pack('!LxxxB', plen, 17)
    d = bytearray(ipb[at:at + ulen])
    d[6:8] = b'\0\0'
    return _csum(pseudo + bytes(d)) or 0xffff


def udp_sum_field(ipb, at=None):
    at = udp_at(ipb) if at is None else at
    return struct.unpack('!H', ipb[at + 6:at + 8])[0]


def set_udp_sum(ipb, value, at=None):
    at = udp_at(ipb) if at is None else at
    b = bytearray(ipb)
    struct.pack_into('!H', b, at + 6, value)
    return bytes(b)


def udp_sum_right(ipb):
    """Is ipb UDP with a non-zero checksum that verifies?"""
    at = udp_at(ipb)
    return at is not None and udp_sum_field(ipb, at) != 0 and \
        udp_sum_field(ipb, at) == udp_sum_of(ipb, at)


def resum_udp(ipb):
    """ipb (ESP in UDP whose bytes changed) with the UDP checksum its sender
    gives it: IPv6 always summed, IPv4 summed when it carries a sum (0 is
    none, as Linux sends it)."""
    at = udp_at(ipb)
    if ipb[0] >> 4 == 4 and udp_sum_field(ipb, at) == 0:
        return ipb
    return set_udp_sum(ipb, udp_sum_of(ipb, at), at)


def header_flags(ipb, natt_ports=(4500,)):
    """What the capabilities look at in a protected IP packet (spec section
    3, rule 4): 'ipv6', 'ipv4_opts', 'ipv6_ext' (before the IPsec header),
    'udp_esp' (ESP in UDP to 4500 or another of natt_ports)."""
    f = set()
    if ipb[0] >> 4 == 4:
        if ipb[0] & 0xf > 5:
            f.add('ipv4_opts')
        nh, off = ipb[9], ip_hdr_len(ipb)
    else:
        f.add('ipv6')
        nh, off = ipb[6], 40
        while nh in (0, 43, 60) and off + 8 <= len(ipb):
            f.add('ipv6_ext')
            nh, off = ipb[off], off + (ipb[off + 1] + 1) * 8
    if nh == 17 and len(ipb) >= off + 8 and \
            struct.unpack('!H', ipb[off + 2:off + 4])[0] in natt_ports:
        f.add('udp_esp')
    return f


def ds_of(ipb):
    """The DS field (DSCP << 2 | ECN): IPv4 TOS byte or IPv6 traffic class."""
    return ipb[1] if ipb[0] >> 4 == 4 else (ipb[0] & 0xf) << 4 | ipb[1] >> 4


def set_ds(ds):
    """Mutation: the outer DS field as a router on the path leaves it (CE
    mark, re-marked DSCP). ESP's ICV does not cover it and AH zeroes it for
    the ICV, so the packet still verifies; the IPv4 checksum is fixed."""
    def f(ipb):
        b = bytearray(ipb)
        if b[0] >> 4 == 4:
            b[1] = ds
            hl = ip_hdr_len(ipb)
            struct.pack_into('!H', b, 10, 0)
            struct.pack_into('!H', b, 10, _csum(bytes(b[:hl])))
        else:
            b[0] = 0x60 | ds >> 4
            b[1] = (ds & 0xf) << 4 | (b[1] & 0xf)
        return bytes(b)
    return f


# ECN codepoints (RFC 3168) and what tunnel decapsulation makes of the inner
# one given the outer one, as Linux 6.1's xfrm does (ipip_ecn_decapsulate):
# only an outer CE is carried in, and only into an ECN-capable packet. Where
# RFC 6040 4.2 differs, Linux wins: outer CE over a Not-ECT inner packet is
# delivered Not-ECT (RFC 6040 drops it), and an outer ECT(1) over ECT(0) is
# not copied in.
NOT_ECT, ECT1, ECT0, CE = 0, 1, 2, 3
ECN_DECAP = {
    (NOT_ECT, CE): NOT_ECT,
    (ECT0, CE): CE,
    (ECT1, CE): CE,
}


def tunnel_ds(sa, inner_ds, outer_ds):
    """The inner DS field delivered by tunnel SA sa: DSCP from the outer
    header with flag decap-dscp (first, as in xfrm4_remove_tunnel_outer_header),
    then the ECN outcome unless flag noecn."""
    dscp, ecn = inner_ds >> 2, inner_ds & 3
    if sa.decap_dscp:
        dscp = outer_ds >> 2
    if not sa.noecn:
        ecn = ECN_DECAP.get((ecn, outer_ds & 3), ecn)
    return dscp << 2 | ecn


def with_ds(pkt, ds):
    """pkt (a frozen scapy packet) with its DS field ds, rebuilt by scapy
    (IPv4 header checksum recomputed); pkt itself when nothing changes."""
    if ds_of(raw(pkt)) == ds:
        return pkt
    p = pkt.copy()
    if p.version == 4:
        p.tos = ds
        del p.chksum
    else:
        p.tc = ds
    return freeze(p)


def received_ds(sa, pkt, outer_ds):
    """The packet sa delivers when pkt was protected and the outer DS field
    arrived as outer_ds (None: as sent). Tunnel mode: tunnel_ds on the inner
    header. Transport mode: the received header is the delivered one, its DS
    field as it arrived, nothing else done to it."""
    if outer_ds is None:
        return pkt
    if sa.mode == 'tunnel':
        return with_ds(pkt, tunnel_ds(sa, ds_of(raw(pkt)), outer_ds))
    return with_ds(pkt, outer_ds)


# What IP reassembly makes of its fragments' ECN fields, as Linux 6.1 does
# (ip_frag_ecn_table in net/ipv4/inet_fragment.c, for IPv4 and IPv6; RFC
# 3168 5.3): each fragment contributes the bit 1 << ECN, ORed over the
# datagram. A Not-ECT fragment beside an ECN-capable one makes the datagram
# invalid; CE beside ECT(0) or ECT(1) marks the datagram CE; anything else
# (one codepoint, ECT(0) with ECT(1), CE alone) leaves the header's field.
FRAG_NOT_ECT, FRAG_ECT, FRAG_CE = 0x1, 0x2 | 0x4, 0x8


def frag_ecn_merge(frag_ds):
    """The DS field of the datagram reassembled from fragments whose DS
    fields are frag_ds (in offset order): the offset-0 fragment's header is
    the datagram's, so its DSCP stays, its ECN set to CE when the merge says
    so. None: the datagram is discarded."""
    seen = 0
    for ds in frag_ds:
        seen |= 1 << (ds & 3)
    if seen & FRAG_NOT_ECT and seen != FRAG_NOT_ECT:
        return None
    if seen & FRAG_CE and seen & FRAG_ECT:
        return frag_ds[0] | CE
    return frag_ds[0]


def fragments_of(ipb, size, ipid=None):
    """The IP datagram ipb as a sender cuts it (RFC 791, RFC 8200 4.5),
    by scapy: IPv4 fragments carrying `size` payload bytes each (a multiple
    of 8), DF cleared; IPv6 with a fragment header (identification ipid)
    right behind the fixed header."""
    if ipb[0] >> 4 == 4:
        p = IP(ipb)
        p.flags = 0
        if ipid is not None:
            p.id = ipid
        del p.chksum
        return [raw(f) for f in fragment(p, fragsize=size)]
    # Hop-by-hop and routing headers (and destination options before a
    # routing header) stay in front of the fragment header, in every
    # fragment: the unfragmentable part (RFC 8200 4.5).
    nh, off, last = ipb[6], 40, 6
    while nh in (0, 43) or (nh == 60 and ipb[off] == 43):
        nh, last, off = ipb[off], off, off + (ipb[off + 1] + 1) * 8
    b = bytearray(ipb[:off])
    b[last] = 44
    b[4:6] = struct.pack('!H', len(ipb) - 40 + 8)
    fh = struct.pack('!BBHI', nh, 0, 0, 0x5eed if ipid is None else ipid)
    whole = IPv6(bytes(b) + fh + ipb[off:])
    return [raw(f) for f in fragment6(whole, size + off + 8)]


def eth(ipb, vlan=None, ethertype=None):
    """Ethernet frame A -> B carrying ipb (optionally 802.1Q-tagged)."""
    if ethertype is None:
        ethertype = 0x0800 if ipb[0] >> 4 == 4 else 0x86dd
    dst = bytes.fromhex(MAC_B.replace(':', ''))
    src = bytes.fromhex(MAC_A.replace(':', ''))
    tag = struct.pack('!HH', 0x8100, vlan) if vlan is not None else b''
    return dst + src + tag + struct.pack('!H', ethertype) + ipb


def write_pcap(path, frames):
    """Classic libpcap, little-endian, microseconds, Ethernet; timestamps
    1 ms apart from 2025-01-01T00:00:00Z like the Linux captures."""
    t0 = 1735689600
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack('<IIII', t0 + i // 1000, (i % 1000) * 1000, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    """Frames of a classic pcap (either byte order, us or ns)."""
    with open(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack('<I', data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = '<'
    elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
        e = '>'
    else:
        raise ValueError('%s: not a classic pcap' % path)
    off, out = 24, []
    while off + 16 <= len(data):
        _s, _u, incl, _orig = struct.unpack(e + 'IIII', data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


# ---------------------------------------------------------------------------
# Plaintext packets
# ---------------------------------------------------------------------------

def payload_bytes(tag, n):
    s = ('[%s] ' % tag).encode()
    filler = bytes((0x41 + i % 26) for i in range(max(0, n - len(s))))
    return (s + filler)[:n]


def udp_packet(family, src, dst, n, tag, ipid=1, sport=50101, dport=9000):
    if family == 4:
        return IP(src=src, dst=dst, id=ipid, flags='DF') / \
            UDP(sport=sport, dport=dport) / Raw(payload_bytes(tag, n))
    return IPv6(src=src, dst=dst, fl=0x12345) / UDP(sport=sport, dport=dport) / \
        Raw(payload_bytes(tag, n))


def icmp_packet(family, src, dst, n, tag, ipid=1):
    if family == 4:
        return IP(src=src, dst=dst, id=ipid, flags='DF') / ICMP(id=7, seq=ipid) / \
            Raw(payload_bytes(tag, n))
    return IPv6(src=src, dst=dst) / ICMPv6EchoRequest(id=7, seq=ipid, data=payload_bytes(tag, n))


def freeze(pkt):
    """Resolve every default (lengths, checksums) once: this is the packet."""
    return pkt.__class__(raw(pkt))


# ---------------------------------------------------------------------------
# Protection (sender side), all with scapy's algorithms
# ---------------------------------------------------------------------------

def esp_protect(sa, pkt, seq, iv, nh=None, data=None, padding=None):
    """ESP-protect pkt on sa with sequence number seq and IV iv; return the
    outer IP packet bytes.

    Normal packets go through scapy's SecurityAssociation.encrypt. Crafted
    ones (other next header, other payload, hand-made padding) go through the
    same scapy CryptAlgo.encrypt / AuthAlgo.sign with our _ESPPlain.
    AES-GMAC uses rfc_extra.gmac_esp; short GCM ICVs are cut afterwards."""
    ssa = sa.scapy_sa(seq)
    crafted = nh is not None or data is not None or padding is not None
    if sa.enc and sa.enc['scapy'] and not crafted:
        ipb = raw(ssa.encrypt(pkt, seq_num=seq, iv=iv))
        if sa.encap:
            # scapy 2.5 leaves an IPv4 nat_t_header's UDP length at 8, which
            # any UDP receiver (Linux's, rxsec's) reads as an empty datagram,
            # and its UDP checksum 0 for both families (IPv6 summed here)
            ipb = fix_lengths(ipb, True)
        if sa.gcm_cut:
            ipb = fix_lengths(ipb[:len(ipb) - (16 - sa.enc['icv'])], bool(sa.encap))
        if seq == 0:    # scapy treats seq_num=0 as "use the SA's counter"
            assert struct.unpack('!L', ipb[ip_hdr_len(ipb) + (8 if sa.encap else 0) + 4:][:4])[0] == 0
        return ipb

    # Same steps as scapy's SecurityAssociation._encrypt_esp.
    if sa.mode == 'tunnel':
        hdr = sa.tunnel_header()
        inner_nh = 4 if pkt.version == 4 else 41
        body = raw(pkt)
    else:
        hdr, inner_nh, payload = split_for_transport(pkt, 50)
        body = raw(payload)
    esp = _ESPPlain(spi=sa.spi, seq=seq, iv=iv,
                    data=body if data is None else data,
                    nh=inner_nh if nh is None else nh)
    algo = ssa.crypt_algo
    if padding is None:
        if sa.enc['scapy'] is None:
            esp.padlen = -(len(esp.data) + 2) % 4   # GMAC: 4-byte alignment only
            esp.padding = bytes(range(1, esp.padlen + 1))
        else:
            esp = algo.pad(esp)
    else:
        esp.padding, esp.padlen = padding
    if sa.enc_id and sa.enc_id.endswith('gmac'):
        k, salt = sa.enc_key[:-4], sa.enc_key[-4:]
        pt = bytes(esp.data) + bytes(esp.padding) + bytes([esp.padlen, esp.nh])
        espb = rfc_extra.gmac_esp(k, salt, sa.spi, seq, iv, pt)
    else:
        enc = algo.encrypt(ssa, esp, ssa.crypt_key, ssa.crypt_icv_size,
                           esn_en=sa.esn, esn=0)
        ssa.auth_algo.sign(enc, ssa.auth_key)
        espb = raw(enc)
        if sa.gcm_cut:
            espb = espb[:len(espb) - (16 - sa.enc['icv'])]
    return assemble(hdr, espb, 50, sa.encap)


def assemble(hdr, l4, proto, encap=None):
    h = hdr.copy()
    h.remove_payload()
    if encap:
        l4 = struct.pack('!HHHH', encap[0], encap[1], 8 + len(l4), 0) + l4
        proto = 17
    if h.version == 4:
        h.proto = proto
        del h.len
        del h.chksum
    else:
        h.nh = proto
        del h.plen
    return fix_lengths(raw(h / Raw(l4)), udp_encap=bool(encap))


def ah_protect(sa, pkt, seq, pad=None):
    """AH-protect pkt. Default: scapy's SecurityAssociation.encrypt (IPv4 AH
    padded to 4 bytes, IPv6 to 8). pad=bytes: Linux style, the AH header
    padded with these (non-zero) bytes, covered by the ICV as sent."""
    ssa = sa.scapy_sa(seq)
    if pad is None:
        return raw(ssa.encrypt(pkt, seq_num=seq))
    if sa.mode == 'tunnel':
        hdr = sa.tunnel_header()
        nh = 4 if pkt.version == 4 else 41
        payload = Raw(raw(pkt))
        hdr = hdr.__class__(raw(hdr / Raw(b'')))  # resolve defaults
        if hdr.version == 4:
            hdr.proto = 51
        else:
            hdr.nh = 51
    else:
        hdr, nh, payload = split_for_transport(pkt, 51)
        payload = Raw(raw(payload))
    ah = AH(spi=sa.spi, seq=seq, nh=nh, icv=b'\0' * sa.icv_len, padding=pad)
    ah.payloadlen = len(ah) // 4 - 2
    hdr.remove_payload()
    # Keep the objects (a re-dissected AH would fold the padding into the
    # ICV field); only the lengths are fixed here, the checksum at raw().
    if hdr.version == 4:
        hdr.len = len(raw(hdr)) + len(ah) + len(payload)
        hdr.chksum = None
    else:
        hdr.plen = len(ah) + len(payload)
    return raw(ssa.auth_algo.sign(hdr / ah / payload, ssa.auth_key))


# ---------------------------------------------------------------------------
# Case
# ---------------------------------------------------------------------------

def _exp(spi, verdict, crypto_done, status, reason, wire, out=None):
    d = dict(n=0, wire=wire, spi=None if spi is None else '0x%08x' % spi, verdict=verdict,
             crypto_done=crypto_done, next_crypto_done=0, crypto_status=status,
             sa_delete_req=0, reason=reason)
    if out is not None:
        d['out_hex'] = out.hex()
    return d


class Case:
    def __init__(self, name, description, mode=None, family=None):
        self.name, self.description = name, description
        self.mode, self.family = mode, family
        self.rng = random.Random('rxsec:' + name)
        self.sas, self.entries = [], []
        self.next_spi = 0x1000
        self.reqid = 100
        self.args = []          # extra rxsec options (args.json)
        self.report = []        # regexes rxsec's exit report must match (expect.json)
        self.info = []          # per frame: what it is (SAs, header flags); not written

    # -- SAs --
    def sa(self, **kw):
        if 'spi' not in kw:
            kw['spi'] = self.next_spi
            self.next_spi += 0x100
        self.reqid += 1
        s = Sa(self.rng, reqid=self.reqid, **kw)
        self.sas.append(s)
        return s

    def iv_for(self, sa):
        if not sa.enc:
            return b''
        n = CRYPT_ALGOS[sa.enc['scapy']].iv_size if sa.enc['scapy'] else 8
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    # -- frames --
    def add(self, frame, exp, info=None):
        exp['n'] = len(self.entries)
        self.entries.append((frame, exp))
        self.info.append(info or {})

    def inner(self, sa, n, kind='udp', family=None, tag=None):
        """A plaintext packet for sa: between the inner addresses (tunnel) or
        the SA's own addresses (transport)."""
        fam = family or sa.family
        src, dst = (INNER[fam] if sa.mode == 'tunnel' else OUTER[sa.family])
        tag = tag or '%s pkt %02d' % (self.name, len(self.entries))
        ipid = 0x100 + len(self.entries)
        if kind == 'icmp':
            return freeze(icmp_packet(fam, src, dst, n, tag, ipid))
        return freeze(udp_packet(fam, src, dst, n, tag, ipid))

    def natt_ports(self):
        """The UDP ports ESP arrives on: 4500 and the encap ports of the SAs
        declared so far (so an SA with another port goes before its frames)."""
        return {4500} | {s.encap[1] for s in self.sas if s.encap}

    def delivered(self, sa, pkt, vlan):
        return eth(raw(pkt), vlan)

    def ipsec(self, sa, pkt, seq=None, vlan=None, expect='ok', mutate=None,
              wire=None, pad=None, outer_ds=None, **craft):
        """Protect pkt on sa and add the frame with its expected outcome.
        expect: 'ok' | 'auth' | a drop reason decided after a successful
        check (replay, below_window, seq_zero, tfc_dummy) | 'no_sa' |
        'invalid_packet_syntax' | 'invalid_protocol' | 'udp_checksum' (ESP in
        UDP whose UDP checksum UDP input refuses: malformed before any SA
        lookup, no SPI read, crypto_done 0).
        outer_ds: the outer DS field is set to it after protection (set_ds),
        and the delivered packet is received_ds's.
        mutate(ip_bytes) -> ip_bytes is applied to the protected packet."""
        if seq is None:
            seq = sa.next_seq
        sa.next_seq = max(sa.next_seq, seq + 1)
        if sa.proto == 'esp':
            ipb = esp_protect(sa, pkt, seq, self.iv_for(sa), **craft)
        else:
            ipb = ah_protect(sa, pkt, seq, pad=pad)
        if outer_ds is not None:
            ipb = set_ds(outer_ds)(ipb)
        if mutate:
            ipb = mutate(ipb)
        frame = eth(ipb, vlan)
        wire = wire or '%s%s spi=0x%08x seq=0x%x %s' % (
            sa.proto.upper(), 'UDP' if sa.encap else '', sa.spi, seq, sa.mode) + \
            ('' if outer_ds is None else ', outer DS 0x%02x, inner 0x%02x' %
             (outer_ds, ds_of(raw(pkt))))
        status, cd = 'CRYPTO_SUCCESS', 1
        out = None
        if expect == 'ok':
            verdict, reason = 'deliver', 'ok'
            out = self.delivered(sa, received_ds(sa, pkt, outer_ds), vlan)
        elif expect == 'auth':
            status = STATUS_FAIL[(sa.proto, sa.mode)]
            verdict, reason = 'drop', reason_of(status)
        elif expect in ('invalid_packet_syntax', 'invalid_protocol'):
            status = 'CRYPTO_' + expect.upper()
            verdict, reason = 'drop', expect
        elif expect == 'no_sa':
            verdict, reason, cd = 'drop', 'no_sa', 0
        elif expect == 'udp_checksum':
            verdict, reason, cd = 'drop', 'malformed', 0
        else:
            verdict, reason = 'drop', expect
        spi = None if expect == 'udp_checksum' else sa.spi
        self.add(frame, _exp(spi, verdict, cd, status, reason, wire, out),
                 dict(sa=sa, flags=header_flags(ipb, self.natt_ports())))
        return frame

    def nested(self, outer, inner, pkt, oseq=None, iseq=None, vlan=None, expect='ok',
               omutate=None, imutate=None, inner_known=True, wire=None, outer_ds=None,
               inner_seen=True):
        """Two IPsec layers (spec section 3, rule 5), both built by scapy:
        inner (transport ESP/AH) protects pkt, then outer protects that:
        a tunnel SA around the inner IP packet, or (outer AH, inner ESP, both
        transport) AH over ESP under one IP header (RFC 4302 3.1).
        expect: 'ok' | 'inner_auth' | 'outer_auth' | 'inner_protocol' |
        'outer_protocol' (that layer not encapsulated as its SA says, in UDP
        or bare: CRYPTO_INVALID_PROTOCOL) | a drop reason decided after both
        checks (replay). inner_known=False: inner is not in the
        SA file, so only the outer layer is removed (NextCryptoDone 0).
        inner_seen=False: the outer tunnel refuses its inner packet (the
        other IP version than its selector's), so the inner layer is never
        looked at (NextCryptoDone 0, its window stays).
        outer_ds: as in ipsec(), on the outermost header; the outer SA's
        decapsulation decides what the delivered header carries."""
        def prot(sa, p, seq):
            if seq is None:
                seq = sa.next_seq
            sa.next_seq = max(sa.next_seq, seq + 1)
            if sa.proto == 'esp':
                return esp_protect(sa, p, seq, self.iv_for(sa)), seq
            if p.haslayer(ESP):
                # scapy's AuthAlgo.sign would sign the ESP layer instead of
                # AH: the pad= path signs hdr/AH/Raw; same zero padding as scapy.
                fam6 = p.version == 6
                return ah_protect(sa, p, seq, pad=b'\0' * (-(12 + sa.icv_len) %
                                                           (8 if fam6 else 4))), seq
            return ah_protect(sa, p, seq), seq
        iipb, iseq = prot(inner, pkt, iseq)
        if imutate:
            iipb = imutate(iipb)
        ipkt = IP(iipb) if iipb[0] >> 4 == 4 else IPv6(iipb)
        assert raw(ipkt) == iipb
        oipb, oseq = prot(outer, ipkt, oseq)
        if outer_ds is not None:
            oipb = set_ds(outer_ds)(oipb)
        if omutate:
            oipb = omutate(oipb)
        frame = eth(oipb, vlan)
        wire = wire or '%s spi=0x%08x seq=0x%x %s around %s spi=0x%08x seq=0x%x %s%s' % (
            outer.proto.upper(), outer.spi, oseq, outer.mode, inner.proto.upper(),
            inner.spi, iseq, inner.mode, '' if inner_known else ' (inner SA unknown)') + \
            ('' if outer_ds is None else ', outer DS 0x%02x, inner 0x%02x' %
             (outer_ds, ds_of(raw(pkt))))
        inner_known = inner_known and inner_seen
        status, out, ncd = 'CRYPTO_SUCCESS', None, 1 if inner_known else 0
        verdict, reason = 'drop', expect
        if expect == 'ok':
            verdict = 'deliver'
            out = eth(raw(received_ds(outer, pkt if inner_known else ipkt, outer_ds)), vlan)
        elif expect in ('inner_auth', 'inner_protocol'):
            status = layer_failure(inner, expect)
            reason = reason_of(status)
        elif expect in ('outer_auth', 'outer_protocol'):
            status = layer_failure(outer, expect)
            reason, ncd = reason_of(status), 0
        e = _exp(outer.spi, verdict, 1, status, reason, wire, out)
        e['next_crypto_done'] = ncd
        self.add(frame, e, dict(sa=outer, inner=inner if inner_known else None,
                                flags=header_flags(oipb, self.natt_ports()),
                                iflags=header_flags(iipb, self.natt_ports())))
        return frame

    def fragment_entries(self, sa, pkt, size, order=None, ipid=None, wire=None,
                         frag_ds=None, **kw):
        """Protect pkt on sa (as ipsec(), with its keywords), then cut the
        protected datagram into IP fragments of `size` payload bytes
        (fragments_of) and return their (frame, expectation, info) in the
        order sent (indexes into the fragments; default as cut), without
        adding them. The receiver reassembles (RFC 4303 3.4.1): every
        fragment but the last sent is held; the last carries the datagram's
        outcome, decided on the transport's software path (crypto_done 0).
        frag_ds: the DS field each fragment arrives with (indexed as cut,
        i.e. by offset), as routers on the path leave them (set_ds). The
        datagram is then the one whose outer DS field arrived as
        frag_ecn_merge's (outer_ds, so received_ds decides what is
        delivered), or, when the merge discards it, every fragment is held."""
        discard = False
        if frag_ds is not None:
            assert 'outer_ds' not in kw, 'frag_ds gives the outer DS field'
            merged = frag_ecn_merge(frag_ds)
            discard = merged is None
            wire = wire or self._frag_ds_wire(sa, pkt, frag_ds, merged, kw.get('seq'))
            # ESP's ICV does not cover the DS field and AH's zeroes it: the
            # bytes protected do not depend on it, only the expectation does
            # (a discarded datagram has none; each fragment's is set below)
            kw['outer_ds'] = frag_ds[0] if discard else merged
        self.ipsec(sa, pkt, **kw)
        frame, exp = self.entries.pop()
        info = self.info.pop()
        frags = fragments_of(frame[14:], size, ipid)
        if frag_ds is not None:
            assert len(frag_ds) == len(frags), \
                'frag_ds has %d fields for %d fragments' % (len(frag_ds), len(frags))
            frags = [set_ds(ds)(f) for ds, f in zip(frag_ds, frags)]
        order = list(range(len(frags))) if order is None else order
        out = []
        for k, idx in enumerate(order):
            w = '%s, fragment %d of %d' % (wire or exp['wire'], idx + 1, len(frags))
            if frag_ds is not None:
                w += ' (DS 0x%02x)' % frag_ds[idx]
            if k == len(order) - 1 and not discard:
                e = dict(exp, wire=w, crypto_done=0, next_crypto_done=0,
                         crypto_status='CRYPTO_SUCCESS')
                out.append((eth(frags[idx]), e, info))
            else:
                out.append((eth(frags[idx]), _exp(None, 'held', 0, 'CRYPTO_SUCCESS',
                                                  'reassembly', w),
                            dict(flags=header_flags(frags[idx]))))
        return out

    @staticmethod
    def _frag_ds_wire(sa, pkt, frag_ds, merged, seq):
        """ipsec()'s wire text for a datagram whose fragments carry frag_ds."""
        return '%s%s spi=0x%08x seq=0x%x %s, fragments DS %s -> %s, %s 0x%02x' % (
            sa.proto.upper(), 'UDP' if sa.encap else '', sa.spi,
            sa.next_seq if seq is None else seq, sa.mode,
            ' '.join('0x%02x' % ds for ds in frag_ds),
            'discarded' if merged is None else '0x%02x' % merged,
            'inner' if sa.mode == 'tunnel' else 'sent with', ds_of(raw(pkt)))

    def fragmented(self, sa, pkt, size, **kw):
        """fragment_entries(), added in order."""
        for frame, e, info in self.fragment_entries(sa, pkt, size, **kw):
            self.add(frame, e, info)

    def variant(self, name, description, args, software):
        """The same frames and SAs run with extra rxsec options. Frames for
        which software(info) is true are outside the capabilities: the engine
        indicates them unprocessed (crypto_done 0, next_crypto_done 0,
        CRYPTO_SUCCESS, spi shown) and the transport's software path gives the
        same verdict, reason and delivered bytes (spec sections 3 rule 4, 4)."""
        v = Case(name, description, self.mode, self.family)
        v.sas, v.args, v.info = self.sas, list(args), self.info
        for (frame, e), info in zip(self.entries, self.info):
            e = dict(e)
            if info.get('sa') is not None and e['crypto_done'] and software(info):
                e.update(crypto_done=0, next_crypto_done=0, crypto_status='CRYPTO_SUCCESS')
            elif info.get('inner') is not None and e['next_crypto_done'] and \
                    software(dict(sa=info['inner'], flags=info['iflags'])):
                # Only the outer layer is the engine's; the inner one is
                # checked in software, its failure shows in the reason only.
                e.update(next_crypto_done=0)
                if e['crypto_status'] in (STATUS_FAIL[(info['inner'].proto, 'transport')],
                                          'CRYPTO_INVALID_PROTOCOL'):
                    e['crypto_status'] = 'CRYPTO_SUCCESS'
            v.entries.append((frame, e))
        return v

    def plain(self, ipb, wire, vlan=None):
        """A non-IPsec frame: delivered unchanged."""
        frame = eth(ipb, vlan)
        self.add(frame, _exp(None, 'deliver', 0, 'CRYPTO_SUCCESS', 'ok', wire, frame),
                 dict(flags=header_flags(ipb)))

    def raw_frame(self, frame, exp):
        self.add(frame, exp)

    # -- output --
    def sa_conf(self):
        out = ['# %s: %s\n' % (self.name, self.description),
               '# generated by tests/vectors (scapy %s, cryptography %s)\n' %
               (scapy.__version__, cryptography.__version__)]
        for s in self.sas:
            out.append('# %s\n' % s.describe())
            out.append(s.xfrm_line())
        return ''.join(out)

    def write(self, d):
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, 'sa.conf'), 'w') as f:
            f.write(self.sa_conf())
        if self.args:
            with open(os.path.join(d, 'args.json'), 'w') as f:
                json.dump(self.args, f)
                f.write('\n')
        write_pcap(os.path.join(d, 'in.pcap'), [fr for fr, _ in self.entries])
        outs = [bytes.fromhex(e['out_hex']) for _, e in self.entries if 'out_hex' in e]
        write_pcap(os.path.join(d, 'expected.pcap'), outs)
        doc = dict(case=self.name, description=self.description, origin='generated',
                   sa_form='add',
                   generator=dict(scapy=scapy.__version__,
                                  cryptography=cryptography.__version__),
                   mode=self.mode, family=self.family,
                   packet_count=len(self.entries), delivered_count=len(outs),
                   packets=[e for _, e in self.entries])
        if self.report:
            doc['report'] = self.report
        with open(os.path.join(d, 'expect.json'), 'w') as f:
            json.dump(doc, f, indent=1)
            f.write('\n')
        return d


# ---------------------------------------------------------------------------
# Mutations of a protected IP packet (bytes -> bytes)
# ---------------------------------------------------------------------------

def flip_last_byte(ipb):
    """Flip a bit in the last byte: the ESP ICV (or AEAD tag). ESP in UDP
    that carried a right UDP checksum carries one for the bytes sent (the
    forger sums what it sends): the ICV is what fails, not UDP input."""
    b = bytearray(ipb)
    b[-1] ^= 0x01
    return resum_udp(bytes(b)) if udp_sum_right(ipb) else bytes(b)


def flip_ah_icv(ipb):
    b = bytearray(ipb)
    b[ip_hdr_len(ipb) + 12] ^= 0x80
    return bytes(b)


def cut(n, encap=False):
    """Drop the last n bytes (lengths fixed so only the IPsec part is short)."""
    return lambda ipb: fix_lengths(ipb[:len(ipb) - n], encap)


def keep_ipsec(n, encap=False):
    """Keep only the first n bytes after the IP (and UDP) header."""
    def f(ipb):
        hl = ip_hdr_len(ipb) + (8 if encap else 0)
        return fix_lengths(ipb[:hl + n], encap)
    return f


def set_dst(addr):
    """Rewrite the outer destination address (IPv4 checksum fixed)."""
    def f(ipb):
        p = IP(ipb) if ipb[0] >> 4 == 4 else IPv6(ipb)
        p.dst = addr
        if p.version == 4:
            del p.chksum
        return raw(p.__class__(raw(p)))
    return f


def _proto_at(ipb):
    """Offset of the IPv4 protocol / IPv6 next header byte (no extension
    headers: the packets rewrapped below have none)."""
    return 9 if ipb[0] >> 4 == 4 else 6


def strip_udp(ipb):
    """ESP in UDP (RFC 3948 2.1) made bare ESP, as if sent without NAT-T:
    the UDP header taken out, protocol 50, lengths and IPv4 checksum fixed.
    The ESP bytes stay as protected (the ICV does not cover the UDP header)."""
    at, hl = _proto_at(ipb), ip_hdr_len(ipb)
    assert ipb[at] == 17, 'not ESP in UDP'
    b = bytearray(ipb[:hl])
    b[at] = 50
    return fix_lengths(bytes(b) + ipb[hl + 8:])


def udp_len(ipb):
    """Mutation: the UDP length of ESP in UDP made the datagram's. scapy's
    nat_t_header leaves it 8 over IPv4 (the header is frozen before the ESP
    is attached); a real sender's covers the ESP."""
    assert ipb[_proto_at(ipb)] == 17, 'not ESP in UDP'
    return fix_lengths(ipb, udp_encap=True)


def udp_sum(kind, src=None, dst=None, ulen_delta=0):
    """Mutation of a UDP datagram (ESP in UDP, IKE, a keepalive): its UDP
    checksum 'right' (summed, over IPv4 too), 'zero' (none), 'wrong' (the
    right one with bits flipped), 'other' (right for another pseudo-header:
    source src, destination dst or the UDP length off by ulen_delta; the
    bytes as sent)."""
    def f(ipb):
        at = udp_at(ipb)
        right = udp_sum_of(ipb, at)
        if kind == 'right':
            v = right
        elif kind == 'zero':
            v = 0
        elif kind == 'wrong':
            v = right ^ 0x5a5a
            if v in (0, 0xffff):
                v = right ^ 0x0101
        else:
            assert kind == 'other'
            v = udp_sum_of(ipb, at, src=src, dst=dst, ulen_delta=ulen_delta)
        assert kind == 'zero' or v != 0
        assert (v == right) == (kind == 'right'), 'checksum %s: 0x%04x' % (kind, v)
        return set_udp_sum(ipb, v, at)
    return f


def in_udp(sport=4500, dport=4500):
    """Mutation: bare ESP put into UDP as a NAT-T sender does (RFC 3948
    2.1): lengths fixed, UDP checksum 0 over IPv4, summed over IPv6
    (resum_udp)."""
    def f(ipb):
        at, hl = _proto_at(ipb), ip_hdr_len(ipb)
        assert ipb[at] == 50, 'not bare ESP'
        b = bytearray(ipb[:hl])
        b[at] = 17
        udp = struct.pack('!HHHH', sport, dport, 0, 0)
        return fix_lengths(bytes(b) + udp + ipb[hl:], udp_encap=True)
    return f


def set_spi(spi, encap=False):
    def f(ipb):
        b = bytearray(ipb)
        struct.pack_into('!L', b, ip_hdr_len(ipb) + (8 if encap else 0), spi)
        return bytes(b)
    return f
