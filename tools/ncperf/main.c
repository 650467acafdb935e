// SPDX-License-Identifier: GPL-2.0
/* ncperf: the options, their help text and main() (overview in ncperf.h). */
#include "ncperf.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>

struct opts o = {
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

void usage(FILE *f)
{
	fprintf(f,
"Usage: ncperf server [OPTIONS]\n"
"       ncperf client [bulk|rr|mix] [OPTIONS]\n"
"       ncperf json-check [FILE...]\n"
"       ncperf json-get FILE PATH\n"
"\n"
"Throughput and latency benchmark for NetChannel sockets, plain TCP and MPTCP.\n"
"The stacks differ only in the protocol given to socket(AF_INET, SOCK_STREAM,\n"
"P): IPPROTO_TCP (6), IPPROTO_NETCHANNEL (%d) or IPPROTO_MPTCP (262; --proto\n"
"mptcp). Client and server must use the same.\n"
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
"  --proto P        tcp (default), netchannel, mptcp, or a protocol number\n"
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
"  --warmup SEC     run this long before measuring (default 0); bulk: the\n"
"                   run is warmup + seconds long, and interval_bytes are\n"
"                   the bytes written after the warmup\n"
"  --size N         rr/mix: message size in bytes (default 64, max 16M)\n"
"  --interval US    rr/mix: pause between requests, in microseconds (default 0:\n"
"                   back to back)\n"
"  --tapps N        mix: number of T-apps (default 2, max %d)\n"
"  --lapp-cgroup P  mix: move the L-app into cgroup P (a cgroup2 directory) by\n"
"                   writing its pid to P/cgroup.procs before it opens a socket\n"
"  --lapp-nice N    mix: run the L-app at nice N (-20..19), as the NetChannel\n"
"                   paper's artifact runs its L-app at -20 (default: unchanged)\n"
"  --lapp-port N    mix: the L-app's server listens on N (default --port): a\n"
"                   server of its own, in the L-app's cgroup, so that its\n"
"                   replies are classed as the L-app's requests are\n"
"  --tapp-cgroup P  mix: the same for every T-app. Note: `ip netns exec` mounts\n"
"                   a fresh /sys, hiding /sys/fs/cgroup; mount cgroup2 a second\n"
"                   time elsewhere (e.g. /run/nc-cgroup) and give paths there\n"
"  --bufsize N      bulk write size (default 128K)\n"
"  --no-nodelay     do not set TCP_NODELAY (set by default for rr/mix, on\n"
"                   NetChannel sockets too: a socket that falls back to TCP\n"
"                   keeps it)\n"
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
"json-get: print the member at PATH (keys joined by dots: latency_us.p99) of\n"
"the JSON object FILE starts with: a number, true/false/null as written, a\n"
"string without its quotes; exit 0, or 1 if it is not there or FILE is not\n"
"JSON (the same parser as json-check).\n"
"\n"
"Exit status: 0 success, 1 measurement failed (reason on stderr or in the\n"
"JSON), 2 bad usage, 3 hard time limit hit.\n",
		IPPROTO_NETCHANNEL, DEFAULT_PORT, MAX_SOCKETS, MAX_TAPPS);
}

enum {
	OPT_PROTO = 256, OPT_ADDR, OPT_PORT, OPT_MODE, OPT_SOCKETS, OPT_BYTES, OPT_SECONDS,
	OPT_WARMUP, OPT_SIZE, OPT_INTERVAL, OPT_TAPPS, OPT_LCG, OPT_LNICE, OPT_LPORT, OPT_TCG, OPT_TIMEOUT,
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
	{ "lapp-port", required_argument, NULL, OPT_LPORT },
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
	if (argc > 1 && !strcmp(argv[1], "json-get"))
		return json_get_main(argc - 1, argv + 1);

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PROTO:
			if (!strcmp(optarg, "tcp"))
				o.proto = IPPROTO_TCP;
			else if (!strcmp(optarg, "netchannel") || !strcmp(optarg, "nc"))
				o.proto = IPPROTO_NETCHANNEL;
			else if (!strcmp(optarg, "mptcp"))
				o.proto = IPPROTO_MPTCP;
			else
				o.proto = (int)parse_num("--proto", optarg, 0, 511);
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
		case OPT_LPORT:
			o.lapp_port = (int)parse_num("--lapp-port", optarg, 1, 65535);
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
	if ((o.lapp_cgroup || o.tapp_cgroup || o.lapp_nice || o.lapp_port) &&
	    o.mode != MODE_MIX)
		die_usage("--lapp-cgroup/--tapp-cgroup/--lapp-nice/--lapp-port apply to mix only");

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
