/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ncload (enable.c) and its BPF program (ncenable.bpf.c) share: the
 * value of nc_enabled for an enabled cgroup. Included after vmlinux.h or
 * <linux/types.h>.
 */
#ifndef NCENABLE_H
#define NCENABLE_H

#define NC_ENABLE_MAX_RANGES	8

/*
 * The ports (ranges @lo[i]..@hi[i], host order) whose connections and
 * listeners use NetChannel for the cgroup's tasks; the others are plain
 * TCP. @nr 0: every port.
 */
struct nc_enable_rule {
	__u16 lo[NC_ENABLE_MAX_RANGES];
	__u16 hi[NC_ENABLE_MAX_RANGES];
	__u8 nr;
};

#endif
