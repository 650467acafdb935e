// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: channels_grow() vetoes a group's growth while @veto is set,
 * channels_retire() keeps its idle channels while @keep is set, and both
 * record what they were shown, for test_channels.
 */
#include "netchannel.bpf.h"

char _license[] SEC("license") = "GPL";

u32 veto;		/* set by the test */
u32 calls;
u32 last_nr, last_max, last_family;
u32 last_addr3;		/* peer_addr6[3]: an IPv4 peer's address */

u32 keep;		/* set by the test */
u32 retire_calls;
u32 retire_nr, retire_index;

s32 NETSCHED_OP(grow_channels_grow, const struct netsched_peer *peer)
{
	calls++;
	last_nr = peer->nr_channels;
	last_max = peer->max_channels;
	last_family = peer->family;
	last_addr3 = peer->peer_addr6[3];
	return veto ? -1 : 0;
}

s32 NETSCHED_OP(grow_channels_retire, const struct netsched_peer *peer,
		u32 index)
{
	retire_calls++;
	retire_nr = peer->nr_channels;
	retire_index = index;
	return keep ? -1 : 0;
}

NETSCHED_POLICY(nc_test_grow,
	.channels_grow = (void *)grow_channels_grow,
	.channels_retire = (void *)grow_channels_retire,
);
