/** @file test_handle.c
 * Handles, topic prefixes and the shard rule (bridge/handle.h), table-driven: normalisation of
 * good handles, refusal of hostile ones with their reason, FNV-1a-32 known vectors, and that
 * shards split 1000 handles into disjoint parts that cover them all.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "handle.h"

struct handle_case {
    const char *in;
    const char *out; /* NULL: refused */
    const char *why; /* substring of the reason when refused */
};

static const struct handle_case handle_cases[] = {
    { "@Foo.Bar", "foo.bar", NULL },
    { "foo", "foo", NULL },
    { "ab", "ab", NULL },
    { "A1", "a1", NULL },
    { "_x", "_x", NULL },
    { "x_", "x_", NULL },
    { "a.b_c.9", "a.b_c.9", NULL },
    { "@abcdefghijklmnopqrstuvwx", "abcdefghijklmnopqrstuvwx", NULL }, /* 24 after the @ */
    { "abcdefghijklmnopqrstuvwxy", NULL, "too long (25 bytes, at most 24)" },
    { "a/b", NULL, "contains '/'" },
    { "../etc", NULL, "contains '/'" },
    { "#", NULL, "contains '#'" },
    { "+", NULL, "contains '+'" },
    { "a+b", NULL, "MQTT wildcard" },
    { "tiktok/#", NULL, "contains '/'" },
    { "..", NULL, "'..' not allowed" },
    { "a..b", NULL, "'..' not allowed" },
    { ".ab", NULL, "starts with '.'" },
    { "ab.", NULL, "ends with '.'" },
    { "", NULL, "empty" },
    { "@", NULL, "empty" },
    { "a", NULL, "too short" },
    { "@@foo", NULL, "character '@' not allowed" },
    { "a b", NULL, "character ' ' not allowed" },
    { "a-b", NULL, "character '-' not allowed" },
    { "$SYS", NULL, "character '$' not allowed" },
    { "a\tb", NULL, "control character" },
    { "a\nb", NULL, "control character" },
    { "ab\x01", NULL, "control character" },
    { "ab\x7f", NULL, "control character" },
    { "caf\xc3\xa9", NULL, "non-ASCII" },
    { "\xe5\xad\x97\xe5\xad\x97", NULL, "non-ASCII" },
    { "\xef\xbc\xa1\xef\xbc\xa2", NULL, "non-ASCII" }, /* full-width A B: no lowering */
};

static void test_normalize(void)
{
    for (size_t i = 0; i < sizeof handle_cases / sizeof handle_cases[0]; i++) {
        const struct handle_case *t = &handle_cases[i];
        char out[BRIDGE_HANDLE_SIZE] = "junk";
        const char *why = NULL;
        int rc = bridge_handle_normalize(t->in, out, sizeof out, &why);
        if (t->out) {
            CHECK_EQ(rc, 0);
            CHECK(strcmp(out, t->out) == 0);
        } else {
            CHECK_EQ(rc, -1);
            CHECK_EQ(out[0], 0);
            CHECK_HAS(why, t->why);
        }
    }
}

static void test_normalize_edges(void)
{
    char big[301], out[BRIDGE_HANDLE_SIZE], small[3];
    const char *why = NULL;
    memset(big, 'a', 300);
    big[300] = '\0';
    CHECK_EQ(bridge_handle_normalize(big, out, sizeof out, &why), -1);
    CHECK_HAS(why, "too long (300 bytes, at most 24)");
    CHECK_EQ(bridge_handle_normalize(NULL, out, sizeof out, &why), -1);
    CHECK_HAS(why, "empty");
    CHECK_EQ(bridge_handle_normalize("abcd", small, sizeof small, &why), -1);
    CHECK_HAS(why, "too small");
    CHECK_EQ(bridge_handle_normalize("Abcd", out, sizeof out, NULL), 0); /* why may be NULL */
    CHECK(strcmp(out, "abcd") == 0);
}

struct topic_case {
    const char *topic;
    const char *why; /* NULL: accepted */
};

static const struct topic_case topic_cases[] = {
    { "tiktok", NULL },
    { "home/tiktok", NULL },
    { "a/b/c", NULL },
    { "caf\xc3\xa9", NULL },
    { "tik tok", NULL }, /* spaces are legal in MQTT topics */
    { "", "empty" },
    { "/tiktok", "starts with '/'" },
    { "tiktok/", "ends with '/'" },
    { "a//b", "empty level" },
    { "tiktok/+", "contains '+'" },
    { "tiktok/#", "contains '#'" },
    { "#", "contains '#'" },
    { "$SYS/tiktok", "starts with '$'" },
    { "a\x01", "control character" },
    { "a\x7f", "control character" },
    { "a\xc2\x85", "control character" },
    { "a\xc3\x28", "not valid UTF-8" },
    { "a\xc0\xaf", "not valid UTF-8" },
    { "a\xed\xa0\x80", "not valid UTF-8" },
    { "a\xf4\x90\x80\x80", "not valid UTF-8" },
    { "a\xe2\x82", "not valid UTF-8" },
};

static void test_topic(void)
{
    for (size_t i = 0; i < sizeof topic_cases / sizeof topic_cases[0]; i++) {
        const char *why = NULL;
        int rc = bridge_topic_check(topic_cases[i].topic, &why);
        if (topic_cases[i].why) {
            CHECK_EQ(rc, -1);
            CHECK_HAS(why, topic_cases[i].why);
        } else {
            CHECK_EQ(rc, 0);
            CHECK(why == NULL);
        }
    }
    CHECK_EQ(bridge_topic_check(NULL, NULL), -1);
}

static void test_fnv(void)
{
    static const struct {
        const char *s;
        uint32_t h;
    } v[] = {
        { "", 0x811c9dc5u },
        { "a", 0xe40c292cu },
        { "foobar", 0xbf9cf968u },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        CHECK_EQ(bridge_fnv1a32(v[i].s, strlen(v[i].s)), v[i].h);
    }
}

/* For n shards, every handle is owned by exactly one, and each shard owns some. */
static void check_split(unsigned n, int handles)
{
    int owned[8] = { 0 }, exactly_one = 0;
    for (int k = 0; k < handles; k++) {
        char h[32];
        int owners = 0;
        snprintf(h, sizeof h, "user_%d", k);
        for (unsigned i = 1; i <= n; i++) {
            bool o = bridge_shard_owns(h, i, n);
            owners += o;
            owned[i - 1] += o;
        }
        exactly_one += owners == 1;
    }
    CHECK_EQ(exactly_one, handles);
    for (unsigned i = 0; i < n; i++) {
        CHECK(owned[i] > handles / (int)n / 2); /* FNV spreads them roughly evenly */
    }
}

static void test_shard(void)
{
    uint32_t h = bridge_fnv1a32("foobar", 6);
    check_split(2, 1000);
    check_split(3, 1000);
    check_split(7, 1000);
    CHECK(bridge_shard_owns("foobar", 1, 1));
    CHECK_EQ(bridge_shard_owns("foobar", h % 5 + 1, 5), 1);  /* the rule, literally */
    CHECK_EQ(bridge_shard_owns("@FooBar", h % 5 + 1, 5), 1); /* hashed once normalised */
    CHECK_EQ(bridge_shard_owns("foobar", (h + 1) % 5 + 1, 5), 0);
    CHECK_EQ(bridge_shard_owns("foobar", 0, 2), 0);
    CHECK_EQ(bridge_shard_owns("foobar", 3, 2), 0);
    CHECK_EQ(bridge_shard_owns("foobar", 1, 0), 0);
    CHECK_EQ(bridge_shard_owns("a/b", 1, 1), 0);
}

int main(void)
{
    test_normalize();
    test_normalize_edges();
    test_topic();
    test_fnv();
    test_shard();
    return h_finish();
}
