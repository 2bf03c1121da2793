/** @file cfg_tt.c
 * The [tiktok] keys onto struct tt_options, through libtiktok's own option table
 * (tt_options_set): a key is the library option of the same name, a SECRET key `x_file` gives
 * option `x` its secret, CFG_BRIDGE_ONLY keys are the bridge's own. So adding an option is a
 * row in options.c and a row in cfg_table.h, and nothing copies fields by hand.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "cfg_int.h"

/* `name`, or `name` without its "_file" for a SECRET key, into `buf`. */
static const char *lib_key(const struct cfg_key *k, char *buf, size_t n)
{
    size_t len = strlen(k->name);
    if (k->type == T_SECRET && len > 5 && !strcmp(k->name + len - 5, "_file")) {
        len -= 5;
    }
    snprintf(buf, n, "%.*s", (int)len, k->name);
    return buf;
}

/* The value of `f` as the library's text; NULL when the option keeps its library value. */
static const char *value_text(const struct cfg_key *k, const void *f, char *buf, size_t n)
{
    switch (cfg_storage_of(k->type)) {
    case ST_BOOL:
        return *(const bool *)f ? "true" : "false";
    case ST_LL:
        snprintf(buf, n, "%lld", *(const long long *)f);
        return buf;
    case ST_INT: { /* the aux name at the index */
        const char *p = k->aux;
        for (int i = *(const int *)f; i > 0 && strchr(p, '|'); i--) {
            p = strchr(p, '|') + 1;
        }
        snprintf(buf, n, "%.*s", (int)strcspn(p, "|"), p);
        return buf;
    }
    case ST_SECRET:
        return ((const struct bridge_secret *)f)->value;
    case ST_STR:
        return *(char *const *)f; /* borrowed: the config outlives tt_client_new */
    default:
        return NULL;
    }
}

static bool is_lib_key(const struct cfg_key *k)
{
    return !strcmp(k->section, "tiktok") && !(k->flags & CFG_BRIDGE_ONLY);
}

int bridge_cfg_tt_options(const struct bridge_tiktok *t, struct tt_options *o, char *err,
                          size_t errlen)
{
    tt_options_init(o);
    for (int i = 0; i < K_COUNT; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        char name[64], buf[64];
        if (!is_lib_key(k)) {
            continue;
        }
        const char *v = value_text(k, (const char *)t + k->offset, buf, sizeof buf);
        if (v && tt_options_set(o, lib_key(k, name, sizeof name), v, err, errlen)) {
            return -1;
        }
    }
    return 0;
}

const char *bridge_cfg_tt_key(unsigned i, unsigned *flags, const char **dflt, char *buf, size_t n)
{
    for (int j = 0; j < K_COUNT; j++) {
        const struct cfg_key *k = &cfg_keys[j];
        if (is_lib_key(k) && i-- == 0) {
            *flags = k->flags;
            *dflt = k->type == T_SECRET ? NULL : k->dflt;
            return lib_key(k, buf, n);
        }
    }
    return NULL;
}
