/** @file buffer.h
 * A growable byte buffer with a hard cap and a sticky error (buffer.c), shared by the library,
 * the simulator and the tools (curl's dynbuf idea, made sticky so writers stay short).
 *
 * Writers append without checking each call; the first failure sets `err` (ENOMEM: an
 * allocation failed; EMSGSIZE: the cap would be passed), later appends are no-ops, and the
 * owner checks `err` once at the end. It never aborts: the library, which never exits, maps
 * `err` to its own codes (connector/src/buf.h). Allocation goes through `realloc_fn` and
 * `free_fn` (realloc and free unless the owner sets others after init: the library's are the
 * ones its tests make fail).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef COMMON_BUFFER_H
#define COMMON_BUFFER_H

#include <stddef.h>
#include <string.h>

struct common_buf {
    char *p;
    size_t len, cap, max; /* cap excludes the byte kept for common_buf_cstr's NUL */
    int err;              /* 0, ENOMEM or EMSGSIZE */
    void *(*realloc_fn)(void *, size_t);
    void (*free_fn)(void *);
};

/** An empty buffer that may hold at most `max` bytes. */
void common_buf_init(struct common_buf *b, size_t max);
/** Frees the bytes; the buffer is empty (same cap and allocator) and may be used again. */
void common_buf_free(struct common_buf *b);
/** Empty the buffer (keeps the memory) and clear the error. */
void common_buf_reset(struct common_buf *b);
/** Empty the buffer and clear the error, freeing its memory if it grew past `keep` bytes: a
 *  buffer that serves one message after another keeps what the usual one needs, not what the
 *  largest one took. */
void common_buf_trim(struct common_buf *b, size_t keep);
/** Make room for `n` more bytes; returns 0 on success, else sets err and returns -1. */
int common_buf_grow(struct common_buf *b, size_t n);
/** printf at the end of the buffer. */
void common_buf_printf(struct common_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/** NUL-terminate without counting the NUL in len; returns the string or NULL on error. */
const char *common_buf_cstr(struct common_buf *b);

static inline void common_buf_add(struct common_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n && common_buf_grow(b, n)) {
        return;
    }
    if (n) {
        memcpy(b->p + b->len, p, n);
    }
    b->len += n;
}

static inline void common_buf_addc(struct common_buf *b, char c)
{
    if (b->cap == b->len && common_buf_grow(b, 1)) {
        return;
    }
    b->p[b->len++] = c;
}

static inline void common_buf_adds(struct common_buf *b, const char *s)
{
    common_buf_add(b, s, strlen(s));
}

#endif
