/** @file test_mqtt_queue.c
 * The MQTT output queue alone (bridge/mqtt_queue.c): answers, statuses and retained topics go
 * before events; a full queue (in messages or in bytes) drops events first, then notices, then stale retained values,
 * never a retained topic's latest value; every transition goes out while there is room; the
 * retained store replays every topic's latest value (an empty payload clears it) and skips
 * those still queued; messages put back
 * after a lost connection keep their order; the topics MQTT refuses are recognised.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "mqtt.h"
#include "mqtt_queue.h"

static void push(struct mq_queue *q, const char *topic, const char *payload, unsigned flags)
{
    mq_push(q, mq_msg_new(topic, payload, strlen(payload), 1, flags, 0));
}

/* Take the next message off the queue, as pump() does; its topic and payload into `out`. */
static const char *next(struct mq_queue *q, char *out, size_t n)
{
    struct mq_msg *m = mq_peek(q);
    if (!m) {
        return "";
    }
    mq_take(q, m);
    snprintf(out, n, "%s=%s", m->topic, m->payload);
    mq_msg_free(m);
    return out;
}

#define EV  (BRIDGE_PUB_LOW | BRIDGE_PUB_EVENT)
#define RET BRIDGE_PUB_RETAIN

static void test_priorities(void)
{
    struct mq_queue q;
    char b[128];
    mq_init(&q, 100, 0);
    push(&q, "t/u/chat", "1", EV);
    push(&q, "t/u/chat", "2", EV);
    push(&q, "t/bridge/response/info", "ok", 0);
    push(&q, "t/u/status", "live", RET);
    CHECK(!strcmp(next(&q, b, sizeof b), "t/bridge/response/info=ok"));
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/status=live"));
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/chat=1"));
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/chat=2"));
    CHECK_EQ(mq_count(&q), 0);
    mq_free(&q);
}

static void test_full(void)
{
    struct mq_queue q;
    char b[128];
    mq_init(&q, 3, 0);
    push(&q, "t/u/status", "a", RET);
    push(&q, "t/u/chat", "1", EV);
    push(&q, "t/u/chat", "2", EV);
    push(&q, "t/bridge/event", "n", 0); /* full: the oldest event goes */
    CHECK_EQ(q.dropped, 1);
    push(&q, "t/u/room", "r", RET);  /* the other event goes */
    push(&q, "t/u/state", "s", RET); /* no event left: the notice goes, never a retained one */
    CHECK_EQ(q.dropped, 3);
    push(&q, "t/u/availability", "online", RET); /* only latest values: kept over the cap */
    CHECK_EQ(q.dropped, 3);
    CHECK_EQ(mq_count(&q), 4);
    push(&q, "t/u/status", "b", RET); /* "a" is stale now: it goes */
    CHECK_EQ(q.dropped, 3);
    CHECK_EQ(q.superseded, 1);
    CHECK_EQ(mq_count(&q), 4);
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/room=r"));
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/state=s"));
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/availability=online"));
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/status=b"));
    mq_free(&q);
}

/* The sum of the sizes of what the queue holds, walked (q.bytes must agree). */
static size_t held(const struct mq_queue *q)
{
    size_t n = 0;
    for (const struct mq_msg *m = q->hi.head; m; m = m->next) {
        n += m->size;
    }
    for (const struct mq_msg *m = q->lo.head; m; m = m->next) {
        n += m->size;
    }
    return n;
}

/* max_buffered_bytes: a backlog of large events stays under the byte cap (the oldest go, and
 * are counted); the bytes follow every way in and out; retained latest values stay over it. */
static void test_bytes_cap(void)
{
    struct mq_queue q;
    char big[1000], b[1200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    mq_init(&q, 100000, 20000);
    int over = 0;
    for (int i = 0; i < 500; i++) {
        push(&q, "t/u/chat", big, EV);
        over += q.bytes > 20000;
    }
    CHECK_EQ(over, 0);
    CHECK(q.bytes > 20000 - 1200); /* full, not emptied */
    CHECK_EQ(q.dropped, 500 - mq_count(&q));
    CHECK_EQ(q.bytes, held(&q));
    struct mq_msg *m = mq_peek(&q);
    mq_take(&q, m);
    CHECK_EQ(q.bytes, held(&q));
    mq_requeue(&q, m);
    CHECK_EQ(q.bytes, held(&q));
    for (int i = 0; i < 40; i++) { /* retained topics: their latest values stay */
        char topic[32];
        snprintf(topic, sizeof topic, "t/u%d/state", i);
        push(&q, topic, big, RET);
    }
    CHECK_EQ(q.hi.n, 40);
    CHECK_EQ(q.lo.n, 0);
    CHECK_EQ(q.bytes, held(&q));
    while (mq_count(&q)) {
        next(&q, b, sizeof b);
    }
    CHECK_EQ(q.bytes, 0);
    CHECK_EQ(mq_replay(&q), 40);
    CHECK_EQ(q.bytes, held(&q));
    mq_free(&q);
}

static void test_transitions_and_replay(void)
{
    struct mq_queue q;
    char b[128];
    mq_init(&q, 100, 0);
    push(&q, "t/u/status", "ended", RET);
    push(&q, "t/u/chat", "1", EV);
    push(&q, "t/u/status", "waiting", RET); /* room in the queue: both transitions go out */
    CHECK_EQ(mq_count(&q), 3);
    CHECK_EQ(mq_replay(&q), 0); /* queued: not twice */
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/status=ended"));
    CHECK_EQ(mq_replay(&q), 0); /* the latest value is still queued */
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/status=waiting"));
    CHECK_EQ(mq_replay(&q), 1); /* sent: a new connection gets the latest again */
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/status=waiting"));
    push(&q, "t/x/room", "r", RET);
    push(&q, "t/x/room", "", RET); /* cleared: forgotten by the store, both still sent */
    CHECK(!strcmp(next(&q, b, sizeof b), "t/x/room=r"));
    CHECK(!strcmp(next(&q, b, sizeof b), "t/x/room="));
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/chat=1"));
    CHECK_EQ(mq_replay(&q), 1); /* t/u/status only */
    CHECK(!strcmp(next(&q, b, sizeof b), "t/u/status=waiting"));
    CHECK_EQ(mq_count(&q), 0);
    for (int i = 0; i < 2000; i++) { /* the store grows */
        snprintf(b, sizeof b, "t/h%d/state", i);
        push(&q, b, "x", RET);
    }
    while (mq_peek(&q)) {
        next(&q, b, sizeof b);
    }
    CHECK_EQ(mq_replay(&q), 2001);
    mq_free(&q);
}

/* A cleared topic leaves nothing in the store once no queued message needs its entry: a bridge
 * that follows streamer after streamer through the API for months must not keep every topic
 * it ever cleared. */
static void test_cleared_forgotten(void)
{
    struct mq_queue q;
    char b[128];
    mq_init(&q, 100000, 0);
    for (int i = 0; i < 3000; i++) { /* set, then cleared while the value is still queued */
        snprintf(b, sizeof b, "t/gone%d/state", i);
        push(&q, b, "x", RET);
        push(&q, b, "", RET);
    }
    CHECK_EQ(q.slots, 3000); /* both messages of each still queued */
    char first[128];
    CHECK(!strcmp(next(&q, first, sizeof first), "t/gone0/state=x"));
    CHECK_EQ(q.slots, 3000); /* the clearing is still queued */
    CHECK(!strcmp(next(&q, b, sizeof b), "t/gone0/state="));
    CHECK_EQ(q.slots, 2999);
    while (mq_peek(&q)) {
        next(&q, b, sizeof b);
    }
    CHECK_EQ(q.slots, 0);
    CHECK_EQ(mq_replay(&q), 0);
    push(&q, "t/gone7/state", "back", RET); /* a topic forgotten is learnt again */
    CHECK(!strcmp(next(&q, b, sizeof b), "t/gone7/state=back"));
    CHECK_EQ(mq_replay(&q), 1);
    CHECK(!strcmp(next(&q, b, sizeof b), "t/gone7/state=back"));
    push(&q, "t/gone7/state", "", RET); /* replayed, then cleared: gone too */
    CHECK(!strcmp(next(&q, b, sizeof b), "t/gone7/state="));
    CHECK_EQ(q.slots, 0);
    mq_free(&q);

    /* a full queue drops the stale value of a cleared topic: the clearing keeps the entry */
    mq_init(&q, 3, 0);
    push(&q, "t/a/state", "1", RET);
    push(&q, "t/a/state", "", RET);
    push(&q, "t/b/state", "2", RET);
    push(&q, "t/c/state", "3", RET); /* full: t/a's stale "1" goes */
    CHECK_EQ(q.superseded, 1);
    CHECK_EQ(q.slots, 3);
    CHECK(!strcmp(next(&q, b, sizeof b), "t/a/state="));
    CHECK_EQ(q.slots, 2);
    CHECK_EQ(mq_replay(&q), 0); /* b and c are still queued */
    mq_free(&q);
}

static void test_requeue_order(void)
{
    struct mq_queue q;
    struct mq_list inflight = { 0 };
    char b[128];
    mq_init(&q, 100, 0);
    for (int i = 1; i <= 4; i++) {
        snprintf(b, sizeof b, "%d", i);
        push(&q, "t/u/chat", b, EV);
    }
    for (uint64_t seq = 1; seq <= 3; seq++) { /* three in flight */
        struct mq_msg *m = mq_peek(&q);
        mq_take(&q, m);
        m->seq = seq;
        mq_list_push_back(&inflight, m);
    }
    /* paho reports the failures of a lost connection in any order */
    struct mq_msg *m2 = inflight.head->next, *m1 = inflight.head, *m3 = inflight.tail;
    mq_list_remove(&inflight, m2);
    mq_requeue(&q, m2);
    mq_list_remove(&inflight, m3);
    mq_requeue(&q, m3);
    mq_list_remove(&inflight, m1);
    mq_requeue(&q, m1);
    for (int i = 1; i <= 4; i++) {
        char want[32];
        snprintf(want, sizeof want, "t/u/chat=%d", i);
        CHECK(!strcmp(next(&q, b, sizeof b), want));
    }
    mq_free(&q);
}

static void test_topic_fault(void)
{
    CHECK(mq_topic_fault("tiktok/u/chat") == NULL);
    CHECK(mq_topic_fault("tiktok/ü/€/😀") == NULL);
    CHECK(mq_topic_fault("a//b") == NULL);
    CHECK(mq_topic_fault("") != NULL);
    CHECK(mq_topic_fault("tiktok/u/rawData/Web#cast") != NULL);
    CHECK(mq_topic_fault("tiktok/u/rawData/Web+cast") != NULL);
    CHECK(mq_topic_fault("tiktok/\xc3") != NULL);             /* a character cut at the end */
    CHECK(mq_topic_fault("tiktok/\xe2\x82/x") != NULL);       /* cut in the middle */
    CHECK(mq_topic_fault("tiktok/\xc0\xaf") != NULL);         /* overlong '/' */
    CHECK(mq_topic_fault("tiktok/\xed\xa0\x80") != NULL);     /* a surrogate */
    CHECK(mq_topic_fault("tiktok/\xf4\x90\x80\x80") != NULL); /* over U+10FFFF */
    CHECK(mq_topic_fault("tiktok/a\x01") != NULL);            /* a control character */
    CHECK(mq_topic_fault("tiktok/\xc2\x85") != NULL);         /* U+0085, a C1 control */
    char *big = malloc(70000);
    memset(big, 'a', 69999);
    big[69999] = '\0';
    CHECK(mq_topic_fault(big) != NULL);
    free(big);
}

int main(void)
{
    test_priorities();
    test_full();
    test_bytes_cap();
    test_transitions_and_replay();
    test_cleared_forgotten();
    test_requeue_order();
    test_topic_fault();
    return h_finish();
}
