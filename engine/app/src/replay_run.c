/* Playing a recorded run: `twin replay`, and the pieces `twin whatif` and
 * `twin view --replay` share with it (a log opened against its scene, a
 * player fed by the telemetry the log carries). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <string.h>
#include <time.h>

#include "app_internal.h"
#include "twin/clock.h"

tw_status app_replay_session_open(const char *scene_path, const char *log_path, const tw_log *log,
                                  tw_app_session *s, tw_replay_log **out_log, tw_diag *diag)
{
    *out_log = NULL;
    memset(s, 0, sizeof *s);
    tw_replay_log *rlog = NULL;
    tw_status st = tw_replay_log_open(log_path, NULL, &rlog, diag);
    if (st) return st;
    const tw_replay_header *h = tw_replay_log_header(rlog);
    const tw_replay_log_info *info = tw_replay_log_get_info(rlog);
    if (info->integrity == TW_REPLAY_TORN_TAIL || info->integrity == TW_REPLAY_CORRUPT)
        TW_LOG(log, TW_LOG_WARN, "replay", "%s: %s; replaying the %llu bytes before it (twin log repair cuts it)",
               log_path, info->problem, (unsigned long long)info->valid_size);
    /* The scene, with the recorded run's seed, for its identity, KPIs and names. */
    tw_app_open_desc od = { .scene_path = scene_path, .has_seed = 1, .seed = h->seed, .log = log };
    if ((st = tw_app_session_open(&od, s, diag))) {
        tw_replay_log_close(rlog);
        return st;
    }
    if ((st = tw_replay_log_check(rlog, s->scene_hash, s->world, diag))) {
        snprintf(diag->file, sizeof diag->file, "%s", log_path);
        tw_app_session_close(s);
        tw_replay_log_close(rlog);
        return st;
    }
    /* A run driven by telemetry started at its data, not at the scene's start. */
    s->scene.settings.start_time = h->start_time;
    *out_log = rlog;
    return TW_OK;
}

tw_status app_replay_start(app_replay *p, tw_replay_log *log, const char *log_path, const tw_app_session *s,
                           int verify, const tw_log *lg, tw_diag *diag)
{
    memset(p, 0, sizeof *p);
    p->log = log;
    tw_status st = p->log ? TW_OK : tw_replay_log_open(log_path, NULL, &p->log, diag);
    if (st) return st;
    app_tel_init(&p->tel, tw_ecs_world_allocator(s->world), lg);
    p->tel_open = 1;
    /* Telemetry recorded in the log goes back through a binder made from
     * the bindings the log keeps. */
    if ((st = app_tel_from_log(&p->tel, p->log, diag))) {
        snprintf(diag->file, sizeof diag->file, "%s", log_path);
        return st;
    }
    tw_replay_player_desc pd = { .log = lg, .verify = verify, .max_catchup_steps = s->scene.settings.max_catchup_steps };
    app_tel_player_hooks(&p->tel, &pd);
    return tw_replay_player_new(p->log, &pd, &p->player, diag);
}

void app_replay_stop(app_replay *p)
{
    if (p->tel_open) app_tel_fini(&p->tel); /* before the player: the binder borrows its world */
    tw_replay_player_free(p->player);
    tw_replay_log_close(p->log);
    memset(p, 0, sizeof *p);
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
    tw_app_session s;
    tw_replay_log *log = NULL;
    tw_status st = app_replay_session_open(d->scene_path, d->log_path, d->log, &s, &log, diag);
    if (st) return st;
    const tw_replay_header *h = tw_replay_log_header(log);
    double dt = h->dt;
    uint64_t end_tick = tw_replay_log_get_info(log)->end_tick;
    app_replay rp;
    st = app_replay_start(&rp, log, d->log_path, &s, d->verify, d->log, diag);
    tw_kpi_sampler *kpis = NULL;
    app_outputs o = { 0 };
    if (st) goto done;
    uint64_t from = (uint64_t)llround(d->from / dt);
    uint64_t to = d->to >= 0 ? (uint64_t)llround(d->to / dt) : end_tick;
    if (to < from) {
        tw_diag_set(diag, "--to (%g s) lies before --from (%g s)", (double)to * dt, (double)from * dt);
        st = TW_ERR_INVALID;
        goto done;
    }
    double wall0 = tw_clock_monotonic_s();
    if ((st = tw_replay_player_seek(rp.player, from, diag))) goto done;

    tw_app_session view = s; /* the scene's settings and names, the player's world */
    view.world = tw_replay_player_world(rp.player);
    view.sim = tw_replay_player_sim(rp.player);
    if ((st = tw_kpi_sampler_new(view.world, s.scene.kpis, s.scene.kpi_count, &kpis, diag))) goto done;
    view.kpis = kpis;
    if ((st = app_outputs_open(&o, d->out_dir, kpis, tw_ecs_world_allocator(s.world), diag))) goto done;

    const tw_scene_settings *set = &s.scene.settings;
    uint64_t kpi_every = (uint64_t)llround(set->kpi_interval / dt);
    if (kpi_every == 0) kpi_every = 1;
    tw_sim_events_clear(view.sim); /* events of the ticks played to reach from */
    double play0 = tw_clock_monotonic_s(), next_draw = play0;
    app_outputs_kpi_row(&o, &view, tw_sim_time(view.sim));
    uint64_t tick = from;
    for (; tick < to; tick++) {
        if (d->cancel && *d->cancel) {
            r->interrupted = 1;
            break;
        }
        if ((st = tw_replay_player_step(rp.player, diag))) break;
        app_outputs_events(&o, &view, set->start_time, &r->alarm_events);
        if ((tick + 1) % kpi_every == 0) app_outputs_kpi_row(&o, &view, tw_sim_time(view.sim));
        if (d->speed > 0) pace((double)(tick + 1 - from) * dt, d->speed, play0);
        double now;
        if (d->progress && app_progress_due(tick, &next_draw, &now))
            app_progress_draw((double)(tick - from) * dt, (double)(to - from) * dt,
                              (double)(tick - from) * dt / (now - play0 + 1e-9));
    }
    if (tick % kpi_every != 0 && tick != from) app_outputs_kpi_row(&o, &view, tw_sim_time(view.sim));

    r->wall_time = tw_clock_monotonic_s() - wall0;
    r->ticks = tw_sim_tick(view.sim);
    r->sim_time = tw_sim_time(view.sim);
    r->real_time_factor = r->wall_time > 0 ? (double)(tick - from) * dt / r->wall_time : 0;
    r->state_hash = tw_sim_state_hash(view.sim);
    r->entities = tw_ecs_entity_count(view.world);
    if (rp.tel.b) {
        r->has_telemetry = 1;
        r->telemetry = *tw_bind_get_counters(rp.tel.b);
    }
    if (d->progress) {
        app_progress_draw((double)(tick - from) * dt, (double)(to - from) * dt, r->real_time_factor);
        fputc('\n', stderr);
    }
    {
        /* Written even after a failure: what was replayed is kept. */
        tw_diag sdiag;
        tw_diag_clear(&sdiag);
        tw_status sst = app_outputs_summary(&o, &view, d->scene_path, r, &rp.tel, st ? &sdiag : diag);
        if (!st) st = sst;
    }

done:
    {
        tw_status cst = app_outputs_close(&o, st ? NULL : diag);
        if (!st) st = cst;
    }
    tw_kpi_sampler_free(kpis);
    app_replay_stop(&rp);
    tw_app_session_close(&s);
    return st;
}
