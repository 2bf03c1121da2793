/** @file bridge.h
 * The daemon's version and the wall clock it stamps things with.
 *
 * The daemon's modules each have their own header: log.h, out.h (the output) and sink.h (what
 * an output is), topic.h, streamer.h, streamers.h (the set and reload), api.h, notices.h,
 * record.h, metrics.h, ha.h, mqtt.h, probe.h, runtime.h, cfg.h, handle.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_BRIDGE_H
#define BRIDGE_BRIDGE_H

#include <stdint.h>

#define BRIDGE_VERSION "0.1.0"

/** Unix time in ms (CLOCK_REALTIME). */
int64_t bridge_now_ms(void);

#endif
