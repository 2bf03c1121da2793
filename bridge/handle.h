/** @file handle.h
 * Streamer handles, topic levels and shard ownership, as docs/mqtt.md §1 and §8
 * define them. Pure functions: no allocation, no I/O, safe from any thread.
 *
 * A handle is a TikTok uniqueId. It is normalised once (one leading '@' stripped, ASCII
 * upper case lowered) and must then match ^[a-z0-9_][a-z0-9_.]{0,22}[a-z0-9_]$ with no "..".
 * Anything else is refused with a reason; nothing is ever mangled into a topic.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_HANDLE_H
#define BRIDGE_HANDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Longest normalised handle, in bytes. */
#define BRIDGE_HANDLE_MAX 24
/** Buffer size that holds any normalised handle and its NUL. */
#define BRIDGE_HANDLE_SIZE (BRIDGE_HANDLE_MAX + 1)

/** Normalise `in` into `out` (at least BRIDGE_HANDLE_SIZE bytes). Returns 0, or -1 with
 *  `*why` (if `why` is not NULL) set to a reason such as "contains '/'", "too long (300 bytes,
 *  at most 24)", "control character", "'..' not allowed" or "empty". The reason is a static
 *  or thread-local string, valid until the next call in the same thread. On refusal `out`
 *  holds "" (when outsz > 0). */
int bridge_handle_normalize(const char *in, char *out, size_t outsz, const char **why);

/** FNV-1a, 32 bits, over `len` bytes: offset basis 0x811c9dc5, prime 0x01000193. */
uint32_t bridge_fnv1a32(const void *data, size_t len);

/** True when shard `i` of `n` (i from 1) owns `handle`: FNV-1a-32 of the normalised handle's
 *  bytes, mod n, equals i - 1. The handle is normalised first, so "@Foo" and "foo" agree;
 *  an invalid handle, n == 0 or i outside 1..n owns nothing. */
bool bridge_shard_owns(const char *handle, unsigned i, unsigned n);

/** Check a topic prefix such as `[mqtt] base_topic`: one or more levels, none empty, no '+'
 *  or '#', no leading or trailing '/', no leading '$' (broker topics), no control character,
 *  valid UTF-8. Returns 0, or -1 with `*why` set (static string). */
int bridge_topic_check(const char *topic, const char **why);

/** Why `s` cannot go out as an MQTT UTF-8 string (the user name): "not valid UTF-8" or
 *  "control character" (C0, DEL, C1: brokers such as mosquitto refuse them), else NULL. */
const char *bridge_mqtt_string_check(const char *s);

/** True when a streamer's topic would land on the bridge's own topics: its first level is
 *  "bridge" (<base>/bridge/state, request, response, ...). The one list of such levels. */
bool bridge_topic_reserved(const char *topic);

#endif
