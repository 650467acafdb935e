// SPDX-License-Identifier: GPL-2.0
/* Test library: errors, the clock, the protocol under test (see nc_net.h). */
#include "nc_lib.h"

char nc_err[1024];

int nc_fail(int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nc_err, sizeof(nc_err), fmt, ap);
	va_end(ap);
	return ret;
}

int64_t nc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

double nc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int nc_left_ms(int64_t deadline)
{
	int64_t left = deadline - nc_now_ms();

	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

bool nc_proto_tcp(void)
{
	const char *p = getenv("NC_PROTO");

	if (!p || !*p || !strcmp(p, "netchannel"))
		return false;
	if (!strcmp(p, "tcp"))
		return true;
	fprintf(stderr, "NC_PROTO=%s: expected 'tcp' or 'netchannel'\n", p);
	exit(2);
}

int nc_proto(void)
{
	return nc_proto_tcp() ? IPPROTO_TCP : IPPROTO_NETCHANNEL;
}

const char *nc_proto_name(void)
{
	return nc_proto_tcp() ? "tcp" : "netchannel";
}
