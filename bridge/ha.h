/** @file ha.h
 * Home Assistant MQTT discovery (ha.c), a part of the MQTT sink: the bridge's own device, a
 * device per streamer with its entities, and a device trigger per gift name once that gift has
 * been seen.
 *
 * Threads: bridge_ha_gift() runs on the streamers' threads (from the sink's event), the rest on
 * the main thread; the gift triggers known so far are kept under `lock`.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_HA_H
#define BRIDGE_HA_H

#include <pthread.h>
#include <stddef.h>

#include "mqtt.h"
#include "topic.h"

struct ha_streamer;

struct ha_ctx {
    struct bridge_mqtt *mqtt;
    const struct bridge_topic_roots *roots; /* base_topic and discovery_prefix */
    char metrics_url[192];         /* the bridge's /metrics, "" when [bridge] metrics is off */
    pthread_mutex_t lock;          /* the streamers below */
    struct ha_streamer *streamers; /* every streamer announced or seen on the broker */
    size_t n_from_broker;          /* of those, seen only on the broker (capped) */
};

/** `metrics`: the [bridge] metrics ADDR:PORT, "" or NULL when off. */
void bridge_ha_init(struct ha_ctx *h, struct bridge_mqtt *m, const struct bridge_topic_roots *r,
                    const char *metrics);
void bridge_ha_cleanup(struct ha_ctx *h);

/** The bridge's device: a connectivity entity on <base>/bridge/state (retained). */
void bridge_ha_publish_bridge(struct ha_ctx *h);
/** The discovery configs of one streamer and its gift triggers known so far (retained). */
void bridge_ha_publish(struct ha_ctx *h, const char *handle, const char *topic);
/** Empty retained payloads on its discovery topics (entities and gift triggers): they go. */
void bridge_ha_clear(struct ha_ctx *h, const char *topic);
/** A giftEnd of streamer `topic`: the first of its gift name publishes that name's trigger. */
void bridge_ha_gift(struct ha_ctx *h, const char *topic, const char *json, size_t len);
/** The filter of the gift triggers' config topics (retained ones tell what an earlier run
 *  published); `out` is "" when it does not fit. */
void bridge_ha_trigger_filter(const struct ha_ctx *h, char *out, size_t n);
/** A message on that filter: a trigger of ours is remembered, so that removing its streamer
 *  clears it too. Returns 1 when `topic` was under the filter. */
int bridge_ha_trigger_seen(struct ha_ctx *h, const char *topic, const char *payload, size_t len);

/** The discovery id of a streamer's topic level: `.` becomes `-` (handles never hold `-`, so
 *  `dj.mo` and `dj_mo` stay apart); "" when it does not fit in `n`. */
void bridge_ha_id(const char *topic, char *out, size_t n);

#endif
