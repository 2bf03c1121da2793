/** @file ws.c
 * The WebSocket push server. A connection names its room with the `room_id` query parameter
 * (both client generations send it), joins the room's frame ring (room.c) and gets every frame
 * pushed after it joined, one lws_write() per writeable callback. What the client sends back is
 * decoded and logged: acks (matched against the logIds we sent), heartbeats (answered with an
 * "hb" frame) and 2.x's enter-room frame (answered with "im_enter_room_resp"). Faults that act on
 * a connection live here too: silence, dropping the socket or closing it after N frames.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libwebsockets.h>

#include "sim.h"

_Static_assert(LWS_PRE == SIM_LWS_PRE, "SIM_LWS_PRE must equal libwebsockets' LWS_PRE");

#define IN_MAX       (64 * 1024) /* largest client message we accept */
#define ENDLESS_FRAG 1024        /* a fragment of the endless_message fault */
#define END_WAIT_MS  30000       /* longest wait for an ended room's last frames to go out */

static struct sim *sim_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

size_t ws_session_size(void)
{
    return sizeof(struct conn);
}

void ws_kick(struct conn *c)
{
    if (c->wsi != NULL)
        lws_callback_on_writable(c->wsi);
}

void ws_end_all(struct room *r, int64_t delay_ms)
{
    /* the timer sets the close (end_timer); the frames before it still go out first */
    for (struct conn *c = r->conns; c != NULL; c = c->next)
        lws_set_timer_usecs(c->wsi, (lws_usec_t)delay_ms * 1000);
}

static void log_conn(struct sim *s, struct common_buf *b, const struct conn *c)
{
    sbuf_json_kint(b, "conn", c->id);
    if (c->room != NULL) {
        sbuf_json_kstr(b, "room", c->room->handle);
        sbuf_json_kid(b, "room_id", room_cur_id(c->room));
    }
    (void)s;
}

static void queue_ctrl(struct sim *s, struct conn *c, const char *type, int64_t log_id)
{
    struct frame *f;

    if (c->n_ctrl >= CONN_CTRL)
        return; /* a client flooding heartbeats gets fewer answers */
    f = frame_control(s, type, log_id);
    if (f == NULL)
        return;
    c->ctrl[c->n_ctrl++] = f;
    ws_kick(c);
}

static bool silent(const struct conn *c)
{
    const struct room *r = c->room;

    return r != NULL && (r->f.silent || common_mono_ms() < r->silent_until_ms);
}

/* Is log_id one of the frames of the room's ring? (Acks lag behind sends by a few frames;
   the ring holds hundreds.) */
static bool match_ack(const struct conn *c, int64_t log_id)
{
    const struct room *r = c->room;

    if (r == NULL || r->ring == NULL || log_id == 0)
        return false;
    for (uint32_t i = 0; i < r->ring_cap; i++)
        if (r->ring[i] != NULL && r->ring[i]->log_id == log_id)
            return true;
    return false;
}

static void log_in(struct sim *s, const struct conn *c, const struct client_frame *cf,
                   const unsigned char *p, size_t len, bool known)
{
    struct common_buf *b = slog_begin(s, "ws-in");

    if (b == NULL)
        return;
    log_conn(s, b, c);
    sbuf_json_kint(b, "len", (int64_t)len);
    sbuf_json_kstr(b, "type", cf->decoded ? cf->type : NULL);
    if (cf->log_id != 0)
        sbuf_json_kid(b, "log_id", cf->log_id);
    if (strcmp(cf->type, "ack") == 0) {
        sbuf_json_kbool(b, "known", known);
        sbuf_json_kstr(b, "payload", cf->ack_payload);
    }
    if (cf->has_hb) {
        sbuf_json_key(b, "hb");
        common_buf_adds(b, "{");
        sbuf_json_kid(b, "room_id", cf->hb_room_id);
        sbuf_json_kint(b, "seq", cf->hb_seq);
        common_buf_adds(b, "}");
    }
    if (cf->has_enter) {
        sbuf_json_key(b, "enter");
        common_buf_adds(b, "{");
        sbuf_json_kid(b, "room_id", cf->enter_room_id);
        sbuf_json_kint(b, "live_id", cf->enter_live_id);
        sbuf_json_kstr(b, "identity", cf->enter_identity);
        sbuf_json_kid(b, "enter_unique_id", cf->enter_unique_id);
        sbuf_json_kstr(b, "filter_welcome_msg", cf->enter_filter);
        common_buf_adds(b, "}");
    }
    sbuf_json_key(b, "hex");
    common_buf_adds(b, "\"");
    for (size_t i = 0; i < len && i < 48; i++)
        common_buf_printf(b, "%02x", p[i]);
    common_buf_adds(b, "\"");
    slog_end(s, b);
}

static void client_message(struct sim *s, struct conn *c, const unsigned char *p, size_t len)
{
    struct client_frame cf;
    bool known = false;

    client_frame_parse(p, len, &cf);
    if (strcmp(cf.type, "ack") == 0) {
        known = match_ack(c, cf.log_id);
        if (known)
            c->acks++;
        else
            c->acks_unknown++;
    } else if (strcmp(cf.type, "hb") == 0) {
        c->hbs++;
        if (!silent(c) && c->room != NULL && !c->room->f.no_hb_answer)
            queue_ctrl(s, c, "hb", 0);
    } else if (strcmp(cf.type, "im_enter_room") == 0) {
        c->enters++;
        if (!silent(c) && c->room != NULL && !c->room->f.no_enter_answer)
            queue_ctrl(s, c, "im_enter_room_resp", c->room->log_id + 1);
    }
    log_in(s, c, &cf, p, len, known);
}

static int receive(struct sim *s, struct conn *c, struct lws *wsi, const void *in, size_t len)
{
    unsigned char *p;

    if (c->dropping)
        return 0;
    if (c->in_len == 0 && lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi)) {
        client_message(s, c, in, len);
        return 0;
    }
    if (c->in_len + len > IN_MAX) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        return -1;
    }
    p = realloc(c->in, c->in_len + len + 1);
    if (p == NULL)
        return -1;
    c->in = p;
    memcpy(c->in + c->in_len, in, len);
    c->in_len += len;
    if (lws_is_final_fragment(wsi)) {
        client_message(s, c, c->in, c->in_len);
        c->in_len = 0;
    }
    return 0;
}

static void log_open(struct sim *s, struct conn *c, const struct query *q, const char *why)
{
    struct common_buf *b = slog_begin(s, "ws-open");

    if (b == NULL)
        return;
    log_conn(s, b, c);
    sbuf_json_kstr(b, "compress", query_get(q, "compress"));
    if (why != NULL)
        sbuf_json_kstr(b, "refused", why);
    slog_end(s, b);
}

static void established(struct sim *s, struct conn *c, struct lws *wsi)
{
    static char qbuf[16384]; /* one thread: a static buffer keeps the stack small */
    struct query q;
    const char *rid;
    uint32_t sess = 0;
    struct room *r = NULL;

    memset(c, 0, sizeof(*c));
    c->wsi = wsi;
    c->id = ++s->conn_ids;
    c->opened_ms = common_mono_ms();
    query_parse(wsi, qbuf, sizeof(qbuf), &q);
    rid = query_get(&q, "room_id");
    if (rid != NULL)
        r = sim_room_by_id(s, strtoll(rid, NULL, 10), &sess);
    if (r == NULL || r->state != ROOM_LIVE || sess != r->cur) {
        c->close_code = r == NULL ? 1008 : 1000;
        c->close_reason = r == NULL ? "room not found" : "live ended";
        log_open(s, c, &q, c->close_reason);
        ws_kick(c);
        return;
    }
    room_attach(s, r, c);
    log_open(s, c, &q, NULL);
    ws_kick(c);
}

static int do_close(struct sim *s, struct conn *c, struct lws *wsi)
{
    (void)s;
    if (c->close_code < 0) {
        /* no close frame: the peer reads the end of the TCP stream after the frames already
           sent. Only the write side is shut: closing with unread client data (its acks) in
           our receive buffer would make the kernel send a reset, and a reset can destroy
           frames the peer has not read yet. The socket goes when the peer closes, or later. */
        if (!c->dropping) {
            shutdown(lws_get_socket_fd(wsi), SHUT_WR);
            c->dropping = true;
            lws_set_timer_usecs(wsi, 3 * LWS_USEC_PER_SEC);
        }
        return 0;
    }
    lws_close_reason(wsi, (enum lws_close_status)c->close_code,
                     (unsigned char *)(uintptr_t)(c->close_reason ? c->close_reason : ""),
                     c->close_reason ? strlen(c->close_reason) : 0);
    return -1;
}

static int write_frame(struct sim *s, struct lws *wsi, struct frame *f)
{
    if (lws_write(wsi, FRAME_DATA(f), f->len, LWS_WRITE_BINARY) < (int)f->len)
        return -1;
    s->bytes_out += f->len;
    return 0;
}

static void after_frame(struct sim *s, struct conn *c, const struct frame *f)
{
    const struct faults *ft = &c->room->f;

    c->frames++;
    c->need_acks += f->need_ack;
    if (s->log_frames) {
        struct common_buf *b = slog_begin(s, "ws-out");

        if (b != NULL) {
            log_conn(s, b, c);
            sbuf_json_kint(b, "seq", (int64_t)c->next_seq - 1);
            sbuf_json_kid(b, "log_id", f->log_id);
            sbuf_json_kint(b, "len", f->len);
            slog_end(s, b);
        }
    }
    if (ft->drop_after > 0 && c->frames >= (uint32_t)ft->drop_after && c->close_code == 0) {
        slog_fault(s, c->room, "drop after frames");
        c->close_code = -1;
        c->close_seq = c->next_seq;
    } else if (ft->close_after > 0 && c->frames >= (uint32_t)ft->close_after &&
               c->close_code == 0) {
        slog_fault(s, c->room, "close after frames");
        c->close_code = ft->close_code ? ft->close_code : 1000;
        c->close_reason = ft->close_reason;
        c->close_seq = c->next_seq;
    }
}

/* The endless_message fault: one binary message whose FIN never comes, 16 KiB a fragment for
   as long as the client reads (no control answer may cut into it). */
static int write_endless(struct sim *s, struct conn *c, struct lws *wsi)
{
    static unsigned char buf[LWS_PRE + ENDLESS_FRAG];
    int flags = c->endless_sent ? LWS_WRITE_CONTINUATION : LWS_WRITE_BINARY;

    if (c->endless_sent == 0)
        slog_fault(s, c->room, "endless message");
    if (lws_write(wsi, buf + LWS_PRE, ENDLESS_FRAG,
                  (enum lws_write_protocol)(flags | LWS_WRITE_NO_FIN)) < ENDLESS_FRAG)
        return -1;
    c->endless_sent += ENDLESS_FRAG;
    ws_kick(c);
    return 0;
}

static int writeable(struct sim *s, struct conn *c, struct lws *wsi)
{
    struct room *r = c->room;
    struct frame *f;
    uint64_t first;

    if (c->dropping)
        return 0;
    if (c->close_code != 0 && (r == NULL || c->next_seq >= c->close_seq))
        return do_close(s, c, wsi);
    if (r != NULL && r->f.endless_message)
        return write_endless(s, c, wsi);
    if (c->n_ctrl > 0) {
        f = c->ctrl[0];
        memmove(c->ctrl, c->ctrl + 1, --c->n_ctrl * sizeof(c->ctrl[0]));
        if (write_frame(s, wsi, f) != 0) {
            frame_unref(f);
            return -1;
        }
        frame_unref(f);
        c->answers++;
        ws_kick(c);
        return 0;
    }
    if (r == NULL || r->f.silent)
        return 0;
    if (r->load_due && c->next_seq >= r->ring_head)
        (void)load_flush(s, r); /* a frame it could not build is skipped, as a tick's was */
    f = room_frame_at(r, c->next_seq, &first);
    if (f == NULL && c->next_seq < first) {
        c->skipped += (uint32_t)(first - c->next_seq);
        c->next_seq = first;
        f = room_frame_at(r, c->next_seq, &first);
    }
    if (f == NULL)
        return 0;
    if (write_frame(s, wsi, f) != 0)
        return -1;
    if (f->built_us != 0) { /* how long its createTime ran before the write (GET /sim/status) */
        s->load_writes++;
        s->load_writes_late += load_now_us() - f->built_us > LOAD_LATE_US;
    }
    c->next_seq++;
    after_frame(s, c, f);
    if (c->next_seq < r->ring_head || c->close_code != 0 || r->load_due)
        ws_kick(c);
    return 0;
}

static void closed(struct sim *s, struct conn *c)
{
    struct common_buf *b = slog_begin(s, "ws-close");

    if (b != NULL) {
        log_conn(s, b, c);
        sbuf_json_kint(b, "frames", c->frames);
        sbuf_json_kint(b, "need_ack", c->need_acks);
        sbuf_json_kint(b, "acks", c->acks);
        sbuf_json_kint(b, "acks_unknown", c->acks_unknown);
        sbuf_json_kint(b, "heartbeats", c->hbs);
        sbuf_json_kint(b, "enter_room", c->enters);
        sbuf_json_kint(b, "answers", c->answers);
        sbuf_json_kint(b, "skipped", c->skipped);
        sbuf_json_kint(b, "peer_code", c->peer_code);
        sbuf_json_kint(b, "ms", common_mono_ms() - c->opened_ms);
        slog_end(s, b);
    }
    if (c->room != NULL)
        room_detach(s, c->room, c);
    for (uint32_t i = 0; i < c->n_ctrl; i++)
        frame_unref(c->ctrl[i]);
    c->n_ctrl = 0;
    free(c->in);
    c->in = NULL;
    c->wsi = NULL;
}

/* An ended room's connection: close once its last frames are out (or after END_WAIT_MS). A
   dropped one: the peer has had its time to notice. */
static int end_timer(struct conn *c)
{
    struct room *r = c->room;

    if (c->dropping)
        return -1;
    if (r == NULL || c->close_code != 0)
        return 0;
    if (c->next_seq < r->ring_head && common_mono_ms() - r->end_at_ms < END_WAIT_MS) {
        lws_set_timer_usecs(c->wsi, 200 * 1000);
        return 0;
    }
    c->close_code = 1000;
    c->close_reason = "live ended";
    c->close_seq = c->next_seq;
    ws_kick(c);
    return 0;
}

int ws_callback(struct lws *wsi, int reason, void *user, void *in, size_t len)
{
    struct conn *c = user;
    struct sim *s = sim_of(wsi);

    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return http_confirm_upgrade(wsi);
    case LWS_CALLBACK_ADD_HEADERS:
        return http_upgrade_headers(wsi, in);
    case LWS_CALLBACK_ESTABLISHED:
        established(s, c, wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return receive(s, c, wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return writeable(s, c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2)
            c->peer_code = ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1];
        return 0;
    case LWS_CALLBACK_TIMER:
        return end_timer(c);
    case LWS_CALLBACK_CLOSED:
        closed(s, c);
        return 0;
    default:
        return 0;
    }
}
