#!/usr/bin/env bash
# make bench: NetChannel against plain TCP, measured side by side in one boot of
# the test guest (scripts/bench-guest.sh runs there; see its header for what is
# measured and the BENCH_* knobs, which are passed through to it).
#
# Writes:
#   build/bench/results-<date>.json   every row, app result and ncperf run (raw)
#   build/bench/latency-cdf.png       latency CDFs and tails (gnuplot)
#   build/bench/cdf-<run>.dat         the CDF points plotted ("usec fraction")
#   build/bench/console-<date>.log    the guest's console
#   bench/results.md                  one dated row of ratios appended per run
#
# Usage: scripts/bench.sh            (needs `make all tools`; installs gnuplot,
#                                     sockperf, iperf3, redis-server/-tools)
#        BENCH_SECONDS=5 scripts/bench.sh
#        BENCH_TCG=single scripts/bench.sh
#                                     single-threaded TCG: the guest's two vCPUs
#                                     on one host thread, so ratios measure CPU
#                                     cost alone (default: multi, what a second
#                                     core buys)
#        scripts/bench.sh --from-log build/bench/console-<date>.log
#                                     redo the JSON, plot and table from a saved
#                                     console, without a guest or a history row
# Exit status: 0, or the guest harness's status (99: kernel log dirty, 124:
# timeout) after recording what was measured.
#
# What the guest can show: NetChannel against TCP on the same 2 vCPUs, the
# same kernel and the same veth, so ratios (and their trend in
# bench/results.md) are meaningful. What it cannot: multi-core scaling. TCG
# emulates 2 vCPUs on a 2-core host that other jobs share, so more channels or
# VNS workers than vCPUs cannot run in parallel, the absolute numbers are 5-10x
# below native and noisy, and one run's ratio can move by tens of percent.
# On real hardware (kernel >= 6.12, netchannel.ko loaded, two hosts or two
# namespaces): `make all tools`, then as root
#   BENCH_NCPERF=build/guest/bin/ncperf BENCH_NCLOAD=build/guest/bin/ncload \
#   BENCH_PRELOAD=build/guest/lib/libncpreload.so BENCH_NCHOSTS=build/guest/bin/nc_hosts \
#   BENCH_NC_KO=kernel/netchannel.ko \
#   BENCH_SECONDS=20 BENCH_CHANNELS="1 2 4 8 16" scripts/bench-guest.sh
# (two namespaces on one machine: scaling with real cores), or between two
# machines run `ncperf server` on one and `ncperf client --addr` on the other.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=build/bench
MD=bench/results.md

FROM_LOG=""
case ${1:-} in
-h | --help) sed -n '2,35s/^# \{0,1\}//p' "$0"; exit 0 ;;
--from-log) FROM_LOG=${2:?--from-log needs a console log} ;;
"") ;;
*) echo "bench: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

die() { echo "bench: $*" >&2; exit 1; }
# jsondoc KEY < FILE: parse FILE as one JSON document (python3's parser; the
# guest writes it over several lines) and print its member KEY; fails if it
# is not JSON
jsondoc() {
	python3 -c 'import json, sys
print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

[ -n "$FROM_LOG" ] || scripts/deps-bench.sh
for f in build/guest/bin/ncperf build/guest/lib/libncpreload.so build/guest/bin/ncload \
	build/guest/bin/nc_hosts; do
	[ -e "$f" ] || die "$f missing: run 'make all tools' first"
done
[ -e kernel/netchannel.ko ] || [ -n "$FROM_LOG" ] ||
	echo "bench: kernel/netchannel.ko missing: NetChannel rows will be n/a" >&2

DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
STAMP=$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT" "$(dirname "$MD")"
LOG=$OUT/console-$STAMP.log
if [ -n "$FROM_LOG" ]; then
	[ -r "$FROM_LOG" ] || die "cannot read $FROM_LOG"
	LOG=$FROM_LOG
	DATE=$(sed -n 's/^NCB|done|//p' "$LOG" | tail -n 1)
	[ -n "$DATE" ] || DATE=$(sed -n 's/^NCB|json|//p' "$LOG" | jsondoc date)
	[ -n "$DATE" ] || die "$LOG holds no bench results"
	STAMP=$(echo "$DATE" | tr -d ':-' | sed 's/T/-/; s/Z$//')
fi
JSON=$OUT/results-$STAMP.json

# Guest files: the tools, the guest script, and the unmodified programs (their
# shared libraries come along; symlinks are resolved so the guest gets files).
ADDS=(--add build/guest/bin/ncperf:/nc/bin/ncperf
	--add build/guest/lib/libncpreload.so:/nc/lib/libncpreload.so
	--add scripts/bench-guest.sh:/nc/bench-guest.sh)
for b in sockperf iperf3 redis-server redis-benchmark nginx wrk; do
	p=$(command -v "$b") || die "$b not installed (scripts/deps-bench.sh)"
	ADDS+=(--add "$(readlink -f "$p"):/usr/bin/$b")
done

# BENCH_* settings travel on the guest's command line.
CMD="BENCH_DATE='$DATE'"
while IFS= read -r v; do
	[ "$v" = BENCH_DATE ] || [ "$v" = BENCH_TIMEOUT ] && continue
	val=${!v}
	CMD+=" $v='${val//\'/\'\\\'\'}'"
done < <(compgen -e | grep '^BENCH_' || true)
CMD+=" /nc/bench-guest.sh"

case ${BENCH_TCG:-multi} in
single | multi) export NC_VM_TCG_THREAD=${BENCH_TCG:-multi} ;;
*) echo "bench: BENCH_TCG must be single or multi, not '$BENCH_TCG'" >&2; exit 2 ;;
esac

rc=0
if [ -z "$FROM_LOG" ]; then
	echo "bench: booting the guest ($CMD); console in $LOG"
	set +e
	scripts/vm.sh --timeout "${BENCH_TIMEOUT:-1500}" "${ADDS[@]}" -- "$CMD" 2>&1 |
		tr -d '\r' | tee "$LOG" | grep --line-buffered -v '^NCB|'
	rc=${PIPESTATUS[0]}
	set -e
fi

# ------------------------------------------------------------------ extract
sed -n 's/^NCB|json|//p' "$LOG" > "$JSON"
if [ ! -s "$JSON" ]; then
	rm -f "$JSON"
	die "no results in the console (guest status $rc; see $LOG)"
fi
if jsondoc ncbench < "$JSON" > /dev/null; then
	echo "bench: raw results: $JSON"
else
	echo "bench: warning: $JSON is not valid JSON (console garbled?)" >&2
fi

rm -f "$OUT"/cdf-*.dat
plots=()
while IFS= read -r name; do
	sed -n "s/^NCB|cdf|$name|//p" "$LOG" > "$OUT/cdf-$name.dat"
	plots+=("$name")
done < <(sed -n 's/^NCB|cdf|\([^|]*\)|.*/\1/p' "$LOG" | awk '!seen[$0]++')

# style NAME: one colour per scenario, TCP dashed, NetChannel solid
style() {
	local scen=${1%_*} color dt=1
	case $scen in
	rr) color='#1f77b4' ;;
	lapp_alone) color='#2ca02c' ;;
	lapp_tapps) color='#d62728' ;;
	lapp_prio) color='#9467bd' ;;
	swap) color='#ff7f0e' ;;
	*) color='#7f7f7f' ;;
	esac
	[ "${1##*_}" != tcp ] || dt=2
	printf "lw 2 dt %s lc rgb '%s'" "$dt" "$color"
}

if [ ${#plots[@]} -gt 0 ] && command -v gnuplot > /dev/null; then
	gp=$OUT/latency-cdf.gp
	{
		echo "set terminal pngcairo size 1400,650 noenhanced"
		echo "set output '$OUT/latency-cdf.png'"
		echo "set multiplot layout 1,2 title 'NetChannel (solid) vs TCP (dashed) latency, $DATE -- TCG guest: compare curves, not absolute values'"
		echo "set logscale x; set grid; set key bottom right font ',9'"
		echo "set xlabel 'latency (us)'; set ylabel 'fraction of requests <= x'"
		echo "set title 'CDF'"
		printf 'plot '
		sep=""
		for n in "${plots[@]}"; do
			printf "%s'%s' using 1:2 with lines %s title '%s'" "$sep" "$OUT/cdf-$n.dat" "$(style "$n")" "${n//_/ }"
			sep=", "
		done
		echo
		echo "set logscale y; set key bottom left font ',9'; set ylabel 'fraction of requests > x'"
		echo "set title 'tail: 1 - CDF'"
		printf 'plot '
		sep=""
		for n in "${plots[@]}"; do
			printf "%s'%s' using 1:(1-\$2 > 0 ? 1-\$2 : 1/0) with lines %s title '%s'" \
				"$sep" "$OUT/cdf-$n.dat" "$(style "$n")" "${n//_/ }"
			sep=", "
		done
		echo
		echo "unset multiplot"
	} > "$gp"
	if gnuplot "$gp" 2> "$OUT/gnuplot.err"; then
		echo "bench: latency CDFs: $OUT/latency-cdf.png"
	else
		echo "bench: warning: gnuplot failed: $(head -n 3 "$OUT/gnuplot.err")" >&2
	fi
fi

# ------------------------------------------------------------------ table and history
echo
echo "== NetChannel / baseline ($DATE); a ratio > 1 is better where 'better' is higher"
sed -n 's/^NCB|table|//p' "$LOG"

[ -z "$FROM_LOG" ] || exit 0

COLS=(bulk_default bulk_ch1 bulk_ch2 bulk_ch4 rr_rate lapp_alone_p99 lapp_alone_p999
	lapp_tapps_p99 lapp_tapps_p999 lapp_prio_p99 lapp_prio_p999 bpf_cost swap_stall
	swap_stall_nc sockperf_pp_avg sockperf_ul_p99 iperf3 redis_set redis_get cpu_per_byte
	lapp_lat_p99 lapp_infl_prio lapp_infl_lat fair_share prio_tput bulk_mptcp rr_mptcp wrk
	swap_stall_load)
if [ ! -s "$MD" ]; then
	{
		echo "# NetChannel benchmark history"
		echo
		echo "One row per \`make bench\`, appended by scripts/bench.sh. Each cell is"
		echo "NetChannel / baseline measured in the same boot of the 2-vCPU TCG test guest"
		echo "(baseline: plain TCP; for bpf_cost the native policy; for swap_stall TCP's max"
		echo "rr latency, for swap_stall_nc NetChannel's max rr latency without swaps, for"
		echo "swap_stall_load NetChannel's while the same policies are only loaded)."
		echo "Throughput and rates: higher is better. Latency columns (p99, p999, avg,"
		echo "swap_stall*, cpu_per_byte): lower is better. n/a: NetChannel could not be"
		echo "measured; the reason is in build/bench/results-<date>.json. Absolute numbers"
		echo "under TCG mean little; compare ratios, and rows with each other."
		echo
		printf '| date | commit |'
		for c in "${COLS[@]}"; do printf ' %s |' "$c"; done
		printf ' note |\n|---|---|'
		for _ in "${COLS[@]}"; do printf -- '---|'; done
		printf -- '---|\n'
	} > "$MD"
fi
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit+="+dirty"
note="seconds=${BENCH_SECONDS:-3}; tcg=${BENCH_TCG:-multi}"
grep -q '^NCB|done|' "$LOG" || note+="; incomplete run (guest status $rc)"
[ "$rc" != 99 ] || note+="; kernel log dirty"
{
	printf '| %s | %s |' "$DATE" "$commit"
	for c in "${COLS[@]}"; do
		v=$(sed -n "s/^NCB|row|$c|//p" "$LOG" | tail -n 1)
		printf ' %s |' "${v:--}"
	done
	printf ' %s |\n' "$note"
} >> "$MD"
echo
echo "bench: appended a row to $MD"
[ "$rc" = 0 ] || echo "bench: the guest run ended with status $rc (console: $LOG)" >&2
exit "$rc"
