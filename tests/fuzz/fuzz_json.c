/** @file fuzz_json.c
 * libFuzzer target: arbitrary bytes as a JSON answer of TikTok or a sign server, read with the
 * library's in-place JSON reader (json.h) the way room.c and sign.c read them: the validator,
 * the member and path lookups they use (room ids, status codes, messages, signedUrl, data.gifts),
 * strings, integers and array walks.
 *
 * Invariants beyond ASan/UBSan: every slice found lies inside the document; in a document the
 * validator accepts, every value found is itself valid JSON; an unescaped string fits its buffer
 * and is NUL-terminated; an array walk ends.
 * Built by `make fuzz` with clang; `build/fuzz_json_replay` replays the corpus under gcc.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every path and member name room.c and sign.c look up in an answer. */
static const char *const paths[] = {
    "LiveRoom.liveRoomUserInfo.user",
    "LiveRoom.liveRoomUserInfo.liveRoom.status",
    "LiveRoom.liveRoomUserInfo.user.roomId",
    "data.liveRoom.status",
    "data.user.roomId",
    "data.status",
    "data.gifts",
    "data",
    "statusCode",
    "status_code",
    "message",
    "error",
    "signedUrl",
    "User-Agent",
    "msToken",
    "roomId",
    "status",
    "id",
};

static void in_doc(struct pb_slice doc, struct pb_slice v)
{
    if (v.n > doc.n || v.p < doc.p || v.p + v.n > doc.p + doc.n) {
        abort();
    }
}

/* What room.c and sign.c do with a value: an integer, a string into a few buffer sizes. */
static void read_value(struct pb_slice doc, struct pb_slice v, int valid)
{
    static const size_t sizes[] = { 1, 2, 16, 128, 512 };
    int64_t x;
    in_doc(doc, v);
    if (valid && !tt__json_valid(v.p, v.n)) {
        abort(); /* a member of a valid document is a valid value */
    }
    tt__jr_int(v, &x);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *s = malloc(sizes[i]); /* exact size: ASan sees one byte too many */
        if (!s) {
            return;
        }
        if (tt__jr_string(v, s, sizes[i]) && strnlen(s, sizes[i]) == sizes[i]) {
            abort(); /* not NUL-terminated */
        }
        free(s);
    }
}

/* room.c's index_gifts: each element's "id". The walk must end within the document. */
static void walk(struct pb_slice doc, struct pb_slice arr, int valid)
{
    struct jr_iter it;
    struct pb_slice e, v;
    size_t n = 0;
    tt__jr_array_begin(&it, arr);
    while (tt__jr_array_next(&it, &e)) {
        in_doc(doc, e);
        if (++n > doc.n + 1) {
            abort(); /* more elements than bytes: the walk does not advance */
        }
        if (tt__jr_member(e, "id", &v)) {
            read_value(doc, v, valid);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly `size` bytes, so a read past the answer is an ASan report */
    uint8_t *copy = malloc(size ? size : 1);
    struct pb_slice doc, v;
    if (!copy) {
        return 0;
    }
    memcpy(copy, data, size);
    doc.p = copy;
    doc.n = size;
    int valid = tt__json_valid(doc.p, doc.n);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (tt__jr_path(doc, paths[i], &v)) {
            read_value(doc, v, valid);
            walk(doc, v, valid);
        }
        if (tt__jr_member(doc, paths[i], &v)) {
            read_value(doc, v, valid);
        }
    }
    walk(doc, doc, valid);
    read_value(doc, doc, valid);
    free(copy);
    return 0;
}
