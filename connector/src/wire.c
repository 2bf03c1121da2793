/** @file wire.c
 * Protobuf wire-format reader: varints, tags, skipping, and the table-driven scan.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "wire.h"

_Static_assert(PB_MAX_FIELDS < 63, "a table index must fit in 6 bits and never read as 0xff");

static int find(const struct pb_desc *d, size_t nd, uint32_t num)
{
    for (size_t i = 0; i < nd; i++) {
        if (d[i].num == num) {
            return (int)i;
        }
    }
    return -1;
}

int tt__pb_scan(struct pb_msg *m, const struct pb_desc *d, size_t nd, const uint8_t *p, size_t n)
{
    struct pb_reader r = { p, p + n };
    struct pb_field f = { 0 };
    const uint8_t *tag = p;
    /* Field numbers below 64 are looked up in O(1): each byte holds the table index (low 6
     * bits, PB_MAX_FIELDS < 63) and the kind (top 2 bits), so the hot loop reads no `d`. */
    uint8_t idx[64];
    int rc;
    uint32_t top = 0; /* the table's largest number: fields past it need no search */
    memset(idx, 0xff, sizeof idx);
    for (size_t i = 0; i < nd; i++) {
        if (d[i].num < 64) {
            idx[d[i].num] = (uint8_t)(i | (unsigned)d[i].kind << 6);
        }
        top = d[i].num > top ? d[i].num : top;
    }
    m->present = 0;
    m->self.p = p;
    m->self.n = n;
    while ((rc = tt__pb_next(&r, &f)) > 0) {
        unsigned e;
        if (f.num < 64) {
            e = idx[f.num];
        } else if (f.num > top) {
            e = 0xff;
        } else {
            int j = find(d, nd, f.num);
            e = j < 0 ? 0xff : (unsigned)j | (unsigned)d[j].kind << 6;
        }
        if (e == 0xff) {
            tag = r.p;
            continue;
        }
        unsigned i = e & 63;
        switch (e >> 6) {
        case PB_INT:
            if (f.wt != PB_WT_VARINT) {
                tag = r.p;
                continue;
            }
            m->v[i].u = f.v;
            break;
        case PB_LEN:
            if (f.wt != PB_WT_LEN) {
                tag = r.p;
                continue;
            }
            m->v[i].s = f.s;
            break;
        default: /* PB_REP: the span from the first occurrence to the end of the last, so that
                  * pb_iter walks only that part of the message */
            if (!PB_HAS(m, i)) {
                m->v[i].s.p = tag;
            }
            m->v[i].s.n = (size_t)(r.p - m->v[i].s.p);
            break;
        }
        m->present |= (uint64_t)1 << i;
        tag = r.p;
    }
    return rc;
}

int tt__pb_scan_slice(struct pb_msg *m, const struct pb_desc *d, size_t nd, struct pb_slice s)
{
    if (tt__pb_scan(m, d, nd, s.p, s.n)) {
        m->present = 0;
        return -1;
    }
    return 0;
}

void tt__pb_iter_init(struct pb_iter *it, struct pb_slice msg, uint32_t num)
{
    it->r.p = msg.p;
    it->r.end = msg.p + msg.n;
    it->num = num;
    it->packed.p = it->packed.end = NULL;
}

int tt__pb_iter_next(struct pb_iter *it, struct pb_slice *out)
{
    struct pb_field f;
    while (tt__pb_next(&it->r, &f) > 0) {
        if (f.num == it->num && f.wt == PB_WT_LEN) {
            *out = f.s;
            return 1;
        }
    }
    return 0;
}

int tt__pb_iter_next_varint(struct pb_iter *it, uint64_t *out)
{
    struct pb_field f;
    for (;;) {
        if (it->packed.p < it->packed.end) {
            if (tt__pb_varint(&it->packed, out) == 0) {
                return 1;
            }
            it->packed.p = it->packed.end; /* a broken packed run ends here */
            continue;
        }
        if (tt__pb_next(&it->r, &f) <= 0) {
            return 0;
        }
        if (f.num != it->num) {
            continue;
        }
        if (f.wt == PB_WT_VARINT) {
            *out = f.v;
            return 1;
        }
        if (f.wt == PB_WT_LEN) {
            it->packed.p = f.s.p;
            it->packed.end = f.s.p + f.s.n;
        }
    }
}
