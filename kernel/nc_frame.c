// SPDX-License-Identifier: GPL-2.0
/*
 * NetChannel channel framing: header encoder/decoder.
 *
 * Shared verbatim between the kernel module and host tests/fuzzers; see
 * nc_frame.h for the wire format and the per-type rules.
 */
#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#endif

#include "nc_frame.h"

/* Big-endian accessors built from explicit shifts (no endian helpers). */
static inline void nc_put16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static inline void nc_put32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

static inline u16 nc_get16(const u8 *p)
{
	return (u16)(((u16)p[0] << 8) | p[1]);
}

static inline u32 nc_get32(const u8 *p)
{
	return ((u32)p[0] << 24) | ((u32)p[1] << 16) |
	       ((u32)p[2] << 8) | (u32)p[3];
}

void nc_frame_encode(const struct nc_frame *f, u8 hdr[NC_FRAME_HDR_LEN])
{
	nc_put16(hdr + 0, NC_FRAME_MAGIC);
	hdr[2] = NC_FRAME_VERSION;
	hdr[3] = f->type;
	nc_put16(hdr + 4, f->flags);
	nc_put16(hdr + 6, 0);
	nc_put32(hdr + 8, f->len);
	nc_put32(hdr + 12, f->src_id);
	nc_put32(hdr + 16, f->dst_id);
	nc_put32(hdr + 20, f->seq);
	nc_put32(hdr + 24, f->arg);
	nc_put32(hdr + 28, 0);
}

static int nc_check_hello(const struct nc_frame *f)
{
	u32 idx = NC_HELLO_ARG_IDX(f->arg);
	u32 n = NC_HELLO_ARG_NCHAN(f->arg);

	if (f->len != NC_HELLO_PAYLOAD_LEN)
		return -NC_FERR_LEN;
	if (f->src_id || f->dst_id)
		return -NC_FERR_ID;
	if (n < 1 || n > NC_HELLO_MAX_CHANNELS || idx >= n)
		return -NC_FERR_ARG;
	return 0;
}

int nc_frame_check(const struct nc_frame *f)
{
	if (f->type == NC_FT_HELLO) {
		if (f->flags)
			return -NC_FERR_FLAGS;
		return nc_check_hello(f);
	}
	if (f->type < NC_FT_HELLO || f->type >= NC_FT__MAX)
		return -NC_FERR_TYPE;

	/* the flags only mean something on DATA */
	if (f->flags & ~(f->type == NC_FT_DATA ? NC_FF_ALL : 0))
		return -NC_FERR_FLAGS;

	if (f->type == NC_FT_DATA) {
		if (f->len < 1 || f->len > NC_FRAME_MAX_PAYLOAD)
			return -NC_FERR_LEN;
	} else if (f->len) {
		return -NC_FERR_LEN;
	}

	switch (f->type) {
	case NC_FT_OPEN:
		if (!f->src_id || f->dst_id)
			return -NC_FERR_ID;
		if (!NC_OPEN_ARG_DPORT(f->arg))
			return -NC_FERR_ARG;
		return 0;
	case NC_FT_ACK:
		return f->src_id || f->dst_id ? -NC_FERR_ID : 0;
	case NC_FT_RETIRE:
		if (f->src_id || f->dst_id)
			return -NC_FERR_ID;
		return f->arg ? -NC_FERR_ARG : 0;
	case NC_FT_RESET:
		if (!f->dst_id)
			return -NC_FERR_ID;
		if (f->arg < 1 || f->arg > NC_RESET_MAX_ERRNO)
			return -NC_FERR_ARG;
		return 0;
	default:
		break;
	}

	/* ACCEPT, DATA, CREDIT, CLOSE: both ends known. */
	if (!f->src_id || !f->dst_id)
		return -NC_FERR_ID;
	if (f->type == NC_FT_CREDIT ||
	    (f->type == NC_FT_DATA && (f->flags & NC_FF_CREDIT)))
		return f->arg ? 0 : -NC_FERR_ARG;
	return f->arg ? -NC_FERR_ARG : 0;
}

int nc_frame_decode(const u8 *buf, size_t avail, struct nc_frame *f)
{
	if (avail < NC_FRAME_HDR_LEN)
		return NC_FRAME_NEED_MORE;

	f->type = buf[3];
	f->flags = nc_get16(buf + 4);
	f->len = nc_get32(buf + 8);
	f->src_id = nc_get32(buf + 12);
	f->dst_id = nc_get32(buf + 16);
	f->seq = nc_get32(buf + 20);
	f->arg = nc_get32(buf + 24);

	if (nc_get16(buf) != NC_FRAME_MAGIC)
		return -NC_FERR_MAGIC;
	if (buf[2] != NC_FRAME_VERSION)
		return -NC_FERR_VERSION;
	if (nc_get16(buf + 6) || nc_get32(buf + 28))
		return -NC_FERR_RESERVED;
	return nc_frame_check(f);
}

const char * const nc_frame_err_names[NC_FERR__MAX] = {
	[0]			= "ok",
	[NC_FERR_MAGIC]		= "bad_magic",
	[NC_FERR_VERSION]	= "bad_version",
	[NC_FERR_TYPE]		= "bad_type",
	[NC_FERR_FLAGS]		= "bad_flags",
	[NC_FERR_RESERVED]	= "bad_reserved",
	[NC_FERR_LEN]		= "bad_len",
	[NC_FERR_ID]		= "bad_id",
	[NC_FERR_ARG]		= "bad_arg",
};

static const char * const nc_frame_err_strs[NC_FERR__MAX] = {
	[0]			= "ok",
	[NC_FERR_MAGIC]		= "bad magic",
	[NC_FERR_VERSION]	= "bad version",
	[NC_FERR_TYPE]		= "bad type",
	[NC_FERR_FLAGS]		= "bad flags",
	[NC_FERR_RESERVED]	= "bad reserved field",
	[NC_FERR_LEN]		= "bad length",
	[NC_FERR_ID]		= "bad socket id",
	[NC_FERR_ARG]		= "bad argument",
};

static unsigned int nc_err_index(int err)
{
	unsigned int e = err < 0 ? 0u - (unsigned int)err : (unsigned int)err;

	return e < NC_FERR__MAX ? e : NC_FERR__MAX;
}

const char *nc_frame_err_str(int err)
{
	unsigned int e = nc_err_index(err);

	return e < NC_FERR__MAX ? nc_frame_err_strs[e] : "unknown error";
}

const char *nc_frame_err_name(int err)
{
	unsigned int e = nc_err_index(err);

	return e < NC_FERR__MAX ? nc_frame_err_names[e] : "unknown";
}

static const char * const nc_frame_type_strs[NC_FT__MAX] = {
	[NC_FT_HELLO]	= "HELLO",
	[NC_FT_OPEN]	= "OPEN",
	[NC_FT_ACCEPT]	= "ACCEPT",
	[NC_FT_DATA]	= "DATA",
	[NC_FT_CREDIT]	= "CREDIT",
	[NC_FT_CLOSE]	= "CLOSE",
	[NC_FT_RESET]	= "RESET",
	[NC_FT_ACK]	= "ACK",
	[NC_FT_RETIRE]	= "RETIRE",
};

const char *nc_frame_type_str(u8 type)
{
	if (type < NC_FT_HELLO || type >= NC_FT__MAX)
		return "UNKNOWN";
	return nc_frame_type_strs[type];
}

void nc_hello_encode(u64 instance_id, u8 payload[NC_HELLO_PAYLOAD_LEN])
{
	nc_put32(payload + 0, (u32)(instance_id >> 32));
	nc_put32(payload + 4, (u32)instance_id);
	memset(payload + 8, 0, NC_HELLO_PAYLOAD_LEN - 8);
}

int nc_hello_decode(const u8 *payload, size_t avail, u64 *instance_id)
{
	int i;

	if (avail < NC_HELLO_PAYLOAD_LEN)
		return NC_FRAME_NEED_MORE;
	for (i = 8; i < NC_HELLO_PAYLOAD_LEN; i++)
		if (payload[i])
			return -NC_FERR_RESERVED;
	*instance_id = ((u64)nc_get32(payload) << 32) | nc_get32(payload + 4);
	return 0;
}

size_t nc_frame_data_count(size_t total, size_t max_payload)
{
	if (max_payload < 1)
		max_payload = 1;
	if (max_payload > NC_FRAME_MAX_PAYLOAD)
		max_payload = NC_FRAME_MAX_PAYLOAD;
	return total / max_payload + (total % max_payload ? 1 : 0);
}

bool nc_seq_in_window(u32 next, u32 seq, u32 window)
{
	return (u32)(seq - next) < window;
}
