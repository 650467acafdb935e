#!/usr/bin/env bash
# make bench, the part that runs inside the test guest (staged as
# /nc/bench-guest.sh by scripts/bench.sh). Two hosts: the tests' network
# namespaces nc_a (10.99.0.1, clients) and nc_b (10.99.0.2, servers) joined by
# veth, made by nc_hosts (the test library's topology). Every
# measurement runs over plain TCP and over NetChannel in this same boot, and
# the table gives NetChannel/baseline. A NetChannel measurement that fails is
# "n/a (reason)", never a number.
#
# Output: human text, plus machine lines for scripts/bench.sh, each starting
# with "NCB|": NCB|json|... (the JSON document, line by line), NCB|cdf|NAME|X Y
# (latency CDF points: usec, fraction), NCB|row|ID|RATIO (for bench/results.md)
# and NCB|table|... (the table again, for the host to print last).
#
# Knobs (environment; scripts/bench.sh passes BENCH_* through):
#   BENCH_SECONDS=3        length of every measured run
#   BENCH_WARMUP=0.5       rr/mix warmup before measuring
#   BENCH_SIZE=64          rr and L-app message size
#   BENCH_TAPPS=2          T-apps next to the L-app
#   BENCH_LAPP_INTERVAL=500  microseconds between L-app requests
#   BENCH_LAPP_NICE=-20    nice value of the L-app, TCP and NetChannel alike
#                          (as the paper's artifact: CPU priority is then
#                          equal, and what remains is the stack)
#   BENCH_LATENCY=latency  the second policy of the L-app/T-app rows
#   BENCH_CHANNELS="1 2 4" channel / VNS worker counts of the bulk sweep
#   BENCH_FAIR_KBIT=4000   the rate-limited link of the fair-share row (tbf)
#   BENCH_PRIORITY=priority            policy for the L-app/T-app rows
#   BENCH_PRIORITY_SETUP=auto          shell command run after attaching it
#                                      ($LAPP_CG and $TAPP_CG are set); auto:
#                                      `ncload set-class` L-app 0, T-apps 2
#                                      when ncload has set-class; "" for none
#   BENCH_COST_POLICY=""   policy whose cost is measured (default: $BENCH_PRIORITY
#                          if ncload knows it and it attaches, else
#                          /nc/progs/nc_test_count.bpf.o)
#   BENCH_SWAP_POLICY=""   policies `ncload replace` cycles through (default: the
#                          cost policy and "fair" if ncload has it, else the same)
#   BENCH_SWAPS=5          replaces during the stall run
#   BENCH_APPS=1           0 skips sockperf, iperf3 and redis
#   BENCH_REDIS_N=2000     redis-benchmark requests per test
#   BENCH_SOCKPERF_MPS=200 sockperf under-load message rate
#   BENCH_DATE             date stamp (default: now)
#   BENCH_NCPERF, BENCH_NCLOAD, BENCH_PRELOAD, BENCH_NCHOSTS, BENCH_NC_KO: where
#                          the tools and the module are (default /nc/...), for
#                          running this outside the guest; a module already
#                          loaded is used
#
# Namespaces, cgroups and servers it creates are removed when it exits.
set -euo pipefail

SECS=${BENCH_SECONDS:-3}
WARMUP=${BENCH_WARMUP:-0.5}
SIZE=${BENCH_SIZE:-64}
TAPPS=${BENCH_TAPPS:-2}
INTERVAL=${BENCH_LAPP_INTERVAL:-500}
LAPP_NICE=${BENCH_LAPP_NICE:--20}
LATENCY=${BENCH_LATENCY:-latency}
CHANNELS=${BENCH_CHANNELS:-1 2 4}
FAIR_KBIT=${BENCH_FAIR_KBIT:-4000}
PRIORITY=${BENCH_PRIORITY:-priority}
PRIORITY_SETUP=${BENCH_PRIORITY_SETUP-auto}
COST_POLICY=${BENCH_COST_POLICY:-}
SWAP_POLICY=${BENCH_SWAP_POLICY:-}
SWAPS=${BENCH_SWAPS:-5}
APPS=${BENCH_APPS:-1}
REDIS_N=${BENCH_REDIS_N:-2000}
SOCKPERF_MPS=${BENCH_SOCKPERF_MPS:-200}
DATE=${BENCH_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}

NCPERF=${BENCH_NCPERF:-/nc/bin/ncperf}
NCLOAD=${BENCH_NCLOAD:-/nc/bin/ncload}
PRELOAD=${BENCH_PRELOAD:-/nc/lib/libncpreload.so}
NCHOSTS=${BENCH_NCHOSTS:-/nc/bin/nc_hosts}
NC_KO=${BENCH_NC_KO:-/nc/netchannel.ko}
if ! SRV=$("$NCHOSTS" addr b) || ! HOST_A=$("$NCHOSTS" name a) ||
	! HOST_B=$("$NCHOSTS" name b); then
	echo "bench: cannot run $NCHOSTS (make all; BENCH_NCHOSTS says where it is)" >&2
	exit 1
fi
R=/tmp/bench
CGROOT=/run/nc-cgroup
LAPP_CG=$CGROOT/nc_lapp
TAPP_CG=$CGROOT/nc_tapp
PORT_TCP=5301 PORT_NC=5302
PORT_TCP_L=5303 PORT_NC_L=5304	# the L-app's own servers (in its cgroup)
PORT_MP=5305			# MPTCP, the second baseline
export LAPP_CG TAPP_CG

mkdir -p "$R"
declare -A V=()		# V[key]: a number, or "n/a (reason)"
declare -A NOTE=()	# NOTE[row id]: remark for the table
PIDS=()
NC_DOWN=""		# why NetChannel cannot be measured at all, if so
NC_SRV_PID=""

say() { printf '\n== %s\n' "$*"; }
log() { printf '   %s\n' "$*"; }
NS_A=$HOST_A NS_B=$HOST_B	# the pair in use (the channel sweep uses fresh ones)
on_a() { ip netns exec "$NS_A" "$@"; }
on_b() { ip netns exec "$NS_B" "$@"; }
isnum() { [[ ${1:-} =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }
oneline() { tr -d '\000-\010\013-\037' | tr '\t\n' '  ' | sed 's/  */ /g; s/ $//' | cut -c1-160; }

NETNS_MADE=()		# pairs of namespaces made here: A1 B1 A2 B2 ...
cleanup() {
	local p i
	for p in "${PIDS[@]}" $NC_SRV_PID; do kill "$p" 2>/dev/null || true; done
	"$NCLOAD" detach > /dev/null 2>&1 || true
	sleep 0.5
	for ((i = 0; i + 1 < ${#NETNS_MADE[@]}; i += 2)); do
		"$NCHOSTS" down "${NETNS_MADE[i]}" "${NETNS_MADE[i + 1]}" 2>/dev/null || true
	done
	rmdir "$LAPP_CG" "$TAPP_CG" 2>/dev/null || true
}

# make_pair A B: namespaces A and B joined by veth, with the tests' addresses
# ($(nc_hosts addr a) in A, $SRV in B); nc_hosts refuses, touching nothing, if
# either exists already
make_pair() {
	"$NCHOSTS" up --new "$1" "$2" || exit 1
	NETNS_MADE+=("$1" "$2")
}
trap cleanup EXIT

# ------------------------------------------------------------------ setup
say "setup: namespaces $HOST_A ($("$NCHOSTS" addr a)) and $HOST_B ($SRV) joined by veth"
make_pair "$HOST_A" "$HOST_B"

# `ip netns exec` mounts a fresh /sys, which hides /sys/fs/cgroup; mount the
# cgroup2 hierarchy a second time where processes in the namespaces see it.
mkdir -p "$CGROOT"
grep -q " $CGROOT cgroup2 " /proc/mounts || mount -t cgroup2 none "$CGROOT"
mkdir -p "$LAPP_CG" "$TAPP_CG"
log "cgroups: L-app $LAPP_CG, T-apps $TAPP_CG"

if [ -d /sys/module/netchannel ]; then
	log "netchannel is loaded already; using it"
elif [ ! -e "$NC_KO" ]; then
	NC_DOWN="no $NC_KO"
elif ! out=$(insmod "$NC_KO" 2>&1); then
	NC_DOWN="insmod netchannel.ko: $(echo "$out" | oneline)"
fi
if [ -z "$NC_DOWN" ]; then log "netchannel.ko in use"; else log "NetChannel unavailable: $NC_DOWN"; fi

# ------------------------------------------------------------------ helpers
jstr() {
	local s
	s=$(printf '%s' "$1" | tr -d '\000-\010\013-\037' | tr '\t\n' '  ')
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# jget PATH FILE: member PATH (keys joined by dots) of the JSON in FILE, by
# ncperf's parser (the guest has no jq or python); empty if absent
jget() { "$NCPERF" json-get "$2" "$1" 2> /dev/null; }
run_ok() { [ "$(jget ok "$1")" = true ]; }
reason_of() { jget error "$1" | oneline; }

# start_server PROTO PORT: ncperf server in nc_b; prints nothing, sets LAST_ERR
start_server() {
	local pid
	if pid=$(on_b "$NCPERF" server --proto "$1" --port "$2" --background --idle 900 \
		--timeout 20 2> "$R/server-$1.err"); then
		echo "$pid"
		return 0
	fi
	LAST_ERR=$(oneline < "$R/server-$1.err")
	return 1
}

# perf NAME PROTO ARGS...: one ncperf client run in nc_a, JSON in $R/NAME.json
perf() {
	local name=$1 proto=$2 port=$PORT_TCP lport=$PORT_TCP_L rc=0 lp=()
	shift 2
	case $proto in
	tcp) ;;
	mptcp) port=$PORT_MP ;;
	# a NetChannel socket to the TCP server: it falls back to TCP
	fallback) proto=netchannel ;;
	*) port=$PORT_NC lport=$PORT_NC_L ;;
	esac
	[ "${1:-}" != mix ] || lp=(--lapp-port "$lport")
	if [ "$proto" != tcp ] && [ -n "$NC_DOWN" ]; then
		printf '{"tool":"ncperf","tag":"%s","proto":"netchannel","ok":false,"error":%s}\n' \
			"$name" "$(jstr "$NC_DOWN")" > "$R/$name.json"
	else
		on_a "$NCPERF" client --proto "$proto" --addr "$SRV" --port "$port" --timeout 20 \
			--json --tag "$name" "$@" "${lp[@]}" > "$R/$name.json" 2> "$R/$name.err" || rc=$?
		if ! grep -q '^{' "$R/$name.json"; then
			printf '{"tool":"ncperf","tag":"%s","ok":false,"error":%s}\n' "$name" \
				"$(jstr "ncperf exited $rc: $(oneline < "$R/$name.err")")" > "$R/$name.json"
		fi
	fi
	cat "$R/$name.json" >> "$R/runs.jsonl"
	if run_ok "$R/$name.json"; then
		log "$name: ok"
	else
		log "$name: FAILED: $(reason_of "$R/$name.json")"
	fi
}

# take KEY NAME PATH [SCALE]: V[KEY] = member PATH of run NAME's JSON (times
# SCALE), or n/a
take() {
	local key=$1 f=$R/$2.json field=$3 scale=${4:-1} v
	if run_ok "$f"; then
		v=$(jget "$field" "$f")
		if isnum "$v"; then
			V[$key]=$(awk -v v="$v" -v s="$scale" 'BEGIN { printf "%.6g", v * s }')
			return
		fi
		V[$key]="n/a (no $field in the result)"
	else
		V[$key]="n/a ($(reason_of "$f"))"
	fi
}

na() { V[$1]="n/a ($2)"; }

cdf() { # NAME: the run's CDF file, for the plot
	if [ -s "$R/$1.cdf" ]; then cp "$R/$1.cdf" "$R/cdf-$1.txt"; fi
}

policy_attach() { # POLICY -> 0, or 1 with LAST_ERR
	local out
	"$NCLOAD" detach > /dev/null 2>&1 || true
	if out=$("$NCLOAD" attach "$1" 2>&1); then return 0; fi
	LAST_ERR="ncload attach $1: $(echo "$out" | oneline)"
	return 1
}

nc_server_restart() { # -> 0, or 1 with LAST_ERR
	[ -z "$NC_SRV_PID" ] || kill "$NC_SRV_PID" 2>/dev/null || true
	NC_SRV_PID=""
	[ -z "$NC_DOWN" ] || { LAST_ERR=$NC_DOWN; return 1; }
	local pid
	pid=$(start_server netchannel $PORT_NC) || return 1
	NC_SRV_PID=$pid
}

mix_args=(mix --size "$SIZE" --interval "$INTERVAL" --warmup "$WARMUP" --seconds "$SECS"
	--lapp-cgroup "$LAPP_CG" --tapp-cgroup "$TAPP_CG")
[ "$LAPP_NICE" = 0 ] || mix_args+=(--lapp-nice "$LAPP_NICE")
rr_args=(rr --size "$SIZE" --warmup "$WARMUP" --seconds "$SECS")

# ------------------------------------------------------------------ servers
say "ncperf servers in nc_b: TCP :$PORT_TCP, NetChannel :$PORT_NC; the L-app's: :$PORT_TCP_L, :$PORT_NC_L"
TCP_SRV_PID=$(start_server tcp $PORT_TCP) || { echo "bench: TCP server failed: $LAST_ERR"; exit 1; }
PIDS+=("$TCP_SRV_PID")
# The L-app's server is a process of its own in the L-app's cgroup, at the
# L-app's nice, as a latency-sensitive service's would be: a policy then
# classes its replies as it classes the requests (an accepted socket takes
# its listener's cgroup). Same for both stacks.
lapp_server() { # PROTO PORT -> pid, or 1 (the reason in $R/server-lapp-PROTO.err)
	local pid
	if pid=$(on_b sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec nice -n "$@"' sh \
		"$LAPP_CG" "$LAPP_NICE" "$NCPERF" server --proto "$1" --port "$2" --background \
		--idle 900 --timeout 20 2> "$R/server-lapp-$1.err"); then
		echo "$pid"
		return 0
	fi
	return 1
}
# (lapp_server runs in a subshell: its LAST_ERR is read from its file here)
if pid=$(lapp_server tcp $PORT_TCP_L); then PIDS+=("$pid"); else
	echo "bench: the L-app's TCP server failed: $(oneline < "$R/server-lapp-tcp.err")"; exit 1; fi
if [ -z "$NC_DOWN" ]; then
	if pid=$(lapp_server netchannel $PORT_NC_L); then PIDS+=("$pid"); else
		NC_DOWN="the L-app's NetChannel server: $(oneline < "$R/server-lapp-netchannel.err")"; fi
fi
if ! nc_server_restart; then
	[ -n "$NC_DOWN" ] || NC_DOWN="NetChannel server: $LAST_ERR"
	log "NetChannel server unavailable: $NC_DOWN"
fi

# ------------------------------------------------------------------ TCP and NetChannel, no policy
say "bulk, 1 socket, ${SECS} s (and the guest's busy CPU time meanwhile)"
# cpu_busy: jiffies (USER_HZ) every CPU of the guest spent busy: user, nice,
# system, irq, softirq, steal (not idle, not iowait), from /proc/stat
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
for p in tcp netchannel; do
	c0=$(cpu_busy)
	perf "bulk_$p" $p bulk --seconds "$SECS"
	c1=$(cpu_busy)
	short=$p; [ $p = tcp ] || short=nc
	bytes=$(jget bytes "$R/bulk_$p.json")
	if run_ok "$R/bulk_$p.json" && isnum "$bytes" && [ "${bytes%.*}" -gt 0 ]; then
		# busy CPU-seconds per GB moved, all CPUs of the guest
		V[cpub.$short]=$(awk -v c=$((c1 - c0)) -v b="$bytes" 'BEGIN { printf "%.6g", c / 100 / (b / 1e9) }')
	else
		V[cpub.$short]="n/a (no bulk result)"
	fi
done
take bulk.tcp bulk_tcp throughput_bps 1e-9
take bulk.nc bulk_netchannel throughput_bps 1e-9

say "rr, ${SIZE} B, 1 socket, ${SECS} s"
for p in tcp netchannel; do perf "rr_$p" $p "${rr_args[@]}" --cdf "$R/rr_$p.cdf"; cdf "rr_$p"; done
take rr.tcp rr_tcp rate_rps
take rr.nc rr_netchannel rate_rps
take rrmax.tcp rr_tcp latency_us.max
take rrmax.nc rr_netchannel latency_us.max

# MPTCP: what a user who wants one socket over several TCP connections would
# pick today. Two subflows per connection: $NS_A gets a second address on
# its veth, announced as a subflow endpoint, and both hosts allow 2.
say "MPTCP, 2 subflows: bulk and rr, as the second baseline"
mp_setup() { # -> 0, or 1 with LAST_ERR
	local dev a2 out
	dev=$("$NCHOSTS" dev a)
	a2=$("$NCHOSTS" addr a)
	a2=${a2%.*}.11
	if ! out=$(on_a ip addr add "$a2/24" dev "$dev" 2>&1 &&
		on_a ip mptcp limits set subflow 2 add_addr_accepted 2 2>&1 &&
		on_b ip mptcp limits set subflow 2 add_addr_accepted 2 2>&1 &&
		on_a ip mptcp endpoint add "$a2" dev "$dev" subflow 2>&1); then
		LAST_ERR="ip mptcp: $(echo "$out" | oneline)"
		return 1
	fi
	log "MPTCP endpoint $a2 (subflow) on $NS_A's $dev; limits: subflow 2"
}
joins() { # subflows joined so far (nstat), 0 if it cannot tell (no nstat in the guest)
	{ on_a nstat -az MPTcpExtMPJoinSynAckRx 2> /dev/null || true; } |
		awk '/MPJoinSynAckRx/ { n = $2 } END { print n + 0 }'
}
LAST_ERR=""
if mp_setup && mpsrv=$(start_server mptcp $PORT_MP); then
	PIDS+=("$mpsrv")
	j0=$(joins)
	perf bulk_mptcp mptcp bulk --seconds "$SECS"
	perf rr_mptcp mptcp "${rr_args[@]}"
	log "MPTCP subflows joined meanwhile: $(( $(joins) - j0 )) (one per connection expected)"
	take bulk.mptcp bulk_mptcp throughput_bps 1e-9
	take rr.mptcp rr_mptcp rate_rps
else
	# start_server's LAST_ERR is lost in the $(...) subshell: read its log
	[ -n "$LAST_ERR" ] || LAST_ERR="MPTCP server: $(oneline < "$R/server-mptcp.err" 2> /dev/null)"
	na bulk.mptcp "$LAST_ERR"
	na rr.mptcp "$LAST_ERR"
fi

# Fallback: what a NetChannel socket costs once it has become TCP (the TCP
# server's port has no NetChannel listener, so the connect falls back).
say "fallback: NetChannel sockets to the TCP server (they become TCP)"
fbn() { on_a awk '/^fallback_no_(host|listener):/ { n += $2 } END { print n + 0 }' \
	/proc/net/netchannel/stats 2> /dev/null || echo 0; }
fb0=$(fbn)
perf bulk_fallback fallback bulk --seconds "$SECS"
perf rr_fallback fallback "${rr_args[@]}"
take fbbulk.nc bulk_fallback throughput_bps 1e-9
take fbrr.nc rr_fallback rate_rps
log "connects that fell back meanwhile: $(( $(fbn) - fb0 )) (2 expected)"
[ $(( $(fbn) - fb0 )) -ge 2 ] || NOTE[fallback_bulk]="the connects did not fall back"

say "L-app alone (${SIZE} B rr every ${INTERVAL} us)"
for p in tcp netchannel; do
	perf "lapp_alone_$p" $p "${mix_args[@]}" --tapps 0 --cdf "$R/lapp_alone_$p.cdf"
	cdf "lapp_alone_$p"
done
for s in tcp:tcp netchannel:nc; do
	take "alone99.${s#*:}" "lapp_alone_${s%:*}" lapp.latency_us.p99
	take "alone999.${s#*:}" "lapp_alone_${s%:*}" lapp.latency_us.p999
done

say "L-app next to $TAPPS T-apps, no policy"
for p in tcp netchannel; do
	perf "lapp_tapps_$p" $p "${mix_args[@]}" --tapps "$TAPPS" --cdf "$R/lapp_tapps_$p.cdf"
	cdf "lapp_tapps_$p"
done
for s in tcp:tcp netchannel:nc; do
	take "tapps99.${s#*:}" "lapp_tapps_${s%:*}" lapp.latency_us.p99
	take "tapps999.${s#*:}" "lapp_tapps_${s%:*}" lapp.latency_us.p999
	take "tapput.${s#*:}" "lapp_tapps_${s%:*}" tapp.throughput_bps 1e-9
done

# ------------------------------------------------------------------ policies
# policy_mix NAME KEY: with a policy attached, the L-app next to the T-apps
# over NetChannel as run NAME: V[KEY99.nc], V[KEY999.nc], V[KEYput.nc]; then
# detach
policy_mix() {
	perf "$1" netchannel "${mix_args[@]}" --tapps "$TAPPS" --cdf "$R/$1.cdf"
	cdf "$1"
	take "${2}99.nc" "$1" lapp.latency_us.p99
	take "${2}999.nc" "$1" lapp.latency_us.p999
	take "${2}put.nc" "$1" tapp.throughput_bps 1e-9
	"$NCLOAD" detach > /dev/null 2>&1 || true
}

say "L-app next to $TAPPS T-apps, policy '$PRIORITY' (TCP has none: its run above is the baseline)"
if [ -n "$NC_DOWN" ]; then
	for k in prio99 prio999 prioput; do na "$k.nc" "$NC_DOWN"; done
elif policy_attach "$PRIORITY"; then
	if [ "$PRIORITY_SETUP" = auto ]; then
		PRIORITY_SETUP=""
		if "$NCLOAD" --help 2>&1 | grep -q set-class; then
			# shellcheck disable=SC2016 # expanded by the sh -c below
			PRIORITY_SETUP='"$NCLOAD" set-class "$LAPP_CG" 0 && "$NCLOAD" set-class "$TAPP_CG" 2'
		fi
	fi
	if [ -n "$PRIORITY_SETUP" ]; then
		if out=$(NCLOAD=$NCLOAD sh -c "$PRIORITY_SETUP" 2>&1); then
			log "class setup done: $(echo "$PRIORITY_SETUP" | sed "s|\"\$NCLOAD\"|ncload|g; s|\"\$LAPP_CG\"|$LAPP_CG|; s|\"\$TAPP_CG\"|$TAPP_CG|")"
		else
			log "BENCH_PRIORITY_SETUP failed: $(echo "$out" | oneline)"
			NOTE[lapp_prio_p99]="setup failed: $(echo "$out" | oneline)"
		fi
	else
		NOTE[lapp_prio_p99]="no class setup (ncload has no set-class)"
	fi
	policy_mix lapp_prio_netchannel prio
else
	log "$LAST_ERR"
	for k in prio99 prio999 prioput; do na "$k.nc" "$LAST_ERR"; done
fi

say "L-app next to $TAPPS T-apps, policy '$LATENCY'"
if [ -n "$NC_DOWN" ]; then
	for k in lat99 lat999 latput; do na "$k.nc" "$NC_DOWN"; done
elif policy_attach "$LATENCY"; then
	policy_mix lapp_lat_netchannel lat
else
	log "$LAST_ERR"
	for k in lat99 lat999 latput; do na "$k.nc" "$LAST_ERR"; done
fi

# inflation: p99 next to the T-apps / p99 alone, each stack against its own
ratio_of() { # KEY NUM DEN
	if isnum "${V[$2]:-}" && isnum "${V[$3]:-}"; then
		V[$1]=$(awk -v a="${V[$2]}" -v b="${V[$3]}" 'BEGIN { printf "%.4g", b ? a / b : 0 }')
	else
		V[$1]="n/a (${V[$2]:-not measured} / ${V[$3]:-not measured})"
	fi
}
ratio_of infl.tcp tapps99.tcp alone99.tcp
ratio_of infl.nc tapps99.nc alone99.nc
ratio_of inflprio.nc prio99.nc alone99.nc
ratio_of infllat.nc lat99.nc alone99.nc

# The cost policy: BENCH_COST_POLICY, else the priority policy if ncload has
# it, falling back to the test policy nc_test_count if it will not attach.
if [ -n "$COST_POLICY" ]; then
	COST_CANDIDATES=("$COST_POLICY")
else
	COST_CANDIDATES=()
	if "$NCLOAD" list 2>/dev/null | tr " " "\n" | grep -qx -- "$PRIORITY"; then
		COST_CANDIDATES+=("$PRIORITY")
	fi
	COST_CANDIDATES+=(/nc/progs/nc_test_count.bpf.o)
	COST_POLICY=${COST_CANDIDATES[0]}
fi

say "cost of a BPF policy against the native policy: rr rate"
COST_ATTACHED=0
if [ -n "$NC_DOWN" ]; then
	na cost.nc "$NC_DOWN"
else
	cost_errs=""
	for c in "${COST_CANDIDATES[@]}"; do
		if policy_attach "$c"; then
			COST_POLICY=$c
			COST_ATTACHED=1
			break
		fi
		log "$LAST_ERR"
		cost_errs+="${cost_errs:+; }$LAST_ERR"
	done
	if [ "$COST_ATTACHED" = 1 ]; then
		[ -z "$cost_errs" ] || NOTE[bpf_cost]="fell back: $cost_errs"
		log "policy: $COST_POLICY"
		perf rr_bpf_netchannel netchannel "${rr_args[@]}"
		take cost.nc rr_bpf_netchannel rate_rps
	else
		na cost.nc "$cost_errs"
	fi
fi
COST_NAME=$(basename "$COST_POLICY" .bpf.o)
if [ -z "$SWAP_POLICY" ]; then
	SWAP_POLICY=$COST_POLICY
	if "$NCLOAD" list 2>/dev/null | tr " " "\n" | grep -qx fair; then SWAP_POLICY+=" fair"; fi
fi
read -r -a SWAP_LIST <<< "$SWAP_POLICY"

say "stall during live policy swaps: max rr latency while 'ncload replace' runs $SWAPS times ($SWAP_POLICY)"
if [ -n "$NC_DOWN" ]; then
	na swap.nc "$NC_DOWN"
elif [ "$COST_ATTACHED" != 1 ] && ! policy_attach "$COST_POLICY"; then
	na swap.nc "$LAST_ERR"
else
	# the swaps, spread over the measured part of the run
	(
		gap=$(awk -v s="$SECS" -v n="$SWAPS" 'BEGIN { printf "%.3f", s / (n + 1) }')
		sleep "$WARMUP"
		ok=0
		for i in $(seq "$SWAPS"); do
			sleep "$gap"
			# cycle through the list, starting after the attached one
			next=${SWAP_LIST[$((i % ${#SWAP_LIST[@]}))]}
			if "$NCLOAD" replace "$next" > /dev/null 2>> "$R/swap.err"; then ok=$((ok + 1)); fi
		done
		echo "$ok" > "$R/swap.ok"
	) &
	swapper=$!
	perf swap_netchannel netchannel "${rr_args[@]}" --cdf "$R/swap_netchannel.cdf"
	wait "$swapper" || true
	cdf swap_netchannel
	swaps_ok=$(cat "$R/swap.ok" 2>/dev/null || echo 0)
	NOTE[swap_stall]="$swaps_ok/$SWAPS swaps done ($SWAP_POLICY); NetChannel max without swaps: ${V[rrmax.nc]}"
	[ ! -s "$R/swap.err" ] || NOTE[swap_stall]+="; first error: $(sed -n 1p "$R/swap.err" | oneline)"
	if [ "$swaps_ok" -gt 0 ]; then
		take swap.nc swap_netchannel latency_us.max
	else
		na swap.nc "no swap succeeded: $(head -n 1 "$R/swap.err" 2>/dev/null | oneline)"
	fi
	# The same run with the same policies only loaded ('ncload check': the
	# verifier and JIT take a vCPU from the rr, as in a swap) and never
	# swapped in: what a swap costs the stack itself, beyond that CPU.
	(
		gap=$(awk -v s="$SECS" -v n="$SWAPS" 'BEGIN { printf "%.3f", s / (n + 1) }')
		sleep "$WARMUP"
		for i in $(seq "$SWAPS"); do
			sleep "$gap"
			"$NCLOAD" check "${SWAP_LIST[$((i % ${#SWAP_LIST[@]}))]}" > /dev/null 2>&1 || true
		done
	) &
	swapper=$!
	perf swapload_netchannel netchannel "${rr_args[@]}"
	wait "$swapper" || true
	take swapload.nc swapload_netchannel latency_us.max
fi
"$NCLOAD" detach > /dev/null 2>&1 || true

# ------------------------------------------------------------------ unmodified programs
# wait_listen PORT KIND [LOG]: TCP: the port is LISTEN in nc_b's /proc/net/tcp;
# NetChannel: the preload log shows the listener's bind converted.
wait_listen() {
	local port=$1 kind=$2 logf=${3:-} hex
	hex=$(printf '%04X' "$port")
	for _ in $(seq 100); do
		if [ "$kind" = tcp ]; then
			on_b cat /proc/net/tcp | awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" { f = 1 } END { exit !f }' && return 0
		else
			grep -q "bind .*:$port -> converted" "$logf" 2>/dev/null && { sleep 0.5; return 0; }
		fi
		sleep 0.1
	done
	return 1
}

# app_env PROTO PORT NAME: the environment of an app run (preload for NetChannel)
app_env() {
	if [ "$1" = tcp ]; then
		echo "NC_BENCH=tcp"
	else
		printf '%s\n' "LD_PRELOAD=$PRELOAD" "NC_PRELOAD=$SRV:$2" NC_PRELOAD_DEBUG=1 \
			"NC_PRELOAD_LOG=$R/preload-$3.log"
	fi
}

converted() { # NAME: sockets the preload library converted in that run
	grep -c "converted to protocol" "$R/preload-$1.log" 2>/dev/null || echo 0
}

# app NAME PROTO PORT SERVER_CMD -- CLIENT_CMD: run one unmodified client/server pair
app() {
	local name=$1 proto=$2 port=$3 srv=() cli=() envs spid rc=0
	shift 3
	while [ "$1" != -- ]; do srv+=("$1"); shift; done
	shift
	cli=("$@")
	mapfile -t envs < <(app_env "$proto" "$port" "$name")
	if [ "$proto" != tcp ] && [ -n "$NC_DOWN" ]; then
		echo "$NC_DOWN" > "$R/$name.err"
		return 1
	fi
	on_b env "${envs[@]}" timeout $((SECS * 4 + 120)) "${srv[@]}" > "$R/$name.srv" 2>&1 &
	spid=$!
	if ! wait_listen "$port" "$proto" "$R/preload-$name.log"; then
		kill "$spid" 2>/dev/null || true
		echo "server did not listen: $(tail -n 2 "$R/$name.srv" | oneline)" > "$R/$name.err"
		return 1
	fi
	on_a env "${envs[@]}" timeout $((SECS * 4 + 120)) "${cli[@]}" > "$R/$name.out" 2> "$R/$name.err" || rc=$?
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	[ "$rc" = 0 ] || { echo "client exited $rc: $(tail -n 2 "$R/$name.err" | oneline)" > "$R/$name.err"; return 1; }
}

# app_take KEY NAME VALUE: V[KEY] = VALUE if a number, else n/a with the reason
app_take() {
	if isnum "$3"; then V[$1]=$3; else V[$1]="n/a ($(oneline < "$R/$2.err" 2>/dev/null || true))"; fi
	[ "${V[$1]}" != "n/a ()" ] || V[$1]="n/a (no result in the output)"
}

sp_avg() { sed -n 's/.*avg-latency=\([0-9.]*\).*/\1/p' "$1" | sed -n 1p; }
sp_p99() { sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' "$1" | sed -n 1p; }

APPS_JSON=()
app_json() { # APP PROTO key=value...
	local a=$1 p=$2 s kv k v
	shift 2
	s="{\"app\":\"$a\",\"proto\":\"$p\""
	for kv in "$@"; do
		k=${kv%%=*} v=${kv#*=}
		if isnum "$v"; then s+=",\"$k\":$v"; else s+=",\"$k\":$(jstr "$v")"; fi
	done
	APPS_JSON+=("$s}")
}

if [ "$APPS" = 1 ]; then
	say "unmodified programs: TCP, then NetChannel through LD_PRELOAD=$PRELOAD"
	declare -A APORT=([sockperf.tcp]=11111 [sockperf.nc]=11112 [iperf3.tcp]=5201
		[iperf3.nc]=5202 [redis.tcp]=6379 [redis.nc]=6380 [nginx.tcp]=8080
		[nginx.nc]=8081)
	for p in tcp nc; do
		proto=$p
		[ "$p" = tcp ] || proto=netchannel
		for b in sockperf iperf3 redis-server redis-benchmark nginx wrk; do
			command -v "$b" > /dev/null || { echo "$b: not in the guest" > "$R/missing-$b"; }
		done

		port=${APORT[sockperf.$p]}
		if command -v sockperf > /dev/null; then
			if app "sockperf_pp_$p" "$proto" "$port" sockperf server --tcp -i "$SRV" -p "$port" -- \
				sockperf ping-pong --tcp -i "$SRV" -p "$port" -t "$SECS" -m "$SIZE"; then :; fi
			app_take "sp_pp_avg.$p" "sockperf_pp_$p" "$(sp_avg "$R/sockperf_pp_$p.out")"
			app_take "sp_pp_p99.$p" "sockperf_pp_$p" "$(sp_p99 "$R/sockperf_pp_$p.out")"
			port=$((port + 10))
			if app "sockperf_ul_$p" "$proto" "$port" sockperf server --tcp -i "$SRV" -p "$port" -- \
				sockperf under-load --tcp -i "$SRV" -p "$port" -t "$SECS" -m "$SIZE" \
				--mps "$SOCKPERF_MPS" --reply-every 10; then :; fi
			app_take "sp_ul_avg.$p" "sockperf_ul_$p" "$(sp_avg "$R/sockperf_ul_$p.out")"
			app_take "sp_ul_p99.$p" "sockperf_ul_$p" "$(sp_p99 "$R/sockperf_ul_$p.out")"
			app_json sockperf-ping-pong "$proto" "avg_us=${V[sp_pp_avg.$p]}" "p99_us=${V[sp_pp_p99.$p]}" \
				"converted_sockets=$(converted "sockperf_pp_$p")"
			app_json sockperf-under-load "$proto" "avg_us=${V[sp_ul_avg.$p]}" "p99_us=${V[sp_ul_p99.$p]}" \
				"converted_sockets=$(converted "sockperf_ul_$p")"
		else
			for k in sp_pp_avg sp_pp_p99 sp_ul_avg sp_ul_p99; do na "$k.$p" "sockperf not in the guest"; done
		fi

		port=${APORT[iperf3.$p]}
		if command -v iperf3 > /dev/null; then
			if app "iperf3_$p" "$proto" "$port" iperf3 -s -1 -4 -B "$SRV" -p "$port" -- \
				iperf3 -4 -c "$SRV" -p "$port" -t "$SECS" -f m; then :; fi
			app_take "iperf3.$p" "iperf3_$p" "$(awk '/receiver/ { for (i = 1; i <= NF; i++)
				if ($i == "Mbits/sec") print $(i - 1) }' "$R/iperf3_$p.out" | tail -n 1)"
			app_json iperf3 "$proto" "mbit_per_s=${V[iperf3.$p]}" "converted_sockets=$(converted "iperf3_$p")"
		else
			na "iperf3.$p" "iperf3 not in the guest"
		fi

		port=${APORT[redis.$p]}
		if command -v redis-server > /dev/null && command -v redis-benchmark > /dev/null; then
			mkdir -p "$R/redis-$p"
			if app "redis_$p" "$proto" "$port" redis-server --port "$port" --bind "$SRV" \
				--save '' --appendonly no --protected-mode no --daemonize no \
				--dir "$R/redis-$p" --logfile "$R/redis-$p/log" -- \
				redis-benchmark -h "$SRV" -p "$port" -t set,get -n "$REDIS_N" -c 10 --csv; then :; fi
			app_take "redis_set.$p" "redis_$p" "$(sed -n 's/^"SET","\([0-9.]*\)".*/\1/p' "$R/redis_$p.out")"
			app_take "redis_get.$p" "redis_$p" "$(sed -n 's/^"GET","\([0-9.]*\)".*/\1/p' "$R/redis_$p.out")"
			app_json redis "$proto" "set_rps=${V[redis_set.$p]}" "get_rps=${V[redis_get.$p]}" \
				"converted_sockets=$(converted "redis_$p")"
		else
			na "redis_set.$p" "redis-server/redis-benchmark not in the guest"
			na "redis_get.$p" "redis-server/redis-benchmark not in the guest"
		fi

		# nginx serving a 4 KiB file to wrk (4 connections, keep-alive),
		# with nginx's default sendfile on
		port=${APORT[nginx.$p]}
		if command -v nginx > /dev/null && command -v wrk > /dev/null; then
			d=$R/nginx-$p
			mkdir -p "$d/html" "$d/logs"
			head -c 4096 /dev/zero | tr '\0' x > "$d/html/index.html"
			cat > "$d/nginx.conf" <<-EOF
				user root;
				worker_processes 1;
				daemon off;
				master_process off;
				pid $d/nginx.pid;
				error_log $d/logs/error.log;
				events { worker_connections 64; }
				http {
					access_log off;
					sendfile on;
					tcp_nopush off;
					keepalive_requests 1000000;
					default_type text/plain;
					client_body_temp_path $d/tmp;
					proxy_temp_path $d/tmp;
					fastcgi_temp_path $d/tmp;
					uwsgi_temp_path $d/tmp;
					scgi_temp_path $d/tmp;
					server {
						listen $SRV:$port;
						root $d/html;
					}
				}
			EOF
			if app "nginx_$p" "$proto" "$port" nginx -p "$d" -c "$d/nginx.conf" -- \
				wrk -t 1 -c 4 -d "${SECS}s" "http://$SRV:$port/index.html"; then :; fi
			app_take "wrk.$p" "nginx_$p" "$(awk '/^Requests\/sec:/ { print $2 }' "$R/nginx_$p.out")"
			app_json nginx-wrk "$proto" "requests_per_s=${V[wrk.$p]}" \
				"converted_sockets=$(converted "nginx_$p")"
		else
			na "wrk.$p" "nginx/wrk not in the guest"
		fi
	done
	for k in sp_pp_avg sp_pp_p99 sp_ul_avg sp_ul_p99 iperf3 redis_set redis_get wrk; do
		log "$k: TCP ${V[$k.tcp]}, NetChannel ${V[$k.nc]}"
	done
	for n in sockperf_pp_nc sockperf_ul_nc iperf3_nc redis_nc nginx_nc; do
		[ -e "$R/preload-$n.log" ] && log "$n: $(converted "$n") socket(s) converted by libncpreload.so"
	done
fi

# ------------------------------------------------------------------ channel sweep
# Channels are opened when a host first talks to a peer, with the count set
# then; peers live as long as their namespaces. So each setting gets a fresh
# pair of namespaces whose knobs are set before anything connects.
say "bulk, 1 socket, channels / VNS workers: $CHANNELS (fresh namespaces each)"
knob_dir=/proc/sys/net/netchannel
[ -z "$NC_SRV_PID" ] || kill "$NC_SRV_PID" 2>/dev/null || true
NC_SRV_PID=""
for n in $CHANNELS; do
	key=ch$n
	V[$key.tcp]=${V[bulk.tcp]}
	if [ -n "$NC_DOWN" ]; then na "$key.nc" "$NC_DOWN"; continue; fi
	NS_A=$HOST_A$n NS_B=$HOST_B$n
	make_pair "$NS_A" "$NS_B"
	if ! on_a test -e "$knob_dir/channels"; then
		na "$key.nc" "no $knob_dir/channels"
	else
		missing=""
		for knob in channels vns_workers; do
			if on_a test -e "$knob_dir/$knob"; then
				for ns in "$NS_A" "$NS_B"; do
					ip netns exec "$ns" sh -c "echo $n > $knob_dir/$knob" 2>> "$R/knob.err" ||
						missing+="${missing:+; }cannot set $knob"
				done
			else
				missing+="${missing:+; }no $knob_dir/$knob"
			fi
		done
		NOTE[bulk_$key]=$missing
		if nc_server_restart; then
			perf "bulk_ch${n}_netchannel" netchannel bulk --seconds "$SECS"
			take "$key.nc" "bulk_ch${n}_netchannel" throughput_bps 1e-9
			log "channels=$n: /proc/net/netchannel/channels in $NS_A:"
			on_a cat /proc/net/netchannel/channels 2>/dev/null | sed -n 1,6p | sed 's/^/      /' || true
		else
			na "$key.nc" "$LAST_ERR"
		fi
		[ -z "$NC_SRV_PID" ] || kill "$NC_SRV_PID" 2>/dev/null || true
		NC_SRV_PID=""
	fi
	NS_A=$HOST_A NS_B=$HOST_B
done

# ------------------------------------------------------------------ dynamic channels
# A fresh pair with the default bounds (channels_min 1, channels_max the
# CPUs): nc_a's channels to nc_b (/proc/net/netchannel/peers), sampled
# every 0.25 s while the pair is idle, then while 4 sockets exchange small
# messages (rr), then idle again for 3 s: channels added for the burst are
# retired after net.netchannel.channel_idle_ms (1 s) without DATA.
say "dynamic channels: ${SIZE} B rr on 4 sockets, channels in use over time (fresh namespaces)"
perf rr4_tcp tcp "${rr_args[@]}" --sockets 4
take rr4.tcp rr4_tcp rate_rps
chan_count() {
	on_a awk 'NR > 1 && $3 == "initiator" { n += $5 } END { print n + 0 }' \
		/proc/net/netchannel/peers 2> /dev/null || echo "?"
}
if [ -n "$NC_DOWN" ]; then
	na rr4.nc "$NC_DOWN"
else
	NS_A=${HOST_A}d NS_B=${HOST_B}d
	make_pair "$NS_A" "$NS_B"
	if nc_server_restart; then
		series=""
		for i in 1 2 3 4; do series+="${series:+ }$(chan_count)"; sleep 0.25; done
		series+=" |"
		perf rr4_netchannel netchannel "${rr_args[@]}" --sockets 4 &
		rr_pid=$!
		while kill -0 "$rr_pid" 2> /dev/null; do series+=" $(chan_count)"; sleep 0.25; done
		wait "$rr_pid" || true
		series+=" |"
		for i in $(seq 12); do series+=" $(chan_count)"; sleep 0.25; done
		take rr4.nc rr4_netchannel rate_rps
		log "channels of $NS_A to $NS_B every 0.25 s (idle | rr on 4 sockets | idle): $series"
		NOTE[rr4_dynamic]="channels every 0.25 s (idle | rr | idle): $series"
	else
		na rr4.nc "$LAST_ERR"
	fi
	[ -z "$NC_SRV_PID" ] || kill "$NC_SRV_PID" 2>/dev/null || true
	NC_SRV_PID=""
	NS_A=$HOST_A NS_B=$HOST_B
fi

# ------------------------------------------------------------------ fair share
# Two bulk flows in cgroups weighted 100 and 300 by the fair policy share a
# link rate-limited with tbf (as a NIC's line rate would be), far below what
# either moves alone, so the NetScheduler is the arbiter: w3/w1 bytes against
# the target 3 (TCP has no weights: its flows split about 1:1). As in
# test_fair, the channels' TCP sockets hold 8 KiB (tcp_wmem), so what the
# policy cannot reorder stays small; that is set in a fresh pair of
# namespaces before anything connects.
say "fair share 100:300, two bulk flows over a ${FAIR_KBIT} kbit/s link (fresh namespaces)"
FAIR_CG1=$CGROOT/nc_fair1 FAIR_CG3=$CGROOT/nc_fair3
V[fair.target]=3
# Both flows at once; V[fair.PROTO]. Each writes 4 KiB at a time, and what
# counts is what it wrote after a warmup of SECS, until the end of its
# 2 x SECS: both are backlogged then, their buffers as full at both ends of
# the interval, so these are the bytes each got through the shared link.
# (All the bytes of the whole runs would count the ramp-up, the buffers'
# filling and the drain after one flow ended, with the link its own.)
fair_flows() { # PROTO PORT NAME
	local proto=$1 port=$2 name=$3 p1 p3 b1 b3
	local args=(--proto "$proto" --addr "$SRV" --port "$port" --timeout 20
		--warmup "$SECS" --seconds $((SECS * 2)) --bufsize 4096 --json)
	on_a sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$FAIR_CG1" \
		"$NCPERF" client bulk "${args[@]}" > "$R/${name}_w1.json" 2> "$R/${name}_w1.err" &
	p1=$!
	on_a sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$FAIR_CG3" \
		"$NCPERF" client bulk "${args[@]}" > "$R/${name}_w3.json" 2> "$R/${name}_w3.err" &
	p3=$!
	wait "$p1" "$p3" || true
	cat "$R/${name}_w1.json" "$R/${name}_w3.json" >> "$R/runs.jsonl" 2> /dev/null || true
	b1=$(jget interval_bytes "$R/${name}_w1.json") b3=$(jget interval_bytes "$R/${name}_w3.json")
	if isnum "$b1" && isnum "$b3" && [ "${b1%.*}" -gt 0 ]; then
		V[fair.$proto]=$(awk -v a="$b1" -v b="$b3" 'BEGIN { printf "%.4g", b / a }')
		log "$name: w1 $b1 bytes, w3 $b3 bytes: w3/w1 ${V[fair.$proto]}"
	else
		V[fair.$proto]="n/a (w1: $(reason_of "$R/${name}_w1.json"); w3: $(reason_of "$R/${name}_w3.json"))"
		log "$name: ${V[fair.$proto]}"
	fi
}
[ -z "$NC_SRV_PID" ] || kill "$NC_SRV_PID" 2>/dev/null || true
NC_SRV_PID=""
if [ -n "$NC_DOWN" ]; then
	na fair.nc "$NC_DOWN"
elif ! mkdir -p "$FAIR_CG1" "$FAIR_CG3"; then
	na fair.nc "cannot make cgroups under $CGROOT"
else
	NS_A=${HOST_A}f NS_B=${HOST_B}f
	make_pair "$NS_A" "$NS_B"
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" sh -c 'echo 4096 8192 8192 > /proc/sys/net/ipv4/tcp_wmem &&
			echo 4096 16384 16384 > /proc/sys/net/ipv4/tcp_rmem'
	done
	dev=$("$NCHOSTS" dev a)
	if ! on_a tc qdisc replace dev "$dev" root tbf rate "${FAIR_KBIT}kbit" burst 16kb \
		latency 200ms 2> "$R/tbf.err"; then
		na fair.nc "tc tbf: $(oneline < "$R/tbf.err")"
	elif ! tsrv=$(start_server tcp $PORT_TCP); then
		na fair.nc "TCP server: $LAST_ERR"
	else
		PIDS+=("$tsrv")
		fair_flows tcp $PORT_TCP fair_tcp
		V[fair.tcp_split]=${V[fair.tcp]}
		if ! policy_attach fair; then
			na fair.nc "$LAST_ERR"
		elif ! "$NCLOAD" set-weight "$FAIR_CG1" 100 > /dev/null 2>&1 ||
			! "$NCLOAD" set-weight "$FAIR_CG3" 300 > /dev/null 2>&1; then
			na fair.nc "ncload set-weight failed"
		elif nc_server_restart; then
			fair_flows netchannel $PORT_NC fair_nc
			V[fair.nc]=${V[fair.netchannel]}
		else
			na fair.nc "$LAST_ERR"
		fi
		"$NCLOAD" detach > /dev/null 2>&1 || true
	fi
	[ -z "$NC_SRV_PID" ] || kill "$NC_SRV_PID" 2>/dev/null || true
	NC_SRV_PID=""
	NOTE[fair_share]="TCP's split: ${V[fair.tcp_split]:-n/a}"
	NS_A=$HOST_A NS_B=$HOST_B
fi
rmdir "$FAIR_CG1" "$FAIR_CG3" 2>/dev/null || true

# ------------------------------------------------------------------ table
# row ID KEY LABEL UNIT BETTER BASELINE: V[KEY.tcp] (or BASEKEY) vs V[KEY.nc]
ROWS=()
row() {
	local id=$1 key=$2 label=$3 unit=$4 better=$5 base_name=${6:-TCP} base_key=${7:-$2.tcp}
	local b=${V[$base_key]:-n/a (not measured)} n=${V[$key.nc]:-n/a (not measured)} r
	if isnum "$b" && isnum "$n" && awk -v b="$b" 'BEGIN { exit !(b != 0) }'; then
		r=$(awk -v b="$b" -v n="$n" 'BEGIN { printf "%.3f", n / b }')
	elif ! isnum "$n"; then
		r=$n
	else
		r="n/a (baseline: $b)"
	fi
	ROWS+=("$id"$'\t'"$label"$'\t'"$unit"$'\t'"$better"$'\t'"$base_name"$'\t'"$b"$'\t'"$n"$'\t'"$r"$'\t'"${NOTE[$id]:-}")
}

row bulk_default bulk "bulk throughput, 1 socket, default channels" Gbit/s higher
for n in $CHANNELS; do
	row "bulk_ch$n" "ch$n" "bulk throughput, 1 socket, $n channel(s) + $n VNS worker(s)" Gbit/s higher
done
# the default (dynamic channels, idle-core VNS) against the best fixed setting
best=""
for n in $CHANNELS; do
	v=${V[ch$n.nc]:-}
	if isnum "$v" && { [ -z "$best" ] || awk -v v="$v" -v b="$best" 'BEGIN { exit !(v > b) }'; }; then
		best=$v
	fi
done
V[bestfixed]=${best:-n/a (no fixed setting measured)}
row bulk_dyn_best bulk "bulk throughput, 1 socket, dynamic channels and VNS" Gbit/s higher "best fixed" bestfixed
row rr4_dynamic rr4 "rr rate, ${SIZE} B, 4 sockets, dynamic channels" req/s higher
row bulk_mptcp bulk "bulk throughput, 1 socket, default channels" Gbit/s higher "MPTCP, 2 subflows" bulk.mptcp
row rr_mptcp rr "rr rate, ${SIZE} B, 1 socket" req/s higher "MPTCP, 2 subflows" rr.mptcp
row fallback_bulk fbbulk "bulk throughput, a fallback socket (NetChannel to a TCP server)" Gbit/s higher TCP bulk.tcp
row fallback_rr fbrr "rr rate, ${SIZE} B, a fallback socket" req/s higher TCP rr.tcp
row cpu_per_byte cpub "CPU per byte, bulk (busy CPU-s per GB, whole guest)" s/GB lower
row rr_rate rr "rr rate, ${SIZE} B, 1 socket" req/s higher
row lapp_alone_p99 alone99 "L-app p99, alone" us lower
row lapp_alone_p999 alone999 "L-app p99.9, alone" us lower
row lapp_tapps_p99 tapps99 "L-app p99, next to $TAPPS T-apps, no policy" us lower
row lapp_tapps_p999 tapps999 "L-app p99.9, next to $TAPPS T-apps, no policy" us lower
row tapps_tput tapput "T-app throughput next to the L-app, no policy" Gbit/s higher
row lapp_prio_p99 prio99 "L-app p99, next to $TAPPS T-apps, policy $PRIORITY" us lower TCP tapps99.tcp
row lapp_prio_p999 prio999 "L-app p99.9, next to $TAPPS T-apps, policy $PRIORITY" us lower TCP tapps999.tcp
row prio_tput prioput "T-app throughput, policy $PRIORITY" Gbit/s higher TCP tapput.tcp
row lapp_lat_p99 lat99 "L-app p99, next to $TAPPS T-apps, policy $LATENCY" us lower TCP tapps99.tcp
row lapp_lat_p999 lat999 "L-app p99.9, next to $TAPPS T-apps, policy $LATENCY" us lower TCP tapps999.tcp
row lat_tput latput "T-app throughput, policy $LATENCY" Gbit/s higher TCP tapput.tcp
row lapp_infl infl "L-app p99 inflation (next to T-apps / alone), no policy" x lower
row lapp_infl_prio inflprio "L-app p99 inflation, policy $PRIORITY" x lower "TCP" infl.tcp
row lapp_infl_lat infllat "L-app p99 inflation, policy $LATENCY" x lower "TCP" infl.tcp
row fair_share fair "fair 100:300: w3/w1 bytes on a ${FAIR_KBIT} kbit/s link" x "1.0 (±0.1)" "target 3" fair.target
row bpf_cost cost "rr rate with BPF policy $COST_NAME" req/s higher "NC native" rr.nc
row swap_stall swap "max rr latency during live policy swaps" us lower "TCP max" rrmax.tcp
row swap_stall_nc swap "max rr latency during live policy swaps" us lower "NC max, no swaps" rrmax.nc
row swap_stall_load swap "max rr latency during live policy swaps" us lower "NC max, policies only loaded" swapload.nc
if [ "$APPS" = 1 ]; then
	row sockperf_pp_avg sp_pp_avg "sockperf ping-pong avg latency (preload)" us lower
	row sockperf_pp_p99 sp_pp_p99 "sockperf ping-pong p99 (preload)" us lower
	row sockperf_ul_avg sp_ul_avg "sockperf under-load avg latency (preload)" us lower
	row sockperf_ul_p99 sp_ul_p99 "sockperf under-load p99 (preload)" us lower
	row iperf3 iperf3 "iperf3 throughput (preload)" Mbit/s higher
	row redis_set redis_set "redis-benchmark SET (preload)" req/s higher
	row redis_get redis_get "redis-benchmark GET (preload)" req/s higher
	row wrk wrk "nginx + wrk, 4 KiB file, 4 connections (preload)" req/s higher
fi

table() {
	local r
	printf '%-58s %8s %-8s %14s %14s  %s\n' measurement unit better baseline NetChannel "NC/baseline"
	for r in "${ROWS[@]}"; do
		IFS=$'\t' read -r id label unit better base_name b n ratio note <<< "$r"
		isnum "$b" || b="n/a"
		isnum "$n" || n="n/a"
		[ "$base_name" = TCP ] || label="$label [baseline: $base_name]"
		printf '%-58s %8s %-8s %14s %14s  %s\n' "$label" "$unit" "$better" "$b" "$n" "$ratio${note:+  ($note)}"
	done
}

say "results ($DATE; NetChannel / baseline, measured in this boot; TCG guest, $(grep -c ^processor /proc/cpuinfo) vCPUs, ${SECS} s runs)"
table | tee "$R/table.txt"

# ------------------------------------------------------------------ machine output
{
	printf '{"ncbench":1,"date":%s,"kernel":%s,"vcpus":%s,"seconds":%s,"warmup":%s,' \
		"$(jstr "$DATE")" "$(jstr "$(uname -r)")" "$(grep -c ^processor /proc/cpuinfo)" "$SECS" "$WARMUP"
	printf '"size":%s,"tapps":%s,"lapp_interval_us":%s,"priority_policy":%s,"cost_policy":%s,' \
		"$SIZE" "$TAPPS" "$INTERVAL" "$(jstr "$PRIORITY")" "$(jstr "$COST_POLICY")"
	printf '"netchannel_unavailable":%s,\n"rows":[\n' "$(jstr "$NC_DOWN")"
	sep=""
	for r in "${ROWS[@]}"; do
		IFS=$'\t' read -r id label unit better base_name b n ratio note <<< "$r"
		printf '%s{"id":%s,"label":%s,"unit":%s,"better":%s,"baseline":%s,' "$sep" \
			"$(jstr "$id")" "$(jstr "$label")" "$(jstr "$unit")" "$(jstr "$better")" "$(jstr "$base_name")"
		for kv in "base_value=$b" "netchannel_value=$n" "ratio=$ratio"; do
			if isnum "${kv#*=}"; then printf '"%s":%s,' "${kv%%=*}" "${kv#*=}"
			else printf '"%s":%s,' "${kv%%=*}" "$(jstr "${kv#*=}")"; fi
		done
		printf '"note":%s}\n' "$(jstr "$note")"
		sep=","
	done
	printf '],\n"apps":[\n'
	sep=""
	for a in "${APPS_JSON[@]}"; do printf '%s%s\n' "$sep" "$a"; sep=","; done
	printf '],\n"runs":[\n'
	sep=""
	while IFS= read -r l; do printf '%s%s\n' "$sep" "$l"; sep=","; done < "$R/runs.jsonl"
	printf ']}\n'
} > "$R/results.json"
if "$NCPERF" json-check "$R/results.json"; then
	log "results.json: valid JSON"
else
	log "results.json: INVALID JSON (a bug in this script)"
fi

sed 's/^/NCB|json|/' "$R/results.json"
for f in "$R"/cdf-*.txt; do
	[ -e "$f" ] || continue
	n=$(basename "$f" .txt)
	n=${n#cdf-}
	# at most ~400 points per curve keeps the console short
	awk -v n="$n" '!/^#/ { p[++k] = $0 } END { s = int(k / 400) + 1
		for (i = 1; i <= k; i++) if (i % s == 0 || i == k || i == 1) print "NCB|cdf|" n "|" p[i] }' "$f"
done
for r in "${ROWS[@]}"; do
	IFS=$'\t' read -r id _ _ _ _ _ _ ratio _ <<< "$r"
	isnum "$ratio" || ratio=n/a
	echo "NCB|row|$id|$ratio"
done
sed 's/^/NCB|table|/' "$R/table.txt"
echo "NCB|done|$DATE"
