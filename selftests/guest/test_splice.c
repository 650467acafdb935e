// SPDX-License-Identifier: GPL-2.0
/*
 * sendfile(), splice() and vmsplice() to and from NetChannel sockets, as
 * nginx (sendfile on), socat and haproxy use them: byte-exact, small and
 * large, blocking and non-blocking, and from a file truncated while it is
 * sent. Sent pages go into frames by reference (tx_spliced counts them);
 * received frames go into the pipe (rx_spliced). Every test here runs on
 * NC_PROTO=tcp too (that validates the test).
 *
 * Hosts: namespace nc_a (10.99.0.1, clients) and nc_b (10.99.0.2,
 * servers), see nc_net.h.
 */
#define _GNU_SOURCE
#include "nc_net.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#define FILE_PATH "/tmp/nc_splice_file"

/* A file of @len bytes of stream @seed. Returns its fd (read-write). */
static int gen_file(uint64_t seed, size_t len)
{
	static uint8_t buf[1 << 16];
	size_t off, n;
	int fd;

	fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	for (off = 0; off < len; off += n) {
		n = len - off < sizeof(buf) ? len - off : sizeof(buf);
		nc_gen(seed, off, buf, n);
		assert_int_equal(pwrite(fd, buf, n, off), (ssize_t)n);
	}
	return fd;
}

static uint64_t stat_of(const char *ns, const char *name)
{
	uint64_t v = 0;

	if (nc_proto_tcp())
		return 0;
	assert_int_equal(nc_stat_get(ns, name, &v), 0);
	return v;
}

/* What a sendfile child does: send [0, len) of @file on @fd. */
struct sf_job {
	int fd, file;
	size_t len;
	bool nonblock;
	int64_t sent;		/* in the child: what sendfile() returned in all */
};

/*
 * Child: sendfile() the file in calls of at most 1 MiB (poll()ing when
 * non-blocking), then shut down for writing, and write the total it sent
 * on @wfd. Stops early at end of file (a truncated file).
 */
static int sendfile_main(void *arg, int wfd)
{
	struct sf_job *j = arg;
	off_t off = 0;
	ssize_t n;

	j->sent = 0;
	while ((size_t)j->sent < j->len) {
		n = sendfile(j->fd, j->file, &off, j->len - j->sent > (1 << 20) ?
			     1 << 20 : j->len - j->sent);
		if (n < 0 && errno == EAGAIN && j->nonblock) {
			struct pollfd p = { .fd = j->fd, .events = POLLOUT };

			if (poll(&p, 1, 20000) != 1) {
				fprintf(stderr, "[sendfile] no POLLOUT in 20 s\n");
				return 1;
			}
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "[sendfile] %s after %lld bytes\n",
				strerror(errno), (long long)j->sent);
			return 1;
		}
		if (n == 0)
			break;	/* end of the (truncated) file */
		if (off != j->sent + n) {
			fprintf(stderr, "[sendfile] offset %lld after %lld + %zd\n",
				(long long)off, (long long)j->sent, n);
			return 1;
		}
		j->sent += n;
	}
	if (shutdown(j->fd, SHUT_WR)) {
		fprintf(stderr, "[sendfile] shutdown: %s\n", strerror(errno));
		return 1;
	}
	if (write(wfd, &j->sent, sizeof(j->sent)) != sizeof(j->sent))
		return 1;
	return 0;
}

/* sendfile() @len bytes from a file to the peer: byte-exact, then EOF. */
static void sendfile_check(size_t len, bool nonblock)
{
	uint64_t seed = 0x5f00 + len, hash, spliced;
	struct sf_job j = { .len = len, .nonblock = nonblock };
	int64_t got, sent = -1;
	int c, s, rfd;
	pid_t pid;

	nc_mkpair(&c, &s);
	j.fd = c;
	j.file = gen_file(seed, len);
	if (nonblock)
		assert_int_equal(nc_set_nonblock(c, true), 0);
	spliced = stat_of(NC_NS_A, "tx_spliced");
	pid = nc_spawn(NULL, 120, sendfile_main, &j, &rfd);
	assert_true(pid > 0);
	got = nc_recv_hash_eof(s, len + 1, 100000, &hash);
	assert_int_equal(nc_child_wait(pid, 20000), 0);
	assert_int_equal(nc_read_full(rfd, &sent, sizeof(sent), 1000), 0);
	close(rfd);
	assert_int_equal(sent, len);
	assert_int_equal(got, len);
	assert_true(hash == nc_gen_hash(seed, len));
	/* above the copybreak the file's pages went by reference */
	if (!nc_proto_tcp() && len >= 64 * 1024) {
		uint64_t d = stat_of(NC_NS_A, "tx_spliced") - spliced;

		print_message("# tx_spliced +%llu of %zu bytes\n",
			      (unsigned long long)d, len);
		assert_true(d >= len / 2);
	}
	close(j.file);
	close(c);
	close(s);
}

static void test_sendfile_small(void **state)
{
	nc_watchdog(60);
	sendfile_check(1, false);
	sendfile_check(1000, false);
	sendfile_check(4096 + 17, false);
}

static void test_sendfile_large(void **state)
{
	nc_watchdog(170);
	sendfile_check(8 << 20, false);
}

static void test_sendfile_nonblocking(void **state)
{
	nc_watchdog(170);
	sendfile_check(3000, true);
	sendfile_check((4 << 20) + 123, true);
}

/*
 * The file is truncated (to a page boundary) while it is sent: sendfile()
 * ends early, and the reader gets exactly what it reported, intact.
 */
static void test_sendfile_truncated(void **state)
{
	enum { LEN = 16 << 20, CUT = 4 << 20 };
	static uint8_t buf[1 << 16];
	struct sf_job j = { .len = LEN };
	uint64_t seed = 0x5f7e;
	struct nc_hash h;
	int64_t got = 0, sent = -1;
	int c, s, rfd;
	ssize_t n;
	pid_t pid;

	nc_watchdog(170);
	nc_mkpair(&c, &s);
	j.fd = c;
	j.file = gen_file(seed, LEN);
	nc_hash_init(&h);
	pid = nc_spawn(NULL, 120, sendfile_main, &j, &rfd);
	assert_true(pid > 0);
	/* the first MiB arrives, then the file shrinks under the sender */
	while (got < (1 << 20)) {
		n = nc_recv_all(s, buf, sizeof(buf), 60000);
		assert_true(n > 0);
		nc_hash_update(&h, buf, n);
		got += n;
	}
	assert_int_equal(ftruncate(j.file, CUT), 0);
	for (;;) {
		n = recv(s, buf, sizeof(buf), 0);
		assert_true(n >= 0);
		if (!n)
			break;
		nc_hash_update(&h, buf, n);
		got += n;
	}
	assert_int_equal(nc_child_wait(pid, 20000), 0);
	assert_int_equal(nc_read_full(rfd, &sent, sizeof(sent), 1000), 0);
	close(rfd);
	print_message("# sendfile sent %lld of %d bytes (truncated to %d)\n",
		      (long long)sent, LEN, CUT);
	assert_int_equal(got, sent);
	assert_true(sent >= CUT && sent <= LEN);
	assert_true(nc_hash_final(&h) == nc_gen_hash(seed, sent));
	close(j.file);
	close(c);
	close(s);
}

/*
 * splice() from the socket into a pipe and from the pipe into a file:
 * byte-exact, EOF as 0; on an empty non-blocking socket EAGAIN.
 */
static void splice_read_check(size_t len, bool nonblock)
{
	struct nc_sender snd = { .seed = 0x5e00 + len, .len = len };
	static uint8_t buf[1 << 16];
	uint64_t spliced;
	int c, s, p[2];
	struct nc_hash h;
	size_t got = 0;
	ssize_t n, m, r;
	pid_t pid;

	nc_mkpair(&c, &s);
	assert_int_equal(pipe(p), 0);
	if (nonblock) {
		assert_int_equal(nc_set_nonblock(s, true), 0);
		assert_int_equal(splice(s, NULL, p[1], NULL, 4096, 0), -1);
		assert_int_equal(errno, EAGAIN);
	}
	spliced = stat_of(NC_NS_B, "rx_spliced");
	snd.fd = c;
	pid = nc_spawn(NULL, 120, nc_sender_main, &snd, NULL);
	assert_true(pid > 0);
	nc_hash_init(&h);
	for (;;) {
		n = splice(s, NULL, p[1], NULL, 1 << 16, 0);
		if (n < 0 && errno == EAGAIN && nonblock) {
			struct pollfd pf = { .fd = s, .events = POLLIN };

			assert_int_equal(poll(&pf, 1, 20000), 1);
			continue;
		}
		assert_true(n >= 0);
		if (!n)
			break;
		/* the pipe holds what splice() said it took */
		for (m = 0; m < n; m += r) {
			r = read(p[0], buf, n - m < (ssize_t)sizeof(buf) ?
				 (size_t)(n - m) : sizeof(buf));
			assert_true(r > 0);
			nc_hash_update(&h, buf, r);
		}
		got += n;
	}
	assert_int_equal(nc_child_wait(pid, 20000), 0);
	assert_int_equal(got, len);
	assert_true(nc_hash_final(&h) == nc_gen_hash(snd.seed, len));
	if (!nc_proto_tcp())
		assert_int_equal(stat_of(NC_NS_B, "rx_spliced") - spliced, len);
	/* after EOF, still EOF */
	assert_int_equal(splice(s, NULL, p[1], NULL, 4096, 0), 0);
	close(p[0]);
	close(p[1]);
	close(c);
	close(s);
}

static void test_splice_read(void **state)
{
	nc_watchdog(170);
	splice_read_check(1, false);
	splice_read_check(5000, false);
	splice_read_check(6 << 20, false);
}

static void test_splice_read_nonblocking(void **state)
{
	nc_watchdog(170);
	splice_read_check(3 << 20, true);
}

enum { VM_LEN = 2 << 20, VM_PIECE = 16384 };
static uint8_t vm_src[VM_LEN];

/*
 * Child: vmsplice() @vm_src into a pipe a piece at a time and splice() the
 * pipe into the socket @arg points to, then shut it down for writing.
 */
static int vmsplice_main(void *arg, int wfd)
{
	int fd = *(int *)arg, p[2];
	size_t off;
	ssize_t n, m;

	if (pipe(p))
		return 1;
	for (off = 0; off < VM_LEN; off += n) {
		struct iovec v = { vm_src + off, VM_PIECE };

		n = vmsplice(p[1], &v, 1, 0);
		if (n <= 0) {
			fprintf(stderr, "[vmsplice] %s\n", strerror(errno));
			return 1;
		}
		for (m = 0; m < n;) {
			ssize_t k = splice(p[0], NULL, fd, NULL, n - m, 0);

			if (k <= 0) {
				fprintf(stderr, "[splice] %s\n", strerror(errno));
				return 1;
			}
			m += k;
		}
	}
	return shutdown(fd, SHUT_WR) ? 1 : 0;
}

/*
 * vmsplice() user memory into a pipe, splice() the pipe into the socket;
 * the reader splices it out to a file through a pipe: byte-exact.
 */
static void test_vmsplice_to_socket(void **state)
{
	static uint8_t dst[VM_LEN];
	int c, s, q[2], out;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	nc_watchdog(120);
	nc_mkpair(&c, &s);
	nc_gen(0x5d, 0, vm_src, VM_LEN);
	assert_int_equal(pipe(q), 0);
	out = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	pid = nc_spawn(NULL, 100, vmsplice_main, &c, NULL);
	assert_true(pid > 0);
	for (;;) {
		n = splice(s, NULL, q[1], NULL, 1 << 16, 0);
		assert_true(n >= 0);
		if (!n)
			break;
		assert_int_equal(splice(q[0], NULL, out, NULL, n, 0), n);
		got += n;
	}
	assert_int_equal(nc_child_wait(pid, 20000), 0);
	assert_int_equal(got, VM_LEN);
	assert_int_equal(pread(out, dst, VM_LEN, 0), VM_LEN);
	assert_memory_equal(vm_src, dst, VM_LEN);
	close(out);
	close(q[0]);
	close(q[1]);
	close(c);
	close(s);
}

static int splice_cleanup(void **state)
{
	unlink(FILE_PATH);
	return nc_test_cleanup(state);
}

#define T(f) cmocka_unit_test_teardown(f, splice_cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sendfile_small),
		T(test_sendfile_large),
		T(test_sendfile_nonblocking),
		T(test_sendfile_truncated),
		T(test_splice_read),
		T(test_splice_read_nonblocking),
		T(test_vmsplice_to_socket),
	};

	return cmocka_run_group_tests_name("splice", tests, nc_group_setup,
					   nc_group_teardown);
}
