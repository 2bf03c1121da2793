/** @file test_record.c
 * The recorder of record_dir (bridge/record.c) without a network: the replay layout (frames
 * numbered from 1, frames.jsonl in order with times that never go back), a reopened room going
 * on after its last frame, a new room in a new directory, the byte cap, and every refusal with
 * exactly one log line: a room id that is not a number, a symlink planted for the handle, a
 * record_dir under a regular file, a write that fails half way (RLIMIT_FSIZE stands in for a
 * full disk) leaving no partial frame. Also prints what one frame costs, for docs/bridge.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "bridge.h"
#include "log.h"
#include "record.h"

static char tmp[256];
static char logpath[300];
static int saved_stderr = -1;

/* The bridge logs to stderr: catch it in a file to count the lines. */
static void log_capture(void)
{
    fflush(stderr);
    saved_stderr = dup(2);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
}

/* Stop catching; the number of lines that contain `needle`. */
static int log_count(const char *needle)
{
    char line[2048];
    int n = 0;
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    FILE *f = fopen(logpath, "r");
    while (f && fgets(line, sizeof line, f)) {
        n += strstr(line, needle) != NULL;
    }
    if (f) {
        fclose(f);
    }
    return n;
}

static void frame(struct bridge_rec *r, const char *room, const char *data, size_t len,
                  int64_t unix_ms, uint64_t mono_ms)
{
    struct tt_raw_frame f = { 0 };
    f.data = (const uint8_t *)data;
    f.len = len;
    f.source = TT_RAW_WEBSOCKET;
    f.unix_ms = unix_ms;
    f.mono_ms = mono_ms;
    f.room_id = room;
    record_hook(&f, r);
}

static char *slurp(const char *path, size_t *len)
{
    static char buf[65536];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    buf[n] = '\0';
    if (len) {
        *len = n;
    }
    return f ? buf : NULL;
}

/* `rel` under the test's directory exists (a symlink counts, unfollowed) */
static int exists(const char *rel)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    return lstat(p, &st) == 0;
}

static void test_layout(void)
{
    char p[512];
    size_t n;
    struct bridge_rec *r = record_new(strcat(strcpy(p, tmp), "/rec"), "alice", 1 << 20);
    frame(r, "111", "one", 3, 5000, 100);
    frame(r, "111", "two!", 4, 4000, 150); /* the wall clock stepped back: T does not */
    frame(r, "111", "three", 5, 4001, 175);
    record_close(r);
    snprintf(p, sizeof p, "%s/rec/alice/111/00000002.bin", tmp);
    CHECK(slurp(p, &n) && n == 4 && !memcmp(slurp(p, NULL), "two!", 4));
    snprintf(p, sizeof p, "%s/rec/alice/111/frames.jsonl", tmp);
    CHECK_HAS(slurp(p, NULL), "{\"frame\":\"00000001.bin\",\"ms\":5000}\n"
                              "{\"frame\":\"00000002.bin\",\"ms\":5050}\n"
                              "{\"frame\":\"00000003.bin\",\"ms\":5075}\n");
    struct stat st;
    snprintf(p, sizeof p, "%s/rec/alice/111", tmp);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == (0750 & ~(mode_t)022));

    /* the same room again (a reconnect, a restart): on after frame 3, T from 5075 on */
    frame(r, "111", "four", 4, 1000, 10);
    snprintf(p, sizeof p, "%s/rec/alice/111/frames.jsonl", tmp);
    CHECK_HAS(slurp(p, NULL), "{\"frame\":\"00000004.bin\",\"ms\":5075}\n");
    /* a new room: a directory of its own, from frame 1 */
    frame(r, "222", "new", 3, 9000, 20);
    CHECK(exists("rec/alice/222/00000001.bin"));
    CHECK(!exists("rec/alice/111/00000005.bin"));
    record_free(r);
}

static void test_cap(void)
{
    char p[512], big[40] = { 0 };
    struct bridge_rec *r = record_new(strcat(strcpy(p, tmp), "/rec"), "capped", 100);
    log_capture();
    for (int i = 0; i < 5; i++) {
        frame(r, "333", big, sizeof big, 1000 + i, (uint64_t)i);
    }
    CHECK_EQ(log_count("reached its cap"), 1); /* one line, not one per frame */
    CHECK(exists("rec/capped/333/00000002.bin"));
    CHECK(!exists("rec/capped/333/00000003.bin"));
    record_free(r);
}

static void test_refusals(void)
{
    char p[512], q[512];
    /* a room id from the network that is not a number */
    struct bridge_rec *r = record_new(strcat(strcpy(p, tmp), "/rec"), "bob", 1 << 20);
    log_capture();
    frame(r, "../../x", "a", 1, 1, 1);
    frame(r, "../../x", "b", 1, 2, 2);
    CHECK_EQ(log_count("room id is not a number"), 1);
    CHECK(!exists("rec/bob/"));
    record_free(r);

    /* a symlink planted where the handle's directory goes is not followed */
    snprintf(p, sizeof p, "%s/elsewhere", tmp);
    mkdir(p, 0700);
    snprintf(q, sizeof q, "%s/rec/mallory", tmp);
    CHECK(symlink(p, q) == 0);
    r = record_new(strcat(strcpy(p, tmp), "/rec"), "mallory", 1 << 20);
    log_capture();
    frame(r, "444", "a", 1, 1, 1);
    CHECK_EQ(log_count("recording stopped"), 1);
    CHECK(!exists("elsewhere/444"));
    record_free(r);

    /* record_dir under a regular file: ENOTDIR, for root too */
    snprintf(p, sizeof p, "%s/a-file", tmp);
    fclose(fopen(p, "w"));
    r = record_new(strcat(p, "/rec"), "carol", 1 << 20);
    log_capture();
    frame(r, "555", "a", 1, 1, 1);
    frame(r, "555", "b", 1, 2, 2);
    CHECK_EQ(log_count("Not a directory"), 1);
    record_free(r);
}

/* A write that fails half way, as on a full disk: no partial frame is left behind. */
static void test_write_error(void)
{
    char p[512];
    static char big[8192];
    struct rlimit old, lim;
    struct bridge_rec *r = record_new(strcat(strcpy(p, tmp), "/rec"), "dave", 1 << 20);
    frame(r, "666", "ok", 2, 1, 1); /* directories and frames.jsonl exist before the limit */
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 4096;
    setrlimit(RLIMIT_FSIZE, &lim);
    log_capture();
    frame(r, "666", big, sizeof big, 2, 2);
    frame(r, "666", "c", 1, 3, 3);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK_EQ(log_count("cannot write a frame"), 1);
    CHECK(exists("rec/dave/666/00000001.bin"));
    CHECK(!exists("rec/dave/666/00000002.bin"));
    record_free(r);
}

/* What a frame costs on this machine's temporary file system (informational). */
static void measure(void)
{
    char p[512];
    static char buf[2048];
    struct timespec a, b;
    struct bridge_rec *r = record_new(strcat(strcpy(p, tmp), "/rec"), "speedy", 1 << 30);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 2000; i++) {
        frame(r, "777", buf, sizeof buf, i, (uint64_t)i);
    }
    clock_gettime(CLOCK_MONOTONIC, &b); /* the fsync of record_close is once per room */
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3);
    printf("# 2000 frames of 2 KiB recorded in %.0f us: %.1f us per frame (%s)\n", us, us / 2000,
           tmp);
    CHECK(exists("rec/speedy/777/00002000.bin"));
    record_free(r);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/test_record.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(logpath, sizeof logpath, "%s/log", tmp);
    umask(022);
    test_layout();
    test_cap();
    test_refusals();
    test_write_error();
    measure();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", tmp);
    }
    return h_finish();
}
