// SPDX-License-Identifier: GPL-2.0
/*
 * Test library: sockets in a namespace, listeners, connections, and
 * sending/receiving with timeouts (see nc_net.h).
 */
#include "nc_lib.h"

/* The next port nc_next_port() hands out. */
static uint16_t nc_port_next = 20000;

struct sockaddr_in nc_sin(const char *ip, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (ip)
		inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

int nc_family(void)
{
	const char *f = getenv("NC_FAMILY");

	if (!f || !*f || !strcmp(f, "4"))
		return AF_INET;
	if (!strcmp(f, "6"))
		return AF_INET6;
	fprintf(stderr, "NC_FAMILY=%s: expected 4 or 6\n", f);
	exit(2);
}

socklen_t nc_sa(const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	char mapped[64];

	memset(ss, 0, sizeof(*ss));
	if (ip && !strcmp(ip, "0.0.0.0"))
		ip = NULL;
	if (nc_family() == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (ip)
			inet_pton(AF_INET, ip, &sin->sin_addr);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	if (!ip)
		return sizeof(*sin6);
	if (!strcmp(ip, NC_IP_A))
		ip = NC_IP6_A;
	else if (!strcmp(ip, NC_IP_B))
		ip = NC_IP6_B;
	if (!strchr(ip, ':')) {
		snprintf(mapped, sizeof(mapped), "::ffff:%s", ip);
		ip = mapped;
	}
	inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	return sizeof(*sin6);
}

uint16_t nc_sa_port(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

bool nc_sa_is(const struct sockaddr_storage *sa, socklen_t len, const char *ip,
	      uint16_t port)
{
	const struct sockaddr_in6 *g6 = (const struct sockaddr_in6 *)sa, *w6;
	const struct sockaddr_in *g4 = (const struct sockaddr_in *)sa, *w4;
	struct sockaddr_storage want;
	socklen_t wlen = nc_sa(ip, port, &want);
	bool same;

	w6 = (const struct sockaddr_in6 *)&want;
	w4 = (const struct sockaddr_in *)&want;
	if (len != wlen || sa->ss_family != want.ss_family)
		return false;
	if (want.ss_family == AF_INET6)
		same = !memcmp(&g6->sin6_addr, &w6->sin6_addr, sizeof(w6->sin6_addr));
	else
		same = g4->sin_addr.s_addr == w4->sin_addr.s_addr;
	return same && (port ? nc_sa_port(sa) == port : nc_sa_port(sa) != 0);
}

int nc_socket_in(const char *ns, int type_flags)
{
	int fd, e;

	if (ns && nc_ns_enter(ns))
		return -1;
	fd = socket(nc_family(), SOCK_STREAM | SOCK_CLOEXEC | type_flags, nc_proto());
	e = errno;
	if (ns)
		nc_ns_leave();
	if (fd < 0)
		return nc_fail(-e, "socket(%s, SOCK_STREAM, %d) in %s: %s",
			       nc_family() == AF_INET6 ? "AF_INET6" : "AF_INET",
			       nc_proto(), ns ? ns : "root", strerror(e));
	return fd;
}

uint16_t nc_next_port(void)
{
	if (nc_port_next >= 60000)
		nc_port_next = 20000;
	return nc_port_next++;
}

int nc_listen_opts(const char *ns, uint16_t port, int backlog, int type_flags,
		   int rcvbuf)
{
	struct sockaddr_storage sa;
	socklen_t len = nc_sa(NULL, port, &sa);
	int fd = nc_socket_in(ns, type_flags), one = 1, e;

	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, len)) {
		e = errno;
		close(fd);
		return nc_fail(-e, "bind %s:%u in %s: %s",
			       nc_family() == AF_INET6 ? "[::]" : "0.0.0.0", port,
			       ns ? ns : "root", strerror(e));
	}
	if (listen(fd, backlog)) {
		e = errno;
		close(fd);
		return nc_fail(-e, "listen on port %u in %s: %s", port, ns ? ns : "root",
			       strerror(e));
	}
	return fd;
}

int nc_listen_in(const char *ns, uint16_t port, int backlog)
{
	return nc_listen_opts(ns, port, backlog, 0, 0);
}

int nc_set_timeo(int fd, int opt, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

int nc_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) ? -errno : 0;
}

int nc_connect_in(const char *ns, const char *ip, uint16_t port,
		  int timeout_ms)
{
	struct sockaddr_storage sa;
	socklen_t len = nc_sa(ip, port, &sa);
	int fd = nc_socket_in(ns, 0), e;

	if (fd < 0)
		return fd;
	nc_set_timeo(fd, SO_SNDTIMEO, timeout_ms);
	if (connect(fd, (struct sockaddr *)&sa, len)) {
		e = errno;
		close(fd);
		return nc_fail(-e, "connect from %s to %s:%u: %s%s", ns ? ns : "root", ip,
			       port, strerror(e),
			       e == EINPROGRESS ? " (blocking connect timed out)" : "");
	}
	nc_set_timeo(fd, SO_SNDTIMEO, 0);
	return fd;
}

int nc_accept_timeout(int lfd, int timeout_ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int r, fd;

	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return nc_fail(-errno, "poll on listener: %s", strerror(errno));
	if (r == 0)
		return nc_fail(-ETIMEDOUT, "no connection to accept after %d ms", timeout_ms);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return nc_fail(-errno, "accept: %s", strerror(errno));
	return fd;
}

int nc_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = nc_now_ms() + timeout_ms;
	const uint8_t *p = buf;
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	ssize_t n;
	size_t done = 0;
	int r;

	while (done < len) {
		n = send(fd, p + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			done += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return nc_fail(-errno, "send after %zu of %zu bytes: %s", done, len,
				       strerror(errno));
		r = poll(&pf, 1, nc_left_ms(deadline));
		if (r == 0)
			return nc_fail(-ETIMEDOUT, "send: stuck after %zu of %zu bytes for %d ms",
				       done, len, timeout_ms);
	}
	return 0;
}

ssize_t nc_recv_all(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = nc_now_ms() + timeout_ms;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	uint8_t *p = buf;
	size_t done = 0;
	ssize_t n;
	int r;

	while (done < len) {
		n = recv(fd, p + done, len - done, MSG_DONTWAIT);
		if (n > 0) {
			done += n;
			continue;
		}
		if (n == 0)
			break;
		if (errno != EAGAIN && errno != EINTR)
			return nc_fail(-errno, "recv after %zu of %zu bytes: %s", done, len,
				       strerror(errno));
		r = poll(&pf, 1, nc_left_ms(deadline));
		if (r == 0)
			return nc_fail(-ETIMEDOUT, "recv: got %zu of %zu bytes, then nothing for %d ms",
				       done, len, timeout_ms);
	}
	return done;
}

int64_t nc_recv_hash_eof(int fd, uint64_t max, int timeout_ms,
			 uint64_t *hash)
{
	static uint8_t buf[65536];
	int64_t deadline = nc_now_ms() + timeout_ms;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	struct nc_hash h;
	uint64_t done = 0;
	ssize_t n;

	nc_hash_init(&h);
	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			nc_hash_update(&h, buf, n);
			done += n;
			if (done > max)
				return nc_fail(-EFBIG, "recv: more than the %llu bytes expected",
					       (unsigned long long)max);
			continue;
		}
		if (n == 0)
			break;
		if (errno != EAGAIN && errno != EINTR)
			return nc_fail(-errno, "recv after %llu bytes: %s",
				       (unsigned long long)done, strerror(errno));
		if (poll(&pf, 1, nc_left_ms(deadline)) == 0)
			return nc_fail(-ETIMEDOUT, "recv: %llu bytes, then no EOF for %d ms",
				       (unsigned long long)done, timeout_ms);
	}
	*hash = nc_hash_final(&h);
	return done;
}

int nc_send_gen(int fd, uint64_t seed, uint64_t off, uint64_t len,
		int timeout_ms)
{
	static uint8_t buf[65536];
	int64_t deadline = nc_now_ms() + timeout_ms;
	uint64_t end = off + len;
	size_t n;
	int r;

	for (; off < end; off += n) {
		n = end - off < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
		nc_gen(seed, off, buf, n);
		r = nc_send_all(fd, buf, n, nc_left_ms(deadline));
		if (r)
			return r;
	}
	return 0;
}

/* @fd reads @len bytes of stream @seed, then the end of the stream. */
static int nc_recv_stream(int fd, uint64_t len, uint64_t seed, const char *who)
{
	int64_t got;
	uint64_t h;

	got = nc_recv_hash_eof(fd, 2 * len, 30000, &h);
	if (got < 0)
		return -1;
	if ((uint64_t)got != len)
		return nc_fail(-1, "%s read %lld of %llu bytes", who, (long long)got,
			       (unsigned long long)len);
	if (h != nc_gen_hash(seed, len))
		return nc_fail(-1, "%s read other bytes than stream %llu", who,
			       (unsigned long long)seed);
	return 0;
}

int nc_exchange(int c, int s, uint64_t len, uint64_t seed)
{
	struct nc_sender up = { .fd = c, .seed = seed, .len = len };
	struct nc_sender down = { .fd = s, .seed = seed + 1, .len = len };
	pid_t pu, pd = -1;
	int ret = -1;

	pu = nc_spawn(NULL, 60, nc_sender_main, &up, NULL);
	if (pu > 0)
		pd = nc_spawn(NULL, 60, nc_sender_main, &down, NULL);
	if (pd > 0 && !nc_recv_stream(s, len, seed, "the server") &&
	    !nc_recv_stream(c, len, seed + 1, "the client"))
		ret = 0;
	if (pu > 0 && nc_child_wait(pu, 30000))
		ret = -1;
	if (pd > 0 && nc_child_wait(pd, 30000))
		ret = -1;
	return ret;
}

int nc_sender_main(void *arg, int wfd)
{
	const struct nc_sender *sd = arg;

	if (nc_send_gen(sd->fd, sd->seed, 0, sd->len, 60000) ||
	    shutdown(sd->fd, SHUT_WR)) {
		fprintf(stderr, "[sender] %s\n", nc_err);
		return 1;
	}
	return 0;
}
