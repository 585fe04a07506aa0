# SPDX-License-Identifier: BSD-3-Clause
"""Check the vectors themselves, without rxsec:

 1. rfc_extra's RFC test vectors (AES-XCBC-MAC).
 2. The Linux captures (CAPTURE_DIR args): scapy with our key conventions
    decapsulates the kernel's in.pcap into the kernel's expected.pcap, and
    our sender (esp_protect / ah_protect), given the kernel's plaintext,
    sequence number, IV (and AH padding), rebuilds the kernel's ESP/AH bytes
    exactly. This validates the salt/nonce/ICV/padding conventions against
    the real kernel.
 3. Every generated family: refdecap decapsulates in.pcap into
    expected.pcap, ICV failures fail, drops after a good ICV verify.
 4. The kernel's SA dumps (dumps/ beside the captures): refdecap reads every
    SA's selector and its family (which inner IP version a tunnel SA takes)
    the same from its `ip xfrm state add` line and from the kernel's dump
    of it, the narrow one (esp_trans4_aesgcm128_sel) as the kernel printed
    it, none for af-unspec, the SA's own without `sel`.
 5. The same dumps: refdecap reads every SA's `flag` words the same from
    its add line and from the kernel's dump (esn and af-unspec occur), and
    reads `flag noecn decap-dscp` where the kernel prints it, at the end of
    the replay-window line.

Usage: selfcheck.py [CAPTURE_DIR...]
"""
import glob
import ipaddress
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scapy.all import IP, IPv6  # noqa: E402

import gen  # noqa: E402
import refdecap  # noqa: E402
import rfc_extra  # noqa: E402
import rxsec_vectors as V  # noqa: E402


def sa_from_conf(d, rng):
    """A generator-side V.Sa with the keys of a parsed sa.conf entry."""
    enc = auth = None
    keys = {}
    if 'aead' in d or 'enc' in d:
        name, key = (d['aead'][0], d['aead'][1]) if 'aead' in d else d['enc']
        icv = d['aead'][2] // 8 if 'aead' in d else None
        for k, e in V.ENC.items():
            if e['xfrm'] == name and e['keylen'] + e['saltlen'] == len(key) and \
                    e.get('icv') == icv:
                enc = k
        keys['enc'] = key
    if 'auth' in d:
        for k, a in V.AUTH.items():
            if a['xfrm'] == d['auth'][0] and a['bits'] == d['auth'][2]:
                auth = k
        keys['auth'] = d['auth'][1]
    fam = 4 if '.' in d['dst'] else 6
    s = V.Sa(rng, d['spi'], proto=d['proto'], mode=d['mode'], family=fam, enc=enc,
             auth=auth, encap=d.get('encap'), keys=keys)
    s.src, s.dst = d['src'], d['dst']
    return s


def reencrypt_capture(cdir):
    """Rebuild the kernel's ESP/AH bytes from its plaintext; count mismatches."""
    import random
    confs = refdecap.parse_sa_conf(open(os.path.join(cdir, 'sa.conf')).read())
    sas = {c['spi']: sa_from_conf(c, random.Random(0)) for c in confs}
    ins = V.read_pcap(os.path.join(cdir, 'in.pcap'))
    outs = iter(V.read_pcap(os.path.join(cdir, 'expected.pcap')))
    bad = checked = 0
    for fr in ins:
        want_out = next(outs)
        _, ipb = refdecap.split_frame(fr)
        proto, spi, _dst, ipb2 = refdecap.classify(ipb)
        if proto is None:
            continue
        sa = sas[spi]
        hl = V.ip_hdr_len(ipb2)
        _, plain = refdecap.split_frame(want_out)
        pkt = IP(plain) if plain[0] >> 4 == 4 else IPv6(plain)
        if proto == 'esp':
            seq = struct.unpack('!L', ipb2[hl + 4:hl + 8])[0]
            ivlen = len(V.Case('x', '').iv_for(sa))
            iv = ipb2[hl + 8:hl + 8 + ivlen]
            mine = V.esp_protect(sa, pkt, seq, iv)
            mine_l4 = mine[V.ip_hdr_len(mine) + (8 if sa.encap else 0):]
            theirs = ipb2[hl:]
        else:
            seq = struct.unpack('!L', ipb2[hl + 8:hl + 12])[0]
            ahlen = (ipb2[hl + 1] + 2) * 4
            pad = ipb2[hl + 12 + sa.icv_len:hl + ahlen]
            mine = V.ah_protect(sa, pkt, seq, pad=pad if pad else None)
            mine_l4, theirs = mine, ipb2
        checked += 1
        if mine_l4 != theirs:
            bad += 1
            print('FAIL re-encrypt %s seq %d:\n  mine   %s\n  kernel %s' %
                  (os.path.basename(cdir), seq, mine_l4[:96].hex(), theirs[:96].hex()))
    print('%s re-encrypt %s: %d packets rebuilt byte for byte' %
          ('ok  ' if not bad else 'FAIL', os.path.basename(cdir), checked - bad))
    return bad


def dump_selectors(ddir):
    """Item 4: count SAs whose selector reads differently."""
    def sels(path):
        return {d['spi']: (refdecap.sel_norm(d.get('sel')), refdecap.sel_family(d))
                for d in refdecap.parse_sa_conf(open(path).read())}
    bad = n = 0
    for add in sorted(glob.glob(os.path.join(ddir, '*.add'))):
        a, d = sels(add), sels(add[:-4] + '.dump')
        n += len(a)
        if a != d:
            bad += 1
            print('FAIL selector of %s: add %s, dump %s' % (os.path.basename(add), a, d))
    net = ipaddress.ip_network
    want = (net('192.0.2.10/32'), net('192.0.2.20/32'), 17, None, 9000)
    got = sels(os.path.join(ddir, 'esp_trans4_aesgcm128_sel.dump')).get(0xd0d01301)
    got = got and got[0]
    if got != want:
        bad += 1
        print('FAIL esp_trans4_aesgcm128_sel selector read as %s, kernel printed %s' %
              (got, want))
    # the selector family: none for af-unspec (the dump has no sel line),
    # else the SA's (the kernel fills it in; the dump prints ::/0 for IPv6)
    fams = {}
    for name, spi in (('esp_tun4_aesgcm128_afunspec', 0xd0d01201),
                      ('esp_tun4_aesgcm128', 0xd0d00101), ('esp_tun6_aesgcm128', 0xd0d00b01)):
        for ext in ('.add', '.dump'):
            fams[name + ext] = sels(os.path.join(ddir, name + ext))[spi][1]
    want_fams = {'esp_tun4_aesgcm128_afunspec': None, 'esp_tun4_aesgcm128': 4,
                 'esp_tun6_aesgcm128': 6}
    for name, fam in want_fams.items():
        if fams[name + '.add'] != fam or fams[name + '.dump'] != fam:
            bad += 1
            print('FAIL selector family of %s: add %s, dump %s, want %s' %
                  (name, fams[name + '.add'], fams[name + '.dump'], fam))
    print('%s selectors (and their families) of %d SAs read alike from add lines and '
          'kernel dumps' % ('ok  ' if not bad else 'FAIL', n))
    return bad


def dump_flags(ddir):
    """Item 5: count SAs whose flags read differently."""
    def flags(text):
        return {d['spi']: d['flags'] for d in refdecap.parse_sa_conf(text)}
    bad = n = 0
    for add in sorted(glob.glob(os.path.join(ddir, '*.add'))):
        a = flags(open(add).read())
        d = flags(open(add[:-4] + '.dump').read())
        n += len(a)
        if a != d:
            bad += 1
            print('FAIL flags of %s: add %s, dump %s' % (os.path.basename(add), a, d))
    # No dump holds noecn or decap-dscp: give the inbound SA of a real one
    # the line the kernel prints for them (README, dump format rule 3).
    text = open(os.path.join(ddir, 'esp_tun4_aesgcm128.dump')).read()
    parts = text.split('\nsrc ')
    k = next(i for i, b in enumerate(parts) if 'spi 0xd0d00101' in b)
    assert '\treplay-window 32 \n' in parts[k]
    parts[k] = parts[k].replace('\treplay-window 32 \n',
                                '\treplay-window 32 flag noecn decap-dscp\n')
    edited = refdecap.parse_sa_conf('\nsrc '.join(parts))
    plain = refdecap.parse_sa_conf(text)
    want = [dict(x, flags={'noecn', 'decap-dscp'} if x['spi'] == 0xd0d00101 else set())
            for x in plain]
    if edited != want:
        bad += 1
        print('FAIL `replay-window 32 flag noecn decap-dscp` read as %s' % edited)
    print('%s flags of %d SAs read alike from add lines and kernel dumps; noecn decap-dscp '
          'read from the dump line' % ('ok  ' if not bad else 'FAIL', n))
    return bad


def main(argv):
    bad = 0
    rfc_extra.selftest()
    print('ok   rfc_extra RFC 3566 vectors')
    missing = [d for d in argv[1:] if not os.path.isfile(os.path.join(d, 'expect.json'))]
    if missing:
        print('FAIL capture directory missing (or without expect.json): %s\n'
              '     the Linux captures come from shared/linux-xfrm beside the repo' %
              ', '.join(missing))
        return 1
    for cdir in argv[1:]:
        n = refdecap.check_case(cdir)
        print('%s scapy decap of Linux capture %s' % ('ok  ' if not n else 'FAIL',
                                                     os.path.basename(cdir)))
        bad += n
        bad += reencrypt_capture(cdir)
    if argv[1:]:
        ddir = os.path.join(os.path.dirname(os.path.abspath(argv[1])), '..', 'dumps')
        if not os.path.isfile(os.path.join(ddir, 'esp_trans4_aesgcm128_sel.dump')):
            print('FAIL kernel dumps missing at %s (shared/linux-xfrm/dumps)' % ddir)
            return 1
        bad += dump_selectors(ddir)
        bad += dump_flags(ddir)
    with tempfile.TemporaryDirectory(prefix='rxsec-vec-') as td:
        for d in gen.generate(td, ['all']):
            n = refdecap.check_case(d)
            bad += n
            print('%s reference decap of %s' % ('ok  ' if not n else 'FAIL', os.path.basename(d)))
    print('selfcheck: %d failures' % bad)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
