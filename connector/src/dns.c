/** @file dns.c
 * The WebSocket's host, looked up on a thread of its own. libwebsockets 4.1.6 calls
 * getaddrinfo() inside lws_client_connect_via_info(), on the connection's thread: a resolver
 * that does not answer held that thread, and tt_client_stop() with it, for as long as the
 * resolver liked (30 s with glibc's defaults and a silent server). Here the lookup runs on a
 * detached thread and the caller waits for it in short steps, watching the stop flag and its
 * timeout; when it gives up, the lookup is left behind and its thread frees the job when
 * getaddrinfo() returns. libwebsockets then gets a numeric address (and the name for Host,
 * SNI and the certificate check). HTTP needs none of this: libcurl's resolver is threaded
 * already (CURLOPT_QUICK_EXIT lets a stop leave it behind, http.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "dns.h"

#define STEP_MS 20 /* how often the waiting caller looks at the stop flag */

struct job {
    pthread_mutex_t mu;
    int refs; /* the caller and the thread: the last one out frees */
    int done, gai_rc;
    char host[256];
    char addr[INET6_ADDRSTRLEN];
};

static void job_put(struct job *j)
{
    pthread_mutex_lock(&j->mu);
    int left = --j->refs;
    pthread_mutex_unlock(&j->mu);
    if (!left) {
        pthread_mutex_destroy(&j->mu);
        tt__free(j);
    }
}

/* The first IPv4 address, else the first one: IPv4 is what every network here can reach. */
static void pick(const struct addrinfo *res, char *out, size_t n)
{
    const struct addrinfo *best = res;
    for (const struct addrinfo *a = res; a; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            best = a;
            break;
        }
    }
    out[0] = '\0';
    if (best && best->ai_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)best->ai_addr)->sin_addr,
                  out, (socklen_t)n);
    } else if (best && best->ai_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)best->ai_addr)->sin6_addr,
                  out, (socklen_t)n);
    }
}

static void *lookup(void *arg)
{
    struct job *j = arg;
    struct addrinfo hints, *res = NULL;
    char addr[INET6_ADDRSTRLEN];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(j->host, NULL, &hints, &res);
    pick(rc ? NULL : res, addr, sizeof addr);
    if (res) {
        freeaddrinfo(res);
    }
    pthread_mutex_lock(&j->mu);
    j->gai_rc = rc ? rc : addr[0] ? 0 : EAI_NONAME;
    memcpy(j->addr, addr, sizeof addr);
    j->done = 1;
    pthread_mutex_unlock(&j->mu);
    job_put(j);
    return NULL;
}

static int is_numeric(const char *host)
{
    unsigned char bin[16];
    return inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1;
}

static enum tt_err wait_for(struct job *j, const atomic_int *stop, unsigned timeout_ms)
{
    int64_t deadline = common_mono_ms() + timeout_ms;
    struct timespec step = { 0, STEP_MS * 1000000L };
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int done = j->done;
        pthread_mutex_unlock(&j->mu);
        if (done) {
            return TT_OK;
        }
        if (stop && atomic_load(stop)) {
            return TT_ERR_STATE;
        }
        if (common_mono_ms() >= deadline) {
            return TT_ERR_TIMEOUT;
        }
        nanosleep(&step, NULL);
    }
}

enum tt_err tt__dns_lookup(const char *host, char *addr, size_t n, const atomic_int *stop,
                           unsigned timeout_ms, char *err, size_t errlen)
{
    if (strlen(host) >= sizeof((struct job *)0)->host || n < INET6_ADDRSTRLEN) {
        snprintf(err, errlen, "host name too long");
        return TT_ERR_INVAL;
    }
    if (is_numeric(host)) {
        snprintf(addr, n, "%s", host);
        return TT_OK;
    }
    struct job *j = tt__calloc(1, sizeof *j);
    pthread_attr_t attr;
    pthread_t t;
    if (!j) {
        return TT_ERR_NOMEM;
    }
    pthread_mutex_init(&j->mu, NULL);
    snprintf(j->host, sizeof j->host, "%s", host);
    j->refs = 2;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int started = !pthread_create(&t, &attr, lookup, j);
    pthread_attr_destroy(&attr);
    if (!started) {
        j->refs = 1;
        job_put(j);
        snprintf(err, errlen, "cannot start a thread to look %s up", host);
        return TT_ERR_NOMEM;
    }
    enum tt_err rc = wait_for(j, stop, timeout_ms);
    if (rc == TT_ERR_TIMEOUT) {
        snprintf(err, errlen, "looking %s up timed out", host);
    } else if (!rc && j->gai_rc) { /* done: the thread no longer writes */
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(j->gai_rc));
        rc = TT_ERR_HTTP;
    } else if (!rc) {
        snprintf(addr, n, "%s", j->addr);
    }
    job_put(j);
    return rc;
}
