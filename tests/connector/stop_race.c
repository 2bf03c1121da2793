/** @file stop_race.c
 * tt_client_stop() from another thread, at every moment of a connection's life: during its
 * HTTP steps, its WebSocket handshake, while it runs, while it closes and frees its socket.
 * Built for the TSan pass (make check-tsan), where a stop that touches the WebSocket's event
 * loop while the connection's thread frees it is a report; in every build a stop must end the
 * connection's thread promptly.
 *
 *   stop_race BASE ROUNDS STORM_MS
 *
 * BASE is the simulator (a room `racer` that loops). Phase 1: ROUNDS clients, each stopped
 * after a delay spread over 0 to 1.5 times what a whole connect takes (at least 60 ms), each
 * thread joined within 3 s. Phase 2: one client that reconnects as fast as it can for
 * STORM_MS while another thread stops it every 1 ms to twice that span (each stop ends a
 * connect or a connection, the loop makes the next). A stop that arrives before a connect
 * begins is forgotten by that connect (tt.h): the loop here checks its own flag between short
 * service rounds, as tt.h tells callers to. Ends with `N passed, N failed`.
 *
 * Checked: with tt__ws_wake as it was before 7be4ffe (c->ws->ctx read without the lock), a
 * TSan run reports races in tt__ws_wake, tt__ws_open and lws_cancel_service; as it is now,
 * none.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "harness.h"
#include "tt.h"

struct run {
    tt_client *c;
    atomic_int quit;
    atomic_int connects;
};

static void on_event(const struct tt_event *ev, void *ud)
{
    (void)ev, (void)ud;
}

static void *connection(void *arg)
{
    struct run *r = arg;
    while (!atomic_load(&r->quit)) {
        if (tt_client_connect(r->c) == TT_OK) {
            atomic_fetch_add(&r->connects, 1);
            while (!atomic_load(&r->quit) && tt_client_service(r->c, 200) == TT_OK) {
            }
            tt_client_disconnect(r->c);
        }
    }
    return NULL;
}

static void sleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

static tt_client *new_client(const char *base)
{
    struct tt_options o;
    tt_client *c = NULL;
    tt_options_init(&o);
    o.web_base = o.webcast_base = o.sign_api_url = base;
    o.sign_flow = TT_SIGN_EULER; /* never the direct path's push edge */
    o.fetch_room_info_on_connect = 1;
    return tt_client_new(&c, "racer", &o, on_event, NULL) ? NULL : c;
}

/* Start a connection thread, stop it after `delay_us`; the ms its thread took to end. */
static int64_t stop_after(const char *base, long delay_us, int *connects)
{
    struct run r = { new_client(base), 0, 0 };
    pthread_t t;
    if (!r.c || pthread_create(&t, NULL, connection, &r)) {
        tt_client_free(r.c);
        return -1;
    }
    sleep_us(delay_us);
    int64_t t0 = common_mono_ms();
    atomic_store(&r.quit, 1);
    tt_client_stop(r.c);
    pthread_join(t, NULL);
    int64_t took = common_mono_ms() - t0;
    *connects += atomic_load(&r.connects);
    tt_client_free(r.c);
    return took;
}

/* How long one whole connect takes here (a sanitizer build is several times slower): the
 * stops are spread over a little more than that. */
static long connect_us(const char *base)
{
    tt_client *c = new_client(base);
    int64_t t0 = common_mono_ms();
    int ok = c && tt_client_connect(c) == TT_OK;
    long us = (long)(common_mono_ms() - t0) * 1000;
    CHECK(ok);
    tt_client_disconnect(c);
    tt_client_free(c);
    return us * 3 / 2 > 60000 ? us * 3 / 2 : 60000;
}

static void storm(const char *base, long ms, long span_us)
{
    struct run r = { new_client(base), 0, 0 };
    pthread_t t;
    CHECK(r.c != NULL);
    if (!r.c || pthread_create(&t, NULL, connection, &r)) {
        tt_client_free(r.c);
        return;
    }
    int64_t end = common_mono_ms() + ms;
    long stops = 0;
    while (common_mono_ms() < end) {
        tt_client_stop(r.c);
        stops++;
        sleep_us(1000 + stops * 7919 % (2 * span_us)); /* some connects get through */
    }
    atomic_store(&r.quit, 1);
    tt_client_stop(r.c);
    pthread_join(t, NULL);
    printf("storm: %ld stops, %d connections made\n", stops, atomic_load(&r.connects));
    /* how many connects got through depends on the machine's load (phase 1 makes sure stops
     * meet running connections): said, not checked. What is checked: the join returned */
    tt_client_free(r.c);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fputs("usage: stop_race BASE ROUNDS STORM_MS\n", stderr);
        return 64;
    }
    const char *base = argv[1];
    int rounds = atoi(argv[2]);
    int connects = 0;
    int64_t worst = 0;
    if (tt_global_init()) {
        return 1;
    }
    long span = connect_us(base);
    printf("stops spread over %ld ms\n", span / 1000);
    for (int i = 0; i < rounds; i++) {
        int64_t took = stop_after(base, (long)i * 7919 % span, &connects);
        CHECK(took >= 0 && took < 3000);
        worst = took > worst ? took : worst;
    }
    printf("rounds: %d, %d connected before the stop, slowest stop %lld ms\n", rounds, connects,
           (long long)worst);
    CHECK(rounds < 20 || connects > 0); /* the delays reach past a whole connect */
    storm(base, atol(argv[3]), span);
    tt_global_cleanup();
    return h_finish();
}
