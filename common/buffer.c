/** @file buffer.c
 * The growable buffer (buffer.h): geometric growth up to the cap, then a sticky EMSGSIZE.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "buffer.h"

void common_buf_init(struct common_buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->err = 0;
    b->realloc_fn = realloc;
    b->free_fn = free;
}

void common_buf_free(struct common_buf *b)
{
    if (b->p) { /* a zeroed buffer that never grew may be freed too */
        b->free_fn(b->p);
    }
    b->p = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}

void common_buf_reset(struct common_buf *b)
{
    b->len = 0;
    b->err = 0;
}

void common_buf_trim(struct common_buf *b, size_t keep)
{
    if (b->cap > keep) {
        common_buf_free(b);
    } else {
        common_buf_reset(b);
    }
}

int common_buf_grow(struct common_buf *b, size_t n)
{
    if (b->err) {
        return -1;
    }
    if (b->p && b->cap - b->len >= n) {
        return 0; /* room already: no realloc (this runs for every frame) */
    }
    if (n > b->max || b->len > b->max - n) {
        b->err = EMSGSIZE;
        return -1;
    }
    size_t want = b->len + n + 1; /* +1: the NUL of common_buf_cstr */
    size_t cap = b->cap ? b->cap : 256;
    while (cap < want) {
        cap *= 2;
    }
    if (cap > b->max + 1) {
        cap = b->max + 1;
    }
    char *p = b->realloc_fn(b->p, cap);
    if (!p) {
        b->err = ENOMEM;
        return -1;
    }
    b->p = p;
    b->cap = cap - 1;
    return 0;
}

void common_buf_printf(struct common_buf *b, const char *fmt, ...)
{
    va_list ap;
    if (b->err) {
        return;
    }
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len + 1 : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = EINVAL;
        return;
    }
    if ((size_t)n > b->cap - b->len || !b->p) { /* did not fit (the NUL has its own byte) */
        if (common_buf_grow(b, (size_t)n)) {
            return;
        }
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

const char *common_buf_cstr(struct common_buf *b)
{
    if ((!b->p && common_buf_grow(b, 0)) || b->err) {
        return NULL;
    }
    b->p[b->len] = '\0'; /* cap excludes the byte kept for this NUL */
    return b->p;
}
