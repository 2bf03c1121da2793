/** @file sink_mqtt.c
 * The MQTT sink: every output becomes a topic of topic.h on the broker of [mqtt] (mqtt.c does
 * the connection and the queue), with Home Assistant discovery (ha.c) when [homeassistant] is
 * on. Incoming messages (runtime API requests, Home Assistant's birth) are handed back to the
 * bridge through its callbacks.
 *
 *   events       qos = [mqtt] qos, not retained, MQTT 5 expiry (event_expiry) and msgId
 *   rawData      qos 0, not retained
 *   (these two are the low priority of the queue: everything below goes first, mqtt_queue.h)
 *   status, availability, room, state, bridge/info   qos 1, retained
 *   bridge/health                                     qos 0, retained
 *   bridge/event, bridge/response/<cmd>               qos 1, not retained
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "ha.h"
#include "log.h"
#include "sink.h"
#include "xalloc.h"

/* The largest packet the broker may send us (MQTT 5; docs/mqtt.md §5). What we subscribe to is
 * small: runtime API requests, answered only up to a body of 4 KiB (api.c), Home Assistant's
 * `online`/`offline`, and the gift triggers we published retained (ha.c: topic and config
 * about 500 bytes, under 4 KiB with the longest names). Anyone allowed to publish on a request
 * topic could otherwise make paho read and copy a packet of up to 256 MiB. 64 KiB leaves room
 * for a long topic and a publisher's own properties beside a 4 KiB body, and a request between
 * 4 KiB and this still gets its "too large" answer. Not a setting: nothing legitimate nears it. */
#define INBOUND_MAX (64 * 1024)

struct sink_mqtt {
    struct bridge_sink base;
    struct bridge_mqtt *mqtt;
    struct bridge_topic_roots roots;
    int qos;  /* of events */
    bool api; /* [bridge] api: requests are answered */
    bool ha;  /* [homeassistant] enabled */
    struct ha_ctx ha_ctx;
    struct bridge_sink_mqtt_cb cb;
};

static void pub(struct sink_mqtt *s, const struct bridge_topic *t, const char *payload, size_t len,
                int qos, unsigned flags, uint64_t msg_id)
{
    char topic[512];
    if (!bridge_topic(&s->roots, t, topic, sizeof topic)) {
        bridge_mqtt_publish(s->mqtt, topic, payload, len, qos, flags, msg_id);
    }
}

static void event(struct bridge_sink *k, const char *user, unsigned ev, const char *method,
                  const char *json, size_t len, uint64_t msg_id)
{
    struct sink_mqtt *s = (struct sink_mqtt *)k;
    struct bridge_topic t = { BRIDGE_TOPIC_EVENT, user, ev, method, NULL };
    if (ev == BRIDGE_EV_GIFT_END && s->ha) {
        bridge_ha_gift(&s->ha_ctx, user, json, len); /* a gift name's first: its trigger */
    }
    if (ev == TT_EV_RAW_DATA) {
        pub(s, &t, json, len, 0, BRIDGE_PUB_JSON | BRIDGE_PUB_LOW, 0);
    } else {
        pub(s, &t, json, len, s->qos, BRIDGE_PUB_JSON | BRIDGE_PUB_EVENT | BRIDGE_PUB_LOW, msg_id);
    }
}

static void status(struct bridge_sink *k, const char *user, const char *json, size_t len)
{
    struct bridge_topic t = { BRIDGE_TOPIC_STATUS, user, 0, NULL, NULL };
    pub((struct sink_mqtt *)k, &t, json, len, 1, BRIDGE_PUB_RETAIN | BRIDGE_PUB_JSON, 0);
}

static void retained(struct bridge_sink *k, enum bridge_topic_kind kind, const char *user,
                     const char *payload, size_t len)
{
    struct bridge_topic t = { kind, user, 0, NULL, NULL };
    unsigned flags = BRIDGE_PUB_RETAIN | (kind == BRIDGE_TOPIC_AVAILABILITY ? 0 : BRIDGE_PUB_JSON);
    pub((struct sink_mqtt *)k, &t, payload, len, kind == BRIDGE_TOPIC_HEALTH ? 0 : 1, flags, 0);
}

static void notice(struct bridge_sink *k, enum bridge_topic_kind kind, const char *arg,
                   const char *json, size_t len)
{
    struct bridge_topic t = { kind, NULL, 0, arg, NULL };
    pub((struct sink_mqtt *)k, &t, json, len, 1, BRIDGE_PUB_JSON, 0);
}

/* Empty retained payloads: the broker forgets them. Discovery goes first: Home Assistant
 * drops the entities before the state their templates read empties (else a template error
 * per entity). */
static void clear(struct bridge_sink *k, const char *user)
{
    static const enum bridge_topic_kind kept[] = { BRIDGE_TOPIC_AVAILABILITY, BRIDGE_TOPIC_STATUS,
                                                   BRIDGE_TOPIC_ROOM, BRIDGE_TOPIC_STATE };
    struct sink_mqtt *s = (struct sink_mqtt *)k;
    bridge_ha_clear(&s->ha_ctx, user);
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        struct bridge_topic t = { kept[i], user, 0, NULL, NULL };
        pub(s, &t, "", 0, 1, BRIDGE_PUB_RETAIN, 0);
    }
}

static void announce(struct bridge_sink *k, const char *handle, const char *user)
{
    struct sink_mqtt *s = (struct sink_mqtt *)k;
    if (s->ha) {
        bridge_ha_publish(&s->ha_ctx, handle, user);
    }
}

static int pump(struct bridge_sink *k)
{
    struct sink_mqtt *s = (struct sink_mqtt *)k;
    bridge_mqtt_pump(s->mqtt);
    return bridge_mqtt_next_ms(s->mqtt);
}

static int stats(struct bridge_sink *k, struct bridge_mqtt_stats *st)
{
    bridge_mqtt_stats(((struct sink_mqtt *)k)->mqtt, st);
    return 1;
}

static void close_mqtt(struct bridge_sink *k, int timeout_ms)
{
    struct sink_mqtt *s = (struct sink_mqtt *)k;
    /* the stopped statuses and bridge/state offline get [mqtt] flush_timeout */
    bridge_mqtt_free(s->mqtt, timeout_ms);
    bridge_ha_cleanup(&s->ha_ctx);
    free(s);
}

static const struct bridge_sink_ops ops = {
    .name = "mqtt",
    .event = event,
    .status = status,
    .retained = retained,
    .notice = notice,
    .clear = clear,
    .announce = announce,
    .pump = pump,
    .stats = stats,
    .close = close_mqtt,
};

/* An incoming message, on the main thread (from pump). */
static void on_msg(const char *topic, const char *payload, size_t len, int retained, void *ud)
{
    struct sink_mqtt *s = ud;
    char ha_status[320];
    struct bridge_topic t = { BRIDGE_TOPIC_HA_STATUS, NULL, 0, NULL, NULL };
    const char *cmd = bridge_topic_request(&s->roots, topic);
    bridge_topic(&s->roots, &t, ha_status, sizeof ha_status);
    if (s->ha && bridge_ha_trigger_seen(&s->ha_ctx, topic, payload, len)) {
        return; /* a gift trigger's config (ours from an earlier run, or someone else's) */
    }
    if (!strcmp(topic, ha_status) && len == 6 && !memcmp(payload, "online", 6)) {
        /* a retained "online" comes with every subscription, i.e. every connection: it is no
         * restart of Home Assistant, and the discovery goes out on each connection anyway
         * (the retained store), so announcing again would publish it twice */
        if (s->ha && s->cb.ha_online && !retained) {
            bridge_ha_publish_bridge(&s->ha_ctx);
            s->cb.ha_online(s->cb.ud); /* Home Assistant restarted: it forgot the entities */
        }
    } else if (cmd && s->api && s->cb.request && retained) {
        /* the broker hands a retained request over again with every subscription, i.e. on
         * every connection: a streamer removed since would be added back at each restart.
         * A request runs when it is published (it then arrives without the retain flag). */
        LOG_WARN(NULL,
                 "api: a retained request on %.300s is ignored (it would run again on every "
                 "connection): publish requests without retain, and clear this one with an "
                 "empty retained message",
                 topic);
    } else if (cmd && s->api && s->cb.request) {
        s->cb.request(cmd, payload, len, s->cb.ud);
    }
}

static void topic_of(struct sink_mqtt *s, enum bridge_topic_kind kind, char *out, size_t n)
{
    struct bridge_topic t = { kind, NULL, 0, NULL, NULL };
    bridge_topic(&s->roots, &t, out, n);
}

struct bridge_sink *bridge_sink_mqtt_new(const struct bridge_cfg *cfg,
                                         const struct bridge_sink_mqtt_cb *cb, char *err,
                                         size_t errlen)
{
    const struct bridge_cfg_mqtt *m = &cfg->mqtt;
    struct sink_mqtt *s = xcalloc(1, sizeof *s);
    char state[320], req[320], ha[320], triggers[320];
    s->base.ops = &ops;
    s->cb = *cb;
    s->qos = (int)m->qos;
    s->api = cfg->bridge.api;
    s->ha = cfg->homeassistant.enabled;
    bridge_topic_roots_init(&s->roots, cfg);
    topic_of(s, BRIDGE_TOPIC_BRIDGE_STATE, state, sizeof state);
    topic_of(s, BRIDGE_TOPIC_REQUESTS, req, sizeof req);
    topic_of(s, BRIDGE_TOPIC_HA_STATUS, ha, sizeof ha);
    bridge_ha_init(&s->ha_ctx, NULL, &s->roots,
                   *cfg->bridge.http ? cfg->bridge.http : cfg->bridge.metrics);
    bridge_ha_trigger_filter(&s->ha_ctx, triggers, sizeof triggers);
    /* the gift triggers an earlier run published come back retained: removing their streamer
     * must clear them too */
    const char *subs[] = { req, s->ha ? ha : NULL, s->ha ? triggers : NULL, NULL };
    struct bridge_mqtt_opts o = {
        .uri = m->uri,
        .client_id = m->client_id,
        .username = m->username_file.value ? m->username_file.value : m->username,
        .password = m->password_file.value,
        .protocol5 = m->protocol == BRIDGE_MQTT_5,
        .keepalive = (int)m->keepalive,
        .ca_file = m->ca_file,
        .cert_file = m->cert_file,
        .key_file = m->key_file,
        .tls_insecure = m->tls_insecure,
        .max_buffered = (size_t)m->max_buffered,
        .max_buffered_bytes = (size_t)m->max_buffered_bytes,
        .max_payload = (size_t)m->max_payload_bytes,
        .state_topic = state,
        .subscriptions = subs,
        .event_expiry = (unsigned)m->event_expiry,
        .max_inbound = INBOUND_MAX,
        .wake = cb->wake,
        .wake_ud = cb->ud,
    };
    if (bridge_mqtt_new(&s->mqtt, &o, on_msg, s, err, errlen)) {
        bridge_ha_cleanup(&s->ha_ctx);
        free(s);
        return NULL;
    }
    if (m->tls_insecure) {
        LOG_WARN(NULL, "mqtt: tls_insecure is set: the broker's certificate is not verified");
    }
    s->ha_ctx.mqtt = s->mqtt;
    if (s->ha) {
        bridge_ha_publish_bridge(&s->ha_ctx); /* queued until the broker is there */
    }
    if (bridge_mqtt_start(s->mqtt)) {
        LOG_ERR(NULL, "mqtt: cannot start (%s)", m->uri);
    }
    return &s->base;
}
