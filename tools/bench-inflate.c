/** @file bench-inflate.c
 * The floor of `make bench-decode`: only the decompression of every gzip payload of a corpus,
 * nothing else. Payloads are located and preloaded before timing. Three passes: zlib with one
 * z_stream reset per payload (the fastest zlib can do), zlib with a fresh z_stream per payload
 * (what Node's zlib.unzip does), and libdeflate (what libtiktok uses).
 * Prints one JSON line: frames, gzipFrames, inflatedBytes, median seconds of each pass.
 *
 *   bench-inflate RUNS DIR
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libdeflate.h>
#include <zlib.h>

#include "clock.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int is_bin(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && !strcmp(e->d_name + n - 4, ".bin");
}

struct slice {
    const uint8_t *p;
    size_t n;
};

/* A protobuf varint at *p (below end); 0 when truncated or longer than 10 bytes. The library's
 * own reader is internal to it: this tool links only the public API. */
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    *out = 0;
    for (unsigned shift = 0; *p < end && shift < 70; shift += 7) {
        uint8_t b = *(*p)++;
        *out |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            return 1;
        }
    }
    return 0;
}

/* The payload (field 8) of a push frame, if it is gzip. */
static int gzip_payload(const uint8_t *p, size_t n, struct slice *out)
{
    const uint8_t *end = p + n;
    uint64_t key, v;
    while (p < end && varint(&p, end, &key)) {
        unsigned wt = (unsigned)(key & 7);
        if (wt == 0 && varint(&p, end, &v)) {
            continue;
        }
        if ((wt == 1 || wt == 5) && (size_t)(end - p) >= (wt == 1 ? 8u : 4u)) {
            p += wt == 1 ? 8 : 4;
            continue;
        }
        if (wt != 2 || !varint(&p, end, &v) || v > (uint64_t)(end - p)) {
            return 0;
        }
        if ((key >> 3) == 8 && v > 2 && p[0] == 0x1f && p[1] == 0x8b) {
            out->p = p;
            out->n = (size_t)v;
            return 1;
        }
        p += v;
    }
    return 0;
}

static size_t libdeflate_all(struct slice *pl, size_t n, uint8_t *out, size_t cap)
{
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t total = 0, got;
    for (size_t i = 0; i < n; i++) {
        if (libdeflate_gzip_decompress(d, pl[i].p, pl[i].n, out, cap, &got) == 0) {
            total += got;
        }
    }
    libdeflate_free_decompressor(d);
    return total;
}

static size_t inflate_all(struct slice *pl, size_t n, int fresh, uint8_t *out, size_t cap)
{
    z_stream zs = { 0 };
    size_t total = 0;
    inflateInit2(&zs, 16 + MAX_WBITS);
    for (size_t i = 0; i < n; i++) {
        if (fresh) {
            inflateEnd(&zs);
            memset(&zs, 0, sizeof zs);
            inflateInit2(&zs, 16 + MAX_WBITS);
        } else {
            inflateReset(&zs);
        }
        zs.next_in = (Bytef *)(uintptr_t)pl[i].p;
        zs.avail_in = (uInt)pl[i].n;
        zs.next_out = out;
        zs.avail_out = (uInt)cap;
        inflate(&zs, Z_FINISH);
        total += zs.total_out;
    }
    inflateEnd(&zs);
    return total;
}

int main(int argc, char **argv)
{
    struct dirent **ents;
    if (argc != 3 || atoi(argv[1]) <= 0) {
        fputs("usage: bench-inflate RUNS DIR\n", stderr);
        return 2;
    }
    int runs = atoi(argv[1]);
    int nf = scandir(argv[2], &ents, is_bin, alphasort);
    if (nf < 0) {
        perror(argv[2]);
        return 2;
    }
    struct slice *pl = calloc((size_t)nf, sizeof *pl);
    uint8_t **bufs = calloc((size_t)nf, sizeof *bufs); /* the slices point into them */
    size_t ng = 0;
    if (!pl || !bufs) {
        fputs("bench-inflate: out of memory\n", stderr);
        return 2;
    }
    for (int i = 0; i < nf; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[2], ents[i]->d_name);
        FILE *f = fopen(path, "rb");
        long size = f && !fseek(f, 0, SEEK_END) ? ftell(f) : -1;
        size_t n = 0;
        bufs[i] = size > 0 && size <= 1 << 22 ? malloc((size_t)size) : NULL;
        if (f && bufs[i] && !fseek(f, 0, SEEK_SET)) {
            n = fread(bufs[i], 1, (size_t)size, f);
        }
        if (f) {
            fclose(f);
        }
        ng += bufs[i] ? gzip_payload(bufs[i], n, &pl[ng]) : 0;
        free(ents[i]);
    }
    free(ents);
    static uint8_t out[1 << 24];
    double t[3][64];
    size_t bytes = 0;
    for (int pass = 0; pass < 3; pass++) {
        for (int r = 0; r < runs && r < 64; r++) {
            double t0 = common_mono_s();
            bytes = pass < 2 ? inflate_all(pl, ng, pass, out, sizeof out)
                             : libdeflate_all(pl, ng, out, sizeof out);
            t[pass][r] = common_mono_s() - t0;
        }
        qsort(t[pass], (size_t)(runs < 64 ? runs : 64), sizeof(double), cmp_double);
    }
    printf("{\"frames\":%d,\"gzipFrames\":%zu,\"inflatedBytes\":%zu,\"runs\":%d,"
           "\"zlibReuseMedianSec\":%.6f,\"zlibFreshMedianSec\":%.6f,\"libdeflateMedianSec\":%.6f}"
           "\n",
           nf, ng, bytes, runs, t[0][runs / 2], t[1][runs / 2], t[2][runs / 2]);
    for (int i = 0; i < nf; i++) {
        free(bufs[i]);
    }
    free(bufs);
    free(pl);
    return 0;
}
