/** @file api.c
 * The runtime API on <base>/bridge/request/<cmd> (mqtt-contract.md §5): a JSON body that may
 * carry "transaction", echoed in the answer on <base>/bridge/response/<cmd>:
 *   {"status":"ok","data":{…},"transaction":…} or {"status":"error","error":"…",…}.
 * Commands: health_check, info, reconnect {"user"}, reload, add_streamer, remove_streamer.
 * Access control is the broker's (an ACL on the request topics).
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "log.h"

/* Requests are a handle and a transaction: a few hundred bytes. The cap keeps a hostile body
 * (a 20 MB "transaction") from being parsed, held and echoed back. */
#define API_BODY_MAX 4096
/* A command names the answer's topic: longer or odder ones could cut it mid-character */
#define API_CMD_MAX 32

static int plain_command(const char *cmd)
{
    size_t n = strspn(cmd, "abcdefghijklmnopqrstuvwxyz0123456789_-");
    return n > 0 && n <= API_CMD_MAX && cmd[n] == '\0';
}

static void respond(struct bridge_out *o, const char *cmd, const cJSON *req, cJSON *data,
                    const char *error)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "status", error ? "error" : "ok");
    if (error) {
        cJSON_AddStringToObject(r, "error", error);
        cJSON_Delete(data);
    } else {
        cJSON_AddItemToObject(r, "data", data ? data : cJSON_CreateObject());
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(req, "transaction");
    if (t) {
        cJSON_AddItemToObject(r, "transaction", cJSON_Duplicate(t, 1));
    }
    bridge_out_notice_json(o, BRIDGE_TOPIC_RESPONSE, cmd, r);
}

void bridge_api_request(const struct bridge_api *api, const char *cmd, const char *body, size_t len)
{
    if (!plain_command(cmd)) {
        LOG_WARN(NULL, "api: a request on a command topic that is not a short lower-case word "
                       "is ignored (no answer: its topic would be invalid)");
        return;
    }
    cJSON *req = len <= API_BODY_MAX ? cJSON_ParseWithLength(body, len) : NULL;
    const char *user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "user"));
    const char *err = NULL;
    cJSON *data = NULL;
    if (len > API_BODY_MAX) {
        err = "the request body is over 4096 bytes";
    } else if (len && !req) {
        err = "the request body is not JSON";
    } else if (!strcmp(cmd, "health_check")) {
        data = cJSON_CreateObject();
        cJSON_AddBoolToObject(data, "healthy", 1);
    } else if (!strcmp(cmd, "info")) {
        data = api->info(api->ud);
    } else if (!strcmp(cmd, "reload")) {
        api->reload(api->ud);
    } else if (!strcmp(cmd, "reconnect") || !strcmp(cmd, "add_streamer") ||
               !strcmp(cmd, "remove_streamer")) {
        err = !user ? "\"user\" is required" : api->streamer_cmd(api->ud, cmd, user, req);
    } else {
        err = "unknown command (health_check, info, reconnect, reload, add_streamer, "
              "remove_streamer)";
    }
    respond(api->out, cmd, req, data, err);
    cJSON_Delete(req);
}
