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

/* the weight of a socket no policy gave one */
#define NETSCHED_WEIGHT_DFL	100

/**
 * struct netsched_sock - the scheduler's view of one virtual socket
 * @id: unique while the module is loaded
 * @cgroup_id: cgroup v2 id of the task that created it (for an accepted
 *	socket: of the task that created the listener)
 * @netns_cookie: its namespace, that is its NetChannel host
 * @peer_addr: the remote IPv4 address, network order; 0 until
 *	sock_connected(), and for an IPv6 peer (see @peer_addr6)
 * @peer_port: the remote port, network order; 0 until sock_connected()
 * @local_port: the local port, network order; 0 until bound
 * @class: written by the policy: 0 is the highest class
 * @weight: written by the policy: its relative share, default
 *	NETSCHED_WEIGHT_DFL
 * @policy_data: written by the policy, for its own use
 * @peer_addr6: the remote address as IPv6, network order, for either
 *	family: an IPv4 peer's is v4-mapped (::ffff:a.b.c.d); zero until
 *	sock_connected()
 * @family: the socket's family (AF_INET or AF_INET6; an AF_INET6 socket
 *	may have an IPv4 peer)
 *
 * Passed to every per-socket callback. A policy may read all of it and may
 * write only @class, @weight and @policy_data; the verifier enforces that
 * (see nc_bpf_btf_struct_access()). NetChannel shows @class and @weight in
 * /proc/net/netchannel/sockets and otherwise only hands them back to the
 * policy.
 */
struct netsched_sock {
	u64 id;
	u64 cgroup_id;
	u64 netns_cookie;
	__be32 peer_addr;
	__be16 peer_port;
	__be16 local_port;
	u32 class;
	u32 weight;
	u64 policy_data;
	__be32 peer_addr6[4];
	u32 family;
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

/**
 * struct netsched_peer - the scheduler's view of a channel group (the
 * channels between this host and another), read-only
 * @netns_cookie: this host's namespace
 * @peer_addr6: the other host, network order; an IPv4 host's v4-mapped
 * @family: AF_INET or AF_INET6, the channels' family
 * @nr_channels: channels it has now
 * @max_channels: the most it may have (its channels_max when made)
 */
struct netsched_peer {
	u64 netns_cookie;
	__be32 peer_addr6[4];
	u32 family;
	u32 nr_channels;
	u32 max_channels;
};

/* what netsched_ops.select_cpu() chooses a core for */
enum netsched_cpu_kind {
	NETSCHED_CPU_CHANNEL,	/* a channel's receive and transmit work */
	NETSCHED_CPU_VNS,	/* a VNS copy worker */
};

#define NETSCHED_TIMEOUT_DFL_MS	5000
#define NETSCHED_TIMEOUT_MAX_MS	60000

/* select_channels(): every channel of the peer */
#define NETSCHED_CHANNELS_ALL	(~0ULL)

/**
 * struct netsched_ops - a NetScheduler policy
 *
 * Every callback is optional; when one is NULL, NetChannel's native policy
 * decides. Every callback runs with RCU held and must not sleep (the
 * verifier refuses sleepable programs); the context of each is given
 * below. "Process" means a task or a kworker, never in interrupt.
 *
 * The order for one socket under one policy:
 *
 *	connecting:	sock_init, [connect()] sock_connected, select_channels,
 *			enqueue..., sock_release
 *	accepted:	sock_init, sock_connected, select_channels (all three
 *			before accept() returns it), enqueue..., sock_release
 *	listening:	sock_init, sock_release
 *
 * A policy attached while sockets exist gets sock_init for each, then
 * sock_connected and select_channels for each that is past that point,
 * then enqueue for those that wait to send. Each is called at most once
 * per socket and policy, except enqueue.
 */
struct netsched_ops {
	/**
	 * @init: the policy is being attached. Return 0, or a negative errno
	 * to refuse the attachment (the link creation then fails with it).
	 * Process context, under the NetScheduler's mutex.
	 */
	s32 (*init)(void);

	/**
	 * @exit: the policy stops being used, for the reason in @info. Called
	 * exactly once for every successful init(), after the last other
	 * callback has returned. Process context.
	 */
	void (*exit)(struct netsched_exit_info *info);

	/**
	 * @sock_init: a virtual socket was created, or existed when the policy
	 * was attached. Its addresses may not be known yet (see
	 * sock_connected). The policy may set @sk->class, @sk->weight and
	 * @sk->policy_data (here or in later callbacks; NetChannel only reads
	 * them through the policy). Must return 0; anything else ejects it.
	 * Process context, bottom halves disabled.
	 */
	s32 (*sock_init)(struct netsched_sock *sk);

	/**
	 * @sock_connected: @sk's addresses and ports are known: it connects
	 * (before its OPEN goes out), or it was accepted (before its first
	 * frame). The place to classify by port or peer address. Process
	 * context, bottom halves disabled.
	 */
	void (*sock_connected)(struct netsched_sock *sk);

	/**
	 * @sock_release: a virtual socket that went through this policy's
	 * sock_init() is being destroyed. Process context, bottom halves
	 * disabled.
	 */
	void (*sock_release)(struct netsched_sock *sk);

	/**
	 * @enqueue: @sk has a frame to send: it just became sendable, it
	 * sent a frame and has more, or the policy changed (every waiting
	 * socket is ranked again, and each peer's @tx->vtime restarts at 0;
	 * a socket is ranked by a policy only after its sock_init()).
	 * Return the frame's rank: among the sockets ready on a peer, the
	 * lowest rank is sent next (ties in arrival order). Called with the
	 * peer's lock held, in process context (a writer, a channel's work)
	 * or in softirq (a CREDIT that arrived in a channel's data_ready).
	 * Default: round robin, one frame each.
	 */
	u64 (*enqueue)(struct netsched_sock *sk, struct netsched_tx *tx);

	/**
	 * @select_channels: the channels @sk's frames may use, out of the
	 * @nr_channels of its peer: bit i stands for channel i. Called after
	 * sock_connected(), and again for every connected socket when a
	 * policy is attached (an ejection or detach gives every socket all
	 * channels back). Return NETSCHED_CHANNELS_ALL (or 0) for all of
	 * them, the default. A set that names none of the @nr_channels
	 * ejects the policy. When every channel of the set is down, the
	 * socket falls back to the others rather than stall. The channel
	 * for its control frames is taken from the set too. Process context,
	 * bottom halves disabled.
	 */
	u64 (*select_channels)(struct netsched_sock *sk, u32 nr_channels);

	/**
	 * @select_cpu: choose the core for work of @kind (an enum
	 * netsched_cpu_kind) number @index. Return an online CPU, or -1 for
	 * the default spread. Anything else ejects the policy. Process
	 * context, when the channel or worker is created.
	 */
	s32 (*select_cpu)(u32 kind, u32 index);

	/**
	 * @channels_grow: frames have waited for @peer's channels, and this
	 * host is about to open one more (nr_channels + 1). Return 0 to let
	 * it, anything else to veto it: the group stays as it is, and asks
	 * again when frames wait again, a second later at the earliest.
	 * Process context (the group's work item), before the connect.
	 */
	s32 (*channels_grow)(const struct netsched_peer *peer);

	/**
	 * @channels_retire: channel @index of @peer's group carried no DATA
	 * for net.netchannel.channel_idle_ms, and this host is about to
	 * retire it (nr_channels - 1 left). Return 0 to let it, anything else
	 * to keep it: the group asks again at the next idle check. Channels
	 * the group started with (channels_min) are never offered. Process
	 * context (the group's work item), before the channel leaves use.
	 */
	s32 (*channels_retire)(const struct netsched_peer *peer, u32 index);

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

	/**
	 * @channels_min: a channel group made while the policy is attached
	 * starts with at least this many channels (0: the host's
	 * net.netchannel.channels_min), even above the host's channels_max:
	 * a policy that gives a class channels of its own
	 * (select_channels()) so has them from the first connect, and keeps
	 * them while the group grows. At most 64.
	 * @channels_max: such a group grows to at most this many (0: the
	 * host's channels_max); never below @channels_min. At most 64, and
	 * not below a non-zero @channels_min.
	 * Both apply to groups made after the attachment; a group keeps the
	 * bounds it was made with.
	 */
	u32 channels_min;
	u32 channels_max;
};

#endif /* _NETSCHED_H */
