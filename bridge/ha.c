/** @file ha.c
 * Home Assistant MQTT discovery (docs/mqtt.md §6), written against what Home Assistant's MQTT
 * integration reads today (tests/ha/rules.py holds every config we publish against it):
 *
 *   the bridge     a device of its own, `tiktok2mqtt-bridge-<base>`, with a connectivity entity
 *                  on <base>/bridge/state; every streamer's device names it as via_device
 *   a streamer     a device `tiktok2mqtt_<id>`: a `live` binary sensor, sensors for viewers,
 *                  total likes, diamonds, follows and shares, event entities for chat, gift
 *                  (giftEnd), follow, share and subscribe, and a device trigger per gift name,
 *                  published the first time that gift completes (docs/mqtt.md says why)
 *
 * <id> is the streamer's topic level with `.` turned into `-`: TikTok handles never hold `-`,
 * so the mapping is injective. Every config carries an origin block and `default_entity_id`
 * (`<component>.<object id>`: Home Assistant ignores `object_id` since 2026.4). Event entities'
 * templates put the event's own fields beside `event_type`, so they become its attributes.
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "ha.h"
#include "topic.h"
#include "xalloc.h"

#define NODE_PREFIX     "tiktok2mqtt_"
#define GIFT_KEY_PREFIX "gift_"
#define HA_MAX_GIFTS    200 /* gift triggers per streamer: TikTok's list has a few hundred gifts */
/* streamers known only from retained trigger configs on the broker (anyone who may publish there
 * can make up ids): twice as many as a configuration may hold */
#define HA_MAX_FROM_BROKER 20000

struct ha_gift {
    char key[32];  /* gift_<giftId>: the config topic's object id */
    char name[96]; /* the subtype and the payload the trigger compares giftName with */
};

struct ha_streamer {
    struct ha_streamer *next;
    char id[64], handle[64];
    int announced; /* followed by this instance (bridge_ha_publish), not only seen on the broker */
    int from_broker; /* made for a retained config, not announced since (HA_MAX_FROM_BROKER) */
    struct ha_gift *gifts;
    size_t n, cap;
};

/* ---- ids ---- */

void bridge_ha_id(const char *topic, char *out, size_t n)
{
    size_t i = 0;
    for (; topic[i] && i + 1 < n; i++) {
        out[i] = topic[i] == '.' ? '-' : topic[i];
    }
    out[topic[i] ? 0 : i] = '\0';
}

/* What Home Assistant keeps of an entity id's object part: [a-z0-9_], no `_` at either end nor
 * twice in a row (its slugify); "a.b" and "a_b" come out alike, which HA settles with a suffix. */
static void slug(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (; *in && o + 1 < n; in++) {
        char c = *in >= 'A' && *in <= 'Z' ? (char)(*in - 'A' + 'a') : *in;
        int keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (keep) {
            out[o++] = c;
        } else if (o && out[o - 1] != '_') {
            out[o++] = '_';
        }
    }
    while (o && out[o - 1] == '_') {
        o--;
    }
    out[o] = '\0';
}

/* The bridge's node id: a `-` after the prefix, where a streamer's has `_`, so no handle can
 * take it; the base topic and [bridge] instance in it keep instances on one broker apart (each
 * has its own bridge/state). */
static void bridge_node(const struct ha_ctx *h, char *out, size_t n)
{
    char b[160];
    size_t i = 0;
    const char *inst = h->roots->instance;
    for (const char *p = h->roots->base; *p && i + 1 < sizeof b; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 *p == '_' || *p == '-';
        b[i++] = ok ? *p : '-';
    }
    for (const char *p = *inst ? "-" : ""; *p && i + 1 < sizeof b; p++) {
        b[i++] = *p;
    }
    for (const char *p = inst; *p && i + 1 < sizeof b; p++) {
        b[i++] = *p == '.' ? '-' : *p;
    }
    b[i] = '\0';
    snprintf(out, n, "tiktok2mqtt-bridge-%s", b);
}

static void topic_of(const struct ha_ctx *h, struct bridge_topic t, char *out, size_t n)
{
    bridge_topic(h->roots, &t, out, n);
}

/* ---- the blocks every config carries ---- */

static cJSON *origin(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", "tiktok2mqtt");
    cJSON_AddStringToObject(o, "sw_version", BRIDGE_VERSION);
    if (BRIDGE_SUPPORT_URL[0]) {
        cJSON_AddStringToObject(o, "support_url", BRIDGE_SUPPORT_URL);
    }
    return o;
}

static void add_ids(cJSON *d, const char *ident)
{
    cJSON_AddItemToObject(d, "identifiers", cJSON_CreateStringArray((const char *[]){ ident }, 1));
}

static cJSON *bridge_device(const struct ha_ctx *h)
{
    char node[192], name[300];
    cJSON *d = cJSON_CreateObject();
    bridge_node(h, node, sizeof node);
    add_ids(d, node);
    snprintf(name, sizeof name, "tiktok2mqtt (%s%s%s)", h->roots->base,
             *h->roots->instance ? ", " : "", h->roots->instance);
    cJSON_AddStringToObject(d, "name", name);
    cJSON_AddStringToObject(d, "manufacturer", "tiktok2mqtt");
    cJSON_AddStringToObject(d, "model", "bridge");
    cJSON_AddStringToObject(d, "sw_version", BRIDGE_VERSION);
    if (h->metrics_url[0]) {
        cJSON_AddStringToObject(d, "configuration_url", h->metrics_url);
    }
    return d;
}

static cJSON *streamer_device(const struct ha_ctx *h, const char *handle, const char *id)
{
    char ident[96], url[128], via[192];
    cJSON *d = cJSON_CreateObject();
    snprintf(ident, sizeof ident, NODE_PREFIX "%s", id);
    add_ids(d, ident);
    cJSON_AddStringToObject(d, "name", handle);
    cJSON_AddStringToObject(d, "manufacturer", "TikTok LIVE");
    cJSON_AddStringToObject(d, "model", "streamer");
    cJSON_AddStringToObject(d, "sw_version", BRIDGE_VERSION);
    snprintf(url, sizeof url, "https://www.tiktok.com/@%s/live", handle);
    cJSON_AddStringToObject(d, "configuration_url", url);
    bridge_node(h, via, sizeof via);
    cJSON_AddStringToObject(d, "via_device", via);
    return d;
}

/* unique_id and default_entity_id: `<component>.<slug of base_user_key>` */
static void add_names(cJSON *j, const char *component, const char *uid, const char *object)
{
    char buf[320], s[256];
    cJSON_AddStringToObject(j, "unique_id", uid);
    slug(object, s, sizeof s);
    snprintf(buf, sizeof buf, "%s.%s", component, s);
    cJSON_AddStringToObject(j, "default_entity_id", buf);
}

static void publish(const struct ha_ctx *h, const char *topic, cJSON *j)
{
    char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (txt && topic[0]) {
        bridge_mqtt_publish(h->mqtt, topic, txt, strlen(txt), 1,
                            BRIDGE_PUB_RETAIN | BRIDGE_PUB_JSON, 0);
    }
    cJSON_free(txt);
}

static void clear_topic(const struct ha_ctx *h, const char *topic)
{
    if (topic[0]) {
        bridge_mqtt_publish(h->mqtt, topic, "", 0, 1, BRIDGE_PUB_RETAIN, 0);
    }
}

/* ---- the bridge's device ---- */

void bridge_ha_publish_bridge(struct ha_ctx *h)
{
    char node[192], uid[240], object[600], t[512];
    cJSON *j = cJSON_CreateObject();
    bridge_node(h, node, sizeof node);
    cJSON_AddStringToObject(j, "name", "Connected");
    snprintf(uid, sizeof uid, "%s_connectivity", node);
    snprintf(object, sizeof object, "%s_bridge_%s", h->roots->base, h->roots->instance);
    add_names(j, "binary_sensor", uid, object);
    topic_of(h, (struct bridge_topic){ BRIDGE_TOPIC_BRIDGE_STATE, NULL, 0, NULL, NULL }, t,
             sizeof t);
    cJSON_AddStringToObject(j, "state_topic", t);
    cJSON_AddStringToObject(j, "payload_on", "online");
    cJSON_AddStringToObject(j, "payload_off", "offline");
    cJSON_AddStringToObject(j, "device_class", "connectivity");
    cJSON_AddStringToObject(j, "entity_category", "diagnostic");
    cJSON_AddItemToObject(j, "device", bridge_device(h));
    cJSON_AddItemToObject(j, "origin", origin());
    topic_of(h,
             (struct bridge_topic){ BRIDGE_TOPIC_HA_CONFIG, node, 0, "binary_sensor",
                                    "connectivity" },
             t, sizeof t);
    publish(h, t, j);
}

/* ---- a streamer's entities ---- */

struct entity {
    const char *component;
    const char *key; /* the entity's id part; NULL: the name of the event it follows */
    const char *name;
    int event; /* the event topic it follows (topic.h bit), or STATE: <user>/state */
    const char *value_template, *unit, *state_class, *icon;
};

#define STATE (-1)

/* Totals that start again at each live are total_increasing (a drop reads as a new cycle);
 * viewers come and go: measurement. */
/* clang-format off */
static const struct entity entities[] = {
    { "binary_sensor", "live",     "Live",        STATE, "{{ 'ON' if value_json.live else 'OFF' }}", NULL, NULL, "mdi:broadcast" },
    { "sensor",        "viewers",  "Viewers",     STATE, "{{ value_json.viewerCount }}",    NULL,       "measurement",      "mdi:eye" },
    { "sensor",        "likes",    "Total likes", STATE, "{{ value_json.totalLikeCount }}", NULL,       "total_increasing", "mdi:heart" },
    { "sensor",        "diamonds", "Diamonds",    STATE, "{{ value_json.diamonds }}",       "diamonds", "total_increasing", "mdi:diamond-stone" },
    { "sensor",        "follows",  "Follows",     STATE, "{{ value_json.follows }}",        NULL,       "total_increasing", "mdi:account-plus" },
    { "sensor",        "shares",   "Shares",      STATE, "{{ value_json.shares }}",         NULL,       "total_increasing", "mdi:share" },
    { "event",         NULL,       "Chat",        TT_EV_CHAT,         NULL, NULL, NULL, "mdi:chat" },
    { "event",         NULL,       "Gift",        BRIDGE_EV_GIFT_END, NULL, NULL, NULL, "mdi:gift" },
    { "event",         NULL,       "Follow",      TT_EV_FOLLOW,       NULL, NULL, NULL, "mdi:account-plus" },
    { "event",         NULL,       "Share",       TT_EV_SHARE,        NULL, NULL, NULL, "mdi:share" },
    { "event",         NULL,       "Subscribe",   TT_EV_SUBSCRIBE,    NULL, NULL, NULL, "mdi:star" },
};
/* clang-format on */

#define N_ENTITIES (sizeof entities / sizeof entities[0])

static const char *key_of(const struct entity *e)
{
    return e->key ? e->key : bridge_event_name(bridge_event_origin((unsigned)e->event));
}

static void add_state_topic(const struct ha_ctx *h, cJSON *j, const char *topic,
                            const struct entity *e)
{
    char t[512];
    if (e->event == STATE) {
        topic_of(h, (struct bridge_topic){ BRIDGE_TOPIC_STATE, topic, 0, NULL, NULL }, t, sizeof t);
    } else {
        topic_of(h,
                 (struct bridge_topic){ BRIDGE_TOPIC_EVENT, topic, (unsigned)e->event, NULL, NULL },
                 t, sizeof t);
    }
    cJSON_AddStringToObject(j, "state_topic", t);
    topic_of(h, (struct bridge_topic){ BRIDGE_TOPIC_BRIDGE_STATE, NULL, 0, NULL, NULL }, t,
             sizeof t);
    cJSON_AddStringToObject(j, "availability_topic", t);
}

static cJSON *entity_config(const struct ha_ctx *h, const char *handle, const char *topic,
                            const char *id, const struct entity *e)
{
    char uid[160], object[384], tpl[160];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", e->name);
    snprintf(uid, sizeof uid, NODE_PREFIX "%s_%s", id, key_of(e));
    snprintf(object, sizeof object, "%s_%s_%s", h->roots->base, topic, key_of(e));
    add_names(j, e->component, uid, object);
    add_state_topic(h, j, topic, e);
    if (e->value_template) {
        cJSON_AddStringToObject(j, "value_template", e->value_template);
    }
    if (!strcmp(e->component, "event")) {
        cJSON_AddItemToObject(j, "event_types",
                              cJSON_CreateStringArray((const char *[]){ key_of(e) }, 1));
        /* our payloads carry no event_type: the event's own fields go beside it, and Home
         * Assistant makes them the entity's attributes */
        snprintf(tpl, sizeof tpl, "{{ dict(value_json, event_type='%s') | to_json }}", key_of(e));
        cJSON_AddStringToObject(j, "value_template", tpl);
    }
    if (e->unit) {
        cJSON_AddStringToObject(j, "unit_of_measurement", e->unit);
    }
    if (e->state_class) {
        cJSON_AddStringToObject(j, "state_class", e->state_class);
    }
    cJSON_AddStringToObject(j, "icon", e->icon);
    cJSON_AddItemToObject(j, "device", streamer_device(h, handle, id));
    cJSON_AddItemToObject(j, "origin", origin());
    return j;
}

static void config_topic(const struct ha_ctx *h, const char *id, const char *component,
                         const char *key, char *out, size_t n)
{
    char node[96];
    snprintf(node, sizeof node, NODE_PREFIX "%s", id);
    topic_of(h, (struct bridge_topic){ BRIDGE_TOPIC_HA_CONFIG, node, 0, component, key }, out, n);
}

/* ---- the gift triggers known (under h->lock) ---- */

static struct ha_streamer *find(struct ha_ctx *h, const char *id, int create)
{
    for (struct ha_streamer *s = h->streamers; s; s = s->next) {
        if (!strcmp(s->id, id)) {
            return s;
        }
    }
    if (!create) {
        return NULL;
    }
    struct ha_streamer *s = xcalloc(1, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id);
    s->next = h->streamers;
    h->streamers = s;
    return s;
}

/* 1 when added, 0 when known or full */
static int add_gift(struct ha_streamer *s, const char *key, const char *name)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!strcmp(s->gifts[i].name, name)) {
            return 0;
        }
    }
    if (s->n == HA_MAX_GIFTS) {
        return 0;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->gifts = xrealloc(s->gifts, s->cap * sizeof *s->gifts);
    }
    snprintf(s->gifts[s->n].key, sizeof s->gifts[s->n].key, "%s", key);
    snprintf(s->gifts[s->n].name, sizeof s->gifts[s->n].name, "%s", name);
    s->n++;
    return 1;
}

static void forget(struct ha_ctx *h, const char *id)
{
    for (struct ha_streamer **pp = &h->streamers; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->id, id)) {
            struct ha_streamer *s = *pp;
            *pp = s->next;
            h->n_from_broker -= s->from_broker;
            free(s->gifts);
            free(s);
            return;
        }
    }
}

/* The trigger of one gift name: fires on giftEnd when giftName is that name; Home Assistant
 * hands the automation the whole event (trigger.payload_json). */
static void publish_trigger(struct ha_ctx *h, const char *handle, const char *id,
                            const struct ha_gift *g)
{
    char t[512], topic[64];
    cJSON *j = cJSON_CreateObject();
    snprintf(topic, sizeof topic, "%s", id);
    for (char *p = topic; *p; p++) {
        *p = *p == '-' ? '.' : *p; /* the id's inverse: the streamer's topic level */
    }
    cJSON_AddStringToObject(j, "automation_type", "trigger");
    topic_of(h, (struct bridge_topic){ BRIDGE_TOPIC_EVENT, topic, BRIDGE_EV_GIFT_END, NULL, NULL },
             t, sizeof t);
    cJSON_AddStringToObject(j, "topic", t);
    cJSON_AddStringToObject(j, "type", bridge_event_name(bridge_event_origin(BRIDGE_EV_GIFT_END)));
    cJSON_AddStringToObject(j, "subtype", g->name);
    cJSON_AddStringToObject(j, "payload", g->name);
    cJSON_AddStringToObject(j, "value_template", "{{ value_json.giftName }}");
    cJSON_AddItemToObject(j, "device", streamer_device(h, handle[0] ? handle : topic, id));
    cJSON_AddItemToObject(j, "origin", origin());
    config_topic(h, id, "device_automation", g->key, t, sizeof t);
    publish(h, t, j);
}

/* A copy of what a streamer's triggers need, taken under the lock: publishing goes without. */
struct snapshot {
    char handle[64];
    struct ha_gift *gifts;
    size_t n;
};

static struct snapshot take(struct ha_ctx *h, const char *id, const char *handle)
{
    struct snapshot sn = { { 0 }, NULL, 0 };
    pthread_mutex_lock(&h->lock);
    struct ha_streamer *s = find(h, id, handle != NULL);
    if (s) {
        if (handle) {
            snprintf(s->handle, sizeof s->handle, "%s", handle);
            s->announced = 1;
            h->n_from_broker -= s->from_broker;
            s->from_broker = 0;
        }
        snprintf(sn.handle, sizeof sn.handle, "%s", s->handle);
        if (s->n) {
            sn.gifts = xmalloc(s->n * sizeof *sn.gifts);
            memcpy(sn.gifts, s->gifts, s->n * sizeof *sn.gifts);
            sn.n = s->n;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return sn;
}

/* ---- a streamer ---- */

void bridge_ha_publish(struct ha_ctx *h, const char *handle, const char *topic)
{
    char id[64], t[512];
    bridge_ha_id(topic, id, sizeof id);
    if (!id[0]) {
        return;
    }
    for (size_t i = 0; i < N_ENTITIES; i++) {
        config_topic(h, id, entities[i].component, key_of(&entities[i]), t, sizeof t);
        publish(h, t, entity_config(h, handle, topic, id, &entities[i]));
    }
    struct snapshot sn = take(h, id, handle);
    for (size_t i = 0; i < sn.n; i++) {
        publish_trigger(h, sn.handle, id, &sn.gifts[i]);
    }
    free(sn.gifts);
}

/* The configs go before anything else of the streamer is cleared (sink_mqtt.c), so Home
 * Assistant drops the entities before their state topic empties under their templates. */
void bridge_ha_clear(struct ha_ctx *h, const char *topic)
{
    char id[64], t[512];
    bridge_ha_id(topic, id, sizeof id);
    if (!id[0]) {
        return;
    }
    struct snapshot sn = take(h, id, NULL);
    for (size_t i = 0; i < sn.n; i++) {
        config_topic(h, id, "device_automation", sn.gifts[i].key, t, sizeof t);
        clear_topic(h, t);
    }
    free(sn.gifts);
    for (size_t i = 0; i < N_ENTITIES; i++) {
        config_topic(h, id, entities[i].component, key_of(&entities[i]), t, sizeof t);
        clear_topic(h, t);
    }
    pthread_mutex_lock(&h->lock);
    forget(h, id);
    pthread_mutex_unlock(&h->lock);
}

/* A name Home Assistant can take as the trigger's payload: that payload is a template there,
 * so a name with `{` could render as something else; none of TikTok's gifts has one. */
static int usable_name(const char *name)
{
    size_t n = strlen(name);
    return n && n < sizeof(((struct ha_gift *)0)->name) && !strchr(name, '{');
}

void bridge_ha_gift(struct ha_ctx *h, const char *topic, const char *json, size_t len)
{
    char id[64];
    struct ha_gift g;
    cJSON *j = cJSON_ParseWithLength(json, len);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "giftName");
    const cJSON *gid = cJSON_GetObjectItemCaseSensitive(j, "giftId");
    bridge_ha_id(topic, id, sizeof id);
    if (!id[0] || !cJSON_IsString(name) || !usable_name(name->valuestring) ||
        !cJSON_IsNumber(gid) || gid->valuedouble < 0) {
        cJSON_Delete(j);
        return;
    }
    snprintf(g.key, sizeof g.key, GIFT_KEY_PREFIX "%.0f", gid->valuedouble);
    snprintf(g.name, sizeof g.name, "%s", name->valuestring);
    cJSON_Delete(j);
    pthread_mutex_lock(&h->lock);
    struct ha_streamer *s = find(h, id, 1);
    int added = add_gift(s, g.key, g.name);
    char handle[64];
    snprintf(handle, sizeof handle, "%s", s->handle);
    pthread_mutex_unlock(&h->lock);
    if (added) {
        publish_trigger(h, handle, id, &g);
    }
}

/* ---- triggers an earlier run published (the broker's retained configs) ---- */

void bridge_ha_trigger_filter(const struct ha_ctx *h, char *out, size_t n)
{
    topic_of(h, (struct bridge_topic){ BRIDGE_TOPIC_HA_CONFIG, "+", 0, "device_automation", "+" },
             out, n);
}

int bridge_ha_trigger_seen(struct ha_ctx *h, const char *topic, const char *payload, size_t len)
{
    char prefix[320];
    topic_of(h,
             (struct bridge_topic){ BRIDGE_TOPIC_HA_CONFIG, NODE_PREFIX, 0, "device_automation",
                                    NULL },
             prefix, sizeof prefix);
    size_t n = strlen(prefix);
    if (!n || strncmp(topic, prefix, n)) {
        return 0;
    }
    const char *id = topic + n, *slash = strchr(id, '/');
    char ids[64], key[32];
    if (!slash || (size_t)(slash - id) >= sizeof ids || !len ||
        sscanf(slash, "/%31[a-z0-9_]/config", key) != 1 ||
        strncmp(key, GIFT_KEY_PREFIX, strlen(GIFT_KEY_PREFIX))) {
        return 1; /* someone else's, or an empty payload (a trigger cleared) */
    }
    memcpy(ids, id, (size_t)(slash - id));
    ids[slash - id] = '\0';
    cJSON *j = cJSON_ParseWithLength(payload, len);
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(j, "subtype");
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(j, "device");
    const cJSON *dname = cJSON_GetObjectItemCaseSensitive(dev, "name");
    struct ha_gift g;
    int mine = 0;
    if (cJSON_IsString(sub) && usable_name(sub->valuestring)) {
        snprintf(g.key, sizeof g.key, "%s", key);
        snprintf(g.name, sizeof g.name, "%s", sub->valuestring);
        pthread_mutex_lock(&h->lock);
        struct ha_streamer *s = find(h, ids, 0);
        if (!s && h->n_from_broker < HA_MAX_FROM_BROKER) {
            s = find(h, ids, 1);
            s->from_broker = 1;
            h->n_from_broker++;
        }
        if (s && !s->handle[0] && cJSON_IsString(dname)) {
            snprintf(s->handle, sizeof s->handle, "%s", dname->valuestring);
        }
        /* one a streamer we follow had before our start: published again by us, so that it
         * is ours to replay to a broker that lost it */
        mine = s && add_gift(s, g.key, g.name) && s->announced;
        pthread_mutex_unlock(&h->lock);
    }
    cJSON_Delete(j);
    if (mine) {
        char handle[64];
        pthread_mutex_lock(&h->lock);
        struct ha_streamer *s = find(h, ids, 0);
        snprintf(handle, sizeof handle, "%s", s ? s->handle : "");
        pthread_mutex_unlock(&h->lock);
        publish_trigger(h, handle, ids, &g);
    }
    return 1;
}

/* ---- life ---- */

/* configuration_url: http://ADDR:PORT/metrics; a wildcard address becomes this host's name */
static void metrics_url(const char *addr, char *out, size_t n)
{
    char host[128];
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    out[0] = '\0';
    if (!colon) {
        return;
    }
    size_t hl = (size_t)(colon - addr);
    if (hl >= sizeof host) {
        return;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    if (!hl || !strcmp(host, "0.0.0.0") || !strcmp(host, "[::]")) {
        if (gethostname(host, sizeof host)) {
            snprintf(host, sizeof host, "localhost");
        }
        host[sizeof host - 1] = '\0';
    }
    snprintf(out, n, "http://%s%s/metrics", host, colon);
}

void bridge_ha_init(struct ha_ctx *h, struct bridge_mqtt *m, const struct bridge_topic_roots *r,
                    const char *metrics)
{
    memset(h, 0, sizeof *h);
    h->mqtt = m;
    h->roots = r;
    metrics_url(metrics && metrics[0] ? metrics : NULL, h->metrics_url, sizeof h->metrics_url);
    pthread_mutex_init(&h->lock, NULL);
}

void bridge_ha_cleanup(struct ha_ctx *h)
{
    while (h->streamers) {
        struct ha_streamer *s = h->streamers;
        h->streamers = s->next;
        free(s->gifts);
        free(s);
    }
    pthread_mutex_destroy(&h->lock);
}
