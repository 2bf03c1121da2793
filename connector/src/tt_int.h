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

struct tt_decoder {
    struct tt_limits lim;
    struct tt_gzip *gz;
    struct tt_buf inflated; /* the current frame's inflated payload */
    struct tt_buf json;     /* the current event's JSON */
    struct tt_buf strs;     /* NUL-terminated copies for tt_frame_info */
    struct tt_buf method;   /* NUL-terminated copy of the current method name */
    char errmsg[256];
};

#endif
