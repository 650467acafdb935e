// SPDX-License-Identifier: GPL-2.0
/* netchannel.ko: loading, unloading and what holds it in. */
#include <sys/wait.h>
#include "nc_test.h"
#include "nc_test_count.skel.h"

static void test_socket_needs_module(void **state)
{
	int fd = nc_socket();

	assert_int_equal(fd, -1);
	assert_int_equal(errno, EPROTONOSUPPORT);
}

static void test_load_unload_20(void **state)
{
	int i, fd;

	for (i = 0; i < 20; i++) {
		assert_int_equal(nc_module_load(), 0);
		assert_int_equal(access(NC_PROC_POLICY, R_OK), 0);
		fd = nc_socket();
		assert_true(fd >= 0);
		close(fd);
		/* a closed socket is freed after an RCU grace period */
		assert_int_equal(nc_module_unload_wait(2000), 0);
		assert_int_not_equal(access(NC_PROC_POLICY, R_OK), 0);
	}
}

static void test_double_load(void **state)
{
	assert_int_equal(nc_module_load(), 0);
	assert_int_equal(nc_module_load(), -EEXIST);
	assert_int_equal(nc_module_unload(), 0);
	assert_int_equal(nc_module_unload(), -ENOENT);
}

/* A live virtual socket pins the module: unload is refused, not a crash. */
static void test_unload_refused_with_socket(void **state)
{
	int fd;

	assert_int_equal(nc_module_load(), 0);
	fd = nc_socket();
	assert_true(fd >= 0);
	assert_int_equal(nc_module_unload(), -EWOULDBLOCK);
	close(fd);
	assert_int_equal(nc_module_unload_wait(2000), 0);
}

/* An attached policy (its struct_ops map) pins the module too. */
static void test_unload_refused_with_policy(void **state)
{
	struct nc_test_count *skel;
	struct bpf_link *link;

	assert_int_equal(nc_module_load(), 0);
	skel = nc_test_count__open_and_load();
	assert_non_null(skel);
	link = bpf_map__attach_struct_ops(skel->maps.nc_test_count_ops);
	assert_non_null(link);
	assert_int_equal(nc_module_unload(), -EWOULDBLOCK);
	bpf_link__destroy(link);
	assert_int_equal(nc_module_unload(), -EWOULDBLOCK); /* map still loaded */
	nc_test_count__destroy(skel);
	assert_int_equal(nc_module_unload_wait(5000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_needs_module),
		cmocka_unit_test(test_load_unload_20),
		cmocka_unit_test(test_double_load),
		cmocka_unit_test(test_unload_refused_with_socket),
		cmocka_unit_test(test_unload_refused_with_policy),
	};

	return cmocka_run_group_tests_name("module", tests, NULL, NULL);
}
