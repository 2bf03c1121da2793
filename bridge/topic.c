/** @file topic.c
 * The bridge's topic table: which events have a topic, and their names.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>
#include <strings.h>

#include "topic.h"

static const char *const derived[] = {
#define NAME_ROW(e, name) name,
    BRIDGE_DERIVED_EVENTS(NAME_ROW)
#undef NAME_ROW
};

/* The library's events that go out on <base>/<user>/<name> and may be selected: every Webcast
 * event and the decode errors. rawData goes to rawData/<method> when [bridge] raw is on; the
 * connection's own events (the last four of enum tt_event_type) become status and
 * availability. */
_Static_assert(TT_EV_CONNECTED == TT_EV__COUNT - 4, "the connection's events come last");

static bool has_topic(unsigned t)
{
    return t != TT_EV_NONE && t != TT_EV_RAW_DATA && t < TT_EV_CONNECTED;
}

const char *bridge_event_name(unsigned k)
{
    if (k < TT_EV__COUNT) {
        return has_topic(k) ? tt_event_type_name((enum tt_event_type)k) : NULL;
    }
    return k < BRIDGE_EV__COUNT ? derived[k - TT_EV__COUNT] : NULL;
}

int bridge_event_bit(const char *name, bool nocase)
{
    for (unsigned k = 0; k < BRIDGE_EV__COUNT; k++) {
        const char *n = bridge_event_name(k);
        if (n && (nocase ? !strcasecmp(n, name) : !strcmp(n, name))) {
            return (int)k;
        }
    }
    return -1;
}
