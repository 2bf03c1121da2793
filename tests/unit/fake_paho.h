/** @file fake_paho.h
 * A scripted stand-in for the part of paho.mqtt.c's asynchronous client that bridge/mqtt.c
 * calls, so that test_mqtt can drive bridge/mqtt.c through orders of events a real broker
 * produces only by chance: an acknowledgement arriving on another thread while the main thread
 * is inside MQTTAsync_sendMessage(), a connection lost with messages in flight, a refusal.
 *
 * Nothing goes over a network. MQTTAsync_sendMessage() records the message and returns; the
 * test then plays paho's threads by calling the callbacks mqtt.c registered (fake_ack() and
 * the others), from whichever thread it chooses. Like paho 1.3, MQTTAsync_destroy() fails
 * every command still pending (onFailure, MQTTASYNC_OPERATION_INCOMPLETE) before it returns.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef FAKE_PAHO_H
#define FAKE_PAHO_H

#include <MQTTAsync.h>
#include <pthread.h>

#define FAKE_MAX_SENT 1024

/** One MQTTAsync_sendMessage() call, recorded when it returns. */
struct fake_sent {
    char topic[128];
    int len, qos, retained;
    pthread_t thread; /* who called */
    int answered;     /* acknowledged, refused or failed since */
    void *ctx;
    MQTTAsync_onSuccess *ok;
    MQTTAsync_onFailure *fail;
    MQTTAsync_onSuccess5 *ok5;
    MQTTAsync_onFailure5 *fail5;
};

struct fake_paho {
    pthread_mutex_t lock;
    struct fake_sent sent[FAKE_MAX_SENT];
    int n_sent;
    int in_send;         /* MQTTAsync_sendMessage() calls in progress */
    int overlaps;        /* calls that began while another was in progress */
    int most_unanswered; /* the most messages ever given and not yet answered */
    int creates, destroys, connects, subscribes;
    int version;               /* MQTTVersion of the last connect call */
    int trace_level;           /* the last MQTTAsync_setTraceLevel(), 0 if none */
    int trace_level_at_create; /* trace_level when a client was last created */
    /* called inside MQTTAsync_sendMessage() for this topic, before it records the message */
    const char *trap_topic;
    void (*trap)(void);
};

extern struct fake_paho fake;

/** paho's CONNACK: the connect call's onSuccess5 (Receive Maximum `receive_max`, none if 0),
 *  then the connected callback. */
void fake_connect_ok(int receive_max);
/** The PUBACK of the i-th recorded message, on the calling thread. */
void fake_ack(int i);
/** The same on a thread of its own, as paho's receive thread would; returns when it is done. */
void fake_ack_elsewhere(int i);
/** A PUBACK with a reason code >= 0x80: the broker refused the i-th message. */
void fake_refuse(int i, int reason);
/** The connect call's onFailure5 (a CONNACK with a failure code, or no CONNACK at all). */
void fake_connect_refused(int code, const char *message);
/** MQTT 5: the broker's DISCONNECT with this reason (the disconnected callback). */
void fake_broker_disconnect(int reason);
/** The connection-lost callback. */
void fake_lose(const char *cause);
/** Recorded messages not yet acknowledged, refused or failed. */
int fake_unanswered(void);
/** Index of the first recorded message with this topic at or after `from`, or -1. */
int fake_find(const char *topic, int from);

#endif
