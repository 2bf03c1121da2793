/** @file paho_socket.h
 * paho.mqtt.c's socket reads, batched (bridge/paho_socket.c says why and how).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_PAHO_SOCKET_H
#define BRIDGE_PAHO_SOCKET_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

/* How long paho's receive thread waits before it looks at the socket again while
 * acknowledgements are due (paho_socket_due): long enough for a burst's PUBACKs to gather,
 * short next to what a message takes end to end (docs/PERFORMANCE.md, "paho's reads, batched") */
#define PAHO_HOLD_US 300
/* ... and how many must be due: with fewer the wait would cost a wakeup more than it saves */
#define PAHO_HOLD_MIN 4

/* Bytes read from the kernel at once per socket: a few thousand PUBACKs */
#define PAHO_READ_AHEAD 16384

/** The client's messages awaiting acknowledgement, after each change: while at least
 *  PAHO_HOLD_MIN are, the receive thread waits PAHO_HOLD_US before each look at the socket.
 *  Even with the window full the wait pays: the acknowledgements then free the window a batch
 *  at a time, and paho's send thread sends a batch per wakeup. Any thread. */
void paho_socket_due(size_t in_flight);

/** The current wait in µs (0: none), for the tests. */
unsigned paho_socket_hold_us(void);

/** Whether `fd` is one of paho's sockets: 1 paho polled it and has not closed it, 0 not (or
 *  not yet polled), -1 cannot tell (paho's calls do not come here: PAHO_LINK=shared; or more
 *  sockets than can be noted, and `fd` is none of those noted). Any thread. */
int paho_socket_owned(int fd);

/* The reason code of the DISCONNECT the broker sent on fd that paho had not read when it closed
 * fd, as the broker's last bytes; -1 when there was none (or fd is not the socket paho closed
 * last). Told once. */
int paho_socket_last_word(int fd);

/* The reason code of the MQTT 5 DISCONNECT that ends the n bytes at p, read packet by packet
 * from the first; -1 when they end otherwise. For paho_socket_last_word, and its test. */
int paho_socket_final_disconnect(const unsigned char *p, size_t n);

/* paho's own calls of recv, poll and close, renamed to these in the static archive the daemon
 * links (bridge/daemon.mk); exported for the tests */
ssize_t paho_sock_recv(int fd, void *buf, size_t len, int flags);
int paho_sock_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
int paho_sock_close(int fd);

#endif
