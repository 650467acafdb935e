// SPDX-License-Identifier: GPL-2.0
/*
 * VNS: the NetChannel virtual socket, socket(AF_INET, SOCK_STREAM, 253).
 *
 * The protocol is registered with inet_register_protosw() as SCTP and MPTCP
 * do, so inet_create() allocates our struct nc_sock. sk_alloc() takes a
 * reference on this module for every socket: the module cannot be unloaded
 * while a virtual socket exists (rmmod fails with EBUSY).
 *
 * A connection: the client sends OPEN (its id, ports) on a channel of the
 * peer group towards the server host; the server answers ACCEPT (its id)
 * then CREDIT (its receive window) on the same channel; the client answers
 * CREDIT. DATA flows within credit; each reader's consumption is credited
 * back, so a stalled reader holds up only its own sender. CLOSE carries the
 * seq after the last DATA frame, so the receiver ends the stream only once
 * every frame before it has arrived, whichever channel carried it. RESET
 * aborts.
 *
 * Locking: user calls that change state take the socket lock; sendmsg and
 * recvmsg are serialised by send_mutex / recv_mutex instead, so that a
 * blocked reader never holds up a writer. The receive work takes nsk->lock
 * (receive state) and peer->lock (transmit state); the order, when both
 * are needed, is nsk->lock then peer->lock.
 */
#include <linux/atomic.h>
#include <linux/cgroup.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <asm/ioctls.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/protocol.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "netchannel.h"
#include "nc_trace.h"

#define NC_LINGER_TIMEOUT	(60 * HZ)

/* per-skb state on the receive and out-of-order queues */
struct nc_skb_cb {
	u32 seq;
	u32 off;	/* bytes already read */
};

#define NC_SKB_CB(skb) ((struct nc_skb_cb *)(skb)->cb)

static struct proto nc_prot;

static void nc_sock_linger_workfn(struct work_struct *work);
static void nc_sock_abort(struct nc_sock *nsk, int err);
static void nc_sock_destruct(struct sock *sk);

static bool nc_sk_connected(const struct sock *sk)
{
	return (1 << READ_ONCE(sk->sk_state)) &
	       (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1);
}

struct nc_sock *nc_sock_lookup(struct nc_net *nn, u32 id)
{
	struct nc_sock *nsk;

	rcu_read_lock();
	nsk = xa_load(&nn->socks, id);
	if (nsk && !refcount_inc_not_zero(&nsk->inet.sk.sk_refcnt))
		nsk = NULL;
	rcu_read_unlock();
	return nsk;
}

static int nc_sock_setup(struct sock *sk, u64 cgroup_id)
{
	struct nc_sock *nsk = nc_sk(sk);
	struct net *net = sock_net(sk);
	struct nc_net *nn = nc_net(net);
	u32 id;
	int i, err;

	nsk->nn = nn;
	for (i = 0; i < NC_CTRL_MAX; i++) {
		INIT_LIST_HEAD(&nsk->ctrl[i].node);
		nsk->ctrl[i].nsk = nsk;
	}
	spin_lock_init(&nsk->lock);
	skb_queue_head_init(&nsk->txq);
	nsk->ooo = RB_ROOT;
	INIT_LIST_HEAD(&nsk->node);
	INIT_LIST_HEAD(&nsk->served_node);
	nsk->chan_pin = -1;
	INIT_LIST_HEAD(&nsk->peer_node);
	INIT_LIST_HEAD(&nsk->accept_q);
	INIT_LIST_HEAD(&nsk->accept_node);
	INIT_DELAYED_WORK(&nsk->linger_work, nc_sock_linger_workfn);
	mutex_init(&nsk->send_mutex);
	mutex_init(&nsk->recv_mutex);
	/* lookups from the receive work run under RCU */
	sock_set_flag(sk, SOCK_RCU_FREE);

	err = xa_alloc_cyclic(&nn->socks, &id, nsk, xa_limit_32b, &nn->id_next,
			      GFP_KERNEL);
	if (err < 0)
		return err;
	nsk->id = id;
	if (id > READ_ONCE(nn->id_max))
		WRITE_ONCE(nn->id_max, id);

	nsk->sched.id = id | ((u64)(u32)net->net_cookie << 32);
	nsk->sched.cgroup_id = cgroup_id;
	nsk->sched.netns_cookie = net->net_cookie;
	nsk->sched.weight = 100;
	atomic_inc(&nn->nr_socks);
	nc_sched_sock_attach(nsk);
	return 0;
}

/* proto.init: inet_create() ran, and set sk_destruct to its own */
static int nc_sock_init(struct sock *sk)
{
	sk->sk_destruct = nc_sock_destruct;
	return nc_sock_setup(sk,
			     cgroup_id(sock_cgroup_ptr(&sk->sk_cgrp_data)));
}

/* Drop the out-of-order queue (skb_rbtree_purge() is not exported). */
static void nc_sock_ooo_purge(struct nc_sock *nsk)
{
	struct rb_node *p = rb_first(&nsk->ooo);
	struct sk_buff *skb;

	while (p) {
		skb = rb_to_skb(p);
		p = rb_next(p);
		rb_erase(&skb->rbnode, &nsk->ooo);
		kfree_skb(skb);
	}
	nsk->ooo_last = NULL;
}

/*
 * Take the socket out of the protocol: no id, no port, no queue on its
 * peer, no policy. Idempotent; the peer reference stays until destruct.
 */
static void nc_sock_unlink(struct nc_sock *nsk)
{
	struct sock *sk = &nsk->inet.sk;
	struct nc_net *nn = nsk->nn;
	struct nc_peer *peer = nsk->peer;
	struct nc_sock *child, *tmp;
	LIST_HEAD(children);

	/* a socket whose nc_sock_setup() failed was never linked */
	if (atomic_xchg(&nsk->unlinked, 1) || !nsk->id)
		return;
	xa_erase(&nn->socks, nsk->id);
	if (nsk->bound)
		xa_cmpxchg(&nn->ports, ntohs(nsk->inet.inet_sport), nsk, NULL,
			   GFP_KERNEL);
	if (peer) {
		spin_lock_bh(&peer->lock);
		nc_sched_ready_del(peer, nsk);
		list_del_init(&nsk->peer_node);
		__skb_queue_purge(&nsk->txq);
		nsk->tx_bytes = 0;
		spin_unlock_bh(&peer->lock);
	}
	spin_lock_bh(&nsk->lock);
	list_splice_init(&nsk->accept_q, &children);
	nsk->nr_accept = 0;
	nc_sock_ooo_purge(nsk);
	spin_unlock_bh(&nsk->lock);
	/* children nobody accepted: abort them */
	list_for_each_entry_safe(child, tmp, &children, accept_node) {
		struct sock *csk = &child->inet.sk;

		list_del_init(&child->accept_node);
		nc_sock_abort(child, ECONNRESET);
		nc_sock_unlink(child);
		sock_orphan(csk);
		sock_put(csk);
	}
	nc_sched_sock_detach(nsk);
	inet_sk_set_state(sk, TCP_CLOSE);
	atomic_dec(&nn->nr_socks);
}

static void nc_sock_destroy(struct sock *sk)
{
	struct nc_sock *nsk = nc_sk(sk);

	/* a lingering socket unlinks itself once its CLOSE is out */
	if (!READ_ONCE(nsk->lingering))
		nc_sock_unlink(nsk);
}

static void nc_sock_destruct(struct sock *sk)
{
	struct nc_sock *nsk = nc_sk(sk);

	skb_queue_purge(&nsk->txq);
	nc_sock_ooo_purge(nsk);
	if (nsk->peer)
		nc_peer_put(nsk->peer);
	inet_sock_destruct(sk);
}

/* the frame type each of a socket's control slots carries */
static const u8 nc_ctrl_type[NC_CTRL_MAX] = {
	[NC_CTRL_OPEN] = NC_FT_OPEN,
	[NC_CTRL_ACCEPT] = NC_FT_ACCEPT,
	[NC_CTRL_CREDIT] = NC_FT_CREDIT,
	[NC_CTRL_CLOSE] = NC_FT_CLOSE,
	[NC_CTRL_RESET] = NC_FT_RESET,
};

/* Queue a control frame of the connection on its home channel. */
static void nc_send_ctrl(struct nc_sock *nsk, enum nc_ctrl_kind kind, u32 arg)
{
	struct nc_frame f = {
		.type = nc_ctrl_type[kind], .src_id = nsk->id,
		.dst_id = nsk->remote_id,
		.arg = arg,
	};

	if (nsk->home && nsk->remote_id)
		nc_chan_queue_ctrl(nsk->home, &nsk->ctrl[kind], &f);
}

/*
 * The linger of a closed socket is over (its CLOSE went out, or the
 * connection died): drop what close() took for it. Called by whoever
 * cleared nsk->lingering under nsk->lock, so exactly once.
 */
static void nc_sock_linger_done(struct nc_sock *nsk)
{
	struct sock *sk = &nsk->inet.sk;

	nc_sock_unlink(nsk);
	if (cancel_delayed_work(&nsk->linger_work))
		sock_put(sk);	/* the work's reference */
	sock_put(sk);		/* the linger reference */
}

/*
 * The connection is over with @err (a positive errno): wake everyone; the
 * reader still gets what was queued before the error. Process context.
 */
void nc_sock_reset(struct nc_sock *nsk, int err)
{
	struct sock *sk = &nsk->inet.sk;
	bool was_lingering;

	spin_lock_bh(&nsk->lock);
	was_lingering = nsk->lingering;
	WRITE_ONCE(nsk->lingering, false);
	if (sk->sk_state == TCP_LISTEN || sk->sk_state == TCP_CLOSE) {
		spin_unlock_bh(&nsk->lock);
		if (was_lingering)
			nc_sock_linger_done(nsk);
		return;
	}
	/* as tcp_reset(): after the peer's FIN, a reset reads as EPIPE */
	if (err == ECONNRESET && sk->sk_state == TCP_CLOSE_WAIT)
		err = EPIPE;
	WRITE_ONCE(sk->sk_err, err);
	smp_wmb();	/* a reader that sees the shutdown sees the error */
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	inet_sk_set_state(sk, TCP_CLOSE);
	spin_unlock_bh(&nsk->lock);

	if (nsk->peer) {
		spin_lock_bh(&nsk->peer->lock);
		nc_sched_ready_del(nsk->peer, nsk);
		__skb_queue_purge(&nsk->txq);
		nsk->tx_bytes = 0;
		spin_unlock_bh(&nsk->peer->lock);
	}
	sk_error_report(sk);
	sk->sk_state_change(sk);
	if (was_lingering)
		nc_sock_linger_done(nsk);
}

/* Abort the connection towards the peer and locally. */
static void nc_sock_abort(struct nc_sock *nsk, int err)
{
	if (nc_sk_connected(&nsk->inet.sk))
		nc_send_ctrl(nsk, NC_CTRL_RESET, ECONNRESET);
	nc_sock_reset(nsk, err);
}

/* Called by the transmit work once a socket's CLOSE went out. */
void nc_sock_fin_sent(struct nc_sock *nsk)
{
	struct sock *sk = &nsk->inet.sk;
	bool lingering;

	spin_lock_bh(&nsk->lock);
	nsk->fin_done = true;
	lingering = nsk->lingering;
	WRITE_ONCE(nsk->lingering, false);
	/* both ways done only once every frame before their CLOSE is in */
	if (nsk->eof && sk->sk_state != TCP_CLOSE)
		inet_sk_set_state(sk, TCP_CLOSE);
	spin_unlock_bh(&nsk->lock);
	if (lingering)
		nc_sock_linger_done(nsk);
}

static void nc_sock_linger_workfn(struct work_struct *work)
{
	struct nc_sock *nsk = container_of(to_delayed_work(work),
					   struct nc_sock, linger_work);

	/* the peer never took the data: give up as TCP's orphan timer does */
	nc_sock_abort(nsk, ETIMEDOUT);
	sock_put(&nsk->inet.sk);	/* the work's reference */
}

/*
 * Hand @nsk to the NetScheduler if it can send something: data within
 * credit, or its CLOSE once the data is out. peer->lock held.
 */
void nc_sock_tx_ready_locked(struct nc_sock *nsk)
{
	struct nc_peer *peer = nsk->peer;

	lockdep_assert_held(&peer->lock);
	if (peer->state == NC_PEER_DEAD || atomic_read(&nsk->unlinked))
		return;
	if ((!skb_queue_empty(&nsk->txq) &&
	     nsk->snd_credit >= NC_FRAME_MIN_COST) ||
	    (nsk->fin_queued && !nsk->fin_sent && nsk->remote_id &&
	     skb_queue_empty(&nsk->txq)))
		nc_sched_ready_add(peer, nsk);
	else
		nc_sched_ready_del(peer, nsk);
}

static void nc_sock_queue_fin(struct nc_sock *nsk)
{
	struct nc_peer *peer = nsk->peer;

	if (!peer)
		return;
	spin_lock_bh(&peer->lock);
	nsk->fin_queued = true;
	nc_sock_tx_ready_locked(nsk);
	spin_unlock_bh(&peer->lock);
	nc_peer_kick(peer, nsk);
}

/* ---- frames from the peer (softirq, or the channel's receive work) ------- */

/* In-order delivery: queue, then pull what the out-of-order queue holds. */
static void nc_sock_deliver_locked(struct nc_sock *nsk, struct sk_buff *skb)
{
	struct sock *sk = &nsk->inet.sk;

	for (;;) {
		NC_SKB_CB(skb)->off = 0;
		skb_set_owner_r(skb, sk);
		__skb_queue_tail(&sk->sk_receive_queue, skb);
		nsk->rcv_bytes += skb->len;
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

static enum nc_stat nc_sock_rx_data(struct nc_sock *nsk,
				    const struct nc_frame *f,
				    struct sk_buff *skb, bool *wake)
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
	NC_SKB_CB(skb)->seq = f->seq;
	if (f->seq == nsk->rcv_nxt) {
		nc_sock_deliver_locked(nsk, skb);
		nc_sock_check_fin_locked(nsk);
		*wake = true;
	} else if (!nc_sock_ooo_insert_locked(nsk, skb)) {
		return NC_STAT_ERR_SEQ_WINDOW;
	}
	return NC_STAT_MAX;	/* fine */
}

static enum nc_stat nc_sock_rx_credit(struct nc_sock *nsk,
				      const struct nc_frame *f)
{
	struct nc_peer *peer = nsk->peer;
	enum nc_stat ret = NC_STAT_MAX;

	if (f->src_id != nsk->remote_id)
		return NC_STAT_ERR_UNKNOWN_SOCKET;
	trace_nc_credit(nsk->id, f->arg, true);
	spin_lock_bh(&peer->lock);
	nsk->snd_credit += f->arg;
	if (nsk->snd_credit > INT_MAX)
		ret = NC_STAT_ERR_CREDIT;
	else
		nc_sock_tx_ready_locked(nsk);
	spin_unlock_bh(&peer->lock);
	if (ret == NC_STAT_MAX)
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
	bool wake = false;

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
		spin_lock_bh(&nsk->lock);
		err = nc_sock_rx_data(nsk, f, skb, &wake);
		spin_unlock_bh(&nsk->lock);
		if (err == NC_STAT_MAX)
			skb = NULL;	/* queued or dropped */
		if (wake)
			sk->sk_data_ready(sk);
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
		err = NC_STAT_ERR_FRAME + NC_FERR_TYPE - 1;
		break;
	}
	kfree_skb(skb);
	if (err != NC_STAT_MAX)
		nc_chan_proto_error(ch, err, "%s for socket %u refused (%s)",
				    nc_frame_type_str(f->type), nsk->id,
				    nc_stat_names[err]);
	return true;
}

static void nc_sock_refuse(struct nc_channel *ch, const struct nc_frame *f)
{
	struct nc_frame r = {
		.type = NC_FT_RESET, .dst_id = f->src_id, .arg = ECONNREFUSED,
	};

	nc_stat_inc(ch->nn, NC_STAT_OPENS_REFUSED);
	nc_chan_send_ctrl(ch, &r);
}

/* OPEN: a connection request for a listener on this host. */
void nc_sock_rx_open(struct nc_channel *ch, const struct nc_frame *f)
{
	u16 dport = NC_OPEN_ARG_DPORT(f->arg), sport = NC_OPEN_ARG_SPORT(f->arg);
	struct nc_net *nn = ch->nn;
	struct nc_peer *peer = ch->peer;
	struct sockaddr_in local = {};
	struct nc_sock *lnsk, *nsk;
	struct sock *lsk, *sk;
	bool queued = false;

	rcu_read_lock();
	lnsk = xa_load(&nn->ports, dport);
	if (lnsk && !refcount_inc_not_zero(&lnsk->inet.sk.sk_refcnt))
		lnsk = NULL;
	rcu_read_unlock();
	if (!lnsk) {
		nc_sock_refuse(ch, f);
		return;
	}
	lsk = &lnsk->inet.sk;
	if (READ_ONCE(lsk->sk_state) != TCP_LISTEN ||
	    READ_ONCE(lnsk->nr_accept) >= READ_ONCE(lsk->sk_max_ack_backlog))
		goto refuse;

	sk = sk_alloc(sock_net(lsk), PF_INET, GFP_KERNEL, &nc_prot, 0);
	if (!sk)
		goto refuse;
	sock_init_data(NULL, sk);
	sk->sk_protocol = IPPROTO_NETCHANNEL;
	sk->sk_destruct = nc_sock_destruct;
	sk->sk_rcvbuf = READ_ONCE(lsk->sk_rcvbuf);
	sk->sk_sndbuf = READ_ONCE(lsk->sk_sndbuf);
	sk->sk_userlocks = lsk->sk_userlocks & SOCK_BUF_LOCK_MASK;
	nsk = nc_sk(sk);
	if (nc_sock_setup(sk, lnsk->sched.cgroup_id)) {
		sock_orphan(sk);
		sk_free(sk);
		goto refuse;
	}
	kernel_getsockname(ch->sock, (struct sockaddr *)&local);
	nsk->inet.inet_saddr = local.sin_addr.s_addr;
	nsk->inet.inet_rcv_saddr = local.sin_addr.s_addr;
	nsk->inet.inet_sport = htons(dport);
	nsk->inet.inet_num = dport;
	nsk->inet.inet_daddr = peer->addr;
	nsk->inet.inet_dport = htons(sport);
	nsk->sched.peer_addr = peer->addr;
	nsk->sched.peer_port = htons(sport);
	nsk->sched.local_port = htons(dport);
	nsk->remote_id = f->src_id;
	nsk->home = ch;
	nsk->rcv_window = lnsk->rcv_window;
	nsk->rcv_budget = nsk->rcv_window;
	refcount_inc(&peer->ref);
	nsk->peer = peer;
	nsk->chan_pin = nc_sched_select_channel(nsk, peer->nr);
	inet_sk_set_state(sk, TCP_ESTABLISHED);

	spin_lock_bh(&peer->lock);
	if (peer->state != NC_PEER_DEAD) {
		list_add_tail(&nsk->peer_node, &peer->socks);
		queued = true;
	}
	spin_unlock_bh(&peer->lock);
	if (queued) {
		/* an unlinked listener has emptied its queue for the last time */
		spin_lock_bh(&lnsk->lock);
		queued = lsk->sk_state == TCP_LISTEN &&
			 !atomic_read(&lnsk->unlinked);
		if (queued) {
			list_add_tail(&nsk->accept_node, &lnsk->accept_q);
			lnsk->nr_accept++;
		}
		spin_unlock_bh(&lnsk->lock);
	}
	if (!queued) {
		nc_sock_unlink(nsk);
		sock_orphan(sk);
		sock_put(sk);
		goto refuse;
	}
	nc_send_ctrl(nsk, NC_CTRL_ACCEPT, 0);
	nc_send_ctrl(nsk, NC_CTRL_CREDIT, nsk->rcv_window);
	lsk->sk_data_ready(lsk);
	sock_put(lsk);
	return;
refuse:
	nc_sock_refuse(ch, f);
	sock_put(lsk);
}

/* The connecting socket's peer group is up: send the OPEN. */
void nc_sock_peer_ready(struct nc_sock *nsk)
{
	struct sock *sk = &nsk->inet.sk;
	struct nc_peer *peer = nsk->peer;
	struct sockaddr_in local = {};
	struct nc_frame f = {
		.type = NC_FT_OPEN, .src_id = nsk->id,
		.arg = NC_OPEN_ARG(ntohs(nsk->inet.inet_dport),
				   ntohs(nsk->inet.inet_sport)),
	};
	struct nc_channel *home;

	spin_lock_bh(&peer->lock);
	home = peer->state == NC_PEER_READY ? nc_peer_pick_home(peer) : NULL;
	if (home && READ_ONCE(sk->sk_state) == TCP_SYN_SENT) {
		nsk->home = home;
		list_add_tail(&nsk->peer_node, &peer->socks);
	}
	spin_unlock_bh(&peer->lock);
	if (home)
		nsk->chan_pin = nc_sched_select_channel(nsk, peer->nr);
	if (!home) {
		nc_sock_reset(nsk, peer->err ?: ECONNREFUSED);
		return;
	}
	if (nsk->home != home)
		return;		/* closed meanwhile */
	kernel_getsockname(home->sock, (struct sockaddr *)&local);
	WRITE_ONCE(nsk->inet.inet_saddr, local.sin_addr.s_addr);
	nc_chan_queue_ctrl(home, &nsk->ctrl[NC_CTRL_OPEN], &f);
}

/* ---- user calls --------------------------------------------------------------- */

static int nc_port_claim(struct nc_sock *nsk, u16 port)
{
	struct nc_net *nn = nsk->nn;
	u32 p;
	int err;

	if (port) {
		err = xa_insert(&nn->ports, port, nsk, GFP_KERNEL);
		if (err)
			return err == -EBUSY ? -EADDRINUSE : err;
		p = port;
	} else {
		/* nn->port_next is only touched under the xarray's lock */
		err = xa_alloc_cyclic(&nn->ports, &p, nsk,
				      XA_LIMIT(NC_EPHEMERAL_LO, NC_EPHEMERAL_HI),
				      &nn->port_next, GFP_KERNEL);
		if (err < 0)
			return err == -EBUSY ? -EADDRNOTAVAIL : err;
	}
	nsk->inet.inet_sport = htons(p);
	nsk->inet.inet_num = p;
	nsk->sched.local_port = htons(p);
	nsk->bound = true;
	return 0;
}

static int nc_bind(struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	DECLARE_SOCKADDR(struct sockaddr_in *, sin, uaddr);
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	u16 port;
	int err;

	if (addr_len < sizeof(*sin))
		return -EINVAL;
	if (sin->sin_family != AF_INET &&
	    !(sin->sin_family == AF_UNSPEC &&
	      sin->sin_addr.s_addr == htonl(INADDR_ANY)))
		return -EAFNOSUPPORT;
	if (sin->sin_addr.s_addr != htonl(INADDR_ANY) &&
	    inet_addr_type_table(sock_net(sk), sin->sin_addr.s_addr,
				 RT_TABLE_LOCAL) != RTN_LOCAL)
		return -EADDRNOTAVAIL;
	port = ntohs(sin->sin_port);
	if (port && inet_port_requires_bind_service(sock_net(sk), port) &&
	    !ns_capable(sock_net(sk)->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	lock_sock(sk);
	err = -EINVAL;
	if (nsk->bound || sk->sk_state != TCP_CLOSE || nsk->peer ||
	    atomic_read(&nsk->unlinked))
		goto out;
	err = nc_port_claim(nsk, port);
	if (err)
		goto out;
	nsk->inet.inet_rcv_saddr = sin->sin_addr.s_addr;
	nsk->inet.inet_saddr = sin->sin_addr.s_addr;
out:
	release_sock(sk);
	return err;
}

static int nc_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	int err;

	lock_sock(sk);
	err = -EINVAL;
	if (sock->state != SS_UNCONNECTED || nsk->peer ||
	    atomic_read(&nsk->unlinked) ||
	    (sk->sk_state != TCP_CLOSE && sk->sk_state != TCP_LISTEN))
		goto out;
	WRITE_ONCE(sk->sk_max_ack_backlog, clamp(backlog, 1, 65535));
	if (sk->sk_state == TCP_LISTEN) {
		err = 0;
		goto out;
	}
	if (!nsk->bound) {
		err = nc_port_claim(nsk, 0);
		if (err)
			goto out;
	}
	/* this host now takes channels from other hosts */
	err = nc_net_listen_start(nsk->nn);
	if (err)
		goto out;
	nsk->rcv_window = (sk->sk_userlocks & SOCK_RCVBUF_LOCK) ?
			  max(READ_ONCE(sk->sk_rcvbuf) / 2, 4096) :
			  READ_ONCE(nsk->nn->rcv_window);
	inet_sk_set_state(sk, TCP_LISTEN);
out:
	release_sock(sk);
	return err;
}

/*
 * Wait until @cond(@sk) holds, up to *@timeo; 0 or -errno (-EAGAIN when the
 * time ran out). With @locked, the socket lock is held and is dropped
 * while sleeping.
 */
static int nc_wait(struct sock *sk, long *timeo, bool (*cond)(struct sock *sk),
		   bool locked)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int err = 0;

	add_wait_queue(sk_sleep(sk), &wait);
	while (!cond(sk)) {
		if (!*timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(*timeo);
			break;
		}
		if (locked)
			release_sock(sk);
		*timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, *timeo);
		if (locked)
			lock_sock(sk);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return err;
}

static bool nc_connect_done(struct sock *sk)
{
	return READ_ONCE(sk->sk_state) != TCP_SYN_SENT;
}

static bool nc_accept_ready(struct sock *sk)
{
	return !list_empty_careful(&nc_sk(sk)->accept_q) ||
	       READ_ONCE(sk->sk_state) != TCP_LISTEN;
}

static int nc_accept(struct socket *sock, struct socket *newsock,
		     struct proto_accept_arg *arg)
{
	struct sock *sk = sock->sk, *csk;
	struct nc_sock *nsk = nc_sk(sk), *child = NULL;
	long timeo;
	int err = 0;

	lock_sock(sk);
	if (sk->sk_state != TCP_LISTEN) {
		err = -EINVAL;
		goto out;
	}
	timeo = sock_rcvtimeo(sk, arg->flags & O_NONBLOCK);
	for (;;) {
		spin_lock_bh(&nsk->lock);
		child = list_first_entry_or_null(&nsk->accept_q,
						 struct nc_sock, accept_node);
		if (child) {
			list_del_init(&child->accept_node);
			nsk->nr_accept--;
		}
		spin_unlock_bh(&nsk->lock);
		if (child)
			break;
		err = -EINVAL;
		if (sk->sk_state != TCP_LISTEN)
			break;
		err = nc_wait(sk, &timeo, nc_accept_ready, true);
		if (err)
			break;
	}
	if (!child)
		goto out;
	/*
	 * As inet_csk_accept(): the listener's lock is dropped before the
	 * child's is taken, so the two (same lock class) never nest.
	 */
	release_sock(sk);
	csk = &child->inet.sk;
	lock_sock(csk);
	sock_graft(csk, newsock);
	newsock->state = SS_CONNECTED;
	release_sock(csk);
	/* the accept queue's reference is now the socket's */
	return 0;
out:
	release_sock(sk);
	return err;
}

static int nc_connect(struct socket *sock, struct sockaddr *uaddr,
		      int addr_len, int flags)
{
	DECLARE_SOCKADDR(struct sockaddr_in *, sin, uaddr);
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	struct nc_peer *peer;
	bool waiting;
	long timeo;
	int err;

	if (addr_len < sizeof(*sin))
		return -EINVAL;
	if (sin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	if (!sin->sin_port || ipv4_is_multicast(sin->sin_addr.s_addr) ||
	    sin->sin_addr.s_addr == htonl(INADDR_BROADCAST))
		return -ENETUNREACH;

	lock_sock(sk);
	switch (sock->state) {
	case SS_CONNECTED:
		err = -EISCONN;
		goto out;
	case SS_CONNECTING:
		if (sk->sk_state == TCP_SYN_SENT) {
			err = -EALREADY;
			if (flags & O_NONBLOCK)
				goto out;
			goto wait;
		}
		goto done;
	default:
		break;
	}
	err = -EISCONN;
	if (sk->sk_state != TCP_CLOSE || nsk->peer)
		goto out;
	/* a listener that was shut down keeps no id: it cannot connect */
	err = -EINVAL;
	if (atomic_read(&nsk->unlinked))
		goto out;
	if (!nsk->bound) {
		err = nc_port_claim(nsk, 0);
		if (err)
			goto out;
	}
	peer = nc_peer_connect(nsk->nn, sin->sin_addr.s_addr);
	if (IS_ERR(peer)) {
		err = PTR_ERR(peer);
		goto out;
	}
	nsk->peer = peer;
	nsk->inet.inet_daddr = sin->sin_addr.s_addr;
	nsk->inet.inet_dport = sin->sin_port;
	nsk->sched.peer_addr = sin->sin_addr.s_addr;
	nsk->sched.peer_port = sin->sin_port;
	nsk->rcv_window = (sk->sk_userlocks & SOCK_RCVBUF_LOCK) ?
			  max(READ_ONCE(sk->sk_rcvbuf) / 2, 4096) :
			  READ_ONCE(nsk->nn->rcv_window);
	inet_sk_set_state(sk, TCP_SYN_SENT);
	sock->state = SS_CONNECTING;

	spin_lock_bh(&peer->lock);
	waiting = peer->state == NC_PEER_CONNECTING;
	if (waiting)
		list_add_tail(&nsk->peer_node, &peer->waiting);
	spin_unlock_bh(&peer->lock);
	if (!waiting)
		nc_sock_peer_ready(nsk);

	err = -EINPROGRESS;
	if (flags & O_NONBLOCK)
		goto out;
wait:
	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
	err = nc_wait(sk, &timeo, nc_connect_done, true);
	if (READ_ONCE(sk->sk_state) == TCP_SYN_SENT) {
		/* as TCP: a connect that timed out is still in progress */
		if (err == -EAGAIN)
			err = -EINPROGRESS;
		goto out;
	}
done:
	if (nc_sk_connected(sk)) {
		sock->state = SS_CONNECTED;
		err = 0;
	} else {
		err = sock_error(sk) ?: -ECONNREFUSED;
		sock->state = SS_UNCONNECTED;
	}
out:
	release_sock(sk);
	return err;
}

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
 */
static struct sk_buff *nc_tx_skb_alloc(struct sock *sk, size_t len,
				       bool noblock, int *err)
{
	struct sk_buff *skb;

	if (len <= NC_TX_COPYBREAK) {
		skb = sock_alloc_send_skb(sk, len, noblock, err);
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

static int nc_sendmsg(struct socket *sock, struct msghdr *msg, size_t size)
{
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	int flags = msg->msg_flags, err = 0;
	bool noblock = flags & MSG_DONTWAIT;
	u64 queued_ns = ktime_get_ns();
	struct nc_peer *peer;
	struct sk_buff *skb;
	size_t copied = 0;
	bool vns, idle;
	long timeo;

	if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_EOR |
		      MSG_WAITALL | MSG_CMSG_COMPAT))
		return -EOPNOTSUPP;
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
	 * Cut the write into skbs of one frame each. Large writes are copied
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
					     READ_ONCE(nsk->nn->frame_size));
			void __user *ua = NULL;

			if (b && iter_iov_len(&msg->msg_iter)) {
				chunk = min(chunk, iter_iov_len(&msg->msg_iter));
				ua = iter_iov_addr(&msg->msg_iter);
			}
			/*
			 * Paged: the channel splices the pages into TCP, so
			 * this is the only copy. Small writes are linear (a
			 * page, zeroed, costs more than TCP's copy of them).
			 * Only a batch's first skb may wait for buffer space.
			 */
			skb = nc_tx_skb_alloc(sk, chunk, noblock || n, &err);
			if (!skb)
				break;
			if (ua) {
				ret = nc_vns_copy(b, skb, 0, ua, chunk, false);
				iov_iter_advance(&msg->msg_iter, chunk);
			} else if (skb_copy_datagram_from_iter(skb, 0, &msg->msg_iter,
							       chunk)) {
				ret = -EFAULT;
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
		for (i = 0; i < n; i++)
			__skb_queue_tail(&nsk->txq, batch[i]);
		nsk->tx_bytes += batched;
		nc_sock_tx_ready_locked(nsk);
		spin_unlock_bh(&peer->lock);
		copied += batched;
		if (idle)
			nc_peer_push(peer, nsk);
		else
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

/* Credit back what the reader consumed, once it is worth a frame. */
static void nc_sock_credit(struct nc_sock *nsk, u32 consumed)
{
	u32 credit = 0;

	spin_lock_bh(&nsk->lock);
	nsk->rcv_unacked += consumed;
	if (nsk->rcv_unacked >= nsk->rcv_window / 4 ||
	    (skb_queue_empty(&nsk->inet.sk.sk_receive_queue) &&
	     nsk->rcv_unacked >= nsk->rcv_window / 16)) {
		credit = nsk->rcv_unacked;
		nsk->rcv_budget += credit;
		nsk->rcv_unacked = 0;
	}
	spin_unlock_bh(&nsk->lock);
	if (credit && nc_sk_connected(&nsk->inet.sk)) {
		trace_nc_credit(nsk->id, credit, false);
		nc_send_ctrl(nsk, NC_CTRL_CREDIT, credit);
	}
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
			__skb_queue_tail(&done, skb);
			/* a short frame used more credit than its bytes */
			extra += nc_frame_cost(skb->len) - skb->len;
		}
	}
	nsk->rcv_bytes -= total - bytes;
	spin_unlock_bh(&nsk->lock);
	/* frees the receive-buffer charge outside the lock */
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

static bool nc_rx_wakeup(struct sock *sk)
{
	return !skb_queue_empty_lockless(&sk->sk_receive_queue) ||
	       READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
	       READ_ONCE(sk->sk_state) == TCP_CLOSE;
}

static int nc_recvmsg(struct socket *sock, struct msghdr *msg, size_t size,
		      int flags)
{
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	bool peek = flags & MSG_PEEK;
	size_t copied = 0, target;
	struct sk_buff *skb;
	u32 off, n, skipped;
	int err = 0, ret;
	long timeo;
	bool vns;

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
		if (READ_ONCE(sk->sk_err)) {
			err = copied ? 0 : sock_error(sk);
			break;
		}
		if (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) {
			/*
			 * A reset sets sk_err before sk_shutdown: one that
			 * came since we looked at sk_err is an error, not EOF.
			 */
			smp_rmb();
			if (!copied && READ_ONCE(sk->sk_err))
				err = sock_error(sk);
			break;
		}
		if (READ_ONCE(sk->sk_state) == TCP_CLOSE) {
			/*
			 * A reset may have come since we looked at sk_err
			 * and sk_shutdown: it set both before the state.
			 */
			smp_rmb();
			if (!nsk->peer)
				err = -ENOTCONN;	/* never connected */
			else if (!copied && READ_ONCE(sk->sk_err))
				err = sock_error(sk);
			break;
		}
		err = nc_wait(sk, &timeo, nc_rx_wakeup, false);
		if (err)
			break;
	}
	mutex_unlock(&nsk->recv_mutex);
	if (copied)
		return copied;
	return err;
}

static __poll_t nc_poll(struct file *file, struct socket *sock,
			poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	int state = READ_ONCE(sk->sk_state);
	u8 shutdown = READ_ONCE(sk->sk_shutdown);
	__poll_t mask = 0;

	sock_poll_wait(file, sock, wait);
	if (state == TCP_LISTEN)
		return list_empty_careful(&nsk->accept_q) ?
		       0 : EPOLLIN | EPOLLRDNORM;

	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (state == TCP_SYN_SENT)
		return mask;
	if (!skb_queue_empty_lockless(&sk->sk_receive_queue))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (!(shutdown & SEND_SHUTDOWN)) {
		if (sock_writeable(sk)) {
			mask |= EPOLLOUT | EPOLLWRNORM;
		} else {
			sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
			set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
			/* a race with the write space wakeup */
			smp_mb__after_atomic();
			if (sock_writeable(sk))
				mask |= EPOLLOUT | EPOLLWRNORM;
		}
	} else {
		mask |= EPOLLOUT | EPOLLWRNORM;
	}
	return mask;
}

static int nc_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	int err = 0;

	how++;	/* SHUT_RD (0) becomes RCV_SHUTDOWN (1), and so on */
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		if (how & RCV_SHUTDOWN) {
			/* as TCP: stop listening, wake blocked acceptors */
			nc_sock_unlink(nsk);
			sock->state = SS_UNCONNECTED;
			sk->sk_state_change(sk);
		}
		goto out;
	}
	if (sk->sk_state == TCP_SYN_SENT) {
		/*
		 * As TCP: shutting down a connection attempt gives it up; the
		 * peer's ACCEPT, if one comes, is answered with a RESET.
		 */
		nc_sock_reset(nsk, ECONNRESET);
		sock->state = SS_UNCONNECTED;
		goto out;
	}
	if (!nc_sk_connected(sk)) {
		err = -ENOTCONN;
		goto out;
	}
	if ((how & SEND_SHUTDOWN) && !(sk->sk_shutdown & SEND_SHUTDOWN)) {
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | SEND_SHUTDOWN);
		if (sk->sk_state == TCP_ESTABLISHED)
			inet_sk_set_state(sk, TCP_FIN_WAIT1);
		nc_sock_queue_fin(nsk);
	}
	if (how & RCV_SHUTDOWN)
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
	sk->sk_state_change(sk);
out:
	release_sock(sk);
	return err;
}

static void nc_sock_close(struct sock *sk, long timeout)
{
	struct nc_sock *nsk = nc_sk(sk);
	bool unread, abort, linger = false;

	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	unread = !skb_queue_empty_lockless(&sk->sk_receive_queue);
	abort = unread || (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime);
	if (nc_sk_connected(sk) && abort) {
		/* as TCP: unread data or SO_LINGER 0 means RST */
		nc_sock_abort(nsk, ECONNRESET);
	} else if (nc_sk_connected(sk)) {
		/*
		 * Finish sending, then CLOSE, then go, unless our CLOSE is
		 * already out (shutdown(SHUT_WR) before). Decided under
		 * nsk->lock against nc_sock_fin_sent(), so that exactly one
		 * of us ends the linger, and against nc_sock_reset(), which
		 * ends a linger only if it sees one; the references and the
		 * timeout are in place before the CLOSE's sender can see
		 * @lingering.
		 */
		spin_lock_bh(&nsk->lock);
		/* a reset (the group died) may have come since we looked */
		linger = !nsk->fin_done && nc_sk_connected(sk);
		if (linger) {
			WRITE_ONCE(nsk->lingering, true);
			sock_hold(sk);	/* the linger reference */
			sock_hold(sk);	/* the linger work's */
			if (!queue_delayed_work(nc_wq, &nsk->linger_work,
						NC_LINGER_TIMEOUT))
				sock_put(sk);
		}
		spin_unlock_bh(&nsk->lock);
		if (linger)
			nc_sock_queue_fin(nsk);
	}
	if (!linger && sk->sk_state != TCP_CLOSE && sk->sk_state != TCP_LISTEN)
		nc_sock_reset(nsk, ECONNRESET);
	release_sock(sk);
	/* calls nc_sock_destroy(), which unlinks unless lingering */
	sk_common_release(sk);
}

static int nc_sock_hash(struct sock *sk)
{
	return 0;
}

static void nc_sock_unhash(struct sock *sk)
{
}

static int nc_setsockopt(struct sock *sk, int level, int optname,
			 sockptr_t optval, unsigned int optlen)
{
	return -ENOPROTOOPT;
}

static int nc_getsockopt(struct sock *sk, int level, int optname,
			 char __user *optval, int __user *option)
{
	return -ENOPROTOOPT;
}

static int nc_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	struct sk_buff *skb;
	int n = 0;

	switch (cmd) {
	case SIOCINQ:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		spin_lock_bh(&nsk->lock);
		skb_queue_walk(&sk->sk_receive_queue, skb)
			n += skb->len - NC_SKB_CB(skb)->off;
		spin_unlock_bh(&nsk->lock);
		break;
	case SIOCOUTQ:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		if (nsk->peer) {
			spin_lock_bh(&nsk->peer->lock);
			skb_queue_walk(&nsk->txq, skb)
				n += skb->len;
			n -= nsk->tx_off;
			spin_unlock_bh(&nsk->peer->lock);
		}
		break;
	default:
		return -ENOIOCTLCMD;
	}
	return put_user(n, (int __user *)arg);
}

static struct proto nc_prot = {
	.name		= "NETCHANNEL",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct nc_sock),
	.init		= nc_sock_init,
	.destroy	= nc_sock_destroy,
	.close		= nc_sock_close,
	.hash		= nc_sock_hash,
	.unhash		= nc_sock_unhash,
	.setsockopt	= nc_setsockopt,
	.getsockopt	= nc_getsockopt,
};

static const struct proto_ops nc_stream_ops = {
	.family		= PF_INET,
	.owner		= THIS_MODULE,
	.release	= inet_release,
	.bind		= nc_bind,
	.connect	= nc_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= nc_accept,
	.getname	= inet_getname,
	.poll		= nc_poll,
	.ioctl		= nc_ioctl,
	.listen		= nc_listen,
	.shutdown	= nc_shutdown,
	.setsockopt	= sock_common_setsockopt,
	.getsockopt	= sock_common_getsockopt,
	.sendmsg	= nc_sendmsg,
	.recvmsg	= nc_recvmsg,
	.mmap		= sock_no_mmap,
};

static struct inet_protosw nc_protosw = {
	.type		= SOCK_STREAM,
	.protocol	= IPPROTO_NETCHANNEL,
	.prot		= &nc_prot,
	.ops		= &nc_stream_ops,
};

static const char *nc_state_str(int state)
{
	switch (state) {
	case TCP_ESTABLISHED: return "ESTABLISHED";
	case TCP_SYN_SENT: return "SYN_SENT";
	case TCP_FIN_WAIT1: return "FIN_WAIT";
	case TCP_CLOSE: return "CLOSE";
	case TCP_CLOSE_WAIT: return "CLOSE_WAIT";
	case TCP_LISTEN: return "LISTEN";
	default: return "?";
	}
}

/* /proc/net/netchannel/sockets */
int nc_proc_socks_show(struct seq_file *seq, void *v)
{
	struct nc_net *nn = nc_net(seq_file_single_net(seq));
	struct nc_sock *nsk;
	unsigned long id;

	seq_puts(seq, "id       remote   state        local                 peer                  rcvq     txq      credit   window   class weight\n");
	rcu_read_lock();
	xa_for_each(&nn->socks, id, nsk) {
		struct sock *sk = &nsk->inet.sk;
		struct inet_sock *inet = &nsk->inet;

		seq_printf(seq, "%-8u %-8u %-12s %15pI4:%-5u %15pI4:%-5u %-8u %-8u %-8lld %-8u %-5u %u\n",
			   nsk->id, nsk->remote_id,
			   nc_state_str(READ_ONCE(sk->sk_state)),
			   &inet->inet_saddr, ntohs(inet->inet_sport),
			   &inet->inet_daddr, ntohs(inet->inet_dport),
			   skb_queue_len_lockless(&sk->sk_receive_queue),
			   skb_queue_len_lockless(&nsk->txq),
			   READ_ONCE(nsk->snd_credit), nsk->rcv_window,
			   READ_ONCE(nsk->sched.class),
			   READ_ONCE(nsk->sched.weight));
	}
	rcu_read_unlock();
	seq_printf(seq, "total: %d\n", atomic_read(&nn->nr_socks));
	return 0;
}

int nc_sock_register(void)
{
	int err;

	err = proto_register(&nc_prot, 1);
	if (err)
		return err;
	inet_register_protosw(&nc_protosw);
	return 0;
}

void nc_sock_unregister(void)
{
	inet_unregister_protosw(&nc_protosw);
	proto_unregister(&nc_prot);
}
