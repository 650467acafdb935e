// SPDX-License-Identifier: GPL-2.0
/*
 * How NetChannel stream connections end, as TCP ones do: SO_ERROR after
 * the peer's abort, shutdown() of each direction, aborts and resets,
 * EPIPE and SIGPIPE, module unload refused under traffic, and a peer host
 * (network namespace) deleted under a connection. Every test here runs on
 * NC_PROTO=tcp too (that validates the test); those that only make sense
 * for NetChannel (module unload, a peer gone after its FIN) are reported
 * as skipped on tcp, never as passed.
 *
 * Hosts: namespace nc_a (10.99.0.1, clients) and nc_b (10.99.0.2,
 * servers), see nc_net.h. Byte streams are checked with a 64-bit hash of
 * a seeded pseudo-random stream, so every transfer is byte-exact.
 *
 * The stream suites (one test_stream once): sockapi (the socket API),
 * transfer (moving bytes, channels, VNS copies), flow (flow control) and
 * teardown (the ends of connections, hosts and the module).
 */
#include "nc_net.h"

/* ------------------------------------------------------------ SO_ERROR */

/* Abort @fd: SO_LINGER {1, 0} and close, which resets the connection. */
static void abort_close(int fd)
{
	struct linger lg = { 1, 0 };

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	assert_int_equal(close(fd), 0);
}

/* Wait until @fd reports POLLERR (the reset arrived). Returns revents. */
static short wait_pollerr(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	int64_t deadline = nc_now_ms() + ms;

	while (nc_now_ms() < deadline) {
		p.revents = 0;
		if (poll(&p, 1, 50) == 1 && (p.revents & POLLERR))
			return p.revents;
	}
	fail_msg("no POLLERR within %d ms of the peer's abort (revents 0x%x)", ms,
		 p.revents);
	return 0;
}

static void test_so_error(void **state)
{
	char b[16];
	int c, s;

	nc_watchdog(60);
	nc_mkpair(&c, &s);
	assert_int_equal(nc_so_error(c), 0);
	assert_int_equal(nc_so_error(s), 0);
	abort_close(c);
	wait_pollerr(s, 10000);
	/* SO_ERROR reports the pending error once and clears it */
	assert_int_equal(nc_so_error(s), ECONNRESET);
	assert_int_equal(nc_so_error(s), 0);
	assert_int_equal(recv(s, b, sizeof(b), MSG_DONTWAIT), 0);
	close(s);
}

/* ------------------------------------------------------------ shutdown */

static void test_shutdown_wr(void **state)
{
	struct nc_sender sd = { .seed = 0x60, .len = 100000 };
	struct pollfd p;
	uint64_t h = 0;
	char b[16];
	int c, s;

	nc_watchdog(60);
	nc_mkpair(&c, &s);
	nc_assert(nc_send_gen(c, sd.seed, 0, sd.len, 20000) == 0, "send");
	assert_int_equal(shutdown(c, SHUT_WR), 0);
	/* no more sending on c */
	assert_int_equal(send(c, "x", 1, MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EPIPE);
	/* s reads everything, then EOF, again and again */
	assert_int_equal(nc_recv_hash_eof(s, sd.len, 20000, &h), sd.len);
	assert_true(h == nc_gen_hash(sd.seed, sd.len));
	assert_int_equal(recv(s, b, sizeof(b), MSG_DONTWAIT), 0);
	p = (struct pollfd){ .fd = s, .events = POLLIN | POLLRDHUP };
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_true(p.revents & POLLIN);
	assert_true(p.revents & POLLRDHUP);
	assert_int_equal(p.revents & (POLLERR | POLLHUP), 0);
	/* the half-closed connection still carries s -> c */
	nc_assert(nc_send_gen(s, sd.seed + 1, 0, 50000, 20000) == 0, "send back");
	assert_int_equal(close(s), 0);
	assert_int_equal(nc_recv_hash_eof(c, 50000, 20000, &h), 50000);
	assert_true(h == nc_gen_hash(sd.seed + 1, 50000));
	close(c);
}

static void test_shutdown_rd(void **state)
{
	uint64_t h = 0;
	char b[16];
	double t;
	int c, s, u;

	nc_watchdog(60);
	u = nc_socket_in(NC_NS_A, 0);
	assert_int_equal(shutdown(u, SHUT_RDWR), -1);
	assert_int_equal(errno, ENOTCONN);
	close(u);

	nc_mkpair(&c, &s);
	assert_int_equal(shutdown(c, 7), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(shutdown(c, SHUT_RD), 0);
	/* a blocking recv on c returns EOF at once */
	nc_set_timeo(c, SO_RCVTIMEO, 5000);
	t = nc_now();
	assert_int_equal(recv(c, b, sizeof(b), 0), 0);
	t = nc_now() - t;
	if (t > 1.0)
		fail_msg("recv after SHUT_RD took %.2f s", t);
	/* c can still send */
	nc_assert(nc_send_gen(c, 0x70, 0, 1000, 10000) == 0, "send after SHUT_RD");
	assert_int_equal(shutdown(c, SHUT_WR), 0);
	assert_int_equal(nc_recv_hash_eof(s, 1000, 10000, &h), 1000);
	assert_true(h == nc_gen_hash(0x70, 1000));
	close(c);
	close(s);
}

/* -------------------------------------------------------------- errors */

struct blocked_recv {
	int fd;
	int other;	/* the child's copy of the peer: closed at once */
};

static int blocked_recv_main(void *arg, int wfd)
{
	const struct blocked_recv *br = arg;
	char b[16];
	int err;
	ssize_t n;

	close(br->other);
	nc_set_timeo(br->fd, SO_RCVTIMEO, 20000);
	n = recv(br->fd, b, sizeof(b), 0);
	err = n < 0 ? errno : 0;
	if (write(wfd, &err, sizeof(err)) != sizeof(err))
		return 1;
	return n < 0 ? 0 : 2;
}

static void test_abort_reset(void **state)
{
	struct blocked_recv br;
	uint8_t a[1000], b[1000];
	size_t got = 0;
	short rev;
	ssize_t n;
	int c, s, rfd = -1, err = 0;
	pid_t pid;

	nc_watchdog(90);
	/* the data the peer had is delivered first, then ECONNRESET */
	nc_mkpair(&c, &s);
	nc_gen(0x80, 0, a, sizeof(a));
	assert_int_equal(send(c, a, sizeof(a), 0), sizeof(a));
	nc_wait_readable_bytes(s, sizeof(a), 10000);
	abort_close(c);
	rev = wait_pollerr(s, 10000);
	assert_true(rev & POLLHUP);
	while (got < sizeof(a)) {
		n = recv(s, b + got, sizeof(b) - got, MSG_DONTWAIT);
		if (n <= 0)
			fail_msg("recv after %zu of %zu queued bytes: %zd (%s)", got,
				 sizeof(a), n, n ? strerror(errno) : "EOF");
		got += n;
	}
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(recv(s, b, sizeof(b), MSG_DONTWAIT), -1);
	assert_int_equal(errno, ECONNRESET);
	/* and the reset connection cannot send */
	assert_int_equal(send(s, "x", 1, MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EPIPE);
	close(s);

	/* a reader blocked in recv() is woken with ECONNRESET */
	nc_mkpair(&c, &s);
	br.fd = s;
	br.other = c;
	pid = nc_spawn(NULL, 60, blocked_recv_main, &br, &rfd);
	assert_true(pid > 0);
	nc_sleep_ms(300);
	abort_close(c);
	nc_assert(nc_read_full(rfd, &err, sizeof(err), 15000) == 0, "blocked reader");
	assert_int_equal(err, ECONNRESET);
	assert_int_equal(nc_child_wait(pid, 10000), 0);
	close(rfd);
	close(s);
}

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	sigpipes++;
}

/* Send @flags bytes to @fd until it fails; returns errno (0 on timeout). */
static int send_until_error(int fd, int flags, int ms)
{
	int64_t deadline = nc_now_ms() + ms;

	while (nc_now_ms() < deadline) {
		if (send(fd, "0123456789", 10, flags) < 0)
			return errno;
		nc_sleep_ms(20);
	}
	return 0;
}

static void test_sigpipe(void **state)
{
	struct sigaction sa, old;
	char b[16];
	int c, s, err;

	nc_watchdog(60);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &sa, &old);
	sigpipes = 0;

	/* peer closed: sending fails with EPIPE and raises SIGPIPE */
	nc_mkpair(&c, &s);
	close(s);
	nc_set_timeo(c, SO_RCVTIMEO, 10000);
	assert_int_equal(recv(c, b, sizeof(b), 0), 0);
	err = send_until_error(c, 0, 10000);
	if (err != EPIPE)
		fail_msg("send after the peer closed: %s, want EPIPE",
			 err ? strerror(err) : "still succeeding after 10 s");
	assert_int_equal(sigpipes, 1);
	/* with MSG_NOSIGNAL: the error, no signal */
	assert_int_equal(send(c, "x", 1, MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(sigpipes, 1);
	close(c);

	/* only MSG_NOSIGNAL from the start: never a signal */
	nc_mkpair(&c, &s);
	close(s);
	assert_int_equal(recv(c, b, sizeof(b), 0), 0);
	err = send_until_error(c, MSG_NOSIGNAL, 10000);
	if (err != EPIPE)
		fail_msg("send(MSG_NOSIGNAL) after the peer closed: %s, want EPIPE",
			 err ? strerror(err) : "still succeeding after 10 s");
	assert_int_equal(sigpipes, 1);
	close(c);
	sigaction(SIGPIPE, &old, NULL);
}

/* --------------------------------------------------- unload, netns del */

/* delete_module() is refused while a transfer runs, which completes. */
static void test_unload_under_traffic(void **state)
{
	struct nc_xspec s = { .nsock = 4, .up = 4 * NC_MIB, .down = NC_MIB,
			      .seed = 0x0a1, .keep_open = true };
	struct nc_flow_result cres[4], sres[4];
	struct nc_srv_arg sa = { .spec = &s };
	struct nc_cli_arg ca = { .spec = &s, .port = nc_next_port() };
	int64_t deadline;
	int srfd = -1, crfd = -1, ctl[2], attempts = 0, ebusy = 0, r;
	struct pollfd p;
	pid_t srv, cli;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(175);
	sa.lfd = nc_listen_in(NC_NS_B, ca.port, 16);
	nc_assert(sa.lfd >= 0, "listen");
	srv = nc_spawn(NC_NS_B, 170, nc_srv_main, &sa, &srfd);
	assert_true(srv > 0);
	close(sa.lfd);
	assert_int_equal(pipe2(ctl, O_CLOEXEC), 0);
	ca.ctl = ctl[0];
	cli = nc_spawn(NULL, 170, nc_cli_main, &ca, &crfd);
	assert_true(cli > 0);
	close(ctl[0]);

	/* the client keeps its sockets until told: attempts stop before */
	deadline = nc_now_ms() + 150000;
	for (;;) {
		p = (struct pollfd){ .fd = crfd, .events = POLLIN };
		if (poll(&p, 1, 0) == 1)
			break;
		if (nc_now_ms() > deadline)
			fail_msg("the transfer did not finish in 150 s");
		r = nc_module_unload();
		if (r == 0) {
			nc_module_load();
			fail_msg("delete_module succeeded during a transfer");
		}
		if (r != -EWOULDBLOCK && r != -EBUSY)
			fail_msg("delete_module during a transfer: %s, want EWOULDBLOCK or EBUSY",
				 strerror(-r));
		ebusy += r == -EBUSY;
		attempts++;
		nc_sleep_ms(20);
	}
	nc_assert(nc_read_full(crfd, cres, sizeof(cres), 10000) == 0, "client results");
	assert_int_equal(write(ctl[1], "x", 1), 1);
	nc_assert(nc_read_full(srfd, sres, sizeof(sres), 60000) == 0, "server results");
	assert_int_equal(nc_child_wait(cli, 20000), 0);
	assert_int_equal(nc_child_wait(srv, 20000), 0);
	printf("# %d unload attempts refused (%d EBUSY, the rest EWOULDBLOCK)\n",
	       attempts, ebusy);
	assert_true(attempts >= 3);
	nc_assert(nc_xfer_verify(&s, cres, sres) == 0, "transfer under unload attempts");
	close(ctl[1]);
	close(crfd);
	close(srfd);
}

struct sink_arg {
	int lfd;
	uint64_t limit;		/* read this much, then ... */
	bool close_after;	/* ... close (FIN), or stop reading until killed */
};

/* Child (nc_b): accept one connection, say so, read @limit bytes. */
static int sink_main(void *arg, int wfd)
{
	const struct sink_arg *a = arg;
	static uint8_t buf[65536];
	uint64_t got = 0;
	ssize_t n;
	int fd = nc_accept_timeout(a->lfd, 20000);

	if (fd < 0)
		return 1;
	close(a->lfd);
	if (write(wfd, "a", 1) != 1)
		return 2;
	while (got < a->limit) {
		n = read(fd, buf, a->limit - got < sizeof(buf) ? a->limit - got : sizeof(buf));
		if (n <= 0)
			return 3;
		got += n;
	}
	if (write(wfd, "r", 1) != 1)
		return 4;
	if (a->close_after) {
		close(fd);
		return 0;
	}
	for (;;)
		pause();
}

static int netns_teardown(void **state)
{
	nc_test_cleanup(state);
	if (nc_hosts_create())
		fprintf(stderr, "recreating the hosts: %s\n", nc_err);
	return 0;
}

/*
 * Server in nc_b reads 4 MiB and then (close_after) closes, or stops
 * reading. Returns the client socket (non-blocking) after those 4 MiB were
 * read; *pid is the server.
 */
static int sink_connection(struct sink_arg *sa, pid_t *pid)
{
	uint16_t port = nc_next_port();
	int fd, rfd = -1;
	char c;

	sa->lfd = nc_listen_in(NC_NS_B, port, 4);
	nc_assert(sa->lfd >= 0, "listen");
	*pid = nc_spawn(NC_NS_B, 110, sink_main, sa, &rfd);
	assert_true(*pid > 0);
	close(sa->lfd);	/* ours would keep nc_b alive */
	fd = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(fd >= 0, "connect");
	nc_assert(nc_read_full(rfd, &c, 1, 10000) == 0, "server accept");
	nc_set_nonblock(fd, true);
	nc_assert(nc_send_gen(fd, 0xde1, 0, sa->limit, 60000) == 0, "transfer before");
	nc_assert(nc_read_full(rfd, &c, 1, 30000) == 0, "server read %llu bytes",
		  (unsigned long long)sa->limit);
	close(rfd);
	return fd;
}

/* Send and receive on @fd until an error (at most @ms); the errno or 0. */
static int until_error(int fd, int ms, double *t, bool *eof)
{
	static uint8_t buf[65536];
	int64_t deadline = nc_now_ms() + ms;
	struct pollfd p;
	ssize_t n;

	*t = nc_now();
	*eof = false;
	while (nc_now_ms() < deadline) {
		p = (struct pollfd){ .fd = fd, .events = POLLOUT | POLLIN };
		poll(&p, 1, 100);
		n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			break;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			break;
		if (n == 0)
			*eof = true;
	}
	*t = nc_now() - *t;
	return nc_now_ms() < deadline ? errno : 0;
}

static void expect_gone(int err, double t, bool eof)
{
	printf("# after deleting the peer's namespace: %s after %.2f s%s\n",
	       err ? strerror(err) : "no error", t, eof ? " (EOF first)" : "");
	if (err != ECONNRESET && err != EPIPE && err != ETIMEDOUT)
		fail_msg("talking to a deleted host: %s after %.1f s; want ECONNRESET, EPIPE or ETIMEDOUT",
			 err ? strerror(err) : "no error", t);
}

/*
 * The peer host disappears mid-transfer: the server process is killed with
 * data unread (a busy peer), its namespace deleted; the sender gets
 * ECONNRESET, EPIPE or ETIMEDOUT, soon.
 */
static void test_peer_netns_deleted(void **state)
{
	struct sink_arg sa = { .limit = 4 * NC_MIB };
	static uint8_t buf[65536];
	int64_t deadline;
	bool eof;
	double t;
	pid_t pid;
	int fd, err;

	nc_watchdog(120);
	fd = sink_connection(&sa, &pid);
	/* the server reads no more: fill the pipe */
	deadline = nc_now_ms() + 1000;
	while (nc_now_ms() < deadline)
		if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) < 0)
			nc_sleep_ms(10);
	assert_int_equal(kill(pid, SIGKILL), 0);
	nc_child_wait(pid, 10000);
	assert_int_equal(nc_run("ip netns del " NC_NS_B), 0);
	err = until_error(fd, 30000, &t, &eof);
	expect_gone(err, t, eof);
	close(fd);
}

/*
 * NetChannel only: the peer closed cleanly (we saw EOF), then its host
 * vanished. TCP would retransmit into the void for ~15 minutes (nobody is
 * left to answer with a reset); NetChannel sees its channels to that host
 * die and must fail the socket.
 */
static void test_peer_netns_deleted_after_fin(void **state)
{
	struct sink_arg sa = { .limit = NC_MIB, .close_after = true };
	struct pollfd p;
	bool eof;
	double t;
	pid_t pid;
	int fd, err;
	char c;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	fd = sink_connection(&sa, &pid);
	assert_int_equal(nc_child_wait(pid, 10000), 0);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_int_equal(recv(fd, &c, 1, 0), 0);
	assert_int_equal(nc_run("ip netns del " NC_NS_B), 0);
	err = until_error(fd, 30000, &t, &eof);
	expect_gone(err, t, eof);
	close(fd);
}

/* ---------------------------------------------------------------- main */

#define T(f) cmocka_unit_test_teardown(f, nc_test_cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_so_error),
		T(test_shutdown_wr),
		T(test_shutdown_rd),
		T(test_abort_reset),
		T(test_sigpipe),
		T(test_unload_under_traffic),
		cmocka_unit_test_teardown(test_peer_netns_deleted, netns_teardown),
		cmocka_unit_test_teardown(test_peer_netns_deleted_after_fin, netns_teardown),
	};

	return cmocka_run_group_tests_name("teardown", tests, nc_group_setup,
					   nc_group_teardown);
}
