// SPDX-License-Identifier: GPL-2.0
/*
 * Test library: unmodified programs in a cgroup and a namespace (busybox,
 * nginx, curl, socat, redis, iperf3), the files they move, and the
 * cgroups `ncload enable` converts (see nc_net.h).
 */
#include "nc_lib.h"
#include <signal.h>
#include <stdarg.h>

int nc_cg_join(const char *cg)
{
	char path[256], pid[32];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nc_fail(-errno, "open %s: %s", path, strerror(errno));
	n = snprintf(pid, sizeof(pid), "%d", getpid());
	if (write(fd, pid, n) != n)
		ret = nc_fail(-errno, "write %s: %s", path, strerror(errno));
	close(fd);
	return ret;
}

pid_t nc_prog_start(const char *cg, const char *ns, const char *in,
		    const char *out, const char *const argv[])
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return nc_fail(-1, "fork: %s", strerror(errno));
	if (pid)
		return pid;
	if ((cg && nc_cg_join(cg)) || (ns && nc_ns_enter(ns))) {
		fprintf(stderr, "[%s] %s\n", argv[0], nc_err);
		_exit(126);
	}
	if (in == NC_IN_OPEN) {
		int p[2];

		if (pipe(p) || dup2(p[0], 0) < 0)
			_exit(126);
	} else if (in) {
		fd = open(in, O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(126);
	}
	if (out) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
	}
	execvp(argv[0], (char **)argv);
	fprintf(stderr, "[%s] exec: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int nc_prog_run(const char *cg, const char *ns, const char *in,
		const char *out, const char *const argv[], int timeout_ms)
{
	pid_t pid = nc_prog_start(cg, ns, in, out, argv);

	return pid < 0 ? -1 : nc_child_wait(pid, timeout_ms);
}

int nc_sh_in(const char *cg, const char *ns, int timeout_ms,
	     const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return nc_prog_run(cg, ns, NULL, NULL,
			   (const char *[]){ "sh", "-c", cmd, NULL },
			   timeout_ms);
}

void nc_prog_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	nc_child_wait(pid, 10000);
}

int nc_file_gen(const char *path, uint64_t seed, size_t len)
{
	static uint8_t buf[1 << 16];
	size_t off, n;
	FILE *f = fopen(path, "w");

	if (!f)
		return nc_fail(-errno, "%s: %s", path, strerror(errno));
	for (off = 0; off < len; off += n) {
		n = len - off < sizeof(buf) ? len - off : sizeof(buf);
		nc_gen(seed, off, buf, n);
		if (fwrite(buf, 1, n, f) != n)
			break;
	}
	if (fclose(f) || off < len)
		return nc_fail(-EIO, "%s: short write", path);
	return 0;
}

int nc_file_check(const char *path, uint64_t seed, size_t len)
{
	static uint8_t buf[1 << 16];
	struct nc_hash h;
	uint64_t done = 0;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return nc_fail(-errno, "%s: %s", path, strerror(errno));
	nc_hash_init(&h);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		nc_hash_update(&h, buf, n);
		done += n;
	}
	fclose(f);
	if (done != len)
		return nc_fail(-EIO, "%s: %llu bytes, %zu expected", path,
			       (unsigned long long)done, len);
	if (nc_hash_final(&h) != nc_gen_hash(seed, len))
		return nc_fail(-EIO, "%s: %zu bytes, not the ones sent", path,
			       len);
	return 0;
}

/* Does /proc/net/netchannel/sockets of namespace @ns list a listener on @port? */
static bool nc_nc_listening(const char *ns, uint16_t port)
{
	char line[512], want[16];
	bool found = false;
	FILE *f;

	if (nc_ns_enter(ns))
		return false;
	f = fopen("/proc/thread-self/net/netchannel/sockets", "r");
	nc_ns_leave();
	if (!f)
		return false;
	snprintf(want, sizeof(want), ":%-5u ", port);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " LISTEN ") && strstr(line, want);
	fclose(f);
	return found;
}

int nc_wait_nc_listen(const char *ns, uint16_t port, int timeout_ms)
{
	int64_t deadline = nc_now_ms() + timeout_ms;

	while (!nc_nc_listening(ns, port)) {
		if (nc_now_ms() >= deadline)
			return nc_fail(-ETIMEDOUT, "no NetChannel listener on port %u in %s after %d ms",
				       port, ns, timeout_ms);
		nc_sleep_ms(20);
	}
	return 0;
}
