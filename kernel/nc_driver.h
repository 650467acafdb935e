/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NetDriver internals: what its files (nc_chan.c, nc_input.c,
 * nc_output.c, nc_peer.c) share with each other and nothing else. The
 * other layers see the NetDriver through netchannel.h only.
 */
#ifndef _NC_DRIVER_H
#define _NC_DRIVER_H

#include "netchannel.h"

#define NC_RX_BUDGET		64	/* frames per run of the receive work */
#define NC_TX_BUDGET		64	/* frames per run of the transmit work */
#define NC_MAX_PENDING		128	/* accepted channels without HELLO */
#define NC_OPEN_FLOOD		4096	/* OPENs per second on one channel */
#define NC_USER_TIMEOUT_MS	10000	/* unacked data this long kills it */
#define NC_GROW_AFTER		(HZ / 100) /* saturated this long: a channel more */
#define NC_GROW_RETRY		HZ	/* after a channel failed to open */
#define NC_MAX_CTRL_UNOWNED	1024	/* RESETs of no socket waiting to go */
/*
 * A channel's in-flight bound (struct nc_channel's @tx_dql), in bytes; the
 * dql moves it between these. The minimum needs no relation to
 * NC_ACK_BYTES: the frame that reaches the limit asks for its ACK.
 */
#define NC_INFLIGHT_MIN		(16 * 1024)
#define NC_INFLIGHT_MAX		(4 << 20)

/*
 * The channel is at its in-flight limit and waits for an ACK. Over the
 * limit with no ACK asked for since the last one came (the limit shrank
 * at that ACK, below what the frames sent after the last request hold), it
 * may send one more frame, which asks: else no ACK would ever come, and a
 * socket whose set is that channel would starve. Read lockless by
 * nc_peer_tx_channel(); exact under the channel socket's lock.
 */
static inline bool nc_chan_tx_limited(const struct nc_channel *ch)
{
	const struct dql *dql = &ch->tx_dql;

	return dql_avail(dql) < 0 &&
	       (int)(READ_ONCE(dql->num_completed) -
		     READ_ONCE(ch->tx_ackreq_at)) < 0;
}

/* A control frame that no socket or channel owns: allocated, and freed. */
static inline bool nc_ctrl_allocated(const struct nc_channel *ch,
				     const struct nc_ctrl *c)
{
	return !c->nsk && c != &ch->ack_ctrl && c != &ch->retire_ctrl;
}

/* nc_chan.c: one channel's life */
struct nc_channel *nc_chan_alloc(struct nc_net *nn, struct socket *sock);
void nc_chan_install(struct nc_channel *ch);
bool nc_chan_ctrl_pop(struct nc_channel *ch, struct nc_frame *f);
void nc_chan_stop(struct nc_channel *ch);
void nc_chan_free(struct nc_channel *ch);
void nc_listener_child(struct nc_net *nn, struct socket *sock);

/* nc_input.c */
void nc_chan_rx_workfn(struct work_struct *work);
bool nc_chan_rx_read(struct nc_channel *ch, gfp_t gfp);

/* nc_output.c */
void nc_chan_tx_workfn(struct work_struct *work);
void nc_chan_tx_drop(struct nc_channel *ch);
int nc_chan_send_hello(struct nc_channel *ch, const struct nc_frame *f,
		       const void *payload);

/* nc_peer.c */
struct nc_peer *nc_peer_alloc(struct nc_net *nn, const struct in6_addr *addr,
			      u64 group, int nr, int start, bool initiator);
void nc_peer_saturated(struct nc_peer *peer);
struct nc_channel *nc_peer_ctrl_channel(struct nc_peer *peer);
void nc_peer_rx_retire(struct nc_peer *peer, struct nc_channel *ch);
void nc_peer_retire_done(struct nc_peer *peer, struct nc_channel *ch);
void nc_peer_retire_free(struct nc_peer *peer);

/* A channel found nothing to send: frames no longer wait for channels. */
static inline void nc_peer_unsaturated(struct nc_peer *peer)
{
	if (READ_ONCE(peer->sat_since))
		WRITE_ONCE(peer->sat_since, 0);
}

void nc_peer_route_workfn(struct work_struct *work);

#endif /* _NC_DRIVER_H */
