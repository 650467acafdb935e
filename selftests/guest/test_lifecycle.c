// SPDX-License-Identifier: GPL-2.0
/*
 * Lifecycle races: sockets that close while their channel group dies, OPENs
 * that race a listener's close, a CLOSE that races close()'s linger, a copy
 * worker stuck on a user page fault. Each test repeats its race many times
 * and then asserts that nothing is left: every socket of both hosts freed
 * (the "sockets" count of /proc/net/netchannel/stats), so the namespaces and
 * the module can go (the group teardown unloads it). On the debug kernel
 * (make test-debug) DEBUG_LIST, KASAN and lockdep watch the same races.
 */
#include "nc_net.h"

#include <linux/userfaultfd.h>
#include <net/if.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>

/* Wait up to @ms for @ns to have no NetChannel socket left; 0 or -1. */
static int wait_no_sockets(const char *ns, int ms)
{
	uint64_t n = ~0ULL;

	for (; ms > 0; ms -= 20) {
		if (nc_stat_get(ns, "sockets", &n))
			return -1;
		if (!n)
			return 0;
		nc_sleep_ms(20);
	}
	return nc_fail(-1, "%llu socket(s) still alive in %s: %s",
		       (unsigned long long)n, ns, nc_stats_line(ns));
}

/* Set interface @ifname of namespace @ns up or down (SIOCSIFFLAGS). */
static int link_set(const char *ns, const char *ifname, bool up)
{
	struct ifreq ifr;
	int fd, ret = 0;

	if (nc_ns_enter(ns))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	nc_ns_leave();
	if (fd < 0)
		return nc_fail(-errno, "socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		ret = nc_fail(-errno, "SIOCGIFFLAGS %s: %s", ifname, strerror(errno));
	} else {
		if (up)
			ifr.ifr_flags |= IFF_UP;
		else
			ifr.ifr_flags &= ~IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			ret = nc_fail(-errno, "SIOCSIFFLAGS %s: %s", ifname,
				      strerror(errno));
	}
	close(fd);
	return ret;
}

/* Bring nc_va back up and wait until nc_a reaches nc_b again. */
static int link_restore(void)
{
	int i;

	if (link_set(NC_NS_A, "nc_va", true))
		return -1;
	for (i = 0; i < 50; i++) {
		if (!nc_run("ip netns exec " NC_NS_A " ping -c 1 -W 1 " NC_IP_B
			    " >/dev/null 2>&1"))
			return 0;
		nc_sleep_ms(100);
	}
	return nc_fail(-1, "nc_a cannot reach nc_b after link up");
}

/* ------------------------------------------------ close while a group dies */

#define GROUP_SOCKS	96
#define GROUP_CLOSERS	3

struct closer {
	pthread_t thread;
	pthread_barrier_t *go;
	int *fds;
	int nr;
	unsigned int delay_us;
};

static void *closer_main(void *arg)
{
	struct closer *c = arg;
	int i;

	pthread_barrier_wait(c->go);
	usleep(c->delay_us);
	for (i = 0; i < c->nr; i++)
		close(c->fds[i]);
	return NULL;
}

/*
 * Apps close their sockets while the group they use dies (its route went
 * away). The group's teardown resets its sockets while close() unlinks
 * them from the same list: a walk of that list without the peer's lock
 * corrupts it (DEBUG_LIST: "list_del corruption"), loops, or skips a socket
 * and leaks it with its namespace and the module.
 */
static void test_close_while_group_dies(void **state)
{
	int cfd[GROUP_SOCKS], sfd[GROUP_SOCKS], round, i, lfd;
	struct closer cl[GROUP_CLOSERS];
	pthread_barrier_t go;
	uint16_t port;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(600);
	srand(1);
	for (round = 0; round < 12; round++) {
		port = nc_next_port();
		lfd = nc_listen_in(NC_NS_B, port, GROUP_SOCKS);
		nc_assert(lfd >= 0, "listen");
		for (i = 0; i < GROUP_SOCKS; i++) {
			cfd[i] = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
			nc_assert(cfd[i] >= 0, "round %d: connect %d", round, i);
			sfd[i] = nc_accept_timeout(lfd, 10000);
			nc_assert(sfd[i] >= 0, "round %d: accept %d", round, i);
		}
		close(lfd);
		/* each closer takes a slice, and starts a little after the kill */
		pthread_barrier_init(&go, NULL, GROUP_CLOSERS + 1);
		for (i = 0; i < GROUP_CLOSERS; i++) {
			cl[i] = (struct closer){
				.go = &go, .fds = cfd + i * GROUP_SOCKS / GROUP_CLOSERS,
				.nr = GROUP_SOCKS / GROUP_CLOSERS,
				.delay_us = rand() % 3000,
			};
			assert_int_equal(pthread_create(&cl[i].thread, NULL,
							closer_main, &cl[i]), 0);
		}
		pthread_barrier_wait(&go);
		nc_assert(link_set(NC_NS_A, "nc_va", false) == 0, "link down");
		for (i = 0; i < GROUP_CLOSERS; i++)
			pthread_join(cl[i].thread, NULL);
		pthread_barrier_destroy(&go);
		for (i = 0; i < GROUP_SOCKS; i++)
			close(sfd[i]);
		nc_assert(wait_no_sockets(NC_NS_A, 15000) == 0,
			  "round %d: sockets of nc_a closed while their group died", round);
		nc_assert(link_restore() == 0, "round %d", round);
		nc_assert(wait_no_sockets(NC_NS_B, 30000) == 0,
			  "round %d: sockets of nc_b", round);
	}
}

/* ------------------------------------------------ OPEN against a closing listener */

struct opener {
	uint16_t port;
	int nr;
	int fds[64];
};

static void *opener_main(void *arg)
{
	struct opener *o = arg;
	struct sockaddr_in sin = nc_sin(NC_IP_B, o->port);
	int i;

	for (i = 0; i < o->nr; i++) {
		o->fds[i] = nc_socket_in(NC_NS_A, SOCK_NONBLOCK);
		if (o->fds[i] >= 0)
			connect(o->fds[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	return NULL;
}

/*
 * Connection requests keep arriving while the listener closes. Whatever
 * the listener queued before its close is reset; nothing may be queued on
 * it after its accept queue was emptied for the last time (such a child is
 * never freed and pins its namespace and the module).
 */
static void test_listener_close_races_open(void **state)
{
	struct opener o;
	pthread_t t;
	int round, i, lfd, refused = 0, reset = 0, other = 0, connected = 0;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(600);
	srand(2);
	for (round = 0; round < 40; round++) {
		o = (struct opener){ .port = nc_next_port(), .nr = 24 };
		lfd = nc_listen_in(NC_NS_B, o.port, 64);
		nc_assert(lfd >= 0, "listen");
		assert_int_equal(pthread_create(&t, NULL, opener_main, &o), 0);
		usleep(rand() % 20000);
		close(lfd);
		pthread_join(t, NULL);
		for (i = 0; i < o.nr; i++) {
			struct pollfd p = { .fd = o.fds[i], .events = POLLOUT };
			int err = 0;
			socklen_t l = sizeof(err);

			if (o.fds[i] < 0)
				continue;
			/* every connect ends: accepted-then-reset, or refused */
			nc_assert(poll(&p, 1, 20000) == 1,
				  "round %d: connect %d never finished", round, i);
			getsockopt(o.fds[i], SOL_SOCKET, SO_ERROR, &err, &l);
			if (err == ECONNREFUSED)
				refused++;
			else if (err == ECONNRESET)
				reset++;
			else if (!err)
				connected++;
			else
				other++;
			close(o.fds[i]);
		}
		nc_assert(wait_no_sockets(NC_NS_B, 15000) == 0,
			  "round %d: nc_b after its listener closed", round);
		nc_assert(wait_no_sockets(NC_NS_A, 15000) == 0, "round %d: nc_a", round);
	}
	printf("# connects: %d refused, %d reset, %d connected (then reset), %d other\n",
	       refused, reset, connected, other);
	assert_int_equal(other, 0);
	/* the race was run: both outcomes happened */
	assert_true(refused > 0);
	assert_true(reset + connected > 0);
}

/* ------------------------------------------------ shutdown(WR) right before close */

/*
 * The peer closed its side first; then the app half-closes and closes at
 * once. Our CLOSE may go out between close()'s look at the socket and its
 * decision to linger: then nobody ends the linger, and the socket (its id,
 * its port, its namespace) stays forever. Every socket must be gone well
 * before the 60 s linger timeout.
 */
static void test_shutdown_then_close(void **state)
{
	int round, cfd, sfd, lfd;
	uint16_t port;
	char c;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(600);
	port = nc_next_port();
	lfd = nc_listen_in(NC_NS_B, port, 16);
	nc_assert(lfd >= 0, "listen");
	for (round = 0; round < 150; round++) {
		cfd = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
		nc_assert(cfd >= 0, "round %d: connect", round);
		sfd = nc_accept_timeout(lfd, 10000);
		nc_assert(sfd >= 0, "round %d: accept", round);
		assert_int_equal(shutdown(sfd, SHUT_WR), 0);
		nc_set_timeo(cfd, SO_RCVTIMEO, 10000);
		assert_int_equal(recv(cfd, &c, 1, 0), 0);	/* the peer's CLOSE */
		assert_int_equal(shutdown(cfd, SHUT_WR), 0);
		close(cfd);
		nc_set_timeo(sfd, SO_RCVTIMEO, 10000);
		assert_int_equal(recv(sfd, &c, 1, 0), 0);
		close(sfd);
	}
	close(lfd);
	nc_assert(wait_no_sockets(NC_NS_A, 10000) == 0, "nc_a after %d closes", round);
	nc_assert(wait_no_sockets(NC_NS_B, 10000) == 0, "nc_b after %d closes", round);
}

/* ------------------------------------------------ a copy worker stuck on a fault */

#define UFFD_LEN	(4 * NC_MIB)

/* Reap @pid within @ms; true if it exited. */
static bool waitpid_timeout(pid_t pid, int ms)
{
	for (; ms > 0; ms -= 20) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return true;
		nc_sleep_ms(20);
	}
	return false;
}

/* Pass @fd and the address @addr over the unix socket @sock. */
static int send_fd(int sock, int fd, uint64_t addr)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = &addr, .iov_len = sizeof(addr) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == sizeof(addr) ? 0 : -1;
}

static int recv_fd(int sock, uint64_t *addr)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = addr, .iov_len = sizeof(*addr) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != sizeof(*addr))
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * Child: a buffer whose pages are missing and registered with userfaultfd
 * (nobody resolves the faults), written to a NetChannel socket large enough
 * for the VNS copy workers: a worker faults and waits for the page.
 */
static void uffd_writer(int ctl, uint16_t port)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	int uffd, fd;
	void *buf;

	buf = mmap(NULL, UFFD_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (buf == MAP_FAILED || uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		_exit(2);
	reg = (struct uffdio_register){
		.range = { .start = (unsigned long)buf, .len = UFFD_LEN },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		_exit(3);
	fd = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	if (fd < 0 || send_fd(ctl, uffd, (uintptr_t)buf))
		_exit(4);
	/* blocks: the copy of the first page never completes */
	send(fd, buf, UFFD_LEN, MSG_NOSIGNAL);
	_exit(0);
}

/*
 * A task whose send is being copied by a VNS worker, and the worker waits
 * on a page fault that nobody serves (userfaultfd; FUSE-backed memory is the
 * same). SIGKILL must still end the task, as it ends a task that faults in
 * TCP's own copy: the wait for the workers must be killable, and the
 * workers' memory must not go away under them.
 */
static void test_vns_copy_fault_killable(void **state)
{
	struct uffdio_zeropage zp;
	int ctl[2], uffd, lfd, sfd;
	uint16_t port = nc_next_port();
	uint64_t addr;
	bool died;
	pid_t pid;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	nc_assert(nc_sysctl_set(NC_NS_A, "vns_workers", "2") == 0, "vns_workers");
	/* the worker takes the first piece, idle core or not */
	nc_assert(nc_sysctl_set(NC_NS_A, "vns_idle", "0") == 0, "vns_idle");
	nc_assert(nc_sysctl_set(NC_NS_A, "copy_threshold", "65536") == 0,
		  "copy_threshold");
	lfd = nc_listen_in(NC_NS_B, port, 4);
	nc_assert(lfd >= 0, "listen");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(ctl[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		uffd_writer(ctl[1], port);
	}
	close(ctl[1]);
	uffd = recv_fd(ctl[0], &addr);
	close(ctl[0]);
	assert_true(uffd >= 0);
	sfd = nc_accept_timeout(lfd, 10000);
	nc_assert(sfd >= 0, "accept");
	close(lfd);
	nc_sleep_ms(1000);	/* the child is in send(), its worker in the fault */
	assert_int_equal(kill(pid, SIGKILL), 0);
	died = waitpid_timeout(pid, 5000);
	if (!died) {
		/* serve the faults (zero pages), so that it can die now */
		zp = (struct uffdio_zeropage){
			.range = { .start = addr, .len = UFFD_LEN },
		};
		ioctl(uffd, UFFDIO_ZEROPAGE, &zp);
		waitpid_timeout(pid, 30000);
	}
	close(uffd);
	close(sfd);
	if (!died)
		fail_msg("a task stuck in a VNS copy did not die of SIGKILL within 5 s");
	nc_assert(wait_no_sockets(NC_NS_A, 20000) == 0, "nc_a");
	nc_assert(wait_no_sockets(NC_NS_B, 20000) == 0, "nc_b");
	nc_sysctl_set(NC_NS_A, "copy_threshold", "262144");
	nc_sysctl_set(NC_NS_A, "vns_idle", "50");
}

/* ------------------------------------------------ sockets that ended cannot restart */

/*
 * shutdown(SHUT_RD) on a listener stops it and takes it out of the
 * protocol (no id, no port). Such a socket cannot listen, bind or connect
 * again (EINVAL): it would be used without being linked, and its close
 * would then unlink nothing and free it under its group.
 */
static void test_listener_shutdown_no_reuse(void **state)
{
	struct sockaddr_in sin = nc_sin(NC_IP_B, nc_next_port());
	int lfd, i;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(60);
	for (i = 0; i < 20; i++) {
		lfd = nc_listen_in(NC_NS_A, nc_next_port(), 4);
		nc_assert(lfd >= 0, "listen");
		assert_int_equal(shutdown(lfd, SHUT_RD), 0);
		assert_int_equal(listen(lfd, 4), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(accept(lfd, NULL, NULL), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(connect(lfd, (struct sockaddr *)&sin, sizeof(sin)), -1);
		assert_int_equal(errno, EINVAL);
		close(lfd);
	}
	nc_assert(wait_no_sockets(NC_NS_A, 10000) == 0, "nc_a");
}

/*
 * shutdown() of a connection attempt gives it up, as TCP does: the socket
 * gets ECONNRESET and sends nothing more. Its CLOSE must never go out
 * before the peer's ACCEPT gave it an id there (a CLOSE for socket 0 is a
 * protocol error that resets the channel, and every other connection to
 * that host with it; with the group still connecting there is not even a
 * channel to send it on). Rounds with a fresh group each (still
 * connecting) and with a group up (another connection lives on it).
 */
static void test_shutdown_while_connecting(void **state)
{
	uint64_t seed = 0x5a11;
	int round, lfd, cfd, hfd = -1, sfd = -1, err, given_up = 0;
	uint16_t port = nc_next_port();
	struct sockaddr_in sin;
	socklen_t l;
	char buf[4096];

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(300);
	for (round = 0; round < 16; round++) {
		bool fresh = round % 2 == 0;

		if (fresh) {
			close(hfd);
			hfd = -1;
			nc_assert(nc_hosts_create() == 0, "hosts");
			port = nc_next_port();
			lfd = nc_listen_in(NC_NS_B, port, 16);
		} else {
			/* a healthy connection on the group, then the attempt */
			lfd = nc_listen_in(NC_NS_B, port, 16);
			hfd = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
			nc_assert(hfd >= 0, "round %d: connect", round);
			sfd = nc_accept_timeout(lfd, 10000);
			nc_assert(sfd >= 0, "round %d: accept", round);
		}
		nc_assert(lfd >= 0, "listen");
		cfd = nc_socket_in(NC_NS_A, SOCK_NONBLOCK);
		nc_assert(cfd >= 0, "socket");
		sin = nc_sin(NC_IP_B, port);
		assert_int_equal(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)), -1);
		assert_int_equal(errno, EINPROGRESS);
		assert_int_equal(shutdown(cfd, SHUT_WR), 0);
		err = 0;
		l = sizeof(err);
		getsockopt(cfd, SOL_SOCKET, SO_ERROR, &err, &l);
		/* the attempt may have completed first: then it is a half-close */
		if (err == ECONNRESET)
			given_up++;
		else if (err)
			fail_msg("round %d: shutdown of an attempt: SO_ERROR %d (%s), want ECONNRESET or none",
				 round, err, strerror(err));
		nc_sleep_ms(300);	/* the peer's ACCEPT, answered with RESET */
		close(cfd);
		if (!fresh) {
			/* the other connection still works, both ways */
			nc_gen(seed, 0, buf, sizeof(buf));
			nc_assert(nc_send_all(hfd, buf, sizeof(buf), 10000) == 0,
				  "round %d: the healthy connection after the attempt", round);
			nc_assert(nc_recv_all(sfd, buf, sizeof(buf), 10000) == sizeof(buf),
				  "round %d: receive", round);
			assert_true(nc_hash_buf(buf, sizeof(buf)) == nc_gen_hash(seed, sizeof(buf)));
			close(sfd);
			close(hfd);
			hfd = -1;
			seed++;
		}
		close(lfd);
		nc_assert(wait_no_sockets(NC_NS_A, 10000) == 0, "round %d: nc_a", round);
		nc_assert(wait_no_sockets(NC_NS_B, 10000) == 0, "round %d: nc_b", round);
	}
	printf("# %d of %d attempts were given up before the peer's ACCEPT\n",
	       given_up, round);
	assert_true(given_up > 0);	/* the race was run */
	/* nothing the host sent was malformed */
	{
		uint64_t v;

		nc_assert(nc_stat_get(NC_NS_B, "err_bad_id", &v) == 0, "stats");
		assert_int_equal(v, 0);
		nc_assert(nc_stat_get(NC_NS_B, "err_unknown_socket", &v) == 0, "stats");
		assert_int_equal(v, 0);
	}
}

/* ------------------------------------------------ namespace exit with pending channels */

struct garbage {
	pthread_t thread;
	int fds[16];
	int nr;
	volatile bool go, stop;
};

/* Send bytes that are no frame on every connection, until told to stop. */
static void *garbage_main(void *arg)
{
	struct garbage *g = arg;
	char junk[512];
	int i;

	memset(junk, 0xa5, sizeof(junk));
	while (!g->go)
		usleep(100);
	while (!g->stop) {
		for (i = 0; i < g->nr; i++)
			if (g->fds[i] >= 0 &&
			    send(g->fds[i], junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
			    errno != EAGAIN) {
				close(g->fds[i]);
				g->fds[i] = -1;
			}
		usleep(200);
	}
	return NULL;
}

/*
 * A host goes away while channels it accepted have not said HELLO, and
 * start to say garbage: each such channel's receive work resets it and asks
 * the accept work to reap it, while the namespace's exit tears both down. The
 * accept work must not run after the host's memory is gone (KASAN on the
 * debug kernel sees a use-after-free).
 */
static void test_netns_exit_with_pending_channels(void **state)
{
	struct sockaddr_in sin;
	struct garbage g;
	long port = 0;
	int round, i, lfd;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(600);
	for (round = 0; round < 10; round++) {
		nc_assert(nc_hosts_create() == 0, "round %d: hosts", round);
		lfd = nc_listen_in(NC_NS_B, nc_next_port(), 4);
		nc_assert(lfd >= 0, "listen");	/* starts nc_b's channel listener */
		nc_assert(nc_sysctl_get(NC_NS_B, "port", &port) == 0, "port");
		sin = nc_sin(NC_IP_B, port);
		g = (struct garbage){ .nr = 16 };
		for (i = 0; i < g.nr; i++) {
			nc_assert(nc_ns_enter(NC_NS_A) == 0, "enter");
			g.fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
			nc_ns_leave();
			assert_true(g.fds[i] >= 0);
			assert_int_equal(connect(g.fds[i], (struct sockaddr *)&sin,
						 sizeof(sin)), 0);
		}
		assert_int_equal(pthread_create(&g.thread, NULL, garbage_main, &g), 0);
		nc_sleep_ms(100);	/* accepted: the channels are pending */
		close(lfd);
		g.go = true;
		assert_int_equal(nc_run("ip netns del " NC_NS_B), 0);
		nc_sleep_ms(300);
		g.stop = true;
		pthread_join(g.thread, NULL);
		for (i = 0; i < g.nr; i++)
			if (g.fds[i] >= 0)
				close(g.fds[i]);
	}
	nc_assert(nc_hosts_create() == 0, "hosts");
}

/* ---------------------------------------------------------------- main */

#define T(f) cmocka_unit_test_teardown(f, nc_test_cleanup)

static int link_teardown(void **state)
{
	nc_test_cleanup(state);
	link_set(NC_NS_A, "nc_va", true);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_close_while_group_dies, link_teardown),
		T(test_listener_close_races_open),
		T(test_shutdown_then_close),
		T(test_vns_copy_fault_killable),
		T(test_netns_exit_with_pending_channels),
		T(test_listener_shutdown_no_reuse),
		T(test_shutdown_while_connecting),
	};

	return cmocka_run_group_tests_name("lifecycle", tests, nc_group_setup,
					   nc_group_teardown);
}
