#!/bin/sh
# Runs inside the test guest: the live rogue-peer fuzzer (nc_fuzz_live) for
# FRAMES frames, then the socket-API stress (nc_stress) for SECONDS seconds,
# then transfers under failing allocations (nc_faults, three phases of
# FAULT_SECONDS; needs the debug kernel's fault injection), then the module
# must unload and, on a kmemleak kernel, leave no leak.
#   /nc/fuzz-live.sh [FRAMES [SECONDS [SEED [CLIENTS [FAULT_SECONDS]]]]]
# CLIENTS: real-traffic threads beside the rogue (default 1: on the debug
# kernel they, not the rogue, would take most of the two vCPUs).
# Each program prints "N passed, N failed"; the host adds them up.
FRAMES=${1:-100000}
SECONDS_STRESS=${2:-30}
SEED=${3:-$(date +%s)}
CLIENTS=${4:-1}
FAULT_SECONDS=${5:-20}
rc=0

if ! insmod /nc/netchannel.ko; then
	echo "0 passed, 1 failed (insmod)"
	exit 1
fi
echo "=== fuzz-live: $FRAMES frames, seed $SEED"
/nc/bin/nc_fuzz_live --frames "$FRAMES" --seed "$SEED" --clients "$CLIENTS" \
	--seconds $((FRAMES / 20 + 600)) || rc=1
echo "=== stress: $SECONDS_STRESS s, seed $SEED"
/nc/bin/nc_stress --seconds "$SECONDS_STRESS" --seed "$SEED" || rc=1
echo "=== faults: 3 x $FAULT_SECONDS s, seed $SEED"
/nc/bin/nc_faults --seconds "$FAULT_SECONDS" --seed "$SEED" || rc=1

# everything must be released: the module unloads (references drain)
ok=0
for _ in $(seq 1 100); do
	if rmmod netchannel 2>/dev/null; then ok=1; break; fi
	sleep 0.1
done
if [ $ok = 1 ]; then
	echo "1 passed, 0 failed (rmmod)"
else
	cat /proc/net/netchannel/stats 2>/dev/null
	echo "0 passed, 1 failed (rmmod: module still in use)"
	rc=1
fi
/nc/kmemleak-check.sh fuzz-live || rc=1
exit $rc
