// SPDX-License-Identifier: GPL-2.0
/*
 * NetScheduler: the BPF struct_ops type "netsched_ops". What the verifier
 * lets a policy read and write, how the members user space loads are
 * checked and copied, and the CFI stubs. Attaching and calling a policy is
 * nc_sched.c.
 */
#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/ctype.h>
#include <linux/module.h>

#include "netchannel.h"
#include "nc_sched.h"

static int nc_bpf_validate(void *kdata)
{
	struct netsched_ops *ops = kdata;

	if (ops->channels_min && ops->channels_max &&
	    ops->channels_max < ops->channels_min)
		return -EINVAL;
	return ops->name[0] ? 0 : -EINVAL;
}

static int nc_bpf_init_member(const struct btf_type *t,
			      const struct btf_member *member,
			      void *kdata, const void *udata)
{
	const struct netsched_ops *uops = udata;
	struct netsched_ops *ops = kdata;
	u32 moff = __btf_member_bit_offset(t, member) / 8;
	size_t i;

	switch (moff) {
	case offsetof(struct netsched_ops, flags):
		if (uops->flags)
			return -EINVAL;
		ops->flags = 0;
		return 1;
	case offsetof(struct netsched_ops, timeout_ms):
		if (uops->timeout_ms > NETSCHED_TIMEOUT_MAX_MS)
			return -E2BIG;
		ops->timeout_ms = uops->timeout_ms ?: NETSCHED_TIMEOUT_DFL_MS;
		return 1;
	case offsetof(struct netsched_ops, channels_min):
	case offsetof(struct netsched_ops, channels_max):
		if (*(const u32 *)(udata + moff) > NC_MAX_CHANNELS)
			return -E2BIG;
		*(u32 *)(kdata + moff) = *(const u32 *)(udata + moff);
		return 1;
	case offsetof(struct netsched_ops, name):
		/* printable, NUL-terminated, not empty */
		for (i = 0; i < sizeof(uops->name) && uops->name[i]; i++)
			if (!isgraph(uops->name[i]) && uops->name[i] != ' ')
				return -EINVAL;
		if (i == 0 || i == sizeof(uops->name))
			return -EINVAL;
		memcpy(ops->name, uops->name, sizeof(ops->name));
		return 1;
	}
	return 0;
}

static int nc_bpf_check_member(const struct btf_type *t,
			       const struct btf_member *member,
			       const struct bpf_prog *prog)
{
	/* Every callback runs under RCU or a spinlock. */
	return prog->sleepable ? -EINVAL : 0;
}

static int nc_bpf_init(struct btf *btf)
{
	return 0;
}

BTF_ID_LIST(nc_netsched_ids)
BTF_ID(struct, netsched_sock)
BTF_ID(struct, netsched_tx)

static bool nc_bpf_is_valid_access(int off, int size, enum bpf_access_type type,
				   const struct bpf_prog *prog,
				   struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

/*
 * A policy may write only the fields of netsched_sock meant for it;
 * netsched_tx, netsched_peer and netsched_exit_info are read-only.
 */
static int nc_bpf_btf_struct_access(struct bpf_verifier_log *log,
				    const struct bpf_reg_state *reg,
				    int off, int size)
{
	const size_t lo = offsetof(struct netsched_sock, class);
	const size_t hi = offsetofend(struct netsched_sock, policy_data);

	if (reg->btf_id == nc_netsched_ids[0] &&
	    off >= lo && off + size <= hi)
		return SCALAR_VALUE;
	return -EACCES;
}

static const struct bpf_verifier_ops nc_bpf_verifier_ops = {
	.get_func_proto = bpf_base_func_proto,
	.is_valid_access = nc_bpf_is_valid_access,
	.btf_struct_access = nc_bpf_btf_struct_access,
};

/* CFI stubs: the prototypes BPF programs are checked against. */
static s32 nc_stub_init(void) { return 0; }
static void nc_stub_exit(struct netsched_exit_info *info) {}
static s32 nc_stub_sock_init(struct netsched_sock *sk) { return 0; }
static void nc_stub_sock_release(struct netsched_sock *sk) {}
static u64 nc_stub_enqueue(struct netsched_sock *sk, struct netsched_tx *tx) { return 0; }
static void nc_stub_sock_connected(struct netsched_sock *sk) {}
static u64 nc_stub_select_channels(struct netsched_sock *sk, u32 nr) { return 0; }
static s32 nc_stub_select_cpu(u32 kind, u32 index) { return -1; }
static s32 nc_stub_channels_grow(const struct netsched_peer *peer) { return 0; }
static s32 nc_stub_channels_retire(const struct netsched_peer *peer, u32 index) { return 0; }

static struct netsched_ops nc_bpf_cfi_stubs = {
	.init = nc_stub_init,
	.exit = nc_stub_exit,
	.sock_init = nc_stub_sock_init,
	.sock_release = nc_stub_sock_release,
	.enqueue = nc_stub_enqueue,
	.sock_connected = nc_stub_sock_connected,
	.select_channels = nc_stub_select_channels,
	.select_cpu = nc_stub_select_cpu,
	.channels_grow = nc_stub_channels_grow,
	.channels_retire = nc_stub_channels_retire,
};

static struct bpf_struct_ops nc_bpf_struct_ops = {
	.verifier_ops = &nc_bpf_verifier_ops,
	.init = nc_bpf_init,
	.check_member = nc_bpf_check_member,
	.init_member = nc_bpf_init_member,
	.reg = nc_sched_attach,
	.unreg = nc_sched_detach,
	.update = nc_sched_replace,
	.validate = nc_bpf_validate,
	.cfi_stubs = &nc_bpf_cfi_stubs,
	.name = "netsched_ops",
	.owner = THIS_MODULE,
};

int nc_sched_register(void)
{
	return register_bpf_struct_ops(&nc_bpf_struct_ops, netsched_ops);
}
