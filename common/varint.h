/** @file varint.h
 * Base-128 varints, as protobuf writes its keys and integers and MQTT its remaining length:
 * read by the simulator's replay (a frame's logId) and the benchmark subscriber (MQTT
 * packets). The library's own protobuf reader is connector/src/wire.c, tuned for its loop.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef COMMON_VARINT_H
#define COMMON_VARINT_H

#include <stddef.h>
#include <stdint.h>

/** The varint at p[0..n), of at most `max_bytes` bytes (10 for protobuf, 4 for MQTT), into
 *  `*v`; returns the bytes it took, 0 when it is cut short or longer than `max_bytes`. */
static inline size_t common_varint(const uint8_t *p, size_t n, size_t max_bytes, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n && i < max_bytes; i++) {
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

#endif
