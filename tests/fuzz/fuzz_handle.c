/** @file fuzz_handle.c
 * libFuzzer target: arbitrary bytes as a streamer handle and as a topic, through handle.c's
 * validation: bridge_handle_normalize, bridge_shard_owns, bridge_topic_check and
 * bridge_topic_reserved (handles come from the config, the API and the state file; topics from
 * the config).
 *
 * Invariants beyond ASan/UBSan:
 *   - a normalized handle is 2..24 bytes of a-z, 0-9, '_', '.', with no "..", no leading or
 *     trailing '.'; it normalizes to itself, passes as a topic and is not reserved unless it is
 *     "bridge"; a refusal gives a reason and leaves "" in the buffer; a buffer too small for the
 *     handle refuses it without writing past its end;
 *   - a valid handle is owned by exactly one shard of n (n = 1..5), an invalid one by none;
 *   - a topic that passes has no empty level, no '+' or '#', no leading '$', no control byte;
 *   - being reserved depends on the first level alone.
 * Built by `make fuzz` with clang; `build/fuzz_handle_replay` replays the corpus under gcc.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "handle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_handle_shape(const char *h)
{
    size_t n = strlen(h);
    if (n < 2 || n > BRIDGE_HANDLE_MAX ||
        strspn(h, "abcdefghijklmnopqrstuvwxyz0123456789_.") != n || strstr(h, "..") ||
        h[0] == '.' || h[n - 1] == '.') {
        abort();
    }
}

static void check_handle(const char *in)
{
    char out[BRIDGE_HANDLE_SIZE], again[BRIDGE_HANDLE_SIZE];
    const char *why = NULL;
    if (bridge_handle_normalize(in, out, sizeof out, &why)) {
        if (!why || !why[0] || out[0]) {
            abort();
        }
        for (unsigned n = 1; n <= 5; n++) {
            for (unsigned i = 0; i <= n + 1; i++) {
                if (bridge_shard_owns(in, i, n)) {
                    abort();
                }
            }
        }
        return;
    }
    check_handle_shape(out);
    if (bridge_handle_normalize(out, again, sizeof again, &why) || strcmp(out, again) ||
        bridge_topic_check(out, &why) || (bridge_topic_reserved(out) && strcmp(out, "bridge"))) {
        abort();
    }
    for (unsigned n = 1; n <= 5; n++) {
        unsigned owners = 0;
        for (unsigned i = 0; i <= n + 1; i++) {
            owners += bridge_shard_owns(in, i, n) ? (i >= 1 && i <= n ? 1 : 100) : 0;
        }
        if (owners != 1) {
            abort();
        }
    }
    /* every smaller buffer, allocated to size: refused, nothing written past its end */
    size_t len = strlen(out);
    for (size_t sz = 0; sz <= len; sz++) {
        char *small = malloc(sz ? sz : 1);
        if (!small) {
            return;
        }
        if (!bridge_handle_normalize(in, sz ? small : NULL, sz, &why)) {
            abort();
        }
        free(small);
    }
}

static void check_topic(const char *t)
{
    const char *why = NULL;
    size_t n = strlen(t);
    if (bridge_topic_check(t, &why)) {
        if (!why || !why[0]) {
            abort();
        }
    } else if (n == 0 || t[0] == '/' || t[n - 1] == '/' || strstr(t, "//") || strpbrk(t, "+#") ||
               t[0] == '$') {
        abort();
    } else {
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f) {
                abort();
            }
        }
    }
    /* reserved or not by the first level alone */
    const char *slash = strchr(t, '/');
    if (slash) {
        char *first = strndup(t, (size_t)(slash - t));
        if (first && bridge_topic_reserved(first) != bridge_topic_reserved(t)) {
            abort();
        }
        free(first);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    check_handle(s);
    check_topic(s);
    free(s);
    return 0;
}
