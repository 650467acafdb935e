/* SPDX-License-Identifier: GPL-2.0 */
/*
 * priority: strict priority between classes of sockets.
 *
 * Every socket gets a class when it is created, from the cgroup of the task
 * that created it: the map cgrp_class holds cgroup id -> class (0 is the
 * highest), and sockets of cgroups that are not listed get DEFAULT_CLASS.
 * The rank of a frame is its class in the top 8 bits and the time it was
 * ranked in the low 56 bits, so the scheduler, which sends the lowest rank
 * first, always prefers a lower class and serves sockets of one class in
 * the order they became ready (FIFO, which is round robin for sockets that
 * keep sending). A latency-sensitive app in class 0 thus never waits for a
 * bulk app of class 2 in the scheduler.
 *
 * Nor does it wait behind them in a channel: a frame sent waits for the
 * bytes its channel's TCP already holds. So when a peer has two channels
 * or more, class 0 gets channel 0 to itself and every other class uses
 * the rest (select_channels()), as the NetChannel prototype kept separate
 * channels for latency and for throughput traffic. With one channel all
 * classes share it, so the policy asks for two from the start
 * (channels_min): a group made while it is attached opens both at the
 * first connect, and channel 0 stays class 0's as the group grows.
 *
 *	ncload attach priority
 *	ncload set-class /sys/fs/cgroup/lapp 0
 *	ncload set-class /sys/fs/cgroup/bulk 2
 *
 * A class is read when the socket is created (and again for every live
 * socket when the policy is attached or replaced), so set the classes
 * before the apps open their sockets.
 *
 * Strict priority is not fair: as long as a higher class keeps a peer's
 * channels busy, a lower class on that peer gets nothing. NetChannel bounds
 * that starvation with timeout_ms: a ready socket left unserved for that
 * long gets the policy ejected and the native round robin takes over. This
 * policy asks for 10 s, long enough for bursts of a high class, short
 * enough that a starved bulk transfer stalls but never hangs. A policy that
 * must never be ejected would age low classes instead (see latency).
 *
 * The clock in the low 56 bits wraps after 2^56 ns (2.3 years of uptime);
 * frames ranked across the wrap are briefly served out of order.
 */
#include "netchannel.bpf.h"

char _license[] SEC("license") = "GPL";

#define DEFAULT_CLASS	1
#define MAX_CLASS	255		/* what fits above the clock */
#define CLOCK_BITS	56
#define CLOCK_MASK	((1ULL << CLOCK_BITS) - 1)

/* cgroup id -> class; filled by `ncload set-class CGROUP CLASS` */
NETSCHED_CGROUP_MAP(cgrp_class, 0, 255);

s32 NETSCHED_OPS(priority_sock_init, struct netsched_sock *sk)
{
	u32 class = netsched_cgroup_value(&cgrp_class, sk, DEFAULT_CLASS);

	sk->class = class < MAX_CLASS ? class : MAX_CLASS;
	return 0;
}

u64 NETSCHED_OPS(priority_enqueue, struct netsched_sock *sk,
		 struct netsched_tx *tx)
{
	u64 class = sk->class < MAX_CLASS ? sk->class : MAX_CLASS;

	return class << CLOCK_BITS | (tx->now_ns & CLOCK_MASK);
}

u64 NETSCHED_OPS(priority_select_channels, struct netsched_sock *sk,
		 u32 nr_channels)
{
	if (nr_channels < 2)
		return NETSCHED_CHANNELS_ALL;
	return sk->class == 0 ? netsched_channels(0, 0) :
				netsched_channels(1, nr_channels - 1);
}

NETSCHED_POLICY(priority,
	.sock_init = (void *)priority_sock_init,
	.enqueue = (void *)priority_enqueue,
	.select_channels = (void *)priority_select_channels,
	.timeout_ms = 10000,
	.channels_min = 2,
);
