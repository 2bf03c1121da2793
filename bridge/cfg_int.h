/** @file cfg_int.h
 * Private to the configuration loader: cfg.c reads the file, cfg_value.c parses single values,
 * cfg_rules.c holds the cross-field rules and copies, compares and prints values, and diffs.
 * Nothing here is part of the daemon's API: that is cfg.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_CFG_INT_H
#define BRIDGE_CFG_INT_H

#include <stddef.h>

#include "cfg.h"

enum cfg_type {
    T_BOOL,
    T_INT,
    T_SEC,
    T_MS,
    T_BYTES,
    T_ENUM,
    T_STR,
    T_URI,
    T_URL,
    T_PROXY,
    T_TOPIC,
    T_NAME,
    T_CLIENTID,
    T_ADDR,
    T_PATH,
    T_RPATH,
    T_PARAMS,
    T_HEADERS,
    T_SECRET,
    T_SHARD,
    T_EVENTS
};

/** One row of cfg_table.h. `offset` is within the section's struct (CFG_STRUCT_<section>). */
struct cfg_key {
    const char *section, *name;
    enum cfg_type type;
    size_t offset;
    const char *dflt;
    long long min, max;
    unsigned flags;
    const char *aux;
};

extern const struct cfg_key cfg_keys[];

#define CFG_KEY_ID(sec, key, type, field, dflt, min, max, flags, aux, doc) K_##sec##_##key,
enum { CFG_TABLE(CFG_KEY_ID) K_COUNT };

struct cfg_diag {
    int line;
    unsigned seq; /* keeps the order of messages on one line */
    char *text;
};

struct cfg_diags {
    struct cfg_diag *v;
    size_t n, cap, dropped;
};

struct cfg_line {
    char *s;     /* NUL-terminated, without its line end */
    size_t len;  /* bytes before the line end ("\n" or "\r\n") */
    int sect;    /* section of a key line */
    bool is_key; /* a key line (not blank, comment or header) */
    bool bad;    /* refused whole: too long, or a NUL byte */
};

/** State of one load. */
struct cfg_ctx {
    struct bridge_cfg *cfg;
    const char *name; /* the file's name in messages */
    struct cfg_diags err, warn;
    unsigned seq;
    int line;      /* line being read; 0 for defaults and whole-file rules */
    char msg[600]; /* what a value parser found wrong */
    char *text;
    struct cfg_line *lines;
    size_t n_lines;
    int sect_line[4];        /* header line of [bridge], [mqtt], [homeassistant], [tiktok] */
    int seen[K_COUNT];       /* line where each global or [tiktok] key was set, 0 = not set */
    int (*st_seen)[K_COUNT]; /* the same for each streamer's section */
};

/* Out of memory aborts (common/xalloc.h): the daemon's policy, as redis's zmalloc. A config
 * that cannot be held in memory cannot be run, and threading NOMEM through every parser would
 * double this code for a case that ends the process anyway. */
#include "xalloc.h"

/* Text helpers. cfg_shown() makes user text safe to print (printable ASCII, the rest as \xNN,
 * cut at 60 bytes); it rotates through a few thread-local buffers, enough for one message. */
char *cfg_skip_ws(char *s);
char *cfg_trim(char *s);
const char *cfg_shown(const char *s);

void cfg_err(struct cfg_ctx *c, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void cfg_warn(struct cfg_ctx *c, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

enum cfg_storage { ST_STR, ST_LL, ST_BOOL, ST_INT, ST_SECRET, ST_SHARD, ST_EVENTS };
enum cfg_storage cfg_storage_of(enum cfg_type t);

/* Values (cfg_value.c parses, cfg_rules.c does the rest). cfg_set parses `value` into `field`, replacing what was there; on a
 * bad value it returns -1 with the problem in c->msg and leaves the field as it was. */
int cfg_set(struct cfg_ctx *c, const struct cfg_key *k, void *field, const char *value);
void cfg_set_default(struct cfg_ctx *c, const struct cfg_key *k, void *field);
void cfg_release(const struct cfg_key *k, void *field);
void cfg_secret_release(struct bridge_secret *s);
bool cfg_equal(const struct cfg_key *k, const void *a, const void *b);
void cfg_print_value(FILE *out, const struct cfg_key *k, const void *field);
void cfg_tiktok_copy(struct bridge_tiktok *dst, const struct bridge_tiktok *src);
void cfg_streamer_release(struct bridge_streamer *st);
bool cfg_uri_is_tls(const char *uri);
bool cfg_url_is_plain_remote(const char *url);
const char *cfg_proxy_scheme(const char *proxy, char *buf, size_t n);

/* Cross-field rules (cfg_rules.c), run once everything is read and defaults are computed. */
void cfg_check(struct cfg_ctx *c);

#endif
