/* SPDX-License-Identifier: GPL-2.0 */
/*
 * latency: short messages first, with aging so that long ones finish too.
 *
 * Every write() a socket makes is a message, and every frame cut from it
 * carries the message's size and the time it was queued. The rank of a
 * frame is a deadline for its message:
 *
 *	rank = queued_ns + min(msg_bytes * NS_PER_BYTE, MAX_SLACK_NS)
 *
 * and the scheduler sends the lowest rank first: earliest deadline first.
 * A 1 KiB request gets a deadline 8 us after it was written; an 8 MiB
 * transfer one 67 ms after it was written, so requests written within those
 * 67 ms go ahead of the transfer's remaining frames, which no longer wait
 * behind them once the 67 ms have passed. NS_PER_BYTE is the slack a
 * message earns per byte: 8 ns is the time a byte takes at 1 Gbit/s, so a
 * message yields to shorter ones for about as long as it would take to send
 * alone on such a link.
 *
 * Why long messages never starve: the frames of one message share its
 * deadline d, fixed when it was written (they do not get a new rank later,
 * unlike a size-only ordering, where a stream of short messages would keep
 * a long one waiting forever). A frame can only be overtaken by frames with
 * earlier deadlines, that is by messages written before d. Once the clock
 * passes d, everything written later ranks behind it, so it waits only for
 * the bounded backlog written before d: at most MAX_SLACK_NS of arrivals.
 * The cap keeps huge writes from earning minutes of slack; 1 s is well
 * inside the default 5 s timeout_ms, so the watchdog does not fire unless
 * the channels are far slower than the traffic offered to them.
 *
 * A CLOSE (frame_bytes 0, no message) ranks 0: it is one small frame.
 */
#include "netchannel.bpf.h"

char _license[] SEC("license") = "GPL";

#define NS_PER_BYTE	8ULL
#define MAX_SLACK_NS	1000000000ULL	/* 1 s */

u64 NETSCHED_OPS(latency_enqueue, struct netsched_sock *sk,
		 struct netsched_tx *tx)
{
	u64 slack = tx->msg_bytes * NS_PER_BYTE;

	if (slack > MAX_SLACK_NS)
		slack = MAX_SLACK_NS;
	return tx->msg_queued_ns + slack;
}

NETSCHED_POLICY(latency,
	.enqueue = (void *)latency_enqueue,
);
