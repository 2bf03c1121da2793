/** @file test_tcp_nodelay.c
 * Nagle's algorithm off on the broker connection (bridge/tcp_nodelay.c): the broker's port from
 * every URI form, and TCP_NODELAY set on exactly the process's TCP sockets connected to that
 * port, on real loopback sockets; and the connection found only when it is the one (or the one
 * paho owns), and shut down only while its descriptor is still that connection.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "tcp_nodelay.h"

static void test_uri_port(void)
{
    CHECK_EQ(bridge_mqtt_uri_port("tcp://127.0.0.1:1884"), 1884);
    CHECK_EQ(bridge_mqtt_uri_port("tcp://broker"), 1883);
    CHECK_EQ(bridge_mqtt_uri_port("mqtt://broker"), 1883);
    CHECK_EQ(bridge_mqtt_uri_port("ssl://broker"), 8883);
    CHECK_EQ(bridge_mqtt_uri_port("mqtts://broker:9000"), 9000);
    CHECK_EQ(bridge_mqtt_uri_port("ws://broker/mqtt"), 80);
    CHECK_EQ(bridge_mqtt_uri_port("wss://broker:8443/mqtt"), 8443);
    CHECK_EQ(bridge_mqtt_uri_port("ws://[::1]:9001/mqtt"), 9001);
    CHECK_EQ(bridge_mqtt_uri_port("tcp://[::1]"),
             1883); /* the colons of the address are not a port */
    CHECK_EQ(bridge_mqtt_uri_port("ws://broker:99999/mqtt"), 80); /* not a port: the default */
    CHECK_EQ(bridge_mqtt_uri_port("unix:///run/mosquitto.sock"), 0);
}

/* a listener on a free loopback port: its fd, its port in *port */
static int listener(int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int connected_to(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    return fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof a) ? fd : -1;
}

static int nodelay(int fd)
{
    int on = -1;
    socklen_t len = sizeof on;
    return getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) ? -1 : on;
}

static void test_nodelay(void)
{
    int broker_port, other_port;
    int broker = listener(&broker_port), other = listener(&other_port);
    CHECK(broker >= 0 && other >= 0);
    int to_broker = connected_to(broker_port), to_other = connected_to(other_port);
    CHECK(to_broker >= 0 && to_other >= 0);
    int accepted = accept(broker, NULL, NULL); /* its peer port is the client's, not the broker's */
    CHECK(accepted >= 0);
    CHECK_EQ(nodelay(to_broker), 0); /* Nagle on, as paho leaves it */
    CHECK_EQ(bridge_tcp_nodelay_to_port(broker_port), 1);
    CHECK(nodelay(to_broker) > 0);
    CHECK_EQ(nodelay(to_other), 0);
    CHECK_EQ(nodelay(accepted), 0);
    CHECK_EQ(bridge_tcp_nodelay_to_port(broker_port), 0); /* set already */
    CHECK_EQ(bridge_tcp_nodelay_to_port(0), -1);
    close(accepted);
    close(to_broker);
    close(to_other);
    close(broker);
    close(other);
}

static int paho_fd = -1;

/* paho_socket_owned() as the static build answers it: paho's one socket */
static int owned(int fd)
{
    return fd == paho_fd;
}

static int cannot_tell(int fd)
{
    (void)fd;
    return -1;
}

/* 1 when the peer of `fd` sees the connection's end (no data first) */
static int peer_sees_end(int fd)
{
    char c;
    return recv(fd, &c, 1, 0) == 0;
}

static void test_broker_conn(void)
{
    int broker_port, other_port;
    int broker = listener(&broker_port), other = listener(&other_port);
    struct bridge_broker_conn c;
    CHECK(broker >= 0 && other >= 0);
    int to_broker = connected_to(broker_port), to_other = connected_to(other_port);
    int accepted = accept(broker, NULL, NULL), accepted_other = accept(other, NULL, NULL);
    CHECK(to_broker >= 0 && to_other >= 0 && accepted >= 0 && accepted_other >= 0);
    CHECK_EQ(bridge_broker_conn_find(0, NULL, &c), -1);
    CHECK_EQ(bridge_broker_conn_find(broker_port, NULL, &c), 0);
    CHECK_EQ(c.fd, to_broker); /* not the accepted end, whose peer port is the client's */

    /* a second connection to the same port: which one is paho's cannot be told by the port */
    int twin = connected_to(broker_port), twin_accepted = accept(broker, NULL, NULL);
    CHECK(twin >= 0 && twin_accepted >= 0);
    CHECK_EQ(bridge_broker_conn_find(broker_port, NULL, &c), -1);
    CHECK_EQ(c.fd, -1);
    CHECK_EQ(bridge_broker_conn_find(broker_port, cannot_tell, &c), -1);
    paho_fd = twin;
    CHECK_EQ(bridge_broker_conn_find(broker_port, owned, &c), 0);
    CHECK_EQ(c.fd, twin);

    /* the found connection closed and its number taken by another socket: left alone */
    struct bridge_broker_conn found = c;
    CHECK_EQ(close(twin), 0);
    CHECK_EQ(dup2(to_other, twin), twin);
    errno = 0;
    CHECK_EQ(bridge_broker_conn_shutdown(&found), -1);
    CHECK_EQ(errno, ENOTCONN);
    CHECK_EQ(send(twin, "x", 1, MSG_NOSIGNAL), 1); /* still open both ways */
    char got = 0;
    CHECK_EQ(recv(accepted_other, &got, 1, 0), 1);
    CHECK_EQ(got, 'x');
    close(twin);

    /* the one connection: shut down, its peer sees the end, the descriptor stays open */
    CHECK_EQ(bridge_broker_conn_find(broker_port, NULL, &c), 0);
    CHECK_EQ(c.fd, to_broker);
    CHECK_EQ(bridge_broker_conn_shutdown(&c), 0);
    CHECK(peer_sees_end(accepted));
    CHECK(fcntl(to_broker, F_GETFD) >= 0);
    struct bridge_broker_conn none = { .fd = -1 };
    CHECK_EQ(bridge_broker_conn_shutdown(&none), -1);
    int fds[] = { accepted, accepted_other, twin_accepted, to_broker, to_other, broker, other };
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        close(fds[i]);
    }
}

int main(void)
{
    test_uri_port();
    test_nodelay();
    test_broker_conn();
    return h_finish();
}
