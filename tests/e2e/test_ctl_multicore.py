# SPDX-License-Identifier: BSD-3-Clause
"""Many cores (issue 4 item 5): --workers 2 --transports 2 on a two-queue
net_pcap port (one RX queue per rx_pcap, one TX queue per tx_pcap), with
-l 0-1 and with everything on -l 0. Each SA's packets arrive on one queue
(as RSS by outer addresses would do); every packet of an SA goes to the
same transport stage, so each SA's delivered frames appear in exactly one
output, complete and in sequence order. Counters add up; mbufs come home.
"""
import os

from issue4_lib import (Sa, workdir, check, finish, report_counts, write_pcap, read_pcap,
                        parse_tag, eal)
import subprocess

SAS = [Sa(0xd000 + i, window=64, reqid=20 + i, src='192.0.2.%d' % (30 + i)) for i in range(4)]
N = 150


def case(lcores):
    wd = workdir('mc')
    queues = [[], []]
    for k in range(N):
        for i, sa in enumerate(SAS):
            queues[i % 2].append(sa.esp(k + 1))
    for q in range(2):
        write_pcap(os.path.join(wd, 'q%d.pcap' % q), queues[q])
    with open(os.path.join(wd, 'sa.conf'), 'w') as f:
        f.write(''.join(s.xfrm() for s in SAS))
    vdev = 'net_pcap0,' + ','.join('rx_pcap=%s' % os.path.join(wd, 'q%d.pcap' % q)
                                   for q in range(2)) + ',' + \
        ','.join('tx_pcap=%s' % os.path.join(wd, 'out%d.pcap' % q) for q in range(2))
    cmd = eal('i4m%d%s' % (os.getpid(), lcores.replace('-', '')), lcores, vdev) + \
        ['--sa', os.path.join(wd, 'sa.conf'), '--workers', '2', '--transports', '2',
         '--idle-exit', '500']
    p = subprocess.run(cmd, cwd=wd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode(errors='replace')
    with open(os.path.join(wd, 'run.log'), 'w') as f:
        f.write(out)
    name = '--workers 2 --transports 2 -l %s' % lcores
    check(p.returncode == 0 and 'mbufs: all' in out, '%s: exit 0, mbufs home (%s)' % (name, wd))
    check('2 worker(s), 2 transport(s)' in out, '%s: two workers and two transports' % name)
    reasons, (trx, tdel), erx = report_counts(out)
    check(erx == trx == 4 * N and tdel == 4 * N,
          '%s: all %d packets received and delivered (%s/%s/%s)' % (name, 4 * N, erx, trx, tdel))
    per_out = [[parse_tag(f) for f in read_pcap(os.path.join(wd, 'out%d.pcap' % q))]
               for q in range(2)]
    for sa in SAS:
        where = [q for q in range(2) if any(t[0] == sa.tag for t in per_out[q])]
        seqs = [t[1] for q in where for t in per_out[q] if t[0] == sa.tag]
        check(len(where) == 1 and seqs == list(range(1, N + 1)),
              '%s: SA 0x%x on one transport, all %d in order' % (name, sa.spi, N))


case('0-1')
case('0')
finish()
