/** @file device.c
 * The direct edge (docs/protocol.md "The direct path"): the device tokens a client mints and
 * the push WebSocket's check of them.
 *
 *   GET /            the home page sets a `ttwid` cookie, a token this simulator remembers
 *                    (the last SIM_DEVICES of them); the sim line's `ttwid_withhold` makes
 *                    the first N answers come without it, as TikTok serves it intermittently;
 *   ws_direct=1      an upgrade without a sign server's data must carry a known, unblocked
 *                    ttwid in its Cookie header, else it is refused the way TikTok refuses a
 *                    blocked device: HTTP 200 with `handshake-status: 415` and
 *                    `handshake-msg: DEVICE_BLOCKED` (what TikTok answers a missing or unknown
 *                    token is not known; a client reacts to all three alike: a new device);
 *   device_blocked   a streamer's fault: its first N direct upgrades with a good token block
 *                    that token (for every room), and are refused;
 *   direct_handshake a streamer's fault: direct upgrades are refused with this status and
 *                    message whatever the token (signed upgrades are not).
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "sim.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static struct sim_device *find(struct sim *s, const char *token)
{
    uint32_t n = s->n_devices < SIM_DEVICES ? s->n_devices : SIM_DEVICES;

    for (uint32_t i = 0; i < n; i++)
        if (strcmp(s->devices[i].ttwid, token) == 0)
            return &s->devices[i];
    return NULL;
}

/* "1|<43 base64url chars>|<unix s>|<64 hex>", with its '|' percent-encoded as TikTok's
   Set-Cookie has it; a client sends it back verbatim. */
static struct sim_device *mint(struct sim *s)
{
    struct sim_device *d;
    char *p;

    if (s->devices == NULL) {
        s->devices = calloc(SIM_DEVICES, sizeof(*s->devices));
        if (s->devices == NULL)
            return NULL;
    }
    d = &s->devices[s->n_devices++ % SIM_DEVICES]; /* the oldest is forgotten */
    memset(d, 0, sizeof(*d));
    p = d->ttwid;
    p += sprintf(p, "1%%7C");
    for (int i = 0; i < 43; i++)
        *p++ = b64url[common_splitmix64(&s->rng) % 64];
    p += sprintf(p, "%%7C%" PRId64 "%%7C", common_wall_ms() / 1000);
    for (int i = 0; i < 64; i++)
        *p++ = "0123456789abcdef"[common_splitmix64(&s->rng) % 16];
    *p = '\0';
    return d;
}

void device_home(struct sim *s, struct reply *rp)
{
    char cookie[sizeof(s->devices[0].ttwid) + 96];
    struct sim_device *d;

    rp->ctype = "text/html; charset=utf-8";
    common_buf_adds(&rp->body, "<!DOCTYPE html><html><head><title>TikTok - Make Your Day</title>"
                               "</head><body><div id=\"app\"></div></body></html>");
    if (s->ttwid_withheld < s->ttwid_withhold) {
        s->ttwid_withheld++;
        slog_fault(s, NULL, "ttwid withheld");
        return;
    }
    d = mint(s);
    if (d == NULL)
        return;
    snprintf(cookie, sizeof(cookie),
             "ttwid=%s; Path=/; Domain=.tiktok.com; Max-Age=31536000; HttpOnly; Secure", d->ttwid);
    reply_header(rp, "set-cookie", cookie);
    rp->ttwid = d->ttwid;
}

/* The ttwid of a Cookie header ("a=1; ttwid=X; b=2") into out; false when there is none. */
static bool cookie_ttwid(struct lws *wsi, char *out, size_t cap)
{
    static char hdr[16384];
    const char *p;
    size_t n;

    if (lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_COOKIE) <= 0)
        return false;
    for (p = hdr; (p = strstr(p, "ttwid=")) != NULL; p++)
        if (p == hdr || p[-1] == ' ' || p[-1] == ';')
            break;
    if (p == NULL)
        return false;
    p += 6;
    n = strcspn(p, "; ");
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

bool device_refuse(struct sim *s, struct lws *wsi, struct room *r, struct refusal *out)
{
    struct sim_device *d;
    bool has;

    memset(out, 0, sizeof(*out));
    has = cookie_ttwid(wsi, out->ttwid, sizeof(out->ttwid));

    if (r != NULL && r->f.direct_handshake_status != 0) {
        out->status = r->f.direct_handshake_status;
        out->msg = r->f.direct_handshake_msg ? r->f.direct_handshake_msg : "";
        out->why = "direct_handshake fault";
        return true;
    }
    if (!has)
        out->why = "missing ttwid";
    else if ((d = find(s, out->ttwid)) == NULL)
        out->why = "unknown ttwid";
    else if (d->blocked)
        out->why = "blocked ttwid";
    else if (r != NULL && r->devices_blocked < (uint32_t)r->f.device_blocked) {
        r->devices_blocked++;
        d->blocked = true;
        out->why = "device_blocked fault";
    }
    if (out->why == NULL)
        return false;
    out->status = 415;
    out->msg = "DEVICE_BLOCKED";
    return true;
}
