/** @file http.c
 * The HTTP side of the one port: libwebsockets' first protocol. A request is read (GET, or
 * POST with its body), routed (pages.c), logged, optionally held back (slow answers), then
 * written from the writeable callback: headers first, the body in chunks. Upgrade requests pass
 * through here too (LWS_CALLBACK_HTTP_CONFIRM_UPGRADE): they are logged with their headers, and
 * refused the way TikTok refuses them when the room asks for it: HTTP 200 with
 * `handshake-status` and `handshake-msg` headers instead of 101.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "sim.h"

#define BODY_IN_MAX (256 * 1024) /* POST bodies: the URL signer's JSON is tiny */
#define CHUNK       16384

struct hsess {
    char method[8];
    char path[1024];
    struct common_buf body_in;
    struct reply rp;
    bool routed;
    bool hdr_sent;
    size_t sent;
};

static struct sim *sim_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

size_t http_session_size(void)
{
    return sizeof(struct hsess);
}

static void session_free(struct hsess *h)
{
    common_buf_free(&h->body_in);
    common_buf_free(&h->rp.hdr);
    common_buf_free(&h->rp.body);
    h->routed = false;
}

static void session_reset(struct hsess *h)
{
    session_free(h);
    memset(h, 0, sizeof(*h));
    common_buf_init(&h->body_in, BODY_IN_MAX);
    common_buf_init(&h->rp.hdr, 64 * 1024);
    common_buf_init(&h->rp.body, 32 * 1024 * 1024);
}

static void method_of(struct lws *wsi, char *out, size_t cap)
{
    const char *m = "GET";

    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
        m = "POST";
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI) > 0)
        m = "OPTIONS";
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI) > 0)
        m = "PUT";
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI) > 0)
        m = "DELETE";
    snprintf(out, cap, "%s", m);
}

/* The msgIds a fetch result carried, and how many of them (the last) repeat messages already
   pushed: what a test of deduplication needs to know was really sent again. */
static void log_answer(struct sim *s, struct common_buf *b)
{
    sbuf_json_key(b, "msg_ids");
    common_buf_adds(b, "[");
    for (uint32_t i = 0; i < s->n_answer_ids; i++) {
        if (i > 0)
            common_buf_adds(b, ",");
        common_buf_printf(b, "\"%" PRId64 "\"", s->answer_ids[i]);
    }
    common_buf_adds(b, "]");
    sbuf_json_kint(b, "history", s->n_answer_history);
}

static void log_http(struct sim *s, struct lws *wsi, struct hsess *h, const struct query *q)
{
    struct common_buf *b = slog_begin(s, "http");

    if (b == NULL)
        return;
    sbuf_json_kstr(b, "method", h->method);
    sbuf_json_kstr(b, "path", h->path);
    slog_query(b, q);
    slog_headers(b, wsi);
    if (h->body_in.len > 0) {
        sbuf_json_key(b, "body");
        sbuf_json_strn(b, h->body_in.p, h->body_in.len < 4096 ? h->body_in.len : 4096);
    }
    sbuf_json_kint(b, "status", h->rp.status);
    sbuf_json_kstr(b, "room", h->rp.room);
    if (h->rp.fetch_answer)
        log_answer(s, b);
    if (h->rp.ttwid != NULL)
        sbuf_json_kstr(b, "ttwid", h->rp.ttwid);
    if (h->rp.delay_ms > 0)
        sbuf_json_kint(b, "delay_ms", h->rp.delay_ms);
    slog_end(s, b);
}

static int route(struct sim *s, struct lws *wsi, struct hsess *h)
{
    static char qbuf[32768]; /* one thread: a static buffer keeps the stack small */
    struct query q;

    query_parse(wsi, qbuf, sizeof(qbuf), &q);
    common_buf_add(&h->body_in, "", 1); /* NUL-terminate for the JSON scan; not counted */
    if (h->body_in.len > 0)
        h->body_in.len--;
    pages_route(s, h->method, h->path, &q, h->body_in.p, h->body_in.len, wsi, &h->rp);
    h->routed = true;
    log_http(s, wsi, h, &q);
    if (h->rp.body.err || h->rp.hdr.err)
        return -1;
    if (h->rp.delay_ms > 0)
        lws_set_timer_usecs(wsi, (lws_usec_t)h->rp.delay_ms * 1000);
    else
        lws_callback_on_writable(wsi);
    return 0;
}

/* The header_bytes fault: one header of n bytes ('a's), as a hostile server might send. */
static int pad_header(struct lws *wsi, int n, unsigned char **p, unsigned char *end)
{
    char *v = malloc((size_t)n + 1);
    int rc;

    if (v == NULL)
        return -1;
    memset(v, 'a', (size_t)n);
    v[n] = '\0';
    rc = lws_add_http_header_by_name(wsi, (const unsigned char *)"x-pad:", (const unsigned char *)v,
                                     n, p, end);
    free(v);
    return rc;
}

static int write_headers_in(struct lws *wsi, struct hsess *h, unsigned char *buf, size_t cap)
{
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + cap - 1;
    const char *hp = h->rp.hdr.p, *he = h->rp.hdr.p + h->rp.hdr.len;

    if (lws_add_http_common_headers(wsi, (unsigned)h->rp.status,
                                    h->rp.ctype ? h->rp.ctype : "text/plain", h->rp.body.len, &p,
                                    end))
        return -1;
    while (hp != NULL && hp < he) {
        char name[128];
        const char *val = hp + strlen(hp) + 1;

        snprintf(name, sizeof(name), "%s:", hp);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)val, (int)strlen(val), &p, end))
            return -1;
        hp = val + strlen(val) + 1;
    }
    if (h->rp.pad_header > 0 && pad_header(wsi, h->rp.pad_header, &p, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    h->hdr_sent = true;
    return 0;
}

static int write_headers(struct lws *wsi, struct hsess *h)
{
    size_t cap = LWS_PRE + 8192 + (size_t)h->rp.pad_header + 64;
    unsigned char *buf = malloc(cap);
    int rc = buf == NULL ? -1 : write_headers_in(wsi, h, buf, cap);

    free(buf);
    return rc;
}

static int writeable(struct lws *wsi, struct hsess *h)
{
    static unsigned char chunk[LWS_PRE + CHUNK];
    size_t n;
    bool last;

    if (!h->routed)
        return 0;
    if (!h->hdr_sent) {
        if (write_headers(wsi, h))
            return -1;
        if (h->rp.body.len > 0) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        n = h->rp.body.len - h->sent;
        if (n > CHUNK)
            n = CHUNK;
        last = h->sent + n == h->rp.body.len;
        memcpy(chunk + LWS_PRE, h->rp.body.p + h->sent, n);
        if (lws_write(wsi, chunk + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
            (int)n)
            return -1;
        h->sent += n;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    session_free(h);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* The upgrade to WebSocket: logged here, where the request headers are still at hand. lws
   asks the protocol the connection is bound to, which is the WebSocket one (it is the vhost's
   default), so ws.c forwards the callback here. */
static void log_upgrade(struct sim *s, struct lws *wsi, const struct query *q, const char *path,
                        const struct room *r, const struct refusal *rf, bool direct)
{
    struct common_buf *b = slog_begin(s, "ws-upgrade");

    if (b == NULL)
        return;
    sbuf_json_kstr(b, "path", path);
    slog_query(b, q);
    slog_headers(b, wsi);
    sbuf_json_kstr(b, "room", r ? r->handle : NULL);
    if (direct) {
        sbuf_json_kbool(b, "direct", true);
        sbuf_json_kstr(b, "ttwid", rf->ttwid);
    }
    if (rf->status != 0) {
        sbuf_json_kint(b, "refused", rf->status);
        sbuf_json_kstr(b, "refused_msg", rf->msg);
        if (rf->why != NULL)
            sbuf_json_kstr(b, "refused_why", rf->why);
    }
    slog_end(s, b);
}

static int refuse(struct lws *wsi, const struct refusal *rf)
{
    unsigned char buf[LWS_PRE + 2048];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    char st[16];

    snprintf(st, sizeof(st), "%d", rf->status);
    if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/plain", 0, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"handshake-status:",
                                    (const unsigned char *)st, (int)strlen(st), &p, end) ||
        lws_add_http_header_by_name(
                wsi, (const unsigned char *)"handshake-msg:", (const unsigned char *)rf->msg,
                (int)strlen(rf->msg), &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    return 1;
}

/* The upgrade to WebSocket: logged here, where the request headers are still at hand. lws
   asks the protocol the connection is bound to, which is the WebSocket one (it is the vhost's
   default), so ws.c forwards the callback here. A direct upgrade (ws_direct=1, no sign server)
   must show a device token (device.c); any upgrade may be refused by the room's `handshake`. */
int http_confirm_upgrade(struct lws *wsi)
{
    struct sim *s = sim_of(wsi);
    static char qbuf[32768];
    struct query q;
    struct refusal rf;
    char path[1024] = "";
    const char *rid, *wd;
    uint32_t sess = 0;
    struct room *r = NULL;
    bool direct;

    query_parse(wsi, qbuf, sizeof(qbuf), &q);
    lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI);
    rid = query_get(&q, "room_id");
    if (rid != NULL)
        r = sim_room_by_id(s, strtoll(rid, NULL, 10), &sess);
    wd = query_get(&q, "ws_direct");
    direct = wd != NULL && strcmp(wd, "1") == 0;
    memset(&rf, 0, sizeof(rf));
    if (direct)
        device_refuse(s, wsi, r, &rf);
    if (rf.status == 0 && r != NULL && r->f.handshake_status != 0) {
        rf.status = r->f.handshake_status;
        rf.msg = r->f.handshake_msg ? r->f.handshake_msg : "";
        rf.why = "handshake fault";
    }
    log_upgrade(s, wsi, &q, path, r, &rf, direct);
    if (rf.status == 0)
        return 0;
    slog_fault(s, r, "websocket handshake refused");
    return refuse(wsi, &rf);
}

/* The 101 answer of a room with a `ping_interval`: `Handshake-Options: ping-interval=N`, the
   heartbeat interval TikTok asks for (docs/protocol.md §5.2; in seconds). */
int http_upgrade_headers(struct lws *wsi, void *in)
{
    struct lws_process_html_args *args = in;
    static char qbuf[32768];
    struct query q;
    const char *rid;
    char v[64];
    uint32_t sess = 0;
    struct room *r = NULL;
    unsigned char **p = (unsigned char **)&args->p;

    query_parse(wsi, qbuf, sizeof(qbuf), &q);
    rid = query_get(&q, "room_id");
    if (rid != NULL)
        r = sim_room_by_id(sim_of(wsi), strtoll(rid, NULL, 10), &sess);
    if (r == NULL || r->ping_interval <= 0)
        return 0;
    snprintf(v, sizeof(v), "ping-interval=%d", (int)r->ping_interval);
    return lws_add_http_header_by_name(
                   wsi, (const unsigned char *)"handshake-options:", (const unsigned char *)v,
                   (int)strlen(v), p, *p + args->max_len)
                   ? -1
                   : 0;
}

int http_callback(struct lws *wsi, int reason, void *user, void *in, size_t len)
{
    struct hsess *h = user;
    struct sim *s = sim_of(wsi);

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        session_reset(h);
        snprintf(h->path, sizeof(h->path), "%s", (const char *)in);
        method_of(wsi, h->method, sizeof(h->method));
        if (strcmp(h->method, "POST") == 0 || strcmp(h->method, "PUT") == 0)
            return 0; /* the body comes next */
        return route(s, wsi, h);
    case LWS_CALLBACK_HTTP_BODY:
        common_buf_add(&h->body_in, in, len);
        return h->body_in.err ? -1 : 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return route(s, wsi, h);
    case LWS_CALLBACK_TIMER:
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return writeable(wsi, h);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return http_confirm_upgrade(wsi);
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (h != NULL)
            session_free(h);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, (enum lws_callback_reasons)reason, user, in, len);
    }
}
