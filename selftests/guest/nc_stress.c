// SPDX-License-Identifier: GPL-2.0
/*
 * nc_stress: a socket-API stress for NetChannel. Client threads in ncs_c
 * run random sequences of socket/setsockopt/connect/send/recv/poll/
 * shutdown/close (and bind/listen/accept, ioctl, getsockopt) against
 * echoing, closing and aborting server threads in ncs_l, while a churn
 * thread deletes and re-creates ncs_l every few hundred milliseconds.
 * Every blocking call is bounded (SO_RCVTIMEO/SO_SNDTIMEO or poll); every
 * errno outside the documented set is a failure, as is a thread that does
 * not finish, corrupted echo data, or a socket left behind. See usage().
 */
#include "nc_net.h"

#include <pthread.h>
#include <stdatomic.h>
#include <linux/sockios.h>

/* the library's two hosts (nc_hosts_create_ns()) under other names */
#define NS_C		"ncs_c"
#define NS_L		"ncs_l"
#define IP_C		NC_IP_A
#define IP_L		NC_IP_B
#define IP_NOHOST	"10.99.0.99"	/* on the link, nobody answers ARP */
#define PORT_L		7500		/* the servers' listener in ncs_l */
#define PORT_NONE	7509		/* nobody listens */
#define PORT_LOCAL	7510		/* client threads listen here in ncs_c */

#define MAX_THREADS	64
#define SLOTS		3		/* sockets per client thread */
#define SRV_CONNS	16		/* connections per server thread */
#define ECHO_BUF	(64 * 1024)
#define TX_BUF		(1024 * 1024)

static struct {
	int threads;
	int servers;
	int seconds;
	int churn_ms;
	uint64_t seed;
	bool rmmod;
	bool verbose;
	bool no_listen;
	bool no_early_fin;
} opt = { .threads = 4, .servers = 2, .seconds = 30, .churn_ms = 300, .seed = 1 };

static void usage(FILE *f)
{
	fprintf(f,
"Usage: nc_stress [--threads N] [--seconds S] [OPTIONS]\n"
"\n"
"Socket-API stress for NetChannel. Run it as root in the guest with\n"
"netchannel.ko loaded. It creates namespaces " NS_C " (" IP_C ", clients) and\n"
NS_L " (" IP_L ", servers) joined by a veth, and deletes them at the end.\n"
"\n"
"Client threads run random sequences of socket(AF_INET, SOCK_STREAM, 253),\n"
"setsockopt (SO_RCVBUF, SO_SNDBUF, SO_LINGER on/0, on/1 and off, SO_RCVTIMEO,\n"
"SO_SNDTIMEO, TCP_NODELAY and an IPPROTO_TCP option that must fail), connect (to the\n"
"servers, to a port nobody listens on, to an address nobody answers, to\n"
"loopback, to port 0), send and recv with random sizes and flags\n"
"(MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL with small sizes, MSG_MORE, MSG_TRUNC,\n"
"with and without MSG_NOSIGNAL), shutdown(SHUT_RD/WR/RDWR), poll, close,\n"
"bind/listen/accept, ioctl(FIONREAD/SIOCOUTQ), getsockopt(SO_ERROR),\n"
"getsockname/getpeername. Server threads in " NS_L " accept and then echo,\n"
"stop reading, half-close, close or abort. A churn thread deletes " NS_L "\n"
"(its veth first, or after) and re-creates it with a new listener every\n"
"few hundred ms. Echoed bytes are checked against what was sent.\n"
"\n"
"Every blocking call is bounded by SO_RCVTIMEO/SO_SNDTIMEO (10..300 ms) or a\n"
"poll timeout. Expected errnos: EAGAIN EINPROGRESS EALREADY EISCONN ENOTCONN\n"
"ECONNRESET ECONNREFUSED ECONNABORTED EPIPE ETIMEDOUT ENETUNREACH\n"
"EHOSTUNREACH ENETDOWN EINVAL EADDRINUSE EADDRNOTAVAIL EINTR, EAFNOSUPPORT\n"
"for the AF_UNSPEC connect, ENOPROTOOPT for IPPROTO_TCP options; any other\n"
"errno is a failure.\n"
"\n"
"Options:\n"
"  --threads N    client threads (1..%d, default 4)\n"
"  --servers N    server threads (1..16, default 2)\n"
"  --seconds S    run time (default 30)\n"
"  --churn-ms M   mean time between namespace re-creations (default 300;\n"
"                 0: never)\n"
"  --seed S       random seed (default 1)\n"
"  --rmmod        rmmod netchannel at the end (and fail if it is refused)\n"
"  --no-listen    client threads never bind/listen/accept (steers clear of\n"
"                 bugs in reusing a listener after shutdown(SHUT_RD))\n"
"  --no-early-fin never shutdown() a socket that is still connecting\n"
"                 (steers clear of the bugs of a CLOSE queued before the\n"
"                 ACCEPT)\n"
"  --verbose      log every namespace re-creation\n"
"  -h, --help     this text\n"
"\n"
"Checks: setup, no malformed frame between the two hosts (every err_*\n"
"counter of /proc/net/netchannel/stats stays 0: there is no rogue here),\n"
"no unexpected errno, echo data byte-exact, every thread\n"
"finished within S+30 s, some connects succeeded, every NetChannel socket\n"
"gone at the end (the module's reference count back to where it started,\n"
"so rmmod would succeed), then \"N passed, M failed\". Exit 0 if all\n"
"passed, 1 otherwise, 2 on usage.\n", MAX_THREADS);
}

/* ------------------------------------------------------------ errors */

static atomic_bool stop_all;
static atomic_int setup_errors;
static atomic_ullong corrupt;

static atomic_ullong errno_hist[4096];

struct unexpected {
	const char *op;
	int err;
	unsigned long long n;
};

static struct unexpected unexp[64];
static int n_unexp;
static atomic_ullong unexp_total;

/* A client thread's socket. */
struct slot {
	int fd;
	bool listening;
	bool targeted;		/* connect() was called */
	bool verify;		/* connected (or connecting) to the echo servers */
	bool failed;		/* a call failed with a connection error */
	uint64_t seed;
	uint64_t tx_off, rx_off;
};

static __thread struct slot *cur_slot;	/* the socket a client op is on */

static bool errno_expected(int e, const char *op)
{
	switch (e) {
	case EAGAIN: case EINPROGRESS: case EALREADY: case EISCONN:
	case ENOTCONN: case ECONNRESET: case ECONNREFUSED: case ECONNABORTED:
	case EPIPE: case ETIMEDOUT: case ENETUNREACH: case EHOSTUNREACH:
	case ENETDOWN: case EINVAL: case EADDRINUSE: case EADDRNOTAVAIL:
	case EINTR:
		return true;
	case EAFNOSUPPORT:
		return !strcmp(op, "connect(AF_UNSPEC)");
	case ENOPROTOOPT:
		return !strcmp(op, "setsockopt(IPPROTO_TCP)");
	default:
		return false;
	}
}

/* SO_PROTOCOL: 6 once a refused connect has fallen back to TCP. */
static int sock_protocol(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len))
		return -errno;
	return v;
}

/* A call failed with @e: count it, and remember it if unexpected. */
static void op_err(const char *op, int e)
{
	int i;

	if (cur_slot && (e == ECONNRESET || e == EPIPE || e == ETIMEDOUT ||
			 e == ECONNREFUSED || e == ENETUNREACH || e == EHOSTUNREACH))
		cur_slot->failed = true;

	atomic_fetch_add(&errno_hist[e > 0 && e < 4096 ? e : 0], 1);
	if (errno_expected(e, op))
		return;
	atomic_fetch_add(&unexp_total, 1);
	nc_log_lock();
	for (i = 0; i < n_unexp; i++)
		if (unexp[i].err == e && !strcmp(unexp[i].op, op))
			break;
	if (i == n_unexp && n_unexp < 64) {
		unexp[n_unexp++] = (struct unexpected){ op, e, 0 };
		printf("# UNEXPECTED: %s: %s (errno %d)\n", op, strerror(e), e);
		fflush(stdout);
	}
	if (i < n_unexp)
		unexp[i].n++;
	nc_log_unlock();
}

__attribute__((format(printf, 1, 2)))
static void setup_error(const char *fmt, ...)
{
	va_list ap;

	nc_log_lock();
	printf("# setup error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	nc_log_unlock();
	atomic_fetch_add(&setup_errors, 1);
}

/* Per-thread progress, for the hang report. */
struct tstate {
	pthread_t t;
	const char *name;
	int idx;
	const char * _Atomic op;
	_Atomic int64_t op_since;
	atomic_bool done;
};

static struct tstate ts[MAX_THREADS + 20];
static int nts;

static void op_begin(struct tstate *t, const char *op)
{
	atomic_store(&t->op, op);
	atomic_store(&t->op_since, nc_now_ms());
}

/* --------------------------------------------------------- counters */

enum {
	O_SOCKET, O_SETSOCKOPT, O_CONNECT, O_SEND, O_RECV, O_SHUTDOWN, O_POLL,
	O_CLOSE, O_IOCTL, O_GETSOCKOPT, O_LISTEN, O_ACCEPT, O_GETNAME, O__N
};

static const char *const op_names[O__N] = {
	"socket", "setsockopt", "connect", "send", "recv", "shutdown", "poll",
	"close", "ioctl", "getsockopt", "bind/listen", "accept", "getname",
};

static atomic_ullong n_ops[O__N], n_ok[O__N];
static atomic_ullong bytes_sent, bytes_verified, connects_ok, echo_srv_bytes;
static atomic_ullong srv_accepted, churns, churn_fail;
static atomic_ullong fallbacks_seen;	/* sockets found to be TCP after a refusal */

/* ------------------------------------------------------ namespaces */

/*
 * Protocol errors the host @name counted (every err_* of its stats): there
 * is no rogue here, so each one is a malformed frame a NetChannel host sent.
 */
static atomic_ullong proto_errs;
static char proto_err_names[256];

static uint64_t ns_proto_errs(const char *name)
{
	struct nc_stats st;
	uint64_t sum = 0;
	int i;

	nc_stats_snap(name, &st);	/* none if @name is gone */
	for (i = 0; i < st.n; i++) {
		if (strncmp(st.name[i], "err_", 4))
			continue;
		if (st.val[i] && strlen(proto_err_names) + strlen(st.name[i]) + 24 <
		    sizeof(proto_err_names))
			snprintf(proto_err_names + strlen(proto_err_names),
				 sizeof(proto_err_names) - strlen(proto_err_names),
				 " %s:%s+%llu", name, st.name[i],
				 (unsigned long long)st.val[i]);
		sum += st.val[i];
	}
	return sum;
}

/* The listener side's link and namespace: both may be gone already. */
static void peer_delete(bool link_first)
{
	if (link_first)
		nc_run("ip -n " NS_C " link del " NC_DEV_A " 2>/dev/null");
	nc_host_del(NS_L);
	if (!link_first)
		nc_run("ip -n " NS_C " link del " NC_DEV_A " 2>/dev/null");
}

/* ncs_l again, and its link to ncs_c as nc_hosts_create_ns() made it */
static int peer_create(void)
{
	return nc_host_add(NS_L) || nc_hosts_link(NS_C, NS_L) ? -1 : 0;
}

/* A NetChannel listener on PORT_L in the current ncs_l. */
static int peer_listen(struct nc_rng *r)
{
	int rcvbuf = nc_chance(r, 0.3) ? (int)nc_rnd_in(r, 4096, 262144) : 0;
	int fd = nc_listen_opts(NS_L, PORT_L, nc_rnd_in(r, 1, 128), SOCK_NONBLOCK,
				rcvbuf);

	if (fd < 0) {
		setup_error("listener in %s: %s", NS_L, nc_err);
		return -1;
	}
	return fd;
}

/* ---------------------------------------------------- the listener */

static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static int cur_lfd = -1;
static int cur_gen;
static int64_t t_end;

static void *churn_main(void *arg)
{
	struct tstate *t = arg;
	struct nc_rng r = { opt.seed ^ 0xc4c4c4c4ULL };
	int lfd;
	bool link_first;

	while (!atomic_load(&stop_all) && nc_now_ms() < t_end) {
		op_begin(t, "sleep");
		nc_sleep_ms(nc_rnd_in(&r, opt.churn_ms / 2, opt.churn_ms * 3 / 2));
		if (nc_now_ms() >= t_end)
			break;
		link_first = nc_chance(&r, 0.5);
		pthread_mutex_lock(&gen_lock);
		if (cur_lfd >= 0 && nc_chance(&r, 0.3))
			shutdown(cur_lfd, SHUT_RD);	/* stop listening first */
		pthread_mutex_unlock(&gen_lock);
		op_begin(t, "delete the peer namespace");
		atomic_fetch_add(&proto_errs, ns_proto_errs(NS_L));
		peer_delete(link_first);
		pthread_mutex_lock(&gen_lock);
		if (cur_lfd >= 0)
			close(cur_lfd);
		cur_lfd = -1;
		cur_gen++;
		pthread_mutex_unlock(&gen_lock);
		op_begin(t, "peer absent");
		nc_sleep_ms(nc_rnd(&r, 200));
		op_begin(t, "create the peer namespace");
		if (peer_create()) {
			atomic_fetch_add(&churn_fail, 1);
			nc_logf("# churn: re-creating %s failed; retrying\n", NS_L);
			peer_delete(true);
			continue;
		}
		lfd = peer_listen(&r);
		pthread_mutex_lock(&gen_lock);
		cur_lfd = lfd;
		cur_gen++;
		pthread_mutex_unlock(&gen_lock);
		atomic_fetch_add(&churns, 1);
		if (opt.verbose)
			nc_logf("# churn: %s re-created (generation %d)\n", NS_L, cur_gen);
	}
	atomic_store(&t->done, true);
	return NULL;
}

/* ---------------------------------------------------------- servers */

enum { S_ECHO, S_NOREAD, S_CLOSE_NOW, S_ABORT_NOW, S_HALF, S_ABORT_LATER, S__N };

struct sconn {
	int fd;
	int gen;
	int mode;
	int64_t die;
	uint8_t *buf;
	size_t len, off;	/* echo bytes pending: buf[off..len) */
	bool eof;
};

static void srv_close(struct sconn *c, bool abort_it)
{
	struct linger l = { 1, 0 };

	if (abort_it)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(c->fd);
	c->fd = -1;
}

static void *server_main(void *arg)
{
	struct tstate *t = arg;
	struct nc_rng r = { opt.seed * 31 + 0x5e5e * (t->idx + 1) };
	struct sconn sc[SRV_CONNS];
	struct pollfd pf[SRV_CONNS + 1];
	int map[SRV_CONNS + 1];
	int lfd = -1, gen = -1, i, np, n, fd;
	int64_t now;
	ssize_t k;

	for (i = 0; i < SRV_CONNS; i++) {
		sc[i].fd = -1;
		sc[i].buf = malloc(ECHO_BUF);
		if (!sc[i].buf) {
			setup_error("out of memory");
			goto out;
		}
	}
	while (!atomic_load(&stop_all)) {
		pthread_mutex_lock(&gen_lock);
		if (gen != cur_gen) {
			if (lfd >= 0)
				close(lfd);
			lfd = cur_lfd >= 0 ? fcntl(cur_lfd, F_DUPFD_CLOEXEC, 0) : -1;
			gen = cur_gen;
			pthread_mutex_unlock(&gen_lock);
			/* connections into a deleted namespace: some go at once */
			for (i = 0; i < SRV_CONNS; i++)
				if (sc[i].fd >= 0 && sc[i].gen != gen && nc_chance(&r, 0.5))
					srv_close(&sc[i], nc_chance(&r, 0.5));
		} else {
			pthread_mutex_unlock(&gen_lock);
		}
		np = 0;
		if (lfd >= 0) {
			pf[np] = (struct pollfd){ .fd = lfd, .events = POLLIN };
			map[np++] = -1;
		}
		for (i = 0; i < SRV_CONNS; i++) {
			struct sconn *c = &sc[i];

			if (c->fd < 0)
				continue;
			pf[np].fd = c->fd;
			pf[np].events = 0;
			if (c->mode != S_NOREAD && !c->eof && c->len < ECHO_BUF)
				pf[np].events |= POLLIN;
			if (c->off < c->len)
				pf[np].events |= POLLOUT;
			map[np++] = i;
		}
		op_begin(t, "poll");
		n = poll(pf, np, 20);
		if (n < 0 && errno != EINTR)
			op_err("server poll", errno);
		now = nc_now_ms();
		for (i = 0; i < np && n > 0; i++) {
			struct sconn *c;

			if (!pf[i].revents)
				continue;
			if (map[i] < 0) {
				op_begin(t, "accept");
				fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (fd < 0) {
					if (errno != EAGAIN)
						op_err("server accept", errno);
					if (errno == EINVAL) {
						/* shut down: wait for the next one */
						close(lfd);
						lfd = -1;
					}
					continue;
				}
				atomic_fetch_add(&srv_accepted, 1);
				for (k = 0; k < SRV_CONNS && sc[k].fd >= 0; k++)
					;
				if (k == SRV_CONNS) {
					close(fd);
					continue;
				}
				c = &sc[k];
				c->fd = fd;
				c->gen = gen;
				c->len = c->off = 0;
				c->eof = false;
				c->die = now + nc_rnd_in(&r, 50, 3000);
				k = nc_rnd(&r, 100);
				c->mode = k < 70 ? S_ECHO : k < 80 ? S_NOREAD : k < 85 ?
					S_CLOSE_NOW : k < 90 ? S_ABORT_NOW : k < 95 ? S_HALF :
					S_ABORT_LATER;
				if (c->mode == S_CLOSE_NOW || c->mode == S_ABORT_NOW)
					srv_close(c, c->mode == S_ABORT_NOW);
				else if (c->mode == S_HALF && shutdown(fd, SHUT_WR))
					op_err("server shutdown", errno);
				continue;
			}
			c = &sc[map[i]];
			if (c->fd < 0)
				continue;
			if (pf[i].revents & (POLLIN | POLLERR | POLLHUP)) {
				if (c->off == c->len)
					c->off = c->len = 0;
				op_begin(t, "server recv");
				k = c->mode == S_NOREAD ? -1 :
					recv(c->fd, c->buf + c->len, ECHO_BUF - c->len,
					     MSG_DONTWAIT);
				if (k > 0) {
					c->len += k;
					if (c->mode == S_HALF)
						c->off = c->len;	/* read, no echo */
				} else if (k == 0) {
					c->eof = true;
				} else if (c->mode != S_NOREAD && errno != EAGAIN) {
					op_err("server recv", errno);
					srv_close(c, false);
					continue;
				} else if (pf[i].revents & (POLLERR | POLLHUP) &&
					   c->mode == S_NOREAD) {
					srv_close(c, false);
					continue;
				}
			}
			if ((pf[i].revents & (POLLOUT | POLLERR | POLLHUP)) && c->off < c->len) {
				op_begin(t, "server send");
				k = send(c->fd, c->buf + c->off, c->len - c->off,
					 MSG_DONTWAIT | MSG_NOSIGNAL);
				if (k > 0) {
					c->off += k;
					atomic_fetch_add(&echo_srv_bytes, k);
				} else if (errno != EAGAIN) {
					op_err("server send", errno);
					srv_close(c, true);	/* never a short echo */
					continue;
				}
			}
		}
		for (i = 0; i < SRV_CONNS; i++) {
			struct sconn *c = &sc[i];

			if (c->fd < 0)
				continue;
			if (c->eof && c->off == c->len) {
				if (c->mode == S_ECHO && nc_chance(&r, 0.5))
					shutdown(c->fd, SHUT_WR);
				srv_close(c, false);
			} else if (now >= c->die) {
				srv_close(c, c->mode == S_ABORT_LATER || nc_chance(&r, 0.2));
			}
		}
	}
out:
	for (i = 0; i < SRV_CONNS; i++) {
		if (sc[i].fd >= 0)
			srv_close(&sc[i], nc_chance(&r, 0.5));
		free(sc[i].buf);
	}
	if (lfd >= 0)
		close(lfd);
	atomic_store(&t->done, true);
	return NULL;
}

/* ---------------------------------------------------------- clients */


static void slot_new(struct slot *s, int fd, struct nc_rng *r)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->seed = nc_rnd64(r);
}

static void set_timeo(int fd, int opt_, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, opt_, &tv, sizeof(tv)))
		op_err("setsockopt(SO_*TIMEO)", errno);
}

/* One random operation on a random slot of this thread. */
static void client_op(struct tstate *t, struct nc_rng *r, struct slot *sl,
		      uint8_t *buf, uint8_t *exp)
{
	/* weights by the socket's state: a fresh one mostly connects, a
	 * connected one mostly moves data, a failed one is mostly closed */
	static const int w_fresh[O__N] = {
		[O_SETSOCKOPT] = 20, [O_CONNECT] = 60, [O_SEND] = 2, [O_RECV] = 2,
		[O_SHUTDOWN] = 2, [O_POLL] = 4, [O_CLOSE] = 4, [O_IOCTL] = 1,
		[O_GETSOCKOPT] = 1, [O_LISTEN] = 3, [O_ACCEPT] = 1, [O_GETNAME] = 1,
	};
	static const int w_conn[O__N] = {
		[O_SETSOCKOPT] = 5, [O_CONNECT] = 2, [O_SEND] = 32, [O_RECV] = 32,
		[O_SHUTDOWN] = 2, [O_POLL] = 10, [O_CLOSE] = 3, [O_IOCTL] = 3,
		[O_GETSOCKOPT] = 3, [O_LISTEN] = 1, [O_ACCEPT] = 1, [O_GETNAME] = 2,
	};
	static const int w_listen[O__N] = {
		[O_SETSOCKOPT] = 5, [O_CONNECT] = 3, [O_SEND] = 2, [O_RECV] = 2,
		[O_SHUTDOWN] = 8, [O_POLL] = 20, [O_CLOSE] = 15, [O_IOCTL] = 2,
		[O_GETSOCKOPT] = 2, [O_LISTEN] = 3, [O_ACCEPT] = 40, [O_GETNAME] = 2,
	};
	static const int w_failed[O__N] = {
		[O_SETSOCKOPT] = 2, [O_CONNECT] = 5, [O_SEND] = 5, [O_RECV] = 10,
		[O_SHUTDOWN] = 3, [O_POLL] = 5, [O_CLOSE] = 60, [O_IOCTL] = 2,
		[O_GETSOCKOPT] = 5, [O_LISTEN] = 1, [O_ACCEPT] = 1, [O_GETNAME] = 1,
	};
	struct slot *s = &sl[nc_rnd(r, SLOTS)];
	const int *w = s->failed ? w_failed : s->listening ? w_listen :
		       s->targeted ? w_conn : w_fresh;
	int op, i, tot = 0, fd, flags, e, v;
	socklen_t len;
	ssize_t n;
	size_t sz;

	for (i = 0; i < O__N; i++)
		tot += w[i];
	v = nc_rnd(r, tot);
	for (op = 0; v >= w[op]; op++)
		v -= w[op];
	if (s->fd < 0)
		op = O_SOCKET;
	if (opt.no_listen && (op == O_LISTEN || op == O_ACCEPT))
		op = O_POLL;
	atomic_fetch_add(&n_ops[op], 1);
	op_begin(t, op_names[op]);
	cur_slot = s;
	switch (op) {
	case O_SOCKET:
		fd = nc_socket_in(NULL, nc_chance(r, 0.3) ? SOCK_NONBLOCK : 0);
		if (fd < 0) {
			op_err("socket", -fd);
			return;
		}
		/* every blocking call on it is bounded from the start */
		set_timeo(fd, SO_RCVTIMEO, nc_rnd_in(r, 10, 300));
		set_timeo(fd, SO_SNDTIMEO, nc_rnd_in(r, 10, 300));
		slot_new(s, fd, r);
		break;
	case O_SETSOCKOPT:
		switch (nc_rnd(r, 8)) {
		case 0:
		case 1:
			v = nc_chance(r, 0.5) ? nc_rnd_in(r, 1, 4096) : nc_rnd_in(r, 4096, 1 << 20);
			if (setsockopt(s->fd, SOL_SOCKET, nc_rnd(r, 2) ? SO_RCVBUF : SO_SNDBUF,
				       &v, sizeof(v))) {
				op_err("setsockopt(SO_RCVBUF/SO_SNDBUF)", errno);
				return;
			}
			break;
		case 2:
		case 3: {
			struct linger l = { nc_rnd(r, 4) != 0, nc_rnd(r, 2) };

			if (setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l))) {
				op_err("setsockopt(SO_LINGER)", errno);
				return;
			}
			break;
		}
		case 4:
		case 5:
			set_timeo(s->fd, nc_rnd(r, 2) ? SO_RCVTIMEO : SO_SNDTIMEO,
				  nc_rnd_in(r, 10, 300));
			break;
		case 6:
			v = 1;
			if (!setsockopt(s->fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)))
				break;
			op_err("setsockopt(SO_KEEPALIVE)", errno);
			return;
		default:
			/* one that works, and one NetChannel refuses */
			v = 1;
			if (setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v))) {
				op_err("setsockopt(TCP_NODELAY)", errno);
				return;
			}
			v = 65536;
			if (!setsockopt(s->fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &v, sizeof(v))) {
				/* TCP's own, if a refused connect fell back to it */
				if (sock_protocol(s->fd) == IPPROTO_TCP) {
					atomic_fetch_add(&fallbacks_seen, 1);
					break;
				}
				op_err("setsockopt(IPPROTO_TCP) succeeded", EPROTO);
				return;
			}
			op_err("setsockopt(IPPROTO_TCP)", errno);
			return;
		}
		break;
	case O_CONNECT: {
		struct sockaddr_in sin;
		const char *what = "connect";
		bool echo = false;

		v = nc_rnd(r, 100);
		if (v < 80) {
			sin = nc_sin(IP_L, PORT_L);
			echo = true;
		} else if (v < 88) {
			sin = nc_sin(IP_L, PORT_NONE);
		} else if (v < 92) {
			sin = nc_sin(IP_NOHOST, PORT_L);
		} else if (v < 96) {
			sin = nc_sin("127.0.0.1", PORT_LOCAL);
		} else if (v < 98) {
			sin = nc_sin(IP_L, 0);
		} else {
			sin = nc_sin(IP_L, PORT_L);
			sin.sin_family = AF_UNSPEC;
			what = "connect(AF_UNSPEC)";
		}
		if (!s->targeted && sin.sin_family == AF_INET && sin.sin_port &&
		    !s->listening) {
			s->targeted = true;
			s->verify = echo;
		}
		if (connect(s->fd, (struct sockaddr *)&sin, sizeof(sin))) {
			e = errno;
			op_err(what, e);
			/* the peer is away (churn): do not spin on it */
			if (e == ENETUNREACH || e == ECONNREFUSED)
				nc_sleep_ms(nc_rnd_in(r, 1, 20));
			return;
		}
		atomic_fetch_add(&connects_ok, 1);
		break;
	}
	case O_SEND:
		v = nc_rnd(r, 100);
		sz = v < 60 ? nc_rnd_in(r, 1, 2048) : v < 90 ? nc_rnd_in(r, 2048, 65536) :
			v < 98 ? nc_rnd_in(r, 65536, 262144) : nc_rnd_in(r, 262144, TX_BUF);
		flags = (nc_chance(r, 0.5) ? MSG_DONTWAIT : 0) |
			(nc_chance(r, 0.2) ? MSG_MORE : 0) |
			(nc_chance(r, 0.9) ? MSG_NOSIGNAL : 0);
		nc_gen(s->seed, s->tx_off, buf, sz);
		n = send(s->fd, buf, sz, flags);
		if (n < 0) {
			op_err("send", errno);
			return;
		}
		s->tx_off += n;
		atomic_fetch_add(&bytes_sent, n);
		break;
	case O_RECV:
		v = nc_rnd(r, 100);
		flags = 0;
		if (v < 20) {
			flags = MSG_WAITALL;
			sz = nc_rnd_in(r, 1, 512);
		} else {
			sz = nc_chance(r, 0.5) ? nc_rnd_in(r, 1, 4096) : nc_rnd_in(r, 1, 65536);
		}
		if (nc_chance(r, 0.5))
			flags |= MSG_DONTWAIT;
		if (nc_chance(r, 0.2))
			flags |= MSG_PEEK;
		else if (nc_chance(r, 0.03))
			flags |= MSG_TRUNC;
		n = recv(s->fd, buf, sz, flags);
		if (n < 0) {
			op_err("recv", errno);
			return;
		}
		if (!s->verify || s->listening)
			break;
		if (s->rx_off + n > s->tx_off) {
			atomic_fetch_add(&corrupt, 1);
			nc_logf("# CORRUPT: %zd bytes received at offset %llu, only %llu sent\n",
				n, (unsigned long long)s->rx_off,
				(unsigned long long)s->tx_off);
			s->verify = false;
			break;
		}
		if (!(flags & MSG_TRUNC)) {
			nc_gen(s->seed, s->rx_off, exp, n);
			if (memcmp(buf, exp, n)) {
				for (i = 0; buf[i] == exp[i]; i++)
					;
				atomic_fetch_add(&corrupt, 1);
				nc_logf("# CORRUPT: echo byte %llu is %02x, want %02x (recv flags %#x, %zd bytes)\n",
					(unsigned long long)s->rx_off + i, buf[i], exp[i],
					flags, n);
				s->verify = false;
				break;
			}
			atomic_fetch_add(&bytes_verified, n);
		}
		if (!(flags & MSG_PEEK))
			s->rx_off += n;
		break;
	case O_SHUTDOWN:
		v = nc_rnd(r, 3);
		if (opt.no_early_fin && v != SHUT_RD) {
			struct sockaddr_in sin;

			/* getpeername() fails with ENOTCONN while connecting */
			len = sizeof(sin);
			if (getpeername(s->fd, (struct sockaddr *)&sin, &len))
				v = SHUT_RD;
		}
		if (shutdown(s->fd, v)) {
			op_err("shutdown", errno);
			return;
		}
		break;
	case O_POLL: {
		struct pollfd p = { .fd = s->fd, .events = (short)(POLLIN | POLLOUT |
			(nc_chance(r, 0.5) ? POLLRDHUP : 0)) };

		if (poll(&p, 1, nc_rnd(r, 50)) < 0) {
			op_err("poll", errno);
			return;
		}
		break;
	}
	case O_CLOSE:
		close(s->fd);
		s->fd = -1;
		break;
	case O_IOCTL:
		if (ioctl(s->fd, nc_rnd(r, 2) ? FIONREAD : SIOCOUTQ, &v)) {
			op_err("ioctl", errno);
			return;
		}
		break;
	case O_GETSOCKOPT:
		len = sizeof(e);
		if (getsockopt(s->fd, SOL_SOCKET, nc_rnd(r, 2) ? SO_ERROR : SO_RCVBUF,
			       &e, &len)) {
			op_err("getsockopt", errno);
			return;
		}
		break;
	case O_LISTEN: {
		struct sockaddr_in sin = nc_sin(NULL, nc_chance(r, 0.5) ? PORT_LOCAL : 0);

		if (bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)))
			op_err("bind", errno);
		if (listen(s->fd, nc_rnd_in(r, 1, 16))) {
			op_err("listen", errno);
			return;
		}
		s->listening = true;
		break;
	}
	case O_ACCEPT: {
		struct slot *d = NULL;

		for (i = 0; i < SLOTS; i++)
			if (sl[i].fd < 0)
				d = &sl[i];
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC |
			     (nc_chance(r, 0.5) ? SOCK_NONBLOCK : 0));
		if (fd < 0) {
			op_err("accept", errno);
			return;
		}
		set_timeo(fd, SO_RCVTIMEO, nc_rnd_in(r, 10, 300));
		set_timeo(fd, SO_SNDTIMEO, nc_rnd_in(r, 10, 300));
		if (!d) {
			close(fd);
			break;
		}
		slot_new(d, fd, r);
		d->targeted = true;	/* not an echo stream */
		break;
	}
	case O_GETNAME: {
		struct sockaddr_in sin;

		len = sizeof(sin);
		if ((nc_rnd(r, 2) ? getsockname : getpeername)(s->fd, (struct sockaddr *)&sin,
							     &len)) {
			op_err("getsockname/getpeername", errno);
			return;
		}
		break;
	}
	}
	atomic_fetch_add(&n_ok[op], 1);
}

static void *client_main(void *arg)
{
	struct tstate *t = arg;
	struct nc_rng r = { opt.seed * 0x100000001b3ULL + 0xc11e * (t->idx + 1) };
	uint8_t *buf = malloc(TX_BUF), *exp = malloc(65536);
	struct slot sl[SLOTS];
	int i;

	for (i = 0; i < SLOTS; i++)
		sl[i].fd = -1;
	if (!buf || !exp) {
		setup_error("client %d: %s", t->idx, strerror(errno));
		goto out;
	}
	if (nc_ns_enter(NS_C)) {
		setup_error("client %d: %s", t->idx, nc_err);
		goto out;
	}
	while (!atomic_load(&stop_all) && nc_now_ms() < t_end)
		client_op(t, &r, sl, buf, exp);
	op_begin(t, "final close");
	for (i = 0; i < SLOTS; i++)
		if (sl[i].fd >= 0)
			close(sl[i].fd);
out:
	free(buf);
	free(exp);
	atomic_store(&t->done, true);
	return NULL;
}

/* ------------------------------------------------------------- main */

static struct tstate *spawn(const char *name, int idx, void *(*fn)(void *))
{
	struct tstate *t = &ts[nts];

	t->name = name;
	t->idx = idx;
	atomic_store(&t->op, "start");
	atomic_store(&t->op_since, nc_now_ms());
	if (pthread_create(&t->t, NULL, fn, t)) {
		setup_error("pthread_create: %s", strerror(errno));
		return NULL;
	}
	nts++;
	return t;
}

int main(int argc, char **argv)
{
	static const struct nc_opt opts[] = {
		{ "threads", 't', NC_OPT_INT, &opt.threads },
		{ "servers", 'S', NC_OPT_INT, &opt.servers },
		{ "seconds", 's', NC_OPT_INT, &opt.seconds },
		{ "churn-ms", 'c', NC_OPT_INT, &opt.churn_ms },
		{ "seed", 'r', NC_OPT_U64, &opt.seed },
		{ "rmmod", 'm', NC_OPT_FLAG, &opt.rmmod },
		{ "verbose", 'v', NC_OPT_FLAG, &opt.verbose },
		{ "no-listen", 'L', NC_OPT_FLAG, &opt.no_listen },
		{ "no-early-fin", 'E', NC_OPT_FLAG, &opt.no_early_fin },
		{ NULL }
	};
	static const char *const hosts[2] = { NS_C, NS_L };
	struct nc_rng r;
	struct timespec tsp;
	long refcnt0, left[2];
	int64_t t_start, hang_deadline;
	bool hung = false;
	double secs;
	int i, e;

	e = nc_opts_parse(argc, argv, opts, usage);
	if (e >= 0)
		return e;
	if (opt.threads < 1 || opt.threads > MAX_THREADS || opt.servers < 1 ||
	    opt.servers > 16 || opt.seconds < 1 || opt.churn_ms < 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	r.s = opt.seed;
	printf("# nc_stress: --threads %d --servers %d --seconds %d --churn-ms %d --seed %llu%s%s\n",
	       opt.threads, opt.servers, opt.seconds, opt.churn_ms,
	       (unsigned long long)opt.seed, opt.no_listen ? " --no-listen" : "",
	       opt.no_early_fin ? " --no-early-fin" : "");

	refcnt0 = nc_check_module_loaded();
	if (refcnt0 < 0)
		return nc_checks_report();
	if (nc_hosts_create_ns(NS_C, NS_L, true)) {
		setup_error("creating namespaces %s and %s: %s", NS_C, NS_L, nc_err);
		goto report;
	}
	cur_lfd = peer_listen(&r);
	if (cur_lfd < 0)
		goto report;

	t_start = nc_now_ms();
	t_end = t_start + opt.seconds * 1000LL;
	for (i = 0; i < opt.servers; i++)
		spawn("server", i, server_main);
	for (i = 0; i < opt.threads; i++)
		spawn("client", i, client_main);
	if (opt.churn_ms)
		spawn("churn", 0, churn_main);

	/* wait: a thread not done by seconds + 30 is hung */
	hang_deadline = t_end + 30000;
	while (nc_now_ms() < t_end && !atomic_load(&setup_errors))
		nc_sleep_ms(100);
	atomic_store(&stop_all, true);
	for (i = 0; i < nts; i++) {
		while (!atomic_load(&ts[i].done) && nc_now_ms() < hang_deadline)
			nc_sleep_ms(20);
		if (!atomic_load(&ts[i].done)) {
			hung = true;
			printf("# HANG: %s thread %d still in %s since %.1f s, %d s after the stop\n",
			       ts[i].name, ts[i].idx, atomic_load(&ts[i].op),
			       (nc_now_ms() - atomic_load(&ts[i].op_since)) / 1000.0, 30);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &tsp);
		tsp.tv_sec += 5;
		pthread_timedjoin_np(ts[i].t, NULL, &tsp);
	}
	printf("# ran %.1f s\n", (nc_now_ms() - t_start) / 1000.0);

report:
	if (atomic_load(&setup_errors) && !nts) {
		nc_check(false, "setup");
		nc_hosts_destroy_ns(NS_L, NS_C);
		return nc_checks_report();
	}
	nc_check(!atomic_load(&setup_errors), "setup");
	printf("# operations (ok/tried):");
	for (i = 0; i < O__N; i++)
		printf(" %s %llu/%llu", op_names[i], (unsigned long long)atomic_load(&n_ok[i]),
		       (unsigned long long)atomic_load(&n_ops[i]));
	printf("\n");
	printf("# %llu connects succeeded, %llu accepted by the servers; %llu bytes sent, %llu echoed by the servers, %llu checked on return; %llu namespace re-creations (%llu failed); %llu sockets seen fallen back to TCP\n",
	       (unsigned long long)atomic_load(&connects_ok),
	       (unsigned long long)atomic_load(&srv_accepted),
	       (unsigned long long)atomic_load(&bytes_sent),
	       (unsigned long long)atomic_load(&echo_srv_bytes),
	       (unsigned long long)atomic_load(&bytes_verified),
	       (unsigned long long)atomic_load(&churns),
	       (unsigned long long)atomic_load(&churn_fail),
	       (unsigned long long)atomic_load(&fallbacks_seen));
	printf("# errnos:");
	for (e = 0; e < 4096; e++)
		if (atomic_load(&errno_hist[e]))
			printf(" %s %llu", e ? strerrorname_np(e) ?: "?" : "?",
			       (unsigned long long)atomic_load(&errno_hist[e]));
	printf("\n");
	for (i = 0; i < n_unexp; i++)
		printf("# unexpected: %s: %s (errno %d) x%llu\n", unexp[i].op,
		       strerror(unexp[i].err), unexp[i].err, unexp[i].n);
	atomic_fetch_add(&proto_errs, ns_proto_errs(NS_C) + ns_proto_errs(NS_L));
	nc_check(!atomic_load(&proto_errs),
		 "no malformed frame between the two hosts (err_* counters: %llu%s)",
		 (unsigned long long)atomic_load(&proto_errs), proto_err_names);
	nc_check(!atomic_load(&unexp_total), "no unexpected errno (%llu)",
		 (unsigned long long)atomic_load(&unexp_total));
	nc_check(!atomic_load(&corrupt), "echoed data byte-exact (%llu corruptions)",
		 (unsigned long long)atomic_load(&corrupt));
	nc_check(!hung, "every thread finished within %d s of the end", 30);
	nc_check(atomic_load(&connects_ok) > 0, "some connects succeeded (%llu)",
		 (unsigned long long)atomic_load(&connects_ok));
	if (hung) {
		/* a thread is stuck in the kernel: cleanup could block too */
		printf("# not cleaning up: a thread is stuck; module refcnt %ld\n",
		       nc_module_refcnt());
		nc_check(false, "sockets gone (not checked: hang)");
		nc_checks_report();
		fflush(stdout);
		_exit(1);
	}

	/* everything closed: sockets must go, then the namespaces */
	pthread_mutex_lock(&gen_lock);
	if (cur_lfd >= 0)
		close(cur_lfd);
	cur_lfd = -1;
	pthread_mutex_unlock(&gen_lock);
	secs = nc_sockets_wait(hosts, 2, left, 30000);
	printf("# NetChannel sockets left: %s %ld, %s %ld (after %.1f s)\n", NS_C, left[0],
	       NS_L, left[1], secs);
	nc_hosts_destroy_ns(NS_L, NS_C);
	secs = nc_module_refcnt_wait(refcnt0, 90000);
	printf("# module reference count %ld (%ld before) after %.1f s: rmmod netchannel %s\n",
	       nc_module_refcnt(), refcnt0, secs,
	       nc_module_refcnt() == 0 ? "would succeed" : "would be refused");
	nc_check(nc_module_refcnt() <= refcnt0,
		 "every NetChannel socket gone (module refcnt %ld, was %ld)",
		 nc_module_refcnt(), refcnt0);
	if (opt.rmmod) {
		e = nc_module_unload_wait(20000);
		nc_check(!e, "rmmod netchannel: %s", e ? strerror(-e) : "done");
	}
	return nc_checks_report();
}
