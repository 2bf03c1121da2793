/** @file pages.c
 * Every HTTP endpoint of the simulator, on TikTok's and the sign servers' real paths
 * (docs/protocol.md §3-§4; what the real clients request: tests/oracle/client.js runs them):
 *
 *   GET  /@{handle}/live                 live page: SIGI_STATE script (2.x) and "roomId" (1.x)
 *   GET  /api-live/user/room/            ?uniqueId=        room id and live status (JSON)
 *   GET  /webcast/room/info/             ?room_id=         room info (JSON, status 2 or 4)
 *   GET  /webcast/room/check_alive/      ?room_ids=a,b     liveness (JSON)
 *   GET  /webcast/gift/list/                               the gift table (JSON)
 *   GET  /webcast/im/fetch/              ?room_id=         initial fetch (protobuf), signed
 *   GET  /webcast/sign_url               ?url=             1.x sign server (JSON)
 *   POST /webcast/sign_url, /tiktok/sign_url               2.x URL signer (JSON body)
 *   GET  /webcast/rooms/{room_id}/connect                  2.x sign server: fetch result
 *   GET  /webcast/fetch[/]               ?room_id=         same, older path
 *   GET  /webcast/anchors/{handle}/room_id                 2.x Euler room-id fallback (JSON)
 *   GET  /webcast/rate_limits                              sign server limits (JSON)
 *   GET  /sim/img/{kind}/{name}                            placeholder images (SVG)
 *   GET  /sim/status                                       the simulator's rooms (JSON)
 *
 * Each answer applies the faults its room asks for (README "Faults").
 *
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libwebsockets.h>

#include "gifts.h"
#include "sim.h"

#define SIGN_UA                                                                         \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " \
    "Chrome/120.0.0.0 Safari/537.36"

const char *query_get(const struct query *q, const char *k)
{
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->a[i].k, k) == 0)
            return q->a[i].v;
    return NULL;
}

void reply_header(struct reply *rp, const char *name, const char *value)
{
    common_buf_add(&rp->hdr, name, strlen(name) + 1);
    common_buf_add(&rp->hdr, value, strlen(value) + 1);
}

static void json_reply(struct reply *rp, int status)
{
    rp->status = status;
    rp->ctype = "application/json; charset=utf-8";
}

/* {"code":N,"message":"..."} with the HTTP status N: the sign servers' error shape. */
static void sign_error(struct reply *rp, int status, const char *msg)
{
    json_reply(rp, status);
    common_buf_adds(&rp->body, "{");
    sbuf_json_kint(&rp->body, "code", status);
    sbuf_json_kstr(&rp->body, "message", msg);
    common_buf_adds(&rp->body, "}");
}

static void not_found(struct reply *rp, const char *path)
{
    json_reply(rp, 404);
    common_buf_adds(&rp->body, "{");
    sbuf_json_kint(&rp->body, "status_code", 404);
    sbuf_json_kstr(&rp->body, "message", "no such endpoint in tiktok-live-sim");
    sbuf_json_kstr(&rp->body, "path", path);
    common_buf_adds(&rp->body, "}");
}

static struct room *room_param(struct sim *s, const struct query *q, const char *k, uint32_t *sess)
{
    const char *v = query_get(q, k);

    *sess = 0;
    return v != NULL ? sim_room_by_id(s, strtoll(v, NULL, 10), sess) : NULL;
}

static bool room_live(const struct room *r, uint32_t sess)
{
    return r != NULL && r->state == ROOM_LIVE && sess == r->cur;
}

/* The room id a page shows for a handle: the current session's, live or not (TikTok keeps
   the last room id of an offline streamer). */
static const struct sim_user *host_of(struct sim *s, const struct room *r)
{
    return &s->users[r->host];
}

/* key:{"url_list":[the image of `kind` and `id` in two formats]  (the object left open) */
static void json_image_urls(struct sim *s, struct common_buf *b, const char *key, const char *kind,
                            int64_t id, const char *ext1, const char *ext2)
{
    char url[256];

    sbuf_json_key(b, key);
    common_buf_adds(b, "{\"url_list\":[");
    enc_image_urls(s, url, sizeof(url), kind, id, ext1);
    sbuf_json_str(b, url);
    common_buf_adds(b, ",");
    enc_image_urls(s, url, sizeof(url), kind, id, ext2);
    sbuf_json_str(b, url);
    common_buf_adds(b, "]");
}

static void json_avatar(struct sim *s, struct common_buf *b, const char *key, int64_t id)
{
    json_image_urls(s, b, key, "avatar", id, "~c5_100x100.webp", "~c5_100x100.jpeg");
    common_buf_printf(b, ",\"uri\":\"100x100/sim-avatar/%" PRId64 "\"}", id);
}

/* ---- the web host ---- */

static void sigi_user(struct sim *s, struct common_buf *b, const struct room *r, bool live)
{
    const struct sim_user *u = host_of(s, r);

    sbuf_json_key(b, "user");
    common_buf_adds(b, "{");
    sbuf_json_kid(b, "id", u->id);
    sbuf_json_kstr(b, "uniqueId", u->handle);
    sbuf_json_kstr(b, "nickname", u->nickname);
    sbuf_json_kstr(b, "secUid", u->sec_uid);
    sbuf_json_kstr(b, "signature", u->bio ? u->bio : "");
    sbuf_json_key(b, "avatarThumb");
    common_buf_printf(b, "\"%s/sim/img/avatar/%" PRId64 "~c5_100x100.webp\"", s->http_base, u->id);
    sbuf_json_key(b, "roomId");
    if (live)
        common_buf_printf(b, "\"%" PRId64 "\"", room_cur_id(r));
    else
        common_buf_adds(b, "\"\"");
    sbuf_json_kint(b, "status", live ? 2 : 4);
    sbuf_json_kint(b, "followerCount", u->followers);
    common_buf_adds(b, "}");
}

static void sigi_state(struct sim *s, struct common_buf *b, const struct room *r, bool live)
{
    common_buf_adds(b, "{\"AppContext\":{\"appContext\":{\"language\":\"en\",\"region\":\"DE\"}}");
    if (r != NULL) {
        common_buf_adds(b, ",\"LiveRoom\":{\"liveRoomUserInfo\":{");
        sigi_user(s, b, r, live);
        common_buf_adds(b, ",\"liveRoom\":{");
        sbuf_json_kstr(b, "title", r->title);
        sbuf_json_kint(b, "status", live ? 2 : 4);
        sbuf_json_kint(b, "startTime", live ? r->live_since_s : 0);
        sbuf_json_key(b, "liveRoomStats");
        common_buf_printf(b, "{\"userCount\":%" PRId64 ",\"enterCount\":%" PRId64 "}", r->viewers,
                          r->viewers * 3);
        common_buf_adds(b, "}}}");
    }
    common_buf_adds(b, "}");
}

static void captcha_page(struct reply *rp)
{
    rp->status = 200;
    rp->ctype = "text/html; charset=utf-8";
    /* no og:url (1.x: "blocked"), a SIGI_STATE tag whose text is not JSON (2.x: captcha) */
    common_buf_adds(
            &rp->body,
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Security Check</title>"
            "</head><body><div id=\"captcha-verify-container\">Verify to continue</div>"
            "<script id=\"SIGI_STATE\" type=\"application/json\">{verify:captcha}</script>"
            "</body></html>");
}

/* A handle as it may appear in the page's markup: TikTok handles are letters, digits, '.'
   and '_'; anything else a client asked for is replaced. */
static void sbuf_handle(struct common_buf *b, const char *h)
{
    for (; *h; h++) {
        char c = *h;

        common_buf_add(b, isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-' ? &c : "_",
                       1);
    }
}

static void live_page(struct sim *s, const char *handle, struct reply *rp)
{
    struct room *r = sim_room_by_handle(s, handle);
    bool exists = r != NULL && r->state != ROOM_MISSING;
    bool live = exists && r->state == ROOM_LIVE;
    struct common_buf *b = &rp->body;

    rp->room = r ? r->handle : NULL;
    if (r != NULL && r->f.blocked) {
        captcha_page(rp);
        return;
    }
    rp->status = 200;
    rp->ctype = "text/html; charset=utf-8";
    common_buf_adds(b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    common_buf_adds(b, exists ? "LIVE | TikTok" : "Couldn't find this account | TikTok");
    common_buf_adds(b, "</title><meta property=\"og:url\" content=\"https://www.tiktok.com/@");
    sbuf_handle(b, handle);
    common_buf_adds(b, "/live\">");
    if (live)
        common_buf_printf(b,
                          "<link rel=\"alternate\" href=\"snssdk1233://live?room_id=%" PRId64 "\">",
                          room_cur_id(r));
    common_buf_adds(b, "</head><body><div id=\"app\"></div>"
                       "<script id=\"SIGI_STATE\" type=\"application/json\">");
    sigi_state(s, b, exists ? r : NULL, live);
    common_buf_adds(b, "</script></body></html>");
}

static void api_live(struct sim *s, const struct query *q, struct reply *rp)
{
    const char *handle = query_get(q, "uniqueId");
    struct room *r = handle ? sim_room_by_handle(s, handle) : NULL;
    struct common_buf *b = &rp->body;
    bool live;

    rp->room = r ? r->handle : NULL;
    if (r != NULL && r->f.blocked) {
        captcha_page(rp);
        rp->status = 403;
        return;
    }
    json_reply(rp, 200);
    if (r == NULL || r->state == ROOM_MISSING) {
        common_buf_adds(b, "{\"data\":{},\"extra\":{},\"message\":\"user_not_found\","
                           "\"statusCode\":19881007}");
        return;
    }
    live = r->state == ROOM_LIVE;
    common_buf_adds(b, "{\"data\":{");
    sbuf_json_key(b, "user");
    common_buf_adds(b, "{");
    sbuf_json_kid(b, "id", host_of(s, r)->id);
    sbuf_json_kstr(b, "uniqueId", host_of(s, r)->handle);
    sbuf_json_kstr(b, "nickname", host_of(s, r)->nickname);
    sbuf_json_kstr(b, "secUid", host_of(s, r)->sec_uid);
    /* offline: the last room id, with status 4, as TikTok answers */
    sbuf_json_kid(b, "roomId", room_cur_id(r));
    sbuf_json_kint(b, "status", live ? 2 : 4);
    common_buf_adds(b, "},\"liveRoom\":{");
    sbuf_json_kstr(b, "title", r->title);
    sbuf_json_kint(b, "status", live ? 2 : 4);
    sbuf_json_kint(b, "startTime", live ? r->live_since_s : 0);
    common_buf_adds(b, "}},\"extra\":{},\"message\":\"\",\"statusCode\":0}");
}

/* ---- the webcast host ---- */

static void room_info_data(struct sim *s, struct common_buf *b, const struct room *r, uint32_t sess)
{
    const struct sim_user *u = host_of(s, r);
    int64_t rid = r->sess[sess].room_id;
    bool live = room_live(r, sess);

    common_buf_printf(b, "{\"id\":%" PRId64, rid);
    sbuf_json_kid(b, "id_str", rid);
    sbuf_json_kint(b, "status", live ? 2 : 4);
    sbuf_json_kstr(b, "title", r->title);
    sbuf_json_kint(b, "user_count", live ? r->viewers : 0);
    sbuf_json_kint(b, "like_count", r->likes);
    sbuf_json_kint(b, "create_time", r->live_since_s);
    if (!live)
        sbuf_json_kint(b, "finish_time", common_wall_ms() / 1000);
    common_buf_printf(b, ",\"owner_user_id\":%" PRId64, u->id);
    common_buf_adds(b, ",\"owner\":{");
    common_buf_printf(b, "\"id\":%" PRId64, u->id);
    sbuf_json_kid(b, "id_str", u->id);
    sbuf_json_kstr(b, "display_id", u->handle);
    sbuf_json_kstr(b, "nickname", u->nickname);
    sbuf_json_kstr(b, "sec_uid", u->sec_uid);
    sbuf_json_kstr(b, "bio_description", u->bio ? u->bio : "");
    json_avatar(s, b, "avatar_thumb", u->id);
    common_buf_printf(b,
                      ",\"follow_info\":{\"follower_count\":%" PRId64
                      ",\"following_count\":%" PRId64 ",\"follow_status\":0}}",
                      u->followers, u->following);
    common_buf_printf(b,
                      ",\"stats\":{\"total_user\":%" PRId64 ",\"like_count\":%" PRId64
                      ",\"follow_count\":0,\"share_count\":0}",
                      r->viewers * 3, r->likes);
    common_buf_printf(
            b,
            ",\"stream_url\":{\"hls_pull_url\":\"%s/sim/stream/%" PRId64 ".m3u8\","
            "\"rtmp_pull_url\":\"\",\"flv_pull_url\":{\"FULL_HD1\":\"%s/sim/stream/%" PRId64
            ".flv\"}}",
            s->http_base, rid, s->http_base, rid);
    common_buf_adds(b, "}");
}

static void room_info(struct sim *s, const struct query *q, struct reply *rp)
{
    uint32_t sess;
    struct room *r = room_param(s, q, "room_id", &sess);
    struct common_buf *b = &rp->body;

    json_reply(rp, 200);
    rp->room = r ? r->handle : NULL;
    if (r != NULL && r->f.blocked) {
        common_buf_adds(b, "{\"data\":{\"prompts\":\"\"},\"status_code\":4003110}");
    } else if (r != NULL && r->f.age_restricted) {
        common_buf_adds(b, "{\"data\":{\"message\":\"Request params error\","
                           "\"prompts\":\"Request params error\"},\"status_code\":10011}");
    } else if (r == NULL || r->state == ROOM_MISSING) {
        common_buf_adds(b, "{\"data\":{\"message\":\"room does not exist\","
                           "\"prompts\":\"room does not exist\"},\"status_code\":30003}");
    } else if (r->f.json_depth > 0) { /* a hostile answer: data nested json_depth deep */
        common_buf_adds(b, "{\"data\":");
        for (int i = 0; i < r->f.json_depth; i++)
            common_buf_adds(b, "[");
        for (int i = 0; i < r->f.json_depth; i++)
            common_buf_adds(b, "]");
        common_buf_adds(b, ",\"status_code\":0}");
    } else {
        common_buf_adds(b, "{\"data\":");
        room_info_data(s, b, r, sess);
        common_buf_printf(b, ",\"extra\":{\"now\":%" PRId64 "},\"status_code\":0}",
                          common_wall_ms());
    }
}

static void check_alive(struct sim *s, const struct query *q, struct reply *rp)
{
    const char *ids = query_get(q, "room_ids");
    struct common_buf *b = &rp->body;
    char tmp[1024];
    char *save = NULL;

    json_reply(rp, 200);
    snprintf(tmp, sizeof(tmp), "%s", ids ? ids : "");
    common_buf_adds(b, "{\"data\":[");
    for (char *t = strtok_r(tmp, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        uint32_t sess = 0;
        int64_t id = strtoll(t, NULL, 10);
        struct room *r = sim_room_by_id(s, id, &sess);

        common_buf_adds(b, b->p[b->len - 1] == '[' ? "{" : ",{");
        sbuf_json_kbool(b, "alive", room_live(r, sess));
        common_buf_printf(b, ",\"room_id\":%" PRId64, id);
        sbuf_json_kid(b, "room_id_str", id);
        common_buf_adds(b, "}");
    }
    common_buf_printf(b, "],\"extra\":{\"now\":%" PRId64 "},\"status_code\":0}", common_wall_ms());
}

static void json_gift_image(struct sim *s, struct common_buf *b, const char *key, int64_t id)
{
    json_image_urls(s, b, key, "gift", id, "~tplv-obj.webp", ".png");
    common_buf_printf(b, ",\"uri\":\"sim-gift/%" PRId64 "\",\"avg_color\":\"#FAE6DC\"}", id);
}

/* --gift-list-kb: TikTok's list is far longer than our table (133 gifts, about 250 KB, in a
   2023 capture), and a client keeps it; filler gifts (never sent in events) make the answer
   that size for memory measurements. */
static void gift_list_filler(struct sim *s, struct common_buf *b)
{
    size_t want = (size_t)s->gift_list_kb * 1024;
    for (int64_t id = 900000; b->len < want && !b->err; id++) {
        common_buf_adds(b, ",{");
        sbuf_json_kint(b, "id", id);
        common_buf_printf(b, ",\"name\":\"Filler %" PRId64 "\",\"describe\":\"sent Filler\"", id);
        sbuf_json_kint(b, "diamond_count", 1 + id % 100);
        sbuf_json_kint(b, "type", 2);
        sbuf_json_kbool(b, "combo", false);
        sbuf_json_kint(b, "duration", 1000);
        json_gift_image(s, b, "icon", id);
        json_gift_image(s, b, "image", id);
        common_buf_adds(b, "}");
    }
}

static void gift_list(struct sim *s, struct reply *rp)
{
    struct common_buf *b = &rp->body;

    json_reply(rp, 200);
    common_buf_adds(b, "{\"data\":{\"doodle_templates\":[],\"gifts\":[");
    for (size_t i = 0; i < sim_n_gifts; i++) {
        const struct gift *g = &sim_gifts[i];

        common_buf_adds(b, i ? ",{" : "{");
        sbuf_json_kint(b, "id", g->id);
        sbuf_json_kstr(b, "name", g->name);
        sbuf_json_key(b, "describe");
        common_buf_printf(b, "\"sent %s\"", g->name);
        sbuf_json_kint(b, "diamond_count", g->diamonds);
        sbuf_json_kint(b, "type", g->type);
        sbuf_json_kbool(b, "combo", g->type == 1);
        sbuf_json_kint(b, "duration", 1000);
        sbuf_json_kbool(b, "is_displayed_on_panel", true);
        json_gift_image(s, b, "icon", g->id);
        json_gift_image(s, b, "image", g->id);
        common_buf_adds(b, "}");
    }
    gift_list_filler(s, b);
    common_buf_printf(b, "]},\"extra\":{\"now\":%" PRId64 "},\"status_code\":0}", common_wall_ms());
}

/* The first im/fetch of a 1.x client carries the sign server's parameters; without them (and
   without a logged-in session cookie) TikTok answers 200 with no cursor. */
static bool signed_request(struct lws *wsi, const struct query *q)
{
    char cookie[2048];

    if (query_get(q, "X-Bogus") != NULL || query_get(q, "msToken") != NULL)
        return true;
    if (lws_hdr_copy(wsi, cookie, sizeof(cookie), WSI_TOKEN_HTTP_COOKIE) > 0 &&
        strstr(cookie, "sessionid=") != NULL)
        return true;
    return false;
}

/* A cursor this room issued in its current session ("<ms>_<room id>_<seq>_..."): its seq. */
static bool our_cursor(const struct room *r, const char *cur, uint64_t *seq)
{
    char *e;
    unsigned long long v;

    if (cur == NULL || *cur == '\0' || r->rp != NULL)
        return false; /* a replay has no message numbers: no polling */
    if (r->state != ROOM_LIVE && r->state != ROOM_ENDED)
        return false;
    (void)strtoll(cur, &e, 10);
    if (*e != '_' || strtoll(e + 1, &e, 10) != room_cur_id(r) || *e != '_')
        return false;
    v = strtoull(e + 1, &e, 10);
    if (*e != '_' || v > r->poll_seq)
        return false;
    *seq = v;
    return true;
}

/* TikTok's own refusal of an im/fetch: `status` with a JSON error and Retry-After. */
static void fetch_refused(struct sim *s, struct room *r, struct reply *rp, int status,
                          const char *fault)
{
    char ra[16];

    json_reply(rp, status);
    snprintf(ra, sizeof(ra), "%d", r->f.retry_after ? r->f.retry_after : 30);
    reply_header(rp, "retry-after", ra);
    common_buf_printf(&rp->body,
                      "{\"error\":\"Rate limited by TikTok (HTTP %d)\",\"status_code\":%d}", status,
                      status);
    slog_fault(s, r, fault);
}

/* Without a cursor of this room: the backlog and a cursor (a 1.x client's first fetch). With
   one: request polling, the messages emitted since that cursor. Only the first fetch is
   signed; a poll still gets what is left after the stream ended (the end message). */
static void im_fetch(struct sim *s, struct lws *wsi, const struct query *q, struct reply *rp)
{
    uint32_t sess;
    struct room *r = room_param(s, q, "room_id", &sess);
    unsigned char *body;
    size_t len = 0;
    uint64_t after = 0;

    rp->room = r ? r->handle : NULL;
    if (r != NULL && r->f.fetch_status != 0) {
        fetch_refused(s, r, rp, r->f.fetch_status, "im/fetch status");
        return;
    }
    rp->status = 200;
    rp->ctype = "application/protobuf";
    if (r != NULL && our_cursor(r, query_get(q, "cursor"), &after)) {
        if (r->polls_limited < (uint32_t)r->f.poll_limited) {
            /* a refused poll does not start the timeline: it waits for a poll let through */
            r->polls_limited++;
            fetch_refused(s, r, rp, 429, "polling im/fetch rate limited");
            return;
        }
        room_poll_open(r);
        room_session_start(s, r); /* a poller starts the timeline, as a WebSocket does */
        body = fetch_poll(s, r, after, &len);
        if (body != NULL && len > 0 && r->polls_truncated < (uint32_t)r->f.poll_truncated) {
            /* the last field left incomplete: the answer cannot be decoded at all, and the
               cursor stays where it was, so the next poll asks for the same messages */
            r->polls_truncated++;
            len--;
            slog_fault(s, r, "im/fetch answer cut short");
        }
        rp->fetch_answer = body != NULL;
        if (body != NULL)
            common_buf_add(&rp->body, body, len);
        free(body);
        return;
    }
    if (r == NULL || (s->require_signature && !signed_request(wsi, q)))
        return; /* empty body: a fetch result without a cursor */
    if (r->state != ROOM_LIVE)
        return;
    if (r->rp == NULL && !r->load)
        room_poll_open(r); /* from now on the room keeps its messages for a poll (load rooms:
                              from their first poll, not to cost every WebSocket client) */
    body = fetch_result(s, r, true, &len);
    rp->fetch_answer = body != NULL;
    if (body != NULL)
        common_buf_add(&rp->body, body, len);
    free(body);
}

/* ---- the sign servers ---- */

static bool api_key_ok(struct sim *s, struct lws *wsi, const struct query *q)
{
    char key[256];
    const char *qk = query_get(q, "apiKey");

    if (s->api_key == NULL)
        return true;
    if (qk != NULL && strcmp(qk, s->api_key) == 0)
        return true;
    return lws_hdr_custom_copy(wsi, key, sizeof(key), "x-api-key:", 10) > 0 &&
           strcmp(key, s->api_key) == 0;
}

/* Applies the room's sign fault; true when the request was answered with it. */
static bool sign_fault(struct sim *s, struct room *r, struct reply *rp)
{
    const struct faults *f;
    char tmp[32];

    if (r == NULL || r->f.sign_status == 0)
        return false;
    f = &r->f;
    r->sign_calls++;
    if (f->sign_times > 0 && r->sign_calls > (uint32_t)f->sign_times)
        return false;
    slog_fault(s, r, "sign server status");
    if (f->sign_status != 429) {
        sign_error(rp, f->sign_status,
                   f->sign_status == 402   ? "This feature requires a paid plan"
                   : f->sign_status == 401 ? "Invalid API key"
                                           : "Forbidden");
        return true;
    }
    json_reply(rp, 429);
    common_buf_adds(&rp->body,
                    "{\"code\":429,\"message\":\"Too many connections started, try again "
                    "later.\"");
    sbuf_json_kstr(&rp->body, "limit_label",
                   f->limit_label ? f->limit_label : "rate_limit_account_minute");
    common_buf_adds(&rp->body, "}");
    snprintf(tmp, sizeof(tmp), "%d", f->retry_after ? f->retry_after : 60);
    reply_header(rp, "retry-after", tmp);
    reply_header(rp, "ratelimit-remaining", "0");
    reply_header(rp, "ratelimit-reset", tmp);
    snprintf(tmp, sizeof(tmp), "%" PRId64,
             common_wall_ms() / 1000 + (f->retry_after ? f->retry_after : 60));
    reply_header(rp, "x-ratelimit-reset", tmp);
    return true;
}

/* The room a URL to sign is about, from its room_id parameter. */
static struct room *room_in_url(struct sim *s, const char *url)
{
    const char *p = url ? strstr(url, "room_id=") : NULL;
    uint32_t sess;

    return p ? sim_room_by_id(s, strtoll(p + 8, NULL, 10), &sess) : NULL;
}

static void tokens(struct sim *s, char *xb, char *ms, size_t n)
{
    uint64_t v = common_splitmix64(&s->rng);

    snprintf(xb, n, "DFSzswVL%016" PRIx64, v);
    snprintf(ms, n, "sim-msToken-%016" PRIx64, v ^ 0x9e3779b97f4a7c15u);
}

static void signed_url_json(struct common_buf *b, const char *key, const char *url, const char *xb,
                            const char *ms)
{
    char tmp[8192];

    snprintf(tmp, sizeof(tmp), "%s%smsToken=%s&X-Bogus=%s&_signature=_02B4Z6wo00f01sim", url,
             strchr(url, '?') ? "&" : "?", ms, xb);
    sbuf_json_kstr(b, key, tmp);
}

static void sign_url_get_body(struct sim *s, const char *url, struct reply *rp)
{
    char xb[64], ms[64];
    struct common_buf *b = &rp->body;

    tokens(s, xb, ms, sizeof(xb));
    json_reply(rp, 200);
    common_buf_adds(b, "{");
    sbuf_json_kint(b, "code", 200);
    signed_url_json(b, "signedUrl", url, xb, ms);
    sbuf_json_kstr(b, "User-Agent", SIGN_UA);
    sbuf_json_kstr(b, "msToken", ms);
    sbuf_json_kstr(b, "X-Bogus", xb);
    sbuf_json_kstr(b, "_signature", "_02B4Z6wo00f01sim");
    sbuf_json_kstr(b, "browserName", "Mozilla");
    sbuf_json_kstr(b, "browserVersion", SIGN_UA + 8);
    common_buf_adds(b, "}");
}

/* What every signing endpoint of a room checks first: the API key, then the room's faults
 * (the room is named in the request log either way); true when `rp` holds the refusal. */
static bool sign_refused(struct sim *s, struct lws *wsi, const struct query *q, struct room *r,
                         struct reply *rp)
{
    rp->room = r ? r->handle : NULL;
    if (!api_key_ok(s, wsi, q)) {
        sign_error(rp, 401, "Invalid or missing API key");
        return true;
    }
    return sign_fault(s, r, rp);
}

/* The signed_host fault: the URL to sign with its host replaced (scheme and port kept). */
static const char *other_host(const char *url, const char *host, char *buf, size_t n)
{
    const char *p = strstr(url, "://");
    size_t hl;

    if (p == NULL)
        return url;
    hl = strcspn(p + 3, ":/?");
    snprintf(buf, n, "%.*s://%s%s", (int)(p - url), url, host, p + 3 + hl);
    return buf;
}

static void sign_url_v1(struct sim *s, struct lws *wsi, const struct query *q, struct reply *rp)
{
    static char moved[8192]; /* one thread */
    const char *url = query_get(q, "url");
    struct room *r = room_in_url(s, url);

    if (r != NULL && r->f.signed_host != NULL)
        url = other_host(url, r->f.signed_host, moved, sizeof(moved));
    if (sign_refused(s, wsi, q, r, rp))
        return;
    if (url == NULL) {
        sign_error(rp, 400, "Missing url parameter");
        return;
    }
    sign_url_get_body(s, url, rp);
}

/* 2.x signs arbitrary URLs (the gift list) with a JSON POST. */
static void sign_url_post(struct sim *s, struct lws *wsi, const struct query *q, const char *body,
                          struct reply *rp)
{
    char url[4096] = "";
    const char *p = body ? strstr(body, "\"url\"") : NULL;
    char xb[64], ms[64];
    struct common_buf *b = &rp->body;

    if (!api_key_ok(s, wsi, q)) {
        sign_error(rp, 401, "Invalid or missing API key");
        return;
    }
    /* the url is a plain JSON string without escapes in every client we know */
    if (p != NULL && (p = strchr(p + 5, '"')) != NULL)
        sscanf(p + 1, "%4095[^\"]", url);
    if (url[0] == '\0') {
        sign_error(rp, 400, "Missing url");
        return;
    }
    rp->room = room_in_url(s, url) ? room_in_url(s, url)->handle : NULL;
    tokens(s, xb, ms, sizeof(xb));
    json_reply(rp, 200);
    common_buf_adds(b, "{\"code\":200,\"message\":\"\",\"response\":{");
    signed_url_json(b, "signedUrl", url, xb, ms);
    sbuf_json_kstr(b, "userAgent", SIGN_UA);
    sbuf_json_kstr(b, "browserName", "Mozilla");
    sbuf_json_kstr(b, "browserVersion", SIGN_UA + 8);
    common_buf_adds(b, ",\"tokens\":{");
    sbuf_json_kstr(b, "X-Bogus", xb);
    sbuf_json_kstr(b, "msToken", ms);
    common_buf_adds(b, "},\"requestHeaders\":{},\"cookies\":[]}}");
}

/* 2.x's sign server does the im/fetch itself and returns the protobuf body. */
static void sign_connect(struct sim *s, struct lws *wsi, const struct query *q, int64_t room_id,
                         struct reply *rp)
{
    uint32_t sess;
    struct room *r = sim_room_by_id(s, room_id, &sess);
    unsigned char *body;
    size_t len = 0;
    char tmp[128];

    if (sign_refused(s, wsi, q, r, rp))
        return;
    if (r == NULL) {
        sign_error(rp, 404, "Room not found");
        return;
    }
    body = fetch_result(s, r, true, &len);
    if (body == NULL) {
        sign_error(rp, 500, "Could not build the fetch result");
        return;
    }
    rp->fetch_answer = true;
    rp->status = 200;
    rp->ctype = "application/x-protobuf";
    common_buf_add(&rp->body, body, len);
    free(body);
    snprintf(tmp, sizeof(tmp), "ttwid=1%%7Csim%016" PRIx64 "; tt-target-idc=useast1a",
             sim_hash(r->handle));
    reply_header(rp, "x-set-tt-cookie", tmp);
    snprintf(tmp, sizeof(tmp), "%" PRId64, room_cur_id(r));
    reply_header(rp, "x-room-id", tmp);
    snprintf(tmp, sizeof(tmp), "sim-%016" PRIx64, common_splitmix64(&s->rng));
    reply_header(rp, "x-request-id", tmp);
    reply_header(rp, "x-log-id", tmp);
    reply_header(rp, "x-agent-id", "tiktok-live-sim");
    reply_header(rp, "x-log-code", "0");
}

static void anchors_room_id(struct sim *s, const char *handle, struct reply *rp)
{
    struct room *r = sim_room_by_handle(s, handle);
    struct common_buf *b = &rp->body;

    rp->room = r ? r->handle : NULL;
    if (r != NULL && r->f.euler_refuse) {
        sign_error(rp, 403, "This endpoint requires a paid plan");
        return;
    }
    if (r == NULL || r->state == ROOM_MISSING) {
        json_reply(rp, 404);
        common_buf_adds(b, "{\"code\":404,\"ok\":false,\"message\":\"user_not_found\","
                           "\"routes_attempted\":[\"sim\"]}");
        return;
    }
    json_reply(rp, 200);
    common_buf_adds(b, "{\"code\":200,\"ok\":true,\"message\":\"\",\"routes_attempted\":[\"sim\"]");
    sbuf_json_kbool(b, "is_live", r->state == ROOM_LIVE);
    sbuf_json_kid(b, "room_id", room_cur_id(r));
    sbuf_json_kstr(b, "source", "sim");
    common_buf_adds(b, "}");
}

static const int64_t limit_secs[3] = { 60, 3600, 86400 };
static const uint32_t limit_max[3] = { 60, 1000, 10000 };

/* Signatures served in the current minute, hour and day: what rate_limits reports. */
static void count_signature(struct sim *s, bool count)
{
    int64_t now = common_wall_ms() / 1000;

    for (int i = 0; i < 3; i++) {
        if (now / limit_secs[i] != s->sign_window[i]) {
            s->sign_window[i] = now / limit_secs[i];
            s->sign_count[i] = 0;
        }
        if (count)
            s->sign_count[i]++;
    }
}

static void rate_limits(struct sim *s, struct reply *rp)
{
    static const char *const names[3] = { "minute", "hour", "day" };

    count_signature(s, false);
    json_reply(rp, 200);
    common_buf_adds(&rp->body, "{\"code\":200");
    for (int i = 0; i < 3; i++) {
        uint32_t used = s->sign_count[i] < limit_max[i] ? s->sign_count[i] : limit_max[i];

        common_buf_printf(&rp->body,
                          ",\"%s\":{\"max\":%" PRIu32 ",\"remaining\":%" PRIu32
                          ",\"reset_at\":%" PRId64 "}",
                          names[i], limit_max[i], limit_max[i] - used,
                          (s->sign_window[i] + 1) * limit_secs[i]);
    }
    common_buf_adds(&rp->body, "}");
}

/* ---- the simulator's own pages ---- */

static void image(const char *name, struct reply *rp)
{
    uint64_t h = sim_hash(name);

    rp->status = 200;
    rp->ctype = "image/svg+xml";
    common_buf_printf(&rp->body,
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"100\">"
                      "<circle cx=\"50\" cy=\"50\" r=\"48\" fill=\"#%06x\"/></svg>",
                      (unsigned)(h & 0xffffff));
}

static void status(struct sim *s, struct reply *rp)
{
    static const char *const state[] = { "live", "offline", "missing", "ended" };
    struct common_buf *b = &rp->body;

    json_reply(rp, 200);
    common_buf_adds(b, "{\"rooms\":[");
    for (uint32_t i = 0; i < s->n_rooms && i < 10000; i++) {
        const struct room *r = &s->rooms[i];

        common_buf_adds(b, i ? ",{" : "{");
        sbuf_json_kstr(b, "handle", r->handle);
        sbuf_json_kstr(b, "state", state[r->state]);
        sbuf_json_kid(b, "room_id", room_cur_id(r));
        sbuf_json_kint(b, "connections", r->n_conns);
        sbuf_json_kint(b, "frames", (int64_t)r->ring_head);
        common_buf_adds(b, "}");
    }
    common_buf_printf(b,
                      "],\"frames\":%" PRIu64 ",\"events\":%" PRIu64 ",\"bytes\":%" PRIu64
                      ",\"loadWrites\":%" PRIu64 ",\"loadWritesLate\":%" PRIu64 "}",
                      s->frames_out, s->events_out, s->bytes_out, s->load_writes,
                      s->load_writes_late);
}

/* ---- routing ---- */

/* "/prefix{X}/suffix" -> X (copied into out); false if path does not have that shape. */
static bool path_var(const char *path, const char *prefix, const char *suffix, char *out,
                     size_t cap)
{
    size_t pl = strlen(prefix), sl = strlen(suffix), n;

    if (strncmp(path, prefix, pl) != 0)
        return false;
    n = strlen(path + pl);
    if (n < sl || strcmp(path + pl + n - sl, suffix) != 0)
        return false;
    n -= sl;
    if (n == 0 || n >= cap || memchr(path + pl, '/', n) != NULL)
        return false;
    memcpy(out, path + pl, n);
    out[n] = '\0';
    return true;
}

static bool is(const char *path, const char *route)
{
    size_t n = strlen(route);

    /* with or without the trailing slash */
    return strcmp(path, route) == 0 ||
           (route[n - 1] == '/' && strncmp(path, route, n - 1) == 0 && path[n - 1] == '\0');
}

static void route_sign(struct sim *s, const char *method, const char *path, const struct query *q,
                       const char *body, struct lws *wsi, struct reply *rp)
{
    char var[128];
    const char *rid = query_get(q, "room_id");

    bool get_url = is(path, "/webcast/sign_url") && strcmp(method, "GET") == 0;
    bool post_url = !get_url && (is(path, "/webcast/sign_url") || is(path, "/tiktok/sign_url"));
    bool connect = path_var(path, "/webcast/rooms/", "/connect", var, sizeof(var));
    bool fetch = is(path, "/webcast/fetch/");

    count_signature(s, get_url || post_url || connect || fetch);
    if (get_url)
        sign_url_v1(s, wsi, q, rp);
    else if (post_url)
        sign_url_post(s, wsi, q, body, rp);
    else if (connect)
        sign_connect(s, wsi, q, strtoll(var, NULL, 10), rp);
    else if (fetch)
        sign_connect(s, wsi, q, rid ? strtoll(rid, NULL, 10) : 0, rp);
    else if (path_var(path, "/webcast/anchors/", "/room_id", var, sizeof(var)))
        anchors_room_id(s, var, rp);
    else if (is(path, "/webcast/rate_limits"))
        rate_limits(s, rp);
    else
        not_found(rp, path);
}

void pages_route(struct sim *s, const char *method, const char *path, const struct query *q,
                 const char *body, size_t body_len, struct lws *wsi, struct reply *rp)
{
    char var[SIM_HANDLE + 8];
    struct room *r;

    (void)body_len;
    rp->status = 200;
    if (strcmp(path, "/") == 0)
        device_home(s, rp);
    else if (path_var(path, "/@", "/live", var, sizeof(var)) ||
             path_var(path, "/@", "/live/", var, sizeof(var)))
        live_page(s, var, rp);
    else if (is(path, "/api-live/user/room/"))
        api_live(s, q, rp);
    else if (is(path, "/webcast/room/info/"))
        room_info(s, q, rp);
    else if (is(path, "/webcast/room/check_alive/"))
        check_alive(s, q, rp);
    else if (is(path, "/webcast/gift/list/"))
        gift_list(s, rp);
    else if (is(path, "/webcast/im/fetch/"))
        im_fetch(s, wsi, q, rp);
    else if (strncmp(path, "/sim/img/", 9) == 0)
        image(path + 9, rp);
    else if (is(path, "/sim/status"))
        status(s, rp);
    else
        route_sign(s, method, path, q, body, wsi, rp);
    /* slow answers: the room's own delay, on top of the global one */
    r = rp->room ? sim_room_by_handle(s, rp->room) : NULL;
    rp->delay_ms = s->slow_ms + (r ? r->f.slow_ms : 0);
    rp->pad_header = r ? r->f.header_bytes : 0;
}
