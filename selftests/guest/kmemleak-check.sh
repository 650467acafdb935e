#!/bin/sh
# Runs inside the test guest: /nc/kmemleak-check.sh NAME
# On a kernel with kmemleak (the debug kernel of make test-debug), scan for
# leaks and count those whose allocation went through netchannel: a
# [netchannel] frame, or an address in the module area that no loaded module
# owns any more (the module is unloaded by then). Prints the report and a
# "N passed, N failed" line for the host; exits 1 on a netchannel leak. Other
# leaks are shown and not counted. Without kmemleak it does nothing.
KMEMLEAK=/sys/kernel/debug/kmemleak
[ -w $KMEMLEAK ] || exit 0
# an object must be unreferenced for 5 s, and seen so by a scan, to be reported
sleep 6
echo scan > $KMEMLEAK
echo scan > $KMEMLEAK
report=$(cat $KMEMLEAK)
echo clear > $KMEMLEAK
n=$(printf '%s\n' "$report" | awk '
	/^unreferenced object/ { if (hit) n++; hit = 0 }
	/\[netchannel\]/ { hit = 1 }
	/^ +0xffffffff[a-f][0-9a-f]+$/ { hit = 1 }
	END { if (hit) n++; print n + 0 }')
if [ "$n" -gt 0 ]; then
	printf '%s\n' "$report"
	echo "kmemleak: $n leak(s) from netchannel after $1"
	echo "0 passed, 1 failed (kmemleak after $1)"
	exit 1
fi
if [ -n "$report" ]; then
	echo "kmemleak: leaks not from netchannel after $1 (not counted):"
	printf '%s\n' "$report" | head -n 40
fi
echo "1 passed, 0 failed (kmemleak after $1)"
