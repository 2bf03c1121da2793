/** @file fuzz_cfg.c
 * libFuzzer target: arbitrary bytes as a config file -> bridge_cfg_parse_string(). Checks
 * that errors and the return code agree, and that a config that loads prints as INI that
 * loads again without an error and to the same settings (the printer and the parser agree on
 * every value they accept).
 * Built by `make fuzz-cfg` with clang; `build/fuzz_cfg_replay` replays the corpus under gcc.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Absolute, as bridge_cfg_load() makes every name: relative paths in the file are taken from
 * its directory, and a relative directory would prefix "./" again at each round. */
#define FUZZ_NAME "/fuzz.ini"

static char *printed(const struct bridge_cfg *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        return NULL;
    }
    bridge_cfg_print(f, cfg);
    fclose(f);
    return text;
}

/* Print `cfg`, load the text again: it must load cleanly, to the same settings (it prints the
 * same: "username = ;x" loaded cleanly, as an empty user name). */
static void round_trip(const struct bridge_cfg *cfg)
{
    struct bridge_cfg again;
    struct bridge_cfg_errors errs;
    char *text = printed(cfg), *text2;
    if (!text) {
        return;
    }
    if (bridge_cfg_parse_string(text, FUZZ_NAME, &again, &errs) != 0) {
        fprintf(stderr, "printed config does not load again:\n%s\n%s\n", text, errs.errors[0]);
        abort();
    }
    text2 = printed(&again);
    if (text2 && strcmp(text, text2) != 0) {
        fprintf(stderr, "printed config loads to other settings:\n%s\n%s\n", text, text2);
        abort();
    }
    free(text2);
    bridge_cfg_errors_free(&errs);
    bridge_cfg_free(&again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bridge_cfg cfg;
    struct bridge_cfg_errors errs;
    char *text = malloc(size + 1);
    int rc;
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    rc = bridge_cfg_parse_string(text, FUZZ_NAME, &cfg, &errs);
    if ((rc != 0) != (errs.n_errors != 0)) {
        abort();
    }
    if (rc == 0) {
        round_trip(&cfg);
    }
    bridge_cfg_errors_free(&errs);
    bridge_cfg_free(&cfg);
    free(text);
    return 0;
}
