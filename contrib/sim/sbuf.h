/** @file sbuf.h
 * A growable byte buffer with a cap, and the JSON writing helpers the simulator's HTTP bodies
 * and request log are made of. A buffer that would pass its cap, or whose allocation fails,
 * becomes "failed": further writes are ignored and sbuf_ok() says false, so callers check once
 * at the end instead of after every append.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_SBUF_H
#define SIM_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf {
    char *p;
    size_t len;
    size_t size;
    size_t cap;
    bool failed;
};

void sbuf_init(struct sbuf *b, size_t cap);
void sbuf_free(struct sbuf *b);
/* Hands the bytes over (NUL-terminated, caller frees); the buffer is empty afterwards. */
char *sbuf_take(struct sbuf *b, size_t *len);
static inline bool sbuf_ok(const struct sbuf *b)
{
    return !b->failed;
}

void sbuf_add(struct sbuf *b, const void *p, size_t n);
void sbuf_str(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON: a string value with quotes and escapes (invalid UTF-8 bytes become U+FFFD; "</" is
   written "<\/" so the text is safe inside an HTML <script>). NULL writes null. */
void sbuf_json_str(struct sbuf *b, const char *s);
void sbuf_json_strn(struct sbuf *b, const char *s, size_t n);
/* ,"key": with a leading comma unless the buffer ends in '{' or '[' */
void sbuf_json_key(struct sbuf *b, const char *key);
void sbuf_json_kstr(struct sbuf *b, const char *key, const char *val);
void sbuf_json_kint(struct sbuf *b, const char *key, int64_t val);
void sbuf_json_kbool(struct sbuf *b, const char *key, bool val);
/* an int64 id as a JSON string "123" (what TikTok's *_str fields and the clients expect) */
void sbuf_json_kid(struct sbuf *b, const char *key, int64_t val);

#endif
