/** @file api.c
 * The runtime API on <base>/bridge/request/<cmd> (docs/mqtt.md §5): a JSON body that may
 * carry "transaction", echoed in the answer on <base>/bridge/response/<cmd>:
 *   {"status":"ok","data":{…},"transaction":…} or {"status":"error","error":"…",…}.
 * Commands: health_check, info, reconnect {"user"}, reload, add_streamer, remove_streamer.
 * Access control is the broker's (an ACL on the request topics).
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "handle.h"
#include "log.h"
#include "notices.h"
#include "report.h"
#include "streamers.h"

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

static void respond(struct bridge *b, const char *cmd, const cJSON *req, cJSON *data,
                    const char *error)
{
    struct bridge_out *o = &b->out;
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
    const char *inst = b->cfg.bridge.instance;
    if (inst && *inst) { /* several instances may answer one request: which is it */
        cJSON_AddStringToObject(r, "instance", inst);
    }
    bridge_out_notice_json(o, BRIDGE_TOPIC_RESPONSE, cmd, r);
}

/* ---- the commands ---- */

/* A command's answer: NULL and maybe `*data`, or an error text. `handle` is the request's
 * normalized "user" for the commands that need one, else NULL. */
typedef const char *cmd_fn(struct bridge *b, const char *handle, cJSON **data);

static const char *cmd_health_check(struct bridge *b, const char *handle, cJSON **data)
{
    (void)b, (void)handle;
    *data = cJSON_CreateObject();
    cJSON_AddBoolToObject(*data, "healthy", 1);
    return NULL;
}

static const char *cmd_info(struct bridge *b, const char *handle, cJSON **data)
{
    (void)handle;
    *data = bridge_info_json(b);
    return NULL;
}

/* Answered once the main loop has reloaded (bridge_api_reloaded), with what the reload found:
 * an "ok" sent ahead of it told the caller nothing of a file that was then refused. Requests
 * that arrive together share one reload, as SIGHUPs do. */
static const char deferred[] = "answered after the reload";

static const char *cmd_reload(struct bridge *b, const char *handle, cJSON **data)
{
    (void)handle, (void)data;
    b->reload = 1;
    return deferred;
}

static const char *cmd_reconnect(struct bridge *b, const char *handle, cJSON **data)
{
    struct streamer *s = bridge_streamer_find(b, handle);
    (void)data;
    if (!s) {
        return "not followed";
    }
    streamer_reconnect(s);
    return NULL;
}

/* After a change of the streamer set: bridge/info, the added streamer's discovery (`added`,
 * NULL after a removal: the others' is unchanged, and announcing every streamer again cost 11
 * messages each per request: 200 adds queued 98,015), and state_file. bridge/info goes out
 * once after the requests at hand (the main loop's bridge_report_periodic): it lists every
 * streamer (224 KB for 2,000), and a copy per request overflowed max_buffered_bytes on 300
 * adds, which dropped every answer. */
static const char *changed(struct bridge *b, struct streamer *added)
{
    static char why[256]; /* the main thread's alone: requests are handled there */
    atomic_store(&b->out.info_dirty, 1);
    if (added) {
        bridge_out_announce(&b->out, added->cfg.handle, added->topic);
    }
    if (runtime_save(&b->rt, why, sizeof why)) {
        /* the change stands, but the caller must hear that a restart undoes it */
        LOG_ERR(NULL, "cannot write %s (%s): the change lasts until a restart", b->rt.path, why);
        return "done, but state_file cannot be written: the change lasts until a restart";
    }
    return NULL;
}

static const char *cmd_add_streamer(struct bridge *b, const char *handle, cJSON **data)
{
    (void)data;
    if (bridge_streamer_find(b, handle)) {
        return "already followed";
    }
    const char *taken = bridge_streamer_topic_taken(b, handle);
    if (taken) {
        return taken;
    }
    runtime_note_added(&b->rt, handle, bridge_cfg_find_streamer(&b->cfg, handle) != NULL);
    bridge_streamer_start_runtime(b, handle);
    if (!bridge_streamer_find(b, handle)) {
        return "cannot start it (see the log)";
    }
    bridge_event_simple(&b->out, "streamer_added", handle);
    return changed(b, bridge_streamer_find(b, handle));
}

static const char *cmd_remove_streamer(struct bridge *b, const char *handle, cJSON **data)
{
    struct streamer *s = bridge_streamer_find(b, handle);
    (void)data;
    if (!s) {
        return "not followed";
    }
    runtime_note_removed(&b->rt, handle, bridge_cfg_find_streamer(&b->cfg, handle) != NULL);
    bridge_streamer_remove(b, s);
    bridge_event_simple(&b->out, "streamer_removed", handle);
    return changed(b, NULL);
}

/* The commands, in the order the "unknown command" answer lists them. */
static const struct {
    const char *name;
    bool needs_user; /* "user": a handle, normalized before the handler sees it */
    cmd_fn *fn;
} commands[] = {
    { "health_check", false, cmd_health_check }, { "info", false, cmd_info },
    { "reconnect", true, cmd_reconnect },        { "reload", false, cmd_reload },
    { "add_streamer", true, cmd_add_streamer },  { "remove_streamer", true, cmd_remove_streamer },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const char *unknown_command(void)
{
    static char text[160];
    size_t o = (size_t)snprintf(text, sizeof text, "unknown command (");
    for (size_t i = 0; i < N_COMMANDS && o < sizeof text; i++) {
        o += (size_t)snprintf(text + o, sizeof text - o, "%s%s", i ? ", " : "", commands[i].name);
    }
    if (o < sizeof text) {
        snprintf(text + o, sizeof text - o, ")");
    }
    return text;
}

/* Answers to a request about a streamer come from the shard that owns it alone: the others'
 * "not followed" would contradict it under the same transaction. */
static const char not_mine[] = "another shard owns it";

/* Run command `cmd` for `req`; NULL, an error text, or not_mine (no answer). */
static const char *dispatch(struct bridge *b, const char *cmd, const cJSON *req, cJSON **data)
{
    char handle[BRIDGE_HANDLE_SIZE];
    const char *user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "user"));
    const char *why = NULL;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(cmd, commands[i].name) != 0) {
            continue;
        }
        if (!commands[i].needs_user) {
            return commands[i].fn(b, NULL, data);
        }
        if (!user) {
            return "\"user\" is required";
        }
        if (bridge_handle_normalize(user, handle, sizeof handle, &why)) {
            return why ? why : "invalid handle";
        }
        if (!bridge_shard_owns(handle, b->cfg.bridge.shard.i, b->cfg.bridge.shard.n)) {
            return not_mine;
        }
        return commands[i].fn(b, handle, data);
    }
    return unknown_command();
}

/* Whether the body hides a NUL in the JSON, raw or escaped (\u0000): cJSON's strings end at
 * it, so "ab\u0000/#" would be read as the handle "ab", and another streamer than the one
 * asked for followed. NULs after the JSON (a C string's terminator sent along) are harmless.
 * In JSON a backslash only ever starts an escape, so pairs are skipped without tracking
 * strings. */
static bool hides_nul(const char *s, size_t len)
{
    while (len && s[len - 1] == '\0') {
        len--;
    }
    if (memchr(s, '\0', len)) {
        return true;
    }
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\') {
            continue;
        }
        if (s[i + 1] == 'u' && i + 5 < len && !memcmp(s + i + 2, "0000", 4)) {
            return true;
        }
        i++;
    }
    return false;
}

void bridge_api_request(struct bridge *b, const char *cmd, const char *body, size_t len)
{
    if (!plain_command(cmd)) {
        LOG_WARN(NULL, "api: a request on a command topic that is not a short lower-case word "
                       "is ignored (no answer: its topic would be invalid)");
        return;
    }
    cJSON *req = len <= API_BODY_MAX ? cJSON_ParseWithLength(body, len) : NULL;
    const char *err = NULL;
    cJSON *data = NULL;
    if (len > API_BODY_MAX) {
        err = "the request body is over 4096 bytes";
    } else if (len && !req) {
        err = "the request body is not JSON";
    } else if (hides_nul(body, len)) {
        err = "the request body holds a NUL character (\\u0000)";
    } else {
        err = dispatch(b, cmd, req, &data);
    }
    if (err == not_mine) {
        LOG_DEBUG(NULL, "api: %s about a streamer of another shard: its owner answers", cmd);
        cJSON_Delete(data);
    } else if (err == deferred) {
        cJSON *w = cJSON_CreateObject(); /* what the answer needs of the request */
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(req, "transaction");
        if (t) {
            cJSON_AddItemToObject(w, "transaction", cJSON_Duplicate(t, 1));
        }
        if (!b->reload_waiters) {
            b->reload_waiters = cJSON_CreateArray();
        }
        cJSON_AddItemToArray(b->reload_waiters, w);
    } else {
        respond(b, cmd, req, data, err);
    }
    cJSON_Delete(req);
}

void bridge_api_reloaded(struct bridge *b, const char *why)
{
    char text[1600];
    const cJSON *w;
    if (!b->reload_waiters) {
        return;
    }
    snprintf(text, sizeof text, "the configuration has errors, the running one is kept: %s",
             why ? why : "");
    cJSON_ArrayForEach(w, b->reload_waiters)
    {
        respond(b, "reload", w, NULL, why ? text : NULL);
    }
    cJSON_Delete(b->reload_waiters);
    b->reload_waiters = NULL;
}
