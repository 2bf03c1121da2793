/** @file tcp_nodelay.h
 * Nagle's algorithm off on paho's connection to the broker (tcp_nodelay.c says why).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_TCP_NODELAY_H
#define BRIDGE_TCP_NODELAY_H

/* The TCP port of a broker URI (tcp://, mqtt://, ssl://, mqtts://, ws://, wss://): the one
 * written, else the scheme's default; 0 for an unknown scheme without a port. */
int bridge_mqtt_uri_port(const char *uri);

/* TCP_NODELAY on every TCP socket of this process connected to `port` that lacks it. Returns
 * how many were changed; -1 if `port` is not a port or the descriptors cannot be listed. */
int bridge_tcp_nodelay_to_port(int port);

#endif
