/** @file paho_socket.c
 * paho.mqtt.c's socket reads, batched: one recv for many PUBACKs, one wakeup for a burst.
 *
 * paho's asynchronous client reads the broker's packets in a thread of its own, one packet per
 * turn of its loop (its src/Socket.c, 1.3.12): a poll for writable sockets, a poll for readable
 * ones, then a one-byte recv for the packet's type, one per byte of its length and one for the
 * rest. A PUBACK is 4 bytes, so each message at QoS 1 cost that thread five system calls and,
 * since the broker answers each PUBLISH as it comes, a wakeup of its own: under load, that
 * thread was two fifths of the bridge's CPU (docs/PERFORMANCE.md, the profile).
 *
 * The daemon links a copy of Debian's static archive in which paho's recv, poll and close are
 * renamed to the three functions below (bridge/daemon.mk; Socket.o is the only member that
 * calls them), so only paho's own socket calls come here:
 * - recv fills a buffer of READ_AHEAD bytes per socket with one real recv and serves paho's
 *   small reads from it, in order; a read as large as the buffer, with nothing buffered, goes
 *   straight to the socket. End of stream and errors are reported once the buffered bytes are
 *   read, as the kernel would.
 * - poll answers from the buffer while it holds bytes: readable (and writable: paho reads only
 *   from a socket it may also write to, and a write that cannot proceed is simply retried).
 * - while enough acknowledgements are due (paho_socket_due), poll first waits PAHO_HOLD_US, so
 *   that the PUBACKs of a burst arrive together and are read with one wakeup and one recv.
 * - close forgets the socket's buffer, so a new socket that gets the same number starts empty.
 * - poll also notes which sockets are paho's, until close: paho_socket_owned() tells the one
 *   socket that is paho's connection from any other of the process (bridge/mqtt.c ends it
 *   without paho's DISCONNECT when the broker must publish the will).
 * - close reads what paho left unread on a socket it read through us, and keeps the reason of
 *   a DISCONNECT the broker sent last (paho_socket_last_word). A broker that ends the
 *   connection over a message (ejabberd after one over its max_payload_size: DISCONNECT 0x95,
 *   then close) resets the socket when our next PUBLISH comes; paho's send thread, its write
 *   failing, then closes the connection before its receive thread has read the DISCONNECT,
 *   and tells "connection lost" without a reason. The kernel keeps the bytes received before
 *   the reset, so they can still be read.
 * TLS connections read through OpenSSL, which does not call recv: they keep paho's reads
 * unbuffered, get the wait, and have no last word read.
 *
 * `make PAHO_LINK=shared` links paho's shared library, whose calls cannot be renamed: the
 * functions are then unused, paho reads as it always did, and paho_socket_owned() cannot tell
 * (-1): bridge/mqtt.c then knows paho's socket by its peer port alone (tcp_nodelay.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "paho_socket.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOTS      4               /* sockets buffered at once: the daemon's one client reads one */
#define READ_AHEAD PAHO_READ_AHEAD /* bytes per real recv (paho_socket.h) */
#define OWNED      8 /* paho's sockets noted at once: one per client, and one connecting */

struct slot {
    int fd;             /* -1: free */
    size_t head, len;   /* the unread bytes, at buf + head */
    unsigned char *buf; /* READ_AHEAD bytes, kept for the next socket once allocated */
};

/* recv and poll run in paho's receive thread, close in any of paho's threads or ours */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SLOTS] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };
static atomic_uint hold_us;
/* the sockets paho has polled and not closed (-1: a free entry); `seen`: paho's poll came here
 * at least once; `overflow`: more sockets than entries, so none can be vouched for */
static int owned[OWNED] = { -1, -1, -1, -1, -1, -1, -1, -1 };
static int seen, overflow;
/* the reason of the DISCONNECT found unread when paho closed last_fd (-1: none) */
static int last_fd = -1, last_reason = -1;

void paho_socket_due(size_t in_flight)
{
    unsigned want = in_flight >= PAHO_HOLD_MIN ? PAHO_HOLD_US : 0;
    if (atomic_load_explicit(&hold_us, memory_order_relaxed) != want) {
        atomic_store_explicit(&hold_us, want, memory_order_relaxed);
    }
}

unsigned paho_socket_hold_us(void)
{
    return atomic_load_explicit(&hold_us, memory_order_relaxed);
}

/* fd's slot, or with `claim` a free one made its own (lock held); NULL when none */
static struct slot *slot_of(int fd, int claim)
{
    struct slot *free_slot = NULL;
    for (size_t i = 0; i < SLOTS; i++) {
        if (slots[i].fd == fd) {
            return &slots[i];
        }
        if (slots[i].fd < 0 && !free_slot) {
            free_slot = &slots[i];
        }
    }
    if (claim && free_slot) {
        free_slot->fd = fd;
        free_slot->head = free_slot->len = 0;
        return free_slot;
    }
    return NULL;
}

static size_t buffered(int fd)
{
    struct slot *s = slot_of(fd, 0);
    return s ? s->len : 0;
}

static ssize_t take(struct slot *s, void *buf, size_t len)
{
    size_t n = len < s->len ? len : s->len;
    memcpy(buf, s->buf + s->head, n);
    s->head += n;
    s->len -= n;
    return (ssize_t)n;
}

/* The read-ahead (lock held): MSG_DONTWAIT, since the lock is held; paho's sockets are
 * non-blocking anyway, and it takes EAGAIN as "nothing yet" */
static ssize_t refill(struct slot *s, void *buf, size_t len)
{
    ssize_t r = recv(s->fd, s->buf, READ_AHEAD, MSG_DONTWAIT);
    if (r <= 0) {
        return r;
    }
    s->head = 0;
    s->len = (size_t)r;
    return take(s, buf, len);
}

ssize_t paho_sock_recv(int fd, void *buf, size_t len, int flags)
{
    if (!buf || !len) { /* paho's check for the peer's close, in Socket_close */
        return recv(fd, buf, len, flags);
    }
    pthread_mutex_lock(&lock);
    struct slot *s = slot_of(fd, 1);
    if (s && !s->buf) {
        s->buf = malloc(READ_AHEAD); /* short of memory: unbuffered, as paho reads anyway */
    }
    ssize_t r;
    int err = 0;
    if (s && s->len) { /* whatever the flags: paho passes none, and the bytes stay in order */
        r = take(s, buf, len);
    } else if (s && s->buf && len < READ_AHEAD && !flags) {
        r = refill(s, buf, len);
        err = errno;
    } else {
        pthread_mutex_unlock(&lock);
        return recv(fd, buf, len, flags);
    }
    pthread_mutex_unlock(&lock);
    if (r < 0) {
        errno = err;
    }
    return r;
}

/* paho polls `fds`: each is one of its sockets (lock held) */
static void note_owned(const struct pollfd *fds, nfds_t n)
{
    seen = 1;
    for (nfds_t i = 0; i < n; i++) {
        int *free_entry = NULL, known = 0;
        for (size_t j = 0; j < OWNED && !known; j++) {
            known = owned[j] == fds[i].fd;
            free_entry = !free_entry && owned[j] < 0 ? &owned[j] : free_entry;
        }
        if (!known && free_entry) {
            *free_entry = fds[i].fd;
            last_fd = last_fd == fds[i].fd ? -1 : last_fd; /* a new socket, the same number */
        } else if (!known) {
            overflow = 1;
        }
    }
}

int paho_socket_owned(int fd)
{
    int r = 0;
    pthread_mutex_lock(&lock);
    for (size_t j = 0; j < OWNED && !r; j++) {
        r = owned[j] == fd;
    }
    r = !seen || (overflow && !r) ? -1 : r;
    pthread_mutex_unlock(&lock);
    return r;
}

/* Answered from the buffers (lock held): every socket asked about holds bytes, or a read is
 * asked for and some do. 0: ask the kernel. */
static int from_buffers(struct pollfd *fds, nfds_t n)
{
    nfds_t have = 0, reads = 0;
    for (nfds_t i = 0; i < n; i++) {
        if (buffered(fds[i].fd)) {
            have++;
            reads += (fds[i].events & POLLIN) != 0;
        }
    }
    if (!have || (have < n && !reads)) {
        return 0;
    }
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        short ev = buffered(fds[i].fd) ? (short)(fds[i].events & (POLLIN | POLLOUT)) : 0;
        fds[i].revents = have == n ? ev : (short)(ev & POLLIN);
        ready += fds[i].revents != 0;
    }
    return ready;
}

int paho_sock_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    pthread_mutex_lock(&lock);
    note_owned(fds, n);
    int ready = from_buffers(fds, n);
    pthread_mutex_unlock(&lock);
    if (ready) {
        return ready;
    }
    unsigned hold = paho_socket_hold_us();
    int reading = 0;
    for (nfds_t i = 0; i < n; i++) {
        reading |= (fds[i].events & POLLIN) != 0;
    }
    if (hold && reading && timeout_ms) { /* never within a poll meant not to wait */
        struct timespec ts = { 0, (long)hold * 1000 };
        nanosleep(&ts, NULL);
    }
    return poll(fds, n, timeout_ms);
}

/* The reason code of the MQTT 5 DISCONNECT that ends p[0..n), read packet by packet from a
 * packet's start; -1 when the bytes end with another packet or part of one. Remaining length 0
 * is reason 0x00. */
int paho_socket_final_disconnect(const unsigned char *p, size_t n)
{
    int reason = -1;
    for (size_t at = 0; at < n;) {
        size_t len = 0, i = at + 1;
        for (unsigned shift = 0;; shift += 7) { /* at most 4 bytes of remaining length */
            if (i >= n || shift > 21) {
                return -1;
            }
            len |= (size_t)(p[i] & 0x7f) << shift;
            if (!(p[i++] & 0x80)) {
                break;
            }
        }
        if (len > n - i) {
            return -1;
        }
        reason = p[at] == 0xe0 ? (len ? p[i] : 0) : -1;
        at = i + len;
    }
    return reason;
}

/* paho closes its connection (lock held). Looked at only when paho read it through us, so the
 * bytes are MQTT packets (TLS records go through OpenSSL, never here), and only when the broker
 * ended the stream (end or reset, not "nothing yet": paho may close a connection the broker
 * still holds open): what paho left unread, its buffered bytes first (they start where paho's
 * next packet would), then the kernel's, may end with the broker's DISCONNECT. More than a
 * buffer's worth is not looked at: a broker's last word comes after a few acknowledgements,
 * not after thousands. */
static void read_last_word(int fd, struct slot *s)
{
    if (!s || !s->buf) {
        return;
    }
    int saved = errno;
    memmove(s->buf, s->buf + s->head, s->len);
    s->head = 0;
    size_t have = s->len;
    ssize_t r = 1;
    while (have < READ_AHEAD &&
           (r = recv(fd, s->buf + have, READ_AHEAD - have, MSG_DONTWAIT)) > 0) {
        have += (size_t)r;
    }
    int ended = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    last_fd = fd;
    last_reason = ended ? paho_socket_final_disconnect(s->buf, have) : -1;
    errno = saved;
}

int paho_socket_last_word(int fd)
{
    pthread_mutex_lock(&lock);
    int r = fd >= 0 && fd == last_fd ? last_reason : -1;
    if (fd == last_fd) {
        last_fd = last_reason = -1;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

int paho_sock_close(int fd)
{
    pthread_mutex_lock(&lock);
    struct slot *s = slot_of(fd, 0);
    int mine = 0;
    for (size_t j = 0; j < OWNED; j++) {
        mine |= owned[j] == fd;
        owned[j] = owned[j] == fd ? -1 : owned[j];
    }
    if (mine) {
        read_last_word(fd, s);
    }
    if (s) {
        s->fd = -1;
        s->head = s->len = 0;
    }
    pthread_mutex_unlock(&lock);
    return close(fd);
}
