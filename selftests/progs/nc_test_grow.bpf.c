// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: channels_grow() vetoes a group's growth while @veto is set,
 * and records what it was shown, for test_channels.
 */
#include "netchannel.bpf.h"

char _license[] SEC("license") = "GPL";

u32 veto;		/* set by the test */
u32 calls;
u32 last_nr, last_max, last_family;
u32 last_addr3;		/* peer_addr6[3]: an IPv4 peer's address */

s32 NETSCHED_OPS(grow_channels_grow, const struct netsched_peer *peer)
{
	calls++;
	last_nr = peer->nr_channels;
	last_max = peer->max_channels;
	last_family = peer->family;
	last_addr3 = peer->peer_addr6[3];
	return veto ? -1 : 0;
}

NETSCHED_POLICY(nc_test_grow,
	.channels_grow = (void *)grow_channels_grow,
);
