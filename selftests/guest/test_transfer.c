// SPDX-License-Identifier: GPL-2.0
/*
 * NetChannel stream sockets must move bytes exactly, as TCP ones do:
 * transfers of every size on one socket and on many at once, the channel
 * pool a pair of hosts shares (net.netchannel.channels), the VNS copy
 * workers, and the per-namespace sysctls. Every test here runs on
 * NC_PROTO=tcp too (that validates the test); those that only make sense
 * for NetChannel (channels, VNS copies, sysctls) are reported as skipped
 * on tcp, never as passed.
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
#include "nc_frame.h"

/* ------------------------------------------------------------ transfers */

static const uint64_t size_1 = 1, size_1000 = 1000, size_64k7 = 65536 + 7,
	size_1m = NC_MIB, size_16m = 16 * NC_MIB, size_64m = 64 * NC_MIB;

/* One socket, @size bytes a->b (and b->a too up to 16 MiB), exact bytes. */
static void test_xfer_size(void **state)
{
	uint64_t size = *(const uint64_t *)*state;
	struct nc_xspec s = {
		.nsock = 1, .up = size, .down = size <= 16 * NC_MIB ? size : 0,
		.seed = 0x51e0000 + size, .raw = true,
	};
	double secs;

	nc_watchdog(nc_xspec_timeout(&s) / 1000 + 60);
	nc_assert(nc_xfer(&s, &secs) == 0, "transfer of %llu bytes up, %llu down",
		  (unsigned long long)s.up, (unsigned long long)s.down);
	printf("# %llu bytes up, %llu down: %.2f s\n", (unsigned long long)s.up,
	       (unsigned long long)s.down, secs);
}

struct conc {
	int nsock;
	uint64_t bytes;
};

static const struct conc conc_1 = { 1, NC_MIB }, conc_16 = { 16, NC_MIB },
	conc_256 = { 256, 4096 };

/* @nsock concurrent sockets, @bytes each way on each, all hashed. */
static void test_concurrent(void **state)
{
	const struct conc *c = *state;
	struct nc_xspec s = {
		.nsock = c->nsock, .up = c->bytes, .down = c->bytes,
		.seed = 0xc0c0 + c->nsock,
	};
	double secs;

	nc_watchdog(nc_xspec_timeout(&s) / 1000 + 60);
	nc_assert(nc_xfer(&s, &secs) == 0, "%d sockets x %llu bytes both ways",
		  c->nsock, (unsigned long long)c->bytes);
	printf("# %d sockets x %llu bytes each way: %.2f s\n", c->nsock,
	       (unsigned long long)c->bytes, secs);
}

/* ------------------------------------------------------- channel pool */

static const char *const stat_errs[] = {
	"err_bad_magic", "err_bad_version", "err_bad_type", "err_bad_len",
	"err_bad_id", "err_unknown_socket", "err_seq_window", "err_open_flood",
};

static uint64_t ncstat(const char *ns, const char *key)
{
	uint64_t v = 0;

	nc_assert(nc_stat_get(ns, key, &v) == 0, "reading stats");
	return v;
}

static const int chan_1 = 1, chan_2 = 2, chan_4 = 4;

/*
 * channels = k in the client host before its first connect to a fresh
 * peer: exactly k channels open (a) and are accepted (b); a second
 * transfer reuses them; nothing counts as an error.
 */
static void test_channels(void **state)
{
	int k = *(const int *)*state, i;
	struct nc_xspec s = { .nsock = 16, .up = 256 * 1024, .down = 64 * 1024,
			      .seed = 0xc4a0 + k };
	uint64_t up = s.up * s.nsock, down = s.down * s.nsock;
	char val[16];
	long got;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(240);
	nc_assert(nc_hosts_create() == 0, "fresh hosts");
	snprintf(val, sizeof(val), "%d", k);
	nc_assert(nc_sysctl_set(NC_NS_A, "channels", val) == 0, "set channels");
	nc_assert(nc_sysctl_get(NC_NS_A, "channels", &got) == 0, "get channels");
	assert_int_equal(got, k);
	assert_int_equal(ncstat(NC_NS_A, "channels_open"), 0);
	assert_int_equal(ncstat(NC_NS_B, "channels_accepted"), 0);

	nc_assert(nc_xfer(&s, NULL) == 0, "transfer with %d channels", k);
	printf("# a: %s\n", nc_stats_line(NC_NS_A));
	printf("# b: %s\n", nc_stats_line(NC_NS_B));
	/* one pool per pair of hosts, opened by the side that connected */
	assert_int_equal(ncstat(NC_NS_A, "channels_open"), k);
	assert_int_equal(ncstat(NC_NS_B, "channels_accepted"), k);
	assert_int_equal(ncstat(NC_NS_B, "channels_open"), 0);
	assert_int_equal(ncstat(NC_NS_A, "channels_accepted"), 0);
	assert_int_equal(ncstat(NC_NS_A, "channels_reset"), 0);
	assert_int_equal(ncstat(NC_NS_B, "channels_reset"), 0);
	assert_true(ncstat(NC_NS_A, "frames_tx") > 0);
	assert_true(ncstat(NC_NS_B, "frames_rx") > 0);
	assert_true(ncstat(NC_NS_A, "bytes_tx") >= up);
	assert_true(ncstat(NC_NS_B, "bytes_rx") >= up);
	assert_true(ncstat(NC_NS_B, "bytes_tx") >= down);
	assert_true(ncstat(NC_NS_A, "bytes_rx") >= down);

	/* the pool is made once per peer */
	s.seed++;
	nc_assert(nc_xfer(&s, NULL) == 0, "second transfer with %d channels", k);
	assert_int_equal(ncstat(NC_NS_A, "channels_open"), k);
	assert_int_equal(ncstat(NC_NS_B, "channels_accepted"), k);
	for (i = 0; i < (int)(sizeof(stat_errs) / sizeof(stat_errs[0])); i++) {
		if (ncstat(NC_NS_A, stat_errs[i]) || ncstat(NC_NS_B, stat_errs[i])) {
			printf("# a: %s\n", nc_stats_line(NC_NS_A));
			printf("# b: %s\n", nc_stats_line(NC_NS_B));
			fail_msg("%s is not 0 after normal transfers", stat_errs[i]);
		}
	}
}

/*
 * VNS copy workers: with the copy threshold lowered below the transfer's
 * 64 KiB writes and reads, and vns_idle 0 (every core takes pieces, idle
 * or not), the copies go through the workers on both sides, and every
 * byte still arrives exactly. (test_vns checks which cores they choose.)
 */
static void test_vns_copies(void **state)
{
	struct nc_xspec s = { .nsock = 4, .up = 4 * NC_MIB, .down = NC_MIB,
			      .seed = 0x7e5 };
	static const char *const hosts[] = { NC_NS_A, NC_NS_B };
	int i;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(240);
	nc_assert(nc_hosts_create() == 0, "fresh hosts");
	for (i = 0; i < 2; i++) {
		nc_assert(nc_sysctl_set(hosts[i], "vns_workers", "2") == 0,
			  "set vns_workers");
		nc_assert(nc_sysctl_set(hosts[i], "copy_threshold", "16384") == 0,
			  "set copy_threshold");
		nc_assert(nc_sysctl_set(hosts[i], "vns_idle", "0") == 0,
			  "set vns_idle");
	}
	nc_assert(nc_xfer(&s, NULL) == 0, "transfer through the VNS workers");
	printf("# vns copies: a %llu jobs, %llu bytes; b %llu jobs, %llu bytes\n",
	       (unsigned long long)ncstat(NC_NS_A, "vns_jobs"),
	       (unsigned long long)ncstat(NC_NS_A, "vns_bytes"),
	       (unsigned long long)ncstat(NC_NS_B, "vns_jobs"),
	       (unsigned long long)ncstat(NC_NS_B, "vns_bytes"));
	/*
	 * a sends 16 MiB in non-blocking writes of up to 64 KiB: those that
	 * got at least 16 KiB in went through the workers (measured: 15 of
	 * 16 MiB; a write is one piece, which goes to the worker). b sends
	 * 4 MiB, and reads a's 16 MiB with them too (a read's pieces
	 * alternate between the worker and the reader), so its workers
	 * copied more than it sent.
	 */
	assert_true(ncstat(NC_NS_A, "vns_bytes") >= s.up * s.nsock / 2);
	assert_true(ncstat(NC_NS_B, "vns_bytes") > s.down * s.nsock);
	/* 1 worker: copies are inline again */
	nc_assert(nc_sysctl_set(NC_NS_A, "vns_workers", "1") == 0, "vns_workers 1");
	s.seed++;
	s.down = 0;
	i = (int)ncstat(NC_NS_A, "vns_jobs");
	nc_assert(nc_xfer(&s, NULL) == 0, "transfer with inline copies");
	assert_int_equal(ncstat(NC_NS_A, "vns_jobs"), i);
}

/* The sysctls exist per namespace and channels is limited to 1..64. */
static void test_sysctls(void **state)
{
	long v, orig;
	char b[16];

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(60);
	nc_assert(nc_sysctl_get(NC_NS_B, "port", &v) == 0, "port");
	assert_int_equal(v, 5050);
	nc_assert(nc_sysctl_get(NC_NS_B, "frame_size", &v) == 0, "frame_size");
	assert_true(v > 0 && v <= 65536);
	nc_assert(nc_sysctl_get(NC_NS_B, "channels", &orig) == 0, "channels");
	assert_true(orig >= 1 && orig <= 64);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels", "0"), -EINVAL);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels", "65"), -EINVAL);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels", "64"), 0);
	nc_assert(nc_sysctl_get(NC_NS_B, "channels", &v) == 0, "channels");
	assert_int_equal(v, 64);
	/* per namespace: a is untouched */
	nc_assert(nc_sysctl_get(NC_NS_A, "channels", &v) == 0, "channels in a");
	assert_int_equal(v, orig);
	snprintf(b, sizeof(b), "%ld", orig);
	assert_int_equal(nc_sysctl_set(NC_NS_B, "channels", b), 0);
}

/* ---------------------------------------------------------- tracepoints */

#define TRACEFS "/sys/kernel/tracing"

static int tracefs_write(const char *file, const char *val)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return nc_fail(-errno, "open %s: %s", path, strerror(errno));
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = nc_fail(-errno, "write %s: %s", path, strerror(errno));
	close(fd);
	return ret;
}

/* Lines of the trace buffer that contain every one of @a, @b (NULL: any). */
static unsigned long trace_count(const char *a, const char *b)
{
	unsigned long n = 0;
	char line[512];
	FILE *f = fopen(TRACEFS "/trace", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
	fclose(f);
	return n;
}

/*
 * DATA payload bytes in the trace lines of event @ev ("nc_frame_tx:"), and
 * in *@n how many DATA frames carried them.
 */
static unsigned long long trace_data_bytes(const char *ev, unsigned long *n)
{
	unsigned long long bytes = 0;
	unsigned int type, len;
	char line[512], *p;
	FILE *f = fopen(TRACEFS "/trace", "re");

	assert_non_null(f);
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, ev);
		if (!p || !(p = strstr(p, "type=")) || sscanf(p, "type=%u", &type) != 1 ||
		    type != NC_FT_DATA || !(p = strstr(p, " len=")) ||
		    sscanf(p, " len=%u", &len) != 1)
			continue;
		bytes += len;
		(*n)++;
	}
	fclose(f);
	return bytes;
}

/*
 * The data path's tracepoints fire, with what they say: a 1 MiB transfer
 * shows its bytes in DATA frames sent and received (16 to 63 frames: the
 * socket is alone on its peer, so a frame is cut at 64 KiB, not at
 * frame_size, or at the credit left), received on the fast path (in the channel's data_ready), some
 * sent from the writer's own sendmsg() (at least the first: its queue was
 * empty), the scheduler's picks, credit both ways, and its channels coming
 * up.
 */
static void test_tracepoints(void **state)
{
	struct nc_xspec s = { .nsock = 1, .up = NC_MIB, .seed = 0x7ace };
	unsigned long tx, rx, fast, tx_fast, picks, credit_rx, credit_tx, up;
	unsigned long long tx_bytes, rx_bytes;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	nc_assert(nc_hosts_create() == 0, "fresh hosts");
	assert_int_equal(tracefs_write("trace", ""), 0);
	assert_int_equal(tracefs_write("events/netchannel/enable", "1"), 0);
	nc_assert(nc_xfer(&s, NULL) == 0, "1 MiB transfer");
	assert_int_equal(tracefs_write("events/netchannel/enable", "0"), 0);
	tx_bytes = trace_data_bytes("nc_frame_tx:", &tx);
	rx_bytes = trace_data_bytes("nc_frame_rx:", &rx);
	fast = trace_count("nc_frame_rx:", "fast=1");
	tx_fast = trace_count("nc_frame_tx:", "fast=1");
	picks = trace_count("nc_sched_pick:", NULL);
	credit_rx = trace_count("nc_credit:", "received");
	credit_tx = trace_count("nc_credit:", "granted");
	up = trace_count("nc_channel:", " up ");
	printf("# trace: %lu DATA frames sent (%llu bytes; %lu frames by the writer), %lu received (%llu bytes; %lu frames on the fast path), %lu picks, credit %lu granted / %lu received, %lu channels up\n",
	       tx, tx_bytes, tx_fast, rx, rx_bytes, fast, picks, credit_tx, credit_rx,
	       up);
	assert_true(tx_bytes >= NC_MIB && rx_bytes == tx_bytes);
	/* a socket alone on its peer sends frames of up to 64 KiB */
	assert_true(tx >= NC_MIB / 65536 && tx < NC_MIB / 16384);
	assert_true(rx == tx);
	assert_true(fast >= NC_MIB / 65536 / 2);
	assert_true(tx_fast >= 1);
	assert_true(picks >= NC_MIB / 65536);
	assert_true(credit_tx > 0 && credit_rx > 0);
	assert_true(up > 0);
	tracefs_write("trace", "");
}

/* ---------------------------------------------------------------- main */

#define T(f) cmocka_unit_test_teardown(f, nc_test_cleanup)
#define TS(name, f, st) { name, f, NULL, nc_test_cleanup, (void *)(st) }

int main(void)
{
	const struct CMUnitTest tests[] = {
		TS("xfer_1B", test_xfer_size, &size_1),
		TS("xfer_1000B", test_xfer_size, &size_1000),
		TS("xfer_64KiB_plus_7", test_xfer_size, &size_64k7),
		TS("xfer_1MiB", test_xfer_size, &size_1m),
		TS("xfer_16MiB", test_xfer_size, &size_16m),
		TS("xfer_64MiB", test_xfer_size, &size_64m),
		TS("concurrent_1x1MiB", test_concurrent, &conc_1),
		TS("concurrent_16x1MiB", test_concurrent, &conc_16),
		TS("concurrent_256x4KiB", test_concurrent, &conc_256),
		T(test_sysctls),
		TS("channels_1", test_channels, &chan_1),
		TS("channels_2", test_channels, &chan_2),
		TS("channels_4", test_channels, &chan_4),
		T(test_vns_copies),
		T(test_tracepoints),
	};

	return cmocka_run_group_tests_name("transfer", tests, nc_group_setup,
					   nc_group_teardown);
}
