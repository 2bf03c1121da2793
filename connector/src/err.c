/** @file err.c
 * The error codes' texts: tt_strerror()'s sentence and tt_err_name()'s stable snake-case name,
 * one row per enum tt_err (checked at compile time).
 *
 * SPDX-License-Identifier: MIT
 */
#include "tt.h"

/* clang-format off */
#define TT_ERRORS(X) \
    X(TT_OK,                  "ok",                 "success") \
    X(TT_ERR_NOMEM,           "out_of_memory",      "out of memory") \
    X(TT_ERR_INVAL,           "invalid_argument",   "invalid argument") \
    X(TT_ERR_TOO_LARGE,       "too_large",          "input or output over its size cap") \
    X(TT_ERR_GZIP,            "gzip",               "corrupt or truncated gzip data") \
    X(TT_ERR_GZIP_BOMB,       "gzip_bomb",          "gzip data inflates beyond the size or ratio cap") \
    X(TT_ERR_PROTO,           "protobuf",           "malformed protobuf data") \
    X(TT_ERR_NOT_FOUND,       "user_not_found",     "user not found") \
    X(TT_ERR_OFFLINE,         "offline",            "user is not live") \
    X(TT_ERR_AGE_RESTRICTED,  "age_restricted",     "room is age-restricted") \
    X(TT_ERR_BLOCKED,         "blocked",            "blocked by TikTok (captcha, IP or region)") \
    X(TT_ERR_RATE_LIMITED,    "rate_limited",       "rate limited (sign server or im/fetch)") \
    X(TT_ERR_SIGN_REFUSED,    "sign_refused",       "sign server refused the request (API key or plan)") \
    X(TT_ERR_SIGN,            "sign_failed",        "sign server failed") \
    X(TT_ERR_NO_CURSOR,       "signature_rejected", "no cursor in the initial fetch (signature rejected)") \
    X(TT_ERR_WS_REFUSED,      "websocket_refused",  "WebSocket refused by TikTok") \
    X(TT_ERR_NO_UPGRADE,      "no_upgrade",         "no WebSocket and no polling possible") \
    X(TT_ERR_CONNECTION_LOST, "connection_lost",    "connection lost") \
    X(TT_ERR_TIMEOUT,         "timeout",            "timed out") \
    X(TT_ERR_HTTP,            "http_failed",        "HTTP request failed") \
    X(TT_ERR_STATE,           "bad_state",          "not allowed in this state") \
    X(TT_ERR_UNSUPPORTED,     "unsupported",        "not supported by this build") \
    X(TT_ERR_STALE,           "stale",              "no frame for stale_timeout_s: the socket went silent") \
    X(TT_ERR_NO_TTWID,        "no_ttwid",           "TikTok issued no ttwid device token") \
    X(TT_ERR_DEVICE_BLOCKED,  "device_blocked",     "the device (ttwid and User-Agent) is blocked")
/* clang-format on */

#define COUNT(code, name, msg) +1
_Static_assert(0 TT_ERRORS(COUNT) == TT_ERR__COUNT, "err.c: one row per enum tt_err");
#undef COUNT

struct err_text {
    const char *name, *msg;
};

static const struct err_text texts[TT_ERR__COUNT] = {
#define ROW(code, name, msg) [code] = { name, msg },
    TT_ERRORS(ROW)
#undef ROW
};

const char *tt_strerror(enum tt_err err)
{
    if ((unsigned)err >= TT_ERR__COUNT || !texts[err].msg) {
        return "unknown error";
    }
    return texts[err].msg;
}

const char *tt_err_name(enum tt_err err)
{
    if ((unsigned)err >= TT_ERR__COUNT || !texts[err].name) {
        return "error";
    }
    return texts[err].name;
}
