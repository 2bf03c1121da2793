/** @file http.c
 * The bridge's one HTTP server (http.h), on libwebsockets' HTTP/1.1 server: lws parses the
 * requests, caps their headers (HEADER_MAX), times out a client that does not finish its
 * request (REQUEST_S, from the connection, not reset by each byte: a slowloris client is
 * dropped), serves the overlay's files from a mount and writes the answers. Our own code is
 * the routes (http_route.c), the answers, and who is let in:
 *
 * - the listening socket is ours (its errors are the configuration's) and lws watches it as a
 *   raw descriptor; on each new connection we decide: at most CONNS_MAX open at once, and when
 *   full the one idle longest (no request in progress) is closed to make room, so that a crowd
 *   of silent connections cannot keep a scrape out (it waits neither in the listen backlog
 *   nor for their timeouts). When every connection is busy, the newcomer is closed.
 * - /metrics: the streamer list is the main thread's, so a scrape raises `want` and wakes the
 *   main loop, whose bridge_http_pump() renders the page (metrics.c) and wakes this thread
 *   (lws_cancel_service). A scrape that gets no page within RENDER_MS is answered 503.
 * - /healthz: answered at once from the MQTT client's thread-safe state (healthz.c).
 * - /events: a Server-Sent Events stream (sse.h); its queue is filled by the sink on any
 *   thread, which wakes this one. A keep-alive comment goes out every PING_S.
 *
 * One thread of its own, so that nothing here ever waits on, or makes wait, the main loop
 * (MQTT output) or the streamers; its only shared state is the page (under `lock`) and the
 * event stream's queues (sink_sse.c's lock).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "healthz.h"
#include "http.h"
#include "http_route.h"
#include "log.h"
#include "xalloc.h"

#define CONNS_MAX   64    /* connections open at once (the event streams among them) */
#define HEADER_MAX  4096  /* request line and headers; more: lws answers 431 */
#define REQUEST_S   5     /* from connecting (or the last answer) to a whole request */
#define RENDER_MS   3000  /* a scrape waits this long for the main loop's page, then 503 */
#define PING_S      20    /* keep-alive comment on an event stream */
#define CHUNK       32768 /* written per writable callback */
#define ACCEPT_TURN 64    /* connections accepted per wake-up, so the others get served too */

struct conn { /* an accepted connection, counted against CONNS_MAX */
    struct lws *wsi;
    int64_t idle_since; /* monotonic ms: accepted, or its last answer written */
    int busy;           /* one of our routes is answering (a file of the overlay's mount is
                         * not counted: small, written at once) or streaming: never evicted */
    int doomed;         /* evicted: lws closes it on its next turn */
};

enum phase { P_NONE, P_WAIT_PAGE, P_REPLY, P_SSE };

struct pss { /* per connection: the request in progress (lws per-session data) */
    enum phase phase;
    int code, head_sent;
    const char *ctype, *allow;
    char *body;
    size_t len, off;
    uint64_t want_gen; /* P_WAIT_PAGE: the page generation that answers it */
    struct bridge_sse_client *sse;
};

struct bridge_http {
    struct lws_context *ctx;
    struct lws_vhost *vh;
    int listen_fd, lws_owns_fd; /* once adopted, lws closes the listener */
    pthread_t thread;
    int running;
    atomic_int stop, want;
    struct bridge_metrics_src src;
    struct bridge_sse *sse;
    pthread_mutex_t lock; /* page, page_len, gen */
    char *page;
    size_t page_len;
    uint64_t gen;
    struct conn conns[2 * CONNS_MAX]; /* the server thread's; doomed ones still hold a slot */
    struct lws_http_mount mount;
    char overlay_dir[PATH_MAX];
    unsigned char wbuf[LWS_PRE + CHUNK];
};

/* ---- who is let in ---- */

static struct conn *conn_of(struct bridge_http *h, struct lws *wsi)
{
    for (size_t i = 0; i < 2 * CONNS_MAX; i++) {
        if (h->conns[i].wsi == wsi) {
            return &h->conns[i];
        }
    }
    return NULL;
}

static void set_busy(struct bridge_http *h, struct lws *wsi, int busy)
{
    struct conn *c = conn_of(h, wsi);
    if (c) {
        c->busy = busy;
        c->idle_since = common_mono_ms();
    }
}

/* Room for one more: 1 when there is (an idle connection may have been evicted for it). */
static int make_room(struct bridge_http *h)
{
    struct conn *victim = NULL;
    size_t live = 0, used = 0;
    for (size_t i = 0; i < 2 * CONNS_MAX; i++) {
        struct conn *c = &h->conns[i];
        used += c->wsi != NULL;
        live += c->wsi && !c->doomed;
        if (c->wsi && !c->doomed && !c->busy && (!victim || c->idle_since < victim->idle_since)) {
            victim = c;
        }
    }
    if (used == 2 * CONNS_MAX) {
        return 0; /* evictions still pending: this turn is full */
    }
    if (live < CONNS_MAX) {
        return 1;
    }
    if (!victim) {
        return 0; /* every connection is answering or streaming */
    }
    victim->doomed = 1;
    lws_set_timeout(victim->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    return 1;
}

static void on_listen_readable(struct bridge_http *h)
{
    for (int i = 0; i < ACCEPT_TURN; i++) {
        int fd = accept(h->listen_fd, NULL, NULL);
        if (fd < 0) {
            return; /* EAGAIN: no more; EMFILE and the like: the next turn tries again */
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (!make_room(h)) {
            close(fd);
            continue;
        }
        lws_adopt_socket_vhost(h->vh, fd); /* closes fd when it fails */
    }
}

static void on_accepted(struct bridge_http *h, struct lws *wsi)
{
    for (size_t i = 0; i < 2 * CONNS_MAX; i++) {
        if (!h->conns[i].wsi) {
            h->conns[i] = (struct conn){ wsi, common_mono_ms(), 0, 0 };
            return;
        }
    }
    /* not reached: make_room() kept a slot for it */
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void on_gone(struct bridge_http *h, struct lws *wsi)
{
    struct conn *c = conn_of(h, wsi);
    if (c) {
        memset(c, 0, sizeof *c);
    }
}

/* ---- answers ---- */

static void reset(struct pss *p)
{
    free(p->body);
    if (p->sse) {
        bridge_sse_detach(p->sse);
    }
    memset(p, 0, sizeof *p);
}

/* An answer to write when the connection is writable: `body` is copied. */
static void reply(struct lws *wsi, struct pss *p, int code, const char *ctype, const char *body,
                  size_t len)
{
    p->phase = P_REPLY;
    p->code = code;
    p->ctype = ctype;
    p->body = xmalloc(len ? len : 1);
    memcpy(p->body, body, len);
    p->len = len;
    p->off = 0;
    lws_callback_on_writable(wsi);
}

static void text(struct lws *wsi, struct pss *p, int code, const char *body)
{
    reply(wsi, p, code, "text/plain; charset=utf-8", body, strlen(body));
}

static int write_head(struct lws *wsi, struct pss *p, lws_filepos_t len)
{
    unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *q = start,
                                      *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)p->code, p->ctype, len, &q, end) ||
        (p->allow && lws_add_http_header_by_name(
                             wsi, (const unsigned char *)"allow:", (const unsigned char *)p->allow,
                             (int)strlen(p->allow), &q, end)) ||
        (p->phase == P_SSE &&
         lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                     (const unsigned char *)"no-cache", 8, &q, end)) ||
        lws_finalize_write_http_header(wsi, start, &q, end)) {
        return -1;
    }
    p->head_sent = 1;
    return 0;
}

/* The next piece of a P_REPLY answer; -1 closes the connection. */
static int write_reply(struct bridge_http *h, struct lws *wsi, struct pss *p)
{
    if (!p->head_sent) {
        if (write_head(wsi, p, p->len)) {
            return -1;
        }
        lws_callback_on_writable(wsi);
        return 0;
    }
    size_t n = p->len - p->off < CHUNK ? p->len - p->off : CHUNK;
    int final = p->off + n == p->len;
    memcpy(h->wbuf + LWS_PRE, p->body + p->off, n);
    if (lws_write(wsi, h->wbuf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
        (int)n) {
        return -1;
    }
    p->off += n;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    int close_it = p->code == 400;
    reset(p);
    set_busy(h, wsi, 0);
    return close_it || lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* What the event stream's queue holds; -1 closes it (the client fell too far behind). */
static int write_sse(struct bridge_http *h, struct lws *wsi, struct pss *p)
{
    int dropped;
    size_t n = bridge_sse_take(p->sse, (char *)h->wbuf + LWS_PRE, CHUNK, &dropped);
    if (dropped) {
        return -1;
    }
    if (n && lws_write(wsi, h->wbuf + LWS_PRE, n, LWS_WRITE_HTTP) != (int)n) {
        return -1;
    }
    if (bridge_sse_pending(p->sse)) {
        lws_callback_on_writable(wsi);
    }
    return 0;
}

/* Not a GET: 405 written at once and the connection closed (-1), a request body unread (lws
 * would read it all before calling us writable). */
static int refuse_method(struct bridge_http *h, struct lws *wsi, struct pss *p)
{
    static const char body[] = "only GET\n";
    p->code = 405;
    p->ctype = "text/plain; charset=utf-8";
    p->allow = "GET";
    if (!write_head(wsi, p, sizeof body - 1)) {
        memcpy(h->wbuf + LWS_PRE, body, sizeof body - 1);
        lws_write(wsi, h->wbuf + LWS_PRE, sizeof body - 1, LWS_WRITE_HTTP_FINAL);
    }
    return -1;
}

/* ---- routes ---- */

static void metrics(struct bridge_http *h, struct lws *wsi, struct pss *p)
{
    pthread_mutex_lock(&h->lock);
    p->want_gen = h->gen + 1;
    pthread_mutex_unlock(&h->lock);
    p->phase = P_WAIT_PAGE;
    lws_set_timer_usecs(wsi, (lws_usec_t)RENDER_MS * 1000);
    atomic_store(&h->want, 1);
    bridge_out_wake(h->src.out); /* it may be asleep for a minute */
}

static void healthz(struct bridge_http *h, struct lws *wsi, struct pss *p)
{
    char body[400];
    int code = bridge_healthz(h->src.out, body, sizeof body);
    text(wsi, p, code, body);
}

static int events(struct bridge_http *h, struct lws *wsi, struct pss *p)
{
    char arg[HEADER_MAX]; /* whatever lws let in fits: a list cut short would widen the filter */
    struct bridge_http_users users;
    const char *why = NULL;
    const char *v = lws_get_urlarg_by_name(wsi, "user=", arg, (int)sizeof arg);
    if (bridge_http_users_parse(v, &users, &why)) {
        char msg[160];
        snprintf(msg, sizeof msg, "user=: %s\n", why);
        text(wsi, p, 400, msg);
        return 0;
    }
    if (!h->sse || !(p->sse = bridge_sse_attach(h->sse, &users))) {
        text(wsi, p, 503,
             h->sse ? "too many event streams open: try again later\n" : "no event stream\n");
        return 0;
    }
    p->phase = P_SSE;
    p->code = 200;
    p->ctype = "text/event-stream";
    if (write_head(wsi, p, LWS_ILLEGAL_HTTP_CONTENT_LEN)) {
        return -1;
    }
    lws_http_mark_sse(wsi);
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0); /* a stream lasts */
    lws_set_timer_usecs(wsi, (lws_usec_t)PING_S * LWS_US_PER_SEC);
    lws_callback_on_writable(wsi);
    return 0;
}

/* A request for one of our routes (the overlay's files are the mount's). */
static int on_request(struct bridge_http *h, struct lws *wsi, struct pss *p, const char *path)
{
    reset(p);
    set_busy(h, wsi, 1);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
        return refuse_method(h, wsi, p);
    }
    switch (bridge_http_route(path)) {
    case BRIDGE_HTTP_METRICS:
        metrics(h, wsi, p);
        return 0;
    case BRIDGE_HTTP_HEALTHZ:
        healthz(h, wsi, p);
        return 0;
    case BRIDGE_HTTP_EVENTS:
        return events(h, wsi, p);
    case BRIDGE_HTTP_INDEX:
        text(wsi, p, 200, "tiktok2mqtt: /metrics /healthz /events /overlay/\n");
        return 0;
    case BRIDGE_HTTP_NOT_FOUND:
        break;
    }
    text(wsi, p, 404, "not found: try /metrics, /healthz, /events or /overlay/\n");
    return 0;
}

/* The main thread rendered a page, or the event stream has news: who can write now. */
static void on_woken(struct bridge_http *h)
{
    if (h->sse) {
        bridge_sse_woken(h->sse);
    }
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < 2 * CONNS_MAX; i++) {
        struct lws *wsi = h->conns[i].wsi;
        struct pss *p = wsi && !h->conns[i].doomed ? lws_wsi_user(wsi) : NULL;
        if (p && p->phase == P_WAIT_PAGE && h->gen >= p->want_gen && h->page) {
            lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL);
            reply(wsi, p, 200, "text/plain; version=0.0.4; charset=utf-8", h->page, h->page_len);
        } else if (p && p->phase == P_SSE && bridge_sse_pending(p->sse)) {
            lws_callback_on_writable(wsi);
        }
    }
    pthread_mutex_unlock(&h->lock);
}

static void on_timer(struct lws *wsi, struct pss *p)
{
    if (p->phase == P_WAIT_PAGE) {
        text(wsi, p, 503, "the main loop is busy: try again\n");
    } else if (p->phase == P_SSE) {
        bridge_sse_ping(p->sse);
        lws_callback_on_writable(wsi);
        lws_set_timer_usecs(wsi, (lws_usec_t)PING_S * LWS_US_PER_SEC);
    }
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    struct bridge_http *h = lws_context_user(lws_get_context(wsi));
    struct pss *p = user;
    switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        on_accepted(h, wsi);
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        on_gone(h, wsi);
        break;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        on_woken(h);
        return 0;
    case LWS_CALLBACK_HTTP:
        return p ? on_request(h, wsi, p, in) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (p && p->phase == P_REPLY) {
            return write_reply(h, wsi, p);
        }
        return p && p->phase == P_SSE ? write_sse(h, wsi, p) : 0;
    case LWS_CALLBACK_TIMER:
        if (p) {
            on_timer(wsi, p);
        }
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (p) {
            reset(p);
        }
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* The listening socket, watched by lws as a raw descriptor. */
static int callback_listen(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    (void)user, (void)in, (void)len;
    if (reason == LWS_CALLBACK_RAW_RX_FILE) {
        on_listen_readable(lws_context_user(lws_get_context(wsi)));
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    { "http", callback_http, sizeof(struct pss), 0, 0, NULL, 0 },
    { "tt-listen", callback_listen, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* ---- the thread ---- */

static void *serve(void *arg)
{
    struct bridge_http *h = arg;
    while (!atomic_load(&h->stop)) {
        if (lws_service(h->ctx, 0) < 0) {
            break;
        }
    }
    return NULL;
}

void bridge_http_pump(struct bridge_http *h, struct streamer *list)
{
    if (!h || !atomic_exchange(&h->want, 0)) {
        return;
    }
    size_t len;
    char *page = bridge_metrics_render(&h->src, list, &len);
    pthread_mutex_lock(&h->lock);
    free(h->page);
    h->page = page;
    h->page_len = len;
    h->gen++;
    pthread_mutex_unlock(&h->lock);
    lws_cancel_service(h->ctx);
}

static void wake_server(void *ud)
{
    struct bridge_http *h = ud;
    lws_cancel_service(h->ctx);
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
        snprintf(err, errlen, "http: cannot resolve '%s': %s", spec,
                 colon ? gai_strerror(rc) : "not ADDR:PORT");
        return -1;
    }
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
                        bind(fd, ai->ai_addr, ai->ai_addrlen) ||
                        listen(fd, SOMAXCONN))) { /* a burst waits here while we evict */
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "http: cannot listen on %s: %s", spec, strerror(e ? e : errno));
    }
    return fd;
}

/* The overlay's mount, when `dir` holds its index.html. */
static void overlay_mount(struct bridge_http *h, const char *dir)
{
    char index[PATH_MAX + 16];
    struct stat st;
    snprintf(h->overlay_dir, sizeof h->overlay_dir, "%s", dir);
    snprintf(index, sizeof index, "%s/index.html", dir);
    if (!*dir || stat(index, &st) || !S_ISREG(st.st_mode)) {
        if (*dir) {
            LOG_WARN(NULL, "http: no overlay in %s (no index.html): /overlay/ answers 404", dir);
        }
        return;
    }
    h->mount.mountpoint = "/overlay";
    h->mount.mountpoint_len = 8;
    h->mount.origin = h->overlay_dir;
    h->mount.def = "index.html";
    h->mount.origin_protocol = LWSMPRO_FILE;
}

void bridge_overlay_dir(const char *configured, char *out, size_t n)
{
    static const char *const beside[] = { "/../share/tiktok2mqtt/overlay", "/../contrib/overlay",
                                          "/../../contrib/overlay" };
    char exe[PATH_MAX], index[PATH_MAX + 64];
    struct stat st;
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    snprintf(out, n, "%s", configured ? configured : "");
    if (*out || k <= 0) {
        return;
    }
    exe[k] = '\0';
    *strrchr(exe, '/') = '\0'; /* readlink gives an absolute path: there is a '/' */
    for (size_t i = 0; i < sizeof beside / sizeof beside[0]; i++) {
        snprintf(index, sizeof index, "%s%s/index.html", exe, beside[i]);
        if (!stat(index, &st) && S_ISREG(st.st_mode)) {
            snprintf(out, n, "%s%s", exe, beside[i]);
            return;
        }
    }
}

struct bridge_http *bridge_http_new(const char *addr, const char *overlay_dir, char *err,
                                    size_t errlen)
{
    int fd = listen_on(addr, err, errlen);
    if (fd < 0) {
        return NULL;
    }
    struct bridge_http *h = xcalloc(1, sizeof *h);
    h->listen_fd = fd;
    atomic_init(&h->stop, 0);
    atomic_init(&h->want, 0);
    pthread_mutex_init(&h->lock, NULL);
    overlay_mount(h, overlay_dir ? overlay_dir : "");
    return h;
}

void bridge_http_devices(struct bridge_http *h, struct tt_devices *devices)
{
    if (h) {
        h->src.devices = devices;
    }
}

/* The lws context: no listener of its own (ours is adopted), the caps above. */
static int make_context(struct bridge_http *h)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protocols;
    info.mounts = h->mount.mountpoint ? &h->mount : NULL;
    info.user = h;
    info.max_http_header_data = HEADER_MAX;
    info.max_http_header_pool = 2 * CONNS_MAX;
    info.fd_limit_per_thread = 2 * CONNS_MAX + 8; /* + the listener, lws's own pipe */
    info.timeout_secs = REQUEST_S;
    info.timeout_secs_ah_idle = REQUEST_S;
    info.keepalive_timeout = REQUEST_S;
    info.server_string = "tiktok2mqtt";
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        return -1;
    }
    h->vh = lws_get_vhost_by_name(h->ctx, "default");
    lws_sock_file_fd_type fd = { .filefd = h->listen_fd };
    if (!h->vh ||
        !lws_adopt_descriptor_vhost(h->vh, LWS_ADOPT_RAW_FILE_DESC, fd, "tt-listen", NULL)) {
        lws_context_destroy(h->ctx);
        h->ctx = NULL;
        return -1;
    }
    h->lws_owns_fd = 1;
    return 0;
}

int bridge_http_start(struct bridge_http *h, const struct bridge_metrics_src *src,
                      struct bridge_sse *sse)
{
    struct tt_devices *devices = h->src.devices;
    h->src = *src;
    h->src.devices = src->devices ? src->devices : devices;
    h->sse = sse;
    if (make_context(h)) {
        return -1;
    }
    if (sse) {
        bridge_sse_set_wake(sse, wake_server, h);
    }
    int rc = pthread_create(&h->thread, NULL, serve, h);
    h->running = rc == 0;
    return rc ? -1 : 0;
}

void bridge_http_free(struct bridge_http *h)
{
    if (!h) {
        return;
    }
    if (h->sse) {
        bridge_sse_set_wake(h->sse, NULL, NULL);
    }
    if (h->running) {
        atomic_store(&h->stop, 1);
        lws_cancel_service(h->ctx);
        pthread_join(h->thread, NULL);
    }
    if (h->ctx) {
        lws_context_destroy(h->ctx); /* closes every connection: streams detach */
    }
    if (!h->lws_owns_fd) {
        close(h->listen_fd);
    }
    pthread_mutex_destroy(&h->lock);
    free(h->page);
    free(h);
}
