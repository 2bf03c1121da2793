/** @file dec_extra.c
 * Message types beyond 1.x, named as tiktok-live-connector 2.x names their events; the payloads
 * are our own design, documented field by field in docs/events.md ("Events beyond 1.x").
 *
 *   WebcastRoomPinMessage      -> roomPin: chatMessage 2, socialMessage 3, giftMessage 4,
 *       memberMessage 5, likeMessage 6, method 30, pinTime 31, operator 32, action 33,
 *       displayDuration 34, pinMsgId 35
 *   WebcastPollMessage         -> pollMessage: messageType 2, pollId 3, startContent 4
 *       {startTime 1, endTime 2, optionList 3, title 4, operator 5}, endContent 5 {endType 1,
 *       optionList 2, operator 3}, updateVotesContent 6 {optionList 2, operator 3}, pollKind 7;
 *       PollOptionInfo {votes 1, displayContent 2, optionIdx 3}
 *   WebcastRoomMessage         -> roomMessage: content 2, source 4, scene 6, isWelcome 7,
 *       subScene 10
 *   WebcastBarrageMessage      -> barrage: msgType 3, content 5 (Text), duration 6, subType 23,
 *       user 50
 *   WebcastInRoomBannerMessage -> inRoomBanner: data 2 (JSON text)
 *   WebcastImDeleteMessage     -> imDelete: deleteMsgIds 2, deleteUserIds 3 (packed)
 *   WebcastSystemMessage       -> system: message 2
 *   WebcastGoalUpdateMessage, WebcastRankUpdateMessage, WebcastCaptionMessage -> goalUpdate,
 *       rankUpdate, captionMessage: the common header only (the protocol notes give no field
 *       table for their bodies).
 * Every one of them carries the common header: msgId, createTime, displayType, label.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dec.h"

TT_ASSERT_COMMON(WebcastRoomPinMessage);
TT_ASSERT_COMMON(WebcastPollMessage);
TT_ASSERT_COMMON(WebcastRoomMessage);
TT_ASSERT_COMMON(WebcastBarrageMessage);
TT_ASSERT_COMMON(WebcastInRoomBannerMessage);
TT_ASSERT_COMMON(WebcastImDeleteMessage);
TT_ASSERT_COMMON(WebcastSystemMessage);

/* Scan message + common header; open the JSON object and write the header into it. */
static int begin(struct dec *x, struct pb_msg *m, const struct pb_desc *d, size_t nd,
                 struct common *c, struct jw *w, struct tt_event *ev)
{
    static const struct pb_desc one[] = { { TT_COMMON_FIELD, PB_LEN } };
    struct pb_msg cm;
    if (tt__pb_scan(m, d, nd, x->raw.p, x->raw.n) || tt__pb_scan(&cm, one, 1, x->raw.p, x->raw.n) ||
        tt__common_read(pb_s(&cm, 0), c)) {
        return -1;
    }
    memset(ev, 0, sizeof *ev);
    ev->msg_id = c->msg_id;
    jw_open(w, x->json, '{');
    tt__common_write(w, c);
    return 0;
}

static int finish(struct dec *x, struct jw *w, struct tt_event *ev, enum tt_event_type type)
{
    jw_close(w, '}');
    return tt__emit(x, ev, type);
}

static int header_only(struct dec *x, enum tt_event_type type)
{
    struct pb_msg m;
    struct common c;
    struct tt_event ev;
    struct jw w;
    if (begin(x, &m, NULL, 0, &c, &w, &ev)) {
        return -1;
    }
    return finish(x, &w, &ev, type);
}

int tt__dec_goal_update(struct dec *x)
{
    return header_only(x, TT_EV_GOAL_UPDATE);
}

int tt__dec_rank_update(struct dec *x)
{
    return header_only(x, TT_EV_RANK_UPDATE);
}

int tt__dec_caption(struct dec *x)
{
    return header_only(x, TT_EV_CAPTION_MESSAGE);
}

/* "key": user object, or null when absent. */
static int write_user_or_null(struct jw *w, const struct pb_msg *m, unsigned i, uint64_t *id)
{
    if (!PB_HAS(m, i)) {
        jw_raw(w, "null");
        return 0;
    }
    return tt__user_object(w, pb_s(m, i), id);
}

int tt__dec_room_pin(struct dec *x)
{
    static const struct pb_desc d[] = {
        { TT_TAG(WebcastRoomPinMessage, chatMessage), PB_LEN },
        { TT_TAG(WebcastRoomPinMessage, socialMessage), PB_LEN },
        { TT_TAG(WebcastRoomPinMessage, giftMessage), PB_LEN },
        { TT_TAG(WebcastRoomPinMessage, memberMessage), PB_LEN },
        { TT_TAG(WebcastRoomPinMessage, likeMessage), PB_LEN },
        { TT_TAG(WebcastRoomPinMessage, method), PB_LEN },
        { TT_TAG(WebcastRoomPinMessage, pinTime), PB_INT },
        { TT_TAG(WebcastRoomPinMessage, operator), PB_LEN },
        { TT_TAG(WebcastRoomPinMessage, action), PB_INT },
        { TT_TAG(WebcastRoomPinMessage, displayDuration), PB_INT },
        { TT_TAG(WebcastRoomPinMessage, pinMsgId), PB_INT },
    };
    /* pinned message kinds: field index, the event it would be, field number of its user */
    static const struct {
        enum tt_event_type type;
        uint32_t user_num;
    } kinds[] = {
        { TT_EV_CHAT, TT_TAG(WebcastChatMessage, user) },
        { TT_EV_SOCIAL, TT_TAG(WebcastSocialMessage, user) },
        { TT_EV_GIFT, TT_TAG(WebcastGiftMessage, user) },
        { TT_EV_MEMBER, TT_TAG(WebcastMemberMessage, user) },
        { TT_EV_LIKE, TT_TAG(WebcastLikeMessage, user) },
    };
    struct pb_msg m, pm;
    struct common c;
    struct tt_event ev;
    struct jw w, o;
    if (begin(x, &m, d, sizeof d / sizeof d[0], &c, &w, &ev)) {
        return -1;
    }
    JK(&w, "action");
    tt__json_i64(w.b, pb_i32(&m, 8));
    JK(&w, "pinTime");
    tt__json_i64(w.b, pb_i(&m, 6));
    JK(&w, "displayDuration");
    tt__json_i64(w.b, pb_i(&m, 9));
    JK(&w, "pinMsgId");
    tt__json_u64_str(w.b, pb_u(&m, 10));
    JK(&w, "pinnedMethod");
    jw_str(&w, pb_s(&m, 5));
    JK(&w, "operator");
    if (write_user_or_null(&w, &m, 7, NULL)) {
        return -1;
    }
    JK(&w, "pinned");
    unsigned k = 0;
    while (k < 5 && !PB_HAS(&m, k)) {
        k++;
    }
    if (k == 5) {
        jw_raw(&w, "null");
        return finish(x, &w, &ev, TT_EV_ROOM_PIN);
    }
    struct pb_desc pd[] = { { kinds[k].user_num, PB_LEN },
                            { TT_TAG(WebcastChatMessage, content), PB_LEN } };
    if (tt__pb_scan_slice(&pm, pd, k == 0 ? 2 : 1, pb_s(&m, k))) {
        return -1;
    }
    jw_open(&o, w.b, '{');
    JK(&o, "event");
    jw_cstr(&o, tt_event_type_name(kinds[k].type));
    if (k == 0) {
        JK(&o, "comment");
        jw_str(&o, pb_s(&pm, 1));
    }
    JK(&o, "user");
    if (write_user_or_null(&o, &pm, 0, &ev.user_id)) {
        return -1;
    }
    jw_close(&o, '}');
    return finish(x, &w, &ev, TT_EV_ROOM_PIN);
}

static int write_poll_options(struct jw *w, struct pb_slice content, uint32_t num)
{
    static const struct pb_desc d[] = { { TT_TAG(PollOptionInfo, votes), PB_INT },
                                        { TT_TAG(PollOptionInfo, displayContent), PB_LEN },
                                        { TT_TAG(PollOptionInfo, optionIdx), PB_INT } };
    struct jw a, o;
    struct pb_iter it;
    struct pb_slice e;
    struct pb_msg m;
    JK(w, "options");
    jw_open(&a, w->b, '[');
    tt__pb_iter_init(&it, content, num);
    while (tt__pb_iter_next(&it, &e)) {
        if (tt__pb_scan(&m, d, 3, e.p, e.n)) {
            return -1;
        }
        JI(&a);
        jw_open(&o, a.b, '{');
        JK(&o, "optionIdx");
        tt__json_i64(o.b, pb_i32(&m, 2));
        JK(&o, "displayContent");
        jw_str(&o, pb_s(&m, 1));
        JK(&o, "votes");
        tt__json_i64(o.b, pb_i(&m, 0));
        jw_close(&o, '}');
    }
    jw_close(&a, ']');
    return 0;
}

int tt__dec_poll(struct dec *x)
{
    static const struct pb_desc d[] = { { TT_TAG(WebcastPollMessage, messageType), PB_INT },
                                        { TT_TAG(WebcastPollMessage, pollId), PB_INT },
                                        { TT_TAG(WebcastPollMessage, startContent), PB_LEN },
                                        { TT_TAG(WebcastPollMessage, endContent), PB_LEN },
                                        { TT_TAG(WebcastPollMessage, updateVotesContent), PB_LEN },
                                        { TT_TAG(WebcastPollMessage, pollKind), PB_INT } };
    static const struct pb_desc sd[] = { { TT_TAG(PollStartContent, startTime), PB_INT },
                                         { TT_TAG(PollStartContent, endTime), PB_INT },
                                         { TT_TAG(PollStartContent, title), PB_LEN },
                                         { TT_TAG(PollStartContent, operator), PB_LEN } };
    static const struct pb_desc ed[] = { { TT_TAG(PollEndContent, endType), PB_INT },
                                         { TT_TAG(PollEndContent, operator), PB_LEN } };
    struct pb_msg m, s, e, u;
    struct common c;
    struct tt_event ev;
    struct jw w;
    if (begin(x, &m, d, 6, &c, &w, &ev) || tt__pb_scan_slice(&s, sd, 4, pb_s(&m, 2)) ||
        tt__pb_scan_slice(&e, ed, 2, pb_s(&m, 3)) || tt__pb_scan_slice(&u, ed, 2, pb_s(&m, 4))) {
        return -1;
    }
    JK(&w, "messageType");
    tt__json_i64(w.b, pb_i(&m, 0));
    JK(&w, "pollId");
    tt__json_u64_str(w.b, pb_u(&m, 1));
    JK(&w, "pollKind");
    tt__json_i64(w.b, pb_i32(&m, 5));
    JK(&w, "title");
    jw_str(&w, pb_s(&s, 2));
    JK(&w, "startTime");
    tt__json_i64(w.b, pb_i(&s, 0));
    JK(&w, "endTime");
    tt__json_i64(w.b, pb_i(&s, 1));
    JK(&w, "endType");
    tt__json_i64(w.b, pb_i32(&e, 0));
    /* the newest list: update, else end, else start */
    int r = PB_HAS(&m, 4) ? write_poll_options(&w, pb_s(&m, 4),
                                               TT_TAG(PollUpdateVotesContent, optionList))
            : PB_HAS(&m, 3)
                    ? write_poll_options(&w, pb_s(&m, 3), TT_TAG(PollEndContent, optionList))
                    : write_poll_options(&w, pb_s(&m, 2), TT_TAG(PollStartContent, optionList));
    JK(&w, "operator");
    if (r || write_user_or_null(&w,
                                PB_HAS(&u, 1)   ? &u
                                : PB_HAS(&e, 1) ? &e
                                                : &s,
                                PB_HAS(&u, 1) || PB_HAS(&e, 1) ? 1 : 3, &ev.user_id)) {
        return -1;
    }
    return finish(x, &w, &ev, TT_EV_POLL_MESSAGE);
}

int tt__dec_room_message(struct dec *x)
{
    static const struct pb_desc d[] = {
        { TT_TAG(WebcastRoomMessage, content), PB_LEN },
        { TT_TAG(WebcastRoomMessage, source), PB_INT },
        { TT_TAG(WebcastRoomMessage, scene), PB_LEN },
        { TT_TAG(WebcastRoomMessage, isWelcome), PB_INT },
        { TT_TAG(WebcastRoomMessage, subScene), PB_LEN },
    };
    struct pb_msg m;
    struct common c;
    struct tt_event ev;
    struct jw w;
    if (begin(x, &m, d, 5, &c, &w, &ev)) {
        return -1;
    }
    JK(&w, "content");
    jw_str(&w, pb_s(&m, 0));
    JK(&w, "source");
    tt__json_i64(w.b, pb_i32(&m, 1));
    JK(&w, "scene");
    jw_str(&w, pb_s(&m, 2));
    JK(&w, "isWelcome");
    jw_bool(&w, pb_u(&m, 3) != 0);
    JK(&w, "subScene");
    jw_str(&w, pb_s(&m, 4));
    return finish(x, &w, &ev, TT_EV_ROOM_MESSAGE);
}

int tt__dec_barrage(struct dec *x)
{
    static const struct pb_desc d[] = {
        { TT_TAG(WebcastBarrageMessage, msgType), PB_INT },
        { TT_TAG(WebcastBarrageMessage, content), PB_LEN },
        { TT_TAG(WebcastBarrageMessage, duration), PB_INT },
        { TT_TAG(WebcastBarrageMessage, subType), PB_LEN },
        { TT_TAG(WebcastBarrageMessage, user), PB_LEN },
    };
    static const struct pb_desc td[] = { { TT_TAG(Text, key), PB_LEN },
                                         { TT_TAG(Text, defaultPattern), PB_LEN } };
    struct pb_msg m, t;
    struct common c;
    struct tt_event ev;
    struct jw w;
    if (begin(x, &m, d, 5, &c, &w, &ev) || tt__pb_scan_slice(&t, td, 2, pb_s(&m, 1))) {
        return -1;
    }
    JK(&w, "msgType");
    tt__json_i64(w.b, pb_i32(&m, 0));
    JK(&w, "duration");
    tt__json_i64(w.b, pb_i(&m, 2));
    JK(&w, "subType");
    jw_str(&w, pb_s(&m, 3));
    JK(&w, "contentKey");
    jw_str(&w, pb_s(&t, 0));
    JK(&w, "content");
    jw_str(&w, pb_s(&t, 1));
    JK(&w, "user");
    if (write_user_or_null(&w, &m, 4, &ev.user_id)) {
        return -1;
    }
    return finish(x, &w, &ev, TT_EV_BARRAGE);
}

int tt__dec_in_room_banner(struct dec *x)
{
    static const struct pb_desc d[] = { { TT_TAG(WebcastInRoomBannerMessage, data), PB_LEN } };
    struct pb_msg m;
    struct common c;
    struct tt_event ev;
    struct jw w;
    if (begin(x, &m, d, 1, &c, &w, &ev)) {
        return -1;
    }
    struct pb_slice data = pb_s(&m, 0);
    JK(&w, "data"); /* the JSON it carries, parsed; the text when it is not JSON */
    if (data.n && tt__json_valid(data.p, data.n)) {
        common_buf_add(w.b, data.p, data.n);
    } else {
        jw_str(&w, data);
    }
    return finish(x, &w, &ev, TT_EV_IN_ROOM_BANNER);
}

static void write_id_list(struct jw *w, struct pb_slice msg, uint32_t num)
{
    struct jw a;
    struct pb_iter it;
    uint64_t v;
    jw_open(&a, w->b, '[');
    tt__pb_iter_init(&it, msg, num);
    while (tt__pb_iter_next_varint(&it, &v)) {
        JI(&a);
        tt__json_u64_str(a.b, v);
    }
    jw_close(&a, ']');
}

int tt__dec_im_delete(struct dec *x)
{
    struct pb_msg m;
    struct common c;
    struct tt_event ev;
    struct jw w;
    if (begin(x, &m, NULL, 0, &c, &w, &ev)) {
        return -1;
    }
    JK(&w, "deleteMsgIds");
    write_id_list(&w, x->raw, TT_TAG(WebcastImDeleteMessage, deleteMsgIds));
    JK(&w, "deleteUserIds");
    write_id_list(&w, x->raw, TT_TAG(WebcastImDeleteMessage, deleteUserIds));
    return finish(x, &w, &ev, TT_EV_IM_DELETE);
}

int tt__dec_system(struct dec *x)
{
    static const struct pb_desc d[] = { { TT_TAG(WebcastSystemMessage, message), PB_LEN } };
    struct pb_msg m;
    struct common c;
    struct tt_event ev;
    struct jw w;
    if (begin(x, &m, d, 1, &c, &w, &ev)) {
        return -1;
    }
    JK(&w, "message");
    jw_str(&w, pb_s(&m, 0));
    return finish(x, &w, &ev, TT_EV_SYSTEM);
}
