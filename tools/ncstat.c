// SPDX-License-Identifier: GPL-2.0
/*
 * ncstat: show a NetChannel host's state and counters, readably.
 *
 * Reads /proc/net/netchannel/{policy,stats,peers,channels,sockets} of the
 * current network namespace, or of the one named with -n (as `ip netns`
 * names it); with -i, again every SECS seconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROC_DIR "/proc/net/netchannel/"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ncstat [-n NETNS] [-a] [-i SECS [-c COUNT]] [WHAT...]\n"
"\n"
"Show a NetChannel host (network namespace): its policy, counters,\n"
"channel groups (peers), channels and virtual sockets.\n"
"\n"
"WHAT: policy, stats, peers, channels, sockets (default: all five)\n"
"\n"
"Options:\n"
"  -n, --netns NAME      look at namespace NAME (/run/netns/NAME)\n"
"  -a, --all             show counters that are zero too\n"
"  -i, --interval SECS   show it again every SECS seconds (0.1 and up),\n"
"                        each time after a line \"# time T s\"\n"
"  -c, --count COUNT     with -i: COUNT times, then exit (default: until\n"
"                        interrupted)\n"
"  -h, --help            show this help\n"
"\n"
"Counters named err_* are protocol errors peers caused: each reset the\n"
"channel it came on. peers shows each group's channels now, what it\n"
"started with and may grow to, and the channels it added because frames\n"
"waited for the channels (grown) and retired when idle (retired;\n"
"`ncstat -i 1 peers` follows the count).\n"
"Exit status: 0, or 1 when NetChannel is not loaded.\n");
}

static int show(const char *what, int all)
{
	char path[128], line[512];
	FILE *f;

	snprintf(path, sizeof(path), PROC_DIR "%s", what);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "ncstat: %s: %s%s\n", path, strerror(errno),
			errno == ENOENT ? " (is netchannel.ko loaded?)" : "");
		return 1;
	}
	printf("== %s\n", what);
	while (fgets(line, sizeof(line), f)) {
		const char *colon = strchr(line, ':');

		/* stats: hide zero counters unless asked */
		if (!all && !strcmp(what, "stats") && colon &&
		    !strcmp(colon, ": 0\n"))
			continue;
		fputs(line, stdout);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	static const char *const every[] = { "policy", "stats", "peers",
					     "channels", "sockets" };
	const int nevery = sizeof(every) / sizeof(every[0]);
	int c, all = 0, rc = 0, i, fd;
	double interval = 0, t0 = 0;
	long count = -1, round;
	char path[256], *end;

	while ((c = getopt_long(argc, argv, "n:ai:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			snprintf(path, sizeof(path), "/run/netns/%s", optarg);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, CLONE_NEWNET)) {
				fprintf(stderr, "ncstat: namespace %s: %s\n",
					optarg, strerror(errno));
				return 1;
			}
			close(fd);
			break;
		case 'a':
			all = 1;
			break;
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || !(interval >= 0.1 && interval <= 86400)) {
				fprintf(stderr, "ncstat: -i %s: want seconds, 0.1 to 86400\n",
					optarg);
				return 2;
			}
			break;
		case 'c':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1) {
				fprintf(stderr, "ncstat: -c %s: want a count of 1 or more\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (count > 0 && !interval) {
		fprintf(stderr, "ncstat: -c needs -i\n");
		return 2;
	}
	for (i = optind; i < argc; i++) {
		int k;

		for (k = 0; k < nevery; k++)
			if (!strcmp(argv[i], every[k]))
				break;
		if (k == nevery) {
			fprintf(stderr, "ncstat: unknown WHAT '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	for (round = 0; ; round++) {
		if (interval) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (!round)
				t0 = ts.tv_sec + ts.tv_nsec / 1e9;
			printf("# time %.1f s\n", ts.tv_sec + ts.tv_nsec / 1e9 - t0);
		}
		if (optind == argc) {
			for (i = 0; i < nevery; i++)
				rc |= show(every[i], all);
		} else {
			for (i = optind; i < argc; i++)
				rc |= show(argv[i], all);
		}
		fflush(stdout);
		if (!interval || rc || (count > 0 && round + 1 >= count))
			break;
		usleep((useconds_t)(interval * 1e6));
	}
	return rc;
}
