/** @file scenario.h
 * What the scenario parser's two files share (scenario.c: lines, users, rooms;
 * scenario_ev.c: events): the parser state and the JSON field readers.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <cjson/cJSON.h>

#include "sim.h"

#define ITEMS_MAX 64 /* entries of a list field (top viewers, hosts, options) */

struct parser {
    struct sim *s;
    const char *path;
    int line;
    struct room *cur; /* events without "room" go here */
    char err[256];
};

#define FAIL(p, ...) (snprintf((p)->err, sizeof((p)->err), __VA_ARGS__), -1)

/* Field readers: the value of key k, or def when it is absent or of another type. */
const char *jstr(const cJSON *o, const char *k, const char *def);
double jnum(const cJSON *o, const char *k, double def);
int64_t jid(const cJSON *o, const char *k, int64_t def); /* 64-bit ids: give them as strings */
int64_t jint(const cJSON *o, const char *k, int64_t def);
bool jbool(const cJSON *o, const char *k, bool def);
const char *perm_str(struct parser *p, const char *s);

int session_new(struct sim *s, struct room *r, int64_t room_id);
int parse_event(struct parser *p, const cJSON *o);

#endif
