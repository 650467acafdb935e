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

say "an unmodified nginx in a cgroup enabled with 'ncload enable' (no preload)"
mkdir -p /sys/fs/cgroup/web /tmp/web/html /tmp/web/logs
head -c 4194304 /dev/urandom > /tmp/web/html/file
cat > /tmp/web/nginx.conf <<EOF
user root; worker_processes 1; daemon off; master_process off;
pid /tmp/web/nginx.pid; error_log /tmp/web/logs/error.log;
events { worker_connections 64; }
http { access_log off; default_type application/octet-stream;
       client_body_temp_path /tmp/web/t; proxy_temp_path /tmp/web/t;
       fastcgi_temp_path /tmp/web/t; uwsgi_temp_path /tmp/web/t;
       scgi_temp_path /tmp/web/t;
       server { listen $IP_B:8080; root /tmp/web/html; } }
EOF
ncload enable /sys/fs/cgroup/web
# in the background (it execs, so $! is the program): join the cgroup, then
# become the program (before ip netns exec, which remounts /sys)
in_web() { exec sh -c 'echo $$ > /sys/fs/cgroup/web/cgroup.procs && exec "$@"' sh "$@"; }
in_web ip netns exec "$NS_B" nginx -p /tmp/web -c /tmp/web/nginx.conf &
web=$!
sleep 2
echo "an enabled client (NetChannel) and a plain one (TCP) download 4 MiB at once:"
in_web ip netns exec "$NS_A" curl -s -o /tmp/web/nc.out "http://$IP_B:8080/file" &
cli=$!
a curl -s -o /tmp/web/tcp.out "http://$IP_B:8080/file"
wait "$cli"
cmp /tmp/web/html/file /tmp/web/nc.out && echo "NetChannel client: byte-exact"
cmp /tmp/web/html/file /tmp/web/tcp.out && echo "TCP client: byte-exact"
ncstat -n "$NS_B" stats | grep -E 'bytes_tx|fallback_accepted'
kill "$web"
wait "$web" 2>/dev/null || true
ncload disable /sys/fs/cgroup/web

say "clean up: delete the hosts, unload the module"
nc_hosts down
# closed sockets finish their goodbyes first (and a detached policy's
# reference goes after an RCU grace period)
for i in $(seq 100); do rmmod netchannel 2>/dev/null && break; sleep 0.2; done
lsmod | grep -q '^netchannel ' && { echo "netchannel still in use"; exit 1; }
echo "demo done"
