/** @file base64.h
 * Base64 (RFC 4648) both ways (base64.c), for the library (rawData's bytes), the simulator
 * (a scenario's raw messages) and the tools (captured messages).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef COMMON_BASE64_H
#define COMMON_BASE64_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** The length of the encoding of `n` bytes (with '=' padding). */
#define COMMON_BASE64_LEN(n) (((n) + 2) / 3 * 4)

/** Encode `n` bytes into `out` (COMMON_BASE64_LEN(n) chars, no NUL), standard alphabet. */
void common_base64_encode(const uint8_t *in, size_t n, char *out);
/** Decode `n` chars (standard or URL-safe alphabet; padding optional, nothing after it) into
 *  `out`, which holds at least n * 3 / 4 bytes; the number of bytes, or -1 when a char is no
 *  base64. */
ssize_t common_base64_decode(const char *in, size_t n, uint8_t *out);

#endif
