/** @file ha.c
 * Home Assistant MQTT discovery (docs/mqtt.md §6): one device per streamer (via the bridge
 * device), a `live` binary sensor, sensors for viewers, total likes, diamonds (this live),
 * follows and shares, and event entities for chat, gift (from giftEnd), follow, share and
 * subscribe. Availability is <base>/bridge/state alone, so `live` reads off, not unavailable,
 * while a streamer is offline. Ids contain only [a-zA-Z0-9_-]: a handle's '.' becomes '_'.
 * Republished when Home Assistant says `online` on <prefix>/status; a removed streamer's
 * entities are cleared with empty retained payloads.
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "ha.h"
#include "topic.h"

static void safe_id(const char *in, char *out, size_t n)
{
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++) {
        char c = in[i];
        out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                 c == '-'
                         ? c
                         : '_';
    }
    out[i] = '\0';
}

struct entity {
    const char *component;
    const char *key; /* the entity's id part; NULL: the name of the event it comes from */
    const char *name;
    int event; /* the event topic it follows (topic.h bit), or STATE: <user>/state */
    const char *value_template, *unit, *icon;
};

#define STATE (-1)

/* clang-format off */
static const struct entity entities[] = {
    { "binary_sensor", "live",      "Live",        STATE, "{{ 'ON' if value_json.live else 'OFF' }}", NULL, "mdi:broadcast" },
    { "sensor",        "viewers",   "Viewers",     STATE, "{{ value_json.viewerCount }}",    NULL,       "mdi:eye" },
    { "sensor",        "likes",     "Total likes", STATE, "{{ value_json.totalLikeCount }}", NULL,       "mdi:heart" },
    { "sensor",        "diamonds",  "Diamonds",    STATE, "{{ value_json.diamonds }}",       "diamonds", "mdi:diamond-stone" },
    { "sensor",        "follows",   "Follows",     STATE, "{{ value_json.follows }}",        NULL,       "mdi:account-plus" },
    { "sensor",        "shares",    "Shares",      STATE, "{{ value_json.shares }}",         NULL,       "mdi:share" },
    { "event",         NULL,        "Chat",        TT_EV_CHAT,         NULL, NULL, "mdi:chat" },
    { "event",         NULL,        "Gift",        BRIDGE_EV_GIFT_END, NULL, NULL, "mdi:gift" },
    { "event",         NULL,        "Follow",      TT_EV_FOLLOW,       NULL, NULL, "mdi:account-plus" },
    { "event",         NULL,        "Share",       TT_EV_SHARE,        NULL, NULL, "mdi:share" },
    { "event",         NULL,        "Subscribe",   TT_EV_SUBSCRIBE,    NULL, NULL, "mdi:star" },
};
/* clang-format on */

#define N_ENTITIES (sizeof entities / sizeof entities[0])

static cJSON *device(const char *handle, const char *id)
{
    char ids[96], url[128];
    cJSON *d = cJSON_CreateObject();
    snprintf(ids, sizeof ids, "tiktok2mqtt_%s", id);
    cJSON_AddItemToObject(d, "identifiers", cJSON_CreateStringArray((const char *[]){ ids }, 1));
    cJSON_AddStringToObject(d, "name", handle);
    cJSON_AddStringToObject(d, "manufacturer", "TikTok LIVE");
    cJSON_AddStringToObject(d, "model", "streamer");
    snprintf(url, sizeof url, "https://www.tiktok.com/@%s/live", handle);
    cJSON_AddStringToObject(d, "configuration_url", url);
    cJSON_AddStringToObject(d, "via_device", "tiktok2mqtt_bridge");
    return d;
}

static void topic_of(const struct ha_ctx *h, struct bridge_topic t, char *out, size_t n)
{
    bridge_topic(h->roots, &t, out, n);
}

static const char *key_of(const struct entity *e)
{
    return e->key ? e->key : bridge_event_name(bridge_event_origin((unsigned)e->event));
}

static char *entity_config(const struct ha_ctx *h, const char *handle, const char *topic,
                           const char *id, const struct entity *e)
{
    char buf[320];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", e->name);
    snprintf(buf, sizeof buf, "tiktok2mqtt_%s_%s", id, key_of(e));
    cJSON_AddStringToObject(j, "unique_id", buf);
    cJSON_AddStringToObject(j, "object_id", buf);
    if (e->event == STATE) {
        topic_of(h, (struct bridge_topic){ BRIDGE_TOPIC_STATE, topic, 0, NULL, NULL }, buf,
                 sizeof buf);
    } else {
        topic_of(h,
                 (struct bridge_topic){ BRIDGE_TOPIC_EVENT, topic, (unsigned)e->event, NULL, NULL },
                 buf, sizeof buf);
    }
    cJSON_AddStringToObject(j, "state_topic", buf);
    topic_of(h, (struct bridge_topic){ BRIDGE_TOPIC_BRIDGE_STATE, NULL, 0, NULL, NULL }, buf,
             sizeof buf);
    cJSON_AddStringToObject(j, "availability_topic", buf);
    if (e->value_template) {
        cJSON_AddStringToObject(j, "value_template", e->value_template);
    }
    if (!strcmp(e->component, "event")) {
        cJSON_AddItemToObject(j, "event_types",
                              cJSON_CreateStringArray((const char *[]){ key_of(e) }, 1));
        /* our event payloads carry no event_type: the template supplies it */
        snprintf(buf, sizeof buf, "{{ {'event_type': '%s'} | tojson }}", key_of(e));
        cJSON_AddStringToObject(j, "value_template", buf);
    }
    if (e->unit) {
        cJSON_AddStringToObject(j, "unit_of_measurement", e->unit);
    }
    if (!strcmp(e->component, "sensor")) {
        cJSON_AddStringToObject(j, "state_class", "measurement");
    }
    cJSON_AddStringToObject(j, "icon", e->icon);
    cJSON_AddItemToObject(j, "device", device(handle, id));
    char *txt = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return txt;
}

static void discovery_topic(const struct ha_ctx *h, const char *id, const struct entity *e,
                            char *out, size_t n)
{
    topic_of(h, (struct bridge_topic){ BRIDGE_TOPIC_HA_CONFIG, id, 0, e->component, key_of(e) },
             out, n);
}

void bridge_ha_publish(const struct ha_ctx *h, const char *handle, const char *topic)
{
    char id[64], t[384];
    safe_id(topic, id, sizeof id);
    for (size_t i = 0; i < N_ENTITIES; i++) {
        char *cfg = entity_config(h, handle, topic, id, &entities[i]);
        discovery_topic(h, id, &entities[i], t, sizeof t);
        if (cfg) {
            bridge_mqtt_publish(h->mqtt, t, cfg, strlen(cfg), 1,
                                BRIDGE_PUB_RETAIN | BRIDGE_PUB_JSON, 0);
        }
        cJSON_free(cfg);
    }
}

void bridge_ha_clear(const struct ha_ctx *h, const char *topic)
{
    char id[64], t[384];
    safe_id(topic, id, sizeof id);
    for (size_t i = 0; i < N_ENTITIES; i++) {
        discovery_topic(h, id, &entities[i], t, sizeof t);
        bridge_mqtt_publish(h->mqtt, t, "", 0, 1, BRIDGE_PUB_RETAIN, 0);
    }
}
