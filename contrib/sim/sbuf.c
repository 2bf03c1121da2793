/** @file sbuf.c
 * Capped growable buffer and JSON helpers (see sbuf.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *b, size_t cap)
{
    b->p = NULL;
    b->len = 0;
    b->size = 0;
    b->cap = cap ? cap : (size_t)16 * 1024 * 1024;
    b->failed = false;
}

void sbuf_free(struct sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->size = 0;
}

char *sbuf_take(struct sbuf *b, size_t *len)
{
    char *p;

    sbuf_add(b, "", 1); /* NUL terminator, not counted */
    if (b->failed) {
        sbuf_free(b);
        return NULL;
    }
    b->len--;
    p = b->p;
    if (len != NULL)
        *len = b->len;
    b->p = NULL;
    b->len = b->size = 0;
    return p;
}

static bool grow(struct sbuf *b, size_t n)
{
    size_t want = b->len + n;
    size_t size = b->size ? b->size : 256;
    char *p;

    if (b->failed)
        return false;
    if (want < b->len || want > b->cap) {
        b->failed = true;
        return false;
    }
    if (want <= b->size)
        return true;
    while (size < want)
        size *= 2;
    if (size > b->cap)
        size = b->cap;
    p = realloc(b->p, size);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->size = size;
    return true;
}

void sbuf_add(struct sbuf *b, const void *p, size_t n)
{
    if (n == 0 || !grow(b, n))
        return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void sbuf_str(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof(tmp)) {
        sbuf_add(b, tmp, (size_t)n);
        return;
    }
    if (!grow(b, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07u;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

void sbuf_json_strn(struct sbuf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    sbuf_add(b, "\"", 1);
    while (i < n) {
        size_t run = i;

        /* copy plain runs in one go */
        while (run < n && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' && u[run] != '\\' &&
               !(u[run] == '<' && run + 1 < n && u[run + 1] == '/'))
            run++;
        sbuf_add(b, s + i, run - i);
        i = run;
        if (i >= n)
            break;
        if (u[i] == '"' || u[i] == '\\') {
            char esc[2] = { '\\', (char)u[i] };
            sbuf_add(b, esc, 2);
            i++;
        } else if (u[i] == '<') {
            sbuf_add(b, "<\\/", 3);
            i += 2;
        } else if (u[i] < 0x20) {
            sbuf_printf(b, "\\u%04x", u[i]);
            i++;
        } else {
            size_t l = utf8_len(u + i, n - i);

            if (l == 0) {
                sbuf_add(b, "\xef\xbf\xbd", 3);
                i++;
            } else {
                sbuf_add(b, s + i, l);
                i += l;
            }
        }
    }
    sbuf_add(b, "\"", 1);
}

void sbuf_json_str(struct sbuf *b, const char *s)
{
    if (s == NULL)
        sbuf_str(b, "null");
    else
        sbuf_json_strn(b, s, strlen(s));
}

void sbuf_json_key(struct sbuf *b, const char *key)
{
    if (b->len > 0 && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
        sbuf_add(b, ",", 1);
    sbuf_json_str(b, key);
    sbuf_add(b, ":", 1);
}

void sbuf_json_kstr(struct sbuf *b, const char *key, const char *val)
{
    sbuf_json_key(b, key);
    sbuf_json_str(b, val);
}

void sbuf_json_kint(struct sbuf *b, const char *key, int64_t val)
{
    sbuf_json_key(b, key);
    sbuf_printf(b, "%" PRId64, val);
}

void sbuf_json_kbool(struct sbuf *b, const char *key, bool val)
{
    sbuf_json_key(b, key);
    sbuf_str(b, val ? "true" : "false");
}

void sbuf_json_kid(struct sbuf *b, const char *key, int64_t val)
{
    sbuf_json_key(b, key);
    sbuf_printf(b, "\"%" PRId64 "\"", val);
}
