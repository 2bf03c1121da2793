/** @file ha.h
 * Home Assistant MQTT discovery for the streamers (ha.c), a part of the MQTT sink.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_HA_H
#define BRIDGE_HA_H

#include "mqtt.h"
#include "topic.h"

struct ha_ctx {
    struct bridge_mqtt *mqtt;
    const struct bridge_topic_roots *roots; /* base_topic and discovery_prefix */
};

/** The discovery configs of one streamer (retained). */
void bridge_ha_publish(const struct ha_ctx *h, const char *handle, const char *topic);
/** Empty retained payloads on its discovery topics: the entities go away. */
void bridge_ha_clear(const struct ha_ctx *h, const char *topic);

#endif
