/** @file scenario_ev.c
 * The event lines of a scenario (README "Events"): one struct ev per line (a gift streak
 * becomes its repeatEnd 0 messages and the final repeatEnd 1), in the session of the room the
 * line names, with the fields enc.c reads (tabled at its top).
 *
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "gifts.h"
#include "scenario.h"

static uint32_t ev_user(struct parser *p, const cJSON *o, const char *k)
{
    const char *h = jstr(o, k, NULL);

    return h != NULL ? sim_user_get(p->s, h) : SIM_NONE;
}

static int items_users(struct parser *p, const cJSON *arr, struct ev_item *it)
{
    int n = cJSON_GetArraySize(arr);

    if (n <= 0)
        return 0;
    if (n > ITEMS_MAX)
        n = ITEMS_MAX;
    it->users = arena_alloc(&p->s->perm, (size_t)n * sizeof(uint32_t));
    if (it->users == NULL)
        return FAIL(p, "out of memory");
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(arr, i);

        it->users[i] = cJSON_IsString(v) ? sim_user_get(p->s, v->valuestring) : SIM_NONE;
    }
    it->n_users = (uint32_t)n;
    return 0;
}

/* A list field: top viewers, battle hosts, poll options. Strings are shorthand for users (or
   for option texts). */
static int parse_items(struct parser *p, struct ev *e, const cJSON *arr, const char *ukey,
                       const char *nkey)
{
    int n = cJSON_GetArraySize(arr);

    if (arr == NULL)
        return 0;
    if (!cJSON_IsArray(arr))
        return FAIL(p, "expected an array");
    if (n > ITEMS_MAX)
        return FAIL(p, "at most %d list entries", ITEMS_MAX);
    e->items = arena_alloc(&p->s->perm, (size_t)(n + 1) * sizeof(*e->items));
    if (e->items == NULL)
        return FAIL(p, "out of memory");
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(arr, i);
        struct ev_item *it = &e->items[i];

        it->user = SIM_NONE;
        if (cJSON_IsString(v)) {
            if (ukey != NULL)
                it->user = sim_user_get(p->s, v->valuestring);
            else
                it->text = perm_str(p, v->valuestring);
            continue;
        }
        if (ukey != NULL)
            it->user = ev_user(p, v, ukey);
        else
            it->text = perm_str(p, jstr(v, "text", ""));
        it->n = jint(v, nkey, 0);
        if (items_users(p, cJSON_GetObjectItemCaseSensitive(v, "supporters"), it) != 0)
            return -1;
    }
    e->n_items = (uint32_t)n;
    return 0;
}

static int gift_streak(struct parser *p, struct session *ss, struct ev *e, const cJSON *o)
{
    const struct gift *g = &sim_gifts[e->a];
    int64_t count = jint(o, "count", 1), step = jint(o, "streak_ms", 200);
    struct ev base = *e;

    if (count < 1 || count > 10000)
        return FAIL(p, "gift count must be 1..10000");
    base.d = jid(o, "group_id",
                 (int64_t)(common_splitmix64(&p->s->rng) % 9000000000000) + 1000000000000);
    if (g->type != 1) { /* arrives once, final */
        *e = base;
        e->b = count;
        e->c = 1;
        return 0;
    }
    for (int64_t i = 1; i <= count + 1; i++) {
        struct ev *x = i == 1 ? e : session_add_ev(p->s, ss);

        if (x == NULL)
            return FAIL(p, "out of memory");
        *x = base;
        x->t_ms = base.t_ms + (i - 1) * step;
        x->b = i <= count ? i : count;
        x->c = i > count; /* the last message closes the streak with the final count */
    }
    return 0;
}

static int ev_gift(struct parser *p, struct session *ss, struct ev *e, const cJSON *o)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "gift");
    int idx = -1;

    if (cJSON_IsNumber(g))
        idx = gift_find_id((int64_t)g->valuedouble);
    else if (cJSON_IsString(g))
        idx = isdigit((unsigned char)g->valuestring[0])
                      ? gift_find_id(strtoll(g->valuestring, NULL, 10))
                      : gift_find_name(g->valuestring);
    else if (g == NULL)
        idx = 0;
    if (idx < 0)
        return FAIL(p, "unknown gift (see GET /webcast/gift/list/ for the table)");
    e->a = idx;
    return gift_streak(p, ss, e, o);
}

static int ev_battle(struct parser *p, struct ev *e, const cJSON *o, bool points)
{
    struct room *r = p->cur;

    e->a = jid(o, "battle_id", r->battle_id);
    r->battle_id = e->a;
    if (!points) {
        const cJSON *opp = cJSON_GetObjectItemCaseSensitive(o, "opponents");
        int n = cJSON_GetArraySize(opp);

        e->b = jint(o, "action", 4);
        e->items = arena_alloc(&p->s->perm, (size_t)(n + 2) * sizeof(*e->items));
        if (e->items == NULL)
            return FAIL(p, "out of memory");
        e->items[0].user = r->host;
        e->n_items = 1;
        for (int i = 0; i < n && i < ITEMS_MAX; i++) {
            const cJSON *v = cJSON_GetArrayItem(opp, i);

            e->items[e->n_items++].user =
                    cJSON_IsString(v) ? sim_user_get(p->s, v->valuestring) : SIM_NONE;
        }
        return 0;
    }
    e->b = strcmp(jstr(o, "status", "score"), "end") == 0 ? 2 : 1;
    e->c = jbool(o, "diamond_score", false);
    return parse_items(p, e, cJSON_GetObjectItemCaseSensitive(o, "hosts"), "host", "points");
}

static int ev_poll(struct parser *p, struct ev *e, const cJSON *o)
{
    const char *ph = jstr(o, "phase", "start");

    e->a = jid(o, "poll_id",
               sim_make_id(p->s->seed, jstr(o, "title", "poll"), 7280000000000000000));
    e->b = strcmp(ph, "start") == 0 ? 1 : strcmp(ph, "update") == 0 ? 2 : 3;
    if (e->b == 3 && strcmp(ph, "end") != 0)
        return FAIL(p, "poll phase must be start, update or end");
    e->c = jint(o, "duration", 60);
    e->d = jint(o, "end_type", 0);
    e->s1 = perm_str(p, jstr(o, "title", ""));
    if (e->user == SIM_NONE)
        e->user = p->cur->host;
    return parse_items(p, e, cJSON_GetObjectItemCaseSensitive(o, "options"), NULL, "votes");
}

static int ev_raw(struct parser *p, struct ev *e, const cJSON *o)
{
    const char *b64 = jstr(o, "b64", "");
    size_t n = strlen(b64);
    unsigned char *buf = arena_alloc(&p->s->perm, n);
    ssize_t out;

    if (buf == NULL)
        return FAIL(p, "out of memory");
    out = common_base64_decode(b64, n, buf);
    if (out < 0)
        return FAIL(p, "raw: b64 is not base64");
    e->s1 = perm_str(p, jstr(o, "method", "WebcastUnknownMessage"));
    e->s2 = (const char *)buf;
    e->a = (int64_t)out;
    return 0;
}

/* clang-format off */
static const struct { const char *name; enum ev_type type; } ev_names[] = {
    { "chat", EV_CHAT },           { "gift", EV_GIFT },           { "like", EV_LIKE },
    { "follow", EV_FOLLOW },       { "share", EV_SHARE },         { "join", EV_JOIN },
    { "member", EV_JOIN },         { "viewers", EV_VIEWERS },     { "question", EV_QUESTION },
    { "battle", EV_BATTLE },       { "battle_points", EV_BATTLE_POINTS },
    { "intro", EV_INTRO },         { "emote", EV_EMOTE },         { "envelope", EV_ENVELOPE },
    { "subscribe", EV_SUBSCRIBE }, { "pin", EV_PIN },             { "poll", EV_POLL },
    { "pause", EV_PAUSE },         { "resume", EV_RESUME },       { "end", EV_END },
    { "suspend", EV_SUSPEND },     { "raw", EV_RAW },             { "garbage", EV_GARBAGE },
    { "truncated", EV_TRUNCATED }, { "gzip_bomb", EV_GZIP_BOMB }, { "drop", EV_DROP },
    { "close", EV_CLOSE },         { "silence", EV_SILENCE },
};
/* clang-format on */

const char *ev_type_name(unsigned type)
{
    for (size_t i = 0; i < sizeof(ev_names) / sizeof(ev_names[0]); i++)
        if (ev_names[i].type == type)
            return ev_names[i].name; /* the first name: "join" rather than "member" */
    return "?";
}

static int ev_type_of(const char *name)
{
    for (size_t i = 0; i < sizeof(ev_names) / sizeof(ev_names[0]); i++)
        if (strcmp(ev_names[i].name, name) == 0)
            return (int)ev_names[i].type;
    return -1;
}

/* Fields of the transport events: they make frames (or their absence), not messages. */
static int ev_transport(struct parser *p, struct ev *e, const cJSON *o)
{
    switch (e->type) {
    case EV_GARBAGE:
        e->a = jint(o, "bytes", 64);
        return e->a > 0 && e->a <= 16 * 1024 * 1024 ? 0 : FAIL(p, "garbage: bytes 1..16777216");
    case EV_GZIP_BOMB:
        e->a = jint(o, "inflated", 32 * 1024 * 1024);
        return e->a > 0 && e->a <= (1 << 30) ? 0 : FAIL(p, "gzip_bomb: inflated 1..2^30");
    case EV_CLOSE:
        e->a = jint(o, "code", 1000);
        e->s1 = perm_str(p, jstr(o, "reason", ""));
        return 0;
    case EV_SILENCE:
        e->a = (int64_t)(jnum(o, "seconds", 5) * 1000);
        return 0;
    default: /* truncated, drop: no fields */
        return 0;
    }
}

/* Fields of the messages that are more than a user and a text. */
static int ev_rich(struct parser *p, struct ev *e, const cJSON *o)
{
    switch (e->type) {
    case EV_VIEWERS:
        e->a = jint(o, "count", p->cur->viewers);
        e->b = jint(o, "total", e->a * 3);
        return parse_items(p, e, cJSON_GetObjectItemCaseSensitive(o, "top"), "user", "coins");
    case EV_ENVELOPE:
        e->a = jint(o, "coins", 100);
        e->b = jint(o, "people", 10);
        e->c = jint(o, "unpack_after", 60);
        e->s1 = perm_str(p, jstr(o, "envelope_id", NULL));
        return 0;
    case EV_SUBSCRIBE:
        e->a = jint(o, "months", 1);
        e->b = jint(o, "sub_type", 1);
        e->c = jint(o, "old_status", 0);
        e->d = jint(o, "status", 2);
        return 0;
    case EV_PIN:
        e->s1 = perm_str(p, jstr(o, "text", ""));
        e->a = strcmp(jstr(o, "action", "pin"), "unpin") == 0 ? 2 : 1;
        e->b = jint(o, "duration", 60);
        return 0;
    case EV_POLL:
        return ev_poll(p, e, o);
    case EV_RAW:
        return ev_raw(p, e, o);
    default:
        return ev_transport(p, e, o);
    }
}

/* Fields per type; see the table at the top of enc.c. */
static int ev_fields(struct parser *p, struct session *ss, struct ev *e, const cJSON *o)
{
    struct sim *s = p->s;

    switch (e->type) {
    case EV_CHAT:
        e->s1 = perm_str(p, jstr(o, "text", ""));
        e->s2 = perm_str(p, jstr(o, "emote", NULL));
        e->a = jint(o, "emote_index", 0);
        return 0;
    case EV_GIFT:
        return ev_gift(p, ss, e, o);
    case EV_LIKE:
        e->a = jint(o, "count", 1);
        e->b = jint(o, "total", 0);
        return 0;
    case EV_QUESTION:
        e->a = jid(o, "question_id",
                   (int64_t)(common_splitmix64(&s->rng) % 1000000000000) + 7286184250000000000);
        e->s1 = perm_str(p, jstr(o, "text", ""));
        return 0;
    case EV_BATTLE:
    case EV_BATTLE_POINTS:
        return ev_battle(p, e, o, e->type == EV_BATTLE_POINTS);
    case EV_INTRO:
        e->a = jid(o, "intro_id", (int64_t)(common_splitmix64(&s->rng) % 1000000000) + 1);
        e->s1 = perm_str(p, jstr(o, "text", ""));
        if (e->user == SIM_NONE)
            e->user = p->cur->host;
        return 0;
    case EV_EMOTE:
        e->s1 = perm_str(p, jstr(o, "emote", "7251111111111111111"));
        return 0;
    case EV_PAUSE:
    case EV_RESUME:
    case EV_END:
    case EV_SUSPEND:
        e->s1 = perm_str(p, jstr(o, "tips", NULL));
        return 0;
    default:
        return ev_rich(p, e, o);
    }
}

/* An end with relive_after starts the streamer's next session (and its timeline). */
static int ev_relive(struct parser *p, int type, const cJSON *o)
{
    struct room *r = p->cur;
    double after = jnum(o, "relive_after", -1);

    if (type != EV_END || after < 0)
        return 0;
    r->sess[r->n_sess - 1].relive_after_ms = (int64_t)(after * 1000);
    if (r->n_sess >= 255)
        return FAIL(p, "at most 255 sessions per streamer");
    return session_new(p->s, r, jid(o, "relive_room_id", 0)) ? FAIL(p, "out of memory") : 0;
}

int parse_event(struct parser *p, const cJSON *o)
{
    const char *room = jstr(o, "room", NULL), *type = jstr(o, "type", NULL);
    struct session *ss;
    struct ev *e;
    int t;

    if (room != NULL && (p->cur = sim_room_by_handle(p->s, room)) == NULL)
        return FAIL(p, "event for \"%s\", which no streamer line defines", room);
    if (p->cur == NULL)
        return FAIL(p, "event before any streamer line (or give \"room\")");
    if (type == NULL || (t = ev_type_of(type)) < 0)
        return FAIL(p, "unknown event type \"%s\"", type ? type : "(none)");
    ss = &p->cur->sess[p->cur->n_sess - 1];
    e = session_add_ev(p->s, ss);
    if (e == NULL)
        return FAIL(p, "out of memory");
    e->type = (uint16_t)t;
    e->t_ms = (int64_t)(jnum(o, "t", 0) * 1000);
    e->user = ev_user(p, o, "user");
    if (jbool(o, "backlog", false) && t < EV_N_MESSAGES)
        e->flags |= EVF_BACKLOG;
    /* a gift streak may grow the array: e is stale after this */
    if (ev_fields(p, ss, e, o) != 0)
        return -1;
    return ev_relive(p, t, o);
}
