/** @file mqtt.h
 * The bridge's MQTT side: one paho.mqtt.c async client for the process, behind a bounded queue
 * of our own.
 *
 * Why our own queue: paho 1.3.12 drops messages past maxBufferedMessages without telling
 * anyone, and does not resend in-flight messages after a clean-session reconnect. So nothing is
 * handed to paho while the broker is away; messages wait here (mqtt_queue.h: answers, statuses
 * and retained topics before events; past max_buffered the oldest events are dropped and
 * counted), in-flight ones are retired only on paho's success callback and put back in front
 * of the queue when the connection drops (at-least-once: a message in flight at that moment
 * may arrive twice, never more).
 *
 * Every way a connection ends (the broker's DISCONNECT with a reason, a client-id takeover, a
 * closed socket, a refused or timed-out CONNACK) leads to a new attempt; every new connection
 * gets the latest value of every retained topic again (the retained store). A message the
 * broker or paho would refuse (a wildcard or invalid UTF-8 in its topic, larger than the
 * broker's Maximum Packet Size or max_payload_bytes) is dropped and counted per reason, never
 * blocking the ones behind it.
 *
 * Threads: bridge_mqtt_publish() may be called from any thread and never waits for the broker.
 * paho's callbacks move messages between lists and set flags, and an acknowledgement's callback
 * refills a window the broker keeps small (its Receive Maximum) from the queue (one thread
 * sends at a time, in queue order);
 * bridge_mqtt_pump(), on the main thread, sends what is queued while nobody else does, the birth
 * message and the subscriptions, and handles (re)connects.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_MQTT_H
#define BRIDGE_MQTT_H

#include <stddef.h>
#include <stdint.h>

struct bridge_mqtt_opts {
    const char *uri, *client_id, *username, *password;
    int protocol5; /* MQTT 5, falling back to 3.1.1 when the broker refuses it */
    int keepalive; /* s */
    const char *ca_file, *cert_file, *key_file;
    int tls_insecure;
    size_t max_buffered;
    size_t max_buffered_bytes; /* the queue's bytes (headers, topics, payloads); 0: no cap */
    size_t max_payload;        /* bytes, 0: no limit (brokers of 3.1.1 cannot announce theirs) */
    const char *state_topic;   /* <base>/bridge/state: birth "online", will "offline" */
    const char *const *subscriptions; /* NULL-terminated topic filters (QoS 1) */
    unsigned event_expiry;            /* s, MQTT 5 message expiry of events; 0 = none */
    /* bytes, the MQTT 5 CONNECT's Maximum Packet Size: the broker sends no larger packet (drops
     * it), so paho never reads and copies one. MQTT 3.1.1 has no such property: a larger
     * incoming message is dropped before the bridge copies it. 0: none */
    size_t max_inbound;
    /* called from any thread when bridge_mqtt_pump() has work (a message queued or
     * acknowledged, a connection change, an incoming message); may be NULL */
    void (*wake)(void *wake_ud);
    void *wake_ud;
};

/** Per-message flags. */
enum {
    BRIDGE_PUB_RETAIN = 1,
    BRIDGE_PUB_JSON = 2,  /* MQTT 5: content-type application/json */
    BRIDGE_PUB_EVENT = 4, /* MQTT 5: message expiry (event_expiry) */
    BRIDGE_PUB_LOW = 8,   /* the event stream: sent after, and dropped before, everything else */
};

struct bridge_mqtt_stats {
    int connected;
    int protocol; /* 5 or 4 (3.1.1) in use */
    size_t queued, in_flight;
    size_t queued_bytes; /* what the queue holds, in bytes (max_buffered_bytes) */
    uint64_t published, dropped, reconnects;
    uint64_t refused;    /* refused by the broker (PUBACK reason >= 0x80), dropped */
    uint64_t bad_topic;  /* dropped: a topic MQTT forbids (wildcard, invalid UTF-8, empty) */
    uint64_t too_large;  /* dropped: over Maximum Packet Size or max_payload_bytes */
    uint64_t superseded; /* full queue: stale retained values dropped (a newer one waits) */
    uint64_t nudges;     /* paho's send thread woken after a possibly missed wakeup */
    int64_t last_ack_ms; /* ms since the last PUBACK (QoS 1 and 2); -1: none yet */
    int64_t oldest_ms;   /* ms the oldest waiting message (queued or in flight) has waited */
    int stalled;         /* connected, messages waiting, no PUBACK for the stall time */
    size_t max_packet;   /* the broker's Maximum Packet Size (0: none announced) */
    char error[320];     /* not connected: why the last attempt failed; stalled: the stall */
};

/** Connected with messages waiting and no acknowledgement for twice the keepalive (at least
 *  10 s): a broker that answers PINGREQ but takes no message; /healthz fails. */

/** An incoming message (a runtime API request, homeassistant/status), on the main thread;
 *  `retained`: the broker's stored copy, delivered because we subscribed, not news. */
typedef void (*bridge_mqtt_msg_fn)(const char *topic, const char *payload, size_t len, int retained,
                                   void *ud);

struct bridge_mqtt;

int bridge_mqtt_new(struct bridge_mqtt **out, const struct bridge_mqtt_opts *o,
                    bridge_mqtt_msg_fn on_msg, void *ud, char *err, size_t errlen);
/** Start connecting in the background (retrying until it works). */
int bridge_mqtt_start(struct bridge_mqtt *m);
/** Queue a message; `msg_id` (0: none) becomes the MQTT 5 user property msgId. Thread-safe. */
void bridge_mqtt_publish(struct bridge_mqtt *m, const char *topic, const char *payload, size_t len,
                         int qos, unsigned flags, uint64_t msg_id);
/** Main thread: hand queued messages to paho, deliver incoming ones, handle (re)connects. */
void bridge_mqtt_pump(struct bridge_mqtt *m);
/** ms until pump() must run although nobody woke it (a connection retry), -1 for never. */
int bridge_mqtt_next_ms(struct bridge_mqtt *m);
/** Block up to timeout_ms for the queue to drain; 0 when it did. */
int bridge_mqtt_flush(struct bridge_mqtt *m, int timeout_ms);
void bridge_mqtt_stats(struct bridge_mqtt *m, struct bridge_mqtt_stats *out);
/** Flush up to timeout_ms, then end the connection so that the state topic ends "offline"
 *  once, and free. MQTT 5: DISCONNECT 0x04, the broker publishes the will "offline". MQTT
 *  3.1.1: "offline" published behind the queue, then DISCONNECT; if the broker did not
 *  acknowledge it in time, no DISCONNECT (paho's socket shut down) and the will says it.
 *  timeout_ms 0: no flush, no DISCONNECT, the will says it. NULL is a no-op. */
void bridge_mqtt_free(struct bridge_mqtt *m, int timeout_ms);

#endif
