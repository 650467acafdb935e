// SPDX-License-Identifier: GPL-2.0
/*
 * Real programs, unmodified, through `ncload enable` (no preload): nginx
 * with its default sendfile on serving a large file to curl and small
 * files to wrk, socat both ways, redis-server with redis-cli and
 * redis-benchmark, iperf3 (IPv4 and IPv6), and a Go echo server and
 * client (selftests/guest/go: Go's runtime makes its own system calls, no
 * libc, the case the preload library cannot reach). Each runs once over plain TCP
 * (the cgroup not enabled) and once over NetChannel (enabled), and must
 * give the same bytes; that the second run was NetChannel's is shown by
 * the bytes the module counted on the server's host (a run that fell back
 * to TCP would count none).
 *
 * Hosts: namespace nc_a (10.99.0.1, clients) and nc_b (10.99.0.2,
 * servers), see nc_net.h. Server and client run in cgroup CG. The suite
 * needs the module (not NC_PROTO=tcp).
 */
#define _GNU_SOURCE
#include "nc_net.h"
#include <sys/stat.h>

#define CG	"/sys/fs/cgroup/nc_programs"
#define DIR	"/tmp/nc_programs"
#define BIG	(8 << 20)

static uint64_t stat_b(const char *name)
{
	uint64_t v = 0;

	assert_int_equal(nc_stat_get("nc_b", name, &v), 0);
	return v;
}

/* The NetChannel bytes nc_b sent and received so far. */
static uint64_t nc_bytes(void)
{
	return stat_b("bytes_tx") + stat_b("bytes_rx");
}

static void enable(bool on)
{
	assert_int_equal(nc_sh_in(NULL, NULL, 20000, "ncload %s " CG " >/dev/null",
				  on ? "enable" : "disable"), 0);
}

/*
 * Start server @argv on nc_b in CG and wait until it listens on @port:
 * for NetChannel (@nc) until its NetChannel listener is up, for TCP until
 * a probe connects.
 */
static pid_t server(bool nc, uint16_t port, const char *const argv[])
{
	pid_t pid = nc_prog_start(CG, "nc_b", NULL, DIR "/server.out", argv);
	int i;

	assert_true(pid > 0);
	if (nc) {
		if (nc_wait_nc_listen("nc_b", port, 30000))
			fail_msg("%s: %s", argv[0], nc_err);
		return pid;
	}
	for (i = 0; i < 300; i++) {
		int fd = nc_ns_enter("nc_a") ? -1 :
			 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
		struct sockaddr_in sin = nc_sin("10.99.0.2", port);
		bool up;

		nc_ns_leave();
		assert_true(fd >= 0);
		up = !connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
		if (up)
			return pid;
		nc_sleep_ms(100);
	}
	fail_msg("%s did not listen on port %u", argv[0], port);
	return -1;
}

/*
 * Run client @argv on nc_a in CG against a server that takes one
 * connection (no probe may take it): over TCP, retried while the server
 * is not listening yet. Its exit status.
 */
static int client_once(bool nc, const char *in, const char *out,
		       const char *const argv[])
{
	int i, st = -1;

	for (i = 0; i < (nc ? 1 : 50) && st; i++) {
		if (i)
			nc_sleep_ms(200);
		st = nc_prog_run(CG, "nc_a", in, out, argv, 90000);
	}
	return st;
}

static int programs_setup(void **state)
{
	assert_true(!mkdir(CG, 0755) || errno == EEXIST);
	assert_int_equal(nc_sh_in(NULL, NULL, 10000, "rm -rf " DIR " && mkdir -p " DIR), 0);
	return 0;
}

static int programs_cleanup(void **state)
{
	nc_sh_in(NULL, NULL, 10000, "ncload disable " CG " >/dev/null 2>&1");
	return nc_test_cleanup(state);
}

/* ---- nginx ------------------------------------------------------------------- */

static void nginx_conf(uint16_t port)
{
	FILE *f;

	assert_int_equal(nc_sh_in(NULL, NULL, 10000, "mkdir -p " DIR "/html " DIR "/logs " DIR "/tmp"), 0);
	f = fopen(DIR "/nginx.conf", "w");
	assert_non_null(f);
	fprintf(f,
		"user root;\nworker_processes 1;\ndaemon off;\nmaster_process off;\n"
		"pid " DIR "/nginx.pid;\nerror_log " DIR "/logs/error.log;\n"
		"events { worker_connections 64; }\n"
		"http {\n access_log off;\n default_type application/octet-stream;\n"
		" client_body_temp_path " DIR "/tmp;\n proxy_temp_path " DIR "/tmp;\n"
		" fastcgi_temp_path " DIR "/tmp;\n uwsgi_temp_path " DIR "/tmp;\n"
		" scgi_temp_path " DIR "/tmp;\n"
		" server { listen 10.99.0.2:%u; root " DIR "/html; }\n}\n", port);
	assert_int_equal(fclose(f), 0);
}

/*
 * nginx (sendfile on: its default) serves an 8 MiB file to curl, then a
 * 4 KiB one to wrk (4 connections, keep-alive, 2 s). Returns the
 * NetChannel bytes counted meanwhile.
 */
static uint64_t nginx_run(bool nc, uint64_t seed)
{
	uint16_t port = nc_next_port();
	uint64_t b0 = nc_bytes();
	char url[64], out[4096];
	FILE *f;
	size_t n;
	pid_t srv;
	int st;

	nginx_conf(port);
	assert_int_equal(nc_file_gen(DIR "/html/big", seed, BIG), 0);
	assert_int_equal(nc_file_gen(DIR "/html/small", seed + 1, 4096), 0);
	srv = server(nc, port, (const char *[]){ "nginx", "-p", DIR, "-c",
		DIR "/nginx.conf", NULL });
	snprintf(url, sizeof(url), "http://10.99.0.2:%u/big", port);
	st = nc_prog_run(CG, "nc_a", NULL, NULL, (const char *[]){
		"curl", "-sS", "--fail", "-o", DIR "/big.out", url, NULL }, 60000);
	if (!st) {
		snprintf(url, sizeof(url), "http://10.99.0.2:%u/small", port);
		st = nc_prog_run(CG, "nc_a", NULL, DIR "/wrk.out", (const char *[]){
			"wrk", "-t", "1", "-c", "4", "-d", "2s", url, NULL }, 60000);
	}
	nc_prog_stop(srv);
	assert_int_equal(st, 0);
	assert_int_equal(nc_file_check(DIR "/big.out", seed, BIG), 0);
	/* wrk: requests done, none failed */
	f = fopen(DIR "/wrk.out", "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	fclose(f);
	out[n] = '\0';
	printf("# wrk (%s): %s", nc ? "NetChannel" : "TCP",
	       strstr(out, "Requests/sec") ?: "no Requests/sec line\n");
	assert_non_null(strstr(out, "Requests/sec"));
	assert_null(strstr(out, "Socket errors"));
	assert_null(strstr(out, "Non-2xx"));
	return nc_bytes() - b0;
}

static void test_nginx_curl_wrk(void **state)
{
	uint64_t n;

	nc_watchdog(240);
	assert_true(nginx_run(false, 41) < BIG);
	enable(true);
	n = nginx_run(true, 42);
	printf("# NetChannel bytes on the server's host: %llu\n",
	       (unsigned long long)n);
	assert_true(n >= BIG);
}

/* ---- socat ----------------------------------------------------------------- */

/*
 * socat sends a file to a socat server that writes it out, then a socat
 * server sends a file to a socat client. Returns the NetChannel bytes.
 */
static uint64_t socat_run(bool nc, uint64_t seed)
{
	uint64_t b0 = nc_bytes();
	char listen[64], conn[64];
	uint16_t port;
	pid_t srv;
	int st;

	assert_int_equal(nc_file_gen(DIR "/src", seed, BIG), 0);
	/* up: client to server */
	port = nc_next_port();
	snprintf(listen, sizeof(listen), "TCP4-LISTEN:%u,bind=10.99.0.2,reuseaddr", port);
	snprintf(conn, sizeof(conn), "TCP4:10.99.0.2:%u", port);
	srv = nc_prog_start(CG, "nc_b", NULL, NULL, (const char *[]){
		"socat", "-u", listen, "CREATE:" DIR "/up.out", NULL });
	assert_true(srv > 0);
	if (nc)
		assert_int_equal(nc_wait_nc_listen("nc_b", port, 30000), 0);
	st = client_once(nc, NULL, NULL, (const char *[]){
		"socat", "-u", "OPEN:" DIR "/src", conn, NULL });
	if (st)
		nc_prog_stop(srv);
	assert_int_equal(st, 0);
	assert_int_equal(nc_child_wait(srv, 30000), 0);
	assert_int_equal(nc_file_check(DIR "/up.out", seed, BIG), 0);

	/* down: server to client */
	port = nc_next_port();
	snprintf(listen, sizeof(listen), "TCP4-LISTEN:%u,bind=10.99.0.2,reuseaddr", port);
	snprintf(conn, sizeof(conn), "TCP4:10.99.0.2:%u", port);
	srv = nc_prog_start(CG, "nc_b", NULL, NULL, (const char *[]){
		"socat", "-u", "OPEN:" DIR "/src", listen, NULL });
	assert_true(srv > 0);
	if (nc)
		assert_int_equal(nc_wait_nc_listen("nc_b", port, 30000), 0);
	st = client_once(nc, NULL, NULL, (const char *[]){
		"socat", "-u", conn, "CREATE:" DIR "/down.out", NULL });
	if (st)
		nc_prog_stop(srv);
	assert_int_equal(st, 0);
	assert_int_equal(nc_child_wait(srv, 30000), 0);
	assert_int_equal(nc_file_check(DIR "/down.out", seed, BIG), 0);
	return nc_bytes() - b0;
}

static void test_socat(void **state)
{
	uint64_t n;

	nc_watchdog(240);
	assert_true(socat_run(false, 51) < BIG);
	enable(true);
	n = socat_run(true, 52);
	printf("# NetChannel bytes on the server's host: %llu\n",
	       (unsigned long long)n);
	assert_true(n >= 2 * BIG);
}

/* ---- redis ----------------------------------------------------------------- */

/*
 * redis-server; redis-cli SETs a 1 MiB value from a file and GETs it
 * back, then redis-benchmark runs SET and GET. Returns the NetChannel
 * bytes.
 */
static uint64_t redis_run(bool nc, uint64_t seed)
{
	uint16_t port = nc_next_port();
	uint64_t b0 = nc_bytes();
	char p[8];
	pid_t srv;
	int st;

	snprintf(p, sizeof(p), "%u", port);
	assert_int_equal(nc_file_gen(DIR "/value", seed, 1 << 20), 0);
	srv = server(nc, port, (const char *[]){ "redis-server", "--port", p,
		"--bind", "10.99.0.2", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--dir", DIR, NULL });
	st = nc_prog_run(CG, "nc_a", DIR "/value", DIR "/set.out", (const char *[]){
		"redis-cli", "-h", "10.99.0.2", "-p", p, "-x", "SET", "k", NULL },
		60000);
	/* --raw prints the value and a newline: keep the value */
	if (!st)
		st = nc_sh_in(CG, "nc_a", 60000,
			      "redis-cli -h 10.99.0.2 -p %s --raw GET k | head -c %d > " DIR "/value.out",
			      p, 1 << 20);
	if (!st)
		st = nc_prog_run(CG, "nc_a", NULL, DIR "/bench.out", (const char *[]){
			"redis-benchmark", "-h", "10.99.0.2", "-p", p, "-q",
			"-t", "set,get", "-n", "2000", "-c", "4", NULL }, 120000);
	nc_prog_stop(srv);
	assert_int_equal(st, 0);
	assert_int_equal(nc_file_check(DIR "/value.out", seed, 1 << 20), 0);
	/* both tests report a rate */
	assert_int_equal(nc_sh_in(NULL, NULL, 10000,
				  "tr '\\r' '\\n' < " DIR "/bench.out | grep 'requests per second' | sed 's/^/# /' && "
				  "tr '\\r' '\\n' < " DIR "/bench.out | grep -q '^SET: .* requests per second' && "
				  "tr '\\r' '\\n' < " DIR "/bench.out | grep -q '^GET: .* requests per second'"), 0);
	return nc_bytes() - b0;
}

static void test_redis(void **state)
{
	uint64_t n;

	nc_watchdog(300);
	assert_true(redis_run(false, 61) < 1 << 20);
	enable(true);
	n = redis_run(true, 62);
	printf("# NetChannel bytes on the server's host: %llu\n",
	       (unsigned long long)n);
	assert_true(n >= 2 << 20);
}

/* ---- iperf3 ---------------------------------------------------------------- */

/* iperf3 sends 8 MiB (its control and data connections) over IPv@v. */
static uint64_t iperf3_run(bool nc, int v)
{
	const char *fam = v == 6 ? "-6" : "-4", *ip = v == 6 ? NC_IP6_B : NC_IP_B;
	uint16_t port = nc_next_port();
	uint64_t b0 = nc_bytes();
	char p[8];
	pid_t srv;
	int st;

	snprintf(p, sizeof(p), "%u", port);
	srv = nc_prog_start(CG, "nc_b", NULL, DIR "/iperf3-s.out", (const char *[]){
		"iperf3", "-s", "-1", fam, "-B", ip, "-p", p, NULL });
	assert_true(srv > 0);
	if (nc)
		assert_int_equal(nc_wait_nc_listen("nc_b", port, 30000), 0);
	st = client_once(nc, NULL, DIR "/iperf3.out", (const char *[]){
		"iperf3", fam, "-c", ip, "-p", p, "-n", "8M", NULL });
	if (st)
		nc_prog_stop(srv);
	assert_int_equal(st, 0);
	assert_int_equal(nc_child_wait(srv, 30000), 0);
	assert_int_equal(nc_sh_in(NULL, NULL, 10000,
				  "grep -q 'receiver' " DIR "/iperf3.out"), 0);
	return nc_bytes() - b0;
}

static void iperf3_both(int v)
{
	uint64_t n;

	nc_watchdog(240);
	assert_true(iperf3_run(false, v) < BIG);
	enable(true);
	n = iperf3_run(true, v);
	printf("# IPv%d: NetChannel bytes on the server's host: %llu\n", v,
	       (unsigned long long)n);
	assert_true(n >= BIG);
}

static void test_iperf3(void **state)
{
	iperf3_both(4);
}

/* AF_INET6 sockets through ncload enable, channels over IPv6 */
static void test_iperf3_ipv6(void **state)
{
	iperf3_both(6);
}

/* ---- Go ------------------------------------------------------------------ */

/*
 * The Go echo server on [::]:port (a dual-stack listener), and two Go
 * clients, over IPv4 and over IPv6, each sending an 8 MiB file and
 * writing the echo. Returns the NetChannel bytes.
 */
static uint64_t go_run(bool nc, uint64_t seed)
{
	const char *const dst[] = { "10.99.0.2", "[fd99::2]" };
	const char *const out[] = { DIR "/go4.out", DIR "/go6.out" };
	uint16_t port = nc_next_port();
	uint64_t b0 = nc_bytes();
	char laddr[32], addr[48];
	int st = 0, i;
	pid_t srv;

	assert_int_equal(nc_file_gen(DIR "/go.in", seed, BIG), 0);
	snprintf(laddr, sizeof(laddr), ":%u", port);
	srv = server(nc, port, (const char *[]){ "/nc/bin/nc_goecho", "server",
		laddr, NULL });
	for (i = 0; i < 2 && !st; i++) {
		snprintf(addr, sizeof(addr), "%s:%u", dst[i], port);
		st = nc_prog_run(CG, "nc_a", NULL, NULL, (const char *[]){
			"/nc/bin/nc_goecho", "client", addr, DIR "/go.in",
			out[i], NULL }, 60000);
	}
	nc_prog_stop(srv);
	assert_int_equal(st, 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(nc_file_check(out[i], seed, BIG), 0);
	return nc_bytes() - b0;
}

static void test_go(void **state)
{
	uint64_t n;

	nc_watchdog(240);
	assert_true(go_run(false, 61) < BIG);
	enable(true);
	n = go_run(true, 62);
	printf("# NetChannel bytes on the server's host: %llu (2 clients, 8 MiB each way)\n",
	       (unsigned long long)n);
	assert_true(n >= 4ULL * BIG);
}

#define T(f) cmocka_unit_test_setup_teardown(f, programs_setup, programs_cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_nginx_curl_wrk),
		T(test_socat),
		T(test_redis),
		T(test_iperf3),
		T(test_iperf3_ipv6),
		T(test_go),
	};

	if (nc_proto_tcp()) {
		fprintf(stderr, "test_programs: needs the module (NC_PROTO=tcp given)\n");
		return 1;
	}
	return cmocka_run_group_tests_name("programs", tests, nc_group_setup,
					   nc_group_teardown);
}
