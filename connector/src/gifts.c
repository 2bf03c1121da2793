/** @file gifts.c
 * The gift list indexed by id (gifts.h). Its entries are kept as the JSON TikTok sent, for
 * extendedGiftInfo (1.x: the gift/list entry whose id equals giftId), with the diamond count
 * read once here so that no one reads it back out of the text later.
 *
 * Lists are shared: the rooms a process follows may all get the same list (TikTok's is about
 * 250 KB), and a client keeps its list for its life. Every list in use is on one list under a
 * mutex (clients connect from many threads), found by its text's hash and length and compared
 * whole, and freed with its last holder; only the holders' count changes after it is built.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
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

struct tt_gift_list {
    char *json;
    size_t len, n;
    uint64_t hash;
    struct tt_gift_ref *refs;
    unsigned holders; /* under `lock` */
    struct tt_gift_list *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_gift_list *lists; /* every list held by some client */

static enum tt_err add_ref(struct tt_gift_list *l, size_t *cap, const struct tt_gift_ref *r)
{
    if (l->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        void *p = tt__realloc(l->refs, ncap * sizeof *l->refs);
        if (!p) {
            return TT_ERR_NOMEM;
        }
        l->refs = p;
        *cap = ncap;
    }
    l->refs[l->n++] = *r;
    return TT_OK;
}

static enum tt_err index_gifts(struct tt_gift_list *l)
{
    struct jr_iter it;
    struct pb_slice arr = { (const uint8_t *)l->json, l->len }, e, v;
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
        if (add_ref(l, &cap, &r)) {
            return TT_ERR_NOMEM;
        }
    }
    if (l->n) { /* a list without ids leaves refs NULL, which qsort may not be given */
        qsort(l->refs, l->n, sizeof *l->refs, cmp_ref);
    }
    return TT_OK;
}

static void list_free(struct tt_gift_list *l)
{
    if (l) {
        tt__free(l->json);
        tt__free(l->refs);
        tt__free(l);
    }
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint8_t)p[i]) * UINT64_C(1099511628211);
    }
    return h;
}

/* The held list with this text, one more holder counted; NULL if none. Under `lock`. */
static struct tt_gift_list *find_held(const char *p, size_t n, uint64_t hash)
{
    for (struct tt_gift_list *l = lists; l; l = l->next) {
        if (l->hash == hash && l->len == n && !memcmp(l->json, p, n)) {
            l->holders++;
            return l;
        }
    }
    return NULL;
}

/* The shared list with this text: found, or built here (outside the lock: 250 KB to copy and
 * index) and added, unless another thread added the same text meanwhile. */
static struct tt_gift_list *acquire(const char *p, size_t n)
{
    n = strnlen(p, n); /* the text a copy holds: up to a NUL */
    uint64_t hash = fnv1a(p, n);
    pthread_mutex_lock(&lock);
    struct tt_gift_list *l = find_held(p, n, hash), *mine;
    pthread_mutex_unlock(&lock);
    if (l) {
        return l;
    }
    mine = tt__calloc(1, sizeof *mine);
    if (!mine || !(mine->json = tt__strndup(p, n))) {
        list_free(mine);
        return NULL;
    }
    mine->len = n;
    mine->hash = hash;
    if (index_gifts(mine)) {
        list_free(mine);
        return NULL;
    }
    pthread_mutex_lock(&lock);
    if (!(l = find_held(p, n, hash))) {
        l = mine;
        l->holders = 1;
        l->next = lists;
        lists = l;
        mine = NULL;
    }
    pthread_mutex_unlock(&lock);
    list_free(mine);
    return l;
}

static void release(struct tt_gift_list *l)
{
    if (!l) {
        return;
    }
    pthread_mutex_lock(&lock);
    int last = --l->holders == 0;
    if (last) {
        struct tt_gift_list **pp = &lists;
        while (*pp != l) {
            pp = &(*pp)->next;
        }
        *pp = l->next;
    }
    pthread_mutex_unlock(&lock);
    if (last) {
        list_free(l);
    }
}

enum tt_err tt__gifts_set(struct tt_gifts *g, const char *p, size_t n)
{
    struct tt_gift_list *l = acquire(p, n); /* before the release: the same list stays */
    tt__gifts_free(g);
    if (!l) {
        return TT_ERR_NOMEM;
    }
    g->list = l;
    g->json = l->json;
    g->refs = l->refs;
    g->n = l->n;
    return TT_OK;
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
    release(g->list);
    memset(g, 0, sizeof *g);
}

size_t tt__gifts_lists(void)
{
    size_t n = 0;
    pthread_mutex_lock(&lock);
    for (const struct tt_gift_list *l = lists; l; l = l->next) {
        n++;
    }
    pthread_mutex_unlock(&lock);
    return n;
}
