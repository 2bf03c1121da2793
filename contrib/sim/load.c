/** @file load.c
 * Load mode: `{"kind":"load","rooms":N,"rate":R,"seconds":T,"seed":S}` creates N live rooms
 * (<prefix>00001 ...) that, once a client connects, receive R events per second each (a mix
 * close to a busy real room: chat, likes, joins, gifts, follows, shares, viewer counts) for T
 * seconds and then end, in frames at most every batch_ms (default 200). Everything derives from
 * the seed, so two runs send the same events.
 * Events are batched per tick like scenario events. To keep the simulator far below the CPU of
 * what it feeds, load events are not encoded one by one: at start, VARIANTS random messages are
 * encoded once, and each event is a copy of one of them with a fresh msgId, roomId and
 * createTime written over the old ones (same varint lengths, so nothing else moves). What is
 * left per frame is the fetch result, gzip and the write.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gifts.h"
#include "sim.h"

#define VARIANTS             512
#define LOAD_FRAME_BYTES     60000 /* a frame's messages, encoded: see load_frame() */
#define LOAD_FRAMES_PER_TICK 32    /* so that one room cannot hold the loop for long */

/* A pre-encoded message and where its common header's ids are. */
struct variant {
    const char *method;
    unsigned char *data;
    size_t len;
    size_t off_id, off_room, off_time; /* offsets of the varints, 0: absent */
    int len_id, len_room, len_time;
};

static struct variant variants[VARIANTS];
static uint32_t n_variants;

static const char *const phrases[] = { "hello from the load generator",
                                       "🔥🔥🔥",
                                       "what game is this?",
                                       "love this stream",
                                       "hi chat!",
                                       "gg",
                                       "first time here 👋",
                                       "can you say hi to me?",
                                       "where are you from?",
                                       "❤️❤️",
                                       "lol",
                                       "this is amazing",
                                       "how long have you been live?",
                                       "Grüße aus Berlin",
                                       "こんにちは",
                                       "سلام",
                                       "👏👏👏 nice" };

static uint32_t pool_base; /* index of the first pool viewer in s->users */

int load_setup(struct sim *s)
{
    struct load *l = &s->load;
    char h[SIM_HANDLE];

    pool_base = s->n_users;
    for (uint32_t i = 0; i < l->viewers; i++) {
        uint32_t u;

        snprintf(h, sizeof(h), "%s_fan%05" PRIu32, l->prefix, i + 1);
        u = sim_user_get(s, h);
        if (u == SIM_NONE)
            return -1;
        s->users[u].gifter_level = (int32_t)(i % 7 == 0 ? 1 + i % 40 : 0);
        s->users[u].moderator = i % 53 == 0;
        s->users[u].subscriber = i % 11 == 0;
    }
    for (uint32_t i = 0; i < l->rooms; i++) {
        struct room *r;
        uint32_t u;

        snprintf(h, sizeof(h), "%s%05" PRIu32, l->prefix, i + 1);
        u = sim_user_get(s, h);
        if (u == SIM_NONE || (r = sim_room_add(s, h, u)) == NULL)
            return -1;
        r->gzip = l->gzip;
        r->rng = l->seed * 0x9e3779b97f4a7c15u + i;
        r->load = true;
    }
    return 0;
}

static uint32_t viewer(struct sim *s, struct room *r)
{
    return pool_base + (uint32_t)(common_splitmix64(&r->rng) % s->load.viewers);
}

/* One random event, in proportions close to a busy room's. */
static void random_event(struct sim *s, struct room *r, struct ev *e, struct ev_item *top)
{
    uint64_t x = common_splitmix64(&r->rng);
    unsigned roll = (unsigned)(x % 100);

    memset(e, 0, sizeof(*e));
    e->user = viewer(s, r);
    /* only events whose JSON carries a msgId to count by: viewer counts, questions and emotes
       (whose renderings have none) give their share to chat */
    if (s->load.msgid_only && roll >= 91)
        roll = 0;
    if (roll < 35) {
        e->type = EV_CHAT;
        e->s1 = phrases[(x >> 8) % (sizeof(phrases) / sizeof(phrases[0]))];
    } else if (roll < 55) {
        e->type = EV_LIKE;
        e->a = 1 + (int64_t)((x >> 8) % 15);
    } else if (roll < 70) {
        e->type = EV_JOIN;
    } else if (roll < 82) {
        e->type = EV_GIFT;
        e->a = (int64_t)((x >> 8) % sim_n_gifts);
        e->b = 1 + (int64_t)((x >> 16) % 5);
        e->c = 1;
        e->d = (int64_t)(x >> 20);
    } else if (roll < 87) {
        e->type = EV_FOLLOW;
    } else if (roll < 91) {
        e->type = EV_SHARE;
    } else if (roll < 96) {
        e->type = EV_VIEWERS;
        e->a = r->viewers + (int64_t)((x >> 8) % 21) - 10;
        e->b = e->a * 3;
        for (uint32_t i = 0; i < 3; i++) {
            top[i].user = viewer(s, r);
            top[i].n = 5000 / (i + 1);
        }
        e->items = top;
        e->n_items = 3;
    } else if (roll < 98) {
        e->type = EV_QUESTION;
        e->a = (int64_t)(x >> 4);
        e->s1 = "what is your setup?";
    } else {
        e->type = EV_EMOTE;
        e->s1 = "7251111111111111111";
    }
}

static bool varint(const unsigned char *p, size_t n, size_t *i, uint64_t *v)
{
    *v = 0;
    for (int sh = 0; *i < n && sh < 64; sh += 7) {
        unsigned char b = p[(*i)++];

        *v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* Offsets of msgId (2), roomId (3) and createTime (4) in the common header (field 1). */
static void find_ids(struct variant *v)
{
    size_t i = 0, end;
    uint64_t key, len;

    if (!varint(v->data, v->len, &i, &key) || key != (1 << 3 | 2) ||
        !varint(v->data, v->len, &i, &len) || len > v->len - i)
        return;
    for (end = i + len; i < end;) {
        size_t at;
        uint64_t val;

        if (!varint(v->data, end, &i, &key))
            return;
        at = i;
        if ((key & 7) == 2) {
            if (!varint(v->data, end, &i, &val) || val > end - i)
                return;
            i += val;
            continue;
        }
        if ((key & 7) != 0 || !varint(v->data, end, &i, &val))
            return;
        if (key >> 3 == 2)
            v->off_id = at, v->len_id = (int)(i - at);
        else if (key >> 3 == 3)
            v->off_room = at, v->len_room = (int)(i - at);
        else if (key >> 3 == 4)
            v->off_time = at, v->len_time = (int)(i - at);
    }
}

/* Writes val as a varint of exactly len bytes (if it fits: the lengths of our ids and of
   millisecond times do not change for decades). */
static void patch(unsigned char *p, size_t off, int len, uint64_t val)
{
    if (off == 0 || len <= 0 || (len < 10 && (val >> (7 * len)) != 0))
        return;
    for (int k = 0; k < len; k++, val >>= 7)
        p[off + (size_t)k] = (unsigned char)((val & 0x7f) | (k + 1 < len ? 0x80 : 0));
}

static int build_variants(struct sim *s)
{
    struct room *r = &s->rooms[s->n_rooms - 1];
    uint64_t keep = r->rng;

    for (n_variants = 0; n_variants < VARIANTS; n_variants++) {
        struct variant *v = &variants[n_variants];
        struct ev_item top[3];
        struct ev e;
        struct msg_out m;

        random_event(s, r, &e, top);
        if (enc_event(s, r, &e, &m) != 0)
            return -1;
        v->method = m.method;
        v->len = m.len;
        v->data = arena_alloc(&s->perm, m.len);
        if (v->data == NULL)
            return -1;
        memcpy(v->data, m.data, m.len);
        find_ids(v);
        arena_reset(&s->scratch);
    }
    r->rng = keep;
    return 0;
}

/* One frame of at most frame_events due events. createTime is the wall clock now: the frame is
   built in the writeable callback of the socket it is written to next (load_tick), so latency
   measured from it includes none of the simulator's own scheduling. */
static int load_frame(struct sim *s, struct room *r, int64_t now_us)
{
    static struct msg_out batch[LOAD_FRAME_MAX]; /* one thread: the sim is a single poll loop */
    size_t n = 0, max = s->load.frame_events;
    uint64_t wall = (uint64_t)common_wall_ms();
    /* jittered spacing (0.5x-1.5x the mean) so rooms do not tick in lockstep */
    double mean = 1e6 / s->load.rate;

    size_t bytes = 0;

    while (r->load_next_us <= now_us && n < max) {
        const struct variant *v = &variants[common_splitmix64(&r->rng) % n_variants];
        unsigned char *p;

        /* nanopb as Debian builds it caps a bytes field at 64 KiB: the frame's payload */
        if ((bytes += v->len + 32) > LOAD_FRAME_BYTES)
            break;
        p = arena_alloc(&s->scratch, v->len);
        if (p == NULL)
            break;
        memcpy(p, v->data, v->len);
        s->next_msg_id += 1 + (int64_t)(common_splitmix64(&s->rng) % 977);
        patch(p, v->off_id, v->len_id, (uint64_t)s->next_msg_id);
        patch(p, v->off_room, v->len_room, (uint64_t)room_cur_id(r));
        patch(p, v->off_time, v->len_time, wall);
        batch[n].method = v->method;
        batch[n].data = p;
        batch[n].len = v->len;
        batch[n].msg_id = s->next_msg_id;
        n++;
        r->load_next_us +=
                (int64_t)(mean * (0.5 + (double)(common_splitmix64(&r->rng) % 1000) / 1000.0));
    }
    if (n == 0)
        return 0;
    if (room_emit_msgs(s, r, batch, n) != 0)
        return -1;
    /* the frame just pushed: its build-to-write delay is counted (ws.c, GET /sim/status) */
    uint64_t first;
    room_frame_at(r, r->ring_head - 1, &first)->built_us = load_now_us();
    return 0;
}

int64_t load_tick_us(const struct sim *s)
{
    int64_t us = s->load.batch_ms * 1000;

    /* fewer wakeups than a scenario's 10 ms (a load run has thousands of sockets), unless the
       frames are asked for more often than that */
    return us < 1000 ? 1000 : us < LOAD_TICK_US ? us : LOAD_TICK_US;
}

/* The frames due now: as many as the slowest client's ring takes, so the rate asked for is the
   rate sent (more are due than a frame holds at a high rate, or after a client held the room
   back). */
static int load_build(struct sim *s, struct room *r, int64_t now_us)
{
    for (int k = 0; k < LOAD_FRAMES_PER_TICK && r->load_next_us <= now_us && !room_choked(r); k++)
        if (load_frame(s, r, now_us) != 0)
            return -1;
    return 0;
}

int load_flush(struct sim *s, struct room *r)
{
    r->load_due = false;
    return load_build(s, r, common_mono_ms() * 1000);
}

int load_tick(struct sim *s, struct room *r, int64_t now)
{
    if (s->load.seconds > 0 && now - r->t0_ms >= (int64_t)(s->load.seconds * 1000)) {
        struct ev end = { .type = EV_END, .user = SIM_NONE };

        if (r->load_due && load_flush(s, r) != 0)
            return -1;
        return room_emit(s, r, &end, 1);
    }
    if (s->load.rate <= 0)
        return 0;
    /* built on first use, once the image urls know the port */
    if (n_variants == 0 && build_variants(s) != 0)
        return -1;
    /* TikTok pushes in bursts: events due within batch_ms share a frame */
    if (now - r->load_flush_ms < s->load.batch_ms)
        return 0;
    r->load_flush_ms = now;
    if (r->conns == NULL) /* only polling clients, if any: built now */
        return load_build(s, r, now * 1000);
    /* Built when the first socket can take it (ws.c), not here: a tick builds the frames of
       many rooms, and the ones built first would wait for the others to be built and written
       while their createTime, the start of every latency measured, ran. */
    r->load_due = true;
    for (struct conn *c = r->conns; c != NULL; c = c->next)
        ws_kick(c);
    return 0;
}
