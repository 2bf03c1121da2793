/** @file fuzz_files.c
 * libFuzzer target: arbitrary bytes as one of the files the daemon reads back at its start,
 * through the code that reads them: the first byte picks the file (its value modulo 3), the
 * rest is its content.
 *   - 0: `state_file`, the streamers added and removed at run time (runtime.c's runtime_load:
 *     JSON);
 *   - 1: the `.seen` file beside it, each streamer's newest msgIds (seen.c's seen_load: text
 *     lines). seen.c is compiled into this target (`#include`), so its entries can be checked
 *     without a test-only entry point in its code;
 *   - 2: `ttwid_file`, the direct path's devices (libtiktok's device.c: a JSON object a line).
 * The content is written to a file in a directory of its own (on /dev/shm when there is one:
 * the round trips below write with fsync) and read from there, as the daemon reads it.
 *
 * Invariants beyond ASan/UBSan:
 *   - state file: a file that could be read is never "unreadable" (-2); every handle kept is
 *     normalised (it normalises to itself), and no list holds one twice; the lists written back
 *     (runtime_save) read back as the same lists, in the same order;
 *   - seen file: a load that succeeds had our first line; at most SEEN_MAX_ENTRIES streamers,
 *     each handle normalised and kept once, with 0 to BRIDGE_SEEN_KEEP msgIds, none 0; a
 *     failure says why; the entries written back (seen_save) read back the same, without error;
 *   - ttwid_file: a file that could be read is never "unreadable"; at most 64 devices, each
 *     lent with a token and a User-Agent that may go into a header (no control byte but HTAB);
 *     one more device is saved, and the file then reads back with it.
 * Built by `make fuzz` with clang; `build/fuzz_files_replay` replays the corpus under gcc.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../bridge/seen.c"
#include "device.h"
#include "http.h"
#include "runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char in_path[256], out_path[256];

static void paths(void)
{
    static char dir[200];
    if (dir[0]) {
        return;
    }
    struct stat st;
    snprintf(dir, sizeof dir, "%s/tt-fuzz-files.XXXXXX",
             stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir)) {
        abort();
    }
    snprintf(in_path, sizeof in_path, "%s/in", dir);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
}

static void write_input(const uint8_t *p, size_t n)
{
    FILE *f = fopen(in_path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        abort();
    }
}

static int normalised(const char *h)
{
    char again[BRIDGE_HANDLE_SIZE];
    const char *why;
    return !bridge_handle_normalize(h, again, sizeof again, &why) && !strcmp(h, again);
}

/* ---- state_file ---- */

static void check_list(char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!normalised(list[i])) {
            abort();
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(list[i], list[j])) {
                abort();
            }
        }
    }
}

static void same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb) {
        abort();
    }
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i], b[i])) {
            abort();
        }
    }
}

static void state_file(void)
{
    struct runtime r, back;
    char err[256];
    if (runtime_load(&r, in_path) == -2 || r.unreadable) {
        abort();
    }
    check_list(r.added, r.n_added);
    check_list(r.removed, r.n_removed);
    free(r.path);
    r.path = xstrdup(out_path);
    if (runtime_save(&r, err, sizeof err) || runtime_load(&back, out_path)) {
        abort();
    }
    same_list(r.added, r.n_added, back.added, back.n_added);
    same_list(r.removed, r.n_removed, back.removed, back.n_removed);
    runtime_free(&back);
    runtime_free(&r);
}

/* ---- the .seen file ---- */

static size_t check_entries(const struct bridge_seen *s)
{
    size_t count = 0;
    for (const struct bridge_seen_entry *e = s->list; e; e = e->next, count++) {
        if (!normalised(e->handle) || e->n > BRIDGE_SEEN_KEEP || !e->from_file) {
            abort();
        }
        for (size_t i = 0; i < e->n; i++) {
            if (!e->ids[i]) {
                abort();
            }
        }
        for (const struct bridge_seen_entry *o = s->list; o != e; o = o->next) {
            if (!strcmp(o->handle, e->handle)) {
                abort();
            }
        }
    }
    if (count > SEEN_MAX_ENTRIES) {
        abort();
    }
    return count;
}

static const struct bridge_seen_entry *find_entry(const struct bridge_seen *s, const char *h)
{
    const struct bridge_seen_entry *e = s->list;
    while (e && strcmp(e->handle, h)) {
        e = e->next;
    }
    return e;
}

static void seen_file(const uint8_t *p, size_t n)
{
    struct bridge_seen s, back;
    char err[256] = "";
    int rc = seen_load(&s, in_path, err, sizeof err);
    size_t magic = sizeof SEEN_MAGIC; /* the line and its '\n' */
    if ((rc && !err[0]) || (!rc && (n < magic || memcmp(p, SEEN_MAGIC "\n", magic)))) {
        abort();
    }
    size_t count = check_entries(&s);
    /* written back as a run that stopped every streamer it read would write them */
    for (struct bridge_seen_entry *e = s.list; e; e = e->next) {
        e->from_file = 0;
    }
    free(s.path);
    s.path = xstrdup(out_path);
    if (seen_save(&s, err, sizeof err) || seen_load(&back, out_path, err, sizeof err) ||
        check_entries(&back) != count) {
        abort();
    }
    for (const struct bridge_seen_entry *e = s.list; e; e = e->next) {
        const struct bridge_seen_entry *b = find_entry(&back, e->handle);
        if (!b || b->n != e->n || memcmp(b->ids, e->ids, e->n * sizeof *e->ids)) {
            abort();
        }
    }
    seen_free(&back);
    seen_free(&s);
}

/* ---- ttwid_file ---- */

#define DEVICES_CAP 64 /* device.c's DEVICES_MAX */

static void check_device(const struct tt_device *x)
{
    if (!x->token[0] || !x->ua[0] || !tt__header_safe(x->token, strlen(x->token)) ||
        !tt__header_safe(x->ua, strlen(x->ua))) {
        abort();
    }
}

static void devices_file(void)
{
    struct tt_devices *d, *back;
    struct tt_devices_stats st, again;
    struct tt_device x;
    unsigned lent = 0;
    if (tt_devices_new(&d, in_path, 1)) {
        return; /* out of memory */
    }
    tt_devices_stats(d, &st);
    if (tt_devices_unreadable(d) || st.devices > DEVICES_CAP) {
        abort();
    }
    while (tt__devices_take(d, &x)) { /* one client each: every usable device once */
        check_device(&x);
        lent++;
    }
    if (lent != st.devices - st.blocked) {
        abort();
    }
    enum tt_err rc = tt__devices_add(d, "1%7Cminted", "Mozilla/5.0 (fuzz)", &x);
    tt_devices_stats(d, &st);
    tt_devices_free(d);
    if (rc || st.save_failed) {
        if (rc != TT_ERR_TOO_LARGE || st.devices != DEVICES_CAP) { /* full, all lent: no room */
            abort();
        }
        return;
    }
    if (tt_devices_new(&back, in_path, 1)) {
        return;
    }
    tt_devices_stats(back, &again);
    if (again.devices != st.devices) {
        abort();
    }
    tt_devices_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    paths();
    write_input(data + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        state_file();
        break;
    case 1:
        seen_file(data + 1, size - 1);
        break;
    default:
        devices_file();
    }
    return 0;
}
