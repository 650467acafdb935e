// SPDX-License-Identifier: GPL-2.0
/*
 * Channel sets and the callback that sees a socket's addresses: a policy
 * (selftests/progs/nc_test_port.bpf.c) classifies sockets by port in
 * sock_connected() and confines each class to its channels with
 * select_channels(): class 0 (port lport) to channel 0, the others to
 * channel 1. The kernel must
 * - call sock_connected() with both ports known, for the connecting and
 *   the accepted socket, and for sockets that were connected before the
 *   policy was attached;
 * - send every frame of a socket, DATA and control, only on its channels:
 *   the bytes each channel of nc_a sends are counted exactly;
 * - show the set in /proc/net/netchannel/sockets and give every socket all
 *   channels back when the policy is detached;
 * - eject a policy whose set names none of the peer's channels (that one
 *   is test_policy's test_bad_select_channel).
 */
#include "nc_net.h"
#include <bpf/libbpf.h>
#include "netsched.h"
#include "nc_test_port.skel.h"

#define CHANNELS	2

static int group_setup(void **state)
{
	const char *ns[] = { NC_NS_A, NC_NS_B };
	int i;

	if (nc_proto_tcp()) {
		printf("# channel sets are NetChannel only: every test is skipped on tcp\n");
		return 0;
	}
	if (nc_group_setup(state))
		return -1;
	/* before the first connection, which creates the channel group */
	for (i = 0; i < 2; i++)
		if (nc_sysctl_set(ns[i], "channels", "2")) {
			fprintf(stderr, "%s\n", nc_err);
			return -1;
		}
	return 0;
}

static int group_teardown(void **state)
{
	return nc_proto_tcp() ? 0 : nc_group_teardown(state);
}

/* bytes_tx of each channel nc_a has towards nc_b */
static void chan_bytes(uint64_t out[CHANNELS])
{
	char line[512], addr[64], group[64], role[32], state[16];
	unsigned long long ftx, frx, btx, brx;
	int idx, cpu;
	FILE *f;

	memset(out, 0, CHANNELS * sizeof(out[0]));
	assert_int_equal(nc_ns_enter(NC_NS_A), 0);
	f = fopen("/proc/net/netchannel/channels", "re");
	nc_ns_leave();
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %63s %31s %15s %d %d %llu %llu %llu %llu",
			   addr, group, role, state, &idx, &cpu, &ftx, &frx,
			   &btx, &brx) == 10 &&
		    !strcmp(addr, nc_family() == AF_INET6 ? NC_IP6_B : NC_IP_B) &&
		    !strcmp(state, "ready") && idx >= 0 && idx < CHANNELS)
			out[idx] = btx;
	fclose(f);
}

/*
 * The class and channel set /proc shows for @ns's established socket whose
 * local or remote port is @port; returns how many there are.
 */
static int sock_row(const char *ns, uint16_t port, unsigned int *class,
		    char *set, size_t setlen)
{
	char line[512], local[64], peer[64], state[32], chans[32], *l, *r;
	unsigned int id, rid, rcvq, txq, window, cls, weight;
	long long credit;
	int found = 0;
	FILE *f;

	assert_int_equal(nc_ns_enter(ns), 0);
	f = fopen("/proc/net/netchannel/sockets", "re");
	nc_ns_leave();
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %31s %63s %63s %u %u %lld %u %u %u %31s",
			   &id, &rid, state, local, peer, &rcvq, &txq, &credit,
			   &window, &cls, &weight, chans) != 12 ||
		    !(l = strrchr(local, ':')) || !(r = strrchr(peer, ':')) ||
		    (atoi(l + 1) != port && atoi(r + 1) != port) ||
		    strcmp(state, "ESTABLISHED"))
			continue;
		*class = cls;
		snprintf(set, setlen, "%s", chans);
		found++;
	}
	fclose(f);
	return found;
}

static void assert_sock(const char *ns, uint16_t port, unsigned int class,
			const char *set)
{
	unsigned int cls = ~0u;
	char chans[32] = "";

	nc_assert(sock_row(ns, port, &cls, chans, sizeof(chans)) == 1,
		  "one socket on port %u in %s", port, ns);
	nc_assert(cls == class && !strcmp(chans, set),
		  "socket on port %u in %s: class %u channels %s, want class %u channels %s",
		  port, ns, cls, chans, class, set);
}

/* A connection from nc_a to nc_b's @port: *@c in nc_a, *@s accepted in nc_b. */
static void pair_on(uint16_t port, int *c, int *s)
{
	int l = nc_listen_in(NC_NS_B, port, 4);

	nc_assert(l >= 0, "listen on %u", port);
	*c = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(*c >= 0, "connect to %u", port);
	*s = nc_accept_timeout(l, 10000);
	nc_assert(*s >= 0, "accept on %u", port);
	close(l);
}

/* Send @len bytes on @c (a child does), read them byte-exact on @s. */
static void stream(int c, int s, uint64_t len, uint64_t seed)
{
	struct nc_sender snd = { .fd = c, .seed = seed, .len = len };
	uint64_t hash = 0;
	int64_t got;
	pid_t pid;

	pid = nc_spawn(NULL, 60, nc_sender_main, &snd, NULL);
	assert_true(pid > 0);
	got = nc_recv_hash_eof(s, len, 60000, &hash);
	nc_assert(got == (int64_t)len, "received %lld of %llu bytes",
		  (long long)got, (unsigned long long)len);
	assert_int_equal(hash, nc_gen_hash(seed, len));
	assert_int_equal(nc_child_wait(pid, 10000), 0);
}

static struct nc_test_port *attach(uint16_t lport, struct bpf_link **link)
{
	struct nc_test_port *skel = nc_test_port__open_and_load();

	assert_non_null(skel);
	skel->bss->lport = lport;
	*link = bpf_map__attach_struct_ops(skel->maps.nc_test_port_ops);
	assert_non_null(*link);
	assert_proc_policy("policy", "nc_test_port");
	return skel;
}

/*
 * Each class's frames go only on its channels: 4 MiB of class 1 add not one
 * byte to channel 0, 1 MiB of class 0 not one byte to channel 1 (control
 * frames included: a socket's home channel is in its set too).
 */
static void test_frames_stay_in_set(void **state)
{
	uint16_t p0 = nc_next_port(), p1 = nc_next_port();
	uint64_t b0[CHANNELS], b1[CHANNELS], b2[CHANNELS];
	struct nc_test_port *skel;
	struct bpf_link *link;
	int c0, s0, c1, s1;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	skel = attach(p0, &link);
	pair_on(p1, &c1, &s1);
	pair_on(p0, &c0, &s0);
	assert_sock(NC_NS_A, p0, 0, "0x1");
	assert_sock(NC_NS_B, p0, 0, "0x1");
	assert_sock(NC_NS_A, p1, 1, "0x2");
	assert_sock(NC_NS_B, p1, 1, "0x2");

	chan_bytes(b0);
	stream(c1, s1, 4 * NC_MIB, 0xc1a551);
	close(c1);
	close(s1);
	chan_bytes(b1);
	stream(c0, s0, NC_MIB, 0xc1a550);
	close(c0);
	close(s0);
	chan_bytes(b2);
	printf("# nc_a's channels sent: class 1 (4 MiB): ch0 +%llu ch1 +%llu bytes; class 0 (1 MiB): ch0 +%llu ch1 +%llu bytes\n",
	       (unsigned long long)(b1[0] - b0[0]),
	       (unsigned long long)(b1[1] - b0[1]),
	       (unsigned long long)(b2[0] - b1[0]),
	       (unsigned long long)(b2[1] - b1[1]));
	assert_true(b1[1] - b0[1] >= 4 * NC_MIB);
	assert_int_equal(b1[0] - b0[0], 0);
	assert_true(b2[0] - b1[0] >= NC_MIB);
	assert_int_equal(b2[1] - b1[1], 0);

	/* both ports known for all four sockets, each classified once */
	printf("# callbacks: sock_init %llu, sock_connected %llu, select_channels %llu, enqueue class 0 %llu / class 1 %llu, ports unknown %llu\n",
	       (unsigned long long)skel->bss->nr_init,
	       (unsigned long long)skel->bss->nr_connected,
	       (unsigned long long)skel->bss->nr_select,
	       (unsigned long long)skel->bss->nr_enqueue[0],
	       (unsigned long long)skel->bss->nr_enqueue[1],
	       (unsigned long long)skel->bss->nr_unknown_port);
	assert_int_equal(skel->bss->nr_connected, 4);
	assert_int_equal(skel->bss->nr_select, 4);
	assert_int_equal(skel->bss->nr_unknown_port, 0);
	/* the policy sees the peer's address in the suite's family */
	assert_int_equal(skel->bss->nr_addr_mismatch, 0);
	assert_int_equal(nc_family() == AF_INET6 ? skel->bss->nr_peer_v6 :
			 skel->bss->nr_peer_v4, 4);
	assert_int_equal(skel->bss->nr_family[nc_family() == AF_INET6], 4);
	/* an enqueue for every frame, and a frame is at most 64 KiB */
	assert_true(skel->bss->nr_enqueue[0] >= NC_MIB / 65536);
	assert_true(skel->bss->nr_enqueue[1] >= 4 * NC_MIB / 65536);
	bpf_link__destroy(link);
	nc_test_port__destroy(skel);
}

/*
 * Sockets connected before the policy came are classified when it is
 * attached; when it is detached, every socket gets all channels back.
 */
static void test_sets_follow_the_policy(void **state)
{
	uint16_t p0 = nc_next_port(), p1 = nc_next_port();
	const char *ns[] = { NC_NS_A, NC_NS_B };
	struct nc_test_port *skel;
	struct bpf_link *link;
	int c0, s0, c1, s1;
	long left[2];

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(60);
	/* the policy is offered every live socket: only ours */
	nc_sockets_wait(ns, 2, left, 10000);
	nc_assert(!left[0] && !left[1], "sockets left: %ld, %ld", left[0], left[1]);
	pair_on(p0, &c0, &s0);
	pair_on(p1, &c1, &s1);
	assert_sock(NC_NS_A, p0, 0, "all");
	assert_sock(NC_NS_A, p1, 0, "all");
	skel = attach(p0, &link);
	assert_sock(NC_NS_A, p0, 0, "0x1");
	assert_sock(NC_NS_B, p0, 0, "0x1");
	assert_sock(NC_NS_A, p1, 1, "0x2");
	assert_sock(NC_NS_B, p1, 1, "0x2");
	assert_int_equal(skel->bss->nr_connected, 4);
	assert_int_equal(skel->bss->nr_unknown_port, 0);
	stream(c0, s0, NC_MIB, 0x5e7);		/* and the sets work */
	bpf_link__destroy(link);
	assert_proc_policy("policy", "native");
	assert_sock(NC_NS_A, p1, 1, "all");
	assert_sock(NC_NS_B, p1, 1, "all");
	stream(c1, s1, NC_MIB, 0x5e8);
	close(c0);
	close(s0);
	close(c1);
	close(s1);
	nc_test_port__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_frames_stay_in_set, nc_test_cleanup),
		cmocka_unit_test_teardown(test_sets_follow_the_policy, nc_test_cleanup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
