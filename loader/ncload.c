// SPDX-License-Identifier: GPL-2.0
/*
 * ncload: attach, replace, detach and inspect NetChannel NetScheduler
 * policies.
 *
 * A policy is attached as a struct_ops bpf_link pinned at
 * /sys/fs/bpf/netchannel/link, so it outlives this process; `replace`
 * updates that link in one step (the kernel swaps policies atomically) and
 * `detach` detaches whatever link the kernel reports as active, wherever it
 * is pinned (bpftool pins elsewhere).
 *
 * The policy's own maps (every map but its struct_ops map and the .data,
 * .bss and .rodata sections) are pinned under /sys/fs/bpf/netchannel/maps/
 * by name while it is attached, so that `set` (and its aliases set-class
 * and set-weight, and bpftool) can configure it: it writes cgroup id ->
 * value into the pinned map, within the range the policy declared for the
 * map in a BTF decl tag (NETSCHED_CGROUP_MAP()). `replace` keeps the entries of a map the
 * new policy declares with the same name and layout (it reuses the map),
 * and unpins the old policy's other maps; `detach` unpins them all.
 *
 * `enable` and `disable` (enable.c) choose the cgroups whose sockets are
 * NetChannel sockets.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "ncload.h"
#include "policies.h"	/* generated: the policies built into ncload */

#define PIN_LINK	PIN_DIR "/link"
#define PIN_MAPS	PIN_DIR "/maps"
#define PIN_TMP		"_ncload_pinning"	/* in PIN_MAPS, while pinning */
#define PROC_POLICY	"/proc/net/netchannel/policy"
#define STRUCT_OPS_TYPE	"netsched_ops"
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/*
 * A per-cgroup setting. `set MAP CGROUP VALUE` writes any map of the
 * attached policy, in the range the policy declares for it (see
 * NETSCHED_CGROUP_MAP() in bpf/netchannel.bpf.h); set-class and set-weight
 * are its aliases for the maps priority and fair declare. @what and
 * @policy only word the messages.
 */
struct cgrp_setting {
	const char *cmd;
	const char *map;
	const char *what;
	const char *policy;
};

static const struct cgrp_setting set_class = {
	"set-class", "cgrp_class", "class", "priority",
};
static const struct cgrp_setting set_weight = {
	"set-weight", "cgrp_weight", "weight", "fair",
};

/* the BTF decl tag NETSCHED_CGROUP_MAP() puts on the map: "netsched_range:LO:HI" */
#define RANGE_TAG	"netsched_range:"

int verbose;

static void usage(FILE *f)
{
	const struct nc_policy_entry *p;

	fprintf(f,
"Usage: ncload [-v] COMMAND [ARGS]\n"
"\n"
"Attach and manage NetChannel NetScheduler policies (BPF struct_ops).\n"
"\n"
"Commands:\n"
"  attach POLICY    attach POLICY (a built-in name or a path to a .bpf.o);\n"
"                   fails if a policy is attached already\n"
"  check POLICY     load POLICY (the kernel verifies it) and unload it, not\n"
"                   attached: does it load, and what a load costs\n"
"  replace POLICY   atomically replace the policy attached by ncload; maps\n"
"                   of the same name and layout keep their entries\n"
"  detach           detach the active policy (also one bpftool attached)\n"
"                   and unpin its maps\n"
"  status           show the active policy, or why the last one stopped,\n"
"                   and the pinned maps with their number of entries\n"
"                   (-v: the entries too), and the enabled cgroups\n"
"  list             list the built-in policies\n"
"  set MAP CGROUP VALUE\n"
"                   sockets that tasks of CGROUP (a cgroup v2 directory,\n"
"                   e.g. /sys/fs/cgroup/lapp) create from now on get\n"
"                   VALUE from the attached policy's map MAP, within the\n"
"                   range the policy declares for it (status shows it)\n"
"  set-class CGROUP CLASS\n"
"                   set cgrp_class CGROUP CLASS (priority: 0 is highest)\n"
"  set-weight CGROUP WEIGHT\n"
"                   set cgrp_weight CGROUP WEIGHT (fair: default 100)\n"
"  enable CGROUP [--ports LIST] [--addrs LIST]\n"
"                   the stream sockets (socket(AF_INET or AF_INET6, SOCK_STREAM,\n"
"                   0 or IPPROTO_TCP)) that tasks of CGROUP or of its\n"
"                   descendants create from now on are NetChannel sockets:\n"
"                   no LD_PRELOAD, static binaries too (fmod_ret on\n"
"                   update_socket_protocol(); needs CONFIG_MPTCP=y).\n"
"                   --ports 80,8000-8100: only connections to, and\n"
"                   listeners on, these ports (up to 8 ports or ranges)\n"
"                   use NetChannel; the others are plain TCP sockets.\n"
"                   --addrs 10.0.0.0/8,fd00::/8: only connections to these\n"
"                   networks (up to 8; IPv4 ones also v4-mapped) do.\n"
"                   Again with other rules (or none: all) changes them\n"
"  disable CGROUP   stop that for CGROUP (sockets open stay as they are)\n"
"\n"
"Options:\n"
"  -v, --verbose    show libbpf's messages; status lists map entries\n"
"  -h, --help       show this help\n"
"\n"
"The link is pinned at " PIN_LINK ", the policy's maps (all but\n"
"its struct_ops map and .data/.bss/.rodata) at " PIN_MAPS "/NAME\n"
"while it is attached. A policy reads a socket's class or weight when the\n"
"socket is created, and for every live socket when the policy is attached\n"
"or replaced. Exit status: 0 on success, 1 on error (one line on stderr\n"
"says why), 2 on bad usage.\n"
"\n"
"Example:\n"
"  ncload attach priority\n"
"  mkdir /sys/fs/cgroup/lapp\n"
"  ncload set-class /sys/fs/cgroup/lapp 0\n"
"  echo $PID > /sys/fs/cgroup/lapp/cgroup.procs   # before it opens sockets\n"
"\nBuilt-in policies:");
	for (p = nc_policies; p->name; p++)
		fprintf(f, " %s", p->name);
	fprintf(f, "%s\n", nc_policies[0].name ? "" : " (none)");
}

int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("ncload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG || (!verbose && level == LIBBPF_INFO))
		return 0;
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Read one "key: value" line of /proc/net/netchannel/policy. */
static int proc_policy_get(const char *key, char *val, size_t len)
{
	char line[256];
	size_t klen = strlen(key);
	FILE *f = fopen(PROC_POLICY, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		snprintf(val, len, "%s", line + klen + 2);
		val[strcspn(val, "\n")] = '\0';
		fclose(f);
		return 0;
	}
	fclose(f);
	return -ENOENT;
}

/* Is @map_id a struct_ops map of type netsched_ops (by its BTF)? */
static bool map_is_netsched(__u32 map_id)
{
	static struct btf *vmlinux;
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	const struct btf_type *t;
	struct btf *btf = NULL;
	bool ret = false;
	int fd = bpf_map_get_fd_by_id(map_id);

	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	if (bpf_map_get_info_by_fd(fd, &info, &len) ||
	    info.type != BPF_MAP_TYPE_STRUCT_OPS)
		goto out;
	if (!vmlinux)
		vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		goto out;
	btf = info.btf_vmlinux_id ?
	      btf__load_from_kernel_by_id_split(info.btf_vmlinux_id, vmlinux) :
	      vmlinux;
	t = btf ? btf__type_by_id(btf, info.btf_vmlinux_value_type_id) : NULL;
	ret = t && !strcmp(btf__name_by_offset(btf, t->name_off),
			   "bpf_struct_ops_" STRUCT_OPS_TYPE);
	if (btf != vmlinux)
		btf__free(btf);
out:
	close(fd);
	return ret;
}

/*
 * The id of the running policy's bpf_link; 0 if none runs, or if it cannot
 * be told (*@nr_links then says how many candidates there are). The kernel
 * reports it as link_id; modules before 345ebf7 showed 0 there for a
 * policy attached by creating a link (its id is assigned only after reg()
 * returns), and then the one struct_ops link of type netsched_ops is it.
 */
static __u32 active_link_id(int *nr_links)
{
	struct bpf_link_info info;
	__u32 id = 0, found = 0, len;
	char val[64];
	int fd, n = 0;

	*nr_links = 0;
	if (proc_policy_get("state", val, sizeof(val)) || !strcmp(val, "native"))
		return 0;
	if (!proc_policy_get("link_id", val, sizeof(val)) &&
	    strtoul(val, NULL, 10)) {
		*nr_links = 1;
		return strtoul(val, NULL, 10);
	}
	while (!bpf_link_get_next_id(id, &id)) {
		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_link_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_LINK_TYPE_STRUCT_OPS &&
		    info.struct_ops.map_id &&
		    map_is_netsched(info.struct_ops.map_id)) {
			found = id;
			n++;
		}
		close(fd);
	}
	*nr_links = n;
	return n == 1 ? found : 0;
}

int module_check(void)
{
	if (access(PROC_POLICY, R_OK))
		return fail("NetChannel is not loaded (%s: %s); load netchannel.ko first",
			    PROC_POLICY, strerror(errno));
	return 0;
}

static struct bpf_object *policy_open(const char *policy)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	const struct nc_policy_entry *p;
	struct bpf_object *obj;
	const void *buf;
	size_t sz;

	for (p = nc_policies; p->name; p++) {
		if (strcmp(policy, p->name))
			continue;
		buf = p->elf_bytes(&sz);
		opts.object_name = p->name;
		obj = bpf_object__open_mem(buf, sz, &opts);
		goto out;
	}
	if (!strchr(policy, '/') && access(policy, F_OK)) {
		fail("unknown policy '%s' (not built in, no such file); see 'ncload list'",
		     policy);
		return NULL;
	}
	obj = bpf_object__open_file(policy, NULL);
out:
	if (!obj) {
		char msg[128];

		/* errno may be one of libbpf's own (LIBBPF_ERRNO__*) */
		libbpf_strerror(errno, msg, sizeof(msg));
		fail("cannot open policy '%s': %s", policy, msg);
	}
	return obj;
}

/* The struct_ops map of type netsched_ops in @obj: there must be one. */
static struct bpf_map *policy_ops_map(struct bpf_object *obj)
{
	struct bpf_map *map, *found = NULL;
	int n = 0;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		found = map;
		n++;
	}
	if (n != 1) {
		fail("a policy object needs exactly one struct_ops map of type %s, found %d",
		     STRUCT_OPS_TYPE, n);
		return NULL;
	}
	return found;
}

/* A map of the policy's own, pinned while it is attached. */
static bool map_pinnable(const struct bpf_map *map)
{
	return !bpf_map__is_internal(map) &&
	       bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS;
}

static void map_pin_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", PIN_MAPS, name);
}

/*
 * Before loading @obj for a replace: a map pinned under the same name with
 * the same type, key, value, size and flags is reused, so its entries (the
 * classes or weights set so far) carry over to the new policy.
 */
static void maps_reuse_pinned(struct bpf_object *obj)
{
	struct bpf_map_info info;
	struct bpf_map *map;
	__u32 len;
	char path[PATH_MAX];
	int fd;

	bpf_object__for_each_map(map, obj) {
		if (!map_pinnable(map))
			continue;
		map_pin_path(path, sizeof(path), bpf_map__name(map));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_map_get_info_by_fd(fd, &info, &len) &&
		    info.type == bpf_map__type(map) &&
		    info.key_size == bpf_map__key_size(map) &&
		    info.value_size == bpf_map__value_size(map) &&
		    info.max_entries == bpf_map__max_entries(map) &&
		    info.map_flags == bpf_map__map_flags(map) &&
		    !bpf_map__reuse_fd(map, fd) && verbose)
			fprintf(stderr, "ncload: reusing %s\n", path);
		close(fd);
	}
}

/* Remove every pin under PIN_MAPS whose name @obj does not pin (all: NULL). */
static int maps_unpin_others(struct bpf_object *obj)
{
	struct bpf_map *map;
	struct dirent *de;
	char path[PATH_MAX];
	bool keep;
	int err = 0;
	DIR *d = opendir(PIN_MAPS);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		keep = false;
		if (obj)
			bpf_object__for_each_map(map, obj)
				if (map_pinnable(map) &&
				    !strcmp(bpf_map__name(map), de->d_name))
					keep = true;
		map_pin_path(path, sizeof(path), de->d_name);
		if (!keep && unlink(path) && errno != ENOENT)
			err = -errno;
	}
	closedir(d);
	if (!obj && rmdir(PIN_MAPS) && errno != ENOENT)
		err = -errno;
	return err;
}

/*
 * Pin @obj's own maps under PIN_MAPS, each atomically in place of a pin of
 * the same name: pinned under PIN_TMP, then renamed over it (bpffs refuses
 * names with a dot, hence no dot-file).
 */
static int maps_pin(struct bpf_object *obj)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int err;

	if (mkdir(PIN_MAPS, 0700) && errno != EEXIST)
		return fail("cannot create %s: %s", PIN_MAPS, strerror(errno));
	bpf_object__for_each_map(map, obj) {
		if (!map_pinnable(map))
			continue;
		map_pin_path(path, sizeof(path), bpf_map__name(map));
		unlink(PIN_MAPS "/" PIN_TMP);
		if (bpf_obj_pin(bpf_map__fd(map), PIN_MAPS "/" PIN_TMP) ||
		    rename(PIN_MAPS "/" PIN_TMP, path)) {
			err = errno;
			unlink(PIN_MAPS "/" PIN_TMP);
			return fail("cannot pin map %s at %s: %s",
				    bpf_map__name(map), path, strerror(err));
		}
	}
	return 0;
}

static int policy_load(const char *policy, bool reuse_maps,
		       struct bpf_object **objp, struct bpf_map **mapp)
{
	struct bpf_object *obj = policy_open(policy);
	struct bpf_map *map;
	int err;

	if (!obj)
		return 1;
	map = policy_ops_map(obj);
	if (!map)
		goto err;
	if (reuse_maps)
		maps_reuse_pinned(obj);
	err = bpf_object__load(obj);
	if (err) {
		fail("cannot load policy '%s': %s%s", policy, strerror(-err),
		     verbose ? "" : " (-v shows the verifier's log)");
		goto err;
	}
	*objp = obj;
	*mapp = map;
	return 0;
err:
	bpf_object__close(obj);
	return 1;
}

/* Load @policy and unload it: the verifier's verdict, and nothing attached. */
static int cmd_check(const char *policy)
{
	struct bpf_object *obj;
	struct bpf_map *map;

	if (module_check())
		return 1;
	if (policy_load(policy, false, &obj, &map))
		return 1;
	printf("%s loads\n", policy);
	bpf_object__close(obj);
	return 0;
}

static int cmd_attach(const char *policy)
{
	struct bpf_object *obj;
	struct bpf_link *link;
	struct bpf_map *map;
	char cur[64];
	int err;

	if (module_check())
		return 1;
	if (!proc_policy_get("state", cur, sizeof(cur)) && strcmp(cur, "native")) {
		proc_policy_get("policy", cur, sizeof(cur));
		return fail("policy '%s' is attached already; use 'ncload replace' or 'ncload detach'",
			    cur);
	}
	/*
	 * No policy runs, so a link still pinned here is one whose policy was
	 * ejected: release it, and unpin its maps.
	 */
	if (unlink(PIN_LINK) && errno != ENOENT && errno != ENOTDIR)
		return fail("cannot remove the stale link %s: %s", PIN_LINK,
			    strerror(errno));
	maps_unpin_others(NULL);
	if (policy_load(policy, false, &obj, &map))
		return 1;
	link = bpf_map__attach_struct_ops(map);
	if (!link) {
		err = -errno;
		bpf_object__close(obj);
		return fail("cannot attach '%s': %s", policy, strerror(-err));
	}
	if (mkdir(PIN_DIR, 0700) && errno != EEXIST) {
		err = -errno;
		goto err_link;
	}
	err = bpf_link__pin(link, PIN_LINK);
	if (err)
		goto err_link;
	if (maps_pin(obj)) {
		/* all or nothing: detach again */
		maps_unpin_others(NULL);
		bpf_link__unpin(link);
		bpf_link__destroy(link);
		bpf_object__close(obj);
		return 1;
	}
	printf("attached %s\n", bpf_map__name(map));
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
err_link:
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return fail("cannot pin the link at %s: %s (is bpffs mounted on /sys/fs/bpf?)",
		    PIN_LINK, strerror(-err));
}

static int cmd_replace(const char *policy)
{
	struct bpf_object *obj;
	struct bpf_link *link;
	struct bpf_map *map;
	int err, ret = 0;
	char cur[64];

	if (module_check())
		return 1;
	link = bpf_link__open(PIN_LINK);
	if (!link)
		return fail("no policy attached by ncload (%s: %s); use 'ncload attach'",
			    PIN_LINK, strerror(errno));
	if (policy_load(policy, true, &obj, &map)) {
		bpf_link__disconnect(link);
		bpf_link__destroy(link);
		return 1;
	}
	err = bpf_link__update_map(link, map);
	if (!err) {
		/* the new policy runs: its maps replace the old one's pins */
		ret = maps_pin(obj);
		if (!ret && maps_unpin_others(obj))
			ret = fail("replaced, but cannot unpin the old maps in %s",
				   PIN_MAPS);
		if (!ret)
			printf("replaced by %s\n", bpf_map__name(map));
	}
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	if (err == -ENOENT && !proc_policy_get("state", cur, sizeof(cur)) &&
	    !strcmp(cur, "native"))
		return fail("the policy attached by ncload is no longer running (ejected? see 'ncload status'); use 'ncload attach %s'",
			    policy);
	if (err)
		return fail("cannot replace the policy with '%s': %s", policy,
			    strerror(-err));
	return ret;
}

static int cmd_detach(void)
{
	char val[64];
	int fd, err, n;
	__u32 id;

	if (module_check())
		return 1;
	if (proc_policy_get("state", val, sizeof(val)))
		return fail("cannot read %s", PROC_POLICY);
	id = active_link_id(&n);
	if (!id) {
		if (n > 1)
			return fail("cannot tell which of %d NetChannel struct_ops links is active (%s shows link_id 0); unpin the one to detach",
				    n, PROC_POLICY);
		if (strcmp(val, "native"))
			return fail("cannot find the bpf_link of the running policy (state %s)",
				    val);
		/* nothing runs: a link still pinned is an ejected policy's */
		unlink(PIN_LINK);
		maps_unpin_others(NULL);
		return fail("no policy is attached");
	}
	fd = bpf_link_get_fd_by_id(id);
	if (fd < 0)
		return fail("cannot open link %u: %s", id, strerror(errno));
	err = bpf_link_detach(fd);
	close(fd);
	if (err)
		return fail("cannot detach link %u: %s", id, strerror(errno));
	/* The pin, if ours, now holds a defunct link: drop it. */
	if (unlink(PIN_LINK) && errno != ENOENT)
		return fail("detached, but cannot remove %s: %s", PIN_LINK,
			    strerror(errno));
	if (maps_unpin_others(NULL))
		return fail("detached, but cannot remove the maps in %s: %s",
			    PIN_MAPS, strerror(errno));
	printf("detached\n");
	return 0;
}

/* ---- cgroups ---------------------------------------------------------------- */

/*
 * The cgroup v2 id of directory @path, as the kernel reports it for a task
 * (sk->cgroup_id): the kernfs node id, which name_to_handle_at() returns as
 * the file handle (and which is also the directory's inode number).
 */
int cgroup_id_of(const char *path, __u64 *id)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh.handle_bytes = sizeof(__u64) };
	struct statfs sfs;
	struct stat st;
	int mnt_id;

	if (stat(path, &st))
		return fail("%s: %s", path, strerror(errno));
	if (statfs(path, &sfs))
		return fail("%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return fail("%s is not a cgroup v2 directory (cgroup2 is usually mounted on %s)",
			    path, CGROUP_ROOT);
	if (!name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt_id, 0) &&
	    h.fh.handle_bytes == sizeof(__u64))
		memcpy(id, h.fh.f_handle, sizeof(*id));
	else
		*id = st.st_ino;
	return 0;
}

/* For status -v: the path of cgroup @id under CGROUP_ROOT, if found. */
static __u64 cg_find_id;
static char cg_found[PATH_MAX];

static int cg_find_cb(const char *fpath, const struct stat *sb, int type,
		      struct FTW *ftw)
{
	if (type != FTW_D || sb->st_ino != cg_find_id)
		return 0;
	snprintf(cg_found, sizeof(cg_found), "%s", fpath);
	return 1;
}

const char *cgroup_path_of(__u64 id)
{
	cg_find_id = id;
	cg_found[0] = '\0';
	if (nftw(CGROUP_ROOT, cg_find_cb, 16, FTW_PHYS | FTW_MOUNT) != 1)
		return "?";
	return cg_found;
}

/*
 * Is the link pinned by ncload the one running (its maps are live)? 1 yes,
 * 0 another policy runs (bpftool's), -1 none does. @name: the running one.
 */
static int ncload_policy_active(char *name, size_t len)
{
	struct bpf_link_info info;
	__u32 ilen = sizeof(info), id;
	char state[64];
	int fd, n, ret;

	if (proc_policy_get("state", state, sizeof(state)) ||
	    proc_policy_get("policy", name, len) || strcmp(state, "enabled"))
		return -1;
	id = active_link_id(&n);
	fd = bpf_obj_get(PIN_LINK);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	ret = !bpf_link_get_info_by_fd(fd, &info, &ilen) && id && info.id == id;
	close(fd);
	return ret;
}

/*
 * The range the policy declared for map @fd (named @map): the BTF decl tag
 * of its variable. 0, or -1 when it declared none.
 */
static int map_range(int fd, const char *map, unsigned long *lo,
		     unsigned long *hi)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info), i, n;
	struct btf *btf;
	int ret = -1;

	memset(&info, 0, sizeof(info));
	if (bpf_map_get_info_by_fd(fd, &info, &len) || !info.btf_id)
		return -1;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return -1;
	n = btf__type_cnt(btf);
	for (i = 1; i < n && ret; i++) {
		const struct btf_type *t = btf__type_by_id(btf, i), *v;
		const char *tag;

		if (!btf_is_decl_tag(t) || btf_decl_tag(t)->component_idx != -1)
			continue;
		v = btf__type_by_id(btf, t->type);
		tag = btf__name_by_offset(btf, t->name_off);
		if (v && btf_is_var(v) &&
		    !strcmp(btf__name_by_offset(btf, v->name_off), map) &&
		    tag && !strncmp(tag, RANGE_TAG, strlen(RANGE_TAG)) &&
		    sscanf(tag + strlen(RANGE_TAG), "%lu:%lu", lo, hi) == 2)
			ret = 0;
	}
	btf__free(btf);
	return ret;
}

/* set MAP CGROUP VALUE, and its aliases (@set names what they are for) */
static int cmd_set(const struct cgrp_setting *set, const char *map,
		   const char *path, const char *value)
{
	const char *what = set ? set->what : "value";
	char mpath[PATH_MAX], name[64] = "";
	unsigned long v, lo, hi;
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char *end;
	__u64 cgid;
	__u32 val;
	int fd;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (!*value || *end || errno || value[0] == '-' || v > UINT32_MAX)
		return fail("%s '%s' is not a number from 0 to %u", what, value,
			    UINT32_MAX);
	if (strchr(map, '/') || !*map || strlen(map) >= 64)
		return fail("'%s' is not a map name", map);
	if (cgroup_id_of(path, &cgid))
		return 1;
	if (module_check())
		return 1;
	switch (ncload_policy_active(name, sizeof(name))) {
	case -1:
		if (set)
			return fail("no policy is attached; attach one with a map %s first, e.g. 'ncload attach %s'",
				    map, set->policy);
		return fail("no policy is attached; attach one with a map %s first",
			    map);
	case 0:
		return fail("policy '%s' was not attached by ncload, which pinned no maps of it; use 'bpftool map update name %s ...'",
			    name, map);
	}
	map_pin_path(mpath, sizeof(mpath), map);
	fd = bpf_obj_get(mpath);
	if (fd < 0) {
		if (set)
			return fail("the attached policy %s has no map %s (%s: %s); %s is for policies like %s",
				    name, map, mpath, strerror(errno), set->cmd,
				    set->policy);
		return fail("the attached policy %s has no map %s (%s: %s); 'ncload status' lists its maps",
			    name, map, mpath, strerror(errno));
	}
	memset(&info, 0, sizeof(info));
	if (bpf_map_get_info_by_fd(fd, &info, &len) || info.key_size != 8 ||
	    info.value_size != 4) {
		close(fd);
		return fail("map %s of %s is not a map of cgroup id (8 bytes) -> %s (4 bytes)",
			    map, name, what);
	}
	if (map_range(fd, map, &lo, &hi)) {
		close(fd);
		return fail("policy %s declares no range for map %s (declare it with NETSCHED_CGROUP_MAP(%s, LO, HI))",
			    name, map, map);
	}
	if (v < lo || v > hi) {
		close(fd);
		return fail("%s '%s' out of range: %lu to %lu (what policy %s declares for %s)",
			    what, value, lo, hi, name, map);
	}
	val = v;
	if (bpf_map_update_elem(fd, &cgid, &val, BPF_ANY)) {
		int err = errno;

		close(fd);
		return fail("cannot update %s: %s", mpath, strerror(err));
	}
	close(fd);
	printf("%s %s (cgroup %llu): %s %lu\n", map, path,
	       (unsigned long long)cgid, what, v);
	return 0;
}

/* ---- status ------------------------------------------------------------------ */

static void print_entry(const struct bpf_map_info *info, const void *key,
			const void *val)
{
	const unsigned char *k = key, *v = val;
	__u64 id;
	__u32 x;
	__u32 i;

	if (info->key_size == 8 && info->value_size == 4) {
		memcpy(&id, key, 8);
		memcpy(&x, val, 4);
		printf("  cgroup %llu (%s): %u\n", (unsigned long long)id,
		       cgroup_path_of(id), x);
		return;
	}
	printf("  ");
	for (i = 0; i < info->key_size; i++)
		printf("%02x", k[i]);
	printf(":");
	for (i = 0; i < info->value_size && i < 64; i++)
		printf(" %02x", v[i]);
	printf("\n");
}

static void status_maps(void)
{
	static const char *const types[] = {
		[BPF_MAP_TYPE_HASH] = "hash", [BPF_MAP_TYPE_ARRAY] = "array",
		[BPF_MAP_TYPE_PERCPU_HASH] = "percpu_hash",
		[BPF_MAP_TYPE_PERCPU_ARRAY] = "percpu_array",
		[BPF_MAP_TYPE_LRU_HASH] = "lru_hash",
	};
	struct bpf_map_info info;
	char path[PATH_MAX];
	void *key, *next, *val;
	unsigned long lo, hi;
	struct dirent *de;
	__u32 len, n;
	int fd;
	DIR *d = opendir(PIN_MAPS);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, PIN_TMP))
			continue;
		map_pin_path(path, sizeof(path), de->d_name);
		fd = bpf_obj_get(path);
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (fd < 0 || bpf_map_get_info_by_fd(fd, &info, &len)) {
			printf("map: %s: cannot open %s: %s\n", de->d_name, path,
			       strerror(errno));
			if (fd >= 0)
				close(fd);
			continue;
		}
		key = calloc(1, info.key_size);
		next = calloc(1, info.key_size);
		val = calloc(1, info.value_size + 8);
		n = 0;
		if (key && next && val &&
		    !bpf_map_get_next_key(fd, NULL, next)) {
			do {
				memcpy(key, next, info.key_size);
				n++;
			} while (!bpf_map_get_next_key(fd, key, next));
		}
		printf("map: %s (%s, %u of %u entries) %s", de->d_name,
		       info.type < sizeof(types) / sizeof(types[0]) &&
		       types[info.type] ? types[info.type] : "other",
		       n, info.max_entries, path);
		if (!map_range(fd, de->d_name, &lo, &hi))
			printf(" (ncload set %s CGROUP %lu..%lu)", de->d_name,
			       lo, hi);
		printf("\n");
		if (verbose && key && next && val &&
		    info.type != BPF_MAP_TYPE_PERCPU_HASH &&
		    info.type != BPF_MAP_TYPE_PERCPU_ARRAY &&
		    !bpf_map_get_next_key(fd, NULL, next)) {
			do {
				memcpy(key, next, info.key_size);
				if (!bpf_map_lookup_elem(fd, key, val))
					print_entry(&info, key, val);
			} while (!bpf_map_get_next_key(fd, key, next));
		}
		free(key);
		free(next);
		free(val);
		close(fd);
	}
	closedir(d);
}

static int cmd_status(void)
{
	char line[256];
	FILE *f;

	if (module_check())
		return 1;
	f = fopen(PROC_POLICY, "r");
	if (!f)
		return fail("cannot read %s: %s", PROC_POLICY, strerror(errno));
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	fclose(f);
	status_maps();
	enable_status(stdout);
	return 0;
}

static int cmd_list(void)
{
	const struct nc_policy_entry *p;

	for (p = nc_policies; p->name; p++)
		printf("%s\n", p->name);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	libbpf_set_print(libbpf_print);
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;

	if (!strcmp(cmd, "attach") && argc == 1)
		return cmd_attach(argv[0]);
	if (!strcmp(cmd, "replace") && argc == 1)
		return cmd_replace(argv[0]);
	if (!strcmp(cmd, "check") && argc == 1)
		return cmd_check(argv[0]);
	if (!strcmp(cmd, "detach") && argc == 0)
		return cmd_detach();
	if (!strcmp(cmd, "status") && argc == 0)
		return cmd_status();
	if (!strcmp(cmd, "list") && argc == 0)
		return cmd_list();
	if (!strcmp(cmd, "set") && argc == 3)
		return cmd_set(NULL, argv[0], argv[1], argv[2]);
	if (!strcmp(cmd, "set-class") && argc == 2)
		return cmd_set(&set_class, set_class.map, argv[0], argv[1]);
	if (!strcmp(cmd, "set-weight") && argc == 2)
		return cmd_set(&set_weight, set_weight.map, argv[0], argv[1]);
	if (!strcmp(cmd, "enable"))
		return cmd_enable(argc, argv);
	if (!strcmp(cmd, "disable") && argc == 1)
		return cmd_disable(argv[0]);
	fprintf(stderr, "ncload: bad command or arguments: %s\n", cmd);
	usage(stderr);
	return 2;
}
