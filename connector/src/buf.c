/** @file buf.c
 * tt_buf implementation: geometric growth up to the cap, then a sticky TT_ERR_TOO_LARGE.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "buf.h"
#include "alloc.h"

void tt__buf_init(struct tt_buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->err = TT_OK;
}

void tt__buf_free(struct tt_buf *b)
{
    tt__free(b->p);
    tt__buf_init(b, b->max);
}

void tt__buf_reset(struct tt_buf *b)
{
    b->len = 0;
    b->err = TT_OK;
}

int tt__buf_grow(struct tt_buf *b, size_t n)
{
    if (b->err) {
        return -1;
    }
    if (b->p && b->cap - b->len >= n) {
        return 0; /* room already: no realloc (this runs for every frame) */
    }
    /* +1 keeps room for the NUL of tt__buf_cstr */
    if (n > b->max || b->len > b->max - n) {
        b->err = TT_ERR_TOO_LARGE;
        return -1;
    }
    size_t want = b->len + n + 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < want) {
        cap *= 2;
    }
    if (cap > b->max + 1) {
        cap = b->max + 1;
    }
    char *p = tt__realloc(b->p, cap);
    if (!p) {
        b->err = TT_ERR_NOMEM;
        return -1;
    }
    b->p = p;
    b->cap = cap - 1;
    return 0;
}

const char *tt__buf_cstr(struct tt_buf *b)
{
    if (!b->p && tt__buf_grow(b, 0)) {
        return NULL;
    }
    if (b->err) {
        return NULL;
    }
    b->p[b->len] = '\0'; /* cap excludes the byte kept for this NUL */
    return b->p;
}
