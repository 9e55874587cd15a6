/* twin/ecs_snapshot.h: a whole world as one byte buffer, and back.
 *
 * A snapshot holds every entity slot (alive or free, with its generation),
 * the free-slot order, the hierarchy (parents, sibling order, roots), names,
 * kinds, external ids and the archetype tables with their rows in order and
 * every component's bytes. Restoring it into a fresh world that registered
 * the same components gives the same world: the same handles, the same
 * query order, and entities created afterwards get the same slots and
 * generations as in the world the snapshot was taken from. That is what a
 * replay keyframe needs to continue a run bit for bit.
 *
 * Components are plain data, copied as raw bytes: a snapshot is only valid
 * for a world whose components have the same layout, which
 * tw_ecs_layout_fingerprint identifies (names, sizes, fields with their
 * types and offsets, in id order). The buffer format is little-endian and
 * versioned (docs/log-format.md, "ECS section"). Restoring validates every
 * index, link and length, so a damaged buffer is an error, never a crash. */
#ifndef TWIN_ECS_SNAPSHOT_H
#define TWIN_ECS_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "twin/ecs.h"

#define TW_ECS_SNAPSHOT_VERSION 1u

/* A 64-bit identity of the registered components' layout. Two worlds with
 * equal fingerprints can exchange snapshots. */
uint64_t tw_ecs_layout_fingerprint(const tw_ecs_world *w);

/* Exact size in bytes of w's snapshot now. The world must not be deferred. */
size_t tw_ecs_snapshot_size(const tw_ecs_world *w);
/* Writes w's snapshot into out (capacity bytes, at least tw_ecs_snapshot_size).
 * *written gets the bytes used. TW_ERR_LIMIT when out is too small. */
tw_status tw_ecs_snapshot_write(const tw_ecs_world *w, void *out, size_t capacity, size_t *written);
/* Restores a snapshot into w, which must be fresh: components registered,
 * nothing created yet (TW_ERR_STATE otherwise). TW_ERR_INVALID with a reason
 * in diag for a damaged buffer or another component layout; TW_ERR_NOMEM when
 * the allocator fails. On any error w is left fresh. */
tw_status tw_ecs_snapshot_restore(tw_ecs_world *w, const void *data, size_t size, tw_diag *diag);

#endif
