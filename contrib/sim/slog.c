/** @file slog.c
 * What clients did, for tests to assert on: the request log (--log), one JSON object per line
 * with a sequence number `n`, the wall-clock time `t` (ms) and a `kind` (README "Request log"),
 * flushed line by line so a test can wait for a line while the simulator runs. Also the frame
 * dump (--dump DIR): every frame a room pushes, as DIR/<handle>/NNNNNN.bin, which the oracle's
 * decode.js turns into the events a client must have seen.
 *
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libwebsockets.h>

#include "sim.h"

#define LINE_MAX_BYTES (1024 * 1024)

static struct common_buf line;

struct common_buf *slog_begin(struct sim *s, const char *kind)
{
    if (s->log == NULL)
        return NULL;
    common_buf_free(&line);
    common_buf_init(&line, LINE_MAX_BYTES);
    common_buf_printf(&line, "{\"n\":%" PRIu64 ",\"t\":%" PRId64, ++s->log_n, common_wall_ms());
    sbuf_json_kstr(&line, "kind", kind);
    return &line;
}

void slog_end(struct sim *s, struct common_buf *b)
{
    common_buf_adds(b, "}\n");
    if (!b->err) {
        fwrite(b->p, 1, b->len, s->log);
        fflush(s->log);
    }
    common_buf_free(b);
}

void slog_fault(struct sim *s, const struct room *r, const char *what)
{
    struct common_buf *b = slog_begin(s, "fault");

    if (b == NULL)
        return;
    sbuf_json_kstr(b, "room", r ? r->handle : NULL);
    sbuf_json_kstr(b, "fault", what);
    slog_end(s, b);
}

/* With --log-frames: the messages of the frame about to enter the room's ring (its "seq", which
   the ws-out lines of the connections that send it repeat), whether a socket is open or not, so
   that a test can tell which msgIds went out on which socket and what each was; a frame of a
   transport fault has no message and names its fault. */
void slog_emit(struct sim *s, const struct room *r, const char *fault, const struct msg_out *m,
               const uint16_t *types, size_t n)
{
    struct common_buf *b;

    if (!s->log_frames || (b = slog_begin(s, "emit")) == NULL)
        return;
    sbuf_json_kstr(b, "room", r->handle);
    sbuf_json_kid(b, "room_id", room_cur_id(r));
    sbuf_json_kint(b, "seq", (int64_t)r->ring_head);
    if (fault != NULL)
        sbuf_json_kstr(b, "fault", fault); /* a garbage, truncated or bomb frame */
    sbuf_json_key(b, "msg_ids");
    common_buf_adds(b, "[");
    for (size_t i = 0; i < n; i++)
        common_buf_printf(b, "%s\"%" PRId64 "\"", i ? "," : "", m[i].msg_id);
    common_buf_adds(b, "]");
    sbuf_json_key(b, "types");
    common_buf_adds(b, "[");
    for (size_t i = 0; i < n; i++)
        common_buf_printf(b, "%s\"%s\"", i ? "," : "", ev_type_name(types[i]));
    common_buf_adds(b, "]");
    slog_end(s, b);
}

/* "query":{...} with the first value of each name, and "dup_keys":[...] for names that came
   more than once (2.x sends version_code twice). */
void slog_query(struct common_buf *b, const struct query *q)
{
    bool any_dup = false;

    sbuf_json_key(b, "query");
    common_buf_adds(b, "{");
    for (int i = 0; i < q->n; i++) {
        bool seen = false;

        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(q->a[j].k, q->a[i].k) == 0;
        if (seen) {
            any_dup = true;
            continue;
        }
        sbuf_json_kstr(b, q->a[i].k, q->a[i].v);
    }
    common_buf_adds(b, "}");
    sbuf_json_key(b, "keys"); /* every name in the order sent: what a test of order needs */
    common_buf_adds(b, "[");
    for (int i = 0; i < q->n; i++) {
        if (i > 0)
            common_buf_adds(b, ",");
        sbuf_json_str(b, q->a[i].k);
    }
    common_buf_adds(b, "]");
    if (!any_dup)
        return;
    sbuf_json_key(b, "dup_keys");
    common_buf_adds(b, "[");
    for (int i = 0; i < q->n; i++) {
        for (int j = 0; j < i; j++) {
            if (strcmp(q->a[j].k, q->a[i].k) == 0) {
                if (b->p[b->len - 1] != '[')
                    common_buf_adds(b, ",");
                sbuf_json_str(b, q->a[i].k);
                break;
            }
        }
    }
    common_buf_adds(b, "]");
}

/* Headers lws has no token for, which the clients or sign servers use. */
static const char *const custom[] = { "x-api-key",      "x-cookie-header",     "x-jwt-key",
                                      "x-oauth-token",  "sec-fetch-site",      "sec-fetch-mode",
                                      "sec-fetch-dest", "sec-fetch-ua-mobile", "x-test" };

static bool skip_token(int t)
{
    /* the request line, not headers */
    return t == WSI_TOKEN_GET_URI || t == WSI_TOKEN_POST_URI || t == WSI_TOKEN_HTTP_URI_ARGS ||
           t == WSI_TOKEN_OPTIONS_URI || t == WSI_TOKEN_PUT_URI || t == WSI_TOKEN_PATCH_URI ||
           t == WSI_TOKEN_DELETE_URI || t == WSI_TOKEN_HEAD_URI || t == WSI_TOKEN_CONNECT ||
           t == WSI_TOKEN_HTTP1_0 || t == WSI_TOKEN_HTTP || t == WSI_TOKEN_HTTP_COLON_METHOD ||
           t == WSI_TOKEN_HTTP_COLON_PATH || t == WSI_TOKEN_HTTP_COLON_SCHEME ||
           t == WSI_TOKEN_HTTP_COLON_AUTHORITY || t == WSI_TOKEN_HTTP_COLON_STATUS;
}

void slog_headers(struct common_buf *b, struct lws *wsi)
{
    static char val[16384];

    sbuf_json_key(b, "headers");
    common_buf_adds(b, "{");
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        const unsigned char *name = lws_token_to_string((enum lws_token_indexes)t);
        char key[64];
        size_t n;

        if (name == NULL || skip_token(t) ||
            lws_hdr_total_length(wsi, (enum lws_token_indexes)t) <= 0)
            continue;
        if (lws_hdr_copy(wsi, val, sizeof(val), (enum lws_token_indexes)t) < 0)
            continue;
        snprintf(key, sizeof(key), "%s", (const char *)name);
        n = strlen(key);
        if (n > 0 && key[n - 1] == ':')
            key[n - 1] = '\0';
        for (char *k = key; *k; k++)
            *k = (char)tolower((unsigned char)*k);
        sbuf_json_kstr(b, key, val);
    }
    for (size_t i = 0; i < sizeof(custom) / sizeof(custom[0]); i++) {
        char name[64];
        int nl = snprintf(name, sizeof(name), "%s:", custom[i]);

        if (lws_hdr_custom_length(wsi, name, nl) > 0 &&
            lws_hdr_custom_copy(wsi, val, sizeof(val), name, nl) >= 0)
            sbuf_json_kstr(b, custom[i], val);
    }
    common_buf_adds(b, "}");
}

/* The URL arguments, as lws split and URL-decoded them, into buf as "k\0v\0" pairs. */
int query_parse(struct lws *wsi, char *buf, size_t cap, struct query *q)
{
    size_t used = 0;

    q->n = 0;
    for (int i = 0; q->n < SIM_MAXQ && used + 2 < cap; i++) {
        int n = lws_hdr_copy_fragment(wsi, buf + used, (int)(cap - used), WSI_TOKEN_HTTP_URI_ARGS,
                                      i);
        char *eq;

        if (n < 0)
            break;
        eq = strchr(buf + used, '=');
        q->a[q->n].k = buf + used;
        if (eq != NULL) {
            *eq = '\0';
            q->a[q->n].v = eq + 1;
        } else {
            q->a[q->n].v = "";
        }
        q->n++;
        used += (size_t)n + 1;
    }
    return q->n;
}

static int mkdir_p(const char *dir)
{
    char tmp[1200];

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s", dir) >= sizeof(tmp))
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

void dump_frame(struct sim *s, struct room *r, const unsigned char *p, size_t len)
{
    char path[1200];
    FILE *f;

    if (s->dump_dir == NULL)
        return;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", s->dump_dir, r->handle) >= sizeof(path))
        return;
    if (r->dump_n == 0 && mkdir_p(path) != 0)
        return;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s/%06" PRIu32 ".bin", s->dump_dir, r->handle,
                         ++r->dump_n) >= sizeof(path))
        return;
    f = fopen(path, "wb");
    if (f == NULL)
        return;
    fwrite(p, 1, len, f);
    fclose(f);
}
