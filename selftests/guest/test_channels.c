// SPDX-License-Identifier: GPL-2.0
/*
 * Channel groups that follow the load (README "Channels follow the load"):
 * a group starts with net.netchannel.channels_min channels and the host
 * that opened it adds one whenever frames have waited for the channels for
 * a moment, up to channels_max. The kernel must
 * - check the bounds (1..64) and let `channels` fix the count (both);
 * - start with channels_min and add none for a light ping-pong load;
 * - add channels under a bulk load, at most channels_max, counted in
 *   channels_grown, with every byte of every stream intact and in order;
 * - with channels_min == channels_max, open them all at once and add none;
 * - apply an attached policy's channels_min/channels_max to the groups
 *   made meanwhile, and refuse bounds out of range;
 * - ask the policy's channels_grow() before each channel it adds, and add
 *   none while it says no.
 * - retire the added channels once idle for channel_idle_ms, without a
 *   byte lost or reordered on the sockets that go on, and reuse their
 *   indexes when the load returns.
 * - ask the policy's channels_retire() before each, and keep them while
 *   it says no.
 * Each test starts with new hosts, so with a new group.
 */
#include "nc_net.h"
#include <bpf/libbpf.h>
#include "netsched.h"
#include "nc_test_count.skel.h"
#include "nc_test_grow.skel.h"
#include <arpa/inet.h>

#define STREAMS		4

static int group_setup(void **state)
{
	if (nc_proto_tcp()) {
		printf("# channel groups are NetChannel only: every test is skipped on tcp\n");
		return 0;
	}
	return nc_group_setup(state);
}

static int group_teardown(void **state)
{
	return nc_proto_tcp() ? 0 : nc_group_teardown(state);
}

/*
 * New hosts (so no channel group yet) with these bounds in nc_a, which
 * retires no channel (channel_idle_ms 0): a load that grows the group
 * leaves it grown, as these tests count. On the debug kernel a 16 MiB
 * load runs long and unevenly enough that the default second of idle
 * retired and regrew a channel 6 times within one run.
 */
static void fresh_hosts(const char *min, const char *max)
{
	nc_close_all_sockets();
	if (nc_hosts_create())
		fail_msg("hosts: %s", nc_err);
	nc_assert(nc_sysctl_set(NC_NS_A, "channels_min", min) == 0,
		  "channels_min %s", min);
	nc_assert(nc_sysctl_set(NC_NS_A, "channels_max", max) == 0,
		  "channels_max %s", max);
	nc_assert(nc_sysctl_set(NC_NS_A, "channel_idle_ms", "0") == 0,
		  "channel_idle_ms 0");
}

/*
 * Channels @ns has to @ip that are ready (/proc/net/netchannel/channels),
 * and in *@idx_mask (if not NULL) their indexes.
 */
static int channels_idx(const char *ns, const char *ip, uint64_t *idx_mask)
{
	char line[512], addr[64], group[64], role[32], state[16];
	int idx, n = 0;
	FILE *f;

	if (idx_mask)
		*idx_mask = 0;

	assert_int_equal(nc_ns_enter(ns), 0);
	f = fopen("/proc/net/netchannel/channels", "re");
	nc_ns_leave();
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %63s %31s %15s %d", addr, group, role,
			   state, &idx) == 5 &&
		    !strcmp(addr, ip) && !strcmp(state, "ready")) {
			n++;
			if (idx_mask && idx >= 0 && idx < 64)
				*idx_mask |= 1ull << idx;
		}
	fclose(f);
	return n;
}

static int channels_to(const char *ns, const char *ip)
{
	return channels_idx(ns, ip, NULL);
}

static const char *ip_of(const char *ns)
{
	if (!strcmp(ns, NC_NS_A))
		return nc_family() == AF_INET6 ? NC_IP6_A : NC_IP_A;
	return nc_family() == AF_INET6 ? NC_IP6_B : NC_IP_B;
}

/*
 * nc_a's group towards nc_b as /proc/net/netchannel/peers shows it, read
 * by `ncstat -i` twice: its channels, start, max and grown (the last row).
 */
static void peer_row(int *nr, int *start, int *max, unsigned int *grown)
{
	char line[512], addr[64], group[64], role[32], state[16];
	unsigned int failed;
	int times = 0, rows = 0;
	FILE *f;

	f = popen("/nc/bin/ncstat -n " NC_NS_A " -i 0.1 -c 2 peers", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "# time ", 7))
			times++;
		if (sscanf(line, "%63s %63s %31s %15s %d %d %d %u %u", addr,
			   group, role, state, nr, start, max, grown,
			   &failed) == 9 && !strcmp(addr, ip_of(NC_NS_B)) &&
		    !strcmp(role, "initiator"))
			rows++;
	}
	assert_int_equal(pclose(f), 0);
	assert_int_equal(times, 2);
	assert_int_equal(rows, 2);
}

static uint64_t stat_of(const char *ns, const char *name)
{
	uint64_t v = 0;

	nc_assert(nc_stat_get(ns, name, &v) == 0, "%s in %s", name, ns);
	return v;
}

/* A connection from nc_a to nc_b: *@c in nc_a, *@s accepted in nc_b. */
static void pair(int l, uint16_t port, int *c, int *s)
{
	*c = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(*c >= 0, "connect to %u", port);
	*s = nc_accept_timeout(l, 10000);
	nc_assert(*s >= 0, "accept on %u", port);
}

/* The bounds are checked, and `channels` writes both of them. */
static void test_bounds(void **state)
{
	long v;

	SKIP_UNLESS_NETCHANNEL();
	nc_assert(nc_sysctl_get(NC_NS_B, "channels_min", &v) == 0, "get");
	assert_int_equal(v, 1);
	nc_assert(nc_sysctl_get(NC_NS_B, "channels_max", &v) == 0, "get");
	assert_int_equal(v, sysconf(_SC_NPROCESSORS_ONLN) > 64 ?
			 64 : sysconf(_SC_NPROCESSORS_ONLN));
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels_min", "0"), -EINVAL);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels_min", "65"), -EINVAL);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels_max", "0"), -EINVAL);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels_max", "65"), -EINVAL);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels", "3"), 0);
	nc_assert(nc_sysctl_get(NC_NS_B, "channels_min", &v) == 0, "get");
	assert_int_equal(v, 3);
	nc_assert(nc_sysctl_get(NC_NS_B, "channels_max", &v) == 0, "get");
	assert_int_equal(v, 3);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels_max", "5"), 0);
	nc_assert(nc_sysctl_get(NC_NS_B, "channels", &v) == 0, "get");
	assert_int_equal(v, 5);
	/* ncstat refuses a bad interval */
	assert_int_equal(WEXITSTATUS(system("/nc/bin/ncstat -i 0 peers 2>/dev/null")), 2);
	assert_int_equal(WEXITSTATUS(system("/nc/bin/ncstat -c 2 peers 2>/dev/null")), 2);
	/* nc_a's are its own */
	nc_assert(nc_sysctl_get(NC_NS_A, "channels_min", &v) == 0, "get");
	assert_int_equal(v, 1);
}

/* 300 request/response rounds of 64 bytes never wait for a channel. */
static void test_light_load_keeps_one(void **state)
{
	uint16_t port = nc_next_port();
	char buf[64];
	int l, c, s, i;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	fresh_hosts("1", "4");
	l = nc_listen_in(NC_NS_B, port, 4);
	nc_assert(l >= 0, "listen");
	pair(l, port, &c, &s);
	for (i = 0; i < 300; i++) {
		nc_gen(i, 0, buf, sizeof(buf));
		assert_int_equal(nc_send_all(c, buf, sizeof(buf), 10000), 0);
		assert_int_equal(nc_recv_all(s, buf, sizeof(buf), 10000),
				 sizeof(buf));
		assert_int_equal(nc_send_all(s, buf, sizeof(buf), 10000), 0);
		assert_int_equal(nc_recv_all(c, buf, sizeof(buf), 10000),
				 sizeof(buf));
		assert_int_equal(nc_hash_buf(buf, sizeof(buf)),
				 nc_gen_hash(i, sizeof(buf)));
	}
	printf("# after 300 rounds: nc_a has %d channel(s) to nc_b, nc_b %d; channels_grown %llu\n",
	       channels_to(NC_NS_A, ip_of(NC_NS_B)),
	       channels_to(NC_NS_B, ip_of(NC_NS_A)),
	       (unsigned long long)stat_of(NC_NS_A, "channels_grown"));
	assert_int_equal(channels_to(NC_NS_A, ip_of(NC_NS_B)), 1);
	assert_int_equal(channels_to(NC_NS_B, ip_of(NC_NS_A)), 1);
	assert_int_equal(stat_of(NC_NS_A, "channels_grown"), 0);
	close(c);
	close(s);
	close(l);
}

/* STREAMS bulk streams of @len bytes from nc_a to nc_b, each byte-exact. */
static void bulk_streams(uint64_t len, uint64_t seed)
{
	struct nc_sender snd[STREAMS];
	uint16_t port = nc_next_port();
	int l, c[STREAMS], s[STREAMS], i;
	pid_t pid[STREAMS];
	uint64_t hash;
	int64_t got;

	l = nc_listen_in(NC_NS_B, port, STREAMS);
	nc_assert(l >= 0, "listen");
	for (i = 0; i < STREAMS; i++)
		pair(l, port, &c[i], &s[i]);
	for (i = 0; i < STREAMS; i++) {
		snd[i] = (struct nc_sender){
			.fd = c[i], .seed = seed + i, .len = len,
		};
		pid[i] = nc_spawn(NULL, 240, nc_sender_main, &snd[i], NULL);
		assert_true(pid[i] > 0);
	}
	for (i = 0; i < STREAMS; i++) {
		got = nc_recv_hash_eof(s[i], len, 240000, &hash);
		nc_assert(got == (int64_t)len, "stream %d: %lld of %llu bytes",
			  i, (long long)got, (unsigned long long)len);
		nc_assert(hash == nc_gen_hash(seed + i, len),
			  "stream %d corrupted", i);
	}
	for (i = 0; i < STREAMS; i++)
		assert_int_equal(nc_child_wait(pid[i], 10000), 0);
	for (i = 0; i < STREAMS; i++) {
		close(c[i]);
		close(s[i]);
	}
	close(l);
}

/*
 * Four bulk streams from nc_a saturate one channel: the group grows (to
 * channels_max at most), and each stream arrives byte-exact.
 */
static void test_bulk_grows(void **state)
{
	uint64_t len = 16 * NC_MIB, grown;
	int n, nr, start, max;
	unsigned int pgrown;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(300);
	fresh_hosts("1", "4");
	bulk_streams(len, 0xd1a0);
	n = channels_to(NC_NS_A, ip_of(NC_NS_B));
	grown = stat_of(NC_NS_A, "channels_grown");
	printf("# after %d x %llu MiB: nc_a has %d channels to nc_b (nc_b %d); channels_grown %llu, channels_grow_failed %llu\n",
	       STREAMS, (unsigned long long)(len / NC_MIB), n,
	       channels_to(NC_NS_B, ip_of(NC_NS_A)),
	       (unsigned long long)grown,
	       (unsigned long long)stat_of(NC_NS_A, "channels_grow_failed"));
	nc_assert(n >= 2 && n <= 4, "%d channels: want 2..4", n);
	assert_int_equal(stat_of(NC_NS_A, "channels_retired"), 0);
	assert_int_equal(grown, n - 1);
	assert_int_equal(channels_to(NC_NS_B, ip_of(NC_NS_A)), n);
	assert_int_equal(stat_of(NC_NS_A, "channels_grow_failed"), 0);
	peer_row(&nr, &start, &max, &pgrown);
	assert_int_equal(nr, n);
	assert_int_equal(start, 1);
	assert_int_equal(max, 4);
	assert_int_equal(pgrown, n - 1);
}

/*
 * One round trip of @len bytes of stream @seed on the pair (@c, @s): @c
 * writes, @s reads them and writes them back, @c reads them; both
 * byte-exact.
 */
static void round_trip(int c, int s, size_t len, uint64_t seed)
{
	char out[4096], in[4096];

	assert_true(len <= sizeof(out));
	nc_gen(seed, 0, out, len);
	assert_int_equal(nc_send_all(c, out, len, 10000), 0);
	assert_int_equal(nc_recv_all(s, in, len, 10000), (ssize_t)len);
	assert_memory_equal(in, out, len);
	assert_int_equal(nc_send_all(s, in, len, 10000), 0);
	memset(in, 0, len);
	assert_int_equal(nc_recv_all(c, in, len, 10000), (ssize_t)len);
	assert_memory_equal(in, out, len);
}

#define IDLE_MS		"300"
#define PAIRS		4

/*
 * Channels added under load leave once idle (net.netchannel.channel_idle_ms),
 * one at a time, back to channels_min, while a socket goes on with round
 * trips on the channel that stays: every byte of them arrives, in order.
 * Sockets opened after the growth, some with a home on the channels that
 * leave, move to another and go on; the indexes are reused when the load
 * comes back. Nothing is reset on either host.
 */
static void test_idle_retires(void **state)
{
	uint64_t grown, retired = 0, grown2, mask;
	int l, c0, s0, c[PAIRS], s[PAIRS], n, i, trips = 0;
	uint16_t port = nc_next_port();
	int nr, start, max;
	unsigned int pgrown;
	int64_t t0;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(300);
	fresh_hosts("1", "4");
	l = nc_listen_in(NC_NS_B, port, PAIRS + 1);
	nc_assert(l >= 0, "listen");
	pair(l, port, &c0, &s0);	/* on the first channel, which stays */
	bulk_streams(16 * NC_MIB, 0xd4a0);
	n = channels_to(NC_NS_A, ip_of(NC_NS_B));
	grown = stat_of(NC_NS_A, "channels_grown");
	nc_assert(n >= 2, "%d channel(s) after the load: no growth to undo", n);
	/* homes go round the channels: some of these are on added ones */
	for (i = 0; i < PAIRS; i++) {
		pair(l, port, &c[i], &s[i]);
		round_trip(c[i], s[i], 100, 0xd5a0 + i);
	}
	/* idle but for c0's round trips, on channel 0 */
	assert_int_equal(nc_sysctl_set(NC_NS_A, "channel_idle_ms", IDLE_MS), 0);
	t0 = nc_now_ms();
	while (channels_to(NC_NS_A, ip_of(NC_NS_B)) > 1 &&
	       nc_now_ms() - t0 < 20000) {
		round_trip(c0, s0, 1000, 0xd6a0 + trips++);
		nc_sleep_ms(20);
	}
	retired = stat_of(NC_NS_A, "channels_retired");
	printf("# %d channels after the load (%llu grown); %llu retired in %lld ms, %d round trips meanwhile; nc_b has %d\n",
	       n, (unsigned long long)grown, (unsigned long long)retired,
	       (long long)(nc_now_ms() - t0), trips,
	       channels_to(NC_NS_B, ip_of(NC_NS_A)));
	assert_int_equal(channels_to(NC_NS_A, ip_of(NC_NS_B)), 1);
	assert_int_equal(retired, n - 1);
	/* the acceptor closes its side when it answers */
	t0 = nc_now_ms();
	while (channels_to(NC_NS_B, ip_of(NC_NS_A)) > 1 &&
	       nc_now_ms() - t0 < 5000)
		nc_sleep_ms(20);
	assert_int_equal(channels_to(NC_NS_B, ip_of(NC_NS_A)), 1);
	peer_row(&nr, &start, &max, &pgrown);
	assert_int_equal(nr, 1);
	assert_int_equal(pgrown, grown);
	/* the moved sockets go on, both ways, and close in order */
	for (i = 0; i < PAIRS; i++) {
		round_trip(c[i], s[i], 4000, 0xd7a0 + i);
		close(c[i]);
		assert_int_equal(nc_recv_all(s[i], (char[1]){ 0 }, 1, 10000), 0);
		close(s[i]);
	}
	/*
	 * The load again: the group grows into the freed indexes, 1 up. A
	 * load grows a group only while one channel cannot keep up with it,
	 * which the guest's CPUs decide: up to three loads, until one does.
	 */
	assert_int_equal(nc_sysctl_set(NC_NS_A, "channel_idle_ms", "0"), 0);
	for (i = 0; i < 3 && stat_of(NC_NS_A, "channels_grown") == grown; i++)
		bulk_streams(16 * NC_MIB, 0xd8a0 + i);
	grown2 = stat_of(NC_NS_A, "channels_grown");
	n = channels_idx(NC_NS_A, ip_of(NC_NS_B), &mask);
	printf("# the load again (%d time(s)): %d channels (indexes 0x%llx), %llu grown in all, %llu failed\n",
	       i, n, (unsigned long long)mask, (unsigned long long)grown2,
	       (unsigned long long)stat_of(NC_NS_A, "channels_grow_failed"));
	assert_true(grown2 > grown);
	assert_int_equal(n, 1 + grown2 - stat_of(NC_NS_A, "channels_retired"));
	assert_int_equal(mask, (1ull << n) - 1);	/* 0 .. n - 1 */
	round_trip(c0, s0, 1000, 0xd9a0);
	for (i = 0; i < 2; i++) {
		const char *ns = i ? NC_NS_B : NC_NS_A;

		assert_int_equal(stat_of(ns, "err_retire"), 0);
		assert_int_equal(stat_of(ns, "channels_reset"), 0);
		assert_int_equal(stat_of(ns, "peers_failed"), 0);
	}
	close(c0);
	close(s0);
	close(l);
}

/*
 * Hosts deleted while their channels retire: a grown group with a short
 * channel_idle_ms, idle, and both namespaces deleted at a different moment
 * of the retirement each round (before the check, while the RETIREs are
 * on the wire, after). Nothing may hang or splat (the run's kernel log is
 * checked), and new hosts work after each round.
 */
static void test_retire_teardown(void **state)
{
	int round, n, most = 0;
	uint64_t retired = 0;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(600);
	for (round = 0; round < 8; round++) {
		fresh_hosts("1", "4");
		/* checked every 20 ms from the first growth on */
		assert_int_equal(nc_sysctl_set(NC_NS_A, "channel_idle_ms", "20"), 0);
		bulk_streams(4 * NC_MIB, 0xdba0 + round);
		n = channels_to(NC_NS_A, ip_of(NC_NS_B));
		most = n > most ? n : most;
		nc_sleep_ms(15 * round);
		retired += stat_of(NC_NS_A, "channels_retired");
	}
	fresh_hosts("1", "4");
	bulk_streams(NC_MIB, 0xdca0);
	printf("# 8 rounds: up to %d channels at the end of a load, %llu retired before the hosts went\n",
	       most, (unsigned long long)retired);
	nc_assert(retired >= 1, "no channel retired in 8 rounds: the race was not run");
}

/*
 * A policy's channels_grow() is asked before each channel is added, with
 * the group's peer and counts: while it says no, the same load as
 * test_bulk_grows leaves one channel; once it says yes, the group grows.
 */
static void test_policy_veto(void **state)
{
	struct nc_test_grow *skel;
	struct bpf_link *link;
	uint32_t asked;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(300);
	fresh_hosts("1", "4");
	skel = nc_test_grow__open_and_load();
	assert_non_null(skel);
	skel->bss->veto = 1;
	link = bpf_map__attach_struct_ops(skel->maps.nc_test_grow_ops);
	assert_non_null(link);
	bulk_streams(16 * NC_MIB, 0xd2a0);
	asked = skel->bss->calls;
	printf("# vetoed: asked %u times, %llu vetoes counted; %d channel(s)\n",
	       asked, (unsigned long long)stat_of(NC_NS_A, "channels_grow_vetoed"),
	       channels_to(NC_NS_A, ip_of(NC_NS_B)));
	assert_true(asked >= 1);
	assert_int_equal(stat_of(NC_NS_A, "channels_grow_vetoed"), asked);
	assert_int_equal(stat_of(NC_NS_A, "channels_grown"), 0);
	assert_int_equal(channels_to(NC_NS_A, ip_of(NC_NS_B)), 1);
	assert_int_equal(skel->bss->last_nr, 1);
	assert_int_equal(skel->bss->last_max, 4);
	if (nc_family() == AF_INET6) {
		assert_int_equal(skel->bss->last_family, AF_INET6);
	} else {
		assert_int_equal(skel->bss->last_family, AF_INET);
		assert_int_equal(skel->bss->last_addr3, inet_addr(NC_IP_B));
	}
	/* the next saturation a second later asks again, and is let */
	skel->bss->veto = 0;
	nc_sleep_ms(1100);
	bulk_streams(16 * NC_MIB, 0xd3a0);
	printf("# let: asked %u times in all; %d channels\n", skel->bss->calls,
	       channels_to(NC_NS_A, ip_of(NC_NS_B)));
	assert_true(skel->bss->calls > asked);
	assert_true(channels_to(NC_NS_A, ip_of(NC_NS_B)) >= 2);
	assert_int_equal(stat_of(NC_NS_A, "channels_grown") -
			 stat_of(NC_NS_A, "channels_retired"),
			 channels_to(NC_NS_A, ip_of(NC_NS_B)) - 1);
	bpf_link__destroy(link);
	nc_test_grow__destroy(skel);
}

/*
 * A policy's channels_retire() is asked before each idle channel leaves,
 * with the group and the channel's index: while it says no, the grown
 * group keeps its channels; once it says yes, they go.
 */
static void test_policy_keeps(void **state)
{
	struct nc_test_grow *skel;
	struct bpf_link *link;
	uint32_t asked;
	int64_t t0;
	int n;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(300);
	fresh_hosts("1", "4");
	skel = nc_test_grow__open_and_load();
	assert_non_null(skel);
	skel->bss->keep = 1;
	link = bpf_map__attach_struct_ops(skel->maps.nc_test_grow_ops);
	assert_non_null(link);
	bulk_streams(16 * NC_MIB, 0xdaa0);
	n = channels_to(NC_NS_A, ip_of(NC_NS_B));
	nc_assert(n >= 2, "%d channel(s) after the load", n);
	assert_int_equal(nc_sysctl_set(NC_NS_A, "channel_idle_ms", IDLE_MS), 0);
	nc_sleep_ms(1500);	/* five idle periods */
	asked = skel->bss->retire_calls;
	printf("# kept: asked %u times, %llu vetoes counted; %d of %d channels\n",
	       asked,
	       (unsigned long long)stat_of(NC_NS_A, "channels_retire_vetoed"),
	       channels_to(NC_NS_A, ip_of(NC_NS_B)), n);
	assert_true(asked >= 1);
	assert_int_equal(stat_of(NC_NS_A, "channels_retire_vetoed"), asked);
	assert_int_equal(stat_of(NC_NS_A, "channels_retired"), 0);
	assert_int_equal(channels_to(NC_NS_A, ip_of(NC_NS_B)), n);
	/* the highest channel is offered first, never one of the start */
	assert_int_equal(skel->bss->retire_index, n - 1);
	assert_int_equal(skel->bss->retire_nr, n);
	/* let */
	skel->bss->keep = 0;
	t0 = nc_now_ms();
	while (channels_to(NC_NS_A, ip_of(NC_NS_B)) > 1 &&
	       nc_now_ms() - t0 < 20000)
		nc_sleep_ms(50);
	printf("# let: asked %u times in all; %d channel(s)\n",
	       skel->bss->retire_calls, channels_to(NC_NS_A, ip_of(NC_NS_B)));
	assert_int_equal(channels_to(NC_NS_A, ip_of(NC_NS_B)), 1);
	assert_int_equal(stat_of(NC_NS_A, "channels_retired"), n - 1);
	assert_int_equal(skel->bss->retire_index, 1);
	bpf_link__destroy(link);
	nc_test_grow__destroy(skel);
}

/* channels = 3: all three at the first connect, and no more under load. */
static void test_fixed_count(void **state)
{
	uint16_t port = nc_next_port();
	int l, c, s;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	fresh_hosts("1", "1");
	assert_int_equal(nc_sysctl_set(NC_NS_A, "channels", "3"), 0);
	l = nc_listen_in(NC_NS_B, port, 4);
	nc_assert(l >= 0, "listen");
	pair(l, port, &c, &s);
	assert_int_equal(channels_to(NC_NS_A, ip_of(NC_NS_B)), 3);
	assert_int_equal(nc_exchange(c, s, 8 * NC_MIB, 0xf1e3), 0);
	assert_int_equal(channels_to(NC_NS_A, ip_of(NC_NS_B)), 3);
	assert_int_equal(stat_of(NC_NS_A, "channels_grown"), 0);
	close(c);
	close(s);
	close(l);
}

/*
 * nc_test_count with these bounds, loaded and attached: 0, or the error of
 * the load or of the attachment (and nothing is left of it).
 */
static int load_bounded(uint32_t min, uint32_t max,
			struct nc_test_count **skel, struct bpf_link **link)
{
	int err;

	*skel = nc_test_count__open();
	assert_non_null(*skel);
	(*skel)->struct_ops.nc_test_count_ops->channels_min = min;
	(*skel)->struct_ops.nc_test_count_ops->channels_max = max;
	err = nc_test_count__load(*skel);
	if (err) {
		nc_test_count__destroy(*skel);
		*skel = NULL;
		return err;
	}
	*link = bpf_map__attach_struct_ops((*skel)->maps.nc_test_count_ops);
	if (!*link) {
		err = -errno;
		nc_test_count__destroy(*skel);
		*skel = NULL;
		return err;
	}
	return 0;
}

/* The channels of nc_a's first group to nc_b, made now: start and max. */
static void first_group(int *start, int *max)
{
	uint16_t port = nc_next_port();
	unsigned int grown;
	int l, c, s, nr;

	l = nc_listen_in(NC_NS_B, port, 4);
	nc_assert(l >= 0, "listen");
	pair(l, port, &c, &s);
	peer_row(&nr, start, max, &grown);
	assert_int_equal(nr, *start);
	assert_int_equal(channels_to(NC_NS_A, ip_of(NC_NS_B)), *start);
	assert_int_equal(nc_exchange(c, s, 256 * 1024, 0xb0d5), 0);
	close(c);
	close(s);
	close(l);
}

/*
 * A policy's bounds: channels_min 3 raises a host's 1..1 group to 3 from
 * the start; channels_max 2 caps a host's 4; without the policy the
 * host's own bounds come back. Out of range: refused at load.
 */
static void test_policy_bounds(void **state)
{
	struct nc_test_count *skel;
	struct bpf_link *link;
	int start, max;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	fresh_hosts("1", "1");
	assert_int_equal(load_bounded(3, 0, &skel, &link), 0);
	first_group(&start, &max);
	assert_int_equal(start, 3);
	assert_int_equal(max, 3);
	bpf_link__destroy(link);
	nc_test_count__destroy(skel);

	fresh_hosts("1", "4");
	assert_int_equal(load_bounded(0, 2, &skel, &link), 0);
	first_group(&start, &max);
	assert_int_equal(start, 1);
	assert_int_equal(max, 2);
	bpf_link__destroy(link);
	nc_test_count__destroy(skel);

	fresh_hosts("2", "4");
	first_group(&start, &max);
	assert_int_equal(start, 2);
	assert_int_equal(max, 4);

	assert_int_equal(load_bounded(65, 0, &skel, &link), -E2BIG);
	assert_int_equal(load_bounded(0, 65, &skel, &link), -E2BIG);
	assert_int_equal(load_bounded(3, 2, &skel, &link), -EINVAL);
	assert_proc_policy("policy", "native");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bounds, nc_test_cleanup),
		cmocka_unit_test_teardown(test_light_load_keeps_one, nc_test_cleanup),
		cmocka_unit_test_teardown(test_bulk_grows, nc_test_cleanup),
		cmocka_unit_test_teardown(test_idle_retires, nc_test_cleanup),
		cmocka_unit_test_teardown(test_retire_teardown, nc_test_cleanup),
		cmocka_unit_test_teardown(test_fixed_count, nc_test_cleanup),
		cmocka_unit_test_teardown(test_policy_bounds, nc_test_cleanup),
		cmocka_unit_test_teardown(test_policy_veto, nc_test_cleanup),
		cmocka_unit_test_teardown(test_policy_keeps, nc_test_cleanup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
