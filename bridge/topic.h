/** @file topic.h
 * The bridge's topics and the events that have one (topic.c): the only place a topic is built
 * (Home Assistant's included). Outputs that have topics (sink_mqtt.c, ha.c) ask here.
 *
 *   <base>/<user>/<event>            an event (events = ...), giftEnd included
 *   <base>/<user>/rawData/<method>   a message of unknown type ([bridge] raw)
 *   <base>/<user>/status|availability|room|state
 *   <base>/bridge/info|health|event|state, <base>/bridge/request/<cmd>, .../response/<cmd>
 *   <base>/bridge/<instance>/info|health|event|state    (instead, when [bridge] instance is set)
 *   <prefix>/status, <prefix>/<component>/<node>/<key>/config   (Home Assistant; ha.c makes
 *   the node ids: tiktok2mqtt_<id> for a streamer, tiktok2mqtt-bridge-<base> for the bridge)
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

#include "handle.h"
#include "tt.h"

/* Events the bridge derives from the library's: X(enum constant, name, the library's event it
 * is made from). */
/* clang-format off */
#define BRIDGE_DERIVED_EVENTS(X) \
    X(BRIDGE_EV_GIFT_END, "giftEnd", TT_EV_GIFT) /* a completed gift, with totalDiamonds (streamer.c) */
/* clang-format on */

enum bridge_event {
    BRIDGE_EV__FIRST = TT_EV__COUNT - 1, /* the derived ones follow the library's types */
#define ENUM_ROW(e, name, from) e,
    BRIDGE_DERIVED_EVENTS(ENUM_ROW)
#undef ENUM_ROW
            BRIDGE_EV__COUNT
};

_Static_assert(BRIDGE_EV__COUNT <= 64, "struct bridge_events.mask has 64 bits");

/** The roots every topic hangs from ([mqtt] base_topic, [homeassistant] discovery_prefix,
 *  [bridge] instance: when set, the bridge's own topics are <base>/bridge/<instance>/...). */
struct bridge_topic_roots {
    char base[256], ha_prefix[256], instance[BRIDGE_HANDLE_SIZE];
};

struct bridge_cfg;
/** Fill `r` from the configuration. */
void bridge_topic_roots_init(struct bridge_topic_roots *r, const struct bridge_cfg *cfg);

enum bridge_topic_kind {
    BRIDGE_TOPIC_EVENT,        /**< an event of `user`, bit `ev`; TT_EV_RAW_DATA with `arg` */
    BRIDGE_TOPIC_STATUS,       /**< <base>/<user>/status */
    BRIDGE_TOPIC_AVAILABILITY, /**< <base>/<user>/availability */
    BRIDGE_TOPIC_ROOM,         /**< <base>/<user>/room */
    BRIDGE_TOPIC_STATE,        /**< <base>/<user>/state */
    BRIDGE_TOPIC_INFO,         /**< <base>/bridge/info */
    BRIDGE_TOPIC_HEALTH,       /**< <base>/bridge/health */
    BRIDGE_TOPIC_NOTICE,       /**< <base>/bridge/event */
    BRIDGE_TOPIC_BRIDGE_STATE, /**< <base>/bridge/state (birth and will) */
    BRIDGE_TOPIC_RESPONSE,     /**< <base>/bridge/response/<arg> */
    BRIDGE_TOPIC_REQUESTS,     /**< <base>/bridge/request/+ (a subscription filter) */
    BRIDGE_TOPIC_HA_STATUS,    /**< <prefix>/status */
    BRIDGE_TOPIC_HA_CONFIG,    /**< <prefix>/<arg>/<user>/<key>/config; without a key
                                    <prefix>/<arg>/<user>, what the config topics of the
                                    nodes whose id starts with <user> begin with */
};

struct bridge_topic {
    enum bridge_topic_kind kind;
    const char *user; /**< the streamer's topic level (HA_CONFIG: the node id) */
    unsigned ev;      /**< EVENT: the event bit */
    const char *arg;  /**< EVENT rawData: the method; RESPONSE: the command; HA: component */
    const char *key;  /**< HA_CONFIG: the entity key */
};

/** Write topic `t` into `out`; 0, or -1 (and "") when it does not fit in `n`. */
int bridge_topic(const struct bridge_topic_roots *r, const struct bridge_topic *t, char *out,
                 size_t n);
/** The command of a request topic <base>/bridge/request/<cmd>, or NULL for another topic. */
const char *bridge_topic_request(const struct bridge_topic_roots *r, const char *topic);

/** Name of event bit `k` ("chat", "giftEnd", ...), or NULL when `k` is no event a user may
 *  select (the connection's own events, rawData, past the end). */
const char *bridge_event_name(unsigned k);
/** The library's event that event bit `k` is made from (TT_EV_GIFT for giftEnd); `k` itself
 *  for the library's events. */
unsigned bridge_event_origin(unsigned k);
/** Bit of a selectable event's name, -1 if none; `nocase` for "did you mean". */
int bridge_event_bit(const char *name, bool nocase);

#endif
