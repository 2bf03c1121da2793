/** @file room.c
 * Room sessions: when a session starts, how its timeline turns into frames, how frames reach
 * the connections, how a stream ends and a new one begins.
 *
 * A session's clock starts when the first WebSocket of its room opens, so a client always sees
 * the whole timeline however long it took to connect. Due events are batched per tick into one
 * push frame (at most MAX_BATCH messages), the frame goes into the room's ring, and every
 * connection of the room sends it from there (ws.c): one encoding and one gzip per frame however
 * many clients watch. A connection that falls a ring's length behind holds its room back
 * (backpressure) rather than losing frames: the simulator is a test peer and must send each
 * frame exactly once.
 *
 * Clients without a WebSocket poll im/fetch with the cursor of their last answer (pages.c). The
 * session's messages are numbered from 1 (the cursor carries the number), and once a room has
 * been fetched its last POLL_RING messages are kept so that a poll can answer those after its
 * cursor: the same messages, msgIds and order a WebSocket client gets. A polling fetch starts
 * the session like a WebSocket does; pollers never hold a room back.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define MAX_BATCH     16
#define RING_SCENARIO 256
#define RING_REPLAY   1024 /* replays run fast: acks may lag hundreds of frames */
#define RING_LOAD     32

int64_t room_cur_id(const struct room *r)
{
    return r->sess[r->cur].room_id;
}

static void active_add(struct sim *s, struct room *r)
{
    if (r->on_active_list)
        return;
    r->act_prev = NULL;
    r->act_next = s->active;
    if (s->active != NULL)
        s->active->act_prev = r;
    s->active = r;
    r->on_active_list = true;
}

static void active_del(struct sim *s, struct room *r)
{
    if (!r->on_active_list)
        return;
    if (r->act_prev != NULL)
        r->act_prev->act_next = r->act_next;
    else
        s->active = r->act_next;
    if (r->act_next != NULL)
        r->act_next->act_prev = r->act_prev;
    r->act_next = r->act_prev = NULL;
    r->on_active_list = false;
}

static void room_log(struct sim *s, const struct room *r, const char *what)
{
    struct common_buf *b = slog_begin(s, "room");

    if (b == NULL)
        return;
    sbuf_json_kstr(b, "room", r->handle);
    sbuf_json_kid(b, "room_id", room_cur_id(r));
    sbuf_json_kstr(b, "state", what);
    slog_end(s, b);
}

static void ring_clear(struct room *r)
{
    if (r->ring == NULL)
        return;
    for (uint32_t i = 0; i < r->ring_cap; i++) {
        frame_unref(r->ring[i]);
        r->ring[i] = NULL;
    }
    r->ring_n = 0;
}

void room_session_start(struct sim *s, struct room *r)
{
    if (r->running || r->state != ROOM_LIVE)
        return;
    if (r->ring == NULL) {
        r->ring_cap = r->rp ? RING_REPLAY : r->load ? RING_LOAD : RING_SCENARIO;
        r->ring = calloc(r->ring_cap, sizeof(*r->ring));
        if (r->ring == NULL)
            return;
    }
    if (r->history > 0 && r->rp == NULL)
        room_poll_open(r); /* what the initial fetch repeats comes from the poll ring */
    r->running = true;
    r->t0_ms = common_mono_ms();
    r->next_ev = 0;
    r->load_next_us = r->t0_ms * 1000;
    r->load_due = false;
    r->silent_until_ms = 0;
    active_add(s, r);
    room_log(s, r, "started");
}

void room_attach(struct sim *s, struct room *r, struct conn *c)
{
    c->room = r;
    c->next_seq = r->ring_head;
    c->prev = NULL;
    c->next = r->conns;
    if (r->conns != NULL)
        r->conns->prev = c;
    r->conns = c;
    r->n_conns++;
    c->attached = true;
    room_session_start(s, r);
}

void room_detach(struct sim *s, struct room *r, struct conn *c)
{
    if (!c->attached)
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        r->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->attached = false;
    r->n_conns--;
    /* an ended room with no viewer left has nothing to keep in its ring */
    if (r->n_conns == 0 && !r->running) {
        ring_clear(r);
        if (r->state != ROOM_ENDED || r->sess[r->cur].relive_after_ms < 0)
            active_del(s, r);
    }
}

bool room_choked(const struct room *r)
{
    for (const struct conn *c = r->conns; c != NULL; c = c->next)
        if (r->ring_head - c->next_seq + 2 >= r->ring_cap)
            return true;
    return false;
}

struct frame *room_frame_at(const struct room *r, uint64_t seq, uint64_t *first)
{
    *first = r->ring_head - r->ring_n;
    if (seq < *first || seq >= r->ring_head)
        return NULL;
    return r->ring[seq % r->ring_cap];
}

/* ---- what polling clients read: the messages of the session, numbered from 1 ---- */

int room_poll_open(struct room *r)
{
    if (r->poll == NULL)
        r->poll = calloc(POLL_RING, sizeof(*r->poll));
    return r->poll != NULL ? 0 : -1;
}

static void poll_clear(struct room *r)
{
    for (uint32_t i = 0; r->poll != NULL && i < POLL_RING; i++) {
        free(r->poll[i]);
        r->poll[i] = NULL;
    }
    r->poll_seq = 0;
}

void room_poll_free(struct room *r)
{
    poll_clear(r);
    free(r->poll);
    r->poll = NULL;
}

/* Numbers the messages (a cursor counts them) and keeps them once a poller has asked. */
static void poll_record(struct room *r, const struct msg_out *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t ml = strlen(m[i].method);
        struct poll_msg *p;
        uint32_t slot;

        r->poll_seq++;
        if (r->poll == NULL)
            continue;
        slot = (uint32_t)(r->poll_seq % POLL_RING);
        free(r->poll[slot]);
        r->poll[slot] = p = malloc(sizeof(*p) + m[i].len + ml + 1);
        if (p == NULL)
            continue; /* a gap: the poller misses this one message */
        p->seq = r->poll_seq;
        p->msg_id = m[i].msg_id;
        p->len = m[i].len;
        memcpy(p->data, m[i].data, m[i].len);
        memcpy(p->data + m[i].len, m[i].method, ml + 1);
        p->method = (const char *)p->data + m[i].len;
    }
}

/* The kept messages after sequence number `after`, oldest first, at most max of them; *last:
   the sequence number the answer covers (where the next poll goes on). */
size_t room_poll_since(const struct room *r, uint64_t after, struct msg_out *m, size_t max,
                       uint64_t *last)
{
    size_t n = 0;
    uint64_t q;

    *last = r->poll_seq;
    if (r->poll == NULL || after >= r->poll_seq)
        return 0;
    if (r->poll_seq > POLL_RING && after < r->poll_seq - POLL_RING)
        after = r->poll_seq - POLL_RING; /* fallen a ring behind: the oldest kept */
    for (q = after + 1; q <= r->poll_seq && n < max; q++) {
        const struct poll_msg *p = r->poll[q % POLL_RING];

        if (p == NULL || p->seq != q)
            continue;
        m[n].method = p->method;
        m[n].data = p->data;
        m[n].len = p->len;
        m[n].msg_id = p->msg_id;
        n++;
    }
    *last = q - 1;
    return n;
}

int room_push(struct sim *s, struct room *r, struct frame *f)
{
    uint32_t slot;

    if (f == NULL || r->ring == NULL) {
        frame_unref(f);
        return -1;
    }
    dump_frame(s, r, FRAME_DATA(f), f->len);
    slot = (uint32_t)(r->ring_head % r->ring_cap);
    frame_unref(r->ring[slot]); /* the oldest frame, when the ring is full */
    r->ring[slot] = f;
    r->ring_head++;
    if (r->ring_n < r->ring_cap)
        r->ring_n++;
    s->frames_out++;
    for (struct conn *c = r->conns; c != NULL; c = c->next)
        ws_kick(c);
    return 0;
}

static bool want_gzip(struct room *r)
{
    if (r->gzip >= 1.0)
        return true;
    if (r->gzip <= 0.0)
        return false;
    return (double)(common_splitmix64(&r->rng) % 10000) < r->gzip * 10000.0;
}

/* Running totals the events report: likes add up, viewer counts stick. */
static void apply_state(struct room *r, struct ev *e)
{
    if (e->type == EV_LIKE) {
        r->likes += e->a;
        if (e->b == 0)
            e->b = r->likes;
    } else if (e->type == EV_VIEWERS) {
        r->viewers = e->a;
    }
}

int room_emit(struct sim *s, struct room *r, const struct ev *evs, size_t n)
{
    struct msg_out m[MAX_BATCH] = { 0 };
    uint16_t types[MAX_BATCH] = { 0 };
    size_t k = 0;
    int end_action = 0;

    for (size_t i = 0; i < n && k < MAX_BATCH; i++) {
        struct ev e = evs[i];

        apply_state(r, &e);
        types[k] = e.type;
        if (enc_event(s, r, &e, &m[k]) == 0)
            k++;
        if (e.type == EV_END || e.type == EV_SUSPEND)
            end_action = e.type == EV_END ? 3 : 4;
    }
    slog_emit(s, r, NULL, m, types, k);
    if (room_emit_msgs(s, r, m, k) != 0)
        return -1;
    if (end_action != 0)
        room_end(s, r, end_action);
    return 0;
}

int room_emit_msgs(struct sim *s, struct room *r, const struct msg_out *m, size_t n)
{
    struct frame *f;

    if (n == 0) {
        arena_reset(&s->scratch);
        return -1;
    }
    poll_record(r, m, n); /* first: the frame's cursor counts its messages */
    f = frame_msgs(s, r, m, n, want_gzip(r));
    arena_reset(&s->scratch);
    s->events_out += n;
    return room_push(s, r, f);
}

static void random_bytes(struct sim *s, unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(common_splitmix64(&s->rng) >> 24);
}

/* A valid chat frame cut in half: what a client sees when a frame is lost mid-way. */
static struct frame *truncated_frame(struct sim *s, struct room *r)
{
    struct ev e = { .type = EV_CHAT, .user = SIM_NONE, .s1 = "this frame is cut short" };
    struct msg_out m;
    struct frame *f, *half = NULL;

    if (enc_event(s, r, &e, &m) == 0) {
        f = frame_msgs(s, r, &m, 1, false);
        if (f != NULL)
            half = frame_from_bytes(FRAME_DATA(f), f->len / 2);
        frame_unref(f);
    }
    arena_reset(&s->scratch);
    return half;
}

static void conns_close(struct room *r, int code, const char *reason)
{
    for (struct conn *c = r->conns; c != NULL; c = c->next) {
        c->close_code = code;
        c->close_reason = reason;
        c->close_seq = r->ring_head;
        ws_kick(c);
    }
}

static void transport(struct sim *s, struct room *r, const struct ev *e)
{
    struct frame *f = NULL;

    switch (e->type) {
    case EV_GARBAGE:
        f = frame_new((size_t)e->a);
        if (f != NULL)
            random_bytes(s, FRAME_DATA(f), (size_t)e->a);
        slog_fault(s, r, "garbage frame");
        slog_emit(s, r, "garbage", NULL, NULL, 0);
        room_push(s, r, f);
        break;
    case EV_TRUNCATED:
        slog_fault(s, r, "truncated frame");
        slog_emit(s, r, "truncated", NULL, NULL, 0);
        room_push(s, r, truncated_frame(s, r));
        break;
    case EV_GZIP_BOMB:
        slog_fault(s, r, "gzip bomb");
        slog_emit(s, r, "gzip_bomb", NULL, NULL, 0);
        room_push(s, r, frame_gzip_bomb(s, r, (size_t)e->a));
        break;
    case EV_DROP:
        slog_fault(s, r, "drop sockets");
        conns_close(r, -1, NULL);
        break;
    case EV_CLOSE:
        slog_fault(s, r, "close sockets");
        conns_close(r, e->a > 0 ? (int)e->a : 1000, e->s1);
        break;
    case EV_SILENCE:
        slog_fault(s, r, "silence");
        r->silent_until_ms = common_mono_ms() + e->a;
        break;
    default:
        break;
    }
}

/* Emits the session's events that are due; stops at backpressure or silence. */
static void timeline_tick(struct sim *s, struct room *r, int64_t now)
{
    struct session *ss = &r->sess[r->cur];
    struct ev batch[MAX_BATCH];
    size_t nb = 0;

    while (r->running && r->next_ev < ss->n_ev && now >= r->silent_until_ms) {
        const struct ev *e = &ss->ev[r->next_ev];

        if (e->flags & EVF_BACKLOG) {
            r->next_ev++;
            continue;
        }
        if (e->t_ms > now - r->t0_ms || room_choked(r))
            break;
        if (e->type >= EV_N_MESSAGES) {
            if (nb > 0)
                room_emit(s, r, batch, nb);
            nb = 0;
            r->next_ev++;
            transport(s, r, e);
            continue;
        }
        batch[nb++] = *e;
        r->next_ev++;
        if (nb == MAX_BATCH || e->type == EV_END || e->type == EV_SUSPEND) {
            room_emit(s, r, batch, nb);
            nb = 0;
        }
    }
    if (nb > 0)
        room_emit(s, r, batch, nb);
    if (r->running && r->loop && r->next_ev >= ss->n_ev && ss->n_ev > 0) {
        r->t0_ms = now + 1000; /* a second of calm, then the same again */
        r->next_ev = 0;
    }
}

void room_end(struct sim *s, struct room *r, int action)
{
    (void)action;
    if (r->state != ROOM_LIVE)
        return;
    r->state = ROOM_ENDED;
    r->running = false;
    r->end_at_ms = common_mono_ms();
    room_log(s, r, "ended");
    /* the clients disconnect themselves on streamEnd; the grace is for slow ones (a busy
       client may still be inflating frames it has read) and for recordings without an end */
    ws_end_all(r, s->end_grace_ms);
    if (r->n_conns == 0 && r->sess[r->cur].relive_after_ms < 0) {
        ring_clear(r);
        active_del(s, r);
    }
}

/* After an end: the next session begins relive_after_ms later, under a new room id. */
static void ended_tick(struct sim *s, struct room *r, int64_t now)
{
    const struct session *ss = &r->sess[r->cur];

    if (ss->relive_after_ms < 0 || r->cur + 1 >= r->n_sess)
        return;
    if (now - r->end_at_ms < ss->relive_after_ms)
        return;
    /* viewers of the old session still in their grace period go now */
    conns_close(r, 1000, "live ended");
    r->cur++;
    poll_clear(r); /* a new room id: cursors of the old session are not this room's */
    r->state = ROOM_LIVE;
    r->live_since_s = common_wall_ms() / 1000;
    r->end_at_ms = 0;
    if (r->n_conns == 0) {
        ring_clear(r);
        active_del(s, r);
    }
    room_log(s, r, "live again");
}

void room_tick_all(struct sim *s)
{
    int64_t now = common_mono_ms();
    struct room *next;

    for (struct room *r = s->active; r != NULL; r = next) {
        next = r->act_next;
        if (r->state == ROOM_ENDED) {
            ended_tick(s, r, now);
            continue;
        }
        if (!r->running)
            continue;
        if (r->rp != NULL)
            replay_tick(s, r, now);
        else if (r->load)
            load_tick(s, r, now);
        else
            timeline_tick(s, r, now);
    }
}
