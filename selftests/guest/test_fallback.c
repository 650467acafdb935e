// SPDX-License-Identifier: GPL-2.0
/*
 * Fallback to TCP, as MPTCP falls back: a NetChannel socket whose connect
 * is refused (no NetChannel on the host, or no NetChannel listener on the
 * port) becomes a plain TCP connection inside the same file, with the
 * options set before; a NetChannel listener also accepts plain TCP
 * clients on its address and port, both kinds at once. Checked byte for
 * byte both ways, with blocking and non-blocking connects, epoll
 * registered before the switch, the counters, the sysctl that forbids it,
 * and the errors when TCP cannot connect either.
 *
 * Hosts: namespace nc_a (10.99.0.1, clients) and nc_b (10.99.0.2,
 * servers), see nc_net.h; with NC_FAMILY=6 the sockets are AF_INET6 and
 * the hosts fd99::1 and fd99::2. The suite needs the module (not
 * NC_PROTO=tcp).
 */
#define _GNU_SOURCE
#include "nc_net.h"
#include <netinet/tcp.h>
#include <poll.h>
#include <arpa/inet.h>
#include <sys/epoll.h>

#define LEN	(1 << 20)


/* A socket of protocol @proto in namespace @ns. */
static int sock_in(const char *ns, int proto, int flags)
{
	int fd;

	assert_int_equal(nc_ns_enter(ns), 0);
	fd = socket(nc_family(), SOCK_STREAM | SOCK_CLOEXEC | flags, proto);
	nc_ns_leave();
	assert_true(fd >= 0);
	return fd;
}

static int listen_in(const char *ns, int proto, uint16_t port)
{
	struct sockaddr_storage sin;
	socklen_t len = nc_sa(NULL, port, &sin);
	int fd = sock_in(ns, proto, 0), one = 1;

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				    sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, len), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static int proto_of(int fd)
{
	socklen_t len = sizeof(int);
	int p = -1;

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &p, &len), 0);
	return p;
}

static uint64_t stat_of(const char *name)
{
	uint64_t v = 0;

	assert_int_equal(nc_stat_get("nc_a", name, &v), 0);
	return v;
}

static uint64_t stat_b(const char *name)
{
	uint64_t v = 0;

	assert_int_equal(nc_stat_get("nc_b", name, &v), 0);
	return v;
}

/* @c and @s are the two ends of one connection: LEN bytes each way, exact */
static void exchange(int c, int s)
{
	nc_assert(!nc_exchange(c, s, LEN, 7), "LEN bytes each way");
}

static int connect_to(int fd, uint16_t port)
{
	struct sockaddr_storage sin;
	socklen_t len = nc_sa(NC_IP_B, port, &sin);

	return connect(fd, (struct sockaddr *)&sin, len) ? -errno : 0;
}

/*
 * No NetChannel on nc_b at all (no NetChannel listener, so no channel
 * listener): a NetChannel client reaches a plain TCP server.
 */
static void test_fallback_no_host(void **state)
{
	uint16_t port = nc_next_port();
	uint64_t n0 = stat_of("fallback_no_host");
	int l, c, s, one = 1;
	socklen_t len = sizeof(int);
	int v = 0;

	nc_watchdog(90);
	l = listen_in("nc_b", IPPROTO_TCP, port);
	c = sock_in("nc_a", IPPROTO_NETCHANNEL, 0);
	/* options set before the connect carry over */
	assert_int_equal(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one,
				    sizeof(one)), 0);
	assert_int_equal(setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one,
				    sizeof(one)), 0);
	assert_int_equal(connect_to(c, port), 0);
	s = nc_accept_timeout(l, 10000);
	assert_true(s >= 0);
	/* the file is a TCP socket now */
	assert_int_equal(proto_of(c), IPPROTO_TCP);
	assert_int_equal(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	assert_int_equal(v, 1);
	assert_int_equal(getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, &len), 0);
	assert_int_equal(v, 1);
	assert_int_equal(stat_of("fallback_no_host"), n0 + 1);
	exchange(c, s);
	close(c);
	close(s);
	close(l);
}

/*
 * nc_b runs NetChannel (a NetChannel listener on another port) but the
 * port has only a TCP listener: the OPEN is refused, the socket falls
 * back.
 */
static void test_fallback_no_listener(void **state)
{
	uint16_t port = nc_next_port();
	uint64_t n0 = stat_of("fallback_no_listener");
	int other, l, c, s;

	nc_watchdog(90);
	other = listen_in("nc_b", IPPROTO_NETCHANNEL, nc_next_port());
	l = listen_in("nc_b", IPPROTO_TCP, port);
	c = sock_in("nc_a", IPPROTO_NETCHANNEL, 0);
	assert_int_equal(connect_to(c, port), 0);
	s = nc_accept_timeout(l, 10000);
	assert_true(s >= 0);
	assert_int_equal(proto_of(c), IPPROTO_TCP);
	assert_int_equal(stat_of("fallback_no_listener"), n0 + 1);
	exchange(c, s);
	close(c);
	close(s);
	close(l);
	close(other);
}

/*
 * Non-blocking, with epoll registered before connect(): EPOLLOUT comes
 * when the TCP connection is up, SO_ERROR is 0, and epoll goes on
 * reporting the TCP socket's readiness.
 */
static void test_fallback_nonblocking_epoll(void **state)
{
	uint16_t port = nc_next_port();
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLET };
	int l, c, s, ep, err = -1;
	socklen_t len = sizeof(err);
	char b = 'x';

	nc_watchdog(90);
	l = listen_in("nc_b", IPPROTO_TCP, port);
	c = sock_in("nc_a", IPPROTO_NETCHANNEL, SOCK_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev), 0);
	assert_int_equal(connect_to(c, port), -EINPROGRESS);
	/*
	 * A second connect: EALREADY while in progress, as TCP; 0 once it
	 * is up (TCP's first answer after it completed), then EISCONN
	 */
	err = connect_to(c, port);
	if (err != -EALREADY && err != -EISCONN && err)
		fail_msg("second connect: %s", strerror(-err));
	assert_int_equal(epoll_wait(ep, &ev, 1, 20000), 1);
	assert_true(ev.events & EPOLLOUT);
	err = -1;
	assert_int_equal(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	assert_int_equal(err, 0);
	s = nc_accept_timeout(l, 10000);
	assert_true(s >= 0);
	/* readable: epoll sees data that came over TCP */
	assert_int_equal(write(s, &b, 1), 1);
	do {
		assert_int_equal(epoll_wait(ep, &ev, 1, 20000), 1);
	} while (!(ev.events & EPOLLIN));
	b = 0;
	assert_int_equal(read(c, &b, 1), 1);
	assert_int_equal(b, 'x');
	assert_int_equal(nc_set_nonblock(c, false), 0);
	exchange(c, s);
	close(ep);
	close(c);
	close(s);
	close(l);
}

/* Nobody listens on the port at all: TCP's refusal, blocking or not. */
static void test_fallback_refused(void **state)
{
	uint16_t port = nc_next_port();
	uint64_t n0 = stat_of("fallback_no_host") +
		      stat_of("fallback_no_listener");
	struct pollfd p;
	int c, err = 0;
	socklen_t len = sizeof(err);

	nc_watchdog(60);
	c = sock_in("nc_a", IPPROTO_NETCHANNEL, 0);
	assert_int_equal(connect_to(c, port), -ECONNREFUSED);
	close(c);

	c = sock_in("nc_a", IPPROTO_NETCHANNEL, SOCK_NONBLOCK);
	assert_int_equal(connect_to(c, port), -EINPROGRESS);
	p = (struct pollfd){ .fd = c, .events = POLLOUT };
	assert_int_equal(poll(&p, 1, 20000), 1);
	assert_true(p.revents & (POLLERR | POLLHUP));
	assert_int_equal(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	assert_int_equal(err, ECONNREFUSED);
	close(c);
	/* both tried TCP */
	assert_int_equal(stat_of("fallback_no_host") +
			 stat_of("fallback_no_listener"), n0 + 2);
}

/* net.netchannel.fallback = 0: a refused connect stays refused. */
static void test_fallback_sysctl_off(void **state)
{
	uint16_t port = nc_next_port();
	uint64_t n0 = stat_of("fallback_no_host");
	int l, c;

	nc_watchdog(60);
	assert_int_equal(nc_sysctl_set("nc_a", "fallback", "0"), 0);
	l = listen_in("nc_b", IPPROTO_TCP, port);
	c = sock_in("nc_a", IPPROTO_NETCHANNEL, 0);
	assert_int_equal(connect_to(c, port), -ECONNREFUSED);
	assert_int_equal(stat_of("fallback_no_host"), n0);
	close(c);
	close(l);
	assert_int_equal(nc_sysctl_set("nc_a", "fallback", "1"), 0);
}

/* A connect that is still falling back when the socket is closed. */
static void test_fallback_close_pending(void **state)
{
	uint16_t port = nc_next_port();
	int l, c, i;

	nc_watchdog(60);
	l = listen_in("nc_b", IPPROTO_TCP, port);
	for (i = 0; i < 20; i++) {
		c = sock_in("nc_a", IPPROTO_NETCHANNEL, SOCK_NONBLOCK);
		assert_int_equal(connect_to(c, port), -EINPROGRESS);
		if (i & 1)
			nc_sleep_ms(i);
		close(c);
	}
	close(l);
	/* every socket went, the half-made TCP ones with them */
	{
		const char *ns[] = { "nc_a" };
		long left = -1;

		nc_sockets_wait(ns, 1, &left, 20000);
		assert_int_equal(left, 0);
	}
}

/*
 * A NetChannel listener takes a plain TCP client and a NetChannel client
 * on the same port at the same time; poll() wakes for the TCP one.
 */
static void test_listener_takes_tcp(void **state)
{
	uint16_t port = nc_next_port();
	uint64_t n0 = stat_b("fallback_accepted");
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int l, t, n, s1, s2, st, sn;

	nc_watchdog(120);
	l = listen_in("nc_b", IPPROTO_NETCHANNEL, port);
	t = sock_in("nc_a", IPPROTO_TCP, 0);
	assert_int_equal(connect_to(t, port), 0);
	s1 = nc_accept_timeout(l, 10000);	/* poll()s first */
	assert_true(s1 >= 0);
	assert_int_equal(proto_of(s1), IPPROTO_TCP);
	assert_int_equal(stat_b("fallback_accepted"), n0 + 1);
	n = sock_in("nc_a", IPPROTO_NETCHANNEL, 0);
	assert_int_equal(connect_to(n, port), 0);
	assert_int_equal(proto_of(n), IPPROTO_NETCHANNEL);
	s2 = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	assert_true(s2 >= 0);
	assert_int_equal(proto_of(s2), IPPROTO_NETCHANNEL);
	assert_true(nc_sa_is(&peer, plen, NC_IP_A, 0));
	st = proto_of(s1) == IPPROTO_TCP ? s1 : s2;
	sn = st == s1 ? s2 : s1;
	exchange(t, st);
	exchange(n, sn);
	close(t);
	close(n);
	close(s1);
	close(s2);
	close(l);
}

/* A port the user chose that a TCP listener has: listen() says so. */
static void test_listener_port_taken(void **state)
{
	uint16_t port = nc_next_port();
	struct sockaddr_storage sin;
	socklen_t len = nc_sa(NULL, port, &sin);
	int t, l;

	nc_watchdog(30);
	t = listen_in("nc_b", IPPROTO_TCP, port);
	l = sock_in("nc_b", IPPROTO_NETCHANNEL, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, len), 0);
	assert_int_equal(listen(l, 4), -1);
	assert_int_equal(errno, EADDRINUSE);
	close(l);
	close(t);
}

/*
 * A host whose channel port is some other program's, not NetChannel's:
 * what answers there is not a HELLO. nc_a's channels go to port
 * FAKE_CHAN_PORT of a second address of nc_b (a new peer), where a plain
 * TCP program listens and, with @garbage, greets in its own protocol or,
 * without, says nothing.
 */
#define FAKE_CHAN_PORT	5099

struct fake_chan {
	const char *ip;
	bool garbage;
};

static int fake_chan_main(void *arg, int wfd)
{
	static const char bad_request[] = "HTTP/1.1 400 Bad Request\r\n"
		"Content-Length: 0\r\nConnection: close\r\n\r\n";
	const struct fake_chan *f = arg;
	struct sockaddr_storage sa;
	socklen_t len;
	char buf[256], ready = 1;
	int lfd, fd, one = 1, i;

	/* no_hello() picked the suite's family's address */
	len = nc_sa(f->ip, FAKE_CHAN_PORT, &sa);
	lfd = socket(sa.ss_family, SOCK_STREAM, IPPROTO_TCP);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, len) || listen(lfd, 16) ||
	    write(wfd, &ready, 1) != 1)
		return 1;
	/* every channel of the group, until the test ends (SIGKILL) */
	for (i = 0; i < 64; i++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			return 2;
		/* as a web server answers what it cannot parse, then closes */
		if (f->garbage) {
			if (write(fd, bad_request, strlen(bad_request)) < 0)
				return 3;
			close(fd);
			continue;
		}
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	}
	return 0;
}

static void no_hello(bool garbage)
{
	const char *ip = nc_family() == AF_INET6 ? "fd99::3" : "10.99.0.3";
	struct fake_chan f = { ip, garbage };
	uint64_t n0 = stat_of("fallback_no_host");
	struct sockaddr_storage sa;
	uint16_t port = nc_next_port();
	int l, c, s, rfd;
	socklen_t len;
	char ready;
	double t;
	pid_t fake;

	nc_watchdog(120);
	assert_int_equal(nc_run("ip -n nc_b addr add %s/%d dev " NC_DEV_B "%s", ip,
				strchr(ip, ':') ? NC_PREFIX6_LEN : NC_PREFIX_LEN,
				strchr(ip, ':') ? " nodad" : ""), 0);
	assert_int_equal(nc_sysctl_set("nc_a", "port", "5099"), 0);
	fake = nc_spawn("nc_b", 90, fake_chan_main, &f, &rfd);
	assert_true(fake > 0);
	assert_int_equal(nc_read_full(rfd, &ready, 1, 10000), 0);
	l = listen_in("nc_b", IPPROTO_TCP, port);
	c = sock_in("nc_a", IPPROTO_NETCHANNEL, 0);
	len = nc_sa(ip, port, &sa);
	t = nc_now();
	assert_int_equal(connect(c, (struct sockaddr *)&sa, len), 0);
	t = nc_now() - t;
	printf("# channel port answered %s: connected over TCP after %.2f s\n",
	       garbage ? "garbage" : "nothing", t);
	assert_int_equal(proto_of(c), IPPROTO_TCP);
	assert_int_equal(stat_of("fallback_no_host"), n0 + 1);
	/* garbage fails the group at once; silence waits NC_PROOF_TIMEOUT */
	if (garbage)
		assert_true(t < 9);
	else
		assert_true(t >= 9.5);
	s = nc_accept_timeout(l, 10000);
	assert_true(s >= 0);
	exchange(c, s);
	close(c);
	close(s);
	close(l);
	kill(fake, SIGKILL);
	nc_child_wait(fake, 10000);
	close(rfd);
}

/* The channel port answers in another protocol: the group fails at once. */
static void test_fallback_no_hello_garbage(void **state)
{
	no_hello(true);
}

/* The channel port says nothing: NC_PROOF_TIMEOUT (10 s), then TCP. */
static void test_fallback_no_hello_silent(void **state)
{
	no_hello(false);
}

static int fallback_cleanup(void **state)
{
	nc_sysctl_set("nc_a", "fallback", "1");
	nc_sysctl_set("nc_a", "port", "5050");
	nc_run("ip -n nc_b addr del 10.99.0.3/%d dev " NC_DEV_B " 2>/dev/null;"
	       " ip -n nc_b addr del fd99::3/%d dev " NC_DEV_B " 2>/dev/null; true",
	       NC_PREFIX_LEN, NC_PREFIX6_LEN);
	return nc_test_cleanup(state);
}

#define T(f) cmocka_unit_test_teardown(f, fallback_cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fallback_no_host),
		T(test_fallback_no_hello_garbage),
		T(test_fallback_no_hello_silent),
		T(test_fallback_no_listener),
		T(test_fallback_nonblocking_epoll),
		T(test_fallback_refused),
		T(test_fallback_sysctl_off),
		T(test_fallback_close_pending),
		T(test_listener_takes_tcp),
		T(test_listener_port_taken),
	};

	if (nc_proto_tcp()) {
		fprintf(stderr, "test_fallback: needs the module (NC_PROTO=tcp given)\n");
		return 1;
	}
	return cmocka_run_group_tests_name("fallback", tests, nc_group_setup,
					   nc_group_teardown);
}
