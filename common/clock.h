/** @file clock.h
 * The two clocks everything reads (clock.c): the monotonic one for intervals and deadlines,
 * the wall clock for timestamps others see. Shared by libtiktok, the daemon, the simulator and
 * the tools (linked into the library with hidden visibility).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef COMMON_CLOCK_H
#define COMMON_CLOCK_H

#include <stdint.h>

/** CLOCK_MONOTONIC in ms: never goes back, meaningless across processes. */
int64_t common_mono_ms(void);
/** CLOCK_MONOTONIC in seconds, to the ns (benchmarks). */
double common_mono_s(void);
/** CLOCK_REALTIME in ms since 1970. */
int64_t common_wall_ms(void);

#endif
