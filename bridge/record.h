/** @file record.h
 * record_dir: every raw frame of a streamer in tiktok-live-sim --replay's layout (record.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_RECORD_H
#define BRIDGE_RECORD_H

#include <stdint.h>

#include "tt.h"

#define BRIDGE_RECORD_MAX_BYTES ((uint64_t)1 << 30) /* per room: then one log line, no more */
struct bridge_rec;
/** A recorder of one streamer's rooms under `root`/`handle`/; nothing is opened yet. */
struct bridge_rec *record_new(const char *root, const char *handle, uint64_t max_bytes);
/** The tt_raw_fn to give tt_client_set_raw_hook with the recorder as userdata. */
void record_hook(const struct tt_raw_frame *f, void *ud);
/** End the current room's recording (fsync once); the next frame opens it again. */
void record_close(struct bridge_rec *r);
void record_free(struct bridge_rec *r);

#endif
