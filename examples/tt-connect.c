/** @file tt-connect.c
 * Getting started (the seed's first example, in C): connect to a streamer's LIVE and print every
 * event as one JSON line, `{"event":"<name>","data":{…}}` (docs/mqtt.md §7), flushed.
 *
 *   tt-connect HANDLE [key=value ...]
 *
 * The keys are the [tiktok] keys of the bridge's config (docs/libtiktok.md "Options"), e.g.
 *   tt-connect the_host web_base=http://127.0.0.1:8080 webcast_base=http://127.0.0.1:8080 \
 *              sign_api_url=http://127.0.0.1:8080 sign_flow=legacy
 * One key is the example's own: `reconnect=N` connects again, on the same client, after a lost
 * connection, up to N times (what the seed tells callers to do; the backlog the new connection
 * starts with repeats recent messages, which the client's msgId deduplication drops).
 * Exits when the connection ends: 0 after the stream ended or Ctrl-C, 1 on an error (its
 * message on stderr), 64 on a usage error.
 *
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>
#include <stdlib.h>

#include "example_opts.h"

static tt_client *client;
static int was_connected; /* an ended LIVE is a clean exit; never live is an error */

static void on_signal(int sig)
{
    (void)sig;
    tt_client_stop(client); /* async-signal-safe: an atomic store and a write to a pipe */
}

static void on_event(const struct tt_event *ev, void *ud)
{
    (void)ud;
    was_connected |= ev->type == TT_EV_CONNECTED;
    printf("{\"event\":\"%s\",\"data\":%s}\n", ev->name, ev->json);
    fflush(stdout);
}

static void on_log(enum tt_log_level level, const char *msg, void *ud)
{
    (void)ud;
    fprintf(stderr, "tt-connect: %s: %s\n", level <= TT_LOG_WARN ? "warning" : "info", msg);
}

/* Takes `reconnect=N` out of argv (it is not a connection option); N, or -1 if it is bad. */
static long take_reconnect(int *argc, char **argv)
{
    long n = 0;
    for (int i = 2; i < *argc; i++) {
        if (strncmp(argv[i], "reconnect=", 10)) {
            continue;
        }
        char *end;
        n = strtol(argv[i] + 10, &end, 10);
        if (*end || end == argv[i] + 10 || n < 0 || n > 1000) {
            return -1;
        }
        memmove(argv + i, argv + i + 1, (size_t)(*argc - i - 1) * sizeof *argv);
        (*argc)--;
        i--;
    }
    return n;
}

/* Which flow the connection took and why (sign_flow = auto decides per connect). */
static void say_flow(void)
{
    static const char *const names[] = { "euler", "legacy", "session", "direct", "auto" };
    const char *why;
    enum tt_sign_flow f = tt_client_flow(client, &why);
    fprintf(stderr, "tt-connect: flow %s: %s\n", (unsigned)f < 5 ? names[f] : "?", why);
}

int main(int argc, char **argv)
{
    struct tt_options o;
    if (argc < 2 || argv[1][0] == '-') {
        fputs("usage: tt-connect HANDLE [key=value ...] [reconnect=N]\n", stderr);
        return 64;
    }
    long reconnects = take_reconnect(&argc, argv);
    if (reconnects < 0) {
        fputs("tt-connect: reconnect: not a number in 0..1000\n", stderr);
        return 64;
    }
    int rc = example_options("tt-connect", &o, argc, argv, 2);
    if (rc) {
        return rc;
    }
    if (tt_global_init() || tt_client_new(&client, argv[1], &o, on_event, NULL)) {
        fprintf(stderr, "tt-connect: cannot start: bad handle or out of memory\n");
        return 1;
    }
    tt_client_set_log(client, on_log, TT_LOG_WARN, NULL);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    enum tt_err e = tt_client_run(client);
    say_flow();
    /* what a caller reconnects after: a drop, a silent socket, a blocked device (a new one is
     * minted at the next connect) */
    while ((e == TT_ERR_CONNECTION_LOST || e == TT_ERR_STALE || e == TT_ERR_DEVICE_BLOCKED) &&
           reconnects-- > 0) {
        fprintf(stderr, "tt-connect: %s: reconnecting\n", tt_client_errmsg(client));
        e = tt_client_run(client);
        say_flow();
    }
    int failed = e && !(e == TT_ERR_OFFLINE && was_connected);
    if (failed) {
        fprintf(stderr, "tt-connect: %s: %s\n", tt_strerror(e), tt_client_errmsg(client));
    }
    tt_client_free(client);
    tt_global_cleanup();
    return failed;
}
