/** @file cfg.h
 * The daemon's configuration: one INI file (docs/config.md),
 * loaded into a struct bridge_cfg whose fields are generated from cfg_table.h.
 *
 * Loading never stops at the first problem: every error is collected as "file:line: problem"
 * (line omitted when the problem has none), and the caller exits BRIDGE_EXIT_CONFIG when there
 * is any. Warnings (a secret file others can read, tls_insecure) are collected beside them.
 *
 * Ownership: everything a struct bridge_cfg points to is owned by it and freed by
 * bridge_cfg_free(). Strings are never NULL after a load: "" means unset. Memory policy: the
 * loader aborts on out-of-memory (the daemon's policy, xalloc.h), so no call here returns
 * an allocation error. Not thread-safe: load on one thread, then share read-only.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_CFG_H
#define BRIDGE_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg_table.h"
#include "tt.h"
#include "handle.h"

/** Exit statuses of the daemon (sysexits.h values; systemd: RestartPreventExitStatus=78). */
#define BRIDGE_EXIT_OK     0
#define BRIDGE_EXIT_USAGE  64
#define BRIDGE_EXIT_CONFIG 78

/** The values of the ENUM keys, in the order of their aux column in cfg_table.h. */
enum bridge_log_level {
    BRIDGE_LOG_ERROR,
    BRIDGE_LOG_WARN,
    BRIDGE_LOG_INFO,
    BRIDGE_LOG_DEBUG,
    BRIDGE_LOG_TRACE
};
enum bridge_mqtt_protocol { BRIDGE_MQTT_5, BRIDGE_MQTT_311 };
enum bridge_sign_flow {
    BRIDGE_SIGN_EULER,
    BRIDGE_SIGN_LEGACY,
    BRIDGE_SIGN_SESSION,
    BRIDGE_SIGN_DIRECT,
    BRIDGE_SIGN_AUTO
};

/** A secret read from a `*_file` key or from its environment variable. */
struct bridge_secret {
    char *file;    /**< the key's value (resolved path), "" when unset */
    char *value;   /**< the secret, NULL when there is none; never print it */
    bool from_env; /**< value came from the environment variable, which wins over the file */
};

/** `[bridge] shard = i/n`. */
struct bridge_shard {
    unsigned i, n;
};

/** `events = all` or a list; bit k is event k of topic.h (bridge_event_name()). */
struct bridge_events {
    uint64_t mask;
    char *list; /**< canonical text: "all" or "chat,gift" */
};

/* The C type of each table type. */
#define CFG_CT_BOOL     bool
#define CFG_CT_INT      long long
#define CFG_CT_SEC      long long
#define CFG_CT_MS       long long
#define CFG_CT_BYTES    long long
#define CFG_CT_ENUM     int
#define CFG_CT_STR      char *
#define CFG_CT_URI      char *
#define CFG_CT_URL      char *
#define CFG_CT_PROXY    char *
#define CFG_CT_TOPIC    char *
#define CFG_CT_NAME     char *
#define CFG_CT_CLIENTID char *
#define CFG_CT_ADDR     char *
#define CFG_CT_PATH     char *
#define CFG_CT_RPATH    char *
#define CFG_CT_PARAMS   char *
#define CFG_CT_HEADERS  char *
#define CFG_CT_SECRET   struct bridge_secret
#define CFG_CT_SHARD    struct bridge_shard
#define CFG_CT_EVENTS   struct bridge_events

#define BRIDGE_CFG_FIELD(sec, key, type, field, dflt, min, max, flags, aux, doc) \
    CFG_CT_##type field;

/** [bridge] */
struct bridge_cfg_bridge {
    CFG_KEYS_BRIDGE(BRIDGE_CFG_FIELD)
};
/** [mqtt] */
struct bridge_cfg_mqtt {
    CFG_KEYS_MQTT(BRIDGE_CFG_FIELD)
};
/** [homeassistant] */
struct bridge_cfg_homeassistant {
    CFG_KEYS_HOMEASSISTANT(BRIDGE_CFG_FIELD)
};
/** [tiktok]: the defaults, and each streamer's effective copy. */
struct bridge_tiktok {
    CFG_KEYS_TIKTOK(BRIDGE_CFG_FIELD)
};
/** [streamer:HANDLE] */
struct bridge_streamer {
    char handle[BRIDGE_HANDLE_SIZE]; /**< normalised */
    int line;                        /**< of its section header; 0 when not from a file */
    bool owned;                      /**< this shard owns it ([bridge] shard) */
    /* topic (normalised; default: the handle), enabled, record_dir ("": [bridge]'s) */
    CFG_KEYS_STREAMER(BRIDGE_CFG_FIELD)
    struct bridge_tiktok tt; /**< [tiktok] with this section's overrides applied */
};

/* Which struct holds the keys of each section (used with offsetof by cfg.c). */
#define CFG_STRUCT_bridge        struct bridge_cfg_bridge
#define CFG_STRUCT_mqtt          struct bridge_cfg_mqtt
#define CFG_STRUCT_homeassistant struct bridge_cfg_homeassistant
#define CFG_STRUCT_tiktok        struct bridge_tiktok
#define CFG_STRUCT_streamer      struct bridge_streamer

struct bridge_cfg {
    char *path; /**< as given to the loader: the name in messages */
    char *dir;  /**< directory relative paths were resolved against */
    struct bridge_cfg_bridge bridge;
    struct bridge_cfg_mqtt mqtt;
    struct bridge_cfg_homeassistant homeassistant;
    struct bridge_tiktok tiktok;
    struct bridge_streamer *streamers; /**< in file order */
    size_t n_streamers;
};

/** Problems found by a load, each "file:line: problem", sorted by line. */
struct bridge_cfg_errors {
    char **errors;
    size_t n_errors;
    char **warnings;
    size_t n_warnings;
};

/** Load `path`. Returns 0, or -1 when errs->n_errors > 0 (exit BRIDGE_EXIT_CONFIG). `out` is
 *  filled in either case (as far as the file allowed) and must be freed with bridge_cfg_free;
 *  `errs` may be NULL (problems dropped) and is freed with bridge_cfg_errors_free. */
int bridge_cfg_load(const char *path, struct bridge_cfg *out, struct bridge_cfg_errors *errs);

/** The same for INI text in memory; `name` stands for the file in messages, its directory
 *  anchors relative paths and `<name>.state` is the default state_file. Tests and fuzzing. */
int bridge_cfg_parse_string(const char *text, const char *name, struct bridge_cfg *out,
                            struct bridge_cfg_errors *errs);

/** Free what a load allocated and zero the struct; NULL and a zeroed struct are fine. */
void bridge_cfg_free(struct bridge_cfg *cfg);
void bridge_cfg_errors_free(struct bridge_cfg_errors *errs);

/** Write the effective settings as INI that loads again: every global key, [tiktok], and per
 *  streamer its topic, enabled and the keys that differ from [tiktok]. Secrets are `***`. */
void bridge_cfg_print(FILE *out, const struct bridge_cfg *cfg);

/** The streamer of a handle ("@Foo" finds "foo"), or NULL. */
const struct bridge_streamer *bridge_cfg_find_streamer(const struct bridge_cfg *cfg,
                                                       const char *handle);

/** True when `name` (e.g. "giftEnd") is selected; unknown names are not. */
bool bridge_events_has(const struct bridge_events *ev, const char *name);
/** True when event bit `bit` (an enum tt_event_type, or a topic.h derived event) is selected. */
bool bridge_events_want(const struct bridge_events *ev, unsigned bit);

/* ---- [tiktok] onto libtiktok's options (cfg_tt.c) ---- */

/** tt_options from a streamer's effective [tiktok] keys, through libtiktok's option table
 *  (--probe uses it too, so a probe connects as the daemon would). Strings are borrowed from
 *  `t`. -1 with the library's reason in `err` when it refuses a value. */
int bridge_cfg_tt_options(const struct bridge_tiktok *t, struct tt_options *o, char *err,
                          size_t errlen);
/** The i-th [tiktok] key that is a libtiktok option: its library name (in `buf`), its flags
 *  and its default text (NULL for secrets and computed ones); NULL past the last. For tests. */
const char *bridge_cfg_tt_key(unsigned i, unsigned *flags, const char **dflt, char *buf, size_t n);

/* ---- reload ---- */

enum bridge_cfg_change {
    BRIDGE_CFG_UNCHANGED,
    BRIDGE_CFG_ADDED,
    BRIDGE_CFG_REMOVED,
    BRIDGE_CFG_CHANGED
};

struct bridge_cfg_streamer_diff {
    const char *handle; /**< borrowed from the config that has the streamer */
    enum bridge_cfg_change change;
    const struct bridge_streamer *before, *after; /**< NULL when added / removed */
    char *keys; /**< CHANGED: the keys that differ, "topic, proxy"; "" otherwise */
};

struct bridge_cfg_diff {
    struct bridge_cfg_streamer_diff *streamers; /**< `after`'s order, then the removed ones */
    size_t n_streamers;
    char *global_keys;     /**< changed keys outside streamers, "mqtt.qos, tiktok.proxy"; "" */
    bool restart_required; /**< one of them is not CFG_RELOADABLE */
};

/** Compare two loaded configs (SIGHUP: the running one and the new one). `out` borrows from
 *  both: free it with bridge_cfg_diff_free before either config. */
void bridge_cfg_diff(const struct bridge_cfg *before, const struct bridge_cfg *after,
                     struct bridge_cfg_diff *out);
void bridge_cfg_diff_free(struct bridge_cfg_diff *diff);
/** A reload applies what it can: the global keys that need a restart keep their running values
 *  (swapped between the two), so that `next`, which replaces `running`, says what is in effect,
 *  and the reload after it compares with that. After bridge_cfg_diff. */
void bridge_cfg_keep_running(struct bridge_cfg *running, struct bridge_cfg *next);

#endif
