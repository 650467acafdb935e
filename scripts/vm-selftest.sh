#!/usr/bin/env bash
# Self-test of the guest harness scripts/vm.sh: exit statuses, splat detection
# (on synthetic logs and in a real guest), --add, --timeout, a kernel panic.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VM=$ROOT/scripts/vm.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vm-selftest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PASS=0 FAIL=0

# check NAME EXPECTED_STATUS [GREP_PATTERN_IN_OUTPUT] -- COMMAND...
check() {
	local name=$1 want=$2 pattern="" rc=0 t0
	shift 2
	if [ "$1" != -- ]; then pattern=$1; shift; fi
	shift
	t0=$SECONDS
	"$@" > "$TMP/out" 2>&1 || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL: $name: exit status $rc, want $want"
	elif [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$TMP/out"; then
		echo "FAIL: $name: output lacks /$pattern/"
	else
		echo "ok:   $name ($((SECONDS - t0)) s)"
		PASS=$((PASS + 1))
		return 0
	fi
	sed 's/^/      | /' "$TMP/out" | tail -n 25
	FAIL=$((FAIL + 1))
}

# --- the log scanner, on synthetic console logs (no guest) ---
n=0123456789abcdef
clean_log() {
	cat <<-EOF
		[    0.000000] Linux version 6.12.0 (fake)
		a test may print BUG: or WARNING: itself; only kernel lines count
		@@NC-VM-TAINT:$n:12288@@
		@@NC-VM-EXIT:$n:0@@
	EOF
}
clean_log > "$TMP/clean.log"
check "scanner: clean log (taint O+E allowed)" 0 -- "$VM" --scan-log "$TMP/clean.log"
i=0
for splat in \
	'WARNING: CPU: 1 PID: 77 at net/core/dev.c:123 foo+0x1/0x2' \
	'------------[ cut here ]------------' \
	'BUG: kernel NULL pointer dereference, address: 0000000000000008' \
	'Oops: general protection fault, probably for non-canonical address' \
	'refcount_t: underflow; use-after-free.' \
	'INFO: task kworker/0:1:42 blocked for more than 120 seconds.' \
	'WARNING: possible circular locking dependency detected' \
	'UBSAN: array-index-out-of-bounds in net/foo.c:1:2' \
	'BUG: KASAN: slab-use-after-free in bar+0x10/0x20' \
	'rcu: INFO: rcu_sched detected stalls on CPUs/tasks:' \
	'kmemleak: 1 new suspected memory leaks' \
	'Kernel panic - not syncing: Fatal exception'; do
	i=$((i + 1))
	{ clean_log; echo "[   12.345678] $splat"; } > "$TMP/splat$i.log"
	check "scanner: detects '${splat:0:40}'" 99 "vm: kernel splat: " -- \
		"$VM" --scan-log "$TMP/splat$i.log"
done
clean_log | sed "s/TAINT:$n:12288/TAINT:$n:512/" > "$TMP/taint.log"
check "scanner: taint W (512) is dirty" 99 "kernel tainted: 512" -- "$VM" --scan-log "$TMP/taint.log"

# --- real guests ---
check "guest: true exits 0" 0 "vm: booted in [0-9.]+ s" -- "$VM" -- true
check "guest: exit 3 exits 3" 3 -- "$VM" -- 'exit 3'
check "guest: argv quoting" 0 -- "$VM" -- test "a b" = "a b"
check "guest: WARNING in kmsg fails a passing command" 99 \
	"vm: kernel splat: .*WARNING: CPU: 0 PID: 1 at fake" -- \
	"$VM" -- "echo '<4>WARNING: CPU: 0 PID: 1 at fake' > /dev/kmsg"
mkdir -p "$TMP/dir/sub"
echo hello-file > "$TMP/file.txt"
echo hello-dir > "$TMP/dir/sub/x"
check "guest: --add file and dir" 0 -- "$VM" --add "$TMP/file.txt" \
	--add "$TMP/dir:/opt/d" -- \
	'grep -qx hello-file /nc/extra/file.txt && grep -qx hello-dir /opt/d/sub/x'
# shellcheck disable=SC2016 # expanded in the guest
check "guest: mounts, lo, veth, netns, bpftool" 0 -- "$VM" -- '
	set -e
	for m in /proc /sys /dev /dev/pts /tmp /run /sys/fs/bpf /sys/fs/cgroup \
		/sys/kernel/debug /sys/kernel/tracing; do grep -q " $m " /proc/mounts; done
	ip link show lo | grep -q UP
	grep -q "^veth " /proc/modules
	ip netns add t && ip link add va type veth peer name vb netns t
	ip -n t link show vb >/dev/null
	bpftool feature probe kernel >/dev/null
	[ "$(ulimit -l)" = unlimited ]'
# A real kernel WARN (taint W) from a tiny out-of-tree module, if kernel headers exist.
KVER=${KVER:-$(find /boot -maxdepth 1 -name 'vmlinuz-6.12.*-cloud-amd64' | sort -V | tail -n 1)}
KVER=${KVER#/boot/vmlinuz-}
KDIR=/usr/src/linux-headers-$KVER
if [ -d "$KDIR" ] && command -v make >/dev/null; then
	mkdir -p "$TMP/warnmod"
	cat > "$TMP/warnmod/warnmod.c" <<-'EOF'
		#include <linux/module.h>
		static bool warn;
		module_param(warn, bool, 0);
		static int __init warnmod_init(void) { WARN_ON(warn); return 0; }
		static void __exit warnmod_exit(void) { }
		module_init(warnmod_init);
		module_exit(warnmod_exit);
		MODULE_LICENSE("GPL");
	EOF
	echo 'obj-m := warnmod.o' > "$TMP/warnmod/Makefile"
	if make -s -C "$KDIR" M="$TMP/warnmod" modules > "$TMP/warnmod/build.log" 2>&1; then
		check "guest: out-of-tree module load (taint O+E) is clean" 0 -- \
			"$VM" --add "$TMP/warnmod/warnmod.ko" -- 'insmod extra/warnmod.ko && rmmod warnmod'
		check "guest: real WARN_ON fails the run" 99 "kernel splat: .*WARNING: CPU: .*warnmod" -- \
			"$VM" --add "$TMP/warnmod/warnmod.ko" -- 'insmod extra/warnmod.ko warn=1'
	else
		echo "FAIL: could not build the WARN test module:"; tail -n 5 "$TMP/warnmod/build.log"
		FAIL=$((FAIL + 1))
	fi
else
	echo "skip: real WARN test (no $KDIR)"
fi
check "guest: --timeout kills a hung guest" 124 "TIMEOUT" -- "$VM" --timeout 10 -- 'sleep 1000'
check "guest: kernel panic fails fast" 125 "vm: kernel splat: .*Kernel panic" -- \
	"$VM" --timeout 60 -- 'echo c > /proc/sysrq-trigger; sleep 1000'

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
