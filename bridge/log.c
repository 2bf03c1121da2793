/** @file log.c
 * One line per message on stderr: "tiktok2mqtt[level] user: message". journald adds the time;
 * run by hand, the level and streamer are what one greps for. Secrets never reach here: the
 * callers log handles, states and error texts, and libtiktok's messages hold no secrets.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

int bridge_log_level = BRIDGE_LOG_INFO;

void bridge_log(int level, const char *user, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warn", "info", "debug", "trace" };
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' '; /* one message, one line */
        }
    }
    fprintf(stderr, "tiktok2mqtt[%s] %s%s%s\n",
            names[level < 0   ? 0
                  : level > 4 ? 4
                              : level],
            user ? user : "", user ? ": " : "", msg);
}
