/** @file mqtt_queue.c
 * The outgoing queue's two priorities and the retained store (why: mqtt_queue.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mqtt.h"
#include "mqtt_queue.h"
#include "xalloc.h"

/* One retained topic: its latest value (NULL once cleared) and the newest queued message of
 * the topic, if any. A cleared entry goes once no queued message points to it (refs): a bridge
 * following streamer after streamer for months would otherwise keep every topic it cleared. */
struct mq_slot {
    struct mq_slot *next;
    uint32_t hash;
    char *topic;
    struct mq_msg *queued;
    struct mq_msg *value; /* a private copy: never queued itself */
    size_t refs;          /* queued messages whose `slot` is this one */
};

/* ---- messages and lists ---- */

struct mq_msg *mq_msg_new(const char *topic, const char *payload, size_t len, int qos,
                          unsigned flags, uint64_t msg_id)
{
    size_t tl = strlen(topic);
    /* one block: a message is made in one thread and freed in paho's receive thread, and each
     * block that crosses threads so costs the C library a free into another thread's arena */
    struct mq_msg *m = xmalloc(sizeof *m + tl + 1 + len + 1);
    *m = (struct mq_msg){ 0 };
    m->topic = (char *)(m + 1);
    memcpy(m->topic, topic, tl + 1);
    m->payload = m->topic + tl + 1;
    if (len) {
        memcpy(m->payload, payload, len);
    }
    m->payload[len] = '\0';
    m->len = len;
    m->size = sizeof *m + tl + 1 + len + 1;
    m->qos = qos;
    m->flags = flags;
    m->msg_id = msg_id;
    m->t_ms = common_mono_ms();
    return m;
}

void mq_msg_free(struct mq_msg *m)
{
    free(m);
}

void mq_list_push_back(struct mq_list *l, struct mq_msg *m)
{
    m->next = NULL;
    m->prev = l->tail;
    if (l->tail) {
        l->tail->next = m;
    } else {
        l->head = m;
    }
    l->tail = m;
    l->n++;
}

static void push_front(struct mq_list *l, struct mq_msg *m)
{
    m->prev = NULL;
    m->next = l->head;
    if (l->head) {
        l->head->prev = m;
    } else {
        l->tail = m;
    }
    l->head = m;
    l->n++;
}

/* `m` goes right before `at` (which is in `l`) */
static void insert_before(struct mq_list *l, struct mq_msg *at, struct mq_msg *m)
{
    m->next = at;
    m->prev = at->prev;
    if (at->prev) {
        at->prev->next = m;
    } else {
        l->head = m;
    }
    at->prev = m;
    l->n++;
}

void mq_list_remove(struct mq_list *l, struct mq_msg *m)
{
    if (m->prev) {
        m->prev->next = m->next;
    } else {
        l->head = m->next;
    }
    if (m->next) {
        m->next->prev = m->prev;
    } else {
        l->tail = m->prev;
    }
    m->next = m->prev = NULL;
    l->n--;
}

void mq_list_free(struct mq_list *l)
{
    while (l->head) {
        struct mq_msg *m = l->head;
        mq_list_remove(l, m);
        mq_msg_free(m);
    }
}

static struct mq_list *list_of(struct mq_queue *q, const struct mq_msg *m)
{
    return (m->flags & BRIDGE_PUB_LOW) ? &q->lo : &q->hi;
}

/* ---- the retained store ---- */

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

static struct mq_slot **find_slot(struct mq_queue *q, const char *topic, uint32_t h)
{
    struct mq_slot **p = &q->tab[h & (q->buckets - 1)];
    while (*p && ((*p)->hash != h || strcmp((*p)->topic, topic))) {
        p = &(*p)->next;
    }
    return p;
}

static void grow(struct mq_queue *q)
{
    size_t nb = q->buckets * 2;
    struct mq_slot **tab = xcalloc(nb, sizeof *tab);
    for (size_t i = 0; i < q->buckets; i++) {
        for (struct mq_slot *s = q->tab[i], *next; s; s = next) {
            next = s->next;
            s->next = tab[s->hash & (nb - 1)];
            tab[s->hash & (nb - 1)] = s;
        }
    }
    free(q->tab);
    q->tab = tab;
    q->buckets = nb;
}

/* The store learns `m` (retained): its value (an empty payload clears it) and that `m` is now
 * the newest queued message of its topic. */
static void store(struct mq_queue *q, struct mq_msg *m)
{
    uint32_t h = fnv1a(m->topic);
    struct mq_slot **p = find_slot(q, m->topic, h), *s = *p;
    if (!s) {
        s = *p = xcalloc(1, sizeof *s);
        s->hash = h;
        s->topic = xstrdup(m->topic);
        if (++q->slots > q->buckets * 2) {
            grow(q);
        }
    }
    mq_msg_free(s->value);
    s->value = m->len ? mq_msg_new(m->topic, m->payload, m->len, m->qos, m->flags, 0) : NULL;
    s->queued = m;
    s->refs++;
    m->slot = s;
}

/* `m` leaves the queue: its entry forgets it, and goes if it was cleared and nothing else
 * queued points to it. */
static void unlink_slot(struct mq_queue *q, struct mq_msg *m)
{
    struct mq_slot *s = m->slot;
    if (!s) {
        return;
    }
    m->slot = NULL;
    if (s->queued == m) {
        s->queued = NULL;
    }
    if (--s->refs || s->value) {
        return;
    }
    struct mq_slot **p = find_slot(q, s->topic, s->hash);
    *p = s->next;
    free(s->topic);
    free(s);
    q->slots--;
}

/* ---- the queue ---- */

void mq_init(struct mq_queue *q, size_t cap, size_t cap_bytes)
{
    memset(q, 0, sizeof *q);
    q->cap = cap;
    q->cap_bytes = cap_bytes;
    q->buckets = 256;
    q->tab = xcalloc(q->buckets, sizeof *q->tab);
}

void mq_free(struct mq_queue *q)
{
    mq_list_free(&q->hi);
    mq_list_free(&q->lo);
    for (size_t i = 0; q->tab && i < q->buckets; i++) {
        for (struct mq_slot *s = q->tab[i], *next; s; s = next) {
            next = s->next;
            mq_msg_free(s->value);
            free(s->topic);
            free(s);
        }
    }
    free(q->tab);
    q->tab = NULL;
}

size_t mq_count(const struct mq_queue *q)
{
    return q->hi.n + q->lo.n;
}

/* A retained message a newer queued one of the same topic makes stale: the consumer would only
 * see the newer one anyway (the broker keeps the last). */
static int superseded(const struct mq_msg *m)
{
    return m->slot && m->slot->queued != m;
}

/* The queue is full: the oldest event goes, else the oldest notice, else the oldest retained
 * value a newer one replaces. A retained topic's latest value stays (they are bounded by the
 * number of retained topics). */
static int make_room(struct mq_queue *q)
{
    struct mq_msg *victim = q->lo.head;
    for (struct mq_msg *m = q->hi.head; !victim && m; m = m->next) {
        if (!(m->flags & BRIDGE_PUB_RETAIN)) {
            victim = m;
        }
    }
    for (struct mq_msg *m = q->hi.head; !victim && m; m = m->next) {
        if (superseded(m)) {
            victim = m;
            q->superseded++;
            q->dropped--; /* counted apart: nothing a consumer misses */
        }
    }
    if (victim) {
        mq_list_remove(list_of(q, victim), victim);
        unlink_slot(q, victim);
        q->bytes -= victim->size;
        mq_msg_free(victim);
        q->dropped++;
    }
    return victim != NULL;
}

/* Room for `m`: under max_buffered messages and max_buffered_bytes, or nothing left that may
 * be dropped (only the latest values of retained topics: they stay, bounded by their number). */
static void fit(struct mq_queue *q, const struct mq_msg *m)
{
    while (mq_count(q) >= q->cap || (q->cap_bytes && q->bytes + m->size > q->cap_bytes)) {
        if (!make_room(q)) {
            break;
        }
    }
}

void mq_push(struct mq_queue *q, struct mq_msg *m)
{
    if (m->flags & BRIDGE_PUB_RETAIN) {
        m->flags &= ~(unsigned)BRIDGE_PUB_LOW;
        store(q, m);
    }
    fit(q, m);
    mq_list_push_back(list_of(q, m), m);
    q->bytes += m->size;
}

void mq_push_front(struct mq_queue *q, struct mq_msg *m)
{
    push_front(list_of(q, m), m);
    q->bytes += m->size;
}

struct mq_msg *mq_peek(struct mq_queue *q)
{
    return q->hi.head ? q->hi.head : q->lo.head;
}

void mq_take(struct mq_queue *q, struct mq_msg *m)
{
    mq_list_remove(list_of(q, m), m);
    q->bytes -= m->size;
    unlink_slot(q, m);
}

void mq_requeue(struct mq_queue *q, struct mq_msg *m)
{
    struct mq_list *l = list_of(q, m);
    struct mq_msg *at = l->head;
    q->bytes += m->size;
    while (at && at->seq && at->seq < m->seq) {
        at = at->next;
    }
    if (at) {
        insert_before(l, at, m);
    } else {
        mq_list_push_back(l, m);
    }
}

int64_t mq_oldest_ms(const struct mq_queue *q)
{
    int64_t a = q->hi.head ? q->hi.head->t_ms : 0, b = q->lo.head ? q->lo.head->t_ms : 0;
    return !a ? b : !b ? a : a < b ? a : b;
}

size_t mq_replay(struct mq_queue *q)
{
    size_t n = 0;
    for (size_t i = 0; i < q->buckets; i++) {
        for (struct mq_slot *s = q->tab[i]; s; s = s->next) {
            if (s->queued || !s->value) {
                continue; /* its latest value goes out anyway; or it was cleared */
            }
            const struct mq_msg *v = s->value;
            struct mq_msg *m = mq_msg_new(v->topic, v->payload, v->len, v->qos, v->flags, 0);
            m->slot = s;
            s->queued = m;
            s->refs++;
            mq_list_push_back(&q->hi, m);
            q->bytes += m->size;
            n++;
        }
    }
    return n;
}

/* ---- what MQTT refuses ---- */

/* Length of the UTF-8 character at s (valid, no overlong form, no surrogate, at most U+10FFFF,
 * none of the control characters MQTT forbids, as mosquitto checks them), 0 when invalid. */
static size_t utf8_char(const unsigned char *s)
{
    uint32_t c;
    size_t n;
    if (s[0] < 0x80) {
        return s[0] > 0x1f && s[0] != 0x7f ? 1 : 0;
    } else if ((s[0] & 0xe0) == 0xc0) {
        c = s[0] & 0x1fu, n = 2;
    } else if ((s[0] & 0xf0) == 0xe0) {
        c = s[0] & 0x0fu, n = 3;
    } else if ((s[0] & 0xf8) == 0xf0) {
        c = s[0] & 0x07u, n = 4;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0; /* also a character cut by the end of the string */
        }
        c = c << 6 | (s[i] & 0x3fu);
    }
    static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (c < least[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || (c >= 0x7f && c <= 0x9f)) {
        return 0;
    }
    return n;
}

const char *mq_topic_fault(const char *topic)
{
    const unsigned char *s = (const unsigned char *)topic;
    size_t len = strlen(topic);
    if (!len) {
        return "an empty topic";
    }
    if (len > 65535) {
        return "a topic over 65535 bytes";
    }
    if (strpbrk(topic, "+#")) {
        return "a wildcard (+ or #) in the topic";
    }
    while (*s) {
        size_t n = utf8_char(s);
        if (!n) {
            return "invalid UTF-8 or a control character in the topic";
        }
        s += n;
    }
    return NULL;
}
