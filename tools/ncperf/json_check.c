// SPDX-License-Identifier: GPL-2.0
/* ncperf json-check: validate JSON (text) files. */
#include "ncperf.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A strict RFC 8259 validator, so scripts in a guest without jq or python
 * can check that the output parses. */
struct jp {
	const char *s;
	size_t i, n;
	int depth;
};

static void jp_ws(struct jp *p)
{
	while (p->i < p->n && strchr(" \t\r\n", p->s[p->i]))
		p->i++;
}

static int jp_value(struct jp *p);

static int jp_lit(struct jp *p, const char *lit)
{
	size_t l = strlen(lit);

	if (p->n - p->i < l || memcmp(p->s + p->i, lit, l))
		return -1;
	p->i += l;
	return 0;
}

static int jp_string(struct jp *p)
{
	if (p->i >= p->n || p->s[p->i] != '"')
		return -1;
	p->i++;
	while (p->i < p->n) {
		unsigned char c = (unsigned char)p->s[p->i++];

		if (c == '"')
			return 0;
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (p->i >= p->n)
				return -1;
			c = (unsigned char)p->s[p->i++];
			if (c == 'u') {
				int k;

				for (k = 0; k < 4; k++)
					if (p->i >= p->n || !isxdigit((unsigned char)p->s[p->i++]))
						return -1;
			} else if (!strchr("\"\\/bfnrt", c)) {
				return -1;
			}
		}
	}
	return -1;
}

static int jp_digits(struct jp *p)
{
	size_t st = p->i;

	while (p->i < p->n && isdigit((unsigned char)p->s[p->i]))
		p->i++;
	return p->i > st ? 0 : -1;
}

static int jp_number(struct jp *p)
{
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i < p->n && p->s[p->i] == '0')
		p->i++;
	else if (jp_digits(p))
		return -1;
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (jp_digits(p))
			return -1;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (jp_digits(p))
			return -1;
	}
	return 0;
}

static int jp_container(struct jp *p, char close, bool obj)
{
	if (++p->depth > 256)
		return -1;
	p->i++;
	jp_ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		p->depth--;
		return 0;
	}
	for (;;) {
		jp_ws(p);
		if (obj) {
			if (jp_string(p))
				return -1;
			jp_ws(p);
			if (p->i >= p->n || p->s[p->i++] != ':')
				return -1;
		}
		if (jp_value(p))
			return -1;
		jp_ws(p);
		if (p->i >= p->n)
			return -1;
		if (p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->s[p->i] == close) {
			p->i++;
			p->depth--;
			return 0;
		}
		return -1;
	}
}

static int jp_value(struct jp *p)
{
	jp_ws(p);
	if (p->i >= p->n)
		return -1;
	switch (p->s[p->i]) {
	case '{': return jp_container(p, '}', true);
	case '[': return jp_container(p, ']', false);
	case '"': return jp_string(p);
	case 't': return jp_lit(p, "true");
	case 'f': return jp_lit(p, "false");
	case 'n': return jp_lit(p, "null");
	default: return jp_number(p);
	}
}

static int json_check_stream(FILE *f, const char *name)
{
	struct jp p = { 0 };
	size_t cap = 0, values = 0;
	char *buf = NULL;
	size_t n;

	for (;;) {
		if (p.n + 65536 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf) {
				fprintf(stderr, "json-check: out of memory\n");
				return 1;
			}
		}
		n = fread(buf + p.n, 1, cap - p.n, f);
		if (!n)
			break;
		p.n += n;
	}
	p.s = buf;
	for (;;) {
		jp_ws(&p);
		if (p.i >= p.n)
			break;
		if (jp_value(&p)) {
			fprintf(stderr, "json-check: %s: invalid JSON at byte %zu\n", name, p.i);
			free(buf);
			return 1;
		}
		values++;
	}
	free(buf);
	if (!values) {
		fprintf(stderr, "json-check: %s: no JSON value\n", name);
		return 1;
	}
	return 0;
}

int json_check_main(int argc, char **argv)
{
	int i, rc = 0;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2)
		return json_check_stream(stdin, "stdin");
	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");

		if (!f) {
			fprintf(stderr, "json-check: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
			continue;
		}
		rc |= json_check_stream(f, argv[i]);
		fclose(f);
	}
	return rc;
}
