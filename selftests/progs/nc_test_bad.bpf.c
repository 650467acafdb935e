// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy that misbehaves on demand: sock_init() returns what user space
 * put in bad_ret (0 = behave), which must get the policy ejected.
 */
#include "netchannel.bpf.h"

char _license[] SEC("license") = "GPL";

int bad_ret;
unsigned long long nr_sock_init;
int exit_kind = -1;
long long exit_code;

s32 NETSCHED_OPS(bad_sock_init, struct netsched_sock *sk)
{
	nr_sock_init++;
	return bad_ret;
}

void NETSCHED_OPS(bad_exit, struct netsched_exit_info *info)
{
	exit_kind = info->kind;
	exit_code = info->code;
}

NETSCHED_POLICY(nc_test_bad,
	.sock_init = (void *)bad_sock_init,
	.exit = (void *)bad_exit,
);
