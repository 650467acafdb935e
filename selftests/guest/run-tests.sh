#!/bin/sh
# Runs inside the test guest: the guest test binaries, in order.
#
#   /nc/run-tests.sh                 every /nc/bin/test_* binary, then the
#                                    socket suites (V6_SUITES) again over
#                                    IPv6 (NC_FAMILY=6: AF_INET6 sockets,
#                                    channels over IPv6)
#   /nc/run-tests.sh SUITE...        only these (test_sockapi or sockapi);
#                                    SUITE6 (sockapi6) runs SUITE over IPv6
#   /nc/run-tests.sh SUITE/PATTERN   only the tests of SUITE matching PATTERN
#                                    (cmocka wildcards: test_close*)
#
# Each binary prints cmocka's summary; the host adds them up
# (scripts/run-tests.sh). On a kernel with kmemleak (make test-debug) each
# binary is followed, once the module is unloaded, by /nc/kmemleak-check.sh.
rc=0
V6_SUITES="test_sockapi test_transfer test_flow test_teardown test_splice test_fallback test_chanset test_channels"

run_one() { # BINARY [PATTERN] [FAMILY]
	echo "=== guest: $1${2:+ ($2)}${3:+ (IPv$3)}"
	NC_TEST_FILTER=$2 NC_FAMILY=${3:-4} "$1" || rc=1
	# a test that left the module loaded must not poison the next one
	rmmod netchannel 2>/dev/null
	/nc/kmemleak-check.sh "$(basename "$1")" || rc=1
}

if [ $# -eq 0 ]; then
	for t in /nc/bin/test_*; do run_one "$t"; done
	for t in $V6_SUITES; do run_one "/nc/bin/$t" "" 6; done
	exit $rc
fi
for arg in "$@"; do
	suite=${arg%%/*}
	pattern=
	family=
	[ "$suite" = "$arg" ] || pattern=${arg#*/}
	case $suite in test_*) ;; *) suite=test_$suite ;; esac
	# SUITE6: SUITE over IPv6 (test_ipv6 is a suite of its own)
	case $suite in *6)
		[ -x "/nc/bin/$suite" ] || { suite=${suite%6}; family=6; } ;;
	esac
	if [ ! -x "/nc/bin/$suite" ]; then
		echo "run-tests: no suite $suite (have: $(cd /nc/bin && echo test_*))"
		echo "0 passed, 1 failed"
		rc=1
		continue
	fi
	run_one "/nc/bin/$suite" "$pattern" "$family"
done
exit $rc
