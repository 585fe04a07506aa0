#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The benchmark's own checks, on a small case (issue 5).

scripts/bench/bench.py reports a program's rate only after that program
delivered every packet of the pcap, byte for byte, as the plaintext scapy
encrypted. This test generates 64-byte, one-SA traffic with the benchmark's
generator and:
  1. runs rxsec and testpmd through a short benchmark round: verification
     passes, both rates, IPsec-MB's cycles and rxsec's cycles by stage are
     reported, exit 0;
  2. changes one byte of one expected plaintext: bench.py must name that
     packet and exit 1 (the gate can fail);
  3. gives rxsec-crypto-bench a wrong key: it must refuse to print a figure;
  4. gives bench.py wrong options, or a case it has no traffic for: each
     must be named, with exit 2 and no traceback; and rxsec-crypto-bench
     wrong options and key files: each named, nothing measured.
secgw is left out: building it from dpdk-doc belongs to scripts/bench.sh."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, '..', '..'))
rxsec = os.environ.get('RXSEC', os.path.join(root, 'build/app/rxsec'))
crypto_bench = os.environ.get('RXSEC_CRYPTO_BENCH',
                              os.path.join(os.path.dirname(rxsec), 'rxsec-crypto-bench'))
py = '/usr/bin/python3'
work = tempfile.mkdtemp(prefix='rxsec-bench-')
traffic = os.path.join(work, 'traffic')
failures = []


def check(ok, what):
    print('%s: %s' % ('ok' if ok else 'FAIL', what))
    if not ok:
        failures.append(what)


def bench(*extra, programs='rxsec,testpmd'):
    argv = [py, os.path.join(root, 'scripts/bench/bench.py'), '--traffic', traffic,
            '--logs', os.path.join(work, 'logs'), '--rxsec', rxsec,
            '--crypto-bench', crypto_bench, '--programs', programs,
            '--sizes', '64', '--sas', '1', '--rounds', '1', '--duration', '0.5',
            '--warmup', '0.2'] + list(extra)
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=240)


def generate():
    r = subprocess.run([py, os.path.join(root, 'scripts/bench/gen_traffic.py'),
                        '--out', traffic, '--packets', '128', '--sizes', '64',
                        '--sas', '1'], capture_output=True, text=True, timeout=240)
    if r.returncode != 0:
        sys.exit('gen_traffic failed: ' + r.stderr)


def test_measures():
    out = os.path.join(work, 'bench.json')
    r = bench('--json', out)
    sys.stderr.write(r.stderr)
    check(r.returncode == 0, 'a clean run exits 0 (got %d)' % r.returncode)
    for p in ('rxsec', 'testpmd'):
        check(re.search(r'^verify %s\s+64\s+1 SA: ok$' % p, r.stderr, re.M) is not None,
              '%s verified' % p)
    if not os.path.exists(out):
        check(False, 'JSON written')
        return
    res = json.load(open(out))
    runs = {x['prog']: x for x in res.get('loop', [])}
    for p in ('rxsec', 'testpmd'):
        x = runs.get(p, {})
        check('error' not in x and x.get('mpps', 0) > 0,
              '%s measured: %s' % (p, x.get('error', '%.2f Mpps' % x.get('mpps', 0))))
    cyc = res.get('crypto', {}).get('64-1')  # [cycles, tsc_hz] per round
    check(bool(cyc) and cyc[0][0] > 0, 'IPsec-MB cycles reported: %s' % (cyc,))
    check('rxsec' in r.stdout and 'Loop:' in r.stdout, 'table printed')
    st = res.get('stages', {}).get('64-1', {})
    parts = sum(st.get(k, 0) for k in ('rx', 'classify', 'sa_lookup', 'crypto', 'checks',
                                       'enqueue', 'transport', 'tx'))
    check('error' not in st and st.get('crypto', 0) > 0 and abs(parts - st.get('total', -1)) < 1,
          'rxsec cycles by stage reported, summing to their total: %s' % (st,))
    check('rxsec by stage' in r.stdout, 'stage table printed')
    # the printed floor ratio, from this run's own figures
    if cyc and runs.get('rxsec', {}).get('mpps') and runs.get('testpmd', {}).get('mpps'):
        hz = cyc[0][1]
        want = (hz / runs['rxsec']['mpps']) / (hz / runs['testpmd']['mpps'] + cyc[0][0] * 1e6)
        row = re.search(r'^\| 64 +\| 1 +\|.*\| ([0-9.]+) +\| [^|]*floor<=', r.stdout, re.M)
        check(row is not None and abs(float(row.group(1)) - want) < 0.006,
              'rxsec/floor printed as measured: %s, want %.2f'
              % (row.group(1) if row else None, want))


def test_lcores():
    """--mode lcores on 1024 SAs split over two queues: every two-lcore
    rxsec layout verified byte for byte, measured, and tabled; each SA's
    packets in one queue's pcap only; a one-SA case refused."""
    tr = os.path.join(work, 'traffic1024')
    r = subprocess.run([py, os.path.join(root, 'scripts/bench/gen_traffic.py'),
                        '--out', tr, '--packets', '1024', '--sizes', '64', '--sas', '1024'],
                       capture_output=True, text=True, timeout=240)
    check(r.returncode == 0, 'gen_traffic 1024 SAs: %s' % r.stderr.strip()[-200:])
    out = os.path.join(work, 'lcores.json')
    r = bench('--mode', 'lcores', '--traffic', tr, '--sas', '1024', '--json', out)
    sys.stderr.write(r.stderr)
    check(r.returncode == 0, '--mode lcores: a clean run exits 0 (got %d)' % r.returncode)
    for p in ('testpmd', 'rxsec', 'rxsec-slot'):
        check(re.search(r'^verify %s\s+64\s+1024 SA, 2 lcores: ok$' % p, r.stderr, re.M)
              is not None, '--mode lcores: %s verified on two lcores' % p)
    runs = json.load(open(out)).get('lcores', []) if os.path.exists(out) else []
    got = {x['prog']: x.get('mpps', 0) for x in runs if 'error' not in x}
    check(sorted(got) == ['rxsec', 'rxsec-1l', 'rxsec-slot', 'testpmd'] and
          all(v > 0 for v in got.values()), '--mode lcores: every layout measured (%s)' % got)
    check('Two lcores:' in r.stdout and 'rxsec/rxsec-slot' in r.stdout,
          '--mode lcores: table printed')
    sys.path.insert(0, os.path.join(root, 'scripts/bench'))
    import bench as b
    spis = [{fr[34:38] for fr in b.read_pcap(os.path.join(tr, 'esp-64-1024-q%d.pcap' % q))}
            for q in range(2)]
    frames = b.read_pcap(os.path.join(tr, 'esp-64-1024.pcap'))
    n = sum(len(b.read_pcap(os.path.join(tr, 'esp-64-1024-q%d.pcap' % q))) for q in range(2))
    check(spis[0] and spis[1] and not spis[0] & spis[1] and
          spis[0] | spis[1] == {fr[34:38] for fr in frames} and n == len(frames),
          '--mode lcores: the split pcaps hold every packet, each SA in one queue '
          '(%d and %d SAs, %d of %d packets)' % (len(spis[0]), len(spis[1]), n, len(frames)))
    corrupt_plaintext(5, os.path.join(tr, 'plain-64-1024.pcap'))
    r = bench('--mode', 'lcores', '--traffic', tr, '--sas', '1024', programs='rxsec')
    check(r.returncode == 1 and 'packet 5: delivered IP packet differs' in r.stderr,
          '--mode lcores: a wrong two-lcore delivery is named, exit 1 (got %d)' % r.returncode)


def test_floor_per_round():
    """The floor ratio is a median of per-round ratios, as the secgw ones:
    a round where the machine ran at half speed for every program leaves
    it alone, where a ratio of medians would move."""
    sys.path.insert(0, os.path.join(root, 'scripts/bench'))
    import bench as b
    hz = 1e9
    runs = [{'size': 64, 'sas': 1, 'prog': p, 'mpps': v, 'round': i}
            for i, (rx, io) in enumerate(((10.0, 20.0), (5.0, 10.0), (10.0, 20.0)))
            for p, v in (('rxsec', rx), ('testpmd', io))]
    # rounds 0 and 2: rxsec 100 cycles, floor 50 + 30; round 1 all twice as slow
    crypto = {(64, 1): [(30.0, hz), (60.0, hz), None]}
    by = {p: [x for x in runs if x['prog'] == p] for p in ('rxsec', 'testpmd')}
    fr = b.floor_ratios(by, crypto[(64, 1)], 3)
    check([round(x, 3) for x in fr] == [1.25, 1.25],
          'per-round floor ratios, a round without IPsec-MB figure left out: %s' % fr)
    table, verdicts = b.summarize(runs, crypto, [(64, 1)], ['testpmd', 'rxsec'], 'T')
    check('| 1.25 ' in table and verdicts == [False],
          'the table reports their median and misses 1.2: %s' % table.splitlines()[-1])


def verify_lines(stderr):
    """bench.py's verification lines, for a failed check's message."""
    return ' | '.join(l for l in stderr.splitlines() if l.startswith('verify')) or 'no verify line'


def test_memif():
    """--mode memif verifies each program over net_memif too: testpmd replays
    the pcap once into it, and every plaintext must come out once."""
    r = bench('--mode', 'memif', '--rounds', '0')
    sys.stderr.write(r.stderr)
    check(r.returncode == 0, '--mode memif: a clean verification exits 0 (got %d; %s)'
          % (r.returncode, verify_lines(r.stderr)))
    for p in ('rxsec', 'testpmd'):
        check(re.search(r'^verify %s\s+64\s+1 SA over memif: ok$' % p, r.stderr, re.M)
              is not None, '--mode memif: %s verified over memif' % p)


def test_memif_wrong_plaintext_fails():
    """Run after test_wrong_plaintext_fails: the same wrong byte is named
    over memif."""
    r = bench('--mode', 'memif', '--rounds', '0', programs='rxsec')
    check(r.returncode == 1 and re.search(
        r'^verify rxsec\s+64\s+1 SA over memif: packet 17: delivered IP packet differs',
        r.stderr, re.M) is not None,
        '--mode memif: a wrong delivery over memif is named, exit 1 (got %d; %s)'
        % (r.returncode, verify_lines(r.stderr)))


def corrupt_plaintext(idx, path=None):
    """Flip the last byte of frame idx of the expected plaintext."""
    path = path or os.path.join(traffic, 'plain-64-1.pcap')
    data = bytearray(open(path, 'rb').read())
    off = 24
    for _ in range(idx):
        off += 16 + int.from_bytes(data[off + 8:off + 12], 'little')
    caplen = int.from_bytes(data[off + 8:off + 12], 'little')
    data[off + 16 + caplen - 1] ^= 0xff
    open(path, 'wb').write(bytes(data))


def test_wrong_plaintext_fails():
    corrupt_plaintext(17)
    r = bench(programs='rxsec')
    check(r.returncode == 1, 'a wrong delivery exits 1 (got %d)' % r.returncode)
    check('packet 17: delivered IP packet differs from plaintext' in r.stderr,
          'the packet is named')
    check('verification failed' in r.stderr, 'the run says verification failed')


def test_bad_options():
    """Each wrong option is named, exit 2, before anything runs."""
    cases = [
        (['--sizes', '63'], "argument --sizes: one or more of 64,512,1400,imix"),
        (['--sas', 'x'], "argument --sas: one or more of 1,1024"),
        (['--programs', 'rxsec,secgw'], "argument --programs: one or more of"),
        (['--rounds', '-1'], "argument --rounds: '-1' is not a number >= 0"),
        (['--duration', '0'], "argument --duration: '0' is not a number > 0"),
        (['--cpu', '4096'], "--cpu 4096: not one of this process's CPUs"),
        (['--max-loss', '1'], "--max-loss must be a share from 0 up to 1"),
        (['--mode', 'lcores'], "--mode lcores: the traffic is split over two queues by SPI, "
         "so it needs --sas 1024"),
        (['--sizes', '512'], "no traffic for 512 bytes, 1 SA(s): %s/esp-512-1.pcap is missing"
         % traffic),
    ]
    for extra, want in cases:
        r = bench(*extra)
        check(r.returncode == 2 and want in r.stderr and 'Traceback' not in r.stderr,
              '%s: exit 2 and "%s" (exit %d: %s)' % (' '.join(extra), want, r.returncode,
                                                     (r.stderr.strip().splitlines()
                                                      or [''])[-1]))


def test_wrong_key_fails():
    keys = os.path.join(work, 'bad-keys.txt')
    with open(os.path.join(traffic, 'keys-1.txt')) as f:
        spi, key = f.read().split()
    with open(keys, 'w') as f:
        f.write('%s %s\n' % (spi, ('%02x' % (int(key[:2], 16) ^ 1)) + key[2:]))
    r = subprocess.run([crypto_bench, '--pcap', os.path.join(traffic, 'esp-64-1.pcap'),
                        '--keys', keys, '--seconds', '0.1'],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and 'cycles_per_pkt' not in r.stdout,
          'rxsec-crypto-bench refuses a wrong key (exit %d: %s)'
          % (r.returncode, r.stderr.strip()))


def test_crypto_bench_bad_input():
    """rxsec-crypto-bench names a wrong option or key line, and measures nothing."""
    pcap = os.path.join(traffic, 'esp-64-1.pcap')
    keys = os.path.join(traffic, 'keys-1.txt')
    bad_keys = os.path.join(work, 'keys-bad.txt')
    with open(keys) as f:
        good = f.read()
    cases = [
        (['--pcap', pcap], '--pcap and --keys are both needed', None),
        (['--api', 'fast'], '--api fast: want burst, direct or vaes', None),
        (['--seconds', '1x'], '--seconds 1x: want a number', None),
        (['--burst', '0'], '--burst 0: want a number from 1 to 256', None),
        (['--burst', '2.5'], '--burst 2.5: want a whole number', None),
        ([], 'keys-bad.txt:2: the SPI is not a 32-bit number', good + 'x12 00\n'),
        ([], 'keys-bad.txt:1: KEYHEX is not 20 bytes in hex', '0x1000 0011\n'),
        ([], 'keys-bad.txt:1: want "SPI KEYHEX"', '0x1000\n'),
        ([], 'keys-bad.txt: no keys', ''),
    ]
    for extra, want, key_text in cases:
        argv = [crypto_bench, '--seconds', '0.1'] + extra
        if key_text is not None:
            with open(bad_keys, 'w') as f:
                f.write(key_text)
            argv += ['--pcap', pcap, '--keys', bad_keys]
        elif '--pcap' not in extra:
            argv += ['--pcap', pcap, '--keys', keys]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        check(r.returncode != 0 and want in r.stderr and 'cycles_per_pkt' not in r.stdout,
              'rxsec-crypto-bench %s: "%s" (exit %d: %s)'
              % (' '.join(extra) or 'keys', want, r.returncode,
                 (r.stderr.strip().splitlines() or [''])[0]))


def main():
    try:
        test_floor_per_round()
        generate()
        test_bad_options()
        test_measures()
        test_wrong_key_fails()
        test_crypto_bench_bad_input()
        test_memif()
        test_wrong_plaintext_fails()
        test_memif_wrong_plaintext_fails()
        test_lcores()
    finally:
        if not failures:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        print('%d check(s) failed; logs kept in %s' % (len(failures), work))
        return 1
    print('all checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
