/** @file params.h
 * Query parameters: the default client parameters TikTok's web client sends, the caller's
 * client_params merged over them, and URL encoding.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_PARAMS_H
#define TT_PARAMS_H

#include "buf.h"
#include "tt.h"

#define TT_PARAMS_MAX 64

struct tt_params {
    char *k[TT_PARAMS_MAX], *v[TT_PARAMS_MAX];
    size_t n;
};

void tt__params_init(struct tt_params *p);
void tt__params_free(struct tt_params *p);
/** Set or replace; TT_ERR_NOMEM or TT_ERR_TOO_LARGE (more than TT_PARAMS_MAX). */
enum tt_err tt__params_set(struct tt_params *p, const char *k, const char *v);
/** Parse "k=v&k=v" (already URL-encoded values are decoded) and set each pair. */
enum tt_err tt__params_merge(struct tt_params *p, const char *kv);
/** The HTTP client parameters of TikTok's web client (docs/protocol.md §3.1). */
enum tt_err tt__params_defaults(struct tt_params *p, const char *user_agent);
/** The WebSocket's (docs/protocol.md §5.1, 2.x's values). */
enum tt_err tt__params_ws_defaults(struct tt_params *p, const char *user_agent);
/** Append "k=v&k=v" URL-encoded to b. */
void tt__params_encode(const struct tt_params *p, struct common_buf *b);
/** Append s percent-encoded (everything but unreserved characters). */
void tt__url_encode(struct common_buf *b, const char *s);

#endif
