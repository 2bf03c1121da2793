/** @file log.h
 * The daemon's log (log.c): single lines to stderr with level and streamer, readable in
 * journald. The level is checked before anything is formatted.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_LOG_H
#define BRIDGE_LOG_H

#include "cfg.h" /* enum bridge_log_level */

extern int bridge_log_level; /* enum bridge_log_level */
void bridge_log(int level, const char *user, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
#define LOG_AT(lvl, user, ...)                      \
    do {                                            \
        if ((lvl) <= bridge_log_level) {            \
            bridge_log((lvl), (user), __VA_ARGS__); \
        }                                           \
    } while (0)
#define LOG_ERR(u, ...)   LOG_AT(BRIDGE_LOG_ERROR, u, __VA_ARGS__)
#define LOG_WARN(u, ...)  LOG_AT(BRIDGE_LOG_WARN, u, __VA_ARGS__)
#define LOG_INFO(u, ...)  LOG_AT(BRIDGE_LOG_INFO, u, __VA_ARGS__)
#define LOG_DEBUG(u, ...) LOG_AT(BRIDGE_LOG_DEBUG, u, __VA_ARGS__)

#endif
