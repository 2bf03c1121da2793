/** @file example_opts.h
 * What every example shares: `key=value` arguments into struct tt_options (the [tiktok] keys of
 * the bridge's config, see docs/libtiktok.md), and a callback that drops events.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_EXAMPLE_OPTS_H
#define TT_EXAMPLE_OPTS_H

#include <stdio.h>
#include <string.h>

#include "tt.h"

/* argv[first..argc) as key=value options; 0, or 64 (usage) after printing the problem. */
static inline int example_options(const char *prog, struct tt_options *o, int argc, char **argv,
                                  int first)
{
    char err[256];
    tt_options_init(o);
    for (int i = first; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "%s: '%s' is not key=value\n", prog, argv[i]);
            return 64;
        }
        *eq = '\0';
        if (tt_options_set(o, argv[i], eq + 1, err, sizeof err)) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return 64;
        }
    }
    return 0;
}

static inline void example_ignore(const struct tt_event *ev, void *ud)
{
    (void)ev;
    (void)ud;
}

/* `prog HANDLE [key=value ...]`: one request without connecting (tt_client_room_info or
 * tt_client_available_gifts), its JSON on stdout. Exit 0, 1 on an error, 64 on usage. */
static inline int example_fetch(const char *prog, int argc, char **argv,
                                enum tt_err (*fetch)(tt_client *, char **))
{
    struct tt_options o;
    tt_client *c;
    char *json;
    if (argc < 2) {
        fprintf(stderr, "usage: %s HANDLE [key=value ...]\n", prog);
        return 64;
    }
    int rc = example_options(prog, &o, argc, argv, 2);
    if (rc) {
        return rc;
    }
    if (tt_global_init() || tt_client_new(&c, argv[1], &o, example_ignore, NULL)) {
        fprintf(stderr, "%s: bad handle or out of memory\n", prog);
        return 1;
    }
    enum tt_err e = fetch(c, &json);
    if (e) {
        fprintf(stderr, "%s: %s: %s\n", prog, tt_strerror(e), tt_client_errmsg(c));
    } else {
        printf("%s\n", json);
        tt_free(json);
    }
    tt_client_free(c);
    tt_global_cleanup();
    return e ? 1 : 0;
}

#endif
