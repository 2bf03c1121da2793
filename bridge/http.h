/** @file http.h
 * The bridge's one HTTP server ([bridge] http = ADDR:PORT, or its old name `metrics`), on
 * libwebsockets' HTTP server (http.c): /metrics, /healthz, /events (Server-Sent Events, sse.h)
 * and the overlay's files under /overlay/.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_HTTP_H
#define BRIDGE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "sse.h"
#include "streamer.h"

struct bridge_http;

/** Bind and listen on `addr` (nothing served yet); NULL with the reason in `err` when that
 *  fails. `overlay_dir`: where the overlay's files are; "" or a directory without index.html:
 *  /overlay/ answers 404. */
struct bridge_http *bridge_http_new(const char *addr, const char *overlay_dir, char *err,
                                    size_t errlen);
/** Serve from a thread of its own: the page's sources (`src->out` wakes the main loop for a
 *  scrape) and the event stream's clients (`sse`, may be NULL: /events answers 404). */
int bridge_http_start(struct bridge_http *h, const struct bridge_metrics_src *src,
                      struct bridge_sse *sse);
/** Main thread, every turn of the loop: render /metrics when a scrape waits for it. */
void bridge_http_pump(struct bridge_http *h, struct streamer *list);
/** The device pool whose figures /metrics shows (set before start). */
void bridge_http_devices(struct bridge_http *h, struct tt_devices *devices);
/** The overlay's directory: `configured` when set, else the first of
 *  <dir of the program>/../share/tiktok2mqtt/overlay (make install, the package),
 *  <dir of the program>/../contrib/overlay and ../../contrib/overlay (the source tree: build/,
 *  build/san/) that holds an index.html; "" when none does. */
void bridge_overlay_dir(const char *configured, char *out, size_t n);
/** Stop serving (open streams are closed) and free; NULL is a no-op. */
void bridge_http_free(struct bridge_http *h);

#endif
