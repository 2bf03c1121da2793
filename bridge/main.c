/** @file main.c
 * tiktok2mqtt: command line, startup, the main loop, reload and shutdown.
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
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "bridge.h"
#include "log.h"
#include "metrics.h"
#include "notices.h"
#include "out.h"
#include "probe.h"
#include "runtime.h"
#include "sink.h"
#include "streamer.h"
#include "xalloc.h"

static volatile sig_atomic_t stop_flag, reload_flag;
static struct bridge_out *signal_out; /* whom a signal wakes: any thread may take it */

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
    if (signal_out) {
        bridge_out_wake(signal_out);
    }
}

static void on_hup(int sig)
{
    (void)sig;
    reload_flag = 1;
    if (signal_out) {
        bridge_out_wake(signal_out);
    }
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

static int load(const char *path, struct bridge_cfg *cfg)
{
    struct bridge_cfg_errors errs = { 0 };
    int rc = bridge_cfg_load(path, cfg, &errs);
    for (size_t i = 0; i < errs.n_warnings; i++) {
        fprintf(stderr, "%s (warning)\n", errs.warnings[i]);
    }
    for (size_t i = 0; i < errs.n_errors; i++) {
        fprintf(stderr, "%s\n", errs.errors[i]);
    }
    bridge_cfg_errors_free(&errs);
    return rc;
}

/* ---- the running bridge ---- */

struct bridge {
    struct bridge_cfg cfg;
    struct bridge_out out;
    struct streamer *streamers;
    int64_t started_ms, next_state_ms, next_health_ms;
    struct bridge_api api;
    struct runtime rt;              /* streamers added / removed through the API (state_file) */
    struct bridge_metrics *metrics; /* [bridge] metrics; NULL: off */
    int info_protocol;              /* the MQTT protocol bridge/info last showed */
};

static struct streamer *find_streamer(struct bridge *b, const char *handle)
{
    for (struct streamer *s = b->streamers; s; s = s->next) {
        if (!strcmp(s->cfg.handle, handle)) {
            return s;
        }
    }
    return NULL;
}

static void start_one(struct bridge *b, const struct bridge_streamer *bs, int64_t delay_ms)
{
    if (!bs->owned || !bs->enabled || runtime_is_removed(&b->rt, bs->handle) ||
        find_streamer(b, bs->handle)) {
        return;
    }
    struct streamer *s = streamer_new(&b->out, &b->cfg, bs);
    if (!s) {
        return;
    }
    s->start_delay_ms = delay_ms;
    if (streamer_start(s)) {
        LOG_ERR(bs->handle, "cannot start its thread");
        streamer_free(s);
        return;
    }
    s->next = b->streamers;
    b->streamers = s;
}

/* Stopping several at once: ask all, then wait for all (each may be mid-request). */
static void stop_all(struct streamer *list)
{
    for (struct streamer *s = list; s; s = s->next) {
        streamer_stop(s);
    }
    while (list) {
        struct streamer *next = list->next;
        streamer_join(list);
        streamer_free(list);
        list = next;
    }
}

/* Take a streamer off the running list and stop it (its retained topics stay). */
static void stop_running(struct bridge *b, struct streamer *s)
{
    struct streamer **pp = &b->streamers;
    while (*pp != s) {
        pp = &(*pp)->next;
    }
    *pp = s->next;
    s->next = NULL;
    stop_all(s);
}

/* Stop a running streamer for good: its thread, its retained topics, its discovery. */
static void remove_running(struct bridge *b, struct streamer *s)
{
    char topic[64];
    snprintf(topic, sizeof topic, "%s", s->topic);
    stop_running(b, s);
    bridge_out_clear(&b->out, topic); /* what was kept of it goes */
}

/* A streamer the API added: the [tiktok] defaults, its handle as topic. */
static void start_runtime(struct bridge *b, const char *handle)
{
    struct bridge_streamer bs;
    memset(&bs, 0, sizeof bs);
    snprintf(bs.handle, sizeof bs.handle, "%s", handle);
    bs.topic = bs.handle;
    bs.enabled = true;
    bs.owned = bridge_shard_owns(handle, b->cfg.bridge.shard.i, b->cfg.bridge.shard.n);
    bs.tt = b->cfg.tiktok; /* strings borrowed: streamer_new copies what it keeps */
    start_one(b, &bs, 0);
}

static cJSON *info_json(void *ud)
{
    struct bridge *b = ud;
    struct bridge_mqtt_stats st;
    cJSON *j = cJSON_CreateObject(), *list;
    bridge_out_stats(&b->out, &st);
    cJSON_AddStringToObject(j, "version", BRIDGE_VERSION);
    cJSON_AddStringToObject(j, "mqttProtocol", st.protocol == 5 ? "5" : "3.1.1");
    b->info_protocol = st.protocol;
    cJSON_AddNumberToObject(j, "startTime", (double)b->started_ms);
    cJSON_AddStringToObject(j, "signer", b->cfg.tiktok.sign_api_url); /* the URL, never the key */
    list = cJSON_AddArrayToObject(j, "streamers");
    for (size_t i = 0; i < b->cfg.n_streamers; i++) {
        const struct bridge_streamer *bs = &b->cfg.streamers[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "handle", bs->handle);
        cJSON_AddStringToObject(o, "topic", bs->topic);
        cJSON_AddBoolToObject(o, "enabled", bs->enabled);
        cJSON_AddBoolToObject(o, "owned", bs->owned);
        cJSON_AddBoolToObject(o, "removed", runtime_is_removed(&b->rt, bs->handle));
        cJSON_AddItemToArray(list, o);
    }
    for (size_t i = 0; i < b->rt.n_added; i++) { /* added through the API */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "handle", b->rt.added[i]);
        cJSON_AddStringToObject(o, "topic", b->rt.added[i]);
        cJSON_AddBoolToObject(o, "enabled", 1);
        cJSON_AddBoolToObject(o, "runtime", 1);
        cJSON_AddItemToArray(list, o);
    }
    return j;
}

static void publish_info(struct bridge *b)
{
    bridge_out_retained_json(&b->out, BRIDGE_TOPIC_INFO, NULL, info_json(b));
}

static void publish_discovery(struct bridge *b)
{
    for (struct streamer *s = b->streamers; s; s = s->next) {
        bridge_out_announce(&b->out, s->cfg.handle, s->topic);
    }
}

/* ---- the runtime API and Home Assistant's birth ---- */

static void api_reload(void *ud)
{
    (void)ud;
    reload_flag = 1;
}

/* A handle added at run time is its own topic: it must not be the bridge's level nor the
 * topic another streamer already publishes under (its events would mix with theirs) */
static const char *topic_taken(struct bridge *b, const char *handle)
{
    if (bridge_topic_reserved(handle)) {
        return "its topic would be the bridge's own level: follow it from the configuration "
               "with another topic";
    }
    for (struct streamer *s = b->streamers; s; s = s->next) {
        if (!strcmp(s->topic, handle)) {
            return "its topic is already used by another streamer";
        }
    }
    return NULL;
}

static const char *api_add(struct bridge *b, const char *handle)
{
    if (find_streamer(b, handle)) {
        return "already followed";
    }
    const char *taken = topic_taken(b, handle);
    if (taken) {
        return taken;
    }
    if (!bridge_shard_owns(handle, b->cfg.bridge.shard.i, b->cfg.bridge.shard.n)) {
        return "another shard owns this handle ([bridge] shard)";
    }
    runtime_note_added(&b->rt, handle, bridge_cfg_find_streamer(&b->cfg, handle) != NULL);
    start_runtime(b, handle);
    if (!find_streamer(b, handle)) {
        return "cannot start it (see the log)";
    }
    bridge_event_simple(&b->out, "streamer_added", handle);
    return NULL;
}

static const char *api_remove(struct bridge *b, const char *handle)
{
    struct streamer *s = find_streamer(b, handle);
    if (!s) {
        return "not followed";
    }
    runtime_note_removed(&b->rt, handle, bridge_cfg_find_streamer(&b->cfg, handle) != NULL);
    remove_running(b, s);
    bridge_event_simple(&b->out, "streamer_removed", handle);
    return NULL;
}

static const char *api_streamer(void *ud, const char *cmd, const char *user, const cJSON *req)
{
    struct bridge *b = ud;
    char handle[BRIDGE_HANDLE_SIZE];
    static char why_buf[256]; /* the main thread's alone: requests are handled there */
    const char *why = NULL, *err;
    (void)req;
    if (bridge_handle_normalize(user, handle, sizeof handle, &why)) {
        return why ? why : "invalid handle";
    }
    if (!strcmp(cmd, "reconnect")) {
        struct streamer *s = find_streamer(b, handle);
        if (!s) {
            return "not followed";
        }
        tt_client_stop(s->client); /* its thread reconnects after the shortest backoff */
        return NULL;
    }
    err = !strcmp(cmd, "add_streamer") ? api_add(b, handle) : api_remove(b, handle);
    if (!err) {
        publish_info(b);
        publish_discovery(b);
    }
    if (!err && runtime_save(&b->rt, why_buf, sizeof why_buf)) {
        /* the change stands, but the caller must hear that a restart undoes it */
        LOG_ERR(NULL, "cannot write %s (%s): the change lasts until a restart", b->rt.path,
                why_buf);
        err = "done, but state_file cannot be written: the change lasts until a restart";
    }
    return err;
}

static void on_request(const char *cmd, const char *body, size_t len, void *ud)
{
    struct bridge *b = ud;
    bridge_api_request(&b->api, cmd, body, len);
}

static void on_ha_online(void *ud)
{
    publish_discovery(ud);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) {
            resident = 0;
        }
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void publish_health(struct bridge *b)
{
    struct bridge_mqtt_stats st;
    cJSON *j = cJSON_CreateObject(), *mq, *per;
    bridge_out_stats(&b->out, &st);
    cJSON_AddNumberToObject(j, "uptime", (double)(bridge_now_ms() - b->started_ms) / 1000);
    cJSON_AddNumberToObject(j, "rssKiB", (double)rss_kib());
    mq = cJSON_AddObjectToObject(j, "mqtt");
    cJSON_AddBoolToObject(mq, "connected", st.connected);
    cJSON_AddNumberToObject(mq, "queued", (double)st.queued);
    cJSON_AddNumberToObject(mq, "published", (double)st.published);
    cJSON_AddNumberToObject(mq, "dropped", (double)st.dropped);
    per = cJSON_AddObjectToObject(j, "streamers");
    for (struct streamer *s = b->streamers; s; s = s->next) {
        cJSON_AddItemToObject(per, s->topic, streamer_health(s));
    }
    bridge_out_retained_json(&b->out, BRIDGE_TOPIC_HEALTH, NULL, j);
}

static void periodic(struct bridge *b)
{
    int64_t now = bridge_now_ms();
    struct bridge_mqtt_stats st;
    /* the broker refused MQTT 5: bridge/info says 3.1.1 from now on */
    if (bridge_out_stats(&b->out, &st) && st.protocol != b->info_protocol) {
        publish_info(b);
    }
    int due = now >= b->next_state_ms;
    /* the flag spares a walk over every streamer's mutex at every wake (each publish wakes us) */
    if (due || atomic_exchange(&b->out.urgent, 0)) {
        for (struct streamer *s = b->streamers; s; s = s->next) {
            if (due || streamer_state_urgent(s)) {
                streamer_publish_state(s, 0);
            }
        }
    }
    if (due) {
        b->next_state_ms = now + b->cfg.bridge.state_interval * 1000;
    }
    if (now >= b->next_health_ms) {
        publish_health(b);
        b->next_health_ms = now + b->cfg.bridge.health_interval * 1000;
    }
}

/* ---- reload (SIGHUP): added start, removed stop and clear, changed restart ---- */

static void apply_diff(struct bridge *b, const struct bridge_cfg_diff *d)
{
    for (size_t i = 0; i < d->n_streamers; i++) {
        const struct bridge_cfg_streamer_diff *sd = &d->streamers[i];
        struct streamer *s = find_streamer(b, sd->handle);
        if (sd->change == BRIDGE_CFG_UNCHANGED) {
            continue;
        }
        if (s) { /* removed or changed: stop the running one first */
            if (sd->change == BRIDGE_CFG_REMOVED || strcmp(s->topic, sd->after->topic)) {
                remove_running(b, s);
            } else {
                stop_running(b, s); /* restarted below with its new settings */
            }
            if (sd->change == BRIDGE_CFG_REMOVED) {
                bridge_event_simple(&b->out, "streamer_removed", sd->handle);
            }
        }
        if (sd->after) {
            start_one(b, sd->after, 0);
            if (sd->change == BRIDGE_CFG_ADDED) {
                bridge_event_simple(&b->out, "streamer_added", sd->handle);
            }
        }
    }
}

static void reload(struct bridge *b, const char *path)
{
    struct bridge_cfg next = { 0 };
    struct bridge_cfg_diff d = { 0 };
    if (load(path, &next)) {
        LOG_ERR(NULL, "reload: %s has errors, keeping the running configuration", path);
        bridge_cfg_free(&next);
        return;
    }
    bridge_cfg_diff(&b->cfg, &next, &d);
    if (d.restart_required) {
        LOG_WARN(NULL, "reload: changed keys need a restart to take effect: %s", d.global_keys);
    }
    apply_diff(b, &d);
    bridge_cfg_diff_free(&d);
    /* running streamers hold no pointers into the old config (streamer.c), so it can go */
    bridge_cfg_free(&b->cfg);
    b->cfg = next;
    bridge_log_level = b->cfg.bridge.log_level;
    atomic_store(&b->out.raw, b->cfg.bridge.raw);
    publish_info(b);
    publish_discovery(b);
    bridge_event_simple(&b->out, "config_reloaded", NULL);
    LOG_INFO(NULL, "reloaded %s", path);
}

/* ---- the output ---- */

static void wake_main(void *ud)
{
    struct bridge *b = ud;
    bridge_out_wake(&b->out);
}

/* The one place that chooses the sink: JSON lines with --stdout, else the broker. */
static int start_output(struct bridge *b, int to_stdout)
{
    const struct bridge_sink_mqtt_cb cb = { on_request, on_ha_online, wake_main, b };
    char err[256];
    b->api = (struct bridge_api){ &b->out, b, info_json, api_reload, api_streamer };
    b->out.sink = to_stdout ? bridge_sink_stdout_new()
                            : bridge_sink_mqtt_new(&b->cfg, &cb, err, sizeof err);
    if (!b->out.sink) {
        LOG_ERR(NULL, "%s", err);
        return -1;
    }
    return 0;
}

/* ms until the main thread must run although nobody woke it */
static int next_wait_ms(struct bridge *b, int sink_ms)
{
    int64_t now = bridge_now_ms(), at = b->next_state_ms;
    at = b->next_health_ms < at ? b->next_health_ms : at;
    int64_t d = at > now ? at - now : 0;
    int m = sink_ms;
    if (m >= 0 && m < d) {
        d = m;
    }
    return reload_flag ? 0 : d > 60000 ? 60000 : (int)d;
}

/* Sleeps until bridge_out_wake() or the next deadline: an idle bridge with a thousand
 * streamers used to wake 20 times a second here for nothing. */
static void run(struct bridge *b, const char *path)
{
    while (!stop_flag) {
        struct pollfd p = { b->out.wake_fd, POLLIN, 0 };
        atomic_store(&b->out.wake_pending, 0); /* before the work: a later wake is not lost */
        uint64_t n;
        ssize_t r = read(b->out.wake_fd, &n, sizeof n);
        (void)r;
        if (reload_flag) {
            reload_flag = 0;
            reload(b, path);
        }
        int sink_ms = bridge_out_pump(&b->out);
        periodic(b);
        bridge_metrics_pump(b->metrics, b->streamers);
        if (!stop_flag) {
            poll(&p, 1, next_wait_ms(b, sink_ms));
        }
    }
}

static int setup_wake(struct bridge_out *o)
{
    atomic_init(&o->wake_pending, 0);
    o->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    signal_out = o->wake_fd >= 0 ? o : NULL;
    return o->wake_fd >= 0 ? 0 : -1;
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

int main(int argc, char **argv)
{
    struct args a;
    static struct bridge b;
    b.out.wake_fd = -1; /* nobody to wake until setup_wake() */
    char errbuf[320];
    int rc = parse_args(argc, argv, &a);
    if (rc) {
        return rc;
    }
    if (load(a.config, &b.cfg)) {
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
    bridge_log_level = (int)b.cfg.bridge.log_level + a.verbosity;
    bridge_log_level = bridge_log_level < 0 ? 0 : bridge_log_level > 4 ? 4 : bridge_log_level;
    unsetenv("https_proxy"); /* proxies come from the config alone (tt_global_init: http_proxy) */
    if (tt_global_init()) {
        LOG_ERR(NULL, "cannot initialise libtiktok");
        return 69;
    }
    if (setup_wake(&b.out)) {
        LOG_ERR(NULL, "cannot create an eventfd: %s", strerror(errno));
        return 71;
    }
    setup_signals();
    atomic_init(&b.out.raw, b.cfg.bridge.raw);
    atomic_init(&b.out.urgent, 0);
    b.started_ms = bridge_now_ms();
    if (*b.cfg.bridge.metrics &&
        !(b.metrics = bridge_metrics_new(b.cfg.bridge.metrics, errbuf, sizeof errbuf))) {
        LOG_ERR(NULL, "%s ([bridge] metrics)", errbuf);
        return 69;
    }
    if (start_output(&b, a.to_stdout)) {
        return 69;
    }
    if (b.metrics && bridge_metrics_start(b.metrics, &b.out, b.started_ms)) {
        LOG_ERR(NULL, "metrics: cannot start its thread");
    }
    LOG_INFO(NULL, "tiktok2mqtt %s: %zu streamers, %s", BRIDGE_VERSION, b.cfg.n_streamers,
             a.to_stdout ? "output on stdout" : b.cfg.mqtt.uri);
    publish_info(&b);
    if (runtime_load(&b.rt, b.cfg.bridge.state_file)) {
        /* kept aside, not overwritten by the next change: the user may want it back */
        char bad[PATH_MAX];
        snprintf(bad, sizeof bad, "%s.bad", b.rt.path);
        int kept = !rename(b.rt.path, bad);
        LOG_WARN(NULL, "%s is not valid JSON: run-time changes start afresh%s%s", b.rt.path,
                 kept ? ", the file is kept as " : "", kept ? bad : "");
    }
    for (size_t i = 0; i < b.cfg.n_streamers; i++) {
        start_one(&b, &b.cfg.streamers[i], (int64_t)i * 50); /* staggered: 20 a second */
    }
    for (size_t i = 0; i < b.rt.n_added; i++) {
        start_runtime(&b, b.rt.added[i]);
    }
    publish_discovery(&b);
    run(&b, a.config);
    LOG_INFO(NULL, "stopping");
    bridge_metrics_free(b.metrics);
    stop_all(b.streamers);
    b.streamers = NULL;
    bridge_out_close(&b.out, 3000);
    runtime_free(&b.rt);
    bridge_cfg_free(&b.cfg);
    tt_global_cleanup();
    return 0;
}
