/** @file metrics.c
 * Prometheus metrics on [bridge] metrics = ADDR:PORT: a small HTTP/1.1 server serving /metrics
 * (the text exposition format, version 0.0.4) and /healthz.
 *
 * One thread, plain sockets and poll() (no new dependency). Bounds: at most MAX_CLIENTS
 * connections at once (further ones wait in the listen backlog), a request of at most REQ_MAX
 * bytes, CLIENT_MS for a whole exchange, one request per connection (Connection: close), GET
 * only (405 otherwise), 404 for any other path.
 *
 * The figures are the counters bridge/health already publishes (streamer.c, mqtt.c): nothing is
 * counted twice. The streamer list belongs to the main thread (SIGHUP and the runtime API change
 * it), so this thread never walks it: a scrape raises `want` and wakes the main loop, whose
 * bridge_metrics_pump() renders the page and wakes this thread through its pipe. /healthz
 * needs only the MQTT client's state, which is thread-safe, and is answered at once, even
 * while the main loop is busy.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "clock.h"
#include "metrics.h"
#include "xalloc.h"

#define MAX_CLIENTS 16
#define REQ_MAX     2048 /* request line and headers: a scraper sends a few hundred bytes */
#define CLIENT_MS   5000 /* for the whole exchange: a slow or silent client is dropped */

enum phase { FREE, READING, RENDERING, WRITING };

struct client {
    int fd;
    enum phase phase;
    int64_t deadline; /* monotonic ms */
    size_t got;
    char req[REQ_MAX];
    char *out;
    size_t out_len, out_off;
};

struct bridge_metrics {
    int listen_fd, wake[2]; /* wake: the main thread's "page ready" and the stop request */
    pthread_t thread;
    int running;
    atomic_int stop, want;
    pthread_mutex_t lock; /* page, page_len, gen */
    char *page;
    size_t page_len;
    uint64_t gen, gen_served; /* gen_served: the server thread's own */
    struct bridge_out *out;   /* woken for a scrape (bridge_out_wake is thread-safe) */
    int64_t started_ms;
    struct tt_devices *devices; /* the direct path's pool; NULL: none */
    struct client c[MAX_CLIENTS];
};

void bridge_metrics_devices(struct bridge_metrics *m, struct tt_devices *devices)
{
    if (m) {
        m->devices = devices;
    }
}

/* ---- the page: a growing buffer ---- */

struct buf {
    char *p;
    size_t n, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (n < 0) {
            return;
        }
        if ((size_t)n < b->cap - b->n) {
            b->n += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
}

/* A label value as the format wants it: backslash, double quote and newline escaped. Values
 * are handles and version strings: longer ones are cut (never mid-escape). */
static void label(struct buf *b, const char *name, const char *v)
{
    char esc[256];
    size_t n = 0;
    for (; *v && n + 3 < sizeof esc; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n') {
            esc[n++] = '\\';
        }
        esc[n++] = *v == '\n' ? 'n' : *v;
    }
    esc[n] = '\0';
    bprintf(b, "%s=\"%s\"", name, esc);
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
    bprintf(b, "# HELP tiktok2mqtt_%s %s\n# TYPE tiktok2mqtt_%s %s\n", name, help, name, type);
}

/* ---- rendering (main thread) ---- */

/* One streamer's figures, copied under its lock so that each family below is consistent. */
struct snap {
    char handle[BRIDGE_HANDLE_SIZE], state[16];
    uint64_t events, decode_errors, reconnects, sign_requests, rate_limit_wait_s, stale_closes;
    int64_t last_event_at, viewers;
    char flow[16];
};

static const struct {
    const char *name, *help;
    size_t off;
} counters[] = {
    { "streamer_events_total", "Events received from TikTok (every type, decode errors too).",
      offsetof(struct snap, events) },
    { "streamer_decode_errors_total", "Messages that could not be decoded.",
      offsetof(struct snap, decode_errors) },
    { "streamer_reconnects_total", "Connections lost and reconnected.",
      offsetof(struct snap, reconnects) },
    { "streamer_sign_requests_total", "Connection attempts (each asks the sign server).",
      offsetof(struct snap, sign_requests) },
    { "streamer_rate_limit_wait_seconds_total", "Seconds waited on the sign server's 429s.",
      offsetof(struct snap, rate_limit_wait_s) },
    { "streamer_stale_closes_total",
      "Sockets closed by the watchdog: no frame for stale_timeout_s (then reconnected).",
      offsetof(struct snap, stale_closes) },
};

/* The flows tt_client_flow names: the flow gauge has one series per flow, 1 for the current. */
static const enum tt_sign_flow flows[] = { TT_SIGN_DIRECT, TT_SIGN_EULER, TT_SIGN_LEGACY,
                                           TT_SIGN_SESSION };

/* Every state streamer.c sets: the status gauge has one series per state, 1 for the current. */
static const char *const states[] = { "stopped", "connecting", "live", "ended",
                                      "waiting", "offline",    "error" };

static size_t snapshot(struct streamer *list, struct snap **out)
{
    size_t n = 0, i = 0;
    for (struct streamer *s = list; s; s = s->next) {
        n++;
    }
    struct snap *v = xcalloc(n ? n : 1, sizeof *v);
    for (struct streamer *s = list; s; s = s->next, i++) {
        snprintf(v[i].handle, sizeof v[i].handle, "%s", s->cfg.handle);
        pthread_mutex_lock(&s->lock);
        snprintf(v[i].state, sizeof v[i].state, "%s", s->state);
        v[i].events = s->events;
        v[i].decode_errors = s->decode_errors;
        v[i].reconnects = s->reconnects;
        v[i].sign_requests = s->sign_requests;
        v[i].rate_limit_wait_s = s->rate_limit_wait_s;
        v[i].stale_closes = s->stale_closes;
        snprintf(v[i].flow, sizeof v[i].flow, "%s", s->flow);
        v[i].last_event_at = s->totals.last_event_at;
        v[i].viewers = s->totals.viewer_count;
        pthread_mutex_unlock(&s->lock);
    }
    *out = v;
    return n;
}

static void render_streamers(struct buf *b, const struct snap *v, size_t n)
{
    for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
        family(b, counters[k].name, "counter", counters[k].help);
        for (size_t i = 0; i < n; i++) {
            bprintf(b, "tiktok2mqtt_%s{", counters[k].name);
            label(b, "streamer", v[i].handle);
            bprintf(b, "} %llu\n",
                    (unsigned long long)*(const uint64_t *)((const char *)&v[i] + counters[k].off));
        }
    }
    family(b, "streamer_status", "gauge", "The streamer's status: 1 for the current one.");
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof states / sizeof states[0]; k++) {
            bprintf(b, "tiktok2mqtt_streamer_status{");
            label(b, "streamer", v[i].handle);
            bprintf(b, ",status=\"%s\"} %d\n", states[k], !strcmp(states[k], v[i].state));
        }
    }
    family(b, "streamer_last_event_timestamp_seconds", "gauge",
           "Unix time of the last event of the current or last live; 0: none yet.");
    for (size_t i = 0; i < n; i++) {
        bprintf(b, "tiktok2mqtt_streamer_last_event_timestamp_seconds{");
        label(b, "streamer", v[i].handle);
        bprintf(b, "} %.3f\n", (double)v[i].last_event_at / 1000);
    }
    family(b, "streamer_flow", "gauge",
           "How the streamer connects (sign_flow; auto shows direct or euler): 1 for the "
           "current one, all 0 before the first connect.");
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof flows / sizeof flows[0]; k++) {
            bprintf(b, "tiktok2mqtt_streamer_flow{");
            label(b, "streamer", v[i].handle);
            const char *flow = tt_sign_flow_name(flows[k]);
            bprintf(b, ",flow=\"%s\"} %d\n", flow, !strcmp(flow, v[i].flow));
        }
    }
    family(b, "streamer_viewers", "gauge", "Viewers, as the last roomUser event said.");
    for (size_t i = 0; i < n; i++) {
        bprintf(b, "tiktok2mqtt_streamer_viewers{");
        label(b, "streamer", v[i].handle);
        bprintf(b, "} %lld\n", (long long)v[i].viewers);
    }
}

static void gauge(struct buf *b, const char *name, const char *help, double v)
{
    family(b, name, "gauge", help);
    bprintf(b, "tiktok2mqtt_%s %.17g\n", name, v);
}

static void counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
    family(b, name, "counter", help);
    bprintf(b, "tiktok2mqtt_%s %llu\n", name, (unsigned long long)v);
}

/* The direct path's device pool (ttwid tokens), shared by the streamers. */
static void render_devices(struct buf *b, struct tt_devices *d)
{
    struct tt_devices_stats st = { 0 };
    if (d) {
        tt_devices_stats(d, &st);
    }
    gauge(b, "devices", "Direct-path devices (ttwid + User-Agent) known, blocked ones included.",
          st.devices);
    gauge(b, "devices_blocked", "Devices given up (DEVICE_BLOCKED, or a socket that died young).",
          st.blocked);
    counter(b, "ttwid_minted_total", "ttwid tokens obtained from TikTok by this process.",
            st.minted);
    counter(b, "device_rotations_total", "Devices given up by this process.", st.rotated);
    gauge(b, "ttwid_file_save_failed", "1 when the last write of ttwid_file failed.",
          st.save_failed);
}

static void render_bridge(struct buf *b, struct bridge_metrics *m, size_t n_streamers)
{
    struct bridge_mqtt_stats st;
    bridge_out_stats(m->out, &st); /* zero without a broker (--stdout) */
    family(b, "build_info", "gauge", "The bridge's and libtiktok's versions.");
    bprintf(b, "tiktok2mqtt_build_info{");
    label(b, "version", BRIDGE_VERSION);
    bprintf(b, ",");
    label(b, "libtiktok", tt_version());
    bprintf(b, "} 1\n");
    gauge(b, "start_time_seconds", "Unix time the bridge started.", (double)m->started_ms / 1000);
    gauge(b, "streamers", "Streamers followed by this instance.", (double)n_streamers);
    gauge(b, "mqtt_connected", "1 while the broker is connected.", st.connected);
    gauge(b, "mqtt_protocol_level", "MQTT protocol in use: 5, or 4 for 3.1.1.", st.protocol);
    counter(b, "mqtt_messages_published_total", "Messages the broker acknowledged.", st.published);
    gauge(b, "mqtt_messages_buffered", "Messages waiting for the broker.", (double)st.queued);
    gauge(b, "mqtt_messages_in_flight", "Messages sent and not yet acknowledged.",
          (double)st.in_flight);
    counter(b, "mqtt_messages_dropped_total", "Oldest messages dropped past max_buffered.",
            st.dropped);
    counter(b, "mqtt_messages_refused_total",
            "Messages the broker refused (PUBACK reason >= 0x80), dropped.", st.refused);
    counter(b, "mqtt_reconnects_total", "Reconnections to the broker.", st.reconnects);
    render_devices(b, m->devices);
}

void bridge_metrics_pump(struct bridge_metrics *m, struct streamer *list)
{
    if (!m || !atomic_exchange(&m->want, 0)) {
        return;
    }
    struct buf b = { xmalloc(4096), 0, 4096 };
    struct snap *v;
    size_t n = snapshot(list, &v);
    render_bridge(&b, m, n);
    render_streamers(&b, v, n);
    free(v);
    pthread_mutex_lock(&m->lock);
    free(m->page);
    m->page = b.p;
    m->page_len = b.n;
    m->gen++;
    pthread_mutex_unlock(&m->lock);
    if (write(m->wake[1], "p", 1) < 0) {
        /* the pipe is full: the server has a wake-up pending anyway */
    }
}

/* ---- HTTP (the server thread) ---- */

static void respond(struct client *c, int code, const char *ctype, const char *body, size_t len)
{
    const char *reason = code == 200   ? "OK"
                         : code == 404 ? "Not Found"
                         : code == 405 ? "Method Not Allowed"
                         : code == 431 ? "Request Header Fields Too Large"
                         : code == 400 ? "Bad Request"
                                       : "Service Unavailable";
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                      "Connection: close\r\n\r\n",
                      code, reason, ctype, len, code == 405 ? "Allow: GET\r\n" : "");
    c->out = xmalloc((size_t)hn + len);
    memcpy(c->out, head, (size_t)hn);
    memcpy(c->out + hn, body, len);
    c->out_len = (size_t)hn + len;
    c->out_off = 0;
    c->phase = WRITING;
}

static void text(struct client *c, int code, const char *body)
{
    respond(c, code, "text/plain; charset=utf-8", body, strlen(body));
}

static void healthz(struct bridge_metrics *m, struct client *c)
{
    struct bridge_mqtt_stats st;
    char body[400];
    if (!bridge_out_stats(m->out, &st)) {
        text(c, 200, "ok (no broker: --stdout)\n");
        return;
    }
    if (st.connected) {
        text(c, 200, "ok\n");
        return;
    }
    snprintf(body, sizeof body, "mqtt: not connected to the broker: %s\n",
             st.error[0] ? st.error : "connecting");
    text(c, 503, body);
}

/* A whole request is in: answer it (or ask the main thread for the page). */
static void handle(struct bridge_metrics *m, struct client *c)
{
    char *sp = strchr(c->req, ' '), *end;
    if (!sp || !(end = strpbrk(sp + 1, " ?\r\n"))) {
        text(c, 400, "bad request\n");
        return;
    }
    if (sp - c->req != 3 || memcmp(c->req, "GET", 3)) {
        text(c, 405, "only GET\n");
        return;
    }
    *end = '\0';
    if (!strcmp(sp + 1, "/metrics")) {
        c->phase = RENDERING;
        atomic_store(&m->want, 1);
        bridge_out_wake(m->out); /* it may be asleep for a minute */
    } else if (!strcmp(sp + 1, "/healthz")) {
        healthz(m, c);
    } else {
        text(c, 404, "not found: try /metrics or /healthz\n");
    }
}

static void close_client(struct client *c)
{
    close(c->fd);
    free(c->out);
    c->out = NULL;
    c->phase = FREE;
}

static void on_readable(struct bridge_metrics *m, struct client *c)
{
    ssize_t n = recv(c->fd, c->req + c->got, REQ_MAX - 1 - c->got, 0);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            close_client(c);
        }
        return;
    }
    c->got += (size_t)n;
    c->req[c->got] = '\0';
    if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
        handle(m, c);
    } else if (c->got == REQ_MAX - 1) {
        text(c, 431, "request too large\n");
    }
}

static void on_writable(struct client *c)
{
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            close_client(c);
        }
        return;
    }
    c->out_off += (size_t)n;
    if (c->out_off == c->out_len) {
        close_client(c);
    }
}

static void accept_one(struct bridge_metrics *m)
{
    int fd = accept(m->listen_fd, NULL, NULL);
    if (fd < 0) {
        return;
    }
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->c[i];
        if (c->phase == FREE) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            c->fd = fd;
            c->phase = READING;
            c->got = 0;
            c->deadline = common_mono_ms() + CLIENT_MS;
            return;
        }
    }
    close(fd); /* not reached: the listener is not polled while every slot is taken */
}

/* The main thread rendered a page: every scrape waiting for one gets it. */
static void deliver(struct bridge_metrics *m)
{
    char drain[64];
    while (read(m->wake[0], drain, sizeof drain) > 0) {
    }
    pthread_mutex_lock(&m->lock);
    if (m->gen != m->gen_served) {
        m->gen_served = m->gen;
        for (size_t i = 0; i < MAX_CLIENTS; i++) {
            if (m->c[i].phase == RENDERING) {
                respond(&m->c[i], 200, "text/plain; version=0.0.4; charset=utf-8", m->page,
                        m->page_len);
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
}

/* Past its deadline: a waiting scrape gets a 503, anything else is dropped. */
static void expire(struct client *c, int64_t now)
{
    if (c->phase == FREE || now < c->deadline) {
        return;
    }
    if (c->phase == RENDERING) {
        text(c, 503, "the main loop is busy: try again\n");
        c->deadline = now + CLIENT_MS;
        return;
    }
    close_client(c);
}

/* The poll set: the wake pipe, the listener while a slot is free, each client. */
static nfds_t poll_set(struct bridge_metrics *m, struct pollfd *pf, struct client **who,
                       int *timeout)
{
    nfds_t n = 0;
    int64_t now = common_mono_ms(), next = INT64_MAX;
    int busy = 0;
    pf[n++] = (struct pollfd){ m->wake[0], POLLIN, 0 };
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->c[i];
        if (c->phase == FREE) {
            continue;
        }
        busy++;
        next = c->deadline < next ? c->deadline : next;
        who[n] = c;
        pf[n++] = (struct pollfd){ c->fd,
                                   (short)(c->phase == READING   ? POLLIN
                                           : c->phase == WRITING ? POLLOUT
                                                                 : 0),
                                   0 };
    }
    if (busy < MAX_CLIENTS) {
        who[n] = NULL;
        pf[n++] = (struct pollfd){ m->listen_fd, POLLIN, 0 };
    }
    *timeout = next == INT64_MAX ? -1 : next <= now ? 0 : (int)(next - now);
    return n;
}

static void *serve(void *arg)
{
    struct bridge_metrics *m = arg;
    struct pollfd pf[MAX_CLIENTS + 2];
    struct client *who[MAX_CLIENTS + 2];
    while (!atomic_load(&m->stop)) {
        int timeout;
        nfds_t n = poll_set(m, pf, who, &timeout);
        if (poll(pf, n, timeout) < 0 && errno != EINTR) {
            break;
        }
        if (pf[0].revents) {
            deliver(m);
        }
        for (nfds_t i = 1; i < n; i++) {
            if (!pf[i].revents) {
                continue;
            }
            short r = pf[i].revents;
            if (!who[i]) {
                accept_one(m);
            } else if (who[i]->phase == READING && (r & POLLIN)) {
                on_readable(m, who[i]);
            } else if (who[i]->phase == WRITING && (r & POLLOUT)) {
                on_writable(who[i]);
            } else if (r & (POLLERR | POLLHUP | POLLNVAL)) {
                close_client(who[i]);
            }
        }
        int64_t now = common_mono_ms();
        for (size_t i = 0; i < MAX_CLIENTS; i++) {
            expire(&m->c[i], now);
        }
    }
    return NULL;
}

/* ---- life ---- */

/* ADDR:PORT as the configuration accepted it: host, [v6] or a name, and a port. */
static int listen_on(const char *spec, char *err, size_t errlen)
{
    char host[256];
    const char *addr = spec;
    const char *colon = strrchr(addr, ':');
    struct addrinfo hints = { 0 }, *res = NULL, *ai;
    int fd = -1, rc, e = 0;
    size_t hl = colon ? (size_t)(colon - addr) : 0;
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
        addr++, hl -= 2;
    }
    snprintf(host, sizeof host, "%.*s", (int)hl, addr);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (!colon || (rc = getaddrinfo(host, colon + 1, &hints, &res))) {
        snprintf(err, errlen, "metrics: cannot resolve '%s': %s", spec,
                 colon ? gai_strerror(rc) : "not ADDR:PORT");
        return -1;
    }
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
                        bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16))) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "metrics: cannot listen on %s: %s", spec, strerror(e ? e : errno));
    }
    return fd;
}

struct bridge_metrics *bridge_metrics_new(const char *addr, char *err, size_t errlen)
{
    int fd = listen_on(addr, err, errlen);
    if (fd < 0) {
        return NULL;
    }
    struct bridge_metrics *m = xcalloc(1, sizeof *m);
    m->listen_fd = fd;
    if (pipe(m->wake)) {
        snprintf(err, errlen, "metrics: pipe: %s", strerror(errno));
        close(fd);
        free(m);
        return NULL;
    }
    for (int i = 0; i < 2; i++) { /* neither end may block: a lost wake-up is harmless */
        fcntl(m->wake[i], F_SETFL, fcntl(m->wake[i], F_GETFL) | O_NONBLOCK);
        fcntl(m->wake[i], F_SETFD, FD_CLOEXEC);
    }
    atomic_init(&m->stop, 0);
    atomic_init(&m->want, 0);
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

int bridge_metrics_start(struct bridge_metrics *m, struct bridge_out *out, int64_t started_ms)
{
    pthread_attr_t attr;
    m->out = out;
    m->started_ms = started_ms;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024); /* 16 clients' 2 KiB requests live in m */
    int rc = pthread_create(&m->thread, &attr, serve, m);
    pthread_attr_destroy(&attr);
    m->running = rc == 0;
    return rc ? -1 : 0;
}

void bridge_metrics_free(struct bridge_metrics *m)
{
    if (!m) {
        return;
    }
    if (m->running) {
        atomic_store(&m->stop, 1);
        if (write(m->wake[1], "q", 1) < 0) {
            /* full: a wake-up is pending anyway */
        }
        pthread_join(m->thread, NULL);
    }
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        if (m->c[i].phase != FREE) {
            close_client(&m->c[i]);
        }
    }
    close(m->listen_fd);
    close(m->wake[0]);
    close(m->wake[1]);
    pthread_mutex_destroy(&m->lock);
    free(m->page);
    free(m);
}
