/** @file streamer.h
 * One streamer: a thread that owns its tt_client and never gives up on it (streamer.c).
 *
 * Threads: the streamer's thread owns the client and publishes its events, status and
 * availability (never while holding `lock`); the main thread reads its counters and totals
 * under `lock` and publishes its state.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_STREAMER_H
#define BRIDGE_STREAMER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "cfg.h"
#include "out.h"
#include "tt.h"

struct bridge_totals {
    int live;
    int64_t viewer_count, diamonds, gifts, follows, shares, members, chats;
    int64_t total_like_count; /* the largest totalLikeCount seen this live (never backwards) */
    int64_t like_count_sum;   /* the sum of the like events' likeCount this live */
    int64_t last_event_at;    /* unix ms, 0 = never */
};

struct streamer {
    struct streamer *next;
    struct bridge_out *out;
    struct bridge_streamer cfg; /* a copy; its strings are only read by streamer_new */
    char topic[64];
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_int kicked;    /* the runtime API's reconnect: made again at once, shown as no error */
    pthread_mutex_t lock; /* everything below */
    pthread_cond_t wake;
    tt_client *client;
    char state[16], room_id[32];
    int64_t since_ms, retry_at_ms;
    char err_code[32], err_msg[256];
    struct bridge_totals totals;
    char totals_room[32]; /* the room whose live `totals` count, "" before one */
    int totals_checked;   /* this connection's room has been checked against it */
    int totals_dirty;
    uint64_t events, decode_errors, reconnects, sign_requests, rate_limit_wait_s;
    uint64_t stale_closes;  /* sockets the watchdog closed (stale_timeout_s without a frame) */
    uint64_t frame_errors;  /* WebSocket messages, polled answers undecodable as a whole */
    char flow[16];          /* the flow of the current or last connection, "" before one */
    char flow_why[384];     /* ... and why that one (tt_client_flow) */
    int64_t start_delay_ms; /* staggered starts: not every streamer hits the signer at once */
    struct bridge_rec *rec; /* record_dir, NULL when off; used by its thread only */
    int avail;              /* availability last published, -1 none yet; its thread only */
};

/** `devices`: the process's device pool for the direct path (borrowed; outlives streamers). */
struct streamer *streamer_new(struct bridge_out *out, const struct bridge_cfg *cfg,
                              const struct bridge_streamer *s, struct tt_devices *devices);
/** Its flow and why, for bridge/info: copies into the buffers (under its lock). */
void streamer_flow(struct streamer *s, char *flow, size_t fn, char *why, size_t wn);
int streamer_start(struct streamer *s);
/** Ask to stop (from any thread); its thread publishes availability offline as it ends, and
 *  streamer_join waits for that. */
void streamer_stop(struct streamer *s);
/** Drop the connection and make it again now, from any thread (the runtime API's reconnect):
 *  no backoff and no error in `status`; a streamer waiting for its next attempt tries now. */
void streamer_reconnect(struct streamer *s);
void streamer_join(struct streamer *s);
void streamer_free(struct streamer *s);
/** Publish its state if it changed (main thread, every state_interval). */
void streamer_publish_state(struct streamer *s, int force);
/** 1 when its state must go out now (a stream started or ended). */
int streamer_state_urgent(struct streamer *s);
/** Its part of bridge/health, as a new cJSON object. */
struct cJSON;
struct cJSON *streamer_health(struct streamer *s);

#endif
