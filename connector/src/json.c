/** @file json.c
 * JSON writer (escaping, exact integers, base64) and a JSON.parse-compatible validator.
 *
 * SPDX-License-Identifier: MIT
 */
#include "json.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid (overlong, surrogate,
 * above U+10FFFF, truncated). */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c >= 0xc2 && c <= 0xdf) {
        return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80) {
            return 0;
        }
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80) {
            return 0;
        }
        if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

/* Bytes that cannot be copied as they are: controls, quote, backslash, non-ASCII. */
static inline int special(uint8_t c)
{
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

static void escape_one(struct tt_buf *b, uint8_t c)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
    switch (c) {
    case '"':
        tt__buf_add(b, "\\\"", 2);
        return;
    case '\\':
        tt__buf_add(b, "\\\\", 2);
        return;
    case '\n':
        tt__buf_add(b, "\\n", 2);
        return;
    case '\r':
        tt__buf_add(b, "\\r", 2);
        return;
    case '\t':
        tt__buf_add(b, "\\t", 2);
        return;
    case '\b':
        tt__buf_add(b, "\\b", 2);
        return;
    case '\f':
        tt__buf_add(b, "\\f", 2);
        return;
    default:
        tt__buf_add(b, e, 6);
    }
}

/* 1 if any of the 8 bytes of x is special (SWAR: Hacker's Delight "has a byte less than n"
 * and "has a zero byte" tricks); lets ASCII runs such as urls pass 8 bytes at a time. */
static inline int word_special(uint64_t x)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t lt20 = (x - ones * 0x20) & ~x;
    uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
    uint64_t zq = (q - ones) & ~q, zb = (bs - ones) & ~bs;
    return ((lt20 | zq | zb | x) & highs) != 0;
}

void tt__json_str(struct tt_buf *b, const uint8_t *p, size_t n)
{
    size_t i = 0, run = 0;
    /* worst case 6 bytes out per byte in: reserve once, so the common case is one memcpy */
    if (b->cap - b->len < n + 2 && tt__buf_grow(b, n + 2)) {
        return;
    }
    tt__buf_addc(b, '"');
    while (i < n) {
        uint64_t x;
#if defined(__SSE2__)
        /* 16 bytes at a time: a signed "less than 0x20" also catches every byte >= 0x80 */
        if (n - i >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            __m128i m = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
            if (!_mm_movemask_epi8(m)) {
                i += 16;
                continue;
            }
        }
#endif
        if (n - i >= 8 && (memcpy(&x, p + i, 8), !word_special(x))) {
            i += 8;
            continue;
        }
        if (!special(p[i])) {
            i++;
            continue;
        }
        tt__buf_add(b, p + run, i - run);
        if (p[i] < 0x80) {
            escape_one(b, p[i]);
            i++;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l) {
                tt__buf_add(b, p + i, l);
                i += l;
            } else {
                tt__buf_add(b, "\xef\xbf\xbd", 3); /* U+FFFD for each invalid byte */
                i++;
            }
        }
        run = i;
    }
    tt__buf_add(b, p + run, n - run);
    tt__buf_addc(b, '"');
}

/* Two digits per step from a table; 32-bit steps once the value fits (most of them). */
void tt__json_u64(struct tt_buf *b, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "62636465666768697071727374757677787980818283848586878889909192"
                                "93949596979899";
    char tmp[20];
    size_t i = sizeof tmp;
    if (v < 10) { /* counts, flags, levels: most numbers are one digit */
        tt__buf_addc(b, (char)('0' + v));
        return;
    }
    while (v > UINT32_MAX) {
        unsigned r = (unsigned)(v % 100) * 2;
        v /= 100;
        tmp[--i] = pairs[r + 1];
        tmp[--i] = pairs[r];
    }
    uint32_t w = (uint32_t)v;
    while (w >= 100) {
        unsigned r = (w % 100) * 2;
        w /= 100;
        tmp[--i] = pairs[r + 1];
        tmp[--i] = pairs[r];
    }
    if (w >= 10) {
        tmp[--i] = pairs[w * 2 + 1];
        tmp[--i] = pairs[w * 2];
    } else {
        tmp[--i] = (char)('0' + w);
    }
    tt__buf_add(b, tmp + i, sizeof tmp - i);
}

void tt__json_i64(struct tt_buf *b, int64_t v)
{
    if (v < 0) {
        tt__buf_addc(b, '-');
        tt__json_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        tt__json_u64(b, (uint64_t)v);
    }
}

void tt__json_u64_str(struct tt_buf *b, uint64_t v)
{
    tt__buf_addc(b, '"');
    tt__json_u64(b, v);
    tt__buf_addc(b, '"');
}

void tt__json_base64(struct tt_buf *b, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    tt__buf_addc(b, '"');
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t left = n - i;
        if (left > 1) {
            v |= (uint32_t)p[i + 1] << 8;
        }
        if (left > 2) {
            v |= p[i + 2];
        }
        char q[4] = { tab[v >> 18], tab[(v >> 12) & 63], left > 1 ? tab[(v >> 6) & 63] : '=',
                      left > 2 ? tab[v & 63] : '=' };
        tt__buf_add(b, q, 4);
    }
    tt__buf_addc(b, '"');
}

/* ---- validator: a recursive-descent check of RFC 8259, as JSON.parse accepts it ---- */

struct jv {
    const uint8_t *p, *end;
    int depth;
};

#define JV_MAX_DEPTH 64

static void jv_ws(struct jv *v)
{
    while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r')) {
        v->p++;
    }
}

static int jv_lit(struct jv *v, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(v->end - v->p) < n || memcmp(v->p, s, n)) {
        return 0;
    }
    v->p += n;
    return 1;
}

static int jv_digits(struct jv *v)
{
    const uint8_t *s = v->p;
    while (v->p < v->end && *v->p >= '0' && *v->p <= '9') {
        v->p++;
    }
    return v->p > s;
}

static int jv_number(struct jv *v)
{
    if (v->p < v->end && *v->p == '-') {
        v->p++;
    }
    if (v->p < v->end && *v->p == '0') {
        v->p++;
    } else if (!jv_digits(v)) {
        return 0;
    }
    if (v->p < v->end && *v->p == '.') {
        v->p++;
        if (!jv_digits(v)) {
            return 0;
        }
    }
    if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
        v->p++;
        if (v->p < v->end && (*v->p == '+' || *v->p == '-')) {
            v->p++;
        }
        if (!jv_digits(v)) {
            return 0;
        }
    }
    return 1;
}

static int jv_hex4(struct jv *v)
{
    for (int i = 0; i < 4; i++) {
        if (v->p >= v->end) {
            return 0;
        }
        uint8_t c = *v->p++;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return 1;
}

static int jv_string(struct jv *v)
{
    v->p++; /* opening quote */
    while (v->p < v->end) {
        uint8_t c = *v->p;
        if (c == '"') {
            v->p++;
            return 1;
        }
        if (c < 0x20) {
            return 0;
        }
        if (c == '\\') {
            v->p++;
            if (v->p >= v->end) {
                return 0;
            }
            c = *v->p++;
            if (c == 'u') {
                if (!jv_hex4(v)) {
                    return 0;
                }
            } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
                return 0;
            }
            continue;
        }
        if (c >= 0x80) {
            size_t l = utf8_len(v->p, (size_t)(v->end - v->p));
            if (!l) {
                return 0; /* we embed the text as it is, so it must be valid UTF-8 */
            }
            v->p += l;
            continue;
        }
        v->p++;
    }
    return 0;
}

static int jv_value(struct jv *v);

static int jv_container(struct jv *v, uint8_t close, int is_obj)
{
    if (++v->depth > JV_MAX_DEPTH) {
        return 0;
    }
    v->p++;
    jv_ws(v);
    if (v->p < v->end && *v->p == close) {
        v->p++;
        v->depth--;
        return 1;
    }
    for (;;) {
        if (is_obj) {
            jv_ws(v);
            if (v->p >= v->end || *v->p != '"' || !jv_string(v)) {
                return 0;
            }
            jv_ws(v);
            if (v->p >= v->end || *v->p++ != ':') {
                return 0;
            }
        }
        if (!jv_value(v)) {
            return 0;
        }
        jv_ws(v);
        if (v->p >= v->end) {
            return 0;
        }
        uint8_t c = *v->p++;
        if (c == close) {
            v->depth--;
            return 1;
        }
        if (c != ',') {
            return 0;
        }
    }
}

static int jv_value(struct jv *v)
{
    jv_ws(v);
    if (v->p >= v->end) {
        return 0;
    }
    switch (*v->p) {
    case '{':
        return jv_container(v, '}', 1);
    case '[':
        return jv_container(v, ']', 0);
    case '"':
        return jv_string(v);
    case 't':
        return jv_lit(v, "true");
    case 'f':
        return jv_lit(v, "false");
    case 'n':
        return jv_lit(v, "null");
    default:
        return jv_number(v);
    }
}

int tt__json_valid(const uint8_t *p, size_t n)
{
    struct jv v = { p, p + n, 0 };
    if (!jv_value(&v)) {
        return 0;
    }
    jv_ws(&v);
    return v.p == v.end;
}
