/** @file dec_chat.c
 * WebcastChatMessage -> "chat", WebcastEmoteChatMessage -> "emote".
 *
 * Chat: common 1, user 2, content 3 (1.x comment), emotes 13 (repeated EmoteWithIndex
 * {index 1, emote 2 EmoteModel {emoteId 1, image 2 {urlList 1}}}).
 * JSON: comment, emotes [{emoteId, emoteImageUrl, placeInComment}], the user, the common header.
 *
 * Emote: common 1, user 2, emoteList 3. 1.x declares emoteList singular, so the LAST EmoteModel
 * on the wire is the one it reports (protobufjs replaces a repeated sub-message); 1.x's schema has
 * no common header for this type, so neither has our JSON (tt_event.msg_id still carries it).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dec.h"

enum { EM_ID, EM_IMAGE, EM_N };
static const struct pb_desc emote_model_desc[EM_N] = {
    [EM_ID] = { TT_TAG(EmoteModel, emoteId), PB_LEN },
    [EM_IMAGE] = { TT_TAG(EmoteModel, image), PB_LEN },
};

/* Members emoteId and emoteImageUrl of an EmoteModel. */
static int write_emote_model(struct jw *w, struct pb_slice s)
{
    struct pb_msg m;
    if (tt__pb_scan_slice(&m, emote_model_desc, EM_N, s)) {
        return -1;
    }
    JK(w, "emoteId");
    jw_str(w, pb_s(&m, EM_ID));
    JK(w, "emoteImageUrl");
    jw_str(w, tt__last_string(pb_s(&m, EM_IMAGE), TT_TAG(ImageModel, urlList)));
    return 0;
}

enum { EI_INDEX, EI_EMOTE, EI_N };
static const struct pb_desc emote_index_desc[EI_N] = {
    [EI_INDEX] = { TT_TAG(EmoteWithIndex, index), PB_INT },
    [EI_EMOTE] = { TT_TAG(EmoteWithIndex, emote), PB_LEN },
};

static int write_chat_emotes(struct jw *w, struct pb_slice chat)
{
    struct jw a, o;
    struct pb_iter it;
    struct pb_slice e;
    struct pb_msg m;
    JK(w, "emotes");
    jw_open(&a, w->b, '[');
    tt__pb_iter_init(&it, chat, TT_TAG(WebcastChatMessage, emotes));
    while (tt__pb_iter_next(&it, &e)) {
        if (tt__pb_scan(&m, emote_index_desc, EI_N, e.p, e.n)) {
            return -1;
        }
        JI(&a);
        jw_open(&o, a.b, '{');
        if (write_emote_model(&o, pb_s(&m, EI_EMOTE))) {
            return -1;
        }
        JK(&o, "placeInComment");
        tt__json_i64(o.b, pb_i32(&m, EI_INDEX));
        jw_close(&o, '}');
    }
    jw_close(&a, ']');
    return 0;
}

enum { CH_COMMON, CH_USER, CH_CONTENT, CH_N };
static const struct pb_desc chat_desc[CH_N] = {
    [CH_COMMON] = { TT_TAG(WebcastChatMessage, common), PB_LEN },
    [CH_USER] = { TT_TAG(WebcastChatMessage, user), PB_LEN },
    [CH_CONTENT] = { TT_TAG(WebcastChatMessage, content), PB_LEN },
};

int tt__dec_chat(struct dec *x)
{
    struct pb_msg m;
    struct common c;
    struct tt_event ev = { 0 };
    struct jw w;
    if (tt__pb_scan(&m, chat_desc, CH_N, x->raw.p, x->raw.n) ||
        tt__common_read(pb_s(&m, CH_COMMON), &c)) {
        return -1;
    }
    jw_open(&w, x->json, '{');
    JK(&w, "comment");
    jw_str(&w, pb_s(&m, CH_CONTENT));
    if (write_chat_emotes(&w, x->raw) || tt__user_write(&w, pb_s(&m, CH_USER), &ev.user_id)) {
        return -1;
    }
    tt__common_write(&w, &c);
    jw_close(&w, '}');
    ev.msg_id = c.msg_id;
    return tt__emit(x, &ev, TT_EV_CHAT);
}

enum { EC_COMMON, EC_USER, EC_N };
static const struct pb_desc emote_chat_desc[EC_N] = {
    [EC_COMMON] = { TT_TAG(WebcastEmoteChatMessage, common), PB_LEN },
    [EC_USER] = { TT_TAG(WebcastEmoteChatMessage, user), PB_LEN },
};

int tt__dec_emote(struct dec *x)
{
    struct pb_msg m;
    struct common c;
    struct tt_event ev = { 0 };
    struct jw w;
    struct pb_slice last = { NULL, 0 }, e;
    struct pb_iter it;
    if (tt__pb_scan(&m, emote_chat_desc, EC_N, x->raw.p, x->raw.n) ||
        tt__common_read(pb_s(&m, EC_COMMON), &c)) {
        return -1;
    }
    tt__pb_iter_init(&it, x->raw, TT_TAG(WebcastEmoteChatMessage, emoteList));
    while (tt__pb_iter_next(&it, &e)) {
        last = e;
    }
    jw_open(&w, x->json, '{');
    if (tt__user_write(&w, pb_s(&m, EC_USER), &ev.user_id)) {
        return -1;
    }
    if (last.p && write_emote_model(&w, last)) {
        return -1;
    }
    jw_close(&w, '}');
    ev.msg_id = c.msg_id;
    return tt__emit(x, &ev, TT_EV_EMOTE);
}
