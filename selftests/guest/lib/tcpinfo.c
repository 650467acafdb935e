// SPDX-License-Identifier: GPL-2.0
/*
 * TCP_INFO with the kernel's struct tcp_info (linux/tcp.h): glibc's
 * netinet/tcp.h, which the rest of the tests include, stops before the
 * byte counters. The two headers cannot meet in one file.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/tcp.h>

#include "../nc_tcpinfo.h"

int nc_tcp_info(int fd, struct nc_tcpi *out, unsigned int *len)
{
	struct tcp_info i;
	socklen_t n = sizeof(i);

	memset(&i, 0, sizeof(i));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &i, &n))
		return -errno;
	*len = n;
	out->state = i.tcpi_state;
	out->rtt_us = i.tcpi_rtt;
	out->snd_mss = i.tcpi_snd_mss;
	out->total_retrans = i.tcpi_total_retrans;
	out->bytes_sent = i.tcpi_bytes_sent;
	out->bytes_acked = i.tcpi_bytes_acked;
	out->bytes_received = i.tcpi_bytes_received;
	return 0;
}
