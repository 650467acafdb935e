// SPDX-License-Identifier: GPL-2.0
/*
 * ncload enable / disable: the cgroups whose tasks' stream sockets are
 * NetChannel sockets, without LD_PRELOAD (loader/ncenable.bpf.c).
 *
 * The program is attached (fmod_ret on update_socket_protocol, and on
 * NetChannel's nc_bpf_select_tcp() for the port rules) by the first
 * `enable` and detached by the `disable` of the last enabled cgroup. Its
 * links and its map of enabled cgroups (id -> port rule) are pinned at
 * PIN_EN_LINK, PIN_EN_RULE_LINK and PIN_EN_MAP, so the setting outlives
 * ncload. Commands serialise on an flock of PIN_DIR.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ncload.h"
#include "ncenable.h"
#include "ncenable.skel.h"
#include "uapi/netchannel.h"

#define PIN_EN_LINK	PIN_DIR "/enable_link"
#define PIN_EN_MAP	PIN_DIR "/enable_cgroups"
#define PIN_EN_RULE_LINK PIN_DIR "/enable_rule_link"

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

/* Attach @prog and pin its link at @path; 0 or -errno (after fail()). */
static int attach_pin(struct bpf_program *prog, const char *what,
		      const char *path)
{
	struct bpf_link *link = bpf_program__attach(prog);
	int err;

	if (!link) {
		err = -errno;
		fail("cannot attach to %s: %s", what, strerror(-err));
		return err;
	}
	err = bpf_link__pin(link, path);
	if (err)
		fail("cannot pin %s: %s", path, strerror(-err));
	else
		bpf_link__disconnect(link);
	bpf_link__destroy(link);
	return err;
}

/*
 * Load and attach the programs, pin their links and the map; the map's fd,
 * or -1 (after fail()).
 */
static int enable_attach(void)
{
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
	err = bpf_map__pin(skel->maps.nc_enabled, PIN_EN_MAP);
	if (err) {
		fail("cannot pin %s: %s", PIN_EN_MAP, strerror(-err));
		goto out;
	}
	err = attach_pin(skel->progs.nc_rule, "nc_bpf_select_tcp()",
			 PIN_EN_RULE_LINK);
	if (!err) {
		/* last: the pinned link says that the setting is complete */
		err = attach_pin(skel->progs.nc_enable,
				 "update_socket_protocol()", PIN_EN_LINK);
		if (err)
			unlink(PIN_EN_RULE_LINK);
	}
	if (err)
		bpf_map__unpin(skel->maps.nc_enabled, PIN_EN_MAP);
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

/*
 * "80,443,8000-8100" into @r: up to NC_ENABLE_MAX_RANGES ports or ranges
 * of 1..65535. 0, or 2 (after a message) for a bad list.
 */
static int parse_ports(const char *list, struct nc_enable_rule *r)
{
	const char *p = list;
	unsigned long lo, hi;
	char *end;

	while (*p) {
		if (r->nr == NC_ENABLE_MAX_RANGES) {
			fprintf(stderr, "ncload: --ports %s: more than %d ports or ranges\n",
				list, NC_ENABLE_MAX_RANGES);
			return 2;
		}
		errno = 0;
		lo = strtoul(p, &end, 10);
		hi = lo;
		if (end != p && *end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
		}
		if (errno || end == p || (*end && *end != ',') || !lo || lo > hi ||
		    hi > 65535) {
			fprintf(stderr, "ncload: --ports %s: expected PORT or LO-HI (1..65535), comma-separated\n",
				list);
			return 2;
		}
		r->lo[r->nr] = lo;
		r->hi[r->nr++] = hi;
		p = *end ? end + 1 : end;
		if (*end && !*p) {
			fprintf(stderr, "ncload: --ports %s: a trailing comma\n", list);
			return 2;
		}
	}
	if (!r->nr) {
		fprintf(stderr, "ncload: --ports: an empty list\n");
		return 2;
	}
	return 0;
}

/*
 * "10.0.0.0/8,fd00::/8,192.168.1.7" into @r: up to NC_ENABLE_MAX_NETS
 * IPv4 or IPv6 networks (no prefix: the one address). 0, or 2 (after a
 * message) for a bad list.
 */
static int parse_addrs(const char *list, struct nc_enable_rule *r)
{
	char *copy = strdup(list), *save = NULL, *tok, *slash, *end;
	struct in6_addr a6;
	struct in_addr a4;
	long plen, max;
	int ret = 2;

	if (!copy)
		return fail("out of memory");
	if (!*list || list[strlen(list) - 1] == ',' || list[0] == ',' ||
	    strstr(list, ",,")) {
		fprintf(stderr, "ncload: --addrs %s: an empty item\n", list);
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i = r->nr_nets;

		if (i == NC_ENABLE_MAX_NETS) {
			fprintf(stderr, "ncload: --addrs %s: more than %d networks\n",
				list, NC_ENABLE_MAX_NETS);
			goto out;
		}
		slash = strchr(tok, '/');
		if (slash)
			*slash = '\0';
		memset(r->net[i], 0, sizeof(r->net[i]));
		if (inet_pton(AF_INET, tok, &a4) == 1) {
			r->net[i][2] = htonl(0xffff);
			r->net[i][3] = a4.s_addr;
			max = 32;
		} else if (inet_pton(AF_INET6, tok, &a6) == 1) {
			memcpy(r->net[i], &a6, sizeof(a6));
			max = 128;
		} else {
			fprintf(stderr, "ncload: --addrs %s: '%s' is not an IPv4 or IPv6 address\n",
				list, tok);
			goto out;
		}
		plen = max;
		if (slash) {
			errno = 0;
			plen = strtol(slash + 1, &end, 10);
			if (errno || end == slash + 1 || *end || plen < 0 || plen > max) {
				fprintf(stderr, "ncload: --addrs %s: bad prefix length '/%s' (0..%ld)\n",
					list, slash + 1, max);
				goto out;
			}
		}
		r->plen[i] = plen + (max == 32 ? 96 : 0);
		r->nr_nets++;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* "all ports, all addresses", or the rule's ports and networks */
static const char *rule_str(const struct nc_enable_rule *r)
{
	static char buf[1024];
	char ip[INET6_ADDRSTRLEN];
	size_t o = 0;
	int i;

	if (!r->nr)
		o += snprintf(buf + o, sizeof(buf) - o, "all ports");
	else
		o += snprintf(buf + o, sizeof(buf) - o, "ports ");
	for (i = 0; i < r->nr && i < NC_ENABLE_MAX_RANGES && o < sizeof(buf); i++) {
		if (r->lo[i] == r->hi[i])
			o += snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? "," : "",
				      r->lo[i]);
		else
			o += snprintf(buf + o, sizeof(buf) - o, "%s%u-%u", i ? "," : "",
				      r->lo[i], r->hi[i]);
	}
	if (o < sizeof(buf))
		o += snprintf(buf + o, sizeof(buf) - o, r->nr_nets ? ", addresses " :
			      ", all addresses");
	for (i = 0; i < r->nr_nets && i < NC_ENABLE_MAX_NETS && o < sizeof(buf); i++) {
		bool v4 = r->plen[i] >= 96 && !r->net[i][0] && !r->net[i][1] &&
			  r->net[i][2] == htonl(0xffff);

		if (v4)
			inet_ntop(AF_INET, &r->net[i][3], ip, sizeof(ip));
		else
			inet_ntop(AF_INET6, r->net[i], ip, sizeof(ip));
		o += snprintf(buf + o, sizeof(buf) - o, "%s%s/%u", i ? "," : "", ip,
			      v4 ? r->plen[i] - 96 : r->plen[i]);
	}
	return buf;
}

int cmd_enable(int argc, char **argv)
{
	struct nc_enable_rule rule = {}, old;
	bool ports = false, addrs = false;
	int lock, fd, err, i;
	__u64 id;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--ports") && !ports) {
			ports = true;
			err = parse_ports(argv[i + 1], &rule);
		} else if (!strcmp(argv[i], "--addrs") && !addrs) {
			addrs = true;
			err = parse_addrs(argv[i + 1], &rule);
		} else {
			break;
		}
		if (err)
			return err;
	}
	if (argc < 1 || i != argc) {
		fprintf(stderr, "ncload: usage: enable CGROUP [--ports LIST] [--addrs LIST]\n");
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
	if (!bpf_map_lookup_elem(fd, &id, &old) && !memcmp(&old, &rule, sizeof(rule))) {
		printf("%s is enabled already (%s)\n", argv[0], rule_str(&rule));
	} else if (bpf_map_update_elem(fd, &id, &rule, BPF_ANY)) {
		fail("cannot enable %s: %s%s", argv[0], strerror(errno),
		     errno == E2BIG ? " (too many cgroups enabled)" : "");
		close(fd);
		goto err;
	} else {
		printf("enabled %s: its new stream sockets (IPv4 and IPv6) are NetChannel sockets (%s; others plain TCP)\n",
		       argv[0], rule_str(&rule));
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
		if (unlink(PIN_EN_LINK) || (unlink(PIN_EN_RULE_LINK) && errno != ENOENT) ||
		    unlink(PIN_EN_MAP)) {
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
		struct nc_enable_rule r = {};

		bpf_map_lookup_elem(fd, &next, &r);
		fprintf(f, "  %s (id %llu): %s\n", cgroup_path_of(next),
			(unsigned long long)next, rule_str(&r));
		key = next;
		prev = &key;
		n++;
	}
	if (!n)
		fprintf(f, "  none\n");
	close(fd);
}
