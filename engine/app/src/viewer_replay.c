/* `twin view --replay LOG`: the viewer over a recorded run.
 *
 * The world and the sim are the replay player's (app_replay, shared with
 * `twin replay` and `twin whatif`), fed by the telemetry the log carries.
 * Playing steps the player by whole ticks paced by wall time x speed, as the
 * live viewer steps its sim; a seek restores the latest keyframe at or before
 * the target and plays on to it. A seek backwards or far makes the player a
 * new world and sim (its generation changes): everything that held the old
 * ones is rebuilt here (the view, the selection and isolated storey, kept by
 * path, the alarm list), while the camera stays where it is. The binder the
 * inspector reads is the player's own, rebuilt from each keyframe's BIND
 * section, so its values and qualities are those recorded at the tick shown.
 *
 * The timeline's mapping between pixels and ticks and the speed ladder are
 * pure functions (tested in tests/viewer/test_viewer.c). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "twin/clock.h"
#include "viewer_internal.h"

#define REPLAY_LOG "viewer"

/* A frame spends at most this long playing ticks (beyond the scene's
 * max_catchup_steps) before the rest of its backlog is dropped. */
static const double PLAY_BUDGET_S = 0.030;
/* With --frame-dt (reproducible runs) every due tick is played, up to this many a frame. */
enum { REPRO_TICKS_MAX = 100000 };

/* ---- pure parts ---------------------------------------------------------------------- */

uint64_t tw_viewer_timeline_tick_at(const tw_viewer_timeline *t, int x)
{
    TW_CHECK(t != NULL, "tw_viewer_timeline_tick_at needs a timeline.");
    if (t->last <= t->first || t->x1 <= t->x0 || x <= t->x0) return t->first;
    if (x >= t->x1) return t->last;
    double f = (double)(x - t->x0) / (double)(t->x1 - t->x0);
    uint64_t k = t->first + (uint64_t)llround(f * (double)(t->last - t->first));
    return k > t->last ? t->last : k;
}

int tw_viewer_timeline_x_of(const tw_viewer_timeline *t, uint64_t tick)
{
    TW_CHECK(t != NULL, "tw_viewer_timeline_x_of needs a timeline.");
    if (t->last <= t->first || tick <= t->first) return t->x0;
    if (tick >= t->last) return t->x1;
    double f = (double)(tick - t->first) / (double)(t->last - t->first);
    return t->x0 + (int)lround(f * (double)(t->x1 - t->x0));
}

/* 1-2-5 from x0.1 to x1000. */
static const double speeds[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 };
enum { SPEED_COUNT = sizeof speeds / sizeof speeds[0] };

double tw_viewer_speed_step(double speed, int dir)
{
    if (dir > 0) {
        for (int k = 0; k < SPEED_COUNT; k++)
            if (speeds[k] > speed * 1.0001) return speeds[k];
        return speeds[SPEED_COUNT - 1];
    }
    if (dir < 0) {
        for (int k = SPEED_COUNT - 1; k >= 0; k--)
            if (speeds[k] < speed * 0.9999) return speeds[k];
        return speeds[0];
    }
    return speed;
}

/* ---- helpers --------------------------------------------------------------------------- */

static double tick_time(const viewer *v, uint64_t tick)
{
    return (double)tick * tw_replay_log_header(v->rp.log)->dt;
}

/* "10:30:00" of tick, from the log's start time. */
static void tick_clock(const viewer *v, uint64_t tick, char *out, size_t size)
{
    char iso[40];
    tw_time_format_iso8601(v->start_time + tick_time(v, tick), iso, (int)sizeof iso);
    snprintf(out, size, "%.8s", strlen(iso) >= 19 ? iso + 11 : iso);
}

static void path_of(const viewer *v, tw_entity e, char *out, size_t size)
{
    out[0] = '\0';
    if (!v->world || tw_entity_is_null(e) || !tw_ecs_entity_alive(v->world, e)) return;
    if (tw_ecs_entity_path(v->world, e, out, size) < 0) out[0] = '\0';
}

static const char *state_name(int32_t s)
{
    return s == 2 ? "ACTIVE" : s == 1 ? "pending" : "normal";
}

/* The HUD's alarm list after a seek: the last transitions the log has up to
 * the tick shown (an event at tick e is in the state from e + 1 on). */
static void alarms_from_log(viewer *v)
{
    uint64_t c = tw_replay_player_tick(v->rp.player);
    uint32_t n = c == 0 ? 0 : tw_replay_log_event_after(v->rp.log, c - 1);
    uint32_t kept = n < VIEWER_ALARMS ? n : VIEWER_ALARMS;
    for (uint32_t i = n - kept; i < n; i++) {
        uint64_t et;
        tw_sim_event ev;
        tw_replay_log_event_at(v->rp.log, i, &et, &ev);
        viewer_alarm *a = &v->alarms[i % VIEWER_ALARMS];
        a->time = ev.time;
        a->state = ev.state;
        a->value = ev.value;
        path_of(v, ev.target, a->target, sizeof a->target);
    }
    v->alarm_count = n;
}

/* After the player changed: the world and sim it holds now, and, when they
 * are new ones, the view made afresh and the selection found again by path. */
static tw_status rebind(viewer *v, const char *selected, const char *isolated, tw_diag *diag)
{
    v->world = tw_replay_player_world(v->rp.player);
    v->sim = tw_replay_player_sim(v->rp.player);
    v->ids = *tw_sim_component_ids(v->sim);
    uint32_t g = tw_replay_player_generation(v->rp.player);
    if (g == v->rp_generation && (v->view || !v->render)) return TW_OK;
    v->rp_generation = g;
    v->selected = selected[0] ? tw_ecs_lookup_path(v->world, selected) : TW_ENTITY_NULL;
    if (v->isolate) {
        v->style.isolate = isolated[0] ? tw_ecs_lookup_path(v->world, isolated) : TW_ENTITY_NULL;
        if (tw_entity_is_null(v->style.isolate)) v->isolate = 0;
    }
    if (!v->render) return TW_OK; /* the window is not open yet: open_window makes the view */
    tw_view_free(v->view);       /* it held the old world, which the seek freed: touched no more */
    v->view = NULL;
    return viewer_view_new(v, diag);
}

static void reach_end(viewer *v)
{
    v->accumulator = 0.0;
    v->step_requested = 0;
    if (v->at_end) return;
    v->at_end = 1;
    v->paused = 1;
    char clock[16];
    uint64_t tick = tw_replay_player_tick(v->rp.player);
    tick_clock(v, tick, clock, sizeof clock);
    snprintf(v->status, sizeof v->status, "end of log at %s: Home, [ or a click on the timeline goes back", clock);
    v->status_until = tw_clock_monotonic_s() + 4.0;
    fprintf(v->out, "end of log at %s (tick %llu, %.1f s)\n", clock, (unsigned long long)tick,
            tw_sim_time(v->sim));
    fflush(v->out);
}

/* ---- open, close ------------------------------------------------------------------------ */

tw_status viewer_replay_open(viewer *v, tw_diag *diag)
{
    const tw_viewer_desc *d = v->desc;
    v->replay = 1;
    v->seek_pending = -1;
    tw_replay_log *rlog = NULL;
    tw_status st = app_replay_session_open(d->scene_path, d->replay_path, &v->log, &v->session, &rlog, diag);
    if (st) return st;
    v->rp_open = 1; /* app_replay_start takes the log over, and app_replay_stop closes it even after a failure */
    if ((st = app_replay_start(&v->rp, rlog, d->replay_path, &v->session, 0, &v->log, diag))) return st;
    const char *slash = strrchr(d->replay_path, '/');
    v->rp_name = slash ? slash + 1 : d->replay_path;
    v->start_time = v->session.scene.settings.start_time;
    v->max_catchup = v->session.scene.settings.max_catchup_steps ? v->session.scene.settings.max_catchup_steps : 10;

    const tw_replay_log_info *info = tw_replay_log_get_info(v->rp.log);
    if (tw_replay_log_keyframe_count(v->rp.log) == 0) {
        tw_diag_set(diag, "the log %s holds no keyframe (it was cut before its first one): nothing to replay",
                    d->replay_path);
        return TW_ERR_INVALID;
    }
    uint64_t off;
    tw_replay_log_keyframe_at(v->rp.log, 0, &v->rp_first, &off);
    v->rp_end = info->end_tick > v->rp_first ? info->end_tick : v->rp_first;
    if (info->integrity == TW_REPLAY_TORN_TAIL || info->integrity == TW_REPLAY_CORRUPT) {
        snprintf(v->status, sizeof v->status, "%s is %s: it plays up to tick %llu", v->rp_name,
                 tw_replay_integrity_name(info->integrity), (unsigned long long)v->rp_end);
        v->status_until = tw_clock_monotonic_s() + 8.0;
    }
    if (v->rp.tel.text_count > 0) {
        /* The recorded telemetry: the inspector's sensor rows and the view's
         * stale marking read the player's binder. */
        v->style.quality = viewer_entity_quality;
        v->style.quality_user = v;
        v->sensor = viewer_field_sensor;
        v->sensor_user = v;
    }
    double dt = tw_replay_log_header(v->rp.log)->dt;
    uint64_t start = v->rp_first;
    if (d->at > 0.0) {
        double k = round(d->at / dt);
        start = k >= (double)v->rp_end ? v->rp_end : k <= (double)v->rp_first ? v->rp_first : (uint64_t)k;
        if (k > (double)v->rp_end)
            TW_LOG(&v->log, TW_LOG_WARN, REPLAY_LOG, "--at %.1f s lies past the log's end (%.1f s): starting there",
                   d->at, tick_time(v, v->rp_end));
    }
    if ((st = tw_replay_player_seek(v->rp.player, start, diag))) return st;
    char none[1] = "";
    if ((st = rebind(v, none, none, diag))) return st;
    tw_sim_events_clear(v->sim);
    alarms_from_log(v);
    if (start >= v->rp_end) reach_end(v);
    TW_LOG(&v->log, TW_LOG_INFO, REPLAY_LOG, "replaying %s: ticks %llu..%llu, from %llu", d->replay_path,
           (unsigned long long)v->rp_first, (unsigned long long)v->rp_end, (unsigned long long)start);
    return TW_OK;
}

void viewer_replay_close(viewer *v)
{
    if (v->rp_open) app_replay_stop(&v->rp);
    v->rp_open = 0;
    v->world = NULL;
    v->sim = NULL;
}

/* ---- seek, play, step, alarms --------------------------------------------------------------- */

tw_status viewer_replay_seek(viewer *v, uint64_t tick, const char *why)
{
    if (tick < v->rp_first) tick = v->rp_first;
    if (tick > v->rp_end) tick = v->rp_end;
    char selected[TW_ECS_PATH_MAX], isolated[TW_ECS_PATH_MAX];
    path_of(v, v->selected, selected, sizeof selected);
    path_of(v, v->isolate ? v->style.isolate : TW_ENTITY_NULL, isolated, sizeof isolated);
    tw_diag d;
    tw_diag_clear(&d);
    double w0 = tw_clock_monotonic_s();
    tw_status st = tw_replay_player_seek(v->rp.player, tick, &d);
    double ms = (tw_clock_monotonic_s() - w0) * 1e3;
    if (st) {
        snprintf(v->status, sizeof v->status, "cannot seek there: %.170s", d.message);
        v->status_until = tw_clock_monotonic_s() + 5.0;
        TW_LOG(&v->log, TW_LOG_WARN, REPLAY_LOG, "seek to tick %llu failed: %s", (unsigned long long)tick, d.message);
        /* A player left without a world cannot go on. */
        if (!tw_replay_player_world(v->rp.player)) return st;
    }
    tw_diag_clear(&d);
    if ((tw_replay_player_world(v->rp.player) && (st = rebind(v, selected, isolated, &d)))) {
        TW_LOG(&v->log, TW_LOG_ERROR, REPLAY_LOG, "after the seek: %s", d.message);
        return st;
    }
    /* The transitions replayed to get here are in the log's list already. */
    tw_sim_events_clear(v->sim);
    alarms_from_log(v);
    v->accumulator = 0.0;
    v->result->seeks++;
    uint64_t now = tw_replay_player_tick(v->rp.player);
    v->at_end = 0;
    char clock[16];
    tick_clock(v, now, clock, sizeof clock);
    fprintf(v->out, "seek to %s (tick %llu, %.1f s)%s%s in %.1f ms\n", clock, (unsigned long long)now,
            tw_sim_time(v->sim), why ? ", " : "", why ? why : "", ms);
    if (!why || strcmp(why, "alarm") != 0) {
        snprintf(v->status, sizeof v->status, "at %s", clock);
        v->status_until = tw_clock_monotonic_s() + 2.0;
    }
    viewer_print_sensors(v);
    if (now >= v->rp_end) reach_end(v);
    fflush(v->out);
    return TW_OK;
}

tw_status viewer_replay_advance(viewer *v, double sim_dt)
{
    if (!(sim_dt > 0.0)) return TW_OK;
    double dt = tw_sim_dt(v->sim);
    int repro = v->desc->frame_dt > 0.0;
    double w0 = tw_clock_monotonic_s();
    v->accumulator += sim_dt;
    uint32_t ran = 0;
    tw_status st = TW_OK;
    while (v->accumulator >= dt) {
        if (tw_replay_player_tick(v->rp.player) >= v->rp_end) {
            reach_end(v);
            return TW_OK;
        }
        /* A real-time frame plays what its budget allows (at least the
         * scene's catch-up count), so x1000 really runs where the machine
         * can; a scripted one plays every due tick, so it is reproducible. */
        if (repro ? ran >= REPRO_TICKS_MAX : ran >= v->max_catchup && tw_clock_monotonic_s() - w0 > PLAY_BUDGET_S)
            break;
        tw_diag d;
        tw_diag_clear(&d);
        if ((st = tw_replay_player_step(v->rp.player, &d))) {
            TW_LOG(&v->log, TW_LOG_ERROR, REPLAY_LOG, "replay step at tick %llu failed: %s",
                   (unsigned long long)tw_replay_player_tick(v->rp.player), d.message);
            return st;
        }
        viewer_take_events(v);
        v->accumulator -= dt;
        ran++;
    }
    viewer_drop_backlog(v, dt);
    if (tw_replay_player_tick(v->rp.player) >= v->rp_end) reach_end(v);
    return TW_OK;
}

tw_status viewer_replay_step(viewer *v)
{
    v->paused = 1;
    if (tw_replay_player_tick(v->rp.player) >= v->rp_end) {
        v->at_end = 0; /* say it again */
        reach_end(v);
        return TW_OK;
    }
    tw_diag d;
    tw_diag_clear(&d);
    tw_status st = tw_replay_player_step(v->rp.player, &d);
    if (st) {
        TW_LOG(&v->log, TW_LOG_ERROR, REPLAY_LOG, "replay step failed: %s", d.message);
        return st;
    }
    viewer_take_events(v);
    v->accumulator = 0.0;
    if (tw_replay_player_tick(v->rp.player) >= v->rp_end) reach_end(v);
    return TW_OK;
}

tw_status viewer_replay_alarm(viewer *v, int dir)
{
    const tw_replay_log *log = v->rp.log;
    uint64_t c = tw_replay_player_tick(v->rp.player);
    uint32_t n = tw_replay_log_event_count(log), i;
    char clock[16];
    tick_clock(v, c, clock, sizeof clock);
    /* An event recorded at tick e shows from tick e + 1: next is the first
     * with e + 1 > c, previous the last with e + 1 < c - grace, where grace
     * is a wall second of playing: [ just after an event, while playing
     * past it, goes to the one before, as a media player's "previous". */
    uint64_t grace = 0;
    if (!v->paused) grace = (uint64_t)fmax(0.0, round(v->speed / tw_replay_log_header(log)->dt));
    uint64_t cp = c > grace ? c - grace : 0;
    if (dir > 0) {
        i = c == 0 ? 0 : tw_replay_log_event_after(log, c - 1);
        if (i >= n) {
            snprintf(v->status, sizeof v->status, "no alarm event after %s", clock);
            v->status_until = tw_clock_monotonic_s() + 3.0;
            return TW_OK;
        }
    } else {
        i = cp < 2 ? 0 : tw_replay_log_event_after(log, cp - 2);
        if (i == 0) {
            snprintf(v->status, sizeof v->status, "no alarm event before %s", clock);
            v->status_until = tw_clock_monotonic_s() + 3.0;
            return TW_OK;
        }
        i--;
    }
    uint64_t et;
    tw_sim_event ev;
    tw_replay_log_event_at(log, i, &et, &ev);
    tw_status st = viewer_replay_seek(v, et + 1, "alarm");
    if (st) return st;
    char alarm[TW_ECS_PATH_MAX], target[TW_ECS_PATH_MAX];
    path_of(v, ev.alarm, alarm, sizeof alarm);
    path_of(v, ev.target, target, sizeof target);
    tick_clock(v, et + 1, clock, sizeof clock);
    snprintf(v->status, sizeof v->status, "alarm %u of %u: %.60s %s (%.4g) at %s", i + 1, n,
             target[0] ? target : alarm, state_name(ev.state), (double)ev.value, clock);
    v->status_until = tw_clock_monotonic_s() + 5.0;
    fprintf(v->out, "alarm %u/%u %s on %s %s value=%.6g at %s (tick %llu)\n", i + 1, n, alarm[0] ? alarm : "?",
            target[0] ? target : "?", state_name(ev.state), (double)ev.value, clock, (unsigned long long)(et + 1));
    fflush(v->out);
    return TW_OK;
}

/* ---- the timeline's place ---------------------------------------------------------------- */

void viewer_replay_layout(viewer *v)
{
    memset(&v->timeline_rect, 0, sizeof v->timeline_rect);
    v->bottom = 0;
    if (!v->replay || v->width < 200 || v->height < 200) return;
    int h = 2 * v->line + 30;
    v->timeline_rect = (viewer_rect){ 12, (int)v->height - 12 - h, (int)v->width - 24, h };
    v->timeline = (tw_viewer_timeline){ .x0 = 12 + 18, .x1 = (int)v->width - 12 - 18, .first = v->rp_first,
                                        .last = v->rp_end };
    v->bottom = h + 12;
}
