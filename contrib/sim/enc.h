/** @file enc.h
 * The message encoder's shared pieces (enc_user.c, enc.c): the encoding context, arena
 * helpers, and the builders of what every message contains (common header, users, images).
 * All allocations come from the simulator's scratch arena; a failed one marks the context and
 * the event is dropped as a whole.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_ENC_H
#define SIM_ENC_H

#include "sim.h"
#include "webcast.pb.h"

/* msg encoded into the arena `a` (frame.c): the bytes stay valid until the arena is reset;
 * NULL when they do not fit or the message cannot be encoded. */
unsigned char *sim_encode(struct arena *a, const pb_msgdesc_t *desc, const void *msg, size_t *len);

struct enc {
    struct sim *s;
    struct room *r;
    struct arena *a;
    bool oom;
    int64_t msg_id; /* of the message being built */
};

void *enc_alloc(struct enc *e, size_t n);
#define NEW(e, T) ((T *)enc_alloc((e), sizeof(T)))
char *enc_str(struct enc *e, const char *s);
char *enc_strf(struct enc *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const struct sim_user *enc_user_at(struct enc *e, uint32_t i);
int64_t enc_next_msg_id(struct sim *s);
TikTok_ImageModel *enc_avatar(struct enc *e, int64_t id);
TikTok_ImageModel *enc_image(struct enc *e, const char *kind, int64_t id, int n);
TikTok_User *enc_user(struct enc *e, const struct sim_user *su);
TikTok_CommonMessageData *enc_common(struct enc *e, const char *method, const char *key,
                                     const char *pattern, const struct sim_user *piece);

#endif
