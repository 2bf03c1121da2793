/** @file runtime.c
 * Streamers added and removed at run time (the add_streamer / remove_streamer API), kept in
 * [bridge] state_file so they survive a restart (docs/mqtt.md §5).
 *
 * The file is JSON: {"added":["handle",…],"removed":["handle",…]}. An added handle is followed
 * with the [tiktok] defaults; a removed one is not started even though the configuration names
 * it. The file is rewritten whole (file_write_atomic), so a crash never leaves half of it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_write.h"
#include "runtime.h"
#include "xalloc.h"

#define STATE_MAX_BYTES (1 << 20)

static int list_has(char *const *list, size_t n, const char *h)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(list[i], h)) {
            return 1;
        }
    }
    return 0;
}

static void list_add(char ***list, size_t *n, const char *h)
{
    if (list_has(*list, *n, h)) {
        return;
    }
    *list = xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = xstrdup(h);
}

static void list_del(char **list, size_t *n, const char *h)
{
    for (size_t i = 0; i < *n; i++) {
        if (!strcmp(list[i], h)) {
            free(list[i]);
            list[i] = list[--*n];
            return;
        }
    }
}

int runtime_is_added(const struct runtime *r, const char *h)
{
    return list_has(r->added, r->n_added, h);
}

int runtime_is_removed(const struct runtime *r, const char *h)
{
    return list_has(r->removed, r->n_removed, h);
}

void runtime_note_added(struct runtime *r, const char *h, int in_config)
{
    list_del(r->removed, &r->n_removed, h);
    if (!in_config) {
        list_add(&r->added, &r->n_added, h);
    }
}

void runtime_note_removed(struct runtime *r, const char *h, int in_config)
{
    list_del(r->added, &r->n_added, h);
    if (in_config) {
        list_add(&r->removed, &r->n_removed, h);
    }
}

static void read_list(const cJSON *arr, char ***list, size_t *n)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        char h[BRIDGE_HANDLE_SIZE];
        const char *why;
        if (cJSON_IsString(it) && !bridge_handle_normalize(it->valuestring, h, sizeof h, &why)) {
            list_add(list, n, h);
        }
    }
}

int runtime_load(struct runtime *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->path = xstrdup(path);
    FILE *f = fopen(path, "r");
    if (!f && errno == ENOENT) {
        return 0; /* none yet: nothing was changed at run time */
    }
    char *text = f ? xmalloc(STATE_MAX_BYTES + 1) : NULL;
    size_t n = f ? fread(text, 1, STATE_MAX_BYTES, f) : 0;
    /* Another user's file (a first run as root), a directory: what it holds is unknown, so
     * the next change must not overwrite it with a list that lacks it. */
    r->unreadable = !f ? errno : ferror(f) ? (errno ? errno : EIO) : 0;
    if (f) {
        fclose(f);
    }
    if (r->unreadable) {
        free(text);
        return -2;
    }
    text[n] = '\0';
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) {
        return -1; /* the caller says so; the state starts empty */
    }
    read_list(cJSON_GetObjectItemCaseSensitive(j, "added"), &r->added, &r->n_added);
    read_list(cJSON_GetObjectItemCaseSensitive(j, "removed"), &r->removed, &r->n_removed);
    cJSON_Delete(j);
    return 0;
}

int runtime_save(const struct runtime *r, char *err, size_t errlen)
{
    if (r->unreadable) {
        snprintf(err, errlen, "it could not be read at the start (%s), so it is not replaced",
                 strerror(r->unreadable));
        return -1;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "added",
                          cJSON_CreateStringArray((const char *const *)r->added, (int)r->n_added));
    cJSON_AddItemToObject(
            j, "removed",
            cJSON_CreateStringArray((const char *const *)r->removed, (int)r->n_removed));
    char *txt = cJSON_Print(j);
    cJSON_Delete(j);
    if (!txt) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = strlen(txt);
    char *line = xmalloc(n + 2);
    memcpy(line, txt, n);
    memcpy(line + n, "\n", 2);
    cJSON_free(txt);
    int rc = file_write_atomic(r->path, line, n + 1, err, errlen);
    free(line);
    return rc;
}

void runtime_free(struct runtime *r)
{
    xfree_strings(r->added, r->n_added);
    xfree_strings(r->removed, r->n_removed);
    free(r->path);
    memset(r, 0, sizeof *r);
}
