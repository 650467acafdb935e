// SPDX-License-Identifier: GPL-2.0
/*
 * VNS, data: sendmsg() cuts a write into the socket's send queue for the
 * NetScheduler; recvmsg() copies what arrived to the reader (inline or with
 * the VNS copy workers, nc_vns.c) and credits it back to the sender.
 */
#include <linux/sched/signal.h>
#include <net/proto_memory.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "netchannel.h"
#include "nc_sock.h"
#include "nc_trace.h"

static int nc_send_error(struct sock *sk, int flags, int err)
{
	if (err == -EPIPE && !(flags & MSG_NOSIGNAL))
		send_sig(SIGPIPE, current, 0);
	return err;
}

/*
 * An skb for @len bytes of a write, charged to the send buffer: linear up
 * to NC_TX_COPYBREAK (the channel copies it into TCP), paged above (the
 * channel hands the pages to TCP). Its length is set; the data is not.
 * A @corked one has room for NC_TX_COPYBREAK, for the writes that follow.
 */
static struct sk_buff *nc_tx_skb_alloc(struct sock *sk, size_t len,
				       bool corked, bool noblock, int *err)
{
	struct sk_buff *skb;

	if (len <= NC_TX_COPYBREAK) {
		skb = sock_alloc_send_skb(sk, corked ? NC_TX_COPYBREAK : len,
					  noblock, err);
		if (skb)
			skb_put(skb, len);
		return skb;
	}
	skb = sock_alloc_send_pskb(sk, 0, len, noblock, err,
				   PAGE_ALLOC_COSTLY_ORDER);
	if (skb) {
		skb->data_len = len;
		skb->len = len;
	}
	return skb;
}

/*
 * MSG_SPLICE_PAGES (sendfile, splice to the socket): an skb that holds
 * references to up to @len bytes of @iter's pages, no copy, charged to the
 * send buffer like a copied one. The channel hands the same pages to TCP.
 * Returns the skb with the bytes it took (fewer than @len once its frags
 * are full), NULL with *@err set.
 */
/*
 * Corked: what fits of the linear @skb goes into the room of the held last
 * skb of the queue, so that small writes make full frames. Returns whether
 * all of @skb went (the caller frees it). peer->lock held.
 */
static bool nc_tx_skb_append(struct nc_sock *nsk, struct sk_buff *skb)
{
	struct sk_buff *tail = skb_peek_tail(&nsk->txq);
	u32 room;

	if (!nsk->tx_corked || !tail || skb_is_nonlinear(tail) ||
	    skb_is_nonlinear(skb))
		return false;
	room = min_t(u32, skb_tailroom(tail), NC_TX_COPYBREAK - tail->len);
	room = min(room, skb->len);
	if (!room)
		return false;
	skb_put_data(tail, skb->data, room);
	__skb_pull(skb, room);
	return !skb->len;
}

static struct sk_buff *nc_tx_skb_splice(struct sock *sk, struct iov_iter *iter,
					size_t len, bool noblock, int *err)
{
	struct sk_buff *skb;
	ssize_t n;

	skb = sock_alloc_send_pskb(sk, 0, 0, noblock, err, 0);
	if (!skb)
		return NULL;
	/* no checksum to fold as the pages go in: TCP computes its own */
	skb->ip_summed = CHECKSUM_PARTIAL;
	/* charged again below with the pages' bytes (skb_len_add()) */
	skb_orphan(skb);
	n = skb_splice_from_iter(skb, iter, len, sk->sk_allocation);
	if (n <= 0) {
		kfree_skb(skb);
		*err = n ?: -EIO;
		return NULL;
	}
	skb_set_owner_w(skb, sk);
	nc_stat_add(nc_sk(sk)->nn, NC_STAT_TX_SPLICED, n);
	return skb;
}

int nc_sendmsg(struct socket *sock, struct msghdr *msg, size_t size)
{
	struct socket *fb;
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	int flags = msg->msg_flags, err = 0;
	bool noblock = flags & MSG_DONTWAIT;
	u64 queued_ns = ktime_get_ns();
	struct nc_peer *peer;
	struct sk_buff *skb;
	size_t copied = 0;
	bool vns, idle, splice, corked, ready;
	long timeo;

	fb = nc_fb(sk);
	if (unlikely(fb))
		return fb->ops->sendmsg(fb, msg, size);

	if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_EOR |
		      MSG_WAITALL | MSG_CMSG_COMPAT | MSG_SPLICE_PAGES))
		return -EOPNOTSUPP;
	/* pages by reference where they can go by reference: into paged skbs */
	splice = (flags & MSG_SPLICE_PAGES) &&
		 iov_iter_is_bvec(&msg->msg_iter);
	/* as TCP: MSG_MORE corks this write, TCP_CORK every write */
	corked = (flags & MSG_MORE) || READ_ONCE(nsk->opt.cork);
	if (mutex_lock_interruptible(&nsk->send_mutex))
		return -ERESTARTSYS;

	timeo = sock_sndtimeo(sk, noblock);
	if (READ_ONCE(sk->sk_state) == TCP_SYN_SENT) {
		err = nc_wait(sk, &timeo, nc_connect_done, false);
		if (err)
			goto out;
	}
	peer = nsk->peer;
	err = sock_error(sk);
	if (err) {
		err = nc_send_error(sk, flags, err);
		goto out;
	}
	if (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) {
		err = nc_send_error(sk, flags, -EPIPE);
		goto out;
	}
	if (!nc_sk_connected(sk) || !peer) {
		err = -ENOTCONN;
		goto out;
	}

	/*
	 * Cut the write into skbs of up to the largest frame (a frame may
	 * take part of one: nc_peer_frame_size()). Large writes are copied
	 * by the VNS workers, a batch of skbs at a time; small ones inline.
	 */
	vns = nc_vns_use(nsk->nn, &msg->msg_iter, size);
	while (copied < size) {
		struct sk_buff *batch[NC_VNS_BATCH];
		struct nc_vns_batch *b = NULL;
		size_t batched = 0;
		int n = 0, i, ret = 0;

		if (vns)
			b = nc_vns_batch_new(nsk->nn, sk);
		do {
			size_t chunk = min_t(size_t, size - copied - batched,
					     NC_FRAME_MAX_PAYLOAD);
			void __user *ua = NULL;

			if (b && iter_iov_len(&msg->msg_iter)) {
				chunk = min(chunk, iter_iov_len(&msg->msg_iter));
				ua = iter_iov_addr(&msg->msg_iter);
			}
			/*
			 * Paged: the channel splices the pages into TCP, so
			 * this is the only copy, and spliced pages are not
			 * copied at all. Small writes are linear (a page,
			 * zeroed, costs more than TCP's copy of them). Only
			 * a batch's first skb may wait for buffer space.
			 */
			if (splice && chunk > NC_TX_COPYBREAK) {
				skb = nc_tx_skb_splice(sk, &msg->msg_iter,
						       chunk, noblock || n,
						       &err);
				if (!skb)
					break;
				chunk = skb->len;
			} else {
				skb = nc_tx_skb_alloc(sk, chunk, corked,
						      noblock || n, &err);
				if (!skb)
					break;
				if (ua) {
					ret = nc_vns_copy(b, skb, 0, ua, chunk,
							  false);
					iov_iter_advance(&msg->msg_iter, chunk);
				} else if (skb_copy_datagram_from_iter(skb, 0,
								       &msg->msg_iter,
								       chunk)) {
					ret = -EFAULT;
				}
			}
			NC_TX_CB(skb)->queued_ns = queued_ns;
			NC_TX_CB(skb)->msg_bytes = min_t(size_t, size, U32_MAX);
			batch[n++] = skb;
			batched += chunk;
		} while (!ret && b && n < NC_VNS_BATCH && copied + batched < size);
		if (b) {
			int werr = nc_vns_wait(b);

			ret = ret ?: werr;
		}
		if (ret) {
			for (i = 0; i < n; i++)
				kfree_skb(batch[i]);
			err = ret;
			break;
		}
		if (!n)
			break;

		spin_lock_bh(&peer->lock);
		if (peer->state == NC_PEER_DEAD || atomic_read(&nsk->unlinked) ||
		    nsk->fin_queued) {
			spin_unlock_bh(&peer->lock);
			for (i = 0; i < n; i++)
				kfree_skb(batch[i]);
			err = sock_error(sk) ?: -EPIPE;
			break;
		}
		/* nothing queued before: send it from here (nc_peer_push()) */
		idle = skb_queue_empty(&nsk->txq);
		for (i = 0; i < n; i++) {
			if (nc_tx_skb_append(nsk, batch[i]))
				kfree_skb(batch[i]);
			else
				__skb_queue_tail(&nsk->txq, batch[i]);
		}
		nsk->tx_bytes += batched;
		/* the ceiling counts from the first byte held */
		if (corked && !nsk->tx_corked &&
		    !timer_pending(&nsk->cork_timer))
			sk_reset_timer(sk, &nsk->cork_timer,
				       jiffies + NC_CORK_TIMEOUT);
		nsk->tx_corked = corked;
		ready = nc_sock_tx_ready_locked(nsk);
		spin_unlock_bh(&peer->lock);
		copied += batched;
		if (ready && idle)
			nc_peer_push(peer, nsk);
		else if (ready)
			nc_peer_kick(peer, nsk);
		/* a batch cut short by buffer space: the next one may wait */
		if (!skb && !(err == -EAGAIN && !noblock && n))
			break;
		err = 0;
	}
	if (copied)
		err = copied;
	else
		err = nc_send_error(sk, flags, err);
out:
	mutex_unlock(&nsk->send_mutex);
	return err;
}

/*
 * Send the credit due (@credit_due) in a CREDIT frame once it is a quarter
 * of the window, or if the peer holds less than half the window without
 * it; else it waits for a DATA frame of ours to carry it
 * (nc_peer_next_frame()), and the peer's next frames call this again as
 * they use up what it holds (nc_sock_rx_data()). So a request's answer
 * carries the credit its reading returned, and a stream that flows one way
 * gets a CREDIT per quarter window, as before the credit could ride on
 * DATA: the peer keeps three quarters of the window or more.
 */
static u32 nc_sock_credit_take_locked(struct nc_sock *nsk)
{
	u32 due = nsk->credit_due;

	lockdep_assert_held(&nsk->lock);
	lockdep_assert_held(&nsk->peer->lock);
	if (!due || (due < nsk->rcv_clamp / 4 &&
		     nsk->rcv_budget - due >= nsk->rcv_clamp / 2))
		return 0;
	nsk->credit_due = 0;
	return due;
}

static void nc_sock_credit_send(struct nc_sock *nsk, u32 due)
{
	if (due && nc_sk_connected(&nsk->inet.sk))
		nc_send_ctrl(nsk, NC_CTRL_CREDIT, due);
}

/* The peer used up part of what it holds: send the credit due, if it is time. */
void nc_sock_credit_flush(struct nc_sock *nsk)
{
	struct nc_peer *peer = nsk->peer;
	u32 due;

	if (!peer)
		return;
	spin_lock_bh(&nsk->lock);
	spin_lock(&peer->lock);
	due = nc_sock_credit_take_locked(nsk);
	spin_unlock(&peer->lock);
	spin_unlock_bh(&nsk->lock);
	nc_sock_credit_send(nsk, due);
}

/*
 * Credit back what the reader consumed, once it is worth a frame: as much
 * as keeps the window in use (@rcv_clamp) full. What the peer may send
 * plus what waits here is always @rcv_window - @rcv_unacked. Under the
 * protocol's memory pressure (or the socket's memcg's) the window shrinks
 * to NC_RMEM_PRESSURE_WINDOW: credit is held back until the peer and the
 * queue hold less than that, and afterwards the window grows back by the
 * credit it gives, so at most doubling per window as TCP's slow start: the
 * held-back credit of many sockets does not return in one burst and bring
 * the pressure straight back. (A fixed step per credit regrew it 64 KiB
 * for each 16 KiB a slow reader took, and 16 sockets overshot the limit by
 * MiBs before the pressure came back: test_flow's test_memory_pressure on
 * the debug kernel.) The peer always keeps
 * enough credit for a frame or its bytes are queued here, so no socket
 * stalls for good.
 */
static void nc_sock_credit(struct nc_sock *nsk, u32 consumed)
{
	struct sock *sk = &nsk->inet.sk;
	struct nc_peer *peer = nsk->peer;
	u32 credit = 0, due = 0, used;
	bool pressure;

	spin_lock_bh(&nsk->lock);
	nsk->rcv_unacked += consumed;
	pressure = sk_under_memory_pressure(sk);
	if (pressure)
		nsk->rcv_clamp = min3(nsk->rcv_clamp, nsk->rcv_window,
				      (u32)NC_RMEM_PRESSURE_WINDOW);
	used = nsk->rcv_window - nsk->rcv_unacked;
	if (nsk->rcv_clamp > used &&
	    nsk->rcv_clamp - used >= nsk->rcv_clamp / 16) {
		credit = min(nsk->rcv_unacked, nsk->rcv_clamp - used);
		if (credit < nsk->rcv_unacked)
			nc_stat_inc(nsk->nn, NC_STAT_RMEM_PRESSURE);
		if (!pressure)
			nsk->rcv_clamp = min(nsk->rcv_window,
					     nsk->rcv_clamp + credit);
		nsk->rcv_budget += credit;
		nsk->rcv_unacked -= credit;
		if (peer) {
			spin_lock(&peer->lock);
			nsk->credit_due += credit;
			due = nc_sock_credit_take_locked(nsk);
			spin_unlock(&peer->lock);
		}
	}
	spin_unlock_bh(&nsk->lock);
	if (credit)
		trace_nc_credit(nsk->id, credit, false);
	nc_sock_credit_send(nsk, due);
}

/* The reader took @bytes from the head of the receive queue. */
static void nc_recv_consume(struct nc_sock *nsk, size_t bytes)
{
	struct sock *sk = &nsk->inet.sk;
	struct sk_buff_head done;
	struct sk_buff *skb;
	size_t total = bytes;
	u32 n, extra = 0;

	__skb_queue_head_init(&done);
	spin_lock_bh(&nsk->lock);
	while (bytes && (skb = skb_peek(&sk->sk_receive_queue))) {
		n = min_t(size_t, skb->len - NC_SKB_CB(skb)->off, bytes);
		NC_SKB_CB(skb)->off += n;
		bytes -= n;
		if (NC_SKB_CB(skb)->off == skb->len) {
			__skb_unlink(skb, &sk->sk_receive_queue);
			/* uncharged under the lock: nc_sock_rmem_charge() */
			skb_orphan(skb);
			__skb_queue_tail(&done, skb);
			/* a short frame used more credit than its bytes */
			extra += nc_frame_cost(skb->len) - skb->len;
		}
	}
	WRITE_ONCE(nsk->rcv_bytes, nsk->rcv_bytes - (total - bytes));
	spin_unlock_bh(&nsk->lock);
	__skb_queue_purge(&done);
	nc_sock_credit(nsk, total + extra);
}

/*
 * Copy up to @want queued bytes to the reader with the VNS workers. Only
 * readers unlink skbs and recv_mutex makes us the only one, so the skbs we
 * walk stay while the workers copy. Returns bytes copied or -EFAULT.
 */
static int nc_recv_vns(struct nc_sock *nsk, struct msghdr *msg, size_t want)
{
	struct sock *sk = &nsk->inet.sk;
	struct nc_vns_batch *b;
	struct sk_buff *skb;
	size_t done = 0, n;
	int err, werr;
	u32 off;

	b = nc_vns_batch_new(nsk->nn, sk);
	if (!b)
		return 0;	/* the caller copies inline */
	spin_lock_bh(&nsk->lock);
	skb = skb_peek(&sk->sk_receive_queue);
	off = skb ? NC_SKB_CB(skb)->off : 0;
	spin_unlock_bh(&nsk->lock);
	err = 0;
	while (skb && done < want && !nc_vns_full(b)) {
		n = min3((size_t)(skb->len - off), want - done,
			 iter_iov_len(&msg->msg_iter));
		if (!n)
			break;
		err = nc_vns_copy(b, skb, off, iter_iov_addr(&msg->msg_iter),
				  n, true);
		if (err)
			break;
		iov_iter_advance(&msg->msg_iter, n);
		done += n;
		off += n;
		if (off == skb->len) {
			spin_lock_bh(&nsk->lock);
			skb = skb_peek_next(skb, &sk->sk_receive_queue);
			spin_unlock_bh(&nsk->lock);
			off = 0;
		}
	}
	werr = nc_vns_wait(b);
	err = err ?: werr;
	if (err)
		return err;
	nc_recv_consume(nsk, done);
	return done;
}

/*
 * More to read than the reader saw: a MSG_PEEK read that wants more
 * (MSG_WAITALL, SO_RCVLOWAT) has seen all that is queued, and waits for
 * new bytes, not for a non-empty queue.
 */
static bool nc_rx_wakeup(struct sock *sk)
{
	struct nc_sock *nsk = nc_sk(sk);

	return READ_ONCE(nsk->rcv_bytes) > nsk->rcv_seen ||
	       READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
	       READ_ONCE(sk->sk_state) == TCP_CLOSE;
}

/* No more to read: the error for a reader that has nothing, else 1 (EOF). */
static int nc_recv_end(struct sock *sk, size_t copied)
{
	int err = !copied && READ_ONCE(sk->sk_err) ? sock_error(sk) : 0;

	return err ?: 1;
}

/*
 * Nothing (more) to read: wait for bytes past the @seen the reader already
 * saw, or say why none will come. 0: look again; 1: end of stream; < 0 the
 * error (-EAGAIN once @timeo ran out). A reader that has bytes (@copied)
 * returns them and leaves an error for its next call. recv_mutex held.
 */
static int nc_recv_wait(struct sock *sk, size_t copied, u64 seen, long *timeo)
{
	struct nc_sock *nsk = nc_sk(sk);

	if (READ_ONCE(sk->sk_err))
		return nc_recv_end(sk, copied);
	if (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) {
		/*
		 * A reset sets sk_err before sk_shutdown: one that came
		 * since we looked at sk_err is an error, not EOF.
		 */
		smp_rmb();
		return nc_recv_end(sk, copied);
	}
	if (READ_ONCE(sk->sk_state) == TCP_CLOSE) {
		/*
		 * A reset may have come since we looked at sk_err and
		 * sk_shutdown: it set both before the state.
		 */
		smp_rmb();
		if (!nsk->peer)
			return -ENOTCONN;	/* never connected */
		return nc_recv_end(sk, copied);
	}
	nsk->rcv_seen = seen;
	return nc_wait(sk, timeo, nc_rx_wakeup, false);
}

int nc_recvmsg(struct socket *sock, struct msghdr *msg, size_t size,
	       int flags)
{
	struct socket *fb;
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	bool peek = flags & MSG_PEEK;
	size_t copied = 0, target;
	struct sk_buff *skb;
	u32 off, n, skipped;
	int err = 0, ret;
	long timeo;
	bool vns;

	fb = nc_fb(sk);
	if (unlikely(fb))
		return fb->ops->recvmsg(fb, msg, size, flags);

	if (flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_WAITALL | MSG_TRUNC |
		      MSG_NOSIGNAL | MSG_CMSG_COMPAT))
		return -EOPNOTSUPP;
	if (READ_ONCE(sk->sk_state) == TCP_LISTEN)
		return -ENOTCONN;
	if (mutex_lock_interruptible(&nsk->recv_mutex))
		return -ERESTARTSYS;

	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, size);
	vns = !peek && !(flags & MSG_TRUNC) &&
	      nc_vns_use(nsk->nn, &msg->msg_iter, size);
	while (copied < size) {
		/* find the next unread byte (past what a peek already saw) */
		spin_lock_bh(&nsk->lock);
		skipped = 0;
		skb_queue_walk(&sk->sk_receive_queue, skb) {
			u32 avail = skb->len - NC_SKB_CB(skb)->off;

			if (!peek || skipped + avail > copied)
				break;
			skipped += avail;
		}
		if (skb == (struct sk_buff *)&sk->sk_receive_queue)
			skb = NULL;
		spin_unlock_bh(&nsk->lock);

		if (skb && vns && READ_ONCE(nsk->rcv_bytes) >=
			   READ_ONCE(nsk->nn->copy_threshold)) {
			ret = nc_recv_vns(nsk, msg, size - copied);
			if (ret < 0) {
				err = ret;
				break;
			}
			copied += ret;
			/* 0: an empty iovec segment; the inline copy skips it */
			if (ret)
				continue;
		}
		if (skb) {
			off = NC_SKB_CB(skb)->off + (peek ? copied - skipped : 0);
			n = min_t(size_t, skb->len - off, size - copied);
			/*
			 * Only readers unlink from the head, and recv_mutex
			 * makes us the only reader: @skb stays.
			 */
			if (!(flags & MSG_TRUNC) &&
			    skb_copy_datagram_iter(skb, off, &msg->msg_iter, n)) {
				err = -EFAULT;
				break;
			}
			copied += n;
			if (!peek)
				nc_recv_consume(nsk, n);
			continue;
		}
		if (copied >= target)
			break;
		ret = nc_recv_wait(sk, copied, peek ? copied : 0, &timeo);
		if (ret) {
			err = min(ret, 0);
			break;
		}
	}
	mutex_unlock(&nsk->recv_mutex);
	if (copied)
		return copied;
	return err;
}

/*
 * splice() from the socket: the queued frames' pages go into the pipe by
 * reference (skb_splice_bits() copies only their linear part), as much as
 * is queued up to @len and the pipe's room. Waits only while nothing is
 * queued, as TCP's splice_read does: O_NONBLOCK on the socket or its
 * SO_RCVTIMEO bound the wait, SPLICE_F_NONBLOCK only the pipe's.
 */
ssize_t nc_splice_read(struct socket *sock, loff_t *ppos,
		       struct pipe_inode_info *pipe, size_t len,
		       unsigned int flags)
{
	struct socket *fb;
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	struct sk_buff *skb;
	ssize_t spliced = 0;
	int ret = 0;
	long timeo;
	u32 off, n;

	fb = nc_fb(sk);
	if (unlikely(fb))
		return fb->ops->splice_read(fb, ppos, pipe, len, flags);

	if (READ_ONCE(sk->sk_state) == TCP_LISTEN)
		return -ENOTCONN;
	if (mutex_lock_interruptible(&nsk->recv_mutex))
		return -ERESTARTSYS;
	timeo = sock_rcvtimeo(sk, sock->file->f_flags & O_NONBLOCK);
	while (spliced < len) {
		spin_lock_bh(&nsk->lock);
		skb = skb_peek(&sk->sk_receive_queue);
		spin_unlock_bh(&nsk->lock);
		if (!skb) {
			if (spliced)
				break;
			ret = nc_recv_wait(sk, 0, 0, &timeo);
			if (ret)
				break;
			continue;
		}
		/* only readers unlink, and recv_mutex makes us the only one */
		off = NC_SKB_CB(skb)->off;
		n = min_t(size_t, skb->len - off, len - spliced);
		ret = skb_splice_bits(skb, sk, off, pipe, n, flags);
		if (ret <= 0)
			break;
		spliced += ret;
		nc_stat_add(nsk->nn, NC_STAT_RX_SPLICED, ret);
		nc_recv_consume(nsk, ret);
		if (ret < n)
			break;	/* the pipe is full */
	}
	mutex_unlock(&nsk->recv_mutex);
	if (spliced)
		return spliced;
	return ret < 0 ? ret : 0;
}
