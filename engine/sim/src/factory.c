/* Machines, conveyors and the parts between them.
 *
 * A machine whose equipment runs advances its cycle; each full cycle makes a
 * part: a new entity (created while the world is deferred, so its handle is
 * good now and its components land at the end of the tick) with a small
 * circular Body at the start of the output conveyor.
 *
 * Belts. physics.c gives every belt segment a Chipmunk sensor segment whose
 * surface velocity is the belt speed along the segment (zero while stopped).
 * In Chipmunk a surface velocity acts through friction at contact points, but
 * on a top-down floor plan a part lies ON the belt, which is no contact a 2D
 * engine can see. So this file plays the friction: each tick a part on a belt
 * gets the surface velocity of the segment under it (a grip that does not
 * slip), plus a pull back to the centre line; Chipmunk then resolves the
 * part-to-part contacts, so parts queue behind a blocked one. At the end of
 * the polyline a part is delivered: destroyed (deferred) and counted. A
 * machine whose conveyor start is still occupied waits with a full cycle. */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

#define PART_RADIUS 0.15f
#define PART_MASS 1.0f
#define PART_CLEARANCE (2.0f * PART_RADIUS + 0.05f) /* m free at the belt start to drop a part */
#define BELT_CENTRING 2.0f                           /* 1/s pull toward the centre line */
#define BELT_END 0.05f                               /* m before the end a part counts as delivered */

typedef struct fac_conveyor {
    tw_entity e;
    Conveyor *c;
    const Shape *shape;
    float cum[TW_SHAPE_MAX_POINTS]; /* m along the polyline at each point */
    float elevation;
} fac_conveyor;

typedef struct fac_machine {
    tw_entity e;
    Machine *m;
    const Equipment *eq;
    int32_t conveyor;               /* index in conveyors, -1 */
} fac_machine;

typedef struct fac_part {
    tw_entity e;
    Body *b;
    int32_t conveyor;               /* -1: on no known belt (or delivered this tick) */
} fac_part;

struct tw_sim_factory {
    fac_conveyor *conveyors;
    fac_machine *machines;
    fac_part *parts;
    size_t nc, nm, np, cap_c, cap_m, cap_p;
    uint64_t version;
    int ready;
    tw_ecs_query q_conveyor, q_machine, q_part;
};

static int32_t conveyor_index(const tw_sim_factory *f, tw_entity e)
{
    for (size_t i = 0; i < f->nc; i++)
        if (tw_entity_eq(f->conveyors[i].e, e)) return (int32_t)i;
    return -1;
}

static tw_status refresh(tw_sim *s)
{
    tw_sim_factory *f = s->factory;
    tw_ecs_world *w = s->world;
    uint32_t nc = tw_ecs_query_count(w, &f->q_conveyor), nm = tw_ecs_query_count(w, &f->q_machine),
             np = tw_ecs_query_count(w, &f->q_part);
    if (tw_grow(&s->alloc, (void **)&f->conveyors, &f->cap_c, nc, sizeof *f->conveyors) ||
        tw_grow(&s->alloc, (void **)&f->machines, &f->cap_m, nm, sizeof *f->machines) ||
        tw_grow(&s->alloc, (void **)&f->parts, &f->cap_p, np, sizeof *f->parts))
        return TW_ERR_NOMEM;
    f->nc = f->nm = f->np = 0;
    tw_ecs_iter it = tw_ecs_query_iter(w, &f->q_conveyor);
    while (tw_ecs_iter_next(&it)) {
        Conveyor *c = it.columns[0];
        const Shape *sh = it.columns[1];
        for (uint32_t i = 0; i < it.count && f->nc < nc; i++) {
            if (sh[i].kind != TW_SHAPE_POLYLINE || sh[i].point_count < 2 || sh[i].point_count > TW_SHAPE_MAX_POINTS)
                continue;
            fac_conveyor *fc = &f->conveyors[f->nc++];
            fc->e = it.entities[i];
            fc->c = &c[i];
            fc->shape = &sh[i];
            fc->cum[0] = 0;
            for (uint32_t k = 1; k < sh[i].point_count; k++)
                fc->cum[k] = fc->cum[k - 1] + hypotf(sh[i].points[k][0] - sh[i].points[k - 1][0],
                                                     sh[i].points[k][1] - sh[i].points[k - 1][1]);
            const Storey *st = tw_ecs_get(w, tw_ecs_entity_ancestor_of_kind(w, fc->e, TW_KIND_STOREY), s->c.storey);
            fc->elevation = st ? st->elevation : 0.0f;
        }
    }
    it = tw_ecs_query_iter(w, &f->q_machine);
    while (tw_ecs_iter_next(&it)) {
        Machine *m = it.columns[0];
        for (uint32_t i = 0; i < it.count && f->nm < nm; i++) {
            fac_machine *fm = &f->machines[f->nm++];
            fm->e = it.entities[i];
            fm->m = &m[i];
            fm->eq = tw_ecs_get(w, fm->e, s->c.equipment);
            fm->conveyor = conveyor_index(f, m[i].output);
        }
    }
    it = tw_ecs_query_iter(w, &f->q_part);
    while (tw_ecs_iter_next(&it)) {
        const Part *p = it.columns[0];
        Body *b = it.columns[1];
        for (uint32_t i = 0; i < it.count && f->np < np; i++)
            f->parts[f->np++] = (fac_part){ it.entities[i], &b[i], conveyor_index(f, p[i].conveyor) };
    }
    f->version = tw_ecs_world_structure_version(w);
    return TW_OK;
}

tw_status tw_sim_factory_new(tw_sim *s, tw_diag *diag)
{
    tw_sim_factory *f = tw_calloc(&s->alloc, 1, sizeof *f);
    if (!f) return TW_ERR_NOMEM;
    s->factory = f;
    tw_ecs_world *w = s->world;
    tw_status st;
    if ((st = tw_ecs_query_init(w, &f->q_conveyor, &(tw_ecs_query_desc){ .with = { s->c.conveyor, s->c.shape } })) ||
        (st = tw_ecs_query_init(w, &f->q_machine, &(tw_ecs_query_desc){ .with = { s->c.machine } })) ||
        (st = tw_ecs_query_init(w, &f->q_part, &(tw_ecs_query_desc){ .with = { s->c.part, s->c.body } })) ||
        (st = refresh(s)))
        return st;
    /* A machine feeding something that is not a conveyor belt is a scene error. */
    for (size_t i = 0; i < f->nm; i++) {
        tw_entity out = f->machines[i].m->output;
        if (tw_entity_is_null(out) || f->machines[i].conveyor >= 0) continue;
        char pa[TW_ECS_PATH_MAX], pb[TW_ECS_PATH_MAX];
        if (tw_ecs_entity_path(w, f->machines[i].e, pa, sizeof pa) <= 0) snprintf(pa, sizeof pa, "(unnamed)");
        if (tw_ecs_entity_path(w, out, pb, sizeof pb) <= 0) snprintf(pb, sizeof pb, "(unnamed)");
        tw_diag_set(diag, "machine %s outputs to %s, which is not a conveyor with a polyline of two or more points",
                    pa, pb);
        return TW_ERR_INVALID;
    }
    f->ready = 1;
    return TW_OK;
}

void tw_sim_factory_free(tw_sim *s)
{
    tw_sim_factory *f = s->factory;
    if (!f) return;
    tw_free(&s->alloc, f->conveyors, f->cap_c * sizeof *f->conveyors);
    tw_free(&s->alloc, f->machines, f->cap_m * sizeof *f->machines);
    tw_free(&s->alloc, f->parts, f->cap_p * sizeof *f->parts);
    tw_ecs_query_fini(&f->q_conveyor);
    tw_ecs_query_fini(&f->q_machine);
    tw_ecs_query_fini(&f->q_part);
    tw_free(&s->alloc, f, sizeof *f);
    s->factory = NULL;
}

/* Nearest point of the belt's centre line to p: segment index, the point,
 * and the distance along the belt. */
static uint32_t belt_project(const fac_conveyor *fc, const float p[2], float out[2], float *along)
{
    const Shape *sh = fc->shape;
    float best = INFINITY;
    uint32_t seg = 0;
    out[0] = sh->points[0][0];
    out[1] = sh->points[0][1];
    *along = 0;
    for (uint32_t k = 1; k < sh->point_count; k++) {
        float ax = sh->points[k - 1][0], ay = sh->points[k - 1][1];
        float dx = sh->points[k][0] - ax, dy = sh->points[k][1] - ay;
        float l2 = dx * dx + dy * dy;
        float t = l2 > 0 ? ((p[0] - ax) * dx + (p[1] - ay) * dy) / l2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        float qx = ax + t * dx, qy = ay + t * dy;
        float d2 = (p[0] - qx) * (p[0] - qx) + (p[1] - qy) * (p[1] - qy);
        if (d2 <= best) { /* a tie is a corner: the later segment carries the part on */
            best = d2;
            seg = k - 1;
            out[0] = qx;
            out[1] = qy;
            *along = fc->cum[k - 1] + t * (fc->cum[k] - fc->cum[k - 1]);
        }
    }
    return seg;
}

static void make_part(tw_sim *s, const fac_conveyor *fc)
{
    tw_ecs_world *w = s->world;
    tw_entity e = tw_ecs_entity_create(w);
    if (tw_entity_is_null(e)) {
        TW_LOG(&s->log, TW_LOG_WARN, "factory", "out of memory: a part was made but not placed on its conveyor");
        return;
    }
    const float *p0 = fc->shape->points[0];
    Part part = { fc->e, (float)tw_sim_now(s) };
    Body body = { .shape = TW_BODY_CIRCLE, .radius = PART_RADIUS, .size = { 2 * PART_RADIUS, 2 * PART_RADIUS },
                  .mass = PART_MASS, .position = { p0[0], p0[1] } };
    Transform t = { { p0[0], p0[1], fc->elevation }, 0 };
    if (tw_ecs_set(w, e, s->c.part, &part) || tw_ecs_set(w, e, s->c.body, &body) ||
        tw_ecs_set(w, e, s->c.transform, &t))
        TW_LOG(&s->log, TW_LOG_WARN, "factory", "out of memory: a new part lost some of its components");
}

void tw_sim_factory_step(tw_sim *s)
{
    tw_sim_factory *f = s->factory;
    if (f->version != tw_ecs_world_structure_version(s->world)) {
        f->ready = refresh(s) == TW_OK;
        if (!f->ready) TW_LOG(&s->log, TW_LOG_ERROR, "factory", "out of memory: machines and belts stand still");
    }
    if (!f->ready) return;
    float dt = (float)s->dt;

    /* Parts ride their belt, or leave it at the end. */
    for (size_t i = 0; i < f->np; i++) {
        fac_part *fp = &f->parts[i];
        if (fp->conveyor < 0) continue;
        fac_conveyor *fc = &f->conveyors[fp->conveyor];
        float q[2], along;
        uint32_t seg = belt_project(fc, fp->b->position, q, &along);
        if (along >= fc->cum[fc->shape->point_count - 1] - BELT_END) {
            tw_ecs_entity_destroy(s->world, fp->e); /* deferred: applies at the end of the tick */
            fc->c->parts_delivered++;
            fp->conveyor = -1;
            continue;
        }
        float v[2] = { 0, 0 };
        if (!tw_sim_physics_belt_velocity(s, fc->e, seg, v)) continue; /* on no storey: not simulated */
        v[0] += (q[0] - fp->b->position[0]) * BELT_CENTRING;
        v[1] += (q[1] - fp->b->position[1]) * BELT_CENTRING;
        tw_sim_physics_drive(s, fp->e, v[0], v[1]);
    }

    for (size_t i = 0; i < f->nm; i++) {
        fac_machine *fm = &f->machines[i];
        Machine *m = fm->m;
        if (m->cycle_time <= 0 || (fm->eq && (!fm->eq->running || fm->eq->failed))) continue;
        if (m->progress < 1.0f) m->progress += dt / m->cycle_time;
        if (m->progress < 1.0f) continue;
        if (fm->conveyor < 0) {
            /* nowhere to put it: count it and start the next one */
            m->parts_made++;
            m->progress -= 1.0f;
            continue;
        }
        const fac_conveyor *fc = &f->conveyors[fm->conveyor];
        const float *p0 = fc->shape->points[0];
        int blocked = 0;
        for (size_t k = 0; k < f->np && !blocked; k++) {
            const fac_part *fp = &f->parts[k];
            if (fp->conveyor != fm->conveyor) continue;
            float dx = fp->b->position[0] - p0[0], dy = fp->b->position[1] - p0[1];
            blocked = dx * dx + dy * dy < PART_CLEARANCE * PART_CLEARANCE;
        }
        if (blocked) {
            m->progress = 1.0f; /* finished, waiting for room on the belt */
            continue;
        }
        make_part(s, fc);
        m->parts_made++;
        m->progress -= 1.0f;
    }
}
