// SPDX-License-Identifier: GPL-2.0
/*
 * VNS copy workers: the interface-level work of one large send or receive
 * (copying between user memory and NetChannel buffers) is cut into pieces
 * copied in parallel by work items on other cores.
 *
 * Each piece is a contiguous range of the caller's user memory and of one
 * skb. A worker adopts the caller's mm with kthread_use_mm(), copies, and
 * drops it. The caller waits, uninterruptibly, for the whole batch before
 * it looks at the result, so its mm and the skbs outlive every worker.
 *
 * Small copies are done inline: below net.netchannel.copy_threshold the
 * cost of waking workers exceeds what parallel copying saves.
 */
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "netchannel.h"

struct nc_vns_job {
	struct work_struct work;
	struct nc_vns_batch *batch;
	void *kaddr;
	void __user *uaddr;
	size_t len;
	bool to_user;
};

static void nc_vns_workfn(struct work_struct *work)
{
	struct nc_vns_job *job = container_of(work, struct nc_vns_job, work);
	struct nc_vns_batch *b = job->batch;
	unsigned long left;

	kthread_use_mm(b->mm);
	if (job->to_user)
		left = copy_to_user(job->uaddr, job->kaddr, job->len);
	else
		left = copy_from_user(job->kaddr, job->uaddr, job->len);
	kthread_unuse_mm(b->mm);
	if (left)
		WRITE_ONCE(b->err, -EFAULT);
	if (atomic_dec_and_test(&b->pending))
		complete(&b->done);
}

void nc_vns_batch_init(struct nc_vns_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->mm = current->mm;
	atomic_set(&b->pending, 1);	/* the caller's, dropped in wait */
	init_completion(&b->done);
}

/*
 * Queue one piece. Falls back to copying inline if no job can be
 * allocated; returns 0 or -EFAULT for an inline copy that failed.
 */
int nc_vns_copy(struct nc_net *nn, struct nc_vns_batch *b, void *kaddr,
		void __user *uaddr, size_t len, bool to_user)
{
	struct nc_vns_job *job = kmalloc(sizeof(*job), GFP_KERNEL);
	int cpu;

	if (!job) {
		if (to_user)
			return copy_to_user(uaddr, kaddr, len) ? -EFAULT : 0;
		return copy_from_user(kaddr, uaddr, len) ? -EFAULT : 0;
	}
	INIT_WORK(&job->work, nc_vns_workfn);
	job->batch = b;
	job->kaddr = kaddr;
	job->uaddr = uaddr;
	job->len = len;
	job->to_user = to_user;
	b->jobs[b->nr_jobs++] = job;
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

/* Wait for every piece of @b; 0 or -EFAULT. */
int nc_vns_wait(struct nc_vns_batch *b)
{
	int i;

	if (!atomic_dec_and_test(&b->pending))
		wait_for_completion(&b->done);
	for (i = 0; i < b->nr_jobs; i++)
		kfree(b->jobs[i]);
	b->nr_jobs = 0;
	return READ_ONCE(b->err);
}

/* Is this copy worth handing to the workers? */
bool nc_vns_use(struct nc_net *nn, const struct iov_iter *iter, size_t len)
{
	return READ_ONCE(nn->vns_workers) > 1 && current->mm &&
	       len >= READ_ONCE(nn->copy_threshold) &&
	       (iter->iter_type == ITER_UBUF || iter->iter_type == ITER_IOVEC);
}
