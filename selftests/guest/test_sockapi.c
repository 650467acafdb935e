// SPDX-License-Identifier: GPL-2.0
/*
 * NetChannel stream sockets must behave like TCP ones: the socket API.
 * sendmsg/recvmsg with iovecs, read/write/readv/writev, MSG_PEEK,
 * MSG_WAITALL and MSG_DONTWAIT, socket names, SO_RCVTIMEO, SO_SNDTIMEO and
 * the buffer sizes, blocking and non-blocking connect() and their errors,
 * level- and edge-triggered epoll. Every test here runs on NC_PROTO=tcp
 * too (that validates the test).
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
#include "nc_tcpinfo.h"
#include <sys/epoll.h>

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
	nc_mkpair(&c, &s);
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
	nc_mkpair(&c, &s);
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
	nc_mkpair(&c, &s);
	nc_gen(0x30, 0, a, sizeof(a));
	assert_int_equal(send(c, a, 100, 0), 100);
	nc_wait_readable_bytes(s, 100, 10000);
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

struct peek_rest {
	int fd;
	const uint8_t *a;
};

/* Child: after 100 ms, bytes 10..99 of the stream in three pieces. */
static int peek_rest_main(void *arg, int wfd)
{
	const struct peek_rest *p = arg;
	int i;

	for (i = 0; i < 3; i++) {
		nc_sleep_ms(100);
		if (send(p->fd, p->a + 10 + 30 * i, 30, 0) != 30) {
			fprintf(stderr, "[peek] send: %s\n", strerror(errno));
			return 1;
		}
	}
	return 0;
}

/*
 * MSG_PEEK with MSG_WAITALL waits for bytes it has not seen yet, as TCP's
 * does: it neither spins on the queue it already peeked nor consumes it.
 */
static void test_msg_peek_waitall(void **state)
{
	uint8_t a[100], b[100];
	struct peek_rest p;
	double t0, t;
	pid_t pid;
	int c, s;

	nc_watchdog(60);
	nc_mkpair(&c, &s);
	nc_gen(0x31, 0, a, sizeof(a));
	assert_int_equal(send(c, a, 10, 0), 10);
	nc_wait_readable_bytes(s, 10, 10000);
	/* non-blocking: what there is */
	memset(b, 0, sizeof(b));
	assert_int_equal(recv(s, b, 100, MSG_PEEK | MSG_WAITALL | MSG_DONTWAIT), 10);
	assert_memory_equal(a, b, 10);
	/* blocking with a timeout: what there is, once the timeout passed */
	nc_set_timeo(s, SO_RCVTIMEO, 300);
	t0 = nc_now();
	assert_int_equal(recv(s, b, 100, MSG_PEEK | MSG_WAITALL), 10);
	t = nc_now() - t0;
	if (t < 0.25)
		fail_msg("MSG_PEEK|MSG_WAITALL returned after %.3f s, before its 0.3 s timeout", t);
	/* the rest arrives in pieces: one call sees all of it */
	p.fd = c;
	p.a = a;
	pid = nc_spawn(NULL, 60, peek_rest_main, &p, NULL);
	assert_true(pid > 0);
	nc_set_timeo(s, SO_RCVTIMEO, 20000);
	memset(b, 0, sizeof(b));
	assert_int_equal(recv(s, b, 100, MSG_PEEK | MSG_WAITALL), 100);
	assert_memory_equal(a, b, 100);
	assert_int_equal(nc_child_wait(pid, 20000), 0);
	/* and it is all still queued */
	memset(b, 0, sizeof(b));
	assert_int_equal(recv(s, b, 100, MSG_DONTWAIT), 100);
	assert_memory_equal(a, b, 100);
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
	nc_mkpair(&c, &s);
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

/*
 * Send on @c, whose peer does not read, until send() fails, as it must
 * with EAGAIN before 64 MiB. Returns the bytes accepted before; *@t (if not
 * NULL) gets the seconds the failing call took.
 */
static uint64_t send_until_eagain(int c, int flags, double *t)
{
	static uint8_t buf[65536];
	uint64_t total = 0;
	double t0 = 0;
	ssize_t n;
	int e = 0;

	for (;;) {
		t0 = nc_now();
		n = send(c, buf, sizeof(buf), flags);
		e = errno;
		if (n < 0)
			break;
		total += n;
		if (total > 64 * NC_MIB)
			fail_msg("sent %llu bytes to a peer that does not read, no EAGAIN",
				 (unsigned long long)total);
	}
	if (t)
		*t = nc_now() - t0;
	assert_int_equal(e, EAGAIN);
	return total;
}

static void test_msg_dontwait(void **state)
{
	static uint8_t buf[65536];
	uint64_t total;
	int c, s;

	nc_watchdog(120);
	nc_mkpair(&c, &s);
	/* blocking sockets, but MSG_DONTWAIT never waits */
	assert_int_equal(recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(send(c, "0123456789", 10, MSG_DONTWAIT), 10);
	nc_wait_readable_bytes(s, 10, 10000);
	assert_int_equal(recv(s, buf, sizeof(buf), MSG_DONTWAIT), 10);
	assert_int_equal(recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	/* nobody reads s: sending with MSG_DONTWAIT ends in EAGAIN */
	total = send_until_eagain(c, MSG_DONTWAIT | MSG_NOSIGNAL, NULL);
	printf("# EAGAIN after %llu bytes\n", (unsigned long long)total);
	close(c);
	close(s);
}

/* @sa is @ip:@port in the suite's family (port 0: any but 0) */
static void assert_sin(const struct sockaddr_storage *sa, socklen_t len,
		       const char *ip, uint16_t port)
{
	char buf[INET6_ADDRSTRLEN] = "?";

	if (nc_sa_is(sa, len, ip, port))
		return;
	if (sa->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
			  buf, sizeof(buf));
	else if (sa->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  buf, sizeof(buf));
	fail_msg("address %s port %u (family %d, length %u), want %s port %u",
		 buf, nc_sa_port(sa), sa->ss_family, len, ip, port);
}

static void test_names(void **state)
{
	struct sockaddr_storage sin, acc;
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
	cport = nc_sa_port(&sin);
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

/* Set @opt (SO_RCVTIMEO or SO_SNDTIMEO) of @fd to 0.3 s; it reads back so. */
static void set_timeo_300ms(int fd, int opt)
{
	struct timeval tv = { 0, 300000 }, got;
	socklen_t len = sizeof(got);

	assert_int_equal(setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)), 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, opt, &got, &len), 0);
	assert_int_equal(got.tv_sec, 0);
	assert_in_range(got.tv_usec, 290000, 310000);
}

/* @what (a call under a 0.3 s @opt_name) gave up after @t s: about that. */
static void check_timed_out(const char *what, const char *opt_name, double t)
{
	if (t < 0.25 || t > 3.0)
		fail_msg("%s returned EAGAIN after %.3f s, %s is 0.3 s", what, t, opt_name);
}

static void test_so_rcvtimeo(void **state)
{
	char b[16];
	double t;
	int c, s;

	nc_watchdog(60);
	nc_mkpair(&c, &s);
	set_timeo_300ms(s, SO_RCVTIMEO);
	t = nc_now();
	assert_int_equal(recv(s, b, sizeof(b), 0), -1);
	t = nc_now() - t;
	assert_int_equal(errno, EAGAIN);
	printf("# recv timed out after %.3f s (SO_RCVTIMEO 0.3 s)\n", t);
	check_timed_out("recv", "SO_RCVTIMEO", t);
	/* data still arrives normally afterwards */
	assert_int_equal(send(c, "x", 1, 0), 1);
	assert_int_equal(nc_set_timeo(s, SO_RCVTIMEO, 10300), 0);
	assert_int_equal(recv(s, b, sizeof(b), 0), 1);
	close(c);
	close(s);
}

static void test_so_sndtimeo(void **state)
{
	uint64_t total;
	double t;
	int c, s;

	nc_watchdog(120);
	nc_mkpair(&c, &s);
	set_timeo_300ms(c, SO_SNDTIMEO);
	/* the server never reads: blocking sends fill up, then time out */
	total = send_until_eagain(c, MSG_NOSIGNAL, &t);
	printf("# send timed out after %.3f s, %llu bytes accepted before\n", t,
	       (unsigned long long)total);
	check_timed_out("send", "SO_SNDTIMEO", t);
	close(c);
	close(s);
}

static void test_so_bufsizes(void **state)
{
	struct nc_sender sd = { .seed = 0x50, .len = 512 * 1024 };
	int c, s, v, sz = 16384;
	socklen_t len = sizeof(v);
	uint64_t h = 0;
	pid_t pid;

	nc_watchdog(120);
	nc_mkpair(&c, &s);
	/* Linux doubles the value set (room for bookkeeping) */
	assert_int_equal(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	assert_int_equal(getsockopt(c, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	assert_int_equal(v, 2 * sz);
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)), 0);
	assert_int_equal(getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	assert_int_equal(v, 2 * sz);
	/* and the small buffers still carry a stream exactly */
	sd.fd = c;
	pid = nc_spawn(NULL, 120, nc_sender_main, &sd, NULL);
	assert_true(pid > 0);
	assert_int_equal(nc_recv_hash_eof(s, sd.len, 60000, &h), sd.len);
	assert_true(h == nc_gen_hash(sd.seed, sd.len));
	assert_int_equal(nc_child_wait(pid, 20000), 0);
	close(c);
	close(s);
}

/* ------------------------------------------------------------- connect */

static void test_connect_refused(void **state)
{
	struct sockaddr_storage sin;
	socklen_t len = nc_sa(NC_IP_B, nc_next_port(), &sin);
	double t;
	int fd, i;

	nc_watchdog(60);
	/* twice: the first may be the first contact with the peer host */
	for (i = 0; i < 2; i++) {
		fd = nc_socket_in(NC_NS_A, 0);
		assert_true(fd >= 0);
		nc_set_timeo(fd, SO_SNDTIMEO, 20000);
		t = nc_now();
		assert_int_equal(connect(fd, (struct sockaddr *)&sin, len), -1);
		t = nc_now() - t;
		if (errno != ECONNREFUSED)
			fail_msg("connect to a port without listener: %s after %.2f s, want ECONNREFUSED",
				 strerror(errno), t);
		if (t > 10)
			fail_msg("ECONNREFUSED took %.2f s", t);
		assert_int_equal(nc_so_error(fd), 0);
		close(fd);
	}
}

/*
 * A non-blocking connect() from nc_a to @sin: EINPROGRESS, then POLLOUT
 * within 10 s. Returns the fd; *@revents gets poll()'s events.
 */
static int connect_nonblocking(const struct sockaddr_storage *sin,
			       socklen_t len, short *revents)
{
	struct pollfd p;
	int fd = nc_socket_in(NC_NS_A, SOCK_NONBLOCK);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (const struct sockaddr *)sin, len), -1);
	assert_int_equal(errno, EINPROGRESS);
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_true(p.revents & POLLOUT);
	*revents = p.revents;
	return fd;
}

static void test_connect_nonblocking(void **state)
{
	struct sockaddr_storage sin;
	socklen_t len = nc_sa(NC_IP_B, nc_next_port(), &sin);
	uint16_t port = nc_next_port();
	short revents;
	char b[16];
	int fd, l, s;

	nc_watchdog(60);
	/* refused */
	fd = connect_nonblocking(&sin, len, &revents);
	assert_int_equal(nc_so_error(fd), ECONNREFUSED);
	close(fd);

	/* success */
	l = nc_listen_in(NC_NS_B, port, 4);
	nc_assert(l >= 0, "listen");
	len = nc_sa(NC_IP_B, port, &sin);
	fd = connect_nonblocking(&sin, len, &revents);
	assert_int_equal(revents & (POLLERR | POLLHUP), 0);
	assert_int_equal(nc_so_error(fd), 0);
	/* connect() again collects the result: 0 (Linux) or EISCONN (BSD);
	 * after that it is EISCONN */
	if (connect(fd, (struct sockaddr *)&sin, len))
		assert_int_equal(errno, EISCONN);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, len), -1);
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

/* A random chunk size: 1..@max, at most @len (the room or what is left). */
static size_t chunk_len(uint64_t *rng, size_t max, size_t len)
{
	size_t want = 1 + rng_next(rng) % max;

	return want < len ? want : len;
}

/*
 * One recv() of a random chunk into @buf (room for @len): the bytes read
 * (0 and *@eof set at EOF), -EAGAIN if nothing is there, or another -errno.
 */
static ssize_t recv_chunk(int fd, void *buf, size_t len, size_t max, uint64_t *rng,
			  bool *eof)
{
	ssize_t k = recv(fd, buf, chunk_len(rng, max, len), 0);

	if (k < 0)
		return -errno;
	*eof |= k == 0;
	return k;
}

/* One send() of a random chunk of @buf[0..@len): the bytes sent, or -errno. */
static ssize_t send_chunk(int fd, const void *buf, size_t len, size_t max,
			  uint64_t *rng)
{
	ssize_t k = send(fd, buf, chunk_len(rng, max, len), MSG_NOSIGNAL);

	return k < 0 ? -errno : k;
}

/*
 * Child (nc_b): echo one connection through a 32 KiB buffer with small
 * reads and writes, level- or edge-triggered; report the bytes echoed.
 */
static int echo_main(void *arg, int wfd)
{
	const struct echo_arg *a = arg;
	static uint8_t rb[32768];
	size_t rd = 0, wr = 0;
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
				k = recv_chunk(fd, rb + wr, sizeof(rb) - wr, 4096, &rng, &eof);
				if (k == -EAGAIN)
					break;
				if (k < 0) {
					fprintf(stderr, "[echo] recv: %s\n", strerror(-k));
					return 4;
				}
				wr += k;
				progress |= k > 0;
				if (!a->et)
					break;
			}
			while (wr > rd) {
				k = send_chunk(fd, rb + rd, wr - rd, 4096, &rng);
				if (k == -EAGAIN)
					break;
				if (k <= 0) {
					fprintf(stderr, "[echo] send: %s\n", strerror(-k));
					return 5;
				}
				rd += k;
				echoed += k;
				progress = true;
				if (rd == wr)
					rd = wr = 0;
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

	nc_mkpair(&c, &s);
	nc_set_nonblock(s, true);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = s;
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), 0);
	memset(b, 'x', sizeof(b));
	assert_int_equal(send(c, b, 100, 0), 100);
	nc_wait_readable_bytes(s, 100, 10000);
	assert_int_equal(epoll_wait(ep, &out, 1, 10000), 1);
	assert_true(out.events & EPOLLIN);
	assert_int_equal(recv(s, b, 10, 0), 10);
	/* 90 bytes remain */
	assert_int_equal(epoll_wait(ep, &out, 1, 100), et ? 0 : 1);
	assert_int_equal(send(c, b, 1, 0), 1);
	assert_int_equal(epoll_wait(ep, &out, 1, 10000), 1);
	assert_true(out.events & EPOLLIN);
	nc_wait_readable_bytes(s, 91, 10000);
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
	size_t left;
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
				left = total - tx < sizeof(buf) ? total - tx : sizeof(buf);
				nc_gen(seed, tx, buf, left);
				k = send_chunk(fd, buf, left, sizeof(buf), &rng);
				if (k == -EAGAIN)
					break;
				if (k <= 0)
					fail_msg("send: %s", strerror(-k));
				tx += k;
				progress = true;
				if (!et)
					break;
			}
			if (tx == total && !shut) {
				assert_int_equal(shutdown(fd, SHUT_WR), 0);
				shut = true;
			}
			while (!eof) {
				k = recv_chunk(fd, buf, sizeof(buf), sizeof(buf), &rng, &eof);
				if (k == -EAGAIN)
					break;
				if (k < 0)
					fail_msg("recv after %llu bytes: %s",
						 (unsigned long long)rx, strerror(-k));
				nc_hash_update(&h, buf, k);
				rx += k;
				progress |= k > 0;
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

/* ------------------------------------------------------- options, identity */

static int get_int(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int v = -12345;

	assert_int_equal(getsockopt(fd, level, opt, &v, &len), 0);
	assert_int_equal(len, sizeof(int));
	return v;
}

static int set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v));
}

/* setsockopt() fails with @err */
#define assert_set_fails(fd, opt, v, err) do {				\
	assert_int_equal(set_int(fd, IPPROTO_TCP, opt, v), -1);		\
	assert_int_equal(errno, err);					\
} while (0)

static void check_identity(int fd)
{
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_PROTOCOL), nc_proto());
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_DOMAIN), nc_family());
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_ERROR), 0);
}

/*
 * Connected and accepted sockets say what they are; an accepted one has
 * its listener's options, as TCP's child has.
 */
static void test_identity_and_inheritance(void **state)
{
	uint16_t port = nc_next_port();
	int l, c, s;

	nc_watchdog(60);
	l = nc_listen_in(NC_NS_B, port, 8);
	assert_true(l >= 0);
	check_identity(l);
	assert_int_equal(set_int(l, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
	assert_int_equal(set_int(l, IPPROTO_TCP, TCP_NODELAY, 1), 0);
	assert_int_equal(set_int(l, IPPROTO_TCP, TCP_KEEPIDLE, 33), 0);
	c = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	assert_true(c >= 0);
	s = nc_accept_timeout(l, 10000);
	assert_true(s >= 0);
	check_identity(c);
	check_identity(s);
	assert_int_equal(get_int(s, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(get_int(s, IPPROTO_TCP, TCP_NODELAY), 1);
	assert_int_equal(get_int(s, IPPROTO_TCP, TCP_KEEPIDLE), 33);
	assert_int_equal(get_int(c, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(get_int(c, IPPROTO_TCP, TCP_NODELAY), 0);
	close(l);
	close(c);
	close(s);
}

/* The TCP-level options programs set: kept, checked, read back as TCP. */
static void test_tcp_options(void **state)
{
	static const int bools[] = { TCP_NODELAY, TCP_CORK, TCP_QUICKACK };
	char cc[32] = "", want[32] = "";
	socklen_t len;
	unsigned int i;
	int c, s, v;
	FILE *f;

	nc_watchdog(60);
	nc_mkpair(&c, &s);
	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		assert_int_equal(set_int(c, IPPROTO_TCP, bools[i], 1), 0);
		assert_int_equal(get_int(c, IPPROTO_TCP, bools[i]) != 0, 1);
		assert_int_equal(set_int(c, IPPROTO_TCP, bools[i], 0), 0);
		/* TCP_QUICKACK reads back what TCP's delayed-ACK state is */
		if (bools[i] != TCP_QUICKACK)
			assert_int_equal(get_int(c, IPPROTO_TCP, bools[i]), 0);
	}
	/* keepalive: the namespace's defaults until set, TCP's bounds */
	assert_int_equal(get_int(c, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
	assert_int_equal(get_int(c, IPPROTO_TCP, TCP_KEEPINTVL), 75);
	assert_int_equal(get_int(c, IPPROTO_TCP, TCP_KEEPCNT), 9);
	assert_int_equal(set_int(c, IPPROTO_TCP, TCP_KEEPIDLE, 30), 0);
	assert_int_equal(set_int(c, IPPROTO_TCP, TCP_KEEPINTVL, 5), 0);
	assert_int_equal(set_int(c, IPPROTO_TCP, TCP_KEEPCNT, 4), 0);
	assert_int_equal(get_int(c, IPPROTO_TCP, TCP_KEEPIDLE), 30);
	assert_int_equal(get_int(c, IPPROTO_TCP, TCP_KEEPINTVL), 5);
	assert_int_equal(get_int(c, IPPROTO_TCP, TCP_KEEPCNT), 4);
	assert_set_fails(c, TCP_KEEPIDLE, 0, EINVAL);
	assert_set_fails(c, TCP_KEEPIDLE, 32768, EINVAL);
	assert_set_fails(c, TCP_KEEPINTVL, 0, EINVAL);
	assert_set_fails(c, TCP_KEEPCNT, 128, EINVAL);
	assert_int_equal(get_int(c, IPPROTO_TCP, TCP_KEEPIDLE), 30);
	assert_int_equal(get_int(c, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
	assert_int_equal(set_int(c, IPPROTO_TCP, TCP_USER_TIMEOUT, 5000), 0);
	assert_int_equal(get_int(c, IPPROTO_TCP, TCP_USER_TIMEOUT), 5000);
	assert_set_fails(c, TCP_USER_TIMEOUT, -1, EINVAL);
	/* a short option value */
	v = 1;
	assert_int_equal(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, 2), -1);
	assert_int_equal(errno, EINVAL);
	/* an option TCP does not know */
	assert_set_fails(c, 9999, 1, ENOPROTOOPT);
	len = sizeof(v);
	assert_int_equal(getsockopt(c, IPPROTO_TCP, 9999, &v, &len), -1);
	assert_int_equal(errno, ENOPROTOOPT);
	/* one TCP has and NetChannel refuses, as TCP refuses what it lacks */
	if (!nc_proto_tcp())
		assert_set_fails(c, TCP_WINDOW_CLAMP, 65536, ENOPROTOOPT);
	/* the congestion control: the namespace's, which the channels use */
	nc_assert(nc_ns_enter(NC_NS_A) == 0, "enter %s", NC_NS_A);
	f = fopen("/proc/sys/net/ipv4/tcp_congestion_control", "r");
	assert_non_null(f);
	assert_non_null(fgets(want, sizeof(want), f));
	fclose(f);
	nc_ns_leave();
	want[strcspn(want, "\n")] = 0;
	len = sizeof(cc);
	assert_int_equal(getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, &len), 0);
	assert_string_equal(cc, want);
	assert_int_equal(setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, want,
				    strlen(want)), 0);
	if (!nc_proto_tcp() && strcmp(want, "reno")) {
		assert_int_equal(setsockopt(c, IPPROTO_TCP, TCP_CONGESTION,
					    "reno", 4), -1);
		assert_int_equal(errno, EOPNOTSUPP);
	}
	assert_true(get_int(c, IPPROTO_TCP, TCP_MAXSEG) > 0);
	close(c);
	close(s);
}

/*
 * TCP_INFO tells the truth: the state, the transport's rtt, and the bytes
 * sent, received and acknowledged (NetChannel: consumed by the reader and
 * credited back, which lags by at most part of the 1 MiB window).
 */
static void test_tcp_info(void **state)
{
	enum { LEN = 4 << 20 };
	struct nc_sender snd = { .seed = 0x71, .len = LEN };
	struct nc_tcpi ic, is;
	unsigned int len;
	uint8_t first;
	socklen_t n;
	uint64_t hash;
	pid_t pid;
	int c, s;

	nc_watchdog(120);
	nc_mkpair(&c, &s);
	snd.fd = c;
	pid = nc_spawn(NULL, 100, nc_sender_main, &snd, NULL);
	assert_true(pid > 0);
	assert_int_equal(nc_recv_hash_eof(s, LEN + 1, 100000, &hash), LEN);
	assert_true(hash == nc_gen_hash(snd.seed, LEN));
	assert_int_equal(nc_child_wait(pid, 20000), 0);
	nc_sleep_ms(500);
	assert_int_equal(nc_tcp_info(c, &ic, &len), 0);
	assert_true(len >= 200);	/* the whole struct, not a prefix */
	assert_int_equal(nc_tcp_info(s, &is, &len), 0);
	print_message("# sent %llu acked %llu received %llu rtt %u us mss %u\n",
		      (unsigned long long)ic.bytes_sent,
		      (unsigned long long)ic.bytes_acked,
		      (unsigned long long)is.bytes_received,
		      ic.rtt_us, ic.snd_mss);
	/* shut down for writing: TCP's FIN was acked, ours has no such state */
	assert_int_equal(ic.state, nc_proto_tcp() ? TCP_FIN_WAIT2 : TCP_FIN_WAIT1);
	assert_int_equal(is.state, TCP_CLOSE_WAIT);
	assert_true(ic.bytes_sent >= LEN);
	/* TCP counts its SYN and FIN in sequence space: 1 byte each */
	assert_int_equal(is.bytes_received, LEN + nc_proto_tcp());
	assert_true(ic.bytes_acked <= ic.bytes_sent + 2 * nc_proto_tcp());
	assert_true(ic.bytes_acked >= LEN - (1 << 20) / 2);
	assert_true(ic.rtt_us > 0);
	assert_true(ic.snd_mss > 0);
	/* a short buffer gets the start of the struct */
	n = 1;
	first = 0;
	assert_int_equal(getsockopt(s, IPPROTO_TCP, TCP_INFO, &first, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(first, TCP_CLOSE_WAIT);
	close(c);
	close(s);
}

/* ---------------------------------------------------------------- main */

/* ----------------------------------------------------- corking */

/* nc_a's frames_tx (DATA and control frames its channels sent) */
static uint64_t frames_a(void)
{
	uint64_t v = 0;

	if (!nc_proto_tcp())
		assert_int_equal(nc_stat_get(NC_NS_A, "frames_tx", &v), 0);
	return v;
}

/*
 * @n writes of @len bytes of stream @seed on @c with @flags; returns the
 * ms they took.
 */
static double small_writes(int c, int n, int len, int flags, uint64_t seed)
{
	uint8_t buf[256];
	double t = nc_now();
	int i;

	for (i = 0; i < n; i++) {
		nc_gen(seed, (uint64_t)i * len, buf, len);
		assert_int_equal(send(c, buf, len, flags), len);
	}
	return (nc_now() - t) * 1000;
}

/* @s gets exactly the @len bytes of stream @seed within 10 s. */
static void expect_stream(int s, size_t len, uint64_t seed)
{
	static uint8_t got[65536], want[65536];

	assert_true(len <= sizeof(got));
	assert_int_equal(nc_recv_all(s, got, len, 10000), len);
	nc_gen(seed, 0, want, len);
	assert_memory_equal(got, want, len);
}

/*
 * The DATA frames @bytes of corked writes may take over @ms: full 2 KiB
 * frames, one partial one, and one more each time the 200 ms ceiling
 * sent a partial tail (one per 200 ms at most), plus slack for control
 * frames. Without corking they would take a frame per write.
 */
static uint64_t corked_frames_max(size_t bytes, double ms)
{
	return bytes / 2048 + 1 + (uint64_t)(ms / 200) + 1 + 4;
}

/*
 * TCP_CORK: 1000 writes of 16 bytes go as full frames, not a frame each,
 * and uncorking sends the rest; TCP_NODELAY pushes what is held, as TCP's.
 * Byte-exact both ways; the frame counts are NetChannel's.
 */
static void test_cork(void **state)
{
	uint64_t f0, f1;
	double ms;
	int c, s, on = 1, off = 0;

	nc_watchdog(60);
	nc_mkpair(&c, &s);
	assert_int_equal(setsockopt(c, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)), 0);
	f0 = frames_a();
	ms = small_writes(c, 1000, 16, 0, 0xc0);
	assert_int_equal(setsockopt(c, IPPROTO_TCP, TCP_CORK, &off, sizeof(off)), 0);
	expect_stream(s, 16000, 0xc0);
	f1 = frames_a();
	printf("# 1000 corked writes of 16 B in %.0f ms: %llu frames\n", ms,
	       (unsigned long long)(f1 - f0));
	if (!nc_proto_tcp())
		assert_true(f1 - f0 <= corked_frames_max(16000, ms));

	/* corked again; TCP_NODELAY sends what is held */
	assert_int_equal(setsockopt(c, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)), 0);
	small_writes(c, 10, 16, 0, 0xc1);
	assert_int_equal(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)), 0);
	expect_stream(s, 160, 0xc1);
	close(c);
	close(s);
}

/*
 * MSG_MORE corks one write: 200 writes of 50 bytes with it, then one
 * without, go as full frames and arrive whole.
 */
static void test_msg_more(void **state)
{
	uint8_t last[50];
	uint64_t f0, f1;
	double ms;
	int c, s;

	nc_watchdog(60);
	nc_mkpair(&c, &s);
	f0 = frames_a();
	ms = small_writes(c, 200, 50, MSG_MORE, 0x30e);
	nc_gen(0x30e, 200 * 50, last, sizeof(last));
	assert_int_equal(send(c, last, sizeof(last), 0), sizeof(last));
	expect_stream(s, 201 * 50, 0x30e);
	f1 = frames_a();
	printf("# 200 writes of 50 B with MSG_MORE in %.0f ms, then one: %llu frames\n",
	       ms, (unsigned long long)(f1 - f0));
	if (!nc_proto_tcp())
		assert_true(f1 - f0 <= corked_frames_max(201 * 50, ms));
	close(c);
	close(s);
}

/*
 * A corked write that nothing follows waits, then goes after the 200 ms
 * ceiling (NetChannel's NC_CORK_TIMEOUT; TCP's, measured the same way,
 * is 200 ms too); shutdown() sends what is held at once.
 */
static void test_cork_ceiling(void **state)
{
	struct pollfd p;
	double t, waited;
	int c, s, on = 1, r;

	nc_watchdog(60);
	nc_mkpair(&c, &s);
	assert_int_equal(setsockopt(c, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)), 0);
	t = nc_now();
	small_writes(c, 1, 10, 0, 0xce);
	p = (struct pollfd){ .fd = s, .events = POLLIN };
	r = poll(&p, 1, 5000);
	waited = (nc_now() - t) * 1000;
	printf("# a corked write of 10 B arrived after %.0f ms\n", waited);
	assert_int_equal(r, 1);
	assert_true(waited >= 150);
	expect_stream(s, 10, 0xce);

	t = nc_now();
	small_writes(c, 1, 10, 0, 0xcf);
	assert_int_equal(shutdown(c, SHUT_WR), 0);
	expect_stream(s, 10, 0xcf);
	assert_int_equal(recv(s, &r, 1, 0), 0);		/* then the end */
	waited = (nc_now() - t) * 1000;
	printf("# with shutdown(): %.0f ms\n", waited);
	close(c);
	close(s);
}

#define T(f) cmocka_unit_test_teardown(f, nc_test_cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sendmsg_recvmsg_iov),
		T(test_read_write),
		T(test_msg_peek),
		T(test_msg_peek_waitall),
		T(test_msg_waitall),
		T(test_msg_dontwait),
		T(test_names),
		T(test_so_rcvtimeo),
		T(test_so_sndtimeo),
		T(test_so_bufsizes),
		T(test_connect_refused),
		T(test_connect_nonblocking),
		T(test_epoll_lt_echo),
		T(test_epoll_et_echo),
		T(test_identity_and_inheritance),
		T(test_tcp_options),
		T(test_tcp_info),
		T(test_cork),
		T(test_msg_more),
		T(test_cork_ceiling),
	};

	return cmocka_run_group_tests_name("sockapi", tests, nc_group_setup,
					   nc_group_teardown);
}
