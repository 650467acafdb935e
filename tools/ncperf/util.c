// SPDX-License-Identifier: GPL-2.0
/* ncperf: helpers: messages, the clock, parsing and formatting of values. */
#include "ncperf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("ncperf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	exit(2);
}

void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!o.verbose)
		return;
	fputs("ncperf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *proto_name(int proto)
{
	static char buf[16];

	if (proto == IPPROTO_TCP)
		return "tcp";
	if (proto == IPPROTO_NETCHANNEL)
		return "netchannel";
	if (proto == IPPROTO_MPTCP)
		return "mptcp";
	snprintf(buf, sizeof(buf), "proto%d", proto);
	return buf;
}

const char *mode_name(enum mode m)
{
	return m == MODE_BULK ? "bulk" : m == MODE_RR ? "rr" : "mix";
}

int parse_mode(const char *s, enum mode *m)
{
	if (!strcmp(s, "bulk"))
		*m = MODE_BULK;
	else if (!strcmp(s, "rr"))
		*m = MODE_RR;
	else if (!strcmp(s, "mix"))
		*m = MODE_MIX;
	else
		return -1;
	return 0;
}

uint64_t parse_size(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		die_usage("%s: not a size: '%s'", opt, s);
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		die_usage("%s: not a size: '%s'", opt, s);
	return (uint64_t)v << shift;
}

double parse_num(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		die_usage("%s: expected a number in [%g, %g], got '%s'", opt, min, max, s);
	return v;
}

/* Human-readable byte counts (decimal, as network people count). */
const char *fmt_bytes(char *buf, size_t len, double b)
{
	static const char *unit[] = { "B", "kB", "MB", "GB", "TB" };
	int i = 0;

	while (b >= 1000 && i < 4) {
		b /= 1000;
		i++;
	}
	snprintf(buf, len, i ? "%.2f %s" : "%.0f %s", b, unit[i]);
	return buf;
}

const char *fmt_bps(char *buf, size_t len, double bps)
{
	static const char *unit[] = { "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s" };
	int i = 0;

	while (bps >= 1000 && i < 4) {
		bps /= 1000;
		i++;
	}
	snprintf(buf, len, "%.2f %s", bps, unit[i]);
	return buf;
}
