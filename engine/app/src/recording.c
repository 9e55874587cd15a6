/* Recording a run into a .twlog (docs/replay.md): what `twin run --record`
 * and `twin view --record` write, tick by tick. The log is the recorder's
 * (engine/replay); this is the order the app feeds it in, which replay
 * depends on: the keyframe holds the state before a tick's inputs and step
 * (the binder's too; the first also holds its rules), then the samples the
 * binder applied at that tick, then the tick's alarm events. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include <sys/stat.h>

#include "app_internal.h"

tw_status app_recording_open(app_recording *r, const char *path, int sync, const tw_app_session *s,
                             const tw_log *log, tw_diag *diag)
{
    memset(r, 0, sizeof *r);
    if (snprintf(r->path, sizeof r->path, "%s", path) >= (int)sizeof r->path) {
        tw_diag_set(diag, "the log's path is too long: %s", path);
        return TW_ERR_INVALID;
    }
    r->keyframe_every = tw_sim_rebuild_every(s->sim);
    tw_replay_header h;
    tw_replay_header_init(&h, s->sim, s->scene_hash, s->scene.name);
    tw_replay_recorder_desc rd = { .path = path, .header = &h, .log = log, .sync = sync };
    return tw_replay_recorder_open(&rd, &r->rec, diag);
}

static void keyframe(app_recording *r, app_telemetry *tel, const tw_sim *sim, uint64_t tick)
{
    tw_replay_section sec[2];
    uint32_t nsec = 0;
    r->failed = app_tel_sections(tel, tick == 0, sec, &nsec);
    if (!r->failed) r->failed = tw_replay_recorder_keyframe(r->rec, sim, sec, nsec);
}

void app_recording_before_tick(app_recording *r, app_telemetry *tel, const tw_sim *sim, uint64_t tick)
{
    if (r->rec && !r->failed && tick % r->keyframe_every == 0) keyframe(r, tel, sim, tick);
}

void app_recording_applied(app_recording *r, app_telemetry *tel, uint64_t tick)
{
    if (r->rec && !r->failed && tel->b) r->failed = app_tel_record_applied(tel, r->rec, tick);
}

void app_recording_after_tick(app_recording *r, const tw_sim *sim, uint64_t tick)
{
    if (!r->rec || r->failed) return;
    uint32_t nev;
    const tw_sim_event *ev = tw_sim_events(sim, &nev);
    for (uint32_t i = 0; i < nev && !r->failed; i++) r->failed = tw_replay_recorder_event(r->rec, tick, &ev[i]);
    if (!r->failed) r->failed = tw_replay_recorder_tick(r->rec, tick + 1);
}

void app_recording_command(app_recording *r, uint64_t tick, const tw_replay_command *cmd)
{
    if (r->rec && !r->failed) r->failed = tw_replay_recorder_command(r->rec, tick, cmd);
}

tw_status app_recording_close(app_recording *r, app_telemetry *tel, const tw_sim *sim, uint64_t *log_bytes,
                              double *flush_max_s, tw_diag *diag)
{
    if (!r->rec) return TW_OK;
    uint64_t end = tw_sim_tick(sim);
    /* A run that ends on a keyframe tick keeps that keyframe, so a replay
     * to the end can check the final state too. */
    if (!r->failed && end % r->keyframe_every == 0) keyframe(r, tel, sim, end);
    tw_replay_recorder_stats rs;
    tw_replay_recorder_get_stats(r->rec, &rs);
    if (flush_max_s) *flush_max_s = rs.flush_max_s;
    tw_diag rdiag;
    tw_diag_clear(&rdiag);
    tw_status cst = tw_replay_recorder_close(r->rec, end, &rdiag);
    r->rec = NULL;
    tw_status st = r->failed ? r->failed : cst;
    if (st && diag) {
        *diag = rdiag;
        if (!diag->message[0]) tw_diag_set(diag, "recording %s failed: %s", r->path, tw_status_str(st));
    }
    struct stat sb;
    if (log_bytes) *log_bytes = stat(r->path, &sb) == 0 ? (uint64_t)sb.st_size : rs.bytes;
    return st;
}
