/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NetScheduler internals: what nc_sched.c (attaching and calling policies,
 * the ready sets) and nc_sched_bpf.c (the struct_ops type) share. The
 * other layers see the NetScheduler through netchannel.h only.
 */
#ifndef _NC_SCHED_H
#define _NC_SCHED_H

struct bpf_link;

/* struct bpf_struct_ops .reg, .unreg and .update; see nc_sched.c */
int nc_sched_attach(void *kdata, struct bpf_link *link);
void nc_sched_detach(void *kdata, struct bpf_link *link);
int nc_sched_replace(void *kdata, void *old_kdata, struct bpf_link *link);

#endif /* _NC_SCHED_H */
