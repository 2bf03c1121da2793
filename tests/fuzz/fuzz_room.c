/** @file fuzz_room.c
 * libFuzzer target: arbitrary bytes as the live page (/@user/live) and as a room/info or
 * gift/list answer, through room.c's own scanners: the SIGI_STATE script, the 1.x "roomId"
 * regexes, the page's verdict, room/info's status check and the gift index.
 *
 * Those scanners are static: room.c is included here rather than given a test-only entry point,
 * so the library's code is exercised unchanged. The library archive's room.o is then not linked
 * (this file defines its symbols) and the clang build leaves room.c out of its sources.
 *
 * Invariants beyond ASan/UBSan: a room id found is 1..31 decimal digits; every refusal sets an
 * error text; every gift reference lies inside the gift list and the index is sorted.
 * Built by `make fuzz` with clang; `build/fuzz_room_replay` replays the corpus under gcc.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../../connector/src/room.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_room_id(const tt_client *c)
{
    size_t n = strnlen(c->room_id, sizeof c->room_id);
    if (n == 0 || n == sizeof c->room_id || strspn(c->room_id, "0123456789") != n) {
        abort();
    }
}

/* tt__room_resolve's page half: SIGI_STATE, then the regexes, then the verdict. */
static void scan_page(tt_client *c, const char *html)
{
    int found = 0;
    c->room_id[0] = '\0';
    c->errmsg[0] = '\0';
    enum tt_err rc = from_sigi(c, html, &found);
    if (!rc && !found) {
        found = from_regexes(c, html);
    }
    if (!rc && !found) {
        rc = page_verdict(c, html);
    }
    if (found) {
        check_room_id(c);
    } else if (!rc || !c->errmsg[0]) {
        abort(); /* no room id and no reason */
    }
}

/* room/info's status and gift/list's index, on the same bytes. */
static void read_answers(tt_client *c, const char *text, size_t n)
{
    struct pb_slice doc = slice_of(text, n);
    c->errmsg[0] = '\0';
    if (room_status(c, doc) && !c->errmsg[0]) {
        abort();
    }
    c->gifts_json = tt__strndup(text, n);
    if (!c->gifts_json) {
        return;
    }
    size_t len = strlen(c->gifts_json);
    if (!index_gifts(c)) {
        for (size_t i = 0; i < c->n_gift_refs; i++) {
            const struct tt_gift_ref *g = &c->gift_refs[i];
            if (g->off > len || g->len > len - g->off || (i && g[-1].id > g->id)) {
                abort();
            }
        }
    }
    TT_FREE(c->gifts_json);
    TT_FREE(c->gift_refs);
    c->n_gift_refs = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tt_client *c;
    char *text = malloc(size + 1);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c) {
            abort();
        }
        strcpy(c->unique_id, "fuzz");
    }
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    scan_page(c, text);
    read_answers(c, text, size);
    free(text);
    return 0;
}
