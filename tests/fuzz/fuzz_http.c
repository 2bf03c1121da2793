/** @file fuzz_http.c
 * libFuzzer target: arbitrary bytes as what an HTTP client sends to the metrics endpoint
 * ([bridge] metrics), read by metrics.c's own request handling: the bytes arrive in chunks (the
 * first byte picks their size) over a socketpair and go through on_readable(), the function the
 * server thread calls when its socket is readable, to the request parser and the answer.
 *
 * The server's functions are static: metrics.c is included here rather than given a test-only
 * entry point, and what it calls from the rest of the daemon (the MQTT client's state, the main
 * thread's wake-up, logging) is stubbed below. When the server moves (issue 11: onto
 * libwebsockets' HTTP server), this target follows the new request handling.
 *
 * Invariants beyond ASan/UBSan: a request whose head ends (a blank line) within the request cap,
 * or one that fills the cap, is answered; an answer is one HTTP/1.1 status line with a
 * Content-Length equal to its body's length; GET /metrics asks for the page. Requests with a
 * NUL byte are exempt from "is answered": the parser reads the request as a C string, so such
 * a request waits for the client timeout (issue 11, finding 14; docs/RELIABILITY.md).
 * Built by `make fuzz` with clang; `build/fuzz_http_replay` replays the corpus under gcc.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../../bridge/metrics.c"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- what metrics.c calls in the rest of the daemon ---- */
atomic_int bridge_log_level = BRIDGE_LOG_ERROR;
static int connected;

void bridge_log(int level, const char *user, const char *fmt, ...)
{
    (void)level;
    (void)user;
    (void)fmt;
}

void bridge_out_wake(struct bridge_out *o)
{
    (void)o;
}

static int with_broker; /* 0: --stdout, no broker at all */

int bridge_out_stats(struct bridge_out *o, struct bridge_mqtt_stats *out)
{
    (void)o;
    memset(out, 0, sizeof *out);
    out->connected = connected;
    snprintf(out->error, sizeof out->error, "%s", connected ? "" : "Connection refused");
    return with_broker;
}

/* ---- checks ---- */
/* The first `what` in [p, p+n), or NULL (memmem is a GNU extension). */
static const char *find(const void *p, size_t n, const char *what)
{
    size_t k = strlen(what);
    for (const char *s = p; n >= k; s++, n--) {
        if (!memcmp(s, what, k)) {
            return s;
        }
    }
    return NULL;
}

/* The server's own rule for the end of the head: a blank line, CRLF or bare LF. */
static int head_complete(const uint8_t *d, size_t n)
{
    return find(d, n, "\r\n\r\n") || find(d, n, "\n\n");
}

static void check_answer(const struct client *c)
{
    const char *o = c->out, *blank, *cl;
    char want[32];
    int code = 0;
    if (c->out_len < 12 || memcmp(o, "HTTP/1.1 ", 9) || sscanf(o + 9, "%3d", &code) != 1 ||
        code < 200 || code > 599) {
        abort();
    }
    blank = find(o, c->out_len, "\r\n\r\n");
    cl = find(o, c->out_len, "Content-Length: ");
    if (!blank || !cl || cl > blank) {
        abort();
    }
    snprintf(want, sizeof want, "%zu\r\n", c->out_len - (size_t)(blank + 4 - o));
    if (strncmp(cl + 16, want, strlen(want))) {
        abort();
    }
}

/* Feed `d` to one client in chunks of `chunk` bytes; stop when it is no longer reading. */
static void feed(struct bridge_metrics *m, struct client *c, int peer, const uint8_t *d, size_t n,
                 size_t chunk)
{
    size_t off = 0;
    while (off < n && c->phase == READING) {
        size_t k = n - off < chunk ? n - off : chunk;
        if (write(peer, d + off, k) != (ssize_t)k) {
            abort();
        }
        off += k;
        on_readable(m, c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct bridge_metrics m;
    struct client *c = &m.c[0];
    int sv[2];
    if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
        return 0;
    }
    connected = data[0] & 1;
    with_broker = (data[0] & 2) != 0;
    memset(c, 0, sizeof *c);
    c->fd = sv[0];
    c->phase = READING;
    size_t chunk = (size_t)(data[0] >> 2) * 64 + 1, n = size - 1;
    const uint8_t *req = data + 1;
    feed(&m, c, sv[1], req, n, chunk);

    size_t seen = n < REQ_MAX - 1 ? n : REQ_MAX - 1;
    int answered = c->phase == WRITING || c->phase == RENDERING;
    if (c->phase == WRITING) {
        check_answer(c);
    }
    if (!answered && !memchr(req, '\0', seen) &&
        (seen == REQ_MAX - 1 || head_complete(req, seen))) {
        abort(); /* a whole request, and no answer */
    }
    if (c->phase == RENDERING && (seen < 13 || memcmp(req, "GET /metrics", 12))) {
        abort();
    }
    if (c->phase != FREE) {
        close_client(c);
    }
    close(sv[1]);
    return 0;
}
