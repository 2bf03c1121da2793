/** @file client_int.h
 * Private definition of struct tt_client and the connector's internal API (room.c, sign.c,
 * ws.c, encode.c, dedup.c, client.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_CLIENT_INT_H
#define TT_CLIENT_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "buf.h"
#include "device.h"
#include "gifts.h"
#include "http.h"
#include "params.h"
#include "tt.h"

struct tt_ws; /* ws.c */

/* Recently seen msgIds: an open-addressed set with FIFO eviction (dedup.c). */
struct tt_dedup {
    uint64_t *ring; /* the ids in insertion order, for eviction */
    uint32_t *set;  /* 2x cap: ring position + 2; 0 = empty slot, 1 = tombstone */
    size_t window;  /* ids to remember; the tables hold cap of them and grow up to it */
    size_t cap, head, count, gone;
};

struct tt_client {
    char unique_id[64];
    struct tt_options o; /* its strings point into `strs` */
    char *strs;
    tt_event_fn cb;
    void *ud;
    tt_log_fn log_fn;
    enum tt_log_level log_max;
    void *log_ud;
    tt_raw_fn raw_fn; /* tt_client_set_raw_hook */
    void *raw_ud;

    struct tt_http http;
    struct tt_params params; /* HTTP client parameters (defaults + client_params) */
    struct tt_decoder *dec;

    char room_id[32];
    char *room_info;       /* JSON text of room/info's data */
    struct tt_gifts gifts; /* gift/list's data.gifts; the decoder reads it for gift events */

    /* connection data (from the initial fetch) */
    struct common_buf fetch; /* its body, decoded again when the initial messages go out */
    char *cursor, *internal_ext, *push_server;
    struct tt_params route; /* its route params */
    int need_ack;
    int64_t fetch_interval;

    int connected, upgraded, polling, stream_ended;
    int warned_insecure; /* allow_insecure is said once, at the first connect */
    uint64_t dup_msg;    /* msgId of the last duplicate, for its follow/share companions */
    atomic_int stop;
    struct tt_ws *ws;
    /* tt_client_stop() runs on another thread: it may wake the WebSocket's event loop only
     * while that loop exists. `wake_ctx` is the loop (an lws_context), set and cleared under
     * `wake_lock` around its creation and destruction */
    pthread_mutex_t wake_lock;
    void *wake_ctx;
    uint64_t next_poll_ms;
    unsigned poll_failures;
    int poll_undecodable; /* the last poll's answer came, but could not be decoded */
    struct tt_dedup dedup;
    struct common_buf evjson; /* the JSON of the connection's own events */

    struct tt_direct d; /* the direct path and auto's choice (direct.c) */

    enum tt_err last_err;
    unsigned retry_after;
    int limited_by_tiktok; /* the last 429 was TikTok's own, not the sign server's */
    char errmsg[512];
};

/* client.c */
void tt__client_err(tt_client *c, enum tt_err e, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void tt__client_log(tt_client *c, enum tt_log_level l, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/** A URL on one of the bases: base + path + "?" + client params (+ extra "&k=v"). */
char *tt__client_url(tt_client *c, const char *base, const char *path, const char *extra);
/** Deliver decoded events: dedup, extendedGiftInfo, stream end. */
void tt__client_on_event(const struct tt_event *ev, void *ud);
uint64_t tt__now_ms(void);
/** Pass a frame to the raw hook, if any: a push frame as is, a fetch answer wrapped. */
void tt__client_raw(tt_client *c, enum tt_raw_source src, const void *p, size_t n);

/* room.c */
enum tt_err tt__room_resolve(tt_client *c);
enum tt_err tt__room_info(tt_client *c);
enum tt_err tt__room_gifts(tt_client *c);

/* sign.c: fills c->fetch, c->cursor, c->push_server, ... */
/** The session_id option's cookies into the jar: every request to TikTok carries them (1.x
 *  sets them in its constructor: room/info of an 18+ room needs them too). */
enum tt_err tt__session_cookies(tt_client *c);
enum tt_err tt__sign_fetch(tt_client *c);
/** Unsigned im/fetch with the cursor, for polling; events delivered. */
enum tt_err tt__poll_once(tt_client *c);
/** Decode c->fetch's connection data (no events) into the client. */
enum tt_err tt__take_connection_data(tt_client *c);

/* direct.c */
enum tt_err tt__direct_init(tt_client *c);
void tt__direct_free(tt_client *c);
/** Choose this connect's flow; 1 if it is the direct path. */
int tt__direct_pick(tt_client *c);
/** A device (lent or minted) and the room id. */
enum tt_err tt__direct_prepare(tt_client *c);
/** The push edge's URL as c->push_server; no cursor, no backlog. */
enum tt_err tt__direct_push(tt_client *c);
/** A refused upgrade: DEVICE_BLOCKED gives the device up and becomes TT_ERR_DEVICE_BLOCKED. */
enum tt_err tt__direct_refused(tt_client *c, enum tt_err rc);
/** The signed flows' User-Agent (the user_agent option) back on HTTP requests. */
void tt__direct_signed_ua(tt_client *c);
/** auto: 1 if a direct failure `rc` means "use a signed flow now" (and records why). */
int tt__direct_fallback(tt_client *c, enum tt_err rc);
/** The flow the sign step takes: the option, or auto's fallback (session when a session id
 *  was given, else euler). */
enum tt_sign_flow tt__signed_flow(const tt_client *c);
/** A connection ended: a young direct socket gives its device up; a silent one falls back. */
void tt__direct_ended(tt_client *c, enum tt_err why, int frames);
/** The device's User-Agent on the direct path, else NULL. */
const char *tt__direct_ua(const tt_client *c);
enum tt_err tt__direct_ws_query(tt_client *c, struct common_buf *q);
/** "name:", "value" pairs, NULL-terminated: the direct path's extra handshake headers. */
const char *const *tt__direct_ws_headers(void);

/* ws.c */
enum tt_err tt__ws_open(tt_client *c);
/** Service for up to timeout_ms; returns TT_OK or why the socket is gone. */
enum tt_err tt__ws_service(tt_client *c, int timeout_ms);
/** Frames received on the current socket. */
int tt__ws_frames(const tt_client *c);
void tt__ws_close(tt_client *c);
void tt__ws_wake(tt_client *c);

/* encode.c: outgoing frames (client -> server), encoded with our nanopb schema; the incoming
 * ones are read by decode.c */
enum tt_err tt__encode_heartbeat(struct common_buf *out, uint64_t room_id, uint64_t seq);
enum tt_err tt__encode_enter_room(struct common_buf *out, uint64_t room_id, uint64_t unique);
enum tt_err tt__encode_ack(struct common_buf *out, uint64_t log_id, const char *internal_ext);
/** A fetch answer (ProtoMessageFetchResult) as the push frame a server would send it in. */
enum tt_err tt__encode_wrap_result(struct common_buf *out, const uint8_t *result, size_t n);

/* dedup.c */
enum tt_err tt__dedup_init(struct tt_dedup *d, size_t window);
void tt__dedup_free(struct tt_dedup *d);
/** 1 if id was seen (0 is never a duplicate); remembers it otherwise. */
int tt__dedup_seen(struct tt_dedup *d, uint64_t id);
/** The newest ids remembered, at most `cap`, oldest first, into `out`; returns how many. */
size_t tt__dedup_recent(const struct tt_dedup *d, uint64_t *out, size_t cap);

#endif
