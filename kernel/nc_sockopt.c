// SPDX-License-Identifier: GPL-2.0
/*
 * VNS, options: what the TCP-level options (SOL_TCP) mean on a virtual
 * socket. A program written for TCP sets some of them on every socket; it
 * must not fail here for that, nor read back something untrue. The table
 * (README, "TCP-level options"):
 *
 *	TCP_NODELAY	kept and read back; a write is sent at once whatever
 *		it says (no Nagle); setting it sends what corking holds
 *	TCP_CORK, and MSG_MORE for one write: a partial last frame is held
 *		and small writes fill it, until uncorked, a write that is not
 *		corked, shutdown/close, the end of a splice, or 200 ms
 *	TCP_QUICKACK	kept and read back
 *	TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT
 *		checked as TCP checks them, kept and read back; a dead peer is
 *		noticed by the channels' own keepalive and user timeout, which
 *		ends every socket on them with ETIMEDOUT or ECONNRESET
 *	TCP_INFO	a truthful subset: state, the home channel's rtt,
 *		mss and retransmits, the socket's own bytes
 *	TCP_CONGESTION	reads the channels' algorithm; setting it to
 *		another fails with EOPNOTSUPP (the channels are shared)
 *	TCP_MAXSEG	reads the home channel's mss
 *	anything else	ENOPROTOOPT, as TCP answers an unknown option
 *
 * At SOL_IPV6, an AF_INET6 socket takes IPV6_V6ONLY, as ipv6_setsockopt()
 * does: settable before bind() or connect() only (EINVAL after), it says
 * whether the socket reaches and accepts IPv4 hosts (v4-mapped).
 *
 * Other levels than SOL_SOCKET (the core handles it), SOL_TCP and that one
 * get ENOPROTOOPT. Setting and reading run under the socket lock, which
 * guards nsk->opt.
 */
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "netchannel.h"
#include "nc_sock.h"

static int nc_sockopt_int(sockptr_t optval, unsigned int optlen, int *val)
{
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(val, optval, sizeof(*val)))
		return -EFAULT;
	return 0;
}

static bool nc_sockopt_v6only(const struct sock *sk, int level, int optname)
{
	return sk->sk_family == AF_INET6 && level == SOL_IPV6 &&
	       optname == IPV6_V6ONLY;
}

static int nc_sockopt_set_v6only(struct sock *sk, sockptr_t optval,
				 unsigned int optlen)
{
	int val, err;

	err = nc_sockopt_int(optval, optlen, &val);
	if (err)
		return err;
	lock_sock(sk);
	/* as ipv6_setsockopt(): not once the socket has a port */
	err = -EINVAL;
	if (!inet_sk(sk)->inet_num && sk->sk_state == TCP_CLOSE &&
	    !nc_sk(sk)->peer) {
		sk->sk_ipv6only = !!val;
		err = 0;
	}
	release_sock(sk);
	return err;
}

/*
 * The channel whose TCP a socket's TCP_INFO and TCP_MAXSEG describe, with
 * a reference (sock_put()). The home is read under RCU: a retired channel
 * is freed after a grace period (see struct nc_channel's @ref).
 */
static struct sock *nc_sockopt_chan_sk(struct nc_sock *nsk)
{
	struct nc_channel *ch;
	struct sock *csk = NULL;

	rcu_read_lock();
	ch = READ_ONCE(nsk->home);
	if (nsk->peer && ch) {
		csk = ch->sock->sk;
		sock_hold(csk);
	}
	rcu_read_unlock();
	return csk;
}

static void nc_sockopt_cc_name(struct nc_sock *nsk, char *name)
{
	struct sock *csk = nc_sockopt_chan_sk(nsk);
	const struct tcp_congestion_ops *ca;

	if (csk) {
		ca = READ_ONCE(inet_csk(csk)->icsk_ca_ops);
		strscpy(name, ca->name, TCP_CA_NAME_MAX);
		sock_put(csk);
		return;
	}
	/* not connected yet: what the namespace's channels will use */
	rcu_read_lock();
	ca = rcu_dereference(sock_net(&nsk->inet.sk)->ipv4.tcp_congestion_control);
	strscpy(name, ca ? ca->name : "", TCP_CA_NAME_MAX);
	rcu_read_unlock();
}

/* Another congestion control than the channels' is not ours to choose. */
static int nc_sockopt_set_cc(struct nc_sock *nsk, sockptr_t optval,
			     unsigned int optlen)
{
	char name[TCP_CA_NAME_MAX], cur[TCP_CA_NAME_MAX];
	size_t n = min_t(size_t, optlen, sizeof(name) - 1);

	if (optlen < 1)
		return -EINVAL;
	if (copy_from_sockptr(name, optval, n))
		return -EFAULT;
	name[n] = 0;
	nc_sockopt_cc_name(nsk, cur);
	return strcmp(name, cur) ? -EOPNOTSUPP : 0;
}

/* @val into *@opt if it is within TCP's bounds for that option */
static int nc_sockopt_bounded(int *opt, int val, int min, int max)
{
	if (val < min || val > max)
		return -EINVAL;
	*opt = val;
	return 0;
}

int nc_setsockopt(struct sock *sk, int level, int optname, sockptr_t optval,
		  unsigned int optlen)
{
	struct nc_sock *nsk = nc_sk(sk);
	struct socket *fb = nc_fb(sk);
	int val, err;

	if (fb)
		return fb->ops->setsockopt(fb, level, optname, optval, optlen);
	if (nc_sockopt_v6only(sk, level, optname))
		return nc_sockopt_set_v6only(sk, optval, optlen);
	if (level != SOL_TCP)
		return -ENOPROTOOPT;
	if (optname == TCP_CONGESTION)
		return nc_sockopt_set_cc(nsk, optval, optlen);
	/* as TCP: an int first, whatever the option */
	err = nc_sockopt_int(optval, optlen, &val);
	if (err)
		return err;

	lock_sock(sk);
	switch (optname) {
	case TCP_NODELAY:
		nsk->opt.nodelay = !!val;
		/* as TCP: setting it pushes what corking holds, once */
		if (val)
			nc_sock_uncork(nsk);
		break;
	case TCP_CORK:
		WRITE_ONCE(nsk->opt.cork, !!val);
		if (!val)
			nc_sock_uncork(nsk);
		break;
	case TCP_QUICKACK:
		nsk->opt.quickack = !!val;
		break;
	case TCP_KEEPIDLE:
		err = nc_sockopt_bounded(&nsk->opt.keepidle, val, 1,
					 MAX_TCP_KEEPIDLE);
		break;
	case TCP_KEEPINTVL:
		err = nc_sockopt_bounded(&nsk->opt.keepintvl, val, 1,
					 MAX_TCP_KEEPINTVL);
		break;
	case TCP_KEEPCNT:
		err = nc_sockopt_bounded(&nsk->opt.keepcnt, val, 1,
					 MAX_TCP_KEEPCNT);
		break;
	case TCP_USER_TIMEOUT:
		err = nc_sockopt_bounded(&nsk->opt.user_timeout, val, 0,
					 INT_MAX);
		break;
	default:
		err = -ENOPROTOOPT;
	}
	release_sock(sk);
	return err;
}

/*
 * TCP_INFO: what is true of a virtual socket. The transport's fields
 * (rtt, mss, retransmits) are its home channel's TCP; the bytes are the
 * socket's own: bytes_sent its DATA payload handed to the channels,
 * bytes_received what arrived in order, bytes_acked what the peer's reader
 * consumed and credited back (short frames use more credit than their
 * bytes, so that is a lower bound for them). Every other field is 0.
 */
static void nc_sockopt_info(struct nc_sock *nsk, struct tcp_info *info)
{
	struct sock *sk = &nsk->inet.sk, *csk = nc_sockopt_chan_sk(nsk);
	struct nc_peer *peer = nsk->peer;
	u64 sent = 0, held = 0;
	int i;

	memset(info, 0, sizeof(*info));
	info->tcpi_state = inet_sk_state_load(sk);
	if (peer) {
		spin_lock_bh(&peer->lock);
		sent = nsk->bytes_sent;
		/* credit the peer has not returned: bytes not consumed yet */
		held = max_t(s64, (s64)nsk->snd_window - nsk->snd_credit, 0);
		for (i = 0; i < peer->nr; i++)
			if (peer->ch[i])
				info->tcpi_total_retrans +=
					READ_ONCE(tcp_sk(peer->ch[i]->sock->sk)->total_retrans);
		spin_unlock_bh(&peer->lock);
	}
	info->tcpi_bytes_sent = sent;
	info->tcpi_bytes_acked = sent - min(sent, held);
	spin_lock_bh(&nsk->lock);
	info->tcpi_bytes_received = nsk->bytes_received;
	spin_unlock_bh(&nsk->lock);
	if (csk) {
		const struct tcp_sock *tp = tcp_sk(csk);

		info->tcpi_rtt = READ_ONCE(tp->srtt_us) >> 3;
		info->tcpi_rttvar = READ_ONCE(tp->mdev_us) >> 2;
		info->tcpi_snd_mss = READ_ONCE(tp->mss_cache);
		info->tcpi_rcv_mss = READ_ONCE(inet_csk(csk)->icsk_ack.rcv_mss);
		info->tcpi_retransmits =
			READ_ONCE(inet_csk(csk)->icsk_retransmits);
		sock_put(csk);
	}
}

static int nc_sockopt_put(char __user *optval, int __user *optlen,
			  const void *val, int len)
{
	if (put_user(len, optlen))
		return -EFAULT;
	if (copy_to_user(optval, val, len))
		return -EFAULT;
	return 0;
}

int nc_getsockopt(struct sock *sk, int level, int optname,
		  char __user *optval, int __user *optlen)
{
	struct nc_sock *nsk = nc_sk(sk);
	struct net *net = sock_net(sk);
	char name[TCP_CA_NAME_MAX];
	struct tcp_info info;
	struct socket *fb = nc_fb(sk);
	struct sock *csk;
	int len, val;

	if (fb)
		return fb->ops->getsockopt(fb, level, optname, optval, optlen);
	if (level != SOL_TCP && !nc_sockopt_v6only(sk, level, optname))
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (level == SOL_IPV6) {
		val = sk->sk_ipv6only;
		goto put_int;
	}

	switch (optname) {
	case TCP_INFO:
		nc_sockopt_info(nsk, &info);
		return nc_sockopt_put(optval, optlen, &info,
				      min_t(int, len, sizeof(info)));
	case TCP_CONGESTION:
		nc_sockopt_cc_name(nsk, name);
		return nc_sockopt_put(optval, optlen, name,
				      min_t(int, len, TCP_CA_NAME_MAX));
	}

	lock_sock(sk);
	switch (optname) {
	case TCP_NODELAY:
		val = nsk->opt.nodelay;
		break;
	case TCP_CORK:
		val = nsk->opt.cork;
		break;
	case TCP_QUICKACK:
		val = nsk->opt.quickack;
		break;
	/* unset: the namespace's TCP defaults, as TCP reports them */
	case TCP_KEEPIDLE:
		val = nsk->opt.keepidle ?:
		      READ_ONCE(net->ipv4.sysctl_tcp_keepalive_time) / HZ;
		break;
	case TCP_KEEPINTVL:
		val = nsk->opt.keepintvl ?:
		      READ_ONCE(net->ipv4.sysctl_tcp_keepalive_intvl) / HZ;
		break;
	case TCP_KEEPCNT:
		val = nsk->opt.keepcnt ?:
		      READ_ONCE(net->ipv4.sysctl_tcp_keepalive_probes);
		break;
	case TCP_USER_TIMEOUT:
		val = nsk->opt.user_timeout;
		break;
	case TCP_MAXSEG:
		csk = nc_sockopt_chan_sk(nsk);
		val = csk ? READ_ONCE(tcp_sk(csk)->mss_cache) : TCP_MSS_DEFAULT;
		if (csk)
			sock_put(csk);
		break;
	default:
		release_sock(sk);
		return -ENOPROTOOPT;
	}
	release_sock(sk);
put_int:
	return nc_sockopt_put(optval, optlen, &val,
			      min_t(int, len, sizeof(int)));
}
