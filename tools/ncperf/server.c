// SPDX-License-Identifier: GPL-2.0
/* ncperf server: a thread per connection, sink or echo as the hello asks. */
#include "ncperf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct session {
	uint64_t id;
	uint32_t expected;
	uint32_t finished;
};

static struct {
	pthread_mutex_t lock;
	int active;
	uint64_t conns;
	uint64_t bytes_in;
	uint64_t errors;
	uint64_t last_activity_ns;
	bool have_first;
	struct session first;	/* for --once */
	bool once_done;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct srv_conn {
	int fd;
	char peer[64];
};

static void server_conn_end(bool have_hello, uint64_t session, uint64_t bytes, bool failed)
{
	pthread_mutex_lock(&srv.lock);
	srv.active--;
	srv.bytes_in += bytes;
	if (failed)
		srv.errors++;
	srv.last_activity_ns = now_ns();
	if (have_hello && srv.have_first && session == srv.first.id &&
	    ++srv.first.finished >= srv.first.expected)
		srv.once_done = true;
	pthread_mutex_unlock(&srv.lock);
}

static void *server_thread(void *arg)
{
	struct srv_conn *sc = arg;
	unsigned char hello[HELLO_LEN], ack[4], cnt[8];
	uint64_t session = 0, bytes = 0;
	uint32_t kind = 0, size = 0, nconns;
	bool have_hello = false, failed = true;
	char *buf = NULL;
	int r;

	r = read_full(sc->fd, hello, sizeof(hello));
	if (r <= 0) {
		vlog("%s: no hello: %s", sc->peer, r ? io_err(errno) : "closed");
		goto out;
	}
	if (get32(hello) != NCP_MAGIC || (get32(hello + 4) >> 16) != NCP_VERSION) {
		vlog("%s: not an ncperf client", sc->peer);
		goto out;
	}
	kind = get32(hello + 4) & 0xffff;
	size = get32(hello + 8);
	nconns = get32(hello + 12);
	session = get64(hello + 16);
	have_hello = true;
	pthread_mutex_lock(&srv.lock);
	if (!srv.have_first) {
		srv.have_first = true;
		srv.first.id = session;
		srv.first.expected = nconns ? nconns : 1;
	}
	pthread_mutex_unlock(&srv.lock);
	if ((kind != NCP_SINK && kind != NCP_ECHO) || (kind == NCP_ECHO && (!size || size > MAX_MSG))) {
		vlog("%s: bad request kind %u size %u", sc->peer, kind, size);
		goto out;
	}
	buf = malloc(kind == NCP_ECHO ? size : 256 << 10);
	if (!buf)
		goto out;
	put32(ack, NCP_MAGIC);
	if (write_full(sc->fd, ack, sizeof(ack)))
		goto out;
	if (kind == NCP_SINK) {
		for (;;) {
			ssize_t n = recv(sc->fd, buf, 256 << 10, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				vlog("%s: recv: %s", sc->peer, io_err(errno));
				goto out;
			}
			if (n == 0)
				break;
			bytes += (uint64_t)n;
		}
		put64(cnt, bytes);
		if (write_full(sc->fd, cnt, sizeof(cnt)))
			goto out;
	} else {
		for (;;) {
			r = read_full(sc->fd, buf, size);
			if (r == 0)
				break;
			if (r < 0 || write_full(sc->fd, buf, size)) {
				vlog("%s: echo: %s", sc->peer, io_err(errno));
				goto out;
			}
			bytes += size;
		}
	}
	failed = false;
	vlog("%s: %s done, %" PRIu64 " bytes", sc->peer, kind == NCP_SINK ? "bulk" : "rr", bytes);
out:
	free(buf);
	close(sc->fd);
	server_conn_end(have_hello, session, bytes, failed);
	free(sc);
	return NULL;
}

static void null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	if (!o.verbose)
		dup2(fd, 2);
	close(fd);
}

int server_main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o.port) };
	char err[512] = "";
	pthread_attr_t attr;
	int lfd, one = 1;
	struct sigaction act = { .sa_handler = on_stop };

	inet_pton(AF_INET, o.addr, &sa.sin_addr);
	lfd = new_socket(err, sizeof(err));
	if (lfd < 0) {
		print_fail(err);
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, sizeof(err), "bind %s:%d (%s): %s", o.addr, o.port,
			 proto_name(o.proto), strerror(errno));
		print_fail(err);
		return 1;
	}
	if (listen(lfd, 128)) {
		snprintf(err, sizeof(err), "listen (%s): %s", proto_name(o.proto), strerror(errno));
		print_fail(err);
		return 1;
	}
	if (o.background) {
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			print_fail("fork failed");
			return 1;
		}
		if (pid > 0) {
			printf("%d\n", (int)pid);
			return 0;
		}
		/* Let go of the caller's stdout (e.g. the pipe of a $(...) that
		 * waits for EOF), and of stderr unless --verbose wants it. */
		setsid();
		null_stdio();
	}
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	if (!o.json && !o.background)
		printf("ncperf server: listening on %s:%d (%s)%s\n", o.addr, o.port,
		       proto_name(o.proto), o.once ? ", --once" : "");
	fflush(stdout);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	srv.last_activity_ns = now_ns();
	while (!stop_flag) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		struct srv_conn *sc;
		pthread_t th;
		bool idle_out;
		int fd;

		pthread_mutex_lock(&srv.lock);
		idle_out = o.idle > 0 && srv.active == 0 &&
			   now_ns() - srv.last_activity_ns > (uint64_t)(o.idle * 1e9);
		if (o.once && srv.once_done && srv.active == 0)
			stop_flag = 1;
		pthread_mutex_unlock(&srv.lock);
		if (idle_out) {
			vlog("idle for %g s; exiting", o.idle);
			break;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				vlog("accept: %s", strerror(errno));
			continue;
		}
		if (set_timeouts(fd))
			vlog("setsockopt timeouts on an accepted socket: %s", strerror(errno));
		if (o.nodelay)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		sc = calloc(1, sizeof(*sc));
		if (!sc) {
			close(fd);
			continue;
		}
		sc->fd = fd;
		snprintf(sc->peer, sizeof(sc->peer), "%s:%d", inet_ntoa(peer.sin_addr),
			 ntohs(peer.sin_port));
		pthread_mutex_lock(&srv.lock);
		srv.active++;
		srv.conns++;
		srv.last_activity_ns = now_ns();
		pthread_mutex_unlock(&srv.lock);
		if (pthread_create(&th, &attr, server_thread, sc)) {
			close(fd);
			free(sc);
			server_conn_end(false, 0, 0, true);
		}
	}
	close(lfd);
	pthread_mutex_lock(&srv.lock);
	if (o.json) {
		struct jw j;

		jw_begin(&j, "server");
		jw_bool(&j, "ok", true);
		jw_u64(&j, "connections", srv.conns);
		jw_u64(&j, "failed_connections", srv.errors);
		jw_u64(&j, "bytes_in", srv.bytes_in);
		jw_num(&j, "still_active", srv.active);
		jw_end(&j);
	} else if (!o.background) {
		char b[32];

		printf("ncperf server: %" PRIu64 " connection(s), %" PRIu64 " failed, %s received\n",
		       srv.conns, srv.errors, fmt_bytes(b, sizeof(b), (double)srv.bytes_in));
	}
	fflush(stdout);
	/* Threads still serving a client are not waited for: exiting closes
	 * their sockets, and the clients see it. */
	_exit(0);
}
