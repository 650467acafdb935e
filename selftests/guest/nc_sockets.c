// SPDX-License-Identifier: GPL-2.0
/* nc_sockets N: open N NetChannel sockets, then close them (for the demo). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "uapi/netchannel.h"

int main(int argc, char **argv)
{
	int n, i, fds[256];

	if (argc != 2 || (n = atoi(argv[1])) < 1 || n > 256) {
		fprintf(stderr, "usage: nc_sockets N   (1 <= N <= 256)\n"
			"Open N NetChannel sockets, then close them.\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, IPPROTO_NETCHANNEL);
		if (fds[i] < 0) {
			fprintf(stderr, "nc_sockets: socket: %s\n", strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	printf("opened and closed %d NetChannel sockets\n", n);
	return 0;
}
