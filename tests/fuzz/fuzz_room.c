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
 * error text; every gift reference lies inside the gift list, the index is sorted and each id
 * is found again (gifts.c, the index the gift decoder reads).
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
    struct tt_gifts g = { 0 };
    if (!tt__gifts_set(&g, text, n)) {
        size_t len = strlen(g.json);
        for (size_t i = 0; i < g.n; i++) {
            const struct tt_gift_ref *r = &g.refs[i];
            if (r->off > len || r->len > len - r->off || (i && r[-1].id > r->id)) {
                abort();
            }
            if (tt__gifts_find(&g, r->id) == NULL) {
                abort(); /* every indexed id is found again */
            }
        }
    }
    tt__gifts_free(&g);
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
