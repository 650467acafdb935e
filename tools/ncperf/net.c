// SPDX-License-Identifier: GPL-2.0
/*
 * ncperf: socket helpers, the client side of the hello (client_connect) and
 * the client's hard time limit.
 */
#include "ncperf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

void errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err[0])	/* keep the first reason */
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

int set_timeouts(int fd)
{
	struct timeval tv;

	tv.tv_sec = (time_t)o.timeout;
	tv.tv_usec = (suseconds_t)((o.timeout - (double)tv.tv_sec) * 1e6);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -1;
	return 0;
}

int new_socket(char *err, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, o.proto);

	if (fd < 0) {
		int e = errno;

		errf(err, len, "socket(AF_INET, SOCK_STREAM, %s=%d): %s%s",
		     o.proto == IPPROTO_NETCHANNEL ? "IPPROTO_NETCHANNEL" :
		     o.proto == IPPROTO_TCP ? "IPPROTO_TCP" :
		     o.proto == IPPROTO_MPTCP ? "IPPROTO_MPTCP" : "protocol",
		     o.proto, strerror(e),
		     o.proto == IPPROTO_NETCHANNEL &&
		     (e == EPROTONOSUPPORT || e == ESOCKTNOSUPPORT) ?
		     " (is netchannel.ko loaded?)" : "");
		errno = e;
		return -1;
	}
	/* Bounding every blocking call matters more than the exact error, so
	 * a socket that refuses timeouts is refused. */
	if (set_timeouts(fd)) {
		errf(err, len, "setsockopt(SO_RCVTIMEO/SO_SNDTIMEO): %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

const char *io_err(int e)
{
	return (e == EAGAIN || e == EWOULDBLOCK) ? "timed out (--timeout)" : strerror(e);
}

/* Write all of buf; 0 on success, else -1 with errno (EPIPE on short). */
int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes: 1 done, 0 EOF before the first byte, -1 error
 * (errno; ECONNRESET for EOF in the middle). */
int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, p + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			if (!got)
				return 0;
			errno = ECONNRESET;
			return -1;
		}
		got += (size_t)n;
	}
	return 1;
}

void put32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

uint64_t get64(const unsigned char *p)
{
	return ((uint64_t)get32(p) << 32) | get32(p + 4);
}

/* Connect to the server and do the hello. Returns the fd or -1 (err set). */
int client_connect(int kind, uint32_t msg_size, uint32_t nconns,
		   uint64_t session, char *err, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o.port) };
	unsigned char hello[HELLO_LEN], ack[4];
	int fd, r, one = 1;

	inet_pton(AF_INET, o.addr, &sa.sin_addr);
	fd = new_socket(err, len);
	if (fd < 0)
		return -1;
	/* NetChannel keeps it too, and a socket that falls back is TCP with it */
	if (o.nodelay && kind == NCP_ECHO)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		errf(err, len, "connect %s:%d (%s): %s", o.addr, o.port, proto_name(o.proto),
		     errno == EINPROGRESS ? "timed out (--timeout)" : strerror(errno));
		goto fail;
	}
	put32(hello, NCP_MAGIC);
	put32(hello + 4, (NCP_VERSION << 16) | (uint32_t)kind);
	put32(hello + 8, msg_size);
	put32(hello + 12, nconns);
	put64(hello + 16, session);
	if (write_full(fd, hello, sizeof(hello))) {
		errf(err, len, "send hello to %s:%d: %s", o.addr, o.port, io_err(errno));
		goto fail;
	}
	r = read_full(fd, ack, sizeof(ack));
	if (r <= 0) {
		errf(err, len, "no reply to hello from %s:%d: %s", o.addr, o.port,
		     r ? io_err(errno) : "connection closed");
		goto fail;
	}
	if (get32(ack) != NCP_MAGIC) {
		errf(err, len, "%s:%d is not an ncperf server (bad reply)", o.addr, o.port);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

uint64_t random_session(void)
{
	uint64_t s = now_ns() ^ ((uint64_t)getpid() << 32);
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &s, sizeof(s)) != (ssize_t)sizeof(s))
			s ^= now_ns();
		close(fd);
	}
	return s;
}

/* ------------------------------------------------------------ hard limit */

static void on_alarm(int sig)
{
	static const char msg[] = "ncperf: hard time limit reached; giving up\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to do */
	}
	_exit(3);
}

void arm_hard_limit(void)
{
	double lim = o.warmup + o.seconds + 3 * o.timeout + 5;

	signal(SIGALRM, on_alarm);
	alarm((unsigned int)ceil(lim));
}
