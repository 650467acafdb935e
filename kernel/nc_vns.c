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
 * cost of waking workers exceeds what parallel copying saves.
 */
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
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
 * @next_worker: round-robin cursor over the workers
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
	unsigned int next_worker;
	struct nc_vns_job jobs[NC_VNS_BATCH];
};

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
	int err;

	kthread_use_mm(b->mm);
	err = nc_vns_copy_one(job->skb, job->off, job->uaddr, job->len,
			      job->to_user);
	kthread_unuse_mm(b->mm);
	kfree_skb(job->skb);
	if (err)
		WRITE_ONCE(b->err, err);
	if (atomic_dec_and_test(&b->pending))
		complete(&b->done);
	nc_vns_batch_put(b);
}

/*
 * A batch for copies between @sk's skbs and the current task's memory, or
 * NULL (out of memory, or no user mm): then the caller copies inline.
 */
struct nc_vns_batch *nc_vns_batch_new(struct nc_net *nn, struct sock *sk)
{
	struct nc_vns_batch *b;

	if (!current->mm)
		return NULL;
	b = kmalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return NULL;
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
	b->next_worker = 0;
	return b;
}

bool nc_vns_full(const struct nc_vns_batch *b)
{
	return b->nr_jobs >= NC_VNS_BATCH;
}

/*
 * Queue the copy of @len bytes between @skb at @off and @uaddr. The piece
 * holds @skb until it is copied. Never fails: a full batch copies inline
 * (0 or -EFAULT).
 */
int nc_vns_copy(struct nc_vns_batch *b, struct sk_buff *skb, u32 off,
		void __user *uaddr, size_t len, bool to_user)
{
	struct nc_net *nn = b->nn;
	struct nc_vns_job *job;
	int cpu;

	if (nc_vns_full(b))
		return nc_vns_copy_one(skb, off, uaddr, len, to_user);
	job = &b->jobs[b->nr_jobs++];
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

	/* spread over the pool: the policy's select_cpu(), or round robin */
	cpu = b->next_worker++ % max(READ_ONCE(nn->vns_workers), 1);
	cpu = nc_sched_select_cpu(NETSCHED_CPU_VNS, cpu,
				  cpumask_local_spread(cpu, NUMA_NO_NODE));
	queue_work_on(cpu, nc_wq, &job->work);
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
