/** @file tt.h
 * libtiktok: the public API of the TikTok LIVE (Webcast) connector.
 *
 * This header is the whole contract; nothing under connector/src is public. It includes no
 * third-party header. The decoder part is network-free: it turns one WebSocket push frame (or one
 * bare Webcast message) into events whose data is the JSON object tiktok-live-connector 1.2.3
 * emits, with the deviations listed in the README (exact integers, defaults always present).
 *
 * Threads: a struct tt_decoder is not thread-safe; use one per thread. Different decoders share
 * nothing and may run in parallel.
 *
 * Memory: everything an event points to is BORROWED and valid only until the callback returns.
 * Copy what you keep.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_H
#define TT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TT_API __attribute__((visibility("default")))
#else
#define TT_API
#endif

/** Error codes. 0 is success, so `if (rc)` works. New codes are only ever appended. */
enum tt_err {
    TT_OK = 0,
    TT_ERR_NOMEM,     /**< an allocation failed */
    TT_ERR_INVAL,     /**< bad argument */
    TT_ERR_TOO_LARGE, /**< input or output over a configured cap */
    TT_ERR_GZIP,      /**< corrupt or truncated gzip payload */
    TT_ERR_GZIP_BOMB, /**< gzip payload inflates beyond the size or ratio cap */
    TT_ERR_PROTO,     /**< malformed protobuf (truncated, bad varint, bad length) */
    TT_ERR__COUNT     /**< not an error: number of codes */
};

/** Static, never NULL, for any value (unknown values give "unknown error"). */
TT_API const char *tt_strerror(enum tt_err err);

/** Event types. Names (tt_event_type_name) are stable and used as MQTT topic levels. */
enum tt_event_type {
    TT_EV_NONE = 0,
    /* the 1.x events (webcast-protocol.md §9.1) */
    TT_EV_CHAT,            /**< "chat" */
    TT_EV_MEMBER,          /**< "member" */
    TT_EV_GIFT,            /**< "gift" */
    TT_EV_ROOM_USER,       /**< "roomUser" */
    TT_EV_LIKE,            /**< "like" */
    TT_EV_SOCIAL,          /**< "social" (always, then follow/share as 1.x does) */
    TT_EV_FOLLOW,          /**< "follow" */
    TT_EV_SHARE,           /**< "share" */
    TT_EV_QUESTION_NEW,    /**< "questionNew" */
    TT_EV_LINK_MIC_BATTLE, /**< "linkMicBattle" */
    TT_EV_LINK_MIC_ARMIES, /**< "linkMicArmies" */
    TT_EV_LIVE_INTRO,      /**< "liveIntro" */
    TT_EV_EMOTE,           /**< "emote" */
    TT_EV_ENVELOPE,        /**< "envelope" */
    TT_EV_SUBSCRIBE,       /**< "subscribe" */
    TT_EV_STREAM_END,      /**< "streamEnd": control action 3 or 4 */
    /* beyond 1.x, named as 2.x names them (webcast-protocol.md §9.2) */
    TT_EV_CONTROL_MESSAGE, /**< "controlMessage": every control action */
    TT_EV_ROOM_PIN,        /**< "roomPin" */
    TT_EV_POLL_MESSAGE,    /**< "pollMessage" */
    TT_EV_GOAL_UPDATE,     /**< "goalUpdate" */
    TT_EV_RANK_UPDATE,     /**< "rankUpdate" */
    TT_EV_ROOM_MESSAGE,    /**< "roomMessage" */
    TT_EV_BARRAGE,         /**< "barrage" */
    TT_EV_IN_ROOM_BANNER,  /**< "inRoomBanner" */
    TT_EV_CAPTION_MESSAGE, /**< "captionMessage" */
    TT_EV_IM_DELETE,       /**< "imDelete" */
    TT_EV_SYSTEM,          /**< "system" */
    /* not a Webcast message type */
    TT_EV_RAW_DATA,     /**< "rawData": a message of unknown type, method and bytes attached */
    TT_EV_DECODE_ERROR, /**< "error": one message could not be decoded; the others still are */
    TT_EV__COUNT        /**< not an event: number of types */
};

/** "chat", "roomUser", ...; "" for TT_EV_NONE or unknown values. Static, never NULL. */
TT_API const char *tt_event_type_name(enum tt_event_type type);

/** One decoded event. Every pointer is borrowed: valid until the callback returns. */
struct tt_event {
    enum tt_event_type type;
    const char *name;   /**< tt_event_type_name(type) */
    const char *method; /**< Webcast method, e.g. "WebcastChatMessage" (NUL-terminated) */
    uint64_t msg_id;    /**< common.msgId, 0 when absent: the key for deduplication */
    uint64_t user_id;   /**< the acting user's id, 0 when none */
    const char *json;   /**< the event's data object as JSON, NUL-terminated */
    size_t json_len;    /**< strlen(json) */
    const uint8_t *raw; /**< the message's protobuf payload */
    size_t raw_len;     /**< bytes at raw */
    union {             /**< typed summary of the fields a bridge aggregates */
        struct {
            int64_t gift_id, repeat_count, gift_type, diamond_count;
            int repeat_end; /**< 1 on the last event of a streak */
        } gift;
        struct {
            int64_t count, total;
        } like;
        struct {
            int64_t viewer_count;
        } room_user;
        struct {
            int64_t action;
        } control;
    } u;
};

/** Called once per event, in wire order. */
typedef void (*tt_event_fn)(const struct tt_event *ev, void *userdata);

/** Hard caps of one decoder. Zero in a field means the default. */
struct tt_limits {
    size_t max_frame_bytes;   /**< push frame or message size (default 1 MiB) */
    size_t max_inflate_bytes; /**< inflated payload size (default 8 MiB) */
    unsigned max_ratio;       /**< inflated/compressed ratio, checked past 1 MiB (default 200) */
    size_t max_json_bytes;    /**< JSON of one event (default 4 MiB) */
};

/** A route parameter of the fetch result (name/value pair appended to the WebSocket URL). */
struct tt_route_param {
    const char *name, *value;
};

#define TT_MAX_ROUTE_PARAMS 16

/** What one frame's transport layers said. Strings are NUL-terminated copies owned by the
 *  decoder, valid until its next decode call. Absent strings are "". */
struct tt_frame_info {
    uint64_t seq_id, log_id;      /**< push frame fields 1 and 2 (log_id is what acks echo) */
    const char *payload_type;     /**< "msg", "hb", "ack", "im_enter_room_resp", ... */
    const char *payload_encoding; /**< "pb" in 2.x-era frames, "" in 1.x-era ones */
    int compressed;               /**< the payload was gzip (detected by its magic bytes) */
    int has_result;               /**< a fetch result was decoded (payload_type "msg") */
    int need_ack;                 /**< fetch result field 9 */
    const char *cursor;           /**< fetch result field 2 */
    const char *internal_ext;     /**< fetch result field 5 */
    const char *push_server;      /**< fetch result field 10 (1.x: wsUrl) */
    int64_t fetch_interval, now, heartbeat_duration;
    size_t n_route_params; /**< entries used in route_params (extra ones dropped) */
    struct tt_route_param route_params[TT_MAX_ROUTE_PARAMS];
    size_t n_messages;         /**< messages in the fetch result */
    size_t n_events;           /**< events emitted for this frame */
    size_t n_bad_messages;     /**< messages that could not be decoded */
    size_t n_unknown_messages; /**< messages of unknown type (emitted as rawData) */
};

struct tt_decoder;

/** Make a decoder. `limits` may be NULL for the defaults. Returns TT_ERR_NOMEM or TT_OK. */
TT_API enum tt_err tt_decoder_new(struct tt_decoder **out, const struct tt_limits *limits);

/** Free a decoder; NULL is a no-op. */
TT_API void tt_decoder_free(struct tt_decoder *d);

/** Decode one binary WebSocket message (a push frame): gzip detected by its magic bytes,
 *  inflated within the caps, the fetch result's messages dispatched by method name, one
 *  callback per event. A malformed message costs that message alone (a TT_EV_DECODE_ERROR
 *  event says which); a malformed frame returns an error after the events decoded before the
 *  failure. `info` may be NULL. The events' data is the 1.x JSON (see the README). */
TT_API enum tt_err tt_decode_frame(struct tt_decoder *d, const void *buf, size_t len,
                                   struct tt_frame_info *info, tt_event_fn cb, void *userdata);

/** Same for a bare ProtoMessageFetchResult (the body of an HTTP im/fetch or sign-server call). */
TT_API enum tt_err tt_decode_fetch_result(struct tt_decoder *d, const void *buf, size_t len,
                                          struct tt_frame_info *info, tt_event_fn cb,
                                          void *userdata);

/** Decode one bare Webcast message (BaseProtoMessage.payload) of the given method. */
TT_API enum tt_err tt_decode_message(struct tt_decoder *d, const char *method, const void *buf,
                                     size_t len, tt_event_fn cb, void *userdata);

/** Detail of the last error of this decoder ("" if none). Valid until the next call. */
TT_API const char *tt_decoder_errmsg(const struct tt_decoder *d);

/** Library version string, e.g. "0.1.0". */
TT_API const char *tt_version(void);

#ifdef __cplusplus
}
#endif
#endif /* TT_H */
