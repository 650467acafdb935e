// SPDX-License-Identifier: GPL-2.0
/* ncperf client mix: an rr L-app next to bulk T-apps, each a process. */
#include "ncperf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Results of the mix children, in memory shared with the parent. */
struct mix_slot {
	int done;
	char err[256];
	uint64_t bytes;
	uint64_t start_ns;
	uint64_t end_ns;
};

struct mix_shared {
	struct mix_slot lapp;
	struct mix_slot tapp[MAX_TAPPS];
	struct hist h;		/* the L-app's latencies */
};

static int join_cgroup(const char *path, char *err, size_t len)
{
	size_t l = strlen(path), k = strlen("cgroup.procs");
	char file[4096], pid[32];
	int fd, n;

	/* PATH is the cgroup directory; PATH/cgroup.procs itself is fine too. */
	if (l >= k && !strcmp(path + l - k, "cgroup.procs"))
		snprintf(file, sizeof(file), "%s", path);
	else
		snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		errf(err, len, "open %s: %s", file, strerror(errno));
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, (size_t)n) != n) {
		errf(err, len, "write pid to %s: %s", file, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int wait_go(int go_fd)
{
	char c;
	ssize_t n;

	/* The parent closes the write end (EOF here) once everyone is ready. */
	do
		n = read(go_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 0 ? 0 : -1;
}

static void tapp_main(struct mix_shared *sh, int id, uint64_t session, uint32_t nconns,
		      int ready_fd, int go_fd, uint64_t dur_ns, bool *readied)
{
	struct mix_slot *s = &sh->tapp[id];
	struct bulk_conn c[MAX_SOCKETS];
	struct bulk_run r = { .n = o.sockets };
	pthread_t th[MAX_SOCKETS];
	int i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < o.sockets; i++)
		c[i].fd = -1;
	if (o.tapp_cgroup && join_cgroup(o.tapp_cgroup, s->err, sizeof(s->err)))
		goto out;
	for (i = 0; i < o.sockets; i++) {
		c[i].fd = client_connect(NCP_SINK, 0, nconns, session, s->err, sizeof(s->err));
		if (c[i].fd < 0)
			goto out;
	}
	*readied = true;
	if (write(ready_fd, "r", 1) != 1 || wait_go(go_fd)) {
		errf(s->err, sizeof(s->err), "lost the parent");
		goto out;
	}
	r.c = c;
	pthread_barrier_init(&r.go, NULL, (unsigned int)r.n + 1);
	bulk_run_cur = &r;
	for (i = 0; i < r.n; i++)
		pthread_create(&th[i], NULL, bulk_thread, &c[i]);
	r.start_ns = now_ns();
	r.warm_ns = r.start_ns;
	r.deadline_ns = r.start_ns + dur_ns;
	pthread_barrier_wait(&r.go);
	for (i = 0; i < r.n; i++)
		pthread_join(th[i], NULL);
	s->start_ns = r.start_ns;
	for (i = 0; i < r.n; i++) {
		if (c[i].err[0]) {
			errf(s->err, sizeof(s->err), "socket %d: %s", i, c[i].err);
			goto out;
		}
		s->bytes += c[i].acked;
		if (c[i].end_ns > s->end_ns)
			s->end_ns = c[i].end_ns;
	}
	s->done = 1;
out:
	for (i = 0; i < o.sockets; i++)
		if (c[i].fd >= 0)
			close(c[i].fd);
}

static void lapp_main(struct mix_shared *sh, uint64_t session, uint32_t nconns,
		      int ready_fd, int go_fd, bool *readied)
{
	struct mix_slot *s = &sh->lapp;
	struct rr_conn *c = calloc(1, sizeof(*c));
	uint64_t start;

	if (!c) {
		errf(s->err, sizeof(s->err), "out of memory");
		return;
	}
	hist_init(&c->h);
	c->fd = -1;
	if (o.lapp_cgroup && join_cgroup(o.lapp_cgroup, s->err, sizeof(s->err)))
		goto out;
	if (o.lapp_nice && setpriority(PRIO_PROCESS, 0, o.lapp_nice)) {
		errf(s->err, sizeof(s->err), "setpriority(%d): %s", o.lapp_nice,
		     strerror(errno));
		goto out;
	}
	if (o.lapp_port)	/* this process is the L-app alone */
		o.port = o.lapp_port;
	c->fd = client_connect(NCP_ECHO, o.size, nconns, session, s->err, sizeof(s->err));
	if (c->fd < 0)
		goto out;
	*readied = true;
	if (write(ready_fd, "r", 1) != 1 || wait_go(go_fd)) {
		errf(s->err, sizeof(s->err), "lost the parent");
		goto out;
	}
	start = now_ns() + (uint64_t)(o.warmup * 1e9);
	rr_loop(c, start, start + (uint64_t)(o.seconds * 1e9));
	if (c->err[0]) {
		errf(s->err, sizeof(s->err), "%s", c->err);
		goto out;
	}
	sh->h = c->h;
	s->start_ns = start;
	s->end_ns = start + (uint64_t)(o.seconds * 1e9);
	s->done = 1;
out:
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int client_mix(void)
{
	uint32_t nconns = (uint32_t)(o.tapps * o.sockets + 1);
	uint64_t session = random_session(), tbytes = 0, tstart = UINT64_MAX, tend = 0;
	/* T-apps stream through the L-app's warmup and measured time. */
	uint64_t tdur = (uint64_t)((o.warmup + o.seconds) * 1e9);
	struct mix_shared *sh;
	int ready[2], go[2], i, nkids = o.tapps + 1, status;
	pid_t kids[MAX_TAPPS + 1];
	char err[512] = "", c;
	double tsecs = 0, lsecs = o.seconds;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
		print_fail("mmap/pipe failed");
		return 1;
	}
	hist_init(&sh->h);
	fflush(NULL);
	for (i = 0; i < nkids; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			print_fail("fork failed");
			return 1;
		}
		if (kids[i] == 0) {
			bool readied = false;

			close(ready[0]);
			close(go[1]);
			arm_hard_limit();
			if (i == 0)
				lapp_main(sh, session, nconns, ready[1], go[0], &readied);
			else
				tapp_main(sh, i - 1, session, nconns, ready[1], go[0], tdur,
					  &readied);
			/* failed before it was ready: say so, or the parent waits */
			if (!readied && write(ready[1], "f", 1) != 1)
				_exit(1);
			_exit(0);
		}
	}
	close(ready[1]);
	close(go[0]);
	/* Everyone connected ('r') or failed to ('f'); a failure ends the run
	 * before it starts. */
	for (i = 0; i < nkids; i++) {
		ssize_t n;

		do
			n = read(ready[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1 || c != 'r') {
			int k;

			for (k = 0; k < nkids; k++)
				kill(kids[k], SIGTERM);
			break;
		}
	}
	close(go[1]);	/* go */
	close(ready[0]);
	for (i = 0; i < nkids; i++)
		while (waitpid(kids[i], &status, 0) < 0 && errno == EINTR)
			;
	/* The first reason given wins over "died" (killed after another failed). */
	if (sh->lapp.err[0])
		snprintf(err, sizeof(err), "L-app: %s", sh->lapp.err);
	for (i = 0; i < o.tapps && !err[0]; i++)
		if (sh->tapp[i].err[0])
			snprintf(err, sizeof(err), "T-app %d: %s", i, sh->tapp[i].err);
	if (!err[0] && !sh->lapp.done)
		snprintf(err, sizeof(err), "L-app: died");
	for (i = 0; i < o.tapps && !err[0]; i++)
		if (!sh->tapp[i].done)
			snprintf(err, sizeof(err), "T-app %d: died", i);
	if (!err[0] && !sh->h.count)
		snprintf(err, sizeof(err), "L-app: no request completed");
	if (err[0]) {
		print_fail(err);
		return 1;
	}
	for (i = 0; i < o.tapps; i++) {
		tbytes += sh->tapp[i].bytes;
		if (sh->tapp[i].start_ns < tstart)
			tstart = sh->tapp[i].start_ns;
		if (sh->tapp[i].end_ns > tend)
			tend = sh->tapp[i].end_ns;
	}
	if (o.tapps)
		tsecs = (double)(tend - tstart) / 1e9;
	if (o.cdf && hist_write_cdf(&sh->h, o.cdf))
		fprintf(stderr, "ncperf: cannot write %s: %s\n", o.cdf, strerror(errno));
	if (o.json) {
		struct jw j;

		jw_client_ok(&j, "mix");
		jw_num(&j, "tapps", o.tapps);
		jw_num(&j, "tapp_sockets", o.sockets);
		jw_str(&j, "lapp_cgroup", o.lapp_cgroup);
		jw_num(&j, "lapp_nice", o.lapp_nice);
		jw_num(&j, "lapp_port", o.lapp_port ? o.lapp_port : o.port);
		jw_str(&j, "tapp_cgroup", o.tapp_cgroup);
		jw_num(&j, "size", o.size);
		jw_num(&j, "interval_us", o.interval_us);
		jw_num(&j, "seconds", lsecs);
		jw_num(&j, "warmup", o.warmup);
		jw_open(&j, "lapp");
		json_latency(&j, &sh->h, lsecs);
		jw_close(&j);
		jw_open(&j, "tapp");
		jw_u64(&j, "bytes", tbytes);
		jw_num(&j, "tapp_seconds", tsecs);
		jw_num(&j, "throughput_bps", tsecs > 0 ? (double)tbytes * 8 / tsecs : 0);
		jw_close(&j);
		jw_end(&j);
	} else {
		char b[32], b2[32];

		printf("ncperf mix %s -> %s:%d, L-app %u-byte rr, %d T-app%s x %d socket%s\n",
		       proto_name(o.proto), o.addr, o.port, o.size, o.tapps,
		       o.tapps == 1 ? "" : "s", o.sockets, o.sockets == 1 ? "" : "s");
		print_latency("L-app ", &sh->h, lsecs);
		if (o.tapps)
			printf("  T-apps %s in %.3f s = %s\n",
			       fmt_bytes(b, sizeof(b), (double)tbytes), tsecs,
			       fmt_bps(b2, sizeof(b2), tsecs > 0 ? (double)tbytes * 8 / tsecs : 0));
	}
	munmap(sh, sizeof(*sh));
	return 0;
}
