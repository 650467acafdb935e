// SPDX-License-Identifier: GPL-2.0
/*
 * VNS, input: the frames a peer sends for a virtual socket (OPEN, ACCEPT,
 * DATA, CREDIT, CLOSE, RESET), from the channel's data_ready (softirq) or
 * its receive work: in-order delivery, the out-of-order queue, credit.
 */
#include <net/proto_memory.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "netchannel.h"
#include "nc_sock.h"
#include "nc_trace.h"

/* The destructor of a frame nc_sock_rmem_charge() took past its memcg. */
static void nc_sock_rfree_forced(struct sk_buff *skb)
{
	struct sock *sk = skb->sk;

	atomic_sub(skb->truesize, &sk->sk_rmem_alloc);
	sk_memory_allocated_sub(sk, sk_mem_pages(skb->truesize));
}

/*
 * Charge a received frame to its socket (sk_rmem_alloc) and to the
 * protocol (nc_prot's memory_allocated), under nsk->lock, which serialises
 * sk_forward_alloc: every receive skb of a socket is charged and uncharged
 * under it (nc_recv_consume() orphans them there). The frame came within
 * its credit, so it is never refused: past the hard limit it is charged
 * all the same, as TCP's sk_forced_mem_schedule() does, and the pressure
 * shrinks the windows (nc_sock_credit()). A socket in a memcg cannot be
 * forced past it (a module cannot charge a memcg without its limit): such
 * a frame is counted in memory_allocated with a destructor of its own, and
 * not in the memcg.
 */
static void nc_sock_rmem_charge(struct nc_sock *nsk, struct sk_buff *skb)
{
	struct sock *sk = &nsk->inet.sk;
	int delta, amt;

	if (likely(sk_rmem_schedule(sk, skb, skb->truesize))) {
		skb_set_owner_r(skb, sk);
		return;
	}
	nc_stat_inc(nsk->nn, NC_STAT_RMEM_FORCED);
	if (!mem_cgroup_sk_enabled(sk)) {
		delta = skb->truesize - sk->sk_forward_alloc;
		amt = sk_mem_pages(delta);
		sk_forward_alloc_add(sk, amt << PAGE_SHIFT);
		sk_memory_allocated_add(sk, amt);
		skb_set_owner_r(skb, sk);
		return;
	}
	skb_orphan(skb);
	skb->sk = sk;
	skb->destructor = nc_sock_rfree_forced;
	atomic_add(skb->truesize, &sk->sk_rmem_alloc);
	sk_memory_allocated_add(sk, sk_mem_pages(skb->truesize));
}

/* In-order delivery: queue, then pull what the out-of-order queue holds. */
static void nc_sock_deliver_locked(struct nc_sock *nsk, struct sk_buff *skb)
{
	struct sock *sk = &nsk->inet.sk;

	for (;;) {
		NC_SKB_CB(skb)->off = 0;
		__skb_queue_tail(&sk->sk_receive_queue, skb);
		WRITE_ONCE(nsk->rcv_bytes, nsk->rcv_bytes + skb->len);
		nsk->bytes_received += skb->len;
		nsk->rcv_nxt++;
		skb = skb_rb_first(&nsk->ooo);
		if (!skb || NC_SKB_CB(skb)->seq != nsk->rcv_nxt)
			break;
		rb_erase(&skb->rbnode, &nsk->ooo);
		if (skb == nsk->ooo_last)
			nsk->ooo_last = NULL;
	}
}

/*
 * Returns false if @skb's seq is already queued (a protocol error). After
 * the last one is the common case, O(1); anywhere else O(log n), n at most
 * a window's worth of frames (rcv_window / NC_FRAME_MIN_COST).
 */
static bool nc_sock_ooo_insert_locked(struct nc_sock *nsk, struct sk_buff *skb)
{
	u32 seq = NC_SKB_CB(skb)->seq, pos_seq;
	struct rb_node **p, *parent = NULL;
	struct sk_buff *pos;

	if (nsk->ooo_last &&
	    nc_seq_before(NC_SKB_CB(nsk->ooo_last)->seq, seq)) {
		parent = &nsk->ooo_last->rbnode;
		p = &parent->rb_right;
		goto insert;
	}
	p = &nsk->ooo.rb_node;
	while (*p) {
		parent = *p;
		pos = rb_to_skb(parent);
		pos_seq = NC_SKB_CB(pos)->seq;
		if (pos_seq == seq)
			return false;
		p = nc_seq_before(seq, pos_seq) ? &parent->rb_left :
						  &parent->rb_right;
	}
insert:
	rb_link_node(&skb->rbnode, parent, p);
	rb_insert_color(&skb->rbnode, &nsk->ooo);
	if (!nsk->ooo_last ||
	    nc_seq_before(NC_SKB_CB(nsk->ooo_last)->seq, seq))
		nsk->ooo_last = skb;
	return true;
}

/* The peer's CLOSE takes effect once everything before it has arrived. */
static void nc_sock_check_fin_locked(struct nc_sock *nsk)
{
	struct sock *sk = &nsk->inet.sk;

	if (!nsk->fin_rcvd || nsk->rcv_nxt != nsk->fin_seq || nsk->eof)
		return;
	nsk->eof = true;
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
	if (sk->sk_state == TCP_ESTABLISHED)
		inet_sk_set_state(sk, TCP_CLOSE_WAIT);
	else if (nsk->fin_done)	/* else nc_sock_fin_sent() closes it */
		inet_sk_set_state(sk, TCP_CLOSE);
	sk->sk_state_change(sk);
}

/*
 * A DATA frame for @nsk, under nsk->lock. Sets *@wake if the reader has
 * something new, *@flush if the peer is short of credit while some is due
 * (see nc_sock_credit_flush()).
 */
static enum nc_stat nc_sock_rx_data(struct nc_sock *nsk,
				    const struct nc_frame *f,
				    struct sk_buff *skb, bool *wake,
				    bool *flush)
{
	struct sock *sk = &nsk->inet.sk;

	if (f->src_id != nsk->remote_id)
		return NC_STAT_ERR_UNKNOWN_SOCKET;
	if (!nc_sk_connected(sk)) {
		/* closed here while it was in flight: drop it */
		nc_stat_inc(nsk->nn, NC_STAT_STALE_FRAMES);
		kfree_skb(skb);
		return NC_STAT_MAX;
	}
	if (nsk->fin_rcvd && !nc_seq_before(f->seq, nsk->fin_seq))
		return NC_STAT_ERR_STATE;
	/* credit lets at most one frame per NC_FRAME_MIN_COST be in flight */
	if (!nc_seq_in_window(nsk->rcv_nxt, f->seq,
			      nsk->rcv_window / NC_FRAME_MIN_COST))
		return NC_STAT_ERR_SEQ_WINDOW;
	nsk->rcv_budget -= nc_frame_cost(f->len);
	if (nsk->rcv_budget < 0)
		return NC_STAT_ERR_CREDIT;
	*flush = READ_ONCE(nsk->credit_due) &&
		 nsk->rcv_budget - READ_ONCE(nsk->credit_due) <
		 nsk->rcv_clamp / 2;
	/*
	 * Within its credit a peer's frames take at most about twice the
	 * window (see NC_RX_COPYBREAK); past four times, it split them into
	 * slivers on purpose.
	 */
	if (atomic_read(&sk->sk_rmem_alloc) + skb->truesize >
	    4 * (u64)nsk->rcv_window)
		return NC_STAT_ERR_RMEM;
	NC_SKB_CB(skb)->seq = f->seq;
	/* in order or not, it is the socket's memory (sk_rmem_alloc) now */
	nc_sock_rmem_charge(nsk, skb);
	if (f->seq == nsk->rcv_nxt) {
		nc_sock_deliver_locked(nsk, skb);
		nc_sock_check_fin_locked(nsk);
		*wake = true;
	} else if (!nc_sock_ooo_insert_locked(nsk, skb)) {
		skb_orphan(skb);	/* uncharged under the lock */
		return NC_STAT_ERR_SEQ_WINDOW;
	}
	return NC_STAT_MAX;	/* fine */
}

/* A CREDIT frame, or a DATA frame's credit (NC_FF_CREDIT). */
static enum nc_stat nc_sock_rx_credit(struct nc_sock *nsk,
				      const struct nc_frame *f)
{
	struct nc_peer *peer = nsk->peer;
	enum nc_stat ret = NC_STAT_MAX;
	bool ready = false;

	if (f->src_id != nsk->remote_id)
		return NC_STAT_ERR_UNKNOWN_SOCKET;
	trace_nc_credit(nsk->id, f->arg, true);
	spin_lock_bh(&peer->lock);
	/*
	 * Credit beyond INT_MAX is a protocol error. It is never taken: the
	 * peer dies asynchronously, and meanwhile a channel could send on it.
	 */
	if (nsk->snd_credit + f->arg > INT_MAX) {
		ret = NC_STAT_ERR_CREDIT;
	} else {
		nsk->snd_credit += f->arg;
		/* the first is the window; the rest, consumed bytes */
		if (!nsk->snd_window)
			nsk->snd_window = f->arg;
		ready = nc_sock_tx_ready_locked(nsk);
	}
	spin_unlock_bh(&peer->lock);
	/* a channel's work only if there is something to send */
	if (ready)
		nc_peer_kick(peer, nsk);
	return ret;
}

/*
 * The error a RESET from the peer gives the socket (negative): one TCP
 * would report. The peer says why in the frame's arg; anything else (an
 * errno of the kernel's own, such as ERESTARTSYS, or garbage) reads as
 * ECONNRESET.
 */
static int nc_reset_errno(u32 arg)
{
	switch (arg) {
	case ECONNREFUSED:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
		return -(int)arg;
	default:
		return -ECONNRESET;
	}
}

/*
 * A frame for @nsk, which holds a reference. Consumes @skb and returns
 * true; or, when @can_sleep is false (the receive fast path, see
 * nc_chan_rx_fast()) and the frame needs process context, does nothing and
 * returns false.
 */
bool nc_sock_rx_frame(struct nc_channel *ch, struct nc_sock *nsk,
		      const struct nc_frame *f, struct sk_buff *skb,
		      bool can_sleep)
{
	struct sock *sk = &nsk->inet.sk;
	enum nc_stat err = NC_STAT_MAX;
	bool wake = false, flush = false;

	/*
	 * A connect given up before the peer's ACCEPT came: what follows the
	 * ACCEPT (its CREDIT, the peer's answer to our RESET) is stale.
	 */
	if (f->type != NC_FT_ACCEPT && !READ_ONCE(nsk->remote_id) &&
	    READ_ONCE(sk->sk_state) == TCP_CLOSE) {
		nc_stat_inc(nsk->nn, NC_STAT_STALE_FRAMES);
		kfree_skb(skb);
		return true;
	}

	switch (f->type) {
	case NC_FT_ACCEPT:
		spin_lock_bh(&nsk->lock);
		if (sk->sk_state == TCP_SYN_SENT) {
			nsk->remote_id = f->src_id;
			nsk->rcv_budget = nsk->rcv_window;
			inet_sk_set_state(sk, TCP_ESTABLISHED);
			wake = true;
		} else if (sk->sk_state != TCP_CLOSE || nsk->remote_id) {
			err = NC_STAT_ERR_STATE;
		}
		spin_unlock_bh(&nsk->lock);
		if (!wake && err == NC_STAT_MAX) {
			/* our connect was given up: as TCP's RST to a SYN-ACK */
			struct nc_frame r = {
				.type = NC_FT_RESET, .src_id = nsk->id,
				.dst_id = f->src_id, .arg = ECONNRESET,
			};

			nc_stat_inc(nsk->nn, NC_STAT_STALE_FRAMES);
			nc_chan_send_ctrl(ch, &r);
		}
		if (wake) {
			nc_send_ctrl(nsk, NC_CTRL_CREDIT, nsk->rcv_window);
			sk->sk_state_change(sk);
			sk->sk_write_space(sk);
		}
		break;
	case NC_FT_DATA:
		if (sock_flag(sk, SOCK_DEAD)) {
			if (!can_sleep)
				return false;
			/* as TCP: data for a socket the user closed gets RST */
			nc_sock_abort(nsk, ECONNRESET);
			break;
		}
		if (f->flags & NC_FF_CREDIT) {
			err = nc_sock_rx_credit(nsk, f);
			if (err != NC_STAT_MAX)
				break;
		}
		spin_lock_bh(&nsk->lock);
		err = nc_sock_rx_data(nsk, f, skb, &wake, &flush);
		spin_unlock_bh(&nsk->lock);
		if (err == NC_STAT_MAX)
			skb = NULL;	/* queued or dropped */
		if (wake)
			sk->sk_data_ready(sk);
		if (flush)
			nc_sock_credit_flush(nsk);
		break;
	case NC_FT_CREDIT:
		err = nc_sock_rx_credit(nsk, f);
		break;
	case NC_FT_CLOSE:
		spin_lock_bh(&nsk->lock);
		if (f->src_id != nsk->remote_id) {
			err = NC_STAT_ERR_UNKNOWN_SOCKET;
		} else if (!nc_sk_connected(sk)) {
			nc_stat_inc(nsk->nn, NC_STAT_STALE_FRAMES);
		} else if (nsk->fin_rcvd || nc_seq_before(f->seq, nsk->rcv_nxt)) {
			err = NC_STAT_ERR_STATE;
		} else {
			nsk->fin_rcvd = true;
			nsk->fin_seq = f->seq;
			nc_sock_check_fin_locked(nsk);
		}
		spin_unlock_bh(&nsk->lock);
		sk->sk_data_ready(sk);
		break;
	case NC_FT_RESET:
		/* a refusal of our OPEN comes before we know the remote id */
		if (f->src_id == nsk->remote_id ||
		    (!f->src_id && sk->sk_state == TCP_SYN_SENT))
			nc_sock_reset(nsk, -nc_reset_errno(f->arg));
		else
			err = NC_STAT_ERR_UNKNOWN_SOCKET;
		break;
	default:
		err = NC_STAT_ERR_BAD_TYPE;
		break;
	}
	kfree_skb(skb);
	if (err != NC_STAT_MAX)
		nc_chan_proto_error(ch, err, "%s for socket %u refused (%s)",
				    nc_frame_type_str(f->type), nsk->id,
				    nc_stat_names[err]);
	return true;
}
