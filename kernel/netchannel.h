/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NetChannel: internal declarations shared by the module's files.
 */
#ifndef _NETCHANNEL_H
#define _NETCHANNEL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <net/inet_sock.h>
#include <net/netns/generic.h>

#include "netsched.h"
#include "uapi/netchannel.h"

/**
 * struct nc_sock - a NetChannel virtual socket
 * @inet: must come first: inet_create() treats the sock as an inet_sock
 * @sched: what the NetScheduler policy sees and sets
 * @sched_gen: generation of the policy whose sock_init() accepted this
 *	socket, 0 if none did; protected by nc_sock_list_lock
 * @node: entry in nc_sock_list, protected by nc_sock_list_lock
 */
struct nc_sock {
	struct inet_sock inet;
	struct netsched_sock sched;
	u64 sched_gen;
	struct list_head node;
};

static inline struct nc_sock *nc_sk(const struct sock *sk)
{
	return (struct nc_sock *)sk;
}

/**
 * struct nc_net - one NetChannel host: the per-network-namespace state
 * @proc_dir: /proc/net/netchannel
 * @nr_socks: virtual sockets alive in this namespace
 */
struct nc_net {
	struct proc_dir_entry *proc_dir;
	atomic_t nr_socks;
};

extern unsigned int nc_net_id;

static inline struct nc_net *nc_net(const struct net *net)
{
	return net_generic(net, nc_net_id);
}

/* nc_sock.c */
int nc_sock_register(void);
void nc_sock_unregister(void);

/* nc_sched.c: the policy side; see the locking comment at its top */
int nc_sched_register(void);
void nc_sched_unregister(void);
void nc_sched_sock_attach(struct nc_sock *nsk);
void nc_sched_sock_detach(struct nc_sock *nsk);
int nc_sched_proc_show(struct seq_file *seq, void *v);

#endif /* _NETCHANNEL_H */
