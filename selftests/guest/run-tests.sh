#!/bin/sh
# Runs inside the test guest: every guest test binary, in order.
# Each prints cmocka's summary; the host adds them up (scripts/run-tests.sh).
rc=0
for t in /nc/bin/test_*; do
	echo "=== guest: $t"
	"$t" || rc=1
	# a test that left the module loaded must not poison the next one
	rmmod netchannel 2>/dev/null
done
exit $rc
