/** @file test_proto.c
 * Round-trip tests for the nanopb code generated from proto/webcast.proto, linked against
 * Debian's prebuilt libprotobuf-nanopb. The runtime's build flags are fixed (PB_ENABLE_MALLOC on,
 * PB_FIELD_32BIT off), and a generated file compiled with different flags disagrees with it about
 * struct layouts without any link error; these tests make such a mismatch fail loudly. They also
 * pin the byte-exact client frames of docs/protocol.md §7.4 (heartbeat, enter-room, ack)
 * to the encoder. Build: cc -DPB_ENABLE_MALLOC -Ibuild/gen test_proto.c build/gen/webcast.pb.c
 * -lprotobuf-nanopb. Prints one line per failure, then "N passed, N failed"; exits 1 on failure.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "webcast.pb.h"

static int n_pass;
static int n_fail;

#define CHECK(cond) check((cond), #cond, __LINE__)

static void check(bool ok, const char *expr, int line)
{
    if (ok) {
        n_pass++;
        return;
    }
    n_fail++;
    fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, line, expr);
}

static void hexdump(const char *label, const uint8_t *p, size_t n)
{
    fprintf(stderr, "  %s (%zu):", label, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %02X", p[i]);
    fprintf(stderr, "\n");
}

/* Like CHECK, but dumps both buffers on a mismatch. */
#define CHECK_MEM(got, glen, want, wlen) check_mem((got), (glen), (want), (wlen), __LINE__)

static void check_mem(const uint8_t *got, size_t glen, const uint8_t *want, size_t wlen, int line)
{
    bool ok = glen == wlen && memcmp(got, want, wlen) == 0;

    check(ok, "encoded bytes == expected bytes", line);
    if (!ok) {
        hexdump("got ", got, glen);
        hexdump("want", want, wlen);
    }
}

static bool str_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Heap-allocated bytes field, as FT_POINTER expects; free() it after encoding. The size is at
   least sizeof(pb_bytes_array_t): for n < 2, PB_BYTES_ARRAY_T_ALLOCSIZE(n) is smaller than the
   struct, and clang's UBSan (object-size) flags the b->size store when it sees the malloc. */
static pb_bytes_array_t *bytes_new(const void *p, size_t n)
{
    size_t alloc = PB_BYTES_ARRAY_T_ALLOCSIZE(n);
    pb_bytes_array_t *b;

    if (n > PB_SIZE_MAX)
        return NULL;
    if (alloc < sizeof(pb_bytes_array_t))
        alloc = sizeof(pb_bytes_array_t);
    b = malloc(alloc);
    if (b == NULL)
        return NULL;
    b->size = (pb_size_t)n;
    if (n > 0)
        memcpy(b->bytes, p, n);
    return b;
}

static bool bytes_eq(const pb_bytes_array_t *b, const void *p, size_t n)
{
    return b != NULL && b->size == n && memcmp(b->bytes, p, n) == 0;
}

/* Encodes msg into buf; returns the length, or 0 on failure (no message here encodes empty). */
static size_t encode(const pb_msgdesc_t *fields, const void *msg, uint8_t *buf, size_t cap)
{
    pb_ostream_t os = pb_ostream_from_buffer(buf, cap);
    size_t sized = 0;

    if (!pb_get_encoded_size(&sized, fields, msg))
        return 0;
    if (!pb_encode(&os, fields, msg)) {
        fprintf(stderr, "  pb_encode: %s\n", PB_GET_ERROR(&os));
        return 0;
    }
    if (os.bytes_written != sized) {
        fprintf(stderr, "  pb_get_encoded_size %zu != written %zu\n", sized, os.bytes_written);
        return 0;
    }
    return os.bytes_written;
}

static bool decode(const pb_msgdesc_t *fields, void *msg, const uint8_t *buf, size_t len)
{
    pb_istream_t is = pb_istream_from_buffer(buf, len);

    if (!pb_decode(&is, fields, msg)) {
        fprintf(stderr, "  pb_decode: %s\n", PB_GET_ERROR(&is));
        return false;
    }
    return true;
}

/* (a) A full push frame round-trips field for field. */
static void test_push_frame_roundtrip(void)
{
    static char key[] = "compress_type";
    static char value[] = "gzip";
    static char encoding[] = "pb";
    static char type[] = "msg";
    static const uint8_t body[] = { 0x0A, 0x00, 0xFF, 0x80, 0x01, 0x00, 0x7F };
    TikTok_PushHeader hdr = TikTok_PushHeader_init_zero;
    TikTok_WebcastPushFrame in = TikTok_WebcastPushFrame_init_zero;
    TikTok_WebcastPushFrame out = TikTok_WebcastPushFrame_init_zero;
    uint8_t buf[256];
    size_t len;

    hdr.key = key;
    hdr.value = value;
    in.has_seqId = true;
    in.seqId = 9;
    in.has_logId = true;
    in.logId = 5092463814493970448;
    in.headers_count = 1;
    in.headers = &hdr;
    in.payloadEncoding = encoding;
    in.payloadType = type;
    in.payload = bytes_new(body, sizeof(body));
    CHECK(in.payload != NULL);

    len = encode(TikTok_WebcastPushFrame_fields, &in, buf, sizeof(buf));
    free(in.payload);
    CHECK(len > 0);
    CHECK(decode(TikTok_WebcastPushFrame_fields, &out, buf, len));

    CHECK(out.has_seqId && out.seqId == 9);
    CHECK(out.has_logId && out.logId == 5092463814493970448);
    CHECK(!out.has_service);
    CHECK(!out.has_method);
    CHECK(out.headers_count == 1 && out.headers != NULL);
    if (out.headers_count == 1 && out.headers != NULL) {
        CHECK(str_eq(out.headers[0].key, "compress_type"));
        CHECK(str_eq(out.headers[0].value, "gzip"));
    }
    CHECK(str_eq(out.payloadEncoding, "pb"));
    CHECK(str_eq(out.payloadType, "msg"));
    CHECK(bytes_eq(out.payload, body, sizeof(body)));

    pb_release(TikTok_WebcastPushFrame_fields, &out);
    CHECK(out.headers == NULL && out.payload == NULL && out.payloadType == NULL);
}

/* (b) A chat message with nested user, badge and follow info; presence survives the trip. */
static void test_chat_roundtrip(void)
{
    static char method[] = "WebcastChatMessage";
    static char nickname[] = "Zo\xC3\xAB \xF0\x9F\x8E\x89 \xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88";
    static char display_id[] = "zoe.live_42";
    static char id_str[] = "9223372036854775807";
    static char level[] = "12";
    static char privilege_id[] = "7138381747292542756";
    static char content[] = "hello \xF0\x9F\x91\x8B";
    static int32_t comment_tags[] = { 1, 300 };
    TikTok_CommonMessageData common = TikTok_CommonMessageData_init_zero;
    TikTok_PrivilegeLogExtra ple = TikTok_PrivilegeLogExtra_init_zero;
    TikTok_BadgeStruct badge = TikTok_BadgeStruct_init_zero;
    TikTok_FollowInfo follow = TikTok_FollowInfo_init_zero;
    TikTok_User user = TikTok_User_init_zero;
    TikTok_WebcastChatMessage in = TikTok_WebcastChatMessage_init_zero;
    TikTok_WebcastChatMessage out = TikTok_WebcastChatMessage_init_zero;
    uint8_t buf[1024];
    size_t len;

    common.method = method;
    common.has_msgId = true;
    common.msgId = 7301234567890123456;
    common.has_createTime = true;
    common.createTime = 1700000000123;

    ple.level = level;
    ple.privilegeId = privilege_id;
    badge.has_displayType = true;
    badge.displayType = TikTok_BadgeDisplayType_TEXT;
    badge.has_sceneType = true;
    badge.sceneType = TikTok_BadgeSceneType_USER_GRADE;
    badge.privilegeLogExtra = &ple;

    follow.has_followingCount = true;
    follow.followingCount = 12;
    follow.has_followerCount = true;
    follow.followerCount = 3456;
    follow.has_followStatus = true;
    follow.followStatus = 1;

    user.has_id = true;
    user.id = INT64_MAX;
    user.nickname = nickname;
    user.displayId = display_id; /* tag 38: two-byte key */
    user.badgeList_count = 1;
    user.badgeList = &badge;
    user.followInfo = &follow;
    user.idStr = id_str; /* tags >= 1024 exercise the wide field descriptors */
    user.has_isFollowing = true;
    user.isFollowing = true;

    in.common = &common;
    in.user = &user;
    in.content = content;
    in.has_inputType = true; /* present with the default value: must stay present */
    in.inputType = 0;
    in.commentTag_count = 2;
    in.commentTag = comment_tags;

    len = encode(TikTok_WebcastChatMessage_fields, &in, buf, sizeof(buf));
    CHECK(len > 0);
    CHECK(decode(TikTok_WebcastChatMessage_fields, &out, buf, len));

    CHECK(out.common != NULL);
    if (out.common != NULL) {
        CHECK(str_eq(out.common->method, "WebcastChatMessage"));
        CHECK(out.common->has_msgId && out.common->msgId == 7301234567890123456);
        CHECK(out.common->has_createTime && out.common->createTime == 1700000000123);
        CHECK(!out.common->has_roomId);
        CHECK(out.common->displayText == NULL);
    }
    CHECK(out.user != NULL);
    if (out.user != NULL) {
        const TikTok_User *u = out.user;

        CHECK(u->has_id && u->id == INT64_MAX);
        CHECK(str_eq(u->nickname, nickname));
        CHECK(str_eq(u->displayId, "zoe.live_42"));
        CHECK(str_eq(u->idStr, "9223372036854775807"));
        CHECK(u->has_isFollowing && u->isFollowing);
        CHECK(!u->has_isFollower);
        CHECK(!u->has_verified);
        CHECK(u->secUid == NULL && u->avatarThumb == NULL);
        CHECK(u->followInfo != NULL);
        if (u->followInfo != NULL) {
            CHECK(u->followInfo->has_followingCount && u->followInfo->followingCount == 12);
            CHECK(u->followInfo->has_followerCount && u->followInfo->followerCount == 3456);
            CHECK(u->followInfo->has_followStatus && u->followInfo->followStatus == 1);
            CHECK(!u->followInfo->has_pushStatus);
        }
        CHECK(u->badgeList_count == 1 && u->badgeList != NULL);
        if (u->badgeList_count == 1 && u->badgeList != NULL) {
            const TikTok_BadgeStruct *b = &u->badgeList[0];

            CHECK(b->has_displayType && b->displayType == TikTok_BadgeDisplayType_TEXT);
            CHECK(b->has_sceneType && b->sceneType == TikTok_BadgeSceneType_USER_GRADE);
            CHECK(b->text == NULL && b->image == NULL);
            CHECK(b->privilegeLogExtra != NULL);
            if (b->privilegeLogExtra != NULL) {
                CHECK(str_eq(b->privilegeLogExtra->level, "12"));
                CHECK(str_eq(b->privilegeLogExtra->privilegeId, "7138381747292542756"));
                CHECK(!b->privilegeLogExtra->has_startTime);
            }
        }
    }
    CHECK(str_eq(out.content, content));
    CHECK(out.has_inputType && out.inputType == 0);
    CHECK(!out.has_visibleToSender); /* left absent */
    CHECK(out.atUser == NULL && out.emotes_count == 0 && out.emotes == NULL);
    CHECK(out.commentTag_count == 2 && out.commentTag != NULL);
    if (out.commentTag_count == 2 && out.commentTag != NULL)
        CHECK(out.commentTag[0] == 1 && out.commentTag[1] == 300);

    pb_release(TikTok_WebcastChatMessage_fields, &out);
    CHECK(out.common == NULL && out.user == NULL && out.content == NULL);
}

/* Encodes PushFrame{payloadEncoding "pb", payloadType type, payload} into buf. */
static size_t encode_frame(const char *type, const uint8_t *payload, size_t plen, uint8_t *buf,
                           size_t cap)
{
    static char encoding[] = "pb";
    char type_copy[32]; /* payloadType is a non-const char * */
    TikTok_WebcastPushFrame f = TikTok_WebcastPushFrame_init_zero;
    size_t tlen = strlen(type);
    size_t len;

    if (tlen >= sizeof(type_copy))
        return 0;
    memcpy(type_copy, type, tlen + 1);
    f.payloadEncoding = encoding;
    f.payloadType = type_copy;
    f.payload = bytes_new(payload, plen);
    if (f.payload == NULL)
        return 0;
    len = encode(TikTok_WebcastPushFrame_fields, &f, buf, cap);
    free(f.payload);
    return len;
}

/* (c) 2.x heartbeat, byte-exact (docs/protocol.md §7.4). */
static void test_heartbeat_bytes(void)
{
    static const uint8_t want[] = { 0x32, 0x02, 0x70, 0x62, 0x3A, 0x02, 0x68, 0x62,
                                    0x42, 0x0C, 0x08, 0xA0, 0x96, 0xBF, 0xDA, 0xF8,
                                    0xEA, 0xEB, 0xED, 0x64, 0x10, 0x01 };
    TikTok_HeartBeatMessage hb = TikTok_HeartBeatMessage_init_zero;
    uint8_t inner[32];
    uint8_t buf[64];
    size_t ilen;
    size_t len;

    hb.has_roomId = true;
    hb.roomId = 7267595214226705184;
    hb.has_sendPacketSeqId = true;
    hb.sendPacketSeqId = 1;
    ilen = encode(TikTok_HeartBeatMessage_fields, &hb, inner, sizeof(inner));
    CHECK(ilen == 12);
    len = encode_frame("hb", inner, ilen, buf, sizeof(buf));
    CHECK_MEM(buf, len, want, sizeof(want));
}

/* 2.x enter-room, byte-exact (docs/protocol.md §7.4), with a fixed 9-byte enterUniqueId. */
static void test_enter_room_bytes(void)
{
    static const uint8_t want[] = { 0x32, 0x02, 0x70, 0x62, 0x3A, 0x0D, 'i',  'm',  '_',  'e',
                                    'n',  't',  'e',  'r',  '_',  'r',  'o',  'o',  'm',  0x42,
                                    0x23, 0x08, 0xA0, 0x96, 0xBF, 0xDA, 0xF8, 0xEA, 0xEB, 0xED,
                                    0x64, 0x20, 0x0C, 0x2A, 0x08, 'a',  'u',  'd',  'i',  'e',
                                    'n',  'c',  'e',  0x40, 0x80, 0x80, 0xE8, 0xE2, 0xAA, 0xEA,
                                    0xB3, 0xA7, 0x65, 0x4A, 0x01, 0x30 };
    static char identity[] = "audience";
    static char filter[] = "0";
    TikTok_WebcastImEnterRoomMessage er = TikTok_WebcastImEnterRoomMessage_init_zero;
    uint8_t inner[64];
    uint8_t buf[128];
    size_t ilen;
    size_t len;

    er.has_roomId = true;
    er.roomId = 7267595214226705184;
    er.has_liveId = true;
    er.liveId = 12;
    er.identity = identity;
    er.has_enterUniqueId = true;
    er.enterUniqueId = 7300000000000000000;
    er.filterWelcomeMsg = filter;
    ilen = encode(TikTok_WebcastImEnterRoomMessage_fields, &er, inner, sizeof(inner));
    CHECK(ilen == 0x23);
    len = encode_frame("im_enter_room", inner, ilen, buf, sizeof(buf));
    CHECK_MEM(buf, len, want, sizeof(want));
}

/* (d) 1.x ack decodes (docs/protocol.md §7.4); the 2.x ack encodes byte-exact. */
static void test_ack_bytes(void)
{
    static const uint8_t ack1[] = { 0x10, 0x90, 0xC0, 0xC6, 0xB3, 0xBB, 0x9B, 0x84,
                                    0xD6, 0x46, 0x3A, 0x03, 0x61, 0x63, 0x6B };
    static const uint8_t ack2[] = { 0x10, 0x90, 0xC0, 0xC6, 0xB3, 0xBB, 0x9B, 0x84,
                                    0xD6, 0x46, 0x32, 0x02, 0x70, 0x62, 0x3A, 0x03,
                                    0x61, 0x63, 0x6B, 0x42, 0x01, 0x2D };
    static char encoding[] = "pb";
    static char type[] = "ack";
    TikTok_WebcastPushFrame out = TikTok_WebcastPushFrame_init_zero;
    TikTok_WebcastPushFrame in = TikTok_WebcastPushFrame_init_zero;
    uint8_t buf[64];
    size_t len;

    CHECK(decode(TikTok_WebcastPushFrame_fields, &out, ack1, sizeof(ack1)));
    CHECK(out.has_logId && out.logId == 5092463814493970448);
    CHECK(str_eq(out.payloadType, "ack"));
    CHECK(!out.has_seqId && out.payloadEncoding == NULL && out.payload == NULL);
    CHECK(out.headers_count == 0);
    pb_release(TikTok_WebcastPushFrame_fields, &out);

    in.has_logId = true;
    in.logId = 5092463814493970448;
    in.payloadEncoding = encoding;
    in.payloadType = type;
    in.payload = bytes_new("-", 1); /* the batch's internalExt */
    CHECK(in.payload != NULL);
    len = encode(TikTok_WebcastPushFrame_fields, &in, buf, sizeof(buf));
    free(in.payload);
    CHECK_MEM(buf, len, ack2, sizeof(ack2));
}

int main(void)
{
    test_push_frame_roundtrip();
    test_chat_roundtrip();
    test_heartbeat_bytes();
    test_enter_room_bytes();
    test_ack_bytes();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail == 0 ? 0 : 1;
}
