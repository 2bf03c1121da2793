/** @file base64.c
 * Base64 both ways (base64.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void common_base64_encode(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i += 3, out += 4) {
        size_t left = n - i;
        uint32_t v = (uint32_t)in[i] << 16;
        if (left > 1) {
            v |= (uint32_t)in[i + 1] << 8;
        }
        if (left > 2) {
            v |= in[i + 2];
        }
        out[0] = alphabet[v >> 18];
        out[1] = alphabet[(v >> 12) & 63];
        out[2] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
        out[3] = left > 2 ? alphabet[v & 63] : '=';
    }
}

static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' || c == '-' ? 62 : c == '/' || c == '_' ? 63 : -1;
}

ssize_t common_base64_decode(const char *in, size_t n, uint8_t *out)
{
    size_t len = 0, i = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (; i < n && in[i] != '='; i++) {
        int v = value_of((unsigned char)in[i]);
        if (v < 0) {
            return -1;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (uint8_t)(acc >> bits);
        }
    }
    while (i < n && in[i] == '=') {
        i++;
    }
    return i == n ? (ssize_t)len : -1;
}
