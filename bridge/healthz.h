/** @file healthz.h
 * The answer to GET /healthz (healthz.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_HEALTHZ_H
#define BRIDGE_HEALTHZ_H

#include <stddef.h>

#include "out.h"

/** The status code (200 or 503) and a one-line body in `body` (`n` bytes at least 64): 200
 *  while the broker is connected or there is none (--stdout), 503 with the broker's error
 *  otherwise. Any thread: it reads only the MQTT client's thread-safe state. */
int bridge_healthz(struct bridge_out *out, char *body, size_t n);

#endif
