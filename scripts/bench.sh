#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Side-by-side receive benchmark: rxsec against DPDK's ipsec-secgw (issue 5).
#
#   scripts/bench.sh [bench.py options]
#
# 1. builds rxsec and rxsec-crypto-bench (ninja -C $BUILD), and a locally
#    patched ipsec-secgw from dpdk-doc into $BUILD/bench/ipsec-secgw
# 2. generates AES-GCM-128 tunnel ESP traffic and the SA files for both
#    programs with scapy into $BUILD/bench/traffic (once; delete it to redo)
# 3. verifies that every program delivers every packet as its plaintext, then
#    measures rxsec, secgw (lookaside aesni_gcm and cpu-crypto) and testpmd io
#    forwarding on the same traffic and lcore, alternating, --rounds times,
#    plus IPsec-MB's own cycles per packet; prints one table, then rxsec's
#    cycles per packet by stage from a run of its own (--stage-cycles).
#
# Useful options (scripts/bench/bench.py --help for all):
#   --rounds N (3)  --duration S (3)  --sizes 64,512,1400,imix  --sas 1,1024
#   --programs testpmd,rxsec,secgw-la,secgw-cpu  --mode loop|memif|both|lcores
#   (lcores: every program on CPUs 0 and 1 with two RX queues; --sas 1024)
#   --cpu N (1: the CPU every program polls on)  --json FILE
# Environment: BUILD (build), PACKETS (most packets per pcap, 4096),
# MAX_BYTES (most frame bytes per pcap, 1 MiB: see gen_traffic.py),
# SPIS (sequential, or random in strongSwan's default range, as IKE picks them).
# Needs: dpdk-dev (dpdk-testpmd), dpdk-doc (secgw source), libdpdk-dev,
# libipsec-mb-dev, libpcap-dev, python3-scapy.  Run as root (DPDK telemetry
# sockets under /var/run/dpdk).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PACKETS=${PACKETS:-4096}
MAX_BYTES=${MAX_BYTES:-1048576}
SPIS=${SPIS:-sequential}
bad_env() {	# NAME VALUE WHAT
	echo "bench: $1 must be $3, not '$2'" >&2
	exit 2
}
case $PACKETS in ''|*[!0-9]*|0) bad_env PACKETS "$PACKETS" "a positive number of packets" ;; esac
case $MAX_BYTES in ''|*[!0-9]*|0) bad_env MAX_BYTES "$MAX_BYTES" "a positive number of bytes" ;; esac
case $SPIS in sequential|random) ;; *) bad_env SPIS "$SPIS" "sequential or random" ;; esac
PY=/usr/bin/python3
# Options are checked before minutes of building and generating traffic.
case " $* " in
*" -h "*|*" --help "*) exec $PY scripts/bench/bench.py --help ;;
esac
$PY scripts/bench/bench.py --check-args "$@" || exit 2

command -v dpdk-testpmd >/dev/null || {
	echo "bench: dpdk-testpmd missing (apt-get install dpdk-dev)" >&2; exit 1; }
[ -d "$BUILD" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" app/rxsec app/rxsec-crypto-bench >/dev/null || {
	echo "bench: build failed (ninja -C $BUILD)" >&2; exit 1; }
scripts/bench/build-secgw.sh "$BUILD/bench"

traffic="$BUILD/bench/traffic"
same_traffic() {
	[ -f "$traffic/manifest.json" ] && [ ! scripts/bench/gen_traffic.py -nt "$traffic/manifest.json" ] &&
		$PY -c 'import json, sys; m = json.load(open(sys.argv[1]));
sys.exit(m.get("packets") != int(sys.argv[2]) or m.get("max_bytes") != int(sys.argv[3])
	 or m.get("spi") != sys.argv[4])' \
			"$traffic/manifest.json" "$PACKETS" "$MAX_BYTES" "$SPIS"
}
if ! same_traffic; then
	echo "bench: generating traffic ($SPIS SPIs, up to $PACKETS packets and $MAX_BYTES bytes per pcap, takes a few minutes)" >&2
	rm -rf "$traffic"
	$PY scripts/bench/gen_traffic.py --out "$traffic" --packets "$PACKETS" --max-bytes "$MAX_BYTES" --spi "$SPIS"
fi

exec $PY scripts/bench/bench.py --traffic "$traffic" --logs "$BUILD/bench/logs" \
	--rxsec "$BUILD/app/rxsec" --crypto-bench "$BUILD/app/rxsec-crypto-bench" \
	--secgw "$BUILD/bench/ipsec-secgw/build/ipsec-secgw" "$@"
