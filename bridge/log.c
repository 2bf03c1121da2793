/** @file log.c
 * One line per message on stderr: "tiktok2mqtt[level] user: message". journald adds the time;
 * run by hand, the level and streamer are what one greps for. Secrets never reach here: the
 * callers log handles, states and error texts, and libtiktok's messages hold no secrets.
 *
 * Lines that a peer can repeat at will (a bad frame, a library warning) go through
 * bridge_log_limited: one line per cause (streamer + cause) per interval, and then one
 * "N similar messages suppressed" line for what was held back. Without it, a TikTok side that
 * sends garbage in a loop writes the journal full.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

atomic_int bridge_log_level = BRIDGE_LOG_INFO;
int64_t bridge_log_limit_ms = 60000;
int64_t (*bridge_log_clock)(void) = common_mono_ms;

static void vlog(int level, const char *user, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

static void vlog(int level, const char *user, const char *fmt, va_list ap)
{
    static const char *const names[] = { "error", "warn", "info", "debug", "trace" };
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
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

void bridge_log(int level, const char *user, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, user, fmt, ap);
    va_end(ap);
}

/* ---- rate limiting per cause ---- */

#define SLOTS 256 /* causes remembered; the least recently logged one makes room */

struct slot {
    uint64_t key; /* hash of user and cause; 0: free */
    int64_t last_ms;
    unsigned held; /* lines suppressed since last_ms */
    int level;
    char user[64];
};

static struct slot slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* FNV-1a over the user, a separator and the cause; never 0 */
static uint64_t key_of(const char *user, const char *cause)
{
    uint64_t h = 14695981039346656037u;
    const char *parts[] = { user ? user : "", "\x1f", cause };
    for (size_t i = 0; i < 3; i++) {
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++) {
            h = (h ^ *p) * 1099511628211u;
        }
    }
    return h ? h : 1;
}

static void say_held(const struct slot *s, unsigned held)
{
    bridge_log(s->level, s->user[0] ? s->user : NULL,
               "%u similar message%s suppressed in the last %lld s", held, held == 1 ? "" : "s",
               (long long)(bridge_log_limit_ms + 999) / 1000);
}

/* Under the lock: the slots whose interval is over and that held lines back, said and
 * cleared (copied into `out`, said after the unlock). */
static size_t take_expired(int64_t now, struct slot *out, unsigned *held, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < SLOTS && n < max; i++) {
        struct slot *s = &slots[i];
        if (s->key && s->held && now - s->last_ms >= bridge_log_limit_ms) {
            out[n] = *s;
            held[n++] = s->held;
            s->held = 0;
        }
    }
    return n;
}

/* Under the lock: the slot of `key`, or a free one, or the least recently used (whose held
 * lines are handed back in *evicted so they are still said). */
static struct slot *slot_of(uint64_t key, struct slot *evicted, unsigned *evicted_held)
{
    struct slot *oldest = &slots[0];
    for (size_t i = 0; i < SLOTS; i++) {
        if (slots[i].key == key) {
            return &slots[i];
        }
        if (!slots[i].key || (oldest->key && slots[i].last_ms < oldest->last_ms)) {
            oldest = &slots[i];
        }
    }
    *evicted = *oldest;
    *evicted_held = oldest->key ? oldest->held : 0;
    memset(oldest, 0, sizeof *oldest);
    return oldest;
}

void bridge_log_limited(int level, const char *user, const char *cause, const char *fmt, ...)
{
    struct slot expired[8], evicted;
    unsigned held[8], evicted_held = 0;
    int64_t now = bridge_log_clock();
    uint64_t key = key_of(user, cause);
    pthread_mutex_lock(&lock);
    size_t n = take_expired(now, expired, held, sizeof held / sizeof held[0]);
    struct slot *s = slot_of(key, &evicted, &evicted_held);
    int quiet = s->key && now - s->last_ms < bridge_log_limit_ms;
    if (quiet) {
        s->held++;
    } else {
        s->key = key;
        s->last_ms = now;
        s->level = level;
        snprintf(s->user, sizeof s->user, "%s", user ? user : "");
    }
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; i < n; i++) {
        say_held(&expired[i], held[i]);
    }
    if (evicted_held) {
        say_held(&evicted, evicted_held);
    }
    if (!quiet) {
        va_list ap;
        va_start(ap, fmt);
        vlog(level, user, fmt, ap);
        va_end(ap);
    }
}

void bridge_log_limit_flush(void)
{
    struct slot out[SLOTS];
    unsigned held[SLOTS];
    pthread_mutex_lock(&lock);
    size_t n = take_expired(INT64_MAX / 2, out, held, SLOTS);
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; i < n; i++) {
        say_held(&out[i], held[i]);
    }
}
