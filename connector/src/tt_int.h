/** @file tt_int.h
 * Private definition of struct tt_decoder.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_INT_H
#define TT_INT_H

#include "tt.h"
#include "buf.h"
#include "gzip.h"
#include "gifts.h"

struct tt_decoder {
    struct tt_limits lim;
    struct tt_gzip *gz;
    struct common_buf inflated;   /* the current frame's inflated payload */
    struct common_buf json;       /* the current event's JSON */
    struct common_buf end_json;   /* a completed gift's JSON with totalDiamonds (dec_gift.c) */
    const struct tt_gifts *gifts; /* the client's gift list, NULL for a bare decoder */
    struct common_buf strs;       /* NUL-terminated copies for tt_frame_info */
    struct common_buf method;     /* NUL-terminated copy of the current method name */
    char errmsg[256];
};

/** Let gift events read `gifts` (borrowed; it must outlive the decoder or be reset). */
void tt__decoder_set_gifts(struct tt_decoder *d, const struct tt_gifts *gifts);

#endif
