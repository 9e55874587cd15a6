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

/* Running statistics of one KPI column for summary.json. */
typedef struct kpi_stats {
    double last, min, max, sum;
    uint64_t n;
} kpi_stats;

typedef struct run_outputs {
    FILE *kpis;
    FILE *events;
    double *values;
    kpi_stats *stats;
    uint32_t kpi_count;
} run_outputs;

static void write_kpi_row(run_outputs *o, tw_app_session *s, double t)
{
    tw_kpi_sampler_sample(s->kpis, o->values);
    tw_app_write_number(o->kpis, t, 0);
    for (uint32_t i = 0; i < o->kpi_count; i++) {
        double v = o->values[i];
        fputc(',', o->kpis);
        tw_app_write_number(o->kpis, v, 0);
        if (isfinite(v)) {
            kpi_stats *k = &o->stats[i];
            if (k->n == 0 || v < k->min) k->min = v;
            if (k->n == 0 || v > k->max) k->max = v;
            k->sum += v;
            k->n++;
        }
        o->stats[i].last = v;
    }
    fputc('\n', o->kpis);
}

static void write_events(run_outputs *o, tw_app_session *s, double start_time, uint32_t *total)
{
    uint32_t n;
    const tw_sim_event *ev = tw_sim_events(s->sim, &n);
    static const char *const state_names[] = { "normal", "pending", "active" };
    for (uint32_t i = 0; i < n; i++) {
        char when[40], target[TW_ECS_PATH_MAX], rule[TW_ECS_PATH_MAX];
        tw_time_format_iso8601(start_time + ev[i].time, when, sizeof when);
        if (tw_ecs_entity_path(s->world, ev[i].target, target, sizeof target) < 0) target[0] = '\0';
        if (tw_ecs_entity_path(s->world, ev[i].alarm, rule, sizeof rule) < 0) rule[0] = '\0';
        int st = ev[i].state >= 0 && ev[i].state <= 2 ? ev[i].state : 0;
        fprintf(o->events, "%s,", when);
        tw_app_write_number(o->events, ev[i].time, 0);
        fprintf(o->events, ",%s,%s,", target, rule);
        tw_app_write_number(o->events, ev[i].value, 0);
        fprintf(o->events, ",%s\n", state_names[st]);
    }
    *total += n;
    tw_sim_events_clear(s->sim);
}

static void draw_progress(double done, double total, double rtf)
{
    int width = 40;
    double frac = total > 0 ? done / total : 1.0;
    if (frac > 1) frac = 1;
    int fill = (int)(frac * width);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %3d%%  sim %7.0f s  x%.0f   ", bar, (int)(frac * 100), done, rtf);
    fflush(stderr);
}

static void write_summary(FILE *f, const tw_app_session *s, const tw_app_run_desc *d, const tw_app_run_result *r,
                          const run_outputs *o, const app_telemetry *tel)
{
    char hash[17], start[40];
    tw_app_format_hash(r->state_hash, hash);
    tw_time_format_iso8601(s->scene.settings.start_time, start, sizeof start);
    fprintf(f, "{\n  \"scene\": ");
    tw_app_write_json_string(f, s->scene.name);
    fprintf(f, ",\n  \"scene_file\": ");
    tw_app_write_json_string(f, d->scene_path);
    fprintf(f, ",\n  \"seed\": %llu,\n  \"dt_s\": ", (unsigned long long)s->scene.settings.seed);
    tw_app_write_number(f, s->scene.settings.dt, 1);
    fprintf(f, ",\n  \"start_time\": \"%s\",\n  \"sim_time_s\": ", start);
    tw_app_write_number(f, r->sim_time, 1);
    fprintf(f, ",\n  \"ticks\": %llu,\n  \"wall_time_s\": %.3f,\n  \"real_time_factor\": %.1f,\n",
            (unsigned long long)r->ticks, r->wall_time, r->real_time_factor);
    fprintf(f, "  \"state_hash\": \"%s\",\n  \"interrupted\": %s,\n", hash, r->interrupted ? "true" : "false");

    uint32_t by_kind[TW_KIND_COUNT] = { 0 };
    uint32_t cap = tw_ecs_entity_capacity(s->world);
    for (uint32_t i = 0; i < cap; i++) {
        tw_entity e = tw_ecs_entity_at(s->world, i);
        if (tw_entity_is_null(e)) continue;
        tw_kind k = tw_ecs_entity_kind(s->world, e);
        if ((unsigned)k < TW_KIND_COUNT) by_kind[k]++;
    }
    fprintf(f, "  \"entities\": {\n    \"total\": %u", tw_ecs_entity_count(s->world));
    for (int k = 0; k < TW_KIND_COUNT; k++)
        if (by_kind[k]) fprintf(f, ",\n    \"%s\": %u", tw_kind_name((tw_kind)k), by_kind[k]);
    fprintf(f, "\n  },\n  \"alarm_events\": %u,\n", r->alarm_events);
    app_tel_write_summary(tel, f);
    fputs("  \"kpis\": {", f);
    for (uint32_t i = 0; i < o->kpi_count; i++) {
        const tw_scene_kpi *def = tw_kpi_sampler_def(s->kpis, i);
        const kpi_stats *k = &o->stats[i];
        fprintf(f, "%s\n    ", i ? "," : "");
        tw_app_write_json_string(f, def->name);
        fprintf(f, ": {\"unit\": ");
        tw_app_write_json_string(f, def->unit);
        fprintf(f, ", \"final\": ");
        tw_app_write_number(f, k->last, 1);
        fprintf(f, ", \"min\": ");
        tw_app_write_number(f, k->n ? k->min : NAN, 1);
        fprintf(f, ", \"max\": ");
        tw_app_write_number(f, k->n ? k->max : NAN, 1);
        fprintf(f, ", \"mean\": ");
        tw_app_write_number(f, k->n ? k->sum / (double)k->n : NAN, 1);
        fprintf(f, "}");
    }
    fprintf(f, "%s}\n}\n", o->kpi_count ? "\n  " : "");
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

    run_outputs o = { 0 };
    tw_replay_recorder *rec = NULL;
    const tw_allocator *alloc = tw_ecs_world_allocator(s.world);
    o.kpi_count = tw_kpi_sampler_count(s.kpis);
    o.values = tw_calloc(alloc, o.kpi_count + 1u, sizeof *o.values);
    o.stats = tw_calloc(alloc, o.kpi_count + 1u, sizeof *o.stats);
    if (!o.values || !o.stats) {
        st = TW_ERR_NOMEM;
        tw_diag_set(diag, "out of memory");
        goto done;
    }
    if ((st = tw_app_make_dirs(d->out_dir, diag))) goto done;
    o.kpis = tw_app_open_output(d->out_dir, "kpis.csv", diag);
    o.events = o.kpis ? tw_app_open_output(d->out_dir, "events.csv", diag) : NULL;
    if (!o.kpis || !o.events) {
        st = TW_ERR_IO;
        goto done;
    }
    fputs("time_s", o.kpis);
    for (uint32_t i = 0; i < o.kpi_count; i++) fprintf(o.kpis, ",%s", tw_kpi_sampler_def(s.kpis, i)->name);
    fputc('\n', o.kpis);
    fputs("time,time_s,entity,rule,value,state\n", o.events);

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

    tw_status rec_st = TW_OK;
    uint32_t keyframe_every = tw_sim_rebuild_every(s.sim);
    if (d->record_path) {
        tw_replay_header h;
        tw_replay_header_init(&h, s.sim, s.scene_hash, s.scene.name);
        tw_replay_recorder_desc rd = { .path = d->record_path, .header = &h, .log = d->log, .sync = d->record_sync };
        if ((st = tw_replay_recorder_open(&rd, &rec, diag))) goto done;
    }

    double wall0 = tw_clock_monotonic_s(), next_draw = wall0;
    write_kpi_row(&o, &s, 0.0);
    /* The tick hook (frames): the state at every tick boundary, from the first. */
    if (d->on_tick && (st = d->on_tick(d->on_tick_user, &s, diag))) ticks = 0;
    uint64_t tick = 0;
    for (; tick < ticks; tick++) {
        if (d->cancel && *d->cancel) {
            r->interrupted = 1;
            break;
        }
        /* A keyframe holds the state before this tick's inputs and step
         * (the binder's too; the first also holds its rules). */
        if (rec && tick % keyframe_every == 0 && !rec_st) {
            tw_replay_section sec[2];
            uint32_t nsec = 0;
            rec_st = app_tel_sections(&tel, tick == 0, sec, &nsec);
            if (!rec_st) rec_st = tw_replay_recorder_keyframe(rec, s.sim, sec, nsec);
        }
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
            if (rec && !rec_st) rec_st = app_tel_record_applied(&tel, rec, tick);
        }
        if ((st = tw_sim_step(s.sim))) {
            tw_diag_set(diag, "simulation step %llu failed: %s", (unsigned long long)tick, tw_status_str(st));
            break;
        }
        if (rec && !rec_st) {
            uint32_t nev;
            const tw_sim_event *ev = tw_sim_events(s.sim, &nev);
            for (uint32_t i = 0; i < nev && !rec_st; i++) rec_st = tw_replay_recorder_event(rec, tick, &ev[i]);
            if (!rec_st) rec_st = tw_replay_recorder_tick(rec, tick + 1);
        }
        write_events(&o, &s, set->start_time, &r->alarm_events);
        if ((tick + 1) % kpi_every == 0) write_kpi_row(&o, &s, tw_sim_time(s.sim));
        if (d->on_tick && (st = d->on_tick(d->on_tick_user, &s, diag))) break;
        if (d->progress && (tick & 1023) == 0) {
            double now = tw_clock_monotonic_s();
            if (now >= next_draw) {
                if (follow_data) {
                    double end = tw_bind_data_end(tel.b);
                    duration = isnan(end) || end < tw_sim_time(s.sim) ? tw_sim_time(s.sim) : end;
                }
                draw_progress(tw_sim_time(s.sim), duration, tw_sim_time(s.sim) / (now - wall0 + 1e-9));
                next_draw = now + 0.2;
            }
        }
        if (follow_data && tw_bind_finished(tel.b)) {
            tick++; /* this tick is done */
            break;
        }
    }
    if (tick % kpi_every != 0) write_kpi_row(&o, &s, tw_sim_time(s.sim)); /* the last, partial interval */
    if (follow_data) duration = tw_sim_time(s.sim);

    if (rec) {
        uint64_t end = tw_sim_tick(s.sim);
        if (!st && !rec_st && end % keyframe_every == 0) {
            tw_replay_section sec[2];
            uint32_t nsec = 0;
            rec_st = app_tel_sections(&tel, end == 0, sec, &nsec);
            if (!rec_st) rec_st = tw_replay_recorder_keyframe(rec, s.sim, sec, nsec);
        }
        tw_replay_recorder_stats rs;
        tw_replay_recorder_get_stats(rec, &rs);
        r->log_flush_max_s = rs.flush_max_s;
        tw_diag rdiag;
        tw_diag_clear(&rdiag);
        tw_status cst = tw_replay_recorder_close(rec, end, &rdiag);
        rec = NULL;
        if (!rec_st) rec_st = cst;
        if (rec_st && !st) {
            *diag = rdiag;
            if (!diag->message[0]) tw_diag_set(diag, "recording %s failed: %s", d->record_path, tw_status_str(rec_st));
            st = rec_st;
        }
        struct stat sb;
        r->log_bytes = stat(d->record_path, &sb) == 0 ? (uint64_t)sb.st_size : rs.bytes;
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
        draw_progress(r->sim_time, duration, r->real_time_factor);
        fputc('\n', stderr);
    }
    if (ferror(o.kpis) || ferror(o.events)) {
        tw_diag_set(diag, "writing to %s failed (disk full?)", d->out_dir);
        st = TW_ERR_IO;
    }
    FILE *sf = tw_app_open_output(d->out_dir, "summary.json", st ? NULL : diag);
    if (sf) {
        write_summary(sf, &s, d, r, &o, &tel);
        if (fclose(sf) && !st) {
            tw_diag_set(diag, "writing %s/summary.json failed", d->out_dir);
            st = TW_ERR_IO;
        }
    } else if (!st) {
        st = TW_ERR_IO;
    }

done:
    if (rec) tw_replay_recorder_close(rec, tw_sim_tick(s.sim), NULL);
    if (o.kpis && fclose(o.kpis) && !st) st = TW_ERR_IO;
    if (o.events && fclose(o.events) && !st) st = TW_ERR_IO;
    tw_free(alloc, o.values, (o.kpi_count + 1u) * sizeof *o.values);
    tw_free(alloc, o.stats, (o.kpi_count + 1u) * sizeof *o.stats);
    app_tel_fini(&tel);
    tw_app_session_close(&s);
    return st;
}

/* ---- twin replay ---------------------------------------------------------------------- */

static void pace(double sim_elapsed, double speed, double wall0)
{
    double ahead = sim_elapsed / speed - (tw_clock_monotonic_s() - wall0);
    if (ahead <= 0.001) return;
    struct timespec ts = { (time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9) };
    nanosleep(&ts, NULL);
}

tw_status tw_app_replay(const tw_app_replay_desc *d, tw_app_run_result *r, tw_diag *diag)
{
    memset(r, 0, sizeof *r);
    tw_replay_log *log = NULL;
    tw_status st = tw_replay_log_open(d->log_path, NULL, &log, diag);
    if (st) return st;
    const tw_replay_header *h = tw_replay_log_header(log);
    const tw_replay_log_info *info = tw_replay_log_get_info(log);
    if (info->integrity == TW_REPLAY_TORN_TAIL || info->integrity == TW_REPLAY_CORRUPT)
        TW_LOG(d->log, TW_LOG_WARN, "replay", "%s: %s; replaying the %llu bytes before it (twin log repair cuts it)",
               d->log_path, info->problem, (unsigned long long)info->valid_size);

    /* The scene, with the recorded run's seed, for its identity, KPIs and names. */
    tw_app_session s;
    tw_app_open_desc od = { .scene_path = d->scene_path, .has_seed = 1, .seed = h->seed, .log = d->log };
    if ((st = tw_app_session_open(&od, &s, diag))) {
        tw_replay_log_close(log);
        return st;
    }
    tw_replay_player *player = NULL;
    tw_kpi_sampler *kpis = NULL;
    run_outputs o = { 0 };
    const tw_allocator *alloc = tw_ecs_world_allocator(s.world);
    app_telemetry tel;
    app_tel_init(&tel, alloc, d->log);
    if ((st = tw_replay_log_check(log, s.scene_hash, s.world, diag))) {
        snprintf(diag->file, sizeof diag->file, "%s", d->log_path);
        goto done;
    }
    /* A run driven by telemetry started at its data, not at the scene's start. */
    s.scene.settings.start_time = h->start_time;
    /* Telemetry recorded in the log goes back through a binder made from the
     * bindings the log keeps. */
    if ((st = app_tel_from_log(&tel, log, diag))) {
        snprintf(diag->file, sizeof diag->file, "%s", d->log_path);
        goto done;
    }
    double dt = h->dt;
    uint64_t from = (uint64_t)llround(d->from / dt);
    uint64_t to = d->to >= 0 ? (uint64_t)llround(d->to / dt) : info->end_tick;
    if (to < from) {
        tw_diag_set(diag, "--to (%g s) lies before --from (%g s)", (double)to * dt, (double)from * dt);
        st = TW_ERR_INVALID;
        goto done;
    }
    tw_replay_player_desc pd = { .log = d->log, .verify = d->verify, .max_catchup_steps = s.scene.settings.max_catchup_steps };
    app_tel_player_hooks(&tel, &pd);
    if ((st = tw_replay_player_new(log, &pd, &player, diag))) goto done;
    double wall0 = tw_clock_monotonic_s();
    if ((st = tw_replay_player_seek(player, from, diag))) goto done;

    tw_app_session view = s; /* the scene's settings and names, the player's world */
    view.world = tw_replay_player_world(player);
    view.sim = tw_replay_player_sim(player);
    if ((st = tw_kpi_sampler_new(view.world, s.scene.kpis, s.scene.kpi_count, &kpis, diag))) goto done;
    view.kpis = kpis;
    o.kpi_count = tw_kpi_sampler_count(kpis);
    o.values = tw_calloc(alloc, o.kpi_count + 1u, sizeof *o.values);
    o.stats = tw_calloc(alloc, o.kpi_count + 1u, sizeof *o.stats);
    if (!o.values || !o.stats) {
        st = TW_ERR_NOMEM;
        tw_diag_set(diag, "out of memory");
        goto done;
    }
    if ((st = tw_app_make_dirs(d->out_dir, diag))) goto done;
    o.kpis = tw_app_open_output(d->out_dir, "kpis.csv", diag);
    o.events = o.kpis ? tw_app_open_output(d->out_dir, "events.csv", diag) : NULL;
    if (!o.kpis || !o.events) {
        st = TW_ERR_IO;
        goto done;
    }
    fputs("time_s", o.kpis);
    for (uint32_t i = 0; i < o.kpi_count; i++) fprintf(o.kpis, ",%s", tw_kpi_sampler_def(kpis, i)->name);
    fputc('\n', o.kpis);
    fputs("time,time_s,entity,rule,value,state\n", o.events);

    const tw_scene_settings *set = &s.scene.settings;
    uint64_t kpi_every = (uint64_t)llround(set->kpi_interval / dt);
    if (kpi_every == 0) kpi_every = 1;
    tw_sim_events_clear(view.sim); /* events of the ticks played to reach from */
    double play0 = tw_clock_monotonic_s(), next_draw = play0;
    write_kpi_row(&o, &view, tw_sim_time(view.sim));
    uint64_t tick = from;
    for (; tick < to; tick++) {
        if (d->cancel && *d->cancel) {
            r->interrupted = 1;
            break;
        }
        if ((st = tw_replay_player_step(player, diag))) break;
        write_events(&o, &view, set->start_time, &r->alarm_events);
        if ((tick + 1) % kpi_every == 0) write_kpi_row(&o, &view, tw_sim_time(view.sim));
        if (d->speed > 0) pace((double)(tick + 1 - from) * dt, d->speed, play0);
        if (d->progress && (tick & 1023) == 0) {
            double now = tw_clock_monotonic_s();
            if (now >= next_draw) {
                draw_progress((double)(tick - from) * dt, (double)(to - from) * dt,
                              (double)(tick - from) * dt / (now - play0 + 1e-9));
                next_draw = now + 0.2;
            }
        }
    }
    if (tick % kpi_every != 0 && tick != from) write_kpi_row(&o, &view, tw_sim_time(view.sim));

    r->wall_time = tw_clock_monotonic_s() - wall0;
    r->ticks = tw_sim_tick(view.sim);
    r->sim_time = tw_sim_time(view.sim);
    r->real_time_factor = r->wall_time > 0 ? (double)(tick - from) * dt / r->wall_time : 0;
    r->state_hash = tw_sim_state_hash(view.sim);
    r->entities = tw_ecs_entity_count(view.world);
    if (tel.b) {
        r->has_telemetry = 1;
        r->telemetry = *tw_bind_get_counters(tel.b);
    }
    if (d->progress) {
        draw_progress((double)(tick - from) * dt, (double)(to - from) * dt, r->real_time_factor);
        fputc('\n', stderr);
    }
    if (ferror(o.kpis) || ferror(o.events)) {
        tw_diag_set(diag, "writing to %s failed (disk full?)", d->out_dir);
        if (!st) st = TW_ERR_IO;
    }
    {
        FILE *sf = tw_app_open_output(d->out_dir, "summary.json", st ? NULL : diag);
        tw_app_run_desc rd = { .scene_path = d->scene_path };
        if (sf) {
            write_summary(sf, &view, &rd, r, &o, &tel);
            if (fclose(sf) && !st) {
                tw_diag_set(diag, "writing %s/summary.json failed", d->out_dir);
                st = TW_ERR_IO;
            }
        } else if (!st) {
            st = TW_ERR_IO;
        }
    }

done:
    if (o.kpis && fclose(o.kpis) && !st) st = TW_ERR_IO;
    if (o.events && fclose(o.events) && !st) st = TW_ERR_IO;
    tw_free(alloc, o.values, (o.kpi_count + 1u) * sizeof *o.values);
    tw_free(alloc, o.stats, (o.kpi_count + 1u) * sizeof *o.stats);
    tw_kpi_sampler_free(kpis);
    tw_replay_player_free(player);
    app_tel_fini(&tel);
    tw_app_session_close(&s);
    tw_replay_log_close(log);
    return st;
}

/* ---- twin whatif ------------------------------------------------------------------------ */

/* One of the two worlds of a what-if: its log reader, player, KPIs and files. */
typedef struct wi_side {
    tw_replay_log *log;
    tw_replay_player *player;
    app_telemetry tel;            /* recorded telemetry through this world's binder */
    tw_kpi_sampler *kpis;
    run_outputs o;
    tw_app_session view;
    char dir[1024];
    tw_app_run_result *r;
    double *series;               /* rows of (time, kpi values...) for the charts */
    size_t rows, cap;
    int series_failed;
} wi_side;

/* A KPI row into the side's kpis.csv, and kept for the charts. */
static void wi_row(wi_side *w, const tw_allocator *alloc)
{
    double t = tw_sim_time(w->view.sim);
    write_kpi_row(&w->o, &w->view, t);
    size_t width = w->o.kpi_count + 1u;
    size_t cap = w->cap;
    if (w->series_failed || tw_grow(alloc, (void **)&w->series, &cap, (w->rows + 1) * width, sizeof(double))) {
        w->series_failed = 1;
        return;
    }
    w->cap = cap;
    double *row = w->series + w->rows * width;
    row[0] = t;
    memcpy(row + 1, w->o.values, w->o.kpi_count * sizeof(double));
    w->rows++;
}

/* One chart per KPI into out_dir/charts/<kpi>.png. Returns how many were written. */
static uint32_t wi_charts(const wi_side *a, const wi_side *b, const char *out_dir, double fork_t, tw_status *st,
                          tw_diag *diag)
{
    if (!tw_app_charts_available() || a->series_failed || b->series_failed || a->rows != b->rows || !a->rows) return 0;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/charts", out_dir);
    if ((*st = tw_app_make_dirs(dir, diag))) return 0;
    size_t width = a->o.kpi_count + 1u;
    uint32_t n = 0;
    for (uint32_t k = 0; k < a->o.kpi_count; k++) {
        const tw_scene_kpi *def = tw_kpi_sampler_def(a->kpis, k);
        char file[TW_ECS_NAME_MAX], path[1200];
        snprintf(file, sizeof file, "%s", def->name);
        for (char *c = file; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
                *c = '_';
        snprintf(path, sizeof path, "%s/%s.png", dir, file);
        if ((*st = tw_app_chart_png(path, def->name, def->unit, a->series, a->series + 1 + k, b->series + 1 + k, a->rows,
                                    width, fork_t, diag)))
            return n;
        n++;
    }
    return n;
}

static tw_status wi_side_open(wi_side *w, const tw_app_whatif_desc *d, const char *name, int verify,
                              const tw_app_session *s, uint64_t from, tw_diag *diag)
{
    app_tel_init(&w->tel, tw_ecs_world_allocator(s->world), d->log);
    tw_status st = tw_replay_log_open(d->log_path, NULL, &w->log, diag);
    if (st) return st;
    if ((st = app_tel_from_log(&w->tel, w->log, diag))) return st;
    tw_replay_player_desc pd = { .log = d->log, .verify = verify, .max_catchup_steps = s->scene.settings.max_catchup_steps };
    app_tel_player_hooks(&w->tel, &pd);
    if ((st = tw_replay_player_new(w->log, &pd, &w->player, diag))) return st;
    if ((st = tw_replay_player_seek(w->player, from, diag))) return st;
    w->view = *s;
    w->view.world = tw_replay_player_world(w->player);
    w->view.sim = tw_replay_player_sim(w->player);
    if ((st = tw_kpi_sampler_new(w->view.world, s->scene.kpis, s->scene.kpi_count, &w->kpis, diag))) return st;
    w->view.kpis = w->kpis;
    const tw_allocator *alloc = tw_ecs_world_allocator(s->world);
    w->o.kpi_count = tw_kpi_sampler_count(w->kpis);
    w->o.values = tw_calloc(alloc, w->o.kpi_count + 1u, sizeof *w->o.values);
    w->o.stats = tw_calloc(alloc, w->o.kpi_count + 1u, sizeof *w->o.stats);
    if (!w->o.values || !w->o.stats) {
        tw_diag_set(diag, "out of memory");
        return TW_ERR_NOMEM;
    }
    if (snprintf(w->dir, sizeof w->dir, "%s/%s", d->out_dir, name) >= (int)sizeof w->dir) {
        tw_diag_set(diag, "the output folder's path is too long");
        return TW_ERR_INVALID;
    }
    if ((st = tw_app_make_dirs(w->dir, diag))) return st;
    w->o.kpis = tw_app_open_output(w->dir, "kpis.csv", diag);
    w->o.events = w->o.kpis ? tw_app_open_output(w->dir, "events.csv", diag) : NULL;
    if (!w->o.kpis || !w->o.events) return TW_ERR_IO;
    fputs("time_s", w->o.kpis);
    for (uint32_t i = 0; i < w->o.kpi_count; i++) fprintf(w->o.kpis, ",%s", tw_kpi_sampler_def(w->kpis, i)->name);
    fputc('\n', w->o.kpis);
    fputs("time,time_s,entity,rule,value,state\n", w->o.events);
    tw_sim_events_clear(w->view.sim);
    return TW_OK;
}

static tw_status wi_side_close(wi_side *w, const tw_app_whatif_desc *d, const tw_allocator *alloc, int write,
                               tw_diag *diag)
{
    tw_status st = TW_OK;
    if (write && w->view.sim) {
        tw_app_run_result *r = w->r;
        r->ticks = tw_sim_tick(w->view.sim);
        r->sim_time = tw_sim_time(w->view.sim);
        r->state_hash = tw_sim_state_hash(w->view.sim);
        r->entities = tw_ecs_entity_count(w->view.world);
        if (w->tel.b) {
            r->has_telemetry = 1;
            r->telemetry = *tw_bind_get_counters(w->tel.b);
        }
        FILE *sf = tw_app_open_output(w->dir, "summary.json", diag);
        tw_app_run_desc rd = { .scene_path = d->scene_path };
        if (sf) {
            write_summary(sf, &w->view, &rd, r, &w->o, &w->tel);
            if (fclose(sf)) st = TW_ERR_IO;
        } else {
            st = TW_ERR_IO;
        }
    }
    if (w->o.kpis && (ferror(w->o.kpis) | fclose(w->o.kpis)) && !st) st = TW_ERR_IO;
    if (w->o.events && (ferror(w->o.events) | fclose(w->o.events)) && !st) st = TW_ERR_IO;
    if (st && write) tw_diag_set(diag, "writing into %s failed (disk full?)", w->dir);
    tw_free(alloc, w->o.values, (w->o.kpi_count + 1u) * sizeof *w->o.values);
    tw_free(alloc, w->o.stats, (w->o.kpi_count + 1u) * sizeof *w->o.stats);
    tw_free(alloc, w->series, w->cap * sizeof *w->series);
    tw_kpi_sampler_free(w->kpis);
    app_tel_fini(&w->tel); /* before the player: the binder borrows its world */
    tw_replay_player_free(w->player);
    tw_replay_log_close(w->log);
    return st;
}

/* A copy of src beside it (same parent, kind, components), named name. */
static tw_status clone_entity(tw_ecs_world *w, tw_entity src, const char *name)
{
    tw_component comps[TW_ECS_MAX_COMPONENTS];
    uint32_t n = tw_ecs_entity_components(w, src, comps, TW_ECS_MAX_COMPONENTS);
    if (n > TW_ECS_MAX_COMPONENTS) n = TW_ECS_MAX_COMPONENTS;
    tw_entity e = tw_ecs_entity_create_with(w, comps, n);
    if (tw_entity_is_null(e)) return TW_ERR_NOMEM;
    /* Both have every component now: copying moves no rows. */
    for (uint32_t i = 0; i < n; i++) memcpy(tw_ecs_get(w, e, comps[i]), tw_ecs_get(w, src, comps[i]),
                                            tw_ecs_component_get_info(w, comps[i])->size);
    tw_ecs_entity_set_kind(w, e, tw_ecs_entity_kind(w, src));
    tw_status st = tw_ecs_entity_set_parent(w, e, tw_ecs_entity_parent(w, src));
    if (!st) st = tw_ecs_entity_set_name(w, e, name);
    if (st) tw_ecs_entity_destroy(w, e);
    return st;
}

static tw_status apply_change(tw_ecs_world *w, const tw_scenario_change *ch, tw_diag *diag)
{
    switch (ch->op) {
    case TW_SCENARIO_SET:
    case TW_SCENARIO_DESTROY: {
        tw_replay_command c;
        memset(&c, 0, sizeof c);
        c.op = ch->op == TW_SCENARIO_SET ? TW_REPLAY_CMD_SET : TW_REPLAY_CMD_DESTROY;
        snprintf(c.entity, sizeof c.entity, "%s", ch->entity);
        snprintf(c.field, sizeof c.field, "%s", ch->field);
        c.value = ch->value;
        return tw_replay_command_apply(w, &c, diag);
    }
    case TW_SCENARIO_CLONE: {
        tw_entity src = tw_ecs_lookup_path(w, ch->entity);
        if (tw_entity_is_null(src)) {
            tw_diag_set(diag, "clone of \"%s\": no such entity", ch->entity);
            return TW_ERR_NOT_FOUND;
        }
        char base[TW_ECS_NAME_MAX];
        snprintf(base, sizeof base, "%s", tw_ecs_entity_name(w, src));
        for (uint32_t i = 1; i <= ch->count; i++) {
            char name[TW_ECS_NAME_MAX + 24];
            snprintf(name, sizeof name, "%.40s-copy-%u", base, i);
            tw_status st = clone_entity(w, src, name);
            if (st) {
                tw_diag_set(diag, "clone of \"%s\" as \"%s\" failed: %s (a sibling has that name?)", ch->entity, name,
                            tw_status_str(st));
                return st;
            }
        }
        return TW_OK;
    }
    case TW_SCENARIO_OVERRIDE:
    case TW_SCENARIO_SILENCE:
        return TW_OK; /* they act on samples: apply_side_change */
    }
    return TW_ERR_INVALID;
}

/* A change to one world of the what-if: override and silence filter the
 * recorded samples its binder gets from this tick on; the rest change the world. */
static tw_status apply_side_change(wi_side *side, const tw_scenario_change *ch, tw_diag *diag)
{
    if (ch->op == TW_SCENARIO_OVERRIDE || ch->op == TW_SCENARIO_SILENCE) return app_tel_filter_add(&side->tel, ch, diag);
    return apply_change(side->view.world, ch, diag);
}

static void write_compare(FILE *csv, FILE *json, const tw_app_session *s, const tw_scenario *sc,
                          const tw_app_whatif_desc *d, const wi_side *a, const wi_side *b, double from_s, double to_s)
{
    char ha[17], hb[17];
    tw_app_format_hash(a->r->state_hash, ha);
    tw_app_format_hash(b->r->state_hash, hb);
    fputs("kpi,baseline,scenario,delta,delta_pct\n", csv);
    fprintf(json, "{\n  \"scene\": ");
    tw_app_write_json_string(json, s->scene.name);
    fprintf(json, ",\n  \"scenario\": ");
    tw_app_write_json_string(json, sc->name);
    fprintf(json, ",\n  \"scenario_file\": ");
    tw_app_write_json_string(json, d->scenario_path);
    fprintf(json, ",\n  \"log\": ");
    tw_app_write_json_string(json, d->log_path);
    fprintf(json, ",\n  \"from_s\": ");
    tw_app_write_number(json, from_s, 1);
    fprintf(json, ",\n  \"to_s\": ");
    tw_app_write_number(json, to_s, 1);
    fprintf(json, ",\n  \"baseline\": {\"state_hash\": \"%s\", \"alarm_events\": %u},\n", ha, a->r->alarm_events);
    fprintf(json, "  \"scenario_run\": {\"state_hash\": \"%s\", \"alarm_events\": %u},\n  \"kpis\": {", hb,
            b->r->alarm_events);
    for (uint32_t i = 0; i < a->o.kpi_count; i++) {
        const tw_scene_kpi *def = tw_kpi_sampler_def(a->kpis, i);
        const kpi_stats *x = &a->o.stats[i], *y = &b->o.stats[i];
        double delta = y->last - x->last;
        double pct = x->last != 0 && isfinite(x->last) ? delta / fabs(x->last) * 100.0 : NAN;
        fprintf(csv, "%s,", def->name);
        tw_app_write_number(csv, x->last, 0);
        fputc(',', csv);
        tw_app_write_number(csv, y->last, 0);
        fputc(',', csv);
        tw_app_write_number(csv, delta, 0);
        fputc(',', csv);
        tw_app_write_number(csv, pct, 0);
        fputc('\n', csv);
        fprintf(json, "%s\n    ", i ? "," : "");
        tw_app_write_json_string(json, def->name);
        fprintf(json, ": {\"unit\": ");
        tw_app_write_json_string(json, def->unit);
        const kpi_stats *both[2] = { x, y };
        for (int k = 0; k < 2; k++) {
            const kpi_stats *z = both[k];
            fprintf(json, ", \"%s\": {\"final\": ", k ? "scenario" : "baseline");
            tw_app_write_number(json, z->last, 1);
            fprintf(json, ", \"mean\": ");
            tw_app_write_number(json, z->n ? z->sum / (double)z->n : NAN, 1);
            fprintf(json, ", \"min\": ");
            tw_app_write_number(json, z->n ? z->min : NAN, 1);
            fprintf(json, ", \"max\": ");
            tw_app_write_number(json, z->n ? z->max : NAN, 1);
            fputc('}', json);
        }
        fprintf(json, ", \"delta\": ");
        tw_app_write_number(json, delta, 1);
        fprintf(json, ", \"delta_pct\": ");
        tw_app_write_number(json, pct, 1);
        fputc('}', json);
    }
    fprintf(json, "%s},\n  \"changes\": [", a->o.kpi_count ? "\n  " : "");
    for (uint32_t i = 0; i < sc->change_count; i++) {
        const tw_scenario_change *ch = &sc->changes[i];
        fprintf(json, "%s\n    {\"op\": \"%s\", \"target\": ", i ? "," : "", tw_scenario_op_name(ch->op));
        tw_app_write_json_string(json, ch->sensor[0] ? ch->sensor : ch->entity);
        if (ch->field[0]) {
            fprintf(json, ", \"field\": ");
            tw_app_write_json_string(json, ch->field);
        }
        if (ch->op == TW_SCENARIO_SET || ch->op == TW_SCENARIO_OVERRIDE) {
            fprintf(json, ", \"value\": ");
            tw_app_write_number(json, ch->value, 1);
        }
        if (ch->both) fprintf(json, ", \"both\": true");
        fprintf(json, ", \"at_s\": ");
        tw_app_write_number(json, ch->at >= 0 && ch->at > from_s ? ch->at : from_s, 1);
        fputc('}', json);
    }
    fprintf(json, "%s]\n}\n", sc->change_count ? "\n  " : "");
}

tw_status tw_app_whatif(const tw_app_whatif_desc *d, tw_app_whatif_result *res, tw_diag *diag)
{
    memset(res, 0, sizeof *res);
    tw_scenario sc;
    tw_status st = tw_scenario_load_file(d->scenario_path, NULL, &sc, diag);
    if (st) return st;
    tw_replay_log *log = NULL;
    if ((st = tw_replay_log_open(d->log_path, NULL, &log, diag))) {
        tw_scenario_fini(&sc);
        return st;
    }
    const tw_replay_header h = *tw_replay_log_header(log);
    uint64_t end_tick = tw_replay_log_get_info(log)->end_tick;
    tw_app_session s;
    tw_app_open_desc od = { .scene_path = d->scene_path, .has_seed = 1, .seed = h.seed, .log = d->log };
    st = tw_app_session_open(&od, &s, diag);
    if (!st && (st = tw_replay_log_check(log, s.scene_hash, s.world, diag)))
        snprintf(diag->file, sizeof diag->file, "%s", d->log_path);
    tw_replay_log_close(log);
    if (st) {
        if (s.world) tw_app_session_close(&s);
        tw_scenario_fini(&sc);
        return st;
    }
    s.scene.settings.start_time = h.start_time; /* a run driven by telemetry started at its data */
    const tw_allocator *alloc = tw_ecs_world_allocator(s.world);
    wi_side a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.r = &res->baseline;
    b.r = &res->scenario;
    double dt = h.dt;
    uint64_t from = (uint64_t)llround(d->from / dt);
    uint64_t to = d->to >= 0 ? (uint64_t)llround(d->to / dt) : end_tick;
    int written = 0;
    /* A change marked "both" makes the baseline differ from the recording
     * too, so the baseline's keyframes are no longer checked against it. */
    int shared = 0;
    for (uint32_t i = 0; i < sc.change_count; i++) shared |= sc.changes[i].both;
    if (to < from) {
        tw_diag_set(diag, "--to (%g s) lies before --from (%g s)", (double)to * dt, (double)from * dt);
        st = TW_ERR_INVALID;
        goto done;
    }
    if ((st = tw_app_make_dirs(d->out_dir, diag)) || (st = wi_side_open(&a, d, "baseline", !shared, &s, from, diag)) ||
        (st = wi_side_open(&b, d, "scenario", 0, &s, from, diag)))
        goto done;

    /* Changes due at or before the fork apply now, in file order; later
     * ones when the scenario reaches their tick. */
    uint64_t *due = tw_calloc(alloc, sc.change_count, sizeof *due);
    if (!due) {
        st = TW_ERR_NOMEM;
        goto done;
    }
    for (uint32_t i = 0; i < sc.change_count; i++) {
        uint64_t t = sc.changes[i].at >= 0 ? (uint64_t)llround(sc.changes[i].at / dt) : from;
        due[i] = t < from ? from : t;
    }
    const tw_scene_settings *set = &s.scene.settings;
    uint64_t kpi_every = (uint64_t)llround(set->kpi_interval / dt);
    if (kpi_every == 0) kpi_every = 1;
    double wall0 = tw_clock_monotonic_s(), next_draw = wall0;
    uint64_t tick = from;
    for (;; tick++) {
        for (uint32_t i = 0; i < sc.change_count; i++) {
            if (due[i] != tick) continue;
            tw_diag cd;
            tw_diag_clear(&cd);
            tw_status ca = sc.changes[i].both ? apply_side_change(&a, &sc.changes[i], &cd) : TW_OK;
            if (ca || apply_side_change(&b, &sc.changes[i], &cd)) {
                res->changes_failed++;
                TW_LOG(d->log, TW_LOG_WARN, "whatif", "change %u (%s) was not applied: %s", i + 1,
                       tw_scenario_op_name(sc.changes[i].op), cd.message);
            } else {
                res->changes_applied++;
            }
        }
        if (tick == from) {
            wi_row(&a, alloc);
            wi_row(&b, alloc);
        }
        if (tick >= to) break;
        if (d->cancel && *d->cancel) {
            res->baseline.interrupted = res->scenario.interrupted = 1;
            break;
        }
        if ((st = tw_replay_player_step(a.player, diag))) break;
        if ((st = tw_replay_player_step(b.player, diag))) break;
        write_events(&a.o, &a.view, set->start_time, &a.r->alarm_events);
        write_events(&b.o, &b.view, set->start_time, &b.r->alarm_events);
        if ((tick + 1) % kpi_every == 0) {
            wi_row(&a, alloc);
            wi_row(&b, alloc);
        }
        if (d->progress && (tick & 1023) == 0) {
            double now = tw_clock_monotonic_s();
            if (now >= next_draw) {
                draw_progress((double)(tick - from) * dt, (double)(to - from) * dt,
                              (double)(tick - from) * dt / (now - wall0 + 1e-9));
                next_draw = now + 0.2;
            }
        }
    }
    tw_free(alloc, due, sc.change_count * sizeof *due);
    if (tick % kpi_every != 0 && tick != from) {
        wi_row(&a, alloc);
        wi_row(&b, alloc);
    }
    double wall = tw_clock_monotonic_s() - wall0;
    a.r->wall_time = b.r->wall_time = wall;
    a.r->real_time_factor = b.r->real_time_factor = wall > 0 ? (double)(tick - from) * dt / wall : 0;
    if (d->progress) {
        draw_progress((double)(tick - from) * dt, (double)(to - from) * dt, a.r->real_time_factor);
        fputc('\n', stderr);
    }
    written = !st;
    if (written) {
        a.r->state_hash = tw_sim_state_hash(a.view.sim);
        b.r->state_hash = tw_sim_state_hash(b.view.sim);
        FILE *csv = tw_app_open_output(d->out_dir, "compare.csv", diag);
        FILE *json = csv ? tw_app_open_output(d->out_dir, "compare.json", diag) : NULL;
        if (csv && json) write_compare(csv, json, &s, &sc, d, &a, &b, (double)from * dt, (double)tick * dt);
        int bad = !csv || !json;
        if (csv && (ferror(csv) | fclose(csv))) bad = 1;
        if (json && (ferror(json) | fclose(json))) bad = 1;
        if (bad) {
            if (csv && json) tw_diag_set(diag, "writing %s/compare.csv or compare.json failed", d->out_dir);
            st = TW_ERR_IO;
        }
        if (!st) {
            res->charts = wi_charts(&a, &b, d->out_dir, (double)from * dt, &st, diag);
            if (!res->charts && !st && !tw_app_charts_available())
                TW_LOG(d->log, TW_LOG_WARN, "whatif", "this build has no cairo: no charts (install libcairo2-dev)");
        }
    }
done:;
    tw_status sa = wi_side_close(&a, d, alloc, written, diag);
    tw_status sb = wi_side_close(&b, d, alloc, written, diag);
    if (!st) st = sa ? sa : sb;
    tw_app_session_close(&s);
    tw_scenario_fini(&sc);
    return st;
}
