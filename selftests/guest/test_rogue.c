// SPDX-License-Identifier: GPL-2.0
/*
 * A rogue peer on the channel port. NetChannel host b listens for channels
 * on 10.99.0.2:5050 (the port sysctl); anybody can open a plain TCP
 * connection there and write anything. For each kind of garbage the host
 * must drop that connection (EOF or reset within a few seconds), count it
 * under the matching /proc/net/netchannel/stats counter, and keep serving
 * real NetChannel traffic between a and b.
 *
 * Frames are built here byte by byte from the wire format in
 * kernel/nc_frame.h (only its constants are used, not its encoder), so the
 * test also checks the kernel agrees with the documented format.
 *
 * NetChannel only: with NC_PROTO=tcp every test is reported as skipped.
 */
#include "nc_net.h"
#include "nc_frame.h"

#define ROGUE_INSTANCE	0x726f677565000001ULL	/* "rogue" */
#define ROGUE_SRC_ID	77
#define ROGUE_LPORT	7000			/* NetChannel listener in b */
#define FLOOD_OPENS	10000

static uint16_t chan_port;
static int b_listener = -1;
/* the group id our HELLOs name; a test that needs several groups bumps it */
static uint64_t rogue_group = ROGUE_INSTANCE;

/* ------------------------------------------------------------ frames */

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return p + 4;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct hdr {
	uint16_t magic;
	uint8_t version;
	uint8_t type;
	uint32_t len, src, dst, seq, arg;
};

/* A 32-byte header at @out; returns the end. */
static uint8_t *frame(uint8_t *out, const struct hdr *h)
{
	uint8_t *p = out;

	p = put16(p, h->magic);
	*p++ = h->version;
	*p++ = h->type;
	p = put16(p, 0);		/* flags */
	p = put16(p, 0);		/* reserved */
	p = put32(p, h->len);
	p = put32(p, h->src);
	p = put32(p, h->dst);
	p = put32(p, h->seq);
	p = put32(p, h->arg);
	p = put32(p, 0);		/* reserved2 */
	return p;
}

/* A HELLO (channel 0 of 1) with @magic and @version; returns the end. */
static uint8_t *hello(uint8_t *out, uint16_t magic, uint8_t version)
{
	struct hdr h = {
		.magic = magic, .version = version, .type = NC_FT_HELLO,
		.len = NC_HELLO_PAYLOAD_LEN, .arg = NC_HELLO_ARG(0, 1),
	};
	uint8_t *p = frame(out, &h);

	p = put32(p, rogue_group >> 32);
	p = put32(p, (uint32_t)rogue_group);
	memset(p, 0, 8);
	return p + 8;
}

static uint8_t *valid_hello(uint8_t *out)
{
	return hello(out, NC_FRAME_MAGIC, NC_FRAME_VERSION);
}

/*
 * @n DATA frames of @len bytes from the rogue's socket to @dst at @out,
 * sequence numbers from @seq on; frame k's payload is all the byte
 * @fill(k) ('a' + seq % 26 when @fill is 0). Returns the end.
 */
static uint8_t *data_frames(uint8_t *out, uint32_t dst, uint32_t seq, uint32_t n,
			    uint32_t len, char fill)
{
	uint32_t k;

	for (k = 0; k < n; k++, seq++) {
		out = frame(out, &(struct hdr){ .magic = NC_FRAME_MAGIC,
						.version = NC_FRAME_VERSION,
						.type = NC_FT_DATA, .len = len,
						.src = ROGUE_SRC_ID, .dst = dst,
						.seq = seq });
		memset(out, fill ? (unsigned char)fill : 'a' + seq % 26, len);
		out += len;
	}
	return out;
}

/* ------------------------------------------------------- the rogue peer */

/* A plain TCP socket in a, for talking to b's channel port by hand. */
static int rogue_socket(void)
{
	int fd, e;

	nc_assert(nc_ns_enter(NC_NS_A) == 0, "enter %s", NC_NS_A);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	e = errno;
	nc_ns_leave();
	if (fd < 0)
		fail_msg("socket: %s", strerror(e));
	return fd;
}

/* What the host did with the rogue connection. */
struct outcome {
	int closed;		/* 0: still open; 1: EOF; 2: reset (ECONNRESET) */
	double secs;		/* until it was closed */
	bool reset_frame;	/* a RESET frame addressed to ROGUE_SRC_ID came */
	size_t rx;		/* bytes the host sent us */
	uint8_t buf[1 << 16];	/* the first of them */
};

/* Look for a RESET frame for ROGUE_SRC_ID in what the host sent. */
static void scan_frames(struct outcome *o)
{
	size_t off = 0, n = o->rx < sizeof(o->buf) ? o->rx : sizeof(o->buf);
	const uint8_t *p;

	while (off + NC_FRAME_HDR_LEN <= n) {
		p = o->buf + off;
		if (get16(p) != NC_FRAME_MAGIC)
			return;
		if (p[3] == NC_FT_RESET && get32(p + 16) == ROGUE_SRC_ID)
			o->reset_frame = true;
		off += NC_FRAME_HDR_LEN + get32(p + 8);
	}
}

/* Read what is there; record EOF/reset. */
static void drain(int fd, struct outcome *o, double t0)
{
	uint8_t tmp[4096];
	ssize_t n;

	while (!o->closed) {
		n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n > 0) {
			if (o->rx < sizeof(o->buf))
				memcpy(o->buf + o->rx, tmp,
				       (size_t)n < sizeof(o->buf) - o->rx ? (size_t)n :
				       sizeof(o->buf) - o->rx);
			o->rx += n;
			continue;
		}
		if (n == 0)
			o->closed = 1;
		else if (errno == ECONNRESET)
			o->closed = 2;
		else if (errno != EAGAIN)
			fail_msg("recv on the rogue connection: %s", strerror(errno));
		break;
	}
	if (o->closed)
		o->secs = nc_now() - t0;
	scan_frames(o);
}

/*
 * Connect to b's channel port with plain TCP from a, write @len bytes
 * (reading whatever comes back meanwhile), then wait up to @ms for the host
 * to close the connection (or, with @reset_ok, to send a RESET frame for
 * ROGUE_SRC_ID).
 */
static void rogue(const uint8_t *bytes, size_t len, int ms, bool reset_ok,
		  struct outcome *o)
{
	struct sockaddr_in sin = nc_sin(NC_IP_B, chan_port);
	int64_t deadline;
	size_t off = 0;
	struct pollfd p;
	ssize_t n;
	double t0;
	int fd;

	memset(o, 0, sizeof(*o));
	fd = rogue_socket();
	nc_set_timeo(fd, SO_SNDTIMEO, 10000);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		fail_msg("plain TCP connect to the channel port %s:%u: %s", NC_IP_B,
			 chan_port, strerror(errno));
	nc_set_nonblock(fd, true);
	t0 = nc_now();
	deadline = nc_now_ms() + 30000;
	while (off < len && !o->closed) {
		n = send(fd, bytes + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += n;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET) {
			o->closed = 2;	/* the host gave up on us already */
			o->secs = nc_now() - t0;
			break;
		}
		if (errno != EAGAIN)
			fail_msg("send on the rogue connection: %s", strerror(errno));
		drain(fd, o, t0);
		p = (struct pollfd){ .fd = fd, .events = POLLOUT | POLLIN };
		if (poll(&p, 1, nc_left_ms(deadline)) == 0)
			fail_msg("the host took only %zu of %zu rogue bytes in 30 s and never closed",
				 off, len);
	}
	deadline = nc_now_ms() + ms;
	while (!o->closed && !(reset_ok && o->reset_frame)) {
		drain(fd, o, t0);
		if (o->closed || (reset_ok && o->reset_frame))
			break;
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&p, 1, nc_left_ms(deadline)) == 0)
			break;
	}
	close(fd);
	printf("# rogue %zu bytes: %s after %.2f s, %zu bytes back%s\n", len,
	       o->closed == 1 ? "EOF" : o->closed == 2 ? "reset" : "still open",
	       o->closed ? o->secs : ms / 1000.0, o->rx,
	       o->reset_frame ? ", RESET frame for our socket" : "");
}

static uint64_t stat_b(const char *key)
{
	uint64_t v = 0;

	nc_assert(nc_stat_get(NC_NS_B, key, &v) == 0, "reading b's stats");
	return v;
}

/* @key of b's stats rises above @before within a second. */
static void expect_counted(const char *key, uint64_t before)
{
	int64_t deadline = nc_now_ms() + 1000;

	while (stat_b(key) <= before && nc_now_ms() < deadline)
		nc_sleep_ms(20);
	if (stat_b(key) <= before)
		fail_msg("%s stayed at %llu; b's stats: %s", key,
			 (unsigned long long)before, nc_stats_line(NC_NS_B));
}

/* Real NetChannel traffic between a and b still works, byte-exact. */
static void expect_service(uint64_t seed)
{
	struct nc_xspec s = { .nsock = 4, .up = 256 * 1024, .down = 64 * 1024,
			      .seed = seed };

	nc_assert(nc_xfer(&s, NULL) == 0, "a normal transfer after the rogue peer");
}

static void expect_dropped(const struct outcome *o, const char *what)
{
	if (!o->closed)
		fail_msg("the host kept the rogue connection (%s) open for 5 s", what);
}

/* ------------------------------------------------------------- tests */

static void test_bad_magic(void **state)
{
	uint8_t buf[64], *end;
	struct outcome *o = calloc(1, sizeof(*o));
	uint64_t before;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	before = stat_b("err_bad_magic");
	end = hello(buf, NC_FRAME_MAGIC ^ 0x0101, NC_FRAME_VERSION);
	rogue(buf, end - buf, 5000, false, o);
	expect_dropped(o, "bad magic");
	expect_counted("err_bad_magic", before);
	expect_service(0xbad1);
	free(o);
}

static void test_bad_version(void **state)
{
	uint8_t buf[64], *end;
	struct outcome *o = calloc(1, sizeof(*o));
	uint64_t before;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	before = stat_b("err_bad_version");
	end = hello(buf, NC_FRAME_MAGIC, NC_FRAME_VERSION + 1);
	rogue(buf, end - buf, 5000, false, o);
	expect_dropped(o, "bad version");
	expect_counted("err_bad_version", before);
	expect_service(0xbad2);
	free(o);
}

/* After a valid HELLO, a DATA frame claiming 64 KiB + 1 of payload. */
static void test_oversized_len(void **state)
{
	struct hdr h = { .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
			 .type = NC_FT_DATA, .len = NC_FRAME_MAX_PAYLOAD + 1,
			 .src = ROGUE_SRC_ID, .dst = 1 };
	uint8_t *buf = calloc(1, 256 + 4096), *end;
	struct outcome *o = calloc(1, sizeof(*o));
	uint64_t before;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	before = stat_b("err_bad_len");
	end = frame(valid_hello(buf), &h);
	/* some payload follows, as a real sender would write it */
	end += 4096;
	rogue(buf, end - buf, 5000, false, o);
	expect_dropped(o, "oversized length");
	expect_counted("err_bad_len", before);
	expect_service(0xbad3);
	free(buf);
	free(o);
}

/* After a valid HELLO, a frame of a type that does not exist. */
static void test_bad_type(void **state)
{
	struct hdr h = { .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
			 .type = 0x42, .src = ROGUE_SRC_ID, .dst = 1 };
	uint8_t buf[128], *end;
	struct outcome *o = calloc(1, sizeof(*o));
	uint64_t before;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	before = stat_b("err_bad_type");
	end = frame(valid_hello(buf), &h);
	rogue(buf, end - buf, 5000, false, o);
	expect_dropped(o, "bad type");
	expect_counted("err_bad_type", before);
	expect_service(0xbad4);
	free(o);
}

/*
 * After a valid HELLO of a group of one channel, a RETIRE of it: it would
 * leave the group without a channel, so the host resets it (err_retire).
 */
static void test_retire_last(void **state)
{
	struct hdr h = { .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
			 .type = NC_FT_RETIRE };
	uint8_t buf[128], *end;
	struct outcome *o = calloc(1, sizeof(*o));
	uint64_t before;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	before = stat_b("err_retire");
	end = frame(valid_hello(buf), &h);
	rogue(buf, end - buf, 5000, false, o);
	expect_dropped(o, "RETIRE of the last channel");
	expect_counted("err_retire", before);
	expect_service(0xbad9);
	free(o);
}

/*
 * After a valid HELLO, DATA for a socket id the host never gave out.
 * Accepted outcomes: the channel is dropped, or the host answers with a
 * RESET frame for our socket id (what TCP does for a segment of an unknown
 * connection; late DATA for a socket that just closed looks the same).
 */
static void test_unknown_socket(void **state)
{
	struct hdr h = { .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
			 .type = NC_FT_DATA, .len = 100, .src = ROGUE_SRC_ID,
			 .dst = 0x7fff1234 };
	uint8_t buf[256], *end;
	struct outcome *o = calloc(1, sizeof(*o));
	uint64_t before;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	before = stat_b("err_unknown_socket");
	end = frame(valid_hello(buf), &h);
	nc_gen(0x99, 0, end, 100);
	end += 100;
	rogue(buf, end - buf, 5000, true, o);
	if (!o->closed && !o->reset_frame)
		fail_msg("DATA for an unknown socket: the host neither dropped the channel nor answered with a RESET frame for socket %u within 5 s",
			 ROGUE_SRC_ID);
	expect_counted("err_unknown_socket", before);
	expect_service(0xbad5);
	free(o);
}

/*
 * The OPEN flood limit is a rate: more than FLOOD_LIMIT OPENs within one
 * second on one channel (NC_OPEN_FLOOD in kernel/nc_driver.h: a counter that
 * starts when the channel is accepted and restarts with the first OPEN
 * after a second has passed). The kernel counts an OPEN when its receive
 * work gets to it, so the rate that counts is the one the host processes
 * them at, not the one they are sent at, and that depends on the kernel
 * (a KASAN kernel in TCG is many times slower). So the rogue does what it
 * can to make the host fast, and the test measures the rate the host
 * actually achieved and checks the verdict against it:
 *
 * - all the OPENs go out at once (one buffer, a send buffer that holds it
 *   all), and the rogue reads none of the host's answers (a RESET for
 *   each refused OPEN) while it floods, with a small receive buffer: the
 *   answers fill our window and then wait in the host's queues, rather
 *   than cost a TCP segment each while the receive work needs the CPU;
 * - b's frames_rx is sampled every FLOOD_SAMPLE_MS, with the time before
 *   and after each read, so the count of OPENs processed is known within
 *   an interval of time;
 * - what must hold: if more than FLOOD_LIMIT were processed within 1 s of
 *   the connect() (all inside the kernel's first counting second), or
 *   more than 2 x FLOOD_LIMIT within any 1 s (any second overlaps at most
 *   two of the kernel's), the channel was dropped for the flood; and if
 *   it was dropped, more than FLOOD_LIMIT OPENs were processed in the
 *   FLOOD_WINDOW before it (the kernel's second is HZ + 1 jiffies) plus
 *   the sampling uncertainty: it did not fire early. Either way b serves
 *   a normal transfer afterwards.
 * On a kernel too slow to process FLOOD_LIMIT OPENs a second the channel
 * must stay up and take all of them; the test then says that the limit
 * could not be reached. Measured with the cloud kernel under
 * multi-threaded TCG: the verdict came 0.03-0.15 s after the connect(),
 * at the 4097th OPEN.
 */
#define FLOOD_LIMIT	4096	/* NC_OPEN_FLOOD in kernel/nc_driver.h */
#define FLOOD_SAMPLE_MS	5
#define FLOOD_WINDOW	1.1	/* s: the kernel's second, HZ + 1 jiffies, and
				 * jiffies may lag the clock a little in TCG */

struct flood_sample {
	double t0, t1;		/* before and after the read */
	uint64_t n;		/* b's frames_rx */
};

/* "key: N" from a stats file opened in b, re-read from the start. */
static int stats_fd_get(int fd, const char *key, uint64_t *val)
{
	char buf[4096], *p;
	size_t klen = strlen(key);
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; *p; p++) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			*val = strtoull(p + klen + 1, NULL, 10);
			return 0;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
	}
	return -1;
}

/* After a valid HELLO, FLOOD_OPENS OPENs for the listening port in a row. */
static void test_open_flood(void **state)
{
	size_t len = NC_FRAME_HDR_LEN + NC_HELLO_PAYLOAD_LEN +
		(size_t)FLOOD_OPENS * NC_FRAME_HDR_LEN, off = 0;
	struct sockaddr_in sin = nc_sin(NC_IP_B, chan_port);
	struct flood_sample *smp;
	uint8_t *buf = malloc(len), *p, tmp[4096];
	uint64_t flood0, flood1, base, got = 0, first_sec = 0, peak = 0, recent;
	int fd, sfd, e, i, j, nsmp = 0, maxsmp = 60000 / FLOOD_SAMPLE_MS + 64;
	int sndbuf = (int)len + 65536, closed = 0, drop = -1;
	double t_conn, t_all = 0, deadline;
	struct pollfd pf;
	ssize_t n;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(150);
	smp = calloc(maxsmp, sizeof(*smp));
	assert_non_null(buf);
	assert_non_null(smp);
	p = valid_hello(buf);
	for (i = 0; i < FLOOD_OPENS; i++) {
		struct hdr h = { .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
				 .type = NC_FT_OPEN, .src = 1000 + i, .seq = 0,
				 .arg = NC_OPEN_ARG(ROGUE_LPORT, 10000 + i) };

		p = frame(p, &h);
	}
	assert_int_equal(p - buf, len);

	nc_assert(nc_ns_enter(NC_NS_B) == 0, "enter %s", NC_NS_B);
	sfd = open(NC_PROC_STATS, O_RDONLY | O_CLOEXEC);	/* b's, from now on */
	e = errno;
	nc_ns_leave();
	if (sfd < 0)
		fail_msg("open %s in %s: %s", NC_PROC_STATS, NC_NS_B, strerror(e));
	assert_int_equal(stats_fd_get(sfd, "err_open_flood", &flood0), 0);
	assert_int_equal(stats_fd_get(sfd, "frames_rx", &base), 0);

	fd = rogue_socket();
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	nc_set_timeo(fd, SO_SNDTIMEO, 10000);
	t_conn = nc_now();
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		fail_msg("plain TCP connect to the channel port %s:%u: %s", NC_IP_B,
			 chan_port, strerror(errno));
	nc_set_nonblock(fd, true);

	/*
	 * Flood and watch: until the host drops us, or has processed every
	 * OPEN (then a second more, for a late verdict), or 60 s passed.
	 * The answers (RESETs once the listener's backlog is full) are read
	 * as they come: a peer that leaves them unread is throttled for that
	 * (test_unread_resets), not for flooding. EOF, POLLHUP or POLLERR
	 * tell us the host gave up.
	 */
	deadline = t_conn + 60;
	while (!closed && nc_now() < deadline && nsmp < maxsmp - 1) {
		while (off < len) {
			n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
			if (n <= 0)
				break;
			off += n;
		}
		if (off < len && n < 0 && errno != EAGAIN) {
			closed = 2;	/* EPIPE, ECONNRESET: dropped already */
			break;
		}
		while ((n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT)) > 0)
			;
		if (!n || (n < 0 && errno != EAGAIN)) {
			closed = n ? 2 : 1;
			break;
		}
		/* a sample every FLOOD_SAMPLE_MS, however often POLLOUT wakes us */
		if (!nsmp || nc_now() >= smp[nsmp - 1].t0 + FLOOD_SAMPLE_MS / 1e3) {
			smp[nsmp].t0 = nc_now();
			e = stats_fd_get(sfd, "frames_rx", &smp[nsmp].n);
			smp[nsmp].t1 = nc_now();
			assert_int_equal(e, 0);
			got = smp[nsmp].n - base;
			nsmp++;
		}
		if (got >= 1 + (uint64_t)FLOOD_OPENS) {	/* HELLO + all OPENs */
			if (!t_all)
				t_all = nc_now();
			else if (nc_now() > t_all + 1)
				break;
		}
		pf = (struct pollfd){ .fd = fd,
				      .events = POLLIN | (off < len ? POLLOUT : 0) };
		if (poll(&pf, 1, FLOOD_SAMPLE_MS) > 0 &&
		    (pf.revents & (POLLHUP | POLLERR)))
			closed = pf.revents & POLLERR ? 2 : 1;
	}
	/* the last count, after the verdict */
	nc_sleep_ms(50);
	smp[nsmp].t0 = nc_now();
	assert_int_equal(stats_fd_get(sfd, "frames_rx", &smp[nsmp].n), 0);
	smp[nsmp].t1 = nc_now();
	got = smp[nsmp].n - base;
	nsmp++;
	assert_int_equal(stats_fd_get(sfd, "err_open_flood", &flood1), 0);
	/* now read what the host answered, to the end or for 5 s */
	deadline = nc_now() + 5;
	while (!closed && nc_now() < deadline) {
		n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0 || errno == ECONNRESET) {
			closed = n ? 2 : 1;
			break;
		}
		pf = (struct pollfd){ .fd = fd, .events = POLLIN };
		poll(&pf, 1, 100);
		if (got >= 1 + (uint64_t)FLOOD_OPENS && n < 0 && errno == EAGAIN &&
		    !(pf.revents & POLLIN))
			break;		/* all answers read: the host keeps us */
	}
	close(fd);
	close(sfd);

	/*
	 * OPENS() of a count leaves the HELLO out; with a flood it includes
	 * the OPEN that tripped it (frames_rx counts a frame at dispatch,
	 * where the kernel counts OPENs). A count read between t0 and t1
	 * holds every frame processed before t0 and none processed after t1.
	 */
#define OPENS(n) ((n) - base > 1 ? (n) - base - 1 : 0)
	for (i = 0; i < nsmp; i++) {
		/* all inside the kernel's first second, which starts after t_conn */
		if (smp[i].t1 < t_conn + 1.0)
			first_sec = OPENS(smp[i].n);
		/* what fell within (t0 of i, t1 of j], no longer than a second */
		for (j = i + 1; j < nsmp && smp[j].t1 - smp[i].t0 <= 1.0; j++)
			if (OPENS(smp[j].n) - OPENS(smp[i].n) > peak)
				peak = OPENS(smp[j].n) - OPENS(smp[i].n);
		if (drop < 0 && smp[i].n - base == got)
			drop = i;	/* the last frame came after t0 of i - 1 */
	}
	got = OPENS(got + base);
	printf("# OPEN flood: b processed %llu of %d OPENs in %.2f s after connect(): %llu within the first second, at most %llu within any second measured; limit %d a second\n",
	       (unsigned long long)got, FLOOD_OPENS,
	       drop >= 0 ? smp[drop].t1 - t_conn : 0.0, (unsigned long long)first_sec,
	       (unsigned long long)peak, FLOOD_LIMIT);
	printf("# the host %s; err_open_flood %llu -> %llu\n",
	       closed == 2 ? "reset the channel" : closed == 1 ? "closed the channel" :
	       "kept the channel", (unsigned long long)flood0,
	       (unsigned long long)flood1);

	if ((first_sec > FLOOD_LIMIT || peak > 2 * FLOOD_LIMIT) &&
	    (!closed || flood1 == flood0))
		fail_msg("b processed %llu OPENs within 1 s of the connect() (at most %llu in any second) but %s (err_open_flood %llu -> %llu)",
			 (unsigned long long)first_sec, (unsigned long long)peak,
			 closed ? "did not count a flood" : "kept the channel",
			 (unsigned long long)flood0, (unsigned long long)flood1);
	if (flood1 != flood0) {
		/*
		 * Dropped for a flood: the kernel's last second began after
		 * (t0 of drop - 1) - FLOOD_WINDOW; a count read before that
		 * holds none of its OPENs.
		 */
		double since = (drop > 0 ? smp[drop - 1].t0 : t_conn) - FLOOD_WINDOW;

		if (!closed)
			fail_msg("err_open_flood rose, but the host kept the rogue channel open");
		recent = got;
		for (i = 0; i < nsmp && smp[i].t1 <= since; i++)
			recent = got - OPENS(smp[i].n);
		printf("# flood verdict after %llu OPENs, at most %llu of them in the %.2f s before it\n",
		       (unsigned long long)got, (unsigned long long)recent,
		       FLOOD_WINDOW + (drop > 0 ? smp[drop].t1 - smp[drop - 1].t0 : 0));
		if (recent <= FLOOD_LIMIT)
			fail_msg("a flood was declared after %llu OPENs, at most %llu of them in the second before it (limit %d)",
				 (unsigned long long)got, (unsigned long long)recent,
				 FLOOD_LIMIT);
	} else {
		/* no flood at this host's pace: then it must take every OPEN */
		if (closed || got != FLOOD_OPENS)
			fail_msg("no flood counted, but the host %s after %llu of %d OPENs",
				 closed ? "dropped the channel" : "stopped processing",
				 (unsigned long long)got, FLOOD_OPENS);
		printf("# this host processed at most %llu OPENs a second: the limit (%d) was not reached; checked only that it did not fire\n",
		       (unsigned long long)(peak > first_sec ? peak : first_sec), FLOOD_LIMIT);
	}
#undef OPENS
	expect_service(0xbad6);
	free(smp);
	free(buf);
}

/*
 * A rogue that speaks the protocol: HELLO, OPEN to b's listener, and wait
 * for the ACCEPT; returns the connected fd and the id b gave its socket.
 */
static int rogue_open(uint32_t *server_id)
{
	struct hdr open = { .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
			    .type = NC_FT_OPEN, .src = ROGUE_SRC_ID,
			    .arg = NC_OPEN_ARG(ROGUE_LPORT, 12345) };
	struct sockaddr_in sin = nc_sin(NC_IP_B, chan_port);
	uint8_t buf[128], hdr[NC_FRAME_HDR_LEN], *end;
	int64_t deadline = nc_now_ms() + 5000;
	ssize_t n;
	size_t got;
	int fd;

	fd = rogue_socket();
	nc_set_timeo(fd, SO_RCVTIMEO, 5000);
	nc_set_timeo(fd, SO_SNDTIMEO, 5000);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		fail_msg("connect to the channel port: %s", strerror(errno));
	end = frame(valid_hello(buf), &open);
	if (send(fd, buf, end - buf, MSG_NOSIGNAL) != end - buf)
		fail_msg("sending HELLO and OPEN: %s", strerror(errno));
	/* b answers ACCEPT (src: its socket's id) then CREDIT */
	while (nc_now_ms() < deadline) {
		for (got = 0; got < sizeof(hdr); got += n) {
			n = recv(fd, hdr + got, sizeof(hdr) - got, 0);
			if (n <= 0)
				fail_msg("waiting for ACCEPT: %s",
					 n ? strerror(errno) : "EOF");
		}
		if (get32(hdr + 8))
			fail_msg("a control frame with a payload");
		if (hdr[3] == NC_FT_ACCEPT && get32(hdr + 16) == ROGUE_SRC_ID) {
			*server_id = get32(hdr + 12);
			return fd;
		}
		if (hdr[3] == NC_FT_RESET)
			fail_msg("b refused our OPEN (RESET, errno %u)", get32(hdr + 24));
	}
	fail_msg("no ACCEPT within 5 s");
	return -1;
}

/* Wait up to @ms for b to drop @fd; then close it. */
static void rogue_wait_dropped(int fd, int ms, const char *what)
{
	struct outcome *o = calloc(1, sizeof(*o));
	int64_t deadline = nc_now_ms() + ms;
	double t0 = nc_now();
	struct pollfd p;

	assert_non_null(o);
	nc_set_nonblock(fd, true);
	while (!o->closed) {
		drain(fd, o, t0);
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (o->closed || poll(&p, 1, nc_left_ms(deadline)) == 0)
			break;
	}
	close(fd);
	printf("# %s: %s after %.2f s\n", what,
	       o->closed == 1 ? "EOF" : o->closed == 2 ? "reset" : "still open",
	       o->closed ? o->secs : ms / 1000.0);
	expect_dropped(o, what);
	free(o);
}

/* A connected rogue sends DATA far outside the receive window. */
static void test_seq_window(void **state)
{
	uint8_t buf[NC_FRAME_HDR_LEN + 10], *end;
	uint32_t server_id;
	uint64_t before;
	int fd;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	before = stat_b("err_seq_window");
	fd = rogue_open(&server_id);
	end = frame(buf, &(struct hdr){ .magic = NC_FRAME_MAGIC,
					.version = NC_FRAME_VERSION,
					.type = NC_FT_DATA, .len = 10,
					.src = ROGUE_SRC_ID, .dst = server_id,
					.seq = 0x40000000 });
	memset(end, 'x', 10);
	end += 10;
	if (send(fd, buf, end - buf, MSG_NOSIGNAL) != end - buf)
		fail_msg("sending DATA: %s", strerror(errno));
	rogue_wait_dropped(fd, 5000, "DATA outside the window");
	expect_counted("err_seq_window", before);
	expect_service(0xbad7);
}

/*
 * A RESET's reason is the peer's to give, but only among the errors TCP
 * reports: a kernel-internal errno (ERESTARTSYS, 512) or garbage must reach
 * the app as ECONNRESET, never as itself.
 */
static void test_reset_errno(void **state)
{
	/* within the frame format's range (1..NC_RESET_MAX_ERRNO) */
	static const uint32_t args[] = { 512, NC_RESET_MAX_ERRNO, EPERM, ECONNREFUSED };
	static const int want[] = { ECONNRESET, ECONNRESET, ECONNRESET, ECONNREFUSED };
	uint64_t bad_arg = stat_b("err_bad_arg");
	uint8_t buf[NC_FRAME_HDR_LEN];
	uint32_t server_id;
	unsigned int i;
	int fd, afd;
	char c;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		rogue_group = ROGUE_INSTANCE + 1 + i;	/* a group of its own */
		fd = rogue_open(&server_id);
		afd = nc_accept_timeout(b_listener, 5000);
		nc_assert(afd >= 0, "accept the rogue's connection");
		frame(buf, &(struct hdr){ .magic = NC_FRAME_MAGIC,
					  .version = NC_FRAME_VERSION,
					  .type = NC_FT_RESET, .src = ROGUE_SRC_ID,
					  .dst = server_id, .arg = args[i] });
		assert_int_equal(send(fd, buf, sizeof(buf), MSG_NOSIGNAL), sizeof(buf));
		nc_set_timeo(afd, SO_RCVTIMEO, 5000);
		errno = 0;
		assert_int_equal(recv(afd, &c, 1, 0), -1);
		if (errno != want[i])
			fail_msg("RESET with arg %u: recv() failed with %d (%s), want %s",
				 args[i], errno, strerror(errno), strerror(want[i]));
		close(afd);
		close(fd);
	}
	rogue_group = ROGUE_INSTANCE;
	/* each was taken as a RESET, not refused as a malformed frame */
	assert_int_equal(stat_b("err_bad_arg"), bad_arg);
	expect_service(0xe77);
}

/*
 * A connected rogue ignores flow control: it sends more than the window
 * b granted (1 MiB, net.netchannel.rcv_window) to a socket nobody reads.
 * b must drop it rather than buffer without bound.
 */
static void test_credit_overrun(void **state)
{
	const uint32_t chunk = 65536, frames = (2u << 20) / chunk;
	uint8_t *buf = calloc(1, NC_FRAME_HDR_LEN + chunk);
	uint32_t server_id, i;
	uint64_t before;
	int fd;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	assert_non_null(buf);
	before = stat_b("err_credit");
	fd = rogue_open(&server_id);
	for (i = 0; i < frames; i++) {
		frame(buf, &(struct hdr){ .magic = NC_FRAME_MAGIC,
					  .version = NC_FRAME_VERSION,
					  .type = NC_FT_DATA, .len = chunk,
					  .src = ROGUE_SRC_ID, .dst = server_id,
					  .seq = i });
		if (send(fd, buf, NC_FRAME_HDR_LEN + chunk, MSG_NOSIGNAL) < 0)
			break;		/* dropped already */
	}
	rogue_wait_dropped(fd, 5000, "DATA beyond the credit granted");
	expect_counted("err_credit", before);
	expect_service(0xbad8);
	free(buf);
}

/*
 * A connected rogue sends 1-byte DATA frames with the first one withheld,
 * so the host must hold every one out of order. Each frame costs at least
 * NC_FRAME_MIN_COST of credit, so the window (1 MiB) admits at most 4096 of
 * them: the host drops the rogue then, instead of keeping a window's worth
 * of tiny skbs (about a million, ~1 GB of slab, with a quadratic insertion).
 */
static void test_ooo_tiny_frames(void **state)
{
	const uint32_t frames = 3 * (1u << 20) / NC_FRAME_MIN_COST;
	uint8_t buf[64 * (NC_FRAME_HDR_LEN + 1)], *p;
	uint64_t before = stat_b("err_credit") + stat_b("err_seq_window");
	uint32_t server_id, seq = 1;
	int fd;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	fd = rogue_open(&server_id);
	while (seq < frames) {
		p = data_frames(buf, server_id, seq, 64, 1, 'x');
		seq += 64;
		if (send(fd, buf, p - buf, MSG_NOSIGNAL) < 0)
			break;		/* dropped already */
	}
	printf("# sent %u tiny frames out of order\n", seq - 1);
	rogue_wait_dropped(fd, 10000, "a window of 1-byte frames out of order");
	if (stat_b("err_credit") + stat_b("err_seq_window") <= before)
		fail_msg("neither err_credit nor err_seq_window counted; b's stats: %s",
			 nc_stats_line(NC_NS_B));
	expect_service(0x00f);
}

/*
 * The receive path parses frames from TCP's skbs as they come. A DATA
 * header that ends exactly where a TCP segment ends, its payload in the
 * next segments: the payload (over 1 KiB, taken by reference) must still
 * arrive whole. An earlier parser asked for zero bytes at the end of the
 * first segment, pskb_extract() failed ("Not enough bytes to eat") and the
 * channel stalled for good.
 */
static void test_split_header(void **state)
{
	enum { NR = 4, LEN = 4096 };
	uint8_t hdr[NC_FRAME_HDR_LEN], payload[LEN], got[NR * LEN];
	uint32_t server_id, i;
	size_t have = 0;
	int fd, afd, one = 1;
	ssize_t n;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(60);
	fd = rogue_open(&server_id);
	afd = nc_accept_timeout(b_listener, 5000);
	nc_assert(afd >= 0, "accept the rogue's connection");
	assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	for (i = 0; i < NR; i++) {
		frame(hdr, &(struct hdr){ .magic = NC_FRAME_MAGIC,
					  .version = NC_FRAME_VERSION,
					  .type = NC_FT_DATA, .len = LEN,
					  .src = ROGUE_SRC_ID, .dst = server_id,
					  .seq = i });
		memset(payload, 'a' + i, sizeof(payload));
		/* apart, so that each is a segment of its own */
		assert_int_equal(send(fd, hdr, sizeof(hdr), MSG_NOSIGNAL), sizeof(hdr));
		nc_sleep_ms(20);
		assert_int_equal(send(fd, payload, LEN / 2, MSG_NOSIGNAL), LEN / 2);
		nc_sleep_ms(20);
		assert_int_equal(send(fd, payload + LEN / 2, LEN / 2, MSG_NOSIGNAL), LEN / 2);
		nc_sleep_ms(20);
	}
	nc_set_timeo(afd, SO_RCVTIMEO, 5000);
	while (have < sizeof(got)) {
		n = recv(afd, got + have, sizeof(got) - have, 0);
		if (n <= 0)
			fail_msg("received %zu of %zu bytes: %s", have, sizeof(got),
				 n ? strerror(errno) : "EOF");
		have += n;
	}
	for (i = 0; i < NR * LEN; i++)
		if (got[i] != 'a' + i / LEN)
			fail_msg("byte %u is '%c', want '%c'", i, got[i], 'a' + i / LEN);
	close(afd);
	close(fd);
	expect_service(0x5b1);
}

/* ------------------------------------------------------------ fixtures */

static int group_setup(void **state)
{
	long port;

	if (nc_proto_tcp()) {
		printf("# test_rogue: netchannel only; NC_PROTO=tcp, every test is skipped\n");
		return 0;
	}
	if (nc_group_setup(state))
		return -1;
	if (nc_sysctl_get(NC_NS_B, "port", &port)) {
		fprintf(stderr, "%s\n", nc_err);
		return -1;
	}
	chan_port = (uint16_t)port;
	/*
	 * Tests count b's frames_rx (test_open_flood): a's group, grown by
	 * a test's transfer, retiring a channel later would add its RETIRE.
	 */
	if (nc_sysctl_set(NC_NS_A, "channel_idle_ms", "0")) {
		fprintf(stderr, "%s\n", nc_err);
		return -1;
	}
	/* a NetChannel listener in b, so that b's channel port is open */
	b_listener = nc_listen_in(NC_NS_B, ROGUE_LPORT, 16);
	if (b_listener < 0) {
		fprintf(stderr, "%s\n", nc_err);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	if (nc_proto_tcp())
		return 0;
	close(b_listener);
	return nc_group_teardown(state);
}

/* The longest control queue of b's channels now (/proc/net/netchannel/channels). */
static unsigned int b_ctrlq_max(void)
{
	unsigned int ctrlq, max = 0;
	char line[512];
	FILE *f;

	if (nc_ns_enter(NC_NS_B))
		return 0;
	f = fopen("/proc/net/netchannel/channels", "r");
	nc_ns_leave();
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %u", &ctrlq) == 1 &&
		    ctrlq > max)
			max = ctrlq;
	fclose(f);
	return max;
}

/*
 * A rogue that asks for answers and never reads them: OPENs for a port
 * nobody listens on, each refused with a RESET, at half the flood limit.
 * Once the channel's TCP buffers are full the RESETs would wait in the
 * host's memory; instead the host stops reading the channel while 1024 of
 * them wait (rx_throttled), so the queue stays bounded and OPENs stay
 * unread in its socket (our writes stall once that is full), and TCP's
 * user timeout ends the channel whose window stays shut.
 */
static void test_unread_resets(void **state)
{
	struct hdr open = { .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
			    .type = NC_FT_OPEN, .src = ROGUE_SRC_ID,
			    .arg = NC_OPEN_ARG(ROGUE_LPORT + 1, 12345) };
	struct sockaddr_in sin = nc_sin(NC_IP_B, chan_port);
	uint64_t throttled = stat_b("rx_throttled"), refused0 = stat_b("opens_refused");
	uint8_t buf[20 * NC_FRAME_HDR_LEN + 64], *end;
	int64_t t0 = nc_now_ms(), deadline = t0 + 60000, stalled = 0;
	int fd, rcvbuf = 4096, sent = 0, i;
	unsigned int ctrlq, ctrlq_max = 0;
	uint64_t refused_stall = 0;
	bool dropped = false;
	ssize_t n;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(90);
	fd = rogue_socket();
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		fail_msg("connect to the channel port: %s", strerror(errno));
	end = valid_hello(buf);
	assert_int_equal(send(fd, buf, end - buf, MSG_NOSIGNAL), end - buf);
	/* 20 OPENs every 10 ms: 2000 a second, half of NC_OPEN_FLOOD */
	for (end = buf, i = 0; i < 20; i++)
		end = frame(end, &open);
	while (!dropped && nc_now_ms() < deadline) {
		n = send(fd, buf, end - buf, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			dropped = true;
		else if (n > 0)
			sent += n / NC_FRAME_HDR_LEN;
		if (n > 0 && n != end - buf)	/* keep whole frames */
			dropped = send(fd, buf + n, end - buf - n, MSG_NOSIGNAL) < 0;
		if (n < 0 && !dropped && !stalled) {	/* our writes stall */
			stalled = nc_now_ms();
			refused_stall = stat_b("opens_refused");
		}
		ctrlq = b_ctrlq_max();
		if (ctrlq > ctrlq_max)
			ctrlq_max = ctrlq;
		nc_sleep_ms(10);
	}
	close(fd);
	printf("# %d OPENs sent, %llu refused; longest control queue %u\n", sent,
	       (unsigned long long)(stat_b("opens_refused") - refused0), ctrlq_max);
	if (stalled)
		printf("# our writes stalled after %.1f s (%llu refused then); dropped %.1f s later\n",
		       (stalled - t0) / 1e3,
		       (unsigned long long)(refused_stall - refused0),
		       (nc_now_ms() - stalled) / 1e3);
	/* what the host answered is bounded by what it read, not by what we sent */
	if (stat_b("opens_refused") - refused0 >= (uint64_t)sent)
		fail_msg("the host answered all %d OPENs of a peer that reads no answer", sent);
	if (ctrlq_max > 1024 + 64)
		fail_msg("a channel's control queue grew to %u (bound: 1024 answers)", ctrlq_max);
	if (!dropped)
		fail_msg("the host kept a channel whose window stayed shut for 60 s; b's stats: %s",
			 nc_stats_line(NC_NS_B));
	if (stat_b("rx_throttled") <= throttled)
		fail_msg("rx_throttled stayed at %llu", (unsigned long long)throttled);
	expect_service(0x5e7);
}

/*
 * A peer that keeps sending to a socket this host has closed gets one RESET
 * for the burst, not one per frame: the first is on its way, in order, and
 * a peer that sends without reading would otherwise make the host queue an
 * answer for every frame (stale_frames counts them all, stale_resets the
 * answers).
 */
static void test_stale_resets_coalesced(void **state)
{
	enum { NR = 256, LEN = 8 };
	uint8_t buf[NR * (NC_FRAME_HDR_LEN + LEN)], *p;
	uint64_t stale0, resets0, stale = 0;
	int64_t deadline;
	uint32_t server_id;
	int fd, afd;
	char c;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	fd = rogue_open(&server_id);
	afd = nc_accept_timeout(b_listener, 5000);
	nc_assert(afd >= 0, "accept the rogue's connection");
	/* the rogue resets it, b's app closes it: the id is stale from now */
	frame(buf, &(struct hdr){ .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
				  .type = NC_FT_RESET, .src = ROGUE_SRC_ID,
				  .dst = server_id, .arg = ECONNRESET });
	assert_int_equal(send(fd, buf, NC_FRAME_HDR_LEN, MSG_NOSIGNAL), NC_FRAME_HDR_LEN);
	nc_set_timeo(afd, SO_RCVTIMEO, 5000);
	assert_int_equal(recv(afd, &c, 1, 0), -1);
	assert_int_equal(errno, ECONNRESET);
	close(afd);
	deadline = nc_now_ms() + 10000;
	while (stat_b("sockets") > 1 && nc_now_ms() < deadline)	/* the listener */
		nc_sleep_ms(20);
	assert_int_equal(stat_b("sockets"), 1);

	stale0 = stat_b("stale_frames");
	resets0 = stat_b("stale_resets");
	p = data_frames(buf, server_id, 0, NR, LEN, 'x');
	assert_int_equal(send(fd, buf, p - buf, MSG_NOSIGNAL), p - buf);
	deadline = nc_now_ms() + 20000;
	while ((stale = stat_b("stale_frames") - stale0) < NR && nc_now_ms() < deadline)
		nc_sleep_ms(20);
	printf("# %llu stale frames, %llu RESETs\n", (unsigned long long)stale,
	       (unsigned long long)(stat_b("stale_resets") - resets0));
	if (stale != NR)
		fail_msg("b counted %llu of %d stale frames; b's stats: %s",
			 (unsigned long long)stale, NR, nc_stats_line(NC_NS_B));
	assert_int_equal(stat_b("stale_resets") - resets0, 1);
	close(fd);
	expect_service(0x57a1e);
}

/*
 * What a peer's out-of-order frames cost the host: a window's worth of
 * frames with the first one withheld, for a socket whose app reads
 * nothing yet. Every held frame is charged to the socket (its truesize in
 * sk_rmem_alloc), in order or not, and the charge stays within the socket's
 * receive buffer; once the first frame comes, everything is delivered
 * in order and the reader gets every byte; after reading, nothing is left
 * charged.
 */
struct ooo_case {
	uint32_t len;		/* payload of each frame */
	uint32_t frames;	/* frames sent, all but seq 0 first */
};

static void test_ooo_memory(void **state)
{
	static const struct ooo_case cases[] = {
		{ 4096, (1u << 20) / 4096 },		/* taken by reference */
		{ 513, (1u << 20) / NC_FRAME_MIN_COST },	/* the smallest so */
		{ 512, (1u << 20) / NC_FRAME_MIN_COST },	/* the largest copied */
		{ 1, (1u << 20) / NC_FRAME_MIN_COST },	/* copied, 1 byte each */
	};
	uint8_t *buf, *p;
	unsigned int k;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(180);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct ooo_case *c = &cases[k];
		size_t flen = NC_FRAME_HDR_LEN + c->len, total = (size_t)c->len * c->frames;
		uint64_t rx0 = stat_b("frames_rx");
		uint32_t server_id, seq;
		int fd, afd, rcvbuf = 0;
		socklen_t sl = sizeof(rcvbuf);
		long rmem, rmem_read;
		int64_t deadline;
		char *got;
		ssize_t n;

		rogue_group = ROGUE_INSTANCE + 16 + k;	/* a group of its own */
		fd = rogue_open(&server_id);
		afd = nc_accept_timeout(b_listener, 5000);
		nc_assert(afd >= 0, "accept the rogue's connection");
		getsockopt(afd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &sl);
		buf = malloc(flen * c->frames);
		assert_non_null(buf);
		p = data_frames(buf, server_id, 1, c->frames - 1, c->len, 0);
		nc_assert(nc_send_all(fd, buf, p - buf, 30000) == 0,
			  "send %u frames out of order", c->frames - 1);
		deadline = nc_now_ms() + 30000;
		while (stat_b("frames_rx") - rx0 < c->frames - 1 && nc_now_ms() < deadline)
			nc_sleep_ms(20);
		rmem = nc_sock_rmem(NC_NS_B, server_id);
		printf("# %u frames of %u bytes held out of order: %ld bytes charged (%.2f per payload byte), SO_RCVBUF %d\n",
		       c->frames - 1, c->len, rmem, (double)rmem / (total - c->len), rcvbuf);
		if (rmem < (long)(total - c->len))
			fail_msg("only %ld bytes charged for %zu bytes held", rmem, total - c->len);
		if (rmem > rcvbuf)
			fail_msg("%ld bytes charged, over the socket's receive buffer (%d)",
				 rmem, rcvbuf);
		/* the first frame: all of it in order to the reader */
		data_frames(buf, server_id, 0, 1, c->len, 0);
		nc_assert(nc_send_all(fd, buf, flen, 5000) == 0, "send the first frame");
		got = malloc(total);
		assert_non_null(got);
		n = nc_recv_all(afd, got, total, 30000);
		assert_int_equal(n, (ssize_t)total);
		for (seq = 0; seq < c->frames; seq++)
			if (got[(size_t)seq * c->len] != (char)('a' + seq % 26) ||
			    got[(size_t)seq * c->len + c->len - 1] != (char)('a' + seq % 26))
				fail_msg("frame %u arrived out of place", seq);
		rmem_read = nc_sock_rmem(NC_NS_B, server_id);
		assert_int_equal(rmem_read, 0);
		free(got);
		free(buf);
		close(afd);
		close(fd);
	}
	rogue_group = ROGUE_INSTANCE;
	expect_service(0x0e11);
}

/* What a rogue receiver saw of the host's DATA on its channel. */
struct inflight_batch {
	uint64_t wire;		/* DATA bytes, header and payload */
	unsigned int frames;	/* DATA frames */
	unsigned int ackreq;	/* of them flagged NC_FF_ACKREQ */
	bool last_ackreq;	/* the last one was */
	bool closed;		/* the host closed or reset the channel */
};

/*
 * Read the host's frames on @fd until none came for @quiet_ms: the DATA
 * that a sender at its in-flight limit let go. Other frames (CREDIT,
 * ACK) are skipped.
 */
static void read_batch(int fd, int quiet_ms, struct inflight_batch *b)
{
	uint8_t hdr[NC_FRAME_HDR_LEN];
	static uint8_t payload[NC_FRAME_MAX_PAYLOAD];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint32_t len;

	memset(b, 0, sizeof(*b));
	while (poll(&p, 1, quiet_ms) == 1) {
		if (nc_recv_all(fd, hdr, sizeof(hdr), 5000) != sizeof(hdr)) {
			b->closed = true;
			break;
		}
		nc_assert(get16(hdr) == NC_FRAME_MAGIC, "the host's frames are framed");
		len = get32(hdr + 8);
		nc_assert(len <= sizeof(payload), "a frame of %u bytes", len);
		if (len)
			nc_assert(nc_recv_all(fd, payload, len, 5000) == (ssize_t)len,
				  "a payload of %u bytes", len);
		if (hdr[3] != NC_FT_DATA)
			continue;
		b->wire += NC_FRAME_HDR_LEN + len;
		b->frames++;
		b->last_ackreq = get16(hdr + 4) & NC_FF_ACKREQ;
		b->ackreq += b->last_ackreq;
	}
}

static void send_ack(int fd, uint32_t count)
{
	uint8_t buf[NC_FRAME_HDR_LEN], *end;

	end = frame(buf, &(struct hdr){ .magic = NC_FRAME_MAGIC,
					.version = NC_FRAME_VERSION,
					.type = NC_FT_ACK, .arg = count });
	nc_assert(send(fd, buf, end - buf, MSG_NOSIGNAL) == end - buf, "send ACK");
}

/*
 * The in-flight bound: a host sends a channel no more than its limit (16
 * KiB to start) and one frame beyond what the peer acknowledged, however
 * much credit the socket has; the frame that reaches the limit asks for
 * an ACK, and the ACK lets the next batch go. An ACK of more than was
 * sent resets the channel (err_ack).
 */
#define INFLIGHT_START	(16 * 1024)	/* NC_INFLIGHT_MIN */
#define INFLIGHT_MAX	(4 << 20)	/* NC_INFLIGHT_MAX */

static void test_inflight_bound(void **state)
{
	uint8_t credit[NC_FRAME_HDR_LEN], *end;
	static uint8_t data[2 << 20];
	struct inflight_batch b1, b2, b3;
	uint64_t acked, before;
	uint32_t server_id;
	int fd, afd;
	ssize_t n;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	rogue_group = ROGUE_INSTANCE + 32;
	fd = rogue_open(&server_id);
	afd = nc_accept_timeout(b_listener, 5000);
	nc_assert(afd >= 0, "accept the rogue's connection");
	/* credit far beyond the bound: only the channel's limit holds b back */
	end = frame(credit, &(struct hdr){ .magic = NC_FRAME_MAGIC,
					   .version = NC_FRAME_VERSION,
					   .type = NC_FT_CREDIT, .src = ROGUE_SRC_ID,
					   .dst = server_id, .arg = 64 << 20 });
	nc_assert(send(fd, credit, end - credit, MSG_NOSIGNAL) == end - credit,
		  "send CREDIT");
	nc_set_nonblock(afd, true);
	n = send(afd, data, sizeof(data), MSG_NOSIGNAL);
	nc_assert(n > 2 * INFLIGHT_START, "b's app wrote %zd bytes", n);

	read_batch(fd, 500, &b1);
	nc_assert(!b1.closed, "b dropped a well-behaved rogue");
	printf("# no ACK: b sent %u DATA frames, %llu bytes; %u asked for an ACK (the last: %s)\n",
	       b1.frames, (unsigned long long)b1.wire, b1.ackreq, b1.last_ackreq ? "yes" : "no");
	nc_assert(b1.frames > 0, "b sent nothing");
	if (b1.wire > INFLIGHT_START + NC_FRAME_HDR_LEN + NC_FRAME_MAX_PAYLOAD)
		fail_msg("b sent %llu bytes unacknowledged, over its limit (%u) and a frame",
			 (unsigned long long)b1.wire, INFLIGHT_START);
	nc_assert(b1.last_ackreq, "the frame that reached the limit asks for an ACK");

	acked = b1.wire;
	send_ack(fd, (uint32_t)acked);
	read_batch(fd, 500, &b2);
	nc_assert(!b2.closed, "b dropped the rogue after a right ACK");
	printf("# ACK of %llu: b sent %u frames, %llu bytes more (the last asked for an ACK: %s)\n",
	       (unsigned long long)acked, b2.frames, (unsigned long long)b2.wire,
	       b2.last_ackreq ? "yes" : "no");
	nc_assert(b2.frames > 0, "the ACK did not let b send on");
	nc_assert(b2.last_ackreq, "b stopped without asking for an ACK");
	if (b2.wire > INFLIGHT_MAX + NC_FRAME_HDR_LEN + NC_FRAME_MAX_PAYLOAD)
		fail_msg("b sent %llu bytes after one ACK", (unsigned long long)b2.wire);

	/* an ACK of a byte more than b sent */
	before = stat_b("err_ack");
	send_ack(fd, (uint32_t)(acked + b2.wire + 1));
	read_batch(fd, 300, &b3);
	nc_assert(b3.frames == 0, "b sent DATA after a bogus ACK");
	if (b3.closed)
		close(fd);
	else
		rogue_wait_dropped(fd, 5000, "an ACK of more than was sent");
	expect_counted("err_ack", before);
	close(afd);
	rogue_group = ROGUE_INSTANCE;
	expect_service(0xac4);
}

/*
 * A rogue channel of group @group, channel @idx of @n, connected to b's
 * channel port; b's ACK of 0 bytes (its answer to every HELLO) is read.
 */
static int rogue_channel(uint64_t group, uint32_t idx, uint32_t n)
{
	struct hdr h = { .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
			 .type = NC_FT_HELLO, .len = NC_HELLO_PAYLOAD_LEN,
			 .arg = NC_HELLO_ARG(idx, n) };
	struct sockaddr_in sin = nc_sin(NC_IP_B, chan_port);
	uint8_t buf[64], *p, hdr[NC_FRAME_HDR_LEN];
	int fd = rogue_socket();

	nc_set_timeo(fd, SO_RCVTIMEO, 5000);
	nc_set_timeo(fd, SO_SNDTIMEO, 5000);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		fail_msg("connect to the channel port: %s", strerror(errno));
	p = frame(buf, &h);
	p = put32(p, group >> 32);
	p = put32(p, (uint32_t)group);
	memset(p, 0, 8);
	p += 8;
	if (send(fd, buf, p - buf, MSG_NOSIGNAL) != p - buf)
		fail_msg("sending HELLO %u of %u: %s", idx, n, strerror(errno));
	if (recv(fd, hdr, sizeof(hdr), MSG_WAITALL) != sizeof(hdr) ||
	    hdr[3] != NC_FT_ACK)
		fail_msg("no ACK for HELLO %u of %u", idx, n);
	return fd;
}

/* The next frame header on @fd within 5 s: 1, or 0 at EOF (fails else). */
static int read_hdr(int fd, uint8_t hdr[NC_FRAME_HDR_LEN])
{
	ssize_t n = recv(fd, hdr, NC_FRAME_HDR_LEN, MSG_WAITALL);

	if (n == 0)
		return 0;
	if (n != NC_FRAME_HDR_LEN)
		fail_msg("reading a frame: %s", n < 0 ? strerror(errno) : "short");
	return 1;
}

/*
 * The acceptor's half of a retirement, against a hand-written initiator
 * with a group of two channels: a RETIRE on channel 1 is answered with a
 * RETIRE as b's last frame there, then b closes it; channel 0 goes on (an
 * OPEN is accepted); index 1 can be connected again. A frame after a
 * RETIRE resets the group (err_retire).
 */
static void test_retire_protocol(void **state)
{
	struct hdr retire = { .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
			      .type = NC_FT_RETIRE };
	struct hdr ack = { .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
			   .type = NC_FT_ACK };
	struct hdr open = { .magic = NC_FRAME_MAGIC, .version = NC_FRAME_VERSION,
			    .type = NC_FT_OPEN, .src = ROGUE_SRC_ID,
			    .arg = NC_OPEN_ARG(ROGUE_LPORT, 12345) };
	uint64_t group = ROGUE_INSTANCE + 0x7e7, errs = stat_b("err_retire");
	uint8_t buf[2 * NC_FRAME_HDR_LEN], hdr[NC_FRAME_HDR_LEN], *end;
	int fd0, fd1, frames = 0;

	SKIP_UNLESS_NETCHANNEL();
	nc_watchdog(120);
	fd0 = rogue_channel(group, 0, 2);
	fd1 = rogue_channel(group, 1, 2);
	end = frame(buf, &retire);
	assert_int_equal(send(fd1, buf, end - buf, MSG_NOSIGNAL), end - buf);
	while (read_hdr(fd1, hdr)) {
		frames++;
		nc_assert(hdr[3] == NC_FT_RETIRE,
			  "b sent a frame of type %u on the retired channel", hdr[3]);
	}
	printf("# RETIRE on channel 1: %d frame(s) back, then EOF\n", frames);
	assert_int_equal(frames, 1);
	close(fd1);
	/* the group goes on over channel 0 */
	end = frame(buf, &open);
	assert_int_equal(send(fd0, buf, end - buf, MSG_NOSIGNAL), end - buf);
	assert_int_equal(read_hdr(fd0, hdr), 1);
	nc_assert(hdr[3] == NC_FT_ACCEPT,
		  "b answered the OPEN with a frame of type %u", hdr[3]);
	/* index 1 again; then a frame after its RETIRE */
	fd1 = rogue_channel(group, 1, 2);
	end = frame(frame(buf, &retire), &ack);
	assert_int_equal(send(fd1, buf, end - buf, MSG_NOSIGNAL), end - buf);
	expect_counted("err_retire", errs);
	rogue_wait_dropped(fd0, 5000, "a frame after RETIRE");
	close(fd1);
	expect_service(0x7e7);
}

/* Per-test cleanup (which closes every socket), then b's listener again. */
static int test_cleanup(void **state)
{
	nc_test_cleanup(state);
	if (nc_proto_tcp())
		return 0;
	b_listener = nc_listen_in(NC_NS_B, ROGUE_LPORT, 16);
	if (b_listener < 0) {
		fprintf(stderr, "%s\n", nc_err);
		return -1;
	}
	return 0;
}

#define T(f) cmocka_unit_test_teardown(f, test_cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bad_magic),
		T(test_bad_version),
		T(test_seq_window),
		T(test_credit_overrun),
		T(test_oversized_len),
		T(test_bad_type),
		T(test_retire_last),
		T(test_retire_protocol),
		T(test_unknown_socket),
		T(test_open_flood),
		T(test_unread_resets),
		T(test_stale_resets_coalesced),
		T(test_reset_errno),
		T(test_ooo_tiny_frames),
		T(test_ooo_memory),
		T(test_split_header),
		T(test_inflight_bound),
	};

	return cmocka_run_group_tests_name("rogue", tests, group_setup, group_teardown);
}
