/** @file paho_pool.h
 * The small blocks of paho's allocator (bridge/paho_heap.c): size classes of memory kept for
 * paho alone, handed from the thread that frees to the one that allocates in batches.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_PAHO_POOL_H
#define BRIDGE_PAHO_POOL_H

#include <stddef.h>

/* The largest block the pool serves, in bytes usable; larger ones are the C library's */
#define PAHO_POOL_MAX 96

/* A zeroed block with `bytes` usable (<= PAHO_POOL_MAX) that remembers `size`, paho's request;
 * NULL when the pool cannot serve it (the caller then asks the C library) */
void *paho_pool_alloc(size_t bytes, size_t size);

/* 1 if p lies in the pool's memory: only then may the calls below be given p */
int paho_pool_owns(const void *p);

/* Frees a live block: 0; -1 if p is not live (freed already), without a change */
int paho_pool_free(void *p);

/* A live block's bytes usable and paho's request: 0 if p is not live */
int paho_pool_sizes(const void *p, size_t *bytes, size_t *size);

/* p, still live, now holds `size` (<= its bytes usable): what it gains is zeroed */
void paho_pool_resize(void *p, size_t size, size_t bytes);

/* Blocks allocated and not freed, summed over the threads */
long paho_pool_live(void);

/* Bytes of memory the pool has cut into blocks so far (it never gives them back) */
size_t paho_pool_carved(void);

#endif
