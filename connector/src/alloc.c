/** @file alloc.c
 * Allocation wrappers with a failure-injection hook for tests.
 *
 * The hook is a plain counter, not thread-safe: it is meant for single-threaded unit tests.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static long fail_after = -1;

static int should_fail(void)
{
    if (fail_after < 0) {
        return 0;
    }
    if (fail_after == 0) {
        return 1;
    }
    fail_after--;
    return 0;
}

void tt__alloc_fail_after(long n)
{
    fail_after = n;
}

void *tt__malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n);
}

void *tt__calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : calloc(n, size);
}

void *tt__realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n);
}

void tt__free(void *p)
{
    free(p);
}

char *tt__strndup(const char *s, size_t n)
{
    char *d = tt__malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *tt__strdup(const char *s)
{
    return tt__strndup(s, strlen(s));
}
