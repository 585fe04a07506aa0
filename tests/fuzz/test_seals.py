#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The pipeline fuzz target's own sealing is right: its seeds that seal a
plaintext with each sealable SA (AES-GCM, AES-CCM, ChaCha20-Poly1305,
AES-CBC with HMAC-SHA-256 and with AES-CMAC, AH with HMAC-SHA-256; tunnel
and transport, ESN, VLAN, nested, fragmented) must come out of rxsec
delivered, and byte-checked by
the target, every frame of them; SA 6's UDP ones stop at its TCP-only
selector. Without this a sealing bug would leave the fuzzer testing only
ICV failures, and nothing would say so.

    test_seals.py FUZZ_PIPELINE_BINARY
"""
import os
import re
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
LINE = re.compile(r'^set-up (\d+), (\d+) frames: (.*) \(nested_handed \d+\)$', re.M)


def expected(name):
    """Reason -> count for the frames of a seed, or None if not checked."""
    m = re.fullmatch(r'(seal|frag)-(\d)(-vlan-seq|-tcp)?|nested-(0|3|both)', name)
    if m is None:
        return None
    if name.startswith('nested'):
        return {'ok': {'nested-0': 2, 'nested-3': 1, 'nested-both': 4}[name]}
    kind, sa, variant = m.group(1), int(m.group(2)), m.group(3) or ''
    verdict = 'selector_mismatch' if sa == 6 and variant != '-tcp' else 'ok'
    if kind == 'frag':
        return {verdict: 1, 'reassembly': 1}
    return {verdict: 1 if variant == '-vlan-seq' else {'-tcp': 2}.get(variant, 3)}


def main():
    binary = sys.argv[1]
    failed = checked = 0
    with tempfile.TemporaryDirectory(prefix='rxsec-seals-') as d:
        subprocess.run(['/usr/bin/python3', os.path.join(here, 'seeds.py'), 'pipeline', d],
                       check=True, stdout=subprocess.DEVNULL)
        for name in sorted(os.listdir(d)):
            want = expected(name)
            if want is None:
                continue
            checked += 1
            p = subprocess.run([binary, os.path.join(d, name)], capture_output=True, text=True,
                               env=dict(os.environ, RXSEC_FUZZ_VERBOSE='1'), timeout=120)
            m = LINE.search(p.stdout + p.stderr)
            got = {}
            if m:
                words = m.group(3).split()
                got = {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)}
            if p.returncode != 0 or got != want:
                failed += 1
                print('FAIL %-18s exit %d, got %s, want %s' % (name, p.returncode, got, want))
                print('     ' + '\n     '.join((p.stdout + p.stderr).splitlines()[-4:]))
            else:
                print('ok   %-18s %s' % (name, m.group(3)))
    if checked < 28:
        print('FAIL only %d seeds matched, expected 28 (seeds.py changed?)' % checked)
        failed += 1
    print('%d seeds, %d failed' % (checked, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
