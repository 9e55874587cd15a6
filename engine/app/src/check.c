/* `twin check`: load a scene with everything the simulation validates, then
 * print what it holds. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "app_internal.h"
#include "twin/mesh_import.h"

/* The bound sensor ids (and topic patterns), one a line, each once, in rule order. */
static void list_sensors(const tw_bind *b, FILE *out)
{
    uint32_t n = tw_bind_rule_count(b);
    for (uint32_t i = 0; i < n; i++) {
        const tw_bind_rule *r = tw_bind_rule_get(b, i);
        const char *id = r->sensor ? r->sensor : r->topic;
        uint32_t k = 0;
        while (k < i) {
            const tw_bind_rule *q = tw_bind_rule_get(b, k);
            if (strcmp(q->sensor ? q->sensor : q->topic, id) == 0) break;
            k++;
        }
        if (k == i) fprintf(out, "%s\n", id);
    }
}

static void describe_rules(const app_telemetry *t, FILE *out)
{
    uint32_t n = tw_bind_rule_count(t->b);
    fprintf(out, "bindings: %u rule%s from ", n, n == 1 ? "" : "s");
    for (uint32_t i = 0; i < t->text_count; i++) fprintf(out, "%s%s", i ? ", " : "", t->texts[i].name);
    fputc('\n', out);
    for (uint32_t i = 0; i < n; i++) {
        const tw_bind_rule *r = tw_bind_rule_get(t->b, i);
        fprintf(out, "  %s -> %s %s (%s", r->sensor ? r->sensor : r->topic, r->entity, r->field,
                tw_bind_mode_name(r->mode));
        if (r->unit) fprintf(out, ", %s", r->unit);
        if (r->stale_after > 0) fprintf(out, ", stale after %g s", r->stale_after);
        fputs(")\n", out);
    }
}

/* Mesh files named by Shapes of kind mesh, each loaded once (as the view
 * would: relative paths from the scene's folder). */
typedef struct mesh_check {
    char *path;             /* resolved */
    tw_status st;
    uint32_t tris;
    char why[TW_DIAG_MSG_MAX];
} mesh_check;

typedef struct mesh_checks {
    tw_allocator alloc;
    mesh_check *items;
    size_t cap, count;
    char dir[4096];         /* the scene's folder, "" for the working directory */
} mesh_checks;

static void mesh_checks_init(mesh_checks *mc, const tw_allocator *alloc, const char *scene_path)
{
    memset(mc, 0, sizeof *mc);
    mc->alloc = tw_allocator_or_default(alloc);
    const char *slash = strrchr(scene_path, '/');
    if (slash) {
        size_t n = slash == scene_path ? 1 : (size_t)(slash - scene_path);
        if (n < sizeof mc->dir) {
            memcpy(mc->dir, scene_path, n);
            mc->dir[n] = '\0';
        }
    }
}

static void mesh_checks_fini(mesh_checks *mc)
{
    for (size_t i = 0; i < mc->count; i++) tw_free(&mc->alloc, mc->items[i].path, strlen(mc->items[i].path) + 1);
    tw_free(&mc->alloc, mc->items, mc->cap * sizeof *mc->items);
}

/* The check of one file reference; NULL when out of memory (the caller says so). */
static const mesh_check *mesh_check_file(mesh_checks *mc, const char *ref)
{
    char file[4096 + TW_REF_MAX + 2];
    if (ref[0] == '/' || !mc->dir[0]) snprintf(file, sizeof file, "%s", ref);
    else snprintf(file, sizeof file, "%s/%s", mc->dir, ref);
    for (size_t i = 0; i < mc->count; i++)
        if (strcmp(mc->items[i].path, file) == 0) return &mc->items[i];
    if (tw_grow(&mc->alloc, (void **)&mc->items, &mc->cap, mc->count + 1, sizeof *mc->items)) return NULL;
    mesh_check *c = &mc->items[mc->count];
    memset(c, 0, sizeof *c);
    if (!(c->path = tw_strdup(&mc->alloc, file))) return NULL;
    mc->count++;
    tw_asset_mesh m;
    tw_diag d;
    tw_diag_clear(&d);
    c->st = tw_asset_mesh_load(&(tw_asset_mesh_desc){ .path = file, .alloc = &mc->alloc }, &m, &d);
    if (c->st) snprintf(c->why, sizeof c->why, "%s", d.message);
    else c->tris = m.triangle_count;
    tw_asset_mesh_fini(&m);
    return c;
}

tw_status tw_app_check(const char *scene_path, FILE *out, tw_diag *diag)
{
    tw_app_check_desc d = { .scene_path = scene_path };
    return tw_app_check_scene(&d, out, diag);
}

tw_status tw_app_check_scene(const tw_app_check_desc *d, FILE *out, tw_diag *diag)
{
    const char *scene_path = d->scene_path;
    tw_app_session s;
    tw_app_open_desc od = { .scene_path = scene_path };
    tw_status st = tw_app_session_open(&od, &s, diag);
    if (st) return st;

    /* Bindings are checked against the world as loaded, as a run would make them. */
    app_telemetry tel;
    app_tel_init(&tel, tw_ecs_world_allocator(s.world), NULL);
    if (s.scene.bindings || d->bindings_count) {
        st = app_tel_load_rules(&tel, s.world, &s.scene, scene_path, d->bindings, d->bindings_count, NULL, 0, 0, 0,
                                diag);
        if (st) {
            app_tel_fini(&tel);
            tw_app_session_close(&s);
            return st;
        }
    }
    if (d->list_sensors) {
        if (tel.b) list_sensors(tel.b, out);
        app_tel_fini(&tel);
        tw_app_session_close(&s);
        return TW_OK;
    }

    uint32_t by_kind[TW_KIND_COUNT] = { 0 };
    uint32_t by_component[TW_ECS_MAX_COMPONENTS + 1] = { 0 };
    uint32_t cap = tw_ecs_entity_capacity(s.world);
    for (uint32_t i = 0; i < cap; i++) {
        tw_entity e = tw_ecs_entity_at(s.world, i);
        if (tw_entity_is_null(e)) continue;
        tw_kind k = tw_ecs_entity_kind(s.world, e);
        if ((unsigned)k < TW_KIND_COUNT) by_kind[k]++;
        tw_component comps[TW_ECS_MAX_COMPONENTS];
        uint32_t n = tw_ecs_entity_components(s.world, e, comps, TW_ECS_MAX_COMPONENTS);
        for (uint32_t c = 0; c < n && c < TW_ECS_MAX_COMPONENTS; c++) by_component[comps[c].id]++;
    }
    const tw_scene_settings *set = &s.scene.settings;
    fprintf(out, "%s: ok\n", scene_path);
    fprintf(out, "scene \"%s\": %u entities, dt %g s, duration %g s, seed %llu, %u KPIs\n", s.scene.name,
            tw_ecs_entity_count(s.world), set->dt, set->duration, (unsigned long long)set->seed, s.scene.kpi_count);
    fprintf(out, "entities by kind:\n");
    for (int k = 0; k < TW_KIND_COUNT; k++)
        if (by_kind[k]) fprintf(out, "  %-10s %u\n", tw_kind_name((tw_kind)k), by_kind[k]);
    fprintf(out, "components:\n");
    for (uint32_t c = 1; c <= tw_ecs_component_count(s.world); c++) {
        if (!by_component[c]) continue;
        const tw_ecs_component_info *info = tw_ecs_component_get_info(s.world, (tw_component){ c });
        fprintf(out, "  %-10s %u\n", info->name, by_component[c]);
    }
    /* Warnings: things that load but are probably not what the author meant. */
    uint32_t warnings = 0;
    const tw_sim_components *ids = tw_sim_component_ids(s.sim);
    mesh_checks mc;
    mesh_checks_init(&mc, tw_ecs_world_allocator(s.world), scene_path);
    for (uint32_t i = 0; i < cap; i++) {
        tw_entity e = tw_ecs_entity_at(s.world, i);
        if (tw_entity_is_null(e)) continue;
        char path[TW_ECS_PATH_MAX];
        if (tw_ecs_entity_path(s.world, e, path, sizeof path) < 0) strcpy(path, "?");
        if (tw_ecs_has(s.world, e, ids->space) && !tw_ecs_has(s.world, e, ids->shape)) {
            fprintf(out, "warning: %s: a Space without a Shape has no area or volume\n", path);
            warnings++;
        }
        if (tw_ecs_has(s.world, e, ids->agent) && !tw_ecs_has(s.world, e, ids->body)) {
            fprintf(out, "warning: %s: an Agent without a Body cannot move\n", path);
            warnings++;
        }
        const Shape *shape = tw_ecs_get(s.world, e, ids->shape);
        if (shape && (shape->kind == TW_SHAPE_EXTRUSION || shape->kind == TW_SHAPE_POLYLINE) &&
            shape->point_count < (shape->kind == TW_SHAPE_EXTRUSION ? 3u : 2u)) {
            fprintf(out, "warning: %s: the Shape has too few points for a %s\n", path,
                    shape->kind == TW_SHAPE_EXTRUSION ? "footprint" : "polyline");
            warnings++;
        }
        if (shape && shape->kind == TW_SHAPE_MESH) {
            char ref[TW_REF_MAX + 1];
            size_t len = strnlen(shape->mesh, TW_REF_MAX);
            memcpy(ref, shape->mesh, len);
            ref[len] = '\0';
            if (!ref[0]) {
                fprintf(out, "warning: %s: the Shape is of kind mesh but names no file\n", path);
                warnings++;
            } else if (strncmp(ref, "cityjson:", 9) && strncmp(ref, "ifc:", 4)) {
                const mesh_check *c = mesh_check_file(&mc, ref);
                if (!c) {
                    fprintf(out, "warning: %s: mesh file %s: out of memory checking it\n", path, ref);
                    warnings++;
                } else if (c->st) {
                    fprintf(out, "warning: %s: mesh file %s cannot be drawn: %s\n", path, ref, c->why);
                    warnings++;
                }
            }
        }
    }
    if (mc.count) {
        uint64_t tris = 0;
        uint32_t good = 0;
        for (size_t i = 0; i < mc.count; i++)
            if (!mc.items[i].st) tris += mc.items[i].tris, good++;
        fprintf(out, "mesh files: %u readable of %u (%llu triangles)\n", good, (unsigned)mc.count,
                (unsigned long long)tris);
    }
    mesh_checks_fini(&mc);
    if (tel.b) {
        describe_rules(&tel, out);
        if (tw_bind_rule_count(tel.b) == 0) {
            fprintf(out, "warning: the bindings hold no rule: no telemetry would drive the scene\n");
            warnings++;
        }
    }
    fprintf(out, "%u warning%s\n", warnings, warnings == 1 ? "" : "s");
    if (diag) diag->warnings = (int)warnings;
    app_tel_fini(&tel);
    tw_app_session_close(&s);
    return TW_OK;
}
