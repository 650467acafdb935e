// SPDX-License-Identifier: GPL-2.0
/*
 * NetDriver, transmit: control frames first, then DATA frames that the
 * NetScheduler picks among the peer's ready sockets, cut within the
 * socket's credit, and handed to the channel's TCP socket without blocking
 * (a per-channel cursor keeps a frame TCP took only part of).
 */
#include <linux/net.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "netchannel.h"
#include "nc_driver.h"
#include "nc_trace.h"

/*
 * Queue the control frame @f in slot @c on @ch (see struct nc_ctrl). A slot
 * already queued keeps its place; a CREDIT adds its credit to it. Fails
 * when the channel is dead, and then its group is dying (-ENOTCONN), or
 * retired, with its RETIRE queued as its last frame (-ESHUTDOWN): a
 * socket's frame then goes on its new home (nc_sock_queue_ctrl()). Any
 * context.
 */
int nc_chan_queue_ctrl(struct nc_channel *ch, struct nc_ctrl *c,
		       const struct nc_frame *f)
{
	spin_lock_bh(&ch->ctrl_lock);
	if (atomic_read(&ch->dead) || ch->ctrl_closed) {
		spin_unlock_bh(&ch->ctrl_lock);
		return atomic_read(&ch->dead) ? -ENOTCONN : -ESHUTDOWN;
	}
	if (f->type == NC_FT_RETIRE)
		ch->ctrl_closed = true;	/* the last one */
	if (c->queued) {
		if (f->type == NC_FT_CREDIT && c->f.type == NC_FT_CREDIT)
			c->f.arg += f->arg;
		else if (f->type == NC_FT_ACK)
			c->f.arg = f->arg;	/* a count: the newest holds all */
	} else {
		c->f = *f;
		c->queued = true;
		if (c->nsk)
			sock_hold(&c->nsk->inet.sk);
		list_add_tail(&c->node, &ch->ctrlq);
		WRITE_ONCE(ch->ctrlq_len, ch->ctrlq_len + 1);
		if (nc_ctrl_allocated(ch, c))
			WRITE_ONCE(ch->ctrl_unowned, ch->ctrl_unowned + 1);
	}
	spin_unlock_bh(&ch->ctrl_lock);
	queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
	return 0;
}

/*
 * A control frame that belongs to no socket (a RESET answering a frame for a
 * socket that is gone or an OPEN refused). The receive work, process
 * context. It must not be lost: a lost refusal would leave the peer's
 * connect() waiting for good. So the small allocation sleeps until it
 * succeeds (__GFP_NOFAIL; the alternative is the same loop here). Their
 * number is bounded by the receive work, which stops reading the channel
 * while NC_MAX_CTRL_UNOWNED of them wait (nc_chan_rx_throttle()).
 * Returns 0, or -ENOTCONN if the channel died.
 */
int nc_chan_send_ctrl(struct nc_channel *ch, const struct nc_frame *f)
{
	struct nc_ctrl *c;
	int err;

	might_sleep();
	c = kzalloc(sizeof(*c), GFP_KERNEL | __GFP_NOFAIL);
	INIT_LIST_HEAD(&c->node);
	err = nc_chan_queue_ctrl(ch, c, f);
	/* the channel retires: any other of the group will do */
	if (err == -ESHUTDOWN && ch->peer) {
		struct nc_channel *other = nc_peer_ctrl_channel(ch->peer);

		if (other) {
			err = nc_chan_queue_ctrl(other, c, f);
			nc_chan_put(other);
		}
	}
	if (err)
		kfree(c);
	return err;
}

/*
 * The next frame channel @ch sends: the NetScheduler (nc_sched_pick()) picks
 * the socket, we cut the frame within the socket's credit and the host's
 * frame size, so sockets sharing the channels interleave frame by frame and
 * none waits behind another's large write.
 *
 * Returns the frame in @f and, for DATA, the skb holding its payload at
 * @off (a reference the caller drops). For a CLOSE, *@fin_nsk is set and
 * holds a reference.
 */
static bool nc_peer_next_frame(struct nc_peer *peer, struct nc_channel *ch,
			       struct nc_frame *f, struct sk_buff **skbp,
			       u32 *off, struct nc_sock **fin_nsk)
{
	struct nc_sock *nsk;
	struct sk_buff *skb;
	int frame_size;
	u32 n;

	spin_lock_bh(&peer->lock);
	frame_size = nc_peer_frame_size(peer);
	while ((nsk = nc_sched_pick(peer, ch))) {
		skb = skb_peek(&nsk->txq);
		if (skb && nsk->snd_credit >= NC_FRAME_MIN_COST &&
		    !nc_sock_tx_held(nsk)) {
			n = nc_sock_frame_len(nsk, skb, frame_size);
			*f = (struct nc_frame){
				.type = NC_FT_DATA, .len = n,
				.src_id = nsk->id, .dst_id = nsk->remote_id,
				.seq = nsk->snd_nxt++,
			};
			/* the credit the reader returned rides along */
			if (nsk->credit_due) {
				f->flags |= NC_FF_CREDIT;
				f->arg = nsk->credit_due;
				nsk->credit_due = 0;
			}
			*off = nsk->tx_off;
			nsk->snd_credit -= nc_frame_cost(n);
			nsk->bytes_sent += n;
			nsk->tx_off += n;
			nsk->tx_bytes -= n;
			if (nsk->tx_off == skb->len) {
				/* the queue's reference becomes the caller's */
				__skb_unlink(skb, &nsk->txq);
				nsk->tx_off = 0;
			} else {
				skb_get(skb);
			}
			*skbp = skb;
			nc_sock_tx_ready_locked(nsk);	/* more to send? */
			spin_unlock_bh(&peer->lock);
			return true;
		}
		if (!skb && nsk->fin_queued && !nsk->fin_sent) {
			*f = (struct nc_frame){
				.type = NC_FT_CLOSE,
				.src_id = nsk->id, .dst_id = nsk->remote_id,
				.seq = nsk->snd_nxt,
			};
			nsk->fin_sent = true;
			nc_sched_ready_del(peer, nsk);
			sock_hold(&nsk->inet.sk);
			*fin_nsk = nsk;
			spin_unlock_bh(&peer->lock);
			return true;
		}
		/* nothing it can send now; CREDIT or sendmsg re-adds it */
		nc_sched_ready_del(peer, nsk);
	}
	spin_unlock_bh(&peer->lock);
	return false;
}

/*
 * The payload bytes [@off, @off + @len) of @skb as page pieces in @bv, at
 * most @max of them: how many, with their bytes in *@bytes. Socket skbs
 * are built paged (nc_sendmsg()), so TCP can take the pages by reference.
 */
static int nc_skb_bvec(const struct sk_buff *skb, u32 off, u32 len,
		       struct bio_vec *bv, int max, size_t *bytes)
{
	int i, n = 0;

	*bytes = 0;
	if (WARN_ON_ONCE(off < skb_headlen(skb)))
		return -EINVAL;		/* linear data is slab memory */
	off -= skb_headlen(skb);
	for (i = 0; i < skb_shinfo(skb)->nr_frags && len && n < max; i++) {
		const skb_frag_t *frag = &skb_shinfo(skb)->frags[i];
		u32 size = skb_frag_size(frag), take;

		if (off >= size) {
			off -= size;
			continue;
		}
		take = min(size - off, len);
		bvec_set_page(&bv[n++], skb_frag_page(frag), take,
			      skb_frag_off(frag) + off);
		*bytes += take;
		len -= take;
		off = 0;
	}
	return n;
}

/*
 * Copy bytes [@from, @to) of the current frame (header, then a linear
 * payload) into TCP in one call, without blocking: bytes taken, or < 0.
 */
static int nc_chan_tx_copy(struct sock *sk, struct nc_tx_frame *t, u32 from,
			   u32 to, int flags)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL | flags };
	size_t len = to - from;
	struct kvec v[2];
	int n = 0;

	if (from < NC_FRAME_HDR_LEN) {
		v[n].iov_base = t->hdr + from;
		v[n++].iov_len = min_t(u32, to, NC_FRAME_HDR_LEN) - from;
		from = NC_FRAME_HDR_LEN;
	}
	if (to > from) {
		v[n].iov_base = t->skb->data + t->off + from - NC_FRAME_HDR_LEN;
		v[n++].iov_len = to - from;
	}
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, v, n, len);
	return tcp_sendmsg_locked(sk, &msg, len);
}

/*
 * Hand the rest of @ch's current frame to TCP, without blocking. A frame
 * with no payload or a linear one (a small write, see NC_TX_COPYBREAK) is
 * copied with its header in one call; a paged payload is spliced by
 * reference, after its header (copied, 32 bytes, with MSG_MORE so that no
 * segment carries the header alone). 0 once all of it is in; -EAGAIN when
 * TCP has no room (the frame stays, and nc_chan_write_space() brings the
 * work back); another error if the channel broke. Channel socket locked.
 */
static int nc_chan_tx_push(struct nc_channel *ch)
{
	struct nc_tx_frame *t = &ch->tx;
	struct sock *sk = ch->sock->sk;
	u32 end = NC_FRAME_HDR_LEN + t->len;
	struct bio_vec bv[MAX_SKB_FRAGS];
	struct msghdr msg = {};
	bool paged = t->len && skb_is_nonlinear(t->skb);
	size_t bytes;
	int ret, n;

	while (t->sent < (paged ? NC_FRAME_HDR_LEN : end)) {
		ret = nc_chan_tx_copy(sk, t, t->sent,
				      paged ? NC_FRAME_HDR_LEN : end,
				      paged ? MSG_MORE : 0);
		if (ret < 0)
			return ret;
		t->sent += ret;
	}
	while (t->sent < end) {
		u32 done = t->sent - NC_FRAME_HDR_LEN;

		n = nc_skb_bvec(t->skb, t->off + done, t->len - done, bv,
				ARRAY_SIZE(bv), &bytes);
		if (n <= 0)
			return n ?: -EINVAL;
		msg.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL | MSG_SPLICE_PAGES;
		iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, n, bytes);
		ret = tcp_sendmsg_locked(sk, &msg, bytes);
		if (ret < 0)
			return ret;
		t->sent += ret;
	}
	return 0;
}

/*
 * A frame is all in TCP: the transmit twin of nc_chan_rx_count(). @fast:
 * the writer's sendmsg() sent it (nc_peer_push()).
 */
static void nc_chan_tx_count(struct nc_channel *ch, const struct nc_frame *f,
			     bool fast)
{
	trace_nc_frame_tx(ch->idx, f->type, f->src_id, f->dst_id, f->seq,
			  f->len, fast);
	WRITE_ONCE(ch->frames_tx, ch->frames_tx + 1);
	WRITE_ONCE(ch->bytes_tx, ch->bytes_tx + f->len);
	nc_stat_inc(ch->nn, NC_STAT_FRAMES_TX);
	nc_stat_add(ch->nn, NC_STAT_BYTES_TX, f->len);
}

/*
 * The HELLO of a channel we connected, before its callbacks are installed
 * (nothing else sends on it yet): blocking, copied.
 */
int nc_chan_send_hello(struct nc_channel *ch, const struct nc_frame *f,
		       const void *payload)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	u8 hdr[NC_FRAME_HDR_LEN];
	struct kvec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = f->len },
	};
	int ret;

	nc_frame_encode(f, hdr);
	ret = kernel_sendmsg(ch->sock, &msg, iov, 2, sizeof(hdr) + f->len);
	if (ret < 0)
		return ret;
	if (ret != sizeof(hdr) + f->len)
		return -EPIPE;	/* a blocking send stops short only on error */
	nc_chan_tx_count(ch, f, false);
	return 0;
}

/*
 * Take the next frame for @ch: a control frame, else the NetScheduler's,
 * if the channel's in-flight bound allows (else *@limited is set). The
 * bound is checked before a frame is bound, as BQL checks before a packet
 * is queued, so a channel holds at most its limit and one frame.
 */
static bool nc_chan_tx_next(struct nc_channel *ch, bool *limited)
{
	struct nc_tx_frame *t = &ch->tx;
	struct nc_sock *fin_nsk;
	struct sk_buff *skb;
	struct nc_frame f;
	u32 off;

	for (;;) {
		skb = NULL;
		fin_nsk = NULL;
		off = 0;
		if (nc_chan_ctrl_pop(ch, &f))
			break;
		/* a retiring channel takes no DATA, and nothing after RETIRE */
		if (READ_ONCE(ch->retire))
			return false;
		if (nc_chan_tx_limited(ch)) {
			*limited = true;
			return false;
		}
		if (!READ_ONCE(ch->peer) ||
		    !nc_peer_next_frame(ch->peer, ch, &f, &skb, &off, &fin_nsk))
			return false;
		/*
		 * A CLOSE goes behind the socket's ACCEPT on its home channel:
		 * a socket that closes at once must not overtake its ACCEPT.
		 */
		if (!fin_nsk || READ_ONCE(fin_nsk->home) == ch)
			break;
		nc_sock_queue_ctrl(fin_nsk,	/* fails only dying */
				   &fin_nsk->ctrl[NC_CTRL_CLOSE], &f);
		nc_sock_fin_sent(fin_nsk);
		sock_put(&fin_nsk->inet.sk);
	}
	if (f.type == NC_FT_DATA) {
		struct dql *dql = &ch->tx_dql;

		WRITE_ONCE(ch->last_used, jiffies);

		dql_queued(dql, nc_frame_wire_len(f.len));
		/*
		 * Ask for an ACK every half limit and with the last frame the
		 * limit lets go: the ACK of one half comes back while the
		 * other is in flight, so a channel at a bottleneck is not
		 * starved and its limit stays as small as the path allows.
		 */
		if (dql_avail(dql) < 0 ||
		    dql->num_queued - ch->tx_ackreq_at >= READ_ONCE(dql->limit) / 2) {
			f.flags |= NC_FF_ACKREQ;
			WRITE_ONCE(ch->tx_ackreq_at, dql->num_queued);
		}
	}
	t->f = f;
	nc_frame_encode(&f, t->hdr);
	t->skb = skb;
	t->off = off;
	t->len = f.len;
	t->sent = 0;
	t->fin_nsk = fin_nsk;
	t->busy = true;
	return true;
}

/* The current frame is all in TCP. */
static void nc_chan_tx_done(struct nc_channel *ch, bool fast)
{
	struct nc_tx_frame *t = &ch->tx;

	nc_chan_tx_count(ch, &t->f, fast);
	/* the acceptor's answer was its last frame: the channel is done */
	if (t->f.type == NC_FT_RETIRE && ch->peer && !ch->peer->initiator)
		nc_peer_retire_done(ch->peer, ch);
	/* TCP holds the pages; this frees the socket's send-buffer charge */
	consume_skb(t->skb);
	if (t->fin_nsk) {
		nc_sock_fin_sent(t->fin_nsk);
		sock_put(&t->fin_nsk->inet.sk);
	}
	t->skb = NULL;
	t->fin_nsk = NULL;
	t->busy = false;
}

/* Forget a frame that will never be sent: the channel is gone. */
void nc_chan_tx_drop(struct nc_channel *ch)
{
	struct nc_tx_frame *t = &ch->tx;

	if (!t->busy)
		return;
	kfree_skb(t->skb);
	if (t->fin_nsk)
		sock_put(&t->fin_nsk->inet.sk);
	t->skb = NULL;
	t->fin_nsk = NULL;
	t->busy = false;
}

/*
 * Late binding: a frame is bound to a channel (picked, and so taken from
 * the NetScheduler's order) only once the channel's TCP socket has room
 * for it under its notsent_lowat (net.netchannel.channel_queue), so what a
 * policy decides applies to the next frame, not after a queue drains. When
 * there is no room, SOCK_NOSPACE makes TCP call nc_chan_write_space() once
 * the unsent bytes fall to half of the limit. The socket is owned, so the
 * ACKs that free room wait in its backlog, which release_sock() processes
 * after the bit is set: no wakeup is lost.
 */
static bool nc_chan_tx_room(struct sock *sk)
{
	if (sk_stream_memory_free(sk))
		return true;
	set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
	return false;
}

/*
 * Send frames on @ch until TCP has no room, nothing is left, or @budget
 * frames went: 0 when nothing is left, -EAGAIN when TCP is full (a frame
 * it took only part of waits in @ch->tx, and nc_chan_write_space() brings
 * the work back; see nc_chan_tx_room()), -ENOBUFS when the channel is at
 * its in-flight limit (the peer's ACK brings the work back), 1 when the
 * budget ran out, another negative errno if the channel broke. Process
 * context; owns the channel socket's lock, and with it @ch->tx, meanwhile.
 */
static int nc_chan_tx_run(struct nc_channel *ch, int budget, bool fast)
{
	struct sock *sk = ch->sock->sk;
	bool limited = false;
	int ret = 0;

	lock_sock(sk);
	while (!atomic_read(&ch->dead)) {
		if (!budget--) {
			ret = 1;
			break;
		}
		if (!ch->tx.busy && !nc_chan_tx_room(sk)) {
			ret = -EAGAIN;
			break;
		}
		if (!ch->tx.busy && !nc_chan_tx_next(ch, &limited)) {
			if (limited)
				ret = -ENOBUFS;
			break;
		}
		ret = nc_chan_tx_push(ch);
		if (ret)
			break;
		nc_chan_tx_done(ch, fast);
	}
	/* before release_sock(): the write_space it may run clears it */
	WRITE_ONCE(ch->tx_full, ret == -EAGAIN);
	release_sock(sk);
	return ret;
}

/* What a run of the transmit path that ended with @ret leaves to do. */
static void nc_chan_tx_after(struct nc_channel *ch, int ret)
{
	struct nc_peer *peer = READ_ONCE(ch->peer);

	if (ret == 1) {
		queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
	} else if (ret == -EAGAIN || ret == -ENOBUFS) {
		if (ret == -ENOBUFS)
			nc_stat_inc(ch->nn, NC_STAT_TX_LIMITED);
		/* full: another channel with room takes what waits */
		if (peer && READ_ONCE(peer->nr_ready)) {
			if (READ_ONCE(peer->nr_open) > 1)
				nc_peer_kick(peer, NULL);
			else
				nc_peer_saturated(peer);
		}
	} else if (!ret && peer && !READ_ONCE(ch->retire)) {
		nc_peer_unsaturated(peer);
	} else if (ret && peer) {
		nc_peer_kill(peer, ECONNRESET);
	}
}

void nc_chan_tx_workfn(struct work_struct *work)
{
	struct nc_channel *ch = container_of(work, struct nc_channel, tx_work);

	nc_chan_tx_after(ch, nc_chan_tx_run(ch, NC_TX_BUDGET, false));
}

/*
 * The channel @nsk's next frame should go on (@first if it can take it,
 * else the next in turn of those its set allows; any for a NULL @nsk)
 * among those whose TCP socket has room and that are under their
 * in-flight limit, or NULL if none is: a full channel's write_space (or,
 * at its limit, the peer's ACK) wakes it, and it picks then. Kicking it
 * before would only make it find itself full again and kick the next one,
 * round and round. The caller holds @peer, and a peer's channels are freed
 * only with it (nc_peer_free_workfn()). Wakes one channel, not all: a
 * channel that fills up passes the work on to the next
 * (nc_chan_tx_after()), so more channels work only when one is not enough.
 */
static bool nc_peer_chan_usable(struct nc_peer *peer, struct nc_sock *nsk,
				struct nc_channel *ch)
{
	return ch && !nc_chan_gone(ch) && !READ_ONCE(ch->tx_full) &&
	       !nc_chan_tx_limited(ch) &&
	       (!nsk || nc_sched_chan_allowed(peer, nsk, ch->idx));
}

static struct nc_channel *nc_peer_tx_channel(struct nc_peer *peer,
					     struct nc_sock *nsk,
					     struct nc_channel *first)
{
	struct nc_channel *ch = NULL;
	int i;

	spin_lock_bh(&peer->lock);
	if (peer->state == NC_PEER_READY) {
		if (nc_peer_chan_usable(peer, nsk, first))
			ch = first;
		for (i = 0; !ch && i < peer->nr; i++) {
			ch = peer->ch[peer->rr++ % peer->nr];
			if (!nc_peer_chan_usable(peer, nsk, ch))
				ch = NULL;
		}
	}
	if (ch)
		refcount_inc(&ch->ref);	/* the caller's: nc_chan_put() */
	spin_unlock_bh(&peer->lock);
	return ch;
}

/* A picker lets go of @ch (see struct nc_channel's @ref). */
void nc_chan_put(struct nc_channel *ch)
{
	if (refcount_dec_and_test(&ch->ref))
		wake_up_var(&ch->ref);	/* the retire work waits for it */
}

/*
 * Frames wait for the channels: wake one (see nc_peer_tx_channel()); if
 * none can take them, the group may need another (nc_peer_saturated()).
 */
void nc_peer_kick(struct nc_peer *peer, struct nc_sock *nsk)
{
	struct nc_channel *ch = nc_peer_tx_channel(peer, nsk, NULL);

	if (ch) {
		queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
		nc_chan_put(ch);
	} else {
		nc_peer_saturated(peer);
	}
}

/*
 * The transmit fast path, from sendmsg() once @nsk queued frames after its
 * queue was empty: if no other socket waits on the peer (or @nsk has a set
 * of channels of its own, as priority gives class 0) and the channel's
 * work is not about to run, the writer sends them itself, as TCP's sendmsg
 * does: no work item, no wakeup. Otherwise it wakes one channel. A writer
 * that keeps its queue full (a bulk stream) leaves the sending to the
 * channel's work, which runs beside its next copy. The writer prefers the
 * socket's home channel, which the other end's socket shares: a request
 * and its answer then go on one TCP connection, whose ACKs ride on them.
 */
void nc_peer_push(struct nc_peer *peer, struct nc_sock *nsk)
{
	struct nc_channel *ch;

	if (READ_ONCE(peer->nr_ready) > 1 &&
	    READ_ONCE(nsk->chan_mask) == NETSCHED_CHANNELS_ALL) {
		nc_peer_kick(peer, nsk);
		return;
	}
	/* a home being retired is freed after a grace period */
	rcu_read_lock();
	ch = nc_peer_tx_channel(peer, nsk, READ_ONCE(nsk->home));
	rcu_read_unlock();
	if (!ch)
		return;
	if (work_pending(&ch->tx_work))
		queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
	else
		nc_chan_tx_after(ch, nc_chan_tx_run(ch, NC_TX_BUDGET, true));
	nc_chan_put(ch);
}
