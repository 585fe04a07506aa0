#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Bad input never crashes rxsec: thousands of frames mutated from valid
ESP/AH/NAT-T/plain frames (bytes flipped in every header, lengths lied
about, frames cut short or padded, header fields set to extremes) go through
the whole pipeline, jumbo frames and IP fragments among them. Expected: exit 0, exactly one verdict per frame in
receive order, as many frames out as deliver verdicts, every mbuf back, and
no sanitizer report (the suite also runs on the ASan/UBSan build)."""
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'vectors'))
import cases  # noqa: E402
import rxsec_vectors as V  # noqa: E402

rxsec = os.environ.get('RXSEC', 'build/app/rxsec')
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
sample = os.path.join(root, 'config', 'sample')
captures = os.path.join(root, '..', 'shared', 'linux-xfrm', 'captures')


def mutate(rng, f):
    b = bytearray(f)
    kind = rng.randrange(7)
    if kind == 0:       # flip bytes anywhere in the headers
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(min(len(b), 80))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == 1:     # cut short
        b = b[:rng.randrange(0, len(b))]
    elif kind == 2:     # trailing junk (Ethernet padding or lies)
        b += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    elif kind == 3:     # IPv4 total length / IPv6 payload length set to anything
        l3 = 18 if b[12:14] == b'\x81\x00' else 14
        if len(b) > l3 + 6:
            off = l3 + (2 if b[l3] >> 4 == 4 else 4)
            v = rng.choice([0, 1, 20, 40, 0xffff, rng.randrange(0x10000)])
            b[off:off + 2] = v.to_bytes(2, 'big')
    elif kind == 4:     # IHL / AH length / pad length extremes
        l3 = 14
        if len(b) > l3 + 24:
            b[l3] = (b[l3] & 0xf0) | rng.choice([0, 1, 5, 15])
            b[-rng.randrange(1, min(len(b), 40))] = rng.choice([0, 1, 255])
    elif kind == 5:     # last bytes (trailer, ICV) scrambled
        for i in range(1, min(len(b), 24)):
            if rng.random() < 0.3:
                b[-i] = rng.randrange(256)
    else:               # random bytes behind a valid Ethernet header
        b = b[:14] + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120)))
    return bytes(b)


def pipeline_checks(p, verdicts, frames, out):
    """What any run on bad input must show: (ok, what) pairs."""
    delivered = sum(v['verdict'] == 'deliver' for v in verdicts)
    return [
        (p.returncode == 0, 'exit status %d' % p.returncode),
        ('mbufs: all' in p.stdout, 'every mbuf back'),
        ('runtime error' not in p.stderr and 'Sanitizer' not in p.stderr,
         'no sanitizer report'),
        ([v['n'] for v in verdicts] == list(range(frames)),
         'one verdict per frame, in order (%d of %d)' % (len(verdicts), frames)),
        (delivered == out, 'delivered verdicts = frames out (%d)' % out),
    ]


def main():
    # RXSEC_FUZZ_SEED / RXSEC_FUZZ_FRAMES: other or longer runs by hand
    rng = random.Random(int(os.environ.get('RXSEC_FUZZ_SEED', '4303')))
    seeds = V.read_pcap(os.path.join(sample, 'in.pcap'))
    confs = [os.path.join(sample, 'sa.conf')]
    for case in ('esp_tun4_aesgcm128', 'esp_trans6_aescbc256_sha256', 'ah_trans4_sha256',
                 'esp_udpencap4_aesgcm256_ike'):
        d = os.path.join(captures, case)
        if not os.path.isdir(d):
            print('FAIL: %s missing (../shared/linux-xfrm must be beside the repo)' % d)
            return 1
        seeds += V.read_pcap(os.path.join(d, 'in.pcap'))
        confs.append(os.path.join(d, 'sa.conf'))
    # Jumbo frames (their SAs not loaded): chains from net_pcap, flattened
    # or too_long, cut short or padded across the 9216-byte limit.
    seeds += [f for f, _ in cases.jumbo_case().entries if len(f) > 2048]
    # Fragments of ESP and ESP-in-UDP datagrams (their SAs not loaded: what completes is
    # no_sa): mutated ones give the reassembly table overlaps, duplicates,
    # lying offsets and lengths; whole sequences in between complete.
    frag_cases = [c for c in cases.reassembly()
                  if c.name in ('frag_esp_tun4', 'frag_natt', 'frag_ipv6_hbh')]
    fragments = [f for c in frag_cases for f, e in c.entries if ', fragment ' in e['wire']]
    seeds += fragments
    frames = [mutate(rng, rng.choice(seeds))
              for _ in range(int(os.environ.get('RXSEC_FUZZ_FRAMES', '4000')))]
    for at in sorted(rng.sample(range(len(frames)), 20), reverse=True):
        frames[at:at] = fragments
    frames = [f if len(f) >= 14 else f + b'\0' * (14 - len(f)) for f in frames]
    failed = 0
    with tempfile.TemporaryDirectory(prefix='rxsec-fuzz-') as wd:
        V.write_pcap(os.path.join(wd, 'in.pcap'), frames)
        for lcores in ('0', '0-1'):
            args = [rxsec, '--no-huge', '-m', '512', '--no-pci', '--file-prefix',
                    'fuzz%d_%s' % (os.getpid(), lcores), '-l', lcores, '--log-level=warning',
                    '--vdev', 'net_pcap0,rx_pcap=%s/in.pcap,tx_pcap=%s/out.pcap' % (wd, wd),
                    '--']
            for c in confs:
                args += ['--sa', c]
            args += ['--verdicts', os.path.join(wd, 'v.jsonl'), '--idle-exit', '300',
                     '--replay-window', '0']
            p = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=wd)
            verdicts = [json.loads(x) for x in open(os.path.join(wd, 'v.jsonl'))]
            out = V.read_pcap(os.path.join(wd, 'out.pcap'))
            checks = pipeline_checks(p, verdicts, len(frames), len(out))
            for ok, what in checks:
                failed += not ok
                print('%s -l %s: %s' % ('ok  ' if ok else 'FAIL', lcores, what))
            if failed:
                print(p.stdout[-2000:], p.stderr[-3000:])
            reasons = {}
            for v in verdicts:
                reasons[v['reason']] = reasons.get(v['reason'], 0) + 1
            print('     reasons: %s' % ', '.join('%s %d' % kv for kv in sorted(reasons.items())))
    print('%d failed' % failed)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
