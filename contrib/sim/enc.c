/** @file enc.c
 * Scenario events -> Webcast messages, encoded with the nanopb code generated from
 * proto/webcast.proto, in TikTok's v3 layout (docs/protocol.md §7-§8): every message opens with
 * a `common` header (method, a msgId unique in this process, roomId, createTime), users carry
 * ids, handle, nickname, secUid, avatar urls, followInfo and badges, and `displayText` holds the
 * key and pattern clients classify events by. Both tiktok-live-connector 1.2.3 (which reads the
 * 1.x names at the same field numbers) and 2.5.0 decode these messages.
 *
 * What the fields of struct ev mean per type:
 *
 *   type            user      a             b            c           d          s1      s2
 *   chat            author    emote index                                      text    emote id
 *   gift            sender    gift index    repeatCount  repeatEnd   groupId
 *   like            liker     count         total
 *   follow/share/join user
 *   viewers                   viewer count  total users                                   items: top
 *   question        asker     question id                                      text
 *   battle                    battle id     action                                      items: hosts
 *   battle_points             battle id     trigger      diamonds?                      items: hosts
 *   intro           host      intro id                                         text
 *   emote           user                                                       emote id
 *   envelope        sender    coins         people       unpack s                envelope id
 *   subscribe       user      months        sub type     old status  sub status
 *   pin             author    action        duration s                         text
 *   poll            operator  poll id       phase        duration s  end type  title   items: options
 *   pause/resume/end/suspend                                                   tips
 *   raw                       length                                           method  bytes
 *
 * The common header, users and images are built in enc_user.c. All allocations go to the
 * simulator's scratch arena, which the caller resets after the frame is encoded.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <pb_encode.h>

#include "enc.h"
#include "gifts.h"

/* ---- one builder per message; each returns the message struct or NULL ---- */

static void *chat(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastChatMessage *m = NEW(e, TikTok_WebcastChatMessage);

    if (m == NULL)
        return NULL;
    m->common = enc_common(e, "WebcastChatMessage", NULL, NULL, NULL);
    m->user = enc_user(e, enc_user_at(e, ev->user));
    m->content = enc_str(e, ev->s1);
    m->contentLanguage = enc_str(e, "en");
    if (ev->s2 != NULL) {
        TikTok_EmoteWithIndex *w = NEW(e, TikTok_EmoteWithIndex);

        if (w == NULL)
            return m;
        w->has_index = true;
        w->index = (int32_t)ev->a;
        w->emote = NEW(e, TikTok_EmoteModel);
        if (w->emote != NULL) {
            w->emote->emoteId = enc_str(e, ev->s2);
            w->emote->image = enc_image(e, "emote", (int64_t)(sim_hash(ev->s2) >> 8), 1);
        }
        m->emotes = w;
        m->emotes_count = 1;
    }
    return m;
}

static char *monitor_extra(struct enc *e, const struct ev *ev, const struct sim_user *from,
                           const struct gift *g, int64_t ms)
{
    const struct sim_user *host = &e->s->users[e->r->host];

    return enc_strf(e,
                    "{\"anchor_id\":%" PRId64 ",\"from_idc\":\"useast2a\",\"from_user_id\":%" PRId64
                    ",\"gift_id\":%" PRId64 ",\"gift_type\":%d,\"log_id\":\"%" PRId64
                    "\",\"msg_id\":%" PRId64 ",\"repeat_count\":%" PRId64 ",\"repeat_end\":%" PRId64
                    ",\"room_id\":%" PRId64 ",\"send_gift_send_message_success_ms\":%" PRId64
                    ",\"to_user_id\":%" PRId64 "}",
                    host->id, from->id, g->id, g->type, e->msg_id, e->msg_id, ev->b, ev->c,
                    room_cur_id(e->r), ms, host->id);
}

static TikTok_Gift *gift_details(struct enc *e, const struct gift *g)
{
    TikTok_Gift *d = NEW(e, TikTok_Gift);

    if (d == NULL)
        return NULL;
    d->image = enc_image(e, "gift", g->id, 2);
    d->icon = enc_image(e, "gift", g->id, 2);
    d->describe = enc_strf(e, "sent %s", g->name);
    d->has_duration = true;
    d->duration = 1000;
    d->has_id = true;
    d->id = g->id;
    d->has_combo = g->type == 1;
    d->combo = g->type == 1;
    d->has_type = true;
    d->type = g->type;
    d->has_diamondCount = true;
    d->diamondCount = g->diamonds;
    d->name = enc_str(e, g->name);
    d->has_isDisplayedOnPanel = true;
    d->isDisplayedOnPanel = true;
    return d;
}

/* "{0:user} sent {1:gift} {2:string}": the user piece, then the gift and the count. */
static void gift_text(struct enc *e, TikTok_CommonMessageData *c, const struct gift *g,
                      const struct sim_user *from, const struct ev *ev)
{
    TikTok_Text *t = c->displayText;

    c->describe = enc_strf(e, "%s: gifted the host %" PRId64 " %s", from->nickname, ev->b, g->name);
    if (t == NULL || t->pieces == NULL)
        return;
    t->pieces[1].has_type = true;
    t->pieces[1].type = 12;
    t->pieces[1].giftValue = NEW(e, TikTok_TextPieceGift);
    if (t->pieces[1].giftValue != NULL) {
        t->pieces[1].giftValue->has_giftId = true;
        t->pieces[1].giftValue->giftId = g->id;
    }
    t->pieces[2].has_type = true;
    t->pieces[2].type = 1;
    t->pieces[2].stringValue = enc_strf(e, "x%" PRId64, ev->b);
    t->pieces_count = 3;
}

static TikTok_GiftMonitorInfo *gift_monitor(struct enc *e, int64_t host_id, int64_t ms)
{
    TikTok_GiftMonitorInfo *mi = NEW(e, TikTok_GiftMonitorInfo);

    if (mi == NULL)
        return NULL;
    mi->has_anchorId = true;
    mi->anchorId = host_id;
    mi->has_sendGiftSendMessageSuccessMs = true;
    mi->sendGiftSendMessageSuccessMs = ms;
    mi->has_toUserId = true;
    mi->toUserId = host_id;
    return mi;
}

static void *gift(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastGiftMessage *m = NEW(e, TikTok_WebcastGiftMessage);
    const struct gift *g = &sim_gifts[ev->a];
    const struct sim_user *from = enc_user_at(e, ev->user);
    const struct sim_user *host = &e->s->users[e->r->host];
    int64_t ms = common_wall_ms();

    if (m == NULL)
        return NULL;
    m->common = enc_common(e, "WebcastGiftMessage", "webcast_aweme_gift_send_message",
                           "{0:user} sent {1:gift} {2:string}", from);
    if (m->common == NULL)
        return m;
    gift_text(e, m->common, g, from, ev);
    m->has_giftId = true;
    m->giftId = g->id;
    m->has_fanTicketCount = true;
    m->fanTicketCount = (int32_t)(g->diamonds * ev->b);
    m->has_groupCount = true;
    m->groupCount = 1;
    m->has_repeatCount = true;
    m->repeatCount = (int32_t)ev->b;
    m->has_comboCount = true;
    m->comboCount = (int32_t)ev->b;
    m->user = enc_user(e, from);
    m->toUser = enc_user(e, host);
    m->has_repeatEnd = ev->c != 0;
    m->repeatEnd = (int32_t)ev->c;
    m->has_groupId = true;
    m->groupId = ev->d;
    m->gift = gift_details(e, g);
    m->logId = enc_strf(e, "%" PRId64, e->msg_id);
    m->monitorExtra = monitor_extra(e, ev, from, g, ms);
    m->monitorInfo = gift_monitor(e, host->id, ms);
    return m;
}

static void *like(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastLikeMessage *m = NEW(e, TikTok_WebcastLikeMessage);
    const struct sim_user *u = enc_user_at(e, ev->user);

    if (m == NULL)
        return NULL;
    m->common =
            enc_common(e, "WebcastLikeMessage", "pm_mt_msg_viewer", "{0:user} liked the LIVE", u);
    m->has_count = true;
    m->count = (int32_t)ev->a;
    m->has_total = true;
    m->total = ev->b;
    m->user = enc_user(e, u);
    return m;
}

static void *social(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastSocialMessage *m = NEW(e, TikTok_WebcastSocialMessage);
    const struct sim_user *u = enc_user_at(e, ev->user);
    bool follow = ev->type == EV_FOLLOW;

    if (m == NULL)
        return NULL;
    if (follow)
        m->common = enc_common(e, "WebcastSocialMessage", "pm_main_follow_message_viewer_2",
                               "{0:user} followed the LIVE creator", u);
    else
        m->common = enc_common(e, "WebcastSocialMessage", "pm_mt_guidance_share",
                               "{0:user} shared the LIVE", u);
    m->user = enc_user(e, u);
    m->has_action = true;
    m->action = follow ? 1 : 3;
    if (follow) {
        m->has_followCount = true;
        m->followCount = e->s->users[e->r->host].followers;
    } else {
        m->has_shareType = true;
        m->shareType = 1;
        m->has_shareCount = true;
        m->shareCount = 1;
    }
    return m;
}

static void *join(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastMemberMessage *m = NEW(e, TikTok_WebcastMemberMessage);
    const struct sim_user *u = enc_user_at(e, ev->user);

    if (m == NULL)
        return NULL;
    m->common =
            enc_common(e, "WebcastMemberMessage", "live_room_enter_toast", "{0:user} joined", u);
    m->user = enc_user(e, u);
    m->has_memberCount = true;
    m->memberCount = (int32_t)e->r->viewers;
    m->has_action = true;
    m->action = TikTok_MemberMessageAction_MEMBER_MESSAGE_ACTION_JOINED;
    m->has_userId = true;
    m->userId = u->id;
    return m;
}

static void *viewers(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastRoomUserSeqMessage *m = NEW(e, TikTok_WebcastRoomUserSeqMessage);

    if (m == NULL)
        return NULL;
    m->common = enc_common(e, "WebcastRoomUserSeqMessage", NULL, NULL, NULL);
    if (ev->n_items > 0) {
        m->ranks = enc_alloc(e, ev->n_items * sizeof(TikTok_Contributor));
        if (m->ranks == NULL)
            return m;
        for (uint32_t i = 0; i < ev->n_items; i++) {
            m->ranks[i].has_score = true;
            m->ranks[i].score = ev->items[i].n;
            m->ranks[i].user = enc_user(e, enc_user_at(e, ev->items[i].user));
            m->ranks[i].has_rank = true;
            m->ranks[i].rank = i + 1;
        }
        m->ranks_count = (pb_size_t)ev->n_items;
    }
    m->has_total = true;
    m->total = ev->a;
    m->has_totalUser = true;
    m->totalUser = ev->b;
    m->popStr = enc_strf(e, "%" PRId64, ev->a);
    return m;
}

static void *question(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastQuestionNewMessage *m = NEW(e, TikTok_WebcastQuestionNewMessage);

    if (m == NULL)
        return NULL;
    m->common = enc_common(e, "WebcastQuestionNewMessage", NULL, NULL, NULL);
    m->data = NEW(e, TikTok_Question);
    if (m->data == NULL)
        return m;
    m->data->has_questionId = true;
    m->data->questionId = ev->a;
    m->data->content = enc_str(e, ev->s1);
    m->data->has_createTime = true;
    m->data->createTime = common_wall_ms() / 1000;
    m->data->user = enc_user(e, enc_user_at(e, ev->user));
    return m;
}

static void *battle(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastLinkMicBattle *m = NEW(e, TikTok_WebcastLinkMicBattle);

    if (m == NULL)
        return NULL;
    m->common = enc_common(e, "WebcastLinkMicBattle", NULL, NULL, NULL);
    m->has_battleId = true;
    m->battleId = ev->a;
    m->has_action = true;
    m->action = (TikTok_LinkMicBattleBattleAction)ev->b;
    m->anchorsInfo = enc_alloc(e, (ev->n_items + 1) * sizeof(TikTok_BattleUserInfoWrapper));
    if (m->anchorsInfo == NULL)
        return m;
    for (uint32_t i = 0; i < ev->n_items; i++) {
        const struct sim_user *h = enc_user_at(e, ev->items[i].user);
        const struct room *hr = sim_room_by_handle(e->s, h->handle);
        TikTok_BattleUserInfoWrapper *w = &m->anchorsInfo[i];
        TikTok_BattleBaseUserInfo *b;

        w->has_key = true;
        w->key = h->id;
        w->value = NEW(e, TikTok_BattleUserInfo);
        if (w->value == NULL || (w->value->user = NEW(e, TikTok_BattleBaseUserInfo)) == NULL)
            return m;
        b = w->value->user;
        b->has_userId = true;
        b->userId = h->id;
        b->nickName = enc_str(e, h->nickname);
        b->avatarThumb = enc_avatar(e, h->id);
        b->displayId = enc_str(e, h->handle);
        b->has_roomId = hr != NULL;
        b->roomId = hr != NULL ? room_cur_id(hr) : 0;
    }
    m->anchorsInfo_count = (pb_size_t)ev->n_items;
    return m;
}

static void army(struct enc *e, TikTok_WebcastLinkMicArmies_ArmiesEntry *a,
                 const struct ev_item *it, bool diamonds)
{
    const struct sim_user *h = enc_user_at(e, it->user);
    TikTok_BattleUserArmies *v = NEW(e, TikTok_BattleUserArmies);

    a->has_key = true;
    a->key = h->id;
    a->value = v;
    if (v == NULL)
        return;
    v->has_hostscore = true;
    v->hostscore = it->n;
    v->anchorIdStr = enc_strf(e, "%" PRId64, h->id);
    if (it->n_users == 0)
        return;
    v->userArmies = enc_alloc(e, it->n_users * sizeof(TikTok_BattleUserArmy));
    if (v->userArmies == NULL)
        return;
    for (uint32_t i = 0; i < it->n_users; i++) {
        const struct sim_user *p = enc_user_at(e, it->users[i]);
        TikTok_BattleUserArmy *u = &v->userArmies[i];
        /* a participant's share of the host's points: first ones gave most */
        int64_t score = it->n / (int64_t)(i + 2);

        u->has_userId = true;
        u->userId = p->id;
        u->has_score = true;
        u->score = score;
        u->nickname = enc_str(e, p->nickname);
        u->userIdStr = enc_strf(e, "%" PRId64, p->id);
        /* TikTok sends diamondScore at field 5, where 1.x reads a User's bioDescription: real
           traffic breaks 1.x's decoding of this message, so it is opt-in */
        u->has_diamondScore = diamonds;
        u->diamondScore = score;
    }
    v->userArmies_count = (pb_size_t)it->n_users;
}

static void *battle_points(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastLinkMicArmies *m = NEW(e, TikTok_WebcastLinkMicArmies);

    if (m == NULL)
        return NULL;
    m->common = enc_common(e, "WebcastLinkMicArmies", NULL, NULL, NULL);
    m->has_battleId = true;
    m->battleId = ev->a;
    m->has_triggerReason = true;
    m->triggerReason = (TikTok_LinkMicArmiesTriggerReason)ev->b;
    m->armies = enc_alloc(e, (ev->n_items + 1) * sizeof(TikTok_WebcastLinkMicArmies_ArmiesEntry));
    if (m->armies == NULL)
        return m;
    for (uint32_t i = 0; i < ev->n_items; i++)
        army(e, &m->armies[i], &ev->items[i], ev->c != 0);
    m->armies_count = (pb_size_t)ev->n_items;
    return m;
}

static void *intro(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastLiveIntroMessage *m = NEW(e, TikTok_WebcastLiveIntroMessage);

    if (m == NULL)
        return NULL;
    m->common = enc_common(e, "WebcastLiveIntroMessage", NULL, NULL, NULL);
    m->has_id = true;
    m->id = ev->a;
    m->has_auditStatus = true;
    m->auditStatus = 1;
    m->content = enc_str(e, ev->s1);
    m->user = enc_user(e, enc_user_at(e, ev->user));
    m->contentLanguage = enc_str(e, "en");
    return m;
}

static void *emote(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastEmoteChatMessage *m = NEW(e, TikTok_WebcastEmoteChatMessage);

    if (m == NULL)
        return NULL;
    m->common = enc_common(e, "WebcastEmoteChatMessage", NULL, NULL, NULL);
    m->user = enc_user(e, enc_user_at(e, ev->user));
    m->emoteList = NEW(e, TikTok_EmoteModel);
    if (m->emoteList == NULL)
        return m;
    m->emoteList->emoteId = enc_str(e, ev->s1);
    m->emoteList->image = enc_image(e, "emote", (int64_t)(sim_hash(ev->s1) >> 8), 1);
    m->emoteList_count = 1;
    return m;
}

static void *envelope(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastEnvelopeMessage *m = NEW(e, TikTok_WebcastEnvelopeMessage);
    const struct sim_user *u = enc_user_at(e, ev->user);
    TikTok_MessageRedEnvelopInfo *i;

    if (m == NULL)
        return NULL;
    /* 1.x finds the sender in the first user piece of the display text */
    m->common = enc_common(e, "WebcastEnvelopeMessage", "ttlive_treasure_box_sent",
                           "{0:user} sent a treasure chest", u);
    m->envelopeInfo = i = NEW(e, TikTok_MessageRedEnvelopInfo);
    m->has_display = true;
    m->display = 1;
    if (i == NULL)
        return m;
    i->envelopeId = ev->s1 ? enc_str(e, ev->s1) : enc_strf(e, "%" PRId64, e->msg_id + 1);
    i->has_businessType = true;
    i->businessType = TikTok_EnvelopeBusinessType_BUSINESS_TYPE_USER_DIAMOND;
    i->envelopeIdc = enc_str(e, "useast2a");
    i->sendUserName = enc_str(e, u->nickname);
    i->has_diamondCount = true;
    i->diamondCount = (int32_t)ev->a;
    i->has_peopleCount = true;
    i->peopleCount = (int32_t)ev->b;
    i->has_unpackAt = true;
    i->unpackAt = (int32_t)(common_wall_ms() / 1000 + ev->c);
    i->sendUserId = enc_strf(e, "%" PRId64, u->id);
    i->sendUserAvatar = enc_avatar(e, u->id);
    i->createAt = enc_strf(e, "%" PRId64, common_wall_ms() / 1000);
    i->roomId = enc_strf(e, "%" PRId64, room_cur_id(e->r));
    return m;
}

static void *subscribe(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastSubNotifyMessage *m = NEW(e, TikTok_WebcastSubNotifyMessage);
    const struct sim_user *u = enc_user_at(e, ev->user);

    if (m == NULL)
        return NULL;
    m->common = enc_common(e, "WebcastSubNotifyMessage", "ttlive_subscribe_notify",
                           "{0:user} just subscribed to the host", u);
    m->user = enc_user(e, u);
    m->has_exhibitionType = true;
    m->exhibitionType = TikTok_ExhibitionType_PUBLIC_SCREEN;
    m->has_subMonth = true;
    m->subMonth = ev->a;
    m->has_subscribeType = true;
    m->subscribeType = (TikTok_SubscribeType)ev->b;
    m->has_oldSubscribeStatus = true;
    m->oldSubscribeStatus = (TikTok_OldSubscribeStatus)ev->c;
    m->has_subscribingStatus = true;
    m->subscribingStatus = (TikTok_SubscribingStatus)ev->d;
    return m;
}

static void *pin(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastRoomPinMessage *m = NEW(e, TikTok_WebcastRoomPinMessage);
    TikTok_WebcastChatMessage *c;
    int64_t pinned_id;

    if (m == NULL)
        return NULL;
    /* the pinned chat is built first so that its msgId is the one pinMsgId names */
    m->chatMessage = c = chat(e, ev);
    pinned_id = e->msg_id;
    m->common = enc_common(e, "WebcastRoomPinMessage", NULL, NULL, NULL);
    if (c == NULL)
        return m;
    m->method = enc_str(e, "WebcastChatMessage");
    m->has_pinTime = true;
    m->pinTime = common_wall_ms();
    m->operator= enc_user(e, &e->s->users[e->r->host]);
    m->has_action = true;
    m->action = (TikTok_PinMessageActionType)ev->a;
    m->has_displayDuration = true;
    m->displayDuration = ev->b;
    m->has_pinMsgId = true;
    m->pinMsgId = pinned_id;
    return m;
}

static TikTok_PollOptionInfo *poll_options(struct enc *e, const struct ev *ev)
{
    TikTok_PollOptionInfo *o = enc_alloc(e, (ev->n_items + 1) * sizeof(*o));

    if (o == NULL)
        return NULL;
    for (uint32_t i = 0; i < ev->n_items; i++) {
        o[i].has_votes = true;
        o[i].votes = ev->items[i].n;
        o[i].displayContent = enc_str(e, ev->items[i].text);
        o[i].has_optionIdx = true;
        o[i].optionIdx = (int32_t)i;
    }
    return o;
}

static void *poll(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastPollMessage *m = NEW(e, TikTok_WebcastPollMessage);
    int64_t now = common_wall_ms() / 1000;

    if (m == NULL)
        return NULL;
    m->common = enc_common(e, "WebcastPollMessage", NULL, NULL, NULL);
    m->has_pollId = true;
    m->pollId = ev->a;
    m->has_pollKind = true;
    m->pollKind = TikTok_PollKind_POLL_KIND_NORMAL;
    m->has_messageType = true;
    if (ev->b == 1) { /* start */
        m->messageType = 0;
        m->startContent = NEW(e, TikTok_PollStartContent);
        if (m->startContent == NULL)
            return m;
        m->startContent->has_startTime = true;
        m->startContent->startTime = now;
        m->startContent->has_endTime = true;
        m->startContent->endTime = now + ev->c;
        m->startContent->title = enc_str(e, ev->s1);
        m->startContent->operator= enc_user(e, enc_user_at(e, ev->user));
        m->startContent->optionList = poll_options(e, ev);
        m->startContent->optionList_count = (pb_size_t)ev->n_items;
    } else if (ev->b == 2) { /* votes */
        m->messageType = 2;
        m->updateVotesContent = NEW(e, TikTok_PollUpdateVotesContent);
        if (m->updateVotesContent == NULL)
            return m;
        m->updateVotesContent->optionList = poll_options(e, ev);
        m->updateVotesContent->optionList_count = (pb_size_t)ev->n_items;
    } else { /* end */
        m->messageType = 1;
        m->endContent = NEW(e, TikTok_PollEndContent);
        if (m->endContent == NULL)
            return m;
        m->endContent->has_endType = true;
        m->endContent->endType = (TikTok_PollEndType)ev->d;
        m->endContent->optionList = poll_options(e, ev);
        m->endContent->optionList_count = (pb_size_t)ev->n_items;
        m->endContent->operator= enc_user(e, enc_user_at(e, ev->user));
    }
    return m;
}

static void *control(struct enc *e, const struct ev *ev)
{
    TikTok_WebcastControlMessage *m = NEW(e, TikTok_WebcastControlMessage);
    static const int action[] = { [EV_PAUSE] = 1, [EV_RESUME] = 2, [EV_END] = 3, [EV_SUSPEND] = 4 };

    if (m == NULL)
        return NULL;
    m->common = enc_common(e, "WebcastControlMessage", NULL, NULL, NULL);
    m->has_action = true;
    m->action = (TikTok_ControlAction)action[ev->type];
    if (ev->s1 != NULL)
        m->tips = enc_str(e, ev->s1);
    return m;
}

/* clang-format off */
static const struct {
    const char *method;
    const pb_msgdesc_t *desc;
    void *(*build)(struct enc *e, const struct ev *ev);
} builders[EV_N_MESSAGES] = {
    [EV_CHAT]          = { "WebcastChatMessage",        &TikTok_WebcastChatMessage_msg,        chat },
    [EV_GIFT]          = { "WebcastGiftMessage",        &TikTok_WebcastGiftMessage_msg,        gift },
    [EV_LIKE]          = { "WebcastLikeMessage",        &TikTok_WebcastLikeMessage_msg,        like },
    [EV_FOLLOW]        = { "WebcastSocialMessage",      &TikTok_WebcastSocialMessage_msg,      social },
    [EV_SHARE]         = { "WebcastSocialMessage",      &TikTok_WebcastSocialMessage_msg,      social },
    [EV_JOIN]          = { "WebcastMemberMessage",      &TikTok_WebcastMemberMessage_msg,      join },
    [EV_VIEWERS]       = { "WebcastRoomUserSeqMessage", &TikTok_WebcastRoomUserSeqMessage_msg, viewers },
    [EV_QUESTION]      = { "WebcastQuestionNewMessage", &TikTok_WebcastQuestionNewMessage_msg, question },
    [EV_BATTLE]        = { "WebcastLinkMicBattle",      &TikTok_WebcastLinkMicBattle_msg,      battle },
    [EV_BATTLE_POINTS] = { "WebcastLinkMicArmies",      &TikTok_WebcastLinkMicArmies_msg,      battle_points },
    [EV_INTRO]         = { "WebcastLiveIntroMessage",   &TikTok_WebcastLiveIntroMessage_msg,   intro },
    [EV_EMOTE]         = { "WebcastEmoteChatMessage",   &TikTok_WebcastEmoteChatMessage_msg,   emote },
    [EV_ENVELOPE]      = { "WebcastEnvelopeMessage",    &TikTok_WebcastEnvelopeMessage_msg,    envelope },
    [EV_SUBSCRIBE]     = { "WebcastSubNotifyMessage",   &TikTok_WebcastSubNotifyMessage_msg,   subscribe },
    [EV_PIN]           = { "WebcastRoomPinMessage",     &TikTok_WebcastRoomPinMessage_msg,     pin },
    [EV_POLL]          = { "WebcastPollMessage",        &TikTok_WebcastPollMessage_msg,        poll },
    [EV_PAUSE]         = { "WebcastControlMessage",     &TikTok_WebcastControlMessage_msg,     control },
    [EV_RESUME]        = { "WebcastControlMessage",     &TikTok_WebcastControlMessage_msg,     control },
    [EV_END]           = { "WebcastControlMessage",     &TikTok_WebcastControlMessage_msg,     control },
    [EV_SUSPEND]       = { "WebcastControlMessage",     &TikTok_WebcastControlMessage_msg,     control },
};
/* clang-format on */

int enc_event(struct sim *s, struct room *r, const struct ev *ev, struct msg_out *out)
{
    struct enc e = { .s = s, .r = r, .a = &s->scratch };
    void *msg;

    if (ev->type == EV_RAW) {
        out->method = ev->s1;
        out->data = (const unsigned char *)ev->s2;
        out->len = (size_t)ev->a;
        out->msg_id = enc_next_msg_id(s);
        return 0;
    }
    if (ev->type >= EV_N_MESSAGES || builders[ev->type].build == NULL)
        return -1;
    msg = builders[ev->type].build(&e, ev);
    if (msg == NULL || e.oom)
        return -1;
    out->method = builders[ev->type].method;
    out->msg_id = e.msg_id;
    out->data = sim_encode(e.a, builders[ev->type].desc, msg, &out->len);
    return out->data != NULL && !e.oom ? 0 : -1;
}
