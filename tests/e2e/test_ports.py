#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""--wire-port and --out-port: rxsec receives on the port named and delivers
on the other one named, whatever ports come before them, and leaves every
other port alone. Traffic: scapy-built AES-GCM tunnel packets of one SA (one
with a forged ICV, one plain UDP frame); the delivered frames must be
exactly the expected plaintexts, in order. Three ports: 0 a decoy that must
send nothing, 1 the wire, 2 the delivery port; then wire and delivery on
port 1 alone. -l 0 and -l 0-1."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'vectors'))
import rxsec_vectors as V  # noqa: E402

rxsec = os.environ.get('RXSEC', 'build/app/rxsec')
work = tempfile.mkdtemp(prefix='rxsec-ports-')


def make_traffic():
    c = V.Case('ports', 'one SA; one forged ICV; one plain frame')
    sa = c.sa(mode='tunnel', family=4, enc='aes128gcm16')
    for n in range(10):
        c.ipsec(sa, c.inner(sa, 40 + 7 * n))
    c.ipsec(sa, c.inner(sa, 64), expect='auth', mutate=V.flip_last_byte)
    c.plain(bytes(V.udp_packet(4, '198.51.100.1', '198.51.100.2', 30, 'plain')), 'UDP')
    c.write(work)
    return [bytes.fromhex(e['out_hex']) for _, e in c.entries if 'out_hex' in e]


def run(lcores, vdevs, args):
    cmd = [rxsec, '--no-huge', '-m', '512', '--no-pci', '--file-prefix',
           'ports%d_%s' % (os.getpid(), lcores), '-l', lcores, '--log-level=warning']
    for v in vdevs:
        cmd += ['--vdev', v]
    cmd += ['--', '--sa', os.path.join(work, 'sa.conf'), '--idle-exit', '300'] + args
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def frames(path):
    return V.read_pcap(path) if os.path.exists(path) else None


def check(lcores, expected, layout):
    tag = '%s-%s' % (layout, lcores.replace('-', ''))
    inp = os.path.join(work, 'in.pcap')
    out = os.path.join(work, tag + '-out.pcap')
    decoy = os.path.join(work, tag + '-decoy.pcap')
    if layout == 'three':
        vdevs = ['net_pcap0,tx_pcap=%s' % decoy, 'net_pcap1,rx_pcap=%s' % inp,
                 'net_pcap2,tx_pcap=%s' % out]
        args, want = ['--wire-port', '1', '--out-port', '2'], 'wire port 1, delivery port 2'
    else:
        vdevs = ['net_pcap0,tx_pcap=%s' % decoy, 'net_pcap1,rx_pcap=%s,tx_pcap=%s' % (inp, out)]
        args, want = ['--wire-port', '1', '--out-port', '1'], 'wire port 1, delivery port 1'
    rc, so, se = run(lcores, vdevs, args)
    problems = []
    if rc != 0:
        problems.append('exit status %d: %s' % (rc, se.strip().splitlines()[-1:]))
    if want not in so:
        problems.append('no "%s" line' % want)
    got = frames(out)
    if got != expected:
        problems.append('delivery port sent %s frames, want the %d expected plaintexts'
                        % ('no' if got is None else len(got), len(expected)))
    if frames(decoy):
        problems.append('port 0 sent %d frames' % len(frames(decoy)))
    if not re.search(r'^mbufs: all \d+ returned to pool', so, re.M):
        problems.append('mbufs not all returned')
    if re.search(r'^port 0:', so, re.M):
        problems.append('port 0 is in the report although unused')
    return tag, problems


expected = make_traffic()
failed = total = 0
for layout in ('three', 'one'):
    for lcores in ('0', '0-1'):
        tag, problems = check(lcores, expected, layout)
        total += 1
        failed += bool(problems)
        print('%s %s' % ('FAIL' if problems else 'ok  ', tag))
        for p in problems:
            print('    ' + p)
shutil.rmtree(work, ignore_errors=True)
print('%d passed, %d failed' % (total - failed, failed))
sys.exit(1 if failed else 0)
