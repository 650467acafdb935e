// SPDX-License-Identifier: GPL-2.0
/*
 * ncload enable / disable: the cgroups whose tasks' stream sockets are
 * NetChannel sockets, without LD_PRELOAD (loader/ncenable.bpf.c).
 *
 * The program is attached (fmod_ret on update_socket_protocol) by the first
 * `enable` and detached by the `disable` of the last enabled cgroup. Its
 * link and its map of enabled cgroup ids are pinned at PIN_EN_LINK and
 * PIN_EN_MAP, so the setting outlives ncload. Commands serialise on an
 * flock of PIN_DIR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ncload.h"
#include "ncenable.skel.h"
#include "uapi/netchannel.h"

#define PIN_EN_LINK	PIN_DIR "/enable_link"
#define PIN_EN_MAP	PIN_DIR "/enable_cgroups"

/* Lock PIN_DIR (made if missing) against other ncload enable/disable. */
static int pin_dir_lock(void)
{
	int fd;

	if (mkdir(PIN_DIR, 0700) && errno != EEXIST) {
		fail("cannot create %s: %s (is bpffs mounted on /sys/fs/bpf?)",
		     PIN_DIR, strerror(errno));
		return -1;
	}
	fd = open(PIN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		fail("cannot lock %s: %s", PIN_DIR, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Load and attach the program, pin its link and map; the map's fd, or -1
 * (after fail()).
 */
static int enable_attach(void)
{
	struct bpf_link *link;
	struct ncenable *skel;
	int err, fd;

	skel = ncenable__open();
	if (!skel) {
		fail("cannot open the enable program: %s", strerror(errno));
		return -1;
	}
	skel->rodata->nc_protocol = IPPROTO_NETCHANNEL;
	err = ncenable__load(skel);
	if (err) {
		fail("cannot load the enable program: %s (this kernel must allow fmod_ret on update_socket_protocol(), which CONFIG_MPTCP=y does; -v shows the verifier's log)",
		     strerror(-err));
		goto out;
	}
	link = bpf_program__attach(skel->progs.nc_enable);
	if (!link) {
		err = -errno;
		fail("cannot attach to update_socket_protocol(): %s",
		     strerror(-err));
		goto out;
	}
	err = bpf_map__pin(skel->maps.nc_enabled, PIN_EN_MAP);
	if (err) {
		fail("cannot pin %s: %s", PIN_EN_MAP, strerror(-err));
		bpf_link__destroy(link);
		goto out;
	}
	err = bpf_link__pin(link, PIN_EN_LINK);
	if (err) {
		fail("cannot pin %s: %s", PIN_EN_LINK, strerror(-err));
		bpf_map__unpin(skel->maps.nc_enabled, PIN_EN_MAP);
		bpf_link__destroy(link);
		goto out;
	}
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
out:
	fd = err ? -1 : dup(bpf_map__fd(skel->maps.nc_enabled));
	ncenable__destroy(skel);
	return fd;
}

/*
 * The pinned map of enabled cgroups, or -1: errno ENOENT when nothing is
 * enabled (no pinned link), after fail() on any other error.
 */
static int enable_map_get(void)
{
	int fd;

	if (access(PIN_EN_LINK, F_OK)) {
		if (errno != ENOENT)
			fail("%s: %s", PIN_EN_LINK, strerror(errno));
		return -1;
	}
	fd = bpf_obj_get(PIN_EN_MAP);
	if (fd < 0) {
		fail("%s: %s", PIN_EN_MAP, strerror(errno));
		errno = EIO;
	}
	return fd;
}

int cmd_enable(int argc, char **argv)
{
	__u8 one = 1;
	int lock, fd;
	__u64 id;

	if (argc != 1) {
		fprintf(stderr, "ncload: enable takes one cgroup directory\n");
		return 2;
	}
	if (module_check() || cgroup_id_of(argv[0], &id))
		return 1;
	lock = pin_dir_lock();
	if (lock < 0)
		return 1;
	fd = enable_map_get();
	if (fd < 0 && errno == ENOENT)
		fd = enable_attach();
	if (fd < 0)
		goto err;
	if (!bpf_map_lookup_elem(fd, &id, &one)) {
		printf("%s is enabled already\n", argv[0]);
	} else if (bpf_map_update_elem(fd, &id, &one, BPF_NOEXIST)) {
		fail("cannot enable %s: %s%s", argv[0], strerror(errno),
		     errno == E2BIG ? " (too many cgroups enabled)" : "");
		close(fd);
		goto err;
	} else {
		printf("enabled %s: its new stream sockets (IPv4 and IPv6) are NetChannel sockets\n",
		       argv[0]);
	}
	close(fd);
	close(lock);
	return 0;
err:
	close(lock);
	return 1;
}

int cmd_disable(const char *cgroup)
{
	__u64 id, key;
	int lock, fd, ret = 1;

	if (cgroup_id_of(cgroup, &id))
		return 1;
	lock = pin_dir_lock();
	if (lock < 0)
		return 1;
	fd = enable_map_get();
	if (fd < 0) {
		if (errno == ENOENT)
			fail("%s is not enabled (no cgroup is)", cgroup);
		goto out;
	}
	if (bpf_map_delete_elem(fd, &id)) {
		if (errno == ENOENT)
			fail("%s is not enabled", cgroup);
		else
			fail("cannot disable %s: %s", cgroup, strerror(errno));
		goto out_map;
	}
	/* the last one: detach (the pins were the link's last references) */
	if (bpf_map_get_next_key(fd, NULL, &key) && errno == ENOENT) {
		if (unlink(PIN_EN_LINK) || unlink(PIN_EN_MAP)) {
			fail("cannot unpin under %s: %s", PIN_DIR,
			     strerror(errno));
			goto out_map;
		}
	}
	printf("disabled %s\n", cgroup);
	ret = 0;
out_map:
	close(fd);
out:
	close(lock);
	return ret;
}

void enable_status(FILE *f)
{
	__u64 key, next;
	int fd, n = 0;
	__u64 *prev = NULL;

	fd = enable_map_get();
	if (fd < 0) {
		fprintf(f, "enabled cgroups: none\n");
		return;
	}
	fprintf(f, "enabled cgroups (stream sockets, IPv4 and IPv6, are NetChannel's):\n");
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		fprintf(f, "  %s (id %llu)\n", cgroup_path_of(next),
			(unsigned long long)next);
		key = next;
		prev = &key;
		n++;
	}
	if (!n)
		fprintf(f, "  none\n");
	close(fd);
}
