// SPDX-License-Identifier: GPL-2.0
/*
 * NetScheduler struct_ops: attach with the skeleton, with ncload and with
 * bpftool; prove the kernel calls the policy and stops when it is detached;
 * eject a misbehaving policy.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <signal.h>
#include <sys/wait.h>
#include "nc_test.h"
#include "netsched.h"
#include "nc_test_count.skel.h"
#include "nc_test_bad.skel.h"

enum { CNT_INIT, CNT_EXIT, CNT_SOCK_INIT, CNT_SOCK_RELEASE, CNT_MAX };

#define TEST_OBJ "/nc/progs/nc_test_count.bpf.o"

static int setup(void **state)
{
	return nc_module_load();
}

static int teardown(void **state)
{
	return nc_module_unload_wait(5000);
}

static uint64_t count(int map_fd, uint32_t idx)
{
	uint64_t v = UINT64_MAX;

	assert_int_equal(bpf_map_lookup_elem(map_fd, &idx, &v), 0);
	return v;
}

static void open_close_sockets(int n)
{
	int i, fd;

	for (i = 0; i < n; i++) {
		fd = nc_socket();
		assert_true(fd >= 0);
		close(fd);
	}
}

static void test_native_when_none(void **state)
{
	assert_proc_policy("policy", "native");
	assert_proc_policy("state", "native");
	open_close_sockets(2);
}

static void test_skeleton_attach_detach(void **state)
{
	struct nc_test_count *skel = nc_test_count__open_and_load();
	struct bpf_link *link;
	int fd, map;

	assert_non_null(skel);
	map = bpf_map__fd(skel->maps.nc_test_counts);
	link = bpf_map__attach_struct_ops(skel->maps.nc_test_count_ops);
	assert_non_null(link);
	assert_int_equal(count(map, CNT_INIT), 1);
	assert_proc_policy("policy", "nc_test_count");
	assert_proc_policy("state", "enabled");

	open_close_sockets(3);
	assert_int_equal(count(map, CNT_SOCK_INIT), 3);
	assert_int_equal(count(map, CNT_SOCK_RELEASE), 3);

	/* a socket open across the detach is never released by the policy */
	fd = nc_socket();
	assert_true(fd >= 0);
	assert_int_equal(count(map, CNT_SOCK_INIT), 4);

	bpf_link__destroy(link);
	assert_int_equal(count(map, CNT_EXIT), 1);
	assert_int_equal(skel->data->exit_kind, NETSCHED_EXIT_UNREG);
	assert_proc_policy("policy", "native");
	assert_proc_policy("last_policy", "nc_test_count");
	assert_proc_policy("last_exit", "detached");

	close(fd);
	open_close_sockets(2);
	assert_int_equal(count(map, CNT_SOCK_INIT), 4);
	assert_int_equal(count(map, CNT_SOCK_RELEASE), 3);
	nc_test_count__destroy(skel);
}

/* Sockets that exist when a policy arrives are offered to it. */
static void test_existing_sockets_offered(void **state)
{
	struct nc_test_count *skel = nc_test_count__open_and_load();
	struct bpf_link *link;
	int fds[4], i, map;

	assert_non_null(skel);
	for (i = 0; i < 4; i++) {
		fds[i] = nc_socket();
		assert_true(fds[i] >= 0);
	}
	map = bpf_map__fd(skel->maps.nc_test_counts);
	link = bpf_map__attach_struct_ops(skel->maps.nc_test_count_ops);
	assert_non_null(link);
	assert_int_equal(count(map, CNT_SOCK_INIT), 4);
	for (i = 0; i < 4; i++)
		close(fds[i]);
	assert_int_equal(count(map, CNT_SOCK_RELEASE), 4);
	bpf_link__destroy(link);
	nc_test_count__destroy(skel);
}

/* Only one policy at a time: a second attach fails with EBUSY. */
static void test_second_attach_busy(void **state)
{
	struct nc_test_count *a = nc_test_count__open_and_load();
	struct nc_test_count *b = nc_test_count__open_and_load();
	struct bpf_link *la, *lb;

	assert_non_null(a);
	assert_non_null(b);
	la = bpf_map__attach_struct_ops(a->maps.nc_test_count_ops);
	assert_non_null(la);
	lb = bpf_map__attach_struct_ops(b->maps.nc_test_count_ops);
	assert_null(lb);
	assert_int_equal(errno, EBUSY);
	bpf_link__destroy(la);
	nc_test_count__destroy(a);
	nc_test_count__destroy(b);
}

/* Atomic replacement through the link: old exits "replaced", new runs. */
static void test_link_update(void **state)
{
	struct nc_test_count *a = nc_test_count__open_and_load();
	struct nc_test_count *b = nc_test_count__open_and_load();
	struct bpf_link *link;
	int fd;

	assert_non_null(a);
	assert_non_null(b);
	fd = nc_socket();
	assert_true(fd >= 0);
	link = bpf_map__attach_struct_ops(a->maps.nc_test_count_ops);
	assert_non_null(link);
	assert_int_equal(bpf_link__update_map(link, b->maps.nc_test_count_ops), 0);
	assert_int_equal(a->data->exit_kind, NETSCHED_EXIT_REPLACED);
	assert_int_equal(count(bpf_map__fd(b->maps.nc_test_counts), CNT_INIT), 1);
	/* the live socket was offered to the new policy */
	assert_int_equal(count(bpf_map__fd(b->maps.nc_test_counts), CNT_SOCK_INIT), 1);
	close(fd);
	assert_int_equal(count(bpf_map__fd(b->maps.nc_test_counts), CNT_SOCK_RELEASE), 1);
	assert_int_equal(count(bpf_map__fd(a->maps.nc_test_counts), CNT_SOCK_RELEASE), 0);
	bpf_link__destroy(link);
	assert_int_equal(b->data->exit_kind, NETSCHED_EXIT_UNREG);
	nc_test_count__destroy(a);
	nc_test_count__destroy(b);
}

/* Non-zero flags are refused when the struct_ops map is filled. */
static void test_bad_flags_refused(void **state)
{
	struct nc_test_count *skel = nc_test_count__open();
	struct bpf_link *link;

	assert_non_null(skel);
	skel->struct_ops.nc_test_count_ops->flags = 1;
	if (nc_test_count__load(skel) == 0) {
		link = bpf_map__attach_struct_ops(skel->maps.nc_test_count_ops);
		assert_null(link);
		assert_int_equal(errno, EINVAL);
	}
	assert_proc_policy("policy", "native");
	nc_test_count__destroy(skel);
}

/* A policy returning an invalid value is ejected; sockets keep working. */
static void test_eject_invalid_return(void **state)
{
	struct nc_test_bad *skel = nc_test_bad__open_and_load();
	struct bpf_link *link;
	char reason[128];
	int fd;

	assert_non_null(skel);
	link = bpf_map__attach_struct_ops(skel->maps.nc_test_bad_ops);
	assert_non_null(link);
	open_close_sockets(1);
	assert_proc_policy("policy", "nc_test_bad");

	skel->bss->bad_ret = 42;
	fd = nc_socket();
	assert_true(fd >= 0);		/* the socket is not the victim */
	assert_int_equal(nc_proc_wait("policy", "native", 5000), 0);
	assert_proc_policy("last_exit", "ejected");
	assert_proc_policy("last_exit_code", "42");
	assert_int_equal(nc_proc_get(NC_PROC_POLICY, "last_exit_reason", reason,
				     sizeof(reason)), 0);
	assert_int_equal(strncmp(reason, "sock_init() returned 42 for socket ", 35), 0);
	assert_int_equal(skel->data->exit_kind, NETSCHED_EXIT_ERROR);
	assert_int_equal(skel->bss->exit_code, 42);

	/* no more calls after the ejection */
	open_close_sockets(3);
	assert_int_equal(skel->bss->nr_sock_init, 2);
	close(fd);
	/* the link is still ours to release; unreg finds nothing to undo */
	bpf_link__destroy(link);
	assert_proc_policy("last_exit", "ejected");
	nc_test_bad__destroy(skel);
}

/* How many maps named @name exist. */
static int maps_named(const char *name)
{
	struct bpf_map_info info;
	__u32 id = 0, len;
	int fd, nr = 0;

	while (!bpf_map_get_next_id(id, &id)) {
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_map_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, name))
			nr++;
		close(fd);
	}
	return nr;
}

/* The highest id of a map named @name among those program @prog_id uses. */
static __u32 prog_map_named(__u32 prog_id, const char *name, __u32 best)
{
	struct bpf_prog_info pinfo;
	struct bpf_map_info minfo;
	__u32 ids[64], len, i;
	int pfd, fd;

	pfd = bpf_prog_get_fd_by_id(prog_id);
	if (pfd < 0)
		return best;
	memset(&pinfo, 0, sizeof(pinfo));
	pinfo.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	pinfo.map_ids = (__u64)(uintptr_t)ids;
	len = sizeof(pinfo);
	if (bpf_prog_get_info_by_fd(pfd, &pinfo, &len))
		pinfo.nr_map_ids = 0;
	close(pfd);
	for (i = 0; i < pinfo.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		len = sizeof(minfo);
		if (!bpf_map_get_info_by_fd(fd, &minfo, &len) &&
		    !strcmp(minfo.name, name) && ids[i] > best)
			best = ids[i];
		close(fd);
	}
	return best;
}

/*
 * The map named @name that the running policy's programs use, as an fd,
 * or -errno. Not a lookup by name alone: the map of an earlier test's
 * policy may still exist under the same name (the BPF core frees a
 * struct_ops map, its programs and their maps asynchronously, after RCU
 * grace periods), and, older, it has the lower id; a map loaded later
 * under that name but not attached has a higher one. So follow what the kernel
 * says runs: the link_id in /proc/net/netchannel/policy, the link's
 * struct_ops map, whose value holds at each callback's offset the id of
 * its program (the BPF core writes them there; the BTF of the value type
 * says where its netsched_ops is), and the maps those programs use.
 */
static int policy_map_fd(const char *name)
{
	struct btf *vmlinux = NULL, *btf = NULL;
	const struct btf_type *vt, *dt, *mt;
	const struct btf_member *m;
	struct bpf_link_info linfo;
	struct bpf_map_info sinfo;
	__u32 len, key = 0, data_off = 0, best = 0, i;
	__u64 prog_id;
	bool have_data = false;
	uint8_t *val = NULL;
	int lfd = -1, sfd = -1, ret = -ENOENT;
	char v[32];

	if (nc_proc_get(NC_PROC_POLICY, "link_id", v, sizeof(v)) || !strtoul(v, NULL, 10))
		return -ENOENT;
	lfd = bpf_link_get_fd_by_id(strtoul(v, NULL, 10));
	memset(&linfo, 0, sizeof(linfo));
	len = sizeof(linfo);
	if (lfd < 0 || bpf_link_get_info_by_fd(lfd, &linfo, &len) ||
	    linfo.type != BPF_LINK_TYPE_STRUCT_OPS)
		goto out;
	sfd = bpf_map_get_fd_by_id(linfo.struct_ops.map_id);
	memset(&sinfo, 0, sizeof(sinfo));
	len = sizeof(sinfo);
	if (sfd < 0 || bpf_map_get_info_by_fd(sfd, &sinfo, &len))
		goto out;
	val = calloc(1, sinfo.value_size);
	if (!val || bpf_map_lookup_elem(sfd, &key, val))
		goto out;
	vmlinux = btf__load_vmlinux_btf();
	btf = sinfo.btf_vmlinux_id && vmlinux ?
	      btf__load_from_kernel_by_id_split(sinfo.btf_vmlinux_id, vmlinux) : vmlinux;
	vt = btf ? btf__type_by_id(btf, sinfo.btf_vmlinux_value_type_id) : NULL;
	if (!vt || !btf_is_struct(vt))
		goto out;
	/* struct bpf_struct_ops_netsched_ops { common; struct netsched_ops data; } */
	for (i = 0, m = btf_members(vt); i < btf_vlen(vt); i++, m++) {
		if (!strcmp(btf__name_by_offset(btf, m->name_off), "data")) {
			data_off = btf_member_bit_offset(vt, i) / 8;
			dt = btf__type_by_id(btf, btf__resolve_type(btf, m->type));
			have_data = dt && btf_is_struct(dt);
			break;
		}
	}
	if (!have_data)
		goto out;
	for (i = 0, m = btf_members(dt); i < btf_vlen(dt); i++, m++) {
		mt = btf__type_by_id(btf, btf__resolve_type(btf, m->type));
		if (!mt || !btf_is_ptr(mt) ||
		    data_off + btf_member_bit_offset(dt, i) / 8 + 8 > sinfo.value_size)
			continue;
		memcpy(&prog_id, val + data_off + btf_member_bit_offset(dt, i) / 8, 8);
		if (prog_id)
			best = prog_map_named(prog_id, name, best);
	}
	ret = best ? bpf_map_get_fd_by_id(best) : -ENOENT;
out:
	if (btf && btf != vmlinux)
		btf__free(btf);
	btf__free(vmlinux);
	free(val);
	if (sfd >= 0)
		close(sfd);
	if (lfd >= 0)
		close(lfd);
	return ret;
}

/* The running policy's map @name (see policy_map_fd()): an fd, or the test fails. */
static int running_map_fd(const char *name)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd = policy_map_fd(name);

	if (fd < 0)
		fail_msg("no map %s used by the running policy's programs: %s",
			 name, strerror(-fd));
	memset(&info, 0, sizeof(info));
	assert_int_equal(bpf_map_get_info_by_fd(fd, &info, &len), 0);
	printf("# %s: map id %u is the running policy's; %d map(s) of that name exist\n",
	       name, info.id, maps_named(name));
	return fd;
}

/* The id of the map behind @fd. */
static __u32 map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	assert_int_equal(bpf_map_get_info_by_fd(fd, &info, &len), 0);
	return info.id;
}

/*
 * bpftool 7.5 registers and pins a module's struct_ops, then crashes while
 * printing it: it looks the module's type id up in vmlinux's BTF only
 * (get_kern_struct_ops_name()). So accept that SIGSEGV (exit 139) and check
 * what matters: the link is pinned and the policy runs.
 */
static void test_bpftool_register(void **state)
{
	int map, st;

	st = nc_run("bpftool struct_ops register %s /sys/fs/bpf >/dev/null 2>&1",
		    TEST_OBJ);
	if (st != 0 && st != 128 + SIGSEGV)
		fail_msg("bpftool struct_ops register: exit %d", st);
	assert_proc_policy("policy", "nc_test_count");
	map = running_map_fd("nc_test_counts");
	assert_int_equal(count(map, CNT_INIT), 1);
	open_close_sockets(5);
	assert_int_equal(count(map, CNT_SOCK_INIT), 5);

	/* bpftool pins the link under the kernel's (15-char) map name */
	assert_int_equal(unlink("/sys/fs/bpf/nc_test_count_o"), 0);
	assert_int_equal(nc_proc_wait("policy", "native", 5000), 0);
	assert_int_equal(count(map, CNT_EXIT), 1);
	open_close_sockets(2);
	assert_int_equal(count(map, CNT_SOCK_INIT), 5);
	close(map);
}

/*
 * ncload attaches, refuses a second attach, replaces, detaches. Two decoys,
 * loaded but never attached, each with its own map nc_test_counts: one
 * older than the policy's (as the map of an earlier test's policy that the
 * kernel has not freed yet), one newer; the test must count in neither.
 */
static void test_ncload(void **state)
{
	struct nc_test_count *older = nc_test_count__open_and_load(), *newer;
	int map;

	assert_non_null(older);
	assert_int_equal(nc_run("ncload attach %s", TEST_OBJ), 0);
	assert_proc_policy("policy", "nc_test_count");
	newer = nc_test_count__open_and_load();
	assert_non_null(newer);
	map = running_map_fd("nc_test_counts");
	assert_int_not_equal(map_id(map), map_id(bpf_map__fd(older->maps.nc_test_counts)));
	assert_int_not_equal(map_id(map), map_id(bpf_map__fd(newer->maps.nc_test_counts)));
	assert_int_equal(count(map, CNT_INIT), 1);
	open_close_sockets(2);
	assert_int_equal(count(map, CNT_SOCK_INIT), 2);
	/* one policy at a time, with a clear refusal */
	assert_int_equal(nc_run("ncload attach %s", TEST_OBJ), 1);
	assert_int_equal(nc_run("ncload replace %s", TEST_OBJ), 0);
	assert_int_equal(count(map, CNT_EXIT), 1);
	assert_proc_policy("last_exit", "replaced");
	close(map);
	assert_int_equal(nc_run("ncload detach"), 0);
	assert_proc_policy("policy", "native");
	assert_int_equal(nc_run("ncload detach"), 1);
	assert_int_equal(nc_run("ncload attach /nonexistent.bpf.o"), 1);
	assert_int_equal(nc_run("ncload attach no_such_policy"), 1);
	assert_int_equal(nc_run("ncload bogus"), 2);
	assert_int_equal(nc_run("ncload --help >/dev/null"), 0);
	assert_int_equal(count(bpf_map__fd(older->maps.nc_test_counts), CNT_INIT), 0);
	assert_int_equal(count(bpf_map__fd(newer->maps.nc_test_counts), CNT_INIT), 0);
	nc_test_count__destroy(newer);
	nc_test_count__destroy(older);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_native_when_none),
		cmocka_unit_test(test_skeleton_attach_detach),
		cmocka_unit_test(test_existing_sockets_offered),
		cmocka_unit_test(test_second_attach_busy),
		cmocka_unit_test(test_link_update),
		cmocka_unit_test(test_bad_flags_refused),
		cmocka_unit_test(test_eject_invalid_return),
		cmocka_unit_test(test_bpftool_register),
		cmocka_unit_test(test_ncload),
	};

	return cmocka_run_group_tests_name("sched", tests, setup, teardown);
}
