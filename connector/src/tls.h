/** @file tls.h
 * One client SSL_CTX shared by every connection with the same CA settings.
 *
 * Why: each libwebsockets 4.1.6 client context otherwise loads the CA bundle into an SSL_CTX of
 * its own, about 850 KiB each (measured); shared, a context costs about 9 KiB, which
 * is what lets one process follow a thousand streamers.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_TLS_H
#define TT_TLS_H

#include <openssl/ssl.h>

#include "tt.h"

/** A shared context for `ca_file` (NULL: the system's CAs); NULL when it cannot be made. Each
 *  call takes a reference. */
SSL_CTX *tt__tls_get(const char *ca_file);
/** Drop a reference; NULL is a no-op. */
void tt__tls_put(SSL_CTX *ctx);

#endif
