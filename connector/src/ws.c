/** @file ws.c
 * The push WebSocket, on libwebsockets' client side, one lws context per connection (so each
 * connection's thread owns its event loop and connections share nothing).
 *
 * What goes over it (docs/protocol.md §5), as the 2.x clients do it:
 *   - URL: the fetch result's push server + the web client's WebSocket parameters, room_id,
 *     cursor, internal_ext, compress=gzip, every non-empty route param, and
 *     `&version_code=270000` appended (so version_code appears twice, as in 2.x);
 *   - handshake headers: User-Agent and Cookie (the jar, with the sign server's cookies);
 *   - after the upgrade: an im_enter_room frame, then a heartbeat every 10 s (or the server's
 *     ping-interval from its Handshake-Options header), on the interval's multiples;
 *   - for every batch whose needAck is set: an ack {logId, "ack", internalExt}.
 * TikTok refuses a bad handshake with HTTP 200 and a handshake-msg header instead of 101: that
 * becomes TT_ERR_WS_REFUSED with its message.
 *
 * The direct path (direct.c) has a query and headers of its own: ws_direct=1, no cursor, and the
 * device's User-Agent and ttwid. Whatever the flow, a watchdog closes a socket on which no
 * frame at all (events or heartbeat answers) arrived for stale_timeout_s: TikTok's sockets can
 * stay open and silent, and a streamer would look live forever (TT_ERR_STALE).
 *
 * SPDX-License-Identifier: MIT
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "client_int.h"
#include "dns.h"
#include "prng.h"
#include "tls.h"

#define QUEUE_MAX     64 /* frames waiting to be written: acks, heartbeats, enter-room */
#define HB_DEFAULT_MS 10000

struct out_frame {
    uint8_t *p; /* LWS_PRE bytes of headroom, then the frame */
    size_t n;
};

struct tt_ws {
    struct lws_context *ctx;
    lws_sorted_usec_list_t tick; /* wakes lws_service at the caller's deadline */
    SSL_CTX *ssl;                /* shared (tls.c) */
    struct lws *wsi;
    tt_client *c;
    struct common_buf rx; /* one message, reassembled from its fragments, capped */
    struct common_buf tx; /* scratch for encoding */
    struct out_frame q[QUEUE_MAX];
    size_t qh, qn;
    uint64_t room, hb_seq;
    unsigned hb_ms;
    int established, closed, closing;
    int cut;             /* a message went over max_frame_bytes: close, read no more */
    int held;            /* reception paused until the caller has seen "connected" */
    uint64_t last_rx_ms; /* the watchdog's clock: the last byte received (or the open) */
    int frames;          /* messages received */
    enum tt_err reason;
    int close_code;
    char detail[256];
};

static void enqueue(struct tt_ws *w, const struct common_buf *frame)
{
    if (w->qn == QUEUE_MAX) {
        tt__client_log(w->c, TT_LOG_WARN, "ws: send queue full, frame dropped");
        return;
    }
    uint8_t *p = tt__malloc(LWS_PRE + frame->len);
    if (!p) {
        tt__client_log(w->c, TT_LOG_WARN, "ws: out of memory, frame dropped");
        return;
    }
    memcpy(p + LWS_PRE, frame->p, frame->len);
    w->q[(w->qh + w->qn) % QUEUE_MAX] = (struct out_frame){ p, frame->len };
    w->qn++;
    if (w->wsi) {
        lws_callback_on_writable(w->wsi);
    }
}

/* The next one is due at the next multiple of the interval on the monotonic clock, not
 * `interval` after this one: every connection of the process beats at the same instants, so
 * a thousand idle threads wake together and the kernel switches between them without going
 * idle in between (1,000 idle streamers: 3.4 % of a core with free-running timers, 1.7 %
 * aligned; docs/PERFORMANCE.md). The first beat, right after enter-room, comes earlier. */
static void send_heartbeat(struct tt_ws *w)
{
    if (!tt__encode_heartbeat(&w->tx, w->room, ++w->hb_seq)) {
        enqueue(w, &w->tx);
    }
    uint64_t now = tt__now_ms();
    lws_set_timer_usecs(w->wsi, (lws_usec_t)(w->hb_ms - now % w->hb_ms) * 1000);
}

/* Handshake-Options: "ping-interval=10; ..." (TTL-7 reads seconds). Read before the upgrade
 * completes: lws frees the response headers before LWS_CALLBACK_CLIENT_ESTABLISHED. */
static void read_handshake_options(struct tt_ws *w, struct lws *wsi)
{
    char v[256];
    if (lws_hdr_custom_copy(wsi, v, sizeof v, "handshake-options:", 18) <= 0) {
        return;
    }
    const char *p = strstr(v, "ping-interval=");
    unsigned long s = p ? strtoul(p + 14, NULL, 10) : 0;
    if (s >= 1 && s <= 300) {
        w->hb_ms = (unsigned)s * 1000;
    }
}

static void on_established(struct tt_ws *w)
{
    uint64_t unique = common_rand64() & INT64_MAX;
    w->established = 1;
    w->last_rx_ms = tt__now_ms();
    /* Messages pushed right after the upgrade can arrive in the same read as the 101 and would
     * be decoded before tt_client_connect() has emitted "connected" (1.x never does that); lws
     * keeps them until the first tt__ws_service() lets them in. */
    w->held = !lws_rx_flow_control(w->wsi, 0);
    if (!tt__encode_enter_room(&w->tx, w->room, unique ? unique : 1)) {
        enqueue(w, &w->tx);
    }
    /* A quiet room's socket carries nothing but the answers to our heartbeats: at least two
     * per stale_timeout_s, or the watchdog closes a healthy socket (and the reconnect costs a
     * signature) whenever the stream is quiet for longer than the window */
    uint64_t stale_ms = (uint64_t)w->c->o.stale_timeout_s * 1000;
    if (stale_ms && w->hb_ms > stale_ms / 2) {
        w->hb_ms = (unsigned)(stale_ms / 2);
    }
    send_heartbeat(w);
}

static void on_message(struct tt_ws *w)
{
    struct tt_frame_info info;
    tt_client *c = w->c;
    tt__client_raw(c, TT_RAW_WEBSOCKET, w->rx.p, w->rx.len);
    enum tt_err rc = tt_decode_frame(c->dec, w->rx.p, w->rx.len, &info, tt__client_on_event, c);
    if (rc) { /* garbage costs this frame alone: say so and go on */
        struct tt_event ev = { 0 };
        char json[384];
        snprintf(json, sizeof json,
                 "{\"info\":\"Websocket message decoding failed\",\"exception\":\"%s\"}",
                 tt_strerror(rc));
        ev.type = TT_EV_ERROR;
        ev.name = tt_event_type_name(ev.type);
        ev.method = "";
        ev.json = json;
        ev.json_len = strlen(json);
        ev.u.error.code = rc;
        ev.u.error.frame = 1;
        c->cb(&ev, c->ud);
        return;
    }
    if (info.has_result && info.need_ack &&
        !tt__encode_ack(&w->tx, info.log_id, info.internal_ext)) {
        enqueue(w, &w->tx);
    }
}

/* A message over max_frame_bytes ends the connection: reading on to its end would let a
 * message that never ends (fragments without FIN) keep the streamer "live" forever, and it is
 * lost anyway. Said once, as the close's reason, not once per fragment. Reading stops here and
 * the socket is closed from the writeable callback: libwebsockets 4.1.6 crashes when a
 * receive callback that it calls for buffered data asks for the close. */
static int on_receive(struct tt_ws *w, const void *in, size_t len)
{
    if (w->cut) {
        return 0;
    }
    common_buf_add(&w->rx, in, len);
    w->last_rx_ms = tt__now_ms();
    if (w->rx.err) {
        w->cut = 1;
        w->reason = tt__buf_err(&w->rx); /* TT_ERR_TOO_LARGE, or TT_ERR_NOMEM */
        snprintf(w->detail, sizeof w->detail,
                 "WebSocket: a message over max_frame_bytes (%zu bytes): connection closed",
                 w->rx.max);
        common_buf_free(&w->rx);
        lws_rx_flow_control(w->wsi, 0);
        lws_callback_on_writable(w->wsi);
        return 0;
    }
    if (!lws_is_final_fragment(w->wsi) || lws_remaining_packet_payload(w->wsi)) {
        return 0;
    }
    w->frames++;
    on_message(w);
    common_buf_trim(&w->rx, TT_BUF_KEEP); /* a message of up to 1 MiB is not kept for life */
    return 0;
}

static int on_writeable(struct tt_ws *w)
{
    if (w->cut) { /* on_receive: a message over max_frame_bytes */
        lws_close_reason(w->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        return -1;
    }
    if (!w->qn) {
        if (w->closing || atomic_load(&w->c->stop)) {
            lws_close_reason(w->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        return 0;
    }
    if (w->closing || atomic_load(&w->c->stop)) {
        lws_callback_on_writable(w->wsi); /* the queue first: the last batch's ack */
    }
    struct out_frame f = w->q[w->qh];
    w->qh = (w->qh + 1) % QUEUE_MAX;
    w->qn--;
    int n = lws_write(w->wsi, f.p + LWS_PRE, f.n, LWS_WRITE_BINARY);
    tt__free(f.p);
    if (n < (int)f.n) {
        return -1;
    }
    if (w->qn) {
        lws_callback_on_writable(w->wsi);
    }
    return 0;
}

static void on_connection_error(struct tt_ws *w, const char *why)
{
    char msg[200];
    w->closed = 1;
    if (lws_hdr_custom_copy(w->wsi, msg, sizeof msg, "handshake-msg:", 14) > 0) {
        snprintf(w->c->d.refusal, sizeof w->c->d.refusal, "%.100s", msg);
        w->reason = TT_ERR_WS_REFUSED;
        snprintf(w->detail, sizeof w->detail, "TikTok refused the WebSocket: %s", msg);
        return;
    }
    w->reason = why && strstr(why, "not 101")  ? TT_ERR_WS_REFUSED
                : why && strstr(why, "imeout") ? TT_ERR_TIMEOUT
                                               : TT_ERR_CONNECTION_LOST;
    snprintf(w->detail, sizeof w->detail, "WebSocket: %s", why ? why : "connection failed");
}

static void on_peer_close(struct tt_ws *w, const uint8_t *in, size_t len)
{
    if (len >= 2) {
        w->close_code = in[0] << 8 | in[1];
        snprintf(w->detail, sizeof w->detail, "WebSocket closed by the server: %d %.*s",
                 w->close_code, (int)(len - 2 < 120 ? len - 2 : 120), (const char *)in + 2);
    }
}

/* Handshake headers: User-Agent (the option's: 1.x sends its default set, not the legacy
 * signer's UA, which was for its signed URL), Cookie (the jar), then the caller's
 * websocket_headers, which replace ours of the same name. */
static int add_header(struct lws *wsi, const char *name, const char *v, unsigned char **p,
                      unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)v,
                                       (int)strlen(v), p, end);
}

static int add_user_headers(struct lws *wsi, const char *s, int jar, unsigned char **p,
                            unsigned char *end)
{
    char name[128], value[512];
    while (s && *s) {
        while (*s == ' ' || *s == ';') {
            s++;
        }
        size_t len = strcspn(s, ";");
        const char *colon = memchr(s, ':', len);
        size_t nl = colon ? (size_t)(colon - s) : 0;
        int cookie = nl == 6 && !strncasecmp(s, "cookie", 6);
        if (colon && nl + 2 < sizeof name && len - nl - 1 < sizeof value && (jar || !cookie)) {
            memcpy(name, s, nl + 1); /* lws wants the name with its colon */
            name[nl + 1] = '\0';
            const char *v = colon + 1;
            while (*v == ' ') {
                v++;
            }
            snprintf(value, sizeof value, "%.*s", (int)(len - (size_t)(v - s)), v);
            if (add_header(wsi, name, value, p, end)) {
                return -1;
            }
        }
        s += len;
    }
    return 0;
}

static int handshake_headers(struct tt_ws *w, struct lws *wsi, void *in, size_t len)
{
    unsigned char **p = in, *end = *p + len;
    const char *user = w->c->o.websocket_headers;
    const char *ua = tt__direct_ua(w->c) ? tt__direct_ua(w->c) : w->c->o.user_agent;
    /* the push server is whatever the fetch result named: TikTok's cookies (the caller's too)
     * go only to TikTok's hosts (hosts.c) */
    int jar = tt__hosts_cookie_ok(&w->c->http.hosts, w->c->push_server);
    struct common_buf cookie;
    int rc = 0;
    if (!tt__headers_set(user, "User-Agent:")) {
        rc = add_header(wsi, "user-agent:", ua ? ua : "", p, end);
    }
    tt__buf_init(&cookie, 16384);
    tt__cookie_header(&w->c->http, &cookie);
    const char *cv = common_buf_cstr(&cookie);
    if (!rc && jar && cv && cv[0] && !tt__headers_set(user, "Cookie:")) {
        rc = add_header(wsi, "cookie:", cv, p, end);
    }
    common_buf_free(&cookie);
    const char *const *dh = w->c->d.flow == TT_SIGN_DIRECT ? tt__direct_ws_headers() : NULL;
    for (size_t i = 0; dh && dh[i] && !rc; i += 2) {
        if (!tt__headers_set(user, dh[i])) {
            rc = add_header(wsi, dh[i], dh[i + 1], p, end);
        }
    }
    return rc || add_user_headers(wsi, w->c->o.websocket_headers, jar, p, end) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct tt_ws *w = lws_get_opaque_user_data(wsi);
    (void)user;
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) { /* tt_client_stop() from a thread */
        w = lws_context_user(lws_get_context(wsi));
        if (w && w->wsi) {
            lws_callback_on_writable(w->wsi); /* on_writeable sees the stop flag, closes */
        }
        return 0;
    }
    if (!w) {
        return 0;
    }
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return handshake_headers(w, wsi, in, len);
    case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
        read_handshake_options(w, wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        on_established(w);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(w, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writeable(w);
    case LWS_CALLBACK_TIMER:
        send_heartbeat(w);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        on_connection_error(w, in);
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        on_peer_close(w, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        w->closed = 1;
        if (!w->reason) {
            w->reason = w->closing || atomic_load(&w->c->stop) ? TT_OK : TT_ERR_CONNECTION_LOST;
        }
        w->wsi = NULL;
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    /* rx buffer 0: lws's default (4 KiB); messages are reassembled in w->rx, so a
     * per-connection 64 KiB buffer would only cost memory (a thousand connections: 64 MiB) */
    { "tt-push", callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 } /* terminator */
};

/* ---- URL ---- */

static enum tt_err ws_query(tt_client *c, struct common_buf *q)
{
    struct tt_params p;
    enum tt_err rc;
    if (c->d.flow == TT_SIGN_DIRECT) {
        return tt__direct_ws_query(c, q);
    }
    tt__params_init(&p);
    rc = tt__params_ws_defaults(&p, c->o.user_agent ? c->o.user_agent : "");
    if (!rc && c->o.client_params) {
        rc = tt__params_merge(&p, c->o.client_params);
    }
    const char *kv[][2] = { { "compress", "gzip" },
                            { "room_id", c->room_id },
                            { "internal_ext", c->internal_ext ? c->internal_ext : "" },
                            { "cursor", c->cursor ? c->cursor : "" } };
    for (size_t i = 0; i < 4 && !rc; i++) {
        rc = tt__params_set(&p, kv[i][0], kv[i][1]);
    }
    for (size_t i = 0; i < c->route.n && !rc; i++) {
        rc = tt__params_set(&p, c->route.k[i], c->route.v[i]);
    }
    if (!rc) {
        tt__params_encode(&p, q);
        common_buf_adds(q, "&version_code=270000");
    }
    tt__params_free(&p);
    return rc ? rc : tt__buf_err(q);
}

struct target {
    char buf[2048]; /* lws_parse_uri cuts this one up */
    const char *scheme, *host, *path;
    int port;
};

/* 1 if the URL holds a space or a control byte: lws writes its path into the request line and
 * its host into the Host header as they are, so either would let the fetch result (the sign
 * server's answer) write headers or a request of its own to the push server. A header may
 * hold blanks; a request line may not. */
static int url_unsafe(const char *u)
{
    return !tt__header_safe(u, strlen(u)) || strpbrk(u, " \t");
}

static enum tt_err parse_target(tt_client *c, struct target *t)
{
    snprintf(t->buf, sizeof t->buf, "%s", c->push_server ? c->push_server : "");
    if (url_unsafe(t->buf)) {
        tt__client_err(c, TT_ERR_NO_UPGRADE,
                       "the push server URL holds a space or a control byte: not used");
        return TT_ERR_NO_UPGRADE;
    }
    if (!t->buf[0] || lws_parse_uri(t->buf, &t->scheme, &t->host, &t->port, &t->path)) {
        tt__client_err(c, TT_ERR_NO_UPGRADE, "no usable push server URL in the fetch result");
        return TT_ERR_NO_UPGRADE;
    }
    if (strcmp(t->scheme, "ws") && strcmp(t->scheme, "wss")) {
        tt__client_err(c, TT_ERR_NO_UPGRADE, "push server URL is not ws:// or wss://");
        return TT_ERR_NO_UPGRADE;
    }
    if (!strcmp(t->scheme, "ws") && !c->o.allow_insecure &&
        !tt__hosts_loopback(&c->http.hosts, c->push_server)) {
        tt__client_err(c, TT_ERR_INVAL,
                       "plain ws:// to a non-loopback host is refused "
                       "(set allow_insecure)");
        return TT_ERR_INVAL;
    }
    return TT_OK;
}

/* ---- proxy: http:// only (Debian's libwebsockets has no SOCKS5) ---- */

static enum tt_err ws_proxy(tt_client *c, struct lws_context_creation_info *info, char *host,
                            size_t n)
{
    const char *p = c->o.proxy;
    if (!p || !*p) {
        return TT_OK;
    }
    if (strncmp(p, "http://", 7)) {
        tt__client_err(c, TT_ERR_UNSUPPORTED,
                       "proxy %.*s:// works for HTTP but not for the WebSocket (this build's "
                       "libwebsockets has no SOCKS5): use an http:// proxy",
                       (int)strcspn(p, ":"), p);
        return TT_ERR_UNSUPPORTED;
    }
    /* lws takes "[user:pass@]host:port" without the scheme */
    snprintf(host, n, "%s", p + 7);
    char *slash = strchr(host, '/');
    if (slash) {
        *slash = '\0';
    }
    info->http_proxy_address = host;
    return TT_OK;
}

/* ---- open, service, close ---- */

static enum tt_err make_context(tt_client *c, struct tt_ws *w)
{
    struct lws_context_creation_info info;
    char proxy[512];
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = w;
    info.fd_limit_per_thread = 8; /* one socket per connection: keep the fd table small */
    info.timeout_secs = c->o.websocket_timeout_ms / 1000 ? c->o.websocket_timeout_ms / 1000 : 1;
    w->ssl = tt__tls_get(c->o.ca_file);
    if (!w->ssl) {
        tt__client_err(c, TT_ERR_INVAL, "TLS: cannot load the CA file %s",
                       c->o.ca_file ? c->o.ca_file : "(system)");
        return TT_ERR_INVAL;
    }
    info.provided_client_ssl_ctx = w->ssl;
    enum tt_err rc = ws_proxy(c, &info, proxy, sizeof proxy);
    if (rc) {
        return rc;
    }
    w->ctx = lws_create_context(&info);
    if (!w->ctx) {
        tt__client_err(c, TT_ERR_NOMEM, "WebSocket: cannot create its context");
        return TT_ERR_NOMEM;
    }
    return TT_OK;
}

static enum tt_err connect_ws(tt_client *c, struct tt_ws *w, struct target *t)
{
    struct lws_client_connect_info ci;
    struct common_buf path;
    tt__buf_init(&path, 32768);
    common_buf_addc(&path, '/');
    common_buf_adds(&path, t->path);
    common_buf_addc(&path, strchr(t->path, '?') ? '&' : '?');
    enum tt_err rc = ws_query(c, &path);
    if (rc || !common_buf_cstr(&path)) {
        common_buf_free(&path);
        return rc ? rc : TT_ERR_NOMEM;
    }
    /* the resolve option, else our own lookup, which a stop cuts short (dns.c); through a
     * proxy the proxy resolves. Host, SNI and the certificate check keep the name */
    const char *addr = tt__hosts_resolve(&c->http.hosts, t->host, t->port);
    char looked[64], why[256];
    if (!addr && !c->o.proxy) {
        rc = tt__dns_lookup(t->host, looked, sizeof looked, &c->stop, c->o.websocket_timeout_ms,
                            why, sizeof why);
        if (rc) {
            common_buf_free(&path);
            tt__client_err(c, rc, "%s", rc == TT_ERR_STATE ? "stopped" : why);
            return rc == TT_ERR_HTTP ? TT_ERR_CONNECTION_LOST : rc;
        }
        addr = looked;
    }
    memset(&ci, 0, sizeof ci);
    ci.context = w->ctx;
    ci.address = addr ? addr : t->host;
    ci.port = t->port;
    ci.path = path.p;
    ci.host = t->host;
    ci.origin = NULL; /* 2.x sends no Origin */
    ci.protocol = NULL;
    ci.local_protocol_name = "tt-push";
    ci.pwsi = &w->wsi;
    ci.opaque_user_data = w;
    if (!strcmp(t->scheme, "wss")) {
        ci.ssl_connection = LCCSCF_USE_SSL;
        if (c->o.allow_insecure) {
            ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                 LCCSCF_ALLOW_INSECURE | LCCSCF_ALLOW_EXPIRED;
        }
    }
    struct lws *wsi = lws_client_connect_via_info(&ci);
    common_buf_free(&path);
    if (!wsi && !w->closed) {
        tt__client_err(c, TT_ERR_CONNECTION_LOST, "WebSocket: cannot start the connection");
        return TT_ERR_CONNECTION_LOST;
    }
    return TT_OK;
}

/* Nothing to do: its only job is to end the poll() wait of lws_service. */
static void on_tick(lws_sorted_usec_list_t *sul)
{
    (void)sul;
}

/* One lws_service round that returns within `ms`: lws_service ignores its timeout (since lws
 * 3.2 it sleeps until the next scheduled event, here the next heartbeat), so a no-op is
 * scheduled at the deadline. */
static void service_for(struct tt_ws *w, int ms)
{
    lws_sul_schedule(w->ctx, 0, &w->tick, on_tick, (lws_usec_t)(ms > 0 ? ms : 1) * LWS_US_PER_MS);
    lws_service(w->ctx, 0);
}

static void ws_free(struct tt_ws *w)
{
    if (!w) {
        return;
    }
    if (w->ctx) {
        pthread_mutex_lock(&w->c->wake_lock);
        w->c->wake_ctx = NULL;
        pthread_mutex_unlock(&w->c->wake_lock);
        lws_sul_cancel(&w->tick);
        lws_context_destroy(w->ctx);
    }
    tt__tls_put(w->ssl);
    while (w->qn) {
        tt__free(w->q[w->qh].p);
        w->qh = (w->qh + 1) % QUEUE_MAX;
        w->qn--;
    }
    common_buf_free(&w->rx);
    common_buf_free(&w->tx);
    tt__free(w);
}

enum tt_err tt__ws_open(tt_client *c)
{
    struct target t;
    struct tt_ws *w;
    enum tt_err rc = parse_target(c, &t);
    if (rc) {
        return rc;
    }
    w = tt__calloc(1, sizeof *w);
    if (!w) {
        return TT_ERR_NOMEM;
    }
    w->c = c;
    c->d.refusal[0] = '\0';
    w->room = strtoull(c->room_id, NULL, 10);
    w->hb_ms = HB_DEFAULT_MS;
    tt__buf_init(&w->rx, c->o.limits.max_frame_bytes ? c->o.limits.max_frame_bytes : 1 << 20);
    tt__buf_init(&w->tx, 8192);
    rc = make_context(c, w);
    if (!rc) {
        pthread_mutex_lock(&c->wake_lock); /* from here a stop wakes the handshake's wait */
        c->wake_ctx = w->ctx;
        pthread_mutex_unlock(&c->wake_lock);
        rc = connect_ws(c, w, &t);
    }
    uint64_t deadline = tt__now_ms() + c->o.websocket_timeout_ms;
    while (!rc && !w->established && !w->closed && tt__now_ms() < deadline &&
           !atomic_load(&c->stop)) {
        service_for(w, (int)(deadline - tt__now_ms()));
    }
    if (!rc && !w->established && atomic_load(&c->stop)) {
        rc = TT_ERR_STATE;
        tt__client_err(c, rc, "stopped");
    } else if (!rc && !w->established) {
        rc = w->closed && w->reason ? w->reason : TT_ERR_TIMEOUT;
        tt__client_err(c, rc, "%s", w->closed ? w->detail : "WebSocket: handshake timed out");
    }
    if (rc) {
        ws_free(w);
        return rc;
    }
    c->ws = w;
    return TT_OK;
}

/* When the watchdog bites if nothing arrives before. */
static uint64_t stale_at(const struct tt_ws *w)
{
    return w->last_rx_ms + (uint64_t)w->c->o.stale_timeout_s * 1000;
}

static void watchdog(struct tt_ws *w)
{
    if (w->closed || !w->c->o.stale_timeout_s || tt__now_ms() < stale_at(w)) {
        return;
    }
    w->closed = 1; /* the socket goes with the context: a silent peer gets no close frame */
    w->reason = TT_ERR_STALE;
    snprintf(w->detail, sizeof w->detail,
             "WebSocket: no frame for %u s (not even a heartbeat answer): closed",
             w->c->o.stale_timeout_s);
}

int tt__ws_frames(const tt_client *c)
{
    return c->ws ? c->ws->frames : 0;
}

enum tt_err tt__ws_service(tt_client *c, int timeout_ms)
{
    struct tt_ws *w = c->ws;
    uint64_t deadline = tt__now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    if (!w) {
        return TT_ERR_STATE;
    }
    if (w->held && w->wsi) {
        lws_rx_flow_control(w->wsi, 1);
        w->held = 0;
    }
    do {
        uint64_t until = deadline < stale_at(w) ? deadline : stale_at(w), now = tt__now_ms();
        service_for(w, (int)(until > now ? until - now : 1));
        watchdog(w);
    } while (!w->closed && tt__now_ms() < deadline && !atomic_load(&c->stop) && !c->stream_ended);
    if (atomic_load(&c->stop) && !w->closed) {
        w->closing = 1;
        if (w->wsi) {
            lws_callback_on_writable(w->wsi);
            for (int i = 0; i < 20 && !w->closed; i++) {
                service_for(w, 10);
            }
        }
        w->closed = 1;
    }
    if (!w->closed) {
        return TT_OK;
    }
    if (w->reason) {
        tt__client_err(c, w->reason, "%s", w->detail[0] ? w->detail : "WebSocket closed");
    }
    return w->reason ? w->reason : TT_ERR_CONNECTION_LOST;
}

void tt__ws_close(tt_client *c)
{
    struct tt_ws *w = c->ws;
    if (!w) {
        return;
    }
    if (w->wsi && !w->closed) {
        w->closing = 1;
        lws_callback_on_writable(w->wsi);
        for (int i = 0; i < 20 && !w->closed; i++) {
            service_for(w, 10);
        }
    }
    ws_free(w);
    c->ws = NULL;
}

void tt__ws_wake(tt_client *c)
{
    pthread_mutex_lock(&c->wake_lock);
    if (c->wake_ctx) {
        lws_cancel_service(c->wake_ctx);
    }
    pthread_mutex_unlock(&c->wake_lock);
}
