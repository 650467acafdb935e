#!/usr/bin/env bash
# Profile one ncperf run in the test guest with perf (cpu-clock, every CPU),
# and print where the time went. NetChannel and TCP are profiled in the same
# boot, so their profiles can be compared.
#
#   scripts/profile.sh [MODE] [-- NCPERF CLIENT OPTIONS]
#
#   MODE: bulk (default) or rr
#   PROFILE_PROTO="netchannel tcp"   the stacks to profile, in this order
#   PROFILE_SECONDS=3                length of each run
#   PROFILE_TOP=40                   lines of `perf report` to show
#   NC_VM_TCG_THREAD=single          single-threaded TCG (pure CPU cost)
#
# Output: build/profile/<proto>-<mode>.txt (perf report --sort sym, no
# children, symbols above 0.2%) and the top of each on stdout. Needs linux-perf (installed by
# scripts/deps.sh); the guest's perf is the host's binary.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
}

MODE=bulk
case ${1:-} in
-h | --help) usage; exit 0 ;;
bulk | rr) MODE=$1; shift ;;
--) ;;
"") ;;
*) echo "profile: unknown mode '$1' (bulk or rr; see --help)" >&2; exit 2 ;;
esac
[ "${1:-}" != -- ] || shift
EXTRA="$*"
PROTOS=${PROFILE_PROTO:-netchannel tcp}
SECS=${PROFILE_SECONDS:-3}
TOP=${PROFILE_TOP:-40}

PERF=$(command -v perf || true)
[ -n "$PERF" ] || { echo "profile: perf not installed (scripts/deps.sh installs linux-perf)" >&2; exit 1; }
make -s module user guest >/dev/null
OUT=build/profile
mkdir -p "$OUT"

cat > "$OUT/guest.sh" <<EOF
#!/bin/bash
set -u
H=/nc/bin/nc_hosts
\$H up --new nc_a nc_b >/dev/null || exit 1
insmod /nc/netchannel.ko
SRV=\$(\$H addr b)
mkdir -p /tmp/prof
for p in $PROTOS; do
	port=5301; [ \$p = tcp ] || port=5302
	ip netns exec nc_b /nc/bin/ncperf server --proto \$p --port \$port --background --idle 60 >/dev/null
	ip netns exec nc_a /nc/bin/ncperf client $MODE --proto \$p --addr \$SRV --port \$port --seconds 1 >/dev/null
	/nc/perf record -q -e cpu-clock -a -o /tmp/prof/\$p.data -- \
		ip netns exec nc_a /nc/bin/ncperf client $MODE --proto \$p --addr \$SRV --port \$port \
		--seconds $SECS $EXTRA > /tmp/prof/\$p.out 2>&1
	echo "== \$p $MODE: \$(grep -E 'throughput|rate|requests' /tmp/prof/\$p.out | head -2 | tr '\n' ' ')"
	/nc/perf report -q -i /tmp/prof/\$p.data --no-children --sort sym --percent-limit 0.2 \
		2>/dev/null | sed "s/^/PROF|\$p|/"
done
EOF
chmod +x "$OUT/guest.sh"
scripts/vm.sh --add "$PERF:/nc/perf" --add "$OUT/guest.sh:/nc/profile.sh" \
	--timeout 600 -- /nc/profile.sh > "$OUT/console.txt" 2>&1 || {
	tail -20 "$OUT/console.txt"
	echo "profile: the guest run failed; console in $OUT/console.txt" >&2
	exit 1
}
grep '^== ' "$OUT/console.txt" || true
for p in $PROTOS; do
	f=$OUT/$p-$MODE.txt
	sed -n "s/^PROF|$p|//p" "$OUT/console.txt" | tr -d '\r' > "$f"
	echo "== $p $MODE: top of $f"
	head -n "$TOP" "$f"
done
