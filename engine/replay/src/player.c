/* The player: restores keyframes into fresh worlds and plays recorded inputs.
 *
 * A seek that can play on from where the player is (the target lies ahead
 * and no keyframe lies between) just steps; any other seek makes a new
 * world, restores the latest keyframe at or before the target into it (ECS
 * snapshot, then a new sim continued from the keyframe's sim state, then
 * extra sections), and steps from there. A restore always goes into a fresh
 * world because the snapshot reproduces the archetype tables in their order,
 * which is what makes query order, and so every float sum, the same as in
 * the recorded run. The cost of a seek is one keyframe plus at most one
 * keyframe interval of ticks and inputs, whatever the log's length. */
#include <stdio.h>
#include <string.h>

#include "replay_internal.h"
#include "twin/ecs_snapshot.h"

struct tw_replay_player {
    tw_allocator alloc;
    tw_log log;
    tw_replay_log *rlog;
    tw_replay_player_desc desc;
    tw_ecs_world *world;
    tw_sim *sim;
    uint32_t generation;
    int64_t kf_index;             /* keyframe the world came from */
    /* The next record not yet applied (read ahead, its tick lies ahead). */
    int pending;
    tw_replay_record rec;
    int at_end;
    void *scratch;                /* expanded ECS snapshots */
    size_t scratch_cap;
    tw_replay_player_stats stats;
};

static void drop_world(tw_replay_player *p)
{
    tw_sim_free(p->sim);
    tw_ecs_world_free(p->world);
    p->sim = NULL;
    p->world = NULL;
}

tw_status tw_replay_player_new(tw_replay_log *log, const tw_replay_player_desc *desc, tw_replay_player **out,
                               tw_diag *diag)
{
    TW_CHECK(log != NULL && out != NULL, "tw_replay_player_new needs an open log and somewhere to put the player.");
    (void)diag;
    *out = NULL;
    tw_allocator alloc = tw_allocator_or_default(desc ? desc->allocator : NULL);
    tw_replay_player *p = tw_calloc(&alloc, 1, sizeof *p);
    if (!p) return TW_ERR_NOMEM;
    p->alloc = alloc;
    if (desc) p->desc = *desc;
    if (desc && desc->log) p->log = *desc->log;
    p->desc.log = &p->log;
    p->desc.allocator = &p->alloc;
    p->rlog = log;
    p->kf_index = -1;
    *out = p;
    return TW_OK;
}

void tw_replay_player_free(tw_replay_player *p)
{
    if (!p) return;
    drop_world(p);
    tw_free(&p->alloc, p->scratch, p->scratch_cap);
    tw_allocator a = p->alloc;
    tw_free(&a, p, sizeof *p);
}

tw_ecs_world *tw_replay_player_world(const tw_replay_player *p) { return p->world; }
tw_sim *tw_replay_player_sim(const tw_replay_player *p) { return p->sim; }
uint64_t tw_replay_player_tick(const tw_replay_player *p) { return p->sim ? tw_sim_tick(p->sim) : 0; }
uint32_t tw_replay_player_generation(const tw_replay_player *p) { return p->generation; }
void tw_replay_player_get_stats(const tw_replay_player *p, tw_replay_player_stats *out) { *out = p->stats; }

/* ---- restoring a keyframe ----------------------------------------------------------- */

static tw_status restore(tw_replay_player *p, int64_t k, tw_diag *diag)
{
    uint64_t tick, offset;
    tw_replay_log_keyframe_at(p->rlog, (uint32_t)k, &tick, &offset);
    tw_replay_log_rewind(p->rlog, offset);
    tw_replay_record rec;
    tw_status st = tw_replay_log_next(p->rlog, &rec, diag);
    if (st == TW_ERR_NOT_FOUND || (!st && rec.type != TW_REPLAY_REC_KEYFRAME)) {
        tw_diag_set(diag, "the log's index points at offset %llu for the keyframe of tick %llu, but no keyframe is there",
                    (unsigned long long)offset, (unsigned long long)tick);
        return TW_ERR_INVALID;
    }
    if (st) return st;
    tw_replay_keyframe kf;
    if (tw_replay_keyframe_decode(&rec, &kf) || kf.tick != tick) {
        tw_diag_set(diag, "the keyframe of tick %llu is malformed", (unsigned long long)tick);
        return TW_ERR_INVALID;
    }
    const tw_replay_header *h = tw_replay_log_header(p->rlog);
    if (kf.sim.dt != h->dt || kf.sim.seed != h->seed || kf.sim.start_time != h->start_time) {
        tw_diag_set(diag, "the keyframe of tick %llu disagrees with the log's header (dt, seed or start time)",
                    (unsigned long long)tick);
        return TW_ERR_INVALID;
    }

    drop_world(p);
    p->pending = 0;
    p->at_end = 0;
    p->generation++;
    tw_ecs_world_desc wd = { .allocator = &p->alloc, .log = &p->log };
    p->world = tw_ecs_world_new(&wd);
    if (!p->world) return TW_ERR_NOMEM;
    if (p->desc.setup) {
        st = p->desc.setup(p->desc.user, p->world);
    } else {
        tw_sim_components ids;
        st = tw_sim_register_components(p->world, &ids);
    }
    if (st) {
        tw_diag_set(diag, "setting up a world to restore into failed: %s", tw_status_str(st));
        goto fail;
    }
    if (tw_ecs_layout_fingerprint(p->world) != h->layout_fingerprint) {
        tw_diag_set(diag, "the log was written by a build whose components have another layout (written by \"%s\"): "
                          "replay it with that build", h->writer);
        st = TW_ERR_INVALID;
        goto fail;
    }
    /* The keyframe's bytes live in the log's read buffer, which the calls
     * below do not touch. */
    const void *ecs;
    size_t ecs_size;
    if ((st = tw_replay_keyframe_ecs(&kf, &p->alloc, &p->scratch, &p->scratch_cap, &ecs, &ecs_size))) {
        tw_diag_set(diag, "the keyframe of tick %llu: %s", (unsigned long long)tick,
                    st == TW_ERR_NOMEM ? "out of memory expanding its snapshot" : "its snapshot section is malformed");
        goto fail;
    }
    if ((st = tw_ecs_snapshot_restore(p->world, ecs, ecs_size, diag))) goto fail;
    tw_sim_desc sd = { .dt = h->dt,
                       .seed = h->seed,
                       .start_time = h->start_time,
                       .max_catchup_steps = p->desc.max_catchup_steps,
                       .log = &p->log,
                       .rebuild_every_ticks = h->keyframe_every };
    if ((st = tw_sim_new(p->world, &sd, &p->sim, diag))) goto fail;
    if ((st = tw_sim_state_set(p->sim, &kf.sim))) {
        tw_diag_set(diag, "the keyframe of tick %llu could not be continued from", (unsigned long long)tick);
        goto fail;
    }
    for (uint32_t i = 0; i < kf.section_count; i++) {
        const tw_replay_section *sec = &kf.sections[i];
        if (sec->tag == TW_REPLAY_SECTION_ECS || sec->tag == TW_REPLAY_SECTION_ECS_RLE ||
            sec->tag == TW_REPLAY_SECTION_SIM || !p->desc.on_section)
            continue;
        if ((st = p->desc.on_section(p->desc.user, p->world, p->sim, sec))) {
            tw_diag_set(diag, "restoring a keyframe section failed: %s", tw_status_str(st));
            goto fail;
        }
    }
    if (p->desc.verify && tw_sim_state_hash(p->sim) != kf.state_hash) {
        tw_diag_set(diag, "the world restored from the keyframe of tick %llu hashes differently from the one recorded",
                    (unsigned long long)tick);
        st = TW_ERR_STATE;
        goto fail;
    }
    p->kf_index = k;
    p->stats.keyframes_restored++;
    /* Inputs of this tick follow the keyframe record: the cursor is there. */
    return TW_OK;
fail:
    drop_world(p);
    p->kf_index = -1;
    return st;
}

/* ---- playing ---------------------------------------------------------------------------- */

/* Applies the records for the current tick; leaves the first later one pending. */
static tw_status apply_inputs(tw_replay_player *p, tw_diag *diag)
{
    uint64_t now = tw_sim_tick(p->sim);
    for (;;) {
        if (!p->pending) {
            if (p->at_end) return TW_OK;
            tw_status st = tw_replay_log_next(p->rlog, &p->rec, diag);
            if (st == TW_ERR_NOT_FOUND) {
                p->at_end = 1;
                return TW_OK;
            }
            if (st) return st;
            p->pending = 1;
        }
        tw_replay_record *r = &p->rec;
        if (r->has_tick && r->tick > now) return TW_OK;
        p->pending = 0;
        if (r->has_tick && r->tick < now) continue; /* before the restored moment */
        switch (r->type) {
        case TW_REPLAY_REC_INPUT: {
            tw_replay_input_iter it;
            tw_replay_sample s;
            int k;
            if (tw_replay_input_begin(p->rlog, r, &it)) k = -1;
            else
                while ((k = tw_replay_input_next(&it, &s)) == 1) {
                    if (p->desc.on_input) {
                        p->desc.on_input(p->desc.user, p->world, p->sim, &s);
                        p->stats.samples_applied++;
                    } else {
                        p->stats.samples_skipped++;
                    }
                }
            if (k < 0) {
                tw_diag_set(diag, "a malformed input record at offset %llu", (unsigned long long)r->offset);
                return TW_ERR_INVALID;
            }
            break;
        }
        case TW_REPLAY_REC_COMMAND: {
            tw_replay_command c;
            tw_diag d;
            tw_diag_clear(&d);
            if (tw_replay_command_decode(r, &c) || tw_replay_command_apply(p->world, &c, &d)) {
                /* The recorded run applied it, so this is unusual: note it and go on. */
                p->stats.commands_failed++;
                TW_LOG(&p->log, TW_LOG_WARN, "replay", "tick %llu: a recorded command failed: %s",
                       (unsigned long long)now, d.message);
            } else {
                p->stats.commands_applied++;
            }
            break;
        }
        case TW_REPLAY_REC_KEYFRAME:
            if (p->desc.verify) {
                tw_replay_keyframe kf;
                if (!tw_replay_keyframe_decode(r, &kf)) {
                    uint64_t h = tw_sim_state_hash(p->sim);
                    if (h != kf.state_hash) {
                        tw_diag_set(diag,
                                    "replay diverged from the recording: at tick %llu the state hash is %016llx, the "
                                    "keyframe says %016llx",
                                    (unsigned long long)now, (unsigned long long)h, (unsigned long long)kf.state_hash);
                        return TW_ERR_STATE;
                    }
                    p->stats.keyframes_verified++;
                }
            }
            break;
        default:
            break; /* sensors are in the log's table; events, syncs, index: nothing to apply */
        }
    }
}

tw_status tw_replay_player_step(tw_replay_player *p, tw_diag *diag)
{
    TW_CHECK(p != NULL, "tw_replay_player_step needs a player.");
    TW_CHECK(p->sim != NULL, "tw_replay_player_step was called before any seek: seek to a tick first (0 for the start).");
    tw_status st = apply_inputs(p, diag);
    if (st) return st;
    if (p->desc.on_tick && (st = p->desc.on_tick(p->desc.user, p->world, p->sim))) {
        tw_diag_set(diag, "applying the recorded inputs of tick %llu failed: %s", (unsigned long long)tw_sim_tick(p->sim),
                    tw_status_str(st));
        return st;
    }
    st = tw_sim_step(p->sim);
    if (st) {
        tw_diag_set(diag, "the simulation step at tick %llu failed: %s", (unsigned long long)(tw_sim_tick(p->sim) - 1),
                    tw_status_str(st));
        return st;
    }
    p->stats.ticks_stepped++;
    return TW_OK;
}

tw_status tw_replay_player_seek(tw_replay_player *p, uint64_t tick, tw_diag *diag)
{
    TW_CHECK(p != NULL, "tw_replay_player_seek needs a player.");
    int64_t k = tw_replay_log_keyframe_find(p->rlog, tick);
    if (k < 0) {
        tw_diag_set(diag, "the log has no keyframe at or before tick %llu (%u keyframes)", (unsigned long long)tick,
                    tw_replay_log_keyframe_count(p->rlog));
        return TW_ERR_NOT_FOUND;
    }
    /* Play on when the target is ahead and the same keyframe (or a later one
     * we are past already) would be the starting point. */
    int play_on = p->sim && tw_sim_tick(p->sim) <= tick && p->kf_index >= 0 && p->kf_index <= k;
    if (play_on && k > p->kf_index) {
        uint64_t kt;
        tw_replay_log_keyframe_at(p->rlog, (uint32_t)k, &kt, NULL);
        play_on = tw_sim_tick(p->sim) >= kt;
    }
    if (!play_on) {
        tw_status st = restore(p, k, diag);
        if (st) return st;
    }
    while (tw_sim_tick(p->sim) < tick) {
        tw_status st = tw_replay_player_step(p, diag);
        if (st) return st;
    }
    return TW_OK;
}
