/** @file gzip.h
 * gzip payloads of push frames: detection by magic bytes and inflation under hard caps.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_GZIP_H
#define TT_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct tt_gzip; /* owns a libdeflate decompressor, reused for every payload */

/** 1.x and 2.x both look at the first three bytes, not at the frame's compress_type header. */
static inline int tt__gzip_is(const uint8_t *p, size_t n)
{
    return n > 2 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 0x08;
}

enum tt_err tt__gzip_new(struct tt_gzip **out);
void tt__gzip_free(struct tt_gzip *g);

/** Inflate one gzip member into `out` (reset first). Fails with TT_ERR_GZIP_BOMB when the output
 *  passes `max_out`, or passes 1 MiB at more than `max_ratio` times the input size. */
enum tt_err tt__gzip_inflate(struct tt_gzip *g, const uint8_t *in, size_t n, struct common_buf *out,
                             size_t max_out, unsigned max_ratio);

#endif
