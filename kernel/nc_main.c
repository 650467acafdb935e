// SPDX-License-Identifier: GPL-2.0
/*
 * NetChannel: a disaggregated host network stack (VNS, NetScheduler,
 * NetDriver) with a NetScheduler programmable in BPF.
 *
 * Every network namespace is one NetChannel host with its own state (struct
 * nc_net) and its own /proc/net/netchannel directory.
 */
#include <linux/module.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "netchannel.h"

unsigned int nc_net_id __read_mostly;

static int nc_proc_socks_show(struct seq_file *seq, void *v)
{
	struct nc_net *nn = nc_net(seq_file_net(seq));

	seq_printf(seq, "sockets: %d\n", atomic_read(&nn->nr_socks));
	return 0;
}

static int __net_init nc_net_init(struct net *net)
{
	struct nc_net *nn = nc_net(net);

	atomic_set(&nn->nr_socks, 0);
	nn->proc_dir = proc_net_mkdir(net, "netchannel", net->proc_net);
	if (!nn->proc_dir)
		return -ENOMEM;
	if (!proc_create_net_single("policy", 0444, nn->proc_dir,
				    nc_sched_proc_show, NULL) ||
	    !proc_create_net_single("sockets", 0444, nn->proc_dir,
				    nc_proc_socks_show, NULL)) {
		remove_proc_subtree("netchannel", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

static void __net_exit nc_net_exit(struct net *net)
{
	remove_proc_subtree("netchannel", net->proc_net);
}

static struct pernet_operations nc_net_ops = {
	.init = nc_net_init,
	.exit = nc_net_exit,
	.id = &nc_net_id,
	.size = sizeof(struct nc_net),
};

static int __init nc_init(void)
{
	int err;

	err = register_pernet_subsys(&nc_net_ops);
	if (err)
		return err;
	err = nc_sched_register();
	if (err)
		goto err_pernet;
	err = nc_sock_register();
	if (err)
		goto err_sched;
	pr_info("netchannel: loaded (IPPROTO_NETCHANNEL %d)\n",
		IPPROTO_NETCHANNEL);
	return 0;

err_sched:
	nc_sched_unregister();
err_pernet:
	unregister_pernet_subsys(&nc_net_ops);
	return err;
}

static void __exit nc_exit(void)
{
	nc_sock_unregister();
	nc_sched_unregister();
	unregister_pernet_subsys(&nc_net_ops);
	pr_info("netchannel: unloaded\n");
}

module_init(nc_init);
module_exit(nc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("NetChannel: disaggregated host network stack with a BPF NetScheduler");
MODULE_AUTHOR("NetChannel developers");
