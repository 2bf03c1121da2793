/** @file dec_room.c
 * Room-level messages:
 *   WebcastRoomUserSeqMessage -> "roomUser": ranks 2 (repeated Contributor {score 1, user 2}),
 *       total 3. JSON: topViewers [{user|null, coinCount}], viewerCount.
 *   WebcastQuestionNewMessage -> "questionNew": data 2 {content 2 (questionText), user 5}.
 *   WebcastLiveIntroMessage   -> "liveIntro": id 2 (string, as 1.x leaves the Long), content 4
 *       (description), user 5.
 *   WebcastControlMessage     -> "controlMessage" for every action (common, action 2, tips 3),
 *       then "streamEnd" {action} for actions 3 (ended by the host) and 4 (suspended), as 1.x.
 *   WebcastEnvelopeMessage    -> "envelope": envelopeInfo 2 {diamondCount 5 (coins),
 *       peopleCount 6 (canOpen), unpackAt 7 (timestamp)}; the sender is the first text piece's
 *       user of common.displayText (1.x's chain 1->8->4->21->1).
 * 1.x's schema gives roomUser, questionNew, liveIntro and envelope no common header, so their
 * JSON has no msgId (tt_event.msg_id still carries it when the wire has one).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dec.h"

TT_ASSERT_COMMON(WebcastRoomUserSeqMessage);
TT_ASSERT_COMMON(WebcastQuestionNewMessage);
TT_ASSERT_COMMON(WebcastLiveIntroMessage);
TT_ASSERT_COMMON(WebcastEnvelopeMessage);

/* Common header of a message whose JSON does not show it: only msg_id is kept. */
static int peek_msg_id(struct pb_slice msg, uint64_t *id)
{
    static const struct pb_desc d[] = { { TT_COMMON_FIELD, PB_LEN } };
    struct pb_msg m;
    struct common c;
    if (tt__pb_scan(&m, d, 1, msg.p, msg.n) || tt__common_read(pb_s(&m, 0), &c)) {
        return -1;
    }
    *id = c.msg_id;
    return 0;
}

enum { CO_SCORE, CO_USER, CO_N };
static const struct pb_desc contributor_desc[CO_N] = {
    [CO_SCORE] = { TT_TAG(Contributor, score), PB_INT },
    [CO_USER] = { TT_TAG(Contributor, user), PB_LEN },
};

static int write_top_viewers(struct jw *w, struct pb_slice msg)
{
    struct jw a, o;
    struct pb_iter it;
    struct pb_slice e;
    struct pb_msg m;
    JK(w, "topViewers");
    jw_open(&a, w->b, '[');
    tt__pb_iter_init(&it, msg, TT_TAG(WebcastRoomUserSeqMessage, ranks));
    while (tt__pb_iter_next(&it, &e)) {
        if (tt__pb_scan(&m, contributor_desc, CO_N, e.p, e.n)) {
            return -1;
        }
        JI(&a);
        jw_open(&o, a.b, '{');
        JK(&o, "user");
        if (!PB_HAS(&m, CO_USER)) {
            jw_raw(&o, "null");
        } else if (tt__user_object(&o, pb_s(&m, CO_USER), NULL)) {
            return -1;
        }
        JK(&o, "coinCount");
        tt__json_u64(o.b, pb_u(&m, CO_SCORE));
        jw_close(&o, '}');
    }
    jw_close(&a, ']');
    return 0;
}

int tt__dec_room_user(struct dec *x)
{
    static const struct pb_desc d[] = { { TT_TAG(WebcastRoomUserSeqMessage, total), PB_INT } };
    struct pb_msg m;
    struct tt_event ev = { 0 };
    struct jw w;
    if (tt__pb_scan(&m, d, 1, x->raw.p, x->raw.n) || peek_msg_id(x->raw, &ev.msg_id)) {
        return -1;
    }
    ev.u.room_user.viewer_count = pb_i(&m, 0);
    jw_open(&w, x->json, '{');
    if (write_top_viewers(&w, x->raw)) {
        return -1;
    }
    JK(&w, "viewerCount");
    tt__json_i64(w.b, ev.u.room_user.viewer_count);
    jw_close(&w, '}');
    return tt__emit(x, &ev, TT_EV_ROOM_USER);
}

int tt__dec_question_new(struct dec *x)
{
    static const struct pb_desc d[] = { { TT_TAG(WebcastQuestionNewMessage, data), PB_LEN } };
    static const struct pb_desc q[] = { { TT_TAG(Question, content), PB_LEN },
                                        { TT_TAG(Question, user), PB_LEN } };
    struct pb_msg m, qm;
    struct tt_event ev = { 0 };
    struct jw w;
    if (tt__pb_scan(&m, d, 1, x->raw.p, x->raw.n) || peek_msg_id(x->raw, &ev.msg_id) ||
        tt__pb_scan_slice(&qm, q, 2, pb_s(&m, 0))) {
        return -1;
    }
    jw_open(&w, x->json, '{');
    JK(&w, "questionText");
    jw_str(&w, pb_s(&qm, 0));
    if (tt__user_write(&w, pb_s(&qm, 1), &ev.user_id)) {
        return -1;
    }
    jw_close(&w, '}');
    return tt__emit(x, &ev, TT_EV_QUESTION_NEW);
}

int tt__dec_live_intro(struct dec *x)
{
    static const struct pb_desc d[] = { { TT_TAG(WebcastLiveIntroMessage, id), PB_INT },
                                        { TT_TAG(WebcastLiveIntroMessage, content), PB_LEN },
                                        { TT_TAG(WebcastLiveIntroMessage, user), PB_LEN } };
    struct pb_msg m;
    struct tt_event ev = { 0 };
    struct jw w;
    if (tt__pb_scan(&m, d, 3, x->raw.p, x->raw.n) || peek_msg_id(x->raw, &ev.msg_id)) {
        return -1;
    }
    jw_open(&w, x->json, '{');
    JK(&w, "id");
    tt__json_u64_str(w.b, pb_u(&m, 0));
    JK(&w, "description");
    jw_str(&w, pb_s(&m, 1));
    if (tt__user_write(&w, pb_s(&m, 2), &ev.user_id)) {
        return -1;
    }
    jw_close(&w, '}');
    return tt__emit(x, &ev, TT_EV_LIVE_INTRO);
}

int tt__dec_control(struct dec *x)
{
    static const struct pb_desc d[] = { { TT_TAG(WebcastControlMessage, common), PB_LEN },
                                        { TT_TAG(WebcastControlMessage, action), PB_INT },
                                        { TT_TAG(WebcastControlMessage, tips), PB_LEN } };
    struct pb_msg m;
    struct common c;
    struct tt_event ev = { 0 };
    struct jw w;
    if (tt__pb_scan(&m, d, 3, x->raw.p, x->raw.n) || tt__common_read(pb_s(&m, 0), &c)) {
        return -1;
    }
    ev.msg_id = c.msg_id;
    ev.u.control.action = pb_i32(&m, 1);
    jw_open(&w, x->json, '{');
    JK(&w, "action");
    tt__json_i64(w.b, ev.u.control.action);
    JK(&w, "tips");
    jw_str(&w, pb_s(&m, 2));
    tt__common_write(&w, &c);
    jw_close(&w, '}');
    if (tt__emit(x, &ev, TT_EV_CONTROL_MESSAGE)) {
        return -1;
    }
    if (ev.u.control.action != 3 && ev.u.control.action != 4) {
        return 0;
    }
    common_buf_reset(x->json);
    jw_open(&w, x->json, '{');
    JK(&w, "action");
    tt__json_i64(w.b, ev.u.control.action);
    jw_close(&w, '}');
    return tt__emit(x, &ev, TT_EV_STREAM_END);
}

/* common.displayText.pieces[0].userValue.user: where 1.x finds the envelope's sender. */
static int envelope_sender(struct pb_slice common_msg, struct pb_slice *user)
{
    static const struct pb_desc one[] = { { TT_TAG(TextPieceUser, user), PB_LEN } };
    static const struct pb_desc user_value[] = { { TT_TAG(TextPiece, userValue), PB_LEN } };
    struct common c;
    struct pb_slice piece = { NULL, 0 };
    struct pb_iter it;
    struct pb_msg m;
    user->p = (const uint8_t *)"";
    user->n = 0;
    if (tt__common_read(common_msg, &c)) {
        return -1;
    }
    tt__pb_iter_init(&it, c.display_text, TT_TAG(Text, pieces));
    if (!tt__pb_iter_next(&it, &piece)) {
        return 0;
    }
    if (tt__pb_scan_slice(&m, user_value, 1, piece) || tt__pb_scan_slice(&m, one, 1, pb_s(&m, 0))) {
        return -1;
    }
    *user = pb_s(&m, 0);
    return 0;
}

int tt__dec_envelope(struct dec *x)
{
    static const struct pb_desc d[] = { { TT_TAG(WebcastEnvelopeMessage, common), PB_LEN },
                                        { TT_TAG(WebcastEnvelopeMessage, envelopeInfo), PB_LEN } };
    static const struct pb_desc info[] = { { TT_TAG(MessageRedEnvelopInfo, diamondCount), PB_INT },
                                           { TT_TAG(MessageRedEnvelopInfo, peopleCount), PB_INT },
                                           { TT_TAG(MessageRedEnvelopInfo, unpackAt), PB_INT } };
    struct pb_msg m, im;
    struct pb_slice user;
    struct tt_event ev = { 0 };
    struct jw w;
    if (tt__pb_scan(&m, d, 2, x->raw.p, x->raw.n) || peek_msg_id(x->raw, &ev.msg_id) ||
        tt__pb_scan_slice(&im, info, 3, pb_s(&m, 1)) || envelope_sender(pb_s(&m, 0), &user)) {
        return -1;
    }
    jw_open(&w, x->json, '{');
    JK(&w, "coins");
    tt__json_i64(w.b, pb_i(&im, 0));
    JK(&w, "canOpen");
    tt__json_i64(w.b, pb_i(&im, 1));
    JK(&w, "timestamp"); /* 1.x: parseInt(undefined) = NaN -> null when the wire has none */
    if (PB_HAS(&im, 2)) {
        tt__json_i64(w.b, pb_i(&im, 2));
    } else {
        jw_raw(&w, "null");
    }
    if (tt__user_write(&w, user, &ev.user_id)) {
        return -1;
    }
    jw_close(&w, '}');
    return tt__emit(x, &ev, TT_EV_ENVELOPE);
}
