/** @file paho_heap.c
 * paho.mqtt.c's allocations, without its heap tracker's global lock.
 *
 * Debian 12 builds paho.mqtt.c (1.3.12) without HIGH_PERFORMANCE, so its Heap.h turns every
 * malloc, realloc and free inside the library into mymalloc, myrealloc and myfree: heap
 * tracking for paho's own debugging. Each call takes one global mutex, makes two extra
 * allocations (a record and a copy of the source file's name) and updates a tree of every live
 * block. The bridge's thread and paho's send and receive threads all allocate for every
 * message, so they queue on that mutex: with it, paho's asynchronous client cost about a third
 * more CPU per QoS 1 message (`make bench-paho`, docs/PERFORMANCE.md).
 *
 * The bridge links Debian's static libpaho-mqtt3as.a (bridge/daemon.mk) with this file, whose
 * functions then stand where the archive's Heap.o would: the linker takes an archive member
 * only for a symbol nothing else defines. Should a later paho need another symbol of Heap.o,
 * the linker pulls that member in too and fails on the duplicate definitions: loudly, at build
 * time. `make PAHO_LINK=shared` links the shared library instead and leaves this file out.
 *
 * Blocks of up to PAHO_POOL_MAX bytes (most of paho's) come from bridge/paho_pool.c, which keeps
 * memory for paho alone; larger ones from the C library, tracked in a set of live blocks.
 *
 * The tracker is also a safety net, and paho 1.3.12 falls into it; so this file keeps what the
 * net caught, without the lock everyone waits on:
 * - paho frees blocks twice. A QoS 1 publish whose write fails (the broker closed the
 *   connection: ejabberd does after a message over its max_payload_size) frees the message's
 *   topic and payload with the command, and again when the session is cleaned (upstream
 *   issues #1621, #1532). The tracker frees only blocks it knows; so does this file: a pool
 *   block by the state in its header (the pool's memory is never the C library's again, so
 *   the header can be read after a free), a larger one from the set, split over shards, each
 *   with its own short-held lock. A free of a block not live is counted and ignored; one not
 *   in the pool nor in the set is never read.
 * - paho reads fields it never set. A CONNACK without properties to an MQTT 5 connect (a
 *   broker that refuses MQTT 5 with a 3.1.1 answer, as aedes does) leaves the properties of
 *   paho's record of it uninitialised, and paho then frees their pointer. The tracker zeroed
 *   every block; so does this file: the pointer is NULL, not garbage.
 * - the tracker rounded each size up to 16 bytes and added an 8-byte guard at the end, so a
 *   small overrun by paho landed in memory of the block's own; this file keeps that slack.
 * One hazard the tracker had is narrowed: had the C library handed a freed block's address to
 * paho again before paho's second free of it, that free would release the new block. So the
 * pool hands an address out again only after 256 more frees of its size class, and each shard
 * of the set holds its last QUARANTINE freed blocks back from the C library (about 256 in
 * all). A large block that realloc moves goes back at once, as realloc releases it; paho's
 * known second frees are not of such blocks.
 *
 * The signatures are paho's (src/Heap.h). Blocks allocated here are freed here or by paho's
 * MQTTAsync_free / MQTTAsync_freeMessage, which call myfree: the same allocator either way.
 *
 * SPDX-License-Identifier: MIT
 */
#include "paho_heap.h"
#include "paho_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Declared here: paho installs no header for them. Visible to the static link only. */
void *mymalloc(char *file, int line, size_t size);
void *myrealloc(char *file, int line, void *p, size_t size);
void myfree(char *file, int line, void *p);
int Heap_initialize(void);
void Heap_terminate(void);

#define SHARD_BITS  4 /* 16 locks for three threads: they rarely meet */
#define SHARDS      (1u << SHARD_BITS)
#define SLACK       8               /* the tracker's trailing eyecatcher */
#define MIN_SLOTS   64              /* a shard's first table */
#define QUARANTINE  16              /* freed blocks a shard holds back from the C library */
#define MAX_REQUEST (SIZE_MAX - 32) /* larger sizes would wrap in padded() */

/* One live block: its address and the size paho asked for */
struct slot {
    uintptr_t p; /* 0: empty */
    size_t size;
};

/* Open addressing with linear probing; never more than three quarters full */
struct shard {
    pthread_mutex_t lock;
    struct slot *slots;
    size_t cap; /* a power of two, or 0 before the first block */
    size_t used;
    void *held[QUARANTINE]; /* the latest blocks freed here, oldest at `next` */
    unsigned next;
    char pad[64]; /* each shard's lock on a cache line of its own */
};

#define SHARD_INIT                        \
    {                                     \
        .lock = PTHREAD_MUTEX_INITIALIZER \
    }
#define SHARD_INIT4 SHARD_INIT, SHARD_INIT, SHARD_INIT, SHARD_INIT
static struct shard shards[SHARDS] = { SHARD_INIT4, SHARD_INIT4, SHARD_INIT4, SHARD_INIT4 };
_Static_assert(SHARDS == 16, "one initializer per shard");

static atomic_size_t ignored_frees;

/* Fibonacci hashing of the address (its low 4 bits are always 0): the top bits pick the shard,
 * the next ones the slot */
static uint64_t hash(uintptr_t p)
{
    return (uint64_t)(p >> 4) * 0x9e3779b97f4a7c15u;
}

static struct shard *shard_of(uintptr_t p)
{
    return &shards[hash(p) >> (64 - SHARD_BITS)];
}

static size_t home(const struct shard *s, uintptr_t p)
{
    return (size_t)(hash(p) >> 24) & (s->cap - 1);
}

/* The slot holding p, or NULL; with s locked */
static struct slot *find(struct shard *s, uintptr_t p)
{
    if (!s->cap) {
        return NULL;
    }
    for (size_t i = home(s, p);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i].p == p) {
            return &s->slots[i];
        }
        if (!s->slots[i].p) {
            return NULL;
        }
    }
}

static void place(struct shard *s, uintptr_t p, size_t size)
{
    size_t i = home(s, p);
    while (s->slots[i].p) {
        i = (i + 1) & (s->cap - 1);
    }
    s->slots[i] = (struct slot){ p, size };
    s->used++;
}

/* Twice the table (or the first one); 0 when memory is short */
static int grow(struct shard *s)
{
    size_t cap = s->cap ? s->cap * 2 : MIN_SLOTS;
    struct slot *slots = calloc(cap, sizeof *slots);
    if (!slots) {
        return 0;
    }
    struct slot *old = s->slots;
    size_t old_cap = s->cap;
    s->slots = slots;
    s->cap = cap;
    s->used = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].p) {
            place(s, old[i].p, old[i].size);
        }
    }
    free(old);
    return 1;
}

/* Records a new live block; 0 when memory is short */
static int track(uintptr_t p, size_t size)
{
    struct shard *s = shard_of(p);
    pthread_mutex_lock(&s->lock);
    int ok = (s->used + 1) * 4 <= s->cap * 3 || grow(s);
    if (ok) {
        place(s, p, size);
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* Empties slot i, moving later entries of its probe run back so that no lookup stops short */
static void vacate(struct shard *s, size_t i)
{
    size_t mask = s->cap - 1;
    for (size_t j = (i + 1) & mask; s->slots[j].p; j = (j + 1) & mask) {
        size_t h = home(s, s->slots[j].p);
        /* j's entry may fill the hole at i unless its home lies cyclically in (i, j] */
        if (((j - h) & mask) >= ((j - i) & mask)) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = (struct slot){ 0, 0 };
    s->used--;
}

/* The allocation for `size` bytes: rounded up to 16 as the tracker did, and its guard */
static size_t padded(size_t size)
{
    return ((size + 15) & ~(size_t)15) + SLACK;
}

void *mymalloc(char *file, int line, size_t size)
{
    (void)file;
    (void)line;
    if (size > MAX_REQUEST) {
        return NULL;
    }
    void *p = paho_pool_alloc(padded(size), size);
    if (p) {
        return p;
    }
    p = calloc(1, padded(size));
    if (p && !track((uintptr_t)p, size)) {
        free(p);
        p = NULL;
    }
    return p;
}

/* A pool block that grows past its class moves to a larger one (or to the C library) */
static void *pool_realloc(void *p, size_t size)
{
    size_t bytes, was;
    if (!paho_pool_sizes(p, &bytes, &was)) {
        atomic_fetch_add(&ignored_frees, 1);
        return NULL;
    }
    if (padded(size) <= bytes) {
        paho_pool_resize(p, size, padded(size));
        return p;
    }
    void *n = mymalloc(NULL, 0, size);
    if (n) {
        memcpy(n, p, was < size ? was : size);
        paho_pool_free(p);
    }
    return n;
}

/* A block that does not move stays in its slot; one that moves leaves its old slot before the
 * lock is let go, so the address, free again, can be recorded by whoever gets it next. */
void *myrealloc(char *file, int line, void *p, size_t size)
{
    (void)file;
    (void)line;
    if (!p || size > MAX_REQUEST) {
        return NULL; /* paho never reallocates NULL; its tracker answered NULL to that */
    }
    if (paho_pool_owns(p)) {
        return pool_realloc(p, size);
    }
    struct shard *s = shard_of((uintptr_t)p);
    pthread_mutex_lock(&s->lock);
    struct slot *slot = find(s, (uintptr_t)p);
    char *n = slot ? realloc(p, padded(size)) : NULL;
    if (!n) { /* unknown, or memory short: p unchanged, as realloc leaves it */
        if (!slot) {
            atomic_fetch_add(&ignored_frees, 1);
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
    }
    size_t was = slot->size;
    if (size > was) { /* zeroed like the rest, even where a shrink left old bytes */
        memset(n + was, 0, padded(size) - was);
    }
    if (n == p) {
        slot->size = size;
        pthread_mutex_unlock(&s->lock);
        return n;
    }
    vacate(s, (size_t)(slot - s->slots));
    pthread_mutex_unlock(&s->lock);
    /* Short of memory for the table, the block is paho's all the same: untracked, it leaks at
     * its free rather than corrupting anything */
    (void)track((uintptr_t)n, size);
    return n;
}

void myfree(char *file, int line, void *p)
{
    (void)file;
    (void)line;
    if (!p) {
        return;
    }
    if (paho_pool_owns(p)) {
        if (paho_pool_free(p)) {
            atomic_fetch_add(&ignored_frees, 1);
        }
        return;
    }
    struct shard *s = shard_of((uintptr_t)p);
    void *release = NULL;
    pthread_mutex_lock(&s->lock);
    struct slot *slot = find(s, (uintptr_t)p);
    if (slot) {
        vacate(s, (size_t)(slot - s->slots));
        release = s->held[s->next];
        s->held[s->next] = p;
        s->next = (s->next + 1) % QUARANTINE;
    }
    pthread_mutex_unlock(&s->lock);
    if (slot) {
        free(release);
    } else {
        atomic_fetch_add(&ignored_frees, 1);
    }
}

int Heap_initialize(void)
{
    return 0;
}

/* The tables stay: paho may free blocks after it says it is done */
void Heap_terminate(void)
{
}

struct paho_heap_stats paho_heap_stats(void)
{
    long pooled = paho_pool_live();
    struct paho_heap_stats st = { pooled > 0 ? (size_t)pooled : 0, atomic_load(&ignored_frees),
                                  paho_pool_carved() };
    for (unsigned i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&shards[i].lock);
        st.live_blocks += shards[i].used;
        pthread_mutex_unlock(&shards[i].lock);
    }
    return st;
}
