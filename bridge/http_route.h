/** @file http_route.h
 * What of an HTTP request is still read by our own code once libwebsockets has parsed it
 * (http.c): which of the server's routes a path names, and the `?user=a,b` filter of the
 * event stream. Pure functions: no allocation, no I/O, safe from any thread; fuzzed by
 * tests/fuzz/fuzz_http.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_HTTP_ROUTE_H
#define BRIDGE_HTTP_ROUTE_H

#include <stddef.h>

enum bridge_http_route {
    BRIDGE_HTTP_NOT_FOUND,
    BRIDGE_HTTP_METRICS, /* /metrics */
    BRIDGE_HTTP_HEALTHZ, /* /healthz */
    BRIDGE_HTTP_EVENTS,  /* /events: the Server-Sent Events stream */
    BRIDGE_HTTP_INDEX,   /* /: a line naming the others */
};

/** The route of `path` (the URI path, without the query): an exact match, a trailing '/'
 *  excepted (`/metrics/` is `/metrics`). The overlay's files (/overlay/...) never get here:
 *  libwebsockets serves them from its mount. */
enum bridge_http_route bridge_http_route(const char *path);

/** Most streamers one event stream may name, and the longest name. */
#define BRIDGE_HTTP_USERS_MAX 16
#define BRIDGE_HTTP_USER_MAX  64

struct bridge_http_users {
    size_t n; /* 0: every streamer */
    char name[BRIDGE_HTTP_USERS_MAX][BRIDGE_HTTP_USER_MAX + 1];
};

/** Parse the value of `user=` (already URL-decoded), a comma list of topic names: each of
 *  [A-Za-z0-9_.-], 1..BRIDGE_HTTP_USER_MAX bytes, at most BRIDGE_HTTP_USERS_MAX of them,
 *  duplicates kept once; empty items are skipped. `v` NULL or empty: every streamer. Returns 0,
 *  or -1 with `*why` set to a static reason (then `u` is emptied). */
int bridge_http_users_parse(const char *v, struct bridge_http_users *u, const char **why);

/** True when `user` passes the filter (always when the filter names nobody). */
int bridge_http_users_match(const struct bridge_http_users *u, const char *user);

#endif
