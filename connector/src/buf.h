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

/* What a buffer that serves one frame or event after another keeps between them
 * (common_buf_trim). Frames inflate to a few KiB (6.4 KB on average in bench-decode's corpus of
 * real messages); one that needed more gives its memory back when it is done, or a single gzip
 * bomb would hold max_inflate_bytes (8 MiB) for the client's life. */
#define TT_BUF_KEEP ((size_t)64 << 10)

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
