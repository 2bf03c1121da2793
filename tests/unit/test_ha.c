/** @file test_ha.c
 * Home Assistant's gift triggers that other runs left retained on the broker (bridge/ha.c),
 * with bridge_mqtt_publish stubbed: a trigger of a streamer this bridge follows is published
 * again by it; the streamers known only from such configs are capped, as anyone who may publish
 * on the broker can make up ids; one followed since, or cleared, frees its place.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "ha.h"
#include "mqtt.h"
#include "topic.h"

static int published;
static char last_topic[512];

void bridge_mqtt_publish(struct bridge_mqtt *m, const char *topic, const char *payload, size_t len,
                         int qos, unsigned flags, uint64_t msg_id)
{
    (void)m, (void)payload, (void)len, (void)qos, (void)flags, (void)msg_id;
    published++;
    snprintf(last_topic, sizeof last_topic, "%s", topic);
}

static const char rose[] = "{\"subtype\":\"Rose\",\"device\":{\"name\":\"someone\"}}";

/* A retained trigger config of streamer id `id` arrives from the broker. */
static int seen(struct ha_ctx *h, const char *id)
{
    char topic[256];
    snprintf(topic, sizeof topic, "homeassistant/device_automation/tiktok2mqtt_%s/gift_5655/config",
             id);
    return bridge_ha_trigger_seen(h, topic, rose, strlen(rose));
}

int main(void)
{
    struct bridge_topic_roots roots;
    struct ha_ctx h;
    char id[32];
    memset(&roots, 0, sizeof roots);
    snprintf(roots.base, sizeof roots.base, "tiktok");
    snprintf(roots.ha_prefix, sizeof roots.ha_prefix, "homeassistant");
    bridge_ha_init(&h, NULL, &roots, NULL);

    /* a followed streamer's trigger from an earlier run is published again, once */
    bridge_ha_publish(&h, "followed", "followed");
    published = 0;
    CHECK_EQ(seen(&h, "followed"), 1);
    CHECK_EQ(published, 1);
    CHECK(strstr(last_topic, "tiktok2mqtt_followed/gift_5655/config") != NULL);
    CHECK_EQ(seen(&h, "followed"), 1);
    CHECK_EQ(published, 1);
    CHECK_EQ(h.n_from_broker, 0);

    /* made-up ids: at most 20,000 remembered */
    published = 0;
    for (int i = 0; i < 25000; i++) {
        snprintf(id, sizeof id, "x%d", i);
        seen(&h, id);
    }
    CHECK_EQ(h.n_from_broker, 20000);
    CHECK_EQ(published, 0); /* none of them is ours */

    /* one followed since (its trigger goes out with it), one cleared: two places free */
    published = 0;
    bridge_ha_publish(&h, "x7", "x7");
    CHECK(published > 1);
    CHECK(strstr(last_topic, "tiktok2mqtt_x7/gift_5655/config") != NULL);
    bridge_ha_clear(&h, "x8");
    CHECK_EQ(h.n_from_broker, 19998);
    seen(&h, "late1");
    seen(&h, "late2");
    seen(&h, "late3");
    CHECK_EQ(h.n_from_broker, 20000);
    bridge_ha_cleanup(&h);
    return h_finish();
}
