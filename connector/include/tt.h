/** @file tt.h
 * libtiktok: the public API of the TikTok LIVE (Webcast) connector.
 *
 * This header is the whole contract; nothing under connector/src is public. It includes no
 * third-party header. The decoder part is network-free: it turns one WebSocket push frame (or one
 * bare Webcast message) into events whose data is the JSON object tiktok-live-connector 1.2.3
 * emits, with the deviations listed in docs/events.md (exact integers, defaults always present).
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
    /* the connection (tt_client) */
    TT_ERR_NOT_FOUND,       /**< no such TikTok user, or one that cannot go live */
    TT_ERR_OFFLINE,         /**< the user is not live now (or the LIVE has ended) */
    TT_ERR_AGE_RESTRICTED,  /**< room info refused: an 18+ room (a session id may help) */
    TT_ERR_BLOCKED,         /**< TikTok answered with a captcha or block page: IP or region */
    TT_ERR_RATE_LIMITED,    /**< a 429 of the sign server or of TikTok's im/fetch: wait
                             *   tt_client_retry_after() s */
    TT_ERR_SIGN_REFUSED,    /**< the sign server refused: API key missing or invalid, or plan */
    TT_ERR_SIGN,            /**< the sign server failed otherwise (unreachable, bad answer) */
    TT_ERR_NO_CURSOR,       /**< the initial fetch had no cursor: the signature was rejected */
    TT_ERR_WS_REFUSED,      /**< TikTok refused the WebSocket (its handshake message attached) */
    TT_ERR_NO_UPGRADE,      /**< no WebSocket offered or allowed, and polling is not possible */
    TT_ERR_CONNECTION_LOST, /**< the push connection dropped */
    TT_ERR_TIMEOUT,         /**< a request or the WebSocket handshake timed out */
    TT_ERR_HTTP,            /**< an HTTP request failed (status or transport), see the message */
    TT_ERR_STATE,           /**< not allowed in the current state (e.g. connect twice) */
    TT_ERR_UNSUPPORTED,     /**< an option this build cannot honour (SOCKS5 for the WebSocket) */
    TT_ERR_STALE,           /**< no frame for stale_timeout_s: the socket went silent, closed */
    TT_ERR_NO_TTWID,        /**< the direct path: TikTok issued no ttwid after ttwid_tries */
    TT_ERR_DEVICE_BLOCKED,  /**< the direct path: the device (ttwid + User-Agent) is blocked;
                                 the next connect mints a new one */
    TT_ERR__COUNT           /**< not an error: number of codes */
};

/** Static, never NULL, for any value (unknown values give "unknown error"). */
TT_API const char *tt_strerror(enum tt_err err);

/** A stable snake-case name of the code, for machines ("user_not_found", "rate_limited",
 *  "sign_failed", ...; "ok" for TT_OK). Static, never NULL ("error" for unknown values). */
TT_API const char *tt_err_name(enum tt_err err);

/** Event types. Names (tt_event_type_name) are stable and used as MQTT topic levels. */
enum tt_event_type {
    TT_EV_NONE = 0,
    /* the 1.x events (docs/events.md) */
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
    /* beyond 1.x, named as 2.x names them (docs/events.md) */
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
    /* control events of a connection (tt_client), as the seed's WebcastPushConnection emits */
    TT_EV_CONNECTED,           /**< "connected": {isConnected, upgradedToWebsocket, roomId, ...} */
    TT_EV_DISCONNECTED,        /**< "disconnected": {reason, code, message} */
    TT_EV_WEBSOCKET_CONNECTED, /**< "websocketConnected": {url} (no secrets) */
    TT_EV_ERROR,               /**< "error": {info, exception, code} (connection level) */
    TT_EV__COUNT               /**< not an event: number of types */
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
            int64_t gift_id, repeat_count, gift_type;
            int64_t diamond_count; /**< the message's, else the gift list's (0 if unknown) */
            int repeat_end;        /**< 1 on the last event of a streak */
            /** 1 on a completed gift: a streak's last event, or a gift that cannot streak
             *  (gift_type != 1). Then total_diamonds = repeat_count * diamond_count and
             *  end_json is the event's object with "totalDiamonds" as its last member;
             *  otherwise 0, 0 and NULL. */
            int complete;
            int64_t total_diamonds;
            const char *end_json;
            size_t end_json_len;
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
        struct {
            enum tt_err reason; /**< TT_OK after a clean disconnect or stream end */
        } disconnected;
        struct {
            enum tt_err code;
            /** 1: a WebSocket message or a polled im/fetch answer as a whole could not be
             *  decoded (random bytes, cut short, a gzip bomb); it cost only itself. 0: the
             *  connection failed. */
            int frame;
        } error;
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
 *  failure. `info` may be NULL. The events' data is the 1.x JSON (docs/events.md). */
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

/* ======================================================================================== */
/* The connection: WebcastPushConnection in C                                               */
/* ======================================================================================== */

/** How the connection data (cursor, push server, cookies) is obtained. */
enum tt_sign_flow {
    TT_SIGN_EULER = 0, /**< sign server does im/fetch: GET /webcast/rooms/{room_id}/connect */
    TT_SIGN_LEGACY,    /**< 1.x: GET /webcast/sign_url, then the signed im/fetch ourselves */
    TT_SIGN_SESSION,   /**< unsigned im/fetch with a logged-in session id (no sign server) */
    TT_SIGN_DIRECT,    /**< no sign server: a ttwid device token and the push edge directly */
    TT_SIGN_AUTO       /**< direct first; when the direct path is refused, session if a
                        *   session_id is set, else Euler (default) */
};

/** The flow's `sign_flow` value: "euler", "legacy", "session", "direct", "auto"; "?" for
 *  unknown values. Static, never NULL. */
TT_API const char *tt_sign_flow_name(enum tt_sign_flow flow);

/** A pool of devices (a ttwid token and the User-Agent it was minted with) shared by the
 *  clients of a process on the direct path. Thread-safe. Optional: a client without one keeps
 *  a private pool (persisted in its ttwid_file, if set). */
struct tt_devices;

/** A pool that lends each device to at most `per_device` clients (0: no cap) and keeps its
 *  devices in `path` (one JSON line each: token, ua, minted, blocked; NULL: memory only), read
 *  now so a restart reuses them. A missing file is no error; unreadable lines are skipped. A
 *  file that exists but cannot be read (a directory, another user's) is no error either, but
 *  it is never replaced: the pool keeps its devices in memory (tt_devices_unreadable). */
TT_API enum tt_err tt_devices_new(struct tt_devices **out, const char *path, unsigned per_device);
/** The errno of a `path` that exists but could not be read when the pool was made (EISDIR,
 *  EACCES, EIO...), else 0. Its devices are not used, and it is never written. */
TT_API int tt_devices_unreadable(struct tt_devices *d);
/** Free a pool no client uses any more; NULL is a no-op. */
TT_API void tt_devices_free(struct tt_devices *d);

struct tt_devices_stats {
    unsigned devices; /**< known, blocked ones included */
    unsigned blocked; /**< refused by TikTok, or retired after a connection died young */
    unsigned in_use;  /**< devices lent to at least one client */
    uint64_t minted;  /**< ttwid tokens obtained by this process */
    uint64_t rotated; /**< devices given up (DEVICE_BLOCKED, or a connection that died < 30 s) */
    int save_failed;  /**< the last write of the file failed (or was refused: unreadable) */
};
TT_API void tt_devices_stats(struct tt_devices *d, struct tt_devices_stats *out);

/** Options of a connection. Set them with tt_options_init() then tt_options_set() (the
 *  vocabulary of the [tiktok] keys of the bridge's config) or by field. Strings are BORROWED
 *  until tt_client_new() returns, which copies everything. */
struct tt_options {
    size_t struct_size; /**< sizeof(struct tt_options), set by tt_options_init() */
    /* the seed's options */
    int process_initial_data;       /**< emit the messages of the first fetch (default 1) */
    int fetch_room_info_on_connect; /**< GET room/info first; refuse an ended LIVE (default 1) */
    int enable_extended_gift_info;  /**< GET gift/list; add extendedGiftInfo to gifts (0) */
    int enable_websocket_upgrade;   /**< use the WebSocket when offered (default 1) */
    int enable_request_polling;     /**< poll im/fetch when there is no WebSocket (default 1) */
    unsigned request_polling_interval_ms; /**< default 1000 */
    const char *client_params;     /**< "k=v&k=v", merged over the default query parameters */
    const char *request_headers;   /**< "Name: value; Name: value", over the default headers */
    const char *websocket_headers; /**< same, for the WebSocket handshake */
    unsigned request_timeout_ms;   /**< default 10000 */
    unsigned websocket_timeout_ms; /**< default 10000 */
    const char *proxy; /**< http://[user:pass@]host:port for HTTP and WebSocket; socks5:// and
                            https:// for HTTP only (the WebSocket then refuses: TT_ERR_UNSUPPORTED) */
    /* beyond the seed */
    enum tt_sign_flow sign_flow; /**< default TT_SIGN_EULER */
    const char *sign_api_url;    /**< default https://api.eulerstream.com (host, no slash) */
    const char *sign_api_key;    /**< sent as x-api-key; never logged */
    const char *session_id;      /**< sessionid cookie (18+ rooms, TT_SIGN_SESSION) */
    const char *tt_target_idc;   /**< tt-target-idc cookie with the session */
    const char *web_base;        /**< default https://www.tiktok.com */
    const char *webcast_base;    /**< default https://webcast.tiktok.com */
    const char *ca_file;         /**< extra CA bundle (tests pass the simulator's) */
    int allow_insecure;          /**< plain or unverified TLS to a non-loopback host */
    const char *user_agent;      /**< default: a current desktop Chrome */
    struct tt_limits limits;     /**< decoder caps; zero fields are defaults */
    unsigned dedup_window;       /**< msgIds remembered for deduplication (default 4096) */
    /* the direct path and the watchdog (docs/protocol.md "The direct path") */
    const char *push_base;      /**< push edge for direct: default wss://webcast-ws.tiktok.com */
    unsigned ttwid_tries;       /**< GET / attempts for a ttwid (default 3) */
    unsigned stale_timeout_s;   /**< no frame for this long closes a WebSocket (default 60) */
    unsigned direct_retry_s;    /**< auto: try direct again this long after a fallback (3600) */
    const char *ttwid_file;     /**< the private pool's file, when `devices` is NULL */
    struct tt_devices *devices; /**< a shared pool (borrowed: it must outlive the client) */
    /** "host:port:addr,..." (curl's CURLOPT_RESOLVE): a request or WebSocket to host:port goes
     *  to the numeric addr instead of what DNS says; tests give the simulator TikTok's names.
     *  TikTok's cookies go only to tiktok.com, its subdomains and the bases' hosts. */
    const char *resolve;
};

/** Defaults into `o`. */
TT_API void tt_options_init(struct tt_options *o);

/** Set one option by its [tiktok] config key (process_initial_data, sign_flow, web_base, ...,
 *  see docs/libtiktok.md); `value` is borrowed. Returns TT_ERR_INVAL with a reason in `err`. */
TT_API enum tt_err tt_options_set(struct tt_options *o, const char *key, const char *value,
                                  char *err, size_t errlen);

/** The value of one option, by the same key, as text tt_options_set() takes back ("true",
 *  "1000", "euler", a string; "" for an unset string). TT_ERR_INVAL for an unknown key. */
TT_API enum tt_err tt_options_get(const struct tt_options *o, const char *key, char *buf,
                                  size_t len);

typedef struct tt_client tt_client;

/** A connection to the LIVE of `unique_id` ("@name", "name" or a profile/live URL). Copies
 *  everything it needs. Nothing happens on the network until tt_client_connect(). Events go to
 *  `cb` (borrowed data, as for the decoder), always on the thread that calls connect/service.
 *  TT_ERR_INVAL for a handle that is none, or a control byte (a line break) in an option sent
 *  as an HTTP header: user_agent, sign_api_key, session_id, tt_target_idc, request_headers,
 *  websocket_headers. */
TT_API enum tt_err tt_client_new(tt_client **out, const char *unique_id, const struct tt_options *o,
                                 tt_event_fn cb, void *userdata);

/** Disconnect if needed and free; NULL is a no-op. */
TT_API void tt_client_free(tt_client *c);

/** Connect (blocking, each step under its timeout): room id, room info, gift list, connection
 *  data, WebSocket or polling. Emits "connected" (and "websocketConnected") on success, the
 *  initial messages when process_initial_data is set. On failure returns the error, which
 *  tt_client_errmsg() explains, and emits nothing but "error". */
TT_API enum tt_err tt_client_connect(tt_client *c);

/** Run the connection for up to `timeout_ms` (events are delivered from inside). Returns TT_OK,
 *  or the reason once it has disconnected (TT_ERR_CONNECTION_LOST, TT_ERR_OFFLINE after a
 *  stream end, TT_ERR_STATE when it was not connected). */
TT_API enum tt_err tt_client_service(tt_client *c, int timeout_ms);

/** connect() then service() until disconnected or tt_client_stop(); returns the reason. */
TT_API enum tt_err tt_client_run(tt_client *c);

/** Ask a running connection to disconnect, from any thread or from inside a callback. A
 *  connect in progress ends too, within about a second (its HTTP request or WebSocket
 *  handshake is cut, a DNS lookup that does not answer is left behind), returning
 *  TT_ERR_STATE with the message "stopped". A stop made while
 *  no connect or connection runs is forgotten by the next tt_client_connect(): a caller that
 *  means "never again" keeps a flag of its own and checks it after connect returns. */
TT_API void tt_client_stop(tt_client *c);

/** Disconnect now (on the connection's thread); emits "disconnected" if it was connected. */
TT_API void tt_client_disconnect(tt_client *c);

/** What getState() returns. Strings are owned by the client, valid until the next call on it. */
struct tt_state {
    int is_connected;
    int upgraded_to_websocket;
    const char *room_id;   /**< "" until known */
    const char *room_info; /**< JSON text of room/info's data, "" if not fetched */
};
TT_API void tt_client_state(tt_client *c, struct tt_state *out);

/** GET room/info now (resolving the room id if needed), connected or not. `*json` receives the
 *  JSON text of its data object, to be freed with tt_free(). */
TT_API enum tt_err tt_client_room_info(tt_client *c, char **json);

/** GET gift/list now, connected or not: `*json` is the JSON array of gifts (tt_free()). */
TT_API enum tt_err tt_client_available_gifts(tt_client *c, char **json);

/** Ask the sign server how much of its rate limit is left (Euler Stream's
 *  GET /webcast/rate_limits, with the API key): `*json` is its answer as sent,
 *  {"minute":{"max","remaining","reset_at"},"hour":{...},"day":{...},...} (tt_free()).
 *  Costs no signature. TT_ERR_SIGN_REFUSED for a refused key, TT_ERR_RATE_LIMITED,
 *  TT_ERR_SIGN when the server has no such endpoint (a legacy or self-hosted signer). */
TT_API enum tt_err tt_client_sign_limits(tt_client *c, char **json);

/** The flow of the current (or last) connection: TT_SIGN_DIRECT or a signed one, never
 *  TT_SIGN_AUTO; `*why` (may be NULL) says why this one, e.g. "auto: fell back to euler
 *  (TikTok refused the WebSocket: ...), direct again in 3540 s". Owned by the client, valid
 *  until its next call. */
TT_API enum tt_sign_flow tt_client_flow(tt_client *c, const char **why);

/** Detail of the last error ("" if none): what failed, and what to try. Never holds secrets. */
TT_API const char *tt_client_errmsg(const tt_client *c);

/** After TT_ERR_RATE_LIMITED: the seconds the sign server or TikTok asked to wait (Retry-After,
 *  in seconds or as a date; at most 86400), else 0 (it gave none that can be read). A "not
 *  before", the same for every client it limited together: add a random delay of your own to
 *  it, or they all come back at once (docs/libtiktok.md). A poll's 429 (an "error" event while
 *  connected) is waited out by the client itself; this gives its wait inside that callback. */
TT_API unsigned tt_client_retry_after(const tt_client *c);

/** After TT_ERR_RATE_LIMITED: 1 when TikTok itself answered 429 (the legacy and session flows'
 *  im/fetch, or a poll), 0 when the sign server did (or the last error is another). What helps
 *  differs: an API key or a plan raises the sign server's limits, not TikTok's. */
TT_API int tt_client_rate_limited_by_tiktok(const tt_client *c);

/** The msgIds of the newest events the client has delivered (or, with process_initial_data
 *  off, passed over), oldest first: at most `cap` of them into `ids`; returns how many. Given
 *  to the next client of the same streamer with tt_client_mark_seen, they keep the backlog its
 *  first fetch repeats from coming out a second time (a restart). Not while another thread is
 *  inside the client. */
TT_API size_t tt_client_seen_ids(const tt_client *c, uint64_t *ids, size_t cap);

/** Count `ids` (oldest first; 0 is ignored) as delivered already: events carrying them are
 *  dropped as duplicates, within the dedup_window. Before tt_client_connect, or between
 *  connections. TT_ERR_INVAL for a NULL client, or NULL ids with n > 0. */
TT_API enum tt_err tt_client_mark_seen(tt_client *c, const uint64_t *ids, size_t n);

/** Free memory the library handed out (tt_client_room_info, ...). */
TT_API void tt_free(void *p);

/** Log lines of the library, for the caller to print or drop (the library never prints). */
enum tt_log_level { TT_LOG_ERR = 3, TT_LOG_WARN, TT_LOG_NOTICE, TT_LOG_INFO, TT_LOG_DEBUG };
typedef void (*tt_log_fn)(enum tt_log_level level, const char *msg, void *userdata);
TT_API void tt_client_set_log(tt_client *c, tt_log_fn fn, enum tt_log_level max, void *userdata);

/** Where a raw frame came from (struct tt_raw_frame.source). */
enum tt_raw_source {
    TT_RAW_WEBSOCKET = 1, /**< a binary WebSocket message, byte for byte as received */
    TT_RAW_FETCH,         /**< the initial fetch's answer (the backlog), wrapped as below */
    TT_RAW_POLL           /**< a polling im/fetch answer, wrapped as below */
};

/** One frame as received, for recording. Every pointer is BORROWED: valid until the hook
 *  returns. `data` is always a WebcastPushFrame, what a push server sends, so a recording can
 *  be pushed again as it is (tiktok-live-sim --replay): a WebSocket message is passed byte for
 *  byte; an HTTP fetch answer (a bare ProtoMessageFetchResult) is wrapped into a push frame of
 *  payloadType "msg", payloadEncoding "pb", whose payload is the answer's body unchanged. */
struct tt_raw_frame {
    const uint8_t *data;
    size_t len;
    enum tt_raw_source source;
    int64_t unix_ms;     /**< arrival time, wall clock (ms since 1970) */
    uint64_t mono_ms;    /**< the same instant on CLOCK_MONOTONIC (ms): never goes back */
    const char *room_id; /**< the room it belongs to, as tt_state.room_id */
};
typedef void (*tt_raw_fn)(const struct tt_raw_frame *f, void *userdata);

/** Hand `fn` every frame whose messages become events, in arrival order: each binary
 *  WebSocket message (heartbeat answers included) before it is decoded, the initial fetch when
 *  process_initial_data is set (before its events), and each polling answer that carries
 *  messages or fails to decode (after its events). Called on the thread that calls
 *  connect/service, like the event callback; a slow hook delays the connection. NULL `fn`
 *  turns it off. Frames over max_frame_bytes, which are dropped, are not passed. */
TT_API void tt_client_set_raw_hook(tt_client *c, tt_raw_fn fn, void *userdata);

/** Once per process before any thread uses a client (curl and OpenSSL global state). */
TT_API enum tt_err tt_global_init(void);
TT_API void tt_global_cleanup(void);

#ifdef __cplusplus
}
#endif
#endif /* TT_H */
