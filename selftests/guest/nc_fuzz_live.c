// SPDX-License-Identifier: GPL-2.0
/*
 * nc_fuzz_live: a live rogue NetChannel peer that fuzzes the module's whole
 * receive state machine (channels, HELLO, sockets, sequencing, credit,
 * half-close, reset), not only the frame decoder. See usage().
 *
 * Three namespaces: the victim ncf_v (the host under attack), the rogue
 * ncf_r (this program, speaking the wire protocol over plain TCP) and the
 * peer ncf_p (real NetChannel sockets whose data must stay byte-exact).
 *
 *   ncf_r 10.98.0.1 --veth-- 10.98.0.2 ncf_v 10.98.1.2 --veth-- 10.98.1.1 ncf_p
 *
 * The rogue opens channel groups to the victim's channel port (it is the
 * initiator: HELLO, then OPENs to the victim's fuzz listeners) and also
 * listens on the channel port in its own namespace, so the victim's own
 * connects towards 10.98.0.1 open groups to it (the victim is the
 * initiator: HELLO and OPEN come from the kernel, the rogue ACCEPTs or
 * refuses). On both kinds it sends a grammar-aware stream of frames drawn
 * around the live ids, sequence numbers and credit it learned by decoding
 * the victim's frames with kernel/nc_frame.c, now and then an invalid one,
 * every frame split at random byte boundaries over writes and spread over
 * the channels of the group. A victim thread accepts, connects, reads,
 * writes, shuts down and closes the NetChannel sockets the rogue talks to.
 *
 * Meanwhile real sockets between ncf_p and ncf_v move verified streams both
 * ways. The victim's frames are checked too: they must decode, never repeat
 * a sequence number, never exceed the credit the rogue granted.
 */
#include "nc_net.h"

#include <pthread.h>
#include <stdatomic.h>

#include "nc_frame.h"
#include "nc_frame.c"	/* the module's own codec, compiled in */

#define NS_V		"ncf_v"
#define NS_R		"ncf_r"
#define NS_P		"ncf_p"
#define IP_V_R		"10.98.0.2"	/* victim, on the rogue's link */
#define IP_R		"10.98.0.1"
#define IP_V_P		"10.98.1.2"	/* victim, on the peer's link */
#define IP_P		"10.98.1.1"

#define FUZZ_PORT_A	7201		/* victim listener, backlog 32 */
#define FUZZ_PORT_B	7202		/* victim listener, backlog 2, 8 KiB window */
#define CLOSED_PORT	7209		/* nobody listens: OPEN is refused */
#define REAL_PORT	7300		/* real traffic listeners (victim and peer) */
#define ROGUE_SVC_PORT	7400		/* victim connects to IP_R:7400..7403 */

#define MAXG		8		/* channel groups at a time */
#define MAXCH		16		/* channels per group (--channels) */
#define MAXC		24		/* sockets per group */
#define MAXPEND		64		/* accepted channels before their HELLO */
#define TX_HIGH		(48 * 1024)	/* stop generating above this backlog */
#define STALL_MS	2000		/* a channel that takes nothing this long */
#define POOL_LEN	(128 * 1024)	/* random payload bytes */
#define AHEAD_BITS	1024		/* victim seqs tracked ahead of the next */

/* ------------------------------------------------------------- options */

static struct {
	uint64_t frames;
	uint64_t seed;
	int channels;
	double invalid;
	int seconds;
	int out_groups;
	int clients;
	bool verbose;
	bool no_early_fin;
} opt = {
	.frames = 100000, .seed = 1, .channels = 4, .invalid = 0.004,
	.seconds = 900, .out_groups = 2, .clients = 3,
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: nc_fuzz_live [--frames N] [--seed S] [--channels C] [OPTIONS]\n"
"\n"
"A live rogue NetChannel peer. Run it as root in the guest with netchannel.ko\n"
"loaded (insmod /nc/netchannel.ko). It creates namespaces " NS_V " (victim),\n"
NS_R " (rogue) and " NS_P " (real peer), deletes them at the end, and needs\n"
"nothing else.\n"
"\n"
"The rogue opens channel groups (plain TCP) to the victim's channel port\n"
"(net.netchannel.port) and accepts the groups the victim opens towards it,\n"
"says HELLO (valid for a group; now and then a defective one), then sends a\n"
"grammar-aware stream of OPEN/ACCEPT/DATA/CREDIT/CLOSE/RESET (HELLO too, as\n"
"an error) with socket ids, sequence numbers, lengths, credit and flags drawn\n"
"around the live values it decodes from the victim's frames (kernel/nc_frame.c),\n"
"now and then an invalid frame; every frame is split at random byte\n"
"boundaries over non-blocking writes and the frames of one socket are spread\n"
"and reordered over the channels of its group. When the victim resets a\n"
"group, a new one is opened. A thread in the victim accepts, connects,\n"
"reads, writes, shuts down and closes the NetChannel sockets involved.\n"
"Meanwhile real NetChannel sockets between " NS_P " and " NS_V " (both ways)\n"
"move pseudo-random streams that are checked byte by byte.\n"
"\n"
"Options:\n"
"  --frames N       frames to send (default 100000)\n"
"  --seed S         random seed (default 1); the same seed replays the same\n"
"                   choices (timing still differs between runs)\n"
"  --channels C     channels per rogue group, and the victim's\n"
"                   net.netchannel.channels (1..%d, default 4)\n"
"  --invalid P      probability that a generated frame is invalid\n"
"                   (default 0.004; 0 keeps groups alive as long as possible)\n"
"  --groups G       rogue-initiated groups kept open at once (1..4, default 2)\n"
"  --clients K      real-traffic client threads (default 3); every third\n"
"                   runs in the victim and connects to the peer, the others\n"
"                   connect from the peer to the victim\n"
"  --seconds T      give up after T seconds (default 900)\n"
"  --no-early-fin   the victim never shuts down a socket that is still\n"
"                   connecting (steers clear of the bugs of a CLOSE queued\n"
"                   before the ACCEPT)\n"
"  --verbose        log every group the rogue opens or loses\n"
"  -h, --help       this text\n"
"\n"
"Checks (each one \"ok\" or \"FAIL\" line, then \"N passed, M failed\"):\n"
"  setup, all N frames sent, real transfers byte-exact (none corrupted,\n"
"  truncated or padded), some real transfers succeeded, the victim's frames\n"
"  well-formed (decode, no repeated seq, within credit, no HELLO/OPEN where\n"
"  impossible), every thread finished, every NetChannel socket gone after\n"
"  cleanup (the module's reference count back to where it started).\n"
"Real transfers that fail with ECONNRESET/ETIMEDOUT/EPIPE are counted, not\n"
"failed. Exit status 0 when every check passed, 1 otherwise, 2 on usage.\n"
"\n"
"Output (lines starting with #): progress every 10 s, then the frame type\n"
"transitions covered, frames by type both ways, groups opened and lost,\n"
"socket outcomes, the errnos the victim's own sockets saw (a WARNING when\n"
"one is a kernel-internal code, 512..530, taken from a RESET's argument),\n"
"the victim's and the peer's /proc/net/netchannel/stats changes, the real\n"
"transfers, and a one-line summary.\n",
		MAXCH);
}

/* --------------------------------------------------------- bookkeeping */

static atomic_bool stop_all;
static atomic_int threads_ready;
static atomic_int setup_errors;
static char setup_msg[512];

__attribute__((format(printf, 1, 2)))
static void setup_error(const char *fmt, ...)
{
	va_list ap;

	nc_log_lock();
	if (!atomic_load(&setup_errors)) {
		va_start(ap, fmt);
		vsnprintf(setup_msg, sizeof(setup_msg), fmt, ap);
		va_end(ap);
		printf("# setup error: %s\n", setup_msg);
		fflush(stdout);
	}
	atomic_fetch_add(&setup_errors, 1);
	nc_log_unlock();
}

/* Errno histograms (0..4095), one per observer. */
struct ehist {
	atomic_ullong n[4096];
};

static void ehist_add(struct ehist *h, int e)
{
	atomic_fetch_add(&h->n[e > 0 && e < 4096 ? e : 0], 1);
}

static void ehist_print(const char *what, struct ehist *h)
{
	char buf[1024];
	size_t o = 0;
	int e;

	for (e = 0; e < 4096 && o < sizeof(buf) - 64; e++) {
		unsigned long long n = atomic_load(&h->n[e]);

		if (n)
			o += snprintf(buf + o, sizeof(buf) - o, "%s%s(%d)=%llu",
				      o ? " " : "", e ? strerrorname_np(e) ?: "?" : "?",
				      e, n);
	}
	printf("# %s: %s\n", what, o ? buf : "none");
}

/* ============================================================ real traffic */

#define REAL_MAGIC	0x4e43464cu	/* "NCFL" */
#define REAL_BUF	(512 * 1024)
#define REAL_TIMEO_MS	20000
#define SEED_DOWN	0xd0d0d0d0d0d0d0d0ULL

struct real_hdr {
	uint32_t magic;
	uint32_t idx;
	uint64_t up, down, seed;
};

static atomic_ullong real_ok, real_failed, real_corrupt, real_corrupt_up;
static atomic_ullong real_bytes, real_odd_errno;
static struct ehist real_errs;
static atomic_int real_handlers;

/* A real-socket error: expected after a killed group, or odd. */
static void real_fail(int e, const char *where, int idx)
{
	atomic_fetch_add(&real_failed, 1);
	ehist_add(&real_errs, e);
	if (e != ECONNRESET && e != ETIMEDOUT && e != EPIPE && e != EAGAIN &&
	    e != ECONNREFUSED) {
		atomic_fetch_add(&real_odd_errno, 1);
		nc_logf("# WARNING: real transfer %d: %s: %s (errno %d)\n", idx, where,
			strerror(e), e);
	}
}

static int real_send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

static void real_abort(int fd)
{
	struct linger l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static uint64_t real_size(struct nc_rng *r)
{
	uint32_t k = nc_rnd(r, 100);

	if (k < 10)
		return 0;
	if (k < 50)
		return nc_rnd(r, 4096) + 1;
	if (k < 90)
		return nc_rnd_in(r, 4096, 65536);
	return nc_rnd_in(r, 65536, 384 * 1024);
}

/* Server side of one transfer (a thread per connection). */
static void *real_handler(void *arg)
{
	int fd = (int)(intptr_t)arg, e = 0;
	uint8_t *buf = malloc(REAL_BUF), *exp = malloc(REAL_BUF);
	struct real_hdr h;
	uint64_t off = 0;
	uint8_t verdict = 0;
	size_t got = 0;
	ssize_t n;

	if (!buf || !exp)
		goto abort;
	nc_set_timeo(fd, SO_RCVTIMEO, REAL_TIMEO_MS);
	nc_set_timeo(fd, SO_SNDTIMEO, REAL_TIMEO_MS);
	while (got < sizeof(h)) {
		n = recv(fd, (uint8_t *)&h + got, sizeof(h) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto abort;	/* the client reports it */
		got += n;
	}
	if (h.magic != REAL_MAGIC) {
		atomic_fetch_add(&real_corrupt_up, 1);
		nc_logf("# CORRUPT: real transfer header magic %08x\n", h.magic);
		goto abort;
	}
	/* the stream up, then EOF */
	for (;;) {
		n = recv(fd, buf, REAL_BUF, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto abort;
		if (n == 0)
			break;
		if (off + n > h.up) {
			verdict = 2;
			nc_logf("# CORRUPT: real transfer %u up: %llu bytes beyond the %llu sent\n",
				h.idx, (unsigned long long)(off + n - h.up),
				(unsigned long long)h.up);
			break;
		}
		nc_gen(h.seed, off, exp, n);
		if (memcmp(buf, exp, n)) {
			size_t i = 0;

			while (buf[i] == exp[i])
				i++;
			verdict = 2;
			nc_logf("# CORRUPT: real transfer %u up: byte %llu of %llu is %02x, want %02x\n",
				h.idx, (unsigned long long)(off + i),
				(unsigned long long)h.up, buf[i], exp[i]);
			break;
		}
		off += n;
	}
	if (!verdict && off != h.up) {
		verdict = 2;
		nc_logf("# CORRUPT: real transfer %u up: EOF after %llu of %llu bytes\n",
			h.idx, (unsigned long long)off, (unsigned long long)h.up);
	}
	if (verdict)
		atomic_fetch_add(&real_corrupt_up, 1);
	/* the stream down, then the verdict byte, then EOF */
	for (off = 0; off < h.down && !e; off += n) {
		n = h.down - off < REAL_BUF ? (ssize_t)(h.down - off) : REAL_BUF;
		nc_gen(h.seed ^ SEED_DOWN, off, buf, n);
		e = real_send_all(fd, buf, n);
	}
	if (!e)
		e = real_send_all(fd, &verdict, 1);
	if (e)
		goto abort;
	close(fd);
	goto out;
abort:
	real_abort(fd);
out:
	free(buf);
	free(exp);
	atomic_fetch_sub(&real_handlers, 1);
	return NULL;
}

struct real_arg {
	const char *ns;
	const char *ip;		/* client: where to connect */
	int idx;
};

static void *real_server(void *arg)
{
	struct real_arg *a = arg;
	struct pollfd p;
	pthread_attr_t at;
	pthread_t t;
	int lfd, fd;

	if (nc_ns_enter(a->ns)) {
		setup_error("real server: %s", nc_err);
		return NULL;
	}
	lfd = nc_listen_in(NULL, REAL_PORT, 64);
	if (lfd < 0) {
		setup_error("real server listener on port %d: %s", REAL_PORT,
			    strerror(-lfd));
		atomic_fetch_add(&threads_ready, 1);
		return NULL;
	}
	atomic_fetch_add(&threads_ready, 1);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	while (!atomic_load(&stop_all)) {
		p = (struct pollfd){ .fd = lfd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			continue;
		nc_set_nonblock(fd, false);
		atomic_fetch_add(&real_handlers, 1);
		if (pthread_create(&t, &at, real_handler, (void *)(intptr_t)fd)) {
			atomic_fetch_sub(&real_handlers, 1);
			real_abort(fd);
		}
	}
	pthread_attr_destroy(&at);
	close(lfd);
	return NULL;
}

/* One verified transfer from this thread's namespace to @a->ip. */
static void real_transfer(struct real_arg *a, struct nc_rng *r, uint8_t *buf,
			  uint8_t *exp, int n_xfer)
{
	struct sockaddr_in sin = nc_sin(a->ip, REAL_PORT);
	struct real_hdr h = { REAL_MAGIC, (uint32_t)(a->idx << 24 | n_xfer),
			      real_size(r), real_size(r), nc_rnd64(r) };
	uint64_t off;
	size_t chunk;
	int fd, e, verdict = -1;
	ssize_t n;

	fd = nc_socket_in(NULL, 0);
	if (fd < 0) {
		setup_error("real client: socket(..., IPPROTO_NETCHANNEL): %s",
			    strerror(-fd));
		return;
	}
	nc_set_timeo(fd, SO_RCVTIMEO, REAL_TIMEO_MS);
	nc_set_timeo(fd, SO_SNDTIMEO, REAL_TIMEO_MS);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		real_fail(errno == EINPROGRESS ? ETIMEDOUT : errno, "connect", h.idx);
		close(fd);
		return;
	}
	e = real_send_all(fd, &h, sizeof(h));
	for (off = 0; off < h.up && !e; off += chunk) {
		chunk = nc_rnd_in(r, 1, REAL_BUF);
		if (chunk > h.up - off)
			chunk = h.up - off;
		nc_gen(h.seed, off, buf, chunk);
		e = real_send_all(fd, buf, chunk);
	}
	if (e) {
		real_fail(e, "send", h.idx);
		real_abort(fd);
		return;
	}
	if (shutdown(fd, SHUT_WR)) {
		real_fail(errno, "shutdown", h.idx);
		real_abort(fd);
		return;
	}
	for (off = 0;;) {
		n = recv(fd, buf, nc_rnd_in(r, 1, REAL_BUF), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			real_fail(errno, "recv", h.idx);
			real_abort(fd);
			return;
		}
		if (n == 0)
			break;
		if (off + n > h.down + 1) {
			nc_logf("# CORRUPT: real transfer %u down: %llu bytes beyond the %llu sent\n",
				h.idx, (unsigned long long)(off + n - h.down - 1),
				(unsigned long long)h.down + 1);
			atomic_fetch_add(&real_corrupt, 1);
			real_abort(fd);
			return;
		}
		chunk = off + n > h.down ? h.down - off : (size_t)n;
		nc_gen(h.seed ^ SEED_DOWN, off, exp, chunk);
		if (memcmp(buf, exp, chunk)) {
			size_t i = 0;

			while (buf[i] == exp[i])
				i++;
			nc_logf("# CORRUPT: real transfer %u down: byte %llu of %llu is %02x, want %02x\n",
				h.idx, (unsigned long long)(off + i),
				(unsigned long long)h.down, buf[i], exp[i]);
			atomic_fetch_add(&real_corrupt, 1);
			real_abort(fd);
			return;
		}
		if (chunk < (size_t)n)
			verdict = buf[chunk];
		off += n;
	}
	if (off != h.down + 1) {
		uint64_t pf = 0, cr = 0;
		socklen_t sl = sizeof(e);

		/* recv() said EOF: was the connection in fact reset? */
		e = 0;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl);
		/* the peer namespace has groups with the victim only */
		nc_stat_get(NS_P, "peers_failed", &pf);
		nc_stat_get(NS_P, "channels_reset", &cr);
		nc_ns_enter(a->ns);	/* from the root namespace, or still there */
		nc_logf("# CORRUPT: real transfer %u down: clean EOF after %llu of %llu bytes (then SO_ERROR %d %s; peer namespace so far: peers_failed %llu, channels_reset %llu)\n",
			h.idx, (unsigned long long)off, (unsigned long long)h.down + 1,
			e, e ? strerror(e) : "", (unsigned long long)pf,
			(unsigned long long)cr);
		atomic_fetch_add(&real_corrupt, 1);
		close(fd);
		return;
	}
	close(fd);
	if (verdict != 0) {
		/* the server logged and counted it */
		return;
	}
	atomic_fetch_add(&real_ok, 1);
	atomic_fetch_add(&real_bytes, h.up + h.down);
}

static void *real_client(void *arg)
{
	struct real_arg *a = arg;
	struct nc_rng r = { opt.seed * 0x100000001b3ULL + 0x5151 * (a->idx + 1) };
	uint8_t *buf = malloc(REAL_BUF), *exp = malloc(REAL_BUF);
	int n = 0;

	if (!buf || !exp) {
		setup_error("real client %d: %s", a->idx, strerror(errno));
		goto out;
	}
	if (nc_ns_enter(a->ns)) {
		setup_error("real client %d: %s", a->idx, nc_err);
		goto out;
	}
	while (!atomic_load(&stop_all)) {
		real_transfer(a, &r, buf, exp, n++);
		nc_sleep_ms(nc_rnd_in(&r, 5, 60));
	}
out:
	free(buf);
	free(exp);
	return NULL;
}

/* ============================================================ victim driver */

/*
 * The victim's own NetChannel sockets the rogue talks to: listeners on the
 * fuzz ports, the sockets they accept, and sockets connecting to the rogue.
 * Everything non-blocking; it reads, writes, shuts down and closes at random.
 */
#define VD_MAX	64

enum { VK_ACC, VK_CONNECTING, VK_CONN };

struct vsock {
	int fd;
	int kind;
	int64_t born, die;
	bool eof, wr_shut;
};

static struct ehist vd_errs;
static atomic_ullong vd_accepted, vd_connected, vd_rx, vd_tx, vd_closed;
static atomic_ullong vd_internal;

/*
 * An error the victim's application saw. 512..530 are the kernel's own
 * restart codes (ERESTARTSYS...), which must never reach user space.
 */
static void vd_err(int e, const char *op)
{
	ehist_add(&vd_errs, e);
	if (e >= 512 && e <= 530 && atomic_fetch_add(&vd_internal, 1) < 5)
		nc_logf("# WARNING: the victim's %s() returned errno %d, a kernel-internal code (ERESTART*), to user space\n",
			op, e);
}

/* A non-blocking listener in this thread's namespace: the fd or -errno. */
static int vd_listen(uint16_t port, int backlog, int rcvbuf)
{
	return nc_listen_opts(NULL, port, backlog, SOCK_NONBLOCK, rcvbuf);
}

static void vd_close(struct vsock *v, struct nc_rng *r)
{
	struct linger l = { 1, 0 };

	if (nc_chance(r, 0.15))
		setsockopt(v->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(v->fd);
	v->fd = -1;
	atomic_fetch_add(&vd_closed, 1);
}

static void *victim_driver(void *arg)
{
	static uint8_t buf[65536], out[32768];
	struct nc_rng r = { opt.seed ^ 0x7669637469ULL };
	struct vsock vs[VD_MAX];
	struct pollfd pf[VD_MAX + 2];
	int map[VD_MAX + 2];
	int la, lb, i, np, n, fd, e, nconnecting;
	int64_t now, lb_relisten;
	socklen_t sl;

	if (nc_ns_enter(NS_V)) {
		setup_error("victim driver: %s", nc_err);
		atomic_fetch_add(&threads_ready, 1);
		return NULL;
	}
	for (i = 0; i < (int)sizeof(out); i++)
		out[i] = (uint8_t)nc_rnd64(&r);
	for (i = 0; i < VD_MAX; i++)
		vs[i].fd = -1;
	la = vd_listen(FUZZ_PORT_A, 32, 0);
	lb = vd_listen(FUZZ_PORT_B, 2, 8192);
	if (la < 0 || lb < 0) {
		setup_error("victim fuzz listeners: %s", strerror(la < 0 ? -la : -lb));
		atomic_fetch_add(&threads_ready, 1);
		return NULL;
	}
	atomic_fetch_add(&threads_ready, 1);
	lb_relisten = nc_now_ms() + 3000;
	while (!atomic_load(&stop_all)) {
		np = 0;
		pf[np] = (struct pollfd){ .fd = la, .events = POLLIN };
		map[np++] = -1;
		if (lb >= 0) {
			pf[np] = (struct pollfd){ .fd = lb, .events = POLLIN };
			map[np++] = -2;
		}
		nconnecting = 0;
		for (i = 0; i < VD_MAX; i++) {
			if (vs[i].fd < 0)
				continue;
			pf[np].fd = vs[i].fd;
			pf[np].events = vs[i].kind == VK_CONNECTING ? POLLOUT :
				(vs[i].eof ? 0 : POLLIN) | (!vs[i].wr_shut ? POLLOUT : 0);
			nconnecting += vs[i].kind == VK_CONNECTING;
			map[np++] = i;
		}
		n = poll(pf, np, 10);
		if (n < 0 && errno != EINTR) {
			setup_error("victim driver: poll: %s", strerror(errno));
			break;
		}
		now = nc_now_ms();
		for (i = 0; i < np && n > 0; i++) {
			struct vsock *v;
			int k;

			if (!pf[i].revents)
				continue;
			if (map[i] < 0) {
				/* the small listener is left to fill up half the time */
				if (map[i] == -2 && nc_chance(&r, 0.5))
					continue;
				for (k = 0; k < 4; k++) {
					int j;

					fd = accept4(pf[i].fd, NULL, NULL,
						     SOCK_CLOEXEC | SOCK_NONBLOCK);
					if (fd < 0) {
						if (errno != EAGAIN)
							vd_err(errno, "accept");
						break;
					}
					atomic_fetch_add(&vd_accepted, 1);
					for (j = 0; j < VD_MAX && vs[j].fd >= 0; j++)
						;
					if (j == VD_MAX) {
						close(fd);
						continue;
					}
					vs[j] = (struct vsock){ .fd = fd, .kind = VK_ACC,
						.born = now, .die = now + nc_rnd_in(&r, 20, 4000) };
				}
				continue;
			}
			v = &vs[map[i]];
			if (v->fd < 0)
				continue;
			if (v->kind == VK_CONNECTING) {
				e = 0;
				sl = sizeof(e);
				getsockopt(v->fd, SOL_SOCKET, SO_ERROR, &e, &sl);
				if (e) {
					vd_err(e, "connect (SO_ERROR)");
					close(v->fd);
					v->fd = -1;
					continue;
				}
				v->kind = VK_CONN;
				atomic_fetch_add(&vd_connected, 1);
				continue;
			}
			if (pf[i].revents & (POLLIN | POLLERR | POLLHUP)) {
				ssize_t got = recv(v->fd, buf, nc_rnd_in(&r, 1, sizeof(buf)),
						   MSG_DONTWAIT |
						   (nc_chance(&r, 0.1) ? MSG_PEEK : 0));

				if (got > 0) {
					atomic_fetch_add(&vd_rx, got);
				} else if (got == 0) {
					v->eof = true;
				} else if (errno != EAGAIN) {
					vd_err(errno, "recv");
					vd_close(v, &r);
					continue;
				}
				if ((pf[i].revents & (POLLERR | POLLHUP)) && got <= 0 &&
				    nc_chance(&r, 0.5)) {
					vd_close(v, &r);
					continue;
				}
			}
			if ((pf[i].revents & POLLOUT) && !v->wr_shut && nc_chance(&r, 0.15)) {
				size_t len = nc_chance(&r, 0.9) ? nc_rnd_in(&r, 1, 512) :
					nc_rnd_in(&r, 1, sizeof(out));
				ssize_t put = send(v->fd, out + nc_rnd(&r, sizeof(out) - len + 1),
						   len, MSG_DONTWAIT | MSG_NOSIGNAL |
						   (nc_chance(&r, 0.1) ? MSG_MORE : 0));

				if (put > 0) {
					atomic_fetch_add(&vd_tx, put);
				} else if (errno != EAGAIN) {
					vd_err(errno, "send");
					vd_close(v, &r);
					continue;
				}
			}
		}
		/* random events */
		for (i = 0; i < VD_MAX; i++) {
			struct vsock *v = &vs[i];

			if (v->fd < 0)
				continue;
			if (v->kind == VK_CONNECTING && now - v->born > 3000) {
				vd_close(v, &r);
				continue;
			}
			if (now >= v->die || (v->eof && nc_chance(&r, 0.2))) {
				vd_close(v, &r);
				continue;
			}
			/* connecting ones too: a FIN before the ACCEPT */
			if (nc_chance(&r, v->kind != VK_CONNECTING ? 0.002 :
				      opt.no_early_fin ? 0 : 0.02)) {
				int how = nc_rnd(&r, 3);

				if (shutdown(v->fd, how))
					vd_err(errno, "shutdown");
				if (how != SHUT_RD)
					v->wr_shut = true;
			}
		}
		if (nconnecting < 3 && nc_chance(&r, 0.03)) {
			struct sockaddr_in sin = nc_sin(IP_R, ROGUE_SVC_PORT + nc_rnd(&r, 4));
			int j;

			for (j = 0; j < VD_MAX && vs[j].fd >= 0; j++)
				;
			fd = j < VD_MAX ? nc_socket_in(NULL, SOCK_NONBLOCK) : -1;
			if (fd >= 0) {
				if (nc_chance(&r, 0.2)) {
					int sz = nc_rnd_in(&r, 2048, 262144);

					setsockopt(fd, SOL_SOCKET, nc_chance(&r, 0.5) ? SO_RCVBUF :
						   SO_SNDBUF, &sz, sizeof(sz));
				}
				if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
				    errno == EINPROGRESS) {
					vs[j] = (struct vsock){ .fd = fd, .kind = VK_CONNECTING,
						.born = now, .die = now + nc_rnd_in(&r, 500, 6000) };
				} else {
					vd_err(errno, "connect");
					close(fd);
				}
			}
		}
		if (now > lb_relisten) {
			/* children nobody accepted are aborted with the listener */
			if (lb >= 0)
				close(lb);
			lb = vd_listen(FUZZ_PORT_B, 2, 8192);
			lb_relisten = now + nc_rnd_in(&r, 500, 6000);
		}
	}
	for (i = 0; i < VD_MAX; i++)
		if (vs[i].fd >= 0)
			close(vs[i].fd);
	close(la);
	if (lb >= 0)
		close(lb);
	return NULL;
}

/* ================================================================ the rogue */

enum { C_FREE, C_OPEN_SENT, C_OPEN_RCVD, C_EST, C_DEAD };

/* One virtual socket pair as the rogue sees it. */
struct conn {
	int st;
	uint32_t id;		/* ours: src of our frames */
	uint32_t vid;		/* the victim's */
	int home;		/* channel the OPEN came or went on */
	int pin;		/* send only on this channel, -1: any */
	uint32_t snd_nxt;	/* our next DATA seq */
	int64_t credit;		/* bytes the victim allows us */
	bool fin_sent;
	uint32_t fin_seq;
	bool rst;		/* reset either way: the victim's socket is closed */
	bool vfin;
	uint32_t vfin_seq;
	uint64_t granted;	/* credit we gave the victim */
	uint64_t owed;		/* credit we still mean to give */
	uint64_t vrx;		/* DATA bytes from the victim */
	uint32_t vnext;		/* lowest victim seq not yet seen */
	uint64_t ahead[AHEAD_BITS / 64];	/* seqs vnext+1 .. seen */
};

struct chan {
	int fd;
	struct group *g;	/* NULL: accepted, HELLO not yet read */
	int idx;
	bool dead;
	bool no_hello;		/* we never said HELLO on it: do not use */
	bool wr_shut;		/* we shut it down for writing */
	/* receive */
	uint8_t hdr[NC_FRAME_HDR_LEN];
	int hgot;
	struct nc_frame f;
	uint32_t pleft;
	uint8_t hello[NC_HELLO_PAYLOAD_LEN];
	uint32_t hello_got;
	int last_rtype;
	uint32_t rx_data;	/* the victim's DATA bytes parsed (what an ACK says) */
	/* transmit */
	uint8_t *tx;
	size_t tlen, toff, tcap;
	int64_t stall;		/* first EAGAIN without progress since */
	int last_type;
};

struct group {
	bool used;
	bool out;		/* we opened it (we said HELLO) */
	bool dead;
	bool doomed;		/* an invalid frame went out */
	uint64_t gid;
	int nr;
	struct chan *ch[MAXCH];
	struct conn c[MAXC];
	uint32_t next_id;
	uint64_t frames;
	int64_t born;
};

static struct nc_rng R;
static struct group G[MAXG];
static bool lost_valid_pending;	/* a group died without an invalid frame */
static struct chan *pend[MAXPEND];
static int npend;
static int rogue_lfd = -1;
static uint16_t chan_port;
static uint8_t pool[POOL_LEN];

static struct {
	uint64_t frames, bytes, invalid, chaos;
	uint64_t by_type[NC_FT__MAX + 1];
	uint64_t rx_frames, rx_by_type[NC_FT__MAX + 1];
	uint64_t groups_out, groups_in, groups_lost, groups_lost_valid;
	uint64_t groups_dropped, stalls;
	uint64_t chan_rst, chan_eof, connect_fail, in_refused;
	uint64_t opens, accepts_rx, accepts_tx, refused_rx, vresets, vopens;
	uint64_t unmatched;
	uint64_t vretires;	/* RETIREs from the victim */
	uint64_t violations;
	uint64_t writes;
	bool trans[NC_FT__MAX][NC_FT__MAX];
	bool rtrans[NC_FT__MAX][NC_FT__MAX];
} st;

__attribute__((format(printf, 2, 3)))
static void violation(struct chan *ch, const char *fmt, ...)
{
	char m[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	st.violations++;
	if (st.violations <= 20)
		nc_logf("# VIOLATION by the victim (group %016llx channel %d): %s\n",
			ch->g ? (unsigned long long)ch->g->gid : 0ULL, ch->idx, m);
}

/* ------------------------------------------------------------- channels */

static struct chan *chan_new(int fd, struct group *g, int idx)
{
	struct chan *ch = calloc(1, sizeof(*ch));
	int one = 1;

	if (!ch) {
		close(fd);
		return NULL;
	}
	ch->fd = fd;
	ch->g = g;
	ch->idx = idx;
	nc_set_nonblock(fd, true);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return ch;
}

static void chan_free(struct chan *ch, bool rst)
{
	struct linger l = { 1, 0 };

	if (!ch)
		return;
	if (ch->fd >= 0) {
		if (rst)
			setsockopt(ch->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(ch->fd);
	}
	free(ch->tx);
	free(ch);
}

static void tx_put(struct chan *ch, const void *p, size_t n)
{
	if (ch->toff && ch->toff == ch->tlen)
		ch->toff = ch->tlen = 0;
	if (ch->tlen + n > ch->tcap) {
		size_t cap = ch->tcap ? ch->tcap : 4096;

		if (ch->toff) {
			memmove(ch->tx, ch->tx + ch->toff, ch->tlen - ch->toff);
			ch->tlen -= ch->toff;
			ch->toff = 0;
		}
		while (cap < ch->tlen + n)
			cap *= 2;
		if (cap != ch->tcap) {
			uint8_t *t = realloc(ch->tx, cap);

			if (!t) {
				setup_error("out of memory");
				return;
			}
			ch->tx = t;
			ch->tcap = cap;
		}
	}
	memcpy(ch->tx + ch->tlen, p, n);
	ch->tlen += n;
}

static size_t tx_backlog(const struct chan *ch)
{
	return ch->tlen - ch->toff;
}

static void group_kill(struct group *g, bool by_victim)
{
	if (g->dead)
		return;
	g->dead = true;
	if (by_victim) {
		st.groups_lost++;
		st.groups_lost_valid += !g->doomed;
		if (!g->doomed)
			lost_valid_pending = true;
	} else {
		st.groups_dropped++;
	}
}

static void chan_lost(struct chan *ch, int err)
{
	if (ch->dead)
		return;
	ch->dead = true;
	if (err == ECONNRESET || err == EPIPE)
		st.chan_rst++;
	else
		st.chan_eof++;
	if (opt.verbose)
		nc_logf("# group %016llx channel %d: %s\n",
			ch->g ? (unsigned long long)ch->g->gid : 0ULL, ch->idx,
			err ? strerror(err) : "EOF");
	if (ch->g)
		group_kill(ch->g, true);
}

/* Write what is queued, in random pieces, so frames split anywhere. */
static void chan_write(struct chan *ch)
{
	int k;

	for (k = 0; k < 6 && !ch->dead && !ch->wr_shut && tx_backlog(ch); k++) {
		size_t left = tx_backlog(ch), n;
		uint32_t pick = nc_rnd(&R, 10);
		ssize_t put;

		n = pick < 3 ? nc_rnd_in(&R, 1, 40) : pick < 6 ? nc_rnd_in(&R, 1, 700) : left;
		if (n > left)
			n = left;
		put = send(ch->fd, ch->tx + ch->toff, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		st.writes++;
		if (put > 0) {
			ch->toff += put;
			ch->stall = 0;
			continue;
		}
		if (errno == EAGAIN || errno == EINTR) {
			if (!ch->stall)
				ch->stall = nc_now_ms();
			return;
		}
		chan_lost(ch, errno);
		return;
	}
}

/* --------------------------------------------------------- receive side */

static struct conn *conn_slot(struct group *g)
{
	int i, dead = -1;

	for (i = 0; i < MAXC; i++) {
		if (g->c[i].st == C_FREE)
			break;
		if (g->c[i].st == C_DEAD && (dead < 0 || nc_rnd(&R, 2)))
			dead = i;
	}
	if (i == MAXC)
		i = dead;
	if (i < 0)
		return NULL;
	memset(&g->c[i], 0, sizeof(g->c[i]));
	g->c[i].pin = -1;
	return &g->c[i];
}

/* The conn a victim frame is for (src: its socket, dst: ours). */
static struct conn *conn_find(struct group *g, const struct nc_frame *f)
{
	int i;

	for (i = 0; i < MAXC; i++) {
		struct conn *c = &g->c[i];

		if (c->st == C_FREE || c->id != f->dst_id)
			continue;
		if (c->st == C_OPEN_SENT) {
			if (f->type == NC_FT_ACCEPT ||
			    (f->type == NC_FT_RESET && !f->src_id))
				return c;
			continue;
		}
		if (c->vid == f->src_id)
			return c;
	}
	return NULL;
}

static void bm_shift(uint64_t *a)
{
	int w;

	for (w = 0; w < AHEAD_BITS / 64; w++)
		a[w] = a[w] >> 1 | (w + 1 < AHEAD_BITS / 64 ? a[w + 1] << 63 : 0);
}

/* Bit k of c->ahead: victim seq c->vnext + 1 + k arrived. */
static void vseq_seen(struct chan *ch, struct conn *c, uint32_t seq)
{
	uint32_t d = seq - c->vnext;
	bool seen;

	if (d >= 0x80000000u) {
		violation(ch, "DATA seq %u repeated (all before %u arrived)", seq,
			  c->vnext);
		return;
	}
	if (d == 0) {
		do {
			c->vnext++;
			seen = c->ahead[0] & 1;
			bm_shift(c->ahead);
		} while (seen);
		return;
	}
	if (d > AHEAD_BITS)
		return;		/* too far ahead to track */
	d--;
	if (c->ahead[d / 64] & (1ULL << (d % 64)))
		violation(ch, "DATA seq %u repeated", seq);
	c->ahead[d / 64] |= 1ULL << (d % 64);
}

/* A free group slot; the victim's groups leave room for ours. */
static struct group *group_alloc(bool out)
{
	int i, n_in = 0;

	for (i = 0; i < MAXG; i++)
		n_in += G[i].used && !G[i].out;
	if (!out && n_in >= MAXG - opt.out_groups)
		return NULL;
	for (i = 0; i < MAXG; i++)
		if (!G[i].used) {
			memset(&G[i], 0, sizeof(G[i]));
			G[i].used = true;
			G[i].out = out;
			G[i].born = nc_now_ms();
			G[i].next_id = nc_rnd_in(&R, 1, 1u << 20);
			return &G[i];
		}
	return NULL;
}

/* The HELLO on an accepted channel: it joins (or founds) its group. */
static void rx_hello_pending(struct chan *ch)
{
	uint32_t idx = NC_HELLO_ARG_IDX(ch->f.arg), nr = NC_HELLO_ARG_NCHAN(ch->f.arg);
	struct group *g = NULL;
	u64 gid = 0;
	int i;

	if (nc_hello_decode(ch->hello, NC_HELLO_PAYLOAD_LEN, &gid)) {
		violation(ch, "HELLO payload with reserved bytes set");
		ch->dead = true;
		return;
	}
	for (i = 0; i < MAXG; i++)
		if (G[i].used && !G[i].out && !G[i].dead && G[i].gid == gid)
			g = &G[i];
	if (nr > MAXCH) {
		violation(ch, "HELLO for a group of %u channels (net.netchannel.channels is %d)",
			  nr, opt.channels);
		ch->dead = true;
		return;
	}
	if (!g) {
		g = group_alloc(false);
		if (!g) {
			st.in_refused++;
			ch->dead = true;	/* no room: the victim retries */
			return;
		}
		g->gid = gid;
		g->nr = nr;
		st.groups_in++;
		if (opt.verbose)
			nc_logf("# victim opened group %016llx (%u channels)\n",
				(unsigned long long)gid, nr);
	}
	if (nr != (uint32_t)g->nr || idx >= nr || g->ch[idx]) {
		violation(ch, "HELLO for channel %u of %u in a group of %d%s", idx, nr,
			  g->nr, idx < nr && g->ch[idx] ? " (index taken)" : "");
		ch->dead = true;
		return;
	}
	ch->g = g;
	ch->idx = idx;
	g->ch[idx] = ch;
	for (i = 0; i < npend; i++)
		if (pend[i] == ch) {
			pend[i] = pend[--npend];
			break;
		}
}

static void emit(struct group *g, int ci, const struct nc_frame *f);

static void on_frame(struct chan *ch)
{
	const struct nc_frame *f = &ch->f;
	struct group *g = ch->g;
	struct conn *c;

	st.rx_frames++;
	st.rx_by_type[f->type]++;
	if (ch->last_rtype)
		st.rtrans[ch->last_rtype][f->type] = true;
	ch->last_rtype = f->type;
	if (!g) {
		if (f->type != NC_FT_HELLO) {
			violation(ch, "%s before HELLO on a channel the victim opened",
				  nc_frame_type_str(f->type));
			ch->dead = true;
			return;
		}
		rx_hello_pending(ch);
		return;
	}
	switch (f->type) {
	case NC_FT_HELLO:
		violation(ch, "HELLO %s", g->out ? "on a channel we opened" :
			  "twice on one channel");
		return;
	case NC_FT_RETIRE:
		/*
		 * The victim retires idle channels it added to groups it
		 * opened; the rogue never answers, so the channel stays
		 * retiring on the victim's side, unused.
		 */
		st.vretires++;
		if (g->out)
			violation(ch, "RETIRE on a group the victim accepted");
		return;
	case NC_FT_OPEN:
		st.vopens++;
		if (g->out) {
			violation(ch, "OPEN on a group the victim accepted");
			return;
		}
		c = conn_slot(g);
		if (!c)
			return;
		c->st = C_OPEN_RCVD;
		c->vid = f->src_id;
		c->home = ch->idx;
		return;
	case NC_FT_DATA:
		/* the in-flight bound: the frame that reached the limit asks */
		ch->rx_data += NC_FRAME_HDR_LEN + f->len;
		if ((f->flags & NC_FF_ACKREQ) && !g->doomed)
			emit(g, ch->idx, &(struct nc_frame){ .type = NC_FT_ACK,
							     .arg = ch->rx_data });
		break;
	default:
		break;
	}
	c = conn_find(g, f);
	if (!c) {
		st.unmatched++;
		return;
	}
	switch (f->type) {
	case NC_FT_ACCEPT:
		st.accepts_rx++;
		c->st = C_EST;
		c->vid = f->src_id;
		/* our window: the victim may send once we grant it */
		c->owed = nc_chance(&R, 0.2) ? nc_rnd_in(&R, 1, 16384) : nc_rnd_in(&R, 16384, 1 << 20);
		break;
	case NC_FT_CREDIT:
		c->credit += f->arg;
		c->pin = -1;	/* it processed our ACCEPT: any channel now */
		break;
	case NC_FT_DATA:
		/* frame_size (16384) while it shares the peer, else up to 64 KiB */
		if (f->len > NC_FRAME_MAX_PAYLOAD)
			violation(ch, "DATA of %u bytes (at most %u)", f->len,
				  NC_FRAME_MAX_PAYLOAD);
		if (c->vfin && !nc_seq_before(f->seq, c->vfin_seq))
			violation(ch, "DATA seq %u after its CLOSE at %u", f->seq,
				  c->vfin_seq);
		vseq_seen(ch, c, f->seq);
		if (f->flags & NC_FF_CREDIT)
			c->credit += f->arg;	/* the reader's credit, carried */
		c->vrx += f->len;
		if (c->vrx > c->granted)
			violation(ch, "socket %u sent %llu bytes on %llu of credit",
				  c->vid, (unsigned long long)c->vrx,
				  (unsigned long long)c->granted);
		c->owed += nc_frame_cost(f->len);	/* what it used */
		break;
	case NC_FT_CLOSE:
		if (c->vfin)
			violation(ch, "second CLOSE for socket %u", c->vid);
		c->vfin = true;
		c->vfin_seq = f->seq;
		if (c->fin_sent && c->st == C_EST)
			c->st = C_DEAD;
		break;
	case NC_FT_RESET:
		if (c->st == C_OPEN_SENT) {
			st.refused_rx++;
		} else {
			st.vresets++;
			c->rst = true;
		}
		c->st = C_DEAD;
		break;
	default:
		break;
	}
}

static void feed(struct chan *ch, const uint8_t *p, size_t n)
{
	size_t k;
	int ret;

	while (n && !ch->dead) {
		if (ch->hgot < NC_FRAME_HDR_LEN) {
			k = NC_FRAME_HDR_LEN - ch->hgot;
			if (k > n)
				k = n;
			memcpy(ch->hdr + ch->hgot, p, k);
			ch->hgot += k;
			p += k;
			n -= k;
			if (ch->hgot < NC_FRAME_HDR_LEN)
				return;
			ret = nc_frame_decode(ch->hdr, NC_FRAME_HDR_LEN, &ch->f);
			if (ret) {
				violation(ch, "undecodable frame: %s (type %u len %u)",
					  nc_frame_err_str(ret), ch->f.type, ch->f.len);
				ch->dead = true;
				if (ch->g)
					group_kill(ch->g, false);
				return;
			}
			ch->pleft = ch->f.len;
			ch->hello_got = 0;
			if (!ch->pleft) {
				ch->hgot = 0;
				on_frame(ch);
			}
			continue;
		}
		k = ch->pleft < n ? ch->pleft : n;
		if (ch->f.type == NC_FT_HELLO && ch->hello_got < NC_HELLO_PAYLOAD_LEN) {
			size_t h = NC_HELLO_PAYLOAD_LEN - ch->hello_got;

			memcpy(ch->hello + ch->hello_got, p, h < k ? h : k);
			ch->hello_got += h < k ? h : k;
		}
		ch->pleft -= k;
		p += k;
		n -= k;
		if (!ch->pleft) {
			ch->hgot = 0;
			on_frame(ch);
		}
	}
}

static void chan_read(struct chan *ch)
{
	static uint8_t buf[65536];
	ssize_t n;
	int i;

	for (i = 0; i < 8 && !ch->dead; i++) {
		n = recv(ch->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			feed(ch, buf, n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		chan_lost(ch, n ? errno : 0);
		return;
	}
}

/* ------------------------------------------------------------ transmit */

enum {
	M_NONE, M_MAGIC, M_VERSION, M_RESERVED, M_RESERVED2,
};

static void note_type(struct chan *ch, uint8_t type)
{
	if (type >= NC_FT_HELLO && type < NC_FT__MAX) {
		st.by_type[type]++;
		if (ch->last_type)
			st.trans[ch->last_type][type] = true;
		ch->last_type = type;
	} else {
		st.by_type[0]++;
		ch->last_type = 0;
	}
}

/*
 * Queue frame @f on channel @ci of @g, with @plen payload bytes (the
 * HELLO payload for HELLO, random bytes otherwise) and header mutation @mut.
 */
static void emit_raw(struct group *g, int ci, const struct nc_frame *f,
		     uint32_t plen, int mut)
{
	struct chan *ch = g->ch[ci];
	uint8_t hdr[NC_FRAME_HDR_LEN];

	if (!ch || ch->dead)
		return;
	nc_frame_encode(f, hdr);
	switch (mut) {
	case M_MAGIC:
		hdr[nc_rnd(&R, 2)] ^= nc_rnd_in(&R, 1, 255);
		break;
	case M_VERSION:
		hdr[2] = nc_rnd(&R, 2) ? 0 : nc_rnd_in(&R, 2, 255);
		break;
	case M_RESERVED:
		hdr[6 + nc_rnd(&R, 2)] = nc_rnd_in(&R, 1, 255);
		break;
	case M_RESERVED2:
		hdr[28 + nc_rnd(&R, 4)] = nc_rnd_in(&R, 1, 255);
		break;
	}
	tx_put(ch, hdr, sizeof(hdr));
	if (f->type == NC_FT_HELLO && plen == NC_HELLO_PAYLOAD_LEN && !mut) {
		uint8_t pl[NC_HELLO_PAYLOAD_LEN];

		nc_hello_encode(g->gid, pl);
		tx_put(ch, pl, sizeof(pl));
	} else if (plen) {
		while (plen) {
			uint32_t k = plen < POOL_LEN / 2 ? plen : POOL_LEN / 2;

			tx_put(ch, pool + nc_rnd(&R, POOL_LEN - k), k);
			plen -= k;
		}
	}
	note_type(ch, f->type);
	st.frames++;
	st.bytes += NC_FRAME_HDR_LEN + plen;
	g->frames++;
}

static void emit(struct group *g, int ci, const struct nc_frame *f)
{
	emit_raw(g, ci, f, f->len, M_NONE);
}

static bool chan_usable(const struct chan *ch)
{
	return ch && !ch->dead && !ch->no_hello && !ch->wr_shut;
}

/* A channel for @c's next frame: its pin, or any usable one. */
static int pick_ch(struct group *g, const struct conn *c)
{
	int i, n = 0, pick[MAXCH];

	if (c && c->pin >= 0 && chan_usable(g->ch[c->pin]))
		return c->pin;
	for (i = 0; i < g->nr; i++)
		if (chan_usable(g->ch[i]))
			pick[n++] = i;
	return n ? pick[nc_rnd(&R, n)] : -1;
}

static uint32_t data_len(void)
{
	uint32_t k = nc_rnd(&R, 100);

	if (k < 55)
		return nc_rnd_in(&R, 1, 64);
	if (k < 90)
		return nc_rnd_in(&R, 65, 1024);
	if (k < 99)
		return nc_rnd_in(&R, 1025, 16384);
	return nc_rnd_in(&R, 16385, NC_FRAME_MAX_PAYLOAD);
}

/* The errno a RESET carries: mostly ECONNRESET, sometimes anything legal. */
static uint32_t reset_errno(void)
{
	static const uint32_t odd[] = { EAGAIN, EINTR, EINPROGRESS, EPIPE, ENOMEM,
					EFAULT, EBADF, 512, 513, 514, 516, 517,
					NC_RESET_MAX_ERRNO };
	uint32_t k = nc_rnd(&R, 100);

	if (k < 70)
		return ECONNRESET;
	if (k < 85)
		return nc_rnd_in(&R, 1, 133);
	if (k < 95)
		return odd[nc_rnd(&R, sizeof(odd) / sizeof(odd[0]))];
	return nc_rnd_in(&R, 1, NC_RESET_MAX_ERRNO);
}

static uint16_t open_port(void)
{
	uint32_t k = nc_rnd(&R, 100);
	uint16_t p;

	if (k < 70)
		return FUZZ_PORT_A;
	if (k < 90)
		return FUZZ_PORT_B;
	if (k < 97)
		return CLOSED_PORT;
	p = nc_rnd_in(&R, 1, 65535);
	return p == REAL_PORT ? CLOSED_PORT : p;
}

static bool can_data(const struct conn *c)
{
	return c->st == C_EST && c->credit >= NC_FRAME_MIN_COST &&
	       (!c->fin_sent || nc_seq_before(c->snd_nxt, c->fin_seq));
}

/* A random conn of @g that satisfies @ok, or NULL. */
static struct conn *pick_conn(struct group *g, bool (*ok)(const struct conn *c))
{
	int i, n = 0, pick[MAXC];

	for (i = 0; i < MAXC; i++)
		if (ok(&g->c[i]))
			pick[n++] = i;
	return n ? &g->c[pick[nc_rnd(&R, n)]] : NULL;
}

static bool is_est(const struct conn *c) { return c->st == C_EST; }
static bool is_open_rcvd(const struct conn *c) { return c->st == C_OPEN_RCVD; }
static bool is_live(const struct conn *c)
{
	return c->st == C_EST || c->st == C_OPEN_SENT || c->st == C_OPEN_RCVD;
}
static bool is_stale(const struct conn *c) { return c->st == C_DEAD && c->rst && c->vid; }
static bool is_owed(const struct conn *c) { return c->st == C_EST && c->owed; }
static bool is_closable(const struct conn *c) { return c->st == C_EST && !c->fin_sent; }
static bool has_vid(const struct conn *c) { return c->st != C_FREE && c->vid; }
static bool has_id(const struct conn *c) { return c->st != C_FREE && c->id; }

static int gen_open(struct group *g)
{
	struct conn *c = conn_slot(g), *dup;
	struct nc_frame f = { .type = NC_FT_OPEN };
	int ci;

	if (!c)
		return 0;
	ci = pick_ch(g, NULL);
	if (ci < 0)
		return 0;
	/* now and then the id of a live socket of ours: legal, if odd */
	dup = nc_chance(&R, 0.03) ? pick_conn(g, has_id) : NULL;
	c->id = dup && dup != c ? dup->id : g->next_id++;
	c->st = C_OPEN_SENT;
	c->home = ci;
	f.src_id = c->id;
	f.seq = nc_chance(&R, 0.9) ? 0 : (uint32_t)nc_rnd64(&R);	/* not checked */
	f.arg = NC_OPEN_ARG(open_port(), nc_rnd_in(&R, 1024, 65535));
	emit(g, ci, &f);
	st.opens++;
	return 1;
}

static void gen_credit(struct group *g, struct conn *c, int ci, uint32_t arg)
{
	struct nc_frame f = { .type = NC_FT_CREDIT, .src_id = c->id,
			      .dst_id = c->vid, .arg = arg };

	emit(g, ci, &f);
	c->granted += arg;
}

static int gen_accept(struct group *g)
{
	struct conn *c = pick_conn(g, is_open_rcvd);
	struct nc_frame f = { .type = NC_FT_ACCEPT };
	int ci;

	if (!c)
		return 0;
	ci = nc_chance(&R, 0.7) && chan_usable(g->ch[c->home]) ? c->home : pick_ch(g, NULL);
	if (ci < 0)
		return 0;
	c->id = g->next_id++;
	c->st = C_EST;
	c->pin = ci;	/* until the victim's CREDIT says it saw the ACCEPT */
	f.src_id = c->id;
	f.dst_id = c->vid;
	emit(g, ci, &f);
	st.accepts_tx++;
	if (nc_chance(&R, 0.05)) {
		/* an acceptor that closes or aborts at once, before any CREDIT */
		struct nc_frame e = { .type = nc_rnd(&R, 2) ? NC_FT_CLOSE : NC_FT_RESET,
				      .src_id = c->id, .dst_id = c->vid };

		if (e.type == NC_FT_RESET) {
			e.arg = reset_errno();
			c->st = C_DEAD;
			c->rst = true;
		} else {
			c->fin_sent = true;
			c->fin_seq = 0;
		}
		emit(g, ci, &e);
		return 2;
	}
	if (nc_chance(&R, 0.9)) {
		gen_credit(g, c, ci, nc_chance(&R, 0.2) ? nc_rnd_in(&R, 1, 16384) :
			   nc_rnd_in(&R, 16384, 1 << 20));
		return 2;
	}
	c->owed = nc_rnd_in(&R, 1, 65536);
	return 1;
}

static int gen_refuse(struct group *g)
{
	struct conn *c = pick_conn(g, is_open_rcvd);
	struct nc_frame f = { .type = NC_FT_RESET };
	int ci = pick_ch(g, NULL);

	if (!c || ci < 0)
		return 0;
	f.dst_id = c->vid;
	f.arg = nc_chance(&R, 0.8) ? ECONNREFUSED : reset_errno();
	c->st = C_DEAD;
	emit(g, ci, &f);
	return 1;
}

/*
 * @n DATA frames of one socket (consecutive seqs), queued in a random order
 * on random channels: the victim must put them back in order.
 */
static int gen_data(struct group *g, int n)
{
	struct conn *c = pick_conn(g, can_data);
	struct nc_frame f[8];
	int i, j, t, ci[8], ord[8];
	uint32_t len;

	if (!c)
		return 0;
	if (c->fin_sent)
		n = 1;		/* filling the gap before an early CLOSE */
	for (i = 0; i < n; i++) {
		len = data_len();
		/* a frame uses at least NC_FRAME_MIN_COST of the credit */
		if (nc_frame_cost(len) > c->credit / (n - i))
			len = c->credit / (n - i);
		if (!len || nc_frame_cost(len) > c->credit / (n - i))
			break;
		ci[i] = pick_ch(g, c);
		if (ci[i] < 0)
			break;
		f[i] = (struct nc_frame){ .type = NC_FT_DATA, .len = len,
			.src_id = c->id, .dst_id = c->vid, .seq = c->snd_nxt++,
			.flags = nc_chance(&R, 0.3) ? NC_FF_PUSH : 0 };
		/* now and then what we owe rides along, as the victim's does */
		if (c->owed && nc_chance(&R, 0.3)) {
			f[i].flags |= NC_FF_CREDIT;
			f[i].arg = c->owed > 1u << 20 ? 1u << 20 : (uint32_t)c->owed;
			c->owed -= f[i].arg;
			c->granted += f[i].arg;
		}
		c->credit -= nc_frame_cost(len);
		ord[i] = i;
	}
	n = i;
	for (i = n - 1; i > 0; i--) {
		j = nc_rnd(&R, i + 1);
		t = ord[i];
		ord[i] = ord[j];
		ord[j] = t;
	}
	for (i = 0; i < n; i++)
		emit(g, ci[ord[i]], &f[ord[i]]);
	return n;
}

static int gen_credit_step(struct group *g)
{
	struct conn *c = pick_conn(g, is_owed);
	uint32_t arg;
	int ci;

	if (!c || !nc_chance(&R, 0.8)) {
		c = pick_conn(g, is_est);
		if (!c)
			return 0;
		arg = nc_rnd_in(&R, 1, 4096);
	} else {
		arg = c->owed > 1u << 20 ? 1u << 20 : (uint32_t)c->owed;
		c->owed -= arg;
	}
	ci = pick_ch(g, c);
	if (ci < 0)
		return 0;
	gen_credit(g, c, ci, arg);
	return 1;
}

/*
 * A conn of @g that satisfies @ok and a channel for its next frame: the
 * channel, with *@cp the conn and *@f a frame of @type between its ids;
 * -1 if there is no such conn or no usable channel.
 */
static int pick_target(struct group *g, bool (*ok)(const struct conn *c),
		       uint8_t type, struct conn **cp, struct nc_frame *f)
{
	struct conn *c = pick_conn(g, ok);
	int ci;

	if (!c)
		return -1;
	ci = pick_ch(g, c);
	if (ci < 0)
		return -1;
	*cp = c;
	*f = (struct nc_frame){ .type = type, .src_id = c->id, .dst_id = c->vid };
	return ci;
}

static int gen_close(struct group *g)
{
	struct nc_frame f;
	struct conn *c;
	int ci = pick_target(g, is_closable, NC_FT_CLOSE, &c, &f);

	if (ci < 0)
		return 0;
	/* now and then ahead of our last DATA: the gap may be filled later */
	f.seq = c->snd_nxt + (nc_chance(&R, 0.1) ? nc_rnd_in(&R, 1, 3) : 0);
	c->fin_sent = true;
	c->fin_seq = f.seq;
	if (c->vfin)
		c->st = C_DEAD;
	emit(g, ci, &f);
	return 1;
}

static int gen_reset(struct group *g)
{
	struct nc_frame f;
	struct conn *c;
	int ci = pick_target(g, is_est, NC_FT_RESET, &c, &f);

	if (ci < 0)
		return 0;
	f.arg = reset_errno();
	c->st = C_DEAD;
	c->rst = true;
	c->pin = ci;	/* stale frames go behind the RESET */
	emit(g, ci, &f);
	return 1;
}

/* Frames for a socket that was reset: answered with RESET or dropped. */
static int gen_stale(struct group *g)
{
	static const uint8_t types[] = { NC_FT_DATA, NC_FT_CLOSE, NC_FT_ACCEPT,
					 NC_FT_CREDIT, NC_FT_RESET };
	struct nc_frame f;
	struct conn *c;
	int ci = pick_target(g, is_stale, 0, &c, &f);

	if (ci < 0)
		return 0;
	f.type = types[nc_rnd(&R, sizeof(types))];
	f.seq = c->snd_nxt + nc_rnd(&R, 4);
	switch (f.type) {
	case NC_FT_DATA:
		f.len = nc_rnd_in(&R, 1, 256);
		break;
	case NC_FT_CREDIT:
		f.arg = nc_rnd_in(&R, 1, 65536);
		break;
	case NC_FT_RESET:
		f.arg = ECONNRESET;
		break;
	}
	emit(g, ci, &f);
	return 1;
}

/* A frame the victim must refuse (and reset the group for, mostly). */
static int gen_invalid(struct group *g)
{
	struct conn *c = pick_conn(g, is_est), *o;
	struct nc_frame f = { .type = NC_FT_DATA, .len = nc_rnd_in(&R, 1, 128) };
	int ci = pick_ch(g, c), mut = M_NONE, kind = nc_rnd(&R, 27);
	uint32_t plen = 0;
	uint8_t junk[64];
	bool have_plen = false;

	if (ci < 0)
		return 0;
	if (c) {
		f.src_id = c->id;
		f.dst_id = c->vid;
		f.seq = c->snd_nxt;
	} else {
		f.src_id = nc_rnd_in(&R, 1, 1000);
		f.dst_id = nc_rnd_in(&R, 1, 1000);
	}
	switch (kind) {
	case 0:
		mut = M_MAGIC;
		break;
	case 1:
		mut = M_VERSION;
		break;
	case 2:
		f.type = nc_rnd(&R, 2) ? 0 : nc_rnd_in(&R, NC_FT__MAX, 255);
		f.len = 0;
		break;
	case 3:	/* a DATA flag on a control frame, or an unknown flag */
		f.type = nc_rnd_in(&R, NC_FT_ACCEPT, NC_FT_RESET);
		f.len = f.type == NC_FT_DATA ? 1 : 0;
		f.flags = f.type == NC_FT_DATA ? 1u << nc_rnd_in(&R, 3, 15) : 1u << nc_rnd(&R, 16);
		f.arg = f.type == NC_FT_CREDIT || f.type == NC_FT_RESET ? 1 : 0;
		break;
	case 4:
		mut = nc_rnd(&R, 2) ? M_RESERVED : M_RESERVED2;
		break;
	case 5:	/* DATA too long, or empty; a control frame with a payload */
		switch (nc_rnd(&R, 3)) {
		case 0:
			f.len = nc_rnd_in(&R, NC_FRAME_MAX_PAYLOAD + 1, 0xffffffffu);
			plen = nc_rnd(&R, 4096);
			have_plen = true;
			break;
		case 1:
			f.len = 0;
			break;
		default:
			f.type = NC_FT_CREDIT;
			f.arg = 100;
			f.len = nc_rnd_in(&R, 1, 64);
			break;
		}
		break;
	case 6:	/* zero ids */
		if (nc_rnd(&R, 2))
			f.src_id = 0;
		else
			f.dst_id = 0;
		break;
	case 7:	/* bad arguments */
		switch (nc_rnd(&R, 4)) {
		case 0:
			f.type = NC_FT_CREDIT;
			f.len = 0;
			f.arg = 0;
			break;
		case 1:
			f.type = NC_FT_RESET;
			f.len = 0;
			f.arg = nc_rnd(&R, 2) ? 0 : nc_rnd_in(&R, NC_RESET_MAX_ERRNO + 1, 0xffffffffu);
			break;
		case 2:
			f.type = NC_FT_OPEN;
			f.len = 0;
			f.dst_id = 0;
			f.arg = NC_OPEN_ARG(0, 1234);
			break;
		default:
			f.type = NC_FT_ACCEPT;
			f.len = 0;
			f.arg = nc_rnd_in(&R, 1, 0xffffffffu);
			break;
		}
		break;
	case 8:	/* a second HELLO, valid or not */
	case 22:
	case 23:
		f = (struct nc_frame){ .type = NC_FT_HELLO, .len = NC_HELLO_PAYLOAD_LEN,
			.arg = nc_rnd(&R, 2) ? NC_HELLO_ARG(ci, g->nr) :
				NC_HELLO_ARG(nc_rnd(&R, 70), nc_rnd(&R, 70)) };
		break;
	case 9:	/* seq far outside the window, or behind it */
		f.seq += nc_rnd(&R, 2) ? nc_rnd_in(&R, 1u << 24, 0x7fffffffu) : -nc_rnd_in(&R, 1, 1000);
		break;
	case 10: /* more than the credit */
		if (c && c->credit >= 0 && c->credit < NC_FRAME_MAX_PAYLOAD) {
			f.len = c->credit + 1;
		} else if (c) {
			f.type = NC_FT_CREDIT;
			f.len = 0;
			f.arg = 0xffffffffu;	/* credit overflow instead */
		}
		break;
	case 11: /* repeated seq */
		if (c && c->snd_nxt)
			f.seq = c->snd_nxt - 1;
		break;
	case 26: /* DATA that carries no credit, or an overflowing one */
		f.flags = NC_FF_CREDIT;
		f.arg = nc_rnd(&R, 2) ? 0 : 0x80000000u | (uint32_t)nc_rnd64(&R);
		break;
	case 25: /* an ACK of more than the victim sent, or not a bare one */
		f = (struct nc_frame){ .type = NC_FT_ACK,
			.arg = g->ch[ci]->rx_data + nc_rnd_in(&R, 1, 1u << 20) };
		switch (nc_rnd(&R, 4)) {
		case 0:
			f.src_id = nc_rnd_in(&R, 1, 1000);
			break;
		case 1:
			f.len = nc_rnd_in(&R, 1, 64);
			break;
		}
		break;
	case 12: /* credit overflow */
		f.type = NC_FT_CREDIT;
		f.len = 0;
		f.arg = 0x80000000u | (uint32_t)nc_rnd64(&R);
		break;
	case 13: /* DATA after our CLOSE */
		if (c) {
			struct nc_frame cl = { .type = NC_FT_CLOSE, .src_id = c->id,
					       .dst_id = c->vid, .seq = c->snd_nxt };

			emit(g, ci, &cl);
			c->fin_sent = true;
			c->fin_seq = c->snd_nxt;
		}
		break;
	case 14: /* CLOSE twice, or behind what arrived */
		f.type = NC_FT_CLOSE;
		f.len = 0;
		if (c && c->fin_sent)
			f.seq = c->fin_seq;
		else
			f.seq -= nc_rnd_in(&R, 1, 5);
		break;
	case 15: /* ACCEPT for an established socket */
		f.type = NC_FT_ACCEPT;
		f.len = 0;
		break;
	case 16: /* a socket id never handed out */
		f.dst_id = nc_rnd_in(&R, 0x70000000u, 0xfffffffeu);
		f.type = nc_rnd_in(&R, NC_FT_DATA, NC_FT_CLOSE);
		f.len = f.type == NC_FT_DATA ? 10 : 0;
		f.arg = f.type == NC_FT_CREDIT ? 10 : 0;
		break;
	case 17: /* an id near a live one: another socket, maybe another peer's */
		o = pick_conn(g, has_vid);
		f.dst_id = (o ? o->vid : 1) + nc_rnd_in(&R, 1, 6) * (nc_rnd(&R, 2) ? 1 : -1);
		f.type = nc_rnd_in(&R, NC_FT_ACCEPT, NC_FT_RESET);
		f.len = f.type == NC_FT_DATA ? 10 : 0;
		f.arg = f.type == NC_FT_CREDIT || f.type == NC_FT_RESET ? 1 : 0;
		break;
	case 18: /* wrong src for a live socket */
		f.src_id += nc_rnd_in(&R, 1, 100);
		f.type = nc_rnd_in(&R, NC_FT_DATA, NC_FT_CLOSE);
		f.len = f.type == NC_FT_DATA ? 10 : 0;
		f.arg = f.type == NC_FT_CREDIT ? 10 : 0;
		break;
	case 19: /* garbage bytes */
		{
			uint32_t i, n = nc_rnd_in(&R, 1, sizeof(junk));
			struct chan *ch = g->ch[ci];

			for (i = 0; i < n; i++)
				junk[i] = (uint8_t)nc_rnd64(&R);
			tx_put(ch, junk, n);
			note_type(ch, 0);
			st.frames++;
			st.invalid++;
			g->doomed = true;
			return 1;
		}
	case 20: /* a header cut short, then the channel closes */
		{
			struct chan *ch = g->ch[ci];
			uint8_t hdr[NC_FRAME_HDR_LEN];

			nc_frame_encode(&f, hdr);
			tx_put(ch, hdr, nc_rnd_in(&R, 1, NC_FRAME_HDR_LEN - 1));
			chan_write(ch);
			note_type(ch, f.type);
			st.frames++;
			st.invalid++;
			shutdown(ch->fd, SHUT_WR);
			ch->wr_shut = true;
			g->doomed = true;
			return 1;
		}
	default: /* OPEN flood-ish burst of OPENs with the same id */
		{
			int k, n = nc_rnd_in(&R, 2, 6), sent = 0;
			uint32_t id = g->next_id++;

			for (k = 0; k < n; k++) {
				struct nc_frame o2 = { .type = NC_FT_OPEN, .src_id = id,
					.arg = NC_OPEN_ARG(open_port(), 4000 + k) };

				int oc = pick_ch(g, NULL);

				emit(g, oc < 0 ? ci : oc, &o2);
				sent++;
			}
			st.opens += sent;
			return sent;	/* legal, in fact */
		}
	}
	if (!have_plen)
		plen = f.len > NC_FRAME_MAX_PAYLOAD ? 0 : f.len;
	emit_raw(g, ci, &f, plen, mut);
	st.invalid++;
	g->doomed = true;
	return 1;
}

/* We drop a channel ourselves: the victim must kill the group cleanly. */
static void chaos(struct group *g)
{
	int ci = pick_ch(g, NULL);
	struct chan *ch;

	if (ci < 0)
		return;
	ch = g->ch[ci];
	st.chaos++;
	switch (nc_rnd(&R, 3)) {
	case 0:
		shutdown(ch->fd, SHUT_WR);	/* EOF; we still read */
		ch->wr_shut = true;
		g->doomed = true;
		return;
	case 1:
		chan_free(ch, true);		/* RST */
		break;
	default:
		chan_free(ch, false);		/* FIN */
		break;
	}
	g->ch[ci] = NULL;
	group_kill(g, false);
}

enum { A_OPEN, A_ACCEPT, A_REFUSE, A_DATA, A_REORDER, A_CREDIT, A_CLOSE,
       A_RESET, A_STALE, A_ACK, A__N };

/* An ACK of what the victim sent on a channel, unasked (or again). */
static int gen_ack(struct group *g)
{
	int ci = pick_ch(g, NULL);

	if (ci < 0)
		return 0;
	emit(g, ci, &(struct nc_frame){ .type = NC_FT_ACK,
					.arg = g->ch[ci]->rx_data });
	return 1;
}

static int gen_step(struct group *g)
{
	int w[A__N] = { 0 }, tot = 0, a, i, nlive = 0;
	bool est = false, rcvd = false, data = false, stale = false, owed = false;

	if (nc_chance(&R, opt.invalid))
		return gen_invalid(g);
	if (nc_chance(&R, opt.invalid / 10)) {
		chaos(g);
		return 0;
	}
	for (i = 0; i < MAXC; i++) {
		const struct conn *c = &g->c[i];

		nlive += is_live(c);
		est |= is_est(c);
		rcvd |= is_open_rcvd(c);
		data |= can_data(c);
		stale |= is_stale(c);
		owed |= is_owed(c);
	}
	w[A_OPEN] = nlive < 6 ? 12 : nlive < MAXC - 4 ? 1 : 0;
	if (rcvd) {
		w[A_ACCEPT] = 60;
		w[A_REFUSE] = 6;
	}
	if (data) {
		w[A_DATA] = 45;
		w[A_REORDER] = 8;
	}
	if (est) {
		w[A_CREDIT] = owed ? 30 : 4;
		w[A_CLOSE] = 2;
		w[A_RESET] = 1;
	}
	if (stale)
		w[A_STALE] = 3;
	w[A_ACK] = 2;
	for (a = 0; a < A__N; a++)
		tot += w[a];
	if (!tot)
		return 0;
	i = nc_rnd(&R, tot);
	for (a = 0; i >= w[a]; a++)
		i -= w[a];
	switch (a) {
	case A_OPEN:
		return gen_open(g);
	case A_ACCEPT:
		return gen_accept(g);
	case A_REFUSE:
		return gen_refuse(g);
	case A_DATA:
		return gen_data(g, 1);
	case A_REORDER:
		return gen_data(g, nc_rnd_in(&R, 2, 6));
	case A_CREDIT:
		return gen_credit_step(g);
	case A_CLOSE:
		return gen_close(g);
	case A_RESET:
		return gen_reset(g);
	case A_ACK:
		return gen_ack(g);
	default:
		return gen_stale(g);
	}
}

/* ---------------------------------------------------------------- groups */

enum { HD_NONE, HD_SKIP, HD_DUP, HD_NR, HD_IDX, HD_PAYLOAD, HD_BEFORE, HD_TWICE,
       HD_EARLY, HD__N };

/* A group of channels from the rogue to the victim, HELLO on each. */
static int out_group_new(void)
{
	struct sockaddr_in sin = nc_sin(IP_V_R, chan_port);
	struct group *g = group_alloc(true);
	int i, fd, defect = nc_chance(&R, 0.12) ? nc_rnd_in(&R, 1, HD__N + 1) : HD_NONE;
	int bad = nc_rnd(&R, opt.channels);

	if (!g)
		return -1;
	if (defect >= HD__N)
		defect = nc_rnd(&R, 2) ? HD_TWICE : HD_EARLY;	/* twice as often */
	g->gid = nc_rnd64(&R);
	g->nr = opt.channels;
	for (i = 0; i < g->nr; i++) {
		struct nc_frame f = { .type = NC_FT_HELLO, .len = NC_HELLO_PAYLOAD_LEN,
				      .arg = NC_HELLO_ARG(i, g->nr) };
		int mut = M_NONE;

		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
		if (fd < 0) {
			setup_error("rogue socket: %s", strerror(errno));
			break;
		}
		nc_set_timeo(fd, SO_SNDTIMEO, 3000);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
			if (opt.verbose)
				nc_logf("# rogue connect to %s:%u: %s\n", IP_V_R, chan_port,
					strerror(errno));
			close(fd);
			st.connect_fail++;
			break;
		}
		g->ch[i] = chan_new(fd, g, i);
		if (!g->ch[i])
			break;
		if (defect && i == bad) {
			switch (defect) {
			case HD_SKIP:
				g->ch[i]->no_hello = true;
				continue;
			case HD_DUP:
				if (g->nr > 1)
					f.arg = NC_HELLO_ARG(i ? 0 : 1, g->nr);
				break;
			case HD_NR:
				f.arg = NC_HELLO_ARG(i, g->nr + 1);
				break;
			case HD_IDX:
				f.arg = NC_HELLO_ARG(g->nr + nc_rnd(&R, 3), g->nr);
				break;
			case HD_PAYLOAD:
				mut = -1;
				break;
			case HD_BEFORE:
				{
					struct nc_frame o = { .type = NC_FT_OPEN,
						.src_id = 1, .arg = NC_OPEN_ARG(FUZZ_PORT_A, 1) };

					emit(g, i, &o);
				}
				break;
			}
			g->doomed = true;
		}
		if (mut < 0) {
			uint8_t pl[NC_HELLO_PAYLOAD_LEN], hdr[NC_FRAME_HDR_LEN];

			nc_frame_encode(&f, hdr);
			nc_hello_encode(g->gid, pl);
			pl[8 + nc_rnd(&R, 8)] = nc_rnd_in(&R, 1, 255);
			tx_put(g->ch[i], hdr, sizeof(hdr));
			tx_put(g->ch[i], pl, sizeof(pl));
			note_type(g->ch[i], NC_FT_HELLO);
			st.frames++;
			st.invalid++;
		} else {
			emit(g, i, &f);
		}
		if (defect == HD_TWICE && i == bad) {
			emit(g, i, &f);
		} else if (defect == HD_EARLY && i == bad) {
			/* a frame of any type for a socket this group never had */
			struct nc_frame e = { .type = nc_rnd_in(&R, NC_FT_ACCEPT, NC_FT_RESET),
				.src_id = nc_rnd_in(&R, 1, 1000), .dst_id = nc_rnd_in(&R, 1, 400),
				.seq = nc_rnd(&R, 4) };

			e.len = e.type == NC_FT_DATA ? nc_rnd_in(&R, 1, 100) : 0;
			e.arg = e.type == NC_FT_CREDIT ? nc_rnd_in(&R, 1, 10000) :
				e.type == NC_FT_RESET ? ECONNRESET : 0;
			emit(g, i, &e);
		}
		chan_write(g->ch[i]);
	}
	if (i < g->nr) {
		for (i = 0; i < g->nr; i++)
			chan_free(g->ch[i], false);
		g->used = false;
		return -1;
	}
	st.groups_out++;
	if (opt.verbose)
		nc_logf("# rogue opened group %016llx%s\n", (unsigned long long)g->gid,
			defect ? " (defective HELLO)" : "");
	return 0;
}

static void group_free(struct group *g)
{
	int i;
	bool rst = nc_chance(&R, 0.5);

	for (i = 0; i < MAXCH; i++) {
		chan_free(g->ch[i], rst);
		g->ch[i] = NULL;
	}
	g->used = false;
}

static int live_out_groups(void)
{
	int i, n = 0;

	for (i = 0; i < MAXG; i++)
		n += G[i].used && G[i].out && !G[i].dead;
	return n;
}

static bool group_ready(const struct group *g)
{
	int i, usable = 0;

	if (!g->used || g->dead)
		return false;
	for (i = 0; i < g->nr; i++) {
		if (!g->ch[i])
			continue;
		if (tx_backlog(g->ch[i]) > TX_HIGH)
			return false;
		usable += chan_usable(g->ch[i]);
	}
	return usable > 0;
}

/* ---------------------------------------------------------------- main loop */

static int rogue_listen(void)
{
	struct sockaddr_in sin = nc_sin(NULL, chan_port);
	int one = 1;

	rogue_lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			   IPPROTO_TCP);
	if (rogue_lfd < 0)
		return -1;
	setsockopt(rogue_lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(rogue_lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(rogue_lfd, 128))
		return -1;
	return 0;
}

static void rogue_accept(void)
{
	int fd, k;

	for (k = 0; k < 16; k++) {
		fd = accept4(rogue_lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		if (npend >= MAXPEND) {
			close(fd);
			st.in_refused++;
			continue;
		}
		pend[npend] = chan_new(fd, NULL, -1);
		if (pend[npend])
			npend++;
	}
}

static bool timed_out;

/*
 * A group the rogue believed valid was reset: say which of the victim's
 * error counters rose since the last look (groups die concurrently, so this
 * is a hint, not proof).
 */
static void explain_lost_valid(void)
{
	static struct nc_stats last;
	static bool have_last;
	struct nc_stats now;
	char buf[512];
	size_t o = 0;
	int i;

	nc_stats_snap(NS_V, &now);	/* then in the root namespace */
	nc_ns_enter(NS_R);
	for (i = 0; i < now.n && have_last; i++) {
		uint64_t d = now.val[i] - nc_stats_val(&last, now.name[i]);

		if (d && !strncmp(now.name[i], "err_", 4) && o < sizeof(buf) - 64)
			o += snprintf(buf + o, sizeof(buf) - o, " %s+%llu", now.name[i],
				      (unsigned long long)d);
	}
	if (have_last && st.groups_lost_valid <= 20)
		nc_logf("# note: a group the rogue believed valid was reset; victim counters since the last note:%s\n",
			o ? buf : " (no err_* rose)");
	last = now;
	have_last = true;
}

static void rogue_run(void)
{
	static struct pollfd pf[1 + MAXG * MAXCH + MAXPEND];
	static struct chan *map[1 + MAXG * MAXCH + MAXPEND];
	int64_t deadline = nc_now_ms() + opt.seconds * 1000LL, now, last_report = 0;
	int i, j, np, fails = 0, budget;
	double t0 = nc_now();

	explain_lost_valid();	/* the baseline */
	while (st.frames < opt.frames && !atomic_load(&setup_errors)) {
		now = nc_now_ms();
		if (now > deadline) {
			timed_out = true;
			break;
		}
		if (now - last_report > 10000) {
			if (last_report)
				nc_logf("# %.0f s: %llu frames, %llu groups lost, %llu real transfers ok\n",
					nc_now() - t0, (unsigned long long)st.frames,
					(unsigned long long)st.groups_lost,
					(unsigned long long)atomic_load(&real_ok));
			last_report = now;
		}
		while (live_out_groups() < opt.out_groups) {
			if (out_group_new()) {
				if (++fails > 50) {
					setup_error("the victim refused 50 channel groups in a row (%llu connects failed)",
						    (unsigned long long)st.connect_fail);
					return;
				}
				nc_sleep_ms(20);
				break;
			}
			fails = 0;
		}
		np = 0;
		pf[np] = (struct pollfd){ .fd = rogue_lfd, .events = POLLIN };
		map[np++] = NULL;
		for (i = 0; i < MAXG; i++) {
			if (!G[i].used || G[i].dead)
				continue;
			for (j = 0; j < MAXCH; j++) {
				struct chan *ch = G[i].ch[j];

				if (!ch || ch->dead)
					continue;
				pf[np] = (struct pollfd){ .fd = ch->fd,
					.events = POLLIN |
					(tx_backlog(ch) && !ch->wr_shut ? POLLOUT : 0) };
				map[np++] = ch;
			}
		}
		for (i = 0; i < npend; i++) {
			pf[np] = (struct pollfd){ .fd = pend[i]->fd, .events = POLLIN };
			map[np++] = pend[i];
		}
		budget = 0;
		for (i = 0; i < MAXG; i++)
			budget += group_ready(&G[i]);
		if (poll(pf, np, budget ? 0 : 5) < 0 && errno != EINTR) {
			setup_error("rogue poll: %s", strerror(errno));
			return;
		}
		if (pf[0].revents)
			rogue_accept();
		for (i = 1; i < np; i++) {
			struct chan *ch = map[i];

			if (ch->dead || (ch->g && ch->g->dead))
				continue;
			if (pf[i].revents & (POLLIN | POLLERR | POLLHUP))
				chan_read(ch);
			if (!ch->dead && (pf[i].revents & POLLOUT))
				chan_write(ch);
		}
		if (lost_valid_pending) {
			lost_valid_pending = false;
			explain_lost_valid();
		}
		/* stalls, dead pending channels, dead groups */
		now = nc_now_ms();
		for (i = 0; i < MAXG; i++) {
			if (!G[i].used)
				continue;
			for (j = 0; j < MAXCH && !G[i].dead; j++) {
				struct chan *ch = G[i].ch[j];

				if (ch && !ch->dead && ch->stall && now - ch->stall > STALL_MS) {
					st.stalls++;
					if (opt.verbose)
						nc_logf("# group %016llx channel %d took nothing for %d ms: dropped\n",
							(unsigned long long)G[i].gid, j, STALL_MS);
					group_kill(&G[i], false);
				}
			}
			if (G[i].dead)
				group_free(&G[i]);
		}
		for (i = 0; i < npend; i++) {
			if (pend[i]->dead) {
				chan_free(pend[i], false);
				pend[i--] = pend[--npend];
			}
		}
		/*
		 * Generate, then write: a channel's frames go out several to
		 * a write, still cut at random points (chan_write()), so the
		 * victim parses runs of frames as a busy peer's would be,
		 * not one segment per frame.
		 */
		for (i = 0; i < 64 && st.frames < opt.frames; i++) {
			int pick[MAXG], n = 0, k;

			for (k = 0; k < MAXG; k++)
				if (group_ready(&G[k]))
					pick[n++] = k;
			if (!n)
				break;
			gen_step(&G[pick[nc_rnd(&R, n)]]);
		}
		for (i = 0; i < MAXG; i++) {
			for (j = 0; j < MAXCH && G[i].used && !G[i].dead; j++) {
				struct chan *ch = G[i].ch[j];

				if (ch && !ch->dead && tx_backlog(ch))
					chan_write(ch);
			}
		}
	}
}

/* ================================================================== setup */

static void hosts_destroy(void)
{
	nc_host_del(NS_V);
	nc_host_del(NS_R);
	nc_host_del(NS_P);
}

/* The three hosts (see the top); 0, or -1 with nc_err. */
static int hosts_create(void)
{
	hosts_destroy();
	if (nc_host_add(NS_V) || nc_host_add(NS_R) || nc_host_add(NS_P) ||
	    nc_veth_add(NS_V, "ncf_vr", IP_V_R, NS_R, "ncf_rv", IP_R) ||
	    nc_veth_add(NS_V, "ncf_vp", IP_V_P, NS_P, "ncf_pv", IP_P) ||
	    nc_host_wait(NS_R, IP_V_R, 10000) || nc_host_wait(NS_P, IP_V_P, 10000))
		return -1;
	return 0;
}

static bool join_all(pthread_t *t, int n, int secs)
{
	struct timespec ts;
	bool ok = true;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	for (i = 0; i < n; i++) {
		if (pthread_timedjoin_np(t[i], NULL, &ts)) {
			printf("# thread %d still running %d s after the stop: a hang\n",
			       i, secs);
			ok = false;
		}
	}
	return ok;
}

/* "# @what, change during the run: NAME +N ..." from @a to @b (not "sockets"). */
static void print_stats_change(const char *what, const struct nc_stats *a,
			       const struct nc_stats *b)
{
	int i;

	printf("# %s, change during the run:", what);
	for (i = 0; i < b->n; i++)
		if (b->val[i] != nc_stats_val(a, b->name[i]) && strcmp(b->name[i], "sockets"))
			printf(" %s +%llu", b->name[i],
			       (unsigned long long)(b->val[i] - nc_stats_val(a, b->name[i])));
	printf("\n");
}

static void print_coverage(void)
{
	char miss[1024];
	size_t o = 0;
	int a, b, n = 0, nr = 0;

	for (a = NC_FT_HELLO; a < NC_FT__MAX; a++)
		for (b = NC_FT_HELLO; b < NC_FT__MAX; b++) {
			if (st.trans[a][b])
				n++;
			else if (o < sizeof(miss) - 32)
				o += snprintf(miss + o, sizeof(miss) - o, " %s->%s",
					      nc_frame_type_str(a), nc_frame_type_str(b));
			nr += st.rtrans[a][b];
		}
	printf("# transitions sent (previous frame type -> frame type, per channel): %d of %d covered%s%s\n",
	       n, (NC_FT__MAX - 1) * (NC_FT__MAX - 1), o ? "; missing:" : "", miss);
	printf("# transitions received from the victim: %d of %d\n", nr,
	       (NC_FT__MAX - 1) * (NC_FT__MAX - 1));
	printf("# frames sent by type:");
	for (a = NC_FT_HELLO; a < NC_FT__MAX; a++)
		printf(" %s %llu", nc_frame_type_str(a), (unsigned long long)st.by_type[a]);
	printf(" garbage %llu\n", (unsigned long long)st.by_type[0]);
	printf("# frames received by type:");
	for (a = NC_FT_HELLO; a < NC_FT__MAX; a++)
		printf(" %s %llu", nc_frame_type_str(a),
		       (unsigned long long)st.rx_by_type[a]);
	printf("\n");
}

int main(int argc, char **argv)
{
	static const struct nc_opt opts[] = {
		{ "frames", 'f', NC_OPT_U64, &opt.frames },
		{ "seed", 's', NC_OPT_U64, &opt.seed },
		{ "channels", 'c', NC_OPT_INT, &opt.channels },
		{ "invalid", 'i', NC_OPT_DOUBLE, &opt.invalid },
		{ "groups", 'g', NC_OPT_INT, &opt.out_groups },
		{ "clients", 'k', NC_OPT_INT, &opt.clients },
		{ "seconds", 't', NC_OPT_INT, &opt.seconds },
		{ "verbose", 'v', NC_OPT_FLAG, &opt.verbose },
		{ "no-early-fin", 'E', NC_OPT_FLAG, &opt.no_early_fin },
		{ NULL }
	};
	static const char *const hosts[3] = { NS_V, NS_R, NS_P };
	struct real_arg sv = { 0 }, sp = { 0 }, *cl = NULL;
	pthread_t th[64];
	struct nc_stats s0, s1, p0, p1;
	long refcnt0, v, left[3] = { -1, -1, -1 };
	char val[16];
	int nth = 0, i;
	double t0, t_fuzz = 0, secs;
	bool joined = false;

	i = nc_opts_parse(argc, argv, opts, usage);
	if (i >= 0)
		return i;
	if (opt.channels < 1 || opt.channels > MAXCH || opt.out_groups < 1 ||
	    opt.out_groups > 4 || opt.clients < 0 || opt.clients > 32 ||
	    opt.invalid < 0 || opt.invalid > 1 || opt.seconds < 1) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	R.s = opt.seed;
	for (i = 0; i < POOL_LEN; i++)
		pool[i] = (uint8_t)nc_rnd64(&R);
	R.s = opt.seed;
	printf("# nc_fuzz_live: --frames %llu --seed %llu --channels %d --invalid %g --groups %d --clients %d%s\n",
	       (unsigned long long)opt.frames, (unsigned long long)opt.seed,
	       opt.channels, opt.invalid, opt.out_groups, opt.clients,
	       opt.no_early_fin ? " --no-early-fin" : "");

	refcnt0 = nc_check_module_loaded();
	if (refcnt0 < 0)
		return nc_checks_report();
	if (hosts_create()) {
		printf("# creating namespaces %s, %s, %s failed: %s\n", NS_V, NS_R, NS_P,
		       nc_err);
		hosts_destroy();
		nc_check(false, "setup");
		return nc_checks_report();
	}
	snprintf(val, sizeof(val), "%d", opt.channels);
	if (nc_sysctl_set(NS_V, "channels", val) || nc_sysctl_get(NS_V, "port", &v)) {
		setup_error("sysctls: %s", nc_err);
		goto out;
	}
	chan_port = (uint16_t)v;
	nc_stats_snap(NS_V, &s0);
	nc_stats_snap(NS_P, &p0);

	/* victim side: fuzz listeners and the driver; real servers */
	sv = (struct real_arg){ .ns = NS_V };
	sp = (struct real_arg){ .ns = NS_P };
	if (pthread_create(&th[nth++], NULL, victim_driver, NULL) ||
	    pthread_create(&th[nth++], NULL, real_server, &sv) ||
	    pthread_create(&th[nth++], NULL, real_server, &sp)) {
		setup_error("pthread_create: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < 500 && atomic_load(&threads_ready) < 3; i++)
		nc_sleep_ms(10);
	if (atomic_load(&threads_ready) < 3)
		setup_error("the victim's listeners did not come up in 5 s");
	if (atomic_load(&setup_errors))
		goto stop;
	cl = calloc(opt.clients, sizeof(*cl));
	for (i = 0; i < opt.clients && cl; i++) {
		/* two of three from the peer to the victim, one the other way */
		cl[i] = (struct real_arg){ .ns = i % 3 == 2 ? NS_V : NS_P,
					   .ip = i % 3 == 2 ? IP_P : IP_V_P, .idx = i };
		if (pthread_create(&th[nth++], NULL, real_client, &cl[i])) {
			nth--;
			setup_error("pthread_create: %s", strerror(errno));
			goto stop;
		}
	}

	/* the rogue runs here, in its namespace */
	if (nc_ns_enter(NS_R) || rogue_listen()) {
		setup_error("rogue listener on %s:%u: %s", IP_R, chan_port, strerror(errno));
		goto stop;
	}
	t0 = nc_now();
	rogue_run();
	t_fuzz = nc_now() - t0;
	for (i = 0; i < MAXG; i++)
		if (G[i].used)
			group_free(&G[i]);
	for (i = 0; i < npend; i++)
		chan_free(pend[i], false);
	npend = 0;
	close(rogue_lfd);
	nc_ns_leave();
	printf("# rogue: %llu frames (%llu invalid, %llu bytes, %llu writes) in %.1f s, %.0f frames/s\n",
	       (unsigned long long)st.frames, (unsigned long long)st.invalid,
	       (unsigned long long)st.bytes, (unsigned long long)st.writes, t_fuzz,
	       t_fuzz > 0 ? st.frames / t_fuzz : 0);
stop:
	atomic_store(&stop_all, true);
	nc_ns_leave();
	joined = join_all(th, nth, 60);
	for (i = 0; i < 300 && atomic_load(&real_handlers); i++)
		nc_sleep_ms(100);
	if (atomic_load(&real_handlers)) {
		printf("# %d real-traffic handlers still running 30 s after the stop\n",
		       atomic_load(&real_handlers));
		joined = false;
	}
out:
	if (atomic_load(&setup_errors)) {
		nc_check(false, "setup: %s", setup_msg);
		hosts_destroy();
		return nc_checks_report();
	}
	nc_check(true, "setup");
	nc_stats_snap(NS_V, &s1);
	nc_stats_snap(NS_P, &p1);
	print_coverage();
	printf("# groups: %llu opened by the rogue, %llu by the victim; %llu lost to the victim's resets (%llu without an invalid frame; channels: %llu RST, %llu EOF), %llu dropped by the rogue (%llu chaos, %llu stalled), %llu victim channels refused (rogue full)\n",
	       (unsigned long long)st.groups_out, (unsigned long long)st.groups_in,
	       (unsigned long long)st.groups_lost,
	       (unsigned long long)st.groups_lost_valid, (unsigned long long)st.chan_rst,
	       (unsigned long long)st.chan_eof, (unsigned long long)st.groups_dropped,
	       (unsigned long long)st.chaos, (unsigned long long)st.stalls,
	       (unsigned long long)st.in_refused);
	printf("# sockets: %llu OPENs sent, %llu ACCEPTed by the victim, %llu refused; %llu OPENs from the victim, %llu ACCEPTed by the rogue; %llu RESETs from the victim; %llu frames for unknown sockets; %llu RETIREs from the victim\n",
	       (unsigned long long)st.opens, (unsigned long long)st.accepts_rx,
	       (unsigned long long)st.refused_rx, (unsigned long long)st.vopens,
	       (unsigned long long)st.accepts_tx, (unsigned long long)st.vresets,
	       (unsigned long long)st.unmatched, (unsigned long long)st.vretires);
	printf("# victim driver: %llu accepted, %llu connected, %llu closed, %llu bytes read, %llu written\n",
	       (unsigned long long)atomic_load(&vd_accepted),
	       (unsigned long long)atomic_load(&vd_connected),
	       (unsigned long long)atomic_load(&vd_closed),
	       (unsigned long long)atomic_load(&vd_rx),
	       (unsigned long long)atomic_load(&vd_tx));
	ehist_print("victim driver errnos (the rogue's RESETs carry random errnos)", &vd_errs);
	if (atomic_load(&vd_internal))
		printf("# WARNING: %llu victim syscalls returned a kernel-internal errno (512..530) taken from a RESET frame's argument\n",
		       (unsigned long long)atomic_load(&vd_internal));
	print_stats_change("victim stats", &s0, &s1);
	print_stats_change("peer stats (its groups with the victim only)", &p0, &p1);
	if (nc_stats_val(&p1, "peers_failed") != nc_stats_val(&p0, "peers_failed"))
		printf("# WARNING: a channel group between the victim and the healthy peer died during the run\n");
	printf("# real transfers: %llu ok (%llu bytes), %llu failed, %llu corrupted down, %llu corrupted up, %llu odd errnos\n",
	       (unsigned long long)atomic_load(&real_ok),
	       (unsigned long long)atomic_load(&real_bytes),
	       (unsigned long long)atomic_load(&real_failed),
	       (unsigned long long)atomic_load(&real_corrupt),
	       (unsigned long long)atomic_load(&real_corrupt_up),
	       (unsigned long long)atomic_load(&real_odd_errno));
	ehist_print("real transfer errnos", &real_errs);

	{
		int a, b, n = 0;

		for (a = NC_FT_HELLO; a < NC_FT__MAX; a++)
			for (b = NC_FT_HELLO; b < NC_FT__MAX; b++)
				n += st.trans[a][b];
		printf("# summary: %llu frames sent (%llu invalid) in %.1f s; %d of %d frame type transitions; %llu channel groups reset by the victim (%llu channel resets counted by it); real transfers %llu ok, %llu failed, %llu corrupted\n",
		       (unsigned long long)st.frames, (unsigned long long)st.invalid,
		       t_fuzz, n, (NC_FT__MAX - 1) * (NC_FT__MAX - 1),
		       (unsigned long long)st.groups_lost,
		       (unsigned long long)(nc_stats_val(&s1, "channels_reset") -
					    nc_stats_val(&s0, "channels_reset")),
		       (unsigned long long)atomic_load(&real_ok),
		       (unsigned long long)atomic_load(&real_failed),
		       (unsigned long long)(atomic_load(&real_corrupt) +
					    atomic_load(&real_corrupt_up)));
	}
	nc_check(st.frames >= opt.frames && !timed_out, "rogue sent %llu of %llu frames%s",
		 (unsigned long long)st.frames, (unsigned long long)opt.frames,
		 timed_out ? " (gave up at --seconds)" : "");
	nc_check(!atomic_load(&real_corrupt) && !atomic_load(&real_corrupt_up),
		 "real transfers byte-exact (%llu corrupted)",
		 (unsigned long long)(atomic_load(&real_corrupt) + atomic_load(&real_corrupt_up)));
	nc_check(!opt.clients || atomic_load(&real_ok) > 0,
		 "real transfers succeeded: %llu ok, %llu failed",
		 (unsigned long long)atomic_load(&real_ok),
		 (unsigned long long)atomic_load(&real_failed));
	nc_check(!st.violations, "the victim's frames were well-formed (%llu violations)",
		 (unsigned long long)st.violations);
	nc_check(joined, "every thread finished after the stop");

	/* every socket gone: first in each namespace, then in the module */
	secs = nc_sockets_wait(hosts, 3, left, 30000);
	printf("# NetChannel sockets left before deleting the namespaces: victim %ld, rogue %ld, peer %ld (after %.1f s)\n",
	       left[0], left[1], left[2], secs);
	if (left[0] > 0 || left[2] > 0) {
		printf("# sockets still alive (victim, then peer):\n");
		fflush(stdout);
		nc_run("ip netns exec " NS_V " cat /proc/net/netchannel/sockets /proc/net/netchannel/channels | sed 's/^/#   /'");
		nc_run("ip netns exec " NS_P " cat /proc/net/netchannel/sockets /proc/net/netchannel/channels | sed 's/^/#   /'");
	}
	hosts_destroy();
	secs = nc_module_refcnt_wait(refcnt0, 60000);
	printf("# module reference count %ld (%ld before the run) after %.1f s\n",
	       nc_module_refcnt(), refcnt0, secs);
	nc_check(nc_module_refcnt() <= refcnt0,
		 "every NetChannel socket gone after cleanup (module refcnt %ld, was %ld)",
		 nc_module_refcnt(), refcnt0);
	free(cl);
	return nc_checks_report();
}
