/** @file metrics.h
 * Prometheus /metrics and /healthz on [bridge] metrics (ADDR:PORT), metrics.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_METRICS_H
#define BRIDGE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "out.h"
#include "streamer.h"

struct bridge_metrics;
/** Bind and listen (nothing served yet); NULL with the reason in `err` when that fails. */
struct bridge_metrics *bridge_metrics_new(const char *addr, char *err, size_t errlen);
/** Serve from a thread of its own; out->sink must be set already. A scrape wakes the main loop
 * through `out`. */
int bridge_metrics_start(struct bridge_metrics *m, struct bridge_out *out, int64_t started_ms);
/** Main thread, every turn of the loop: render /metrics when a scrape waits for it. */
void bridge_metrics_pump(struct bridge_metrics *m, struct streamer *list);
/** The device pool whose figures the metrics show (NULL: none). */
void bridge_metrics_devices(struct bridge_metrics *m, struct tt_devices *devices);
/** Stop serving and free; NULL is a no-op. */
void bridge_metrics_free(struct bridge_metrics *m);

#endif
