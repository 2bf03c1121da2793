/** @file dec_user.c
 * Users, the common header and small helpers, rendered as tiktok-live-connector 1.2.3 does.
 *
 * Proto fields read (v3 numbers, which 1.x's schema shares):
 *   User: id 1, nickname 3, bioDescription 5, avatarThumb 9 {urlList 1}, createTime 16,
 *         followInfo 22 {followingCount 1, followerCount 2, followStatus 3, pushStatus 4},
 *         displayId 38 (1.x uniqueId), secUid 46, badgeList 64 (repeated BadgeStruct).
 *   BadgeStruct: sceneType 3, privilegeLogExtra 12 {privilegeId 2, level 5},
 *         image 20 {displayType 1, image 2 {urlList 1}}, text 21 {key 2, defaultPattern 3}.
 *   CommonMessageData: msgId 2, createTime 4, displayText 8 {key 1, defaultPattern 2}.
 *
 * Mapping (1.x getUserAttributes): userId, secUid, uniqueId, nickname, profilePictureUrl,
 * followRole, userBadges, userSceneTypes, userDetails {createTime, bioDescription,
 * profilePictureUrls}, followInfo, isModerator, isNewGifter, isSubscriber, topGifterRank,
 * gifterLevel, teamMemberLevel.
 *
 * Quirks kept from 1.x: a repeated urlList read where 1.x's schema has a single string yields the
 * LAST url; badges are flattened text first, then image, then privilege per BadgeStruct;
 * gifterLevel is the level of the FIRST badge with scene type 8, even a text badge without one.
 * Deviations (docs/events.md): uniqueId/nickname "" and absent parts (followInfo,
 * profilePictureUrls) are written with their defaults instead of being left out.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dec.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- small helpers ---- */

static int match_at(const uint8_t *p, const char *needle, size_t n, int icase)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t a = p[i], b = (uint8_t)needle[i];
        if (icase && a >= 'A' && a <= 'Z') {
            a = (uint8_t)(a + 32);
        }
        if (a != b) {
            return 0;
        }
    }
    return 1;
}

/* 1 if needle occurs in s. The searches run over every url of every user (a naive loop was a
 * tenth of the decode time), so they jump with memchr to the needle's first byte unless the
 * search ignores case and that byte is a letter; `icase` lowers s's ASCII letters (needle is
 * lower case). */
int tt__contains(struct pb_slice s, const char *needle, int icase)
{
    size_t n = strlen(needle);
    uint8_t first = (uint8_t)needle[0];
    if (n == 0) {
        return 1;
    }
    if (!icase || !((first | 0x20) >= 'a' && (first | 0x20) <= 'z')) {
        /* memchr for the first byte, then compare: cheaper than memmem's setup on short urls */
        const uint8_t *p = s.p, *end = s.p + s.n;
        while ((size_t)(end - p) >= n && (p = memchr(p, first, (size_t)(end - p) - n + 1))) {
            if (icase ? match_at(p + 1, needle + 1, n - 1, 1) : !memcmp(p + 1, needle + 1, n - 1)) {
                return 1;
            }
            p++;
        }
        return 0;
    }
    for (size_t i = 0; n <= s.n && i <= s.n - n; i++) {
        if ((s.p[i] | 0x20) == first && match_at(s.p + i, needle, n, 1)) {
            return 1;
        }
    }
    return 0;
}

struct pb_slice tt__last_string(struct pb_slice msg, uint32_t num)
{
    struct pb_slice last = { (const uint8_t *)"", 0 }, cur;
    struct pb_iter it;
    tt__pb_iter_init(&it, msg, num);
    while (tt__pb_iter_next(&it, &cur)) {
        last = cur;
    }
    return last;
}

int64_t tt__js_parse_int(struct pb_slice s, int *nan)
{
    size_t i = 0;
    int neg = 0;
    unsigned base = 10;
    uint64_t v = 0;
    size_t digits = 0;
    while (i < s.n && (s.p[i] == ' ' || (s.p[i] >= '\t' && s.p[i] <= '\r'))) {
        i++;
    }
    if (i < s.n && (s.p[i] == '-' || s.p[i] == '+')) {
        neg = s.p[i++] == '-';
    }
    if (i + 1 < s.n && s.p[i] == '0' && (s.p[i + 1] == 'x' || s.p[i + 1] == 'X')) {
        base = 16;
        i += 2;
    }
    for (; i < s.n; i++, digits++) {
        uint8_t c = s.p[i];
        unsigned d = c >= '0' && c <= '9'                 ? (unsigned)(c - '0')
                     : base == 16 && c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : base == 16 && c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                          : 99;
        if (d >= base) {
            break;
        }
        v = v > (UINT64_MAX - d) / base ? UINT64_MAX : v * base + d; /* saturate */
    }
    *nan = digits == 0;
    if (v > INT64_MAX) {
        v = INT64_MAX;
    }
    return neg ? -(int64_t)v : (int64_t)v;
}

/* ---- common header ---- */

enum { C_MSG_ID, C_CREATE_TIME, C_DISPLAY_TEXT, C_N };
static const struct pb_desc common_desc[C_N] = {
    [C_MSG_ID] = { TT_TAG(CommonMessageData, msgId), PB_INT },
    [C_CREATE_TIME] = { TT_TAG(CommonMessageData, createTime), PB_INT },
    [C_DISPLAY_TEXT] = { TT_TAG(CommonMessageData, displayText), PB_LEN },
};

enum { T_KEY, T_PATTERN, T_N };
static const struct pb_desc text_desc[T_N] = {
    [T_KEY] = { TT_TAG(Text, key), PB_LEN },
    [T_PATTERN] = { TT_TAG(Text, defaultPattern), PB_LEN },
};

int tt__common_read(struct pb_slice s, struct common *c)
{
    struct pb_msg m, t;
    if (tt__pb_scan(&m, common_desc, C_N, s.p, s.n)) {
        return -1;
    }
    c->msg_id = pb_u(&m, C_MSG_ID);
    c->create_time = pb_u(&m, C_CREATE_TIME);
    c->display_text = pb_s(&m, C_DISPLAY_TEXT);
    if (tt__pb_scan_slice(&t, text_desc, T_N, c->display_text)) {
        return -1;
    }
    c->display_type = pb_s(&t, T_KEY);
    c->label = pb_s(&t, T_PATTERN);
    return 0;
}

void tt__common_write(struct jw *w, const struct common *c)
{
    JK(w, "msgId");
    tt__json_u64_str(w->b, c->msg_id);
    JK(w, "createTime");
    tt__json_u64_str(w->b, c->create_time);
    JK(w, "displayType");
    jw_str(w, c->display_type);
    JK(w, "label");
    jw_str(w, c->label);
}

/* ---- profile pictures ---- */

/* What 1.x's picture choice looks for in a url, found in one pass: every position holding a
 * '1', '.' or 's' is a candidate (16 bytes at a time with SSE2), and only those are compared.
 * Three separate substring searches per url were a tenth of the decode time. */
enum { U_100 = 1, U_WEBP = 2, U_JPEG = 4, U_SHRINK = 8 };

static unsigned url_at(const uint8_t *p, size_t left)
{
    if (*p == '1') {
        return left >= 7 && !memcmp(p, "100x100", 7) ? U_100 : 0;
    }
    if (*p == '.') {
        return left >= 5 && !memcmp(p, ".webp", 5)   ? U_WEBP
               : left >= 5 && !memcmp(p, ".jpeg", 5) ? U_JPEG
                                                     : 0;
    }
    if (*p == 's') {
        return left >= 6 && !memcmp(p, "shrink", 6) ? U_SHRINK : 0;
    }
    return 0;
}

static unsigned url_features(struct pb_slice s)
{
    unsigned f = 0;
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= s.n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s.p + i));
        unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('1')),
                                          _mm_cmpeq_epi8(v, _mm_set1_epi8('.'))),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('s'))));
        while (m) {
            unsigned bit = (unsigned)__builtin_ctz(m);
            f |= url_at(s.p + i + bit, s.n - i - bit);
            m &= m - 1;
        }
    }
#endif
    for (; i < s.n; i++) {
        f |= url_at(s.p + i, s.n - i);
    }
    return f;
}

/* 1.x getPreferredPictureFormat: the first 100x100 webp url, else the first 100x100 jpeg, else
 * the first url without "shrink", else the first; null without urls. One pass over the urls. */
static void write_preferred_picture(struct jw *w, struct pb_slice image)
{
    struct pb_slice best[4] = { { NULL, 0 } }, url; /* webp, jpeg, no shrink, first */
    struct pb_iter it;
    tt__pb_iter_init(&it, image, TT_TAG(ImageModel, urlList));
    while (!best[0].p && tt__pb_iter_next(&it, &url)) {
        unsigned f = url_features(url);
        if ((f & (U_100 | U_WEBP)) == (U_100 | U_WEBP)) {
            best[0] = url;
        } else if (!best[1].p && (f & (U_100 | U_JPEG)) == (U_100 | U_JPEG)) {
            best[1] = url;
        }
        if (!best[2].p && !(f & U_SHRINK)) {
            best[2] = url;
        }
        if (!best[3].p) {
            best[3] = url;
        }
    }
    for (int i = 0; i < 4; i++) {
        if (best[i].p) {
            jw_str(w, best[i]);
            return;
        }
    }
    jw_raw(w, "null");
}

static void write_string_array(struct jw *w, struct pb_slice msg, uint32_t num)
{
    struct jw a;
    struct pb_iter it;
    struct pb_slice s;
    jw_open(&a, w->b, '[');
    tt__pb_iter_init(&it, msg, num);
    while (tt__pb_iter_next(&it, &s)) {
        JI(&a);
        jw_str(&a, s);
    }
    jw_close(&a, ']');
}

/* ---- badges ---- */

enum badge_kind { B_TEXT, B_IMAGE, B_PRIVILEGE };

struct badge {
    enum badge_kind kind;
    int64_t scene, display_type, level;
    int level_nan;
    struct pb_slice type, name, url, privilege_id;
};

#define MAX_BADGES 64 /* TikTok users carry a handful; more are ignored */

struct badges {
    struct badge b[MAX_BADGES];
    size_t n;
    int64_t scenes[MAX_BADGES]; /* userSceneTypes: one per BadgeStruct */
    size_t n_scenes;
};

enum { BS_SCENE, BS_PRIV, BS_IMAGE, BS_TEXT, BS_N };
static const struct pb_desc badge_desc[BS_N] = {
    [BS_SCENE] = { TT_TAG(BadgeStruct, sceneType), PB_INT },
    [BS_PRIV] = { TT_TAG(BadgeStruct, privilegeLogExtra), PB_LEN },
    [BS_IMAGE] = { TT_TAG(BadgeStruct, image), PB_REP },
    [BS_TEXT] = { TT_TAG(BadgeStruct, text), PB_REP },
};

enum { TB_KEY, TB_PATTERN, TB_N };
static const struct pb_desc text_badge_desc[TB_N] = {
    [TB_KEY] = { TT_TAG(TextBadge, key), PB_LEN },
    [TB_PATTERN] = { TT_TAG(TextBadge, defaultPattern), PB_LEN },
};

enum { IB_DISPLAY_TYPE, IB_IMAGE, IB_N };
static const struct pb_desc image_badge_desc[IB_N] = {
    [IB_DISPLAY_TYPE] = { TT_TAG(ImageBadge, displayType), PB_INT },
    [IB_IMAGE] = { TT_TAG(ImageBadge, image), PB_LEN },
};

enum { PL_ID, PL_LEVEL, PL_N };
static const struct pb_desc priv_desc[PL_N] = {
    [PL_ID] = { TT_TAG(PrivilegeLogExtra, privilegeId), PB_LEN },
    [PL_LEVEL] = { TT_TAG(PrivilegeLogExtra, level), PB_LEN },
};

static struct badge *badge_add(struct badges *bs, enum badge_kind kind, int64_t scene)
{
    if (bs->n == MAX_BADGES) {
        return NULL;
    }
    struct badge *b = &bs->b[bs->n++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->scene = scene;
    b->type = b->name = b->url = b->privilege_id = (struct pb_slice){ (const uint8_t *)"", 0 };
    return b;
}

static int read_badge_struct(struct badges *bs, struct pb_slice s)
{
    struct pb_msg m, sub;
    struct pb_iter it;
    struct pb_slice e;
    struct badge *b;
    if (tt__pb_scan(&m, badge_desc, BS_N, s.p, s.n)) {
        return -1;
    }
    int64_t scene = pb_i32(&m, BS_SCENE);
    if (bs->n_scenes < MAX_BADGES) {
        bs->scenes[bs->n_scenes++] = scene;
    }
    tt__pb_iter_init(&it, pb_span(&m, BS_TEXT), TT_TAG(BadgeStruct, text));
    while (tt__pb_iter_next(&it, &e)) {
        if (tt__pb_scan(&sub, text_badge_desc, TB_N, e.p, e.n)) {
            return -1;
        }
        b = badge_add(bs, B_TEXT, scene);
        if (b) {
            b->type = pb_s(&sub, TB_KEY);
            b->name = pb_s(&sub, TB_PATTERN);
        }
    }
    tt__pb_iter_init(&it, pb_span(&m, BS_IMAGE), TT_TAG(BadgeStruct, image));
    while (tt__pb_iter_next(&it, &e)) {
        if (tt__pb_scan(&sub, image_badge_desc, IB_N, e.p, e.n)) {
            return -1;
        }
        struct pb_slice url = tt__last_string(pb_s(&sub, IB_IMAGE), TT_TAG(ImageModel, urlList));
        if (url.n && (b = badge_add(bs, B_IMAGE, scene))) {
            b->type = (struct pb_slice){ (const uint8_t *)"image", 5 };
            b->display_type = pb_i32(&sub, IB_DISPLAY_TYPE);
            b->url = url;
        }
    }
    if (tt__pb_scan_slice(&sub, priv_desc, PL_N, pb_s(&m, BS_PRIV))) {
        return -1;
    }
    struct pb_slice level = pb_s(&sub, PL_LEVEL);
    if (level.n && !(level.n == 1 && level.p[0] == '0') &&
        (b = badge_add(bs, B_PRIVILEGE, scene))) {
        b->type = (struct pb_slice){ (const uint8_t *)"privilege", 9 };
        b->privilege_id = pb_s(&sub, PL_ID);
        b->level = tt__js_parse_int(level, &b->level_nan);
    }
    return 0;
}

static void write_badge(struct jw *a, const struct badge *b)
{
    struct jw o;
    JI(a);
    jw_open(&o, a->b, '{');
    JK(&o, "type");
    jw_str(&o, b->type);
    JK(&o, "badgeSceneType");
    tt__json_i64(o.b, b->scene);
    if (b->kind == B_TEXT) {
        JK(&o, "name");
        jw_str(&o, b->name);
    } else if (b->kind == B_IMAGE) {
        JK(&o, "displayType");
        tt__json_i64(o.b, b->display_type);
        JK(&o, "url");
        jw_str(&o, b->url);
    } else {
        JK(&o, "privilegeId");
        jw_str(&o, b->privilege_id);
        JK(&o, "level");
        if (b->level_nan) {
            jw_raw(&o, "null"); /* JSON.stringify(NaN) */
        } else {
            tt__json_i64(o.b, b->level);
        }
    }
    jw_close(&o, '}');
}

/* 1.x: the number after "ranklist_top_gifter_" in /(?<=ranklist_top_gifter_)(\d+)(?=.png)/, where
 * "." is any character but a line break; the first match wins. */
static int top_gifter_rank(struct pb_slice url, int64_t *rank)
{
    static const char pre[] = "ranklist_top_gifter_";
    const size_t np = sizeof pre - 1;
    for (size_t i = 0; np <= url.n && i <= url.n - np; i++) {
        if (memcmp(url.p + i, pre, np)) {
            continue;
        }
        size_t s = i + np, l = 0;
        while (s + l < url.n && url.p[s + l] >= '0' && url.p[s + l] <= '9') {
            l++;
        }
        for (size_t k = l; k >= 1; k--) { /* greedy \d+ backtracking */
            size_t e = s + k;
            if (e + 4 <= url.n && url.p[e] != '\n' && url.p[e] != '\r' &&
                !memcmp(url.p + e + 1, "png", 3)) {
                int nan;
                *rank = tt__js_parse_int((struct pb_slice){ url.p + s, k }, &nan);
                return 1;
            }
        }
    }
    return 0;
}

static int64_t first_level(const struct badges *bs, int64_t scene)
{
    for (size_t i = 0; i < bs->n; i++) {
        if (bs->b[i].scene == scene) {
            const struct badge *b = &bs->b[i];
            return b->kind == B_PRIVILEGE && !b->level_nan ? b->level : 0;
        }
    }
    return 0;
}

static void write_badge_flags(struct jw *w, const struct badges *bs)
{
    int mod = 0, ng = 0, sub = 0;
    const struct badge *top = NULL;
    int64_t rank = 0;
    for (size_t i = 0; i < bs->n; i++) {
        const struct badge *b = &bs->b[i];
        mod |= tt__contains(b->type, "moderator", 1) || b->scene == 1;
        ng |= tt__contains(b->type, "live_ng_", 1);
        sub |= tt__contains(b->url, "/sub_", 1) || b->scene == 4 || b->scene == 7;
        if (!top && tt__contains(b->url, "/ranklist_top_gifter_", 0)) {
            top = b;
        }
    }
    JK(w, "isModerator");
    jw_bool(w, mod);
    JK(w, "isNewGifter");
    jw_bool(w, ng);
    JK(w, "isSubscriber");
    jw_bool(w, sub);
    JK(w, "topGifterRank");
    if (top && top_gifter_rank(top->url, &rank)) {
        tt__json_i64(w->b, rank);
    } else {
        jw_raw(w, "null");
    }
    JK(w, "gifterLevel");
    tt__json_i64(w->b, first_level(bs, 8));
    JK(w, "teamMemberLevel");
    tt__json_i64(w->b, first_level(bs, 10));
}

/* `span`: the part of the user message holding its badgeList entries (pb_span). */
static int read_badges(struct badges *bs, struct pb_slice span)
{
    struct pb_iter it;
    struct pb_slice e;
    bs->n = bs->n_scenes = 0;
    tt__pb_iter_init(&it, span, TT_TAG(User, badgeList));
    while (tt__pb_iter_next(&it, &e)) {
        if (read_badge_struct(bs, e)) {
            return -1;
        }
    }
    return 0;
}

static void write_badge_list(struct jw *w, const struct badges *bs)
{
    struct jw a;
    JK(w, "userBadges");
    jw_open(&a, w->b, '[');
    for (size_t i = 0; i < bs->n; i++) {
        write_badge(&a, &bs->b[i]);
    }
    jw_close(&a, ']');
}

/* ---- users ---- */

enum {
    U_ID,
    U_NICK,
    U_BIO,
    U_AVATAR,
    U_CREATE_TIME,
    U_FOLLOW,
    U_DISPLAY_ID,
    U_SEC_UID,
    U_BADGES,
    U_N
};
static const struct pb_desc user_desc[U_N] = {
    [U_ID] = { TT_TAG(User, id), PB_INT },
    [U_NICK] = { TT_TAG(User, nickname), PB_LEN },
    [U_BIO] = { TT_TAG(User, bioDescription), PB_LEN },
    [U_AVATAR] = { TT_TAG(User, avatarThumb), PB_LEN },
    [U_CREATE_TIME] = { TT_TAG(User, createTime), PB_INT },
    [U_FOLLOW] = { TT_TAG(User, followInfo), PB_LEN },
    [U_DISPLAY_ID] = { TT_TAG(User, displayId), PB_LEN },
    [U_SEC_UID] = { TT_TAG(User, secUid), PB_LEN },
    [U_BADGES] = { TT_TAG(User, badgeList), PB_REP },
};

enum { F_FOLLOWING, F_FOLLOWERS, F_STATUS, F_PUSH, F_N };
static const struct pb_desc follow_desc[F_N] = {
    [F_FOLLOWING] = { TT_TAG(FollowInfo, followingCount), PB_INT },
    [F_FOLLOWERS] = { TT_TAG(FollowInfo, followerCount), PB_INT },
    [F_STATUS] = { TT_TAG(FollowInfo, followStatus), PB_INT },
    [F_PUSH] = { TT_TAG(FollowInfo, pushStatus), PB_INT },
};

static void write_follow_info(struct jw *w, const struct pb_msg *f)
{
    struct jw o;
    JK(w, "followInfo");
    jw_open(&o, w->b, '{');
    JK(&o, "followingCount");
    tt__json_i64(o.b, pb_i(f, F_FOLLOWING));
    JK(&o, "followerCount");
    tt__json_i64(o.b, pb_i(f, F_FOLLOWERS));
    JK(&o, "followStatus");
    tt__json_i64(o.b, pb_i(f, F_STATUS));
    JK(&o, "pushStatus");
    tt__json_i64(o.b, pb_i(f, F_PUSH));
    jw_close(&o, '}');
}

static void write_scene_types(struct jw *w, const struct badges *bs)
{
    struct jw a;
    JK(w, "userSceneTypes");
    jw_open(&a, w->b, '[');
    for (size_t i = 0; i < bs->n_scenes; i++) {
        JI(&a);
        tt__json_i64(a.b, bs->scenes[i]);
    }
    jw_close(&a, ']');
}

static void write_user_details(struct jw *w, const struct pb_msg *u)
{
    struct jw o;
    JK(w, "userDetails");
    jw_open(&o, w->b, '{');
    JK(&o, "createTime");
    tt__json_u64_str(o.b, pb_u(u, U_CREATE_TIME));
    JK(&o, "bioDescription");
    jw_str(&o, pb_s(u, U_BIO));
    JK(&o, "profilePictureUrls");
    write_string_array(&o, pb_s(u, U_AVATAR), TT_TAG(ImageModel, urlList));
    jw_close(&o, '}');
}

int tt__user_write(struct jw *w, struct pb_slice user, uint64_t *id)
{
    struct pb_msg u, f;
    struct badges bs;
    if (tt__pb_scan(&u, user_desc, U_N, user.p, user.n) ||
        tt__pb_scan_slice(&f, follow_desc, F_N, pb_s(&u, U_FOLLOW)) ||
        read_badges(&bs, pb_span(&u, U_BADGES))) {
        return -1;
    }
    if (id) {
        *id = pb_u(&u, U_ID);
    }
    JK(w, "userId");
    tt__json_u64_str(w->b, pb_u(&u, U_ID));
    JK(w, "secUid");
    jw_str(w, pb_s(&u, U_SEC_UID));
    JK(w, "uniqueId");
    jw_str(w, pb_s(&u, U_DISPLAY_ID));
    JK(w, "nickname");
    jw_str(w, pb_s(&u, U_NICK));
    JK(w, "profilePictureUrl");
    write_preferred_picture(w, pb_s(&u, U_AVATAR));
    JK(w, "followRole");
    tt__json_i64(w->b, pb_i(&f, F_STATUS));
    write_badge_list(w, &bs);
    write_scene_types(w, &bs);
    write_user_details(w, &u);
    write_follow_info(w, &f);
    write_badge_flags(w, &bs);
    return 0;
}

int tt__user_object(struct jw *w, struct pb_slice user, uint64_t *id)
{
    struct jw o;
    jw_open(&o, w->b, '{');
    int rc = tt__user_write(&o, user, id);
    jw_close(&o, '}');
    return rc;
}

enum { L_ID, L_NICK, L_AVATAR, L_DISPLAY_ID, L_N };
static const struct pb_desc link_user_desc[L_N] = {
    [L_ID] = { TT_TAG(BattleBaseUserInfo, userId), PB_INT },
    [L_NICK] = { TT_TAG(BattleBaseUserInfo, nickName), PB_LEN },
    [L_AVATAR] = { TT_TAG(BattleBaseUserInfo, avatarThumb), PB_LEN },
    [L_DISPLAY_ID] = { TT_TAG(BattleBaseUserInfo, displayId), PB_LEN },
};

int tt__link_user_write(struct jw *w, struct pb_slice user, uint64_t *id)
{
    struct pb_msg u;
    struct badges none = { .n = 0 };
    struct jw o;
    if (tt__pb_scan(&u, link_user_desc, L_N, user.p, user.n)) {
        return -1;
    }
    if (id) {
        *id = pb_u(&u, L_ID);
    }
    JK(w, "userId");
    tt__json_u64_str(w->b, pb_u(&u, L_ID));
    JK(w, "uniqueId");
    jw_str(w, pb_s(&u, L_DISPLAY_ID));
    JK(w, "nickname");
    jw_str(w, pb_s(&u, L_NICK));
    JK(w, "profilePictureUrl");
    write_preferred_picture(w, pb_s(&u, L_AVATAR));
    write_badge_list(w, &none);
    JK(w, "userDetails");
    jw_open(&o, w->b, '{');
    JK(&o, "profilePictureUrls");
    write_string_array(&o, pb_s(&u, L_AVATAR), TT_TAG(ImageModel, urlList));
    jw_close(&o, '}');
    write_badge_flags(w, &none);
    return 0;
}
