// SPDX-License-Identifier: GPL-2.0
/*
 * NetScheduler: attaching BPF policies (struct netsched_ops) and calling them.
 *
 * Locking and lifetimes:
 * - nc_sched_mutex serialises every change of the active policy: reg, unreg,
 *   update (bpf_link update) and ejection. Only it writes nc_policy.
 * - nc_policy points to the active policy or is NULL (native policy). Readers
 *   hold rcu_read_lock(); a writer clears or swaps the pointer, waits with
 *   synchronize_rcu() and only then calls the old policy's exit(), so exit()
 *   runs after every other callback of that policy has returned.
 * - The struct netsched_ops the pointer leads to is the kdata of a BPF
 *   struct_ops map, which the BPF core keeps alive until unreg() returns.
 * - nc_sock_list_lock protects nc_sock_list and every nc_sock's sched_gen;
 *   it nests outside peer->lock (nc_sched_rerank_all()).
 *   sock_init() and sock_release() are called with it held, so a socket is
 *   initialised at most once per policy and released only by the policy that
 *   initialised it, even when a policy is attached while sockets are created.
 * - A policy that misbehaves is ejected: nc_sched_eject() only records why
 *   and queues nc_sched_eject_work, since it may run in any context; the work
 *   then disables the policy under nc_sched_mutex. The BPF link stays until
 *   user space releases it; its unreg() then finds nothing left to do.
 */
#include <linux/bpf.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/workqueue.h>

#include "netchannel.h"
#include "nc_sched.h"
#include "nc_trace.h"

/**
 * struct nc_policy - one attachment of a BPF policy
 * @ops: the struct_ops kdata
 * @gen: attachment generation, never 0, unique for the module's lifetime
 * @link: the bpf_link that attached it (NULL for legacy map updates); its
 *	id is only assigned after reg() returns, so it is read at show time,
 *	while the link cannot go away: it unregisters us before it is freed
 * @ejecting: set once when the policy is found misbehaving
 * @exit: why it stopped; written by whoever sets @ejecting first
 * @rcu: frees the struct after readers are gone
 */
struct nc_policy {
	struct netsched_ops *ops;
	u64 gen;
	struct bpf_link *link;
	atomic_t ejecting;
	struct netsched_exit_info exit;
	struct rcu_head rcu;
};

static DEFINE_MUTEX(nc_sched_mutex);
static struct nc_policy __rcu *nc_policy;
static u64 nc_sched_last_gen;
/* what the last policy to stop left behind, for user space; nc_sched_mutex */
static struct netsched_exit_info nc_sched_last_exit;
static char nc_sched_last_name[NETSCHED_NAME_LEN];

static LIST_HEAD(nc_sock_list);
static DEFINE_SPINLOCK(nc_sock_list_lock);

static void nc_sched_eject_workfn(struct work_struct *work);
static void nc_sched_rerank_all(void);
static DECLARE_WORK(nc_sched_eject_work, nc_sched_eject_workfn);

static __printf(3, 4)
void nc_sched_eject(struct nc_policy *p, s64 code, const char *fmt, ...)
{
	va_list args;

	if (atomic_cmpxchg(&p->ejecting, 0, 1))
		return;
	p->exit.kind = NETSCHED_EXIT_ERROR;
	p->exit.code = code;
	va_start(args, fmt);
	vscnprintf(p->exit.reason, sizeof(p->exit.reason), fmt, args);
	va_end(args);
	schedule_work(&nc_sched_eject_work);
}

/* Call sock_init() if the active policy has not seen @nsk yet. */
static void nc_sched_sock_init_locked(struct nc_policy *p, struct nc_sock *nsk)
{
	s32 ret;

	lockdep_assert_held(&nc_sock_list_lock);
	if (!p || nsk->sched_gen == p->gen || atomic_read(&p->ejecting))
		return;
	if (!p->ops->sock_init) {
		/* pairs with nc_sched_rank() */
		smp_store_release(&nsk->sched_gen, p->gen);
		return;
	}
	ret = p->ops->sock_init(&nsk->sched);
	if (ret) {
		nc_sched_eject(p, ret, "sock_init() returned %d for socket %llu",
			       ret, nsk->sched.id);
		return;
	}
	/* pairs with nc_sched_rank(): enqueue() only after sock_init() */
	smp_store_release(&nsk->sched_gen, p->gen);
}

void nc_sched_sock_attach(struct nc_sock *nsk)
{
	spin_lock_bh(&nc_sock_list_lock);
	list_add_tail(&nsk->node, &nc_sock_list);
	rcu_read_lock();
	nc_sched_sock_init_locked(rcu_dereference(nc_policy), nsk);
	rcu_read_unlock();
	spin_unlock_bh(&nc_sock_list_lock);
}

void nc_sched_sock_detach(struct nc_sock *nsk)
{
	struct nc_policy *p;

	spin_lock_bh(&nc_sock_list_lock);
	list_del_init(&nsk->node);
	rcu_read_lock();
	p = rcu_dereference(nc_policy);
	if (p && nsk->sched_gen == p->gen && p->ops->sock_release &&
	    !atomic_read(&p->ejecting))
		p->ops->sock_release(&nsk->sched);
	rcu_read_unlock();
	nsk->sched_gen = 0;
	spin_unlock_bh(&nc_sock_list_lock);
}

/*
 * sock_connected() and select_channels() of @p for @nsk, once per policy;
 * without a policy (or with one that has no select_channels()) the socket
 * may use every channel.
 */
static void nc_sched_sock_connected_locked(struct nc_policy *p,
					   struct nc_sock *nsk, u32 nr)
{
	u64 mask = NETSCHED_CHANNELS_ALL;
	u64 valid = nr >= 64 ? ~0ULL : BIT_ULL(nr) - 1;

	lockdep_assert_held(&nc_sock_list_lock);
	nsk->sched_connected = true;
	if (p && (nsk->sched_gen != p->gen || nsk->conn_gen == p->gen ||
		  atomic_read(&p->ejecting)))
		return;
	if (p) {
		nsk->conn_gen = p->gen;
		if (p->ops->sock_connected)
			p->ops->sock_connected(&nsk->sched);
		if (p->ops->select_channels)
			mask = p->ops->select_channels(&nsk->sched, nr) ?:
			       NETSCHED_CHANNELS_ALL;
		if (!(mask & valid)) {
			nc_sched_eject(p, mask,
				       "select_channels() returned %#llx, none of the %u channels",
				       mask, nr);
			mask = NETSCHED_CHANNELS_ALL;
		}
	}
	WRITE_ONCE(nsk->chan_mask, mask);
}

/* @nsk's addresses are known, and its peer has @nr_channels channels. */
void nc_sched_sock_connected(struct nc_sock *nsk, u32 nr_channels)
{
	spin_lock_bh(&nc_sock_list_lock);
	rcu_read_lock();
	nc_sched_sock_connected_locked(rcu_dereference(nc_policy), nsk,
				       nr_channels);
	rcu_read_unlock();
	spin_unlock_bh(&nc_sock_list_lock);
}

/*
 * Offer every live socket to @p, which is already published; or, when @p
 * is NULL (the policy was disabled), give every socket all channels back.
 */
static void nc_sched_init_all_socks(struct nc_policy *p)
{
	struct nc_sock *nsk;
	struct nc_peer *peer;

	spin_lock_bh(&nc_sock_list_lock);
	rcu_read_lock();
	list_for_each_entry(nsk, &nc_sock_list, node) {
		nc_sched_sock_init_locked(p, nsk);
		peer = READ_ONCE(nsk->peer);
		if (nsk->sched_connected && peer)
			nc_sched_sock_connected_locked(p, nsk, peer->nr);
	}
	rcu_read_unlock();
	spin_unlock_bh(&nc_sock_list_lock);
}

static struct nc_policy *nc_policy_alloc(struct netsched_ops *ops,
					 struct bpf_link *link)
{
	struct nc_policy *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return NULL;
	p->ops = ops;
	p->gen = ++nc_sched_last_gen;
	p->link = link;
	return p;
}

/* Run ops.init(); on failure the policy is never published. */
static int nc_policy_start(struct netsched_ops *ops)
{
	s32 ret = ops->init ? ops->init() : 0;

	if (ret) {
		pr_err("netchannel: policy %s: init() failed: %d\n",
		       ops->name, ret);
		return ret < 0 && ret >= -MAX_ERRNO ? ret : -EINVAL;
	}
	return 0;
}

/*
 * Retire @p, already unpublished and waited for: tell the policy why, keep
 * the reason for user space and free @p after an RCU grace period.
 */
static void nc_policy_stop(struct nc_policy *p, enum netsched_exit_kind kind,
			   const char *reason)
{
	lockdep_assert_held(&nc_sched_mutex);
	if (!atomic_read(&p->ejecting)) {
		p->exit.kind = kind;
		strscpy(p->exit.reason, reason, sizeof(p->exit.reason));
	}
	if (p->ops->exit)
		p->ops->exit(&p->exit);
	nc_sched_last_exit = p->exit;
	trace_nc_policy(p->ops->name, p->exit.kind, p->exit.reason);
	strscpy(nc_sched_last_name, p->ops->name, sizeof(nc_sched_last_name));
	if (p->exit.kind == NETSCHED_EXIT_ERROR)
		pr_err("netchannel: policy %s ejected: %s (code %lld); native policy in use\n",
		       p->ops->name, p->exit.reason, p->exit.code);
	else
		pr_info("netchannel: policy %s detached: %s\n",
			p->ops->name, p->exit.reason);
	kfree_rcu(p, rcu);
}

static void nc_sched_disable(enum netsched_exit_kind kind, const char *reason)
{
	struct nc_policy *p;

	lockdep_assert_held(&nc_sched_mutex);
	p = rcu_replace_pointer(nc_policy, NULL,
				lockdep_is_held(&nc_sched_mutex));
	if (!p)
		return;
	synchronize_rcu();
	nc_sched_init_all_socks(NULL);
	nc_sched_rerank_all();
	nc_policy_stop(p, kind, reason);
}

static void nc_sched_eject_workfn(struct work_struct *work)
{
	struct nc_policy *p;

	mutex_lock(&nc_sched_mutex);
	p = rcu_dereference_protected(nc_policy,
				      lockdep_is_held(&nc_sched_mutex));
	if (p && atomic_read(&p->ejecting))
		nc_sched_disable(NETSCHED_EXIT_ERROR, "");
	mutex_unlock(&nc_sched_mutex);
}

int nc_sched_attach(void *kdata, struct bpf_link *link)
{
	struct netsched_ops *ops = kdata;
	struct nc_policy *p;
	int ret;

	mutex_lock(&nc_sched_mutex);
	if (rcu_access_pointer(nc_policy)) {
		ret = -EBUSY;
		goto out;
	}
	p = nc_policy_alloc(ops, link);
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}
	ret = nc_policy_start(ops);
	if (ret) {
		kfree(p);
		goto out;
	}
	rcu_assign_pointer(nc_policy, p);
	nc_sched_init_all_socks(p);
	nc_sched_rerank_all();
	pr_info("netchannel: policy %s attached\n", ops->name);
	trace_nc_policy(ops->name, -1, "attached");
out:
	mutex_unlock(&nc_sched_mutex);
	return ret;
}

void nc_sched_detach(void *kdata, struct bpf_link *link)
{
	struct nc_policy *p;

	mutex_lock(&nc_sched_mutex);
	p = rcu_dereference_protected(nc_policy,
				      lockdep_is_held(&nc_sched_mutex));
	/* An ejected policy is gone already: nothing left to undo. */
	if (p && p->ops == kdata)
		nc_sched_disable(NETSCHED_EXIT_UNREG, "detached by user space");
	mutex_unlock(&nc_sched_mutex);
}

/* Atomic replacement through bpf_link_update(): never a moment without one. */
int nc_sched_replace(void *kdata, void *old_kdata, struct bpf_link *link)
{
	struct netsched_ops *ops = kdata;
	struct nc_policy *old, *p;
	int ret;

	mutex_lock(&nc_sched_mutex);
	old = rcu_dereference_protected(nc_policy,
					lockdep_is_held(&nc_sched_mutex));
	if (!old || old->ops != old_kdata) {
		ret = -ENOENT;
		goto out;
	}
	p = nc_policy_alloc(ops, link);
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}
	ret = nc_policy_start(ops);
	if (ret) {
		kfree(p);
		goto out;
	}
	rcu_assign_pointer(nc_policy, p);
	nc_sched_init_all_socks(p);
	nc_sched_rerank_all();
	synchronize_rcu();
	nc_policy_stop(old, NETSCHED_EXIT_REPLACED, "replaced by link update");
	pr_info("netchannel: policy %s attached\n", ops->name);
out:
	mutex_unlock(&nc_sched_mutex);
	return ret;
}

/* ---- the ready set of a peer: what the channels send next ---------------- */

static bool nc_ready_less(struct rb_node *a, const struct rb_node *b)
{
	const struct nc_sock *x = rb_entry(a, struct nc_sock, ready_rb);
	const struct nc_sock *y = rb_entry(b, struct nc_sock, ready_rb);

	if (x->rank != y->rank)
		return x->rank < y->rank;
	return x->rank_seq < y->rank_seq;
}

/*
 * Rank @nsk's next frame: the policy's enqueue(), or round robin.
 *
 * A policy is published before it has seen every socket (sock_init()) and
 * before the waiting ones are ranked again (nc_sched_rerank_all()), and
 * the data path keeps running meanwhile. So it ranks only sockets it has
 * initialised (round robin ranks the others until then), and it gets a
 * virtual clock of its own: the peer's @vtime restarts at 0 the first time
 * a policy ranks on that peer, and only ranks it gave move it (see
 * nc_sched_pick()). Without that, a frame ranked in that window saw the
 * old policy's clock (priority's class bits: ~2^56) and fair's finish tag
 * of that socket kept it, so it starved for as long as fair ran.
 */
static void nc_sched_rank(struct nc_peer *peer, struct nc_sock *nsk)
{
	struct sk_buff *skb = skb_peek(&nsk->txq);
	struct netsched_tx tx;
	struct nc_policy *p;
	u64 gen;

	nsk->rank_seq = ++peer->seq;
	nsk->rank = nsk->rank_seq;
	nsk->rank_gen = 0;
	rcu_read_lock();
	p = rcu_dereference(nc_policy);
	/* pairs with the store in nc_sched_sock_init_locked() */
	gen = smp_load_acquire(&nsk->sched_gen);
	if (p && p->ops->enqueue && !atomic_read(&p->ejecting) &&
	    gen == p->gen) {
		if (peer->vtime_gen != p->gen) {
			peer->vtime = 0;
			peer->vtime_gen = p->gen;
		}
		/* filled only for a policy: round robin needs none of it */
		tx = (struct netsched_tx){
			.now_ns = ktime_get_ns(),
			.vtime = peer->vtime,
			.queued_bytes = nsk->tx_bytes,
			.nr_ready = peer->nr_ready,
		};
		if (skb) {
			tx.msg_bytes = NC_TX_CB(skb)->msg_bytes;
			tx.msg_queued_ns = NC_TX_CB(skb)->queued_ns;
			tx.frame_bytes = nc_sock_frame_len(nsk, skb,
							   nc_peer_frame_size(peer));
		}
		nsk->rank = p->ops->enqueue(&nsk->sched, &tx);
		nsk->rank_gen = p->gen;
	}
	rcu_read_unlock();
}

/* @nsk can send: rank it into the ready set. peer->lock held. */
void nc_sched_ready_add(struct nc_peer *peer, struct nc_sock *nsk)
{
	lockdep_assert_held(&peer->lock);
	if (nsk->queued)
		return;
	nc_sched_rank(peer, nsk);
	rb_add_cached(&nsk->ready_rb, &peer->ready, nc_ready_less);
	nsk->queued = true;
	peer->nr_ready++;
	if (list_empty(&nsk->served_node)) {
		nsk->served_ns = ktime_get_ns();
		list_add_tail(&nsk->served_node, &peer->served);
	}
}

void nc_sched_ready_del(struct nc_peer *peer, struct nc_sock *nsk)
{
	lockdep_assert_held(&peer->lock);
	if (nsk->queued) {
		rb_erase_cached(&nsk->ready_rb, &peer->ready);
		nsk->queued = false;
		peer->nr_ready--;
	}
	list_del_init(&nsk->served_node);
}

/*
 * The policy changed: ranks given by the old one mean nothing to the new
 * one (or to round robin), so every waiting socket is ranked again (each
 * peer's virtual clock restarts at the new policy's first rank there, see
 * nc_sched_rank()), and the starvation clock restarts too: a new policy
 * answers only for what it did itself. Called after the new policy has
 * seen every socket (nc_sched_init_all_socks()).
 */
static void nc_sched_rerank_all(void)
{
	struct nc_sock *nsk;
	struct nc_peer *peer;

	spin_lock_bh(&nc_sock_list_lock);
	list_for_each_entry(nsk, &nc_sock_list, node) {
		peer = READ_ONCE(nsk->peer);
		if (!peer)
			continue;
		spin_lock(&peer->lock);
		if (nsk->queued) {
			rb_erase_cached(&nsk->ready_rb, &peer->ready);
			nsk->queued = false;
			peer->nr_ready--;
			nc_sched_ready_add(peer, nsk);
			nsk->served_ns = ktime_get_ns();
		}
		spin_unlock(&peer->lock);
	}
	spin_unlock_bh(&nc_sock_list_lock);
}

/* The watchdog: has the least recently served socket waited too long? */
static void nc_sched_check_stall(struct nc_peer *peer)
{
	struct nc_sock *oldest;
	struct nc_policy *p;
	u64 waited;

	rcu_read_lock();
	p = rcu_dereference(nc_policy);
	/* round robin cannot starve anyone: only policies are watched */
	if (!p || atomic_read(&p->ejecting))
		goto out;
	oldest = list_first_entry_or_null(&peer->served, struct nc_sock,
					  served_node);
	if (!oldest)
		goto out;
	waited = ktime_get_ns() - oldest->served_ns;
	if (waited > (u64)p->ops->timeout_ms * NSEC_PER_MSEC)
		nc_sched_eject(p, waited / NSEC_PER_MSEC,
			       "socket %llu starved for %llu ms (bound %u ms)",
			       oldest->sched.id, waited / NSEC_PER_MSEC,
			       p->ops->timeout_ms);
out:
	rcu_read_unlock();
}

/*
 * The next socket channel @ch sends a frame of: the lowest rank among the
 * ready sockets allowed on @ch. It leaves the ready set; the caller puts it
 * back with nc_sched_ready_add() if it has more. peer->lock held.
 */
struct nc_sock *nc_sched_pick(struct nc_peer *peer, struct nc_channel *ch)
{
	struct rb_node *node;
	struct nc_sock *nsk;

	lockdep_assert_held(&peer->lock);
	nc_sched_check_stall(peer);
	for (node = rb_first_cached(&peer->ready); node; node = rb_next(node)) {
		nsk = rb_entry(node, struct nc_sock, ready_rb);
		if (!nc_sched_chan_allowed(peer, nsk, ch->idx))
			continue;
		rb_erase_cached(&nsk->ready_rb, &peer->ready);
		nsk->queued = false;
		peer->nr_ready--;
		if (nsk->rank_gen && nsk->rank_gen == peer->vtime_gen)
			peer->vtime = nsk->rank;
		nsk->served_ns = ktime_get_ns();
		list_move_tail(&nsk->served_node, &peer->served);
		trace_nc_sched_pick(ch->idx, nsk->id, nsk->rank, peer->nr_ready);
		return nsk;
	}
	return NULL;
}

/*
 * May @nsk's frames go on channel @idx of @peer? Those of its set may; a
 * set whose channels are all down does not hold the socket back, so then
 * any channel may. peer->lock held, or a racy answer is fine.
 */
bool nc_sched_chan_allowed(const struct nc_peer *peer,
			   const struct nc_sock *nsk, u32 idx)
{
	u64 mask = READ_ONCE(nsk->chan_mask);
	u32 i;

	if (mask & BIT_ULL(idx))
		return true;
	for (i = 0; i < peer->nr; i++)
		if ((mask & BIT_ULL(i)) && peer->ch[i] &&
		    !nc_chan_gone(peer->ch[i]))
			return false;
	return true;
}

/*
 * The bounds of a channel group made now: the host's (*@min, *@max), as
 * the attached policy's channels_min and channels_max narrow or raise them
 * (see struct netsched_ops). Any context.
 */
void nc_sched_channel_bounds(int *min, int *max)
{
	struct nc_policy *p;

	rcu_read_lock();
	p = rcu_dereference(nc_policy);
	if (p && !atomic_read(&p->ejecting)) {
		if (p->ops->channels_max)
			*max = min_t(int, *max, p->ops->channels_max);
		if (p->ops->channels_min)
			*min = max_t(int, *min, p->ops->channels_min);
	}
	rcu_read_unlock();
	*max = clamp(*max, 1, NC_MAX_CHANNELS);
	*min = clamp(*min, 1, NC_MAX_CHANNELS);
	if (*max < *min)
		*max = *min;
}

int nc_sched_select_cpu(u32 kind, u32 index, int dflt)
{
	struct nc_policy *p;
	int ret = -1;

	rcu_read_lock();
	p = rcu_dereference(nc_policy);
	if (p && p->ops->select_cpu && !atomic_read(&p->ejecting)) {
		ret = p->ops->select_cpu(kind, index);
		if (ret < -1 || (ret >= 0 && (ret >= nr_cpu_ids ||
					      !cpu_online(ret)))) {
			nc_sched_eject(p, ret,
				       "select_cpu() returned %d, not an online CPU",
				       ret);
			ret = -1;
		}
	}
	rcu_read_unlock();
	return ret >= 0 ? ret : dflt;
}

/* What a policy is shown of @peer's group. */
static void nc_sched_peer_view(const struct nc_peer *peer,
			       struct netsched_peer *np)
{
	*np = (struct netsched_peer){
		.netns_cookie = peer->nn->net->net_cookie,
		.family = nc_addr_v4(&peer->addr) ? AF_INET : AF_INET6,
		.nr_channels = READ_ONCE(peer->nr_open),
		.max_channels = peer->nr,
	};
	memcpy(np->peer_addr6, &peer->addr, sizeof(np->peer_addr6));
}

/*
 * May @peer's group open one more channel? The policy's channels_grow()
 * decides; without one, yes. Process context.
 */
bool nc_sched_channels_grow(const struct nc_peer *peer)
{
	struct netsched_peer np;
	struct nc_policy *p;
	s32 ret = 0;

	nc_sched_peer_view(peer, &np);
	rcu_read_lock();
	p = rcu_dereference(nc_policy);
	if (p && p->ops->channels_grow && !atomic_read(&p->ejecting))
		ret = p->ops->channels_grow(&np);
	rcu_read_unlock();
	return !ret;
}

/*
 * May @peer's group retire its idle channel @idx? The policy's
 * channels_retire() decides; without one, yes. Process context.
 */
bool nc_sched_channels_retire(const struct nc_peer *peer, u32 idx)
{
	struct netsched_peer np;
	struct nc_policy *p;
	s32 ret = 0;

	nc_sched_peer_view(peer, &np);
	rcu_read_lock();
	p = rcu_dereference(nc_policy);
	if (p && p->ops->channels_retire && !atomic_read(&p->ejecting))
		ret = p->ops->channels_retire(&np, idx);
	rcu_read_unlock();
	return !ret;
}

static const char *const nc_exit_kind_str[] = {
	[NETSCHED_EXIT_NONE] = "none",
	[NETSCHED_EXIT_UNREG] = "detached",
	[NETSCHED_EXIT_REPLACED] = "replaced",
	[NETSCHED_EXIT_ERROR] = "ejected",
};

/* /proc/net/netchannel/policy: "key: value" lines, stable for tools. */
int nc_sched_proc_show(struct seq_file *seq, void *v)
{
	struct nc_policy *p;

	mutex_lock(&nc_sched_mutex);
	p = rcu_dereference_protected(nc_policy,
				      lockdep_is_held(&nc_sched_mutex));
	if (p) {
		seq_printf(seq, "policy: %s\n", p->ops->name);
		seq_printf(seq, "state: %s\n",
			   atomic_read(&p->ejecting) ? "ejecting" : "enabled");
		seq_printf(seq, "link_id: %u\n", p->link ? p->link->id : 0);
		seq_printf(seq, "timeout_ms: %u\n", p->ops->timeout_ms);
	} else {
		seq_puts(seq, "policy: native\nstate: native\nlink_id: 0\ntimeout_ms: 0\n");
	}
	seq_printf(seq, "attachments: %llu\n", nc_sched_last_gen);
	seq_printf(seq, "last_policy: %s\n",
		   nc_sched_last_name[0] ? nc_sched_last_name : "-");
	seq_printf(seq, "last_exit: %s\n",
		   nc_exit_kind_str[nc_sched_last_exit.kind]);
	seq_printf(seq, "last_exit_code: %lld\n", nc_sched_last_exit.code);
	seq_printf(seq, "last_exit_reason: %s\n",
		   nc_sched_last_exit.reason[0] ? nc_sched_last_exit.reason : "-");
	mutex_unlock(&nc_sched_mutex);
	return 0;
}

/*
 * Every struct_ops map of our type holds a reference on this module, so no
 * policy can be attached here; only an ejection may still be in flight.
 */
void nc_sched_unregister(void)
{
	flush_work(&nc_sched_eject_work);
	WARN_ON_ONCE(rcu_access_pointer(nc_policy));
}
