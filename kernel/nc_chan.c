// SPDX-License-Identifier: GPL-2.0
/*
 * NetDriver: channels (kernel TCP connections between hosts), grouped in
 * peers, and the framing on them.
 *
 * Receive: frames are parsed (nc_frame.c) in the channel socket's
 * data_ready, in softirq, and DATA and CREDIT go straight to their virtual
 * socket; other frames, and input while the socket is owned, go to the
 * channel's receive work (see nc_chan_rx_read()).
 *
 * Transmit: control frames first, then DATA frames that the NetScheduler
 * picks among the peer's ready sockets, so the frames of one socket spread
 * over the channels of its peer and the receiver puts them back in order
 * by sequence number. A writer sends from its own context when it is alone
 * (nc_peer_push()); otherwise the channel's transmit work, on the CPU the
 * host chose for it, sends until TCP is full (nc_chan_tx_run()).
 *
 * Anything wrong a peer sends resets the channel it came on (and with it
 * the peer's whole group, whose sockets all depend on every channel), bumps
 * a counter and logs a rate-limited line; the host keeps serving others.
 *
 * Teardown: nc_peer_kill() marks a peer dead and queues destroy_work, which
 * stops its channels (callbacks restored, work cancelled, TCP shut down),
 * resets its sockets and drops the peer list's reference. The channels are
 * freed with the peer, on its last reference, so a socket's @home pointer
 * stays valid as long as the socket holds its peer.
 */
#include <linux/module.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "netchannel.h"
#include "nc_trace.h"

#define NC_RX_BUDGET		64	/* frames per run of the receive work */
#define NC_TX_BUDGET		64	/* frames per run of the transmit work */
#define NC_MAX_PENDING		128	/* accepted channels without HELLO */
#define NC_OPEN_FLOOD		4096	/* OPENs per second on one channel */
#define NC_USER_TIMEOUT_MS	10000	/* unacked data this long kills it */
#define NC_MAX_CTRL_UNOWNED	1024	/* RESETs of no socket waiting to go */

static atomic_t nc_chan_next_cpu = ATOMIC_INIT(0);

static void nc_chan_rx_workfn(struct work_struct *work);
static void nc_chan_tx_workfn(struct work_struct *work);
static void nc_peer_free_workfn(struct work_struct *work);

/* ---- channel callbacks (softirq context) --------------------------------- */

static bool nc_chan_rx_read(struct nc_channel *ch, gfp_t gfp);
static void nc_chan_tx_drop(struct nc_channel *ch);

/*
 * Frames are parsed here, in softirq, as they arrive. DATA and CREDIT
 * frames of known sockets are handled at once; anything else is handed to
 * the receive work (see nc_chan_rx_read()).
 *
 * When the socket is owned (by the transmit work, say), this runs from
 * release_sock() as its backlog is processed, and the work reads instead,
 * as strparser does: TCP counts the backlog against the receive window
 * until it is all processed, so what we read here could not reopen a
 * window that the backlog's ACKs closed, and the sender would wait for
 * its zero-window probe (200 ms or more).
 */
static void nc_chan_data_ready(struct sock *sk)
{
	struct nc_channel *ch;

	read_lock_bh(&sk->sk_callback_lock);
	ch = sk->sk_user_data;
	if (ch && !atomic_read(&ch->dead) &&
	    (!READ_ONCE(ch->peer) || READ_ONCE(ch->rx_deferred) ||
	     sock_owned_by_user_nocheck(sk) ||
	     nc_chan_rx_read(ch, GFP_ATOMIC)))
		queue_work_on(ch->cpu, nc_wq, &ch->rx_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void nc_chan_state_change(struct sock *sk)
{
	void (*saved)(struct sock *sk) = NULL;
	struct nc_channel *ch;

	read_lock_bh(&sk->sk_callback_lock);
	ch = sk->sk_user_data;
	if (ch) {
		saved = ch->saved_state_change;
		/*
		 * The receive work notices EOF or the error and acts on it;
		 * the transmit work, if it waits for room, sees the error.
		 */
		if (!atomic_read(&ch->dead)) {
			queue_work_on(ch->cpu, nc_wq, &ch->rx_work);
			queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
		}
	}
	read_unlock_bh(&sk->sk_callback_lock);
	if (saved)
		saved(sk);
}

/* TCP has room again for a frame it refused (see nc_chan_tx_push()). */
static void nc_chan_write_space(struct sock *sk)
{
	struct nc_channel *ch;

	read_lock_bh(&sk->sk_callback_lock);
	ch = sk->sk_user_data;
	if (ch && !atomic_read(&ch->dead) && sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void nc_chan_install(struct nc_channel *ch)
{
	struct sock *sk = ch->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	ch->saved_data_ready = sk->sk_data_ready;
	ch->saved_state_change = sk->sk_state_change;
	ch->saved_write_space = sk->sk_write_space;
	sk->sk_user_data = ch;
	sk->sk_data_ready = nc_chan_data_ready;
	sk->sk_state_change = nc_chan_state_change;
	sk->sk_write_space = nc_chan_write_space;
	write_unlock_bh(&sk->sk_callback_lock);
}

/* the CPU comes from the policy's select_cpu(), or a spread over all */
static struct nc_channel *nc_chan_alloc(struct nc_net *nn, struct socket *sock)
{
	struct nc_channel *ch = kzalloc(sizeof(*ch), GFP_KERNEL);
	unsigned int n;

	if (!ch)
		return NULL;
	ch->nn = nn;
	ch->sock = sock;
	INIT_LIST_HEAD(&ch->node);
	INIT_WORK(&ch->rx_work, nc_chan_rx_workfn);
	INIT_WORK(&ch->tx_work, nc_chan_tx_workfn);
	spin_lock_init(&ch->ctrl_lock);
	INIT_LIST_HEAD(&ch->ctrlq);
	n = atomic_inc_return(&nc_chan_next_cpu);
	ch->cpu = nc_sched_select_cpu(NETSCHED_CPU_CHANNEL, n,
				      cpumask_local_spread(n % num_online_cpus(),
							   NUMA_NO_NODE));
	ch->opens_since = jiffies;

	sock->sk->sk_allocation = GFP_KERNEL;
	sock->sk->sk_use_task_frag = false;
	/*
	 * Keep little unsent data in TCP's queue: frames wait in the
	 * NetScheduler, where the policy orders them, not behind megabytes of
	 * another socket's data in a FIFO it cannot touch. The transmit work
	 * stops when the queue is above this and TCP's write_space callback
	 * brings it back.
	 */
	lock_sock(sock->sk);
	WRITE_ONCE(tcp_sk(sock->sk)->notsent_lowat,
		   READ_ONCE(nn->channel_queue));
	release_sock(sock->sk);
	tcp_sock_set_nodelay(sock->sk);
	tcp_sock_set_user_timeout(sock->sk, NC_USER_TIMEOUT_MS);
	sock_set_keepalive(sock->sk);
	tcp_sock_set_keepidle(sock->sk, 5);
	tcp_sock_set_keepintvl(sock->sk, 1);
	tcp_sock_set_keepcnt(sock->sk, 3);
	return ch;
}

/* Take the first control frame off @ch's queue into @f; false if none. */
static bool nc_chan_ctrl_pop(struct nc_channel *ch, struct nc_frame *f)
{
	struct nc_ctrl *c;

	spin_lock_bh(&ch->ctrl_lock);
	c = list_first_entry_or_null(&ch->ctrlq, struct nc_ctrl, node);
	if (c) {
		list_del_init(&c->node);
		c->queued = false;
		WRITE_ONCE(ch->ctrlq_len, ch->ctrlq_len - 1);
		if (!c->nsk)
			WRITE_ONCE(ch->ctrl_unowned, ch->ctrl_unowned - 1);
		*f = c->f;
	}
	spin_unlock_bh(&ch->ctrl_lock);
	if (!c)
		return false;
	/* half drained: the receive work may read again */
	if (READ_ONCE(ch->ctrl_unowned) <= NC_MAX_CTRL_UNOWNED / 2 &&
	    atomic_xchg(&ch->rx_throttled, 0))
		queue_work_on(ch->cpu, nc_wq, &ch->rx_work);
	if (c->nsk)
		sock_put(&c->nsk->inet.sk);	/* the slot's reference */
	else
		kfree(c);
	return true;
}

/* Drop every queued control frame; @ch is dead, so none is added after. */
static void nc_chan_ctrl_purge(struct nc_channel *ch)
{
	struct nc_frame f;

	while (nc_chan_ctrl_pop(ch, &f))
		;
}

/*
 * Stop all processing of @ch: after this no callback, receive or transmit
 * work runs, and its queued control frames are dropped (with the socket
 * references they hold). Sleeps; never call it from @ch's own work.
 */
static void nc_chan_stop(struct nc_channel *ch)
{
	struct sock *sk = ch->sock->sk;

	atomic_set(&ch->dead, 1);
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data == ch) {
		sk->sk_user_data = NULL;
		sk->sk_data_ready = ch->saved_data_ready;
		sk->sk_state_change = ch->saved_state_change;
		sk->sk_write_space = ch->saved_write_space;
	}
	write_unlock_bh(&sk->sk_callback_lock);
	kernel_sock_shutdown(ch->sock, SHUT_RDWR);
	cancel_work_sync(&ch->rx_work);
	cancel_work_sync(&ch->tx_work);
	nc_chan_ctrl_purge(ch);
	/*
	 * Nothing reads any more, and a sender on the fast path sees @dead
	 * under the socket's lock. A CLOSE being sent holds its socket,
	 * which holds the peer, which holds us until it is freed: let go now.
	 */
	lock_sock(sk);
	nc_chan_tx_drop(ch);
	release_sock(sk);
}

static void nc_chan_free(struct nc_channel *ch)
{
	/* a kick may have queued work after nc_chan_stop() */
	atomic_set(&ch->dead, 1);
	cancel_work_sync(&ch->rx_work);
	cancel_work_sync(&ch->tx_work);
	nc_chan_ctrl_purge(ch);
	kfree_skb(ch->rx_skb);
	kfree_skb(ch->rx_defer_skb);
	nc_chan_tx_drop(ch);
	sock_release(ch->sock);
	kfree(ch);
}

/* A channel that never said HELLO: stop, free, forget. Process context. */
static void nc_chan_reap_pending(struct nc_net *nn)
{
	struct nc_channel *ch, *tmp;
	LIST_HEAD(dead);

	mutex_lock(&nn->lock);
	list_for_each_entry_safe(ch, tmp, &nn->pending, node)
		if (atomic_read(&ch->dead))
			list_move(&ch->node, &dead);
	mutex_unlock(&nn->lock);
	list_for_each_entry_safe(ch, tmp, &dead, node) {
		nc_chan_stop(ch);
		nc_chan_free(ch);
	}
}

/*
 * Reset @ch for a protocol error. Any context, including the receive path
 * under the channel socket's lock: nothing here takes that lock.
 */
void nc_chan_proto_error(struct nc_channel *ch, enum nc_stat why,
			 const char *fmt, ...)
{
	struct inet_sock *inet = inet_sk(ch->sock->sk);
	struct va_format vaf;
	va_list args;

	nc_stat_inc(ch->nn, why);
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	net_warn_ratelimited("netchannel: channel from %pI4:%u: %pV; resetting it\n",
			     &inet->inet_daddr, ntohs(inet->inet_dport), &vaf);
	va_end(args);

	nc_stat_inc(ch->nn, NC_STAT_CHANNELS_RESET);
	/* abort, not close: the peer sees an RST when the socket is released */
	sock_set_flag(ch->sock->sk, SOCK_LINGER);
	WRITE_ONCE(ch->sock->sk->sk_lingertime, 0);
	if (ch->peer) {
		nc_peer_kill(ch->peer, ECONNRESET);
	} else {
		atomic_set(&ch->dead, 1);
		schedule_work(&ch->nn->accept_work);	/* reaps it */
	}
}

/* ---- transmit -------------------------------------------------------------- */

/*
 * Queue the control frame @f in slot @c on @ch (see struct nc_ctrl). A slot
 * already queued keeps its place; a CREDIT adds its credit to it. Fails only
 * when the channel is dead, and then its group is dying. Any context.
 */
int nc_chan_queue_ctrl(struct nc_channel *ch, struct nc_ctrl *c,
		       const struct nc_frame *f)
{
	spin_lock_bh(&ch->ctrl_lock);
	if (atomic_read(&ch->dead)) {
		spin_unlock_bh(&ch->ctrl_lock);
		return -ENOTCONN;
	}
	if (c->queued) {
		if (f->type == NC_FT_CREDIT && c->f.type == NC_FT_CREDIT)
			c->f.arg += f->arg;
	} else {
		c->f = *f;
		c->queued = true;
		if (c->nsk)
			sock_hold(&c->nsk->inet.sk);
		list_add_tail(&c->node, &ch->ctrlq);
		WRITE_ONCE(ch->ctrlq_len, ch->ctrlq_len + 1);
		if (!c->nsk)
			WRITE_ONCE(ch->ctrl_unowned, ch->ctrl_unowned + 1);
	}
	spin_unlock_bh(&ch->ctrl_lock);
	queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
	return 0;
}

/*
 * A control frame that belongs to no socket (a RESET answering a frame for a
 * socket that is gone or an OPEN refused). The receive work, process
 * context: the allocation may sleep, so it does not fail short of the OOM
 * killer. Their number is bounded by the receive work, which stops reading
 * the channel while NC_MAX_CTRL_UNOWNED of them wait (nc_chan_rx_throttle()).
 */
int nc_chan_send_ctrl(struct nc_channel *ch, const struct nc_frame *f)
{
	struct nc_ctrl *c;
	int err;

	might_sleep();
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	INIT_LIST_HEAD(&c->node);
	err = nc_chan_queue_ctrl(ch, c, f);
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
	int frame_size = READ_ONCE(peer->nn->frame_size);
	struct nc_sock *nsk;
	struct sk_buff *skb;
	u32 n;

	spin_lock_bh(&peer->lock);
	while ((nsk = nc_sched_pick(peer, ch))) {
		skb = skb_peek(&nsk->txq);
		if (skb && nsk->snd_credit >= NC_FRAME_MIN_COST) {
			n = nc_sock_frame_len(nsk, skb, frame_size);
			*f = (struct nc_frame){
				.type = NC_FT_DATA, .len = n,
				.src_id = nsk->id, .dst_id = nsk->remote_id,
				.seq = nsk->snd_nxt++,
			};
			*off = nsk->tx_off;
			nsk->snd_credit -= nc_frame_cost(n);
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
 * Hand the rest of @ch's current frame to TCP, without blocking: the
 * header is copied (32 bytes), the payload's pages are spliced (a small
 * linear payload is copied). 0 once all
 * of it is in; -EAGAIN when TCP has no room (the frame stays, and
 * nc_chan_write_space() brings the work back); another error if the
 * channel broke. Channel socket locked.
 */
/* Copy @len bytes at @buf into TCP, without blocking: bytes taken, or < 0. */
static int nc_chan_tx_copy(struct sock *sk, void *buf, size_t len, int flags)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL | flags };
	struct kvec v = { .iov_base = buf, .iov_len = len };

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &v, 1, len);
	return tcp_sendmsg_locked(sk, &msg, len);
}

static int nc_chan_tx_push(struct nc_channel *ch)
{
	struct nc_tx_frame *t = &ch->tx;
	struct sock *sk = ch->sock->sk;
	struct bio_vec bv[MAX_SKB_FRAGS];
	struct msghdr msg = {};
	size_t bytes;
	int ret, n;

	while (t->sent < NC_FRAME_HDR_LEN) {
		/* MSG_MORE: no segment of the header alone */
		ret = nc_chan_tx_copy(sk, t->hdr + t->sent,
				      NC_FRAME_HDR_LEN - t->sent,
				      t->len ? MSG_MORE : 0);
		if (ret < 0)
			return ret;
		t->sent += ret;
	}
	while (t->sent < NC_FRAME_HDR_LEN + t->len) {
		u32 done = t->sent - NC_FRAME_HDR_LEN;

		if (!skb_is_nonlinear(t->skb)) {
			/* a small write: copied (see NC_TX_COPYBREAK) */
			ret = nc_chan_tx_copy(sk, t->skb->data + t->off + done,
					      t->len - done, 0);
			if (ret < 0)
				return ret;
			t->sent += ret;
			continue;
		}
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

/* A frame is all in TCP: the transmit twin of nc_chan_rx_count(). */
static void nc_chan_tx_count(struct nc_channel *ch, const struct nc_frame *f)
{
	trace_nc_frame_tx(ch->idx, f->type, f->src_id, f->dst_id, f->seq,
			  f->len);
	WRITE_ONCE(ch->frames_tx, ch->frames_tx + 1);
	WRITE_ONCE(ch->bytes_tx, ch->bytes_tx + f->len);
	nc_stat_inc(ch->nn, NC_STAT_FRAMES_TX);
	nc_stat_add(ch->nn, NC_STAT_BYTES_TX, f->len);
}

/*
 * The HELLO of a channel we connected, before its callbacks are installed
 * (nothing else sends on it yet): blocking, copied.
 */
static int nc_chan_send_hello(struct nc_channel *ch, const struct nc_frame *f,
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
	nc_chan_tx_count(ch, f);
	return 0;
}

/* Take the next frame for @ch: a control frame, else the NetScheduler's. */
static bool nc_chan_tx_next(struct nc_channel *ch)
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
		if (!READ_ONCE(ch->peer) ||
		    !nc_peer_next_frame(ch->peer, ch, &f, &skb, &off, &fin_nsk))
			return false;
		/*
		 * A CLOSE goes behind the socket's ACCEPT on its home channel:
		 * a socket that closes at once must not overtake its ACCEPT.
		 */
		if (!fin_nsk || fin_nsk->home == ch)
			break;
		nc_chan_queue_ctrl(fin_nsk->home,	/* fails only dying */
				   &fin_nsk->ctrl[NC_CTRL_CLOSE], &f);
		nc_sock_fin_sent(fin_nsk);
		sock_put(&fin_nsk->inet.sk);
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
static void nc_chan_tx_done(struct nc_channel *ch)
{
	struct nc_tx_frame *t = &ch->tx;

	nc_chan_tx_count(ch, &t->f);
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
static void nc_chan_tx_drop(struct nc_channel *ch)
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
 * Send frames on @ch until TCP has no room, nothing is left, or @budget
 * frames went: 0 when nothing is left, -EAGAIN when TCP is full (the frame
 * waits in @ch->tx; nc_chan_write_space() brings the work back), 1 when the
 * budget ran out, another negative errno if the channel broke. Process
 * context; owns the channel socket's lock, and with it @ch->tx, meanwhile.
 */
static int nc_chan_tx_run(struct nc_channel *ch, int budget)
{
	struct sock *sk = ch->sock->sk;
	int ret = 0;

	lock_sock(sk);
	while (!atomic_read(&ch->dead)) {
		if (!budget--) {
			ret = 1;
			break;
		}
		if (!ch->tx.busy && !nc_chan_tx_next(ch))
			break;
		ret = nc_chan_tx_push(ch);
		if (ret)
			break;
		nc_chan_tx_done(ch);
	}
	release_sock(sk);
	return ret;
}

/* What a run of the transmit path that ended with @ret leaves to do. */
static void nc_chan_tx_after(struct nc_channel *ch, int ret)
{
	struct nc_peer *peer = READ_ONCE(ch->peer);

	if (ret == 1) {
		queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
	} else if (ret == -EAGAIN) {
		/* full: another channel takes what waits */
		if (peer && READ_ONCE(peer->nr_ready) && peer->nr > 1)
			nc_peer_kick(peer, NULL);
	} else if (ret && peer) {
		nc_peer_kill(peer, ECONNRESET);
	}
}

static void nc_chan_tx_workfn(struct work_struct *work)
{
	struct nc_channel *ch = container_of(work, struct nc_channel, tx_work);

	nc_chan_tx_after(ch, nc_chan_tx_run(ch, NC_TX_BUDGET));
}

/*
 * The channel @nsk's next frame should go on (its pin, or the next in
 * turn), or NULL if none is up. The caller holds @peer, and a peer's
 * channels are freed only with it (nc_peer_free_workfn()). Wakes one
 * channel, not all: a channel that fills up passes the work on to the
 * next (nc_chan_tx_after()), so more channels work only when one is not
 * enough.
 */
static struct nc_channel *nc_peer_tx_channel(struct nc_peer *peer,
					     struct nc_sock *nsk)
{
	struct nc_channel *ch = NULL;
	int i, idx;

	spin_lock_bh(&peer->lock);
	if (peer->state == NC_PEER_READY) {
		if (nsk && nsk->chan_pin >= 0 && nsk->chan_pin < peer->nr &&
		    peer->ch[nsk->chan_pin] &&
		    !atomic_read(&peer->ch[nsk->chan_pin]->dead))
			ch = peer->ch[nsk->chan_pin];
		for (i = 0; !ch && i < peer->nr; i++) {
			idx = peer->rr++ % peer->nr;
			if (peer->ch[idx] && !atomic_read(&peer->ch[idx]->dead))
				ch = peer->ch[idx];
		}
	}
	spin_unlock_bh(&peer->lock);
	return ch;
}

/* Frames wait for the channels: wake one (see nc_peer_tx_channel()). */
void nc_peer_kick(struct nc_peer *peer, struct nc_sock *nsk)
{
	struct nc_channel *ch = nc_peer_tx_channel(peer, nsk);

	if (ch)
		queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
}

/*
 * The transmit fast path, from sendmsg() once @nsk queued frames after its
 * queue was empty: if no other socket waits on the peer and the channel's
 * work is not about to run, the writer sends them itself, as TCP's sendmsg
 * does: no work item, no wakeup. Otherwise it wakes one channel. A writer
 * that keeps its queue full (a bulk stream) leaves the sending to the
 * channel's work, which runs beside its next copy.
 */
void nc_peer_push(struct nc_peer *peer, struct nc_sock *nsk)
{
	struct nc_channel *ch;

	if (READ_ONCE(peer->nr_ready) > 1) {
		nc_peer_kick(peer, nsk);
		return;
	}
	ch = nc_peer_tx_channel(peer, nsk);
	if (!ch)
		return;
	if (work_pending(&ch->tx_work))
		queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
	else
		nc_chan_tx_after(ch, nc_chan_tx_run(ch, NC_TX_BUDGET));
}

/* A channel for a socket's control frames; caller holds peer->lock. */
struct nc_channel *nc_peer_pick_home(struct nc_peer *peer)
{
	int i, n = peer->nr;

	lockdep_assert_held(&peer->lock);
	for (i = 0; i < n; i++) {
		struct nc_channel *ch = peer->ch[(peer->rr + i) % n];

		if (ch && !atomic_read(&ch->dead)) {
			peer->rr += i + 1;
			return ch;
		}
	}
	return NULL;
}

static void nc_peer_destroy_workfn(struct work_struct *work);
static void nc_peer_connect_workfn(struct work_struct *work);

/* A new peer, on nn->peers with the list's reference; under nn->lock. */
static struct nc_peer *nc_peer_alloc(struct nc_net *nn, __be32 addr, u64 group,
				     int nr, bool initiator)
{
	struct nc_peer *peer = kzalloc(sizeof(*peer), GFP_KERNEL);

	lockdep_assert_held(&nn->lock);
	if (!peer)
		return NULL;
	peer->nn = nn;
	refcount_set(&peer->ref, 1);
	peer->addr = addr;
	peer->group = group;
	peer->initiator = initiator;
	peer->nr = nr;
	peer->state = initiator ? NC_PEER_CONNECTING : NC_PEER_READY;
	spin_lock_init(&peer->lock);
	peer->ready = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&peer->served);
	INIT_LIST_HEAD(&peer->socks);
	INIT_LIST_HEAD(&peer->waiting);
	INIT_WORK(&peer->connect_work, nc_peer_connect_workfn);
	INIT_WORK(&peer->destroy_work, nc_peer_destroy_workfn);
	INIT_WORK(&peer->free_work, nc_peer_free_workfn);
	atomic_inc(&nn->nr_peers);
	list_add(&peer->node, &nn->peers);
	return peer;
}

/* ---- receive ----------------------------------------------------------------- */

static void nc_chan_rx_hello(struct nc_channel *ch, const struct nc_frame *f,
			     struct sk_buff *skb)
{
	u32 idx = NC_HELLO_ARG_IDX(f->arg), nr = NC_HELLO_ARG_NCHAN(f->arg);
	struct nc_net *nn = ch->nn;
	struct sockaddr_in sin = {};
	struct nc_peer *peer;
	u64 group;

	if (nc_hello_decode(skb->data, skb->len, &group) ||
	    kernel_getpeername(ch->sock, (struct sockaddr *)&sin) < 0) {
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
		    peer->addr == sin.sin_addr.s_addr &&
		    READ_ONCE(peer->state) != NC_PEER_DEAD)
			goto found;
	peer = nc_peer_alloc(nn, sin.sin_addr.s_addr, group, nr, false);
	if (!peer) {
		mutex_unlock(&nn->lock);
		nc_chan_proto_error(ch, NC_STAT_ERR_HELLO, "out of memory");
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
	spin_unlock_bh(&peer->lock);
	trace_nc_channel(peer->addr, idx, 0);
	mutex_unlock(&nn->lock);
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
		/* a socket closed here: tell the sender, as TCP's RST does */
		nc_stat_inc(nn, NC_STAT_STALE_FRAMES);
		if (f->type == NC_FT_DATA || f->type == NC_FT_ACCEPT ||
		    f->type == NC_FT_CLOSE) {
			struct nc_frame r = {
				.type = NC_FT_RESET, .src_id = f->dst_id,
				.dst_id = f->src_id, .arg = ECONNRESET,
			};

			nc_chan_send_ctrl(ch, &r);
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
 * nc_frame.c parse a fragmented payload.
 *
 * A frame the fast path does not take is put in the one-frame slot
 * @rx_defer_*, @rx_deferred is set, and reading stops until the receive
 * work has dispatched it (in process context, without the lock) and
 * cleared the flag: so frames are handled in the order they came.
 */
#define NC_RX_COPYBREAK		1024

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
	if (ch->rx_skb)
		nc_skb_chain(ch->rx_skb, piece);
	else
		ch->rx_skb = piece;
	return true;
}

/* A whole frame: the fast path, or the receive work. */
static void nc_chan_rx_frame(struct nc_channel *ch, read_descriptor_t *desc)
{
	struct sk_buff *skb = ch->rx_skb;

	ch->rx_skb = NULL;
	ch->rx_got = 0;
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
static bool nc_chan_rx_read(struct nc_channel *ch, gfp_t gfp)
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
static void nc_chan_rx_workfn(struct work_struct *work)
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
				nc_chan_proto_error(ch, NC_STAT_ERR_FRAME - err - 1,
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

/* ---- accepting channels -------------------------------------------------------- */

static void nc_listener_data_ready(struct sock *sk)
{
	struct nc_net *nn;

	read_lock_bh(&sk->sk_callback_lock);
	nn = sk->sk_user_data;
	if (nn)
		schedule_work(&nn->accept_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

/* Accepts new channels and reaps pending ones that died. */
static void nc_accept_workfn(struct work_struct *work)
{
	struct nc_net *nn = container_of(work, struct nc_net, accept_work);
	struct nc_channel *ch;
	struct socket *newsock;
	int nr_pending = 0;

	nc_chan_reap_pending(nn);
	mutex_lock(&nn->lock);
	list_for_each_entry(ch, &nn->pending, node)
		nr_pending++;
	while (nn->listener && !nn->dying) {
		if (kernel_accept(nn->listener, &newsock, O_NONBLOCK))
			break;
		if (nr_pending >= NC_MAX_PENDING) {
			net_warn_ratelimited("netchannel: too many channels without HELLO; refusing\n");
			nc_stat_inc(nn, NC_STAT_ERR_HELLO);
			sock_no_linger(newsock->sk);
			sock_release(newsock);
			continue;
		}
		ch = nc_chan_alloc(nn, newsock);
		if (!ch) {
			sock_release(newsock);
			continue;
		}
		nc_stat_inc(nn, NC_STAT_CHANNELS_ACCEPTED);
		list_add_tail(&ch->node, &nn->pending);
		nr_pending++;
		nc_chan_install(ch);
		queue_work_on(ch->cpu, nc_wq, &ch->rx_work);
	}
	mutex_unlock(&nn->lock);
}

int nc_net_listen_start(struct nc_net *nn)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	struct socket *sock;
	int err;

	mutex_lock(&nn->lock);
	if (nn->listener || nn->dying) {
		err = nn->dying ? -ENETDOWN : 0;
		goto out;
	}
	err = sock_create_kern(nn->net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		goto out;
	sock_set_reuseaddr(sock->sk);
	sin.sin_port = htons(READ_ONCE(nn->port));
	err = kernel_bind(sock, (struct sockaddr *)&sin, sizeof(sin));
	if (!err)
		err = kernel_listen(sock, 128);
	if (err) {
		sock_release(sock);
		goto out;
	}
	write_lock_bh(&sock->sk->sk_callback_lock);
	sock->sk->sk_user_data = nn;
	sock->sk->sk_data_ready = nc_listener_data_ready;
	write_unlock_bh(&sock->sk->sk_callback_lock);
	nn->listener = sock;
out:
	mutex_unlock(&nn->lock);
	return err;
}

/* ---- peers ------------------------------------------------------------------------ */

static void nc_peer_free_workfn(struct work_struct *work)
{
	struct nc_peer *peer = container_of(work, struct nc_peer, free_work);
	struct nc_net *nn = peer->nn;
	int i;

	for (i = 0; i < peer->nr; i++)
		if (peer->ch[i])
			nc_chan_free(peer->ch[i]);
	kfree(peer);
	/* nc_net_stop() waits for every peer of the host to be gone */
	if (atomic_dec_and_test(&nn->nr_peers))
		wake_up_var(&nn->nr_peers);
}

void nc_peer_put(struct nc_peer *peer)
{
	/* channels must be released in process context */
	if (refcount_dec_and_test(&peer->ref))
		queue_work(nc_wq, &peer->free_work);
}

/*
 * The group is dead (a channel failed, the peer misbehaved, the host is
 * going away): every socket on it gets @err, new connects make a new group.
 * Any context.
 */
void nc_peer_kill(struct nc_peer *peer, int err)
{
	int i;

	spin_lock_bh(&peer->lock);
	if (peer->state == NC_PEER_DEAD) {
		spin_unlock_bh(&peer->lock);
		return;
	}
	WRITE_ONCE(peer->state, NC_PEER_DEAD);
	peer->err = err;
	/* stop reading and sending now; destroy_work cleans up */
	for (i = 0; i < peer->nr; i++)
		if (peer->ch[i]) {
			atomic_set(&peer->ch[i]->dead, 1);
			trace_nc_channel(peer->addr, i, err);
		}
	spin_unlock_bh(&peer->lock);
	nc_stat_inc(peer->nn, NC_STAT_PEERS_FAILED);
	refcount_inc(&peer->ref);	/* the destroy work's */
	queue_work(nc_wq, &peer->destroy_work);
}

/*
 * Take the first socket off @list (peer->socks or peer->waiting), with a
 * reference, or NULL. One at a time under peer->lock: a socket that closes
 * meanwhile unlinks itself from the same list under the same lock, so the
 * walk never sees a node that is being removed.
 */
static struct nc_sock *nc_peer_pop_sock(struct nc_peer *peer,
					struct list_head *list)
{
	struct nc_sock *nsk;

	spin_lock_bh(&peer->lock);
	nsk = list_first_entry_or_null(list, struct nc_sock, peer_node);
	if (nsk) {
		list_del_init(&nsk->peer_node);
		sock_hold(&nsk->inet.sk);
	}
	spin_unlock_bh(&peer->lock);
	return nsk;
}

static void nc_peer_destroy_workfn(struct work_struct *work)
{
	struct nc_peer *peer = container_of(work, struct nc_peer, destroy_work);
	struct nc_net *nn = peer->nn;
	struct nc_sock *nsk;
	bool listed = false;
	int i;

	cancel_work_sync(&peer->connect_work);
	mutex_lock(&nn->lock);
	if (!list_empty(&peer->node)) {
		list_del_init(&peer->node);
		listed = true;
	}
	mutex_unlock(&nn->lock);

	for (i = 0; i < peer->nr; i++)
		if (peer->ch[i])
			nc_chan_stop(peer->ch[i]);

	/*
	 * Reset every socket that depended on the group. The peer is dead, so
	 * no socket joins either list any more and the loops end.
	 */
	while ((nsk = nc_peer_pop_sock(peer, &peer->socks)) ||
	       (nsk = nc_peer_pop_sock(peer, &peer->waiting))) {
		nc_sock_reset(nsk, peer->err);
		sock_put(&nsk->inet.sk);
	}
	if (listed)
		nc_peer_put(peer);
	nc_peer_put(peer);	/* the destroy work's */
}

/* Connect the group's channels and say HELLO on each. */
static void nc_peer_connect_workfn(struct work_struct *work)
{
	struct nc_peer *peer = container_of(work, struct nc_peer, connect_work);
	struct nc_net *nn = peer->nn;
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = peer->addr,
		.sin_port = htons(READ_ONCE(nn->port)),
	};
	struct nc_channel *ch;
	struct socket *sock;
	struct nc_sock *nsk;
	int i, err = 0;

	for (i = 0; i < peer->nr; i++) {
		u8 hello[NC_HELLO_PAYLOAD_LEN];
		struct nc_frame f = {
			.type = NC_FT_HELLO, .len = NC_HELLO_PAYLOAD_LEN,
			.arg = NC_HELLO_ARG(i, peer->nr),
		};

		if (READ_ONCE(peer->state) == NC_PEER_DEAD)
			return;
		err = sock_create_kern(nn->net, AF_INET, SOCK_STREAM,
				       IPPROTO_TCP, &sock);
		if (err)
			break;
		tcp_sock_set_syncnt(sock->sk, 3);
		err = kernel_connect(sock, (struct sockaddr *)&sin, sizeof(sin), 0);
		if (err) {
			sock_release(sock);
			break;
		}
		ch = nc_chan_alloc(nn, sock);
		if (!ch) {
			sock_release(sock);
			err = -ENOMEM;
			break;
		}
		ch->peer = peer;
		ch->idx = i;
		nc_hello_encode(peer->group, hello);
		err = nc_chan_send_hello(ch, &f, hello);
		if (err) {
			nc_chan_free(ch);
			break;
		}
		nc_chan_install(ch);
		spin_lock_bh(&peer->lock);
		peer->ch[i] = ch;
		spin_unlock_bh(&peer->lock);
		trace_nc_channel(peer->addr, i, 0);
		nc_stat_inc(nn, NC_STAT_CHANNELS_OPEN);
		queue_work_on(ch->cpu, nc_wq, &ch->rx_work);
	}
	if (err) {
		if (err == -EINPROGRESS || err == -EALREADY)
			err = -ETIMEDOUT;
		nc_peer_kill(peer, -err);
		return;
	}

	spin_lock_bh(&peer->lock);
	if (peer->state == NC_PEER_DEAD) {
		spin_unlock_bh(&peer->lock);
		return;
	}
	WRITE_ONCE(peer->state, NC_PEER_READY);
	spin_unlock_bh(&peer->lock);
	/* the peer is ready, so connect() adds no socket to the list now */
	while ((nsk = nc_peer_pop_sock(peer, &peer->waiting))) {
		nc_sock_peer_ready(nsk);
		sock_put(&nsk->inet.sk);
	}
}

/*
 * The channel group this host uses towards @addr, connected on first use.
 * Returns a reference, or an ERR_PTR.
 */
struct nc_peer *nc_peer_connect(struct nc_net *nn, __be32 addr)
{
	struct nc_peer *peer;

	mutex_lock(&nn->lock);
	if (nn->dying) {
		peer = ERR_PTR(-ENETDOWN);
		goto out;
	}
	list_for_each_entry(peer, &nn->peers, node) {
		if (peer->initiator && peer->addr == addr &&
		    READ_ONCE(peer->state) != NC_PEER_DEAD) {
			refcount_inc(&peer->ref);
			goto out;
		}
	}
	peer = nc_peer_alloc(nn, addr, get_random_u64(),
			     clamp(READ_ONCE(nn->channels), 1, NC_MAX_CHANNELS),
			     true);
	if (!peer) {
		peer = ERR_PTR(-ENOMEM);
		goto out;
	}
	refcount_inc(&peer->ref);	/* the caller's */
	queue_work(nc_wq, &peer->connect_work);
out:
	mutex_unlock(&nn->lock);
	return peer;
}

/*
 * The namespace is going away (or the module): no virtual socket is left
 * here, since each holds the namespace. Tear down the listener, every peer
 * and every pending channel, and wait until they are freed.
 */
void nc_net_stop(struct nc_net *nn)
{
	struct nc_channel *ch, *tmp;
	struct socket *listener;
	struct nc_peer *peer;
	LIST_HEAD(pending);

	mutex_lock(&nn->lock);
	nn->dying = true;
	listener = nn->listener;
	nn->listener = NULL;
	list_splice_init(&nn->pending, &pending);
	mutex_unlock(&nn->lock);

	if (listener) {
		write_lock_bh(&listener->sk->sk_callback_lock);
		listener->sk->sk_user_data = NULL;
		write_unlock_bh(&listener->sk->sk_callback_lock);
	}
	/* a running accept work adds nothing more: nn->dying is set */
	cancel_work_sync(&nn->accept_work);
	if (listener)
		sock_release(listener);
	list_for_each_entry_safe(ch, tmp, &pending, node) {
		nc_chan_stop(ch);
		nc_chan_free(ch);
	}
	/*
	 * The pending channels' receive work queues accept_work to reap them
	 * when they die: cancel it again now that none can run.
	 */
	cancel_work_sync(&nn->accept_work);
	cancel_work_sync(&nn->route_work);

	mutex_lock(&nn->lock);
	list_for_each_entry(peer, &nn->peers, node)
		nc_peer_kill(peer, ENETDOWN);
	mutex_unlock(&nn->lock);
	wait_var_event(&nn->nr_peers, !atomic_read(&nn->nr_peers));
}

/*
 * A device went away (as when the other end of a veth pair is in a
 * namespace being deleted): a peer that is now unreachable is dead. TCP
 * would retransmit into the void until the user timeout; we tell the
 * sockets at once.
 */
static void nc_route_workfn(struct work_struct *work)
{
	struct nc_net *nn = container_of(work, struct nc_net, route_work);
	struct nc_peer *peer;
	struct rtable *rt;

	mutex_lock(&nn->lock);
	list_for_each_entry(peer, &nn->peers, node) {
		rt = ip_route_output(nn->net, peer->addr, 0, 0, 0,
				     RT_SCOPE_UNIVERSE);
		if (IS_ERR(rt)) {
			nc_peer_kill(peer, ECONNRESET);
			continue;
		}
		ip_rt_put(rt);
	}
	mutex_unlock(&nn->lock);
}

static int nc_netdev_event(struct notifier_block *nb, unsigned long event,
			   void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct nc_net *nn = nc_net(dev_net(dev));

	if (event == NETDEV_UNREGISTER || event == NETDEV_DOWN)
		queue_work(nc_wq, &nn->route_work);
	return NOTIFY_DONE;
}

static struct notifier_block nc_netdev_notifier = {
	.notifier_call = nc_netdev_event,
};

int nc_chan_register(void)
{
	return register_netdevice_notifier(&nc_netdev_notifier);
}

void nc_chan_unregister(void)
{
	unregister_netdevice_notifier(&nc_netdev_notifier);
}

void nc_net_chan_init(struct nc_net *nn)
{
	INIT_WORK(&nn->accept_work, nc_accept_workfn);
	INIT_WORK(&nn->route_work, nc_route_workfn);
}

/* ---- /proc/net/netchannel/channels ----------------------------------------------- */

int nc_proc_channels_show(struct seq_file *seq, void *v)
{
	struct nc_net *nn = nc_net(seq_file_single_net(seq));
	struct nc_peer *peer;
	int i;

	seq_puts(seq, "peer            group            role      state  ch cpu frames_tx  frames_rx  bytes_tx     bytes_rx     ctrlq sndq\n");
	mutex_lock(&nn->lock);
	list_for_each_entry(peer, &nn->peers, node) {
		static const char *const states[] = { "conn", "ready", "dead" };

		spin_lock_bh(&peer->lock);
		for (i = 0; i < peer->nr; i++) {
			struct nc_channel *ch = peer->ch[i];

			if (!ch)
				continue;
			seq_printf(seq, "%-15pI4 %016llx %-9s %-6s %2d %3d %-10lld %-10lld %-12lld %-12lld %5u %u\n",
				   &peer->addr, peer->group,
				   peer->initiator ? "initiator" : "acceptor",
				   states[peer->state], i, ch->cpu,
				   READ_ONCE(ch->frames_tx),
				   READ_ONCE(ch->frames_rx),
				   READ_ONCE(ch->bytes_tx),
				   READ_ONCE(ch->bytes_rx),
				   READ_ONCE(ch->ctrlq_len),
				   ch->sock->sk->sk_wmem_queued);
		}
		spin_unlock_bh(&peer->lock);
	}
	mutex_unlock(&nn->lock);
	return 0;
}
