// SPDX-License-Identifier: GPL-2.0
/*
 * Test library: the two hosts (network namespaces joined by veth; the one
 * definition of that topology, see nc_net.h), moving between namespaces,
 * and each host's stats and sysctls.
 */
#include "nc_lib.h"
#include <ctype.h>
#include <net/if.h>

/*
 * The namespace this process started in: the calling thread's on the first
 * nc_ns_enter() (the main thread's, before any thread moves).
 */
static int nc_root_ns_fd = -1;

int nc_ns_enter(const char *name)
{
	char path[128];
	int fd, ret;

	if (nc_root_ns_fd < 0) {
		nc_root_ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (nc_root_ns_fd < 0)
			return nc_fail(-errno, "open /proc/thread-self/ns/net: %s",
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
 * A name the shell commands below can take as it is: 1..@max letters,
 * digits, '_', '.' or '-', not starting with '-' or '.'.
 */
static int nc_name_check(const char *what, const char *name, size_t max)
{
	size_t i, n = strlen(name);

	if (!n || n > max || name[0] == '-' || name[0] == '.')
		return nc_fail(-EINVAL, "%s name '%s': 1..%zu characters, not starting with '-' or '.'",
			       what, name, max);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return nc_fail(-EINVAL, "%s name '%s': only letters, digits, '_', '.' and '-'",
				       what, name);
	return 0;
}

static int nc_ns_name_check(const char *ns)
{
	return nc_name_check("namespace", ns, 32);
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

int nc_host_add(const char *ns)
{
	if (nc_ns_name_check(ns))
		return -1;
	if (nc_run("ip netns add %1$s && ip -n %1$s link set lo up", ns))
		return nc_fail(-1, "creating namespace %s failed", ns);
	return 0;
}

void nc_host_del(const char *ns)
{
	if (nc_ns_name_check(ns))
		return;
	nc_run("ip netns del %s 2>/dev/null", ns);
}

int nc_veth_add(const char *ns_a, const char *dev_a, const char *ip_a,
		const char *ns_b, const char *dev_b, const char *ip_b)
{
	struct in_addr in;

	if (nc_ns_name_check(ns_a) || nc_ns_name_check(ns_b) ||
	    nc_name_check("device", dev_a, IFNAMSIZ - 1) ||
	    nc_name_check("device", dev_b, IFNAMSIZ - 1))
		return -1;
	if (inet_pton(AF_INET, ip_a, &in) != 1 || inet_pton(AF_INET, ip_b, &in) != 1)
		return nc_fail(-EINVAL, "veth %s/%s: '%s' or '%s' is not an IPv4 address",
			       dev_a, dev_b, ip_a, ip_b);
	/* the ends are created right in the two namespaces */
	if (nc_run("ip link add %2$s netns %1$s type veth peer name %5$s netns %4$s"
		   " && ip -n %1$s addr add %3$s/%7$d dev %2$s"
		   " && ip -n %4$s addr add %6$s/%7$d dev %5$s"
		   " && ip -n %1$s link set %2$s up && ip -n %4$s link set %5$s up",
		   ns_a, dev_a, ip_a, ns_b, dev_b, ip_b, NC_PREFIX_LEN))
		return nc_fail(-1, "creating veth %s (%s in %s) - %s (%s in %s) failed",
			       dev_a, ip_a, ns_a, dev_b, ip_b, ns_b);
	return 0;
}

int nc_hosts_link(const char *ns_a, const char *ns_b)
{
	if (nc_veth_add(ns_a, NC_DEV_A, NC_IP_A, ns_b, NC_DEV_B, NC_IP_B))
		return -1;
	/* and IPv6 (nodad: usable at once) */
	if (nc_run("ip -n %1$s addr add %2$s/%5$d dev %6$s nodad"
		   " && ip -n %3$s addr add %4$s/%5$d dev %7$s nodad",
		   ns_a, NC_IP6_A, ns_b, NC_IP6_B, NC_PREFIX6_LEN, NC_DEV_A, NC_DEV_B))
		return nc_fail(-1, "adding %s and %s to the veth failed", NC_IP6_A,
			       NC_IP6_B);
	return 0;
}

int nc_host_wait(const char *ns, const char *ip, int timeout_ms)
{
	int64_t deadline = nc_now_ms() + timeout_ms;
	int left;

	for (;;) {
		left = nc_left_ms(deadline);
		if (nc_hosts_answers(ns, ip, left < 1000 ? left : 1000))
			return 0;
		if (nc_left_ms(deadline) <= 0)
			break;
		nc_sleep_ms(100);
	}
	return nc_fail(-ETIMEDOUT, "%s cannot reach %s within %d ms", ns, ip, timeout_ms);
}

void nc_hosts_destroy_ns(const char *ns_a, const char *ns_b)
{
	nc_ns_leave();
	if (nc_ns_name_check(ns_a) || nc_ns_name_check(ns_b))
		return;
	nc_host_del(ns_a);
	nc_host_del(ns_b);
}

void nc_hosts_destroy(void)
{
	nc_hosts_destroy_ns(NC_NS_A, NC_NS_B);
}

int nc_hosts_create_ns(const char *ns_a, const char *ns_b, bool replace)
{
	const char *ns[2] = { ns_a, ns_b };
	char path[128];
	int i;

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
	if (nc_host_add(ns_a) || nc_host_add(ns_b) || nc_hosts_link(ns_a, ns_b)) {
		/* neither existed before (or was deleted): what is there now is ours */
		nc_host_del(ns_a);
		nc_host_del(ns_b);
		return nc_fail(-1, "creating namespaces %s and %s failed", ns_a, ns_b);
	}
	if (nc_host_wait(ns_a, NC_IP_B, 10000))
		return nc_fail(-1, "%s cannot reach %s after creating the hosts", ns_a, NC_IP_B);
	return 0;
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
	ret = nc_proc_get(NC_PROC_STATS_THREAD, key, v, sizeof(v));
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
	f = fopen(NC_PROC_STATS_THREAD, "r");
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

int nc_stats_snap(const char *ns, struct nc_stats *s)
{
	char line[256], *colon;
	FILE *f;
	int e;

	memset(s, 0, sizeof(*s));
	if (ns && nc_ns_enter(ns))
		return -1;
	f = fopen(NC_PROC_STATS_THREAD, "r");
	e = errno;
	if (ns)
		nc_ns_leave();
	if (!f)
		return nc_fail(-e, "open %s in %s: %s", NC_PROC_STATS, ns ? ns : "root",
			       strerror(e));
	while (s->n < NC_STATS_MAX && fgets(line, sizeof(line), f)) {
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		snprintf(s->name[s->n], sizeof(s->name[0]), "%.39s", line);
		s->val[s->n++] = strtoull(colon + 1, NULL, 10);
	}
	fclose(f);
	return 0;
}

uint64_t nc_stats_val(const struct nc_stats *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return s->val[i];
	return 0;
}

double nc_sockets_wait(const char *const *ns, int n, long *left, int timeout_ms)
{
	bool gone = false;
	uint64_t v;
	int i, k;

	for (i = 0; i < timeout_ms / 100; i++) {
		gone = true;
		for (k = 0; k < n; k++) {
			left[k] = nc_stat_get(ns[k], "sockets", &v) ? -1 : (long)v;
			gone &= left[k] <= 0;
		}
		if (gone)
			break;
		nc_sleep_ms(100);
	}
	return i / 10.0;
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

int nc_sysctl_get_str(const char *ns, const char *name, char *buf, size_t len)
{
	char path[256];
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
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return nc_fail(-EIO, "read %s in %s failed", path, ns ? ns : "root");
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int nc_sysctl_get(const char *ns, const char *name, long *val)
{
	char buf[64];
	int ret = nc_sysctl_get_str(ns, name, buf, sizeof(buf));

	if (ret)
		return ret;
	*val = strtol(buf, NULL, 10);
	return 0;
}

long nc_sock_rmem(const char *ns, uint32_t id)
{
	char line[512], *last;
	unsigned int sid;
	long rmem = id ? -1 : 0;
	FILE *f;

	if (ns && nc_ns_enter(ns))
		return -1;
	f = fopen("/proc/thread-self/net/netchannel/sockets", "re");
	if (ns)
		nc_ns_leave();
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* the header line has no id */
		if (sscanf(line, "%u", &sid) != 1 || (id && sid != id))
			continue;
		last = strrchr(line, ' ');
		if (!last)
			continue;
		if (id)
			rmem = strtol(last + 1, NULL, 10);
		else
			rmem += strtol(last + 1, NULL, 10);
	}
	fclose(f);
	return rmem;
}
