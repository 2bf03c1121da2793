/** @file dec_battle.c
 * Battles:
 *   WebcastLinkMicBattle -> "linkMicBattle": anchorsInfo 10 (repeated {key 1, value 2
 *       {user 1 BattleBaseUserInfo {userId 1, nickName 2, avatarThumb 3, displayId 4}}}).
 *       JSON: battleUsers [user in 1.x's LinkUser shape]; entries without a user are skipped.
 *   WebcastLinkMicArmies -> "linkMicArmies": armies 3 (repeated map entry {key 1 = host id,
 *       value 2 BattleUserArmies {userArmies 1, hostscore 2}}), triggerReason 7 (battleStatus).
 *       JSON: battleStatus, battleArmies [{hostUserId, points, participants [user]}].
 *       1.x reads each BattleUserArmy as a User (id 1 and nickname 3 line up); v3's
 *       diamondScore 5 is a varint where User has bioDescription, and is skipped as a field of
 *       unexpected wire type.
 * 1.x's schema has no common header for these, so neither has the JSON.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dec.h"

TT_ASSERT_COMMON(WebcastLinkMicBattle);
TT_ASSERT_COMMON(WebcastLinkMicArmies);

static uint64_t msg_id_of(struct pb_slice msg)
{
    static const struct pb_desc d[] = { { TT_COMMON_FIELD, PB_LEN } };
    struct pb_msg m;
    struct common c;
    if (tt__pb_scan(&m, d, 1, msg.p, msg.n) || tt__common_read(pb_s(&m, 0), &c)) {
        return 0;
    }
    return c.msg_id;
}

/* value.user of an anchorsInfo entry; 0 with *user empty when absent. */
static int battle_user(struct pb_slice entry, struct pb_slice *user)
{
    static const struct pb_desc one[] = { { TT_TAG(BattleUserInfoWrapper, value), PB_LEN } };
    static const struct pb_desc inner[] = { { TT_TAG(BattleUserInfo, user), PB_LEN } };
    struct pb_msg m, v;
    if (tt__pb_scan_slice(&m, one, 1, entry) || tt__pb_scan_slice(&v, inner, 1, pb_s(&m, 0))) {
        return -1;
    }
    user->n = 0;
    user->p = NULL;
    if (PB_HAS(&m, 0) && PB_HAS(&v, 0)) {
        *user = pb_s(&v, 0);
    }
    return 0;
}

int tt__dec_link_mic_battle(struct dec *x)
{
    struct tt_event ev = { 0 };
    struct jw w, a, o;
    struct pb_iter it;
    struct pb_slice e, user;
    struct pb_msg m;
    if (tt__pb_scan(&m, NULL, 0, x->raw.p, x->raw.n)) {
        return -1;
    }
    ev.msg_id = msg_id_of(x->raw);
    jw_open(&w, x->json, '{');
    JK(&w, "battleUsers");
    jw_open(&a, w.b, '[');
    tt__pb_iter_init(&it, x->raw, TT_TAG(WebcastLinkMicBattle, anchorsInfo));
    while (tt__pb_iter_next(&it, &e)) {
        if (battle_user(e, &user)) {
            return -1;
        }
        if (!user.p) {
            continue;
        }
        JI(&a);
        jw_open(&o, a.b, '{');
        if (tt__link_user_write(&o, user, NULL)) {
            return -1;
        }
        jw_close(&o, '}');
    }
    jw_close(&a, ']');
    jw_close(&w, '}');
    return tt__emit(x, &ev, TT_EV_LINK_MIC_BATTLE);
}

static int write_participants(struct jw *w, struct pb_slice army)
{
    struct jw a, o;
    struct pb_iter it;
    struct pb_slice u;
    JK(w, "participants");
    jw_open(&a, w->b, '[');
    tt__pb_iter_init(&it, army, TT_TAG(BattleUserArmies, userArmies));
    while (tt__pb_iter_next(&it, &u)) {
        JI(&a);
        jw_open(&o, a.b, '{');
        if (tt__user_write(&o, u, NULL)) {
            return -1;
        }
        jw_close(&o, '}');
    }
    jw_close(&a, ']');
    return 0;
}

/* One armies map entry: every value occurrence is a group (1.x declares it repeated). */
static int write_army_entry(struct jw *a, struct pb_slice entry)
{
    static const struct pb_desc kd[] = { { TT_TAG(WebcastLinkMicArmies_ArmiesEntry, key),
                                           PB_INT } };
    static const struct pb_desc vd[] = { { TT_TAG(BattleUserArmies, hostscore), PB_INT } };
    struct pb_msg k, v;
    struct pb_iter it;
    struct pb_slice val;
    struct jw o;
    if (tt__pb_scan_slice(&k, kd, 1, entry)) {
        return -1;
    }
    tt__pb_iter_init(&it, entry, TT_TAG(WebcastLinkMicArmies_ArmiesEntry, value));
    while (tt__pb_iter_next(&it, &val)) {
        if (tt__pb_scan_slice(&v, vd, 1, val)) {
            return -1;
        }
        JI(a);
        jw_open(&o, a->b, '{');
        JK(&o, "hostUserId");
        tt__json_u64_str(o.b, pb_u(&k, 0));
        JK(&o, "points");
        tt__json_i64(o.b, pb_i(&v, 0));
        if (write_participants(&o, val)) {
            return -1;
        }
        jw_close(&o, '}');
    }
    return 0;
}

int tt__dec_link_mic_armies(struct dec *x)
{
    static const struct pb_desc d[] = { { TT_TAG(WebcastLinkMicArmies, triggerReason), PB_INT } };
    struct tt_event ev = { 0 };
    struct jw w, a;
    struct pb_iter it;
    struct pb_slice e;
    struct pb_msg m;
    if (tt__pb_scan(&m, d, 1, x->raw.p, x->raw.n)) {
        return -1;
    }
    ev.msg_id = msg_id_of(x->raw);
    jw_open(&w, x->json, '{');
    JK(&w, "battleStatus");
    tt__json_i64(w.b, pb_i32(&m, 0));
    JK(&w, "battleArmies");
    jw_open(&a, w.b, '[');
    tt__pb_iter_init(&it, x->raw, TT_TAG(WebcastLinkMicArmies, armies));
    while (tt__pb_iter_next(&it, &e)) {
        if (write_army_entry(&a, e)) {
            return -1;
        }
    }
    jw_close(&a, ']');
    jw_close(&w, '}');
    return tt__emit(x, &ev, TT_EV_LINK_MIC_ARMIES);
}
