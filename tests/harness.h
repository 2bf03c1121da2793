/** @file harness.h
 * The unit-test harness: CHECK macros that count, a protobuf writer to build test input, and
 * the closing line `N passed, N failed` every test binary ends with.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_HARNESS_H
#define TT_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int h_passed, h_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            h_passed++;                                                              \
        } else {                                                                     \
            h_failed++;                                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ(a, b)                                                                          \
    do {                                                                                        \
        long long a_ = (long long)(a), b_ = (long long)(b);                                     \
        if (a_ == b_) {                                                                         \
            h_passed++;                                                                         \
        } else {                                                                                \
            h_failed++;                                                                         \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, \
                    a_, #b, b_);                                                                \
        }                                                                                       \
    } while (0)

/* `hay` contains `needle` (for checking JSON text) */
#define CHECK_HAS(hay, needle)                                                            \
    do {                                                                                  \
        const char *h_ = (hay);                                                           \
        if (h_ && strstr(h_, (needle))) {                                                 \
            h_passed++;                                                                   \
        } else {                                                                          \
            h_failed++;                                                                   \
            fprintf(stderr, "%s:%d: %.300s\n  does not contain %s\n", __FILE__, __LINE__, \
                    h_ ? h_ : "(null)", (needle));                                        \
        }                                                                                 \
    } while (0)

static inline int h_finish(void)
{
    printf("%d passed, %d failed\n", h_passed, h_failed);
    return h_failed != 0;
}

/* ---- a protobuf writer for test input ---- */
struct pbw {
    uint8_t b[1 << 16];
    size_t n;
};

static inline void pbw_varint(struct pbw *w, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        w->b[w->n++] = (uint8_t)(c | (v ? 0x80 : 0));
    } while (v);
}

static inline void pbw_int(struct pbw *w, uint32_t num, uint64_t v)
{
    pbw_varint(w, (uint64_t)num << 3);
    pbw_varint(w, v);
}

static inline void pbw_bytes(struct pbw *w, uint32_t num, const void *p, size_t n)
{
    pbw_varint(w, (uint64_t)num << 3 | 2);
    pbw_varint(w, n);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static inline void pbw_str(struct pbw *w, uint32_t num, const char *s)
{
    pbw_bytes(w, num, s, strlen(s));
}

static inline void pbw_msg(struct pbw *w, uint32_t num, const struct pbw *m)
{
    pbw_bytes(w, num, m->b, m->n);
}

#endif
