/** @file sim.h
 * Shared declarations of tiktok-live-sim, the TikTok LIVE simulator: the world a scenario
 * describes (users, rooms, timed events, faults), the runtime state of rooms and WebSocket
 * connections, and the cross-file functions of its modules:
 *
 *   main.c         options, the libwebsockets context, the service loop and the tick timer
 *   util.c         hashing, the hash map (clocks, random numbers, the growable buffer,
 *                  base64 and varints are common/'s)
 *   scenario.c     the JSON-lines scenario file -> users, rooms, sessions (scenario.h)
 *   scenario_ev.c  ... and its event lines -> struct ev
 *   load.c         load mode: many rooms fed with random events from a seed
 *   replay.c       --replay: frames of an oracle corpus or a bridge recording
 *   room.c         room sessions: timelines, frame production, the shared frame ring
 *   enc.c          events -> Webcast protobuf messages (nanopb; enc.h)
 *   enc_user.c     ... the common header, users and images they all contain
 *   frame.c        messages -> fetch results and push frames (gzip); client frame parsing
 *   http.c         the HTTP side: routing, responses, delays, refused upgrades
 *   pages.c        the endpoints' bodies: live page, api-live, room info, gift list, signing
 *   device.c       the direct edge: ttwid tokens from GET /, the ws_direct=1 upgrade's check
 *   ws.c           the WebSocket push server
 *   slog.c         the JSON-lines request log (--log) and frame dumps (--dump)
 *   arena.c, sbuf.c, gifts.c   allocator, JSON writing on common/buffer.h, gift table
 *
 * One thread, one libwebsockets context: nothing here is locked.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "clock.h"
#include "prng.h"
#include "sbuf.h"

struct lws;
struct lws_context;
struct lws_vhost;
struct conn;

#define SIM_NONE   UINT32_MAX /* "no user" in struct ev */
#define SIM_MAXQ   96         /* query arguments kept per request */
#define SIM_HANDLE 64         /* longest handle accepted */

/* ---- the world ------------------------------------------------------------------------- */

/* A TikTok account: a streamer or a viewer that appears in events. */
struct sim_user {
    int64_t id;
    const char *handle; /* displayId, without '@' */
    const char *nickname;
    const char *sec_uid;
    const char *bio;
    int64_t followers;
    int64_t following;
    int64_t create_time;   /* s */
    int32_t follow_status; /* towards the host: 0 none, 1 follows, 2 friends */
    int32_t gifter_level;  /* 0: no gifter badge */
    int32_t fan_level;     /* 0: no fan club badge */
    int32_t top_gifter;    /* rank 1..3, 0: none */
    bool moderator;
    bool subscriber;
    bool new_gifter;
};

enum ev_type {
    /* messages (enc.c) */
    EV_CHAT,
    EV_GIFT,
    EV_LIKE,
    EV_FOLLOW,
    EV_SHARE,
    EV_JOIN,
    EV_VIEWERS,
    EV_QUESTION,
    EV_BATTLE,
    EV_BATTLE_POINTS,
    EV_INTRO,
    EV_EMOTE,
    EV_ENVELOPE,
    EV_SUBSCRIBE,
    EV_PIN,
    EV_POLL,
    EV_PAUSE,
    EV_RESUME,
    EV_END,
    EV_SUSPEND,
    EV_RAW,
    EV_N_MESSAGES,
    /* transport events (room.c) */
    EV_GARBAGE = EV_N_MESSAGES,
    EV_TRUNCATED,
    EV_GZIP_BOMB,
    EV_DROP,
    EV_CLOSE,
    EV_SILENCE,
    EV_N
};

#define EVF_BACKLOG 1u /* served by im/fetch, not pushed */

/* One list entry of an event: a top viewer, a battle host, a poll option. */
struct ev_item {
    uint32_t user;    /* SIM_NONE for poll options */
    int64_t n;        /* coins, points, votes */
    const char *text; /* poll option text */
    uint32_t *users;  /* battle participants (indexes), n_users of them */
    uint32_t n_users;
};

/* A timed event of a room. Field use per type is tabled at the top of enc.c. */
struct ev {
    int64_t t_ms; /* offset from the session start */
    uint16_t type;
    uint16_t flags;
    uint32_t user;
    int64_t a, b, c, d;
    const char *s1;
    const char *s2;
    struct ev_item *items;
    uint32_t n_items;
};

/* A live session of a room: one room id, one timeline. Sessions follow each other when an
   `end` event carries `relive_after`. */
struct session {
    int64_t room_id;
    struct ev *ev;
    uint32_t n_ev;
    uint32_t cap_ev;
    int64_t relive_after_ms; /* < 0: the room stays ended after this session */
};

/* Faults a streamer line asks for (README "Faults"). Zero values mean "behave". */
struct faults {
    int sign_status; /* answer the sign endpoints with this HTTP status */
    int sign_times;  /* ... only the first N times (0: always) */
    int retry_after; /* s, Retry-After on 429 */
    const char *limit_label;
    int fetch_status;   /* im/fetch answers this HTTP status with a JSON error */
    int poll_truncated; /* the first N polling im/fetch answers lose their last byte */
    int poll_limited;   /* the first N polling im/fetch answer 429 with Retry-After */
    bool no_cursor;
    bool no_push_server;
    bool age_restricted;
    bool blocked;
    bool silent;       /* WS: accept, then send nothing and answer nothing */
    bool no_hb_answer; /* WS: do not answer heartbeats */
    bool no_enter_answer;
    bool euler_refuse;    /* the Euler room-id lookup answers 403 */
    int handshake_status; /* refuse the WS upgrade: HTTP 200 + handshake-status/-msg */
    const char *handshake_msg;
    int drop_after;  /* close the TCP socket after N frames, no close frame */
    int close_after; /* send a close frame after N frames */
    int close_code;
    const char *close_reason;
    int slow_ms;                 /* delay every HTTP answer about this room */
    int device_blocked;          /* direct upgrades: block the ttwid of the first N (device.c) */
    int direct_handshake_status; /* refuse direct upgrades (only) with this status and msg */
    const char *direct_handshake_msg;
    bool endless_message;    /* WS: one binary message whose fragments never end */
    const char *push_host;   /* the fetch result's pushServer names this host (our port) */
    const char *signed_host; /* the legacy signer's signedUrl names this host (our port) */
    int header_bytes;        /* HTTP answers about this room carry a header this long */
    int json_depth;          /* room/info's data nested this deep in arrays */
};

enum room_state { ROOM_LIVE, ROOM_OFFLINE, ROOM_MISSING, ROOM_ENDED };

struct replay;

/* A streamer's room: its scenario definition and its runtime state. */
struct room {
    uint32_t host; /* user index of the streamer */
    const char *handle;
    const char *title;
    enum room_state state;
    int64_t viewers;
    int64_t likes;
    double gzip; /* share of frames gzipped: 1 always, 0 never */
    bool need_ack;
    bool loop;             /* restart the timeline when it runs out */
    int32_t ping_interval; /* s, sent as Handshake-Options: ping-interval=N; 0: no header */
    uint32_t history;      /* initial fetch answers repeat the last N messages pushed */
    bool load;             /* a load-mode room: random events instead of a timeline */
    struct faults f;
    struct session *sess;
    uint32_t n_sess;
    uint32_t cur; /* current session */

    /* runtime */
    bool running; /* the current session's timeline has started */
    bool on_active_list;
    int64_t t0_ms; /* session start (monotonic ms) */
    uint32_t next_ev;
    int64_t end_at_ms; /* when the session ended (monotonic), 0 while live */
    int64_t silent_until_ms;
    int64_t live_since_s; /* wall clock, for room info */
    struct frame **ring;  /* frames of the session, shared by its connections */
    uint32_t ring_cap;
    uint64_t ring_head; /* sequence number of the next frame */
    uint32_t ring_n;
    struct conn *conns;
    uint32_t n_conns;
    struct poll_msg **poll; /* the last POLL_RING messages, for polling im/fetch; NULL until one */
    uint64_t poll_seq;      /* messages emitted this session: what a cursor counts */
    struct room *act_next, *act_prev;
    int64_t seq_id;
    int64_t log_id;
    int64_t battle_id;
    uint32_t sign_calls;
    uint32_t dump_n;
    uint64_t rng;
    int64_t load_next_us;  /* load mode: when the next event is due (monotonic us) */
    int64_t load_flush_ms; /* load mode: when the last frame went out */
    bool load_due;         /* load mode: a frame is due, built when a socket can take it */
    struct replay *rp;
    uint32_t devices_blocked; /* the device_blocked fault's count so far */
    uint32_t polls_truncated; /* the poll_truncated fault's count so far */
    uint32_t polls_limited;   /* the poll_limited fault's count so far */
};

/* Load mode (README "Load mode"). */
struct load {
    uint32_t rooms;
    double rate;    /* events per second per room */
    double seconds; /* then the stream ends; 0: never */
    uint64_t seed;
    const char *prefix;
    uint32_t viewers; /* size of the viewer pool */
    double gzip;
    int64_t batch_ms;      /* an event waits at most this long for its frame */
    uint32_t frame_events; /* at most this many events per frame (more frames if more are due) */
    bool msgid_only;       /* no viewer counts, questions, emotes: see load.c */
};

#define LOAD_FRAME_MAX 4096 /* cap of frame_events */

/* A message as emitted, kept for clients that poll im/fetch (room.c). */
struct poll_msg {
    uint64_t seq;
    int64_t msg_id;
    const char *method; /* points into data[] */
    size_t len;
    unsigned char data[];
};

#define POLL_RING 1024 /* messages kept per room for polling clients */
#define POLL_MAX  64   /* messages per im/fetch answer */

/* ---- frames and connections -------------------------------------------------------------- */

/* A frame ready for lws_write(): LWS_PRE bytes of headroom, then len bytes. Frames are shared
   by every connection of a room and freed when the last reference goes. */
struct frame {
    uint32_t refs;
    uint32_t len;
    int64_t log_id; /* what an ack of this frame echoes; 0 when none is expected */
    bool need_ack;
    int64_t built_us; /* a load frame: when it was built (monotonic us), else 0 */
    unsigned char buf[];
};

#define FRAME_DATA(f) ((f)->buf + SIM_LWS_PRE)

#define CONN_CTRL     4 /* control frames queued per connection */

/* A WebSocket connection (the libwebsockets per-session data of ws.c). Kept small: a load run
   holds thousands. */
struct conn {
    struct conn *next, *prev; /* in the room's list */
    struct room *room;
    struct lws *wsi;
    uint64_t next_seq; /* next frame of the room's ring to send */
    uint32_t id;
    uint32_t frames;
    uint32_t need_acks;
    uint32_t acks;
    uint32_t acks_unknown;
    uint32_t hbs;
    uint32_t enters;
    uint32_t answers; /* heartbeat and enter-room answers sent */
    uint32_t skipped;
    int close_code; /* > 0: close with it; < 0: drop the TCP socket */
    const char *close_reason;
    uint64_t close_seq; /* ... once the frames before this sequence number are out */
    int64_t opened_ms;
    int peer_code;
    struct frame *ctrl[CONN_CTRL];
    uint32_t n_ctrl;
    unsigned char *in; /* a client message spread over fragments */
    size_t in_len;
    bool attached;
    bool dropping;         /* write side shut: the peer sees the TCP stream end, no close frame */
    uint64_t endless_sent; /* bytes of the endless_message fault sent */
};

/* One encoded Webcast message, as a BaseProtoMessage will carry it. */
struct msg_out {
    const char *method;
    const unsigned char *data;
    size_t len;
    int64_t msg_id;
};

/* ---- the simulator ------------------------------------------------------------------------ */

/* A device token GET / issued (device.c). */
struct sim_device {
    char ttwid[160];
    bool blocked;
};

#define SIM_DEVICES 1024 /* tokens remembered; the oldest is forgotten (then "unknown") */

struct hmap {
    uint64_t *keys; /* 0 = empty slot */
    uint32_t *vals;
    uint32_t cap; /* power of two */
    uint32_t n;
};

struct sim {
    /* options */
    const char *listen_host;
    int listen_port;
    const char *tls_cert;
    const char *tls_key;
    const char *scenario_path;
    const char *replay_dir;
    const char *user;
    const char *log_path;
    const char *dump_dir;
    const char *api_key;
    double replay_rate; /* frames/s of a corpus replay */
    double replay_speed;
    bool replay_fast;
    bool log_frames;
    int64_t replay_room_id;
    uint32_t max_conns;
    int slow_ms;           /* every HTTP answer */
    uint32_t gift_list_kb; /* gift/list padded with filler gifts to this size (0: the table) */
    int64_t end_grace_ms;  /* an ended room's sockets stay open this long */
    bool require_signature;
    uint64_t seed;
    uint32_t ttwid_withhold; /* GET / answers the first N times without a ttwid */

    /* signatures served per minute, hour and day window, for /webcast/rate_limits */
    int64_t sign_window[3];
    uint32_t sign_count[3];

    /* the world */
    struct arena perm;
    struct sim_user *users;
    uint32_t n_users, cap_users;
    struct room *rooms;
    uint32_t n_rooms, cap_rooms;
    struct hmap by_handle;  /* hash of handle -> room index */
    struct hmap by_room_id; /* room id -> room index (every session's id) */
    struct hmap user_by_handle;
    struct load load;
    bool load_mode;

    /* runtime */
    struct lws_context *ctx;
    struct lws_vhost *vh;
    int port;
    char http_base[96]; /* http(s)://host:port */
    char ws_base[96];   /* ws(s)://host:port */
    struct room *active;
    int64_t next_msg_id;
    int64_t fixed_msg_id; /* != 0: the msgId of the message being encoded (backlog) */
    uint64_t rng;
    struct arena scratch; /* per-frame encoding */
    void *z;              /* z_stream, reused for every gzip */
    FILE *log;
    uint64_t log_n;
    uint32_t conn_ids;
    uint64_t frames_out, bytes_out, events_out;
    uint64_t load_writes;         /* load frames written */
    uint64_t load_writes_late;    /* ... more than LOAD_LATE_US after they were built */
    int64_t answer_ids[POLL_MAX]; /* msgIds of the last fetch answer, for the request log */
    uint32_t n_answer_ids;
    uint32_t n_answer_history;  /* ... the last n of them repeat messages already pushed */
    struct sim_device *devices; /* SIM_DEVICES of them once GET / was asked, a ring */
    uint32_t n_devices;         /* tokens issued */
    uint32_t ttwid_withheld;
};

/* ---- cross-file functions ------------------------------------------------------------------ */

/* util.c */
uint64_t sim_hash(const char *s);
/* An array `p` of *cap elements of `size` bytes holding `n`, with room for one more: `p` as it
 * is, or grown (doubled; `first` elements the first time) with *cap updated; NULL, and `p`
 * untouched, when memory runs out. */
void *sim_grow(void *p, uint32_t *cap, uint32_t n, size_t size, uint32_t first);

/* hash map (util.c) */
int hmap_put(struct hmap *m, uint64_t key, uint32_t val);
bool hmap_get(const struct hmap *m, uint64_t key, uint32_t *val);
void hmap_free(struct hmap *m);

/* scenario.c */
int scenario_load(struct sim *s, const char *path);
uint32_t sim_user_get(struct sim *s, const char *handle); /* finds or creates; SIM_NONE on OOM */
struct room *sim_room_add(struct sim *s, const char *handle, uint32_t host);
struct ev *session_add_ev(struct sim *s, struct session *ss);
struct room *sim_room_by_handle(struct sim *s, const char *handle);
struct room *sim_room_by_id(struct sim *s, int64_t room_id, uint32_t *sess);
int sim_room_index_ids(struct sim *s, struct room *r);
void sim_default_room(struct sim *s, struct room *r);
int64_t sim_make_id(uint64_t seed, const char *salt, int64_t base);

/* scenario_ev.c */
const char *ev_type_name(unsigned type); /* the scenario's name of an event type */

/* load.c */
int load_setup(struct sim *s);
int load_tick(struct sim *s, struct room *r, int64_t now);
int64_t load_tick_us(const struct sim *s);     /* the poll loop's tick in load mode */
int load_flush(struct sim *s, struct room *r); /* the due frames, built now (load_due) */
#define LOAD_LATE_US 1000 /* a load frame written later than this after being built is late */
static inline int64_t load_now_us(void) /* the clock of built_us */
{
    return (int64_t)(common_mono_s() * 1e6);
}
#define LOAD_TICK_US 25000 /* at most, so a load run wakes rarely */

/* replay.c */
int replay_setup(struct sim *s);
int replay_tick(struct sim *s, struct room *r, int64_t now);
bool replay_done(const struct room *r);
void replay_free(struct replay *rp);

/* room.c */
void room_session_start(struct sim *s, struct room *r);
void room_tick_all(struct sim *s);
void room_end(struct sim *s, struct room *r, int action);
int room_push(struct sim *s, struct room *r, struct frame *f);
int room_emit(struct sim *s, struct room *r, const struct ev *evs, size_t n);
int room_emit_msgs(struct sim *s, struct room *r, const struct msg_out *m, size_t n);
int64_t room_cur_id(const struct room *r);
void room_attach(struct sim *s, struct room *r, struct conn *c);
void room_detach(struct sim *s, struct room *r, struct conn *c);
bool room_choked(const struct room *r);
struct frame *room_frame_at(const struct room *r, uint64_t seq, uint64_t *first);
int room_poll_open(struct room *r);
size_t room_poll_since(const struct room *r, uint64_t after, struct msg_out *m, size_t max,
                       uint64_t *last);
void room_poll_free(struct room *r);

/* enc.c */
int enc_event(struct sim *s, struct room *r, const struct ev *e, struct msg_out *out);
void enc_image_urls(struct sim *s, char *buf, size_t len, const char *kind, int64_t id,
                    const char *ext);

/* frame.c */
#define SIM_LWS_PRE 16 /* LWS_PRE of libwebsockets 4.1; checked in ws.c */
struct frame *frame_new(size_t len);
void frame_unref(struct frame *f);
struct frame *frame_from_bytes(const void *p, size_t len);
struct frame *frame_msgs(struct sim *s, struct room *r, const struct msg_out *m, size_t n,
                         bool gzip);
struct frame *frame_control(struct sim *s, const char *type, int64_t log_id);
unsigned char *fetch_result(struct sim *s, struct room *r, bool initial, size_t *len);
unsigned char *fetch_poll(struct sim *s, struct room *r, uint64_t after, size_t *len);
struct frame *frame_gzip_bomb(struct sim *s, struct room *r, size_t inflated);
int gzip_bytes(struct sim *s, const unsigned char *in, size_t n, unsigned char **out,
               size_t *out_len);
struct client_frame {
    char type[32];
    int64_t log_id;
    bool has_hb;
    int64_t hb_room_id, hb_seq;
    bool has_enter;
    int64_t enter_room_id, enter_live_id, enter_unique_id;
    char enter_identity[32];
    char enter_filter[8];
    char ack_payload[256];
    bool decoded;
};
void client_frame_parse(const unsigned char *p, size_t len, struct client_frame *cf);

/* http.c / ws.c: the libwebsockets protocol callbacks */
int http_callback(struct lws *wsi, int reason, void *user, void *in, size_t len);
int ws_callback(struct lws *wsi, int reason, void *user, void *in, size_t len);
size_t http_session_size(void);
int http_confirm_upgrade(struct lws *wsi);
int http_upgrade_headers(struct lws *wsi, void *in); /* Handshake-Options */
size_t ws_session_size(void);
void ws_kick(struct conn *c); /* ask for a writeable callback */
void ws_end_all(struct room *r, int64_t delay_ms);

/* pages.c */
struct qarg {
    const char *k;
    const char *v;
};
struct query {
    struct qarg a[SIM_MAXQ];
    int n;
};
const char *query_get(const struct query *q, const char *k);
struct reply {
    int status;
    const char *ctype;
    struct common_buf hdr; /* extra headers, "name\0value\0" pairs */
    struct common_buf body;
    int delay_ms;
    const char *room;  /* handle the request was about, for the log */
    bool fetch_answer; /* a fetch result: log its msgIds (sim.answer_ids) */
    const char *ttwid; /* the device token this answer set (GET /), for the log */
    int pad_header;    /* the header_bytes fault: an x-pad header this long */
};
void reply_header(struct reply *rp, const char *name, const char *value);
void pages_route(struct sim *s, const char *method, const char *path, const struct query *q,
                 const char *body, size_t body_len, struct lws *wsi, struct reply *rp);

/* device.c */
struct refusal {
    int status;      /* handshake-status, 0: accepted */
    const char *msg; /* handshake-msg */
    const char *why; /* for the log: missing/unknown/blocked ttwid, a fault */
    char ttwid[160]; /* the token the upgrade carried, "" if none */
};
void device_home(struct sim *s, struct reply *rp);
bool device_refuse(struct sim *s, struct lws *wsi, struct room *r, struct refusal *out);

/* slog.c */
struct common_buf *slog_begin(struct sim *s, const char *kind); /* NULL when there is no log */
void slog_end(struct sim *s, struct common_buf *b);
void slog_query(struct common_buf *b, const struct query *q);
void slog_headers(struct common_buf *b, struct lws *wsi);
void slog_fault(struct sim *s, const struct room *r, const char *what);
void slog_emit(struct sim *s, const struct room *r, const char *fault, const struct msg_out *m,
               const uint16_t *types, size_t n);
void dump_frame(struct sim *s, struct room *r, const unsigned char *p, size_t len);
int query_parse(struct lws *wsi, char *buf, size_t cap, struct query *q);

#endif
