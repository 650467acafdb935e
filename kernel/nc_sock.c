// SPDX-License-Identifier: GPL-2.0
/*
 * VNS: the NetChannel virtual socket, socket(AF_INET, SOCK_STREAM, 253).
 *
 * The protocol is registered with inet_register_protosw() as SCTP and MPTCP
 * do, so inet_create() allocates our struct nc_sock. sk_alloc() takes a
 * reference on this module for every socket: the module cannot be unloaded
 * while a virtual socket exists (rmmod fails with EBUSY).
 */
#include <linux/atomic.h>
#include <linux/cgroup.h>
#include <linux/module.h>
#include <net/inet_common.h>
#include <net/protocol.h>
#include <net/sock.h>

#include "netchannel.h"

static atomic64_t nc_sock_next_id = ATOMIC64_INIT(0);

static int nc_sock_init(struct sock *sk)
{
	struct nc_sock *nsk = nc_sk(sk);
	struct net *net = sock_net(sk);

	INIT_LIST_HEAD(&nsk->node);
	nsk->sched.id = atomic64_inc_return(&nc_sock_next_id);
	nsk->sched.cgroup_id = cgroup_id(sock_cgroup_ptr(&sk->sk_cgrp_data));
	nsk->sched.netns_cookie = net->net_cookie;
	nsk->sched.weight = 100;
	atomic_inc(&nc_net(net)->nr_socks);
	nc_sched_sock_attach(nsk);
	return 0;
}

static void nc_sock_destroy(struct sock *sk)
{
	nc_sched_sock_detach(nc_sk(sk));
	atomic_dec(&nc_net(sock_net(sk))->nr_socks);
}

static void nc_sock_close(struct sock *sk, long timeout)
{
	sk_common_release(sk);
}

static int nc_sock_hash(struct sock *sk)
{
	return 0;
}

static void nc_sock_unhash(struct sock *sk)
{
}

static struct proto nc_prot = {
	.name		= "NETCHANNEL",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct nc_sock),
	.init		= nc_sock_init,
	.destroy	= nc_sock_destroy,
	.close		= nc_sock_close,
	.hash		= nc_sock_hash,
	.unhash		= nc_sock_unhash,
};

static const struct proto_ops nc_stream_ops = {
	.family		= PF_INET,
	.owner		= THIS_MODULE,
	.release	= inet_release,
	.bind		= sock_no_bind,
	.connect	= sock_no_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= sock_no_accept,
	.getname	= sock_no_getname,
	.poll		= datagram_poll,
	.ioctl		= sock_no_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= sock_no_shutdown,
	.sendmsg	= sock_no_sendmsg,
	.recvmsg	= sock_no_recvmsg,
	.mmap		= sock_no_mmap,
};

static struct inet_protosw nc_protosw = {
	.type		= SOCK_STREAM,
	.protocol	= IPPROTO_NETCHANNEL,
	.prot		= &nc_prot,
	.ops		= &nc_stream_ops,
};

int nc_sock_register(void)
{
	int err = proto_register(&nc_prot, 1);

	if (err)
		return err;
	inet_register_protosw(&nc_protosw);
	return 0;
}

void nc_sock_unregister(void)
{
	inet_unregister_protosw(&nc_protosw);
	proto_unregister(&nc_prot);
}
