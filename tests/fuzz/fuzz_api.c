/** @file fuzz_api.c
 * libFuzzer target: arbitrary bytes as a runtime API request, `<cmd>\n<body>` (the command is
 * the last level of <base>/bridge/request/<cmd>, the body the MQTT payload), through
 * bridge_api_request() with stub commands and a stub output that checks each answer.
 *
 * Invariants beyond ASan/UBSan: a command that is not a short plain word gets no answer (its
 * answer topic would be invalid); any other request gets exactly one, on bridge/response/<cmd>,
 * a JSON object whose "status" is "ok" with "data" or "error" with an "error" text; a request's
 * "transaction" comes back unchanged; a body over the cap is refused and never echoed, so an
 * answer stays small.
 * Built by `make fuzz` with clang; `build/fuzz_api_replay` replays the corpus under gcc.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "handle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BODY_CAP   4096 /* api.c's cap */
#define ANSWER_MAX (6 * BODY_CAP + 1024)

static struct {
    const char *cmd;
    const cJSON *req; /* the body as cJSON reads it, NULL if not JSON or over the cap */
    int answers;
} now;

/* ---- what api.c calls in the rest of the daemon ---- */
int bridge_log_level = BRIDGE_LOG_ERROR;

void bridge_log(int level, const char *user, const char *fmt, ...)
{
    (void)level;
    (void)user;
    (void)fmt;
}

static void check_transaction(const cJSON *answer)
{
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(now.req, "transaction");
    const cJSON *got = cJSON_GetObjectItemCaseSensitive(answer, "transaction");
    if (!want != !got || (want && !cJSON_Compare(want, got, 1))) {
        abort();
    }
}

void bridge_out_publish_json(struct bridge_out *o, const char *rest, cJSON *j, int qos,
                             unsigned flags)
{
    char topic[128];
    (void)o;
    (void)qos;
    (void)flags;
    snprintf(topic, sizeof topic, "bridge/response/%s", now.cmd);
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
    int ok = status && !strcmp(status, "ok");
    if (strcmp(rest, topic) || !cJSON_IsObject(j) || !status || (!ok && strcmp(status, "error")) ||
        (ok && !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "data"))) ||
        (!ok && !cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error")))) {
        abort();
    }
    check_transaction(j);
    char *txt = cJSON_PrintUnformatted(j);
    if (txt && strlen(txt) > ANSWER_MAX) {
        abort();
    }
    cJSON_free(txt);
    cJSON_Delete(j);
    now.answers++;
}

static cJSON *info(void *ud)
{
    (void)ud;
    return cJSON_CreateObject();
}

static void reload(void *ud)
{
    (void)ud;
}

static const char *streamer_cmd(void *ud, const char *cmd, const char *user, const cJSON *req)
{
    char h[BRIDGE_HANDLE_SIZE];
    const char *why = NULL;
    (void)ud;
    (void)cmd;
    (void)req;
    return bridge_handle_normalize(user, h, sizeof h, &why) ? why : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct bridge_api api = { NULL, NULL, info, reload, streamer_cmd };
    const uint8_t *nl = memchr(data, '\n', size);
    size_t cmd_len = nl ? (size_t)(nl - data) : size;
    size_t body_len = nl ? size - cmd_len - 1 : 0;
    char *cmd = malloc(cmd_len + 1);
    char *body = malloc(body_len ? body_len : 1); /* exact size, not NUL-terminated */
    if (!cmd || !body) {
        free(cmd);
        free(body);
        return 0;
    }
    memcpy(cmd, data, cmd_len);
    cmd[cmd_len] = '\0';
    memcpy(body, nl ? nl + 1 : data, body_len);
    cJSON *req = body_len <= BODY_CAP ? cJSON_ParseWithLength(body, body_len) : NULL;
    now.cmd = cmd;
    now.req = req;
    now.answers = 0;
    bridge_api_request(&api, cmd, body, body_len);
    size_t plain = strspn(cmd, "abcdefghijklmnopqrstuvwxyz0123456789_-");
    int want = plain > 0 && plain <= 32 && plain == strlen(cmd);
    if (now.answers != want) {
        abort();
    }
    cJSON_Delete(req);
    free(cmd);
    free(body);
    return 0;
}
