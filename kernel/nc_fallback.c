// SPDX-License-Identifier: GPL-2.0
/*
 * VNS, fallback to TCP: a NetChannel socket whose peer has no NetChannel
 * becomes a plain TCP connection inside the same file, and a NetChannel
 * listener also takes plain TCP clients on its address and port, as MPTCP
 * and SMC fall back (net/smc/af_smc.c: smc_switch_to_fallback()).
 *
 * Connect: when the connect is refused (no channel listener on the host,
 * or no NetChannel listener on the port), nc_sock_reset() calls
 * nc_fb_start() instead of failing the socket, and a work item connects a
 * TCP socket to the same address, with the options set so far. The file
 * then points at the TCP socket (file->private_data), so every later call
 * is TCP's own; a call that was already in a NetChannel op when the file
 * switched is forwarded (nc_fb()). Waiters on the old socket (a blocking
 * connect, poll, epoll registered before the switch) are woken by the TCP
 * socket's callbacks, which forward every wakeup to the old socket's
 * queue. If the TCP connect fails too, connect() reports its error.
 *
 * Listen: nc_fb_bind() binds a TCP socket to the same address and port,
 * which listens (nc_fb_listen()) once the NetChannel listener does; its
 * callbacks wake the NetChannel listener's waiters, and
 * nc_fb_accept() turns the file accept() made into the TCP child's own
 * socket (ops and all): an accepted plain TCP client is a TCP socket.
 *
 * Rules: nc_bpf_select_tcp() is a hook for BPF (fmod_ret, as MPTCP offers
 * update_socket_protocol()): a program there may send a connect() or a
 * listen() to plain TCP from the start (ncload enable --ports does, for
 * the ports not listed). The file then becomes a TCP socket made in the
 * caller's context, before anything is asked of the peer
 * (nc_fb_rule_connect(), nc_fb_rule_listen()).
 *
 * Lifetime and locking: nsk->fb is set once, under the socket lock, and
 * released only by nc_fb_release() from close, after which no call on the
 * file runs. The TCP socket's callbacks find the NetChannel socket
 * through sk_user_data under sk_callback_lock, which nc_fb_release()
 * clears before the NetChannel socket goes. The two sockets' locks (one
 * lockdep class: both are of the same family) never nest. The TCP socket
 * is of the NetChannel socket's family, with its IPV6_V6ONLY. TCP sockets made here hold
 * their namespace, as user sockets do: they may outlive the file in
 * TIME_WAIT or FIN_WAIT.
 */
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/file.h>
#include <linux/net.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "netchannel.h"
#include "nc_sock.h"

/* Wake every waiter of @sk's file, then do what TCP's own callback does. */
static void nc_fb_forward(struct sock *ssk, int cb)
{
	struct socket_wq *wq;
	struct nc_sock *nsk;
	struct sock *sk;

	read_lock_bh(&ssk->sk_callback_lock);
	sk = __locked_read_sk_user_data_with_flags(ssk, SK_USER_DATA_NOCOPY);
	if (sk) {
		nsk = nc_sk(sk);
		rcu_read_lock();
		wq = rcu_dereference(sk->sk_wq);
		if (skwq_has_sleeper(wq))
			wake_up_interruptible_all(&wq->wait);
		rcu_read_unlock();
		nsk->fb_cb[cb](ssk);
	}
	read_unlock_bh(&ssk->sk_callback_lock);
}

static void nc_fb_state_change(struct sock *ssk)
{
	nc_fb_forward(ssk, NC_FB_STATE_CHANGE);
}

static void nc_fb_data_ready(struct sock *ssk)
{
	nc_fb_forward(ssk, NC_FB_DATA_READY);
}

static void nc_fb_write_space(struct sock *ssk)
{
	nc_fb_forward(ssk, NC_FB_WRITE_SPACE);
}

static void nc_fb_error_report(struct sock *ssk)
{
	nc_fb_forward(ssk, NC_FB_ERROR_REPORT);
}

/*
 * @ssk's wakeups reach @nsk's waiters from now on. The pointer is not
 * copied to the children of a TCP listener (SK_USER_DATA_NOCOPY): until
 * accept() gives them TCP's callbacks back (nc_fb_restore()), ours do
 * nothing for them, and a child waiting in the queue has no waiter.
 */
static void nc_fb_hook(struct nc_sock *nsk, struct sock *ssk)
{
	write_lock_bh(&ssk->sk_callback_lock);
	nsk->fb_cb[NC_FB_STATE_CHANGE] = ssk->sk_state_change;
	nsk->fb_cb[NC_FB_DATA_READY] = ssk->sk_data_ready;
	nsk->fb_cb[NC_FB_WRITE_SPACE] = ssk->sk_write_space;
	nsk->fb_cb[NC_FB_ERROR_REPORT] = ssk->sk_error_report;
	__rcu_assign_sk_user_data_with_flags(ssk, &nsk->inet.sk,
					     SK_USER_DATA_NOCOPY);
	ssk->sk_state_change = nc_fb_state_change;
	ssk->sk_data_ready = nc_fb_data_ready;
	ssk->sk_write_space = nc_fb_write_space;
	ssk->sk_error_report = nc_fb_error_report;
	write_unlock_bh(&ssk->sk_callback_lock);
}

/* TCP's own callbacks on @ssk again; under its sk_callback_lock */
static void nc_fb_restore(const struct nc_sock *nsk, struct sock *ssk)
{
	ssk->sk_state_change = nsk->fb_cb[NC_FB_STATE_CHANGE];
	ssk->sk_data_ready = nsk->fb_cb[NC_FB_DATA_READY];
	ssk->sk_write_space = nsk->fb_cb[NC_FB_WRITE_SPACE];
	ssk->sk_error_report = nsk->fb_cb[NC_FB_ERROR_REPORT];
	rcu_assign_sk_user_data(ssk, NULL);
}

static void nc_fb_unhook(struct nc_sock *nsk, struct sock *ssk)
{
	write_lock_bh(&ssk->sk_callback_lock);
	if (__locked_read_sk_user_data_with_flags(ssk, SK_USER_DATA_NOCOPY) ==
	    &nsk->inet.sk)
		nc_fb_restore(nsk, ssk);
	write_unlock_bh(&ssk->sk_callback_lock);
}

/* Bind @sock to the address @sk is bound to, and @port. 0 or -errno. */
static int nc_fb_bind_as(struct socket *sock, struct sock *sk, __be16 port)
{
	struct sockaddr_storage sa;
	struct in6_addr a;
	int len;

	nc_sk_bound_addr(sk, &a);
	len = nc_addr_sockaddr(&a, port, sk->sk_family, &sa);
	return kernel_bind(sock, (struct sockaddr *)&sa, len);
}

/*
 * A TCP socket in @sk's namespace with what @sk's user set: buffers,
 * timeouts, keepalive, linger, mark, priority, device, reuse, the TCP
 * options; bound, with @bind, to the address and port bind() gave. 0 or
 * -errno.
 */
static int nc_fb_socket(struct sock *sk, bool bind, struct socket **res)
{
	struct nc_sock *nsk = nc_sk(sk);
	struct socket *sock;
	struct sock *ssk;
	int err;

	err = sock_create_kern(sock_net(sk), sk->sk_family, SOCK_STREAM,
			       IPPROTO_TCP, &sock);
	if (err)
		return err == -ENFILE ? -ENOBUFS : err;
	ssk = sock->sk;
	sk_net_refcnt_upgrade(ssk);

	lock_sock(ssk);
	if (sk->sk_family == AF_INET6)
		ssk->sk_ipv6only = sk->sk_ipv6only;
	ssk->sk_reuse = sk->sk_reuse;
	sock_valbool_flag(ssk, SOCK_KEEPOPEN, sock_flag(sk, SOCK_KEEPOPEN));
	sock_valbool_flag(ssk, SOCK_LINGER, sock_flag(sk, SOCK_LINGER));
	ssk->sk_lingertime = READ_ONCE(sk->sk_lingertime);
	WRITE_ONCE(ssk->sk_rcvtimeo, READ_ONCE(sk->sk_rcvtimeo));
	WRITE_ONCE(ssk->sk_sndtimeo, READ_ONCE(sk->sk_sndtimeo));
	WRITE_ONCE(ssk->sk_rcvlowat, READ_ONCE(sk->sk_rcvlowat));
	WRITE_ONCE(ssk->sk_mark, READ_ONCE(sk->sk_mark));
	WRITE_ONCE(ssk->sk_priority, READ_ONCE(sk->sk_priority));
	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK) {
		WRITE_ONCE(ssk->sk_sndbuf, READ_ONCE(sk->sk_sndbuf));
		ssk->sk_userlocks |= SOCK_SNDBUF_LOCK;
	}
	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK) {
		WRITE_ONCE(ssk->sk_rcvbuf, READ_ONCE(sk->sk_rcvbuf));
		ssk->sk_userlocks |= SOCK_RCVBUF_LOCK;
	}
	release_sock(ssk);
	if (sk->sk_bound_dev_if) {
		err = sock_bindtoindex(ssk, sk->sk_bound_dev_if, true);
		if (err)
			goto err;
	}
	if (nsk->opt.nodelay)
		tcp_sock_set_nodelay(ssk);
	if (nsk->opt.cork)
		tcp_sock_set_cork(ssk, true);
	if (nsk->opt.quickack)
		tcp_sock_set_quickack(ssk, 1);
	/* in TCP's bounds already (nc_sockopt.c): these cannot fail */
	if (nsk->opt.keepidle)
		tcp_sock_set_keepidle(ssk, nsk->opt.keepidle);
	if (nsk->opt.keepintvl)
		tcp_sock_set_keepintvl(ssk, nsk->opt.keepintvl);
	if (nsk->opt.keepcnt)
		tcp_sock_set_keepcnt(ssk, nsk->opt.keepcnt);
	if (nsk->opt.user_timeout)
		tcp_sock_set_user_timeout(ssk, nsk->opt.user_timeout);

	if (bind &&
	    (sk->sk_userlocks & (SOCK_BINDADDR_LOCK | SOCK_BINDPORT_LOCK))) {
		err = nc_fb_bind_as(sock, sk,
				    sk->sk_userlocks & SOCK_BINDPORT_LOCK ?
				    nsk->inet.inet_sport : 0);
		if (err)
			goto err;
	}
	*res = sock;
	return 0;
err:
	sock_release(sock);
	return err;
}

/* ---- connect ----------------------------------------------------------------- */

/*
 * Under lock_sock(@sk), which is still the file's: point the file at @sock
 * and, with @forward, @sock's wakeups at @sk's waiters. Asynchronous
 * notification (O_ASYNC) moves with the file. A listener's are not
 * forwarded: its children would inherit our callbacks and, as accept()
 * is TCP's own then, keep them (see nc_fb_hook()).
 */
static void nc_fb_switch(struct nc_sock *nsk, struct socket *sock,
			 bool forward)
{
	struct sock *sk = &nsk->inet.sk;
	struct socket *outer = sk->sk_socket;

	if (forward)
		nc_fb_hook(nsk, sock->sk);
	sock->file = outer->file;
	spin_lock(&outer->file->f_lock);
	sock->wq.fasync_list = outer->wq.fasync_list;
	outer->wq.fasync_list = NULL;
	spin_unlock(&outer->file->f_lock);
	WRITE_ONCE(outer->file->private_data, sock);
	WRITE_ONCE(nsk->fb, sock);
}

static void nc_fb_connect_workfn(struct work_struct *work)
{
	struct nc_sock *nsk = container_of(work, struct nc_sock, fb_work);
	struct sock *sk = &nsk->inet.sk;
	struct socket *sock = NULL;
	struct sockaddr_storage sa;
	struct in6_addr a;
	int err, len;

	nc_sk_remote_addr(sk, &a);
	len = nc_addr_sockaddr(&a, nsk->inet.inet_dport, sk->sk_family, &sa);
	err = nc_fb_socket(sk, true, &sock);
	if (!err) {
		err = kernel_connect(sock, (struct sockaddr *)&sa, len,
				     O_NONBLOCK);
		if (err == -EINPROGRESS)
			err = 0;
	}

	lock_sock(sk);
	if (nsk->fb_closed || !sk->sk_socket || !sk->sk_socket->file) {
		release_sock(sk);
		if (sock)
			sock_release(sock);
		goto out;
	}
	if (err) {
		/* TCP could not connect either: connect() says why */
		if (sock)
			sock_release(sock);
		WRITE_ONCE(sk->sk_err, -err);
		nc_stat_inc(nsk->nn, NC_STAT_FALLBACK_FAILED);
	} else {
		nc_fb_switch(nsk, sock, true);
	}
	WRITE_ONCE(nsk->fb_pending, false);
	release_sock(sk);
	if (err)
		sk_error_report(sk);
	sk->sk_state_change(sk);
out:
	sock_put(sk);
}

/*
 * From nc_sock_reset(), any context, @nsk's lock held: a connect that
 * @err ends is retried over TCP if fallback is on. True if it is: the
 * caller resets the NetChannel side without reporting @err.
 */
bool nc_fb_start(struct nc_sock *nsk, int err)
{
	struct sock *sk = &nsk->inet.sk;
	bool no_host;

	if (err != ECONNREFUSED || sk->sk_state != TCP_SYN_SENT ||
	    nsk->fb_pending || nsk->fb_closed ||
	    !READ_ONCE(nsk->nn->fallback))
		return false;
	no_host = !nsk->peer || READ_ONCE(nsk->peer->state) == NC_PEER_DEAD;
	nc_stat_inc(nsk->nn, no_host ? NC_STAT_FALLBACK_NO_HOST :
			      NC_STAT_FALLBACK_NO_LISTENER);
	WRITE_ONCE(nsk->fb_pending, true);
	sock_hold(sk);
	if (!queue_work(nc_wq, &nsk->fb_work))
		sock_put(sk);
	return true;
}

/*
 * connect() on a socket that became TCP: TCP's connect (EALREADY, EISCONN,
 * or the wait for a blocking one), without our lock.
 */
int nc_fb_connect(struct socket *sock, struct sockaddr *uaddr, int addr_len,
		  int flags)
{
	return sock->ops->connect(sock, uaddr, addr_len, flags);
}

/* ---- listen and accept ---------------------------------------------------- */

/*
 * listen() of @nsk, bound to its address and port, before it listens: the
 * TCP socket beside it, bound to the same address and port (*@res), or
 * NULL when fallback is off. Without @nsk's lock. 0 or -errno: a port the
 * user chose that TCP has already is EADDRINUSE, as TCP's listen() would
 * say; a port the listener was given (no bind() or port 0) just has no
 * TCP side then.
 */
int nc_fb_bind(struct nc_sock *nsk, struct socket **res)
{
	struct sock *sk = &nsk->inet.sk;
	struct socket *sock;
	int err;

	*res = NULL;
	if (!READ_ONCE(nsk->nn->fallback))
		return 0;
	err = nc_fb_socket(sk, false, &sock);
	if (err)
		return err;
	err = nc_fb_bind_as(sock, sk, nsk->inet.inet_sport);
	if (err) {
		sock_release(sock);
		return sk->sk_userlocks & SOCK_BINDPORT_LOCK ? err : 0;
	}
	*res = sock;
	return 0;
}

/*
 * @nsk listens now (NetChannel first: a NetChannel client never falls
 * back to a listener that is still starting): so does @sock, from
 * nc_fb_bind(), with its wakeups reaching @nsk's waiters. Without @nsk's
 * lock. On failure (rare: another socket with SO_REUSEADDR listens on the
 * port meanwhile), the listener stays NetChannel's only.
 */
void nc_fb_listen(struct nc_sock *nsk, struct socket *sock, int backlog)
{
	nc_fb_hook(nsk, sock->sk);
	if (!kernel_listen(sock, backlog))
		return;
	lock_sock(&nsk->inet.sk);
	if (nsk->fb_listen == sock)
		WRITE_ONCE(nsk->fb_listen, NULL);
	else
		sock = NULL;	/* close took it */
	release_sock(&nsk->inet.sk);
	nc_fb_release(nsk, sock);
}

/* A plain TCP client waits on @nsk's TCP listener. */
bool nc_fb_accept_ready(const struct nc_sock *nsk)
{
	struct socket *sock = READ_ONCE(nsk->fb_listen);

	return sock &&
	       !reqsk_queue_empty(&inet_csk(sock->sk)->icsk_accept_queue);
}

/*
 * accept() of a plain TCP client on @nsk's TCP listener, without waiting,
 * and without @nsk's lock: @newsock becomes the child's TCP socket. 0,
 * -EAGAIN (none waiting) or -errno.
 */
int nc_fb_accept(struct nc_sock *nsk, struct socket *newsock,
		 struct proto_accept_arg *arg)
{
	struct socket *sock = READ_ONCE(nsk->fb_listen);
	struct proto_accept_arg targ = *arg;
	int err;

	if (!sock)
		return -EAGAIN;
	targ.flags |= O_NONBLOCK;
	err = sock->ops->accept(sock, newsock, &targ);
	if (err)
		return err;
	write_lock_bh(&newsock->sk->sk_callback_lock);
	nc_fb_restore(nsk, newsock->sk);
	write_unlock_bh(&newsock->sk->sk_callback_lock);
	/*
	 * accept() took a reference on our module for @newsock's ops; it is
	 * TCP's socket now (the listener holds the module meanwhile).
	 */
	WRITE_ONCE(newsock->ops, sock->ops);
	module_put(THIS_MODULE);
	nc_stat_inc(nsk->nn, NC_STAT_FALLBACK_ACCEPTED);
	return 0;
}

/* ---- close ---------------------------------------------------------------- */

/*
 * Under lock_sock() at close: no fallback starts from now on; the TCP
 * socket (connection or listener) to release, if any. @nsk->fb stays set
 * for the calls that forward to it until nc_fb_release().
 */
struct socket *nc_fb_detach(struct nc_sock *nsk)
{
	struct socket *sock = nsk->fb ?: nsk->fb_listen;

	nsk->fb_closed = true;
	WRITE_ONCE(nsk->fb_listen, NULL);
	return sock;
}

/*
 * Release @sock, which nc_fb_detach() returned, without @nsk's lock: the
 * file forgets it (a connected one closes as TCP closes, with its linger).
 */
void nc_fb_release(struct nc_sock *nsk, struct socket *sock)
{
	struct socket *outer = nsk->inet.sk.sk_socket;

	if (!sock)
		return;
	nc_fb_unhook(nsk, sock->sk);
	if (sock->file) {
		/* the file is being released: no call uses it any more */
		if (outer && outer->file == sock->file)
			WRITE_ONCE(sock->file->private_data, outer);
		sock->file = NULL;
	}
	if (nsk->fb == sock)
		WRITE_ONCE(nsk->fb, NULL);
	sock_release(sock);
}

void nc_fb_init(struct nc_sock *nsk)
{
	INIT_WORK(&nsk->fb_work, nc_fb_connect_workfn);
}

/* ---- rules: the BPF hook ------------------------------------------------------ */

__bpf_hook_start();

/*
 * Does @sk's connect() to @addr:@port (@listen: listen() on @port of its
 * bound address @addr) go over plain TCP (non-zero) rather than NetChannel
 * (0)? @port is in host order, @addr v4-mapped for IPv4. NetChannel's
 * answer is 0; an fmod_ret program may return another (__weak, so that the
 * compiler cannot assume the 0, as update_socket_protocol()). Process context,
 * @sk's lock held, the caller's task current (its cgroup decides).
 */
__weak noinline int nc_bpf_select_tcp(struct sock *sk,
				      const struct in6_addr *addr, int port,
				      int listen)
{
	return 0;
}

__bpf_hook_end();

BTF_SET8_START(nc_fb_fmodret_ids)
BTF_ID_FLAGS(func, nc_bpf_select_tcp)
BTF_SET8_END(nc_fb_fmodret_ids)

static const struct btf_kfunc_id_set nc_fb_fmodret_set = {
	.owner = THIS_MODULE,
	.set = &nc_fb_fmodret_ids,
};

int nc_fb_register(void)
{
	return register_btf_fmodret_id_set(&nc_fb_fmodret_set);
}

/*
 * connect() of @nsk to @port, under its lock: if a rule gives it to TCP, a
 * TCP socket with its options, made here in the caller's context (so in
 * its cgroup), which the file becomes; the caller then makes TCP's
 * connect(). NULL when no rule says so (or the socket has no file: a
 * kernel user's), an ERR_PTR if the TCP socket cannot be made.
 */
struct socket *nc_fb_rule_connect(struct nc_sock *nsk,
				  const struct in6_addr *a, __be16 port)
{
	struct sock *sk = &nsk->inet.sk;
	struct socket *sock;
	int err;

	if (!sk->sk_socket || !sk->sk_socket->file ||
	    !nc_bpf_select_tcp(sk, a, ntohs(port), 0))
		return NULL;
	err = nc_fb_socket(sk, true, &sock);
	if (err)
		return ERR_PTR(err);
	nc_fb_switch(nsk, sock, true);
	nc_stat_inc(nsk->nn, NC_STAT_FALLBACK_RULE);
	return sock;
}

/* Does a rule give listen() of @nsk (bound) to TCP? Under its lock. */
bool nc_fb_rule_listens(struct nc_sock *nsk)
{
	struct in6_addr a;

	nc_sk_bound_addr(&nsk->inet.sk, &a);
	return nc_bpf_select_tcp(&nsk->inet.sk, &a, ntohs(nsk->inet.inet_sport),
				 1);
}

/*
 * listen() of @nsk on a port a rule gives to TCP: a TCP listener on its
 * address and port, with its options, which the file becomes. Without
 * @nsk's lock. 0 or -errno (TCP's: the port may be TCP's already).
 */
int nc_fb_rule_listen(struct nc_sock *nsk, int backlog)
{
	struct sock *sk = &nsk->inet.sk;
	struct socket *sock;
	int err;

	err = nc_fb_socket(sk, false, &sock);
	if (err)
		return err;
	err = nc_fb_bind_as(sock, sk, nsk->inet.inet_sport);
	if (!err)
		err = kernel_listen(sock, backlog);
	if (err)
		goto err;
	lock_sock(sk);
	err = -EINVAL;
	if (nsk->fb || nsk->fb_closed || !sk->sk_socket ||
	    !sk->sk_socket->file || sk->sk_state != TCP_CLOSE) {
		release_sock(sk);
		goto err;
	}
	nc_fb_switch(nsk, sock, false);
	release_sock(sk);
	nc_stat_inc(nsk->nn, NC_STAT_FALLBACK_RULE);
	return 0;
err:
	sock_release(sock);
	return err;
}
