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

struct tt_gift_list; /* gifts.c: one list's text and index, shared */

/* A client's view of its list. The list is shared by every client of the process whose list is
 * the same text (TikTok sends each room the same one, about 250 KB): read-only, freed with its
 * last holder. */
struct tt_gifts {
    const char *json;               /* JSON text of the list (an array), NULL until fetched */
    const struct tt_gift_ref *refs; /* sorted by id */
    size_t n;
    struct tt_gift_list *list;
};

/** Replace the list with the JSON array at `p`/`n`: the shared copy of that text, or a new
 *  copy indexed here. On failure `g` holds no list. */
enum tt_err tt__gifts_set(struct tt_gifts *g, const char *p, size_t n);
/** The entry of gift `id`, or NULL (also when `g` is NULL or empty). */
const struct tt_gift_ref *tt__gifts_find(const struct tt_gifts *g, int64_t id);
/** Let go of the list (freed with its last holder); `g` holds none after. */
void tt__gifts_free(struct tt_gifts *g);
/** How many distinct lists the process holds (for tests). */
size_t tt__gifts_lists(void);

#endif
