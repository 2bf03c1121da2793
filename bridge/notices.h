/** @file notices.h
 * Payloads the bridge writes itself (notices.c): a streamer's retained room info and the
 * notices on bridge/event.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_NOTICES_H
#define BRIDGE_NOTICES_H

#include "out.h"
#include "streamer.h"

/** TikTok's room/info data (tt_state.room_info) as the streamer's room. */
void bridge_room_publish(struct streamer *s, const char *room_id, const char *room_info);
void bridge_event_rate_limited(struct streamer *s, unsigned retry_after);
void bridge_event_error(struct streamer *s, enum tt_err e, const char *msg);
void bridge_event_simple(struct bridge_out *o, const char *type, const char *user);

#endif
