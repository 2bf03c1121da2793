/** @file api.h
 * The runtime API (api.c); the bridge supplies what the commands do.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_API_H
#define BRIDGE_API_H

#include "out.h"

struct bridge_api {
    struct bridge_out *out;
    void *ud;
    struct cJSON *(*info)(void *ud);
    void (*reload)(void *ud);
    /** reconnect / add_streamer / remove_streamer; NULL or an error text */
    const char *(*streamer_cmd)(void *ud, const char *cmd, const char *user,
                                const struct cJSON *req);
};

/** Handle <base>/bridge/request/<cmd> with its body; answers on bridge/response/<cmd>. */
void bridge_api_request(const struct bridge_api *api, const char *cmd, const char *body,
                        size_t len);

#endif
