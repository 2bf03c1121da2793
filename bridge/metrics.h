/** @file metrics.h
 * The Prometheus page of /metrics (metrics.c); the HTTP server that serves it is http.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_METRICS_H
#define BRIDGE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "out.h"
#include "sse.h"
#include "streamer.h"

/** What the page shows besides the streamers. */
struct bridge_metrics_src {
    struct bridge_out *out;     /* the broker's figures (zero without one: --stdout) */
    struct tt_devices *devices; /* the direct path's pool; NULL: none */
    int64_t started_ms;         /* wall clock */
    struct bridge_sse *sse;     /* the event stream's clients; NULL: none */
};

/** Main thread: the whole page, allocated, its length in `*len`. */
char *bridge_metrics_render(const struct bridge_metrics_src *src, struct streamer *list,
                            size_t *len);

#endif
