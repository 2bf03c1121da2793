/** @file seen.h
 * What each streamer has published, by msgId, carried over its restarts (seen.c).
 *
 * A connection's first fetch repeats the stream's last messages (its backlog). One tt_client
 * drops those it has delivered already, but a new one, after a restart of the streamer (a
 * changed section on reload, remove then add) or of the bridge, would publish them again,
 * gifts included. So a streamer that stops leaves its newest msgIds here and the next one of
 * the same handle takes them; at exit they go to a file beside state_file, which the next
 * start reads. Main thread only.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_SEEN_H
#define BRIDGE_SEEN_H

#include <stddef.h>
#include <stdint.h>

#include "tt.h"

/* msgIds kept per streamer: a backlog is the messages of the last seconds */
#define BRIDGE_SEEN_KEEP 256

struct bridge_seen_entry;

struct bridge_seen {
    struct bridge_seen_entry *list;
    char *path; /* the file; NULL: kept in memory only */
};

/** The file for `state_file`: its name with ".state" (if it ends so) replaced by ".seen", and
 *  shards of one configuration told apart by their `instance` ("" for none). Free it. */
char *seen_path(const char *state_file, const char *instance);
/** Read `path` (missing: nothing yet). Returns 0, or -1 with why in `err`: a file that is not
 *  ours or is damaged is read as far as it is sound, and the rest is left out. */
int seen_load(struct bridge_seen *s, const char *path, char *err, size_t errlen);
/** A stopped streamer's client: keep its newest msgIds under `handle`. */
void seen_put(struct bridge_seen *s, const char *handle, const tt_client *c);
/** A new streamer's client: hand it what is kept under `handle`, which is then forgotten. */
void seen_give(struct bridge_seen *s, const char *handle, tt_client *c);
/** Write every streamer stopped in this run (those read from the file and not taken are
 *  streamers no longer followed: left out). Returns 0, or -1 with why in `err`. */
int seen_save(const struct bridge_seen *s, char *err, size_t errlen);
void seen_free(struct bridge_seen *s);

#endif
