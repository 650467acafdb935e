// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for kernel/nc_frame.c (cmocka 1.1).
 *
 * cc -Wall -Wextra -Werror -O2 -g -Ikernel -o build/host/test_frame \
 *    selftests/host/test_frame.c kernel/nc_frame.c -lcmocka
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "nc_frame.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One valid frame of every type. */
static const struct nc_frame valid_frames[] = {
	{ .type = NC_FT_HELLO, .len = 16, .arg = NC_HELLO_ARG(0, 1) },
	{ .type = NC_FT_HELLO, .len = 16, .seq = 9, .arg = NC_HELLO_ARG(63, 64) },
	{ .type = NC_FT_OPEN, .src_id = 1, .arg = NC_OPEN_ARG(80, 40000) },
	{ .type = NC_FT_OPEN, .src_id = 0xffffffff, .arg = NC_OPEN_ARG(1, 0) },
	{ .type = NC_FT_ACCEPT, .src_id = 2, .dst_id = 1, .seq = 0 },
	{ .type = NC_FT_DATA, .len = 1, .src_id = 5, .dst_id = 6, .seq = 7 },
	{ .type = NC_FT_DATA, .flags = NC_FF_PUSH | NC_FF_ACKREQ, .len = 9,
	  .src_id = 5, .dst_id = 6 },
	{ .type = NC_FT_DATA, .flags = NC_FF_PUSH, .len = NC_FRAME_MAX_PAYLOAD,
	  .src_id = 0xfffffffe, .dst_id = 0x80000000, .seq = 0xffffffff },
	/* credit for the other direction rides on DATA */
	{ .type = NC_FT_DATA, .flags = NC_FF_CREDIT, .len = 64, .src_id = 5,
	  .dst_id = 6, .arg = 65536 },
	{ .type = NC_FT_DATA, .flags = NC_FF_ALL, .len = 1, .src_id = 5,
	  .dst_id = 6, .arg = 0xffffffff },
	{ .type = NC_FT_CREDIT, .src_id = 1, .dst_id = 2, .seq = 3,
	  .arg = 0xffffffff },
	{ .type = NC_FT_CREDIT, .src_id = 1, .dst_id = 2, .arg = 1 },
	{ .type = NC_FT_CLOSE, .src_id = 10, .dst_id = 11, .seq = 12 },
	{ .type = NC_FT_RESET, .src_id = 0, .dst_id = 3, .arg = ECONNREFUSED },
	{ .type = NC_FT_RESET, .src_id = 4, .dst_id = 3, .arg = ECONNRESET },
	{ .type = NC_FT_RESET, .src_id = 4, .dst_id = 3, .arg = 4095 },
	{ .type = NC_FT_ACK, .arg = 0 },	/* a count: any value, 0 too */
	{ .type = NC_FT_ACK, .seq = 5, .arg = 0xffffffff },
	{ .type = NC_FT_RETIRE },
	{ .type = NC_FT_RETIRE, .seq = 7 },	/* seq is not validated */
};

static void assert_frame_equal(const struct nc_frame *a,
			       const struct nc_frame *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->len, b->len);
	assert_int_equal(a->src_id, b->src_id);
	assert_int_equal(a->dst_id, b->dst_id);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->arg, b->arg);
}

static void encode_vector(const struct nc_frame *f, const uint8_t *exp)
{
	uint8_t hdr[NC_FRAME_HDR_LEN + 4];
	struct nc_frame d;

	memset(hdr, 0xaa, sizeof(hdr));
	nc_frame_encode(f, hdr);
	assert_memory_equal(hdr, exp, NC_FRAME_HDR_LEN);
	/* Exactly 32 bytes written, nothing past the header. */
	assert_int_equal(hdr[32], 0xaa);
	assert_int_equal(hdr[35], 0xaa);

	memset(&d, 0x55, sizeof(d));
	assert_int_equal(nc_frame_decode(exp, NC_FRAME_HDR_LEN, &d), 0);
	assert_frame_equal(&d, f);
}

static void test_encode_vector_data(void **state)
{
	static const uint8_t exp[NC_FRAME_HDR_LEN] = {
		0x4e, 0x43, 0x06, 0x04,		/* magic, version, DATA */
		0x00, 0x01, 0x00, 0x00,		/* flags PUSH, reserved */
		0x00, 0x00, 0x40, 0x00,		/* len 16384 */
		0x01, 0x02, 0x03, 0x04,		/* src_id */
		0xa0, 0xb0, 0xc0, 0xd0,		/* dst_id */
		0xff, 0xff, 0xff, 0xfe,		/* seq */
		0x00, 0x00, 0x00, 0x00,		/* arg */
		0x00, 0x00, 0x00, 0x00,		/* reserved2 */
	};
	struct nc_frame f = {
		.type = NC_FT_DATA, .flags = NC_FF_PUSH, .len = 16384,
		.src_id = 0x01020304, .dst_id = 0xa0b0c0d0,
		.seq = 0xfffffffe, .arg = 0,
	};

	(void)state;
	encode_vector(&f, exp);
}

static void test_encode_vector_hello(void **state)
{
	static const uint8_t exp[NC_FRAME_HDR_LEN] = {
		0x4e, 0x43, 0x06, 0x01,		/* magic, version, HELLO */
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x10,		/* len 16 */
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x03, 0x00, 0x08,		/* channel 3 of 8 */
		0x00, 0x00, 0x00, 0x00,
	};
	struct nc_frame f = {
		.type = NC_FT_HELLO, .len = 16, .arg = NC_HELLO_ARG(3, 8),
	};

	(void)state;
	assert_int_equal(NC_HELLO_ARG(3, 8), 0x00030008);
	assert_int_equal(NC_HELLO_ARG_IDX(0x00030008), 3);
	assert_int_equal(NC_HELLO_ARG_NCHAN(0x00030008), 8);
	encode_vector(&f, exp);
}

static void test_encode_vector_open(void **state)
{
	static const uint8_t exp[NC_FRAME_HDR_LEN] = {
		0x4e, 0x43, 0x06, 0x02,		/* OPEN */
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x2a,		/* src_id 42 */
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x50, 0xc0, 0x00,		/* dport 80, sport 49152 */
		0x00, 0x00, 0x00, 0x00,
	};
	struct nc_frame f = {
		.type = NC_FT_OPEN, .src_id = 42, .arg = NC_OPEN_ARG(80, 49152),
	};

	(void)state;
	assert_int_equal(NC_OPEN_ARG_DPORT(f.arg), 80);
	assert_int_equal(NC_OPEN_ARG_SPORT(f.arg), 49152);
	encode_vector(&f, exp);
}

static void test_encode_vector_reset(void **state)
{
	static const uint8_t exp[NC_FRAME_HDR_LEN] = {
		0x4e, 0x43, 0x06, 0x07,		/* RESET */
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,		/* src_id 0: no socket */
		0x00, 0x00, 0x00, 0x07,		/* dst_id 7 */
		0x12, 0x34, 0x56, 0x78,		/* seq */
		0x00, 0x00, 0x00, 0x6f,		/* ECONNREFUSED (111) */
		0x00, 0x00, 0x00, 0x00,
	};
	struct nc_frame f = {
		.type = NC_FT_RESET, .dst_id = 7, .seq = 0x12345678, .arg = 111,
	};

	(void)state;
	assert_int_equal(ECONNREFUSED, 111);	/* Linux errno value */
	encode_vector(&f, exp);
}

static void test_round_trip_all_types(void **state)
{
	unsigned int seen = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(valid_frames); i++) {
		const struct nc_frame *f = &valid_frames[i];
		uint8_t hdr[NC_FRAME_HDR_LEN], hdr2[NC_FRAME_HDR_LEN];
		uint8_t big[NC_FRAME_HDR_LEN + 100];
		struct nc_frame d;

		assert_int_equal(nc_frame_check(f), 0);
		nc_frame_encode(f, hdr);
		memset(&d, 0x55, sizeof(d));
		assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d), 0);
		assert_frame_equal(&d, f);
		nc_frame_encode(&d, hdr2);
		assert_memory_equal(hdr, hdr2, NC_FRAME_HDR_LEN);

		/* Trailing bytes (payload, next frame) are not looked at. */
		memset(big, 0xff, sizeof(big));
		memcpy(big, hdr, sizeof(hdr));
		memset(&d, 0x55, sizeof(d));
		assert_int_equal(nc_frame_decode(big, sizeof(big), &d), 0);
		assert_frame_equal(&d, f);

		seen |= 1u << f->type;
	}
	/* Every type 1..NC_FT__MAX - 1 covered. */
	assert_int_equal(seen, ((1u << NC_FT__MAX) - 1) & ~1u);
}

/* A minimal mutation of one valid frame's encoded header. */
struct reject_case {
	const char *what;
	struct nc_frame base;
	unsigned int off;	/* byte offset to overwrite */
	unsigned int nbytes;	/* 1, 2 or 4 (big-endian) */
	uint32_t val;
	int err;		/* expected, positive */
};

#define DATA_BASE { .type = NC_FT_DATA, .len = 100, .src_id = 1, \
		    .dst_id = 2, .seq = 3 }
#define HELLO_BASE { .type = NC_FT_HELLO, .len = 16, \
		     .arg = NC_HELLO_ARG(1, 4) }
#define OPEN_BASE { .type = NC_FT_OPEN, .src_id = 1, \
		    .arg = NC_OPEN_ARG(443, 50000) }
#define ACCEPT_BASE { .type = NC_FT_ACCEPT, .src_id = 1, .dst_id = 2 }
#define CREDIT_BASE { .type = NC_FT_CREDIT, .src_id = 1, .dst_id = 2, \
		      .arg = 65536 }
#define CLOSE_BASE { .type = NC_FT_CLOSE, .src_id = 1, .dst_id = 2 }
#define RESET_BASE { .type = NC_FT_RESET, .src_id = 1, .dst_id = 2, \
		     .arg = ECONNRESET }
#define ACK_BASE { .type = NC_FT_ACK, .arg = 32768 }
#define RETIRE_BASE { .type = NC_FT_RETIRE }

static const struct reject_case reject_cases[] = {
	{ "magic hi", DATA_BASE, 0, 1, 0x4f, NC_FERR_MAGIC },
	{ "magic lo", DATA_BASE, 1, 1, 0x42, NC_FERR_MAGIC },
	{ "magic swapped", DATA_BASE, 0, 2, 0x434e, NC_FERR_MAGIC },
	{ "version 0", DATA_BASE, 2, 1, 0, NC_FERR_VERSION },
	{ "version 1", DATA_BASE, 2, 1, 1, NC_FERR_VERSION },
	{ "version 2", DATA_BASE, 2, 1, 2, NC_FERR_VERSION },
	{ "version 3", DATA_BASE, 2, 1, 3, NC_FERR_VERSION },
	{ "version 4", DATA_BASE, 2, 1, 4, NC_FERR_VERSION },
	{ "version 5", DATA_BASE, 2, 1, 5, NC_FERR_VERSION },
	{ "version 7", DATA_BASE, 2, 1, 7, NC_FERR_VERSION },
	{ "type 0", CLOSE_BASE, 3, 1, 0, NC_FERR_TYPE },
	{ "type 10", CLOSE_BASE, 3, 1, 10, NC_FERR_TYPE },
	{ "type 255", CLOSE_BASE, 3, 1, 255, NC_FERR_TYPE },
	{ "flag 0x8", DATA_BASE, 4, 2, 0x0008, NC_FERR_FLAGS },
	{ "flag 0x8000", DATA_BASE, 4, 2, 0x8000, NC_FERR_FLAGS },
	{ "push+unknown", DATA_BASE, 4, 2, 0x0009, NC_FERR_FLAGS },
	{ "credit on CREDIT", CREDIT_BASE, 4, 2, NC_FF_CREDIT, NC_FERR_FLAGS },
	{ "credit on ACCEPT", ACCEPT_BASE, 4, 2, NC_FF_CREDIT, NC_FERR_FLAGS },
	{ "credit on ACK", ACK_BASE, 4, 2, NC_FF_CREDIT, NC_FERR_FLAGS },
	{ "ackreq on ACK", ACK_BASE, 4, 2, NC_FF_ACKREQ, NC_FERR_FLAGS },
	{ "ackreq on CREDIT", CREDIT_BASE, 4, 2, NC_FF_ACKREQ, NC_FERR_FLAGS },
	{ "push on CREDIT", CREDIT_BASE, 4, 2, NC_FF_PUSH, NC_FERR_FLAGS },
	{ "push on HELLO", HELLO_BASE, 4, 2, NC_FF_PUSH, NC_FERR_FLAGS },
	{ "push on CLOSE", CLOSE_BASE, 4, 2, NC_FF_PUSH, NC_FERR_FLAGS },
	{ "push on ACK", ACK_BASE, 4, 2, NC_FF_PUSH, NC_FERR_FLAGS },
	{ "ackreq on RETIRE", RETIRE_BASE, 4, 2, NC_FF_ACKREQ, NC_FERR_FLAGS },
	{ "reserved byte 6", DATA_BASE, 6, 1, 1, NC_FERR_RESERVED },
	{ "reserved byte 7", DATA_BASE, 7, 1, 0x80, NC_FERR_RESERVED },
	{ "reserved2 byte 28", DATA_BASE, 28, 1, 1, NC_FERR_RESERVED },
	{ "reserved2 byte 31", DATA_BASE, 31, 1, 1, NC_FERR_RESERVED },
	{ "DATA len 0", DATA_BASE, 8, 4, 0, NC_FERR_LEN },
	{ "DATA len MAX+1", DATA_BASE, 8, 4, NC_FRAME_MAX_PAYLOAD + 1,
	  NC_FERR_LEN },
	{ "DATA len 2^32-1", DATA_BASE, 8, 4, 0xffffffff, NC_FERR_LEN },
	{ "HELLO len 15", HELLO_BASE, 8, 4, 15, NC_FERR_LEN },
	{ "HELLO len 17", HELLO_BASE, 8, 4, 17, NC_FERR_LEN },
	{ "HELLO len 0", HELLO_BASE, 8, 4, 0, NC_FERR_LEN },
	{ "OPEN len 1", OPEN_BASE, 8, 4, 1, NC_FERR_LEN },
	{ "ACCEPT len 1", ACCEPT_BASE, 8, 4, 1, NC_FERR_LEN },
	{ "CREDIT len 4", CREDIT_BASE, 8, 4, 4, NC_FERR_LEN },
	{ "CLOSE len 1", CLOSE_BASE, 8, 4, 1, NC_FERR_LEN },
	{ "RESET len 1", RESET_BASE, 8, 4, 1, NC_FERR_LEN },
	{ "ACK len 1", ACK_BASE, 8, 4, 1, NC_FERR_LEN },
	{ "RETIRE len 1", RETIRE_BASE, 8, 4, 1, NC_FERR_LEN },
	{ "HELLO src", HELLO_BASE, 12, 4, 1, NC_FERR_ID },
	{ "HELLO dst", HELLO_BASE, 16, 4, 1, NC_FERR_ID },
	{ "OPEN src 0", OPEN_BASE, 12, 4, 0, NC_FERR_ID },
	{ "OPEN dst", OPEN_BASE, 16, 4, 5, NC_FERR_ID },
	{ "ACCEPT src 0", ACCEPT_BASE, 12, 4, 0, NC_FERR_ID },
	{ "ACCEPT dst 0", ACCEPT_BASE, 16, 4, 0, NC_FERR_ID },
	{ "DATA src 0", DATA_BASE, 12, 4, 0, NC_FERR_ID },
	{ "DATA dst 0", DATA_BASE, 16, 4, 0, NC_FERR_ID },
	{ "CREDIT src 0", CREDIT_BASE, 12, 4, 0, NC_FERR_ID },
	{ "CREDIT dst 0", CREDIT_BASE, 16, 4, 0, NC_FERR_ID },
	{ "CLOSE src 0", CLOSE_BASE, 12, 4, 0, NC_FERR_ID },
	{ "CLOSE dst 0", CLOSE_BASE, 16, 4, 0, NC_FERR_ID },
	{ "RESET dst 0", RESET_BASE, 16, 4, 0, NC_FERR_ID },
	{ "ACK src", ACK_BASE, 12, 4, 1, NC_FERR_ID },
	{ "ACK dst", ACK_BASE, 16, 4, 1, NC_FERR_ID },
	{ "RETIRE src", RETIRE_BASE, 12, 4, 1, NC_FERR_ID },
	{ "RETIRE dst", RETIRE_BASE, 16, 4, 1, NC_FERR_ID },
	{ "RETIRE arg", RETIRE_BASE, 24, 4, 1, NC_FERR_ARG },
	{ "HELLO nchan 0", HELLO_BASE, 24, 4, NC_HELLO_ARG(0, 0),
	  NC_FERR_ARG },
	{ "HELLO nchan 65", HELLO_BASE, 24, 4, NC_HELLO_ARG(0, 65),
	  NC_FERR_ARG },
	{ "HELLO idx == nchan", HELLO_BASE, 24, 4, NC_HELLO_ARG(4, 4),
	  NC_FERR_ARG },
	{ "HELLO idx 0xffff", HELLO_BASE, 24, 4, NC_HELLO_ARG(0xffff, 64),
	  NC_FERR_ARG },
	{ "OPEN dport 0", OPEN_BASE, 24, 4, NC_OPEN_ARG(0, 1234),
	  NC_FERR_ARG },
	{ "ACCEPT arg", ACCEPT_BASE, 24, 4, 1, NC_FERR_ARG },
	{ "DATA arg", DATA_BASE, 24, 4, 0x80000000, NC_FERR_ARG },
	/* the flag set, but no credit in arg (DATA_BASE's arg is 0) */
	{ "DATA credit 0", DATA_BASE, 4, 2, NC_FF_CREDIT, NC_FERR_ARG },
	{ "CREDIT arg 0", CREDIT_BASE, 24, 4, 0, NC_FERR_ARG },
	{ "CLOSE arg", CLOSE_BASE, 24, 4, 1, NC_FERR_ARG },
	{ "RESET arg 0", RESET_BASE, 24, 4, 0, NC_FERR_ARG },
	{ "RESET arg 4096", RESET_BASE, 24, 4, 4096, NC_FERR_ARG },
	{ "RESET arg -1", RESET_BASE, 24, 4, 0xffffffff, NC_FERR_ARG },
};

static void put_be(uint8_t *p, unsigned int n, uint32_t v)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void test_reject_each_reason(void **state)
{
	unsigned int hit = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(reject_cases); i++) {
		const struct reject_case *c = &reject_cases[i];
		uint8_t hdr[NC_FRAME_HDR_LEN];
		struct nc_frame d;
		int ret;

		/* The base is valid before mutation. */
		assert_int_equal(nc_frame_check(&c->base), 0);
		nc_frame_encode(&c->base, hdr);
		assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d), 0);

		put_be(hdr + c->off, c->nbytes, c->val);
		ret = nc_frame_decode(hdr, sizeof(hdr), &d);
		if (ret != -c->err)
			fail_msg("case '%s': got %d (%s), want %d (%s)",
				 c->what, ret, nc_frame_err_str(ret), -c->err,
				 nc_frame_err_str(-c->err));
		hit |= 1u << c->err;
	}
	/* Every enum nc_frame_err value was triggered. */
	assert_int_equal(hit, ((1u << NC_FERR__MAX) - 1) & ~1u);
}

static void test_check_matches_decode(void **state)
{
	size_t i;

	(void)state;
	/* For semantic (non-wire) errors nc_frame_check() agrees. */
	for (i = 0; i < ARRAY_SIZE(reject_cases); i++) {
		const struct reject_case *c = &reject_cases[i];
		uint8_t hdr[NC_FRAME_HDR_LEN];
		struct nc_frame d;
		int ret;

		nc_frame_encode(&c->base, hdr);
		put_be(hdr + c->off, c->nbytes, c->val);
		ret = nc_frame_decode(hdr, sizeof(hdr), &d);
		if (c->err == NC_FERR_MAGIC || c->err == NC_FERR_VERSION ||
		    c->err == NC_FERR_RESERVED)
			assert_int_equal(nc_frame_check(&d), 0);
		else
			assert_int_equal(nc_frame_check(&d), ret);
	}
}

static void test_invalid_still_reports_fields(void **state)
{
	struct nc_frame f = { .type = NC_FT_DATA, .len = 0, .src_id = 9,
			      .dst_id = 10, .seq = 11 };
	uint8_t hdr[NC_FRAME_HDR_LEN];
	struct nc_frame d;

	(void)state;
	nc_frame_encode(&f, hdr);
	memset(&d, 0x55, sizeof(d));
	assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d), -NC_FERR_LEN);
	assert_frame_equal(&d, &f);
}

static void test_first_error_wins(void **state)
{
	uint8_t hdr[NC_FRAME_HDR_LEN];
	struct nc_frame d;

	(void)state;
	memset(hdr, 0xff, sizeof(hdr));
	assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d),
			 -NC_FERR_MAGIC);
	hdr[0] = 0x4e;
	hdr[1] = 0x43;
	assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d),
			 -NC_FERR_VERSION);
	hdr[2] = NC_FRAME_VERSION;
	assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d),
			 -NC_FERR_RESERVED);
	memset(hdr + 6, 0, 2);
	memset(hdr + 28, 0, 4);
	assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d),
			 -NC_FERR_TYPE);
	hdr[3] = NC_FT_DATA;
	assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d),
			 -NC_FERR_FLAGS);
	hdr[4] = 0;
	hdr[5] = NC_FF_PUSH;
	assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d),
			 -NC_FERR_LEN);
	put_be(hdr + 8, 4, 1);
	memset(hdr + 12, 0, 4);
	assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d),
			 -NC_FERR_ID);
	put_be(hdr + 12, 4, 1);
	assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d),
			 -NC_FERR_ARG);
	put_be(hdr + 24, 4, 0);
	assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d), 0);
	assert_int_equal(d.seq, 0xffffffff);
	assert_int_equal(d.dst_id, 0xffffffff);
}

static void test_need_more(void **state)
{
	struct nc_frame f = { .type = NC_FT_CLOSE, .src_id = 1, .dst_id = 2 };
	uint8_t hdr[NC_FRAME_HDR_LEN], junk[NC_FRAME_HDR_LEN];
	struct nc_frame d, sentinel;
	size_t n;

	(void)state;
	memset(&sentinel, 0x5a, sizeof(sentinel));
	nc_frame_encode(&f, hdr);
	memset(junk, 0xff, sizeof(junk));
	for (n = 0; n < NC_FRAME_HDR_LEN; n++) {
		d = sentinel;
		assert_int_equal(nc_frame_decode(hdr, n, &d),
				 NC_FRAME_NEED_MORE);
		assert_memory_equal(&d, &sentinel, sizeof(d));
		/* Even garbage is "need more" until 32 bytes are there. */
		assert_int_equal(nc_frame_decode(junk, n, &d),
				 NC_FRAME_NEED_MORE);
		assert_memory_equal(&d, &sentinel, sizeof(d));
	}
	assert_int_equal(nc_frame_decode(NULL, 0, &d), NC_FRAME_NEED_MORE);
	assert_int_equal(nc_frame_decode(hdr, NC_FRAME_HDR_LEN, &d), 0);
	assert_true(NC_FRAME_NEED_MORE > 0);
}

static void test_data_len_boundaries(void **state)
{
	static const struct {
		uint32_t len;
		int ret;
	} cases[] = {
		{ 0, -NC_FERR_LEN },
		{ 1, 0 },
		{ 16384, 0 },
		{ NC_FRAME_MAX_PAYLOAD - 1, 0 },
		{ NC_FRAME_MAX_PAYLOAD, 0 },
		{ NC_FRAME_MAX_PAYLOAD + 1, -NC_FERR_LEN },
		{ 0x80000000, -NC_FERR_LEN },
		{ 0xffffffff, -NC_FERR_LEN },
	};
	size_t i;

	(void)state;
	assert_int_equal(NC_FRAME_MAX_PAYLOAD, 65536);
	assert_int_equal(NC_FRAME_HDR_LEN, 32);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct nc_frame f = { .type = NC_FT_DATA, .len = cases[i].len,
				      .src_id = 1, .dst_id = 2 };
		uint8_t hdr[NC_FRAME_HDR_LEN];
		struct nc_frame d;

		nc_frame_encode(&f, hdr);
		assert_int_equal(nc_frame_decode(hdr, sizeof(hdr), &d),
				 cases[i].ret);
		assert_int_equal(d.len, cases[i].len);
		assert_int_equal(nc_frame_check(&f), cases[i].ret);
	}
}

static void test_hello_arg_boundaries(void **state)
{
	unsigned int n, idx;

	(void)state;
	for (n = 0; n <= 66; n++) {
		for (idx = 0; idx <= 66; idx++) {
			struct nc_frame f = {
				.type = NC_FT_HELLO, .len = 16,
				.arg = NC_HELLO_ARG(idx, n),
			};
			int want = (n >= 1 && n <= 64 && idx < n) ?
				   0 : -NC_FERR_ARG;

			assert_int_equal(nc_frame_check(&f), want);
		}
	}
}

static void test_reset_arg_boundaries(void **state)
{
	static const struct {
		uint32_t arg;
		int ret;
	} cases[] = {
		{ 0, -NC_FERR_ARG }, { 1, 0 }, { ECONNREFUSED, 0 },
		{ ECONNRESET, 0 }, { 4095, 0 }, { 4096, -NC_FERR_ARG },
		{ 0xfffff001, -NC_FERR_ARG },	/* -4095 sent by mistake */
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct nc_frame f = { .type = NC_FT_RESET, .dst_id = 1,
				      .arg = cases[i].arg };

		assert_int_equal(nc_frame_check(&f), cases[i].ret);
	}
}

static void test_seq_before(void **state)
{
	(void)state;
	assert_true(nc_seq_before(0, 1));
	assert_false(nc_seq_before(1, 0));
	assert_false(nc_seq_before(5, 5));
	assert_false(nc_seq_before(0xffffffff, 0xffffffff));
	/* Wraparound: 0xffffffff precedes 0, 0xfffffff0 precedes 0x10. */
	assert_true(nc_seq_before(0xffffffff, 0));
	assert_false(nc_seq_before(0, 0xffffffff));
	assert_true(nc_seq_before(0xfffffff0, 0x10));
	assert_false(nc_seq_before(0x10, 0xfffffff0));
	/* Largest forward distance still ordered: 2^31 - 1. */
	assert_true(nc_seq_before(0, 0x7fffffff));
	assert_false(nc_seq_before(0x7fffffff, 0));
	assert_true(nc_seq_before(0x80000001, 0));
	assert_false(nc_seq_before(0, 0x80000001));
	/* Exactly 2^31 apart: ambiguous, both report "before" (as TCP). */
	assert_true(nc_seq_before(0, 0x80000000));
	assert_true(nc_seq_before(0x80000000, 0));

	assert_true(nc_seq_after(1, 0));
	assert_true(nc_seq_after(0, 0xffffffff));
	assert_false(nc_seq_after(0xffffffff, 0));
	assert_false(nc_seq_after(7, 7));
}

static void test_seq_in_window(void **state)
{
	uint32_t i;

	(void)state;
	/* Plain. */
	assert_true(nc_seq_in_window(100, 100, 10));
	assert_true(nc_seq_in_window(100, 109, 10));
	assert_false(nc_seq_in_window(100, 110, 10));
	assert_false(nc_seq_in_window(100, 99, 10));
	/* Window straddling 2^32. */
	assert_true(nc_seq_in_window(0xfffffff0, 0xfffffff0, 32));
	assert_true(nc_seq_in_window(0xfffffff0, 0xffffffff, 32));
	assert_true(nc_seq_in_window(0xfffffff0, 0, 32));
	assert_true(nc_seq_in_window(0xfffffff0, 0xf, 32));
	assert_false(nc_seq_in_window(0xfffffff0, 0x10, 32));
	assert_false(nc_seq_in_window(0xfffffff0, 0xffffffef, 32));
	assert_false(nc_seq_in_window(0xfffffff0, 0x7fffffff, 32));
	/* Empty window never matches, even seq == next. */
	assert_false(nc_seq_in_window(0, 0, 0));
	assert_false(nc_seq_in_window(0xffffffff, 0xffffffff, 0));
	/* Window 1: only next. */
	assert_true(nc_seq_in_window(0xffffffff, 0xffffffff, 1));
	assert_false(nc_seq_in_window(0xffffffff, 0, 1));
	/* Maximal window: everything but next - 1. */
	assert_true(nc_seq_in_window(5, 5, 0xffffffff));
	assert_true(nc_seq_in_window(5, 3, 0xffffffff));
	assert_false(nc_seq_in_window(5, 4, 0xffffffff));
	assert_false(nc_seq_in_window(0, 0xffffffff, 0xffffffff));
	/* Exhaustive small neighbourhood around the wrap. */
	for (i = 0; i < 64; i++) {
		uint32_t seq = 0xffffffe0u + i;	/* wraps to 0..31 */

		assert_int_equal(nc_seq_in_window(0xfffffff8, seq, 16),
				 i >= 24 && i < 40);
	}
}

static void test_err_strings(void **state)
{
	static const char * const names[] = {
		"ok", "bad_magic", "bad_version", "bad_type", "bad_flags",
		"bad_reserved", "bad_len", "bad_id", "bad_arg",
	};
	static const char * const strs[] = {
		"ok", "bad magic", "bad version", "bad type", "bad flags",
		"bad reserved field", "bad length", "bad socket id",
		"bad argument",
	};
	int e;

	(void)state;
	assert_int_equal(ARRAY_SIZE(names), NC_FERR__MAX);
	assert_int_equal(NC_FERR_MAGIC, 1);
	assert_int_equal(NC_FERR_ARG, 8);
	for (e = 0; e < NC_FERR__MAX; e++) {
		assert_string_equal(nc_frame_err_name(e), names[e]);
		assert_string_equal(nc_frame_err_name(-e), names[e]);
		assert_string_equal(nc_frame_err_names[e], names[e]);
		assert_string_equal(nc_frame_err_str(e), strs[e]);
		assert_string_equal(nc_frame_err_str(-e), strs[e]);
	}
	assert_string_equal(nc_frame_err_str(NC_FERR__MAX), "unknown error");
	assert_string_equal(nc_frame_err_str(-NC_FERR__MAX), "unknown error");
	assert_string_equal(nc_frame_err_str(INT_MIN), "unknown error");
	assert_string_equal(nc_frame_err_str(INT_MAX), "unknown error");
	assert_string_equal(nc_frame_err_name(-100), "unknown");
	assert_string_equal(nc_frame_err_name(INT_MIN), "unknown");
}

static void test_type_strings(void **state)
{
	static const char * const names[] = {
		NULL, "HELLO", "OPEN", "ACCEPT", "DATA", "CREDIT", "CLOSE",
		"RESET", "ACK", "RETIRE",
	};
	unsigned int t;

	(void)state;
	assert_int_equal(NC_FT_HELLO, 1);
	assert_int_equal(NC_FT_RESET, 7);
	assert_int_equal(NC_FT_ACK, 8);
	assert_int_equal(NC_FT_RETIRE, 9);
	for (t = 0; t < 256; t++) {
		if (t >= NC_FT_HELLO && t <= NC_FT_RETIRE)
			assert_string_equal(nc_frame_type_str((uint8_t)t),
					    names[t]);
		else
			assert_string_equal(nc_frame_type_str((uint8_t)t),
					    "UNKNOWN");
	}
}

static void test_hello_payload(void **state)
{
	static const uint8_t exp[NC_HELLO_PAYLOAD_LEN] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0, 0, 0, 0, 0, 0, 0, 0,
	};
	uint8_t buf[NC_HELLO_PAYLOAD_LEN + 2];
	u64 id;
	size_t n;
	int i;

	(void)state;
	memset(buf, 0xaa, sizeof(buf));
	nc_hello_encode(0x0123456789abcdefULL, buf);
	assert_memory_equal(buf, exp, sizeof(exp));
	assert_int_equal(buf[16], 0xaa);

	id = 0;
	assert_int_equal(nc_hello_decode(buf, NC_HELLO_PAYLOAD_LEN,
					 &id), 0);
	assert_true(id == 0x0123456789abcdefULL);

	nc_hello_encode(0xffffffffffffffffULL, buf);
	assert_int_equal(nc_hello_decode(buf, sizeof(buf), &id), 0);
	assert_true(id == 0xffffffffffffffffULL);

	for (n = 0; n < NC_HELLO_PAYLOAD_LEN; n++) {
		id = 7;
		assert_int_equal(nc_hello_decode(buf, n, &id),
				 NC_FRAME_NEED_MORE);
		assert_true(id == 7);
	}
	for (i = 8; i < NC_HELLO_PAYLOAD_LEN; i++) {
		nc_hello_encode(42, buf);
		buf[i] = 1;
		assert_int_equal(nc_hello_decode(buf, NC_HELLO_PAYLOAD_LEN,
						 &id),
				 -NC_FERR_RESERVED);
	}
}

static void test_data_count(void **state)
{
	(void)state;
	assert_int_equal(nc_frame_data_count(0, 16384), 0);
	assert_int_equal(nc_frame_data_count(1, 16384), 1);
	assert_int_equal(nc_frame_data_count(16384, 16384), 1);
	assert_int_equal(nc_frame_data_count(16385, 16384), 2);
	assert_int_equal(nc_frame_data_count(1000000, 16384), 62);
	/* max_payload clamped to [1, NC_FRAME_MAX_PAYLOAD]. */
	assert_int_equal(nc_frame_data_count(5, 0), 5);
	assert_int_equal(nc_frame_data_count(3 * 65536, 1 << 20), 3);
	assert_int_equal(nc_frame_data_count(3 * 65536 + 1, (size_t)-1), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_vector_data),
		cmocka_unit_test(test_encode_vector_hello),
		cmocka_unit_test(test_encode_vector_open),
		cmocka_unit_test(test_encode_vector_reset),
		cmocka_unit_test(test_round_trip_all_types),
		cmocka_unit_test(test_reject_each_reason),
		cmocka_unit_test(test_check_matches_decode),
		cmocka_unit_test(test_invalid_still_reports_fields),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_need_more),
		cmocka_unit_test(test_data_len_boundaries),
		cmocka_unit_test(test_hello_arg_boundaries),
		cmocka_unit_test(test_reset_arg_boundaries),
		cmocka_unit_test(test_seq_before),
		cmocka_unit_test(test_seq_in_window),
		cmocka_unit_test(test_err_strings),
		cmocka_unit_test(test_type_strings),
		cmocka_unit_test(test_hello_payload),
		cmocka_unit_test(test_data_count),
	};

	return cmocka_run_group_tests_name("nc_frame", tests, NULL, NULL);
}
