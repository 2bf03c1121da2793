/** @file dec_social.c
 * The simple "common header + user + a few numbers" messages:
 *   WebcastMemberMessage    -> "member":    common 1, user 2, action 10 (1.x actionId)
 *   WebcastLikeMessage      -> "like":      common 1, count 2 (likeCount), total 3
 *                                           (totalLikeCount), user 5
 *   WebcastSocialMessage    -> "social", then "follow" if displayType contains "follow" and
 *                                           "share" if it contains "share" (1.x emits all
 *                                           that apply, with the same object): common 1, user 2
 *   WebcastSubNotifyMessage -> "subscribe": common 1, user 2, exhibitionType 3, subMonth 4,
 *                                           subscribeType 5, oldSubscribeStatus 6,
 *                                           subscribingStatus 8
 * Numbers keep all their digits: 1.x wraps totalLikeCount above 2^31 (docs/events.md, deviations).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dec.h"

TT_ASSERT_COMMON(WebcastMemberMessage);
TT_ASSERT_COMMON(WebcastLikeMessage);
TT_ASSERT_COMMON(WebcastSocialMessage);
TT_ASSERT_COMMON(WebcastSubNotifyMessage);

/* A table of (name, field number) for the numeric members of one message type. */
struct num_member {
    const char *key; /* "\"name\":" */
    size_t key_len;
    uint32_t num;
};

#define NUM(name, n)                                    \
    {                                                   \
        "\"" name "\":", sizeof("\"" name "\":") - 1, n \
    }

/* Scan `msg` for common (field 1), user (field `user_num`) and the numeric members; write the
 * numbers, the user and the common header. */
static int simple_message(struct dec *x, struct tt_event *ev, struct common *c, uint32_t user_num,
                          const struct num_member *nums, size_t n_nums, int64_t *values)
{
    struct pb_desc d[10] = { { TT_COMMON_FIELD, PB_LEN }, { user_num, PB_LEN } };
    struct pb_msg m;
    struct jw w;
    for (size_t i = 0; i < n_nums; i++) {
        d[2 + i] = (struct pb_desc){ nums[i].num, PB_INT };
    }
    if (tt__pb_scan(&m, d, 2 + n_nums, x->raw.p, x->raw.n) || tt__common_read(pb_s(&m, 0), c)) {
        return -1;
    }
    jw_open(&w, x->json, '{');
    for (size_t i = 0; i < n_nums; i++) {
        values[i] = pb_i(&m, (unsigned)(2 + i));
        jw_sep(&w, nums[i].key, nums[i].key_len);
        tt__json_i64(w.b, values[i]);
    }
    if (tt__user_write(&w, pb_s(&m, 1), &ev->user_id)) {
        return -1;
    }
    tt__common_write(&w, c);
    jw_close(&w, '}');
    ev->msg_id = c->msg_id;
    return 0;
}

int tt__dec_member(struct dec *x)
{
    static const struct num_member nums[] = { NUM("actionId",
                                                  TT_TAG(WebcastMemberMessage, action)) };
    struct tt_event ev = { 0 };
    struct common c;
    int64_t v[1];
    if (simple_message(x, &ev, &c, TT_TAG(WebcastMemberMessage, user), nums, 1, v)) {
        return -1;
    }
    return tt__emit(x, &ev, TT_EV_MEMBER);
}

int tt__dec_like(struct dec *x)
{
    static const struct num_member nums[] = {
        NUM("likeCount", TT_TAG(WebcastLikeMessage, count)),
        NUM("totalLikeCount", TT_TAG(WebcastLikeMessage, total)),
    };
    struct tt_event ev = { 0 };
    struct common c;
    int64_t v[2];
    if (simple_message(x, &ev, &c, TT_TAG(WebcastLikeMessage, user), nums, 2, v)) {
        return -1;
    }
    ev.u.like.count = v[0];
    ev.u.like.total = v[1];
    return tt__emit(x, &ev, TT_EV_LIKE);
}

int tt__dec_social(struct dec *x)
{
    struct tt_event ev = { 0 };
    struct common c;
    if (simple_message(x, &ev, &c, TT_TAG(WebcastSocialMessage, user), NULL, 0, NULL) ||
        tt__emit(x, &ev, TT_EV_SOCIAL)) {
        return -1;
    }
    /* 1.x: then each event whose name the displayType contains */
    static const enum tt_event_type also[] = { TT_EV_FOLLOW, TT_EV_SHARE };
    for (size_t i = 0; i < sizeof also / sizeof also[0]; i++) {
        if (tt__contains(c.display_type, tt_event_type_name(also[i]), 0) &&
            tt__emit(x, &ev, also[i])) {
            return -1;
        }
    }
    return 0;
}

int tt__dec_subscribe(struct dec *x)
{
    static const struct num_member nums[] = {
#define SUB(name) NUM(#name, TT_TAG(WebcastSubNotifyMessage, name))
        SUB(exhibitionType),     SUB(subMonth),          SUB(subscribeType),
        SUB(oldSubscribeStatus), SUB(subscribingStatus),
#undef SUB
    };
    struct tt_event ev = { 0 };
    struct common c;
    int64_t v[5];
    if (simple_message(x, &ev, &c, TT_TAG(WebcastSubNotifyMessage, user), nums, 5, v)) {
        return -1;
    }
    return tt__emit(x, &ev, TT_EV_SUBSCRIBE);
}
