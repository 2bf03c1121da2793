/** @file prng.c
 * One splitmix64 generator per thread, seeded from getrandom() (prng.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "prng.h"

uint64_t common_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static _Thread_local uint64_t state;
static _Thread_local int seeded;

/* The kernel's randomness; without it (an old kernel, a seccomp jail), the time, the process
 * and the thread's own address still differ between shards and threads. */
static void seed(void)
{
    if (getrandom(&state, sizeof state, GRND_NONBLOCK) != (ssize_t)sizeof state) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        state = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 48 ^
                (uint64_t)(uintptr_t)&state;
    }
    seeded = 1;
}

uint64_t common_rand64(void)
{
    if (!seeded) {
        seed();
    }
    return common_splitmix64(&state);
}

uint64_t common_rand_below(uint64_t n)
{
    return n ? common_rand64() % n : 0;
}
