/** @file out.h
 * The bridge's output (out.c): the sink in use (sink.h), a second one fed the same
 * messages (`tap`), and the main thread's wakeup. Every
 * module says what happened through these functions and never learns which sink listens.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_OUT_H
#define BRIDGE_OUT_H

#include <stdatomic.h>

#include "sink.h"

struct cJSON;

struct bridge_out {
    struct bridge_sink *sink; /* set once at startup, before any streamer runs */
    struct bridge_sink *tap;  /* a second sink fed the same messages (the HTTP server's event
                               * stream, sink_sse.c); NULL: none. Set with `sink`. */
    atomic_int raw;           /* [bridge] raw: publish unknown message types */
    atomic_int urgent;        /* a streamer's state must go out now (a stream started or ended) */
    atomic_int info_dirty;    /* bridge/info must go out again (a streamer changed its flow) */
    int wake_fd;              /* eventfd the main thread sleeps on; -1 before main() makes it */
    atomic_int wake_pending;
};

/** Tell the main thread it has work (a message to send, a state to publish, a signal): any
 * thread, async-signal-safe. Only the first call since the main thread last woke costs a
 * write, so a busy stream does not make one syscall per event. */
void bridge_out_wake(struct bridge_out *o);

/* The sink's functions (sink.h); the _json forms print `j` compactly, then delete it (out of
 * memory the message is dropped: the next state or health supersedes it). */
void bridge_out_event(struct bridge_out *o, const char *user, unsigned ev, const char *method,
                      const char *json, size_t len, uint64_t msg_id);
void bridge_out_status(struct bridge_out *o, const char *user, const char *json, size_t len);
void bridge_out_retained(struct bridge_out *o, enum bridge_topic_kind t, const char *user,
                         const char *payload, size_t len);
void bridge_out_retained_json(struct bridge_out *o, enum bridge_topic_kind t, const char *user,
                              struct cJSON *j);
void bridge_out_notice_json(struct bridge_out *o, enum bridge_topic_kind t, const char *arg,
                            struct cJSON *j);
void bridge_out_clear(struct bridge_out *o, const char *user);
void bridge_out_announce(struct bridge_out *o, const char *handle, const char *user);
/** Main thread: the sink's pending work; ms until it must run again, -1 for never. */
int bridge_out_pump(struct bridge_out *o);
/** The broker's figures, zero when the sink has no broker (then returns 0). Any thread. */
int bridge_out_stats(struct bridge_out *o, struct bridge_mqtt_stats *st);
void bridge_out_close(struct bridge_out *o, int timeout_ms);

#endif
