#!/usr/bin/env bash
# Install what `make bench` needs beyond scripts/deps.sh, from Debian's archive:
# the unmodified programs run over NetChannel in the guest (sockperf, iperf3,
# redis-server, redis-benchmark from redis-tools, nginx-light and wrk),
# gnuplot for the plot and
# python3, whose parser reads the results JSON on the host.
# Idempotent: quiet and fast when everything is present.
set -euo pipefail

PKGS="sockperf iperf3 redis-server redis-tools nginx-light wrk gnuplot-nox python3"

DEPS_NAME=deps-bench
# shellcheck source=scripts/deps-lib.sh
. "$(dirname "$0")/deps-lib.sh"

# shellcheck disable=SC2046,SC2086 # word splitting of the package lists is wanted
apt_install $(missing $PKGS)

for b in sockperf iperf3 redis-server redis-benchmark nginx wrk gnuplot; do
	command -v "$b" >/dev/null || die "$b not found after installing"
done
exit 0
