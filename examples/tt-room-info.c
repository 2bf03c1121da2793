/** @file tt-room-info.c
 * Retrieve room info (the seed's example, in C): print the streamer's room info as JSON, while
 * not connected.
 *
 *   tt-room-info HANDLE [key=value ...]        (keys as for tt-connect)
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
        fputs("usage: tt-room-info HANDLE [key=value ...]\n", stderr);
        return 64;
    }
    int rc = example_options("tt-room-info", &o, argc, argv, 2);
    if (rc) {
        return rc;
    }
    if (tt_global_init() || tt_client_new(&c, argv[1], &o, example_ignore, NULL)) {
        fputs("tt-room-info: bad handle or out of memory\n", stderr);
        return 1;
    }
    enum tt_err e = tt_client_room_info(c, &json);
    if (e) {
        fprintf(stderr, "tt-room-info: %s: %s\n", tt_strerror(e), tt_client_errmsg(c));
    } else {
        printf("%s\n", json);
        tt_free(json);
    }
    tt_client_free(c);
    tt_global_cleanup();
    return e ? 1 : 0;
}
