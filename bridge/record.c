/** @file record.c
 * record_dir: every raw frame of a streamer, as received, in the layout tiktok-live-sim
 * --replay reads (contrib/sim/README.md "Replay"): one directory per room,
 *
 *   <record_dir>/<handle>/<room_id>/00000001.bin, 00000002.bin, ...   the frames, in order
 *   <record_dir>/<handle>/<room_id>/frames.jsonl  {"frame":"00000001.bin","ms":T} per frame
 *
 * T is the arrival time in ms (wall clock at the room's first frame, then advanced on the
 * monotonic clock, so it never goes back). The frames come from libtiktok's raw hook, so they
 * are all push frames: the initial fetch and polling answers arrive wrapped as one.
 *
 * Threads: everything here runs on the streamer's own thread (the hook is called from inside
 * tt_client_connect/service), never on the MQTT side; a frame costs one small file and one
 * line, written with write(2) as it arrives (no user-space buffer: a daemon crash loses
 * nothing received). No fsync per frame: frames.jsonl and the room's directory are fsynced
 * when the recording of a room ends (stream end, relive, stop); until then the kernel writes
 * back on its own (a power loss may cost the last half minute).
 *
 * Safety: directories are made 0750 and files 0640, each level opened with O_NOFOLLOW relative
 * to the one above (openat), so neither a symlink planted under record_dir nor a hostile room
 * id can lead elsewhere; the handle is already validated, the room id must be digits.
 *
 * Failure: an error (disk full, permission, cap reached) gets one log line and stops the
 * recording of that room; the stream and its events go on. The next room tries again.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "record.h"
#include "xalloc.h"

#define RECORD_MAX_FRAMES 10000000u /* what tiktok-live-sim --replay reads (its FRAMES_MAX) */

struct bridge_rec {
    char *root;
    char handle[BRIDGE_HANDLE_SIZE];
    uint64_t max_bytes;
    char room[32];      /* the room being recorded, or the one that failed; "" before any */
    int dfd, jfd;       /* the room's directory and its frames.jsonl, -1 when closed */
    int failed;         /* this room's recording stopped */
    uint32_t next;      /* number of the next frame */
    uint64_t bytes;     /* of the room's .bin files so far */
    int64_t base_unix;  /* wall clock at the first frame of this session ... */
    uint64_t base_mono; /* ... and the monotonic clock then */
    int64_t last_ms;    /* the last T written: T never goes back, even across a restart */
};

struct bridge_rec *record_new(const char *root, const char *handle, uint64_t max_bytes)
{
    struct bridge_rec *r = xcalloc(1, sizeof *r);
    r->root = xstrdup(root);
    snprintf(r->handle, sizeof r->handle, "%s", handle);
    r->max_bytes = max_bytes;
    r->dfd = r->jfd = -1;
    return r;
}

/* A name that stays one level down: not empty, not "." or "..", no '/'. */
static int safe_name(const char *s)
{
    return s[0] && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

/* The directory `name` under `at`, made 0750 if missing; never a symlink. -1 with errno. */
static int subdir(int at, const char *name)
{
    if (!safe_name(name)) {
        errno = EINVAL;
        return -1;
    }
    if (mkdirat(at, name, 0750) && errno != EEXIST) {
        return -1;
    }
    return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            errno = w < 0 ? errno : EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A room directory that exists already (a restart, a reconnect after a stream end): go on
 * after its highest frame, counting its bytes against the cap. */
static int scan_existing(struct bridge_rec *r)
{
    int fd = dup(r->dfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    struct dirent *de;
    if (!d) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (strspn(de->d_name, "0123456789") != 8 || strcmp(de->d_name + 8, ".bin") ||
            fstatat(r->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
            continue; /* not one of ours: exactly 8 digits, so k <= 99999999 */
        }
        unsigned long k = strtoul(de->d_name, NULL, 10);
        r->bytes += (uint64_t)st.st_size;
        r->next = k >= r->next ? (uint32_t)k + 1 : r->next;
    }
    closedir(d);
    return 0;
}

/* The last T of an existing frames.jsonl, so that T goes on from there. */
static void read_last_ms(struct bridge_rec *r)
{
    char tail[256];
    off_t size = lseek(r->jfd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof tail - 1 ? size - (off_t)sizeof tail + 1 : 0;
    ssize_t n = size > 0 ? pread(r->jfd, tail, sizeof tail - 1, from) : 0;
    tail[n > 0 ? n : 0] = '\0';
    for (char *p = tail; (p = strstr(p, "\"ms\":")) != NULL; p += 5) {
        long long t = strtoll(p + 5, NULL, 10);
        r->last_ms = t > r->last_ms ? t : r->last_ms;
    }
}

static int open_room(struct bridge_rec *r)
{
    int root = open(r->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0 && errno == ENOENT && mkdir(r->root, 0750) == 0) {
        root = open(r->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    int hfd = root < 0 ? -1 : subdir(root, r->handle);
    r->dfd = hfd < 0 ? -1 : subdir(hfd, r->room);
    int saved = errno;
    if (root >= 0) {
        close(root);
    }
    if (hfd >= 0) {
        close(hfd);
    }
    errno = saved;
    if (r->dfd < 0) {
        return -1;
    }
    r->next = 1;
    r->bytes = 0;
    r->last_ms = 0;
    if (scan_existing(r)) {
        return -1;
    }
    r->jfd = openat(r->dfd, "frames.jsonl", O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                    0640);
    if (r->jfd < 0) {
        return -1;
    }
    read_last_ms(r);
    return 0;
}

static void fail(struct bridge_rec *r, const char *what)
{
    LOG_ERR(r->handle, "recording stopped: %s/%s/%s: %s: %s (events go on unrecorded)", r->root,
            r->handle, r->room, what, strerror(errno));
    record_close(r);
    r->failed = 1;
}

/* One frame: its file, then its line (a frame without a line replays with the one before). */
static int write_frame(struct bridge_rec *r, const struct tt_raw_frame *f)
{
    char name[16], line[64];
    snprintf(name, sizeof name, "%08" PRIu32 ".bin", r->next);
    int fd = openat(r->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) {
        return -1;
    }
    if (write_all(fd, f->data, f->len) || close(fd)) {
        int saved = errno;
        close(fd);                 /* after a failed close: EBADF, harmless */
        unlinkat(r->dfd, name, 0); /* no partial frame: it would replay as garbage */
        errno = saved;
        return -1;
    }
    int64_t t = r->base_unix + (int64_t)(f->mono_ms - r->base_mono);
    r->last_ms = t > r->last_ms ? t : r->last_ms;
    int n = snprintf(line, sizeof line, "{\"frame\":\"%s\",\"ms\":%" PRId64 "}\n", name,
                     r->last_ms);
    if (write_all(r->jfd, line, (size_t)n)) {
        return -1;
    }
    r->next++;
    r->bytes += f->len;
    return 0;
}

/* A new room: the recording of the last one ends, this one's directory is opened (made). */
static void start_room(struct bridge_rec *r, const struct tt_raw_frame *f)
{
    record_close(r);
    snprintf(r->room, sizeof r->room, "%s", f->room_id);
    r->failed = 0;
    r->base_unix = f->unix_ms;
    r->base_mono = f->mono_ms;
    if (strspn(f->room_id, "0123456789") != strlen(f->room_id) || !f->room_id[0]) {
        errno = EINVAL;
        fail(r, "room id is not a number");
    } else if (open_room(r)) {
        fail(r, "cannot open the room's directory");
    } else {
        LOG_INFO(r->handle, "recording room %s to %s/%s/%s/ from frame %" PRIu32, r->room, r->root,
                 r->handle, r->room, r->next);
    }
}

void record_hook(const struct tt_raw_frame *f, void *ud)
{
    struct bridge_rec *r = ud;
    if (strcmp(f->room_id, r->room) || (r->dfd < 0 && !r->failed)) {
        start_room(r, f);
    }
    if (r->failed) {
        return;
    }
    if (r->next > RECORD_MAX_FRAMES || r->bytes + f->len > r->max_bytes) {
        LOG_ERR(r->handle,
                "recording stopped: %s/%s/%s reached its cap (%" PRIu32 " frames, %" PRIu64
                " bytes; at most %u frames, %" PRIu64 " bytes); events go on unrecorded",
                r->root, r->handle, r->room, r->next - 1, r->bytes, RECORD_MAX_FRAMES,
                r->max_bytes);
        record_close(r);
        r->failed = 1;
        return;
    }
    if (write_frame(r, f)) {
        fail(r, "cannot write a frame");
    }
}

void record_close(struct bridge_rec *r)
{
    if (!r) {
        return;
    }
    if (r->jfd >= 0) {
        fsync(r->jfd); /* the recording is complete: make it durable once, not per frame */
        close(r->jfd);
        r->jfd = -1;
    }
    if (r->dfd >= 0) {
        fsync(r->dfd); /* the names of its files */
        close(r->dfd);
        r->dfd = -1;
    }
}

void record_free(struct bridge_rec *r)
{
    if (!r) {
        return;
    }
    record_close(r);
    free(r->root);
    free(r);
}
