/** @file options.c
 * tt_options: defaults, and setting them by the [tiktok] config keys of the bridge
 * (docs/config.md), so tt-connect, the bridge and the docs share one vocabulary.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "hosts.h"
#include "tt.h"

/* A current desktop Chrome: TikTok blocks clients without a browser-like User-Agent (PR
 * TLC#189 fixed "415 DEVICE_BLOCKED" by sending one). */
#define TT_DEFAULT_UA                                                                   \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " \
    "Chrome/129.0.0.0 Safari/537.36"

void tt_options_init(struct tt_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->process_initial_data = 1;
    o->fetch_room_info_on_connect = 1;
    o->enable_websocket_upgrade = 1;
    o->enable_request_polling = 1;
    o->request_polling_interval_ms = 1000;
    o->request_timeout_ms = 10000;
    o->websocket_timeout_ms = 10000;
    o->sign_flow = TT_SIGN_AUTO; /* no sign server needed while TikTok's edge accepts us */
    o->sign_api_url = "https://api.eulerstream.com";
    o->web_base = "https://www.tiktok.com";
    o->webcast_base = "https://webcast.tiktok.com";
    o->user_agent = TT_DEFAULT_UA;
    o->dedup_window = 4096;
    o->push_base = "wss://webcast-ws.tiktok.com";
    o->ttwid_tries = 3;
    o->stale_timeout_s = 60;
    o->direct_retry_s = 3600;
    /* the decoder's own defaults (tt_decoder_new), written out so tt_options_get shows them */
    o->limits.max_frame_bytes = (size_t)1 << 20;
    o->limits.max_inflate_bytes = (size_t)8 << 20;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "0", "false", "no", "off" };
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
            *out = !strcasecmp(v, yes[i]);
            return 0;
        }
    }
    return -1;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    if (!*v || *end || errno || x > max || *v == '-') {
        return -1;
    }
    *out = x;
    return 0;
}

enum kind { K_BOOL, K_MS, K_STR, K_SIZE, K_FLOW, K_COUNT, K_SEC, K_RESOLVE };

struct key {
    const char *name;
    enum kind kind;
    size_t off;
};

#define KEY(n, k, f)                         \
    {                                        \
        n, k, offsetof(struct tt_options, f) \
    }

/* clang-format off */
static const struct key keys[] = {
    KEY("process_initial_data",        K_BOOL, process_initial_data),
    KEY("fetch_room_info_on_connect",  K_BOOL, fetch_room_info_on_connect),
    KEY("enable_extended_gift_info",   K_BOOL, enable_extended_gift_info),
    KEY("enable_websocket_upgrade",    K_BOOL, enable_websocket_upgrade),
    KEY("enable_request_polling",      K_BOOL, enable_request_polling),
    KEY("request_polling_interval_ms", K_MS,   request_polling_interval_ms),
    KEY("client_params",               K_STR,  client_params),
    KEY("request_headers",             K_STR,  request_headers),
    KEY("websocket_headers",           K_STR,  websocket_headers),
    KEY("request_timeout_ms",          K_MS,   request_timeout_ms),
    KEY("websocket_timeout_ms",        K_MS,   websocket_timeout_ms),
    KEY("proxy",                       K_STR,  proxy),
    KEY("sign_flow",                   K_FLOW, sign_flow),
    KEY("sign_api_url",                K_STR,  sign_api_url),
    KEY("sign_api_key",                K_STR,  sign_api_key),
    KEY("session_id",                  K_STR,  session_id),
    KEY("tt_target_idc",               K_STR,  tt_target_idc),
    KEY("web_base",                    K_STR,  web_base),
    KEY("webcast_base",                K_STR,  webcast_base),
    KEY("ca_file",                     K_STR,  ca_file),
    KEY("allow_insecure",              K_BOOL, allow_insecure),
    KEY("user_agent",                  K_STR,  user_agent),
    KEY("max_frame_bytes",             K_SIZE, limits.max_frame_bytes),
    KEY("max_inflate_bytes",           K_SIZE, limits.max_inflate_bytes),
    KEY("push_base",                   K_STR,  push_base),
    KEY("ttwid_tries",                 K_COUNT, ttwid_tries),
    KEY("stale_timeout_s",             K_COUNT, stale_timeout_s),
    KEY("direct_retry_s",              K_SEC,  direct_retry_s),
    KEY("ttwid_file",                  K_STR,  ttwid_file),
    KEY("resolve",                     K_RESOLVE, resolve),
};
/* clang-format on */

/* sign_flow's names, in the order of enum tt_sign_flow */
static const char *const flows[] = { "euler", "legacy", "session", "direct", "auto" };
#define N_FLOWS ((int)(sizeof flows / sizeof flows[0]))
_Static_assert(N_FLOWS == TT_SIGN_AUTO + 1, "a name for every enum tt_sign_flow");

const char *tt_sign_flow_name(enum tt_sign_flow flow)
{
    return (unsigned)flow < N_FLOWS ? flows[flow] : "?";
}

static enum tt_err set_one(struct tt_options *o, const struct key *k, const char *v, char *err,
                           size_t errlen)
{
    char *field = (char *)o + k->off;
    unsigned long x;
    int b;
    switch (k->kind) {
    case K_BOOL:
        if (parse_bool(v, &b)) {
            snprintf(err, errlen, "%s: '%s' is not a boolean (true/false)", k->name, v);
            return TT_ERR_INVAL;
        }
        memcpy(field, &b, sizeof b);
        return TT_OK;
    case K_MS:
        if (parse_uint(v, 24u * 3600 * 1000, &x) || x == 0) {
            snprintf(err, errlen, "%s: '%s' is not a number of ms in 1..86400000", k->name, v);
            return TT_ERR_INVAL;
        }
        *(unsigned *)(void *)field = (unsigned)x;
        return TT_OK;
    case K_SIZE:
        if (parse_uint(v, (unsigned long)1 << 30, &x) || x < 1024) {
            snprintf(err, errlen, "%s: '%s' is not a byte count in 1024..1073741824", k->name, v);
            return TT_ERR_INVAL;
        }
        *(size_t *)(void *)field = (size_t)x;
        return TT_OK;
    case K_COUNT: /* tries, seconds of the watchdog: at least 1 */
    case K_SEC:   /* seconds that may be 0 */
        if (parse_uint(v, 7u * 24 * 3600, &x) || (k->kind == K_COUNT && x == 0)) {
            snprintf(err, errlen, "%s: '%s' is not a number in %d..604800", k->name, v,
                     k->kind == K_COUNT);
            return TT_ERR_INVAL;
        }
        *(unsigned *)(void *)field = (unsigned)x;
        return TT_OK;
    case K_FLOW: {
        for (int i = 0; i < N_FLOWS; i++) {
            if (!strcasecmp(v, flows[i])) {
                o->sign_flow = (enum tt_sign_flow)i;
                return TT_OK;
            }
        }
        snprintf(err, errlen, "sign_flow: '%s' is not one of euler, legacy, session, direct, auto",
                 v);
        return TT_ERR_INVAL;
    }
    case K_RESOLVE: /* checked now, so that a bad entry is named where it was written */
        if (tt__resolve_check(v, err, errlen)) {
            return TT_ERR_INVAL;
        }
        memcpy(field, &v, sizeof v);
        return TT_OK;
    default:
        memcpy(field, &v, sizeof v);
        return TT_OK;
    }
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!strcmp(keys[i].name, name)) {
            return &keys[i];
        }
    }
    return NULL;
}

/* The value as tt_options_set() would take it back. */
static void get_one(const struct tt_options *o, const struct key *k, char *buf, size_t len)
{
    const char *field = (const char *)o + k->off;
    const char *str;
    int b;
    switch (k->kind) {
    case K_BOOL:
        memcpy(&b, field, sizeof b);
        snprintf(buf, len, "%s", b ? "true" : "false");
        break;
    case K_MS:
    case K_COUNT:
    case K_SEC:
        snprintf(buf, len, "%u", *(const unsigned *)(const void *)field);
        break;
    case K_SIZE:
        snprintf(buf, len, "%zu", *(const size_t *)(const void *)field);
        break;
    case K_FLOW:
        snprintf(buf, len, "%s",
                 (int)o->sign_flow >= 0 && (int)o->sign_flow < N_FLOWS ? flows[o->sign_flow] : "");
        break;
    default:
        memcpy(&str, field, sizeof str);
        snprintf(buf, len, "%s", str ? str : "");
        break;
    }
}

enum tt_err tt_options_get(const struct tt_options *o, const char *key, char *buf, size_t len)
{
    const struct key *k = o && key ? find_key(key) : NULL;
    if (!buf || !len) {
        return TT_ERR_INVAL;
    }
    buf[0] = '\0';
    if (!k) {
        return TT_ERR_INVAL;
    }
    get_one(o, k, buf, len);
    return TT_OK;
}

enum tt_err tt_options_set(struct tt_options *o, const char *key, const char *value, char *err,
                           size_t errlen)
{
    char dummy[1];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!o || !key || !value) {
        snprintf(err, errlen, "missing key or value");
        return TT_ERR_INVAL;
    }
    const struct key *k = find_key(key);
    if (k) {
        return set_one(o, k, value, err, errlen);
    }
    snprintf(err, errlen, "unknown option '%s'", key);
    return TT_ERR_INVAL;
}
