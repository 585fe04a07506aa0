#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Bad plaintext never crashes rxsec. fuzz-frames mutates frames on the wire,
so nearly all of them fail the ICV and never reach the code that runs after
it. Here the mutation happens before protection: scapy's ESP/AH (through
tests/vectors) protects mutated inner packets and transport payloads with
valid ICVs, so decapsulation, nested SAs, tunnel inner headers, selectors,
ICMP quotes, NAT-T checksum rewrites, IPv6 extension headers and inner
fragments all meet bit flips, lying lengths, cut headers, odd next headers
and junk. Expected, with -l 0 and -l 0-1 and also through the software path
(--no-offload) and two transport stages: exit 0, every mbuf back, no
sanitizer report, one verdict per frame in order, as many frames out as
deliver verdicts. And the traffic must reach that code: most frames verify,
and mutated plaintext is both delivered and refused after verification."""
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'vectors'))
import rxsec_vectors as V  # noqa: E402
from scapy.all import (IP, IPv6, UDP, TCP, ICMP, Raw, ICMPv6EchoRequest,  # noqa: E402
                       ICMPv6DestUnreach, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrRouting, IPv6ExtHdrFragment, IPOption_RR,
                       IPOption_Router_Alert, raw)
from scapy.layers.ipsec import split_for_transport  # noqa: E402
from test_fuzz_frames import pipeline_checks  # noqa: E402

rxsec = os.path.abspath(os.environ.get('RXSEC', 'build/app/rxsec'))
rng = random.Random(int(os.environ.get('RXSEC_FUZZ_SEED', '4302')))
FRAMES = int(os.environ.get('RXSEC_FUZZ_FRAMES', '1500'))
# after protection: what rxsec verified and then judged on the plaintext
AFTER_ICV = ('ok', 'invalid_packet_syntax', 'invalid_protocol', 'selector_mismatch',
             'tfc_dummy')


def junk(n):
    return bytes(rng.randrange(256) for _ in range(n))


class Sas:
    """Outer SAs of every kind, and transport SAs between the tunnels' inner
    addresses, so a tunnel's plaintext can carry a second layer."""

    def __init__(self):
        c = self.case = V.Case('fuzz_plaintext', 'mutated plaintext, valid ICVs')
        self.outer = [
            c.sa(mode='tunnel', family=4, enc='aes128gcm16', af_unspec=True, window=0),
            c.sa(mode='tunnel', family=6, enc='aes128gcm16', window=0,
                 sel=dict(src='2001:db8:0:a::/64', dst='2001:db8:0:b::/64', proto='udp')),
            c.sa(mode='tunnel', family=4, enc='aes128cbc', auth='sha1', window=0, icmp=True,
                 sel=dict(src='198.51.100.0/24', dst='203.0.113.0/24')),
            c.sa(mode='transport', family=4, enc='aes128gcm16', window=0),
            c.sa(mode='transport', family=6, enc='aes128gcm16', window=0),
            c.sa(mode='transport', family=4, enc='aes128cbc', auth='sha256',
                 encap=(4500, 4500), window=0),
            c.sa(proto='ah', mode='tunnel', family=4, auth='sha256', window=0),
            c.sa(proto='ah', mode='transport', family=6, auth='sha256', window=0),
        ]
        self.inner = {4: [self._inner(4, enc='aes256gcm16'), self._inner(4, proto='ah',
                                                                          auth='sha1')],
                      6: [self._inner(6, enc='aes128gcm16')]}

    def _inner(self, family, **kw):
        sa = self.case.sa(mode='transport', family=family, window=0, **kw)
        sa.src, sa.dst = V.INNER[family]
        return sa

    def protect(self, sa, pkt, seq):
        if sa.proto == 'esp':
            return V.esp_protect(sa, pkt, seq, self.case.iv_for(sa))
        return V.ah_protect(sa, pkt, seq)


def inner_packets(sas, family):
    """Tunnel plaintexts: plain, with options and extension headers, ICMP
    errors quoting a packet, fragments, and a second IPsec layer."""
    s, d = V.INNER[family]
    if family == 4:
        ip = IP(src=s, dst=d, id=rng.randrange(65536))
        pkts = [ip / UDP(sport=1, dport=2) / Raw(junk(30)), ip / TCP() / Raw(junk(10)),
                ip / ICMP() / Raw(junk(8)),
                ip / ICMP(type=3, code=1) / IP(src=d, dst=s) / UDP(sport=5, dport=6),
                IP(src=s, dst=d, options=[IPOption_Router_Alert(),
                                          IPOption_RR(pointer=4, routers=['0.0.0.0'])]) /
                UDP() / Raw(junk(5)),
                IP(src=s, dst=d, flags='MF', id=77) / UDP() / Raw(junk(40)),
                IP(src=s, dst=d, frag=5, id=77, proto=17) / Raw(junk(40))]
    else:
        ip = IPv6(src=s, dst=d)
        pkts = [ip / UDP() / Raw(junk(30)), ip / ICMPv6EchoRequest(data=junk(9)),
                ip / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / UDP() / Raw(junk(9)),
                ip / IPv6ExtHdrRouting(addresses=['2001:db8::1']) / TCP() / Raw(junk(4)),
                ip / IPv6ExtHdrFragment(m=1, id=5) / UDP() / Raw(junk(24)),
                ip / IPv6ExtHdrFragment(offset=3, id=5, nh=17) / Raw(junk(24)),
                ip / ICMPv6DestUnreach() / IPv6(src=d, dst=s) / UDP()]
    ip_cls = IP if family == 4 else IPv6
    for isa in sas.inner[family]:
        pkt = ip_cls(src=s, dst=d) / UDP(sport=3, dport=4) / Raw(junk(20))
        pkts.append(ip_cls(sas.protect(isa, pkt, rng.randrange(1, 1 << 20))))
    return [raw(p) for p in pkts]


def transport_packets(family):
    s, d = V.OUTER[family]
    ip = IP(src=s, dst=d) if family == 4 else IPv6(src=s, dst=d)
    last = ip / ICMP() / Raw(junk(12)) if family == 4 else \
        ip / ICMPv6EchoRequest(data=junk(12))
    return [ip / UDP(sport=9, dport=10) / Raw(junk(30)), ip / TCP() / Raw(junk(20)), last]


def mutate(b):
    b = bytearray(b)
    kind = rng.randrange(8)
    if kind <= 2 and b:                 # bits flipped anywhere
        for _ in range(rng.randrange(1, 5)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 3:                     # cut short
        b = b[:rng.randrange(len(b) + 1)]
    elif kind == 4:                     # junk behind
        b += junk(rng.randrange(1, 40))
    elif kind == 5 and len(b) > 8:      # a 16-bit word (a length?) set to anything
        at = rng.randrange(len(b) - 1)
        b[at:at + 2] = rng.choice([0, 1, 0xffff, rng.randrange(0x10000)]).to_bytes(2, 'big')
    elif kind == 6 and b:               # a header byte set to a version or protocol
        b[rng.randrange(min(len(b), 60))] = rng.choice(
            [0, 0xff, 4, 6, 17, 41, 43, 44, 50, 51, 58, 59, 60, 0x45, 0x60])
    return bytes(b)                     # kind 7: unchanged


def tunnel_frame(sas, sa, seq):
    family = rng.choice([4, 6]) if sa.af_unspec else sa.family
    if rng.random() < 0.9:
        data = mutate(rng.choice(inner_packets(sas, family)))
    else:
        data = junk(rng.randrange(60))
    nh = 4 if family == 4 else 41
    if rng.random() < 0.05:
        nh = rng.choice([0, 6, 17, 50, 51, 59, 255])
    if sa.proto == 'esp':
        return V.esp_protect(sa, IP() if family == 4 else IPv6(), seq,
                             sas.case.iv_for(sa), nh=nh, data=data)
    # AH tunnel: scapy puts the outer header around what it is given
    return sas.protect(sa, IP(data) if family == 4 else IPv6(data), seq)


def transport_frame(sas, sa, seq):
    pkt = rng.choice(transport_packets(sa.family))
    hdr, nh, payload = split_for_transport(pkt, 50 if sa.proto == 'esp' else 51)
    data = mutate(raw(payload))
    if rng.random() < 0.1:
        nh = rng.choice([0, 1, 4, 6, 17, 33, 41, 50, 51, 58, 132, 136])
    if sa.proto == 'esp':
        return V.esp_protect(sa, pkt, seq, sas.case.iv_for(sa), nh=nh, data=data)
    hdr = hdr.copy()
    hdr.remove_payload()
    if hdr.version == 4:
        hdr.proto = nh
    else:
        hdr.nh = nh
    return sas.protect(sa, hdr / Raw(data), seq)


def make_frames(sas):
    frames, seq = [], {}
    while len(frames) < FRAMES:
        sa = rng.choice(sas.outer)
        seq[sa.spi] = seq.get(sa.spi, 0) + 1
        try:
            make = tunnel_frame if sa.mode == 'tunnel' else transport_frame
            ipb = make(sas, sa, seq[sa.spi])
        except Exception:   # noqa: BLE001 - scapy cannot build every mutant
            continue
        frames.append(V.eth(ipb))
    return frames


def run(wd, frames, lcores, extra):
    ntx = int(extra[extra.index('--transports') + 1]) if '--transports' in extra else 1
    outs = [os.path.join(wd, 'out%d.pcap' % i) for i in range(ntx)]
    vpath = os.path.join(wd, 'v.jsonl')
    args = [rxsec, '--no-huge', '-m', '512', '--no-pci', '--file-prefix',
            'fzp%d_%s' % (os.getpid(), lcores.replace('-', '')), '-l', lcores,
            '--log-level=warning', '--vdev',
            'net_pcap0,rx_pcap=%s/in.pcap,%s' % (wd, ','.join('tx_pcap=' + o for o in outs)),
            '--', '--sa', os.path.join(wd, 'sa.conf'), '--verdicts', vpath,
            '--idle-exit', '300'] + extra
    p = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=wd)
    verdicts = [json.loads(x) for x in open(vpath)] if os.path.exists(vpath) else []
    out = sum((V.read_pcap(o) for o in outs if os.path.exists(o)), [])
    return p, verdicts, out


def inner_delivered(stdout, sas):
    """Packets delivered through a second layer: the inner SAs' counters
    (the software path writes no NextCryptoDone)."""
    spis = ['sa 0x%08x ' % sa.spi for fam in sas.inner.values() for sa in fam]
    n = 0
    for line in stdout.splitlines():
        if any(line.startswith(s) for s in spis) and ': delivered ' in line:
            n += int(line.split(': delivered ')[1].split()[0])
    return n


def main():
    sas = Sas()
    frames = make_frames(sas)
    failed = 0
    with tempfile.TemporaryDirectory(prefix='rxsec-fuzzp-') as wd:
        with open(os.path.join(wd, 'sa.conf'), 'w') as f:
            f.write(sas.case.sa_conf())
        V.write_pcap(os.path.join(wd, 'in.pcap'), frames)
        for lcores, extra in (('0', []), ('0-1', []), ('0-1', ['--no-offload']),
                              ('0-1', ['--transports', '2'])):
            p, verdicts, out = run(wd, frames, lcores, extra)
            name = '-l %s%s' % (lcores, ''.join(' ' + a for a in extra))
            reasons = {}
            for v in verdicts:
                reasons[v['reason']] = reasons.get(v['reason'], 0) + 1
            verified = sum(reasons.get(r, 0) for r in AFTER_ICV)
            delivered = reasons.get('ok', 0)
            nested = inner_delivered(p.stdout, sas)
            checks = pipeline_checks(p, verdicts, len(frames), len(out)) + [
                (verified >= 0.8 * len(frames),
                 'the plaintext reached rxsec: %d of %d frames verified' % (
                     verified, len(frames))),
                (delivered < verified and nested > 0,
                 'mutants refused after the ICV (%d), nested layers delivered (%d)' % (
                     verified - delivered, nested)),
            ]
            for ok, what in checks:
                failed += not ok
                print('%s %s: %s' % ('ok  ' if ok else 'FAIL', name, what))
            if failed:
                print(p.stdout[-2000:], p.stderr[-3000:])
            print('     reasons: %s' % ', '.join('%s %d' % kv for kv in sorted(reasons.items())))
    print('%d failed' % failed)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
