/** @file client.c
 * tt_client: the seed's WebcastPushConnection. Options copied in, the connect sequence
 * (room id, room info, gift list, connection data, WebSocket or polling), the service loop,
 * and the control events (connected, websocketConnected, disconnected, error).
 *
 * Events the decoder yields pass through tt__client_on_event: deduplicated by msgId, and a
 * streamEnd ends the connection after it is delivered. The decoder reads the client's gift
 * list itself (gifts.h): gift events come complete, with extendedGiftInfo as 1.x adds it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <curl/curl.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "alloc.h"
#include "client_int.h"
#include "clock.h"
#include "tt_int.h"
#include "json.h"
#include "prng.h"

uint64_t tt__now_ms(void)
{
    return (uint64_t)common_mono_ms();
}

void tt__client_err(tt_client *c, enum tt_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
    va_end(ap);
    c->last_err = e;
}

void tt__client_log(tt_client *c, enum tt_log_level l, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    if (!c->log_fn || l > c->log_max) {
        return; /* checked before formatting: debug lines cost nothing when off */
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->log_fn(l, msg, c->log_ud);
}

enum tt_err tt_global_init(void)
{
    /* libwebsockets 4.1.6 applies http_proxy from the environment to every WebSocket, loopback
     * included, and ignores no_proxy: proxies come from our options alone. */
    unsetenv("http_proxy");
    lws_set_log_level(0, NULL); /* the library never prints: libwebsockets would, to stderr */
    return curl_global_init(CURL_GLOBAL_DEFAULT) ? TT_ERR_NOMEM : TT_OK;
}

void tt_global_cleanup(void)
{
    curl_global_cleanup();
}

void tt_free(void *p)
{
    tt__free(p);
}

/* ---- options: every string copied into one block ---- */

/* The string options, copied into one block owned by the client. */
static const size_t string_offs[] = {
    offsetof(struct tt_options, client_params),     offsetof(struct tt_options, request_headers),
    offsetof(struct tt_options, websocket_headers), offsetof(struct tt_options, proxy),
    offsetof(struct tt_options, sign_api_url),      offsetof(struct tt_options, sign_api_key),
    offsetof(struct tt_options, session_id),        offsetof(struct tt_options, tt_target_idc),
    offsetof(struct tt_options, web_base),          offsetof(struct tt_options, webcast_base),
    offsetof(struct tt_options, ca_file),           offsetof(struct tt_options, user_agent),
    offsetof(struct tt_options, push_base),         offsetof(struct tt_options, ttwid_file),
    offsetof(struct tt_options, resolve),
};
#define N_STRINGS (sizeof string_offs / sizeof string_offs[0])

static const char **string_field(struct tt_options *o, size_t i)
{
    return (const char **)(void *)((char *)o + string_offs[i]);
}

static enum tt_err copy_options(tt_client *c, const struct tt_options *o)
{
    size_t total = 1;
    c->o = *o;
    for (size_t i = 0; i < N_STRINGS; i++) {
        const char *s = *string_field(&c->o, i);
        total += s ? strlen(s) + 1 : 0;
    }
    c->strs = tt__malloc(total);
    if (!c->strs) {
        return TT_ERR_NOMEM;
    }
    char *p = c->strs;
    for (size_t i = 0; i < N_STRINGS; i++) {
        const char **f = string_field(&c->o, i);
        if (*f) {
            size_t l = strlen(*f) + 1;
            memcpy(p, *f, l);
            *f = *p ? p : NULL; /* an empty string means "not set" */
            p += l;
        }
    }
    return TT_OK;
}

/* "@name", "name", "https://www.tiktok.com/@name/live" -> "name" (1.x's normalisation), and
 * nothing else: only a URL may have a path or query after the handle. */
static int normalize(const char *in, char *out, size_t n)
{
    const char *url = strstr(in, "tiktok.com/");
    const char *p = url ? url + 11 : in;
    while (*p == ' ') {
        p++;
    }
    p += *p == '@';
    size_t len = url ? strcspn(p, "/?") : strlen(p);
    while (len && p[len - 1] == ' ') {
        len--;
    }
    if (!len || len >= n) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.')) {
            return -1;
        }
    }
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

/* The options that go into HTTP headers as they are (the session's into the Cookie header,
 * which tt__cookie_set checks): a line break in one would add headers of its own. */
static int header_options_safe(const struct tt_options *o)
{
    const char *const v[] = { o->user_agent, o->sign_api_key, o->request_headers,
                              o->websocket_headers };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (v[i] && !tt__header_safe(v[i], strlen(v[i]))) {
            return 0;
        }
    }
    return 1;
}

static enum tt_err init_parts(tt_client *c)
{
    if (!header_options_safe(&c->o)) {
        return TT_ERR_INVAL;
    }
    enum tt_err rc = tt__http_init(&c->http, &c->o);
    c->http.cancel = &c->stop;
    c->http.idle = &c->upgraded; /* on the WebSocket: each request lets the handle go after it */
    if (!rc) {
        rc = tt__session_cookies(c);
    }
    if (!rc) {
        rc = tt__params_defaults(&c->params, c->o.user_agent);
    }
    if (!rc && c->o.client_params) {
        rc = tt__params_merge(&c->params, c->o.client_params);
    }
    if (!rc) {
        rc = tt_decoder_new(&c->dec, &c->o.limits);
    }
    if (!rc) {
        tt__decoder_set_gifts(c->dec, &c->gifts);
    }
    if (!rc) {
        rc = tt__dedup_init(&c->dedup, c->o.dedup_window);
    }
    if (!rc) {
        rc = tt__direct_init(c);
    }
    return rc;
}

enum tt_err tt_client_new(tt_client **out, const char *unique_id, const struct tt_options *o,
                          tt_event_fn cb, void *ud)
{
    struct tt_options defaults;
    if (!out || !unique_id || !cb) {
        return TT_ERR_INVAL;
    }
    *out = NULL;
    if (!o) {
        tt_options_init(&defaults);
        o = &defaults;
    }
    tt_client *c = tt__calloc(1, sizeof *c);
    if (!c) {
        return TT_ERR_NOMEM;
    }
    tt__params_init(&c->params);
    tt__params_init(&c->route);
    tt__buf_init(&c->fetch, TT_HTTP_MAX_BODY);
    tt__buf_init(&c->evjson, (size_t)8 << 20);
    c->cb = cb;
    c->ud = ud;
    atomic_init(&c->stop, 0);
    pthread_mutex_init(&c->wake_lock, NULL);
    enum tt_err rc = normalize(unique_id, c->unique_id, sizeof c->unique_id) ? TT_ERR_INVAL
                                                                             : copy_options(c, o);
    if (!rc) {
        rc = init_parts(c);
    }
    if (rc) {
        tt_client_free(c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

void tt_client_free(tt_client *c)
{
    if (!c) {
        return;
    }
    tt__ws_close(c);
    tt__direct_free(c);
    pthread_mutex_destroy(&c->wake_lock);
    tt__http_cleanup(&c->http);
    tt__params_free(&c->params);
    tt__params_free(&c->route);
    tt_decoder_free(c->dec);
    tt__dedup_free(&c->dedup);
    common_buf_free(&c->fetch);
    common_buf_free(&c->evjson);
    tt__free(c->room_info);
    tt__gifts_free(&c->gifts);
    tt__free(c->cursor);
    tt__free(c->internal_ext);
    tt__free(c->push_server);
    tt__free(c->strs);
    tt__free(c);
}

void tt_client_set_log(tt_client *c, tt_log_fn fn, enum tt_log_level max, void *ud)
{
    c->log_fn = fn;
    c->log_max = max;
    c->log_ud = ud;
}

void tt_client_set_raw_hook(tt_client *c, tt_raw_fn fn, void *ud)
{
    c->raw_fn = fn;
    c->raw_ud = ud;
}

void tt__client_raw(tt_client *c, enum tt_raw_source src, const void *p, size_t n)
{
    struct tt_raw_frame f = { 0 };
    struct common_buf wrapped;
    if (!c->raw_fn) {
        return;
    }
    tt__buf_init(&wrapped, TT_HTTP_MAX_BODY + 16);
    if (src != TT_RAW_WEBSOCKET) {
        if (tt__encode_wrap_result(&wrapped, p, n)) {
            tt__client_log(c, TT_LOG_WARN, "raw hook: a fetch answer could not be wrapped");
            common_buf_free(&wrapped);
            return;
        }
        p = wrapped.p;
        n = wrapped.len;
    }
    f.data = p;
    f.len = n;
    f.source = src;
    f.unix_ms = common_wall_ms();
    f.mono_ms = tt__now_ms();
    f.room_id = c->room_id;
    c->raw_fn(&f, c->raw_ud);
    common_buf_free(&wrapped); /* freed each time: fetch answers are rare, and may be large */
}

enum tt_sign_flow tt_client_flow(tt_client *c, const char **why)
{
    uint64_t now = tt__now_ms(), retry = (uint64_t)c->o.direct_retry_s * 1000;
    if (why) {
        *why = c->d.why;
    }
    if (c->d.fell_back_ms && c->o.sign_flow == TT_SIGN_AUTO) {
        uint64_t left = now - c->d.fell_back_ms < retry ? retry - (now - c->d.fell_back_ms) : 0;
        char *p = strstr(c->d.why, "), direct again");
        size_t at = p ? (size_t)(p - c->d.why) + 1 : strlen(c->d.why);
        snprintf(c->d.why + at, sizeof c->d.why - at, ", direct again in %llu s",
                 (unsigned long long)(left / 1000));
    }
    return c->d.flow == TT_SIGN_AUTO ? TT_SIGN_DIRECT : c->d.flow;
}

const char *tt_client_errmsg(const tt_client *c)
{
    return c ? c->errmsg : "";
}

unsigned tt_client_retry_after(const tt_client *c)
{
    return c && c->last_err == TT_ERR_RATE_LIMITED ? c->retry_after : 0;
}

int tt_client_rate_limited_by_tiktok(const tt_client *c)
{
    return c && c->last_err == TT_ERR_RATE_LIMITED ? c->limited_by_tiktok : 0;
}

size_t tt_client_seen_ids(const tt_client *c, uint64_t *ids, size_t cap)
{
    return c && ids ? tt__dedup_recent(&c->dedup, ids, cap) : 0;
}

enum tt_err tt_client_mark_seen(tt_client *c, const uint64_t *ids, size_t n)
{
    if (!c || (n && !ids)) {
        return TT_ERR_INVAL;
    }
    for (size_t i = 0; i < n; i++) {
        tt__dedup_seen(&c->dedup, ids[i]);
    }
    return TT_OK;
}

char *tt__client_url(tt_client *c, const char *base, const char *path, const char *extra)
{
    struct common_buf b;
    tt__buf_init(&b, 65536);
    common_buf_adds(&b, base);
    common_buf_adds(&b, path);
    common_buf_addc(&b, '?');
    tt__params_encode(&c->params, &b);
    if (extra && *extra) {
        common_buf_addc(&b, '&');
        common_buf_adds(&b, extra);
    }
    if (!common_buf_cstr(&b)) {
        common_buf_free(&b);
        return NULL;
    }
    return b.p; /* the caller frees it */
}

/* ---- events ---- */

static void emit_control(tt_client *c, enum tt_event_type type, const char *json, enum tt_err e,
                         int frame)
{
    struct tt_event ev = { 0 };
    ev.type = type;
    ev.name = tt_event_type_name(type);
    ev.method = "";
    ev.json = json;
    ev.json_len = strlen(json);
    if (type == TT_EV_DISCONNECTED) {
        ev.u.disconnected.reason = e;
    } else {
        ev.u.error.code = e;
        ev.u.error.frame = frame;
    }
    c->cb(&ev, c->ud);
}

/* A control event whose JSON is built in c->evjson by `fill`. */
static void emit_built(tt_client *c, enum tt_event_type type, enum tt_err e, int frame)
{
    const char *json = common_buf_cstr(&c->evjson);
    emit_control(c, type, json ? json : "{}", e, frame);
    common_buf_trim(&c->evjson, TT_BUF_KEEP); /* a room's info may take hundreds of KiB */
}

/* An `error` event; `frame`: what failed was one answer's content, not the connection. */
static void emit_error_of(tt_client *c, enum tt_err e, const char *info, int frame)
{
    struct jw w;
    common_buf_reset(&c->evjson);
    jw_open(&w, &c->evjson, '{');
    JK(&w, "info");
    jw_cstr(&w, info);
    JK(&w, "exception");
    jw_cstr(&w, c->errmsg[0] ? c->errmsg : tt_strerror(e));
    JK(&w, "code");
    jw_cstr(&w, tt_strerror(e));
    jw_close(&w, '}');
    emit_built(c, TT_EV_ERROR, e, frame);
}

static void emit_error(tt_client *c, enum tt_err e, const char *info)
{
    emit_error_of(c, e, info, 0);
}

void tt__client_on_event(const struct tt_event *ev, void *ud)
{
    tt_client *c = ud;
    /* social then follow/share share one msgId: only the first of a message is checked */
    int first = ev->type != TT_EV_FOLLOW && ev->type != TT_EV_SHARE && ev->type != TT_EV_STREAM_END;
    if (first && tt__dedup_seen(&c->dedup, ev->msg_id)) {
        c->dup_msg = ev->msg_id;
        return;
    }
    if (!first && ev->msg_id && ev->msg_id == c->dup_msg) {
        return;
    }
    c->cb(ev, c->ud);
    if (ev->type == TT_EV_STREAM_END) {
        c->stream_ended = 1; /* 1.x disconnects right after streamEnd */
    }
}

/* ---- connect ---- */

static void emit_websocket_connected(tt_client *c)
{
    struct jw w;
    size_t n = strcspn(c->push_server, "?"); /* the query may carry tokens: leave it out */
    common_buf_reset(&c->evjson);
    jw_open(&w, &c->evjson, '{');
    JK(&w, "url");
    tt__json_str(w.b, (const uint8_t *)c->push_server, n);
    jw_close(&w, '}');
    emit_built(c, TT_EV_WEBSOCKET_CONNECTED, TT_OK, 0);
}

static int can_poll(const tt_client *c)
{
    /* 1.x: polling needs a session; and a cursor, which the direct path never has */
    return c->o.enable_request_polling && c->o.session_id && c->d.flow != TT_SIGN_DIRECT;
}

static enum tt_err open_transport(tt_client *c)
{
    enum tt_err rc = TT_ERR_NO_UPGRADE;
    if (c->o.enable_websocket_upgrade && c->push_server && c->push_server[0]) {
        rc = tt__ws_open(c);
        if (!rc) {
            c->d.open_ms = tt__now_ms();
            c->upgraded = 1;
            emit_websocket_connected(c);
            return TT_OK;
        }
        if (!can_poll(c) || rc == TT_ERR_NOMEM) {
            return rc;
        }
        tt__client_log(c, TT_LOG_WARN, "upgrade to websocket failed (%s): polling", c->errmsg);
    }
    if (!can_poll(c)) {
        tt__client_err(c, TT_ERR_NO_UPGRADE,
                       "TikTok does not offer a WebSocket%s, and request polling needs a "
                       "session_id",
                       c->o.enable_websocket_upgrade ? "" : " (enable_websocket_upgrade is off)");
        return TT_ERR_NO_UPGRADE;
    }
    c->polling = 1;
    c->next_poll_ms = tt__now_ms() + c->o.request_polling_interval_ms;
    return TT_OK;
}

/* process_initial_data off: the backlog still counts as seen, so it never comes out later */
static void remember_only(const struct tt_event *ev, void *ud)
{
    tt__dedup_seen(&((tt_client *)ud)->dedup, ev->msg_id);
}

static void emit_connected(tt_client *c)
{
    struct jw w;
    common_buf_reset(&c->evjson);
    jw_open(&w, &c->evjson, '{');
    JK(&w, "isConnected");
    jw_bool(&w, 1);
    JK(&w, "upgradedToWebsocket");
    jw_bool(&w, c->upgraded);
    JK(&w, "roomId");
    jw_cstr(&w, c->room_id);
    JK(&w, "roomInfo");
    jw_raw(&w, c->room_info ? c->room_info : "null");
    JK(&w, "availableGifts");
    jw_raw(&w, c->gifts.json ? c->gifts.json : "[]");
    jw_close(&w, '}');
    emit_built(c, TT_EV_CONNECTED, TT_OK, 0);
}

/* Refuse before any request what the WebSocket could not do (Debian's libwebsockets has no
 * SOCKS5): better than finding out after the sign server was asked. */
static enum tt_err check_proxy(tt_client *c)
{
    const char *p = c->o.proxy;
    if (!p || !c->o.enable_websocket_upgrade || !strncmp(p, "http://", 7)) {
        return TT_OK;
    }
    tt__client_err(c, TT_ERR_UNSUPPORTED,
                   "proxy %.*s:// works for HTTP but not for the WebSocket (this build's "
                   "libwebsockets has no SOCKS5): use an http:// proxy, or "
                   "enable_websocket_upgrade=false to poll",
                   (int)strcspn(p, ":"), p);
    return TT_ERR_UNSUPPORTED;
}

/* Room info and the gift list: the same unsigned requests in every flow. */
static enum tt_err room_steps(tt_client *c)
{
    enum tt_err rc = c->o.fetch_room_info_on_connect ? tt__room_info(c) : TT_OK;
    if (!rc && c->o.enable_extended_gift_info && tt__room_gifts(c)) {
        tt__client_log(c, TT_LOG_WARN, "gift list: %s (gifts come without extendedGiftInfo)",
                       c->errmsg);
        c->errmsg[0] = '\0';
    }
    return rc;
}

static enum tt_err signed_steps(tt_client *c)
{
    tt__direct_signed_ua(c);
    enum tt_err rc = c->room_id[0] ? TT_OK : tt__room_resolve(c);
    if (!rc) {
        rc = room_steps(c);
    }
    if (!rc) {
        rc = tt__sign_fetch(c);
    }
    if (!rc) {
        rc = tt__take_connection_data(c);
    }
    return rc ? rc : open_transport(c);
}

/* direct.c has the direct path's own steps; the transport is the same WebSocket. */
static enum tt_err direct_steps(tt_client *c)
{
    enum tt_err rc = tt__direct_prepare(c);
    if (!rc) {
        rc = room_steps(c);
    }
    if (!rc) {
        rc = tt__direct_push(c);
    }
    if (!rc && !c->o.enable_websocket_upgrade) {
        tt__client_err(c, TT_ERR_NO_UPGRADE, "the direct path needs enable_websocket_upgrade");
        return TT_ERR_NO_UPGRADE;
    }
    return rc ? rc : tt__direct_refused(c, open_transport(c));
}

static enum tt_err connect_steps(tt_client *c)
{
    enum tt_err rc = check_proxy(c);
    if (rc) {
        return rc;
    }
    c->room_id[0] = '\0';
    if (!tt__direct_pick(c)) {
        return signed_steps(c);
    }
    rc = direct_steps(c);
    if (rc && tt__direct_fallback(c, rc)) {
        rc = signed_steps(c); /* the room id found on the way is kept */
    }
    return rc;
}

enum tt_err tt_client_connect(tt_client *c)
{
    if (!c) {
        return TT_ERR_INVAL;
    }
    if (c->connected) {
        tt__client_err(c, TT_ERR_STATE, "already connected");
        return TT_ERR_STATE;
    }
    atomic_store(&c->stop, 0);
    c->stream_ended = c->upgraded = c->polling = 0;
    c->errmsg[0] = '\0';
    c->retry_after = 0;
    c->limited_by_tiktok = 0;
    c->last_err = TT_OK;
    if (c->o.allow_insecure && !c->warned_insecure) {
        c->warned_insecure = 1;
        tt__client_log(c, TT_LOG_WARN,
                       "allow_insecure is set: TLS certificates are not verified, and plain "
                       "http/ws to any host is allowed");
    }
    enum tt_err rc = connect_steps(c);
    if (rc && atomic_load(&c->stop)) { /* asked to stop: not a failure to report */
        tt__ws_close(c);
        tt__client_err(c, TT_ERR_STATE, "stopped");
        return c->last_err = TT_ERR_STATE;
    }
    if (rc) {
        c->last_err = rc;
        emit_error(c, rc, "Connection failed");
        return rc;
    }
    if (c->o.process_initial_data && c->fetch.len) {
        tt__client_raw(c, TT_RAW_FETCH, c->fetch.p, c->fetch.len);
    }
    if (c->fetch.len) { /* the direct path has no initial fetch, hence no backlog */
        tt_decode_fetch_result(c->dec, c->fetch.p, c->fetch.len, NULL,
                               c->o.process_initial_data ? tt__client_on_event : remember_only, c);
    }
    common_buf_free(&c->fetch); /* its data is taken: no need to hold the body while connected */
    if (c->upgraded) {
        tt__http_release(&c->http); /* the connect's requests are over (http.c `idle`) */
    }
    c->connected = 1;
    emit_connected(c);
    return TT_OK;
}

/* ---- service ---- */

static void emit_disconnected(tt_client *c, enum tt_err why)
{
    struct jw w;
    common_buf_reset(&c->evjson);
    jw_open(&w, &c->evjson, '{');
    JK(&w, "reason");
    jw_cstr(&w, why == TT_OK            ? "disconnect"
                : why == TT_ERR_OFFLINE ? tt_event_type_name(TT_EV_STREAM_END)
                                        : tt_strerror(why));
    JK(&w, "message");
    jw_cstr(&w, why == TT_OK ? "" : c->errmsg);
    jw_close(&w, '}');
    emit_built(c, TT_EV_DISCONNECTED, why, 0);
}

static void end_connection(tt_client *c, enum tt_err why)
{
    tt__ws_close(c);
    c->connected = c->upgraded = c->polling = 0;
    c->last_err = why;
    emit_disconnected(c, why);
}

#define POLL_FAILURES_MAX   5
#define POLL_LIMITED_WAIT_S 60 /* a poll's 429 without a usable Retry-After, as the bridge's */

/* A poll failed with `rc`: its error event; 1 when the failures in a row end the connection.
 * TikTok's own 429 is no failure: the next poll waits its Retry-After (tt__retry_after_s caps
 * it at a day), as any sooner would be refused too; a reconnect would ask more of TikTok
 * (room info, a first fetch), not less, so 429s neither count toward the five nor reset them.
 * Clients limited together would all poll again at the same instant, so each adds 0 to 10 %
 * of the wait of its own, as the daemon does after a connect's 429 (never sooner than asked).
 * The wait shows in the event and, from its callback, in tt_client_retry_after(). */
static int poll_failed(tt_client *c, enum tt_err rc)
{
    if (rc == TT_ERR_RATE_LIMITED) {
        unsigned wait = c->retry_after ? c->retry_after : POLL_LIMITED_WAIT_S;
        uint64_t at = tt__now_ms() + (uint64_t)wait * 1000 /* from the answer, not the ask */
                      + common_rand_below((uint64_t)wait * 100 + 1);
        c->next_poll_ms = at > c->next_poll_ms ? at : c->next_poll_ms;
        emit_error_of(c, rc, "Request polling failed", 0);
        return 0;
    }
    /* an answer that does not decode is counted as a bad frame is on a WebSocket, and as a
     * failed poll too: five in a row reconnect, whatever else the cause */
    emit_error_of(c, rc, "Request polling failed", c->poll_undecodable);
    return ++c->poll_failures >= POLL_FAILURES_MAX;
}

static enum tt_err service_polling(tt_client *c, int timeout_ms)
{
    uint64_t deadline = tt__now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        uint64_t now = tt__now_ms();
        if (atomic_load(&c->stop) || c->stream_ended) {
            return TT_OK;
        }
        if (now >= c->next_poll_ms) {
            c->next_poll_ms = now + c->o.request_polling_interval_ms;
            enum tt_err rc = tt__poll_once(c);
            if (rc && poll_failed(c, rc)) {
                return TT_ERR_CONNECTION_LOST;
            }
            c->poll_failures = rc ? c->poll_failures : 0;
            continue;
        }
        if (now >= deadline) {
            return TT_OK;
        }
        uint64_t wait = (c->next_poll_ms < deadline ? c->next_poll_ms : deadline) - now;
        struct timespec ts = { 0, (long)(wait > 50 ? 50 : wait) * 1000000L };
        nanosleep(&ts, NULL); /* 50 ms steps: a stop request is seen within that */
    }
}

enum tt_err tt_client_service(tt_client *c, int timeout_ms)
{
    enum tt_err rc;
    if (!c || !c->connected) {
        return TT_ERR_STATE;
    }
    rc = c->ws ? tt__ws_service(c, timeout_ms) : service_polling(c, timeout_ms);
    if (c->stream_ended) {
        tt__client_err(c, TT_ERR_OFFLINE, "@%s: the LIVE has ended", c->unique_id);
        end_connection(c, TT_ERR_OFFLINE);
        return TT_ERR_OFFLINE;
    }
    if (atomic_load(&c->stop)) {
        end_connection(c, TT_OK);
        return TT_ERR_STATE;
    }
    if (rc) {
        int frames = tt__ws_frames(c);
        end_connection(c, rc);
        tt__direct_ended(c, rc, frames);
    }
    return rc;
}

enum tt_err tt_client_run(tt_client *c)
{
    enum tt_err rc = tt_client_connect(c);
    while (!rc) {
        rc = tt_client_service(c, 1000);
    }
    return rc == TT_ERR_STATE && atomic_load(&c->stop) ? TT_OK : rc;
}

void tt_client_stop(tt_client *c)
{
    if (c) {
        atomic_store(&c->stop, 1);
        tt__ws_wake(c);
    }
}

void tt_client_disconnect(tt_client *c)
{
    if (c && c->connected) {
        end_connection(c, TT_OK);
    }
}

/* ---- state and one-off requests ---- */

void tt_client_state(tt_client *c, struct tt_state *out)
{
    out->is_connected = c->connected;
    out->upgraded_to_websocket = c->upgraded;
    out->room_id = c->room_id;
    out->room_info = c->room_info ? c->room_info : "";
}

enum tt_err tt_client_room_info(tt_client *c, char **json)
{
    enum tt_err rc = c->room_id[0] ? TT_OK : tt__room_resolve(c);
    if (!rc) {
        rc = tt__room_info(c);
    }
    if (!rc) {
        *json = tt__strdup(c->room_info ? c->room_info : "null");
        rc = *json ? TT_OK : TT_ERR_NOMEM;
    }
    return rc;
}

enum tt_err tt_client_available_gifts(tt_client *c, char **json)
{
    if (!c->room_id[0]) {
        tt__room_resolve(c); /* gift/list answers without a room id too */
    }
    enum tt_err rc = tt__room_gifts(c);
    if (!rc) {
        *json = tt__strdup(c->gifts.json);
        rc = *json ? TT_OK : TT_ERR_NOMEM;
    }
    return rc;
}
