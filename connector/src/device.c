/** @file device.c
 * The direct path's devices: a `ttwid` token and the User-Agent it was minted with, kept
 * together because TikTok blocks the pair (docs/protocol.md "The direct path").
 *
 * Why the pool lives in the library and not in the bridge: the rules of a device's life are
 * protocol knowledge (rotate on DEVICE_BLOCKED or on a connection that died within 30 s, a
 * token lives about a year, fresh tokens are rationed per IP so they are shared and kept), and
 * any program using libtiktok needs the same rules. The bridge only says where the file is and
 * how many streamers may share one device. The pool never prints; a failed write is counted
 * in tt_devices_stats and the next change tries again. A file that exists but cannot be read
 * (only ENOENT means "none yet") is never written: the pool then lives in memory.
 *
 * The file: one JSON object per line, {"token":...,"ua":...,"minted":unix s,"blocked":bool},
 * rewritten whole (a temporary file renamed over it) on every change; a change is rare (a
 * mint or a block), never per event.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "device.h"
#include "json.h"

#define DEVICES_MAX   64    /* devices a pool remembers; the oldest blocked one makes room */
#define LINE_MAX_LEN  1024  /* a line of the file: a token (~130 B), a UA (~130 B), the rest */
#define FILE_MAX_SIZE 65536 /* DEVICES_MAX lines */

/* Desktop browsers the devices are minted as: a new device takes another one than the device
 * it replaces, since TikTok blocks a token and User-Agent pair. */
static const char *const user_agents[] = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
};
#define N_UAS (sizeof user_agents / sizeof user_agents[0])

struct tt_devices {
    pthread_mutex_t mu;
    pthread_mutex_t mint_mu; /* one mint at a time: the others then share its device */
    struct tt_device dev[DEVICES_MAX];
    unsigned users[DEVICES_MAX]; /* clients holding each device */
    size_t n;
    unsigned per_device;
    unsigned next_id, next_ua;
    uint64_t minted, rotated;
    int save_failed;
    int unreadable; /* errno of a file that exists but could not be read: never replaced */
    char *path;
};

/* Tokens and User-Agents are printable ASCII: a "\r" unescaped from the file would go into
 * every request's headers, and other bytes would not be written back as they were read. */
static int printable(const char *s)
{
    for (; *s; s++) {
        if (*s < 0x20 || *s > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static void add_line(struct tt_devices *d, const char *line, size_t len)
{
    struct pb_slice doc = { (const uint8_t *)line, len }, v;
    struct tt_device *x = &d->dev[d->n];
    int64_t minted = 0;
    if (d->n == DEVICES_MAX || !tt__json_valid(doc.p, doc.n) || !tt__jr_member(doc, "token", &v) ||
        !tt__jr_string(v, x->token, sizeof x->token) || !x->token[0] ||
        !tt__jr_member(doc, "ua", &v) || !tt__jr_string(v, x->ua, sizeof x->ua) || !x->ua[0] ||
        !printable(x->token) || !printable(x->ua)) {
        return;
    }
    if (tt__jr_member(doc, "minted", &v) && tt__jr_int(v, &minted)) {
        x->minted = minted;
    }
    x->blocked = tt__jr_member(doc, "blocked", &v) && v.n == 4 && !memcmp(v.p, "true", 4);
    x->id = ++d->next_id;
    d->n++;
}

static void load(struct tt_devices *d)
{
    char line[LINE_MAX_LEN];
    FILE *f = fopen(d->path, "r");
    if (!f && errno == ENOENT) {
        return; /* none yet: the first device is minted and saved */
    }
    if (!f) { /* another user's file, say: what it holds is unknown, so a save must not */
        d->unreadable = errno;
        return;
    }
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        if (line[len] == '\0' && !feof(f)) { /* longer than any line we write: skip it */
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n') {
            }
            continue;
        }
        add_line(d, line, len);
    }
    if (ferror(f)) { /* a directory (EISDIR), an I/O error: the same, and no half of it */
        d->unreadable = errno ? errno : EIO;
        d->n = 0;
    }
    fclose(f);
}

/* Rewrite the file; called with the lock held. */
static void save(struct tt_devices *d)
{
    struct common_buf b;
    char tmp[4096];
    if (!d->path) {
        return;
    }
    if (d->unreadable) { /* its devices are unknown: replacing it would lose them */
        d->save_failed = 1;
        return;
    }
    tt__buf_init(&b, FILE_MAX_SIZE);
    for (size_t i = 0; i < d->n; i++) {
        const struct tt_device *x = &d->dev[i];
        common_buf_adds(&b, "{\"token\":");
        tt__json_str(&b, (const uint8_t *)x->token, strlen(x->token));
        common_buf_adds(&b, ",\"ua\":");
        tt__json_str(&b, (const uint8_t *)x->ua, strlen(x->ua));
        common_buf_adds(&b, ",\"minted\":");
        tt__json_i64(&b, x->minted);
        common_buf_adds(&b, x->blocked ? ",\"blocked\":true}\n" : ",\"blocked\":false}\n");
    }
    /* A fresh name beside the file (mkstemp: O_EXCL, mode 0600), so a symlink planted at a
     * fixed <path>.tmp is never followed and written through; 0600 because a token is a
     * credential of sorts, of this machine's IP. */
    int n = snprintf(tmp, sizeof tmp, "%s.XXXXXX", d->path);
    int fd = b.err || n < 0 || (size_t)n >= sizeof tmp ? -1 : mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fd >= 0 && !f) {
        close(fd);
    }
    int ok = f && fwrite(b.p ? b.p : "", 1, b.len, f) == b.len;
    ok = f && !fflush(f) && !fsync(fileno(f)) && ok;
    ok = f && !fclose(f) && ok;
    ok = ok && !rename(tmp, d->path);
    if (!ok && fd >= 0) {
        remove(tmp);
    }
    d->save_failed = !ok;
    common_buf_free(&b);
}

enum tt_err tt_devices_new(struct tt_devices **out, const char *path, unsigned per_device)
{
    struct tt_devices *d;
    if (!out) {
        return TT_ERR_INVAL;
    }
    *out = NULL;
    d = tt__calloc(1, sizeof *d);
    if (!d) {
        return TT_ERR_NOMEM;
    }
    if (path && *path && !(d->path = tt__strdup(path))) {
        tt__free(d);
        return TT_ERR_NOMEM;
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_mutex_init(&d->mint_mu, NULL);
    d->per_device = per_device;
    if (d->path) {
        load(d);
    }
    d->next_ua = (unsigned)d->n; /* a restart goes on through the list */
    *out = d;
    return TT_OK;
}

void tt_devices_free(struct tt_devices *d)
{
    if (!d) {
        return;
    }
    pthread_mutex_destroy(&d->mu);
    pthread_mutex_destroy(&d->mint_mu);
    tt__free(d->path);
    tt__free(d);
}

void tt_devices_stats(struct tt_devices *d, struct tt_devices_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&d->mu);
    out->devices = (unsigned)d->n;
    for (size_t i = 0; i < d->n; i++) {
        out->blocked += d->dev[i].blocked != 0;
        out->in_use += d->users[i] != 0;
    }
    out->minted = d->minted;
    out->rotated = d->rotated;
    out->save_failed = d->save_failed;
    pthread_mutex_unlock(&d->mu);
}

int tt_devices_unreadable(struct tt_devices *d)
{
    return d ? d->unreadable : 0; /* set once, before the pool is shared */
}

const char *tt__devices_unsaved(struct tt_devices *d)
{
    pthread_mutex_lock(&d->mu);
    const char *p = d->save_failed ? d->path : NULL; /* path lives as long as the pool */
    pthread_mutex_unlock(&d->mu);
    return p;
}

int tt__devices_take(struct tt_devices *d, struct tt_device *out)
{
    int found = 0;
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->n && !found; i++) {
        if (!d->dev[i].blocked && (!d->per_device || d->users[i] < d->per_device)) {
            d->users[i]++;
            *out = d->dev[i];
            found = 1;
        }
    }
    pthread_mutex_unlock(&d->mu);
    return found;
}

const char *tt__devices_user_agent(struct tt_devices *d, const char *avoid)
{
    const char *ua;
    pthread_mutex_lock(&d->mu);
    do {
        ua = user_agents[d->next_ua++ % N_UAS];
    } while (avoid && !strcmp(ua, avoid));
    pthread_mutex_unlock(&d->mu);
    return ua;
}

/* Room for one more: forget the oldest blocked device, else the oldest nobody holds. */
static int make_room(struct tt_devices *d)
{
    size_t victim = d->n;
    for (size_t i = 0; i < d->n && victim == d->n; i++) {
        victim = d->dev[i].blocked && !d->users[i] ? i : d->n;
    }
    for (size_t i = 0; i < d->n && victim == d->n; i++) {
        victim = !d->users[i] ? i : d->n;
    }
    if (victim == d->n) {
        return 0;
    }
    memmove(&d->dev[victim], &d->dev[victim + 1], (d->n - victim - 1) * sizeof d->dev[0]);
    memmove(&d->users[victim], &d->users[victim + 1], (d->n - victim - 1) * sizeof d->users[0]);
    d->n--;
    return 1;
}

enum tt_err tt__devices_add(struct tt_devices *d, const char *token, const char *ua,
                            struct tt_device *out)
{
    enum tt_err rc = TT_ERR_TOO_LARGE;
    if (strlen(token) >= sizeof out->token || strlen(ua) >= sizeof out->ua) {
        return TT_ERR_TOO_LARGE;
    }
    pthread_mutex_lock(&d->mu);
    if (d->n < DEVICES_MAX || make_room(d)) {
        struct tt_device *x = &d->dev[d->n];
        memset(x, 0, sizeof *x);
        snprintf(x->token, sizeof x->token, "%s", token);
        snprintf(x->ua, sizeof x->ua, "%s", ua);
        x->minted = (int64_t)time(NULL);
        x->id = ++d->next_id;
        d->users[d->n++] = 1;
        d->minted++;
        *out = *x;
        save(d);
        rc = TT_OK;
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

static size_t index_of(const struct tt_devices *d, unsigned id)
{
    for (size_t i = 0; i < d->n; i++) {
        if (d->dev[i].id == id) {
            return i;
        }
    }
    return d->n;
}

void tt__devices_release(struct tt_devices *d, unsigned id, int retire)
{
    pthread_mutex_lock(&d->mu);
    size_t i = index_of(d, id);
    if (i < d->n) {
        d->users[i] -= d->users[i] > 0;
        if (retire && !d->dev[i].blocked) {
            d->dev[i].blocked = 1;
            d->rotated++;
            save(d);
        }
    }
    pthread_mutex_unlock(&d->mu);
}

int tt__devices_blocked(struct tt_devices *d, unsigned id)
{
    pthread_mutex_lock(&d->mu);
    size_t i = index_of(d, id);
    int blocked = i == d->n || d->dev[i].blocked;
    pthread_mutex_unlock(&d->mu);
    return blocked;
}

void tt__devices_mint_lock(struct tt_devices *d)
{
    pthread_mutex_lock(&d->mint_mu);
}

void tt__devices_mint_unlock(struct tt_devices *d)
{
    pthread_mutex_unlock(&d->mint_mu);
}
