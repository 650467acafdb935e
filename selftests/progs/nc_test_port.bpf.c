// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: classify sockets by port, as a new user would write it from
 * the public header alone. A socket whose local or remote port is lport
 * (set by the test) is class 0, every other one class 1; class 0 gets
 * channel 0 to itself and the others use the rest, as priority does.
 *
 * Ports are known only in sock_connected() (sock_init() runs at socket(),
 * before bind or connect), so that is where the class is set. Counters in
 * .bss tell the test which callbacks saw what, and which peer families.
 */
#include "netchannel.bpf.h"

char _license[] SEC("license") = "GPL";

/* a cgroup map declared without a range: ncload set must refuse it */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, u64);
	__type(value, u32);
} cgrp_undeclared SEC(".maps");

u16 lport;			/* host order; set by the test before attach */
u64 nr_init, nr_connected, nr_select;
u64 nr_enqueue[2];		/* per class */
u64 nr_unknown_port;		/* sock_connected() with a port still 0 */
u64 nr_peer_v4, nr_peer_v6;	/* sock_connected() by the peer's family */
u64 nr_addr_mismatch;		/* peer_addr not what peer_addr6 says */
u64 nr_family[2];		/* sockets by family: AF_INET, AF_INET6 */

s32 NETSCHED_OP(port_sock_init, struct netsched_sock *sk)
{
	sk->class = 1;
	__sync_fetch_and_add(&nr_init, 1);
	return 0;
}

void NETSCHED_OP(port_sock_connected, struct netsched_sock *sk)
{
	u16 local = netsched_local_port(sk), peer = netsched_peer_port(sk);

	if (!local || !peer)
		__sync_fetch_and_add(&nr_unknown_port, 1);
	if (netsched_peer_is_v4(sk)) {
		__sync_fetch_and_add(&nr_peer_v4, 1);
		if (sk->peer_addr != sk->peer_addr6[3] || !sk->peer_addr)
			__sync_fetch_and_add(&nr_addr_mismatch, 1);
	} else {
		__sync_fetch_and_add(&nr_peer_v6, 1);
		if (sk->peer_addr || !sk->peer_addr6[0])
			__sync_fetch_and_add(&nr_addr_mismatch, 1);
	}
	__sync_fetch_and_add(&nr_family[sk->family == 10 /* AF_INET6 */], 1);
	sk->class = (local == lport || peer == lport) ? 0 : 1;
	__sync_fetch_and_add(&nr_connected, 1);
}

u64 NETSCHED_OP(port_select_channels, struct netsched_sock *sk,
		u32 nr_channels)
{
	__sync_fetch_and_add(&nr_select, 1);
	if (nr_channels < 2)
		return NETSCHED_CHANNELS_ALL;
	return sk->class == 0 ? netsched_channels(0, 0) :
				netsched_channels(1, nr_channels - 1);
}

u64 NETSCHED_OP(port_enqueue, struct netsched_sock *sk,
		struct netsched_tx *tx)
{
	__sync_fetch_and_add(&nr_enqueue[sk->class ? 1 : 0], 1);
	return netsched_rank_class_time(sk->class, tx->now_ns);
}

NETSCHED_POLICY(nc_test_port,
	.sock_init = (void *)port_sock_init,
	.sock_connected = (void *)port_sock_connected,
	.select_channels = (void *)port_select_channels,
	.enqueue = (void *)port_enqueue,
);
