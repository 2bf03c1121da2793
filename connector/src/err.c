/** @file err.c
 * Static tables: error messages, event names, the version.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tt.h"

#ifndef TT_VERSION
#define TT_VERSION "0.1.0"
#endif

const char *tt_strerror(enum tt_err err)
{
    static const char *const msgs[TT_ERR__COUNT] = {
        [TT_OK] = "success",
        [TT_ERR_NOMEM] = "out of memory",
        [TT_ERR_INVAL] = "invalid argument",
        [TT_ERR_TOO_LARGE] = "input or output over its size cap",
        [TT_ERR_GZIP] = "corrupt or truncated gzip data",
        [TT_ERR_GZIP_BOMB] = "gzip data inflates beyond the size or ratio cap",
        [TT_ERR_PROTO] = "malformed protobuf data",
        [TT_ERR_NOT_FOUND] = "user not found",
        [TT_ERR_OFFLINE] = "user is not live",
        [TT_ERR_AGE_RESTRICTED] = "room is age-restricted",
        [TT_ERR_BLOCKED] = "blocked by TikTok (captcha, IP or region)",
        [TT_ERR_RATE_LIMITED] = "sign server rate limit",
        [TT_ERR_SIGN_REFUSED] = "sign server refused the request (API key or plan)",
        [TT_ERR_SIGN] = "sign server failed",
        [TT_ERR_NO_CURSOR] = "no cursor in the initial fetch (signature rejected)",
        [TT_ERR_WS_REFUSED] = "WebSocket refused by TikTok",
        [TT_ERR_NO_UPGRADE] = "no WebSocket and no polling possible",
        [TT_ERR_CONNECTION_LOST] = "connection lost",
        [TT_ERR_TIMEOUT] = "timed out",
        [TT_ERR_HTTP] = "HTTP request failed",
        [TT_ERR_STATE] = "not allowed in this state",
        [TT_ERR_UNSUPPORTED] = "not supported by this build",
        [TT_ERR_STALE] = "no frame for stale_timeout_s: the socket went silent",
        [TT_ERR_NO_TTWID] = "TikTok issued no ttwid device token",
        [TT_ERR_DEVICE_BLOCKED] = "the device (ttwid and User-Agent) is blocked",
    };
    if ((unsigned)err >= TT_ERR__COUNT || !msgs[err]) {
        return "unknown error";
    }
    return msgs[err];
}

const char *tt_event_type_name(enum tt_event_type type)
{
    static const char *const names[TT_EV__COUNT] = {
        [TT_EV_NONE] = "",
        [TT_EV_CHAT] = "chat",
        [TT_EV_MEMBER] = "member",
        [TT_EV_GIFT] = "gift",
        [TT_EV_ROOM_USER] = "roomUser",
        [TT_EV_LIKE] = "like",
        [TT_EV_SOCIAL] = "social",
        [TT_EV_FOLLOW] = "follow",
        [TT_EV_SHARE] = "share",
        [TT_EV_QUESTION_NEW] = "questionNew",
        [TT_EV_LINK_MIC_BATTLE] = "linkMicBattle",
        [TT_EV_LINK_MIC_ARMIES] = "linkMicArmies",
        [TT_EV_LIVE_INTRO] = "liveIntro",
        [TT_EV_EMOTE] = "emote",
        [TT_EV_ENVELOPE] = "envelope",
        [TT_EV_SUBSCRIBE] = "subscribe",
        [TT_EV_STREAM_END] = "streamEnd",
        [TT_EV_CONTROL_MESSAGE] = "controlMessage",
        [TT_EV_ROOM_PIN] = "roomPin",
        [TT_EV_POLL_MESSAGE] = "pollMessage",
        [TT_EV_GOAL_UPDATE] = "goalUpdate",
        [TT_EV_RANK_UPDATE] = "rankUpdate",
        [TT_EV_ROOM_MESSAGE] = "roomMessage",
        [TT_EV_BARRAGE] = "barrage",
        [TT_EV_IN_ROOM_BANNER] = "inRoomBanner",
        [TT_EV_CAPTION_MESSAGE] = "captionMessage",
        [TT_EV_IM_DELETE] = "imDelete",
        [TT_EV_SYSTEM] = "system",
        [TT_EV_RAW_DATA] = "rawData",
        [TT_EV_DECODE_ERROR] = "error",
        [TT_EV_CONNECTED] = "connected",
        [TT_EV_DISCONNECTED] = "disconnected",
        [TT_EV_WEBSOCKET_CONNECTED] = "websocketConnected",
        [TT_EV_ERROR] = "error",
    };
    if ((unsigned)type >= TT_EV__COUNT || !names[type]) {
        return "";
    }
    return names[type];
}

const char *tt_version(void)
{
    return TT_VERSION;
}
