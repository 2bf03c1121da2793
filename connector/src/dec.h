/** @file dec.h
 * Internal API shared by the message decoders (dec_*.c): the per-message context, event
 * emission, and the renderers of the parts many messages share (common header, user).
 *
 * A decoder scans its message with tt__pb_scan, renders the event's JSON object into x->json
 * and calls tt__emit. It returns 0, or -1 when the message (or a sub-message it needs) is
 * malformed; the caller then reports a TT_EV_DECODE_ERROR for that message alone.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_DEC_H
#define TT_DEC_H

#include "tt.h"
#include "gifts.h"
#include "json.h"
#include "wire.h"
#include "webcast_tags.h" /* the *_tag lines of the generated webcast.pb.h (Makefile) */

/** A field number, from the schema (proto/webcast.proto) through nanopb's generated *_tag
 *  constants: the hand-written decoders name fields, so the schema is the one source of their
 *  numbers and a field missing from it does not compile. */
#define TT_TAG(msg, field) TikTok_##msg##_##field##_tag

/** The common header's field number, the same in every Webcast message that has one (the
 *  decoders that read it generically assert so for their messages). */
#define TT_COMMON_FIELD TT_TAG(WebcastChatMessage, common)
#define TT_ASSERT_COMMON(msg) \
    _Static_assert(TT_TAG(msg, common) == TT_COMMON_FIELD, #msg ": common header moved")

/** One message being decoded. */
struct dec {
    tt_event_fn cb;
    void *ud;
    const char *method;           /* NUL-terminated */
    struct pb_slice raw;          /* the message payload */
    struct common_buf *json;      /* reset before each decoder runs */
    size_t n_events;              /* events emitted so far for this message */
    const struct tt_gifts *gifts; /* the client's gift list (gifts.h), NULL if none */
    struct common_buf *end_json;  /* a completed gift's second rendering (dec_gift.c) */
};

typedef int (*tt_dec_fn)(struct dec *x);

/** Fill name, method, raw and json of `ev` and call the callback. Returns 0, or -1 if the JSON
 *  could not be built (the buffer's error says why). */
int tt__emit(struct dec *x, struct tt_event *ev, enum tt_event_type type);

/* ---- common header (field 1 of most messages; 1.x `event`) ---- */
struct common {
    uint64_t msg_id, create_time;
    struct pb_slice display_type, label; /* displayText.key, displayText.defaultPattern */
    struct pb_slice display_text;        /* the whole displayText, for its pieces */
};

/** Read a CommonMessageData slice; absent fields read as 1.x's defaults. -1 if malformed. */
int tt__common_read(struct pb_slice s, struct common *c);
/** Members msgId, createTime (decimal strings), displayType, label. */
void tt__common_write(struct jw *w, const struct common *c);

/* ---- users, rendered as 1.x's getUserAttributes merges them ---- */
/** A User message (v3 field numbers = 1.x's): members userId ... teamMemberLevel. */
int tt__user_write(struct jw *w, struct pb_slice user, uint64_t *id);
/** 1.x's LinkUser (BattleBaseUserInfo: id 1, nickname 2, avatar 3, displayId 4). */
int tt__link_user_write(struct jw *w, struct pb_slice user, uint64_t *id);
/** The user as a JSON object value (opens and closes it). */
int tt__user_object(struct jw *w, struct pb_slice user, uint64_t *id);

/** Last string of a repeated string field (1.x reads repeated urlList as one string). */
struct pb_slice tt__last_string(struct pb_slice msg, uint32_t num);
/** JavaScript parseInt(s) on a decimal or 0x string; returns 0 and sets *nan when no digits. */
int64_t tt__js_parse_int(struct pb_slice s, int *nan);
/** 1 if `needle` occurs in `s` (case-sensitive, or ASCII-case-insensitive with `icase`). */
int tt__contains(struct pb_slice s, const char *needle, int icase);

/* Decoders, one per Webcast message type (the registry, events.h, lists them). */
#define TT_EVENT(type, name, method, fn, file) int tt__dec_##fn(struct dec *x);
#define TT_EVENT_ALSO(type, name, file)
#include "events.h"
#undef TT_EVENT
#undef TT_EVENT_ALSO

#endif
