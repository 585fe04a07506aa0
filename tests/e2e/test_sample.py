#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The quick start's sample (config/sample/) is what scripts/gen_sample.py
makes, byte for byte, and rxsec tells its story: each frame's verdict and
reason as its note in README.txt says, and each delivered frame the packet
scapy sealed (the inner packet of a tunnel, the plaintext of a transport SA,
a plain packet unchanged)."""
import json
import os
import subprocess

from issue4_lib import RXSEC as rxsec, check, finish, workdir

root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
sample = os.path.join(root, 'config', 'sample')
py = '/usr/bin/python3'
# What each frame's note promises (config/sample/README.txt).
STORY = ['ok'] * 5 + ['replay', 'tunnel_esp_auth_failed', 'no_sa', 'ok', 'ok', 'ok',
                      'below_window', 'reassembly', 'ok']
# The payloads of the delivered frames, in order (gen_sample.py's inner4,
# plain4 and plain6 carry "sample pkt NN"; frame 9 is IKE, frame 13 the
# reassembled datagram of inner packet 12).
DELIVERED = [b'sample pkt 00', b'sample pkt 01', b'sample pkt 02', b'sample pkt 03',
             b'sample pkt 04', b'sample pkt 08', None, b'sample pkt 10', b'sample pkt 12']


def test_reproducible(work):
    out = os.path.join(work, 'gen')
    r = subprocess.run([py, os.path.join(root, 'scripts', 'gen_sample.py'), out],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, 'gen_sample.py runs (%s)' % r.stderr.strip()[-300:])
    for name in ('sa.conf', 'in.pcap', 'README.txt'):
        a = os.path.join(sample, name)
        b = os.path.join(out, name)
        same = os.path.isfile(b) and open(a, 'rb').read() == open(b, 'rb').read()
        check(same, 'config/sample/%s is what gen_sample.py writes' % name)


def test_story(work):
    from scapy.all import rdpcap, IP, IPv6, UDP, Raw  # noqa: E402

    out = os.path.join(work, 'out.pcap')
    verdicts = os.path.join(work, 'verdicts.jsonl')
    r = subprocess.run([rxsec, '--no-huge', '-m', '512', '--no-pci', '-l', '0',
                        '--file-prefix', 'sample%d' % os.getpid(), '--log-level=warning',
                        '--vdev', 'net_pcap0,rx_pcap=%s,tx_pcap=%s'
                        % (os.path.join(sample, 'in.pcap'), out),
                        '--', '--sa', os.path.join(sample, 'sa.conf'),
                        '--verdicts', verdicts, '--idle-exit', '300'],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and 'mbufs: all' in r.stdout,
          'rxsec runs the sample, every mbuf home (exit %d)' % r.returncode)
    if r.returncode != 0:
        print(r.stdout[-2000:], r.stderr[-2000:])
        return
    got = sorted((json.loads(line) for line in open(verdicts)), key=lambda v: v['n'])
    check([v['reason'] for v in got] == STORY,
          'each frame as its note says: %s' % [v['reason'] for v in got])
    frames = rdpcap(out)
    check(len(frames) == len(DELIVERED), '%d frames delivered, want %d'
          % (len(frames), len(DELIVERED)))
    for i, (f, want) in enumerate(zip(frames, DELIVERED)):
        ip = f.getlayer(IP) or f.getlayer(IPv6)
        if want is None:
            check(ip is not None and UDP in f and f[UDP].dport == 500,
                  'delivered frame %d is the IKE packet' % i)
            continue
        payload = bytes(f[Raw].load) if Raw in f else b''
        check(ip is not None and UDP in f and payload.startswith(want),
              'delivered frame %d carries %r' % (i, want))


work = workdir('sample')
test_reproducible(work)
test_story(work)
finish()
