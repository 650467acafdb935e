// SPDX-License-Identifier: GPL-2.0
/* ncperf client bulk: N connections stream to the server's sink. */
#include "ncperf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct bulk_run *bulk_run_cur;

static void bulk_stream(struct bulk_conn *c, uint64_t warm_ns,
			uint64_t deadline_ns)
{
	char *buf = malloc(o.bufsize);
	unsigned char cnt[8];
	int r;

	if (!buf) {
		errf(c->err, sizeof(c->err), "out of memory");
		return;
	}
	memset(buf, 0x5a, o.bufsize);
	for (;;) {
		size_t len = o.bufsize;
		ssize_t n;

		if (c->quota) {
			if (c->sent >= c->quota)
				break;
			if (c->quota - c->sent < len)
				len = (size_t)(c->quota - c->sent);
		}
		if (!c->warm && now_ns() >= warm_ns) {
			c->sent_warm = c->sent;
			c->warm = true;
		}
		if (now_ns() >= deadline_ns)
			break;
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			errf(c->err, sizeof(c->err), "send after %" PRIu64 " bytes: %s",
			     c->sent, io_err(errno));
			goto out;
		}
		c->sent += (uint64_t)n;
	}
	if (shutdown(c->fd, SHUT_WR)) {
		errf(c->err, sizeof(c->err), "shutdown: %s", strerror(errno));
		goto out;
	}
	r = read_full(c->fd, cnt, sizeof(cnt));
	if (r <= 0) {
		errf(c->err, sizeof(c->err), "no byte count from the server: %s",
		     r ? io_err(errno) : "connection closed");
		goto out;
	}
	c->end_ns = now_ns();
	c->acked = get64(cnt);
	if (c->acked != c->sent)
		errf(c->err, sizeof(c->err), "server received %" PRIu64 " of %" PRIu64 " bytes",
		     c->acked, c->sent);
out:
	free(buf);
}

void *bulk_thread(void *arg)
{
	struct bulk_conn *c = arg;
	struct bulk_run *r = bulk_run_cur;

	pthread_barrier_wait(&r->go);
	bulk_stream(c, r->warm_ns, r->deadline_ns);
	return NULL;
}

int client_bulk(void)
{
	struct bulk_run r = { .n = o.sockets };
	pthread_t th[MAX_SOCKETS];
	uint64_t session = random_session(), total = 0, end = 0, interval = 0;
	char err[512] = "";
	char b1[32], b2[32];
	double secs;
	int i;

	r.c = calloc((size_t)r.n, sizeof(*r.c));
	if (!r.c) {
		print_fail("out of memory");
		return 1;
	}
	for (i = 0; i < r.n; i++) {
		r.c[i].fd = client_connect(NCP_SINK, 0, (uint32_t)r.n, session, err, sizeof(err));
		if (r.c[i].fd < 0) {
			print_fail(err);
			free(r.c);
			return 1;
		}
		if (o.bytes)
			r.c[i].quota = o.bytes / (uint64_t)r.n + (i == 0 ? o.bytes % (uint64_t)r.n : 0);
	}
	vlog("bulk: %d connection(s) open", r.n);
	pthread_barrier_init(&r.go, NULL, (unsigned int)r.n + 1);
	bulk_run_cur = &r;
	for (i = 0; i < r.n; i++) {
		if (pthread_create(&th[i], NULL, bulk_thread, &r.c[i])) {
			print_fail("pthread_create failed");
			return 1;
		}
	}
	r.start_ns = now_ns();
	r.warm_ns = r.start_ns + (uint64_t)(o.warmup * 1e9);
	r.deadline_ns = r.warm_ns + (uint64_t)(o.seconds * 1e9);
	pthread_barrier_wait(&r.go);
	for (i = 0; i < r.n; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < r.n; i++) {
		if (r.c[i].err[0]) {
			snprintf(err, sizeof(err), "socket %d: %s", i, r.c[i].err);
			print_fail(err);
			free(r.c);
			return 1;
		}
		total += r.c[i].acked;
		interval += r.c[i].sent - r.c[i].sent_warm;
		if (r.c[i].end_ns > end)
			end = r.c[i].end_ns;
		close(r.c[i].fd);
	}
	secs = (double)(end - r.start_ns) / 1e9;
	if (total == 0 || secs <= 0) {
		print_fail("no data transferred");
		free(r.c);
		return 1;
	}
	if (o.json) {
		struct jw j;

		jw_client_ok(&j, "bulk");
		jw_num(&j, "sockets", r.n);
		jw_num(&j, "bufsize", (double)o.bufsize);
		jw_u64(&j, "bytes", total);
		jw_num(&j, "seconds", secs);
		jw_num(&j, "throughput_bps", (double)total * 8 / secs);
		jw_num(&j, "throughput_gbps", (double)total * 8 / secs / 1e9);
		/*
		 * After the warmup: bytes written from its end to the
		 * deadline, what a backlogged stream got in that interval
		 * (its buffers are as full at both ends of it).
		 */
		jw_num(&j, "warmup", o.warmup);
		jw_u64(&j, "interval_bytes", interval);
		jw_num(&j, "interval_bps", (double)interval * 8 / o.seconds);
		jw_key(&j, "per_socket_bps");
		fputc('[', j.f);
		for (i = 0; i < r.n; i++)
			fprintf(j.f, "%s%.6g", i ? "," : "", (double)r.c[i].acked * 8 /
				((double)(r.c[i].end_ns - r.start_ns) / 1e9));
		fputc(']', j.f);
		json_cpu(&j);
		jw_end(&j);
	} else {
		printf("ncperf bulk %s -> %s:%d, %d socket%s\n", proto_name(o.proto), o.addr,
		       o.port, r.n, r.n == 1 ? "" : "s");
		printf("  %s in %.3f s = %s\n", fmt_bytes(b1, sizeof(b1), (double)total), secs,
		       fmt_bps(b2, sizeof(b2), (double)total * 8 / secs));
		for (i = 0; i < r.n && r.n > 1; i++)
			printf("  socket %d: %s\n", i, fmt_bps(b2, sizeof(b2), (double)r.c[i].acked * 8 /
				((double)(r.c[i].end_ns - r.start_ns) / 1e9)));
	}
	free(r.c);
	return 0;
}
