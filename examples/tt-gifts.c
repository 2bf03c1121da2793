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
    return example_fetch("tt-gifts", argc, argv, tt_client_available_gifts);
}
