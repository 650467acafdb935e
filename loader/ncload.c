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
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "policies.h"	/* generated: the policies built into ncload */

#define PIN_DIR		"/sys/fs/bpf/netchannel"
#define PIN_LINK	PIN_DIR "/link"
#define PROC_POLICY	"/proc/net/netchannel/policy"
#define STRUCT_OPS_TYPE	"netsched_ops"

static int verbose;

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
"  replace POLICY   atomically replace the policy attached by ncload\n"
"  detach           detach the active policy (also one bpftool attached)\n"
"  status           show the active policy, or why the last one stopped\n"
"  list             list the built-in policies\n"
"\n"
"Options:\n"
"  -v, --verbose    show libbpf's messages\n"
"  -h, --help       show this help\n"
"\n"
"The link is pinned at " PIN_LINK ". Exit status: 0 on success, 1 on\n"
"error (one line on stderr says why), 2 on bad usage.\n"
"\nBuilt-in policies:");
	for (p = nc_policies; p->name; p++)
		fprintf(f, " %s", p->name);
	fprintf(f, "%s\n", nc_policies[0].name ? "" : " (none)");
}

static int fail(const char *fmt, ...)
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

static int module_check(void)
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
	if (!obj)
		fail("cannot open policy '%s': %s", policy, strerror(errno));
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

static int policy_load(const char *policy, struct bpf_object **objp,
		       struct bpf_map **mapp)
{
	struct bpf_object *obj = policy_open(policy);
	struct bpf_map *map;
	int err;

	if (!obj)
		return 1;
	map = policy_ops_map(obj);
	if (!map)
		goto err;
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
	if (policy_load(policy, &obj, &map))
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
	int err;

	if (module_check())
		return 1;
	link = bpf_link__open(PIN_LINK);
	if (!link)
		return fail("no policy attached by ncload (%s: %s); use 'ncload attach'",
			    PIN_LINK, strerror(errno));
	if (policy_load(policy, &obj, &map)) {
		bpf_link__disconnect(link);
		bpf_link__destroy(link);
		return 1;
	}
	err = bpf_link__update_map(link, map);
	if (!err)
		printf("replaced by %s\n", bpf_map__name(map));
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	if (err)
		return fail("cannot replace the policy with '%s': %s", policy,
			    strerror(-err));
	return 0;
}

static int cmd_detach(void)
{
	char val[64];
	__u32 id;
	int fd, err;

	if (module_check())
		return 1;
	if (proc_policy_get("link_id", val, sizeof(val)))
		return fail("cannot read %s", PROC_POLICY);
	id = strtoul(val, NULL, 10);
	if (!id) {
		unlink(PIN_LINK);
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
	printf("detached\n");
	return 0;
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
	if (!strcmp(cmd, "detach") && argc == 0)
		return cmd_detach();
	if (!strcmp(cmd, "status") && argc == 0)
		return cmd_status();
	if (!strcmp(cmd, "list") && argc == 0)
		return cmd_list();
	fprintf(stderr, "ncload: bad command or arguments: %s\n", cmd);
	usage(stderr);
	return 2;
}
