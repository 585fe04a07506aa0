#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""rxsec between two halves of the Linux kernel, on kernel-facing ports.

rxsec runs in a network namespace of its own on two queues of net_tap, or
of net_af_packet on one end of a veth pair. The kernel sends the ESP frames
into that port (an AF_PACKET socket on the kernel's interface), and picks
each frame's queue by a hash of its addresses and, for ESP, its SPI (the
tap's queue selection, af_packet's PACKET_FANOUT), as a NIC's RSS does.
rxsec delivers the plaintext back through the same port, and a UDP socket
of the kernel in the namespace must receive every datagram once, each SA's
in order, with the kernel's IP and UDP input counting no error. So this
covers, with the kernel on both sides, what the pcap tests cannot: queues
filled by a hash rxsec does not control, SAs claimed by the stage of the
lcore that received them (nothing crosses between stages: each stage
decided exactly what its engine received), and delivered frames a real IP
stack accepts. A replayed and a forged packet never reach the socket.
An SA of ESP in UDP (NAT-T) sends its packets between IKE messages and
NAT keepalives: the plaintext reaches the application's socket, and an IKE
daemon's socket on port 4500 gets the IKE traffic unchanged, in order, and
no ESP. Transport-mode ESP to the kernel's own address must give Linux
UDP datagrams whose checksums it verifies. IPv6 too: tunnel-mode ESP over
IPv6 carrying IPv6/UDP (scapy's IPsec) to an IPv6 socket, the kernel's own
IPv6 fragments of long ESP packets reassembled, transport-mode ESP and AH
between two IPv6 hosts, ESP in UDP over IPv6 beside an IKE daemon's IPv6 socket,
and Linux counting a UDP sum that was wrong before protection (so it
checks what rxsec delivers).
Eight ESP packets longer than the MTU go out through a raw IP socket, and
the kernel's own IP output fragments them: over the tap rxsec must
reassemble Linux's fragments, not only scapy's (af_packet's fanout has the
kernel defragment first). Datagrams of one SA reassembled by different
stages may overtake one another (README, known limits): order is checked
for the packets sent whole.

The tap with -l 0-1 and the default layout (an engine and a stage on each
lcore, one queue each), with -l 0 and --workers 2 --transports 2; the veth
with -l 0-1. Then a tap as the wire beside a net_pcap delivery port, as the
delivery port, and an --mtu beyond its largest frame.
Needs root, /dev/net/tun and iproute2 (scripts/setup.sh installs it).
"""
import contextlib
import ipaddress
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from issue4_lib import (OUTER_DST, OUTER_SRC, Sa, Daemon, check, eal,  # noqa: E402
                        eth, file_prefix, finish, inner_packet, ipv4, parse_tag,
                        read_pcap, workdir, write_pcap)
from rxsec_vectors import MAC_B, resum_udp  # noqa: E402
import rxsec_vectors as V  # noqa: E402
from scapy.layers.inet6 import IPv6ExtHdrDestOpt  # noqa: E402

INNER_DST, INNER_NET, PORT = '203.0.113.20', '198.51.100.0/24', 9000
SAS = [Sa(0x7a000000 + 0x10001 * i, window=64) for i in range(48)]
PER_SA = 12
# Datagrams sent whole to the kernel, which fragments them on the way out.
BIG = [(sa, seq) for sa in SAS[2:6] for seq in (PER_SA + 1, PER_SA + 2)]
# ESP in UDP from a peer behind a NAT, to an address of the kernel's, where
# an IKE daemon's socket on 4500 must get IKE and keepalives, never ESP.
NATT_LOCAL, NATT_PEER, NATT_SEQS = '192.0.2.30', '192.0.2.11', 8


class NattSa(Sa):
    def xfrm(self):
        return Sa.xfrm(self).rstrip('\n') + ' encap espinudp 4500 4500 0.0.0.0\n'

    def esp_udp(self, seq):
        body = self._esp(seq, inner_packet(self.tag, seq), 4)
        udp = struct.pack('!HHHH', 4500, 4500, 8 + len(body), 0) + body
        return eth(ipv4(self.src, self.dst, 17, udp, ident=seq))


NATT_SA = NattSa(0x7b000001, window=64, src=NATT_PEER, dst=NATT_LOCAL)


def ike_frames():
    """What the IKE daemon must get: IKE messages (a zero non-ESP marker,
    RFC 3948 2.2) and NAT keepalives (one 0xff byte, 2.3)."""
    msgs = [b'\0\0\0\0' + ('ike message %d ' % i).encode().ljust(28, b'.') for i in range(3)]
    msgs.insert(1, b'\xff')
    return [(m, eth(ipv4(NATT_PEER, NATT_LOCAL, 17,
                         struct.pack('!HHHH', 4500, 4500, 8 + len(m), 0) + m, ident=900 + i)))
            for i, m in enumerate(msgs)]


def ns_run(ns, *cmd, check_rc=True):
    p = subprocess.run(['ip', 'netns', 'exec', ns] + list(cmd), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors='replace')
    if check_rc and p.returncode != 0:
        raise RuntimeError('%s: %s' % (' '.join(cmd), out.strip()))
    return out


def snmp(ns):
    """The namespace's /proc/net/snmp as {'Ip': {...}, 'Udp': {...}}."""
    rows = [l.split() for l in ns_run(ns, 'cat', '/proc/net/snmp').splitlines()]
    res = {}
    for head, vals in zip(rows[0::2], rows[1::2]):
        res[head[0].rstrip(':')] = dict(zip(head[1:], (int(v) for v in vals[1:])))
    return res


def big_inner(sa, seq):
    """An inner packet of 1468 bytes: its ESP packet is longer than the
    kernel interface's MTU of 1500."""
    data = ('%s seq %d ' % (sa.tag, seq)).encode().ljust(1440, b'.')
    udp = struct.pack('!HHHH', 50101, PORT, 8 + len(data), 0) + data
    return ipv4('198.51.100.10', INNER_DST, 17, udp, ident=seq)


def frames(natt=False):
    """Every SA's packets interleaved, a replay and a forgery, BIG's, which
    the kernel will fragment, and (natt) ESP in UDP between IKE traffic."""
    f = [sa.esp(seq) for seq in range(1, PER_SA + 1) for sa in SAS]
    f += [SAS[0].esp(5), SAS[1].esp(PER_SA + 1, corrupt=True)]
    f += [sa.esp(seq, inner=big_inner(sa, seq)) for sa, seq in BIG]
    if natt:
        ike = [fr for _, fr in ike_frames()]
        for seq in range(1, NATT_SEQS + 1):
            f.append(NATT_SA.esp_udp(seq))
            if seq % 2 == 0 and ike:
                f.append(ike.pop(0))
    return f


def wanted(natt=False):
    return sorted([(sa.tag, seq) for sa in SAS for seq in range(1, PER_SA + 1)] +
                  [(sa.tag, seq) for sa, seq in BIG] +
                  [(NATT_SA.tag, seq) for seq in range(1, NATT_SEQS + 1) if natt])


def send_fragmented(frame):
    """The frame's ESP packet through a raw IP socket of its source address,
    without DF (IPv4) or IPV6_DONTFRAG (IPv6): the kernel's IP output
    fragments it (ip_fragment, ip6_fragment)."""
    if frame[12:14] == b'\x86\xdd':
        src, dst = (socket.inet_ntop(socket.AF_INET6, frame[o:o + 16]) for o in (22, 38))
        raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 50)
        raw.bind((src, 0))
        raw.sendto(frame[54:], (dst, 0))
    else:
        src, dst = socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
        raw.setsockopt(socket.IPPROTO_IP, 10, 0)	# IP_MTU_DISCOVER: IP_PMTUDISC_DONT
        raw.bind((src, 0))
        raw.sendto(frame[34:], (dst, 0))
    raw.close()


def inside(pcap, out, expect):
    """In the namespace: send the frames into the kernel's interface, read
    the socket until `expect` datagrams came (or 5 s passed). With expect
    0 the plaintext goes elsewhere: send only."""
    v6 = os.environ.get('INNER_FAMILY') == '6'
    r = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    r.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)	# SO_RCVBUFFORCE: root
    ike_addr = os.environ.get('IKE_ADDR', NATT_LOCAL)
    ike = socket.socket(socket.AF_INET6 if ':' in ike_addr else socket.AF_INET,
                        socket.SOCK_DGRAM)
    if expect:
        r.bind((V.INNER[6][1] if v6 else INNER_DST, PORT))
        ike.bind((ike_addr, 4500))
    r.settimeout(0.2)
    ike.settimeout(0)
    got_ike = []
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((os.environ['KERNEL_IF'], 0))
    got = []

    def drain():
        if not expect:
            return
        try:
            while True:
                got.append(r.recv(4096))
        except socket.timeout:
            pass
    for i, fr in enumerate(read_pcap(pcap)):
        if len(fr) > 1514:
            send_fragmented(fr)
        else:
            s.send(fr)
        if i % 32 == 31:	# queues hold 1000 frames: let rxsec read
            time.sleep(0.002)
    deadline = time.time() + 5
    while time.time() < deadline and len(got) < expect:
        drain()
    time.sleep(0.3)
    drain()
    while expect:
        try:
            got_ike.append(ike.recv(4096).hex())
        except BlockingIOError:
            break
    with open(out, 'w') as f:
        json.dump({'app': [g.decode(errors='replace') for g in got], 'ike': got_ike}, f)


def each_sa_in_order(got):
    """Whether each SA's datagrams sent whole (sequence numbers up to
    PER_SA) came in order among the (tag, seq) got; those the kernel
    fragmented may overtake (README, known limits)."""
    seqs = {}
    for g in got:
        if g and g[1] <= PER_SA:
            seqs.setdefault(g[0], []).append(g[1])
    return all(v == sorted(v) for v in seqs.values())


def setup_ns(ns, kif):
    """The kernel's interface facing rxsec is the delivered frames'
    destination: their MAC, address and a route back to their source."""
    ns_run(ns, 'ip', 'link', 'set', kif, 'address', MAC_B)
    ns_run(ns, 'ip', 'addr', 'add', INNER_DST + '/24', 'dev', kif)
    ns_run(ns, 'ip', 'route', 'add', INNER_NET, 'dev', kif)
    # The outer source is the kernel's own address for the raw socket of
    # send_fragmented; the ESP destination is behind rxsec's port.
    ns_run(ns, 'ip', 'addr', 'add', OUTER_SRC + '/32', 'dev', kif)
    ns_run(ns, 'ip', 'route', 'add', OUTER_DST + '/32', 'dev', kif)
    ns_run(ns, 'ip', 'neigh', 'add', OUTER_DST, 'lladdr', MAC_B, 'dev', kif)
    ns_run(ns, 'ip', 'addr', 'add', NATT_LOCAL + '/32', 'dev', kif)


def wait_up(ns, ifname):
    for _ in range(100):
        if ns_run(ns, 'ip', 'link', 'show', ifname, check_rc=False).find('UP') >= 0:
            return True
        time.sleep(0.1)
    return False


def stage_split(d):
    """Each stage's share of the SAs' packets (delivered and dropped), from
    rxsec-ctl list, and each worker's ESP packets from rxsec-ctl stats."""
    rc1, lst = d.ctl('list')
    rc2, st = d.ctl('stats')
    by_stage, sa_stage, unclaimed = {}, {}, 0
    for sa in lst.get('sas', []):
        n = sa['delivered'] + sum(sa['drops'].values())
        if sa['transport'] is None:
            unclaimed += 1
        else:
            by_stage[sa['transport']] = by_stage.get(sa['transport'], 0) + n
            sa_stage[int(sa['spi'], 16)] = sa['transport']
    workers = [w['crypto_done'] for w in st.get('engine', {}).get('workers', [])]
    return rc1 == 0 and rc2 == 0, by_stage, sa_stage, workers, unclaimed, st


TAP_IF = 'rxst%d' % (os.getpid() % 100000)


@contextlib.contextmanager
def namespace():
    """A network namespace of the test's own, without IPv6 chatter; gone
    afterwards whatever happened."""
    ns = 'rxsec-kp%d' % os.getpid()
    subprocess.run(['ip', 'netns', 'del', ns], stderr=subprocess.DEVNULL)
    subprocess.run(['ip', 'netns', 'add', ns], check=True)
    try:
        ns_run(ns, 'ip', 'link', 'set', 'lo', 'up')
        ns_run(ns, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1')
        yield ns
    finally:
        subprocess.run(['ip', 'netns', 'del', ns])


@contextlib.contextmanager
def daemon(ns, wd, name, vdev, lcores='0-1', args=(), sas=None):
    """rxsec in the namespace with a control socket; stopped on the way out
    if the case did not stop it (d.stopped)."""
    d = Daemon(wd, sas or SAS + [NATT_SA], vdev, lcores=lcores, args=list(args),
               prefix='kp%d%s' % (os.getpid(), name), wrap=['ip', 'netns', 'exec', ns])
    d.stopped = None
    try:
        yield d
    finally:
        if d.stopped is None:
            d.stopped = d.stop()


def send_inside(ns, wd, kif, expect, family=4, ike_addr=NATT_LOCAL):
    """This file's --inside mode in the namespace; its exit status."""
    p = subprocess.run(['ip', 'netns', 'exec', ns, '/usr/bin/python3', __file__, '--inside',
                        os.path.join(wd, 'in.pcap'), os.path.join(wd, 'got.json'),
                        str(expect)],
                       env=dict(os.environ, KERNEL_IF=kif, INNER_FAMILY=str(family),
                                               IKE_ADDR=ike_addr), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    if p.returncode != 0:
        print(p.stdout.decode(errors='replace')[-600:])
    return p.returncode


def kernel_port(ns, driver):
    """The vdev rxsec runs on and the kernel interface facing it: a tap rxsec
    makes, or one end of a veth pair whose other end net_af_packet takes
    (two queues, filled by PACKET_FANOUT's hash)."""
    tag = os.getpid() % 100000
    if driver == 'tap':
        return 'net_tap0,iface=' + TAP_IF, TAP_IF
    kif, rif = 'rxsk%d' % tag, 'rxsr%d' % tag
    ns_run(ns, 'ip', 'link', 'add', rif, 'type', 'veth', 'peer', 'name', kif)
    ns_run(ns, 'ip', 'link', 'set', kif, 'up')
    ns_run(ns, 'ip', 'link', 'set', rif, 'up')
    setup_ns(ns, kif)
    return 'net_af_packet0,iface=%s,qpairs=2' % rif, kif


def run_case(name, lcores, args, layout, driver='tap'):
    """ESP from the kernel through rxsec and back to a kernel socket."""
    wd = workdir('kport-' + name)
    write_pcap(os.path.join(wd, 'in.pcap'), frames(natt=True))
    with namespace() as ns:
        vdev, kif = kernel_port(ns, driver)
        with daemon(ns, wd, name, vdev, lcores, args) as d:
            if not check(d.p.poll() is None and wait_up(ns, kif),
                         '%s: rxsec runs on two queues of %s (%s)' % (name, driver, wd)):
                return
            if driver == 'tap':
                setup_ns(ns, kif)
            before = snmp(ns)
            check(send_inside(ns, wd, kif, len(wanted(natt=True))) == 0,
                  '%s: sender and receiver in the namespace ran' % name)
            after = snmp(ns)
            ok, by_stage, sa_stage, workers, unclaimed, st = stage_split(d)
            d.stopped = rc, out = d.stop()

    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, every mbuf home' % name)
    check(layout in out, '%s: %s' % (name, layout))
    check('each SA takes the transport stage of the lcore that first receives it' in out,
          '%s: SAs placed by receiver' % name)
    with open(os.path.join(wd, 'got.json')) as f:
        sockets = json.load(f)
    got = [parse_tag(g.encode()) for g in sockets['app']]
    want = wanted(natt=True)
    check(sorted(g for g in got if g) == want and len(got) == len(want),
          '%s: the kernel socket got each of the %d datagrams once (got %d), ESP in '
          'UDP\'s too' % (name, len(want), len(got)))
    ike = [m.hex() for m, _ in ike_frames()]
    check(sockets['ike'] == ike, '%s: the IKE socket on 4500 got the IKE messages and '
          'keepalives, in order, and no ESP (%d of %d)' % (name, len(sockets['ike']), len(ike)))
    check(each_sa_in_order(got), '%s: each SA\'s datagrams in order' % name)
    udp = after['Udp']['InDatagrams'] - before['Udp']['InDatagrams']
    errs = {k: after[s][k] - before[s][k] for s, k in
            (('Ip', 'InHdrErrors'), ('Ip', 'InAddrErrors'), ('Udp', 'InErrors'),
             ('Udp', 'InCsumErrors'), ('Udp', 'NoPorts'))}
    check(udp == len(want) + len(ike) and not any(errs.values()),
          '%s: Linux counted %d datagrams in, no input error (%s)' % (name, udp, errs))
    check(ok and unclaimed == 0, '%s: every SA claimed by a stage' % name)
    check(len(workers) == 2 and all(w > 0 for w in workers),
          '%s: the kernel\'s queue hash spread the SAs over both queues %s'
          % (name, workers))
    # af_packet's fanout group asks the kernel to defragment first
    # (PACKET_FANOUT_FLAG_DEFRAG): only the tap shows rxsec the fragments.
    frag = st.get('transport', {}).get('reassembly', {})
    n_frag = len(BIG) if driver == 'tap' else 0
    check(frag.get('datagrams') == n_frag and frag.get('discarded') == 0,
          '%s: the kernel\'s fragments of %d ESP packets reassembled (%s)'
          % (name, n_frag, frag))
    # A reassembled datagram is no engine's ESP packet: its SA's stage
    # decides it once it is whole.
    whole = [w + sum(1 for sa, _ in BIG if n_frag and sa_stage.get(sa.spi) == i)
             for i, w in enumerate(workers)]
    check(by_stage == dict(enumerate(whole)),
          '%s: each stage decided what its own engine received: stages %s, engines %s '
          'and reassembled datagrams' % (name, by_stage, workers))
    reasons = st.get('transport', {}).get('reasons', {})
    check(reasons.get('replay') == 1 and reasons.get('tunnel_esp_auth_failed') == 1,
          '%s: the replay and the forgery dropped and counted' % name)


def tags_once_by_sa(name, pcaps):
    """Every plaintext once over the pcaps, each SA's in one pcap, in order."""
    where, got = {}, []
    for i, path in enumerate(pcaps):
        for fr in read_pcap(path) if os.path.exists(path) else []:
            t = parse_tag(fr)
            got.append(t)
            if t:
                where.setdefault(t[0], set()).add(i)
    want = wanted()
    check(sorted(g for g in got if g) == want and len(got) == len(want),
          '%s: each of the %d plaintexts once (got %d)' % (name, len(want), len(got)))
    check(all(len(q) == 1 for q in where.values()) and len(set().union(*where.values())) == 2,
          '%s: each SA\'s packets left through one TX queue, both queues used' % name)
    check(each_sa_in_order(got), '%s: each SA in order' % name)


def run_tap_wire(name):
    """The tap as the wire, net_pcap (a pcap per TX queue) as the delivery
    port: a driver that takes only as many TX as RX queues (net_tap) gets
    them on the wire port too."""
    wd = workdir('kport-' + name)
    outs = [os.path.join(wd, 'o%d.pcap' % q) for q in range(2)]
    write_pcap(os.path.join(wd, 'in.pcap'), frames())
    vdevs = ['net_tap0,iface=' + TAP_IF, 'net_pcap0,' + ','.join('tx_pcap=' + o for o in outs)]
    with namespace() as ns, daemon(ns, wd, name, vdevs) as d:
        if not check(d.p.poll() is None and wait_up(ns, TAP_IF),
                     '%s: rxsec runs with a two-queue tap as its wire (%s)' % (name, wd)):
            return
        setup_ns(ns, TAP_IF)
        check(send_inside(ns, wd, TAP_IF, 0) == 0, '%s: the sender ran' % name)
        time.sleep(0.5)
        d.stopped = rc, out = d.stop()
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, every mbuf home' % name)
    check('2 worker(s), 2 transport(s), wire port 0, delivery port 1' in out,
          '%s: two queues each way' % name)
    tags_once_by_sa(name, outs)


def run_in_ns(ns, wd, name, lcores, vdevs, args):
    """rxsec in the namespace until it stops: (exit status, output)."""
    cmd = ['ip', 'netns', 'exec', ns] + eal(file_prefix('kp%d%s' % (os.getpid(), name)),
                                           lcores, vdevs) + list(args)
    p = subprocess.run(cmd, cwd=wd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=120)
    out = p.stdout.decode(errors='replace')
    with open(os.path.join(wd, 'run.log'), 'w') as f:
        f.write(out)
    return p.returncode, out


def run_tap_out(name):
    """net_pcap with two RX queues as the wire, the tap as the delivery port:
    its RX queues, which nobody polls, match its two TX queues."""
    wd = workdir('kport-' + name)
    qs = [os.path.join(wd, 'q%d.pcap' % q) for q in range(2)]
    write_pcap(qs[0], [sa.esp(seq) for seq in range(1, PER_SA + 1) for sa in SAS[0::2]])
    write_pcap(qs[1], [sa.esp(seq) for seq in range(1, PER_SA + 1) for sa in SAS[1::2]])
    with open(os.path.join(wd, 'sa.conf'), 'w') as f:
        f.write(''.join(sa.xfrm() for sa in SAS))
    with namespace() as ns:
        rc, out = run_in_ns(ns, wd, name, '0-1',
                            ['net_pcap0,' + ','.join('rx_pcap=' + q for q in qs),
                             'net_tap0,iface=' + TAP_IF],
                            ['--sa', os.path.join(wd, 'sa.conf'), '--idle-exit', '500'])
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, every mbuf home (%s)' % (name, wd))
    check('2 worker(s), 2 transport(s), wire port 0, delivery port 1' in out,
          '%s: two queues each way' % name)
    m = re.search(r'^port 1: rx \d+ tx (\d+) ', out, re.M)
    check(m is not None and int(m.group(1)) == len(SAS) * PER_SA,
          '%s: every plaintext written into the tap (%s)' % (name, m and m.group(1)))


def run_tap_mtu(name):
    """An MTU above what the port's largest frame allows is refused by rxsec
    with the port's range (net_tap in DPDK 22.11: 1522-byte frames), not by
    ethdev's configure failing."""
    wd = workdir('kport-' + name)
    with open(os.path.join(wd, 'sa.conf'), 'w') as f:
        f.write(SAS[0].xfrm())
    with namespace() as ns:
        rc, out = run_in_ns(ns, wd, name, '0', 'net_tap0,iface=' + TAP_IF,
                            ['--sa', os.path.join(wd, 'sa.conf'), '--mtu', '9000'])
    m = re.search(r'^rxsec: --mtu 9000: port 0 \(net_tap\) takes (\d+) to (\d+)$', out, re.M)
    check(rc == 2 and m is not None and int(m.group(2)) < 9000 and
          'configure failed' not in out,
          '%s: --mtu 9000 refused with the tap\'s range (%s)' % (name, m and m.group(0)))


# Transport mode to the kernel's own address: the UDP datagram behind ESP
# carries a real checksum over the outer addresses, which Linux verifies.
TRANS_SA = Sa(0x7c000001, window=64, src='198.51.100.10', dst=INNER_DST, mode='transport')


def transport_frame(seq, bad_sum=False):
    data = ('%s seq %d ' % (TRANS_SA.tag, seq)).encode().ljust(48, b'.')
    udp = struct.pack('!HHHH', 50101, PORT, 8 + len(data), 1) + data
    ipb = resum_udp(ipv4(TRANS_SA.src, TRANS_SA.dst, 17, udp, ident=seq))
    if bad_sum:
        ipb = ipb[:26] + bytes([ipb[26] ^ 0x55]) + ipb[27:]
    return eth(TRANS_SA.transport_esp(seq, ipb))


def run_transport(name):
    """Transport-mode ESP to the kernel's address: rxsec takes ESP out from
    behind the IP header, and Linux must take every UDP datagram, its
    checksum included; one whose sum was wrong before it was protected
    reaches Linux (rxsec does not check it) and is counted there."""
    wd = workdir('kport-' + name)
    n = 16
    write_pcap(os.path.join(wd, 'in.pcap'),
               [transport_frame(seq) for seq in range(1, n + 1)] +
               [transport_frame(n + 1, bad_sum=True)])
    with namespace() as ns:
        with daemon(ns, wd, name, 'net_tap0,iface=' + TAP_IF, '0', sas=[TRANS_SA]) as d:
            if not check(d.p.poll() is None and wait_up(ns, TAP_IF),
                         '%s: rxsec runs on a tap (%s)' % (name, wd)):
                return
            setup_ns(ns, TAP_IF)
            before = snmp(ns)
            check(send_inside(ns, wd, TAP_IF, n) == 0, '%s: the sender ran' % name)
            after = snmp(ns)
            d.stopped = rc, out = d.stop()
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, every mbuf home' % name)
    with open(os.path.join(wd, 'got.json')) as f:
        got = [parse_tag(g.encode()) for g in json.load(f)['app']]
    check(got == [(TRANS_SA.tag, seq) for seq in range(1, n + 1)],
          '%s: the kernel socket got the %d datagrams in order (got %d)' % (name, n, len(got)))
    d_udp = after['Udp']['InDatagrams'] - before['Udp']['InDatagrams']
    d_sum = after['Udp']['InCsumErrors'] - before['Udp']['InCsumErrors']
    check(d_udp == n and d_sum == 1 and
          after['Ip']['InHdrErrors'] == before['Ip']['InHdrErrors'],
          '%s: Linux took %d datagrams and counted the one bad UDP sum (in %d, sum errors %d)'
          % (name, n, d_udp, d_sum))


# IPv6 on both sides, SAs and packets made by scapy's IPsec: tunnel-mode
# ESP over IPv6 carrying IPv6/UDP, transport-mode ESP and AH between two
# IPv6 hosts, and ESP in UDP, each to a kernel IPv6 socket.
V6_RNG = random.Random(0x7d)
V6_SAS = [V.Sa(V6_RNG, 0x7d000001 + 0x10001 * i, family=6, enc='aes128gcm16', window=64)
          for i in range(8)]
V6_BIG = [(sa, seq) for sa in V6_SAS[:2] for seq in (PER_SA + 1, PER_SA + 2)]
V6_TRANS = V.Sa(V6_RNG, 0x7e000001, mode='transport', family=6, enc='aes128gcm16', window=64)
V6_TRANS.src, V6_TRANS.dst = V.INNER[6]
# ESP in UDP over IPv6 to an address of the kernel's, where an IKE
# daemon's IPv6 socket on 4500 must get IKE and keepalives, never ESP.
V6_NATT = V.Sa(V6_RNG, 0x7f000001, family=6, enc='aes128gcm16', window=64, encap=(4500, 4500))
# AH between two IPv6 hosts: the ICV covers the IPv6 header (mutable
# fields zeroed) and the options header in front of AH.
V6_AH = V.Sa(V6_RNG, 0x7e000002, proto='ah', mode='transport', family=6, auth='sha256',
             window=64)
V6_AH.src, V6_AH.dst = V.INNER[6]
for _sa in V6_SAS + [V6_TRANS, V6_NATT, V6_AH]:
    _sa.xfrm = _sa.xfrm_line	# what Daemon writes into sa.conf


def v6_inner(sa, seq, n=48, bad_sum=False):
    """IPv6/UDP; in transport mode every even packet carries a Destination
    Options header, which ESP follows (as Linux places it): rxsec must
    write UDP into that header's next-header field, not the IPv6 header's."""
    data = ('sa%08x seq %d ' % (sa.spi, seq)).encode().ljust(n, b'.')
    udp = V.UDP(sport=50101, dport=PORT)
    if bad_sum:
        udp.chksum = 0x1234
    ip = V.IPv6(src=V.INNER[6][0], dst=V.INNER[6][1])
    if sa.mode == 'transport' and seq % 2 == 0:
        ip = ip / IPv6ExtHdrDestOpt()
    return ip / udp / V.Raw(data)


def v6_esp(sa, seq, n=48, corrupt=False, bad_sum=False):
    outer = V.raw(sa.scapy_sa(seq).encrypt(v6_inner(sa, seq, n, bad_sum)))
    if corrupt:
        outer = outer[:-1] + bytes([outer[-1] ^ 1])
    if sa.encap:	# scapy sums no ESP in UDP; over IPv6 Linux sends and wants a sum
        outer = V.resum_udp(outer)
    return V.eth(outer)


def v6_ike():
    """IKE messages and a NAT keepalive to the kernel's port 4500 (RFC 3948
    2.2, 2.3), as (payload, frame)."""
    (src, dst), msgs = V.OUTER[6], [m for m, _ in ike_frames()]
    return [(m, V.eth(V.raw(V.IPv6(src=src, dst=dst) / V.UDP(sport=4500, dport=4500) /
                            V.Raw(m)))) for m in msgs]


def v6_traffic(mode):
    """The frames, the (tag, seq) the socket must get, and how many of them
    the kernel fragments on the way out. Whatever the mode: a replay, a
    forgery and a datagram whose UDP sum was wrong before protection; ESP
    in UDP between IKE messages and keepalives."""
    sas, big = {'tunnel': (V6_SAS, V6_BIG), 'transport': ([V6_TRANS], []),
                'natt': ([V6_NATT], []), 'ah': ([V6_AH], [])}[mode]
    f = [v6_esp(sa, seq) for seq in range(1, PER_SA + 1) for sa in sas]
    if mode == 'natt':
        for i, (_, fr) in enumerate(v6_ike()):
            f.insert(3 * i + 2, fr)
    f += [v6_esp(sas[0], 5), v6_esp(sas[-1], PER_SA + 3, corrupt=True)]
    f += [v6_esp(sa, seq, n=1440) for sa, seq in big]
    f += [v6_esp(sas[-1], PER_SA + 4, bad_sum=True)]
    want = sorted([('sa%08x' % sa.spi, seq) for sa in sas for seq in range(1, PER_SA + 1)] +
                  [('sa%08x' % sa.spi, seq) for sa, seq in big])
    return sas, f, want, len(big)


def snmp6(ns):
    """The namespace's /proc/net/snmp6 as {name: value}."""
    return {k: int(v) for k, v in (l.split() for l in
                                     ns_run(ns, 'cat', '/proc/net/snmp6').splitlines() if l)}


def setup_ns6(ns, kif, own_outer=False):
    """IPv6 on the kernel's interface only, without duplicate address
    detection: the inner packets' destination and a route back to their
    source, and for send_fragmented the outer source and a way to the
    outer destination behind rxsec's port; or (own_outer) the outer
    destination as the kernel's own address, an IKE daemon's."""
    for k, v in (('disable_ipv6', 0), ('accept_dad', 0), ('autoconf', 0),
                 ('router_solicitations', 0)):
        ns_run(ns, 'sysctl', '-qw', 'net.ipv6.conf.%s.%s=%d' % (kif, k, v))
    (osrc, odst), (isrc, idst) = V.OUTER[6], V.INNER[6]
    ns_run(ns, 'ip', '-6', 'addr', 'add', idst + '/64', 'dev', kif, 'nodad')
    ns_run(ns, 'ip', '-6', 'route', 'add', str(ipaddress.ip_network(isrc + '/64', strict=False)),
           'dev', kif)
    if own_outer:
        ns_run(ns, 'ip', '-6', 'addr', 'add', odst + '/128', 'dev', kif, 'nodad')
        return
    ns_run(ns, 'ip', '-6', 'addr', 'add', osrc + '/128', 'dev', kif, 'nodad')
    ns_run(ns, 'ip', '-6', 'route', 'add', odst + '/128', 'dev', kif)
    ns_run(ns, 'ip', '-6', 'neigh', 'add', odst, 'lladdr', MAC_B, 'dev', kif)


def run_ipv6(name, mode):
    """IPv6 ESP from the kernel through rxsec to an IPv6 socket of the
    kernel: every datagram once, each SA's in order, Linux's IPv6 and UDP
    input counting no error but the one datagram whose UDP sum was wrong
    before it was protected (so Linux checks the sums rxsec delivers: in
    transport mode over the pseudo-header rxsec's payload length is part
    of); in tunnel mode the kernel's own IPv6 fragments of long ESP packets
    reassembled; ESP in UDP (natt) between IKE messages and keepalives, which
    an IKE daemon's IPv6 socket on 4500 gets unchanged, in order, and no
    ESP; a replay and a forgery dropped."""
    wd = workdir('kport-' + name)
    sas, f, want, n_big = v6_traffic(mode)
    write_pcap(os.path.join(wd, 'in.pcap'), f)
    with namespace() as ns:
        with daemon(ns, wd, name, 'net_tap0,iface=' + TAP_IF, sas=sas) as d:
            if not check(d.p.poll() is None and wait_up(ns, TAP_IF),
                         '%s: rxsec runs on a two-queue tap (%s)' % (name, wd)):
                return
            setup_ns(ns, TAP_IF)
            setup_ns6(ns, TAP_IF, own_outer=mode == 'natt')
            before = snmp6(ns)
            check(send_inside(ns, wd, TAP_IF, len(want), family=6,
                              ike_addr=V.OUTER[6][1] if mode == 'natt' else '::1') == 0,
                  '%s: sender and receiver in the namespace ran' % name)
            after = snmp6(ns)
            rc2, st = d.ctl('stats')
            d.stopped = rc, out = d.stop()
    check(rc == 0 and 'mbufs: all' in out, '%s: exit 0, every mbuf home' % name)
    with open(os.path.join(wd, 'got.json')) as fj:
        sockets = json.load(fj)
    got = [parse_tag(g.encode()) for g in sockets['app']]
    check(sorted(g for g in got if g) == want and len(got) == len(want),
          '%s: the IPv6 socket got each of the %d datagrams once (got %d)'
          % (name, len(want), len(got)))
    ike = [m.hex() for m, _ in v6_ike()] if mode == 'natt' else []
    check(sockets['ike'] == ike, '%s: the IKE socket on 4500 got %d IKE messages and '
          'keepalives, in order, and no ESP (got %d)' % (name, len(ike), len(sockets['ike'])))
    check(each_sa_in_order(got), '%s: each SA\'s datagrams in order' % name)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in
             ('Udp6InDatagrams', 'Ip6InHdrErrors', 'Ip6InAddrErrors', 'Ip6InTruncatedPkts',
              'Udp6InErrors', 'Udp6InCsumErrors', 'Udp6NoPorts', 'Ip6ReasmReqds')}
    check(delta.pop('Udp6InDatagrams') == len(want) + len(ike) and
          delta.pop('Udp6InCsumErrors') == 1 and
          delta.pop('Udp6InErrors') == 1 and not any(delta.values()),
          '%s: Linux took %d IPv6 datagrams whole, counted the one bad UDP sum, no other '
          'input error (%s)' % (name, len(want) + len(ike), delta))
    frag = st.get('transport', {}).get('reassembly', {})
    check(rc2 == 0 and frag.get('datagrams') == n_big and frag.get('discarded') == 0,
          '%s: the kernel\'s IPv6 fragments of %d ESP packets reassembled (%s)'
          % (name, n_big, frag))
    reasons = st.get('transport', {}).get('reasons', {})
    failed = '%s_%s_auth_failed' % (sas[0].mode, sas[0].proto)
    check(reasons.get('replay') == 1 and reasons.get(failed) == 1,
          '%s: the replay and the forgery dropped and counted (%s)' % (name, reasons))

def main():
    if len(sys.argv) == 5 and sys.argv[1] == '--inside':
        inside(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    if not check(os.path.exists('/dev/net/tun'), '/dev/net/tun exists (net_tap needs it)'):
        finish()
    run_case('l01', '0-1', [], '2 worker(s), 2 transport(s)')
    run_case('l0', '0', ['--workers', '2', '--transports', '2'],
             '2 worker(s), 2 transport(s)')
    run_case('afpacket', '0-1', [], '2 worker(s), 2 transport(s)', driver='af_packet')
    run_transport('transport')
    run_ipv6('ipv6', 'tunnel')
    run_ipv6('ipv6-transport', 'transport')
    run_ipv6('ipv6-natt', 'natt')
    run_ipv6('ipv6-ah', 'ah')
    run_tap_wire('wire')
    run_tap_out('out')
    run_tap_mtu('mtu')
    finish()


if __name__ == '__main__':
    main()
