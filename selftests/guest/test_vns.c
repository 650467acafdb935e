// SPDX-License-Identifier: GPL-2.0
/*
 * VNS copies follow idle cores (README "VNS copy workers"): a large send or
 * receive is split over the VNS workers only on cores that are idle now
 * (net.netchannel.vns_idle), and is copied inline when none is. On the
 * guest's two vCPUs, with the test's sender and receiver held on CPU 0:
 * - CPU 1 idle: the worker there copies about half of what is sent (and
 *   CPU 1's busy time from /proc/stat is printed beside each run);
 * - CPU 1 busy with another program (a spinning process pinned there):
 *   the copies stay inline (vns_inline counts them), the workers copy
 *   almost nothing;
 * - the sysctl's bounds (0..100).
 * Every byte is checked in each case.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "nc_net.h"

#define LEN		(96 * NC_MIB)
#define CHUNK		NC_MIB

static int group_setup(void **state)
{
	if (nc_proto_tcp()) {
		printf("# VNS copies are NetChannel only: every test is skipped on tcp\n");
		return 0;
	}
	return nc_group_setup(state);
}

static int group_teardown(void **state)
{
	return nc_proto_tcp() ? 0 : nc_group_teardown(state);
}

static void pin(int cpu)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	if (cpu >= 0) {
		CPU_SET(cpu, &set);
	} else {
		for (i = 0; i < sysconf(_SC_NPROCESSORS_ONLN); i++)
			CPU_SET(i, &set);
	}
	assert_int_equal(sched_setaffinity(0, sizeof(set), &set), 0);
}

/* CPU @cpu's busy time so far, in clock ticks (/proc/stat, not idle/iowait) */
static uint64_t cpu_busy(int cpu)
{
	unsigned long long v[10] = { 0 };
	char line[512], name[16];
	uint64_t busy = 0;
	FILE *f = fopen("/proc/stat", "re");
	int i;

	assert_non_null(f);
	snprintf(name, sizeof(name), "cpu%d", cpu);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, strlen(name)) ||
		    line[strlen(name)] != ' ')
			continue;
		sscanf(line + strlen(name), "%llu %llu %llu %llu %llu %llu %llu %llu",
		       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
		for (i = 0; i < 8; i++)
			if (i != 3 && i != 4)	/* idle, iowait */
				busy += v[i];
	}
	fclose(f);
	return busy;
}

static uint64_t stat_of(const char *ns, const char *name)
{
	uint64_t v = 0;

	nc_assert(nc_stat_get(ns, name, &v) == 0, "%s in %s", name, ns);
	return v;
}

/* Child: LEN bytes of stream @seed on @fd in writes of CHUNK, then EOF. */
static void writer(int fd, uint64_t seed)
{
	static uint8_t buf[CHUNK];
	uint64_t off;

	for (off = 0; off < LEN; off += CHUNK) {
		nc_gen(seed, off, buf, CHUNK);
		if (nc_send_all(fd, buf, CHUNK, 60000))
			_exit(1);
	}
	shutdown(fd, SHUT_WR);
	_exit(0);
}

struct run {
	uint64_t bytes, vns_a, vns_b, inline_a, inline_b, busy1, ticks;
};

/*
 * One bulk stream of LEN bytes from nc_a to nc_b, the writer and the
 * reader both on CPU 0, and CPU 1 idle or (@hog) busy with a spinner.
 */
static void bulk(bool hog, int workers, struct run *r)
{
	static uint8_t buf[CHUNK];
	uint64_t va, vb, ia, ib, b0, t0, got = 0;
	uint16_t port = nc_next_port();
	pid_t wpid, hpid = -1;
	struct nc_hash h;
	int l, c, s, st;
	char nw[16];
	ssize_t n;

	nc_close_all_sockets();
	if (nc_hosts_create())
		fail_msg("hosts: %s", nc_err);
	assert_int_equal(nc_sysctl_set(NC_NS_A, "channels", "1"), 0);
	snprintf(nw, sizeof(nw), "%d", workers);
	assert_int_equal(nc_sysctl_set(NC_NS_A, "vns_workers", nw), 0);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "vns_workers", nw), 0);
	l = nc_listen_in(NC_NS_B, port, 4);
	nc_assert(l >= 0, "listen");
	c = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(c >= 0, "connect");
	s = nc_accept_timeout(l, 10000);
	nc_assert(s >= 0, "accept");
	close(l);
	if (hog) {
		fflush(stdout);
		hpid = fork();
		assert_true(hpid >= 0);
		if (!hpid) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			pin(1);
			for (;;)
				;
		}
		nc_sleep_ms(300);	/* CPU 1's idle share decays */
	}
	pin(0);
	va = stat_of(NC_NS_A, "vns_bytes");
	vb = stat_of(NC_NS_B, "vns_bytes");
	ia = stat_of(NC_NS_A, "vns_inline");
	ib = stat_of(NC_NS_B, "vns_inline");
	b0 = cpu_busy(1);
	t0 = nc_now_ms();
	fflush(stdout);
	wpid = fork();
	assert_true(wpid >= 0);
	if (!wpid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		writer(c, 0x7e55);
	}
	close(c);
	nc_hash_init(&h);
	while ((n = nc_recv_all(s, buf, CHUNK, 60000)) > 0) {
		nc_hash_update(&h, buf, n);
		got += n;
		if (n < (ssize_t)CHUNK)
			break;
	}
	r->busy1 = cpu_busy(1) - b0;
	r->ticks = (nc_now_ms() - t0) * sysconf(_SC_CLK_TCK) / 1000;
	assert_int_equal(waitpid(wpid, &st, 0), wpid);
	if (hog) {
		kill(hpid, SIGKILL);
		waitpid(hpid, NULL, 0);
	}
	pin(-1);
	close(s);
	nc_assert(WIFEXITED(st) && !WEXITSTATUS(st), "writer failed");
	assert_int_equal(got, LEN);
	assert_int_equal(nc_hash_final(&h), nc_gen_hash(0x7e55, LEN));
	r->bytes = got;
	r->vns_a = stat_of(NC_NS_A, "vns_bytes") - va;
	r->vns_b = stat_of(NC_NS_B, "vns_bytes") - vb;
	r->inline_a = stat_of(NC_NS_A, "vns_inline") - ia;
	r->inline_b = stat_of(NC_NS_B, "vns_inline") - ib;
	printf("# CPU 1 %s, vns_workers %d: %llu MiB in %.2f s; workers copied %.0f%% of the sends, %.0f%% of the receives; inline for lack of an idle core: %llu sends, %llu receives; CPU 1 busy %.0f%% of the run\n",
	       hog ? "busy (spinner)" : "idle", workers,
	       (unsigned long long)(got / NC_MIB), r->ticks / (double)sysconf(_SC_CLK_TCK),
	       100.0 * r->vns_a / got, 100.0 * r->vns_b / got,
	       (unsigned long long)r->inline_a,
	       (unsigned long long)r->inline_b,
	       r->ticks ? 100.0 * r->busy1 / r->ticks : 0);
}

/*
 * CPU 1 idle: its worker copies about half of the send pieces (they
 * alternate between the worker and the writer); with vns_workers 1 none.
 * CPU 1's busy time is printed, not asserted: it is mostly other work
 * (on the debug kernel kmemleak's scans and the channels' work come and
 * go), measured 1% / 7% (inline / workers) on the stock kernel and 8% / 2%
 * and 12% / 5% on the debug one.
 */
static void test_idle_core_copies(void **state)
{
	struct run inl, r;

	SKIP_UNLESS_NETCHANNEL();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		skip();
	nc_watchdog(600);
	bulk(false, 1, &inl);
	assert_int_equal(inl.vns_a + inl.vns_b, 0);
	bulk(false, 2, &r);
	nc_assert(r.vns_a >= r.bytes / 4,
		  "workers copied %llu of the %llu bytes sent",
		  (unsigned long long)r.vns_a, (unsigned long long)r.bytes);
}

/* CPU 1 busy with another program: the copies stay on CPU 0. */
static void test_busy_core_inline(void **state)
{
	struct run r;

	SKIP_UNLESS_NETCHANNEL();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		skip();
	nc_watchdog(600);
	bulk(true, 2, &r);
	nc_assert(r.vns_a + r.vns_b <= r.bytes / 20,
		  "workers copied %llu of %llu bytes beside a busy core",
		  (unsigned long long)(r.vns_a + r.vns_b),
		  (unsigned long long)(2 * r.bytes));
	nc_assert(r.inline_a + r.inline_b > 0, "no copy counted inline");
}

static void test_vns_idle_bounds(void **state)
{
	long v;

	SKIP_UNLESS_NETCHANNEL();
	nc_assert(nc_sysctl_get(NC_NS_A, "vns_idle", &v) == 0, "get");
	assert_int_equal(v, 50);
	assert_int_equal(nc_sysctl_set(NC_NS_A, "vns_idle", "-1"), -EINVAL);
	assert_int_equal(nc_sysctl_set(NC_NS_A, "vns_idle", "101"), -EINVAL);
	assert_int_equal(nc_sysctl_set(NC_NS_A, "vns_idle", "0"), 0);
	assert_int_equal(nc_sysctl_set(NC_NS_A, "vns_idle", "100"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_vns_idle_bounds, nc_test_cleanup),
		cmocka_unit_test_teardown(test_idle_core_copies, nc_test_cleanup),
		cmocka_unit_test_teardown(test_busy_core_inline, nc_test_cleanup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
