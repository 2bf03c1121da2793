/** @file test_paho_socket.c
 * paho's socket reads, batched (bridge/paho_socket.c), on real socket pairs: one recv drains
 * the kernel, paho's small reads come from the buffer in order, poll answers from it, end of
 * stream and errors only once it is empty, a closed socket's buffer is forgotten, the wait
 * for PUBACKs follows how many are due, the sockets paho polls are known as paho's until
 * it closes them, and the broker's DISCONNECT that paho left unread is found at its close.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "paho_socket.h"

/* a non-blocking pair, as paho's socket is: [0] is paho's end */
static int pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
        return -1;
    }
    return fcntl(sv[0], F_SETFL, O_NONBLOCK);
}

/* bytes the kernel still holds for fd, without taking them */
static ssize_t in_kernel(int fd)
{
    char b[64];
    return recv(fd, b, sizeof b, MSG_PEEK | MSG_DONTWAIT);
}

static void test_order_and_one_read(void)
{
    int sv[2];
    unsigned char out[3000], got[3000];
    CHECK_EQ(pair(sv), 0);
    for (size_t i = 0; i < sizeof out; i++) {
        out[i] = (unsigned char)(i * 7 + i / 251);
    }
    CHECK_EQ(write(sv[1], out, sizeof out), (ssize_t)sizeof out);
    size_t n = 0, step = 1;
    CHECK_EQ(paho_sock_recv(sv[0], got, 1, 0), 1);
    n = 1;
    CHECK(in_kernel(sv[0]) < 0); /* the first read took everything the kernel had */
    CHECK_EQ(errno, EAGAIN);
    while (n < sizeof got) { /* paho's reads: a byte, two, three ... */
        size_t want = step < sizeof got - n ? step : sizeof got - n;
        ssize_t r = paho_sock_recv(sv[0], got + n, want, 0);
        CHECK_EQ(r, (ssize_t)want);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
        step = step % 9 + 1;
    }
    CHECK(!memcmp(out, got, sizeof out));
    errno = 0;
    CHECK_EQ(paho_sock_recv(sv[0], got, 4, 0), -1); /* nothing left: the kernel's EAGAIN */
    CHECK_EQ(errno, EAGAIN);
    paho_sock_close(sv[0]);
    close(sv[1]);
}

static void test_poll_from_buffer(void)
{
    int sv[2];
    char c;
    CHECK_EQ(pair(sv), 0);
    CHECK_EQ(write(sv[1], "abc", 3), 3);
    CHECK_EQ(paho_sock_recv(sv[0], &c, 1, 0), 1);
    struct pollfd rd = { .fd = sv[0], .events = POLLIN };
    CHECK_EQ(poll(&rd, 1, 0), 0); /* the kernel has nothing ... */
    rd.revents = 0;
    CHECK_EQ(paho_sock_poll(&rd, 1, 1000), 1); /* ... but "bc" are waiting, at once */
    CHECK_EQ(rd.revents, POLLIN);
    struct pollfd wr = { .fd = sv[0], .events = POLLOUT };
    CHECK_EQ(paho_sock_poll(&wr, 1, 0), 1);
    CHECK_EQ(wr.revents, POLLOUT);
    char two[2];
    CHECK_EQ(paho_sock_recv(sv[0], two, 2, 0), 2);
    CHECK(!memcmp(two, "bc", 2));
    rd.revents = 0;
    CHECK_EQ(paho_sock_poll(&rd, 1, 0), 0); /* empty again: the kernel answers */
    /* a read asked with two sockets, one holding bytes: that one is ready */
    int sv2[2];
    CHECK_EQ(pair(sv2), 0);
    CHECK_EQ(write(sv2[1], "xy", 2), 2);
    CHECK_EQ(paho_sock_recv(sv2[0], &c, 1, 0), 1);
    struct pollfd two_fds[2] = { { .fd = sv[0], .events = POLLIN },
                                 { .fd = sv2[0], .events = POLLIN } };
    CHECK_EQ(paho_sock_poll(two_fds, 2, 1000), 1);
    CHECK_EQ(two_fds[0].revents, 0);
    CHECK_EQ(two_fds[1].revents, POLLIN);
    paho_sock_close(sv2[0]);
    close(sv2[1]);
    paho_sock_close(sv[0]);
    close(sv[1]);
}

static void test_end_after_buffer(void)
{
    int sv[2];
    char b[16];
    CHECK_EQ(pair(sv), 0);
    CHECK_EQ(write(sv[1], "0123456789", 10), 10);
    close(sv[1]); /* the peer is gone, its bytes are not */
    CHECK_EQ(paho_sock_recv(sv[0], b, 1, 0), 1);
    CHECK_EQ(paho_sock_recv(sv[0], b + 1, 9, 0), 9);
    CHECK(!memcmp(b, "0123456789", 10));
    CHECK_EQ(paho_sock_recv(sv[0], b, 1, 0), 0); /* then the end */
    paho_sock_close(sv[0]);
}

static void test_close_forgets(void)
{
    int sv[2], sv2[2];
    char c;
    CHECK_EQ(pair(sv), 0);
    CHECK_EQ(write(sv[1], "old", 3), 3);
    CHECK_EQ(paho_sock_recv(sv[0], &c, 1, 0), 1);
    int fd = sv[0];
    close(sv[1]);
    CHECK_EQ(paho_sock_close(fd), 0);
    CHECK_EQ(pair(sv2), 0);
    CHECK_EQ(sv2[0], fd); /* the lowest free number again */
    CHECK_EQ(write(sv2[1], "N", 1), 1);
    CHECK_EQ(paho_sock_recv(sv2[0], &c, 1, 0), 1);
    CHECK_EQ(c, 'N'); /* not "ld" of the socket closed */
    paho_sock_close(sv2[0]);
    close(sv2[1]);
}

static void test_large_read(void)
{
    static unsigned char out[40000], got[40000];
    int sv[2];
    CHECK_EQ(pair(sv), 0);
    int big = (int)sizeof out;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    CHECK_EQ(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0); /* a short write, never a hang */
    for (size_t i = 0; i < sizeof out; i++) {
        out[i] = (unsigned char)(i % 253);
    }
    ssize_t w = write(sv[1], out, sizeof out);
    CHECK(w > 20000);
    /* a large read with nothing buffered goes to the socket: more than the buffer holds */
    ssize_t r = paho_sock_recv(sv[0], got, sizeof got, 0);
    CHECK(r > 16384);
    size_t n = r > 0 ? (size_t)r : 0;
    while (n < (size_t)w) {
        r = paho_sock_recv(sv[0], got + n, 1 + n % 5, 0);
        CHECK(r > 0);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
    }
    CHECK(!memcmp(out, got, (size_t)w));
    paho_sock_close(sv[0]);
    close(sv[1]);
}

static void test_due(void)
{
    paho_socket_due(PAHO_HOLD_MIN - 1);
    CHECK_EQ(paho_socket_hold_us(), 0u); /* too few due: a wait would cost a wakeup more */
    paho_socket_due(PAHO_HOLD_MIN);
    CHECK_EQ(paho_socket_hold_us(), (unsigned)PAHO_HOLD_US);
    paho_socket_due(256); /* a full window too: the acknowledgements free it a batch at a time */
    CHECK_EQ(paho_socket_hold_us(), (unsigned)PAHO_HOLD_US);
    paho_socket_due(0);
    CHECK_EQ(paho_socket_hold_us(), 0u);
}

static double elapsed_us(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e6 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e3;
}

/* With acknowledgements due, a poll that may wait first lets them gather, though the socket is
 * readable at once (only a lower bound is timed: the machine may be slow, never fast). */
static void test_hold(void)
{
    int sv[2];
    struct timespec t0;
    CHECK_EQ(pair(sv), 0);
    CHECK_EQ(write(sv[1], "p", 1), 1);
    paho_socket_due(PAHO_HOLD_MIN);
    struct pollfd rd = { .fd = sv[0], .events = POLLIN };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_EQ(paho_sock_poll(&rd, 1, 1000), 1);
    CHECK(elapsed_us(&t0) >= PAHO_HOLD_US);
    CHECK_EQ(rd.revents, POLLIN);
    paho_socket_due(0);
    paho_sock_close(sv[0]);
    close(sv[1]);
}

#define STREAM_BYTES 200000

struct reader {
    int fd;
    size_t got;
    int in_order;
};

/* paho's receive thread: poll, then reads of 1 to 7 bytes, until the stream ends */
static void *read_all(void *arg)
{
    struct reader *r = arg;
    unsigned char b[8];
    r->in_order = 1;
    for (;;) {
        struct pollfd p = { .fd = r->fd, .events = POLLIN };
        if (paho_sock_poll(&p, 1, 1000) < 0) {
            break;
        }
        ssize_t n = paho_sock_recv(r->fd, b, 1 + r->got % 7, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            break;
        }
        for (ssize_t i = 0; i < n; i++, r->got++) {
            r->in_order &= b[i] == (unsigned char)(r->got % 251);
        }
    }
    return NULL;
}

/* One thread reads a stream while others open, read and close sockets of their own (and the
 * count due changes): the reader gets every byte in order, the others only their own. Under
 * ThreadSanitizer in make check-tsan. */
static void test_threads(void)
{
    int sv[2];
    pthread_t t;
    struct reader r = { 0 };
    CHECK_EQ(pair(sv), 0);
    r.fd = sv[0];
    CHECK_EQ(pthread_create(&t, NULL, read_all, &r), 0);
    unsigned char chunk[1000];
    int strays = 0;
    for (size_t sent = 0; sent < STREAM_BYTES; sent += sizeof chunk) {
        for (size_t i = 0; i < sizeof chunk; i++) {
            chunk[i] = (unsigned char)((sent + i) % 251);
        }
        size_t off = 0;
        while (off < sizeof chunk) {
            ssize_t w = write(sv[1], chunk + off, sizeof chunk - off);
            off += w > 0 ? (size_t)w : 0;
        }
        int other[2];
        char c = 0;
        if (!pair(other)) {
            paho_socket_due(sent / sizeof chunk % 8);
            strays += write(other[1], "zz", 2) != 2 || paho_sock_recv(other[0], &c, 1, 0) != 1 ||
                      c != 'z';
            paho_sock_close(other[0]);
            close(other[1]);
        }
    }
    close(sv[1]);
    pthread_join(t, NULL);
    CHECK_EQ(r.got, (size_t)STREAM_BYTES);
    CHECK(r.in_order);
    CHECK_EQ(strays, 0);
    paho_socket_due(0);
    paho_sock_close(sv[0]);
}

/* paho's sockets are those it polls, until it closes them; before its first poll nothing
 * can be told (the shared library's calls never come here) */
static void test_owned(void)
{
    int sv[2], other[2];
    CHECK_EQ(pair(sv), 0);
    CHECK_EQ(pair(other), 0);
    CHECK_EQ(paho_socket_owned(sv[0]), -1); /* run first: paho has polled nothing yet */
    struct pollfd p = { .fd = sv[0], .events = POLLOUT };
    CHECK_EQ(paho_sock_poll(&p, 1, 0), 1);
    CHECK_EQ(paho_socket_owned(sv[0]), 1);
    CHECK_EQ(paho_socket_owned(other[0]), 0);
    CHECK_EQ(paho_socket_owned(sv[1]), 0);
    int fd = sv[0];
    CHECK_EQ(paho_sock_close(sv[0]), 0);
    CHECK_EQ(paho_socket_owned(fd), 0); /* its number may be another socket's now */
    close(sv[1]);
    close(other[0]);
    close(other[1]);
}

/* A PUBACK and the broker's DISCONNECT 0x95 */
static const unsigned char ack[] = { 0x40, 2, 0, 1 }, dis[] = { 0xe0, 2, 0x95, 0 };

/* A pair whose [0] paho has polled (it is paho's) and, with `read`, read a PUBACK from through
 * us, as it reads a plain TCP connection (what follows is looked at when paho closes it) */
static void paho_conn(int sv[2], int read)
{
    unsigned char got[4];
    CHECK_EQ(pair(sv), 0);
    struct pollfd pfd = { .fd = sv[0], .events = POLLIN };
    CHECK_EQ(paho_sock_poll(&pfd, 1, 0), 0);
    if (read) {
        CHECK_EQ(write(sv[1], ack, sizeof ack), 4);
        CHECK_EQ(paho_sock_recv(sv[0], got, 1, 0), 1);
        CHECK_EQ(paho_sock_recv(sv[0], got + 1, 3, 0), 3);
    }
}

/* the reason of the DISCONNECT that ends a stream read from a packet's start, or -1 */
static void test_final_disconnect(void)
{
    static const unsigned char ack_dis[] = { 0x40, 2, 0, 1, 0xe0, 2, 0x95, 0 };
    CHECK_EQ(paho_socket_final_disconnect(ack_dis, sizeof ack_dis), 0x95);
    CHECK_EQ(paho_socket_final_disconnect(ack_dis, 4), -1);     /* a PUBACK last */
    CHECK_EQ(paho_socket_final_disconnect(ack_dis, 5), -1);     /* no length yet */
    CHECK_EQ(paho_socket_final_disconnect(ack_dis, 7), -1);     /* a part of one */
    CHECK_EQ(paho_socket_final_disconnect(ack_dis + 1, 7), -1); /* not from a start */
    CHECK_EQ(paho_socket_final_disconnect(ack_dis, 0), -1);
    static const unsigned char bare[] = { 0xe0, 0 }; /* no reason: 0x00, normal */
    CHECK_EQ(paho_socket_final_disconnect(bare, sizeof bare), 0);
    /* a PUBLISH of 200 bytes (two bytes of length) whose payload holds a DISCONNECT's bytes */
    unsigned char pub[3 + 200 + 3] = { 0x30, (200 & 0x7f) | 0x80, 200 >> 7 };
    memset(pub + 3, 0xe0, 200);
    memcpy(pub + 3 + 200, (unsigned char[]){ 0xe0, 1, 0x8e }, 3);
    CHECK_EQ(paho_socket_final_disconnect(pub, sizeof pub), 0x8e);
    CHECK_EQ(paho_socket_final_disconnect(pub, 3 + 200), -1);
    static const unsigned char five[] = { 0xe0, 0x80, 0x80, 0x80, 0x80, 0 }; /* a 5-byte length */
    CHECK_EQ(paho_socket_final_disconnect(five, sizeof five), -1);
}

/* ejabberd's way: PUBACKs, DISCONNECT 0x95, close. paho read one PUBACK and closed the socket
 * on a failed write: the broker's reason is told once, for that socket alone */
static void test_last_word(void)
{
    static const unsigned char suback[] = { 0x90, 3, 0, 1, 1 };
    int sv[2];
    unsigned char got[5];
    CHECK_EQ(pair(sv), 0);
    struct pollfd pfd = { .fd = sv[0], .events = POLLIN };
    CHECK_EQ(write(sv[1], suback, sizeof suback), 5);
    CHECK_EQ(write(sv[1], ack, sizeof ack), 4);
    CHECK_EQ(paho_sock_poll(&pfd, 1, 1000), 1); /* the socket is paho's */
    CHECK_EQ(paho_sock_recv(sv[0], got, 1, 0), 1);
    CHECK_EQ(paho_sock_recv(sv[0], got + 1, 1, 0), 1);
    CHECK_EQ(paho_sock_recv(sv[0], got + 2, 3, 0), 3); /* the SUBACK read, a PUBACK buffered */
    CHECK_EQ(write(sv[1], dis, sizeof dis), 4);        /* in the kernel */
    close(sv[1]);
    int fd = sv[0];
    CHECK_EQ(paho_socket_last_word(fd), -1); /* not closed yet */
    CHECK_EQ(paho_sock_close(fd), 0);
    CHECK_EQ(paho_socket_last_word(fd + 1), -1);
    CHECK_EQ(paho_socket_last_word(fd), 0x95);
    CHECK_EQ(paho_socket_last_word(fd), -1); /* told once */

    /* the stream ends with a PUBACK: no word */
    paho_conn(sv, 1);
    CHECK_EQ(write(sv[1], dis, sizeof dis), 4);
    CHECK_EQ(write(sv[1], ack, sizeof ack), 4);
    close(sv[1]);
    CHECK_EQ(paho_sock_close(fd = sv[0]), 0);
    CHECK_EQ(paho_socket_last_word(fd), -1);

    /* a DISCONNECT unread but the stream not ended: paho closed a connection the broker holds
     * open (that DISCONNECT would be a broker's odd way, not its last word) */
    paho_conn(sv, 1);
    CHECK_EQ(write(sv[1], dis, sizeof dis), 4);
    CHECK_EQ(paho_sock_close(fd = sv[0]), 0);
    CHECK_EQ(paho_socket_last_word(fd), -1);
    close(sv[1]);

    /* more unread than the buffer holds is not looked at, even where the buffer's worth ends
     * with a DISCONNECT: PUBACKs up to the buffer's size, the last 4 bytes a DISCONNECT, then a
     * PUBACK more */
    static unsigned char acks[PAHO_READ_AHEAD];
    for (size_t i = 0; i < sizeof acks; i += 4) {
        memcpy(acks + i, ack, 4);
    }
    memcpy(acks + sizeof acks - 4, dis, 4);
    paho_conn(sv, 1);
    CHECK_EQ(write(sv[1], acks, sizeof acks), (ssize_t)sizeof acks);
    CHECK_EQ(write(sv[1], ack, sizeof ack), 4);
    close(sv[1]);
    CHECK_EQ(paho_sock_close(fd = sv[0]), 0);
    CHECK_EQ(paho_socket_last_word(fd), -1);

    /* a socket paho polled but never read through us (TLS: OpenSSL reads it) is not read at its
     * close: its bytes are records, not packets */
    paho_conn(sv, 0);
    CHECK_EQ(write(sv[1], dis, sizeof dis), 4);
    close(sv[1]);
    CHECK_EQ(paho_sock_close(fd = sv[0]), 0);
    CHECK_EQ(paho_socket_last_word(fd), -1);

    /* a socket paho never polled is not read at its close */
    CHECK_EQ(pair(sv), 0);
    CHECK_EQ(write(sv[1], ack, sizeof ack), 4);
    CHECK_EQ(paho_sock_recv(sv[0], got, 1, 0), 1);
    CHECK_EQ(paho_sock_recv(sv[0], got + 1, 3, 0), 3);
    CHECK_EQ(write(sv[1], dis, sizeof dis), 4);
    close(sv[1]);
    CHECK_EQ(paho_sock_close(fd = sv[0]), 0);
    CHECK_EQ(paho_socket_last_word(fd), -1);

    /* a word not asked for is forgotten when paho polls a new socket of the same number */
    paho_conn(sv, 1);
    CHECK_EQ(write(sv[1], dis, sizeof dis), 4);
    close(sv[1]);
    CHECK_EQ(paho_sock_close(fd = sv[0]), 0);
    paho_conn(sv, 0);
    CHECK_EQ(sv[0], fd);
    CHECK_EQ(paho_socket_last_word(fd), -1);
    paho_sock_close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    test_owned();
    test_order_and_one_read();
    test_poll_from_buffer();
    test_end_after_buffer();
    test_close_forgets();
    test_large_read();
    test_due();
    test_hold();
    test_threads();
    test_final_disconnect();
    test_last_word();
    return h_finish();
}
