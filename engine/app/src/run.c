/* Sessions (scene → world → sim → KPIs) and the headless runner. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "app_internal.h"
#include "twin/clock.h"

tw_status tw_app_session_open(const tw_app_open_desc *desc, tw_app_session *out, tw_diag *diag)
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
    if (st) {
        tw_ecs_world_free(out->world);
        memset(out, 0, sizeof *out);
        return st;
    }
    tw_sim_desc sd = {
        .dt = out->scene.settings.dt,
        .seed = desc->has_seed ? desc->seed : out->scene.settings.seed,
        .start_time = out->scene.settings.start_time,
        .max_catchup_steps = out->scene.settings.max_catchup_steps,
        .log = desc->log,
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
                          const run_outputs *o)
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
    fprintf(f, "\n  },\n  \"alarm_events\": %u,\n  \"kpis\": {", r->alarm_events);
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

tw_status tw_app_run(const tw_app_run_desc *d, tw_app_run_result *r, tw_diag *diag)
{
    memset(r, 0, sizeof *r);
    tw_app_session s;
    tw_app_open_desc od = { .scene_path = d->scene_path, .has_seed = d->has_seed, .seed = d->seed, .log = d->log };
    tw_status st = tw_app_session_open(&od, &s, diag);
    if (st) return st;

    run_outputs o = { 0 };
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
    uint64_t kpi_every = (uint64_t)llround(set->kpi_interval / dt);
    if (kpi_every == 0) kpi_every = 1;

    double wall0 = tw_clock_monotonic_s(), next_draw = wall0;
    write_kpi_row(&o, &s, 0.0);
    uint64_t tick = 0;
    for (; tick < ticks; tick++) {
        if (d->cancel && *d->cancel) {
            r->interrupted = 1;
            break;
        }
        if ((st = tw_sim_step(s.sim))) {
            tw_diag_set(diag, "simulation step %llu failed: %s", (unsigned long long)tick, tw_status_str(st));
            break;
        }
        write_events(&o, &s, set->start_time, &r->alarm_events);
        if ((tick + 1) % kpi_every == 0) write_kpi_row(&o, &s, tw_sim_time(s.sim));
        if (d->progress && (tick & 1023) == 0) {
            double now = tw_clock_monotonic_s();
            if (now >= next_draw) {
                draw_progress(tw_sim_time(s.sim), duration, tw_sim_time(s.sim) / (now - wall0 + 1e-9));
                next_draw = now + 0.2;
            }
        }
    }
    if (tick % kpi_every != 0) write_kpi_row(&o, &s, tw_sim_time(s.sim)); /* the last, partial interval */

    r->wall_time = tw_clock_monotonic_s() - wall0;
    r->ticks = tw_sim_tick(s.sim);
    r->sim_time = tw_sim_time(s.sim);
    r->real_time_factor = r->wall_time > 0 ? r->sim_time / r->wall_time : 0;
    r->state_hash = tw_sim_state_hash(s.sim);
    r->entities = tw_ecs_entity_count(s.world);
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
        write_summary(sf, &s, d, r, &o);
        if (fclose(sf) && !st) {
            tw_diag_set(diag, "writing %s/summary.json failed", d->out_dir);
            st = TW_ERR_IO;
        }
    } else if (!st) {
        st = TW_ERR_IO;
    }

done:
    if (o.kpis && fclose(o.kpis) && !st) st = TW_ERR_IO;
    if (o.events && fclose(o.events) && !st) st = TW_ERR_IO;
    tw_free(alloc, o.values, (o.kpi_count + 1u) * sizeof *o.values);
    tw_free(alloc, o.stats, (o.kpi_count + 1u) * sizeof *o.stats);
    tw_app_session_close(&s);
    return st;
}
