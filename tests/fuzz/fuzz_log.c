/* libFuzzer target for the replay log reader (*.twlog): any bytes, opened
 * from memory with and without trusting the index. Besides memory errors
 * (ASan) and undefined behaviour (UBSan) it checks the reader's promises:
 *   - opening fails only without a whole header; then the valid part ends at
 *     a record boundary no further than the input, and dropped bytes add up;
 *   - walking the records of a scanned log never meets a bad one, and every
 *     record decodes (inputs, commands, events, keyframes);
 *   - a keyframe's ECS section restores into a fresh world, or is refused
 *     with the world left empty. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin/ecs_snapshot.h"
#include "twin/replay.h"
#include "twin/sim_components.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_log: %s\n", what);
    abort();
}

static void walk(tw_replay_log *log, int scanned)
{
    tw_replay_log_rewind(log, tw_replay_log_first(log));
    tw_replay_record rec;
    tw_diag d;
    tw_status st;
    int keyframes = 0;
    while ((st = tw_replay_log_next(log, &rec, &d)) == TW_OK) {
        switch (rec.type) {
        case TW_REPLAY_REC_INPUT: {
            tw_replay_input_iter it;
            tw_replay_sample s;
            int k = -1;
            if (tw_replay_input_begin(log, &rec, &it) == TW_OK)
                while ((k = tw_replay_input_next(&it, &s)) == 1)
                    if (!s.sensor) fail("a sample without its sensor's name");
            if (scanned && k < 0) fail("a scanned log let a malformed input record through");
            break;
        }
        case TW_REPLAY_REC_COMMAND: {
            tw_replay_command c;
            if (tw_replay_command_decode(&rec, &c) && scanned) fail("a scanned log let a malformed command through");
            break;
        }
        case TW_REPLAY_REC_EVENT: {
            tw_sim_event ev;
            if (tw_replay_event_decode(&rec, &ev) && scanned) fail("a scanned log let a malformed event through");
            break;
        }
        case TW_REPLAY_REC_KEYFRAME: {
            tw_replay_keyframe kf;
            if (tw_replay_keyframe_decode(&rec, &kf)) {
                if (scanned) fail("a scanned log let a malformed keyframe through");
                break;
            }
            if (keyframes++ >= 2) break; /* restoring is the slow part: two are plenty */
            void *scratch = NULL;
            size_t cap = 0, size = 0;
            const void *ecs = NULL;
            if (tw_replay_keyframe_ecs(&kf, NULL, &scratch, &cap, &ecs, &size) != TW_OK)
                fail("a keyframe that decoded has an ECS section that does not expand");
            tw_ecs_world *w = tw_ecs_world_new(NULL);
            tw_sim_components ids;
            if (!w || tw_sim_register_components(w, &ids)) fail("cannot set up a world");
            if (tw_ecs_snapshot_restore(w, ecs, size, &d) != TW_OK) {
                if (tw_ecs_entity_count(w) != 0) fail("a refused snapshot left entities behind");
            } else {
                /* a restored world snapshots to the same size and can grow */
                if (tw_ecs_snapshot_size(w) != size) fail("a restored world snapshots to another size");
                tw_ecs_entity_create(w);
            }
            tw_ecs_world_free(w);
            free(scratch);
            break;
        }
        default:
            break;
        }
    }
    if (st != TW_ERR_NOT_FOUND && scanned) fail("a scanned log met a bad record while walking it");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int verify = 0; verify < 2; verify++) {
        tw_replay_log *log;
        tw_diag d;
        tw_replay_log_desc desc = { .verify = verify };
        if (tw_replay_log_open_memory(data, size, &desc, &log, &d) != TW_OK) continue;
        const tw_replay_log_info *in = tw_replay_log_get_info(log);
        if (in->valid_size > size || in->valid_size + in->dropped_bytes != size)
            fail("the valid part and the dropped bytes do not add up to the input");
        for (uint32_t i = 1; i < tw_replay_log_keyframe_count(log); i++) {
            uint64_t a, b;
            tw_replay_log_keyframe_at(log, i - 1, &a, NULL);
            tw_replay_log_keyframe_at(log, i, &b, NULL);
            if (b <= a) fail("keyframe ticks do not increase");
        }
        walk(log, in->scanned);
        tw_replay_log_close(log);
    }
    return 0;
}
