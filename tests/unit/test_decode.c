/** @file test_decode.c
 * Unit tests of the decode path: the wire reader's edge cases, the JSON writer, and
 * tt_decode_frame on hand-built frames (gzip, caps, bombs, malformed input, dispatch rules),
 * the gift list shared between clients, plus allocation-failure injection over a whole decode.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <zlib.h>

#include "harness.h"
#include "tt.h"
#include "alloc.h"
#include "gifts.h"
#include "tt_int.h"
#include "json.h"
#include "wire.h"

/* ---- collecting events ---- */

#define MAX_EV 16
struct got {
    int n;
    enum tt_event_type type[MAX_EV];
    char json[MAX_EV][4096];
    uint64_t msg_id[MAX_EV];
};

static void collect(const struct tt_event *ev, void *ud)
{
    struct got *g = ud;
    if (g->n < MAX_EV) {
        g->type[g->n] = ev->type;
        g->msg_id[g->n] = ev->msg_id;
        snprintf(g->json[g->n], sizeof g->json[0], "%s", ev->json);
        g->n++;
    }
}

/* ---- building frames ---- */

static void user(struct pbw *u, uint64_t id, const char *handle, const char *nick)
{
    u->n = 0;
    pbw_str(u, 38, handle); /* TikTok sends fields out of order: handle first */
    pbw_int(u, 1, id);
    pbw_str(u, 3, nick);
}

static void common(struct pbw *c, uint64_t msg_id, const char *display_key)
{
    struct pbw t = { .n = 0 };
    c->n = 0;
    pbw_str(c, 1, "WebcastChatMessage");
    pbw_int(c, 2, msg_id);
    pbw_int(c, 4, 1700000000123);
    pbw_str(&t, 1, display_key);
    pbw_str(&t, 2, "{0:user} pattern");
    pbw_msg(c, 8, &t);
}

static void chat(struct pbw *m, const char *text)
{
    static struct pbw u, c;
    m->n = 0;
    user(&u, UINT64_C(9223372036854775807), "handle_1", "Zoë \"q\"\n");
    common(&c, 7300000000000000001, "");
    pbw_str(m, 3, text);
    pbw_msg(m, 2, &u);
    pbw_int(m, 99, 12345);  /* unknown varint */
    pbw_str(m, 98, "skip"); /* unknown bytes */
    pbw_str(m, 14, "");     /* explicit empty value */
    pbw_msg(m, 1, &c);
}

/* Wrap messages (method/payload pairs) into fetch result and push frame. */
static void frame(struct pbw *f, const char *type, int gzip, int n, const char **methods,
                  struct pbw **payloads)
{
    static struct pbw r, one, z;
    r.n = 0;
    for (int i = 0; i < n; i++) {
        one.n = 0;
        pbw_str(&one, 1, methods[i]);
        pbw_msg(&one, 2, payloads[i]);
        pbw_msg(&r, 1, &one);
    }
    pbw_str(&r, 2, "cursor-1");
    pbw_str(&r, 5, "-");
    pbw_int(&r, 9, 1);
    one.n = 0;
    pbw_str(&one, 1, "imprp");
    pbw_str(&one, 2, "abc");
    pbw_msg(&r, 7, &one);
    pbw_str(&r, 10, "wss://push.example/ws");
    f->n = 0;
    pbw_int(f, 2, 5092463814493970448u);
    pbw_str(f, 7, type);
    if (gzip) {
        z_stream zs = { 0 };
        deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        zs.next_in = r.b;
        zs.avail_in = (uInt)r.n;
        zs.next_out = z.b;
        zs.avail_out = sizeof z.b;
        deflate(&zs, Z_FINISH);
        z.n = zs.total_out;
        deflateEnd(&zs);
        pbw_msg(f, 8, &z);
    } else {
        pbw_msg(f, 8, &r);
    }
}

/* ---- the wire reader ---- */

static int next1(const uint8_t *p, size_t n, struct pb_field *f)
{
    struct pb_reader r = { p, p + n };
    return tt__pb_next(&r, f);
}

static void test_wire(void)
{
    struct pb_field f;
    static const uint8_t max10[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0x01 };
    static const uint8_t over10[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0x02 };
    static const uint8_t eleven[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    static const uint8_t fixed64[] = { 0x09, 1, 2, 3, 4, 5, 6, 7, 8 };
    static const uint8_t fixed32[] = { 0x0d, 1, 2, 3, 4 };
    static const uint8_t len_past[] = { 0x0a, 0x05, 'a', 'b' };
    static const uint8_t group[] = { 0x0b, 0x0c };
    static const uint8_t field0[] = { 0x00, 0x01 };
    static const uint8_t trunc[] = { 0x08, 0x80 };
    static const uint8_t big_tag[] = { 0xfa, 0x40, 0x00 }; /* field 1039, LEN, empty */
    CHECK_EQ(next1(max10, sizeof max10, &f), 1);
    CHECK(f.v == UINT64_MAX);
    CHECK_EQ(next1(over10, sizeof over10, &f), -1);
    CHECK_EQ(next1(eleven, sizeof eleven, &f), -1);
    CHECK_EQ(next1(fixed64, sizeof fixed64, &f), 1);
    CHECK(f.v == UINT64_C(0x0807060504030201) && f.wt == PB_WT_I64);
    CHECK_EQ(next1(fixed32, sizeof fixed32, &f), 1);
    CHECK(f.v == 0x04030201 && f.wt == PB_WT_I32);
    CHECK_EQ(next1(fixed32, 3, &f), -1);
    CHECK_EQ(next1(len_past, sizeof len_past, &f), -1);
    CHECK_EQ(next1(group, sizeof group, &f), -1);
    CHECK_EQ(next1(field0, sizeof field0, &f), -1);
    CHECK_EQ(next1(trunc, sizeof trunc, &f), -1);
    CHECK_EQ(next1(big_tag, sizeof big_tag, &f), 1);
    CHECK_EQ(f.num, 1039);
    CHECK_EQ(next1(big_tag, 0, &f), 0);

    /* scan: last value wins, wrong wire type skipped, packed and unpacked repeated */
    static const struct pb_desc d[] = { { 1, PB_INT }, { 2, PB_LEN }, { 3, PB_REP } };
    struct pbw w = { .n = 0 };
    struct pb_msg m;
    pbw_int(&w, 1, 5);
    pbw_int(&w, 1, 7);
    pbw_int(&w, 2, 9);   /* varint where bytes were expected: skipped */
    pbw_str(&w, 1, "x"); /* bytes where a varint was expected: skipped */
    pbw_int(&w, 3, 10);
    pbw_bytes(&w, 3, "\x0b\x0c", 2);
    CHECK_EQ(tt__pb_scan(&m, d, 3, w.b, w.n), 0);
    CHECK_EQ(pb_u(&m, 0), 7);
    CHECK(!PB_HAS(&m, 1));
    struct pb_iter it;
    uint64_t v, sum = 0;
    tt__pb_iter_init(&it, m.self, 3);
    while (tt__pb_iter_next_varint(&it, &v)) {
        sum = sum * 100 + v;
    }
    CHECK(sum == 101112);

    /* numbers past the O(1) index: one in the table, one between its entries, past its end */
    static const struct pb_desc hi[] = { { 64, PB_REP }, { 1024, PB_INT }, { 5, PB_INT } };
    w.n = 0;
    pbw_int(&w, 2000, 1); /* past the largest: unknown */
    pbw_bytes(&w, 64, "a", 1);
    pbw_int(&w, 700, 2); /* between 64 and 1024: unknown */
    pbw_int(&w, 1024, 3);
    pbw_bytes(&w, 64, "b", 1);
    pbw_int(&w, 5, 4);
    CHECK_EQ(tt__pb_scan(&m, hi, 3, w.b, w.n), 0);
    CHECK_EQ(m.present, 7u);
    CHECK_EQ(pb_u(&m, 1), 3);
    CHECK_EQ(pb_u(&m, 2), 4);
    struct pb_slice a;
    unsigned n64 = 0;
    tt__pb_iter_init(&it, pb_span(&m, 0), 64);
    while (tt__pb_iter_next(&it, &a)) {
        CHECK(a.n == 1 && a.p[0] == (n64 ? 'b' : 'a'));
        n64++;
    }
    CHECK_EQ(n64, 2);
}

/* ---- the JSON writer ---- */

/* JSON.stringify's escaping of ASCII, byte by byte, with "é" kept and any other byte above 0x7f
 * taken as invalid UTF-8: the reference the block-wise writer must agree with. */
static void ref_escape(char *out, const char *s, size_t n)
{
    *out++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : NULL;
        if (c == 0xc3 && i + 1 < n && (unsigned char)s[i + 1] == 0xa9) { /* é, kept */
            *out++ = (char)c;
            *out++ = s[++i];
        } else if (c >= 0x80) {
            out += sprintf(out, "\xef\xbf\xbd"); /* any other high byte here is invalid */
        } else if (e) {
            out += sprintf(out, "%s", e);
        } else if (c < 0x20) {
            out += sprintf(out, "\\u%04x", c);
        } else {
            *out++ = (char)c;
        }
    }
    *out++ = '"';
    *out = 0;
}

/* Strings of every length up to 40 (both sides of the 8- and 16-byte blocks), clean or with one
 * byte to escape, an invalid byte or an "é" at each position, each written at three offsets
 * into the buffer. */
static void test_json_str_blocks(void)
{
    struct common_buf b;
    char s[41], want[41 * 6 + 3];
    int ok = 1;
    tt__buf_init(&b, 1 << 16);
    for (size_t n = 0; n <= 40; n++) {
        for (size_t bad = 0; bad <= n; bad++) { /* bad == n: nothing to escape */
            for (size_t k = 0; k < n; k++) {
                s[k] = (char)('a' + k % 26);
            }
            if (bad < n) {
                s[bad] = "\"\\\n\x01\xff\xc3"[bad % 6];
                if (s[bad] == '\xc3' && bad + 1 < n) {
                    s[bad + 1] = '\xa9';
                }
            }
            ref_escape(want, s, n);
            for (size_t off = 0; off < 3; off++) {
                common_buf_reset(&b);
                common_buf_add(&b, "xyz", off);
                tt__json_str(&b, (const uint8_t *)s, n);
                const char *got = common_buf_cstr(&b);
                ok &= got && !strncmp(got, "xyz", off) && !strcmp(got + off, want);
            }
        }
    }
    CHECK(ok);
    common_buf_free(&b);
}

static void test_json(void)
{
    struct common_buf b;
    tt__buf_init(&b, 1 << 16);
    tt__json_str(&b, (const uint8_t *)"a\"b\\c\n\x01\xff\xf0\x9f\x98\x80", 12);
    CHECK(!strcmp(common_buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\xf0\x9f\x98\x80\""));
    common_buf_reset(&b);
    tt__json_u64(&b, UINT64_MAX);
    common_buf_addc(&b, ' ');
    tt__json_i64(&b, INT64_MIN);
    CHECK(!strcmp(common_buf_cstr(&b), "18446744073709551615 -9223372036854775808"));
    common_buf_reset(&b);
    /* every digit count and chunk edge (10^k - 1, 10^k, 10^k + 1), against libc's printf */
    int digits_ok = 1;
    for (uint64_t p10 = 1;; p10 *= 10) {
        for (uint64_t v = p10 - 1; v <= p10 + 1; v++) {
            char want[24];
            snprintf(want, sizeof want, "%" PRIu64, v);
            common_buf_reset(&b);
            tt__json_u64(&b, v);
            digits_ok &= !strcmp(common_buf_cstr(&b), want);
        }
        if (p10 > UINT64_MAX / 10) {
            break;
        }
    }
    CHECK(digits_ok);
    common_buf_reset(&b);
    tt__json_base64(&b, (const uint8_t *)"foob", 4);
    CHECK(!strcmp(common_buf_cstr(&b), "\"Zm9vYg==\""));
    static const char ok[] = "{\"a\":[1,-2.5e3,true,null,\"\\u00e9\"]}";
    CHECK(tt__json_valid((const uint8_t *)ok, strlen(ok)));
    CHECK(!tt__json_valid((const uint8_t *)"{\"a\":1,}", 8));
    CHECK(!tt__json_valid((const uint8_t *)"{\"a\":01}", 8));
    CHECK(!tt__json_valid((const uint8_t *)"{\"a\":1} x", 9));
    common_buf_free(&b);

    /* the cap is hard and sticky */
    tt__buf_init(&b, 8);
    common_buf_adds(&b, "12345678");
    CHECK_EQ(tt__buf_err(&b), TT_OK);
    common_buf_addc(&b, '9');
    CHECK_EQ(tt__buf_err(&b), TT_ERR_TOO_LARGE);
    CHECK(common_buf_cstr(&b) == NULL);
    common_buf_free(&b);
}

/* ---- frames ---- */

static void test_chat_frame(struct tt_decoder *d, int gzip)
{
    static struct pbw f, c;
    struct pbw *pl[] = { &c };
    const char *me[] = { "WebcastChatMessage" };
    struct tt_frame_info info;
    struct got g = { 0 };
    chat(&c, "héllo");
    frame(&f, "msg", gzip, 1, me, pl);
    CHECK_EQ(tt_decode_frame(d, f.b, f.n, &info, collect, &g), TT_OK);
    CHECK_EQ(g.n, 1);
    CHECK_EQ(g.type[0], TT_EV_CHAT);
    CHECK(g.msg_id[0] == 7300000000000000001u);
    CHECK_HAS(g.json[0], "\"comment\":\"héllo\"");
    CHECK_HAS(g.json[0], "\"userId\":\"9223372036854775807\"");
    CHECK_HAS(g.json[0], "\"uniqueId\":\"handle_1\"");
    CHECK_HAS(g.json[0], "\"nickname\":\"Zoë \\\"q\\\"\\n\"");
    CHECK_HAS(g.json[0], "\"msgId\":\"7300000000000000001\"");
    CHECK_HAS(g.json[0], "\"createTime\":\"1700000000123\"");
    CHECK_HAS(g.json[0], "\"followInfo\":{\"followingCount\":0,");
    CHECK_EQ(info.compressed, gzip);
    CHECK_EQ(info.need_ack, 1);
    CHECK(info.log_id == 5092463814493970448u);
    CHECK(!strcmp(info.payload_type, "msg") && !strcmp(info.internal_ext, "-"));
    CHECK(!strcmp(info.cursor, "cursor-1") && !strcmp(info.push_server, "wss://push.example/ws"));
    CHECK(info.n_route_params == 1 && !strcmp(info.route_params[0].name, "imprp") &&
          !strcmp(info.route_params[0].value, "abc"));
}

/* A chat from a user with one badge: a text badge keyed `key`, or (key NULL) an image badge
 * at `url`; scene type 6, which sets none of the flags by itself. Returns the event's JSON. */
static const char *badge_chat(struct tt_decoder *d, const char *key, const char *url)
{
    static struct pbw f, m, u, c, badge, part, img, urls;
    static struct got g;
    struct pbw *pl[] = { &m };
    const char *me[] = { "WebcastChatMessage" };
    struct tt_frame_info info;
    user(&u, 42, "badged", "B");
    badge.n = part.n = 0;
    pbw_int(&badge, 3, 6);
    if (key) {
        pbw_str(&part, 2, key);
        pbw_msg(&badge, 21, &part);
    } else {
        urls.n = img.n = 0;
        pbw_str(&urls, 1, url);
        pbw_int(&img, 1, 1);
        pbw_msg(&img, 2, &urls);
        pbw_msg(&badge, 20, &img);
    }
    pbw_msg(&u, 64, &badge);
    common(&c, 1, "");
    m.n = 0;
    pbw_str(&m, 3, "hi");
    pbw_msg(&m, 2, &u);
    pbw_msg(&m, 1, &c);
    frame(&f, "msg", 0, 1, me, pl);
    memset(&g, 0, sizeof g);
    return tt_decode_frame(d, f.b, f.n, &info, collect, &g) == TT_OK && g.n == 1 ? g.json[0] : "";
}

/* 1.x's flags from badge texts and urls, matched without regard to case. */
static void test_badge_flags(struct tt_decoder *d)
{
    CHECK_HAS(badge_chat(d, NULL, "https://p16.example/Badge/SUB_gold.png"),
              "\"isSubscriber\":true");
    CHECK_HAS(badge_chat(d, NULL, "https://p16.example/badge/sub_1.png"), "\"isSubscriber\":true");
    CHECK_HAS(badge_chat(d, NULL, "https://p16.example/xsub_1/sub-2.png"),
              "\"isSubscriber\":false");
    CHECK_HAS(badge_chat(d, NULL, "https://p16.example/sub"), "\"isSubscriber\":false");
    CHECK_HAS(badge_chat(d, "pm_mt_MODERATOR_im", NULL), "\"isModerator\":true");
    CHECK_HAS(badge_chat(d, "pm_mt_moderato", NULL), "\"isModerator\":false");
    CHECK_HAS(badge_chat(d, "Live_NG_badge", NULL), "\"isNewGifter\":true");
    CHECK_HAS(badge_chat(d, "live_ng", NULL), "\"isNewGifter\":false");
}

static void test_control_and_social(struct tt_decoder *d)
{
    static struct pbw f, s, ctl, c, u;
    struct pbw *pl[] = { &s, &ctl };
    const char *me[] = { "WebcastSocialMessage", "WebcastControlMessage" };
    struct got g = { 0 };
    common(&c, 11, "pm_main_follow_message_viewer_2");
    user(&u, 42, "fan", "Fan");
    s.n = 0;
    pbw_msg(&s, 1, &c);
    pbw_msg(&s, 2, &u);
    ctl.n = 0;
    pbw_int(&ctl, 2, 3);
    frame(&f, "msg", 0, 2, me, pl);
    CHECK_EQ(tt_decode_frame(d, f.b, f.n, NULL, collect, &g), TT_OK);
    CHECK_EQ(g.n, 4);
    CHECK_EQ(g.type[0], TT_EV_SOCIAL);
    CHECK_EQ(g.type[1], TT_EV_FOLLOW);
    CHECK(!strcmp(g.json[0], g.json[1]));
    CHECK_EQ(g.type[2], TT_EV_CONTROL_MESSAGE);
    CHECK_EQ(g.type[3], TT_EV_STREAM_END);
    CHECK(!strcmp(g.json[3], "{\"action\":3}"));
}

/* ---- gifts: the gift list's part, and the completed gift's second rendering ---- */

struct gift_got {
    int n, complete;
    int64_t diamonds, total;
    char json[1024], end[1024];
};

static void collect_gift(const struct tt_event *ev, void *ud)
{
    struct gift_got *g = ud;
    g->n++;
    g->complete = ev->u.gift.complete;
    g->diamonds = ev->u.gift.diamond_count;
    g->total = ev->u.gift.total_diamonds;
    snprintf(g->json, sizeof g->json, "%s", ev->json);
    snprintf(g->end, sizeof g->end, "%s", ev->u.gift.end_json ? ev->u.gift.end_json : "(none)");
}

static void gift_msg(struct pbw *m, int64_t repeat, int end)
{
    static struct pbw gd;
    gd.n = 0;
    pbw_int(&gd, 11, 1); /* type 1: can streak; no diamondCount in the message */
    m->n = 0;
    pbw_int(m, 2, 5655);
    pbw_int(m, 5, (uint64_t)repeat);
    pbw_int(m, 9, (uint64_t)end);
    pbw_msg(m, 15, &gd);
}

static void test_gift_list(void)
{
    static const char list[] = "[{\"id\":1,\"diamond_count\":99},"
                               "{\"id\":5655,\"name\":\"Rose\",\"diamond_count\":10}]";
    struct tt_gifts gifts = { 0 };
    struct tt_decoder *d;
    struct pbw m;
    struct gift_got g = { 0 };
    CHECK_EQ(tt_decoder_new(&d, NULL), TT_OK);
    CHECK_EQ(tt__gifts_set(&gifts, list, sizeof list - 1), TT_OK);
    gift_msg(&m, 2, 0); /* a streak going on: not complete */
    CHECK_EQ(tt_decode_message(d, "WebcastGiftMessage", m.b, m.n, collect_gift, &g), TT_OK);
    CHECK(g.n == 1 && !g.complete && g.diamonds == 0 && !strcmp(g.end, "(none)"));
    CHECK(!strstr(g.json, "extendedGiftInfo"));
    tt__decoder_set_gifts(d, &gifts);
    gift_msg(&m, 3, 1); /* its end: the list's diamonds, extendedGiftInfo, totalDiamonds */
    CHECK_EQ(tt_decode_message(d, "WebcastGiftMessage", m.b, m.n, collect_gift, &g), TT_OK);
    CHECK(g.complete && g.diamonds == 10 && g.total == 30);
    const char *ext = strstr(g.json, ",\"extendedGiftInfo\":{\"id\":5655,");
    CHECK(ext && !strcmp(ext + strlen(ext) - 20, "\"diamond_count\":10}}"));
    size_t n = strlen(g.json);
    CHECK(!strncmp(g.end, g.json, n - 1) && !strcmp(g.end + n - 1, ",\"totalDiamonds\":30}"));
    tt__gifts_free(&gifts);
    tt_decoder_free(d);
}

/* Clients whose lists are the same text share one copy, freed with its last holder. */
static const char list_a[] = "[{\"id\":1,\"diamond_count\":99},{\"id\":5655,\"diamond_count\":1}]";

static void *share_loop(void *arg)
{
    char copy[sizeof list_a];
    (void)arg;
    memcpy(copy, list_a, sizeof copy); /* the same text at another address */
    for (int i = 0; i < 2000; i++) {
        struct tt_gifts g = { 0 };
        if (tt__gifts_set(&g, copy, sizeof copy - 1) || !tt__gifts_find(&g, 5655)) {
            return (void *)1;
        }
        tt__gifts_free(&g);
    }
    return NULL;
}

static void test_gift_lists_shared(void)
{
    static const char list_b[] = "[{\"id\":7,\"diamond_count\":5}]";
    char copy[sizeof list_a];
    struct tt_gifts a = { 0 }, b = { 0 }, c = { 0 };
    memcpy(copy, list_a, sizeof copy);
    CHECK_EQ(tt__gifts_lists(), 0);
    CHECK_EQ(tt__gifts_set(&a, list_a, sizeof list_a - 1), TT_OK);
    CHECK_EQ(tt__gifts_set(&b, copy, sizeof copy - 1), TT_OK);
    CHECK(a.json == b.json && a.refs == b.refs && tt__gifts_lists() == 1);
    CHECK_EQ(tt__gifts_set(&c, list_b, sizeof list_b - 1), TT_OK);
    CHECK(c.json != a.json && tt__gifts_lists() == 2);
    tt__gifts_free(&a); /* b still holds the list */
    CHECK(a.json == NULL && tt__gifts_find(&b, 5655) && !strcmp(b.json, list_a));
    CHECK_EQ(tt__gifts_set(&b, list_b, sizeof list_b - 1), TT_OK); /* list_a's last holder */
    CHECK(b.json == c.json && tt__gifts_lists() == 1 && tt__gifts_find(&b, 7));
    CHECK_EQ(tt__gifts_set(&c, list_b, sizeof list_b - 1), TT_OK); /* the same again: kept */
    CHECK(b.json == c.json && tt__gifts_lists() == 1);
    tt__gifts_free(&b);
    tt__gifts_free(&c);
    CHECK_EQ(tt__gifts_lists(), 0);

    /* four threads taking and dropping the same list (ThreadSanitizer runs this too) */
    pthread_t t[4];
    void *rc[4] = { 0 };
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(pthread_create(&t[i], NULL, share_loop, NULL), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], &rc[i]);
        CHECK(rc[i] == NULL);
    }
    CHECK_EQ(tt__gifts_lists(), 0);

    /* out of memory while building a list: no list held, nothing left behind */
    for (long n = 0; n < 4; n++) {
        tt__alloc_fail_after(n);
        enum tt_err e = tt__gifts_set(&a, list_a, sizeof list_a - 1);
        tt__alloc_fail_after(-1);
        CHECK(e == TT_OK || (e == TT_ERR_NOMEM && a.json == NULL));
        tt__gifts_free(&a);
    }
    CHECK_EQ(tt__gifts_lists(), 0);
}

static void test_bad_message_costs_itself(struct tt_decoder *d)
{
    static struct pbw f, bad, good, odd;
    struct pbw *pl[] = { &bad, &odd, &good };
    const char *me[] = { "WebcastChatMessage", "WebcastNoSuchMessage", "WebcastChatMessage" };
    struct tt_frame_info info;
    struct got g = { 0 };
    bad.n = 0;
    pbw_bytes(&bad, 2, "\x0a\x09zz", 4); /* user whose field 1 claims 9 bytes */
    odd.n = 0;
    pbw_str(&odd, 1, "ab");
    chat(&good, "fine");
    frame(&f, "msg", 1, 3, me, pl);
    CHECK_EQ(tt_decode_frame(d, f.b, f.n, &info, collect, &g), TT_OK);
    CHECK_EQ(g.n, 3);
    CHECK_EQ(g.type[0], TT_EV_DECODE_ERROR);
    CHECK_HAS(g.json[0], "\"method\":\"WebcastChatMessage\"");
    CHECK_EQ(g.type[1], TT_EV_RAW_DATA);
    CHECK_HAS(g.json[1], "{\"type\":\"WebcastNoSuchMessage\",\"binary\":\"CgJhYg==\"}");
    CHECK_EQ(g.type[2], TT_EV_CHAT);
    CHECK_EQ(info.n_bad_messages, 1);
    CHECK_EQ(info.n_unknown_messages, 1);
    CHECK_EQ(info.n_messages, 3);
}

static void test_wrong_wire_type(struct tt_decoder *d)
{
    static struct pbw m;
    struct got g = { 0 };
    m.n = 0;
    pbw_int(&m, 3, 77); /* content as a varint */
    CHECK_EQ(tt_decode_message(d, "WebcastChatMessage", m.b, m.n, collect, &g), TT_OK);
    CHECK_EQ(g.n, 1);
    CHECK_HAS(g.json[0], "\"comment\":\"\"");
}

static void test_bad_frames(struct tt_decoder *d)
{
    static const uint8_t hb[] = { 0x3a, 0x02, 'h', 'b' };
    static struct pbw f, c;
    struct pbw *pl[] = { &c };
    const char *me[] = { "WebcastChatMessage" };
    struct tt_frame_info info;
    struct got g = { 0 };
    CHECK_EQ(tt_decode_frame(d, hb, sizeof hb, &info, collect, &g), TT_OK);
    CHECK(g.n == 0 && !strcmp(info.payload_type, "hb") && !info.has_result);
    CHECK_EQ(tt_decode_frame(d, "", 0, &info, collect, &g), TT_OK);
    CHECK_EQ(g.n, 0);
    CHECK_EQ(tt_decode_frame(d, hb, 3, NULL, collect, &g), TT_ERR_PROTO);
    chat(&c, "x");
    frame(&f, "msg", 1, 1, me, pl);
    f.b[f.n - 12] ^= 0x55; /* corrupt the deflate data (the CRC would catch it too) */
    CHECK(tt_decode_frame(d, f.b, f.n, NULL, collect, &g) != TT_OK);
    frame(&f, "msg", 1, 1, me, pl);
    CHECK_EQ(tt_decode_frame(d, f.b, f.n - 6, NULL, collect, &g), TT_ERR_PROTO);
    CHECK_EQ(g.n, 0);
}

static void test_truncated_gzip(struct tt_decoder *d)
{
    static struct pbw f, c, z;
    struct pbw *pl[] = { &c };
    const char *me[] = { "WebcastChatMessage" };
    struct got g = { 0 };
    chat(&c, "truncated");
    frame(&f, "msg", 1, 1, me, pl);
    /* rebuild the frame with only the first half of the gzip payload */
    struct pb_reader r = { f.b, f.b + f.n };
    struct pb_field fl = { 0 };
    while (tt__pb_next(&r, &fl) > 0) {
        if (fl.num == 8) {
            z.n = 0;
            pbw_str(&z, 7, "msg");
            pbw_bytes(&z, 8, fl.s.p, fl.s.n / 2);
        }
    }
    CHECK_EQ(tt_decode_frame(d, z.b, z.n, NULL, collect, &g), TT_ERR_GZIP);
    CHECK_EQ(g.n, 0);
}


static size_t gzip_zeros(uint8_t *out, size_t cap, const uint8_t *zeros, size_t n, int rounds)
{
    z_stream zs = { 0 };
    deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    for (int i = 0; i < rounds; i++) {
        zs.next_in = (Bytef *)(uintptr_t)zeros;
        zs.avail_in = (uInt)n;
        deflate(&zs, i == rounds - 1 ? Z_FINISH : Z_NO_FLUSH);
    }
    size_t len = zs.total_out;
    deflateEnd(&zs);
    return len;
}

/* The inflate buffer gets room past the trailer's claim (libdeflate's fast loop needs it), but
 * never past max_inflate_bytes: a payload of exactly the cap decodes, one byte more is a bomb,
 * in a new decoder (empty buffer) and in one whose buffer is already grown. */
static void test_inflate_at_the_cap(void)
{
    static struct pbw f, c;
    struct pbw *pl[] = { &c };
    const char *me[] = { "WebcastChatMessage" };
    chat(&c, "at the cap");
    frame(&f, "msg", 1, 1, me, pl);
    /* the gzip payload is the frame's last field: its ISIZE is the frame's last 4 bytes */
    size_t isize = (size_t)f.b[f.n - 4] | (size_t)f.b[f.n - 3] << 8 | (size_t)f.b[f.n - 2] << 16 |
                   (size_t)f.b[f.n - 1] << 24;
    const long extra[] = { -1, 0, 1, 100, 319, 320, 321, 4096 };
    for (int reuse = 0; reuse < 2; reuse++) {
        for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
            struct tt_limits lim = { .max_inflate_bytes = (size_t)((long)isize + extra[i]) };
            struct tt_decoder *d;
            struct got g = { 0 };
            CHECK_EQ(tt_decoder_new(&d, &lim), TT_OK);
            if (reuse) { /* grow the buffer to its cap first */
                static uint8_t zeros[1 << 12], gz[1 << 12];
                static struct pbw z;
                z.n = 0;
                pbw_str(&z, 7, "msg");
                pbw_bytes(&z, 8, gz, gzip_zeros(gz, sizeof gz, zeros, sizeof zeros, 4));
                CHECK(tt_decode_frame(d, z.b, z.n, NULL, NULL, NULL) != TT_OK);
            }
            enum tt_err rc = tt_decode_frame(d, f.b, f.n, NULL, collect, &g);
            if (extra[i] < 0) {
                CHECK_EQ(rc, TT_ERR_GZIP_BOMB);
                CHECK_EQ(g.n, 0);
            } else {
                CHECK_EQ(rc, TT_OK);
                CHECK_EQ(g.n, 1);
                CHECK(g.n == 1 && g.type[0] == TT_EV_CHAT);
            }
            tt_decoder_free(d);
        }
    }
}

static void test_caps(void)
{
    struct tt_limits lim = { .max_frame_bytes = 1 << 16, .max_inflate_bytes = 4 << 20 };
    struct tt_decoder *d;
    static struct pbw f;
    static uint8_t zeros[1 << 16];
    CHECK_EQ(tt_decoder_new(&d, &lim), TT_OK);
    CHECK_EQ(tt_decode_frame(d, zeros, sizeof zeros + 0, NULL, NULL, NULL), TT_ERR_PROTO);
    CHECK_EQ(tt_decode_frame(d, zeros, (1 << 16) + 1, NULL, NULL, NULL), TT_ERR_TOO_LARGE);

    /* a gzip bomb: 64 MiB of zeros squeezed into ~64 KiB */
    uint8_t *bomb = malloc(1 << 17);
    size_t bn = gzip_zeros(bomb, 1 << 17, zeros, sizeof zeros, 1024);
    f.n = 0;
    pbw_str(&f, 7, "msg");
    pbw_bytes(&f, 8, bomb, bn);
    CHECK(bn < 1 << 16);
    CHECK_EQ(tt_decode_frame(d, f.b, f.n, NULL, NULL, NULL), TT_ERR_GZIP_BOMB);
    CHECK_HAS(tt_decoder_errmsg(d), "gzip payload");

    /* within the size cap but past the ratio cap: 2 MiB of zeros in about 2 KiB */
    bn = gzip_zeros(bomb, 1 << 17, zeros, sizeof zeros, 32);
    f.n = 0;
    pbw_str(&f, 7, "msg");
    pbw_bytes(&f, 8, bomb, bn);
    CHECK_EQ(tt_decode_frame(d, f.b, f.n, NULL, NULL, NULL), TT_ERR_GZIP_BOMB);

    /* a trailer that claims less than the data holds is a corrupt payload, not an overflow */
    bomb[bn - 4] = 0x10;
    bomb[bn - 3] = bomb[bn - 2] = bomb[bn - 1] = 0;
    f.n = 0;
    pbw_str(&f, 7, "msg");
    pbw_bytes(&f, 8, bomb, bn);
    CHECK_EQ(tt_decode_frame(d, f.b, f.n, NULL, NULL, NULL), TT_ERR_GZIP);
    free(bomb);
    tt_decoder_free(d);

    /* the JSON cap costs the message, not the frame */
    static struct pbw c;
    struct got g = { 0 };
    char longtext[600];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    lim.max_json_bytes = 300;
    CHECK_EQ(tt_decoder_new(&d, &lim), TT_OK);
    chat(&c, longtext);
    CHECK_EQ(tt_decode_message(d, "WebcastChatMessage", c.b, c.n, collect, &g), TT_ERR_PROTO);
    CHECK_EQ(g.n, 1);
    CHECK_EQ(g.type[0], TT_EV_DECODE_ERROR);
    CHECK_HAS(g.json[0], "size cap");
    tt_decoder_free(d);
}

static size_t put_varint(uint8_t *o, uint64_t v)
{
    size_t i = 0;
    for (; v >= 0x80; v >>= 7) {
        o[i++] = (uint8_t)(v | 0x80);
    }
    o[i++] = (uint8_t)v;
    return i;
}

/* A gzipped push frame in `f` whose fetch result holds one message of a method nobody decodes
 * (so a rawData event, its payload in base64) with a payload of `n` zeros, and a cursor of
 * `cursor_n` bytes: large once inflated, small on the wire. */
static void big_frame(struct pbw *f, size_t n, size_t cursor_n)
{
    static const char meth[] = "WebcastNoSuchMessage";
    uint8_t *r = calloc(1, n + cursor_n + 64), *z = malloc(1 << 16);
    size_t rn = 0, ml = sizeof meth - 1, inner = 2 + ml + 1 + put_varint(z, n) + n;
    r[rn++] = 0x0a; /* messages */
    rn += put_varint(r + rn, inner);
    r[rn++] = 0x0a; /* method */
    r[rn++] = (uint8_t)ml;
    memcpy(r + rn, meth, ml);
    rn += ml;
    r[rn++] = 0x12; /* payload: n zeros (calloc) */
    rn += put_varint(r + rn, n) + n;
    r[rn++] = 0x12; /* cursor */
    rn += put_varint(r + rn, cursor_n);
    memset(r + rn, 'c', cursor_n);
    rn += cursor_n;
    z_stream zs = { 0 };
    deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = r;
    zs.avail_in = (uInt)rn;
    zs.next_out = z;
    zs.avail_out = 1 << 16;
    deflate(&zs, Z_FINISH);
    f->n = 0;
    pbw_str(f, 7, "msg");
    pbw_bytes(f, 8, z, zs.total_out);
    deflateEnd(&zs);
    free(r);
    free(z);
}

/* A frame that needed large buffers gives them back once done: a gzip bomb fills the inflate
 * buffer to max_inflate_bytes, and a decoder lives as long as its client. Ordinary frames keep
 * theirs, so they allocate nothing. */
static void test_buffers_let_go(void)
{
    static struct pbw f, c;
    struct pbw *pl[] = { &c };
    const char *me[] = { "WebcastChatMessage" };
    static uint8_t zeros[1 << 16];
    struct tt_decoder *d;
    struct tt_frame_info info;
    struct got g = { 0 };
    CHECK_EQ(tt_decoder_new(&d, NULL), TT_OK);
    chat(&c, "small");
    frame(&f, "msg", 1, 1, me, pl);
    CHECK_EQ(tt_decode_frame(d, f.b, f.n, NULL, collect, &g), TT_OK);
    CHECK(d->inflated.p && d->inflated.cap <= TT_BUF_KEEP); /* kept for the next frame */
    CHECK(d->json.p && d->json.cap <= TT_BUF_KEEP);

    big_frame(&f, 300 << 10, 100 << 10);
    g.n = 0;
    CHECK_EQ(tt_decode_frame(d, f.b, f.n, &info, collect, &g), TT_OK);
    CHECK(g.n == 1 && g.type[0] == TT_EV_RAW_DATA);
    CHECK(d->inflated.cap <= TT_BUF_KEEP && d->json.cap <= TT_BUF_KEEP);
    CHECK_EQ(strlen(info.cursor), (size_t)100 << 10); /* the caller's until the next call */
    CHECK(d->strs.cap > TT_BUF_KEEP);
    frame(&f, "msg", 1, 1, me, pl);
    g.n = 0;
    CHECK_EQ(tt_decode_frame(d, f.b, f.n, &info, collect, &g), TT_OK);
    CHECK(g.n == 1 && g.type[0] == TT_EV_CHAT && !strcmp(info.cursor, "cursor-1"));
    CHECK(d->strs.cap <= TT_BUF_KEEP);

    uint8_t *bomb = malloc(1 << 17); /* 64 MiB of zeros: fills the 8 MiB cap */
    size_t bn = gzip_zeros(bomb, 1 << 17, zeros, sizeof zeros, 1024);
    f.n = 0;
    pbw_str(&f, 7, "msg");
    pbw_bytes(&f, 8, bomb, bn);
    CHECK_EQ(tt_decode_frame(d, f.b, f.n, NULL, NULL, NULL), TT_ERR_GZIP_BOMB);
    CHECK(d->inflated.cap <= TT_BUF_KEEP);
    free(bomb);

    /* control bytes, 6 bytes of JSON each (\u0001): 120 KiB, through tt_decode_message */
    char text[20 << 10];
    memset(text, 1, sizeof text - 1);
    text[sizeof text - 1] = '\0';
    chat(&c, text);
    g.n = 0;
    CHECK_EQ(tt_decode_message(d, "WebcastChatMessage", c.b, c.n, collect, &g), TT_OK);
    CHECK(g.n == 1 && g.type[0] == TT_EV_CHAT);
    CHECK(d->json.cap <= TT_BUF_KEEP);
    tt_decoder_free(d);
}

/* Every allocation of a decoder's life fails in turn: each must end in TT_ERR_NOMEM or a
 * clean result, never a crash or (under ASan) a leak. */
static void test_alloc_failures(void)
{
    static struct pbw f, c;
    struct pbw *pl[] = { &c };
    const char *me[] = { "WebcastChatMessage" };
    int ok = 0, nomem = 0;
    chat(&c, "torture");
    frame(&f, "msg", 1, 1, me, pl);
    for (long n = 0; n < 40; n++) {
        struct tt_decoder *d = NULL;
        struct got g = { 0 };
        tt__alloc_fail_after(n);
        enum tt_err rc = tt_decoder_new(&d, NULL);
        if (rc == TT_OK) {
            rc = tt_decode_frame(d, f.b, f.n, NULL, collect, &g);
            /* a message lost to a failed allocation is reported as an error event too;
             * a frame that fails before its messages (frame info copies) has none */
            CHECK(rc != TT_ERR_NOMEM || g.n == 0 || g.type[0] == TT_EV_DECODE_ERROR);
        }
        tt__alloc_fail_after(-1);
        tt_decoder_free(d);
        if (rc == TT_OK && g.n == 1 && g.type[0] == TT_EV_CHAT) {
            ok++;
        } else if (rc == TT_ERR_NOMEM || rc == TT_ERR_GZIP) {
            nomem++; /* zlib reports its own allocation failure as a data error */
        } else {
            CHECK_EQ(rc, TT_ERR_NOMEM);
        }
    }
    CHECK(ok > 0 && nomem > 0);
}

int main(void)
{
    struct tt_decoder *d;
    test_wire();
    test_json();
    test_json_str_blocks();
    if (tt_decoder_new(&d, NULL) != TT_OK) {
        return 1;
    }
    test_chat_frame(d, 0);
    test_chat_frame(d, 1);
    test_badge_flags(d);
    test_control_and_social(d);
    test_bad_message_costs_itself(d);
    test_wrong_wire_type(d);
    test_bad_frames(d);
    test_truncated_gzip(d);
    tt_decoder_free(d);
    test_caps();
    test_inflate_at_the_cap();
    test_buffers_let_go();
    test_gift_list();
    test_gift_lists_shared();
    test_alloc_failures();
    CHECK(!strcmp(tt_strerror(TT_ERR_GZIP_BOMB),
                  "gzip data inflates beyond the size or ratio cap"));
    CHECK(!strcmp(tt_strerror((enum tt_err)999), "unknown error"));
    CHECK(!strcmp(tt_event_type_name(TT_EV_ROOM_USER), "roomUser"));
    CHECK(!strcmp(tt_err_name(TT_ERR_NOT_FOUND), "user_not_found"));
    CHECK(!strcmp(tt_err_name((enum tt_err)999), "error"));
    return h_finish();
}
