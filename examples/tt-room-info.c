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
    return example_fetch("tt-room-info", argc, argv, tt_client_room_info);
}
