/** @file direct.c
 * The direct path (sign_flow = direct) and the choice of auto (docs/protocol.md "The direct
 * path"): no sign server, no key, no login.
 *
 *   1. a device: a ttwid token from GET <web_base>/ (its Set-Cookie, redirects not followed),
 *      minted with a browser User-Agent, lent from the pool (device.c);
 *   2. the room id from api-live/user/room with the direct path's own query, the live page as
 *      the fallback when the API fails;
 *   3. room info and the gift list as every flow reads them (client.c);
 *   4. the WebSocket to <push_base>/webcast/im/ws_proxy/ws_reuse_supplement/ with ws_direct=1,
 *      no cursor and no internal_ext; the device's User-Agent and ttwid (ws.c asks us for the
 *      query and the extra headers).
 * A refusal with Handshake-Msg DEVICE_BLOCKED gives the device up (the next connect mints one
 * with another User-Agent); so does a socket that dies within 30 s of opening.
 *
 * auto tries direct first and falls back to Euler when the direct path itself fails: no ttwid
 * after ttwid_tries, a refusal other than DEVICE_BLOCKED, an edge that cannot be reached, or
 * a socket that stayed silent from its first moment. What is the same in every flow (a room
 * offline or not found, a blocked IP) is returned as it is. After a fallback, direct is tried
 * again once direct_retry_s have passed.
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
#include "prng.h"

#define YOUNG_MS    30000 /* a connection that died sooner gives its device up */
#define WS_PATH     "/webcast/im/ws_proxy/ws_reuse_supplement/"
#define EDGE_ORIGIN "https://www.tiktok.com"

enum tt_err tt__direct_init(tt_client *c)
{
    tt__direct_pick(c); /* what tt_client_flow says before the first connect */
    c->d.pool = c->o.devices;
    if (c->d.pool) {
        return TT_OK;
    }
    c->d.own_pool = 1;
    return tt_devices_new(&c->d.pool, c->o.ttwid_file, 0);
}

static void drop_device(tt_client *c, int retire)
{
    if (c->d.dev.id) {
        tt__devices_release(c->d.pool, c->d.dev.id, retire);
        c->d.dev.id = 0;
    }
}

void tt__direct_free(tt_client *c)
{
    if (c->d.pool) {
        drop_device(c, 0);
    }
    if (c->d.own_pool) {
        tt_devices_free(c->d.pool);
    }
    c->d.pool = NULL;
}

/* What auto falls back to: the session when the caller gave one (it needs no sign server and
 * reaches 18+ rooms), else the Euler sign server. */
static enum tt_sign_flow signed_flow(const tt_client *c)
{
    return c->o.session_id && c->o.session_id[0] ? TT_SIGN_SESSION : TT_SIGN_EULER;
}

enum tt_sign_flow tt__signed_flow(const tt_client *c)
{
    return c->o.sign_flow == TT_SIGN_AUTO ? signed_flow(c) : c->o.sign_flow;
}

int tt__direct_pick(tt_client *c)
{
    enum tt_sign_flow f = c->o.sign_flow;
    uint64_t now = tt__now_ms(), retry = (uint64_t)c->o.direct_retry_s * 1000;
    if (f != TT_SIGN_AUTO) {
        c->d.flow = f;
        snprintf(c->d.why, sizeof c->d.why, "sign_flow = %s", tt_sign_flow_name(f));
        return f == TT_SIGN_DIRECT;
    }
    if (!c->o.enable_websocket_upgrade) { /* the direct path has nothing but its socket */
        c->d.flow = signed_flow(c);
        snprintf(c->d.why, sizeof c->d.why, "auto: %s (enable_websocket_upgrade is off)",
                 tt_sign_flow_name(c->d.flow));
        return 0;
    }
    if (c->d.fell_back_ms && now - c->d.fell_back_ms < retry) {
        c->d.flow = signed_flow(c); /* why still says why it fell back */
        return 0;
    }
    c->d.fell_back_ms = 0;
    c->d.flow = TT_SIGN_DIRECT;
    snprintf(c->d.why, sizeof c->d.why, "auto: the direct path");
    return 1;
}

/* ---- the device ---- */

/* The User-Agent of every HTTP request from now on: TikTok judges a ttwid together with the
 * User-Agent it was minted with, so on the direct path room info and the gift list carry the
 * device's too; the signed flows get the user_agent option back. */
static enum tt_err http_ua(tt_client *c, const char *ua)
{
    if (!ua || (c->http.user_agent && !strcmp(c->http.user_agent, ua))) {
        return TT_OK;
    }
    char *dup = tt__strdup(ua);
    if (!dup) {
        return TT_ERR_NOMEM;
    }
    tt__free(c->http.user_agent);
    c->http.user_agent = dup;
    return TT_OK;
}

/* After a mint: a device the file will not keep is worth a line (else only a metric showed
 * that every restart mints anew). */
static void unsaved_warning(tt_client *c, enum tt_err rc)
{
    const char *unsaved = rc ? NULL : tt__devices_unsaved(c->d.pool);
    int unreadable = tt_devices_unreadable(c->d.pool);
    char why[128];
    if (unsaved && unreadable) {
        if (strerror_r(unreadable, why, sizeof why)) { /* XSI: thread-safe */
            snprintf(why, sizeof why, "errno %d", unreadable);
        }
        tt__client_log(c, TT_LOG_ERR,
                       "direct: cannot read ttwid_file %s (%s), so it is not replaced: "
                       "a restart will mint new devices",
                       unsaved, why);
    } else if (unsaved) {
        tt__client_log(c, TT_LOG_WARN,
                       "direct: cannot write ttwid_file %s (is its directory writable?): "
                       "a restart will mint new devices",
                       unsaved);
    }
}

static enum tt_err mint(tt_client *c)
{
    char url[1024], ua_line[300];
    const char *ua = tt__devices_user_agent(c->d.pool, c->d.dev.ua[0] ? c->d.dev.ua : NULL);
    const char *extra[] = { ua_line, "Accept: text/html,application/xhtml+xml", NULL };
    snprintf(url, sizeof url, "%s/", c->o.web_base);
    snprintf(ua_line, sizeof ua_line, "User-Agent: %s", ua);
    for (unsigned i = 0; i < c->o.ttwid_tries && !atomic_load(&c->stop); i++) {
        struct tt_http_resp r;
        if (i) { /* TikTok hands it out intermittently: a short pause, then again */
            struct timespec ts = { 0, 250000000L * (long)(i < 3 ? i : 3) }; /* < 1 s */
            nanosleep(&ts, NULL);
        }
        tt__cookie_del(&c->http, "ttwid");
        tt__http_resp_init(&r);
        enum tt_err rc = tt__http_request(&c->http, url, extra, &r);
        tt__http_resp_free(&r);
        const char *tok = tt__cookie_get(&c->http, "ttwid");
        if (!rc && tok && tok[0]) {
            tt__client_log(c, TT_LOG_INFO, "direct: a new device (ttwid minted, %s)", ua);
            rc = tt__devices_add(c->d.pool, tok, ua, &c->d.dev);
            unsaved_warning(c, rc);
            return rc;
        }
        tt__client_err(c, TT_ERR_NO_TTWID, "no ttwid from %s after %u tries%s%s", url, i + 1,
                       rc ? ": " : " (no Set-Cookie)", rc ? c->http.errmsg : "");
    }
    return TT_ERR_NO_TTWID;
}

static enum tt_err get_device(tt_client *c)
{
    if (c->d.dev.id && tt__devices_blocked(c->d.pool, c->d.dev.id)) {
        drop_device(c, 0); /* another streamer's connection gave it up */
    }
    c->d.minted_now = 0;
    if (!c->d.dev.id && !tt__devices_take(c->d.pool, &c->d.dev)) {
        tt__devices_mint_lock(c->d.pool);
        if (!tt__devices_take(c->d.pool, &c->d.dev)) { /* nobody minted one meanwhile */
            enum tt_err rc = mint(c);
            c->d.minted_now = !rc;
            if (rc) {
                tt__devices_mint_unlock(c->d.pool);
                return rc;
            }
        }
        tt__devices_mint_unlock(c->d.pool);
    }
    enum tt_err rc = http_ua(c, c->d.dev.ua);
    return rc ? rc : tt__cookie_set(&c->http, "ttwid", 5, c->d.dev.token, strlen(c->d.dev.token));
}

/* ---- the room id: api-live with the direct path's query ---- */

static int api_live_verdict(tt_client *c, struct pb_slice doc, enum tt_err *rc)
{
    struct pb_slice v, st;
    int64_t code = 0, status = 0;
    char id[32] = "";
    if (tt__jr_member(doc, "statusCode", &v) && tt__jr_int(v, &code) && code) {
        *rc = code == 19881007 ? TT_ERR_NOT_FOUND : TT_ERR_HTTP;
        tt__client_err(c, *rc, "@%s: api-live says %lld%s", c->unique_id, (long long)code,
                       code == 19881007 ? " (user_not_found)" : "");
        return *rc == TT_ERR_NOT_FOUND; /* anything else: ask the page */
    }
    if (!tt__jr_path(doc, "data.user", &v)) {
        /* not an answer about the user ({}, a block in JSON, a changed shape): "not live"
         * would leave a live streamer waiting for good, and auto never falls back on it */
        *rc = TT_ERR_HTTP;
        tt__client_err(c, *rc, "@%s: api-live's answer has no data.user", c->unique_id);
        return 0;
    }
    if (tt__jr_path(doc, "data.user.roomId", &v)) {
        tt__jr_string(v, id, sizeof id);
    }
    if ((tt__jr_path(doc, "data.liveRoom.status", &st) ||
         tt__jr_path(doc, "data.user.status", &st)) &&
        tt__jr_int(st, &status) && status == 2 && id[0] && strcmp(id, "0")) {
        snprintf(c->room_id, sizeof c->room_id, "%s", id);
        *rc = TT_OK;
        return 1;
    }
    *rc = TT_ERR_OFFLINE;
    tt__client_err(c, *rc, "@%s is not live", c->unique_id);
    return 1;
}

static const char *param(const tt_client *c, const char *k, const char *dflt)
{
    for (size_t i = 0; i < c->params.n; i++) {
        if (!strcmp(c->params.k[i], k)) {
            return c->params.v[i];
        }
    }
    return dflt;
}

static enum tt_err room_id(tt_client *c)
{
    struct common_buf url;
    struct tt_http_resp r;
    char ua_line[300];
    const char *extra[] = { ua_line, "Referer: https://www.tiktok.com/", NULL };
    enum tt_err rc = TT_ERR_HTTP;
    snprintf(ua_line, sizeof ua_line, "User-Agent: %s", c->d.dev.ua);
    tt__buf_init(&url, 4096);
    common_buf_adds(&url, c->o.web_base);
    common_buf_adds(&url, "/api-live/user/room?aid=1988&app_name=tiktok_web&device_platform=web_pc"
                          "&app_language=en&browser_language=en-US&region=");
    tt__url_encode(&url, param(c, "region", "US"));
    common_buf_adds(&url, "&user_is_login=false&uniqueId=");
    tt__url_encode(&url, c->unique_id);
    common_buf_adds(&url, "&sourceType=54&staleTime=600000");
    if (!common_buf_cstr(&url)) {
        common_buf_free(&url);
        return TT_ERR_NOMEM;
    }
    c->room_id[0] = '\0';
    tt__http_resp_init(&r);
    enum tt_err hrc = tt__http_request(&c->http, url.p, extra, &r);
    common_buf_free(&url);
    struct pb_slice doc = { (const uint8_t *)(r.body.p ? r.body.p : ""), r.body.len };
    int decided = !hrc && r.status == 200 && tt__json_valid(doc.p, doc.n) &&
                  api_live_verdict(c, doc, &rc);
    tt__http_resp_free(&r);
    if (decided) {
        return rc;
    }
    tt__client_log(c, TT_LOG_INFO, "direct: api-live gave no answer, reading the live page");
    return tt__room_resolve(c); /* the page, then api-live's other shape */
}

enum tt_err tt__direct_prepare(tt_client *c)
{
    enum tt_err rc = get_device(c);
    return rc ? rc : room_id(c);
}

enum tt_err tt__direct_push(tt_client *c)
{
    size_t n = strlen(c->o.push_base) + sizeof WS_PATH;
    char *url = tt__malloc(n);
    if (!url) {
        return TT_ERR_NOMEM;
    }
    snprintf(url, n, "%s%s", c->o.push_base, WS_PATH);
    tt__free(c->push_server);
    TT_FREE(c->cursor);
    TT_FREE(c->internal_ext);
    c->push_server = url;
    tt__params_free(&c->route);
    common_buf_reset(&c->fetch); /* no im/fetch: no backlog */
    c->need_ack = 0;
    return TT_OK;
}

/* ---- refusals, fallback, the end of a connection ---- */

enum tt_err tt__direct_refused(tt_client *c, enum tt_err rc)
{
    if (!rc) {
        c->d.fresh_blocks = 0;
    }
    if (rc != TT_ERR_WS_REFUSED || !strstr(c->d.refusal, "DEVICE_BLOCKED")) {
        return rc;
    }
    c->d.fresh_blocks = c->d.minted_now ? c->d.fresh_blocks + 1 : 0;
    tt__client_log(c, TT_LOG_WARN, "direct: device blocked (%s): a new one at the next connect",
                   c->d.dev.ua);
    drop_device(c, 1);
    tt__client_err(c, TT_ERR_DEVICE_BLOCKED,
                   "TikTok refused the WebSocket: DEVICE_BLOCKED (the ttwid and User-Agent "
                   "pair); the next connect mints a new device");
    return TT_ERR_DEVICE_BLOCKED;
}

void tt__direct_signed_ua(tt_client *c)
{
    if (http_ua(c, c->o.user_agent)) {
        tt__client_log(c, TT_LOG_WARN, "out of memory: the device's User-Agent stays");
    }
}

int tt__direct_fallback(tt_client *c, enum tt_err rc)
{
    /* DEVICE_BLOCKED means "this device": a new one is minted, unless even fresh devices are
     * refused (twice in a row), which says the edge refuses this IP, not a device */
    int blocked_ip = rc == TT_ERR_DEVICE_BLOCKED && c->d.fresh_blocks >= 2;
    int edge_failed = rc == TT_ERR_NO_TTWID || rc == TT_ERR_WS_REFUSED || rc == TT_ERR_TIMEOUT ||
                      rc == TT_ERR_CONNECTION_LOST || rc == TT_ERR_STALE || blocked_ip;
    if (c->o.sign_flow != TT_SIGN_AUTO || !edge_failed || atomic_load(&c->stop)) {
        return 0;
    }
    c->d.fell_back_ms = tt__now_ms();
    c->d.fresh_blocks = 0;
    c->d.flow = signed_flow(c);
    snprintf(c->d.why, sizeof c->d.why, "auto: fell back to %s (%.300s)",
             tt_sign_flow_name(c->d.flow), c->errmsg[0] ? c->errmsg : tt_strerror(rc));
    tt__client_log(c, TT_LOG_NOTICE, "direct path failed (%s): falling back to %s",
                   c->errmsg[0] ? c->errmsg : tt_strerror(rc), tt_sign_flow_name(c->d.flow));
    c->errmsg[0] = '\0';
    return 1;
}

void tt__direct_ended(tt_client *c, enum tt_err why, int frames)
{
    int lost = why == TT_ERR_CONNECTION_LOST || why == TT_ERR_STALE;
    if (c->d.flow != TT_SIGN_DIRECT || !lost) {
        return;
    }
    if (tt__now_ms() - c->d.open_ms < YOUNG_MS) {
        tt__client_log(c, TT_LOG_INFO, "direct: the socket died young (%s): a new device next",
                       tt_strerror(why));
        drop_device(c, 1);
    }
    if (why == TT_ERR_STALE && !frames && c->o.sign_flow == TT_SIGN_AUTO) {
        tt__direct_fallback(c, why); /* silent from the start: the edge does not serve us */
    }
}

const char *tt__direct_ua(const tt_client *c)
{
    return c->d.flow == TT_SIGN_DIRECT && c->d.dev.id ? c->d.dev.ua : NULL;
}

/* ---- the WebSocket's query (ws.c) ---- */

enum tt_err tt__direct_ws_query(tt_client *c, struct common_buf *q)
{
    char rtt[16];
    const char *kv[][2] = {
        { "version_code", "180800" },
        { "device_platform", "web" },
        { "cookie_enabled", "true" },
        { "screen_width", "1920" },
        { "screen_height", "1080" },
        { "browser_language", "en-US" },
        { "browser_platform", "Linux x86_64" },
        { "browser_name", "Mozilla" },
        { "browser_version", "5.0 (X11)" },
        { "browser_online", "true" },
        { "tz_name", param(c, "tz_name", "Etc/UTC") },
        { "app_name", "tiktok_web" },
        { "sup_ws_ds_opt", "1" },
        { "update_version_code", "2.0.0" },
        { "compress", "gzip" },
        { "webcast_language", "en" },
        { "ws_direct", "1" },
        { "aid", "1988" },
        { "live_id", "12" },
        { "app_language", "en" },
        { "client_enter", "1" },
        { "room_id", c->room_id },
        { "identity", "audience" },
        { "history_comment_count", "6" },
        { "last_rtt", rtt },
        { "heartbeat_duration", "10000" },
        { "resp_content_type", "protobuf" },
        { "did_rule", "3" },
    };
    struct tt_params p;
    enum tt_err rc = TT_OK;
    /* a round-trip time a browser could have measured: 100.000..200.000 ms */
    snprintf(rtt, sizeof rtt, "%d.%03d", 100 + (int)common_rand_below(100),
             (int)common_rand_below(1000));
    tt__params_init(&p);
    for (size_t i = 0; i < sizeof kv / sizeof kv[0] && !rc; i++) {
        rc = tt__params_set(&p, kv[i][0], kv[i][1]);
    }
    if (!rc && c->o.client_params) { /* the caller's values win, in place */
        rc = tt__params_merge(&p, c->o.client_params);
    }
    if (!rc) {
        tt__params_encode(&p, q);
    }
    tt__params_free(&p);
    return rc ? rc : tt__buf_err(q);
}

/* Cache-Control: no-cache (and Pragma) libwebsockets sends on every client handshake. */
const char *const *tt__direct_ws_headers(void)
{
    static const char *const h[] = {
        "origin:",          EDGE_ORIGIN,      "referer:", EDGE_ORIGIN "/",
        "accept-language:", "en-US,en;q=0.9", NULL
    };
    return h;
}
