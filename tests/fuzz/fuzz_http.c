/** @file fuzz_http.c
 * libFuzzer target: what of an HTTP request our own code still reads once libwebsockets has
 * parsed it (bridge/http_route.c): the route of the URI path and the event stream's `?user=`
 * filter. The request line, headers, URL decoding, caps and timeouts are libwebsockets' (the
 * hostile-client tests in tests/bridge/http_server.py cover the server as a whole).
 *
 * Input: the bytes up to the first NUL (or all of them) as a path, the rest as the value of
 * `user=`; both as C strings, as lws hands them over (a NUL ends what lws decoded).
 *
 * Invariants beyond ASan/UBSan: a route is one of the enum; "/metrics", "/healthz", "/events"
 * and "/" route to themselves with or without one trailing '/', and a path of any other
 * length routes nowhere; a parsed filter holds 1..16 distinct names of [A-Za-z0-9_.-], each
 * 1..64 bytes, each found by bridge_http_users_match, and every name of the input (split at
 * ',') is in it; a refused filter is empty and gives a reason.
 * Built by `make fuzz` with clang; `build/fuzz_http_replay` replays the corpus under gcc.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_route(const char *path)
{
    static const char *const known[] = { "/metrics", "/healthz", "/events", "/" };
    enum bridge_http_route r = bridge_http_route(path);
    size_t n = strlen(path);
    if (r > BRIDGE_HTTP_INDEX) {
        abort();
    }
    if (n > 1 && path[n - 1] == '/') {
        n--;
    }
    int want = 0;
    for (size_t i = 0; i < 4; i++) {
        if (strlen(known[i]) == n && !memcmp(known[i], path, n)) {
            want = (int)i + 1;
        }
    }
    if (r != (enum bridge_http_route)want) {
        abort();
    }
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > BRIDGE_HTTP_USER_MAX) {
        return 0;
    }
    for (; *s; s++) {
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *s)) {
            return 0;
        }
    }
    return 1;
}

static void check_users(const char *v)
{
    struct bridge_http_users u;
    const char *why = NULL;
    if (bridge_http_users_parse(v, &u, &why)) {
        if (u.n || !why) {
            abort();
        }
        return;
    }
    if (u.n > BRIDGE_HTTP_USERS_MAX) {
        abort();
    }
    for (size_t i = 0; i < u.n; i++) {
        if (!name_ok(u.name[i]) || !bridge_http_users_match(&u, u.name[i])) {
            abort();
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(u.name[i], u.name[j])) {
                abort();
            }
        }
    }
    /* every item of the input is in the filter (an empty one is skipped) */
    const char *p = v;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[BRIDGE_HTTP_USER_MAX + 1];
        if (len > BRIDGE_HTTP_USER_MAX) {
            abort(); /* accepted although too long */
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (len && (!u.n || !bridge_http_users_match(&u, item))) {
            abort();
        }
        p += len + (comma != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 2);
    if (!buf) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = '\0';
    size_t plen = strlen(buf); /* the path ends at the first NUL */
    check_route(buf);
    check_users(buf + plen + (plen < size));
    free(buf);
    return 0;
}
