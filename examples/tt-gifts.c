/** @file tt-gifts.c
 * Retrieve available gifts (the seed's example, in C): print the gift list (JSON array of
 * gifts: id, name, diamond_count, image, ...), while not connected.
 *
 *   tt-gifts HANDLE [key=value ...]        (keys as for tt-connect)
 *
 * SPDX-License-Identifier: MIT
 */
#include "example_opts.h"

int main(int argc, char **argv)
{
    struct tt_options o;
    tt_client *c;
    char *json;
    if (argc < 2) {
        fputs("usage: tt-gifts HANDLE [key=value ...]\n", stderr);
        return 64;
    }
    int rc = example_options("tt-gifts", &o, argc, argv, 2);
    if (rc) {
        return rc;
    }
    if (tt_global_init() || tt_client_new(&c, argv[1], &o, example_ignore, NULL)) {
        fputs("tt-gifts: bad handle or out of memory\n", stderr);
        return 1;
    }
    enum tt_err e = tt_client_available_gifts(c, &json);
    if (e) {
        fprintf(stderr, "tt-gifts: %s: %s\n", tt_strerror(e), tt_client_errmsg(c));
    } else {
        printf("%s\n", json);
        tt_free(json);
    }
    tt_client_free(c);
    tt_global_cleanup();
    return e ? 1 : 0;
}
