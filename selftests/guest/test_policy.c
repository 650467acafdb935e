// SPDX-License-Identifier: GPL-2.0
/*
 * The NetScheduler policies in policies/ do what they promise, measured
 * between two hosts (namespaces nc_a and nc_b, see nc_net.h) with
 * tolerances; a misbehaving policy is ejected; ncload configures policies
 * per cgroup through their pinned maps; bpftool attaches the same objects.
 *
 * An "app" is a pair of forked processes: a client in nc_a (moved into a
 * cgroup first, so policies can tell apps apart by cgroup id) and a server
 * in nc_b. A bulk app streams a seeded pseudo-random byte stream that both
 * ends hash (so every transfer is checked byte-exact); a ping app does
 * 64-byte request/response and records every round-trip time. Results go
 * to shared memory. Each test prints what it measured ("# ..." lines).
 *
 * What each test asserts, and what it measured on the 2-vCPU TCG guest:
 * - priority: L-app p50 <= 0.8 x native's and <= 5 x idle (measured with
 *   two channels over 16 runs 0.29-0.56 x native, 1.8-3.4 x idle);
 * - fair: bytes of cgroups weighted 100:300 in [2.7, 3.3] over a link
 *   rate-limited to a quarter of one flow's throughput (measured 3.01-3.02;
 *   native 1.00-1.01);
 * - latency: four 1 KiB messages written just after an 8 MiB one complete
 *   before it, and it completes byte-exact (native does the same: round
 *   robin interleaves frames too; the short ones took 1-13 ms either way);
 * - live swap: 9 attach/replace/detach under a bulk transfer, byte-exact,
 *   no pause in delivery over 1 s (measured 12-17 ms);
 * - misbehaving: starvation ejected after its 1 s timeout (measured
 *   1.04 s), select_channels() naming no channel ejected at once; the traffic
 *   completes under the native policy.
 * The whole suite takes about 40 s in the guest.
 */
#include "nc_net.h"
#include <linux/sockios.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "netsched.h"
#include "nc_test_starve.skel.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define CG_L		CG_ROOT "/ncpol_lapp"	/* latency-sensitive app */
#define CG_T		CG_ROOT "/ncpol_tapp"	/* throughput apps */
#define CG_W1		CG_ROOT "/ncpol_w1"
#define CG_W3		CG_ROOT "/ncpol_w3"
#define PIN_DIR		"/sys/fs/bpf/netchannel"
#define PIN_MAPS	PIN_DIR "/maps"
#define STARVE_OBJ	"/nc/progs/nc_test_starve.bpf.o"

#define MAX_APPS	12
#define MAX_RTT		4096
#define PING_SIZE	64

/* ------------------------------------------------------------ shared state */

struct app_stat {
	int stop;			/* parent -> client: finish now */
	int64_t tx_start_us, tx_end_us;
	uint64_t tx_bytes, tx_hash;
	int tx_done;
	int64_t rx_first_us, rx_last_us, rx_max_gap_us, rx_gap_at_us;
	uint64_t rx_bytes, rx_hash;
	int rx_done;
	int long_unsent;		/* latency: SIOCOUTQ of the long one */
	uint32_t nrtt;
	uint32_t rtt_us[MAX_RTT];
};

struct shm {
	struct app_stat st[MAX_APPS];
};

static struct shm *shm;

#define WR(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define RD(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------ cgroups */

/* the cgroup id the kernel gives sockets of tasks in @cg */
static uint64_t cg_id(const char *cg)
{
	struct stat st;

	assert_int_equal(stat(cg, &st), 0);
	return st.st_ino;
}

/* ------------------------------------------------------------ apps */

enum { APP_BULK, APP_PING };

struct app {
	int kind;
	int slot;		/* in shm->st */
	const char *cgroup;	/* of the client, or NULL */
	uint64_t bytes;		/* bulk: to send; 0: until told to stop */
	size_t wsize;		/* bulk: bytes per write(); 0: 64 KiB */
	int sndbuf;		/* client SO_SNDBUF, 0: default */
	int rcvbuf;		/* server SO_RCVBUF (its credit), 0: default */
	int ping_gap_us;	/* ping: pause between requests */
	uint64_t seed;
	uint16_t port;
	int lfd;
	pid_t cli, srv;
};

static void set_buf(int fd, int opt, int force, int val)
{
	if (val && setsockopt(fd, SOL_SOCKET, force, &val, sizeof(val)))
		setsockopt(fd, SOL_SOCKET, opt, &val, sizeof(val));
}

/* A listener in nc_b on @port whose connections grant @rcvbuf / 2 credit. */
static int listen_b(uint16_t port, int rcvbuf)
{
	struct sockaddr_in sin = nc_sin(NULL, port);
	int fd = nc_socket_in(NC_NS_B, 0), one = 1;

	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, rcvbuf);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 16)) {
		close(fd);
		return nc_fail(-errno, "bind/listen on port %u: %s", port, strerror(errno));
	}
	return fd;
}

/* Connect from the current namespace to nc_b's @port. */
static int connect_b(uint16_t port, int sndbuf)
{
	struct sockaddr_in sin = nc_sin(NC_IP_B, port);
	int fd = nc_socket_in(NULL, 0);

	if (fd < 0)
		return fd;
	set_buf(fd, SO_SNDBUF, SO_SNDBUFFORCE, sndbuf);
	nc_set_timeo(fd, SO_SNDTIMEO, 20000);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return nc_fail(-errno, "connect to port %u: %s", port, strerror(errno));
	}
	nc_set_timeo(fd, SO_SNDTIMEO, 0);
	return fd;
}

/* Server of a bulk app: hash everything to EOF, note arrival times. */
static int srv_sink(int fd, struct app_stat *st)
{
	static uint8_t buf[65536];
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	struct nc_hash h;
	int64_t t, last = 0;
	uint64_t got = 0;
	ssize_t n;

	nc_hash_init(&h);
	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (poll(&pf, 1, 60000) == 0) {
				fprintf(stderr, "[sink %d] nothing for 60 s after %llu bytes\n",
					(int)(st - shm->st), (unsigned long long)got);
				return 1;
			}
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "[sink] recv: %s\n", strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		t = now_us();
		if (!got)
			WR(st->rx_first_us, t);
		else if (t - last > st->rx_max_gap_us) {
			WR(st->rx_max_gap_us, t - last);
			WR(st->rx_gap_at_us, t);
		}
		last = t;
		nc_hash_update(&h, buf, n);
		got += n;
		WR(st->rx_bytes, got);
		WR(st->rx_last_us, t);
	}
	WR(st->rx_hash, nc_hash_final(&h));
	WR(st->rx_done, 1);
	return 0;
}

/* Server of a ping app: echo PING_SIZE messages until EOF. */
static int srv_echo(int fd, struct app_stat *st)
{
	uint8_t buf[PING_SIZE];
	ssize_t n;

	for (;;) {
		n = nc_recv_all(fd, buf, sizeof(buf), 60000);
		if (n == 0)
			break;
		if (n != sizeof(buf) || nc_send_all(fd, buf, sizeof(buf), 60000)) {
			fprintf(stderr, "[echo] %s\n", n < 0 ? nc_err : "short message");
			return 1;
		}
	}
	WR(st->rx_done, 1);
	return 0;
}

static int srv_main(void *arg, int wfd)
{
	struct app *a = arg;
	struct app_stat *st = &shm->st[a->slot];
	int fd = nc_accept_timeout(a->lfd, 30000);

	close(a->lfd);
	if (fd < 0) {
		fprintf(stderr, "[server %d] %s\n", a->slot, nc_err);
		return 1;
	}
	return a->kind == APP_PING ? srv_echo(fd, st) : srv_sink(fd, st);
}

/* Wait for the server's EOF after ours: everything was delivered. */
static int cli_finish(int fd)
{
	char c;

	if (shutdown(fd, SHUT_WR))
		return nc_fail(-errno, "shutdown: %s", strerror(errno));
	if (nc_recv_all(fd, &c, 1, 120000) != 0)
		return nc_fail(-EPROTO, "no EOF from the server: %s", nc_err);
	close(fd);
	return 0;
}

static int cli_bulk(int fd, struct app *a, struct app_stat *st)
{
	size_t wsize = a->wsize ? a->wsize : 65536, n;
	uint8_t *buf = malloc(wsize);
	struct nc_hash h;
	uint64_t off = 0;

	if (!buf)
		return nc_fail(-ENOMEM, "out of memory");
	nc_hash_init(&h);
	WR(st->tx_start_us, now_us());
	while (a->bytes ? off < a->bytes : !RD(st->stop)) {
		n = a->bytes && a->bytes - off < wsize ? a->bytes - off : wsize;
		nc_gen(a->seed, off, buf, n);
		if (nc_send_all(fd, buf, n, 60000))
			return -1;
		nc_hash_update(&h, buf, n);
		off += n;
		WR(st->tx_bytes, off);
	}
	WR(st->tx_end_us, now_us());
	WR(st->tx_hash, nc_hash_final(&h));
	free(buf);
	if (cli_finish(fd))
		return -1;
	WR(st->tx_done, 1);
	return 0;
}

static int cli_ping(int fd, struct app *a, struct app_stat *st)
{
	uint8_t buf[PING_SIZE];
	int64_t t0;
	uint32_t i;

	WR(st->tx_start_us, now_us());
	for (i = 0; i < MAX_RTT && !RD(st->stop); i++) {
		memset(buf, (int)i, sizeof(buf));
		t0 = now_us();
		if (nc_send_all(fd, buf, sizeof(buf), 60000) ||
		    nc_recv_all(fd, buf, sizeof(buf), 60000) != sizeof(buf))
			return nc_fail(-EPROTO, "ping %u: %s", i, nc_err);
		if (buf[0] != (uint8_t)i)
			return nc_fail(-EPROTO, "ping %u: wrong echo", i);
		st->rtt_us[i] = now_us() - t0;
		WR(st->nrtt, i + 1);
		if (a->ping_gap_us)
			usleep(a->ping_gap_us);
	}
	WR(st->tx_end_us, now_us());
	if (cli_finish(fd))
		return -1;
	WR(st->tx_done, 1);
	return 0;
}

static int cli_main(void *arg, int wfd)
{
	struct app *a = arg;
	struct app_stat *st = &shm->st[a->slot];
	int fd, ret;

	if (a->cgroup && nc_cg_join(a->cgroup)) {
		fprintf(stderr, "[client %d] %s\n", a->slot, nc_err);
		return 1;
	}
	fd = connect_b(a->port, a->sndbuf);
	if (fd < 0) {
		fprintf(stderr, "[client %d] %s\n", a->slot, nc_err);
		return 1;
	}
	ret = a->kind == APP_PING ? cli_ping(fd, a, st) : cli_bulk(fd, a, st);
	if (ret)
		fprintf(stderr, "[client %d] %s\n", a->slot, nc_err);
	return ret ? 1 : 0;
}

static void app_start(struct app *a)
{
	memset(&shm->st[a->slot], 0, sizeof(shm->st[0]));
	if (!a->seed)
		a->seed = 0x5eed0000 + a->slot * 7919 + (uint64_t)now_us();
	a->port = nc_next_port();
	a->lfd = listen_b(a->port, a->rcvbuf);
	nc_assert(a->lfd >= 0, "app %d: listener", a->slot);
	a->srv = nc_spawn(NC_NS_B, 300, srv_main, a, NULL);
	close(a->lfd);
	a->cli = nc_spawn(NC_NS_A, 300, cli_main, a, NULL);
	nc_assert(a->srv > 0 && a->cli > 0, "app %d: fork", a->slot);
}

static void app_stop(struct app *a)
{
	WR(shm->st[a->slot].stop, 1);
}

/* Both ends exit cleanly; a bulk app's bytes arrived exactly. */
static void app_wait(struct app *a, int ms)
{
	struct app_stat *st = &shm->st[a->slot];
	int c = nc_child_wait(a->cli, ms), s = nc_child_wait(a->srv, ms);

	nc_assert(c == 0 && s == 0, "app %d: client exit %d, server exit %d",
		  a->slot, c, s);
	nc_assert(st->tx_done && st->rx_done, "app %d not finished", a->slot);
	if (a->kind == APP_BULK)
		nc_assert(st->rx_bytes == st->tx_bytes && st->rx_hash == st->tx_hash,
			  "app %d: sent %llu bytes hash %016llx, received %llu hash %016llx",
			  a->slot, (unsigned long long)st->tx_bytes,
			  (unsigned long long)st->tx_hash,
			  (unsigned long long)st->rx_bytes,
			  (unsigned long long)st->rx_hash);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct rtt {
	uint32_t n, p50, p90, p99, max;
};

static struct rtt rtt_of(const struct app *a)
{
	struct app_stat *st = &shm->st[a->slot];
	uint32_t n = RD(st->nrtt), *v = malloc(sizeof(uint32_t) * (n + 1));
	struct rtt r = { .n = n };

	assert_non_null(v);
	assert_true(n >= 10);
	memcpy(v, st->rtt_us, sizeof(uint32_t) * n);
	qsort(v, n, sizeof(*v), cmp_u32);
	r.p50 = v[n / 2];
	r.p90 = v[n * 9 / 10];
	r.p99 = v[n * 99 / 100];
	r.max = v[n - 1];
	free(v);
	return r;
}

/* ------------------------------------------------------------ policies */

static int ncload(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int n;

	n = snprintf(cmd, sizeof(cmd), "ncload ");
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	va_end(ap);
	return nc_run("%s", cmd);
}

/* Run @cmd, return its exit status and its output (stdout + stderr). */
static int run_capture(char *out, size_t len, const char *cmd)
{
	char full[600];
	size_t o = 0, k;
	FILE *f;
	int st;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	f = popen(full, "r");
	assert_non_null(f);
	while (o + 1 < len && (k = fread(out + o, 1, len - 1 - o, f)) > 0)
		o += k;
	out[o] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `ncload ARGS` fails with exit 1 and exactly one line "ncload: ...". */
static void ncload_fails(const char *args)
{
	char cmd[300], out[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "ncload %s", args);
	st = run_capture(out, sizeof(out), cmd);
	printf("#   %-44s -> %d: %s", args, st, out);
	if (st != 1 || strncmp(out, "ncload: ", 8) || !strchr(out, '\n') ||
	    strchr(out, '\n')[1])
		fail_msg("'%s': exit %d, output '%s' (want exit 1 and one line)",
			 cmd, st, out);
}

static void policy_name_is(const char *name)
{
	assert_proc_policy("policy", name);
	assert_proc_policy("state", "enabled");
}

static void no_policy(void)
{
	char v[64];

	if (!nc_proc_get(NC_PROC_POLICY, "state", v, sizeof(v)) &&
	    strcmp(v, "native"))
		ncload("detach >/dev/null 2>&1");
	assert_int_equal(nc_proc_wait("policy", "native", 5000), 0);
}

/* ------------------------------------------------------------ setup */

/*
 * What lets a NetScheduler policy matter under TCG. The policy orders the
 * frames a channel has not taken yet; whatever a channel's TCP socket
 * already holds (send queue in nc_a, receive queue in nc_b) is FIFO. With
 * Linux's default TCP buffers a bulk flow keeps hundreds of KiB in there
 * (measured: up to 500 KB send queue), which at the ~30 MB/s a TCG guest
 * moves is 10-25 ms that no policy can reorder. So the hosts get small
 * channel buffers (tcp_wmem 8 KiB, tcp_rmem 16 KiB, namespace-local
 * sysctls) and 4 KiB frames, so the backlog forms in the sockets' queues,
 * where the policy ranks it. Two channels, as the default on 2 CPUs: two
 * transmit paths pick frames concurrently (test_fair), and priority keeps
 * channel 0 for class 0 (test_priority). With the defaults (16 KiB
 * frames, Linux's TCP buffers), the L-app of test_priority measured the
 * same with and without priority (p50 native 9.5-17 ms, priority 9.6-24
 * ms); with these settings priority is 0.6-0.7x native. The module's own
 * net.netchannel.channel_queue (TCP_NOTSENT_LOWAT) bounds only the unsent
 * bytes: at 4 KiB, with tcp_rmem as here but Linux's tcp_wmem, priority
 * measured 0.97-1.10x native, since the bytes ahead of the L-app's frame
 * are mostly sent and unacknowledged; tcp_wmem bounds those too.
 */
#define CHANNELS	"2"
#define FRAME_SIZE	"4096"
#define TCP_WMEM	"4096 8192 8192"
#define TCP_RMEM	"4096 16384 16384"

static int ns_write(const char *ns, const char *path, const char *val)
{
	int fd, ret = 0;

	if (nc_ns_enter(ns))
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);	/* /proc/sys/net is per netns */
	nc_ns_leave();
	if (fd < 0)
		return nc_fail(-errno, "open %s in %s: %s", path, ns, strerror(errno));
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = nc_fail(-errno, "write %s in %s: %s", path, ns, strerror(errno));
	close(fd);
	return ret;
}

static int group_setup(void **state)
{
	const char *cgs[] = { CG_L, CG_T, CG_W1, CG_W3 }, *ns[] = { NC_NS_A, NC_NS_B };
	size_t i;

	if (nc_proto_tcp()) {
		printf("# policies are NetChannel only: every test is skipped on tcp\n");
		return 0;
	}
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		return -1;
	for (i = 0; i < sizeof(cgs) / sizeof(cgs[0]); i++) {
		if (mkdir(cgs[i], 0755) && errno != EEXIST) {
			fprintf(stderr, "mkdir %s: %s (is cgroup2 mounted on %s?)\n",
				cgs[i], strerror(errno), CG_ROOT);
			return -1;
		}
	}
	if (nc_group_setup(state))
		return -1;
	/* before the first connection, which creates the channel group */
	for (i = 0; i < 2; i++) {
		if (nc_sysctl_set(ns[i], "channels", CHANNELS) ||
		    nc_sysctl_set(ns[i], "frame_size", FRAME_SIZE) ||
		    ns_write(ns[i], "/proc/sys/net/ipv4/tcp_wmem", TCP_WMEM) ||
		    ns_write(ns[i], "/proc/sys/net/ipv4/tcp_rmem", TCP_RMEM)) {
			fprintf(stderr, "%s\n", nc_err);
			return -1;
		}
	}
	return 0;
}

static int group_teardown(void **state)
{
	int ret;

	if (nc_proto_tcp())
		return 0;
	ncload("detach >/dev/null 2>&1");
	ret = nc_group_teardown(state);
	rmdir(CG_L);
	rmdir(CG_T);
	rmdir(CG_W1);
	rmdir(CG_W3);
	return ret;
}

static int link_limit(unsigned int kbit);

/* first thing in every test: skipped (not passed) on NC_PROTO=tcp */
static int test_teardown(void **state)
{
	nc_test_cleanup(state);
	if (!nc_proto_tcp()) {
		ncload("detach >/dev/null 2>&1");
		link_limit(0);	/* test_latency's; test_fair's or test_starve's if it failed */
	}
	return 0;
}

/* ------------------------------------------------------------ priority */

#define NR_TAPPS	3	/* the T-app's connections */
#define MIX_MS		3000	/* the L-app's run */
#define PRIO_VS_IDLE	4	/* bound on p50 under load / idle p50, see below */
#define PRIO_VS_NATIVE	0.8	/* bound on priority's p50 / native's p50 */
#define PRIO_LINK_DIV	2	/* the link: one T-app flow's rate / this, */
#define PRIO_LINK_MAX	80000	/* at most this many kbit/s (see below) */

struct mix {
	struct rtt l;
	double t_mbps;		/* T-apps' throughput during the L-app's run */
};

static struct app lapp(void)
{
	return (struct app){ .kind = APP_PING, .slot = 0, .cgroup = CG_L,
			     .ping_gap_us = 1000 };
}

/* The L-app runs for @ms next to NR_TAPPS bulk connections (in CG_T). */
static struct mix run_mix(int ms)
{
	struct app l = lapp(), t[NR_TAPPS];
	uint64_t b0 = 0, b1 = 0;
	int64_t t0, t1;
	struct mix m;
	int i;

	for (i = 0; i < NR_TAPPS; i++) {
		t[i] = (struct app){ .kind = APP_BULK, .slot = 1 + i, .cgroup = CG_T };
		app_start(&t[i]);
	}
	nc_sleep_ms(1000);		/* the T-apps saturate the peer */
	app_start(&l);
	while (!RD(shm->st[0].nrtt))
		nc_sleep_ms(5);
	t0 = now_us();
	for (i = 0; i < NR_TAPPS; i++)
		b0 += RD(shm->st[1 + i].rx_bytes);
	nc_sleep_ms(ms);
	t1 = now_us();
	for (i = 0; i < NR_TAPPS; i++)
		b1 += RD(shm->st[1 + i].rx_bytes);
	app_stop(&l);
	for (i = 0; i < NR_TAPPS; i++)
		app_stop(&t[i]);
	app_wait(&l, 30000);
	for (i = 0; i < NR_TAPPS; i++)
		app_wait(&t[i], 60000);
	m.l = rtt_of(&l);
	m.t_mbps = (b1 - b0) * 8.0 / (t1 - t0);
	return m;
}

static void print_rtt(const char *what, const struct rtt *r, double mbps)
{
	printf("# %-26s %4u pings: p50 %6u us  p90 %6u us  p99 %6u us  max %6u us",
	       what, r->n, r->p50, r->p90, r->p99, r->max);
	if (mbps >= 0)
		printf("; T-app %.0f Mbit/s", mbps);
	printf("\n");
}

/*
 * Priority: an L-app (64-byte ping-pong, class 0) next to a T-app (three
 * bulk connections, class 2) saturating the same peer, compared with its
 * idle RTT and with the native round robin.
 *
 * The link from nc_a to nc_b is the bottleneck, as a NIC's line rate
 * would be: tbf at half of what one T-app flow moves alone (three share
 * the CPUs, so together they still fill it), at most PRIO_LINK_MAX.
 * Without it the T-apps are bound by their own writes (the
 * data path moves 300-500 Mbit/s here), the NetScheduler's queues stay
 * nearly empty, and there is nothing for a policy to order: priority and
 * native then measured the same (0.86-1.83x of each other, CPU noise).
 * Above PRIO_LINK_MAX, the L-app waits mostly for the CPUs, below it for
 * the bytes in flight (the 8 KiB tcp_wmem and the frame on the wire): on
 * the debug kernel, with a quarter of a flow's rate (1.5 Mbit/s), those
 * alone took 10x the idle RTT, more than this test's bound, which is on
 * what a policy can change.
 *
 * Measured with one channel (8 runs, 2 vCPUs under MTTCG, 72-80 Mbit/s
 * link): idle p50 0.70-1.20 ms; under load p50 native 4.1-4.7 ms (3.5-6.3x
 * idle), priority 2.5-3.2 ms (2.2-4.5x, 0.54-0.68x native); there the
 * L-app's frame waited behind the bulk bytes the shared channel's TCP
 * socket held. With two channels, priority gives class 0 channel 0 to
 * itself. Over 16 whole-suite runs (stock kernel, MTTCG): priority
 * 1.77-3.41x idle, 0.29-0.56x native (median 0.35), native 4.4-8.4x idle;
 * on the debug kernel 2.1x idle, 0.30x native. What is left is the tbf
 * queue both channels share, and the CPUs. With the in-flight bound and
 * its liveness rule, over 22 runs of this test alone (stock kernel,
 * MTTCG): priority 1.50-2.91x idle, 0.26-0.44x native; native 5.7-8.0x
 * idle; in 7 whole-suite runs (2 on the debug kernel) 1.74-2.81x idle and
 * 0.28-0.59x native (native 4.1-8.2x: the suite's other tests leave the
 * host busier). So this asserts priority <= PRIO_VS_NATIVE x native and
 * <= PRIO_VS_IDLE x idle (it was 1.1x native and 8x idle with one channel,
 * then 5x idle), 1.35x and 1.4x above the worst run.
 */
static int link_limit(unsigned int kbit);
static double run_single(int ms);

static void test_priority(void **state)
{
	struct app idle = lapp();
	struct mix nat, prio;
	struct rtt r_idle;
	unsigned int kbit;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(200);
	no_policy();
	kbit = (unsigned int)(run_single(1500) * 8 / 1000 / PRIO_LINK_DIV);
	if (kbit > PRIO_LINK_MAX)
		kbit = PRIO_LINK_MAX;
	printf("# the link from %s to %s: tbf %.1f Mbit/s\n", NC_NS_A, NC_NS_B, kbit / 1e3);
	if (link_limit(kbit))
		fail_msg("tc qdisc replace dev nc_va root tbf in %s failed", NC_NS_A);
	app_start(&idle);
	nc_sleep_ms(MIX_MS);
	app_stop(&idle);
	app_wait(&idle, 30000);
	r_idle = rtt_of(&idle);
	print_rtt("L-app idle", &r_idle, -1);

	nat = run_mix(MIX_MS);
	print_rtt("L-app + T-app, native", &nat.l, nat.t_mbps);

	assert_int_equal(ncload("attach priority >/dev/null"), 0);
	assert_int_equal(ncload("set-class " CG_L " 0 >/dev/null"), 0);
	assert_int_equal(ncload("set-class " CG_T " 2 >/dev/null"), 0);
	prio = run_mix(MIX_MS);
	print_rtt("L-app + T-app, priority", &prio.l, prio.t_mbps);
	policy_name_is("priority");
	assert_int_equal(ncload("detach >/dev/null"), 0);
	link_limit(0);

	printf("# L-app p50 / idle p50: native %.2fx, priority %.2fx (bound %dx); priority / native %.2f (bound %.2f)\n",
	       (double)nat.l.p50 / r_idle.p50, (double)prio.l.p50 / r_idle.p50,
	       PRIO_VS_IDLE, (double)prio.l.p50 / nat.l.p50, PRIO_VS_NATIVE);
	if (prio.l.p50 > PRIO_VS_NATIVE * nat.l.p50)
		fail_msg("priority p50 %u us is over %.2fx native's %u us", prio.l.p50,
			 PRIO_VS_NATIVE, nat.l.p50);
	if (prio.l.p50 > PRIO_VS_IDLE * r_idle.p50)
		fail_msg("priority p50 %u us is over %dx the idle p50 %u us",
			 prio.l.p50, PRIO_VS_IDLE, r_idle.p50);
}

/* ------------------------------------------------------------ fair */

/*
 * Fair shares a bottleneck, so the test makes one: the veth from nc_a to
 * nc_b is rate-limited with tbf (tc) to 1/FAIR_LINK_DIV of what one bulk
 * flow moves without it, measured first in the same guest (11-128 Mbit/s
 * here, the host busy or not), and to at most FAIR_LINK_MAX. Without a
 * limit the bottleneck is wherever the guest's CPUs happen to be slowest,
 * and the NetScheduler arbitrates only if that is the channel: a flow whose
 * receiver falls behind runs out of credit, one whose writer falls behind
 * has nothing queued, and either way its socket drops out of the ready set
 * and gets what its own CPU manages, not its share. Without a limit, under
 * multi-threaded TCG, fair measured 1.45-1.86 in some runs and 2.90-3.00
 * in others. With the link far below what the CPUs can do, both
 * sockets stay backlogged in the NetScheduler with credit to spare (the
 * test samples both and prints the minimum), and the order fair ranks
 * their frames in is the order the link carries them. What the policy
 * cannot reorder stays small: the channel's TCP socket holds at most
 * tcp_wmem (8 KiB, two frames) of unsent and unacknowledged bytes (see
 * group_setup; channel_queue, TCP_NOTSENT_LOWAT at 64 KiB, is above that
 * and binds nothing here), so tbf's queue holds at most that much too,
 * about 16 ms at 4 Mbit/s. 8 KiB per round trip still fills a link of up
 * to 6.4 Mbit/s (measured: the flows' bytes came to 94-95% of its rate,
 * which is all of it but the frame and TCP/IP headers); at 9.6-32 Mbit/s
 * it did not (71-94%): the channel's window, not the link, limited, hence
 * FAIR_LINK_MAX.
 *
 * tbf is sch_tbf: a module in the cloud kernel, so it must be loaded in
 * the guest (NC_VM_MODULES), built into the debug kernel.
 */
#define FAIR_MS		4000
#define FAIR_LINK_DIV	4	/* the link's rate: one flow's throughput / this */
#define FAIR_LINK_MIN	1000	/* kbit/s, at least */
#define FAIR_LINK_MAX	6000	/* kbit/s, at most (see above) */
#define FAIR_SAMPLE_MS	250	/* how often the sockets' queues are looked at */

/* What nc_a's /proc/net/netchannel/sockets said about one app's socket. */
struct backlog {
	int samples;		/* times its socket was found */
	uint32_t txq_min;	/* frames waiting in the NetScheduler */
	int64_t credit_min;	/* bytes its receiver lets it send */
};

/* Look up the sending socket of the app whose server listens on @port. */
static void backlog_sample(uint16_t port, struct backlog *b)
{
	char line[512], local[64], peer[64], state[32], *c;
	unsigned int id, rid, rcvq, txq;
	long long credit;
	FILE *f;

	if (nc_ns_enter(NC_NS_A))
		return;
	f = fopen("/proc/net/netchannel/sockets", "r");
	nc_ns_leave();
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %31s %63s %63s %u %u %lld", &id, &rid, state,
			   local, peer, &rcvq, &txq, &credit) != 8 ||
		    !(c = strrchr(peer, ':')) || atoi(c + 1) != port)
			continue;
		if (!b->samples || txq < b->txq_min)
			b->txq_min = txq;
		if (!b->samples || credit < b->credit_min)
			b->credit_min = credit;
		b->samples++;
	}
	fclose(f);
}

/* One bulk app alone (native policy, no link limit): bytes per second. */
static double run_single(int ms)
{
	struct app a = { .kind = APP_BULK, .slot = 1, .cgroup = CG_W1 };
	uint64_t b0, b1;
	int64_t t0, t1;

	app_start(&a);
	nc_sleep_ms(1000);
	b0 = RD(shm->st[1].rx_bytes);
	t0 = now_us();
	nc_sleep_ms(ms);
	b1 = RD(shm->st[1].rx_bytes);
	t1 = now_us();
	app_stop(&a);
	app_wait(&a, 60000);
	return (b1 - b0) * 1e6 / (t1 - t0);
}

/* Limit nc_a's side of the veth to @kbit (0: remove the limit). */
static int link_limit(unsigned int kbit)
{
	if (!kbit)
		return nc_run("tc -n " NC_NS_A " qdisc del dev nc_va root 2>/dev/null");
	/*
	 * burst: a few frames' worth (tc wants at least rate / HZ); latency
	 * sizes the queue, far above the 8 KiB TCP can have in flight here,
	 * so tbf delays but never drops.
	 */
	return nc_run("tc -n " NC_NS_A " qdisc replace dev nc_va root tbf rate %ukbit burst %ukb latency 200ms",
		      kbit, kbit / 8 / 100 > 16 ? kbit / 8 / 100 : 16);
}

/*
 * Bulk apps in CG_W1 and CG_W3 share the link; bytes each got in @ms,
 * and how backlogged their sockets were meanwhile.
 */
static double run_pair(int ms, uint64_t *g1, uint64_t *g3, struct backlog bl[2])
{
	struct app a = { .kind = APP_BULK, .slot = 1, .cgroup = CG_W1 };
	struct app b = { .kind = APP_BULK, .slot = 2, .cgroup = CG_W3 };
	uint64_t a0, b0;
	int64_t end;

	memset(bl, 0, 2 * sizeof(*bl));
	app_start(&a);
	app_start(&b);
	nc_sleep_ms(1000);
	a0 = RD(shm->st[1].rx_bytes);
	b0 = RD(shm->st[2].rx_bytes);
	end = now_us() + ms * 1000LL;
	while (now_us() + FAIR_SAMPLE_MS * 1000LL < end) {
		nc_sleep_ms(FAIR_SAMPLE_MS);
		backlog_sample(a.port, &bl[0]);
		backlog_sample(b.port, &bl[1]);
	}
	if (end > now_us())
		usleep(end - now_us());
	*g1 = RD(shm->st[1].rx_bytes) - a0;
	*g3 = RD(shm->st[2].rx_bytes) - b0;
	app_stop(&a);
	app_stop(&b);
	app_wait(&a, 60000);
	app_wait(&b, 60000);
	return *g1 ? (double)*g3 / *g1 : 0;
}

static const char *backlog_str(const struct backlog bl[2])
{
	static char s[256];

	snprintf(s, sizeof(s), "queued frames (min of %d samples) w1 %u, w3 %u; credit min w1 %lld, w3 %lld bytes",
		 bl[0].samples < bl[1].samples ? bl[0].samples : bl[1].samples,
		 bl[0].txq_min, bl[1].txq_min, (long long)bl[0].credit_min,
		 (long long)bl[1].credit_min);
	return s;
}

/*
 * Fair: two cgroups weighted 100:300, one bulk socket each, sharing a
 * link either of them alone could fill at least four times over: bytes
 * 1:3 +- 10%.
 */
static void test_fair(void **state)
{
	uint64_t n1, n3, f1, f3;
	struct backlog bl[2];
	double single, nat, fair, util;
	unsigned int kbit;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(150);
	no_policy();
	single = run_single(1500);
	kbit = (unsigned int)(single * 8 / 1000 / FAIR_LINK_DIV);
	if (kbit > FAIR_LINK_MAX)
		kbit = FAIR_LINK_MAX;
	if (kbit < FAIR_LINK_MIN)
		kbit = FAIR_LINK_MIN;
	printf("# one flow alone: %.1f Mbit/s; the link from %s to %s: tbf %.2f Mbit/s\n",
	       single * 8 / 1e6, NC_NS_A, NC_NS_B, kbit / 1e3);
	if (link_limit(kbit))
		fail_msg("tc qdisc replace dev nc_va root tbf in %s failed: is sch_tbf in the guest (NC_VM_MODULES)?",
			 NC_NS_A);

	nat = run_pair(FAIR_MS / 2, &n1, &n3, bl);
	util = (n1 + n3) * 8.0 / (FAIR_MS / 2) / kbit;	/* bytes/ms*8 = kbit/s */
	printf("# native:       w1 %6.2f MB, w3 %6.2f MB: w3/w1 %.2f; %.0f%% of the link; %s\n",
	       n1 / 1e6, n3 / 1e6, nat, util * 100, backlog_str(bl));

	assert_int_equal(ncload("attach fair >/dev/null"), 0);
	assert_int_equal(ncload("set-weight " CG_W1 " 100 >/dev/null"), 0);
	assert_int_equal(ncload("set-weight " CG_W3 " 300 >/dev/null"), 0);
	fair = run_pair(FAIR_MS, &f1, &f3, bl);
	policy_name_is("fair");
	util = (f1 + f3) * 8.0 / FAIR_MS / kbit;
	printf("# fair 100:300: w1 %6.2f MB, w3 %6.2f MB: w3/w1 %.2f (want 2.7..3.3); %.0f%% of the link; %s\n",
	       f1 / 1e6, f3 / 1e6, fair, util * 100, backlog_str(bl));
	link_limit(0);
	if (fair < 2.7 || fair > 3.3)
		fail_msg("fair: w3/w1 = %.2f, not within 10%% of 3 (link %.0f%% used; %s)",
			 fair, util * 100, backlog_str(bl));
}

/* ------------------------------------------------------------ latency */

#define LONG_BYTES	(8 * 1024 * 1024)
#define NR_SHORT	4
#define SHORT_BYTES	1024
/*
 * The short messages are written this far apart, so the later ones come
 * well after the long one's first frames were ranked (an 8 MiB message
 * earns 67 ms of slack with the latency policy) and while it is still
 * being sent: they must still overtake what is left of it.
 */
#define SHORT_GAP_US	40000
/*
 * A short message is in the contest only if, when it was written, at
 * least this much of the long one was not yet bound to a channel
 * (SIOCOUTQ): bytes already handed to the channels are ahead of it, and
 * what is left must not be so little that the long one's last frame, on
 * another channel, could beat it by the luck of the channels.
 */
#define CONTEST_UNSENT	(256 * 1024)
/*
 * The link is the bottleneck, so the long message queues in its socket
 * and the short ones have something to overtake: unlimited, the channels
 * may drain the long one as fast as write() copies it in (in one CI run on
 * the native policy at most 240 KiB of it was ever unsent, and no short
 * message was in the contest). At 100 Mbit/s the 8 MiB take 670 ms, far
 * longer than the 120 ms over which the short ones are written, and far
 * slower than the copy (about 500 Mbit/s under TCG). The latency policy
 * ranks from the time of ranking, not of the write, so a slower link
 * changes nothing in what it must do.
 */
#define LATENCY_LINK	100000	/* kbit/s */

struct lat_arg {
	uint16_t port[1 + NR_SHORT];
	uint64_t seed[1 + NR_SHORT];
	int go[2];		/* the long writer says "writing" here */
};

/*
 * Client of the latency test, two processes: this one writes the long
 * message in one write(); its fork writes the short ones while the long
 * one is being written, SHORT_GAP_US apart. Slot 0 is the long one, 1.. the short ones.
 */
static int cli_latency(void *arg, int wfd)
{
	struct lat_arg *a = arg;
	int fd[1 + NR_SHORT], i, sndbuf = 2 * LONG_BYTES;
	uint8_t *buf = malloc(LONG_BYTES);
	struct app_stat *st;
	pid_t pid;
	char c;

	if (!buf)
		return 1;
	for (i = 0; i <= NR_SHORT; i++) {
		fd[i] = connect_b(a->port[i], i ? 0 : sndbuf);
		if (fd[i] < 0) {
			fprintf(stderr, "[latency] %s\n", nc_err);
			return 1;
		}
	}
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(a->go[1]);
		if (read(a->go[0], &c, 1) != 1)
			_exit(1);
		for (i = 1; i <= NR_SHORT; i++) {
			int64_t at = RD(shm->st[0].tx_start_us) +
				     (i - 1) * SHORT_GAP_US;

			st = &shm->st[i];
			nc_gen(a->seed[i], 0, buf, SHORT_BYTES);
			while (now_us() < at)
				usleep(at - now_us());
			if (ioctl(fd[0], SIOCOUTQ, &st->long_unsent))
				_exit(1);
			WR(st->tx_start_us, now_us());
			if (nc_send_all(fd[i], buf, SHORT_BYTES, 30000))
				_exit(1);
			WR(st->tx_bytes, SHORT_BYTES);
			WR(st->tx_hash, nc_hash_buf(buf, SHORT_BYTES));
		}
		close(fd[0]);
		for (i = 1; i <= NR_SHORT; i++) {
			if (cli_finish(fd[i]))
				_exit(1);
			WR(shm->st[i].tx_done, 1);
		}
		_exit(0);
	}
	close(a->go[0]);
	for (i = 1; i <= NR_SHORT; i++)
		close(fd[i]);
	st = &shm->st[0];
	nc_gen(a->seed[0], 0, buf, LONG_BYTES);
	WR(st->tx_hash, nc_hash_buf(buf, LONG_BYTES));
	WR(st->tx_start_us, now_us());
	if (write(a->go[1], "g", 1) != 1 ||
	    send(fd[0], buf, LONG_BYTES, MSG_NOSIGNAL) != LONG_BYTES) {
		fprintf(stderr, "[latency] the long message was not one write()\n");
		return 1;
	}
	WR(st->tx_end_us, now_us());
	WR(st->tx_bytes, LONG_BYTES);
	if (cli_finish(fd[0]))
		return 1;
	WR(st->tx_done, 1);
	free(buf);
	return nc_child_wait(pid, 120000) ? 1 : 0;
}

/* One run: 0 if the short messages all arrived before the long one ended. */
static int run_latency(const char *what)
{
	struct app srv[1 + NR_SHORT];
	struct lat_arg la;
	int i, st, late = 0, contended = 0;
	pid_t cli;
	int64_t t0, long_end;

	memset(&la, 0, sizeof(la));
	assert_int_equal(pipe(la.go), 0);
	for (i = 0; i <= NR_SHORT; i++) {
		srv[i] = (struct app){ .kind = APP_BULK, .slot = i };
		memset(&shm->st[i], 0, sizeof(shm->st[i]));
		srv[i].port = la.port[i] = nc_next_port();
		la.seed[i] = srv[i].seed = 0x1a7e0000 + i;
		srv[i].lfd = listen_b(srv[i].port, 0);
		nc_assert(srv[i].lfd >= 0, "listener");
		srv[i].srv = nc_spawn(NC_NS_B, 120, srv_main, &srv[i], NULL);
		close(srv[i].lfd);
		nc_assert(srv[i].srv > 0, "fork");
	}
	cli = nc_spawn(NC_NS_A, 120, cli_latency, &la, NULL);
	nc_assert(cli > 0, "fork");
	close(la.go[0]);
	close(la.go[1]);
	st = nc_child_wait(cli, 120000);
	nc_assert(st == 0, "latency client exit %d", st);
	for (i = 0; i <= NR_SHORT; i++) {
		srv[i].cli = 0;
		st = nc_child_wait(srv[i].srv, 30000);
		nc_assert(st == 0, "server %d exit %d", i, st);
		nc_assert(shm->st[i].rx_done && shm->st[i].tx_done &&
			  shm->st[i].rx_bytes == shm->st[i].tx_bytes &&
			  shm->st[i].rx_hash == shm->st[i].tx_hash,
			  "%s: message %d: sent %llu bytes, received %llu, hash %s", what, i,
			  (unsigned long long)shm->st[i].tx_bytes,
			  (unsigned long long)shm->st[i].rx_bytes,
			  shm->st[i].rx_hash == shm->st[i].tx_hash ? "ok" : "differs");
	}
	t0 = shm->st[0].tx_start_us;
	long_end = shm->st[0].rx_last_us;
	printf("# %-8s long 8 MiB: write() %5.1f ms, complete after %6.1f ms; 1 KiB:",
	       what, (shm->st[0].tx_end_us - t0) / 1e3, (long_end - t0) / 1e3);
	for (i = 1; i <= NR_SHORT; i++) {
		printf(" [written +%.1f, %d KiB of the long one unsent, done in %.1f ms]",
		       (shm->st[i].tx_start_us - t0) / 1e3, shm->st[i].long_unsent / 1024,
		       (shm->st[i].rx_last_us - shm->st[i].tx_start_us) / 1e3);
		if (shm->st[i].long_unsent < CONTEST_UNSENT)
			continue;	/* no contest: the long one was all sent */
		contended++;
		if (shm->st[i].rx_last_us >= long_end)
			late++;
	}
	printf("\n");
	nc_assert(contended > 0, "%s: no short message was written while the long one was sent",
		  what);
	return late;
}

/*
 * Latency: a long message is written first, short ones on other sockets
 * to the same peer just after it; with latency, the short ones complete
 * before the long one, which still completes byte-exact.
 */
static void test_latency(void **state)
{
	int late;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(150);
	no_policy();
	if (link_limit(LATENCY_LINK))
		fail_msg("tc qdisc replace dev nc_va root tbf in %s failed", NC_NS_A);
	late = run_latency("native");
	printf("# native: %d of %d short messages completed after the long one\n",
	       late, NR_SHORT);
	assert_int_equal(ncload("attach latency >/dev/null"), 0);
	late = run_latency("latency");
	policy_name_is("latency");
	if (late)
		fail_msg("latency: %d of %d short messages completed after the long one",
			 late, NR_SHORT);
}

/* ------------------------------------------------------------ live swap */

/*
 * The longest pause in delivery allowed, per flow. Strict priority may
 * hold the lower-class flow back while it is attached (300 ms at a time
 * here), so the bound is on starvation across changes, not on fairness.
 * Measured: 64-84 ms with re-ranking, 2065 ms without it.
 */
#define SWAP_GAP_MS	1000

/*
 * Live swap: two bulk transfers (in different cgroups) run while policies
 * are replaced, detached and attached; both stay byte-exact and neither
 * pauses for long. Two flows matter: ranks the old policy gave must not
 * outlive it (the kernel ranks every waiting socket again on each change),
 * or one flow starves under the next policy.
 */
static void test_live_swap(void **state)
{
	static const char *const ops[][2] = {
		{ "attach priority", "priority" }, { "replace fair", "fair" },
		{ "replace latency", "latency" }, { "replace priority", "priority" },
		{ "detach", "native" }, { "attach latency", "latency" },
		{ "replace fair", "fair" }, { "replace priority", "priority" },
		{ "detach", "native" },
	};
	struct app a[2] = {
		{ .kind = APP_BULK, .slot = 0, .cgroup = CG_L },
		{ .kind = APP_BULK, .slot = 1, .cgroup = CG_T },
	};
	int64_t op_at[sizeof(ops) / sizeof(ops[0])][2];
	uint64_t before;
	int k, bad = -1;
	size_t i;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(150);
	no_policy();
	for (k = 0; k < 2; k++)
		app_start(&a[k]);
	nc_sleep_ms(1000);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		before = RD(shm->st[0].rx_bytes) + RD(shm->st[1].rx_bytes);
		op_at[i][0] = now_us();
		nc_assert(ncload("%s >/dev/null", ops[i][0]) == 0, "ncload %s", ops[i][0]);
		op_at[i][1] = now_us();
		assert_proc_policy("policy", ops[i][1]);
		nc_sleep_ms(300);
		nc_assert(RD(shm->st[0].rx_bytes) + RD(shm->st[1].rx_bytes) > before,
			  "no bytes arrived within 300 ms of ncload %s", ops[i][0]);
	}
	assert_proc_policy("last_exit", "detached");
	for (k = 0; k < 2; k++)
		app_stop(&a[k]);
	for (k = 0; k < 2; k++) {
		struct app_stat *st = &shm->st[k];

		app_wait(&a[k], 60000);
		printf("# flow %d, %zu swaps: %.1f MB byte-exact in %.1f s; longest pause in delivery %.0f ms, ending %.2f s in (bound %d ms)\n",
		       k, sizeof(ops) / sizeof(ops[0]), st->rx_bytes / 1e6,
		       (st->rx_last_us - st->rx_first_us) / 1e6, st->rx_max_gap_us / 1e3,
		       (st->rx_gap_at_us - st->rx_first_us) / 1e6, SWAP_GAP_MS);
		if (st->rx_max_gap_us > SWAP_GAP_MS * 1000)
			bad = k;
	}
	if (bad < 0)
		return;
	/* when the pause was, against when each ncload ran */
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		printf("# ncload %-16s from %5.2f to %5.2f s in\n", ops[i][0],
		       (op_at[i][0] - shm->st[bad].rx_first_us) / 1e6,
		       (op_at[i][1] - shm->st[bad].rx_first_us) / 1e6);
	fail_msg("flow %d: delivery paused for %lld ms, from %.2f s in (CLOCK_MONOTONIC %.6f)",
		 bad, (long long)shm->st[bad].rx_max_gap_us / 1000,
		 (shm->st[bad].rx_gap_at_us - shm->st[bad].rx_max_gap_us -
		  shm->st[bad].rx_first_us) / 1e6,
		 (shm->st[bad].rx_gap_at_us - shm->st[bad].rx_max_gap_us) / 1e6);
}

/* ------------------------------------------------------------ misbehaving */

/*
 * Starvation: nc_test_starve ranks by class alone; three bulk connections
 * in class 0 keep the peer busy, a socket of class 1 is never served: the
 * watchdog ejects the policy after its 1 s timeout_ms, and the native
 * policy delivers everything.
 */
static void test_starve_ejected(void **state)
{
	struct app hi[3], lo = { .kind = APP_BULK, .slot = 3, .cgroup = CG_T,
				  .bytes = 65536 };
	char reason[256];
	int64_t t0, t_eject;
	int i;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	no_policy();
	/*
	 * The channel must be the bottleneck for class 0 to keep it busy:
	 * without a limit the writers, not the channel, are the slower part
	 * on some machines, and the class 1 socket is served between their
	 * writes. A link of FAIR_LINK_MAX keeps their 4 MiB buffers full.
	 */
	if (link_limit(FAIR_LINK_MAX))
		fail_msg("tc qdisc replace dev nc_va root tbf in %s failed", NC_NS_A);
	assert_int_equal(ncload("attach " STARVE_OBJ " >/dev/null"), 0);
	assert_int_equal(ncload("set-class " CG_L " 0 >/dev/null"), 0);
	for (i = 0; i < 3; i++) {
		hi[i] = (struct app){ .kind = APP_BULK, .slot = i, .cgroup = CG_L,
				      .wsize = 256 * 1024, .sndbuf = 4 << 20,
				      .rcvbuf = 8 << 20 };
		app_start(&hi[i]);
	}
	nc_sleep_ms(500);
	policy_name_is("nc_test_starve");
	app_start(&lo);
	t0 = now_us();
	nc_assert(nc_proc_wait("policy", "native", 15000) == 0,
		  "nc_test_starve still attached 15 s after starving a socket; lo received %llu of 65536 bytes",
		  (unsigned long long)RD(shm->st[3].rx_bytes));
	t_eject = now_us();
	assert_proc_policy("last_policy", "nc_test_starve");
	assert_proc_policy("last_exit", "ejected");
	assert_int_equal(nc_proc_get(NC_PROC_POLICY, "last_exit_reason", reason,
				     sizeof(reason)), 0);
	printf("# ejected %.2f s after the class 1 socket arrived: %s\n",
	       (t_eject - t0) / 1e6, reason);
	nc_assert(strstr(reason, "starved"), "reason '%s' does not say starved", reason);
	/* the victim got nothing before, everything after */
	app_wait(&lo, 30000);
	printf("# the starved socket's 64 KiB arrived %.2f s after the ejection\n",
	       (shm->st[3].rx_last_us - t_eject) / 1e6);
	link_limit(0);		/* the writers' buffers drain at full speed */
	for (i = 0; i < 3; i++)
		app_stop(&hi[i]);
	for (i = 0; i < 3; i++)
		app_wait(&hi[i], 60000);
	/* the link of the ejected policy is still pinned: nothing to replace */
	ncload_fails("replace priority");
	/* detach says nothing runs, and cleans the pins up */
	assert_int_equal(ncload("detach 2>/dev/null"), 1);
	assert_int_equal(access(PIN_DIR "/link", F_OK), -1);
	assert_int_equal(access(PIN_MAPS, F_OK), -1);
}

/*
 * select_channels() returning a set that names none of the peer's
 * channels (bit 40) gets the policy ejected.
 */
static void test_bad_select_channel(void **state)
{
	struct app a = { .kind = APP_BULK, .slot = 0, .bytes = 1 << 20 };
	struct nc_test_starve *skel;
	struct bpf_link *link;
	char reason[256];

	SKIP_UNLESS_NETCHANNEL();
	skel = nc_test_starve__open_and_load();
	nc_watchdog(60);
	no_policy();
	assert_non_null(skel);
	skel->bss->bad_channels = 1ULL << 40;
	link = bpf_map__attach_struct_ops(skel->maps.nc_test_starve_ops);
	assert_non_null(link);
	policy_name_is("nc_test_starve");
	app_start(&a);
	assert_int_equal(nc_proc_wait("policy", "native", 10000), 0);
	assert_proc_policy("last_exit", "ejected");
	assert_proc_policy("last_exit_code", "1099511627776");
	assert_int_equal(nc_proc_get(NC_PROC_POLICY, "last_exit_reason", reason,
				     sizeof(reason)), 0);
	printf("# %s\n", reason);
	nc_assert(!strcmp(reason, "select_channels() returned 0x10000000000, none of the " CHANNELS " channels"),
		  "reason '%s'", reason);
	assert_int_equal(skel->data->exit_kind, NETSCHED_EXIT_ERROR);
	assert_int_equal(skel->bss->exit_code, 1ULL << 40);
	app_wait(&a, 60000);		/* the connection works regardless */
	bpf_link__destroy(link);
	nc_test_starve__destroy(skel);
}

/* ------------------------------------------------------------ tools */

/*
 * bpftool registers each policy object as it is (see test_sched.c for
 * bpftool 7.5's crash after pinning, and the 15-character link name).
 */
static void test_bpftool_register(void **state)
{
	static const char *const pols[] = { "priority", "fair", "latency" };
	char pin[64];
	size_t i;
	int st;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	no_policy();
	for (i = 0; i < 3; i++) {
		struct app a = { .kind = APP_BULK, .slot = 0, .bytes = 1 << 20 };

		st = nc_run("bpftool struct_ops register /nc/policies/%s.bpf.o /sys/fs/bpf >/dev/null 2>&1",
			    pols[i]);
		if (st != 0 && st != 128 + SIGSEGV)
			fail_msg("bpftool struct_ops register %s: exit %d", pols[i], st);
		policy_name_is(pols[i]);
		app_start(&a);
		app_wait(&a, 60000);
		/* not attached by ncload: set-class says so */
		if (i == 0)
			ncload_fails("set-class " CG_L " 0");
		/* ncload detaches it all the same (the link is found by type) */
		if (i == 2)
			assert_int_equal(ncload("detach >/dev/null"), 0);
		snprintf(pin, sizeof(pin), "/sys/fs/bpf/%s_ops", pols[i]);
		nc_assert(unlink(pin) == 0, "unlink %s", pin);
		assert_int_equal(nc_proc_wait("policy", "native", 5000), 0);
		printf("# bpftool: %s attached, 1 MiB byte-exact, detached\n", pols[i]);
	}
}

/* Value of map @name pinned by ncload for cgroup @cg, or -1. */
static long pinned_value(const char *name, const char *cg)
{
	char path[128];
	uint64_t id = cg_id(cg);
	uint32_t v;
	int fd;

	snprintf(path, sizeof(path), PIN_MAPS "/%s", name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	if (bpf_map_lookup_elem(fd, &id, &v))
		v = -1;
	close(fd);
	return (int32_t)v;
}

static void status_has(const char *want)
{
	char out[4096];

	assert_int_equal(run_capture(out, sizeof(out), "ncload status"), 0);
	if (!strstr(out, want))
		fail_msg("ncload status lacks '%s':\n%s", want, out);
}

/* ncload set-class / set-weight, the pinned maps, and their errors. */
static void test_ncload_maps(void **state)
{
	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	no_policy();
	ncload_fails("set-class " CG_L " 0");		/* no policy */
	ncload_fails("set-weight " CG_L " 100");
	assert_int_equal(ncload("set-class " CG_L " >/dev/null 2>&1"), 2);

	assert_int_equal(ncload("attach priority >/dev/null"), 0);
	ncload_fails("set-class /nonexistent 0");	/* bad paths */
	ncload_fails("set-class /tmp 0");
	ncload_fails("set-class " CG_L "/cgroup.procs 0");
	ncload_fails("set-class " CG_L " 256");		/* bad values */
	ncload_fails("set-class " CG_L " -1");
	ncload_fails("set-class " CG_L " high");
	ncload_fails("set-weight " CG_L " 100");	/* priority has no weights */
	assert_int_equal(ncload("set-class " CG_L " 0 >/dev/null"), 0);
	assert_int_equal(ncload("set-class " CG_T " 7 >/dev/null"), 0);
	assert_int_equal(pinned_value("cgrp_class", CG_L), 0);
	assert_int_equal(pinned_value("cgrp_class", CG_T), 7);
	status_has("map: cgrp_class (hash, 2 of 1024 entries)");
	status_has("(ncload set cgrp_class CGROUP 0..255)");
	/* set-class is `set cgrp_class`, with the range priority declares */
	assert_int_equal(ncload("set cgrp_class " CG_T " 255 >/dev/null"), 0);
	assert_int_equal(pinned_value("cgrp_class", CG_T), 255);
	ncload_fails("set cgrp_class " CG_T " 256");
	ncload_fails("set cgrp_nosuch " CG_T " 1");	/* no such map */
	ncload_fails("set ../link " CG_T " 1");
	assert_int_equal(ncload("set cgrp_class " CG_T " >/dev/null 2>&1"), 2);
	assert_int_equal(ncload("set-class " CG_T " 7 >/dev/null"), 0);

	/* check loads a policy and unloads it: the attached one stays */
	assert_int_equal(ncload("check fair | grep -qx 'fair loads'"), 0);
	assert_proc_policy("policy", "priority");
	assert_int_equal(pinned_value("cgrp_class", CG_T), 7);
	ncload_fails("check /nc/no-such-policy.bpf.o");
	ncload_fails("check /nc/netchannel.ko");	/* an ELF, not BPF */

	/* a policy without cgrp_class: its pins go, the new ones come */
	assert_int_equal(ncload("replace fair >/dev/null"), 0);
	assert_int_equal(access(PIN_MAPS "/cgrp_class", F_OK), -1);
	ncload_fails("set-class " CG_L " 0");
	ncload_fails("set-weight " CG_W3 " 0");
	ncload_fails("set-weight " CG_W3 " 1001");
	assert_int_equal(ncload("set-weight " CG_W3 " 300 >/dev/null"), 0);
	assert_int_equal(pinned_value("cgrp_weight", CG_W3), 300);
	/* replaced by itself: the weights carry over */
	assert_int_equal(ncload("replace fair >/dev/null"), 0);
	assert_int_equal(pinned_value("cgrp_weight", CG_W3), 300);
	status_has("map: cgrp_weight (hash, 1 of 1024 entries)");

	/* a map of the right layout that declares no range is refused */
	assert_int_equal(ncload("replace /nc/progs/nc_test_port.bpf.o >/dev/null"), 0);
	ncload_fails("set cgrp_undeclared " CG_W3 " 1");
	assert_int_equal(ncload("detach >/dev/null"), 0);
	assert_int_equal(access(PIN_MAPS, F_OK), -1);
	ncload_fails("set-weight " CG_W3 " 300");
	assert_int_equal(nc_run("ncload --help | grep -q set-weight"), 0);
	assert_int_equal(nc_run("ncload --help | grep -q 'set MAP CGROUP VALUE'"), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ncload_maps, test_teardown),
		cmocka_unit_test_teardown(test_priority, test_teardown),
		cmocka_unit_test_teardown(test_fair, test_teardown),
		cmocka_unit_test_teardown(test_latency, test_teardown),
		cmocka_unit_test_teardown(test_live_swap, test_teardown),
		cmocka_unit_test_teardown(test_starve_ejected, test_teardown),
		cmocka_unit_test_teardown(test_bad_select_channel, test_teardown),
		cmocka_unit_test_teardown(test_bpftool_register, test_teardown),
	};

	/* NCP_TEST=PATTERN runs only the matching tests */
	if (getenv("NCP_TEST"))
		cmocka_set_test_filter(getenv("NCP_TEST"));
	return cmocka_run_group_tests_name("policy", tests, group_setup, group_teardown);
}
