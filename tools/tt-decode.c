/** @file tt-decode.c
 * tt-decode: decode TikTok LIVE push frames or bare Webcast messages offline, one JSON line each.
 *
 *   tt-decode PATH...                      PATH a frame file or a directory of *.bin (name order)
 *   tt-decode --message METHOD FILE        one bare message (e.g. a capture's .pb)
 *   tt-decode --messages-jsonl FILE        lines {"method":…,"b64":…} -> {"index":N,"events":[…]}
 *   tt-decode --bench RUNS PATH...         decode the frames RUNS times in memory, report speed
 *
 * Output (docs/mqtt.md §7): {"frame":"<base name>","events":[{"event":…,"data":…},…]} per
 * frame, with "error":"<message>" when the frame failed. Errors also go to stderr with the file
 * name; the exit status is 0 when everything decoded, 1 when something did not, 2 on usage or
 * I/O errors. A client of libtiktok's public header only.
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "base64.h"
#include "buffer.h"
#include "clock.h"
#include "tt.h"

#define MAX_FILE ((size_t)64 << 20)

/* Output of one frame or message: the events as a JSON array body. */
struct out {
    struct common_buf b; /* common_buf_init'ed by out_add on first use */
    size_t n;            /* events written */
    int bad;             /* a decode-error event was seen */
    int discard;         /* --bench: count only */
    int lines;           /* --message: one line per event instead of an array body */
    size_t events;       /* --bench: running count */
};

static void out_add(struct out *o, const char *s, size_t n)
{
    if (!o->b.max) {
        common_buf_init(&o->b, (size_t)1 << 40);
    }
    common_buf_add(&o->b, s, n);
    if (o->b.err) {
        fprintf(stderr, "tt-decode: out of memory\n");
        exit(2);
    }
}

#define OUT_LIT(o, s) out_add((o), (s), sizeof(s) - 1)

static void on_event(const struct tt_event *ev, void *ud)
{
    struct out *o = ud;
    o->bad |= ev->type == TT_EV_DECODE_ERROR;
    o->events++;
    if (o->discard) {
        return;
    }
    if (o->n++ && !o->lines) {
        OUT_LIT(o, ",");
    }
    OUT_LIT(o, "{\"event\":\"");
    out_add(o, ev->name, strlen(ev->name));
    OUT_LIT(o, "\",\"data\":");
    out_add(o, ev->json, ev->json_len);
    OUT_LIT(o, "}");
    if (o->lines) {
        OUT_LIT(o, "\n");
    }
}

/* JSON string of a plain ASCII-ish message (file names, error texts). */
static void out_jstr(struct out *o, const char *s)
{
    cJSON *str = cJSON_CreateString(s);
    char *txt = str ? cJSON_PrintUnformatted(str) : NULL;
    if (!txt) {
        fprintf(stderr, "tt-decode: out of memory\n");
        exit(2);
    }
    out_add(o, txt, strlen(txt));
    cJSON_free(txt);
    cJSON_Delete(str);
}

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 65536, n = 0;
    unsigned char *p = NULL;
    if (!f) {
        fprintf(stderr, "tt-decode: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        unsigned char *q = realloc(p, cap);
        if (!q) {
            break;
        }
        p = q;
        n += fread(p + n, 1, cap - n, f);
        if (n < cap || cap >= MAX_FILE) {
            break;
        }
        cap *= 2;
    }
    int err = ferror(f) || !p || n >= MAX_FILE;
    fclose(f);
    if (!err && n && n < cap) { /* --bench keeps thousands of these: no 64 KiB slack each */
        unsigned char *q = realloc(p, n);
        p = q ? q : p;
    }
    if (err) {
        fprintf(stderr, "tt-decode: %s: cannot read (or over 64 MiB)\n", path);
        free(p);
        return -1;
    }
    *buf = p;
    *len = n;
    return 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Decode one frame file and print its line; returns 0 if it decoded cleanly. */
static int frame_file(struct tt_decoder *d, const char *path, struct out *o)
{
    unsigned char *buf;
    size_t len;
    if (read_file(path, &buf, &len)) {
        return -1;
    }
    o->b.len = o->n = 0;
    o->bad = 0;
    OUT_LIT(o, "{\"frame\":");
    out_jstr(o, base_name(path));
    OUT_LIT(o, ",\"events\":[");
    enum tt_err rc = tt_decode_frame(d, buf, len, NULL, on_event, o);
    OUT_LIT(o, "]");
    if (rc) {
        OUT_LIT(o, ",\"error\":");
        out_jstr(o, tt_decoder_errmsg(d));
        fprintf(stderr, "tt-decode: %s: %s\n", path, tt_decoder_errmsg(d));
    }
    OUT_LIT(o, "}\n");
    fwrite(o->b.p, 1, o->b.len, stdout);
    free(buf);
    return rc || o->bad ? -1 : 0;
}

static int is_bin(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && !strcmp(e->d_name + n - 4, ".bin");
}

/* Frame files of PATH: itself, or the *.bin in it sorted by name. */
static int list_frames(const char *path, char ***names, int *count)
{
    struct stat st;
    struct dirent **ents;
    if (stat(path, &st)) {
        fprintf(stderr, "tt-decode: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        *names = malloc(sizeof **names);
        (*names)[0] = strdup(path);
        *count = 1;
        return 0;
    }
    int n = scandir(path, &ents, is_bin, alphasort);
    if (n < 0) {
        fprintf(stderr, "tt-decode: %s: %s\n", path, strerror(errno));
        return -1;
    }
    *names = calloc((size_t)n + 1, sizeof **names);
    for (int i = 0; i < n; i++) {
        size_t l = strlen(path) + strlen(ents[i]->d_name) + 2;
        (*names)[i] = malloc(l);
        snprintf((*names)[i], l, "%s/%s", path, ents[i]->d_name);
        free(ents[i]);
    }
    free(ents);
    *count = n;
    return 0;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

static int run_frames(struct tt_decoder *d, int argc, char **argv)
{
    struct out o = { 0 };
    int status = 0;
    for (int a = 0; a < argc; a++) {
        char **names;
        int n;
        if (list_frames(argv[a], &names, &n)) {
            status = 2;
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (frame_file(d, names[i], &o) && !status) {
                status = 1;
            }
        }
        free_names(names, n);
    }
    common_buf_free(&o.b);
    return status;
}

/* One bare message: one {"event","data"} line per event. */
static int run_message(struct tt_decoder *d, const char *method, const char *path)
{
    unsigned char *buf;
    size_t len;
    struct out o = { .lines = 1 };
    if (read_file(path, &buf, &len)) {
        return 2;
    }
    enum tt_err rc = tt_decode_message(d, method, buf, len, on_event, &o);
    fwrite(o.b.p, 1, o.b.len, stdout);
    if (rc) {
        fprintf(stderr, "tt-decode: %s: %s\n", path, tt_decoder_errmsg(d));
    }
    common_buf_free(&o.b);
    free(buf);
    return rc || o.bad ? 1 : 0;
}

/* Batch mode for the capture corpus: one input line -> one output line. */
static int run_jsonl(struct tt_decoder *d, const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int status = 0;
    struct out o = { 0 };
    if (!f) {
        fprintf(stderr, "tt-decode: %s: %s\n", path, strerror(errno));
        return 2;
    }
    for (long idx = 0; getline(&line, &cap, f) > 0; idx++) {
        cJSON *j = cJSON_Parse(line);
        const char *method = cJSON_GetStringValue(cJSON_GetObjectItem(j, "method"));
        const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItem(j, "b64"));
        char num[32];
        o.b.len = o.n = 0;
        o.bad = 0;
        snprintf(num, sizeof num, "{\"index\":%ld,", idx);
        out_add(&o, num, strlen(num));
        unsigned char *bin = b64 ? malloc(strlen(b64) + 1) : NULL;
        ssize_t n = bin ? common_base64_decode(b64, strlen(b64), bin) : -1;
        if (!method || !b64) {
            OUT_LIT(&o, "\"error\":\"input line needs method and b64\"}\n");
            status = 2;
        } else if (n < 0) {
            OUT_LIT(&o, "\"error\":\"b64 is not base64\"}\n");
            status = 2;
        } else {
            OUT_LIT(&o, "\"events\":[");
            enum tt_err rc = tt_decode_message(d, method, bin, (size_t)n, on_event, &o);
            OUT_LIT(&o, "]");
            if (rc) {
                OUT_LIT(&o, ",\"error\":");
                out_jstr(&o, tt_decoder_errmsg(d));
            }
            OUT_LIT(&o, "}\n");
            status = status ? status : (rc || o.bad);
        }
        free(bin);
        fwrite(o.b.p, 1, o.b.len, stdout);
        cJSON_Delete(j);
    }
    free(line);
    common_buf_free(&o.b);
    fclose(f);
    return status;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --bench RUNS PATH...: frames preloaded, decoded RUNS times (JSON built, not printed);
 * prints one JSON line with the median run. */
static int run_bench(struct tt_decoder *d, int runs, int argc, char **argv)
{
    unsigned char **bufs = NULL;
    size_t *lens = NULL, nf = 0, bytes = 0;
    for (int a = 0; a < argc; a++) {
        char **names;
        int n;
        if (list_frames(argv[a], &names, &n)) {
            return 2;
        }
        bufs = realloc(bufs, (nf + (size_t)n) * sizeof *bufs);
        lens = realloc(lens, (nf + (size_t)n) * sizeof *lens);
        for (int i = 0; i < n; i++, nf++) {
            if (read_file(names[i], &bufs[nf], &lens[nf])) {
                return 2;
            }
            bytes += lens[nf];
        }
        free_names(names, n);
    }
    double *t = calloc((size_t)runs, sizeof *t);
    struct out o = { .discard = 1 };
    size_t events = 0;
    for (int r = 0; r < runs; r++) {
        o.events = 0;
        double t0 = common_mono_s();
        for (size_t i = 0; i < nf; i++) {
            tt_decode_frame(d, bufs[i], lens[i], NULL, on_event, &o);
        }
        t[r] = common_mono_s() - t0;
        events = o.events;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double med = t[runs / 2];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"frames\":%zu,\"events\":%zu,\"wireBytes\":%zu,\"runs\":%d,\"medianSec\":%.6f,"
           "\"eventsPerSec\":%.0f,\"framesPerSec\":%.0f,\"MBperSec\":%.2f,\"peakRssMB\":%.1f}\n",
           nf, events, bytes, runs, med, (double)events / med, (double)nf / med,
           (double)bytes / med / 1e6, (double)ru.ru_maxrss / 1024);
    for (size_t i = 0; i < nf; i++) {
        free(bufs[i]);
    }
    free(bufs);
    free(lens);
    free(t);
    return 0;
}

static int usage(void)
{
    fputs("usage: tt-decode PATH...                 decode push frames (files or dirs of *.bin)\n"
          "       tt-decode --message METHOD FILE   decode one bare Webcast message\n"
          "       tt-decode --messages-jsonl FILE   lines {\"method\",\"b64\"} -> one line each\n"
          "       tt-decode --bench RUNS PATH...    in-memory decode speed, median of RUNS\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    struct tt_decoder *d;
    static char obuf[1 << 20];
    int rc;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        return usage();
    }
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    if (tt_decoder_new(&d, NULL)) {
        fprintf(stderr, "tt-decode: out of memory\n");
        return 2;
    }
    if (!strcmp(argv[1], "--message")) {
        rc = argc == 4 ? run_message(d, argv[2], argv[3]) : usage();
    } else if (!strcmp(argv[1], "--messages-jsonl")) {
        rc = argc == 3 ? run_jsonl(d, argv[2]) : usage();
    } else if (!strcmp(argv[1], "--bench")) {
        rc = argc >= 4 && atoi(argv[2]) > 0 ? run_bench(d, atoi(argv[2]), argc - 3, argv + 3)
                                            : usage();
    } else {
        rc = run_frames(d, argc - 1, argv + 1);
    }
    tt_decoder_free(d);
    fflush(stdout);
    return rc;
}
