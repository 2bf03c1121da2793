/** @file bridge.h
 * The running bridge: its configuration, its output, its streamers and its timers, shared by
 * main.c (the command line and the main loop), streamers.c (the set and reload), api.c (the
 * runtime API) and report.c (bridge/info, bridge/health, states). Main thread only, but for
 * what out.h and streamer.h say is thread-safe.
 *
 * The daemon's other modules each have their own header: log.h, out.h (the output) and
 * sink.h (what an output is), topic.h, streamer.h, notices.h, record.h, metrics.h, ha.h,
 * mqtt.h, probe.h, runtime.h, seen.h, cfg.h, handle.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_BRIDGE_H
#define BRIDGE_BRIDGE_H

#include <signal.h>
#include <stdint.h>

#include "cfg.h"
#include "out.h"
#include "runtime.h"
#include "seen.h"
#include "streamer.h"

#define BRIDGE_VERSION "0.1.0"
/* Where users get help, for Home Assistant's origin block; "" leaves support_url out (the
 * project has no public page yet). A packager may set it: -DBRIDGE_SUPPORT_URL='"https://…"' */
#ifndef BRIDGE_SUPPORT_URL
#define BRIDGE_SUPPORT_URL ""
#endif

struct bridge {
    struct bridge_cfg cfg;
    struct bridge_out out;
    struct streamer *streamers; /* the running ones (streamers.c) */
    int64_t started_ms, next_state_ms, next_health_ms;
    struct runtime rt;            /* streamers added / removed through the API (state_file) */
    struct bridge_seen seen;      /* msgIds published, over streamer and bridge restarts */
    struct bridge_http *http;     /* [bridge] http (or metrics); NULL: off */
    struct bridge_sse *sse;       /* its event stream: the output's tap (out.tap); NULL: none */
    int info_protocol;            /* the MQTT protocol bridge/info last showed */
    volatile sig_atomic_t reload; /* SIGHUP or the API's reload: the main loop reloads */
    struct cJSON *reload_waiters; /* the API's reload requests the next reload answers */
    struct tt_devices *devices;   /* the direct path's devices, shared by every streamer */
};

#endif
