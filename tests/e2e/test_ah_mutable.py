#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""AH's ICV covers every byte in front of the payload but the mutable ones
(RFC 4302 3.3.3.1, appendix A). Seeds are the AH frames the vector cases
expect delivered (scapy-built: IPv4 options, IPv6 extension headers of any
length, the whole-digest ICV field, every algorithm). Each seed yields
- routers' changes: DSCP, flow label, TTL / hop limit, the DF bit, the data
  of mutable IPv4 options (record route, timestamp) and of IPv6 options
  whose type says "may change en route", the IPv4 header checksum fixed up
  as a router would. Every one must be delivered: rxsec zeroed exactly
  what the sender zeroed.
- forgeries: one bit flipped in any other byte from the IP header to the
  end of AH (an IPv4 checksum fixed up, as a forger would). None may be
  delivered as authenticated: dropped, or passed on unchanged as traffic
  that is no longer IPsec (a flipped next header), never decapsulated.
The byte positions come from this file's own walk of the headers, not from
rxsec. Runs with -l 0 and -l 0-1 (both builds under meson); anti-replay is
off since mutants repeat their seed's sequence number."""
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'vectors'))
import rxsec_vectors as V  # noqa: E402
import cases  # noqa: E402
from scapy.utils import checksum  # noqa: E402

rxsec = os.path.abspath(os.environ.get('RXSEC', 'build/app/rxsec'))
rng = random.Random(int(os.environ.get('RXSEC_FUZZ_SEED', '4302')))
PER_SEED = 6            # mutants of each class per seed frame
MUTABLE_V4_OPTS = (7, 68)       # record route, timestamp: zeroed whole by AH
IPV6_OPT_HDRS = (0, 60)         # hop-by-hop, destination options
L3 = 14


def fix_ipv4_csum(b):
    ihl = (b[L3] & 0xf) * 4
    if b[L3] >> 4 != 4 or ihl < 20 or L3 + ihl > len(b):
        return
    b[L3 + 10:L3 + 12] = b'\0\0'
    b[L3 + 10:L3 + 12] = checksum(bytes(b[L3:L3 + ihl])).to_bytes(2, 'big')


def ah_layout(f):
    """(bytes routers may set, bytes the ICV does not cover as received,
    end of AH) of an AH frame straight behind its outer IP header and
    options / extension headers; None otherwise."""
    if f[12:14] == b'\x08\x00':
        ihl = (f[L3] & 0xf) * 4
        if f[L3 + 9] != 51:
            return None
        mut = [L3 + 8]                          # TTL (DSCP, DF handled apart)
        # TOS, flags and fragment offset, TTL, checksum
        zeroed = {L3 + 1, L3 + 6, L3 + 7, L3 + 8, L3 + 10, L3 + 11}
        off = L3 + 20
        while off < L3 + ihl:
            t = f[off]
            if t in (0, 1):
                off += 1
                continue
            ln = f[off + 1]
            if t in MUTABLE_V4_OPTS:   # zeroed whole, type and length too
                mut += range(off + 2, off + ln)
                zeroed |= set(range(off, off + ln))
            off += ln
        ah = L3 + ihl
    elif f[12:14] == b'\x86\xdd':
        mut = [L3 + 7, L3 + 2, L3 + 3]          # hop limit, flow label
        zeroed = {L3, L3 + 1}                   # traffic class
        nh, off = f[L3 + 6], L3 + 40
        while nh in IPV6_OPT_HDRS + (43,):
            hlen = (f[off + 1] + 1) * 8
            if nh in IPV6_OPT_HDRS:
                o = off + 2
                while o < off + hlen:
                    if f[o] == 0:
                        o += 1
                        continue
                    if f[o] & 0x20:
                        mut += range(o + 2, o + 2 + f[o + 1])
                    o += 2 + f[o + 1]
            nh, off = f[off], off + hlen
        if nh != 51:
            return None
        ah = off
    else:
        return None
    return mut, zeroed | set(mut), ah + (f[ah + 1] + 2) * 4


def routed(f, mut):
    """What routers may do to the frame."""
    b = bytearray(f)
    v4 = b[12:14] == b'\x08\x00'
    tc = L3 + 1 if v4 else None
    for i in rng.sample(mut, min(len(mut), rng.randrange(1, 5))):
        b[i] = rng.randrange(1, 256)
    if rng.random() < 0.5:      # DSCP only: an ECN change may be a drop (RFC 6040)
        d = rng.randrange(64)
        if v4:
            b[tc] = (d << 2) | (b[tc] & 3)
        else:
            b[L3] = (b[L3] & 0xf0) | (d >> 2)
            b[L3 + 1] = ((d & 3) << 6) | (b[L3 + 1] & 0x3f)
    if v4 and rng.random() < 0.5:
        b[L3 + 6] ^= 0x40       # DF
    if v4:
        fix_ipv4_csum(b)
    return bytes(b)


def forged(f, zeroed, end):
    """One bit flipped in a byte the ICV covers."""
    v4 = f[12:14] == b'\x08\x00'
    at = rng.choice([i for i in range(L3, end) if i not in zeroed])
    b = bytearray(f)
    b[at] ^= 1 << rng.randrange(8)
    if v4:
        fix_ipv4_csum(b)
    return bytes(b), at


def seed_cases():
    wanted = ('i3_hdrs', 'i3_hdrs_v6_long', 'i3_ah_sha1', 'i3_ah_md5', 'i3_ah_pad8',
              'i3_ah_full', 'i3_ah_sha512_512')
    return [c for c in cases.issue3_hdrs() + cases.issue3_ah() if c.name in wanted]


def make_frames(case):
    frames, kinds = [], []
    for f, e in case.entries:
        if e['verdict'] != 'deliver' or e['reason'] != 'ok':
            continue
        lay = ah_layout(f)
        if lay is None:
            continue
        mut, zeroed, end = lay
        frames.append(f)
        kinds.append(('seed', None))
        for _ in range(PER_SEED):
            frames.append(routed(f, mut))
            kinds.append(('routed', None))
            g, at = forged(f, zeroed, end)
            frames.append(g)
            kinds.append(('forged', at))
    return frames, kinds


def run(wd, lcores):
    vpath = os.path.join(wd, 'v.jsonl')
    args = [rxsec, '--no-huge', '-m', '512', '--no-pci', '--file-prefix',
            os.environ.get('RXSEC_FILE_PREFIX', 'ahm') + '%d_%s' % (os.getpid(),
                                                                   lcores.replace('-', '')),
            '-l', lcores, '--log-level=warning', '--vdev',
            'net_pcap0,rx_pcap=%s/in.pcap,tx_pcap=%s/out.pcap' % (wd, wd),
            '--', '--sa', os.path.join(wd, 'sa.conf'), '--verdicts', vpath,
            '--idle-exit', '300', '--replay-window', '0']
    p = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=wd)
    verdicts = [json.loads(x) for x in open(vpath)] if os.path.exists(vpath) else []
    out = os.path.join(wd, 'out.pcap')
    return p, verdicts, V.read_pcap(out) if os.path.exists(out) else []


def check(frames, kinds, p, verdicts, out):
    """(ok, what) pairs for one run."""
    from test_fuzz_frames import pipeline_checks
    checks = pipeline_checks(p, verdicts, len(frames), len(out))
    if len(verdicts) != len(frames):
        return checks
    outs = iter(out)
    lost, forged_in, n = [], [], {'seed': 0, 'routed': 0, 'forged': 0}
    for f, (kind, at), v in zip(frames, kinds, verdicts):
        n[kind] += 1
        o = next(outs, None) if v['verdict'] == 'deliver' else None
        if kind != 'forged' and v['verdict'] != 'deliver':
            lost.append('%d (%s, %s)' % (v['n'], kind, v['reason']))
        if kind == 'forged' and v['verdict'] == 'deliver' and (
                v['crypto_done'] or o != f):
            forged_in.append('%d (byte %d)' % (v['n'], at - L3))
    checks.append((not lost, '%d seeds and %d routed frames delivered%s' % (
        n['seed'], n['routed'], '; not: ' + ', '.join(lost[:8]) if lost else '')))
    checks.append((not forged_in, '%d forgeries never delivered as authenticated%s' % (
        n['forged'], '; were: ' + ', '.join(forged_in[:8]) if forged_in else '')))
    return checks


def main():
    failed = 0
    with tempfile.TemporaryDirectory(prefix='rxsec-ahm-') as wd:
        for case in seed_cases():
            frames, kinds = make_frames(case)
            if not frames:
                print('FAIL %s: no AH seed frame' % case.name)
                failed += 1
                continue
            with open(os.path.join(wd, 'sa.conf'), 'w') as f:
                f.write(case.sa_conf())
            V.write_pcap(os.path.join(wd, 'in.pcap'), frames)
            for lcores in ('0', '0-1'):
                p, verdicts, out = run(wd, lcores)
                for ok, what in check(frames, kinds, p, verdicts, out):
                    failed += not ok
                    print('%s %s -l %s: %s' % ('ok  ' if ok else 'FAIL', case.name,
                                              lcores, what))
                if failed:
                    print(p.stdout[-1500:], p.stderr[-2000:])
    print('%d failed' % failed)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
