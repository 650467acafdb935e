// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for kernel/nc_frame.c.
 *
 * The input is treated as the byte stream of one channel: decode a header,
 * skip its payload, repeat, stopping at NEED_MORE (header or payload
 * incomplete) or at the first invalid header, exactly as the channel
 * receiver does. Every valid header must re-encode to the identical 32
 * bytes. The first bytes also drive sequence-window checks against slow
 * references.
 *
 * clang-19 -g -O1 -fsanitize=fuzzer,address,undefined -Ikernel \
 *     -o build/fuzz/fuzz_frame selftests/fuzz/fuzz_frame.c kernel/nc_frame.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nc_frame.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

/* Distance from a forward to b, modulo 2^32, computed in 64 bits. */
static uint64_t fwd_dist(uint32_t a, uint32_t b)
{
	return b >= a ? (uint64_t)b - a : (uint64_t)b + (1ULL << 32) - a;
}

static void check_seq(uint32_t next, uint32_t seq, uint32_t window)
{
	uint32_t small = window & 0x3ff;
	uint64_t d = fwd_dist(next, seq);
	int ref = 0;
	uint32_t k;

	/* 64-bit reference for the full window. */
	CHECK(nc_seq_in_window(next, seq, window) == (d < window));

	/* Brute force: walk the (small) window one sequence at a time. */
	for (k = 0; k < small; k++) {
		if ((uint32_t)(next + k) == seq) {
			ref = 1;
			break;
		}
	}
	CHECK(nc_seq_in_window(next, seq, small) == ref);

	/* before(a, b) iff b is 1..2^31 ahead of a. */
	CHECK(nc_seq_before(next, seq) == (d >= 1 && d <= 0x80000000ULL));
	CHECK(nc_seq_after(seq, next) == nc_seq_before(next, seq));
	if (next != seq && d != 0x80000000ULL)
		CHECK(nc_seq_before(next, seq) != nc_seq_before(seq, next));
	/* Anything within a sane window is "not before" next. */
	if (nc_seq_in_window(next, seq, 0x80000000u))
		CHECK(!nc_seq_before(seq, next));
}

static void check_data_count(uint16_t total, uint16_t maxp)
{
	size_t n = 0, left = total, m = maxp ? maxp : 1;

	while (left) {
		left -= left < m ? left : m;
		n++;
	}
	CHECK(nc_frame_data_count(total, maxp) == n);
}

static void check_valid(const uint8_t *p, size_t avail,
			const struct nc_frame *f)
{
	uint8_t hdr[NC_FRAME_HDR_LEN];

	CHECK(nc_frame_check(f) == 0);
	nc_frame_encode(f, hdr);
	CHECK(memcmp(hdr, p, NC_FRAME_HDR_LEN) == 0);
	CHECK(f->type >= NC_FT_HELLO && f->type < NC_FT__MAX);
	CHECK(f->len <= NC_FRAME_MAX_PAYLOAD);
	CHECK(strcmp(nc_frame_type_str(f->type), "UNKNOWN") != 0);

	if (f->type == NC_FT_HELLO &&
	    avail - NC_FRAME_HDR_LEN >= NC_HELLO_PAYLOAD_LEN) {
		const uint8_t *pl = p + NC_FRAME_HDR_LEN;
		uint8_t out[NC_HELLO_PAYLOAD_LEN];
		u64 id;
		int r = nc_hello_decode(pl, NC_HELLO_PAYLOAD_LEN, &id);

		CHECK(r == 0 || r == -NC_FERR_RESERVED);
		if (r == 0) {
			nc_hello_encode(id, out);
			CHECK(memcmp(out, pl, NC_HELLO_PAYLOAD_LEN) == 0);
		}
	}
}

static void check_invalid(int ret, const struct nc_frame *f)
{
	CHECK(ret <= -NC_FERR_MAGIC && ret > -NC_FERR__MAX);
	CHECK(strcmp(nc_frame_err_str(ret), "unknown error") != 0);
	CHECK(strcmp(nc_frame_err_name(ret), "unknown") != 0);
	/* Semantic errors are reproduced by nc_frame_check(). */
	if (ret != -NC_FERR_MAGIC && ret != -NC_FERR_VERSION &&
	    ret != -NC_FERR_RESERVED)
		CHECK(nc_frame_check(f) == ret);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	if (size >= 12)
		check_seq(rd32(data), rd32(data + 4), rd32(data + 8));
	if (size >= 4)
		check_data_count((uint16_t)rd32(data),
				 (uint16_t)(rd32(data) >> 16));

	for (;;) {
		size_t avail = size - off;
		struct nc_frame f;
		int ret;

		ret = nc_frame_decode(data + off, avail, &f);
		if (ret == NC_FRAME_NEED_MORE) {
			CHECK(avail < NC_FRAME_HDR_LEN);
			break;
		}
		CHECK(avail >= NC_FRAME_HDR_LEN);
		if (ret < 0) {
			check_invalid(ret, &f);
			break;	/* the receiver would reset the channel */
		}
		CHECK(ret == 0);
		check_valid(data + off, avail, &f);
		if (avail - NC_FRAME_HDR_LEN < f.len)
			break;	/* payload incomplete: wait for more */
		off += NC_FRAME_HDR_LEN + f.len;
	}
	return 0;
}
