/** @file main.c
 * tiktok2mqtt: the command line, startup in order, the main loop, shutdown in reverse. What
 * runs is elsewhere: the streamer set and reload (streamers.c), the runtime API (api.c), what
 * the bridge reports about itself (report.c), the output (out.h, sink_*.c).
 *
 *   tiktok2mqtt -c FILE [--stdout] [-v|-q]    run
 *   tiktok2mqtt -c FILE --check-config        validate: file:line: problem, exit 78 on error
 *   tiktok2mqtt -c FILE --print-config        the effective settings, secrets masked
 *   tiktok2mqtt --version
 *
 * Exit codes: 0 normal (SIGTERM/SIGINT), 64 usage, 78 configuration, 69 nothing can run.
 * Signal handlers only set flags; the main loop acts on them.
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "api.h"
#include "bridge.h"
#include "log.h"
#include "http.h"
#include "notices.h"
#include "out.h"
#include "probe.h"
#include "report.h"
#include "runtime.h"
#include "sink.h"
#include "streamer.h"
#include "streamers.h"
#include "xalloc.h"

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t early_hup; /* a SIGHUP before the bridge could be woken */
static struct bridge *signal_bridge;    /* whom a signal wakes, once it can be woken */

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
    if (signal_bridge) {
        bridge_out_wake(&signal_bridge->out);
    }
}

static void on_hup(int sig)
{
    (void)sig;
    if (signal_bridge) {
        signal_bridge->reload = 1;
        bridge_out_wake(&signal_bridge->out);
    } else {
        early_hup = 1;
    }
}

/* SIGHUP's default action ends the process, and systemd counts that a clean exit, which
 * Restart=on-failure does not restart: `systemctl reload` while a large file is still being
 * read killed the daemon for good. So SIGHUP is caught from the start (when running as a
 * daemon) and only remembered until the bridge can act on it. */
static void catch_early_hup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART; /* the configuration's read goes on */
    sigaction(SIGHUP, &sa, NULL);
}

struct args {
    const char *config;
    int check, print, to_stdout, verbosity;
    const char *probe;
};

static int usage(int code)
{
    fputs("usage: tiktok2mqtt -c FILE [--stdout] [-v|-q]\n"
          "       tiktok2mqtt -c FILE --check-config | --print-config | --probe HANDLE\n"
          "       tiktok2mqtt --version\n",
          code ? stderr : stdout);
    return code;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option longs[] = {
        { "config", required_argument, NULL, 'c' }, { "check-config", no_argument, NULL, 'C' },
        { "print-config", no_argument, NULL, 'P' }, { "stdout", no_argument, NULL, 'S' },
        { "probe", required_argument, NULL, 'R' },  { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    int ch;
    memset(a, 0, sizeof *a);
    while ((ch = getopt_long(argc, argv, "c:vqh", longs, NULL)) != -1) {
        switch (ch) {
        case 'c':
            a->config = optarg;
            break;
        case 'C':
            a->check = 1;
            break;
        case 'P':
            a->print = 1;
            break;
        case 'S':
            a->to_stdout = 1;
            break;
        case 'R':
            a->probe = optarg;
            break;
        case 'v':
            a->verbosity++;
            break;
        case 'q':
            a->verbosity--;
            break;
        case 'V':
            printf("tiktok2mqtt %s (libtiktok %s)\n", BRIDGE_VERSION, tt_version());
            exit(0);
        case 'h':
            exit(usage(0));
        default:
            return BRIDGE_EXIT_USAGE;
        }
    }
    if (optind < argc || !a->config) {
        fprintf(stderr, "tiktok2mqtt: %s\n",
                optind < argc ? "unexpected argument" : "-c FILE is required");
        return usage(BRIDGE_EXIT_USAGE);
    }
    return 0;
}

/* ---- what the output hands back ---- */

static void on_request(const char *cmd, const char *body, size_t len, void *ud)
{
    bridge_api_request(ud, cmd, body, len);
}

static void on_ha_online(void *ud)
{
    bridge_streamers_announce(ud);
}

/* ---- the output ---- */

static void wake_main(void *ud)
{
    struct bridge *b = ud;
    bridge_out_wake(&b->out);
}

/* The one place that chooses the sinks: JSON lines with --stdout, else the broker; and beside
 * either, the event stream of the HTTP server when there is one. */
static int start_output(struct bridge *b, int to_stdout)
{
    const struct bridge_sink_mqtt_cb cb = { on_request, on_ha_online, wake_main, b };
    char err[256];
    b->out.sink = to_stdout ? bridge_sink_stdout_new()
                            : bridge_sink_mqtt_new(&b->cfg, &cb, err, sizeof err);
    if (!b->out.sink) {
        LOG_ERR(NULL, "%s", err);
        return -1;
    }
    if (b->http) {
        b->sse = bridge_sse_new();
        b->out.tap = bridge_sse_sink(b->sse);
    }
    return 0;
}

/* [bridge] http (or its old name, metrics): bound before anything starts, so that a port in
 * use stops the start with a clear message. */
static int start_http(struct bridge *b, char *err, size_t errlen)
{
    const char *addr = *b->cfg.bridge.http ? b->cfg.bridge.http : b->cfg.bridge.metrics;
    char dir[PATH_MAX];
    if (!*addr) {
        return 0;
    }
    bridge_overlay_dir(b->cfg.bridge.overlay_dir, dir, sizeof dir);
    if (!(b->http = bridge_http_new(addr, dir, err, errlen))) {
        LOG_ERR(NULL, "%s ([bridge] %s)", err, *b->cfg.bridge.http ? "http" : "metrics");
        return -1;
    }
    return 0;
}

/* ms until the main thread must run although nobody woke it */
static int next_wait_ms(struct bridge *b, int sink_ms)
{
    int64_t now = common_wall_ms(), at = b->next_state_ms;
    at = b->next_health_ms < at ? b->next_health_ms : at;
    int64_t d = at > now ? at - now : 0;
    int m = sink_ms;
    if (m >= 0 && m < d) {
        d = m;
    }
    return b->reload ? 0 : d > 60000 ? 60000 : (int)d;
}

/* Sleeps until bridge_out_wake() or the next deadline: an idle bridge with a thousand
 * streamers used to wake 20 times a second here for nothing. */
static void run(struct bridge *b, const char *path)
{
    while (!stop_flag) {
        struct pollfd p = { b->out.wake_fd, POLLIN, 0 };
        /* Drain the eventfd first, then clear the flag, then work. The other way round, a wake
         * landing between the two drained its own write and left the flag set: every later
         * wake was skipped and the main thread slept to its next timer with a full queue (the
         * output path idled for seconds, docs/PERFORMANCE.md). This way a wake that sees the
         * flag set came before the clear, so the work below sees what it announced. */
        uint64_t n;
        ssize_t r = read(b->out.wake_fd, &n, sizeof n);
        (void)r;
        atomic_store(&b->out.wake_pending, 0);
        if (b->reload) {
            char why[1200];
            b->reload = 0;
            bridge_api_reloaded(b, bridge_reload(b, path, why, sizeof why) ? why : NULL);
        }
        int sink_ms = bridge_out_pump(&b->out);
        bridge_report_periodic(b);
        bridge_http_pump(b->http, b->streamers);
        if (!stop_flag) {
            poll(&p, 1, next_wait_ms(b, sink_ms));
        }
    }
}

/* What the last run published, so that a backlog it saw is not published again. */
static void load_seen(struct bridge *b)
{
    char err[160];
    char *path = seen_path(b->cfg.bridge.state_file, b->cfg.bridge.instance);
    if (seen_load(&b->seen, path, err, sizeof err)) {
        LOG_WARN(NULL, "%s: %s", path, err);
    }
    free(path);
}

static int setup_wake(struct bridge *b)
{
    atomic_init(&b->out.wake_pending, 0);
    b->out.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    signal_bridge = b->out.wake_fd >= 0 ? b : NULL;
    return b->out.wake_fd >= 0 ? 0 : -1;
}

static void setup_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* paho's send and receive threads are detached: MQTTAsync_destroy() waits until they say they
 * are stopped, not until they are gone, and OpenSSL's per-thread cleanup still runs as they
 * exit. Left to its default, OpenSSL frees its locks in an atexit handler when main returns,
 * and such a thread then takes a freed lock (ThreadSanitizer saw it in 1 of 6 TLS runs). This
 * must be OpenSSL's first initialisation, before curl's, paho's and libwebsockets'; the
 * process's exit returns the memory anyway. */
static void keep_openssl_until_exit(void)
{
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

/* No fastbins. Each event's message (ours, then paho's copy) is over 1 KiB, a "large" request
 * for glibc, and a large request while fastbins hold freed chunks first merges them all
 * (malloc_consolidate): 14 % of the main thread's samples under load. Without fastbins, small
 * chunks still go through the per-thread cache, and bench-e2e measured 35.2 us of CPU per event
 * against 39.5 (tuned broker, QoS 1, 5,000 events/s, medians of 4 alternating runs).
 *
 * And a fixed mmap threshold. glibc raises its threshold to the size of every mapped block that
 * is freed, after which blocks of about that size come from an arena and stay resident there once
 * freed: the 8 MiB a gzip bomb fills, which the library gives back after the frame, stayed in
 * the arena of the streamer thread that decoded it (the soak: four arenas of 8.7 MiB, a third of
 * the daemon's memory). At glibc's own default, 128 KiB, every larger block is mapped and
 * unmapped; nothing on the path of an event is that large.
 * GLIBC_TUNABLES=glibc.malloc.mxfast=N (or mmap_threshold=N) in the environment still has the
 * last word. */
static void tune_malloc(void)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if (!t || !strstr(t, "mxfast")) {
        mallopt(M_MXFAST, 0);
    }
    if (!t || !strstr(t, "mmap_threshold")) {
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    }
}

int main(int argc, char **argv)
{
    keep_openssl_until_exit();
    tune_malloc();
    struct args a;
    static struct bridge b;
    b.out.wake_fd = -1; /* nobody to wake until setup_wake() */
    char errbuf[320];
    int rc = parse_args(argc, argv, &a);
    if (rc) {
        return rc;
    }
    if (!a.check && !a.print && !a.probe) {
        catch_early_hup();
    }
    if (bridge_load_config(a.config, &b.cfg, NULL, 0)) {
        return BRIDGE_EXIT_CONFIG;
    }
    if (a.check || a.print) {
        if (a.print) {
            bridge_cfg_print(stdout, &b.cfg);
        }
        bridge_cfg_free(&b.cfg);
        return 0;
    }
    if (a.probe) {
        unsetenv("https_proxy");
        rc = tt_global_init() ? 69 : bridge_probe(&b.cfg, a.probe, 5);
        bridge_cfg_free(&b.cfg);
        tt_global_cleanup();
        return rc;
    }
    int level = (int)b.cfg.bridge.log_level + a.verbosity;
    bridge_log_level = level < 0 ? 0 : level > 4 ? 4 : level;
    unsetenv("https_proxy"); /* proxies come from the config alone (tt_global_init: http_proxy) */
    if (tt_global_init()) {
        LOG_ERR(NULL, "cannot initialise libtiktok");
        return 69;
    }
    if (setup_wake(&b)) {
        LOG_ERR(NULL, "cannot create an eventfd: %s", strerror(errno));
        return 71;
    }
    setup_signals();
    if (early_hup) { /* the file may have changed since it was read */
        b.reload = 1;
    }
    atomic_init(&b.out.raw, b.cfg.bridge.raw);
    atomic_init(&b.out.urgent, 0);
    atomic_init(&b.out.info_dirty, 0);
    b.started_ms = common_wall_ms();
    if (start_http(&b, errbuf, sizeof errbuf)) {
        return 69;
    }
    if (start_output(&b, a.to_stdout)) {
        return 69;
    }
    if (tt_devices_new(&b.devices, b.cfg.bridge.ttwid_file,
                       (unsigned)b.cfg.bridge.streamers_per_device)) {
        LOG_ERR(NULL, "out of memory");
        return 71;
    }
    if (tt_devices_unreadable(b.devices)) { /* as the state file's: kept, never replaced */
        LOG_ERR(NULL,
                "cannot read %s (%s): its devices are not used, and it is not replaced: the "
                "devices minted now last only until a restart",
                b.cfg.bridge.ttwid_file, strerror(tt_devices_unreadable(b.devices)));
    }
    const struct bridge_metrics_src src = { &b.out, b.devices, b.started_ms, b.sse };
    if (b.http && bridge_http_start(b.http, &src, b.sse)) {
        LOG_ERR(NULL, "http: cannot start the server");
    }
    LOG_INFO(NULL, "tiktok2mqtt %s: %zu streamers, %s", BRIDGE_VERSION, b.cfg.n_streamers,
             a.to_stdout ? "output on stdout" : b.cfg.mqtt.uri);
    bridge_report_info(&b);
    rc = runtime_load(&b.rt, b.cfg.bridge.state_file);
    if (rc == -2) {
        LOG_ERR(NULL,
                "cannot read %s (%s): the streamers added or removed at run time are not "
                "applied, and changes through the API last only until a restart",
                b.rt.path, strerror(b.rt.unreadable));
    } else if (rc) {
        /* kept aside, not overwritten by the next change: the user may want it back */
        char bad[PATH_MAX];
        snprintf(bad, sizeof bad, "%s.bad", b.rt.path);
        int kept = !rename(b.rt.path, bad);
        LOG_WARN(NULL, "%s is not valid JSON: run-time changes start afresh%s%s", b.rt.path,
                 kept ? ", the file is kept as " : "", kept ? bad : "");
    }
    load_seen(&b);
    for (size_t i = 0; i < b.cfg.n_streamers; i++) {
        /* staggered: 20 a second */
        bridge_streamer_start(&b, &b.cfg.streamers[i], (int64_t)i * 50);
    }
    for (size_t i = 0; i < b.rt.n_added; i++) {
        bridge_streamer_start_runtime(&b, b.rt.added[i]);
    }
    bridge_streamers_announce(&b);
    run(&b, a.config);
    LOG_INFO(NULL, "stopping");
    cJSON_Delete(b.reload_waiters); /* a reload asked for as the stop came: never done */
    bridge_http_free(b.http);
    bridge_streamers_stop_all(&b);
    if (seen_save(&b.seen, errbuf, sizeof errbuf)) {
        LOG_WARN(NULL, "%s: %s: the next start may publish a backlog again", b.seen.path, errbuf);
    }
    seen_free(&b.seen);
    tt_devices_free(b.devices); /* after the streamers: they borrow it */
    bridge_out_close(&b.out, (int)b.cfg.mqtt.flush_timeout * 1000);
    runtime_free(&b.rt);
    bridge_cfg_free(&b.cfg);
    tt_global_cleanup();
    bridge_log_limit_flush(); /* what the rate limit still held back */
    return 0;
}
