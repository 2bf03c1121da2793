/** @file gifts.c
 * The gift list indexed by id (gifts.h). Its entries are kept as the JSON TikTok sent, for
 * extendedGiftInfo (1.x: the gift/list entry whose id equals giftId), with the diamond count
 * read once here so that no one reads it back out of the text later.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gifts.h"
#include "json.h"

static int cmp_ref(const void *a, const void *b)
{
    const struct tt_gift_ref *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static enum tt_err add_ref(struct tt_gifts *g, size_t *cap, const struct tt_gift_ref *r)
{
    if (g->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        void *p = tt__realloc(g->refs, ncap * sizeof *g->refs);
        if (!p) {
            return TT_ERR_NOMEM;
        }
        g->refs = p;
        *cap = ncap;
    }
    g->refs[g->n++] = *r;
    return TT_OK;
}

static enum tt_err index_gifts(struct tt_gifts *g)
{
    struct jr_iter it;
    struct pb_slice arr = { (const uint8_t *)g->json, strlen(g->json) }, e, v;
    size_t cap = 0;
    tt__jr_array_begin(&it, arr);
    while (tt__jr_array_next(&it, &e)) {
        struct tt_gift_ref r = { 0, 0, (size_t)(e.p - arr.p), e.n };
        if (!tt__jr_member(e, "id", &v) || !tt__jr_int(v, &r.id)) {
            continue;
        }
        if (tt__jr_member(e, "diamond_count", &v) && !tt__jr_int(v, &r.diamond_count)) {
            r.diamond_count = 0;
        }
        if (add_ref(g, &cap, &r)) {
            return TT_ERR_NOMEM;
        }
    }
    if (g->n) { /* a list without ids leaves refs NULL, which qsort may not be given */
        qsort(g->refs, g->n, sizeof *g->refs, cmp_ref);
    }
    return TT_OK;
}

enum tt_err tt__gifts_set(struct tt_gifts *g, const char *p, size_t n)
{
    tt__gifts_free(g);
    g->json = tt__strndup(p, n);
    return g->json ? index_gifts(g) : TT_ERR_NOMEM;
}

const struct tt_gift_ref *tt__gifts_find(const struct tt_gifts *g, int64_t id)
{
    size_t lo = 0, hi = g ? g->n : 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->refs[mid].id == id) {
            return &g->refs[mid];
        }
        if (g->refs[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

void tt__gifts_free(struct tt_gifts *g)
{
    tt__free(g->json);
    tt__free(g->refs);
    memset(g, 0, sizeof *g);
}
