/** @file clock.c
 * The two clocks (clock.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include <time.h>

#include "clock.h"

static int64_t ms_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t common_mono_ms(void)
{
    return ms_of(CLOCK_MONOTONIC);
}

double common_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t common_wall_ms(void)
{
    return ms_of(CLOCK_REALTIME);
}
