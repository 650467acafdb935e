// SPDX-License-Identifier: GPL-2.0
/*
 * Test library: cmocka scaffolding, the group setup/teardown every suite
 * uses, the per-test cleanup, and helpers that fail the current test
 * (see nc_net.h).
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
	printf("# protocol: %s (NC_PROTO=%s), family: %s\n", nc_proto_name(),
	       getenv("NC_PROTO") ? getenv("NC_PROTO") : "",
	       nc_family() == AF_INET6 ? "IPv6 (NC_FAMILY=6)" : "IPv4");
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

void nc_mkpair(int *c, int *s)
{
	uint16_t port = nc_next_port();
	int l = nc_listen_in(NC_NS_B, port, 8);

	nc_assert(l >= 0, "listen in %s", NC_NS_B);
	/* accept() comes after connect() returned: like TCP, the connection
	 * must be established from the listen backlog */
	*c = nc_connect_in(NC_NS_A, NC_IP_B, port, 10000);
	nc_assert(*c >= 0, "blocking connect() before the server calls accept()");
	*s = nc_accept_timeout(l, 10000);
	nc_assert(*s >= 0, "accept");
	close(l);
}

int nc_so_error(int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	return err;
}

void nc_wait_readable_bytes(int fd, size_t n, int ms)
{
	static uint8_t buf[1 << 20];
	int64_t deadline = nc_now_ms() + ms;
	ssize_t r = 0;

	assert_true(n <= sizeof(buf));
	while (nc_now_ms() < deadline) {
		r = recv(fd, buf, n, MSG_PEEK | MSG_DONTWAIT);
		if (r == (ssize_t)n)
			return;
		nc_sleep_ms(5);
	}
	fail_msg("only %zd of %zu bytes arrived within %d ms", r, n, ms);
}
