#!/bin/sh
# Runs inside the test guest: the guest test binaries, in order.
#
#   /nc/run-tests.sh                 every /nc/bin/test_* binary
#   /nc/run-tests.sh SUITE...        only these (test_sockapi or sockapi)
#   /nc/run-tests.sh SUITE/PATTERN   only the tests of SUITE matching PATTERN
#                                    (cmocka wildcards: test_close*)
#
# Each binary prints cmocka's summary; the host adds them up
# (scripts/run-tests.sh). On a kernel with kmemleak (make test-debug) each
# binary is followed, once the module is unloaded, by /nc/kmemleak-check.sh.
rc=0

run_one() { # BINARY [PATTERN]
	echo "=== guest: $1${2:+ ($2)}"
	NC_TEST_FILTER=$2 "$1" || rc=1
	# a test that left the module loaded must not poison the next one
	rmmod netchannel 2>/dev/null
	/nc/kmemleak-check.sh "$(basename "$1")" || rc=1
}

if [ $# -eq 0 ]; then
	for t in /nc/bin/test_*; do run_one "$t"; done
	exit $rc
fi
for arg in "$@"; do
	suite=${arg%%/*}
	pattern=
	[ "$suite" = "$arg" ] || pattern=${arg#*/}
	case $suite in test_*) ;; *) suite=test_$suite ;; esac
	if [ ! -x "/nc/bin/$suite" ]; then
		echo "run-tests: no suite $suite (have: $(cd /nc/bin && echo test_*))"
		echo "0 passed, 1 failed"
		rc=1
		continue
	fi
	run_one "/nc/bin/$suite" "$pattern"
done
exit $rc
