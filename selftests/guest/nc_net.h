/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two NetChannel hosts for the guest tests, and what it takes to move
 * verifiable bytes between them: the interface of the test library
 * (selftests/guest/lib/, linked into every guest binary as build/libnctest.a).
 *
 * Include this header first (it wants _GNU_SOURCE before any libc header).
 *
 * - Hosts (lib/hosts.c): network namespaces nc_a (10.99.0.1) and nc_b
 *   (10.99.0.2) joined by a veth pair nc_va/nc_vb; the one definition of
 *   that topology, also for shell scripts through /nc/bin/nc_hosts. Sockets
 *   belong to the namespace they were created in, so one process can
 *   create a listener in b and a client in a by switching with
 *   nc_ns_enter()/nc_ns_leave(). Also the stats and sysctl helpers.
 * - Protocol (lib/base.c): NC_PROTO=tcp selects IPPROTO_TCP (validates the
 *   tests on plain TCP); unset or NC_PROTO=netchannel selects
 *   IPPROTO_NETCHANNEL. Also errors (nc_err) and the clock.
 * - Data (lib/data.c): nc_gen() is a seeded, counter-based pseudo-random
 *   byte stream (any offset can be generated independently); nc_hash is a
 *   streaming 64-bit hash whose result does not depend on how the stream
 *   is chunked; struct nc_rng makes seeded random choices.
 * - Children (lib/child.c): nc_spawn() runs a function in a forked child,
 *   optionally inside a namespace; nc_child_wait(), the watchdog.
 * - Sockets (lib/sock.c): sockets, listeners and connections in a
 *   namespace; send/receive with timeouts.
 * - Transfers (lib/xfer.c): the "xfer" protocol (a 16-byte request header,
 *   then data up, data down, both half-closed) and a poll-driven engine
 *   that runs any number of such connections on either side.
 * - Programs (lib/prog.c): unmodified programs run in a cgroup and a
 *   namespace, and files of stream bytes for them.
 * - Test scaffolding (lib/suite.c): cmocka group setup/teardown, the
 *   per-test cleanup, and helpers that fail the current test (a connected
 *   pair, SO_ERROR, waiting for queued bytes).
 * - Tools (lib/tool.c): what the standalone checkers nc_fuzz_live and
 *   nc_stress share: option parsing, logging from threads, "ok"/"FAIL"
 *   checks, the module's reference count.
 * - Timeouts: every wait here takes a timeout and reports a hang as an
 *   error with a message (nc_err); children run under alarm().
 *
 * Only nc_watchdog(), the test helpers of lib/suite.c (nc_mkpair,
 * nc_so_error, nc_wait_readable_bytes) and the macros SKIP_UNLESS_NETCHANNEL
 * and nc_assert call cmocka; everything else is safe in forked children and
 * in tools such as nc_xfer. Functions return 0 / a result, or a negative
 * errno (or -1) with a description in nc_err.
 */
#ifndef NC_NET_H
#define NC_NET_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/tcp.h>
#include "nc_test.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "nc_gen() assumes a little-endian machine");

/* The two hosts (lib/hosts.c creates them; nc_hosts prints these). */
#define NC_NS_A		"nc_a"
#define NC_NS_B		"nc_b"
#define NC_IP_A		"10.99.0.1"
#define NC_IP_B		"10.99.0.2"
#define NC_DEV_A	"nc_va"		/* the veth end in nc_a */
#define NC_DEV_B	"nc_vb"		/* the veth end in nc_b */
#define NC_PREFIX_LEN	24
/* the same link's IPv6 addresses (nc_hosts_link() adds them too) */
#define NC_IP6_A	"fd99::1"
#define NC_IP6_B	"fd99::2"
#define NC_PREFIX6_LEN	64

#define NC_PROC_STATS	"/proc/net/netchannel/stats"
/* The same file of the calling thread's namespace (/proc/net is the main thread's). */
#define NC_PROC_STATS_THREAD "/proc/thread-self/net/netchannel/stats"
#define NC_SYSCTL_DIR	"/proc/sys/net/netchannel/"

#define NC_MIB		(1024ULL * 1024)

/* ------------------------------------------------- lib/base.c: errors, time */

/* The last error's description (set by nc_fail()). */
extern char nc_err[1024];

/* Set nc_err from @fmt and return @ret. */
__attribute__((format(printf, 2, 3)))
int nc_fail(int ret, const char *fmt, ...);

int64_t nc_now_ms(void);		/* CLOCK_MONOTONIC, milliseconds */
double nc_now(void);			/* CLOCK_MONOTONIC, seconds */
/* Milliseconds left until @deadline (nc_now_ms() based), clamped to >= 0. */
int nc_left_ms(int64_t deadline);

/* ------------------------------------------------ lib/base.c: protocol */

/* True for NC_PROTO=tcp; exits on anything but tcp/netchannel/unset. */
bool nc_proto_tcp(void);
int nc_proto(void);			/* IPPROTO_TCP or IPPROTO_NETCHANNEL */
const char *nc_proto_name(void);	/* "tcp" or "netchannel" */

/* In a test that only means something on NetChannel: skip it on TCP. */
#define SKIP_UNLESS_NETCHANNEL() do {					\
	if (nc_proto_tcp()) {						\
		printf("# %s: netchannel only, skipped on tcp\n", __func__); \
		skip();							\
	}								\
} while (0)

/* --------------------------------------- lib/data.c: data stream and hash */

/* Word @k of the stream @seed (splitmix64 of a counter). */
uint64_t nc_word(uint64_t seed, uint64_t k);
/* Bytes [@off, @off + @len) of the stream @seed into @buf. */
void nc_gen(uint64_t seed, uint64_t off, void *buf, size_t len);

/* Streaming 64-bit hash (xxh64's single-lane round over 8-byte words). */
struct nc_hash {
	uint64_t acc;
	uint64_t len;
	uint64_t pend;
	unsigned int npend;
};

uint64_t nc_rotl64(uint64_t x, int r);
void nc_hash_init(struct nc_hash *h);
void nc_hash_word(struct nc_hash *h, uint64_t w);
void nc_hash_update(struct nc_hash *h, const void *data, size_t len);
uint64_t nc_hash_final(const struct nc_hash *h);
uint64_t nc_hash_buf(const void *buf, size_t len);
/* Hash of bytes [0, @len) of the stream @seed. */
uint64_t nc_gen_hash(uint64_t seed, uint64_t len);

/*
 * Random choices (the tools nc_fuzz_live and nc_stress): a splitmix64
 * generator, one per thread; the same seed gives the same choices. Its
 * k'th nc_rnd64() is nc_word(seed, k - 1).
 */
struct nc_rng {
	uint64_t s;		/* the seed, then the state */
};

uint64_t nc_rnd64(struct nc_rng *r);
/* Uniform in [0, @n); 0 if @n is 0. */
uint32_t nc_rnd(struct nc_rng *r, uint32_t n);
/* Uniform in [@lo, @hi]. */
uint32_t nc_rnd_in(struct nc_rng *r, uint32_t lo, uint32_t hi);
/* True with probability @p. */
bool nc_chance(struct nc_rng *r, double p);

/* ------------------------------------ lib/hosts.c: namespaces and hosts */

/*
 * Switch this thread to the network namespace /run/netns/@name. Threads may
 * each be in their own namespace; the first call (from the main thread,
 * before any thread moves) fixes where nc_ns_leave() goes back to.
 */
int nc_ns_enter(const char *name);
/* Back to the namespace this process started in. */
int nc_ns_leave(void);

/*
 * Two hosts nc_a and nc_b, fresh (any old ones are deleted first): a veth
 * pair NC_DEV_A/NC_DEV_B with NC_IP_A/NC_IP_B and lo up; returns once b
 * answers a (a TCP connect() is refused). 0 or -1 with nc_err.
 */
int nc_hosts_create(void);
/* Delete nc_a and nc_b (if they exist); back to the root namespace. */
void nc_hosts_destroy(void);
/*
 * The same topology under other namespace names (the addresses and device
 * names are the same: they are per namespace). With @replace, namespaces
 * of those names are deleted first; without, one that exists already is
 * an error and nothing is touched.
 */
int nc_hosts_create_ns(const char *ns_a, const char *ns_b, bool replace);
void nc_hosts_destroy_ns(const char *ns_a, const char *ns_b);
/*
 * The parts those are made of, for other topologies (nc_fuzz_live's three
 * hosts; nc_stress re-creating one of its two). Each returns 0, or -1 with
 * nc_err.
 */
/* A network namespace @ns (/run/netns/@ns) with lo up. */
int nc_host_add(const char *ns);
/* Delete namespace @ns if it exists. */
void nc_host_del(const char *ns);
/*
 * A veth pair between two existing namespaces: @dev_a with @ip_a (prefix
 * NC_PREFIX_LEN) in @ns_a, @dev_b with @ip_b in @ns_b, both up.
 */
int nc_veth_add(const char *ns_a, const char *dev_a, const char *ip_a,
		const char *ns_b, const char *dev_b, const char *ip_b);
/* The veth pair of nc_hosts_create_ns(): NC_DEV_A/NC_IP_A, NC_DEV_B/NC_IP_B. */
int nc_hosts_link(const char *ns_a, const char *ns_b);
/*
 * Wait until @ip answers from @ns (a TCP connect() to its port 9 is
 * refused, or accepted), at most about @timeout_ms (-ETIMEDOUT).
 */
int nc_host_wait(const char *ns, const char *ip, int timeout_ms);

/*
 * The stats and sysctls below are those of @ns, or with @ns NULL of the
 * calling thread's namespace; they are safe in threads (each reads its
 * own namespace's files) and leave the caller in the root namespace when
 * @ns is given.
 */
/* Read a "key: value" number of @ns's /proc/net/netchannel/stats. */
int nc_stat_get(const char *ns, const char *key, uint64_t *val);
/* The whole stats file of @ns, one line, for failure messages. */
const char *nc_stats_line(const char *ns);

/* Every line of a stats file, as name/value pairs. */
#define NC_STATS_MAX	64
struct nc_stats {
	int n;
	char name[NC_STATS_MAX][40];
	uint64_t val[NC_STATS_MAX];
};

/* @ns's stats now; 0, or -errno with nc_err and @s empty. */
int nc_stats_snap(const char *ns, struct nc_stats *s);
/* The value of @name in @s, 0 if it has none. */
uint64_t nc_stats_val(const struct nc_stats *s, const char *name);
/*
 * Wait up to @timeout_ms (in steps of 100 ms) until none of the @n
 * namespaces @ns has a NetChannel socket ("sockets" of its stats);
 * @left[i] gets the last count of @ns[i] (-1: unreadable). Returns the
 * seconds waited.
 */
double nc_sockets_wait(const char *const *ns, int n, long *left, int timeout_ms);
/* Write @val to /proc/sys/net/netchannel/@name inside @ns. 0 or -errno. */
int nc_sysctl_set(const char *ns, const char *name, const char *val);
int nc_sysctl_get(const char *ns, const char *name, long *val);
/* The same file as text (several values too), its newline cut. */
int nc_sysctl_get_str(const char *ns, const char *name, char *buf, size_t len);
/*
 * The receive memory charged to @ns's socket @id (the rmem column of
 * /proc/net/netchannel/sockets), or with @id 0 to all its sockets; -1 if
 * the file is unreadable or has no socket @id.
 */
long nc_sock_rmem(const char *ns, uint32_t id);

/* ------------------------------------------------ lib/child.c: children */

#define NC_MAX_CHILDREN 16

typedef int (*nc_child_fn)(void *arg, int wfd);

/*
 * Run @fn(@arg, wfd) in a forked child, inside namespace @ns (NULL: stay),
 * killed by SIGALRM after @timeout_s. Its return value is the exit status.
 * If @rfd is not NULL, *@rfd is the read end of a pipe whose write end the
 * child gets as wfd (for results). Returns the pid or -1.
 */
pid_t nc_spawn(const char *ns, unsigned int timeout_s, nc_child_fn fn,
	       void *arg, int *rfd);
void nc_child_forget(pid_t pid);
/*
 * Wait up to @timeout_ms for child @pid (killing it on timeout). Returns
 * its exit status (0..255), or -1 with nc_err if it was killed or hung.
 */
int nc_child_wait(pid_t pid, int timeout_ms);
/* Kill and reap every child still registered. */
void nc_children_kill(void);
/* Close every socket and pipe fd >= 3 (cleanup after a failed test). */
void nc_close_all_sockets(void);
/* read() exactly @len bytes from a pipe within @timeout_ms: 0, -1 with nc_err. */
int nc_read_full(int fd, void *buf, size_t len, int timeout_ms);
/* Fail the current cmocka test if it runs longer than @secs. */
void nc_watchdog(int secs);

/* ------------------------------------------------- lib/sock.c: sockets */

struct sockaddr_in nc_sin(const char *ip, uint16_t port);
/*
 * The family of the suites' sockets: AF_INET, or AF_INET6 when NC_FAMILY=6
 * (run-tests.sh runs the socket suites both ways).
 */
int nc_family(void);
/*
 * @ip:@port as a sockaddr of nc_family(). With AF_INET6, NC_IP_A and NC_IP_B
 * are NC_IP6_A and NC_IP6_B, another IPv4 address is v4-mapped, and an IPv6
 * one is itself; NULL or "0.0.0.0" is the wildcard. Returns the length.
 */
socklen_t nc_sa(const char *ip, uint16_t port, struct sockaddr_storage *ss);
/* Is @sa (of @len) the address nc_sa(@ip, @port) gives (@port 0: any but 0)? */
bool nc_sa_is(const struct sockaddr_storage *sa, socklen_t len, const char *ip,
	      uint16_t port);
/* the port of an AF_INET or AF_INET6 @sa */
uint16_t nc_sa_port(const struct sockaddr_storage *sa);
/* A stream socket of NC_PROTO and nc_family() in namespace @ns (NULL: current). */
int nc_socket_in(const char *ns, int type_flags);
/* A fresh port number for a test listener (never the channel port). */
uint16_t nc_next_port(void);
/* A listening socket on the wildcard (0.0.0.0 or [::]):@port in namespace @ns. */
int nc_listen_in(const char *ns, uint16_t port, int backlog);
/*
 * The same with socket() flags @type_flags (SOCK_NONBLOCK) and, unless 0,
 * SO_RCVBUF = @rcvbuf set before bind(). The fd or -errno with nc_err.
 */
int nc_listen_opts(const char *ns, uint16_t port, int backlog, int type_flags,
		   int rcvbuf);
int nc_set_timeo(int fd, int opt, int ms);
int nc_set_nonblock(int fd, bool on);
/*
 * A blocking socket in @ns connected to @ip:@port with a blocking
 * connect(), bounded by SO_SNDTIMEO = @timeout_ms (cleared afterwards).
 * Returns the fd or -errno.
 */
int nc_connect_in(const char *ns, const char *ip, uint16_t port, int timeout_ms);
/* accept() on @lfd, waiting at most @timeout_ms. Returns the fd or -errno. */
int nc_accept_timeout(int lfd, int timeout_ms);
/*
 * Send all of @buf, waiting at most @timeout_ms in total (works on blocking
 * and non-blocking sockets; never raises SIGPIPE). 0 or -errno.
 */
int nc_send_all(int fd, const void *buf, size_t len, int timeout_ms);
/*
 * Receive up to @len bytes until @len or EOF, waiting at most @timeout_ms in
 * total. Returns the byte count (< @len only at EOF) or -errno.
 */
ssize_t nc_recv_all(int fd, void *buf, size_t len, int timeout_ms);
/*
 * Read until EOF, hashing; at most @max bytes, @timeout_ms in total.
 * Returns the count (*@hash: the hash), or -errno.
 */
int64_t nc_recv_hash_eof(int fd, uint64_t max, int timeout_ms, uint64_t *hash);
/* Send bytes [@off, @off + @len) of stream @seed. 0 or -errno. */
int nc_send_gen(int fd, uint64_t seed, uint64_t off, uint64_t len, int timeout_ms);

/* What nc_sender_main() sends: @len bytes of stream @seed on @fd. */
struct nc_sender {
	int fd;
	uint64_t seed, len;
};

/*
 * Child (nc_spawn() with a struct nc_sender): send it all within 60 s,
 * then shut down for writing. 0, or 1 with the error on stderr.
 */
int nc_sender_main(void *arg, int wfd);

/*
 * @c and @s are the two ends of one connection: @len bytes of stream
 * @seed from @c and of stream @seed + 1 from @s at once (two children
 * send), each read byte-exact to the end of the stream within 30 s.
 * 0, or -1 with nc_err.
 */
int nc_exchange(int c, int s, uint64_t len, uint64_t seed);

/* --------------------------------------------- lib/xfer.c: xfer engine */

/*
 * The xfer protocol, per connection: the client sends a struct nc_xhdr,
 * then up bytes of stream nc_seed_up(base, idx), then half-closes; the
 * server sends reply_len bytes of stream nc_seed_down(base, idx), then
 * half-closes; each side reads the other's bytes to EOF, hashing them.
 */
#define NC_XHDR_MAGIC	0x4E435431u	/* "NCT1" */

struct nc_xhdr {
	uint32_t magic;
	uint32_t idx;
	uint64_t reply_len;
};

uint64_t nc_seed_up(uint64_t base, uint32_t idx);
uint64_t nc_seed_down(uint64_t base, uint32_t idx);

/* A transfer: @nsock connections, @up bytes each up, @down bytes each down. */
struct nc_xspec {
	int nsock;
	uint64_t up, down;
	uint64_t seed;
	size_t chunk;		/* bytes per send/recv; 0: 64 KiB */
	int timeout_ms;		/* 0: derived from the size */
	bool raw;		/* no request header: exactly @up bytes on the
				 * wire (server flows number themselves in
				 * accept order, so only for nsock == 1) */
	bool keep_open;		/* do not close finished sockets */
};

struct nc_flow {
	int fd;
	uint32_t idx;
	int err;		/* first errno on this flow, 0 if none */
	const char *what;	/* "send", "recv", "header" with err */
	/* transmit: the header (if any), then tx_len bytes of tx_seed */
	uint8_t hdr[sizeof(struct nc_xhdr)];
	unsigned int hdr_len, hdr_off;
	uint64_t tx_seed, tx_len, tx_off;
	bool tx_ready, tx_done;
	/* receive: the request header (server), then bytes to EOF */
	bool want_hdr;
	uint8_t rhdr[sizeof(struct nc_xhdr)];
	unsigned int rhdr_off;
	struct nc_hash rx_hash;
	uint64_t rx_bytes;
	bool rx_eof;
	bool closed;
};

/* What a server reports per connection. */
struct nc_flow_result {
	uint32_t idx;
	int32_t err;
	uint64_t rx_bytes;
	uint64_t rx_hash;
	uint64_t tx_bytes;
};

void nc_flow_init_client(struct nc_flow *f, int fd, uint32_t idx,
			 const struct nc_xspec *s);
/* A server flow for the @idx'th accepted connection. */
void nc_flow_init_server(struct nc_flow *f, int fd, uint32_t idx,
			 const struct nc_xspec *s);
bool nc_flow_finished(const struct nc_flow *f);
void nc_flow_error(struct nc_flow *f, int err, const char *what);
/* One non-blocking send step. */
void nc_flow_tx(struct nc_flow *f, size_t chunk);
/* One non-blocking receive step. */
void nc_flow_rx(struct nc_flow *f, size_t chunk, uint64_t base);
/* The flow's progress, one line (a static buffer). */
const char *nc_flow_state(const struct nc_flow *f);
/* The transfer's time limit in ms: s->timeout_ms, or derived from its size. */
int nc_xspec_timeout(const struct nc_xspec *s);
/*
 * Run flows fl[0..*nfl) until each has sent everything, half-closed and
 * read EOF (then its socket is closed, unless s->keep_open). With
 * @lfd >= 0, also accept @n_accept connections as server flows appended to
 * fl (capacity @cap). Returns 0 if every flow completed, -1 with
 * nc_err otherwise (timeout, or the first flow's error).
 */
int nc_flows_run(struct nc_flow *fl, int *nfl, int cap, int lfd, int n_accept,
		 const struct nc_xspec *s);
void nc_flow_result(const struct nc_flow *f, struct nc_flow_result *r);

struct nc_srv_arg {
	int lfd;
	const struct nc_xspec *spec;
};

/* Server side (child): accept spec->nsock connections, run, report. */
int nc_srv_main(void *arg, int wfd);
/*
 * Client side: connect spec->nsock sockets from namespace @ns to @ip:@port
 * and run them; fl must hold nsock flows. 0 or -1 with nc_err.
 */
int nc_client_run(const struct nc_xspec *s, const char *ns, const char *ip,
		  uint16_t port, struct nc_flow *fl);
/* Read @n server results from @rfd within @timeout_ms. 0 or -1. */
int nc_read_results(int rfd, struct nc_flow_result *res, int n, int timeout_ms);
/* Check both directions of every connection against the streams. */
int nc_xfer_verify(const struct nc_xspec *s, const struct nc_flow_result *cli,
		   const struct nc_flow_result *srv);

struct nc_cli_arg {
	const struct nc_xspec *spec;
	uint16_t port;
	int ctl;		/* with keep_open: exit when this pipe says so */
};

/*
 * Client side in a child (ns a): run, write nsock results to @wfd; with
 * keep_open, keep the sockets until a byte (or EOF) arrives on a->ctl.
 */
int nc_cli_main(void *arg, int wfd);
/*
 * A whole verified transfer: server in nc_b (child), client here in nc_a.
 * *@secs (if not NULL) gets the client's wall time. 0 or -1 with nc_err.
 */
int nc_xfer(const struct nc_xspec *s, double *secs);

/* ------------------------------------------ lib/tool.c: standalone tools */

/*
 * Options of a tool: --@name (or -@key) sets *@val: a bool to true
 * (NC_OPT_FLAG), or from its argument an int (NC_OPT_INT, atoi), a
 * uint64_t (NC_OPT_U64, strtoull in any base) or a double (NC_OPT_DOUBLE,
 * atof). A table ends with an entry whose name is NULL; --help (-h) is
 * implied.
 */
enum nc_opt_type { NC_OPT_FLAG, NC_OPT_INT, NC_OPT_U64, NC_OPT_DOUBLE };

struct nc_opt {
	const char *name;
	int key;
	enum nc_opt_type type;
	void *val;
};

/*
 * Parse @argv by @opts. Returns -1 when every argument was an option (go
 * on), or the exit status: 0 after --help (@usage on stdout), 2 on an
 * unknown option, a missing value or anything else left (@usage on stderr).
 */
int nc_opts_parse(int argc, char **argv, const struct nc_opt *opts,
		  void (*usage)(FILE *f));

/*
 * printf() and fflush(stdout) under the log lock, so lines of several
 * threads do not mix; take the lock around several printf()s that must
 * stay together (the lock is not recursive: no nc_logf() under it).
 */
__attribute__((format(printf, 1, 2)))
void nc_logf(const char *fmt, ...);
void nc_log_lock(void);
void nc_log_unlock(void);

/* A check: "ok - MSG" or "FAIL - MSG", counted (main thread only). */
__attribute__((format(printf, 2, 3)))
void nc_check(bool ok, const char *fmt, ...);
/* "N passed, M failed"; returns the exit status (1 if any failed, else 0). */
int nc_checks_report(void);

/* /sys/module/netchannel/refcnt, or -1 if the module is not loaded. */
long nc_module_refcnt(void);
/*
 * The reference count at a tool's start; if the module is not loaded, a
 * line saying so, a failed "setup" check and -1.
 */
long nc_check_module_loaded(void);
/*
 * Wait up to @timeout_ms (in steps of 100 ms) until the module's reference
 * count is at most @max (its sockets are gone). Returns the seconds waited.
 */
double nc_module_refcnt_wait(long max, int timeout_ms);

/* ------------------------------------ lib/suite.c: cmocka scaffolding */

/* Per-test teardown: no alarm, no children, no sockets, root namespace. */
int nc_test_cleanup(void **state);
/* Group setup: the module (unless NC_PROTO=tcp) and the two hosts. */
int nc_group_setup(void **state);
/* Group teardown: no children, no sockets, no hosts, the module unloaded. */
int nc_group_teardown(void **state);

/*
 * Helpers for tests on the two hosts; they fail the current cmocka test
 * (not for children or tools).
 */
/* A connected pair: *@c (nc_a) connected to *@s (accepted in nc_b). */
void nc_mkpair(int *c, int *s);
/* getsockopt(SO_ERROR) of @fd (which clears it). */
int nc_so_error(int fd);
/* Wait until @fd has @n (<= 1 MiB) bytes queued (MSG_PEEK), at most @ms. */
void nc_wait_readable_bytes(int fd, size_t n, int ms);

/* fail_msg() with nc_err unless @cond. */
#define nc_assert(cond, ...) do {						\
	if (!(cond)) {								\
		char __m[512];							\
		snprintf(__m, sizeof(__m), __VA_ARGS__);			\
		fail_msg("%s: %s", __m, nc_err);				\
	}									\
} while (0)

/* ---------------------------------------------- lib/prog.c: programs */

/* Move the calling process into cgroup v2 directory @cg. 0 or -errno. */
int nc_cg_join(const char *cg);
/* nc_prog_start()'s @in: a pipe that stays open (busybox nc -l ends at EOF) */
#define NC_IN_OPEN ((const char *)1)
/*
 * Start @argv (PATH is searched) in cgroup @cg and namespace @ns (NULL:
 * stay), stdin from file @in and stdout to file @out (NULL: inherited).
 * Returns its pid, or -1. Reap it with nc_child_wait().
 */
pid_t nc_prog_start(const char *cg, const char *ns, const char *in,
		    const char *out, const char *const argv[]);
/* The same, waited for: its exit status, or -1 (killed, hung). */
int nc_prog_run(const char *cg, const char *ns, const char *in,
		const char *out, const char *const argv[], int timeout_ms);
/* A shell command line, run as nc_prog_run() runs a program. */
int nc_sh_in(const char *cg, const char *ns, int timeout_ms,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* SIGTERM, then reap. */
void nc_prog_stop(pid_t pid);
/*
 * Wait until a NetChannel listener on @port is up in @ns (a server that
 * started: its TCP side listens right after). 0 or -ETIMEDOUT.
 */
int nc_wait_nc_listen(const char *ns, uint16_t port, int timeout_ms);
/* File @path holds @len bytes of stream @seed. 0 or -errno with nc_err. */
int nc_file_gen(const char *path, uint64_t seed, size_t len);
int nc_file_check(const char *path, uint64_t seed, size_t len);

#endif /* NC_NET_H */
