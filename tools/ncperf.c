// SPDX-License-Identifier: GPL-2.0
/*
 * ncperf: throughput and latency benchmark for NetChannel and plain TCP.
 *
 * One program, two roles. `ncperf server` accepts any number of clients (a
 * thread per connection) and either swallows a byte stream (bulk) or echoes
 * fixed-size messages (rr). `ncperf client` runs one of three modes against
 * it:
 *
 *   bulk  N sockets stream data for --seconds (or --bytes); throughput is
 *         measured up to the server's acknowledgement of the byte count, so
 *         data still sitting in socket buffers is not counted as delivered.
 *   rr    closed-loop request/response of --size byte messages; rate and
 *         latency percentiles from a log-linear histogram (below).
 *   mix   one latency-sensitive "L-app" process doing small rr next to
 *         --tapps throughput-hungry "T-app" processes streaming bulk, each
 *         optionally moved into its own cgroup before it opens a socket, so a
 *         NetScheduler policy can tell them apart by cgroup id.
 *
 * The socket protocol is the only difference between the two stacks: plain
 * TCP is socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), NetChannel is the same
 * with IPPROTO_NETCHANNEL. Everything is bounded: socket send/receive
 * timeouts, a run length, and a hard alarm() that ends a stuck client.
 *
 * Wire protocol (all integers big-endian): the client sends a 24-byte hello
 * (magic, version, kind, message size, connections in this run, session id),
 * the server answers with its 4-byte magic. Bulk: the client streams and
 * shuts down its sending side; the server answers with the 8-byte count of
 * bytes it received. Rr: the server echoes every --size byte message.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uapi/netchannel.h"

#define NCP_MAGIC	0x4e435046u	/* "NCPF" */
#define NCP_VERSION	1
#define NCP_SINK	1		/* bulk: count and discard, reply count */
#define NCP_ECHO	2		/* rr: echo msg_size byte messages */
#define HELLO_LEN	24
#define MAX_MSG		(16u << 20)
#define MAX_SOCKETS	256
#define MAX_TAPPS	64
#define DEFAULT_PORT	5301

/* ------------------------------------------------------------ options */

enum role { ROLE_NONE, ROLE_SERVER, ROLE_CLIENT };
enum mode { MODE_BULK, MODE_RR, MODE_MIX };

static struct opts {
	enum role role;
	enum mode mode;
	int proto;
	const char *addr;
	int port;
	int sockets;
	uint64_t bytes;
	double seconds;
	bool seconds_set;
	double warmup;
	uint32_t size;
	double interval_us;
	int tapps;
	const char *lapp_cgroup;
	int lapp_nice;		/* mix: nice value of the L-app; 0 leaves it */
	const char *tapp_cgroup;
	double timeout;
	size_t bufsize;
	bool json;
	bool once;
	bool background;
	double idle;
	bool nodelay;
	const char *cdf;
	const char *tag;
	int verbose;
} o = {
	.mode = MODE_BULK,
	.proto = IPPROTO_TCP,
	.port = DEFAULT_PORT,
	.sockets = 1,
	.seconds = 5,
	.size = 64,
	.tapps = 2,
	.timeout = 10,
	.bufsize = 128 << 10,
	.idle = 300,
	.nodelay = true,
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ncperf server [OPTIONS]\n"
"       ncperf client [bulk|rr|mix] [OPTIONS]\n"
"       ncperf json-check [FILE...]\n"
"\n"
"Throughput and latency benchmark for NetChannel sockets and plain TCP. The two\n"
"stacks differ only in the protocol given to socket(AF_INET, SOCK_STREAM, P):\n"
"IPPROTO_TCP (6) or IPPROTO_NETCHANNEL (%d). Client and server must use the same.\n"
"\n"
"Roles:\n"
"  server           accept clients (a thread each) until a signal (INT/TERM),\n"
"                   --once, or --idle seconds without any connection\n"
"  client           run one measurement against a server and print the result\n"
"\n"
"Client modes (positional after 'client', or --mode):\n"
"  bulk             --sockets N connections stream to the server for --seconds\n"
"                   (or until --bytes in total); reports aggregate and per-socket\n"
"                   throughput, counted up to the server's acknowledgement\n"
"  rr               --sockets N connections (a thread each) in closed loop send a\n"
"                   --size byte request and wait for the echo; reports requests/s\n"
"                   and latency min/mean/p50/p90/p99/p99.9/max\n"
"  mix              one L-app process doing rr (1 socket, --size, --interval)\n"
"                   next to --tapps T-app processes each streaming bulk on\n"
"                   --sockets connections; reports the L-app's rate and latency\n"
"                   percentiles and the T-apps' aggregate throughput. --tapps 0\n"
"                   measures the L-app alone.\n"
"\n"
"Common options:\n"
"  --proto P        tcp (default), netchannel, or a protocol number\n"
"  --addr A         server: IPv4 address to bind (default 0.0.0.0)\n"
"                   client: server's IPv4 address (default 127.0.0.1)\n"
"  --port N         TCP/NetChannel port (default %d)\n"
"  --timeout SEC    send/receive/connect timeout of every socket (default 10);\n"
"                   a peer silent for longer fails the run\n"
"  --json           one line of JSON instead of text (on failure too:\n"
"                   {\"ok\":false,\"error\":...}); keys are unique in the line\n"
"  --tag STR        copied into the output, to label a measurement\n"
"  -v, --verbose    more messages on stderr\n"
"  -h, --help       this help\n"
"\n"
"Client options:\n"
"  --mode M         bulk, rr or mix (default bulk)\n"
"  --sockets N      bulk/rr: connections (default 1, max %d);\n"
"                   mix: connections per T-app\n"
"  --seconds SEC    measured duration (default 5; with --bytes: a cap, default 60)\n"
"  --bytes N        bulk: stop after N bytes in total (suffix K, M, G: 2^10..)\n"
"  --warmup SEC     rr/mix: run this long before measuring (default 0)\n"
"  --size N         rr/mix: message size in bytes (default 64, max 16M)\n"
"  --interval US    rr/mix: pause between requests, in microseconds (default 0:\n"
"                   back to back)\n"
"  --tapps N        mix: number of T-apps (default 2, max %d)\n"
"  --lapp-cgroup P  mix: move the L-app into cgroup P (a cgroup2 directory) by\n"
"                   writing its pid to P/cgroup.procs before it opens a socket\n"
"  --lapp-nice N    mix: run the L-app at nice N (-20..19), as the NetChannel\n"
"                   paper's artifact runs its L-app at -20 (default: unchanged)\n"
"  --tapp-cgroup P  mix: the same for every T-app. Note: `ip netns exec` mounts\n"
"                   a fresh /sys, hiding /sys/fs/cgroup; mount cgroup2 a second\n"
"                   time elsewhere (e.g. /run/nc-cgroup) and give paths there\n"
"  --bufsize N      bulk write size (default 128K)\n"
"  --no-nodelay     do not set TCP_NODELAY on TCP sockets (set by default for\n"
"                   rr/mix; never attempted on NetChannel sockets)\n"
"  --cdf FILE       rr/mix: write the latency CDF (\"usec fraction\" per line)\n"
"\n"
"Server options:\n"
"  --once           exit after the first client run (all its connections) ends\n"
"  --idle SEC       exit after SEC seconds with no connection open (default 300;\n"
"                   0: never)\n"
"  --background     fork once listening; the parent prints the server's pid and\n"
"                   exits 0 (non-zero with the reason if it could not listen);\n"
"                   the server's stdin/stdout/stderr become /dev/null (stderr\n"
"                   stays with --verbose)\n"
"\n"
"Latency is the round trip of one request: from before send() of the request\n"
"to after the last byte of the echo is received (sockperf prints half of it).\n"
"Latency histogram: log-linear, 64 linear sub-buckets per power of two of\n"
"nanoseconds (values below 64 ns exact), so a reported percentile is the upper\n"
"edge of its bucket, at most 1.6%% above the true sample, clamped to the\n"
"observed min/max; p50 <= p99 <= p99.9 always holds.\n"
"\n"
"Bounds: every socket has --timeout; a client also sets a hard alarm at\n"
"warmup + seconds + 3 x timeout + 5 s and exits with status 3 if it fires.\n"
"\n"
"Examples:\n"
"  ncperf server --background --port 5301\n"
"  ncperf client bulk --addr 10.99.0.2 --sockets 4 --seconds 10\n"
"  ncperf client rr --proto netchannel --addr 10.99.0.2 --size 64 --json\n"
"  ncperf client mix --addr 10.99.0.2 --tapps 2 --interval 200 \\\n"
"         --lapp-cgroup /sys/fs/cgroup/lapp --tapp-cgroup /sys/fs/cgroup/tapp\n"
"  ncperf client rr --json | ncperf json-check\n"
"\n"
"json-check: validate that each FILE (or stdin) holds only JSON values (one or\n"
"more, e.g. JSON lines); exit 0 if so, 1 with the offset of the first error.\n"
"\n"
"Exit status: 0 success, 1 measurement failed (reason on stderr or in the\n"
"JSON), 2 bad usage, 3 hard time limit hit.\n",
		IPPROTO_NETCHANNEL, DEFAULT_PORT, MAX_SOCKETS, MAX_TAPPS);
}

/* ------------------------------------------------------------ helpers */

static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("ncperf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	exit(2);
}

static void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!o.verbose)
		return;
	fputs("ncperf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *proto_name(int proto)
{
	static char buf[16];

	if (proto == IPPROTO_TCP)
		return "tcp";
	if (proto == IPPROTO_NETCHANNEL)
		return "netchannel";
	snprintf(buf, sizeof(buf), "proto%d", proto);
	return buf;
}

static const char *mode_name(enum mode m)
{
	return m == MODE_BULK ? "bulk" : m == MODE_RR ? "rr" : "mix";
}

static int parse_mode(const char *s, enum mode *m)
{
	if (!strcmp(s, "bulk"))
		*m = MODE_BULK;
	else if (!strcmp(s, "rr"))
		*m = MODE_RR;
	else if (!strcmp(s, "mix"))
		*m = MODE_MIX;
	else
		return -1;
	return 0;
}

static uint64_t parse_size(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		die_usage("%s: not a size: '%s'", opt, s);
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		die_usage("%s: not a size: '%s'", opt, s);
	return (uint64_t)v << shift;
}

static double parse_num(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		die_usage("%s: expected a number in [%g, %g], got '%s'", opt, min, max, s);
	return v;
}

/* Human-readable byte counts (decimal, as network people count). */
static const char *fmt_bytes(char *buf, size_t len, double b)
{
	static const char *unit[] = { "B", "kB", "MB", "GB", "TB" };
	int i = 0;

	while (b >= 1000 && i < 4) {
		b /= 1000;
		i++;
	}
	snprintf(buf, len, i ? "%.2f %s" : "%.0f %s", b, unit[i]);
	return buf;
}

static const char *fmt_bps(char *buf, size_t len, double bps)
{
	static const char *unit[] = { "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s" };
	int i = 0;

	while (bps >= 1000 && i < 4) {
		bps /= 1000;
		i++;
	}
	snprintf(buf, len, "%.2f %s", bps, unit[i]);
	return buf;
}

/* ------------------------------------------------------------ JSON output */

/* A tiny writer for one JSON object per line. */
struct jw {
	FILE *f;
	bool first;
};

static void jw_key(struct jw *j, const char *k)
{
	fprintf(j->f, "%s\"%s\":", j->first ? "" : ",", k);
	j->first = false;
}

static void jw_str_raw(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void jw_str(struct jw *j, const char *k, const char *v)
{
	jw_key(j, k);
	if (v)
		jw_str_raw(j->f, v);
	else
		fputs("null", j->f);
}

static void jw_num(struct jw *j, const char *k, double v)
{
	jw_key(j, k);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);
}

static void jw_u64(struct jw *j, const char *k, uint64_t v)
{
	jw_key(j, k);
	fprintf(j->f, "%" PRIu64, v);
}

static void jw_bool(struct jw *j, const char *k, bool v)
{
	jw_key(j, k);
	fputs(v ? "true" : "false", j->f);
}

static void jw_open(struct jw *j, const char *k)
{
	if (k)
		jw_key(j, k);
	else if (!j->first)
		fputc(',', j->f);
	fputc('{', j->f);
	j->first = true;
}

static void jw_close(struct jw *j)
{
	fputc('}', j->f);
	j->first = false;
}

static void jw_begin(struct jw *j, const char *role)
{
	j->f = stdout;
	j->first = true;
	fputc('{', j->f);
	jw_str(j, "tool", "ncperf");
	jw_num(j, "version", NCP_VERSION);
	jw_str(j, "role", role);
	jw_str(j, "proto", proto_name(o.proto));
	jw_num(j, "proto_number", o.proto);
	jw_str(j, "addr", o.addr);
	jw_num(j, "port", o.port);
	if (o.tag)
		jw_str(j, "tag", o.tag);
}

static void jw_end(struct jw *j)
{
	fputs("}\n", j->f);
	fflush(j->f);
}

/* ------------------------------------------------------------ histogram */

/*
 * Log-linear latency histogram (in the spirit of HdrHistogram): values in
 * nanoseconds; below 2^SUB_BITS each value has its own bucket, above it each
 * power of two [2^e, 2^(e+1)) is split into 2^SUB_BITS equal buckets. So the
 * relative width of a bucket is at most 2^-SUB_BITS, independent of scale,
 * and the whole thing is a fixed array that merges by addition.
 */
#define H_SUB_BITS	6
#define H_SUB		(1u << H_SUB_BITS)
#define H_MAX_EXP	42	/* 2^42 ns ~ 73 minutes; larger values clamp */
#define H_BUCKETS	((H_MAX_EXP - H_SUB_BITS + 1) * H_SUB)

struct hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	double sum;
	uint64_t b[H_BUCKETS];
};

static unsigned int hist_index(uint64_t v)
{
	int e;

	if (v < H_SUB)
		return (unsigned int)v;
	e = 63 - __builtin_clzll(v);
	if (e >= H_MAX_EXP)
		return H_BUCKETS - 1;
	return (unsigned int)(e - H_SUB_BITS + 1) * H_SUB +
	       (unsigned int)((v >> (e - H_SUB_BITS)) & (H_SUB - 1));
}

/* Highest value that falls into bucket idx. */
static uint64_t hist_bucket_high(unsigned int idx)
{
	unsigned int g = idx / H_SUB, sub = idx % H_SUB;
	int shift;

	if (g == 0)
		return sub;
	shift = (int)g - 1;
	return (((uint64_t)(H_SUB + sub)) << shift) + ((uint64_t)1 << shift) - 1;
}

static void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

static void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned int i;

	for (i = 0; i < H_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* The q-quantile (0 < q <= 1) in ns: upper edge of the bucket holding the
 * ceil(q * count)-th smallest sample, clamped to [min, max]. */
static uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, cum = 0, v;
	unsigned int i;

	if (!h->count)
		return 0;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < H_BUCKETS; i++) {
		cum += h->b[i];
		if (cum >= rank)
			break;
	}
	v = hist_bucket_high(i < H_BUCKETS ? i : H_BUCKETS - 1);
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

static int hist_write_cdf(const struct hist *h, const char *path)
{
	FILE *f = fopen(path, "w");
	uint64_t cum = 0, hi;
	unsigned int i;

	if (!f)
		return -1;
	fprintf(f, "# latency CDF: usec fraction (%" PRIu64 " samples)\n", h->count);
	for (i = 0; i < H_BUCKETS && h->count; i++) {
		if (!h->b[i])
			continue;
		cum += h->b[i];
		hi = hist_bucket_high(i);
		if (hi > h->max)
			hi = h->max;
		fprintf(f, "%.3f %.6f\n", (double)hi / 1e3, (double)cum / (double)h->count);
	}
	return fclose(f);
}

/* ------------------------------------------------------------ sockets */

static void errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err[0])	/* keep the first reason */
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static int set_timeouts(int fd)
{
	struct timeval tv;

	tv.tv_sec = (time_t)o.timeout;
	tv.tv_usec = (suseconds_t)((o.timeout - (double)tv.tv_sec) * 1e6);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -1;
	return 0;
}

static int new_socket(char *err, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, o.proto);

	if (fd < 0) {
		int e = errno;

		errf(err, len, "socket(AF_INET, SOCK_STREAM, %s=%d): %s%s",
		     o.proto == IPPROTO_NETCHANNEL ? "IPPROTO_NETCHANNEL" :
		     o.proto == IPPROTO_TCP ? "IPPROTO_TCP" : "protocol",
		     o.proto, strerror(e),
		     o.proto == IPPROTO_NETCHANNEL &&
		     (e == EPROTONOSUPPORT || e == ESOCKTNOSUPPORT) ?
		     " (is netchannel.ko loaded?)" : "");
		errno = e;
		return -1;
	}
	/* Bounding every blocking call matters more than the exact error, so
	 * a socket that refuses timeouts is refused. */
	if (set_timeouts(fd)) {
		errf(err, len, "setsockopt(SO_RCVTIMEO/SO_SNDTIMEO): %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static const char *io_err(int e)
{
	return (e == EAGAIN || e == EWOULDBLOCK) ? "timed out (--timeout)" : strerror(e);
}

/* Write all of buf; 0 on success, else -1 with errno (EPIPE on short). */
static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes: 1 done, 0 EOF before the first byte, -1 error
 * (errno; ECONNRESET for EOF in the middle). */
static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, p + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			if (!got)
				return 0;
			errno = ECONNRESET;
			return -1;
		}
		got += (size_t)n;
	}
	return 1;
}

static void put32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const unsigned char *p)
{
	return ((uint64_t)get32(p) << 32) | get32(p + 4);
}

/* Connect to the server and do the hello. Returns the fd or -1 (err set). */
static int client_connect(int kind, uint32_t msg_size, uint32_t nconns,
			  uint64_t session, char *err, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o.port) };
	unsigned char hello[HELLO_LEN], ack[4];
	int fd, r, one = 1;

	inet_pton(AF_INET, o.addr, &sa.sin_addr);
	fd = new_socket(err, len);
	if (fd < 0)
		return -1;
	if (o.nodelay && o.proto == IPPROTO_TCP && kind == NCP_ECHO)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		errf(err, len, "connect %s:%d (%s): %s", o.addr, o.port, proto_name(o.proto),
		     errno == EINPROGRESS ? "timed out (--timeout)" : strerror(errno));
		goto fail;
	}
	put32(hello, NCP_MAGIC);
	put32(hello + 4, (NCP_VERSION << 16) | (uint32_t)kind);
	put32(hello + 8, msg_size);
	put32(hello + 12, nconns);
	put64(hello + 16, session);
	if (write_full(fd, hello, sizeof(hello))) {
		errf(err, len, "send hello to %s:%d: %s", o.addr, o.port, io_err(errno));
		goto fail;
	}
	r = read_full(fd, ack, sizeof(ack));
	if (r <= 0) {
		errf(err, len, "no reply to hello from %s:%d: %s", o.addr, o.port,
		     r ? io_err(errno) : "connection closed");
		goto fail;
	}
	if (get32(ack) != NCP_MAGIC) {
		errf(err, len, "%s:%d is not an ncperf server (bad reply)", o.addr, o.port);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* ------------------------------------------------------------ hard limit */

static void on_alarm(int sig)
{
	static const char msg[] = "ncperf: hard time limit reached; giving up\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to do */
	}
	_exit(3);
}

static void arm_hard_limit(void)
{
	double lim = o.warmup + o.seconds + 3 * o.timeout + 5;

	signal(SIGALRM, on_alarm);
	alarm((unsigned int)ceil(lim));
}

/* ------------------------------------------------------------ client: bulk */

struct bulk_conn {
	int fd;
	uint64_t quota;		/* bytes to send; 0: until the deadline */
	uint64_t sent;
	uint64_t acked;
	uint64_t end_ns;
	char err[256];
};

struct bulk_run {
	struct bulk_conn *c;
	int n;
	uint64_t start_ns;
	uint64_t deadline_ns;
	pthread_barrier_t go;
};

static struct bulk_run *bulk_run_cur;

static void bulk_stream(struct bulk_conn *c, uint64_t deadline_ns)
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

static void *bulk_thread(void *arg)
{
	struct bulk_conn *c = arg;
	struct bulk_run *r = bulk_run_cur;

	pthread_barrier_wait(&r->go);
	bulk_stream(c, r->deadline_ns);
	return NULL;
}

static uint64_t random_session(void)
{
	uint64_t s = now_ns() ^ ((uint64_t)getpid() << 32);
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &s, sizeof(s)) != (ssize_t)sizeof(s))
			s ^= now_ns();
		close(fd);
	}
	return s;
}

static void print_fail(const char *err)
{
	if (o.json) {
		struct jw j;

		jw_begin(&j, o.role == ROLE_SERVER ? "server" : "client");
		if (o.role == ROLE_CLIENT)
			jw_str(&j, "mode", mode_name(o.mode));
		jw_bool(&j, "ok", false);
		jw_str(&j, "error", err);
		jw_end(&j);
	}
	fprintf(stderr, "ncperf: %s\n", err);
}

static void json_cpu(struct jw *j)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	jw_num(j, "cpu_user_s", (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6);
	jw_num(j, "cpu_sys_s", (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

static int client_bulk(void)
{
	struct bulk_run r = { .n = o.sockets };
	pthread_t th[MAX_SOCKETS];
	uint64_t session = random_session(), total = 0, end = 0;
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
	r.deadline_ns = r.start_ns + (uint64_t)(o.seconds * 1e9);
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

		jw_begin(&j, "client");
		jw_str(&j, "mode", "bulk");
		jw_bool(&j, "ok", true);
		jw_num(&j, "sockets", r.n);
		jw_num(&j, "bufsize", (double)o.bufsize);
		jw_u64(&j, "bytes", total);
		jw_num(&j, "seconds", secs);
		jw_num(&j, "throughput_bps", (double)total * 8 / secs);
		jw_num(&j, "throughput_gbps", (double)total * 8 / secs / 1e9);
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

/* ------------------------------------------------------------ client: rr */

struct rr_conn {
	int fd;
	struct hist h;
	uint64_t requests;	/* measured ones */
	char err[256];
};

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
static void rr_loop(struct rr_conn *c, uint64_t start_ns, uint64_t end_ns)
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

static void json_latency(struct jw *j, const struct hist *h, double secs)
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

static void print_latency(const char *who, const struct hist *h, double secs)
{
	printf("  %s%" PRIu64 " requests in %.3f s = %.0f req/s\n", who, h->count, secs,
	       secs > 0 ? (double)h->count / secs : 0);
	printf("  %slatency us: min %.1f  p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f\n",
	       who, (double)h->min / 1e3, (double)hist_quantile(h, 0.50) / 1e3,
	       (double)hist_quantile(h, 0.99) / 1e3, (double)hist_quantile(h, 0.999) / 1e3,
	       (double)h->max / 1e3, h->sum / (double)h->count / 1e3);
}

static int client_rr(void)
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

		jw_begin(&j, "client");
		jw_str(&j, "mode", "rr");
		jw_bool(&j, "ok", true);
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

/* ------------------------------------------------------------ client: mix */

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

static int client_mix(void)
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

		jw_begin(&j, "client");
		jw_str(&j, "mode", "mix");
		jw_bool(&j, "ok", true);
		jw_num(&j, "tapps", o.tapps);
		jw_num(&j, "tapp_sockets", o.sockets);
		jw_str(&j, "lapp_cgroup", o.lapp_cgroup);
		jw_num(&j, "lapp_nice", o.lapp_nice);
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

/* ------------------------------------------------------------ server */

struct session {
	uint64_t id;
	uint32_t expected;
	uint32_t finished;
};

static struct {
	pthread_mutex_t lock;
	int active;
	uint64_t conns;
	uint64_t bytes_in;
	uint64_t errors;
	uint64_t last_activity_ns;
	bool have_first;
	struct session first;	/* for --once */
	bool once_done;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct srv_conn {
	int fd;
	char peer[64];
};

static void server_conn_end(bool have_hello, uint64_t session, uint64_t bytes, bool failed)
{
	pthread_mutex_lock(&srv.lock);
	srv.active--;
	srv.bytes_in += bytes;
	if (failed)
		srv.errors++;
	srv.last_activity_ns = now_ns();
	if (have_hello && srv.have_first && session == srv.first.id &&
	    ++srv.first.finished >= srv.first.expected)
		srv.once_done = true;
	pthread_mutex_unlock(&srv.lock);
}

static void *server_thread(void *arg)
{
	struct srv_conn *sc = arg;
	unsigned char hello[HELLO_LEN], ack[4], cnt[8];
	uint64_t session = 0, bytes = 0;
	uint32_t kind = 0, size = 0, nconns;
	bool have_hello = false, failed = true;
	char *buf = NULL;
	int r;

	r = read_full(sc->fd, hello, sizeof(hello));
	if (r <= 0) {
		vlog("%s: no hello: %s", sc->peer, r ? io_err(errno) : "closed");
		goto out;
	}
	if (get32(hello) != NCP_MAGIC || (get32(hello + 4) >> 16) != NCP_VERSION) {
		vlog("%s: not an ncperf client", sc->peer);
		goto out;
	}
	kind = get32(hello + 4) & 0xffff;
	size = get32(hello + 8);
	nconns = get32(hello + 12);
	session = get64(hello + 16);
	have_hello = true;
	pthread_mutex_lock(&srv.lock);
	if (!srv.have_first) {
		srv.have_first = true;
		srv.first.id = session;
		srv.first.expected = nconns ? nconns : 1;
	}
	pthread_mutex_unlock(&srv.lock);
	if ((kind != NCP_SINK && kind != NCP_ECHO) || (kind == NCP_ECHO && (!size || size > MAX_MSG))) {
		vlog("%s: bad request kind %u size %u", sc->peer, kind, size);
		goto out;
	}
	buf = malloc(kind == NCP_ECHO ? size : 256 << 10);
	if (!buf)
		goto out;
	put32(ack, NCP_MAGIC);
	if (write_full(sc->fd, ack, sizeof(ack)))
		goto out;
	if (kind == NCP_SINK) {
		for (;;) {
			ssize_t n = recv(sc->fd, buf, 256 << 10, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				vlog("%s: recv: %s", sc->peer, io_err(errno));
				goto out;
			}
			if (n == 0)
				break;
			bytes += (uint64_t)n;
		}
		put64(cnt, bytes);
		if (write_full(sc->fd, cnt, sizeof(cnt)))
			goto out;
	} else {
		for (;;) {
			r = read_full(sc->fd, buf, size);
			if (r == 0)
				break;
			if (r < 0 || write_full(sc->fd, buf, size)) {
				vlog("%s: echo: %s", sc->peer, io_err(errno));
				goto out;
			}
			bytes += size;
		}
	}
	failed = false;
	vlog("%s: %s done, %" PRIu64 " bytes", sc->peer, kind == NCP_SINK ? "bulk" : "rr", bytes);
out:
	free(buf);
	close(sc->fd);
	server_conn_end(have_hello, session, bytes, failed);
	free(sc);
	return NULL;
}

static void null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	if (!o.verbose)
		dup2(fd, 2);
	close(fd);
}

static int server_main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o.port) };
	char err[512] = "";
	pthread_attr_t attr;
	int lfd, one = 1;
	struct sigaction act = { .sa_handler = on_stop };

	inet_pton(AF_INET, o.addr, &sa.sin_addr);
	lfd = new_socket(err, sizeof(err));
	if (lfd < 0) {
		print_fail(err);
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, sizeof(err), "bind %s:%d (%s): %s", o.addr, o.port,
			 proto_name(o.proto), strerror(errno));
		print_fail(err);
		return 1;
	}
	if (listen(lfd, 128)) {
		snprintf(err, sizeof(err), "listen (%s): %s", proto_name(o.proto), strerror(errno));
		print_fail(err);
		return 1;
	}
	if (o.background) {
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			print_fail("fork failed");
			return 1;
		}
		if (pid > 0) {
			printf("%d\n", (int)pid);
			return 0;
		}
		/* Let go of the caller's stdout (e.g. the pipe of a $(...) that
		 * waits for EOF), and of stderr unless --verbose wants it. */
		setsid();
		null_stdio();
	}
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	if (!o.json && !o.background)
		printf("ncperf server: listening on %s:%d (%s)%s\n", o.addr, o.port,
		       proto_name(o.proto), o.once ? ", --once" : "");
	fflush(stdout);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	srv.last_activity_ns = now_ns();
	while (!stop_flag) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		struct srv_conn *sc;
		pthread_t th;
		bool idle_out;
		int fd;

		pthread_mutex_lock(&srv.lock);
		idle_out = o.idle > 0 && srv.active == 0 &&
			   now_ns() - srv.last_activity_ns > (uint64_t)(o.idle * 1e9);
		if (o.once && srv.once_done && srv.active == 0)
			stop_flag = 1;
		pthread_mutex_unlock(&srv.lock);
		if (idle_out) {
			vlog("idle for %g s; exiting", o.idle);
			break;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				vlog("accept: %s", strerror(errno));
			continue;
		}
		if (set_timeouts(fd))
			vlog("setsockopt timeouts on an accepted socket: %s", strerror(errno));
		if (o.nodelay && o.proto == IPPROTO_TCP)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		sc = calloc(1, sizeof(*sc));
		if (!sc) {
			close(fd);
			continue;
		}
		sc->fd = fd;
		snprintf(sc->peer, sizeof(sc->peer), "%s:%d", inet_ntoa(peer.sin_addr),
			 ntohs(peer.sin_port));
		pthread_mutex_lock(&srv.lock);
		srv.active++;
		srv.conns++;
		srv.last_activity_ns = now_ns();
		pthread_mutex_unlock(&srv.lock);
		if (pthread_create(&th, &attr, server_thread, sc)) {
			close(fd);
			free(sc);
			server_conn_end(false, 0, 0, true);
		}
	}
	close(lfd);
	pthread_mutex_lock(&srv.lock);
	if (o.json) {
		struct jw j;

		jw_begin(&j, "server");
		jw_bool(&j, "ok", true);
		jw_u64(&j, "connections", srv.conns);
		jw_u64(&j, "failed_connections", srv.errors);
		jw_u64(&j, "bytes_in", srv.bytes_in);
		jw_num(&j, "still_active", srv.active);
		jw_end(&j);
	} else if (!o.background) {
		char b[32];

		printf("ncperf server: %" PRIu64 " connection(s), %" PRIu64 " failed, %s received\n",
		       srv.conns, srv.errors, fmt_bytes(b, sizeof(b), (double)srv.bytes_in));
	}
	fflush(stdout);
	/* Threads still serving a client are not waited for: exiting closes
	 * their sockets, and the clients see it. */
	_exit(0);
}

/* ------------------------------------------------------------ json-check */

/* A strict RFC 8259 validator, so scripts in a guest without jq or python
 * can check that the output parses. */
struct jp {
	const char *s;
	size_t i, n;
	int depth;
};

static void jp_ws(struct jp *p)
{
	while (p->i < p->n && strchr(" \t\r\n", p->s[p->i]))
		p->i++;
}

static int jp_value(struct jp *p);

static int jp_lit(struct jp *p, const char *lit)
{
	size_t l = strlen(lit);

	if (p->n - p->i < l || memcmp(p->s + p->i, lit, l))
		return -1;
	p->i += l;
	return 0;
}

static int jp_string(struct jp *p)
{
	if (p->i >= p->n || p->s[p->i] != '"')
		return -1;
	p->i++;
	while (p->i < p->n) {
		unsigned char c = (unsigned char)p->s[p->i++];

		if (c == '"')
			return 0;
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (p->i >= p->n)
				return -1;
			c = (unsigned char)p->s[p->i++];
			if (c == 'u') {
				int k;

				for (k = 0; k < 4; k++)
					if (p->i >= p->n || !isxdigit((unsigned char)p->s[p->i++]))
						return -1;
			} else if (!strchr("\"\\/bfnrt", c)) {
				return -1;
			}
		}
	}
	return -1;
}

static int jp_digits(struct jp *p)
{
	size_t st = p->i;

	while (p->i < p->n && isdigit((unsigned char)p->s[p->i]))
		p->i++;
	return p->i > st ? 0 : -1;
}

static int jp_number(struct jp *p)
{
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i < p->n && p->s[p->i] == '0')
		p->i++;
	else if (jp_digits(p))
		return -1;
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (jp_digits(p))
			return -1;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (jp_digits(p))
			return -1;
	}
	return 0;
}

static int jp_container(struct jp *p, char close, bool obj)
{
	if (++p->depth > 256)
		return -1;
	p->i++;
	jp_ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		p->depth--;
		return 0;
	}
	for (;;) {
		jp_ws(p);
		if (obj) {
			if (jp_string(p))
				return -1;
			jp_ws(p);
			if (p->i >= p->n || p->s[p->i++] != ':')
				return -1;
		}
		if (jp_value(p))
			return -1;
		jp_ws(p);
		if (p->i >= p->n)
			return -1;
		if (p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->s[p->i] == close) {
			p->i++;
			p->depth--;
			return 0;
		}
		return -1;
	}
}

static int jp_value(struct jp *p)
{
	jp_ws(p);
	if (p->i >= p->n)
		return -1;
	switch (p->s[p->i]) {
	case '{': return jp_container(p, '}', true);
	case '[': return jp_container(p, ']', false);
	case '"': return jp_string(p);
	case 't': return jp_lit(p, "true");
	case 'f': return jp_lit(p, "false");
	case 'n': return jp_lit(p, "null");
	default: return jp_number(p);
	}
}

static int json_check_stream(FILE *f, const char *name)
{
	struct jp p = { 0 };
	size_t cap = 0, values = 0;
	char *buf = NULL;
	size_t n;

	for (;;) {
		if (p.n + 65536 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf) {
				fprintf(stderr, "json-check: out of memory\n");
				return 1;
			}
		}
		n = fread(buf + p.n, 1, cap - p.n, f);
		if (!n)
			break;
		p.n += n;
	}
	p.s = buf;
	for (;;) {
		jp_ws(&p);
		if (p.i >= p.n)
			break;
		if (jp_value(&p)) {
			fprintf(stderr, "json-check: %s: invalid JSON at byte %zu\n", name, p.i);
			free(buf);
			return 1;
		}
		values++;
	}
	free(buf);
	if (!values) {
		fprintf(stderr, "json-check: %s: no JSON value\n", name);
		return 1;
	}
	return 0;
}

static int json_check_main(int argc, char **argv)
{
	int i, rc = 0;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2)
		return json_check_stream(stdin, "stdin");
	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");

		if (!f) {
			fprintf(stderr, "json-check: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
			continue;
		}
		rc |= json_check_stream(f, argv[i]);
		fclose(f);
	}
	return rc;
}

/* ------------------------------------------------------------ main */

enum {
	OPT_PROTO = 256, OPT_ADDR, OPT_PORT, OPT_MODE, OPT_SOCKETS, OPT_BYTES, OPT_SECONDS,
	OPT_WARMUP, OPT_SIZE, OPT_INTERVAL, OPT_TAPPS, OPT_LCG, OPT_LNICE, OPT_TCG, OPT_TIMEOUT,
	OPT_BUFSIZE, OPT_JSON, OPT_ONCE, OPT_IDLE, OPT_BG, OPT_NONODELAY, OPT_CDF, OPT_TAG,
};

static const struct option longopts[] = {
	{ "proto", required_argument, NULL, OPT_PROTO },
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "sockets", required_argument, NULL, OPT_SOCKETS },
	{ "bytes", required_argument, NULL, OPT_BYTES },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "tapps", required_argument, NULL, OPT_TAPPS },
	{ "lapp-cgroup", required_argument, NULL, OPT_LCG },
	{ "lapp-nice", required_argument, NULL, OPT_LNICE },
	{ "tapp-cgroup", required_argument, NULL, OPT_TCG },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "bufsize", required_argument, NULL, OPT_BUFSIZE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "idle", required_argument, NULL, OPT_IDLE },
	{ "background", no_argument, NULL, OPT_BG },
	{ "no-nodelay", no_argument, NULL, OPT_NONODELAY },
	{ "cdf", required_argument, NULL, OPT_CDF },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	bool mode_set = false, addr_ok;
	struct in_addr ia;
	int c, i;

	if (argc > 1 && !strcmp(argv[1], "json-check"))
		return json_check_main(argc - 1, argv + 1);

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PROTO:
			if (!strcmp(optarg, "tcp"))
				o.proto = IPPROTO_TCP;
			else if (!strcmp(optarg, "netchannel") || !strcmp(optarg, "nc"))
				o.proto = IPPROTO_NETCHANNEL;
			else
				o.proto = (int)parse_num("--proto", optarg, 0, 255);
			break;
		case OPT_ADDR: o.addr = optarg; break;
		case OPT_PORT: o.port = (int)parse_num("--port", optarg, 1, 65535); break;
		case OPT_MODE:
			if (parse_mode(optarg, &o.mode))
				die_usage("--mode: bulk, rr or mix, not '%s'", optarg);
			mode_set = true;
			break;
		case OPT_SOCKETS:
			o.sockets = (int)parse_num("--sockets", optarg, 1, MAX_SOCKETS);
			break;
		case OPT_BYTES: o.bytes = parse_size("--bytes", optarg); break;
		case OPT_SECONDS:
			o.seconds = parse_num("--seconds", optarg, 0.01, 86400);
			o.seconds_set = true;
			break;
		case OPT_WARMUP: o.warmup = parse_num("--warmup", optarg, 0, 3600); break;
		case OPT_SIZE: {
			uint64_t v = parse_size("--size", optarg);

			if (v < 1 || v > MAX_MSG)
				die_usage("--size: 1 to 16M bytes");
			o.size = (uint32_t)v;
			break;
		}
		case OPT_INTERVAL:
			o.interval_us = parse_num("--interval", optarg, 0, 60e6);
			break;
		case OPT_TAPPS: o.tapps = (int)parse_num("--tapps", optarg, 0, MAX_TAPPS); break;
		case OPT_LCG: o.lapp_cgroup = optarg; break;
		case OPT_LNICE:
			o.lapp_nice = (int)parse_num("--lapp-nice", optarg, -20, 19);
			break;
		case OPT_TCG: o.tapp_cgroup = optarg; break;
		case OPT_TIMEOUT: o.timeout = parse_num("--timeout", optarg, 0.01, 3600); break;
		case OPT_BUFSIZE: {
			uint64_t v = parse_size("--bufsize", optarg);

			if (v < 1 || v > (64u << 20))
				die_usage("--bufsize: 1 to 64M bytes");
			o.bufsize = (size_t)v;
			break;
		}
		case OPT_JSON: o.json = true; break;
		case OPT_ONCE: o.once = true; break;
		case OPT_IDLE: o.idle = parse_num("--idle", optarg, 0, 1e7); break;
		case OPT_BG: o.background = true; break;
		case OPT_NONODELAY: o.nodelay = false; break;
		case OPT_CDF: o.cdf = optarg; break;
		case OPT_TAG: o.tag = optarg; break;
		case 'v': o.verbose++; break;
		case 'h': usage(stdout); return 0;
		default: die_usage("bad option");
		}
	}
	for (i = optind; i < argc; i++) {
		enum mode m;

		if (o.role == ROLE_NONE && !strcmp(argv[i], "server"))
			o.role = ROLE_SERVER;
		else if (o.role == ROLE_NONE && !strcmp(argv[i], "client"))
			o.role = ROLE_CLIENT;
		else if (o.role == ROLE_CLIENT && !mode_set && !parse_mode(argv[i], &m)) {
			o.mode = m;
			mode_set = true;
		} else {
			die_usage("unexpected argument '%s'", argv[i]);
		}
	}
	if (o.role == ROLE_NONE)
		die_usage("say 'server' or 'client'");
	if (!o.addr)
		o.addr = o.role == ROLE_SERVER ? "0.0.0.0" : "127.0.0.1";
	addr_ok = inet_pton(AF_INET, o.addr, &ia) == 1;
	if (!addr_ok)
		die_usage("--addr: not an IPv4 address: '%s'", o.addr);
	if (o.bytes && !o.seconds_set)
		o.seconds = 60;
	if (o.role == ROLE_SERVER && mode_set)
		die_usage("the server serves every mode; --mode is for the client");
	if (o.role == ROLE_CLIENT && (o.once || o.background))
		die_usage("--once and --background are server options");
	if (o.interval_us > 0 && o.interval_us / 1e6 >= o.timeout)
		die_usage("--interval must be shorter than --timeout");
	if (o.mode == MODE_MIX && o.tapps * o.sockets + 1 > 1024)
		die_usage("mix: at most 1024 connections");
	if ((o.lapp_cgroup || o.tapp_cgroup || o.lapp_nice) && o.mode != MODE_MIX)
		die_usage("--lapp-cgroup/--tapp-cgroup/--lapp-nice apply to mix only");

	signal(SIGPIPE, SIG_IGN);
	if (o.role == ROLE_SERVER)
		return server_main();
	arm_hard_limit();
	switch (o.mode) {
	case MODE_BULK: return client_bulk();
	case MODE_RR: return client_rr();
	default: return client_mix();
	}
}
