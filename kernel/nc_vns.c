// SPDX-License-Identifier: GPL-2.0
/*
 * VNS copy workers: the interface-level work of one large send or receive
 * (copying between user memory and NetChannel buffers) is cut into pieces
 * copied in parallel by work items on other cores.
 *
 * Each piece is a contiguous range of the caller's user memory and of one
 * skb. A worker adopts the caller's mm with kthread_use_mm(), copies, and
 * drops it.
 *
 * Lifetime: a batch is reference counted, one reference for the caller and
 * one for each piece not yet copied. It pins the caller's mm (mmget) and the
 * socket, and each piece holds its skb, so a worker's memory stays valid
 * however the caller leaves. The caller waits killably: a worker may sleep
 * in a page fault that nobody serves (userfaultfd, a stuck FUSE server), and
 * SIGKILL must still end the task, as it does in TCP's own copy. Then the
 * caller drops its reference and returns; the last worker frees the batch.
 *
 * Small copies are done inline: below net.netchannel.copy_threshold the
 * cost of waking workers exceeds what parallel copying saves. So are large
 * ones when no other core is idle: a worker would only queue behind what
 * that core runs, and the caller would wait for it. A batch uses the cores
 * that are idle now (idle at least net.netchannel.vns_idle percent of the
 * time, at most vns_workers - 1 of them), and the caller copies a share
 * itself, so a copy never waits for a core that runs something else.
 */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/tick.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "netchannel.h"

struct nc_vns_job {
	struct work_struct work;
	struct nc_vns_batch *batch;
	struct sk_buff *skb;	/* the kernel side of the copy */
	u32 off;		/* where in @skb */
	void __user *uaddr;
	size_t len;
	bool to_user;
};

/**
 * struct nc_vns_batch - copies of one call, spread over the VNS workers
 * @ref: the caller's reference and one per queued piece
 * @nn: the host (its counters and settings)
 * @sk: the socket, held so its buffers' accounting outlives the pieces
 * @mm: the caller's memory, held with mmget()
 * @pending: pieces not yet copied, plus one for the caller until it waits
 * @done: completed when @pending reaches zero
 * @err: -EFAULT if a piece could not be copied
 * @nr_jobs: pieces queued
 * @nr_cpus: cores the pieces go to (@cpus); every (@nr_cpus + 1)th piece
 *	the caller copies itself
 * @jobs: the pieces
 */
struct nc_vns_batch {
	refcount_t ref;
	struct nc_net *nn;
	struct sock *sk;
	struct mm_struct *mm;
	atomic_t pending;
	struct completion done;
	int err;
	int nr_jobs;
	int nr_cpus;
	int cpus[NC_VNS_BATCH];
	struct nc_vns_job jobs[NC_VNS_BATCH];
};

/*
 * Which cores are idle: each one's idle share of the last interval, from
 * its idle time as /proc/stat counts it (get_cpu_idle_time_us()) plus the
 * time it spent in our own copies (a core busy copying for us is available
 * to us), decayed by half each sample. Sampled at most once a jiffy, by
 * the first large copy that looks; the values are hints, read racily.
 */
struct nc_vns_idle {
	u64 idle_us;		/* at the last sample */
	u64 wall_us;
	u64 copy_ns;
	u32 idle_pct;		/* decayed, 0..100 */
};

static DEFINE_PER_CPU(struct nc_vns_idle, nc_vns_idle);
static DEFINE_PER_CPU(u64, nc_vns_copy_ns);	/* time in nc_vns_workfn() */
static DEFINE_SPINLOCK(nc_vns_idle_lock);	/* one sampler at a time */
static unsigned long nc_vns_idle_at;		/* jiffies of the last sample */

static void nc_vns_idle_sample(void)
{
	unsigned long now = jiffies;
	int cpu;

	if (READ_ONCE(nc_vns_idle_at) == now ||
	    !spin_trylock_bh(&nc_vns_idle_lock))
		return;
	if (nc_vns_idle_at == now)
		goto out;
	WRITE_ONCE(nc_vns_idle_at, now);
	for_each_online_cpu(cpu) {
		struct nc_vns_idle *st = per_cpu_ptr(&nc_vns_idle, cpu);
		u64 wall, idle = get_cpu_idle_time_us(cpu, &wall);
		u64 copy = READ_ONCE(*per_cpu_ptr(&nc_vns_copy_ns, cpu));
		u64 dw, avail;

		/* no NOHZ idle accounting: no core counts as idle */
		if (idle == (u64)-1) {
			WRITE_ONCE(st->idle_pct, 0);
			continue;
		}
		if (st->wall_us && wall > st->wall_us) {
			dw = wall - st->wall_us;
			avail = min(idle - st->idle_us +
				    div_u64(copy - st->copy_ns, NSEC_PER_USEC),
				    dw);
			WRITE_ONCE(st->idle_pct,
				   (st->idle_pct + div64_u64(avail * 100, dw)) / 2);
		}
		st->idle_us = idle;
		st->wall_us = wall;
		st->copy_ns = copy;
	}
out:
	spin_unlock_bh(&nc_vns_idle_lock);
}

/*
 * Up to @max cores other than this one that were idle at least @pct
 * percent of the time (0: any), into @cpus in order from this one's next;
 * how many.
 */
static int nc_vns_idle_cpus(int *cpus, int max, int pct)
{
	int self = raw_smp_processor_id(), cpu, n = 0;

	if (pct)
		nc_vns_idle_sample();
	for_each_cpu_wrap(cpu, cpu_online_mask, self + 1) {
		if (n >= max)
			break;
		if (cpu != self &&
		    READ_ONCE(per_cpu_ptr(&nc_vns_idle, cpu)->idle_pct) >= pct)
			cpus[n++] = cpu;
	}
	return n;
}

static void nc_vns_batch_put(struct nc_vns_batch *b)
{
	if (!refcount_dec_and_test(&b->ref))
		return;
	mmput(b->mm);
	sock_put(b->sk);
	kfree(b);
}

/*
 * Copy @len bytes between @skb at @off (linear or not) and user memory at
 * @uaddr, of the current mm: 0 or -EFAULT.
 */
static int nc_vns_copy_one(struct sk_buff *skb, u32 off, void __user *uaddr,
			   size_t len, bool to_user)
{
	struct iov_iter iter;

	if (import_ubuf(to_user ? ITER_DEST : ITER_SOURCE, uaddr, len, &iter))
		return -EFAULT;
	if (to_user)
		return skb_copy_datagram_iter(skb, off, &iter, len) ? -EFAULT : 0;
	return skb_copy_datagram_from_iter(skb, off, &iter, len) ? -EFAULT : 0;
}

static void nc_vns_workfn(struct work_struct *work)
{
	struct nc_vns_job *job = container_of(work, struct nc_vns_job, work);
	struct nc_vns_batch *b = job->batch;
	u64 t0 = local_clock();
	int err;

	kthread_use_mm(b->mm);
	err = nc_vns_copy_one(job->skb, job->off, job->uaddr, job->len,
			      job->to_user);
	kthread_unuse_mm(b->mm);
	/* queued on this CPU (queue_work_on()): its time is this CPU's */
	this_cpu_add(nc_vns_copy_ns, local_clock() - t0);
	kfree_skb(job->skb);
	if (err)
		WRITE_ONCE(b->err, err);
	if (atomic_dec_and_test(&b->pending))
		complete(&b->done);
	nc_vns_batch_put(b);
}

/*
 * A batch for copies between @sk's skbs and the current task's memory, or
 * NULL (no other core idle, out of memory, or no user mm): then the caller
 * copies inline.
 */
struct nc_vns_batch *nc_vns_batch_new(struct nc_net *nn, struct sock *sk)
{
	int cpus[NC_VNS_BATCH], i, n;
	struct nc_vns_batch *b;

	if (!current->mm)
		return NULL;
	n = nc_vns_idle_cpus(cpus, clamp(READ_ONCE(nn->vns_workers) - 1, 0,
					 NC_VNS_BATCH), READ_ONCE(nn->vns_idle));
	if (!n) {
		nc_stat_inc(nn, NC_STAT_VNS_INLINE);
		return NULL;
	}
	b = kmalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return NULL;
	/* the policy's select_cpu() may move worker i elsewhere */
	for (i = 0; i < n; i++)
		b->cpus[i] = nc_sched_select_cpu(NETSCHED_CPU_VNS, i, cpus[i]);
	b->nr_cpus = n;
	refcount_set(&b->ref, 1);
	b->nn = nn;
	sock_hold(sk);
	b->sk = sk;
	mmget(current->mm);
	b->mm = current->mm;
	atomic_set(&b->pending, 1);	/* the caller's, dropped in wait */
	init_completion(&b->done);
	b->err = 0;
	b->nr_jobs = 0;
	return b;
}

bool nc_vns_full(const struct nc_vns_batch *b)
{
	return b->nr_jobs >= NC_VNS_BATCH;
}

/*
 * Queue the copy of @len bytes between @skb at @off and @uaddr. The piece
 * holds @skb until it is copied. Never fails: the caller's own share, and
 * every piece of a full batch, is copied inline (0 or -EFAULT).
 */
int nc_vns_copy(struct nc_vns_batch *b, struct sk_buff *skb, u32 off,
		void __user *uaddr, size_t len, bool to_user)
{
	struct nc_net *nn = b->nn;
	struct nc_vns_job *job;
	int slot;

	if (nc_vns_full(b))
		return nc_vns_copy_one(skb, off, uaddr, len, to_user);
	/* pieces go round the workers and the caller, the caller last */
	slot = b->nr_jobs++ % (b->nr_cpus + 1);
	if (slot == b->nr_cpus)
		return nc_vns_copy_one(skb, off, uaddr, len, to_user);
	job = &b->jobs[b->nr_jobs - 1];
	INIT_WORK(&job->work, nc_vns_workfn);
	job->batch = b;
	job->skb = skb_get(skb);
	job->off = off;
	job->uaddr = uaddr;
	job->len = len;
	job->to_user = to_user;
	refcount_inc(&b->ref);
	atomic_inc(&b->pending);
	nc_stat_inc(nn, NC_STAT_VNS_JOBS);
	nc_stat_add(nn, NC_STAT_VNS_BYTES, len);

	queue_work_on(b->cpus[slot], nc_wq, &job->work);
	return 0;
}

/*
 * Wait for every piece of @b and drop the caller's reference: 0, -EFAULT,
 * or -EINTR if a fatal signal came first (the pieces then finish on their
 * own, and the caller must not look at their buffers' contents).
 */
int nc_vns_wait(struct nc_vns_batch *b)
{
	int err = 0;

	if (!atomic_dec_and_test(&b->pending) &&
	    wait_for_completion_killable(&b->done))
		err = -EINTR;
	if (!err)
		err = READ_ONCE(b->err);
	nc_vns_batch_put(b);
	return err;
}

/* Is this copy worth handing to the workers? */
bool nc_vns_use(struct nc_net *nn, const struct iov_iter *iter, size_t len)
{
	return READ_ONCE(nn->vns_workers) > 1 && current->mm &&
	       len >= READ_ONCE(nn->copy_threshold) &&
	       (iter->iter_type == ITER_UBUF || iter->iter_type == ITER_IOVEC);
}
