// SPDX-License-Identifier: GPL-2.0
/*
 * Test library: child processes (nc_spawn, nc_child_wait, cleanup), pipe
 * reads, and the cmocka watchdog (see nc_net.h).
 */
#include "nc_lib.h"

/* Children nc_spawn() started and nobody has reaped yet. */
static pid_t nc_children[NC_MAX_CHILDREN];

pid_t nc_spawn(const char *ns, unsigned int timeout_s,
	       nc_child_fn fn, void *arg, int *rfd)
{
	int p[2] = { -1, -1 }, i;
	pid_t pid;

	if (rfd && pipe2(p, O_CLOEXEC))
		return nc_fail(-1, "pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		if (rfd) {
			close(p[0]);
			close(p[1]);
		}
		return nc_fail(-1, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		alarm(timeout_s);
		if (rfd)
			close(p[0]);
		if (ns && nc_ns_enter(ns)) {
			fprintf(stderr, "[child] %s\n", nc_err);
			_exit(120);
		}
		i = fn(arg, p[1]);
		fflush(stdout);
		fflush(stderr);
		_exit(i & 0xff);
	}
	for (i = 0; i < NC_MAX_CHILDREN; i++) {
		if (!nc_children[i]) {
			nc_children[i] = pid;
			break;
		}
	}
	if (rfd) {
		close(p[1]);
		*rfd = p[0];
	}
	return pid;
}

void nc_child_forget(pid_t pid)
{
	int i;

	for (i = 0; i < NC_MAX_CHILDREN; i++)
		if (nc_children[i] == pid)
			nc_children[i] = 0;
}

int nc_child_wait(pid_t pid, int timeout_ms)
{
	int64_t deadline = nc_now_ms() + timeout_ms;
	int st;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			nc_child_forget(pid);
			return nc_fail(-1, "waitpid %d: %s", pid, strerror(errno));
		}
		if (nc_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			nc_child_forget(pid);
			return nc_fail(-1, "child %d still running after %d ms (hang), killed",
				       pid, timeout_ms);
		}
		nc_sleep_ms(5);
	}
	nc_child_forget(pid);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return nc_fail(-1, "child %d killed by signal %d%s", pid, WTERMSIG(st),
		       WTERMSIG(st) == SIGALRM ? " (its own timeout: a hang)" : "");
}

void nc_children_kill(void)
{
	int i;

	for (i = 0; i < NC_MAX_CHILDREN; i++) {
		if (nc_children[i] > 0) {
			kill(nc_children[i], SIGKILL);
			waitpid(nc_children[i], NULL, 0);
		}
		nc_children[i] = 0;
	}
}

void nc_close_all_sockets(void)
{
	int fds[1024], n = 0, fd, i;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return;
	while ((de = readdir(d)) && n < 1024) {
		fd = atoi(de->d_name);
		if (fd < 3 || fd == dirfd(d) || fstat(fd, &st))
			continue;
		if (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode))
			fds[n++] = fd;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

int nc_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = nc_now_ms() + timeout_ms;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	size_t done = 0;
	ssize_t k;
	int r;

	while (done < len) {
		r = poll(&pf, 1, nc_left_ms(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return nc_fail(-ETIMEDOUT, "pipe: %zu of %zu bytes after %d ms",
				       done, len, timeout_ms);
		k = read(fd, (uint8_t *)buf + done, len - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return nc_fail(-EPIPE, "pipe: %zu of %zu bytes, then the writer exited",
				       done, len);
		done += k;
	}
	return 0;
}

static int nc_wd_secs;

static void nc_wd_handler(int sig)
{
	fail_msg("watchdog: the test is still running after %d s (a hang)", nc_wd_secs);
}

void nc_watchdog(int secs)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nc_wd_handler;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGALRM, &sa, NULL);
	nc_wd_secs = secs;
	alarm(secs);
}
