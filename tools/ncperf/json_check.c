// SPDX-License-Identifier: GPL-2.0
/* ncperf json-check and json-get: validate JSON (text) files, read a member. */
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

/* All of @f into p->s (malloc'ed); 0, or -1 out of memory. */
static int jp_slurp(struct jp *p, FILE *f)
{
	size_t cap = 0, n;
	char *buf = NULL, *nb;

	for (;;) {
		if (p->n + 65536 > cap) {
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + p->n, 1, cap - p->n, f);
		if (!n)
			break;
		p->n += n;
	}
	p->s = buf;
	return 0;
}

static int json_check_stream(FILE *f, const char *name)
{
	struct jp p = { 0 };
	size_t values = 0;
	char *buf;

	if (jp_slurp(&p, f)) {
		fprintf(stderr, "json-check: out of memory\n");
		return 1;
	}
	buf = (char *)p.s;
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

/*
 * In the object at p->i, find member @path (dot-separated keys); on success
 * [*start, *end) is its value. 0, 1 if absent, -1 if the JSON is invalid.
 */
static int jp_find(struct jp *p, const char *path, size_t *start, size_t *end)
{
	size_t klen = strcspn(path, "."), ks;
	bool match;
	int r;

	jp_ws(p);
	if (p->i >= p->n || p->s[p->i] != '{')
		return 1;
	p->i++;
	jp_ws(p);
	if (p->i < p->n && p->s[p->i] == '}')
		return 1;
	for (;;) {
		jp_ws(p);
		ks = p->i + 1;
		if (jp_string(p))
			return -1;
		/* keys are compared as written: ncperf's have no escapes */
		match = p->i - 1 - ks == klen && !memcmp(p->s + ks, path, klen);
		jp_ws(p);
		if (p->i >= p->n || p->s[p->i++] != ':')
			return -1;
		jp_ws(p);
		if (match && path[klen] == '.') {
			r = jp_find(p, path + klen + 1, start, end);
			if (r <= 0)
				return r;
			return 1;	/* the rest of this object is not read */
		}
		*start = p->i;
		if (jp_value(p))
			return -1;
		if (match) {
			*end = p->i;
			return 0;
		}
		jp_ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == '}')
			return 1;
		return -1;
	}
}

/* A value as text: a string without quotes (simple escapes undone). */
static void jp_print(const char *s, size_t len)
{
	size_t i;

	if (!len || s[0] != '"') {
		printf("%.*s\n", (int)len, s);
		return;
	}
	for (i = 1; i + 1 < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 2 < len) {
			c = s[++i];
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
		}
		putchar(c);
	}
	putchar('\n');
}

int json_get_main(int argc, char **argv)
{
	struct jp p = { 0 }, whole;
	size_t start = 0, end = 0;
	FILE *f;
	int r;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: ncperf json-get FILE PATH\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f) {
		fprintf(stderr, "json-get: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	r = jp_slurp(&p, f);
	fclose(f);
	if (r) {
		fprintf(stderr, "json-get: out of memory\n");
		return 1;
	}
	whole = p;	/* the first value must parse as a whole */
	r = jp_value(&whole) ? -1 : jp_find(&p, argv[2], &start, &end);
	if (r < 0)
		p.i = whole.i;
	if (!r)
		jp_print(p.s + start, end - start);
	else if (r < 0)
		fprintf(stderr, "json-get: %s: invalid JSON at byte %zu\n", argv[1], p.i);
	else
		fprintf(stderr, "json-get: %s: no %s\n", argv[1], argv[2]);
	free((char *)p.s);
	return r ? 1 : 0;
}
