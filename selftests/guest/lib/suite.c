// SPDX-License-Identifier: GPL-2.0
/*
 * Test library: cmocka scaffolding, the group setup/teardown every suite
 * uses and the per-test cleanup (see nc_net.h).
 */
#include "nc_lib.h"

int nc_test_cleanup(void **state)
{
	alarm(0);
	nc_children_kill();
	nc_close_all_sockets();
	nc_ns_leave();
	return 0;
}

int nc_group_setup(void **state)
{
	int ret;

	signal(SIGPIPE, SIG_IGN);
	printf("# protocol: %s (NC_PROTO=%s)\n", nc_proto_name(),
	       getenv("NC_PROTO") ? getenv("NC_PROTO") : "");
	if (!nc_proto_tcp()) {
		ret = nc_module_load();
		if (ret) {
			fprintf(stderr, "loading %s: %s\n", NC_MODULE_PATH, strerror(-ret));
			return -1;
		}
	}
	if (nc_hosts_create()) {
		fprintf(stderr, "%s\n", nc_err);
		return -1;
	}
	return 0;
}

int nc_group_teardown(void **state)
{
	int ret;

	nc_children_kill();
	nc_close_all_sockets();
	nc_hosts_destroy();
	if (!nc_proto_tcp()) {
		ret = nc_module_unload_wait(20000);
		if (ret) {
			fprintf(stderr, "unloading netchannel: %s\n", strerror(-ret));
			return -1;
		}
	}
	return 0;
}
