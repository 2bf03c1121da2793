/** @file paho_nudge.h
 * Waking paho's send thread when it may have missed its wakeup (paho_nudge.c says why).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_PAHO_NUDGE_H
#define BRIDGE_PAHO_NUDGE_H

#include <MQTTAsync.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* How long messages may be in paho's hands with no word from the broker before a nudge. A
 * loopback or LAN broker answers within a millisecond or two. Never a second nudge while the
 * first is unanswered, and each further one without progress in between waits twice as long,
 * up to paho's own one-second wait, after which nudging gains nothing: a broker that answers
 * the nudges but takes no message gets about one a second. */
#define PAHO_NUDGE_MS     20
#define PAHO_NUDGE_MAX_MS 1000

struct paho_nudge {
    atomic_int pending; /* a nudge is in paho's hands: no other until it is answered */
    int64_t last_ms;    /* when the last one went */
    int streak;         /* nudges since the last progress */
    /* called (on paho's thread) when a nudge is answered: the next one may be due */
    void (*wake)(void *ud);
    void *wake_ud;
};

/* Milliseconds until a nudge is due (0: now), -1 if none will be: nothing in flight, or a
 * nudge unanswered. `handoff_ms`: the last message handed to paho; `done_ms`: the last one paho
 * finished with (written at QoS 0, acknowledged at QoS 1). Only the latter ends a streak: a
 * broker that takes nothing is nudged less and less often however much is handed over. */
int paho_nudge_wait_ms(const struct paho_nudge *n, size_t in_flight, int64_t handoff_ms,
                       int64_t done_ms, int64_t now);

/* Send one: an UNSUBSCRIBE from `topic`, which this client never subscribes to. Returns 1 if
 * paho took it, 0 if not (tried again after PAHO_NUDGE_MS). */
int paho_nudge_send(struct paho_nudge *n, MQTTAsync client, const char *topic, int v5,
                    int64_t done_ms, int64_t now);

#endif
