/** @file xalloc.h
 * The allocation policy of the programs (the daemon, the simulator, the tools; redis's
 * zmalloc's): an allocation that fails says so and aborts, so call sites need no checks. Never linked into libtiktok, which checks every allocation and never exits.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef COMMON_XALLOC_H
#define COMMON_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Frees the `n` strings of `list`, then the list (NULL with n 0 is fine). */
void xfree_strings(char **list, size_t n);

#endif
