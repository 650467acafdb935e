#!/bin/sh
# make demo: NetChannel end to end, inside the test guest.
set -e
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# the tests' two hosts (nc_hosts: the test library's topology)
NS_A=$(nc_hosts name a) NS_B=$(nc_hosts name b)
IP_A=$(nc_hosts addr a) IP_B=$(nc_hosts addr b)
a() { ip netns exec "$NS_A" "$@"; }
b() { ip netns exec "$NS_B" "$@"; }

say "load netchannel.ko"
insmod /nc/netchannel.ko
dmesg | grep 'netchannel: loaded' | tail -1

say "two hosts: namespaces $NS_A ($IP_A) and $NS_B ($IP_B) joined by veth"
nc_hosts up
a ip -brief addr show dev "$(nc_hosts dev a)"
b ip -brief addr show dev "$(nc_hosts dev b)"
a sh -c 'echo 4 > /proc/sys/net/netchannel/channels'
echo "$NS_A opens 4 channels to each peer (net.netchannel.channels)"

say "attach the NetScheduler policy 'fair' (BPF struct_ops) with ncload"
ncload attach fair
ncload status

say "8 NetChannel sockets carry 32 MiB from $NS_A to $NS_B, checked byte for byte"
b nc_xfer server 7000 --timeout 120 &
a nc_xfer client "$IP_B" 7000 32M --sockets 8
wait

say "what the hosts saw: the channels (kernel TCP connections) and counters"
ncstat -n "$NS_A" channels stats
ncstat -n "$NS_B" stats

say "replace the policy live, then detach back to the native round robin"
ncload replace latency
ncload detach
ncload status | head -3

say "a rogue peer writing garbage to the channel port gets reset and counted"
a sh -c "printf 'GARBAGE-GARBAGE-GARBAGE-GARBAGE!' | timeout 5 busybox nc $IP_B 5050" >/dev/null 2>&1 || true
sleep 0.5
ncstat -n "$NS_B" stats | grep -E 'err_|channels_reset' || true

say "clean up: delete the hosts, unload the module"
nc_hosts down
sleep 1
rmmod netchannel
echo "demo done"
