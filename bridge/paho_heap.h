/** @file paho_heap.h
 * What bridge/paho_heap.c, paho's allocator in a static link, can tell about itself.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_PAHO_HEAP_H
#define BRIDGE_PAHO_HEAP_H

#include <stddef.h>

struct paho_heap_stats {
    size_t live_blocks;   /* allocated by paho and not yet freed */
    size_t ignored_frees; /* frees (and reallocs) of blocks not live: paho's second frees */
    size_t pool_bytes;    /* memory cut into small blocks so far, kept for reuse */
};

/* A snapshot, taken shard by shard */
struct paho_heap_stats paho_heap_stats(void);

#endif
