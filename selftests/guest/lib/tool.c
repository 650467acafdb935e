// SPDX-License-Identifier: GPL-2.0
/*
 * Test library: what the standalone checkers (nc_fuzz_live, nc_stress)
 * share: their option parsing, logging from threads, "ok"/"FAIL" checks
 * and the module's reference count (see nc_net.h).
 */
#include "nc_lib.h"
#include <getopt.h>
#include <pthread.h>

#define NC_OPTS_MAX 32

int nc_opts_parse(int argc, char **argv, const struct nc_opt *opts,
		  void (*usage)(FILE *f))
{
	struct option lo[NC_OPTS_MAX + 2];
	char short_opts[2 * NC_OPTS_MAX + 2];
	const struct nc_opt *o;
	size_t k = 0;
	int n, c;

	for (n = 0; opts[n].name; n++) {
		if (n == NC_OPTS_MAX) {
			fprintf(stderr, "nc_opts_parse: more than %d options\n", NC_OPTS_MAX);
			return 2;
		}
		lo[n] = (struct option){ opts[n].name,
			opts[n].type == NC_OPT_FLAG ? no_argument : required_argument,
			NULL, opts[n].key };
		short_opts[k++] = (char)opts[n].key;
		if (opts[n].type != NC_OPT_FLAG)
			short_opts[k++] = ':';
	}
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n] = (struct option){ 0 };
	short_opts[k++] = 'h';
	short_opts[k] = '\0';

	while ((c = getopt_long(argc, argv, short_opts, lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		for (o = opts; o->name && o->key != c; o++)
			;
		if (!o->name) {
			usage(stderr);	/* getopt said what is wrong */
			return 2;
		}
		if (o->type == NC_OPT_FLAG)
			*(bool *)o->val = true;
		else if (o->type == NC_OPT_INT)
			*(int *)o->val = atoi(optarg);
		else if (o->type == NC_OPT_U64)
			*(uint64_t *)o->val = strtoull(optarg, NULL, 0);
		else
			*(double *)o->val = atof(optarg);
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

static pthread_mutex_t nc_log_mutex = PTHREAD_MUTEX_INITIALIZER;

void nc_log_lock(void)
{
	pthread_mutex_lock(&nc_log_mutex);
}

void nc_log_unlock(void)
{
	pthread_mutex_unlock(&nc_log_mutex);
}

void nc_logf(const char *fmt, ...)
{
	va_list ap;

	nc_log_lock();
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	nc_log_unlock();
}

static int nc_passed, nc_failed;

void nc_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		nc_passed++;
	else
		nc_failed++;
}

int nc_checks_report(void)
{
	printf("%d passed, %d failed\n", nc_passed, nc_failed);
	return nc_failed ? 1 : 0;
}

long nc_module_refcnt(void)
{
	char buf[32];
	long v = -1;
	int fd = open("/sys/module/netchannel/refcnt", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		v = strtol(buf, NULL, 10);
	}
	close(fd);
	return v;
}

long nc_check_module_loaded(void)
{
	long v = nc_module_refcnt();

	if (v < 0) {
		printf("# netchannel.ko is not loaded (insmod /nc/netchannel.ko first)\n");
		nc_check(false, "setup");
	}
	return v;
}

double nc_module_refcnt_wait(long max, int timeout_ms)
{
	int i;

	for (i = 0; i < timeout_ms / 100 && nc_module_refcnt() > max; i++)
		nc_sleep_ms(100);
	return i / 10.0;
}
