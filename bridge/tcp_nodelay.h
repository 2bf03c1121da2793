/** @file tcp_nodelay.h
 * paho's connection to the broker among the process's sockets: Nagle's algorithm off on it,
 * and ended without a DISCONNECT (tcp_nodelay.c says why and how).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_TCP_NODELAY_H
#define BRIDGE_TCP_NODELAY_H

#include <sys/socket.h>

/* The TCP port of a broker URI (tcp://, mqtt://, ssl://, mqtts://, ws://, wss://): the one
 * written, else the scheme's default; 0 for an unknown scheme without a port. */
int bridge_mqtt_uri_port(const char *uri);

/* TCP_NODELAY on every TCP socket of this process connected to `port` that lacks it. Returns
 * how many were changed; -1 if `port` is not a port or the descriptors cannot be listed. */
int bridge_tcp_nodelay_to_port(int port);

/* A TCP connection known by both its ends: no other socket of the host has the same pair. */
struct bridge_broker_conn {
    int fd; /* -1: none */
    struct sockaddr_storage local, peer;
    socklen_t local_len, peer_len;
};

/* The one TCP socket of this process connected to `port` that `owned` (NULL: any) does not
 * deny (owned(fd) == 0: not paho's), in *out: 0. None, or several (which one is paho's cannot
 * be told): -1, and out->fd is -1. */
int bridge_broker_conn_find(int port, int (*owned)(int fd), struct bridge_broker_conn *out);

/* shutdown(2) of both directions of `c`, if its descriptor is still that connection: the peer
 * sees the connection end, though the descriptor stays open for its owner to close. 0, or -1
 * with errno (ENOTCONN: not found, or closed since). */
int bridge_broker_conn_shutdown(const struct bridge_broker_conn *c);

#endif
