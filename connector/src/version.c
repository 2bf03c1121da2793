/** @file version.c
 * The library's version (the Makefile reads TT_VERSION here for the shared library's name).
 *
 * SPDX-License-Identifier: MIT
 */
#include "tt.h"

#ifndef TT_VERSION
#define TT_VERSION "0.1.0"
#endif

const char *tt_version(void)
{
    return TT_VERSION;
}
