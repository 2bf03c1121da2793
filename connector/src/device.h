/** @file device.h
 * The direct path's device pool (device.c) and the direct flow's steps (direct.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TT_DEVICE_H
#define TT_DEVICE_H

#include <stdint.h>

#include "tt.h"

/* A ttwid token and the User-Agent it was minted with: TikTok judges them as one. */
struct tt_device {
    char token[256];
    char ua[256];
    int64_t minted; /* unix s */
    int blocked;    /* refused, or retired after a connection died young */
    unsigned id;    /* 0: none; unique within the pool's life */
};

/** Lend a device with room under the cap; 0 when there is none (mint one). */
int tt__devices_take(struct tt_devices *d, struct tt_device *out);
/** The User-Agent to mint the next device with; never `avoid` (the device it replaces). */
const char *tt__devices_user_agent(struct tt_devices *d, const char *avoid);
/** A freshly minted device, lent to the caller at once; the file is rewritten. */
enum tt_err tt__devices_add(struct tt_devices *d, const char *token, const char *ua,
                            struct tt_device *out);
/** Give a device back; `retire`: it is blocked, never lent again (the file is rewritten). */
void tt__devices_release(struct tt_devices *d, unsigned id, int retire);
/** Serialise minting: a hundred streamers starting together would each mint a device when
 *  one (or a few, under the cap) would do. Take, lock, take again, mint, unlock. */
void tt__devices_mint_lock(struct tt_devices *d);
void tt__devices_mint_unlock(struct tt_devices *d);
/** 1 if another client has retired the device meanwhile. */
int tt__devices_blocked(struct tt_devices *d, unsigned id);
/** The file's path when its last write failed, else NULL (also without a file). */
const char *tt__devices_unsaved(struct tt_devices *d);

/* The direct flow's state in a client (direct.c). */
struct tt_direct {
    struct tt_devices *pool;
    int own_pool;           /* the client made it (no shared pool in its options) */
    struct tt_device dev;   /* dev.id 0: none held */
    enum tt_sign_flow flow; /* of the current or last connection */
    char why[384];
    uint64_t fell_back_ms; /* auto: when it last fell back (monotonic), 0: never */
    uint64_t open_ms;      /* when the current WebSocket opened */
    int minted_now;        /* the device was minted during this connect */
    unsigned fresh_blocks; /* DEVICE_BLOCKED on fresh devices in a row (auto gives up at 2) */
    char refusal[128];     /* Handshake-Msg of the last refused upgrade */
};

#endif
