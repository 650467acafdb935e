// SPDX-License-Identifier: GPL-2.0
/*
 * NetChannel stream sockets must behave like TCP ones. Every test here runs
 * on NC_PROTO=tcp too (that validates the test); the few that only make
 * sense for NetChannel (channel pool, module unload) are reported as
 * skipped on tcp, never as passed.
 *
 * Hosts: namespace nc_a (10.99.0.1, clients) and nc_b (10.99.0.2,
 * servers), see nc_net.h. Byte streams are checked with a 64-bit hash of
 * a seeded pseudo-random stream, so every transfer is byte-exact.
 */
#include "nc_net.h"
#include <sys/epoll.h>

/* A connected pair: *c (nc_a) connected to *s (accepted in nc_b). */
static void mkpair(int *c, int *s)
{
	uint16_t port = nc_next_port();
	int l = nc_listen_in(NC_NS_B, port, 8);

	nc_assert(l >= 0, "listen in %s", NC_NS_B);
	/* accept() comes after connect() returned: like TCP, the connection
	 * must be established from the listen backlog */
	*c = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(*c >= 0, "blocking connect() before the server calls accept()");
	*s = nc_accept_timeout(l, 10000);
	nc_assert(*s >= 0, "accept");
	close(l);
}

static int so_error(int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	return err;
}

/* Wait until @fd has @n bytes queued (MSG_PEEK), at most @ms. */
static void wait_readable_bytes(int fd, size_t n, int ms)
{
	static uint8_t buf[1 << 20];
	int64_t deadline = nc_now_ms() + ms;
	ssize_t r = 0;

	assert_true(n <= sizeof(buf));
	while (nc_now_ms() < deadline) {
		r = recv(fd, buf, n, MSG_PEEK | MSG_DONTWAIT);
		if (r == (ssize_t)n)
			return;
		nc_sleep_ms(5);
	}
	fail_msg("only %zd of %zu bytes arrived within %d ms", r, n, ms);
}

/* ------------------------------------------------------------ transfers */

static const uint64_t size_1 = 1, size_1000 = 1000, size_64k7 = 65536 + 7,
	size_1m = NC_MIB, size_16m = 16 * NC_MIB, size_64m = 64 * NC_MIB;

/* One socket, @size bytes a->b (and b->a too up to 16 MiB), exact bytes. */
static void test_xfer_size(void **state)
{
	uint64_t size = *(const uint64_t *)*state;
	struct nc_xspec s = {
		.nsock = 1, .up = size, .down = size <= 16 * NC_MIB ? size : 0,
		.seed = 0x51e0000 + size, .raw = true,
	};
	double secs;

	nc_watchdog(nc_xspec_timeout(&s) / 1000 + 60);
	nc_assert(nc_xfer(&s, &secs) == 0, "transfer of %llu bytes up, %llu down",
		  (unsigned long long)s.up, (unsigned long long)s.down);
	printf("# %llu bytes up, %llu down: %.2f s\n", (unsigned long long)s.up,
	       (unsigned long long)s.down, secs);
}

struct conc {
	int nsock;
	uint64_t bytes;
};

static const struct conc conc_1 = { 1, NC_MIB }, conc_16 = { 16, NC_MIB },
	conc_256 = { 256, 4096 };

/* @nsock concurrent sockets, @bytes each way on each, all hashed. */
static void test_concurrent(void **state)
{
	const struct conc *c = *state;
	struct nc_xspec s = {
		.nsock = c->nsock, .up = c->bytes, .down = c->bytes,
		.seed = 0xc0c0 + c->nsock,
	};
	double secs;

	nc_watchdog(nc_xspec_timeout(&s) / 1000 + 60);
	nc_assert(nc_xfer(&s, &secs) == 0, "%d sockets x %llu bytes both ways",
		  c->nsock, (unsigned long long)c->bytes);
	printf("# %d sockets x %llu bytes each way: %.2f s\n", c->nsock,
	       (unsigned long long)c->bytes, secs);
}

/* ------------------------------------------------------- channel pool */

static const char *const stat_errs[] = {
	"err_bad_magic", "err_bad_version", "err_bad_type", "err_bad_len",
	"err_bad_id", "err_unknown_socket", "err_seq_window", "err_open_flood",
};

static uint64_t ncstat(const char *ns, const char *key)
{
	uint64_t v = 0;

	nc_assert(nc_stat_get(ns, key, &v) == 0, "reading stats");
	return v;
}

static const int chan_1 = 1, chan_2 = 2, chan_4 = 4;

/*
 * channels = k in the client host before its first connect to a fresh
 * peer: exactly k channels open (a) and are accepted (b); a second
 * transfer reuses them; nothing counts as an error.
 */
static void test_channels(void **state)
{
	int k = *(const int *)*state, i;
	struct nc_xspec s = { .nsock = 16, .up = 256 * 1024, .down = 64 * 1024,
			      .seed = 0xc4a0 + k };
	uint64_t up = s.up * s.nsock, down = s.down * s.nsock;
	char val[16];
	long got;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(240);
	nc_assert(nc_hosts_create() == 0, "fresh hosts");
	snprintf(val, sizeof(val), "%d", k);
	nc_assert(nc_sysctl_set(NC_NS_A, "channels", val) == 0, "set channels");
	nc_assert(nc_sysctl_get(NC_NS_A, "channels", &got) == 0, "get channels");
	assert_int_equal(got, k);
	assert_int_equal(ncstat(NC_NS_A, "channels_open"), 0);
	assert_int_equal(ncstat(NC_NS_B, "channels_accepted"), 0);

	nc_assert(nc_xfer(&s, NULL) == 0, "transfer with %d channels", k);
	printf("# a: %s\n", nc_stats_line(NC_NS_A));
	printf("# b: %s\n", nc_stats_line(NC_NS_B));
	/* one pool per pair of hosts, opened by the side that connected */
	assert_int_equal(ncstat(NC_NS_A, "channels_open"), k);
	assert_int_equal(ncstat(NC_NS_B, "channels_accepted"), k);
	assert_int_equal(ncstat(NC_NS_B, "channels_open"), 0);
	assert_int_equal(ncstat(NC_NS_A, "channels_accepted"), 0);
	assert_int_equal(ncstat(NC_NS_A, "channels_reset"), 0);
	assert_int_equal(ncstat(NC_NS_B, "channels_reset"), 0);
	assert_true(ncstat(NC_NS_A, "frames_tx") > 0);
	assert_true(ncstat(NC_NS_B, "frames_rx") > 0);
	assert_true(ncstat(NC_NS_A, "bytes_tx") >= up);
	assert_true(ncstat(NC_NS_B, "bytes_rx") >= up);
	assert_true(ncstat(NC_NS_B, "bytes_tx") >= down);
	assert_true(ncstat(NC_NS_A, "bytes_rx") >= down);

	/* the pool is made once per peer */
	s.seed++;
	nc_assert(nc_xfer(&s, NULL) == 0, "second transfer with %d channels", k);
	assert_int_equal(ncstat(NC_NS_A, "channels_open"), k);
	assert_int_equal(ncstat(NC_NS_B, "channels_accepted"), k);
	for (i = 0; i < (int)(sizeof(stat_errs) / sizeof(stat_errs[0])); i++) {
		if (ncstat(NC_NS_A, stat_errs[i]) || ncstat(NC_NS_B, stat_errs[i])) {
			printf("# a: %s\n", nc_stats_line(NC_NS_A));
			printf("# b: %s\n", nc_stats_line(NC_NS_B));
			fail_msg("%s is not 0 after normal transfers", stat_errs[i]);
		}
	}
}

/*
 * VNS copy workers: with the copy threshold lowered below the transfer's
 * 64 KiB writes and reads, the copies go through the workers on both
 * sides, and every byte still arrives exactly.
 */
static void test_vns_copies(void **state)
{
	struct nc_xspec s = { .nsock = 4, .up = 4 * NC_MIB, .down = NC_MIB,
			      .seed = 0x7e5 };
	static const char *const hosts[] = { NC_NS_A, NC_NS_B };
	int i;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(240);
	nc_assert(nc_hosts_create() == 0, "fresh hosts");
	for (i = 0; i < 2; i++) {
		nc_assert(nc_sysctl_set(hosts[i], "vns_workers", "2") == 0,
			  "set vns_workers");
		nc_assert(nc_sysctl_set(hosts[i], "copy_threshold", "16384") == 0,
			  "set copy_threshold");
	}
	nc_assert(nc_xfer(&s, NULL) == 0, "transfer through the VNS workers");
	printf("# vns copies: a %llu jobs, %llu bytes; b %llu jobs, %llu bytes\n",
	       (unsigned long long)ncstat(NC_NS_A, "vns_jobs"),
	       (unsigned long long)ncstat(NC_NS_A, "vns_bytes"),
	       (unsigned long long)ncstat(NC_NS_B, "vns_jobs"),
	       (unsigned long long)ncstat(NC_NS_B, "vns_bytes"));
	/*
	 * a sends 16 MiB in non-blocking writes of up to 64 KiB: those that
	 * got at least 16 KiB in went through the workers (measured: 15 of
	 * 16 MiB). b sends 4 MiB, and reads a's 16 MiB with them too, so its
	 * workers copied more than it sent.
	 */
	assert_true(ncstat(NC_NS_A, "vns_bytes") >= s.up * s.nsock / 2);
	assert_true(ncstat(NC_NS_B, "vns_bytes") > s.down * s.nsock);
	/* 1 worker: copies are inline again */
	nc_assert(nc_sysctl_set(NC_NS_A, "vns_workers", "1") == 0, "vns_workers 1");
	s.seed++;
	s.down = 0;
	i = (int)ncstat(NC_NS_A, "vns_jobs");
	nc_assert(nc_xfer(&s, NULL) == 0, "transfer with inline copies");
	assert_int_equal(ncstat(NC_NS_A, "vns_jobs"), i);
}

/* The sysctls exist per namespace and channels is limited to 1..64. */
static void test_sysctls(void **state)
{
	long v, orig;
	char b[16];

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(60);
	nc_assert(nc_sysctl_get(NC_NS_B, "port", &v) == 0, "port");
	assert_int_equal(v, 5050);
	nc_assert(nc_sysctl_get(NC_NS_B, "frame_size", &v) == 0, "frame_size");
	assert_true(v > 0 && v <= 65536);
	nc_assert(nc_sysctl_get(NC_NS_B, "channels", &orig) == 0, "channels");
	assert_true(orig >= 1 && orig <= 64);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels", "0"), -EINVAL);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels", "65"), -EINVAL);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels", "64"), 0);
	nc_assert(nc_sysctl_get(NC_NS_B, "channels", &v) == 0, "channels");
	assert_int_equal(v, 64);
	/* per namespace: a is untouched */
	nc_assert(nc_sysctl_get(NC_NS_A, "channels", &v) == 0, "channels in a");
	assert_int_equal(v, orig);
	snprintf(b, sizeof(b), "%ld", orig);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels", b), 0);
}

/* ------------------------------------------------------------ socket API */

static void test_sendmsg_recvmsg_iov(void **state)
{
	static const size_t parts[] = { 1, 100, 4096, 7, 65536, 3000 };
	enum { N = sizeof(parts) / sizeof(parts[0]) };
	struct iovec iov[N], riov[3];
	struct msghdr m;
	size_t total = 0, off = 0, got = 0;
	uint8_t *src, *dst;
	ssize_t n;
	int c, s, i;

	nc_watchdog(60);
	mkpair(&c, &s);
	for (i = 0; i < N; i++)
		total += parts[i];
	src = malloc(total);
	dst = malloc(total);
	assert_non_null(src);
	assert_non_null(dst);
	nc_gen(0x10, 0, src, total);
	for (i = 0; i < N; i++) {
		iov[i].iov_base = src + off;
		iov[i].iov_len = parts[i];
		off += parts[i];
	}
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = N;
	nc_set_timeo(c, SO_SNDTIMEO, 20000);
	n = sendmsg(c, &m, MSG_NOSIGNAL);
	assert_int_equal(n, total);	/* blocking: all of it */

	nc_set_timeo(s, SO_RCVTIMEO, 20000);
	while (got < total) {
		size_t left = total - got;

		riov[0].iov_base = dst + got;
		riov[0].iov_len = left < 3 ? left : 3;
		riov[1].iov_base = dst + got + riov[0].iov_len;
		riov[1].iov_len = left - riov[0].iov_len < 17 ? left - riov[0].iov_len : 17;
		riov[2].iov_base = dst + got + riov[0].iov_len + riov[1].iov_len;
		riov[2].iov_len = left - riov[0].iov_len - riov[1].iov_len;
		memset(&m, 0, sizeof(m));
		m.msg_iov = riov;
		m.msg_iovlen = 3;
		n = recvmsg(s, &m, 0);
		if (n <= 0)
			fail_msg("recvmsg after %zu of %zu bytes: %zd (%s)", got, total, n,
				 n < 0 ? strerror(errno) : "EOF");
		assert_int_equal(m.msg_flags & (MSG_TRUNC | MSG_CTRUNC | MSG_OOB), 0);
		got += n;
	}
	assert_memory_equal(dst, src, total);

	/* and back, b -> a, with one sendmsg of many small iovecs */
	nc_gen(0x11, 0, src, 64 * 100);
	for (i = 0; i < N; i++) {
		iov[i].iov_base = src + i * 1000;
		iov[i].iov_len = 1000;
	}
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = N;
	assert_int_equal(sendmsg(s, &m, MSG_NOSIGNAL), N * 1000);
	assert_int_equal(nc_recv_all(c, dst, N * 1000, 20000), N * 1000);
	assert_memory_equal(dst, src, N * 1000);
	free(src);
	free(dst);
	close(c);
	close(s);
}

static void test_read_write(void **state)
{
	uint8_t a[3000], b[3000];
	struct iovec iov[3];
	size_t got = 0;
	ssize_t n;
	int c, s;

	nc_watchdog(60);
	mkpair(&c, &s);
	nc_set_timeo(s, SO_RCVTIMEO, 10000);
	nc_set_timeo(c, SO_RCVTIMEO, 10000);
	nc_gen(0x20, 0, a, sizeof(a));
	assert_int_equal(write(c, a, 1000), 1000);
	while (got < 1000) {
		n = read(s, b + got, 1000 - got);
		if (n <= 0)
			fail_msg("read: %zd (%s)", n, n ? strerror(errno) : "EOF");
		got += n;
	}
	assert_memory_equal(a, b, 1000);

	iov[0] = (struct iovec){ a, 10 };
	iov[1] = (struct iovec){ a + 10, 2000 };
	iov[2] = (struct iovec){ a + 2010, 990 };
	assert_int_equal(writev(s, iov, 3), 3000);
	memset(b, 0, sizeof(b));
	for (got = 0; got < 3000; got += n) {
		iov[0] = (struct iovec){ b + got, (3000 - got) / 2 };
		iov[1] = (struct iovec){ b + got + (3000 - got) / 2, 3000 - got - (3000 - got) / 2 };
		n = readv(c, iov, 2);
		if (n <= 0)
			fail_msg("readv: %zd (%s)", n, n ? strerror(errno) : "EOF");
	}
	assert_memory_equal(a, b, 3000);
	close(c);
	close(s);
}

static void test_msg_peek(void **state)
{
	uint8_t a[100], b[100];
	int c, s;

	nc_watchdog(60);
	mkpair(&c, &s);
	nc_gen(0x30, 0, a, sizeof(a));
	assert_int_equal(send(c, a, 100, 0), 100);
	wait_readable_bytes(s, 100, 10000);
	/* peeking twice sees the same bytes: they stay queued */
	memset(b, 0, sizeof(b));
	assert_int_equal(recv(s, b, 50, MSG_PEEK), 50);
	assert_memory_equal(a, b, 50);
	memset(b, 0, sizeof(b));
	assert_int_equal(recv(s, b, 100, MSG_PEEK), 100);
	assert_memory_equal(a, b, 100);
	/* a real read consumes from the start */
	memset(b, 0, sizeof(b));
	assert_int_equal(recv(s, b, 30, 0), 30);
	assert_memory_equal(a, b, 30);
	memset(b, 0, sizeof(b));
	assert_int_equal(recv(s, b, 100, MSG_PEEK | MSG_DONTWAIT), 70);
	assert_memory_equal(a + 30, b, 70);
	assert_int_equal(recv(s, b, 100, MSG_DONTWAIT), 70);
	assert_memory_equal(a + 30, b, 70);
	assert_int_equal(recv(s, b, 100, MSG_PEEK | MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	close(c);
	close(s);
}

struct dribble {
	int fd;
	uint64_t seed;
	int chunks;
	size_t chunk;
	int gap_ms;
};

/* Child: send @chunks pieces of the stream with pauses between them. */
static int dribble_main(void *arg, int wfd)
{
	const struct dribble *d = arg;
	int i;

	for (i = 0; i < d->chunks; i++) {
		if (nc_send_gen(d->fd, d->seed, (uint64_t)i * d->chunk, d->chunk, 20000)) {
			fprintf(stderr, "[dribble] %s\n", nc_err);
			return 1;
		}
		nc_sleep_ms(d->gap_ms);
	}
	return 0;
}

static void test_msg_waitall(void **state)
{
	struct dribble d = { .seed = 0x40, .chunks = 10, .chunk = 10000, .gap_ms = 30 };
	static uint8_t a[100000], b[100000];
	pid_t pid;
	int c, s;

	nc_watchdog(60);
	mkpair(&c, &s);
	d.fd = c;
	nc_gen(d.seed, 0, a, sizeof(a));
	pid = nc_spawn(NULL, 60, dribble_main, &d, NULL);
	assert_true(pid > 0);
	nc_set_timeo(s, SO_RCVTIMEO, 20000);
	/* one call returns all of it although it arrives in pieces */
	assert_int_equal(recv(s, b, sizeof(b), MSG_WAITALL), sizeof(b));
	assert_memory_equal(a, b, sizeof(b));
	assert_int_equal(nc_child_wait(pid, 20000), 0);

	/* EOF ends MSG_WAITALL early with what there is */
	assert_int_equal(send(c, a, 10, 0), 10);
	assert_int_equal(shutdown(c, SHUT_WR), 0);
	assert_int_equal(recv(s, b, 100, MSG_WAITALL), 10);
	assert_memory_equal(a, b, 10);
	assert_int_equal(recv(s, b, 100, MSG_WAITALL), 0);
	close(c);
	close(s);
}

static void test_msg_dontwait(void **state)
{
	static uint8_t buf[65536];
	uint64_t total = 0;
	ssize_t n;
	int c, s;

	nc_watchdog(120);
	mkpair(&c, &s);
	/* blocking sockets, but MSG_DONTWAIT never waits */
	assert_int_equal(recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(send(c, "0123456789", 10, MSG_DONTWAIT), 10);
	wait_readable_bytes(s, 10, 10000);
	assert_int_equal(recv(s, buf, sizeof(buf), MSG_DONTWAIT), 10);
	assert_int_equal(recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	/* nobody reads s: sending with MSG_DONTWAIT ends in EAGAIN */
	for (;;) {
		n = send(c, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			break;
		total += n;
		if (total > 64 * NC_MIB)
			fail_msg("sent %llu bytes to a peer that does not read, no EAGAIN",
				 (unsigned long long)total);
	}
	assert_int_equal(errno, EAGAIN);
	printf("# EAGAIN after %llu bytes\n", (unsigned long long)total);
	close(c);
	close(s);
}

static void assert_sin(const struct sockaddr_in *sin, socklen_t len,
		       const char *ip, uint16_t port)
{
	char buf[INET_ADDRSTRLEN];

	assert_int_equal(len, sizeof(*sin));
	assert_int_equal(sin->sin_family, AF_INET);
	inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
	assert_string_equal(buf, ip);
	if (port)
		assert_int_equal(ntohs(sin->sin_port), port);
	else
		assert_int_not_equal(ntohs(sin->sin_port), 0);
}

static void test_names(void **state)
{
	struct sockaddr_in sin, acc;
	socklen_t len, alen = sizeof(acc);
	uint16_t port = nc_next_port(), cport;
	int l, c, s, u;

	nc_watchdog(60);
	u = nc_socket_in(NC_NS_A, 0);
	assert_true(u >= 0);
	len = sizeof(sin);
	assert_int_equal(getpeername(u, (struct sockaddr *)&sin, &len), -1);
	assert_int_equal(errno, ENOTCONN);
	close(u);

	l = nc_listen_in(NC_NS_B, port, 4);
	nc_assert(l >= 0, "listen");
	len = sizeof(sin);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	assert_sin(&sin, len, "0.0.0.0", port);
	c = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(c >= 0, "connect");
	{
		struct pollfd p = { .fd = l, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 10000), 1);
	}
	s = accept(l, (struct sockaddr *)&acc, &alen);
	assert_true(s >= 0);

	len = sizeof(sin);
	assert_int_equal(getsockname(c, (struct sockaddr *)&sin, &len), 0);
	assert_sin(&sin, len, NC_IP_A, 0);
	cport = ntohs(sin.sin_port);
	len = sizeof(sin);
	assert_int_equal(getpeername(c, (struct sockaddr *)&sin, &len), 0);
	assert_sin(&sin, len, NC_IP_B, port);
	len = sizeof(sin);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	assert_sin(&sin, len, NC_IP_B, port);
	len = sizeof(sin);
	assert_int_equal(getpeername(s, (struct sockaddr *)&sin, &len), 0);
	assert_sin(&sin, len, NC_IP_A, cport);
	/* accept()'s address is the peer's */
	assert_sin(&acc, alen, NC_IP_A, cport);
	close(c);
	close(s);
	close(l);
}

static void test_so_rcvtimeo(void **state)
{
	struct timeval tv = { 0, 300000 }, got;
	socklen_t len = sizeof(got);
	char b[16];
	double t;
	int c, s;

	nc_watchdog(60);
	mkpair(&c, &s);
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
	assert_int_equal(got.tv_sec, 0);
	assert_in_range(got.tv_usec, 290000, 310000);
	t = nc_now();
	assert_int_equal(recv(s, b, sizeof(b), 0), -1);
	t = nc_now() - t;
	assert_int_equal(errno, EAGAIN);
	printf("# recv timed out after %.3f s (SO_RCVTIMEO 0.3 s)\n", t);
	if (t < 0.25 || t > 3.0)
		fail_msg("recv returned EAGAIN after %.3f s, SO_RCVTIMEO is 0.3 s", t);
	/* data still arrives normally afterwards */
	assert_int_equal(send(c, "x", 1, 0), 1);
	tv.tv_sec = 10;
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(recv(s, b, sizeof(b), 0), 1);
	close(c);
	close(s);
}

static void test_so_sndtimeo(void **state)
{
	struct timeval tv = { 0, 300000 }, got;
	socklen_t len = sizeof(got);
	static uint8_t buf[65536];
	uint64_t total = 0;
	double t = 0;
	ssize_t n;
	int c, s;

	nc_watchdog(120);
	mkpair(&c, &s);
	assert_int_equal(setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(getsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &got, &len), 0);
	assert_in_range(got.tv_usec, 290000, 310000);
	/* the server never reads: blocking sends fill up, then time out */
	for (;;) {
		t = nc_now();
		n = send(c, buf, sizeof(buf), MSG_NOSIGNAL);
		t = nc_now() - t;
		if (n < 0)
			break;
		total += n;
		if (total > 64 * NC_MIB)
			fail_msg("sent %llu bytes to a peer that does not read",
				 (unsigned long long)total);
	}
	assert_int_equal(errno, EAGAIN);
	printf("# send timed out after %.3f s, %llu bytes accepted before\n", t,
	       (unsigned long long)total);
	if (t < 0.25 || t > 3.0)
		fail_msg("send returned EAGAIN after %.3f s, SO_SNDTIMEO is 0.3 s", t);
	close(c);
	close(s);
}

struct sender {
	int fd;
	uint64_t seed, len;
};

static int sender_main(void *arg, int wfd)
{
	const struct sender *sd = arg;

	if (nc_send_gen(sd->fd, sd->seed, 0, sd->len, 60000) ||
	    shutdown(sd->fd, SHUT_WR)) {
		fprintf(stderr, "[sender] %s\n", nc_err);
		return 1;
	}
	return 0;
}

static void test_so_bufsizes(void **state)
{
	struct sender sd = { .seed = 0x50, .len = 512 * 1024 };
	int c, s, v, sz = 16384;
	socklen_t len = sizeof(v);
	uint64_t h = 0;
	pid_t pid;

	nc_watchdog(120);
	mkpair(&c, &s);
	/* Linux doubles the value set (room for bookkeeping) */
	assert_int_equal(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	assert_int_equal(getsockopt(c, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	assert_int_equal(v, 2 * sz);
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)), 0);
	assert_int_equal(getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	assert_int_equal(v, 2 * sz);
	/* and the small buffers still carry a stream exactly */
	sd.fd = c;
	pid = nc_spawn(NULL, 120, sender_main, &sd, NULL);
	assert_true(pid > 0);
	assert_int_equal(nc_recv_hash_eof(s, sd.len, 60000, &h), sd.len);
	assert_true(h == nc_gen_hash(sd.seed, sd.len));
	assert_int_equal(nc_child_wait(pid, 20000), 0);
	close(c);
	close(s);
}

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
	mkpair(&c, &s);
	assert_int_equal(so_error(c), 0);
	assert_int_equal(so_error(s), 0);
	abort_close(c);
	wait_pollerr(s, 10000);
	/* SO_ERROR reports the pending error once and clears it */
	assert_int_equal(so_error(s), ECONNRESET);
	assert_int_equal(so_error(s), 0);
	assert_int_equal(recv(s, b, sizeof(b), MSG_DONTWAIT), 0);
	close(s);
}

/* ------------------------------------------------------------- connect */

static void test_connect_refused(void **state)
{
	struct sockaddr_in sin = nc_sin(NC_IP_B, nc_next_port());
	double t;
	int fd, i;

	nc_watchdog(60);
	/* twice: the first may be the first contact with the peer host */
	for (i = 0; i < 2; i++) {
		fd = nc_socket_in(NC_NS_A, 0);
		assert_true(fd >= 0);
		nc_set_timeo(fd, SO_SNDTIMEO, 20000);
		t = nc_now();
		assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
		t = nc_now() - t;
		if (errno != ECONNREFUSED)
			fail_msg("connect to a port without listener: %s after %.2f s, want ECONNREFUSED",
				 strerror(errno), t);
		if (t > 10)
			fail_msg("ECONNREFUSED took %.2f s", t);
		assert_int_equal(so_error(fd), 0);
		close(fd);
	}
}

static void test_connect_nonblocking(void **state)
{
	struct sockaddr_in sin = nc_sin(NC_IP_B, nc_next_port());
	struct pollfd p;
	uint16_t port = nc_next_port();
	char b[16];
	int fd, l, s;

	nc_watchdog(60);
	/* refused */
	fd = nc_socket_in(NC_NS_A, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_true(p.revents & POLLOUT);
	assert_int_equal(so_error(fd), ECONNREFUSED);
	close(fd);

	/* success */
	l = nc_listen_in(NC_NS_B, port, 4);
	nc_assert(l >= 0, "listen");
	sin = nc_sin(NC_IP_B, port);
	fd = nc_socket_in(NC_NS_A, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_true(p.revents & POLLOUT);
	assert_int_equal(p.revents & (POLLERR | POLLHUP), 0);
	assert_int_equal(so_error(fd), 0);
	/* connect() again collects the result: 0 (Linux) or EISCONN (BSD);
	 * after that it is EISCONN */
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		assert_int_equal(errno, EISCONN);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EISCONN);
	s = nc_accept_timeout(l, 10000);
	nc_assert(s >= 0, "accept");
	assert_int_equal(send(fd, "hello", 5, 0), 5);
	assert_int_equal(nc_recv_all(s, b, 5, 10000), 5);
	assert_memory_equal(b, "hello", 5);
	close(fd);
	close(s);
	close(l);
}

/* --------------------------------------------------------------- epoll */

struct echo_arg {
	int lfd;
	bool et;
	uint64_t seed;
};

static uint32_t rng_next(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return (uint32_t)(*st >> 11);
}

/*
 * Child (nc_b): echo one connection through a 32 KiB buffer with small
 * reads and writes, level- or edge-triggered; report the bytes echoed.
 */
static int echo_main(void *arg, int wfd)
{
	const struct echo_arg *a = arg;
	static uint8_t rb[32768];
	size_t rd = 0, wr = 0, want;
	uint64_t echoed = 0, rng = a->seed | 1;
	struct epoll_event ev, evs[4];
	bool eof = false, progress;
	int fd, ep, n;
	ssize_t k;

	fd = nc_accept_timeout(a->lfd, 20000);
	if (fd < 0) {
		fprintf(stderr, "[echo] %s\n", nc_err);
		return 1;
	}
	nc_set_nonblock(fd, true);
	ep = epoll_create1(0);
	ev.data.fd = fd;
	ev.events = EPOLLIN | EPOLLRDHUP | (a->et ? EPOLLOUT | EPOLLET : 0);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		return 2;
	while (!eof || wr > rd) {
		n = epoll_wait(ep, evs, 4, 20000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "[echo] no event for 20 s (echoed %llu, eof %d, buffered %zu)\n",
				(unsigned long long)echoed, eof, wr - rd);
			return 3;
		}
		do {
			progress = false;
			while (!eof && wr < sizeof(rb)) {
				want = 1 + rng_next(&rng) % 4096;
				if (want > sizeof(rb) - wr)
					want = sizeof(rb) - wr;
				k = recv(fd, rb + wr, want, 0);
				if (k > 0) {
					wr += k;
					progress = true;
				} else if (k == 0) {
					eof = true;
				} else if (errno == EAGAIN) {
					break;
				} else {
					fprintf(stderr, "[echo] recv: %s\n", strerror(errno));
					return 4;
				}
				if (!a->et)
					break;
			}
			while (wr > rd) {
				want = 1 + rng_next(&rng) % 4096;
				if (want > wr - rd)
					want = wr - rd;
				k = send(fd, rb + rd, want, MSG_NOSIGNAL);
				if (k > 0) {
					rd += k;
					echoed += k;
					progress = true;
					if (rd == wr)
						rd = wr = 0;
				} else if (k < 0 && errno == EAGAIN) {
					break;
				} else {
					fprintf(stderr, "[echo] send: %s\n", strerror(errno));
					return 5;
				}
				if (!a->et)
					break;
			}
			if (rd && wr == sizeof(rb)) {
				memmove(rb, rb + rd, wr - rd);
				wr -= rd;
				rd = 0;
				progress = true;
			}
		} while (a->et && progress);
		if (!a->et) {
			ev.events = (!eof && wr < sizeof(rb) ? EPOLLIN | EPOLLRDHUP : 0) |
				(wr > rd ? EPOLLOUT : 0);
			if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev))
				return 6;
		}
	}
	shutdown(fd, SHUT_WR);
	if (write(wfd, &echoed, sizeof(echoed)) != sizeof(echoed))
		return 7;
	/* wait for the client to close, so the FIN is not turned into a reset */
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };

		poll(&p, 1, 10000);
	}
	close(fd);
	return 0;
}

/* LT re-reports unread data; ET reports only new arrivals. */
static void check_trigger_semantics(bool et)
{
	struct epoll_event ev = { .events = EPOLLIN | (et ? EPOLLET : 0) }, out;
	char b[128];
	int c, s, ep;

	mkpair(&c, &s);
	nc_set_nonblock(s, true);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = s;
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), 0);
	memset(b, 'x', sizeof(b));
	assert_int_equal(send(c, b, 100, 0), 100);
	wait_readable_bytes(s, 100, 10000);
	assert_int_equal(epoll_wait(ep, &out, 1, 10000), 1);
	assert_true(out.events & EPOLLIN);
	assert_int_equal(recv(s, b, 10, 0), 10);
	/* 90 bytes remain */
	assert_int_equal(epoll_wait(ep, &out, 1, 100), et ? 0 : 1);
	assert_int_equal(send(c, b, 1, 0), 1);
	assert_int_equal(epoll_wait(ep, &out, 1, 10000), 1);
	assert_true(out.events & EPOLLIN);
	wait_readable_bytes(s, 91, 10000);
	assert_int_equal(recv(s, b, sizeof(b), 0), 91);
	assert_int_equal(recv(s, b, sizeof(b), 0), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(epoll_wait(ep, &out, 1, 100), 0);
	close(ep);
	close(c);
	close(s);
}

/* Client side of the echo exchange; *events gets the epoll wakeups. */
static void epoll_echo(bool et)
{
	const uint64_t total = NC_MIB, seed = et ? 0xe7 : 0x17;
	struct echo_arg ea = { .et = et, .seed = seed * 3 };
	uint16_t port = nc_next_port();
	static uint8_t buf[4096];
	uint64_t tx = 0, rx = 0, echoed = 0, rng = seed, wakeups = 0;
	struct epoll_event ev, evs[4];
	struct nc_hash h;
	bool eof = false, shut = false, progress;
	int fd, ep, rfd = -1, n;
	size_t want;
	ssize_t k;
	pid_t pid;

	ea.lfd = nc_listen_in(NC_NS_B, port, 4);
	nc_assert(ea.lfd >= 0, "listen");
	pid = nc_spawn(NC_NS_B, 150, echo_main, &ea, &rfd);
	assert_true(pid > 0);
	close(ea.lfd);
	fd = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(fd >= 0, "connect");
	nc_set_nonblock(fd, true);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = fd;
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | (et ? EPOLLET : 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	nc_hash_init(&h);
	while (!eof) {
		n = epoll_wait(ep, evs, 4, 20000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail_msg("%s: no event for 20 s: sent %llu, received %llu of %llu",
				 et ? "ET" : "LT", (unsigned long long)tx,
				 (unsigned long long)rx, (unsigned long long)total);
		wakeups++;
		do {
			progress = false;
			while (tx < total) {
				want = 1 + rng_next(&rng) % sizeof(buf);
				if (want > total - tx)
					want = total - tx;
				nc_gen(seed, tx, buf, want);
				k = send(fd, buf, want, MSG_NOSIGNAL);
				if (k > 0) {
					tx += k;
					progress = true;
				} else if (k < 0 && errno == EAGAIN) {
					break;
				} else {
					fail_msg("send: %s", strerror(errno));
				}
				if (!et)
					break;
			}
			if (tx == total && !shut) {
				assert_int_equal(shutdown(fd, SHUT_WR), 0);
				shut = true;
			}
			while (!eof) {
				want = 1 + rng_next(&rng) % sizeof(buf);
				k = recv(fd, buf, want, 0);
				if (k > 0) {
					nc_hash_update(&h, buf, k);
					rx += k;
					progress = true;
				} else if (k == 0) {
					eof = true;
				} else if (errno == EAGAIN) {
					break;
				} else {
					fail_msg("recv after %llu bytes: %s",
						 (unsigned long long)rx, strerror(errno));
				}
				if (!et)
					break;
			}
		} while (et && progress);
		if (!et && !eof) {
			ev.events = EPOLLIN | EPOLLRDHUP | (tx < total ? EPOLLOUT : 0);
			assert_int_equal(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), 0);
		}
	}
	printf("# %s echo: %llu bytes each way, %llu wakeups\n", et ? "ET" : "LT",
	       (unsigned long long)rx, (unsigned long long)wakeups);
	assert_int_equal(rx, total);
	assert_true(nc_hash_final(&h) == nc_gen_hash(seed, total));
	nc_assert(nc_read_full(rfd, &echoed, sizeof(echoed), 10000) == 0, "echo result");
	assert_int_equal(echoed, total);
	close(fd);
	close(ep);
	close(rfd);
	assert_int_equal(nc_child_wait(pid, 20000), 0);
}

static void test_epoll_lt_echo(void **state)
{
	nc_watchdog(170);
	check_trigger_semantics(false);
	epoll_echo(false);
}

static void test_epoll_et_echo(void **state)
{
	nc_watchdog(170);
	check_trigger_semantics(true);
	epoll_echo(true);
}

/* ------------------------------------------------------------ shutdown */

static void test_shutdown_wr(void **state)
{
	struct sender sd = { .seed = 0x60, .len = 100000 };
	struct pollfd p;
	uint64_t h = 0;
	char b[16];
	int c, s;

	nc_watchdog(60);
	mkpair(&c, &s);
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

	mkpair(&c, &s);
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
	mkpair(&c, &s);
	nc_gen(0x80, 0, a, sizeof(a));
	assert_int_equal(send(c, a, sizeof(a), 0), sizeof(a));
	wait_readable_bytes(s, sizeof(a), 10000);
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
	mkpair(&c, &s);
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
	mkpair(&c, &s);
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
	mkpair(&c, &s);
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

/* ------------------------------------------------------ stalled reader */

#define STALL_BYTES	(8 * NC_MIB)
#define STALL_LIMIT	(16 * NC_MIB)

struct stall_arg {
	int lfd;
	int ctl;	/* a byte here: start reading connection idx 1 */
	uint64_t seed;
};

/*
 * Child (nc_b): three connections identified by their header: idx 0 and 2
 * are read to EOF at once; idx 1 ("A") is not read past its header until
 * the parent says so. Each result goes to the parent as soon as its
 * connection is done.
 */
static int stall_main(void *arg, int wfd)
{
	const struct stall_arg *a = arg;
	struct nc_xspec spec = { .seed = a->seed };
	struct nc_flow fl[3];
	struct nc_flow_result res;
	struct pollfd pf[5];
	int map[5], nfl = 0, done = 0, np, i, fd;
	bool resumed = false;
	char c;

	while (done < 3) {
		np = 0;
		if (nfl < 3) {
			pf[np] = (struct pollfd){ .fd = a->lfd, .events = POLLIN };
			map[np++] = -1;
		}
		if (!resumed) {
			pf[np] = (struct pollfd){ .fd = a->ctl, .events = POLLIN };
			map[np++] = -2;
		}
		for (i = 0; i < nfl; i++) {
			if (fl[i].closed)
				continue;
			if (fl[i].idx == 1 && !fl[i].want_hdr && !resumed)
				continue;
			pf[np] = (struct pollfd){ .fd = fl[i].fd, .events = POLLIN |
				(fl[i].tx_ready && !fl[i].tx_done ? POLLOUT : 0) };
			map[np++] = i;
		}
		if (poll(pf, np, 120000) <= 0) {
			fprintf(stderr, "[stall] nothing happens for 120 s\n");
			return 1;
		}
		for (i = 0; i < np; i++) {
			if (!pf[i].revents)
				continue;
			if (map[i] == -1) {
				fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK);
				if (fd >= 0)
					nc_flow_init_server(&fl[nfl++], fd, 0, NULL);
				continue;
			}
			if (map[i] == -2) {
				if (read(a->ctl, &c, 1) != 1)
					return 2;
				resumed = true;
				continue;
			}
			struct nc_flow *f = &fl[map[i]];

			/* read A's header alone, not a byte of its data */
			nc_flow_rx(f, f->want_hdr ? sizeof(struct nc_xhdr) - f->rhdr_off
					: 65536, spec.seed);
			if (f->tx_ready && !f->tx_done && !f->err)
				nc_flow_tx(f, 65536);
			if (nc_flow_finished(f)) {
				nc_flow_result(f, &res);
				if (write(wfd, &res, sizeof(res)) != sizeof(res))
					return 3;
				close(f->fd);
				f->closed = true;
				done++;
			}
		}
	}
	return 0;
}

/*
 * Send STALL_BYTES on a new connection @idx while trying to write more into
 * *@A (if any); returns the seconds until the server had all of it.
 */
static double run_b(uint16_t port, int rfd, uint32_t idx, struct nc_flow *A,
		    uint64_t seed, int limit_ms)
{
	struct nc_xspec spec = { .nsock = 1, .up = STALL_BYTES, .seed = seed };
	int64_t deadline = nc_now_ms() + limit_ms;
	struct nc_flow_result r;
	struct nc_flow B;
	struct pollfd pf[3];
	double t0;
	int fd, np, i;

	fd = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(fd >= 0, "connect B");
	nc_set_nonblock(fd, true);
	nc_flow_init_client(&B, fd, idx, &spec);
	t0 = nc_now();
	for (;;) {
		np = 0;
		pf[np++] = (struct pollfd){ .fd = rfd, .events = POLLIN };
		if (!B.tx_done)
			pf[np++] = (struct pollfd){ .fd = B.fd, .events = POLLOUT };
		if (A)
			pf[np++] = (struct pollfd){ .fd = A->fd, .events = POLLOUT };
		if (poll(pf, np, nc_left_ms(deadline)) <= 0)
			fail_msg("connection %u not through after %d ms: %s (stalled A sent %llu)",
				 idx, limit_ms, nc_flow_state(&B),
				 A ? (unsigned long long)A->tx_off : 0ULL);
		for (i = 1; i < np; i++) {
			if (!pf[i].revents)
				continue;
			struct nc_flow *f = pf[i].fd == B.fd ? &B : A;

			nc_flow_tx(f, 65536);
			if (f->err)
				fail_msg("%s on %s: %s", f->what, f == A ? "A" : "B",
					 strerror(f->err));
			if (A && A->tx_off > STALL_LIMIT)
				fail_msg("the stalled connection took %llu bytes: its buffering is unbounded",
					 (unsigned long long)A->tx_off);
		}
		if (pf[0].revents) {
			nc_assert(nc_read_full(rfd, &r, sizeof(r), 10000) == 0, "stall server");
			break;
		}
	}
	t0 = nc_now() - t0;
	if (r.idx != idx || r.err || r.rx_bytes != STALL_BYTES ||
	    r.rx_hash != nc_gen_hash(nc_seed_up(seed, idx), STALL_BYTES))
		fail_msg("connection %u: server got idx %u, %llu of %llu bytes, error %d, hash %s",
			 idx, r.idx, (unsigned long long)r.rx_bytes,
			 (unsigned long long)STALL_BYTES, r.err,
			 r.rx_hash == nc_gen_hash(nc_seed_up(seed, idx), STALL_BYTES) ?
			 "ok" : "wrong");
	close(B.fd);
	return t0;
}

/*
 * Two connections between the same hosts: the server stops reading A while
 * B moves 8 MiB. B must not be held up by A (no head-of-line blocking in a
 * shared channel), A's sender must be stopped by flow control after a
 * bounded amount, and A's bytes must all arrive once reading resumes.
 */
static void test_stalled_reader(void **state)
{
	struct stall_arg sa = { .seed = 0x57a11 };
	struct nc_xspec spec = { .nsock = 1, .up = 64 * NC_MIB, .seed = sa.seed };
	uint16_t port = nc_next_port();
	struct nc_flow_result r;
	struct nc_flow A;
	struct pollfd p;
	int64_t last, deadline;
	uint64_t before, stalled_at;
	double t_alone, t_beside;
	int ctl[2], rfd = -1, fd;
	pid_t pid;

	nc_watchdog(175);
	sa.lfd = nc_listen_in(NC_NS_B, port, 8);
	nc_assert(sa.lfd >= 0, "listen");
	assert_int_equal(pipe2(ctl, O_CLOEXEC), 0);
	sa.ctl = ctl[0];
	pid = nc_spawn(NC_NS_B, 175, stall_main, &sa, &rfd);
	assert_true(pid > 0);
	close(sa.lfd);
	close(ctl[0]);

	/* B alone */
	t_alone = run_b(port, rfd, 0, NULL, sa.seed, 60000);

	/* A until it stops taking data */
	fd = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(fd >= 0, "connect A");
	nc_set_nonblock(fd, true);
	nc_flow_init_client(&A, fd, 1, &spec);
	last = nc_now_ms();
	deadline = last + 60000;
	while (nc_now_ms() - last < 1000) {
		if (nc_now_ms() > deadline)
			fail_msg("A keeps taking data for 60 s (%llu bytes)",
				 (unsigned long long)A.tx_off);
		/* write until EAGAIN, then wait a little for room */
		do {
			before = A.tx_off;
			nc_flow_tx(&A, 65536);
			if (A.err)
				fail_msg("A: %s: %s", A.what, strerror(A.err));
			if (A.tx_off > STALL_LIMIT)
				fail_msg("A took %llu bytes with nobody reading: buffering is unbounded",
					 (unsigned long long)A.tx_off);
			if (A.tx_off > before)
				last = nc_now_ms();
		} while (A.tx_off > before);
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		poll(&p, 1, 100);
	}
	stalled_at = A.tx_off;
	assert_int_equal(send(fd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EAGAIN);

	/* B beside the stalled A */
	t_beside = run_b(port, rfd, 2, &A, sa.seed, 30000 + (int)(10000 * t_alone));
	printf("# A stalled after %llu bytes (%llu at the end); B alone %.2f s, beside stalled A %.2f s\n",
	       (unsigned long long)stalled_at, (unsigned long long)A.tx_off, t_alone,
	       t_beside);
	if (t_beside > 3 * t_alone + 0.5)
		fail_msg("B took %.2f s beside the stalled A, %.2f s alone (limit 3x + 0.5 s)",
			 t_beside, t_alone);
	assert_true(A.tx_off < STALL_LIMIT);

	/* resume A: the rest flows, every byte arrives */
	assert_int_equal(write(ctl[1], "r", 1), 1);
	A.tx_len = A.tx_off + NC_MIB;
	deadline = nc_now_ms() + 60000;
	while (!A.tx_done) {
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, nc_left_ms(deadline)) != 1)
			fail_msg("A does not resume: %s", nc_flow_state(&A));
		nc_flow_tx(&A, 65536);
		if (A.err)
			fail_msg("A: %s: %s", A.what, strerror(A.err));
	}
	nc_assert(nc_read_full(rfd, &r, sizeof(r), 60000) == 0, "result of A");
	assert_int_equal(r.idx, 1);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rx_bytes, A.tx_len);
	assert_true(r.rx_hash == nc_gen_hash(nc_seed_up(sa.seed, 1), A.tx_len));
	close(fd);
	close(ctl[1]);
	close(rfd);
	assert_int_equal(nc_child_wait(pid, 20000), 0);
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
#define TS(name, f, st) { name, f, NULL, nc_test_cleanup, (void *)(st) }

int main(void)
{
	const struct CMUnitTest tests[] = {
		TS("xfer_1B", test_xfer_size, &size_1),
		TS("xfer_1000B", test_xfer_size, &size_1000),
		TS("xfer_64KiB_plus_7", test_xfer_size, &size_64k7),
		TS("xfer_1MiB", test_xfer_size, &size_1m),
		TS("xfer_16MiB", test_xfer_size, &size_16m),
		TS("xfer_64MiB", test_xfer_size, &size_64m),
		TS("concurrent_1x1MiB", test_concurrent, &conc_1),
		TS("concurrent_16x1MiB", test_concurrent, &conc_16),
		TS("concurrent_256x4KiB", test_concurrent, &conc_256),
		T(test_sendmsg_recvmsg_iov),
		T(test_read_write),
		T(test_msg_peek),
		T(test_msg_waitall),
		T(test_msg_dontwait),
		T(test_names),
		T(test_so_rcvtimeo),
		T(test_so_sndtimeo),
		T(test_so_bufsizes),
		T(test_so_error),
		T(test_connect_refused),
		T(test_connect_nonblocking),
		T(test_epoll_lt_echo),
		T(test_epoll_et_echo),
		T(test_shutdown_wr),
		T(test_shutdown_rd),
		T(test_abort_reset),
		T(test_sigpipe),
		T(test_stalled_reader),
		T(test_unload_under_traffic),
		T(test_sysctls),
		TS("channels_1", test_channels, &chan_1),
		TS("channels_2", test_channels, &chan_2),
		TS("channels_4", test_channels, &chan_4),
		T(test_vns_copies),
		cmocka_unit_test_teardown(test_peer_netns_deleted, netns_teardown),
		cmocka_unit_test_teardown(test_peer_netns_deleted_after_fin, netns_teardown),
	};

	return cmocka_run_group_tests_name("stream", tests, nc_group_setup,
					   nc_group_teardown);
}
