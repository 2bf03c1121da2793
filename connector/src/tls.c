/** @file tls.c
 * The shared client SSL_CTX cache: a short list keyed by CA file, under a mutex (connections
 * are made from many threads), each entry reference-counted and freed with its last user.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "tls.h"

#define TLS_MAX 8 /* distinct CA settings in one process; past it, contexts are not shared */

struct entry {
    char ca[512];
    SSL_CTX *ctx;
    unsigned refs;
};

static struct entry cache[TLS_MAX];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static SSL_CTX *make(const char *ca_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int ok = SSL_CTX_set_default_verify_paths(ctx);
    if (ca_file) {
        ok = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
    }
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL_CTX *tt__tls_get(const char *ca_file)
{
    const char *key = ca_file ? ca_file : "";
    SSL_CTX *ctx = NULL;
    if (strlen(key) >= sizeof cache[0].ca) {
        return make(ca_file); /* an odd path: a context of its own */
    }
    pthread_mutex_lock(&lock);
    struct entry *free_slot = NULL;
    for (size_t i = 0; i < TLS_MAX && !ctx; i++) {
        if (cache[i].ctx && !strcmp(cache[i].ca, key)) {
            cache[i].refs++;
            ctx = cache[i].ctx;
        } else if (!cache[i].ctx && !free_slot) {
            free_slot = &cache[i];
        }
    }
    if (!ctx && free_slot && (ctx = make(ca_file))) {
        snprintf(free_slot->ca, sizeof free_slot->ca, "%s", key);
        free_slot->ctx = ctx;
        free_slot->refs = 1;
    } else if (!ctx) {
        ctx = make(ca_file);
    }
    pthread_mutex_unlock(&lock);
    return ctx;
}

void tt__tls_put(SSL_CTX *ctx)
{
    if (!ctx) {
        return;
    }
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < TLS_MAX; i++) {
        if (cache[i].ctx == ctx) {
            if (--cache[i].refs == 0) {
                SSL_CTX_free(ctx);
                memset(&cache[i], 0, sizeof cache[i]);
            }
            pthread_mutex_unlock(&lock);
            return;
        }
    }
    pthread_mutex_unlock(&lock);
    SSL_CTX_free(ctx); /* not cached: its own */
}
