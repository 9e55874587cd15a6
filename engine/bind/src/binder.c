/* The binder: rules resolved into bindings, the input queue, and applying
 * samples to entity fields at tick boundaries.
 *
 * A rule for a sensor id becomes one binding at once; a rule with a topic
 * pattern becomes one binding per sensor id that matches it, made when the
 * id is first seen (the sensor table calls back). Bindings of one sensor form
 * a list hanging off that sensor's slot, so routing a sample is an index,
 * and a field write goes through the pre-resolved (entity, component, field,
 * element): no string work and no allocation per sample.
 *
 * The order of what happens to a sample is fixed (docs/telemetry.md):
 * malformed -> ignored -> unknown sensor -> bad quality -> NaN -> Inf ->
 * bad time -> late -> queued; when applied: duplicate -> per binding unit,
 * range, smoothing, deadband, write. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bind_internal.h"
#include "twin/bind_state.h"
#include "twin/clock.h"
#include "twin/strmap.h"

typedef struct rule_rec {
    tw_bind_rule rule;          /* strings point into block */
    char *block;
    size_t block_size;
    bool is_pattern;
    tw_ecs_field_ref ref;
    uint8_t unit_from;          /* the measurement's unit (the rule's, else the field's) */
    uint8_t unit_target;        /* the field's unit; NONE when it has none */
    double k, c;                /* field value = raw * k + c for samples in unit_from */
} rule_rec;

typedef struct inst {
    uint32_t rule;
    uint32_t sensor;
    uint32_t next;              /* next binding of the same sensor, index + 1; 0 ends */
    tw_entity entity;
    tw_component comp;
    const tw_field *field;
    uint32_t element;
    double k, c, scale, offset;
    uint8_t unit_from, unit_target, mode, clamp;
    bool has_range;
    double lo, hi, deadband, alpha, tau, gain, stale_after;
    /* state */
    bool has_value, has_smooth, stale;
    uint8_t quality;
    double last_time, last_value, smooth, smooth_time;
    uint64_t applied, rejected, clamped, held;
    uint64_t res_count;
    double res_last, res_sum, res_sumsq;
} inst;

typedef struct sensor_state {
    uint32_t first, last;       /* bindings, index + 1 */
    double last_time;           /* of the last sample taken (for duplicates) */
    double last_value;
    uint64_t unknown;           /* samples counted as unknown */
} sensor_state;

typedef struct lane {
    tw_bind_source *src;        /* NULL for lane 0 (pushed samples) */
    double watermark;           /* newest measured time queued from this lane */
    bool done;
} lane;

struct tw_bind {
    tw_allocator alloc;
    /* Before this measured time no field can turn stale unless a sample
     * arrives (which may also end a staleness): the per-tick staleness pass
     * over every binding is skipped until then. -inf: check at the next call. */
    double stale_check_after;
    tw_log log;
    tw_ecs_world *world;
    tw_bind_sensors *sensors;
    rule_rec *rules;
    size_t rule_cap;
    uint32_t rule_count;
    inst *insts;
    size_t inst_cap;
    uint32_t inst_count;
    sensor_state *ss;           /* indexed by sensor id */
    size_t ss_cap;
    uint32_t ss_count;
    uint64_t other_unknown;     /* unknown samples under TW_BIND_SENSOR_OTHER */
    lane *lanes;
    size_t lane_cap;
    uint32_t lane_count;
    bind_queue queue;
    double window;
    tw_bind_anchor anchor_mode;
    double anchor_fixed, scene_start;
    double anchor;
    bool anchored;
    double frontier;            /* measured time up to which samples have been applied */
    double newest;              /* newest measured time queued */
    tw_bind_counters c;
    tw_bind_sample *batch;
    uint32_t batch_cap;
    bool keep_applied;
    tw_bind_sample *kept;
    size_t kept_count, kept_cap;
    uint64_t push_seq;
    uint32_t unresolved_logged;
    bind_reader_settings reader;
};

enum { BATCH = 256 };

/* ---- names --------------------------------------------------------------------- */

const char *tw_bind_mode_name(tw_bind_mode m)
{
    switch (m) {
    case TW_BIND_SET: return "set";
    case TW_BIND_ASSIMILATE: return "assimilate";
    case TW_BIND_OBSERVE: return "observe";
    }
    return "unknown";
}

const char *tw_bind_quality_name(tw_bind_quality q)
{
    switch (q) {
    case TW_BIND_QUALITY_NONE: return "none";
    case TW_BIND_QUALITY_GOOD: return "good";
    case TW_BIND_QUALITY_UNCERTAIN: return "uncertain";
    case TW_BIND_QUALITY_STALE: return "stale";
    }
    return "unknown";
}

/* ---- topic patterns ------------------------------------------------------------------ */

/* Length of the level starting at s (up to '/' or the end). */
static size_t level_len(const char *s, size_t n)
{
    const char *p = memchr(s, '/', n);
    return p ? (size_t)(p - s) : n;
}

static bool is_capture(const char *s, size_t l) { return l >= 3 && s[0] == '{' && s[l - 1] == '}'; }

bool bind_pattern_check(const char *pattern, char *msg, size_t msg_size)
{
    size_t n = strlen(pattern);
    if (n == 0) {
        snprintf(msg, msg_size, "the topic pattern is empty");
        return false;
    }
    uint32_t caps = 0;
    size_t i = 0;
    for (;;) {
        size_t l = level_len(pattern + i, n - i);
        const char *lv = pattern + i;
        bool last = i + l >= n;
        if (l == 1 && lv[0] == '#') {
            if (!last) {
                snprintf(msg, msg_size, "'#' must be the last level of a topic pattern");
                return false;
            }
        } else if (l == 1 && lv[0] == '+') {
            /* any one level */
        } else if (is_capture(lv, l)) {
            for (size_t k = 1; k + 1 < l; k++) {
                char c = lv[k];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
                    snprintf(msg, msg_size, "capture names are letters, digits and '_': \"%.*s\"", (int)l, lv);
                    return false;
                }
            }
            if (++caps > BIND_MAX_CAPTURES) {
                snprintf(msg, msg_size, "a topic pattern has at most %d captures", BIND_MAX_CAPTURES);
                return false;
            }
        } else {
            for (size_t k = 0; k < l; k++) {
                if (lv[k] == '+' || lv[k] == '#' || lv[k] == '{' || lv[k] == '}') {
                    snprintf(msg, msg_size,
                             "'+', '#' and '{name}' must fill a whole level of a topic pattern: \"%.*s\"", (int)l,
                             lv);
                    return false;
                }
            }
        }
        if (last) break;
        i += l + 1;
        if (i >= n) break; /* a trailing '/' ends with an empty level */
    }
    return true;
}

bool bind_pattern_match(const char *pattern, const char *topic, size_t n, const char **cap, size_t *cap_len,
                        uint32_t *cap_count)
{
    size_t pn = strlen(pattern), pi = 0, ti = 0;
    uint32_t caps = 0;
    bool topic_done = false;
    for (;;) {
        size_t pl = level_len(pattern + pi, pn - pi);
        const char *pv = pattern + pi;
        if (pl == 1 && pv[0] == '#') break; /* the rest, even nothing */
        if (topic_done) return false;
        size_t tl = level_len(topic + ti, n - ti);
        const char *tv = topic + ti;
        if (pl == 1 && pv[0] == '+') {
            /* any level */
        } else if (is_capture(pv, pl)) {
            if (caps < BIND_MAX_CAPTURES) {
                cap[caps] = tv;
                cap_len[caps] = tl;
                caps++;
            }
        } else if (pl != tl || memcmp(pv, tv, pl) != 0) {
            return false;
        }
        bool p_last = pi + pl >= pn, t_last = ti + tl >= n;
        if (p_last) {
            if (!t_last) return false;
            break;
        }
        pi += pl + 1;
        if (t_last)
            topic_done = true;
        else
            ti += tl + 1;
    }
    *cap_count = caps;
    return true;
}

/* Index of the capture called name[0..l) in pattern, or -1. */
static int capture_index(const char *pattern, const char *name, size_t l)
{
    size_t pn = strlen(pattern), i = 0;
    int k = 0;
    while (i <= pn) {
        size_t ll = level_len(pattern + i, pn - i);
        if (is_capture(pattern + i, ll)) {
            if (ll - 2 == l && memcmp(pattern + i + 1, name, l) == 0) return k;
            k++;
        }
        i += ll + 1;
    }
    return -1;
}

bool bind_pattern_expand(const char *pattern, const char *templ, const char *const *cap, const size_t *cap_len,
                         uint32_t cap_count, char *out, size_t out_size)
{
    size_t o = 0;
    for (const char *p = templ; *p;) {
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (!e) return false;
            int k = capture_index(pattern, p + 1, (size_t)(e - p - 1));
            if (k < 0 || (uint32_t)k >= cap_count) return false;
            if (o + cap_len[k] >= out_size) return false;
            memcpy(out + o, cap[k], cap_len[k]);
            o += cap_len[k];
            p = e + 1;
            continue;
        }
        if (o + 1 >= out_size) return false;
        out[o++] = *p++;
    }
    out[o] = '\0';
    return true;
}

/* ---- bindings ------------------------------------------------------------------------------ */

static tw_status ensure_sensor_slot(tw_bind *b, uint32_t id)
{
    if (id == TW_BIND_SENSOR_OTHER) return TW_OK;
    if (id < b->ss_count) return TW_OK;
    if (tw_grow(&b->alloc, (void **)&b->ss, &b->ss_cap, (size_t)id + 1, sizeof *b->ss)) return TW_ERR_NOMEM;
    for (uint32_t i = b->ss_count; i <= id; i++) {
        memset(&b->ss[i], 0, sizeof b->ss[i]);
        b->ss[i].last_time = -INFINITY;
    }
    b->ss_count = id + 1;
    return TW_OK;
}

static void link_inst(tw_bind *b, uint32_t idx)
{
    inst *in = &b->insts[idx];
    sensor_state *s = &b->ss[in->sensor];
    in->next = 0;
    if (s->last)
        b->insts[s->last - 1].next = idx + 1;
    else
        s->first = idx + 1;
    s->last = idx + 1;
}

static tw_status add_inst(tw_bind *b, uint32_t rule, uint32_t sensor, tw_entity e)
{
    if (ensure_sensor_slot(b, sensor) != TW_OK) return TW_ERR_NOMEM;
    if (tw_grow(&b->alloc, (void **)&b->insts, &b->inst_cap, (size_t)b->inst_count + 1, sizeof *b->insts))
        return TW_ERR_NOMEM;
    const rule_rec *r = &b->rules[rule];
    inst *in = &b->insts[b->inst_count];
    memset(in, 0, sizeof *in);
    in->rule = rule;
    in->sensor = sensor;
    in->entity = e;
    in->comp = r->ref.component;
    in->field = r->ref.field;
    in->element = r->ref.element;
    in->k = r->k;
    in->c = r->c;
    in->scale = r->rule.scale;
    in->offset = r->rule.offset;
    in->unit_from = r->unit_from;
    in->unit_target = r->unit_target;
    in->mode = (uint8_t)r->rule.mode;
    in->clamp = r->rule.out_of_range == TW_BIND_RANGE_CLAMP;
    in->has_range = r->rule.has_range;
    in->lo = r->rule.range_min;
    in->hi = r->rule.range_max;
    in->deadband = r->rule.deadband;
    in->alpha = r->rule.smoothing_alpha;
    in->tau = r->rule.smoothing_tau;
    in->gain = r->rule.gain;
    in->stale_after = r->rule.stale_after;
    in->last_time = NAN;
    in->quality = TW_BIND_QUALITY_NONE;
    link_inst(b, b->inst_count);
    b->inst_count++;
    b->stale_check_after = -INFINITY;
    return TW_OK;
}

/* Makes the binding of pattern rule ri for sensor id if the name matches. */
static tw_status match_pattern(tw_bind *b, uint32_t ri, uint32_t id, const char *name, size_t len)
{
    const rule_rec *r = &b->rules[ri];
    const char *cap[BIND_MAX_CAPTURES];
    size_t cap_len[BIND_MAX_CAPTURES];
    uint32_t caps = 0;
    if (!bind_pattern_match(r->rule.topic, name, len, cap, cap_len, &caps)) return TW_OK;
    char path[TW_ECS_PATH_MAX] = "(too long)";
    tw_entity e = TW_ENTITY_NULL;
    if (bind_pattern_expand(r->rule.topic, r->rule.entity, cap, cap_len, caps, path, sizeof path))
        e = tw_ecs_lookup_path(b->world, path);
    if (tw_entity_is_null(e) || !tw_ecs_has(b->world, e, r->ref.component)) {
        b->c.unresolved_sensors++;
        if (b->unresolved_logged < 8) {
            b->unresolved_logged++;
            tw_log_write(&b->log, TW_LOG_WARN, "bind",
                         "sensor \"%.*s\" matches topic pattern \"%s\", but entity \"%s\" %s; its samples count as "
                         "unknown",
                         (int)len, name, r->rule.topic, path,
                         tw_entity_is_null(e) ? "does not exist" : "lacks the component");
        }
        return TW_OK;
    }
    return add_inst(b, ri, id, e);
}

static tw_status on_new_sensor(void *user, uint32_t id, const char *name, size_t length)
{
    tw_bind *b = user;
    if (ensure_sensor_slot(b, id) != TW_OK) return TW_ERR_NOMEM;
    for (uint32_t i = 0; i < b->rule_count; i++) {
        if (!b->rules[i].is_pattern) continue;
        tw_status st = match_pattern(b, i, id, name, length);
        if (st != TW_OK) return st;
    }
    return TW_OK;
}

static void relink_all(tw_bind *b)
{
    for (uint32_t i = 0; i < b->ss_count; i++) b->ss[i].first = b->ss[i].last = 0;
    for (uint32_t i = 0; i < b->inst_count; i++) link_inst(b, i);
}

static void free_rule(tw_bind *b, rule_rec *r) { tw_free(&b->alloc, r->block, r->block_size); }

void bind_truncate_rules(tw_bind *b, uint32_t keep)
{
    if (keep >= b->rule_count) return;
    uint32_t o = 0;
    for (uint32_t i = 0; i < b->inst_count; i++)
        if (b->insts[i].rule < keep) b->insts[o++] = b->insts[i];
    b->inst_count = o;
    for (uint32_t i = keep; i < b->rule_count; i++) free_rule(b, &b->rules[i]);
    b->rule_count = keep;
    relink_all(b);
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

tw_status tw_bind_new(tw_ecs_world *w, const tw_bind_desc *desc, tw_bind **out, tw_diag *diag)
{
    TW_CHECK(w != NULL && out != NULL, "tw_bind_new needs a world and an out pointer.");
    *out = NULL;
    tw_bind_desc d = desc ? *desc : (tw_bind_desc){ 0 };
    tw_allocator a = tw_allocator_or_default(d.allocator ? d.allocator : tw_ecs_world_allocator(w));
    if (!(d.reorder_window >= 0) || !isfinite(d.reorder_window)) {
        tw_diag_set(diag, "reorder_window must be a finite number of seconds, 0 or more");
        return TW_ERR_INVALID;
    }
    tw_bind *b = tw_calloc(&a, 1, sizeof *b);
    if (!b) {
        tw_diag_set(diag, "out of memory creating the binder");
        return TW_ERR_NOMEM;
    }
    b->alloc = a;
    if (d.log) b->log = *d.log;
    b->world = w;
    b->window = d.reorder_window;
    b->anchor_mode = d.anchor;
    b->anchor_fixed = d.anchor_time;
    b->scene_start = d.scene_start;
    b->anchor = NAN;
    b->stale_check_after = -INFINITY;
    b->frontier = -INFINITY;
    b->newest = -INFINITY;
    b->keep_applied = d.keep_applied;
    bind_queue_init(&b->queue, &b->alloc);
    tw_bind_sensors_desc sd = { &b->alloc, d.max_sensors, on_new_sensor, b };
    b->sensors = tw_bind_sensors_new(&sd);
    b->batch = tw_alloc(&b->alloc, BATCH * sizeof *b->batch);
    b->batch_cap = BATCH;
    if (!b->sensors || !b->batch || tw_grow(&b->alloc, (void **)&b->lanes, &b->lane_cap, 1, sizeof *b->lanes) ||
        bind_queue_set_lanes(&b->queue, 1) != TW_OK || ensure_sensor_slot(b, 0) != TW_OK) {
        tw_bind_free(b);
        tw_diag_set(diag, "out of memory creating the binder");
        return TW_ERR_NOMEM;
    }
    b->lane_count = 1;
    b->lanes[0] = (lane){ NULL, -INFINITY, false };
    *out = b;
    return TW_OK;
}

void tw_bind_free(tw_bind *b)
{
    if (!b) return;
    for (uint32_t i = 0; i < b->lane_count; i++) tw_bind_source_free(b->lanes[i].src);
    for (uint32_t i = 0; i < b->rule_count; i++) free_rule(b, &b->rules[i]);
    for (uint32_t i = 0; i < b->reader.string_count; i++) {
        char *s = b->reader.strings[i];
        tw_free(&b->alloc, s, strlen(s) + 1);
    }
    tw_free(&b->alloc, b->rules, b->rule_cap * sizeof *b->rules);
    tw_free(&b->alloc, b->insts, b->inst_cap * sizeof *b->insts);
    tw_free(&b->alloc, b->ss, b->ss_cap * sizeof *b->ss);
    tw_free(&b->alloc, b->lanes, b->lane_cap * sizeof *b->lanes);
    tw_free(&b->alloc, b->batch, (size_t)b->batch_cap * sizeof *b->batch);
    tw_free(&b->alloc, b->kept, b->kept_cap * sizeof *b->kept);
    bind_queue_fini(&b->queue);
    tw_bind_sensors_free(b->sensors);
    tw_allocator a = b->alloc;
    tw_free(&a, b, sizeof *b);
}

const tw_allocator *bind_allocator(const tw_bind *b) { return &b->alloc; }
tw_ecs_world *bind_world(const tw_bind *b) { return b->world; }

/* ---- rules ------------------------------------------------------------------------------------ */

static tw_status entity_not_found(const tw_bind *b, const char *path, tw_diag *diag)
{
    /* "Did you mean": the closest path among the world's entities. */
    uint32_t cap = tw_ecs_entity_capacity(b->world);
    const char *best = NULL;
    int best_d = 1 << 30;
    char buf[TW_ECS_PATH_MAX], best_buf[TW_ECS_PATH_MAX];
    for (uint32_t i = 0; i < cap; i++) {
        tw_entity e = tw_ecs_entity_at(b->world, i);
        if (tw_entity_is_null(e) || tw_ecs_entity_path(b->world, e, buf, sizeof buf) < 0) continue;
        int d = tw_edit_distance(path, buf);
        if (d < best_d) {
            best_d = d;
            memcpy(best_buf, buf, sizeof buf);
            best = best_buf;
        }
    }
    size_t n = strlen(path);
    int limit = (int)(n / 3 > 2 ? n / 3 : 2);
    if (best && best_d <= limit)
        tw_diag_set(diag, "no entity \"%s\" (did you mean \"%s\"?)", path, best);
    else
        tw_diag_set(diag, "no entity \"%s\" in the scene", path);
    return TW_ERR_NOT_FOUND;
}

static bool finite_or_inf(double v) { return !isnan(v); }

static tw_status check_rule(tw_bind *b, const tw_bind_rule *r, rule_rec *rec, tw_diag *diag)
{
    if ((r->sensor == NULL) == (r->topic == NULL)) {
        tw_diag_set(diag, "a binding names either a sensor or a topic pattern (one of the two)");
        return TW_ERR_INVALID;
    }
    if (r->sensor && (!r->sensor[0] || strlen(r->sensor) > TW_BIND_SENSOR_NAME_MAX)) {
        tw_diag_set(diag, "a sensor id is 1 to %d bytes long", TW_BIND_SENSOR_NAME_MAX);
        return TW_ERR_INVALID;
    }
    if (!r->entity || !r->entity[0]) {
        tw_diag_set(diag, "a binding needs an entity path");
        return TW_ERR_INVALID;
    }
    if (!r->field || !r->field[0]) {
        tw_diag_set(diag, "a binding needs a field, such as \"Thermal.temperature\"");
        return TW_ERR_INVALID;
    }
    char msg[256];
    if (r->topic && !bind_pattern_check(r->topic, msg, sizeof msg)) {
        tw_diag_set(diag, "%s", msg);
        return TW_ERR_INVALID;
    }
    if (r->topic) {
        /* Every {name} in the entity path must be captured by the pattern. */
        for (const char *p = strchr(r->entity, '{'); p; p = strchr(p + 1, '{')) {
            const char *e = strchr(p, '}');
            if (!e || capture_index(r->topic, p + 1, (size_t)(e - p - 1)) < 0) {
                tw_diag_set(diag, "the entity path \"%s\" uses a capture the topic pattern \"%s\" does not have",
                            r->entity, r->topic);
                return TW_ERR_INVALID;
            }
        }
    } else if (strchr(r->entity, '{')) {
        tw_diag_set(diag, "the entity path \"%s\" uses a {capture}, which only a topic pattern gives", r->entity);
        return TW_ERR_INVALID;
    }
    tw_status st = tw_ecs_field_resolve(b->world, r->field, &rec->ref, diag);
    if (st != TW_OK) return st;
    const tw_field *f = rec->ref.field;
    if (f->type == TW_TYPE_STR || f->type == TW_TYPE_ENTITY) {
        tw_diag_set(diag, "%s is a %s field; a binding needs a numeric one", r->field, tw_type_name(f->type));
        return TW_ERR_INVALID;
    }
    /* Units: the field's unit decides the target. */
    uint8_t uf = bind_unit_of_field(f->unit);
    uint8_t uu = r->unit && r->unit[0] ? tw_bind_unit_lookup(r->unit, strlen(r->unit)) : TW_BIND_UNIT_NONE;
    double ck = 1.0, cc = 0.0;
    if (uu == TW_BIND_UNIT_UNKNOWN) {
        if (!(f->unit && strcmp(f->unit, r->unit) == 0)) {
            tw_diag_set(diag, "unknown unit \"%s\" (known: K degC degF W kW Wh kWh J ppm %% and more; see docs/telemetry.md)",
                        r->unit);
            return TW_ERR_INVALID;
        }
        uu = TW_BIND_UNIT_NONE; /* the field's own unusual unit: no conversion */
    }
    uint8_t target = uf == TW_BIND_UNIT_UNKNOWN ? TW_BIND_UNIT_NONE : uf;
    if (uu != TW_BIND_UNIT_NONE) {
        if (uf == TW_BIND_UNIT_NONE) {
            if (!bind_unit_is_ratio(uu)) {
                tw_diag_set(diag, "%s has no unit, so a measurement in %s cannot be converted; leave \"unit\" out to "
                            "take the value as it is",
                            r->field, r->unit);
                return TW_ERR_INVALID;
            }
            target = tw_bind_unit_lookup("1", 1); /* a plain number: fractions from %, counts */
        } else if (uf == TW_BIND_UNIT_UNKNOWN) {
            tw_diag_set(diag, "%s is in %s, which twin cannot convert %s to", r->field, f->unit, r->unit);
            return TW_ERR_INVALID;
        }
        if (!tw_bind_unit_conversion(uu, target, &ck, &cc)) {
            tw_diag_set(diag, "unit mismatch: %s cannot be converted to %s, the unit of %s", r->unit,
                        f->unit ? f->unit : "1", r->field);
            return TW_ERR_INVALID;
        }
    }
    rec->unit_from = uu != TW_BIND_UNIT_NONE ? uu : target;
    rec->unit_target = target;
    double scale = r->scale == 0.0 ? 1.0 : r->scale;
    if (!isfinite(scale) || !isfinite(r->offset)) {
        tw_diag_set(diag, "scale and offset must be finite numbers");
        return TW_ERR_INVALID;
    }
    rec->k = scale * ck;
    rec->c = r->offset * ck + cc;
    if (r->has_range && (!finite_or_inf(r->range_min) || !finite_or_inf(r->range_max) || r->range_min > r->range_max)) {
        tw_diag_set(diag, "the range [%g, %g] is empty or not numbers", r->range_min, r->range_max);
        return TW_ERR_INVALID;
    }
    if ((unsigned)r->out_of_range > TW_BIND_RANGE_CLAMP || (unsigned)r->mode > TW_BIND_OBSERVE) {
        tw_diag_set(diag, "out_of_range or mode has an unknown value");
        return TW_ERR_INVALID;
    }
    if (!(r->deadband >= 0 && isfinite(r->deadband))) {
        tw_diag_set(diag, "deadband must be 0 or more");
        return TW_ERR_INVALID;
    }
    if (!(r->smoothing_alpha >= 0 && r->smoothing_alpha <= 1) || !(r->smoothing_tau >= 0 && isfinite(r->smoothing_tau))) {
        tw_diag_set(diag, "smoothing alpha must be in (0, 1] and tau 0 or more seconds");
        return TW_ERR_INVALID;
    }
    if (r->smoothing_alpha > 0 && r->smoothing_tau > 0) {
        tw_diag_set(diag, "give smoothing either as alpha or as tau, not both");
        return TW_ERR_INVALID;
    }
    if (!(r->gain >= 0 && r->gain <= 1)) {
        tw_diag_set(diag, "gain must be in (0, 1]");
        return TW_ERR_INVALID;
    }
    if (!(r->stale_after >= 0 && isfinite(r->stale_after))) {
        tw_diag_set(diag, "stale_after must be 0 or more seconds");
        return TW_ERR_INVALID;
    }
    return TW_OK;
}

static bool copy_rule_strings(tw_bind *b, const tw_bind_rule *r, rule_rec *rec)
{
    const char *src[5] = { r->sensor, r->topic, r->entity, r->field, r->unit };
    size_t total = 0;
    for (int i = 0; i < 5; i++) total += src[i] ? strlen(src[i]) + 1 : 0;
    rec->block = tw_alloc(&b->alloc, total);
    if (!rec->block) return false;
    rec->block_size = total;
    const char *dst[5] = { NULL };
    size_t o = 0;
    for (int i = 0; i < 5; i++) {
        if (!src[i]) continue;
        size_t l = strlen(src[i]) + 1;
        memcpy(rec->block + o, src[i], l);
        dst[i] = rec->block + o;
        o += l;
    }
    rec->rule.sensor = dst[0];
    rec->rule.topic = dst[1];
    rec->rule.entity = dst[2];
    rec->rule.field = dst[3];
    rec->rule.unit = dst[4];
    return true;
}

tw_status tw_bind_add_rule(tw_bind *b, const tw_bind_rule *rule, tw_diag *diag)
{
    TW_CHECK(b != NULL && rule != NULL, "tw_bind_add_rule needs a binder and a rule.");
    rule_rec rec;
    memset(&rec, 0, sizeof rec);
    tw_status st = check_rule(b, rule, &rec, diag);
    if (st != TW_OK) return st;
    tw_entity e = TW_ENTITY_NULL;
    if (rule->sensor) {
        e = tw_ecs_lookup_path(b->world, rule->entity);
        if (tw_entity_is_null(e)) return entity_not_found(b, rule->entity, diag);
        if (!tw_ecs_has(b->world, e, rec.ref.component)) {
            const tw_ecs_component_info *ci = tw_ecs_component_get_info(b->world, rec.ref.component);
            tw_diag_set(diag, "entity \"%s\" has no %s component", rule->entity, ci ? ci->name : "such");
            return TW_ERR_NOT_FOUND;
        }
    }
    if (tw_grow(&b->alloc, (void **)&b->rules, &b->rule_cap, (size_t)b->rule_count + 1, sizeof *b->rules)) {
        tw_diag_set(diag, "out of memory adding a binding");
        return TW_ERR_NOMEM;
    }
    rec.rule = *rule;
    if (rec.rule.scale == 0.0) rec.rule.scale = 1.0;
    if (rec.rule.gain == 0.0) rec.rule.gain = 0.25;
    if (!rec.rule.has_range) {
        rec.rule.range_min = -INFINITY;
        rec.rule.range_max = INFINITY;
    }
    rec.is_pattern = rule->topic != NULL;
    if (!copy_rule_strings(b, rule, &rec)) {
        tw_diag_set(diag, "out of memory adding a binding");
        return TW_ERR_NOMEM;
    }
    uint32_t ri = b->rule_count;
    b->rules[ri] = rec;
    b->rule_count++;
    if (rule->sensor) {
        uint32_t id;
        st = tw_bind_sensors_intern(b->sensors, rec.rule.sensor, strlen(rec.rule.sensor), &id);
        if (st == TW_OK && id == TW_BIND_SENSOR_OTHER) {
            tw_diag_set(diag, "too many distinct sensor ids (raise max_sensors)");
            st = TW_ERR_LIMIT;
        }
        if (st == TW_OK) st = add_inst(b, ri, id, e);
    } else {
        /* Sensors seen before this rule get their bindings now. */
        uint32_t n = tw_bind_sensors_count(b->sensors);
        for (uint32_t id = 1; id <= n && st == TW_OK; id++) {
            const char *name = tw_bind_sensors_name(b->sensors, id);
            st = match_pattern(b, ri, id, name, strlen(name));
        }
    }
    if (st != TW_OK) {
        bind_truncate_rules(b, ri);
        if (st == TW_ERR_NOMEM) tw_diag_set(diag, "out of memory adding a binding");
        return st;
    }
    return TW_OK;
}

uint32_t tw_bind_rule_count(const tw_bind *b) { return b->rule_count; }
const tw_bind_rule *tw_bind_rule_get(const tw_bind *b, uint32_t i) { return i < b->rule_count ? &b->rules[i].rule : NULL; }

/* ---- inputs ---------------------------------------------------------------------------------- */

tw_bind_sensors *tw_bind_get_sensors(tw_bind *b) { return b->sensors; }

tw_bind_source_desc tw_bind_reader_defaults(const tw_bind *b)
{
    tw_bind_source_desc d = b->reader.desc;
    d.path = NULL;
    d.use_fd = false;
    d.data = NULL;
    d.size = 0;
    d.name = NULL;
    d.sensors = b->sensors;
    d.allocator = &b->alloc;
    d.log = &b->log;
    return d;
}

void bind_set_reader_settings(tw_bind *b, bind_reader_settings *rs)
{
    for (uint32_t i = 0; i < b->reader.string_count; i++) {
        char *s = b->reader.strings[i];
        tw_free(&b->alloc, s, strlen(s) + 1);
    }
    b->reader = *rs;
    memset(rs, 0, sizeof *rs);
}

void bind_apply_file_settings(tw_bind *b, const bind_file_settings *fs)
{
    if (fs->has_window) b->window = fs->reorder_window;
    if (fs->has_anchor && !b->anchored) {
        b->anchor_mode = fs->anchor;
        b->anchor_fixed = fs->anchor_scene ? b->scene_start : fs->anchor_time;
    }
}

tw_status tw_bind_add_source(tw_bind *b, tw_bind_source *src)
{
    TW_CHECK(b != NULL && src != NULL, "tw_bind_add_source needs a binder and a source.");
    TW_CHECK(tw_bind_source_sensors(src) == b->sensors,
             "a source added to a binder must intern into the binder's sensor table (tw_bind_get_sensors).");
    if (b->lane_count >= UINT32_MAX - 1 ||
        tw_grow(&b->alloc, (void **)&b->lanes, &b->lane_cap, (size_t)b->lane_count + 1, sizeof *b->lanes) ||
        bind_queue_set_lanes(&b->queue, b->lane_count + 1) != TW_OK) {
        tw_bind_source_free(src);
        return TW_ERR_NOMEM;
    }
    b->lanes[b->lane_count++] = (lane){ src, -INFINITY, false };
    return TW_OK;
}

tw_status tw_bind_open(tw_bind *b, const char *path, tw_diag *diag)
{
    TW_CHECK(b != NULL && path != NULL, "tw_bind_open needs a binder and a path.");
    tw_bind_source_desc d = tw_bind_reader_defaults(b);
    d.path = path;
    tw_bind_source *src;
    tw_status st = tw_bind_source_open(&d, &src, diag);
    if (st != TW_OK) return st;
    st = tw_bind_add_source(b, src);
    if (st != TW_OK) tw_diag_set(diag, "out of memory adding %s", path);
    return st;
}

/* ---- intake ------------------------------------------------------------------------------------- */

static inline void reject(tw_bind *b, tw_bind_reject why)
{
    b->c.rejected++;
    b->c.rejected_by[why]++;
}

static tw_status intake(tw_bind *b, tw_bind_sample *s)
{
    b->c.received++;
    if (s->kind == TW_BIND_SAMPLE_MALFORMED) {
        reject(b, s->reason < TW_BIND_REJECT_COUNT ? (tw_bind_reject)s->reason : TW_BIND_REJECT_LINE);
        return TW_OK;
    }
    if (s->kind == TW_BIND_SAMPLE_IGNORED) {
        b->c.ignored++;
        return TW_OK;
    }
    uint32_t id = s->sensor;
    sensor_state *ss = id < b->ss_count ? &b->ss[id] : NULL;
    if (!ss || !ss->first) {
        b->c.unknown_sensor++;
        if (ss)
            ss->unknown++;
        else
            b->other_unknown++;
        return TW_OK;
    }
    if (s->quality == TW_BIND_SAMPLE_BAD) {
        reject(b, TW_BIND_REJECT_QUALITY);
        return TW_OK;
    }
    if (isnan(s->value)) {
        reject(b, TW_BIND_REJECT_NAN);
        return TW_OK;
    }
    if (isinf(s->value)) {
        reject(b, TW_BIND_REJECT_INF);
        return TW_OK;
    }
    if (!isfinite(s->time)) {
        reject(b, TW_BIND_REJECT_TIME);
        return TW_OK;
    }
    lane *l = &b->lanes[s->lane];
    if (s->time < l->watermark - b->window) {
        b->c.late++;
        b->c.late_window++;
        return TW_OK;
    }
    if (s->time <= b->frontier) {
        b->c.late++;
        b->c.late_applied++;
        return TW_OK;
    }
    if (bind_queue_push(&b->queue, s) != TW_OK) {
        b->c.received--; /* not taken in: the caller hears TW_ERR_NOMEM */
        return TW_ERR_NOMEM;
    }
    if (s->time > l->watermark) l->watermark = s->time;
    if (s->time > b->newest) b->newest = s->time;
    b->c.pending++;
    return TW_OK;
}

tw_status tw_bind_push(tw_bind *b, const tw_bind_sample *samples, uint32_t count)
{
    TW_CHECK(b != NULL && (samples != NULL || count == 0), "tw_bind_push needs a binder and samples.");
    tw_status result = TW_OK;
    for (uint32_t i = 0; i < count; i++) {
        tw_bind_sample s = samples[i];
        s.lane = 0;
        s.seq = ++b->push_seq;
        if (intake(b, &s) != TW_OK) result = TW_ERR_NOMEM;
    }
    return result;
}

/* Reads one batch from lane li into the queue. Returns the source's status. */
static tw_status read_batch(tw_bind *b, uint32_t li, uint32_t *got)
{
    lane *l = &b->lanes[li];
    uint32_t n = 0;
    tw_status st = tw_bind_source_read(l->src, b->batch, b->batch_cap, &n);
    tw_status result = st;
    for (uint32_t i = 0; i < n; i++) {
        b->batch[i].lane = li;
        if (intake(b, &b->batch[i]) != TW_OK) result = TW_ERR_NOMEM;
    }
    tw_bind_source_state ss = tw_bind_source_get_state(l->src);
    if (ss == TW_BIND_SOURCE_END || ss == TW_BIND_SOURCE_FAILED) l->done = true;
    if (st != TW_OK) {
        l->done = true;
        tw_log_write(&b->log, TW_LOG_ERROR, "bind", "%s: the source stopped: %s", tw_bind_source_name(l->src),
                     tw_status_str(st));
    }
    *got = n;
    return result;
}

/* Reads lane li until its watermark passes horizon (files) or it has nothing now (live). */
static tw_status fill_lane(tw_bind *b, uint32_t li, double horizon)
{
    lane *l = &b->lanes[li];
    tw_status result = TW_OK;
    bool live = tw_bind_source_is_live(l->src);
    for (uint32_t rounds = 0; !l->done; rounds++) {
        if (!live && l->watermark > horizon) break;
        if (live && rounds >= 64) break; /* bound the work of one tick; the rest comes next tick */
        uint32_t n;
        tw_status st = read_batch(b, li, &n);
        if (st != TW_OK) result = st;
        if (n == 0) break; /* waiting (live) or ended */
    }
    return result;
}

tw_status tw_bind_prime(tw_bind *b, double *anchor)
{
    TW_CHECK(b != NULL, "tw_bind_prime needs a binder.");
    tw_status result = TW_OK;
    if (!b->anchored) {
        if (b->anchor_mode == TW_BIND_ANCHOR_FIXED) {
            b->anchor = b->anchor_fixed;
            b->anchored = true;
            b->stale_check_after = -INFINITY;
        } else {
            for (uint32_t i = 1; i < b->lane_count; i++) {
                lane *l = &b->lanes[i];
                if (tw_bind_source_is_live(l->src)) continue;
                while (!l->done && l->watermark == -INFINITY) {
                    uint32_t n;
                    tw_status st = read_batch(b, i, &n);
                    if (st != TW_OK) result = st;
                    if (n == 0) break;
                }
            }
            const tw_bind_sample *first = bind_queue_peek(&b->queue);
            if (first) {
                b->anchor = first->time;
                b->anchored = true;
                b->stale_check_after = -INFINITY;
            }
        }
    }
    if (anchor) *anchor = b->anchored ? b->anchor : NAN;
    return result;
}

/* ---- applying ------------------------------------------------------------------------------------ */

/* -1 when the binding took the sample, else a tw_bind_reject. 1 in *held for deadband. */
static int apply_inst(tw_bind *b, tw_ecs_world *w, inst *in, const tw_bind_sample *s, bool *clamped_out)
{
    double v;
    if (s->unit == TW_BIND_UNIT_NONE || s->unit == in->unit_from || in->unit_target == TW_BIND_UNIT_NONE) {
        v = s->value * in->k + in->c;
    } else {
        double ck, cc;
        if (s->unit == TW_BIND_UNIT_UNKNOWN || !tw_bind_unit_conversion(s->unit, in->unit_target, &ck, &cc))
            return TW_BIND_REJECT_UNIT;
        v = (s->value * in->scale + in->offset) * ck + cc;
    }
    bool clamped = false;
    if (in->has_range && (v < in->lo || v > in->hi)) {
        if (!in->clamp) return TW_BIND_REJECT_RANGE;
        v = v < in->lo ? in->lo : in->hi;
        clamped = true;
    }
    if (in->alpha > 0.0) {
        in->smooth = in->has_smooth ? in->smooth + in->alpha * (v - in->smooth) : v;
        in->has_smooth = true;
        v = in->smooth;
    } else if (in->tau > 0.0) {
        if (in->has_smooth) {
            double dt = s->time - in->smooth_time;
            double a = dt > 0.0 ? 1.0 - exp(-dt / in->tau) : 0.0;
            in->smooth += a * (v - in->smooth);
        } else {
            in->smooth = v;
            in->has_smooth = true;
        }
        in->smooth_time = s->time;
        v = in->smooth;
    }
    uint8_t quality = (clamped || s->quality == TW_BIND_SAMPLE_UNCERTAIN) ? TW_BIND_QUALITY_UNCERTAIN
                                                                          : TW_BIND_QUALITY_GOOD;
    if (in->has_value && in->deadband > 0.0 && fabs(v - in->last_value) < in->deadband) {
        /* Data keeps arriving (not stale), but the field keeps its value. */
        in->held++;
        in->last_time = s->time;
        in->quality = quality;
        *clamped_out = clamped;
        b->c.deadband_held++;
        return -1;
    }
    void *data = tw_ecs_get(w, in->entity, in->comp);
    if (!data) return TW_BIND_REJECT_TARGET;
    if (in->mode == TW_BIND_SET) {
        if (!tw_field_write_f64(data, in->field, in->element, v)) return TW_BIND_REJECT_TARGET;
    } else {
        double sim;
        if (!tw_field_read_f64(data, in->field, in->element, &sim)) return TW_BIND_REJECT_TARGET;
        double r = v - sim;
        if (in->mode == TW_BIND_ASSIMILATE && !tw_field_write_f64(data, in->field, in->element, sim + in->gain * r))
            return TW_BIND_REJECT_TARGET;
        in->res_count++;
        in->res_last = r;
        in->res_sum += r;
        in->res_sumsq += r * r;
    }
    in->has_value = true;
    in->last_value = v;
    in->last_time = s->time;
    in->quality = quality;
    *clamped_out = clamped;
    return -1;
}

static void apply_sample(tw_bind *b, tw_ecs_world *w, const tw_bind_sample *s)
{
    sensor_state *ss = &b->ss[s->sensor];
    b->c.pending--;
    if (s->time == ss->last_time) {
        b->c.duplicate++;
        if (s->value != ss->last_value) b->c.duplicate_conflict++;
        return;
    }
    ss->last_time = s->time;
    ss->last_value = s->value;
    bool taken = false, clamped_any = false;
    int first_reason = -1;
    for (uint32_t i = ss->first; i; i = b->insts[i - 1].next) {
        inst *in = &b->insts[i - 1];
        bool clamped = false;
        int r = apply_inst(b, w, in, s, &clamped);
        if (r < 0) {
            taken = true;
            in->applied++;
            if (clamped) {
                in->clamped++;
                clamped_any = true;
            }
        } else {
            in->rejected++;
            if (first_reason < 0) first_reason = r;
        }
    }
    if (taken) {
        b->c.applied++;
        if (clamped_any) b->c.clamped++;
        if (s->quality == TW_BIND_SAMPLE_UNCERTAIN) b->c.uncertain++;
    } else {
        reject(b, first_reason >= 0 ? (tw_bind_reject)first_reason : TW_BIND_REJECT_TARGET);
    }
}

static void update_stale(tw_bind *b, double now)
{
    uint64_t stale = 0;
    double next = INFINITY;
    bool always = false;
    for (uint32_t i = 0; i < b->inst_count; i++) {
        inst *in = &b->insts[i];
        if (in->stale_after <= 0.0) continue;
        double ref = !isnan(in->last_time) ? in->last_time : b->anchor;
        bool st = now - ref > in->stale_after;
        if (st && !in->stale) b->c.stale_events++;
        in->stale = st;
        stale += st;
        if (!st) {
            double deadline = ref + in->stale_after;
            if (isnan(deadline)) always = true; /* no anchor yet: check every time */
            else if (deadline < next) next = deadline;
        }
    }
    b->c.stale_fields = stale;
    /* A margin of a millisecond keeps rounding at the deadline on the
     * side of checking: the pass itself decides, exactly as before. */
    b->stale_check_after = always ? -INFINITY : next - 1e-3;
}

static tw_status keep_sample(tw_bind *b, const tw_bind_sample *s)
{
    if (b->kept_count == b->kept_cap &&
        tw_grow(&b->alloc, (void **)&b->kept, &b->kept_cap, b->kept_count + 1, sizeof *b->kept))
        return TW_ERR_NOMEM;
    b->kept[b->kept_count++] = *s;
    return TW_OK;
}

tw_status tw_bind_apply_until(tw_bind *b, tw_ecs_world *w, double t_sim)
{
    TW_CHECK(b != NULL && w != NULL, "tw_bind_apply_until needs a binder and a world.");
    TW_CHECK(!isnan(t_sim), "tw_bind_apply_until needs a simulated time, not NaN.");
    tw_status result = TW_OK;
    b->kept_count = 0;
    if (!b->anchored) result = tw_bind_prime(b, NULL);
    if (!b->anchored) {
        /* Live only, nothing yet: the first sample to arrive is "now". */
        for (uint32_t i = 1; i < b->lane_count; i++) {
            if (b->lanes[i].done) continue;
            tw_status st = fill_lane(b, i, INFINITY);
            if (st != TW_OK) result = st;
        }
        const tw_bind_sample *first = bind_queue_peek(&b->queue);
        if (!first) return result;
        b->anchor = first->time - t_sim;
        b->anchored = true;
        b->stale_check_after = -INFINITY;
    }
    double now = b->anchor + t_sim;
    double horizon = now + b->window;
    bool applied_any = false;
    for (uint32_t i = 1; i < b->lane_count; i++) {
        if (b->lanes[i].done) continue;
        tw_status st = fill_lane(b, i, horizon);
        if (st != TW_OK) result = st;
    }
    for (;;) {
        const tw_bind_sample *top = bind_queue_peek(&b->queue);
        if (!top || top->time > now) break;
        tw_bind_sample s;
        bind_queue_pop(&b->queue, &s);
        if (b->keep_applied && keep_sample(b, &s) != TW_OK) result = TW_ERR_NOMEM;
        apply_sample(b, w, &s);
        applied_any = true;
    }
    if (now > b->frontier) b->frontier = now;
    if (applied_any || !(now < b->stale_check_after)) update_stale(b, now);
    return result;
}

bool tw_bind_finished(const tw_bind *b)
{
    for (uint32_t i = 1; i < b->lane_count; i++)
        if (!b->lanes[i].done) return false;
    return b->queue.size == 0;
}

/* ---- queries ---------------------------------------------------------------------------------- */

double tw_bind_anchor_time(const tw_bind *b) { return b->anchored ? b->anchor : NAN; }

double tw_bind_data_end(const tw_bind *b)
{
    if (!b->anchored || b->newest == -INFINITY) return NAN;
    return b->newest - b->anchor;
}

const tw_bind_counters *tw_bind_get_counters(const tw_bind *b) { return &b->c; }

/* (count desc, name asc): is a before b? */
static bool unknown_before(uint64_t ca, const char *na, uint64_t cb, const char *nb)
{
    if (ca != cb) return ca > cb;
    return strcmp(na, nb) < 0;
}

uint32_t tw_bind_unknown_sensors(const tw_bind *b, tw_bind_sensor_count *out, uint32_t max)
{
    uint32_t total = b->other_unknown ? 1 : 0;
    for (uint32_t i = 1; i < b->ss_count; i++) total += b->ss[i].unknown != 0;
    /* Selection of the top max without allocating: each round takes the best
     * entry ranked after the previous round's pick. */
    uint64_t prev_c = 0;
    const char *prev_n = NULL;
    uint32_t k = 0;
    for (; k < max && k < total; k++) {
        uint64_t best_c = 0;
        const char *best_n = NULL;
        for (uint32_t i = 0; i < b->ss_count; i++) {
            uint64_t c = i ? b->ss[i].unknown : b->other_unknown;
            if (!c) continue;
            const char *n = i ? tw_bind_sensors_name(b->sensors, i) : "(other)";
            if (prev_n && !unknown_before(prev_c, prev_n, c, n)) continue;
            if (!best_n || unknown_before(c, n, best_c, best_n)) {
                best_c = c;
                best_n = n;
            }
        }
        if (!best_n) break;
        out[k].sensor = best_n;
        out[k].count = best_c;
        prev_c = best_c;
        prev_n = best_n;
    }
    return total;
}

uint32_t tw_bind_binding_count(const tw_bind *b) { return b->inst_count; }

bool tw_bind_binding_get(const tw_bind *b, uint32_t i, tw_bind_binding_info *out)
{
    if (i >= b->inst_count) return false;
    const inst *in = &b->insts[i];
    memset(out, 0, sizeof *out);
    out->sensor = tw_bind_sensors_name(b->sensors, in->sensor);
    out->field = b->rules[in->rule].rule.field;
    out->rule = in->rule;
    out->entity = in->entity;
    out->mode = (tw_bind_mode)in->mode;
    out->quality = in->stale ? TW_BIND_QUALITY_STALE : (tw_bind_quality)in->quality;
    out->last_time = in->last_time;
    out->last_value = in->has_value ? in->last_value : NAN;
    out->applied = in->applied;
    out->rejected = in->rejected;
    out->clamped = in->clamped;
    out->held = in->held;
    out->residual_count = in->res_count;
    out->residual_last = in->res_count ? in->res_last : NAN;
    out->residual_mean = in->res_count ? in->res_sum / (double)in->res_count : NAN;
    out->residual_rms = in->res_count ? sqrt(in->res_sumsq / (double)in->res_count) : NAN;
    return true;
}

tw_bind_quality tw_bind_entity_quality(const tw_bind *b, tw_entity e)
{
    tw_bind_quality worst = TW_BIND_QUALITY_NONE;
    for (uint32_t i = 0; i < b->inst_count; i++) {
        const inst *in = &b->insts[i];
        if (!tw_entity_eq(in->entity, e)) continue;
        tw_bind_quality q = in->stale ? TW_BIND_QUALITY_STALE : (tw_bind_quality)in->quality;
        if (q > worst) worst = q;
    }
    return worst;
}

uint32_t tw_bind_source_count(const tw_bind *b) { return b->lane_count - 1; }
tw_bind_source *tw_bind_source_at(const tw_bind *b, uint32_t i)
{
    return i + 1 < b->lane_count ? b->lanes[i + 1].src : NULL;
}

const tw_bind_sample *tw_bind_applied(const tw_bind *b, uint32_t *count)
{
    *count = (uint32_t)b->kept_count;
    return b->kept;
}

/* ---- summary.json ------------------------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void json_number(FILE *f, double v)
{
    if (!isfinite(v))
        fputs("null", f);
    else if (v == floor(v) && fabs(v) < 1e15)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%.10g", v);
}

tw_status tw_bind_write_json(const tw_bind *b, FILE *f, int indent)
{
    TW_CHECK(b != NULL && f != NULL, "tw_bind_write_json needs a binder and a file.");
    const tw_bind_counters *c = &b->c;
    int i1 = indent + 2, i2 = indent + 4;
    fprintf(f, "{\n");
    const struct { const char *name; uint64_t v; } top[] = {
        { "received", c->received },         { "applied", c->applied },     { "rejected", c->rejected },
        { "late", c->late },                 { "duplicate", c->duplicate }, { "unknown_sensor", c->unknown_sensor },
        { "ignored", c->ignored },           { "pending", c->pending },     { "stale_fields", c->stale_fields },
        { "stale_events", c->stale_events },
    };
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        fprintf(f, "%*s\"%s\": %llu,\n", i1, "", top[i].name, (unsigned long long)top[i].v);
    fprintf(f, "%*s\"rejected_by\": {", i1, "");
    for (int r = 0; r < TW_BIND_REJECT_COUNT; r++)
        fprintf(f, "%s\"%s\": %llu", r ? ", " : "", tw_bind_reject_name((tw_bind_reject)r),
                (unsigned long long)c->rejected_by[r]);
    fprintf(f, "},\n");
    fprintf(f,
            "%*s\"detail\": {\"clamped\": %llu, \"deadband_held\": %llu, \"uncertain\": %llu, \"late_window\": %llu, "
            "\"late_applied\": %llu, \"duplicate_conflict\": %llu, \"unresolved_sensors\": %llu},\n",
            i1, "", (unsigned long long)c->clamped, (unsigned long long)c->deadband_held,
            (unsigned long long)c->uncertain, (unsigned long long)c->late_window,
            (unsigned long long)c->late_applied, (unsigned long long)c->duplicate_conflict,
            (unsigned long long)c->unresolved_sensors);
    fprintf(f, "%*s\"reorder_window\": ", i1, "");
    json_number(f, b->window);
    fprintf(f, ",\n%*s\"anchor\": ", i1, "");
    if (b->anchored) {
        char iso[40];
        tw_time_format_iso8601(b->anchor, iso, sizeof iso);
        json_string(f, iso);
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\n%*s\"data_end\": ", i1, "");
    json_number(f, tw_bind_data_end(b));
    /* The ten most frequent unknown sensors. */
    tw_bind_sensor_count top_unknown[10];
    uint32_t nu = tw_bind_unknown_sensors(b, top_unknown, 10);
    fprintf(f, ",\n%*s\"unknown_sensors_distinct\": %u,\n%*s\"unknown_sensors\": [", i1, "", nu, i1, "");
    for (uint32_t i = 0; i < nu && i < 10; i++) {
        fprintf(f, "%s\n%*s{\"sensor\": ", i ? "," : "", i2, "");
        json_string(f, top_unknown[i].sensor);
        fprintf(f, ", \"count\": %llu}", (unsigned long long)top_unknown[i].count);
    }
    if (nu) fprintf(f, "\n%*s", i1, "");
    fputs("],\n", f);
    fprintf(f, "%*s\"sources\": [", i1, "");
    for (uint32_t i = 1; i < b->lane_count; i++) {
        const tw_bind_source *s = b->lanes[i].src;
        const tw_bind_source_stats *st = tw_bind_source_get_stats(s);
        fprintf(f, "%s\n%*s{\"name\": ", i > 1 ? "," : "", i2, "");
        json_string(f, tw_bind_source_name(s));
        fprintf(f,
                ", \"format\": \"%s\", \"lines\": %llu, \"records\": %llu, \"samples\": %llu, \"malformed\": %llu, "
                "\"ignored\": %llu, \"empty_cells\": %llu, \"errors\": %llu, \"state\": \"%s\", \"first_errors\": [",
                tw_bind_format_name(tw_bind_source_format(s)), (unsigned long long)st->lines,
                (unsigned long long)st->records, (unsigned long long)st->samples, (unsigned long long)st->malformed,
                (unsigned long long)st->ignored, (unsigned long long)st->empty_cells, (unsigned long long)st->errors,
                tw_bind_source_get_state(s) == TW_BIND_SOURCE_FAILED ? "failed"
                : tw_bind_source_get_state(s) == TW_BIND_SOURCE_END  ? "end"
                                                                     : "open");
        for (uint32_t k = 0; k < tw_bind_source_error_count(s); k++) {
            if (k) fputs(", ", f);
            json_string(f, tw_bind_source_error(s, k));
        }
        fprintf(f, "]}");
    }
    if (b->lane_count > 1) fprintf(f, "\n%*s", i1, "");
    fputs("],\n", f);
    fprintf(f, "%*s\"bindings\": [", i1, "");
    for (uint32_t i = 0; i < b->inst_count; i++) {
        tw_bind_binding_info info;
        tw_bind_binding_get(b, i, &info);
        char path[TW_ECS_PATH_MAX];
        if (tw_ecs_entity_path(b->world, info.entity, path, sizeof path) < 0) path[0] = '\0';
        fprintf(f, "%s\n%*s{\"sensor\": ", i ? "," : "", i2, "");
        json_string(f, info.sensor);
        fprintf(f, ", \"entity\": ");
        json_string(f, path);
        fprintf(f, ", \"field\": ");
        json_string(f, info.field);
        fprintf(f, ", \"mode\": \"%s\", \"quality\": \"%s\", \"applied\": %llu, \"rejected\": %llu, \"clamped\": %llu, "
                   "\"held\": %llu, \"last_value\": ",
                tw_bind_mode_name(info.mode), tw_bind_quality_name(info.quality), (unsigned long long)info.applied,
                (unsigned long long)info.rejected, (unsigned long long)info.clamped, (unsigned long long)info.held);
        json_number(f, info.last_value);
        if (info.residual_count) {
            fprintf(f, ", \"residual_count\": %llu, \"residual_mean\": ", (unsigned long long)info.residual_count);
            json_number(f, info.residual_mean);
            fprintf(f, ", \"residual_rms\": ");
            json_number(f, info.residual_rms);
        }
        fputc('}', f);
    }
    if (b->inst_count) fprintf(f, "\n%*s", i1, "");
    fprintf(f, "]\n%*s}", indent, "");
    return ferror(f) ? TW_ERR_IO : TW_OK;
}

/* ---- state for replay keyframes (twin/bind_state.h) --------------------------------------------- */

typedef struct state_out {
    const tw_allocator *alloc;
    unsigned char **buf;
    size_t *cap;
    size_t n;
    bool failed;
} state_out;

static void so_bytes(state_out *o, const void *p, size_t n)
{
    if (o->failed) return;
    if (o->n + n > *o->cap && tw_grow(o->alloc, (void **)o->buf, o->cap, o->n + n, 1)) {
        o->failed = true;
        return;
    }
    memcpy(*o->buf + o->n, p, n);
    o->n += n;
}

static void so_u64(state_out *o, uint64_t v, int bytes)
{
    unsigned char b8[8];
    for (int i = 0; i < bytes; i++) b8[i] = (unsigned char)(v >> (8 * i));
    so_bytes(o, b8, (size_t)bytes);
}

static void so_f64(state_out *o, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    so_u64(o, u, 8);
}

/* Has this binding anything a fresh one would not have? */
static bool inst_has_state(const inst *in)
{
    return in->has_value || in->has_smooth || in->stale || in->quality != TW_BIND_QUALITY_NONE ||
           !isnan(in->last_time);
}

tw_status tw_bind_state_save(const tw_bind *b, const tw_allocator *alloc, void **buf, size_t *cap, size_t *size)
{
    TW_CHECK(b != NULL && alloc != NULL && buf != NULL && cap != NULL && size != NULL,
             "tw_bind_state_save needs a binder, an allocator and a buffer (pointer, capacity, size).");
    state_out o = { alloc, (unsigned char **)buf, cap, 0, false };
    so_u64(&o, TW_BIND_STATE_MAGIC, 4);
    so_u64(&o, TW_BIND_STATE_VERSION, 4);
    so_u64(&o, b->anchored, 1);
    so_f64(&o, b->anchored ? b->anchor : 0.0);
    so_f64(&o, b->frontier);
    size_t count_at = o.n;
    so_u64(&o, 0, 4);
    uint32_t sensors = 0;
    for (uint32_t id = 1; id < b->ss_count; id++) {
        const sensor_state *ss = &b->ss[id];
        if (!ss->first) continue;
        uint32_t with_state = 0;
        for (uint32_t i = ss->first; i; i = b->insts[i - 1].next) with_state += inst_has_state(&b->insts[i - 1]);
        if (ss->last_time == -INFINITY && !with_state) continue;
        const char *name = tw_bind_sensors_name(b->sensors, id);
        size_t len = strlen(name);
        so_u64(&o, len, 2);
        so_bytes(&o, name, len);
        so_f64(&o, ss->last_time);
        so_f64(&o, ss->last_value);
        so_u64(&o, with_state, 4);
        for (uint32_t i = ss->first; i; i = b->insts[i - 1].next) {
            const inst *in = &b->insts[i - 1];
            if (!inst_has_state(in)) continue;
            so_u64(&o, in->rule, 4);
            so_u64(&o, (in->has_value ? 1u : 0u) | (in->has_smooth ? 2u : 0u) | (in->stale ? 4u : 0u), 1);
            so_u64(&o, in->quality, 1);
            so_f64(&o, in->last_time);
            so_f64(&o, in->last_value);
            so_f64(&o, in->smooth);
            so_f64(&o, in->smooth_time);
        }
        sensors++;
    }
    if (o.failed) return TW_ERR_NOMEM;
    for (int i = 0; i < 4; i++) (*o.buf)[count_at + (size_t)i] = (unsigned char)(sensors >> (8 * i));
    *size = o.n;
    return TW_OK;
}

typedef struct state_in {
    const unsigned char *p, *end;
    bool bad;
} state_in;

static uint64_t si_u64(state_in *s, int bytes)
{
    if (s->bad || (size_t)(s->end - s->p) < (size_t)bytes) {
        s->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)s->p[i] << (8 * i);
    s->p += bytes;
    return v;
}

static double si_f64(state_in *s)
{
    uint64_t u = si_u64(s, 8);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static void reset_state(tw_bind *b)
{
    for (uint32_t i = 0; i < b->inst_count; i++) {
        inst *in = &b->insts[i];
        in->has_value = in->has_smooth = in->stale = false;
        in->quality = TW_BIND_QUALITY_NONE;
        in->last_time = NAN;
        in->last_value = in->smooth = in->smooth_time = 0.0;
    }
    for (uint32_t i = 0; i < b->ss_count; i++) {
        b->ss[i].last_time = -INFINITY;
        b->ss[i].last_value = 0.0;
    }
    b->frontier = -INFINITY;
}

static tw_status state_bad(tw_bind *b, tw_diag *diag, tw_status st, const char *what)
{
    reset_state(b);
    tw_diag_set(diag, "the telemetry binder's saved state %s", what);
    return st;
}

tw_status tw_bind_state_load(tw_bind *b, const void *data, size_t size, tw_diag *diag)
{
    TW_CHECK(b != NULL && (data != NULL || size == 0), "tw_bind_state_load needs a binder and the saved bytes.");
    reset_state(b);
    state_in s = { data, (const unsigned char *)data + size, false };
    if (si_u64(&s, 4) != TW_BIND_STATE_MAGIC || s.bad) return state_bad(b, diag, TW_ERR_INVALID, "is not one (bad magic)");
    if (si_u64(&s, 4) != TW_BIND_STATE_VERSION) return state_bad(b, diag, TW_ERR_INVALID, "has a version this build does not read");
    bool anchored = si_u64(&s, 1) != 0;
    double anchor = si_f64(&s);
    double frontier = si_f64(&s);
    uint32_t sensors = (uint32_t)si_u64(&s, 4);
    if (s.bad) return state_bad(b, diag, TW_ERR_INVALID, "is cut short");
    for (uint32_t k = 0; k < sensors; k++) {
        size_t len = (size_t)si_u64(&s, 2);
        if (s.bad || len == 0 || len > TW_BIND_SENSOR_NAME_MAX || (size_t)(s.end - s.p) < len)
            return state_bad(b, diag, TW_ERR_INVALID, "has a malformed sensor name");
        const char *name = (const char *)s.p;
        s.p += len;
        uint32_t id;
        tw_status st = tw_bind_sensors_intern(b->sensors, name, len, &id);
        if (st != TW_OK) return state_bad(b, diag, st, st == TW_ERR_NOMEM ? "could not be loaded: out of memory" : "names a sensor the table refuses");
        if (id == TW_BIND_SENSOR_OTHER || ensure_sensor_slot(b, id) != TW_OK)
            return state_bad(b, diag, TW_ERR_NOMEM, "has more sensors than the binder can keep");
        sensor_state *ss = &b->ss[id];
        ss->last_time = si_f64(&s);
        ss->last_value = si_f64(&s);
        uint32_t n = (uint32_t)si_u64(&s, 4);
        if (s.bad) return state_bad(b, diag, TW_ERR_INVALID, "is cut short");
        for (uint32_t j = 0; j < n; j++) {
            uint32_t rule = (uint32_t)si_u64(&s, 4);
            unsigned flags = (unsigned)si_u64(&s, 1);
            unsigned quality = (unsigned)si_u64(&s, 1);
            double last_time = si_f64(&s), last_value = si_f64(&s), smooth = si_f64(&s), smooth_time = si_f64(&s);
            if (s.bad) return state_bad(b, diag, TW_ERR_INVALID, "is cut short");
            inst *in = NULL;
            for (uint32_t i = ss->first; i && !in; i = b->insts[i - 1].next)
                if (b->insts[i - 1].rule == rule) in = &b->insts[i - 1];
            if (!in || quality > TW_BIND_QUALITY_UNCERTAIN) {
                tw_log_write(&b->log, TW_LOG_ERROR, "bind",
                             "saved state: sensor \"%.*s\" has no binding made by rule %u here", (int)len, name, rule);
                return state_bad(b, diag, TW_ERR_INVALID,
                                 "names a binding these rules do not make (were the bindings changed since the recording?)");
            }
            in->has_value = flags & 1u;
            in->has_smooth = flags & 2u;
            in->stale = flags & 4u;
            in->quality = (uint8_t)quality;
            in->last_time = last_time;
            in->last_value = last_value;
            in->smooth = smooth;
            in->smooth_time = smooth_time;
        }
    }
    if (s.bad) return state_bad(b, diag, TW_ERR_INVALID, "is cut short");
    if (s.p != s.end) return state_bad(b, diag, TW_ERR_INVALID, "has bytes past its end");
    if (anchored) {
        b->anchor = anchor;
        b->anchored = true;
        b->stale_check_after = -INFINITY;
    }
    b->frontier = frontier;
    b->stale_check_after = -INFINITY;
    uint64_t stale = 0;
    for (uint32_t i = 0; i < b->inst_count; i++) stale += b->insts[i].stale;
    b->c.stale_fields = stale;
    return TW_OK;
}
