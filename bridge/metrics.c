/** @file metrics.c
 * The Prometheus page (the text exposition format, version 0.0.4) that the HTTP server
 * (http.c) answers /metrics with: this file only renders it.
 *
 * The figures are the counters bridge/health already publishes (streamer.c, mqtt.c): nothing is
 * counted twice. The streamer list belongs to the main thread (SIGHUP and the runtime API change
 * it), so the page is rendered there: a scrape makes the server ask the main loop for a page
 * (http.c, bridge_http_pump), which calls bridge_metrics_render().
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "metrics.h"
#include "paho_heap.h"
#include "xalloc.h"

/* Defined only where paho is linked from its static archive (bridge/daemon.mk, PAHO_LINK) */
#pragma weak paho_heap_stats

/* ---- the page: a growing buffer ---- */

struct buf {
    char *p;
    size_t n, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (n < 0) {
            return;
        }
        if ((size_t)n < b->cap - b->n) {
            b->n += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
}

/* A label value as the format wants it: backslash, double quote and newline escaped. Values
 * are handles and version strings: longer ones are cut (never mid-escape). */
static void label(struct buf *b, const char *name, const char *v)
{
    char esc[256];
    size_t n = 0;
    for (; *v && n + 3 < sizeof esc; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n') {
            esc[n++] = '\\';
        }
        esc[n++] = *v == '\n' ? 'n' : *v;
    }
    esc[n] = '\0';
    bprintf(b, "%s=\"%s\"", name, esc);
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
    bprintf(b, "# HELP tiktok2mqtt_%s %s\n# TYPE tiktok2mqtt_%s %s\n", name, help, name, type);
}

/* ---- rendering (main thread) ---- */

/* One streamer's figures, copied under its lock so that each family below is consistent. */
struct snap {
    char handle[BRIDGE_HANDLE_SIZE], state[16];
    uint64_t events, decode_errors, frame_errors, reconnects, sign_requests, rate_limit_wait_s;
    uint64_t stale_closes;
    int64_t last_event_at, viewers;
    char flow[16];
};

static const struct {
    const char *name, *help;
    size_t off;
} counters[] = {
    { "streamer_events_total", "Events received from TikTok (every type, decode errors too).",
      offsetof(struct snap, events) },
    { "streamer_decode_errors_total", "Messages that could not be decoded.",
      offsetof(struct snap, decode_errors) },
    { "streamer_frame_errors_total",
      "WebSocket messages and polled answers that could not be decoded as a whole (each cost "
      "only itself).",
      offsetof(struct snap, frame_errors) },
    { "streamer_reconnects_total", "Connections lost and reconnected.",
      offsetof(struct snap, reconnects) },
    { "streamer_sign_requests_total", "Connection attempts (each asks the sign server).",
      offsetof(struct snap, sign_requests) },
    { "streamer_rate_limit_wait_seconds_total", "Seconds waited on the sign server's 429s.",
      offsetof(struct snap, rate_limit_wait_s) },
    { "streamer_stale_closes_total",
      "Sockets closed by the watchdog: no frame for stale_timeout_s (then reconnected).",
      offsetof(struct snap, stale_closes) },
};

/* The flows tt_client_flow names: the flow gauge has one series per flow, 1 for the current. */
static const enum tt_sign_flow flows[] = { TT_SIGN_DIRECT, TT_SIGN_EULER, TT_SIGN_LEGACY,
                                           TT_SIGN_SESSION };

/* Every state streamer.c sets: the status gauge has one series per state, 1 for the current. */
static const char *const states[] = { "stopped", "connecting", "live", "ended",
                                      "waiting", "offline",    "error" };

static size_t snapshot(struct streamer *list, struct snap **out)
{
    size_t n = 0, i = 0;
    for (struct streamer *s = list; s; s = s->next) {
        n++;
    }
    struct snap *v = xcalloc(n ? n : 1, sizeof *v);
    for (struct streamer *s = list; s; s = s->next, i++) {
        snprintf(v[i].handle, sizeof v[i].handle, "%s", s->cfg.handle);
        pthread_mutex_lock(&s->lock);
        snprintf(v[i].state, sizeof v[i].state, "%s", s->state);
        v[i].events = s->events;
        v[i].decode_errors = s->decode_errors;
        v[i].frame_errors = s->frame_errors;
        v[i].reconnects = s->reconnects;
        v[i].sign_requests = s->sign_requests;
        v[i].rate_limit_wait_s = s->rate_limit_wait_s;
        v[i].stale_closes = s->stale_closes;
        snprintf(v[i].flow, sizeof v[i].flow, "%s", s->flow);
        v[i].last_event_at = s->totals.last_event_at;
        v[i].viewers = s->totals.viewer_count;
        pthread_mutex_unlock(&s->lock);
    }
    *out = v;
    return n;
}

static void render_streamers(struct buf *b, const struct snap *v, size_t n)
{
    for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
        family(b, counters[k].name, "counter", counters[k].help);
        for (size_t i = 0; i < n; i++) {
            bprintf(b, "tiktok2mqtt_%s{", counters[k].name);
            label(b, "streamer", v[i].handle);
            bprintf(b, "} %llu\n",
                    (unsigned long long)*(const uint64_t *)((const char *)&v[i] + counters[k].off));
        }
    }
    family(b, "streamer_status", "gauge", "The streamer's status: 1 for the current one.");
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof states / sizeof states[0]; k++) {
            bprintf(b, "tiktok2mqtt_streamer_status{");
            label(b, "streamer", v[i].handle);
            bprintf(b, ",status=\"%s\"} %d\n", states[k], !strcmp(states[k], v[i].state));
        }
    }
    family(b, "streamer_last_event_timestamp_seconds", "gauge",
           "Unix time of the last event of the current or last live; 0: none yet.");
    for (size_t i = 0; i < n; i++) {
        bprintf(b, "tiktok2mqtt_streamer_last_event_timestamp_seconds{");
        label(b, "streamer", v[i].handle);
        bprintf(b, "} %.3f\n", (double)v[i].last_event_at / 1000);
    }
    family(b, "streamer_flow", "gauge",
           "How the streamer connects (sign_flow; auto shows direct or euler): 1 for the "
           "current one, all 0 before the first connect.");
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof flows / sizeof flows[0]; k++) {
            bprintf(b, "tiktok2mqtt_streamer_flow{");
            label(b, "streamer", v[i].handle);
            const char *flow = tt_sign_flow_name(flows[k]);
            bprintf(b, ",flow=\"%s\"} %d\n", flow, !strcmp(flow, v[i].flow));
        }
    }
    family(b, "streamer_viewers", "gauge", "Viewers, as the last roomUser event said.");
    for (size_t i = 0; i < n; i++) {
        bprintf(b, "tiktok2mqtt_streamer_viewers{");
        label(b, "streamer", v[i].handle);
        bprintf(b, "} %lld\n", (long long)v[i].viewers);
    }
}

static void gauge(struct buf *b, const char *name, const char *help, double v)
{
    family(b, name, "gauge", help);
    bprintf(b, "tiktok2mqtt_%s %.17g\n", name, v);
}

static void counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
    family(b, name, "counter", help);
    bprintf(b, "tiktok2mqtt_%s %llu\n", name, (unsigned long long)v);
}

/* The direct path's device pool (ttwid tokens), shared by the streamers. */
static void render_devices(struct buf *b, struct tt_devices *d)
{
    struct tt_devices_stats st = { 0 };
    if (d) {
        tt_devices_stats(d, &st);
    }
    gauge(b, "devices", "Direct-path devices (ttwid + User-Agent) known, blocked ones included.",
          st.devices);
    gauge(b, "devices_blocked", "Devices given up (DEVICE_BLOCKED, or a socket that died young).",
          st.blocked);
    counter(b, "ttwid_minted_total", "ttwid tokens obtained from TikTok by this process.",
            st.minted);
    counter(b, "device_rotations_total", "Devices given up by this process.", st.rotated);
    gauge(b, "ttwid_file_save_failed",
          "1 when the last write of ttwid_file failed, or was refused (unreadable).",
          st.save_failed);
}

static void render_bridge(struct buf *b, const struct bridge_metrics_src *m, size_t n_streamers)
{
    struct bridge_mqtt_stats st;
    bridge_out_stats(m->out, &st); /* zero without a broker (--stdout) */
    family(b, "build_info", "gauge", "The bridge's and libtiktok's versions.");
    bprintf(b, "tiktok2mqtt_build_info{");
    label(b, "version", BRIDGE_VERSION);
    bprintf(b, ",");
    label(b, "libtiktok", tt_version());
    bprintf(b, "} 1\n");
    gauge(b, "start_time_seconds", "Unix time the bridge started.", (double)m->started_ms / 1000);
    gauge(b, "streamers", "Streamers followed by this instance.", (double)n_streamers);
    gauge(b, "mqtt_connected", "1 while the broker is connected.", st.connected);
    gauge(b, "mqtt_protocol_level", "MQTT protocol in use: 5, or 4 for 3.1.1.", st.protocol);
    counter(b, "mqtt_messages_published_total", "Messages the broker acknowledged.", st.published);
    gauge(b, "mqtt_messages_buffered", "Messages waiting for the broker.", (double)st.queued);
    gauge(b, "mqtt_buffered_bytes", "Bytes the waiting messages hold (max_buffered_bytes).",
          (double)st.queued_bytes);
    gauge(b, "mqtt_messages_in_flight", "Messages sent and not yet acknowledged.",
          (double)st.in_flight);
    counter(b, "mqtt_messages_dropped_total", "Messages dropped past max_buffered, events first.",
            st.dropped);
    counter(b, "mqtt_messages_refused_total",
            "Messages the broker refused (PUBACK reason >= 0x80), dropped.", st.refused);
    counter(b, "mqtt_reconnects_total", "Reconnections to the broker.", st.reconnects);
    counter(b, "mqtt_messages_bad_topic_total",
            "Messages dropped: a topic MQTT forbids (wildcard, invalid UTF-8).", st.bad_topic);
    counter(b, "mqtt_messages_too_large_total",
            "Messages dropped: over Maximum Packet Size or max_payload_bytes.", st.too_large);
    counter(b, "mqtt_paho_nudges_total",
            "paho's send thread woken: messages in flight, no word from the broker for 20 ms.",
            st.nudges);
    if (paho_heap_stats) {
        counter(b, "mqtt_paho_double_frees_total",
                "paho's frees of blocks already freed, ignored (paho 1.3.12, after a failed "
                "write).",
                paho_heap_stats().ignored_frees);
    }
    gauge(b, "mqtt_last_puback_age_seconds", "Seconds since the last acknowledgement (-1: none).",
          st.last_ack_ms < 0 ? -1 : (double)st.last_ack_ms / 1000);
    gauge(b, "mqtt_oldest_queued_age_seconds", "Seconds the oldest waiting message has waited.",
          (double)st.oldest_ms / 1000);
    gauge(b, "http_event_streams", "Server-Sent Events streams open (/events).",
          (double)bridge_sse_clients(m->sse));
    render_devices(b, m->devices);
}

char *bridge_metrics_render(const struct bridge_metrics_src *src, struct streamer *list,
                            size_t *len)
{
    struct buf b = { xmalloc(4096), 0, 4096 };
    struct snap *v;
    size_t n = snapshot(list, &v);
    render_bridge(&b, src, n);
    render_streamers(&b, v, n);
    free(v);
    *len = b.n;
    return b.p;
}
