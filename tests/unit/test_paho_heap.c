/** @file test_paho_heap.c
 * bridge/paho_heap.c, what paho's allocations go through in the daemon: blocks come zeroed (a
 * field paho forgets to set reads as 0 or NULL), a realloc keeps the contents and zeroes what
 * it adds, a second free and a realloc of a freed block are ignored, as paho's own heap
 * tracker ignored them (except under AddressSanitizer, where a second free must still show).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

void *mymalloc(char *file, int line, size_t size);
void *myrealloc(char *file, int line, void *p, size_t size);
void myfree(char *file, int line, void *p);
int Heap_initialize(void);
void Heap_terminate(void);

static char F[] = "test_paho_heap.c"; /* paho passes its file names as char * */

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return 0;
        }
    }
    return 1;
}

/* Dirty the heap with freed blocks of this size, then take one of that size through paho's
 * allocator: it must come zeroed however the C library recycles memory. */
static void zeroed(size_t size)
{
    void *dirty[8];
    for (size_t i = 0; i < 8; i++) {
        dirty[i] = malloc(size + 16);
        if (dirty[i]) {
            memset(dirty[i], 0xbe, size + 16);
        }
    }
    for (size_t i = 0; i < 8; i++) {
        free(dirty[i]);
    }
    unsigned char *p = mymalloc(F, __LINE__, size);
    CHECK(p != NULL);
    CHECK(p && all_zero(p, size));
    CHECK(((uintptr_t)p % _Alignof(max_align_t)) == 0);
    myfree(F, __LINE__, p);
}

int main(void)
{
    CHECK_EQ(Heap_initialize(), 0);
    zeroed(24);   /* a properties record: a count, a length, an array pointer */
    zeroed(1000); /* an event's payload */

    unsigned char *p = mymalloc(F, __LINE__, 10);
    memcpy(p, "0123456789", 10);
    p = myrealloc(F, __LINE__, p, 4000);
    CHECK(p != NULL);
    CHECK(p && memcmp(p, "0123456789", 10) == 0);
    CHECK(p && all_zero(p + 10, 4000 - 10));
    p = myrealloc(F, __LINE__, p, 5);
    CHECK(p && memcmp(p, "01234", 5) == 0);

    CHECK(myrealloc(F, __LINE__, NULL, 10) == NULL); /* as paho's tracker answered */
    myfree(F, __LINE__, NULL);
    CHECK(mymalloc(F, __LINE__, SIZE_MAX - 4) == NULL);

    myfree(F, __LINE__, p);
#if !defined(UNDER_ASAN)
    /* freed: a second free and a realloc are ignored (the C library would abort on the first,
     * or hand the block out twice) */
    myfree(F, __LINE__, p);
    CHECK(myrealloc(F, __LINE__, p, 100) == NULL);
    void *a = mymalloc(F, __LINE__, 100), *b = mymalloc(F, __LINE__, 100);
    CHECK(a != b);
    myfree(F, __LINE__, a);
    myfree(F, __LINE__, b);
#endif
    Heap_terminate();
    return h_finish();
}
