/** @file prng.h
 * Random numbers that are not secrets: reconnect jitter, enter-room ids, test data (prng.c).
 *
 * rand() was shared by the library and a thousand streamer threads and never seeded, so every
 * shard drew the same jitter; common_rand64() keeps one generator per thread, seeded from the
 * kernel the first time the thread asks. common_splitmix64() is the same generator on a
 * caller's state, for runs that must repeat (the simulator's seeded scenarios).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef COMMON_PRNG_H
#define COMMON_PRNG_H

#include <stdint.h>

/** The next number of the calling thread's generator. */
uint64_t common_rand64(void);
/** A number in [0, n); 0 when n is 0. */
uint64_t common_rand_below(uint64_t n);
/** splitmix64 on `*state`: small, fast, good enough for jitter and test data. */
uint64_t common_splitmix64(uint64_t *state);

#endif
