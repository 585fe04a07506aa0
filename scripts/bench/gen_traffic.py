#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark traffic and SA files for scripts/bench.sh.

Writes into OUT:
  esp-SIZE-NSA.pcap     AES-GCM-128 tunnel-mode ESP frames (what the wire delivers)
  plain-SIZE-NSA.pcap   the inner IPv4 packets, in the same order, behind an
                        Ethernet header (what a receiver must deliver)
  sa-NSA.xfrm           the inbound SAs for rxsec, `ip xfrm state add` lines,
                        replay-window 0 (looped pcaps repeat sequence numbers)
  keys-NSA.txt          "SPI KEYHEX" per SA (16-byte key + 4-byte salt) for
                        rxsec-crypto-bench
  secgw-NSA-lookaside.cfg, secgw-NSA-cpu.cfg
                        the same SAs for DPDK's ipsec-secgw (sa, sp, rt, neigh
                        rules); "cpu" adds `type cpu-crypto`
SIZE is the inner IPv4 packet length (64, 512, 1400 by default; 32 to 9000)
or imix; NSA is 1 or 1024 by default (up to 65536).
IMIX is 7:4:1 of 64, 576 and 1400-byte inner packets (simple IMIX, with the
large size capped so the ESP frame stays under a 1500-byte MTU), shuffled.
A pcap holds --packets frames, or fewer: its frames total at most --max-bytes
(1 MiB, the L2 of a core on the machines this runs on), and never fewer than
one per SA.  net_pcap replays from memory; a longer loop's source lines fall
out of cache between passes, and a slower program, which revisits them later,
then pays memory for the same copy (at 1400 bytes with 4096 packets, rxsec's
RX copy cost 458 cycles against 153 with 512 packets): memory, not the
program, would be measured.
Every packet's UDP payload carries its index, so a delivered copy can be
matched against plain-*.pcap.  Everything is derived from --seed: the same
files come out on every run.
"""

import argparse
import hashlib
import json
import os
import random
import struct
import sys

from scapy.all import Ether, IP, UDP, Raw, wrpcap  # noqa: E402
from scapy.layers.ipsec import SecurityAssociation, ESP  # noqa: E402

SIZES = ("64", "512", "1400", "imix")
SA_COUNTS = (1, 1024)
IMIX = (64,) * 7 + (576,) * 4 + (1400,)
SPI_BASE = 0x1000
GW = "192.0.2.1"  # our outer (tunnel) address: every SA's destination
WIRE_SRC_MAC = "02:00:00:00:00:02"
WIRE_DST_MAC = "02:00:00:00:00:01"
DELIVER_MAC = "02:00:00:00:00:03"  # secgw's next hop on port 1


def spi_of(i, layout):
    """Sequential SPIs (SPI_BASE + i), or random ones as IKE picks them:
    strongSwan asks the kernel for an SPI in 0xc0000000-0xcfffffff (its
    charon.spi_min/spi_max defaults) and the kernel draws one at random in
    that range; here a hash of i stands for the draw."""
    if layout == "sequential":
        return SPI_BASE + i
    h = hashlib.sha256(b"rxsec-bench-spi-%d" % i).digest()
    return 0xC0000000 | (int.from_bytes(h[:4], "big") & 0x0FFFFFFF)


def sa_params(i, layout="sequential"):
    """SA number i: SPI, 20-byte key (16 key + 4 salt), peer, inner dst."""
    key = hashlib.sha256(b"rxsec-bench-sa-%d" % i).digest()[:20]
    return {
        "spi": spi_of(i, layout),
        "key": key,
        "peer": "10.1.%d.%d" % (i >> 8, i & 0xFF),
        "inner_src": "172.16.%d.%d" % (i >> 8, i & 0xFF),
        "inner_dst": "198.18.%d.%d" % (i >> 8, i & 0xFF),
    }


def write_sa_files(out, nsa, layout):
    sas = [sa_params(i, layout) for i in range(nsa)]
    assert len({sa["spi"] for sa in sas}) == nsa, "SPIs must be unique"
    with open(os.path.join(out, "sa-%d.xfrm" % nsa), "w") as f:
        f.write("# %d inbound AES-GCM-128 tunnel SAs for the rxsec benchmark\n" % nsa)
        f.write("# replay-window 0: the looped pcap repeats sequence numbers\n")
        for i, sa in enumerate(sas):
            f.write("ip xfrm state add src %s dst %s proto esp spi 0x%08x "
                    "reqid %d mode tunnel replay-window 0 "
                    "aead \"rfc4106(gcm(aes))\" 0x%s 128\n"
                    % (sa["peer"], GW, sa["spi"], i + 1, sa["key"].hex()))
    with open(os.path.join(out, "keys-%d.txt" % nsa), "w") as f:
        for sa in sas:
            f.write("0x%08x %s\n" % (sa["spi"], sa["key"].hex()))
    for mode in ("lookaside", "cpu"):
        typ = " type cpu-crypto" if mode == "cpu" else ""
        with open(os.path.join(out, "secgw-%d-%s.cfg" % (nsa, mode)), "w") as f:
            f.write("# %d inbound AES-GCM-128 tunnel SAs (%s)\n" % (nsa, mode))
            for sa in sas:
                # secgw's library path checks the decrypted packet against an
                # inbound SP that names the SA; one /32 rule per SA.
                f.write("sp ipv4 in esp protect %d pri 1 dst %s/32 "
                        "sport 0:65535 dport 0:65535\n"
                        % (sa["spi"], sa["inner_dst"]))
            for sa in sas:
                f.write("sa in %d aead_algo aes-128-gcm aead_key %s "
                        "mode ipv4-tunnel src %s dst %s%s\n"
                        % (sa["spi"], ":".join("%02x" % b for b in sa["key"]),
                           sa["peer"], GW, typ))
            f.write("rt ipv4 dst 198.18.0.0/16 port 1\n")
            f.write("neigh port 1 %s\n" % DELIVER_MAC)
    return sas


def inner_packet(idx, size, sa, rng):
    payload = struct.pack("!I", idx) + rng.randbytes(size - 28 - 4)
    return (IP(src=sa["inner_src"], dst=sa["inner_dst"], id=idx & 0xFFFF)
            / UDP(sport=1024 + (idx & 0x3FFF), dport=9) / Raw(payload))


# Frame i is stamped 2026-01-01 00:00:00 UTC plus i milliseconds.
PCAP_EPOCH = 1767225600
ETH_ESP_OVERHEAD = 14 + 20 + 8 + 8 + 16 + 2  # Ether, outer IP, ESP, IV, ICV, trailer


def packet_count(size, nsa, most, max_bytes):
    """As many packets as --packets allows, within the byte budget."""
    inner = (sum(IMIX) / len(IMIX) if size == "imix" else int(size))
    fit = int(max_bytes // (inner + ETH_ESP_OVERHEAD))
    return max(nsa, min(most, fit))


def write_traffic(out, size, nsa, sas, npkts, seed):
    rng = random.Random("%s-%d-%d" % (size, nsa, seed))
    xsas = [SecurityAssociation(ESP, spi=sa["spi"], crypt_algo="AES-GCM",
                                crypt_key=sa["key"],
                                tunnel_header=IP(src=sa["peer"], dst=GW))
            for sa in sas]
    seq = [0] * nsa
    if size == "imix":
        lens = [IMIX[i % len(IMIX)] for i in range(npkts)]
        rng.shuffle(lens)
    else:
        lens = [int(size)] * npkts
    esp, plain = [], []
    for idx in range(npkts):
        s = idx % nsa if nsa <= 1 else rng.randrange(nsa)
        seq[s] += 1
        inner = inner_packet(idx, lens[idx], sas[s], rng)
        assert len(inner) == lens[idx]
        # the IV from rng too: scapy would draw it from os.urandom
        enc = xsas[s].encrypt(inner, seq_num=seq[s], iv=rng.randbytes(8))
        esp.append(Ether(src=WIRE_SRC_MAC, dst=WIRE_DST_MAC) / enc)
        plain.append(Ether(src=WIRE_SRC_MAC, dst=WIRE_DST_MAC) / inner)
        esp[-1].time = plain[-1].time = PCAP_EPOCH + idx / 1000
    wrpcap(os.path.join(out, "esp-%s-%d.pcap" % (size, nsa)), esp)
    wrpcap(os.path.join(out, "plain-%s-%d.pcap" % (size, nsa)), plain)
    return {
        "packets": npkts,
        "esp_bytes": sum(len(p) for p in esp),
        "inner_bytes": sum(lens),
    }


# An inner packet holds its IPv4 and UDP headers and its 4-byte index; the
# largest keeps its frame within rxsec's 9216-byte jumbo limit. SA i's inner
# addresses spell i in two octets.
INNER_MIN, INNER_MAX = 32, 9000
NSA_MAX = 1 << 16


def positive(text):
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError("'%s' is not a number >= 1" % text)
    return v


def size_list(text):
    sizes = [t for t in text.split(",") if t]
    for t in sizes:
        if t != "imix" and not (t.isdigit() and INNER_MIN <= int(t) <= INNER_MAX):
            raise argparse.ArgumentTypeError(
                "'%s': a size is imix or an inner packet of %d to %d bytes"
                % (t, INNER_MIN, INNER_MAX))
    if not sizes:
        raise argparse.ArgumentTypeError("no size given")
    return sizes


def sa_counts(text):
    counts = [t for t in text.split(",") if t]
    for t in counts:
        if not (t.isdigit() and 1 <= int(t) <= NSA_MAX):
            raise argparse.ArgumentTypeError(
                "'%s': an SA count is 1 to %d" % (t, NSA_MAX))
    if not counts:
        raise argparse.ArgumentTypeError("no SA count given")
    return [int(t) for t in counts]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--packets", type=positive, default=4096,
                    help="most packets per pcap")
    ap.add_argument("--max-bytes", type=positive, default=1 << 20,
                    help="most frame bytes per pcap")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--spi", choices=("sequential", "random"), default="sequential",
                    help="SPI layout of the SAs")
    ap.add_argument("--sizes", type=size_list, default=list(SIZES))
    ap.add_argument("--sas", type=sa_counts, default=list(SA_COUNTS))
    args = ap.parse_args()
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        ap.error("--out %s: %s" % (args.out, e.strerror))
    manifest = {"packets": args.packets, "max_bytes": args.max_bytes, "spi": args.spi,
                "seed": args.seed, "cases": {}}
    for nsa in args.sas:
        sas = write_sa_files(args.out, nsa, args.spi)
        for size in args.sizes:
            n = packet_count(size, nsa, args.packets, args.max_bytes)
            info = write_traffic(args.out, size, nsa, sas, n, args.seed)
            manifest["cases"]["%s-%d" % (size, nsa)] = info
            print("gen_traffic: %s-%d: %d packets, %d frame bytes"
                  % (size, nsa, n, info["esp_bytes"]), file=sys.stderr)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
