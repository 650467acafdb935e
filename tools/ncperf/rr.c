// SPDX-License-Identifier: GPL-2.0
/* ncperf client rr: closed-loop request/response against the server's echo. */
#include "ncperf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct rr_run {
	struct rr_conn *c;
	int n;
	uint64_t start_ns;	/* measuring starts (after warmup) */
	uint64_t end_ns;
	pthread_barrier_t go;
};

static struct rr_run *rr_run_cur;

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Closed-loop request/response on one connection until end_ns. */
void rr_loop(struct rr_conn *c, uint64_t start_ns, uint64_t end_ns)
{
	char *buf = malloc(o.size);
	uint64_t t0, t1;
	int r;

	if (!buf) {
		errf(c->err, sizeof(c->err), "out of memory");
		return;
	}
	memset(buf, 0x33, o.size);
	for (;;) {
		t0 = now_ns();
		if (t0 >= end_ns)
			break;
		if (write_full(c->fd, buf, o.size)) {
			errf(c->err, sizeof(c->err), "send request: %s", io_err(errno));
			break;
		}
		r = read_full(c->fd, buf, o.size);
		if (r <= 0) {
			errf(c->err, sizeof(c->err), "receive response: %s",
			     r ? io_err(errno) : "connection closed by the server");
			break;
		}
		t1 = now_ns();
		if (t0 >= start_ns) {
			hist_add(&c->h, t1 - t0);
			c->requests++;
		}
		if (o.interval_us > 0)
			sleep_ns((uint64_t)(o.interval_us * 1e3));
	}
	free(buf);
}

static void *rr_thread(void *arg)
{
	struct rr_conn *c = arg;
	struct rr_run *r = rr_run_cur;

	pthread_barrier_wait(&r->go);
	rr_loop(c, r->start_ns, r->end_ns);
	return NULL;
}

void json_latency(struct jw *j, const struct hist *h, double secs)
{
	jw_u64(j, "requests", h->count);
	jw_num(j, "rate_rps", secs > 0 ? (double)h->count / secs : 0);
	jw_open(j, "latency_us");
	jw_num(j, "min", h->count ? (double)h->min / 1e3 : 0);
	jw_num(j, "mean", h->count ? h->sum / (double)h->count / 1e3 : 0);
	jw_num(j, "p50", (double)hist_quantile(h, 0.50) / 1e3);
	jw_num(j, "p90", (double)hist_quantile(h, 0.90) / 1e3);
	jw_num(j, "p99", (double)hist_quantile(h, 0.99) / 1e3);
	jw_num(j, "p999", (double)hist_quantile(h, 0.999) / 1e3);
	jw_num(j, "max", h->count ? (double)h->max / 1e3 : 0);
	jw_close(j);
}

void print_latency(const char *who, const struct hist *h, double secs)
{
	printf("  %s%" PRIu64 " requests in %.3f s = %.0f req/s\n", who, h->count, secs,
	       secs > 0 ? (double)h->count / secs : 0);
	printf("  %slatency us: min %.1f  p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f\n",
	       who, (double)h->min / 1e3, (double)hist_quantile(h, 0.50) / 1e3,
	       (double)hist_quantile(h, 0.99) / 1e3, (double)hist_quantile(h, 0.999) / 1e3,
	       (double)h->max / 1e3, h->sum / (double)h->count / 1e3);
}

int client_rr(void)
{
	struct rr_run r = { .n = o.sockets };
	pthread_t th[MAX_SOCKETS];
	uint64_t session = random_session();
	struct hist *all;
	char err[512] = "";
	double secs;
	int i;

	r.c = calloc((size_t)r.n, sizeof(*r.c));
	all = malloc(sizeof(*all));
	if (!r.c || !all) {
		print_fail("out of memory");
		free(all);
		free(r.c);
		return 1;
	}
	hist_init(all);
	for (i = 0; i < r.n; i++) {
		hist_init(&r.c[i].h);
		r.c[i].fd = client_connect(NCP_ECHO, o.size, (uint32_t)r.n, session, err,
					   sizeof(err));
		if (r.c[i].fd < 0) {
			print_fail(err);
			free(all);
			free(r.c);
			return 1;
		}
	}
	pthread_barrier_init(&r.go, NULL, (unsigned int)r.n + 1);
	rr_run_cur = &r;
	for (i = 0; i < r.n; i++) {
		if (pthread_create(&th[i], NULL, rr_thread, &r.c[i])) {
			print_fail("pthread_create failed");
			return 1;
		}
	}
	r.start_ns = now_ns() + (uint64_t)(o.warmup * 1e9);
	r.end_ns = r.start_ns + (uint64_t)(o.seconds * 1e9);
	pthread_barrier_wait(&r.go);
	for (i = 0; i < r.n; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < r.n; i++) {
		if (r.c[i].err[0]) {
			snprintf(err, sizeof(err), "socket %d: %s", i, r.c[i].err);
			print_fail(err);
			free(all);
			free(r.c);
			return 1;
		}
		hist_merge(all, &r.c[i].h);
		close(r.c[i].fd);
	}
	secs = o.seconds;
	if (!all->count) {
		print_fail("no request completed");
		free(all);
		free(r.c);
		return 1;
	}
	if (o.cdf && hist_write_cdf(all, o.cdf))
		fprintf(stderr, "ncperf: cannot write %s: %s\n", o.cdf, strerror(errno));
	if (o.json) {
		struct jw j;

		jw_client_ok(&j, "rr");
		jw_num(&j, "sockets", r.n);
		jw_num(&j, "size", o.size);
		jw_num(&j, "interval_us", o.interval_us);
		jw_num(&j, "seconds", secs);
		jw_num(&j, "warmup", o.warmup);
		json_latency(&j, all, secs);
		json_cpu(&j);
		jw_end(&j);
	} else {
		printf("ncperf rr %s -> %s:%d, %d socket%s, %u-byte messages\n",
		       proto_name(o.proto), o.addr, o.port, r.n, r.n == 1 ? "" : "s", o.size);
		print_latency("", all, secs);
	}
	free(all);
	free(r.c);
	return 0;
}
