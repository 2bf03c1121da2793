/** @file streamers.c
 * The set of running streamers (struct bridge.streamers): starting and stopping them, the
 * ones the API adds or removes, Home Assistant's announcements, and reload (SIGHUP or the
 * API): added streamers start, removed ones stop and are cleared, changed ones restart.
 *
 * All of it runs on the main thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "notices.h"
#include "report.h"
#include "streamers.h"

struct streamer *bridge_streamer_find(struct bridge *b, const char *handle)
{
    for (struct streamer *s = b->streamers; s; s = s->next) {
        if (!strcmp(s->cfg.handle, handle)) {
            return s;
        }
    }
    return NULL;
}

void bridge_streamer_start(struct bridge *b, const struct bridge_streamer *bs, int64_t delay_ms)
{
    if (!bs->owned || !bs->enabled || runtime_is_removed(&b->rt, bs->handle) ||
        bridge_streamer_find(b, bs->handle)) {
        return;
    }
    struct streamer *s = streamer_new(&b->out, &b->cfg, bs, b->devices);
    if (!s) {
        return;
    }
    s->start_delay_ms = delay_ms;
    seen_give(&b->seen, bs->handle, s->client); /* before its thread: the client is ours */
    if (streamer_start(s)) {
        LOG_ERR(bs->handle, "cannot start its thread");
        streamer_free(s);
        return;
    }
    s->next = b->streamers;
    b->streamers = s;
}

/* Stopping several at once: ask all, then wait for all (each may be mid-request). What each
 * published is kept for the next streamer of its handle. */
static void stop_list(struct bridge *b, struct streamer *list)
{
    for (struct streamer *s = list; s; s = s->next) {
        streamer_stop(s);
    }
    while (list) {
        struct streamer *next = list->next;
        streamer_join(list);
        seen_put(&b->seen, list->cfg.handle, list->client);
        streamer_free(list);
        list = next;
    }
}

/* Take a streamer off the running list and stop it (its retained topics stay). */
static void stop_running(struct bridge *b, struct streamer *s)
{
    struct streamer **pp = &b->streamers;
    while (*pp != s) {
        pp = &(*pp)->next;
    }
    *pp = s->next;
    s->next = NULL;
    stop_list(b, s);
}

/* Stop a running streamer for good: its thread, its retained topics, its discovery. */
void bridge_streamer_remove(struct bridge *b, struct streamer *s)
{
    char topic[64];
    snprintf(topic, sizeof topic, "%s", s->topic);
    stop_running(b, s);
    bridge_out_clear(&b->out, topic); /* what was kept of it goes */
}

/* A streamer the API added: the [tiktok] defaults, its handle as topic. */
void bridge_streamer_start_runtime(struct bridge *b, const char *handle)
{
    struct bridge_streamer bs;
    memset(&bs, 0, sizeof bs);
    snprintf(bs.handle, sizeof bs.handle, "%s", handle);
    bs.topic = bs.handle;
    bs.enabled = true;
    bs.owned = bridge_shard_owns(handle, b->cfg.bridge.shard.i, b->cfg.bridge.shard.n);
    bs.tt = b->cfg.tiktok; /* strings borrowed: streamer_new copies what it keeps */
    bridge_streamer_start(b, &bs, 0);
}

/* A handle added at run time is its own topic: it must not be the bridge's level nor the
 * topic another streamer already publishes under (its events would mix with theirs) */
const char *bridge_streamer_topic_taken(struct bridge *b, const char *handle)
{
    if (bridge_topic_reserved(handle)) {
        return "its topic would be the bridge's own level: follow it from the configuration "
               "with another topic";
    }
    for (struct streamer *s = b->streamers; s; s = s->next) {
        if (!strcmp(s->topic, handle)) {
            return "its topic is already used by another streamer";
        }
    }
    return NULL;
}

void bridge_streamers_announce(struct bridge *b)
{
    for (struct streamer *s = b->streamers; s; s = s->next) {
        bridge_out_announce(&b->out, s->cfg.handle, s->topic);
    }
}

void bridge_streamers_stop_all(struct bridge *b)
{
    stop_list(b, b->streamers);
    b->streamers = NULL;
}

/* ---- reload ---- */

/* The line a message of `path` is about ("path:12: ..."), 0 for the file as a whole. */
static long line_of(const char *msg, const char *path)
{
    size_t n = strlen(path);
    return !strncmp(msg, path, n) && msg[n] == ':' ? strtol(msg + n + 1, NULL, 10) : 0;
}

int bridge_load_config(const char *path, struct bridge_cfg *cfg, char *why, size_t n)
{
    struct bridge_cfg_errors errs = { 0 };
    int rc = bridge_cfg_load(path, cfg, &errs);
    size_t w = 0, e = 0;
    /* errors and warnings each come sorted by line: merged, the reader goes down the file once */
    while (w < errs.n_warnings || e < errs.n_errors) {
        if (e == errs.n_errors || (w < errs.n_warnings && line_of(errs.warnings[w], path) <
                                                                  line_of(errs.errors[e], path))) {
            fprintf(stderr, "%s (warning)\n", errs.warnings[w++]);
        } else {
            fprintf(stderr, "%s\n", errs.errors[e++]);
        }
    }
    if (rc && why && n) {
        snprintf(why, n, "%s", errs.n_errors ? errs.errors[0] : "the configuration has errors");
        if (errs.n_errors > 1) {
            size_t len = strlen(why);
            snprintf(why + len, n - len, " (and %zu more in the log)", errs.n_errors - 1);
        }
    }
    bridge_cfg_errors_free(&errs);
    return rc;
}

static void apply_diff(struct bridge *b, const struct bridge_cfg_diff *d)
{
    for (size_t i = 0; i < d->n_streamers; i++) {
        const struct bridge_cfg_streamer_diff *sd = &d->streamers[i];
        struct streamer *s = bridge_streamer_find(b, sd->handle);
        if (sd->change == BRIDGE_CFG_UNCHANGED) {
            continue;
        }
        if (s) { /* removed or changed: stop the running one first */
            if (sd->change == BRIDGE_CFG_REMOVED || strcmp(s->topic, sd->after->topic)) {
                bridge_streamer_remove(b, s);
            } else {
                stop_running(b, s); /* restarted below with its new settings */
            }
            if (sd->change == BRIDGE_CFG_REMOVED) {
                bridge_event_simple(&b->out, "streamer_removed", sd->handle);
            }
        }
        if (sd->after) {
            bridge_streamer_start(b, sd->after, 0);
            if (sd->change == BRIDGE_CFG_ADDED) {
                bridge_event_simple(&b->out, "streamer_added", sd->handle);
            }
        }
    }
}

int bridge_reload(struct bridge *b, const char *path, char *why, size_t n)
{
    struct bridge_cfg next = { 0 };
    struct bridge_cfg_diff d = { 0 };
    if (bridge_load_config(path, &next, why, n)) {
        LOG_ERR(NULL, "bridge_reload: %s has errors, keeping the running configuration", path);
        bridge_cfg_free(&next);
        return -1;
    }
    bridge_cfg_diff(&b->cfg, &next, &d);
    if (d.restart_required) {
        LOG_WARN(NULL, "bridge_reload: changed keys need a restart to take effect: %s",
                 d.global_keys);
    }
    apply_diff(b, &d);
    bridge_cfg_diff_free(&d);
    /* what needs a restart is not in effect: without this, reverting it warned again */
    bridge_cfg_keep_running(&b->cfg, &next);
    /* running streamers hold no pointers into the old config (streamer.c), so it can go */
    bridge_cfg_free(&b->cfg);
    b->cfg = next;
    bridge_log_level = b->cfg.bridge.log_level;
    atomic_store(&b->out.raw, b->cfg.bridge.raw);
    bridge_report_info(b);
    bridge_streamers_announce(b);
    bridge_event_simple(&b->out, "config_reloaded", NULL);
    LOG_INFO(NULL, "reloaded %s", path);
    return 0;
}
