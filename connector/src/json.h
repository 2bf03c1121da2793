/** @file json.h
 * A small JSON writer into a tt_buf, and a validator.
 *
 * Why our own writer and not cJSON: cJSON 1.7.15 stores numbers as doubles (2^53+1 prints as
 * 9.00719925474099e+15) and builds a tree of allocations per event; here integers keep all their
 * digits and an event is rendered straight into one reused buffer.
 *
 * Strings are escaped as JSON.stringify does; invalid UTF-8 becomes U+FFFD, so the output is
 * always valid JSON whatever the wire carried.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_JSON_H
#define TT_JSON_H

#include <stdint.h>

#include "buf.h"
#include "wire.h"

/** An object or array being written: tracks whether a separator is due. */
struct jw {
    struct common_buf *b;
    int first;
};

void tt__json_str(struct common_buf *b, const uint8_t *p, size_t n);
void tt__json_u64(struct common_buf *b, uint64_t v);
void tt__json_i64(struct common_buf *b, int64_t v);
void tt__json_u64_str(struct common_buf *b, uint64_t v); /* "123": 1.x's decimal-string ids */
void tt__json_base64(struct common_buf *b, const uint8_t *p, size_t n);
/** 1 if [p, p+n) is one JSON value as JSON.parse accepts it (depth-capped), else 0. */
int tt__json_valid(const uint8_t *p, size_t n);
enum { TT_JSON_OK, TT_JSON_BAD, TT_JSON_DEEP };
/** TT_JSON_OK, TT_JSON_BAD (syntax) or TT_JSON_DEEP (over the depth cap) for [p, p+n). */
int tt__json_check(const uint8_t *p, size_t n);
/** What a failed check means, for an error text ("not JSON", "JSON nested deeper than 64 ..."). */
const char *tt__json_why(int check);

/* Reading JSON in place (room info, gift list, sign server answers): no tree, no copies, and
 * numbers stay as their text, so a 19-digit id is never rounded through a double. Values are
 * slices of the document; a malformed document reads as "not found". */
/** The value of member `key` of object `obj`. */
int tt__jr_member(struct pb_slice obj, const char *key, struct pb_slice *out);
/** Nested members: "data.user.roomId". */
int tt__jr_path(struct pb_slice doc, const char *path, struct pb_slice *out);
struct jr_iter {
    const uint8_t *p, *end;
    int state; /* 0 before the first element, 1 after one, 2 done */
};
void tt__jr_array_begin(struct jr_iter *it, struct pb_slice arr);
int tt__jr_array_next(struct jr_iter *it, struct pb_slice *elem);
/** A JSON string value, unescaped into `out` (NUL-terminated); 0 if not a string or too long. */
int tt__jr_string(struct pb_slice v, char *out, size_t outsz);
/** A JSON integer, or a string holding one ("123"); 0 if neither. */
int tt__jr_int(struct pb_slice v, int64_t *out);

static inline void jw_open(struct jw *w, struct common_buf *b, char c)
{
    w->b = b;
    w->first = 1;
    common_buf_addc(b, c);
}

static inline void jw_close(struct jw *w, char c)
{
    common_buf_addc(w->b, c);
}

/** Start an array item or an object member (`lit` is `"name":` for members, "" for items). */
static inline void jw_sep(struct jw *w, const char *lit, size_t n)
{
    if (!w->first) {
        common_buf_addc(w->b, ',');
    }
    w->first = 0;
    common_buf_add(w->b, lit, n);
}

/* JK(w, "name") writes the separator and "name": — the key is a literal, measured at compile
 * time, so member names cost one memcpy. */
#define JK(w, k) jw_sep((w), "\"" k "\":", sizeof("\"" k "\":") - 1)
#define JI(w)    jw_sep((w), "", 0)

static inline void jw_raw(struct jw *w, const char *lit)
{
    common_buf_adds(w->b, lit);
}

static inline void jw_str(struct jw *w, struct pb_slice s)
{
    tt__json_str(w->b, s.p, s.n);
}

static inline void jw_cstr(struct jw *w, const char *s)
{
    tt__json_str(w->b, (const uint8_t *)s, strlen(s));
}

/** A member whose name is no literal (an event's name, from the registry). */
static inline void jw_key(struct jw *w, const char *name)
{
    JI(w);
    jw_cstr(w, name);
    common_buf_addc(w->b, ':');
}

static inline void jw_bool(struct jw *w, int v)
{
    common_buf_adds(w->b, v ? "true" : "false");
}

#endif
