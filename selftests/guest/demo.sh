#!/bin/sh
# make demo: NetChannel end to end, inside the test guest.
set -e
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
a() { ip netns exec nc_a "$@"; }
b() { ip netns exec nc_b "$@"; }

say "load netchannel.ko"
insmod /nc/netchannel.ko
dmesg | grep 'netchannel: loaded' | tail -1

say "two hosts: namespaces nc_a (10.99.0.1) and nc_b (10.99.0.2) joined by veth"
ip netns add nc_a
ip netns add nc_b
ip link add veth_a netns nc_a type veth peer name veth_b netns nc_b
a ip addr add 10.99.0.1/24 dev veth_a
b ip addr add 10.99.0.2/24 dev veth_b
a ip link set veth_a up
b ip link set veth_b up
a ip link set lo up
b ip link set lo up
a sh -c 'echo 4 > /proc/sys/net/netchannel/channels'
echo "nc_a opens 4 channels to each peer (net.netchannel.channels)"

say "attach the NetScheduler policy 'fair' (BPF struct_ops) with ncload"
ncload attach fair
ncload status

say "8 NetChannel sockets carry 32 MiB from nc_a to nc_b, checked byte for byte"
b nc_xfer server 7000 --timeout 120 &
a nc_xfer client 10.99.0.2 7000 32M --sockets 8
wait

say "what the hosts saw: the channels (kernel TCP connections) and counters"
ncstat -n nc_a channels stats
ncstat -n nc_b stats

say "replace the policy live, then detach back to the native round robin"
ncload replace latency
ncload detach
ncload status | head -3

say "a rogue peer writing garbage to the channel port gets reset and counted"
a sh -c 'printf "GARBAGE-GARBAGE-GARBAGE-GARBAGE!" | timeout 5 busybox nc 10.99.0.2 5050' >/dev/null 2>&1 || true
sleep 0.5
ncstat -n nc_b stats | grep -E 'err_|channels_reset' || true

say "clean up: delete the hosts, unload the module"
ip netns del nc_a
ip netns del nc_b
sleep 1
rmmod netchannel
echo "demo done"
