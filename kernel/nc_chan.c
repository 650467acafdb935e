// SPDX-License-Identifier: GPL-2.0
/*
 * NetDriver: channels (kernel TCP connections between hosts), grouped in
 * peers, and the framing on them. This file holds one channel's life: its
 * socket callbacks, setup, control-frame queue, teardown, the listener
 * that accepts channels, and /proc. The rest of the layer:
 *
 *	nc_input.c	receive: parse frames, hand them to virtual sockets
 *	nc_output.c	transmit: pick frames, hand them to TCP
 *	nc_peer.c	peers: groups of channels to one host
 *	nc_frame.c	the wire format alone (also built for the host tests)
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
#include <linux/net.h>
#include <linux/seq_file.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "netchannel.h"
#include "nc_driver.h"
#include "nc_trace.h"

static atomic_t nc_chan_next_cpu = ATOMIC_INIT(0);

/* ---- channel callbacks (softirq context) --------------------------------- */

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
		WRITE_ONCE(ch->tx_full, false);
		queue_work_on(ch->cpu, nc_wq, &ch->tx_work);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

void nc_chan_install(struct nc_channel *ch)
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
struct nc_channel *nc_chan_alloc(struct nc_net *nn, struct socket *sock)
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
	INIT_LIST_HEAD(&ch->ack_ctrl.node);
	INIT_LIST_HEAD(&ch->retire_ctrl.node);
	refcount_set(&ch->ref, 1);	/* its place in the peer */
	ch->last_used = jiffies;
	/*
	 * The in-flight bound starts at its minimum. dql_reset() leaves the
	 * limit unset until the first completion: set it, so the first
	 * frames may go.
	 */
	dql_init(&ch->tx_dql, HZ);
	ch->tx_dql.min_limit = NC_INFLIGHT_MIN;
	ch->tx_dql.max_limit = NC_INFLIGHT_MAX;
	dql_reset(&ch->tx_dql);
	ch->tx_dql.adj_limit = ch->tx_dql.limit;
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
bool nc_chan_ctrl_pop(struct nc_channel *ch, struct nc_frame *f)
{
	struct nc_ctrl *c;

	spin_lock_bh(&ch->ctrl_lock);
	c = list_first_entry_or_null(&ch->ctrlq, struct nc_ctrl, node);
	if (c) {
		list_del_init(&c->node);
		c->queued = false;
		WRITE_ONCE(ch->ctrlq_len, ch->ctrlq_len - 1);
		if (nc_ctrl_allocated(ch, c))
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
	else if (nc_ctrl_allocated(ch, c))
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
void nc_chan_stop(struct nc_channel *ch)
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

void nc_chan_free(struct nc_channel *ch)
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
	char from[NC_ADDR_STRLEN];
	struct va_format vaf;
	struct in6_addr a;
	va_list args;

	nc_stat_inc(ch->nn, why);
	nc_sk_remote_addr(ch->sock->sk, &a);
	nc_addr_fmt(from, sizeof(from), &a, inet_sk(ch->sock->sk)->inet_dport);
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	net_warn_ratelimited("netchannel: channel from %s: %pV; resetting it\n",
			     from, &vaf);
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

/* ---- accepting channels -------------------------------------------------------- */

/*
 * The listener has a connection to accept. TCP's children inherit this
 * callback when they are cloned, though not the host (its pointer is
 * marked SK_USER_DATA_NOCOPY): a child not accepted yet that gets data
 * does nothing here, and an accepted one gets the listener's own callback
 * back (nc_listener_child()), so no socket left after the host (an
 * orphan in FIN_WAIT, say) calls into it or into this module.
 */
static void nc_listener_data_ready(struct sock *sk)
{
	struct nc_net *nn;

	read_lock_bh(&sk->sk_callback_lock);
	nn = __locked_read_sk_user_data_with_flags(sk, SK_USER_DATA_NOCOPY);
	if (nn && sk->sk_state == TCP_LISTEN)
		schedule_work(&nn->accept_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

/*
 * An accepted TCP child (or one drained when the host stops, see
 * nc_net_stop()): the callback it inherited from the listener off.
 */
void nc_listener_child(struct nc_net *nn, struct socket *sock)
{
	write_lock_bh(&sock->sk->sk_callback_lock);
	sock->sk->sk_data_ready = nn->listen_data_ready;
	write_unlock_bh(&sock->sk->sk_callback_lock);
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
		nc_listener_child(nn, newsock);
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

/*
 * The channel listener: one dual-stack socket on [::]:port, so IPv4 hosts
 * come in v4-mapped, as peers are known (nc_addr.c); an IPv4 one on
 * 0.0.0.0:port where IPv6 is off (ipv6.disable=1).
 */
int nc_net_listen_start(struct nc_net *nn)
{
	__be16 port = htons(READ_ONCE(nn->port));
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = port };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = port };
	struct socket *sock;
	int err;

	mutex_lock(&nn->lock);
	if (nn->listener || nn->dying) {
		err = nn->dying ? -ENETDOWN : 0;
		goto out;
	}
	err = sock_create_kern(nn->net, AF_INET6, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err == -EAFNOSUPPORT)
		err = sock_create_kern(nn->net, AF_INET, SOCK_STREAM,
				       IPPROTO_TCP, &sock);
	if (err)
		goto out;
	sock_set_reuseaddr(sock->sk);
	if (sock->sk->sk_family == AF_INET6) {
		/* both families, whatever net.ipv6.bindv6only says */
		sock->sk->sk_ipv6only = false;
		err = kernel_bind(sock, (struct sockaddr *)&sin6, sizeof(sin6));
	} else {
		err = kernel_bind(sock, (struct sockaddr *)&sin, sizeof(sin));
	}
	if (!err)
		err = kernel_listen(sock, 128);
	if (err) {
		sock_release(sock);
		goto out;
	}
	write_lock_bh(&sock->sk->sk_callback_lock);
	__rcu_assign_sk_user_data_with_flags(sock->sk, nn, SK_USER_DATA_NOCOPY);
	nn->listen_data_ready = sock->sk->sk_data_ready;
	sock->sk->sk_data_ready = nc_listener_data_ready;
	write_unlock_bh(&sock->sk->sk_callback_lock);
	nn->listener = sock;
out:
	mutex_unlock(&nn->lock);
	return err;
}

void nc_net_chan_init(struct nc_net *nn)
{
	INIT_WORK(&nn->accept_work, nc_accept_workfn);
	INIT_WORK(&nn->route_work, nc_peer_route_workfn);
}

/* ---- /proc/net/netchannel/channels ----------------------------------------------- */

int nc_proc_channels_show(struct seq_file *seq, void *v)
{
	struct nc_net *nn = nc_net(seq_file_single_net(seq));
	struct nc_peer *peer;
	int i;

	seq_puts(seq, "peer            group            role      state  ch cpu frames_tx  frames_rx  bytes_tx     bytes_rx     ctrlq sndq     inflight limit\n");
	mutex_lock(&nn->lock);
	list_for_each_entry(peer, &nn->peers, node) {
		static const char *const states[] = { "conn", "ready", "dead" };
		char addr[NC_ADDR_STRLEN];

		nc_addr_host_fmt(addr, sizeof(addr), &peer->addr);
		spin_lock_bh(&peer->lock);
		for (i = 0; i < peer->nr; i++) {
			struct nc_channel *ch = peer->ch[i];

			if (!ch)
				continue;
			/* the dql's counts are racy reads: a snapshot */
			seq_printf(seq, "%-15s %016llx %-9s %-6s %2d %3d %-10lld %-10lld %-12lld %-12lld %5u %-8u %-8u %u\n",
				   addr, peer->group,
				   peer->initiator ? "initiator" : "acceptor",
				   states[peer->state], i, ch->cpu,
				   READ_ONCE(ch->frames_tx),
				   READ_ONCE(ch->frames_rx),
				   READ_ONCE(ch->bytes_tx),
				   READ_ONCE(ch->bytes_rx),
				   READ_ONCE(ch->ctrlq_len),
				   READ_ONCE(ch->sock->sk->sk_wmem_queued),
				   READ_ONCE(ch->tx_dql.num_queued) -
				   READ_ONCE(ch->tx_dql.num_completed),
				   READ_ONCE(ch->tx_dql.limit));
		}
		spin_unlock_bh(&peer->lock);
	}
	mutex_unlock(&nn->lock);
	return 0;
}
