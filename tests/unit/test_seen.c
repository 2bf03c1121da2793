/** @file test_seen.c
 * The msgIds a streamer published, kept over its restarts (bridge/seen.c): handed from a
 * stopped client to the next one of the same handle, written at exit and read back; the file's
 * name beside state_file; a file that is not ours, damaged lines, hostile handles and numbers,
 * lines past the cap, all left out without losing the sound lines; what was read and not taken
 * (a streamer no longer followed) is not written again.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "seen.h"

static char dir[] = "/tmp/test_seen.XXXXXX";
static char path[300];

static void ignore(const struct tt_event *ev, void *ud)
{
    (void)ev;
    (void)ud;
}

static tt_client *client(void)
{
    tt_client *c = NULL;
    CHECK_EQ(tt_client_new(&c, "someone", NULL, ignore, NULL), TT_OK);
    return c;
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static char *read_file(void)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

/* The ids a fresh client holds after being given what `s` keeps for `handle`. */
static size_t given(struct bridge_seen *s, const char *handle, uint64_t *ids, size_t cap)
{
    tt_client *c = client();
    seen_give(s, handle, c);
    size_t n = tt_client_seen_ids(c, ids, cap);
    tt_client_free(c);
    return n;
}

static void test_path(void)
{
    char *p = seen_path("/etc/t/tiktok2mqtt.ini.state", "");
    CHECK(!strcmp(p, "/etc/t/tiktok2mqtt.ini.seen"));
    free(p);
    p = seen_path("/var/lib/t/x.ini.state", "shard2");
    CHECK(!strcmp(p, "/var/lib/t/x.ini.shard2.seen"));
    free(p);
    p = seen_path("/srv/mystate", "");
    CHECK(!strcmp(p, "/srv/mystate.seen"));
    free(p);
}

static void test_handover_and_file(void)
{
    struct bridge_seen s;
    char err[160];
    uint64_t ids[BRIDGE_SEEN_KEEP + 8], mine[3] = { 11, 22, 33 };
    CHECK_EQ(seen_load(&s, path, err, sizeof err), 0); /* none yet */
    tt_client *c = client();
    tt_client_mark_seen(c, mine, 3);
    seen_put(&s, "alice", c);
    tt_client_free(c);
    c = client();
    seen_put(&s, "nobody", c); /* published nothing: nothing kept */
    tt_client_free(c);
    CHECK_EQ(seen_save(&s, err, sizeof err), 0);
    CHECK(!strcmp(read_file(), "tiktok2mqtt-seen 1\nalice 11 22 33\n"));
    CHECK_EQ(given(&s, "alice", ids, 8), 3);
    CHECK(ids[0] == 11 && ids[2] == 33);
    CHECK_EQ(given(&s, "alice", ids, 8), 0); /* taken: forgotten */
    seen_free(&s);

    /* the file of the last run: alice is followed again, bob no longer */
    write_file("tiktok2mqtt-seen 1\nalice 5 6\nbob 7\n");
    CHECK_EQ(seen_load(&s, path, err, sizeof err), 0);
    CHECK_EQ(given(&s, "alice", ids, 8), 2);
    CHECK(ids[0] == 5 && ids[1] == 6);
    CHECK_EQ(seen_save(&s, err, sizeof err), 0);
    CHECK(!strcmp(read_file(), "tiktok2mqtt-seen 1\n"));
    seen_free(&s);

    /* the newest BRIDGE_SEEN_KEEP, of a client that published more */
    c = client();
    CHECK_EQ(seen_load(&s, path, err, sizeof err), 0);
    for (uint64_t id = 1; id <= BRIDGE_SEEN_KEEP + 5; id++) {
        tt_client_mark_seen(c, &id, 1);
    }
    seen_put(&s, "carol", c);
    tt_client_free(c);
    CHECK_EQ(seen_save(&s, err, sizeof err), 0);
    seen_free(&s);
    CHECK_EQ(seen_load(&s, path, err, sizeof err), 0);
    CHECK_EQ(given(&s, "carol", ids, BRIDGE_SEEN_KEEP + 8), BRIDGE_SEEN_KEEP);
    CHECK(ids[0] == 6 && ids[BRIDGE_SEEN_KEEP - 1] == BRIDGE_SEEN_KEEP + 5);
    seen_free(&s);
}

static void test_bad_files(void)
{
    struct bridge_seen s;
    char err[160];
    uint64_t ids[8];
    write_file("{\"added\":[]}\nalice 5\n"); /* not ours: nothing of it */
    CHECK_EQ(seen_load(&s, path, err, sizeof err), -1);
    CHECK(strstr(err, "not a file of msgIds") != NULL);
    CHECK_EQ(given(&s, "alice", ids, 8), 0);
    seen_free(&s);

    /* each bad line alone is left out; the sound ones stay */
    write_file("tiktok2mqtt-seen 1\n"
               "alice 5 6\n"
               "../etc 7\n"                  /* not a handle */
               "Bob 8\n"                     /* not normalised */
               "carol 9 x\n"                 /* not a number */
               "dave 18446744073709551616\n" /* past 64 bits */
               "erin -1\n"
               "frank 0\n"
               "gina 012\n"
               "\n"
               "hank 10"); /* the last line without its newline */
    CHECK_EQ(seen_load(&s, path, err, sizeof err), -1);
    CHECK(strstr(err, "damaged") != NULL);
    CHECK_EQ(given(&s, "alice", ids, 8), 2);
    CHECK_EQ(given(&s, "bob", ids, 8), 0);
    CHECK_EQ(given(&s, "carol", ids, 8), 0);
    CHECK_EQ(given(&s, "dave", ids, 8), 0);
    CHECK_EQ(given(&s, "erin", ids, 8), 0);
    CHECK_EQ(given(&s, "frank", ids, 8), 0);
    CHECK_EQ(given(&s, "gina", ids, 8), 0);
    CHECK_EQ(given(&s, "hank", ids, 8), 1);
    CHECK(ids[0] == 10);
    seen_free(&s);

    /* a line longer than the bridge ever writes, and more ids than it keeps */
    FILE *f = fopen(path, "w");
    fputs("tiktok2mqtt-seen 1\nivan", f);
    for (int i = 0; i < 100000; i++) {
        fputs(" 1234567", f);
    }
    fputs("\njill", f);
    for (int i = 1; i <= BRIDGE_SEEN_KEEP + 1; i++) {
        fprintf(f, " %d", i);
    }
    fputs("\nkate 3\n", f);
    fclose(f);
    CHECK_EQ(seen_load(&s, path, err, sizeof err), -1);
    CHECK_EQ(given(&s, "ivan", ids, 8), 0);
    CHECK_EQ(given(&s, "jill", ids, 8), 0);
    CHECK_EQ(given(&s, "kate", ids, 8), 1);
    seen_free(&s);

    /* a directory where the file should be: an error, and nothing kept */
    unlink(path);
    CHECK_EQ(mkdir(path, 0700), 0);
    CHECK_EQ(seen_load(&s, path, err, sizeof err), -1);
    seen_free(&s);
    rmdir(path);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/x.seen", dir);
    test_path();
    test_handover_and_file();
    test_bad_files();
    unlink(path);
    rmdir(dir);
    return h_finish();
}
