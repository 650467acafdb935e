/* SPDX-License-Identifier: GPL-2.0 */
/*
 * latency: short messages first, with aging so that long ones finish too.
 *
 * Every write() a socket makes is a message, and every frame cut from it
 * carries the message's size. Each time a socket's next frame is ranked
 * (when it becomes sendable, and again after each frame it sent), the
 * frame gets a deadline:
 *
 *	rank = now + min(msg_bytes * NS_PER_BYTE, MAX_SLACK_NS)
 *
 * and the scheduler sends the lowest rank first: earliest deadline first.
 * A 1 KiB request gets a deadline 8 us away; a frame of an 8 MiB transfer
 * one 67 ms away, so requests written within the next 67 ms go ahead of
 * it. NS_PER_BYTE is the slack a message earns per byte: 8 ns is the time
 * a byte takes at 1 Gbit/s, so a message yields to shorter ones for about
 * as long as it would take to send alone on such a link.
 *
 * Why the deadline is taken from the time of ranking, not from the time
 * of the write(): a deadline fixed at the write would pass while a long
 * transfer is still sending on a slow link, and from then on every request
 * written later would wait behind all of its remaining frames.
 *
 * Why long messages never starve: a ranked frame keeps its deadline d
 * until it is sent, so it can only be overtaken by frames with earlier
 * deadlines, that is by frames ranked before d. Once the clock passes d,
 * everything ranked later goes behind it, so it waits at most for the
 * backlog ranked in MAX_SLACK_NS. The cap keeps huge writes from earning
 * minutes of slack; 1 s is well inside the default 5 s timeout_ms, so the
 * watchdog does not fire unless the channels are far slower than the
 * traffic offered to them.
 *
 * A CLOSE (frame_bytes 0, no message) ranks now: it is one small frame.
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
	return tx->now_ns + slack;
}

NETSCHED_POLICY(latency,
	.enqueue = (void *)latency_enqueue,
);
