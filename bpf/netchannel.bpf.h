/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every NetChannel BPF policy includes: kernel types, libbpf helpers,
 * the NetScheduler interface and macros that hide struct_ops boilerplate, so
 * that a policy file shows only its policy.
 */
#ifndef __NETCHANNEL_BPF_H
#define __NETCHANNEL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "../kernel/netsched.h"

#ifndef EINVAL
#define EINVAL 22
#endif

/* Define one callback: NETSCHED_OPS(sock_init, struct netsched_sock *sk). */
#define NETSCHED_OPS(name, args...) \
	SEC("struct_ops/" #name) BPF_PROG(name, ##args)

/*
 * Declare the policy's struct_ops map. Use as
 *	NETSCHED_POLICY(prio, .sock_init = (void *)prio_sock_init, ...);
 * The map is named after the policy (`prio_ops`), and SEC(".struct_ops.link")
 * makes libbpf attach it as a bpf_link, which can be updated atomically.
 */
#define NETSCHED_POLICY(policy, ...)					\
	SEC(".struct_ops.link")						\
	struct netsched_ops policy##_ops = {				\
		.name = #policy,					\
		__VA_ARGS__						\
	}

/*
 * A per-cgroup setting: cgroup v2 id -> u32. ncload pins a policy's maps
 * under /sys/fs/bpf/netchannel/maps/ and `ncload set-class` / `set-weight`
 * fill the maps named cgrp_class / cgrp_weight.
 */
#define NETSCHED_CGROUP_MAP(name)					\
	struct {							\
		__uint(type, BPF_MAP_TYPE_HASH);			\
		__uint(max_entries, 1024);				\
		__type(key, u64);					\
		__type(value, u32);					\
	} name SEC(".maps")

/* What @map holds for @sk's cgroup, or @dflt when nothing is set. */
static __always_inline u32 netsched_cgroup_value(void *map,
						 const struct netsched_sock *sk,
						 u32 dflt)
{
	u64 cgid = sk->cgroup_id;
	u32 *v = bpf_map_lookup_elem(map, &cgid);

	return v ? *v : dflt;
}

#endif /* __NETCHANNEL_BPF_H */
