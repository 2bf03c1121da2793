/** @file ha.h
 * Home Assistant MQTT discovery for the streamers (ha.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_HA_H
#define BRIDGE_HA_H

#include "mqtt.h"

struct ha_ctx {
    struct bridge_mqtt *mqtt;
    const char *prefix; /* [homeassistant] discovery_prefix */
    const char *base;   /* [mqtt] base_topic */
};

/** The discovery configs of one streamer (retained). */
void bridge_ha_publish(const struct ha_ctx *h, const char *handle, const char *topic);
/** Empty retained payloads on its discovery topics: the entities go away. */
void bridge_ha_clear(const struct ha_ctx *h, const char *topic);

#endif
