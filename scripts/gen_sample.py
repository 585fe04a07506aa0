#!/usr/bin/python3
# Build config/sample/: the quick start's SAs and wire traffic. Every ESP/AH
# packet is made by scapy's own IPsec implementation from known plaintext.
# Run with Debian's /usr/bin/python3 (python3-scapy). Deterministic output.
import argparse
import os
import random

from scapy.all import Ether, IP, IPv6, UDP, ICMP, Raw, fragment, wrpcap
from scapy.layers.ipsec import SecurityAssociation, ESP, AH

ap = argparse.ArgumentParser(description="Write the quick start's SAs and traffic.")
ap.add_argument("out", nargs="?",
                default=os.path.join(os.path.dirname(__file__), "..", "config", "sample"),
                help="directory for sa.conf, in.pcap and README.txt (config/sample)")
out = ap.parse_args().out
try:
    os.makedirs(out, exist_ok=True)
except OSError as e:
    ap.error("%s: %s" % (out, e.strerror))
random.seed(7)

A4, B4 = "192.0.2.10", "192.0.2.20"
A6, B6 = "2001:db8:0:1::10", "2001:db8:0:1::20"
MAC_A, MAC_B = "00:00:5e:00:53:0a", "00:00:5e:00:53:14"


def key(n):
    return bytes(random.randrange(256) for _ in range(n))


k1, k2, k3e, k3a, k4 = key(20), key(36), key(16), key(32), key(20)
sa1 = SecurityAssociation(ESP, spi=0x1000, crypt_algo="AES-GCM", crypt_key=k1,
                          tunnel_header=IP(src=A4, dst=B4))
sa2 = SecurityAssociation(ESP, spi=0x2000, crypt_algo="AES-GCM", crypt_key=k2)
sa3 = SecurityAssociation(ESP, spi=0x3000, crypt_algo="AES-CBC", crypt_key=k3e,
                          auth_algo="SHA2-256-128", auth_key=k3a,
                          tunnel_header=IP(src=A4, dst=B4))
sa4 = SecurityAssociation(AH, spi=0x4000, auth_algo="HMAC-SHA1-96", auth_key=k4)

with open(os.path.join(out, "sa.conf"), "w") as f:
    f.write(f"""# rxsec quick-start SAs, in `ip xfrm state add` syntax (spec section 5).
# The receiver is {B4} / {B6}.
ip xfrm state add src {A4} dst {B4} proto esp spi 0x00001000 reqid 1 mode tunnel \\
    replay-window 32 aead "rfc4106(gcm(aes))" 0x{k1.hex()} 128
ip xfrm state add src {A6} dst {B6} proto esp spi 0x00002000 reqid 2 mode transport \\
    replay-window 64 aead "rfc4106(gcm(aes))" 0x{k2.hex()} 128
ip xfrm state add src {A4} dst {B4} proto esp spi 0x00003000 reqid 3 mode tunnel \\
    replay-window 32 enc "cbc(aes)" 0x{k3e.hex()} \\
    auth-trunc "hmac(sha256)" 0x{k3a.hex()} 128
ip xfrm state add src {A4} dst {B4} proto ah spi 0x00004000 reqid 4 mode transport \\
    replay-window 32 auth "hmac(sha1)" 0x{k4.hex()}
""")

inner4 = lambda n: IP(src="198.51.100.10", dst="203.0.113.20", id=n) / UDP(sport=40000, dport=9000) / Raw(f"sample pkt {n:02d}".encode())
plain4 = lambda n: IP(src=A4, dst=B4, id=n) / UDP(sport=40000, dport=9000) / Raw(f"sample pkt {n:02d}".encode())
plain6 = lambda n: IPv6(src=A6, dst=B6) / UDP(sport=40000, dport=9000) / Raw(f"sample pkt {n:02d}".encode())


def eth(pkt):
    t = 0x86DD if pkt.version == 6 else 0x0800
    return Ether(src=MAC_A, dst=MAC_B, type=t) / pkt


def flip_icv(frame):
    b = bytearray(bytes(frame))
    b[-1] ^= 0x01
    return Ether(bytes(b))


# Same files on every run: ESP IVs come from the seeded generator, and
# frame n is stamped 2026-01-01 00:00:00 UTC plus n milliseconds.
PCAP_EPOCH = 1767225600


def seal(sa, pkt, seq):
    iv = random.randbytes(sa.crypt_algo.iv_size) if sa.proto is ESP else None
    return sa.encrypt(pkt, seq_num=seq, iv=iv)


frames, notes = [], []


def add(frame, note):
    frame.time = PCAP_EPOCH + len(frames) / 1000
    notes.append(f"{len(frames)} {note}")
    frames.append(frame)


add(eth(seal(sa1, inner4(0), 1)), "ESP tunnel AES-GCM-128 seq 1: delivered as the inner packet")
add(eth(seal(sa1, inner4(1), 2)), "ESP tunnel AES-GCM-128 seq 2")
add(eth(seal(sa2, plain6(2), 1)), "ESP transport IPv6 AES-GCM-256 seq 1")
add(eth(seal(sa3, inner4(3), 1)), "ESP tunnel AES-CBC-128 + HMAC-SHA256-128 seq 1")
add(eth(seal(sa4, plain4(4), 1)), "AH transport HMAC-SHA1-96 seq 1")
add(eth(seal(sa1, inner4(5), 2)), "ESP seq 2 again: replay, dropped")
add(flip_icv(eth(seal(sa1, inner4(6), 3))), "ESP with a flipped ICV byte: CRYPTO_TUNNEL_ESP_AUTH_FAILED, dropped")
bogus = SecurityAssociation(ESP, spi=0xdead, crypt_algo="AES-GCM", crypt_key=k1, tunnel_header=IP(src=A4, dst=B4))
add(eth(seal(bogus, inner4(7), 1)), "ESP with an unknown SPI: no SA, dropped")
add(eth(plain4(8)), "plain UDP: not IPsec, delivered unchanged")
add(eth(IP(src=A4, dst=B4) / UDP(sport=500, dport=500) / Raw(b"\x11" * 8 + b"\x00" * 8 + b"\x21\x20\x22\x08" + b"\x00" * 8)),
    "IKE on UDP 500: not IPsec, delivered unchanged")
add(eth(seal(sa1, inner4(10), 40)), "ESP seq 40: moves the window")
add(eth(seal(sa1, inner4(11), 5)), "ESP seq 5: below the 32-packet window, dropped")
# A 1400-byte packet whose ESP datagram the sender cut into two IP fragments.
big = seal(sa1, inner4(12) / Raw(b"x" * 1350), 41)
big.id, big.flags = 0x5a, 0
first, last = fragment(big, fragsize=1024)
add(eth(first), "first IP fragment of ESP seq 41: held for reassembly")
add(eth(last), "last IP fragment: completes the datagram, decrypted in software, delivered")

wrpcap(os.path.join(out, "in.pcap"), frames)
with open(os.path.join(out, "README.txt"), "w") as f:
    f.write("Sample traffic for scripts/quickstart.sh, made by scripts/gen_sample.py.\n"
            "Frame number, then what rxsec does with it:\n")
    f.write("\n".join(notes) + "\n")
print(f"wrote {len(frames)} frames to {out}")
