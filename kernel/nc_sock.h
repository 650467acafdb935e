/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VNS internals: what the virtual socket's files (nc_sock.c, nc_sock_rx.c,
 * nc_sock_io.c) share with each other and nothing else. The other layers
 * see a virtual socket through netchannel.h only.
 */
#ifndef _NC_SOCK_H
#define _NC_SOCK_H

#include <net/tcp_states.h>

#include "netchannel.h"

/* per-skb state on the receive and out-of-order queues */
struct nc_skb_cb {
	u32 seq;
	u32 off;	/* bytes already read */
};

#define NC_SKB_CB(skb) ((struct nc_skb_cb *)(skb)->cb)

/*
 * Under memory pressure a socket's window shrinks to this (or its own, if
 * smaller): see nc_prot's accounting in nc_sock.c and nc_sock_credit().
 */
#define NC_RMEM_PRESSURE_WINDOW	(64 * 1024)

/* a connection that can carry data (and CREDIT) */
static inline bool nc_sk_connected(const struct sock *sk)
{
	return (1 << READ_ONCE(sk->sk_state)) &
	       (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1);
}

/* nc_sock.c: the socket's life and its connection */
void nc_send_ctrl(struct nc_sock *nsk, enum nc_ctrl_kind kind, u32 arg);
void nc_sock_abort(struct nc_sock *nsk, int err);
int nc_wait(struct sock *sk, long *timeo, bool (*cond)(struct sock *sk),
	    bool locked);
bool nc_connect_done(struct sock *sk);
void nc_sock_uncork(struct nc_sock *nsk);

/* nc_sock_io.c: the data calls */
int nc_sendmsg(struct socket *sock, struct msghdr *msg, size_t size);
int nc_recvmsg(struct socket *sock, struct msghdr *msg, size_t size,
	       int flags);
ssize_t nc_splice_read(struct socket *sock, loff_t *ppos,
		       struct pipe_inode_info *pipe, size_t len,
		       unsigned int flags);
void nc_sock_credit_flush(struct nc_sock *nsk);

/* nc_fallback.c: a socket that becomes TCP, a listener that takes TCP */
void nc_fb_init(struct nc_sock *nsk);
bool nc_fb_start(struct nc_sock *nsk, int err);
int nc_fb_connect(struct socket *sock, struct sockaddr *uaddr, int addr_len,
		  int flags);
int nc_fb_bind(struct nc_sock *nsk, struct socket **res);
void nc_fb_listen(struct nc_sock *nsk, struct socket *sock, int backlog);
bool nc_fb_accept_ready(const struct nc_sock *nsk);
int nc_fb_accept(struct nc_sock *nsk, struct socket *newsock,
		 struct proto_accept_arg *arg);
struct socket *nc_fb_detach(struct nc_sock *nsk);
int nc_fb_register(void);
struct socket *nc_fb_rule_connect(struct nc_sock *nsk,
				  const struct in6_addr *a, __be16 port);
bool nc_fb_rule_listens(struct nc_sock *nsk);
int nc_fb_rule_listen(struct nc_sock *nsk, int backlog);
void nc_fb_release(struct nc_sock *nsk, struct socket *sock);

/*
 * The TCP socket this one became, if it did: a call that was already in
 * one of our ops when the file switched to it goes there.
 */
static inline struct socket *nc_fb(const struct sock *sk)
{
	return READ_ONCE(nc_sk(sk)->fb);
}

/* nc_sockopt.c: the TCP-level options */
int nc_setsockopt(struct sock *sk, int level, int optname, sockptr_t optval,
		  unsigned int optlen);
int nc_getsockopt(struct sock *sk, int level, int optname,
		  char __user *optval, int __user *optlen);

#endif /* _NC_SOCK_H */
