/** @file decoders.h
 * The Webcast message types we decode: method name -> decoder (X-macro, rtl_433's DEVICES idea).
 * Adding a type is one line here plus a function in a dec_*.c file. Messages of any other
 * method become TT_EV_RAW_DATA events.
 *
 * SPDX-License-Identifier: MIT
 */
/* clang-format off */
DECODER("WebcastChatMessage",         chat)
DECODER("WebcastMemberMessage",       member)
DECODER("WebcastGiftMessage",         gift)
DECODER("WebcastRoomUserSeqMessage",  room_user)
DECODER("WebcastSocialMessage",       social)
DECODER("WebcastLikeMessage",         like)
DECODER("WebcastQuestionNewMessage",  question_new)
DECODER("WebcastLinkMicBattle",       link_mic_battle)
DECODER("WebcastLinkMicArmies",       link_mic_armies)
DECODER("WebcastLiveIntroMessage",    live_intro)
DECODER("WebcastEmoteChatMessage",    emote)
DECODER("WebcastEnvelopeMessage",     envelope)
DECODER("WebcastSubNotifyMessage",    subscribe)
DECODER("WebcastControlMessage",      control)
DECODER("WebcastRoomPinMessage",      room_pin)
DECODER("WebcastPollMessage",         poll)
DECODER("WebcastGoalUpdateMessage",   goal_update)
DECODER("WebcastRankUpdateMessage",   rank_update)
DECODER("WebcastRoomMessage",         room_message)
DECODER("WebcastBarrageMessage",      barrage)
DECODER("WebcastInRoomBannerMessage", in_room_banner)
DECODER("WebcastCaptionMessage",      caption)
DECODER("WebcastImDeleteMessage",     im_delete)
DECODER("WebcastSystemMessage",       system)
/* clang-format on */
