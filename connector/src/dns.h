/** @file dns.h
 * A host name looked up without holding the caller past a stop (dns.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_DNS_H
#define TT_DNS_H

#include <stdatomic.h>
#include <stddef.h>

#include "tt.h"

/** The numeric address of `host` into `addr` (an IPv4 one if it has any). Returns TT_OK,
 *  TT_ERR_STATE as soon as `*stop` is set, TT_ERR_TIMEOUT after `timeout_ms`, TT_ERR_HTTP
 *  when the name does not resolve (a reason in `err`), TT_ERR_NOMEM. A numeric `host` is
 *  copied as it is. */
enum tt_err tt__dns_lookup(const char *host, char *addr, size_t n, const atomic_int *stop,
                           unsigned timeout_ms, char *err, size_t errlen);

#endif
