/* SPDX-License-Identifier: GPL-2.0 */
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
 *         latency percentiles from a log-linear histogram (hist.c).
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
#ifndef NCPERF_H
#define NCPERF_H

/*
 * Declarations shared by the sources of ncperf (the .c files next to this
 * header). Every source includes it first: it wants _GNU_SOURCE before any
 * libc header.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* ------------------------------------------------------------ main.c */

enum role { ROLE_NONE, ROLE_SERVER, ROLE_CLIENT };
enum mode { MODE_BULK, MODE_RR, MODE_MIX };

/* The command line, parsed by main(); read everywhere. */
struct opts {
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
	int lapp_port;		/* mix: the L-app's server port; 0: port */
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
};

extern struct opts o;

/* Print the help text to f. */
void usage(FILE *f);

/* ------------------------------------------------------------ util.c */

/* "ncperf: " + message + " (try --help)" on stderr, then exit(2). */
void die_usage(const char *fmt, ...);
/* A message on stderr with -v, else nothing. */
void vlog(const char *fmt, ...);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);
/* "tcp", "netchannel", "mptcp" or "protoN" (a static buffer for the last). */
const char *proto_name(int proto);
/* "bulk", "rr" or "mix". */
const char *mode_name(enum mode m);
/* bulk/rr/mix into *m: 0, or -1 for anything else. */
int parse_mode(const char *s, enum mode *m);
/* A byte count with an optional K/M/G/T suffix (2^10..); dies on garbage. */
uint64_t parse_size(const char *opt, const char *s);
/* A number in [min, max]; dies otherwise. */
double parse_num(const char *opt, const char *s, double min, double max);
/* Human-readable bytes and bits per second, written into buf. */
const char *fmt_bytes(char *buf, size_t len, double b);
const char *fmt_bps(char *buf, size_t len, double bps);

/* ------------------------------------------------------------ json.c */

/* A tiny writer for one JSON object per line. */
struct jw {
	FILE *f;
	bool first;
};

/* "key": ... (a comma first unless it is the first member). */
void jw_key(struct jw *j, const char *k);
/* Members: a string (NULL: null), a number (non-finite: null), an
 * unsigned integer, a boolean. */
void jw_str(struct jw *j, const char *k, const char *v);
void jw_num(struct jw *j, const char *k, double v);
void jw_u64(struct jw *j, const char *k, uint64_t v);
void jw_bool(struct jw *j, const char *k, bool v);
/* A nested object: member k (NULL: an array element) until jw_close(). */
void jw_open(struct jw *j, const char *k);
void jw_close(struct jw *j);
/* The line on stdout: opened with the members every record has (tool,
 * version, role, proto, addr, port, tag), closed with a newline. */
void jw_begin(struct jw *j, const char *role);
void jw_client_ok(struct jw *j, const char *mode);
void jw_end(struct jw *j);
/* Members cpu_user_s and cpu_sys_s: this process's CPU time. */
void json_cpu(struct jw *j);
/* Report a failed run: the JSON line (with --json) and the reason on stderr. */
void print_fail(const char *err);

/* ------------------------------------------------------------ hist.c */

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

/* Empty (min at UINT64_MAX until the first sample). */
void hist_init(struct hist *h);
/* One sample, in ns. */
void hist_add(struct hist *h, uint64_t v);
/* Add src's samples to dst. */
void hist_merge(struct hist *dst, const struct hist *src);
/* The q-quantile in ns (see hist.c). */
uint64_t hist_quantile(const struct hist *h, double q);
/* The CDF as "usec fraction" lines into path: 0, or -1/EOF with errno. */
int hist_write_cdf(const struct hist *h, const char *path);

/* ------------------------------------------------------------ net.c */

/* Format a reason into err, unless err already holds one. */
void errf(char *err, size_t len, const char *fmt, ...);
/* SO_RCVTIMEO and SO_SNDTIMEO of --timeout: 0 or -1 with errno. */
int set_timeouts(int fd);
/* A socket of --proto with the timeouts set, or -1 (err set). */
int new_socket(char *err, size_t len);
/* strerror(e), but a timeout says so. */
const char *io_err(int e);
/* All of buf / exactly len bytes; see net.c for the return values. */
int write_full(int fd, const void *buf, size_t len);
int read_full(int fd, void *buf, size_t len);
/* Big-endian integers of the wire protocol. */
void put32(unsigned char *p, uint32_t v);
uint32_t get32(const unsigned char *p);
void put64(unsigned char *p, uint64_t v);
uint64_t get64(const unsigned char *p);
/* Connect to --addr:--port and do the hello: the fd, or -1 (err set). */
int client_connect(int kind, uint32_t msg_size, uint32_t nconns,
		   uint64_t session, char *err, size_t len);
/* A random id for the hello, shared by all connections of one run. */
uint64_t random_session(void);
/* alarm() at warmup + seconds + 3 x timeout + 5 s; exits with 3 if it fires. */
void arm_hard_limit(void);

/* ------------------------------------------------------------ bulk.c */

struct bulk_conn {
	int fd;
	uint64_t quota;		/* bytes to send; 0: until the deadline */
	uint64_t sent;
	uint64_t sent_warm;	/* sent when the warmup ended */
	bool warm;		/* ... which it did */
	uint64_t acked;
	uint64_t end_ns;
	char err[256];
};

struct bulk_run {
	struct bulk_conn *c;
	int n;
	uint64_t start_ns;
	uint64_t warm_ns;	/* the measured interval starts */
	uint64_t deadline_ns;
	pthread_barrier_t go;
};

/* The run bulk_thread() reads its start barrier and deadline from; set
 * before the threads are created (by client_bulk and mix's T-apps). */
extern struct bulk_run *bulk_run_cur;

/* Thread body: stream one bulk_conn (arg) until bulk_run_cur's deadline. */
void *bulk_thread(void *arg);
/* ncperf client bulk: the exit status. */
int client_bulk(void);

/* ------------------------------------------------------------ rr.c */

struct rr_conn {
	int fd;
	struct hist h;
	uint64_t requests;	/* measured ones */
	char err[256];
};

/* Closed-loop request/response on c until end_ns, measuring from start_ns. */
void rr_loop(struct rr_conn *c, uint64_t start_ns, uint64_t end_ns);
/* Members requests, rate_rps and the latency_us object. */
void json_latency(struct jw *j, const struct hist *h, double secs);
/* The same as two lines of text, each prefixed with who. */
void print_latency(const char *who, const struct hist *h, double secs);
/* ncperf client rr: the exit status. */
int client_rr(void);

/* ------------------------------------------------------------ mix.c */

/* ncperf client mix: the exit status. */
int client_mix(void);

/* ------------------------------------------------------------ server.c */

/* ncperf server: the exit status (it does not return once serving). */
int server_main(void);

/* ------------------------------------------------------------ json_check.c */

/* ncperf json-check [FILE...]; argv[0] is "json-check". */
int json_check_main(int argc, char **argv);
/* ncperf json-get FILE PATH; argv[0] is "json-get". */
int json_get_main(int argc, char **argv);

#endif /* NCPERF_H */
