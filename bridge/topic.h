/** @file topic.h
 * The bridge's topics and the events that have one (topic.c).
 *
 * Event bits: bit k of struct bridge_events.mask (cfg.h) is enum tt_event_type k for the
 * library's events (their names come from its registry, connector/src/events.h), followed by
 * the events the bridge derives itself, declared here. So the filter is a bit test on
 * ev->type, and the list of names a user may write in `events =` is made from one table.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_TOPIC_H
#define BRIDGE_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#include "tt.h"

/* Events the bridge derives from the library's: X(enum constant, name). */
/* clang-format off */
#define BRIDGE_DERIVED_EVENTS(X) \
    X(BRIDGE_EV_GIFT_END, "giftEnd") /* a completed gift, with totalDiamonds (streamer.c) */
/* clang-format on */

enum bridge_event {
    BRIDGE_EV__FIRST = TT_EV__COUNT - 1, /* the derived ones follow the library's types */
#define ENUM_ROW(e, name) e,
    BRIDGE_DERIVED_EVENTS(ENUM_ROW)
#undef ENUM_ROW
            BRIDGE_EV__COUNT
};

_Static_assert(BRIDGE_EV__COUNT <= 64, "struct bridge_events.mask has 64 bits");

/** Name of event bit `k` ("chat", "giftEnd", ...), or NULL when `k` is no event a user may
 *  select (the connection's own events, rawData, past the end). */
const char *bridge_event_name(unsigned k);
/** Bit of a selectable event's name, -1 if none; `nocase` for "did you mean". */
int bridge_event_bit(const char *name, bool nocase);

#endif
