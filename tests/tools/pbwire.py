"""Minimal protobuf wire-format helpers for the test tools (stdlib only).

Used by check_captures.py to wrap captured inner messages into push frames the
way TikTok's server sends them, and to peek at a payload's common.method.

Encoding covers exactly what the tools need: varints, field keys,
length-delimited fields and varint fields.  Decoding is a flat field iterator
(no schema), enough to walk a few known paths.

Frame layout built by push_frame() (field numbers of the v3 schema,
tiktok-live-proto; v1's WebcastWebsocketMessage uses the same numbers):

    WebcastPushFrame {
      logId(2)            varint   frame id (non-zero, so a real client would ACK)
      payloadEncoding(6)  "pb"     ignored by 1.x, required by 2.x
      payloadType(7)      "msg"
      payload(8)          ProtoMessageFetchResult {
                            messages(1) = BaseProtoMessage { method(1), payload(2) }
                          }
    }

The payload is not gzip-compressed (1.x and 2.x detect gzip by its magic
bytes, so both paths accept it).

SPDX-License-Identifier: MIT
"""

# Wire types.
WT_VARINT = 0
WT_I64 = 1
WT_LEN = 2
WT_I32 = 5


def varint(n):
    """Encode a non-negative int (or a negative one as 64-bit two's complement)."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire_type):
    """Field key (tag) bytes."""
    return varint((field << 3) | wire_type)


def f_varint(field, n):
    """A varint field."""
    return key(field, WT_VARINT) + varint(n)


def f_bytes(field, data):
    """A length-delimited field; str is encoded as UTF-8."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return key(field, WT_LEN) + varint(len(data)) + data


def push_frame(method, payload, log_id=1, encoding="pb"):
    """Wrap one inner message in a push frame (see the module docstring).

    encoding=None leaves payloadEncoding out (frame as v1's schema describes it).
    """
    entry = f_bytes(1, method) + f_bytes(2, payload)
    fetch_result = f_bytes(1, entry)
    frame = f_varint(2, log_id)
    if encoding is not None:
        frame += f_bytes(6, encoding)
    frame += f_bytes(7, "msg") + f_bytes(8, fetch_result)
    return frame


class WireError(ValueError):
    """Malformed protobuf bytes."""


def read_varint(buf, pos):
    """Decode a varint at pos; return (value, new_pos)."""
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint too long")


def iter_fields(buf):
    """Yield (field_number, wire_type, value) for each top-level field.

    value is an int for varints, bytes for the other wire types.
    Groups (wire types 3/4) are not supported (TikTok does not use them).
    """
    pos = 0
    n = len(buf)
    while pos < n:
        k, pos = read_varint(buf, pos)
        field, wt = k >> 3, k & 7
        if field == 0:
            raise WireError("field number 0")
        if wt == WT_VARINT:
            v, pos = read_varint(buf, pos)
        elif wt == WT_LEN:
            ln, pos = read_varint(buf, pos)
            if pos + ln > n:
                raise WireError("truncated length-delimited field")
            v = bytes(buf[pos:pos + ln])
            pos += ln
        elif wt == WT_I64:
            if pos + 8 > n:
                raise WireError("truncated fixed64")
            v = bytes(buf[pos:pos + 8])
            pos += 8
        elif wt == WT_I32:
            if pos + 4 > n:
                raise WireError("truncated fixed32")
            v = bytes(buf[pos:pos + 4])
            pos += 4
        else:
            raise WireError("unsupported wire type %d" % wt)
        yield field, wt, v


def first_field(buf, field, wire_type):
    """Value of the first occurrence of field with wire_type, or None."""
    for f, wt, v in iter_fields(buf):
        if f == field and wt == wire_type:
            return v
    return None


def common_method(payload):
    """common(1).method(1) of an inner message as str, or None if absent."""
    try:
        common = first_field(payload, 1, WT_LEN)
        if common is None:
            return None
        m = first_field(common, 1, WT_LEN)
        return None if m is None else m.decode("utf-8", "replace")
    except WireError:
        return None
