/** @file example_opts.h
 * What every example shares: `key=value` arguments into struct tt_options (the [tiktok] keys of
 * the bridge's config, see the README), and a callback that drops events.
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

#endif
