/** @file fuzz_frame.c
 * libFuzzer target: arbitrary bytes -> tt_decode_frame(), then the same bytes as a fetch result
 * and as each known message type. Every event's JSON must be non-empty; ASan/UBSan do the rest.
 * Built by `make fuzz` with clang; `build/fuzz_replay` runs the corpus under gcc in make check.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "tt.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void on_event(const struct tt_event *ev, void *ud)
{
    size_t *n = ud;
    if (!ev->json || ev->json_len == 0 || strlen(ev->json) != ev->json_len || ev->json[0] != '{' ||
        ev->json[ev->json_len - 1] != '}') {
        abort();
    }
    (*n)++;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const char *const methods[] = {
        "WebcastChatMessage",        "WebcastGiftMessage",     "WebcastMemberMessage",
        "WebcastRoomUserSeqMessage", "WebcastLinkMicArmies",   "WebcastRoomPinMessage",
        "WebcastPollMessage",        "WebcastEnvelopeMessage",
    };
    static struct tt_decoder *d;
    size_t n = 0;
    if (!d && tt_decoder_new(&d, NULL)) {
        abort();
    }
    tt_decode_frame(d, data, size, NULL, on_event, &n);
    tt_decode_fetch_result(d, data, size, NULL, on_event, &n);
    if (size) { /* the first byte picks a message type for the rest */
        const char *m = methods[data[0] % (sizeof methods / sizeof methods[0])];
        tt_decode_message(d, m, data + 1, size - 1, on_event, &n);
    }
    return 0;
}
