#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Build a locally patched copy of DPDK's ipsec-secgw example (shipped by dpdk-doc)
# for the side-by-side benchmark.  The copy lives in the build directory only; secgw's
# code is never committed.  The one patch: secgw asks every port for
# RTE_ETH_RX_OFFLOAD_CHECKSUM and exits when the port lacks it, which every vdev
# (net_pcap, net_null, net_memif) does.  Nothing on the inbound ESP path needs that
# offload, so the benchmark drops the request.
# usage: build-secgw.sh OUTDIR   -> OUTDIR/ipsec-secgw/build/ipsec-secgw
set -eu
out=${1:?usage: build-secgw.sh OUTDIR}
src=/usr/share/dpdk/examples/ipsec-secgw
[ -f "$src/ipsec-secgw.c" ] || { echo "missing $src (apt-get install dpdk-doc)" >&2; exit 1; }
dst="$out/ipsec-secgw"
bin="$dst/build/ipsec-secgw"
if [ -x "$bin" ] && [ "$bin" -nt "$src/ipsec-secgw.c" ] && [ "$bin" -nt "$0" ]; then
	exit 0
fi
rm -rf "$dst"
mkdir -p "$out"
cp -r "$src" "$dst"
chmod -R u+w "$dst"
sed -i 's/^\(\t\t\.offloads = \)RTE_ETH_RX_OFFLOAD_CHECKSUM,/\10, \/* rxsec bench: vdevs lack RX checksum offload *\//' \
	"$dst/ipsec-secgw.c"
grep -q 'rxsec bench: vdevs lack RX checksum offload' "$dst/ipsec-secgw.c" || {
	echo "build-secgw: patch did not apply (secgw source changed?)" >&2; exit 1; }
make -s -C "$dst" -j2 >"$dst/build.log" 2>&1 || { tail -30 "$dst/build.log" >&2; exit 1; }
echo "built $bin"
