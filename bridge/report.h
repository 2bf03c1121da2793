/** @file report.h
 * What the bridge says about itself (report.c). Main thread only.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_REPORT_H
#define BRIDGE_REPORT_H

#include "bridge.h"

struct cJSON;
/** bridge/info's object (the API's info command answers with it too). */
struct cJSON *bridge_info_json(struct bridge *b);
/** Publish bridge/info. */
void bridge_report_info(struct bridge *b);
/** Each turn of the main loop: bridge/info when the MQTT protocol changed, the streamers'
 *  states when due or urgent, bridge/health when due. */
void bridge_report_periodic(struct bridge *b);

#endif
