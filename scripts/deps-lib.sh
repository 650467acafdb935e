# shellcheck shell=bash
# Shared by scripts/deps.sh and scripts/deps-bench.sh (sourced, not run).
# The sourcing script sets DEPS_NAME, the prefix of its messages.

die() { echo "$DEPS_NAME: $*" >&2; exit 1; }

# The packages among "$@" that are not installed, space-separated.
missing() {
	local p out=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			out="$out $p"
	done
	echo "$out"
}

# apt_install [-t SUITE] PKG...: install packages with apt, as root; the
# package lists are updated once per run.
DEPS_UPDATED=
apt_install() {
	local suite=()
	if [ "${1:-}" = -t ]; then suite=(-t "$2"); shift 2; fi
	[ $# -gt 0 ] || return 0
	[ "$(id -u)" = 0 ] || die "missing packages: $* (run as root to install)"
	export DEBIAN_FRONTEND=noninteractive
	echo "$DEPS_NAME: installing: $*${suite:+ (from ${suite[1]})}"
	if [ -z "$DEPS_UPDATED" ]; then
		apt-get update -qq >/dev/null || die "apt-get update failed"
		DEPS_UPDATED=1
	fi
	apt-get install -y -qq --no-install-recommends "${suite[@]}" "$@" >/dev/null ||
		die "apt-get install ${suite[*]} failed for: $*"
}
