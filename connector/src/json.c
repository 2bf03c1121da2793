/** @file json.c
 * JSON writer (escaping, exact integers, base64) and a JSON.parse-compatible validator.
 *
 * SPDX-License-Identifier: MIT
 */
#include "base64.h"
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

static void escape_one(struct common_buf *b, uint8_t c)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
    switch (c) {
    case '"':
        common_buf_add(b, "\\\"", 2);
        return;
    case '\\':
        common_buf_add(b, "\\\\", 2);
        return;
    case '\n':
        common_buf_add(b, "\\n", 2);
        return;
    case '\r':
        common_buf_add(b, "\\r", 2);
        return;
    case '\t':
        common_buf_add(b, "\\t", 2);
        return;
    case '\b':
        common_buf_add(b, "\\b", 2);
        return;
    case '\f':
        common_buf_add(b, "\\f", 2);
        return;
    default:
        common_buf_add(b, e, 6);
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

#if defined(__SSE2__)
static inline unsigned sse_special(__m128i v)
{
    /* a signed "less than 0x20" also catches every byte >= 0x80 */
    return (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                         _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))));
}
#endif

/* Most strings have nothing to escape: copy them while checking them, straight into the room
 * reserved for them, with loads and stores of 8 or 16 bytes (the last one overlapping the one
 * before) instead of a byte loop and a memcpy call per string. Returns how many leading bytes
 * were copied: n when the whole string was clean, else a prefix the caller goes on from. */
static size_t copy_clean(char *o, const uint8_t *p, size_t n)
{
    uint64_t a, z;
    if (n < 8) {
        for (size_t i = 0; i < n; i++) {
            if (special(p[i])) {
                return 0;
            }
            o[i] = (char)p[i];
        }
        return n;
    }
    if (n <= 16) {
        memcpy(&a, p, 8);
        memcpy(&z, p + n - 8, 8);
        if (word_special(a) || word_special(z)) {
            return 0;
        }
        memcpy(o, &a, 8);
        memcpy(o + n - 8, &z, 8);
        return n;
    }
#if defined(__SSE2__)
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        if (sse_special(v)) {
            return i;
        }
        _mm_storeu_si128((__m128i *)(void *)(o + i), v);
    }
    if (i < n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
        if (sse_special(v)) {
            return i;
        }
        _mm_storeu_si128((__m128i *)(void *)(o + n - 16), v);
    }
    return n;
#else
    return 0;
#endif
}

void tt__json_str(struct common_buf *b, const uint8_t *p, size_t n)
{
    size_t i, run;
    /* worst case 6 bytes out per byte in: reserve what a clean string takes once, so the
     * common case is written with no further check */
    if (b->cap - b->len < n + 2 && common_buf_grow(b, n + 2)) {
        return;
    }
    b->p[b->len++] = '"';
    i = run = copy_clean(b->p + b->len, p, n);
    b->len += i;
    while (i < n) {
        uint64_t x;
#if defined(__SSE2__)
        if (n - i >= 16 && !sse_special(_mm_loadu_si128((const __m128i *)(const void *)(p + i)))) {
            i += 16;
            continue;
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
        if (p[i] >= 0x80) {
            size_t l = utf8_len(p + i, n - i);
            if (l) { /* valid UTF-8 is copied as it is: it stays in the run */
                i += l;
                continue;
            }
        }
        common_buf_add(b, p + run, i - run);
        if (p[i] < 0x80) {
            escape_one(b, p[i]);
        } else {
            common_buf_add(b, "\xef\xbf\xbd", 3); /* U+FFFD for each invalid byte */
        }
        i++;
        run = i;
    }
    common_buf_add(b, p + run, n - run);
    common_buf_addc(b, '"');
}

static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                  "31323334353637383940414243444546474849505152535455565758596061"
                                  "62636465666768697071727374757677787980818283848586878889909192"
                                  "93949596979899";

/* Exactly 8 digits of v < 10^8 at out: two independent halves of two pairs each, so the
 * divisions (multiplications once compiled) do not wait on one another. */
static void eight_digits(char *out, uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;
    memcpy(out, digit_pairs + (hi / 100) * 2, 2);
    memcpy(out + 2, digit_pairs + (hi % 100) * 2, 2);
    memcpy(out + 4, digit_pairs + (lo / 100) * 2, 2);
    memcpy(out + 6, digit_pairs + (lo % 100) * 2, 2);
}

/* How many decimal digits v has (v > 0): log10 from the bit length (1233 / 4096 is just below
 * log10(2)), then one comparison to correct it. */
static unsigned digit_count(uint64_t v)
{
    static const uint64_t p10[20] = { 1u,
                                      10u,
                                      100u,
                                      1000u,
                                      10000u,
                                      100000u,
                                      1000000u,
                                      10000000u,
                                      100000000u,
                                      1000000000u,
                                      10000000000u,
                                      100000000000u,
                                      1000000000000u,
                                      10000000000000u,
                                      100000000000000u,
                                      1000000000000000u,
                                      10000000000000000u,
                                      100000000000000000u,
                                      1000000000000000000u,
                                      10000000000000000000u };
    unsigned t = (unsigned)(64 - __builtin_clzll(v)) * 1233 >> 12;
    return t + 1 - (v < p10[t]);
}

/* Ids and times (13 to 19 digits) are most of the long numbers: they are cut into 8-digit
 * chunks written from a pair table, and only the leading chunk is written pair by pair. The
 * digits go straight into the buffer, from the last one back. */
void tt__json_u64(struct common_buf *b, uint64_t v)
{
    if (v < 10) { /* counts, flags, levels: most numbers are one digit */
        common_buf_addc(b, (char)('0' + v));
        return;
    }
    unsigned n = digit_count(v);
    if (b->cap - b->len < n && common_buf_grow(b, n)) {
        return;
    }
    char *o = b->p + b->len;
    size_t end = n;
    b->len += n;
    while (v >= 100000000) {
        end -= 8;
        eight_digits(o + end, (uint32_t)(v % 100000000));
        v /= 100000000;
    }
    uint32_t w = (uint32_t)v; /* the leading chunk, below 10^8, without its leading zeros */
    while (w >= 100) {
        end -= 2;
        memcpy(o + end, digit_pairs + (w % 100) * 2, 2);
        w /= 100;
    }
    if (w >= 10) {
        memcpy(o + end - 2, digit_pairs + w * 2, 2);
    } else {
        o[end - 1] = (char)('0' + w);
    }
}

void tt__json_i64(struct common_buf *b, int64_t v)
{
    if (v < 0) {
        common_buf_addc(b, '-');
        tt__json_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        tt__json_u64(b, (uint64_t)v);
    }
}

void tt__json_u64_str(struct common_buf *b, uint64_t v)
{
    common_buf_addc(b, '"');
    tt__json_u64(b, v);
    common_buf_addc(b, '"');
}

void tt__json_base64(struct common_buf *b, const uint8_t *p, size_t n)
{
    common_buf_addc(b, '"');
    if (!common_buf_grow(b, COMMON_BASE64_LEN(n))) {
        common_base64_encode(p, n, b->p + b->len);
        b->len += COMMON_BASE64_LEN(n);
    }
    common_buf_addc(b, '"');
}

/* ---- validator: a recursive-descent check of RFC 8259, as JSON.parse accepts it ---- */

struct jv {
    const uint8_t *p, *end;
    int depth;
    int too_deep; /* the document failed on JV_MAX_DEPTH, not on its syntax */
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
        v->too_deep = 1;
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

int tt__json_check(const uint8_t *p, size_t n)
{
    struct jv v = { p, p + n, 0, 0 };
    if (!jv_value(&v)) {
        return v.too_deep ? TT_JSON_DEEP : TT_JSON_BAD;
    }
    jv_ws(&v);
    return v.p == v.end ? TT_JSON_OK : TT_JSON_BAD;
}

int tt__json_valid(const uint8_t *p, size_t n)
{
    return tt__json_check(p, n) == TT_JSON_OK;
}

const char *tt__json_why(int check)
{
    return check == TT_JSON_DEEP ? "JSON nested deeper than 64 levels" : "not JSON";
}

/* ---- reading: walk JSON text in place, no tree, numbers kept as their text ---- */

static int jr_skip(struct jv *v)
{
    v->depth = 0;
    return jv_value(v);
}

int tt__jr_member(struct pb_slice obj, const char *key, struct pb_slice *out)
{
    struct jv v = { obj.p, obj.p + obj.n, 0, 0 };
    size_t klen = strlen(key);
    jv_ws(&v);
    if (v.p >= v.end || *v.p != '{') {
        return 0;
    }
    v.p++;
    for (;;) {
        jv_ws(&v);
        if (v.p >= v.end || *v.p != '"') {
            return 0;
        }
        const uint8_t *ks = v.p + 1;
        if (!jv_string(&v)) {
            return 0;
        }
        /* keys with escapes never match: TikTok's keys are plain ASCII */
        int hit = (size_t)(v.p - 1 - ks) == klen && !memcmp(ks, key, klen);
        jv_ws(&v);
        if (v.p >= v.end || *v.p++ != ':') {
            return 0;
        }
        jv_ws(&v);
        const uint8_t *vs = v.p;
        if (!jr_skip(&v)) {
            return 0;
        }
        if (hit) {
            out->p = vs;
            out->n = (size_t)(v.p - vs);
            return 1;
        }
        jv_ws(&v);
        if (v.p >= v.end || *v.p != ',') {
            return 0;
        }
        v.p++;
    }
}

int tt__jr_path(struct pb_slice doc, const char *path, struct pb_slice *out)
{
    char key[64];
    struct pb_slice cur = doc;
    while (*path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key) {
            return 0;
        }
        memcpy(key, path, n);
        key[n] = '\0';
        if (!tt__jr_member(cur, key, &cur)) {
            return 0;
        }
        path += n + (path[n] == '.');
    }
    *out = cur;
    return 1;
}

void tt__jr_array_begin(struct jr_iter *it, struct pb_slice arr)
{
    struct jv v = { arr.p, arr.p + arr.n, 0, 0 };
    jv_ws(&v);
    it->p = v.p;
    it->end = v.end;
    it->state = v.p < v.end && *v.p == '[' ? 0 : 2;
    if (!it->state) {
        it->p++;
    }
}

int tt__jr_array_next(struct jr_iter *it, struct pb_slice *elem)
{
    struct jv v = { it->p, it->end, 0, 0 };
    if (it->state == 2) {
        return 0;
    }
    jv_ws(&v);
    if (v.p < v.end && *v.p == ']') {
        it->state = 2;
        return 0;
    }
    if (it->state == 1) {
        if (v.p >= v.end || *v.p != ',') {
            it->state = 2;
            return 0;
        }
        v.p++;
        jv_ws(&v);
    }
    const uint8_t *s = v.p;
    if (!jr_skip(&v)) {
        it->state = 2;
        return 0;
    }
    elem->p = s;
    elem->n = (size_t)(v.p - s);
    it->p = v.p;
    it->state = 1;
    return 1;
}

static int hexval(uint8_t c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static uint32_t hex4(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v = v << 4 | (uint32_t)hexval(p[i]);
    }
    return v;
}

int tt__jr_string(struct pb_slice v, char *out, size_t outsz)
{
    struct jv c = { v.p, v.p + v.n, 0, 0 };
    size_t o = 0;
    if (!outsz || v.n < 2 || v.p[0] != '"' || !jv_string(&c)) {
        return 0;
    }
    for (const uint8_t *p = v.p + 1; p < c.p - 1; p++) {
        char tmp[4];
        size_t n = 1;
        tmp[0] = (char)*p;
        if (*p == '\\') {
            uint8_t e = *++p;
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *k = strchr(from, e);
            if (e == 'u') {
                uint32_t cp = hex4(p + 1);
                p += 4;
                if (cp >= 0xd800 && cp < 0xdc00 && p + 6 < c.p && p[1] == '\\' && p[2] == 'u') {
                    uint32_t lo = hex4(p + 3);
                    if (lo >= 0xdc00 && lo < 0xe000) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        p += 6;
                    }
                }
                n = put_utf8(tmp, cp >= 0xd800 && cp < 0xe000 ? 0xfffd : cp);
            } else {
                tmp[0] = k ? to[k - from] : (char)e;
            }
        }
        if (o + n >= outsz) {
            return 0;
        }
        memcpy(out + o, tmp, n);
        o += n;
    }
    out[o] = '\0';
    return 1;
}

int tt__jr_int(struct pb_slice v, int64_t *out)
{
    char buf[32];
    const char *s = buf;
    if (v.n && v.p[0] == '"') {
        if (!tt__jr_string(v, buf, sizeof buf)) {
            return 0;
        }
    } else {
        if (v.n == 0 || v.n >= sizeof buf) {
            return 0;
        }
        memcpy(buf, v.p, v.n);
        buf[v.n] = '\0';
    }
    int neg = *s == '-';
    s += neg;
    if (*s < '0' || *s > '9') {
        return 0;
    }
    uint64_t x = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (x > (UINT64_MAX - 9) / 10) {
            return 0;
        }
        x = x * 10 + (uint64_t)(*s - '0');
    }
    if (*s || x > (uint64_t)INT64_MAX) {
        return 0;
    }
    *out = neg ? -(int64_t)x : (int64_t)x;
    return 1;
}
