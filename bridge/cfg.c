/** @file cfg.c
 * The configuration loader: cfg_table.h drives parsing, defaults, printing and the reload diff.
 * This file reads the file (and holds the loader's memory and text helpers); cfg_value.c parses
 * single values; cfg_rules.c holds the cross-field rules, printing and the diff (cfg_int.h).
 *
 * How a file is read, and why it is not a plain ini_parse(). Debian's inih 55 cuts lines near
 * 200 bytes without a word and parses the rest as further lines, gives its handler no line
 * number (INI_HANDLER_LINENO is 0 in its build), never calls the handler for a section without
 * keys (so a bare [streamer:NAME] would vanish), and reports only the first error line. So:
 *  1. we split the text into lines ourselves, refuse every line of 199 bytes or more, and
 *     find section headers ourselves;
 *  2. each key line is handed to ini_parse_string() on its own, so the key/value split, the
 *     trimming and the inline ' ;' comments are exactly inih's, and we know the line number;
 *  3. the handler copies the name and value (inih's are valid only during the call).
 * A consequence: there are no continuation lines; an indented line is a line like any other.
 *
 * Two passes over the lines: the first reads headers and the global sections (including
 * [tiktok], wherever it is in the file), the second the streamer sections, each starting from
 * a copy of the finished [tiktok]. Then computed defaults, then the cross-field rules.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cfg_int.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LINE_MAX_BYTES 198        /* 198 bytes + '\n' fill inih's 200-byte buffer with the NUL */
#define FILE_MAX_BYTES (4u << 20) /* a config past 4 MiB is a mistake, not a config */
#define MAX_STREAMERS  10000      /* keeps the duplicate checks below (quadratic) instant */
#define MAX_DIAGS      1000       /* past this, only counted */

#define KEY_ROW(sec, key, type, field, dflt, min, max, flags, aux, doc) \
    { #sec, #key, T_##type, offsetof(CFG_STRUCT_##sec, field), dflt, min, max, flags, aux },
const struct cfg_key cfg_keys[] = { CFG_TABLE(KEY_ROW) };

enum { SEC_NONE = -2, SEC_BAD = -1, SEC_BRIDGE = 0, SEC_MQTT, SEC_HA, SEC_TIKTOK, SEC_STREAMER };
static const char *const sect_names[] = { "bridge", "mqtt", "homeassistant", "tiktok" };

/* ---- memory and text ---- */

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\v' || ch == '\f' || ch == '\r' || ch == '\n';
}

char *cfg_skip_ws(char *s)
{
    while (is_ws(*s)) {
        s++;
    }
    return s;
}

char *cfg_trim(char *s)
{
    size_t n;
    s = cfg_skip_ws(s);
    n = strlen(s);
    while (n && is_ws(s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

const char *cfg_shown(const char *s)
{
    static _Thread_local char bufs[4][256];
    static _Thread_local unsigned next;
    char *b = bufs[next++ % 4];
    size_t i = 0, o = 0;
    for (; s[i] && i < 60; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f) {
            b[o++] = (char)ch;
        } else {
            o += (size_t)snprintf(b + o, 5, "\\x%02x", ch);
        }
    }
    memcpy(b + o, s[i] ? "..." : "", s[i] ? 4 : 1);
    return b;
}

/* ---- diagnostics ---- */

static void diag_add(struct cfg_ctx *c, struct cfg_diags *d, int line, const char *fmt, va_list ap)
        __attribute__((format(printf, 4, 0)));

static void diag_add(struct cfg_ctx *c, struct cfg_diags *d, int line, const char *fmt, va_list ap)
{
    char body[1024];
    vsnprintf(body, sizeof body, fmt, ap);
    if (d->n == MAX_DIAGS) {
        d->dropped++;
        return;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 16;
        d->v = xrealloc(d->v, d->cap * sizeof *d->v);
    }
    d->v[d->n].line = line;
    d->v[d->n].seq = c->seq++;
    d->v[d->n++].text = line > 0 ? xasprintf("%s:%d: %s", c->name, line, body)
                                 : xasprintf("%s: %s", c->name, body);
}

void cfg_err(struct cfg_ctx *c, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_add(c, &c->err, line, fmt, ap);
    va_end(ap);
}

void cfg_warn(struct cfg_ctx *c, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_add(c, &c->warn, line, fmt, ap);
    va_end(ap);
}

static int diag_cmp(const void *a, const void *b)
{
    const struct cfg_diag *x = a, *y = b;
    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hand the collected messages over sorted by line, so the reader goes down the file once. */
static void diags_move(struct cfg_ctx *c, struct cfg_diags *d, char ***out, size_t *n)
{
    if (d->n) {
        qsort(d->v, d->n, sizeof *d->v, diag_cmp);
    }
    *out = xmalloc((d->n + 1) * sizeof **out);
    for (size_t i = 0; i < d->n; i++) {
        (*out)[i] = d->v[i].text;
    }
    *n = d->n;
    if (d->dropped) {
        (*out)[(*n)++] = xasprintf("%s: %zu more not shown", c->name, d->dropped);
    }
    free(d->v);
    memset(d, 0, sizeof *d);
}

/* ---- sections ---- */

static const char *sect_label(const struct cfg_ctx *c, int sect, char *buf, size_t n)
{
    if (sect >= SEC_STREAMER) {
        snprintf(buf, n, "streamer:%s", c->cfg->streamers[sect - SEC_STREAMER].handle);
        return buf;
    }
    return sect_names[sect];
}

static int *seen_of(struct cfg_ctx *c, int sect)
{
    return sect >= SEC_STREAMER ? c->st_seen[sect - SEC_STREAMER] : c->seen;
}

/* Where the key `k` of section `sect` lives. */
static void *field_of(struct cfg_ctx *c, int sect, const struct cfg_key *k)
{
    static const size_t global_off[] = { offsetof(struct bridge_cfg, bridge),
                                         offsetof(struct bridge_cfg, mqtt),
                                         offsetof(struct bridge_cfg, homeassistant),
                                         offsetof(struct bridge_cfg, tiktok) };
    char *base = (char *)c->cfg + (sect < SEC_STREAMER ? global_off[sect] : 0);
    if (sect >= SEC_STREAMER) {
        struct bridge_streamer *st = &c->cfg->streamers[sect - SEC_STREAMER];
        base = strcmp(k->section, "tiktok") == 0 ? (char *)&st->tt : (char *)st;
    }
    return base + k->offset;
}

static bool key_in_sect(const struct cfg_key *k, int sect)
{
    if (sect >= SEC_STREAMER) {
        return strcmp(k->section, "streamer") == 0 || (k->flags & CFG_STREAMER);
    }
    return strcmp(k->section, sect_names[sect]) == 0;
}

static int find_key(int sect, const char *name, bool nocase)
{
    for (int i = 0; i < K_COUNT; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (key_in_sect(k, sect) &&
            (nocase ? !strcasecmp(k->name, name) : !strcmp(k->name, name))) {
            return i;
        }
    }
    return -1;
}

/* "unknown key", with a hint when the key is merely misspelt in case or in another section. */
static void unknown_key(struct cfg_ctx *c, int sect, const char *name)
{
    char lb[64], hint[96] = "";
    int i = find_key(sect, name, true);
    if (i >= 0) {
        snprintf(hint, sizeof hint, " (did you mean '%s'?)", cfg_keys[i].name);
    }
    for (int s = SEC_BRIDGE; s <= SEC_STREAMER && !hint[0]; s++) {
        if (s != sect && find_key(s, name, false) >= 0) {
            snprintf(hint, sizeof hint, " (it belongs in [%s])",
                     s == SEC_STREAMER ? "streamer:HANDLE" : sect_names[s]);
        }
    }
    cfg_err(c, c->line, "unknown key '%s' in [%s]%s", cfg_shown(name),
            sect_label(c, sect, lb, sizeof lb), hint);
}

/* Apply `name = value` in section `sect`; the key's index, or -1. */
static int apply(struct cfg_ctx *c, int sect, const char *name, const char *value)
{
    char lb[64];
    int id = find_key(sect, name, false), *seen = seen_of(c, sect);
    if (!*name) {
        cfg_err(c, c->line, "missing key name before '='");
        return -1;
    }
    if (id < 0) {
        unknown_key(c, sect, name);
        return -1;
    }
    if (seen[id]) {
        cfg_err(c, c->line, "duplicate key '%s' in [%s] (first at line %d)", name,
                sect_label(c, sect, lb, sizeof lb), seen[id]);
        return -1;
    }
    seen[id] = c->line;
    if (cfg_set(c, &cfg_keys[id], field_of(c, sect, &cfg_keys[id]), value)) {
        cfg_err(c, c->line, "%s: %s", name, c->msg);
    }
    return id;
}

/* ---- streamers ---- */

static int add_streamer(struct cfg_ctx *c, const char *handle)
{
    struct bridge_cfg *cfg = c->cfg;
    struct bridge_streamer *st;
    cfg->streamers = xrealloc(cfg->streamers, (cfg->n_streamers + 1) * sizeof *st);
    c->st_seen = xrealloc(c->st_seen, (cfg->n_streamers + 1) * sizeof *c->st_seen);
    memset(c->st_seen[cfg->n_streamers], 0, sizeof *c->st_seen);
    st = &cfg->streamers[cfg->n_streamers++];
    memset(st, 0, sizeof *st);
    snprintf(st->handle, sizeof st->handle, "%s", handle);
    st->line = c->line;
    for (int i = 0; i < K_COUNT; i++) {
        if (strcmp(cfg_keys[i].section, "streamer") == 0) {
            cfg_set_default(c, &cfg_keys[i], (char *)st + cfg_keys[i].offset);
        }
    }
    return SEC_STREAMER + (int)cfg->n_streamers - 1;
}

static int streamer_header(struct cfg_ctx *c, const char *raw)
{
    char h[BRIDGE_HANDLE_SIZE];
    const char *why;
    if (bridge_handle_normalize(raw, h, sizeof h, &why)) {
        cfg_err(c, c->line, "invalid handle '%s' in [streamer:%s]: %s", cfg_shown(raw),
                cfg_shown(raw), why);
        return SEC_BAD;
    }
    for (size_t i = 0; i < c->cfg->n_streamers; i++) {
        if (strcmp(c->cfg->streamers[i].handle, h) == 0) {
            cfg_err(c, c->line, "[streamer:%s] appears twice (first at line %d)", h,
                    c->cfg->streamers[i].line);
            return SEC_STREAMER + (int)i;
        }
    }
    if (c->cfg->n_streamers == MAX_STREAMERS) {
        cfg_err(c, c->line, "too many streamers (at most %d in one file)", MAX_STREAMERS);
        return SEC_BAD;
    }
    return add_streamer(c, h);
}

/* A "[...]" line: the section it opens, or SEC_BAD (its keys are then skipped quietly). */
static int section_header(struct cfg_ctx *c, char *s)
{
    char *rb = strchr(s, ']'), *name;
    if (!rb) {
        cfg_err(c, c->line, "section header without ']'");
        return SEC_BAD;
    }
    if (*cfg_skip_ws(rb + 1) && !strchr(";#", *cfg_skip_ws(rb + 1))) {
        cfg_err(c, c->line, "text after the section header's ']'");
        return SEC_BAD;
    }
    *rb = '\0';
    name = cfg_trim(s + 1);
    for (int i = SEC_BRIDGE; i < SEC_STREAMER; i++) {
        if (strcmp(name, sect_names[i]) == 0) {
            if (c->sect_line[i]) {
                cfg_err(c, c->line, "[%s] appears twice (first at line %d)", name, c->sect_line[i]);
            }
            c->sect_line[i] = c->sect_line[i] ? c->sect_line[i] : c->line;
            return i;
        }
    }
    if (strncmp(name, "streamer:", 9) == 0) {
        return streamer_header(c, cfg_trim(name + 9));
    }
    /* names are case-sensitive, as keys are; a case-only miss gets a hint, as a key does */
    for (int i = SEC_BRIDGE; i < SEC_STREAMER; i++) {
        if (strcasecmp(name, sect_names[i]) == 0) {
            cfg_err(c, c->line, "unknown section [%s] (did you mean [%s]?)", cfg_shown(name),
                    sect_names[i]);
            return SEC_BAD;
        }
    }
    if (strncasecmp(name, "streamer:", 9) == 0) {
        cfg_err(c, c->line, "unknown section [%s] (did you mean [streamer:%s]?)", cfg_shown(name),
                cfg_shown(name + 9));
        return SEC_BAD;
    }
    cfg_err(c, c->line,
            "unknown section [%s] (sections: [bridge], [mqtt], [tiktok], [homeassistant], "
            "[streamer:HANDLE])",
            cfg_shown(name));
    return SEC_BAD;
}

/* ---- lines ---- */

struct kv {
    char *name, *value;
};

static int on_kv(void *user, const char *section, const char *name, const char *value)
{
    struct kv *kv = user;
    (void)section;
    if (!kv->name) {
        kv->name = xstrdup(name);
        kv->value = xstrdup(value ? value : "");
    }
    return 1;
}

/* A key line: inih splits it, we apply it. Header values are warned about inline comments:
 * "A: 1 ; B: 2" silently loses B, since inih reads " ;" as the start of a comment. */
static void key_line(struct cfg_ctx *c, int sect, const char *s)
{
    struct kv kv = { NULL, NULL };
    int id;
    if (sect == SEC_BAD) {
        return;
    }
    if (sect == SEC_NONE) {
        cfg_err(c, c->line,
                "key outside any section (put it under [bridge], [mqtt], [tiktok], "
                "[homeassistant] or [streamer:HANDLE])");
        return;
    }
    ini_parse_string(s, on_kv, &kv);
    if (!kv.name) {
        cfg_err(c, c->line, "expected 'key = value'");
        return;
    }
    id = apply(c, sect, kv.name, kv.value);
    if (id >= 0 && cfg_keys[id].type == T_HEADERS && (strstr(s, " ;") || strstr(s, "\t;"))) {
        cfg_warn(c, c->line,
                 "%s: ' ;' starts a comment, the rest of the line is ignored: "
                 "separate headers with ';' right after the value",
                 kv.name);
    }
    free(kv.name);
    free(kv.value);
}

/* Text after the BOM and leading blanks; NULL for a line refused as a whole. */
static char *line_start(struct cfg_ctx *c, size_t i)
{
    struct cfg_line *l = &c->lines[i];
    char *s = l->s;
    if (l->bad) {
        return NULL;
    }
    if (i == 0 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb &&
        (unsigned char)s[2] == 0xbf) {
        s += 3;
    }
    return cfg_skip_ws(s);
}

static void split_lines(struct cfg_ctx *c, const char *text, size_t len)
{
    size_t n = 0;
    char *p;
    c->text = xmalloc(len + 1);
    memcpy(c->text, text, len);
    c->text[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        n += text[i] == '\n';
    }
    n += len > 0 && text[len - 1] != '\n';
    c->lines = xcalloc(n ? n : 1, sizeof *c->lines);
    p = c->text;
    for (size_t i = 0; i < n; i++) {
        char *e = memchr(p, '\n', len - (size_t)(p - c->text));
        struct cfg_line *l = &c->lines[i];
        e = e ? e : c->text + len;
        *e = '\0';
        l->s = p;
        l->len = (size_t)(e - p);
        if (l->len && p[l->len - 1] == '\r') {
            p[--l->len] = '\0';
        }
        p = e + 1;
    }
    c->n_lines = n;
}

/* Lines refused whole, before anything reads them: too long for inih, or with a NUL byte. */
static void check_line(struct cfg_ctx *c, struct cfg_line *l)
{
    if (l->len > LINE_MAX_BYTES) {
        cfg_err(c, c->line,
                "line too long (%zu bytes, at most %d): Debian's inih would cut it and read the "
                "rest as another line; put long values (cookies, keys) in a *_file",
                l->len, LINE_MAX_BYTES);
        l->bad = true;
    } else if (strlen(l->s) != l->len) {
        cfg_err(c, c->line, "NUL byte in the line");
        l->bad = true;
    }
}

static void pass_globals(struct cfg_ctx *c)
{
    int cur = SEC_NONE;
    for (size_t i = 0; i < c->n_lines; i++) {
        char *s;
        c->line = (int)i + 1;
        check_line(c, &c->lines[i]);
        s = line_start(c, i);
        if (!s || !*s || *s == ';' || *s == '#') {
            continue;
        }
        if (*s == '[') {
            cur = section_header(c, s);
            continue;
        }
        c->lines[i].is_key = true;
        c->lines[i].sect = cur;
        if (cur < SEC_STREAMER) {
            key_line(c, cur, s);
        }
    }
}

static void pass_streamers(struct cfg_ctx *c)
{
    for (size_t i = 0; i < c->cfg->n_streamers; i++) {
        cfg_tiktok_copy(&c->cfg->streamers[i].tt, &c->cfg->tiktok);
    }
    for (size_t i = 0; i < c->n_lines; i++) {
        if (c->lines[i].is_key && c->lines[i].sect >= SEC_STREAMER) {
            c->line = (int)i + 1;
            key_line(c, c->lines[i].sect, line_start(c, i));
        }
    }
    c->line = 0;
}

/* ---- defaults ---- */

static void set_defaults(struct cfg_ctx *c)
{
    for (int i = 0; i < K_COUNT; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        int sect = SEC_BRIDGE;
        while (sect < SEC_STREAMER && strcmp(k->section, sect_names[sect]) != 0) {
            sect++;
        }
        if (sect < SEC_STREAMER) {
            cfg_set_default(c, k, field_of(c, sect, k));
        }
    }
}

/* tiktok2mqtt-<host>-<hash>, at most 23 bytes (MQTT 3.1.1's guaranteed length, and protocol 5
 * may fall back to 3.1.1): 4 characters of the host name's first label, and 24 bits of
 * FNV-1a-32 over the host name, the config path and the instance, so two instances differ
 * even when their host names share their first four characters or they share one file. */
static char *default_client_id(const char *path, const char *instance)
{
    char host[256] = "", part[5] = "", *both;
    size_t n = 0;
    uint32_t h;
    if (gethostname(host, sizeof host - 1) != 0) {
        host[0] = '\0';
    }
    for (const char *p = host; *p && *p != '.' && n < 4; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) {
            part[n++] = *p;
        }
    }
    /* no host name holds a newline; shards of one file differ by their instance */
    both = *instance ? xasprintf("%s\n%s\n%s", host, path, instance)
                     : xasprintf("%s\n%s", host, path);
    h = bridge_fnv1a32(both, strlen(both));
    free(both);
    return xasprintf("tiktok2mqtt-%s-%06x", n ? part : "host", ((h >> 24) ^ h) & 0xffffffu);
}

/* The default state_file: the config's absolute path + ".state", except under systemd's
 * StateDirectory= (which sets STATE_DIRECTORY, possibly a ':'-list: its first entry), where
 * ProtectSystem=strict makes the config's directory read-only: there it is
 * $STATE_DIRECTORY/<config file name>.state. A state_file written in the file always wins. */
static char *default_state_file(const char *abspath)
{
    const char *dir = getenv("STATE_DIRECTORY"), *base = strrchr(abspath, '/');
    if (!dir || dir[0] != '/') {
        return xasprintf("%s.state", abspath);
    }
    return xasprintf("%.*s/%s.state", (int)strcspn(dir, ":"), dir, base ? base + 1 : abspath);
}

static void computed_defaults(struct cfg_ctx *c, const char *abspath)
{
    struct bridge_cfg *cfg = c->cfg;
    if (!*cfg->bridge.instance && cfg->bridge.shard.n > 1) { /* shards need their own topics */
        free(cfg->bridge.instance);
        cfg->bridge.instance = xasprintf("shard%u", cfg->bridge.shard.i);
    }
    if (!*cfg->mqtt.client_id) {
        free(cfg->mqtt.client_id);
        cfg->mqtt.client_id = default_client_id(abspath, cfg->bridge.instance);
    }
    if (!*cfg->bridge.state_file) {
        free(cfg->bridge.state_file);
        cfg->bridge.state_file = default_state_file(abspath);
    }
    if (!*cfg->bridge.ttwid_file) { /* beside the state file: both are the bridge's memory */
        const char *slash = strrchr(cfg->bridge.state_file, '/');
        int dir = slash ? (int)(slash - cfg->bridge.state_file) : 1;
        free(cfg->bridge.ttwid_file);
        cfg->bridge.ttwid_file =
                xasprintf("%.*s/ttwid.jsonl", dir, slash ? cfg->bridge.state_file : ".");
    }
    for (size_t i = 0; i < cfg->n_streamers; i++) {
        struct bridge_streamer *st = &cfg->streamers[i];
        if (!*st->topic) {
            free(st->topic);
            st->topic = xstrdup(st->handle);
        }
        st->owned = bridge_shard_owns(st->handle, cfg->bridge.shard.i, cfg->bridge.shard.n);
    }
}

/* ---- loading ---- */

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        return xstrdup(".");
    }
    return slash == path ? xstrdup("/") : xasprintf("%.*s", (int)(slash - path), path);
}

static int cfg_finish(struct cfg_ctx *c, struct bridge_cfg_errors *errs)
{
    struct bridge_cfg_errors tmp;
    int rc = c->err.n ? -1 : 0;
    errs = errs ? errs : &tmp;
    diags_move(c, &c->err, &errs->errors, &errs->n_errors);
    diags_move(c, &c->warn, &errs->warnings, &errs->n_warnings);
    if (errs == &tmp) {
        bridge_cfg_errors_free(&tmp);
    }
    return rc;
}

/* Parse `text` into `out` with `c` (which may already hold an error: the file could not be
 * read, and `text` is then ""), so `out` always has every default filled in. */
static int parse_mem(struct cfg_ctx *c, const char *text, size_t len, const char *abspath,
                     struct bridge_cfg *out, struct bridge_cfg_errors *errs)
{
    memset(out, 0, sizeof *out);
    c->cfg = out;
    out->path = xstrdup(c->name);
    out->dir = dir_of(abspath);
    set_defaults(c);
    if (len >= 2 &&
        ((text[0] == '\xff' && text[1] == '\xfe') || (text[0] == '\xfe' && text[1] == '\xff'))) {
        /* Notepad's "Unicode": every other byte a NUL, which would be one error per line */
        cfg_err(c, 0,
                "the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as "
                "UTF-8");
        len = 0;
    }
    split_lines(c, text, len);
    pass_globals(c);
    pass_streamers(c);
    computed_defaults(c, abspath);
    cfg_check(c);
    free(c->text);
    free(c->lines);
    free(c->st_seen);
    return cfg_finish(c, errs);
}

int bridge_cfg_parse_string(const char *text, const char *name, struct bridge_cfg *out,
                            struct bridge_cfg_errors *errs)
{
    struct cfg_ctx c;
    memset(&c, 0, sizeof c);
    c.name = name ? name : "(string)";
    return parse_mem(&c, text ? text : "", text ? strlen(text) : 0, c.name, out, errs);
}

/* The whole file, or NULL with c's error set; the size is capped before anything is read. */
static char *read_file(struct cfg_ctx *c, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, got;
    if (!f) {
        cfg_err(c, 0, "cannot read: %s", strerror(errno));
        return NULL;
    }
    buf = xmalloc(FILE_MAX_BYTES + 1);
    while ((got = fread(buf + n, 1, FILE_MAX_BYTES + 1 - n, f)) > 0 && n < FILE_MAX_BYTES + 1) {
        n += got;
    }
    if (ferror(f) || n > FILE_MAX_BYTES) {
        cfg_err(c, 0, ferror(f) ? "cannot read: %s" : "larger than 4 MiB%s",
                ferror(f) ? strerror(errno) : "");
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

int bridge_cfg_load(const char *path, struct bridge_cfg *out, struct bridge_cfg_errors *errs)
{
    struct cfg_ctx c;
    size_t len = 0;
    char *text, *abspath;
    int rc;
    memset(&c, 0, sizeof c);
    c.name = path;
    text = read_file(&c, path, &len);
    abspath = text ? realpath(path, NULL) : NULL;
    rc = parse_mem(&c, text ? text : "", text ? len : 0, abspath ? abspath : path, out, errs);
    free(abspath);
    free(text);
    return rc;
}

/* ---- freeing ---- */

void bridge_cfg_free(struct bridge_cfg *cfg)
{
    if (!cfg) {
        return;
    }
    for (int i = 0; i < K_COUNT; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        static const size_t off[] = { offsetof(struct bridge_cfg, bridge),
                                      offsetof(struct bridge_cfg, mqtt),
                                      offsetof(struct bridge_cfg, homeassistant),
                                      offsetof(struct bridge_cfg, tiktok) };
        for (int s = SEC_BRIDGE; s < SEC_STREAMER; s++) {
            if (strcmp(k->section, sect_names[s]) == 0) {
                cfg_release(k, (char *)cfg + off[s] + k->offset);
            }
        }
    }
    for (size_t i = 0; i < cfg->n_streamers; i++) {
        cfg_streamer_release(&cfg->streamers[i]);
    }
    free(cfg->streamers);
    free(cfg->path);
    free(cfg->dir);
    memset(cfg, 0, sizeof *cfg);
}

void bridge_cfg_errors_free(struct bridge_cfg_errors *errs)
{
    if (!errs) {
        return;
    }
    xfree_strings(errs->errors, errs->n_errors);
    xfree_strings(errs->warnings, errs->n_warnings);
    memset(errs, 0, sizeof *errs);
}

const struct bridge_streamer *bridge_cfg_find_streamer(const struct bridge_cfg *cfg,
                                                       const char *handle)
{
    char h[BRIDGE_HANDLE_SIZE];
    if (!cfg || bridge_handle_normalize(handle, h, sizeof h, NULL)) {
        return NULL;
    }
    for (size_t i = 0; i < cfg->n_streamers; i++) {
        if (strcmp(cfg->streamers[i].handle, h) == 0) {
            return &cfg->streamers[i];
        }
    }
    return NULL;
}
