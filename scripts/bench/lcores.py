# SPDX-License-Identifier: BSD-3-Clause
"""Two-lcore mode of the benchmark (bench.py --mode lcores).

Each program polls on CPUs 0 and 1 and receives from a net_pcap port of two
RX queues: the case's pcap split in two by a CRC32 of each packet's SPI, as
RSS hashing the SPI would split it (so one SA stays on one queue; cases of
one SA are left out, they would fill one queue only). Delivered packets go
to net_null. Programs:
  testpmd     io forwarding, two forwarding lcores, two queues: the I/O floor
  rxsec-1l    rxsec on one lcore and one queue (the unsplit pcap), as in
              loop mode: what the second lcore adds
  rxsec       --workers 2 --transports 2: an engine and a transport stage on
              each lcore, each SA owned by the stage of the lcore receiving it
  rxsec-slot  the same with --sa-placement slot: SAs' stages by slot, so
              half the packets cross between the lcores
  secgw-la    ipsec-secgw, --config (0,0,0),(0,1,1), lookaside aesni_gcm
  secgw-cpu   the same with cpu-crypto SAs
Before measuring, each two-lcore program decrypts the finite split pcaps
into a pcap per TX queue, and every inner packet must come out once, byte
for byte.
"""

import os
import zlib

import bench as B

QUEUES = 2
LCORES = "0-1"


def split_pcaps(traffic, case):
    """esp-SIZE-N-q0/q1.pcap beside the case's pcap (made once); their paths."""
    src = os.path.join(traffic, "esp-%s-%d.pcap" % case)
    outs = [os.path.join(traffic, "esp-%s-%d-q%d.pcap" % (case + (q,)))
            for q in range(QUEUES)]
    if all(os.path.exists(o) and os.path.getmtime(o) >= os.path.getmtime(src) for o in outs):
        return outs
    per = [[] for _ in range(QUEUES)]
    for i, fr in enumerate(B.read_pcap(src)):
        # Ethernet, IPv4 without options, ESP: the SPI at 34
        if len(fr) < 38 or fr[12:14] != b"\x08\x00" or fr[14] != 0x45 or fr[23] != 50:
            raise B.PcapError("%s: packet %d is not IPv4 ESP without options" % (src, i))
        per[zlib.crc32(fr[34:38]) % QUEUES].append(fr)
    if not all(per):
        raise B.PcapError("%s: its SPIs hash to one queue only" % src)
    for path, frames in zip(outs, per):
        B.write_pcap(path, frames)
    return outs


def rx_ports(queues, loop):
    return ["--vdev", "net_pcap0,%s%s" % (",".join("rx_pcap=%s" % q for q in queues),
                                          ",infinite_rx=1" if loop else "")]


def ports_loop(queues):
    return rx_ports(queues, True) + ["--vdev", "net_null0,no-rx=1"]


def ports_verify(queues, outs):
    return rx_ports(queues, False) + [
        "--vdev", "net_pcap1,%s" % ",".join("tx_pcap=%s" % o for o in outs)]


def command(b, prog, case, ports, prefix):
    """argv of prog on two lcores (rxsec-1l: on one, as in loop mode)."""
    a, nsa = b.a, case[1]
    if prog == "rxsec-1l":
        return b.command("rxsec", case, b.ports_loop(case), prefix)
    if prog == "testpmd":
        # the main lcore only waits: it shares CPU 0 with a forwarding one
        return ([a.testpmd] + B.EAL_COMMON
                + ["--file-prefix", prefix, "--lcores", "0@0,1@0,2@1"] + ports
                + ["--", "--forward-mode=io", "--nb-cores=2", "--rxq=2", "--txq=2",
                   "--total-num-mbufs=32768", "--no-flush-rx", "--stats-period", "3600"])
    if prog in ("rxsec", "rxsec-slot"):
        return ([a.rxsec] + b.eal(prefix, LCORES) + ports
                + ["--", "--sa", os.path.join(b.tr, "sa-%d.xfrm" % nsa),
                   "--workers", "2", "--transports", "2"]
                + (["--sa-placement", "slot"] if prog == "rxsec-slot" else [])
                + a.rxsec_arg)
    mode = {"secgw-la": "lookaside", "secgw-cpu": "cpu"}[prog]
    return ([a.secgw] + b.eal(prefix, LCORES) + ports
            + ["--vdev", "crypto_aesni_gcm0", "--",
               "-p", "0x3", "-u", "0x1", "-l", "-w", "0", "--config=(0,0,0),(0,1,1)",
               "-f", os.path.join(b.tr, "secgw-%d-%s.cfg" % (nsa, mode))])


def programs(progs):
    """The programs of this mode for bench.py's --programs, in run order."""
    out = []
    for p in progs:
        out += ["rxsec-1l", "rxsec", "rxsec-slot"] if p == "rxsec" else [p]
    return out


def verify(b, prog, case, queues):
    """None if prog on two lcores delivers every packet once, byte for byte."""
    outs = [os.path.join(b.a.logs, "verify2-%s-%s-%d-q%d.pcap" % (prog, case[0], case[1], q))
            for q in range(QUEUES)]
    for o in outs:
        if os.path.exists(o):
            os.unlink(o)
    prefix = b.prefix(prog)
    argv = command(b, prog, case, ports_verify(queues, outs), prefix)
    err = b.run_finite(argv, prefix, "verify2-%s-%d-%s" % (case[0], case[1], prog),
                       len(B.read_pcap(b.pcap(case))))
    if err is None:
        err = B.check_delivery(prog, b.pcap(case),
                               os.path.join(b.tr, "plain-%s-%d.pcap" % case), outs)
    return err


def run(b, args, progs, cases):
    """Verify, then --rounds rounds alternating the programs; (runs, failed)."""
    cases = [c for c in cases if c[1] > 1]
    progs = programs(progs)
    queues = {c: split_pcaps(b.tr, c) for c in cases}
    failed = False
    if not args.no_verify:
        for case in cases:
            for p in progs:
                if p == "rxsec-1l":
                    continue    # loop mode's verification: one lcore
                err = verify(b, p, case, queues[case])
                B.log("verify %-10s %-5s %4d SA, 2 lcores: %s"
                      % (p, case[0], case[1], err or "ok"))
                failed |= err is not None
    runs = []
    for rnd in range(args.rounds):
        order = progs[rnd % len(progs):] + progs[:rnd % len(progs)]
        for case in cases:
            for p in order:
                r = b.measure(p, case, ports_loop(queues[case]), "lcores",
                              command=lambda *x: command(b, *x))
                r["round"] = rnd
                runs.append(r)
                B.log("lcores round %d %-5s %4d SA %-10s %s" % (
                    rnd, case[0], case[1], p,
                    r.get("error") or "%.3f Mpps (rx %.3f)" % (r["mpps"], r["rx_mpps"])))
    return cases, progs, runs, failed


def summarize(runs, cases, progs, title):
    """Mpps medians and, per round, rxsec's ratios to the others."""
    others = [p for p in ("rxsec-1l", "rxsec-slot", "secgw-la", "secgw-cpu") if p in progs]
    header = ["inner size", "SAs"] + ["%s Mpps" % p for p in progs]
    if "rxsec" in progs:
        header += ["rxsec/%s" % p for p in others]
    rows = []
    for case in cases:
        by = {p: [r for r in runs if (r["size"], r["sas"]) == case and r["prog"] == p]
              for p in progs}
        rounds = max((len(v) for v in by.values()), default=0)
        row = [case[0], str(case[1])]
        row += [B.fmt(B.med([r.get("mpps") for r in by[p]])) for p in progs]
        if "rxsec" in progs:
            rx = [B.round_rate(by, "rxsec", i) for i in range(rounds)]
            for p in others:
                other = [B.round_rate(by, p, i) for i in range(rounds)]
                row.append(B.fmt(B.med([x / y for x, y in zip(rx, other) if x and y])))
        rows.append(row)
    return B.table_text(title, header, rows)
