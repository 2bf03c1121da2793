/** @file xalloc.h
 * The daemon's allocation policy (redis's zmalloc): an allocation that fails logs and
 * aborts, so call sites need no checks. The library (libtiktok) checks every allocation instead.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_XALLOC_H
#define BRIDGE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
