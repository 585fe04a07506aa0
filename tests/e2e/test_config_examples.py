#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Every SA file under config/ loads: rxsec starts with it (on a net_null
port that receives nothing), reports the SA count the file holds, exits 0."""
import glob
import os
import re
import subprocess
import sys

rxsec = os.environ.get('RXSEC', 'build/app/rxsec')
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
files = sorted(glob.glob(os.path.join(root, 'config', '**', '*.conf'), recursive=True))
failed = 0
for i, f in enumerate(files):
    text = open(f).read()
    want = len(re.findall(r'^(?:ip xfrm state add )?src \S+ dst \S+', text, re.M))
    p = subprocess.run([rxsec, '--no-huge', '-m', '512', '--no-pci', '--file-prefix',
                        'cfgex%d_%d' % (os.getpid(), i), '-l', '0', '--log-level=warning',
                        '--vdev', 'net_null0,no-rx=1', '--', '--sa', f, '--idle-exit', '50'],
                       capture_output=True, text=True, timeout=60)
    ok = p.returncode == 0 and ('rxsec: %d SAs loaded' % want) in p.stdout and \
        'mbufs: all' in p.stdout
    failed += not ok
    print('%s %s (%d SAs)' % ('ok  ' if ok else 'FAIL', os.path.relpath(f, root), want))
    if not ok:
        print(p.stdout[-2000:], p.stderr[-2000:])
print('%d passed, %d failed' % (len(files) - failed, failed))
sys.exit(1 if failed or not files else 0)
