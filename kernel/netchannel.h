/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NetChannel: internal declarations shared by the module's files.
 *
 * Objects and who owns them:
 *
 *   struct nc_net      one NetChannel host = one network namespace
 *   struct nc_peer     a group of channels that one host opened to another;
 *                      hosts that connect to each other both ways have two
 *   struct nc_channel  one kernel TCP connection of a peer
 *   struct nc_sock     a virtual socket; sends and receives over the
 *                      channels of one peer
 *
 * References: the peer list of nc_net holds one on each live peer; every
 * channel and every virtual socket attached to a peer holds one. A channel
 * belongs to its peer (or, before its HELLO, to nc_net's list of pending
 * channels) and is freed by nc_peer_destroy_workfn() / nc_net_stop().
 */
#ifndef _NETCHANNEL_H
#define _NETCHANNEL_H

#include <linux/completion.h>
#include <linux/dynamic_queue_limits.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/netns/generic.h>

#include "netsched.h"
#include "nc_frame.h"
#include "uapi/netchannel.h"

#if !IS_ENABLED(CONFIG_IPV6)
#error "NetChannel needs CONFIG_IPV6: its sockets and channels are of both families"
#endif

#define NC_MAX_CHANNELS		NC_HELLO_MAX_CHANNELS
#define NC_EPHEMERAL_LO		32768
#define NC_EPHEMERAL_HI		60999

/* per-namespace counters, shown in /proc/net/netchannel/stats */
enum nc_stat {
	NC_STAT_CHANNELS_OPEN,		/* channels this host connected */
	NC_STAT_CHANNELS_ACCEPTED,	/* channels peers connected to us */
	NC_STAT_CHANNELS_RESET,		/* channels torn down on an error */
	NC_STAT_PEERS_FAILED,		/* channel groups that died */
	NC_STAT_CHANNELS_GROWN,		/* channels opened for a saturated group */
	NC_STAT_CHANNELS_GROW_FAILED,	/* such a channel could not be opened */
	NC_STAT_CHANNELS_GROW_VETOED,	/* the policy's channels_grow() said no */
	NC_STAT_CHANNELS_RETIRED,	/* idle channels taken out of a group */
	NC_STAT_CHANNELS_RETIRE_VETOED,	/* the policy's channels_retire() said no */
	NC_STAT_FRAMES_TX,
	NC_STAT_FRAMES_RX,
	NC_STAT_BYTES_TX,		/* payload bytes */
	NC_STAT_BYTES_RX,
	NC_STAT_OPENS_REFUSED,		/* OPEN answered with RESET */
	NC_STAT_STALE_FRAMES,		/* frames for sockets closed here */
	NC_STAT_STALE_RESETS,		/* RESETs that answered them */
	NC_STAT_VNS_JOBS,		/* copies done by VNS workers */
	NC_STAT_VNS_BYTES,
	NC_STAT_VNS_INLINE,		/* large copies inline: no core idle */
	NC_STAT_RX_THROTTLED,		/* input paused: our answers pile up */
	NC_STAT_RX_DEFERRED,		/* frames left to the receive work */
	NC_STAT_RX_NOMEM,		/* receive allocations that failed */
	NC_STAT_TX_LIMITED,		/* a channel stopped at its in-flight limit */
	NC_STAT_ACKS_TX,		/* ACK frames sent */
	NC_STAT_RMEM_PRESSURE,		/* credit held back: memory pressure */
	NC_STAT_RMEM_FORCED,		/* frames taken past net.netchannel.mem[2] */
	NC_STAT_TX_SPLICED,		/* bytes sent by page reference (sendfile) */
	NC_STAT_RX_SPLICED,		/* bytes spliced from sockets to pipes */
	/* fallback to TCP (nc_fallback.c) */
	NC_STAT_FALLBACK_NO_HOST,	/* connects refused: no NetChannel host */
	NC_STAT_FALLBACK_NO_LISTENER,	/* ... no NetChannel listener on the port */
	NC_STAT_FALLBACK_FAILED,	/* ... and TCP's connect failed too */
	NC_STAT_FALLBACK_ACCEPTED,	/* plain TCP clients a listener accepted */
	NC_STAT_FALLBACK_RULE,		/* sockets a BPF rule gave to TCP */
	/* protocol errors: each resets the channel it came on */
	NC_STAT_ERR_BAD_MAGIC,		/* bad headers: nc_frame_err_stat() */
	NC_STAT_ERR_BAD_VERSION,
	NC_STAT_ERR_BAD_TYPE,
	NC_STAT_ERR_BAD_FLAGS,
	NC_STAT_ERR_BAD_RESERVED,
	NC_STAT_ERR_BAD_LEN,
	NC_STAT_ERR_BAD_ID,
	NC_STAT_ERR_BAD_ARG,
	NC_STAT_ERR_UNKNOWN_SOCKET,	/* id never allocated, or wrong peer */
	NC_STAT_ERR_SEQ_WINDOW,		/* DATA outside the receive window */
	NC_STAT_ERR_CREDIT,		/* more DATA than credit granted */
	NC_STAT_ERR_ACK,		/* ACK of more than was sent */
	NC_STAT_ERR_RETIRE,		/* RETIRE out of turn, or a frame after it */
	NC_STAT_ERR_RMEM,		/* held DATA over 4x the window */
	NC_STAT_ERR_OPEN_FLOOD,		/* too many OPENs too fast */
	NC_STAT_ERR_STATE,		/* frame not valid in the socket's state */
	NC_STAT_ERR_HELLO,		/* missing, repeated or conflicting HELLO */

	NC_STAT_MAX
};

/* the enum nc_stat counters of one host on one CPU; read with nc_stat_read() */
struct nc_stats {
	u64 v[NC_STAT_MAX];
};

/**
 * struct nc_net - one NetChannel host: the per-network-namespace state
 * @net: the namespace
 * @proc_dir: /proc/net/netchannel
 * @sysctl: net.netchannel.*
 * @port, @channels_min, @channels_max, @frame_size, @rcv_window,
 * @vns_workers, @vns_idle, @copy_threshold, @channel_queue, @fallback,
 * @channel_idle_ms: settings
 *	(sysctl; net.netchannel.channels writes both channel bounds)
 * @lock: protects @listener, @peers, @pending, @ports, @dying
 * @listener: kernel TCP socket accepting channels, NULL until a virtual
 *	socket listens here
 * @listen_data_ready: its data_ready before we took it over, which the
 *	TCP children it accepts get back (they inherit ours)
 * @accept_work: accepts channels from @listener
 * @route_work: kills peers that became unreachable
 * @peers: live struct nc_peer
 * @pending: accepted channels that have not sent their HELLO yet
 * @ports: local port -> bound struct nc_sock (bind/listen)
 * @socks: socket id -> struct nc_sock, looked up under RCU
 * @id_next: next id to try; ids are never reused while the host lives
 * @id_max: the highest id ever handed out
 * @nr_socks: virtual sockets alive here
 * @nr_peers: peers not yet freed
 * @stats: enum nc_stat counters, per CPU: no shared cache line on the
 *	per-frame path
 */
struct nc_net {
	struct net *net;
	struct proc_dir_entry *proc_dir;
	struct ctl_table_header *sysctl;
	int port;
	int channels_min;
	int channels_max;
	int frame_size;
	int rcv_window;
	int vns_workers;
	int vns_idle;
	int copy_threshold;
	int channel_queue;
	int fallback;
	int channel_idle_ms;

	struct mutex lock;		/* see above */
	struct socket *listener;
	void (*listen_data_ready)(struct sock *sk);
	struct work_struct accept_work;
	struct work_struct route_work;
	struct list_head peers;
	struct list_head pending;
	struct xarray ports;
	u32 port_next;			/* ephemeral port cursor */
	bool dying;

	struct xarray socks;
	u32 id_next;
	u32 id_max;
	atomic_t nr_socks;
	atomic_t nr_peers;
	struct nc_stats __percpu *stats;
};

enum nc_peer_state {
	NC_PEER_CONNECTING,	/* channels being connected */
	NC_PEER_READY,
	NC_PEER_DEAD,		/* failed or torn down; being destroyed */
};

/**
 * struct nc_peer - a group of channels between two hosts
 * @nn: the host it belongs to
 * @node: entry in nn->peers, under nn->lock
 * @ref: see the top of this file
 * @addr: the other host, v4-mapped if it is an IPv4 one (see nc_addr.c)
 * @group: random id of the group, sent in every channel's HELLO
 * @initiator: this host opened the channels
 * @state: an enum nc_peer_state, written under @lock
 * @err: why it died (positive errno)
 * @lock: protects @state, @ch, @ready, @socks, @waiting and every
 *	attached socket's transmit state (see struct nc_sock)
 * @nr: channels the group may have (the initiator's channels_max when it
 *	was made, sent in every HELLO); fixed for the group's life
 * @nr_start: channels an initiator opens before the group is ready
 * @nr_open: channels installed in @ch (a retiring one counts until it
 *	is gone). An initiator opens the lowest free index. Under @lock
 * @ch: the channels, by index
 * @ready: sockets that have something to send and the credit to send it,
 *	ordered by the rank the NetScheduler gave their next frame
 * @served: the same sockets, least recently served first (starvation)
 * @seq: tie-breaker and native round-robin clock
 * @vtime: rank of the last frame sent, as the policy of generation
 *	@vtime_gen ranked it: a policy's virtual clock is never seen by
 *	another one (nor set from ranks another policy gave)
 * @nr_ready: sockets in @ready
 * @socks: every socket attached to this peer
 * @waiting: connecting sockets waiting for the group to be ready
 * @connect_work: connects the channels (initiator)
 * @destroy_work: tears the group down once it is dead
 * @free_work: frees it (and its channels) on the last reference
 * @rr: round-robin cursor for picking channels (home channels, and the
 *	channel a frame wakes)
 * @proven: the other host has sent a valid frame on one of the channels
 *	(the acceptor answers each HELLO with an ACK of 0 bytes): it runs
 *	NetChannel. An initiator's group that is not proven NC_PROOF_TIMEOUT
 *	after its HELLOs (@proof_work), or that fails before, was refused by
 *	a host without NetChannel on the channel port (nc_peer_kill()):
 *	its connects fall back to TCP. Set once, read locklessly.
 * @proof_work: the initiator's timeout; holds a reference while queued
 * @sat_since: when frames last began to wait with every usable channel
 *	full or at its in-flight limit (jiffies, 0: they do not wait); see
 *	nc_peer_saturated(). Lockless, a hint
 * @sat_last: when frames last found every usable channel full (jiffies,
 *	a lockless hint); no channel retires for channel_idle_ms after
 * @grow_after: no channel is added before this (jiffies), after one
 *	failed to open
 * @grow_work: opens one more channel (initiator); holds a reference while
 *	queued
 * @grown, @grow_failed: channels it added, and tries that failed (the
 *	grow work's; /proc/net/netchannel/peers)
 * @idle_work: an initiator's check, every net.netchannel.channel_idle_ms
 *	while it has more than @nr_start channels, for one that carried no
 *	DATA that long, which it then retires; holds a reference while queued
 * @retire_work: moves the retiring channels on (nc_peer_retire_workfn())
 * @retiring: channels being retired, by their @node, under @lock. An
 *	acceptor's have left @ch already; an initiator's stay in it until
 *	the acceptor's RETIRE came back. Their structs are freed by the
 *	retire work once nothing can reach them (see struct nc_channel's
 *	@ref), or with the peer
 * @retired: channels retired (/proc/net/netchannel/peers)
 */
struct nc_peer {
	struct nc_net *nn;
	struct list_head node;
	refcount_t ref;
	struct in6_addr addr;
	u64 group;
	bool initiator;
	int state;
	int err;
	spinlock_t lock;		/* see above */
	int nr;
	int nr_start;
	int nr_open;
	struct nc_channel *ch[NC_MAX_CHANNELS];
	struct rb_root_cached ready;
	struct list_head served;
	u64 seq;
	u64 vtime;
	u64 vtime_gen;
	u32 nr_ready;
	struct list_head socks;
	struct list_head waiting;
	struct work_struct connect_work;
	struct work_struct destroy_work;
	struct work_struct free_work;
	unsigned int rr;
	bool proven;
	struct delayed_work proof_work;
	unsigned long sat_since;
	unsigned long sat_last;
	unsigned long grow_after;
	struct work_struct grow_work;
	u32 grown;
	u32 grow_failed;
	struct delayed_work idle_work;
	struct work_struct retire_work;
	struct list_head retiring;
	u32 retired;
};

/* how long an initiator waits for the other host's first frame */
#define NC_PROOF_TIMEOUT	(10 * HZ)

struct nc_sock;

/**
 * struct nc_ctrl - a control frame waiting on a channel's @ctrlq
 * @node: entry in nc_channel.ctrlq; @node and @queued are under that
 *	channel's @ctrl_lock
 * @f: the frame; a CREDIT queued again adds its credit to this one
 * @nsk: the socket this slot belongs to (see nc_sock.ctrl), which the slot
 *	holds a reference on while it is queued; NULL for a frame allocated
 *	on its own, freed once sent
 * @queued: in a ctrlq
 *
 * A socket's control frames live in slots of the socket, one per kind, so
 * queueing one never allocates and never fails while the channel lives: a
 * lost CREDIT would stall a sender forever, a lost ACCEPT a connect().
 */
struct nc_ctrl {
	struct list_head node;
	struct nc_frame f;
	struct nc_sock *nsk;
	bool queued;
};

enum nc_ctrl_kind {
	NC_CTRL_OPEN,
	NC_CTRL_ACCEPT,
	NC_CTRL_CREDIT,
	NC_CTRL_CLOSE,
	NC_CTRL_RESET,
	NC_CTRL_MAX
};

/* writes up to this many bytes a frame are copied into TCP, not spliced */
#define NC_TX_COPYBREAK		2048
/* the longest a corked write waits for more, as TCP's TCP_CORK ceiling */
#define NC_CORK_TIMEOUT		(HZ / 5)

/**
 * struct nc_tx_frame - the frame a channel is handing to TCP
 * @f: the frame
 * @hdr: its header, encoded
 * @skb: the socket skb its payload is in (a reference), or NULL
 * @off: where the payload starts in @skb
 * @len: payload bytes
 * @sent: bytes of header and payload TCP took so far
 * @fin_nsk: a CLOSE: the socket whose FIN it is (a reference)
 * @busy: the fields above hold a frame
 *
 * Owned by whoever holds the channel socket's lock (the transmit work). A
 * frame TCP had no room for waits here, so the work never blocks holding
 * one.
 */
struct nc_tx_frame {
	struct nc_frame f;
	u8 hdr[NC_FRAME_HDR_LEN];
	struct sk_buff *skb;
	u32 off;
	u32 len;
	u32 sent;
	struct nc_sock *fin_nsk;
	bool busy;
};

/*
 * A channel's retirement (see NC_FT_RETIRE). The initiator drains it
 * (no DATA bound to it, no socket's home, not picked), waits an RCU grace
 * period for those who read a socket's old home, and queues its RETIRE;
 * the acceptor does the same when that RETIRE arrives and answers it.
 * Then the channel is done: an EOF on it is expected, and the retire work
 * stops and frees it.
 */
enum nc_chan_retire {
	NC_RETIRE_NONE,
	NC_RETIRE_DRAIN,	/* taken out of use; RETIRE not queued yet */
	NC_RETIRE_QUEUED,	/* RETIRE queued (@ctrl_closed) */
	NC_RETIRE_DONE,		/* both RETIREs went: stop it and free it */
};

/**
 * struct nc_channel - one kernel TCP connection of a peer
 * @nn: the host
 * @peer: NULL until the HELLO arrived (accepted channels)
 * @node: entry in nn->pending until then
 * @idx: index in the peer's group
 * @cpu: where its work runs
 * @sock: the TCP socket
 * @rx_work, @tx_work: receive and transmit processing
 * @ctrl_lock: protects @ctrlq and its entries' @queued
 * @ctrlq: struct nc_ctrl waiting to be sent, in order; once @dead is set
 *	nothing is added, and nc_chan_stop() empties it
 * @ctrlq_len: entries in @ctrlq; @ctrl_unowned: those that belong to no
 *	socket (allocated, so bounded: see nc_chan_send_ctrl())
 * @rx_throttled: the receive work stopped reading until @ctrl_unowned
 *	drains (see nc_chan_rx_throttle())
 * @dead: no more processing; set once
 * @saved_*: the TCP socket's callbacks before we took them over
 * @tx: the frame being sent
 * @tx_full: its TCP socket had no room when the transmit path last ran;
 *	set under the channel socket's lock, cleared by its write_space, so
 *	no one kicks a channel that TCP will wake anyway (lockless reads)
 * @rx_hdr, @rx_got, @rx_need, @rx_frame, @rx_skb: receive state machine,
 *	written only under the channel socket's lock (see nc_chan_rx_read());
 *	a channel with a @peer has said (or, connected by us, sent) its HELLO
 * @rx_deferred: a frame (or a decode error, @rx_defer_err) waits in
 *	@rx_defer_frame/@rx_defer_skb for the receive work; set under the
 *	socket's lock with release semantics, cleared by the work under it
 * @opens, @opens_since: OPEN flood detection
 * @tx_dql: the in-flight bound (BQL's dynamic queue limit): bytes of DATA
 *	frames (header and payload) handed to TCP and not yet acknowledged by
 *	the peer's ACK, that is not yet parsed by its input. Queued when a
 *	frame is bound to the channel, completed by an ACK, both under the
 *	channel socket's lock (the receive path that parses the ACK holds it
 *	too), so the dql needs no lock of its own; dql_avail() is read
 *	lockless by nc_peer_tx_channel()
 * @tx_ackreq_at: the dql's queued count when a frame last asked for an
 *	ACK (same lock). The count in the last ACK received is the dql's
 *	num_completed
 * @ack_ctrl: the slot of this channel's ACK, so an ACK never allocates
 * @rx_data: bytes of DATA frames parsed (modulo 2^32); @rx_acked: the count
 *	in the last ACK queued. Both the reader's (see @rx_hdr)
 * @stale_src, @stale_dst: the last (remote id, closed local id) a stale
 *	frame was answered for with a RESET; later stale frames of that pair
 *	get none, since the RESET is already on its way, in order (receive
 *	work only)
 * @ref: one for its place in the peer, one for each transmit path that
 *	picked it (nc_peer_tx_channel()) and runs it. A channel that is not
 *	retired is freed with its peer; a retired one by the retire work once
 *	its place is cleared, an RCU grace period has passed (a socket's
 *	@home is read under RCU) and the pickers let go
 * @retire: where it is in its retirement (enum nc_chan_retire); moves
 *	forward only. NC_RETIRE_DRAIN is set under the peer's lock, the others
 *	by the retire work or the receive and transmit paths (lockless reads)
 * @ctrl_closed: RETIRE is queued, as the last control frame: nothing more
 *	is queued (under @ctrl_lock)
 * @retire_gp: the RCU grace period its sockets' homes moved in
 * @retire_ctrl: the slot of the RETIRE frame
 * @last_used: when a DATA frame was last bound to it, parsed from it or
 *	acknowledged on it (jiffies, a lockless hint for the idle check)
 * @frames_tx .. @bytes_rx: counters for /proc/net/netchannel/channels,
 *	plain: the transmit ones are written under the channel socket's lock,
 *	the receive ones by the reader (the lock holder, or the receive work
 *	while @rx_deferred keeps every other reader out)
 */
struct nc_channel {
	struct nc_net *nn;
	struct nc_peer *peer;
	struct list_head node;
	int idx;
	int cpu;
	struct socket *sock;
	struct work_struct rx_work;
	struct work_struct tx_work;
	spinlock_t ctrl_lock;		/* see above */
	struct list_head ctrlq;
	u32 ctrlq_len;
	u32 ctrl_unowned;
	atomic_t rx_throttled;
	atomic_t dead;

	void (*saved_data_ready)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	struct nc_tx_frame tx;
	bool tx_full;
	struct dql tx_dql;
	u32 tx_ackreq_at;
	struct nc_ctrl ack_ctrl;

	u8 rx_hdr[NC_FRAME_HDR_LEN];
	u32 rx_got;
	u32 rx_need;
	struct nc_frame rx_frame;
	struct sk_buff *rx_skb;
	bool rx_deferred;
	int rx_defer_err;
	struct nc_frame rx_defer_frame;
	struct sk_buff *rx_defer_skb;
	u32 rx_data;
	u32 rx_acked;

	u32 opens;
	unsigned long opens_since;
	u32 stale_src;
	u32 stale_dst;

	refcount_t ref;
	int retire;
	unsigned long retire_gp;
	bool ctrl_closed;
	struct nc_ctrl retire_ctrl;
	unsigned long last_used;

	u64 frames_tx;
	u64 frames_rx;
	u64 bytes_tx;
	u64 bytes_rx;
};

/* the TCP callbacks a fallback socket forwards (nsk->fb_cb) */
enum {
	NC_FB_STATE_CHANGE,
	NC_FB_DATA_READY,
	NC_FB_WRITE_SPACE,
	NC_FB_ERROR_REPORT,
	NC_FB_MAX
};

/**
 * struct nc_sock - a NetChannel virtual socket
 * @inet: must come first: inet_create() treats the sock as an inet_sock
 * @sched: what the NetScheduler policy sees and sets
 * @sched_gen: generation of the policy whose sock_init() accepted this
 *	socket, 0 if none did; protected by nc_sock_list_lock
 * @conn_gen: the same for sock_connected() and select_channels()
 * @sched_connected: its addresses are known (nc_sched_sock_connected()
 *	ran); protected by nc_sock_list_lock
 * @node: entry in nc_sock_list, protected by nc_sock_list_lock
 * @nn: the host
 * @id: our id, key in nn->socks; @remote_id: the other end's
 * @peer: the channel group it uses, holds a reference; NULL when unattached
 * @home: channel for its control frames
 *
 * Transmit state, under peer->lock:
 * @txq: data waiting to be framed (skbs charged to sk_wmem_alloc)
 * @tx_off: bytes of txq's head already sent
 * @snd_nxt: seq of the next DATA frame
 * @snd_credit: bytes the receiver allows us to send
 * @tx_bytes: bytes in @txq not yet sent
 * @fin_queued: send CLOSE once txq is empty; @fin_sent: it was picked
 * @tx_corked: the last write was corked (TCP_CORK or MSG_MORE): a partial
 *	last skb is held back, and small corked writes are appended to it,
 *	until a write that is not corked, uncorking, the CLOSE, splice_eof or
 *	@cork_timer (NC_CORK_TIMEOUT, TCP's 200 ms ceiling) releases it
 * @cork_timer: holds a socket reference while pending (sk_reset_timer())
 * @ready_rb, @rank, @rank_seq: entry in peer->ready; @queued: it is there
 * @rank_gen: generation of the policy that gave @rank (0: round robin)
 * @served_node, @served_ns: entry in peer->served, last service time
 * @chan_mask: the channels its frames may use, bit i for channel i (the
 *	policy's select_channels(); all by default). Written with WRITE_ONCE
 *	under nc_sock_list_lock, read under peer->lock: either value is fine
 * @peer_node: entry in peer->socks
 *
 * Receive state, under @lock:
 * @rcv_nxt: seq of the next in-order DATA frame
 * @rcv_bytes: unread bytes in sk_receive_queue
 * @ooo: DATA frames received ahead of @rcv_nxt, an rbtree by seq;
 *	@ooo_last: its last one (frames mostly come in order: the tail is
 *	where most go), as MPTCP's out-of-order queue
 * @rcv_window: credit we grant, in bytes
 * @rcv_clamp: the window in use, @rcv_window but under memory pressure,
 *	when it shrinks to NC_RMEM_PRESSURE_WINDOW and then grows back by
 *	as much per credit (nc_sock_credit())
 * @rcv_unacked: bytes consumed by the reader and not yet credited back
 * @rcv_budget: bytes the sender may still send before our next CREDIT,
 *	counting @credit_due
 * @credit_due: credit granted and not yet sent, under the peer's lock: the
 *	next DATA frame the socket sends carries it (NC_FF_CREDIT), or a
 *	CREDIT frame once the peer is short of it (nc_sock_credit_flush())
 * @fin_seq, @fin_rcvd: the peer's CLOSE came, after frame @fin_seq - 1
 * @eof: every frame before the peer's CLOSE arrived: end of stream
 * @fin_done: our CLOSE went out (nc_sock_fin_sent() ran); with @lingering,
 *	decides under @lock whether close() or the CLOSE's sender finishes a
 *	linger, so exactly one of them does
 *
 * @lock also protects @accept_q / @nr_accept (listeners), @remote_id and
 * @lingering. A listener that is unlinked takes no more children: the OPEN
 * path checks @unlinked under @lock.
 * @ctrl: slots for the control frames it sends on @home (struct nc_ctrl)
 * @send_mutex / @recv_mutex serialise senders / readers without holding
 * the socket lock while they wait, so one thread may block in recv while
 * another sends.
 * @opt: the TCP-level options (nc_sockopt.c), under the socket lock
 * @bytes_sent: DATA payload handed to the channels; @snd_window: the
 *	peer's window, its first CREDIT (the credit it has not returned is
 *	@snd_window - @snd_credit): under the peer's lock, for TCP_INFO
 * @bytes_received: payload delivered in order, under @lock
 * @rcv_seen: under @recv_mutex, the unread bytes a waiting reader has
 *	already seen (a MSG_PEEK read's; 0 otherwise): it waits for more
 * @lingering: closed by the user with data still to send; a reference is
 *	held until CLOSE is sent or @linger_work gives up
 * @unlinked: nc_sock_unlink() ran
 * Fallback to TCP (nc_fallback.c, whose header says how they are locked):
 * @fb: the TCP socket a refused connect became (the file's socket now);
 * @fb_listen: a listener's TCP listener, for plain TCP clients;
 * @fb_pending: @fb_work is connecting it; @fb_closed: close() ran;
 * @fb_cb: TCP's own callbacks of the TCP socket, which ours call
 */
struct nc_sock {
	struct inet_sock inet;
	struct netsched_sock sched;
	u64 sched_gen;
	u64 conn_gen;
	bool sched_connected;
	struct list_head node;

	struct nc_net *nn;
	u32 id;
	u32 remote_id;
	struct nc_peer *peer;
	struct nc_channel *home;
	spinlock_t lock;		/* receive state, see above */

	struct sk_buff_head txq;
	u32 tx_off;
	u32 snd_nxt;
	s64 snd_credit;
	u64 tx_bytes;
	bool fin_queued;
	bool fin_sent;
	bool tx_corked;
	struct timer_list cork_timer;
	struct rb_node ready_rb;
	u64 rank;
	u64 rank_seq;
	u64 rank_gen;
	bool queued;
	struct list_head served_node;
	u64 served_ns;
	u64 chan_mask;
	struct list_head peer_node;

	u32 rcv_nxt;
	u64 rcv_bytes;
	struct rb_root ooo;
	struct sk_buff *ooo_last;
	u32 rcv_window;
	u32 rcv_clamp;
	u32 rcv_unacked;
	s64 rcv_budget;
	u32 credit_due;
	u32 fin_seq;
	bool fin_rcvd;
	bool eof;
	bool fin_done;
	struct nc_ctrl ctrl[NC_CTRL_MAX];

	struct list_head accept_q;
	struct list_head accept_node;
	int nr_accept;

	struct mutex send_mutex;	/* one sendmsg at a time */
	struct mutex recv_mutex;	/* one recvmsg at a time */
	u64 rcv_seen;
	struct {
		bool nodelay, cork, quickack;
		int keepidle, keepintvl, keepcnt;	/* 0: the defaults */
		int user_timeout;
	} opt;
	u64 bytes_sent;
	u32 snd_window;
	u64 bytes_received;
	bool lingering;
	struct delayed_work linger_work;
	atomic_t unlinked;
	bool bound;

	struct socket *fb;
	struct socket *fb_listen;
	bool fb_pending;
	bool fb_closed;
	struct work_struct fb_work;
	/* TCP's own callbacks of @fb or @fb_listen */
	void (*fb_cb[NC_FB_MAX])(struct sock *sk);
};

static inline struct nc_sock *nc_sk(const struct sock *sk)
{
	return (struct nc_sock *)sk;
}

extern unsigned int nc_net_id;
extern struct workqueue_struct *nc_wq;

static inline struct nc_net *nc_net(const struct net *net)
{
	return net_generic(net, nc_net_id);
}

static inline void nc_stat_inc(struct nc_net *nn, enum nc_stat s)
{
	this_cpu_inc(nn->stats->v[s]);
}

static inline void nc_stat_add(struct nc_net *nn, enum nc_stat s, u64 v)
{
	this_cpu_add(nn->stats->v[s], v);
}

u64 nc_stat_read(struct nc_net *nn, enum nc_stat s);

/* nc_main.c */
extern const char *const nc_stat_names[NC_STAT_MAX];

/* the VNS: nc_sock.c (life, connection), nc_sock_rx.c (frames from the peer) */
int nc_sock_register(void);
void nc_sock_unregister(void);
struct nc_sock *nc_sock_lookup(struct nc_net *nn, u32 id);
void nc_sock_reset(struct nc_sock *nsk, int err);
bool nc_sock_rx_frame(struct nc_channel *ch, struct nc_sock *nsk,
		      const struct nc_frame *f, struct sk_buff *skb,
		      bool can_sleep);
void nc_sock_rx_open(struct nc_channel *ch, const struct nc_frame *f);
void nc_sock_fin_sent(struct nc_sock *nsk);
void nc_sock_peer_ready(struct nc_sock *nsk);
bool nc_sock_tx_ready_locked(struct nc_sock *nsk);
bool nc_sock_tx_held(const struct nc_sock *nsk);
int nc_proc_socks_show(struct seq_file *seq, void *v);

/* nc_vns.c: one batch of copies spread over the VNS workers */
#define NC_VNS_BATCH	32

struct nc_vns_batch;

struct nc_vns_batch *nc_vns_batch_new(struct nc_net *nn, struct sock *sk);
bool nc_vns_full(const struct nc_vns_batch *b);
int nc_vns_copy(struct nc_vns_batch *b, struct sk_buff *skb, u32 off,
		void __user *uaddr, size_t len, bool to_user);
int nc_vns_wait(struct nc_vns_batch *b);
bool nc_vns_use(struct nc_net *nn, const struct iov_iter *iter, size_t len);

/* the NetDriver: nc_chan.c (channels), nc_peer.c (peers), nc_output.c */
int nc_net_listen_start(struct nc_net *nn);
void nc_net_chan_init(struct nc_net *nn);
int nc_proc_channels_show(struct seq_file *seq, void *v);
int nc_proc_peers_show(struct seq_file *seq, void *v);
void nc_chan_proto_error(struct nc_channel *ch, enum nc_stat why,
			 const char *fmt, ...) __printf(3, 4);
void nc_net_stop(struct nc_net *nn);
int nc_chan_register(void);
void nc_chan_unregister(void);
struct nc_peer *nc_peer_connect(struct nc_net *nn, const struct in6_addr *addr);
void nc_peer_put(struct nc_peer *peer);
void nc_peer_kill(struct nc_peer *peer, int err);
struct nc_channel *nc_peer_pick_home(struct nc_peer *peer,
				     const struct nc_sock *nsk);
void nc_peer_rehome(struct nc_peer *peer, struct nc_sock *nsk,
		    struct nc_channel *ch);
int nc_chan_send_ctrl(struct nc_channel *ch, const struct nc_frame *f);
int nc_chan_queue_ctrl(struct nc_channel *ch, struct nc_ctrl *c,
		       const struct nc_frame *f);
int nc_sock_queue_ctrl(struct nc_sock *nsk, struct nc_ctrl *c,
		       const struct nc_frame *f);
void nc_chan_put(struct nc_channel *ch);

/* taken out of use: retiring, or dead (any context, a lockless hint) */
static inline bool nc_chan_gone(const struct nc_channel *ch)
{
	return atomic_read(&ch->dead) || READ_ONCE(ch->retire);
}

void nc_peer_kick(struct nc_peer *peer, struct nc_sock *nsk);
void nc_peer_push(struct nc_peer *peer, struct nc_sock *nsk);

/* addresses, nc_addr.c: IPv4 hosts are v4-mapped (::ffff:a.b.c.d) */
static inline bool nc_addr_v4(const struct in6_addr *a)
{
	return ipv6_addr_v4mapped(a);
}

/*
 * @a and @port as a sockaddr of @family (AF_INET6 takes any address, AF_INET
 * a v4-mapped one), or with AF_UNSPEC of @a's own family; returns its length
 */
int nc_addr_sockaddr(const struct in6_addr *a, __be16 port, int family,
		     struct sockaddr_storage *ss);
/* the address of an AF_INET or AF_INET6 sockaddr (any other: ::); its port */
__be16 nc_addr_from_sockaddr(const struct sockaddr_storage *ss,
			     struct in6_addr *a);
/* a kernel socket's own (@local) or its peer's address */
int nc_socket_addr(struct socket *sock, struct in6_addr *a, bool local);
/* a virtual socket's addresses, in the fields of its family */
void nc_sk_local_addr(const struct sock *sk, struct in6_addr *a);
void nc_sk_bound_addr(const struct sock *sk, struct in6_addr *a);
void nc_sk_remote_addr(const struct sock *sk, struct in6_addr *a);
/* @bound: the address bound to (rcv_saddr) as well as the source */
void nc_sk_set_local(struct sock *sk, const struct in6_addr *a, bool bound);
void nc_sk_set_remote(struct sock *sk, const struct in6_addr *a);
/* is there a route to @a in @net? */
bool nc_addr_routable(struct net *net, const struct in6_addr *a);
/* "a.b.c.d:port" or "[v6]:port" */
int nc_addr_fmt(char *buf, size_t len, const struct in6_addr *a, __be16 port);
/* "a.b.c.d" or "v6", as /proc shows a peer */
int nc_addr_host_fmt(char *buf, size_t len, const struct in6_addr *a);
#define NC_ADDR_STRLEN	56	/* "[" INET6_ADDRSTRLEN "]:65535" */

/* the NetScheduler, nc_sched.c (nc_sched_bpf.c: the struct_ops type) */
int nc_sched_register(void);
void nc_sched_unregister(void);
void nc_sched_sock_attach(struct nc_sock *nsk);
void nc_sched_sock_detach(struct nc_sock *nsk);
int nc_sched_proc_show(struct seq_file *seq, void *v);
void nc_sched_ready_add(struct nc_peer *peer, struct nc_sock *nsk);
void nc_sched_ready_del(struct nc_peer *peer, struct nc_sock *nsk);
struct nc_sock *nc_sched_pick(struct nc_peer *peer, struct nc_channel *ch);
void nc_sched_sock_connected(struct nc_sock *nsk, u32 nr_channels);
void nc_sched_channel_bounds(int *min, int *max);
bool nc_sched_channels_grow(const struct nc_peer *peer);
bool nc_sched_channels_retire(const struct nc_peer *peer, u32 idx);
bool nc_sched_chan_allowed(const struct nc_peer *peer,
			   const struct nc_sock *nsk, u32 idx);
int nc_sched_select_cpu(u32 kind, u32 index, int dflt);

/*
 * The largest DATA frame on @peer now: net.netchannel.frame_size, the
 * grain at which sockets sharing a peer interleave; a socket alone on its
 * peer has no one to interleave with, and sends up to NC_FRAME_MAX_PAYLOAD
 * a frame (a quarter of the per-frame costs). peer->lock held.
 */
static inline int nc_peer_frame_size(const struct nc_peer *peer)
{
	int size = READ_ONCE(peer->nn->frame_size);

	return list_is_singular(&peer->socks) ? NC_FRAME_MAX_PAYLOAD : size;
}

/*
 * Payload of @nsk's next DATA frame: what is left of the head skb, within
 * the frame size and the credit. peer->lock held.
 */
static inline u32 nc_sock_frame_len(const struct nc_sock *nsk,
				    const struct sk_buff *skb, int frame_size)
{
	return min3(skb->len - nsk->tx_off, (u32)frame_size,
		    (u32)clamp_t(s64, nsk->snd_credit, 0, U32_MAX));
}

/* per-skb state of data waiting in nc_sock.txq */
struct nc_tx_cb {
	u64 queued_ns;	/* when its write() was queued */
	u32 msg_bytes;	/* size of that write() */
};

#define NC_TX_CB(skb) ((struct nc_tx_cb *)(skb)->cb)

#endif /* _NETCHANNEL_H */
