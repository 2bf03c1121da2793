/** @file test_paho_heap.c
 * bridge/paho_heap.c, what paho's allocations go through in the daemon: blocks come zeroed (a
 * field paho forgets to set reads as 0 or NULL), a realloc keeps the contents and zeroes what
 * it adds, and a block freed twice (paho 1.3.12 does, after a failed QoS 1 write) or a
 * pointer that was never paho's is counted and ignored without being read, which
 * AddressSanitizer checks in the sanitized build. The pool of small blocks (bridge/paho_pool.c)
 * holds a freed block back, then reuses it, also when one thread allocates and another frees,
 * and leaves blocks to the C library once its reservation is spent;
 * the set of live blocks of the larger ones is exercised with many blocks freed in shuffled
 * order and with threads.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "paho_heap.h"
#include "paho_pool.h"

void *mymalloc(char *file, int line, size_t size);
void *myrealloc(char *file, int line, void *p, size_t size);
void myfree(char *file, int line, void *p);
int Heap_initialize(void);
void Heap_terminate(void);

static char F[] = "test_paho_heap.c"; /* paho passes its file names as char * */

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

static void reallocs(void)
{
    unsigned char *p = mymalloc(F, __LINE__, 10);
    memcpy(p, "0123456789", 10);
    p = myrealloc(F, __LINE__, p, 4000);
    CHECK(p != NULL);
    CHECK(p && memcmp(p, "0123456789", 10) == 0);
    CHECK(p && all_zero(p + 10, 4000 - 10));
    memset(p, 'x', 4000);
    p = myrealloc(F, __LINE__, p, 5);
    CHECK(p && memcmp(p, "xxxxx", 5) == 0);
    p = myrealloc(F, __LINE__, p, 60); /* grows again: what it adds is zero, not the old x */
    CHECK(p && all_zero(p + 5, 55));
    myfree(F, __LINE__, p);

    CHECK(myrealloc(F, __LINE__, NULL, 10) == NULL); /* as paho's tracker answered */
    myfree(F, __LINE__, NULL);
    CHECK(mymalloc(F, __LINE__, SIZE_MAX - 4) == NULL);
}

/* paho 1.3.12's failed QoS 1 write: the payload freed with the command, a new message taken,
 * then the payload freed again when the session is cleaned. The second free must neither read
 * the freed block nor release anything. */
static void second_frees(void)
{
    struct paho_heap_stats before = paho_heap_stats();
    char *topic = mymalloc(F, __LINE__, 24), *payload = mymalloc(F, __LINE__, 2206);
    CHECK_EQ(paho_heap_stats().live_blocks, before.live_blocks + 2);
    myfree(F, __LINE__, payload);
    myfree(F, __LINE__, topic);
    /* the next messages, of the same sizes: none may get a freed address before the second
     * free of it comes, or that free would release a live message */
    char *next[8];
    int reused = 0;
    for (size_t i = 0; i < 8; i++) {
        next[i] = mymalloc(F, __LINE__, i % 2 ? 24 : 2206);
        memset(next[i], 'n', 24);
        reused += next[i] == payload || next[i] == topic;
    }
    CHECK_EQ(reused, 0);
    myfree(F, __LINE__, payload);
    myfree(F, __LINE__, topic);
    CHECK(myrealloc(F, __LINE__, payload, 100) == NULL);
    struct paho_heap_stats after = paho_heap_stats();
    CHECK_EQ(after.ignored_frees, before.ignored_frees + 3);
    CHECK_EQ(after.live_blocks, before.live_blocks + 8);
    for (size_t i = 0; i < 8; i++) {
        CHECK(next[i][0] == 'n' && next[i][23] == 'n');
        myfree(F, __LINE__, next[i]);
    }

    /* a pointer the C library gave: not paho's, left alone (and still usable) */
    char *theirs = malloc(64);
    myfree(F, __LINE__, theirs);
    CHECK_EQ(paho_heap_stats().ignored_frees, before.ignored_frees + 4);
    memset(theirs, 1, 64);
    free(theirs);
    CHECK_EQ(paho_heap_stats().live_blocks, before.live_blocks);
}

/* A freed block of the pool comes back only after HOLD (256) more frees of its class, so that
 * paho's second free finds it still free; then it does come back, zeroed, so that the pool
 * reuses its memory rather than growing */
static void hold_back(void)
{
    char *x = mymalloc(F, __LINE__, 70);
    memset(x, 0xbe, 70);
    myfree(F, __LINE__, x);
    int back = 0;
    for (int i = 1; i <= 5000 && !back; i++) {
        char *y = mymalloc(F, __LINE__, 70);
        if (y == x) {
            back = i;
            CHECK(all_zero((unsigned char *)y, 70));
        }
        myfree(F, __LINE__, y);
    }
    CHECK(back > 256);
    CHECK(back < 1000);
}

/* Blocks past the pool's largest class (96 bytes) are the C library's, with the same rules; a
 * pool block that grows past it moves there, keeping its contents */
static void large(void)
{
    struct paho_heap_stats before = paho_heap_stats();
    unsigned char *big = mymalloc(F, __LINE__, 40000);
    CHECK(big && all_zero(big, 40000));
    memset(big, 'b', 40000);
    big = myrealloc(F, __LINE__, big, 100);
    CHECK(big && big[99] == 'b');
    myfree(F, __LINE__, big);
    myfree(F, __LINE__, big);

    unsigned char *p = mymalloc(F, __LINE__, 100);
    memset(p, 'p', 100);
    p = myrealloc(F, __LINE__, p, 50000);
    CHECK(p && p[0] == 'p' && p[99] == 'p' && all_zero(p + 100, 50000 - 100));
    myfree(F, __LINE__, p);
    struct paho_heap_stats after = paho_heap_stats();
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.ignored_frees, before.ignored_frees + 1);
}

/* As in the bridge: one thread allocates, another frees. The memory of the freed blocks must
 * come back to the allocating thread: 100,000 blocks of 80 bytes, 64 in flight at a time, take
 * the pool under 1 MiB (12.8 MB had none come back). */
#define RING 64
static void *ring[RING];
static unsigned ring_head, ring_tail;
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ring_cond = PTHREAD_COND_INITIALIZER;

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&ring_lock);
        while (ring_head == ring_tail) {
            pthread_cond_wait(&ring_cond, &ring_lock);
        }
        void *p = ring[ring_tail++ % RING];
        pthread_cond_broadcast(&ring_cond);
        pthread_mutex_unlock(&ring_lock);
        if (!p) {
            return NULL;
        }
        myfree(F, __LINE__, p);
    }
}

static void pass(void *p)
{
    pthread_mutex_lock(&ring_lock);
    while (ring_head - ring_tail == RING) {
        pthread_cond_wait(&ring_cond, &ring_lock);
    }
    ring[ring_head++ % RING] = p;
    pthread_cond_broadcast(&ring_cond);
    pthread_mutex_unlock(&ring_lock);
}

static void across_threads(void)
{
    struct paho_heap_stats before = paho_heap_stats();
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, consumer, NULL), 0);
    for (int i = 0; i < 100000; i++) {
        char *p = mymalloc(F, __LINE__, 80);
        p[0] = p[79] = 'x';
        pass(p);
    }
    pass(NULL);
    pthread_join(t, NULL);
    struct paho_heap_stats after = paho_heap_stats();
    CHECK(after.pool_bytes - before.pool_bytes < ((size_t)1 << 20));
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.ignored_frees, before.ignored_frees);
}

#define MANY 20000

/* Many blocks of 1 to 300 bytes (the pool's and, past 80, the C library's), freed in shuffled
 * order, half of them moved by realloc first: enough to grow every shard's table of live
 * blocks several times. A lookup that stopped short after a removal would leave a block
 * behind and count a free as ignored */
static void many(void)
{
    static void *p[MANY];
    struct paho_heap_stats before = paho_heap_stats();
    for (size_t i = 0; i < MANY; i++) {
        p[i] = mymalloc(F, __LINE__, 1 + i % 300);
    }
    CHECK_EQ(paho_heap_stats().live_blocks, before.live_blocks + MANY);
    unsigned x = 12345;
    for (size_t i = MANY - 1; i > 0; i--) {
        x = x * 1103515245u + 12345u;
        size_t j = (x >> 8) % (i + 1);
        void *t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    for (size_t i = 0; i < MANY; i += 2) { /* half moved by realloc, half freed */
        p[i] = myrealloc(F, __LINE__, p[i], 500 + i % 700);
        myfree(F, __LINE__, p[i + 1]);
    }
    CHECK_EQ(paho_heap_stats().live_blocks, before.live_blocks + MANY / 2);
    for (size_t i = 0; i < MANY; i += 2) {
        myfree(F, __LINE__, p[i]);
    }
    struct paho_heap_stats after = paho_heap_stats();
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.ignored_frees, before.ignored_frees);
}

/* The bridge's thread and paho's two threads allocate and free at once */
/* Half the pool's sizes, half the C library's, so that reallocs cross over */
static size_t churn_size(unsigned x)
{
    return (x >> 20) % 2 ? (x >> 16) % PAHO_POOL_MAX + 1 : (x >> 16) % 3000 + 1;
}

static void *churn(void *arg)
{
    unsigned x = (unsigned)(uintptr_t)arg;
    void *held[64] = { 0 };
    for (int i = 0; i < 100000; i++) {
        x = x * 1103515245u + 12345u;
        size_t k = (x >> 8) % 64;
        if (held[k] && (x & 1)) {
            myfree(F, __LINE__, held[k]);
            held[k] = NULL;
        } else if (held[k]) {
            held[k] = myrealloc(F, __LINE__, held[k], churn_size(x));
        } else {
            held[k] = mymalloc(F, __LINE__, churn_size(x));
        }
    }
    for (size_t k = 0; k < 64; k++) {
        myfree(F, __LINE__, held[k]);
    }
    return NULL;
}

static void threads(void)
{
    struct paho_heap_stats before = paho_heap_stats();
    pthread_t t[3];
    for (uintptr_t i = 0; i < 3; i++) {
        CHECK_EQ(pthread_create(&t[i], NULL, churn, (void *)(i + 1)), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
    }
    struct paho_heap_stats after = paho_heap_stats();
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.ignored_frees, before.ignored_frees);
}

/* Past the pool's reservation (64 MiB: about half a million blocks), blocks come from the C
 * library, zeroed and freed as before. Last: the pool keeps what it has cut. */
#define PAST_POOL 600000
static void spent(void)
{
    static unsigned char *p[PAST_POOL];
    struct paho_heap_stats before = paho_heap_stats();
    size_t pooled = 0, zero = 0;
    for (size_t i = 0; i < PAST_POOL; i++) {
        p[i] = mymalloc(F, __LINE__, 80);
        pooled += p[i] && paho_pool_owns(p[i]);
        zero += p[i] && all_zero(p[i], 80);
        if (p[i]) {
            p[i][0] = 1;
        }
    }
    CHECK_EQ(zero, PAST_POOL);
    CHECK(pooled > PAST_POOL / 2);
    CHECK(pooled < PAST_POOL);
    CHECK_EQ(paho_heap_stats().live_blocks, before.live_blocks + PAST_POOL);
    for (size_t i = 0; i < PAST_POOL; i++) {
        myfree(F, __LINE__, p[i]);
    }
    struct paho_heap_stats after = paho_heap_stats();
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.ignored_frees, before.ignored_frees);
    CHECK(after.pool_bytes <= ((size_t)64 << 20));
}

int main(void)
{
    CHECK_EQ(Heap_initialize(), 0);
    zeroed(24);   /* a properties record: a count, a length, an array pointer */
    zeroed(1000); /* an event's payload */
    reallocs();
    second_frees();
    hold_back();
    large();
    many();
    threads();
    across_threads();
    spent();
    CHECK_EQ(paho_heap_stats().live_blocks, 0);
    Heap_terminate();
    return h_finish();
}
