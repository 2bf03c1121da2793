/** @file util.c
 * Small shared helpers of the simulator (its clocks and seeded generator are common/'s):
 * FNV-1a hashing, and an open-addressing hash map from 64-bit keys
 * to 32-bit values (rooms by handle and by room id, users by handle), which keeps lookups
 * constant-time with hundreds of thousands of rooms.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <time.h>

#include "sim.h"

void *sim_grow(void *p, uint32_t *cap, uint32_t n, size_t size, uint32_t first)
{
    uint32_t c;

    if (n < *cap)
        return p;
    c = *cap ? *cap * 2 : first;
    p = realloc(p, c * size);
    if (p != NULL)
        *cap = c;
    return p;
}

uint64_t sim_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3u;
    }
    return h;
}

static uint32_t slot_of(const struct hmap *m, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15u;

    return (uint32_t)(h >> 32) & (m->cap - 1);
}

static int grow(struct hmap *m)
{
    struct hmap n = { 0 };

    n.cap = m->cap ? m->cap * 2 : 64;
    n.keys = calloc(n.cap, sizeof(*n.keys));
    n.vals = calloc(n.cap, sizeof(*n.vals));
    if (n.keys == NULL || n.vals == NULL) {
        free(n.keys);
        free(n.vals);
        return -1;
    }
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->keys[i] != 0)
            hmap_put(&n, m->keys[i], m->vals[i]);
    free(m->keys);
    free(m->vals);
    *m = n;
    return 0;
}

/* key 0 is the empty slot marker; callers never use it (ids are positive, hashes get |1) */
int hmap_put(struct hmap *m, uint64_t key, uint32_t val)
{
    uint32_t i;

    if (key == 0)
        return -1;
    if ((m->n + 1) * 4 > m->cap * 3 && grow(m) != 0)
        return -1;
    for (i = slot_of(m, key); m->keys[i] != 0 && m->keys[i] != key; i = (i + 1) & (m->cap - 1))
        ;
    if (m->keys[i] == 0)
        m->n++;
    m->keys[i] = key;
    m->vals[i] = val;
    return 0;
}

bool hmap_get(const struct hmap *m, uint64_t key, uint32_t *val)
{
    if (m->cap == 0 || key == 0)
        return false;
    for (uint32_t i = slot_of(m, key); m->keys[i] != 0; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) {
            *val = m->vals[i];
            return true;
        }
    }
    return false;
}

void hmap_free(struct hmap *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}
