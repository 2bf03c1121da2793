/** @file seen.c
 * The msgIds each streamer has published, carried over its restarts (seen.h says why).
 *
 * The file is text, written whole at exit (file_write_atomic): a first line
 * "tiktok2mqtt-seen 1", then one line per streamer, its handle and its newest msgIds in
 * decimal, oldest first. Nothing in it is trusted: a line whose handle is not a handle, or
 * whose ids are not numbers, is left out, and so is everything past the caps.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_write.h"
#include "handle.h"
#include "seen.h"
#include "xalloc.h"

#define SEEN_MAGIC       "tiktok2mqtt-seen 1"
#define SEEN_MAX_ENTRIES 65536 /* more than a configuration may hold (10,000) */
#define SEEN_LINE_MAX    (BRIDGE_HANDLE_SIZE + BRIDGE_SEEN_KEEP * 21 + 2)

struct bridge_seen_entry {
    struct bridge_seen_entry *next;
    char handle[BRIDGE_HANDLE_SIZE];
    int from_file; /* read at start and not taken yet */
    size_t n;
    uint64_t ids[BRIDGE_SEEN_KEEP];
};

char *seen_path(const char *state_file, const char *instance)
{
    size_t n = strlen(state_file);
    if (n > 6 && !strcmp(state_file + n - 6, ".state")) {
        n -= 6;
    }
    return xasprintf("%.*s%s%s.seen", (int)n, state_file, *instance ? "." : "", instance);
}

static struct bridge_seen_entry **find(struct bridge_seen *s, const char *handle)
{
    struct bridge_seen_entry **pp = &s->list;
    while (*pp && strcmp((*pp)->handle, handle)) {
        pp = &(*pp)->next;
    }
    return pp;
}

/* An entry for `handle`, new or emptied, at the head of the list. */
static struct bridge_seen_entry *entry(struct bridge_seen *s, const char *handle)
{
    struct bridge_seen_entry **pp = find(s, handle), *e = *pp;
    if (e) {
        *pp = e->next;
    } else {
        e = xcalloc(1, sizeof *e);
        snprintf(e->handle, sizeof e->handle, "%s", handle);
    }
    e->next = s->list;
    s->list = e;
    e->n = 0;
    e->from_file = 0;
    return e;
}

/* One line: a handle, then ids. 0 when it is sound (kept), -1 when not (left out). */
static int read_line(struct bridge_seen *s, char *line)
{
    char h[BRIDGE_HANDLE_SIZE];
    const char *why;
    char *save = NULL, *tok = strtok_r(line, " \n", &save);
    if (!tok || bridge_handle_normalize(tok, h, sizeof h, &why) || strcmp(h, tok)) {
        return -1;
    }
    uint64_t ids[BRIDGE_SEEN_KEEP];
    size_t n = 0;
    while ((tok = strtok_r(NULL, " \n", &save))) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(tok, &end, 10);
        if (n == BRIDGE_SEEN_KEEP || errno || *end || tok[0] < '1' || tok[0] > '9') {
            return -1;
        }
        ids[n++] = v;
    }
    struct bridge_seen_entry *e = entry(s, h);
    memcpy(e->ids, ids, n * sizeof *ids);
    e->n = n;
    e->from_file = 1;
    return 0;
}

int seen_load(struct bridge_seen *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->path = xstrdup(path);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) {
            return 0; /* none yet */
        }
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    char *line = xmalloc(SEEN_LINE_MAX + 1);
    size_t entries = 0, bad = 0;
    int ours = fgets(line, SEEN_LINE_MAX + 1, f) && !strcmp(line, SEEN_MAGIC "\n");
    while (ours && fgets(line, SEEN_LINE_MAX + 1, f)) {
        size_t n = strlen(line);
        if (n && line[n - 1] != '\n' && !feof(f)) { /* longer than ours ever are */
            bad++;
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') {
            }
            continue;
        }
        if (entries == SEEN_MAX_ENTRIES || read_line(s, line)) {
            bad++;
            continue;
        }
        entries++;
    }
    fclose(f);
    free(line);
    if (!ours || bad) {
        snprintf(err, errlen, "%s",
                 ours ? "some lines are damaged: they are left out"
                      : "not a file of msgIds this bridge wrote: ignored");
        return -1;
    }
    return 0;
}

void seen_put(struct bridge_seen *s, const char *handle, const tt_client *c)
{
    uint64_t ids[BRIDGE_SEEN_KEEP];
    size_t n = tt_client_seen_ids(c, ids, BRIDGE_SEEN_KEEP);
    if (!n) {
        return; /* nothing published: what an earlier run kept still holds */
    }
    struct bridge_seen_entry *e = entry(s, handle);
    memcpy(e->ids, ids, n * sizeof *ids);
    e->n = n;
}

void seen_give(struct bridge_seen *s, const char *handle, tt_client *c)
{
    struct bridge_seen_entry **pp = find(s, handle), *e = *pp;
    if (!e) {
        return;
    }
    tt_client_mark_seen(c, e->ids, e->n);
    *pp = e->next;
    free(e);
}

int seen_save(const struct bridge_seen *s, char *err, size_t errlen)
{
    size_t cap = sizeof SEEN_MAGIC + 1, len = 0;
    for (const struct bridge_seen_entry *e = s->list; e; e = e->next) {
        cap += e->from_file ? 0 : SEEN_LINE_MAX;
    }
    char *out = xmalloc(cap);
    len += (size_t)snprintf(out, cap, "%s\n", SEEN_MAGIC);
    for (const struct bridge_seen_entry *e = s->list; e; e = e->next) {
        if (e->from_file) {
            continue;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s", e->handle);
        for (size_t i = 0; i < e->n; i++) {
            len += (size_t)snprintf(out + len, cap - len, " %llu", (unsigned long long)e->ids[i]);
        }
        out[len++] = '\n';
    }
    int rc = s->path ? file_write_atomic(s->path, out, len, err, errlen) : 0;
    free(out);
    return rc;
}

void seen_free(struct bridge_seen *s)
{
    while (s->list) {
        struct bridge_seen_entry *next = s->list->next;
        free(s->list);
        s->list = next;
    }
    free(s->path);
    s->path = NULL;
}
