/** @file sse.h
 * The Server-Sent Events output (sink_sse.c): a sink (sink.h) that turns the bridge's events
 * into `event: <name>` / `data: {"user","event","data"}` messages, one bounded queue per
 * connected client; the HTTP server (http.c) attaches a client per GET /events and writes out
 * what its queue holds. The format is contrib/overlay/README.md's.
 *
 * Threads: the sink's functions run on any thread (streamers, main); attach, take, ping and
 * detach on the HTTP server's. A client whose queue would pass BRIDGE_SSE_QUEUE_MAX is marked
 * dropped and its queue freed: a slow reader is cut off, the bridge never waits for it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_SSE_H
#define BRIDGE_SSE_H

#include <stddef.h>

#include "http_route.h"
#include "sink.h"

#define BRIDGE_SSE_CLIENTS_MAX 16            /* streams open at once; more get 503 */
#define BRIDGE_SSE_QUEUE_MAX   (1024 * 1024) /* bytes waiting for one client */

struct bridge_sse;
struct bridge_sse_client;

/** The sink and its client list; the sink face is bridge_sse_sink(). */
struct bridge_sse *bridge_sse_new(void);
struct bridge_sink *bridge_sse_sink(struct bridge_sse *h);
/** Who to call (any thread, must not block) when a client has something to write; NULL: nobody
 *  (the server is gone). */
void bridge_sse_set_wake(struct bridge_sse *h, void (*wake)(void *ud), void *ud);
/** A new client with filter `f`, its queue starting with a `retry:` line and the kept `state`
 *  and `room` of each streamer it wants; NULL when BRIDGE_SSE_CLIENTS_MAX are attached. */
struct bridge_sse_client *bridge_sse_attach(struct bridge_sse *h,
                                            const struct bridge_http_users *f);
/** Move up to `cap` queued bytes into `buf`; returns how many. `*dropped` says the client fell
 *  too far behind and must be closed. */
size_t bridge_sse_take(struct bridge_sse_client *c, char *buf, size_t cap, int *dropped);
/** Bytes queued, or 1 when the client was dropped: it wants a writable callback either way. */
size_t bridge_sse_pending(struct bridge_sse_client *c);
/** Queue a keep-alive comment (`: ping`), so that proxies keep an idle stream open. */
void bridge_sse_ping(struct bridge_sse_client *c);
void bridge_sse_detach(struct bridge_sse_client *c);
/** Streams attached now (any thread; NULL: 0). */
size_t bridge_sse_clients(struct bridge_sse *h);
/** The HTTP thread was woken: clear the flag before it looks at the clients, so that a message
 *  queued after the look wakes it again. */
void bridge_sse_woken(struct bridge_sse *h);

#endif
