/** @file wire.h
 * A zero-copy protobuf wire reader for the decode hot path.
 *
 * Nothing is allocated and nothing is copied: strings and sub-messages are slices of the input.
 * tt__pb_scan() reads one message level against a small field table (field number + kind) and
 * records, per table entry, whether the field was on the wire (presence, which 1.x's output
 * depends on) and its last value (protobuf's "last one wins" for singular fields, which is also
 * what protobufjs does for sub-messages). Repeated fields are walked later, lazily, with
 * struct pb_iter over the same bytes. Fields may come in any order; unknown fields, and known
 * fields with an unexpected wire type (TikTok reuses numbers across message versions), are
 * skipped by their wire type. Only a structural error (truncated varint or length, length past
 * the end, group or reserved wire type) fails the message.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_WIRE_H
#define TT_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum { PB_WT_VARINT = 0, PB_WT_I64 = 1, PB_WT_LEN = 2, PB_WT_I32 = 5 };

struct pb_slice {
    const uint8_t *p;
    size_t n;
};

struct pb_field {
    uint32_t num;
    uint8_t wt;
    uint64_t v;        /* varint, fixed32 or fixed64 value */
    struct pb_slice s; /* length-delimited payload */
};

struct pb_reader {
    const uint8_t *p, *end;
};

/* The hot path is inline: every byte of every frame goes through it. */
#if defined(__GNUC__)
#define TT_HOT_INLINE static inline __attribute__((always_inline))
#else
#define TT_HOT_INLINE static inline
#endif

/* A varint is at most 10 bytes; the 10th may only carry the top bit of a uint64. With 10 bytes
 * in reach the loop needs no bounds checks (most varints are read that way). */
TT_HOT_INLINE int tt__pb_varint(struct pb_reader *r, uint64_t *out)
{
    const uint8_t *p = r->p;
    if (p < r->end && *p < 0x80) {
        *out = *p;
        r->p = p + 1;
        return 0;
    }
    uint64_t v = 0;
    if (r->end - p >= 10) {
        for (unsigned i = 0; i < 10; i++) {
            uint8_t byte = p[i];
            v |= (uint64_t)(byte & 0x7f) << (7 * i);
            if (byte < 0x80) {
                if (i == 9 && byte > 1) {
                    return -1;
                }
                *out = v;
                r->p = p + i + 1;
                return 0;
            }
        }
        return -1;
    }
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (p >= r->end) {
            return -1;
        }
        uint8_t byte = *p++;
        if (shift == 63 && byte > 1) {
            return -1;
        }
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (byte < 0x80) {
            *out = v;
            r->p = p;
            return 0;
        }
    }
    return -1;
}

TT_HOT_INLINE int tt__pb_fixed(struct pb_reader *r, unsigned n, uint64_t *out)
{
    if ((size_t)(r->end - r->p) < n) {
        return -1;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)r->p[i] << (8 * i);
    }
    r->p += n;
    *out = v;
    return 0;
}

/** Read the next field. Returns 1 with *f filled, 0 at the end, -1 on malformed input. */
TT_HOT_INLINE int tt__pb_next(struct pb_reader *r, struct pb_field *f)
{
    uint64_t key, len;
    if (r->p >= r->end) {
        return 0;
    }
    if (tt__pb_varint(r, &key) || key >> 32 || (key >> 3) == 0) {
        return -1;
    }
    f->num = (uint32_t)(key >> 3);
    f->wt = (uint8_t)(key & 7);
    switch (f->wt) {
    case PB_WT_VARINT:
        return tt__pb_varint(r, &f->v) ? -1 : 1;
    case PB_WT_I64:
        return tt__pb_fixed(r, 8, &f->v) ? -1 : 1;
    case PB_WT_I32:
        return tt__pb_fixed(r, 4, &f->v) ? -1 : 1;
    case PB_WT_LEN:
        if (tt__pb_varint(r, &len) || len > (uint64_t)(r->end - r->p)) {
            return -1;
        }
        f->s.p = r->p;
        f->s.n = (size_t)len;
        r->p += len;
        return 1;
    default: /* groups (3, 4) are long deprecated; 6 and 7 do not exist */
        return -1;
    }
}


/** Kinds of table entries. */
enum pb_kind {
    PB_INT, /* varint (int32/int64/uint64/bool/enum): last value wins */
    PB_LEN, /* string, bytes or sub-message: last slice wins */
    PB_REP  /* repeated field of any type: v[i].s spans its occurrences, for pb_iter */
};

struct pb_desc {
    uint32_t num;
    uint8_t kind;
};

#define PB_MAX_FIELDS 40

/** One scanned message level. Read v[i] only when PB_HAS(m, i). */
struct pb_msg {
    uint64_t present;
    struct pb_slice self; /* the message bytes, for pb_iter */
    union {
        uint64_t u;
        struct pb_slice s;
    } v[PB_MAX_FIELDS];
};

#define PB_HAS(m, i) (((m)->present >> (i)) & 1u)

/** Scan `n` bytes at `p` against `nd` table entries. Returns 0, or -1 if malformed. */
int tt__pb_scan(struct pb_msg *m, const struct pb_desc *d, size_t nd, const uint8_t *p, size_t n);

/* Helpers with 1.x's defaults for absent fields. */
static inline uint64_t pb_u(const struct pb_msg *m, unsigned i)
{
    return PB_HAS(m, i) ? m->v[i].u : 0;
}

static inline int64_t pb_i(const struct pb_msg *m, unsigned i)
{
    return PB_HAS(m, i) ? (int64_t)m->v[i].u : 0;
}

/** int32 fields: protobuf sign-extends negatives to 64 bits; keep the low 32 bits signed. */
static inline int64_t pb_i32(const struct pb_msg *m, unsigned i)
{
    return PB_HAS(m, i) ? (int64_t)(int32_t)(uint32_t)m->v[i].u : 0;
}

static inline struct pb_slice pb_s(const struct pb_msg *m, unsigned i)
{
    struct pb_slice empty = { (const uint8_t *)"", 0 };
    return PB_HAS(m, i) ? m->v[i].s : empty;
}

/** The part of a scanned message that holds all occurrences of PB_REP entry i (empty if none):
 *  iterate over this instead of the whole message. */
static inline struct pb_slice pb_span(const struct pb_msg *m, unsigned i)
{
    struct pb_slice empty = { m->self.p, 0 };
    return PB_HAS(m, i) ? m->v[i].s : empty;
}

/** Walks the occurrences of one field number in a message, in wire order. */
struct pb_iter {
    struct pb_reader r;
    uint32_t num;
    struct pb_reader packed; /* inside a packed run of varints */
};

void tt__pb_iter_init(struct pb_iter *it, struct pb_slice msg, uint32_t num);
/** Next length-delimited occurrence; 1 if found, 0 at the end. */
int tt__pb_iter_next(struct pb_iter *it, struct pb_slice *out);
/** Next varint value, from packed or unpacked encoding; 1 if found, 0 at the end. */
int tt__pb_iter_next_varint(struct pb_iter *it, uint64_t *out);

/** Scan a sub-message slice; an absent or malformed one reads as empty (returns -1 if bad). */
int tt__pb_scan_slice(struct pb_msg *m, const struct pb_desc *d, size_t nd, struct pb_slice s);

#endif
