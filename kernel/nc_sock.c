// SPDX-License-Identifier: GPL-2.0
/*
 * VNS: the NetChannel virtual socket, socket(AF_INET or AF_INET6,
 * SOCK_STREAM, 253).
 * This file holds the socket's life and its connection: creation, bind,
 * listen, connect and accept, shutdown and close, /proc. The rest of the
 * layer:
 *
 *	nc_sock_rx.c	frames from the peer: DATA in order, CREDIT, CLOSE
 *	nc_sock_io.c	sendmsg() and recvmsg(), splice
 *	nc_sockopt.c	the TCP-level options
 *	nc_vns.c	the copy workers that recvmsg() and sendmsg() use
 *
 * The protocol is registered with inet_register_protosw() and
 * inet6_register_protosw() as SCTP and MPTCP do, so inet_create() and
 * inet6_create() allocate our struct nc_sock (struct nc6_sock for
 * AF_INET6, with the ipv6_pinfo after it). The two families differ only
 * in where a socket keeps its addresses (nc_addr.c) and in what bind() and
 * connect() accept: a peer is an IPv4 or an IPv6 host, and an AF_INET6
 * socket reaches IPv4 hosts through v4-mapped addresses unless
 * IPV6_V6ONLY is set. sk_alloc() takes a
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
#include <linux/percpu_counter.h>
#include <linux/sched/signal.h>
#include <linux/swap.h>
#include <linux/sysctl.h>
#include <asm/ioctls.h>
#include <net/addrconf.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/protocol.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "netchannel.h"
#include "nc_sock.h"
#include "nc_trace.h"

#define NC_LINGER_TIMEOUT	(60 * HZ)

static struct proto nc_prot;
static struct proto nc_v6_prot;

/* an AF_INET6 socket, as MPTCP's mptcp6_sock */
struct nc6_sock {
	struct nc_sock nsk;
	struct ipv6_pinfo np;
};

/*
 * The protocol's memory, as TCP's (net.ipv4.tcp_mem) and SCTP's: the
 * receive queues of every NetChannel socket (sk_rmem_alloc, see
 * nc_sock_rmem_charge()) are counted in nc_memory_allocated, in pages.
 * net.netchannel.mem holds the three limits, in pages, for the whole host
 * (it exists in the initial namespace only, as tcp_mem): under [0] there is
 * no pressure; above [1] the protocol is under pressure until it falls
 * under [0] again; above [2] the core refuses to charge. A frame is never
 * dropped for memory, since its sender had credit for it (there is no
 * retransmission above TCP): under pressure each socket's window shrinks to
 * NC_RMEM_PRESSURE_WINDOW instead (nc_sock_credit()), which bounds what the
 * peers can send next; past [2], a frame is taken all the same and counted
 * in rmem_forced. /proc/net/protocols shows the pages and the pressure.
 * The send side is bounded per socket by sk_sndbuf and not counted here.
 */
static atomic_long_t nc_memory_allocated ____cacheline_aligned_in_smp;
static DEFINE_PER_CPU(int, nc_memory_per_cpu_fw_alloc);
static struct percpu_counter nc_sockets_allocated;
static unsigned long nc_memory_pressure;
static long sysctl_nc_mem[3];
/* [0]: a socket with less in its receive queue is charged under pressure */
static int sysctl_nc_rmem[3] = { 4 * NC_RMEM_PRESSURE_WINDOW, 0, 0 };

static void nc_enter_memory_pressure(struct sock *sk)
{
	WRITE_ONCE(nc_memory_pressure, 1);
}

static struct ctl_table nc_mem_sysctl[] = {
	{
		.procname	= "mem",
		.data		= &sysctl_nc_mem,
		.maxlen		= sizeof(sysctl_nc_mem),
		.mode		= 0644,
		.proc_handler	= proc_doulongvec_minmax,
	},
};

static struct ctl_table_header *nc_mem_sysctl_hdr;

static void nc_sock_linger_workfn(struct work_struct *work);
static void nc_sock_cork_timeout(struct timer_list *t);
static void nc_sock_destruct(struct sock *sk);

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

	/* first: nc_sock_destruct() undoes it, whatever fails below */
	sk_sockets_allocated_inc(sk);
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
	nsk->chan_mask = NETSCHED_CHANNELS_ALL;
	INIT_LIST_HEAD(&nsk->peer_node);
	INIT_LIST_HEAD(&nsk->accept_q);
	INIT_LIST_HEAD(&nsk->accept_node);
	INIT_DELAYED_WORK(&nsk->linger_work, nc_sock_linger_workfn);
	timer_setup(&nsk->cork_timer, nc_sock_cork_timeout, 0);
	nc_fb_init(nsk);
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
	nsk->sched.weight = NETSCHED_WEIGHT_DFL;
	nsk->sched.family = sk->sk_family;
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
	sk_stop_timer(sk, &nsk->cork_timer);
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
	sk_sockets_allocated_dec(sk);
	if (sk->sk_family == AF_INET6)
		inet6_sock_destruct(sk);
	else
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

/*
 * Queue @f, in @nsk's slot @c, on its home channel. A home that is being
 * retired has moved the socket's home before it closed its queue, so the
 * second try goes on the new one (a socket no longer on its peer's list
 * takes another here). The home is read under RCU: a retired channel is
 * freed after a grace period. Any context; 0 or the error of the queue.
 */
int nc_sock_queue_ctrl(struct nc_sock *nsk, struct nc_ctrl *c,
		       const struct nc_frame *f)
{
	struct nc_peer *peer = nsk->peer;
	struct nc_channel *ch;
	int err = -ENOTCONN, tries;

	rcu_read_lock();
	for (tries = 0; tries < 2; tries++) {
		ch = READ_ONCE(nsk->home);
		if (!ch)
			break;
		err = nc_chan_queue_ctrl(ch, c, f);
		if (err != -ESHUTDOWN || !peer)
			break;
		spin_lock_bh(&peer->lock);
		nc_peer_rehome(peer, nsk, ch);
		spin_unlock_bh(&peer->lock);
	}
	rcu_read_unlock();
	return err;
}

/* Queue a control frame of the connection on its home channel. */
void nc_send_ctrl(struct nc_sock *nsk, enum nc_ctrl_kind kind, u32 arg)
{
	struct nc_frame f = {
		.type = nc_ctrl_type[kind], .src_id = nsk->id,
		.dst_id = nsk->remote_id,
		.arg = arg,
	};

	if (nsk->remote_id)
		nc_sock_queue_ctrl(nsk, &nsk->ctrl[kind], &f);
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
	bool was_lingering, fallback;

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
	/* a refused connect may go on over TCP: then it has no error yet */
	fallback = nc_fb_start(nsk, err);
	if (!fallback)
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
	if (!fallback) {
		sk_error_report(sk);
		sk->sk_state_change(sk);
	}
	if (was_lingering)
		nc_sock_linger_done(nsk);
}

/* Abort the connection towards the peer and locally. */
void nc_sock_abort(struct nc_sock *nsk, int err)
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
 * Corked (TCP_CORK, MSG_MORE): a last skb that is partial (linear, under
 * NC_TX_COPYBREAK) and alone in the queue waits for more, as TCP sends
 * only full segments while corked. peer->lock held.
 */
bool nc_sock_tx_held(const struct nc_sock *nsk)
{
	const struct sk_buff *skb = skb_peek(&nsk->txq);

	return nsk->tx_corked && skb && skb_queue_is_last(&nsk->txq, skb) &&
	       !skb_is_nonlinear(skb) && skb->len < NC_TX_COPYBREAK;
}

/*
 * Hand @nsk to the NetScheduler if it can send something: data within
 * credit and not held back by corking, or its CLOSE once the data is out.
 * Returns whether it can. peer->lock held.
 */
bool nc_sock_tx_ready_locked(struct nc_sock *nsk)
{
	struct nc_peer *peer = nsk->peer;

	lockdep_assert_held(&peer->lock);
	if (peer->state == NC_PEER_DEAD || atomic_read(&nsk->unlinked))
		return false;
	if ((!skb_queue_empty(&nsk->txq) && !nc_sock_tx_held(nsk) &&
	     nsk->snd_credit >= NC_FRAME_MIN_COST) ||
	    (nsk->fin_queued && !nsk->fin_sent && nsk->remote_id &&
	     skb_queue_empty(&nsk->txq))) {
		nc_sched_ready_add(peer, nsk);
		return true;
	}
	nc_sched_ready_del(peer, nsk);
	return false;
}

static void nc_sock_queue_fin(struct nc_sock *nsk)
{
	struct nc_peer *peer = nsk->peer;

	if (!peer)
		return;
	spin_lock_bh(&peer->lock);
	nsk->fin_queued = true;
	nsk->tx_corked = false;		/* as TCP: the FIN pushes */
	nc_sock_tx_ready_locked(nsk);
	spin_unlock_bh(&peer->lock);
	nc_peer_kick(peer, nsk);
}

/* Send what corking held back. Any context. */
void nc_sock_uncork(struct nc_sock *nsk)
{
	struct nc_peer *peer = nsk->peer;
	bool ready = false;

	if (!peer)
		return;
	spin_lock_bh(&peer->lock);
	if (nsk->tx_corked) {
		nsk->tx_corked = false;
		ready = nc_sock_tx_ready_locked(nsk);
	}
	spin_unlock_bh(&peer->lock);
	if (ready)
		nc_peer_kick(peer, nsk);
}

/* NC_CORK_TIMEOUT after corking began: send the rest, as TCP does. */
static void nc_sock_cork_timeout(struct timer_list *t)
{
	struct nc_sock *nsk = from_timer(nsk, t, cork_timer);

	nc_sock_uncork(nsk);
	sock_put(&nsk->inet.sk);	/* the timer's */
}

/* splice()/sendfile() ended: a tail its MSG_MORE held goes, unless corked */
static void nc_splice_eof(struct socket *sock)
{
	struct socket *fb = nc_fb(sock->sk);

	if (fb) {
		if (fb->ops->splice_eof)
			fb->ops->splice_eof(fb);
		return;
	}
	if (!READ_ONCE(nc_sk(sock->sk)->opt.cork))
		nc_sock_uncork(nc_sk(sock->sk));
}

/* What the policy sees of the peer (struct netsched_sock). */
static void nc_sock_set_sched_peer(struct nc_sock *nsk,
				   const struct in6_addr *a, __be16 port)
{
	nsk->sched.peer_addr = nc_addr_v4(a) ? a->s6_addr32[3] : 0;
	memcpy(nsk->sched.peer_addr6, a, sizeof(nsk->sched.peer_addr6));
	nsk->sched.peer_port = port;
}

/* ---- connections from and to the peer (the receive work) --------------- */

static void nc_sock_refuse(struct nc_channel *ch, const struct nc_frame *f)
{
	struct nc_frame r = {
		.type = NC_FT_RESET, .dst_id = f->src_id, .arg = ECONNREFUSED,
	};

	nc_stat_inc(ch->nn, NC_STAT_OPENS_REFUSED);
	nc_chan_send_ctrl(ch, &r);
}

/*
 * May listener @lsk take a connection from @peer? As TCP's listeners: an
 * AF_INET one takes IPv4 hosts, an AF_INET6 one IPv6 hosts and, unless
 * IPV6_V6ONLY, IPv4 ones.
 */
static bool nc_listener_takes(const struct sock *lsk,
			      const struct nc_peer *peer)
{
	if (lsk->sk_family == AF_INET)
		return nc_addr_v4(&peer->addr);
	return !nc_addr_v4(&peer->addr) || !ipv6_only_sock(lsk);
}

/* A child of @lsk, of its family: what inet_create()/inet6_create() do. */
static struct sock *nc_sock_alloc_child(const struct sock *lsk)
{
	struct ipv6_pinfo *np;
	struct sock *sk;

	sk = sk_alloc(sock_net(lsk), lsk->sk_family, GFP_KERNEL, lsk->sk_prot,
		      0);
	if (!sk)
		return NULL;
	sock_init_data(NULL, sk);
	if (sk->sk_family == AF_INET6) {
		np = &container_of(nc_sk(sk), struct nc6_sock, nsk)->np;
		inet_sk(sk)->pinet6 = np;
		np->hop_limit = -1;
		np->mcast_hops = IPV6_DEFAULT_MCASTHOPS;
		np->pmtudisc = IPV6_PMTUDISC_WANT;
		sk->sk_ipv6only = lsk->sk_ipv6only;
	}
	return sk;
}

/* OPEN: a connection request for a listener on this host. */
void nc_sock_rx_open(struct nc_channel *ch, const struct nc_frame *f)
{
	u16 dport = NC_OPEN_ARG_DPORT(f->arg), sport = NC_OPEN_ARG_SPORT(f->arg);
	struct nc_net *nn = ch->nn;
	struct nc_peer *peer = ch->peer;
	struct nc_sock *lnsk, *nsk;
	struct in6_addr local;
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
	    !nc_listener_takes(lsk, peer) ||
	    READ_ONCE(lnsk->nr_accept) >= READ_ONCE(lsk->sk_max_ack_backlog))
		goto refuse;

	sk = nc_sock_alloc_child(lsk);
	if (!sk)
		goto refuse;
	/* what TCP's child has of its listener (sk_clone_lock()) */
	sk->sk_type = lsk->sk_type;
	sk->sk_protocol = IPPROTO_NETCHANNEL;
	sk->sk_destruct = nc_sock_destruct;
	sock_valbool_flag(sk, SOCK_KEEPOPEN, sock_flag(lsk, SOCK_KEEPOPEN));
	sock_valbool_flag(sk, SOCK_LINGER, sock_flag(lsk, SOCK_LINGER));
	sk->sk_lingertime = READ_ONCE(lsk->sk_lingertime);
	sk->sk_rcvlowat = READ_ONCE(lsk->sk_rcvlowat);
	sk->sk_rcvtimeo = READ_ONCE(lsk->sk_rcvtimeo);
	sk->sk_sndtimeo = READ_ONCE(lsk->sk_sndtimeo);
	sk->sk_mark = READ_ONCE(lsk->sk_mark);
	sk->sk_priority = READ_ONCE(lsk->sk_priority);
	/* read without the listener's lock: a torn copy is a racing set */
	nc_sk(sk)->opt = lnsk->opt;
	sk->sk_rcvbuf = READ_ONCE(lsk->sk_rcvbuf);
	sk->sk_sndbuf = READ_ONCE(lsk->sk_sndbuf);
	sk->sk_userlocks = lsk->sk_userlocks & SOCK_BUF_LOCK_MASK;
	nsk = nc_sk(sk);
	if (nc_sock_setup(sk, lnsk->sched.cgroup_id)) {
		sock_orphan(sk);
		sk_free(sk);
		goto refuse;
	}
	if (nc_socket_addr(ch->sock, &local, true))
		local = in6addr_any;
	nc_sk_set_local(sk, &local, true);
	nsk->inet.inet_sport = htons(dport);
	nsk->inet.inet_num = dport;
	nc_sk_set_remote(sk, &peer->addr);
	nsk->inet.inet_dport = htons(sport);
	nc_sock_set_sched_peer(nsk, &peer->addr, htons(sport));
	nsk->sched.local_port = htons(dport);
	nsk->remote_id = f->src_id;
	nsk->home = ch;
	nsk->rcv_window = lnsk->rcv_window;
	nsk->rcv_clamp = nsk->rcv_window;
	nsk->rcv_budget = nsk->rcv_window;
	refcount_inc(&peer->ref);
	nsk->peer = peer;
	nc_sched_sock_connected(nsk, peer->nr);
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
	struct in6_addr local;
	struct nc_frame f = {
		.type = NC_FT_OPEN, .src_id = nsk->id,
		.arg = NC_OPEN_ARG(ntohs(nsk->inet.inet_dport),
				   ntohs(nsk->inet.inet_sport)),
	};
	struct nc_channel *home;
	bool connecting = false;

	/* the policy sees the addresses, and its set holds the home channel */
	nc_sched_sock_connected(nsk, peer->nr);
	spin_lock_bh(&peer->lock);
	home = peer->state == NC_PEER_READY ?
	       nc_peer_pick_home(peer, nsk) : NULL;
	if (home && READ_ONCE(sk->sk_state) == TCP_SYN_SENT) {
		nsk->home = home;
		refcount_inc(&home->ref);	/* for its address, below */
		list_add_tail(&nsk->peer_node, &peer->socks);
		connecting = true;
	}
	spin_unlock_bh(&peer->lock);
	if (!home) {
		nc_sock_reset(nsk, peer->err ?: ECONNREFUSED);
		return;
	}
	if (!connecting)
		return;		/* closed meanwhile */
	/* the home may move meanwhile (a retirement): ours stays ours */
	if (!nc_socket_addr(home->sock, &local, true))
		nc_sk_set_local(sk, &local, false);
	nc_chan_put(home);
	nc_sock_queue_ctrl(nsk, &nsk->ctrl[NC_CTRL_OPEN], &f);
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

/*
 * The address of a bind() or connect() on @sk, as hosts are known (IPv4
 * ones v4-mapped), and its port; the errors are TCP's. Link-local IPv6
 * addresses need a scope (an interface), which channels do not carry:
 * they are refused with EINVAL, what TCP says when the scope is missing.
 */
static int nc_sock_addr(struct sock *sk, struct sockaddr *uaddr, int addr_len,
			bool connect, struct in6_addr *a, __be16 *port)
{
	DECLARE_SOCKADDR(struct sockaddr_in6 *, sin6, uaddr);
	DECLARE_SOCKADDR(struct sockaddr_in *, sin, uaddr);
	int type;

	if (sk->sk_family == AF_INET) {
		if (addr_len < sizeof(*sin))
			return -EINVAL;
		/* as inet_bind(): AF_UNSPEC with INADDR_ANY is AF_INET */
		if (sin->sin_family != AF_INET &&
		    (connect || sin->sin_family != AF_UNSPEC ||
		     sin->sin_addr.s_addr != htonl(INADDR_ANY)))
			return -EAFNOSUPPORT;
		ipv6_addr_set_v4mapped(sin->sin_addr.s_addr, a);
		*port = sin->sin_port;
		return 0;
	}
	if (addr_len < SIN6_LEN_RFC2133)
		return -EINVAL;
	if (sin6->sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	type = ipv6_addr_type(&sin6->sin6_addr);
	if (type == IPV6_ADDR_MAPPED && ipv6_only_sock(sk))
		return connect ? -ENETUNREACH : -EINVAL;
	if (type & IPV6_ADDR_MULTICAST)
		return connect ? -ENETUNREACH : -EINVAL;
	if (__ipv6_addr_needs_scope_id(type))
		return -EINVAL;
	*a = sin6->sin6_addr;
	*port = sin6->sin6_port;
	return 0;
}

/* Is @a (not any) an address of this host? The errors are TCP's. */
static int nc_bind_addr_check(struct sock *sk, const struct in6_addr *a)
{
	struct net *net = sock_net(sk);

	if (nc_addr_v4(a)) {
		if (a->s6_addr32[3] != htonl(INADDR_ANY) &&
		    inet_addr_type_table(net, a->s6_addr32[3],
					 RT_TABLE_LOCAL) != RTN_LOCAL)
			return -EADDRNOTAVAIL;
		return 0;
	}
	if (ipv6_addr_any(a))
		return 0;
	return ipv6_chk_addr(net, a, NULL, 0) ? 0 : -EADDRNOTAVAIL;
}

static int nc_bind(struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	struct in6_addr a;
	__be16 nport;
	u16 port;
	int err;

	err = nc_sock_addr(sk, uaddr, addr_len, false, &a, &nport);
	if (!err)
		err = nc_bind_addr_check(sk, &a);
	if (err)
		return err;
	port = ntohs(nport);
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
	nc_sk_set_local(sk, &a, true);
	/* as inet_bind(): what the user chose (a fallback socket binds it) */
	if (!ipv6_addr_any(&a) &&
	    !(nc_addr_v4(&a) && a.s6_addr32[3] == htonl(INADDR_ANY)))
		sk->sk_userlocks |= SOCK_BINDADDR_LOCK;
	if (port)
		sk->sk_userlocks |= SOCK_BINDPORT_LOCK;
out:
	release_sock(sk);
	return err;
}

/*
 * The credit this socket grants (its receive window), set at connect() or
 * listen() (accepted sockets take the listener's). As TCP's: half of the
 * receive buffer is window, half the overhead of the skbs holding it.
 * SO_RCVBUF sets the buffer, and with it the window; else the window is
 * net.netchannel.rcv_window and the buffer grows to twice that. Every DATA
 * skb held, in order or not, is charged to sk_rmem_alloc.
 */
static void nc_sock_size_window(struct nc_sock *nsk)
{
	struct sock *sk = &nsk->inet.sk;
	int window;

	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK) {
		nsk->rcv_window = max(READ_ONCE(sk->sk_rcvbuf) / 2, 4096);
		nsk->rcv_clamp = nsk->rcv_window;
		return;
	}
	window = READ_ONCE(nsk->nn->rcv_window);
	nsk->rcv_window = window;
	nsk->rcv_clamp = window;
	if (READ_ONCE(sk->sk_rcvbuf) < 2 * window)
		WRITE_ONCE(sk->sk_rcvbuf, 2 * window);
}

static bool nc_listen_ok(struct socket *sock, struct nc_sock *nsk)
{
	struct sock *sk = &nsk->inet.sk;

	return sock->state == SS_UNCONNECTED && !nsk->peer &&
	       !atomic_read(&nsk->unlinked) &&
	       (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN);
}

static int nc_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	struct socket *tcp = NULL;
	int err;

	backlog = clamp(backlog, 1, 65535);
	lock_sock(sk);
	err = -EINVAL;
	if (!nc_listen_ok(sock, nsk))
		goto out;
	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	if (sk->sk_state == TCP_LISTEN) {
		/* a new backlog; the TCP listener takes it too */
		tcp = nsk->fb_listen;
		release_sock(sk);
		return tcp ? kernel_listen(tcp, backlog) : 0;
	}
	if (!nsk->bound) {
		err = nc_port_claim(nsk, 0);
		if (err)
			goto out;
	}
	if (nc_fb_rule_listens(nsk)) {
		/* a rule gives the port to TCP: the file becomes a TCP listener */
		release_sock(sk);
		return nc_fb_rule_listen(nsk, backlog);
	}
	/* the TCP side's address and port, without our lock */
	release_sock(sk);
	err = nc_fb_bind(nsk, &tcp);
	if (err)
		return err;
	lock_sock(sk);
	err = -EINVAL;
	if (!nc_listen_ok(sock, nsk) || nsk->fb_closed)
		goto out;
	err = 0;
	if (sk->sk_state == TCP_LISTEN)
		goto out;	/* another listen() won */
	/* this host now takes channels from other hosts */
	err = nc_net_listen_start(nsk->nn);
	if (err)
		goto out;
	nc_sock_size_window(nsk);
	WRITE_ONCE(nsk->fb_listen, tcp);
	inet_sk_set_state(sk, TCP_LISTEN);
	release_sock(sk);
	/* then TCP listens, taking plain TCP clients */
	if (tcp)
		nc_fb_listen(nsk, tcp, backlog);
	return 0;
out:
	release_sock(sk);
	nc_fb_release(nsk, tcp);
	return err;
}

/*
 * Wait until @cond(@sk) holds, up to *@timeo; 0 or -errno (-EAGAIN when the
 * time ran out). With @locked, the socket lock is held and is dropped
 * while sleeping.
 */
int nc_wait(struct sock *sk, long *timeo, bool (*cond)(struct sock *sk),
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

/* connected, refused or given up; not while it falls back to TCP */
bool nc_connect_done(struct sock *sk)
{
	return READ_ONCE(sk->sk_state) != TCP_SYN_SENT &&
	       !READ_ONCE(nc_sk(sk)->fb_pending);
}

static bool nc_accept_ready(struct sock *sk)
{
	return !list_empty_careful(&nc_sk(sk)->accept_q) ||
	       nc_fb_accept_ready(nc_sk(sk)) ||
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
		if (nc_fb_accept_ready(nsk)) {
			/* a plain TCP client: @newsock becomes its socket */
			release_sock(sk);
			err = nc_fb_accept(nsk, newsock, arg);
			if (err != -EAGAIN)
				return err;
			lock_sock(sk);
			continue;
		}
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
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	struct in6_addr a, bound;
	struct nc_peer *peer;
	struct socket *fb;
	__be16 port;
	bool waiting;
	long timeo;
	int err;

	fb = nc_fb(sk);
	if (fb)
		return nc_fb_connect(fb, uaddr, addr_len, flags);
	err = nc_sock_addr(sk, uaddr, addr_len, true, &a, &port);
	if (err)
		return err;
	if (!port ||
	    (nc_addr_v4(&a) && (ipv4_is_multicast(a.s6_addr32[3]) ||
				a.s6_addr32[3] == htonl(INADDR_BROADCAST))))
		return -ENETUNREACH;

	lock_sock(sk);
	switch (sock->state) {
	case SS_CONNECTED:
		err = -EISCONN;
		goto out;
	case SS_CONNECTING:
		if (nsk->fb)
			goto fallback;
		if (sk->sk_state == TCP_SYN_SENT || nsk->fb_pending) {
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
	/* an address bound is of the family the connection is of */
	err = -ENETUNREACH;
	nc_sk_bound_addr(sk, &bound);
	if (!ipv6_addr_any(&bound) && nc_addr_v4(&bound) != nc_addr_v4(&a))
		goto out;
	/* a rule may give this connection to TCP from the start */
	fb = nc_fb_rule_connect(nsk, &a, port);
	if (IS_ERR(fb)) {
		err = PTR_ERR(fb);
		goto out;
	}
	if (fb)
		goto fallback;
	if (!nsk->bound) {
		err = nc_port_claim(nsk, 0);
		if (err)
			goto out;
	}
	peer = nc_peer_connect(nsk->nn, &a);
	if (IS_ERR(peer)) {
		err = PTR_ERR(peer);
		goto out;
	}
	nsk->peer = peer;
	nc_sk_set_remote(sk, &a);
	nsk->inet.inet_dport = port;
	nc_sock_set_sched_peer(nsk, &a, port);
	nc_sock_size_window(nsk);
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
	if (nsk->fb && !err)
		goto fallback;	/* TCP's connect finishes the wait */
	if (READ_ONCE(sk->sk_state) == TCP_SYN_SENT || nsk->fb_pending ||
	    nsk->fb) {
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
fallback:
	fb = nsk->fb;
	release_sock(sk);
	return nc_fb_connect(fb, uaddr, addr_len, flags);
}

static __poll_t nc_poll(struct file *file, struct socket *sock,
			poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	int state = READ_ONCE(sk->sk_state);
	u8 shutdown = READ_ONCE(sk->sk_shutdown);
	struct socket *fb = nc_fb(sk);
	__poll_t mask = 0;

	if (fb)
		return fb->ops->poll(file, fb, wait);
	sock_poll_wait(file, sock, wait);
	if (state == TCP_LISTEN)
		return list_empty_careful(&nsk->accept_q) &&
		       !nc_fb_accept_ready(nsk) ? 0 : EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(nsk->fb_pending))
		return 0;	/* still connecting, over TCP now */

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
	struct socket *tcp = NULL;
	int err = 0;

	tcp = nc_fb(sk);
	if (tcp)
		return tcp->ops->shutdown(tcp, how);
	how++;	/* SHUT_RD (0) becomes RCV_SHUTDOWN (1), and so on */
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		if (how & RCV_SHUTDOWN) {
			/* as TCP: stop listening, wake blocked acceptors */
			nc_sock_unlink(nsk);
			sock->state = SS_UNCONNECTED;
			tcp = nsk->fb_listen;
			sk->sk_state_change(sk);
		}
		release_sock(sk);
		/* the TCP listener stops too (closed with the socket) */
		if (tcp)
			kernel_sock_shutdown(tcp, SHUT_RD);
		return 0;
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
	struct socket *tcp;

	lock_sock(sk);
	tcp = nc_fb_detach(nsk);
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
	/* a fallback connection closes as TCP closes, with its linger */
	nc_fb_release(nsk, tcp);
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

static int nc_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct nc_sock *nsk = nc_sk(sk);
	struct socket *fb = nc_fb(sk);
	struct sk_buff *skb;
	int n = 0;

	if (fb)
		return fb->ops->ioctl(fb, cmd, arg);

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
	.enter_memory_pressure = nc_enter_memory_pressure,
	.memory_pressure = &nc_memory_pressure,
	.memory_allocated = &nc_memory_allocated,
	.per_cpu_fw_alloc = &nc_memory_per_cpu_fw_alloc,
	.sockets_allocated = &nc_sockets_allocated,
	.sysctl_mem	= sysctl_nc_mem,
	.sysctl_rmem	= sysctl_nc_rmem,
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
	.splice_read	= nc_splice_read,
	.splice_eof	= nc_splice_eof,
	.mmap		= sock_no_mmap,
};

static struct inet_protosw nc_protosw = {
	.type		= SOCK_STREAM,
	.protocol	= IPPROTO_NETCHANNEL,
	.prot		= &nc_prot,
	.ops		= &nc_stream_ops,
};

/* AF_INET6: the same calls; the address ones are the family's own */
static const struct proto_ops nc_v6_stream_ops = {
	.family		= PF_INET6,
	.owner		= THIS_MODULE,
	.release	= inet6_release,
	.bind		= nc_bind,
	.connect	= nc_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= nc_accept,
	.getname	= inet6_getname,
	.poll		= nc_poll,
	.ioctl		= nc_ioctl,
	.listen		= nc_listen,
	.shutdown	= nc_shutdown,
	.setsockopt	= sock_common_setsockopt,
	.getsockopt	= sock_common_getsockopt,
	.sendmsg	= nc_sendmsg,
	.recvmsg	= nc_recvmsg,
	.splice_read	= nc_splice_read,
	.splice_eof	= nc_splice_eof,
	.mmap		= sock_no_mmap,
};

static struct inet_protosw nc_v6_protosw = {
	.type		= SOCK_STREAM,
	.protocol	= IPPROTO_NETCHANNEL,
	.prot		= &nc_v6_prot,
	.ops		= &nc_v6_stream_ops,
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

	seq_puts(seq, "id       remote   state        local                 peer                  rcvq     txq      credit   window   class weight channels rmem\n");
	rcu_read_lock();
	xa_for_each(&nn->socks, id, nsk) {
		struct sock *sk = &nsk->inet.sk;
		struct inet_sock *inet = &nsk->inet;
		char local[NC_ADDR_STRLEN], remote[NC_ADDR_STRLEN];
		u64 mask = READ_ONCE(nsk->chan_mask);
		struct in6_addr a;

		nc_sk_local_addr(sk, &a);
		nc_addr_fmt(local, sizeof(local), &a, inet->inet_sport);
		nc_sk_remote_addr(sk, &a);
		nc_addr_fmt(remote, sizeof(remote), &a, inet->inet_dport);
		seq_printf(seq, "%-8u %-8u %-12s %-21s %-21s %-8u %-8u %-8lld %-8u %-5u %-6u ",
			   nsk->id, nsk->remote_id,
			   nc_fb(sk) ? "TCP-FALLBACK" :
			   nc_state_str(READ_ONCE(sk->sk_state)),
			   local, remote,
			   skb_queue_len_lockless(&sk->sk_receive_queue),
			   skb_queue_len_lockless(&nsk->txq),
			   READ_ONCE(nsk->snd_credit), nsk->rcv_window,
			   READ_ONCE(nsk->sched.class),
			   READ_ONCE(nsk->sched.weight));
		if (mask == NETSCHED_CHANNELS_ALL)
			seq_puts(seq, "all");
		else
			seq_printf(seq, "%#llx", mask);
		seq_printf(seq, " %d\n", sk_rmem_alloc_get(sk));
	}
	rcu_read_unlock();
	seq_printf(seq, "total: %d\n", atomic_read(&nn->nr_socks));
	return 0;
}

int nc_sock_register(void)
{
	unsigned long limit;
	int err;

	/* the defaults of SCTP's sctp_mem: an eighth of the buffer pages */
	limit = max(nr_free_buffer_pages() / 8, 128UL);
	sysctl_nc_mem[0] = limit / 4 * 3;
	sysctl_nc_mem[1] = limit;
	sysctl_nc_mem[2] = sysctl_nc_mem[0] * 2;
	err = percpu_counter_init(&nc_sockets_allocated, 0, GFP_KERNEL);
	if (err)
		return err;
	nc_mem_sysctl_hdr = register_net_sysctl(&init_net, "net/netchannel",
						nc_mem_sysctl);
	if (!nc_mem_sysctl_hdr) {
		err = -ENOMEM;
		goto err_counter;
	}
	/* the BPF hook of the rules (nc_fallback.c) */
	err = nc_fb_register();
	if (err)
		goto err_sysctl;
	err = proto_register(&nc_prot, 1);
	if (err)
		goto err_sysctl;
	/* as mptcp_proto_v6_init(): the same proto, with room for the pinfo */
	nc_v6_prot = nc_prot;
	strscpy(nc_v6_prot.name, "NETCHANNELv6", sizeof(nc_v6_prot.name));
	nc_v6_prot.slab = NULL;
	nc_v6_prot.obj_size = sizeof(struct nc6_sock);
	nc_v6_prot.ipv6_pinfo_offset = offsetof(struct nc6_sock, np);
	err = proto_register(&nc_v6_prot, 1);
	if (err)
		goto err_prot;
	err = inet6_register_protosw(&nc_v6_protosw);
	if (err)
		goto err_prot6;
	inet_register_protosw(&nc_protosw);
	return 0;

err_prot6:
	proto_unregister(&nc_v6_prot);
err_prot:
	proto_unregister(&nc_prot);
err_sysctl:
	unregister_net_sysctl_table(nc_mem_sysctl_hdr);
err_counter:
	percpu_counter_destroy(&nc_sockets_allocated);
	return err;
}

void nc_sock_unregister(void)
{
	inet_unregister_protosw(&nc_protosw);
	inet6_unregister_protosw(&nc_v6_protosw);
	proto_unregister(&nc_v6_prot);
	proto_unregister(&nc_prot);
	unregister_net_sysctl_table(nc_mem_sysctl_hdr);
	percpu_counter_destroy(&nc_sockets_allocated);
}
