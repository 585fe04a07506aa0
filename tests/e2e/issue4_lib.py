# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the issue 4 end-to-end tests (ESN, lifetimes, control socket,
telemetry, many cores): ESP frames built byte by byte with python3-cryptography
(so any 64-bit sequence number can be used), rxsec runs in the foreground or
in the background, rxsec-ctl and dpdk-telemetry.py calls, and small checks.

Every frame carries an inner IPv4/UDP packet whose payload names the SA and
the 64-bit sequence number, so a delivered frame tells which packet it was.
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'vectors'))

from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM  # noqa: E402
from cryptography.hazmat.primitives import hashes, hmac  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

from rxsec_vectors import write_pcap, read_pcap, eth, fix_lengths  # noqa: E402

BUILD = os.environ.get('RXSEC_BUILD') or os.path.dirname(os.path.dirname(
    os.environ.get('RXSEC', os.path.join(HERE, '..', '..', 'build', 'app', 'rxsec'))))
RXSEC = os.environ.get('RXSEC', os.path.join(BUILD, 'app', 'rxsec'))
RXSEC_CTL = os.environ.get('RXSEC_CTL', os.path.join(os.path.dirname(RXSEC), 'rxsec-ctl'))
OUTER_SRC, OUTER_DST = '192.0.2.10', '192.0.2.20'

failures = []


def check(cond, what):
    print('%s %s' % ('ok  ' if cond else 'FAIL', what), flush=True)
    if not cond:
        failures.append(what)
    return cond


def finish():
    if failures:
        print('%d check(s) failed' % len(failures))
        sys.exit(1)
    if not os.environ.get('RXSEC_KEEP'):
        for d in _workdirs:
            shutil.rmtree(d, ignore_errors=True)
    print('all checks passed')
    sys.exit(0)


def _ip4(s):
    return bytes(int(x) for x in s.split('.'))


def ipv4(src, dst, proto, payload, ident=1):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                    _ip4(src), _ip4(dst))
    return fix_lengths(h + payload)


def inner_packet(tag, seq):
    """The plaintext: IPv4/UDP with a payload naming the SA and sequence."""
    data = ('%s seq %d ' % (tag, seq)).encode().ljust(48, b'.')
    udp = struct.pack('!HHHH', 50101, 9000, 8 + len(data), 0) + data
    return ipv4('198.51.100.10', '203.0.113.20', 17, udp, ident=seq & 0xffff)


class Sa:
    """An inbound ESP SA: AES-GCM-128 (rfc4106), AES-CCM-128 with a 96-bit
    ICV (rfc4309) or AES-CBC-128 + HMAC-SHA256-128, with or without ESN;
    tunnel mode, or transport mode (transport_esp)."""

    def __init__(self, spi, alg='gcm', esn=False, window=64, reqid=1, seq=0, seq_hi=0,
                 limits='', src=OUTER_SRC, dst=OUTER_DST, key_seed=None, mode='tunnel',
                 direction=None):
        self.mode, self.direction = mode, direction
        self.spi, self.alg, self.esn, self.window = spi, alg, esn, window
        self.reqid, self.seq, self.seq_hi, self.limits = reqid, seq, seq_hi, limits
        self.src, self.dst = src, dst
        seed = spi if key_seed is None else key_seed
        klen = {'gcm': 20, 'ccm': 19}.get(alg, 16)    # AEADs: key || salt
        self.key = bytes((seed * 7 + i * 13) & 0xff for i in range(klen))
        self.auth_key = bytes((seed * 11 + i * 5 + 1) & 0xff for i in range(32))
        self.tag = 'sa%08x' % spi

    def xfrm(self):
        w = ['ip xfrm state add src %s dst %s proto esp spi 0x%08x reqid %d mode %s'
             % (self.src, self.dst, self.spi, self.reqid, self.mode)]
        if self.direction:
            w.append('dir %s' % self.direction)
        w.append('replay-window %d' % self.window)
        if self.esn:
            w.append('flag esn')
        if self.seq or self.seq_hi:
            w.append('replay-seq 0x%x replay-seq-hi 0x%x' % (self.seq, self.seq_hi))
        if self.alg == 'gcm':
            w.append('aead "rfc4106(gcm(aes))" 0x%s 128' % self.key.hex())
        elif self.alg == 'ccm':
            w.append('aead "rfc4309(ccm(aes))" 0x%s 96' % self.key.hex())
        else:
            w.append('enc "cbc(aes)" 0x%s auth-trunc "hmac(sha256)" 0x%s 128'
                     % (self.key.hex(), self.auth_key.hex()))
        if self.limits:
            w.append(self.limits)
        return ' '.join(w) + '\n'

    def outbound(self, spi, direction='out'):
        """The paired outbound SA: same reqid, addresses swapped; as Linux
        6.10 keeps one marked `dir out`, with no replay window (ESN or not),
        or with the inbound SA's window when it has no direction."""
        window = 0 if direction == 'out' else self.window
        return Sa(spi, self.alg, self.esn, window, self.reqid, src=self.dst, dst=self.src,
                  direction=direction)

    def esp(self, seq64, inner=None, corrupt=False, hi_override=None):
        """The outer IPv4 packet carrying ESP with 64-bit sequence seq64 (only
        the low 32 bits are sent, RFC 4303 2.2.1)."""
        inner = inner if inner is not None else inner_packet(self.tag, seq64)
        return eth(ipv4(self.src, self.dst, 50,
                        self._esp(seq64, inner, 4, corrupt, hi_override)))

    def transport_esp(self, seq64, ip_packet):
        """ip_packet's payload protected in transport mode (no Ethernet)."""
        hl = (ip_packet[0] & 0xf) * 4
        return ipv4(self.src, self.dst, 50, self._esp(seq64, ip_packet[hl:], ip_packet[9]),
                    ident=seq64 & 0xffff)

    def _esp(self, seq64, inner, nh, corrupt=False, hi_override=None):
        lo, hi = seq64 & 0xffffffff, seq64 >> 32
        if hi_override is not None:
            hi = hi_override
        hdr = struct.pack('!II', self.spi, lo)
        if self.alg in ('gcm', 'ccm'):
            iv = struct.pack('!Q', seq64 ^ 0x5a5a)
            padlen = (-(len(inner) + 2)) % 4
            pt = inner + bytes(range(1, padlen + 1)) + bytes([padlen, nh])
            # RFC 4106 section 5, RFC 4309 section 5: the same AAD
            aad = hdr if not self.esn else struct.pack('!III', self.spi, hi, lo)
            aead = AESGCM(self.key[:16]) if self.alg == 'gcm' else \
                AESCCM(self.key[:16], tag_length=12)
            ct = aead.encrypt(self.key[16:] + iv, pt, aad)
            body = hdr + iv + ct
        else:
            iv = struct.pack('!QQ', seq64, 0x1234)
            padlen = (-(len(inner) + 2)) % 16
            pt = inner + bytes(range(1, padlen + 1)) + bytes([padlen, nh])
            enc = Cipher(algorithms.AES(self.key), modes.CBC(iv)).encryptor()
            ct = enc.update(pt) + enc.finalize()
            h = hmac.HMAC(self.auth_key, hashes.SHA256())
            h.update(hdr + iv + ct + (struct.pack('!I', hi) if self.esn else b''))
            body = hdr + iv + ct + h.finalize()[:16]
        if corrupt:
            body = body[:-1] + bytes([body[-1] ^ 1])
        return body

    def delivered(self, seq64):
        """The frame rxsec must deliver for esp(seq64): Ethernet + inner packet."""
        return eth(inner_packet(self.tag, seq64))


def parse_tag(frame):
    """(tag, seq) named by a delivered frame's payload, or None."""
    m = re.search(rb'(sa[0-9a-f]{8}) seq (\d+) ', frame)
    return (m.group(1).decode(), int(m.group(2))) if m else None


_workdirs = []


def workdir(name):
    """A fresh directory for one run; finish() removes them all when every
    check passed (RXSEC_KEEP=1 keeps them), else they stay for a look."""
    d = tempfile.mkdtemp(prefix='rxsec-%s-' % name)
    _workdirs.append(d)
    return d


def file_prefix(name):
    """name with the RXSEC_FILE_PREFIX stem before it (run_case.py)."""
    return os.environ.get('RXSEC_FILE_PREFIX', '') + name


def eal(prefix, lcores, vdev):
    """EAL options for one vdev, or for each of a list of them."""
    vdevs = [vdev] if isinstance(vdev, str) else vdev
    return [RXSEC, '--no-huge', '-m', '512', '--no-pci', '--file-prefix', prefix,
            '-l', lcores] + [a for v in vdevs for a in ('--vdev', v)] + ['--']


def run(wd, sas, frames, lcores='0', args=(), timeout=120, prefix=None):
    """rxsec over frames on net_pcap0; returns (rc, stdout, verdicts, delivered)."""
    with open(os.path.join(wd, 'sa.conf'), 'w') as f:
        f.write(''.join(s.xfrm() for s in sas))
    return run_files(wd, [os.path.join(wd, 'sa.conf')], frames, lcores, args, timeout, prefix)


def run_files(wd, sa_files, frames, lcores='0', args=(), timeout=120, prefix=None):
    """rxsec over frames on net_pcap0 with SA files as they are; returns
    (rc, stdout, verdicts sorted by receive index, delivered frames)."""
    write_pcap(os.path.join(wd, 'in.pcap'), frames)
    prefix = file_prefix(prefix or 'i4%d' % os.getpid())
    cmd = eal(prefix, lcores, 'net_pcap0,rx_pcap=%s,tx_pcap=%s' % (
        os.path.join(wd, 'in.pcap'), os.path.join(wd, 'out.pcap')))
    for f in sa_files:
        cmd += ['--sa', f]
    cmd += ['--verdicts', os.path.join(wd, 'v.jsonl'), '--idle-exit', '400'] + list(args)
    p = subprocess.run(cmd, cwd=wd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    out = p.stdout.decode(errors='replace')
    with open(os.path.join(wd, 'run.log'), 'w') as f:
        f.write(' '.join(cmd) + '\n' + out)
    verdicts = []
    if os.path.exists(os.path.join(wd, 'v.jsonl')):
        with open(os.path.join(wd, 'v.jsonl')) as f:
            verdicts = [json.loads(l) for l in f if l.strip()]
    verdicts.sort(key=lambda v: v['n'])
    delivered = read_pcap(os.path.join(wd, 'out.pcap')) \
        if os.path.exists(os.path.join(wd, 'out.pcap')) else []
    return p.returncode, out, verdicts, delivered


def run_to_idle(wd, sa_text, tag, lcores, vdev, name, args=()):
    """rxsec over vdev with sa_text as its SA file until idle (args added to
    its options); the output of the run, which must exit 0 with every mbuf
    home."""
    with open(os.path.join(wd, 'sa.conf'), 'w') as f:
        f.write(sa_text)
    prefix = file_prefix('%s%d%s' % (tag, os.getpid(), lcores.replace('-', '')))
    cmd = eal(prefix, lcores, vdev) + ['--sa', os.path.join(wd, 'sa.conf'),
                                       '--idle-exit', '500'] + list(args)
    p = subprocess.run(cmd, cwd=wd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=120)
    out = p.stdout.decode(errors='replace')
    with open(os.path.join(wd, 'run.log'), 'w') as f:
        f.write(out)
    check(p.returncode == 0 and 'mbufs: all' in out, '%s: exit 0, mbufs home (%s)' % (name, wd))
    return out


class Daemon:
    """rxsec in the background with a control socket."""

    def __init__(self, wd, sas, vdev, lcores='0', args=(), prefix=None, sock=None, wrap=()):
        self.wd = wd
        self.sock = sock or os.path.join(wd, 'ctl.sock')
        self.prefix = file_prefix(prefix or 'i4d%d' % os.getpid())
        with open(os.path.join(wd, 'sa.conf'), 'w') as f:
            f.write(''.join(s.xfrm() for s in sas))
        self.cmd = list(wrap) + eal(self.prefix, lcores, vdev) + \
            ['--sa', os.path.join(wd, 'sa.conf'), '--control', self.sock] + list(args)
        self.log = open(os.path.join(wd, 'run.log'), 'w')
        self.p = subprocess.Popen(self.cmd, cwd=wd, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if os.path.exists(self.sock) or self.p.poll() is not None:
                break
            time.sleep(0.05)

    def ctl(self, *args, input_text=None):
        p = subprocess.run([RXSEC_CTL, '--socket', self.sock] + list(args),
                           input=input_text.encode() if input_text else None,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        err = p.stderr.decode(errors='replace')
        # in the sanitizer build: a leak or UB in rxsec-ctl fails the test,
        # whatever exit status the request expected
        if 'Sanitizer' in err or 'runtime error' in err:
            check(False, 'rxsec-ctl %s: sanitizer report: %s' % (' '.join(args)[:60], err[-400:]))
        try:
            if not p.stdout.strip():	# refused before asking rxsec
                raise ValueError
            return p.returncode, json.loads(p.stdout.decode())
        except ValueError:
            return p.returncode, {'raw': p.stdout.decode(), 'err': p.stderr.decode()}

    def telemetry(self, command):
        p = subprocess.run(['/usr/bin/python3', '/usr/bin/dpdk-telemetry.py', '-f', self.prefix],
                           input=(command + '\n').encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        for line in p.stdout.decode().splitlines():
            line = line.strip().lstrip('-> ').strip()
            if line.startswith('{'):
                return json.loads(line)
        return {'raw': p.stdout.decode()}

    def stop(self, timeout=60):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.log.close()
        with open(os.path.join(self.wd, 'run.log')) as f:
            return rc, f.read()


def report_counts(out):
    """The final report's reasons line as a dict, and the transport line's numbers."""
    reasons = {}
    m = re.search(r'^reasons:(.*)$', out, re.M)
    if m:
        toks = m.group(1).split()
        reasons = {toks[i]: int(toks[i + 1]) for i in range(0, len(toks) - 1, 2)}
    t = re.search(r'^transport: rx (\d+) delivered (\d+)', out, re.M)
    e = re.search(r'^engine: rx (\d+)', out, re.M)
    return reasons, (int(t.group(1)), int(t.group(2))) if t else (None, None), \
        int(e.group(1)) if e else None
