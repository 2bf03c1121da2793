/** @file api.h
 * The runtime API (api.c): commands on <base>/bridge/request/<cmd>, answers on
 * <base>/bridge/response/<cmd>, one table of {command, needs_user, handler}.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_API_H
#define BRIDGE_API_H

#include <stddef.h>

#include "bridge.h"

/** Handle the request `cmd` with its body (main thread); answers on bridge/response/<cmd>. */
void bridge_api_request(struct bridge *b, const char *cmd, const char *body, size_t len);
/** The main loop reloaded: answer the reload requests waiting for it, ok or, with `why` (the
 *  file's first error), an error. */
void bridge_api_reloaded(struct bridge *b, const char *why);

#endif
