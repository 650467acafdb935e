// SPDX-License-Identifier: GPL-2.0
/*
 * NetDriver, peers: the group of channels to one host, how it is
 * connected (the initiator opens every channel, each says HELLO), grown
 * while its channels are saturated, killed and freed, and what notices
 * that a host went away.
 */
#include <linux/net.h>
#include <linux/random.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "netchannel.h"
#include "nc_driver.h"
#include "nc_trace.h"

/*
 * A channel for @nsk's control frames, within its set (see
 * nc_sched_chan_allowed()), in turn; caller holds peer->lock.
 */
struct nc_channel *nc_peer_pick_home(struct nc_peer *peer,
				     const struct nc_sock *nsk)
{
	int i, n = peer->nr;

	lockdep_assert_held(&peer->lock);
	for (i = 0; i < n; i++) {
		u32 idx = (peer->rr + i) % n;
		struct nc_channel *ch = peer->ch[idx];

		if (ch && !nc_chan_gone(ch) &&
		    nc_sched_chan_allowed(peer, nsk, idx)) {
			peer->rr += i + 1;
			return ch;
		}
	}
	return NULL;
}

/*
 * If @nsk's home is @ch, which is going (nc_chan_gone()), give it another
 * (a socket whose set allows none keeps @ch, and its control frames then
 * find the queue closed); caller holds peer->lock.
 */
void nc_peer_rehome(struct nc_peer *peer, struct nc_sock *nsk,
		    struct nc_channel *ch)
{
	struct nc_channel *home;

	lockdep_assert_held(&peer->lock);
	if (nsk->home != ch)
		return;
	home = nc_peer_pick_home(peer, nsk);
	if (home)
		WRITE_ONCE(nsk->home, home);
}

static void nc_peer_free_workfn(struct work_struct *work);
static void nc_peer_destroy_workfn(struct work_struct *work);
static void nc_peer_connect_workfn(struct work_struct *work);
static void nc_peer_proof_workfn(struct work_struct *work);
static void nc_peer_grow_workfn(struct work_struct *work);
static void nc_peer_idle_workfn(struct work_struct *work);
static void nc_peer_retire_workfn(struct work_struct *work);

/*
 * A channel of the group, not retiring, for a control frame that may go
 * on any (with a reference: nc_chan_put()), or NULL.
 */
struct nc_channel *nc_peer_ctrl_channel(struct nc_peer *peer)
{
	struct nc_channel *ch = NULL;
	int i;

	spin_lock_bh(&peer->lock);
	for (i = 0; i < peer->nr && !ch; i++)
		if (peer->ch[i] && !nc_chan_gone(peer->ch[i]))
			ch = peer->ch[i];
	if (ch)
		refcount_inc(&ch->ref);
	spin_unlock_bh(&peer->lock);
	return ch;
}

/* ---- retiring idle channels ---------------------------------------------- */

/*
 * Queue @peer's retire work, with a reference for it. Any context. The
 * work runs in process context and may sleep (RCU grace periods, the
 * channel's own works cancelled).
 */
static void nc_peer_retire_kick(struct nc_peer *peer)
{
	refcount_inc(&peer->ref);
	if (!queue_work(nc_wq, &peer->retire_work))
		nc_peer_put(peer);
}

/*
 * An initiator with more channels than it started with checks, every
 * net.netchannel.channel_idle_ms, whether one is idle. With 0 (never) it
 * still looks every second, so a value set later applies to it.
 */
static void nc_peer_idle_arm(struct nc_peer *peer)
{
	int ms = READ_ONCE(peer->nn->channel_idle_ms) ?: 1000;

	if (!peer->initiator ||
	    READ_ONCE(peer->state) == NC_PEER_DEAD ||
	    READ_ONCE(peer->nr_open) <= peer->nr_start)
		return;
	refcount_inc(&peer->ref);
	if (!queue_delayed_work(nc_wq, &peer->idle_work, msecs_to_jiffies(ms)))
		nc_peer_put(peer);
}

/*
 * Take @ch out of use: no DATA is bound to it, no socket has it as its
 * home any more, nothing picks it (nc_chan_gone()). A socket whose set
 * allows no other channel falls back to any (nc_sched_chan_allowed()).
 * Its RETIRE is queued after an RCU grace period, once whoever read a
 * socket's old home is done with it (nc_peer_retire_workfn()). Caller
 * holds peer->lock.
 */
static void nc_peer_retire_start(struct nc_peer *peer, struct nc_channel *ch)
{
	struct nc_sock *nsk;

	lockdep_assert_held(&peer->lock);
	WRITE_ONCE(ch->retire, NC_RETIRE_DRAIN);
	list_for_each_entry(nsk, &peer->socks, peer_node)
		nc_peer_rehome(peer, nsk, ch);
	ch->retire_gp = get_state_synchronize_rcu();
	list_add_tail(&ch->node, &peer->retiring);
	trace_nc_channel(&peer->addr, ch->idx, ESHUTDOWN);
}

/*
 * The initiator's idle check: the highest channel above those the group
 * started with that carried no DATA either way for channel_idle_ms is
 * retired, one at a time, unless the group was saturated meanwhile (every
 * channel full while frames waited: it would only grow again). Channels
 * the group started with stay, and with them any a policy reserves for a
 * class (struct netsched_ops' channels_min).
 */
static void nc_peer_idle_workfn(struct work_struct *work)
{
	struct nc_peer *peer = container_of(to_delayed_work(work),
					    struct nc_peer, idle_work);
	unsigned long idle;
	struct nc_channel *ch = NULL;
	int i;

	idle = msecs_to_jiffies(READ_ONCE(peer->nn->channel_idle_ms));
	spin_lock_bh(&peer->lock);
	if (idle && peer->state == NC_PEER_READY &&
	    list_empty(&peer->retiring) && peer->nr_open > peer->nr_start &&
	    time_after(jiffies, READ_ONCE(peer->sat_last) + idle)) {
		for (i = peer->nr - 1; i >= peer->nr_start && !ch; i--) {
			struct nc_channel *c = peer->ch[i];

			if (c && !nc_chan_gone(c) &&
			    time_after(jiffies, READ_ONCE(c->last_used) + idle))
				ch = c;
		}
	}
	spin_unlock_bh(&peer->lock);
	/* the policy may keep it; only this work starts a retirement */
	if (ch && !nc_sched_channels_retire(peer, ch->idx)) {
		nc_stat_inc(peer->nn, NC_STAT_CHANNELS_RETIRE_VETOED);
		ch = NULL;
	}
	if (ch) {
		spin_lock_bh(&peer->lock);
		if (peer->state == NC_PEER_READY && !nc_chan_gone(ch))
			nc_peer_retire_start(peer, ch);
		else
			ch = NULL;
		spin_unlock_bh(&peer->lock);
	}
	if (ch)
		nc_peer_retire_kick(peer);
	nc_peer_idle_arm(peer);
	nc_peer_put(peer);
}

/*
 * A RETIRE came on @ch (the receive work). To an acceptor, the initiator
 * retires the channel and has sent its last frame on it: the channel
 * leaves the group at once (its index may be connected again), and the
 * acceptor answers once it is drained. To the initiator it is that
 * answer, and the channel is done. Anything else is a protocol error: a
 * RETIRE nobody asked for, a second one, or one that would leave an
 * acceptor's group without a channel.
 */
void nc_peer_rx_retire(struct nc_peer *peer, struct nc_channel *ch)
{
	bool bad;

	if (peer->initiator) {
		bad = READ_ONCE(ch->retire) != NC_RETIRE_QUEUED;
		if (!bad)
			nc_peer_retire_done(peer, ch);
	} else {
		spin_lock_bh(&peer->lock);
		bad = ch->retire != NC_RETIRE_NONE || peer->nr_open < 2 ||
		      peer->ch[ch->idx] != ch || peer->state != NC_PEER_READY;
		if (!bad) {
			peer->ch[ch->idx] = NULL;
			WRITE_ONCE(peer->nr_open, peer->nr_open - 1);
			nc_peer_retire_start(peer, ch);
		}
		spin_unlock_bh(&peer->lock);
		if (!bad)
			nc_peer_retire_kick(peer);
	}
	if (bad)
		nc_chan_proto_error(ch, NC_STAT_ERR_RETIRE,
				    "RETIRE of channel %d out of turn", ch->idx);
}

/*
 * @ch's last frame went (the acceptor's answer), or came (the initiator
 * got it), or the channel ended while retiring: the retire work stops and
 * frees it. Any context.
 */
void nc_peer_retire_done(struct nc_peer *peer, struct nc_channel *ch)
{
	if (READ_ONCE(ch->retire) == NC_RETIRE_DONE)
		return;
	WRITE_ONCE(ch->retire, NC_RETIRE_DONE);
	nc_peer_retire_kick(peer);
}

/* The first channel on @peer's retiring list in state @state, or NULL. */
static struct nc_channel *nc_peer_retiring(struct nc_peer *peer, int state)
{
	struct nc_channel *ch, *found = NULL;

	spin_lock_bh(&peer->lock);
	list_for_each_entry(ch, &peer->retiring, node)
		if (READ_ONCE(ch->retire) == state) {
			found = ch;
			break;
		}
	spin_unlock_bh(&peer->lock);
	return found;
}

/*
 * Moves retiring channels on: a drained one gets its RETIRE (the
 * initiator's, or the acceptor's answer) once the grace period since its
 * sockets moved is over; a done one is stopped, leaves the group and is
 * freed once no picker holds it. Only this work (and the peer's destroy
 * work, after cancelling it) takes channels off the list.
 */
static void nc_peer_retire_workfn(struct work_struct *work)
{
	struct nc_peer *peer = container_of(work, struct nc_peer, retire_work);
	struct nc_frame f = { .type = NC_FT_RETIRE };
	struct nc_channel *ch;

	while (READ_ONCE(peer->state) != NC_PEER_DEAD &&
	       (ch = nc_peer_retiring(peer, NC_RETIRE_DRAIN))) {
		cond_synchronize_rcu(ch->retire_gp);
		/*
		 * Queued before the RETIRE can go, so its answer finds it so;
		 * an EOF meanwhile made it done, and then nothing goes.
		 */
		if (cmpxchg(&ch->retire, NC_RETIRE_DRAIN,
			    NC_RETIRE_QUEUED) == NC_RETIRE_DRAIN)
			/* cannot fail but dead, and then the group goes */
			nc_chan_queue_ctrl(ch, &ch->retire_ctrl, &f);
	}
	while (READ_ONCE(peer->state) != NC_PEER_DEAD &&
	       (ch = nc_peer_retiring(peer, NC_RETIRE_DONE))) {
		nc_chan_stop(ch);
		spin_lock_bh(&peer->lock);
		list_del_init(&ch->node);
		if (peer->ch[ch->idx] == ch) {
			peer->ch[ch->idx] = NULL;
			WRITE_ONCE(peer->nr_open, peer->nr_open - 1);
		}
		WRITE_ONCE(peer->retired, peer->retired + 1);
		spin_unlock_bh(&peer->lock);
		nc_stat_inc(peer->nn, NC_STAT_CHANNELS_RETIRED);
		/* lockless readers of the group's channels, then the pickers */
		synchronize_rcu();
		if (!refcount_dec_and_test(&ch->ref))
			wait_var_event(&ch->ref, !refcount_read(&ch->ref));
		nc_chan_free(ch);
	}
	nc_peer_put(peer);
}

/*
 * The peer's last reference is gone: free the channels still on its
 * retiring list (a dead group's; an initiator's are in @ch as well).
 */
void nc_peer_retire_free(struct nc_peer *peer)
{
	struct nc_channel *ch, *tmp;

	list_for_each_entry_safe(ch, tmp, &peer->retiring, node) {
		list_del_init(&ch->node);
		if (peer->ch[ch->idx] == ch)
			continue;	/* freed with the others */
		nc_chan_free(ch);
	}
}

/*
 * A new peer, on nn->peers with the list's reference; under nn->lock. A
 * group of @nr channels at most, which an initiator starts with @start of.
 */
struct nc_peer *nc_peer_alloc(struct nc_net *nn, const struct in6_addr *addr,
			      u64 group, int nr, int start, bool initiator)
{
	struct nc_peer *peer = kzalloc(sizeof(*peer), GFP_KERNEL);

	lockdep_assert_held(&nn->lock);
	if (!peer)
		return NULL;
	peer->nn = nn;
	refcount_set(&peer->ref, 1);
	peer->addr = *addr;
	peer->group = group;
	peer->initiator = initiator;
	peer->nr = nr;
	peer->nr_start = start;
	peer->grow_after = jiffies;
	peer->sat_last = jiffies;
	peer->state = initiator ? NC_PEER_CONNECTING : NC_PEER_READY;
	spin_lock_init(&peer->lock);
	peer->ready = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&peer->served);
	INIT_LIST_HEAD(&peer->socks);
	INIT_LIST_HEAD(&peer->waiting);
	INIT_WORK(&peer->connect_work, nc_peer_connect_workfn);
	INIT_WORK(&peer->destroy_work, nc_peer_destroy_workfn);
	INIT_WORK(&peer->free_work, nc_peer_free_workfn);
	INIT_DELAYED_WORK(&peer->proof_work, nc_peer_proof_workfn);
	INIT_WORK(&peer->grow_work, nc_peer_grow_workfn);
	INIT_DELAYED_WORK(&peer->idle_work, nc_peer_idle_workfn);
	INIT_WORK(&peer->retire_work, nc_peer_retire_workfn);
	INIT_LIST_HEAD(&peer->retiring);
	atomic_inc(&nn->nr_peers);
	list_add(&peer->node, &nn->peers);
	return peer;
}

static void nc_peer_free_workfn(struct work_struct *work)
{
	struct nc_peer *peer = container_of(work, struct nc_peer, free_work);
	struct nc_net *nn = peer->nn;
	int i;

	nc_peer_retire_free(peer);
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
	struct nc_channel *ch;
	int i;

	/*
	 * A host that never sent a valid frame (it reset or closed the
	 * channels, or answered garbage) does not run NetChannel there: to
	 * the connects it is a refusal, which falls back to TCP.
	 */
	if (peer->initiator && !READ_ONCE(peer->proven) &&
	    (err == ECONNRESET || err == EPIPE))
		err = ECONNREFUSED;
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
			trace_nc_channel(&peer->addr, i, err);
		}
	list_for_each_entry(ch, &peer->retiring, node)
		atomic_set(&ch->dead, 1);
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
	struct nc_channel *ch;
	struct nc_sock *nsk;
	bool listed = false;
	int i;

	cancel_work_sync(&peer->connect_work);
	if (cancel_work_sync(&peer->grow_work))
		nc_peer_put(peer);	/* the queued growth's */
	if (cancel_delayed_work_sync(&peer->idle_work))
		nc_peer_put(peer);
	if (cancel_work_sync(&peer->retire_work))
		nc_peer_put(peer);
	/* the retire work is done: the list is ours (and the peer is dead) */
	list_for_each_entry(ch, &peer->retiring, node)
		nc_chan_stop(ch);
	if (cancel_delayed_work(&peer->proof_work))
		nc_peer_put(peer);	/* the timeout's */
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

/* No frame from the other host in time: see struct nc_peer's @proven. */
static void nc_peer_proof_workfn(struct work_struct *work)
{
	struct nc_peer *peer = container_of(to_delayed_work(work),
					    struct nc_peer, proof_work);

	if (!READ_ONCE(peer->proven)) {
		net_info_ratelimited("netchannel: no answer to HELLO from %pI6c in %d s; not a NetChannel host\n",
				     &peer->addr, NC_PROOF_TIMEOUT / HZ);
		nc_peer_kill(peer, ECONNREFUSED);
	}
	nc_peer_put(peer);
}

/*
 * Connect channel @idx of the group, say HELLO on it and install it.
 * Process context; 0 or a negative errno, and then nothing is left of it.
 */
static int nc_peer_open_channel(struct nc_peer *peer, int idx)
{
	struct nc_net *nn = peer->nn;
	u8 hello[NC_HELLO_PAYLOAD_LEN];
	struct nc_frame f = {
		.type = NC_FT_HELLO, .len = NC_HELLO_PAYLOAD_LEN,
		.arg = NC_HELLO_ARG(idx, peer->nr),
	};
	struct sockaddr_storage sa;
	struct nc_channel *ch;
	struct socket *sock;
	bool dead;
	int len, err;

	/* an IPv4 host's channels are IPv4 sockets, an IPv6 host's IPv6 */
	len = nc_addr_sockaddr(&peer->addr, htons(READ_ONCE(nn->port)),
			       AF_UNSPEC, &sa);
	err = sock_create_kern(nn->net, sa.ss_family, SOCK_STREAM,
			       IPPROTO_TCP, &sock);
	/*
	 * No socket for a channel (out of memory or of inodes: ENFILE): the
	 * waiting connect()s get what TCP's gives when it cannot allocate,
	 * not an errno of socket().
	 */
	if (err)
		return -ENOBUFS;
	tcp_sock_set_syncnt(sock->sk, 3);
	err = kernel_connect(sock, (struct sockaddr *)&sa, len, 0);
	if (err) {
		sock_release(sock);
		return err == -EINPROGRESS || err == -EALREADY ? -ETIMEDOUT : err;
	}
	ch = nc_chan_alloc(nn, sock);
	if (!ch) {
		sock_release(sock);
		return -ENOMEM;
	}
	ch->peer = peer;
	ch->idx = idx;
	nc_hello_encode(peer->group, hello);
	err = nc_chan_send_hello(ch, &f, hello);
	if (err) {
		nc_chan_free(ch);
		return err;
	}
	nc_chan_install(ch);
	/* nc_peer_kill() marks the installed channels dead: not this one */
	spin_lock_bh(&peer->lock);
	dead = peer->state == NC_PEER_DEAD;
	if (!dead) {
		peer->ch[idx] = ch;
		WRITE_ONCE(peer->nr_open, peer->nr_open + 1);
	}
	spin_unlock_bh(&peer->lock);
	if (dead) {
		nc_chan_stop(ch);
		nc_chan_free(ch);
		return -ECONNRESET;
	}
	trace_nc_channel(&peer->addr, idx, 0);
	nc_stat_inc(nn, NC_STAT_CHANNELS_OPEN);
	queue_work_on(ch->cpu, nc_wq, &ch->rx_work);
	return 0;
}

/* Connect the group's first channels and say HELLO on each. */
static void nc_peer_connect_workfn(struct work_struct *work)
{
	struct nc_peer *peer = container_of(work, struct nc_peer, connect_work);
	struct nc_sock *nsk;
	int i, err = 0;

	for (i = 0; i < peer->nr_start && !err; i++) {
		if (READ_ONCE(peer->state) == NC_PEER_DEAD)
			return;
		err = nc_peer_open_channel(peer, i);
	}
	if (err) {
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
	/* the other host answers a HELLO at once, if it runs NetChannel */
	refcount_inc(&peer->ref);
	if (!queue_delayed_work(nc_wq, &peer->proof_work, NC_PROOF_TIMEOUT))
		nc_peer_put(peer);
	/* the peer is ready, so connect() adds no socket to the list now */
	while ((nsk = nc_peer_pop_sock(peer, &peer->waiting))) {
		nc_sock_peer_ready(nsk);
		sock_put(&nsk->inet.sk);
	}
}

/*
 * Frames wait in the scheduler and no channel can take them: every one
 * they may use is full (its TCP socket) or at its in-flight limit.
 * When that has lasted NC_GROW_AFTER, an initiator opens one more channel,
 * up to the group's @nr; a channel that finds nothing to send ends the
 * wait (nc_peer_unsaturated()). Any context, lockless: the timestamps are
 * hints, and the work checks again under the lock. The caller holds @peer.
 */
void nc_peer_saturated(struct nc_peer *peer)
{
	unsigned long now = jiffies, since;

	/* no channel retires while the group is this busy (idle check) */
	if (READ_ONCE(peer->sat_last) != now)
		WRITE_ONCE(peer->sat_last, now);
	if (!peer->initiator || READ_ONCE(peer->state) != NC_PEER_READY ||
	    READ_ONCE(peer->nr_open) >= peer->nr)
		return;
	since = READ_ONCE(peer->sat_since);
	if (!since) {
		WRITE_ONCE(peer->sat_since, now ?: 1);
		return;
	}
	if (time_before(now, since + NC_GROW_AFTER) ||
	    time_before(now, READ_ONCE(peer->grow_after)))
		return;
	/* the next channel needs a saturation of its own */
	WRITE_ONCE(peer->sat_since, 0);
	refcount_inc(&peer->ref);
	if (!queue_work(nc_wq, &peer->grow_work))
		nc_peer_put(peer);
}

/* Open the next channel of a saturated group (see nc_peer_saturated()). */
static void nc_peer_grow_workfn(struct work_struct *work)
{
	struct nc_peer *peer = container_of(work, struct nc_peer, grow_work);
	int idx, err;
	bool grow;

	spin_lock_bh(&peer->lock);
	/* the lowest free index: a retired channel's is free again */
	for (idx = 0; idx < peer->nr && peer->ch[idx]; idx++)
		;
	grow = peer->state == NC_PEER_READY && idx < peer->nr;
	spin_unlock_bh(&peer->lock);
	if (grow && !nc_sched_channels_grow(peer)) {
		/* the policy says no: ask again a while later */
		WRITE_ONCE(peer->grow_after, jiffies + NC_GROW_RETRY);
		nc_stat_inc(peer->nn, NC_STAT_CHANNELS_GROW_VETOED);
		grow = false;
	}
	if (grow) {
		err = nc_peer_open_channel(peer, idx);
		if (err) {
			/* the group goes on as it is; try again later */
			WRITE_ONCE(peer->grow_after, jiffies + NC_GROW_RETRY);
			WRITE_ONCE(peer->grow_failed, peer->grow_failed + 1);
			nc_stat_inc(peer->nn, NC_STAT_CHANNELS_GROW_FAILED);
			net_info_ratelimited("netchannel: could not open channel %d to %pI6c: %d\n",
					     idx, &peer->addr, err);
		} else {
			WRITE_ONCE(peer->grown, peer->grown + 1);
			nc_stat_inc(peer->nn, NC_STAT_CHANNELS_GROWN);
			nc_peer_idle_arm(peer);
			/* what waits may go on the new channel */
			if (READ_ONCE(peer->nr_ready))
				nc_peer_kick(peer, NULL);
		}
	}
	nc_peer_put(peer);
}

/*
 * The channel group this host uses towards @addr, connected on first use.
 * Returns a reference, or an ERR_PTR.
 */
struct nc_peer *nc_peer_connect(struct nc_net *nn, const struct in6_addr *addr)
{
	struct nc_peer *peer;
	int nr, start;

	mutex_lock(&nn->lock);
	if (nn->dying) {
		peer = ERR_PTR(-ENETDOWN);
		goto out;
	}
	list_for_each_entry(peer, &nn->peers, node) {
		if (peer->initiator && ipv6_addr_equal(&peer->addr, addr) &&
		    READ_ONCE(peer->state) != NC_PEER_DEAD) {
			refcount_inc(&peer->ref);
			goto out;
		}
	}
	/* a channels_min above channels_max counts as channels_max */
	nr = READ_ONCE(nn->channels_max);
	start = min(READ_ONCE(nn->channels_min), nr);
	nc_sched_channel_bounds(&start, &nr);
	peer = nc_peer_alloc(nn, addr, get_random_u64(), nr, start, true);
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
 * /proc/net/netchannel/peers: one line per channel group, with how many
 * channels it has, may have, and why it has more than it started with.
 */
int nc_proc_peers_show(struct seq_file *seq, void *v)
{
	static const char *const states[] = { "conn", "ready", "dead" };
	struct nc_net *nn = nc_net(seq_file_single_net(seq));
	struct nc_peer *peer;

	seq_puts(seq, "peer                                    group            role      state  channels start max grown grow_failed saturated retired\n");
	mutex_lock(&nn->lock);
	list_for_each_entry(peer, &nn->peers, node) {
		char addr[NC_ADDR_STRLEN];

		nc_addr_host_fmt(addr, sizeof(addr), &peer->addr);
		seq_printf(seq, "%-39s %016llx %-9s %-6s %8d %5d %3d %5u %11u %-9s %u\n",
			   addr, peer->group,
			   peer->initiator ? "initiator" : "acceptor",
			   states[READ_ONCE(peer->state)],
			   READ_ONCE(peer->nr_open), peer->nr_start, peer->nr,
			   READ_ONCE(peer->grown), READ_ONCE(peer->grow_failed),
			   READ_ONCE(peer->sat_since) ? "yes" : "no",
			   READ_ONCE(peer->retired));
	}
	mutex_unlock(&nn->lock);
	return 0;
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
		/* children cloned from now on inherit TCP's own callback */
		write_lock_bh(&listener->sk->sk_callback_lock);
		rcu_assign_sk_user_data(listener->sk, NULL);
		listener->sk->sk_data_ready = nn->listen_data_ready;
		write_unlock_bh(&listener->sk->sk_callback_lock);
	}
	/* a running accept work adds nothing more: nn->dying is set */
	cancel_work_sync(&nn->accept_work);
	if (listener) {
		struct socket *child;

		/* those cloned before: theirs back before they are orphans */
		while (!kernel_accept(listener, &child, O_NONBLOCK)) {
			nc_listener_child(nn, child);
			sock_release(child);
		}
		sock_release(listener);
	}
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
void nc_peer_route_workfn(struct work_struct *work)
{
	struct nc_net *nn = container_of(work, struct nc_net, route_work);
	struct nc_peer *peer;

	mutex_lock(&nn->lock);
	list_for_each_entry(peer, &nn->peers, node)
		if (!nc_addr_routable(nn->net, &peer->addr))
			nc_peer_kill(peer, ECONNRESET);
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
