/** @file mqtt_queue.h
 * The MQTT side's outgoing queue (mqtt.c holds it under its lock; nothing here locks).
 *
 * Two lists, one per priority: `hi` holds what a consumer acts on (API answers, notices,
 * statuses and every retained topic), `lo` the event stream. pump() always sends from `hi`
 * first, so an answer or a status never waits behind a backlog of events. When the queue is
 * full (max_buffered messages, or max_buffered_bytes) the oldest event goes, then the oldest non-retained message of `hi`, then
 * the oldest retained value that a newer queued value of its topic makes stale; a topic's
 * latest value is never dropped, so retained messages are bounded by the number of retained
 * topics. Values are not merged otherwise: a consumer sees every transition (a status
 * `ended` before `waiting`) whenever the queue has room.
 *
 * The retained store keeps the latest value of every retained topic published (an empty
 * payload, which clears a retained topic, forgets it): mqtt.c republishes all of them on
 * every new connection, so a broker restarted without persistence gets them back at once.
 *
 * Cost: a message is one allocation for its header and one for topic+payload, as before; a
 * retained one adds its store entry's copy (retained topics change seldom; events never go
 * through the store).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_MQTT_QUEUE_H
#define BRIDGE_MQTT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct mq_slot;

struct mq_msg {
    struct mq_msg *next, *prev;
    uint64_t seq, msg_id;  /* seq: the order of first sending, 0 until first handed to paho */
    uint64_t token;        /* the current sending's number (paho's callbacks name it) */
    int64_t t_ms;          /* monotonic time it was queued (health: the oldest's age) */
    char *topic, *payload; /* after the header, in its block: topic, NUL, payload, NUL */
    size_t len;
    size_t size; /* bytes it holds: header, topic and payload (max_buffered_bytes) */
    int qos;
    unsigned flags;       /* BRIDGE_PUB_* (mqtt.h) */
    struct mq_slot *slot; /* retained and still queued: its store entry (coalescing) */
};

struct mq_list {
    struct mq_msg *head, *tail;
    size_t n;
};

struct mq_queue {
    struct mq_list hi, lo;
    size_t cap;           /* max_buffered: hi + lo */
    size_t cap_bytes;     /* max_buffered_bytes: their sizes; 0: no cap */
    size_t bytes;         /* the sizes of what hi and lo hold */
    struct mq_slot **tab; /* the retained store: chained hash by topic */
    size_t buckets, slots;
    uint64_t dropped, superseded;
};

/** A message block with `flags`; t_ms set to now. Never NULL (xalloc). */
struct mq_msg *mq_msg_new(const char *topic, const char *payload, size_t len, int qos,
                          unsigned flags, uint64_t msg_id);
void mq_msg_free(struct mq_msg *m);

void mq_init(struct mq_queue *q, size_t cap, size_t cap_bytes);
void mq_free(struct mq_queue *q);
/** Queue `m` (taking it): the store learns a retained value; past the cap the lowest-priority
 *  oldest message is dropped and counted (a stale retained value in `superseded`). */
void mq_push(struct mq_queue *q, struct mq_msg *m);
/** Queue `m` in front of everything (the birth message). */
void mq_push_front(struct mq_queue *q, struct mq_msg *m);
/** The next message to send (hi first), still queued; NULL when empty. */
struct mq_msg *mq_peek(struct mq_queue *q);
/** Take `m` (from mq_peek) off the queue: it goes in flight, out of the store's sight. */
void mq_take(struct mq_queue *q, struct mq_msg *m);
/** Put a message that was in flight back, before every never-sent one of its list and in the
 *  order of first sending among those put back. */
void mq_requeue(struct mq_queue *q, struct mq_msg *m);
size_t mq_count(const struct mq_queue *q);
/** Monotonic time the oldest queued message was queued; 0 when empty. */
int64_t mq_oldest_ms(const struct mq_queue *q);
/** A new connection: queue a copy of every stored retained value not already queued.
 *  Returns how many. */
size_t mq_replay(struct mq_queue *q);
/** Why MQTT would refuse `topic` as a PUBLISH topic name (static text), NULL when it is fine:
 *  empty, over 65535 bytes, a wildcard, invalid UTF-8 or a control character (paho checks only
 *  UTF-8; a broker disconnects on the rest, and a resend would be disconnected again). */
const char *mq_topic_fault(const char *topic);

/* list primitives, shared with mqtt.c's in-flight list */
void mq_list_push_back(struct mq_list *l, struct mq_msg *m);
void mq_list_remove(struct mq_list *l, struct mq_msg *m);
void mq_list_free(struct mq_list *l);

#endif
