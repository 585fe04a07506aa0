# SPDX-License-Identifier: BSD-3-Clause
"""rxsec with bad command lines and bad SA files (spec section 6): each run
must exit 2 (refused to start, README's convention), print one precise error
line on stderr (`rxsec: ...`, naming the option and value, or file:line and
the bad token of an SA file, or the path and why it cannot be used), and not
crash: no signal, no sanitizer report, no core file. `--help` exits 0 and
prints the usage.

    test_bad_config.py [--rxsec PATH]      (else $RXSEC, else build/app/rxsec)
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

GOOD_SA = ('ip xfrm state add src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x00001000 '
           'reqid 1 mode tunnel aead "rfc4106(gcm(aes))" '
           '0x00112233445566778899aabbccddeeff01020304 128\n')

# name, SA file text, line of the error, token the message must name
BAD_SA_FILES = [
    ('bad_hex_key', '# a comment\nip xfrm state add src 192.0.2.10 dst 192.0.2.20 proto esp '
     'spi 0x1000 reqid 1 mode tunnel \\\n    aead "rfc4106(gcm(aes))" 0x0011zz 128\n',
     3, '0x0011zz'),
    ('short_gcm_key', GOOD_SA.replace('0x00001000', '0x00003000') + 'ip xfrm state add src 192.0.2.10 dst 192.0.2.20 proto esp '
     'spi 0x2000 reqid 2 mode tunnel aead "rfc4106(gcm(aes))" 0x0011223344 128\n',
     2, '0x0011223344'),
    ('unknown_alg', 'ip xfrm state add src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x1000 '
     'reqid 1 mode tunnel enc "cbc(blowfish)" 0x00112233445566778899aabbccddeeff\n',
     1, 'cbc(blowfish)'),
    ('bad_spi', 'ip xfrm state add src 192.0.2.10 dst 192.0.2.20 proto esp spi 0xnope '
     'reqid 1 mode tunnel aead "rfc4106(gcm(aes))" '
     '0x00112233445566778899aabbccddeeff01020304 128\n', 1, '0xnope'),
    ('bad_addr', 'ip xfrm state add src 192.0.2.10 dst 192.0.2.300 proto esp spi 0x1000 '
     'reqid 1 mode tunnel aead "rfc4106(gcm(aes))" '
     '0x00112233445566778899aabbccddeeff01020304 128\n', 1, '192.0.2.300'),
    # the same (SPI, dst, proto) as good.conf's SA, which is loaded first
    ('duplicate_sa', '\n' + GOOD_SA, 2, '0x00001000'),
]

SANITIZER = re.compile(r'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|'
                       r'runtime error:|Segmentation fault|core dumped')
NOISE = re.compile(r'^(EAL|TELEMETRY|USER1|RING|MBUF|PMD|ETHDEV|HASH)\b|^\s*$')


class Runner:
    def __init__(self, rxsec, wd):
        self.rxsec, self.wd, self.n, self.failed = rxsec, wd, 0, []

    def run(self, args, mem='512', vdevs=('net_null0',), env=None, eal=()):
        self.n += 1
        cmd = [self.rxsec, '--no-huge', '-m', mem, '--no-pci', '--file-prefix',
               'rxbad%d_%d' % (os.getpid(), self.n), '-l', '0'] + list(eal)
        for v in vdevs:
            cmd += ['--vdev', v]
        cmd += ['--'] + args
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=60, cwd=self.wd,
                               env=dict(os.environ, **env) if env else None)
        except subprocess.TimeoutExpired:
            return None, '', 'timeout', cmd
        return (p.returncode, p.stdout.decode(errors='replace'),
                p.stderr.decode(errors='replace'), cmd)

    def check(self, name, args, must=(), status=2, mem='512', vdevs=('net_null0',),
              env=None, eal=()):
        rc, out, err, cmd = self.run(args, mem, vdevs, env, eal)
        errs = []
        rundir = '/var/run/dpdk/' + cmd[cmd.index('--file-prefix') + 1]
        if os.path.exists(rundir):
            errs.append('left its EAL runtime directory %s behind' % rundir)
        if rc is None:
            errs.append('timed out')
        elif rc < 0:
            errs.append('killed by signal %d' % -rc)
        elif rc != status:
            errs.append('exit status %d, not %d' % (rc, status))
        if SANITIZER.search(err) or SANITIZER.search(out):
            errs.append('sanitizer report or crash in the output')
        cores = [f for f in os.listdir(self.wd) if f.startswith('core')]
        if cores:
            errs.append('core file(s) %s' % cores)
        lines = [ln for ln in err.splitlines() if not NOISE.search(ln)]
        if status != 0:
            mine = [ln for ln in lines if ln.startswith('rxsec:')]
            if len(mine) != 1:
                errs.append('expected one "rxsec: ..." error line on stderr, got %d' % len(mine))
            msg = mine[0] if mine else ''
            for m in must:
                if m not in msg:
                    errs.append('error line does not name %r' % m)
        else:
            msg = out.splitlines()[0] if out else ''
            for m in must:
                if m not in out:
                    errs.append('stdout does not contain %r' % m)
        if errs:
            self.failed.append(name)
            print('FAIL %-22s %s' % (name, '; '.join(errs)))
            print('     cmd: %s' % ' '.join(cmd))
            print('     stderr: %s' % '\n             '.join(lines[-6:]))
        else:
            print('ok   %-22s %s' % (name, msg))


def static_dpdk(rxsec):
    """Whether rxsec was linked with DPDK's static libraries (meson option
    static_dpdk): it then needs no librte_eal shared object."""
    p = subprocess.run(['readelf', '-d', rxsec], stdout=subprocess.PIPE, check=True)
    return b'librte_eal.so' not in p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--rxsec', default=None)
    a = ap.parse_args()
    rxsec = os.path.abspath(a.rxsec or os.environ.get('RXSEC') or
                            os.path.join(HERE, '..', '..', 'build', 'app', 'rxsec'))
    if not os.access(rxsec, os.X_OK):
        print('FAIL rxsec binary %s not found' % rxsec)
        return 1
    with tempfile.TemporaryDirectory(prefix='rxsec-badcfg-') as wd:
        good = os.path.join(wd, 'good.conf')
        with open(good, 'w') as f:
            f.write(GOOD_SA)
        r = Runner(rxsec, wd)
        r.check('help', ['--help'], must=('Usage:', '--sa FILE', 'Exit status'), status=0)
        r.check('offload_v3', ['--sa', good, '--offload', 'v3'], must=('--offload', "'v3'"))
        r.check('idle_exit_negative', ['--sa', good, '--idle-exit', '-1'],
                must=('--idle-exit', "'-1'"))
        r.check('idle_exit_junk', ['--sa', good, '--idle-exit', '12ms'],
                must=('--idle-exit', "'12ms'"))
        r.check('unknown_option', ['--sa', good, '--frobnicate'], must=('--frobnicate',))
        r.check('missing_value', ['--sa', good, '--verdicts'], must=('--verdicts',))
        r.check('stray_argument', ['--sa', good, 'extra'], must=("'extra'",))
        r.check('no_sa', ['--idle-exit', '100'], must=('--sa',))
        r.check('offload_algs_unknown', ['--sa', good, '--offload-algs', 'cbc(aes),rot13'],
                must=('--offload-algs', 'rot13'))
        r.check('offload_algs_empty_name',
                ['--sa', good, '--offload-algs', 'rfc4106(gcm(aes)),,hmac(sha256)'],
                must=('--offload-algs', 'empty name', ',,'))
        r.check('workers_zero', ['--sa', good, '--workers', '0'],
                must=('--workers', "'0'", 'from 1 to 64'))
        # out of range: one line (a second, "must be at least 1", followed)
        r.check('workers_too_many', ['--sa', good, '--workers', '99'],
                must=('--workers', "'99'", 'from 1 to 64'))
        r.check('sa_placement_unknown', ['--sa', good, '--sa-placement', 'nearest'],
                must=('--sa-placement', "'nearest'", 'auto, slot or receiver'))
        r.check('max_sa_too_many', ['--sa', good, '--max-sa', '2000000'],
                must=('--max-sa', "'2000000'", 'from 1 to 1048576'))
        r.check('wire_port_missing', ['--sa', good, '--wire-port', '3'],
                must=('--wire-port 3', 'no such port', 'net_null0'))
        r.check('mtu_too_small', ['--sa', good, '--mtu', '50'], must=('--mtu', "'50'", '68'))
        r.check('mtu_too_large', ['--sa', good, '--mtu', '9195'], must=('--mtu', "'9195'", '9194'))
        r.check('frag_flows_too_many', ['--sa', good, '--frag-flows', '16385'],
                must=('--frag-flows', "'16385'", '16384'))
        r.check('frag_flows_negative', ['--sa', good, '--frag-flows', '-1'],
                must=('--frag-flows', "'-1'"))
        r.check('frag_timeout_zero', ['--sa', good, '--frag-timeout', '0'],
                must=('--frag-timeout', "'0'", 'from 1 to 60000'))
        r.check('frag_timeout_word', ['--sa', good, '--frag-timeout', '2s'],
                must=('--frag-timeout', "'2s'"))
        r.check('out_port_junk', ['--sa', good, '--out-port', 'eth1'],
                must=('--out-port', "'eth1'"))
        # An SA table larger than EAL's memory: a message, not a crash.
        r.check('max_sa_no_memory', ['--sa', good, '--max-sa', '1048576', '--no-thp'],
                must=('--max-sa 1048576', '-m'), mem='64')
        # Room for 16384 datagrams' fragments does not fit in 512 MB of EAL
        # memory: the pool error says how much, and what to change.
        r.check('frag_flows_no_memory', ['--sa', good, '--frag-flows', '16384', '--no-thp'],
                must=('cannot create a pool', 'MiB', '-m', '--frag-flows'))
        # NAT-T on more ports than rxsec listens on besides 4500
        ports = os.path.join(wd, 'natt_ports.conf')
        with open(ports, 'w') as f:
            for k in range(9):
                f.write(GOOD_SA.replace('0x00001000', '0x0000%04x' % (0x2000 + k))
                        .rstrip('\n') + ' encap espinudp %d %d 0.0.0.0\n' % (5001 + k, 5001 + k))
        r.check('natt_ports_too_many', ['--sa', ports],
                must=('0x00002008', 'encap port 5009', 'at most 8'))
        # ESN infers the high bits from the window: Linux refuses an ESN SA
        # without one, and so does rxsec when --replay-window 0 takes it away
        esn = os.path.join(wd, 'esn.conf')
        with open(esn, 'w') as f:
            f.write(GOOD_SA.replace('0x00001000', '0x00004e53')
                    .replace('reqid 1', 'reqid 1 replay-window 64 flag esn'))
        r.check('esn_replay_window_0', ['--sa', esn, '--replay-window', '0'],
                must=('0x00004e53', 'flag esn needs a replay window', '--replay-window 0'))
        # a Linux algorithm IPsec-MB 1.3 lacks (AES-192 CCM): the SA and why
        ccm192 = os.path.join(wd, 'ccm192.conf')
        with open(ccm192, 'w') as f:
            f.write('ip xfrm state add src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x0000c192 '
                    'reqid 1 mode tunnel aead "rfc4309(ccm(aes))" 0x%s 128\n'
                    % (bytes(range(24)).hex() + 'a0a1a2'))
        r.check('ccm_aes192', ['--sa', ccm192],
                must=('0x0000c192', 'rfc4309(ccm(aes))', '192-bit AES keys are not supported',
                      '19 or 35 key bytes'))
        # the crypto driver's settings: a typo must not run another code path
        r.check('imb_arch_unknown', ['--sa', good], env={'RXSEC_IMB_ARCH': 'avx-512'},
                must=("RXSEC_IMB_ARCH='avx-512'", 'sse, avx, avx2 or avx512'))
        r.check('gcm_vaes_word', ['--sa', good], env={'RXSEC_GCM_VAES': 'off'},
                must=("RXSEC_GCM_VAES='off'", 'expected 0 or 1'))
        # EAL's -d in a build with every driver linked in: EAL itself would
        # abort loading a shared driver (its own copy of EAL's libraries)
        if static_dpdk(rxsec):
            pmd = '/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/librte_net_null.so'
            for name, eal in (('driver_path_d', ('-d', pmd)),
                              ('driver_path_grouped', ('-vd' + pmd,))):
                r.check(name, ['--sa', good], eal=eal,
                        must=(eal[0], 'built in', '-Dstatic_dpdk=false'))
        missing = os.path.join(wd, 'nonexistent.conf')
        r.check('sa_missing_file', ['--sa', missing], must=(missing,))
        # Not text: refused at the first NUL, not read until memory runs out.
        r.check('sa_dev_zero', ['--sa', '/dev/zero'], must=('/dev/zero:1', 'NUL byte'))
        r.check('sa_directory', ['--sa', wd], must=(wd, 'Is a directory'))
        # the control socket: a missing directory, a file that is not a socket
        nodir = os.path.join(wd, 'nodir', 'ctl.sock')
        r.check('control_no_dir', ['--sa', good, '--control', nodir],
                must=('--control ' + nodir, 'listening as ' + nodir + '.',
                      'No such file or directory'))
        r.check('control_not_socket', ['--sa', good, '--control', good],
                must=('--control ' + good, 'not a socket'))
        r.check('control_too_long', ['--sa', good, '--control', '/tmp/' + 'x' * 95],
                must=('--control', 'path too long (at most 99 bytes)'))
        # --verdicts: one line naming the path and why, exit 2, nothing run;
        # with two transports the final file is checked at start too (it was
        # written only at exit, and a second, misleading line followed)
        quiet = ('net_null0,no-rx=1',)
        nodir = os.path.join(wd, 'nodir', 'v.jsonl')
        for tr in ('1', '2'):
            r.check('verdicts_no_dir_t' + tr, ['--sa', good, '--transports', tr, '--idle-exit',
                                               '100', '--verdicts', nodir],
                    must=('--verdicts', "'%s'" % nodir, 'No such file or directory'),
                    vdevs=quiet)
            r.check('verdicts_directory_t' + tr, ['--sa', good, '--transports', tr,
                                                  '--idle-exit', '100', '--verdicts', wd],
                    must=('--verdicts', "'%s'" % wd, 'Is a directory'), vdevs=quiet)
        parts = [f for f in os.listdir(os.path.dirname(wd))
                 if f.startswith(os.path.basename(wd) + '.part')]
        if parts:
            for f in parts:
                os.remove(os.path.join(os.path.dirname(wd), f))
            r.failed.append('verdicts_parts_left')
            print('FAIL %-22s %s' % ('verdicts_parts_left', parts))
        # a --vdev whose driver fails: EAL carries on without its port
        nopcap = os.path.join(wd, 'nonexistent.pcap')
        r.check('vdev_pcap_missing', ['--sa', good],
                must=('--vdev net_pcap0,rx_pcap=' + nopcap, 'no port was created'),
                vdevs=('net_pcap0,rx_pcap=' + nopcap,))
        # ... also when the other port would have let rxsec run without it
        empty = os.path.join(wd, 'empty.pcap')
        with open(empty, 'wb') as f:
            f.write(bytes.fromhex('d4c3b2a1020004000000000000000000ffff000001000000'))
        r.check('vdev_pcap_tx_no_dir', ['--sa', good, '--idle-exit', '100'],
                must=('--vdev net_pcap1', nodir + '.pcap', 'no port was created'),
                vdevs=quiet + ('net_pcap1,rx_pcap=%s,tx_pcap=%s.pcap' % (empty, nodir),))
        # looping a pcap without packets: net_pcap would drain the mbuf pool
        r.check('vdev_pcap_loop_empty', ['--sa', good],
                must=('--vdev net_pcap0', empty, 'holds no packet to replay with infinite_rx=1'),
                vdevs=('net_pcap0,rx_pcap=%s,infinite_rx=1' % empty, 'net_null0,no-rx=1'))
        for name, text, line, token in BAD_SA_FILES:
            path = os.path.join(wd, name + '.conf')
            with open(path, 'w') as f:
                f.write(text)
            r.check('sa_' + name, ['--sa', good, '--sa', path],
                    must=('%s:%d' % (path, line), token))
    print('%d runs, %d failed%s' % (r.n, len(r.failed),
                                    (': ' + ', '.join(r.failed)) if r.failed else ''))
    return 1 if r.failed else 0


if __name__ == '__main__':
    sys.exit(main())
