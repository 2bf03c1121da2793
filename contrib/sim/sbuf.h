/** @file sbuf.h
 * The JSON writing helpers the simulator's HTTP bodies and request log are made of, on
 * common/buffer.h's growable buffer: a buffer that would pass its cap, or whose allocation
 * fails, keeps its error and ignores further writes, so callers check `err` once at the end.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_SBUF_H
#define SIM_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"

/* JSON: a string value with quotes and escapes (invalid UTF-8 bytes become U+FFFD; "</" is
   written "<\/" so the text is safe inside an HTML <script>). NULL writes null. */
void sbuf_json_str(struct common_buf *b, const char *s);
void sbuf_json_strn(struct common_buf *b, const char *s, size_t n);
/* ,"key": with a leading comma unless the buffer ends in '{' or '[' */
void sbuf_json_key(struct common_buf *b, const char *key);
void sbuf_json_kstr(struct common_buf *b, const char *key, const char *val);
void sbuf_json_kint(struct common_buf *b, const char *key, int64_t val);
void sbuf_json_kbool(struct common_buf *b, const char *key, bool val);
/* an int64 id as a JSON string "123" (what TikTok's *_str fields and the clients expect) */
void sbuf_json_kid(struct common_buf *b, const char *key, int64_t val);

#endif
