/** @file topic.c
 * The bridge's topic table: which events have a topic, their names, and every topic's layout
 * (topic.h draws them).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "topic.h"
#include "cfg.h"

static const char *const derived[] = {
#define NAME_ROW(e, name, from) name,
    BRIDGE_DERIVED_EVENTS(NAME_ROW)
#undef NAME_ROW
};

static const enum tt_event_type origin[] = {
#define FROM_ROW(e, name, from) from,
    BRIDGE_DERIVED_EVENTS(FROM_ROW)
#undef FROM_ROW
};

/* The library's events that go out on <base>/<user>/<name> and may be selected: every Webcast
 * event and the decode errors. rawData goes to rawData/<method> when [bridge] raw is on; the
 * connection's own events (the last four of enum tt_event_type) become status and
 * availability. */
_Static_assert(TT_EV_CONNECTED == TT_EV__COUNT - 4, "the connection's events come last");

static bool has_topic(unsigned t)
{
    return t != TT_EV_NONE && t != TT_EV_RAW_DATA && t < TT_EV_CONNECTED;
}

const char *bridge_event_name(unsigned k)
{
    if (k < TT_EV__COUNT) {
        return has_topic(k) ? tt_event_type_name((enum tt_event_type)k) : NULL;
    }
    return k < BRIDGE_EV__COUNT ? derived[k - TT_EV__COUNT] : NULL;
}

unsigned bridge_event_origin(unsigned k)
{
    return k >= TT_EV__COUNT && k < BRIDGE_EV__COUNT ? origin[k - TT_EV__COUNT] : k;
}

int bridge_event_bit(const char *name, bool nocase)
{
    for (unsigned k = 0; k < BRIDGE_EV__COUNT; k++) {
        const char *n = bridge_event_name(k);
        if (n && (nocase ? !strcasecmp(n, name) : !strcmp(n, name))) {
            return (int)k;
        }
    }
    return -1;
}

/* the bridge's own level under the base (cfg_rules.c refuses it as a streamer's topic) */
#define BRIDGE_LEVEL "bridge"

/* The fixed last level of the kinds that have one. */
static const char *const leaf[] = {
    [BRIDGE_TOPIC_STATUS] = "status",     [BRIDGE_TOPIC_AVAILABILITY] = "availability",
    [BRIDGE_TOPIC_ROOM] = "room",         [BRIDGE_TOPIC_STATE] = "state",
    [BRIDGE_TOPIC_INFO] = "info",         [BRIDGE_TOPIC_HEALTH] = "health",
    [BRIDGE_TOPIC_NOTICE] = "event",      [BRIDGE_TOPIC_BRIDGE_STATE] = "state",
    [BRIDGE_TOPIC_RESPONSE] = "response", [BRIDGE_TOPIC_REQUESTS] = "request",
    [BRIDGE_TOPIC_HA_STATUS] = "status",
};

static int event_topic(const struct bridge_topic_roots *r, const struct bridge_topic *t, char *out,
                       size_t n)
{
    if (t->ev == TT_EV_RAW_DATA) {
        return snprintf(out, n, "%s/%s/%s/%s", r->base, t->user, tt_event_type_name(TT_EV_RAW_DATA),
                        t->arg ? t->arg : "");
    }
    const char *name = bridge_event_name(t->ev);
    return snprintf(out, n, "%s/%s/%s", r->base, t->user, name ? name : "");
}

int bridge_topic(const struct bridge_topic_roots *r, const struct bridge_topic *t, char *out,
                 size_t n)
{
    int len;
    switch (t->kind) {
    case BRIDGE_TOPIC_EVENT:
        len = event_topic(r, t, out, n);
        break;
    case BRIDGE_TOPIC_STATUS:
    case BRIDGE_TOPIC_AVAILABILITY:
    case BRIDGE_TOPIC_ROOM:
    case BRIDGE_TOPIC_STATE:
        len = snprintf(out, n, "%s/%s/%s", r->base, t->user, leaf[t->kind]);
        break;
    case BRIDGE_TOPIC_RESPONSE:
        len = snprintf(out, n, "%s/%s/%s/%s", r->base, BRIDGE_LEVEL, leaf[t->kind], t->arg);
        break;
    case BRIDGE_TOPIC_REQUESTS:
        len = snprintf(out, n, "%s/%s/%s/+", r->base, BRIDGE_LEVEL, leaf[t->kind]);
        break;
    case BRIDGE_TOPIC_HA_STATUS:
        len = snprintf(out, n, "%s/%s", r->ha_prefix, leaf[t->kind]);
        break;
    case BRIDGE_TOPIC_HA_CONFIG: /* no key: what the config topics of nodes `user`* begin with */
        len = t->key ? snprintf(out, n, "%s/%s/%s/%s/config", r->ha_prefix, t->arg, t->user, t->key)
                     : snprintf(out, n, "%s/%s/%s", r->ha_prefix, t->arg, t->user);
        break;
    default: /* the bridge's own: info, health, event, state; each shard's its own */
        len = snprintf(out, n, "%s/%s/%s%s%s", r->base, BRIDGE_LEVEL, r->instance,
                       *r->instance ? "/" : "", leaf[t->kind]);
        break;
    }
    if (len < 0 || (size_t)len >= n) {
        if (n) {
            out[0] = '\0';
        }
        return -1;
    }
    return 0;
}

void bridge_topic_roots_init(struct bridge_topic_roots *r, const struct bridge_cfg *cfg)
{
    snprintf(r->base, sizeof r->base, "%s", cfg->mqtt.base_topic);
    snprintf(r->ha_prefix, sizeof r->ha_prefix, "%s", cfg->homeassistant.discovery_prefix);
    snprintf(r->instance, sizeof r->instance, "%s", cfg->bridge.instance);
}

const char *bridge_topic_request(const struct bridge_topic_roots *r, const char *topic)
{
    char prefix[320];
    int n = snprintf(prefix, sizeof prefix, "%s/%s/%s/", r->base, BRIDGE_LEVEL,
                     leaf[BRIDGE_TOPIC_REQUESTS]);
    if (n < 0 || (size_t)n >= sizeof prefix || strncmp(topic, prefix, (size_t)n)) {
        return NULL;
    }
    return topic + n;
}
