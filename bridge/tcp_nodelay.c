/** @file tcp_nodelay.c
 * paho's connection to the broker, found among the process's sockets: Nagle's algorithm off
 * on it, and ended without paho's DISCONNECT at a stop (bridge_broker_conn_*, below).
 *
 * paho.mqtt.c (1.3.11 as Debian 12 ships it) leaves Nagle's algorithm on for its socket, has no
 * option to turn it off and does not hand the socket out. With Nagle on, a small PUBLISH that
 * follows another waits until the broker acknowledges the first at the TCP level; at QoS 0 the
 * broker has nothing to send back, so its kernel delays that ACK (up to 40 ms on Linux). The
 * bridge measured a p99 of 43 ms from the simulator to a subscriber at only 250 events/s
 * (docs/PERFORMANCE.md). So once paho is connected, every TCP socket of this process whose peer
 * port is the broker's gets TCP_NODELAY. Another socket with that peer port can only be one of
 * libcurl's or libwebsockets', which set TCP_NODELAY themselves: setting it again changes
 * nothing. A socket closed and its number reused meanwhile is harmless for the same reason.
 *
 * Ending the connection is another matter: there the socket must be paho's and no other. It is
 * found once the connection is up, as the one TCP socket connected to the broker's port that
 * paho itself polls (bridge/paho_socket.c; with paho's shared library, which cannot tell, the
 * one connected to that port at all: several, and it is not found), and known from then on by
 * both its ends, addresses and ports: no other socket of the host has the same pair, so a
 * number reused meanwhile is never mistaken for it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcp_nodelay.h"

int bridge_mqtt_uri_port(const char *uri)
{
    static const struct {
        const char *scheme;
        int port;
    } dflt[] = { { "tcp://", 1883 },   { "mqtt://", 1883 }, { "ssl://", 8883 },
                 { "mqtts://", 8883 }, { "ws://", 80 },     { "wss://", 443 } };
    const char *host = strstr(uri, "://");
    int port = 0;
    for (size_t i = 0; i < sizeof dflt / sizeof dflt[0]; i++) {
        if (!strncmp(uri, dflt[i].scheme, strlen(dflt[i].scheme))) {
            port = dflt[i].port;
        }
    }
    if (!host) {
        return port;
    }
    host += 3;
    size_t len = strcspn(host, "/?#");
    const char *end = host + len, *colon = NULL;
    const char *p = host[0] == '[' ? memchr(host, ']', len) : host; /* [v6]:port */
    for (; p && p < end; p++) {
        if (*p == ':') {
            colon = p;
        }
    }
    if (colon && colon + 1 < end) {
        char *stop;
        long v = strtol(colon + 1, &stop, 10);
        port = stop == end && v > 0 && v < 65536 ? (int)v : port;
    }
    return port;
}

static int port_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    }
    if (ss->ss_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    }
    return -1;
}

static int peer_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    return getpeername(fd, (struct sockaddr *)&ss, &len) ? -1 : port_of(&ss);
}

/* TCP_NODELAY on `fd` if it is a TCP socket connected to `port` without it: 1 if set. */
static int nodelay_if_broker(int fd, int port)
{
    int type = 0, on = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM ||
        peer_port(fd) != port) {
        return 0;
    }
    len = sizeof on;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) || on) {
        return 0; /* not TCP (a Unix socket has no TCP level), or set already */
    }
    on = 1;
    return !setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

/* The next descriptor listed in /proc/self/fd, -1 at the end */
static int next_fd(DIR *d)
{
    for (struct dirent *e; (e = readdir(d));) {
        char *stop;
        long fd = strtol(e->d_name, &stop, 10);
        if (!*stop && stop != e->d_name && fd != dirfd(d) && fd >= 0 && fd <= 1 << 30) {
            return (int)fd;
        }
    }
    return -1;
}

int bridge_tcp_nodelay_to_port(int port)
{
    DIR *d = port > 0 ? opendir("/proc/self/fd") : NULL;
    int n = 0;
    if (!d) {
        return -1;
    }
    for (int fd; (fd = next_fd(d)) >= 0;) {
        n += nodelay_if_broker(fd, port);
    }
    closedir(d);
    return n;
}

/* Both ends of `fd` if it is a TCP socket connected (lengths 0: not one) */
static void ends_of(int fd, struct bridge_broker_conn *c)
{
    int proto = 0;
    socklen_t len = sizeof proto;
    c->fd = fd;
    c->local_len = sizeof c->local;
    c->peer_len = sizeof c->peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) || proto != IPPROTO_TCP ||
        getsockname(fd, (struct sockaddr *)&c->local, &c->local_len) ||
        getpeername(fd, (struct sockaddr *)&c->peer, &c->peer_len)) {
        c->local_len = c->peer_len = 0;
    }
}

int bridge_broker_conn_find(int port, int (*owned)(int fd), struct bridge_broker_conn *out)
{
    DIR *d = port > 0 ? opendir("/proc/self/fd") : NULL;
    struct bridge_broker_conn c;
    int found = 0;
    out->fd = -1;
    if (!d) {
        return -1;
    }
    for (int fd; (fd = next_fd(d)) >= 0;) {
        ends_of(fd, &c);
        if (c.peer_len && port_of(&c.peer) == port && (!owned || owned(fd) != 0)) {
            *out = c;
            found++;
        }
    }
    closedir(d);
    if (found != 1) { /* several: which one is paho's cannot be told */
        out->fd = -1;
    }
    return out->fd >= 0 ? 0 : -1;
}

int bridge_broker_conn_shutdown(const struct bridge_broker_conn *c)
{
    struct bridge_broker_conn now;
    if (c->fd < 0) {
        errno = ENOTCONN;
        return -1;
    }
    ends_of(c->fd, &now);
    if (!now.peer_len || now.local_len != c->local_len || now.peer_len != c->peer_len ||
        memcmp(&now.local, &c->local, c->local_len) || memcmp(&now.peer, &c->peer, c->peer_len)) {
        errno = ENOTCONN; /* closed since, its number perhaps another socket's now */
        return -1;
    }
    return shutdown(c->fd, SHUT_RDWR);
}
