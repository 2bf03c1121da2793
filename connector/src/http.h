/** @file http.h
 * HTTP for the connector: one libcurl easy handle per connection (keep-alive across the
 * connect steps), a cookie jar of our own, capped bodies, and the few response headers the
 * protocol uses.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_HTTP_H
#define TT_HTTP_H

#include <stdatomic.h>
#include <time.h>

#include "buf.h"
#include "hosts.h"
#include "tt.h"

#define TT_HTTP_MAX_BODY ((size_t)16 << 20) /* a live page is ~1 MiB, the gift list ~0.8 MiB */
#define TT_COOKIES_MAX   32

struct tt_cookie {
    char *name, *value;
};

struct tt_http {
    void *curl; /* CURL * */
    struct tt_cookie cookies[TT_COOKIES_MAX];
    size_t n_cookies;
    char *proxy, *ca_file, *user_agent;
    char *extra_headers; /* the caller's "Name: value; Name: value" */
    unsigned timeout_ms;
    int insecure;             /* allow_insecure */
    const atomic_int *cancel; /* set: a request in flight ends (TT_ERR_STATE "stopped") */
    const int *idle;          /* set: let the handle go after each request (on a WebSocket) */
    struct tt_hosts hosts;    /* where the jar may go; the resolve option */
    void *resolve;            /* struct curl_slist * of the resolve option, for curl */
    char errmsg[256];
};

/** One response; only the headers the protocol needs are kept (values truncated to fit). */
struct tt_http_resp {
    long status;
    struct common_buf body;
    char retry_after[48]; /* delta-seconds or an HTTP-date (29 bytes) */
    char x_set_tt_cookie[1024];
    char x_room_id[32];
    char content_type[64];
};

enum tt_err tt__http_init(struct tt_http *h, const struct tt_options *o);
void tt__http_cleanup(struct tt_http *h);
/** Let go of curl's handle (its read buffer, the server's kept-alive connection) until the next
 *  request, which makes a new one; the cookies and settings stay. */
void tt__http_release(struct tt_http *h);
void tt__http_resp_init(struct tt_http_resp *r);
void tt__http_resp_free(struct tt_http_resp *r);

/** GET `url` from TikTok: our default headers, then `extra` ("Name: value" lines, may be
 *  NULL), then the caller's request_headers, a later header replacing an earlier one of the
 *  same name; then the jar's cookies, if `url`'s host is TikTok's (hosts.h), which alone may
 *  also set cookies. Transport failures return TT_ERR_TIMEOUT or TT_ERR_HTTP
 *  with h->errmsg set; any HTTP status returns TT_OK. */
enum tt_err tt__http_request(struct tt_http *h, const char *url, const char *const *extra,
                             struct tt_http_resp *r);
/** GET `url` from a sign server: `extra` and our own User-Agent only, no cookies. */
enum tt_err tt__http_request_sign(struct tt_http *h, const char *url, const char *const *extra,
                                  struct tt_http_resp *r);

/** The seconds a Retry-After value asks to wait (RFC 9110 §10.2.3: delta-seconds, or an
 *  HTTP-date, compared with `now`), at most `max`; 0 for none, a date past, or a value that is
 *  neither. */
unsigned tt__retry_after_s(const char *value, time_t now, unsigned max);

/** 1 if `n` bytes at `s` may go into an HTTP header value: no control byte but HTAB. A CR or LF
 *  would end the header and begin one of the sender's choosing, and curl sends what it gets
 *  (it also hands such bytes of an answer's headers on as they came). */
int tt__header_safe(const char *s, size_t n);

/** Set (or replace) a cookie; returns TT_ERR_NOMEM, TT_ERR_TOO_LARGE (jar full) or TT_ERR_INVAL
 *  (a control byte in the name or value: tt__header_safe). */
enum tt_err tt__cookie_set(struct tt_http *h, const char *name, size_t nlen, const char *value,
                           size_t vlen);
/** Every "name=value" pair of a Set-Cookie-like string ("a=1; Path=/" keeps a=1 only when
 *  `first_only`, else every pair separated by ';' that is not a cookie attribute). */
void tt__cookie_parse(struct tt_http *h, const char *s, int first_only);
/** The jar as a Cookie header value into `b` ("a=1; b=2"). */
void tt__cookie_header(const struct tt_http *h, struct common_buf *b);
const char *tt__cookie_get(const struct tt_http *h, const char *name);
/** Remove a cookie from the jar, if there. */
void tt__cookie_del(struct tt_http *h, const char *name);

/** 1 if the caller's "Name: value; Name: value" sets the header named in `line` ("Name:" or
 *  "Name: value", any case): then it replaces ours. */
int tt__headers_set(const char *user, const char *line);


#endif
