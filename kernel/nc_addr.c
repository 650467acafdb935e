// SPDX-License-Identifier: GPL-2.0
/*
 * Addresses, for every layer: a host is known by an IPv6 address, an IPv4
 * host by its v4-mapped one (::ffff:a.b.c.d), as a dual-stack socket sees
 * it. A virtual socket keeps its addresses where its family's TCP socket
 * does (inet_saddr/inet_daddr for AF_INET; sk_v6_rcv_saddr, np->saddr and
 * sk_v6_daddr for AF_INET6, and the IPv4 fields too when they are mapped),
 * so that inet_getname()/inet6_getname() answer for it. These helpers read
 * and write them, and turn addresses into sockaddrs and text.
 */
#include <linux/net.h>
#include <net/addrconf.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/transp_v6.h>

#include "netchannel.h"

int nc_addr_sockaddr(const struct in6_addr *a, __be16 port, int family,
		     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET || (family == AF_UNSPEC && nc_addr_v4(a))) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = a->s6_addr32[3];
		sin->sin_port = port;
		return sizeof(*sin);
	}
	{
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = *a;
		sin6->sin6_port = port;
		return sizeof(*sin6);
	}
}

__be16 nc_addr_from_sockaddr(const struct sockaddr_storage *ss,
			     struct in6_addr *a)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET6) {
		*a = sin6->sin6_addr;
		return sin6->sin6_port;
	}
	if (ss->ss_family == AF_INET) {
		ipv6_addr_set_v4mapped(sin->sin_addr.s_addr, a);
		return sin->sin_port;
	}
	*a = in6addr_any;
	return 0;
}

int nc_socket_addr(struct socket *sock, struct in6_addr *a, bool local)
{
	struct sockaddr_storage ss = {};
	int err;

	err = local ? kernel_getsockname(sock, (struct sockaddr *)&ss) :
		      kernel_getpeername(sock, (struct sockaddr *)&ss);
	if (err < 0)
		return err;
	nc_addr_from_sockaddr(&ss, a);
	return 0;
}

void nc_sk_local_addr(const struct sock *sk, struct in6_addr *a)
{
	if (sk->sk_family == AF_INET6)
		*a = inet6_sk(sk)->saddr;
	else
		ipv6_addr_set_v4mapped(inet_sk(sk)->inet_saddr, a);
}

void nc_sk_remote_addr(const struct sock *sk, struct in6_addr *a)
{
	if (sk->sk_family == AF_INET6)
		*a = sk->sk_v6_daddr;
	else
		ipv6_addr_set_v4mapped(inet_sk(sk)->inet_daddr, a);
}

/* as inet6_bind(): an IPv6 address has no IPv4 one, but "any" is any */
static __be32 nc_addr_v4_part(const struct in6_addr *a)
{
	if (nc_addr_v4(a))
		return a->s6_addr32[3];
	return ipv6_addr_any(a) ? htonl(INADDR_ANY) : LOOPBACK4_IPV6;
}

void nc_sk_set_local(struct sock *sk, const struct in6_addr *a, bool bound)
{
	struct inet_sock *inet = inet_sk(sk);
	__be32 v4 = nc_addr_v4_part(a);

	if (sk->sk_family == AF_INET6) {
		inet6_sk(sk)->saddr = *a;
		if (bound)
			sk->sk_v6_rcv_saddr = *a;
	}
	WRITE_ONCE(inet->inet_saddr, v4);
	if (bound)
		inet->inet_rcv_saddr = v4;
}

void nc_sk_set_remote(struct sock *sk, const struct in6_addr *a)
{
	if (sk->sk_family == AF_INET6)
		sk->sk_v6_daddr = *a;
	inet_sk(sk)->inet_daddr = nc_addr_v4_part(a);
}

void nc_sk_bound_addr(const struct sock *sk, struct in6_addr *a)
{
	if (sk->sk_family == AF_INET6)
		*a = sk->sk_v6_rcv_saddr;
	else
		ipv6_addr_set_v4mapped(inet_sk(sk)->inet_rcv_saddr, a);
}

bool nc_addr_routable(struct net *net, const struct in6_addr *a)
{
	struct flowi6 fl6 = { .daddr = *a };
	struct dst_entry *dst;
	struct rtable *rt;
	int err;

	if (nc_addr_v4(a)) {
		rt = ip_route_output(net, a->s6_addr32[3], 0, 0, 0,
				     RT_SCOPE_UNIVERSE);
		if (IS_ERR(rt))
			return false;
		ip_rt_put(rt);
		return true;
	}
	dst = ip6_route_output(net, NULL, &fl6);
	err = dst->error;
	dst_release(dst);
	return !err;
}

int nc_addr_host_fmt(char *buf, size_t len, const struct in6_addr *a)
{
	if (nc_addr_v4(a))
		return snprintf(buf, len, "%pI4", &a->s6_addr32[3]);
	return snprintf(buf, len, "%pI6c", a);
}

int nc_addr_fmt(char *buf, size_t len, const struct in6_addr *a, __be16 port)
{
	if (nc_addr_v4(a))
		return snprintf(buf, len, "%pI4:%u", &a->s6_addr32[3],
				ntohs(port));
	return snprintf(buf, len, "[%pI6c]:%u", a, ntohs(port));
}
