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
#include <bpf/bpf_endian.h>	/* bpf_ntohs() for sk->peer_port and friends */

#include "../kernel/netsched.h"

#ifndef EINVAL
#define EINVAL 22
#endif

/*
 * Define one callback: NETSCHED_OP(prio_sock_init, struct netsched_sock *sk).
 * NETSCHED_OPS is the older name of the same macro.
 */
#define NETSCHED_OP(name, args...) \
	SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define NETSCHED_OPS(name, args...) NETSCHED_OP(name, ##args)

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
 * A per-cgroup setting: cgroup v2 id -> u32, whose values the policy
 * accepts from @lo to @hi. ncload pins a policy's maps under
 * /sys/fs/bpf/netchannel/maps/, and `ncload set NAME CGROUP VALUE` fills
 * one, refusing values out of the range, which it reads from the BTF decl
 * tag put here on the map (set-class and set-weight are `set cgrp_class`
 * and `set cgrp_weight`). Adding a setting never means editing ncload.
 */
#define NETSCHED_CGROUP_MAP(name, lo, hi)				\
	struct {							\
		__uint(type, BPF_MAP_TYPE_HASH);			\
		__uint(max_entries, 1024);				\
		__type(key, u64);					\
		__type(value, u32);					\
	} name SEC(".maps")						\
	__attribute__((btf_decl_tag("netsched_range:" #lo ":" #hi)))

/* What @map holds for @sk's cgroup, or @dflt when nothing is set. */
static __always_inline u32 netsched_cgroup_value(void *map,
						 const struct netsched_sock *sk,
						 u32 dflt)
{
	u64 cgid = sk->cgroup_id;
	u32 *v = bpf_map_lookup_elem(map, &cgid);

	return v ? *v : dflt;
}

/* The set of channels numbered @first to @last (inclusive), for select_channels(). */
static __always_inline u64 netsched_channels(u32 first, u32 last)
{
	u64 hi = last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;

	return first > 63 ? 0 : hi & ~((1ULL << first) - 1);
}

/* The rank "class first, then time": @class in the top 8 bits. */
static __always_inline u64 netsched_rank_class_time(u32 class, u64 now_ns)
{
	u64 c = class < 255 ? class : 255;

	return c << 56 | (now_ns & ((1ULL << 56) - 1));
}

/* @sk's ports, in host order */
static __always_inline u16 netsched_peer_port(const struct netsched_sock *sk)
{
	return bpf_ntohs(sk->peer_port);
}

static __always_inline u16 netsched_local_port(const struct netsched_sock *sk)
{
	return bpf_ntohs(sk->local_port);
}

/*
 * Is @sk's peer an IPv4 host, whatever the socket's family (an AF_INET6
 * socket may reach one v4-mapped)? Its address is then also peer_addr.
 */
static __always_inline bool netsched_peer_is_v4(const struct netsched_sock *sk)
{
	return !sk->peer_addr6[0] && !sk->peer_addr6[1] &&
	       sk->peer_addr6[2] == bpf_htonl(0xffff);
}

#endif /* __NETCHANNEL_BPF_H */
