// SPDX-License-Identifier: GPL-2.0
/* ncperf: JSON output: the writer (struct jw in ncperf.h) and shared records. */
#include "ncperf.h"

#include <inttypes.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/time.h>

void jw_key(struct jw *j, const char *k)
{
	fprintf(j->f, "%s\"%s\":", j->first ? "" : ",", k);
	j->first = false;
}

static void jw_str_raw(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void jw_str(struct jw *j, const char *k, const char *v)
{
	jw_key(j, k);
	if (v)
		jw_str_raw(j->f, v);
	else
		fputs("null", j->f);
}

void jw_num(struct jw *j, const char *k, double v)
{
	jw_key(j, k);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);
}

void jw_u64(struct jw *j, const char *k, uint64_t v)
{
	jw_key(j, k);
	fprintf(j->f, "%" PRIu64, v);
}

void jw_bool(struct jw *j, const char *k, bool v)
{
	jw_key(j, k);
	fputs(v ? "true" : "false", j->f);
}

void jw_open(struct jw *j, const char *k)
{
	if (k)
		jw_key(j, k);
	else if (!j->first)
		fputc(',', j->f);
	fputc('{', j->f);
	j->first = true;
}

void jw_close(struct jw *j)
{
	fputc('}', j->f);
	j->first = false;
}

void jw_begin(struct jw *j, const char *role)
{
	j->f = stdout;
	j->first = true;
	fputc('{', j->f);
	jw_str(j, "tool", "ncperf");
	jw_num(j, "version", NCP_VERSION);
	jw_str(j, "role", role);
	jw_str(j, "proto", proto_name(o.proto));
	jw_num(j, "proto_number", o.proto);
	jw_str(j, "addr", o.addr);
	jw_num(j, "port", o.port);
	if (o.tag)
		jw_str(j, "tag", o.tag);
}

/* The head of a client's report of a run that worked: jw_begin(), mode, ok. */
void jw_client_ok(struct jw *j, const char *mode)
{
	jw_begin(j, "client");
	jw_str(j, "mode", mode);
	jw_bool(j, "ok", true);
}

void jw_end(struct jw *j)
{
	fputs("}\n", j->f);
	fflush(j->f);
}

void print_fail(const char *err)
{
	if (o.json) {
		struct jw j;

		jw_begin(&j, o.role == ROLE_SERVER ? "server" : "client");
		if (o.role == ROLE_CLIENT)
			jw_str(&j, "mode", mode_name(o.mode));
		jw_bool(&j, "ok", false);
		jw_str(&j, "error", err);
		jw_end(&j);
	}
	fprintf(stderr, "ncperf: %s\n", err);
}

void json_cpu(struct jw *j)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	jw_num(j, "cpu_user_s", (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6);
	jw_num(j, "cpu_sys_s", (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}
