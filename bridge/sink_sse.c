/** @file sink_sse.c
 * The Server-Sent Events output (sse.h): every event becomes
 *
 *     event: chat
 *     data: {"user":"the_host","event":"chat","data":{...the event's JSON...}}
 *
 * (the line `--stdout` prints, with the event's name before it), the retained `state` and
 * `room` of a streamer become `event: state` / `event: room` the same way, and each is copied
 * into the queue of every client whose `?user=` filter wants it. The last state and room of
 * each streamer are kept, so a page opened mid-stream starts with the right counters. Nothing
 * else (bridge/info, notices, API answers) goes on the stream.
 *
 * One mutex guards the clients and the kept states; what is done under it is a memcpy per
 * client. The HTTP thread is woken once per batch (`wake_pending`), not once per event.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"
#include "xalloc.h"

struct bridge_sse_client {
    struct bridge_sse *hub;
    int used, dropped;
    struct bridge_http_users filter;
    char *q; /* queued bytes: [off, len) */
    size_t off, len, cap;
};

struct kept { /* the last retained state or room of a streamer */
    struct kept *next;
    enum bridge_topic_kind kind;
    char *user, *msg; /* msg: the whole SSE message */
    size_t msg_len;
};

struct bridge_sse {
    struct bridge_sink base;
    pthread_mutex_t lock; /* everything below */
    struct bridge_sse_client c[BRIDGE_SSE_CLIENTS_MAX];
    struct kept *kept;
    void (*wake)(void *ud);
    void *wake_ud;
    atomic_int wake_pending; /* cleared by the HTTP thread when woken (bridge_sse_woken) */
};

/* ---- queues (under the lock) ---- */

static void put(struct bridge_sse_client *c, const char *s, size_t n)
{
    if (c->dropped) {
        return;
    }
    if (c->off && c->len + n > c->cap) { /* what was written makes room first */
        memmove(c->q, c->q + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->len + n > BRIDGE_SSE_QUEUE_MAX) {
        c->dropped = 1; /* too far behind: the server closes it */
        free(c->q);
        c->q = NULL;
        c->off = c->len = c->cap = 0;
        return;
    }
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n) {
            cap *= 2;
        }
        c->cap = cap < BRIDGE_SSE_QUEUE_MAX ? cap : BRIDGE_SSE_QUEUE_MAX;
        c->q = xrealloc(c->q, c->cap);
    }
    memcpy(c->q + c->len, s, n);
    c->len += n;
}

static void wake(struct bridge_sse *h)
{
    if (h->wake && !atomic_exchange(&h->wake_pending, 1)) {
        h->wake(h->wake_ud);
    }
}

/* `event: <name>` and the data line {"user","event","data"}; JSON has no raw newline, but a
 * payload that had one would still make a valid message: each line gets its own `data: `. */
static char *message(const char *name, const char *user, const char *json, size_t len,
                     size_t *out_len)
{
    size_t nl = 0;
    for (size_t i = 0; i < len; i++) {
        nl += json[i] == '\n';
    }
    size_t cap = len + nl * 6 + strlen(name) * 2 + strlen(user) + 64;
    char *m = xmalloc(cap);
    int n = snprintf(m, cap, "event: %s\ndata: {\"user\":\"%s\",\"event\":\"%s\",\"data\":", name,
                     user, name);
    size_t k = (size_t)n;
    for (size_t i = 0; i < len; i++) {
        if (json[i] == '\n') {
            memcpy(m + k, "\ndata: ", 7);
            k += 7;
        } else if (json[i] != '\r') {
            m[k++] = json[i];
        }
    }
    memcpy(m + k, "}\n\n", 3);
    *out_len = k + 3;
    return m;
}

/* A message to every client that wants `user`'s events. */
static void broadcast(struct bridge_sse *h, const char *user, const char *msg, size_t n)
{
    int any = 0;
    for (size_t i = 0; i < BRIDGE_SSE_CLIENTS_MAX; i++) {
        struct bridge_sse_client *c = &h->c[i];
        if (c->used && bridge_http_users_match(&c->filter, user)) {
            put(c, msg, n);
            any = 1;
        }
    }
    if (any) {
        wake(h);
    }
}

/* ---- the sink ---- */

static void send_one(struct bridge_sse *h, const char *name, const char *user, const char *json,
                     size_t len)
{
    size_t n;
    char *m = message(name, user, json, len, &n);
    pthread_mutex_lock(&h->lock);
    broadcast(h, user, m, n);
    pthread_mutex_unlock(&h->lock);
    free(m);
}

static void event(struct bridge_sink *k, const char *user, unsigned ev, const char *method,
                  const char *json, size_t len, uint64_t msg_id)
{
    const char *name = bridge_event_name(ev); /* rawData has none: not streamed */
    (void)method, (void)msg_id;
    if (name) {
        send_one((struct bridge_sse *)k, name, user, json, len);
    }
}

static void status(struct bridge_sink *k, const char *user, const char *json, size_t len)
{
    send_one((struct bridge_sse *)k, "status", user, json, len);
}

/* The kept message of (user, kind) replaced by `m` (owned from here on). */
static void keep(struct bridge_sse *h, enum bridge_topic_kind kind, const char *user, char *m,
                 size_t n)
{
    struct kept *e = h->kept;
    while (e && (e->kind != kind || strcmp(e->user, user))) {
        e = e->next;
    }
    if (!e) {
        e = xcalloc(1, sizeof *e);
        e->kind = kind;
        e->user = xstrdup(user);
        e->next = h->kept;
        h->kept = e;
    }
    free(e->msg);
    e->msg = m;
    e->msg_len = n;
}

static void retained(struct bridge_sink *k, enum bridge_topic_kind t, const char *user,
                     const char *payload, size_t len)
{
    struct bridge_sse *h = (struct bridge_sse *)k;
    if (!user || (t != BRIDGE_TOPIC_STATE && t != BRIDGE_TOPIC_ROOM) || !len) {
        return; /* bridge/info, health, availability: not for a page */
    }
    size_t n;
    char *m = message(t == BRIDGE_TOPIC_STATE ? "state" : "room", user, payload, len, &n);
    pthread_mutex_lock(&h->lock);
    broadcast(h, user, m, n);
    keep(h, t, user, m, n);
    pthread_mutex_unlock(&h->lock);
}

static void notice(struct bridge_sink *k, enum bridge_topic_kind t, const char *arg,
                   const char *json, size_t len)
{
    (void)k, (void)t, (void)arg, (void)json, (void)len; /* the API's, not a page's */
}

static void clear(struct bridge_sink *k, const char *user)
{
    struct bridge_sse *h = (struct bridge_sse *)k;
    pthread_mutex_lock(&h->lock);
    for (struct kept **p = &h->kept; *p;) {
        struct kept *e = *p;
        if (!strcmp(e->user, user)) {
            *p = e->next;
            free(e->user);
            free(e->msg);
            free(e);
        } else {
            p = &e->next;
        }
    }
    pthread_mutex_unlock(&h->lock);
}

static void close_sse(struct bridge_sink *k, int timeout_ms)
{
    struct bridge_sse *h = (struct bridge_sse *)k;
    (void)timeout_ms;
    while (h->kept) {
        struct kept *e = h->kept;
        h->kept = e->next;
        free(e->user);
        free(e->msg);
        free(e);
    }
    for (size_t i = 0; i < BRIDGE_SSE_CLIENTS_MAX; i++) {
        free(h->c[i].q);
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static const struct bridge_sink_ops ops = {
    .name = "sse",
    .event = event,
    .status = status,
    .retained = retained,
    .notice = notice,
    .clear = clear,
    .close = close_sse,
};

struct bridge_sse *bridge_sse_new(void)
{
    struct bridge_sse *h = xcalloc(1, sizeof *h);
    h->base.ops = &ops;
    pthread_mutex_init(&h->lock, NULL);
    atomic_init(&h->wake_pending, 0);
    return h;
}

struct bridge_sink *bridge_sse_sink(struct bridge_sse *h)
{
    return &h->base;
}

void bridge_sse_set_wake(struct bridge_sse *h, void (*fn)(void *ud), void *ud)
{
    pthread_mutex_lock(&h->lock);
    h->wake = fn;
    h->wake_ud = ud;
    pthread_mutex_unlock(&h->lock);
}

/* ---- the HTTP server's side ---- */

struct bridge_sse_client *bridge_sse_attach(struct bridge_sse *h, const struct bridge_http_users *f)
{
    static const char hello[] = "retry: 3000\n\n";
    struct bridge_sse_client *c = NULL;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < BRIDGE_SSE_CLIENTS_MAX && !c; i++) {
        if (!h->c[i].used) {
            c = &h->c[i];
        }
    }
    if (c) {
        memset(c, 0, sizeof *c);
        c->hub = h;
        c->used = 1;
        c->filter = *f;
        put(c, hello, sizeof hello - 1);
        for (struct kept *e = h->kept; e; e = e->next) {
            if (bridge_http_users_match(f, e->user)) {
                put(c, e->msg, e->msg_len);
            }
        }
    }
    pthread_mutex_unlock(&h->lock);
    return c;
}

size_t bridge_sse_take(struct bridge_sse_client *c, char *buf, size_t cap, int *dropped)
{
    struct bridge_sse *h = c->hub;
    pthread_mutex_lock(&h->lock);
    size_t n = c->len - c->off < cap ? c->len - c->off : cap;
    if (n) {
        memcpy(buf, c->q + c->off, n);
    }
    c->off += n;
    if (c->off == c->len) {
        c->off = c->len = 0;
    }
    *dropped = c->dropped;
    pthread_mutex_unlock(&h->lock);
    return n;
}

size_t bridge_sse_pending(struct bridge_sse_client *c)
{
    pthread_mutex_lock(&c->hub->lock);
    size_t n = c->dropped ? 1 : c->len - c->off;
    pthread_mutex_unlock(&c->hub->lock);
    return n;
}

void bridge_sse_ping(struct bridge_sse_client *c)
{
    static const char ping[] = ": ping\n\n";
    pthread_mutex_lock(&c->hub->lock);
    put(c, ping, sizeof ping - 1);
    pthread_mutex_unlock(&c->hub->lock);
}

void bridge_sse_detach(struct bridge_sse_client *c)
{
    struct bridge_sse *h = c->hub;
    pthread_mutex_lock(&h->lock);
    free(c->q);
    memset(c, 0, sizeof *c);
    pthread_mutex_unlock(&h->lock);
}

void bridge_sse_woken(struct bridge_sse *h)
{
    atomic_store(&h->wake_pending, 0);
}

size_t bridge_sse_clients(struct bridge_sse *h)
{
    size_t n = 0;
    if (!h) {
        return 0;
    }
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < BRIDGE_SSE_CLIENTS_MAX; i++) {
        n += h->c[i].used != 0;
    }
    pthread_mutex_unlock(&h->lock);
    return n;
}
