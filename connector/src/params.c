/** @file params.c
 * Query parameters. The values are those the web clients send (docs/protocol.md §3.1 for
 * HTTP, §5.1 for the WebSocket): TikTok and the sign servers see a browser, not us.
 *
 * SPDX-License-Identifier: MIT
 */
#include "alloc.h"
#include "params.h"

void tt__params_init(struct tt_params *p)
{
    p->n = 0;
}

void tt__params_free(struct tt_params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        tt__free(p->k[i]);
        tt__free(p->v[i]);
    }
    p->n = 0;
}

static enum tt_err set_n(struct tt_params *p, const char *k, size_t kn, const char *v, size_t vn)
{
    char *nv = tt__strndup(v, vn);
    if (!nv) {
        return TT_ERR_NOMEM;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (strlen(p->k[i]) == kn && !memcmp(p->k[i], k, kn)) {
            tt__free(p->v[i]);
            p->v[i] = nv;
            return TT_OK;
        }
    }
    if (p->n == TT_PARAMS_MAX) {
        tt__free(nv);
        return TT_ERR_TOO_LARGE;
    }
    p->k[p->n] = tt__strndup(k, kn);
    if (!p->k[p->n]) {
        tt__free(nv);
        return TT_ERR_NOMEM;
    }
    p->v[p->n++] = nv;
    return TT_OK;
}

enum tt_err tt__params_set(struct tt_params *p, const char *k, const char *v)
{
    return set_n(p, k, strlen(k), v, strlen(v));
}

static int hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decode [s, s+n) into out (at most n bytes); returns the length. */
static size_t url_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out[o++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    return o;
}

enum tt_err tt__params_merge(struct tt_params *p, const char *kv)
{
    char k[256], v[1024];
    while (kv && *kv) {
        size_t len = strcspn(kv, "&");
        const char *eq = memchr(kv, '=', len);
        size_t kl = eq ? (size_t)(eq - kv) : len, vl = eq ? len - kl - 1 : 0;
        if (kl && kl < sizeof k && vl < sizeof v) {
            kl = url_decode(kv, kl, k);
            vl = eq ? url_decode(eq + 1, vl, v) : 0;
            enum tt_err rc = set_n(p, k, kl, v, vl);
            if (rc) {
                return rc;
            }
        }
        kv += len + (kv[len] == '&');
    }
    return TT_OK;
}

/* clang-format off */
static const char *const http_defaults[][2] = {
    { "aid", "1988" },                  { "app_language", "en-US" },
    { "app_name", "tiktok_web" },       { "browser_language", "en" },
    { "browser_name", "Mozilla" },      { "browser_online", "true" },
    { "browser_platform", "Win32" },    { "cookie_enabled", "true" },
    { "device_platform", "web_pc" },    { "focus_state", "true" },
    { "from_page", "user" },            { "history_len", "4" },
    { "is_fullscreen", "false" },       { "is_page_visible", "true" },
    { "did_rule", "3" },                { "fetch_rule", "1" },
    { "last_rtt", "0" },                { "live_id", "12" },
    { "resp_content_type", "protobuf" }, { "screen_height", "1080" },
    { "screen_width", "1920" },         { "tz_name", "Europe/Berlin" },
    { "referer", "https://www.tiktok.com/" }, { "root_referer", "https://www.tiktok.com/" },
    { "webcast_sdk_version", "1.3.0" }, { "update_version_code", "1.3.0" },
    { "channel", "tiktok_web" },        { "data_collection_enabled", "true" },
    { "os", "windows" },                { "priority_region", "DE" },
    { "region", "DE" },                 { "user_is_login", "false" },
    { "webcast_language", "en" },       { "host", "https://webcast.tiktok.com" },
};

static const char *const ws_defaults[][2] = {
    { "version_code", "180800" },       { "aid", "1988" },
    { "app_language", "en" },           { "app_name", "tiktok_web" },
    { "browser_language", "en-US" },    { "browser_name", "Mozilla" },
    { "browser_online", "true" },       { "browser_platform", "Win32" },
    { "cookie_enabled", "true" },       { "device_platform", "web" },
    { "identity", "audience" },         { "live_id", "12" },
    { "ws_direct", "0" },               { "sup_ws_ds_opt", "1" },
    { "update_version_code", "2.0.0" }, { "did_rule", "3" },
    { "heartbeat_duration", "0" },      { "resp_content_type", "protobuf" },
    { "history_comment_count", "6" },   { "client_enter", "1" },
    { "screen_height", "1080" },        { "screen_width", "1920" },
    { "tz_name", "Europe/Berlin" },     { "webcast_language", "en" },
    { "last_rtt", "150" },
};
/* clang-format on */

static enum tt_err set_table(struct tt_params *p, const char *const (*t)[2], size_t n,
                             const char *ua)
{
    enum tt_err rc = TT_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = tt__params_set(p, t[i][0], t[i][1]);
    }
    /* browser_version is the user agent after "Mozilla/", as the web client derives it */
    const char *slash = strchr(ua, '/');
    if (!rc) {
        rc = tt__params_set(p, "browser_version", slash ? slash + 1 : ua);
    }
    return rc;
}

enum tt_err tt__params_defaults(struct tt_params *p, const char *ua)
{
    return set_table(p, http_defaults, sizeof http_defaults / sizeof http_defaults[0], ua);
}

enum tt_err tt__params_ws_defaults(struct tt_params *p, const char *ua)
{
    return set_table(p, ws_defaults, sizeof ws_defaults / sizeof ws_defaults[0], ua);
}

void tt__url_encode(struct common_buf *b, const char *s)
{
    static const char hexd[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            common_buf_addc(b, (char)c);
        } else {
            char e[3] = { '%', hexd[c >> 4], hexd[c & 15] };
            common_buf_add(b, e, 3);
        }
    }
}

void tt__params_encode(const struct tt_params *p, struct common_buf *b)
{
    for (size_t i = 0; i < p->n; i++) {
        if (i) {
            common_buf_addc(b, '&');
        }
        tt__url_encode(b, p->k[i]);
        common_buf_addc(b, '=');
        tt__url_encode(b, p->v[i]);
    }
}
