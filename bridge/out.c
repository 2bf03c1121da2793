/** @file out.c
 * The bridge's output: the sink in use, and the main thread's wakeup (out.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "out.h"

void bridge_out_wake(struct bridge_out *o)
{
    if (o->wake_fd >= 0 && !atomic_exchange(&o->wake_pending, 1)) {
        uint64_t one = 1;
        ssize_t n = write(o->wake_fd, &one, sizeof one); /* full counter: it is awake anyway */
        (void)n;
    }
}

void bridge_out_event(struct bridge_out *o, const char *user, unsigned ev, const char *method,
                      const char *json, size_t len, uint64_t msg_id)
{
    o->sink->ops->event(o->sink, user, ev, method, json, len, msg_id);
    if (o->tap) {
        o->tap->ops->event(o->tap, user, ev, method, json, len, msg_id);
    }
}

void bridge_out_status(struct bridge_out *o, const char *user, const char *json, size_t len)
{
    o->sink->ops->status(o->sink, user, json, len);
    if (o->tap) {
        o->tap->ops->status(o->tap, user, json, len);
    }
}

void bridge_out_retained(struct bridge_out *o, enum bridge_topic_kind t, const char *user,
                         const char *payload, size_t len)
{
    if (o->sink->ops->retained) {
        o->sink->ops->retained(o->sink, t, user, payload, len);
    }
    if (o->tap && o->tap->ops->retained) {
        o->tap->ops->retained(o->tap, t, user, payload, len);
    }
}

/* `j` printed compactly to the sink (a notice or a retained state), then deleted; not printed
 * at all for a sink without that kind of output. */
static void send_json(struct bridge_out *o, int notice, enum bridge_topic_kind t, const char *s,
                      cJSON *j)
{
    const struct bridge_sink_ops *ops = o->sink->ops;
    int wanted = notice ? ops->notice != NULL
                        : ops->retained != NULL || (o->tap && o->tap->ops->retained);
    char *txt = j && wanted ? cJSON_PrintUnformatted(j) : NULL;
    if (txt && notice) {
        ops->notice(o->sink, t, s, txt, strlen(txt));
    } else if (txt) {
        bridge_out_retained(o, t, s, txt, strlen(txt));
    }
    cJSON_free(txt);
    cJSON_Delete(j);
}

void bridge_out_retained_json(struct bridge_out *o, enum bridge_topic_kind t, const char *user,
                              cJSON *j)
{
    send_json(o, 0, t, user, j);
}

void bridge_out_notice_json(struct bridge_out *o, enum bridge_topic_kind t, const char *arg,
                            cJSON *j)
{
    send_json(o, 1, t, arg, j);
}

void bridge_out_clear(struct bridge_out *o, const char *user)
{
    if (o->sink->ops->clear) {
        o->sink->ops->clear(o->sink, user);
    }
    if (o->tap && o->tap->ops->clear) {
        o->tap->ops->clear(o->tap, user);
    }
}

void bridge_out_announce(struct bridge_out *o, const char *handle, const char *user)
{
    if (o->sink->ops->announce) {
        o->sink->ops->announce(o->sink, handle, user);
    }
}

int bridge_out_pump(struct bridge_out *o)
{
    return o->sink->ops->pump ? o->sink->ops->pump(o->sink) : -1;
}

int bridge_out_stats(struct bridge_out *o, struct bridge_mqtt_stats *st)
{
    memset(st, 0, sizeof *st);
    return o->sink->ops->stats ? o->sink->ops->stats(o->sink, st) : 0;
}

void bridge_out_close(struct bridge_out *o, int timeout_ms)
{
    if (o->sink) {
        o->sink->ops->close(o->sink, timeout_ms);
        o->sink = NULL;
    }
    if (o->tap) {
        o->tap->ops->close(o->tap, 0);
        o->tap = NULL;
    }
}
