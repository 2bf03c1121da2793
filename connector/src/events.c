/** @file events.c
 * Event names, from the registry (events.h), which must cover every enum tt_event_type
 * (checked at compile time).
 *
 * SPDX-License-Identifier: MIT
 */
#include "tt.h"

#define TT_EVENT(type, name, method, fn, file) +1
#define TT_EVENT_ALSO(type, name, file)        +1
_Static_assert(1
#include "events.h"
                       == TT_EV__COUNT,
               "events.h: one row per enum tt_event_type");
#undef TT_EVENT
#undef TT_EVENT_ALSO

static const char *const names[TT_EV__COUNT] = {
    [TT_EV_NONE] = "",
#define TT_EVENT(type, name, method, fn, file) [type] = name,
#define TT_EVENT_ALSO(type, name, file)        [type] = name,
#include "events.h"
#undef TT_EVENT
#undef TT_EVENT_ALSO
};

const char *tt_event_type_name(enum tt_event_type type)
{
    if ((unsigned)type >= TT_EV__COUNT || !names[type]) {
        return "";
    }
    return names[type];
}
