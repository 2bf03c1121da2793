/** @file buf.h
 * The library's growable buffers are common/buffer.h's, allocated through the library's own
 * functions (alloc.h: the ones its tests make fail) and with failures as enum tt_err.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_BUF_H
#define TT_BUF_H

#include <errno.h>

#include "alloc.h"
#include "buffer.h"
#include "tt.h"

/** An empty buffer of at most `max` bytes, on the library's allocator. */
static inline void tt__buf_init(struct common_buf *b, size_t max)
{
    common_buf_init(b, max);
    b->realloc_fn = tt__realloc;
    b->free_fn = tt__free;
}

/** The buffer's failure: TT_OK, TT_ERR_NOMEM or TT_ERR_TOO_LARGE. */
static inline enum tt_err tt__buf_err(const struct common_buf *b)
{
    return !b->err ? TT_OK : b->err == EMSGSIZE ? TT_ERR_TOO_LARGE : TT_ERR_NOMEM;
}

#endif
