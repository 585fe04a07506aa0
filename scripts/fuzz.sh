#!/usr/bin/env bash
# Coverage-guided fuzzing of rxsec with libFuzzer (tests/fuzz/).
#   scripts/fuzz.sh TARGET [SECONDS] [libFuzzer options...]
# TARGET is sa_parse, pipeline or control; SECONDS defaults to 300. Builds
# build-fuzz/ with clang, libFuzzer, ASan and UBSan (installing clang if
# missing), starts from the saved corpus (tests/fuzz/corpus/TARGET) and the
# seeds (tests/fuzz/seeds.py), and keeps what it finds in
# build-fuzz/corpus/TARGET. A crash or broken invariant leaves crash-* in
# build-fuzz/ and exits non-zero. SAVE=1 merges the new inputs that reach
# new code into tests/fuzz/corpus/TARGET, which the test suite replays.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-}
case "$target" in
sa_parse|pipeline|control) ;;
*) echo "usage: scripts/fuzz.sh sa_parse|pipeline|control [SECONDS] [libFuzzer options...]" >&2
   exit 2 ;;
esac
secs=${2:-300}
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a number: $secs" >&2; exit 2; }
shift $(( $# >= 2 ? 2 : 1 ))

scripts/setup.sh build >/dev/null
if ! command -v clang-14 >/dev/null ||
   ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
	echo "fuzz.sh: installing clang-14 and its libFuzzer runtime"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		clang-14 libclang-rt-14-dev
fi
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang-14 meson setup build-fuzz --buildtype=debugoptimized -Dlibfuzzer=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz tests/fuzz/fuzz_"$target" >/dev/null

saved=tests/fuzz/corpus/$target
found=build-fuzz/corpus/$target
seeds=build-fuzz/seeds/$target
mkdir -p "$found" "$saved"
/usr/bin/python3 tests/fuzz/seeds.py "$target" "$seeds" >/dev/null

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
# the pipeline's frames go up to 9216 bytes, a few to an input
maxlen=$([ "$target" = pipeline ] && echo 32768 || echo 8192)
status=0
(cd build-fuzz && ./tests/fuzz/fuzz_"$target" -max_total_time="$secs" -max_len="$maxlen" \
	-timeout=10 -print_final_stats=1 "$@" "../$found" "../$saved" "../$seeds") || status=$?
if [ "${SAVE:-0}" = 1 ] && [ $status -eq 0 ]; then
	# every edge reached, not every hit count: a corpus a tenth the size
	./build-fuzz/tests/fuzz/fuzz_"$target" -merge=1 -use_counters=0 "$saved" "$found" "$seeds" 2>&1 |
		grep -E "MERGE-OUTER: [0-9]+ new files" || true
fi
# EAL's runtime directories and control sockets of fuzzer processes that
# crashed or were stopped
for d in /var/run/dpdk/rxsec-fuzz-* /tmp/rxsec-fuzz-ctl-*.sock; do
	pid=${d##*-}
	pid=${pid%.sock}
	[ -e "$d" ] && ! kill -0 "$pid" 2>/dev/null && rm -rf "$d"
done
exit $status
