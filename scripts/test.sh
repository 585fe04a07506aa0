#!/usr/bin/env bash
# The whole test suite: set up and build, run every meson test, then build
# again with ASan+UBSan and run the suite there too. Ends with one line
# "N passed, M failed" counted over both runs; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build || { echo "0 passed, 1 failed"; exit 1; }

# The ASan tree builds quietly; on failure the tool's own words are shown.
asan_failed() {
	echo "test.sh: $1 failed for build-asan:" >&2
	tail -n 40 "$2" >&2
	echo "0 passed, 1 failed"
	exit 1
}
asan_log=$(mktemp)
trap 'rm -f "$asan_log"' EXIT
if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan --buildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false >"$asan_log" 2>&1 ||
		asan_failed "meson setup" "$asan_log"
fi
ninja -C build-asan >"$asan_log" 2>&1 || asan_failed ninja "$asan_log"

# UBSan findings are errors; LeakSanitizer runs in every test process.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1

status=0
meson test -C build --print-errorlogs --num-processes 2 "$@" || status=1
meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3 "$@" || status=1

/usr/bin/python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in filter(str.strip, lines):
        try:
            t = json.loads(line)
        except ValueError:	# another meson test wrote the same log meanwhile
            failed += 1
            print(f"FAILED: {path}: a line that is not JSON")
            continue
        if t["result"] in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
            print(f"FAILED: {path.split('/')[0]}: {t['name']} ({t['result']})")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
[ $? -eq 0 ] && [ $status -eq 0 ]
