// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: counts how often NetChannel calls each callback, in an array
 * map that tests find by name (nc_test_counts) even when bpftool attached it.
 */
#include "netchannel.bpf.h"

char _license[] SEC("license") = "GPL";

enum { CNT_INIT, CNT_EXIT, CNT_SOCK_INIT, CNT_SOCK_RELEASE, CNT_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, u32);
	__type(value, u64);
} nc_test_counts SEC(".maps");

/* the exit kind, read back by the test after detaching */
int exit_kind = -1;

static void bump(u32 idx)
{
	u64 *v = bpf_map_lookup_elem(&nc_test_counts, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

s32 NETSCHED_OPS(count_init)
{
	bump(CNT_INIT);
	return 0;
}

void NETSCHED_OPS(count_exit, struct netsched_exit_info *info)
{
	exit_kind = info->kind;
	bump(CNT_EXIT);
}

s32 NETSCHED_OPS(count_sock_init, struct netsched_sock *sk)
{
	sk->class = 7;		/* proves the write is allowed */
	bump(CNT_SOCK_INIT);
	return 0;
}

void NETSCHED_OPS(count_sock_release, struct netsched_sock *sk)
{
	bump(CNT_SOCK_RELEASE);
}

NETSCHED_POLICY(nc_test_count,
	.init = (void *)count_init,
	.exit = (void *)count_exit,
	.sock_init = (void *)count_sock_init,
	.sock_release = (void *)count_sock_release,
);
