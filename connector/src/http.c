/** @file http.c
 * libcurl for the connector's HTTP steps: room lookup, room info, gift list, signing, im/fetch.
 *
 * Why our own cookie jar and not curl's: cookies also come from places that are not HTTP
 * responses (the sign server's X-Set-TT-Cookie header, the msToken of the legacy signer, the
 * session id option) and must go into the WebSocket handshake too, which curl never sees.
 *
 * SPDX-License-Identifier: MIT
 */
#include <curl/curl.h>
#include <stdio.h>
#include <strings.h>

#include "alloc.h"
#include "http.h"

/* The header set of 1.x with 2.x's Sec-Fetch additions (docs/protocol.md §3.1). */
static const char *const default_headers[] = {
    "Connection: keep-alive",
    "Cache-Control: max-age=0",
    "Accept: text/html,application/json,application/protobuf",
    "Referer: https://www.tiktok.com/",
    "Origin: https://www.tiktok.com",
    "Accept-Language: en-US,en;q=0.9",
    "Sec-Fetch-Site: same-site",
    "Sec-Fetch-Mode: cors",
    "Sec-Fetch-Dest: empty",
    "Sec-Fetch-Ua-Mobile: ?0",
};

static int dup_field(char **dst, const char *src)
{
    *dst = src && *src ? tt__strdup(src) : NULL;
    return src && *src && !*dst;
}

/* ---- the caller's "Name: value; Name: value" strings ---- */

/* Length of the header name of "Name: value" (up to the colon), 0 if it has no colon. */
static size_t name_len(const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    return colon ? (size_t)(colon - line) : 0;
}

static int same_name(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t an = name_len(a, alen), bn = name_len(b, blen);
    return an && an == bn && !strncasecmp(a, b, an);
}

/* Next "Name: value" segment of the caller's "Name: value; Name: value": *len its length. */
static const char *next_segment(const char *s, size_t *len)
{
    while (*s == ' ' || *s == ';') {
        s++;
    }
    *len = strcspn(s, ";");
    return *s ? s : NULL;
}

int tt__headers_set(const char *user, const char *line)
{
    size_t len;
    for (const char *s = user ? next_segment(user, &len) : NULL; s;
         s = next_segment(s + len, &len)) {
        if (same_name(s, len, line, strlen(line))) {
            return 1;
        }
    }
    return 0;
}

/* A Cookie entry of request_headers goes into the jar (1.x does so), so that it reaches the
 * WebSocket too and a cookie of the same name from TikTok replaces it. Its pairs arrive split
 * at ';' like the headers: the segments after "Cookie:" without a colon are more pairs. */
static void user_cookies(struct tt_http *h, const char *s)
{
    char one[512];
    size_t len;
    int in_cookie = 0;
    for (s = s ? next_segment(s, &len) : NULL; s; s = next_segment(s + len, &len)) {
        size_t nl = name_len(s, len);
        const char *eq = memchr(s, '=', len);
        const char *pair = s;
        if (nl && (!eq || s + nl < eq)) {
            in_cookie = nl == 6 && !strncasecmp(s, "cookie", 6);
            pair = s + nl + 1;
        }
        size_t pl = len - (size_t)(pair - s);
        if (in_cookie && pl < sizeof one) {
            memcpy(one, pair, pl);
            one[pl] = '\0';
            tt__cookie_parse(h, one, 1);
        }
    }
}

/* The resolve option as curl's list of "host:port:addr" (IPv6 in brackets). */
static int resolve_list(struct tt_http *h)
{
    struct curl_slist *l = NULL;
    char e[256];
    for (size_t i = 0; i < h->hosts.n; i++) {
        const struct tt_resolve *r = &h->hosts.r[i];
        int v6 = strchr(r->addr, ':') != NULL;
        snprintf(e, sizeof e, "%s:%d:%s%s%s", r->host, r->port, v6 ? "[" : "", r->addr,
                 v6 ? "]" : "");
        struct curl_slist *n = curl_slist_append(l, e);
        if (!n) {
            curl_slist_free_all(l);
            return -1;
        }
        l = n;
    }
    h->resolve = l;
    return 0;
}

enum tt_err tt__http_init(struct tt_http *h, const struct tt_options *o)
{
    memset(h, 0, sizeof *h);
    if (tt__hosts_init(&h->hosts, o, h->errmsg, sizeof h->errmsg)) {
        return TT_ERR_INVAL;
    }
    if (resolve_list(h)) {
        return TT_ERR_NOMEM;
    }
    h->curl = curl_easy_init();
    if (!h->curl || dup_field(&h->proxy, o->proxy) || dup_field(&h->ca_file, o->ca_file) ||
        dup_field(&h->user_agent, o->user_agent) ||
        dup_field(&h->extra_headers, o->request_headers)) {
        tt__http_cleanup(h);
        return TT_ERR_NOMEM;
    }
    h->timeout_ms = o->request_timeout_ms;
    h->insecure = o->allow_insecure;
    user_cookies(h, h->extra_headers);
    return TT_OK;
}

void tt__http_cleanup(struct tt_http *h)
{
    if (h->curl) {
        curl_easy_cleanup(h->curl);
    }
    curl_slist_free_all(h->resolve);
    for (size_t i = 0; i < h->n_cookies; i++) {
        tt__free(h->cookies[i].name);
        tt__free(h->cookies[i].value);
    }
    tt__free(h->proxy);
    tt__free(h->ca_file);
    tt__free(h->user_agent);
    tt__free(h->extra_headers);
    memset(h, 0, sizeof *h);
}

void tt__http_release(struct tt_http *h)
{
    if (h->curl) {
        curl_easy_cleanup(h->curl);
        h->curl = NULL;
    }
}

void tt__http_resp_init(struct tt_http_resp *r)
{
    memset(r, 0, sizeof *r);
    tt__buf_init(&r->body, TT_HTTP_MAX_BODY);
}

void tt__http_resp_free(struct tt_http_resp *r)
{
    common_buf_free(&r->body);
}

/* ---- cookies ---- */

int tt__header_safe(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if ((b < 0x20 && b != '\t') || b == 0x7f) {
            return 0;
        }
    }
    return 1;
}

enum tt_err tt__cookie_set(struct tt_http *h, const char *name, size_t nlen, const char *value,
                           size_t vlen)
{
    struct tt_cookie *c = NULL;
    /* the jar's pairs go into every request's Cookie header, from answers we do not trust */
    if (!tt__header_safe(name, nlen) || !tt__header_safe(value, vlen)) {
        return TT_ERR_INVAL;
    }
    for (size_t i = 0; i < h->n_cookies; i++) {
        if (strlen(h->cookies[i].name) == nlen && !memcmp(h->cookies[i].name, name, nlen)) {
            c = &h->cookies[i];
        }
    }
    char *v = tt__malloc(vlen + 1);
    if (!v) {
        return TT_ERR_NOMEM;
    }
    memcpy(v, value, vlen);
    v[vlen] = '\0';
    if (c) {
        tt__free(c->value);
        c->value = v;
        return TT_OK;
    }
    if (h->n_cookies == TT_COOKIES_MAX) {
        tt__free(v);
        return TT_ERR_TOO_LARGE;
    }
    c = &h->cookies[h->n_cookies];
    c->name = tt__malloc(nlen + 1);
    if (!c->name) {
        tt__free(v);
        return TT_ERR_NOMEM;
    }
    memcpy(c->name, name, nlen);
    c->name[nlen] = '\0';
    c->value = v;
    h->n_cookies++;
    return TT_OK;
}

static int is_attribute(const char *name, size_t n)
{
    static const char *const attrs[] = { "path",     "domain",   "expires",  "max-age",    "secure",
                                         "httponly", "samesite", "priority", "partitioned" };
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        if (strlen(attrs[i]) == n && !strncasecmp(attrs[i], name, n)) {
            return 1;
        }
    }
    return 0;
}

void tt__cookie_parse(struct tt_http *h, const char *s, int first_only)
{
    while (*s) {
        while (*s == ' ' || *s == ';') {
            s++;
        }
        size_t len = strcspn(s, ";");
        const char *eq = memchr(s, '=', len);
        if (eq && eq > s && !is_attribute(s, (size_t)(eq - s))) {
            size_t vl = len - (size_t)(eq - s) - 1;
            while (vl && eq[vl] == ' ') {
                vl--;
            }
            tt__cookie_set(h, s, (size_t)(eq - s), eq + 1, vl);
            if (first_only) {
                return;
            }
        }
        s += len;
    }
}

void tt__cookie_header(const struct tt_http *h, struct common_buf *b)
{
    for (size_t i = 0; i < h->n_cookies; i++) {
        if (i) {
            common_buf_add(b, "; ", 2);
        }
        common_buf_adds(b, h->cookies[i].name);
        common_buf_addc(b, '=');
        common_buf_adds(b, h->cookies[i].value);
    }
}

const char *tt__cookie_get(const struct tt_http *h, const char *name)
{
    for (size_t i = 0; i < h->n_cookies; i++) {
        if (!strcmp(h->cookies[i].name, name)) {
            return h->cookies[i].value;
        }
    }
    return NULL;
}

void tt__cookie_del(struct tt_http *h, const char *name)
{
    for (size_t i = 0; i < h->n_cookies; i++) {
        if (!strcmp(h->cookies[i].name, name)) {
            tt__free(h->cookies[i].name);
            tt__free(h->cookies[i].value);
            h->cookies[i] = h->cookies[--h->n_cookies];
            return;
        }
    }
}

/* ---- requests ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct tt_http_resp *r = ud;
    common_buf_add(&r->body, p, size * n);
    return r->body.err ? 0 : size * n; /* 0 makes curl stop: the body is over its cap */
}

static void keep_header(char *dst, size_t cap, const char *v, size_t n)
{
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ')) {
        n--;
    }
    while (n && *v == ' ') {
        v++;
        n--;
    }
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(dst, v, n);
    dst[n] = '\0';
}

unsigned tt__retry_after_s(const char *value, time_t now, unsigned max)
{
    const char *p = value;
    unsigned long long s = 0;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p >= '0' && *p <= '9') {
        /* delta-seconds: digits alone. Saturate rather than wrap, and take nothing else
         * ("-1", "1.5"): strtoul read "-1" as 4294967295 s, a streamer parked for 136 years */
        while (*p >= '0' && *p <= '9') {
            s = s * 10 + (unsigned)(*p++ - '0');
            s = s > max ? max : s;
        }
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        return *p ? 0 : (unsigned)s;
    }
    /* an HTTP-date, which RFC 9110 allows as well; curl reads all three of its formats */
    time_t at = *p ? curl_getdate(p, NULL) : -1;
    if (at == -1 || at <= now) {
        return 0;
    }
    return (unsigned long long)(at - now) > max ? max : (unsigned)(at - now);
}

struct hdr_ctx {
    struct tt_http *h;
    struct tt_http_resp *r;
    int jar;        /* the host is TikTok's: its Set-Cookie goes into the jar (hosts.c) */
    int in_headers; /* a status line came, the blank line after the headers not yet */
};

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct hdr_ctx *x = ud;
    size_t len = size * n;
    const char *colon = memchr(p, ':', len);
    if (!colon) { /* the status line opens the headers, the blank line closes them */
        x->in_headers = len > 5 && !strncmp(p, "HTTP/", 5);
        return len;
    }
    size_t kl = (size_t)(colon - p), vl = len - kl - 1;
    const char *v = colon + 1;
    if (kl == 10 && !strncasecmp(p, "set-cookie", kl) && x->jar) {
        char tmp[2048];
        keep_header(tmp, sizeof tmp, v, vl);
        tt__cookie_parse(x->h, tmp, 1);
    } else if (kl == 11 && !strncasecmp(p, "retry-after", kl)) {
        keep_header(x->r->retry_after, sizeof x->r->retry_after, v, vl);
    } else if (kl == 15 && !strncasecmp(p, "x-set-tt-cookie", kl)) {
        keep_header(x->r->x_set_tt_cookie, sizeof x->r->x_set_tt_cookie, v, vl);
    } else if (kl == 9 && !strncasecmp(p, "x-room-id", kl)) {
        keep_header(x->r->x_room_id, sizeof x->r->x_room_id, v, vl);
    } else if (kl == 12 && !strncasecmp(p, "content-type", kl)) {
        keep_header(x->r->content_type, sizeof x->r->content_type, v, vl);
    }
    return len;
}

static int list_sets(const char *const *extra, const char *line)
{
    for (size_t i = 0; extra && extra[i]; i++) {
        if (same_name(extra[i], strlen(extra[i]), line, strlen(line))) {
            return 1;
        }
    }
    return 0;
}

static struct curl_slist *append(struct curl_slist *l, const char *line, int *oom)
{
    struct curl_slist *n = *oom ? NULL : curl_slist_append(l, line);
    *oom = *oom || !n;
    return n ? n : l;
}

/* The caller's headers, but for Cookie, whose pairs went into the jar (tt__http_init). */
static struct curl_slist *add_user_headers(struct curl_slist *l, const char *s, int *oom)
{
    char one[512];
    size_t len;
    for (s = s ? next_segment(s, &len) : NULL; s; s = next_segment(s + len, &len)) {
        if (len < sizeof one && name_len(s, len) && !same_name(s, len, "Cookie:", 7)) {
            memcpy(one, s, len);
            one[len] = '\0';
            l = append(l, one, oom);
        }
    }
    return l;
}

/* Our defaults, then `extra`, then the caller's request_headers: a later one of the same name
 * replaces an earlier one (1.x merges requestHeaders over its defaults), then the jar. */
static struct curl_slist *build_headers(struct tt_http *h, const char *url,
                                        const char *const *extra, int *oom)
{
    struct curl_slist *l = NULL;
    struct common_buf cookie;
    for (size_t i = 0; i < sizeof default_headers / sizeof default_headers[0]; i++) {
        if (!list_sets(extra, default_headers[i]) &&
            !tt__headers_set(h->extra_headers, default_headers[i])) {
            l = append(l, default_headers[i], oom);
        }
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        if (!tt__headers_set(h->extra_headers, extra[i])) {
            l = append(l, extra[i], oom);
        }
    }
    l = add_user_headers(l, h->extra_headers, oom);
    tt__buf_init(&cookie, 16384);
    common_buf_adds(&cookie, "Cookie: ");
    tt__cookie_header(h, &cookie);
    const char *c = common_buf_cstr(&cookie);
    if (c && h->n_cookies && tt__hosts_cookie_ok(&h->hosts, url)) {
        l = append(l, c, oom);
    }
    common_buf_free(&cookie);
    return l;
}

/* A sign server gets `extra` alone: none of TikTok's browser headers, and never the jar, which
 * may hold a logged-in session id (2.x forwards it only when told to). */
static struct curl_slist *sign_headers(const char *const *extra, int *oom)
{
    struct curl_slist *l = NULL;
    for (size_t i = 0; extra && extra[i]; i++) {
        l = append(l, extra[i], oom);
    }
    return l;
}

/* curl calls this at least once a second, and more often while data flows, DNS included:
 * tt_client_stop() then ends a request in flight instead of waiting out its timeout */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const struct tt_http *h = ud;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return h->cancel && atomic_load(h->cancel);
}

static void set_options(struct tt_http *h, const char *url, const char *ua, struct curl_slist *hdrs,
                        struct hdr_ctx *x)
{
    CURL *c = h->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip, deflate"); /* as 1.x; curl decodes */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x->r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
#if LIBCURL_VERSION_NUM >= 0x075700
    /* a stop (or a timeout) leaves a DNS lookup that does not answer behind instead of joining
     * its thread: curl waits for it otherwise (30 s with a silent resolver); the detached
     * thread frees what it holds when getaddrinfo returns */
    curl_easy_setopt(c, CURLOPT_QUICK_EXIT, 1L);
#endif
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_RESOLVE, (struct curl_slist *)h->resolve);
    /* proxies come from our options alone, never from the environment */
    curl_easy_setopt(c, CURLOPT_PROXY, h->proxy ? h->proxy : "");
    if (h->proxy && !strncmp(h->proxy, "http://", 7)) {
        /* CONNECT tunnels, as the WebSocket goes too: TikTok is https, which needs it anyway */
        curl_easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L);
    }
    if (h->ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
    }
    if (h->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static enum tt_err perform(struct tt_http *h, const char *url, const char *ua,
                           struct curl_slist *hdrs, int oom, struct tt_http_resp *r)
{
    struct hdr_ctx x = { h, r, tt__hosts_cookie_ok(&h->hosts, url), 0 };
    h->errmsg[0] = '\0';
    if (!strncmp(url, "http://", 7) && !h->insecure && !tt__hosts_loopback(&h->hosts, url)) {
        curl_slist_free_all(hdrs);
        snprintf(h->errmsg, sizeof h->errmsg,
                 "plain http to a non-loopback host is refused (set allow_insecure)");
        return TT_ERR_INVAL;
    }
    if (!h->curl) {
        h->curl = curl_easy_init(); /* after tt__http_release */
    }
    if (oom || !h->curl) {
        curl_slist_free_all(hdrs);
        snprintf(h->errmsg, sizeof h->errmsg, "out of memory");
        return TT_ERR_NOMEM;
    }
    set_options(h, url, ua, hdrs, &x);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, detail);
    CURLcode cc = curl_easy_perform(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    if (cc == CURLE_WRITE_ERROR && r->body.err) {
        snprintf(h->errmsg, sizeof h->errmsg, "response body over %zu bytes", r->body.max);
        return TT_ERR_TOO_LARGE;
    }
    if (cc == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(h->errmsg, sizeof h->errmsg, "stopped");
        return TT_ERR_STATE;
    }
    if (cc == CURLE_OUT_OF_MEMORY && x.in_headers) {
        /* curl refuses a header over its 100 KiB cap with "Out of memory": the server's doing */
        snprintf(h->errmsg, sizeof h->errmsg,
                 "response header too large (over libcurl's 100 KiB cap)");
        return TT_ERR_TOO_LARGE;
    }
    if (cc != CURLE_OK) {
        snprintf(h->errmsg, sizeof h->errmsg, "%s%s%s", curl_easy_strerror(cc),
                 detail[0] ? ": " : "", detail);
        return cc == CURLE_OPERATION_TIMEDOUT ? TT_ERR_TIMEOUT : TT_ERR_HTTP;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
    if (!common_buf_cstr(&r->body)) {
        return tt__buf_err(&r->body);
    }
    return TT_OK;
}

/* Why: a client on its WebSocket makes no request until it connects again, but for the room
 * info, gift list or rate limits its caller asks for (the bridge's room_info_interval: every 5
 * minutes by default); in between, the handle held a 16 KiB buffer and an idle connection to
 * the web host, for each streamer. Polling needs it every interval. */
static enum tt_err done(struct tt_http *h, enum tt_err rc)
{
    if (h->idle && *h->idle) {
        tt__http_release(h);
    }
    return rc;
}

enum tt_err tt__http_request(struct tt_http *h, const char *url, const char *const *extra,
                             struct tt_http_resp *r)
{
    int oom = 0;
    struct curl_slist *hdrs = build_headers(h, url, extra, &oom);
    return done(h, perform(h, url, h->user_agent, hdrs, oom, r));
}

enum tt_err tt__http_request_sign(struct tt_http *h, const char *url, const char *const *extra,
                                  struct tt_http_resp *r)
{
    char ua[64];
    int oom = 0;
    struct curl_slist *hdrs = sign_headers(extra, &oom);
    snprintf(ua, sizeof ua, "libtiktok/%s", tt_version()); /* 1.x: its own, not a browser's */
    return done(h, perform(h, url, ua, hdrs, oom, r));
}
