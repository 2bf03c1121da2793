/** @file out.c
 * Where everything goes: MQTT topics under the base topic, or JSON lines on stdout with
 * --stdout (docs/mqtt.md §7: events as {"user","event","data"}, status changes as
 * {"user","status"}; nothing else is printed).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"

void bridge_out_wake(struct bridge_out *o)
{
    if (o->wake_fd >= 0 && !atomic_exchange(&o->wake_pending, 1)) {
        uint64_t one = 1;
        ssize_t n = write(o->wake_fd, &one, sizeof one); /* full counter: it is awake anyway */
        (void)n;
    }
}

void bridge_out_publish(struct bridge_out *o, const char *rest, const char *payload, size_t len,
                        int qos, unsigned flags, uint64_t msg_id)
{
    char topic[512];
    if (!o->mqtt) {
        return;
    }
    snprintf(topic, sizeof topic, "%s/%s", o->base, rest);
    bridge_mqtt_publish(o->mqtt, topic, payload, len, qos, flags, msg_id);
}

void bridge_out_publish_json(struct bridge_out *o, const char *rest, cJSON *j, int qos,
                             unsigned flags)
{
    char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
    if (txt) {
        bridge_out_publish(o, rest, txt, strlen(txt), qos, flags, 0);
    }
    cJSON_free(txt);
    cJSON_Delete(j);
}

void bridge_out_event_line(struct bridge_out *o, const char *user, const char *event,
                           const char *json, size_t len)
{
    if (o->mqtt) {
        return;
    }
    pthread_mutex_lock(&o->stdout_lock);
    printf("{\"user\":\"%s\",\"event\":\"%s\",\"data\":%.*s}\n", user, event, (int)len, json);
    fflush(stdout);
    pthread_mutex_unlock(&o->stdout_lock);
}

void bridge_out_status_line(struct bridge_out *o, const char *user, const char *status_json)
{
    if (o->mqtt) {
        return;
    }
    pthread_mutex_lock(&o->stdout_lock);
    printf("{\"user\":\"%s\",\"status\":%s}\n", user, status_json);
    fflush(stdout);
    pthread_mutex_unlock(&o->stdout_lock);
}
