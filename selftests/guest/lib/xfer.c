// SPDX-License-Identifier: GPL-2.0
/*
 * Test library: the xfer protocol and the poll-driven transfer engine that
 * runs any number of its connections on either side (see nc_net.h).
 */
#include "nc_lib.h"

/* nc_flow_tx()'s last generated chunk, reused while a send takes only part */
static uint8_t nc_txbuf[65536];
static uint64_t nc_txbuf_seed, nc_txbuf_start, nc_txbuf_len;
static bool nc_txbuf_valid;

uint64_t nc_seed_up(uint64_t base, uint32_t idx)
{
	return nc_word(base, 2ULL * idx);
}

uint64_t nc_seed_down(uint64_t base, uint32_t idx)
{
	return nc_word(base, 2ULL * idx + 1);
}

void nc_flow_init_client(struct nc_flow *f, int fd, uint32_t idx,
			 const struct nc_xspec *s)
{
	struct nc_xhdr h = { NC_XHDR_MAGIC, idx, s->down };

	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->idx = idx;
	if (!s->raw) {
		memcpy(f->hdr, &h, sizeof(h));
		f->hdr_len = sizeof(h);
	}
	f->tx_seed = nc_seed_up(s->seed, idx);
	f->tx_len = s->up;
	f->tx_ready = true;
	nc_hash_init(&f->rx_hash);
}

void nc_flow_init_server(struct nc_flow *f, int fd, uint32_t idx,
			 const struct nc_xspec *s)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->idx = UINT32_MAX;
	f->want_hdr = true;
	if (s && s->raw) {
		f->want_hdr = false;
		f->idx = idx;
		f->tx_seed = nc_seed_down(s->seed, idx);
		f->tx_len = s->down;
		f->tx_ready = true;
	}
	nc_hash_init(&f->rx_hash);
}

bool nc_flow_finished(const struct nc_flow *f)
{
	return f->err || (f->tx_done && f->rx_eof);
}

void nc_flow_error(struct nc_flow *f, int err, const char *what)
{
	if (!f->err) {
		f->err = err;
		f->what = what;
	}
}

void nc_flow_tx(struct nc_flow *f, size_t chunk)
{
	const uint8_t *p;
	size_t want;
	ssize_t n;

	if (f->hdr_off < f->hdr_len) {
		n = send(f->fd, f->hdr + f->hdr_off, f->hdr_len - f->hdr_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				nc_flow_error(f, errno, "send");
			return;
		}
		f->hdr_off += n;
		if (f->hdr_off < f->hdr_len)
			return;
	}
	if (f->tx_off < f->tx_len) {
		if (chunk > sizeof(nc_txbuf))
			chunk = sizeof(nc_txbuf);
		want = f->tx_len - f->tx_off < chunk ? (size_t)(f->tx_len - f->tx_off) : chunk;
		if (nc_txbuf_valid && nc_txbuf_seed == f->tx_seed &&
		    f->tx_off >= nc_txbuf_start && f->tx_off < nc_txbuf_start + nc_txbuf_len) {
			p = nc_txbuf + (f->tx_off - nc_txbuf_start);
			if (want > nc_txbuf_start + nc_txbuf_len - f->tx_off)
				want = nc_txbuf_start + nc_txbuf_len - f->tx_off;
		} else {
			nc_gen(f->tx_seed, f->tx_off, nc_txbuf, want);
			nc_txbuf_valid = true;
			nc_txbuf_seed = f->tx_seed;
			nc_txbuf_start = f->tx_off;
			nc_txbuf_len = want;
			p = nc_txbuf;
		}
		n = send(f->fd, p, want, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				nc_flow_error(f, errno, "send");
			return;
		}
		f->tx_off += n;
	}
	if (f->tx_off == f->tx_len) {
		if (shutdown(f->fd, SHUT_WR))
			nc_flow_error(f, errno, "shutdown(SHUT_WR)");
		f->tx_done = true;
	}
}

void nc_flow_rx(struct nc_flow *f, size_t chunk, uint64_t base)
{
	static uint8_t buf[65536];
	struct nc_xhdr h;
	uint8_t *p = buf;
	ssize_t n;
	size_t k;

	if (chunk > sizeof(buf))
		chunk = sizeof(buf);
	n = recv(f->fd, buf, chunk, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			nc_flow_error(f, errno, "recv");
		return;
	}
	if (n == 0) {
		f->rx_eof = true;
		if (f->want_hdr)
			nc_flow_error(f, EPROTO, "EOF before the request header");
		return;
	}
	if (f->want_hdr) {
		k = sizeof(h) - f->rhdr_off;
		if (k > (size_t)n)
			k = n;
		memcpy(f->rhdr + f->rhdr_off, p, k);
		f->rhdr_off += k;
		p += k;
		n -= k;
		if (f->rhdr_off < sizeof(h))
			return;
		memcpy(&h, f->rhdr, sizeof(h));
		if (h.magic != NC_XHDR_MAGIC) {
			nc_flow_error(f, EPROTO, "bad request header");
			return;
		}
		f->want_hdr = false;
		f->idx = h.idx;
		f->tx_seed = nc_seed_down(base, h.idx);
		f->tx_len = h.reply_len;
		f->tx_ready = true;
	}
	nc_hash_update(&f->rx_hash, p, n);
	f->rx_bytes += n;
}

const char *nc_flow_state(const struct nc_flow *f)
{
	static char s[256];

	snprintf(s, sizeof(s), "idx %u: sent %llu/%llu%s, received %llu%s%s%s",
		 f->idx, (unsigned long long)f->tx_off, (unsigned long long)f->tx_len,
		 f->tx_done ? " +FIN" : "", (unsigned long long)f->rx_bytes,
		 f->rx_eof ? " +EOF" : "", f->err ? ", error in " : "",
		 f->err ? f->what : "");
	return s;
}

int nc_xspec_timeout(const struct nc_xspec *s)
{
	uint64_t total = (s->up + s->down) * (uint64_t)s->nsock;

	/* generous: 60 s plus 2 s per MiB, which is ~25x TCP on TCG */
	return s->timeout_ms ? s->timeout_ms : (int)(60000 + total / NC_MIB * 2000);
}

int nc_flows_run(struct nc_flow *fl, int *nfl, int cap, int lfd,
		 int n_accept, const struct nc_xspec *s)
{
	size_t chunk = s->chunk ? s->chunk : 65536;
	uint64_t base = s->seed;
	int timeout_ms = nc_xspec_timeout(s);
	int64_t deadline = nc_now_ms() + timeout_ms;
	struct pollfd *pf = calloc(cap + 1, sizeof(*pf));
	int *map = calloc(cap + 1, sizeof(*map));
	int accepted = 0, i, np, r, fd, ret = 0, active;

	if (!pf || !map) {
		free(pf);
		free(map);
		return nc_fail(-ENOMEM, "out of memory");
	}
	for (;;) {
		np = 0;
		active = 0;
		if (lfd >= 0 && accepted < n_accept) {
			pf[np].fd = lfd;
			pf[np].events = POLLIN;
			map[np++] = -1;
		}
		for (i = 0; i < *nfl; i++) {
			struct nc_flow *f = &fl[i];

			if (f->closed)
				continue;
			if (nc_flow_finished(f)) {
				if (!s->keep_open || f->err)
					close(f->fd);
				f->closed = true;
				continue;
			}
			active++;
			pf[np].fd = f->fd;
			pf[np].events = (f->rx_eof ? 0 : POLLIN) |
				(f->tx_ready && !f->tx_done ? POLLOUT : 0);
			map[np++] = i;
		}
		if (!np)
			break;
		r = poll(pf, np, nc_left_ms(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int stuck = -1;

			for (i = 0; i < *nfl; i++)
				if (!fl[i].closed && stuck < 0)
					stuck = i;
			ret = nc_fail(-ETIMEDOUT, "transfer stuck for %d ms: %d of %d flows unfinished%s%s (accepted %d/%d)",
				      timeout_ms, active, *nfl, stuck >= 0 ? "; first: " : "",
				      stuck >= 0 ? nc_flow_state(&fl[stuck]) : "",
				      accepted, n_accept);
			goto out;
		}
		for (i = 0; i < np; i++) {
			if (!pf[i].revents)
				continue;
			if (map[i] < 0) {
				fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (fd < 0) {
					if (errno == EAGAIN || errno == EINTR)
						continue;
					ret = nc_fail(-errno, "accept: %s", strerror(errno));
					goto out;
				}
				if (*nfl >= cap) {
					close(fd);
					ret = nc_fail(-EMFILE, "more connections than expected");
					goto out;
				}
				nc_flow_init_server(&fl[*nfl], fd, *nfl, s);
				(*nfl)++;
				accepted++;
				continue;
			}
			if (pf[i].revents & (POLLIN | POLLERR | POLLHUP))
				nc_flow_rx(&fl[map[i]], chunk, base);
			if ((pf[i].revents & (POLLOUT | POLLERR | POLLHUP)) &&
			    fl[map[i]].tx_ready && !fl[map[i]].tx_done && !fl[map[i]].err)
				nc_flow_tx(&fl[map[i]], chunk);
		}
	}
	for (i = 0; i < *nfl; i++) {
		if (fl[i].err) {
			ret = nc_fail(-fl[i].err, "flow %s: %s", nc_flow_state(&fl[i]),
				      strerror(fl[i].err));
			break;
		}
	}
out:
	for (i = 0; i < *nfl; i++) {
		if (!fl[i].closed) {
			if (!s->keep_open || ret)
				close(fl[i].fd);
			fl[i].closed = true;
		}
	}
	free(pf);
	free(map);
	return ret;
}

void nc_flow_result(const struct nc_flow *f, struct nc_flow_result *r)
{
	memset(r, 0, sizeof(*r));
	r->idx = f->idx;
	r->err = f->err;
	r->rx_bytes = f->rx_bytes;
	r->rx_hash = nc_hash_final(&f->rx_hash);
	r->tx_bytes = f->tx_off;
}

int nc_srv_main(void *arg, int wfd)
{
	const struct nc_srv_arg *a = arg;
	const struct nc_xspec *s = a->spec;
	struct nc_flow *fl = calloc(s->nsock, sizeof(*fl));
	struct nc_flow_result res;
	int nfl = 0, ret, i;

	if (!fl)
		return 1;
	ret = nc_flows_run(fl, &nfl, s->nsock, a->lfd, s->nsock, s);
	if (ret)
		fprintf(stderr, "[server] %s\n", nc_err);
	for (i = 0; i < nfl; i++) {
		nc_flow_result(&fl[i], &res);
		if (write(wfd, &res, sizeof(res)) != sizeof(res))
			ret = -1;
	}
	free(fl);
	return ret ? 1 : 0;
}

int nc_client_run(const struct nc_xspec *s, const char *ns,
		  const char *ip, uint16_t port, struct nc_flow *fl)
{
	int i, fd, nfl = 0, ret;

	for (i = 0; i < s->nsock; i++) {
		fd = nc_connect_in(ns, ip, port, 20000);
		if (fd < 0) {
			ret = fd;
			goto fail;
		}
		nc_set_nonblock(fd, true);
		nc_flow_init_client(&fl[nfl++], fd, i, s);
	}
	return nc_flows_run(fl, &nfl, s->nsock, -1, 0, s);
fail:
	{
		char msg[sizeof(nc_err)];

		snprintf(msg, sizeof(msg), "%s", nc_err);
		nc_fail(ret, "socket %d of %d: %s", i, s->nsock, msg);
	}
	while (nfl--)
		close(fl[nfl].fd);
	return -1;
}

int nc_read_results(int rfd, struct nc_flow_result *res, int n,
		    int timeout_ms)
{
	if (nc_read_full(rfd, res, n * sizeof(*res), timeout_ms)) {
		char msg[sizeof(nc_err)];

		snprintf(msg, sizeof(msg), "%s", nc_err);
		return nc_fail(-1, "server results: %s", msg);
	}
	return 0;
}

int nc_xfer_verify(const struct nc_xspec *s,
		   const struct nc_flow_result *cli,
		   const struct nc_flow_result *srv)
{
	const struct nc_flow_result *r;
	char *seen = calloc(2 * s->nsock, 1);
	uint64_t want;
	int i, ret = 0;

	if (!seen)
		return nc_fail(-ENOMEM, "out of memory");
	for (i = 0; i < 2 * s->nsock && !ret; i++) {
		bool up = i < s->nsock;
		uint64_t len = up ? s->up : s->down;

		r = up ? &srv[i] : &cli[i - s->nsock];
		if (r->idx >= (uint32_t)s->nsock || seen[r->idx + (up ? 0 : s->nsock)]) {
			ret = nc_fail(-EPROTO, "%s result %d: bad or repeated idx %u",
				      up ? "server" : "client", i, r->idx);
			break;
		}
		seen[r->idx + (up ? 0 : s->nsock)] = 1;
		want = nc_gen_hash(up ? nc_seed_up(s->seed, r->idx) :
				   nc_seed_down(s->seed, r->idx), len);
		if (r->err || r->rx_bytes != len || r->rx_hash != want)
			ret = nc_fail(-EPROTO, "connection %u of %d, %s: received %llu of %llu bytes, hash %016llx (want %016llx)%s%s",
				      r->idx, s->nsock, up ? "a->b" : "b->a",
				      (unsigned long long)r->rx_bytes, (unsigned long long)len,
				      (unsigned long long)r->rx_hash, (unsigned long long)want,
				      r->err ? ", error: " : "", r->err ? strerror(r->err) : "");
	}
	free(seen);
	return ret;
}

int nc_cli_main(void *arg, int wfd)
{
	const struct nc_cli_arg *a = arg;
	const struct nc_xspec *s = a->spec;
	struct nc_flow *fl = calloc(s->nsock, sizeof(*fl));
	struct nc_flow_result res;
	int ret, i;
	char c;

	if (!fl)
		return 1;
	ret = nc_client_run(s, NC_NS_A, NC_IP_B, a->port, fl);
	if (ret)
		fprintf(stderr, "[client] %s\n", nc_err);
	for (i = 0; i < s->nsock; i++) {
		nc_flow_result(&fl[i], &res);
		if (write(wfd, &res, sizeof(res)) != sizeof(res))
			ret = -1;
	}
	if (s->keep_open && a->ctl >= 0)
		nc_read_full(a->ctl, &c, 1, 600000);
	free(fl);
	return ret ? 1 : 0;
}

int nc_xfer(const struct nc_xspec *s, double *secs)
{
	uint16_t port = nc_next_port();
	int tmo = nc_xspec_timeout(s);
	struct nc_srv_arg sa = { .spec = s };
	struct nc_flow_result *res = calloc(s->nsock, sizeof(*res));
	struct nc_flow_result *cres = calloc(s->nsock, sizeof(*cres));
	struct nc_flow *cli = calloc(s->nsock, sizeof(*cli));
	int rfd = -1, ret, st, i;
	char msg[sizeof(nc_err)];
	double t0;
	pid_t pid;

	if (!res || !cli || !cres) {
		ret = nc_fail(-ENOMEM, "out of memory");
		goto out;
	}
	sa.lfd = nc_listen_in(NC_NS_B, port, s->nsock + 16);
	if (sa.lfd < 0) {
		ret = -1;
		goto out;
	}
	pid = nc_spawn(NC_NS_B, tmo / 1000 + 30, nc_srv_main, &sa, &rfd);
	close(sa.lfd);
	if (pid < 0) {
		ret = -1;
		goto out;
	}
	t0 = nc_now();
	ret = nc_client_run(s, NC_NS_A, NC_IP_B, port, cli);
	if (secs)
		*secs = nc_now() - t0;
	if (ret) {
		snprintf(msg, sizeof(msg), "%s", nc_err);
		kill(pid, SIGKILL);
		nc_child_wait(pid, 5000);
		nc_fail(-1, "client: %s", msg);
		goto out;
	}
	ret = nc_read_results(rfd, res, s->nsock, 30000);
	st = nc_child_wait(pid, 30000);
	if (ret)
		goto out;
	if (st != 0) {
		ret = nc_fail(-1, "server exited with status %d (see its stderr)", st);
		goto out;
	}
	for (i = 0; i < s->nsock; i++)
		nc_flow_result(&cli[i], &cres[i]);
	ret = nc_xfer_verify(s, cres, res);
out:
	if (rfd >= 0)
		close(rfd);
	free(res);
	free(cres);
	free(cli);
	return ret;
}
