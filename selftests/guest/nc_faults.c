// SPDX-License-Identifier: GPL-2.0
/*
 * nc_faults: NetChannel under failing allocations. The kernel's fault
 * injection (failslab, fail_page_alloc; the debug kernel has both) makes a
 * share of the allocations fail whose call stack passes through
 * netchannel.ko, in every context: the sender's system calls, the
 * channels' softirq receive path and the module's works. Meanwhile client
 * threads in ncx_a send verified streams to server threads in ncx_b.
 *
 * What must hold: a transfer either arrives byte-exact or fails with a
 * connection error; no call waits past its bound (a lost ACCEPT or CREDIT
 * would hang it); no stream ends cleanly with bytes missing; and once the
 * injection stops, the stack carries transfers again. The caller
 * (fuzz-live.sh) then unloads the module and asks kmemleak. See usage().
 */
#include "nc_net.h"

#include <pthread.h>
#include <stdatomic.h>

#define NS_A		"ncx_a"
#define NS_B		"ncx_b"
#define IP_B		NC_IP_B
#define PORT		7600
#define MAX_THREADS	16
#define MAGIC		0x6e634641554c5453ULL	/* "ncFAULTS" */
#define DBG		"/sys/kernel/debug"

static struct {
	int threads;
	int seconds;
	int probability;
	int timeout_ms;
	int max_len;
	uint64_t seed;
	bool verbose;
} opt = { .threads = 3, .seconds = 30, .probability = 2, .timeout_ms = 60000,
	  .max_len = 512 * 1024, .seed = 1 };

static void usage(FILE *f)
{
	fprintf(f,
"Usage: nc_faults [--seconds S] [--probability P] [OPTIONS]\n"
"\n"
"NetChannel under failing allocations. Run it as root in the debug-kernel\n"
"guest (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC,\n"
"CONFIG_FAULT_INJECTION_STACKTRACE_FILTER; make test-debug runs it) with\n"
"netchannel.ko loaded and debugfs mounted. It creates namespaces " NS_A "\n"
"(clients) and " NS_B " (" IP_B ", servers) joined by a veth.\n"
"\n"
"Three phases of S seconds each: failslab alone, fail_page_alloc alone\n"
"(order 0 and up), both. In each, P percent of the allocations whose call\n"
"stack passes through netchannel.ko fail (require-start/require-end set to\n"
"the module's text from /proc/kallsyms; sleeping and atomic allocations,\n"
"in any task and in softirq). Client threads connect, send a header and\n"
"up to --max-len bytes, shut down for writing and wait for the server's\n"
"count and hash of what it read; server threads check the count and\n"
"answer. After each phase the injection stops and three transfers in a row\n"
"must succeed.\n"
"\n"
"Options:\n"
"  --threads N      client and server threads (1..%d, default 3)\n"
"  --seconds S      length of each phase (default 30)\n"
"  --probability P  percent of the module's allocations that fail\n"
"                   (1..100, default 2)\n"
"  --timeout-ms T   bound of every connect, send and receive (default\n"
"                   60000): a call still waiting then is a hang\n"
"  --max-len N      largest transfer in bytes (default 524288)\n"
"  --seed S         random seed (default 1)\n"
"  --verbose        log every failed transfer\n"
"  -h, --help       this text\n"
"\n"
"Checks, per phase: the injector failed allocations in the module (its\n"
"'times' budget went down), some transfers succeeded, none arrived\n"
"corrupted or cut short with a clean end of stream, no call hung, every\n"
"errno is a connection error (ENOMEM ENOBUFS ECONNRESET ECONNREFUSED\n"
"ECONNABORTED EPIPE ETIMEDOUT EHOSTUNREACH ENETUNREACH), and the three\n"
"transfers after it succeeded. At the end every NetChannel socket is gone\n"
"(the module's reference count is back). Then \"N passed, M failed\";\n"
"exit 0 if all passed, 1 otherwise, 2 on usage.\n", MAX_THREADS);
}

/* ------------------------------------------------------------ results */

static atomic_bool stop_clients, stop_servers;
static atomic_ullong n_ok, n_err, n_hang, n_corrupt, n_short, n_unexpected;
static atomic_ullong bytes_ok;
static atomic_int last_unexpected;

static bool errno_expected(int e)
{
	switch (e) {
	case ENOMEM: case ENOBUFS: case ECONNRESET: case ECONNREFUSED:
	case ECONNABORTED: case EPIPE: case ETIMEDOUT: case EHOSTUNREACH:
	case ENETUNREACH:
		return true;
	}
	return false;
}

/* A call failed with @e (> 0), or hit our bound (e == ETIME). */
static void count_error(const char *who, const char *op, int e)
{
	if (e == ETIME) {
		atomic_fetch_add(&n_hang, 1);
		nc_logf("# %s: %s still waiting after %d ms: a hang\n", who, op,
			opt.timeout_ms);
	} else if (errno_expected(e)) {
		atomic_fetch_add(&n_err, 1);
		if (opt.verbose)
			nc_logf("# %s: %s: %s\n", who, op, strerror(e));
	} else {
		atomic_fetch_add(&n_unexpected, 1);
		atomic_store(&last_unexpected, e);
		nc_logf("# %s: %s: unexpected %s\n", who, op, strerror(e));
	}
}

/* ------------------------------------------------------------- I/O */

/* Wait for @events on @fd until @deadline: 0, or ETIME. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int left;

	for (;;) {
		left = nc_left_ms(deadline);
		if (left <= 0)
			return ETIME;
		if (poll(&p, 1, left < 100 ? left : 100) > 0)
			return 0;
	}
}

/* Write all of @buf (non-blocking @fd): 0 or an errno (ETIME: our bound). */
static int write_all(int fd, const void *buf, size_t len, int64_t deadline)
{
	const char *p = buf;
	ssize_t n;
	int e;

	while (len) {
		n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			return errno;
		e = wait_fd(fd, POLLOUT, deadline);
		if (e)
			return e;
	}
	return 0;
}

/*
 * Read up to @len bytes into @buf: *@got bytes read, 0 when @len arrived or
 * at EOF (*@eof), else an errno (ETIME: our bound).
 */
static int read_some(int fd, void *buf, size_t len, int64_t deadline,
		     size_t *got, bool *eof)
{
	char *p = buf;
	ssize_t n;
	int e;

	*got = 0;
	*eof = false;
	while (*got < len) {
		n = recv(fd, p + *got, len - *got, MSG_DONTWAIT);
		if (n > 0) {
			*got += n;
			continue;
		}
		if (n == 0) {
			*eof = true;
			return 0;
		}
		if (errno != EAGAIN)
			return errno;
		e = wait_fd(fd, POLLIN, deadline);
		if (e)
			return e;
	}
	return 0;
}

/* Close @fd with an RST-like abort, so the other side sees an error. */
static void abort_fd(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

struct hdr {
	uint64_t magic;
	uint64_t len;
};

struct reply {
	uint64_t len;
	uint64_t hash;
};

/* ---------------------------------------------------------- servers */

static int listen_fd = -1;

/* One connection: read the header and the stream, answer count and hash. */
static void serve(int fd)
{
	int64_t deadline = nc_now_ms() + opt.timeout_ms;
	static __thread char buf[65536];
	struct hdr h;
	struct reply r = {};
	struct nc_hash hs;
	size_t got;
	bool eof;
	int e;

	nc_hash_init(&hs);
	e = read_some(fd, &h, sizeof(h), deadline, &got, &eof);
	if (e) {
		count_error("server", "reading the header", e);
		goto out;
	}
	if (got < sizeof(h) || h.magic != MAGIC || h.len > (uint64_t)opt.max_len) {
		atomic_fetch_add(got ? &n_corrupt : &n_short, 1);
		nc_logf("# server: header %zu bytes, magic %#llx, len %llu: %s\n",
			got, (unsigned long long)h.magic, (unsigned long long)h.len,
			got ? "corrupted" : "a clean EOF before any byte");
		goto out;
	}
	for (;;) {
		e = read_some(fd, buf, sizeof(buf), deadline, &got, &eof);
		if (e) {
			count_error("server", "reading the stream", e);
			goto out;
		}
		nc_hash_update(&hs, buf, got);
		r.len += got;
		if (eof)
			break;
	}
	if (r.len != h.len) {
		/* a clean end of stream with bytes missing is data loss */
		atomic_fetch_add(&n_short, 1);
		nc_logf("# server: clean EOF after %llu of %llu bytes\n",
			(unsigned long long)r.len, (unsigned long long)h.len);
		goto out;
	}
	r.hash = nc_hash_final(&hs);
	e = write_all(fd, &r, sizeof(r), deadline);
	if (e) {
		count_error("server", "sending the answer", e);
		goto out;
	}
	close(fd);
	return;
out:
	abort_fd(fd);
}

static void *server_main(void *arg)
{
	int fd;

	(void)arg;
	while (!atomic_load(&stop_servers)) {
		if (wait_fd(listen_fd, POLLIN, nc_now_ms() + 200))
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				count_error("server", "accept", errno);
			continue;
		}
		serve(fd);
	}
	return NULL;
}

/* ---------------------------------------------------------- clients */

/* One verified transfer of @len bytes of stream @seed: true if it worked. */
static bool transfer(uint64_t seed, size_t len)
{
	int64_t deadline = nc_now_ms() + opt.timeout_ms;
	struct sockaddr_in sin = nc_sin(IP_B, PORT);
	static __thread char buf[65536];
	struct hdr h = { .magic = MAGIC, .len = len };
	struct reply r;
	struct nc_hash hs;
	socklen_t sl = sizeof(int);
	size_t off = 0, n, got;
	bool eof;
	int fd, e = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    nc_proto());
	if (fd < 0) {
		count_error("client", "socket", errno);
		return false;
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) && errno != EINPROGRESS) {
		count_error("client", "connect", errno);
		goto fail;
	}
	e = wait_fd(fd, POLLOUT, deadline);
	if (!e && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl))
		e = errno;
	if (e) {
		count_error("client", "connect", e);
		goto fail;
	}
	nc_hash_init(&hs);
	e = write_all(fd, &h, sizeof(h), deadline);
	while (!e && off < len) {
		n = len - off < sizeof(buf) ? len - off : sizeof(buf);
		nc_gen(seed, off, buf, n);
		nc_hash_update(&hs, buf, n);
		e = write_all(fd, buf, n, deadline);
		off += n;
	}
	if (!e && shutdown(fd, SHUT_WR))
		e = errno;
	if (e) {
		count_error("client", "sending", e);
		goto fail;
	}
	e = read_some(fd, &r, sizeof(r), deadline, &got, &eof);
	if (e) {
		count_error("client", "reading the answer", e);
		goto fail;
	}
	if (got < sizeof(r)) {
		/* the server aborts on its errors: a clean EOF is a bug */
		atomic_fetch_add(&n_short, 1);
		nc_logf("# client: clean EOF after %zu bytes of the answer\n", got);
		goto fail;
	}
	if (r.len != len || r.hash != nc_hash_final(&hs)) {
		atomic_fetch_add(&n_corrupt, 1);
		nc_logf("# client: sent %zu bytes, server read %llu, hash %s\n", len,
			(unsigned long long)r.len,
			r.hash == nc_hash_final(&hs) ? "equal" : "different");
		goto fail;
	}
	close(fd);
	atomic_fetch_add(&n_ok, 1);
	atomic_fetch_add(&bytes_ok, len);
	return true;
fail:
	abort_fd(fd);
	return false;
}

static void *client_main(void *arg)
{
	struct nc_rng r = { .s = opt.seed * 1000003 + (uintptr_t)arg };

	while (!atomic_load(&stop_clients))
		transfer(nc_rnd64(&r), nc_rnd_in(&r, 0, opt.max_len));
	return NULL;
}

/* Each thread lives in its namespace: enter it, then run @fn. */
struct thread_arg {
	const char *ns;
	void *(*fn)(void *arg);
	uintptr_t idx;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", a->ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		nc_logf("# setns %s: %s\n", a->ns, strerror(errno));
		atomic_fetch_add(&n_unexpected, 1);
		return NULL;
	}
	close(fd);
	return a->fn((void *)a->idx);
}

/* ------------------------------------------------------- injection */

static unsigned long text_lo, text_hi;

/* The module's text range, from /proc/kallsyms: 0, or -1. */
static int module_text(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], type, mod[64];
	unsigned long a;

	if (!f)
		return -1;
	text_lo = ~0UL;
	text_hi = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %*s [%63[^]]]", &a, &type, mod) != 3 ||
		    strcmp(mod, "netchannel") || (type != 't' && type != 'T'))
			continue;
		if (a < text_lo)
			text_lo = a;
		if (a > text_hi)
			text_hi = a;
	}
	fclose(f);
	if (!text_hi || text_lo > text_hi)
		return -1;
	text_hi += 4096;	/* past the last function's start */
	return 0;
}

static int dbg_write(const char *inj, const char *knob, const char *fmt, ...)
{
	char path[128], val[64];
	va_list ap;
	FILE *f;
	int ok;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), DBG "/%s/%s", inj, knob);
	f = fopen(path, "w");
	if (!f)
		return nc_fail(-1, "open %s: %s", path, strerror(errno));
	ok = fputs(val, f) >= 0;
	ok &= fclose(f) == 0;
	return ok ? 0 : nc_fail(-1, "write %s to %s: %s", val, path, strerror(errno));
}

static long dbg_read(const char *inj, const char *knob)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), DBG "/%s/%s", inj, knob);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

#define TIMES	1000000000L	/* the budget; what is left tells what fired */

/* Arm (@p > 0) or disarm (0) injector @inj for the module's stacks. */
static int inject(const char *inj, int p)
{
	if (!p)
		return dbg_write(inj, "probability", "0");
	if (dbg_write(inj, "probability", "0") || dbg_write(inj, "times", "%ld", TIMES) ||
	    dbg_write(inj, "interval", "1") || dbg_write(inj, "space", "0") ||
	    dbg_write(inj, "verbose", "0") || dbg_write(inj, "task-filter", "N") ||
	    dbg_write(inj, "ignore-gfp-wait", "N") ||
	    dbg_write(inj, "stacktrace-depth", "32") ||
	    dbg_write(inj, "require-start", "%lu", text_lo) ||
	    dbg_write(inj, "require-end", "%lu", text_hi))
		return -1;
	if (!strcmp(inj, "fail_page_alloc") &&
	    (dbg_write(inj, "min-order", "0") ||
	     dbg_write(inj, "ignore-gfp-highmem", "N")))
		return -1;
	return dbg_write(inj, "probability", "%d", p);
}

/* ------------------------------------------------------------ phases */

static void phase(const char *name, bool slab, bool page)
{
	struct thread_arg ta[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	unsigned long long ok, err, hang, corrupt, shrt, unexp;
	long fired_slab = 0, fired_page = 0;
	struct nc_rng r = { .s = opt.seed };
	int i, good = 0;

	atomic_store(&n_ok, 0);
	atomic_store(&n_err, 0);
	atomic_store(&n_hang, 0);
	atomic_store(&n_corrupt, 0);
	atomic_store(&n_short, 0);
	atomic_store(&n_unexpected, 0);
	atomic_store(&bytes_ok, 0);
	atomic_store(&stop_clients, false);

	if ((slab && inject("failslab", opt.probability)) ||
	    (page && inject("fail_page_alloc", opt.probability))) {
		nc_check(false, "%s: arming the injection: %s", name, nc_err);
		inject("failslab", 0);
		inject("fail_page_alloc", 0);
		return;
	}
	for (i = 0; i < opt.threads; i++) {
		ta[i] = (struct thread_arg){ NS_A, client_main, i };
		pthread_create(&t[i], NULL, thread_main, &ta[i]);
	}
	sleep(opt.seconds);
	atomic_store(&stop_clients, true);
	for (i = 0; i < opt.threads; i++)
		pthread_join(t[i], NULL);	/* each call is bounded */
	if (slab)
		fired_slab = TIMES - dbg_read("failslab", "times");
	if (page)
		fired_page = TIMES - dbg_read("fail_page_alloc", "times");
	inject("failslab", 0);
	inject("fail_page_alloc", 0);

	ok = atomic_load(&n_ok);
	err = atomic_load(&n_err);
	hang = atomic_load(&n_hang);
	corrupt = atomic_load(&n_corrupt);
	shrt = atomic_load(&n_short);
	unexp = atomic_load(&n_unexpected);
	nc_logf("# %s: %llu transfers ok (%llu bytes), %llu failed with a connection error; injected: failslab %ld, fail_page_alloc %ld\n",
		name, ok, (unsigned long long)atomic_load(&bytes_ok), err,
		fired_slab, fired_page);
	nc_check((!slab || fired_slab > 0) && (!page || fired_page > 0),
		 "%s: allocations in the module failed (failslab %ld, fail_page_alloc %ld)",
		 name, fired_slab, fired_page);
	nc_check(ok > 0, "%s: some transfers succeeded (%llu)", name, ok);
	nc_check(!corrupt, "%s: no transfer corrupted (%llu)", name, corrupt);
	nc_check(!shrt, "%s: no stream ended cleanly with bytes missing (%llu)",
		 name, shrt);
	nc_check(!hang, "%s: no call waited past %d ms (%llu did)", name,
		 opt.timeout_ms, hang);
	nc_check(!unexp, "%s: no unexpected errno (%llu, last %s)", name, unexp,
		 unexp ? strerror(atomic_load(&last_unexpected)) : "-");

	/* recovery: the same stack, no injection, three in a row */
	if (nc_ns_enter(NS_A) == 0) {
		for (i = 0; i < 3; i++)
			good += transfer(nc_rnd64(&r), opt.max_len);
		nc_ns_leave();
	}
	nc_check(good == 3, "%s: after it, %d of 3 transfers of %d bytes succeeded",
		 name, good, opt.max_len);
}

int main(int argc, char **argv)
{
	static const struct nc_opt opts[] = {
		{ "threads", 't', NC_OPT_INT, &opt.threads },
		{ "seconds", 's', NC_OPT_INT, &opt.seconds },
		{ "probability", 'p', NC_OPT_INT, &opt.probability },
		{ "timeout-ms", 'T', NC_OPT_INT, &opt.timeout_ms },
		{ "max-len", 'l', NC_OPT_INT, &opt.max_len },
		{ "seed", 'r', NC_OPT_U64, &opt.seed },
		{ "verbose", 'v', NC_OPT_FLAG, &opt.verbose },
		{ NULL }
	};
	struct thread_arg sa[MAX_THREADS];
	pthread_t st[MAX_THREADS];
	long refcnt0;
	double secs;
	int i, e;

	e = nc_opts_parse(argc, argv, opts, usage);
	if (e >= 0)
		return e;
	if (opt.threads < 1 || opt.threads > MAX_THREADS || opt.seconds < 1 ||
	    opt.probability < 1 || opt.probability > 100 || opt.timeout_ms < 1000 ||
	    opt.max_len < 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# nc_faults: --threads %d --seconds %d --probability %d --seed %llu\n",
	       opt.threads, opt.seconds, opt.probability, (unsigned long long)opt.seed);

	refcnt0 = nc_check_module_loaded();
	if (refcnt0 < 0)
		return nc_checks_report();
	if (access(DBG "/failslab/probability", W_OK) ||
	    access(DBG "/fail_page_alloc/probability", W_OK)) {
		nc_check(false, "setup: %s/failslab and fail_page_alloc (a kernel with CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and debugfs)",
			 DBG);
		return nc_checks_report();
	}
	if (module_text()) {
		nc_check(false, "setup: netchannel's text in /proc/kallsyms (kptr_restrict?)");
		return nc_checks_report();
	}
	printf("# module text %#lx-%#lx\n", text_lo, text_hi);
	if (nc_hosts_create_ns(NS_A, NS_B, true)) {
		nc_check(false, "setup: namespaces %s and %s: %s", NS_A, NS_B, nc_err);
		return nc_checks_report();
	}
	listen_fd = nc_listen_opts(NS_B, PORT, 128, SOCK_NONBLOCK, 0);
	if (listen_fd < 0) {
		nc_check(false, "setup: listener on %s:%d: %s", IP_B, PORT, nc_err);
		goto out;
	}
	for (i = 0; i < opt.threads; i++) {
		sa[i] = (struct thread_arg){ NS_B, server_main, i };
		pthread_create(&st[i], NULL, thread_main, &sa[i]);
	}

	phase("failslab", true, false);
	phase("fail_page_alloc", false, true);
	phase("both", true, true);

	atomic_store(&stop_servers, true);
	for (i = 0; i < opt.threads; i++)
		pthread_join(st[i], NULL);
	close(listen_fd);
out:
	nc_hosts_destroy_ns(NS_A, NS_B);
	secs = nc_module_refcnt_wait(refcnt0, 30000);
	nc_check(nc_module_refcnt() <= refcnt0,
		 "every socket released (module refcnt %ld, was %ld, after %.1f s)",
		 nc_module_refcnt(), refcnt0, secs);
	return nc_checks_report();
}
