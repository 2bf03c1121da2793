/** @file tcache_probe.c
 * Prints "on" when this process's glibc keeps a freed small block in the thread's cache, "off"
 * when it gives the block back to its arena. tests/install/run.sh runs it with the systemd
 * unit's GLIBC_TUNABLES: glibc ignores a tunable it does not know without a word, so only the
 * effect shows that the unit's spelling works.
 *
 * SPDX-License-Identifier: MIT
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    void *volatile warm = malloc(1); /* the arena and the cache exist before the measurement */
    struct mallinfo2 before = mallinfo2();
    void *volatile p = malloc(200); /* volatile: the compiler may not drop the pair */
    free(p);
    struct mallinfo2 after = mallinfo2();
    free(warm);
    /* a block in the thread's cache still counts as in use for malloc */
    puts(after.uordblks > before.uordblks ? "on" : "off");
    return 0;
}
