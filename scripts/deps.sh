#!/usr/bin/env bash
# Install what NetChannel needs to build and test, from Debian's archive.
# Idempotent: quiet and fast when everything is present. Called by the Makefile.
set -euo pipefail

KVER_META_IMAGE=linux-image-6.12-cloud-amd64
KVER_META_HEADERS=linux-headers-6.12-cloud-amd64
# flex bison bc libssl-dev: building the debug kernel (make test-debug).
# The unmodified programs test_programs runs in the guest (scripts/vm.sh
# carries them there): nginx, curl, wrk, socat, redis, iperf3; golang-go
# builds a Go echo program (its runtime makes raw syscalls, no libc).
PROGS_PKGS="nginx-light curl wrk socat redis-server redis-tools iperf3 golang-go"
PKGS="$KVER_META_IMAGE $KVER_META_HEADERS linux-source-6.12 clang-19
      llvm-19 lld-19 libclang-rt-19-dev dwarves libelf-dev zlib1g-dev libcmocka-dev
      busybox-static iproute2 xz-utils cpio kmod flex bison bc libssl-dev
      $PROGS_PKGS"
# QEMU >= 10 runs the guest's vCPUs on parallel host threads (MTTCG) without the
# cross-CPU code patching race of bookworm's 7.2, so it comes from backports too.
BPO_PKGS="libbpf-dev bpftool qemu-system-x86"
BPO_LIST=/etc/apt/sources.list.d/bookworm-backports.list

DEPS_NAME=deps
# shellcheck source=scripts/deps-lib.sh
. "$(dirname "$0")/deps-lib.sh"

verge() { dpkg --compare-versions "$1" ge "$2"; }

# shellcheck disable=SC2086 # word splitting of the package lists is wanted
need=$(missing $PKGS)
# shellcheck disable=SC2086
need_bpo=$(missing $BPO_PKGS)
# bookworm's own QEMU 7.2 may be installed already: upgrade it from backports
qv=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
if [ -n "$qv" ] && ! dpkg --compare-versions "$qv" ge 1:10; then
	need_bpo="$need_bpo qemu-system-x86"
fi
if [ -n "$need_bpo" ] && ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	[ "$(id -u)" = 0 ] || die "missing packages:$need_bpo from bookworm-backports (run as root)"
	echo "deps: adding bookworm-backports to apt sources ($BPO_LIST)"
	echo "deb http://deb.debian.org/debian bookworm-backports main" > "$BPO_LIST"
fi
# shellcheck disable=SC2086
apt_install $need
# shellcheck disable=SC2086
apt_install -t bookworm-backports $need_bpo

v=$(dpkg-query -W -f='${Version}' libbpf-dev)
verge "$v" 1:1.4 || verge "$v" 1.4 || die "libbpf-dev $v is too old (need >= 1.4, from bookworm-backports)"
v=$(dpkg-query -W -f='${Version}' bpftool)
verge "$v" 7.4 || die "bpftool $v is too old (need >= 7.4, from bookworm-backports)"
v=$(dpkg-query -W -f='${Version}' qemu-system-x86)
verge "$v" 1:10 || die "qemu-system-x86 $v is too old (need >= 10, from bookworm-backports)"
ls /boot/vmlinuz-6.12.*-cloud-amd64 >/dev/null 2>&1 || die "no 6.12 cloud kernel in /boot"
ls -d /usr/src/linux-headers-6.12.*-cloud-amd64 >/dev/null 2>&1 || die "no 6.12 cloud headers"
command -v clang-19 >/dev/null || die "clang-19 not found"
# checkpatch.pl (make checkpatch, make test) from the 6.12 source tarball
if [ ! -f /usr/src/linux-source-6.12/scripts/checkpatch.pl ]; then
	tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n 1)
	[ -n "$tarball" ] || die "linux-source-6.12 installed but no tarball in /usr/src"
	[ -w /usr/src ] || die "cannot unpack $tarball's scripts/ (run as root)"
	echo "deps: unpacking scripts/ of $tarball"
	tar -C /usr/src -xf "$tarball" linux-source-6.12/scripts ||
		die "cannot unpack $tarball"
fi
exit 0
