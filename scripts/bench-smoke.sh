#!/usr/bin/env bash
# Smoke check of the benchmark tools: seconds long, never a timed test. It checks
# that ncperf and libncpreload.so work and that their numbers are sane
# (throughput > 0, min <= p50 <= p99 <= p99.9 <= max, JSON that parses), over
# plain TCP, and over NetChannel when a NetChannel socket can be created and
# connected (skipped, not failed, when it cannot). Ends "N passed, N failed".
#
#   scripts/bench-smoke.sh            boot the test guest and run the checks there
#                                     (for `make test`; needs `make all`)
#   scripts/bench-smoke.sh --host     run them on this machine over loopback (TCP,
#                                     no namespaces, no module)
#   /nc/bench-smoke.sh --in-guest     what the guest runs
set -euo pipefail

usage() { sed -n '2,13s/^# \{0,1\}//p' "$0"; }

MODE=vm
case ${1:-} in
"") ;;
--host) MODE=host ;;
--in-guest) MODE=guest ;;
-h | --help) usage; exit 0 ;;
*) echo "bench-smoke: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

if [ "$MODE" = vm ]; then
	ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	cd "$ROOT"
	for f in build/guest/bin/ncperf build/guest/lib/libncpreload.so build/guest/bin/nc_hosts; do
		[ -x "$f" ] || [ -f "$f" ] || { echo "bench-smoke: $f missing (make all)" >&2; exit 125; }
	done
	exec scripts/vm.sh --timeout "${NC_SMOKE_TIMEOUT:-600}" \
		--add build/guest/bin/ncperf:/nc/bin/ncperf \
		--add build/guest/lib/libncpreload.so:/nc/lib/libncpreload.so \
		--add scripts/bench-smoke.sh:/nc/bench-smoke.sh \
		-- /nc/bench-smoke.sh --in-guest
fi

# ------------------------------------------------------------------ the checks
if [ "$MODE" = guest ]; then
	NCPERF=/nc/bin/ncperf
	PRELOAD=/nc/lib/libncpreload.so
	NCHOSTS=/nc/bin/nc_hosts
else
	ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	NCPERF=${NCPERF:-$ROOT/build/guest/bin/ncperf}
	PRELOAD=${PRELOAD:-$ROOT/build/guest/lib/libncpreload.so}
fi
T=$(mktemp -d /tmp/bench-smoke.XXXXXX)
SECS=${NC_SMOKE_SECONDS:-1}
PORT_TCP=5311 PORT_NC=5312 PORT_PRE=5313
passed=0 failed=0 skipped=0
PIDS=() LOADED_MODULE=0 CGROUPS=()

cleanup() {
	local p c
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for c in "${CGROUPS[@]}"; do rmdir "$c" 2>/dev/null || true; done
	if [ "$MODE" = guest ]; then
		"$NCHOSTS" down 2>/dev/null || true
		[ "$LOADED_MODULE" = 0 ] || rmmod netchannel 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
skip() { echo "SKIP: $*"; skipped=$((skipped + 1)); }

# Two hosts: the tests' namespaces joined by veth (guest, made by nc_hosts from
# the test library); loopback on the host.
if [ "$MODE" = guest ]; then
	"$NCHOSTS" up
	ON_A=(ip netns exec "$("$NCHOSTS" name a)") ON_B=(ip netns exec "$("$NCHOSTS" name b)")
	SERVER_ADDR=$("$NCHOSTS" addr b)
	# `ip netns exec` mounts a fresh /sys, hiding /sys/fs/cgroup: the
	# cgroup2 hierarchy is mounted a second time where it stays visible.
	CGROOT=/run/nc-cgroup
	mkdir -p $CGROOT
	grep -q " $CGROOT cgroup2 " /proc/mounts || mount -t cgroup2 none $CGROOT || CGROOT=
	if [ -e /nc/netchannel.ko ] && ! grep -q '^netchannel ' /proc/modules; then
		if insmod /nc/netchannel.ko; then LOADED_MODULE=1; fi
	fi
else
	ON_A=() ON_B=() SERVER_ADDR=127.0.0.1 CGROOT=
	[ ! -w /sys/fs/cgroup/cgroup.procs ] || CGROOT=/sys/fs/cgroup
fi

# jget PATH FILE: member PATH (keys joined by dots) of the JSON in FILE, by
# ncperf's own parser; empty if absent
jget() { "$NCPERF" json-get "$2" "$1" 2> /dev/null; }
# fcmp 'EXPR' a [b...]: awk comparison of numbers named a..e; false unless every
# argument is a number (a missing value must not compare as a string)
fcmp() {
	local expr=$1 v
	shift
	[ $# -gt 0 ] || return 1
	for v in "$@"; do
		[[ $v =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]] || return 1
	done
	awk -v a="${1:-0}" -v b="${2:-0}" -v c="${3:-0}" -v d="${4:-0}" -v e="${5:-0}" \
		"BEGIN { exit !($expr) }"
}

# start_server PROTO PORT [ENV...]: ncperf server in "nc_b", pid in PIDS
start_server() {
	local proto=$1 port=$2 pid
	shift 2
	pid=$("${ON_B[@]}" env "$@" "$NCPERF" server --proto "$proto" --port "$port" \
		--background --idle 60 --timeout 5 2> "$T/server-$proto-$port.err") || return 1
	PIDS+=("$pid")
}

# client NAME ARGS...: run an ncperf client in "nc_a" with --json into $T/NAME.json
client() {
	local name=$1
	shift
	"${ON_A[@]}" "$NCPERF" client --addr "$SERVER_ADDR" --timeout 5 --json "$@" \
		> "$T/$name.json" 2> "$T/$name.err"
}

check_json() { # NAME: parses, and says ok
	"$NCPERF" json-check "$T/$1.json" && [ "$(jget ok "$T/$1.json")" = true ]
}

check_bulk() { # NAME LABEL
	local bps bytes
	if ! check_json "$1"; then fail "$2: $(cat "$T/$1.err" "$T/$1.json" | sed -n 1,2p)"; return; fi
	bps=$(jget throughput_bps "$T/$1.json")
	bytes=$(jget bytes "$T/$1.json")
	if fcmp 'a > 0 && b > 0' "$bps" "$bytes"; then
		pass "$2: $(awk -v b="$bps" 'BEGIN { printf "%.3f Gbit/s", b / 1e9 }')"
	else
		fail "$2: throughput '$bps' bytes '$bytes'"
	fi
}

check_lat() { # NAME LABEL [OBJ.]: rate > 0 and ordered percentiles (of OBJ: lapp.)
	local f=$T/$1.json o=${3:-} rate mn p50 p99 p999 mx
	if ! check_json "$1"; then fail "$2: $(cat "$T/$1.err" "$f" | sed -n 1,2p)"; return; fi
	rate=$(jget "${o}rate_rps" "$f") mn=$(jget "${o}latency_us.min" "$f")
	p50=$(jget "${o}latency_us.p50" "$f") p99=$(jget "${o}latency_us.p99" "$f")
	p999=$(jget "${o}latency_us.p999" "$f") mx=$(jget "${o}latency_us.max" "$f")
	if fcmp 'a > 0 && b > 0 && b <= c && c <= d && d <= e' "$rate" "$mn" "$p50" "$p99" "$p999" &&
		fcmp 'a <= b' "$p999" "$mx"; then
		pass "$2: $rate req/s, p50 $p50 p99 $p99 p99.9 $p999 us"
	else
		fail "$2: rate '$rate' min '$mn' p50 '$p50' p99 '$p99' p99.9 '$p999' max '$mx'"
	fi
}

echo "== bench smoke ($MODE): ncperf and libncpreload.so, ${SECS} s runs"

# 1. the program answers --help
if "$NCPERF" --help > "$T/help.txt" && grep -q '^Usage: ncperf' "$T/help.txt"; then
	pass "ncperf --help"
else
	fail "ncperf --help"
fi

# 2. json-check rejects what is not JSON
if ! echo '{"a":nan}' | "$NCPERF" json-check 2>/dev/null && echo '{"a":[1,"x"]}' | "$NCPERF" json-check; then
	pass "json-check accepts JSON and rejects non-JSON"
else
	fail "json-check"
fi

# 2b. json-get reads nested members, and nothing from what is not JSON
echo '{"a":{"b":1.5,"s":"x \"y\""},"b":2}' > "$T/get.json"
echo '{"a":1,' > "$T/get-bad.json"
if [ "$(jget a.b "$T/get.json")" = 1.5 ] && [ "$(jget b "$T/get.json")" = 2 ] &&
	[ "$(jget a.s "$T/get.json")" = 'x "y"' ] && ! jget a.c "$T/get.json" &&
	! jget a "$T/get-bad.json"; then
	pass "json-get reads nested members and refuses absent ones and bad JSON"
else
	fail "json-get: a.b '$(jget a.b "$T/get.json")' a.s '$(jget a.s "$T/get.json")'"
fi

# 3. TCP
if start_server tcp $PORT_TCP; then
	pass "TCP server listening"
	client bulk1 bulk --port $PORT_TCP --seconds "$SECS" || true
	check_bulk bulk1 "TCP bulk, 1 socket"
	client bulk2 bulk --port $PORT_TCP --sockets 2 --bytes 4M || true
	if check_json bulk2 && [ "$(jget bytes "$T/bulk2.json")" = 4194304 ]; then
		pass "TCP bulk, 2 sockets, --bytes 4M: exactly 4194304 bytes acknowledged"
	else
		fail "TCP bulk --bytes 4M: $(cat "$T/bulk2.err" "$T/bulk2.json" | sed -n 1,2p)"
	fi
	client rr rr --port $PORT_TCP --seconds "$SECS" --size 64 --cdf "$T/rr.cdf" || true
	check_lat rr "TCP rr 64 B"
	if [ -s "$T/rr.cdf" ] && awk '!/^#/ { if ($2 < last || $2 > 1) bad = 1; last = $2 }
			END { exit bad || last != 1 }' "$T/rr.cdf"; then
		pass "latency CDF is monotonic and ends at 1"
	else
		fail "latency CDF $T/rr.cdf"
	fi
	cg=()
	if [ -n "$CGROOT" ] && mkdir -p "$CGROOT/ncsmoke_l" "$CGROOT/ncsmoke_t" 2>/dev/null; then
		CGROUPS+=("$CGROOT/ncsmoke_l" "$CGROOT/ncsmoke_t")
		cg=(--lapp-cgroup "$CGROOT/ncsmoke_l" --tapp-cgroup "$CGROOT/ncsmoke_t")
	fi
	client mix mix --port $PORT_TCP --seconds "$SECS" --tapps 1 --interval 100 "${cg[@]}" || true
	check_lat mix "TCP mix, L-app next to 1 T-app${cg:+, in cgroups}" lapp.
	if fcmp 'a > 0' "$(jget tapp.throughput_bps "$T/mix.json")"; then
		pass "TCP mix: T-app throughput > 0"
	else
		fail "TCP mix: T-app throughput '$(jget tapp.throughput_bps "$T/mix.json")'"
	fi
else
	fail "TCP server did not start: $(cat "$T/server-tcp-$PORT_TCP.err")"
fi

# 4. failures are reported, as JSON, with a non-zero status
if ! client refused rr --port 5399 --seconds 1 && "$NCPERF" json-check "$T/refused.json" &&
	[ "$(jget ok "$T/refused.json")" = false ] &&
	[[ $(jget error "$T/refused.json") == connect* ]]; then
	pass "a refused connection fails with a JSON error"
else
	fail "refused connection: $(cat "$T/refused.json")"
fi

# 5. the preload library, in test mode (protocol 6): conversions logged, still works
if [ -f "$PRELOAD" ]; then
	pre=(LD_PRELOAD="$PRELOAD" NC_PRELOAD="*:$PORT_PRE" NC_PRELOAD_PROTO=6
		NC_PRELOAD_DEBUG=1 NC_PRELOAD_LOG="$T/preload.log")
	if start_server tcp $PORT_PRE "${pre[@]}"; then
		"${ON_A[@]}" env "${pre[@]}" "$NCPERF" client rr --addr "$SERVER_ADDR" \
			--port $PORT_PRE --seconds "$SECS" --timeout 5 --json > "$T/pre.json" 2> "$T/pre.err" || true
		check_lat pre "TCP rr through libncpreload.so (test mode)"
		if grep -q "bind 0.0.0.0:$PORT_PRE -> converted" "$T/preload.log" &&
			grep -q "connect $SERVER_ADDR:$PORT_PRE -> converted" "$T/preload.log" &&
			grep -q "accepted on converted listener" "$T/preload.log"; then
			pass "preload converted bind, connect and accept"
		else
			fail "preload log: $(head -n 5 "$T/preload.log" 2>/dev/null)"
		fi
		# a port not listed is left alone
		"${ON_A[@]}" env "${pre[@]}" "$NCPERF" client rr --addr "$SERVER_ADDR" \
			--port $PORT_TCP --seconds 0.2 --timeout 5 > /dev/null 2>&1 || true
		if ! grep -q ":$PORT_TCP -> converted" "$T/preload.log"; then
			pass "preload leaves other ports alone"
		else
			fail "preload converted a port it was not given"
		fi
	else
		fail "server under LD_PRELOAD did not start: $(cat "$T/server-tcp-$PORT_PRE.err")"
	fi
else
	skip "no $PRELOAD"
fi

# 6. NetChannel, if a socket can be created and connected
if ! start_server netchannel $PORT_NC; then
	skip "NetChannel: $(head -n 1 "$T/server-netchannel-$PORT_NC.err" | sed 's/^ncperf: //')"
else
	client ncrr rr --proto netchannel --port $PORT_NC --seconds "$SECS" || true
	if [[ $(jget error "$T/ncrr.json") =~ ^(socket|connect)\  ]]; then
		skip "NetChannel: $(jget error "$T/ncrr.json")"
	else
		check_lat ncrr "NetChannel rr 64 B"
		client ncbulk bulk --proto netchannel --port $PORT_NC --seconds "$SECS" || true
		check_bulk ncbulk "NetChannel bulk, 1 socket"
	fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
