/** @file events.h
 * The event registry: every event type of tt.h, its stable name, and for those a Webcast
 * message type becomes, the method and the decoder that reads it (X-macro, rtl_433's DEVICES
 * idea). The name table (err.c), the method dispatch (decode.c), the decoders' prototypes
 * (dec.h) and, through tt_event_type_name(), the bridge's event filter are made from it;
 * err.c checks that it covers every enum tt_event_type.
 *
 * Adding a Webcast message type: a TT_EV_* in tt.h (before TT_EV_RAW_DATA), one TT_EVENT line
 * here, the function in the file named on the line. Messages of any other method become
 * TT_EV_RAW_DATA events.
 *
 *   TT_EVENT(type, name, method, decoder, file)   a message type and the event it becomes;
 *                                                 the decoder is tt__dec_<decoder>
 *   TT_EVENT_ALSO(type, name, file)               an event with no method of its own: emitted
 *                                                 by another message's decoder, the pipeline
 *                                                 or the connection (file says which)
 *
 * This is the only place an event's name is written.
 *
 * SPDX-License-Identifier: MIT
 */
/* clang-format off */
TT_EVENT(TT_EV_CHAT,             "chat",            "WebcastChatMessage",         chat,            "dec_chat.c")
TT_EVENT(TT_EV_MEMBER,           "member",          "WebcastMemberMessage",       member,          "dec_social.c")
TT_EVENT(TT_EV_GIFT,             "gift",            "WebcastGiftMessage",         gift,            "dec_gift.c")
TT_EVENT(TT_EV_ROOM_USER,        "roomUser",        "WebcastRoomUserSeqMessage",  room_user,       "dec_room.c")
TT_EVENT(TT_EV_LIKE,             "like",            "WebcastLikeMessage",         like,            "dec_social.c")
TT_EVENT(TT_EV_SOCIAL,           "social",          "WebcastSocialMessage",       social,          "dec_social.c")
TT_EVENT_ALSO(TT_EV_FOLLOW,      "follow",                                                         "dec_social.c")
TT_EVENT_ALSO(TT_EV_SHARE,       "share",                                                          "dec_social.c")
TT_EVENT(TT_EV_QUESTION_NEW,     "questionNew",     "WebcastQuestionNewMessage",  question_new,    "dec_room.c")
TT_EVENT(TT_EV_LINK_MIC_BATTLE,  "linkMicBattle",   "WebcastLinkMicBattle",       link_mic_battle, "dec_battle.c")
TT_EVENT(TT_EV_LINK_MIC_ARMIES,  "linkMicArmies",   "WebcastLinkMicArmies",       link_mic_armies, "dec_battle.c")
TT_EVENT(TT_EV_LIVE_INTRO,       "liveIntro",       "WebcastLiveIntroMessage",    live_intro,      "dec_room.c")
TT_EVENT(TT_EV_EMOTE,            "emote",           "WebcastEmoteChatMessage",    emote,           "dec_chat.c")
TT_EVENT(TT_EV_ENVELOPE,         "envelope",        "WebcastEnvelopeMessage",     envelope,        "dec_room.c")
TT_EVENT(TT_EV_SUBSCRIBE,        "subscribe",       "WebcastSubNotifyMessage",    subscribe,       "dec_social.c")
TT_EVENT_ALSO(TT_EV_STREAM_END,  "streamEnd",                                                      "dec_room.c")
TT_EVENT(TT_EV_CONTROL_MESSAGE,  "controlMessage",  "WebcastControlMessage",      control,         "dec_room.c")
TT_EVENT(TT_EV_ROOM_PIN,         "roomPin",         "WebcastRoomPinMessage",      room_pin,        "dec_extra.c")
TT_EVENT(TT_EV_POLL_MESSAGE,     "pollMessage",     "WebcastPollMessage",         poll,            "dec_extra.c")
TT_EVENT(TT_EV_GOAL_UPDATE,      "goalUpdate",      "WebcastGoalUpdateMessage",   goal_update,     "dec_extra.c")
TT_EVENT(TT_EV_RANK_UPDATE,      "rankUpdate",      "WebcastRankUpdateMessage",   rank_update,     "dec_extra.c")
TT_EVENT(TT_EV_ROOM_MESSAGE,     "roomMessage",     "WebcastRoomMessage",         room_message,    "dec_extra.c")
TT_EVENT(TT_EV_BARRAGE,          "barrage",         "WebcastBarrageMessage",      barrage,         "dec_extra.c")
TT_EVENT(TT_EV_IN_ROOM_BANNER,   "inRoomBanner",    "WebcastInRoomBannerMessage", in_room_banner,  "dec_extra.c")
TT_EVENT(TT_EV_CAPTION_MESSAGE,  "captionMessage",  "WebcastCaptionMessage",      caption,         "dec_extra.c")
TT_EVENT(TT_EV_IM_DELETE,        "imDelete",        "WebcastImDeleteMessage",     im_delete,       "dec_extra.c")
TT_EVENT(TT_EV_SYSTEM,           "system",          "WebcastSystemMessage",       system,          "dec_extra.c")
TT_EVENT_ALSO(TT_EV_RAW_DATA,    "rawData",                                                        "decode.c")
TT_EVENT_ALSO(TT_EV_DECODE_ERROR, "error",                                                         "decode.c")
TT_EVENT_ALSO(TT_EV_CONNECTED,   "connected",                                                      "client.c")
TT_EVENT_ALSO(TT_EV_DISCONNECTED, "disconnected",                                                  "client.c")
TT_EVENT_ALSO(TT_EV_WEBSOCKET_CONNECTED, "websocketConnected",                                     "ws.c")
TT_EVENT_ALSO(TT_EV_ERROR,       "error",                                                          "client.c")
/* clang-format on */
