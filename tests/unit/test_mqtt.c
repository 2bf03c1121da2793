/** @file test_mqtt.c
 * bridge/mqtt.c against a scripted paho (fake_paho.h), for what a real broker shows only by
 * chance:
 *  - one sender at a time: an acknowledgement handled on paho's thread while the main thread
 *    is inside MQTTAsync_sendMessage() must not hand paho a message of its own meanwhile (the
 *    two would reach paho out of queue order), nor the main thread while paho's thread is;
 *  - a window the broker keeps small (its Receive Maximum) is refilled from the thread of the
 *    acknowledgement; a window of our own size is left to the main thread, which is woken;
 *  - the Receive Maximum is never exceeded;
 *  - a lost connection sends the birth, then what was in flight, then the rest, in order;
 *  - a message the broker refuses is dropped and counted, never sent again;
 *  - MQTT 5 refused (two ways): the fall-back to 3.1.1 and its callbacks;
 *  - a broker's DISCONNECT for a packet too large it never announced: the culprit dropped,
 *    its size learned as a limit, the window shrunk;
 *  - paho's trace ring down to errors before a client is created, unless MQTT_C_CLIENT_TRACE
 *    asks for paho's trace.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fake_paho.h"
#include "harness.h"
#include "mqtt.h"
#include "paho_socket.h"

#define STATE "tiktok/bridge/state"

static atomic_int wakes;

static void on_wake(void *ud)
{
    (void)ud;
    atomic_fetch_add(&wakes, 1);
}

static struct bridge_mqtt *new_bridge(void)
{
    struct bridge_mqtt_opts o = { 0 };
    struct bridge_mqtt *b = NULL;
    char err[256];
    o.uri = "tcp://127.0.0.1:1";
    o.client_id = "test";
    o.protocol5 = 1;
    o.keepalive = 30;
    o.max_buffered = 2000;
    o.state_topic = STATE;
    o.wake = on_wake;
    CHECK_EQ(bridge_mqtt_new(&b, &o, NULL, NULL, err, sizeof err), 0);
    CHECK_EQ(bridge_mqtt_start(b), 0);
    return b;
}

static void publish(struct bridge_mqtt *b, int from, int to)
{
    char topic[32];
    for (int i = from; i <= to; i++) {
        snprintf(topic, sizeof topic, "t/%d", i);
        bridge_mqtt_publish(b, topic, "{}", 2, 1, BRIDGE_PUB_LOW, (uint64_t)i);
    }
}

/* Recorded messages from `from` on have the topics `want`, in that order. */
static void check_order(int from, const char *const *want, int n)
{
    CHECK_EQ(fake.n_sent - from, n);
    for (int i = 0; i < n && from + i < fake.n_sent; i++) {
        if (strcmp(fake.sent[from + i].topic, want[i])) {
            fprintf(stderr, "sent[%d] is %s, expected %s\n", from + i, fake.sent[from + i].topic,
                    want[i]);
            CHECK(0);
        }
    }
}

/* the trap: paho's receive thread acknowledges the oldest message while the main thread is
 * inside MQTTAsync_sendMessage() */
static void ack_oldest_elsewhere(void)
{
    for (int i = 0; i < fake.n_sent; i++) {
        if (!fake.sent[i].answered) {
            fake_ack_elsewhere(i);
            return;
        }
    }
}

static struct bridge_mqtt *trapped; /* the bridge the second trap pumps */

static void *pump_thread(void *arg)
{
    bridge_mqtt_pump(arg);
    return NULL;
}

/* the other way round: while paho's thread is inside MQTTAsync_sendMessage() (refilling the
 * window), a second acknowledgement frees a slot and the main thread pumps */
static void ack_and_pump_elsewhere(void)
{
    pthread_t t;
    fake_ack_elsewhere(fake_find("t/2", 0));
    if (pthread_create(&t, NULL, pump_thread, trapped) == 0) {
        pthread_join(t, NULL);
    }
}

static void small_window(void)
{
    struct bridge_mqtt *b = new_bridge();
    struct bridge_mqtt_stats st;
    publish(b, 1, 6);
    CHECK_EQ(fake.n_sent, 0); /* not connected: nothing goes to paho */
    fake_connect_ok(3);

    fake.trap_topic = "t/2";
    fake.trap = ack_oldest_elsewhere;
    bridge_mqtt_pump(b);
    /* the birth was acknowledged during t/2's hand-over, so t/3 fits the window of 3: sent by
     * the main thread after t/2, not by paho's thread during it */
    const char *first[] = { STATE, "t/1", "t/2", "t/3" };
    check_order(0, first, 4);
    CHECK_EQ(fake.overlaps, 0);
    CHECK(fake.sent[0].retained && fake.sent[0].qos == 1);
    CHECK(pthread_equal(fake.sent[3].thread, pthread_self()));
    CHECK_EQ(fake_unanswered(), 3);

    /* a free slot in a window the broker keeps small: refilled from the acknowledging thread,
     * without the main thread; while that thread hands t/4 over, t/2's acknowledgement and a
     * pump of the main thread's send nothing of their own: t/5 follows t/4, from that thread */
    trapped = b;
    fake.trap_topic = "t/4";
    fake.trap = ack_and_pump_elsewhere;
    fake_ack_elsewhere(1);
    fake.trap = NULL;
    const char *refill[] = { "t/4", "t/5" };
    check_order(4, refill, 2);
    CHECK_EQ(fake.overlaps, 0);
    CHECK(!pthread_equal(fake.sent[4].thread, pthread_self()));
    CHECK(pthread_equal(fake.sent[5].thread, fake.sent[4].thread));
    CHECK_EQ(fake_unanswered(), 3);
    bridge_mqtt_pump(b); /* the window is full: the main thread adds nothing */
    CHECK_EQ(fake.n_sent, 6);
    CHECK_EQ(fake.most_unanswered, 3); /* the broker's Receive Maximum, never more */

    /* lost with t/3, t/4, t/5 in flight: after the reconnect the birth, then those three in
     * their order, then the rest */
    fake_lose("test: socket closed");
    bridge_mqtt_pump(b); /* a fresh client; everything in flight goes back in the queue */
    CHECK_EQ(fake.destroys, 1);
    CHECK_EQ(fake.creates, 2);
    bridge_mqtt_pump(b); /* connects it */
    CHECK_EQ(fake.connects, 2);
    int at = fake.n_sent;
    fake_connect_ok(0); /* no Receive Maximum: a window of our own size */
    bridge_mqtt_pump(b);
    const char *again[] = { STATE, "t/3", "t/4", "t/5", "t/6" };
    check_order(at, again, 5);
    CHECK_EQ(fake.subscribes, 0);

    /* the broker refuses t/6: dropped, counted, not sent again */
    for (int i = at; i < at + 4; i++) {
        fake_ack(i);
    }
    fake_refuse(at + 4, MQTTREASONCODE_NOT_AUTHORIZED);
    bridge_mqtt_stats(b, &st);
    CHECK_EQ(st.refused, 1);
    CHECK_EQ(st.in_flight, 0);
    CHECK_EQ(st.queued, 0);
    CHECK_EQ(st.published, 3 + 4); /* the birth, t/1 and t/2, then the birth and t/3 ... t/5 */
    bridge_mqtt_pump(b);
    CHECK_EQ(fake.n_sent, at + 5);
    bridge_mqtt_free(b, 0);
}

/* Our own window (the broker announces no Receive Maximum): the main thread refills it, a batch
 * per wakeup; an acknowledgement only wakes it. */
static void own_window(void)
{
    int base = fake.n_sent;
    struct bridge_mqtt *b = new_bridge();
    struct bridge_mqtt_stats st;
    publish(b, 1, 300);
    fake_connect_ok(0);
    bridge_mqtt_pump(b);
    int sent = fake.n_sent - base;
    CHECK_EQ(sent, 256); /* the birth and t/1 ... t/255: our own window */
    CHECK_EQ(fake_find("t/255", base), base + 255);
    int w = atomic_load(&wakes);
    fake_ack_elsewhere(base);
    CHECK_EQ(fake.n_sent - base, 256); /* not from the acknowledging thread */
    CHECK(atomic_load(&wakes) > w);    /* but the main thread was told */
    bridge_mqtt_pump(b);
    CHECK_EQ(fake.n_sent - base, 257);
    CHECK_EQ(fake_find("t/256", base), base + 256);
    bridge_mqtt_stats(b, &st);
    CHECK_EQ(st.in_flight, 256);
    CHECK_EQ(st.queued, 300 - 256);
    CHECK_EQ(fake.most_unanswered, 256);
    bridge_mqtt_free(b, 0); /* paho fails the pending ones (fake_paho.h): nothing leaks */
}

/* The broker refuses MQTT 5 (a 3.1.1 broker's CONNACK code 1; RabbitMQ 3.10 closing the socket
 * instead of answering): a new client of level 3.1.1, whose messages are acknowledged through
 * paho's 3.1.1 callbacks. */
static void fallback(int code, const char *message)
{
    int base = fake.n_sent, creates = fake.creates;
    struct bridge_mqtt *b = new_bridge();
    struct bridge_mqtt_stats st;
    publish(b, 1, 3);
    CHECK_EQ(fake.version, MQTTVERSION_5);
    fake_connect_refused(code, message);
    bridge_mqtt_pump(b);
    CHECK_EQ(fake.creates - creates, 2);
    CHECK_EQ(fake.version, MQTTVERSION_3_1_1);
    fake_connect_ok(0); /* 3.1.1: no properties, only the connected callback */
    bridge_mqtt_pump(b);
    const char *want[] = { STATE, "t/1", "t/2", "t/3" };
    check_order(base, want, 4);
    CHECK(fake.sent[base].ok && !fake.sent[base].ok5);
    for (int i = base; i < fake.n_sent; i++) {
        fake_ack(i);
    }
    bridge_mqtt_stats(b, &st);
    CHECK_EQ(st.protocol, 4);
    CHECK_EQ(st.published, 4);
    CHECK_EQ(st.in_flight + st.queued, 0);
    bridge_mqtt_free(b, 0);
}

/* Wait for the reconnect timer (bridge_mqtt_next_ms), then pump: the next connect call. */
static void pump_when_due(struct bridge_mqtt *b)
{
    int ms;
    while ((ms = bridge_mqtt_next_ms(b)) > 0) {
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    bridge_mqtt_pump(b);
}

/* A broker that disconnects on a packet too large without having announced its limit (reason
 * 0x95): the largest message in flight is taken for the culprit and dropped, its size becomes
 * a limit for every later one, the window shrinks to 16, and the rest go again in order. */
static void too_large(void)
{
    static char big[3000], bigger[4000];
    int base = fake.n_sent;
    struct bridge_mqtt *b = new_bridge();
    struct bridge_mqtt_stats st;
    memset(big, 'x', sizeof big);
    memset(bigger, 'y', sizeof bigger);
    publish(b, 1, 1);
    bridge_mqtt_publish(b, "t/big", big, sizeof big, 1, BRIDGE_PUB_LOW, 2);
    publish(b, 3, 40);
    fake_connect_ok(0);
    bridge_mqtt_pump(b);
    CHECK_EQ(fake.n_sent - base, 41); /* the birth and 40 events: all in flight */
    fake_broker_disconnect(MQTTREASONCODE_PACKET_TOO_LARGE);
    bridge_mqtt_pump(b); /* a fresh client; the culprit dropped */
    bridge_mqtt_stats(b, &st);
    CHECK_EQ(st.too_large, 1);
    CHECK_EQ(st.in_flight, 0);
    CHECK_EQ(st.queued, 40); /* the old birth too: it was in flight (at least once) */
    bridge_mqtt_publish(b, "t/bigger", bigger, sizeof bigger, 1, BRIDGE_PUB_LOW, 41);
    pump_when_due(b); /* the backoff after a broker's DISCONNECT, then the connect call */
    int at = fake.n_sent;
    fake_connect_ok(0);
    bridge_mqtt_pump(b);
    /* the new birth, then what was in flight in its order (the old birth first), t/big gone */
    const char *want[] = { STATE, STATE, "t/1", "t/3", "t/4" };
    CHECK_EQ(fake.n_sent - at, 16); /* the window after a packet too large */
    for (int i = 0; i < 5 && at + i < fake.n_sent; i++) {
        CHECK(!strcmp(fake.sent[at + i].topic, want[i]));
    }
    while (fake.n_sent > at) { /* acknowledge everything, as it comes */
        int before = fake.n_sent;
        for (int i = at; i < before; i++) {
            fake_ack(i);
        }
        at = before;
        bridge_mqtt_pump(b);
    }
    CHECK_EQ(fake_find("t/big", base + 41), -1);
    CHECK_EQ(fake_find("t/bigger", base), -1); /* at least as large as the culprit */
    CHECK(fake_find("t/40", base + 41) > 0);
    bridge_mqtt_stats(b, &st);
    CHECK_EQ(st.too_large, 2);
    CHECK_EQ(st.in_flight + st.queued, 0);
    bridge_mqtt_free(b, 0);
}

/* paho's receive thread may let PUBACKs gather (bridge/paho_socket.c) exactly while enough are
 * due: told after each hand-over and acknowledgement, and by the pump after a loss. */
static void hold_follows_due(void)
{
    int base = fake.n_sent;
    struct bridge_mqtt *b = new_bridge();
    paho_socket_due(0);
    publish(b, 1, 10);
    fake_connect_ok(0);
    bridge_mqtt_pump(b);
    CHECK_EQ(fake.n_sent - base, 11); /* the birth and 10: in flight */
    CHECK_EQ(paho_socket_hold_us(), (unsigned)PAHO_HOLD_US);
    for (int i = 0; i < 8; i++) {
        fake_ack_elsewhere(base + i);
    }
    CHECK_EQ(paho_socket_hold_us(), 0u); /* 3 due: read them at once */
    publish(b, 11, 300);
    bridge_mqtt_pump(b);
    CHECK_EQ(paho_socket_hold_us(), (unsigned)PAHO_HOLD_US); /* a full window of 256 */
    fake_lose("test: socket closed");
    bridge_mqtt_pump(b); /* a fresh client: everything back in the queue */
    CHECK_EQ(paho_socket_hold_us(), 0u);
    bridge_mqtt_free(b, 0);
}

static void paho_trace(void)
{
    unsetenv("MQTT_C_CLIENT_TRACE");
    fake.trace_level = fake.trace_level_at_create = 0;
    int creates = fake.creates;
    struct bridge_mqtt *b = new_bridge();
    bridge_mqtt_pump(b);
    CHECK(fake.creates > creates);
    CHECK_EQ(fake.trace_level_at_create, MQTTASYNC_TRACE_ERROR);
    bridge_mqtt_free(b, 0);

    /* the user's request for paho's trace is left alone */
    setenv("MQTT_C_CLIENT_TRACE", "stdout", 1);
    fake.trace_level = fake.trace_level_at_create = 0;
    creates = fake.creates;
    b = new_bridge();
    bridge_mqtt_pump(b);
    CHECK(fake.creates > creates);
    CHECK_EQ(fake.trace_level, 0);
    bridge_mqtt_free(b, 0);
    unsetenv("MQTT_C_CLIENT_TRACE");
}

int main(void)
{
    small_window();
    own_window();
    fallback(1, "CONNACK return code");
    fallback(MQTTASYNC_FAILURE, "TCP connect completion failure");
    too_large();
    hold_follows_due();
    paho_trace(); /* last: the tests above count clients from the first */
    return h_finish();
}
