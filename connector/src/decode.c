/** @file decode.c
 * Incoming frames (the outgoing ones are encode.c's): push frame -> (gzip) -> fetch result ->
 * messages -> decoders -> events.
 *
 *   WebcastPushFrame: seqId 1, logId 2, payloadEncoding 6, payloadType 7, payload 8
 *   ProtoMessageFetchResult: messages 1, cursor 2, fetchInterval 3, now 4, internalExt 5,
 *       routeParams 7 ({key 1, value 2}), heartbeatDuration 8, needAck 9, pushServer 10
 *   BaseProtoMessage: method 1, payload 2
 *
 * Only payloadType "msg" carries a fetch result (1.x and 2.x agree); "hb", "ack" and the
 * enter-room answer decode to no events. Each level is scanned whole before anything is
 * emitted, so a frame either fails before its first event or not at all; inside a good frame a
 * bad message costs that message alone.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdio.h>

#include "alloc.h"
#include "dec.h"
#include "tt_int.h"

static const struct {
    const char *method;
    size_t len;
    tt_dec_fn fn;
} decoders[] = {
#define TT_EVENT(type, name, m, f, file) { m, sizeof(m) - 1, tt__dec_##f },
#define TT_EVENT_ALSO(type, name, file)
#include "events.h"
#undef TT_EVENT
#undef TT_EVENT_ALSO
};

static void set_err(struct tt_decoder *d, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void set_err(struct tt_decoder *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->errmsg, sizeof d->errmsg, fmt, ap);
    va_end(ap);
}

enum tt_err tt_decoder_new(struct tt_decoder **out, const struct tt_limits *limits)
{
    struct tt_decoder *d = tt__calloc(1, sizeof *d);
    if (!out) {
        tt__free(d);
        return TT_ERR_INVAL;
    }
    *out = NULL;
    if (!d) {
        return TT_ERR_NOMEM;
    }
    if (limits) {
        d->lim = *limits;
    }
    if (!d->lim.max_frame_bytes) {
        d->lim.max_frame_bytes = (size_t)1 << 20;
    }
    if (!d->lim.max_inflate_bytes) {
        d->lim.max_inflate_bytes = (size_t)8 << 20;
    }
    if (!d->lim.max_ratio) {
        d->lim.max_ratio = 200;
    }
    if (!d->lim.max_json_bytes) {
        d->lim.max_json_bytes = (size_t)4 << 20;
    }
    tt__buf_init(&d->inflated, d->lim.max_inflate_bytes + 1);
    tt__buf_init(&d->json, d->lim.max_json_bytes);
    tt__buf_init(&d->end_json, d->lim.max_json_bytes);
    tt__buf_init(&d->strs, d->lim.max_frame_bytes + d->lim.max_inflate_bytes + 4096);
    tt__buf_init(&d->method, 256);
    if (tt__gzip_new(&d->gz)) {
        tt__free(d);
        return TT_ERR_NOMEM;
    }
    *out = d;
    return TT_OK;
}

void tt_decoder_free(struct tt_decoder *d)
{
    if (!d) {
        return;
    }
    tt__gzip_free(d->gz);
    common_buf_free(&d->inflated);
    common_buf_free(&d->json);
    common_buf_free(&d->end_json);
    common_buf_free(&d->strs);
    common_buf_free(&d->method);
    tt__free(d);
}

void tt__decoder_set_gifts(struct tt_decoder *d, const struct tt_gifts *gifts)
{
    d->gifts = gifts;
}

const char *tt_decoder_errmsg(const struct tt_decoder *d)
{
    return d ? d->errmsg : "";
}

int tt__emit(struct dec *x, struct tt_event *ev, enum tt_event_type type)
{
    const char *json = common_buf_cstr(x->json);
    if (!json) {
        return -1;
    }
    ev->type = type;
    ev->name = tt_event_type_name(type);
    ev->method = x->method;
    ev->raw = x->raw.p;
    ev->raw_len = x->raw.n;
    ev->json = json;
    ev->json_len = x->json->len;
    x->n_events++;
    if (x->cb) {
        x->cb(ev, x->ud);
    }
    return 0;
}

static tt_dec_fn find_decoder(const char *method, size_t n)
{
    for (size_t i = 0; i < sizeof decoders / sizeof decoders[0]; i++) {
        if (decoders[i].len == n && !memcmp(decoders[i].method, method, n)) {
            return decoders[i].fn;
        }
    }
    return NULL;
}

/* rawData {"type": method, "binary": base64} for a message type we do not know. */
static int emit_raw(struct dec *x)
{
    struct tt_event ev = { 0 };
    struct jw w;
    common_buf_reset(x->json);
    jw_open(&w, x->json, '{');
    JK(&w, "type");
    jw_cstr(&w, x->method);
    JK(&w, "binary");
    tt__json_base64(w.b, x->raw.p, x->raw.n);
    jw_close(&w, '}');
    return tt__emit(x, &ev, TT_EV_RAW_DATA);
}

/* error {"info", "method", "exception"}: this message was lost, the frame goes on. */
static int emit_decode_error(struct dec *x, const char *why)
{
    struct tt_event ev = { 0 };
    struct jw w;
    common_buf_reset(x->json);
    jw_open(&w, x->json, '{');
    JK(&w, "info");
    jw_cstr(&w, "Message decoding failed");
    JK(&w, "method");
    jw_cstr(&w, x->method);
    JK(&w, "exception");
    jw_cstr(&w, why);
    jw_close(&w, '}');
    if (x->json->err) { /* no memory even for this: say so with a static text */
        static const char oom[] = "{\"info\":\"Message decoding failed\",\"exception\":"
                                  "\"out of memory\"}";
        ev.type = TT_EV_DECODE_ERROR;
        ev.name = tt_event_type_name(ev.type);
        ev.method = x->method;
        ev.raw = x->raw.p;
        ev.raw_len = x->raw.n;
        ev.json = oom;
        ev.json_len = sizeof oom - 1;
        x->n_events++;
        if (x->cb) {
            x->cb(&ev, x->ud);
        }
        return 0;
    }
    return tt__emit(x, &ev, TT_EV_DECODE_ERROR);
}

/* Decode one message; its outcome is counted in `info`. Returns TT_ERR_NOMEM when the message
 * was lost to a failed allocation (the caller reports it after the frame's other messages). */
static enum tt_err dispatch(struct tt_decoder *d, struct pb_slice method, struct pb_slice payload,
                            struct tt_frame_info *info, tt_event_fn cb, void *ud)
{
    struct dec x = { cb, ud, NULL, payload, &d->json, 0, d->gifts, &d->end_json };
    enum tt_err lost = TT_OK;
    common_buf_reset(&d->method);
    common_buf_add(&d->method, method.p, method.n < 255 ? method.n : 255);
    x.method = common_buf_cstr(&d->method);
    tt_dec_fn fn = find_decoder((const char *)method.p, method.n);
    if (!x.method) {
        x.method = "";
        lost = TT_ERR_NOMEM;
    }
    if (!fn) {
        info->n_unknown_messages++;
        emit_raw(&x);
    } else {
        common_buf_reset(&d->json);
        if (fn(&x)) {
            info->n_bad_messages++;
            enum tt_err e = tt__buf_err(&d->json);
            lost = e == TT_ERR_NOMEM ? e : lost;
            emit_decode_error(&x, e ? tt_strerror(e) : "malformed protobuf");
        }
    }
    info->n_events += x.n_events;
    return lost;
}

/* ---- frame info strings ---- */

struct str_slot {
    const char **dst;
    struct pb_slice s;
};

/* Copy every slot into d->strs with a NUL each, then point the slots at the copies. */
static enum tt_err intern_all(struct tt_decoder *d, struct str_slot *slots, size_t n)
{
    size_t total = 0, off = 0;
    for (size_t i = 0; i < n; i++) {
        total += slots[i].s.n + 1;
    }
    common_buf_trim(&d->strs, TT_BUF_KEEP); /* the last call's strings are done with now */
    if (common_buf_grow(&d->strs, total)) {
        return tt__buf_err(&d->strs);
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(d->strs.p + off, slots[i].s.p, slots[i].s.n);
        d->strs.p[off + slots[i].s.n] = '\0';
        *slots[i].dst = d->strs.p + off;
        off += slots[i].s.n + 1;
    }
    d->strs.len = off;
    return TT_OK;
}

enum {
    R_CURSOR,
    R_FETCH_INTERVAL,
    R_NOW,
    R_INTERNAL_EXT,
    R_ROUTE,
    R_HEARTBEAT,
    R_NEED_ACK,
    R_PUSH_SERVER,
    R_N
};
static const struct pb_desc result_desc[R_N] = {
    [R_CURSOR] = { TT_TAG(ProtoMessageFetchResult, cursor), PB_LEN },
    [R_FETCH_INTERVAL] = { TT_TAG(ProtoMessageFetchResult, fetchInterval), PB_INT },
    [R_NOW] = { TT_TAG(ProtoMessageFetchResult, now), PB_INT },
    [R_INTERNAL_EXT] = { TT_TAG(ProtoMessageFetchResult, internalExt), PB_LEN },
    [R_ROUTE] = { TT_TAG(ProtoMessageFetchResult, routeParams), PB_REP },
    [R_HEARTBEAT] = { TT_TAG(ProtoMessageFetchResult, heartbeatDuration), PB_INT },
    [R_NEED_ACK] = { TT_TAG(ProtoMessageFetchResult, needAck), PB_INT },
    [R_PUSH_SERVER] = { TT_TAG(ProtoMessageFetchResult, pushServer), PB_LEN },
};

enum { PF_SEQ, PF_LOG, PF_ENCODING, PF_TYPE, PF_PAYLOAD, PF_N };
static const struct pb_desc frame_desc[PF_N] = {
    [PF_SEQ] = { TT_TAG(WebcastPushFrame, seqId), PB_INT },
    [PF_LOG] = { TT_TAG(WebcastPushFrame, logId), PB_INT },
    [PF_ENCODING] = { TT_TAG(WebcastPushFrame, payloadEncoding), PB_LEN },
    [PF_TYPE] = { TT_TAG(WebcastPushFrame, payloadType), PB_LEN },
    [PF_PAYLOAD] = { TT_TAG(WebcastPushFrame, payload), PB_LEN },
};

static const struct pb_desc kv_desc[2] = {
    { TT_TAG(ProtoMessageFetchResult_RouteParamsEntry, key), PB_LEN },
    { TT_TAG(ProtoMessageFetchResult_RouteParamsEntry, value), PB_LEN }
};
static const struct pb_desc message_desc[2] = { { TT_TAG(BaseProtoMessage, method), PB_LEN },
                                                { TT_TAG(BaseProtoMessage, payload), PB_LEN } };

/* Route params and the result's strings into `slots`; returns the number of slots used. */
static size_t result_slots(const struct pb_msg *r, struct tt_frame_info *info,
                           struct str_slot *slots)
{
    size_t n = 0;
    struct pb_iter it;
    struct pb_slice e;
    struct pb_msg kv;
    slots[n++] = (struct str_slot){ &info->cursor, pb_s(r, R_CURSOR) };
    slots[n++] = (struct str_slot){ &info->internal_ext, pb_s(r, R_INTERNAL_EXT) };
    slots[n++] = (struct str_slot){ &info->push_server, pb_s(r, R_PUSH_SERVER) };
    tt__pb_iter_init(&it, r->self, TT_TAG(ProtoMessageFetchResult, routeParams));
    while (info->n_route_params < TT_MAX_ROUTE_PARAMS && tt__pb_iter_next(&it, &e)) {
        if (tt__pb_scan(&kv, kv_desc, 2, e.p, e.n)) {
            continue; /* a broken pair is not worth the frame */
        }
        struct tt_route_param *p = &info->route_params[info->n_route_params++];
        slots[n++] = (struct str_slot){ &p->name, pb_s(&kv, 0) };
        slots[n++] = (struct str_slot){ &p->value, pb_s(&kv, 1) };
    }
    return n;
}

#define MAX_SLOTS (5 + 2 * TT_MAX_ROUTE_PARAMS)

/* A fetch result: validate, fill `info`, then dispatch each message. `frame_slots` are the push
 * frame's strings, interned together with the result's. */
static enum tt_err decode_result(struct tt_decoder *d, const uint8_t *p, size_t n,
                                 struct tt_frame_info *info, struct str_slot *slots, size_t ns,
                                 tt_event_fn cb, void *ud)
{
    struct pb_msg r, m;
    struct pb_iter it;
    struct pb_slice e;
    if (tt__pb_scan(&r, result_desc, R_N, p, n)) {
        set_err(d, "fetch result: malformed protobuf");
        return TT_ERR_PROTO;
    }
    info->has_result = 1;
    info->need_ack = pb_u(&r, R_NEED_ACK) != 0;
    info->fetch_interval = pb_i(&r, R_FETCH_INTERVAL);
    info->now = pb_i(&r, R_NOW);
    info->heartbeat_duration = pb_i(&r, R_HEARTBEAT);
    ns += result_slots(&r, info, slots + ns);
    enum tt_err rc = intern_all(d, slots, ns);
    if (rc) {
        set_err(d, "frame info: %s", tt_strerror(rc));
        return rc;
    }
    enum tt_err lost = TT_OK;
    tt__pb_iter_init(&it, r.self, TT_TAG(ProtoMessageFetchResult, messages));
    while (tt__pb_iter_next(&it, &e)) {
        info->n_messages++;
        if (tt__pb_scan(&m, message_desc, 2, e.p, e.n)) {
            struct dec x = { cb, ud, "", e, &d->json, 0, d->gifts, &d->end_json };
            info->n_bad_messages++;
            emit_decode_error(&x, "malformed message envelope");
            info->n_events += x.n_events;
            continue;
        }
        if (dispatch(d, pb_s(&m, 0), pb_s(&m, 1), info, cb, ud)) {
            lost = TT_ERR_NOMEM;
        }
    }
    if (lost) {
        set_err(d, "a message was lost: %s", tt_strerror(lost));
    }
    return lost;
}

static void info_reset(struct tt_frame_info *info)
{
    memset(info, 0, sizeof *info);
    info->payload_type = info->payload_encoding = "";
    info->cursor = info->internal_ext = info->push_server = "";
}

/* What a decode call checks and resets first: its arguments, the frame info (the caller's,
 * or `local` when it passed none) and the last error text; -1 for invalid arguments. */
static int begin_call(struct tt_decoder *d, const void *buf, size_t len,
                      struct tt_frame_info **info, struct tt_frame_info *local)
{
    if (!d || (!buf && len)) {
        return -1;
    }
    *info = *info ? *info : local;
    info_reset(*info);
    d->errmsg[0] = '\0';
    return 0;
}

/* After each call: the events' data was borrowed for their callbacks only, so a frame that
 * needed large buffers gives them back now (d->strs, which the caller's tt_frame_info points
 * into, waits for the next call: intern_all). */
static enum tt_err end_call(struct tt_decoder *d, enum tt_err rc)
{
    common_buf_trim(&d->inflated, TT_BUF_KEEP);
    common_buf_trim(&d->json, TT_BUF_KEEP);
    common_buf_trim(&d->end_json, TT_BUF_KEEP);
    return rc;
}

static enum tt_err decode_frame(struct tt_decoder *d, const void *buf, size_t len,
                                struct tt_frame_info *info, tt_event_fn cb, void *ud)
{
    struct tt_frame_info local;
    struct str_slot slots[MAX_SLOTS];
    struct pb_msg f;
    if (begin_call(d, buf, len, &info, &local)) {
        return TT_ERR_INVAL;
    }
    if (len > d->lim.max_frame_bytes) {
        set_err(d, "frame of %zu bytes is over max_frame_bytes %zu", len, d->lim.max_frame_bytes);
        return TT_ERR_TOO_LARGE;
    }
    if (tt__pb_scan(&f, frame_desc, PF_N, buf, len)) {
        set_err(d, "push frame: malformed protobuf");
        return TT_ERR_PROTO;
    }
    info->seq_id = pb_u(&f, PF_SEQ);
    info->log_id = pb_u(&f, PF_LOG);
    slots[0] = (struct str_slot){ &info->payload_type, pb_s(&f, PF_TYPE) };
    slots[1] = (struct str_slot){ &info->payload_encoding, pb_s(&f, PF_ENCODING) };
    struct pb_slice type = pb_s(&f, PF_TYPE), payload = pb_s(&f, PF_PAYLOAD);
    if (type.n != 3 || memcmp(type.p, "msg", 3)) {
        enum tt_err rc = intern_all(d, slots, 2);
        return rc; /* heartbeats, acks, enter-room answers: no events */
    }
    if (tt__gzip_is(payload.p, payload.n)) {
        info->compressed = 1;
        enum tt_err rc = tt__gzip_inflate(d->gz, payload.p, payload.n, &d->inflated,
                                          d->lim.max_inflate_bytes, d->lim.max_ratio);
        if (rc) {
            set_err(d, "gzip payload: %s", tt_strerror(rc));
            return rc;
        }
        payload.p = (const uint8_t *)d->inflated.p;
        payload.n = d->inflated.len;
    }
    return decode_result(d, payload.p, payload.n, info, slots, 2, cb, ud);
}

enum tt_err tt_decode_frame(struct tt_decoder *d, const void *buf, size_t len,
                            struct tt_frame_info *info, tt_event_fn cb, void *ud)
{
    enum tt_err rc = decode_frame(d, buf, len, info, cb, ud);
    return d ? end_call(d, rc) : rc;
}

enum tt_err tt_decode_fetch_result(struct tt_decoder *d, const void *buf, size_t len,
                                   struct tt_frame_info *info, tt_event_fn cb, void *ud)
{
    struct tt_frame_info local;
    struct str_slot slots[MAX_SLOTS];
    if (begin_call(d, buf, len, &info, &local)) {
        return TT_ERR_INVAL;
    }
    if (len > d->lim.max_inflate_bytes) {
        set_err(d, "fetch result of %zu bytes is over max_inflate_bytes", len);
        return TT_ERR_TOO_LARGE;
    }
    return end_call(d, decode_result(d, buf, len, info, slots, 0, cb, ud));
}

enum tt_err tt_decode_message(struct tt_decoder *d, const char *method, const void *buf, size_t len,
                              tt_event_fn cb, void *ud)
{
    struct tt_frame_info info;
    if (!d || !method || (!buf && len)) {
        return TT_ERR_INVAL;
    }
    d->errmsg[0] = '\0';
    if (len > d->lim.max_frame_bytes) {
        set_err(d, "message of %zu bytes is over max_frame_bytes", len);
        return TT_ERR_TOO_LARGE;
    }
    info_reset(&info);
    struct pb_slice m = { (const uint8_t *)method, strlen(method) };
    struct pb_slice p = { len ? buf : (const uint8_t *)"", len };
    enum tt_err rc = TT_OK;
    if (dispatch(d, m, p, &info, cb, ud)) {
        set_err(d, "%s: %s", method, tt_strerror(TT_ERR_NOMEM));
        rc = TT_ERR_NOMEM;
    } else if (info.n_bad_messages) {
        set_err(d, "%s: malformed message", method);
        rc = TT_ERR_PROTO;
    }
    return end_call(d, rc);
}
