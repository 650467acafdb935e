// SPDX-License-Identifier: GPL-2.0
/*
 * `ncload enable CGROUP`: the stream sockets (IPv4 and IPv6) that tasks of an enabled
 * cgroup (or of its descendants) create are NetChannel sockets, with no
 * LD_PRELOAD, so static binaries and programs that bypass libc get them
 * too. Checked on the socket types a program asks for (SO_PROTOCOL), on
 * the cgroup tree, on disable, on ncload's errors, and with busybox's
 * static httpd, wget and nc, byte for byte, against the same run over
 * plain TCP (the cgroup not enabled). That the busybox runs were
 * NetChannel's is shown by the bytes the module counted. busybox nc -l,
 * whose socket is a dual-stack IPv6 one, is a NetChannel listener in an
 * enabled cgroup, reached over IPv4 and over IPv6; in a cgroup that is
 * not enabled it is a TCP one, reached by an enabled client through the
 * fallback to TCP.
 *
 * Hosts: namespace nc_a (10.99.0.1, clients) and nc_b (10.99.0.2,
 * servers), see nc_net.h. The suite needs the module (not NC_PROTO=tcp).
 */
#define _GNU_SOURCE
#include "nc_net.h"
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define CG		"/sys/fs/cgroup/nc_enable"
#define CG_SUB		CG "/sub"
#define CG_OFF		"/sys/fs/cgroup/nc_enable_off"
#define WWW		"/tmp/nc_www"
#define FILE_LEN	(3 << 20)
#define OUT		"/tmp/nc_enable_out"

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command; its exit status, or -1. */
static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int proto_of(int fd)
{
	socklen_t len = sizeof(int);
	int p = -1;

	getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &p, &len);
	return p;
}

/* The protocol of a socket(@family, @type, @proto) made in cgroup @cg. */
struct sock_ask {
	const char *cg;
	int family, type, proto;
};

static int sock_proto_main(void *arg, int wfd)
{
	struct sock_ask *a = arg;
	int fd, p;

	if (a->cg && nc_cg_join(a->cg))
		return 1;
	fd = socket(a->family, a->type, a->proto);
	p = fd < 0 ? -errno : proto_of(fd);
	return write(wfd, &p, sizeof(p)) == sizeof(p) ? 0 : 1;
}

static int sock_proto(const char *cg, int family, int type, int proto)
{
	struct sock_ask a = { cg, family, type, proto };
	int rfd, p = -2000;
	pid_t pid;

	pid = nc_spawn("nc_a", 20, sock_proto_main, &a, &rfd);
	assert_true(pid > 0);
	assert_int_equal(nc_read_full(rfd, &p, sizeof(p), 10000), 0);
	assert_int_equal(nc_child_wait(pid, 10000), 0);
	close(rfd);
	return p;
}

static void cg_make(const char *cg)
{
	assert_true(!mkdir(cg, 0755) || errno == EEXIST);
}

static int enable_setup(void **state)
{
	cg_make(CG);
	cg_make(CG_SUB);
	cg_make(CG_OFF);
	return 0;
}

static int enable_cleanup(void **state)
{
	run("ncload disable " CG " >/dev/null 2>&1");
	run("ncload disable " CG_SUB " >/dev/null 2>&1");
	run("rm -rf " WWW " " OUT "*");
	return nc_test_cleanup(state);
}

/* `ncload ARGS` fails with exit 1 and one line "ncload: ..." on stderr. */
static void ncload_fails(const char *args, const char *what)
{
	char cmd[512], out[512] = "";
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "ncload %s 2>&1 >/dev/null", args);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	st = pclose(p);
	printf("# ncload %s: %s", args, out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_memory_equal(out, "ncload: ", 8);
	assert_non_null(strstr(out, what));
}

/* ncload status's output contains @s (or, with !@in, does not). */
static void status_has(const char *s, bool in)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "ncload status | grep -qF '%s'", s);
	assert_int_equal(run("%s", cmd), in ? 0 : 1);
}

static void test_enable_socket_types(void **state)
{
	nc_watchdog(60);
	/* before: TCP everywhere */
	assert_int_equal(sock_proto(CG, AF_INET, SOCK_STREAM, 0), IPPROTO_TCP);
	status_has("enabled cgroups: none", true);

	assert_int_equal(run("ncload enable " CG " >/dev/null"), 0);
	status_has(CG " (id", true);
	/* protocol 0 and IPPROTO_TCP, with and without type flags */
	assert_int_equal(sock_proto(CG, AF_INET, SOCK_STREAM, 0),
			 IPPROTO_NETCHANNEL);
	assert_int_equal(sock_proto(CG, AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
				    SOCK_CLOEXEC, IPPROTO_TCP),
			 IPPROTO_NETCHANNEL);
	/* descendants too */
	assert_int_equal(sock_proto(CG_SUB, AF_INET, SOCK_STREAM, 0),
			 IPPROTO_NETCHANNEL);
	assert_int_equal(sock_proto(CG, AF_INET6, SOCK_STREAM, 0),
			 IPPROTO_NETCHANNEL);
	assert_int_equal(sock_proto(CG, AF_INET6, SOCK_STREAM, IPPROTO_TCP),
			 IPPROTO_NETCHANNEL);
	/* what NetChannel is not stays as it was */
	assert_int_equal(sock_proto(CG, AF_INET6, SOCK_DGRAM, 0), IPPROTO_UDP);
	assert_int_equal(sock_proto(CG, AF_INET, SOCK_DGRAM, 0), IPPROTO_UDP);
	assert_int_equal(sock_proto(CG, AF_INET, SOCK_STREAM, IPPROTO_MPTCP),
			 IPPROTO_MPTCP);
	/* other cgroups, and the root, are not enabled */
	assert_int_equal(sock_proto(CG_OFF, AF_INET, SOCK_STREAM, 0),
			 IPPROTO_TCP);
	assert_int_equal(sock_proto(NULL, AF_INET, SOCK_STREAM, 0),
			 IPPROTO_TCP);

	/* a second cgroup shares the program; disabling one keeps the other */
	assert_int_equal(run("ncload enable " CG_OFF " >/dev/null"), 0);
	assert_int_equal(sock_proto(CG_OFF, AF_INET, SOCK_STREAM, 0),
			 IPPROTO_NETCHANNEL);
	assert_int_equal(run("ncload enable " CG " | grep -q 'enabled already'"),
			 0);
	assert_int_equal(run("ncload disable " CG_OFF " >/dev/null"), 0);
	assert_int_equal(sock_proto(CG_OFF, AF_INET, SOCK_STREAM, 0),
			 IPPROTO_TCP);
	assert_int_equal(sock_proto(CG, AF_INET, SOCK_STREAM, 0),
			 IPPROTO_NETCHANNEL);

	/* the last disable detaches the program */
	assert_int_equal(run("ncload disable " CG " >/dev/null"), 0);
	assert_int_equal(sock_proto(CG, AF_INET, SOCK_STREAM, 0), IPPROTO_TCP);
	status_has("enabled cgroups: none", true);
	assert_int_equal(access("/sys/fs/bpf/netchannel/enable_link", F_OK), -1);
}

static void test_enable_errors(void **state)
{
	nc_watchdog(60);
	ncload_fails("enable /tmp", "not a cgroup v2 directory");
	ncload_fails("enable /nonexistent", "No such file");
	ncload_fails("disable " CG, "is not enabled");
	assert_int_equal(run("ncload enable " CG " >/dev/null"), 0);
	ncload_fails("disable " CG_OFF, "is not enabled");
	assert_int_equal(run("ncload enable >/dev/null 2>&1"), 2);
	assert_int_equal(run("ncload enable " CG " " CG_OFF " >/dev/null 2>&1"),
			 2);
}

/* The module's byte counter @name in namespace @ns. */
static uint64_t stat_of(const char *ns, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(nc_stat_get(ns, name, &v), 0);
	return v;
}

static uint64_t stat_a(const char *name)
{
	uint64_t v = 0;

	assert_int_equal(nc_stat_get("nc_a", name, &v), 0);
	return v;
}

/*
 * busybox httpd in @cg on nc_b, busybox wget in @cg on nc_a (@nc: @cg is
 * enabled): the file arrives byte-exact. Returns the bytes NetChannel sent on nc_b meanwhile.
 */
static uint64_t wget_run(const char *cg, bool nc, uint64_t seed)
{
	uint64_t tx0 = stat_of("nc_b", "bytes_tx");
	uint16_t port = nc_next_port();
	char addr[32], url[64];
	int i, st = -1;
	pid_t srv;

	snprintf(addr, sizeof(addr), "10.99.0.2:%u", port);
	snprintf(url, sizeof(url), "http://%s/f", addr);
	run("mkdir -p " WWW);
	assert_int_equal(nc_file_gen(WWW "/f", seed, FILE_LEN), 0);
	srv = nc_prog_start(cg, "nc_b", NULL, NULL, (const char *[]){
		"busybox", "httpd", "-f", "-p", addr, "-h", WWW, NULL });
	/*
	 * A wget before httpd listens may be refused over NetChannel and
	 * then, falling back, find httpd's TCP side listening
	 */
	if (nc)
		assert_int_equal(nc_wait_nc_listen("nc_b", port, 20000), 0);
	/* the server is up when a wget gets the file */
	for (i = 0; i < 100 && st; i++) {
		unlink(OUT);
		st = nc_prog_run(cg, "nc_a", NULL, NULL, (const char *[]){
			"busybox", "wget", "-q", "-O", OUT, url,
			NULL }, 60000);
		if (st)
			nc_sleep_ms(100);
	}
	nc_prog_stop(srv);
	if (st)
		printf("# wget: %d %s\n", st, nc_err);
	assert_int_equal(st, 0);
	assert_int_equal(nc_file_check(OUT, seed, FILE_LEN), 0);
	return stat_of("nc_b", "bytes_tx") - tx0;
}

static void test_enable_busybox_wget(void **state)
{
	uint64_t nc;

	nc_watchdog(120);
	/* TCP first: validates the test */
	assert_true(wget_run(CG, false, 11) < FILE_LEN);
	assert_int_equal(run("ncload enable " CG " >/dev/null"), 0);
	nc = wget_run(CG, true, 12);
	printf("# NetChannel bytes sent by the server: %llu\n",
	       (unsigned long long)nc);
	assert_true(nc >= FILE_LEN);
}

/*
 * A server in a cgroup: what socket(AF_INET, SOCK_STREAM, 0) gives a task
 * there (a NetChannel socket once the cgroup is enabled) listens on
 * @port, takes one connection and reads it to the end of the stream. On
 * wfd: a ready byte after listen(), then the count and hash it read.
 */
struct sink {
	const char *cg;
	uint16_t port;
};

static int sink_main(void *arg, int wfd)
{
	struct sink *k = arg;
	struct sockaddr_in sin = nc_sin("0.0.0.0", k->port);
	int one = 1, lfd, fd;
	uint64_t res[2];
	char ready = 1;

	if (nc_cg_join(k->cg))
		return 1;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 4) ||
	    write(wfd, &ready, 1) != 1)
		return 2;
	fd = nc_accept_timeout(lfd, 30000);
	if (fd < 0)
		return 3;
	res[0] = nc_recv_hash_eof(fd, 2 * FILE_LEN, 30000, &res[1]);
	return write(wfd, res, sizeof(res)) == sizeof(res) ? 0 : 4;
}

/*
 * busybox nc in @cg on nc_a sends a file to a sink in @cg on nc_b and
 * ends the stream: the sink read it byte-exact. Returns the bytes
 * NetChannel received on nc_b meanwhile.
 */
static uint64_t netcat_run(const char *cg, uint64_t seed)
{
	struct sink k = { cg, nc_next_port() };
	uint64_t rx0 = stat_of("nc_b", "bytes_rx"), res[2];
	char port[8], ready;
	int rfd;
	pid_t srv;

	snprintf(port, sizeof(port), "%u", k.port);
	assert_int_equal(nc_file_gen(OUT ".src", seed, FILE_LEN), 0);
	srv = nc_spawn("nc_b", 60, sink_main, &k, &rfd);
	assert_true(srv > 0);
	assert_int_equal(nc_read_full(rfd, &ready, 1, 20000), 0);
	assert_int_equal(nc_prog_run(cg, "nc_a", OUT ".src", NULL, (const char *[]){
		"busybox", "nc", "10.99.0.2", port, NULL }, 60000), 0);
	assert_int_equal(nc_read_full(rfd, res, sizeof(res), 30000), 0);
	assert_int_equal(nc_child_wait(srv, 10000), 0);
	close(rfd);
	assert_int_equal(res[0], FILE_LEN);
	assert_true(res[1] == nc_gen_hash(seed, FILE_LEN));
	return stat_of("nc_b", "bytes_rx") - rx0;
}

static void test_enable_busybox_nc(void **state)
{
	uint64_t nc;

	nc_watchdog(120);
	assert_true(netcat_run(CG, 21) < FILE_LEN);
	assert_int_equal(run("ncload enable " CG " >/dev/null"), 0);
	nc = netcat_run(CG, 22);
	printf("# NetChannel bytes received by the server: %llu\n",
	       (unsigned long long)nc);
	assert_true(nc >= FILE_LEN);
}

/*
 * busybox nc -l in @srv_cg listens on :: (dual-stack); busybox nc in
 * enabled CG sends it a file to @addr: it arrives byte-exact. Returns the
 * bytes NetChannel received on nc_b meanwhile.
 */
static uint64_t listen_run(const char *srv_cg, const char *addr,
			   uint64_t seed)
{
	uint64_t rx0 = stat_of("nc_b", "bytes_rx");
	uint16_t p = nc_next_port();
	char port[8];
	int i, st = -1;
	pid_t srv;

	snprintf(port, sizeof(port), "%u", p);
	assert_int_equal(nc_file_gen(OUT ".src", seed, FILE_LEN), 0);
	srv = nc_prog_start(srv_cg, "nc_b", NC_IN_OPEN, OUT, (const char *[]){
		"busybox", "nc", "-l", "-p", port, NULL });
	/* over NetChannel, not through a fallback to its TCP side */
	if (!strcmp(srv_cg, CG))
		assert_int_equal(nc_wait_nc_listen("nc_b", p, 20000), 0);
	for (i = 0; i < 100 && st; i++) {
		st = nc_prog_run(CG, "nc_a", OUT ".src", NULL, (const char *[]){
			"busybox", "nc", addr, port, NULL }, 60000);
		if (st)
			nc_sleep_ms(100);
	}
	if (st)
		nc_prog_stop(srv);
	assert_int_equal(st, 0);
	/* the listener exits at the end of the stream */
	assert_int_equal(nc_child_wait(srv, 30000), 0);
	assert_int_equal(nc_file_check(OUT, seed, FILE_LEN), 0);
	return stat_of("nc_b", "bytes_rx") - rx0;
}

/*
 * busybox nc -l in an enabled cgroup is an AF_INET6 NetChannel listener:
 * an enabled busybox nc reaches it over IPv4 (v4-mapped on its side) and
 * over IPv6, NetChannel both times.
 */
static void test_enable_busybox_nc_listen(void **state)
{
	nc_watchdog(120);
	assert_int_equal(run("ncload enable " CG " >/dev/null"), 0);
	assert_true(listen_run(CG, NC_IP_B, 41) >= FILE_LEN);
	assert_true(listen_run(CG, NC_IP6_B, 42) >= FILE_LEN);
}

/*
 * busybox nc -l in a cgroup that is not enabled is a TCP listener; busybox
 * nc in an enabled cgroup connects with a NetChannel socket, which is
 * refused and falls back to TCP: the file arrives byte-exact all the same.
 */
static void test_enable_fallback_to_tcp_server(void **state)
{
	uint64_t fb0 = stat_a("fallback_no_host") +
		       stat_a("fallback_no_listener");

	nc_watchdog(120);
	assert_int_equal(run("ncload enable " CG " >/dev/null"), 0);
	assert_true(listen_run(CG_OFF, NC_IP_B, 31) < FILE_LEN);
	assert_true(listen_run(CG_OFF, NC_IP6_B, 32) < FILE_LEN);
	assert_true(stat_a("fallback_no_host") +
		    stat_a("fallback_no_listener") >= fb0 + 2);
}

/* ---- port rules: ncload enable CGROUP --ports LIST ------------------------ */

#define RULE_LEN	(256 << 10)

/*
 * In CG on nc_b: what socket(AF_INET, SOCK_STREAM, 0) gives listens on
 * port @arg and takes one client, reading it to the end. On wfd: the
 * listener's protocol (once listening), then the accepted socket's, the
 * bytes and their hash.
 */
static int rule_srv_main(void *arg, int wfd)
{
	uint16_t port = *(uint16_t *)arg;
	struct sockaddr_in sin = nc_sin("0.0.0.0", port);
	int one = 1, lfd, fd, p;
	uint64_t res[3];

	if (nc_cg_join(CG))
		return 1;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 4))
		return 2;
	p = proto_of(lfd);
	if (write(wfd, &p, sizeof(p)) != sizeof(p))
		return 3;
	fd = nc_accept_timeout(lfd, 30000);
	if (fd < 0)
		return 4;
	res[0] = proto_of(fd);
	res[1] = nc_recv_hash_eof(fd, 2 * RULE_LEN, 30000, &res[2]);
	return write(wfd, res, sizeof(res)) == sizeof(res) ? 0 : 5;
}

/* In CG on nc_a: connect to nc_b's @arg port, send, end; on wfd: the protocol. */
static int rule_cli_main(void *arg, int wfd)
{
	uint16_t port = *(uint16_t *)arg;
	struct sockaddr_in sin = nc_sin(NC_IP_B, port);
	int fd, p;

	if (nc_cg_join(CG))
		return 1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		return 2;
	p = proto_of(fd);
	if (write(wfd, &p, sizeof(p)) != sizeof(p) ||
	    nc_send_gen(fd, port, 0, RULE_LEN, 30000) || shutdown(fd, SHUT_WR))
		return 3;
	return 0;
}

/*
 * A server and a client in CG on @port: the protocols the listener, the
 * client and the accepted socket have are @lw, @cw and @aw; the bytes
 * arrive exact.
 */
static void rule_run3(uint16_t port, int lw, int cw, int aw)
{
	int srfd, crfd, lp = -1, cp = -1;
	uint64_t res[3];
	pid_t srv, cli;

	srv = nc_spawn("nc_b", 60, rule_srv_main, &port, &srfd);
	assert_true(srv > 0);
	assert_int_equal(nc_read_full(srfd, &lp, sizeof(lp), 20000), 0);
	cli = nc_spawn("nc_a", 60, rule_cli_main, &port, &crfd);
	assert_true(cli > 0);
	assert_int_equal(nc_read_full(crfd, &cp, sizeof(cp), 20000), 0);
	assert_int_equal(nc_read_full(srfd, res, sizeof(res), 30000), 0);
	assert_int_equal(nc_child_wait(cli, 10000), 0);
	assert_int_equal(nc_child_wait(srv, 10000), 0);
	close(srfd);
	close(crfd);
	printf("# port %u: listener %d, client %d, accepted %d\n", port, lp, cp,
	       (int)res[0]);
	assert_int_equal(lp, lw);
	assert_int_equal(cp, cw);
	assert_int_equal(res[0], aw);
	assert_int_equal(res[1], RULE_LEN);
	assert_true(res[2] == nc_gen_hash(port, RULE_LEN));
}

static void rule_run(uint16_t port, int want)
{
	rule_run3(port, want, want, want);
}

/*
 * --ports: connections to and listeners on the ports listed are
 * NetChannel's, the others plain TCP (counted in fallback_rule on both
 * hosts); enabling again without --ports gives every port back.
 */
static void test_enable_ports(void **state)
{
	uint16_t in = nc_next_port(), out = nc_next_port(), r0 = nc_next_port();
	uint64_t a0 = stat_a("fallback_rule"), b0 = stat_of("nc_b", "fallback_rule");
	char cmd[256];

	nc_watchdog(180);
	nc_next_port();
	snprintf(cmd, sizeof(cmd), "ncload enable " CG " --ports %u,%u-%u >/dev/null",
		 in, r0, r0 + 1);
	assert_int_equal(run("%s", cmd), 0);
	snprintf(cmd, sizeof(cmd), CG " (id");
	status_has(cmd, true);
	snprintf(cmd, sizeof(cmd), "ports %u,%u-%u", in, r0, r0 + 1);
	status_has(cmd, true);
	rule_run(in, IPPROTO_NETCHANNEL);
	rule_run(r0 + 1, IPPROTO_NETCHANNEL);	/* in the range */
	assert_int_equal(stat_a("fallback_rule"), a0);
	rule_run(out, IPPROTO_TCP);
	assert_int_equal(stat_a("fallback_rule"), a0 + 1);
	assert_int_equal(stat_of("nc_b", "fallback_rule"), b0 + 1);

	/* again without --ports: every port */
	assert_int_equal(run("ncload enable " CG " >/dev/null"), 0);
	status_has(CG, true);
	status_has("all ports, all addresses", true);
	rule_run(out, IPPROTO_NETCHANNEL);

	/*
	 * --addrs: the client's peer is not in the networks listed, so it
	 * connects over TCP, to the listener (NetChannel's, which an address
	 * rule does not touch) on its TCP side
	 */
	assert_int_equal(run("ncload enable " CG " --addrs 10.99.1.0/24,fd98::/16 >/dev/null"),
			 0);
	status_has("all ports, addresses 10.99.1.0/24,fd98::/16", true);
	rule_run3(nc_next_port(), IPPROTO_NETCHANNEL, IPPROTO_TCP, IPPROTO_TCP);
	assert_int_equal(stat_a("fallback_rule"), a0 + 2);
	/* and in one of them: NetChannel */
	assert_int_equal(run("ncload enable " CG " --addrs 10.99.1.0/24,10.99.0.2 --ports 1-65535 >/dev/null"),
			 0);
	status_has("ports 1-65535, addresses 10.99.1.0/24,10.99.0.2/32", true);
	rule_run(nc_next_port(), IPPROTO_NETCHANNEL);
	assert_int_equal(stat_a("fallback_rule"), a0 + 2);
}

/* A bad list is refused, with why, and changes nothing. */
static void test_enable_ports_errors(void **state)
{
	static const struct {
		const char *opt, *list;
	} bad[] = {
		{ "--ports", "0" }, { "--ports", "70000" }, { "--ports", "5-3" },
		{ "--ports", "a" }, { "--ports", "80," }, { "--ports", ",80" },
		{ "--ports", "" }, { "--ports", "1,2,3,4,5,6,7,8,9" },
		{ "--ports", "80-" }, { "--ports", "-80" },
		{ "--addrs", "10.0.0.0/33" }, { "--addrs", "fd00::/129" },
		{ "--addrs", "x" }, { "--addrs", "" }, { "--addrs", "10.0.0.1," },
		{ "--addrs", "10.0.0.1/" }, { "--addrs", "1.0.0.1,2.0.0.1,3.0.0.1,4.0.0.1,5.0.0.1,6.0.0.1,7.0.0.1,8.0.0.1,9.0.0.1" },
	};
	char cmd[512];
	size_t i;

	nc_watchdog(60);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd),
			 "ncload enable " CG " %1$s '%2$s' 2>&1 | grep -q '^ncload: %1$s'; "
			 "ncload enable " CG " %1$s '%2$s' >/dev/null 2>&1; [ $? = 2 ]",
			 bad[i].opt, bad[i].list);
		if (run("%s", cmd))
			fail_msg("%s '%s' was not refused with a message and status 2",
				 bad[i].opt, bad[i].list);
	}
	/* and options twice, or unknown */
	assert_int_equal(run("ncload enable " CG " --ports 1 --ports 2 >/dev/null 2>&1"), 2);
	assert_int_equal(run("ncload enable " CG " --bogus 1 >/dev/null 2>&1"), 2);
	status_has("enabled cgroups: none", true);
}

#define T(f) cmocka_unit_test_setup_teardown(f, enable_setup, enable_cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_enable_socket_types),
		T(test_enable_errors),
		T(test_enable_busybox_wget),
		T(test_enable_busybox_nc),
		T(test_enable_busybox_nc_listen),
		T(test_enable_fallback_to_tcp_server),
		T(test_enable_ports),
		T(test_enable_ports_errors),
	};

	if (nc_proto_tcp()) {
		/* cgroups are enabled for NetChannel or they are not */
		fprintf(stderr, "test_enable: needs the module (NC_PROTO=tcp given)\n");
		return 1;
	}
	return cmocka_run_group_tests_name("enable", tests, nc_group_setup,
					   nc_group_teardown);
}
