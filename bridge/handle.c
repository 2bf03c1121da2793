/** @file handle.c
 * Handle normalisation, the FNV-1a-32 shard rule and the topic-prefix check (handle.h).
 * Every check works on bytes with our own ASCII tests, never <ctype.h>, so the result does not
 * depend on the locale the daemon happens to run in.
 *
 * SPDX-License-Identifier: MIT
 */
#include "handle.h"

#include <stdio.h>
#include <string.h>

/* Reasons that carry a number or a character are formatted here; one buffer per thread keeps
 * the function safe to call from the runtime API's thread and the loader at once. */
static _Thread_local char why_buf[96];

static bool is_lower_or_digit(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

/* The reason a byte cannot appear in a handle, or NULL when it can (upper case included:
 * it is lowered afterwards). Wildcards and '/' get their own words: they are the dangerous
 * ones, since each would change the meaning of a topic. */
static const char *bad_handle_byte(unsigned char c)
{
    if (is_lower_or_digit(c) || is_upper(c) || c == '_' || c == '.') {
        return NULL;
    }
    if (c < 0x20 || c == 0x7f) {
        return "control character";
    }
    if (c >= 0x80) {
        return "non-ASCII character (a handle is a-z, 0-9, '_' and '.')";
    }
    if (c == '/') {
        return "contains '/'";
    }
    if (c == '+' || c == '#') {
        snprintf(why_buf, sizeof why_buf, "contains '%c' (an MQTT wildcard)", c);
        return why_buf;
    }
    snprintf(why_buf, sizeof why_buf, "character '%c' not allowed (only a-z, 0-9, '_' and '.')", c);
    return why_buf;
}

/* Length and dot rules, once every byte is known to be allowed. */
static const char *bad_handle_shape(const char *s, size_t n)
{
    if (n == 0) {
        return "empty";
    }
    if (n == 1) {
        return "too short (1 character, at least 2)";
    }
    if (strstr(s, "..")) {
        return "'..' not allowed";
    }
    if (s[0] == '.') {
        return "starts with '.'";
    }
    if (s[n - 1] == '.') {
        return "ends with '.'";
    }
    return NULL;
}

int bridge_handle_normalize(const char *in, char *out, size_t outsz, const char **why)
{
    const char *reason = NULL, *ignored;
    size_t n;
    why = why ? why : &ignored;
    if (out && outsz) {
        out[0] = '\0';
    }
    if (!in) {
        *why = "empty";
        return -1;
    }
    in += in[0] == '@';
    n = strlen(in);
    if (n > BRIDGE_HANDLE_MAX) {
        snprintf(why_buf, sizeof why_buf, "too long (%zu bytes, at most %d)", n, BRIDGE_HANDLE_MAX);
        *why = why_buf;
        return -1;
    }
    for (size_t i = 0; i < n && !reason; i++) {
        reason = bad_handle_byte((unsigned char)in[i]);
    }
    reason = reason ? reason : bad_handle_shape(in, n);
    if (!reason && (!out || outsz <= n)) {
        reason = "output buffer too small";
    }
    if (reason) {
        *why = reason;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = (char)(is_upper(c) ? c + ('a' - 'A') : c);
    }
    out[n] = '\0';
    return 0;
}

uint32_t bridge_fnv1a32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t h = 0x811c9dc5u;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x01000193u;
    }
    return h;
}

bool bridge_shard_owns(const char *handle, unsigned i, unsigned n)
{
    char norm[BRIDGE_HANDLE_SIZE];
    if (n == 0 || i < 1 || i > n || bridge_handle_normalize(handle, norm, sizeof norm, NULL)) {
        return false;
    }
    return bridge_fnv1a32(norm, strlen(norm)) % n == i - 1;
}

/* Length of the UTF-8 sequence at s (1..4), or 0 when it is not valid UTF-8: overlong forms,
 * surrogates and code points past U+10FFFF are refused, as MQTT requires (v5 §1.5.4). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : 0;
    n = c >= 0xf0 && c <= 0xf4 ? 4 : n;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] > 0x8f)) {
        return 0;
    }
    return n;
}

/* Per-character part of the topic check: wildcards, controls (C0, DEL and the C1 range, which
 * MQTT says should not appear) and UTF-8 validity. */
static const char *bad_topic_chars(const unsigned char *s)
{
    while (*s) {
        size_t n = utf8_len(s);
        if (n == 0) {
            return "not valid UTF-8";
        }
        if (*s == '+' || *s == '#') {
            return *s == '+' ? "contains '+' (an MQTT wildcard)"
                             : "contains '#' (an MQTT wildcard)";
        }
        if (*s < 0x20 || *s == 0x7f || (s[0] == 0xc2 && s[1] < 0xa0)) {
            return "control character";
        }
        s += n;
    }
    return NULL;
}

const char *bridge_mqtt_string_check(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_len(p);
        if (n == 0) {
            return "not valid UTF-8";
        }
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] < 0xa0)) {
            return "control character";
        }
        p += n;
    }
    return NULL;
}

bool bridge_topic_reserved(const char *topic)
{
    static const char *const levels[] = { "bridge" };
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        size_t n = strlen(levels[i]);
        if (!strncmp(topic, levels[i], n) && (topic[n] == '\0' || topic[n] == '/')) {
            return true;
        }
    }
    return false;
}

int bridge_topic_check(const char *topic, const char **why)
{
    const char *reason = NULL, *ignored;
    size_t n = topic ? strlen(topic) : 0;
    why = why ? why : &ignored;
    if (n == 0) {
        reason = "empty";
    } else if (topic[0] == '/') {
        reason = "starts with '/'";
    } else if (topic[n - 1] == '/') {
        reason = "ends with '/'";
    } else if (strstr(topic, "//")) {
        reason = "has an empty level ('//')";
    } else if (topic[0] == '$') {
        reason = "starts with '$' (reserved for broker topics such as $SYS)";
    } else {
        reason = bad_topic_chars((const unsigned char *)topic);
    }
    *why = reason;
    return reason ? -1 : 0;
}
