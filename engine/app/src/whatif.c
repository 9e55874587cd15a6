/* `twin whatif`: a recorded run forked into two worlds in one process, the
 * baseline replaying the log and the scenario replaying it with the
 * scenario's changes, compared KPI by KPI (docs/whatif.md). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app_internal.h"
#include "compare_image.h"
#include "twin/clock.h"
#include "twin/scenario.h"

/* One of the two worlds of a what-if: its log reader, player, KPIs and files. */
typedef struct wi_side {
    app_replay rp;                /* its own log reader, player and binder (recorded telemetry) */
    tw_kpi_sampler *kpis;
    app_outputs o;
    tw_app_session view;
    tw_app_run_result *r;
    double *series;               /* rows of (time, kpi values...) for the charts */
    size_t rows, cap;
    int series_failed;
} wi_side;

/* A KPI row into the side's kpis.csv, and kept for the charts. */
static void wi_row(wi_side *w, const tw_allocator *alloc)
{
    double t = tw_sim_time(w->view.sim);
    app_outputs_kpi_row(&w->o, &w->view, t);
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
    tw_status st = app_replay_start(&w->rp, NULL, d->log_path, s, verify, d->log, diag);
    if (st) return st;
    if ((st = tw_replay_player_seek(w->rp.player, from, diag))) return st;
    w->view = *s;
    w->view.world = tw_replay_player_world(w->rp.player);
    w->view.sim = tw_replay_player_sim(w->rp.player);
    if ((st = tw_kpi_sampler_new(w->view.world, s->scene.kpis, s->scene.kpi_count, &w->kpis, diag))) return st;
    w->view.kpis = w->kpis;
    char dir[1100];
    if (snprintf(dir, sizeof dir, "%s/%s", d->out_dir, name) >= (int)sizeof dir) {
        tw_diag_set(diag, "the output folder's path is too long");
        return TW_ERR_INVALID;
    }
    if ((st = app_outputs_open(&w->o, dir, w->kpis, tw_ecs_world_allocator(s->world), diag))) return st;
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
        if (w->rp.tel.b) {
            r->has_telemetry = 1;
            r->telemetry = *tw_bind_get_counters(w->rp.tel.b);
        }
        st = app_outputs_summary(&w->o, &w->view, d->scene_path, r, &w->rp.tel, diag);
    }
    tw_status cst = app_outputs_close(&w->o, st || !write ? NULL : diag);
    if (!st && write) st = cst;
    tw_free(alloc, w->series, w->cap * sizeof *w->series);
    tw_kpi_sampler_free(w->kpis);
    app_replay_stop(&w->rp);
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
    if (ch->op == TW_SCENARIO_OVERRIDE || ch->op == TW_SCENARIO_SILENCE) return app_tel_filter_add(&side->rp.tel, ch, diag);
    return apply_change(side->view.world, ch, diag);
}

/* A frames_at time, as the tick it falls on, and what became of it. */
typedef struct wi_frame {
    uint64_t tick;
    int written;                  /* both worlds' frames */
    int compared;                 /* compare-<T>.png */
} wi_frame;

typedef struct wi_frames {
    wi_frame *at;                 /* sorted by tick, no duplicates */
    uint32_t count;
    uint32_t next;                /* the first not yet reached */
    const char *scenario_name;    /* the caption and the hook's name for the scenario */
    int warned;                   /* "no cairo" said once */
} wi_frames;

static int cmp_tick(const void *x, const void *y)
{
    uint64_t a = ((const wi_frame *)x)->tick, b = ((const wi_frame *)y)->tick;
    return a < b ? -1 : a > b;
}

/* "frames/<what>-<T>.png": whole seconds zero-padded (names sort in time
 * order, as `twin run --frames-every` names them), milliseconds otherwise. */
static void frame_name(char *out, size_t n, const char *what, uint64_t tick, double dt)
{
    double t = (double)tick * dt, whole = floor(t + 0.5);
    if (fabs(t - whole) < 1e-6 * fmax(1.0, t))
        snprintf(out, n, "frames/%s-%06.0f.png", what, whole);
    else
        snprintf(out, n, "frames/%s-%010.3f.png", what, t);
}

/* "2024-07-15 13:30:00": the clock of the scene at simulated time t. */
static void clock_text(char *out, int n, double start_time, double t)
{
    tw_time_format_iso8601(start_time + t, out, n);
    char *c = strchr(out, 'T');
    if (c) *c = ' ';
    size_t len = strlen(out);
    if (len && out[len - 1] == 'Z') out[len - 1] = '\0';
}

/* The hook for both worlds at one tick boundary and, at a frames_at tick,
 * the side-by-side picture of the two frames. */
static tw_status wi_tick_hooks(wi_side *a, wi_side *b, const tw_app_whatif_desc *d, wi_frames *fr, uint64_t tick,
                               double dt, tw_app_whatif_result *res, tw_diag *diag)
{
    wi_frame *f = fr->next < fr->count && fr->at[fr->next].tick == tick ? &fr->at[fr->next] : NULL;
    char rel[2][128], path[2][1200];
    wi_side *sides[2] = { a, b };
    static const char *const what[2] = { "baseline", "scenario" };
    for (int k = 0; k < 2; k++) {
        if (f) {
            frame_name(rel[k], sizeof rel[k], what[k], tick, dt);
            snprintf(path[k], sizeof path[k], "%s/%s", d->out_dir, rel[k]);
        }
        tw_app_whatif_tick t = { .side = k ? TW_APP_WHATIF_SCENARIO : TW_APP_WHATIF_BASELINE,
                                 .name = k ? fr->scenario_name : "baseline",
                                 .session = &sides[k]->view,
                                 .frame_path = f ? path[k] : NULL };
        tw_status st = d->on_tick(d->on_tick_user, &t, diag);
        if (st) return st;
    }
    if (!f) return TW_OK;
    fr->next++;
    f->written = 1;
    res->frames++;
    if (!app_compare_available()) {
        if (!fr->warned)
            TW_LOG(d->log, TW_LOG_WARN, "whatif", "this build has no cairo: no compare-<T>.png (install libcairo2-dev)");
        fr->warned = 1;
        return TW_OK;
    }
    char crel[128], cpath[1200], clock[40], cap[2][1200];
    frame_name(crel, sizeof crel, "compare", tick, dt);
    snprintf(cpath, sizeof cpath, "%s/%s", d->out_dir, crel);
    clock_text(clock, (int)sizeof clock, a->view.scene.settings.start_time, (double)tick * dt);
    snprintf(cap[0], sizeof cap[0], "baseline   %s", clock);
    snprintf(cap[1], sizeof cap[1], "%s   %s", fr->scenario_name, clock);
    tw_status st = app_compare_png(path[0], path[1], cap[0], cap[1], cpath, diag);
    if (st) return st;
    f->compared = 1;
    res->compares++;
    return TW_OK;
}

static void write_frames_json(FILE *json, const wi_frames *fr, double dt, double start_time)
{
    fprintf(json, ",\n  \"frames\": [");
    uint32_t n = 0;
    for (uint32_t i = 0; i < fr->count; i++) {
        const wi_frame *f = &fr->at[i];
        if (!f->written) continue;
        char name[128], clock[40];
        fprintf(json, "%s\n    {\"t_s\": ", n++ ? "," : "");
        tw_app_write_number(json, (double)f->tick * dt, 1);
        tw_time_format_iso8601(start_time + (double)f->tick * dt, clock, (int)sizeof clock);
        fprintf(json, ", \"time\": ");
        tw_app_write_json_string(json, clock);
        static const char *const what[3] = { "baseline", "scenario", "compare" };
        for (int k = 0; k < 3; k++) {
            fprintf(json, ", \"%s\": ", what[k]);
            if (k == 2 && !f->compared) {
                fputs("null", json);
                continue;
            }
            frame_name(name, sizeof name, what[k], f->tick, dt);
            tw_app_write_json_string(json, name);
        }
        fputc('}', json);
    }
    fprintf(json, "%s]", n ? "\n  " : "");
}

static void write_compare(FILE *csv, FILE *json, const tw_app_session *s, const tw_scenario *sc,
                          const tw_app_whatif_desc *d, const wi_side *a, const wi_side *b, double from_s, double to_s,
                          const wi_frames *fr, double dt)
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
        const app_kpi_stats *x = &a->o.stats[i], *y = &b->o.stats[i];
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
        const app_kpi_stats *both[2] = { x, y };
        for (int k = 0; k < 2; k++) {
            const app_kpi_stats *z = both[k];
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
    fprintf(json, "%s]", sc->change_count ? "\n  " : "");
    if (d->frames_at_count) write_frames_json(json, fr, dt, s->scene.settings.start_time);
    fputs("\n}\n", json);
}

tw_status tw_app_whatif(const tw_app_whatif_desc *d, tw_app_whatif_result *res, tw_diag *diag)
{
    TW_CHECK(!d->frames_at_count || (d->frames_at && d->on_tick),
             "tw_app_whatif with frames_at needs the times and an on_tick hook that writes the frames.");
    memset(res, 0, sizeof *res);
    tw_scenario sc;
    tw_status st = tw_scenario_load_file(d->scenario_path, NULL, &sc, diag);
    if (st) return st;
    tw_app_session s;
    tw_replay_log *log = NULL;
    if ((st = app_replay_session_open(d->scene_path, d->log_path, d->log, &s, &log, diag))) {
        tw_scenario_fini(&sc);
        return st;
    }
    /* Each world reads the log through its own reader and player. */
    const tw_replay_header h = *tw_replay_log_header(log);
    uint64_t end_tick = tw_replay_log_get_info(log)->end_tick;
    tw_replay_log_close(log);
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
    wi_frames fr;
    memset(&fr, 0, sizeof fr);
    fr.scenario_name = sc.name[0] ? sc.name : d->scenario_path;
    if (to < from) {
        tw_diag_set(diag, "--to (%g s) lies before --from (%g s)", (double)to * dt, (double)from * dt);
        st = TW_ERR_INVALID;
        goto done;
    }
    /* Frame times are checked before anything is written: a time the run
     * never reaches is the command line's mistake. */
    if (d->frames_at_count) {
        if (!(fr.at = tw_calloc(alloc, d->frames_at_count, sizeof *fr.at))) {
            st = TW_ERR_NOMEM;
            goto done;
        }
        for (uint32_t i = 0; i < d->frames_at_count; i++) {
            double t = d->frames_at[i];
            double ft = isfinite(t) ? llround(t / dt) : -1.0;
            if (!(ft >= (double)from && ft <= (double)to)) {
                tw_diag_set(diag, "--frames-at %g s lies outside the run, which goes from --from %g s to %s %g s", t,
                            (double)from * dt, d->to >= 0 ? "--to" : "the log's end at", (double)to * dt);
                res->bad_request = 1;
                st = TW_ERR_INVALID;
                goto done;
            }
            fr.at[i].tick = (uint64_t)ft;
        }
        qsort(fr.at, d->frames_at_count, sizeof *fr.at, cmp_tick);
        for (uint32_t i = 0; i < d->frames_at_count; i++)
            if (!fr.count || fr.at[fr.count - 1].tick != fr.at[i].tick) fr.at[fr.count++] = fr.at[i];
    }
    if ((st = tw_app_make_dirs(d->out_dir, diag)) || (st = wi_side_open(&a, d, "baseline", !shared, &s, from, diag)) ||
        (st = wi_side_open(&b, d, "scenario", 0, &s, from, diag)))
        goto done;
    if (fr.count) {
        char dir[1100];
        snprintf(dir, sizeof dir, "%s/frames", d->out_dir);
        if ((st = tw_app_make_dirs(dir, diag))) goto done;
    }

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
        if (d->on_tick && (st = wi_tick_hooks(&a, &b, d, &fr, tick, dt, res, diag))) break;
        if (tick >= to) break;
        if (d->cancel && *d->cancel) {
            res->baseline.interrupted = res->scenario.interrupted = 1;
            break;
        }
        if ((st = tw_replay_player_step(a.rp.player, diag))) break;
        if ((st = tw_replay_player_step(b.rp.player, diag))) break;
        app_outputs_events(&a.o, &a.view, set->start_time, &a.r->alarm_events);
        app_outputs_events(&b.o, &b.view, set->start_time, &b.r->alarm_events);
        if ((tick + 1) % kpi_every == 0) {
            wi_row(&a, alloc);
            wi_row(&b, alloc);
        }
        double now;
        if (d->progress && app_progress_due(tick, &next_draw, &now))
            app_progress_draw((double)(tick - from) * dt, (double)(to - from) * dt,
                              (double)(tick - from) * dt / (now - wall0 + 1e-9));
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
        app_progress_draw((double)(tick - from) * dt, (double)(to - from) * dt, a.r->real_time_factor);
        fputc('\n', stderr);
    }
    written = !st;
    if (written) {
        a.r->state_hash = tw_sim_state_hash(a.view.sim);
        b.r->state_hash = tw_sim_state_hash(b.view.sim);
        FILE *csv = tw_app_open_output(d->out_dir, "compare.csv", diag);
        FILE *json = csv ? tw_app_open_output(d->out_dir, "compare.json", diag) : NULL;
        if (csv && json) write_compare(csv, json, &s, &sc, d, &a, &b, (double)from * dt, (double)tick * dt, &fr, dt);
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
    tw_free(alloc, fr.at, d->frames_at_count * sizeof *fr.at);
    tw_status sa = wi_side_close(&a, d, alloc, written, diag);
    tw_status sb = wi_side_close(&b, d, alloc, written, diag);
    if (!st) st = sa ? sa : sb;
    tw_app_session_close(&s);
    tw_scenario_fini(&sc);
    return st;
}
