/** @file healthz.c
 * GET /healthz: what a liveness probe (systemd, Docker, Kubernetes) wants in one line. It is
 * answered on the HTTP server's thread at once, even while the main loop is busy.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "healthz.h"

int bridge_healthz(struct bridge_out *out, char *body, size_t n)
{
    struct bridge_mqtt_stats st;
    if (!bridge_out_stats(out, &st)) {
        snprintf(body, n, "ok (no broker: --stdout)\n");
        return 200;
    }
    if (st.connected && !st.stalled) {
        snprintf(body, n, "ok\n");
        return 200;
    }
    if (st.connected) { /* st.error says "stalled: ..." */
        snprintf(body, n, "mqtt: connected but %s\n", st.error);
        return 503;
    }
    snprintf(body, n, "mqtt: not connected to the broker: %s\n",
             st.error[0] ? st.error : "connecting");
    return 503;
}
