/** @file log.h
 * The daemon's log (log.c): single lines to stderr with level and streamer, readable in
 * journald. The level is checked before anything is formatted.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_LOG_H
#define BRIDGE_LOG_H

#include <stdatomic.h>
#include <stdint.h>

#include "cfg.h" /* enum bridge_log_level */

/* enum bridge_log_level; atomic: a SIGHUP sets it while streamer threads log */
extern atomic_int bridge_log_level;
void bridge_log(int level, const char *user, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/** A line a peer can repeat at will: at most one per (user, cause) per bridge_log_limit_ms;
 *  the next one after the interval (or any limited line of another cause, or a flush) first
 *  says "N similar messages suppressed". `cause` is a short key ("frame error TT_ERR_PROTO").
 *  Thread-safe. */
void bridge_log_limited(int level, const char *user, const char *cause, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/** Say every "N similar messages suppressed" still held back (at exit). */
void bridge_log_limit_flush(void);
extern int64_t bridge_log_limit_ms;       /* the interval: 60 s */
extern int64_t (*bridge_log_clock)(void); /* ms, monotonic; tests replace it */
#define LOG_AT(lvl, user, ...)                      \
    do {                                            \
        if ((lvl) <= bridge_log_level) {            \
            bridge_log((lvl), (user), __VA_ARGS__); \
        }                                           \
    } while (0)
#define LOG_LIMITED(lvl, user, cause, ...)                           \
    do {                                                             \
        if ((lvl) <= bridge_log_level) {                             \
            bridge_log_limited((lvl), (user), (cause), __VA_ARGS__); \
        }                                                            \
    } while (0)
#define LOG_ERR(u, ...)   LOG_AT(BRIDGE_LOG_ERROR, u, __VA_ARGS__)
#define LOG_WARN(u, ...)  LOG_AT(BRIDGE_LOG_WARN, u, __VA_ARGS__)
#define LOG_INFO(u, ...)  LOG_AT(BRIDGE_LOG_INFO, u, __VA_ARGS__)
#define LOG_DEBUG(u, ...) LOG_AT(BRIDGE_LOG_DEBUG, u, __VA_ARGS__)

#endif
