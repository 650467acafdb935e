/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two NetChannel hosts for the guest tests, and what it takes to move
 * verifiable bytes between them.
 *
 * Include this header first (it wants _GNU_SOURCE before any libc header).
 *
 * - Hosts: network namespaces nc_a (10.99.0.1) and nc_b (10.99.0.2) joined
 *   by a veth pair. Sockets belong to the namespace they were created in,
 *   so one process can create a listener in b and a client in a by
 *   switching with nc_ns_enter()/nc_ns_leave(); nc_spawn() runs a function
 *   in a forked child, optionally inside a namespace.
 * - Protocol: NC_PROTO=tcp selects IPPROTO_TCP (validates the tests on
 *   plain TCP); unset or NC_PROTO=netchannel selects IPPROTO_NETCHANNEL.
 * - Data: nc_gen() is a seeded, counter-based pseudo-random byte stream
 *   (any offset can be generated independently); nc_hash is a streaming
 *   64-bit hash whose result does not depend on how the stream is chunked.
 * - Transfers: the "xfer" protocol below (a 16-byte request header, then
 *   data up, data down, both half-closed) and a poll-driven engine that runs
 *   any number of such connections on either side.
 * - Timeouts: every wait here takes a timeout and reports a hang as an
 *   error with a message (nc_err); children run under alarm().
 *
 * Nothing here calls cmocka's assertions, so it is safe in forked children
 * and in the nc_xfer tool. Functions return 0 / a result, or a negative
 * errno (or -1) with a description in nc_err.
 */
#ifndef NC_NET_H
#define NC_NET_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/tcp.h>
#include "nc_test.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "nc_gen() assumes a little-endian machine");

#define NC_NS_A		"nc_a"
#define NC_NS_B		"nc_b"
#define NC_IP_A		"10.99.0.1"
#define NC_IP_B		"10.99.0.2"
#define NC_PROC_STATS	"/proc/net/netchannel/stats"
#define NC_SYSCTL_DIR	"/proc/sys/net/netchannel/"

#define NC_MIB		(1024ULL * 1024)

/* ------------------------------------------------------------ errors, time */

static char nc_err[1024];

__attribute__((format(printf, 2, 3)))
static inline int nc_fail(int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nc_err, sizeof(nc_err), fmt, ap);
	va_end(ap);
	return ret;
}

static inline int64_t nc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline double nc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Milliseconds left until @deadline (nc_now_ms() based), clamped to >= 0. */
static inline int nc_left_ms(int64_t deadline)
{
	int64_t left = deadline - nc_now_ms();

	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* ------------------------------------------------------------ protocol */

/* True for NC_PROTO=tcp; exits on anything but tcp/netchannel/unset. */
static inline bool nc_proto_tcp(void)
{
	const char *p = getenv("NC_PROTO");

	if (!p || !*p || !strcmp(p, "netchannel"))
		return false;
	if (!strcmp(p, "tcp"))
		return true;
	fprintf(stderr, "NC_PROTO=%s: expected 'tcp' or 'netchannel'\n", p);
	exit(2);
}

/* In a test that only means something on NetChannel: skip it on TCP. */
#define SKIP_UNLESS_NETCHANNEL() do {					\
	if (nc_proto_tcp()) {						\
		printf("# %s: netchannel only, skipped on tcp\n", __func__); \
		skip();							\
	}								\
} while (0)

static inline int nc_proto(void)
{
	return nc_proto_tcp() ? IPPROTO_TCP : IPPROTO_NETCHANNEL;
}

static inline const char *nc_proto_name(void)
{
	return nc_proto_tcp() ? "tcp" : "netchannel";
}

/* --------------------------------------------------- data stream and hash */

/* Word @k of the stream @seed (splitmix64 of a counter). */
static inline uint64_t nc_word(uint64_t seed, uint64_t k)
{
	uint64_t z = seed + (k + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Bytes [@off, @off + @len) of the stream @seed into @buf. */
static inline void nc_gen(uint64_t seed, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t k = off >> 3, w;
	unsigned int sh = off & 7;

	if (sh && len) {
		w = nc_word(seed, k++);
		for (; sh < 8 && len; sh++, len--)
			*p++ = (uint8_t)(w >> (8 * sh));
	}
	for (; len >= 8; len -= 8, p += 8) {
		w = nc_word(seed, k++);
		memcpy(p, &w, 8);
	}
	if (len) {
		w = nc_word(seed, k);
		for (sh = 0; sh < len; sh++)
			*p++ = (uint8_t)(w >> (8 * sh));
	}
}

#define NC_H_P1 0x9E3779B185EBCA87ULL
#define NC_H_P2 0xC2B2AE3D27D4EB4FULL
#define NC_H_P3 0x165667B19E3779F9ULL
#define NC_H_P4 0x85EBCA77C2B2AE63ULL

/* Streaming 64-bit hash (xxh64's single-lane round over 8-byte words). */
struct nc_hash {
	uint64_t acc;
	uint64_t len;
	uint64_t pend;
	unsigned int npend;
};

static inline uint64_t nc_rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline void nc_hash_init(struct nc_hash *h)
{
	h->acc = NC_H_P3 ^ 0x4e6574436861ULL;
	h->len = 0;
	h->pend = 0;
	h->npend = 0;
}

static inline void nc_hash_word(struct nc_hash *h, uint64_t w)
{
	h->acc ^= nc_rotl64(w * NC_H_P2, 31) * NC_H_P1;
	h->acc = nc_rotl64(h->acc, 27) * NC_H_P1 + NC_H_P4;
}

static inline void nc_hash_update(struct nc_hash *h, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t w;

	h->len += len;
	if (h->npend) {
		for (; h->npend < 8 && len; h->npend++, len--)
			h->pend |= (uint64_t)*p++ << (8 * h->npend);
		if (h->npend < 8)
			return;
		nc_hash_word(h, h->pend);
		h->pend = 0;
		h->npend = 0;
	}
	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		nc_hash_word(h, w);
	}
	for (; len; len--)
		h->pend |= (uint64_t)*p++ << (8 * h->npend++);
}

static inline uint64_t nc_hash_final(const struct nc_hash *h)
{
	uint64_t a = h->acc + h->len;

	if (h->npend) {
		a ^= (h->pend | ((uint64_t)h->npend << 56)) * NC_H_P1;
		a = nc_rotl64(a, 23) * NC_H_P2 + NC_H_P3;
	}
	a ^= a >> 33;
	a *= NC_H_P2;
	a ^= a >> 29;
	a *= NC_H_P3;
	a ^= a >> 32;
	return a;
}

static inline uint64_t nc_hash_buf(const void *buf, size_t len)
{
	struct nc_hash h;

	nc_hash_init(&h);
	nc_hash_update(&h, buf, len);
	return nc_hash_final(&h);
}

/* Hash of bytes [0, @len) of the stream @seed. */
static inline uint64_t nc_gen_hash(uint64_t seed, uint64_t len)
{
	static uint8_t buf[65536];
	struct nc_hash h;
	uint64_t off;
	size_t n;

	nc_hash_init(&h);
	for (off = 0; off < len; off += n) {
		n = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);
		nc_gen(seed, off, buf, n);
		nc_hash_update(&h, buf, n);
	}
	return nc_hash_final(&h);
}

/* ------------------------------------------------------------ namespaces */

static int nc_root_ns_fd = -1;

/* Switch this thread to the network namespace /run/netns/@name. */
static inline int nc_ns_enter(const char *name)
{
	char path[128];
	int fd, ret;

	if (nc_root_ns_fd < 0) {
		nc_root_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (nc_root_ns_fd < 0)
			return nc_fail(-errno, "open /proc/self/ns/net: %s",
				       strerror(errno));
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nc_fail(-errno, "open %s: %s", path, strerror(errno));
	ret = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	if (ret)
		return nc_fail(ret, "setns %s: %s", path, strerror(-ret));
	return 0;
}

/* Back to the namespace this process started in. */
static inline int nc_ns_leave(void)
{
	if (nc_root_ns_fd < 0)
		return 0;
	if (setns(nc_root_ns_fd, CLONE_NEWNET))
		return nc_fail(-errno, "setns back: %s", strerror(errno));
	return 0;
}

static inline void nc_hosts_destroy(void)
{
	nc_ns_leave();
	nc_run("ip netns del " NC_NS_A " 2>/dev/null; ip netns del " NC_NS_B " 2>/dev/null");
}

/* Two hosts nc_a and nc_b, fresh (any old ones are deleted first). */
static inline int nc_hosts_create(void)
{
	int i;

	nc_hosts_destroy();
	if (nc_run("ip netns add " NC_NS_A " && ip netns add " NC_NS_B
		   " && ip link add nc_va netns " NC_NS_A " type veth peer name nc_vb netns " NC_NS_B
		   " && ip -n " NC_NS_A " addr add " NC_IP_A "/24 dev nc_va"
		   " && ip -n " NC_NS_B " addr add " NC_IP_B "/24 dev nc_vb"
		   " && ip -n " NC_NS_A " link set lo up && ip -n " NC_NS_A " link set nc_va up"
		   " && ip -n " NC_NS_B " link set lo up && ip -n " NC_NS_B " link set nc_vb up"))
		return nc_fail(-1, "creating namespaces %s and %s failed", NC_NS_A, NC_NS_B);
	for (i = 0; i < 10; i++) {
		if (!nc_run("ip netns exec " NC_NS_A " ping -c 1 -W 1 " NC_IP_B " >/dev/null 2>&1"))
			return 0;
		nc_sleep_ms(100);
	}
	return nc_fail(-1, "%s cannot ping %s after creating the hosts", NC_NS_A, NC_IP_B);
}

/* Read a "key: value" number of @ns's /proc/net/netchannel/stats. */
static inline int nc_stat_get(const char *ns, const char *key, uint64_t *val)
{
	char v[128], *end;
	int ret;

	if (ns && nc_ns_enter(ns))
		return -1;
	ret = nc_proc_get(NC_PROC_STATS, key, v, sizeof(v));
	if (ns)
		nc_ns_leave();
	if (ret)
		return nc_fail(ret, "%s in %s of %s: %s", key, NC_PROC_STATS,
			       ns ? ns : "root", strerror(-ret));
	*val = strtoull(v, &end, 10);
	if (end == v || *end)
		return nc_fail(-EINVAL, "%s in %s of %s: not a number: '%s'", key,
			       NC_PROC_STATS, ns ? ns : "root", v);
	return 0;
}

/* The whole stats file of @ns, one line, for failure messages. */
static inline const char *nc_stats_line(const char *ns)
{
	static char out[2048];
	char line[256];
	size_t o = 0;
	FILE *f;

	out[0] = '\0';
	if (ns && nc_ns_enter(ns))
		return "(no namespace)";
	f = fopen(NC_PROC_STATS, "r");
	if (ns)
		nc_ns_leave();
	if (!f)
		return "(no stats file)";
	while (fgets(line, sizeof(line), f) && o < sizeof(out) - 1) {
		line[strcspn(line, "\n")] = '\0';
		o += snprintf(out + o, sizeof(out) - o, "%s%s", o ? ", " : "", line);
	}
	fclose(f);
	return out;
}

/* Write @val to /proc/sys/net/netchannel/@name inside @ns. 0 or -errno. */
static inline int nc_sysctl_set(const char *ns, const char *name, const char *val)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), NC_SYSCTL_DIR "%s", name);
	if (ns && nc_ns_enter(ns))
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (ns)
		nc_ns_leave();
	if (fd < 0)
		return nc_fail(-errno, "open %s in %s: %s", path, ns ? ns : "root",
			       strerror(errno));
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = nc_fail(-errno, "write '%s' to %s in %s: %s", val, path,
			      ns ? ns : "root", strerror(errno));
	close(fd);
	return ret;
}

static inline int nc_sysctl_get(const char *ns, const char *name, long *val)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), NC_SYSCTL_DIR "%s", name);
	if (ns && nc_ns_enter(ns))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns)
		nc_ns_leave();
	if (fd < 0)
		return nc_fail(-errno, "open %s in %s: %s", path, ns ? ns : "root",
			       strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return nc_fail(-EIO, "read %s in %s failed", path, ns ? ns : "root");
	buf[n] = '\0';
	*val = strtol(buf, NULL, 10);
	return 0;
}

/* ------------------------------------------------------------ children */

#define NC_MAX_CHILDREN 16
static pid_t nc_children[NC_MAX_CHILDREN];

typedef int (*nc_child_fn)(void *arg, int wfd);

/*
 * Run @fn(@arg, wfd) in a forked child, inside namespace @ns (NULL: stay),
 * killed by SIGALRM after @timeout_s. Its return value is the exit status.
 * If @rfd is not NULL, *@rfd is the read end of a pipe whose write end the
 * child gets as wfd (for results). Returns the pid or -1.
 */
static inline pid_t nc_spawn(const char *ns, unsigned int timeout_s,
			     nc_child_fn fn, void *arg, int *rfd)
{
	int p[2] = { -1, -1 }, i;
	pid_t pid;

	if (rfd && pipe2(p, O_CLOEXEC))
		return nc_fail(-1, "pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		if (rfd) {
			close(p[0]);
			close(p[1]);
		}
		return nc_fail(-1, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		alarm(timeout_s);
		if (rfd)
			close(p[0]);
		if (ns && nc_ns_enter(ns)) {
			fprintf(stderr, "[child] %s\n", nc_err);
			_exit(120);
		}
		i = fn(arg, p[1]);
		fflush(stdout);
		fflush(stderr);
		_exit(i & 0xff);
	}
	for (i = 0; i < NC_MAX_CHILDREN; i++) {
		if (!nc_children[i]) {
			nc_children[i] = pid;
			break;
		}
	}
	if (rfd) {
		close(p[1]);
		*rfd = p[0];
	}
	return pid;
}

static inline void nc_child_forget(pid_t pid)
{
	int i;

	for (i = 0; i < NC_MAX_CHILDREN; i++)
		if (nc_children[i] == pid)
			nc_children[i] = 0;
}

/*
 * Wait up to @timeout_ms for child @pid (killing it on timeout). Returns
 * its exit status (0..255), or -1 with nc_err if it was killed or hung.
 */
static inline int nc_child_wait(pid_t pid, int timeout_ms)
{
	int64_t deadline = nc_now_ms() + timeout_ms;
	int st;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			nc_child_forget(pid);
			return nc_fail(-1, "waitpid %d: %s", pid, strerror(errno));
		}
		if (nc_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			nc_child_forget(pid);
			return nc_fail(-1, "child %d still running after %d ms (hang), killed",
				       pid, timeout_ms);
		}
		nc_sleep_ms(5);
	}
	nc_child_forget(pid);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return nc_fail(-1, "child %d killed by signal %d%s", pid, WTERMSIG(st),
		       WTERMSIG(st) == SIGALRM ? " (its own timeout: a hang)" : "");
}

/* Kill and reap every child still registered. */
static inline void nc_children_kill(void)
{
	int i;

	for (i = 0; i < NC_MAX_CHILDREN; i++) {
		if (nc_children[i] > 0) {
			kill(nc_children[i], SIGKILL);
			waitpid(nc_children[i], NULL, 0);
		}
		nc_children[i] = 0;
	}
}

/* Close every socket and pipe fd >= 3 (cleanup after a failed test). */
static inline void nc_close_all_sockets(void)
{
	int fds[1024], n = 0, fd, i;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return;
	while ((de = readdir(d)) && n < 1024) {
		fd = atoi(de->d_name);
		if (fd < 3 || fd == dirfd(d) || fstat(fd, &st))
			continue;
		if (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode))
			fds[n++] = fd;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* ------------------------------------------------------------ sockets */

static inline struct sockaddr_in nc_sin(const char *ip, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (ip)
		inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* A stream socket of NC_PROTO in namespace @ns (NULL: current). */
static inline int nc_socket_in(const char *ns, int type_flags)
{
	int fd, e;

	if (ns && nc_ns_enter(ns))
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | type_flags, nc_proto());
	e = errno;
	if (ns)
		nc_ns_leave();
	if (fd < 0)
		return nc_fail(-e, "socket(AF_INET, SOCK_STREAM, %d) in %s: %s",
			       nc_proto(), ns ? ns : "root", strerror(e));
	return fd;
}

static uint16_t nc_port_next = 20000;

/* A fresh port number for a test listener (never the channel port). */
static inline uint16_t nc_next_port(void)
{
	if (nc_port_next >= 60000)
		nc_port_next = 20000;
	return nc_port_next++;
}

/* A listening socket on 0.0.0.0:@port in namespace @ns. */
static inline int nc_listen_in(const char *ns, uint16_t port, int backlog)
{
	struct sockaddr_in sin = nc_sin(NULL, port);
	int fd = nc_socket_in(ns, 0), one = 1, e;

	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		e = errno;
		close(fd);
		return nc_fail(-e, "bind 0.0.0.0:%u in %s: %s", port, ns, strerror(e));
	}
	if (listen(fd, backlog)) {
		e = errno;
		close(fd);
		return nc_fail(-e, "listen on port %u in %s: %s", port, ns, strerror(e));
	}
	return fd;
}

static inline int nc_set_timeo(int fd, int opt, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static inline int nc_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) ? -errno : 0;
}

/*
 * A blocking socket in @ns connected to @ip:@port with a blocking
 * connect(), bounded by SO_SNDTIMEO = @timeout_ms (cleared afterwards).
 * Returns the fd or -errno.
 */
static inline int nc_connect_in(const char *ns, const char *ip, uint16_t port,
				int timeout_ms)
{
	struct sockaddr_in sin = nc_sin(ip, port);
	int fd = nc_socket_in(ns, 0), e;

	if (fd < 0)
		return fd;
	nc_set_timeo(fd, SO_SNDTIMEO, timeout_ms);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		e = errno;
		close(fd);
		return nc_fail(-e, "connect from %s to %s:%u: %s%s", ns ? ns : "root", ip,
			       port, strerror(e),
			       e == EINPROGRESS ? " (blocking connect timed out)" : "");
	}
	nc_set_timeo(fd, SO_SNDTIMEO, 0);
	return fd;
}

/* accept() on @lfd, waiting at most @timeout_ms. Returns the fd or -errno. */
static inline int nc_accept_timeout(int lfd, int timeout_ms)
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

/*
 * Send all of @buf, waiting at most @timeout_ms in total (works on blocking
 * and non-blocking sockets; never raises SIGPIPE). 0 or -errno.
 */
static inline int nc_send_all(int fd, const void *buf, size_t len, int timeout_ms)
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

/*
 * Receive up to @len bytes until @len or EOF, waiting at most @timeout_ms in
 * total. Returns the byte count (< @len only at EOF) or -errno.
 */
static inline ssize_t nc_recv_all(int fd, void *buf, size_t len, int timeout_ms)
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

/*
 * Read until EOF, hashing; at most @max bytes, @timeout_ms in total.
 * Returns the count, or -errno (*@count holds what arrived before).
 */
static inline int64_t nc_recv_hash_eof(int fd, uint64_t max, int timeout_ms,
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

/* Send bytes [@off, @off + @len) of stream @seed. 0 or -errno. */
static inline int nc_send_gen(int fd, uint64_t seed, uint64_t off, uint64_t len,
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

/* ------------------------------------------------------------ xfer engine */

/*
 * The xfer protocol, per connection: the client sends a struct nc_xhdr,
 * then up bytes of stream nc_seed_up(base, idx), then half-closes; the
 * server sends reply_len bytes of stream nc_seed_down(base, idx), then
 * half-closes; each side reads the other's bytes to EOF, hashing them.
 */
#define NC_XHDR_MAGIC	0x4E435431u	/* "NCT1" */

struct nc_xhdr {
	uint32_t magic;
	uint32_t idx;
	uint64_t reply_len;
};

static inline uint64_t nc_seed_up(uint64_t base, uint32_t idx)
{
	return nc_word(base, 2ULL * idx);
}

static inline uint64_t nc_seed_down(uint64_t base, uint32_t idx)
{
	return nc_word(base, 2ULL * idx + 1);
}

/* A transfer: @nsock connections, @up bytes each up, @down bytes each down. */
struct nc_xspec {
	int nsock;
	uint64_t up, down;
	uint64_t seed;
	size_t chunk;		/* bytes per send/recv; 0: 64 KiB */
	int timeout_ms;		/* 0: derived from the size */
	bool raw;		/* no request header: exactly @up bytes on the
				 * wire (server flows number themselves in
				 * accept order, so only for nsock == 1) */
	bool keep_open;		/* do not close finished sockets */
};

struct nc_flow {
	int fd;
	uint32_t idx;
	int err;		/* first errno on this flow, 0 if none */
	const char *what;	/* "send", "recv", "header" with err */
	/* transmit: the header (if any), then tx_len bytes of tx_seed */
	uint8_t hdr[sizeof(struct nc_xhdr)];
	unsigned int hdr_len, hdr_off;
	uint64_t tx_seed, tx_len, tx_off;
	bool tx_ready, tx_done;
	/* receive: the request header (server), then bytes to EOF */
	bool want_hdr;
	uint8_t rhdr[sizeof(struct nc_xhdr)];
	unsigned int rhdr_off;
	struct nc_hash rx_hash;
	uint64_t rx_bytes;
	bool rx_eof;
	bool closed;
};

/* What a server reports per connection. */
struct nc_flow_result {
	uint32_t idx;
	int32_t err;
	uint64_t rx_bytes;
	uint64_t rx_hash;
	uint64_t tx_bytes;
};

static inline void nc_flow_init_client(struct nc_flow *f, int fd, uint32_t idx,
				       const struct nc_xspec *s)
{
	struct nc_xhdr h = { NC_XHDR_MAGIC, idx, s->down };

	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->idx = idx;
	if (!s->raw) {
		memcpy(f->hdr, &h, sizeof(h));
		f->hdr_len = sizeof(h);
	}
	f->tx_seed = nc_seed_up(s->seed, idx);
	f->tx_len = s->up;
	f->tx_ready = true;
	nc_hash_init(&f->rx_hash);
}

/* A server flow for the @idx'th accepted connection. */
static inline void nc_flow_init_server(struct nc_flow *f, int fd, uint32_t idx,
				       const struct nc_xspec *s)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->idx = UINT32_MAX;
	f->want_hdr = true;
	if (s && s->raw) {
		f->want_hdr = false;
		f->idx = idx;
		f->tx_seed = nc_seed_down(s->seed, idx);
		f->tx_len = s->down;
		f->tx_ready = true;
	}
	nc_hash_init(&f->rx_hash);
}

static inline bool nc_flow_finished(const struct nc_flow *f)
{
	return f->err || (f->tx_done && f->rx_eof);
}

static inline void nc_flow_error(struct nc_flow *f, int err, const char *what)
{
	if (!f->err) {
		f->err = err;
		f->what = what;
	}
}

static uint8_t nc_txbuf[65536];
static uint64_t nc_txbuf_seed, nc_txbuf_start, nc_txbuf_len;
static bool nc_txbuf_valid;

/* One non-blocking send step. */
static inline void nc_flow_tx(struct nc_flow *f, size_t chunk)
{
	const uint8_t *p;
	size_t want;
	ssize_t n;

	if (f->hdr_off < f->hdr_len) {
		n = send(f->fd, f->hdr + f->hdr_off, f->hdr_len - f->hdr_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				nc_flow_error(f, errno, "send");
			return;
		}
		f->hdr_off += n;
		if (f->hdr_off < f->hdr_len)
			return;
	}
	if (f->tx_off < f->tx_len) {
		if (chunk > sizeof(nc_txbuf))
			chunk = sizeof(nc_txbuf);
		want = f->tx_len - f->tx_off < chunk ? (size_t)(f->tx_len - f->tx_off) : chunk;
		if (nc_txbuf_valid && nc_txbuf_seed == f->tx_seed &&
		    f->tx_off >= nc_txbuf_start && f->tx_off < nc_txbuf_start + nc_txbuf_len) {
			p = nc_txbuf + (f->tx_off - nc_txbuf_start);
			if (want > nc_txbuf_start + nc_txbuf_len - f->tx_off)
				want = nc_txbuf_start + nc_txbuf_len - f->tx_off;
		} else {
			nc_gen(f->tx_seed, f->tx_off, nc_txbuf, want);
			nc_txbuf_valid = true;
			nc_txbuf_seed = f->tx_seed;
			nc_txbuf_start = f->tx_off;
			nc_txbuf_len = want;
			p = nc_txbuf;
		}
		n = send(f->fd, p, want, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				nc_flow_error(f, errno, "send");
			return;
		}
		f->tx_off += n;
	}
	if (f->tx_off == f->tx_len) {
		if (shutdown(f->fd, SHUT_WR))
			nc_flow_error(f, errno, "shutdown(SHUT_WR)");
		f->tx_done = true;
	}
}

/* One non-blocking receive step. */
static inline void nc_flow_rx(struct nc_flow *f, size_t chunk, uint64_t base)
{
	static uint8_t buf[65536];
	struct nc_xhdr h;
	uint8_t *p = buf;
	ssize_t n;
	size_t k;

	if (chunk > sizeof(buf))
		chunk = sizeof(buf);
	n = recv(f->fd, buf, chunk, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			nc_flow_error(f, errno, "recv");
		return;
	}
	if (n == 0) {
		f->rx_eof = true;
		if (f->want_hdr)
			nc_flow_error(f, EPROTO, "EOF before the request header");
		return;
	}
	if (f->want_hdr) {
		k = sizeof(h) - f->rhdr_off;
		if (k > (size_t)n)
			k = n;
		memcpy(f->rhdr + f->rhdr_off, p, k);
		f->rhdr_off += k;
		p += k;
		n -= k;
		if (f->rhdr_off < sizeof(h))
			return;
		memcpy(&h, f->rhdr, sizeof(h));
		if (h.magic != NC_XHDR_MAGIC) {
			nc_flow_error(f, EPROTO, "bad request header");
			return;
		}
		f->want_hdr = false;
		f->idx = h.idx;
		f->tx_seed = nc_seed_down(base, h.idx);
		f->tx_len = h.reply_len;
		f->tx_ready = true;
	}
	nc_hash_update(&f->rx_hash, p, n);
	f->rx_bytes += n;
}

static inline const char *nc_flow_state(const struct nc_flow *f)
{
	static char s[256];

	snprintf(s, sizeof(s), "idx %u: sent %llu/%llu%s, received %llu%s%s%s",
		 f->idx, (unsigned long long)f->tx_off, (unsigned long long)f->tx_len,
		 f->tx_done ? " +FIN" : "", (unsigned long long)f->rx_bytes,
		 f->rx_eof ? " +EOF" : "", f->err ? ", error in " : "",
		 f->err ? f->what : "");
	return s;
}

/*
 * Run flows fl[0..*nfl) until each has sent everything, half-closed and
 * read EOF (then its socket is closed, unless s->keep_open). With
 * @lfd >= 0, also accept @n_accept connections as server flows appended to
 * fl (capacity @cap). Returns 0 if every flow completed, -1 with
 * nc_err otherwise (timeout, or the first flow's error).
 */
static inline int nc_xspec_timeout(const struct nc_xspec *s)
{
	uint64_t total = (s->up + s->down) * (uint64_t)s->nsock;

	/* generous: 60 s plus 2 s per MiB, which is ~25x TCP on TCG */
	return s->timeout_ms ? s->timeout_ms : (int)(60000 + total / NC_MIB * 2000);
}

static inline int nc_flows_run(struct nc_flow *fl, int *nfl, int cap, int lfd,
			       int n_accept, const struct nc_xspec *s)
{
	size_t chunk = s->chunk ? s->chunk : 65536;
	uint64_t base = s->seed;
	int timeout_ms = nc_xspec_timeout(s);
	int64_t deadline = nc_now_ms() + timeout_ms;
	struct pollfd *pf = calloc(cap + 1, sizeof(*pf));
	int *map = calloc(cap + 1, sizeof(*map));
	int accepted = 0, i, np, r, fd, ret = 0, active;

	if (!pf || !map) {
		free(pf);
		free(map);
		return nc_fail(-ENOMEM, "out of memory");
	}
	for (;;) {
		np = 0;
		active = 0;
		if (lfd >= 0 && accepted < n_accept) {
			pf[np].fd = lfd;
			pf[np].events = POLLIN;
			map[np++] = -1;
		}
		for (i = 0; i < *nfl; i++) {
			struct nc_flow *f = &fl[i];

			if (f->closed)
				continue;
			if (nc_flow_finished(f)) {
				if (!s->keep_open || f->err)
					close(f->fd);
				f->closed = true;
				continue;
			}
			active++;
			pf[np].fd = f->fd;
			pf[np].events = (f->rx_eof ? 0 : POLLIN) |
				(f->tx_ready && !f->tx_done ? POLLOUT : 0);
			map[np++] = i;
		}
		if (!np)
			break;
		r = poll(pf, np, nc_left_ms(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int stuck = -1;

			for (i = 0; i < *nfl; i++)
				if (!fl[i].closed && stuck < 0)
					stuck = i;
			ret = nc_fail(-ETIMEDOUT, "transfer stuck for %d ms: %d of %d flows unfinished%s%s (accepted %d/%d)",
				      timeout_ms, active, *nfl, stuck >= 0 ? "; first: " : "",
				      stuck >= 0 ? nc_flow_state(&fl[stuck]) : "",
				      accepted, n_accept);
			goto out;
		}
		for (i = 0; i < np; i++) {
			if (!pf[i].revents)
				continue;
			if (map[i] < 0) {
				fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (fd < 0) {
					if (errno == EAGAIN || errno == EINTR)
						continue;
					ret = nc_fail(-errno, "accept: %s", strerror(errno));
					goto out;
				}
				if (*nfl >= cap) {
					close(fd);
					ret = nc_fail(-EMFILE, "more connections than expected");
					goto out;
				}
				nc_flow_init_server(&fl[*nfl], fd, *nfl, s);
				(*nfl)++;
				accepted++;
				continue;
			}
			if (pf[i].revents & (POLLIN | POLLERR | POLLHUP))
				nc_flow_rx(&fl[map[i]], chunk, base);
			if ((pf[i].revents & (POLLOUT | POLLERR | POLLHUP)) &&
			    fl[map[i]].tx_ready && !fl[map[i]].tx_done && !fl[map[i]].err)
				nc_flow_tx(&fl[map[i]], chunk);
		}
	}
	for (i = 0; i < *nfl; i++) {
		if (fl[i].err) {
			ret = nc_fail(-fl[i].err, "flow %s: %s", nc_flow_state(&fl[i]),
				      strerror(fl[i].err));
			break;
		}
	}
out:
	for (i = 0; i < *nfl; i++) {
		if (!fl[i].closed) {
			if (!s->keep_open || ret)
				close(fl[i].fd);
			fl[i].closed = true;
		}
	}
	free(pf);
	free(map);
	return ret;
}

static inline void nc_flow_result(const struct nc_flow *f, struct nc_flow_result *r)
{
	memset(r, 0, sizeof(*r));
	r->idx = f->idx;
	r->err = f->err;
	r->rx_bytes = f->rx_bytes;
	r->rx_hash = nc_hash_final(&f->rx_hash);
	r->tx_bytes = f->tx_off;
}

struct nc_srv_arg {
	int lfd;
	const struct nc_xspec *spec;
};

/* Server side (child): accept spec->nsock connections, run, report. */
static inline int nc_srv_main(void *arg, int wfd)
{
	const struct nc_srv_arg *a = arg;
	const struct nc_xspec *s = a->spec;
	struct nc_flow *fl = calloc(s->nsock, sizeof(*fl));
	struct nc_flow_result res;
	int nfl = 0, ret, i;

	if (!fl)
		return 1;
	ret = nc_flows_run(fl, &nfl, s->nsock, a->lfd, s->nsock, s);
	if (ret)
		fprintf(stderr, "[server] %s\n", nc_err);
	for (i = 0; i < nfl; i++) {
		nc_flow_result(&fl[i], &res);
		if (write(wfd, &res, sizeof(res)) != sizeof(res))
			ret = -1;
	}
	free(fl);
	return ret ? 1 : 0;
}

/*
 * Client side: connect spec->nsock sockets from namespace @ns to @ip:@port
 * and run them; fl must hold nsock flows. 0 or -1 with nc_err.
 */
static inline int nc_client_run(const struct nc_xspec *s, const char *ns,
				const char *ip, uint16_t port, struct nc_flow *fl)
{
	int i, fd, nfl = 0, ret;

	for (i = 0; i < s->nsock; i++) {
		fd = nc_connect_in(ns, ip, port, 20000);
		if (fd < 0) {
			ret = fd;
			goto fail;
		}
		nc_set_nonblock(fd, true);
		nc_flow_init_client(&fl[nfl++], fd, i, s);
	}
	return nc_flows_run(fl, &nfl, s->nsock, -1, 0, s);
fail:
	{
		char msg[sizeof(nc_err)];

		snprintf(msg, sizeof(msg), "%s", nc_err);
		nc_fail(ret, "socket %d of %d: %s", i, s->nsock, msg);
	}
	while (nfl--)
		close(fl[nfl].fd);
	return -1;
}

/* read() exactly @len bytes from a pipe within @timeout_ms: 0, -1 with nc_err. */
static inline int nc_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = nc_now_ms() + timeout_ms;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	size_t done = 0;
	ssize_t k;
	int r;

	while (done < len) {
		r = poll(&pf, 1, nc_left_ms(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return nc_fail(-ETIMEDOUT, "pipe: %zu of %zu bytes after %d ms",
				       done, len, timeout_ms);
		k = read(fd, (uint8_t *)buf + done, len - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return nc_fail(-EPIPE, "pipe: %zu of %zu bytes, then the writer exited",
				       done, len);
		done += k;
	}
	return 0;
}

/* Read @n server results from @rfd within @timeout_ms. 0 or -1. */
static inline int nc_read_results(int rfd, struct nc_flow_result *res, int n,
				  int timeout_ms)
{
	if (nc_read_full(rfd, res, n * sizeof(*res), timeout_ms)) {
		char msg[sizeof(nc_err)];

		snprintf(msg, sizeof(msg), "%s", nc_err);
		return nc_fail(-1, "server results: %s", msg);
	}
	return 0;
}

/* Check both directions of every connection against the streams. */
static inline int nc_xfer_verify(const struct nc_xspec *s,
				 const struct nc_flow_result *cli,
				 const struct nc_flow_result *srv)
{
	const struct nc_flow_result *r;
	char *seen = calloc(2 * s->nsock, 1);
	uint64_t want;
	int i, ret = 0;

	if (!seen)
		return nc_fail(-ENOMEM, "out of memory");
	for (i = 0; i < 2 * s->nsock && !ret; i++) {
		bool up = i < s->nsock;
		uint64_t len = up ? s->up : s->down;

		r = up ? &srv[i] : &cli[i - s->nsock];
		if (r->idx >= (uint32_t)s->nsock || seen[r->idx + (up ? 0 : s->nsock)]) {
			ret = nc_fail(-EPROTO, "%s result %d: bad or repeated idx %u",
				      up ? "server" : "client", i, r->idx);
			break;
		}
		seen[r->idx + (up ? 0 : s->nsock)] = 1;
		want = nc_gen_hash(up ? nc_seed_up(s->seed, r->idx) :
				   nc_seed_down(s->seed, r->idx), len);
		if (r->err || r->rx_bytes != len || r->rx_hash != want)
			ret = nc_fail(-EPROTO, "connection %u of %d, %s: received %llu of %llu bytes, hash %016llx (want %016llx)%s%s",
				      r->idx, s->nsock, up ? "a->b" : "b->a",
				      (unsigned long long)r->rx_bytes, (unsigned long long)len,
				      (unsigned long long)r->rx_hash, (unsigned long long)want,
				      r->err ? ", error: " : "", r->err ? strerror(r->err) : "");
	}
	free(seen);
	return ret;
}

struct nc_cli_arg {
	const struct nc_xspec *spec;
	uint16_t port;
	int ctl;		/* with keep_open: exit when this pipe says so */
};

/*
 * Client side in a child (ns a): run, write nsock results to @wfd; with
 * keep_open, keep the sockets until a byte (or EOF) arrives on a->ctl.
 */
static inline int nc_cli_main(void *arg, int wfd)
{
	const struct nc_cli_arg *a = arg;
	const struct nc_xspec *s = a->spec;
	struct nc_flow *fl = calloc(s->nsock, sizeof(*fl));
	struct nc_flow_result res;
	int ret, i;
	char c;

	if (!fl)
		return 1;
	ret = nc_client_run(s, NC_NS_A, NC_IP_B, a->port, fl);
	if (ret)
		fprintf(stderr, "[client] %s\n", nc_err);
	for (i = 0; i < s->nsock; i++) {
		nc_flow_result(&fl[i], &res);
		if (write(wfd, &res, sizeof(res)) != sizeof(res))
			ret = -1;
	}
	if (s->keep_open && a->ctl >= 0)
		nc_read_full(a->ctl, &c, 1, 600000);
	free(fl);
	return ret ? 1 : 0;
}

/*
 * A whole verified transfer: server in nc_b (child), client here in nc_a.
 * *@secs (if not NULL) gets the client's wall time. 0 or -1 with nc_err.
 */
static inline int nc_xfer(const struct nc_xspec *s, double *secs)
{
	uint16_t port = nc_next_port();
	int tmo = nc_xspec_timeout(s);
	struct nc_srv_arg sa = { .spec = s };
	struct nc_flow_result *res = calloc(s->nsock, sizeof(*res));
	struct nc_flow_result *cres = calloc(s->nsock, sizeof(*cres));
	struct nc_flow *cli = calloc(s->nsock, sizeof(*cli));
	int rfd = -1, ret, st, i;
	char msg[sizeof(nc_err)];
	double t0;
	pid_t pid;

	if (!res || !cli || !cres) {
		ret = nc_fail(-ENOMEM, "out of memory");
		goto out;
	}
	sa.lfd = nc_listen_in(NC_NS_B, port, s->nsock + 16);
	if (sa.lfd < 0) {
		ret = -1;
		goto out;
	}
	pid = nc_spawn(NC_NS_B, tmo / 1000 + 30, nc_srv_main, &sa, &rfd);
	close(sa.lfd);
	if (pid < 0) {
		ret = -1;
		goto out;
	}
	t0 = nc_now();
	ret = nc_client_run(s, NC_NS_A, NC_IP_B, port, cli);
	if (secs)
		*secs = nc_now() - t0;
	if (ret) {
		snprintf(msg, sizeof(msg), "%s", nc_err);
		kill(pid, SIGKILL);
		nc_child_wait(pid, 5000);
		nc_fail(-1, "client: %s", msg);
		goto out;
	}
	ret = nc_read_results(rfd, res, s->nsock, 30000);
	st = nc_child_wait(pid, 30000);
	if (ret)
		goto out;
	if (st != 0) {
		ret = nc_fail(-1, "server exited with status %d (see its stderr)", st);
		goto out;
	}
	for (i = 0; i < s->nsock; i++)
		nc_flow_result(&cli[i], &cres[i]);
	ret = nc_xfer_verify(s, cres, res);
out:
	if (rfd >= 0)
		close(rfd);
	free(res);
	free(cres);
	free(cli);
	return ret;
}

/* ------------------------------------------------------- test scaffolding */

static int nc_wd_secs;

static void nc_wd_handler(int sig)
{
	fail_msg("watchdog: the test is still running after %d s (a hang)", nc_wd_secs);
}

/* Fail the current cmocka test if it runs longer than @secs. */
static inline void nc_watchdog(int secs)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nc_wd_handler;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGALRM, &sa, NULL);
	nc_wd_secs = secs;
	alarm(secs);
}

/* Per-test teardown: no alarm, no children, no sockets, root namespace. */
static inline int nc_test_cleanup(void **state)
{
	alarm(0);
	nc_children_kill();
	nc_close_all_sockets();
	nc_ns_leave();
	return 0;
}

/* Group setup: the module (unless NC_PROTO=tcp) and the two hosts. */
static inline int nc_group_setup(void **state)
{
	int ret;

	signal(SIGPIPE, SIG_IGN);
	printf("# protocol: %s (NC_PROTO=%s)\n", nc_proto_name(),
	       getenv("NC_PROTO") ? getenv("NC_PROTO") : "");
	if (!nc_proto_tcp()) {
		ret = nc_module_load();
		if (ret) {
			fprintf(stderr, "loading %s: %s\n", NC_MODULE_PATH, strerror(-ret));
			return -1;
		}
	}
	if (nc_hosts_create()) {
		fprintf(stderr, "%s\n", nc_err);
		return -1;
	}
	return 0;
}

static inline int nc_group_teardown(void **state)
{
	int ret;

	nc_children_kill();
	nc_close_all_sockets();
	nc_hosts_destroy();
	if (!nc_proto_tcp()) {
		ret = nc_module_unload_wait(20000);
		if (ret) {
			fprintf(stderr, "unloading netchannel: %s\n", strerror(-ret));
			return -1;
		}
	}
	return 0;
}

/* fail_msg() with nc_err unless @cond. */
#define nc_assert(cond, ...) do {						\
	if (!(cond)) {								\
		char __m[512];							\
		snprintf(__m, sizeof(__m), __VA_ARGS__);			\
		fail_msg("%s: %s", __m, nc_err);				\
	}									\
} while (0)

#endif /* NC_NET_H */
