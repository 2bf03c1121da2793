/** @file test_paho_nudge.c
 * When paho's send thread is nudged (bridge/paho_nudge.c): only with messages in flight, never
 * with a nudge unanswered, PAHO_NUDGE_MS after the last handoff or completion, then backing off
 * (doubling to PAHO_NUDGE_MAX_MS) until paho finishes a message again.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "paho_nudge.h"

/* what paho_nudge_send() records, without a client */
static void sent(struct paho_nudge *n, int64_t done_ms, int64_t now)
{
    n->streak = done_ms >= n->last_ms ? 1 : n->streak + 1;
    n->last_ms = now;
}

int main(void)
{
    struct paho_nudge n = { 0 };
    CHECK_EQ(paho_nudge_wait_ms(&n, 0, 1000, 900, 1000), -1); /* nothing in flight */
    CHECK_EQ(paho_nudge_wait_ms(&n, 3, 1000, 900, 1000), PAHO_NUDGE_MS);
    CHECK_EQ(paho_nudge_wait_ms(&n, 3, 1000, 900, 1005), PAHO_NUDGE_MS - 5);
    CHECK_EQ(paho_nudge_wait_ms(&n, 3, 1000, 900, 1030), 0);
    atomic_store(&n.pending, 1);
    CHECK_EQ(paho_nudge_wait_ms(&n, 3, 1000, 900, 1030), -1); /* one outstanding at most */
    atomic_store(&n.pending, 0);

    /* no completion since: 40, 80, ... ms after the last nudge, never more than the max */
    int64_t now = 1020;
    int64_t expect[] = { 40, 80, 160, 320, 640, 1000, 1000 };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        sent(&n, 900, now);
        CHECK_EQ(paho_nudge_wait_ms(&n, 3, 1000, 900, now), (int)expect[i]);
        now += expect[i];
    }
    /* a handoff alone does not end the streak, a completion does */
    int64_t last = n.last_ms;
    CHECK_EQ(paho_nudge_wait_ms(&n, 3, last + 10, 900, last + 10), 990);
    CHECK_EQ(paho_nudge_wait_ms(&n, 3, last + 10, last + 20, last + 20), PAHO_NUDGE_MS);
    sent(&n, last + 20, last + 40);
    CHECK_EQ(n.streak, 1);
    return h_finish();
}
