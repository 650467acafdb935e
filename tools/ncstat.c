// SPDX-License-Identifier: GPL-2.0
/*
 * ncstat: show a NetChannel host's state and counters, readably.
 *
 * Reads /proc/net/netchannel/{policy,stats,channels,sockets} of the current
 * network namespace, or of the one named with -n (as `ip netns` names it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROC_DIR "/proc/net/netchannel/"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ncstat [-n NETNS] [-a] [WHAT...]\n"
"\n"
"Show a NetChannel host (network namespace): its policy, counters,\n"
"channels and virtual sockets.\n"
"\n"
"WHAT: policy, stats, channels, sockets (default: all four)\n"
"\n"
"Options:\n"
"  -n, --netns NAME  look at namespace NAME (/run/netns/NAME)\n"
"  -a, --all         show counters that are zero too\n"
"  -h, --help        show this help\n"
"\n"
"Counters named err_* are protocol errors peers caused: each reset the\n"
"channel it came on. Exit status: 0, or 1 when NetChannel is not loaded.\n");
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
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	static const char *const every[] = { "policy", "stats", "channels",
					     "sockets" };
	int c, all = 0, rc = 0, i, fd;
	char path[256];

	while ((c = getopt_long(argc, argv, "n:ah", opts, NULL)) != -1) {
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
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (i = optind; i < argc; i++) {
		size_t k;

		for (k = 0; k < sizeof(every) / sizeof(every[0]); k++)
			if (!strcmp(argv[i], every[k]))
				break;
		if (k == sizeof(every) / sizeof(every[0])) {
			fprintf(stderr, "ncstat: unknown WHAT '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		for (i = 0; i < 4; i++)
			rc |= show(every[i], all);
	} else {
		for (i = optind; i < argc; i++)
			rc |= show(argv[i], all);
	}
	return rc;
}
