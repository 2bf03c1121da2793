/** @file paho_nudge.c
 * Waking paho's send thread when it may have missed its wakeup.
 *
 * paho.mqtt.c's asynchronous client (1.3.12 in Debian 12, and its master branch as of late
 * 2026) hands each message to its send thread through a command list and a condition variable
 * signalled without a predicate: the send thread counts the commands, processes them, and then
 * waits up to one second on the condition. A command added between its last count and the
 * start of that wait signals nobody, and waits for the timeout. Under load this happened in
 * about one run in seven of `make bench-e2e`'s latency measurement (5,000 events/s, QoS 1):
 * the broker connection idle with nothing in the socket (ss: Send-Q 0), paho's send thread in
 * its one-second wait, p99 latency 1,030 ms instead of about 12.
 *
 * Every paho call that queues a command signals the thread again, so when messages have been in
 * paho's hands for PAHO_NUDGE_MS with no acknowledgement, the main thread queues one cheap
 * command: an UNSUBSCRIBE from a topic it never subscribes to. Brokers answer it (MQTT 5:
 * reason 0x11, no subscription existed) and nobody else sees it. At most one is outstanding,
 * so a broker that answers nothing gets one, not a stream.
 *
 * SPDX-License-Identifier: MIT
 */
#include "paho_nudge.h"

int paho_nudge_wait_ms(const struct paho_nudge *n, size_t in_flight, int64_t handoff_ms,
                       int64_t done_ms, int64_t now)
{
    if (!in_flight || atomic_load(&n->pending)) {
        return -1;
    }
    int64_t wait;
    if (done_ms >= n->last_ms) { /* progress since the last nudge: a first one */
        wait = (handoff_ms > done_ms ? handoff_ms : done_ms) + PAHO_NUDGE_MS - now;
    } else {
        int64_t every = (int64_t)PAHO_NUDGE_MS << (n->streak < 6 ? n->streak : 6);
        wait = n->last_ms + (every < PAHO_NUDGE_MAX_MS ? every : PAHO_NUDGE_MAX_MS) - now;
    }
    return wait <= 0 ? 0 : (int)wait;
}

/* The broker answered (MQTT 5: mostly reason 0x11, which paho reports as a failure) */
static void settled(struct paho_nudge *n)
{
    atomic_store(&n->pending, 0);
    if (n->wake) {
        n->wake(n->wake_ud);
    }
}

static void answered(void *ctx, MQTTAsync_successData *d)
{
    (void)d;
    settled(ctx);
}

static void answered5(void *ctx, MQTTAsync_successData5 *d)
{
    (void)d;
    settled(ctx);
}

static void failed(void *ctx, MQTTAsync_failureData *d)
{
    (void)d;
    settled(ctx);
}

static void failed5(void *ctx, MQTTAsync_failureData5 *d)
{
    (void)d;
    settled(ctx);
}

int paho_nudge_send(struct paho_nudge *n, MQTTAsync client, const char *topic, int v5,
                    int64_t done_ms, int64_t now)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (v5) {
        ro.onSuccess5 = answered5;
        ro.onFailure5 = failed5;
    } else {
        ro.onSuccess = answered;
        ro.onFailure = failed;
    }
    ro.context = n;
    n->streak = done_ms >= n->last_ms ? 1 : n->streak + 1;
    n->last_ms = now;
    atomic_store(&n->pending, 1);
    if (MQTTAsync_unsubscribe(client, topic, &ro) != MQTTASYNC_SUCCESS) {
        atomic_store(&n->pending, 0); /* no callback will come */
        return 0;
    }
    return 1;
}
