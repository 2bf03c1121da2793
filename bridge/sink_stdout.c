/** @file sink_stdout.c
 * --stdout: JSON lines (events as {"user","event","data"}, status changes as
 * {"user","status"}); nothing else is printed, so the lines can be piped into jq.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "sink.h"
#include "xalloc.h"

struct sink_stdout {
    struct bridge_sink base;
    pthread_mutex_t lock; /* one line at a time from the streamer threads */
};

static void event(struct bridge_sink *k, const char *user, unsigned ev, const char *method,
                  const char *json, size_t len, uint64_t msg_id)
{
    struct sink_stdout *s = (struct sink_stdout *)k;
    const char *name = bridge_event_name(ev); /* rawData has none: not printed */
    (void)method;
    (void)msg_id;
    if (!name) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    printf("{\"user\":\"%s\",\"event\":\"%s\",\"data\":%.*s}\n", user, name, (int)len, json);
    fflush(stdout);
    pthread_mutex_unlock(&s->lock);
}

static void status(struct bridge_sink *k, const char *user, const char *json, size_t len)
{
    struct sink_stdout *s = (struct sink_stdout *)k;
    pthread_mutex_lock(&s->lock);
    printf("{\"user\":\"%s\",\"status\":%.*s}\n", user, (int)len, json);
    fflush(stdout);
    pthread_mutex_unlock(&s->lock);
}

static void close_stdout(struct bridge_sink *k, int timeout_ms)
{
    struct sink_stdout *s = (struct sink_stdout *)k;
    (void)timeout_ms;
    fflush(stdout);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static const struct bridge_sink_ops ops = {
    .name = "stdout",
    .event = event,
    .status = status,
    .close = close_stdout, /* retained states and notices are for a broker's subscribers */
};

struct bridge_sink *bridge_sink_stdout_new(void)
{
    struct sink_stdout *s = xcalloc(1, sizeof *s);
    s->base.ops = &ops;
    pthread_mutex_init(&s->lock, NULL);
    return &s->base;
}
