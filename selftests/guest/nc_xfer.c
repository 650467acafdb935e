// SPDX-License-Identifier: GPL-2.0
/*
 * nc_xfer: move deterministic bytes over NetChannel (or TCP) and check
 * them end to end. See usage() for the command line and the protocol.
 */
#include "nc_net.h"

#define XF_MAGIC	0x4E435831u	/* "NCX1" */
#define XF_SEED		0x6e635f78666572ULL
#define XF_MAX_SOCKS	1024

/* 16 bytes at the start of every connection, host byte order. */
struct xf_hdr {
	uint32_t magic;
	uint16_t idx;
	uint16_t nsock;
	uint64_t len;
};

/* The server's answer when a connection reached EOF. */
struct xf_ack {
	uint64_t bytes;
	uint64_t hash;
};

static int timeout_s = 120;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: nc_xfer server PORT [--timeout SEC]\n"
"       nc_xfer client ADDR PORT BYTES [--sockets N] [--timeout SEC]\n"
"\n"
"Moves BYTES of a deterministic pseudo-random stream from the client to the\n"
"server, split over N connections (default 1), and checks every byte:\n"
"each connection's bytes are hashed on both sides and compared.\n"
"\n"
"  server PORT   listen on 0.0.0.0:PORT, serve one client (all of its N\n"
"                connections), print the result and exit\n"
"  client ...    connect to ADDR:PORT (a refused connect is retried for\n"
"                5 s while the server starts), send, wait for the server's\n"
"                verdict\n"
"  BYTES         a number with an optional K, M or G suffix (KiB, MiB, GiB)\n"
"  --sockets N   1..%d connections (BYTES is split between them)\n"
"  --timeout SEC give up after SEC seconds (default 120)\n"
"\n"
"Output: \"OK <bytes> <hash>\" (the same line on both sides), or\n"
"\"ERROR: ...\" on stderr. Exit status 0 for OK, 1 for an error, 2 for a\n"
"usage error.\n"
"\n"
"Protocol: NC_PROTO=netchannel (default) uses IPPROTO_NETCHANNEL (253),\n"
"NC_PROTO=tcp uses TCP. The module must already be loaded. Run it inside a\n"
"namespace with `ip netns exec NS nc_xfer ...`.\n", XF_MAX_SOCKS);
}

static void on_alarm(int sig)
{
	static const char msg[] = "ERROR: timed out\n";

	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static int err(const char *fmt, ...)
{
	va_list ap;

	fputs("ERROR: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'k': case 'K': n <<= 10; end++; break;
	case 'm': case 'M': n <<= 20; end++; break;
	case 'g': case 'G': n <<= 30; end++; break;
	}
	if (*end)
		return false;
	*v = n;
	return true;
}

/* Combined result of all connections: a hash over (len, hash) in idx order. */
static uint64_t combine(const struct xf_ack *acks, int n)
{
	return nc_hash_buf(acks, n * sizeof(*acks));
}

/* ------------------------------------------------------------ server */

struct conn {
	int fd;
	struct xf_hdr h;
	unsigned int hgot;
	struct nc_hash hash;
	uint64_t got;
	bool done;
};

static int server(uint16_t port)
{
	struct sockaddr_in sin = nc_sin(NULL, port);
	static uint8_t buf[65536];
	static struct conn c[XF_MAX_SOCKS];
	static struct pollfd pf[XF_MAX_SOCKS + 1];
	static struct xf_ack acks[XF_MAX_SOCKS];
	static bool seen[XF_MAX_SOCKS];
	int lfd, one = 1, n = 0, nsock = -1, done = 0, np, i, k, polled;
	uint64_t total = 0;
	ssize_t r;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, nc_proto());
	if (lfd < 0)
		return err("socket(%s): %s", nc_proto_name(), strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 128))
		return err("listen on port %u: %s", port, strerror(errno));
	fprintf(stderr, "nc_xfer: listening on 0.0.0.0:%u (%s)\n", port, nc_proto_name());

	while (nsock < 0 || done < nsock) {
		np = 0;
		if (nsock < 0 || n < nsock)
			pf[np++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < n; i++)
			if (!c[i].done)
				pf[np++] = (struct pollfd){ .fd = c[i].fd, .events = POLLIN };
		if (poll(pf, np, -1) < 0 && errno != EINTR)
			return err("poll: %s", strerror(errno));
		k = 0;
		polled = n;
		if (nsock < 0 || n < nsock) {
			if (pf[k++].revents) {
				if (n == XF_MAX_SOCKS)
					return err("too many connections");
				c[n].fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (c[n].fd < 0)
					return err("accept: %s", strerror(errno));
				nc_hash_init(&c[n].hash);
				n++;
			}
		}
		for (i = 0; i < polled; i++) {
			struct conn *x = &c[i];

			if (x->done)
				continue;
			if (!pf[k++].revents)
				continue;
			r = recv(x->fd, buf, x->hgot < sizeof(x->h) ? sizeof(x->h) - x->hgot :
				 sizeof(buf), 0);
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r < 0)
				return err("connection %d: recv: %s", i, strerror(errno));
			if (r == 0) {
				struct xf_ack a = { x->got, nc_hash_final(&x->hash) };

				if (x->hgot < sizeof(x->h))
					return err("connection %d: EOF before its header", i);
				if (x->got != x->h.len)
					return err("connection %u: %llu bytes, announced %llu",
						   x->h.idx, (unsigned long long)x->got,
						   (unsigned long long)x->h.len);
				acks[x->h.idx] = a;
				if (nc_send_all(x->fd, &a, sizeof(a), timeout_s * 1000))
					return err("connection %u: answer: %s", x->h.idx, nc_err);
				close(x->fd);
				x->done = true;
				total += x->got;
				done++;
				continue;
			}
			if (x->hgot < sizeof(x->h)) {
				memcpy((uint8_t *)&x->h + x->hgot, buf, r);
				x->hgot += r;
				if (x->hgot < sizeof(x->h))
					continue;
				if (x->h.magic != XF_MAGIC || !x->h.nsock ||
				    x->h.nsock > XF_MAX_SOCKS || x->h.idx >= x->h.nsock)
					return err("connection %d: not an nc_xfer client", i);
				if (nsock < 0)
					nsock = x->h.nsock;
				if (x->h.nsock != nsock || seen[x->h.idx])
					return err("connection %d: inconsistent header", i);
				seen[x->h.idx] = true;
				continue;
			}
			nc_hash_update(&x->hash, buf, r);
			x->got += r;
		}
	}
	close(lfd);
	printf("OK %llu %016llx\n", (unsigned long long)total,
	       (unsigned long long)combine(acks, nsock));
	return 0;
}

/* ------------------------------------------------------------ client */

static int client(const char *addr, uint16_t port, uint64_t bytes, int nsock)
{
	struct sockaddr_in sin = nc_sin(NULL, port);
	static struct nc_flow fl[XF_MAX_SOCKS];
	static struct xf_ack acks[XF_MAX_SOCKS];
	struct nc_xspec spec = { .nsock = nsock, .seed = XF_SEED,
				 .timeout_ms = timeout_s * 1000, .keep_open = true };
	struct xf_ack a;
	struct xf_hdr h;
	int64_t retry_until;
	int i, fd, nfl = 0;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return err("not an IPv4 address: %s", addr);
	for (i = 0; i < nsock; i++) {
		retry_until = nc_now_ms() + 5000;
		for (;;) {
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, nc_proto());
			if (fd < 0)
				return err("socket(%s): %s", nc_proto_name(), strerror(errno));
			if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
				break;
			if (errno != ECONNREFUSED || nc_now_ms() > retry_until)
				return err("connect to %s:%u: %s", addr, port, strerror(errno));
			close(fd);
			nc_sleep_ms(100);
		}
		h = (struct xf_hdr){ XF_MAGIC, (uint16_t)i, (uint16_t)nsock,
				     bytes / nsock + ((uint64_t)i < bytes % nsock) };
		memset(&fl[i], 0, sizeof(fl[i]));
		fl[i].fd = fd;
		fl[i].idx = i;
		memcpy(fl[i].hdr, &h, sizeof(h));
		fl[i].hdr_len = sizeof(h);
		fl[i].tx_seed = nc_seed_up(XF_SEED, i);
		fl[i].tx_len = h.len;
		fl[i].tx_ready = true;
		nc_hash_init(&fl[i].rx_hash);
		nc_set_nonblock(fd, true);
		nfl++;
	}
	/* send everything; the server's answer arrives as the received bytes */
	if (nc_flows_run(fl, &nfl, nsock, -1, 0, &spec))
		return err("%s", nc_err);
	for (i = 0; i < nsock; i++) {
		if (fl[i].rx_bytes != sizeof(a))
			return err("connection %d: no answer from the server (%llu bytes)",
				   i, (unsigned long long)fl[i].rx_bytes);
		close(fl[i].fd);
	}
	/* the answers were hashed, not kept: receive them again by value */
	for (i = 0; i < nsock; i++) {
		acks[i].bytes = fl[i].tx_len;
		acks[i].hash = nc_gen_hash(fl[i].tx_seed, fl[i].tx_len);
		a = acks[i];
		if (nc_hash_buf(&a, sizeof(a)) != nc_hash_final(&fl[i].rx_hash))
			return err("connection %d: the server received different bytes", i);
	}
	printf("OK %llu %016llx\n", (unsigned long long)bytes,
	       (unsigned long long)combine(acks, nsock));
	return 0;
}

int main(int argc, char **argv)
{
	int nsock = 1, i, nargs = 0;
	char *args[4];
	uint64_t v, bytes = 0, port;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--sockets") && i + 1 < argc) {
			if (!parse_u64(argv[++i], &v) || v < 1 || v > XF_MAX_SOCKS) {
				fprintf(stderr, "nc_xfer: --sockets: 1..%d\n", XF_MAX_SOCKS);
				return 2;
			}
			nsock = (int)v;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			if (!parse_u64(argv[++i], &v) || v < 1 || v > 86400) {
				fprintf(stderr, "nc_xfer: --timeout: 1..86400 seconds\n");
				return 2;
			}
			timeout_s = (int)v;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "nc_xfer: unknown option %s (try --help)\n", argv[i]);
			return 2;
		} else if (nargs < 4) {
			args[nargs++] = argv[i];
		} else {
			fprintf(stderr, "nc_xfer: too many arguments (try --help)\n");
			return 2;
		}
	}
	nc_proto_tcp();		/* exits on a bad NC_PROTO */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(timeout_s);
	if (nargs == 2 && !strcmp(args[0], "server") && parse_u64(args[1], &port) &&
	    port && port < 65536)
		return server((uint16_t)port);
	if (nargs == 4 && !strcmp(args[0], "client") && parse_u64(args[2], &port) &&
	    port && port < 65536 && parse_u64(args[3], &bytes))
		return client(args[1], (uint16_t)port, bytes, nsock);
	usage(stderr);
	return 2;
}
