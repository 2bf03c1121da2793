/** @file test_cfg.c
 * The configuration loader (bridge/cfg.h): defaults, the example etc/tiktok2mqtt.ini against
 * the table, the fixtures in tests/fixtures/cfg (ok-*.ini load; bad-*.ini say on their first
 * line `# expect: <line>: <substring>`), every error with its exact line, hostile handles,
 * secret files and the environment, masking in print, long lines, bare and overriding streamer
 * sections, and the reload diff. Runs from the repository root.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "cfg.h"

#define FIXTURES "tests/fixtures/cfg"
#define EXAMPLE  "etc/tiktok2mqtt.ini"

static struct bridge_cfg cfg;
static struct bridge_cfg_errors errs;

static void reset(void)
{
    bridge_cfg_free(&cfg);
    bridge_cfg_errors_free(&errs);
}

static int parse(const char *text)
{
    reset();
    return bridge_cfg_parse_string(text, "t.ini", &cfg, &errs);
}

static void dump(const char *what)
{
    fprintf(stderr, "  %s: %zu errors, %zu warnings\n", what, errs.n_errors, errs.n_warnings);
    for (size_t i = 0; i < errs.n_errors; i++) {
        fprintf(stderr, "    error: %s\n", errs.errors[i]);
    }
    for (size_t i = 0; i < errs.n_warnings; i++) {
        fprintf(stderr, "    warning: %s\n", errs.warnings[i]);
    }
}

/* A message of `list` that starts "<file>:<line>: " (just "<file>: " for line 0) and contains
 * `needle`. */
static bool find_msg(char **list, size_t n, const char *file, int line, const char *needle)
{
    char prefix[512];
    if (line > 0) {
        snprintf(prefix, sizeof prefix, "%s:%d: ", file, line);
    } else {
        snprintf(prefix, sizeof prefix, "%s: ", file);
    }
    for (size_t i = 0; i < n; i++) {
        if (strncmp(list[i], prefix, strlen(prefix)) == 0 && strstr(list[i], needle)) {
            return true;
        }
    }
    return false;
}

static bool has_error(int line, const char *needle)
{
    bool ok = find_msg(errs.errors, errs.n_errors, "t.ini", line, needle);
    if (!ok) {
        fprintf(stderr, "  expected error at t.ini:%d containing \"%s\"\n", line, needle);
        dump("got");
    }
    return ok;
}

static bool has_warning(const char *file, int line, const char *needle)
{
    bool ok = find_msg(errs.warnings, errs.n_warnings, file, line, needle);
    if (!ok) {
        fprintf(stderr, "  expected warning at %s:%d containing \"%s\"\n", file, line, needle);
        dump("got");
    }
    return ok;
}

static bool loads_clean(const char *text)
{
    if (parse(text) != 0 || errs.n_errors) {
        fprintf(stderr, "  expected no error for:\n%s\n", text);
        dump("got");
        return false;
    }
    return true;
}

/* ---- defaults ---- */

static void test_defaults(void)
{
    const struct bridge_tiktok *tt = &cfg.tiktok;
    CHECK(loads_clean(""));
    CHECK_EQ(errs.n_warnings, 0);
    CHECK_EQ(cfg.bridge.log_level, BRIDGE_LOG_INFO);
    CHECK_EQ(cfg.bridge.health_interval, 60);
    CHECK_EQ(cfg.bridge.state_interval, 5);
    CHECK(strcmp(cfg.bridge.metrics, "") == 0);
    CHECK_EQ(cfg.bridge.api, 1);
    CHECK(strcmp(cfg.bridge.state_file, "t.ini.state") == 0);
    CHECK_EQ(cfg.bridge.raw, 0);
    CHECK(strcmp(cfg.bridge.record_dir, "") == 0);
    CHECK(cfg.bridge.shard.i == 1 && cfg.bridge.shard.n == 1);
    CHECK(strcmp(cfg.mqtt.uri, "tcp://127.0.0.1:1883") == 0);
    CHECK_EQ(strncmp(cfg.mqtt.client_id, "tiktok2mqtt-", 12), 0);
    CHECK(strlen(cfg.mqtt.client_id) <= 23);
    CHECK_EQ(cfg.mqtt.protocol, BRIDGE_MQTT_5);
    CHECK(strcmp(cfg.mqtt.base_topic, "tiktok") == 0);
    CHECK(cfg.mqtt.qos == 1 && cfg.mqtt.keepalive == 30 && cfg.mqtt.max_buffered == 100000);
    CHECK(cfg.mqtt.event_expiry == 0 && !cfg.mqtt.tls_insecure);
    CHECK(cfg.mqtt.password_file.value == NULL && strcmp(cfg.mqtt.password_file.file, "") == 0);
    CHECK(cfg.homeassistant.enabled);
    CHECK(strcmp(cfg.homeassistant.discovery_prefix, "homeassistant") == 0);
    CHECK(tt->process_initial_data && tt->fetch_room_info_on_connect);
    CHECK(tt->enable_extended_gift_info && tt->enable_websocket_upgrade);
    CHECK(tt->enable_request_polling && tt->request_polling_interval_ms == 1000);
    CHECK(tt->request_timeout_ms == 10000 && tt->websocket_timeout_ms == 10000);
    CHECK_EQ(tt->sign_flow, BRIDGE_SIGN_AUTO);
    CHECK(strcmp(tt->push_base, "wss://webcast-ws.tiktok.com") == 0);
    CHECK(tt->ttwid_tries == 3 && tt->stale_timeout_s == 60 && tt->direct_retry_s == 3600);
    CHECK(cfg.bridge.streamers_per_device == 50);
    CHECK(strcmp(tt->sign_api_url, "https://api.eulerstream.com") == 0);
    CHECK(strcmp(tt->web_base, "https://www.tiktok.com") == 0);
    CHECK(strcmp(tt->webcast_base, "https://webcast.tiktok.com") == 0);
    CHECK(!tt->allow_insecure && tt->wait_until_live && tt->live_check_interval == 60);
    CHECK(tt->max_frame_bytes == 1048576 && tt->max_inflate_bytes == 8388608);
    CHECK(tt->reconnect_min_s == 5 && tt->reconnect_max_s == 300);
    CHECK(tt->room_info_interval == 300);
    CHECK(strcmp(tt->events.list, "all") == 0);
    CHECK(bridge_events_has(&tt->events, "chat") && bridge_events_has(&tt->events, "giftEnd"));
    CHECK(!bridge_events_has(&tt->events, "nope"));
    CHECK_EQ(cfg.n_streamers, 0);
}

/* Under systemd's StateDirectory= the default state_file moves there (the config's directory
 * is read-only); one written in the file is kept; a relative STATE_DIRECTORY is ignored. */
static void test_state_directory(void)
{
    setenv("STATE_DIRECTORY", "/var/lib/tiktok2mqtt:/var/lib/other", 1);
    CHECK(loads_clean(""));
    CHECK(strcmp(cfg.bridge.state_file, "/var/lib/tiktok2mqtt/t.ini.state") == 0);
    CHECK(loads_clean("[bridge]\nstate_file = /srv/s.state\n"));
    CHECK(strcmp(cfg.bridge.state_file, "/srv/s.state") == 0);
    setenv("STATE_DIRECTORY", "relative/dir", 1);
    CHECK(loads_clean(""));
    CHECK(strcmp(cfg.bridge.state_file, "t.ini.state") == 0);
    unsetenv("STATE_DIRECTORY");
}

static void test_client_id(void)
{
    char first[64];
    reset();
    CHECK(bridge_cfg_parse_string("", "/etc/a.ini", &cfg, &errs) == 0);
    snprintf(first, sizeof first, "%s", cfg.mqtt.client_id);
    reset();
    CHECK(bridge_cfg_parse_string("", "/etc/a.ini", &cfg, &errs) == 0);
    CHECK(strcmp(first, cfg.mqtt.client_id) == 0); /* stable across restarts */
    reset();
    CHECK(bridge_cfg_parse_string("", "/etc/b.ini", &cfg, &errs) == 0);
    CHECK(strcmp(first, cfg.mqtt.client_id) != 0); /* another instance, another id */
    CHECK(strlen(cfg.mqtt.client_id) <= 23);
    CHECK(loads_clean("[mqtt]\nclient_id = my-bridge\n"));
    CHECK(strcmp(cfg.mqtt.client_id, "my-bridge") == 0);
    CHECK(loads_clean("[mqtt]\nclient_id = a-client-id-of-thirty-bytes-\n"));
    CHECK(has_warning("t.ini", 2, "client_id is 28 bytes: MQTT 3.1.1"));
    CHECK(parse("[mqtt]\nclient_id = two words\n") != 0);
    CHECK(has_error(2, "only printable ASCII without spaces"));
}

/* ---- the example file ---- */

struct table_key {
    const char *section, *key;
};

#define TABLE_KEY(sec, key, type, field, dflt, min, max, flags, aux, doc) { #sec, #key },
static const struct table_key table_keys[] = { CFG_TABLE(TABLE_KEY) };

/* Whether the example has `key =` or `;key =` under its section ([streamer:*] for streamer
 * keys), so the example documents every key of the table. */
static bool example_has(const char *text, const struct table_key *k)
{
    char section[64] = "";
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
        const char *p = line;
        size_t n = strlen(k->key);
        if (*p == '[') {
            snprintf(section, sizeof section, "%.*s", (int)strcspn(p + 1, "]:"), p + 1);
            continue;
        }
        p += strspn(p, ";# ");
        if (strcmp(section, k->section) == 0 && strncmp(p, k->key, n) == 0 &&
            p[n + strspn(p + n, " ")] == '=') {
            return true;
        }
    }
    return false;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 1 << 20);
    size_t n = f && buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    if (!n) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void test_example(void)
{
    char *text = slurp(EXAMPLE);
    CHECK(text != NULL);
    if (!text) {
        return;
    }
    for (size_t i = 0; i < sizeof table_keys / sizeof table_keys[0]; i++) {
        bool ok = example_has(text, &table_keys[i]);
        if (!ok) {
            fprintf(stderr, "  %s lacks [%s] %s\n", EXAMPLE, table_keys[i].section,
                    table_keys[i].key);
        }
        CHECK(ok);
    }
    reset();
    /* as installed, the example runs: it needs no file beside it (no key, no secret) */
    CHECK_EQ(bridge_cfg_load(EXAMPLE, &cfg, &errs), 0);
    CHECK_EQ(errs.n_errors, 0);
    CHECK_EQ(cfg.n_streamers, 2);
    CHECK(cfg.tiktok.sign_api_key_file.value == NULL);
    if (errs.n_errors) {
        dump(EXAMPLE);
    }
    CHECK_EQ(cfg.tiktok.sign_flow, BRIDGE_SIGN_AUTO); /* and it needs no sign server */
    free(text);
}

/* ---- fixtures ---- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_fixture(const char *name)
{
    char path[512], *text;
    int line = 0, rc;
    snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
    text = slurp(path);
    reset();
    rc = bridge_cfg_load(path, &cfg, &errs);
    if (strncmp(name, "ok-", 3) == 0) {
        CHECK_EQ(rc, 0);
        if (rc) {
            dump(path);
        }
    } else {
        char needle[256] = "";
        bool ok = text && sscanf(text, "# expect: %d: %255[^\n]", &line, needle) == 2;
        CHECK(ok); /* a bad fixture says what it expects */
        CHECK(rc != 0);
        ok = ok && find_msg(errs.errors, errs.n_errors, path, line, needle);
        if (!ok) {
            fprintf(stderr, "  %s: expected line %d: %s\n", path, line, needle);
            dump(path);
        }
        CHECK(ok);
    }
    free(text);
}

static void test_fixtures(void)
{
    DIR *d = opendir(FIXTURES);
    struct dirent *e;
    char *names[256];
    size_t n = 0, bad = 0;
    CHECK(d != NULL);
    while (d && (e = readdir(d)) && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".ini") == 0) {
            names[n++] = strdup(e->d_name);
        }
    }
    if (d) {
        closedir(d);
    }
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        run_fixture(names[i]);
        bad += strncmp(names[i], "bad-", 4) == 0;
        free(names[i]);
    }
    CHECK(n >= 40 && bad >= 30);
}

/* ---- errors, each at its line ---- */

struct err_case {
    const char *text;
    int line;
    const char *needle;
};

static const struct err_case err_cases[] = {
    { "[mqtt]\nqos = -1\n", 2, "qos: -1 is out of range (0 to 2)" },
    { "[mqtt]\nmax_buffered = 99999999999999999999\n", 2, "out of range (1 to 10000000)" },
    { "[mqtt]\nkeepalive = 0x10\n", 2, "is not a whole number" },
    { "[mqtt]\nkeepalive = 1 0\n", 2, "is not a whole number" },
    { "[mqtt]\nevent_expiry = 4294967296\n", 2, "(0 to 4294967295 seconds)" },
    { "[tiktok]\nmax_frame_bytes = 1M\n", 2, "is not a whole number (1024 to 67108864 bytes)" },
    { "[tiktok]\nrequest_timeout_ms = 50\n", 2, "50 is out of range (100 to 600000 milliseconds)" },
    { "[tiktok]\nsign_flow = signed\n", 2, "is not one of: euler, legacy, session" },
    { "[bridge]\nshard = 1\n", 2, "'1' is not i/n" },
    { "[bridge]\nshard = 0/2\n", 2, "i from 1 to n" },
    { "[bridge]\nshard = 1/0\n", 2, "n must be 1 to 65535" },
    { "[bridge]\nmetrics = :9100\n", 2, "no host" },
    { "[bridge]\nhttp = 9100\n", 2,
      "'9100' is not ADDR:PORT (a port alone: the address is missing)" },
    { "[bridge]\nhttp = localhost\n", 2, "'localhost' is not ADDR:PORT (no port)" },
    { "[bridge]\nmetrics = localhost:http\n", 2, "the port must be 1 to 65535" },
    { "[mqtt]\nuri = broker:1883\n", 2, "no scheme://" },
    { "[mqtt]\nuri = tcp://broker:99999\n", 2, "the port must be 1 to 65535" },
    { "[mqtt]\nuri = tcp://broker/x\n", 2, "a tcp:// URI has no path" },
    { "[mqtt]\nuri = TCP://broker\n", 2, "the scheme must be lower case" },
    { "[mqtt]\nuri =\n", 2, "uri: empty value (the default is tcp://127.0.0.1:1883)" },
    { "[mqtt]\nbase_topic = /tiktok\n", 2, "starts with '/'" },
    { "[mqtt]\nbase_topic = a//b\n", 2, "empty level" },
    { "[mqtt]\nbase_topic = tiktok/+/x\n", 2, "contains '+'" },
    { "[mqtt]\nca_file = /nonexistent/ca.pem\nuri = ssl://b\n", 2, "cannot read '/nonexistent" },
    { "[mqtt]\nca_file = /tmp\nuri = ssl://b\n", 2, "'/tmp' is not a regular file" },
    { "[mqtt]\nca_file = tests/fixtures/cfg/not-a-real-ca.pem\n", 2, "ca_file is set but uri" },
    { "[mqtt]\nusername = a\x01\n", 2, "control character in the value" },
    { "[mqtt]\nusername = j\xfcrgen\n", 2,
      "username: 'j\\xfcrgen': not valid UTF-8 (MQTT sends it as UTF-8)" },
    { "[mqtt]\nusername = a\xc2\x85\n", 2, "username: 'a\\xc2\\x85': control character" },
    { "[tiktok]\nsign_api_url = https://sign.example/v1\n", 2, "host only, no path" },
    { "[tiktok]\nsign_api_url = ftp://sign.example\n", 2, "the scheme must be https or http" },
    { "[tiktok]\nweb_base = https://u:p@www.tiktok.com\n", 2, "credentials do not belong" },
    { "[tiktok]\nwebcast_base = http://10.0.0.1:8080\n", 2, "is plain HTTP to a host that is" },
    { "[tiktok]\nproxy = proxy.example:3128\n", 2, "proxy: not http://[user:pass@]host:port" },
    { "[tiktok]\nproxy = http://proxy.example\n", 2, "the port is required" },
    { "[tiktok]\nproxy = ftp://proxy.example:21\n", 2, "is not http, https, socks5 or socks5h" },
    { "[tiktok]\nproxy = socks5h://p:1\n", 2, "a socks5h:// proxy cannot carry the WebSocket" },
    { "[tiktok]\nevents =\n", 2, "events: empty value (the default is all)" },
    { "[tiktok]\nevents = chat,,gift\n", 2, "empty name in the list" },
    { "[tiktok]\nevents = all,chat\n", 2, "'all' stands alone" },
    { "[tiktok]\nevents = Gift\n", 2, "unknown event 'Gift' (did you mean 'gift'?)" },
    { "[tiktok]\nevents = comment\n", 2, "(events: all, or a list of chat, member, gift" },
    { "[tiktok]\nclient_params = a=1&&b=2\n", 2, "'' is not k=v" },
    { "[tiktok]\nclient_params = a b=1\n", 2, "key 'a b' may hold only" },
    { "[tiktok]\nclient_params = q=a b\n", 2, "the value of 'q' holds a space" },
    { "[tiktok]\nwebsocket_headers = X Y: 1\n", 2, "'X Y: 1' is not 'Name: value'" },
    { "[tiktok]\nwebsocket_headers = : 1\n", 2, "is not 'Name: value'" },
    { "[tiktok]\nrequest_headers = User-Agent: Mozilla/5.0 (X11; Linux)\n", 2,
      "'Linux)' is not 'Name: value' (headers are separated by ';', so a value cannot hold" },
    { "[tiktok]\nsession_id_file = /nonexistent/sid\n", 2, "session_id_file: cannot read" },
    { "[streamer:foo]\ntopic = a/b\n", 2, "topic: invalid topic 'a/b': contains '/'" },
    { "[streamer:foo]\nenabled = 2\n", 2, "'2' is not true or false" },
    { "[streamer:foo]\nlog_level = debug\n", 2,
      "unknown key 'log_level' in [streamer:foo] (it belongs in [bridge])" },
    { "[tiktok]\ntopic = x\n", 2,
      "unknown key 'topic' in [tiktok] (it belongs in [streamer:HANDLE])" },
    { "[streamer:foo]\nsign_flow = legacy\nsign_flow = euler\n", 3,
      "duplicate key 'sign_flow' in [streamer:foo] (first at line 2)" },
    { "[streamer:]\n", 1, "invalid handle '' in [streamer:]: empty" },
    { "[streamer:Ab Cd]\n", 1, "character ' ' not allowed" },
    { "[Streamer:foo]\n", 1, "unknown section [Streamer:foo] (did you mean [streamer:foo]?)" },
    { "[MQTT]\n", 1, "unknown section [MQTT] (did you mean [mqtt]?)" },
    { "[mqtt] junk\n", 1, "text after the section header's ']'" },
    { "[mqtt]\n= 1\n", 2, "missing key name before '='" },
    { "[mqtt]\n  qos\n", 2, "expected 'key = value'" },
    { "[mqtt]\nuri = wss://b/mqtt\nkey_file = tests/fixtures/cfg/not-a-real-ca.pem\n", 3,
      "cert_file and key_file go together" },
    { "[mqtt]\nbase_topic = homeassistant\n", 2, "discovery_prefix and base_topic are both" },
};

static void test_error_cases(void)
{
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        CHECK(parse(err_cases[i].text) != 0);
        CHECK(has_error(err_cases[i].line, err_cases[i].needle));
    }
}

/* Values that must be accepted, one per line of a [section]. */
static const char *const ok_cases[] = {
    "[mqtt]\nuri = mqtts://broker.example:8883\n",
    "[mqtt]\nuri = ws://127.0.0.1:8080/mqtt\n",
    "[mqtt]\nuri = tcp://[::1]:1883\n",
    "[mqtt]\nuri = mqtt://broker\n",
    "[mqtt]\nprotocol = 3.1.1\nqos = 0\nevent_expiry = 4294967295\n",
    "[mqtt]\nbase_topic = home/tiktok\n",
    "[bridge]\nmetrics = [::1]:9100\nshard = 2/3\nlog_level = trace\n",
    "[bridge]\nmetrics = 0.0.0.0:9100\napi = no\nraw = on\n",
    "[tiktok]\nevents = chat, gift ,giftEnd,chat\n",
    "[tiktok]\nclient_params = app_language=en&webcast_language=en-US&q=%20\n",
    "[tiktok]\nrequest_headers = User-Agent: Mozilla/5.0 (X11) Gecko; Accept-Language: en;\n",
    "[tiktok]\nproxy = http://user:pass@proxy.example:3128\n",
    "[tiktok]\nweb_base = http://127.0.0.1:8443\nwebcast_base = http://localhost:1\n",
    "[tiktok]\nweb_base = http://sim.lan:8443\nallow_insecure = true\n",
    "[tiktok]\nsign_api_url = https://[::1]:8443\n",
    "[tiktok]\nreconnect_min_s = 300\nreconnect_max_s = 300\nroom_info_interval = 0\n",
    "[streamer:foo]\ntopic = @Foo_Topic\nenabled = false\n",
    "[mqtt]\nqos = 2 ; an inline comment after a space\n",
    "[bridge]\nlog_level=debug\n\t[mqtt]\n  qos=0\n",
};

static void test_ok_cases(void)
{
    for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
        CHECK(loads_clean(ok_cases[i]));
    }
    CHECK(loads_clean("[tiktok]\nevents = chat, gift ,giftEnd,chat\n"));
    CHECK(strcmp(cfg.tiktok.events.list, "chat,gift,giftEnd") == 0);
    CHECK(bridge_events_has(&cfg.tiktok.events, "giftEnd"));
    CHECK(!bridge_events_has(&cfg.tiktok.events, "like"));
    CHECK(loads_clean("[mqtt]\nprotocol = 3.1.1\n[bridge]\nlog_level = warn\n"));
    CHECK_EQ(cfg.mqtt.protocol, BRIDGE_MQTT_311);
    CHECK_EQ(cfg.bridge.log_level, BRIDGE_LOG_WARN);
    CHECK(loads_clean("[tiktok]\nwebsocket_headers = A:1;B: 2; \n"));
    CHECK(strcmp(cfg.tiktok.websocket_headers, "A:1;B: 2;") == 0); /* as written */
    CHECK(loads_clean("[mqtt]\nqos = 2 ; exactly once\n"));
    CHECK_EQ(cfg.mqtt.qos, 2);
}

static void test_all_collected(void)
{
    const char *text = "[mqtt]\n"
                       "qos = 9\n"
                       "nope = 1\n"
                       "[streamer:a/b]\n"
                       "events = whatever\n" /* in a refused section: not reported again */
                       "[tiktok]\n"
                       "events = bogus\n"
                       "reconnect_min_s = 999\n"
                       "[x]\n";
    CHECK(parse(text) != 0);
    CHECK_EQ(errs.n_errors, 6);
    CHECK(has_error(2, "qos"));
    CHECK(has_error(3, "unknown key 'nope'"));
    CHECK(has_error(4, "invalid handle"));
    CHECK(has_error(7, "unknown event 'bogus'"));
    CHECK(has_error(8, "above reconnect_max_s"));
    CHECK(has_error(9, "unknown section [x]"));
    for (size_t i = 1; i < errs.n_errors; i++) { /* sorted by line */
        CHECK(atoi(strchr(errs.errors[i - 1], ':') + 1) <= atoi(strchr(errs.errors[i], ':') + 1));
    }
}

static void test_hostile_handles(void)
{
    static const struct {
        const char *section, *why;
    } cases[] = {
        { "[streamer:a/b]", "contains '/'" },
        { "[streamer:#]", "contains '#'" },
        { "[streamer:+]", "contains '+'" },
        { "[streamer:..]", "'..' not allowed" },
        { "[streamer:a\x01z]", "control character" },
        { "[streamer:caf\xc3\xa9]", "non-ASCII" },
        { "[streamer:a;b]", "character ';' not allowed" },
        { "[streamer:$SYS]", "character '$' not allowed" },
        { "[streamer:@@x]", "character '@' not allowed" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "%s\nenabled = true\n", cases[i].section);
        CHECK(parse(text) != 0);
        CHECK(has_error(1, cases[i].why));
        CHECK_EQ(cfg.n_streamers, 0);
        CHECK(strstr(errs.errors[0], "\x01") == NULL); /* shown escaped */
    }
    CHECK(loads_clean("[streamer:@Foo.Bar]\n"));
    CHECK(cfg.n_streamers == 1 && strcmp(cfg.streamers[0].handle, "foo.bar") == 0);
    CHECK(bridge_cfg_find_streamer(&cfg, "@FOO.bar") == &cfg.streamers[0]);
    CHECK(bridge_cfg_find_streamer(&cfg, "bar") == NULL);
}

/* A line of `len` bytes: "; xxxx" or "username = xxxx". */
static char *line_of_len(const char *prefix, size_t len)
{
    char *s = malloc(len + 1);
    size_t n = strlen(prefix);
    memcpy(s, prefix, n);
    memset(s + n, 'x', len - n);
    s[len] = '\0';
    return s;
}

static void test_long_lines(void)
{
    static const char *const prefixes[] = { "; ", "username = " };
    for (size_t i = 0; i < 2; i++) {
        char *l198 = line_of_len(prefixes[i], 198), *l199 = line_of_len(prefixes[i], 199);
        char text[1024];
        snprintf(text, sizeof text, "[mqtt]\n%s\n", l198);
        CHECK(loads_clean(text));
        snprintf(text, sizeof text, "[mqtt]\n%s\r\nqos = 1\r\n", l198);
        CHECK(loads_clean(text)); /* the \r of a CRLF end is not counted */
        snprintf(text, sizeof text, "[mqtt]\n%s\nqos = 1\n", l199);
        CHECK(parse(text) != 0);
        CHECK(has_error(2, "line too long (199 bytes, at most 198)"));
        CHECK_EQ(errs.n_errors, 1);
        snprintf(text, sizeof text, "[mqtt]\n%s", l199); /* no final newline */
        CHECK(parse(text) != 0);
        CHECK(has_error(2, "line too long"));
        free(l198);
        free(l199);
    }
    CHECK(loads_clean("[mqtt]\nusername = abc\n"));
    CHECK(strcmp(cfg.mqtt.username, "abc") == 0);
}

static void test_bare_streamers(void)
{
    CHECK(loads_clean("[streamer:first]\n[streamer:second]\n[mqtt]\nqos = 0\n[streamer:last]"));
    CHECK_EQ(cfg.n_streamers, 3);
    for (size_t i = 0; i < cfg.n_streamers; i++) {
        const struct bridge_streamer *st = &cfg.streamers[i];
        CHECK(strcmp(st->topic, st->handle) == 0 && st->enabled && st->owned);
        CHECK(strcmp(st->tt.events.list, "all") == 0 && st->tt.reconnect_max_s == 300);
    }
    CHECK(strcmp(cfg.streamers[2].handle, "last") == 0);
    CHECK_EQ(cfg.streamers[1].line, 2);
}

static void test_overrides(void)
{
    const char *text = "[streamer:aa]\n"
                       "events = gift\n"
                       "proxy = http://p2:8080\n"
                       "[streamer:bb]\n"
                       "enabled = false\n"
                       "[tiktok]\n"
                       "events = chat\n"
                       "proxy = http://p1:3128\n"
                       "reconnect_max_s = 60\n"
                       "[bridge]\n"
                       "shard = 2/2\n";
    CHECK(loads_clean(text));
    CHECK_EQ(cfg.n_streamers, 2);
    if (cfg.n_streamers != 2) {
        return;
    }
    CHECK(strcmp(cfg.streamers[0].tt.events.list, "gift") == 0);
    CHECK(strcmp(cfg.streamers[0].tt.proxy, "http://p2:8080") == 0);
    CHECK_EQ(cfg.streamers[0].tt.reconnect_max_s, 60); /* [tiktok] later in the file */
    CHECK(strcmp(cfg.streamers[1].tt.events.list, "chat") == 0);
    CHECK(strcmp(cfg.streamers[1].tt.proxy, "http://p1:3128") == 0);
    CHECK(!cfg.streamers[1].enabled && cfg.streamers[0].enabled);
    CHECK_EQ(cfg.streamers[0].owned, bridge_shard_owns("aa", 2, 2));
    CHECK_EQ(cfg.streamers[1].owned, bridge_shard_owns("bb", 2, 2));
    CHECK(strcmp(cfg.tiktok.events.list, "chat") == 0); /* [tiktok] itself untouched */
}

/* ---- secrets ---- */

static char tmpdir[64];

static void write_file(const char *name, const char *text, mode_t mode)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    chmod(path, mode);
}

/* Load the config `text`, written as tmpdir/c.ini; returns the load's result. */
static int load_tmp(const char *text)
{
    char path[256];
    write_file("c.ini", text, 0600);
    snprintf(path, sizeof path, "%s/c.ini", tmpdir);
    reset();
    return bridge_cfg_load(path, &cfg, &errs);
}

static void test_secrets(void)
{
    char cpath[256];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_cfg.XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    snprintf(cpath, sizeof cpath, "%s/c.ini", tmpdir);
    write_file("pw", "s3cret\n", 0600);
    write_file("open", "opensecret\r\n", 0644);
    write_file("empty", "\n", 0600);
    write_file("two", "line1\nline2\n", 0600);
    CHECK_EQ(load_tmp("[mqtt]\npassword_file = pw\n"), 0); /* relative to the config */
    CHECK(strcmp(cfg.mqtt.password_file.value, "s3cret") == 0 && !cfg.mqtt.password_file.from_env);
    CHECK_EQ(errs.n_warnings, 0);
    CHECK_EQ(load_tmp("[mqtt]\n\npassword_file = open\n"), 0);
    CHECK(strcmp(cfg.mqtt.password_file.value, "opensecret") == 0);
    CHECK(has_warning(cpath, 3, "is readable by group or others (mode 0644): chmod 600 it"));
    CHECK(load_tmp("[tiktok]\nsign_api_key_file = missing\n") != 0);
    CHECK(find_msg(errs.errors, errs.n_errors, cpath, 2, "sign_api_key_file: cannot read"));
    CHECK(load_tmp("[tiktok]\nsession_id_file = empty\n") != 0);
    CHECK(find_msg(errs.errors, errs.n_errors, cpath, 2, "empty' is empty"));
    CHECK(load_tmp("[streamer:xy]\nsession_id_file = two\n") != 0);
    CHECK(find_msg(errs.errors, errs.n_errors, cpath, 2, "holds more than one line"));
    setenv("TIKTOK2MQTT_SESSION_ID", "from-env", 1); /* env wins; the file is not read */
    CHECK_EQ(load_tmp("[tiktok]\nsession_id_file = missing\nsign_flow = session\n"), 0);
    CHECK(strcmp(cfg.tiktok.session_id_file.value, "from-env") == 0);
    CHECK(cfg.tiktok.session_id_file.from_env);
    unsetenv("TIKTOK2MQTT_SESSION_ID");
    setenv("TIKTOK2MQTT_MQTT_PASSWORD", "", 1); /* empty counts as unset */
    CHECK_EQ(load_tmp("[mqtt]\npassword_file = pw\n"), 0);
    CHECK(strcmp(cfg.mqtt.password_file.value, "s3cret") == 0);
    unsetenv("TIKTOK2MQTT_MQTT_PASSWORD");
    CHECK_EQ(load_tmp("[mqtt]\nusername_file = pw\n"), 0);
    CHECK(strcmp(cfg.mqtt.username_file.value, "s3cret") == 0);
    write_file("latin1", "j\xfcrgen\n", 0600); /* paho would refuse it on every attempt */
    CHECK(load_tmp("[mqtt]\n\nusername_file = latin1\n") != 0);
    CHECK(find_msg(errs.errors, errs.n_errors, cpath, 3, "username_file: the user name in '"));
    CHECK(find_msg(errs.errors, errs.n_errors, cpath, 3, "latin1': not valid UTF-8"));
    CHECK_EQ(load_tmp("[mqtt]\nusername = j\xc3\xbcrgen\n"), 0);
}

static void test_load_errors(void)
{
    char cpath[256];
    snprintf(cpath, sizeof cpath, "%s/c.ini", tmpdir);
    reset();
    CHECK(bridge_cfg_load("/nonexistent/t.ini", &cfg, &errs) != 0);
    CHECK(find_msg(errs.errors, errs.n_errors, "/nonexistent/t.ini", 0, "cannot read: No such"));
    /* the defaults are filled in all the same */
    CHECK(cfg.mqtt.uri && strcmp(cfg.mqtt.uri, "tcp://127.0.0.1:1883") == 0);
    CHECK_EQ(errs.n_errors, 1);
    write_file("c.ini", "[mqtt]\nqos = 1\n", 0600);
    {
        FILE *f = fopen(cpath, "ab");
        fwrite("qos\0 = 2\n", 1, 9, f); /* a NUL byte on line 3 */
        fclose(f);
    }
    reset();
    CHECK(bridge_cfg_load(cpath, &cfg, &errs) != 0);
    CHECK(find_msg(errs.errors, errs.n_errors, cpath, 3, "NUL byte"));
    {
        FILE *f = fopen(cpath, "wb"); /* "[m" in UTF-16LE, as Notepad's "Unicode" writes */
        fwrite("\xff\xfe[\0m\0\n\0", 1, 8, f);
        fclose(f);
    }
    reset();
    CHECK(bridge_cfg_load(cpath, &cfg, &errs) != 0);
    CHECK(find_msg(
            errs.errors, errs.n_errors, cpath, 0,
            "the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8"));
    CHECK_EQ(errs.n_errors, 1); /* not one more per line */
    CHECK_EQ(load_tmp("[bridge]\nrecord_dir = rec\n"), 0);
    CHECK(strcmp(cfg.bridge.record_dir, strcat(strcpy(cpath, tmpdir), "/rec")) == 0);
    /* a streamer's own record_dir: relative to the file too; "" (the default) is [bridge]'s */
    CHECK_EQ(load_tmp("[streamer:foo]\nrecord_dir = mine\n[streamer:bar]\n"), 0);
    CHECK(strcmp(cfg.streamers[0].record_dir, strcat(strcpy(cpath, tmpdir), "/mine")) == 0);
    CHECK(strcmp(cfg.streamers[1].record_dir, "") == 0);
}

/* ---- printing ---- */

static char *print_cfg(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    bridge_cfg_print(f, &cfg);
    fclose(f);
    return text;
}

static void test_print(void)
{
    char *text;
    setenv("TIKTOK2MQTT_MQTT_PASSWORD", "hunter2", 1);
    CHECK(loads_clean("[tiktok]\ntt_target_idc = useast2a\nproxy = http://bob:pw9@p:3128\n"
                      "request_headers = X-A:1;X-B: b\n"
                      "[streamer:foo]\nevents = chat\n[streamer:bar]\n"));
    unsetenv("TIKTOK2MQTT_MQTT_PASSWORD");
    text = print_cfg();
    CHECK(text && !strstr(text, "hunter2") && !strstr(text, "useast2a") && !strstr(text, "pw9"));
    CHECK_HAS(text, "password_file =  ; *** from TIKTOK2MQTT_MQTT_PASSWORD\n");
    CHECK_HAS(text, "tt_target_idc = ***\n");
    CHECK_HAS(text, "proxy = http://bob:***@p:3128\n");
    CHECK_HAS(text, "request_headers = X-A:1;X-B: b\n");
    CHECK_HAS(text,
              "[streamer:foo]\ntopic = foo\nenabled = true\nrecord_dir = \nevents = chat\n\n");
    CHECK_HAS(text, "[streamer:bar]\ntopic = bar\nenabled = true\nrecord_dir = \n");
    CHECK(loads_clean(text)); /* the printed settings load again */
    CHECK(strcmp(cfg.streamers[0].tt.events.list, "chat") == 0);
    free(text);
    CHECK(loads_clean("[bridge]\nshard = 1/2\n[streamer:aa]\n[streamer:ab]\n[streamer:ac]\n"));
    text = print_cfg();
    CHECK_HAS(text, "; owned by another shard than 1/2");
    free(text);
    /* a value that begins with ';' ("key =;x": with a blank before it, inih reads a comment) */
    CHECK(loads_clean("[mqtt]\nusername =;x\n"));
    text = print_cfg();
    CHECK_HAS(text, "username =;x\n");
    CHECK(loads_clean(text) && strcmp(cfg.mqtt.username, ";x") == 0);
    free(text);
    /* the heading names the file within one line of at most 198 bytes, whatever its name */
    char name[260];
    memset(name, 'd', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    name[1] = '\n';
    reset();
    CHECK_EQ(bridge_cfg_parse_string("", name, &cfg, &errs), 0);
    text = print_cfg();
    CHECK(text && strchr(text, '\n') - text <= 198);
    CHECK_HAS(text, "; effective configuration of d\\x0addd");
    CHECK_HAS(text, "dd... (secrets are shown as ***)\n");
    free(text);
}

/* ---- warnings ---- */

static void test_warnings(void)
{
    CHECK(loads_clean("[mqtt]\nuri = mqtts://b:8883\ntls_insecure = true\n"));
    CHECK(has_warning("t.ini", 3, "tls_insecure = true: the broker's certificate is not"));
    CHECK(loads_clean("[tiktok]\nrequest_headers = A: 1 ; B: 2\n"));
    CHECK(has_warning("t.ini", 2, "' ;' starts a comment"));
    CHECK(strcmp(cfg.tiktok.request_headers, "A: 1") == 0);
}

/* ---- reload ---- */

static const struct bridge_cfg_streamer_diff *diff_of(const struct bridge_cfg_diff *d,
                                                      const char *handle)
{
    for (size_t i = 0; i < d->n_streamers; i++) {
        if (strcmp(d->streamers[i].handle, handle) == 0) {
            return &d->streamers[i];
        }
    }
    return NULL;
}

static void test_diff(void)
{
    struct bridge_cfg before, after;
    struct bridge_cfg_diff d;
    const struct bridge_cfg_streamer_diff *s;
    CHECK(bridge_cfg_parse_string("[streamer:same]\n[streamer:proxied]\n[streamer:gone]\n"
                                  "[streamer:moved]\n[bridge]\nlog_level = info\n",
                                  "t.ini", &before, NULL) == 0);
    CHECK(bridge_cfg_parse_string("[streamer:same]\n[streamer:proxied]\nproxy = http://p:1\n"
                                  "[streamer:moved]\ntopic = elsewhere\n[streamer:new]\n"
                                  "[bridge]\nlog_level = debug\n",
                                  "t.ini", &after, NULL) == 0);
    bridge_cfg_diff(&before, &after, &d);
    CHECK_EQ(d.n_streamers, 5);
    s = diff_of(&d, "same");
    CHECK(s && s->change == BRIDGE_CFG_UNCHANGED && s->before && s->after && !*s->keys);
    s = diff_of(&d, "proxied");
    CHECK(s && s->change == BRIDGE_CFG_CHANGED && strcmp(s->keys, "proxy") == 0);
    s = diff_of(&d, "moved");
    CHECK(s && s->change == BRIDGE_CFG_CHANGED && strcmp(s->keys, "topic") == 0);
    s = diff_of(&d, "gone");
    CHECK(s && s->change == BRIDGE_CFG_REMOVED && s->after == NULL);
    s = diff_of(&d, "new");
    CHECK(s && s->change == BRIDGE_CFG_ADDED && s->before == NULL);
    CHECK(strcmp(d.global_keys, "bridge.log_level") == 0 && !d.restart_required);
    bridge_cfg_diff_free(&d);
    bridge_cfg_free(&after);
    CHECK(bridge_cfg_parse_string("[streamer:same]\n[tiktok]\nevents = chat\n[mqtt]\nqos = 0\n",
                                  "t.ini", &after, NULL) == 0);
    bridge_cfg_diff(&before, &after, &d);
    CHECK(strcmp(d.global_keys, "mqtt.qos, tiktok.events") == 0 && d.restart_required);
    s = diff_of(&d, "same");
    CHECK(s && s->change == BRIDGE_CFG_CHANGED && strcmp(s->keys, "events") == 0);
    bridge_cfg_diff_free(&d);
    bridge_cfg_free(&after);
    bridge_cfg_free(&before);
}

static void remove_tmp(void)
{
    static const char *const names[] = { "pw", "open", "empty", "two", "c.ini" };
    char path[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

static void run_cases(void)
{
    test_error_cases();
    test_ok_cases();
    test_all_collected();
    test_hostile_handles();
    test_long_lines();
    test_bare_streamers();
    test_overrides();
    test_secrets();
    test_load_errors();
    test_print();
    test_warnings();
    test_diff();
    remove_tmp();
}

/* [tiktok] onto tt_options through the library's table: every key is the library's, every
 * default is the library's but where the table says it differs on purpose. */
static void test_tt_options(void)
{
    struct tt_options lib, o;
    char name[64], a[256], b[256], err[256];
    const char *dflt;
    unsigned flags, n = 0;
    tt_options_init(&lib);
    for (unsigned i = 0; bridge_cfg_tt_key(i, &flags, &dflt, name, sizeof name); i++, n++) {
        CHECK_EQ(tt_options_get(&lib, name, a, sizeof a), TT_OK); /* a key the library knows */
        if (!dflt) {
            continue;
        }
        o = lib;
        CHECK_EQ(tt_options_set(&o, name, dflt, err, sizeof err), TT_OK);
        tt_options_get(&o, name, b, sizeof b);
        if (flags & CFG_OWN_DEFAULT) {
            CHECK(strcmp(a, b) != 0); /* the flag is true */
        } else {
            CHECK(strcmp(a, b) == 0); /* else CFG_OWN_DEFAULT is missing in cfg_table.h */
            if (strcmp(a, b) != 0) {
                fprintf(stderr, "  %s: the bridge's default %s, libtiktok's %s\n", name, b, a);
            }
        }
    }
    CHECK(n > 20);
    /* a config's values arrive in the options */
    CHECK(loads_clean("[tiktok]\nsign_flow = legacy\nrequest_timeout_ms = 1234\n"
                      "enable_extended_gift_info = false\nproxy = http://p:3128\n"
                      "max_frame_bytes = 4096\n"));
    CHECK_EQ(bridge_cfg_tt_options(&cfg.tiktok, &o, err, sizeof err), 0);
    CHECK_EQ(o.sign_flow, TT_SIGN_LEGACY);
    CHECK_EQ(o.request_timeout_ms, 1234u);
    CHECK_EQ(o.enable_extended_gift_info, 0);
    CHECK(o.proxy && !strcmp(o.proxy, "http://p:3128"));
    CHECK_EQ(o.limits.max_frame_bytes, (size_t)4096);
    CHECK(!o.sign_api_key && !o.session_id);
    CHECK(loads_clean(""));
    CHECK_EQ(bridge_cfg_tt_options(&cfg.tiktok, &o, err, sizeof err), 0);
    CHECK_EQ(o.enable_extended_gift_info, 1); /* the bridge's own default */
    CHECK_EQ(o.request_polling_interval_ms, lib.request_polling_interval_ms);
}

int main(void)
{
    unsetenv("TIKTOK2MQTT_MQTT_PASSWORD");
    unsetenv("TIKTOK2MQTT_SIGN_API_KEY");
    unsetenv("TIKTOK2MQTT_SESSION_ID");
    unsetenv("STATE_DIRECTORY");
    test_defaults();
    test_state_directory();
    test_client_id();
    test_example();
    test_fixtures();
    run_cases();
    test_tt_options();
    reset();
    return h_finish();
}
