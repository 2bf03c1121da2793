/** @file streamer.c
 * One thread per streamer: it owns a tt_client and never gives up on the streamer.
 *
 *   connecting -> live                     on "connected"
 *   live -> ended -> waiting -> ...        the LIVE ended: check again every live_check_interval
 *   connecting -> waiting                  offline: check again every live_check_interval
 *   waiting -> live | error                a check is part of the wait: no connecting shown
 *   live -> connecting                     the socket dropped: reconnect with exponential
 *                                          backoff and jitter, reconnect_min_s..reconnect_max_s
 *   connecting -> error (rate_limited)     the sign server's 429: wait its Retry-After, plus
 *                                          a jitter of 10 % of it (1 to 60 s)
 *   any -> stopped                         removed from the config, or the bridge stops
 *
 * Every change is published on <base>/<user>/status (retained) and availability follows the
 * event stream. Events go to <base>/<user>/<event>, a completed gift also to giftEnd, and the
 * running totals of <base>/<user>/state are kept here (published by the main thread).
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "clock.h"
#include "log.h"
#include "prng.h"
#include "notices.h"
#include "record.h"
#include "streamer.h"
#include "topic.h"
#include "xalloc.h"

/* ---- status ---- */

/* The status object of `s` (under its lock); NULL out of memory. cJSON_free it. */
static char *status_json(const struct streamer *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "state", s->state);
    cJSON_AddStringToObject(j, "roomId", s->room_id);
    cJSON_AddNumberToObject(j, "since", (double)s->since_ms);
    if (s->err_code[0]) {
        cJSON *e = cJSON_AddObjectToObject(j, "error");
        cJSON_AddStringToObject(e, "code", s->err_code);
        cJSON_AddStringToObject(e, "message", s->err_msg);
    } else {
        cJSON_AddNullToObject(j, "error");
    }
    if (s->retry_at_ms) {
        cJSON_AddNumberToObject(j, "retryAt", (double)s->retry_at_ms);
    } else {
        cJSON_AddNullToObject(j, "retryAt");
    }
    char *txt = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return txt;
}

/* Only a change goes out: a live connection's end says offline, and the thread's end, which
 * follows it on a stop, would say it again. */
static void publish_availability(struct streamer *s, int online)
{
    if (s->avail == online) {
        return;
    }
    s->avail = online;
    bridge_out_retained(s->out, BRIDGE_TOPIC_AVAILABILITY, s->topic, online ? "online" : "offline",
                        online ? 6 : 7);
}

/* Only the streamer's own thread calls this, so statuses go out in the order they were set,
 * and they go out after the lock is released: a slow sink never holds up the main thread. */
static void set_state(struct streamer *s, const char *state, enum tt_err e, const char *msg,
                      int64_t retry_at)
{
    pthread_mutex_lock(&s->lock);
    int changed = strcmp(s->state, state) != 0;
    snprintf(s->state, sizeof s->state, "%s", state);
    if (changed) {
        s->since_ms = common_wall_ms();
    }
    snprintf(s->err_code, sizeof s->err_code, "%s", e ? tt_err_name(e) : "");
    snprintf(s->err_msg, sizeof s->err_msg, "%s", e && msg ? msg : "");
    s->retry_at_ms = retry_at;
    char *txt = status_json(s); /* out of memory: the next status supersedes this one */
    pthread_mutex_unlock(&s->lock);
    if (txt) {
        bridge_out_status(s->out, s->topic, txt, strlen(txt));
    }
    cJSON_free(txt);
    if (changed) {
        LOG_INFO(s->topic, "%s%s%s", state, e ? ": " : "", e && msg ? msg : "");
    }
}

/* ---- events ---- */

static void count(struct streamer *s, const struct tt_event *ev)
{
    struct bridge_totals *t = &s->totals;
    switch (ev->type) {
    case TT_EV_ROOM_USER:
        t->viewer_count = ev->u.room_user.viewer_count;
        break;
    case TT_EV_LIKE:
        /* TikTok's totals come from several servers and may step back: a total_increasing
         * sensor would read that as a new cycle, so the largest seen within the live stays */
        t->total_like_count =
                ev->u.like.total > t->total_like_count ? ev->u.like.total : t->total_like_count;
        t->like_count_sum += ev->u.like.count;
        break;
    case TT_EV_FOLLOW:
        t->follows++;
        break;
    case TT_EV_SHARE:
        t->shares++;
        break;
    case TT_EV_MEMBER:
        t->members++;
        break;
    case TT_EV_CHAT:
        t->chats++;
        break;
    default:
        return;
    }
    s->totals_dirty = 1;
}

/* Totals are per live, not per connection: a reconnect within the live (a dropped or silent
 * socket) goes on counting, and the backlog a connect delivers before "connected" counts in
 * the live it belongs to. They start again with another room, or after the live ended. The
 * first event of each connection (its backlog's, or "connected") decides; under the lock.
 * Returns 1 when the totals started again. */
static int totals_for_connection(struct streamer *s)
{
    struct tt_state st;
    if (s->totals_checked) {
        return 0;
    }
    s->totals_checked = 1;
    tt_client_state(s->client, &st);
    if (s->totals.live && !strcmp(st.room_id, s->totals_room)) {
        return 0;
    }
    memset(&s->totals, 0, sizeof s->totals);
    snprintf(s->totals_room, sizeof s->totals_room, "%s", st.room_id);
    s->totals.live = 1;
    s->totals_dirty = 2; /* published at once: a stream start */
    atomic_store(&s->out->urgent, 1);
    return 1;
}

/* A completed gift counts (the library says which, with its total); 1 when its giftEnd is to be
 * published. Under the streamer's lock. */
static int gift_end(struct streamer *s, const struct tt_event *ev)
{
    if (!ev->u.gift.complete) {
        return 0;
    }
    s->totals.gifts++;
    s->totals.diamonds += ev->u.gift.total_diamonds;
    s->totals_dirty = 1;
    return ev->u.gift.end_json && bridge_events_want(&s->cfg.tt.events, BRIDGE_EV_GIFT_END);
}

/* Control events of the connection: status and availability, not event topics. */
static int control_event(struct streamer *s, const struct tt_event *ev)
{
    switch (ev->type) {
    case TT_EV_CONNECTED: {
        struct tt_state st;
        tt_client_state(s->client, &st);
        pthread_mutex_lock(&s->lock);
        snprintf(s->room_id, sizeof s->room_id, "%s", st.room_id);
        totals_for_connection(s);
        s->totals_dirty = 2; /* published at once, a reconnect's too: live again */
        atomic_store(&s->out->urgent, 1);
        pthread_mutex_unlock(&s->lock);
        bridge_out_wake(s->out);
        publish_availability(s, 1);
        set_state(s, "live", TT_OK, NULL, 0);
        bridge_room_publish(s, st.room_id, st.room_info);
        return 1;
    }
    case TT_EV_DISCONNECTED:
        publish_availability(s, 0);
        return 1;
    case TT_EV_WEBSOCKET_CONNECTED:
        return 1;
    case TT_EV_ERROR: { /* a peer can send bad frames in a loop: one line per code a minute */
        char cause[64];
        if (ev->u.error.frame) { /* counted, as the log says only some of them */
            pthread_mutex_lock(&s->lock);
            s->frame_errors++;
            pthread_mutex_unlock(&s->lock);
        }
        snprintf(cause, sizeof cause, "event error %s", tt_err_name(ev->u.error.code));
        LOG_LIMITED(BRIDGE_LOG_WARN, s->topic, cause, "%s", ev->json);
        return 1;
    }
    default:
        return 0;
    }
}

static void on_event(const struct tt_event *ev, void *ud)
{
    struct streamer *s = ud;
    int end = 0;
    if (control_event(s, ev)) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (totals_for_connection(s)) {
        bridge_out_wake(s->out);
    }
    s->events++;
    s->decode_errors += ev->type == TT_EV_DECODE_ERROR;
    s->totals.last_event_at = common_wall_ms();
    count(s, ev);
    if (ev->type == TT_EV_GIFT) {
        end = gift_end(s, ev);
    }
    if (ev->type == TT_EV_STREAM_END) {
        s->totals.live = 0;
        s->totals_dirty = 2;
        atomic_store(&s->out->urgent, 1);
        bridge_out_wake(s->out);
    }
    pthread_mutex_unlock(&s->lock);
    if (ev->type == TT_EV_RAW_DATA) {
        if (atomic_load(&s->out->raw)) {
            bridge_out_event(s->out, s->topic, TT_EV_RAW_DATA, ev->method, ev->json, ev->json_len,
                             0);
        }
        return;
    }
    if (end) { /* before the gift itself, as it always went */
        bridge_out_event(s->out, s->topic, BRIDGE_EV_GIFT_END, ev->method, ev->u.gift.end_json,
                         ev->u.gift.end_json_len, ev->msg_id);
    }
    if (bridge_events_want(&s->cfg.tt.events, ev->type)) {
        bridge_out_event(s->out, s->topic, ev->type, ev->method, ev->json, ev->json_len,
                         ev->msg_id);
    }
}

/* After each connect: which flow it took (auto decides per connect); bridge/info shows it. */
static void note_flow(struct streamer *s)
{
    const char *why;
    enum tt_sign_flow f = tt_client_flow(s->client, &why);
    const char *name = tt_sign_flow_name(f);
    pthread_mutex_lock(&s->lock);
    int changed = strcmp(s->flow, name) != 0;
    snprintf(s->flow, sizeof s->flow, "%s", name);
    snprintf(s->flow_why, sizeof s->flow_why, "%s", why);
    pthread_mutex_unlock(&s->lock);
    if (changed) {
        LOG_INFO(s->topic, "flow %s: %s", name, why);
        atomic_store(&s->out->info_dirty, 1);
        bridge_out_wake(s->out);
    }
}

void streamer_flow(struct streamer *s, char *flow, size_t fn, char *why, size_t wn)
{
    pthread_mutex_lock(&s->lock);
    snprintf(flow, fn, "%s", s->flow);
    snprintf(why, wn, "%s", s->flow_why);
    pthread_mutex_unlock(&s->lock);
}

/* ---- the thread ---- */

/* Sleep until `until_ms` (wall clock), a stop request or a reconnect request (which does not cut
 * short the sign server's Retry-After: another 429 would follow); returns 1 when asked to stop. */
static int nap_until(struct streamer *s, int64_t until_ms)
{
    pthread_mutex_lock(&s->lock);
    while (!atomic_load(&s->stop)) {
        if (atomic_load(&s->kicked) && strcmp(s->err_code, "rate_limited") != 0) {
            break;
        }
        int64_t now = common_wall_ms();
        if (now >= until_ms) {
            break;
        }
        struct timespec ts = { (time_t)(until_ms / 1000), (long)(until_ms % 1000) * 1000000L };
        pthread_cond_timedwait(&s->wake, &s->lock, &ts);
    }
    pthread_mutex_unlock(&s->lock);
    return atomic_load(&s->stop);
}

/* Exponential backoff with full jitter: a wait drawn evenly between reconnect_min_s and a
 * ceiling that starts at twice it and doubles with each failure, up to reconnect_max_s. The
 * first ceiling is twice the floor, not the floor: the streamers a common cause dropped
 * together (an edge restart, the sign server down) would otherwise all try again exactly
 * reconnect_min_s later, and hit the sign server as one burst again. */
static int64_t backoff_ms(const struct bridge_tiktok *t, unsigned attempt)
{
    int64_t lo = t->reconnect_min_s * 1000, hi = t->reconnect_max_s * 1000;
    int64_t cap = lo << (attempt < 16 ? attempt + 1 : 17);
    cap = cap > hi ? hi : cap;
    return lo + (cap > lo ? (int64_t)common_rand_below((uint64_t)(cap - lo + 1)) : 0);
}

#define RETRY_JITTER_MIN_MS 1000 /* the bounds of the spread added to a 429's wait */
#define RETRY_JITTER_MAX_MS 60000

/* The wait after a 429: its Retry-After is a "not before", the same instant for every streamer
 * limited together, so each adds its own 0..10 % of it. At least a second: a spread of a few
 * milliseconds is still one burst to the sign server; at most a minute, the sign server's
 * shortest window (its rate_limits: minute, hour, day), so a day's wait is not made longer
 * by hours. */
static int64_t retry_after_ms(unsigned wait_s)
{
    int64_t base = (int64_t)wait_s * 1000, spread = base / 10;
    spread = spread < RETRY_JITTER_MIN_MS   ? RETRY_JITTER_MIN_MS
             : spread > RETRY_JITTER_MAX_MS ? RETRY_JITTER_MAX_MS
                                            : spread;
    return base + (int64_t)common_rand_below((uint64_t)spread + 1);
}

/* What to do after connect() failed: the next attempt's time and the state to show. */
static int64_t after_failure(struct streamer *s, enum tt_err rc, unsigned *attempt)
{
    const struct bridge_tiktok *t = &s->cfg.tt;
    int64_t now = common_wall_ms(), at;
    const char *msg = tt_client_errmsg(s->client);
    if (rc == TT_ERR_OFFLINE) {
        at = now + t->live_check_interval * 1000;
        set_state(s, t->wait_until_live ? "waiting" : "offline", TT_OK, NULL, at);
        return t->wait_until_live ? at : INT64_MAX;
    }
    if (rc == TT_ERR_RATE_LIMITED) {
        unsigned wait = tt_client_retry_after(s->client);
        at = now + retry_after_ms(wait ? wait : 60);
        pthread_mutex_lock(&s->lock);
        s->rate_limit_wait_s += (uint64_t)(at - now + 500) / 1000; /* its jitter too */
        pthread_mutex_unlock(&s->lock);
        set_state(s, "error", rc, msg, at);
        bridge_event_rate_limited(s, wait ? wait : 60);
        return at;
    }
    at = now + (rc == TT_ERR_NOT_FOUND ? t->reconnect_max_s * 1000 : backoff_ms(t, (*attempt)++));
    set_state(s, "error", rc, msg, at);
    bridge_event_error(s, rc, msg);
    return at;
}

/* room_info_interval: <base>/<user>/room again while live (its title, viewer and like counts
 * change); a failed fetch keeps the last one, the connection is not affected. */
static void refresh_room(struct streamer *s)
{
    char *json = NULL;
    enum tt_err rc = tt_client_room_info(s->client, &json);
    if (rc == TT_OK && json) {
        struct tt_state st;
        tt_client_state(s->client, &st);
        bridge_room_publish(s, st.room_id, json);
    } else {
        LOG_DEBUG(s->topic, "room info refresh: %s", tt_strerror(rc));
    }
    tt_free(json);
}

/* The next service turn: long, so the thread only wakes for its heartbeat and the server's
 * answer (a stop or the stream's end ends a turn at once; 1,000 idle streamers: 13 % of a core
 * at 500 ms turns, 3.4 % at 10 s, see docs/PERFORMANCE.md), but no later than the next
 * refresh of the room. */
static int turn_ms(int64_t next_room_ms)
{
    int64_t left = next_room_ms - common_mono_ms();
    return left < 1 ? 1 : left > 3600 * 1000 ? 3600 * 1000 : (int)left;
}

/* A live connection until it ends; returns when to try again. */
static int64_t run_live(struct streamer *s, unsigned *attempt)
{
    const struct bridge_tiktok *t = &s->cfg.tt;
    int64_t every = (int64_t)t->room_info_interval * 1000;
    int64_t next_room = every ? common_mono_ms() + every : INT64_MAX;
    enum tt_err rc;
    *attempt = 0;
    while ((rc = tt_client_service(s->client, turn_ms(next_room))) == TT_OK) {
        if (common_mono_ms() >= next_room && !atomic_load(&s->stop)) {
            refresh_room(s);
            next_room = common_mono_ms() + every;
        }
    }
    if (atomic_load(&s->stop)) {
        return 0;
    }
    if (rc == TT_ERR_STATE && atomic_exchange(&s->kicked, 0)) { /* streamer_reconnect */
        pthread_mutex_lock(&s->lock);
        s->reconnects++;
        pthread_mutex_unlock(&s->lock);
        set_state(s, "connecting", TT_OK, NULL, 0);
        return common_wall_ms();
    }
    if (rc == TT_ERR_OFFLINE) { /* the stream ended: wait for the next one */
        record_close(s->rec);
        set_state(s, "ended", TT_OK, NULL, 0);
        int64_t at = common_wall_ms() + t->live_check_interval * 1000;
        set_state(s, "waiting", TT_OK, NULL, at);
        return at;
    }
    pthread_mutex_lock(&s->lock);
    s->reconnects++;
    s->stale_closes += rc == TT_ERR_STALE;
    pthread_mutex_unlock(&s->lock);
    int64_t at = common_wall_ms() + backoff_ms(t, (*attempt)++);
    set_state(s, "connecting", rc, tt_client_errmsg(s->client), at);
    return at;
}

/* The first attempt did not go live: what an earlier run left retained (`state` with
 * "live":true and its totals, `availability` online) is wrong now, and a streamer never seen
 * live has neither yet. A fresh state (live false, zero totals) and availability offline. */
static void not_live_at_start(struct streamer *s)
{
    pthread_mutex_lock(&s->lock);
    memset(&s->totals, 0, sizeof s->totals);
    s->totals_room[0] = '\0';
    s->totals_dirty = 2;
    atomic_store(&s->out->urgent, 1);
    pthread_mutex_unlock(&s->lock);
    bridge_out_wake(s->out);
    publish_availability(s, 0);
}

/* While waiting for a live, each check is part of the wait: status stays `waiting` (with its
 * `since`), only `retryAt` moves; a check does not show as `connecting`. */
static int checking_while_waiting(struct streamer *s)
{
    pthread_mutex_lock(&s->lock);
    int waiting = !strcmp(s->state, "waiting");
    pthread_mutex_unlock(&s->lock);
    return waiting;
}

static void *thread_main(void *arg)
{
    struct streamer *s = arg;
    unsigned attempt = 0;
    int first = 1;
    int64_t next = common_wall_ms() + s->start_delay_ms;
    while (!nap_until(s, next)) {
        if (!checking_while_waiting(s)) {
            set_state(s, "connecting", TT_OK, NULL, 0);
        }
        pthread_mutex_lock(&s->lock);
        s->sign_requests++;
        s->totals_checked = 0;
        pthread_mutex_unlock(&s->lock);
        /* a reconnect asked before this attempt is this attempt (left set, every nap would
         * end at once); one asked during it ends it with TT_ERR_STATE, tried again below */
        atomic_store(&s->kicked, 0);
        enum tt_err rc = tt_client_connect(s->client);
        /* tt_client_connect forgets a stop made before it started (the next connection must
         * not be refused by an old one): streamer_stop sets s->stop first, so either this sees
         * it, or the client's own flag was set after connect began and ends the connection */
        if (atomic_load(&s->stop)) {
            tt_client_disconnect(s->client);
            break;
        }
        note_flow(s);
        if (rc == TT_ERR_STATE && atomic_exchange(&s->kicked, 0)) {
            next = common_wall_ms(); /* streamer_reconnect during the connect: at once */
            continue;
        }
        if (rc && first) {
            not_live_at_start(s);
        }
        first = 0;
        next = rc ? after_failure(s, rc, &attempt) : run_live(s, &attempt);
    }
    record_close(s->rec);
    set_state(s, "stopped", TT_OK, NULL, 0);
    publish_availability(s, 0);
    return NULL;
}

/* libtiktok's own log lines (a gift list that failed, a fallback to polling, TLS checks
 * turned off), under the streamer's name */
/* The cause of a library line, for the rate limit: its words without the numbers, which vary
 * from one line of the same kind to the next. */
static void cause_of(const char *msg, char *out, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; msg[i] && j + 1 < n; i++) {
        if (msg[i] < '0' || msg[i] > '9') {
            out[j++] = msg[i];
        }
    }
    out[j] = '\0';
}

static void on_tt_log(enum tt_log_level l, const char *msg, void *ud)
{
    const struct streamer *s = ud;
    char cause[96];
    int level = l <= TT_LOG_ERR    ? BRIDGE_LOG_ERROR
                : l == TT_LOG_WARN ? BRIDGE_LOG_WARN
                : l < TT_LOG_DEBUG ? BRIDGE_LOG_INFO
                                   : BRIDGE_LOG_DEBUG;
    if (level <= bridge_log_level) {
        cause_of(msg, cause, sizeof cause);
        bridge_log_limited(level, s->topic, cause, "%s", msg);
    }
}

struct streamer *streamer_new(struct bridge_out *out, const struct bridge_cfg *cfg,
                              const struct bridge_streamer *bs, struct tt_devices *devices)
{
    struct streamer *s = xcalloc(1, sizeof *s);
    struct tt_options o;
    s->out = out;
    s->cfg = *bs; /* its strings are read here only: tt_client_new copies what it keeps */
    snprintf(s->topic, sizeof s->topic, "%s", bs->topic[0] ? bs->topic : bs->handle);
    snprintf(s->state, sizeof s->state, "stopped");
    atomic_init(&s->stop, 0);
    atomic_init(&s->kicked, 0);
    s->avail = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    char err[256];
    if (bridge_cfg_tt_options(&bs->tt, &o, err, sizeof err)) {
        LOG_ERR(bs->handle, "cannot make its connection: %s", err);
        streamer_free(s);
        return NULL;
    }
    o.devices = devices;
    if (tt_client_new(&s->client, bs->handle, &o, on_event, s)) {
        LOG_ERR(bs->handle, "cannot make its connection (bad options?)");
        streamer_free(s);
        return NULL;
    }
    tt_client_set_log(s->client, on_tt_log, TT_LOG_DEBUG, s);
    /* record_dir: the streamer's own, else the [bridge] one; "" (or none) is off */
    const char *rec = bs->record_dir && bs->record_dir[0] ? bs->record_dir : cfg->bridge.record_dir;
    if (rec && rec[0]) {
        s->rec = record_new(rec, bs->handle, BRIDGE_RECORD_MAX_BYTES);
        tt_client_set_raw_hook(s->client, record_hook, s->rec);
    }
    return s;
}

int streamer_start(struct streamer *s)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    /* 256 KiB is plenty (the deepest path is a decode); 8 MiB each would reserve 8 GiB of
     * address space for a thousand streamers */
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int rc = pthread_create(&s->thread, &attr, thread_main, s);
    pthread_attr_destroy(&attr);
    if (rc) {
        return -1;
    }
    s->started = 1;
    return 0;
}

/* Set `flag`, then end the thread's connection or its nap, whichever it is in. */
static void interrupt(struct streamer *s, atomic_int *flag)
{
    atomic_store(flag, 1);
    tt_client_stop(s->client);
    pthread_mutex_lock(&s->lock);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

void streamer_stop(struct streamer *s)
{
    interrupt(s, &s->stop);
}

void streamer_reconnect(struct streamer *s)
{
    interrupt(s, &s->kicked);
}

void streamer_join(struct streamer *s)
{
    if (s->started) {
        pthread_join(s->thread, NULL);
        s->started = 0;
    }
}

void streamer_free(struct streamer *s)
{
    if (!s) {
        return;
    }
    tt_client_free(s->client);
    record_free(s->rec);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}

/* ---- state and health ---- */

void streamer_publish_state(struct streamer *s, int force)
{
    pthread_mutex_lock(&s->lock);
    if (!s->totals_dirty && !force) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    const struct bridge_totals *t = &s->totals;
    char json[512];
    int n = snprintf(json, sizeof json,
                     "{\"live\":%s,\"viewerCount\":%lld,\"totalLikeCount\":%lld,"
                     "\"likeCountSum\":%lld,\"diamonds\":%lld,"
                     "\"gifts\":%lld,\"follows\":%lld,\"shares\":%lld,\"members\":%lld,"
                     "\"chats\":%lld,\"lastEventAt\":%lld}",
                     t->live ? "true" : "false", (long long)t->viewer_count,
                     (long long)t->total_like_count, (long long)t->like_count_sum,
                     (long long)t->diamonds, (long long)t->gifts, (long long)t->follows,
                     (long long)t->shares, (long long)t->members, (long long)t->chats,
                     (long long)t->last_event_at);
    s->totals_dirty = 0;
    pthread_mutex_unlock(&s->lock);
    bridge_out_retained(s->out, BRIDGE_TOPIC_STATE, s->topic, json, (size_t)n);
}

int streamer_state_urgent(struct streamer *s)
{
    pthread_mutex_lock(&s->lock);
    int urgent = s->totals_dirty == 2;
    pthread_mutex_unlock(&s->lock);
    return urgent;
}

cJSON *streamer_health(struct streamer *s)
{
    cJSON *j = cJSON_CreateObject();
    pthread_mutex_lock(&s->lock);
    int64_t age = s->totals.last_event_at ? common_wall_ms() - s->totals.last_event_at : -1;
    cJSON_AddStringToObject(j, "state", s->state);
    cJSON_AddNumberToObject(j, "events", (double)s->events);
    cJSON_AddNumberToObject(j, "decodeErrors", (double)s->decode_errors);
    cJSON_AddNumberToObject(j, "frameErrors", (double)s->frame_errors);
    cJSON_AddNumberToObject(j, "reconnects", (double)s->reconnects);
    cJSON_AddNumberToObject(j, "staleCloses", (double)s->stale_closes);
    cJSON_AddNumberToObject(j, "lastEventAgeMs", (double)age);
    cJSON_AddNumberToObject(j, "signRequests", (double)s->sign_requests);
    cJSON_AddNumberToObject(j, "rateLimitWaitS", (double)s->rate_limit_wait_s);
    pthread_mutex_unlock(&s->lock);
    return j;
}
