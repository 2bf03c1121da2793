/** @file encode.c
 * Outgoing: the frames the client sends on the WebSocket (docs/protocol.md §7.4), encoded with
 * the nanopb code generated from proto/webcast.proto: heartbeat (2.x: payloadType "hb" carrying
 * HeartBeatMessage{roomId, sendPacketSeqId}), enter-room (payloadType "im_enter_room" carrying
 * WebcastImEnterRoomMessage{roomId, liveId 12, identity "audience", enterUniqueId,
 * filterWelcomeMsg "0"}) and ack ({logId, payloadType "ack", payload = internalExt}). Also the
 * other way round, for the raw hook: an HTTP fetch answer wrapped as the push frame ("msg") a
 * server would have sent it in, so recordings hold push frames only.
 * test_proto checks the same encodings byte for byte against hand-encoded bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pb_encode.h>

#include "client_int.h"
#include "webcast.pb.h"

#define PAYLOAD_MAX 4096 /* internalExt is ~200 bytes; anything longer is not TikTok's */

struct bytes {
    pb_size_t size;
    pb_byte_t bytes[PAYLOAD_MAX];
};

static enum tt_err push_frame(struct common_buf *out, uint64_t log_id, const char *type,
                              const uint8_t *payload, size_t n)
{
    TikTok_WebcastPushFrame f = TikTok_WebcastPushFrame_init_zero;
    struct bytes local; /* laid out as pb_bytes_array_t with room for the payload */
    if (n > PAYLOAD_MAX) {
        return TT_ERR_TOO_LARGE;
    }
    local.size = (pb_size_t)n;
    if (n) {
        memcpy(local.bytes, payload, n);
    }
    if (log_id) {
        f.has_logId = true;
        f.logId = (int64_t)log_id;
    }
    f.payloadEncoding = (char *)(uintptr_t) "pb";
    f.payloadType = (char *)(uintptr_t)type;
    f.payload = n ? (pb_bytes_array_t *)(void *)&local : NULL;
    size_t size = 0;
    if (!pb_get_encoded_size(&size, TikTok_WebcastPushFrame_fields, &f)) {
        return TT_ERR_PROTO;
    }
    common_buf_reset(out);
    if (common_buf_grow(out, size)) {
        return tt__buf_err(out);
    }
    pb_ostream_t s = pb_ostream_from_buffer((pb_byte_t *)out->p, size);
    if (!pb_encode(&s, TikTok_WebcastPushFrame_fields, &f)) {
        return TT_ERR_PROTO;
    }
    out->len = s.bytes_written;
    return TT_OK;
}

/* A small message the client sends (heartbeat, enter-room), encoded as a push frame's payload. */
static enum tt_err push_message(struct common_buf *out, const char *type,
                                const pb_msgdesc_t *fields, const void *msg)
{
    uint8_t buf[128];
    pb_ostream_t s = pb_ostream_from_buffer(buf, sizeof buf);
    if (!pb_encode(&s, fields, msg)) {
        return TT_ERR_PROTO;
    }
    return push_frame(out, 0, type, buf, s.bytes_written);
}

enum tt_err tt__encode_heartbeat(struct common_buf *out, uint64_t room_id, uint64_t seq)
{
    TikTok_HeartBeatMessage hb = TikTok_HeartBeatMessage_init_zero;
    hb.has_roomId = true;
    hb.roomId = (int64_t)room_id;
    hb.has_sendPacketSeqId = true;
    hb.sendPacketSeqId = (int64_t)seq;
    return push_message(out, "hb", TikTok_HeartBeatMessage_fields, &hb);
}

enum tt_err tt__encode_enter_room(struct common_buf *out, uint64_t room_id, uint64_t unique)
{
    TikTok_WebcastImEnterRoomMessage m = TikTok_WebcastImEnterRoomMessage_init_zero;
    m.has_roomId = true;
    m.roomId = (int64_t)room_id;
    m.has_liveId = true;
    m.liveId = 12;
    m.identity = (char *)(uintptr_t) "audience";
    m.has_enterUniqueId = unique != 0;
    m.enterUniqueId = (int64_t)unique;
    m.filterWelcomeMsg = (char *)(uintptr_t) "0";
    return push_message(out, "im_enter_room", TikTok_WebcastImEnterRoomMessage_fields, &m);
}

enum tt_err tt__encode_ack(struct common_buf *out, uint64_t log_id, const char *internal_ext)
{
    const char *p = internal_ext && *internal_ext ? internal_ext : "-";
    return push_frame(out, log_id, "ack", (const uint8_t *)p, strlen(p));
}

/* The header fields through nanopb, then field 8 (payload) by hand: push_frame copies its
 * payload into a 4 KiB local, and a fetch answer may be megabytes. */
enum tt_err tt__encode_wrap_result(struct common_buf *out, const uint8_t *result, size_t n)
{
    uint8_t head[16];
    enum tt_err rc = push_frame(out, 0, "msg", NULL, 0);
    if (rc) {
        return rc;
    }
    pb_ostream_t s = pb_ostream_from_buffer(head, sizeof head);
    if (!pb_encode_tag(&s, PB_WT_STRING, 8) || !pb_encode_varint(&s, n)) {
        return TT_ERR_PROTO;
    }
    common_buf_add(out, head, s.bytes_written);
    common_buf_add(out, result, n);
    return tt__buf_err(out);
}
