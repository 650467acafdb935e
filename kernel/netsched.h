/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NetScheduler: the BPF struct_ops interface of NetChannel.
 *
 * This header is shared by the kernel module and by BPF policies (which
 * include it after vmlinux.h, see bpf/netchannel.bpf.h). Only types that a
 * policy may see belong here; everything else stays in netchannel.h.
 */
#ifndef _NETSCHED_H
#define _NETSCHED_H

#if defined(__KERNEL__)
#include <linux/types.h>
#elif !defined(__bpf__)
/* user space (skeleton users); BPF programs get these from vmlinux.h */
#include <linux/types.h>
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
#endif

#define NETSCHED_NAME_LEN	32
#define NETSCHED_REASON_LEN	128

/**
 * enum netsched_exit_kind - why a policy stopped running
 * @NETSCHED_EXIT_NONE: the policy is still running (or none ran yet)
 * @NETSCHED_EXIT_UNREG: user space detached it (link released or detached)
 * @NETSCHED_EXIT_REPLACED: an atomic link update put another policy in
 * @NETSCHED_EXIT_ERROR: the policy misbehaved and was ejected; see reason
 */
enum netsched_exit_kind {
	NETSCHED_EXIT_NONE,
	NETSCHED_EXIT_UNREG,
	NETSCHED_EXIT_REPLACED,
	NETSCHED_EXIT_ERROR,
};

/**
 * struct netsched_exit_info - handed to ops.exit() and kept for user space
 * @kind: an enum netsched_exit_kind
 * @code: the offending value (e.g. a bad return value), or 0
 * @reason: one human-readable line
 */
struct netsched_exit_info {
	s32 kind;
	s64 code;
	char reason[NETSCHED_REASON_LEN];
};

/**
 * struct netsched_sock - the scheduler's view of one virtual socket
 *
 * Passed to every per-socket callback. A policy may read all of it and may
 * write only the fields in the second group; the verifier enforces that
 * (see nc_bpf_btf_struct_access()).
 */
struct netsched_sock {
	/* read-only */
	u64 id;			/* unique while the module is loaded */
	u64 cgroup_id;		/* cgroup v2 id of the creating task */
	u64 netns_cookie;	/* the namespace (= NetChannel host) */
	__be32 peer_addr;	/* 0 until connected */
	__be16 peer_port;
	__be16 local_port;
	/* written by the policy, read by NetChannel */
	u32 class;		/* 0 is the highest class */
	u32 weight;		/* relative share, default 100 */
	u64 policy_data;	/* free for the policy's own use */
};

/**
 * struct netsched_tx - what a policy knows when it ranks a socket's frame
 * @now_ns: ktime_get_ns() when asked
 * @vtime: rank of the frame this peer sent last: a virtual clock that fair
 *	queuing policies start idle sockets from
 * @queued_bytes: bytes the socket has waiting to be sent
 * @msg_bytes: size of the write() the next frame comes from (0 for a CLOSE)
 * @msg_queued_ns: when that write() was queued (0 for a CLOSE)
 * @frame_bytes: payload of the next frame (0 for a CLOSE)
 * @nr_ready: sockets competing for this peer's channels
 */
struct netsched_tx {
	u64 now_ns;
	u64 vtime;
	u64 queued_bytes;
	u64 msg_bytes;
	u64 msg_queued_ns;
	u32 frame_bytes;
	u32 nr_ready;
};

/* what netsched_ops.select_cpu() chooses a core for */
enum netsched_cpu_kind {
	NETSCHED_CPU_CHANNEL,	/* a channel's receive and transmit work */
	NETSCHED_CPU_VNS,	/* a VNS copy worker */
};

#define NETSCHED_TIMEOUT_DFL_MS	5000
#define NETSCHED_TIMEOUT_MAX_MS	60000

/**
 * struct netsched_ops - a NetScheduler policy
 *
 * Every callback is optional; when one is NULL, NetChannel's native policy
 * decides. Callbacks are called in process or softirq-safe context with RCU
 * held and must not sleep.
 */
struct netsched_ops {
	/**
	 * @init: the policy is being attached. Return 0, or a negative errno
	 * to refuse the attachment (the link creation then fails with it).
	 */
	s32 (*init)(void);

	/**
	 * @exit: the policy stops being used, for the reason in @info. Called
	 * exactly once for every successful init(), after the last other
	 * callback has returned.
	 */
	void (*exit)(struct netsched_exit_info *info);

	/**
	 * @sock_init: a virtual socket was created, or existed when the policy
	 * was attached. The policy may set @sk->class, @sk->weight and
	 * @sk->policy_data (here or in later callbacks; NetChannel only reads
	 * them through the policy). Must return 0; anything else ejects it.
	 */
	s32 (*sock_init)(struct netsched_sock *sk);

	/**
	 * @sock_release: a virtual socket that went through this policy's
	 * sock_init() is being destroyed.
	 */
	void (*sock_release)(struct netsched_sock *sk);

	/**
	 * @enqueue: @sk has a frame to send: it just became sendable, it
	 * sent a frame and has more, or the policy changed (every waiting
	 * socket is ranked again, and each peer's @tx->vtime restarts at 0).
	 * Return the frame's rank: among the sockets ready on a peer, the
	 * lowest rank is sent next (ties in arrival order). Called with the
	 * peer's lock held. Default: round robin, one frame each.
	 */
	u64 (*enqueue)(struct netsched_sock *sk, struct netsched_tx *tx);

	/**
	 * @select_channel: @sk connects (or was accepted) over a peer with
	 * @nr_channels channels. Return the index of the one channel its data
	 * must use, or -1 to use them all (the default). Any other value
	 * ejects the policy.
	 */
	s32 (*select_channel)(struct netsched_sock *sk, u32 nr_channels);

	/**
	 * @select_cpu: choose the core for work of @kind (an enum
	 * netsched_cpu_kind) number @index. Return an online CPU, or -1 for
	 * the default spread. Anything else ejects the policy.
	 */
	s32 (*select_cpu)(u32 kind, u32 index);

	/**
	 * @timeout_ms: a ready socket not served for this long ejects the
	 * policy (starvation). 0 means NETSCHED_TIMEOUT_DFL_MS; at most
	 * NETSCHED_TIMEOUT_MAX_MS.
	 */
	u32 timeout_ms;

	/** @flags: reserved, must be 0 */
	u64 flags;

	/** @name: the policy's name, shown by the tools; must not be empty */
	char name[NETSCHED_NAME_LEN];
};

#endif /* _NETSCHED_H */
