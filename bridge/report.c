/** @file report.c
 * What the bridge says about itself: bridge/info (retained, on start, reload and every change
 * of the streamer set or the MQTT protocol), bridge/health every health_interval, and each
 * streamer's state every state_interval or at once when a stream starts or ends.
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "report.h"
#include "runtime.h"
#include "streamers.h"

/* "flow" and "flowReason": how a running streamer connects and why (auto decides at each
 * connect; null before its first one, or when it does not run here). */
static void add_flow(struct bridge *b, cJSON *o, const char *handle)
{
    struct streamer *s = bridge_streamer_find(b, handle);
    char flow[16] = "", why[384] = "";
    if (s) {
        streamer_flow(s, flow, sizeof flow, why, sizeof why);
    }
    if (flow[0]) {
        cJSON_AddStringToObject(o, "flow", flow);
        cJSON_AddStringToObject(o, "flowReason", why);
    } else {
        cJSON_AddNullToObject(o, "flow");
        cJSON_AddNullToObject(o, "flowReason");
    }
}

cJSON *bridge_info_json(struct bridge *b)
{
    struct bridge_mqtt_stats st;
    cJSON *j = cJSON_CreateObject(), *list;
    bridge_out_stats(&b->out, &st);
    cJSON_AddStringToObject(j, "version", BRIDGE_VERSION);
    cJSON_AddStringToObject(j, "mqttProtocol", st.protocol == 5 ? "5" : "3.1.1");
    b->info_protocol = st.protocol;
    cJSON_AddNumberToObject(j, "startTime", (double)b->started_ms);
    cJSON_AddStringToObject(j, "signer", b->cfg.tiktok.sign_api_url); /* the URL, never the key */
    if (b->cfg.bridge.instance && *b->cfg.bridge.instance) {
        char shard[24];
        snprintf(shard, sizeof shard, "%u/%u", b->cfg.bridge.shard.i, b->cfg.bridge.shard.n);
        cJSON_AddStringToObject(j, "instance", b->cfg.bridge.instance);
        cJSON_AddStringToObject(j, "shard", shard);
    }
    list = cJSON_AddArrayToObject(j, "streamers");
    for (size_t i = 0; i < b->cfg.n_streamers; i++) {
        const struct bridge_streamer *bs = &b->cfg.streamers[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "handle", bs->handle);
        cJSON_AddStringToObject(o, "topic", bs->topic);
        cJSON_AddBoolToObject(o, "enabled", bs->enabled);
        cJSON_AddBoolToObject(o, "owned", bs->owned);
        cJSON_AddBoolToObject(o, "removed", runtime_is_removed(&b->rt, bs->handle));
        add_flow(b, o, bs->handle);
        cJSON_AddItemToArray(list, o);
    }
    for (size_t i = 0; i < b->rt.n_added; i++) { /* added through the API */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "handle", b->rt.added[i]);
        cJSON_AddStringToObject(o, "topic", b->rt.added[i]);
        cJSON_AddBoolToObject(o, "enabled", 1);
        cJSON_AddBoolToObject(o, "runtime", 1);
        add_flow(b, o, b->rt.added[i]);
        cJSON_AddItemToArray(list, o);
    }
    return j;
}

void bridge_report_info(struct bridge *b)
{
    bridge_out_retained_json(&b->out, BRIDGE_TOPIC_INFO, NULL, bridge_info_json(b));
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) {
            resident = 0;
        }
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void publish_health(struct bridge *b)
{
    struct bridge_mqtt_stats st;
    cJSON *j = cJSON_CreateObject(), *mq, *per;
    bridge_out_stats(&b->out, &st);
    cJSON_AddNumberToObject(j, "uptime", (double)(common_wall_ms() - b->started_ms) / 1000);
    cJSON_AddNumberToObject(j, "rssKiB", (double)rss_kib());
    mq = cJSON_AddObjectToObject(j, "mqtt");
    cJSON_AddBoolToObject(mq, "connected", st.connected);
    cJSON_AddNumberToObject(mq, "queued", (double)st.queued);
    cJSON_AddNumberToObject(mq, "queuedBytes", (double)st.queued_bytes);
    cJSON_AddNumberToObject(mq, "published", (double)st.published);
    cJSON_AddNumberToObject(mq, "dropped", (double)st.dropped);
    cJSON_AddNumberToObject(mq, "refused", (double)st.refused);
    cJSON_AddNumberToObject(mq, "badTopic", (double)st.bad_topic);
    cJSON_AddNumberToObject(mq, "tooLarge", (double)st.too_large);
    cJSON_AddNumberToObject(mq, "superseded", (double)st.superseded);
    cJSON_AddNumberToObject(mq, "inFlight", (double)st.in_flight);
    cJSON_AddNumberToObject(mq, "reconnects", (double)st.reconnects);
    /* what holds now, in seconds: null when there was no acknowledgement yet */
    if (st.last_ack_ms >= 0) {
        cJSON_AddNumberToObject(mq, "lastPubackAge", (double)st.last_ack_ms / 1000);
    } else {
        cJSON_AddNullToObject(mq, "lastPubackAge");
    }
    cJSON_AddNumberToObject(mq, "oldestQueuedAge", (double)st.oldest_ms / 1000);
    cJSON_AddBoolToObject(mq, "stalled", st.stalled);
    per = cJSON_AddObjectToObject(j, "streamers");
    for (struct streamer *s = b->streamers; s; s = s->next) {
        cJSON_AddItemToObject(per, s->topic, streamer_health(s));
    }
    bridge_out_retained_json(&b->out, BRIDGE_TOPIC_HEALTH, NULL, j);
}

void bridge_report_periodic(struct bridge *b)
{
    int64_t now = common_wall_ms();
    struct bridge_mqtt_stats st;
    /* the broker refused MQTT 5: bridge/info says 3.1.1 from now on */
    if (bridge_out_stats(&b->out, &st) && st.protocol != b->info_protocol) {
        bridge_report_info(b);
    }
    if (atomic_exchange(&b->out.info_dirty, 0)) { /* a streamer connects another way now */
        bridge_report_info(b);
    }
    int due = now >= b->next_state_ms;
    /* the flag spares a walk over every streamer's mutex at every wake (each publish wakes us) */
    if (due || atomic_exchange(&b->out.urgent, 0)) {
        for (struct streamer *s = b->streamers; s; s = s->next) {
            if (due || streamer_state_urgent(s)) {
                streamer_publish_state(s, 0);
            }
        }
    }
    if (due) {
        b->next_state_ms = now + b->cfg.bridge.state_interval * 1000;
    }
    if (now >= b->next_health_ms) {
        publish_health(b);
        b->next_health_ms = now + b->cfg.bridge.health_interval * 1000;
    }
}
