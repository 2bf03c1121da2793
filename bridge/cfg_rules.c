/** @file cfg_rules.c
 * What a whole configuration must satisfy beyond each value on its own (the cross-field rules,
 * mosquitto's config__check), the operations on whole values (free, copy, compare, print),
 * the printer of the effective settings, and the per-streamer diff a SIGHUP reload acts on.
 *
 * Where a rule reports: at the line of the key that broke it. [tiktok] is judged on its own,
 * because it is also the template for streamers added at run time; a streamer is judged only
 * on the rules whose keys it overrides, so one bad [tiktok] value gives one error, not one per
 * streamer.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cfg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The line a rule over `ids` reports at: the first of them set in the scope. For a streamer
 * (st >= 0) that overrides none of them, -1: [tiktok] was already judged with these values. */
static int rule_line(const struct cfg_ctx *c, int st, const int *ids, size_t n)
{
    const int *seen = st >= 0 ? c->st_seen[st] : c->seen;
    for (size_t i = 0; i < n; i++) {
        if (seen[ids[i]]) {
            return seen[ids[i]];
        }
    }
    return st >= 0 ? -1 : 0;
}

static void check_tls(struct cfg_ctx *c)
{
    static const int ids[] = { K_mqtt_ca_file, K_mqtt_cert_file, K_mqtt_key_file,
                               K_mqtt_tls_insecure };
    const struct bridge_cfg_mqtt *m = &c->cfg->mqtt;
    const char *set[] = { m->ca_file, m->cert_file, m->key_file, m->tls_insecure ? "y" : "" };
    bool tls = cfg_uri_is_tls(m->uri);
    for (size_t i = 0; i < N_OF(ids); i++) {
        if (!tls && *set[i]) {
            cfg_err(c, c->seen[ids[i]],
                    "%s is set but uri %s is not TLS: use ssl://, mqtts:// or "
                    "wss://",
                    cfg_keys[ids[i]].name, m->uri);
        }
    }
    if (tls && m->tls_insecure) {
        cfg_warn(c, c->seen[K_mqtt_tls_insecure],
                 "tls_insecure = true: the broker's certificate is not verified");
    }
    if (!*m->cert_file != !*m->key_file) {
        cfg_err(c, c->seen[*m->cert_file ? K_mqtt_cert_file : K_mqtt_key_file],
                "cert_file and key_file go together: set both or neither");
    }
}

static void check_mqtt(struct cfg_ctx *c)
{
    const struct bridge_cfg_mqtt *m = &c->cfg->mqtt;
    const char *prefix = c->cfg->homeassistant.discovery_prefix;
    check_tls(c);
    if (*m->username && *m->username_file.file) {
        cfg_err(c, c->seen[K_mqtt_username_file], "set username or username_file, not both");
    }
    /* paho refuses to send a user name that is not UTF-8, and would do so on every attempt:
     * a file saved as Latin-1 ("j\xfcrgen") is the configuration's error, not the broker's */
    const char *why = bridge_mqtt_string_check(m->username);
    if (why) {
        cfg_err(c, c->seen[K_mqtt_username], "username: '%s': %s (MQTT sends it as UTF-8)",
                cfg_shown(m->username), why);
    }
    why = m->username_file.value ? bridge_mqtt_string_check(m->username_file.value) : NULL;
    if (why) {
        cfg_err(c, c->seen[K_mqtt_username_file],
                "username_file: the user name in '%s': %s (MQTT sends it as UTF-8)",
                cfg_shown(m->username_file.file), why);
    }
    if (strcmp(prefix, m->base_topic) == 0) {
        int ln = c->seen[K_homeassistant_discovery_prefix];
        cfg_err(c, ln ? ln : c->seen[K_mqtt_base_topic],
                "discovery_prefix and base_topic are both '%s': they must differ", prefix);
    }
}

/* http:// to a host that is not loopback needs allow_insecure (docs/config.md). */
static void check_plain_http(struct cfg_ctx *c, const struct bridge_tiktok *tt, int st)
{
    static const int url_ids[] = { K_tiktok_sign_api_url, K_tiktok_web_base,
                                   K_tiktok_webcast_base };
    const char *urls[] = { tt->sign_api_url, tt->web_base, tt->webcast_base };
    for (size_t i = 0; i < N_OF(urls); i++) {
        int ids[] = { url_ids[i], K_tiktok_allow_insecure };
        int ln = rule_line(c, st, ids, N_OF(ids));
        if (ln >= 0 && !tt->allow_insecure && cfg_url_is_plain_remote(urls[i])) {
            cfg_err(c, ln,
                    "%s %s is plain HTTP to a host that is not loopback: use https:// or "
                    "set allow_insecure = true",
                    cfg_keys[url_ids[i]].name, urls[i]);
        }
    }
}

/* socks5:// and https:// proxies work for libcurl's HTTP, but Debian's libwebsockets 4.1.6
 * tunnels only through an http:// CONNECT proxy (no LWS_WITH_SOCKS5), so they are refused
 * wherever the WebSocket is used. */
static void check_proxy(struct cfg_ctx *c, const struct bridge_tiktok *tt, int st)
{
    static const int ids[] = { K_tiktok_proxy, K_tiktok_enable_websocket_upgrade };
    char scheme[16];
    int ln = rule_line(c, st, ids, N_OF(ids));
    cfg_proxy_scheme(tt->proxy, scheme, sizeof scheme);
    if (ln >= 0 && *scheme && strcmp(scheme, "http") != 0 && tt->enable_websocket_upgrade) {
        cfg_err(c, ln,
                "proxy: a %s:// proxy cannot carry the WebSocket (Debian's libwebsockets 4.1.6 "
                "tunnels only through http:// proxies): use http://host:port, or set "
                "enable_websocket_upgrade = false to poll over HTTP only",
                scheme);
    }
}

/* push_base: ws:// or wss:// host[:port], nothing after it (the path is fixed); ws:// to a
 * host that is not loopback needs allow_insecure, as http:// does. */
static void check_push_base(struct cfg_ctx *c, const struct bridge_tiktok *tt, int st)
{
    static const int ids[] = { K_tiktok_push_base, K_tiktok_allow_insecure };
    const char *v = tt->push_base;
    int ln = rule_line(c, st, ids, N_OF(ids));
    size_t skip = !strncmp(v, "wss://", 6) ? 6 : !strncmp(v, "ws://", 5) ? 5 : 0;
    if (ln < 0) {
        return;
    }
    if (!skip || !v[skip] || strcspn(v + skip, "/?#@ ") != strlen(v + skip)) {
        cfg_err(c, ln, "push_base '%s' is not wss://host[:port] (no path, no trailing '/')", v);
        return;
    }
    char http[512];
    snprintf(http, sizeof http, "http://%s", v + skip);
    if (skip == 5 && !tt->allow_insecure && cfg_url_is_plain_remote(http)) {
        cfg_err(c, ln,
                "push_base %s is a plain WebSocket to a host that is not loopback: use wss:// "
                "or set allow_insecure = true",
                v);
    }
}

/* resolve: the library's own parser judges it, here at the key's line rather than when the
 * streamer starts. */
static void check_resolve(struct cfg_ctx *c, const struct bridge_tiktok *tt, int st)
{
    static const int ids[] = { K_tiktok_resolve };
    struct tt_options o;
    char err[256];
    int ln = rule_line(c, st, ids, N_OF(ids));
    tt_options_init(&o);
    if (ln >= 0 && tt->resolve && tt_options_set(&o, "resolve", tt->resolve, err, sizeof err)) {
        cfg_err(c, ln, "%s", err);
    }
}

static void check_tiktok(struct cfg_ctx *c, const struct bridge_tiktok *tt, int st)
{
    static const int backoff[] = { K_tiktok_reconnect_min_s, K_tiktok_reconnect_max_s };
    static const int session[] = { K_tiktok_sign_flow, K_tiktok_session_id_file };
    int ln = rule_line(c, st, backoff, N_OF(backoff));
    if (ln >= 0 && tt->reconnect_min_s > tt->reconnect_max_s) {
        cfg_err(c, ln, "reconnect_min_s (%lld) is above reconnect_max_s (%lld)",
                tt->reconnect_min_s, tt->reconnect_max_s);
    }
    ln = rule_line(c, st, session, N_OF(session));
    if (ln >= 0 && tt->sign_flow == BRIDGE_SIGN_SESSION && !tt->session_id_file.value) {
        cfg_err(c, ln,
                "sign_flow = session needs a session id: set session_id_file or "
                "TIKTOK2MQTT_SESSION_ID");
    }
    check_proxy(c, tt, st);
    check_plain_http(c, tt, st);
    check_push_base(c, tt, st);
    check_resolve(c, tt, st);
}

/* Two streamers on one topic would mix their events; "bridge" is the bridge's own level. */
static void check_topics(struct cfg_ctx *c)
{
    const struct bridge_cfg *cfg = c->cfg;
    for (size_t i = 0; i < cfg->n_streamers; i++) {
        const struct bridge_streamer *st = &cfg->streamers[i];
        int ln = c->st_seen[i][K_streamer_topic] ? c->st_seen[i][K_streamer_topic] : st->line;
        if (bridge_topic_reserved(st->topic)) {
            cfg_err(c, ln,
                    "topic '%s' falls on the bridge's own (%s/bridge/...): give "
                    "[streamer:%s] another topic",
                    st->topic, cfg->mqtt.base_topic, st->handle);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->streamers[j].topic, st->topic) == 0) {
                cfg_err(c, ln, "topic '%s' is already used by [streamer:%s] (line %d)", st->topic,
                        cfg->streamers[j].handle, cfg->streamers[j].line);
                break;
            }
        }
    }
}

/* `metrics` is the old name of `http`: one address, so not both. */
static void check_http(struct cfg_ctx *c)
{
    const struct bridge_cfg_bridge *b = &c->cfg->bridge;
    if (*b->http && *b->metrics) {
        int a = c->seen[K_bridge_http], m = c->seen[K_bridge_metrics];
        cfg_err(c, a > m ? a : m,
                "set http or metrics (its old name), not both: one server serves /metrics");
    }
}

/* <base>/bridge/request/+ and response/ are shared by every instance: no instance there */
static void check_instance(struct cfg_ctx *c)
{
    const char *inst = c->cfg->bridge.instance;
    if (!strcmp(inst, "request") || !strcmp(inst, "response")) {
        cfg_err(c, c->seen[K_bridge_instance],
                "[bridge] instance '%s' falls on the API's topics (%s/bridge/%s/...): choose "
                "another name",
                inst, c->cfg->mqtt.base_topic, inst);
    }
}

void cfg_check(struct cfg_ctx *c)
{
    check_instance(c);
    check_mqtt(c);
    check_http(c);
    check_tiktok(c, &c->cfg->tiktok, -1);
    for (size_t i = 0; i < c->cfg->n_streamers; i++) {
        check_tiktok(c, &c->cfg->streamers[i].tt, (int)i);
    }
    check_topics(c);
}

/* ---- whole values: free, copy, compare, print ---- */

void cfg_release(const struct cfg_key *k, void *f)
{
    switch (cfg_storage_of(k->type)) {
    case ST_STR:
        free(*(char **)f);
        *(char **)f = NULL;
        break;
    case ST_SECRET:
        cfg_secret_release(f);
        break;
    case ST_EVENTS:
        free(((struct bridge_events *)f)->list);
        ((struct bridge_events *)f)->list = NULL;
        break;
    default:
        break;
    }
}

static void copy_value(const struct cfg_key *k, void *dst, const void *src)
{
    static const size_t size[] = { [ST_LL] = sizeof(long long),
                                   [ST_BOOL] = sizeof(bool),
                                   [ST_INT] = sizeof(int),
                                   [ST_SHARD] = sizeof(struct bridge_shard) };
    const struct bridge_secret *s = src;
    struct bridge_secret *d = dst;
    switch (cfg_storage_of(k->type)) {
    case ST_STR:
        *(char **)dst = xstrdup(*(char *const *)src);
        break;
    case ST_SECRET:
        d->file = xstrdup(s->file);
        d->value = s->value ? xstrdup(s->value) : NULL;
        d->from_env = s->from_env;
        break;
    case ST_EVENTS:
        ((struct bridge_events *)dst)->mask = ((const struct bridge_events *)src)->mask;
        ((struct bridge_events *)dst)->list = xstrdup(((const struct bridge_events *)src)->list);
        break;
    default:
        memcpy(dst, src, size[cfg_storage_of(k->type)]);
    }
}

void cfg_tiktok_copy(struct bridge_tiktok *dst, const struct bridge_tiktok *src)
{
    for (int i = 0; i < K_COUNT; i++) {
        if (strcmp(cfg_keys[i].section, "tiktok") == 0) {
            copy_value(&cfg_keys[i], (char *)dst + cfg_keys[i].offset,
                       (const char *)src + cfg_keys[i].offset);
        }
    }
}

void cfg_streamer_release(struct bridge_streamer *st)
{
    for (int i = 0; i < K_COUNT; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (strcmp(k->section, "tiktok") == 0) {
            cfg_release(k, (char *)&st->tt + k->offset);
        } else if (strcmp(k->section, "streamer") == 0) {
            cfg_release(k, (char *)st + k->offset);
        }
    }
}

bool cfg_equal(const struct cfg_key *k, const void *a, const void *b)
{
    const struct bridge_secret *sa = a, *sb = b;
    switch (cfg_storage_of(k->type)) {
    case ST_STR:
        return strcmp(*(char *const *)a, *(char *const *)b) == 0;
    case ST_LL:
        return *(const long long *)a == *(const long long *)b;
    case ST_BOOL:
        return *(const bool *)a == *(const bool *)b;
    case ST_INT:
        return *(const int *)a == *(const int *)b;
    case ST_SECRET:
        return strcmp(sa->file, sb->file) == 0 && !sa->value == !sb->value &&
               (!sa->value || strcmp(sa->value, sb->value) == 0);
    case ST_SHARD:
        return memcmp(a, b, sizeof(struct bridge_shard)) == 0;
    case ST_EVENTS:
        return ((const struct bridge_events *)a)->mask == ((const struct bridge_events *)b)->mask;
    }
    return false;
}

static void print_enum(FILE *out, const char *choices, int i)
{
    const char *p = choices;
    for (; i > 0 && strchr(p, '|'); i--) {
        p = strchr(p, '|') + 1;
    }
    fprintf(out, "%.*s", (int)strcspn(p, "|"), p);
}

/* http://user:***@host:port: the user stays (it says which account), the password goes. */
static void print_proxy(FILE *out, const char *v)
{
    const char *auth = strstr(v, "://"), *at = strrchr(v, '@'), *colon;
    colon = auth && at ? memchr(auth + 3, ':', (size_t)(at - auth - 3)) : NULL;
    if (!colon) {
        fputs(v, out);
        return;
    }
    fprintf(out, "%.*s:***%s", (int)(colon - v), v, at);
}

void cfg_print_value(FILE *out, const struct cfg_key *k, const void *f)
{
    const struct bridge_secret *s = f;
    switch (cfg_storage_of(k->type)) {
    case ST_STR:
        if (k->type == T_PROXY) {
            print_proxy(out, *(char *const *)f);
        } else {
            fputs((k->flags & CFG_SECRET) && **(char *const *)f ? "***" : *(char *const *)f, out);
        }
        break;
    case ST_LL:
        fprintf(out, "%lld", *(const long long *)f);
        break;
    case ST_BOOL:
        fputs(*(const bool *)f ? "true" : "false", out);
        break;
    case ST_INT:
        print_enum(out, k->aux, *(const int *)f);
        break;
    case ST_SECRET:
        fprintf(out, "%s%s%s", s->file, s->value ? " ; *** from " : "",
                s->value ? (s->from_env ? k->aux : "the file") : "");
        break;
    case ST_SHARD:
        fprintf(out, "%u/%u", ((const struct bridge_shard *)f)->i,
                ((const struct bridge_shard *)f)->n);
        break;
    case ST_EVENTS:
        fputs(((const struct bridge_events *)f)->list, out);
        break;
    }
}

/* ---- printing ---- */

/* The keys of `section` at `base`; with `against`, only those that differ from it. */
static void print_keys(FILE *out, const char *section, const void *base, const void *against)
{
    for (int i = 0; i < K_COUNT; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        const char *f = (const char *)base + k->offset;
        if (strcmp(k->section, section) != 0 ||
            (against && cfg_equal(k, f, (const char *)against + k->offset))) {
            continue;
        }
        /* inih reads " ;" as a comment's start: a value that begins with ';' (which the file
         * could only have given as "key =;...") must follow the '=' at once to load again */
        bool semi = cfg_storage_of(k->type) == ST_STR && **(char *const *)f == ';';
        fprintf(out, semi ? "%s =" : "%s = ", k->name);
        cfg_print_value(out, k, f);
        fputc('\n', out);
    }
}

/* The file's name in the heading comment: a line of at most 198 bytes like any other (a long
 * path used to make the output one that does not load), without a line end inside. */
static void print_heading(FILE *out, const char *path)
{
    size_t n = 0;
    fputs("; effective configuration of ", out);
    for (; *path && n < 120; path++) {
        unsigned char ch = (unsigned char)*path;
        if (ch < 0x20 || ch == 0x7f) {
            n += (size_t)fprintf(out, "\\x%02x", ch);
        } else {
            fputc(ch, out);
            n++;
        }
    }
    fprintf(out, "%s (secrets are shown as ***)\n", *path ? "..." : "");
}

void bridge_cfg_print(FILE *out, const struct bridge_cfg *cfg)
{
    print_heading(out, cfg->path ? cfg->path : "");
    fputs("\n[bridge]\n", out);
    print_keys(out, "bridge", &cfg->bridge, NULL);
    fputs("\n[mqtt]\n", out);
    print_keys(out, "mqtt", &cfg->mqtt, NULL);
    fputs("\n[homeassistant]\n", out);
    print_keys(out, "homeassistant", &cfg->homeassistant, NULL);
    fputs("\n[tiktok]\n", out);
    print_keys(out, "tiktok", &cfg->tiktok, NULL);
    for (size_t i = 0; i < cfg->n_streamers; i++) {
        const struct bridge_streamer *st = &cfg->streamers[i];
        fprintf(out, "\n[streamer:%s]\n", st->handle);
        if (!st->owned) {
            fprintf(out, "; owned by another shard than %u/%u\n", cfg->bridge.shard.i,
                    cfg->bridge.shard.n);
        }
        print_keys(out, "streamer", st, NULL);
        print_keys(out, "tiktok", &st->tt, &cfg->tiktok);
    }
}

/* ---- the reload diff ---- */

static void list_add(char **list, const char *prefix, const char *name)
{
    char *s = xasprintf("%s%s%s%s", *list ? *list : "", *list ? ", " : "", prefix, name);
    free(*list);
    *list = s;
}

/* Adds the keys of `section` that differ to `list`; true when one is not reloadable. */
static bool diff_keys(char **list, const char *section, const char *prefix, const void *a,
                      const void *b)
{
    bool restart = false;
    for (int i = 0; i < K_COUNT; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (strcmp(k->section, section) == 0 &&
            !cfg_equal(k, (const char *)a + k->offset, (const char *)b + k->offset)) {
            list_add(list, prefix, k->name);
            restart |= !(k->flags & CFG_RELOADABLE);
        }
    }
    return restart;
}

static const struct bridge_streamer *find(const struct bridge_cfg *cfg, const char *handle)
{
    for (size_t i = 0; i < cfg->n_streamers; i++) {
        if (strcmp(cfg->streamers[i].handle, handle) == 0) {
            return &cfg->streamers[i];
        }
    }
    return NULL;
}

static void diff_streamer(struct bridge_cfg_streamer_diff *d, const struct bridge_streamer *a,
                          const struct bridge_streamer *b)
{
    char *keys = NULL;
    d->handle = b ? b->handle : a->handle;
    d->before = a;
    d->after = b;
    if (a && b) {
        diff_keys(&keys, "streamer", "", a, b);
        diff_keys(&keys, "tiktok", "", &a->tt, &b->tt);
        if (a->owned != b->owned) {
            list_add(&keys, "", "owned");
        }
    }
    d->change = !a     ? BRIDGE_CFG_ADDED
                : !b   ? BRIDGE_CFG_REMOVED
                : keys ? BRIDGE_CFG_CHANGED
                       : BRIDGE_CFG_UNCHANGED;
    d->keys = keys ? keys : xstrdup("");
}

void bridge_cfg_diff(const struct bridge_cfg *before, const struct bridge_cfg *after,
                     struct bridge_cfg_diff *out)
{
    static const char *const sections[] = { "bridge", "mqtt", "homeassistant", "tiktok" };
    const void *a[] = { &before->bridge, &before->mqtt, &before->homeassistant, &before->tiktok };
    const void *b[] = { &after->bridge, &after->mqtt, &after->homeassistant, &after->tiktok };
    char *global = NULL, prefix[24];
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < N_OF(sections); i++) {
        snprintf(prefix, sizeof prefix, "%s.", sections[i]);
        out->restart_required |= diff_keys(&global, sections[i], prefix, a[i], b[i]);
    }
    out->global_keys = global ? global : xstrdup("");
    out->streamers = xcalloc(before->n_streamers + after->n_streamers, sizeof *out->streamers);
    for (size_t i = 0; i < after->n_streamers; i++) {
        const struct bridge_streamer *st = &after->streamers[i];
        diff_streamer(&out->streamers[out->n_streamers++], find(before, st->handle), st);
    }
    for (size_t i = 0; i < before->n_streamers; i++) {
        const struct bridge_streamer *st = &before->streamers[i];
        if (!find(after, st->handle)) {
            diff_streamer(&out->streamers[out->n_streamers++], st, NULL);
        }
    }
}

static size_t field_size(const struct cfg_key *k)
{
    switch (cfg_storage_of(k->type)) {
    case ST_STR:
        return sizeof(char *);
    case ST_LL:
        return sizeof(long long);
    case ST_BOOL:
        return sizeof(bool);
    case ST_INT:
        return sizeof(int);
    case ST_SECRET:
        return sizeof(struct bridge_secret);
    case ST_SHARD:
        return sizeof(struct bridge_shard);
    case ST_EVENTS:
        return sizeof(struct bridge_events);
    }
    return 0;
}

void bridge_cfg_keep_running(struct bridge_cfg *running, struct bridge_cfg *next)
{
    static const char *const sections[] = { "bridge", "mqtt", "homeassistant", "tiktok" };
    char *a[] = { (char *)&running->bridge, (char *)&running->mqtt, (char *)&running->homeassistant,
                  (char *)&running->tiktok };
    char *b[] = { (char *)&next->bridge, (char *)&next->mqtt, (char *)&next->homeassistant,
                  (char *)&next->tiktok };
    union {
        char *s;
        long long ll;
        struct bridge_secret secret;
        struct bridge_shard shard;
        struct bridge_events events;
    } tmp;
    for (size_t i = 0; i < N_OF(sections); i++) {
        for (int j = 0; j < K_COUNT; j++) {
            const struct cfg_key *k = &cfg_keys[j];
            size_t n = field_size(k);
            if (strcmp(k->section, sections[i]) || (k->flags & CFG_RELOADABLE) || n > sizeof tmp ||
                cfg_equal(k, a[i] + k->offset, b[i] + k->offset)) {
                continue;
            }
            /* swapped, not copied: each value stays owned by one configuration, freed with it */
            memcpy(&tmp, a[i] + k->offset, n);
            memcpy(a[i] + k->offset, b[i] + k->offset, n);
            memcpy(b[i] + k->offset, &tmp, n);
        }
    }
}

void bridge_cfg_diff_free(struct bridge_cfg_diff *diff)
{
    if (!diff) {
        return;
    }
    for (size_t i = 0; i < diff->n_streamers; i++) {
        free(diff->streamers[i].keys);
    }
    free(diff->streamers);
    free(diff->global_keys);
    memset(diff, 0, sizeof *diff);
}
