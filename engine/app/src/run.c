/* Sessions (scene → world → sim → KPIs) and the headless runner. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <time.h>

#include "app_internal.h"
#include "twin/clock.h"
#include "twin/replay.h"
#include "twin/scenario.h"

/* Ticks between keyframes (and physics rebuilds): the scene's keyframe_interval, at least one tick. */
static uint32_t tw_app_keyframe_ticks(const tw_scene_settings *set)
{
    double k = set->keyframe_interval > 0 ? set->keyframe_interval : 60.0;
    long long n = llround(k / set->dt);
    return n < 1 ? 1u : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* World, scene and the scene's identity: what a binder needs before the sim exists. */
static tw_status session_load(const tw_app_open_desc *desc, tw_app_session *out, tw_diag *diag)
{
    memset(out, 0, sizeof *out);
    tw_ecs_world_desc wd = { .log = desc->log };
    out->world = tw_ecs_world_new(&wd);
    if (!out->world) {
        tw_diag_set(diag, "out of memory creating the world");
        return TW_ERR_NOMEM;
    }
    tw_sim_components ids;
    tw_status st = tw_sim_register_components(out->world, &ids);
    if (!st) st = tw_scene_load_file(out->world, desc->scene_path, NULL, &out->scene, diag);
    /* The scene's identity for replay logs: its canonical text as loaded. */
    if (!st) st = tw_replay_scene_hash(out->world, &out->scene, &out->scene_hash, diag);
    if (st) {
        tw_ecs_world_free(out->world);
        memset(out, 0, sizeof *out);
        return st;
    }
    return TW_OK;
}

/* The sim (starting at the scene's start time, which telemetry may have
 * moved to its anchor) and the KPI sampler. Closes the session on failure. */
static tw_status session_start(const tw_app_open_desc *desc, tw_app_session *out, tw_diag *diag)
{
    tw_status st;
    tw_sim_desc sd = {
        .dt = out->scene.settings.dt,
        .seed = desc->has_seed ? desc->seed : out->scene.settings.seed,
        .start_time = out->scene.settings.start_time,
        .max_catchup_steps = out->scene.settings.max_catchup_steps,
        .log = desc->log,
        /* Physics is rebuilt at every keyframe tick, recorded or not, so a
         * replay seeking to a keyframe steps exactly like this run. */
        .rebuild_every_ticks = tw_app_keyframe_ticks(&out->scene.settings),
    };
    if (desc->has_seed) out->scene.settings.seed = desc->seed;
    st = tw_sim_new(out->world, &sd, &out->sim, diag);
    if (!st) st = tw_kpi_sampler_new(out->world, out->scene.kpis, out->scene.kpi_count, &out->kpis, diag);
    if (st) {
        /* Simulation-level problems (a door on a missing wall polyline, an
         * alarm on an unknown field) are problems of the scene file. */
        if (diag && !diag->file[0]) snprintf(diag->file, sizeof diag->file, "%s", desc->scene_path);
        tw_app_session_close(out);
        return st;
    }
    return TW_OK;
}

tw_status tw_app_session_open(const tw_app_open_desc *desc, tw_app_session *out, tw_diag *diag)
{
    tw_status st = session_load(desc, out, diag);
    return st ? st : session_start(desc, out, diag);
}

void tw_app_session_close(tw_app_session *s)
{
    tw_kpi_sampler_free(s->kpis);
    tw_sim_free(s->sim);
    if (s->world) tw_scene_fini(&s->scene);
    tw_ecs_world_free(s->world);
    memset(s, 0, sizeof *s);
}

/* Opens a session driven by telemetry (docs/telemetry.md "twin run"), for
 * `twin run` and `twin view`: the world, then the binder (which reads the
 * first samples to fix the anchor), then the sim starting there, so tick 0
 * is the data's first moment. Live (mqtt_url): tick 0 is now. Without
 * telemetry files and mqtt_url, a plain session and tel without a binder.
 * On failure nothing is left open. */
tw_status app_session_open_telemetry(const tw_app_open_desc *od, const char *mqtt_url, const char *const *bindings,
                                     uint32_t bindings_count, const char *const *files, uint32_t file_count,
                                     int keep_applied, tw_app_session *s, app_telemetry *tel, tw_diag *diag)
{
    tw_status st = session_load(od, s, diag);
    if (st) return st;
    app_tel_init(tel, tw_ecs_world_allocator(s->world), od->log);
    if (mqtt_url) {
        /* Live: tick 0 is now, and measured times (or arrival times, for
         * bare-number payloads) map onto ticks from there. */
        tel->live_anchor = tw_clock_unix_s();
        st = app_tel_load_rules(tel, s->world, &s->scene, od->scene_path, bindings, bindings_count, NULL, 0,
                                keep_applied, 1, diag);
        if (!st) st = tw_bind_open_mqtt(tel->b, mqtt_url, NULL, diag);
        if (st) {
            app_tel_fini(tel);
            tw_app_session_close(s);
            return st;
        }
        s->scene.settings.start_time = tel->live_anchor;
    } else if (file_count > 0) {
        double anchor = NAN;
        st = app_tel_load_rules(tel, s->world, &s->scene, od->scene_path, bindings, bindings_count, files, file_count,
                                keep_applied, 1, diag);
        if (!st) st = app_tel_open_sources(tel, files, file_count, &anchor, diag);
        if (st) {
            app_tel_fini(tel);
            tw_app_session_close(s);
            return st;
        }
        if (isnan(anchor))
            TW_LOG(od->log, TW_LOG_WARN, "telemetry", "the telemetry holds no sample: the run starts at the scene's start");
        else
            s->scene.settings.start_time = anchor;
    }
    if ((st = session_start(od, s, diag))) {
        app_tel_fini(tel);
        return st;
    }
    return TW_OK;
}

tw_status tw_app_run(const tw_app_run_desc *d, tw_app_run_result *r, tw_diag *diag)
{
    memset(r, 0, sizeof *r);
    tw_app_session s;
    tw_app_open_desc od = { .scene_path = d->scene_path, .has_seed = d->has_seed, .seed = d->seed, .log = d->log };
    app_telemetry tel;
    int live = d->mqtt_url != NULL;
    tw_status st = app_session_open_telemetry(&od, d->mqtt_url, d->bindings, d->bindings_count, d->telemetry,
                                              d->telemetry_count, d->record_path != NULL, &s, &tel, diag);
    if (st) return st;

    app_outputs o = { 0 };
    app_recording rec = { 0 };
    if ((st = app_outputs_open(&o, d->out_dir, s.kpis, tw_ecs_world_allocator(s.world), diag))) goto done;

    const tw_scene_settings *set = &s.scene.settings;
    double dt = tw_sim_dt(s.sim);
    double duration = d->duration >= 0 ? d->duration : set->duration;
    uint64_t ticks = (uint64_t)llround(duration / dt);
    /* Without --duration, telemetry decides: the run ends when the data does. */
    int follow_data = tel.b && !live && d->duration < 0;
    if (follow_data || (live && d->duration < 0)) ticks = UINT64_MAX;
    int source_failed = 0;
    uint64_t kpi_every = (uint64_t)llround(set->kpi_interval / dt);
    if (kpi_every == 0) kpi_every = 1;
    if (d->record_path && (st = app_recording_open(&rec, d->record_path, d->record_sync, &s, d->log, diag))) goto done;

    double wall0 = tw_clock_monotonic_s(), next_draw = wall0;
    app_outputs_kpi_row(&o, &s, 0.0);
    /* The tick hook (frames): the state at every tick boundary, from the first. */
    if (d->on_tick && (st = d->on_tick(d->on_tick_user, &s, diag))) ticks = 0;
    uint64_t tick = 0;
    for (; tick < ticks; tick++) {
        if (d->cancel && *d->cancel) {
            r->interrupted = 1;
            break;
        }
        app_recording_before_tick(&rec, &tel, s.sim, tick);
        /* Live: the simulation follows the wall clock, one tick per dt. The
         * runner waits; the sim itself never reads a clock. */
        if (live) {
            double ahead = wall0 + (double)tick * dt - tw_clock_monotonic_s();
            if (ahead > 0) {
                struct timespec ts = { (time_t)ahead, (long)((ahead - floor(ahead)) * 1e9) };
                nanosleep(&ts, NULL);
            }
        }
        /* Phase 1 of the tick: the samples measured up to now. */
        if (tel.b) {
            tw_status bst = tw_bind_apply_until(tel.b, s.world, tw_sim_time(s.sim));
            if (bst && !source_failed) {
                source_failed = 1;
                TW_LOG(d->log, TW_LOG_WARN, "telemetry", "a telemetry source stopped (%s); the run goes on without it",
                       tw_status_str(bst));
            }
            app_recording_applied(&rec, &tel, tick);
        }
        if ((st = tw_sim_step(s.sim))) {
            tw_diag_set(diag, "simulation step %llu failed: %s", (unsigned long long)tick, tw_status_str(st));
            break;
        }
        app_recording_after_tick(&rec, s.sim, tick);
        app_outputs_events(&o, &s, set->start_time, &r->alarm_events);
        if ((tick + 1) % kpi_every == 0) app_outputs_kpi_row(&o, &s, tw_sim_time(s.sim));
        if (d->on_tick && (st = d->on_tick(d->on_tick_user, &s, diag))) break;
        double now;
        if (d->progress && app_progress_due(tick, &next_draw, &now)) {
            if (follow_data) {
                double end = tw_bind_data_end(tel.b);
                duration = isnan(end) || end < tw_sim_time(s.sim) ? tw_sim_time(s.sim) : end;
            }
            app_progress_draw(tw_sim_time(s.sim), duration, tw_sim_time(s.sim) / (now - wall0 + 1e-9));
        }
        if (follow_data && tw_bind_finished(tel.b)) {
            tick++; /* this tick is done */
            break;
        }
    }
    if (tick % kpi_every != 0) app_outputs_kpi_row(&o, &s, tw_sim_time(s.sim)); /* the last, partial interval */
    if (follow_data) duration = tw_sim_time(s.sim);

    if (rec.rec) {
        tw_diag rdiag;
        tw_diag_clear(&rdiag);
        tw_status rst = app_recording_close(&rec, &tel, s.sim, &r->log_bytes, &r->log_flush_max_s, &rdiag);
        if (rst && !st) {
            *diag = rdiag;
            st = rst;
        }
    }
    r->wall_time = tw_clock_monotonic_s() - wall0;
    r->ticks = tw_sim_tick(s.sim);
    r->sim_time = tw_sim_time(s.sim);
    r->real_time_factor = r->wall_time > 0 ? r->sim_time / r->wall_time : 0;
    r->state_hash = tw_sim_state_hash(s.sim);
    r->entities = tw_ecs_entity_count(s.world);
    if (tel.b) {
        r->has_telemetry = 1;
        r->telemetry = *tw_bind_get_counters(tel.b);
    }
    if (d->progress) {
        app_progress_draw(r->sim_time, duration, r->real_time_factor);
        fputc('\n', stderr);
    }
    /* The summary is written even after a failure: what the run did is kept. */
    tw_diag sdiag;
    tw_diag_clear(&sdiag);
    tw_status sst = app_outputs_summary(&o, &s, d->scene_path, r, &tel, st ? &sdiag : diag);
    if (!st) st = sst;

done:
    if (rec.rec) app_recording_close(&rec, &tel, s.sim, NULL, NULL, NULL);
    {
        tw_status cst = app_outputs_close(&o, st ? NULL : diag);
        if (!st) st = cst;
    }
    app_tel_fini(&tel);
    tw_app_session_close(&s);
    return st;
}
