/** @file room.c
 * Finding the room and reading it (docs/protocol.md §3.2-§3.4, §9):
 *   - room id from the live page: 2.x's SIGI_STATE script first, then 1.x's regexes; falling
 *     back to api-live/user/room when the page says nothing;
 *   - room/info (status 4 = the LIVE has ended; status_code 10011 = age-restricted;
 *     4003110 = blocked), kept as JSON text for "connected" and getRoomInfo;
 *   - gift/list, kept as JSON text with an index by gift id for extendedGiftInfo.
 * JSON is read in place (json.h), so ids keep every digit.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "client_int.h"
#include "json.h"

static struct pb_slice slice_of(const char *p, size_t n)
{
    struct pb_slice s = { (const uint8_t *)p, n };
    return s;
}

static int copy_digits(char *out, size_t cap, const char *p, size_t max)
{
    size_t n = 0;
    while (n < max && p[n] >= '0' && p[n] <= '9') {
        n++;
    }
    if (!n || n >= cap) {
        return 0;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

static int json_id(struct pb_slice doc, const char *path, char *out, size_t cap)
{
    struct pb_slice v;
    int64_t x;
    if (!tt__jr_path(doc, path, &v) || !tt__jr_int(v, &x) || x <= 0) {
        return 0;
    }
    snprintf(out, cap, "%lld", (long long)x);
    return 1;
}

/* 2.x: <script id="SIGI_STATE" type="application/json">{…}</script>. Returns 1 with a room id,
 * 0 when the page has no such script, or an error: not found / offline / captcha. */
static enum tt_err from_sigi(tt_client *c, const char *html, int *found)
{
    static const char tag[] = "<script id=\"SIGI_STATE\" type=\"application/json\">";
    const char *s = strstr(html, tag), *e;
    struct pb_slice doc, user;
    int64_t status = 0;
    *found = 0;
    if (!s) {
        return TT_OK;
    }
    s += sizeof tag - 1;
    e = strstr(s, "</script>");
    doc = slice_of(s, e ? (size_t)(e - s) : 0);
    if (!e || !tt__json_valid(doc.p, doc.n)) {
        tt__client_err(c, TT_ERR_BLOCKED, "the live page's state is not JSON: captcha-blocked?");
        return TT_ERR_BLOCKED;
    }
    if (!tt__jr_path(doc, "LiveRoom.liveRoomUserInfo.user", &user)) {
        tt__client_err(c, TT_ERR_NOT_FOUND, "@%s: no such user, or one that never went live",
                       c->unique_id);
        return TT_ERR_NOT_FOUND;
    }
    struct pb_slice st;
    if ((tt__jr_path(doc, "LiveRoom.liveRoomUserInfo.liveRoom.status", &st) ||
         tt__jr_member(user, "status", &st)) &&
        tt__jr_int(st, &status) && status == 4) {
        tt__client_err(c, TT_ERR_OFFLINE, "@%s is not live", c->unique_id);
        return TT_ERR_OFFLINE;
    }
    *found = json_id(user, "roomId", c->room_id, sizeof c->room_id);
    return TT_OK;
}

/* 1.x: the first `roomId":"N"` within 50 bytes of an occurrence of "roomId", else
 * `room_id=N`, else `"roomId":"N"` anywhere. */
static int from_regexes(tt_client *c, const char *html)
{
    for (const char *p = strstr(html + (strlen(html) > 3 ? 3 : 0), "roomId"); p;
         p = strstr(p + 1, "roomId")) {
        if (!strncmp(p, "roomId\":\"", 9) &&
            copy_digits(c->room_id, sizeof c->room_id, p + 9, 41)) {
            return 1;
        }
    }
    const char *p = strstr(html, "room_id=");
    return p && copy_digits(c->room_id, sizeof c->room_id, p + 8, 32);
}

static enum tt_err from_api_live(tt_client *c)
{
    char extra[160];
    struct tt_http_resp r;
    struct pb_slice doc, v;
    int64_t code = 0, status = 0;
    snprintf(extra, sizeof extra, "uniqueId=%s&sourceType=54", c->unique_id);
    char *url = tt__client_url(c, c->o.web_base, "/api-live/user/room/", extra);
    if (!url) {
        return TT_ERR_NOMEM;
    }
    tt__http_resp_init(&r);
    enum tt_err rc = tt__http_request(&c->http, url, NULL, &r);
    tt__free(url);
    doc = slice_of(r.body.p ? r.body.p : "", r.body.len);
    if (rc) {
        tt__client_err(c, rc, "api-live/user/room: %s", c->http.errmsg);
    } else if (r.status != 200) {
        rc = r.status == 403 ? TT_ERR_BLOCKED : TT_ERR_HTTP;
        tt__client_err(c, rc, "api-live/user/room: HTTP %ld", r.status);
    } else if (tt__json_check(doc.p, doc.n)) { /* a parse error, not an HTTP one */
        rc = TT_ERR_HTTP;
        tt__client_err(c, rc, "api-live/user/room: the answer is %s",
                       tt__json_why(tt__json_check(doc.p, doc.n)));
    } else if (tt__jr_member(doc, "statusCode", &v) && tt__jr_int(v, &code) && code) {
        char msg[128] = "";
        if (tt__jr_member(doc, "message", &v)) {
            tt__jr_string(v, msg, sizeof msg);
        }
        rc = strstr(msg, "user_not_found") ? TT_ERR_NOT_FOUND : TT_ERR_HTTP;
        tt__client_err(c, rc, "@%s: api-live says %lld (%s)", c->unique_id, (long long)code, msg);
    } else if (!tt__jr_path(doc, "data.user", &v)) {
        /* not an answer about the user ({}, a block in JSON, a changed shape): the page's
         * verdict, if it has one, says more than "not live" would */
        rc = TT_ERR_HTTP;
        tt__client_err(c, rc, "@%s: api-live's answer has no data.user", c->unique_id);
    } else if (tt__jr_path(doc, "data.liveRoom.status", &v) && tt__jr_int(v, &status) &&
               status == 4) {
        rc = TT_ERR_OFFLINE;
        tt__client_err(c, rc, "@%s is not live", c->unique_id);
    } else if (!json_id(doc, "data.user.roomId", c->room_id, sizeof c->room_id)) {
        rc = TT_ERR_OFFLINE;
        tt__client_err(c, rc, "@%s has no room: not live", c->unique_id);
    }
    tt__http_resp_free(&r);
    return rc;
}

/* What the page alone says when it has no room id: offline if it is a profile page (1.x:
 * "og:url" present), else blocked. */
static enum tt_err page_verdict(tt_client *c, const char *html)
{
    if (strstr(html, "\"og:url\"")) {
        tt__client_err(c, TT_ERR_OFFLINE, "@%s might be offline (no room id on the live page)",
                       c->unique_id);
        return TT_ERR_OFFLINE;
    }
    tt__client_err(c, TT_ERR_BLOCKED,
                   "the live page has no room id: your IP or country might "
                   "be blocked by TikTok");
    return TT_ERR_BLOCKED;
}

enum tt_err tt__room_resolve(tt_client *c)
{
    char path[96];
    struct tt_http_resp r;
    int found = 0;
    enum tt_err rc, page_rc = TT_OK;
    c->room_id[0] = '\0';
    snprintf(path, sizeof path, "/@%s/live", c->unique_id);
    size_t n = strlen(c->o.web_base) + strlen(path) + 1;
    char *url = tt__malloc(n);
    if (!url) {
        return TT_ERR_NOMEM;
    }
    snprintf(url, n, "%s%s", c->o.web_base, path);
    tt__http_resp_init(&r);
    rc = tt__http_request(&c->http, url, NULL, &r);
    tt__free(url);
    if (!rc && r.status == 200) {
        page_rc = from_sigi(c, r.body.p, &found);
        if (!page_rc && !found) {
            found = from_regexes(c, r.body.p);
        }
        if (!page_rc && !found) {
            page_rc = page_verdict(c, r.body.p);
        }
    }
    tt__http_resp_free(&r);
    if (found) {
        return TT_OK;
    }
    char page_msg[sizeof c->errmsg], api_msg[sizeof c->errmsg];
    snprintf(page_msg, sizeof page_msg, "%s", c->errmsg);
    rc = from_api_live(c); /* the page failed or said no: ask the API, as 1.x and 2.x do */
    if (rc && page_rc && rc != TT_ERR_NOT_FOUND && rc != TT_ERR_OFFLINE) {
        /* the API was no help: the page's verdict is the better error, and its message must
         * go with it (the API's alone said "blocked" for an answer that was not JSON) */
        snprintf(api_msg, sizeof api_msg, "%s", c->errmsg);
        tt__client_err(c, page_rc, "%s; then %s", page_msg, api_msg);
        return page_rc;
    }
    return rc;
}

/* GET webcast_base + path for the room: the answer in `r` (the caller frees it), its body as
 * `*doc` ("" when there is none); an error unless it is a 200 with JSON. */
static enum tt_err get_json(tt_client *c, const char *path, const char *what,
                            struct tt_http_resp *r, struct pb_slice *doc)
{
    tt__http_resp_init(r);
    *doc = slice_of("", 0);
    char extra[64];
    snprintf(extra, sizeof extra, "room_id=%s", c->room_id);
    char *url = tt__client_url(c, c->o.webcast_base, path, extra);
    if (!url) {
        return TT_ERR_NOMEM;
    }
    enum tt_err rc = tt__http_request(&c->http, url, NULL, r);
    tt__free(url);
    *doc = slice_of(r->body.p ? r->body.p : "", r->body.len);
    if (rc) {
        tt__client_err(c, rc, "%s: %s", what, c->http.errmsg);
        return rc;
    }
    int json = tt__json_check((const uint8_t *)(r->body.p ? r->body.p : ""), r->body.len);
    if (r->status != 200) {
        rc = r->status == 403 ? TT_ERR_BLOCKED : TT_ERR_HTTP;
        tt__client_err(c, rc, "%s: HTTP %ld", what, r->status);
    } else if (json) { /* a parse error, not an HTTP one: say which */
        rc = TT_ERR_HTTP;
        tt__client_err(c, rc, "%s: the answer is %s", what, tt__json_why(json));
    }
    return rc;
}

static enum tt_err room_status(tt_client *c, struct pb_slice doc)
{
    struct pb_slice v;
    int64_t code = 0, status = 0;
    if (tt__jr_member(doc, "status_code", &v) && tt__jr_int(v, &code) && code) {
        enum tt_err rc = code == 10011     ? TT_ERR_AGE_RESTRICTED
                         : code == 4003110 ? TT_ERR_BLOCKED
                                           : TT_ERR_HTTP;
        tt__client_err(c, rc, "room/info: status_code %lld%s", (long long)code,
                       rc == TT_ERR_AGE_RESTRICTED ? ": an 18+ room, set session_id"
                       : rc == TT_ERR_BLOCKED      ? ": rate limit, captcha or low IP score"
                                                   : "");
        return rc;
    }
    if (tt__jr_path(doc, "data.status", &v) && tt__jr_int(v, &status) && status == 4) {
        tt__client_err(c, TT_ERR_OFFLINE, "@%s: LIVE has ended", c->unique_id);
        return TT_ERR_OFFLINE;
    }
    return TT_OK;
}

enum tt_err tt__room_info(tt_client *c)
{
    struct tt_http_resp r;
    struct pb_slice doc, data;
    enum tt_err rc = get_json(c, "/webcast/room/info/", "room/info", &r, &doc);
    if (!rc) {
        rc = room_status(c, doc);
    }
    if (!rc && tt__jr_member(doc, "data", &data)) {
        tt__free(c->room_info);
        c->room_info = tt__strndup((const char *)data.p, data.n);
        rc = c->room_info ? TT_OK : TT_ERR_NOMEM;
    }
    tt__http_resp_free(&r);
    return rc;
}

enum tt_err tt__room_gifts(tt_client *c)
{
    struct tt_http_resp r;
    struct pb_slice doc, gifts;
    enum tt_err rc = get_json(c, "/webcast/gift/list/", "gift/list", &r, &doc);
    if (!rc && !tt__jr_path(doc, "data.gifts", &gifts)) {
        rc = TT_ERR_HTTP;
        tt__client_err(c, rc, "gift/list: no data.gifts in the answer");
    }
    if (!rc) {
        rc = tt__gifts_set(&c->gifts, (const char *)gifts.p, gifts.n);
    }
    tt__http_resp_free(&r);
    return rc;
}
