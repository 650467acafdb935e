/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ncload (enable.c) and its BPF program (ncenable.bpf.c) share: the
 * value of nc_enabled for an enabled cgroup. Included after vmlinux.h or
 * <linux/types.h>.
 */
#ifndef NCENABLE_H
#define NCENABLE_H

#define NC_ENABLE_MAX_RANGES	8
#define NC_ENABLE_MAX_NETS	8

/*
 * Which of the cgroup's tasks' connections and listeners use NetChannel;
 * the others are plain TCP.
 * @lo, @hi, @nr: the ports (ranges @lo[i]..@hi[i], host order) of both;
 *	@nr 0: every port
 * @net, @plen, @nr_nets: the peers' networks, for connect() (a listener
 *	has no peer): @net[i] in network order, IPv4 ones v4-mapped, its
 *	first @plen[i] bits (96 + the IPv4 prefix for those); @nr_nets 0:
 *	every address
 */
struct nc_enable_rule {
	__u16 lo[NC_ENABLE_MAX_RANGES];
	__u16 hi[NC_ENABLE_MAX_RANGES];
	__u32 net[NC_ENABLE_MAX_NETS][4];
	__u8 plen[NC_ENABLE_MAX_NETS];
	__u8 nr;
	__u8 nr_nets;
};

#endif
