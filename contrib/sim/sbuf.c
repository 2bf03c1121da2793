/** @file sbuf.c
 * The simulator's JSON writing on common/buffer.h (see sbuf.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void sbuf_json_strn(struct common_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    common_buf_add(b, "\"", 1);
    while (i < n) {
        size_t run = i;

        /* copy plain runs in one go */
        while (run < n && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' && u[run] != '\\' &&
               !(u[run] == '<' && run + 1 < n && u[run + 1] == '/'))
            run++;
        common_buf_add(b, s + i, run - i);
        i = run;
        if (i >= n)
            break;
        if (u[i] == '"' || u[i] == '\\') {
            char esc[2] = { '\\', (char)u[i] };
            common_buf_add(b, esc, 2);
            i++;
        } else if (u[i] == '<') {
            common_buf_add(b, "<\\/", 3);
            i += 2;
        } else if (u[i] < 0x20) {
            common_buf_printf(b, "\\u%04x", u[i]);
            i++;
        } else {
            size_t l = utf8_len(u + i, n - i);

            if (l == 0) {
                common_buf_add(b, "\xef\xbf\xbd", 3);
                i++;
            } else {
                common_buf_add(b, s + i, l);
                i += l;
            }
        }
    }
    common_buf_add(b, "\"", 1);
}

void sbuf_json_str(struct common_buf *b, const char *s)
{
    if (s == NULL)
        common_buf_adds(b, "null");
    else
        sbuf_json_strn(b, s, strlen(s));
}

void sbuf_json_key(struct common_buf *b, const char *key)
{
    if (b->len > 0 && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
        common_buf_add(b, ",", 1);
    sbuf_json_str(b, key);
    common_buf_add(b, ":", 1);
}

void sbuf_json_kstr(struct common_buf *b, const char *key, const char *val)
{
    sbuf_json_key(b, key);
    sbuf_json_str(b, val);
}

void sbuf_json_kint(struct common_buf *b, const char *key, int64_t val)
{
    sbuf_json_key(b, key);
    common_buf_printf(b, "%" PRId64, val);
}

void sbuf_json_kbool(struct common_buf *b, const char *key, bool val)
{
    sbuf_json_key(b, key);
    common_buf_adds(b, val ? "true" : "false");
}

void sbuf_json_kid(struct common_buf *b, const char *key, int64_t val)
{
    sbuf_json_key(b, key);
    common_buf_printf(b, "\"%" PRId64 "\"", val);
}
