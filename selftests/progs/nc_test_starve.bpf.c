// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy that misbehaves in two ways the kernel must catch:
 *
 * - starvation: the rank is the socket's class alone (from cgrp_class, a
 *   per-cgroup map like priority's; default class 1), so while sockets of
 *   class 0 keep a peer's channels busy, a class 1 socket is never served.
 *   timeout_ms is short (1 s) so the watchdog ejects it quickly.
 * - an invalid return: select_channels() returns bad_channels when user
 *   space sets it (0 = behave: every channel), e.g. 1ULL << 40, a set
 *   that names none of the peer's channels and must get it ejected.
 */
#include "netchannel.bpf.h"

char _license[] SEC("license") = "GPL";

NETSCHED_CGROUP_MAP(cgrp_class, 0, 255);

unsigned long long bad_channels;
int exit_kind = -1;
long long exit_code;

s32 NETSCHED_OPS(starve_sock_init, struct netsched_sock *sk)
{
	sk->class = netsched_cgroup_value(&cgrp_class, sk, 1);
	return 0;
}

u64 NETSCHED_OPS(starve_enqueue, struct netsched_sock *sk,
		 struct netsched_tx *tx)
{
	return sk->class;
}

u64 NETSCHED_OPS(starve_select_channels, struct netsched_sock *sk,
		 u32 nr_channels)
{
	return bad_channels ? bad_channels : NETSCHED_CHANNELS_ALL;
}

void NETSCHED_OPS(starve_exit, struct netsched_exit_info *info)
{
	exit_kind = info->kind;
	exit_code = info->code;
}

NETSCHED_POLICY(nc_test_starve,
	.sock_init = (void *)starve_sock_init,
	.enqueue = (void *)starve_enqueue,
	.select_channels = (void *)starve_select_channels,
	.exit = (void *)starve_exit,
	.timeout_ms = 1000,
);
