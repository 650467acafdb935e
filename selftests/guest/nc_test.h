/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the guest tests (cmocka). */
#ifndef NC_TEST_H
#define NC_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "uapi/netchannel.h"

#define NC_MODULE_PATH	"/nc/netchannel.ko"
#define NC_PROC_POLICY	"/proc/net/netchannel/policy"

static inline int nc_module_load(void)
{
	int fd = open(NC_MODULE_PATH, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static inline int nc_module_unload(void)
{
	return syscall(SYS_delete_module, "netchannel", O_NONBLOCK) ? -errno : 0;
}

static inline void nc_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Unload, retrying while references drain: the BPF core drops a struct_ops
 * map's module reference only after an RCU grace period.
 */
static inline int nc_module_unload_wait(int ms)
{
	int ret;

	for (;;) {
		ret = nc_module_unload();
		if (ret != -EWOULDBLOCK || ms <= 0)
			return ret;
		nc_sleep_ms(20);
		ms -= 20;
	}
}

static inline int nc_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, IPPROTO_NETCHANNEL);
}

/* Value of "key: value" in a proc file, into @val; 0 or -errno. */
static inline int nc_proc_get(const char *path, const char *key, char *val,
			      size_t len)
{
	char line[512];
	size_t klen = strlen(key);
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line + klen + 2) >= len)
			break;
		strcpy(val, line + klen + 2);
		fclose(f);
		return 0;
	}
	fclose(f);
	return -ENOENT;
}

#define assert_proc_policy(key, expect) do {				\
	char __v[256];							\
	assert_int_equal(nc_proc_get(NC_PROC_POLICY, key, __v, sizeof(__v)), 0); \
	assert_string_equal(__v, expect);				\
} while (0)

/* Wait up to @ms for "key: expect" (ejection is asynchronous). */
static inline int nc_proc_wait(const char *key, const char *expect, int ms)
{
	char v[256];

	for (; ms > 0; ms -= 10) {
		if (!nc_proc_get(NC_PROC_POLICY, key, v, sizeof(v)) &&
		    !strcmp(v, expect))
			return 0;
		nc_sleep_ms(10);
	}
	return -ETIMEDOUT;
}

/* Run a shell command, return its exit status (or -1). */
static inline int nc_run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * NC_TEST_FILTER=PATTERN runs only the tests whose names match PATTERN
 * (cmocka's '*' and '?' wildcards); /nc/run-tests.sh SUITE/PATTERN sets it.
 * Every binary that includes this header gets it; the test library's own
 * objects (lib/, which define NC_LIB) do not.
 */
#ifndef NC_LIB
__attribute__((constructor)) static void nc_test_filter_init(void)
{
	const char *p = getenv("NC_TEST_FILTER");

	if (p && *p)
		cmocka_set_test_filter(p);
}
#endif

#endif /* NC_TEST_H */
