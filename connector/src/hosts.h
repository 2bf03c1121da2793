/** @file hosts.h
 * Which hosts are TikTok's (where its cookies may go) and the `resolve` option, which maps a
 * host:port to an address of the caller's choice, as curl's CURLOPT_RESOLVE does, for HTTP and
 * the WebSocket alike (hosts.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_HOSTS_H
#define TT_HOSTS_H

#include "tt.h"

#define TT_RESOLVE_MAX 16 /* entries of the resolve option */
#define TT_OWN_MAX     3  /* web_base, webcast_base, push_base */

struct tt_resolve {
    char host[128];
    int port;
    char addr[48]; /* numeric, IPv6 without brackets */
};

struct tt_hosts {
    struct tt_resolve r[TT_RESOLVE_MAX];
    size_t n;
    char own[TT_OWN_MAX][128]; /* the configured bases' hosts: TikTok's, as far as we know */
};

/** The hosts of `o`'s bases and its resolve list ("host:port:addr,..."; addr numeric, IPv6
 *  with or without brackets). TT_ERR_INVAL with a reason in `err` on a bad entry. */
enum tt_err tt__hosts_init(struct tt_hosts *h, const struct tt_options *o, char *err, size_t n);

/** 0 if `s` is a valid resolve list, else -1 with a reason in `err`. */
int tt__resolve_check(const char *s, char *err, size_t n);

/** The host of `url` (lower case, IPv6 without brackets) into `host` and its port (the
 *  scheme's default when none is given); -1 if the URL has no host or it does not fit. */
int tt__url_host(const char *url, char *host, size_t n, int *port);

/** 1 if TikTok's cookies may go to the host of `url`: tiktok.com or one of its subdomains, or
 *  the host of one of the configured bases (tests point them at the simulator). */
int tt__hosts_cookie_ok(const struct tt_hosts *h, const char *url);

/** The address the override gives host:port, or NULL. */
const char *tt__hosts_resolve(const struct tt_hosts *h, const char *host, int port);

/** 1 if the URL's host is 127.0.0.0/8, ::1 or localhost (tt__hosts_loopback also reads the
 *  resolve option). */
int tt__url_is_loopback(const char *url);

/** 1 if `url` goes to loopback: its host is a loopback name or address, or the override maps
 *  it to one. */
int tt__hosts_loopback(const struct tt_hosts *h, const char *url);

#endif
