/** @file probe.h
 * --probe HANDLE (probe.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_PROBE_H
#define BRIDGE_PROBE_H

#include "cfg.h"

/** Connect to HANDLE step by step, print each outcome and fix; 0 when events flowed. */
int bridge_probe(const struct bridge_cfg *cfg, const char *handle, int seconds);

#endif
