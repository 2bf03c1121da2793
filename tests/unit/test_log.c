/** @file test_log.c
 * The daemon log's rate limit per cause (bridge/log.c): one line per (streamer, cause) per
 * interval, causes and streamers independent, then "N similar messages suppressed" when the
 * interval is over (at the next limited line, or a flush), on a clock the test moves.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"

static int64_t now_ms;

static int64_t fake_clock(void)
{
    return now_ms;
}

/* stderr into a file while `fn` runs; the file's text into buf */
static void capture(void (*fn)(void), char *buf, size_t n)
{
    FILE *f = tmpfile();
    int saved = dup(2);
    fflush(stderr);
    dup2(fileno(f), 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

static int count(const char *hay, const char *needle)
{
    int c = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
        c++;
    }
    return c;
}

static void flood(void)
{
    for (int i = 0; i < 1000; i++) {
        now_ms += 10; /* 1000 lines over 10 s */
        LOG_LIMITED(BRIDGE_LOG_WARN, "alice", "event error TT_ERR_PROTO", "bad frame %d", i);
    }
    LOG_LIMITED(BRIDGE_LOG_WARN, "alice", "event error TT_ERR_GZIP", "bad gzip");
    LOG_LIMITED(BRIDGE_LOG_WARN, "bob", "event error TT_ERR_PROTO", "bad frame bob");
}

static void after_interval(void)
{
    now_ms += 60000;
    LOG_LIMITED(BRIDGE_LOG_WARN, "alice", "event error TT_ERR_PROTO", "bad frame again");
    LOG_LIMITED(BRIDGE_LOG_WARN, "alice", "event error TT_ERR_PROTO", "held");
}

static void flush_later(void)
{
    now_ms += 60000;
    bridge_log_limit_flush();
    bridge_log_limit_flush(); /* said once */
}

static void debug_off(void)
{
    LOG_LIMITED(BRIDGE_LOG_DEBUG, "carol", "x", "not at this level");
}

int main(void)
{
    char out[65536];
    bridge_log_clock = fake_clock;
    bridge_log_limit_ms = 60000;
    now_ms = 1000000;

    capture(flood, out, sizeof out);
    CHECK_EQ(count(out, "bad frame"), 2); /* alice's first, bob's first */
    CHECK_HAS(out, "tiktok2mqtt[warn] alice: bad frame 0\n");
    CHECK_HAS(out, "tiktok2mqtt[warn] alice: bad gzip\n");
    CHECK_HAS(out, "tiktok2mqtt[warn] bob: bad frame bob\n");
    CHECK_EQ(count(out, "suppressed"), 0);

    capture(after_interval, out, sizeof out);
    CHECK_HAS(out, "tiktok2mqtt[warn] alice: 999 similar messages suppressed in the last 60 s\n"
                   "tiktok2mqtt[warn] alice: bad frame again\n");
    CHECK(strstr(out, "held") == NULL);
    CHECK_EQ(count(out, "\n"), 2);

    capture(flush_later, out, sizeof out);
    CHECK(!strcmp(out, "tiktok2mqtt[warn] alice: 1 similar message suppressed in the last 60 s\n"));

    bridge_log_level = BRIDGE_LOG_INFO;
    capture(debug_off, out, sizeof out);
    CHECK(!strcmp(out, ""));
    return h_finish();
}
