/** @file fuzz_api.c
 * libFuzzer target: arbitrary bytes as a runtime API request, `<cmd>\n<body>` (the command is
 * the last level of <base>/bridge/request/<cmd>, the body the MQTT payload), through
 * bridge_api_request() and its command table, with the rest of the daemon stubbed (no streamer
 * is ever found; adding one fails to start it) and a stub output that checks each answer.
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
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "handle.h"
#include "log.h"
#include "notices.h"
#include "out.h"
#include "report.h"
#include "runtime.h"
#include "streamers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BODY_CAP   4096 /* api.c's cap */
#define ANSWER_MAX (6 * BODY_CAP + 1024)

static struct {
    const char *cmd;
    const cJSON *req; /* the body as cJSON reads it, NULL if not JSON or over the cap */
    int answers;
} now;

/* ---- what api.c calls in the rest of the daemon ---- */
atomic_int bridge_log_level = BRIDGE_LOG_ERROR;

void bridge_log(int level, const char *user, const char *fmt, ...)
{
    (void)level, (void)user, (void)fmt;
}

cJSON *bridge_info_json(struct bridge *b)
{
    (void)b;
    return cJSON_CreateObject();
}

void bridge_report_info(struct bridge *b)
{
    (void)b;
}

struct streamer *bridge_streamer_find(struct bridge *b, const char *handle)
{
    (void)b, (void)handle;
    return NULL;
}

void bridge_streamer_start_runtime(struct bridge *b, const char *handle)
{
    (void)b, (void)handle;
}

const char *bridge_streamer_topic_taken(struct bridge *b, const char *handle)
{
    (void)b;
    return bridge_topic_reserved(handle) ? "reserved" : NULL;
}

void bridge_streamer_remove(struct bridge *b, struct streamer *s)
{
    (void)b, (void)s;
}

void bridge_out_announce(struct bridge_out *o, const char *handle, const char *user)
{
    (void)o, (void)handle, (void)user;
}

const struct bridge_streamer *bridge_cfg_find_streamer(const struct bridge_cfg *cfg,
                                                       const char *handle)
{
    (void)cfg, (void)handle;
    return NULL;
}

void runtime_note_added(struct runtime *r, const char *handle, int in_config)
{
    (void)r, (void)handle, (void)in_config;
}

void runtime_note_removed(struct runtime *r, const char *handle, int in_config)
{
    (void)r, (void)handle, (void)in_config;
}

int runtime_save(const struct runtime *r, char *err, size_t errlen)
{
    (void)r, (void)err, (void)errlen;
    return 0;
}

void bridge_event_simple(struct bridge_out *o, const char *type, const char *user)
{
    (void)o, (void)type, (void)user;
}

void streamer_reconnect(struct streamer *s)
{
    (void)s;
}

static void check_transaction(const cJSON *answer)
{
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(now.req, "transaction");
    const cJSON *got = cJSON_GetObjectItemCaseSensitive(answer, "transaction");
    if (!want != !got || (want && !cJSON_Compare(want, got, 1))) {
        abort();
    }
}

void bridge_out_notice_json(struct bridge_out *o, enum bridge_topic_kind t, const char *arg,
                            cJSON *j)
{
    (void)o;
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
    int ok = status && !strcmp(status, "ok");
    if (t != BRIDGE_TOPIC_RESPONSE || strcmp(arg, now.cmd) || !cJSON_IsObject(j) || !status ||
        (!ok && strcmp(status, "error")) ||
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct bridge b;
    static char no_instance[] = "";
    b.cfg.bridge.shard.i = b.cfg.bridge.shard.n = 1; /* one instance: it answers every request */
    b.cfg.bridge.instance = no_instance;
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
    bridge_api_request(&b, cmd, body, body_len);
    if (b.reload) { /* the main loop's part: every other reload finds errors in the file */
        static int reloads;
        b.reload = 0;
        bridge_api_reloaded(&b, reloads++ % 2 ? "bridge.ini:3: qos: 9 is out of range" : NULL);
    }
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
