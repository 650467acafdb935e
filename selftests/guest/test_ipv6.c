// SPDX-License-Identifier: GPL-2.0
/*
 * IPv6: what only the two families together show (run-tests.sh runs the
 * socket suites themselves over IPv6 too). An AF_INET6 listener is
 * dual-stack unless IPV6_V6ONLY; an AF_INET6 socket reaches IPv4 hosts
 * through v4-mapped addresses; channels to an IPv6 host are IPv6 TCP
 * connections, and /proc shows both families; bind() and connect() give
 * the errors TCP gives, checked against TCP in the same run.
 *
 * Hosts: namespace nc_a (10.99.0.1 and fd99::1) and nc_b (10.99.0.2 and
 * fd99::2), see nc_net.h. The suite needs the module (not NC_PROTO=tcp).
 */
#define _GNU_SOURCE
#include "nc_net.h"
#include <arpa/inet.h>
#include <poll.h>

#define LEN	(512 << 10)

/* @ip:@port as a sockaddr of @family (IPv4 text v4-mapped into AF_INET6) */
static socklen_t sa_of(int family, const char *ip, uint16_t port,
		       struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	char buf[64];

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
		return sizeof(*sin);
	}
	if (!strchr(ip, ':')) {
		snprintf(buf, sizeof(buf), "::ffff:%s", ip);
		ip = buf;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return sizeof(*sin6);
}

static int sock_in(const char *ns, int family, int proto)
{
	int fd;

	assert_int_equal(nc_ns_enter(ns), 0);
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, proto);
	nc_ns_leave();
	assert_true(fd >= 0);
	return fd;
}

static void set_v6only(int fd, int on)
{
	assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
				    sizeof(on)), 0);
}

/* A NetChannel listener of @family on the wildcard:@port (@v6only: set it). */
static int listen_on(int family, uint16_t port, int v6only)
{
	struct sockaddr_storage ss;
	int fd = sock_in("nc_b", family, IPPROTO_NETCHANNEL), one = 1;
	socklen_t len = sa_of(family, family == AF_INET ? "0.0.0.0" : "::", port,
			      &ss);

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				    sizeof(one)), 0);
	if (v6only >= 0)
		set_v6only(fd, v6only);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* A NetChannel socket of @family in nc_a connected to @ip:@port: fd or -errno. */
static int connect_to(int family, const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sa_of(family, ip, port, &ss);
	int fd = sock_in("nc_a", family, IPPROTO_NETCHANNEL), e;

	nc_set_timeo(fd, SO_SNDTIMEO, 20000);
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int int_opt(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int v = -1;

	assert_int_equal(getsockopt(fd, level, opt, &v, &len), 0);
	return v;
}

/* The text of @fd's own (@peer: its peer's) address, as inet_ntop() gives it. */
static const char *name_of(int fd, bool peer, int *family)
{
	static char buf[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&ss,
							    &len), 0);
	*family = ss.ss_family;
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf,
			  sizeof(buf));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf,
			  sizeof(buf));
	return buf;
}

static void assert_name(int fd, bool peer, int family, const char *ip)
{
	int f;
	const char *got = name_of(fd, peer, &f);

	if (f != family || strcmp(got, ip))
		fail_msg("%s name %s (family %d), want %s (family %d)",
			 peer ? "peer" : "own", got, f, ip, family);
}

/* @c and @s are the two ends of one connection: LEN bytes each way, exact. */
static void exchange(int c, int s)
{
	nc_assert(!nc_exchange(c, s, LEN, 61), "LEN bytes each way");
}

static uint64_t stat_of(const char *ns, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(nc_stat_get(ns, name, &v), 0);
	return v;
}

/* Does nc_a's /proc/net/netchannel/@file have a line with @s1 and @s2? */
static bool proc_has(const char *file, const char *s1, const char *s2)
{
	char path[128], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/thread-self/net/netchannel/%s", file);
	assert_int_equal(nc_ns_enter("nc_a"), 0);
	f = fopen(path, "re");
	nc_ns_leave();
	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, s1) && (!s2 || strstr(line, s2));
	fclose(f);
	return found;
}

/*
 * An AF_INET6 listener takes an IPv4 client (v4-mapped) and an IPv6
 * client; each client's channels are of its own family; nothing falls
 * back to TCP.
 */
static void test_dual_stack_listener(void **state)
{
	uint64_t fb0 = stat_of("nc_a", "fallback_no_host") +
		       stat_of("nc_a", "fallback_no_listener");
	uint16_t port = nc_next_port();
	int l, c4, c6, s4, s6;
	char want[64];

	nc_watchdog(120);
	l = listen_on(AF_INET6, port, 0);
	assert_int_equal(int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	c4 = connect_to(AF_INET, NC_IP_B, port);
	nc_assert(c4 >= 0, "IPv4 connect to a dual-stack listener");
	s4 = nc_accept_timeout(l, 10000);
	nc_assert(s4 >= 0, "accept the IPv4 client");
	c6 = connect_to(AF_INET6, NC_IP6_B, port);
	nc_assert(c6 >= 0, "IPv6 connect");
	s6 = nc_accept_timeout(l, 10000);
	nc_assert(s6 >= 0, "accept the IPv6 client");

	/* as TCP's: the IPv4 client is v4-mapped on the AF_INET6 side */
	assert_int_equal(int_opt(s4, SOL_SOCKET, SO_DOMAIN), AF_INET6);
	assert_int_equal(int_opt(s4, SOL_SOCKET, SO_PROTOCOL), IPPROTO_NETCHANNEL);
	assert_name(s4, true, AF_INET6, "::ffff:" NC_IP_A);
	assert_name(s4, false, AF_INET6, "::ffff:" NC_IP_B);
	assert_name(c4, true, AF_INET, NC_IP_B);
	assert_name(s6, true, AF_INET6, NC_IP6_A);
	assert_name(s6, false, AF_INET6, NC_IP6_B);
	assert_name(c6, false, AF_INET6, NC_IP6_A);
	assert_name(c6, true, AF_INET6, NC_IP6_B);
	exchange(c4, s4);
	exchange(c6, s6);

	/* a channel group to each of b's addresses, each of its family */
	assert_true(proc_has("channels", NC_IP_B " ", "ready"));
	assert_true(proc_has("channels", NC_IP6_B " ", "ready"));
	snprintf(want, sizeof(want), "[%s]:%u", NC_IP6_B, port);
	/* the socket list shows the IPv6 one in brackets */
	assert_true(proc_has("sockets", want, NULL));
	assert_int_equal(stat_of("nc_a", "fallback_no_host") +
			 stat_of("nc_a", "fallback_no_listener"), fb0);
	close(c4);
	close(c6);
	close(s4);
	close(s6);
	close(l);
}

/*
 * IPV6_V6ONLY: an AF_INET6 listener with it takes no IPv4 client (and
 * neither does its TCP side, so the connect is refused), an AF_INET6
 * client with it reaches no IPv4 host; it is settable until bind() only.
 */
static void test_v6only(void **state)
{
	uint16_t port = nc_next_port();
	struct sockaddr_storage ss;
	socklen_t len;
	int l, c, s, fd;

	nc_watchdog(120);
	l = listen_on(AF_INET6, port, 1);
	assert_int_equal(int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	/* bound: as ipv6_setsockopt(), too late */
	c = 0;
	assert_int_equal(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &c, sizeof(c)),
			 -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(connect_to(AF_INET, NC_IP_B, port), -ECONNREFUSED);
	c = connect_to(AF_INET6, NC_IP6_B, port);
	nc_assert(c >= 0, "IPv6 connect to a V6ONLY listener");
	s = nc_accept_timeout(l, 10000);
	nc_assert(s >= 0, "accept");
	assert_int_equal(int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	exchange(c, s);
	close(c);
	close(s);
	close(l);

	/* a V6ONLY client cannot use a v4-mapped address, as TCP's */
	fd = sock_in("nc_a", AF_INET6, IPPROTO_NETCHANNEL);
	set_v6only(fd, 1);
	len = sa_of(AF_INET6, NC_IP_B, port, &ss);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), -1);
	assert_int_equal(errno, ENETUNREACH);
	close(fd);
	/* an AF_INET socket has no such option */
	fd = sock_in("nc_a", AF_INET, IPPROTO_NETCHANNEL);
	c = 1;
	assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &c, sizeof(c)),
			 -1);
	assert_int_equal(errno, ENOPROTOOPT);
	close(fd);
}

/* An AF_INET6 client reaches an AF_INET listener through a v4-mapped address. */
static void test_v4_mapped_client(void **state)
{
	uint16_t port = nc_next_port();
	int l, c, s;

	nc_watchdog(120);
	l = listen_on(AF_INET, port, -1);
	c = connect_to(AF_INET6, NC_IP_B, port);
	nc_assert(c >= 0, "v4-mapped connect");
	s = nc_accept_timeout(l, 10000);
	nc_assert(s >= 0, "accept");
	assert_name(c, true, AF_INET6, "::ffff:" NC_IP_B);
	assert_name(c, false, AF_INET6, "::ffff:" NC_IP_A);
	assert_name(s, true, AF_INET, NC_IP_A);
	assert_int_equal(int_opt(s, SOL_SOCKET, SO_DOMAIN), AF_INET);
	exchange(c, s);
	close(c);
	close(s);
	/* an AF_INET listener takes no IPv6 host: refused, as TCP's */
	assert_int_equal(connect_to(AF_INET6, NC_IP6_B, port), -ECONNREFUSED);
	close(l);
}

/* bind(@family socket of @proto, @ip) in nc_b: 0 or the errno */
static int bind_err(int family, int proto, int v6only, const char *ip,
		    int sa_family, socklen_t len_adj)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, r;

	fd = sock_in("nc_b", family, proto);
	if (v6only)
		set_v6only(fd, 1);
	len = sa_of(sa_family, ip, 0, &ss);
	r = bind(fd, (struct sockaddr *)&ss, len - len_adj) ? errno : 0;
	close(fd);
	return r;
}

/* connect(@family socket of @proto in nc_a, @ip:9): the errno, or 0 */
static int connect_err(int family, int proto, int v6only, const char *ip,
		       int sa_family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, r;

	fd = sock_in("nc_a", family, proto);
	if (v6only)
		set_v6only(fd, 1);
	len = sa_of(sa_family, ip, 9, &ss);
	nc_set_timeo(fd, SO_SNDTIMEO, 5000);
	r = connect(fd, (struct sockaddr *)&ss, len) ? errno : 0;
	close(fd);
	return r;
}

/* bind() and connect() refuse what TCP refuses, with TCP's errno */
static void test_address_errors(void **state)
{
	static const struct {
		int family, v6only, sa_family;
		const char *ip;
		socklen_t len_adj;
	} binds[] = {
		{ AF_INET6, 0, AF_INET6, NC_IP6_B, 0 },		/* ok */
		{ AF_INET6, 0, AF_INET6, "::ffff:" NC_IP_B, 0 },	/* ok */
		{ AF_INET6, 0, AF_INET6, "fd99::9", 0 },	/* not ours */
		{ AF_INET6, 0, AF_INET6, "::ffff:10.99.0.9", 0 },
		{ AF_INET6, 0, AF_INET6, "ff02::1", 0 },	/* multicast */
		{ AF_INET6, 0, AF_INET6, "ff0e::1", 0 },
		{ AF_INET6, 0, AF_INET6, "fe80::1", 0 },	/* no scope */
		{ AF_INET6, 1, AF_INET6, "::ffff:" NC_IP_B, 0 },
		{ AF_INET6, 0, AF_INET, NC_IP_B, 0 },		/* wrong family */
		{ AF_INET6, 0, AF_INET6, NC_IP6_B, 8 },		/* too short */
		{ AF_INET, 0, AF_INET6, NC_IP6_B, 0 },		/* wrong family */
	};
	static const struct {
		int family, v6only, sa_family;
		const char *ip;
	} connects[] = {
		{ AF_INET6, 0, AF_INET6, "ff02::1" },		/* multicast */
		{ AF_INET6, 0, AF_INET6, "ff0e::1" },
		{ AF_INET6, 0, AF_INET6, "fe80::1" },		/* no scope */
		{ AF_INET6, 1, AF_INET6, "::ffff:" NC_IP_B },	/* V6ONLY */
		{ AF_INET6, 0, AF_INET, NC_IP_B },		/* wrong family */
	};
	size_t i;
	int tcp, nc;

	nc_watchdog(60);
	for (i = 0; i < sizeof(binds) / sizeof(binds[0]); i++) {
		tcp = bind_err(binds[i].family, IPPROTO_TCP, binds[i].v6only,
			       binds[i].ip, binds[i].sa_family, binds[i].len_adj);
		nc = bind_err(binds[i].family, IPPROTO_NETCHANNEL, binds[i].v6only,
			      binds[i].ip, binds[i].sa_family, binds[i].len_adj);
		printf("# bind %s: TCP %s, NetChannel %s\n", binds[i].ip,
		       strerror(tcp), strerror(nc));
		assert_int_equal(nc, tcp);
	}
	/* the first two are allowed, the others not: the table means something */
	assert_int_equal(bind_err(AF_INET6, IPPROTO_NETCHANNEL, 0, NC_IP6_B,
				  AF_INET6, 0), 0);
	assert_int_equal(bind_err(AF_INET6, IPPROTO_NETCHANNEL, 0, "fd99::9",
				  AF_INET6, 0), EADDRNOTAVAIL);
	for (i = 0; i < sizeof(connects) / sizeof(connects[0]); i++) {
		tcp = connect_err(connects[i].family, IPPROTO_TCP, connects[i].v6only,
				  connects[i].ip, connects[i].sa_family);
		nc = connect_err(connects[i].family, IPPROTO_NETCHANNEL,
				 connects[i].v6only, connects[i].ip,
				 connects[i].sa_family);
		printf("# connect %s: TCP %s, NetChannel %s\n", connects[i].ip,
		       strerror(tcp), strerror(nc));
		assert_int_equal(nc, tcp);
		assert_int_not_equal(nc, 0);
	}
}

/*
 * The preload library converts an unmodified program's AF_INET6 socket
 * (socat to [fd99::2], a rule in brackets): the NetChannel listener gets a
 * NetChannel client, not a plain TCP one, and the bytes are exact.
 */
static void test_preload_ipv6(void **state)
{
	uint16_t port = nc_next_port();
	uint64_t h;
	int l, s;

	nc_watchdog(120);
	assert_int_equal(nc_file_gen("/tmp/nc_ipv6_src", 71, LEN), 0);
	l = listen_on(AF_INET6, port, 0);
	assert_int_equal(nc_sh_in(NULL, "nc_a", 60000,
				  "LD_PRELOAD=/nc/lib/libncpreload.so NC_PRELOAD='[%s]:%u' "
				  "socat -u OPEN:/tmp/nc_ipv6_src TCP6:[%s]:%u",
				  NC_IP6_B, port, NC_IP6_B, port), 0);
	s = nc_accept_timeout(l, 10000);
	nc_assert(s >= 0, "accept");
	assert_int_equal(int_opt(s, SOL_SOCKET, SO_PROTOCOL), IPPROTO_NETCHANNEL);
	assert_name(s, true, AF_INET6, NC_IP6_A);
	assert_int_equal(nc_recv_hash_eof(s, 2 * LEN, 30000, &h), LEN);
	assert_true(h == nc_gen_hash(71, LEN));
	close(s);
	close(l);
	unlink("/tmp/nc_ipv6_src");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_dual_stack_listener, nc_test_cleanup),
		cmocka_unit_test_teardown(test_v6only, nc_test_cleanup),
		cmocka_unit_test_teardown(test_v4_mapped_client, nc_test_cleanup),
		cmocka_unit_test_teardown(test_address_errors, nc_test_cleanup),
		cmocka_unit_test_teardown(test_preload_ipv6, nc_test_cleanup),
	};

	if (nc_proto_tcp()) {
		fprintf(stderr, "test_ipv6: compares with TCP itself; needs the module (NC_PROTO=tcp given)\n");
		return 1;
	}
	return cmocka_run_group_tests_name("ipv6", tests, nc_group_setup,
					   nc_group_teardown);
}
