/** @file slow_dns.c
 * An LD_PRELOAD shim for tests: getaddrinfo() of a name under `.slow.test` blocks for 30 s
 * and then fails, as a resolver that never answers would; every other name goes to libc.
 * It lets tests/connector/hostile.py check that tt_client_stop() does not wait for DNS, which
 * a simulator on loopback cannot make slow.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <time.h>

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    size_t n = node ? strlen(node) : 0;
    if (n > 10 && !strcmp(node + n - 10, ".slow.test")) {
        /* 30 s whatever signals arrive: glibc's resolver also goes on waiting after EINTR */
        struct timespec left = { 30, 0 };
        while (nanosleep(&left, &left) == -1 && errno == EINTR) {
        }
        return EAI_AGAIN;
    }
    gai_fn real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    return real ? real(node, service, hints, res) : EAI_FAIL;
}
