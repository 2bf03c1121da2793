/** @file sink.h
 * Where the bridge's output goes: a sink (rtl_433's data_output idea). The bridge says what
 * happened (an event, a status, a retained state, a notice); each sink decides what that
 * becomes: MQTT topics (sink_mqtt.c), JSON lines on stdout (sink_stdout.c), Server-Sent Events
 * for the HTTP server's /events (sink_sse.c, sse.h); whatever comes next (a file) is one more
 * file with these functions. Callers never ask which sink is active: they go through out.h,
 * which holds the one in use and the event stream's beside it.
 *
 * Threads: event, status, retained, notice and clear may be called from any thread and must
 * not block on a peer (sink_mqtt queues); announce, pump and close run on the main thread;
 * stats on any thread.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_SINK_H
#define BRIDGE_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "mqtt.h"
#include "topic.h"

struct bridge_cfg;
struct bridge_sink;

struct bridge_sink_ops {
    const char *name;
    /** An event of streamer `user`: event bit `ev` (topic.h), `method` for TT_EV_RAW_DATA. */
    void (*event)(struct bridge_sink *k, const char *user, unsigned ev, const char *method,
                  const char *json, size_t len, uint64_t msg_id);
    /** A streamer's status object (kept for late subscribers where the sink can). */
    void (*status)(struct bridge_sink *k, const char *user, const char *json, size_t len);
    /** Optional: a state kept for late subscribers: AVAILABILITY, ROOM, STATE of `user`, or the
     *  bridge's INFO and HEALTH (`user` NULL). JSON but for availability. */
    void (*retained)(struct bridge_sink *k, enum bridge_topic_kind t, const char *user,
                     const char *payload, size_t len);
    /** Optional: a notice, not kept: NOTICE (bridge/event), RESPONSE to the command `arg`. */
    void (*notice)(struct bridge_sink *k, enum bridge_topic_kind t, const char *arg,
                   const char *json, size_t len);
    /** Optional: a streamer removed for good: what was kept of it goes (retained states, discovery). */
    void (*clear)(struct bridge_sink *k, const char *user);
    /** Optional: make a streamer known to consumers (Home Assistant discovery). */
    void (*announce)(struct bridge_sink *k, const char *handle, const char *user);
    /** Optional, main thread, each turn of its loop: do pending work; returns the ms until it
     *  must run again although nobody woke the main thread, -1 for never. */
    int (*pump)(struct bridge_sink *k);
    /** Optional: the figures of a broker connection; returns 0 when the sink has none. */
    int (*stats)(struct bridge_sink *k, struct bridge_mqtt_stats *st);
    /** Deliver what it can within `timeout_ms`, then free. */
    void (*close)(struct bridge_sink *k, int timeout_ms);
};

struct bridge_sink {
    const struct bridge_sink_ops *ops;
};

/** What the MQTT sink hands back to the bridge (on the main thread, from pump). */
struct bridge_sink_mqtt_cb {
    void (*request)(const char *cmd, const char *body, size_t len, void *ud); /* runtime API */
    void (*ha_online)(void *ud); /* Home Assistant restarted: announce everything again */
    void (*wake)(void *ud);      /* any thread: pump has work */
    void *ud;
};

/** The broker of [mqtt], Home Assistant discovery per [homeassistant]; connecting starts at
 *  once, in the background. NULL with the reason in `err`. */
struct bridge_sink *bridge_sink_mqtt_new(const struct bridge_cfg *cfg,
                                         const struct bridge_sink_mqtt_cb *cb, char *err,
                                         size_t errlen);
/** JSON lines on stdout: events as {"user","event","data"}, status as {"user","status"}. */
struct bridge_sink *bridge_sink_stdout_new(void);

#endif
