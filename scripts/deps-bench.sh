#!/usr/bin/env bash
# Install what `make bench` needs beyond scripts/deps.sh, from Debian's archive:
# the unmodified programs run over NetChannel in the guest (sockperf, iperf3,
# redis-server, redis-benchmark from redis-tools) and gnuplot for the plot.
# Idempotent: quiet and fast when everything is present.
set -euo pipefail

PKGS="sockperf iperf3 redis-server redis-tools gnuplot-nox"

die() { echo "deps-bench: $*" >&2; exit 1; }

missing() {
	local p out=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			out="$out $p"
	done
	echo "$out"
}

# shellcheck disable=SC2086 # word splitting of the package list is wanted
need=$(missing $PKGS)
if [ -n "$need" ]; then
	[ "$(id -u)" = 0 ] || die "missing packages:$need (run as root to install)"
	export DEBIAN_FRONTEND=noninteractive
	echo "deps-bench: installing:$need"
	apt-get update -qq >/dev/null || die "apt-get update failed"
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	apt-get install -y -qq --no-install-recommends $need >/dev/null ||
		die "apt-get install failed for:$need"
fi

for b in sockperf iperf3 redis-server redis-benchmark gnuplot; do
	command -v "$b" >/dev/null || die "$b not found after installing"
done
exit 0
