#!/usr/bin/env bash
# Boot the NetChannel test guest (Debian 6.12 cloud kernel, or the debug kernel, +
# busybox initramfs) in QEMU and run a command in it. See --help. Build products
# go under build/vm/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VMDIR=$ROOT/build/vm
GUEST_DIR=${NC_VM_GUEST_DIR:-$ROOT/build/guest}
NC_KO=${NC_VM_NC_KO:-$ROOT/kernel/netchannel.ko}
INIT_SRC=$ROOT/scripts/guest-init.sh
CONSOLE_LOG=$VMDIR/console.log
# Modules put in the guest and loaded at boot (plus their modules.dep dependencies).
read -r -a MODULES <<< "${NC_VM_MODULES:-veth sch_tbf}"
# Host programs copied into the guest, as GUEST_PATH=HOST_PATH. iproute2's ip and tc
# replace busybox's applets, which lack `ip netns` and tc's BPF support. Debian's
# busybox-static runs its own applets in preference to PATH (ash "standalone
# shell"), which would shadow them, so /bin/sh is dash (as on Debian) and bash is
# there for scripts and the interactive shell. Busybox applets that run other programs
# (timeout, env, xargs, nice) also prefer applets, or lack them, so those come from
# the host too.
HOST_TOOLS=(/usr/sbin/bpftool=/usr/sbin/bpftool /sbin/ip=/bin/ip /sbin/tc=/sbin/tc
	/bin/sh=/bin/dash /bin/bash=/bin/bash /usr/bin/timeout=/usr/bin/timeout
	/usr/bin/env=/usr/bin/env /usr/bin/xargs=/usr/bin/xargs /usr/bin/nice=/usr/bin/nice
	# the unmodified programs of test_programs (scripts/deps.sh)
	/usr/sbin/nginx=/usr/sbin/nginx /usr/bin/curl=/usr/bin/curl /usr/bin/wrk=/usr/bin/wrk
	/usr/bin/socat=/usr/bin/socat /usr/bin/redis-server=/usr/bin/redis-server
	/usr/bin/redis-cli=/usr/bin/redis-cli /usr/bin/redis-benchmark=/usr/bin/redis-benchmark
	/usr/bin/iperf3=/usr/bin/iperf3)
# Taint bits that are fine: 4096 (O, out-of-tree module), 8192 (E, unsigned module).
TAINT_OK_MASK=$((4096 | 8192))
SPLAT_RE='Oops|BUG:|WARNING:|------------\[ cut here \]|lockdep|possible circular locking|possible recursive locking|INFO: task .* blocked|refcount_t:|KASAN|UBSAN|general protection fault|Kernel panic|kmemleak|RCU stall|rcu.*detected stall|soft lockup|list_(add|del) corruption|ODEBUG:|Not enough bytes to eat'
# Lines the debug kernel prints on every boot, or that the kmemleak check
# (selftests/guest/run-tests.sh) judges itself: they match SPLAT_RE but are not
# reports.
BENIGN_RE='RCU lockdep checking is enabled|kmemleak: Kernel memory leak detector initialized|kmemleak: Automatic memory scanning thread|kmemleak: [0-9]+ new suspected memory leaks \(see /sys/kernel/debug/kmemleak\)|Lock dependency validator|lockdep: fixing up alternatives|KASAN: not (enabled|supported)'
# Kernel lines carry a printk timestamp (printk.time=1 on the cmdline); only those
# are scanned, so a test that merely prints "BUG:" does not fail the run.
KLINE_RE='\[ *[0-9]+\.[0-9]{6}\] '

die() { echo "vm: $*" >&2; exit 125; }
note() { echo "vm: $*" >&2; }

usage() {
	cat <<'EOF'
Usage: scripts/vm.sh [OPTIONS] [-- CMD [ARGS...]]

Boot a QEMU guest (Debian's 6.12 cloud kernel, busybox initramfs) and run CMD in it
as root, in /nc, with PATH=/nc/bin:/bin:/sbin:/usr/bin:/usr/sbin. The exit status is
CMD's, unless the kernel log is dirty (then 99 if CMD succeeded). Without CMD, an
interactive shell runs on the serial console; leaving it powers the guest off
(Ctrl-A x kills QEMU).

CMD: a single argument is a shell command line (run as: /bin/sh -c "ARG"); several
arguments are a program and its arguments, each quoted so it arrives unchanged.
  scripts/vm.sh -- 'insmod netchannel.ko && ./test.sh'
  scripts/vm.sh -- ip -d link show

Options:
  --add SRC[:DEST]  Put the host file or directory SRC into the guest at DEST
                    (default /nc/extra/<basename of SRC>). Repeatable. Shared
                    libraries of added ELF programs are added too.
  --timeout SEC     Kill QEMU and fail (exit 124) if the guest has not finished
                    after SEC seconds. Default 600, or $NC_VM_TIMEOUT. With no CMD
                    (interactive), there is no timeout unless one is given.
  --mem MB          Guest memory (default 2048).
  --smp N           Guest CPUs (default 2).
  --debug-kernel    Boot the debug kernel (KASAN, lockdep, kmemleak, ...; built
                    and cached by scripts/debug-kernel.sh, see make test-debug)
                    instead of Debian's cloud kernel, with the module built for it
                    (build/debug/netchannel.ko) as /nc/netchannel.ko. Its drivers
                    are built in: no module is loaded at boot.
  --scan-log FILE   Only scan a saved console log as after a run (exit 0 clean,
                    99 dirty); used by scripts/vm-selftest.sh.
  -h, --help        Show this help.

Guest contents: a base initramfs cached in build/vm/base-{cloud,debug}.cpio (rebuilt when its
inputs change): busybox with all applets, bpftool, iproute2's ip and tc, the modules
veth and sch_tbf (loaded at boot), build/guest/ copied to /nc/, kernel/netchannel.ko as
/nc/netchannel.ko (not loaded), and the shared libraries all ELF files need. The
command and --add files go into a small per-run cpio appended to it.

The console is streamed to stdout and saved in build/vm/console.log, which also
holds the guest's full dmesg (dumped at the end, not shown). Timestamped kernel
lines in it are scanned: Oops, BUG:, WARNING:, lockdep, KASAN, UBSAN, hung tasks,
RCU stalls, panics etc. ("vm: kernel splat: LINE" on stderr) or a taint other than
O/E (4096/8192) fail the run. The guest's /bin/sh is dash and bash is present;
busybox applets would run busybox's own ip/tc instead of iproute2's.

Exit status: CMD's status; 99 kernel log dirty; 124 timeout; 125 harness error or
the guest died before reporting (e.g. kernel panic).

Environment:
  NC_VM_TIMEOUT     default for --timeout
  NC_VM_ACCEL       tcg or kvm; default: kvm only if a probe guest boots with it
                    (probed once, verdict cached in build/vm/kvm-verdict)
  NC_VM_TCG_THREAD  multi (default: each vCPU on its own host thread, real
                    parallelism; needs QEMU >= 10) or single (vCPUs take turns)
  KVER              kernel version to boot (default: newest 6.12 cloud in /boot)
  NC_VM_MODULES     modules loaded at boot (default "veth sch_tbf"; none with
                    --debug-kernel, which has them built in)
  NC_VM_GUEST_DIR   directory copied to /nc (default build/guest)
  NC_VM_NC_KO       module copied to /nc/netchannel.ko (default kernel/netchannel.ko,
                    or build/debug/netchannel.ko with --debug-kernel)
EOF
}

# ---------------------------------------------------------------- arguments
ADDS=() TIMEOUT="" MEM=2048 SMP=2 CMD=() HAVE_CMD=0 SCAN_ONLY="" DEBUG_KERNEL=0
while [ $# -gt 0 ]; do
	case $1 in
	--add) [ $# -ge 2 ] || die "--add needs SRC[:DEST]"; ADDS+=("$2"); shift 2 ;;
	--timeout) [ $# -ge 2 ] || die "--timeout needs SEC"; TIMEOUT=$2; shift 2 ;;
	--mem) [ $# -ge 2 ] || die "--mem needs MB"; MEM=$2; shift 2 ;;
	--smp) [ $# -ge 2 ] || die "--smp needs N"; SMP=$2; shift 2 ;;
	--scan-log) [ $# -ge 2 ] || die "--scan-log needs FILE"; SCAN_ONLY=$2; shift 2 ;;
	--debug-kernel) DEBUG_KERNEL=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; CMD=("$@"); HAVE_CMD=1; break ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
done
[ "$HAVE_CMD" = 0 ] || [ ${#CMD[@]} -gt 0 ] || die "empty command after --"
for v in "$MEM" "$SMP" ${TIMEOUT:+"$TIMEOUT"}; do
	if ! [[ $v =~ ^[0-9]+$ ]] || [ "$v" -eq 0 ]; then die "not a positive integer: '$v'"; fi
done
if [ -z "$TIMEOUT" ] && [ "$HAVE_CMD" = 1 ]; then
	TIMEOUT=${NC_VM_TIMEOUT:-600}
fi

# ---------------------------------------------------------------- log scanner
# scan_log FILE NONCE_RE: print problems to stderr, return 0 if clean, 1 if dirty.
scan_log() {
	local log=$1 nonce=$2 dirty=0 line taint bad
	declare -A seen=()
	while IFS= read -r line; do
		line=${line%$'\r'}
		[ -z "${seen[$line]+x}" ] || continue
		seen[$line]=1
		echo "vm: kernel splat: $line" >&2
		dirty=1
	done < <(grep -aE "$KLINE_RE" "$log" | grep -aE "$SPLAT_RE" | grep -avE "$BENIGN_RE" |
		head -n 50 || true)
	taint=$(grep -aoE "@@NC-VM-TAINT:$nonce:[0-9]+@@" "$log" | tail -n 1 |
		sed -E 's/.*:([0-9]+)@@/\1/' || true)
	if [ -n "$taint" ]; then
		bad=$((taint & ~TAINT_OK_MASK))
		if [ "$bad" -ne 0 ]; then
			echo "vm: kernel tainted: $taint (bits other than O/E: $bad)" >&2
			dirty=1
		fi
	fi
	return $((dirty))
}

if [ -n "$SCAN_ONLY" ]; then
	[ -r "$SCAN_ONLY" ] || die "cannot read $SCAN_ONLY"
	if scan_log "$SCAN_ONLY" '[0-9a-f]+'; then exit 0; else exit 99; fi
fi

# ---------------------------------------------------------------- kernel
FLAVOUR=cloud MODDIR=""
if [ "$DEBUG_KERNEL" = 1 ]; then
	FLAVOUR=debug
	DKDIR=$("$ROOT/scripts/debug-kernel.sh" dir) ||
		die "no debug kernel built (make test-debug builds it; or scripts/debug-kernel.sh)"
	KVER=$(cat "$DKDIR/kver")
	VMLINUZ=$DKDIR/bzImage
	MODDIR=$DKDIR/mods/lib/modules/$KVER
	NC_KO=${NC_VM_NC_KO:-$ROOT/build/debug/netchannel.ko}
	read -r -a MODULES <<< "${NC_VM_MODULES:-}"
	[ -e "$NC_KO" ] || die "no $NC_KO (make module-debug)"
elif [ -n "${KVER:-}" ]; then
	VMLINUZ=/boot/vmlinuz-$KVER
else
	VMLINUZ=$(find /boot -maxdepth 1 -name 'vmlinuz-6.12.*-cloud-amd64' | sort -V | tail -n 1)
	[ -n "$VMLINUZ" ] || die "no /boot/vmlinuz-6.12.*-cloud-amd64 (run scripts/deps.sh)"
	KVER=${VMLINUZ#/boot/vmlinuz-}
fi
[ -r "$VMLINUZ" ] || die "cannot read $VMLINUZ"
MODDIR=${MODDIR:-/lib/modules/$KVER}
[ -f "$MODDIR/modules.dep" ] || die "no $MODDIR/modules.dep"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not installed"
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || die "busybox not installed (busybox-static)"

mkdir -p "$VMDIR"

# ---------------------------------------------------------------- helpers
is_dyn_elf() { # ELF executable or shared object (e_type 2 or 3), not a .bpf.o
	local hdr
	hdr=$(od -An -tx1 -N18 "$1" 2>/dev/null | tr -d ' \n') || return 1
	[[ $hdr == 7f454c46* ]] && [[ ${hdr:32:4} == 0200 || ${hdr:32:4} == 0300 ]]
}

# copy_libs STAGE FILE...: copy the shared libraries (and loader) of FILEs to STAGE.
copy_libs() {
	local stage=$1 f lib
	shift
	for f in "$@"; do
		is_dyn_elf "$f" || continue
		if ldd "$f" 2>/dev/null | grep -q 'not found'; then
			note "warning: $f: missing libraries: $(ldd "$f" | grep 'not found' | tr -s ' \t\n' ' ')"
		fi
		while read -r lib; do
			[ -e "$stage$lib" ] && continue
			mkdir -p "$stage$(dirname "$lib")"
			cp -L "$lib" "$stage$lib"
		done < <(ldd "$f" 2>/dev/null | grep -oE '(^|[[:space:]])/[^[:space:]]+' | tr -d ' \t' || true)
	done
}

# mod_closure NAME: append to MOD_ORDER the module files (relative to MODDIR) that
# NAME needs, dependencies first.
declare -A MOD_DONE=()
MOD_ORDER=()
mod_closure() {
	local name=$1 line key dep
	line=$(grep -E "(^|/)${name//[-_]/[-_]}\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep" | head -n 1) ||
		die "module $name not in $MODDIR/modules.dep"
	key=${line%%:*}
	[ -z "${MOD_DONE[$key]+x}" ] || return 0
	MOD_DONE[$key]=1
	for dep in ${line#*:}; do
		dep=$(basename "$dep"); dep=${dep%%.ko*}
		mod_closure "$dep"
	done
	MOD_ORDER+=("$key")
}

unpack_module() { # SRC DEST (DEST without compression suffix)
	case $1 in
	*.xz) xz -dc "$1" > "$2" ;;
	*.gz) gzip -dc "$1" > "$2" ;;
	*.zst) zstd -qdc "$1" > "$2" ;;
	*) cp "$1" "$2" ;;
	esac
}

# ---------------------------------------------------------------- base initramfs
BASE=$VMDIR/base-$FLAVOUR.cpio
STAMP=$VMDIR/base-$FLAVOUR.stamp

base_inputs() { # everything the base depends on, with sizes and mtimes
	local t
	echo "kver=$KVER modules=${MODULES[*]} tools=${HOST_TOOLS[*]}"
	stat -Lc '%n %s %Y' "$0" "$INIT_SRC" "$BUSYBOX" "$MODDIR/modules.dep" \
		/var/lib/dpkg/status
	for t in "${HOST_TOOLS[@]}"; do stat -Lc '%n %s %Y' "${t#*=}" 2>/dev/null || true; done
	[ ! -e "$NC_KO" ] || stat -Lc '%n %s %Y' "$NC_KO"
	[ ! -d "$GUEST_DIR" ] ||
		find "$GUEST_DIR" -printf '%P %y %s %T@ %m %l\n' | LC_ALL=C sort
}

build_base() {
	local stage=$VMDIR/root a t m f elfs=()
	note "building base initramfs ($BASE)"
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc/nc-vm,proc,sys,dev,tmp,run,root,var,nc,mnt}
	ln -s ../run "$stage/var/run"
	install -m 755 "$INIT_SRC" "$stage/init"
	# busybox and all its applets
	cp "$BUSYBOX" "$stage/bin/busybox"
	while read -r a; do
		[ "$a" = bin/busybox ] || [ -e "$stage/$a" ] || ln -s /bin/busybox "$stage/$a"
	done < <("$BUSYBOX" --list-full)
	# host programs (overriding busybox applets of the same name)
	for t in "${HOST_TOOLS[@]}"; do
		f=${t#*=}
		[ -x "$f" ] || { note "warning: $f not found; not in the guest"; continue; }
		rm -f "$stage${t%%=*}" "$stage/bin/$(basename "${t%%=*}")"
		cp -L "$f" "$stage${t%%=*}"
		elfs+=("$f")
	done
	# kernel modules, uncompressed so that busybox insmod can load them
	for m in "${MODULES[@]}"; do mod_closure "$m"; done
	for f in "${MOD_ORDER[@]}"; do
		local dst=/lib/modules/$KVER/${f%.ko*}.ko
		mkdir -p "$stage$(dirname "$dst")"
		unpack_module "$MODDIR/$f" "$stage$dst"
		echo "$dst" >> "$stage/etc/nc-vm/modules"
	done
	# project files
	if [ -d "$GUEST_DIR" ]; then
		cp -a "$GUEST_DIR/." "$stage/nc/"
		while IFS= read -r -d '' f; do elfs+=("$f"); done < <(find "$stage/nc" -type f -print0)
	fi
	[ ! -e "$NC_KO" ] || cp "$NC_KO" "$stage/nc/netchannel.ko"
	copy_libs "$stage" "${elfs[@]}"
	for f in l/linux v/vt100 v/vt220 x/xterm d/dumb; do # terminfo for bash
		[ ! -e "/lib/terminfo/$f" ] || { mkdir -p "$stage/lib/terminfo/${f%/*}"; cp -L "/lib/terminfo/$f" "$stage/lib/terminfo/$f"; }
	done
	# minimal /etc for glibc programs
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
		> "$stage/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$stage/etc/group"
	printf '127.0.0.1 localhost nc-vm\n::1 localhost ip6-localhost\n' > "$stage/etc/hosts"
	printf 'passwd: files\ngroup: files\nhosts: files\n' > "$stage/etc/nsswitch.conf"
	printf '%s\n' 'export PATH=/nc/bin:/bin:/sbin:/usr/bin:/usr/sbin' \
		"PS1='nc-vm:\\w# '" > "$stage/etc/profile"
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) > "$BASE.tmp"
	mv "$BASE.tmp" "$BASE"
	rm -rf "$stage"
	note "base initramfs: $(du -h "$BASE" | cut -f1)"
}

ensure_base() {
	local want
	exec 8> "$VMDIR/lock-$FLAVOUR"
	flock 8
	want=$(base_inputs | sha256sum | cut -d' ' -f1)
	if [ ! -f "$BASE" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
		build_base
		echo "$want" > "$STAMP"
	fi
	flock -u 8
}

# ---------------------------------------------------------------- per-run cpio
quote_sq() { # single-quote for sh
	printf "'%s'" "${1//\'/\'\\\'\'}"
}

# make_run_initrd OUT NONCE [CMDLINE]: base + small cpio with the command and --add files
make_run_initrd() {
	local out=$1 nonce=$2 stage spec src dst
	stage=$(mktemp -d "$VMDIR/run.XXXXXX")
	mkdir -p "$stage/nc/.vm"
	echo "$nonce" > "$stage/nc/.vm/nonce"
	[ $# -lt 3 ] || printf '%s\n' "$3" > "$stage/nc/.vm/cmd"
	for spec in "${ADDS[@]}"; do
		src=${spec%%:*}
		if [[ $spec == *:* ]]; then dst=${spec#*:}; else dst=/nc/extra/$(basename "$src"); fi
		[[ $dst == /* ]] || dst=/nc/$dst
		[ -e "$src" ] || { rm -rf "$stage"; die "--add: no such file: $src"; }
		mkdir -p "$stage$(dirname "$dst")"
		cp -a "$src" "$stage$dst"
		if [ -d "$src" ]; then
			while IFS= read -r -d '' f; do copy_libs "$stage" "$f"; done \
				< <(find "$stage$dst" -type f -print0)
		else
			copy_libs "$stage" "$src"
		fi
	done
	{
		cat "$BASE"
		(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
	} > "$out"
	rm -rf "$stage"
}

# ---------------------------------------------------------------- qemu
# TCG runs each vCPU in its own host thread by default (MTTCG), so the guest's
# CPUs really run in parallel, as on hardware. This needs QEMU >= 10 (deps.sh
# installs it from bookworm-backports): QEMU 7.2's MTTCG raced with the guest's
# cross-CPU code patching (text_poke_bp) and a guest died at random with
# "Oops: int3" in about one boot in twenty. NC_VM_TCG_THREAD=single makes the
# vCPUs take turns on one host thread.
qemu_args() { # ACCEL
	local cpu=Skylake-Client-v4 acc=(-accel "tcg,thread=${NC_VM_TCG_THREAD:-multi}")
	if [ "$1" = kvm ]; then cpu=host acc=(-enable-kvm); fi
	QEMU_ARGS=(qemu-system-x86_64 "${acc[@]}" -cpu "$cpu" -smp "$SMP" -m "$MEM"
		-kernel "$VMLINUZ" -initrd "$INITRD"
		-append "console=ttyS0 quiet loglevel=5 printk.time=1 panic=-1 mitigations=off"
		-nographic -no-reboot -nic none)
}

pick_accel() {
	local verdict=$VMDIR/kvm-verdict probe_log
	case ${NC_VM_ACCEL:-} in
	tcg | kvm) ACCEL=$NC_VM_ACCEL; return ;;
	"") ;;
	*) die "NC_VM_ACCEL must be tcg or kvm" ;;
	esac
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then ACCEL=tcg; return; fi
	if [ -f "$verdict" ] && [ "$(sed -n 2p "$verdict")" = "$VMLINUZ" ]; then
		ACCEL=$(head -n 1 "$verdict")
		return
	fi
	note "probing KVM (once; verdict cached in $verdict)"
	local nonce=kvmprobe$$ probe_initrd
	probe_initrd=$(mktemp "$VMDIR/probe.XXXXXX")
	INITRD=$probe_initrd
	make_run_initrd "$probe_initrd" "$nonce" true
	qemu_args kvm
	probe_log=$VMDIR/kvm-probe.log
	timeout -k 2 10 "${QEMU_ARGS[@]}" < /dev/null > "$probe_log" 2>&1 || true
	if grep -aq "@@NC-VM-EXIT:$nonce:0@@" "$probe_log"; then ACCEL=kvm; else ACCEL=tcg; fi
	printf '%s\n%s\n' "$ACCEL" "$VMLINUZ" > "$verdict"
	rm -f "$probe_initrd"
	note "KVM probe: using $ACCEL"
}

# Console reader: save everything to the log; stream to stdout except the dmesg dump,
# markers, terminal escapes (SeaBIOS resets the screen) and QEMU's TCG feature
# warnings; report the boot time when the command starts.
console_reader() { # T0 NONCE ACCEL
	local t0=$1 nonce=$2 accel=$3 line orig in_dmesg=0 t
	shopt -s extglob
	: > "$RUN_LOG"
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line" >> "$RUN_LOG"
		orig=$line
		line=${line//$'\e'c/}
		line=${line//$'\e['*([0-9;?])[a-zA-Z]/}
		line=${line##Booting from ROM+(.)}
		if [ "$line" != "$orig" ] && [ -z "${line%$'\r'}" ]; then continue; fi
		case $line in
		"SeaBIOS (version"*) continue ;;
		*"warning: TCG doesn't support requested feature"*) continue ;;
		*"@@NC-VM-START:$nonce@@"*)
			t=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
			echo "vm: booted in $t s ($accel)" >&2
			continue ;;
		*"@@NC-VM-DMESG-BEGIN:$nonce@@"*) in_dmesg=1; continue ;;
		*"@@NC-VM-DMESG-END:$nonce@@"*) in_dmesg=0; continue ;;
		*"@@NC-VM-"*"$nonce"*) continue ;;
		esac
		[ "$in_dmesg" = 1 ] || printf '%s\n' "$line"
	done
}

# ---------------------------------------------------------------- main
ensure_base
pick_accel
NONCE=$(od -An -tx8 -N8 /dev/urandom | tr -d ' ')
INITRD=$(mktemp "$VMDIR/initrd.XXXXXX")
# Each run logs to its own file (parallel runs must not mix), copied to console.log.
RUN_LOG=$(mktemp "$VMDIR/console.XXXXXX")
chmod 644 "$RUN_LOG"
trap 'rm -f "$INITRD" "$RUN_LOG"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ "$HAVE_CMD" = 1 ]; then
	if [ ${#CMD[@]} -eq 1 ]; then
		CMDLINE=${CMD[0]}
	else
		CMDLINE=""
		for a in "${CMD[@]}"; do CMDLINE+="${CMDLINE:+ }$(quote_sq "$a")"; done
	fi
	make_run_initrd "$INITRD" "$NONCE" "$CMDLINE"
else
	make_run_initrd "$INITRD" "$NONCE"
fi
qemu_args "$ACCEL"

set +e
if [ "$HAVE_CMD" = 0 ]; then
	# Interactive: QEMU owns the terminal; tee keeps partial lines (prompts) live.
	if [ -n "$TIMEOUT" ]; then
		timeout --foreground -k 5 "$TIMEOUT" "${QEMU_ARGS[@]}" 2>&1 | tee "$RUN_LOG"
	else
		"${QEMU_ARGS[@]}" 2>&1 | tee "$RUN_LOG"
	fi
	qrc=${PIPESTATUS[0]}
else
	T0=$EPOCHREALTIME
	timeout --foreground -k 5 "$TIMEOUT" "${QEMU_ARGS[@]}" < /dev/null 2>&1 |
		console_reader "$T0" "$NONCE" "$ACCEL"
	qrc=${PIPESTATUS[0]}
fi
set -e
cp "$RUN_LOG" "$CONSOLE_LOG.$$" && mv -f "$CONSOLE_LOG.$$" "$CONSOLE_LOG"

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	note "TIMEOUT: guest did not finish within $TIMEOUT s; QEMU killed (console: $CONSOLE_LOG)"
	scan_log "$RUN_LOG" "$NONCE" || true
	exit 124
fi

rc=$(grep -aoE "@@NC-VM-EXIT:$NONCE:[0-9]+@@" "$RUN_LOG" | tail -n 1 |
	sed -E 's/.*:([0-9]+)@@/\1/' || true)
clean=1
scan_log "$RUN_LOG" "$NONCE" || clean=0
if [ -z "$rc" ]; then
	note "FAIL: the guest stopped without reporting an exit status (kernel panic? QEMU status $qrc; console: $CONSOLE_LOG)"
	exit 125
fi
if [ "$clean" = 0 ]; then
	note "FAIL: kernel log is dirty (command exit status $rc; console: $CONSOLE_LOG)"
	[ "$rc" != 0 ] || rc=99
fi
exit "$rc"
