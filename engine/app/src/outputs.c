/* The files every run writes (kpis.csv, events.csv, summary.json), shared
 * by `twin run`, `twin replay` and each world of `twin whatif`. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <string.h>

#include "app_internal.h"
#include "twin/clock.h"

tw_status app_outputs_open(app_outputs *o, const char *dir, const tw_kpi_sampler *kpis, const tw_allocator *alloc,
                           tw_diag *diag)
{
    memset(o, 0, sizeof *o);
    o->alloc = alloc;
    o->kpi_count = tw_kpi_sampler_count(kpis);
    if (snprintf(o->dir, sizeof o->dir, "%s", dir) >= (int)sizeof o->dir) {
        tw_diag_set(diag, "the output folder's path is too long");
        return TW_ERR_INVALID;
    }
    o->values = tw_calloc(alloc, o->kpi_count + 1u, sizeof *o->values);
    o->stats = tw_calloc(alloc, o->kpi_count + 1u, sizeof *o->stats);
    if (!o->values || !o->stats) {
        tw_diag_set(diag, "out of memory");
        return TW_ERR_NOMEM;
    }
    tw_status st = tw_app_make_dirs(dir, diag);
    if (st) return st;
    o->kpis = tw_app_open_output(dir, "kpis.csv", diag);
    o->events = o->kpis ? tw_app_open_output(dir, "events.csv", diag) : NULL;
    if (!o->kpis || !o->events) return TW_ERR_IO;
    fputs("time_s", o->kpis);
    for (uint32_t i = 0; i < o->kpi_count; i++) fprintf(o->kpis, ",%s", tw_kpi_sampler_def(kpis, i)->name);
    fputc('\n', o->kpis);
    fputs("time,time_s,entity,rule,value,state\n", o->events);
    return TW_OK;
}

void app_outputs_kpi_row(app_outputs *o, tw_app_session *s, double t)
{
    tw_kpi_sampler_sample(s->kpis, o->values);
    tw_app_write_number(o->kpis, t, 0);
    for (uint32_t i = 0; i < o->kpi_count; i++) {
        double v = o->values[i];
        fputc(',', o->kpis);
        tw_app_write_number(o->kpis, v, 0);
        if (isfinite(v)) {
            app_kpi_stats *k = &o->stats[i];
            if (k->n == 0 || v < k->min) k->min = v;
            if (k->n == 0 || v > k->max) k->max = v;
            k->sum += v;
            k->n++;
        }
        o->stats[i].last = v;
    }
    fputc('\n', o->kpis);
}

void app_outputs_events(app_outputs *o, tw_app_session *s, double start_time, uint32_t *total)
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

void app_progress_draw(double done, double total, double rtf)
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

int app_progress_due(uint64_t tick, double *next_draw, double *now)
{
    if ((tick & 1023) != 0) return 0;
    *now = tw_clock_monotonic_s();
    if (*now < *next_draw) return 0;
    *next_draw = *now + 0.2;
    return 1;
}

static void write_summary(FILE *f, const tw_app_session *s, const char *scene_path, const tw_app_run_result *r,
                          const app_outputs *o, const app_telemetry *tel)
{
    char hash[17], start[40];
    tw_app_format_hash(r->state_hash, hash);
    tw_time_format_iso8601(s->scene.settings.start_time, start, sizeof start);
    fprintf(f, "{\n  \"scene\": ");
    tw_app_write_json_string(f, s->scene.name);
    fprintf(f, ",\n  \"scene_file\": ");
    tw_app_write_json_string(f, scene_path);
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
        const app_kpi_stats *k = &o->stats[i];
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

tw_status app_outputs_summary(app_outputs *o, const tw_app_session *s, const char *scene_path,
                              const tw_app_run_result *r, const app_telemetry *tel, tw_diag *diag)
{
    FILE *f = tw_app_open_output(o->dir, "summary.json", diag);
    if (!f) return TW_ERR_IO;
    write_summary(f, s, scene_path, r, o, tel);
    if (ferror(f) | fclose(f)) {
        tw_diag_set(diag, "writing %s/summary.json failed (disk full?)", o->dir);
        return TW_ERR_IO;
    }
    return TW_OK;
}

tw_status app_outputs_close(app_outputs *o, tw_diag *diag)
{
    int bad = 0;
    if (o->kpis && (ferror(o->kpis) | fclose(o->kpis))) bad = 1;
    if (o->events && (ferror(o->events) | fclose(o->events))) bad = 1;
    if (bad) tw_diag_set(diag, "writing into %s failed (disk full?)", o->dir);
    if (o->alloc) {
        tw_free(o->alloc, o->values, (o->kpi_count + 1u) * sizeof *o->values);
        tw_free(o->alloc, o->stats, (o->kpi_count + 1u) * sizeof *o->stats);
    }
    memset(o, 0, sizeof *o);
    return bad ? TW_ERR_IO : TW_OK;
}
