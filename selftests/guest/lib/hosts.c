// SPDX-License-Identifier: GPL-2.0
/*
 * Test library: the two hosts (network namespaces joined by veth; the one
 * definition of that topology, see nc_net.h), moving between namespaces,
 * and each host's stats and sysctls.
 */
#include "nc_lib.h"
#include <ctype.h>

/* The namespace this process started in (opened on the first nc_ns_enter). */
static int nc_root_ns_fd = -1;

int nc_ns_enter(const char *name)
{
	char path[128];
	int fd, ret;

	if (nc_root_ns_fd < 0) {
		nc_root_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (nc_root_ns_fd < 0)
			return nc_fail(-errno, "open /proc/self/ns/net: %s",
				       strerror(errno));
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nc_fail(-errno, "open %s: %s", path, strerror(errno));
	ret = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	if (ret)
		return nc_fail(ret, "setns %s: %s", path, strerror(-ret));
	return 0;
}

int nc_ns_leave(void)
{
	if (nc_root_ns_fd < 0)
		return 0;
	if (setns(nc_root_ns_fd, CLONE_NEWNET))
		return nc_fail(-errno, "setns back: %s", strerror(errno));
	return 0;
}

/*
 * A namespace name the shell commands below can take as it is: 1..32
 * letters, digits, '_', '.' or '-', not starting with '-' or '.'.
 */
static int nc_ns_name_check(const char *ns)
{
	size_t i, n = strlen(ns);

	if (!n || n > 32 || ns[0] == '-' || ns[0] == '.')
		return nc_fail(-EINVAL, "namespace name '%s': 1..32 characters, not starting with '-' or '.'",
			       ns);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)ns[i]) && !strchr("_.-", ns[i]))
			return nc_fail(-EINVAL, "namespace name '%s': only letters, digits, '_', '.' and '-'",
				       ns);
	return 0;
}

/*
 * Does @ip answer from namespace @ns within @timeout_ms? A TCP connect()
 * to port 9 (discard: nothing listens there on a fresh host) is answered,
 * with a reset, once the link is up: a ping that needs no ping program.
 */
static bool nc_hosts_answers(const char *ns, const char *ip, int timeout_ms)
{
	struct sockaddr_in sin = nc_sin(ip, 9);
	socklen_t len = sizeof(int);
	struct pollfd p;
	int fd, err = ETIMEDOUT;

	if (nc_ns_enter(ns))
		return false;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	nc_ns_leave();
	if (fd < 0)
		return false;
	if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		err = 0;
	} else if (errno != EINPROGRESS) {
		err = errno;
	} else {
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, timeout_ms) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
	}
	close(fd);
	return !err || err == ECONNREFUSED;
}

void nc_hosts_destroy_ns(const char *ns_a, const char *ns_b)
{
	nc_ns_leave();
	if (nc_ns_name_check(ns_a) || nc_ns_name_check(ns_b))
		return;
	nc_run("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", ns_a, ns_b);
}

void nc_hosts_destroy(void)
{
	nc_hosts_destroy_ns(NC_NS_A, NC_NS_B);
}

int nc_hosts_create_ns(const char *ns_a, const char *ns_b, bool replace)
{
	const char *ns[2] = { ns_a, ns_b };
	char path[128], cmd[1024];
	int i, n;

	if (nc_ns_name_check(ns_a) || nc_ns_name_check(ns_b))
		return -1;
	if (!strcmp(ns_a, ns_b))
		return nc_fail(-EINVAL, "two hosts need two namespaces, not %s twice", ns_a);
	if (replace) {
		nc_hosts_destroy_ns(ns_a, ns_b);
	} else {
		nc_ns_leave();
		for (i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "/run/netns/%s", ns[i]);
			if (!access(path, F_OK))
				return nc_fail(-EEXIST, "network namespace %s exists already; not touching it",
					       ns[i]);
		}
	}
	/* one veth pair: its ends are created right in the two namespaces */
	n = snprintf(cmd, sizeof(cmd),
		     "ip netns add %1$s && ip netns add %2$s"
		     " && ip link add " NC_DEV_A " netns %1$s type veth peer name " NC_DEV_B " netns %2$s"
		     " && ip -n %1$s addr add " NC_IP_A "/%3$d dev " NC_DEV_A
		     " && ip -n %2$s addr add " NC_IP_B "/%3$d dev " NC_DEV_B
		     " && ip -n %1$s link set lo up && ip -n %1$s link set " NC_DEV_A " up"
		     " && ip -n %2$s link set lo up && ip -n %2$s link set " NC_DEV_B " up",
		     ns_a, ns_b, NC_PREFIX_LEN);
	if (n < 0 || n >= (int)sizeof(cmd))
		return nc_fail(-ENAMETOOLONG, "the command creating %s and %s is too long", ns_a, ns_b);
	if (nc_run("%s", cmd)) {
		/* neither existed before (or was deleted): what is there now is ours */
		nc_run("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", ns_a, ns_b);
		return nc_fail(-1, "creating namespaces %s and %s failed", ns_a, ns_b);
	}
	for (i = 0; i < 10; i++) {
		if (nc_hosts_answers(ns_a, NC_IP_B, 1000))
			return 0;
		nc_sleep_ms(100);
	}
	return nc_fail(-1, "%s cannot reach %s after creating the hosts", ns_a, NC_IP_B);
}

int nc_hosts_create(void)
{
	return nc_hosts_create_ns(NC_NS_A, NC_NS_B, true);
}

int nc_stat_get(const char *ns, const char *key, uint64_t *val)
{
	char v[128], *end;
	int ret;

	if (ns && nc_ns_enter(ns))
		return -1;
	ret = nc_proc_get(NC_PROC_STATS, key, v, sizeof(v));
	if (ns)
		nc_ns_leave();
	if (ret)
		return nc_fail(ret, "%s in %s of %s: %s", key, NC_PROC_STATS,
			       ns ? ns : "root", strerror(-ret));
	*val = strtoull(v, &end, 10);
	if (end == v || *end)
		return nc_fail(-EINVAL, "%s in %s of %s: not a number: '%s'", key,
			       NC_PROC_STATS, ns ? ns : "root", v);
	return 0;
}

const char *nc_stats_line(const char *ns)
{
	static char out[2048];
	char line[256];
	size_t o = 0;
	FILE *f;

	out[0] = '\0';
	if (ns && nc_ns_enter(ns))
		return "(no namespace)";
	f = fopen(NC_PROC_STATS, "r");
	if (ns)
		nc_ns_leave();
	if (!f)
		return "(no stats file)";
	while (fgets(line, sizeof(line), f) && o < sizeof(out) - 1) {
		line[strcspn(line, "\n")] = '\0';
		o += snprintf(out + o, sizeof(out) - o, "%s%s", o ? ", " : "", line);
	}
	fclose(f);
	return out;
}

int nc_sysctl_set(const char *ns, const char *name, const char *val)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), NC_SYSCTL_DIR "%s", name);
	if (ns && nc_ns_enter(ns))
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (ns)
		nc_ns_leave();
	if (fd < 0)
		return nc_fail(-errno, "open %s in %s: %s", path, ns ? ns : "root",
			       strerror(errno));
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = nc_fail(-errno, "write '%s' to %s in %s: %s", val, path,
			      ns ? ns : "root", strerror(errno));
	close(fd);
	return ret;
}

int nc_sysctl_get(const char *ns, const char *name, long *val)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), NC_SYSCTL_DIR "%s", name);
	if (ns && nc_ns_enter(ns))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns)
		nc_ns_leave();
	if (fd < 0)
		return nc_fail(-errno, "open %s in %s: %s", path, ns ? ns : "root",
			       strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return nc_fail(-EIO, "read %s in %s failed", path, ns ? ns : "root");
	buf[n] = '\0';
	*val = strtol(buf, NULL, 10);
	return 0;
}
