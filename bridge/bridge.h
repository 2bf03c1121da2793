/** @file bridge.h
 * The daemon's shared state and cross-file API: the running bridge (config, output, streamers),
 * logging, and the streamer threads.
 *
 * Threads: the main thread owns the config, the MQTT client's pump, signals and the periodic
 * publishes; it sleeps until bridge_out_wake() or its next deadline, so an idle bridge costs
 * no wakeups of its own. Each streamer has one thread that owns its tt_client. They meet in
 * bridge_out_publish() (thread-safe, never blocks on the broker) and in each streamer's
 * counters, read under its mutex.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_BRIDGE_H
#define BRIDGE_BRIDGE_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "cfg.h"
#include "mqtt.h"
#include "tt.h"

#define BRIDGE_VERSION "0.1.0"

/* ---- logging: single lines to stderr with level and streamer, readable in journald ---- */
extern int bridge_log_level; /* enum bridge_log_level */
void bridge_log(int level, const char *user, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
#define LOG_AT(lvl, user, ...)                      \
    do {                                            \
        if ((lvl) <= bridge_log_level) {            \
            bridge_log((lvl), (user), __VA_ARGS__); \
        }                                           \
    } while (0)
#define LOG_ERR(u, ...)   LOG_AT(BRIDGE_LOG_ERROR, u, __VA_ARGS__)
#define LOG_WARN(u, ...)  LOG_AT(BRIDGE_LOG_WARN, u, __VA_ARGS__)
#define LOG_INFO(u, ...)  LOG_AT(BRIDGE_LOG_INFO, u, __VA_ARGS__)
#define LOG_DEBUG(u, ...) LOG_AT(BRIDGE_LOG_DEBUG, u, __VA_ARGS__)

/* ---- output: MQTT, or JSON lines on stdout (--stdout) ---- */
struct bridge_out {
    struct bridge_mqtt *mqtt; /* NULL with --stdout */
    pthread_mutex_t stdout_lock;
    char base[256];
    int qos;
    atomic_int raw;    /* [bridge] raw: publish unknown message types */
    atomic_int urgent; /* a streamer's state must go out now (a stream started or ended) */
    int wake_fd;       /* eventfd the main thread sleeps on; -1 before main() makes it */
    atomic_int wake_pending;
};

/** Tell the main thread it has work (a message to send, a state to publish, a signal): any
 * thread, async-signal-safe. Only the first call since the main thread last woke costs a
 * write, so a busy stream does not make one syscall per event. */
void bridge_out_wake(struct bridge_out *o);

/** `<base>/<rest>` with `payload`; with --stdout only events and status lines are printed. */
void bridge_out_publish(struct bridge_out *o, const char *rest, const char *payload, size_t len,
                        int qos, unsigned flags, uint64_t msg_id);
/** bridge_out_publish of `j` printed compactly; takes `j` and deletes it. Out of memory, the
 * message is dropped (the next state or health message supersedes it). */
void bridge_out_publish_json(struct bridge_out *o, const char *rest, cJSON *j, int qos,
                             unsigned flags);
/** --stdout lines (mqtt-contract.md §3). */
void bridge_out_event_line(struct bridge_out *o, const char *user, const char *event,
                           const char *json, size_t len);
void bridge_out_status_line(struct bridge_out *o, const char *user, const char *status_json);

/* ---- streamers ---- */
struct bridge_totals {
    int live;
    int64_t viewer_count, total_like_count, diamonds, gifts, follows, shares, members, chats;
    int64_t last_event_at; /* unix ms, 0 = never */
};

struct streamer {
    struct streamer *next;
    struct bridge_out *out;
    struct bridge_streamer cfg; /* a copy; its strings are only read by streamer_new */
    char topic[64];
    pthread_t thread;
    int started;
    atomic_int stop;
    pthread_mutex_t lock; /* everything below */
    pthread_cond_t wake;
    tt_client *client;
    char state[16], room_id[32];
    int64_t since_ms, retry_at_ms;
    char err_code[32], err_msg[256];
    struct bridge_totals totals;
    int totals_dirty;
    uint64_t events, decode_errors, reconnects, sign_requests, rate_limit_wait_s;
    int64_t start_delay_ms; /* staggered starts: not every streamer hits the signer at once */
    struct bridge_rec *rec; /* record_dir, NULL when off; used by its thread only */
};

struct streamer *streamer_new(struct bridge_out *out, const struct bridge_cfg *cfg,
                              const struct bridge_streamer *s);
int streamer_start(struct streamer *s);
/** The connection's options from a streamer's effective [tiktok] keys (--probe uses them too,
 * so a probe connects exactly as the daemon would). */
void streamer_tt_options(const struct bridge_tiktok *t, struct tt_options *o);
/** Ask to stop (from any thread); streamer_join waits and publishes availability offline. */
void streamer_stop(struct streamer *s);
void streamer_join(struct streamer *s);
void streamer_free(struct streamer *s);
/** Publish its state topic if it changed (main thread, every state_interval). */
void streamer_publish_state(struct streamer *s, int force);
/** 1 when its state must go out now (a stream started or ended). */
int streamer_state_urgent(struct streamer *s);
/** Its part of bridge/health, as a new cJSON object. */
struct cJSON;
struct cJSON *streamer_health(struct streamer *s);

int64_t bridge_now_ms(void);

/* ---- record.c: record_dir, every raw frame in tiktok-live-sim --replay's layout ---- */
#define BRIDGE_RECORD_MAX_BYTES ((uint64_t)1 << 30) /* per room: then one log line, no more */
struct bridge_rec;
/** A recorder of one streamer's rooms under `root`/`handle`/; nothing is opened yet. */
struct bridge_rec *record_new(const char *root, const char *handle, uint64_t max_bytes);
/** The tt_raw_fn to give tt_client_set_raw_hook with the recorder as userdata. */
void record_hook(const struct tt_raw_frame *f, void *ud);
/** End the current room's recording (fsync once); the next frame opens it again. */
void record_close(struct bridge_rec *r);
void record_free(struct bridge_rec *r);

/* metrics.c: Prometheus /metrics and /healthz on [bridge] metrics (ADDR:PORT) */
struct bridge_metrics;
/** Bind and listen (nothing served yet); NULL with the reason in `err` when that fails. */
struct bridge_metrics *bridge_metrics_new(const char *addr, char *err, size_t errlen);
/** Serve from a thread of its own; out->mqtt (NULL with --stdout) must be set already. A scrape
 * wakes the main loop through `out`. */
int bridge_metrics_start(struct bridge_metrics *m, struct bridge_out *out, int64_t started_ms);
/** Main thread, every turn of the loop: render /metrics when a scrape waits for it. */
void bridge_metrics_pump(struct bridge_metrics *m, struct streamer *list);
/** Stop serving and free; NULL is a no-op. */
void bridge_metrics_free(struct bridge_metrics *m);

/* notices.c: retained room info and <base>/bridge/event */
/** TikTok's room/info data (tt_state.room_info) as <user>/room. */
void bridge_room_publish(struct streamer *s, const char *room_id, const char *room_info);
void bridge_event_rate_limited(struct streamer *s, unsigned retry_after);
void bridge_event_error(struct streamer *s, enum tt_err e, const char *msg);
void bridge_event_simple(struct bridge_out *o, const char *type, const char *user);

#endif
