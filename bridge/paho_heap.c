/** @file paho_heap.c
 * paho.mqtt.c's allocations, straight to the C library.
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
 * The tracker was also a safety net, and paho 1.3.12 falls into it: it frees only blocks it
 * knows. A CONNACK without properties to an MQTT 5 connect (a broker that refuses MQTT 5 with a
 * 3.1.1 answer, as aedes does) leaves the properties of paho's record of it uninitialised, and
 * paho then frees their garbage pointer; the tracker ignored it, the C library would not
 * (AddressSanitizer caught it in tests/brokers). So each block is zeroed, and a pointer paho
 * forgets to set is NULL, not garbage; and each carries a header that marks it live, so a
 * second free of a block, or a realloc of a freed one, is ignored as the tracker ignored it.
 * (Under AddressSanitizer such a second free still shows, as a read of freed memory.)
 *
 * The signatures are paho's (src/Heap.h). Blocks allocated here are freed here or by paho's
 * MQTTAsync_free / MQTTAsync_freeMessage, which call myfree: the same allocator either way.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Declared here: paho installs no header for them. Visible to the static link only. */
void *mymalloc(char *file, int line, size_t size);
void *myrealloc(char *file, int line, void *p, size_t size);
void myfree(char *file, int line, void *p);
int Heap_initialize(void);
void Heap_terminate(void);

#define PAHO_HEAP_MARK 0x7061686f68656170u /* "pahoheap" */

/* Before each block: two words keep the block aligned as malloc's own */
struct paho_block {
    uint64_t mark; /* PAHO_HEAP_MARK while the block is live */
    uint64_t size;
};
_Static_assert(sizeof(struct paho_block) % _Alignof(max_align_t) == 0, "alignment");

/* The header of `p` if this file allocated it and it is live, else NULL */
static struct paho_block *ours(void *p)
{
    if (!p) {
        return NULL;
    }
    struct paho_block *b = (struct paho_block *)p - 1;
    return b->mark == PAHO_HEAP_MARK ? b : NULL;
}

/* (This file is built without sibling-call optimisation, so each function keeps its frame
 * and tests/lsan.supp can name paho's blocks by it.) */
void *mymalloc(char *file, int line, size_t size)
{
    (void)file;
    (void)line;
    if (size > SIZE_MAX - sizeof(struct paho_block)) {
        return NULL;
    }
    struct paho_block *b = calloc(1, sizeof *b + size);
    if (!b) {
        return NULL;
    }
    b->mark = PAHO_HEAP_MARK;
    b->size = size;
    return b + 1;
}

/* paho never reallocates NULL: its tracker answered NULL to that, and so does this */
void *myrealloc(char *file, int line, void *p, size_t size)
{
    (void)file;
    (void)line;
    struct paho_block *b = ours(p);
    if (!b || size > SIZE_MAX - sizeof *b) {
        return NULL;
    }
    b->mark = 0; /* the old place, if the block moves, is not live any more */
    struct paho_block *n = realloc(b, sizeof *n + size);
    if (!n) {
        b->mark = PAHO_HEAP_MARK; /* still paho's, unchanged */
        return NULL;
    }
    if (size > n->size) { /* zeroed like the rest */
        memset((char *)(n + 1) + n->size, 0, size - n->size);
    }
    n->mark = PAHO_HEAP_MARK;
    n->size = size;
    return n + 1;
}

void myfree(char *file, int line, void *p)
{
    (void)file;
    (void)line;
    struct paho_block *b = ours(p);
    if (b) {
        b->mark = 0;
        free(b);
    }
}

int Heap_initialize(void)
{
    return 0;
}

void Heap_terminate(void)
{
}
