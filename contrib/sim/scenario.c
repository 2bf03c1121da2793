/** @file scenario.c
 * The scenario file: JSON lines that describe the world (contrib/sim/README.md "Scenario
 * format"). A line is a settings line (`"kind":"sim"`), a streamer, a viewer, a load-mode line,
 * or an event (any line without a kind). Events belong to the room named by "room", else to
 * the streamer defined last; "t" is seconds from the start of the room's session. An `end` with
 * `relive_after` closes a session: the events after it form the next one, with a new room id.
 * Gift streaks are expanded here into their repeatEnd 0 / 1 messages.
 *
 * Errors name the file and line and stop the simulator before it listens.
 *
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gifts.h"
#include "scenario.h"

#define LINE_MAX_LEN (1024 * 1024)

/* ---- ids and users ---- */

int64_t sim_make_id(uint64_t seed, const char *salt, int64_t base)
{
    uint64_t h = sim_hash(salt) ^ (seed * 0x9e3779b97f4a7c15u);

    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 32;
    return base + (int64_t)(h % 100000000000000000u);
}

static char *sec_uid(struct sim *s, const char *handle)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char buf[64] = "MS4wLjABAAAA";
    uint64_t st = sim_hash(handle) ^ s->seed;

    for (size_t i = 12; i < 12 + 43; i++)
        buf[i] = b64[common_splitmix64(&st) % 64];
    buf[55] = '\0';
    return arena_strdup(&s->perm, buf);
}

static uint64_t handle_key(const char *h)
{
    char low[SIM_HANDLE];
    size_t i;

    for (i = 0; h[i] && i < sizeof(low) - 1; i++)
        low[i] = (char)tolower((unsigned char)h[i]);
    low[i] = '\0';
    return sim_hash(low) | 1;
}

static const char *strip_at(const char *h)
{
    return h[0] == '@' ? h + 1 : h;
}

uint32_t sim_user_get(struct sim *s, const char *handle)
{
    uint32_t i;
    struct sim_user *u, *nu;

    handle = strip_at(handle);
    if (hmap_get(&s->user_by_handle, handle_key(handle), &i) &&
        strcasecmp(s->users[i].handle, handle) == 0)
        return i;
    nu = sim_grow(s->users, &s->cap_users, s->n_users, sizeof(*nu), 64);
    if (nu == NULL)
        return SIM_NONE;
    s->users = nu;
    i = s->n_users;
    u = &s->users[i];
    memset(u, 0, sizeof(*u));
    u->handle = arena_strdup(&s->perm, handle);
    u->nickname = u->handle;
    u->id = sim_make_id(s->seed, handle, 6800000000000000000);
    u->sec_uid = sec_uid(s, handle);
    u->followers = (int64_t)(sim_hash(handle) % 5000);
    u->following = (int64_t)(sim_hash(handle) % 700);
    u->create_time = 1500000000 + (int64_t)(sim_hash(handle) % 200000000);
    if (u->handle == NULL || u->sec_uid == NULL ||
        hmap_put(&s->user_by_handle, handle_key(handle), i) != 0)
        return SIM_NONE;
    s->n_users++;
    return i;
}

/* ---- rooms ---- */

void sim_default_room(struct sim *s, struct room *r)
{
    r->state = ROOM_LIVE;
    r->gzip = 1.0;
    r->need_ack = true;
    r->viewers = 100 + (int64_t)(sim_hash(r->handle) % 2000);
    r->title = arena_strdup(&s->perm, "LIVE on tiktok-live-sim");
    r->live_since_s = common_wall_ms() / 1000;
    r->rng = sim_hash(r->handle) ^ s->seed;
    r->log_id = 7300000000000000000 + (int64_t)(sim_hash(r->handle) % 100000000000);
    r->battle_id = sim_make_id(s->seed, r->handle, 7290000000000000000);
}

int session_new(struct sim *s, struct room *r, int64_t room_id)
{
    struct session *ns = realloc(r->sess, (r->n_sess + 1) * sizeof(*ns));
    char salt[SIM_HANDLE + 16];

    if (ns == NULL)
        return -1;
    r->sess = ns;
    ns = &r->sess[r->n_sess];
    memset(ns, 0, sizeof(*ns));
    snprintf(salt, sizeof(salt), "%s#%" PRIu32, r->handle, r->n_sess);
    ns->room_id = room_id ? room_id : sim_make_id(s->seed, salt, 7300000000000000000);
    ns->relive_after_ms = -1;
    r->n_sess++;
    return 0;
}

struct room *sim_room_add(struct sim *s, const char *handle, uint32_t host)
{
    struct room *r, *nr = sim_grow(s->rooms, &s->cap_rooms, s->n_rooms, sizeof(*nr), 16);

    if (nr == NULL)
        return NULL;
    s->rooms = nr;
    r = &s->rooms[s->n_rooms];
    memset(r, 0, sizeof(*r));
    r->handle = s->users[host].handle;
    r->host = host;
    sim_default_room(s, r);
    (void)handle;
    if (session_new(s, r, 0) != 0)
        return NULL;
    if (hmap_put(&s->by_handle, handle_key(r->handle), s->n_rooms) != 0)
        return NULL;
    s->n_rooms++;
    return r;
}

struct ev *session_add_ev(struct sim *s, struct session *ss)
{
    (void)s;
    struct ev *ne = sim_grow(ss->ev, &ss->cap_ev, ss->n_ev, sizeof(*ne), 32);

    if (ne == NULL)
        return NULL;
    ss->ev = ne;
    memset(&ss->ev[ss->n_ev], 0, sizeof(ss->ev[0]));
    ss->ev[ss->n_ev].user = SIM_NONE;
    return &ss->ev[ss->n_ev++];
}

struct room *sim_room_by_handle(struct sim *s, const char *handle)
{
    uint32_t i;

    handle = strip_at(handle);
    if (hmap_get(&s->by_handle, handle_key(handle), &i) && i < s->n_rooms &&
        strcasecmp(s->rooms[i].handle, handle) == 0)
        return &s->rooms[i];
    return NULL;
}

struct room *sim_room_by_id(struct sim *s, int64_t room_id, uint32_t *sess)
{
    uint32_t v;

    if (room_id <= 0 || !hmap_get(&s->by_room_id, (uint64_t)room_id, &v))
        return NULL;
    if ((v >> 8) >= s->n_rooms)
        return NULL;
    *sess = v & 0xff;
    return &s->rooms[v >> 8];
}

int sim_room_index_ids(struct sim *s, struct room *r)
{
    uint32_t idx = (uint32_t)(r - s->rooms);

    for (uint32_t i = 0; i < r->n_sess && i < 256; i++)
        if (hmap_put(&s->by_room_id, (uint64_t)r->sess[i].room_id, idx << 8 | i) != 0)
            return -1;
    return 0;
}

/* ---- JSON helpers ---- */

const char *jstr(const cJSON *o, const char *k, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : def;
}

double jnum(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsString(v))
        return strtod(v->valuestring, NULL);
    return def;
}

/* 64-bit ids: strings keep every digit; numbers pass through a double. */
int64_t jid(const cJSON *o, const char *k, int64_t def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    if (cJSON_IsString(v))
        return strtoll(v->valuestring, NULL, 10);
    if (cJSON_IsNumber(v))
        return (int64_t)v->valuedouble;
    return def;
}

int64_t jint(const cJSON *o, const char *k, int64_t def)
{
    return (int64_t)llround(jnum(o, k, (double)def));
}

bool jbool(const cJSON *o, const char *k, bool def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

const char *perm_str(struct parser *p, const char *s)
{
    return s ? arena_strdup(&p->s->perm, s) : NULL;
}

/* ---- lines ---- */

static int parse_sim(struct parser *p, const cJSON *o)
{
    struct sim *s = p->s;

    s->seed = (uint64_t)jint(o, "seed", (int64_t)s->seed);
    s->rng = s->seed * 0x2545f4914f6cdd1du + 1;
    if (jstr(o, "api_key", NULL) != NULL && s->api_key == NULL)
        s->api_key = perm_str(p, jstr(o, "api_key", NULL));
    s->slow_ms = (int)jint(o, "slow_ms", s->slow_ms);
    s->require_signature = jbool(o, "require_signature", s->require_signature);
    s->ttwid_withhold = (uint32_t)jint(o, "ttwid_withhold", s->ttwid_withhold);
    return 0;
}

static void parse_user_fields(struct parser *p, struct sim_user *u, const cJSON *o)
{
    u->nickname = perm_str(p, jstr(o, "nickname", u->nickname));
    u->id = jid(o, "id", u->id);
    u->sec_uid = perm_str(p, jstr(o, "sec_uid", u->sec_uid));
    u->bio = perm_str(p, jstr(o, "bio", u->bio));
    u->followers = jint(o, "followers", u->followers);
    u->following = jint(o, "following", u->following);
    u->follow_status = (int32_t)jint(o, "follow_status", u->follow_status);
    u->gifter_level = (int32_t)jint(o, "gifter_level", u->gifter_level);
    u->fan_level = (int32_t)jint(o, "fan_level", u->fan_level);
    u->top_gifter = (int32_t)jint(o, "top_gifter", u->top_gifter);
    u->moderator = jbool(o, "moderator", u->moderator);
    u->subscriber = jbool(o, "subscriber", u->subscriber);
    u->new_gifter = jbool(o, "new_gifter", u->new_gifter);
}

static int parse_viewer(struct parser *p, const cJSON *o)
{
    const char *h = jstr(o, "handle", NULL);
    uint32_t i;

    if (h == NULL || strlen(h) >= SIM_HANDLE)
        return FAIL(p, "viewer needs a \"handle\" (at most %d bytes)", SIM_HANDLE - 1);
    i = sim_user_get(p->s, h);
    if (i == SIM_NONE)
        return FAIL(p, "out of memory");
    parse_user_fields(p, &p->s->users[i], o);
    return 0;
}

static void parse_handshake(struct parser *p, struct faults *f, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        /* "415 DEVICE_BLOCKED" */
        char *end = NULL;

        f->handshake_status = (int)strtol(v->valuestring, &end, 10);
        while (end && *end == ' ')
            end++;
        f->handshake_msg = perm_str(p, end && *end ? end : "DEVICE_BLOCKED");
    } else if (cJSON_IsObject(v)) {
        f->handshake_status = (int)jint(v, "status", 415);
        f->handshake_msg = perm_str(p, jstr(v, "msg", "DEVICE_BLOCKED"));
    }
}

/* The same shapes, for a refusal of direct upgrades alone. */
static void parse_direct_handshake(struct parser *p, struct faults *f, const cJSON *v)
{
    struct faults tmp;

    memset(&tmp, 0, sizeof(tmp));
    parse_handshake(p, &tmp, v);
    f->direct_handshake_status = tmp.handshake_status;
    f->direct_handshake_msg = tmp.handshake_msg;
}

static int parse_faults(struct parser *p, struct faults *f, const cJSON *o)
{
    if (o == NULL)
        return 0;
    if (!cJSON_IsObject(o))
        return FAIL(p, "\"faults\" must be an object");
    f->sign_status = (int)jint(o, "sign_status", 0);
    f->sign_times = (int)jint(o, "sign_times", 0);
    f->retry_after = (int)jint(o, "retry_after", 0);
    f->limit_label = perm_str(p, jstr(o, "limit_label", NULL));
    f->fetch_status = (int)jint(o, "fetch_status", 0);
    f->poll_truncated = (int)jint(o, "poll_truncated", 0);
    f->poll_limited = (int)jint(o, "poll_limited", 0);
    f->no_cursor = jbool(o, "no_cursor", false);
    f->no_push_server = jbool(o, "no_push_server", false);
    f->age_restricted = jbool(o, "age_restricted", false);
    f->blocked = jbool(o, "blocked", false);
    f->silent = jbool(o, "silent", false);
    f->no_hb_answer = jbool(o, "no_heartbeat_answer", false);
    f->no_enter_answer = jbool(o, "no_enter_answer", false);
    f->euler_refuse = jbool(o, "euler_refuse", false);
    parse_handshake(p, f, cJSON_GetObjectItemCaseSensitive(o, "handshake"));
    f->device_blocked = (int)jint(o, "device_blocked", 0);
    parse_direct_handshake(p, f, cJSON_GetObjectItemCaseSensitive(o, "direct_handshake"));
    f->drop_after = (int)jint(o, "drop_after", 0);
    f->close_after = (int)jint(o, "close_after", 0);
    f->close_code = (int)jint(o, "close_code", 0);
    f->close_reason = perm_str(p, jstr(o, "close_reason", NULL));
    f->slow_ms = (int)jint(o, "slow_ms", 0);
    f->endless_message = jbool(o, "endless_message", false);
    f->push_host = perm_str(p, jstr(o, "push_host", NULL));
    f->signed_host = perm_str(p, jstr(o, "signed_host", NULL));
    f->header_bytes = (int)jint(o, "header_bytes", 0);
    f->json_depth = (int)jint(o, "json_depth", 0);
    if (f->header_bytes < 0 || f->header_bytes > (1 << 20))
        return FAIL(p, "header_bytes: 0..1048576");
    if (f->json_depth < 0 || f->json_depth > 100000)
        return FAIL(p, "json_depth: 0..100000");
    for (const cJSON *c = o->child; c != NULL; c = c->next) {
        static const char *const known[] = {
            "sign_status",     "sign_times",          "retry_after",
            "limit_label",     "fetch_status",        "no_cursor",
            "no_push_server",  "age_restricted",      "blocked",
            "silent",          "no_heartbeat_answer", "no_enter_answer",
            "euler_refuse",    "handshake",           "drop_after",
            "close_after",     "close_code",          "close_reason",
            "slow_ms",         "device_blocked",      "direct_handshake",
            "endless_message", "push_host",           "signed_host",
            "header_bytes",    "json_depth",          "poll_truncated",
            "poll_limited"
        };
        bool ok = false;

        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !ok; i++)
            ok = strcmp(c->string, known[i]) == 0;
        if (!ok)
            return FAIL(p, "unknown fault \"%s\"", c->string);
    }
    return 0;
}

static int parse_streamer(struct parser *p, const cJSON *o)
{
    struct sim *s = p->s;
    static const char *const states[] = { "live", "offline", "missing" }; /* enum room_state */
    const char *h = jstr(o, "handle", NULL), *st = jstr(o, "status", "live");
    uint32_t u;
    size_t k = 0;
    struct room *r;

    if (h == NULL || strlen(h) >= SIM_HANDLE)
        return FAIL(p, "streamer needs a \"handle\" (at most %d bytes)", SIM_HANDLE - 1);
    if (sim_room_by_handle(s, h) != NULL)
        return FAIL(p, "streamer \"%s\" defined twice", h);
    u = sim_user_get(s, h);
    if (u == SIM_NONE || (r = sim_room_add(s, h, u)) == NULL)
        return FAIL(p, "out of memory");
    parse_user_fields(p, &s->users[u], o);
    while (k < sizeof(states) / sizeof(states[0]) && strcmp(st, states[k]) != 0)
        k++;
    if (k == sizeof(states) / sizeof(states[0]))
        return FAIL(p, "status must be live, offline or missing, not \"%s\"", st);
    r->state = (enum room_state)k;
    r->sess[0].room_id = jid(o, "room_id", r->sess[0].room_id);
    r->title = perm_str(p, jstr(o, "title", r->title));
    r->viewers = jint(o, "viewers", r->viewers);
    r->likes = jint(o, "likes", r->likes);
    r->gzip = jnum(o, "gzip", r->gzip);
    r->need_ack = jbool(o, "need_ack", r->need_ack);
    r->loop = jbool(o, "loop", r->loop);
    if (jint(o, "ping_interval", 0) < 0 || jint(o, "ping_interval", 0) > 3600 ||
        jint(o, "history", 0) < 0 || jint(o, "history", 0) > POLL_MAX)
        return FAIL(p, "ping_interval must be 0..3600 (s), history 0..%d", POLL_MAX);
    r->ping_interval = (int32_t)jint(o, "ping_interval", 0);
    r->history = (uint32_t)jint(o, "history", 0);
    p->cur = r;
    return parse_faults(p, &r->f, cJSON_GetObjectItemCaseSensitive(o, "faults"));
}

static int parse_load(struct parser *p, const cJSON *o)
{
    struct load *l = &p->s->load;

    l->rooms = (uint32_t)jint(o, "rooms", 100);
    l->rate = jnum(o, "rate", 5);
    l->seconds = jnum(o, "seconds", 60);
    l->seed = (uint64_t)jint(o, "seed", 1);
    l->prefix = perm_str(p, jstr(o, "prefix", "load"));
    l->viewers = (uint32_t)jint(o, "viewers", 500);
    l->gzip = jnum(o, "gzip", 1.0);
    l->batch_ms = jint(o, "batch_ms", 200);
    if (cJSON_GetObjectItemCaseSensitive(o, "fps") != NULL) /* frames per second per room */
        l->batch_ms = jnum(o, "fps", 5) > 0 ? (int64_t)(1000 / jnum(o, "fps", 5)) : -1;
    l->frame_events = (uint32_t)jint(o, "frame_events", 32);
    l->msgid_only = jint(o, "msgid_only", 0) != 0;
    if (l->rooms == 0 || l->rooms > 1000000 || l->rate < 0 || l->rate > 1000000 ||
        l->viewers == 0 || l->viewers > 100000 || l->batch_ms < 0 || l->batch_ms > 60000 ||
        l->frame_events == 0 || l->frame_events > LOAD_FRAME_MAX)
        return FAIL(p, "load: rooms 1..1000000, rate 0..1000000, viewers 1..100000, "
                       "batch_ms 0..60000 (fps 1/60..1000), frame_events 1..4096");
    p->s->load_mode = true;
    return 0;
}

static int parse_line(struct parser *p, const char *text)
{
    cJSON *o = cJSON_Parse(text);
    const char *kind;
    int rc;

    if (o == NULL || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return FAIL(p, "not a JSON object");
    }
    kind = jstr(o, "kind", "event");
    if (strcmp(kind, "sim") == 0)
        rc = parse_sim(p, o);
    else if (strcmp(kind, "streamer") == 0)
        rc = parse_streamer(p, o);
    else if (strcmp(kind, "viewer") == 0)
        rc = parse_viewer(p, o);
    else if (strcmp(kind, "load") == 0)
        rc = parse_load(p, o);
    else if (strcmp(kind, "event") == 0)
        rc = parse_event(p, o);
    else
        rc = FAIL(p, "unknown kind \"%s\"", kind);
    cJSON_Delete(o);
    return rc;
}

static int cmp_ev(const void *a, const void *b)
{
    const struct ev *x = a, *y = b;

    return x->t_ms < y->t_ms ? -1 : x->t_ms > y->t_ms;
}

/* Orders each timeline by time; events of the same time keep their file order (merge sort by
   hand would do; qsort is not stable, so the index breaks ties). */
static void sort_sessions(struct sim *s)
{
    for (uint32_t i = 0; i < s->n_rooms; i++) {
        for (uint32_t k = 0; k < s->rooms[i].n_sess; k++) {
            struct session *ss = &s->rooms[i].sess[k];

            for (uint32_t j = 1; j < ss->n_ev; j++) {
                /* insertion sort: stable, and scenario timelines are nearly sorted */
                struct ev x = ss->ev[j];
                uint32_t m = j;

                while (m > 0 && cmp_ev(&ss->ev[m - 1], &x) > 0) {
                    ss->ev[m] = ss->ev[m - 1];
                    m--;
                }
                ss->ev[m] = x;
            }
        }
    }
}

int scenario_load(struct sim *s, const char *path)
{
    struct parser p = { .s = s, .path = path };
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (f == NULL) {
        fprintf(stderr, "tiktok-live-sim: %s: cannot open\n", path);
        return -1;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        const char *t = line;

        p.line++;
        while (isspace((unsigned char)*t))
            t++;
        if (*t == '\0' || *t == '#')
            continue;
        if (n > LINE_MAX_LEN || parse_line(&p, t) != 0) {
            fprintf(stderr, "tiktok-live-sim: %s:%d: %s\n", path, p.line,
                    n > LINE_MAX_LEN ? "line too long" : p.err);
            free(line);
            fclose(f);
            return -1;
        }
    }
    free(line);
    fclose(f);
    sort_sessions(s);
    return 0;
}
