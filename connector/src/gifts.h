/** @file gifts.h
 * The gift list (gift/list's data.gifts) indexed by id: what a gift event's extendedGiftInfo
 * and its diamond count come from when the message itself lacks them (gifts.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_GIFTS_H
#define TT_GIFTS_H

#include <stddef.h>
#include <stdint.h>

#include "tt.h"

/* One gift of the list: a slice of `json`, and the fields events need typed. */
struct tt_gift_ref {
    int64_t id;
    int64_t diamond_count;
    size_t off, len;
};

struct tt_gifts {
    char *json;               /* JSON text of the list (an array), NULL until one was fetched */
    struct tt_gift_ref *refs; /* sorted by id */
    size_t n;
};

/** Replace the list with a copy of the JSON array at `p`/`n` and index it. */
enum tt_err tt__gifts_set(struct tt_gifts *g, const char *p, size_t n);
/** The entry of gift `id`, or NULL (also when `g` is NULL or empty). */
const struct tt_gift_ref *tt__gifts_find(const struct tt_gifts *g, int64_t id);
void tt__gifts_free(struct tt_gifts *g);

#endif
