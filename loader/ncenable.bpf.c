// SPDX-License-Identifier: GPL-2.0
/*
 * ncenable: the stream sockets that tasks of the enabled cgroups create
 * become NetChannel sockets, without LD_PRELOAD (`ncload enable CGROUP`).
 *
 * update_socket_protocol() is the hook socket(2) calls on (family, type,
 * protocol) before it creates the socket; an fmod_ret program may return
 * another protocol (MPTCP registers the hook for fmod_ret, so this needs a
 * kernel with CONFIG_MPTCP, as Debian's kernels are). A task is in an
 * enabled cgroup when the cgroup or one of its ancestors is in
 * nc_enabled. AF_INET and AF_INET6 both: NetChannel has sockets of both
 * families, and an AF_INET6 one reaches IPv4 hosts v4-mapped, as TCP's.
 *
 * Rules (ncload enable --ports, --addrs): NetChannel offers its own
 * fmod_ret hook, nc_bpf_select_tcp(), asked at connect() and listen(); for
 * a task whose nearest enabled cgroup has a rule, a port not listed, or a
 * peer outside the networks listed, is plain TCP.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ncenable.h"

#define AF_INET		2
#define AF_INET6	10
#define SOCK_TYPE_MASK	0xf	/* the type without SOCK_NONBLOCK/CLOEXEC */
#define NC_MAX_LEVEL	32	/* the cgroup depths looked at */

/* IPPROTO_NETCHANNEL, set by ncload from the module's uapi header */
const volatile int nc_protocol;

/* cgroup v2 id -> its ports: the cgroups enabled, and their descendants */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct nc_enable_rule);
} nc_enabled SEC(".maps");

/* The rule of the current task's nearest enabled cgroup, or NULL. */
static const struct nc_enable_rule *task_rule(void)
{
	const struct nc_enable_rule *rule = NULL, *r;
	int level;

	for (level = 0; level < NC_MAX_LEVEL; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);

		if (!id)	/* deeper than the task's own cgroup */
			break;
		r = bpf_map_lookup_elem(&nc_enabled, &id);
		if (r)
			rule = r;
	}
	return rule;
}

SEC("fmod_ret/update_socket_protocol")
int BPF_PROG(nc_enable, int family, int type, int protocol)
{
	if ((family != AF_INET && family != AF_INET6) ||
	    (type & SOCK_TYPE_MASK) != 1 /* STREAM */ ||
	    (protocol && protocol != 6 /* IPPROTO_TCP */))
		return protocol;
	return task_rule() ? nc_protocol : protocol;
}

static bool port_listed(const struct nc_enable_rule *rule, int port)
{
	int i;

	if (!rule->nr)
		return true;
	for (i = 0; i < NC_ENABLE_MAX_RANGES && i < rule->nr; i++)
		if (port >= rule->lo[i] && port <= rule->hi[i])
			return true;
	return false;
}

/* Are the first @plen bits of @a (network order words) those of @net? */
static bool in_net(const __u32 a[4], const __u32 net[4], int plen)
{
	int w;

	for (w = 0; w < 4; w++) {
		int bits = plen - 32 * w;
		__u32 mask;

		if (bits <= 0)
			break;
		mask = bits >= 32 ? ~0U : ~0U << (32 - bits);
		if ((bpf_ntohl(a[w]) ^ bpf_ntohl(net[w])) & mask)
			return false;
	}
	return true;
}

static bool addr_listed(const struct nc_enable_rule *rule,
			const struct in6_addr *addr)
{
	__u32 a[4];
	int i;

	if (!rule->nr_nets)
		return true;
	for (i = 0; i < 4; i++)
		a[i] = addr->in6_u.u6_addr32[i];
	for (i = 0; i < NC_ENABLE_MAX_NETS && i < rule->nr_nets; i++)
		if (in_net(a, rule->net[i], rule->plen[i]))
			return true;
	return false;
}

SEC("fmod_ret/nc_bpf_select_tcp")
int BPF_PROG(nc_rule, struct sock *sk, const struct in6_addr *addr, int port,
	     int listen, int ret)
{
	const struct nc_enable_rule *rule = task_rule();

	if (!rule)
		return ret;
	/* a port not listed, or (connect) a peer not listed: plain TCP */
	if (!port_listed(rule, port) || (!listen && !addr_listed(rule, addr)))
		return 1;
	return ret;
}

char LICENSE[] SEC("license") = "GPL";
