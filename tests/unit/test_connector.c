/** @file test_connector.c
 * Unit tests of the connection's parts that need no network: msgId deduplication, query
 * parameters, the cookie jar, the in-place JSON reader, the client frames (byte for byte
 * against the protocol notes), options by key, handle normalisation, and where cookies may go
 * (hosts.c: TikTok's domain, the configured bases, the resolve option).
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tt.h"
#include "client_int.h"
#include "json.h"

static void test_dedup(void)
{
    struct tt_dedup d;
    CHECK_EQ(tt__dedup_init(&d, 4), TT_OK);
    CHECK_EQ(tt__dedup_seen(&d, 0), 0); /* no msgId is never a duplicate */
    CHECK_EQ(tt__dedup_seen(&d, 0), 0);
    CHECK_EQ(tt__dedup_seen(&d, 100), 0);
    CHECK_EQ(tt__dedup_seen(&d, 100), 1);
    for (uint64_t id = 101; id <= 104; id++) {
        CHECK_EQ(tt__dedup_seen(&d, id), 0);
    }
    CHECK_EQ(tt__dedup_seen(&d, 100), 0); /* window of 4: 100 was forgotten */
    CHECK_EQ(tt__dedup_seen(&d, 104), 1);
    CHECK_EQ(tt__dedup_seen(&d, 1), 0); /* 1 is an id like any other */
    CHECK_EQ(tt__dedup_seen(&d, 1), 1);
    tt__dedup_free(&d);
    /* a window whose ring positions would not fit the set's 32-bit slots */
    CHECK_EQ(tt__dedup_init(&d, (size_t)UINT32_MAX), TT_ERR_INVAL);

    /* many evictions leave tombstones: still correct, the set gets rebuilt */
    CHECK_EQ(tt__dedup_init(&d, 64), TT_OK);
    int wrong = 0;
    for (uint64_t id = 1000; id < 101000; id++) {
        wrong += tt__dedup_seen(&d, id) != 0;
        wrong += tt__dedup_seen(&d, id) != 1;
        if (id >= 1064) {
            wrong += tt__dedup_seen(&d, id - 40) != 1; /* still in the window */
        }
    }
    CHECK_EQ(wrong, 0);
    tt__dedup_free(&d);
}

/* 1 for each id of [from, to) that the set does not report as seen (a seen id is not added) */
static int dedup_missing(struct tt_dedup *d, uint64_t from, uint64_t to)
{
    int missing = 0;
    for (uint64_t id = from; id < to; id++) {
        missing += tt__dedup_seen(d, id) != 1;
    }
    return missing;
}

/* What a client remembers goes to the next client of the streamer: the newest ids, oldest
 * first, however the ring has wrapped; the next client then drops them. */
static void ignore(const struct tt_event *ev, void *ud);

static void test_seen_handover(void)
{
    tt_client *a = NULL, *b = NULL;
    struct tt_options o;
    uint64_t ids[8], mine[3] = { 7, 0, 9 };
    tt_options_init(&o);
    o.dedup_window = 5;
    CHECK_EQ(tt_client_new(&a, "someone", &o, ignore, NULL), TT_OK);
    CHECK_EQ(tt_client_seen_ids(a, ids, 8), 0);
    CHECK_EQ(tt_client_mark_seen(a, mine, 3), TT_OK); /* 0 is no id: not remembered */
    CHECK_EQ(tt_client_seen_ids(a, ids, 8), 2);
    CHECK(ids[0] == 7 && ids[1] == 9);
    for (uint64_t id = 100; id < 106; id++) { /* the window of 5 wraps: 7, 9 and 100 go */
        tt__dedup_seen(&a->dedup, id);
    }
    CHECK_EQ(tt_client_seen_ids(a, ids, 8), 5);
    CHECK(ids[0] == 101 && ids[4] == 105);
    CHECK_EQ(tt_client_seen_ids(a, ids, 2), 2); /* the newest two */
    CHECK(ids[0] == 104 && ids[1] == 105);
    CHECK_EQ(tt_client_seen_ids(a, ids, 8), 5);
    CHECK_EQ(tt_client_new(&b, "someone", &o, ignore, NULL), TT_OK);
    CHECK_EQ(tt_client_mark_seen(b, ids, 5), TT_OK);
    CHECK_EQ(tt__dedup_seen(&b->dedup, 103), 1);
    CHECK_EQ(tt__dedup_seen(&b->dedup, 100), 0);
    CHECK_EQ(tt_client_mark_seen(NULL, ids, 1), TT_ERR_INVAL);
    CHECK_EQ(tt_client_mark_seen(b, NULL, 1), TT_ERR_INVAL);
    CHECK_EQ(tt_client_mark_seen(b, NULL, 0), TT_OK);
    CHECK_EQ(tt_client_seen_ids(NULL, ids, 8), 0);
    tt_client_free(a);
    tt_client_free(b);
}

/* The tables start small (a quiet room's) and grow to the window without forgetting an id. */
static void test_dedup_growth(void)
{
    struct tt_dedup d;
    CHECK_EQ(tt__dedup_init(&d, 4096), TT_OK);
    CHECK(d.cap < 4096);
    int wrong = 0;
    for (uint64_t id = 1; id <= 4096; id++) {
        wrong += tt__dedup_seen(&d, id) != 0;
    }
    CHECK_EQ(wrong, 0);
    CHECK_EQ(d.cap, 4096);
    CHECK_EQ(dedup_missing(&d, 1, 4097), 0);
    CHECK_EQ(tt__dedup_seen(&d, 5000), 0); /* the window is full: 1 goes */
    CHECK_EQ(tt__dedup_seen(&d, 1), 0);
    CHECK_EQ(tt__dedup_seen(&d, 3), 1);
    CHECK_EQ(d.cap, 4096);
    tt__dedup_free(&d);

    /* a growth that cannot allocate keeps what it has and evicts as a full window would; the
     * next one, with memory back, keeps the ids in their order (the ring had wrapped) */
    CHECK_EQ(tt__dedup_init(&d, 1000), TT_OK);
    size_t start = d.cap;
    for (uint64_t id = 1; id <= start; id++) {
        tt__dedup_seen(&d, id);
    }
    tt__alloc_fail_after(0);
    for (uint64_t id = start + 1; id <= start + 30; id++) {
        CHECK_EQ(tt__dedup_seen(&d, id), 0);
    }
    tt__alloc_fail_after(-1);
    CHECK_EQ(d.cap, start);
    CHECK_EQ(dedup_missing(&d, 31, start + 31), 0);
    CHECK_EQ(tt__dedup_seen(&d, 30), 0); /* forgotten while the tables could not grow */
    CHECK(d.cap > start);
    CHECK_EQ(dedup_missing(&d, 30, start + 31), 0); /* the wrapped ring's ids survived growth */
    /* fill the window (65 ids held), then one more: the oldest, 31, goes first */
    for (uint64_t id = 10000; id < 10000 + 1000 - (start + 1); id++) {
        tt__dedup_seen(&d, id);
    }
    CHECK_EQ(d.cap, 1000);
    CHECK_EQ(d.count, 1000);
    CHECK_EQ(tt__dedup_seen(&d, 20000), 0);
    CHECK_EQ(dedup_missing(&d, 32, start + 31), 0);
    CHECK_EQ(tt__dedup_seen(&d, 31), 0);
    tt__dedup_free(&d);
}

/* Pages of [p, p + n) that are not resident (mincore), whole pages only. */
static int pages_not_resident(const void *p, size_t n)
{
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = ((uintptr_t)p + pg - 1) & ~(pg - 1), to = ((uintptr_t)p + n) & ~(pg - 1);
    unsigned char vec[64];
    if (to <= from || (to - from) / pg > sizeof vec || mincore((void *)from, to - from, vec)) {
        return -1;
    }
    int missing = 0;
    for (size_t i = 0; i < (to - from) / pg; i++) {
        missing += !(vec[i] & 1);
    }
    return missing;
}

/* The last growth claims the whole ring at once. calloc leaves memory it has just added to its
 * heap untouched, and a ring filled id by id then grew the resident size for half an hour at 2
 * messages a second. The tables grow in a thread of their own, as in the bridge, and with no
 * top pad, so that its fresh malloc arena has to be extended for them. */
static void *grow_dedup(void *arg)
{
    struct tt_dedup *d = arg;
    for (uint64_t id = 1; d->cap < 4096; id++) {
        tt__dedup_seen(d, id);
    }
    return NULL;
}

static void test_dedup_resident(void)
{
    struct tt_dedup d;
    pthread_t t;
    CHECK_EQ(tt__dedup_init(&d, 4096), TT_OK);
    mallopt(M_TOP_PAD, 0); /* every growth of the heap exactly what the block needs */
    CHECK(pthread_create(&t, NULL, grow_dedup, &d) == 0 && pthread_join(t, NULL) == 0);
    CHECK(d.cap == 4096 && d.count < 1024);
    CHECK_EQ(pages_not_resident(d.ring, d.cap * sizeof *d.ring), 0);
    CHECK_EQ(pages_not_resident(d.set, d.cap * 2 * sizeof *d.set), 0);
    tt__dedup_free(&d);
}

static void test_params(void)
{
    struct tt_params p;
    struct common_buf b;
    tt__params_init(&p);
    tt__buf_init(&b, 4096);
    CHECK_EQ(tt__params_set(&p, "aid", "1988"), TT_OK);
    CHECK_EQ(tt__params_merge(&p, "aid=7&tz_name=Asia%2FTokyo&a+b=c+d&empty="), TT_OK);
    tt__params_encode(&p, &b);
    CHECK(!strcmp(common_buf_cstr(&b), "aid=7&tz_name=Asia%2FTokyo&a%20b=c%20d&empty="));
    tt__params_free(&p);
    common_buf_reset(&b);
    tt__url_encode(&b, "é/?&=~");
    CHECK(!strcmp(common_buf_cstr(&b), "%C3%A9%2F%3F%26%3D~"));
    common_buf_free(&b);

    tt__params_init(&p);
    CHECK_EQ(tt__params_defaults(&p, "Mozilla/5.0 (X11)"), TT_OK);
    int found = 0;
    for (size_t i = 0; i < p.n; i++) {
        found += !strcmp(p.k[i], "browser_version") && !strcmp(p.v[i], "5.0 (X11)");
    }
    CHECK_EQ(found, 1);
    tt__params_free(&p);
}

static void test_cookies(void)
{
    struct tt_options o;
    struct tt_http h;
    struct common_buf b;
    tt_options_init(&o);
    CHECK_EQ(tt__http_init(&h, &o), TT_OK);
    tt__cookie_parse(&h, "ttwid=abc; Path=/; HttpOnly; Max-Age=10", 1);
    tt__cookie_parse(&h, "ttwid=new; tt-target-idc=useast1a; Domain=.tiktok.com", 0);
    tt__cookie_parse(&h, "msToken=x=y", 0); /* the value may hold '=' */
    CHECK(!strcmp(tt__cookie_get(&h, "ttwid"), "new"));
    CHECK(!strcmp(tt__cookie_get(&h, "tt-target-idc"), "useast1a"));
    CHECK(!strcmp(tt__cookie_get(&h, "msToken"), "x=y"));
    CHECK(tt__cookie_get(&h, "Domain") == NULL);
    tt__buf_init(&b, 4096);
    tt__cookie_header(&h, &b);
    CHECK(!strcmp(common_buf_cstr(&b), "ttwid=new; tt-target-idc=useast1a; msToken=x=y"));
    common_buf_free(&b);
    /* curl hands a header's bare CR and control bytes on as they came: such a pair would put
     * headers of the answer's choosing into every later request's Cookie header */
    tt__cookie_parse(&h, "ttwid=ab\rX-Injected: 1; Path=/", 1);
    tt__cookie_parse(&h, "evil=\x01x; good=1; bad\x7f=2", 0);
    CHECK(!strcmp(tt__cookie_get(&h, "ttwid"), "new"));
    CHECK(tt__cookie_get(&h, "evil") == NULL && tt__cookie_get(&h, "bad\x7f") == NULL);
    CHECK(!strcmp(tt__cookie_get(&h, "good"), "1"));
    CHECK_EQ(tt__cookie_set(&h, "sessionid", 9, "a\nb", 3), TT_ERR_INVAL);
    CHECK_EQ(tt__cookie_set(&h, "x\r", 2, "1", 1), TT_ERR_INVAL);
    CHECK_EQ(tt__cookie_set(&h, "tabbed", 6, "a\tb", 3), TT_OK); /* HTAB is header whitespace */
    CHECK(tt__header_safe("Mozilla/5.0 (X11) \xc3\xa9", 20) && !tt__header_safe("a\0b", 3));
    tt__http_cleanup(&h);
    CHECK(tt__url_is_loopback("http://127.0.0.1:8080/x"));
    CHECK(tt__url_is_loopback("ws://localhost/x"));
    CHECK(tt__url_is_loopback("http://user:pw@[::1]:9/"));
    CHECK(!tt__url_is_loopback("https://www.tiktok.com/"));
    CHECK(!tt__url_is_loopback("http://127.example.com/"));
}

static struct pb_slice S(const char *s) {
    struct pb_slice x = { (const uint8_t *)s, strlen(s) };
    return x;
}

static void
test_json_reader(void)
{
    const char *doc = "{\"status_code\":0,\"data\":{\"id_str\":\"7301234567890123456\","
                      "\"id\":7301234567890123456,\"title\":\"caf\\u00e9 \\ud83d\\ude00\\n\","
                      "\"gifts\":[{\"id\":5655,\"name\":\"Rose\"},{\"id\":1},[2]],\"x\":null}}";
    struct pb_slice v, e;
    char s[64];
    int64_t n;
    CHECK(tt__jr_path(S(doc), "data.id", &v) && tt__jr_int(v, &n) && n == 7301234567890123456);
    CHECK(tt__jr_path(S(doc), "data.id_str", &v) && tt__jr_int(v, &n) && n == 7301234567890123456);
    CHECK(tt__jr_path(S(doc), "data.title", &v) && tt__jr_string(v, s, sizeof s) &&
          !strcmp(s, "café \xf0\x9f\x98\x80\n"));
    CHECK(!tt__jr_path(S(doc), "data.nope", &v));
    CHECK(!tt__jr_path(S(doc), "data.title.deeper", &v));
    CHECK(tt__jr_path(S(doc), "data.gifts", &v));
    struct jr_iter it;
    int count = 0;
    tt__jr_array_begin(&it, v);
    while (tt__jr_array_next(&it, &e)) {
        count++;
    }
    CHECK_EQ(count, 3);
    CHECK(!tt__jr_string(S("\"toolong\""), s, 4));
    CHECK(!tt__jr_int(S("12.5"), &n));
    CHECK(!tt__jr_int(S("99999999999999999999"), &n));
    CHECK(!tt__jr_member(S("{\"a\":1,}"), "a", &v) || 1); /* malformed: no crash */
}

static int bytes_eq(const struct common_buf *b, const uint8_t *want, size_t n)
{
    return b->len == n && !memcmp(b->p, want, n);
}

static void test_frames(void)
{
    /* docs/protocol.md §7.4, byte for byte */
    static const uint8_t hb[] = {
        0x32, 0x02, 0x70, 0x62, 0x3A, 0x02, 0x68, 0x62, 0x42, 0x0C, 0x08,
        0xA0, 0x96, 0xBF, 0xDA, 0xF8, 0xEA, 0xEB, 0xED, 0x64, 0x10, 0x01
    };
    static const uint8_t ack[] = {
        0x10, 0x90, 0xC0, 0xC6, 0xB3, 0xBB, 0x9B, 0x84, 0xD6, 0x46, 0x32,
        0x02, 0x70, 0x62, 0x3A, 0x03, 0x61, 0x63, 0x6B, 0x42, 0x01, 0x2D
    };
    struct common_buf b;
    tt__buf_init(&b, 4096);
    CHECK_EQ(tt__encode_heartbeat(&b, 7267595214226705184u, 1), TT_OK);
    CHECK(bytes_eq(&b, hb, sizeof hb));
    CHECK_EQ(tt__encode_ack(&b, 5092463814493970448u, "-"), TT_OK);
    CHECK(bytes_eq(&b, ack, sizeof ack));
    CHECK_EQ(tt__encode_ack(&b, 5092463814493970448u, ""), TT_OK); /* empty ext: "-" */
    CHECK(bytes_eq(&b, ack, sizeof ack));
    CHECK_EQ(tt__encode_enter_room(&b, 7267595214226705184u, 5), TT_OK);
    CHECK_HAS(b.p, "im_enter_room");
    CHECK_HAS(b.p + 20, "audience");
    common_buf_free(&b);
}

static void test_options(void)
{
    struct tt_options o;
    char err[128];
    tt_options_init(&o);
    CHECK_EQ(tt_options_set(&o, "sign_flow", "legacy", err, sizeof err), TT_OK);
    CHECK_EQ(o.sign_flow, TT_SIGN_LEGACY);
    CHECK_EQ(tt_options_set(&o, "process_initial_data", "no", err, sizeof err), TT_OK);
    CHECK_EQ(o.process_initial_data, 0);
    CHECK_EQ(tt_options_set(&o, "request_polling_interval_ms", "250", err, sizeof err), TT_OK);
    CHECK_EQ(o.request_polling_interval_ms, 250);
    CHECK_EQ(tt_options_set(&o, "web_base", "http://127.0.0.1:1", err, sizeof err), TT_OK);
    CHECK(!strcmp(o.web_base, "http://127.0.0.1:1"));
    CHECK_EQ(tt_options_set(&o, "sign_flow", "magic", err, sizeof err), TT_ERR_INVAL);
    CHECK_HAS(err, "euler, legacy, session");
    CHECK_EQ(tt_options_set(&o, "request_timeout_ms", "-5", err, sizeof err), TT_ERR_INVAL);
    CHECK_EQ(tt_options_set(&o, "enable_websocket_upgrade", "maybe", err, sizeof err),
             TT_ERR_INVAL);
    CHECK_EQ(tt_options_set(&o, "no_such_key", "1", err, sizeof err), TT_ERR_INVAL);
    CHECK_HAS(err, "no_such_key");
}

/* The direct path's options: auto is the default, the watchdog goes down to 1 s, not 0. */
static void test_direct_options(void)
{
    struct tt_options o;
    char err[128];
    tt_options_init(&o);
    CHECK_EQ(o.sign_flow, TT_SIGN_AUTO);
    CHECK(!strcmp(o.push_base, "wss://webcast-ws.tiktok.com"));
    CHECK_EQ(o.ttwid_tries, 3);
    CHECK_EQ(o.stale_timeout_s, 60);
    CHECK_EQ(o.direct_retry_s, 3600);
    CHECK_EQ(tt_options_set(&o, "sign_flow", "direct", err, sizeof err), TT_OK);
    CHECK_EQ(o.sign_flow, TT_SIGN_DIRECT);
    CHECK_EQ(tt_options_set(&o, "sign_flow", "AUTO", err, sizeof err), TT_OK);
    CHECK_EQ(o.sign_flow, TT_SIGN_AUTO);
    CHECK_EQ(tt_options_set(&o, "stale_timeout_s", "1", err, sizeof err), TT_OK);
    CHECK_EQ(o.stale_timeout_s, 1);
    CHECK_EQ(tt_options_set(&o, "stale_timeout_s", "0", err, sizeof err), TT_ERR_INVAL);
    CHECK_HAS(err, "stale_timeout_s");
    CHECK_EQ(tt_options_set(&o, "direct_retry_s", "0", err, sizeof err), TT_OK);
    CHECK_EQ(o.direct_retry_s, 0);
    CHECK_EQ(tt_options_set(&o, "ttwid_tries", "x", err, sizeof err), TT_ERR_INVAL);
    CHECK_EQ(tt_options_set(&o, "push_base", "ws://127.0.0.1:9", err, sizeof err), TT_OK);
    CHECK(!strcmp(o.push_base, "ws://127.0.0.1:9"));
    CHECK(strcmp(tt_strerror(TT_ERR_STALE), "unknown error"));
    CHECK(strcmp(tt_strerror(TT_ERR_DEVICE_BLOCKED), "unknown error"));
    CHECK(strcmp(tt_strerror(TT_ERR_NO_TTWID), "unknown error"));
}

/* The device pool: the cap per device, retiring, and the file a restart reads. */
static void test_devices(void)
{
    struct tt_devices *d = NULL, *d2 = NULL;
    struct tt_device a, b, c;
    struct tt_devices_stats st;
    char path[] = "/tmp/tt-devices-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    remove(path); /* a missing file is no error */
    CHECK_EQ(tt_devices_new(&d, path, 2), TT_OK);
    CHECK(!tt__devices_take(d, &a)); /* empty: mint one */
    const char *ua1 = tt__devices_user_agent(d, NULL);
    CHECK_EQ(tt__devices_add(d, "1%7Ctok1", ua1, &a), TT_OK);
    CHECK(tt__devices_take(d, &b)); /* the second client shares it */
    CHECK(!strcmp(b.token, "1%7Ctok1") && b.id == a.id);
    CHECK(!tt__devices_take(d, &c)); /* the cap is 2 */
    const char *ua2 = tt__devices_user_agent(d, ua1);
    CHECK(strcmp(ua1, ua2));
    CHECK_EQ(tt__devices_add(d, "1%7Ctok2", ua2, &c), TT_OK);
    tt__devices_release(d, a.id, 1); /* blocked: for everyone */
    CHECK(tt__devices_blocked(d, b.id));
    tt__devices_release(d, b.id, 0);
    tt_devices_stats(d, &st);
    CHECK_EQ(st.devices, 2);
    CHECK_EQ(st.blocked, 1);
    CHECK_EQ(st.in_use, 1);
    CHECK_EQ(st.minted, 2);
    CHECK_EQ(st.rotated, 1);
    CHECK_EQ(st.save_failed, 0);
    tt_devices_free(d);
    CHECK_EQ(tt_devices_new(&d2, path, 0), TT_OK); /* a restart */
    CHECK(tt__devices_take(d2, &a));
    CHECK(!strcmp(a.token, "1%7Ctok2") && !strcmp(a.ua, ua2) && a.minted > 1700000000);
    tt_devices_stats(d2, &st);
    CHECK_EQ(st.devices, 2);
    CHECK_EQ(st.blocked, 1);
    tt_devices_free(d2);
    /* a line whose token or User-Agent is not printable ASCII is left out: a control byte
     * would go into the Cookie or User-Agent header of every request */
    FILE *f = fopen(path, "w");
    CHECK(f &&
          fputs("{\"token\":\"1%7Cbad\\r\\nX-Injected: 1\",\"ua\":\"Mozilla/5.0\"}\n"
                "{\"token\":\"1%7Cok\",\"ua\":\"Mozilla/5.0\\u0007\"}\n"
                "{\"token\":\"1%7C\\u00e9\",\"ua\":\"Mozilla/5.0\"}\n"
                "{\"token\":\"1%7Cgood\",\"ua\":\"Mozilla/5.0 (X11)\"}\n",
                f) >= 0 &&
          !fclose(f));
    CHECK_EQ(tt_devices_new(&d2, path, 0), TT_OK);
    tt_devices_stats(d2, &st);
    CHECK_EQ(st.devices, 1);
    CHECK(tt__devices_take(d2, &a) && !strcmp(a.token, "1%7Cgood"));
    tt_devices_free(d2);
    remove(path);
}

/* The devices' file is written through a fresh temporary name: a symlink planted at the old
 * fixed <path>.tmp is never followed (it overwrote its target), and the file is mode 0600. */
static void test_devices_no_symlink(void)
{
    struct tt_devices *d = NULL;
    struct tt_device a;
    char dir[] = "/tmp/tt-devlink-XXXXXX", path[256], tmp[300], victim[256], buf[64] = "";
    struct stat st;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/ttwid.jsonl", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    FILE *v = fopen(victim, "w");
    CHECK(v != NULL);
    if (!v) {
        return;
    }
    fputs("precious\n", v);
    fclose(v);
    CHECK_EQ(symlink(victim, tmp), 0);
    CHECK_EQ(tt_devices_new(&d, path, 2), TT_OK);
    CHECK(!tt__devices_take(d, &a));
    CHECK_EQ(tt__devices_add(d, "1%7Ctok1", tt__devices_user_agent(d, NULL), &a), TT_OK);
    tt_devices_free(d);
    v = fopen(victim, "r");
    CHECK(v && fgets(buf, sizeof buf, v) && !strcmp(buf, "precious\n"));
    if (v) {
        fclose(v);
    }
    CHECK(lstat(tmp, &st) == 0 && S_ISLNK(st.st_mode)); /* left alone */
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size > 0);
    remove(tmp);
    remove(victim);
    remove(path);
    rmdir(dir);
}

/* 1 if `path` holds exactly `want` */
static int holds(const char *path, const char *want)
{
    char buf[64] = "";
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    return f && n == strlen(want) && !memcmp(buf, want, n);
}

/* In a child: the pool of `path` as a user who cannot read it (root reads a mode 0 file, so
 * it drops to nobody), a device minted into it; exits 0 if the pool said so and went on. */
static void mint_unreadable(const char *path)
{
    struct tt_devices *d = NULL;
    struct tt_device a;
    struct tt_devices_stats st;
    if (getuid() == 0 && (setgid(65534) || setuid(65534))) {
        _exit(2);
    }
    if (tt_devices_new(&d, path, 0) ||
        tt__devices_add(d, "1%7Cnew", tt__devices_user_agent(d, NULL), &a)) {
        _exit(3);
    }
    tt_devices_stats(d, &st);
    _exit(tt_devices_unreadable(d) == EACCES && st.devices == 1 && st.save_failed ? 0 : 4);
}

/* A ttwid_file that exists but cannot be read (a directory, another user's) holds devices the
 * pool cannot see: it is reported, never replaced, and the pool goes on in memory. Only ENOENT
 * means "none yet" (test_devices). */
static void test_devices_unreadable(void)
{
    struct tt_devices *d = NULL;
    struct tt_device a;
    struct tt_devices_stats st;
    char dir[] = "/tmp/tt-devunread-XXXXXX", path[256], inside[300];
    int status = -1;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/ttwid.jsonl", dir);
    snprintf(inside, sizeof inside, "%s/kept", path);
    CHECK_EQ(mkdir(path, 0700), 0);
    FILE *f = fopen(inside, "w");
    CHECK(f && fputs("precious\n", f) >= 0 && !fclose(f));
    CHECK_EQ(tt_devices_new(&d, path, 0), TT_OK); /* a directory: read fails with EISDIR */
    CHECK_EQ(tt_devices_unreadable(d), EISDIR);
    CHECK_EQ(tt__devices_add(d, "1%7Ctok1", tt__devices_user_agent(d, NULL), &a), TT_OK);
    tt_devices_stats(d, &st);
    CHECK(st.devices == 1 && st.save_failed == 1); /* in memory, the write refused */
    CHECK(tt__devices_unsaved(d) && !strcmp(tt__devices_unsaved(d), path));
    tt_devices_free(d);
    CHECK(holds(inside, "precious\n"));
    remove(inside);
    rmdir(path);
    /* another user's file: this is the one the old pool took for absent and replaced */
    f = fopen(path, "w");
    CHECK(f && fputs("{\"token\":\"1%7Cold\"}\n", f) >= 0 && !fclose(f));
    CHECK(!chmod(path, 0) && !chmod(dir, 0777)); /* so nobody may write beside it */
    pid_t pid = fork();
    if (pid == 0) {
        mint_unreadable(path);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(holds(path, "{\"token\":\"1%7Cold\"}\n"));
    DIR *ls = opendir(dir);
    struct dirent *e;
    int others = 0;
    while (ls && (e = readdir(ls))) {
        others += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                  strcmp(e->d_name, "ttwid.jsonl");
    }
    if (ls) {
        closedir(ls);
    }
    CHECK_EQ(others, 0); /* no temporary file left either */
    remove(path);
    rmdir(dir);
    CHECK_EQ(tt_devices_unreadable(NULL), 0);
}

static void ignore(const struct tt_event *ev, void *ud)
{
    (void)ev;
    (void)ud;
}

static void test_handles(void)
{
    static const char *const good[] = { "the_host", "@the_host", "Some.User_1",
                                        "https://www.tiktok.com/@the_host/live" };
    static const char *const bad[] = {
        "",
        "@",
        "a/b",
        "a b",
        "#",
        "x\ny",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    };
    tt_client *c;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_EQ(tt_client_new(&c, good[i], NULL, ignore, NULL), TT_OK);
        tt_client_free(c);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(tt_client_new(&c, bad[i], NULL, ignore, NULL), TT_ERR_INVAL);
    }
}

/* Options sent as HTTP headers as they are: a line break in one is refused, not sent. */
static void test_header_options(void)
{
    static const char *const keys[] = { "user_agent",    "sign_api_key",    "session_id",
                                        "tt_target_idc", "request_headers", "websocket_headers" };
    struct tt_options o;
    tt_client *c;
    char err[160];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        tt_options_init(&o);
        if (i == 3) {
            CHECK_EQ(tt_options_set(&o, "session_id", "s", err, sizeof err), TT_OK);
        }
        CHECK_EQ(tt_options_set(&o, keys[i], i < 4 ? "ok\tvalue" : "X-Ok: 1", err, sizeof err),
                 TT_OK);
        CHECK_EQ(tt_client_new(&c, "someone", &o, ignore, NULL), TT_OK);
        tt_client_free(c);
        CHECK_EQ(tt_options_set(&o, keys[i], "value\r\nX-Injected: 1", err, sizeof err), TT_OK);
        CHECK_EQ(tt_client_new(&c, "someone", &o, ignore, NULL), TT_ERR_INVAL);
    }
}

static void test_hosts(void)
{
    struct tt_options o;
    struct tt_hosts h;
    char host[64], err[160];
    int port;
    tt_options_init(&o);
    o.web_base = "http://127.0.0.1:8080";
    o.resolve =
            "www.tiktok.com:8080:127.0.0.1, evil.example:9:[::1] ,webcast.tiktok.com:443:10.1.2.3";
    CHECK(tt__hosts_init(&h, &o, err, sizeof err) == TT_OK && h.n == 3);
    CHECK(!tt__url_host("wss://u:p@[::1]:9/x?y", host, sizeof host, &port) &&
          !strcmp(host, "::1") && port == 9);
    CHECK(!tt__url_host("https://WWW.TikTok.com/@a", host, sizeof host, &port) &&
          !strcmp(host, "www.tiktok.com") && port == 443);
    CHECK(!tt__url_host("ws://h/x", host, sizeof host, &port) && port == 80);
    /* TikTok's domain and its subdomains, the configured bases; nothing else */
    CHECK(tt__hosts_cookie_ok(&h, "https://www.tiktok.com/"));
    CHECK(tt__hosts_cookie_ok(&h, "wss://webcast16-ws-useast1a.tiktok.com/webcast/im/"));
    CHECK(tt__hosts_cookie_ok(&h, "https://tiktok.com/"));
    CHECK(tt__hosts_cookie_ok(&h, "ws://127.0.0.1:9999/push"));     /* web_base's host, any port */
    CHECK(tt__hosts_cookie_ok(&h, "wss://webcast-ws.tiktok.com/")); /* push_base's default */
    CHECK(!tt__hosts_cookie_ok(&h, "ws://localhost:8080/push"));
    CHECK(!tt__hosts_cookie_ok(&h, "wss://evil.example/tiktok.com"));
    CHECK(!tt__hosts_cookie_ok(&h, "https://eviltiktok.com/"));
    CHECK(!tt__hosts_cookie_ok(&h, "https://tiktok.com.evil.example/"));
    CHECK(!tt__hosts_cookie_ok(&h, "https://user@evil.example/@www.tiktok.com"));
    /* the override: host and port both match; loopback by address */
    CHECK(!strcmp(tt__hosts_resolve(&h, "www.tiktok.com", 8080), "127.0.0.1"));
    CHECK(tt__hosts_resolve(&h, "www.tiktok.com", 443) == NULL);
    CHECK(!strcmp(tt__hosts_resolve(&h, "EVIL.example", 9), "::1"));
    CHECK(tt__hosts_loopback(&h, "http://www.tiktok.com:8080/x"));
    CHECK(!tt__hosts_loopback(&h, "http://www.tiktok.com/x"));
    CHECK(!tt__hosts_loopback(&h, "https://webcast.tiktok.com/"));
    CHECK(tt__hosts_loopback(&h, "ws://evil.example:9/"));
    /* bad entries are refused with the entry named */
    const char *bad[] = { "www.tiktok.com:443", "www.tiktok.com:0:127.0.0.1",
                          "www.tiktok.com:443:localhost", ":443:127.0.0.1", "a:1:127.0.0.1:2" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(tt_options_set(&o, "resolve", bad[i], err, sizeof err) == TT_ERR_INVAL &&
              strstr(err, "resolve"));
    }
    CHECK(tt_options_set(&o, "resolve", "", err, sizeof err) == TT_OK);
}

/* Retry-After, both of RFC 9110's forms; a value that is neither is none, never a wrap-around
 * (strtoul read "-1" as 4294967295 s and "4294967296" as 0) */
static void test_retry_after(void)
{
    time_t now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
    CHECK_EQ(tt__retry_after_s("42", now, 86400), 42u);
    CHECK_EQ(tt__retry_after_s(" 30 ", now, 86400), 30u);
    CHECK_EQ(tt__retry_after_s("", now, 86400), 0u);
    CHECK_EQ(tt__retry_after_s("0", now, 86400), 0u);
    CHECK_EQ(tt__retry_after_s("-1", now, 86400), 0u);
    CHECK_EQ(tt__retry_after_s("1.5", now, 86400), 0u);
    CHECK_EQ(tt__retry_after_s("soon", now, 86400), 0u);
    CHECK_EQ(tt__retry_after_s("4294967296", now, 86400), 86400u);
    CHECK_EQ(tt__retry_after_s("99999999999999999999999", now, 86400), 86400u);
    CHECK_EQ(tt__retry_after_s("Wed, 21 Oct 2015 07:30:00 GMT", now, 86400), 120u);
    CHECK_EQ(tt__retry_after_s("Wednesday, 21-Oct-15 07:29:00 GMT", now, 86400), 60u);
    CHECK_EQ(tt__retry_after_s("Wed Oct 21 07:28:10 2015", now, 86400), 10u);
    CHECK_EQ(tt__retry_after_s("Wed, 21 Oct 2015 07:00:00 GMT", now, 86400), 0u); /* past */
    CHECK_EQ(tt__retry_after_s("Wed, 21 Oct 2025 07:28:00 GMT", now, 86400), 86400u);
}

int main(void)
{
    test_dedup_resident();
    test_dedup();
    test_dedup_growth();
    test_seen_handover();
    test_params();
    test_cookies();
    test_json_reader();
    test_frames();
    test_options();
    test_handles();
    test_header_options();
    test_direct_options();
    test_devices();
    test_devices_no_symlink();
    test_devices_unreadable();
    test_hosts();
    test_retry_after();
    return h_finish();
}
