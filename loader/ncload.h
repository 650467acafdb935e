/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ncload's command files share: ncload.c (policies) and enable.c
 * (ncload enable/disable, the cgroups whose sockets are NetChannel's).
 */
#ifndef NCLOAD_H
#define NCLOAD_H

#include <linux/types.h>
#include <stdio.h>

#define PIN_DIR		"/sys/fs/bpf/netchannel"
#define CGROUP_ROOT	"/sys/fs/cgroup"

extern int verbose;

/* "ncload: " + the message on stderr; returns 1 (the exit status) */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 0 if netchannel.ko is loaded, else fail()s */
int module_check(void);
/* the cgroup v2 id of directory @path, as sockets of its tasks carry it */
int cgroup_id_of(const char *path, __u64 *id);
/* the path of cgroup @id under CGROUP_ROOT, or "?" */
const char *cgroup_path_of(__u64 id);

int cmd_enable(int argc, char **argv);
int cmd_disable(const char *cgroup);
/* the enabled cgroups, for status */
void enable_status(FILE *f);

#endif
