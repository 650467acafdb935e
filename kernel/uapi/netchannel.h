/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * NetChannel user API.
 *
 * A NetChannel socket is an ordinary IPv4 stream socket opened with
 *	socket(AF_INET, SOCK_STREAM, IPPROTO_NETCHANNEL);
 * 253 is one of the two protocol numbers RFC 3692 reserves for
 * experimentation, so it cannot collide with a real IP protocol.
 */
#ifndef _UAPI_NETCHANNEL_H
#define _UAPI_NETCHANNEL_H

#define IPPROTO_NETCHANNEL	253

#endif /* _UAPI_NETCHANNEL_H */
