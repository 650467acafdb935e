// SPDX-License-Identifier: GPL-2.0
/*
 * libncpreload.so: run an unmodified program over NetChannel.
 *
 *   LD_PRELOAD=/nc/lib/libncpreload.so NC_PRELOAD="10.99.0.2:5201,*:6379" prog ...
 *
 * makes the program's stream sockets (IPv4 and IPv6) NetChannel sockets
 * (socket(AF_INET or AF_INET6, SOCK_STREAM, IPPROTO_NETCHANNEL)) when they connect() to,
 * or bind() to a local port of, one of the listed ADDR:PORT pairs; every other
 * socket is left alone.
 *
 * Why connect() and bind() and not socket(): at socket() time the address is
 * not known yet. So the program gets an ordinary TCP socket, and when it
 * connects or binds to a listed address we create a NetChannel socket, copy
 * what we can of the old one (O_NONBLOCK, FD_CLOEXEC, SOL_SOCKET and IP
 * options that differ from a fresh socket's, an explicit local binding), put
 * it on the same descriptor number with dup3() and then do the real call.
 * Sockets accepted from a converted listener are NetChannel sockets already.
 *
 * NetChannel sockets take the TCP-level options programs commonly set
 * (README, "TCP-level options"), so setsockopt(IPPROTO_TCP, ...) is passed
 * on; one the module refuses (ENOPROTOOPT, or EOPNOTSUPP for another
 * TCP_CONGESTION) returns 0 on a converted socket, since programs set such
 * options without expecting failure, and a failing getsockopt(IPPROTO_TCP,
 * ...) returns plausible values (TCP_NODELAY 1, TCP_MAXSEG 1448, TCP_INFO
 * zeroed with state ESTABLISHED, TCP_CONGESTION "netchannel", anything else
 * 0). The TCP-level options set before the conversion are copied.
 *
 * Environment:
 *   NC_PRELOAD          comma/space-separated rules ADDR:PORT; ADDR is an IPv4
 *                       address, an IPv6 one in brackets ([fd99::2]) or '*'
 *                       (any), PORT a number or '*'. An IPv4 ADDR also
 *                       matches an AF_INET6 socket using it v4-mapped.
 *                       connect(): the destination matches ADDR and PORT.
 *                       bind(): the local port matches PORT and the local
 *                       address is ADDR, or ADDR is '*', or the socket binds
 *                       the wildcard (0.0.0.0 or ::, which includes ADDR).
 *   NC_PRELOAD_PROTO    protocol of the new sockets (default 253). 6 (TCP) is
 *                       a test mode: conversions happen and are logged, but
 *                       the connection is plain TCP, so it works without the
 *                       module.
 *   NC_PRELOAD_DEBUG=1  log every conversion and ignored option.
 *   NC_PRELOAD_LOG=FILE append log lines to FILE instead of stderr (for
 *                       daemons that close stderr).
 *   NC_PRELOAD_FALLBACK=1  if the NetChannel socket cannot be created, leave
 *                       the TCP socket as it is (default: the connect()/bind()
 *                       fails with socket()'s errno, so a benchmark never
 *                       measures TCP while claiming NetChannel).
 *
 * Limits: a descriptor registered with epoll before connect()/bind() stays registered
 * on the old socket; descriptors duplicated with fcntl(F_DUPFD) are not
 * tracked in test mode.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "uapi/netchannel.h"

#define NC_EXPORT	__attribute__((visibility("default")))
#define MAX_RULES	64
#define MAX_TRACKED_FD	65536

struct nc_rule {
	bool any_addr;
	bool any_port;
	struct in6_addr addr;	/* an IPv4 one v4-mapped */
	uint16_t port;		/* host order */
};

static struct nc_rule rules[MAX_RULES];
static int nrules;
static int nc_proto = IPPROTO_NETCHANNEL;
static bool debug;
static bool fallback;
static const char *log_path;

/* Descriptors we converted (needed in test mode, where SO_PROTOCOL cannot
 * tell a converted socket from a TCP one). */
static unsigned long tracked[MAX_TRACKED_FD / (8 * sizeof(unsigned long))];

static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_close)(int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void nc_log(bool always, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n, m, fd = 2, saved = errno;

	if (!always && !debug)
		return;
	n = snprintf(buf, sizeof(buf), "ncpreload[%d]: ", (int)getpid());
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* Opened per line: daemons close every descriptor they did not open. */
	if (log_path)
		fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, buf, (size_t)n) < 0) {
			/* nowhere to report it */
		}
		if (fd != 2)
			real_close(fd);
	}
	errno = saved;
}

static void *sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		fprintf(stderr, "ncpreload: dlsym(%s): %s\n", name, dlerror());
		abort();
	}
	return p;
}

static void parse_rules(const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *tok;

	if (!copy)
		return;
	for (tok = strtok_r(copy, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save)) {
		struct nc_rule r = { 0 };
		char *colon = strrchr(tok, ':'), *end, *a;
		struct in_addr v4;
		unsigned long port;
		size_t n;

		if (nrules == MAX_RULES) {
			nc_log(true, "NC_PRELOAD: more than %d rules; ignoring the rest", MAX_RULES);
			break;
		}
		if (!colon) {
			nc_log(true, "NC_PRELOAD: '%s' is not ADDR:PORT; ignored", tok);
			continue;
		}
		*colon = '\0';
		a = tok;
		n = strlen(a);
		if (!strcmp(a, "*")) {
			r.any_addr = true;
		} else if (n > 2 && a[0] == '[' && a[n - 1] == ']') {
			a[n - 1] = '\0';
			if (inet_pton(AF_INET6, a + 1, &r.addr) != 1) {
				nc_log(true, "NC_PRELOAD: '%s]' is not an IPv6 address; ignored", a);
				continue;
			}
		} else if (inet_pton(AF_INET, a, &v4) == 1) {
			r.addr.s6_addr32[2] = htonl(0xffff);
			r.addr.s6_addr32[3] = v4.s_addr;
		} else {
			nc_log(true, "NC_PRELOAD: '%s' is not an IPv4 address, [IPv6] or '*'; ignored",
			       tok);
			continue;
		}
		if (!strcmp(colon + 1, "*")) {
			r.any_port = true;
		} else {
			errno = 0;
			port = strtoul(colon + 1, &end, 10);
			if (errno || end == colon + 1 || *end || port == 0 || port > 65535) {
				nc_log(true, "NC_PRELOAD: bad port '%s'; ignored", colon + 1);
				continue;
			}
			r.port = (uint16_t)port;
		}
		rules[nrules++] = r;
	}
	free(copy);
}

static void nc_init(void)
{
	const char *s;

	real_connect = sym("connect");
	real_bind = sym("bind");
	real_setsockopt = sym("setsockopt");
	real_getsockopt = sym("getsockopt");
	real_accept = sym("accept");
	real_accept4 = sym("accept4");
	real_close = sym("close");
	real_dup = sym("dup");
	real_dup2 = sym("dup2");
	real_dup3 = sym("dup3");

	s = getenv("NC_PRELOAD_DEBUG");
	debug = s && *s && strcmp(s, "0");
	s = getenv("NC_PRELOAD_FALLBACK");
	fallback = s && *s && strcmp(s, "0");
	/* copied: programs like redis-server overwrite their environment
	 * block to set the process title */
	s = getenv("NC_PRELOAD_LOG");
	log_path = s && *s ? strdup(s) : NULL;
	s = getenv("NC_PRELOAD_PROTO");
	if (s && *s) {
		char *end;
		long v = strtol(s, &end, 10);

		if (*end || v < 0 || v > 255)
			nc_log(true, "NC_PRELOAD_PROTO: bad protocol '%s'; using %d", s, nc_proto);
		else
			nc_proto = (int)v;
	}
	s = getenv("NC_PRELOAD");
	if (s)
		parse_rules(s);
	nc_log(false, "loaded: %d rule(s) from NC_PRELOAD=\"%s\", protocol %d%s", nrules,
	       s ? s : "", nc_proto, nc_proto == IPPROTO_TCP ? " (test mode: plain TCP)" : "");
}

static inline void ensure_init(void)
{
	pthread_once(&init_once, nc_init);
}

__attribute__((constructor)) static void nc_ctor(void)
{
	ensure_init();
}

/* ------------------------------------------------------------ fd tracking */

#define BITS_PER_WORD	(8 * sizeof(unsigned long))

static void track(int fd, bool on)
{
	unsigned long bit;

	if (fd < 0 || fd >= MAX_TRACKED_FD)
		return;
	bit = 1ul << (fd % BITS_PER_WORD);
	if (on)
		__atomic_fetch_or(&tracked[fd / BITS_PER_WORD], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&tracked[fd / BITS_PER_WORD], ~bit, __ATOMIC_RELAXED);
}

static bool is_tracked(int fd)
{
	if (fd < 0 || fd >= MAX_TRACKED_FD)
		return false;
	return __atomic_load_n(&tracked[fd / BITS_PER_WORD], __ATOMIC_RELAXED) &
	       (1ul << (fd % BITS_PER_WORD));
}

static int sock_int(int fd, int level, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (real_getsockopt(fd, level, opt, &v, &len))
		return -1;
	return v;
}

/* A NetChannel socket (ours, or one the program opened itself). */
static bool is_netchannel(int fd)
{
	if (nc_proto == IPPROTO_TCP)
		return is_tracked(fd);
	return sock_int(fd, SOL_SOCKET, SO_PROTOCOL) == nc_proto;
}

/* An IPv4 or IPv6 TCP socket that we have not converted yet. */
static bool is_candidate(int fd)
{
	int family = sock_int(fd, SOL_SOCKET, SO_DOMAIN);

	return !is_tracked(fd) && (family == AF_INET || family == AF_INET6) &&
	       sock_int(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM &&
	       sock_int(fd, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP;
}

/*
 * The address and port of an AF_INET or AF_INET6 @sa (IPv4 v4-mapped);
 * false for anything else.
 */
static bool sa_addr(const struct sockaddr *sa, socklen_t len, struct in6_addr *a,
		    uint16_t *port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET && len >= sizeof(*sin)) {
		memset(a, 0, sizeof(*a));
		a->s6_addr32[2] = htonl(0xffff);
		a->s6_addr32[3] = sin->sin_addr.s_addr;
		*port = ntohs(sin->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(*sin6)) {
		*a = sin6->sin6_addr;
		*port = ntohs(sin6->sin6_port);
		return true;
	}
	return false;
}

/* 0.0.0.0 (v4-mapped) or :: */
static bool addr_any(const struct in6_addr *a)
{
	return !a->s6_addr32[0] && !a->s6_addr32[1] && !a->s6_addr32[3] &&
	       (!a->s6_addr32[2] || a->s6_addr32[2] == htonl(0xffff));
}

static bool match(const struct sockaddr *sa, socklen_t len, bool is_bind)
{
	struct in6_addr a;
	uint16_t port;
	int i;

	if (!sa_addr(sa, len, &a, &port))
		return false;
	for (i = 0; i < nrules; i++) {
		const struct nc_rule *r = &rules[i];

		if (!r->any_port && r->port != port)
			continue;
		if (r->any_addr || !memcmp(&r->addr, &a, sizeof(a)) ||
		    (is_bind && addr_any(&a)))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ conversion */

struct opt_desc {
	int level, opt;
	const char *name;
	socklen_t len;
	bool halve;	/* the kernel doubles what is set: set half of what is read */
};

static const struct opt_desc copied_opts[] = {
	{ SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", sizeof(int), false },
	{ SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", sizeof(int), false },
	{ SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", sizeof(int), false },
	{ SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE", sizeof(int), false },
	{ SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY", sizeof(int), false },
	{ SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT", sizeof(int), false },
	{ SOL_SOCKET, SO_MARK, "SO_MARK", sizeof(int), false },
	{ SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", sizeof(int), true },
	{ SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", sizeof(int), true },
	{ SOL_SOCKET, SO_LINGER, "SO_LINGER", sizeof(struct linger), false },
	{ SOL_SOCKET, SO_RCVTIMEO, "SO_RCVTIMEO", sizeof(struct timeval), false },
	{ SOL_SOCKET, SO_SNDTIMEO, "SO_SNDTIMEO", sizeof(struct timeval), false },
	{ SOL_SOCKET, SO_BINDTODEVICE, "SO_BINDTODEVICE", 16 /* IFNAMSIZ */, false },
	{ IPPROTO_IP, IP_TOS, "IP_TOS", sizeof(int), false },
	{ IPPROTO_IP, IP_TTL, "IP_TTL", sizeof(int), false },
	{ IPPROTO_IP, IP_FREEBIND, "IP_FREEBIND", sizeof(int), false },
	{ IPPROTO_IP, IP_TRANSPARENT, "IP_TRANSPARENT", sizeof(int), false },
	{ IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", sizeof(int), false },
	{ IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", sizeof(int), false },
	{ IPPROTO_TCP, TCP_CORK, "TCP_CORK", sizeof(int), false },
	{ IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", sizeof(int), false },
	{ IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", sizeof(int), false },
	{ IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", sizeof(int), false },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", sizeof(int), false },
};

/* Copy every option of `from` whose value differs from the fresh `to`'s. */
static void copy_options(int from, int to)
{
	size_t i;

	for (i = 0; i < sizeof(copied_opts) / sizeof(copied_opts[0]); i++) {
		const struct opt_desc *d = &copied_opts[i];
		unsigned char a[64], b[64];
		socklen_t la = d->len, lb = d->len;

		memset(a, 0, sizeof(a));
		memset(b, 0, sizeof(b));
		if (real_getsockopt(from, d->level, d->opt, a, &la) ||
		    real_getsockopt(to, d->level, d->opt, b, &lb))
			continue;
		if (la == lb && !memcmp(a, b, la))
			continue;
		if (d->halve) {
			int v;

			memcpy(&v, a, sizeof(v));
			v /= 2;
			memcpy(a, &v, sizeof(v));
		}
		if (real_setsockopt(to, d->level, d->opt, a, la))
			nc_log(false, "fd %d: could not copy %s: %s", from, d->name, strerror(errno));
		else
			nc_log(false, "fd %d: copied %s", from, d->name);
	}
}

/*
 * Replace fd with a fresh NetChannel socket, keeping its number, flags and
 * options. 0 on success (or when falling back to TCP), -1 with errno.
 */
static int convert(int fd, const char *why, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	bool rebind = false;
	int nfd, fl, fdfl, e, family = sa->sa_family;
	char ip[INET6_ADDRSTRLEN], addr[INET6_ADDRSTRLEN + 10];
	struct in6_addr a;
	uint16_t port;

	/* "a.b.c.d:port" or "[v6]:port", for the log */
	sa_addr(sa, len, &a, &port);
	if (family == AF_INET) {
		inet_ntop(AF_INET, &a.s6_addr32[3], ip, sizeof(ip));
		snprintf(addr, sizeof(addr), "%s:%u", ip, port);
	} else {
		inet_ntop(AF_INET6, &a, ip, sizeof(ip));
		snprintf(addr, sizeof(addr), "[%s]:%u", ip, port);
	}
	/* the socket's own family: an AF_INET6 one may use a v4-mapped address */
	family = sock_int(fd, SOL_SOCKET, SO_DOMAIN);
	nfd = socket(family, SOCK_STREAM, nc_proto);
	if (nfd < 0) {
		e = errno;
		if (fallback) {
			nc_log(true, "fd %d: %s %s: cannot create a protocol %d socket (%s); "
			       "staying TCP (NC_PRELOAD_FALLBACK)", fd, why, addr,
			       nc_proto, strerror(e));
			return 0;
		}
		nc_log(true, "fd %d: %s %s: cannot create a protocol %d socket: %s", fd,
		       why, addr, nc_proto, strerror(e));
		errno = e;
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(nfd, F_SETFL, fcntl(nfd, F_GETFL) | O_NONBLOCK);
	copy_options(fd, nfd);
	/* A client that bound a local address before connect() keeps it. */
	if (!strcmp(why, "connect") && !getsockname(fd, (struct sockaddr *)&local, &llen) &&
	    sa_addr((struct sockaddr *)&local, llen, &a, &port) && (port || !addr_any(&a)))
		rebind = true;
	if (real_dup3(nfd, fd, fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		e = errno;
		real_close(nfd);
		nc_log(true, "fd %d: dup3: %s", fd, strerror(e));
		errno = e;
		return -1;
	}
	real_close(nfd);
	track(fd, true);
	if (rebind && real_bind(fd, (struct sockaddr *)&local, llen)) {
		e = errno;
		nc_log(true, "fd %d: re-binding the converted socket: %s", fd, strerror(e));
		errno = e;
		return -1;
	}
	nc_log(false, "fd %d: %s %s -> converted to protocol %d%s%s", fd, why, addr,
	       nc_proto, fl >= 0 && (fl & O_NONBLOCK) ? " (nonblocking)" : "",
	       nc_proto == IPPROTO_TCP ? " (test mode)" : "");
	return 0;
}

/* ------------------------------------------------------------ interposed */

NC_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	ensure_init();
	if (nrules && match(sa, len, false) && is_candidate(fd) &&
	    convert(fd, "connect", sa, len))
		return -1;
	return real_connect(fd, sa, len);
}

NC_EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	ensure_init();
	if (nrules && match(sa, len, true) && is_candidate(fd) &&
	    convert(fd, "bind", sa, len))
		return -1;
	return real_bind(fd, sa, len);
}

static int accepted(int lfd, int fd)
{
	if (fd >= 0 && is_tracked(lfd)) {
		track(fd, true);
		nc_log(false, "fd %d: accepted on converted listener fd %d", fd, lfd);
	}
	return fd;
}

NC_EXPORT int accept(int lfd, struct sockaddr *sa, socklen_t *len)
{
	ensure_init();
	return accepted(lfd, real_accept(lfd, sa, len));
}

NC_EXPORT int accept4(int lfd, struct sockaddr *sa, socklen_t *len, int flags)
{
	ensure_init();
	return accepted(lfd, real_accept4(lfd, sa, len, flags));
}

NC_EXPORT int close(int fd)
{
	ensure_init();
	track(fd, false);
	return real_close(fd);
}

NC_EXPORT int dup(int fd)
{
	int nfd;

	ensure_init();
	nfd = real_dup(fd);
	if (nfd >= 0 && is_tracked(fd))
		track(nfd, true);
	return nfd;
}

NC_EXPORT int dup2(int fd, int nfd)
{
	int r;

	ensure_init();
	r = real_dup2(fd, nfd);
	if (r >= 0 && fd != nfd)
		track(nfd, is_tracked(fd));
	return r;
}

NC_EXPORT int dup3(int fd, int nfd, int flags)
{
	int r;

	ensure_init();
	r = real_dup3(fd, nfd, flags);
	if (r >= 0)
		track(nfd, is_tracked(fd));
	return r;
}

static const char *tcp_opt_name(int opt)
{
	switch (opt) {
	case TCP_NODELAY: return "TCP_NODELAY";
	case TCP_MAXSEG: return "TCP_MAXSEG";
	case TCP_CORK: return "TCP_CORK";
	case TCP_KEEPIDLE: return "TCP_KEEPIDLE";
	case TCP_KEEPINTVL: return "TCP_KEEPINTVL";
	case TCP_KEEPCNT: return "TCP_KEEPCNT";
	case TCP_INFO: return "TCP_INFO";
	case TCP_QUICKACK: return "TCP_QUICKACK";
	case TCP_CONGESTION: return "TCP_CONGESTION";
	case TCP_USER_TIMEOUT: return "TCP_USER_TIMEOUT";
	case TCP_NOTSENT_LOWAT: return "TCP_NOTSENT_LOWAT";
	default: return "TCP option";
	}
}

NC_EXPORT int setsockopt(int fd, int level, int opt, const void *val, socklen_t len)
{
	int r;

	ensure_init();
	r = real_setsockopt(fd, level, opt, val, len);
	if (r && level == IPPROTO_TCP && (errno == ENOPROTOOPT || errno == EOPNOTSUPP) &&
	    is_netchannel(fd)) {
		nc_log(false, "fd %d: setsockopt(IPPROTO_TCP, %s=%d) refused by NetChannel (%s); "
		       "returned 0", fd, tcp_opt_name(opt), opt, strerror(errno));
		return 0;
	}
	return r;
}

NC_EXPORT int getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
	int r, e, v;

	ensure_init();
	r = real_getsockopt(fd, level, opt, val, len);
	if (r == 0 || level != IPPROTO_TCP || !val || !len || !is_netchannel(fd))
		return r;
	e = errno;
	switch (opt) {
	case TCP_INFO: {
		struct tcp_info ti;

		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state = TCP_ESTABLISHED;
		ti.tcpi_snd_mss = 1448;
		ti.tcpi_rcv_mss = 1448;
		if (*len > sizeof(ti))
			*len = sizeof(ti);
		memcpy(val, &ti, *len);
		break;
	}
	case TCP_CONGESTION: {
		static const char name[16] = "netchannel";

		if (*len > sizeof(name))
			*len = sizeof(name);
		memcpy(val, name, *len);
		break;
	}
	default:
		v = opt == TCP_NODELAY ? 1 : opt == TCP_MAXSEG ? 1448 : 0;
		if (*len >= sizeof(int)) {
			*len = sizeof(int);
			memcpy(val, &v, sizeof(int));
		} else {
			memset(val, 0, *len);
		}
	}
	nc_log(false, "fd %d: getsockopt(IPPROTO_TCP, %s=%d) failed (%s) on a NetChannel "
	       "socket; returned a plausible value", fd, tcp_opt_name(opt), opt, strerror(e));
	return 0;
}
