/** @file buf.h
 * tt_buf: a growable byte buffer with a hard cap and a sticky error flag.
 *
 * Writers append without checking each call; the first failure (allocation or cap) sets `err`,
 * later appends are no-ops, and the owner checks `err` once at the end (curl's dynbuf idea,
 * made sticky so the JSON renderers stay short).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_BUF_H
#define TT_BUF_H

#include <stddef.h>
#include <string.h>

#include "tt.h"

struct tt_buf {
    char *p;
    size_t len, cap, max;
    enum tt_err err;
};

void tt__buf_init(struct tt_buf *b, size_t max);
void tt__buf_free(struct tt_buf *b);
/** Empty the buffer (keeps the memory) and clear the error. */
void tt__buf_reset(struct tt_buf *b);
/** Make room for `n` more bytes; returns 0 on success, else sets err and returns -1. */
int tt__buf_grow(struct tt_buf *b, size_t n);

static inline void tt__buf_add(struct tt_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n && tt__buf_grow(b, n)) {
        return;
    }
    if (n) {
        memcpy(b->p + b->len, p, n);
    }
    b->len += n;
}

static inline void tt__buf_addc(struct tt_buf *b, char c)
{
    if (b->cap == b->len && tt__buf_grow(b, 1)) {
        return;
    }
    b->p[b->len++] = c;
}

static inline void tt__buf_adds(struct tt_buf *b, const char *s)
{
    tt__buf_add(b, s, strlen(s));
}

/** NUL-terminate without counting the NUL in len; returns the string or NULL on error. */
const char *tt__buf_cstr(struct tt_buf *b);

#endif
