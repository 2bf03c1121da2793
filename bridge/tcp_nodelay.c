/** @file tcp_nodelay.c
 * Nagle's algorithm off on paho's connection to the broker.
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
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
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

static int peer_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len)) {
        return -1;
    }
    if (ss.ss_family == AF_INET) {
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    if (ss.ss_family == AF_INET6) {
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return -1;
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

int bridge_tcp_nodelay_to_port(int port)
{
    DIR *d = port > 0 ? opendir("/proc/self/fd") : NULL;
    int n = 0;
    if (!d) {
        return -1;
    }
    for (struct dirent *e; (e = readdir(d));) {
        char *stop;
        long fd = strtol(e->d_name, &stop, 10);
        if (*stop || stop == e->d_name || fd == dirfd(d) || fd < 0 || fd > 1 << 30) {
            continue;
        }
        n += nodelay_if_broker((int)fd, port);
    }
    closedir(d);
    return n;
}
