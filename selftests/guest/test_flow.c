// SPDX-License-Identifier: GPL-2.0
/*
 * NetChannel's flow control: a reader that stops stops only its own
 * sender, with bounded buffering, while another socket on the same
 * channels keeps moving (no head-of-line blocking), and every byte arrives
 * once reading resumes. Runs on NC_PROTO=tcp too (that validates the
 * test).
 *
 * Hosts: namespace nc_a (10.99.0.1, clients) and nc_b (10.99.0.2,
 * servers), see nc_net.h. Byte streams are checked with a 64-bit hash of
 * a seeded pseudo-random stream, so every transfer is byte-exact.
 *
 * The stream suites (one test_stream once): sockapi (the socket API),
 * transfer (moving bytes, channels, VNS copies), flow (flow control) and
 * teardown (the ends of connections, hosts and the module).
 */
#include "nc_net.h"

/* ------------------------------------------------------ stalled reader */

#define STALL_BYTES	(8 * NC_MIB)
#define STALL_LIMIT	(16 * NC_MIB)

struct stall_arg {
	int lfd;
	int ctl;	/* a byte here: start reading connection idx 1 */
	uint64_t seed;
};

/*
 * Child (nc_b): three connections identified by their header: idx 0 and 2
 * are read to EOF at once; idx 1 ("A") is not read past its header until
 * the parent says so. Each result goes to the parent as soon as its
 * connection is done.
 */
static int stall_main(void *arg, int wfd)
{
	const struct stall_arg *a = arg;
	struct nc_xspec spec = { .seed = a->seed };
	struct nc_flow fl[3];
	struct nc_flow_result res;
	struct pollfd pf[5];
	int map[5], nfl = 0, done = 0, np, i, fd;
	bool resumed = false;
	char c;

	while (done < 3) {
		np = 0;
		if (nfl < 3) {
			pf[np] = (struct pollfd){ .fd = a->lfd, .events = POLLIN };
			map[np++] = -1;
		}
		if (!resumed) {
			pf[np] = (struct pollfd){ .fd = a->ctl, .events = POLLIN };
			map[np++] = -2;
		}
		for (i = 0; i < nfl; i++) {
			if (fl[i].closed)
				continue;
			if (fl[i].idx == 1 && !fl[i].want_hdr && !resumed)
				continue;
			pf[np] = (struct pollfd){ .fd = fl[i].fd, .events = POLLIN |
				(fl[i].tx_ready && !fl[i].tx_done ? POLLOUT : 0) };
			map[np++] = i;
		}
		if (poll(pf, np, 120000) <= 0) {
			fprintf(stderr, "[stall] nothing happens for 120 s\n");
			return 1;
		}
		for (i = 0; i < np; i++) {
			if (!pf[i].revents)
				continue;
			if (map[i] == -1) {
				fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK);
				if (fd >= 0)
					nc_flow_init_server(&fl[nfl++], fd, 0, NULL);
				continue;
			}
			if (map[i] == -2) {
				if (read(a->ctl, &c, 1) != 1)
					return 2;
				resumed = true;
				continue;
			}
			struct nc_flow *f = &fl[map[i]];

			/* read A's header alone, not a byte of its data */
			nc_flow_rx(f, f->want_hdr ? sizeof(struct nc_xhdr) - f->rhdr_off
					: 65536, spec.seed);
			if (f->tx_ready && !f->tx_done && !f->err)
				nc_flow_tx(f, 65536);
			if (nc_flow_finished(f)) {
				nc_flow_result(f, &res);
				if (write(wfd, &res, sizeof(res)) != sizeof(res))
					return 3;
				close(f->fd);
				f->closed = true;
				done++;
			}
		}
	}
	return 0;
}

/*
 * Send STALL_BYTES on a new connection @idx while trying to write more into
 * *@A (if any); returns the seconds until the server had all of it.
 */
static double run_b(uint16_t port, int rfd, uint32_t idx, struct nc_flow *A,
		    uint64_t seed, int limit_ms)
{
	struct nc_xspec spec = { .nsock = 1, .up = STALL_BYTES, .seed = seed };
	int64_t deadline = nc_now_ms() + limit_ms;
	struct nc_flow_result r;
	struct nc_flow B;
	struct pollfd pf[3];
	double t0;
	int fd, np, i;

	fd = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(fd >= 0, "connect B");
	nc_set_nonblock(fd, true);
	nc_flow_init_client(&B, fd, idx, &spec);
	t0 = nc_now();
	for (;;) {
		np = 0;
		pf[np++] = (struct pollfd){ .fd = rfd, .events = POLLIN };
		if (!B.tx_done)
			pf[np++] = (struct pollfd){ .fd = B.fd, .events = POLLOUT };
		if (A)
			pf[np++] = (struct pollfd){ .fd = A->fd, .events = POLLOUT };
		if (poll(pf, np, nc_left_ms(deadline)) <= 0)
			fail_msg("connection %u not through after %d ms: %s (stalled A sent %llu)",
				 idx, limit_ms, nc_flow_state(&B),
				 A ? (unsigned long long)A->tx_off : 0ULL);
		for (i = 1; i < np; i++) {
			if (!pf[i].revents)
				continue;
			struct nc_flow *f = pf[i].fd == B.fd ? &B : A;

			nc_flow_tx(f, 65536);
			if (f->err)
				fail_msg("%s on %s: %s", f->what, f == A ? "A" : "B",
					 strerror(f->err));
			if (A && A->tx_off > STALL_LIMIT)
				fail_msg("the stalled connection took %llu bytes: its buffering is unbounded",
					 (unsigned long long)A->tx_off);
		}
		if (pf[0].revents) {
			nc_assert(nc_read_full(rfd, &r, sizeof(r), 10000) == 0, "stall server");
			break;
		}
	}
	t0 = nc_now() - t0;
	if (r.idx != idx || r.err || r.rx_bytes != STALL_BYTES ||
	    r.rx_hash != nc_gen_hash(nc_seed_up(seed, idx), STALL_BYTES))
		fail_msg("connection %u: server got idx %u, %llu of %llu bytes, error %d, hash %s",
			 idx, r.idx, (unsigned long long)r.rx_bytes,
			 (unsigned long long)STALL_BYTES, r.err,
			 r.rx_hash == nc_gen_hash(nc_seed_up(seed, idx), STALL_BYTES) ?
			 "ok" : "wrong");
	close(B.fd);
	return t0;
}

/*
 * Two connections between the same hosts: the server stops reading A while
 * B moves 8 MiB. B must not be held up by A (no head-of-line blocking in a
 * shared channel), A's sender must be stopped by flow control after a
 * bounded amount, and A's bytes must all arrive once reading resumes.
 */
static void test_stalled_reader(void **state)
{
	struct stall_arg sa = { .seed = 0x57a11 };
	struct nc_xspec spec = { .nsock = 1, .up = 64 * NC_MIB, .seed = sa.seed };
	uint16_t port = nc_next_port();
	struct nc_flow_result r;
	struct nc_flow A;
	struct pollfd p;
	int64_t last, deadline;
	uint64_t before, stalled_at;
	double t_alone, t_beside;
	int ctl[2], rfd = -1, fd;
	pid_t pid;

	nc_watchdog(175);
	sa.lfd = nc_listen_in(NC_NS_B, port, 8);
	nc_assert(sa.lfd >= 0, "listen");
	assert_int_equal(pipe2(ctl, O_CLOEXEC), 0);
	sa.ctl = ctl[0];
	pid = nc_spawn(NC_NS_B, 175, stall_main, &sa, &rfd);
	assert_true(pid > 0);
	close(sa.lfd);
	close(ctl[0]);

	/* B alone */
	t_alone = run_b(port, rfd, 0, NULL, sa.seed, 60000);

	/* A until it stops taking data */
	fd = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(fd >= 0, "connect A");
	nc_set_nonblock(fd, true);
	nc_flow_init_client(&A, fd, 1, &spec);
	last = nc_now_ms();
	deadline = last + 60000;
	while (nc_now_ms() - last < 1000) {
		if (nc_now_ms() > deadline)
			fail_msg("A keeps taking data for 60 s (%llu bytes)",
				 (unsigned long long)A.tx_off);
		/* write until EAGAIN, then wait a little for room */
		do {
			before = A.tx_off;
			nc_flow_tx(&A, 65536);
			if (A.err)
				fail_msg("A: %s: %s", A.what, strerror(A.err));
			if (A.tx_off > STALL_LIMIT)
				fail_msg("A took %llu bytes with nobody reading: buffering is unbounded",
					 (unsigned long long)A.tx_off);
			if (A.tx_off > before)
				last = nc_now_ms();
		} while (A.tx_off > before);
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		poll(&p, 1, 100);
	}
	stalled_at = A.tx_off;
	assert_int_equal(send(fd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EAGAIN);

	/* B beside the stalled A */
	t_beside = run_b(port, rfd, 2, &A, sa.seed, 30000 + (int)(10000 * t_alone));
	printf("# A stalled after %llu bytes (%llu at the end); B alone %.2f s, beside stalled A %.2f s\n",
	       (unsigned long long)stalled_at, (unsigned long long)A.tx_off, t_alone,
	       t_beside);
	if (t_beside > 3 * t_alone + 0.5)
		fail_msg("B took %.2f s beside the stalled A, %.2f s alone (limit 3x + 0.5 s)",
			 t_beside, t_alone);
	assert_true(A.tx_off < STALL_LIMIT);

	/* resume A: the rest flows, every byte arrives */
	assert_int_equal(write(ctl[1], "r", 1), 1);
	A.tx_len = A.tx_off + NC_MIB;
	deadline = nc_now_ms() + 60000;
	while (!A.tx_done) {
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, nc_left_ms(deadline)) != 1)
			fail_msg("A does not resume: %s", nc_flow_state(&A));
		nc_flow_tx(&A, 65536);
		if (A.err)
			fail_msg("A: %s: %s", A.what, strerror(A.err));
	}
	nc_assert(nc_read_full(rfd, &r, sizeof(r), 60000) == 0, "result of A");
	assert_int_equal(r.idx, 1);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rx_bytes, A.tx_len);
	assert_true(r.rx_hash == nc_gen_hash(nc_seed_up(sa.seed, 1), A.tx_len));
	close(fd);
	close(ctl[1]);
	close(rfd);
	assert_int_equal(nc_child_wait(pid, 20000), 0);
}

/* ----------------------------------------------------- memory pressure */

#define MP_SOCKS	16
#define MP_BYTES	(6 * NC_MIB)	/* per socket */
#define MP_MEM		"256 512 1024"	/* pages: 1, 2 and 4 MiB */

static char mp_old_mem[128];

static int mp_teardown(void **state)
{
	if (mp_old_mem[0])
		nc_sysctl_set(NULL, "mem", mp_old_mem);
	mp_old_mem[0] = '\0';
	nc_sysctl_set(NC_NS_A, "channel_idle_ms", "1000");
	return nc_test_cleanup(state);
}

/* NETCHANNEL's memory (pages) and pressure in /proc/net/protocols. */
static int mp_protocols(long *pages, bool *press)
{
	char line[512], name[32], pr[8];
	long size, socks;
	FILE *f = fopen("/proc/net/protocols", "r");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %ld %ld %ld %7s", name, &size, &socks, pages,
			   pr) == 5 && !strcmp(name, "NETCHANNEL")) {
			*press = !strcmp(pr, "yes");
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * The protocol's memory accounting and its pressure. With net.netchannel.mem
 * at 1/2/4 MiB, 16 sockets get their first 1 MiB window each: 16 MiB held
 * while nobody reads, over the hard limit, so frames are taken all the same
 * (rmem_forced) and /proc/net/protocols counts them. Then the readers read
 * slowly (16 KiB per socket every 10 ms) while the writers keep their
 * queues full: without the pressure, each window refills as it drains and
 * 16 MiB stay held. Under it each window shrinks to 64 KiB, so once the
 * first windows are drained the sockets hold a few MiB. The pressure comes
 * and goes (it ends under 1 MiB, and the windows grow back 64 KiB per
 * credit), and the global count it is decided on lags the sockets' by up
 * to the CPUs' reserves (under 1 MiB each), so the bound is mem[1] (2 MiB)
 * + the reserves (2 MiB) + a floor and a step of regrowth per socket
 * (16 x 128 KiB): 6 MiB. Then everything is read at full speed,
 * byte-exact, and the memory goes back and the pressure off.
 */
static void test_memory_pressure(void **state)
{
	int cfd[MP_SOCKS], sfd[MP_SOCKS], lfd, i, ticks = 0;
	uint64_t sent[MP_SOCKS] = { 0 }, got[MP_SOCKS] = { 0 }, seed = 0x3e3;
	long rmem, pages = 0, peak_idle = 0, peak_slow = -1, proto_at_peak = 0;
	bool press = false, seen_press = false;
	struct nc_stats before, after;
	uint16_t port = nc_next_port();
	static char buf[65536], exp[65536];
	uint64_t min_got;
	int64_t deadline;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(170);
	assert_int_equal(nc_sysctl_get_str(NULL, "mem", mp_old_mem, sizeof(mp_old_mem)), 0);
	assert_int_equal(nc_sysctl_set(NULL, "mem", MP_MEM), 0);
	/*
	 * No channel retires meanwhile: phase 1 idles the channels for a
	 * second, the default channel_idle_ms, and a retirement then a
	 * regrowth as the reading starts is suspected of the one peak over
	 * the bound seen (a debug-kernel run: 6580 KiB; in a later run one
	 * channel retired and two grew; others 0.3-4.8 MiB). The bound is
	 * about the accounting.
	 */
	assert_int_equal(nc_sysctl_set(NC_NS_A, "channel_idle_ms", "0"), 0);

	lfd = nc_listen_in(NC_NS_B, port, MP_SOCKS);
	nc_assert(lfd >= 0, "listen");
	for (i = 0; i < MP_SOCKS; i++) {
		cfd[i] = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
		nc_assert(cfd[i] >= 0, "connect %d", i);
		sfd[i] = nc_accept_timeout(lfd, 10000);
		nc_assert(sfd[i] >= 0, "accept %d", i);
		nc_set_nonblock(cfd[i], true);
		nc_set_nonblock(sfd[i], true);
	}
	assert_int_equal(nc_stats_snap(NC_NS_B, &before), 0);

	deadline = nc_now_ms() + 150000;
	for (;;) {
		bool all_sent = true, all_read = true;

		nc_assert(nc_now_ms() < deadline, "not done after 150 s (read %llu of socket 0)",
			  (unsigned long long)got[0]);
		for (i = 0; i < MP_SOCKS; i++) {
			while (sent[i] < MP_BYTES) {
				size_t n = MP_BYTES - sent[i] < sizeof(buf) ?
					   MP_BYTES - sent[i] : sizeof(buf);
				ssize_t w;

				nc_gen(seed + i, sent[i], buf, n);
				w = send(cfd[i], buf, n, MSG_NOSIGNAL);
				if (w < 0) {
					nc_assert(errno == EAGAIN, "send %d: %s", i, strerror(errno));
					break;
				}
				sent[i] += w;
			}
			all_sent &= sent[i] == MP_BYTES;
		}
		min_got = MP_BYTES;
		for (i = 0; i < MP_SOCKS; i++)
			min_got = got[i] < min_got ? got[i] : min_got;
		/* phase 1 (1 s): nobody reads; 2: slowly; 3: at full speed */
		for (i = 0; ticks >= 100 && i < MP_SOCKS; i++) {
			size_t want = min_got < 4 * NC_MIB ? 16384 : sizeof(buf);

			for (;;) {
				ssize_t r = recv(sfd[i], buf, want, 0);

				if (r < 0) {
					nc_assert(errno == EAGAIN, "recv %d: %s", i, strerror(errno));
					break;
				}
				nc_assert(r > 0, "EOF on socket %d after %llu bytes", i,
					  (unsigned long long)got[i]);
				nc_gen(seed + i, got[i], exp, r);
				nc_assert(!memcmp(buf, exp, r), "socket %d: wrong bytes at %llu",
					  i, (unsigned long long)got[i]);
				got[i] += r;
				if (want < sizeof(buf) || got[i] == MP_BYTES)
					break;
			}
			all_read &= got[i] == MP_BYTES;
		}
		if (ticks >= 100 && all_read && all_sent)
			break;
		rmem = nc_sock_rmem(NC_NS_B, 0);
		assert_true(rmem >= 0);
		assert_int_equal(mp_protocols(&pages, &press), 0);
		seen_press |= press;
		/* the end of phase 1: the windows are full, nothing moves */
		if (ticks == 99) {
			peak_idle = rmem;
			proto_at_peak = pages;
		}
		/* once the first windows are drained, until the fast reading */
		if (min_got >= 2 * NC_MIB && min_got < 4 * NC_MIB && rmem > peak_slow)
			peak_slow = rmem;
		ticks++;
		nc_sleep_ms(10);
	}
	assert_int_equal(nc_stats_snap(NC_NS_B, &after), 0);
	printf("# held after 1 s with nobody reading: %ld KiB (protocol: %ld KiB); slow reading, after the first windows: at most %ld KiB; pressure seen: %s; credit held back %llu times, %llu frames past the hard limit\n",
	       peak_idle / 1024, proto_at_peak * 4, peak_slow / 1024, seen_press ? "yes" : "no",
	       (unsigned long long)(nc_stats_val(&after, "rmem_pressure") -
				    nc_stats_val(&before, "rmem_pressure")),
	       (unsigned long long)(nc_stats_val(&after, "rmem_forced") -
				    nc_stats_val(&before, "rmem_forced")));
	/*
	 * The windows loaded the memory, and the protocol counted it, to the
	 * pages each CPU keeps in reserve of the global count (less than
	 * net.core.mem_pcpu_rsv, 1 MiB) and the sockets' forward allocations.
	 */
	assert_true(peak_idle >= 8 * (long)NC_MIB);
	assert_true(labs(proto_at_peak * 4096 - peak_idle) <= 2 * (long)NC_MIB + 256 * 1024);
	assert_true(seen_press);
	assert_true(nc_stats_val(&after, "rmem_forced") > nc_stats_val(&before, "rmem_forced"));
	assert_true(nc_stats_val(&after, "rmem_pressure") > nc_stats_val(&before, "rmem_pressure"));
	/* the pressure bounded it */
	assert_true(peak_slow >= 0);
	if (peak_slow > 6 * (long)NC_MIB)
		fail_msg("the sockets held %ld KiB under pressure (limit 6 MiB)", peak_slow / 1024);

	for (i = 0; i < MP_SOCKS; i++) {
		close(cfd[i]);
		close(sfd[i]);
	}
	close(lfd);
	/*
	 * All of it given back, but what the CPUs' reserves may still hold of
	 * the global count (under 256 pages each), and the pressure over once
	 * that count is under mem[0] (256 pages): the core ends the pressure
	 * when it reclaims below mem[0], never above it.
	 */
	for (i = 0; i < 300; i++) {
		assert_int_equal(mp_protocols(&pages, &press), 0);
		if (pages <= 512 && (!press || pages >= 256))
			break;
		nc_sleep_ms(10);
	}
	if (pages > 512 || (press && pages < 256))
		fail_msg("after close: %ld pages, pressure %s", pages, press ? "on" : "off");
}

/* ---------------------------------------------------------------- main */

#define T(f) cmocka_unit_test_teardown(f, nc_test_cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_stalled_reader),
		cmocka_unit_test_teardown(test_memory_pressure, mp_teardown),
	};

	return cmocka_run_group_tests_name("flow", tests, nc_group_setup,
					   nc_group_teardown);
}
