#!/bin/sh
# make demo: what NetChannel shows today, inside the test guest.
set -e
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say "load netchannel.ko"
insmod /nc/netchannel.ko
dmesg | grep netchannel | tail -1
say "two hosts: namespaces h1 and h2 joined by veth"
ip netns add h1
ip netns add h2
ip link add veth1 netns h1 type veth peer name veth2 netns h2
ip -n h1 addr add 10.77.0.1/24 dev veth1
ip -n h2 addr add 10.77.0.2/24 dev veth2
ip -n h1 link set veth1 up
ip -n h2 link set veth2 up
ip netns exec h1 ping -c 1 -W 2 10.77.0.2 | head -2
say "attach a NetScheduler policy with ncload"
ncload attach /nc/progs/nc_test_count.bpf.o
ncload status
say "open and close NetChannel sockets in each host; the policy counts them"
ip netns exec h1 nc_sockets 3
ip netns exec h2 nc_sockets 2
bpftool map dump name nc_test_counts
say "detach"
ncload detach
ncload status
rmmod netchannel
echo "demo done"
