#!/usr/bin/env bash
# Install what rxsec needs from Debian and build it into build/.
# Idempotent: installs only missing packages (apt-get update first), configures
# build/ once, then rebuilds incrementally. Usage: scripts/setup.sh [BUILDDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${1:-build}

packages=(
	build-essential pkg-config meson ninja-build
	libdpdk-dev dpdk dpdk-dev dpdk-doc libipsec-mb-dev libpcap-dev libbsd-dev
	libsystemd-dev	# DPDK's static link (meson option static_dpdk) asks for -lsystemd
	python3-scapy python3-cryptography
	iproute2 procps
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	sudo_cmd=""
	[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
	$sudo_cmd apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -f "$builddir/build.ninja" ]; then
	meson setup "$builddir"	# meson.build: release, -O2
fi
ninja -C "$builddir"
echo "setup: built $builddir/app/rxsec"
