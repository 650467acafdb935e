/* SPDX-License-Identifier: GPL-2.0 */
/* What the tests read of TCP_INFO (lib/tcpinfo.c). */
#ifndef _NC_TCPINFO_H
#define _NC_TCPINFO_H

#include <stdint.h>

struct nc_tcpi {
	uint8_t state;
	uint32_t rtt_us, snd_mss, total_retrans;
	uint64_t bytes_sent, bytes_acked, bytes_received;
};

/* getsockopt(TCP_INFO) of @fd; *@len: the length the kernel returned. */
int nc_tcp_info(int fd, struct nc_tcpi *out, unsigned int *len);

#endif
