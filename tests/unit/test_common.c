/** @file test_common.c
 * common/'s shared pieces on their own: the growable buffer (its cap, its sticky error, an
 * allocator that fails, printf past the first allocation), base64 both ways against RFC 4648's
 * test vectors, and varints of protobuf's and MQTT's lengths.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buffer.h"
#include "harness.h"
#include "varint.h"

static int reallocs_left;

static void *failing_realloc(void *p, size_t n)
{
    return reallocs_left-- > 0 ? realloc(p, n) : NULL;
}

static void test_buffer(void)
{
    struct common_buf b;
    common_buf_init(&b, 8);
    CHECK(common_buf_cstr(&b) != NULL && !strcmp(common_buf_cstr(&b), ""));
    common_buf_adds(&b, "1234");
    common_buf_addc(&b, '5');
    common_buf_printf(&b, "%d", 678);
    CHECK_EQ(b.err, 0);
    CHECK(!strcmp(common_buf_cstr(&b), "12345678"));
    common_buf_addc(&b, '9'); /* one past the cap */
    CHECK_EQ(b.err, EMSGSIZE);
    common_buf_adds(&b, "x"); /* sticky: ignored */
    CHECK_EQ(b.len, 8);
    CHECK(common_buf_cstr(&b) == NULL);
    common_buf_reset(&b);
    CHECK_EQ(b.err, 0);
    common_buf_printf(&b, "%s", "123456789"); /* printf past the cap fails as well */
    CHECK_EQ(b.err, EMSGSIZE);
    common_buf_free(&b);

    /* printf longer than what is allocated: grows and prints again */
    common_buf_init(&b, 1 << 20);
    common_buf_adds(&b, "<");
    common_buf_printf(&b, "%0600d", 7);
    common_buf_adds(&b, ">");
    CHECK_EQ(b.len, 602);
    CHECK(b.p[0] == '<' && b.p[599] == '0' && b.p[600] == '7' && b.p[601] == '>');
    common_buf_free(&b);
    CHECK(b.p == NULL && b.len == 0);

    /* trim: memory within `keep` stays for the next use, more goes back; the error clears */
    common_buf_init(&b, 1 << 20);
    common_buf_adds(&b, "small");
    common_buf_trim(&b, 1024);
    CHECK(b.p != NULL && b.len == 0 && b.cap >= 5 && b.cap <= 1024);
    common_buf_printf(&b, "%02000d", 1);
    CHECK(b.cap > 1024);
    b.err = EMSGSIZE;
    common_buf_trim(&b, 1024);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0 && b.err == 0 && b.max == 1 << 20);
    common_buf_adds(&b, "again");
    CHECK(!strcmp(common_buf_cstr(&b), "again"));
    common_buf_free(&b);

    /* the owner's allocator, failing on its second call: ENOMEM, nothing aborts */
    common_buf_init(&b, 1 << 20);
    b.realloc_fn = failing_realloc;
    reallocs_left = 1;
    common_buf_adds(&b, "first");
    CHECK_EQ(b.err, 0);
    char big[1000];
    memset(big, 'a', sizeof big);
    common_buf_add(&b, big, sizeof big);
    CHECK_EQ(b.err, ENOMEM);
    CHECK(common_buf_cstr(&b) == NULL);
    common_buf_free(&b);

    /* a zeroed buffer that never grew may be freed */
    struct common_buf z = { 0 };
    common_buf_free(&z);
    CHECK(z.p == NULL);
}

static void test_base64(void)
{
    /* RFC 4648 section 10 */
    static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const coded[] = { "",         "Zg==",     "Zm8=",    "Zm9v",
                                         "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        char out[16] = "";
        uint8_t back[16];
        size_t n = strlen(plain[i]);
        common_base64_encode((const uint8_t *)plain[i], n, out);
        CHECK_EQ(COMMON_BASE64_LEN(n), strlen(coded[i]));
        CHECK(!memcmp(out, coded[i], strlen(coded[i])));
        CHECK_EQ(common_base64_decode(coded[i], strlen(coded[i]), back), n);
        CHECK(!memcmp(back, plain[i], n));
    }
    uint8_t out[8];
    CHECK_EQ(common_base64_decode("Zm9vYg", 6, out), 4); /* padding may be left out */
    CHECK_EQ(common_base64_decode("-_-_", 4, out), 3);   /* the URL-safe alphabet */
    CHECK(out[0] == 0xfb && out[1] == 0xff && out[2] == 0xbf);
    CHECK_EQ(common_base64_decode("Zm9v!", 5, out), -1);  /* not base64 */
    CHECK_EQ(common_base64_decode("Zg==Zg", 6, out), -1); /* something after the padding */
}

static void test_varint(void)
{
    uint64_t v = 0;
    static const uint8_t one[] = { 0x01 }, big[] = { 0xac, 0x02 },
                         max[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 },
                         open[] = { 0x80, 0x80 }, mqtt5[] = { 0x80, 0x80, 0x80, 0x80, 0x01 };
    CHECK_EQ(common_varint(one, 1, 10, &v), 1);
    CHECK_EQ(v, 1);
    CHECK_EQ(common_varint(big, 2, 10, &v), 2);
    CHECK_EQ(v, 300);
    CHECK_EQ(common_varint(max, 10, 10, &v), 10);
    CHECK(v == UINT64_MAX);
    CHECK_EQ(common_varint(open, 2, 10, &v), 0); /* cut short */
    CHECK_EQ(common_varint(mqtt5, 5, 4, &v), 0); /* MQTT's length has at most 4 bytes */
    CHECK_EQ(common_varint(mqtt5, 5, 10, &v), 5);
    CHECK_EQ(v, (uint64_t)1 << 28);
}

int main(void)
{
    test_buffer();
    test_base64();
    test_varint();
    return h_finish();
}
