/* twin/bind_state.h: a binder's state as bytes, for replay keyframes.
 *
 * What a binder remembers between samples decides how the next ones change
 * the world: the smoothing filters (value and time of the last sample), the
 * last value each binding wrote (the deadband), the last sample taken per
 * sensor (duplicates), quality and staleness, and the frontier of applied
 * time. A replay that seeks restores a keyframe's world and must restore
 * this too, or the first samples after the seek would be filtered
 * differently than in the recorded run.
 *
 * The bytes name sensors by their id text and bindings by (sensor, rule
 * index), never by internal numbers, so they load into any binder made
 * with the same rules in the same order, whatever order its sensors were
 * first seen in. Counters and residual statistics are not part of the state:
 * they report on a run, and a replay counts what it replays.
 *
 * Format (little-endian): u32 magic "TWBS", u32 version 1, u8 anchored,
 * f64 anchor, f64 frontier, u32 sensor count, then per sensor: u16 name
 * length, the name, f64 last sample time, f64 its value, u32 binding count,
 * and per binding: u32 rule, u8 flags (1 has a value, 2 has a smoothing
 * state, 4 stale), u8 quality, f64 last time, last value, smoothed value,
 * smoothing time. */
#ifndef TWIN_BIND_STATE_H
#define TWIN_BIND_STATE_H

#include <stddef.h>

#include "twin/bind.h"

#define TW_BIND_STATE_MAGIC 0x53425754u /* "TWBS" */
#define TW_BIND_STATE_VERSION 1u

/* Writes b's state into *buf (grown with alloc as needed; *cap its size,
 * the caller frees it with tw_free(alloc, *buf, *cap)) and sets *size.
 * TW_ERR_NOMEM when the buffer cannot grow. */
tw_status tw_bind_state_save(const tw_bind *b, const tw_allocator *alloc, void **buf, size_t *cap, size_t *size);

/* Replaces b's state with the saved one. b should have the rules of the
 * binder that saved it (same files, same order) and no source of its own
 * (a replay pushes the recorded samples). TW_ERR_INVALID, with a sentence
 * in diag, for malformed bytes or a binding these rules do not make;
 * TW_ERR_NOMEM. On failure b's state is reset (no sample seen; sensor ids
 * read before the failure stay interned). */
tw_status tw_bind_state_load(tw_bind *b, const void *data, size_t size, tw_diag *diag);

#endif
