/** @file dedup.c
 * Event deduplication by msgId. The backlog after a reconnect repeats recent messages
 * (docs/protocol.md §2): the last `window` ids are remembered in a ring, evicted in insertion
 * order, and found through an open-addressed hash set of ring positions at most half full.
 * 16 bytes per remembered id (8 in the ring, 2 x 4 in the set). The set held the ids themselves
 * until 2026-12-05, 24 bytes per id: with the default window of 4,096 that was half the
 * resident memory of a bridge following 1,000 quiet streamers (docs/PERFORMANCE.md).
 *
 * Why the tables grow: a quiet room sees a few dozen msgIds an hour, and the full window
 * (64 KiB) for each of 1,000 such rooms was a third of the bridge's memory. They start at
 * DEDUP_START ids and grow eightfold while full until they hold the window (64, 512, 4,096
 * by default). Why eightfold and not double: memory that settles in two early steps. Doubling
 * made a room at 2 messages a second grow for half an hour, which from outside is what a leak
 * looks like (the soak's RSS bar failed on it, docs/RELIABILITY.md), and left six freed
 * blocks behind instead of two. A growth whose allocation fails keeps the tables as they are
 * (fewer ids remembered, nothing lost) and is tried again the next time they are full.
 *
 * SPDX-License-Identifier: MIT
 */
#include "alloc.h"
#include "client_int.h"

#define EMPTY        0
#define GONE         1 /* tombstone; a used slot holds the ring position + SLOT0 */
#define SLOT0        2

#define DEDUP_START  64 /* ids remembered before the first growth */
#define DEDUP_GROWTH 8  /* each growth multiplies the tables by this, up to the window */

enum tt_err tt__dedup_init(struct tt_dedup *d, size_t window)
{
    memset(d, 0, sizeof *d);
    if (!window) {
        return TT_OK;
    }
    if (window > (UINT32_MAX - SLOT0) / 2) {
        return TT_ERR_INVAL;
    }
    d->window = window;
    d->cap = window < DEDUP_START ? window : DEDUP_START;
    d->ring = tt__calloc(d->cap, sizeof *d->ring);
    d->set = tt__calloc(d->cap * 2, sizeof *d->set);
    if (!d->ring || !d->set) {
        tt__dedup_free(d);
        return TT_ERR_NOMEM;
    }
    return TT_OK;
}

void tt__dedup_free(struct tt_dedup *d)
{
    tt__free(d->ring);
    tt__free(d->set);
    memset(d, 0, sizeof *d);
}

static size_t slot_of(uint64_t id, size_t n)
{
    id ^= id >> 33; /* murmur3's finaliser: msgIds share their high bits */
    id *= UINT64_C(0xff51afd7ed558ccd);
    id ^= id >> 33;
    return (size_t)(id % n);
}

/* Slot holding id, or (insert) the first free slot on its probe path; SIZE_MAX if absent. */
static size_t find(const struct tt_dedup *d, uint64_t id, int insert)
{
    size_t n = d->cap * 2, i = slot_of(id, n), free_slot = SIZE_MAX;
    for (size_t k = 0; k < n; k++, i = (i + 1) % n) {
        uint32_t v = d->set[i];
        if (v >= SLOT0 && d->ring[v - SLOT0] == id) {
            return i;
        }
        if (v == GONE && free_slot == SIZE_MAX) {
            free_slot = i;
        }
        if (v == EMPTY) {
            return insert ? (free_slot != SIZE_MAX ? free_slot : i) : SIZE_MAX;
        }
    }
    return insert ? free_slot : SIZE_MAX;
}

/* Remember ring position `pos`, whose id is written already. */
static void add(struct tt_dedup *d, size_t pos)
{
    size_t s = find(d, d->ring[pos], 1);
    if (s != SIZE_MAX) {
        d->set[s] = (uint32_t)(pos + SLOT0);
    }
}

/* Tombstones make absent-id probes longer: past half the tables, rebuild from the ring. */
static void rebuild(struct tt_dedup *d)
{
    memset(d->set, 0, d->cap * 2 * sizeof *d->set);
    for (size_t k = 0; k < d->count; k++) {
        add(d, (d->head + k) % d->cap);
    }
    d->gone = 0;
}

/* Grow the tables (up to the window), the ring's ids in their order from position 0. */
static void grow(struct tt_dedup *d)
{
    size_t cap = d->cap * DEDUP_GROWTH < d->window ? d->cap * DEDUP_GROWTH : d->window;
    uint64_t *ring = tt__calloc(cap, sizeof *ring);
    uint32_t *set = tt__calloc(cap * 2, sizeof *set);
    if (!ring || !set) {
        tt__free(ring);
        tt__free(set);
        return;
    }
    for (size_t k = 0; k < d->count; k++) {
        ring[k] = d->ring[(d->head + k) % d->cap];
    }
    /* Written now, though calloc zeroed it: memory calloc has just added to its heap it leaves
     * untouched, and the ring then became resident id by id, for half an hour at 2 messages a
     * second: memory that looked like a slow leak from outside. The set is written whole by
     * rebuild(). */
    memset(ring + d->count, 0, (cap - d->count) * sizeof *ring);
    tt__free(d->ring);
    tt__free(d->set);
    d->ring = ring;
    d->set = set;
    d->cap = cap;
    d->head = 0;
    rebuild(d);
}

int tt__dedup_seen(struct tt_dedup *d, uint64_t id)
{
    if (!id || !d->cap) {
        return 0; /* no msgId (0): never a duplicate, it may be anything */
    }
    if (find(d, id, 0) != SIZE_MAX) {
        return 1;
    }
    if (d->count == d->cap && d->cap < d->window) {
        grow(d);
    }
    if (d->count == d->cap) { /* forget the oldest, before its ring slot is reused */
        size_t old = find(d, d->ring[d->head], 0);
        if (old != SIZE_MAX) {
            d->set[old] = GONE;
            d->gone++;
        }
        d->head = (d->head + 1) % d->cap;
        d->count--;
    }
    if (d->gone > d->cap / 2) {
        rebuild(d);
    }
    size_t pos = (d->head + d->count) % d->cap;
    d->ring[pos] = id;
    d->count++;
    add(d, pos);
    return 0;
}

size_t tt__dedup_recent(const struct tt_dedup *d, uint64_t *out, size_t cap)
{
    size_t n = d->count < cap ? d->count : cap;
    for (size_t k = 0; k < n; k++) {
        out[k] = d->ring[(d->head + d->count - n + k) % d->cap];
    }
    return n;
}
