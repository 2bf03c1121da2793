/** @file replay.c
 * --replay DIR: the `*.bin` frames of DIR, in name order, to the room of --user. Two sources
 * are known: an oracle corpus (tests/oracle/gen.js: NNNNNN.bin + expected.jsonl), sent at
 * --rate frames per second (default 1000; at least 100, as the tests require), and a recording
 * (the bridge's record_dir, docs/bridge.md "Recording"), whose `frames.jsonl` gives each
 * frame's receive time: it is replayed at that pace (times --speed), or at --rate with --fast.
 *
 * The replay starts when the room's first WebSocket opens and sends each frame exactly once;
 * then the room ends (room info status 4, a live page without a room id), so a client that
 * checks again sees an offline streamer and not a second copy. im/fetch carries no backlog.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"
#include "varint.h"

#define FRAME_FILE_MAX (16 * 1024 * 1024)
#define FRAMES_MAX     10000000
#define PER_TICK       256

struct replay {
    char **files;
    int64_t *ms; /* recorded receive times, NULL for a corpus */
    uint32_t n;
    uint32_t next;
};

static bool is_bin(const char *name)
{
    size_t n = strlen(name);

    return n > 4 && strcmp(name + n - 4, ".bin") == 0 && name[0] != '.';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_frames(const char *dir, struct replay *rp)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    uint32_t cap = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL && rp->n < FRAMES_MAX) {
        if (!is_bin(de->d_name))
            continue;
        if (rp->n == cap) {
            char **nf = realloc(rp->files, (cap = cap ? cap * 2 : 1024) * sizeof(*nf));

            if (nf == NULL)
                break;
            rp->files = nf;
        }
        rp->files[rp->n] = strdup(de->d_name);
        if (rp->files[rp->n] == NULL)
            break;
        rp->n++;
    }
    closedir(d);
    if (rp->n > 0)
        qsort(rp->files, rp->n, sizeof(*rp->files), cmp_str);
    return 0;
}

static int64_t time_of(cJSON *times, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(times, name);

    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

/* frames.jsonl: {"frame":"000001.bin","ms":1700000000123} per line. */
static void load_times(const char *dir, struct replay *rp)
{
    char path[4096];
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    cJSON *times = cJSON_CreateObject();
    int64_t last = 0;

    snprintf(path, sizeof(path), "%s/frames.jsonl", dir);
    f = fopen(path, "r");
    if (f == NULL || times == NULL) {
        if (f != NULL)
            fclose(f);
        cJSON_Delete(times);
        return;
    }
    while (getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *fr = cJSON_GetObjectItemCaseSensitive(o, "frame");
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(o, "ms");

        if (cJSON_IsString(fr) && cJSON_IsNumber(ms))
            cJSON_AddNumberToObject(times, fr->valuestring, ms->valuedouble);
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    rp->ms = calloc(rp->n ? rp->n : 1, sizeof(*rp->ms));
    for (uint32_t i = 0; rp->ms != NULL && i < rp->n; i++) {
        int64_t t = time_of(times, rp->files[i]);

        /* a frame without a time goes with the one before it */
        rp->ms[i] = last = t >= 0 ? t : last;
    }
    cJSON_Delete(times);
}

int replay_setup(struct sim *s)
{
    struct replay *rp = calloc(1, sizeof(*rp));
    struct room *r;
    uint32_t u;

    if (rp == NULL || list_frames(s->replay_dir, rp) != 0 || rp->n == 0) {
        fprintf(stderr, "tiktok-live-sim: %s: no *.bin frames to replay\n", s->replay_dir);
        free(rp);
        return -1;
    }
    load_times(s->replay_dir, rp);
    u = sim_user_get(s, s->user);
    if (u == SIM_NONE || (r = sim_room_add(s, s->user, u)) == NULL)
        return -1;
    r->sess[0].room_id = s->replay_room_id;
    r->rp = rp;
    return 0;
}

/* The logId of a push frame (field 2), so the acks of a replay can be matched too. */
static int64_t frame_log_id(const unsigned char *p, size_t n)
{
    size_t i = 0, k;

    while (i < n) {
        uint64_t key, v = 0;

        if ((k = common_varint(p + i, n - i, 10, &key)) == 0)
            return 0;
        i += k;
        if ((key & 7) == 0 || (key & 7) == 2) {
            if ((k = common_varint(p + i, n - i, 10, &v)) == 0)
                return 0;
            i += k;
        }
        if (key >> 3 == 2 && (key & 7) == 0)
            return (int64_t)v;
        if ((key & 7) == 2)
            i += v < n - i ? (size_t)v : n - i;
        else if ((key & 7) == 1)
            i += 8;
        else if ((key & 7) == 5)
            i += 4;
        else if ((key & 7) != 0)
            return 0;
    }
    return 0;
}

static struct frame *read_frame(const char *dir, const char *name)
{
    char path[4096];
    FILE *f;
    long size;
    struct frame *fr = NULL;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && size <= FRAME_FILE_MAX &&
        fseek(f, 0, SEEK_SET) == 0 && (fr = frame_new((size_t)size)) != NULL) {
        if (fread(FRAME_DATA(fr), 1, (size_t)size, f) != (size_t)size) {
            frame_unref(fr);
            fr = NULL;
        } else {
            fr->log_id = frame_log_id(FRAME_DATA(fr), fr->len);
        }
    }
    fclose(f);
    return fr;
}

/* When frame i is due, in ms after the session start. */
static int64_t due_ms(const struct sim *s, const struct replay *rp, uint32_t i)
{
    if (rp->ms != NULL && !s->replay_fast)
        return (int64_t)((double)(rp->ms[i] - rp->ms[0]) / s->replay_speed);
    return (int64_t)((double)i * 1000.0 / s->replay_rate);
}

int replay_tick(struct sim *s, struct room *r, int64_t now)
{
    struct replay *rp = r->rp;
    int sent = 0;

    while (rp->next < rp->n && sent < PER_TICK && due_ms(s, rp, rp->next) <= now - r->t0_ms &&
           !room_choked(r)) {
        struct frame *f = read_frame(s->replay_dir, rp->files[rp->next]);

        if (f == NULL)
            fprintf(stderr, "tiktok-live-sim: %s/%s: cannot read, skipped\n", s->replay_dir,
                    rp->files[rp->next]);
        else
            room_push(s, r, f);
        rp->next++;
        sent++;
    }
    if (rp->next >= rp->n)
        room_end(s, r, 0);
    return 0;
}

bool replay_done(const struct room *r)
{
    return r->rp != NULL && r->rp->next >= r->rp->n;
}

void replay_free(struct replay *rp)
{
    for (uint32_t i = 0; i < rp->n; i++)
        free(rp->files[i]);
    free(rp->files);
    free(rp->ms);
    free(rp);
}
