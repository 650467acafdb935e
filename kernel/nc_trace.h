/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NetChannel tracepoints: the data path as perf and bpftrace see it.
 *
 *	perf record -e 'netchannel:*' -a -- CMD
 *	bpftrace -e 'tracepoint:netchannel:nc_frame_rx { @[args->fast] = count(); }'
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM netchannel

#if !defined(_NC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _NC_TRACE_H

#include <linux/tracepoint.h>

/*
 * A frame: the fields of its header. @fast: sent from the writer's own
 * sendmsg() (tx), or handled in the channel's data_ready (rx); otherwise
 * by the channel's work.
 */
DECLARE_EVENT_CLASS(nc_frame_class,
		    TP_PROTO(u32 chan, u8 type, u32 src, u32 dst, u32 seq, u32 len,
			     bool fast),
		    TP_ARGS(chan, type, src, dst, seq, len, fast),
		    TP_STRUCT__entry(__field(u32, chan)
				     __field(u8, type)
				     __field(u32, src)
				     __field(u32, dst)
				     __field(u32, seq)
				     __field(u32, len)
				     __field(bool, fast)),
		    TP_fast_assign(__entry->chan = chan;
				   __entry->type = type;
				   __entry->src = src;
				   __entry->dst = dst;
				   __entry->seq = seq;
				   __entry->len = len;
				   __entry->fast = fast;),
		    TP_printk("chan=%u type=%u src=%u dst=%u seq=%u len=%u fast=%d",
			      __entry->chan, __entry->type, __entry->src,
			      __entry->dst, __entry->seq, __entry->len,
			      __entry->fast));

/* a frame is all in the channel's TCP socket */
DEFINE_EVENT(nc_frame_class, nc_frame_tx,
	     TP_PROTO(u32 chan, u8 type, u32 src, u32 dst, u32 seq, u32 len,
		      bool fast),
	     TP_ARGS(chan, type, src, dst, seq, len, fast));

/* a frame was parsed */
DEFINE_EVENT(nc_frame_class, nc_frame_rx,
	     TP_PROTO(u32 chan, u8 type, u32 src, u32 dst, u32 seq, u32 len,
		      bool fast),
	     TP_ARGS(chan, type, src, dst, seq, len, fast));

/* the NetScheduler picked socket @sock for channel @chan */
TRACE_EVENT(nc_sched_pick,
	    TP_PROTO(u32 chan, u32 sock, u64 rank, u32 nr_ready),
	    TP_ARGS(chan, sock, rank, nr_ready),
	    TP_STRUCT__entry(__field(u32, chan)
			     __field(u32, sock)
			     __field(u64, rank)
			     __field(u32, nr_ready)),
	    TP_fast_assign(__entry->chan = chan;
			   __entry->sock = sock;
			   __entry->rank = rank;
			   __entry->nr_ready = nr_ready;),
	    TP_printk("chan=%u sock=%u rank=%llu nr_ready=%u",
		      __entry->chan, __entry->sock, __entry->rank,
		      __entry->nr_ready));

/* socket @sock received (@rx) or granted @bytes of credit */
TRACE_EVENT(nc_credit,
	    TP_PROTO(u32 sock, u32 bytes, bool rx),
	    TP_ARGS(sock, bytes, rx),
	    TP_STRUCT__entry(__field(u32, sock)
			     __field(u32, bytes)
			     __field(bool, rx)),
	    TP_fast_assign(__entry->sock = sock;
			   __entry->bytes = bytes;
			   __entry->rx = rx;),
	    TP_printk("sock=%u bytes=%u %s",
		      __entry->sock, __entry->bytes,
		      __entry->rx ? "received" : "granted"));

/* a policy started (@kind -1) or stopped (an enum netsched_exit_kind) */
TRACE_EVENT(nc_policy,
	    TP_PROTO(const char *name, int kind, const char *reason),
	    TP_ARGS(name, kind, reason),
	    TP_STRUCT__entry(__string(name, name)
			     __field(int, kind)
			     __string(reason, reason)),
	    TP_fast_assign(__assign_str(name);
			   __entry->kind = kind;
			   __assign_str(reason);),
	    TP_printk("policy=%s kind=%d reason=%s",
		      __get_str(name), __entry->kind,
		      __get_str(reason)));

/* channel @chan of peer @addr (v4-mapped for IPv4) went up (@err 0) or down (@err: why) */
TRACE_EVENT(nc_channel,
	    TP_PROTO(const struct in6_addr *addr, u32 chan, int err),
	    TP_ARGS(addr, chan, err),
	    TP_STRUCT__entry(__array(u8, addr, 16)
			     __field(u32, chan)
			     __field(int, err)),
	    TP_fast_assign(memcpy(__entry->addr, addr, 16);
			   __entry->chan = chan;
			   __entry->err = err;),
	    TP_printk("peer=%pI6c chan=%u %s err=%d",
		      __entry->addr, __entry->chan,
		      __entry->err ? "down" : "up", __entry->err));

#endif /* _NC_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE nc_trace
#include <trace/define_trace.h>
