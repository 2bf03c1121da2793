/** @file hosts.c
 * TikTok's cookies follow their domain: the session id, ttwid, msToken and the sign server's
 * cookies go only to tiktok.com and its subdomains, and to the hosts the caller named as
 * TikTok's (web_base, webcast_base, push_base). The push server of a fetch result and the
 * URL a legacy signer returns are chosen by someone else, so a request there carries none.
 *
 * The resolve option ("host:port:addr,...") sends a host:port to an address of the caller's
 * choice, the way curl's CURLOPT_RESOLVE does; the WebSocket honours it too. Tests use it to
 * give the simulator TikTok's host names on loopback.
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hosts.h"

#define TIKTOK_DOMAIN "tiktok.com"

static int default_port(const char *url)
{
    return !strncasecmp(url, "https://", 8) || !strncasecmp(url, "wss://", 6) ? 443 : 80;
}

int tt__url_host(const char *url, char *host, size_t n, int *port)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t auth = strcspn(p, "@/?#");
    if (p[auth] == '@') {
        p += auth + 1;
    }
    size_t len;
    const char *after;
    if (*p == '[') { /* [v6]:port */
        const char *close = strchr(p, ']');
        if (!close) {
            return -1;
        }
        len = (size_t)(close - p - 1);
        after = close + 1;
        p++;
    } else {
        len = strcspn(p, ":/?#");
        after = p + len;
    }
    if (!len || len >= n) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        host[i] = (char)tolower((unsigned char)p[i]);
    }
    host[len] = '\0';
    *port = *after == ':' ? atoi(after + 1) : default_port(url);
    return *port > 0 && *port < 65536 ? 0 : -1;
}

/* One "host:port:addr" entry (len bytes at s). */
static int parse_entry(struct tt_resolve *r, const char *s, size_t len)
{
    char tmp[256];
    unsigned char bin[16];
    if (len >= sizeof tmp) {
        return -1;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *c1 = strchr(tmp, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || c1 == tmp || (size_t)(c1 - tmp) >= sizeof r->host) {
        return -1;
    }
    *c1 = *c2 = '\0';
    char *end;
    long port = strtol(c1 + 1, &end, 10);
    char *addr = c2 + 1;
    size_t al = strlen(addr);
    if (*end || port < 1 || port > 65535 || !al) {
        return -1;
    }
    if (addr[0] == '[' && addr[al - 1] == ']') {
        addr[al - 1] = '\0';
        addr++;
    }
    if (strlen(addr) >= sizeof r->addr ||
        (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)) {
        return -1;
    }
    for (char *p = tmp; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    memcpy(r->host, tmp, (size_t)(c1 - tmp) + 1); /* fits: checked above */
    r->port = (int)port;
    snprintf(r->addr, sizeof r->addr, "%s", addr);
    return 0;
}

static enum tt_err parse_resolve(struct tt_hosts *h, const char *s, char *err, size_t n)
{
    while (s && *s) {
        s += strspn(s, " ,");
        size_t len = strcspn(s, ",");
        while (len && s[len - 1] == ' ') {
            len--;
        }
        if (!len) {
            break;
        }
        if (h->n == TT_RESOLVE_MAX || parse_entry(&h->r[h->n], s, len)) {
            snprintf(err, n, "resolve: '%.*s' is not host:port:address (numeric, at most %d)",
                     (int)(len < 80 ? len : 80), s, TT_RESOLVE_MAX);
            return TT_ERR_INVAL;
        }
        h->n++;
        s += len;
        s += strcspn(s, ",");
    }
    return TT_OK;
}

int tt__resolve_check(const char *s, char *err, size_t n)
{
    struct tt_hosts h;
    memset(&h, 0, sizeof h);
    return parse_resolve(&h, s, err, n) ? -1 : 0;
}

enum tt_err tt__hosts_init(struct tt_hosts *h, const struct tt_options *o, char *err, size_t n)
{
    const char *bases[TT_OWN_MAX] = { o->web_base, o->webcast_base, o->push_base };
    int port;
    memset(h, 0, sizeof *h);
    for (size_t i = 0; i < TT_OWN_MAX; i++) {
        if (!bases[i] || tt__url_host(bases[i], h->own[i], sizeof h->own[i], &port)) {
            h->own[i][0] = '\0';
        }
    }
    return parse_resolve(h, o->resolve, err, n);
}

/* RFC 6265's domain-match: the host is the domain or ends with "." + domain. */
static int domain_match(const char *host, const char *domain)
{
    size_t hl = strlen(host), dl = strlen(domain);
    return hl == dl ? !strcmp(host, domain)
                    : hl > dl && host[hl - dl - 1] == '.' && !strcmp(host + hl - dl, domain);
}

int tt__hosts_cookie_ok(const struct tt_hosts *h, const char *url)
{
    char host[256];
    int port;
    if (tt__url_host(url, host, sizeof host, &port)) {
        return 0;
    }
    if (domain_match(host, TIKTOK_DOMAIN)) {
        return 1;
    }
    for (size_t i = 0; i < TT_OWN_MAX; i++) {
        if (h->own[i][0] && !strcmp(host, h->own[i])) {
            return 1;
        }
    }
    return 0;
}

const char *tt__hosts_resolve(const struct tt_hosts *h, const char *host, int port)
{
    for (size_t i = 0; i < h->n; i++) {
        if (h->r[i].port == port && !strcasecmp(h->r[i].host, host)) {
            return h->r[i].addr;
        }
    }
    return NULL;
}

int tt__url_is_loopback(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t auth = strcspn(p, "@/");
    if (p[auth] == '@') {
        p += auth + 1;
    }
    size_t host = strcspn(p, ":/?");
    if (!strncmp(p, "[::1]", 5) || (host == 9 && !strncmp(p, "localhost", 9))) {
        return 1;
    }
    if (host < 7 || strncmp(p, "127.", 4)) {
        return 0;
    }
    for (size_t i = 4; i < host; i++) { /* 127.0.0.0/8, written as digits and dots */
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.')) {
            return 0;
        }
    }
    return 1;
}

static int addr_is_loopback(const char *a)
{
    unsigned char v4[4], v6[16];
    static const unsigned char one6[16] = { [15] = 1 };
    if (inet_pton(AF_INET, a, v4) == 1) {
        return v4[0] == 127;
    }
    return inet_pton(AF_INET6, a, v6) == 1 && !memcmp(v6, one6, sizeof v6);
}

int tt__hosts_loopback(const struct tt_hosts *h, const char *url)
{
    char host[256];
    int port;
    if (tt__url_is_loopback(url)) {
        return 1;
    }
    if (tt__url_host(url, host, sizeof host, &port)) {
        return 0;
    }
    const char *a = tt__hosts_resolve(h, host, port);
    return a && addr_is_loopback(a);
}
