/** @file arena.h
 * A bump allocator with a size cap. The simulator builds nanopb message trees whose strings,
 * bytes fields and sub-messages are pointers; an arena lets an encoder allocate them freely and
 * drop the whole tree with one reset once the message is on the wire. A second, long-lived arena
 * holds what the scenario file defines (users, strings, lists).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_ARENA_H
#define SIM_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head; /* newest chunk first */
    size_t total;             /* bytes of all chunks */
    size_t cap;               /* arena_alloc() fails past this many bytes */
};

/* An empty arena that may grow to cap bytes (0: 64 MiB). */
void arena_init(struct arena *a, size_t cap);
/* n bytes aligned for any type, zeroed; NULL when the cap would be passed or malloc fails. */
void *arena_alloc(struct arena *a, size_t n);
/* A copy of s (NULL for NULL); NULL on failure. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Frees every chunk but the first, which is kept for reuse. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
