/** @file enc_user.c
 * What every simulated message is made of: the common header (method, a msgId unique in this
 * process, roomId, createTime, display text), users as TikTok sends them (ids, handle,
 * nickname, secUid, avatar urls in the usual three sizes, followInfo, badges for moderators,
 * subscribers, gifter and fan levels, top gifters and new gifters), and images. Image urls
 * point at the simulator itself (/sim/img/...), which serves placeholders, so overlays work
 * offline.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "enc.h"


void *enc_alloc(struct enc *e, size_t n)
{
    void *p = arena_alloc(e->a, n);

    if (p == NULL)
        e->oom = true;
    return p;
}


/* nanopb's string fields are `char *`; the arena copy also keeps the tree self-contained. */
char *enc_str(struct enc *e, const char *s)
{
    char *d = arena_strdup(e->a, s ? s : "");

    if (d == NULL)
        e->oom = true;
    return d;
}

char *enc_strf(struct enc *e, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    return enc_str(e, tmp);
}

const struct sim_user *enc_user_at(struct enc *e, uint32_t i)
{
    if (i == SIM_NONE || i >= e->s->n_users)
        return &e->s->users[e->r->host];
    return &e->s->users[i];
}

int64_t enc_next_msg_id(struct sim *s)
{
    uint64_t h = (uint64_t)s->next_msg_id;

    if (s->fixed_msg_id != 0)
        return s->fixed_msg_id;
    /* increasing with small random gaps, like TikTok's ids: unique within this process. The
       gap depends on the previous id only, so the n-th message of a run always gets the same id
       however the messages were batched into frames (a poller and a WebSocket agree). */
    s->next_msg_id += 1 + (int64_t)(common_splitmix64(&h) % 977);
    return s->next_msg_id;
}

void enc_image_urls(struct sim *s, char *buf, size_t len, const char *kind, int64_t id,
                    const char *ext)
{
    snprintf(buf, len, "%s/sim/img/%s/%" PRId64 "%s", s->http_base, kind, id, ext);
}

/* An ImageModel with the usual three CDN variants: a 72x72 webp, 100x100 webp and jpeg. */
TikTok_ImageModel *enc_avatar(struct enc *e, int64_t id)
{
    TikTok_ImageModel *im = NEW(e, TikTok_ImageModel);
    char u[256];
    static const char *const variant[] = { "~tplv-tiktok-shrink:72:72.webp", "~c5_100x100.webp",
                                           "~c5_100x100.jpeg" };

    if (im == NULL)
        return NULL;
    im->urlList = enc_alloc(e, 3 * sizeof(char *));
    if (im->urlList == NULL)
        return im;
    for (size_t i = 0; i < 3; i++) {
        enc_image_urls(e->s, u, sizeof(u), "avatar", id, variant[i]);
        im->urlList[i] = enc_str(e, u);
    }
    im->urlList_count = 3;
    im->uri = enc_strf(e, "100x100/sim-avatar/%" PRId64, id);
    return im;
}

/* An image with one or two urls: gifts, emotes, badges. */
TikTok_ImageModel *enc_image(struct enc *e, const char *kind, int64_t id, int n)
{
    TikTok_ImageModel *im = NEW(e, TikTok_ImageModel);
    char u[256];

    if (im == NULL)
        return NULL;
    im->urlList = enc_alloc(e, 2 * sizeof(char *));
    if (im->urlList == NULL)
        return im;
    enc_image_urls(e->s, u, sizeof(u), kind, id, "~tplv-obj.webp");
    im->urlList[0] = enc_str(e, u);
    enc_image_urls(e->s, u, sizeof(u), kind, id, ".png");
    im->urlList[1] = enc_str(e, u);
    im->urlList_count = (pb_size_t)(n > 1 ? 2 : 1);
    im->uri = enc_strf(e, "sim-%s/%" PRId64, kind, id);
    return im;
}

static TikTok_BadgeStruct *badge_next(struct enc *e, TikTok_User *u, int scene, int display)
{
    TikTok_BadgeStruct *b = &u->badgeList[u->badgeList_count++];

    b->has_sceneType = true;
    b->sceneType = (TikTok_BadgeSceneType)scene;
    b->has_displayType = true;
    b->displayType = (TikTok_BadgeDisplayType)display;
    (void)e;
    return b;
}

static void badge_text(struct enc *e, TikTok_User *u, int scene, const char *key, const char *pat)
{
    TikTok_BadgeStruct *b = badge_next(e, u, scene, TikTok_BadgeDisplayType_TEXT);

    b->text = NEW(e, TikTok_TextBadge);
    if (b->text == NULL)
        return;
    b->text->has_displayType = true;
    b->text->displayType = TikTok_BadgeDisplayType_TEXT;
    b->text->key = enc_str(e, key);
    b->text->defaultPattern = enc_str(e, pat);
}

static void badge_image(struct enc *e, TikTok_User *u, int scene, const char *url)
{
    TikTok_BadgeStruct *b = badge_next(e, u, scene, TikTok_BadgeDisplayType_IMAGE);

    b->image = NEW(e, TikTok_ImageBadge);
    if (b->image == NULL)
        return;
    b->image->has_displayType = true;
    b->image->displayType = TikTok_BadgeDisplayType_IMAGE;
    b->image->image = NEW(e, TikTok_ImageModel);
    if (b->image->image == NULL)
        return;
    b->image->image->urlList = enc_alloc(e, sizeof(char *));
    if (b->image->image->urlList == NULL)
        return;
    b->image->image->urlList[0] = enc_str(e, url);
    b->image->image->urlList_count = 1;
}

/* A level badge (gifter level, fan club): the level rides in privilegeLogExtra. */
static void badge_level(struct enc *e, TikTok_User *u, int scene, int64_t uid, int level)
{
    TikTok_BadgeStruct *b = badge_next(e, u, scene, TikTok_BadgeDisplayType_COMBINE);

    b->privilegeLogExtra = NEW(e, TikTok_PrivilegeLogExtra);
    if (b->privilegeLogExtra == NULL)
        return;
    b->privilegeLogExtra->dataVersion = enc_str(e, "2");
    b->privilegeLogExtra->privilegeId =
            enc_strf(e, "%" PRId64, 7138381747292000000 + uid % 1000000);
    b->privilegeLogExtra->level = enc_strf(e, "%d", level);
}

static void user_badges(struct enc *e, TikTok_User *u, const struct sim_user *su)
{
    char url[256];

    u->badgeList = enc_alloc(e, 6 * sizeof(TikTok_BadgeStruct));
    if (u->badgeList == NULL)
        return;
    if (su->moderator)
        badge_text(e, u, TikTok_BadgeSceneType_ADMIN, "moderator", "Moderator");
    if (su->gifter_level > 0)
        badge_level(e, u, TikTok_BadgeSceneType_USER_GRADE, su->id, su->gifter_level);
    if (su->fan_level > 0)
        badge_level(e, u, TikTok_BadgeSceneType_FANS, su->id, su->fan_level);
    if (su->subscriber) {
        snprintf(url, sizeof(url), "%s/sim/img/badge/sub_badge_lv1.png", e->s->http_base);
        badge_image(e, u, TikTok_BadgeSceneType_SUBSCRIBER, url);
    }
    if (su->top_gifter > 0) {
        snprintf(url, sizeof(url), "%s/sim/img/badge/ranklist_top_gifter_%d.png", e->s->http_base,
                 su->top_gifter);
        badge_image(e, u, TikTok_BadgeSceneType_BADGE_SCENE_TYPE_RANK_LIST, url);
    }
    if (su->new_gifter)
        badge_text(e, u, TikTok_BadgeSceneType_BADGE_SCENE_TYPE_UNKNOWN, "pm_mt_live_ng_im",
                   "New gifter");
}

TikTok_User *enc_user(struct enc *e, const struct sim_user *su)
{
    TikTok_User *u = NEW(e, TikTok_User);

    if (u == NULL)
        return NULL;
    u->has_id = true;
    u->id = su->id;
    u->idStr = enc_strf(e, "%" PRId64, su->id);
    u->nickname = enc_str(e, su->nickname);
    u->displayId = enc_str(e, su->handle);
    u->secUid = enc_str(e, su->sec_uid);
    if (su->bio != NULL && su->bio[0] != '\0')
        u->bioDescription = enc_str(e, su->bio);
    u->avatarThumb = enc_avatar(e, su->id);
    u->avatarLarge = enc_avatar(e, su->id);
    u->has_createTime = su->create_time != 0;
    u->createTime = su->create_time;
    u->followInfo = NEW(e, TikTok_FollowInfo);
    if (u->followInfo != NULL) {
        u->followInfo->has_followingCount = true;
        u->followInfo->followingCount = su->following;
        u->followInfo->has_followerCount = true;
        u->followInfo->followerCount = su->followers;
        u->followInfo->has_followStatus = su->follow_status != 0;
        u->followInfo->followStatus = su->follow_status;
    }
    user_badges(e, u, su);
    return u;
}

static TikTok_TextPiece *piece_user(struct enc *e, TikTok_TextPiece *p, const struct sim_user *su)
{
    p->has_type = true;
    p->type = 11;
    p->userValue = NEW(e, TikTok_TextPieceUser);
    if (p->userValue != NULL) {
        p->userValue->user = enc_user(e, su);
        p->userValue->has_withColon = true;
        p->userValue->withColon = true;
    }
    return p;
}

/* The header every message starts with; the display text names the event for the clients. */
TikTok_CommonMessageData *enc_common(struct enc *e, const char *method, const char *key,
                                     const char *pattern, const struct sim_user *piece)
{
    TikTok_CommonMessageData *c = NEW(e, TikTok_CommonMessageData);

    if (c == NULL)
        return NULL;
    c->method = enc_str(e, method);
    c->has_msgId = true;
    c->msgId = e->msg_id = enc_next_msg_id(e->s);
    c->has_roomId = true;
    c->roomId = room_cur_id(e->r);
    c->has_createTime = true;
    c->createTime = common_wall_ms();
    c->has_isShowMsg = true;
    c->isShowMsg = true;
    if (key == NULL)
        return c;
    c->displayText = NEW(e, TikTok_Text);
    if (c->displayText == NULL)
        return c;
    c->displayText->key = enc_str(e, key);
    c->displayText->defaultPattern = enc_str(e, pattern);
    if (piece != NULL) {
        c->displayText->pieces = enc_alloc(e, 3 * sizeof(TikTok_TextPiece));
        if (c->displayText->pieces != NULL) {
            piece_user(e, &c->displayText->pieces[0], piece);
            c->displayText->pieces_count = 1;
        }
    }
    return c;
}
