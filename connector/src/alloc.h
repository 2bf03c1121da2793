/** @file alloc.h
 * The library's allocation functions. Every allocation in libtiktok goes through these, so the
 * tests can make the Nth one fail (tt__alloc_fail_after) and check that each failure returns
 * TT_ERR_NOMEM cleanly (curl's torture tests, cheap version).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_ALLOC_H
#define TT_ALLOC_H

#include <stddef.h>

void *tt__malloc(size_t n);
void *tt__calloc(size_t n, size_t size);
void *tt__realloc(void *p, size_t n);
void tt__free(void *p);

/** Copies of a string and of n bytes (NUL added); NULL when out of memory. */
char *tt__strdup(const char *s);
char *tt__strndup(const char *s, size_t n);

/** Test hook: after `n` more successful allocations, fail every allocation; -1 turns it off. */
void tt__alloc_fail_after(long n);

#define TT_FREE(p)   \
    do {             \
        tt__free(p); \
        (p) = NULL;  \
    } while (0)

#endif
