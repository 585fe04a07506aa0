#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Side-by-side receive benchmark: rxsec vs DPDK ipsec-secgw (driven by scripts/bench.sh).

Loop mode (part 1): each program receives the benchmark pcap from net_pcap
(infinite_rx=1) on port 0 and sends what it delivers to net_null (no-rx=1) on
port 1, with its one polling lcore on the same CPU.  Rates come from the
ethdev port counters read through each process's DPDK telemetry socket
(/ethdev/stats), twice in steady state: delivered Mpps = delta of port 1
opackets / delta t, so start-up (SA tables, pcap loading) is not measured and
no program has to print anything.  Programs:
  testpmd     dpdk-testpmd io forwarding of the same frames: the I/O floor
  rxsec       build/app/rxsec
  secgw-la    ipsec-secgw library path (-l), lookaside crypto_aesni_gcm vdev
  secgw-cpu   ipsec-secgw library path, SAs with `type cpu-crypto`
Every round runs every case with every program, one after the other, so slow
drift of the shared machine hits all programs alike; ratios are taken per
round and the medians reported.

Before measuring, a verification run per program and case feeds the finite
pcap (no loop) and captures port 1 into a pcap: every packet must come out
once and each delivered IP packet must equal the inner packet scapy
encrypted (plain-*.pcap).

Memif mode (part 2): dpdk-testpmd in a second process replays the pcap
(io forwarding, net_pcap -> net_memif server) and the program under test
receives from the net_memif client as its port 0.

Lcores mode: every program on two lcores and two RX queues (lcores.py).
"""

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time

EAL_COMMON = ["--no-huge", "-m", "512", "--no-pci"]
# memif rings of 2^13 slots for verification: a whole pcap (4096 frames at
# most) fits, so a receiver slower than testpmd's pcap read drops nothing.
# Measurements keep memif's default (2^10).
MEMIF_VERIFY_RSIZE = 13
PROGRAMS = ("testpmd", "rxsec", "secgw-la", "secgw-cpu")
SIZES = ("64", "512", "1400", "imix")
SA_COUNTS = (1, 1024)
# Issue 5 targets, medians of per-round ratios rxsec/secgw
TARGETS = {
    ("64", 1): {"secgw-la": 1.8, "secgw-cpu": 1.3},
    ("64", 1024): {"secgw-la": 2.0, "secgw-cpu": 1.3},
    ("imix", 1): {"secgw-la": 1.5, "secgw-cpu": 1.5},
    ("imix", 1024): {"secgw-la": 1.5, "secgw-cpu": 1.5},
    ("1400", 1): {"secgw-la": 1.1, "secgw-cpu": 1.1},
    ("1400", 1024): {"secgw-la": 1.1, "secgw-cpu": 1.1},
}
CYCLES_TARGET = 1.2
# Rounds of one program and case further apart than this are reported as
# unsteady (memif mode on a 2-vCPU machine: 1.2 to 8 Mpps for testpmd alone).
SPREAD_LIMIT = 1.5
RUNDIR = "/var/run/dpdk"
STAGES = ("rx", "classify", "sa_lookup", "crypto", "checks", "enqueue", "transport", "tx",
          "total")
STAGE_LINE = re.compile(r"^cycles per packet: (.*?) \(TSC", re.M)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- telemetry

class Telemetry:
    """Client of one DPDK process's telemetry socket (v2 protocol)."""

    def __init__(self, prefix, proc, timeout=60.0):
        path = os.path.join(RUNDIR, prefix, "dpdk_telemetry.v2")
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError("exited with %d before telemetry was up"
                                   % proc.returncode)
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise RuntimeError("no telemetry socket %s" % path)
                time.sleep(0.05)
        info = json.loads(self.sock.recv(1 << 16))
        self.max_len = info.get("max_output_len", 16384)

    def query(self, cmd):
        self.sock.send(cmd.encode())
        raw = self.sock.recv(self.max_len)
        # An empty read or a null answer: the program is going away.
        val = json.loads(raw).get(cmd.split(",")[0]) if raw else None
        if val is None:
            raise RuntimeError("no answer to %s: the program stopped" % cmd)
        return val

    def ports(self):
        """{port: (monotonic time in the middle of its read, stats)}.

        Each port gets its own time: when the telemetry thread shares a busy
        CPU (memif mode) the two reads can be milliseconds apart."""
        res = {}
        for p in (0, 1):
            t0 = time.monotonic()
            st = self.query("/ethdev/stats,%d" % p)
            res[p] = ((t0 + time.monotonic()) / 2, st)
        return res

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------- commands

class Bench:
    def __init__(self, args):
        self.a = args
        self.tr = args.traffic
        self.seq = 0
        self.prefixes = []
        self.live = []      # started and not yet stopped

    def prefix(self, name):
        self.seq += 1
        p = "rxb%d-%s-%d" % (os.getpid(), name, self.seq)
        self.prefixes.append(p)
        return p

    def stop_all(self):
        """Whatever an exception or ^C left running: a poller would hold its
        CPU and skew every later measurement on the machine."""
        for proc in list(self.live):
            self.stop(proc, timeout=5.0)

    def remove_runtime_dirs(self):
        """EAL leaves /var/run/dpdk/PREFIX (~6 MB each) behind; rxsec removes
        its own, testpmd and secgw do not."""
        for p in self.prefixes:
            shutil.rmtree(os.path.join("/var/run/dpdk", p), ignore_errors=True)

    def eal(self, prefix, lcores):
        return EAL_COMMON + ["--file-prefix", prefix, "-l", lcores]

    def ports_loop(self, case):
        return ["--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % self.pcap(case),
                "--vdev", "net_null0,no-rx=1"]

    def ports_verify(self, case, out):
        return ["--vdev", "net_pcap0,rx_pcap=%s" % self.pcap(case),
                "--vdev", "net_pcap1,tx_pcap=%s" % out]

    def ports_memif(self, sock, out=None):
        """The memif client; delivery to net_null, or (verification) to the
        pcap `out`."""
        if out is None:
            return ["--vdev", "net_memif0,role=client,id=0,socket=%s" % sock,
                    "--vdev", "net_null0,no-rx=1"]
        return ["--vdev", "net_memif0,role=client,id=0,socket=%s,rsize=%d"
                % (sock, MEMIF_VERIFY_RSIZE), "--vdev", "net_pcap1,tx_pcap=%s" % out]

    def memif_generator(self, case, sock, gen_prefix, finite=False):
        """testpmd reading the case's pcap (looped, or once) into a memif
        server on the other CPU."""
        return ([self.a.testpmd] + EAL_COMMON
                + ["--file-prefix", gen_prefix, "--lcores",
                   "0@%d,1@%d" % (1 - self.a.cpu, 1 - self.a.cpu),
                   "--vdev", "net_pcap0,rx_pcap=%s%s"
                   % (self.pcap(case), "" if finite else ",infinite_rx=1"),
                   "--vdev", "net_memif0,role=server,id=0,socket=%s%s"
                   % (sock, ",rsize=%d" % MEMIF_VERIFY_RSIZE if finite else ""),
                   "--", "--forward-mode=io", "--nb-cores=1",
                   "--total-num-mbufs=16384", "--no-flush-rx",
                   "--stats-period", "3600"]
                # once: interactive, told to start when the client is there
                + (["-i"] if finite else []))

    def wait_memif_server(self, gtel):
        """Wait until the generator's memif server port is started. The
        client connects once, when it starts, and a server whose port exists
        but is not started yet answers its hello with "ID 0 not found" and
        hangs up: the link then never comes up (bench-gate saw it about
        once in ten runs while this waited only for the port to exist)."""
        def started():
            return (1 in gtel.query("/ethdev/list") and
                    gtel.query("/ethdev/info,1").get("dev_started") == 1)
        return self.wait_until(started, 30)

    def verify_memif(self, prog, case):
        """The case's pcap once through testpmd and net_memif into prog, port
        1 to a pcap: every inner packet delivered once. testpmd is told to
        start forwarding once the memif link is up, however long prog takes
        to start, and the ring holds a whole pcap, so no frame is dropped
        for a receiver slower than testpmd."""
        out = os.path.join(self.a.logs, "verify-memif-%s-%s-%d.pcap" % (prog, *case))
        if os.path.exists(out):
            os.unlink(out)
        sock = "/tmp/rxb%d-memif-v%d.sock" % (os.getpid(), self.seq)
        gen_prefix = self.prefix("gen")
        gen = self.start(memif_debug(self.memif_generator(case, sock, gen_prefix, finite=True)),
                         "verify-memif-%s-%d-%s-gen" % (case[0], case[1], prog),
                         stdin=subprocess.PIPE)
        gtel = None
        try:
            gtel = Telemetry(gen_prefix, gen)
            if not self.wait_memif_server(gtel):
                return "testpmd started no memif port within 30 s"

            def start_when_linked():
                if not self.wait_until(lambda: gtel.query("/ethdev/link_status,1")
                                       .get("status") == "UP", 60):
                    raise RuntimeError("the memif link did not come up within 60 s")
                gen.stdin.write(b"start\n")
                gen.stdin.flush()
            prefix = self.prefix(prog)
            argv = memif_debug(self.command(prog, case, self.ports_memif(sock, out), prefix))
            err = self.run_finite(argv, prefix, "verify-memif-%s-%d-%s" % (case[0], case[1], prog),
                                  len(read_pcap(self.pcap(case))), on_start=start_when_linked)
        except RuntimeError as e:
            err = "generator: %s" % e
        finally:
            if gtel is not None:
                gtel.close()
            gen.stdin.close()	# end of input: interactive testpmd quits
            self.stop(gen)	# its exit status is the source's, not prog's
        if err is None:
            err = check_delivery(prog, self.pcap(case),
                                 os.path.join(self.tr, "plain-%s-%d.pcap" % case), out)
        return err

    def pcap(self, case):
        return os.path.join(self.tr, "esp-%s-%d.pcap" % case)

    def command(self, prog, case, ports, prefix):
        """argv of prog with port vdevs `ports`; worker on --cpu."""
        size, nsa = case
        cpu = str(self.a.cpu)
        if prog == "testpmd":
            other = str(1 - self.a.cpu)
            return ([self.a.testpmd] + EAL_COMMON
                    + ["--file-prefix", prefix, "--lcores",
                       "0@%s,1@%s" % (other, cpu)] + ports
                    + ["--", "--forward-mode=io", "--nb-cores=1",
                       "--total-num-mbufs=16384", "--no-flush-rx",
                       "--stats-period", "3600"])
        if prog == "rxsec":
            return ([self.a.rxsec] + self.eal(prefix, cpu) + ports
                    + ["--", "--sa", os.path.join(self.tr, "sa-%d.xfrm" % nsa)]
                    + self.a.rxsec_arg)
        mode = {"secgw-la": "lookaside", "secgw-cpu": "cpu"}[prog]
        return ([self.a.secgw] + self.eal(prefix, cpu) + ports
                + ["--vdev", "crypto_aesni_gcm0", "--",
                   "-p", "0x3", "-u", "0x1", "-l", "-w", "0",
                   "--config=(0,0,%s)" % cpu,
                   "-f", os.path.join(self.tr, "secgw-%d-%s.cfg" % (nsa, mode))])

    # ------------------------------------------------------------ processes

    def start(self, argv, logname, stdin=subprocess.DEVNULL):
        logf = open(os.path.join(self.a.logs, logname + ".log"), "w")
        logf.write(" ".join(argv) + "\n")
        logf.flush()
        proc = subprocess.Popen(argv, stdin=stdin, stdout=logf, stderr=subprocess.STDOUT)
        self.live.append(proc)
        return proc

    def stop(self, proc, timeout=20.0):
        if proc in self.live:
            self.live.remove(proc)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return "killed"

    def wait_flow(self, tel, proc, port, key, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("exited with %d" % proc.returncode)
            if tel.query("/ethdev/stats,%d" % port)[key] > 0:
                return
            time.sleep(0.05)
        raise RuntimeError("nothing on port %d within %.0f s" % (port, timeout))

    def measure(self, prog, case, ports, tag, peer=None, command=None):
        """Steady-state rate of one program run; dict of results. command
        builds the argv from (prog, case, ports, prefix): self.command's
        one lcore unless told otherwise."""
        prefix = self.prefix(prog)
        argv = (command or self.command)(prog, case, ports, prefix)
        proc = self.start(argv, "%s-%s-%d-%s" % (tag, case[0], case[1], prog))
        res = {"prog": prog, "size": case[0], "sas": case[1]}
        tel = None
        try:
            tel = Telemetry(prefix, proc)
            self.wait_flow(tel, proc, 1, "opackets")
            time.sleep(self.a.warmup)
            pa = peer.ports() if peer else None
            a = tel.ports()
            time.sleep(self.a.duration)
            b = tel.ports()
            if peer:
                # the generator: frames read (port 0) and handed to memif
                # (port 1); equal rates mean the receiver kept up with it
                pb = peer.ports()
                res["gen_rx_mpps"] = ((pb[0][1]["ipackets"] - pa[0][1]["ipackets"])
                                      / (pb[0][0] - pa[0][0]) / 1e6)
                res["gen_tx_mpps"] = ((pb[1][1]["opackets"] - pa[1][1]["opackets"])
                                      / (pb[1][0] - pa[1][0]) / 1e6)
            dt0, dt1 = b[0][0] - a[0][0], b[1][0] - a[1][0]
            a, b = {p: v[1] for p, v in a.items()}, {p: v[1] for p, v in b.items()}
            rx = b[0]["ipackets"] - a[0]["ipackets"]
            tx = b[1]["opackets"] - a[1]["opackets"]
            res.update(mpps=tx / dt1 / 1e6, rx_mpps=rx / dt0 / 1e6,
                       seconds=dt1, delivered=tx, received=rx,
                       tx_errors=b[1]["oerrors"] - a[1]["oerrors"],
                       rx_missed=b[0]["imissed"] - a[0]["imissed"])
            # a program that drops (bad ICV, no SA, ...) is not measured
            if rx == 0 or 1 - res["mpps"] / res["rx_mpps"] > self.a.max_loss:
                res["error"] = "delivered %.3f Mpps of %.3f Mpps received" % (
                    res["mpps"], res["rx_mpps"])
        except (RuntimeError, OSError, KeyError, ValueError) as e:
            res["error"] = str(e)
        finally:
            if tel is not None:
                tel.close()
            rc = self.stop(proc)
            if rc != 0:
                res.setdefault("error", "exit status %s" % rc)
        return res

    def stage_cycles(self, case):
        """rxsec's cycles per packet by stage (--stage-cycles) in a run of
        its own, after the measured ones: {stage: cycles}, or an error."""
        prefix = self.prefix("rxsec")
        argv = self.command("rxsec", case, self.ports_loop(case), prefix) + ["--stage-cycles"]
        log_path = os.path.join(self.a.logs, "stages-%s-%d-rxsec.log" % case)
        proc = self.start(argv, "stages-%s-%d-rxsec" % case)
        tel = None
        try:
            # count from the first delivery on, not from exec: EAL start-up
            # alone can outlast the duration (ASan builds, slow machines)
            tel = Telemetry(prefix, proc)
            self.wait_flow(tel, proc, 1, "opackets")
            time.sleep(self.a.warmup + self.a.duration)
        except (RuntimeError, OSError) as e:
            self.stop(proc)
            return {"error": str(e)}
        finally:
            if tel is not None:
                tel.close()
        rc = self.stop(proc)
        with open(log_path) as f:
            m = STAGE_LINE.search(f.read())
        if rc != 0 or m is None:
            return {"error": "exit status %s%s" % (rc, "" if m else ", no cycles line")}
        words = m.group(1).split()
        return {k: float(v) for k, v in zip(words[0::2], words[1::2])}

    # ------------------------------------------------------------ verification

    def verify(self, prog, case):
        """Finite pcap in, port 1 to a pcap: every inner packet delivered once."""
        out = os.path.join(self.a.logs, "verify-%s-%s-%d.pcap" % (prog, *case))
        if os.path.exists(out):
            os.unlink(out)
        prefix = self.prefix(prog)
        argv = self.command(prog, case, self.ports_verify(case, out), prefix)
        err = self.run_finite(argv, prefix, "verify-%s-%d-%s" % (case[0], case[1], prog),
                              len(read_pcap(self.pcap(case))))
        if err is None:
            err = check_delivery(prog, self.pcap(case),
                                 os.path.join(self.tr, "plain-%s-%d.pcap" % case),
                                 out)
        return err

    @staticmethod
    def wait_until(cond, timeout):
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def run_finite(self, argv, prefix, logname, npkts, on_start=None):
        """Run argv until port 1 sent npkts frames or stopped sending; None,
        or what went wrong. on_start() runs once argv's telemetry is up."""
        proc = self.start(argv, logname)
        err = None
        try:
            tel = Telemetry(prefix, proc)
            if on_start is not None:
                on_start()
            deadline = time.monotonic() + 60
            last, still = -1, 0
            while time.monotonic() < deadline and proc.poll() is None:
                n = tel.query("/ethdev/stats,1")["opackets"]
                still = still + 1 if n == last else 0
                last = n
                if n >= npkts or (n > 0 and still >= 10):
                    break
                time.sleep(0.05)
            tel.close()
        except (RuntimeError, OSError) as e:
            err = str(e)
        rc = self.stop(proc)
        if err is None and rc != 0:
            err = "exit status %s" % rc
        return err


# ---------------------------------------------------------------- pcap checks

class PcapError(ValueError):
    pass


def read_pcap(path):
    """Frames of a classic pcap file (enough for what scapy and net_pcap write)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise PcapError("%s: %s" % (path, e.strerror)) from None
    magic = struct.unpack("<I", data[:4])[0] if len(data) >= 24 else None
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise PcapError("%s: not a pcap file" % path)
    off, frames = 24, []
    while off < len(data):
        if off + 16 > len(data):
            raise PcapError("%s: cut inside record %d" % (path, len(frames)))
        _, _, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        if off + 16 + caplen > len(data):
            raise PcapError("%s: cut inside record %d" % (path, len(frames)))
        frames.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return frames


def write_pcap(path, frames):
    """A classic little-endian Ethernet pcap of frames, timestamps zero."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
            f.write(fr)


def memif_debug(argv):
    """argv with memif's handshake logged, so that a verification whose
    memif link never comes up says why in both processes' logs."""
    return argv[:1] + ["--log-level=pmd.net.memif:debug"] + argv[1:]


def frames_diff(got, want):
    """How a forwarder's output differs from its input, for the log."""
    if sorted(got) == sorted(want):
        return "the same %d frames in another order" % len(got)
    i = next((k for k, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
    sent = set(want)
    extra = sum(g not in sent for g in got)
    return "%d frames for %d sent, first difference at frame %d, %d not sent at all" % (
        len(got), len(want), i, extra)


def check_delivery(prog, esp_pcap, plain_pcap, out_pcap):
    """None if out_pcap (or the list of pcaps of several TX queues) holds
    exactly the expected frames, else what is wrong."""
    outs = out_pcap if isinstance(out_pcap, list) else [out_pcap]
    got = []
    for out in outs:
        if not os.path.exists(out):
            return "no output pcap"
        try:
            got += read_pcap(out)
        except PcapError as e:
            return str(e)
    if prog == "testpmd":
        want = read_pcap(esp_pcap)
        # several queues interleave as they will; one keeps the order
        same = got == want if len(outs) == 1 else sorted(got) == sorted(want)
        return None if same else "io forwarding changed frames: " + frames_diff(got, want)
    plain = read_pcap(plain_pcap)
    if len(got) != len(plain):
        return "delivered %d of %d packets" % (len(got), len(plain))
    seen = set()
    for fr in got:
        if fr[12:14] != b"\x08\x00" or len(fr) < 14 + 28 + 4:
            return "delivered a frame that is not IPv4"
        idx = struct.unpack("!I", fr[14 + 28:14 + 32])[0]
        if idx >= len(plain) or idx in seen:
            return "unexpected or duplicate packet index %d" % idx
        if fr[14:] != plain[idx][14:]:
            return "packet %d: delivered IP packet differs from plaintext" % idx
        seen.add(idx)
    return None


# ---------------------------------------------------------------- crypto floor

def crypto_cycles(args, case):
    """IPsec-MB cycles/packet, the cheaper of its burst (job) and direct APIs."""
    best = None
    for api in ("burst", "direct"):
        argv = [args.crypto_bench, "--api", api, "--pcap",
                os.path.join(args.traffic, "esp-%s-%d.pcap" % case),
                "--keys", os.path.join(args.traffic, "keys-%d.txt" % case[1]),
                "--seconds", str(min(0.5, args.duration))]
        out = subprocess.run(argv, capture_output=True, text=True,
                             preexec_fn=lambda: os.sched_setaffinity(0, {args.cpu}))
        if out.returncode != 0:
            raise RuntimeError("rxsec-crypto-bench: " + out.stderr.strip())
        kv = dict(f.split("=", 1) for f in out.stdout.split())
        res = (float(kv["cycles_per_pkt"]), float(kv["tsc_hz"]))
        if best is None or res[0] < best[0]:
            best = res
    return best


# ---------------------------------------------------------------- report

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec="%.2f"):
    return "-" if x is None else spec % x


def table_text(title, header, rows):
    """A title, a blank line and a Markdown table with aligned columns."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = [title, ""]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        lines.append("| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |")
    return "\n".join(lines)


def round_rate(by, p, i):
    """Program p's Mpps in round i, None if it has none."""
    v = by[p]
    return v[i].get("mpps") if i < len(v) else None


def floor_ratios(by, cyc, rounds):
    """rxsec's cycles per packet over I/O + crypto cycles, one per round:
    like the secgw ratios, each from measurements of the same round, so a
    slow phase of the shared machine falls on both sides of one ratio.
    cyc[i] is round i's (cycles, tsc_hz) from IPsec-MB, None if it failed."""
    out = []
    for i in range(rounds):
        rx, io = round_rate(by, "rxsec", i), round_rate(by, "testpmd", i)
        c = cyc[i] if i < len(cyc) else None
        if rx and io and c:
            hz = c[1]
            out.append((hz / (rx * 1e6)) / (hz / (io * 1e6) + c[0]))
    return out


def summarize(runs, crypto, cases, progs, title):
    rows = []
    header = ["inner size", "SAs"] + ["%s Mpps" % p for p in progs]
    ratio_progs = [p for p in ("secgw-la", "secgw-cpu") if p in progs]
    if "rxsec" in progs:
        header += ["rxsec/%s" % p for p in ratio_progs]
        if crypto and "testpmd" in progs:
            header += ["rxsec cyc/pkt", "I/O+crypto cyc/pkt", "rxsec/floor"]
    header += ["targets"]
    verdicts = []
    for case in cases:
        by = {p: [r for r in runs if (r["size"], r["sas"]) == case
                  and r["prog"] == p] for p in progs}
        rounds = max((len(v) for v in by.values()), default=0)

        row = [case[0], str(case[1])]
        row += [fmt(med([r.get("mpps") for r in by[p]])) for p in progs]
        ratios = {}
        if "rxsec" in progs:
            rx = [round_rate(by, "rxsec", i) for i in range(rounds)]
            for p in ratio_progs:
                other = [round_rate(by, p, i) for i in range(rounds)]
                ratios[p] = med([x / y for x, y in zip(rx, other) if x and y])
                row.append(fmt(ratios[p]))
            if crypto and "testpmd" in progs:
                cyc = crypto.get(case, [])
                fr = floor_ratios(by, cyc, rounds)
                rx_m = med([r.get("mpps") for r in by["rxsec"]])
                io_m = med([r.get("mpps") for r in by["testpmd"]])
                if fr:  # some round had rxsec, testpmd and IPsec-MB figures
                    cyc = [c for c in cyc if c]
                    c, hz = med([c[0] for c in cyc]), med([c[1] for c in cyc])
                    rx_c = hz / (rx_m * 1e6)
                    floor = hz / (io_m * 1e6) + c
                    ratios["floor"] = med(fr)
                    row += ["%.0f" % rx_c, "%.0f = %.0f + %.0f" % (
                        floor, hz / (io_m * 1e6), c), "%.2f" % ratios["floor"]]
                else:
                    row += ["-", "-", "-"]
        tgt = []
        for p, t in TARGETS.get(case, {}).items():
            if p in ratios:
                ok = ratios[p] is not None and ratios[p] >= t
                tgt.append("%s>=%.1f %s" % (p.split("-")[1], t,
                                            "ok" if ok else "MISS"))
                verdicts.append(ok)
        if "floor" in ratios:
            ok = ratios["floor"] <= CYCLES_TARGET
            tgt.append("floor<=%.1f %s" % (CYCLES_TARGET, "ok" if ok else "MISS"))
            verdicts.append(ok)
        row.append(", ".join(tgt) or "-")
        rows.append(row)
    return table_text(title, header, rows), verdicts


def stage_table(stages, cases):
    """Where rxsec's cycles go, one row per case (rxsec --stage-cycles)."""
    header = ["inner size", "SAs"] + list(STAGES)
    rows = []
    for case in cases:
        st = stages.get(case, {})
        rows.append([case[0], str(case[1])] +
                    [st["error"] if "error" in st and k == "rx" else fmt(st.get(k), "%.1f")
                     for k in STAGES])
    return table_text("rxsec by stage: TSC cycles per packet (--stage-cycles, a run of "
                      "its own after the rounds; engine stages per packet received, "
                      "transport and tx per packet dequeued)", header, rows)


def unsteady(runs, cases, progs, limit=SPREAD_LIMIT):
    """Warnings for programs whose rounds of one case differ by more than
    `limit` times: their medians, and the ratios built on them, are noise."""
    out = []
    for case in cases:
        for p in progs:
            v = [r["mpps"] for r in runs if r["prog"] == p and "error" not in r
                 and (r["size"], r["sas"]) == case]
            if len(v) > 1 and min(v) > 0 and max(v) / min(v) > limit:
                out.append("unsteady: %s %s-%d ran at %.2f to %.2f Mpps across rounds"
                           % (p, case[0], case[1], min(v), max(v)))
    return out


# ---------------------------------------------------------------- main

def traffic_spis(traffic):
    """The SPI layout gen_traffic.py wrote (sequential if it did not say)."""
    try:
        with open(os.path.join(traffic, "manifest.json")) as f:
            return json.load(f).get("spi", "sequential")
    except (OSError, ValueError):
        return "sequential"


def listed(allowed):
    """An argparse type: a comma-separated subset of allowed, in its order given."""
    def parse(text):
        items = [t for t in text.split(",") if t]
        bad = [t for t in items if t not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                "one or more of %s, comma-separated, not '%s'"
                % (",".join(allowed), text))
        return items
    return parse


def at_least(low, kind, strict=False):
    """An argparse type: a number of kind above (strict) or from low."""
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            v = None
        if v is None or not math.isfinite(v) or v < low or (strict and v == low):
            raise argparse.ArgumentTypeError(
                "'%s' is not a number %s %s" % (text, ">" if strict else ">=", low))
        return v
    return parse


def check_setup(ap, args):
    """What argparse alone cannot check: the CPU and the shares."""
    cpus = os.sched_getaffinity(0)
    if args.cpu not in cpus:
        ap.error("--cpu %d: not one of this process's CPUs (%s)"
                 % (args.cpu, ",".join(map(str, sorted(cpus)))))
    if args.mode in ("memif", "both") and (args.cpu > 1 or (1 - args.cpu) not in cpus):
        ap.error("--mode %s: the generator polls on the other of CPUs 0 and 1, "
                 "so --cpu must be 0 or 1 and both usable" % args.mode)
    if args.mode == "lcores":
        if not {0, 1} <= cpus or args.cpu > 1:
            ap.error("--mode lcores: the programs poll on CPUs 0 and 1, so both must "
                     "be usable and --cpu (the one-lcore run's) one of them")
        if max(args.sas) < 2:
            ap.error("--mode lcores: the traffic is split over two queues by SPI, "
                     "so it needs --sas 1024")
    if not 0 <= args.max_loss < 1:
        ap.error("--max-loss must be a share from 0 up to 1, not %g" % args.max_loss)


def check_traffic(ap, args):
    """Every case asked for has its pcap (scripts/bench.sh writes them)."""
    for n in args.sas:
        for size in args.sizes:
            pcap = os.path.join(args.traffic, "esp-%s-%d.pcap" % (size, n))
            if not os.path.isfile(pcap):
                ap.error("no traffic for %s bytes, %d SA(s): %s is missing "
                         "(scripts/bench.sh generates it)" % (size, n, pcap))


def parse_args():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traffic", default=os.path.join(root, "build/bench/traffic"))
    ap.add_argument("--logs", default=os.path.join(root, "build/bench/logs"))
    ap.add_argument("--rxsec", default=os.path.join(root, "build/app/rxsec"))
    ap.add_argument("--rxsec-arg", action="append", default=[],
                    help="extra rxsec option after --, repeatable")
    ap.add_argument("--secgw", default=os.path.join(
        root, "build/bench/ipsec-secgw/build/ipsec-secgw"))
    ap.add_argument("--testpmd", default="dpdk-testpmd")
    ap.add_argument("--crypto-bench",
                    default=os.path.join(root, "build/app/rxsec-crypto-bench"))
    ap.add_argument("--programs", type=listed(PROGRAMS),
                    default=list(PROGRAMS))
    ap.add_argument("--sizes", type=listed(SIZES), default=list(SIZES))
    ap.add_argument("--sas", type=listed(tuple(map(str, SA_COUNTS))),
                    default=list(map(str, SA_COUNTS)))
    ap.add_argument("--rounds", type=at_least(0, int), default=3,
                    help="0: verification and the stage table only")
    ap.add_argument("--duration", type=at_least(0, float, strict=True), default=3.0,
                    help="seconds measured per run (after warm-up)")
    ap.add_argument("--warmup", type=at_least(0, float), default=0.5)
    ap.add_argument("--cpu", type=at_least(0, int), default=1,
                    help="CPU of every program's polling lcore")
    ap.add_argument("--mode", choices=("loop", "memif", "both", "lcores"), default="loop",
                    help="lcores: every program on two lcores and two queues")
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--max-loss", type=float, default=0.01,
                    help="largest share of received packets not delivered")
    ap.add_argument("--json", help="write all runs here")
    ap.add_argument("--check-args", action="store_true",
                    help="check the options (not the traffic) and exit")
    args = ap.parse_args()
    args.sas = [int(n) for n in args.sas]
    check_setup(ap, args)
    if args.check_args:
        sys.exit(0)
    check_traffic(ap, args)
    return args


def run_loop(b, args, progs, cases):
    crypto = {}
    runs = []
    for rnd in range(args.rounds):
        order = progs[rnd % len(progs):] + progs[:rnd % len(progs)]
        for case in cases:
            for p in order:
                r = b.measure(p, case, b.ports_loop(case), "loop")
                r["round"] = rnd
                runs.append(r)
                log("round %d %-5s %4d SA %-9s %s" % (
                    rnd, case[0], case[1], p,
                    r.get("error") or "%.3f Mpps (rx %.3f)" % (r["mpps"], r["rx_mpps"])))
            if os.access(args.crypto_bench, os.X_OK):
                try:
                    c = crypto_cycles(args, case)
                except RuntimeError as e:
                    log(str(e))
                    c = None  # keeps round i at index i
                crypto.setdefault(case, []).append(c)
    return runs, crypto


def run_memif(b, args, progs, cases):
    runs = []
    receivers = [p for p in progs]
    for rnd in range(args.rounds):
        for case in cases:
            for p in receivers:
                sock = "/tmp/rxb%d-memif-%d.sock" % (os.getpid(), b.seq)
                gen_prefix = b.prefix("gen")
                gen_argv = b.memif_generator(case, sock, gen_prefix)
                gen = b.start(gen_argv, "memif-%s-%d-%s-gen" % (case[0], case[1], p))
                gtel = None
                try:
                    gtel = Telemetry(gen_prefix, gen)
                    if not b.wait_memif_server(gtel):
                        raise RuntimeError("testpmd started no memif port within 30 s")
                    r = b.measure(p, case, b.ports_memif(sock), "memif", gtel)
                except RuntimeError as e:
                    r = {"prog": p, "size": case[0], "sas": case[1],
                         "error": "generator: %s" % e}
                finally:
                    if gtel is not None:
                        gtel.close()
                    # testpmd's memif server may crash once its client has
                    # gone (exit status ignored: it is only the source)
                    b.stop(gen)
                    if os.path.exists(sock):
                        os.unlink(sock)
                r["round"] = rnd
                runs.append(r)
                log("memif round %d %-5s %4d SA %-9s %s" % (
                    rnd, case[0], case[1], p,
                    r.get("error") or "%.3f Mpps (rx %.3f; generator read %.3f, sent %.3f%s)" % (
                        r["mpps"], r["rx_mpps"], r["gen_rx_mpps"], r["gen_tx_mpps"],
                        ": generator-bound" if r["gen_tx_mpps"] > 0.98 * r["gen_rx_mpps"] else "")))
    return runs


def run_all(b, args, progs, cases, spis):
    """Verify, measure and print the tables; the exit status."""
    failed = False

    if not args.no_verify and args.mode != "lcores":
        for p in progs:
            for case in cases:
                err = b.verify(p, case)
                log("verify %-9s %-5s %4d SA: %s" % (p, case[0], case[1], err or "ok"))
                if err:
                    failed = True
    if not args.no_verify and args.mode in ("memif", "both"):
        for p in progs:
            for case in cases:
                err = b.verify_memif(p, case)
                log("verify %-9s %-5s %4d SA over memif: %s" % (p, case[0], case[1],
                                                               err or "ok"))
                failed |= err is not None
    if failed:
        log("bench: verification failed; rates of failing programs are not reported")

    out = {"args": vars(args), "programs": progs, "spis": spis}
    verdicts = []
    if args.mode in ("loop", "both"):
        runs, crypto = run_loop(b, args, progs, cases)
        table, v = summarize(runs, crypto, cases, progs,
                             "Loop: net_pcap infinite_rx -> program (1 lcore) -> net_null; "
                             "Mpps delivered, medians of %d rounds x %.0f s, %s SPIs; "
                             "each ratio (the floor's too) the median of the rounds' own"
                             % (args.rounds, args.duration, spis))
        verdicts += v
        print(table)
        print()
        if "rxsec" in progs:
            stages = {case: b.stage_cycles(case) for case in cases}
            print(stage_table(stages, cases))
            print()
            out["stages"] = {"%s-%d" % k: v for k, v in stages.items()}
        for w in unsteady(runs, cases, progs):
            log(w)
        out["loop"] = runs
        out["crypto"] = {"%s-%d" % k: v for k, v in crypto.items()}
    if args.mode in ("memif", "both"):
        runs = run_memif(b, args, progs, cases)
        table, v = summarize(runs, {}, cases, progs,
                             "Memif: dpdk-testpmd replays the pcap over net_memif into "
                             "program (1 lcore) -> net_null; Mpps delivered, medians, "
                             "%s SPIs" % spis)
        print(table)
        print()
        for w in unsteady(runs, cases, progs):
            log(w)
        out["memif"] = runs
    if args.mode == "lcores":
        import lcores
        lc_cases, lc_progs, runs, bad = lcores.run(b, args, progs, cases)
        failed |= bad
        print(lcores.summarize(runs, lc_cases, lc_progs,
                               "Two lcores: net_pcap (2 RX queues, split by SPI, "
                               "infinite_rx) -> program on CPUs 0 and 1 -> net_null; Mpps "
                               "delivered, medians of %d rounds x %.0f s, %s SPIs; ratios "
                               "the medians of the rounds' own"
                               % (args.rounds, args.duration, spis)))
        print()
        for w in unsteady(runs, lc_cases, lc_progs):
            log(w)
        out["lcores"] = runs
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    errors = [r for k in ("loop", "memif", "lcores") for r in out.get(k, []) if "error" in r]
    for r in errors:
        log("run error: %s %s-%d: %s" % (r["prog"], r["size"], r["sas"], r["error"]))
    if verdicts:
        print("targets met: %d of %d" % (sum(verdicts), len(verdicts)))
    return 1 if failed or errors else 0


def main():
    args = parse_args()
    os.makedirs(args.logs, exist_ok=True)
    progs = list(args.programs)
    if "rxsec" in progs and not os.access(args.rxsec, os.X_OK):
        log("bench: %s not built, leaving rxsec out" % args.rxsec)
        progs.remove("rxsec")
    cases = [(s, n) for n in args.sas for s in args.sizes]
    b = Bench(args)
    try:
        status = run_all(b, args, progs, cases, traffic_spis(args.traffic))
    except KeyboardInterrupt:
        log("bench: interrupted")
        status = 130
    except PcapError as e:
        log("bench: %s" % e)
        status = 1
    finally:
        # also after an exception or ^C: each leftover directory is ~6 MB
        b.stop_all()
        b.remove_runtime_dirs()
    sys.exit(status)


if __name__ == "__main__":
    main()
