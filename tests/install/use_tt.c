/** @file use_tt.c
 * A program of a libtiktok user, built by tests/install/run.sh against the installed library
 * through pkg-config (shared and static): only tt.h, only the public API.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include <tt.h>

static void on_event(const struct tt_event *ev, void *userdata)
{
    (void)ev;
    ++*(int *)userdata;
}

int main(void)
{
    static const unsigned char truncated[] = { 0x08 }; /* field 1, its varint missing */
    struct tt_decoder *d = NULL;
    int events = 0;
    enum tt_err rc = tt_decoder_new(&d, NULL);
    if (rc != TT_OK) {
        printf("tt_decoder_new: %s\n", tt_strerror(rc));
        return 1;
    }
    rc = tt_decode_frame(d, truncated, sizeof truncated, NULL, on_event, &events);
    printf("libtiktok %s; %s; truncated frame: %s\n", tt_version(), tt_event_type_name(TT_EV_CHAT),
           rc == TT_OK ? "accepted" : "refused");
    tt_decoder_free(d);
    return rc == TT_OK;
}
