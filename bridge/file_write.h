/** @file file_write.h
 * Replacing a file whole, safely: the daemon's own state (state_file) is written here.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_FILE_WRITE_H
#define BRIDGE_FILE_WRITE_H

#include <stddef.h>

/** Replace `path` with `len` bytes of `data`: a new file made with mkstemp() beside it (mode
 *  0600, never through a symlink an attacker planted), written, flushed to disk and renamed
 *  over `path`, so a reader sees the old file or the new one, never half of either. A symlink
 *  at `path` itself is replaced, not followed. Returns 0, or -1 with the reason in `err`. */
int file_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);

#endif
