/** @file gifts.h
 * The simulator's gift catalogue: what `webcast/gift/list/` serves and what gift events refer
 * to. Our own table of common TikTok LIVE gifts (ids, names and diamond prices as publicly
 * listed); type 1 gifts can be sent in streaks, type 2 arrive once.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_GIFTS_H
#define SIM_GIFTS_H

#include <stddef.h>
#include <stdint.h>

struct gift {
    int64_t id;
    const char *name;
    int32_t diamonds;
    int32_t type; /* 1: streakable (combo), 2: single */
};

extern const struct gift sim_gifts[];
extern const size_t sim_n_gifts;

/* Index of the gift with this id or (case-insensitive) name; -1 if none. */
int gift_find_id(int64_t id);
int gift_find_name(const char *name);

#endif
