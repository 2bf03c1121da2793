/** @file frame.c
 * Messages -> ProtoMessageFetchResult -> (gzip) -> WebcastPushFrame, as TikTok's push server
 * frames them (docs/protocol.md §7.1): seqId and logId increase per room, service 8888 and
 * method 8 as in the captured frame, headers compress_type / im-cursor / im-internal_ext /
 * im-now, payloadEncoding "pb", payloadType "msg". The same fetch result, unwrapped and with the
 * push server URL and route params, is the body of `im/fetch` and of the sign server's
 * `connect`. Also here: the control frames the server sends (heartbeat and enter-room answers),
 * the faulty frames (gzip bomb), and the decoding of what clients send (heartbeat, ack,
 * enter-room), which only feeds the request log.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>
#include <zlib.h>

#include "enc.h"

#define BOMB_MAX ((size_t)1 << 30)

struct frame *frame_new(size_t len)
{
    struct frame *f;

    if (len > UINT32_MAX - SIM_LWS_PRE)
        return NULL;
    f = malloc(sizeof(*f) + SIM_LWS_PRE + len);
    if (f == NULL)
        return NULL;
    f->refs = 1;
    f->len = (uint32_t)len;
    f->log_id = 0;
    f->need_ack = false;
    f->built_us = 0;
    return f;
}

void frame_unref(struct frame *f)
{
    if (f != NULL && --f->refs == 0)
        free(f);
}

struct frame *frame_from_bytes(const void *p, size_t len)
{
    struct frame *f = frame_new(len);

    if (f != NULL && len > 0)
        memcpy(FRAME_DATA(f), p, len);
    return f;
}

static char *scratch_str(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *scratch_str(struct sim *s, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    return arena_strdup(&s->scratch, tmp);
}

static pb_bytes_array_t *scratch_bytes(struct sim *s, const void *p, size_t n)
{
    size_t size = PB_BYTES_ARRAY_T_ALLOCSIZE(n);
    pb_bytes_array_t *b;

    if (n > PB_SIZE_MAX)
        return NULL;
    /* at least the struct itself: UBSan checks the size store against the allocation */
    if (size < sizeof(pb_bytes_array_t))
        size = sizeof(pb_bytes_array_t);
    b = arena_alloc(&s->scratch, size);
    if (b == NULL)
        return NULL;
    b->size = (pb_size_t)n;
    if (n > 0)
        memcpy(b->bytes, p, n);
    return b;
}

/* Encodes into a new heap buffer (or into a frame when as_frame). */
static void *encode_alloc(const pb_msgdesc_t *desc, const void *msg, size_t *len, bool as_frame)
{
    size_t size = 0;
    struct frame *f = NULL;
    unsigned char *buf;
    pb_ostream_t os;

    if (!pb_get_encoded_size(&size, desc, msg))
        return NULL;
    if (as_frame) {
        f = frame_new(size);
        buf = f ? FRAME_DATA(f) : NULL;
    } else {
        buf = malloc(size ? size : 1);
    }
    if (buf == NULL)
        return NULL;
    os = pb_ostream_from_buffer(buf, size);
    if (!pb_encode(&os, desc, msg)) {
        if (as_frame)
            frame_unref(f);
        else
            free(buf);
        return NULL;
    }
    *len = os.bytes_written;
    return as_frame ? (void *)f : (void *)buf;
}

unsigned char *sim_encode(struct arena *a, const pb_msgdesc_t *desc, const void *msg, size_t *len)
{
    size_t size = 0;
    unsigned char *buf;
    pb_ostream_t os;

    if (!pb_get_encoded_size(&size, desc, msg))
        return NULL;
    buf = arena_alloc(a, size);
    if (buf == NULL)
        return NULL;
    os = pb_ostream_from_buffer(buf, size);
    if (!pb_encode(&os, desc, msg))
        return NULL;
    *len = os.bytes_written;
    return buf;
}

int gzip_bytes(struct sim *s, const unsigned char *in, size_t n, unsigned char **out,
               size_t *out_len)
{
    z_stream *z = s->z;
    size_t cap = n + n / 1000 + 64;
    unsigned char *buf;
    int rc;

    if (n > UINT32_MAX)
        return -1;
    buf = arena_alloc(&s->scratch, cap);
    if (buf == NULL || deflateReset(z) != Z_OK)
        return -1;
    z->next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const; it does not write */
    z->avail_in = (uInt)n;
    z->next_out = buf;
    z->avail_out = (uInt)cap;
    rc = deflate(z, Z_FINISH);
    if (rc != Z_STREAM_END)
        return -1;
    *out = buf;
    *out_len = cap - z->avail_out;
    return 0;
}

/* "<ms>_<room id>_<seq>_1_0_0": seq counts the session's messages up to this answer, which is
   where a polling im/fetch that sends the cursor back goes on (pages.c). */
static char *cursor_at(struct sim *s, struct room *r, uint64_t seq)
{
    return scratch_str(s, "%" PRId64 "_%" PRId64 "_%" PRIu64 "_1_0_0", common_wall_ms(),
                       room_cur_id(r), seq);
}

static char *cursor_str(struct sim *s, struct room *r)
{
    return cursor_at(s, r, r->poll_seq);
}

static char *internal_ext(struct sim *s, struct room *r)
{
    int64_t now = common_wall_ms();

    return scratch_str(s,
                       "internal_src:dim|wss_push_room_id:%" PRId64 "|wss_push_did:%" PRId64
                       "|first_req_ms:%" PRId64 "|fetch_time:%" PRId64 "|seq:%" PRId64
                       "|wss_info:0-%" PRId64 "-0-0",
                       room_cur_id(r), s->users[r->host].id ^ 0x5a5a5a5a, now, now, r->seq_id, now);
}

static TikTok_BaseProtoMessage *base_messages(struct sim *s, const struct msg_out *m, size_t n)
{
    TikTok_BaseProtoMessage *b = arena_alloc(&s->scratch, (n + 1) * sizeof(*b));

    if (b == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        b[i].method = arena_strdup(&s->scratch, m[i].method);
        b[i].payload = scratch_bytes(s, m[i].data, m[i].len);
        b[i].has_msgId = true;
        b[i].msgId = m[i].msg_id;
        if (b[i].method == NULL || b[i].payload == NULL)
            return NULL;
    }
    return b;
}

static TikTok_PushHeader *headers(struct sim *s, bool gzip, const char *cursor, const char *ext)
{
    TikTok_PushHeader *h = arena_alloc(&s->scratch, 4 * sizeof(*h));

    if (h == NULL)
        return NULL;
    h[0].key = arena_strdup(&s->scratch, "compress_type");
    h[0].value = arena_strdup(&s->scratch, gzip ? "gzip" : "none");
    h[1].key = arena_strdup(&s->scratch, "im-cursor");
    h[1].value = arena_strdup(&s->scratch, cursor);
    h[2].key = arena_strdup(&s->scratch, "im-internal_ext");
    h[2].value = arena_strdup(&s->scratch, ext);
    h[3].key = arena_strdup(&s->scratch, "im-now");
    h[3].value = scratch_str(s, "%" PRId64, common_wall_ms());
    return h;
}

/* The push frame around payload (already gzipped or not). */
static struct frame *push_frame(struct sim *s, struct room *r, const char *type,
                                const unsigned char *payload, size_t len, bool gzip,
                                const char *cursor, const char *ext)
{
    TikTok_WebcastPushFrame pf = TikTok_WebcastPushFrame_init_zero;
    struct frame *f;
    size_t flen = 0;

    r->seq_id++;
    r->log_id += 1 + (int64_t)(common_splitmix64(&s->rng) % 99991);
    pf.has_seqId = true;
    pf.seqId = r->seq_id;
    pf.has_logId = true;
    pf.logId = r->log_id;
    pf.has_service = true;
    pf.service = 8888;
    pf.has_method = true;
    pf.method = 8;
    if (cursor != NULL) {
        pf.headers = headers(s, gzip, cursor, ext);
        pf.headers_count = pf.headers ? 4 : 0;
    }
    pf.payloadEncoding = arena_strdup(&s->scratch, "pb");
    pf.payloadType = arena_strdup(&s->scratch, type);
    pf.payload = scratch_bytes(s, payload, len);
    if (pf.payloadEncoding == NULL || pf.payloadType == NULL || pf.payload == NULL)
        return NULL;
    f = encode_alloc(&TikTok_WebcastPushFrame_msg, &pf, &flen, true);
    if (f != NULL)
        f->log_id = r->log_id;
    return f;
}

struct frame *frame_msgs(struct sim *s, struct room *r, const struct msg_out *m, size_t n,
                         bool gzip)
{
    TikTok_ProtoMessageFetchResult res = TikTok_ProtoMessageFetchResult_init_zero;
    unsigned char *raw, *gz;
    size_t raw_len = 0, gz_len = 0;
    struct frame *f;

    res.messages = base_messages(s, m, n);
    if (res.messages == NULL)
        return NULL;
    res.messages_count = (pb_size_t)n;
    res.cursor = cursor_str(s, r);
    res.has_fetchInterval = true;
    res.fetchInterval = 0;
    res.has_now = true;
    res.now = common_wall_ms();
    res.internalExt = internal_ext(s, r);
    res.has_fetchType = true;
    res.fetchType = 1;
    res.has_needAck = r->need_ack;
    res.needAck = r->need_ack;
    raw = sim_encode(&s->scratch, &TikTok_ProtoMessageFetchResult_msg, &res, &raw_len);
    if (raw == NULL)
        return NULL;
    if (gzip && gzip_bytes(s, raw, raw_len, &gz, &gz_len) == 0) {
        raw = gz;
        raw_len = gz_len;
    } else {
        gzip = false;
    }
    f = push_frame(s, r, "msg", raw, raw_len, gzip, res.cursor, res.internalExt);
    if (f != NULL)
        f->need_ack = r->need_ack;
    return f;
}

struct frame *frame_control(struct sim *s, const char *type, int64_t log_id)
{
    TikTok_WebcastPushFrame pf = TikTok_WebcastPushFrame_init_zero;
    struct frame *f;
    size_t len = 0;

    pf.has_logId = log_id != 0;
    pf.logId = log_id;
    pf.payloadEncoding = arena_strdup(&s->scratch, "pb");
    pf.payloadType = arena_strdup(&s->scratch, type);
    if (pf.payloadEncoding == NULL || pf.payloadType == NULL)
        return NULL;
    f = encode_alloc(&TikTok_WebcastPushFrame_msg, &pf, &len, true);
    arena_reset(&s->scratch);
    return f;
}

/* A fetch result whose one string field inflates to `inflated` bytes: a gzip bomb that is
   still a valid message, so a client without caps inflates it all and then finds no events. */
struct frame *frame_gzip_bomb(struct sim *s, struct room *r, size_t inflated)
{
    static const unsigned char fill[4096] = { 0 };
    unsigned char head[16];
    size_t hl = 0, left, cap;
    unsigned char *out;
    z_stream *z = s->z;
    struct frame *f;
    uint64_t v;

    if (inflated > BOMB_MAX)
        inflated = BOMB_MAX;
    cap = inflated / 500 + 4096; /* deflate packs long runs about 1000:1 */
    v = inflated;
    /* field 12 (historyCommentCursor), wire type 2, then the length varint */
    head[hl++] = 12 << 3 | 2;
    do {
        head[hl++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
    out = malloc(cap);
    if (out == NULL || deflateReset(z) != Z_OK) {
        free(out);
        return NULL;
    }
    z->next_out = out;
    z->avail_out = (uInt)cap;
    z->next_in = head;
    z->avail_in = (uInt)hl;
    deflate(z, Z_NO_FLUSH);
    for (left = inflated; left > 0 && z->avail_out > 0;) {
        size_t n = left < sizeof(fill) ? left : sizeof(fill);

        /* the zero bytes are not valid text, but no client checks UTF-8 before it inflates */
        z->next_in = (Bytef *)(uintptr_t)fill;
        z->avail_in = (uInt)n;
        deflate(z, Z_NO_FLUSH);
        left -= n - z->avail_in;
    }
    deflate(z, Z_FINISH);
    f = push_frame(s, r, "msg", out, cap - z->avail_out, true, cursor_str(s, r),
                   internal_ext(s, r));
    free(out);
    arena_reset(&s->scratch);
    return f;
}

static TikTok_ProtoMessageFetchResult_RouteParamsEntry *route_params(struct sim *s, struct room *r)
{
    TikTok_ProtoMessageFetchResult_RouteParamsEntry *p = arena_alloc(&s->scratch, 2 * sizeof(*p));

    if (p == NULL)
        return NULL;
    p[0].key = arena_strdup(&s->scratch, "imprp");
    p[0].value = scratch_str(s, "sim-imprp-%016" PRIx64, sim_hash(r->handle));
    p[1].key = arena_strdup(&s->scratch, "wrss");
    p[1].value = scratch_str(s, "sim-wrss-%" PRId64, room_cur_id(r));
    return p;
}

/* The stable msgId of backlog event i: the same in every answer, so a client that deduplicates
   by msgId sees each backlog message once; below the live ids (main.c), so never one of them. */
static int64_t backlog_msg_id(const struct room *r, uint32_t i)
{
    return 7290000000000000000 + (room_cur_id(r) % 1000000000) * 10000 + (int64_t)(i % 10000);
}

/* A fetch result: cursor (at seq), internalExt, the push server and its route params, and the
   messages m. Heap-allocated (caller frees); resets the scratch arena. */
static unsigned char *fetch_body(struct sim *s, struct room *r, const struct msg_out *m, size_t n,
                                 uint64_t seq, bool initial, size_t *len)
{
    TikTok_ProtoMessageFetchResult res = TikTok_ProtoMessageFetchResult_init_zero;
    unsigned char *body = NULL;

    res.messages = base_messages(s, m, n);
    res.messages_count = res.messages ? (pb_size_t)n : 0;
    s->n_answer_ids = 0;
    for (size_t i = 0; i < n && i < POLL_MAX; i++)
        s->answer_ids[s->n_answer_ids++] = m[i].msg_id;
    if (!r->f.no_cursor)
        res.cursor = cursor_at(s, r, seq);
    res.has_fetchInterval = true;
    res.fetchInterval = 1000;
    res.has_now = true;
    res.now = common_wall_ms();
    res.internalExt = internal_ext(s, r);
    res.has_fetchType = true;
    res.fetchType = 1;
    res.routeParams = route_params(s, r);
    res.routeParams_count = res.routeParams ? 2 : 0;
    res.has_heartbeatDuration = true;
    res.heartbeatDuration = 10000;
    if (!r->f.no_push_server)
        res.pushServer =
                r->f.push_host == NULL
                        ? scratch_str(s, "%s/webcast/im/ws_proxy/ws_reuse_supplement/", s->ws_base)
                        : scratch_str(s, "%s://%s:%d/webcast/im/ws_proxy/ws_reuse_supplement/",
                                      s->tls_cert ? "wss" : "ws", r->f.push_host, s->port);
    res.has_isFirst = initial;
    res.isFirst = initial;
    if (res.internalExt != NULL)
        body = encode_alloc(&TikTok_ProtoMessageFetchResult_msg, &res, len, false);
    /* the backlog as a push frame in the dump, so that the oracle's decode.js sees it (polls
       answer messages whose frames are in the dump already) */
    if (body != NULL && n > 0 && initial && s->dump_dir != NULL) {
        struct frame *f = push_frame(s, r, "msg", body, *len, false, "", "");

        if (f != NULL)
            dump_frame(s, r, FRAME_DATA(f), f->len);
        frame_unref(f);
    }
    arena_reset(&s->scratch);
    return body;
}

/* The body of im/fetch and of the sign server's connect: the backlog, then (a streamer's
   `history`) the last messages the session already pushed, with their msgIds, as TikTok's
   backlog repeats recent messages to a client that reconnects; and a cursor at the session's
   last message. */
unsigned char *fetch_result(struct sim *s, struct room *r, bool initial, size_t *len)
{
    const struct session *ss = &r->sess[r->cur];
    struct msg_out m[POLL_MAX];
    size_t n = 0, hist = 0;
    uint64_t last;
    unsigned char *body;

    for (uint32_t i = 0; i < ss->n_ev && n < POLL_MAX; i++) {
        if (!(ss->ev[i].flags & EVF_BACKLOG))
            continue;
        s->fixed_msg_id = backlog_msg_id(r, i);
        if (enc_event(s, r, &ss->ev[i], &m[n]) == 0)
            n++;
        s->fixed_msg_id = 0;
    }
    if (r->history > 0 && r->poll != NULL && n < POLL_MAX)
        hist = room_poll_since(r, r->poll_seq > r->history ? r->poll_seq - r->history : 0, m + n,
                               POLL_MAX - n, &last);
    body = fetch_body(s, r, m, n + hist, r->poll_seq, initial, len);
    s->n_answer_history = (uint32_t)hist;
    return body;
}

/* The answer to a polling im/fetch whose cursor was at `after`: the messages emitted since (at
   most POLL_MAX; the next poll gets the rest), and a cursor at the last of them. */
unsigned char *fetch_poll(struct sim *s, struct room *r, uint64_t after, size_t *len)
{
    struct msg_out m[POLL_MAX];
    uint64_t seq;
    size_t n = room_poll_since(r, after, m, POLL_MAX, &seq);

    s->n_answer_history = 0;
    return fetch_body(s, r, m, n, seq, false, len);
}

/* ---- what clients send ---- */

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void parse_payload(const TikTok_WebcastPushFrame *pf, struct client_frame *cf)
{
    const pb_bytes_array_t *p = pf->payload;
    pb_istream_t is;

    if (p == NULL)
        return;
    if (strcmp(cf->type, "hb") == 0) {
        TikTok_HeartBeatMessage hb = TikTok_HeartBeatMessage_init_zero;

        is = pb_istream_from_buffer(p->bytes, p->size);
        if (pb_decode(&is, &TikTok_HeartBeatMessage_msg, &hb)) {
            cf->has_hb = true;
            cf->hb_room_id = hb.roomId;
            cf->hb_seq = hb.sendPacketSeqId;
        }
    } else if (strcmp(cf->type, "im_enter_room") == 0) {
        TikTok_WebcastImEnterRoomMessage er = TikTok_WebcastImEnterRoomMessage_init_zero;

        is = pb_istream_from_buffer(p->bytes, p->size);
        if (pb_decode(&is, &TikTok_WebcastImEnterRoomMessage_msg, &er)) {
            cf->has_enter = true;
            cf->enter_room_id = er.roomId;
            cf->enter_live_id = er.liveId;
            cf->enter_unique_id = er.enterUniqueId;
            copy_str(cf->enter_identity, sizeof(cf->enter_identity), er.identity);
            copy_str(cf->enter_filter, sizeof(cf->enter_filter), er.filterWelcomeMsg);
        }
        pb_release(&TikTok_WebcastImEnterRoomMessage_msg, &er);
    } else if (strcmp(cf->type, "ack") == 0) {
        size_t n = p->size < sizeof(cf->ack_payload) - 1 ? p->size : sizeof(cf->ack_payload) - 1;

        memcpy(cf->ack_payload, p->bytes, n);
        cf->ack_payload[n] = '\0';
    }
}

/* Decodes a client frame for the log. Clients are trusted test peers, but the input is still
   capped by the WebSocket layer (ws.c) before it gets here. */
void client_frame_parse(const unsigned char *p, size_t len, struct client_frame *cf)
{
    TikTok_WebcastPushFrame pf = TikTok_WebcastPushFrame_init_zero;
    pb_istream_t is = pb_istream_from_buffer(p, len);

    memset(cf, 0, sizeof(*cf));
    if (!pb_decode(&is, &TikTok_WebcastPushFrame_msg, &pf)) {
        pb_release(&TikTok_WebcastPushFrame_msg, &pf);
        return;
    }
    cf->decoded = true;
    copy_str(cf->type, sizeof(cf->type), pf.payloadType);
    cf->log_id = pf.has_logId ? pf.logId : 0;
    parse_payload(&pf, cf);
    pb_release(&TikTok_WebcastPushFrame_msg, &pf);
}
