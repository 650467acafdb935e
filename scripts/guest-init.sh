#!/bin/sh
# /init of the NetChannel test guest (busybox ash). Installed by scripts/vm.sh.
#
# Per-run inputs (from the small cpio that vm.sh appends to the cached base):
#   /nc/.vm/nonce   random token; makes the markers below unambiguous
#   /nc/.vm/cmd     shell command line to run (absent: interactive shell)
# Console protocol (parsed by vm.sh; NONCE is the token above):
#   @@NC-VM-START:NONCE@@          the command is about to start
#   @@NC-VM-DMESG-BEGIN:NONCE@@ ... @@NC-VM-DMESG-END:NONCE@@   full dmesg
#   @@NC-VM-TAINT:NONCE:<value>@@  /proc/sys/kernel/tainted after the command
#   @@NC-VM-EXIT:NONCE:<status>@@  the command's exit status

export PATH=/nc/bin:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root TERM="${TERM:-linux}"
umask 022

mnt() { mount "$@" || echo "vm-init: mount $* failed"; }

mnt -t proc proc /proc
mnt -t sysfs sysfs /sys
mnt -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mnt -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mnt -t tmpfs -o mode=1777 tmpfs /dev/shm
mnt -t tmpfs -o mode=1777 tmpfs /tmp
mnt -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/netns /run/lock       # /var/run -> /run, so `ip netns add` works
mnt -t bpf bpf /sys/fs/bpf
mnt -t cgroup2 cgroup2 /sys/fs/cgroup
mnt -t debugfs debugfs /sys/kernel/debug
mnt -t tracefs tracefs /sys/kernel/tracing
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd

hostname nc-vm
ip link set lo up
# shellcheck disable=SC3045 # dash (the guest /bin/sh) has ulimit -l
ulimit -l unlimited

# Modules staged by vm.sh, dependencies first (netchannel.ko is NOT loaded here).
if [ -f /etc/nc-vm/modules ]; then
	while read -r m; do
		[ -n "$m" ] && { insmod "$m" || echo "vm-init: insmod $m failed"; }
	done < /etc/nc-vm/modules
fi

nonce=$(cat /nc/.vm/nonce 2>/dev/null || echo none)
cd /nc || cd /

echo "@@NC-VM-START:$nonce@@"
if [ -f /nc/.vm/cmd ]; then
	/bin/sh -c "$(cat /nc/.vm/cmd)" < /dev/null
	rc=$?
else
	echo "vm-init: interactive shell; 'exit' or Ctrl-D powers off (QEMU escape: Ctrl-A x)"
	setsid cttyhack /bin/bash -l
	rc=$?
fi
cd /

# Let late kernel messages (e.g. a WARN from a teardown) land in dmesg first.
sleep 0.2
echo "@@NC-VM-DMESG-BEGIN:$nonce@@"
dmesg
echo "@@NC-VM-DMESG-END:$nonce@@"
echo "@@NC-VM-TAINT:$nonce:$(cat /proc/sys/kernel/tainted)@@"
echo "@@NC-VM-EXIT:$nonce:$rc@@"
sync
poweroff -f
# Never let PID 1 exit (that would be a kernel panic).
echo o > /proc/sysrq-trigger
while :; do sleep 1; done
