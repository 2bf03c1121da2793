/** @file runtime.h
 * Run-time streamer changes and their state file (runtime.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_RUNTIME_H
#define BRIDGE_RUNTIME_H

#include <stddef.h>

#include "handle.h"

struct runtime {
    char *path;
    char **added, **removed; /* normalised handles */
    size_t n_added, n_removed;
    int unreadable; /* errno of a state file that exists but could not be read: never replaced */
};

/** Read `path` (absent: empty). -1 when it is not valid JSON, -2 when it cannot be read
 *  (`unreadable` holds the errno); either way the state starts empty. */
int runtime_load(struct runtime *r, const char *path);
/** Write it back, atomically. -1 on failure, with the reason in `err`. */
int runtime_save(const struct runtime *r, char *err, size_t errlen);
void runtime_free(struct runtime *r);
int runtime_is_added(const struct runtime *r, const char *handle);
int runtime_is_removed(const struct runtime *r, const char *handle);
/** Record an API add / remove; `in_config` says whether the file names the streamer. */
void runtime_note_added(struct runtime *r, const char *handle, int in_config);
void runtime_note_removed(struct runtime *r, const char *handle, int in_config);

#endif
