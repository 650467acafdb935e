/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fair: weighted fair sharing of a peer's channels, by start-time fair
 * queuing (SFQ).
 *
 * Each socket gets a weight when it is created, from the cgroup of the task
 * that created it: the map cgrp_weight holds cgroup id -> weight, and
 * sockets of cgroups that are not listed get DEFAULT_WEIGHT. Sending a frame
 * of B bytes costs a socket B * 1024 / weight units of virtual time, so a
 * socket of weight 300 pays a third of what one of weight 100 pays for the
 * same frame and gets three times the bytes while both are backlogged.
 *
 * Every frame is stamped with a start tag, the virtual time at which it may
 * start, and a finish tag, start plus its cost; the next frame of the socket
 * starts where the last one finished. The rank is the start tag, so the
 * scheduler, which sends the lowest rank first, serves sockets in order of
 * how little of their share they have used. The peer's virtual clock
 * (tx->vtime) is the start tag of the frame sent last; a socket that was
 * idle starts from it rather than from its old finish tag, so idling saves
 * no credit to burst with later, and a newcomer neither starves the others
 * nor is starved: it joins the round where it stands.
 *
 *	ncload attach fair
 *	ncload set-weight /sys/fs/cgroup/batch 100
 *	ncload set-weight /sys/fs/cgroup/important 300
 *
 * Weights apply per socket: a cgroup's share grows with the sockets it
 * keeps busy. With one busy socket per cgroup, that is a share per cgroup.
 * A weight is read when the socket is created (and again for every live
 * socket when the policy is attached or replaced).
 *
 * Nothing starves here: a ready socket's start tag is at most one of its
 * own frames ahead of the clock, so before it is served again every other
 * ready socket sends at most (its weight / this socket's weight) + 1
 * frames. Weights are limited to 1..1000 so that even the extreme ratio
 * keeps that wait far below the default timeout_ms.
 */
#include "netchannel.bpf.h"

char _license[] SEC("license") = "GPL";

#define DEFAULT_WEIGHT	NETSCHED_WEIGHT_DFL
#define MAX_WEIGHT	1000

/* cgroup id -> weight (1..1000); filled by `ncload set-weight CGROUP W` */
NETSCHED_CGROUP_MAP(cgrp_weight, 1, 1000);

s32 NETSCHED_OPS(fair_sock_init, struct netsched_sock *sk)
{
	u32 w = netsched_cgroup_value(&cgrp_weight, sk, DEFAULT_WEIGHT);

	sk->weight = w ? (w < MAX_WEIGHT ? w : MAX_WEIGHT) : DEFAULT_WEIGHT;
	sk->policy_data = 0;		/* finish tag of its last frame */
	return 0;
}

u64 NETSCHED_OPS(fair_enqueue, struct netsched_sock *sk,
		 struct netsched_tx *tx)
{
	u64 start = sk->policy_data > tx->vtime ? sk->policy_data : tx->vtime;
	u64 weight = sk->weight ? sk->weight : 1;

	sk->policy_data = start + (u64)tx->frame_bytes * 1024 / weight;
	return start;
}

NETSCHED_POLICY(fair,
	.sock_init = (void *)fair_sock_init,
	.enqueue = (void *)fair_enqueue,
);
