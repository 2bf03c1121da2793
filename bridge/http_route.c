/** @file http_route.c
 * The routes of the bridge's HTTP server and the event stream's `?user=` filter (http_route.h).
 * Everything before this (the request line, headers, URL decoding, size caps, timeouts) is
 * libwebsockets' job.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "http_route.h"

static const struct {
    const char *path;
    enum bridge_http_route route;
} routes[] = {
    { "/metrics", BRIDGE_HTTP_METRICS },
    { "/healthz", BRIDGE_HTTP_HEALTHZ },
    { "/events", BRIDGE_HTTP_EVENTS },
    { "/", BRIDGE_HTTP_INDEX },
};

enum bridge_http_route bridge_http_route(const char *path)
{
    size_t n = strlen(path);
    if (n > 1 && path[n - 1] == '/') {
        n--; /* /metrics/ is /metrics */
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strlen(routes[i].path) == n && !memcmp(routes[i].path, path, n)) {
            return routes[i].route;
        }
    }
    return BRIDGE_HTTP_NOT_FOUND;
}

static int name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

/* One item of the list, [s, s+len): checked, then added unless already there. */
static int add(struct bridge_http_users *u, const char *s, size_t len, const char **why)
{
    if (len > BRIDGE_HTTP_USER_MAX) {
        *why = "a streamer name is too long";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (!name_char(s[i])) {
            *why = "a streamer name has a character other than letters, digits, '_', '.', '-'";
            return -1;
        }
    }
    for (size_t i = 0; i < u->n; i++) {
        if (strlen(u->name[i]) == len && !memcmp(u->name[i], s, len)) {
            return 0;
        }
    }
    if (u->n == BRIDGE_HTTP_USERS_MAX) {
        *why = "too many streamers (at most 16)";
        return -1;
    }
    memcpy(u->name[u->n], s, len);
    u->name[u->n++][len] = '\0';
    return 0;
}

int bridge_http_users_parse(const char *v, struct bridge_http_users *u, const char **why)
{
    const char *dummy;
    why = why ? why : &dummy;
    u->n = 0;
    while (v && *v) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        if (len && add(u, v, len, why)) {
            u->n = 0;
            return -1;
        }
        v += len + (comma != NULL);
    }
    return 0;
}

int bridge_http_users_match(const struct bridge_http_users *u, const char *user)
{
    if (!u->n) {
        return 1;
    }
    for (size_t i = 0; i < u->n; i++) {
        if (!strcmp(u->name[i], user)) {
            return 1;
        }
    }
    return 0;
}
