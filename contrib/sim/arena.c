/** @file arena.c
 * Bump allocator with a cap (see arena.h). Chunks grow to fit large requests; a reset keeps the
 * first chunk so that an encoder reusing the arena per frame does not call malloc at all once
 * its working set fits.
 *
 * SPDX-License-Identifier: MIT
 */
#include "arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN (64u * 1024u)
#define ALIGN     (alignof(max_align_t))

struct arena_chunk {
    struct arena_chunk *next;
    size_t size; /* usable bytes in data */
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *a, size_t cap)
{
    a->head = NULL;
    a->total = 0;
    a->cap = cap ? cap : (size_t)64 * 1024 * 1024;
}

static struct arena_chunk *chunk_new(struct arena *a, size_t need)
{
    size_t size = need > CHUNK_MIN ? need : CHUNK_MIN;
    struct arena_chunk *c;

    if (size > a->cap || a->total > a->cap - size)
        return NULL;
    c = malloc(sizeof(*c) + size);
    if (c == NULL)
        return NULL;
    c->size = size;
    c->used = 0;
    c->next = a->head;
    a->head = c;
    a->total += size;
    return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_chunk *c = a->head;
    size_t off;
    void *p;

    if (n == 0)
        n = 1;
    if (n > a->cap)
        return NULL;
    n = (n + ALIGN - 1) & ~(ALIGN - 1);
    off = c ? c->used : 0;
    if (c == NULL || c->size - off < n) {
        c = chunk_new(a, n);
        if (c == NULL)
            return NULL;
        off = 0;
    }
    p = c->data + off;
    c->used = off + n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = arena_alloc(a, n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

void arena_reset(struct arena *a)
{
    struct arena_chunk *c = a->head;

    if (c == NULL)
        return;
    /* keep the oldest chunk: it is the one sized for the common case */
    while (c->next != NULL) {
        struct arena_chunk *next = c->next;

        a->total -= c->size;
        free(c);
        c = next;
    }
    c->used = 0;
    a->head = c;
}

void arena_free(struct arena *a)
{
    struct arena_chunk *c = a->head;

    while (c != NULL) {
        struct arena_chunk *next = c->next;

        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}
