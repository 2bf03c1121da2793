/** @file dec_gift.c
 * WebcastGiftMessage -> "gift".
 *
 * Fields: common 1, giftId 2, repeatCount 5, user 7, repeatEnd 9, groupId 11, gift 15
 * {image 1 {urlList 1}, describe 2, type 11, diamondCount 12, name 16}, monitorExtra 22,
 * monitorInfo 23 {sendGiftSendMessageSuccessMs 6, toUserId 8}.
 *
 * JSON (1.x simplifyObject): giftId, repeatCount, repeatEnd (boolean), groupId (string),
 * monitorExtra (parsed when it is a JSON object text, else the string), the user, the common
 * header, gift {gift_id, repeat_count, repeat_end 0/1, gift_type} (1.x's legacy object),
 * describe, giftType, diamondCount, giftName, giftPictureUrl (the LAST url, as 1.x reads the
 * repeated urlList as one string), timestamp (number), receiverUserId (string).
 *
 * With a gift list (the client's, gifts.h), the entry of giftId is added as extendedGiftInfo
 * (1.x), and its diamond_count stands in for a message that has none.
 *
 * Streaks: a gift of type 1 arrives with repeatEnd 0 and a growing repeatCount, then once more
 * with repeatEnd 1 and the final count. The last one, or any gift that cannot streak, is
 * complete: tt_event.u.gift then also has total_diamonds and end_json, the same object closed
 * with "totalDiamonds" (the bridge's giftEnd), written here so no one reopens the JSON.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dec.h"

enum { G_COMMON, G_ID, G_REPEAT, G_USER, G_END, G_GROUP, G_GIFT, G_MONITOR_EXTRA, G_INFO, G_N };
static const struct pb_desc gift_msg_desc[G_N] = {
    [G_COMMON] = { TT_TAG(WebcastGiftMessage, common), PB_LEN },
    [G_ID] = { TT_TAG(WebcastGiftMessage, giftId), PB_INT },
    [G_REPEAT] = { TT_TAG(WebcastGiftMessage, repeatCount), PB_INT },
    [G_USER] = { TT_TAG(WebcastGiftMessage, user), PB_LEN },
    [G_END] = { TT_TAG(WebcastGiftMessage, repeatEnd), PB_INT },
    [G_GROUP] = { TT_TAG(WebcastGiftMessage, groupId), PB_INT },
    [G_GIFT] = { TT_TAG(WebcastGiftMessage, gift), PB_LEN },
    [G_INFO] = { TT_TAG(WebcastGiftMessage, monitorInfo), PB_LEN },
    [G_MONITOR_EXTRA] = { TT_TAG(WebcastGiftMessage, monitorExtra), PB_LEN },
};

enum { GD_IMAGE, GD_DESCRIBE, GD_TYPE, GD_DIAMONDS, GD_NAME, GD_N };
static const struct pb_desc gift_desc[GD_N] = {
    [GD_IMAGE] = { TT_TAG(Gift, image), PB_LEN },
    [GD_DESCRIBE] = { TT_TAG(Gift, describe), PB_LEN },
    [GD_TYPE] = { TT_TAG(Gift, type), PB_INT },
    [GD_DIAMONDS] = { TT_TAG(Gift, diamondCount), PB_INT },
    [GD_NAME] = { TT_TAG(Gift, name), PB_LEN },
};

enum { GI_TIMESTAMP, GI_RECEIVER, GI_N };
static const struct pb_desc gift_info_desc[GI_N] = {
    [GI_TIMESTAMP] = { TT_TAG(GiftMonitorInfo, sendGiftSendMessageSuccessMs), PB_INT },
    [GI_RECEIVER] = { TT_TAG(GiftMonitorInfo, toUserId), PB_INT },
};

/* 1.x JSON.parses monitorExtra when it starts with '{' and keeps the string when that fails. */
static void write_monitor_extra(struct jw *w, struct pb_slice s)
{
    JK(w, "monitorExtra");
    if (s.n && s.p[0] == '{' && tt__json_valid(s.p, s.n)) {
        common_buf_add(w->b, s.p, s.n);
    } else {
        jw_str(w, s);
    }
}

static void write_legacy_gift(struct jw *w, const struct tt_event *ev)
{
    struct jw o;
    jw_key(w, tt_event_type_name(TT_EV_GIFT)); /* 1.x names the object after the event */
    jw_open(&o, w->b, '{');
    JK(&o, "gift_id");
    tt__json_i64(o.b, ev->u.gift.gift_id);
    JK(&o, "repeat_count");
    tt__json_i64(o.b, ev->u.gift.repeat_count);
    JK(&o, "repeat_end");
    tt__json_i64(o.b, ev->u.gift.repeat_end);
    JK(&o, "gift_type");
    tt__json_i64(o.b, ev->u.gift.gift_type);
    jw_close(&o, '}');
}

static void write_details(struct jw *w, const struct pb_msg *g, const struct pb_msg *info)
{
    JK(w, "describe");
    jw_str(w, pb_s(g, GD_DESCRIBE));
    JK(w, "giftType");
    tt__json_i64(w->b, pb_i32(g, GD_TYPE));
    JK(w, "diamondCount");
    tt__json_i64(w->b, pb_i32(g, GD_DIAMONDS));
    JK(w, "giftName");
    jw_str(w, pb_s(g, GD_NAME));
    JK(w, "giftPictureUrl");
    jw_str(w, tt__last_string(pb_s(g, GD_IMAGE), TT_TAG(ImageModel, urlList)));
    JK(w, "timestamp");
    tt__json_u64(w->b, pb_u(info, GI_TIMESTAMP));
    JK(w, "receiverUserId");
    tt__json_u64_str(w->b, pb_u(info, GI_RECEIVER));
}

/* extendedGiftInfo, and the list's diamond count when the message had none. */
static void write_extended(struct jw *w, const struct dec *x, struct tt_event *ev)
{
    const struct tt_gift_ref *g = tt__gifts_find(x->gifts, ev->u.gift.gift_id);
    if (!g) {
        return;
    }
    if (!ev->u.gift.diamond_count) {
        ev->u.gift.diamond_count = g->diamond_count;
    }
    JK(w, "extendedGiftInfo");
    common_buf_add(w->b, x->gifts->json + g->off, g->len);
}

/* The completed gift: the body written so far (`body` bytes of x->json) closed a second way. */
static void write_end(struct dec *x, size_t body, struct tt_event *ev)
{
    struct common_buf *e = x->end_json;
    ev->u.gift.complete = ev->u.gift.gift_type != 1 || ev->u.gift.repeat_end;
    if (!ev->u.gift.complete) {
        return;
    }
    ev->u.gift.total_diamonds = ev->u.gift.repeat_count * ev->u.gift.diamond_count;
    common_buf_reset(e);
    common_buf_add(e, x->json->p, body);
    common_buf_adds(e, ",\"totalDiamonds\":");
    tt__json_i64(e, ev->u.gift.total_diamonds);
    common_buf_addc(e, '}');
    ev->u.gift.end_json = common_buf_cstr(e); /* NULL out of memory: no giftEnd, still counted */
    ev->u.gift.end_json_len = ev->u.gift.end_json ? e->len : 0;
}

int tt__dec_gift(struct dec *x)
{
    struct pb_msg m, g, info;
    struct common c;
    struct tt_event ev = { 0 };
    struct jw w;
    if (tt__pb_scan(&m, gift_msg_desc, G_N, x->raw.p, x->raw.n) ||
        tt__common_read(pb_s(&m, G_COMMON), &c) ||
        tt__pb_scan_slice(&g, gift_desc, GD_N, pb_s(&m, G_GIFT)) ||
        tt__pb_scan_slice(&info, gift_info_desc, GI_N, pb_s(&m, G_INFO))) {
        return -1;
    }
    ev.msg_id = c.msg_id;
    ev.u.gift.gift_id = pb_i(&m, G_ID);
    ev.u.gift.repeat_count = pb_i32(&m, G_REPEAT);
    ev.u.gift.repeat_end = pb_i32(&m, G_END) != 0;
    ev.u.gift.gift_type = pb_i32(&g, GD_TYPE);
    ev.u.gift.diamond_count = pb_i32(&g, GD_DIAMONDS);
    jw_open(&w, x->json, '{');
    JK(&w, "giftId");
    tt__json_i64(w.b, ev.u.gift.gift_id);
    JK(&w, "repeatCount");
    tt__json_i64(w.b, ev.u.gift.repeat_count);
    JK(&w, "repeatEnd");
    jw_bool(&w, ev.u.gift.repeat_end);
    JK(&w, "groupId");
    tt__json_u64_str(w.b, pb_u(&m, G_GROUP));
    write_monitor_extra(&w, pb_s(&m, G_MONITOR_EXTRA));
    if (tt__user_write(&w, pb_s(&m, G_USER), &ev.user_id)) {
        return -1;
    }
    tt__common_write(&w, &c);
    write_legacy_gift(&w, &ev);
    write_details(&w, &g, &info);
    write_extended(&w, x, &ev);
    size_t body = x->json->len;
    jw_close(&w, '}');
    write_end(x, body, &ev);
    return tt__emit(x, &ev, TT_EV_GIFT);
}
