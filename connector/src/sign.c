/** @file sign.c
 * Connection data: the first im/fetch result (cursor, internalExt, push server, route params,
 * the backlog of recent messages), obtained one of three ways (docs/protocol.md §4):
 *   euler   GET {sign}/webcast/rooms/{room_id}/connect: the sign server performs im/fetch
 *           and returns its protobuf body, plus the cookies to use in X-Set-TT-Cookie;
 *   legacy  GET {sign}/webcast/sign_url?url=…: a signed im/fetch URL, which we then fetch;
 *   session an unsigned im/fetch carrying a logged-in session's cookies.
 * Also the unsigned im/fetch of request polling. Sign server answers map to distinct errors:
 * 429 -> TT_ERR_RATE_LIMITED with Retry-After (TikTok's im/fetch 429 too, a poll's included),
 * 401/402/403 -> TT_ERR_SIGN_REFUSED.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "client_int.h"
#include "json.h"

/* The longest wait a 429 may ask for: Euler's longest window is a day (its rate_limits), so
 * more is a broken header, and it would park the caller (the bridge waits it out) for good. */
#define RETRY_AFTER_MAX 86400

/* The JSON body's `message` (or `error`) into msg, "" without one. */
static void body_message(const struct tt_http_resp *r, char *msg, size_t n)
{
    struct pb_slice v, doc = { (const uint8_t *)(r->body.p ? r->body.p : ""), r->body.len };
    msg[0] = '\0';
    if (tt__jr_member(doc, "message", &v) || tt__jr_member(doc, "error", &v)) {
        tt__jr_string(v, msg, n);
    }
}

/* A 429, the sign server's or TikTok's own (`tiktok`): TT_ERR_RATE_LIMITED with its
 * Retry-After. Who limited is kept: an API key raises the sign server's limits, not TikTok's. */
static enum tt_err rate_limited(tt_client *c, const struct tt_http_resp *r, const char *what,
                                const char *msg, int tiktok)
{
    c->limited_by_tiktok = tiktok;
    c->retry_after = tt__retry_after_s(r->retry_after, time(NULL), RETRY_AFTER_MAX);
    if (c->retry_after) {
        tt__client_err(c, TT_ERR_RATE_LIMITED, "%s: rate limited, retry after %us (%s)", what,
                       c->retry_after, msg);
    } else {
        tt__client_err(c, TT_ERR_RATE_LIMITED, "%s: rate limited, no usable Retry-After (%s)", what,
                       msg);
    }
    return TT_ERR_RATE_LIMITED;
}

/* The sign server's status -> our error; 0 for 200. */
static enum tt_err sign_status(tt_client *c, const struct tt_http_resp *r, const char *what)
{
    char msg[160];
    if (r->status == 200) {
        return TT_OK;
    }
    body_message(r, msg, sizeof msg);
    if (r->status == 429) {
        return rate_limited(c, r, what, msg, 0);
    }
    if (r->status == 401 || r->status == 402 || r->status == 403) {
        tt__client_err(c, TT_ERR_SIGN_REFUSED, "%s: HTTP %ld: %s%s", what, r->status,
                       msg[0] ? msg : "refused",
                       c->o.sign_api_key ? "" : " (no sign_api_key is set)");
        return TT_ERR_SIGN_REFUSED;
    }
    tt__client_err(c, TT_ERR_SIGN, "%s: HTTP %ld %s", what, r->status, msg);
    return TT_ERR_SIGN;
}

static void api_key_header(tt_client *c, char *buf, size_t n, const char **extra)
{
    extra[0] = "Accept: application/protobuf,application/json";
    extra[1] = NULL;
    if (c->o.sign_api_key) {
        snprintf(buf, n, "x-api-key: %s", c->o.sign_api_key);
        extra[1] = buf;
        extra[2] = NULL;
    }
}

static enum tt_err take_body(tt_client *c, struct tt_http_resp *r)
{
    common_buf_free(&c->fetch);
    c->fetch = r->body; /* moved */
    tt__buf_init(&r->body, TT_HTTP_MAX_BODY);
    return TT_OK;
}

static enum tt_err euler(tt_client *c)
{
    struct common_buf url;
    char key[512];
    const char *extra[3];
    struct tt_http_resp r;
    tt__buf_init(&url, 8192);
    common_buf_adds(&url, c->o.sign_api_url);
    common_buf_adds(&url, "/webcast/rooms/");
    common_buf_adds(&url, c->room_id);
    common_buf_adds(&url, "/connect?client=ttlive-c&cursor=&client_enter=true&platform=web"
                          "&user_agent=");
    tt__url_encode(&url, c->o.user_agent);
    if (!common_buf_cstr(&url)) {
        common_buf_free(&url);
        return TT_ERR_NOMEM;
    }
    api_key_header(c, key, sizeof key, extra);
    tt__http_resp_init(&r);
    enum tt_err rc = tt__http_request_sign(&c->http, url.p, extra, &r);
    common_buf_free(&url);
    if (rc) {
        tt__client_err(c, rc == TT_ERR_TIMEOUT ? rc : TT_ERR_SIGN, "sign server: %s",
                       c->http.errmsg);
        rc = rc == TT_ERR_TIMEOUT ? rc : TT_ERR_SIGN;
    } else if (!(rc = sign_status(c, &r, "sign server"))) {
        if (!r.x_set_tt_cookie[0]) {
            rc = TT_ERR_SIGN;
            tt__client_err(c, rc, "sign server: no X-Set-TT-Cookie in its answer");
        } else {
            tt__cookie_parse(&c->http, r.x_set_tt_cookie, 0);
            size_t digits = strspn(r.x_room_id, "0123456789");
            if (digits && !r.x_room_id[digits] && digits < sizeof c->room_id) {
                snprintf(c->room_id, sizeof c->room_id, "%s", r.x_room_id);
            } else if (r.x_room_id[0]) { /* the sign server is not trusted with our room id */
                tt__client_log(c, TT_LOG_WARN, "sign server: X-Room-Id is not a room id: kept %s",
                               c->room_id);
            }
            rc = take_body(c, &r);
        }
    }
    tt__http_resp_free(&r);
    return rc;
}

enum tt_err tt_client_sign_limits(tt_client *c, char **json)
{
    struct tt_http_resp r;
    char key[512], url[1024];
    const char *extra[3];
    *json = NULL;
    snprintf(url, sizeof url, "%s/webcast/rate_limits", c->o.sign_api_url);
    api_key_header(c, key, sizeof key, extra);
    extra[0] = "Accept: application/json";
    tt__http_resp_init(&r);
    enum tt_err rc = tt__http_request_sign(&c->http, url, extra, &r);
    if (rc) {
        tt__client_err(c, rc == TT_ERR_TIMEOUT ? rc : TT_ERR_SIGN, "rate_limits: %s",
                       c->http.errmsg);
        rc = rc == TT_ERR_TIMEOUT ? rc : TT_ERR_SIGN;
    } else if (!(rc = sign_status(c, &r, "rate_limits"))) {
        *json = tt__strndup(r.body.p ? r.body.p : "", r.body.len);
        rc = *json ? TT_OK : TT_ERR_NOMEM;
    }
    tt__http_resp_free(&r);
    return rc;
}

/* The first im/fetch: 1.x's client params carry an empty cursor and internal_ext. */
static char *fetch_url(tt_client *c)
{
    char extra[96];
    snprintf(extra, sizeof extra, "room_id=%s&cursor=&internal_ext=", c->room_id);
    return tt__client_url(c, c->o.webcast_base, "/webcast/im/fetch/", extra);
}

static enum tt_err get_signed(tt_client *c, const char *signed_url)
{
    struct tt_http_resp r;
    tt__http_resp_init(&r);
    enum tt_err rc = tt__http_request(&c->http, signed_url, NULL, &r);
    if (rc) {
        tt__client_err(c, rc, "im/fetch: %s", c->http.errmsg);
    } else if (r.status == 429) { /* TikTok's own limit: its Retry-After counts as the signer's */
        char msg[160];
        body_message(&r, msg, sizeof msg);
        rc = rate_limited(c, &r, "im/fetch", msg, 1);
    } else if (r.status != 200) {
        rc = r.status == 403 ? TT_ERR_BLOCKED : TT_ERR_HTTP;
        tt__client_err(c, rc, "im/fetch: HTTP %ld", r.status);
    } else {
        rc = take_body(c, &r);
    }
    tt__http_resp_free(&r);
    return rc;
}

/* The legacy signer's JSON: signedUrl (required), User-Agent and msToken (used afterwards). */
static enum tt_err legacy_answer(tt_client *c, struct tt_http_resp *r, char *signed_url, size_t n)
{
    struct pb_slice doc = { (const uint8_t *)r->body.p, r->body.len }, v;
    char tmp[512];
    if (!tt__jr_member(doc, "signedUrl", &v) || !tt__jr_string(v, signed_url, n)) {
        tt__client_err(c, TT_ERR_SIGN, "sign_url: no signedUrl in the answer");
        return TT_ERR_SIGN;
    }
    if (tt__jr_member(doc, "User-Agent", &v) && tt__jr_string(v, tmp, sizeof tmp) && tmp[0]) {
        if (!tt__header_safe(tmp, strlen(tmp))) { /* "\r\n" would add headers of its own */
            tt__client_err(c, TT_ERR_SIGN, "sign_url: a control character in its User-Agent");
            return TT_ERR_SIGN;
        }
        char *ua = tt__strdup(tmp);
        if (!ua) {
            return TT_ERR_NOMEM;
        }
        tt__free(c->http.user_agent);
        c->http.user_agent = ua;
    }
    if (tt__jr_member(doc, "msToken", &v) && tt__jr_string(v, tmp, sizeof tmp) && tmp[0]) {
        enum tt_err rc = tt__cookie_set(&c->http, "msToken", 7, tmp, strlen(tmp));
        if (rc == TT_ERR_INVAL) {
            tt__client_err(c, TT_ERR_SIGN, "sign_url: a control character in its msToken");
            return TT_ERR_SIGN;
        }
        return rc;
    }
    return TT_OK;
}

static enum tt_err legacy(tt_client *c)
{
    struct common_buf url;
    struct tt_http_resp r;
    char key[512], signed_url[8192];
    const char *extra[3];
    char *target = fetch_url(c);
    tt__buf_init(&url, 16384);
    common_buf_adds(&url, c->o.sign_api_url);
    common_buf_adds(&url, "/webcast/sign_url?client=ttlive-c&uuc=1&url=");
    tt__url_encode(&url, target ? target : "");
    if (c->o.sign_api_key) {
        common_buf_adds(&url, "&apiKey=");
        tt__url_encode(&url, c->o.sign_api_key);
    }
    tt__free(target);
    if (!target || !common_buf_cstr(&url)) {
        common_buf_free(&url);
        return TT_ERR_NOMEM;
    }
    api_key_header(c, key, sizeof key, extra);
    extra[0] = "Accept: application/json";
    tt__http_resp_init(&r);
    enum tt_err rc = tt__http_request_sign(&c->http, url.p, extra, &r);
    common_buf_free(&url);
    if (rc) {
        tt__client_err(c, rc == TT_ERR_TIMEOUT ? rc : TT_ERR_SIGN, "sign_url: %s", c->http.errmsg);
        rc = rc == TT_ERR_TIMEOUT ? rc : TT_ERR_SIGN;
    } else if (!(rc = sign_status(c, &r, "sign_url")) &&
               !(rc = legacy_answer(c, &r, signed_url, sizeof signed_url))) {
        rc = get_signed(c, signed_url);
    }
    tt__http_resp_free(&r);
    return rc;
}

enum tt_err tt__session_cookies(tt_client *c)
{
    static const char *const names[] = { "sessionid", "sessionid_ss", "sid_tt" };
    enum tt_err rc = TT_OK;
    if (!c->o.session_id) {
        return TT_OK;
    }
    for (size_t i = 0; i < 3 && !rc; i++) {
        rc = tt__cookie_set(&c->http, names[i], strlen(names[i]), c->o.session_id,
                            strlen(c->o.session_id));
    }
    if (!rc && c->o.tt_target_idc) {
        rc = tt__cookie_set(&c->http, "tt-target-idc", 13, c->o.tt_target_idc,
                            strlen(c->o.tt_target_idc));
    }
    return rc;
}

enum tt_err tt__sign_fetch(tt_client *c)
{
    enum tt_err rc;
    switch (tt__signed_flow(c)) {
    case TT_SIGN_LEGACY:
        return legacy(c);
    case TT_SIGN_SESSION: {
        if (!c->o.session_id) {
            tt__client_err(c, TT_ERR_INVAL, "sign_flow session needs a session_id");
            return TT_ERR_INVAL;
        }
        char *url = fetch_url(c);
        rc = url ? get_signed(c, url) : TT_ERR_NOMEM;
        tt__free(url);
        return rc;
    }
    default:
        return euler(c);
    }
}

static int set_str(char **dst, const char *s)
{
    char *d = tt__strdup(s);
    if (!d) {
        return -1;
    }
    tt__free(*dst);
    *dst = d;
    return 0;
}

enum tt_err tt__take_connection_data(tt_client *c)
{
    struct tt_frame_info info;
    enum tt_err rc = tt_decode_fetch_result(c->dec, c->fetch.p, c->fetch.len, &info, NULL, NULL);
    if (rc) {
        tt__client_err(c, TT_ERR_PROTO, "initial fetch: %s", tt_decoder_errmsg(c->dec));
        return TT_ERR_PROTO;
    }
    if (!info.cursor[0]) {
        tt__client_err(c, TT_ERR_NO_CURSOR,
                       "missing cursor in the initial fetch response: "
                       "the signature was rejected, or a rate limit");
        return TT_ERR_NO_CURSOR;
    }
    if (set_str(&c->cursor, info.cursor) || set_str(&c->internal_ext, info.internal_ext) ||
        set_str(&c->push_server, info.push_server)) {
        return TT_ERR_NOMEM;
    }
    tt__params_free(&c->route);
    for (size_t i = 0; i < info.n_route_params && !rc; i++) {
        if (info.route_params[i].value[0]) {
            rc = tt__params_set(&c->route, info.route_params[i].name, info.route_params[i].value);
        }
    }
    c->need_ack = info.need_ack;
    c->fetch_interval = info.fetch_interval;
    return rc;
}

enum tt_err tt__poll_once(tt_client *c)
{
    struct common_buf extra;
    struct tt_http_resp r;
    struct tt_frame_info info;
    c->poll_undecodable = 0;
    tt__buf_init(&extra, 16384);
    common_buf_adds(&extra, "room_id=");
    common_buf_adds(&extra, c->room_id);
    common_buf_adds(&extra, "&cursor=");
    tt__url_encode(&extra, c->cursor ? c->cursor : "");
    common_buf_adds(&extra, "&internal_ext=");
    tt__url_encode(&extra, c->internal_ext ? c->internal_ext : "");
    char *url = common_buf_cstr(&extra)
                        ? tt__client_url(c, c->o.webcast_base, "/webcast/im/fetch/", extra.p)
                        : NULL;
    common_buf_free(&extra);
    if (!url) {
        return TT_ERR_NOMEM;
    }
    tt__http_resp_init(&r);
    enum tt_err rc = tt__http_request(&c->http, url, NULL, &r);
    tt__free(url);
    if (!rc && r.status == 429) { /* TikTok's own limit: client.c waits its Retry-After */
        char msg[160];
        body_message(&r, msg, sizeof msg);
        rc = rate_limited(c, &r, "polling im/fetch", msg, 1);
    } else if (!rc && r.status != 200) {
        rc = TT_ERR_HTTP;
        tt__client_err(c, rc, "polling im/fetch: HTTP %ld", r.status);
    } else if (rc) {
        tt__client_err(c, rc, "polling im/fetch: %s", c->http.errmsg);
    } else {
        rc = tt_decode_fetch_result(c->dec, r.body.p, r.body.len, &info, tt__client_on_event, c);
        if (rc) {
            c->poll_undecodable = 1;
            tt__client_err(c, rc, "polling im/fetch: %s", tt_decoder_errmsg(c->dec));
        }
        if (rc || info.n_messages) { /* empty answers, one a second, would only fill a disk */
            tt__client_raw(c, TT_RAW_POLL, r.body.p, r.body.len);
        }
        if (!rc && info.cursor[0] &&
            (set_str(&c->cursor, info.cursor) || set_str(&c->internal_ext, info.internal_ext))) {
            rc = TT_ERR_NOMEM;
        }
    }
    tt__http_resp_free(&r);
    return rc;
}
