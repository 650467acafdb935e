#!/usr/bin/env bash
# make test: host unit tests, a short fuzz run, the guest harness's own
# checks and the kernel tests in the QEMU guest.
# make test-debug (--debug): the guest tests, a short live rogue-peer fuzz run
# and the socket-API stress on the debug kernel (KASAN, lockdep, kmemleak).
# Every suite's output goes to the terminal and to build/test-logs/; the last
# line is "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

DEBUG=0
case ${1:-} in
--debug) DEBUG=1 ;;
"") ;;
*) echo "usage: scripts/run-tests.sh [--debug]" >&2; exit 2 ;;
esac
LOGS=build/test-logs
FUZZ_SECONDS=${NC_FUZZ_SECONDS:-20}
mkdir -p "$LOGS"
passed=0
failed=0
failures=()

# count cmocka's "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" lines and
# plain "N passed, N failed" lines in a log. Skipped tests count as failed:
# everything make test runs must run here (the guest has the module, the
# tools and both protocols), so a skip means something is missing.
count() {
	local log=$1 p f k
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p; s/^\([0-9]*\) passed, [0-9]* failed.*/\1/p' "$log" |
		awk '{s += $1} END {print s + 0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p; s/^[0-9]* passed, \([0-9]*\) failed.*/\1/p' "$log" |
		awk '{s += $1} END {print s + 0}')
	k=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p; s/^[0-9]* passed, [0-9]* failed, \([0-9]*\) skipped.*/\1/p' "$log" |
		awk '{s += $1} END {print s + 0}')
	[ "$k" -eq 0 ] || echo "=== $log: $k skipped test(s), counted as failed" >&2
	echo "$p $((f + k))"
}

# suite NAME CMD...: run CMD, add up its results. A suite that exits
# non-zero without reporting a failure counts one failure, so a crash, a
# timeout or a dirty kernel log is never lost.
suite() {
	local name=$1 log="$LOGS/$1.log" rc p f
	shift
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	read -r p f < <(count "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "=== $name: exited with status $rc"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -eq 0 ] || failures+=("$name")
}

# a suite that is one check: it passes when CMD exits 0
check() {
	local name=$1 log="$LOGS/$1.log"
	shift
	echo "=== $name: $*"
	if "$@" >"$log" 2>&1; then
		passed=$((passed + 1))
		tail -n 3 "$log"
	else
		failed=$((failed + 1))
		failures+=("$name")
		tail -n 30 "$log"
	fi
}

if [ "$DEBUG" = 1 ]; then
	LOGS=build/test-logs/debug
	mkdir -p "$LOGS"
	# KASAN and lockdep make the guest several times slower
	suite guest-debug scripts/vm.sh --debug-kernel --mem 3072 \
		--timeout "${NC_TEST_DEBUG_TIMEOUT:-3600}" -- /nc/run-tests.sh
	# 10^5 frames: the debug kernel under TCG takes about 390 a second;
	# then the socket-API stress (20 s) and nc_faults (3 x 20 s)
	suite fuzz-live-debug scripts/vm.sh --debug-kernel --mem 3072 --timeout 1800 -- \
		"/nc/fuzz-live.sh ${NC_FUZZ_LIVE_FRAMES:-100000} 20"
	[ ${#failures[@]} -eq 0 ] || echo "failed suites: ${failures[*]}"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

for t in build/host/test_*; do
	[ -x "$t" ] && suite "host-$(basename "$t")" "$t"
done
for fz in build/fuzz/fuzz_*; do
	[ -x "$fz" ] || continue
	n=$(basename "$fz")
	corpus=selftests/fuzz/corpus_${n#fuzz_}
	mkdir -p "build/fuzz/corpus-$n"
	check "$n" "$fz" -max_total_time="$FUZZ_SECONDS" -seed=1 \
		-artifact_prefix="build/fuzz/$n-" "build/fuzz/corpus-$n" "$corpus"
done
check checkpatch make --no-print-directory checkpatch
suite vm-selftest scripts/vm-selftest.sh
suite guest scripts/vm.sh --timeout "${NC_TEST_TIMEOUT:-1800}" -- /nc/run-tests.sh
suite bench-smoke scripts/bench-smoke.sh

[ ${#failures[@]} -eq 0 ] || echo "failed suites: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
