/** @file main.c
 * tiktok-live-sim: a TikTok LIVE simulator for tests, demos and benchmarks. This file reads the
 * command line, builds the world (scenario.c, replay.c, load.c), opens one libwebsockets vhost
 * whose port serves the web host, the webcast host, both sign servers and the WebSocket push
 * server, prints {"listening":...} on stdout, and runs the service loop with a 10 ms tick that
 * drives every room's timeline. SIGINT/SIGTERM stop it cleanly; the last stdout line then
 * carries the totals.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <libwebsockets.h>
#include <zlib.h>

#include "sim.h"

#define TICK_US (10 * LWS_US_PER_MS)

static volatile sig_atomic_t stop;
static struct lws_context *the_ctx;
static lws_sorted_usec_list_t tick_sul;
static struct sim *the_sim;

static const char usage[] =
        "usage: tiktok-live-sim --listen HOST:PORT [--tls CERT KEY]\n"
        "                       (--scenario FILE | --replay DIR) [--user NAME] [--log FILE]\n"
        "  --listen HOST:PORT   where to listen (port 0: any free port, printed on stdout)\n"
        "  --tls CERT KEY       serve https:// and wss:// with this certificate and key (PEM)\n"
        "  --scenario FILE      rooms, events and faults (contrib/sim/README.md)\n"
        "  --replay DIR         push DIR/*.bin (an oracle corpus or a recording), in name order\n"
        "  --user NAME          the streamer a replay belongs to (default the_host)\n"
        "  --room-id ID         the replayed room's id (default 7301234567890123456)\n"
        "  --rate N             replay frames per second (default 1000, at least 100)\n"
        "  --speed X            recordings: X times the recorded pace (default 1)\n"
        "  --fast               recordings: ignore the recorded pace, use --rate\n"
        "  --log FILE           what clients did, as JSON lines ('-' for stderr)\n"
        "  --log-frames         also log every frame sent\n"
        "  --dump DIR           write every pushed frame to DIR/<handle>/NNNNNN.bin\n"
        "  --api-key KEY        the sign endpoints require this key (x-api-key or apiKey=)\n"
        "  --no-signature-check accept unsigned im/fetch requests\n"
        "  --slow-ms N          delay every HTTP answer by N ms\n"
        "  --end-grace-ms N     close an ended room's sockets after N ms (default 10000)\n"
        "  --max-conns N        connections the process is sized for (default 20000)\n"
        "  --gift-list-kb N     pad gift/list with filler gifts to about N KiB (TikTok's: 250)\n"
        "  --seed N             seed for ids and random choices (default 1)\n";

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
    if (the_ctx != NULL)
        lws_cancel_service(the_ctx);
}

static void tick(lws_sorted_usec_list_t *sul)
{
    room_tick_all(the_sim);
    if (!stop)
        lws_sul_schedule(the_ctx, 0, sul, tick,
                         the_sim->load_mode ? load_tick_us(the_sim) : TICK_US);
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    return http_callback(wsi, (int)reason, user, in, len);
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    return ws_callback(wsi, (int)reason, user, in, len);
}

static int parse_listen(struct sim *s, const char *arg)
{
    static char host[256];
    const char *colon = strrchr(arg, ':');
    char *end;
    long port;

    if (colon == NULL || (size_t)(colon - arg) >= sizeof(host))
        return -1;
    memcpy(host, arg, (size_t)(colon - arg));
    host[colon - arg] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535)
        return -1;
    s->listen_host = host;
    s->listen_port = (int)port;
    return 0;
}

/* --opt VALUE: the value, or NULL (and a message) when it is missing. */
static const char *value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "tiktok-live-sim: %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static int parse_num(const char *v, double lo, double hi, double *out)
{
    char *end;
    double d = strtod(v, &end);

    if (*end != '\0' || d < lo || d > hi)
        return -1;
    *out = d;
    return 0;
}

static int parse_opt(struct sim *s, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v;
    double d;

    if (strcmp(a, "--fast") == 0)
        s->replay_fast = true;
    else if (strcmp(a, "--log-frames") == 0)
        s->log_frames = true;
    else if (strcmp(a, "--no-signature-check") == 0)
        s->require_signature = false;

    else if (strcmp(a, "--tls") == 0) {
        if ((s->tls_cert = value(argc, argv, i)) == NULL ||
            (s->tls_key = value(argc, argv, i)) == NULL)
            return -1;
    } else if ((v = value(argc, argv, i)) == NULL) {
        return -1;
    } else if (strcmp(a, "--listen") == 0) {
        return parse_listen(s, v);
    } else if (strcmp(a, "--scenario") == 0) {
        s->scenario_path = v;
    } else if (strcmp(a, "--replay") == 0) {
        s->replay_dir = v;
    } else if (strcmp(a, "--user") == 0) {
        s->user = v[0] == '@' ? v + 1 : v;
    } else if (strcmp(a, "--log") == 0) {
        s->log_path = v;
    } else if (strcmp(a, "--dump") == 0) {
        s->dump_dir = v;
    } else if (strcmp(a, "--api-key") == 0) {
        s->api_key = v;
    } else if (strcmp(a, "--room-id") == 0) {
        s->replay_room_id = strtoll(v, NULL, 10);
    } else if (strcmp(a, "--rate") == 0 && parse_num(v, 100, 1e6, &d) == 0) {
        s->replay_rate = d;
    } else if (strcmp(a, "--speed") == 0 && parse_num(v, 0.001, 1e6, &d) == 0) {
        s->replay_speed = d;
    } else if (strcmp(a, "--slow-ms") == 0 && parse_num(v, 0, 600000, &d) == 0) {
        s->slow_ms = (int)d;
    } else if (strcmp(a, "--end-grace-ms") == 0 && parse_num(v, 0, 3600000, &d) == 0) {
        s->end_grace_ms = (int64_t)d;
    } else if (strcmp(a, "--max-conns") == 0 && parse_num(v, 1, 1000000, &d) == 0) {
        s->max_conns = (uint32_t)d;
    } else if (strcmp(a, "--gift-list-kb") == 0 && parse_num(v, 0, 16384, &d) == 0) {
        s->gift_list_kb = (uint32_t)d;
    } else if (strcmp(a, "--seed") == 0 && parse_num(v, 0, 1e18, &d) == 0) {
        s->seed = (uint64_t)d;
    } else {
        fprintf(stderr, "tiktok-live-sim: bad option or value: %s %s\n", a, v);
        return -1;
    }
    return 0;
}

static int parse_args(struct sim *s, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
        if (parse_opt(s, argc, argv, &i) != 0)
            return -1;
    }
    if (s->listen_host == NULL || (s->scenario_path == NULL) == (s->replay_dir == NULL)) {
        fputs(usage, stderr);
        return -1;
    }
    return 0;
}

static void sim_init(struct sim *s)
{
    memset(s, 0, sizeof(*s));
    s->user = "the_host";
    s->replay_rate = 1000;
    s->replay_speed = 1;
    s->replay_room_id = 7301234567890123456;
    s->max_conns = 20000;
    s->end_grace_ms = 10000;
    s->require_signature = true;
    s->seed = 1;
    arena_init(&s->perm, (size_t)1 << 30);
    arena_init(&s->scratch, (size_t)256 * 1024 * 1024);
}

/* Builds the world: scenario, replay or load rooms, then the room-id index. */
static int world(struct sim *s)
{
    s->rng = s->seed * 0x2545f4914f6cdd1du + 1;
    s->next_msg_id = 7300000000000000000 + (int64_t)(s->seed % 1000) * 100000000000;
    if (s->scenario_path != NULL && scenario_load(s, s->scenario_path) != 0)
        return -1;
    if (s->replay_dir != NULL && replay_setup(s) != 0)
        return -1;
    if (s->load_mode && load_setup(s) != 0)
        return -1;
    if (s->n_rooms == 0) {
        fprintf(stderr, "tiktok-live-sim: the scenario defines no streamer\n");
        return -1;
    }
    for (uint32_t i = 0; i < s->n_rooms; i++)
        if (sim_room_index_ids(s, &s->rooms[i]) != 0)
            return -1;
    return 0;
}

static int open_outputs(struct sim *s)
{
    z_stream *z = calloc(1, sizeof(*z));

    /* frames are a few KiB: a 4 KiB window and a small hash table compress them as well as
       the defaults do, and deflateReset() (once per frame) clears 8 KiB instead of 256 KiB */
    if (z == NULL ||
        deflateInit2(z, s->load_mode ? 1 : 6, Z_DEFLATED, 12 + 16, 3, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z);
        return -1;
    }
    s->z = z;
    if (s->log_path == NULL)
        return 0;
    s->log = strcmp(s->log_path, "-") == 0 ? stderr : fopen(s->log_path, "w");
    if (s->log == NULL) {
        fprintf(stderr, "tiktok-live-sim: %s: %s\n", s->log_path, strerror(errno));
        return -1;
    }
    return 0;
}

static void raise_fd_limit(uint32_t want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static struct lws_protocols protocols[3];

static int listen_on(struct sim *s)
{
    /* the WebSocket protocol is the default for upgrades that ask for no subprotocol, which is
       what every client does */
    static const struct lws_protocol_vhost_options pvo_default = { NULL, NULL, "default", "1" };
    static const struct lws_protocol_vhost_options pvo = { NULL, &pvo_default, "webcast", "" };
    struct lws_context_creation_info info;

    protocols[0] = (struct lws_protocols){ "http", cb_http, http_session_size(), 0, 0, NULL, 0 };
    protocols[1] = (struct lws_protocols){ "webcast", cb_ws, ws_session_size(), 65536, 0, NULL, 0 };
    memset(&info, 0, sizeof(info));
    info.port = s->listen_port;
    info.iface = s->listen_host;
    info.protocols = protocols;
    info.pvo = &pvo;
    info.user = s;
    info.vhost_name = "tiktok-live-sim";
    info.max_http_header_data = 16384;
    info.max_http_header_pool = 256;
    info.fd_limit_per_thread = s->max_conns + 256;
    info.timeout_secs = 30;
    info.keepalive_timeout = 30;
    info.alpn = "http/1.1";
    if (s->tls_cert != NULL) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = s->tls_cert;
        info.ssl_private_key_filepath = s->tls_key;
    }
    raise_fd_limit(s->max_conns + 512);
    s->ctx = lws_create_context(&info);
    if (s->ctx == NULL)
        return -1;
    s->vh = lws_get_vhost_by_name(s->ctx, "tiktok-live-sim");
    s->port = s->vh ? lws_get_vhost_listen_port(s->vh) : s->listen_port;
    snprintf(s->http_base, sizeof(s->http_base), "%s://%s:%d", s->tls_cert ? "https" : "http",
             s->listen_host, s->port);
    snprintf(s->ws_base, sizeof(s->ws_base), "%s://%s:%d", s->tls_cert ? "wss" : "ws",
             s->listen_host, s->port);
    return 0;
}

static void sim_free(struct sim *s)
{
    for (uint32_t i = 0; i < s->n_rooms; i++) {
        struct room *r = &s->rooms[i];

        for (uint32_t k = 0; k < r->n_sess; k++)
            free(r->sess[k].ev);
        free(r->sess);
        for (uint32_t k = 0; r->ring != NULL && k < r->ring_cap; k++)
            frame_unref(r->ring[k]);
        free(r->ring);
        room_poll_free(r);
        if (r->rp != NULL)
            replay_free(r->rp);
    }
    free(s->rooms);
    free(s->users);
    hmap_free(&s->by_handle);
    hmap_free(&s->by_room_id);
    hmap_free(&s->user_by_handle);
    if (s->z != NULL)
        deflateEnd(s->z);
    free(s->z);
    if (s->log != NULL && s->log != stderr)
        fclose(s->log);
    arena_free(&s->perm);
    arena_free(&s->scratch);
}

int main(int argc, char **argv)
{
    static struct sim sim;
    struct sim *s = &sim;
    int rc = 1;

    sim_init(s);
    the_sim = s;
    if (parse_args(s, argc, argv) != 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    lws_set_log_level(LLL_ERR, NULL);
    /* the world first: a bad scenario fails before anything listens */
    if (world(s) != 0 || open_outputs(s) != 0 || listen_on(s) != 0) {
        fprintf(stderr, "tiktok-live-sim: cannot start (see above)\n");
        sim_free(s);
        return 1;
    }
    the_ctx = s->ctx;
    printf("{\"listening\":\"%s\",\"ws\":\"%s\",\"rooms\":%" PRIu32 "}\n", s->http_base, s->ws_base,
           s->n_rooms);
    fflush(stdout);
    lws_sul_schedule(s->ctx, 0, &tick_sul, tick, TICK_US);
    while (!stop)
        if (lws_service(s->ctx, 0) < 0)
            break;
    rc = 0;
    lws_sul_cancel(&tick_sul);
    lws_context_destroy(s->ctx);
    printf("{\"stopped\":true,\"frames\":%" PRIu64 ",\"events\":%" PRIu64 ",\"bytes\":%" PRIu64
           "}\n",
           s->frames_out, s->events_out, s->bytes_out);
    sim_free(s);
    return rc;
}
