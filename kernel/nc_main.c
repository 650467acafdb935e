// SPDX-License-Identifier: GPL-2.0
/*
 * NetChannel: a disaggregated host network stack (VNS, NetScheduler,
 * NetDriver) with a NetScheduler programmable in BPF.
 *
 * Every network namespace is one NetChannel host with its own state (struct
 * nc_net), its own settings (net.netchannel.* sysctls) and its own
 * /proc/net/netchannel directory.
 */
#include <linux/module.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>

#include "netchannel.h"

#define CREATE_TRACE_POINTS
#include "nc_trace.h"

unsigned int nc_net_id __read_mostly;
struct workqueue_struct *nc_wq;

const char *const nc_stat_names[NC_STAT_MAX] = {
	[NC_STAT_CHANNELS_OPEN] = "channels_open",
	[NC_STAT_CHANNELS_ACCEPTED] = "channels_accepted",
	[NC_STAT_CHANNELS_RESET] = "channels_reset",
	[NC_STAT_PEERS_FAILED] = "peers_failed",
	[NC_STAT_CHANNELS_GROWN] = "channels_grown",
	[NC_STAT_CHANNELS_GROW_FAILED] = "channels_grow_failed",
	[NC_STAT_CHANNELS_GROW_VETOED] = "channels_grow_vetoed",
	[NC_STAT_CHANNELS_RETIRED] = "channels_retired",
	[NC_STAT_CHANNELS_RETIRE_VETOED] = "channels_retire_vetoed",
	[NC_STAT_FRAMES_TX] = "frames_tx",
	[NC_STAT_FRAMES_RX] = "frames_rx",
	[NC_STAT_BYTES_TX] = "bytes_tx",
	[NC_STAT_BYTES_RX] = "bytes_rx",
	[NC_STAT_OPENS_REFUSED] = "opens_refused",
	[NC_STAT_STALE_FRAMES] = "stale_frames",
	[NC_STAT_STALE_RESETS] = "stale_resets",
	[NC_STAT_VNS_JOBS] = "vns_jobs",
	[NC_STAT_VNS_BYTES] = "vns_bytes",
	[NC_STAT_VNS_INLINE] = "vns_inline",
	[NC_STAT_RX_THROTTLED] = "rx_throttled",
	[NC_STAT_RX_DEFERRED] = "rx_deferred",
	[NC_STAT_RX_NOMEM] = "rx_nomem",
	[NC_STAT_TX_LIMITED] = "tx_limited",
	[NC_STAT_ACKS_TX] = "acks_tx",
	[NC_STAT_RMEM_PRESSURE] = "rmem_pressure",
	[NC_STAT_RMEM_FORCED] = "rmem_forced",
	[NC_STAT_TX_SPLICED] = "tx_spliced",
	[NC_STAT_RX_SPLICED] = "rx_spliced",
	[NC_STAT_FALLBACK_NO_HOST] = "fallback_no_host",
	[NC_STAT_FALLBACK_NO_LISTENER] = "fallback_no_listener",
	[NC_STAT_FALLBACK_FAILED] = "fallback_failed",
	[NC_STAT_FALLBACK_ACCEPTED] = "fallback_accepted",
	[NC_STAT_FALLBACK_RULE] = "fallback_rule",
	[NC_STAT_ERR_BAD_MAGIC] = "err_bad_magic",
	[NC_STAT_ERR_BAD_VERSION] = "err_bad_version",
	[NC_STAT_ERR_BAD_TYPE] = "err_bad_type",
	[NC_STAT_ERR_BAD_FLAGS] = "err_bad_flags",
	[NC_STAT_ERR_BAD_RESERVED] = "err_bad_reserved",
	[NC_STAT_ERR_BAD_LEN] = "err_bad_len",
	[NC_STAT_ERR_BAD_ID] = "err_bad_id",
	[NC_STAT_ERR_BAD_ARG] = "err_bad_arg",
	[NC_STAT_ERR_UNKNOWN_SOCKET] = "err_unknown_socket",
	[NC_STAT_ERR_SEQ_WINDOW] = "err_seq_window",
	[NC_STAT_ERR_CREDIT] = "err_credit",
	[NC_STAT_ERR_ACK] = "err_ack",
	[NC_STAT_ERR_RETIRE] = "err_retire",
	[NC_STAT_ERR_RMEM] = "err_rmem",
	[NC_STAT_ERR_OPEN_FLOOD] = "err_open_flood",
	[NC_STAT_ERR_STATE] = "err_state",
	[NC_STAT_ERR_HELLO] = "err_hello",
};

u64 nc_stat_read(struct nc_net *nn, enum nc_stat s)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(nn->stats, cpu)->v[s]);
	return sum;
}

static int nc_proc_stats_show(struct seq_file *seq, void *v)
{
	struct nc_net *nn = nc_net(seq_file_single_net(seq));
	int i;

	seq_printf(seq, "sockets: %d\n", atomic_read(&nn->nr_socks));
	for (i = 0; i < NC_STAT_MAX; i++)
		seq_printf(seq, "%s: %llu\n", nc_stat_names[i],
			   nc_stat_read(nn, i));
	return 0;
}

/* ---- sysctl: net.netchannel.* -------------------------------------------- */

static int nc_port_min = 1, nc_port_max = 65535;
static int nc_chan_min = 1, nc_chan_max = NC_MAX_CHANNELS;
static int nc_frame_min = 1024, nc_frame_max = NC_FRAME_MAX_PAYLOAD;
static int nc_window_min = 16384, nc_window_max = 64 << 20;
static int nc_workers_min = 1, nc_workers_max = 256;
static int nc_thresh_min, nc_thresh_max = INT_MAX;
static int nc_queue_min = NC_FRAME_HDR_LEN;

/* net.netchannel.channels: @table's data is the struct nc_net */
static int nc_sysctl_channels(const struct ctl_table *table, int write,
			      void *buffer, size_t *lenp, loff_t *ppos)
{
	struct nc_net *nn = table->data;
	int val = READ_ONCE(nn->channels_max);
	struct ctl_table tmp = {
		.data = &val, .maxlen = sizeof(val),
		.extra1 = &nc_chan_min, .extra2 = &nc_chan_max,
	};
	int err = proc_dointvec_minmax(&tmp, write, buffer, lenp, ppos);

	if (!err && write) {
		WRITE_ONCE(nn->channels_min, val);
		WRITE_ONCE(nn->channels_max, val);
	}
	return err;
}

static const struct ctl_table nc_sysctl_template[] = {
	{
		/* takes effect for the listener started after the change */
		.procname	= "port",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= &nc_port_min,
		.extra2		= &nc_port_max,
	},
	{
		/* channels a new peer starts with */
		.procname	= "channels_min",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= &nc_chan_min,
		.extra2		= &nc_chan_max,
	},
	{
		/* the most it grows to while its channels are saturated */
		.procname	= "channels_max",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= &nc_chan_min,
		.extra2		= &nc_chan_max,
	},
	{
		/* a fixed count: writes both bounds, reads channels_max */
		.procname	= "channels",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= nc_sysctl_channels,
	},
	{
		/* largest DATA payload sent */
		.procname	= "frame_size",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= &nc_frame_min,
		.extra2		= &nc_frame_max,
	},
	{
		/* credit a socket grants unless SO_RCVBUF sets it */
		.procname	= "rcv_window",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= &nc_window_min,
		.extra2		= &nc_window_max,
	},
	{
		/* VNS copy workers one send or receive is spread over; 1: inline */
		.procname	= "vns_workers",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= &nc_workers_min,
		.extra2		= &nc_workers_max,
	},
	{
		/*
		 * a core takes pieces of a copy if idle this percentage of
		 * the time (decayed); 0: any core, idle or not
		 */
		.procname	= "vns_idle",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE_HUNDRED,
	},
	{
		/* sends and receives of at least this many bytes use them */
		.procname	= "copy_threshold",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= &nc_thresh_min,
		.extra2		= &nc_thresh_max,
	},
	{
		/* unsent bytes a channel's TCP socket may hold (new channels) */
		.procname	= "channel_queue",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= &nc_queue_min,
		.extra2		= &nc_thresh_max,
	},
	{
		/*
		 * an initiator retires a channel it added that carried no
		 * DATA this long (ms); 0: never
		 */
		.procname	= "channel_idle_ms",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= &nc_thresh_max,
	},
	{
		/*
		 * 1: a refused connect becomes TCP, listeners take TCP
		 * clients (listeners made after the change); 0: never
		 */
		.procname	= "fallback",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE,
	},
};

static int nc_sysctl_register(struct nc_net *nn)
{
	void *data[] = { &nn->port, &nn->channels_min, &nn->channels_max,
			 nn, &nn->frame_size, &nn->rcv_window,
			 &nn->vns_workers, &nn->vns_idle, &nn->copy_threshold,
			 &nn->channel_queue, &nn->channel_idle_ms,
			 &nn->fallback };
	struct ctl_table *table;
	int i;

	BUILD_BUG_ON(ARRAY_SIZE(data) != ARRAY_SIZE(nc_sysctl_template));
	table = kmemdup(nc_sysctl_template, sizeof(nc_sysctl_template),
			GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(nc_sysctl_template); i++)
		table[i].data = data[i];
	nn->sysctl = register_net_sysctl_sz(nn->net, "net/netchannel", table,
					    ARRAY_SIZE(nc_sysctl_template));
	if (!nn->sysctl) {
		kfree(table);
		return -ENOMEM;
	}
	return 0;
}

static void nc_sysctl_unregister(struct nc_net *nn)
{
	const struct ctl_table *table = nn->sysctl->ctl_table_arg;

	unregister_net_sysctl_table(nn->sysctl);
	kfree(table);
}

/* ---- per-namespace hosts ---------------------------------------------------- */

static int __net_init nc_net_init(struct net *net)
{
	struct nc_net *nn = nc_net(net);
	int err;

	nn->net = net;
	nn->port = 5050;
	nn->channels_min = 1;
	nn->channels_max = clamp_t(int, num_online_cpus(), 1, NC_MAX_CHANNELS);
	nn->frame_size = 16384;
	nn->rcv_window = 1 << 20;
	nn->vns_workers = num_online_cpus();
	nn->vns_idle = 50;
	nn->copy_threshold = 256 << 10;
	nn->channel_queue = 64 << 10;
	nn->fallback = 1;
	nn->channel_idle_ms = 1000;
	mutex_init(&nn->lock);
	INIT_LIST_HEAD(&nn->peers);
	INIT_LIST_HEAD(&nn->pending);
	xa_init_flags(&nn->ports, XA_FLAGS_ALLOC);
	xa_init_flags(&nn->socks, XA_FLAGS_ALLOC1);
	nn->id_next = 1;
	nn->port_next = NC_EPHEMERAL_LO +
		get_random_u32_below(NC_EPHEMERAL_HI - NC_EPHEMERAL_LO);
	nc_net_chan_init(nn);
	nn->stats = alloc_percpu(struct nc_stats);
	if (!nn->stats)
		return -ENOMEM;

	err = nc_sysctl_register(nn);
	if (err)
		goto err_stats;
	err = -ENOMEM;
	nn->proc_dir = proc_net_mkdir(net, "netchannel", net->proc_net);
	if (!nn->proc_dir)
		goto err_sysctl;
	if (!proc_create_net_single("policy", 0444, nn->proc_dir,
				    nc_sched_proc_show, NULL) ||
	    !proc_create_net_single("stats", 0444, nn->proc_dir,
				    nc_proc_stats_show, NULL) ||
	    !proc_create_net_single("channels", 0444, nn->proc_dir,
				    nc_proc_channels_show, NULL) ||
	    !proc_create_net_single("peers", 0444, nn->proc_dir,
				    nc_proc_peers_show, NULL) ||
	    !proc_create_net_single("sockets", 0444, nn->proc_dir,
				    nc_proc_socks_show, NULL))
		goto err_proc;
	return 0;

err_proc:
	remove_proc_subtree("netchannel", net->proc_net);
err_sysctl:
	nc_sysctl_unregister(nn);
err_stats:
	free_percpu(nn->stats);
	return err;
}

static void __net_exit nc_net_exit(struct net *net)
{
	struct nc_net *nn = nc_net(net);

	remove_proc_subtree("netchannel", net->proc_net);
	nc_net_stop(nn);
	nc_sysctl_unregister(nn);
	WARN_ON_ONCE(!xa_empty(&nn->socks));
	xa_destroy(&nn->socks);
	xa_destroy(&nn->ports);
	free_percpu(nn->stats);
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

	/*
	 * Channel work may block in TCP sendmsg: not WQ_MEM_RECLAIM-safe.
	 * Not WQ_HIGHPRI either: bulk channel work at nice -20 would run
	 * ahead of every app, a latency-sensitive one included; at normal
	 * priority the CPU scheduler's own priorities (nice, cgroup weights)
	 * still decide. What must not wait, a short message of a socket
	 * alone on its channels, is sent by the writer itself and received
	 * in softirq (nc_peer_push(), nc_chan_data_ready()).
	 */
	nc_wq = alloc_workqueue("netchannel", 0, 0);
	if (!nc_wq)
		return -ENOMEM;
	err = register_pernet_subsys(&nc_net_ops);
	if (err)
		goto err_wq;
	err = nc_sched_register();
	if (err)
		goto err_pernet;
	err = nc_chan_register();
	if (err)
		goto err_sched;
	err = nc_sock_register();
	if (err)
		goto err_chan;
	pr_info("netchannel: loaded (IPPROTO_NETCHANNEL %d)\n",
		IPPROTO_NETCHANNEL);
	return 0;

err_chan:
	nc_chan_unregister();
err_sched:
	nc_sched_unregister();
err_pernet:
	unregister_pernet_subsys(&nc_net_ops);
err_wq:
	destroy_workqueue(nc_wq);
	return err;
}

static void __exit nc_exit(void)
{
	nc_sock_unregister();
	nc_chan_unregister();
	nc_sched_unregister();
	unregister_pernet_subsys(&nc_net_ops);
	destroy_workqueue(nc_wq);
	pr_info("netchannel: unloaded\n");
}

module_init(nc_init);
module_exit(nc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("NetChannel: disaggregated host network stack with a BPF NetScheduler");
MODULE_AUTHOR("NetChannel developers");
