// SPDX-License-Identifier: GPL-2.0
/*
 * nc_hosts: the tests' two hosts for shell scripts (demo, benchmarks). The
 * topology is the test library's (nc_hosts_create_ns() in lib/hosts.c), so
 * scripts and C tests cannot drift apart.
 */
#include "nc_net.h"

static const char synopsis[] =
"Usage: nc_hosts up [--new] [NS_A NS_B]\n"
"       nc_hosts down [NS_A NS_B]\n"
"       nc_hosts addr|name|dev a|b\n";

static void usage(void)
{
	printf("%s\n"
"The two NetChannel hosts of the guest tests: network namespaces %s\n"
"(%s/%d, device %s) and %s (%s/%d, device %s) joined by veth.\n"
"\n"
"  up        create them, fresh (namespaces of those names are deleted\n"
"            first), and wait until b answers a\n"
"  up --new  the same, but fail without touching anything if a namespace\n"
"            of either name exists already\n"
"  down      delete them (missing ones are ignored)\n"
"  NS_A NS_B other namespace names for the same topology (the addresses and\n"
"            devices are the same: they are per namespace)\n"
"  addr X    print host X's address (%s or %s)\n"
"  name X    print host X's default namespace name (%s or %s)\n"
"  dev X     print host X's veth device name (%s or %s)\n"
"\n"
"Exit status 0, 1 on an error (the reason on stderr), 2 for a usage error.\n"
"Needs root and iproute2's ip; runs in the guest and on a real machine.\n",
	       synopsis, NC_NS_A, NC_IP_A, NC_PREFIX_LEN, NC_DEV_A,
	       NC_NS_B, NC_IP_B, NC_PREFIX_LEN, NC_DEV_B,
	       NC_IP_A, NC_IP_B, NC_NS_A, NC_NS_B, NC_DEV_A, NC_DEV_B);
}

static int bad_usage(const char *why)
{
	fprintf(stderr, "nc_hosts: %s\n%s(nc_hosts --help says more)\n", why, synopsis);
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "", *ns_a = NC_NS_A, *ns_b = NC_NS_B;
	bool replace = true;
	int i = 2, b;

	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage();
		return 0;
	}
	if (!strcmp(cmd, "addr") || !strcmp(cmd, "name") || !strcmp(cmd, "dev")) {
		if (argc != 3 || (strcmp(argv[2], "a") && strcmp(argv[2], "b")))
			return bad_usage("expected a or b");
		b = argv[2][0] == 'b';
		if (cmd[0] == 'a')
			puts(b ? NC_IP_B : NC_IP_A);
		else if (cmd[0] == 'n')
			puts(b ? NC_NS_B : NC_NS_A);
		else
			puts(b ? NC_DEV_B : NC_DEV_A);
		return 0;
	}
	if (strcmp(cmd, "up") && strcmp(cmd, "down"))
		return bad_usage(argc > 1 ? "unknown command" : "no command");
	if (!strcmp(cmd, "up") && i < argc && !strcmp(argv[i], "--new")) {
		replace = false;
		i++;
	}
	if (argc - i == 2) {
		ns_a = argv[i];
		ns_b = argv[i + 1];
	} else if (argc != i) {
		return bad_usage("expected two namespace names or none");
	}
	if (!strcmp(cmd, "down")) {
		nc_hosts_destroy_ns(ns_a, ns_b);
		return 0;
	}
	if (nc_hosts_create_ns(ns_a, ns_b, replace)) {
		fprintf(stderr, "nc_hosts: %s\n", nc_err);
		return 1;
	}
	return 0;
}
