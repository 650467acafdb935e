/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NetChannel channel framing: encoder/decoder for the 32-byte frame header.
 *
 * This file and nc_frame.c are pure code shared verbatim by the kernel
 * module and by the host unit tests / fuzzers: no allocation, no locking,
 * no mutable globals, explicit byte shifts for big-endian encoding.
 *
 * Wire format (all fields big-endian), followed by @len payload bytes:
 *
 *   off  0  u16 magic       NC_FRAME_MAGIC (0x4E43, "NC")
 *   off  2  u8  version     NC_FRAME_VERSION (6)
 *   off  3  u8  type        enum nc_frame_type
 *   off  4  u16 flags       NC_FF_* (unknown bits are rejected)
 *   off  6  u16 reserved    must be 0
 *   off  8  u32 len         payload length
 *   off 12  u32 src_id      sender's virtual socket id
 *   off 16  u32 dst_id      receiver's virtual socket id
 *   off 20  u32 seq         per-socket, per-direction sequence (mod 2^32)
 *   off 24  u32 arg         type specific, see enum nc_frame_type
 *   off 28  u32 reserved2   must be 0
 */
#ifndef _NC_FRAME_H
#define _NC_FRAME_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
/* Same widths as the kernel's asm-generic/int-ll64.h. */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
#endif

#define NC_FRAME_MAGIC		0x4E43
/*
 * 2: a DATA frame uses at least NC_FRAME_MIN_COST of credit, and the
 * sequence window is the credit's frame count (1 counted bytes only).
 * 3: NC_FRAME_MIN_COST is 1024 (was 256).
 * 4: ACK frames (the channel's in-flight bound, see NC_FT_ACK).
 * 5: DATA may carry credit for the other direction (NC_FF_CREDIT).
 * 6: RETIRE frames (a channel taken out of its group, see NC_FT_RETIRE).
 */
#define NC_FRAME_VERSION	6
#define NC_FRAME_HDR_LEN	32
/* Decoder limit; senders should cut DATA much smaller (e.g. 16 KiB). */
#define NC_FRAME_MAX_PAYLOAD	65536

/* nc_frame_decode() return value when fewer than 32 bytes are available. */
#define NC_FRAME_NEED_MORE	1

/*
 * Frame types. Field rules enforced by nc_frame_check()/nc_frame_decode():
 *
 *  type    src_id  dst_id  len          arg
 *  HELLO   0       0       16           NC_HELLO_ARG(idx, n), 1 <= n <= 64,
 *                                       idx < n
 *  OPEN    !=0     0       0            NC_OPEN_ARG(dport, sport), dport != 0
 *  ACCEPT  !=0     !=0     0            0
 *  DATA    !=0     !=0     1..MAX       0, or with NC_FF_CREDIT the credit
 *                                       granted as by a CREDIT, != 0
 *  CREDIT  !=0     !=0     0            bytes of credit granted, != 0
 *  CLOSE   !=0     !=0     0            0  (orderly shutdown of a direction)
 *  RESET   any     !=0     0            positive errno, 1..4095
 *  ACK     0       0       0            DATA bytes parsed on the channel
 *  RETIRE  0       0       0            0
 *
 * NC_FF_PUSH, NC_FF_ACKREQ and NC_FF_CREDIT are only valid on DATA; all
 * other flag bits are invalid.
 * seq is not validated (reordering is the receiver's business).
 */
enum nc_frame_type {
	NC_FT_HELLO = 1,
	NC_FT_OPEN,
	NC_FT_ACCEPT,
	NC_FT_DATA,
	NC_FT_CREDIT,
	NC_FT_CLOSE,
	NC_FT_RESET,
	NC_FT_ACK,
	NC_FT_RETIRE,
	NC_FT__MAX
};

#define NC_FF_PUSH		0x0001
#define NC_FF_ACKREQ		0x0002	/* DATA: answer with an ACK at once */
#define NC_FF_CREDIT		0x0004	/* DATA: arg is credit, as a CREDIT's */
#define NC_FF_ALL		(NC_FF_PUSH | NC_FF_ACKREQ | NC_FF_CREDIT)

/* HELLO: payload is an 8-byte instance id (BE) plus 8 reserved zero bytes. */
#define NC_HELLO_PAYLOAD_LEN	16
#define NC_HELLO_MAX_CHANNELS	64
#define NC_HELLO_ARG(idx, n)	((((u32)(idx) & 0xffff) << 16) | \
				 ((u32)(n) & 0xffff))
#define NC_HELLO_ARG_IDX(arg)	((u32)(arg) >> 16)
#define NC_HELLO_ARG_NCHAN(arg)	((u32)(arg) & 0xffff)

/* OPEN: arg carries the destination and source ports. */
#define NC_OPEN_ARG(dport, sport) ((((u32)(dport) & 0xffff) << 16) | \
				   ((u32)(sport) & 0xffff))
#define NC_OPEN_ARG_DPORT(arg)	((u16)((u32)(arg) >> 16))
#define NC_OPEN_ARG_SPORT(arg)	((u16)((u32)(arg) & 0xffff))

/*
 * DATA: a frame uses its payload's bytes of the receiver's credit, but at
 * least NC_FRAME_MIN_COST. A window of credit so bounds the number of frames
 * a receiver may have to hold, not only their bytes: without a minimum, a
 * peer could send a window's worth of 1-byte frames, each with an skb of
 * its own. At 1024, the smallest frame's skb (under 1 KiB of memory) costs
 * no more than the credit it uses, so a window of frames fits in a
 * receive buffer of twice the window, as TCP's does.
 */
#define NC_FRAME_MIN_COST	1024

static inline u32 nc_frame_cost(u32 len)
{
	return len > NC_FRAME_MIN_COST ? len : NC_FRAME_MIN_COST;
}

/*
 * ACK: a channel's receiver tells its sender how many bytes of DATA frames
 * (header and payload, modulo 2^32) it has parsed from the channel so far.
 * It is the completion of the sender's in-flight bound (a dql per channel):
 * bytes handed to a channel and not yet parsed by the peer. A receiver
 * acknowledges once NC_ACK_BYTES more were parsed, and at once for a DATA
 * frame flagged NC_FF_ACKREQ: the sender flags one every half of its limit
 * and the frame that takes it to the limit, after which it sends no DATA
 * until an ACK comes. So an ACK costs a frame per NC_ACK_BYTES or half a
 * limit, a sender never waits for an ACK that does not come, and an ACK
 * that covers all it sent tells its dql that it was starved.
 */
#define NC_ACK_BYTES		(128 * 1024)

static inline u32 nc_frame_wire_len(u32 len)
{
	return NC_FRAME_HDR_LEN + len;
}

/*
 * RETIRE: the initiator of a channel group takes an idle channel out of
 * it. It sends RETIRE as the last frame on that channel; the acceptor,
 * having read everything before it, stops using the channel and answers
 * RETIRE as its own last frame on it; the initiator then closes it. So no
 * frame is lost, and the channel's index may be connected again later.
 */

/* RESET: arg is a positive errno no larger than this. */
#define NC_RESET_MAX_ERRNO	4095

/*
 * Decode/validation errors. Functions return them negated (-NC_FERR_*);
 * 0 is never an error. Use nc_frame_err_str() for log lines and
 * nc_frame_err_name() / nc_frame_err_names[] for counter names.
 */
enum nc_frame_err {
	NC_FERR_MAGIC = 1,
	NC_FERR_VERSION,
	NC_FERR_TYPE,
	NC_FERR_FLAGS,
	NC_FERR_RESERVED,
	NC_FERR_LEN,
	NC_FERR_ID,
	NC_FERR_ARG,
	NC_FERR__MAX
};

/* Host-order view of a header. */
struct nc_frame {
	u8 type;
	u16 flags;
	u32 len;
	u32 src_id;
	u32 dst_id;
	u32 seq;
	u32 arg;
};

/*
 * Serialise @f into exactly NC_FRAME_HDR_LEN bytes at @hdr. Does not
 * validate; callers that build frames from untrusted state should run
 * nc_frame_check() first.
 */
void nc_frame_encode(const struct nc_frame *f, u8 hdr[NC_FRAME_HDR_LEN]);

/*
 * Parse the header at @buf. Returns:
 *   0                   valid header; *f filled in. The payload is the
 *                       next f->len bytes (not inspected here, except via
 *                       nc_hello_decode() for HELLO).
 *   NC_FRAME_NEED_MORE  @avail < NC_FRAME_HDR_LEN; *f untouched.
 *   -NC_FERR_*          invalid header. *f still holds the raw fields
 *                       (useful for logging) but must not be acted upon.
 * Checks run in the order magic, version, reserved, type, flags, len,
 * id, arg; the first failure is reported.
 */
int nc_frame_decode(const u8 *buf, size_t avail, struct nc_frame *f);

/* Semantic validation of a host-order frame: 0 or -NC_FERR_*. */
int nc_frame_check(const struct nc_frame *f);

/* "bad magic", ...; accepts err negated or not, "ok" for 0. */
const char *nc_frame_err_str(int err);
/* "bad_magic", ... suitable for counter names; same conventions. */
const char *nc_frame_err_name(int err);
/* Indexed by positive enum nc_frame_err; [0] is "ok". */
extern const char * const nc_frame_err_names[NC_FERR__MAX];

/* "HELLO", ...; "UNKNOWN" for anything else. */
const char *nc_frame_type_str(u8 type);

/* HELLO payload helpers. */
void nc_hello_encode(u64 instance_id, u8 payload[NC_HELLO_PAYLOAD_LEN]);
/* 0, NC_FRAME_NEED_MORE if @avail < 16, or -NC_FERR_RESERVED. */
int nc_hello_decode(const u8 *payload, size_t avail, u64 *instance_id);

/*
 * Number of DATA frames a write of @total bytes becomes when cut into
 * chunks of at most @max_payload bytes (clamped to 1..NC_FRAME_MAX_PAYLOAD).
 * A zero-byte write produces no frame.
 */
size_t nc_frame_data_count(size_t total, size_t max_payload);

/*
 * Sequence arithmetic modulo 2^32, like TCP's before(): true if @a comes
 * strictly before @b. For a distance of exactly 2^31 both orders are
 * "before"; keep the reorder window far below that.
 */
static inline bool nc_seq_before(u32 a, u32 b)
{
	return (u32)(a - b) >= 0x80000000u;
}

static inline bool nc_seq_after(u32 a, u32 b)
{
	return nc_seq_before(b, a);
}

/* True if @seq lies in [@next, @next + @window) modulo 2^32. */
bool nc_seq_in_window(u32 next, u32 seq, u32 window);

#endif /* _NC_FRAME_H */
