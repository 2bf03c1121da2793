/** @file fuzz_headers.c
 * libFuzzer target: arbitrary bytes as the two response headers of TikTok's and the sign
 * server's answers that the connector parses itself (http.c; curl hands each header's value on
 * as it came, bare CR and control bytes included): a Set-Cookie or X-Set-TT-Cookie value
 * through tt__cookie_parse into the jar, and a Retry-After value through tt__retry_after_s.
 * The first byte picks the cookie parse's mode (Set-Cookie's first pair only, or every pair).
 *
 * Invariants beyond ASan/UBSan:
 *   - the jar holds at most TT_COOKIES_MAX cookies, each with a non-empty name without '=' or
 *     ';', a value without ';' or trailing space, and neither with a control byte but HTAB, so
 *     the Cookie header made of them is one header line;
 *   - a Retry-After is at most its cap; digits alone (with spaces or tabs around) are that
 *     many seconds, up to the cap; digits with anything else after them are no value (0).
 * Built by `make fuzz` with clang; `build/fuzz_headers_replay` replays the corpus under gcc.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RETRY_MAX 86400u
#define NOW       ((time_t)1800000000)

static void check_jar(const struct tt_http *h)
{
    struct common_buf b;
    if (h->n_cookies > TT_COOKIES_MAX) {
        abort();
    }
    for (size_t i = 0; i < h->n_cookies; i++) {
        const char *n = h->cookies[i].name, *v = h->cookies[i].value;
        size_t vl = strlen(v);
        if (!n[0] || strpbrk(n, "=;") || strchr(v, ';') || (vl && v[vl - 1] == ' ') ||
            !tt__header_safe(n, strlen(n)) || !tt__header_safe(v, vl)) {
            abort();
        }
    }
    tt__buf_init(&b, 1 << 20);
    tt__cookie_header(h, &b);
    if (b.len && !tt__header_safe(b.p, b.len)) {
        abort();
    }
    common_buf_free(&b);
}

/* What a Retry-After of digits alone asks, computed apart from http.c: -1 if it is not that. */
static long long delta_seconds(const char *s)
{
    size_t i = strspn(s, " \t"), d = strspn(s + i, "0123456789");
    if (!d || s[i + d + strspn(s + i + d, " \t")]) {
        return -1;
    }
    long long v = 0;
    for (size_t k = i; k < i + d; k++) {
        v = v * 10 + (s[k] - '0');
        if (v > RETRY_MAX) {
            return RETRY_MAX;
        }
    }
    return v;
}

static void check_retry_after(const char *s)
{
    unsigned got = tt__retry_after_s(s, NOW, RETRY_MAX);
    long long want = delta_seconds(s);
    size_t i = strspn(s, " \t");
    if (got > RETRY_MAX || (want >= 0 && got != (unsigned)want) ||
        (want < 0 && s[i] >= '0' && s[i] <= '9' && got != 0)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tt_http h;
    static int ready;
    if (size < 1 || size > 4096) {
        return 0;
    }
    if (!ready) {
        struct tt_options o;
        tt_options_init(&o);
        if (tt__http_init(&h, &o)) {
            abort();
        }
        ready = 1;
    }
    char *s = malloc(size);
    if (!s) {
        return 0;
    }
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0'; /* a header value is a C string: what follows a NUL is not read */
    tt__cookie_parse(&h, s, data[0] & 1);
    check_jar(&h);
    while (h.n_cookies) {
        tt__cookie_del(&h, h.cookies[0].name);
    }
    check_retry_after(s);
    free(s);
    return 0;
}
