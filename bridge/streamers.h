/** @file streamers.h
 * The set of running streamers and reload (streamers.c). Main thread only.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_STREAMERS_H
#define BRIDGE_STREAMERS_H

#include "bridge.h"

/** The running streamer of `handle`, or NULL. */
struct streamer *bridge_streamer_find(struct bridge *b, const char *handle);
/** Start a configured streamer after `delay_ms`, unless it is not ours, disabled, removed at
 *  run time or already running. */
void bridge_streamer_start(struct bridge *b, const struct bridge_streamer *bs, int64_t delay_ms);
/** Start a streamer the API added: the [tiktok] defaults, its handle as topic. */
void bridge_streamer_start_runtime(struct bridge *b, const char *handle);
/** Why `handle` cannot be its own topic (the bridge's level, another's topic), or NULL. */
const char *bridge_streamer_topic_taken(struct bridge *b, const char *handle);
/** Stop a running streamer for good: its thread, its retained topics, its discovery. */
void bridge_streamer_remove(struct bridge *b, struct streamer *s);
/** Announce every running streamer (Home Assistant discovery, where the sink has it). */
void bridge_streamers_announce(struct bridge *b);
/** Stop them all, and wait for them. */
void bridge_streamers_stop_all(struct bridge *b);

/** Load `path` into `cfg`, printing its warnings and errors to stderr; 0 when it is valid.
 *  Otherwise, when `why` is not NULL, it gets the first error and how many there were. */
int bridge_load_config(const char *path, struct bridge_cfg *cfg, char *why, size_t n);
/** Load `path` again and apply the difference; a bad file leaves everything as it was: -1,
 *  and `why` (when not NULL) says why, for the runtime API's answer. */
int bridge_reload(struct bridge *b, const char *path, char *why, size_t n);

#endif
