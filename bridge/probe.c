/** @file probe.c
 * `tiktok2mqtt -c FILE --probe HANDLE`: a diagnosis a user can paste into a bug report. Each
 * step of a connection with its outcome and, when it failed, the fix to try: the room, whether
 * it is live, the sign server (reachable, key accepted, rate-limit headroom as the server
 * counts it), or on the direct path the device (ttwid), the flow taken and why (auto may
 * fall back), the WebSocket handshake, and the first events. The probe borrows the daemon's
 * ttwid_file, so it reuses the daemon's device instead of minting one. Uses the streamer's effective [tiktok] settings (or the defaults);
 * never prints a secret. Exit 0 when events flowed, 1 otherwise.
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "streamer.h"
#include "probe.h"

struct probe {
    int events, connected;
    unsigned frames; /* binary WebSocket messages, heartbeat answers included */
};

/* A quiet room still answers heartbeats; a silent socket sends nothing at all. The events
 * alone cannot tell the two apart, and "a quiet room" was all the probe said of either. */
static void on_raw(const struct tt_raw_frame *f, void *ud)
{
    struct probe *p = ud;
    p->frames += f->source == TT_RAW_WEBSOCKET;
}

static void on_event(const struct tt_event *ev, void *ud)
{
    struct probe *p = ud;
    if (ev->type == TT_EV_CONNECTED) {
        p->connected = 1;
    } else if (ev->type < TT_EV_RAW_DATA && ev->type != TT_EV_NONE) {
        p->events++;
    }
}

static void step(const char *name, int ok, const char *outcome, const char *fix)
{
    printf("  %-13s %s %s\n", name, ok ? "ok  " : "FAIL", outcome);
    if (!ok && fix) {
        printf("  %-13s      try: %s\n", "", fix);
    }
}

/* Which step an error belongs to, and what to try; `c` tells whose 429 it was. */
static const char *fix_for(const tt_client *c, enum tt_err e)
{
    if (e == TT_ERR_RATE_LIMITED && tt_client_rate_limited_by_tiktok(c)) {
        return "TikTok itself answered 429: wait the Retry-After shown; an API key does not "
               "help (it raises the sign server's limits, not TikTok's): fewer connections "
               "from this IP, or another IP";
    }
    switch (e) {
    case TT_ERR_NOT_FOUND:
        return "check the handle: it is the name in tiktok.com/@NAME";
    case TT_ERR_OFFLINE:
        return "nothing is wrong: the streamer is not live now (the bridge waits)";
    case TT_ERR_AGE_RESTRICTED:
        return "an 18+ room: set session_id_file (a logged-in session)";
    case TT_ERR_BLOCKED:
        return "TikTok blocks this IP or region: another network, or a proxy";
    case TT_ERR_RATE_LIMITED:
        return "wait the Retry-After shown, or get an API key (sign_api_key_file)";
    case TT_ERR_SIGN_REFUSED:
        return "check sign_api_key_file (or TIKTOK2MQTT_SIGN_API_KEY) and your plan";
    case TT_ERR_SIGN:
        return "check sign_api_url and that the sign server is reachable";
    case TT_ERR_NO_CURSOR:
        return "the signature was rejected: retry later, or try another sign_flow";
    case TT_ERR_WS_REFUSED:
        return "usually stale connection data: retry; if it persists, report it (on the "
               "direct path: sign_flow = auto falls back to the sign server)";
    case TT_ERR_NO_TTWID:
        return "TikTok gave no ttwid: retry later, raise ttwid_tries, or sign_flow = auto";
    case TT_ERR_DEVICE_BLOCKED:
        return "nothing to do: the next connect mints a new device (the bridge does so)";
    case TT_ERR_STALE:
        return "the socket went silent: the bridge reconnects (stale_timeout_s)";
    case TT_ERR_UNSUPPORTED:
        return "use an http:// proxy for the WebSocket";
    case TT_ERR_TIMEOUT:
        return "check the network, or raise request_timeout_ms / websocket_timeout_ms";
    default:
        return "run with -v and report the lines above";
    }
}

/* "minute 58 of 60 left, hour ...": the sign server's own account (Euler's rate_limits) */
/* Which flow the connect took and why. */
static enum tt_sign_flow flow_step(tt_client *c)
{
    const char *why;
    char out[512];
    enum tt_sign_flow f = tt_client_flow(c, &why);
    snprintf(out, sizeof out, "%s (%s)", tt_sign_flow_name(f), why);
    step("flow", 1, out, NULL);
    return f;
}

/* What stands where the sign server would: the device on the direct path, the session's cookie
 * on the session flow (neither asks a sign server), else the sign server itself. */
static void signature_step(tt_client *c, enum tt_sign_flow flow, int failed, const char *msg,
                           int api_key, enum tt_err rc)
{
    if (flow == TT_SIGN_DIRECT) {
        step("device", !failed, failed ? msg : "a ttwid (lent or minted)", fix_for(c, rc));
    } else if (flow == TT_SIGN_SESSION) {
        step("session", !failed, failed ? msg : "im/fetch answered the session's cookie",
             fix_for(c, rc));
    } else {
        step("sign server", !failed,
             failed    ? msg
             : api_key ? "answered, API key accepted"
                       : "answered (anonymous: set an API key for higher limits)",
             fix_for(c, rc));
    }
}

static void rate_limit_step(tt_client *c)
{
    char *json = NULL, out[256] = "";
    enum tt_err rc = tt_client_sign_limits(c, &json);
    cJSON *doc = json ? cJSON_Parse(json) : NULL;
    int left = 1;
    static const char *const windows[] = { "minute", "hour", "day" };
    for (size_t i = 0; i < 3 && doc; i++) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(doc, windows[i]);
        const cJSON *rem = cJSON_GetObjectItemCaseSensitive(w, "remaining");
        const cJSON *max = cJSON_GetObjectItemCaseSensitive(w, "max");
        if (cJSON_IsNumber(rem) && cJSON_IsNumber(max)) {
            size_t n = strlen(out);
            snprintf(out + n, sizeof out - n, "%s%s %.0f of %.0f left", n ? ", " : "", windows[i],
                     rem->valuedouble, max->valuedouble);
            left = left && rem->valuedouble > 0;
        }
    }
    if (!out[0]) { /* a signer without the endpoint: nothing to say, nothing wrong */
        snprintf(out, sizeof out, "not reported (%s)", rc ? tt_client_errmsg(c) : "no figures");
    }
    step("rate limit", left, out, "wait for the reset, or a key or plan with higher limits");
    cJSON_Delete(doc);
    tt_free(json);
}

int bridge_probe(const struct bridge_cfg *cfg, const char *handle, int seconds)
{
    const struct bridge_streamer *bs = bridge_cfg_find_streamer(cfg, handle);
    const struct bridge_tiktok *t = bs ? &bs->tt : &cfg->tiktok;
    struct tt_options o;
    struct probe p = { 0 };
    struct tt_devices *devices = NULL;
    tt_client *c;
    char *info = NULL, msg[640];
    if (bridge_cfg_tt_options(t, &o, msg, sizeof msg)) {
        step("options", 0, msg, "check the [tiktok] keys");
        return 1;
    }
    printf("probe @%s (%s settings; sign flow %s, sign server %s, API key %s)\n", handle,
           bs ? "its" : "the [tiktok]", tt_sign_flow_name(t->sign_flow), t->sign_api_url,
           o.sign_api_key ? "set" : "not set");
    if (tt_devices_new(&devices, cfg->bridge.ttwid_file, 0)) {
        return 1;
    }
    o.devices = devices;
    if (tt_client_new(&c, handle, &o, on_event, &p)) {
        step("handle", 0, "not a TikTok handle", "letters, digits, '_' and '.'");
        tt_devices_free(devices);
        return 1;
    }
    tt_client_set_raw_hook(c, on_raw, &p);
    enum tt_err rc = tt_client_room_info(c, &info);
    struct tt_state st;
    tt_client_state(c, &st);
    step("room", st.room_id[0] != 0, st.room_id[0] ? st.room_id : tt_client_errmsg(c),
         fix_for(c, rc));
    if (st.room_id[0]) {
        step("live", !rc, rc ? tt_client_errmsg(c) : "yes", fix_for(c, rc));
    }
    tt_free(info);
    if (!rc) {
        rc = tt_client_connect(c);
        snprintf(msg, sizeof msg, "%s", rc ? tt_client_errmsg(c) : "connection data received");
        enum tt_sign_flow flow = flow_step(c);
        /* TikTok's own 429 on im/fetch (legacy, session): the sign server did its part */
        int fetch_limited = rc == TT_ERR_RATE_LIMITED && tt_client_rate_limited_by_tiktok(c);
        int sign_failed = (rc == TT_ERR_RATE_LIMITED && !fetch_limited) ||
                          rc == TT_ERR_SIGN_REFUSED || rc == TT_ERR_SIGN ||
                          rc == TT_ERR_NO_CURSOR || rc == TT_ERR_NO_TTWID;
        signature_step(c, flow, sign_failed, msg, o.sign_api_key != NULL, rc);
        if (flow == TT_SIGN_EULER) { /* Euler's rate limits */
            rate_limit_step(c);
        }
        tt_client_state(c, &st);
        if (fetch_limited) {
            step("im/fetch", 0, msg, fix_for(c, rc));
        } else if (!sign_failed) {
            step("websocket", !rc,
                 rc                         ? msg
                 : st.upgraded_to_websocket ? "connected"
                                            : "polling",
                 fix_for(c, rc));
        }
    }
    if (!rc) {
        time_t start = time(NULL), end = start + seconds;
        enum tt_err why = TT_OK;
        while (time(NULL) < end && (why = tt_client_service(c, 250)) == TT_OK) {
        }
        int n = snprintf(msg, sizeof msg, "%d in %d s", p.events, (int)(time(NULL) - start));
        if (why && why != TT_ERR_OFFLINE) { /* the connection ended: say why */
            snprintf(msg + n, sizeof msg - (size_t)n, ": %s", tt_client_errmsg(c));
            step("events", 0, msg, fix_for(c, why));
        } else if (!p.events && st.upgraded_to_websocket && !p.frames) {
            snprintf(msg + n, sizeof msg - (size_t)n,
                     ", and no frame at all (not even a "
                     "heartbeat answer)");
            step("events", 0, msg, fix_for(c, TT_ERR_STALE));
        } else {
            step("events", p.events > 0, msg,
                 "a quiet room (its heartbeats are answered), or run longer");
        }
    }
    tt_client_free(c);
    tt_devices_free(devices);
    return !rc && p.events > 0 ? 0 : 1;
}
