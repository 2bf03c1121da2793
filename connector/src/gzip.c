/** @file gzip.c
 * Whole-buffer gzip decompression with absolute and ratio caps, the decompression-bomb guard.
 *
 * Why libdeflate and not zlib: a push frame's payload is one small gzip member that is in memory
 * whole, which is exactly what libdeflate is built for; it inflates these payloads about 1.8x
 * faster than zlib's streaming inflate (measured in docs/PERFORMANCE.md), and inflation is half
 * of the cost of decoding a frame. The gzip trailer's ISIZE field tells the output size, so the
 * output buffer is sized once and never past the caps: a payload that claims more is refused
 * before any work, and one whose ISIZE lies fails without writing past the buffer.
 *
 * SPDX-License-Identifier: MIT
 */
#include <libdeflate.h>

#include "alloc.h"
#include "gzip.h"

/* libdeflate's fast loop runs only while a longest match (258 bytes) and a few words more fit
 * before the end of the output buffer; in an exactly sized buffer the last ~300 bytes of every
 * payload go through its slow loop, a third of a 1 KB payload. Room past the claimed size
 * keeps it in the fast loop; the result is still checked against the claim. */
enum { GZIP_SLACK = 320 };

struct tt_gzip {
    struct libdeflate_decompressor *d;
};

enum tt_err tt__gzip_new(struct tt_gzip **out)
{
    struct tt_gzip *g = tt__calloc(1, sizeof *g);
    if (!g) {
        return TT_ERR_NOMEM;
    }
    g->d = libdeflate_alloc_decompressor();
    if (!g->d) {
        tt__free(g);
        return TT_ERR_NOMEM;
    }
    *out = g;
    return TT_OK;
}

void tt__gzip_free(struct tt_gzip *g)
{
    if (!g) {
        return;
    }
    libdeflate_free_decompressor(g->d);
    tt__free(g);
}

enum tt_err tt__gzip_inflate(struct tt_gzip *g, const uint8_t *in, size_t n, struct common_buf *out,
                             size_t max_out, unsigned max_ratio)
{
    size_t got = 0;
    common_buf_reset(out);
    if (n < 18) { /* 10-byte header + 8-byte trailer */
        return TT_ERR_GZIP;
    }
    /* ISIZE: the uncompressed size mod 2^32, little-endian, in the last 4 bytes. It is only a
     * claim: size the buffer by it, never past the cap, and check the result against it. */
    size_t claimed = (size_t)in[n - 4] | (size_t)in[n - 3] << 8 | (size_t)in[n - 2] << 16 |
                     (size_t)in[n - 1] << 24;
    size_t want =
            max_out > GZIP_SLACK && claimed < max_out - GZIP_SLACK ? claimed + GZIP_SLACK : max_out;
    if (common_buf_grow(out, want ? want : 1)) {
        return tt__buf_err(out) == TT_ERR_TOO_LARGE ? TT_ERR_GZIP_BOMB : tt__buf_err(out);
    }
    size_t avail = out->cap < max_out ? out->cap : max_out;
    switch (libdeflate_gzip_decompress(g->d, in, n, out->p, avail, &got)) {
    case LIBDEFLATE_SUCCESS:
        if (got != claimed) {
            return TT_ERR_GZIP; /* truncated, or the trailer does not match the data */
        }
        if (got > ((size_t)1 << 20) && got / n > max_ratio) {
            return TT_ERR_GZIP_BOMB;
        }
        out->len = got;
        return TT_OK;
    case LIBDEFLATE_INSUFFICIENT_SPACE:
        /* at the cap: a bomb; below it: more data than the trailer said, a corrupt payload */
        return avail == max_out ? TT_ERR_GZIP_BOMB : TT_ERR_GZIP;
    default:
        return TT_ERR_GZIP;
    }
}
