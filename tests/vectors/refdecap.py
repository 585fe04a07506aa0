# SPDX-License-Identifier: BSD-3-Clause
"""Reference receiver for checking the vectors themselves (not rxsec):
parses an sa.conf (add lines or the `ip xfrm state` dump) and decapsulates
frames with scapy's SecurityAssociation.decrypt (rfc_extra for what scapy
lacks). selfcheck.py uses it on our generated cases and on the Linux
captures, which validates our key/salt conventions against the kernel.

Usage: refdecap.py CASEDIR [CASEDIR...]   (prints ok/FAIL per frame)
"""
import ipaddress
import json
import os
import re
import shlex
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scapy.all import IP, IPv6, TCP, raw  # noqa: E402
from scapy.layers.ipsec import SecurityAssociation, ESP, AH, IPSecIntegrityError  # noqa: E402
from cryptography.exceptions import InvalidTag  # noqa: E402

import rxsec_vectors as V  # noqa: E402
import rfc_extra  # noqa: E402

ENC_SCAPY = {'rfc4106(gcm(aes))': 'AES-GCM', 'rfc7539esp(chacha20,poly1305)': 'CHACHA20-POLY1305',
             'cbc(aes)': 'AES-CBC', 'rfc3686(ctr(aes))': 'AES-CTR', 'cbc(des3_ede)': '3DES',
             'cbc(des)': 'DES', 'ecb(cipher_null)': 'NULL', 'rfc4543(gcm(aes))': None,
             'rfc4309(ccm(aes))': 'AES-CCM'}
AUTH_SCAPY = {('hmac(md5)', 96): 'HMAC-MD5-96', ('hmac(sha1)', 96): 'HMAC-SHA1-96',
              ('hmac(sha256)', 96): 'HMAC-SHA256-96', ('hmac(sha256)', 128): 'SHA2-256-128',
              ('hmac(sha384)', 192): 'SHA2-384-192', ('hmac(sha512)', 256): 'SHA2-512-256',
              ('hmac(sha512)', 512): 'HMAC-SHA512-512', ('xcbc(aes)', 96): 'AES-XCBC-MAC-96',
              ('cmac(aes)', 96): 'AES-CMAC-96'}
AUTH_DEFAULT_BITS = {'hmac(md5)': 96, 'hmac(sha1)': 96, 'hmac(sha256)': 96,
                     'xcbc(aes)': 96, 'cmac(aes)': 96, 'hmac(sha384)': 192, 'hmac(sha512)': 256}


def _key(tok):
    return b'' if tok in ('""', '') else bytes.fromhex(tok[2:])


# `flag` words, in the kernel's bit order (the dump prints them so; an add
# line takes any order)
FLAG_WORDS = ('noecn', 'decap-dscp', 'nopmtudisc', 'wildrecv', 'icmp', 'af-unspec',
              'align4', 'esn')


def parse_sa_conf(text):
    """Both forms, just enough for the test SAs: returns a list of dicts."""
    text = re.sub(r'#[^\n]*', '', text).replace('\\\n', ' ')
    blocks, cur = [], None
    for line in text.split('\n'):
        toks = shlex.split(line)
        if toks[:3] == ['ip', 'xfrm', 'state']:
            toks = toks[4:] if len(toks) > 3 and toks[3] == 'add' else toks[3:]
        if not toks:
            continue
        if toks[0] == 'src':
            cur = []
            blocks.append(cur)
        cur.extend(toks if not line.startswith('\t ') else [])
    sas = []
    for t in blocks:
        d = dict(window=None, flags=set())
        i = 0
        while i < len(t):
            w = t[i]
            if w in ('src', 'dst', 'proto', 'mode', 'reqid', 'dir'):
                d.setdefault(w, t[i + 1])   # the first ones; `sel src ..` follows
                i += 2
            elif w == 'spi':
                d['spi'] = int(t[i + 1], 16)
                i += 2
            elif w == 'sel':
                d['sel'], i = parse_sel(t, i + 1)
            elif w == 'offload' or t[i:i + 3] == ['crypto', 'offload', 'parameters:']:
                # Linux's NIC offload: its dir is the offload's, not the SA's
                i += 1 if w == 'offload' else 3
                while i + 1 < len(t) and t[i] in ('crypto', 'packet', 'dev', 'dir', 'mode'):
                    i += 1 if t[i] in ('crypto', 'packet') else 2
            elif w == 'replay-window':
                d['window'] = int(t[i + 1])
                i += 2
            elif w == 'flag':
                # add: `flag F...` up to the next keyword; dump: the rest of
                # the replay-window line
                i += 1
                while i < len(t) and t[i] in FLAG_WORDS:
                    d['flags'].add(t[i])
                    i += 1
            elif w == 'replay_window':
                d['window'] = int(t[i + 1].rstrip(','))
                i += 2
            elif w == 'aead':
                d['aead'] = (t[i + 1], _key(t[i + 2]), int(t[i + 3]))
                i += 4
            elif w == 'enc':
                if t[i + 1] == 'ecb(cipher_null)' and (i + 2 >= len(t) or not
                                                       (t[i + 2].startswith('0x') or t[i + 2] == '')):
                    d['enc'] = (t[i + 1], b'')
                    i += 2
                else:
                    d['enc'] = (t[i + 1], _key(t[i + 2]))
                    i += 3
            elif w == 'auth-trunc':
                d['auth'] = (t[i + 1], _key(t[i + 2]), int(t[i + 3]))
                i += 4
            elif w == 'auth':
                d['auth'] = (t[i + 1], _key(t[i + 2]), AUTH_DEFAULT_BITS[t[i + 1]])
                i += 3
            elif w == 'encap':
                if t[i + 1] == 'type':
                    d['encap'] = (int(t[i + 4]), int(t[i + 6]))
                    i += 9
                else:
                    d['encap'] = (int(t[i + 2]), int(t[i + 3]))
                    i += 5
            else:
                i += 1
        sas.append(d)
    return sas


SEL_WORDS = ('src', 'dst', 'dev', 'proto', 'sport', 'dport', 'type', 'code', 'uid')


def parse_sel(t, i):
    """`sel` words from t[i] on (add: inline, up to the first other word;
    dump: its own line) -> (dict of the words given, next index). Its src
    and dst are the selector's, not the SA's."""
    sel = {}
    while i + 1 < len(t) and t[i] in SEL_WORDS:
        sel[t[i]] = t[i + 1]
        i += 2
    return sel, i


def natt_transport_fixup(ipb):
    """RFC 3948 3.1.2 step 4, by scapy: a transport-mode TCP segment or UDP
    datagram (with a checksum) that came in UDP gets its checksum computed
    over the addresses it arrived with, IPv4 or IPv6; so does an ICMPv6
    message, whose checksum covers the IPv6 pseudo-header too (RFC 4443
    2.3); so do UDP-Lite and DCCP over their coverage, and UDP over its
    UDP length (coverage_summed, by hand). ICMPv4 sums no addresses."""
    if transport_proto(ipb) in (UDP_PROTO, UDPLITE, DCCP):
        return coverage_summed(ipb)
    pkt = IP(ipb) if ipb[0] >> 4 == 4 else IPv6(ipb)
    if pkt.haslayer(TCP):
        del pkt[TCP].chksum
    elif ipb[0] >> 4 == 6 and ipb[6] == 58:
        return icmp6_summed(ipb)
    else:
        return ipb
    return raw(pkt)


UDP_PROTO, UDPLITE, DCCP = 17, 136, 33


def transport_proto(ipb):
    """The protocol right behind the IP header (no IPv6 extension headers
    in the cases that reach here)."""
    return ipb[9] if ipb[0] >> 4 == 4 else ipb[6]


def segment_coverage(proto, seg):
    """How many bytes of a UDP-Lite datagram or DCCP packet its checksum
    covers, or None when a receiver must drop it unchecked: UDP-Lite
    coverage 1..7 or past the datagram, or a zero checksum (RFC 3828 3.1;
    Linux udplite_checksum_init); DCCP data offset below the 12-byte
    generic header or past the packet, or CsCov past it (RFC 4340 9.2;
    Linux dccp_invalid_packet)."""
    n = len(seg)
    if proto == UDP_PROTO:
        # as long as its UDP length says (udp_rcv trims what follows);
        # shorter than its header or past the payload: dropped; 0: no sum
        if n < 8 or seg[6:8] == b'\0\0':
            return None
        ulen = struct.unpack('!H', seg[4:6])[0]
        return ulen if 8 <= ulen <= n else None
    if proto == UDPLITE:
        if n < 8 or seg[6:8] == b'\0\0':
            return None
        cov = struct.unpack('!H', seg[4:6])[0] or n
        return cov if 8 <= cov <= n else None
    if n < 12 or not 12 <= seg[4] * 4 <= n:
        return None
    cscov = seg[5] & 0x0f
    cov = n if cscov == 0 else (seg[4] + cscov - 1) * 4
    return cov if cov <= n else None


def coverage_summed(ipb):
    """RFC 3948 3.1.2 step 4 for UDP, UDP-Lite and DCCP: the checksum computed
    afresh over the pseudo-header of the addresses as received (its length
    UDP's own, else the whole segment's: RFC 3828 3.2, RFC 4340 9.1) and the
    covered bytes; a UDP or UDP-Lite sum of zero goes as all ones. A segment
    a receiver must drop stays as it came, for the host to drop."""
    v4 = ipb[0] >> 4 == 4
    proto = transport_proto(ipb)
    hl = (ipb[0] & 0xf) * 4 if v4 else 40
    end = struct.unpack('!H', ipb[2:4])[0] if v4 else 40 + struct.unpack('!H', ipb[4:6])[0]
    seg = ipb[hl:end]
    cov = segment_coverage(proto, seg)
    if cov is None:
        return ipb
    plen = cov if proto == UDP_PROTO else len(seg)
    if v4:
        pseudo = ipb[12:20] + struct.pack('!xBH', proto, plen)
    else:
        pseudo = ipb[8:40] + struct.pack('!LxxxB', plen, proto)
    csum = 0xffff - ones_sum(pseudo + seg[:6] + b'\0\0' + seg[8:cov])
    if proto in (UDP_PROTO, UDPLITE) and csum == 0:
        csum = 0xffff
    return ipb[:hl + 6] + struct.pack('!H', csum) + ipb[hl + 8:]


def icmp6_summed(ipb):
    """An ICMPv6 message right behind its IPv6 header with its checksum
    computed afresh over the pseudo-header (RFC 8200 8.1, RFC 4443 2.3)."""
    end = 40 + struct.unpack('!H', ipb[4:6])[0]
    msg = ipb[40:42] + b'\0\0' + ipb[44:end]
    pseudo = ipb[8:40] + struct.pack('!LxxxB', len(msg), 58)
    csum = 0xffff - ones_sum(pseudo + msg)
    return ipb[:42] + struct.pack('!H', csum or 0xffff) + ipb[44:]


def sel_family(d):
    """The family of a parsed SA's selector (4, 6, or None for AF_UNSPEC):
    that of its `sel` prefixes; without any, the SA's own, which the kernel
    fills in for a selector without a family (xfrm_user's
    copy_from_user_state: `if (!x->sel.family && !(p->flags &
    XFRM_STATE_AF_UNSPEC)) x->sel.family = p->family`; its dump then prints
    `sel src 0.0.0.0/0 dst 0.0.0.0/0` or `::/0`), unless flag af-unspec (the
    dump prints no sel line at all)."""
    sel = d.get('sel') or {}
    for k in ('src', 'dst'):
        if k in sel:
            return 6 if ':' in sel[k] else 4
    if 'af-unspec' in d['flags']:
        return None
    return 6 if ':' in d['src'] else 4


class RefSa:
    def __init__(self, d):
        self.d = d
        self.proto = d['proto']
        self.mode = d['mode']
        self.spi = d['spi']
        self.dst = d['dst']
        # Linux 6.10's xfrm_input drops a packet whose SA is outbound
        # (XfrmInStateDirError): for a received packet it is no SA
        self.outbound = d.get('dir') == 'out'
        # the IP version of the inner packets a tunnel SA decapsulates
        # (mode_refuses), None: either
        self.inner_family = sel_family(d) if self.mode == 'tunnel' else None
        self.noecn = 'noecn' in d['flags']
        self.decap_dscp = 'decap-dscp' in d['flags']
        kw = {}
        self.special = None
        if 'aead' in d:
            name, key, bits = d['aead']
            if name == 'rfc4543(gcm(aes))':
                self.special = ('gmac', key[:-4], key[-4:])
            elif name == 'rfc4106(gcm(aes))' and bits != 128:
                self.special = ('gcm', key[:-4], key[-4:], bits // 8)
            elif name == 'rfc4309(ccm(aes))':   # the tag is made at its length
                kw.update(crypt_algo='AES-CCM', crypt_key=key, crypt_icv_size=bits // 8)
            else:
                kw.update(crypt_algo=ENC_SCAPY[name], crypt_key=key)
        if 'enc' in d:
            kw.update(crypt_algo=ENC_SCAPY[d['enc'][0]], crypt_key=d['enc'][1] or None)
        if 'auth' in d:
            kw.update(auth_algo=AUTH_SCAPY[(d['auth'][0], d['auth'][2])], auth_key=d['auth'][1])
        if self.mode == 'tunnel':
            kw['tunnel_header'] = IP() if '.' in d['src'] else IPv6()
        self.ssa = SecurityAssociation(ESP if self.proto == 'esp' else AH, self.spi, **kw)

    def tfc_nh(self, ipb):
        """Next header of a verified ESP packet, by scapy's algorithms."""
        pkt = IP(ipb) if ipb[0] >> 4 == 4 else IPv6(ipb)
        esp = pkt[ESP]
        self.ssa.auth_algo.verify(esp, self.ssa.auth_key)
        icv = self.ssa.crypt_icv_size or self.ssa.crypt_algo.icv_size or \
            self.ssa.auth_algo.icv_size
        return self.ssa.crypt_algo.decrypt(self.ssa, esp, self.ssa.crypt_key, icv).nh

    def decap(self, ipb):
        """Outer IP bytes (UDP encapsulation already removed) -> delivered IP
        bytes; raises IPSecIntegrityError / InvalidTag on a bad ICV."""
        out = self._decap(ipb)
        if 'encap' in self.d and self.mode == 'transport':
            out = natt_transport_fixup(out)
        if self.mode == 'tunnel':
            out = self.tunnel_ds(ipb, out)
        return out

    def tunnel_ds(self, outer, inner):
        """Linux 6.1 xfrm4/6_remove_tunnel_outer_header on the inner header:
        with decap-dscp the outer DSCP replaces the inner one
        (ipv4/ipv6_copy_dscp), then unless noecn an outer CE is set in an
        inner packet whose ECN field is not 0 (ipip_ecn_decapsulate ->
        IP_ECN_set_ce: Not-ECT stays). Rebuilt by scapy, which computes the
        IPv4 checksum afresh; the header only, the rest as decapsulated."""
        o = IP(outer).tos if outer[0] >> 4 == 4 else IPv6(outer[:40]).tc
        p = IP(inner) if inner[0] >> 4 == 4 else IPv6(inner[:40])
        field = 'tos' if p.version == 4 else 'tc'
        ds = was = getattr(p, field)
        if self.decap_dscp:
            ds = (o & 0xfc) | (ds & 0x03)
        if not self.noecn and o & 3 == 3 and ds & 3:
            ds |= 3
        if ds == was:
            return inner
        setattr(p, field, ds)
        if p.version == 4:
            del p.chksum
            hl = p.ihl * 4
        else:
            hl = 40
        return raw(p)[:hl] + inner[hl:]

    def _decap(self, ipb):
        pkt = IP(ipb) if ipb[0] >> 4 == 4 else IPv6(ipb)
        if self.special is None:
            return raw(self.ssa.decrypt(pkt))
        hl = V.ip_hdr_len(ipb)
        espb = ipb[hl:]
        if self.special[0] == 'gmac':
            if not rfc_extra.gmac_verify(self.special[1], self.special[2], espb):
                raise InvalidTag()
            pt = espb[16:-16]
        else:
            pt = rfc_extra.gcm_decrypt(self.special[1], self.special[2], espb, self.special[3])
        padlen, nh = pt[-2], pt[-1]
        data = pt[:len(pt) - 2 - padlen]
        if self.mode == 'tunnel':
            return data
        h = bytearray(ipb[:hl])
        if ipb[0] >> 4 == 4:
            h[9] = nh
        else:
            h[6] = nh
        return V.fix_lengths(bytes(h) + data)


def split_frame(frame):
    off = 12
    while struct.unpack('!H', frame[off:off + 2])[0] == 0x8100:
        off += 4
    return frame[:off], frame[off + 2:]


# UDP ports ESP arrives on (RFC 3948): 4500, and every SA's `encap` port.
NATT_PORTS = {4500}


def ones_sum(data):
    """The 16-bit one's complement sum of data (RFC 1071), an odd byte
    padded with zero, carries folded back in as they come."""
    if len(data) & 1:
        data = data + b'\0'
    total = 0
    for (word,) in struct.iter_unpack('!H', data):
        total += word
        if total > 0xffff:
            total -= 0xffff
    return total


def udp_input_refuses(ipb, at, ulen):
    """Linux's UDP input for a datagram going to the ESP-in-UDP encap hook
    (udp_queue_rcv_one_skb: "Verify checksum before giving to encap";
    __udp6_lib_rcv / udp6_csum_init): a zero checksum is none over IPv4
    (RFC 768) and refused over IPv6 (RFC 8200 8.1); any other must verify,
    i.e. the pseudo-header (source, destination, zero, 17, the UDP length)
    and the datagram as its UDP length says, its checksum included, sum to
    all ones. -> why the datagram is dropped, or None. (The IPv6 packets
    here carry no routing header: the destination is the header's.)"""
    if ipb[at + 6:at + 8] == b'\0\0':
        return None if ipb[0] >> 4 == 4 else 'IPv6 UDP checksum zero'
    if ipb[0] >> 4 == 4:
        pseudo = ipb[12:20] + bytes([0, 17]) + ulen.to_bytes(2, 'big')
    else:
        pseudo = ipb[8:40] + ulen.to_bytes(4, 'big') + bytes([0, 0, 0, 17])
    if ones_sum(pseudo + ipb[at:at + ulen]) != 0xffff:
        return 'UDP checksum wrong'
    return None


def classify(ipb):
    """-> (kind, spi, dst, ip bytes with UDP encap removed: ipb itself when
    it had none). kind: 'esp' | 'ah' | None (not IPsec) | 'short' (an ESP
    header cut inside its sequence number: the SPI is there) | 'malformed'
    (dropped before any SA lookup: no SPI to read, or ESP in UDP that UDP
    input refuses; spi is then why)."""
    if ipb[0] >> 4 == 4:
        hl, proto = V.ip_hdr_len(ipb), ipb[9]
        dst = str(IP(ipb).dst)
        frag = struct.unpack('!H', ipb[6:8])[0] & 0x3fff != 0
    else:
        hl, proto, frag = 40, ipb[6], False
        dst = str(IPv6(ipb).dst)
        while proto in (0, 43, 44, 60) and len(ipb) >= hl + 8:   # extension headers
            if proto == 44:
                fo = struct.unpack('!H', ipb[hl + 2:hl + 4])[0]
                frag = frag or fo & 0xfff9 != 0
                if fo & 0xfff8 and ipb[hl] in (0, 43, 60):
                    # a later fragment whose fragment header names options
                    # that are in the first one: mid-datagram bytes, not
                    # taken into reassembly (Reassembler), passed on
                    return None, None, dst, ipb
            hl, proto = hl + (8 if proto == 44 else (ipb[hl + 1] + 1) * 8), ipb[hl]
    if proto == 17 and frag:
        # a UDP fragment not taken into reassembly (Reassembler): IKE's,
        # plain UDP, or one whose first fragment never came; passed on
        return None, None, dst, ipb
    if proto in (50, 51) and len(ipb) < hl + (4 if proto == 50 else 8):
        return 'malformed', 'no SPI', dst, ipb
    if proto == 50 and len(ipb) < hl + 8:
        return 'short', None, dst, ipb
    if proto == 50:
        return 'esp', struct.unpack('!L', ipb[hl:hl + 4])[0], dst, ipb
    if proto == 51:
        return 'ah', struct.unpack('!L', ipb[hl + 4:hl + 8])[0], dst, ipb
    if proto == 17 and struct.unpack('!H', ipb[hl + 2:hl + 4])[0] in NATT_PORTS:
        # UDP input: a datagram its IP payload cannot hold is dropped, bytes
        # behind a shorter one are no part of it
        ulen = struct.unpack('!H', ipb[hl + 4:hl + 6])[0]
        if ulen < 8 or hl + ulen > len(ipb):
            return 'malformed', 'UDP length %d, IP payload %d' % (ulen, len(ipb) - hl), dst, ipb
        body = ipb[hl + 8:hl + ulen]
        # RFC 3948 2.2 as xfrm4_udp_encap_rcv reads it: ESP when longer
        # than an ESP header and not behind the non-ESP marker; the rest
        # (keepalives, IKE) goes to the host as it is, its checksum the
        # host's business
        if len(body) > 8 and body[:4] != b'\0\0\0\0':
            why = udp_input_refuses(ipb, hl, ulen)
            if why:
                return 'malformed', why, dst, ipb
            b = bytearray(ipb[:hl])
            if ipb[0] >> 4 == 4:
                b[9] = 50
            else:
                b[6] = 50
            return 'esp', struct.unpack('!L', body[:4])[0], dst, V.fix_lengths(bytes(b) + body)
    return None, None, dst, ipb


class Reassembler:
    """The receiver's IP reassembly (RFC 791 3.2, RFC 8200 4.5) for
    fragments of ESP and AH datagrams, as a plain model: fragments keyed by
    addresses, identification and protocol; a datagram is whole when its
    pieces meet end to end, from offset 0 to a last fragment. ESP in UDP
    (RFC 3948) shows its port in the first fragment only: a later UDP
    fragment belongs to reassembly when its datagram's first fragment, seen
    before it, was ESP in UDP; otherwise it is plain UDP, passed on as it
    is. One that comes before its first fragment is passed on too, and its
    piece still joins the datagram if the first fragment then says ESP in
    UDP (Linux reassembles before UDP reads a port; passed, see passed()).
    The same holds for IPv6 whose fragment header names destination
    options (or another extension header, HIDING): every fragment's
    fragment header says 60, and only the first fragment shows ESP or AH
    (or ESP in UDP) behind the options; Linux reassembles whatever follows
    the fragment header, before ESP or AH is looked at.
    The whole
    datagram's header is its offset-0 fragment's, with the fragments' ECN
    fields merged into it (merged_ecn), which may discard it."""

    # what a fragment header may name with ESP or AH behind it in the
    # first fragment only: UDP, and over IPv6 an extension header
    HIDING = {4: (17,), 6: (17, 0, 43, 60)}

    def __init__(self):
        self.pending = {}
        self.natt = set()       # datagrams whose first fragment hid IPsec
        self.plain = set()      # datagrams whose first fragment hid none
        self.early = {}         # key -> pieces of such fragments ahead of their first

    @staticmethod
    def _natt_first(ipb, off, end):
        """Does a first fragment's UDP header at off say ESP (RFC 3948 2.2)?"""
        body = ipb[off + 8:end]
        return end >= off + 8 and struct.unpack('!H', ipb[off + 2:off + 4])[0] in NATT_PORTS \
            and len(body) > 8 and body[:4] != b'\0\0\0\0'

    def fragment_of(self, ipb):
        """-> (key, offset, more, header, data, natt_first) for a fragment
        reassembly takes, else None."""
        f = self._parse(ipb)
        if f is None:
            return None
        key, off, _, _, _, first_natt = f
        if key[3] in (50, 51) or first_natt or \
                (key[3] in self.HIDING[key[0]] and off and key in self.natt):
            return f
        return None

    def passed(self, ipb):
        """ipb goes on as it is (fragment_of was None). A first fragment
        of UDP (or behind IPv6 options, HIDING) that is not IPsec settles
        its datagram: pieces ahead of it are forgotten. A later such
        fragment of a datagram not settled yet leaves its piece waiting for
        the first fragment."""
        f = self._parse(ipb)
        if f is None or f[0][3] not in self.HIDING[f[0][0]]:
            return
        key, off, more, hdr, data, _ = f
        if off == 0:
            self.plain.add(key)
            self.early.pop(key, None)
        elif key not in self.plain:
            self.early.setdefault(key, []).append((off, more, hdr, data))

    def _parse(self, ipb):
        """-> (key, offset, more, header, data, natt_first) for any IP
        fragment, else None."""
        if ipb[0] >> 4 == 4:
            hl = V.ip_hdr_len(ipb)
            fo = struct.unpack('!H', ipb[6:8])[0]
            if not fo & 0x3fff:
                return None
            tot = struct.unpack('!H', ipb[2:4])[0]
            key = (4, ipb[12:20], ipb[4:6], ipb[9])
            off, more, hdr, data = (fo & 0x1fff) * 8, bool(fo & 0x2000), ipb[:hl], ipb[hl:tot]
            first_natt = ipb[9] == 17 and off == 0 and self._natt_first(ipb, hl, tot)
        else:
            # hop-by-hop, routing and destination headers may come first
            # (RFC 8200 4.5): the unfragmentable part, in every fragment
            nh, at = ipb[6], 40
            while nh in (0, 43, 60) and at + 8 <= len(ipb):
                nh, at = ipb[at], at + (ipb[at + 1] + 1) * 8
            if nh != 44:
                return None
            fo = struct.unpack('!H', ipb[at + 2:at + 4])[0]
            if not fo & 0xfff9:
                return None     # an atomic fragment: a whole datagram (RFC 6946)
            end = 40 + struct.unpack('!H', ipb[4:6])[0]
            key = (6, ipb[8:40], ipb[at + 4:at + 8], ipb[at])
            off, more, hdr, data = fo & 0xfff8, bool(fo & 1), ipb[:at], ipb[at + 8:end]
            first_natt = off == 0 and self._ipsec_behind(ipb, ipb[at], at + 8, end)
        return key, off, more, hdr, data, first_natt

    @classmethod
    def _ipsec_behind(cls, ipb, nh, at, end):
        """Does a first IPv6 fragment show ESP in UDP, or ESP or AH behind
        the extension headers its fragment header names (nh, at at)?"""
        if nh == 17:
            return cls._natt_first(ipb, at, end)
        if nh not in (0, 43, 60):
            return False
        while nh in (0, 43, 60) and at + 8 <= end:
            nh, at = ipb[at], at + (ipb[at + 1] + 1) * 8
        return nh in (50, 51) or nh == 17 and cls._natt_first(ipb, at, end)

    @staticmethod
    def merged_ecn(headers):
        """What the fragments' ECN fields (headers: every fragment's IP
        header) make of the datagram, RFC 3168 5.3 as Linux 6.1 reads it
        (ip_frag_ecn_table): 'discard' when some fragment says the datagram
        is not ECN-capable (Not-ECT) and another says it is; 'ce' when a
        router marked some fragment CE and another still shows ECT(0) or
        ECT(1), so the mark would otherwise be lost; else 'keep' (the
        offset-0 fragment's header as it came: all alike, only ECT(0) and
        ECT(1), or CE on all of them)."""
        marks = set()
        for h in headers:
            tclass = h[1] if h[0] >> 4 == 4 else (h[0] & 0x0f) << 4 | h[1] >> 4
            marks.add(('not-ect', 'ect1', 'ect0', 'ce')[tclass & 3])
        if 'not-ect' in marks and len(marks) > 1:
            return 'discard'
        if 'ce' in marks and marks & {'ect0', 'ect1'}:
            return 'ce'
        return 'keep'

    @staticmethod
    def set_ce(hdr):
        """Mark the IP header (a bytearray) CE; its DSCP stays. The IPv4
        checksum is computed afresh with the lengths (fix_lengths)."""
        if hdr[0] >> 4 == 4:
            hdr[1] |= 0x03
        else:
            hdr[1] |= 0x30      # the traffic class's low 2 bits, under the flow label

    def add(self, ipb):
        """-> the whole datagram when ipb completes one, else None (also
        when the completed datagram is discarded: its ECN fields disagree,
        merged_ecn)."""
        key, off, more, hdr, data, first_natt = self.fragment_of(ipb)
        pieces = self.pending.setdefault(key, [])
        pieces.append((off, more, hdr, data))
        if first_natt:
            self.natt.add(key)
            pieces += self.early.pop(key, [])
        pieces.sort(key=lambda p: p[0])
        at = 0
        for p_off, p_more, _, p_data in pieces:
            if p_off != at:
                return None
            at += len(p_data)
        if pieces[-1][1]:
            return None
        del self.pending[key]
        self.natt.discard(key)
        ecn = self.merged_ecn([p[2] for p in pieces])
        if ecn == 'discard':
            return None
        data = b''.join(p[3] for p in pieces)
        first = bytearray(pieces[0][2])
        if ecn == 'ce':
            self.set_ce(first)
        if key[0] == 4:
            first[6:8] = b'\0\0'
            return V.fix_lengths(bytes(first) + data)
        # the first fragment's unfragmentable part, its last header now
        # naming what the fragment header named
        nh_at, at = 6, 40
        while at < len(first):
            nh_at, at = at, at + (first[at + 1] + 1) * 8
        first[nh_at] = key[3]
        first[4:6] = struct.pack('!H', len(first) - 40 + len(data))
        return bytes(first) + data


def ah_len_refused(sa, ipb):
    """Linux ah_input/ah6_input, before the ICV: the AH header must be 12
    bytes plus the SA's truncated ICV or the algorithm's whole digest
    (icv_full_len), XFRM_ALIGN8 (ah4: XFRM_ALIGN4 with flag align4; rxsec
    takes both paddings over IPv4, README). -> why, or None. The ICV is
    then compared over the truncated length, the rest of the field covered
    as received: scapy's AuthAlgo.verify does the same."""
    hl, nh = (V.ip_hdr_len(ipb), ipb[9]) if ipb[0] >> 4 == 4 else (40, ipb[6])
    while nh != 51:
        nh, hl = ipb[hl], hl + (8 if nh == 44 else (ipb[hl + 1] + 1) * 8)
    got = (ipb[hl + 1] + 2) * 4
    name, _, bits = sa.d['auth']
    sizes = (12 + bits // 8, 12 + V.AUTH_FULL[name])
    aligns = (8,) if ipb[0] >> 4 == 6 else (4, 8)
    ok = sorted({-(-n // a) * a for n in sizes for a in aligns})
    return None if got in ok else 'AH of %d bytes, not one of %s' % (got, ok)


def header_ok(ipb):
    """Does the IPv4 header checksum verify?"""
    hl = V.ip_hdr_len(ipb)
    return sum(struct.unpack('!%dH' % (hl // 2), ipb[:hl])) % 0xffff == 0


def malformed_why(ipb, kind, detail):
    """Why an IPsec (or would-be IPsec) packet is dropped `malformed` before
    any SA sees it, or None: a wrong IPv4 header checksum (RFC 1122
    3.2.1.2, ip_rcv), then what classify found (detail: its why)."""
    if kind is None:
        return None
    if ipb[0] >> 4 == 4 and not header_ok(ipb):
        return 'IPv4 header checksum wrong'
    return detail if kind == 'malformed' else None


def norm(a):
    return str(IP(dst=a).dst) if '.' in a else str(IPv6(dst=a).dst)


def find_sa(sas, proto, spi, dst):
    for s in sas:
        if s.spi == spi and s.proto == proto and norm(s.dst) == norm(dst) and not s.outbound:
            return s
    return None


class EncapMismatch(Exception):
    """An inner layer not encapsulated as its SA says (encap_mismatch)."""


def encap_mismatch(sa, received, ipb2):
    """Linux xfrm_input, right after the SA lookup: a packet whose
    encapsulation is not its SA's, (x->encap ? x->encap->encap_type : 0) !=
    encap_type, is dropped (XfrmInStateMismatch) before the replay check and
    the ICV. received: the layer as it came, ipb2: classify's (the UDP header
    taken out, if it had one)."""
    return ('encap' in sa.d) != (ipb2 != received)


def mismatch_error(e, layer):
    """A layer (0 outer, 1 inner) not encapsulated as its SA says: dropped
    invalid_protocol, nothing after it done; CRYPTO_INVALID_PROTOCOL when the
    engine did that layer (crypto_done, next_crypto_done), CRYPTO_SUCCESS when
    the software path did. -> what the expectation gets wrong, or None."""
    done = e.get('next_crypto_done') if layer else e.get('crypto_done')
    want = dict(verdict='drop', reason='invalid_protocol',
                crypto_status='CRYPTO_INVALID_PROTOCOL' if done else 'CRYPTO_SUCCESS')
    if not layer:
        want['next_crypto_done'] = 0
    wrong = ['%s %s' % (k, e.get(k)) for k in want if e.get(k) != want[k]]
    if not wrong:
        return None
    return '%s layer not encapsulated as its SA says (want %s) but expected %s' % (
        ('outer', 'inner')[layer], ', '.join('%s %s' % kv for kv in want.items()),
        ', '.join(wrong))


def mode_refuses(sa, inner):
    """Linux xfrm_input, once the replay window advanced
    (xfrm_replay_advance), hands a tunnel SA's decapsulated packet to its
    inner mode: x->inner_mode, the mode of the selector's family, unless that
    is AF_UNSPEC (then the inner packet's own). xfrm4_remove_tunnel_encap
    takes an IPv4 (IPIP) inner packet only, xfrm6_remove_tunnel_encap an
    IPv6 one; any other is XfrmInStateModeError, dropped (rxsec counts it
    selector_mismatch). Transport SAs: no such check. -> why, or None."""
    if sa.inner_family is None:
        return None
    version = inner[0] >> 4
    if version == sa.inner_family:
        return None
    return 'an IPv%d packet inside tunnel SA 0x%08x, whose selector is IPv%d' % (
        version, sa.spi, sa.inner_family)


def decap_all(sas, sa, ipb):
    """Decapsulate on sa, then again while the result is transport ESP/AH of
    another known SA (spec section 3 rule 5: a tunnel SA's inner packet, or
    AH over ESP under one IP header). -> (delivered bytes, the SAs applied,
    outermost first, why the tunnel SA refused its inner packet or None:
    mode_refuses; as in Linux nothing inside it is then looked at). Raises
    EncapMismatch for an inner layer not encapsulated as its SA says, before
    its ICV."""
    out, applied = sa.decap(ipb), [sa]
    refused = mode_refuses(sa, out)
    for _ in range(4):
        if refused:
            break
        # a tunnel's inner packet goes back to Linux's ip_rcv, which drops
        # an IPv4 header with a wrong checksum before any inner SA sees it
        if applied[-1].mode == 'tunnel' and out[0] >> 4 == 4 and not header_ok(out):
            break
        proto, spi, dst, ipb2 = classify(out)
        nxt = find_sa(sas, proto, spi, dst) if proto in ('esp', 'ah') else None
        if nxt is None or nxt.mode != 'transport':
            break
        if encap_mismatch(nxt, out, ipb2):
            raise EncapMismatch()
        out = nxt.decap(ipb2)
        applied.append(nxt)
    return out, applied, refused


# ---------------------------------------------------------------------------
# Traffic selectors, as Linux checks the SAs a packet used against the packet
# it delivers (__xfrm_policy_check; a mismatch is XfrmInStateMismatch).
# ---------------------------------------------------------------------------

# `sel proto` names iproute2 takes (it asks /etc/protocols; not every
# machine has one, so the ones the cases use are spelled out here)
IPPROTO_NAMES = {'icmp': 1, 'tcp': 6, 'udp': 17, 'dccp': 33, 'gre': 47, 'esp': 50, 'ah': 51,
                 'ipv6-icmp': 58, 'icmpv6': 58, 'sctp': 132, 'mobility-header': 135,
                 'udplite': 136}
IPV6_EXT = (0, 43, 44, 60)      # hop-by-hop, routing, fragment, destination options


def flow_of(ipb):
    """A delivered IP packet as the selector sees it: (IP version, src, dst,
    protocol, sport, dport). Ports: TCP, UDP, UDP-Lite and SCTP ports;
    ICMP/ICMPv6 type and code; the mobility header type and 0; 0 for any
    other protocol (DCCP too: xfrm_flowi_sport knows no DCCP), for a
    fragment, and when the transport header is cut short."""
    if ipb[0] >> 4 == 4:
        p = IP(ipb)
        frag = p.frag != 0 or bool(p.flags.MF)
        proto, l4 = p.proto, ipb[p.ihl * 4:p.len]
    else:
        p = IPv6(ipb)
        proto, layer, frag = p.nh, p.payload, False
        while proto in IPV6_EXT and hasattr(layer, 'nh'):
            frag = frag or proto == 44
            proto, layer = layer.nh, layer.payload
        assert proto not in IPV6_EXT, 'scapy left an extension header undissected'
        l4 = raw(layer)
    sport = dport = 0
    if not frag:
        if proto in (6, 17, 132, 136) and len(l4) >= 4:
            sport, dport = struct.unpack('!HH', l4[:4])
        elif proto in (1, 58) and len(l4) >= 2:
            sport, dport = l4[0], l4[1]
        elif proto == 135 and len(l4) >= 4:
            sport = l4[2]
    return p.version, ipaddress.ip_address(p.src), ipaddress.ip_address(p.dst), \
        proto, sport, dport


def sel_norm(sel):
    """parse_sel's dict -> (src net, dst net, protocol, sport, dport): None
    for a /0 prefix (any address of either family) and for any port. No
    selector at all (flag af-unspec) reads as 0.0.0.0/0 both ways. ICMP type
    and code sit where the ports do, as in the kernel; iproute2 sets the
    mask for `type N`/`code N` always, for `sport N`/`dport N` only when N
    is not 0 (so `sport 0` is any port). Which IP version a tunnel SA
    decapsulates at all is its selector's family: sel_family, mode_refuses."""
    sel = sel or {}

    def net(prefix):
        n = ipaddress.ip_network(prefix or '0.0.0.0/0', strict=False)
        return n if n.prefixlen else None

    def num(v):
        return None if v is None else int(v, 0)

    def port(word, icmp_word):
        if icmp_word in sel:
            return num(sel[icmp_word])
        return num(sel.get(word)) or None
    p = sel.get('proto') or '0'
    return (net(sel.get('src')), net(sel.get('dst')), IPPROTO_NAMES.get(p) or num(p),
            port('sport', 'type'), port('dport', 'code'))


def sel_match(sel, flow):
    """Does flow_of's flow fall inside sel? A prefix of the other IP version
    (and not /0) matches nothing; a port or ICMP type/code set must be equal."""
    version, src, dst, proto, sport, dport = flow
    s_net, d_net, s_proto, s_port, d_port = sel_norm(sel)

    def inside(net, addr):
        return net is None or (net.version == version and addr in net)
    return inside(s_net, src) and inside(d_net, dst) and s_proto in (0, proto) and \
        s_port in (None, sport) and d_port in (None, dport)



# ---------------------------------------------------------------------------
# flag icmp (XFRM_STATE_ICMP), as Linux 6.1 applies it on local delivery:
# icmp_rcv (net/ipv4/icmp.c) and icmpv6_rcv (net/ipv6/icmp.c), when the
# forward policy check fails, look at the last SA of the secpath only; with
# flag icmp they pull the ICMP header and the quoted fixed IP header
# (8 + 20 / 8 + 40 bytes, else drop), point the network header at the
# quoted packet and check again with xfrm4/6_policy_check_reverse: the
# quoted packet decoded as a flow (decode_session4/6 with reverse: source
# and destination addresses and, for port protocols, the ports swapped;
# ICMP type/code and the MH type as they are) must match every SA's
# selector. Written here from the bytes, apart from flow_of above.
# ---------------------------------------------------------------------------

ICMP_ERROR_FIXED = {4: 20, 6: 40}       # the quoted fixed IP header


def icmp_quoted(ipb):
    """The packet an ICMP (IPv4 protocol 1) or ICMPv6 (next header 58,
    behind extension headers) message quotes: the bytes from 8 past the
    ICMP header start to the end of the datagram (its length field), or
    None: not ICMP, a fragment (IPv4 MF or offset, an IPv6 fragment
    header: no ICMP header to read before reassembly), or the message too
    short to hold its 8-byte header and the quoted fixed IP header."""
    version = ipb[0] >> 4
    if version == 4:
        ihl = (ipb[0] & 0xf) * 4
        end = struct.unpack('!H', ipb[2:4])[0]
        if struct.unpack('!H', ipb[6:8])[0] & 0x3fff or ipb[9] != 1:
            return None
        at = ihl
    elif version == 6:
        end = 40 + struct.unpack('!H', ipb[4:6])[0]
        nh, at = ipb[6], 40
        while nh in IPV6_EXT:
            if nh == 44 or at + 2 > end:
                return None
            nh, at = ipb[at], at + (ipb[at + 1] + 1) * 8
        if nh != 58:
            return None
    else:
        return None
    if at + 8 + ICMP_ERROR_FIXED[version] > end:
        return None
    return ipb[at + 8:end]


def reverse_flow(q):
    """The quoted packet q (cut anywhere after its fixed header) as the
    reverse policy check sees it: (IP version, src, dst, protocol, sport,
    dport) with src/dst being the quoted destination/source, and the quoted
    ports swapped for TCP, UDP, UDP-Lite and SCTP (read only when 4 bytes of
    the transport header are there; 0 for a fragment); ICMP/ICMPv6 type and
    code, the MH type, as they are. None when q is no IP header."""
    version = q[0] >> 4
    if version == 4:
        if len(q) < 20:
            return None
        ihl = (q[0] & 0xf) * 4
        end = min(struct.unpack('!H', q[2:4])[0], len(q))
        if ihl < 20 or end < ihl:
            return None
        frag = struct.unpack('!H', q[6:8])[0] & 0x3fff != 0
        src, dst, proto, l4 = q[12:16], q[16:20], q[9], q[ihl:end]
    elif version == 6:
        if len(q) < 40:
            return None
        end = min(40 + struct.unpack('!H', q[4:6])[0], len(q))
        src, dst, proto, at, frag = q[8:24], q[24:40], q[6], 40, False
        while proto in IPV6_EXT and at + 2 <= end:
            frag = frag or proto == 44
            proto, at = q[at], at + (q[at + 1] + 1) * 8
        if proto in IPV6_EXT:
            proto, at = 0, end      # the chain cut short: no protocol
        l4 = q[at:end]
    else:
        return None
    sport = dport = 0
    if not frag:
        if proto in (6, 17, 132, 136) and len(l4) >= 4:
            dport, sport = struct.unpack('!HH', l4[:4])         # swapped
        elif proto in (1, 58) and len(l4) >= 2:
            sport, dport = l4[0], l4[1]
        elif proto == 135 and version == 6 and len(l4) >= 3:
            sport = l4[2]
    return version, ipaddress.ip_address(dst), ipaddress.ip_address(src), proto, sport, dport


def icmp_rescues(applied, delivered):
    """Is a delivered packet outside some applied selector still taken
    because of flag icmp? applied: the SAs, outermost first (the last one
    applied is the innermost)."""
    if 'icmp' not in applied[-1].d['flags']:
        return False
    q = icmp_quoted(delivered)
    flow = reverse_flow(q) if q is not None else None
    return flow is not None and all(sel_match(x.d.get('sel'), flow) for x in applied)


def check_case(d, verbose=False):
    sas = [RefSa(x) for x in parse_sa_conf(open(os.path.join(d, 'sa.conf')).read())]
    NATT_PORTS.clear()
    NATT_PORTS.update({4500} | {s.d['encap'][1] for s in sas if 'encap' in s.d})
    frames = V.read_pcap(os.path.join(d, 'in.pcap'))
    exp = json.load(open(os.path.join(d, 'expect.json')))['packets']
    outs = V.read_pcap(os.path.join(d, 'expected.pcap'))
    assert len(frames) == len(exp), 'frame count %d vs %d' % (len(frames), len(exp))
    bad, oi = 0, 0
    reasm = Reassembler()
    for fr, e in zip(frames, exp):
        want = outs[oi] if e['verdict'] == 'deliver' else None
        if want is not None:
            oi += 1
            assert 'out_hex' not in e or bytes.fromhex(e['out_hex']) == want
        reason = e.get('reason', 'ok' if e['verdict'] == 'deliver' else None)
        eh, ipb = split_frame(fr)
        if reason != 'fragment' and reasm.fragment_of(ipb) is not None:
            ipb = reasm.add(ipb)
            if ipb is None:
                if reason != 'reassembly':
                    bad += 1
                    print('FAIL %s frame %d (%s): datagram incomplete or discarded but '
                          'expected %s' % (os.path.basename(d), e['n'], e.get('wire'), reason))
                continue
            if reason == 'reassembly':
                # the fragment completing a datagram is held only when
                # reassembly discards it (Reassembler.merged_ecn)
                bad += 1
                print('FAIL %s frame %d (%s): datagram complete but expected held' %
                      (os.path.basename(d), e['n'], e.get('wire')))
                continue
        elif reason == 'reassembly':
            bad += 1
            print('FAIL %s frame %d (%s): held but not an ESP/AH fragment' %
                  (os.path.basename(d), e['n'], e.get('wire')))
            continue
        elif reason != 'fragment':
            reasm.passed(ipb)
        proto, spi, dst, ipb2 = classify(ipb)
        why = malformed_why(ipb, proto, spi)
        sa = find_sa(sas, proto, spi, dst) if proto in ('esp', 'ah') else None
        msg = None
        try:
            if reason == 'fragment':
                pass    # a fragment not taken into reassembly
            elif reason == 'malformed':
                if why is None:
                    msg = 'nothing malformed (IPv4 header, SPI, UDP length and checksum) ' \
                        'but expected malformed'
            elif why is not None:
                msg = '%s: malformed, but expected %s' % (why, reason)
            elif reason == 'invalid_packet_syntax':
                pass    # crafted or cut: nothing to decrypt
            elif sa is not None and encap_mismatch(sa, ipb, ipb2):
                msg = mismatch_error(e, 0)
            elif sa is not None and proto == 'ah' and ah_len_refused(sa, ipb2):
                msg = '%s: refused before the ICV, but expected %s' % (
                    ah_len_refused(sa, ipb2), reason)
            elif proto is None or (sa is None and reason == 'ok'):
                if want != fr:
                    msg = 'non-IPsec frame not delivered unchanged'
            elif sa is None:
                if reason != 'no_sa':
                    msg = 'no SA found but expected %s' % reason
            elif reason == 'invalid_protocol':
                # encapsulated as its SA says: a tunnel SA's verified payload
                # that is not IP, else an inner layer (EncapMismatch)
                if sa.mode != 'tunnel' or sa.tfc_nh(ipb2) in (4, 41):
                    decap_all(sas, sa, ipb2)
                    msg = 'every layer as its SA says, IP inside, but expected %s' % reason
            elif reason == 'tfc_dummy':
                if sa.tfc_nh(ipb2) != 59:
                    msg = 'next header is not 59'
            elif reason.endswith('auth_failed'):
                try:
                    decap_all(sas, sa, ipb2)
                    msg = 'ICV verified but expected %s' % reason
                except (IPSecIntegrityError, InvalidTag):
                    pass
            else:
                inner, applied, refused = decap_all(sas, sa, ipb2)
                if refused:
                    # dropped by the tunnel's inner mode, after the window
                    # moved: selector_mismatch, or a drop decided before it
                    # (replay, below_window, seq_zero); never delivered
                    if reason == 'ok':
                        msg = '%s: dropped, but expected delivered' % refused
                else:
                    flow = flow_of(inner)
                    outside = [x for x in applied if not sel_match(x.d.get('sel'), flow)]
                    if outside and icmp_rescues(applied, inner):
                        outside = []
                    if reason == 'ok' and outside:
                        msg = 'delivered packet %s outside the selector of SA 0x%08x' % (
                            flow, outside[0].spi)
                    elif reason == 'selector_mismatch' and not outside:
                        msg = 'every applied selector matches %s (or flag icmp takes the ' \
                            'ICMP message, its quoted packet read backwards inside) and ' \
                            'every tunnel SA takes its inner IP version, but expected %s' % (
                                flow, reason)
                    et = 0x0800 if inner[0] >> 4 == 4 else 0x86dd
                    got = eh + struct.pack('!H', et) + inner
                    if reason == 'ok' and got != want and msg is None:
                        msg = 'decap differs:\n  got  %s\n  want %s' % (got.hex(), want.hex())
        except EncapMismatch:
            msg = mismatch_error(e, 1)
        except Exception as ex:     # noqa: BLE001
            msg = 'exception %r' % ex
        if msg:
            bad += 1
            print('FAIL %s frame %d (%s): %s' % (os.path.basename(d), e['n'], e.get('wire'), msg))
        elif verbose:
            print('ok   %s frame %d (%s)' % (os.path.basename(d), e['n'], e.get('wire')))
    assert oi == len(outs), 'expected.pcap has %d frames, %d delivered' % (len(outs), oi)
    return bad


if __name__ == '__main__':
    total = 0
    for d in sys.argv[1:]:
        total += check_case(d, verbose='-v' in os.environ.get('REFDECAP', ''))
    print('refdecap: %d failures' % total)
    sys.exit(1 if total else 0)
