/** @file bench-sub.c
 * The subscriber of `make bench-e2e`: counts events by msgId, fast enough not to be the limit.
 *
 *   bench-sub HOST PORT QOS FILTER [--idle-ms N] [--expect N]
 *
 * Speaks MQTT 3.1.1 over a plain socket (no library: a subscriber that only reads needs
 * CONNECT, SUBSCRIBE, PUBLISH and PUBACK), so it costs a few hundred nanoseconds a message,
 * where mosquitto_sub piped into a script costs tens of microseconds. For each PUBLISH it
 * takes the first "msgId" of the JSON payload and the "createTime" after it (both the bridge's
 * and the Node library's events carry them, as a number or a string), counts unique msgIds
 * and duplicates (the same msgId twice on one topic: one message may become two events on two
 * topics, a gift and its giftEnd), and keeps the latency now - createTime (ms; createTime is
 * whole milliseconds, so each figure is 0-1 ms above the truth). Messages without a msgId (state, birth,
 * discovery) are counted apart.
 *
 * Prints `ready` once subscribed, then at the end one JSON line: {"received","unique","dups",
 * "other","first_ms","last_ms","lat_n","lat_p50","lat_p99","lat_max"}. Ends on SIGTERM/SIGINT,
 * after --idle-ms (default 3000) without an event once one came, or at --expect unique events.
 * Exit status 0, 1 on a connection error, 64 on a usage error.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "varint.h"

#define BUF_CAP  (4u << 20)  /* the largest packet we accept, and the read buffer */
#define LAT_CAP  (64u << 20) /* latencies kept (then sampled no more) */
#define SET_INIT (1u << 20)

static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
    (void)sig;
    stop_now = 1;
}

/* ---- a set of msgIds: open addressing, 0 is the empty slot (ids are never 0) ---- */
struct set {
    uint64_t *slot;
    size_t cap, n;
};

static int set_add(struct set *s, uint64_t id);

static int set_grow(struct set *s)
{
    struct set g = { calloc(s->cap * 2, sizeof(uint64_t)), s->cap * 2, 0 };

    if (g.slot == NULL)
        return -1;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i])
            set_add(&g, s->slot[i]);
    free(s->slot);
    *s = g;
    return 0;
}

/* 1 when new, 0 when already there, -1 out of memory */
static int set_add(struct set *s, uint64_t id)
{
    if (s->n * 2 >= s->cap && set_grow(s) != 0)
        return -1;
    size_t i = (size_t)((id * 0x9e3779b97f4a7c15u) >> 20) & (s->cap - 1);
    while (s->slot[i] && s->slot[i] != id)
        i = (i + 1) & (s->cap - 1);
    if (s->slot[i] == id)
        return 0;
    s->slot[i] = id;
    s->n++;
    return 1;
}

/* ---- counting ---- */
struct stats {
    uint64_t received, dups, other;
    double first_ms, last_ms;
    float *lat;
    size_t n_lat;
    struct set ids;   /* msgIds */
    struct set pairs; /* (msgId, topic): one message may be two events (gift and giftEnd) */
};

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The number after "key": in p[0..n), quoted or not; 0 when absent. */
static uint64_t json_num(const char *p, size_t n, const char *key, size_t klen)
{
    const char *end = p + n;

    for (const char *q = p; (q = memmem(q, (size_t)(end - q), key, klen)) != NULL; q += klen) {
        const char *v = q + klen;
        uint64_t x = 0;

        while (v < end && (*v == ' ' || *v == '"'))
            v++;
        if (v >= end || *v < '0' || *v > '9')
            continue;
        while (v < end && *v >= '0' && *v <= '9')
            x = x * 10 + (uint64_t)(*v++ - '0');
        return x;
    }
    return 0;
}

/* FNV-1a of the topic, to tell apart the events one message becomes */
static uint64_t topic_hash(const unsigned char *t, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ t[i]) * 0x100000001b3u;
    return h;
}

static int on_publish(struct stats *st, const unsigned char *topic, size_t tlen,
                      const char *payload, size_t n)
{
    uint64_t id = json_num(payload, n, "\"msgId\":", 8);
    double t = now_ms();

    if (id == 0) {
        st->other++;
        return 0;
    }
    st->received++;
    if (st->first_ms == 0)
        st->first_ms = t;
    st->last_ms = t;
    uint64_t pair = id ^ topic_hash(topic, tlen);
    int added = set_add(&st->pairs, pair ? pair : 1); /* 0 marks an empty slot */
    if (added < 0 || set_add(&st->ids, id) < 0)
        return -1;
    if (added == 0) {
        st->dups++;
        return 0;
    }
    /* the message's createTime follows its msgId (a user's createTime may come before) */
    const char *at = memmem(payload, n, "\"msgId\":", 8);
    uint64_t ct = json_num(at, n - (size_t)(at - payload), "\"createTime\":", 13);
    if (ct != 0 && st->n_lat < LAT_CAP)
        st->lat[st->n_lat++] = (float)(t - (double)ct);
    return 0;
}

/* ---- MQTT 3.1.1 ---- */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static size_t put_str(unsigned char *p, const char *s)
{
    size_t n = strlen(s);

    p[0] = (unsigned char)(n >> 8);
    p[1] = (unsigned char)n;
    memcpy(p + 2, s, n);
    return n + 2;
}

static int send_connect_subscribe(int fd, int qos, const char *filter)
{
    unsigned char b[600];
    char cid[32];
    size_t n = 0, body;

    if (strlen(filter) > 400)
        return -1;
    snprintf(cid, sizeof cid, "bench-sub-%d", (int)getpid());
    body = 10 + 2 + strlen(cid);
    b[n++] = 0x10;
    b[n++] = (unsigned char)body;
    n += put_str(b + n, "MQTT");
    b[n++] = 4;    /* 3.1.1 */
    b[n++] = 0x02; /* clean session */
    b[n++] = 0;
    b[n++] = 120; /* keepalive: the run is shorter */
    n += put_str(b + n, cid);
    body = 2 + 2 + strlen(filter) + 1;
    b[n++] = 0x82;
    b[n++] = (unsigned char)(body & 0x7f) | (body > 127 ? 0x80 : 0);
    if (body > 127)
        b[n++] = (unsigned char)(body >> 7);
    b[n++] = 0;
    b[n++] = 1; /* packet id */
    n += put_str(b + n, filter);
    b[n++] = (unsigned char)qos;
    return write_all(fd, b, n);
}

/* One packet of len bytes at p (fixed header included). acks collects PUBACKs to send. */
static int packet(struct stats *st, const unsigned char *p, size_t hdr, size_t len,
                  unsigned char *acks, size_t *n_acks)
{
    unsigned type = p[0] >> 4, qos = (p[0] >> 1) & 3;
    const unsigned char *v = p + hdr, *end = p + len;

    if (type == 2 && (len < hdr + 2 || v[1] != 0))
        return -1; /* CONNACK refused */
    if (type == 9) {
        printf("ready\n");
        fflush(stdout);
        return 0;
    }
    if (type != 3)
        return 0;
    if (end - v < 2)
        return -1;
    size_t tl = (size_t)v[0] << 8 | v[1];
    const unsigned char *topic = v + 2;
    v += 2 + tl;
    if (qos > 0) {
        if (v + 2 > end)
            return -1;
        unsigned char *a = acks + *n_acks;
        a[0] = qos == 1 ? 0x40 : 0x50; /* PUBACK (QoS 2 would want PUBREC) */
        a[1] = 2;
        a[2] = v[0];
        a[3] = v[1];
        *n_acks += 4;
        v += 2;
    }
    if (v > end)
        return -1;
    return on_publish(st, topic, tl, (const char *)v, (size_t)(end - v));
}

/* Takes the complete packets off buf; returns bytes used, or -1. */
static long parse(struct stats *st, const unsigned char *buf, size_t n, int fd)
{
    static unsigned char acks[BUF_CAP];
    size_t at = 0, n_acks = 0;

    for (;;) {
        size_t i = at + 1, k;
        uint64_t len;

        /* the fixed header's byte, then the remaining length (at most 4 bytes) */
        if (i >= n || (k = common_varint(buf + i, n - i, 4, &len)) == 0 || n - (i + k) < len)
            break;
        i += k;
        if (i - at + len > BUF_CAP)
            return -1;
        if (packet(st, buf + at, i - at, i - at + len, acks, &n_acks) != 0)
            return -1;
        at = i + len;
        if (n_acks + 4 > sizeof acks)
            break;
    }
    if (n_acks > 0 && write_all(fd, acks, n_acks) != 0)
        return -1;
    return (long)at;
}

static int dial(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
    int fd = -1;

    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    /* Nagle off: with it, a read's PUBACKs written while the previous read's are not yet
       acknowledged at the TCP level wait for the broker's delayed ACK (40 ms), and a default
       mosquitto, 20 messages in flight towards us, sends nothing more meanwhile. That showed
       as a QoS 1 p99 of 31-45 ms in 4 of 13 latency runs (0 of 13 with it off). */
    if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)) != 0) {
        close(fd);
        fd = -1;
    }
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return (x > y) - (x < y);
}

static void report(struct stats *st)
{
    double p50 = 0, p99 = 0, max = 0;

    if (st->n_lat > 0) {
        qsort(st->lat, st->n_lat, sizeof(float), cmp_float);
        p50 = st->lat[st->n_lat / 2];
        p99 = st->lat[st->n_lat * 99 / 100];
        max = st->lat[st->n_lat - 1];
    }
    printf("{\"received\":%llu,\"unique\":%zu,\"dups\":%llu,\"other\":%llu,\"first_ms\":%.3f,"
           "\"last_ms\":%.3f,\"lat_n\":%zu,\"lat_p50\":%.2f,\"lat_p99\":%.2f,\"lat_max\":%.2f}\n",
           (unsigned long long)st->received, st->ids.n, (unsigned long long)st->dups,
           (unsigned long long)st->other, st->first_ms, st->last_ms, st->n_lat, p50, p99, max);
    fflush(stdout);
}

static void stats_free(struct stats *st)
{
    free(st->ids.slot);
    free(st->pairs.slot);
    free(st->lat);
}

int main(int argc, char **argv)
{
    static unsigned char buf[2 * BUF_CAP];
    struct stats st = { 0 };
    size_t have = 0, expect = 0;
    int idle_ms = 3000;

    if (argc < 5 || (argv[3][0] != '0' && argv[3][0] != '1')) {
        fprintf(stderr, "usage: bench-sub HOST PORT QOS(0|1) FILTER [--idle-ms N] [--expect N]\n");
        return 64;
    }
    for (int i = 5; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--idle-ms") == 0)
            idle_ms = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--expect") == 0)
            expect = (size_t)atoll(argv[i + 1]);
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    st.ids.cap = SET_INIT;
    st.ids.slot = calloc(SET_INIT, sizeof(uint64_t));
    st.pairs.cap = SET_INIT;
    st.pairs.slot = calloc(SET_INIT, sizeof(uint64_t));
    st.lat = malloc(LAT_CAP * sizeof(float));
    int fd = dial(argv[1], argv[2]);
    if (fd < 0 || st.ids.slot == NULL || st.pairs.slot == NULL || st.lat == NULL ||
        send_connect_subscribe(fd, argv[3][0] - '0', argv[4]) != 0) {
        fprintf(stderr, "bench-sub: cannot connect to %s:%s\n", argv[1], argv[2]);
        stats_free(&st);
        return 1;
    }
    while (!stop_now && (expect == 0 || st.ids.n < expect)) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int pr = poll(&pfd, 1, 200);

        if (pr == 0) {
            if (st.first_ms > 0 && now_ms() - st.last_ms > idle_ms)
                break;
            continue;
        }
        if (pr < 0)
            continue; /* EINTR: the loop checks stop_now */
        ssize_t r = read(fd, buf + have, sizeof buf - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        long used = parse(&st, buf, have, fd);
        if (used < 0) {
            fprintf(stderr, "bench-sub: bad packet or out of memory\n");
            report(&st);
            stats_free(&st);
            return 1;
        }
        memmove(buf, buf + used, have - (size_t)used);
        have -= (size_t)used;
    }
    report(&st);
    stats_free(&st);
    close(fd);
    return 0;
}
