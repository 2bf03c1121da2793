/** @file cfg_value.c
 * One configuration value at a time: parse and check it by its table type (cfg_table.h).
 * (Freeing, copying, comparing and printing values are in cfg_rules.c.) Parsers are strict (strtoll with an end pointer and
 * range, never atoi) and say what is wrong in words, with the allowed range or values.
 * User text in messages goes through cfg_shown(); a proxy URL is never echoed (it may carry
 * a password) and secrets are never read into a message.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cfg_int.h"
#include "topic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX 4096 /* session ids and API keys are tens of bytes; a PEM is a mistake */
#define SHARD_MAX  65535

typedef int parse_fn(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v);

/* A piece of a value (a list item), as cfg_shown shows it. */
static const char *piece(const char *p, size_t n)
{
    static _Thread_local char buf[128];
    snprintf(buf, sizeof buf, "%.*s", (int)(n < 127 ? n : 127), p);
    return cfg_shown(buf);
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *q = p;
    while (n--) {
        *q++ = 0;
    }
}

static int bad(struct cfg_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct cfg_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static int put(void *f, char *s)
{
    char **p = f;
    free(*p);
    *p = s;
    return 0;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_alnum(char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* ---- numbers, booleans, enums ---- */

static const char *unit(enum cfg_type t)
{
    return t == T_SEC ? " seconds" : t == T_MS ? " milliseconds" : t == T_BYTES ? " bytes" : "";
}

static int p_int(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    char *end;
    long long x;
    if (!is_digit(v[0]) && !(v[0] == '-' && is_digit(v[1]))) {
        return bad(c, "'%s' is not a whole number (%lld to %lld%s)", cfg_shown(v), k->min, k->max,
                   unit(k->type));
    }
    errno = 0;
    x = strtoll(v, &end, 10);
    if (*end) {
        return bad(c, "'%s' is not a whole number (%lld to %lld%s)", cfg_shown(v), k->min, k->max,
                   unit(k->type));
    }
    if (errno == ERANGE || x < k->min || x > k->max) {
        return bad(c, "%s is out of range (%lld to %lld%s)", cfg_shown(v), k->min, k->max,
                   unit(k->type));
    }
    *(long long *)f = x;
    return 0;
}

static int p_bool(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    static const char *const words[] = { "false", "no", "off", "0", "true", "yes", "on", "1" };
    (void)k;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcmp(v, words[i]) == 0) {
            *(bool *)f = i >= 4;
            return 0;
        }
    }
    return bad(c, "'%s' is not true or false", cfg_shown(v));
}

/* Index of `v` among the '|'-separated `choices`, or -1. */
static int enum_index(const char *choices, const char *v)
{
    size_t n = strlen(v);
    int i = 0;
    for (const char *p = choices;; i++) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, v, n) == 0) {
            return i;
        }
        if (!e) {
            return -1;
        }
        p = e + 1;
    }
}

static int p_enum(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    char list[160];
    size_t o = 0;
    int i = enum_index(k->aux, v);
    if (i >= 0) {
        *(int *)f = i;
        return 0;
    }
    for (const char *p = k->aux; *p && o + 3 < sizeof list; p++) {
        if (*p == '|') {
            list[o++] = ',';
            list[o++] = ' ';
        } else {
            list[o++] = *p;
        }
    }
    list[o] = '\0';
    return bad(c, "'%s' is not one of: %s", cfg_shown(v), list);
}

/* ---- URLs and addresses ---- */

struct url {
    char scheme[12];
    const char *user; /* userinfo, when an '@' is there */
    const char *host;
    size_t host_len;
    long port; /* -1 when absent */
    const char *rest;
};

/* host[:port] between h and end: a name of [A-Za-z0-9._-] or an [IPv6] literal. */
static const char *host_port(const char *h, const char *end, struct url *u)
{
    const char *colon, *p = h;
    u->host = h;
    u->port = -1;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb) {
            return "unclosed '[' in the host";
        }
        while (++p < rb && (is_alnum(*p) || *p == ':' || *p == '.')) {
        }
        colon = rb + 1 < end ? rb + 1 : NULL;
        u->host_len = (size_t)(rb + 1 - h);
        if (p != rb || (colon && *colon != ':')) {
            return "bad [IPv6] host";
        }
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        u->host_len = (size_t)((colon ? colon : end) - h);
        while (p < h + u->host_len && (is_alnum(*p) || *p == '.' || *p == '-' || *p == '_')) {
            p++;
        }
        if (p != h + u->host_len) {
            return "bad character in the host";
        }
    }
    if (u->host_len == 0) {
        return "no host";
    }
    if (colon) {
        char *pe;
        u->port = is_digit(colon[1]) ? strtol(colon + 1, &pe, 10) : -1;
        if (u->port < 1 || u->port > 65535 || pe != end) {
            return "the port must be 1 to 65535";
        }
    }
    return NULL;
}

/* scheme://[userinfo@]host[:port][rest]; NULL, or what is wrong. */
static const char *url_split(const char *s, struct url *u)
{
    const char *sep = strstr(s, "://"), *auth, *end, *at = NULL;
    memset(u, 0, sizeof *u);
    if (!sep || sep == s || (size_t)(sep - s) >= sizeof u->scheme) {
        return "no scheme://";
    }
    for (const char *p = s; p < sep; p++) {
        if (!((*p >= 'a' && *p <= 'z') || is_digit(*p) || *p == '+' || *p == '-' || *p == '.')) {
            return "the scheme must be lower case";
        }
    }
    memcpy(u->scheme, s, (size_t)(sep - s));
    auth = sep + 3;
    end = auth + strcspn(auth, "/?#");
    for (const char *p = auth; p < end; p++) {
        at = *p == '@' ? p : at;
    }
    u->user = at ? auth : NULL;
    u->rest = end;
    return host_port(at ? at + 1 : auth, end, u);
}

static int p_uri(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    struct url u;
    const char *why = url_split(v, &u);
    bool ws;
    (void)k;
    if (why) {
        return bad(c, "'%s' is not a broker URI (%s), e.g. tcp://127.0.0.1:1883", cfg_shown(v),
                   why);
    }
    if (enum_index("tcp|mqtt|ssl|mqtts|ws|wss", u.scheme) < 0) {
        return bad(c, "scheme '%s://' is not one of tcp, mqtt, ssl, mqtts, ws, wss", u.scheme);
    }
    if (u.user) {
        return bad(c, "credentials do not belong in the URI: use username and password_file");
    }
    ws = strcmp(u.scheme, "ws") == 0 || strcmp(u.scheme, "wss") == 0;
    if (*u.rest && (!ws || u.rest[0] != '/' || strpbrk(u.rest, "?#"))) {
        return bad(c, ws ? "a ws:// path cannot hold '?' or '#'" : "a %s:// URI has no path",
                   u.scheme);
    }
    return put(f, xstrdup(v));
}

static int p_url(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    struct url u;
    const char *why = url_split(v, &u);
    (void)k;
    if (why || (strcmp(u.scheme, "https") != 0 && strcmp(u.scheme, "http") != 0)) {
        return bad(c, "'%s' is not https://host[:port] (%s)", cfg_shown(v),
                   why ? why : "the scheme must be https or http");
    }
    if (u.user) {
        return bad(c, "credentials do not belong in the URL");
    }
    if (*u.rest) {
        return bad(c,
                   strcmp(u.rest, "/") == 0 ? "'%s': remove the trailing '/' (host only)"
                                            : "'%s': host only, no path (the paths are fixed)",
                   cfg_shown(v));
    }
    return put(f, xstrdup(v));
}

/* The value is never echoed: it may hold the proxy's password. */
static int p_proxy(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    struct url u;
    const char *why = *v ? url_split(v, &u) : NULL;
    (void)k;
    if (!*v) {
        return put(f, xstrdup(""));
    }
    if (why) {
        return bad(c, "not http://[user:pass@]host:port (%s)", why);
    }
    if (enum_index("http|https|socks5|socks5h", u.scheme) < 0) {
        return bad(c, "scheme '%s://' is not http, https, socks5 or socks5h", u.scheme);
    }
    if (u.port < 0 || (*u.rest && strcmp(u.rest, "/") != 0)) {
        return bad(c, "not %s://[user:pass@]host:port (%s)", u.scheme,
                   u.port < 0 ? "the port is required" : "a proxy has no path");
    }
    return put(f, xstrdup(v));
}

static int p_addr(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    struct url u;
    const char *why = *v ? host_port(v, v + strlen(v), &u) : NULL;
    (void)k;
    if (*v && (why || u.port < 0)) {
        /* "9100" alone parses as a host without a port: say what is missing for what was meant */
        size_t digits = strspn(v, "0123456789");
        const char *miss =
                digits && !v[digits] ? "a port alone: the address is missing" : "no port";
        return bad(c, "'%s' is not ADDR:PORT (%s), e.g. 127.0.0.1:9100 or [::1]:9100", cfg_shown(v),
                   why ? why : miss);
    }
    return put(f, xstrdup(v));
}

static bool is_loopback(const char *h, size_t n)
{
    bool dotted = n >= 4 && memcmp(h, "127.", 4) == 0;
    for (size_t i = 0; dotted && i < n; i++) {
        dotted = is_digit(h[i]) || h[i] == '.';
    }
    return dotted || (n == 9 && strncasecmp(h, "localhost", 9) == 0) ||
           (n == 5 && memcmp(h, "[::1]", 5) == 0);
}

bool cfg_uri_is_tls(const char *uri)
{
    return strncmp(uri, "ssl://", 6) == 0 || strncmp(uri, "mqtts://", 8) == 0 ||
           strncmp(uri, "wss://", 6) == 0;
}

bool cfg_url_is_plain_remote(const char *url)
{
    struct url u;
    return url_split(url, &u) == NULL && strcmp(u.scheme, "http") == 0 &&
           !is_loopback(u.host, u.host_len);
}

const char *cfg_proxy_scheme(const char *proxy, char *buf, size_t n)
{
    struct url u;
    snprintf(buf, n, "%s", *proxy && !url_split(proxy, &u) ? u.scheme : "");
    return buf;
}

/* ---- names and topics ---- */

static int p_topic(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    const char *why;
    (void)k;
    if (bridge_topic_check(v, &why)) {
        return bad(c, "'%s' is not a usable topic: %s", cfg_shown(v), why);
    }
    return put(f, xstrdup(v));
}

/* A streamer's topic level: the handle rule, normalised the same way. "" = the handle. */
static int p_name(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    char h[BRIDGE_HANDLE_SIZE];
    const char *why;
    (void)k;
    if (*v && bridge_handle_normalize(v, h, sizeof h, &why)) {
        return bad(c, "invalid topic '%s': %s", cfg_shown(v), why);
    }
    return put(f, xstrdup(*v ? h : ""));
}

static int p_clientid(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            return bad(c, "'%s': only printable ASCII without spaces", cfg_shown(v));
        }
    }
    if (n && (n < (size_t)k->min || n > (size_t)k->max)) {
        return bad(c, "%zu bytes long (%lld to %lld)", n, k->min, k->max);
    }
    if (n > 23) {
        cfg_warn(c, c->line,
                 "client_id is %zu bytes: MQTT 3.1.1 brokers need not accept more "
                 "than 23",
                 n);
    }
    return put(f, xstrdup(v));
}

static int p_str(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    (void)c;
    (void)k;
    return put(f, xstrdup(v));
}

/* ---- files ---- */

/* Relative paths are taken from the config file's directory, not the working directory: a
 * daemon's working directory is / under systemd, and the file's neighbours are what the
 * writer of the file meant. */
static char *resolve(struct cfg_ctx *c, const char *v)
{
    if (!*v || v[0] == '/') {
        return xstrdup(v);
    }
    return xasprintf("%s/%s", c->cfg->dir, v);
}

/* Open a regular file, warning when a CFG_PRIVATE file is open to group or others.
 * O_NONBLOCK: a FIFO named by mistake must not hang the load. */
static int open_file(struct cfg_ctx *c, const struct cfg_key *k, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return bad(c, "cannot read '%s': %s", cfg_shown(path), strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return bad(c, "'%s' is not a regular file", cfg_shown(path));
    }
    if ((k->flags & CFG_PRIVATE) && (st.st_mode & 077)) {
        cfg_warn(c, c->line, "%s: '%s' is readable by group or others (mode %04o): chmod 600 it",
                 k->name, cfg_shown(path), (unsigned)(st.st_mode & 07777));
    }
    return fd;
}

static int p_path(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    (void)k;
    return put(f, resolve(c, v));
}

static int p_rpath(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    char *path = resolve(c, v);
    int fd = *path ? open_file(c, k, path) : 0;
    if (fd < 0) {
        free(path);
        return -1;
    }
    if (*path) {
        close(fd);
    }
    return put(f, path);
}

/* What is wrong with a secret of n bytes after its line end was stripped, or NULL. */
static const char *secret_problem(const char *buf, size_t n)
{
    if (n == 0) {
        return "is empty";
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch == '\n' || ch == '\r') {
            return "holds more than one line";
        }
        if (ch < 0x20 || ch == 0x7f) {
            return "holds a control character";
        }
    }
    return NULL;
}

/* The first and only line of a secret file, trailing line end removed. */
static int read_secret(struct cfg_ctx *c, const struct cfg_key *k, const char *path, char **out)
{
    char buf[SECRET_MAX + 2];
    size_t n = 0;
    int fd = open_file(c, k, path), rc = 0;
    const char *why;
    if (fd < 0) {
        return -1;
    }
    while (n < SECRET_MAX + 1) {
        ssize_t got = read(fd, buf + n, SECRET_MAX + 1 - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            rc = got < 0 ? bad(c, "cannot read '%s': %s", cfg_shown(path), strerror(errno)) : 0;
            break;
        }
        n += (size_t)got;
    }
    close(fd);
    why = n > SECRET_MAX ? "is larger than 4096 bytes" : NULL;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    why = why ? why : secret_problem(buf, n);
    if (!rc && why) {
        rc = bad(c, "'%s' %s", cfg_shown(path), why);
    }
    buf[n] = '\0';
    if (!rc) {
        *out = xstrdup(buf);
    }
    wipe(buf, sizeof buf);
    return rc;
}

void cfg_secret_release(struct bridge_secret *s)
{
    if (s->value) {
        wipe(s->value, strlen(s->value));
    }
    free(s->value);
    free(s->file);
    memset(s, 0, sizeof *s);
}

/* The environment variable wins over the file, as zigbee2mqtt's and Docker's conventions have
 * it (an image's baked-in config, the secret from the run); the file is then not read, so a
 * missing file does not matter. An empty variable counts as unset. */
static int p_secret(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    struct bridge_secret *s = f;
    const char *env = k->aux ? getenv(k->aux) : NULL;
    char *path = resolve(c, v), *value = NULL;
    bool from_env = env && *env;
    if (from_env) {
        value = xstrdup(env);
    } else if (*path && read_secret(c, k, path, &value)) {
        free(path);
        return -1;
    }
    cfg_secret_release(s);
    s->file = path;
    s->value = value;
    s->from_env = from_env;
    return 0;
}

/* ---- structured values ---- */

static int p_shard(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    struct bridge_shard *s = f;
    char *end = NULL;
    unsigned long i = is_digit(v[0]) ? strtoul(v, &end, 10) : 0, n = 0;
    (void)k;
    if (!end || *end != '/' || !is_digit(end[1]) || (n = strtoul(end + 1, &end, 10), *end)) {
        return bad(c, "'%s' is not i/n (e.g. 1/3: the first of three instances)", cfg_shown(v));
    }
    if (n < 1 || n > SHARD_MAX || i < 1 || i > n) {
        return bad(c, "'%s': n must be 1 to %d and i from 1 to n", cfg_shown(v), SHARD_MAX);
    }
    s->i = (unsigned)i;
    s->n = (unsigned)n;
    return 0;
}

bool bridge_events_has(const struct bridge_events *ev, const char *name)
{
    int i = bridge_event_bit(name, false);
    return i >= 0 && (ev->mask >> i & 1);
}

bool bridge_events_want(const struct bridge_events *ev, unsigned bit)
{
    return bit < 64 && (ev->mask >> bit & 1);
}

static int bad_event(struct cfg_ctx *c, const char *name)
{
    char list[400];
    size_t o = 0;
    int near = bridge_event_bit(name, true);
    if (!*name || strcmp(name, "all") == 0) {
        return bad(c, *name ? "'all' stands alone" : "empty name in the list");
    }
    if (near >= 0) {
        return bad(c, "unknown event '%s' (did you mean '%s'?)", cfg_shown(name),
                   bridge_event_name((unsigned)near));
    }
    for (unsigned i = 0; i < BRIDGE_EV__COUNT && o < sizeof list; i++) {
        const char *n = bridge_event_name(i);
        if (n) {
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", n);
        }
    }
    return bad(c, "unknown event '%s' (events: all, or a list of %s)", cfg_shown(name), list);
}

static int p_events(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    struct bridge_events *e = f;
    char *copy = xstrdup(v), *list = xcalloc(strlen(v) + 1, 1), *p = copy;
    bool all = strcmp(v, "all") == 0;
    uint64_t mask = 0;
    int rc = 0;
    (void)k;
    while (!all && p && !rc) {
        char *comma = strchr(p, ','), *name;
        int i;
        if (comma) {
            *comma = '\0';
        }
        name = cfg_trim(p);
        i = bridge_event_bit(name, false);
        rc = i < 0 ? bad_event(c, name) : 0;
        if (i >= 0 && !(mask >> i & 1)) {
            strcat(*list ? strcat(list, ",") : list, name);
        }
        mask |= i >= 0 ? UINT64_C(1) << i : 0;
        p = comma ? comma + 1 : NULL;
    }
    free(copy);
    if (rc) {
        free(list);
        return rc;
    }
    for (unsigned i = 0; all && i < BRIDGE_EV__COUNT; i++) {
        mask |= bridge_event_name(i) ? UINT64_C(1) << i : 0;
    }
    if (all) {
        strcpy(list, "all");
    }
    free(e->list);
    e->list = list;
    e->mask = mask;
    return 0;
}

static bool is_tchar(char ch)
{
    return is_alnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* k=v&k=v: keys of [A-Za-z0-9_.-], values of printable ASCII (URL-encoded by the writer). */
static int p_params(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    (void)k;
    for (const char *p = v; *v;) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p)), *q = p;
        if (!eq || eq == p) {
            return bad(c, "'%s' is not k=v (pairs are joined by '&')", piece(p, (size_t)(end - p)));
        }
        while (q < eq && (is_alnum(*q) || *q == '_' || *q == '.' || *q == '-')) {
            q++;
        }
        if (q != eq) {
            return bad(c, "key '%s' may hold only A-Z, a-z, 0-9, '_', '.' and '-'",
                       piece(p, (size_t)(eq - p)));
        }
        for (q = eq + 1; q < end; q++) {
            if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
                return bad(c, "the value of '%s' holds a space or a non-ASCII byte: URL-encode it",
                           piece(p, (size_t)(eq - p)));
            }
        }
        if (!amp) {
            break;
        }
        p = amp + 1;
    }
    return put(f, xstrdup(v));
}

/* Name: value; Name: value, kept as written: libtiktok splits it at every ';' (tt.h), so the
 * check here splits the same way, and a value holding a ';' (some User-Agents do) is refused
 * now rather than cut in two at connect time. Empty items (a trailing ';') are skipped. */
static int p_headers(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    (void)k;
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ";"), n = 0;
        const char *item = p + strspn(p, " \t");
        while (is_tchar(item[n])) {
            n++;
        }
        if (item < p + len && (n == 0 || item[n] != ':')) {
            return bad(c,
                       "'%s' is not 'Name: value' (headers are separated by ';', so a value "
                       "cannot hold one)",
                       piece(item, len - (size_t)(item - p)));
        }
        p += len + (p[len] == ';');
    }
    return put(f, xstrdup(v));
}

/* ---- dispatch ---- */

enum cfg_storage cfg_storage_of(enum cfg_type t)
{
    switch (t) {
    case T_BOOL:
        return ST_BOOL;
    case T_INT:
    case T_SEC:
    case T_MS:
    case T_BYTES:
        return ST_LL;
    case T_ENUM:
        return ST_INT;
    case T_SECRET:
        return ST_SECRET;
    case T_SHARD:
        return ST_SHARD;
    case T_EVENTS:
        return ST_EVENTS;
    default:
        return ST_STR;
    }
}

int cfg_set(struct cfg_ctx *c, const struct cfg_key *k, void *f, const char *v)
{
    static parse_fn *const parse[] = {
        [T_BOOL] = p_bool,         [T_INT] = p_int,
        [T_SEC] = p_int,           [T_MS] = p_int,
        [T_BYTES] = p_int,         [T_ENUM] = p_enum,
        [T_STR] = p_str,           [T_URI] = p_uri,
        [T_URL] = p_url,           [T_PROXY] = p_proxy,
        [T_TOPIC] = p_topic,       [T_NAME] = p_name,
        [T_CLIENTID] = p_clientid, [T_ADDR] = p_addr,
        [T_PATH] = p_path,         [T_RPATH] = p_rpath,
        [T_PARAMS] = p_params,     [T_HEADERS] = p_headers,
        [T_SECRET] = p_secret,     [T_SHARD] = p_shard,
        [T_EVENTS] = p_events,
    };
    bool empty_ok = cfg_storage_of(k->type) == ST_STR || k->type == T_SECRET;
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            return bad(c, "control character in the value");
        }
    }
    if (!*v && (!empty_ok || (k->flags & CFG_REQUIRED))) {
        return bad(c, "empty value (the default is %s)", k->dflt ? k->dflt : "computed");
    }
    return parse[k->type](c, k, f, v);
}

void cfg_set_default(struct cfg_ctx *c, const struct cfg_key *k, void *f)
{
    if (!k->dflt) {
        put(f, xstrdup("")); /* computed once the file is read */
    } else if (cfg_set(c, k, f, k->dflt)) {
        cfg_err(c, 0, "internal: the default of %s.%s is refused: %s", k->section, k->name, c->msg);
    }
}
