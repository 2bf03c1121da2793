/** @file paho_pool.c
 * Small blocks for paho, without a lock or a shared cache line per call.
 *
 * Under load every message costs paho about 25 allocations, made in the bridge's thread and
 * paho's send thread and freed in paho's receive thread. Through the C library and a set of
 * live blocks (bridge/paho_heap.c) that was a fifth of the bridge's CPU: the receive thread's
 * frees went to another thread's arena under its lock, merging free chunks as they came, and
 * the set's slots were cache lines last written on the other core (docs/PERFORMANCE.md).
 *
 * Here paho's small blocks, up to PAHO_POOL_MAX bytes (its list elements, records and property
 * entries), come from size classes of memory that the pool keeps for paho alone and never
 * gives back:
 * - each block has a header of its own (its state, class and size), so a free reads no table:
 *   the block's own cache line is the only one touched. Since the memory is never
 *   the C library's again, reading the header of a block freed already is reading our own
 *   memory, which is what lets paho's second frees (bridge/paho_heap.c) be told by the state;
 * - a thread keeps the blocks it frees, per class, until it has a batch of BATCH, and passes
 *   the batch on to the class's queue under one lock; a thread allocating takes a whole batch
 *   from the queue's front the same way. So the lock is taken once per BATCH blocks;
 * - an address comes back only after HOLD more frees of its class: the queue hands out its
 *   oldest batch only while HOLD blocks wait behind it. paho's second free then finds the block
 *   still free rather than handed to a new message (the hold-back the set's shards had);
 * - the memory is one reservation of address space, committed in chunks as the classes need
 *   them (a reservation costs no memory and counts against no overcommit limit). Refused or
 *   spent, it leaves paho's blocks to the C library, as for larger ones.
 *
 * AddressSanitizer sees a free block as poisoned (its header excepted), as it would see a
 * block the C library had back.
 *
 * SPDX-License-Identifier: MIT
 */
#include "paho_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(POOL_ASAN)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define RESERVE ((size_t)64 << 20)  /* address space; memory only as committed */
#define CHUNK   ((size_t)256 << 10) /* committed at a time */
#define BATCH   32                  /* blocks passed between threads at once */
#define HOLD    256                 /* frees of a class before one of its addresses returns */
#define NCLS    3
#define LIVE    0x4c495645u /* "LIVE" */
#define FREE    0x46524545u /* "FREE" */

/* In front of every block; 32 bytes keep the block 16-aligned */
struct hdr {
    _Atomic uint32_t state;
    uint32_t cls;
    size_t size;       /* paho's request while live; a batch's count in its first, while free */
    struct hdr *next;  /* the next block of a batch */
    struct hdr *batch; /* the next batch in a class's queue */
};
_Static_assert(sizeof(struct hdr) == 32, "a header keeps blocks 16-aligned");

/* Block sizes, header included. Only paho's small records: with its larger blocks (an event's
 * payload, up to 4 KiB) pooled as well, the bridge with 1,000 idle streamers held 158 MiB
 * against 112 (docs/PERFORMANCE.md), most of it the C library's; pooling the small ones alone
 * saved paho as much in bench-paho */
static const uint32_t class_size[NCLS] = { 64, 96, 128 };
_Static_assert(PAHO_POOL_MAX + sizeof(struct hdr) == 128, "the largest class");

/* Blocks freed and waiting, oldest batch first */
struct queue {
    pthread_mutex_t lock;
    struct hdr *head, *tail;
    size_t blocks;
    char pad[64]; /* each class's lock on a cache line of its own */
};

/* A run of blocks linked by next, taken from its front */
struct list {
    struct hdr *first, *last;
    unsigned n;
};

/* What one thread holds */
struct local {
    struct list take[NCLS];  /* blocks to hand out */
    struct list given[NCLS]; /* blocks freed here, not yet passed on */
    _Atomic long live;       /* allocations minus frees in this thread; written only by it */
    struct local *prev, *next;
};

static struct queue queues[NCLS];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static int key_ok;
static _Atomic uintptr_t base; /* the reservation, 0 until made or if refused */

static pthread_mutex_t carve_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the next two */
static char *carved, *committed; /* blocks are cut up to carved, memory usable up to committed */

static pthread_mutex_t locals_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the next two */
static struct local *locals;   /* every thread's, for the count of live blocks */
static _Atomic long gone_live; /* what ended threads and threadless frees counted */

static __thread struct local *me;
static __thread int leaving; /* the thread's holdings are passed on: no new ones */

static void depart(void *arg);

static void setup(void)
{
    for (unsigned c = 0; c < NCLS; c++) {
        pthread_mutex_init(&queues[c].lock, NULL);
    }
    key_ok = pthread_key_create(&key, depart) == 0;
    void *p = mmap(NULL, RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
        carved = committed = p;
        atomic_store(&base, (uintptr_t)p);
    }
}

/* The class whose blocks hold `bytes` usable */
static unsigned class_of(size_t bytes)
{
    size_t n = bytes + sizeof(struct hdr);
    unsigned c = 0;
    while (class_size[c] < n) { /* bytes <= PAHO_POOL_MAX: the last class holds it */
        c++;
    }
    return c;
}

static size_t usable(const struct hdr *h)
{
    return class_size[h->cls] - sizeof(struct hdr);
}

static void count(struct local *l, long d)
{
    if (l) { /* written by this thread alone: no read-modify-write needed */
        atomic_store_explicit(&l->live, atomic_load_explicit(&l->live, memory_order_relaxed) + d,
                              memory_order_relaxed);
    } else {
        atomic_fetch_add(&gone_live, d);
    }
}

/* This thread's holdings, made on first use; NULL if they cannot be */
static struct local *local(void)
{
    if (me || leaving || !key_ok) {
        return me;
    }
    struct local *l = calloc(1, sizeof *l);
    if (!l || pthread_setspecific(key, l)) {
        free(l);
        return NULL;
    }
    pthread_mutex_lock(&locals_lock);
    l->next = locals;
    if (locals) {
        locals->prev = l;
    }
    locals = l;
    pthread_mutex_unlock(&locals_lock);
    return me = l;
}

/* Appends a batch to its class's queue */
static void queue_put(unsigned c, struct list *b)
{
    if (!b->n) {
        return;
    }
    struct queue *q = &queues[c];
    b->first->size = b->n;
    b->first->batch = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->tail) {
        q->tail->batch = b->first;
    } else {
        q->head = b->first;
    }
    q->tail = b->first;
    q->blocks += b->n;
    pthread_mutex_unlock(&q->lock);
    *b = (struct list){ 0 };
}

/* The queue's oldest batch, if HOLD blocks would still wait behind it */
static int queue_take(unsigned c, struct list *out)
{
    struct queue *q = &queues[c];
    pthread_mutex_lock(&q->lock);
    struct hdr *h = q->head;
    int ok = h && q->blocks - h->size >= HOLD;
    if (ok) {
        q->head = h->batch;
        if (!q->head) {
            q->tail = NULL;
        }
        q->blocks -= h->size;
    }
    pthread_mutex_unlock(&q->lock);
    if (ok) {
        *out = (struct list){ h, NULL, (unsigned)h->size };
    }
    return ok;
}

/* BATCH new blocks of class c, from memory never used; 0 when the reservation is spent */
static int carve(unsigned c, struct list *out)
{
    size_t sz = class_size[c], need = sz * BATCH;
    char *start = (char *)atomic_load(&base);
    pthread_mutex_lock(&carve_lock);
    if ((size_t)(committed - carved) < need) {
        size_t more = need > CHUNK ? need : CHUNK;
        if (!start || (size_t)(committed - start) + more > RESERVE ||
            mprotect(committed, more, PROT_READ | PROT_WRITE)) {
            pthread_mutex_unlock(&carve_lock);
            return 0;
        }
        committed += more;
    }
    char *p = carved;
    carved += need;
    pthread_mutex_unlock(&carve_lock);
    struct hdr *prev = NULL;
    for (unsigned i = 0; i < BATCH; i++) {
        struct hdr *h = (struct hdr *)(p + i * sz);
        h->cls = c;
        atomic_init(&h->state, FREE);
        h->next = NULL;
        if (prev) {
            prev->next = h;
        }
        prev = h;
        POISON(h + 1, sz - sizeof *h);
    }
    *out = (struct list){ (struct hdr *)p, prev, BATCH };
    return 1;
}

void *paho_pool_alloc(size_t bytes, size_t size)
{
    if (bytes > PAHO_POOL_MAX) {
        return NULL;
    }
    pthread_once(&once, setup);
    struct local *l = local();
    if (!l) {
        return NULL;
    }
    unsigned c = class_of(bytes);
    struct list *t = &l->take[c];
    if (!t->n && !queue_take(c, t) && !carve(c, t)) {
        return NULL;
    }
    struct hdr *h = t->first;
    t->first = h->next;
    if (!--t->n) {
        *t = (struct list){ 0 };
    } else {
        /* the next block was last written on another core, most likely: fetch its header
         * now, so that the next allocation does not wait for it */
        __builtin_prefetch(t->first, 1);
    }
    UNPOISON(h + 1, bytes);
    memset(h + 1, 0, bytes);
    h->size = size;
    atomic_store_explicit(&h->state, LIVE, memory_order_relaxed);
    count(l, 1);
    return h + 1;
}

int paho_pool_owns(const void *p)
{
    uintptr_t b = atomic_load_explicit(&base, memory_order_relaxed);
    return b && (uintptr_t)p - b < RESERVE;
}

int paho_pool_free(void *p)
{
    struct hdr *h = (struct hdr *)p - 1;
    uint32_t was = LIVE;
    /* only a live block changes: a second free, even from another thread, finds it FREE */
    if (!atomic_compare_exchange_strong_explicit(&h->state, &was, FREE, memory_order_relaxed,
                                                 memory_order_relaxed)) {
        return -1;
    }
    POISON(p, usable(h));
    h->next = NULL;
    struct local *l = local();
    if (!l) { /* a batch of one */
        struct list one = { h, h, 1 };
        queue_put(h->cls, &one);
        count(NULL, -1);
        return 0;
    }
    struct list *g = &l->given[h->cls];
    if (g->last) {
        g->last->next = h;
    } else {
        g->first = h;
    }
    g->last = h;
    if (++g->n == BATCH) {
        queue_put(h->cls, g);
    }
    count(l, -1);
    return 0;
}

int paho_pool_sizes(const void *p, size_t *bytes, size_t *size)
{
    const struct hdr *h = (const struct hdr *)p - 1;
    if (atomic_load_explicit(&h->state, memory_order_relaxed) != LIVE) {
        return 0;
    }
    *bytes = usable(h);
    *size = h->size;
    return 1;
}

void paho_pool_resize(void *p, size_t size, size_t bytes)
{
    struct hdr *h = (struct hdr *)p - 1;
    if (size > h->size) { /* zeroed like the rest, even where a shrink left old bytes */
        UNPOISON(p, bytes);
        memset((char *)p + h->size, 0, bytes - h->size);
    }
    h->size = size;
}

long paho_pool_live(void)
{
    long n = atomic_load(&gone_live);
    pthread_mutex_lock(&locals_lock);
    for (struct local *l = locals; l; l = l->next) {
        n += atomic_load_explicit(&l->live, memory_order_relaxed);
    }
    pthread_mutex_unlock(&locals_lock);
    return n;
}

size_t paho_pool_carved(void)
{
    uintptr_t b = atomic_load(&base);
    pthread_mutex_lock(&carve_lock);
    size_t n = b ? (size_t)(carved - (char *)b) : 0;
    pthread_mutex_unlock(&carve_lock);
    return n;
}

/* A thread ends: its blocks, taken or given, go to the queues, its count to gone_live */
static void depart(void *arg)
{
    struct local *l = arg;
    for (unsigned c = 0; c < NCLS; c++) {
        if (l->take[c].n) { /* a run taken from its front: find its end */
            struct hdr *h = l->take[c].first;
            while (h->next) {
                h = h->next;
            }
            l->take[c].last = h;
        }
        queue_put(c, &l->take[c]);
        queue_put(c, &l->given[c]);
    }
    pthread_mutex_lock(&locals_lock);
    if (l->prev) {
        l->prev->next = l->next;
    } else {
        locals = l->next;
    }
    if (l->next) {
        l->next->prev = l->prev;
    }
    atomic_fetch_add(&gone_live, atomic_load(&l->live));
    pthread_mutex_unlock(&locals_lock);
    me = NULL;
    leaving = 1;
    free(l);
}
