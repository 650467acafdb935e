// SPDX-License-Identifier: GPL-2.0
/*
 * NetDriver, receive: frames parsed from a channel's TCP receive queue in
 * its data_ready callback (softirq) or its receive work, and handed to the
 * virtual sockets (nc_sock_rx.c) or, for HELLO, to the peer's setup.
 */
#include <linux/net.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "netchannel.h"
#include "nc_driver.h"
#include "nc_trace.h"

static void nc_chan_rx_hello(struct nc_channel *ch, const struct nc_frame *f,
			     struct sk_buff *skb)
{
	u32 idx = NC_HELLO_ARG_IDX(f->arg), nr = NC_HELLO_ARG_NCHAN(f->arg);
	struct nc_frame ack = { .type = NC_FT_ACK };	/* of 0 bytes */
	struct nc_net *nn = ch->nn;
	struct in6_addr addr;
	struct nc_peer *peer;
	u64 group;

	if (nc_hello_decode(skb->data, skb->len, &group) ||
	    nc_socket_addr(ch->sock, &addr, false)) {
		nc_chan_proto_error(ch, NC_STAT_ERR_HELLO, "bad HELLO payload");
		return;
	}
	mutex_lock(&nn->lock);
	if (nn->dying) {
		mutex_unlock(&nn->lock);
		return;
	}
	list_for_each_entry(peer, &nn->peers, node)
		if (!peer->initiator && peer->group == group &&
		    ipv6_addr_equal(&peer->addr, &addr) &&
		    READ_ONCE(peer->state) != NC_PEER_DEAD)
			goto found;
	peer = nc_peer_alloc(nn, &addr, group, nr, 0, false);
	if (!peer) {
		mutex_unlock(&nn->lock);
		/* not the peer's fault, but its HELLO is lost: it reconnects */
		nc_chan_proto_error(ch, NC_STAT_RX_NOMEM, "out of memory");
		return;
	}
found:
	spin_lock_bh(&peer->lock);
	if (nr != peer->nr || idx >= nr || peer->ch[idx] ||
	    peer->state == NC_PEER_DEAD) {
		spin_unlock_bh(&peer->lock);
		mutex_unlock(&nn->lock);
		nc_chan_proto_error(ch, NC_STAT_ERR_HELLO,
				    "HELLO for channel %u of %u conflicts", idx, nr);
		return;
	}
	list_del_init(&ch->node);
	ch->idx = idx;
	WRITE_ONCE(ch->peer, peer);	/* HELLO done: see struct nc_channel */
	peer->ch[idx] = ch;
	WRITE_ONCE(peer->nr_open, peer->nr_open + 1);
	spin_unlock_bh(&peer->lock);
	/* the answer that shows the initiator it reached NetChannel */
	if (!nc_chan_queue_ctrl(ch, &ch->ack_ctrl, &ack))
		nc_stat_inc(nn, NC_STAT_ACKS_TX);
	trace_nc_channel(&peer->addr, idx, 0);
	mutex_unlock(&nn->lock);
}

/* The counter of a header that nc_frame_decode() refused with @err (< 0). */
static enum nc_stat nc_frame_err_stat(int err)
{
	switch (-err) {
	case NC_FERR_MAGIC:
		return NC_STAT_ERR_BAD_MAGIC;
	case NC_FERR_VERSION:
		return NC_STAT_ERR_BAD_VERSION;
	case NC_FERR_TYPE:
		return NC_STAT_ERR_BAD_TYPE;
	case NC_FERR_FLAGS:
		return NC_STAT_ERR_BAD_FLAGS;
	case NC_FERR_RESERVED:
		return NC_STAT_ERR_BAD_RESERVED;
	case NC_FERR_LEN:
		return NC_STAT_ERR_BAD_LEN;
	case NC_FERR_ID:
		return NC_STAT_ERR_BAD_ID;
	default:
		return NC_STAT_ERR_BAD_ARG;
	}
}

/* Too many OPENs in a second on one channel is an attack, not a load. */
static bool nc_chan_open_flood(struct nc_channel *ch)
{
	if (time_after(jiffies, ch->opens_since + HZ)) {
		ch->opens_since = jiffies;
		ch->opens = 0;
	}
	return ++ch->opens > NC_OPEN_FLOOD;
}

static void nc_chan_rx_count(struct nc_channel *ch, const struct nc_frame *f,
			     bool fast)
{
	trace_nc_frame_rx(ch->idx, f->type, f->src_id, f->dst_id, f->seq,
			  f->len, fast);
	WRITE_ONCE(ch->frames_rx, ch->frames_rx + 1);
	WRITE_ONCE(ch->bytes_rx, ch->bytes_rx + f->len);
	nc_stat_inc(ch->nn, NC_STAT_FRAMES_RX);
	nc_stat_add(ch->nn, NC_STAT_BYTES_RX, f->len);
}

/* Any frame, in process context, without the channel socket's lock. */
static void nc_chan_rx_dispatch(struct nc_channel *ch, const struct nc_frame *f,
				struct sk_buff *skb)
{
	struct nc_net *nn = ch->nn;
	struct nc_sock *nsk;

	nc_chan_rx_count(ch, f, false);
	if (!ch->peer) {
		if (f->type != NC_FT_HELLO)
			nc_chan_proto_error(ch, NC_STAT_ERR_HELLO,
					    "%s before HELLO",
					    nc_frame_type_str(f->type));
		else
			nc_chan_rx_hello(ch, f, skb);
		goto out;
	}
	switch (f->type) {
	case NC_FT_HELLO:
		nc_chan_proto_error(ch, NC_STAT_ERR_HELLO, "second HELLO");
		goto out;
	case NC_FT_RETIRE:
		nc_peer_rx_retire(ch->peer, ch);
		goto out;
	case NC_FT_OPEN:
		if (nc_chan_open_flood(ch)) {
			nc_chan_proto_error(ch, NC_STAT_ERR_OPEN_FLOOD,
					    "more than %d OPENs in a second",
					    NC_OPEN_FLOOD);
			goto out;
		}
		nc_sock_rx_open(ch, f);
		goto out;
	default:
		break;
	}

	nsk = nc_sock_lookup(nn, f->dst_id);
	if (nsk && nsk->peer != ch->peer) {
		sock_put(&nsk->inet.sk);
		nc_chan_proto_error(ch, NC_STAT_ERR_UNKNOWN_SOCKET,
				    "%s for socket %u of another peer",
				    nc_frame_type_str(f->type), f->dst_id);
		goto out;
	}
	if (!nsk) {
		if (f->dst_id > READ_ONCE(nn->id_max)) {
			nc_chan_proto_error(ch, NC_STAT_ERR_UNKNOWN_SOCKET,
					    "%s for unknown socket %u",
					    nc_frame_type_str(f->type), f->dst_id);
			goto out;
		}
		/*
		 * A socket closed here: tell the sender, as TCP's RST does,
		 * once per socket pair in a row (a burst of its DATA gets one).
		 */
		nc_stat_inc(nn, NC_STAT_STALE_FRAMES);
		if ((f->type == NC_FT_DATA || f->type == NC_FT_ACCEPT ||
		     f->type == NC_FT_CLOSE) &&
		    (f->src_id != ch->stale_src || f->dst_id != ch->stale_dst)) {
			struct nc_frame r = {
				.type = NC_FT_RESET, .src_id = f->dst_id,
				.dst_id = f->src_id, .arg = ECONNRESET,
			};

			if (!nc_chan_send_ctrl(ch, &r)) {
				ch->stale_src = f->src_id;
				ch->stale_dst = f->dst_id;
				nc_stat_inc(nn, NC_STAT_STALE_RESETS);
			}
		}
		goto out;
	}
	nc_sock_rx_frame(ch, nsk, f, skb, true);
	skb = NULL;	/* consumed */
	sock_put(&nsk->inet.sk);
out:
	kfree_skb(skb);
}

/*
 * The fast path: a DATA or CREDIT frame for a live socket of this peer,
 * handled where it was parsed (softirq, or under the channel socket's
 * lock). Returns false, having done nothing, for anything that needs the
 * receive work: other frame types, stale or unknown sockets (their answer
 * is allocated), a socket the user closed (its abort sleeps).
 */
static bool nc_chan_rx_fast(struct nc_channel *ch, const struct nc_frame *f,
			    struct sk_buff *skb)
{
	struct nc_sock *nsk;
	bool done = false;

	if (!ch->peer || (f->type != NC_FT_DATA && f->type != NC_FT_CREDIT))
		return false;
	nsk = nc_sock_lookup(ch->nn, f->dst_id);
	if (!nsk)
		return false;
	if (nsk->peer == ch->peer) {
		done = nc_sock_rx_frame(ch, nsk, f, skb, false);
		if (done)
			nc_chan_rx_count(ch, f, true);
	}
	sock_put(&nsk->inet.sk);
	return done;
}

/*
 * Receive state machine. Frames are read from the channel socket's receive
 * queue with tcp_read_sock(), always under that socket's lock: by
 * nc_chan_data_ready() (softirq or backlog) or by the receive work (which
 * owns the lock). So @rx_hdr, @rx_got, @rx_need, @rx_frame and @rx_skb have
 * one writer at a time.
 *
 * Payload: a DATA frame longer than NC_RX_COPYBREAK is taken by reference
 * (pskb_extract() of TCP's skbs, the pieces of a frame that spans skbs
 * chained on the first one's frag_list), so the only copy of its bytes is
 * the reader's recvmsg(). Shorter frames, and every other type, are copied
 * into a small linear skb, which neither pins TCP's large skbs nor makes
 * nc_frame.c parse a fragmented payload. The break keeps each held frame's
 * memory within twice its credit (NC_FRAME_MIN_COST): a copy of up to 512
 * bytes fits a 1 KiB slab object, and a piece taken by reference carries
 * a head of about 1 KiB beside its bytes.
 *
 * A frame the fast path does not take is put in the one-frame slot
 * @rx_defer_*, @rx_deferred is set, and reading stops until the receive
 * work has dispatched it (in process context, without the lock) and
 * cleared the flag: so frames are handled in the order they came.
 */
#define NC_RX_COPYBREAK		512

static void nc_skb_chain(struct sk_buff *head, struct sk_buff *piece)
{
	struct sk_buff **pp = &skb_shinfo(head)->frag_list;

	while (*pp)
		pp = &(*pp)->next;
	*pp = piece;
	head->len += piece->len;
	head->data_len += piece->len;
	head->truesize += piece->truesize;
}

/* Take @n payload bytes of the current frame from @skb at @off. */
static bool nc_chan_rx_take(struct nc_channel *ch, struct sk_buff *skb,
			    unsigned int off, size_t n, gfp_t gfp)
{
	const struct nc_frame *f = &ch->rx_frame;
	struct sk_buff *piece;

	if (f->type != NC_FT_DATA || f->len <= NC_RX_COPYBREAK) {
		if (!ch->rx_skb) {
			ch->rx_skb = alloc_skb(f->len, gfp);
			if (!ch->rx_skb)
				return false;
		}
		skb_copy_bits(skb, off, skb_put(ch->rx_skb, n), n);
		return true;
	}
	piece = pskb_extract(skb, off, n, gfp);
	if (!piece)
		return false;
	/*
	 * A clone carries all of TCP's skb's truesize; the piece holds only
	 * its head and @n bytes of pages (a page's rest is not charged).
	 */
	piece->truesize = SKB_TRUESIZE(skb_end_offset(piece)) + piece->data_len;
	if (ch->rx_skb)
		nc_skb_chain(ch->rx_skb, piece);
	else
		ch->rx_skb = piece;
	return true;
}

/*
 * The in-flight bound, receiver's half: a DATA frame @f left the channel.
 * Tell the sender (its completion, see struct nc_channel's @tx_dql) once
 * NC_ACK_BYTES more were parsed, or at once if the frame asks (see
 * NC_FF_ACKREQ). The slot coalesces: an ACK still queued carries the
 * newest count.
 */
static void nc_chan_rx_data_parsed(struct nc_channel *ch,
				   const struct nc_frame *f)
{
	struct nc_frame a = { .type = NC_FT_ACK };

	WRITE_ONCE(ch->last_used, jiffies);
	ch->rx_data += nc_frame_wire_len(f->len);
	if (!(f->flags & NC_FF_ACKREQ) &&
	    ch->rx_data - ch->rx_acked < NC_ACK_BYTES)
		return;
	a.arg = ch->rx_data;
	if (!nc_chan_queue_ctrl(ch, &ch->ack_ctrl, &a)) {
		ch->rx_acked = ch->rx_data;
		nc_stat_inc(ch->nn, NC_STAT_ACKS_TX);
	}
}

/*
 * The in-flight bound, sender's half: the peer parsed DATA up to the
 * count in @f. An ACK of more than is in flight is a protocol error (and
 * would break the dql's accounting). A channel that was at its limit
 * sends again (if still over it, one frame that asks for the next ACK:
 * nc_chan_tx_limited()).
 */
static void nc_chan_rx_ack(struct nc_channel *ch, const struct nc_frame *f)
{
	struct dql *dql = &ch->tx_dql;
	/* the peer's count and the dql's completions both start at 0 */
	u32 done = f->arg - dql->num_completed;
	u32 inflight = READ_ONCE(dql->num_queued) - dql->num_completed;
	bool was_full = nc_chan_tx_limited(ch);

	if (done > inflight) {
		nc_chan_proto_error(ch, NC_STAT_ERR_ACK,
				    "ACK of %u bytes, %u in flight", done,
				    inflight);
		return;
	}
	if (!done)
		return;
	WRITE_ONCE(ch->last_used, jiffies);	/* it carries DATA still */
	dql_completed(dql, done);
	if (was_full && !nc_chan_tx_limited(ch))
		queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
}

/*
 * The other side's RETIRE was its last frame on @ch: the initiator's, once
 * the acceptor has it; the acceptor's answer, once the initiator has it.
 */
static bool nc_chan_rx_closed(const struct nc_channel *ch)
{
	int r = READ_ONCE(ch->retire);

	return ch->peer &&
	       (ch->peer->initiator ? r == NC_RETIRE_DONE : r != NC_RETIRE_NONE);
}

/* A whole frame: the fast path, or the receive work. */
static void nc_chan_rx_frame(struct nc_channel *ch, read_descriptor_t *desc)
{
	struct sk_buff *skb = ch->rx_skb;

	ch->rx_skb = NULL;
	ch->rx_got = 0;
	if (nc_chan_rx_closed(ch)) {
		kfree_skb(skb);
		desc->count = 0;	/* stop reading */
		nc_chan_proto_error(ch, NC_STAT_ERR_RETIRE, "%s after RETIRE",
				    nc_frame_type_str(ch->rx_frame.type));
		return;
	}
	/* a valid frame: the other host runs NetChannel (struct nc_peer) */
	if (ch->peer && !READ_ONCE(ch->peer->proven))
		WRITE_ONCE(ch->peer->proven, true);
	if (ch->rx_frame.type == NC_FT_DATA)
		nc_chan_rx_data_parsed(ch, &ch->rx_frame);
	if (ch->rx_frame.type == NC_FT_ACK && ch->peer) {
		nc_chan_rx_count(ch, &ch->rx_frame, true);
		nc_chan_rx_ack(ch, &ch->rx_frame);
		kfree_skb(skb);		/* NULL: an ACK has no payload */
		return;
	}
	if (nc_chan_rx_fast(ch, &ch->rx_frame, skb))
		return;
	nc_stat_inc(ch->nn, NC_STAT_RX_DEFERRED);
	ch->rx_defer_frame = ch->rx_frame;
	ch->rx_defer_skb = skb;
	ch->rx_defer_err = 0;
	/* the slot is written before the work can see the flag */
	smp_store_release(&ch->rx_deferred, true);
	desc->count = 0;	/* stop reading */
}

/* what nc_chan_rx_read() hands the actor */
struct nc_rx_arg {
	struct nc_channel *ch;
	gfp_t gfp;
};

static int nc_chan_rx_actor(read_descriptor_t *desc, struct sk_buff *skb,
			    unsigned int off, size_t len)
{
	struct nc_rx_arg *arg = desc->arg.data;
	struct nc_channel *ch = arg->ch;
	struct nc_frame *f = &ch->rx_frame;
	size_t left = len, n;
	int ret;

	while (left && desc->count && !atomic_read(&ch->dead)) {
		if (ch->rx_got < NC_FRAME_HDR_LEN) {
			n = min_t(size_t, NC_FRAME_HDR_LEN - ch->rx_got, left);
			skb_copy_bits(skb, off, ch->rx_hdr + ch->rx_got, n);
			ch->rx_got += n;
			off += n;
			left -= n;
			if (ch->rx_got < NC_FRAME_HDR_LEN)
				break;
			ret = nc_frame_decode(ch->rx_hdr, NC_FRAME_HDR_LEN, f);
			if (ret < 0) {
				/* the work resets the channel */
				ch->rx_defer_err = ret;
				/* pairs with the work's smp_load_acquire() */
				smp_store_release(&ch->rx_deferred, true);
				desc->count = 0;
				break;
			}
			ch->rx_need = f->len;
		}
		if (ch->rx_need) {
			if (!left)
				break;	/* the header ended the skb */
			n = min_t(size_t, ch->rx_need, left);
			if (!nc_chan_rx_take(ch, skb, off, n, arg->gfp)) {
				nc_stat_inc(ch->nn, NC_STAT_RX_NOMEM);
				desc->count = 0;	/* the work retries */
				break;
			}
			ch->rx_need -= n;
			off += n;
			left -= n;
			if (ch->rx_need)
				break;
		}
		nc_chan_rx_frame(ch, desc);
	}
	return len - left;
}

/*
 * Read what the channel socket holds. Called with its lock held (see
 * above). Returns true if the receive work must run: a frame waits for it,
 * or an allocation failed.
 */
bool nc_chan_rx_read(struct nc_channel *ch, gfp_t gfp)
{
	struct nc_rx_arg arg = { .ch = ch, .gfp = gfp };
	read_descriptor_t desc = { .arg.data = &arg, .count = 1 };

	tcp_read_sock(ch->sock->sk, &desc, nc_chan_rx_actor);
	return READ_ONCE(ch->rx_deferred) || !desc.count;
}

/*
 * Input that asks for answers (a RESET for each refused OPEN or stale frame)
 * waits while NC_MAX_CTRL_UNOWNED answers are not sent yet: a peer that
 * sends faster than its answers leave, or reads none of them, is slowed to
 * what it reads, as TCP slows a sender to what its reader takes, and the
 * queue stays bounded. One that never reads is aborted by TCP's user
 * timeout (its window stays shut). Sending them resumes us, at half.
 */
static bool nc_chan_rx_throttle(struct nc_channel *ch)
{
	if (READ_ONCE(ch->ctrl_unowned) < NC_MAX_CTRL_UNOWNED)
		return false;
	if (!atomic_xchg(&ch->rx_throttled, 1))
		nc_stat_inc(ch->nn, NC_STAT_RX_THROTTLED);
	/* the queue may have drained before the flag was up */
	if (READ_ONCE(ch->ctrl_unowned) > NC_MAX_CTRL_UNOWNED / 2)
		return true;
	atomic_set(&ch->rx_throttled, 0);
	return false;
}

/*
 * The receive work, process context: dispatches the frame the fast path
 * left, reads on under the channel socket's lock (with GFP_KERNEL), and
 * notices the end of the channel.
 */
void nc_chan_rx_workfn(struct work_struct *work)
{
	struct nc_channel *ch = container_of(work, struct nc_channel, rx_work);
	struct sock *sk = ch->sock->sk;
	int budget = NC_RX_BUDGET, err;
	bool again, deferred;

	while (!atomic_read(&ch->dead)) {
		/* the slot is read after the flag: see nc_chan_rx_frame() */
		deferred = smp_load_acquire(&ch->rx_deferred);
		if (deferred) {
			if (ch->rx_defer_err) {
				err = ch->rx_defer_err;
				nc_chan_proto_error(ch, nc_frame_err_stat(err),
						    "%s", nc_frame_err_str(err));
				return;
			}
			if (nc_chan_rx_throttle(ch)) {
				/* sending answers resumes us, unless it broke */
				err = READ_ONCE(sk->sk_err);
				if (!err && !(READ_ONCE(sk->sk_shutdown) &
					      RCV_SHUTDOWN))
					return;
				break;
			}
			nc_chan_rx_dispatch(ch, &ch->rx_defer_frame,
					    ch->rx_defer_skb);
			ch->rx_defer_skb = NULL;
		}
		lock_sock(sk);
		if (!deferred && READ_ONCE(ch->rx_deferred)) {
			/* the fast path left one since we looked */
			release_sock(sk);
			continue;
		}
		WRITE_ONCE(ch->rx_deferred, false);
		again = nc_chan_rx_read(ch, GFP_KERNEL);
		err = READ_ONCE(sk->sk_err);
		if (!err && (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) &&
		    skb_queue_empty(&sk->sk_receive_queue) && !again)
			err = ECONNRESET;	/* EOF */
		release_sock(sk);
		if (err && !again)
			break;
		if (!again)
			return;
		if (!--budget) {
			queue_work_on(ch->cpu, nc_wq, &ch->rx_work);
			return;
		}
	}
	if (atomic_read(&ch->dead))
		return;
	/* a retiring channel is not in use: its end is no failure */
	if (ch->peer && READ_ONCE(ch->retire)) {
		nc_peer_retire_done(ch->peer, ch);
		return;
	}
	/*
	 * EOF or error: the channel is gone, and with it its group. Its
	 * sockets see what TCP's would: ETIMEDOUT if the peer went silent,
	 * ECONNRESET for anything else (RST, FIN, a route that vanished).
	 */
	if (ch->peer) {
		nc_peer_kill(ch->peer, err == ETIMEDOUT ? ETIMEDOUT : ECONNRESET);
	} else {
		atomic_set(&ch->dead, 1);
		schedule_work(&ch->nn->accept_work);
	}
}
