#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Starting inputs for the fuzz targets (fuzz.h), written into a directory
per target: scripts/fuzz.sh gives them to libFuzzer with the saved corpus.

sa_parse: every SA file of config/ and every dump of ../shared/linux-xfrm.
control: each command of the control socket, well and badly formed, an
add of every SA file of config/, a session of several requests, and
sessions of several clients at once.
pipeline: the frames of config/sample/in.pcap and of the Linux captures as
they are (records of kind 0), and for each sealable SA of fuzz_pipeline.c
an inner packet to seal (kind 1), nest (kind 2) and fragment (kind 3); each
after the set-up byte 0, and some after each other set-up bit."""
import glob
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, '..', '..')
shared = os.path.join(root, '..', 'shared', 'linux-xfrm')

# fuzz_pipeline.c's sealable SAs: (mode, family, ESN)
SEALABLE = [('tunnel', 4, False), ('tunnel', 4, False), ('transport', 4, False),
            ('tunnel', 6, True), ('transport', 4, False), ('transport', 6, False),
            ('tunnel', 4, False), ('tunnel', 4, True)]
SEQ_GIVEN, TRAILER, VLAN = 0x20, 0x40, 0x80
TWO_STAGES, NO_OFFLOAD, NARROW, NO_REASSEMBLY = 1, 2, 4, 8


def record(op, payload):
    return bytes([op]) + struct.pack('>H', len(payload)) + payload


def pcap_frames(path):
    data = open(path, 'rb').read()
    end = '<' if data[:4] == b'\xd4\xc3\xb2\xa1' else '>'
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + 'I', data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def csum(b):
    s = sum(struct.unpack('>%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4_udp(src, dst, payload, sport=1024, dport=53):
    udp = struct.pack('>HHHH', sport, dport, 8 + len(payload), 0) + payload
    h = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                    bytes(src), bytes(dst))
    return h[:10] + struct.pack('>H', csum(h)) + h[12:] + udp


def ipv4_tcp(src, dst, payload):
    tcp = struct.pack('>HHIIBBHHH', 40000, 443, 1, 0, 5 << 4, 0x18, 512, 0, 0) + payload
    pseudo = bytes(src) + bytes(dst) + struct.pack('>BBH', 0, 6, len(tcp))
    body = pseudo + tcp + (b'\0' if len(tcp) % 2 else b'')
    tcp = tcp[:16] + struct.pack('>H', csum(body)) + tcp[18:]
    h = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                    bytes(src), bytes(dst))
    return h[:10] + struct.pack('>H', csum(h)) + h[12:] + tcp


def ipv6_udp(src, dst, payload):
    udp = struct.pack('>HHHH', 1024, 53, 8 + len(payload), 0) + payload
    return struct.pack('>IHBB16s16s', 6 << 28, len(udp), 17, 64, src, dst) + udp


def inner_packet(mode, family, data=b'ping'):
    """What a sealable SA carries: an IP packet for a tunnel (the target
    adds the trailer), a transport payload after its next header byte."""
    if mode == 'transport':
        udp = struct.pack('>HHHH', 1024, 53, 8 + len(data), 0) + data
        return bytes([17]) + udp
    if family == 6:
        return ipv6_udp(bytes.fromhex('20010db8000100000000000000000001'),
                        bytes.fromhex('20010db8000200000000000000000001'), data)
    return ipv4_udp([172, 16, 0, 1], [172, 17, 0, 1], data)


def pipeline_seeds():
    seeds = {}
    pcaps = [os.path.join(root, 'config', 'sample', 'in.pcap')]
    pcaps += sorted(glob.glob(os.path.join(shared, 'captures', '*', '*.pcap')))
    for p in pcaps:
        frames = pcap_frames(p)
        name = os.path.basename(os.path.dirname(p)) + '-' + os.path.basename(p)
        seeds['raw-' + name] = b''.join(record(0, f) for f in frames[:32])
    for i, (mode, family, esn) in enumerate(SEALABLE):
        pt = inner_packet(mode, family)
        seeds['seal-%d' % i] = record(1 | i << 2 | TRAILER, pt) * 3
        seq = struct.pack('>II', 7, 0) if esn else struct.pack('>I', 7)
        seeds['seal-%d-vlan-seq' % i] = record(1 | i << 2 | TRAILER | VLAN | SEQ_GIVEN,
                                               seq + pt)
        seeds['frag-%d' % i] = record(3 | i << 2 | TRAILER, pt + bytes(200))
        # longer inner packets, whole and in fragments, and one behind TFC padding
        big = inner_packet(mode, family, bytes(range(256)) * 5)
        seeds['seal-%d-long' % i] = (record(1 | i << 2 | TRAILER, big) +
                                     record(3 | i << 2 | TRAILER, big) +
                                     record(1 | i << 2 | TRAILER, big[:300] + bytes(64)))
    # SA 6 (AES-CBC, HMAC-SHA-256) takes TCP only: its packets get past the selector
    tcp = ipv4_tcp([172, 16, 0, 6], [172, 17, 0, 6], b'hello')
    seeds['seal-6-tcp'] = record(1 | 6 << 2 | TRAILER, tcp) * 2
    seeds['seal-6-tcp-long'] = record(1 | 6 << 2 | TRAILER,
                                      ipv4_tcp([172, 16, 0, 6], [172, 17, 0, 6],
                                               bytes(range(256)) * 4))
    inner = inner_packet('transport', 4)
    seeds['nested-0'] = record(2 | TRAILER, inner) * 2
    seeds['nested-3'] = record(2 | 0x10 | TRAILER, inner)
    seeds['nested-both'] = (record(2 | TRAILER, inner) + record(2 | 0x10 | TRAILER, inner)) * 2
    out = {}
    for name, data in seeds.items():
        out[name] = bytes([0]) + data
        if name.startswith(('raw-sample', 'nested', 'frag-0', 'frag-3', 'seal-2')):
            for setup in (TWO_STAGES, NO_OFFLOAD, NARROW, NO_REASSEMBLY):
                out['%s-setup%d' % (name, setup)] = bytes([setup]) + data
    return out


def sa_parse_seeds():
    seeds = {}
    files = glob.glob(os.path.join(root, 'config', '*', '*.conf'))
    files += glob.glob(os.path.join(shared, 'dumps', '*'))
    for p in sorted(files):
        seeds[os.path.basename(os.path.dirname(p)) + '-' + os.path.basename(p)] = \
            open(p, 'rb').read()
    return seeds


# fuzz_control.c's preloaded SAs, named as rxsec-ctl names them
GCM = 'src 192.0.2.10 dst 192.0.2.%d proto esp spi 0x%x reqid %d mode tunnel ' \
      'replay-window 32 aead "rfc4106(gcm(aes))" ' \
      '0xa54dca182530bb1d6d132cded6237b2ed91e3f72 128\n'
CONTROL = [
    'list', 'list extra', 'stats', 'stats spi 0x1000 dst 192.0.2.20',
    'stats spi 0x4000 dst 192.0.2.20 proto ah', 'stats spi 0x1000',
    'del spi 0x1000 dst 192.0.2.20', 'del spi 0x1000 dst 192.0.2.20 pair',
    'del spi 0x4000 dst 192.0.2.20 proto ah', 'del spi 0x9 dst 192.0.2.20',
    'del spi 0x1000 spi 0x1000 dst 192.0.2.20', 'del spi 0x1000 dst 192.0.2.20 hi 1',
    'update-esn spi 0x2000 dst 2001:db8:0:1::20 hi 5',
    'update-esn spi 0x1000 dst 192.0.2.20 hi 5', 'update-esn spi 0x2000 dst 2001:db8:0:1::20',
    'add\n' + GCM % (30, 0x5000, 5), 'add\n' + GCM % (20, 0x1000, 1),
    'add\n' + ''.join(GCM % (30, 0x6000 + i, 6) for i in range(14)),
    'add\nsrc 192.0.2.10 dst 192.0.2.30 proto esp spi 1 mode tunnel enc "cbc(aes)" 0x01',
    'del spi "0x1\\ dst \xff\xc0\x80\xed\xa0\x80 \x7f\x1b', 'stats spi 1 dst \xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82\xac\xff\x1b', 'add', 'nonsense \xff\xfe "quoted" \\ \x01', 'add\x00list', '',
]


def control_seeds():
    seeds = {'%02d' % i: r.encode('latin-1') for i, r in enumerate(CONTROL)}
    files = glob.glob(os.path.join(root, 'config', '*', '*.conf'))
    for p in sorted(files):
        seeds['add-' + os.path.basename(p)] = b'add\n' + open(p, 'rb').read()
    # a session: add, see it, change it, delete it, see it gone
    seeds['session'] = '\n%%\n'.join([
        'add\n' + GCM % (30, 0x5000, 5), 'list', 'stats spi 0x5000 dst 192.0.2.30',
        'del spi 0x5000 dst 192.0.2.30', 'del spi 0x1000 dst 192.0.2.20 pair',
        'list', 'stats']).encode()
    seeds.update(control_concurrent_seeds())
    return seeds


def control_concurrent_seeds():
    """Several clients at once ("@" lines, fuzz_control.c): requests sent in
    parts between others, clients closing mid-request or before the reply,
    waiting while all 8 slots are taken, and silent ones crowded out."""
    add = 'add\n' + GCM % (30, 0x5000, 5)
    silent8 = ['@c%d open\n' % c for c in range(8)]
    seeds = {}
    # c0, silent longest, is crowded out for c8; c1 then sends its request
    seeds['conc-crowd'] = silent8 + ['@c8 crowd\nlist', '@c1\nstats']
    # the oldest silent client goes, not one that sent a word or came later
    seeds['conc-crowd-order'] = [
        '@c0 open\nlist', '@c1 open\n', '@c2 open\nstats', '@c3 open\n', '@c4 open\n',
        '@c5 open\nupdate-esn spi 0x2000', '@c6 open\n', '@c7 open\ndel spi 0x4000',
        '@c8 open\n', '@c9 crowd\n' + add, '@c10 crowd\nlist',
        '@c5\n dst 2001:db8:0:1::20 hi 9', '@c7\n dst 192.0.2.20 proto ah', 'list']
    # every slot holds a client that sent something: nobody is crowded out,
    # c8 waits until c0's request ends; a plain request waits behind it
    seeds['conc-crowd-none'] = (['@c0 open\nlist'] +
                                ['@c%d open\nstats' % c for c in range(1, 8)] +
                                ['@c8 crowd\nlist', 'stats spi 0x1000 dst 192.0.2.20',
                                 '@c0\n', '@c1 crowd\n spi 0x4000 dst 192.0.2.20 proto ah'])
    # a waiting client that closes gets a slot when a silent one makes room,
    # and its add is not run (it never ended its request with a shutdown)
    seeds['conc-crowd-closed'] = silent8 + ['@c8 close\n' + add, '@c9 crowd\nlist',
                                            '@c9\nlist']
    # requests in parts, each finished at the next step, two served in a poll
    seeds['conc-parts'] = [
        '@c0 part=7\n' + add, '@c1 part=10\ndel spi 0x1000 dst 192.0.2.20 pair',
        '@c2 part=3\nlist', '@c3 part=0\nstats spi 0x5000 dst 192.0.2.30',
        'update-esn spi 0x2000 dst 2001:db8:0:1::20 hi 3', '@c4 open part=2\nli',
        '@c4\nst', 'list']
    # closes: mid-request ("del spi 0x10" of a longer del), after an add,
    # after an unended del; control.c runs none of them, and the table must
    # not change for them
    seeds['conc-close'] = [
        '@c0 part=12 close\ndel spi 0x1000 dst 192.0.2.20', '@c1 close\n' + add, 'list',
        '@c2 open\ndel spi 0x5000 dst 192.0.2.30', '@c2 close\n', 'stats', 'list']
    return {k: '\n%%\n'.join(v).encode() for k, v in seeds.items()}


def main():
    makers = {'sa_parse': sa_parse_seeds, 'pipeline': pipeline_seeds,
              'control': control_seeds}
    if len(sys.argv) != 3 or sys.argv[1] not in makers:
        sys.exit('usage: seeds.py sa_parse|pipeline|control DIR')
    seeds = makers[sys.argv[1]]()
    os.makedirs(sys.argv[2], exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(sys.argv[2], name), 'wb') as f:
            f.write(data)
    print('%d seeds in %s' % (len(seeds), sys.argv[2]))


if __name__ == '__main__':
    main()
