/* Loading twin-scene/1 files (docs/scene-format.md).
 *
 * The text is checked (NUL bytes, nesting) before cJSON parses it, and for
 * what cJSON accepts but JSON does not after. Positions come from json_pos.c,
 * which maps every node to its offset; the map is built only when an error
 * (or an integer too big for a double) needs it, since most loads never do.
 *
 * Entities are created in pass 1 in file order (parents before children);
 * entity references are only recorded there and resolved in pass 2, once
 * every path exists, so forward references work. KPIs come last because they
 * name entities and fields. Any error destroys every entity the load created
 * and frees everything; the first error is the one reported. */
#include "twin/scene.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_pos.h"
#include "twin/clock.h"
#include "twin/strmap.h"

enum { DEFAULT_MAX_DEPTH = 64 };

/* An entity field to fill once every entity exists. */
typedef struct pending_ref {
    tw_entity entity;
    tw_component component;
    uint32_t offset;      /* bytes from the component start to the tw_entity */
    const cJSON *node;    /* the path string */
} pending_ref;

typedef struct loader {
    tw_ecs_world *w;
    tw_allocator alloc;
    const char *text;
    size_t length;
    const cJSON *root;
    twj_map map;        /* node -> offset; built on first use */
    int map_state;      /* 0 not built, 1 built, -1 could not be built */
    tw_diag *diag;
    tw_scene *scene;
    tw_entity *created; /* every entity this load made, in creation order */
    size_t created_count, created_cap;
    pending_ref *refs;
    size_t ref_count, ref_cap;
    unsigned char *scratch; /* one component's worth of data while its fields are read */
    size_t scratch_size;
    const char *component_names[TW_ECS_MAX_COMPONENTS];
    uint32_t component_count;
} loader;

static const char *const top_keys[] = { "format", "name", "description", "simulation", "kpis", "bindings", "entities" };
static const char *const simulation_keys[] = { "dt", "duration", "seed", "start", "kpi_interval",
                                               "max_catchup_steps", "keyframe_interval" };
static const char *const kpi_keys[] = { "name", "field", "entity", "aggregate" };
static const char *const entity_keys[] = { "name", "kind", "external_id", "components", "children" };
static const char *const aggregate_names[] = { "value", "sum", "mean", "min", "max" };

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Unix seconds of 0001-01-01 and 9999-12-31T23:59:59Z: what ISO 8601 text can say. */
#define START_MIN (-62135596800.0)
#define START_MAX 253402300799.0

tw_scene_settings tw_scene_settings_default(void)
{
    tw_scene_settings s;
    s.dt = 0.1;
    s.duration = 86400.0;
    s.seed = 1;
    s.start_time = 1704067200.0; /* 2024-01-01T00:00:00Z */
    s.kpi_interval = 60.0;
    s.max_catchup_steps = 10;
    s.keyframe_interval = 60.0;
    return s;
}

const char *tw_scene_aggregate_name(tw_scene_aggregate a)
{
    if ((unsigned)a < COUNT_OF(aggregate_names)) return aggregate_names[a];
    return "unknown";
}

void tw_scene_fini(tw_scene *s)
{
    if (!s) return;
    tw_free(&s->alloc, s->kpis, (size_t)s->kpi_cap * sizeof *s->kpis);
    s->kpis = NULL;
    s->kpi_count = s->kpi_cap = 0;
    if (s->bindings) tw_free(&s->alloc, s->bindings, s->bindings_length + 1);
    s->bindings = NULL;
    s->bindings_length = 0;
}

/* ---- diagnostics ---------------------------------------------------------- */

/* Depth-first search for node from cur, appending segments to out. */
static bool path_to(const cJSON *cur, const cJSON *target, char *out, size_t size)
{
    if (cur == target) return true;
    size_t len = strlen(out);
    size_t i = 0;
    for (const cJSON *c = cur->child; c; c = c->next, i++) {
        if (cJSON_IsObject(cur))
            twj_path_key(out, size, c->string ? c->string : "");
        else
            snprintf(out + len, size - len, "[%zu]", i);
        if (path_to(c, target, out, size)) return true;
        out[len] = '\0';
    }
    return false;
}

static void node_path(const loader *L, const cJSON *node, char *out, size_t size)
{
    char buf[2048] = "$";
    if (L->root && node) path_to(L->root, node, buf, sizeof buf);
    size_t n = strlen(buf);
    if (n < size) {
        memcpy(out, buf, n + 1);
    } else {
        /* The end of a long path says more than its start. */
        size_t keep = size - 5;
        snprintf(out, size, "$...%s", buf + n - keep);
    }
}

static const char *type_name(const cJSON *n)
{
    if (!n) return "nothing";
    switch (n->type & 0xFF) {
    case cJSON_False:
    case cJSON_True: return "a boolean";
    case cJSON_NULL: return "null";
    case cJSON_Number: return "a number";
    case cJSON_String: return "a string";
    case cJSON_Array: return "an array";
    case cJSON_Object: return "an object";
    default: return "an unknown value";
    }
}

/* Builds the position map the first time it is needed. */
static bool ensure_map(loader *L)
{
    if (L->map_state == 0) {
        twj_error err;
        L->map_state = twj_map_build(&L->map, &L->alloc, L->text, L->length, L->root, &err) == TW_OK ? 1 : -1;
    }
    return L->map_state == 1;
}

static bool value_offset(loader *L, const cJSON *node, size_t *off)
{
    return node && ensure_map(L) && twj_map_value_offset(&L->map, node, off);
}

static bool key_offset(loader *L, const cJSON *node, size_t *off)
{
    return node && ensure_map(L) && twj_map_key_offset(&L->map, node, off);
}

/* Reports an error at node: at its key when at_key and it has one, else at
 * its value. Returns st so callers can `return fail(...)`. */
static tw_status failv(loader *L, tw_status st, const cJSON *node, bool at_key, const char *fmt, va_list ap)
{
    tw_diag *d = L->diag;
    size_t off;
    bool found = (at_key && key_offset(L, node, &off)) || value_offset(L, node, &off);
    if (found) twj_line_col(L->text, L->length, off, &d->line, &d->column);
    node_path(L, node, d->path, sizeof d->path);
    tw_diag_setv(d, fmt, ap);
    return st;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static tw_status fail(loader *L, tw_status st, const cJSON *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(L, st, node, false, fmt, ap);
    va_end(ap);
    return st;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static tw_status fail_key(loader *L, tw_status st, const cJSON *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(L, st, node, true, fmt, ap);
    va_end(ap);
    return st;
}

static tw_status fail_nomem(loader *L, const cJSON *node)
{
    return fail(L, TW_ERR_NOMEM, node, "out of memory while loading the scene");
}

/* Error at a byte offset of text that may not parse (syntax, limits). */
static tw_status fail_text(loader *L, tw_status st, const twj_error *e)
{
    twj_line_col(L->text, L->length, e->offset, &L->diag->line, &L->diag->column);
    twj_path_at(L->text, L->length, e->offset, L->diag->path, sizeof L->diag->path);
    tw_diag_set(L->diag, "%s", e->message);
    return st;
}

static int line_of(loader *L, const cJSON *node, bool key)
{
    size_t off = 0;
    int line = 0, col = 0;
    if ((key && key_offset(L, node, &off)) || value_offset(L, node, &off))
        twj_line_col(L->text, L->length, off, &line, &col);
    return line;
}

/* " (did you mean \"x\"?)" or "". */
static void suggest(char *out, size_t size, const char *word, const char *const *candidates, size_t count)
{
    const char *best = tw_closest_word(word, candidates, count);
    if (best)
        snprintf(out, size, " (did you mean \"%s\"?)", best);
    else
        out[0] = '\0';
}

static void join(char *out, size_t size, const char *const *words, size_t count)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count && n + 1 < size; i++) {
        int w = snprintf(out + n, size - n, "%s%s", i ? ", " : "", words[i]);
        if (w < 0) break;
        n = n + (size_t)w < size ? n + (size_t)w : size - 1;
    }
}

/* Every key of obj must be one of known, and appear once. */
static tw_status check_keys(loader *L, const cJSON *obj, const char *const *known, size_t count, const char *what)
{
    for (const cJSON *c = obj->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        size_t i = 0;
        while (i < count && strcmp(key, known[i]) != 0) i++;
        if (i == count) {
            char hint[96], list[256];
            suggest(hint, sizeof hint, key, known, count);
            join(list, sizeof list, known, count);
            return fail_key(L, TW_ERR_INVALID, c, "unknown key \"%s\" in %s%s; expected one of: %s", key, what, hint,
                            list);
        }
        for (const cJSON *p = obj->child; p != c; p = p->next)
            if (p->string && strcmp(p->string, key) == 0)
                return fail_key(L, TW_ERR_INVALID, c, "duplicate key \"%s\" (first given on line %d)", key,
                                line_of(L, p, true));
    }
    return TW_OK;
}

/* ---- typed values -------------------------------------------------------- */

static tw_status get_string(loader *L, const cJSON *n, size_t max_bytes, const char *what, const char **out)
{
    if (!cJSON_IsString(n) || !n->valuestring)
        return fail(L, TW_ERR_INVALID, n, "expected a string for %s, got %s", what, type_name(n));
    size_t len = strlen(n->valuestring);
    if (len > max_bytes)
        return fail(L, TW_ERR_INVALID, n, "%s is too long: %zu bytes, at most %zu fit", what, len, max_bytes);
    *out = n->valuestring;
    return TW_OK;
}

static tw_status get_number(loader *L, const cJSON *n, const char *what, double *out)
{
    if (!cJSON_IsNumber(n)) return fail(L, TW_ERR_INVALID, n, "expected a number for %s, got %s", what, type_name(n));
    if (!isfinite(n->valuedouble))
        return fail(L, TW_ERR_INVALID, n, "number out of range for %s: it does not fit a double", what);
    *out = n->valuedouble;
    return TW_OK;
}

/* The number's text as written ("4294967296", "2.5"), for exact reading and messages. */
static bool number_literal(loader *L, const cJSON *n, char *lit, size_t size)
{
    size_t off = 0, len = 0;
    if (!value_offset(L, n, &off)) return false;
    while (off + len < L->length && len < size - 1 && L->text[off + len] &&
           strchr("0123456789+-.eE", L->text[off + len]))
        len++;
    memcpy(lit, L->text + off, len);
    lit[len] = '\0';
    return true;
}

/* Reads an integer as sign and magnitude. A double holds every integer below
 * 2^53 exactly, which covers nearly all; beyond that (a large u64 seed) the
 * digits are read from the text. Integral forms such as 1e3 or 2.0 pass. */
static tw_status get_integer(loader *L, const cJSON *n, const char *what, int64_t lo, uint64_t hi, bool *negative,
                             uint64_t *magnitude)
{
    if (!cJSON_IsNumber(n))
        return fail(L, TW_ERR_INVALID, n, "expected an integer for %s, got %s", what, type_name(n));
    char lit[48];
    double v = n->valuedouble;
    bool neg = v < 0, overflow = false;
    uint64_t mag = 0;
    if (!isfinite(v) || v != floor(v)) {
        if (!number_literal(L, n, lit, sizeof lit)) snprintf(lit, sizeof lit, "%.17g", v);
        return fail(L, TW_ERR_INVALID, n, "expected an integer for %s, got %s", what, lit);
    }
    if (fabs(v) < 9007199254740992.0) {
        mag = (uint64_t)fabs(v);
    } else {
        if (!number_literal(L, n, lit, sizeof lit)) return fail_nomem(L, n);
        size_t len = strlen(lit);
        bool plain = len > (size_t)neg && strspn(lit + neg, "0123456789") == len - (size_t)neg;
        if (plain) {
            for (size_t i = (size_t)neg; i < len && !overflow; i++) {
                unsigned d = (unsigned)(lit[i] - '0');
                if (mag > (UINT64_MAX - d) / 10) overflow = true;
                else mag = mag * 10 + d;
            }
        } else if (fabs(v) >= 18446744073709551616.0) {
            overflow = true;
        } else {
            mag = (uint64_t)fabs(v);
        }
    }
    if (mag == 0) neg = false;
    bool below = neg && (lo >= 0 || mag > (uint64_t)-(lo + 1) + 1);
    if (overflow || below || (!neg && mag > hi)) {
        if (!number_literal(L, n, lit, sizeof lit)) snprintf(lit, sizeof lit, "%.17g", v);
        if (lo < 0)
            return fail(L, TW_ERR_INVALID, n, "integer %s is out of range for %s (%lld to %llu)", lit, what,
                        (long long)lo, (unsigned long long)hi);
        return fail(L, TW_ERR_INVALID, n, "integer %s is out of range for %s (0 to %llu)", lit, what,
                    (unsigned long long)hi);
    }
    *negative = neg;
    *magnitude = mag;
    return TW_OK;
}

static tw_status get_u64(loader *L, const cJSON *n, const char *what, uint64_t hi, uint64_t *out)
{
    bool neg;
    uint64_t mag;
    tw_status st = get_integer(L, n, what, 0, hi, &neg, &mag);
    if (!st) *out = mag;
    return st;
}

/* ---- fields by reflection ------------------------------------------------- */

static uint32_t field_count(const tw_field *f) { return f->count ? f->count : 1; }
static uint32_t field_tuple(const tw_field *f) { return f->tuple ? f->tuple : 1; }

/* One scalar (element * tuple + component) of f from n into data. */
static tw_status load_scalar(loader *L, const tw_ecs_component_info *info, const tw_field *f, tw_entity e,
                             unsigned char *data, uint32_t scalar, const cJSON *n)
{
    char what[TW_ECS_NAME_MAX * 2 + 8];
    snprintf(what, sizeof what, "%s.%s", info->name, f->name);
    size_t elem = tw_type_size(f->type);
    unsigned char *p = data + f->offset + (size_t)scalar * elem;
    tw_status st = TW_OK;
    switch (f->type) {
    case TW_TYPE_F32: {
        double v;
        if ((st = get_number(L, n, what, &v))) return st;
        /* IEEE conversion: rounds to nearest, and overflows to inf, caught below. */
        float x = (float)v;
        if (!isfinite(x))
            return fail(L, TW_ERR_INVALID, n, "number %g is out of range for %s (a 32-bit float)", v, what);
        memcpy(p, &x, sizeof x);
        return TW_OK;
    }
    case TW_TYPE_F64: {
        double v;
        if ((st = get_number(L, n, what, &v))) return st;
        memcpy(p, &v, sizeof v);
        return TW_OK;
    }
    case TW_TYPE_I32: {
        bool neg;
        uint64_t mag;
        if ((st = get_integer(L, n, what, INT32_MIN, INT32_MAX, &neg, &mag))) return st;
        int32_t x = neg ? (int32_t)(-(int64_t)mag) : (int32_t)mag;
        memcpy(p, &x, sizeof x);
        return TW_OK;
    }
    case TW_TYPE_U32: {
        uint64_t v;
        if ((st = get_u64(L, n, what, UINT32_MAX, &v))) return st;
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, sizeof x);
        return TW_OK;
    }
    case TW_TYPE_U64: {
        uint64_t v;
        if ((st = get_u64(L, n, what, UINT64_MAX, &v))) return st;
        memcpy(p, &v, sizeof v);
        return TW_OK;
    }
    case TW_TYPE_BOOL: {
        if (!cJSON_IsBool(n))
            return fail(L, TW_ERR_INVALID, n, "expected true or false for %s, got %s", what, type_name(n));
        uint8_t x = cJSON_IsTrue(n) ? 1 : 0;
        memcpy(p, &x, sizeof x);
        return TW_OK;
    }
    case TW_TYPE_ENUM: {
        char list[256];
        join(list, sizeof list, f->enum_names, f->enum_count);
        if (!cJSON_IsString(n))
            return fail(L, TW_ERR_INVALID, n, "expected a string for %s (one of: %s), got %s", what, list,
                        type_name(n));
        for (uint32_t i = 0; i < f->enum_count; i++) {
            if (strcmp(n->valuestring, f->enum_names[i]) == 0) {
                int32_t x = (int32_t)i;
                memcpy(p, &x, sizeof x);
                return TW_OK;
            }
        }
        char hint[96];
        suggest(hint, sizeof hint, n->valuestring, f->enum_names, f->enum_count);
        return fail(L, TW_ERR_INVALID, n, "unknown value \"%s\" for %s%s; expected one of: %s", n->valuestring, what,
                    hint, list);
    }
    case TW_TYPE_ENTITY: {
        tw_entity none = TW_ENTITY_NULL;
        memcpy(p, &none, sizeof none);
        if (cJSON_IsNull(n)) return TW_OK;
        if (!cJSON_IsString(n))
            return fail(L, TW_ERR_INVALID, n, "expected an entity path (a string) or null for %s, got %s", what,
                        type_name(n));
        if (n->valuestring[0] == '\0')
            return fail(L, TW_ERR_INVALID, n, "empty entity path for %s: use null for no entity", what);
        size_t len = strlen(n->valuestring);
        if (len >= TW_ECS_PATH_MAX)
            return fail(L, TW_ERR_LIMIT, n, "entity path for %s is too long: %zu bytes, at most %d", what, len,
                        TW_ECS_PATH_MAX - 1);
        size_t cap = L->ref_cap;
        if (tw_grow(&L->alloc, (void **)&L->refs, &cap, L->ref_count + 1, sizeof *L->refs)) return fail_nomem(L, n);
        L->ref_cap = cap;
        L->refs[L->ref_count++] = (pending_ref){ e, info->id, (uint32_t)(p - data), n };
        return TW_OK;
    }
    case TW_TYPE_STR: {
        if (!cJSON_IsString(n))
            return fail(L, TW_ERR_INVALID, n, "expected a string for %s, got %s", what, type_name(n));
        size_t len = strlen(n->valuestring), cap = field_count(f);
        if (len >= cap)
            return fail(L, TW_ERR_INVALID, n, "string too long for %s: %zu bytes, at most %zu fit", what, len,
                        cap - 1);
        memset(p, 0, cap);
        memcpy(p, n->valuestring, len);
        return TW_OK;
    }
    }
    return fail(L, TW_ERR_UNSUPPORTED, n, "%s has a field type the scene loader does not know", what);
}

static tw_status load_tuple(loader *L, const tw_ecs_component_info *info, const tw_field *f, tw_entity e,
                            unsigned char *data, uint32_t element, const cJSON *n)
{
    uint32_t tuple = field_tuple(f);
    int items = cJSON_IsArray(n) ? cJSON_GetArraySize(n) : -1;
    const char *what = f->type == TW_TYPE_ENTITY ? "entity paths" : f->type == TW_TYPE_BOOL ? "booleans" : "numbers";
    if (items < 0)
        return fail(L, TW_ERR_INVALID, n, "expected an array of %u %s for %s.%s, got %s", tuple, what, info->name,
                    f->name, type_name(n));
    if (items != (int)tuple)
        return fail(L, TW_ERR_INVALID, n, "expected an array of %u %s for %s.%s, got an array of %d", tuple, what,
                    info->name, f->name, items);
    uint32_t i = 0;
    for (const cJSON *c = n->child; c; c = c->next, i++) {
        tw_status st = load_scalar(L, info, f, e, data, element * tuple + i, c);
        if (st) return st;
    }
    return TW_OK;
}

/* Fills f from n; *elements is how many array elements were given (1 for a scalar). */
static tw_status load_field(loader *L, const tw_ecs_component_info *info, const tw_field *f, tw_entity e,
                            unsigned char *data, const cJSON *n, uint32_t *elements)
{
    uint32_t count = field_count(f), tuple = field_tuple(f);
    *elements = 1;
    if (f->type == TW_TYPE_STR || (count == 1 && tuple == 1)) return load_scalar(L, info, f, e, data, 0, n);
    if (count == 1) return load_tuple(L, info, f, e, data, 0, n);
    if (!cJSON_IsArray(n))
        return fail(L, TW_ERR_INVALID, n, "expected an array of up to %u %s for %s.%s, got %s", count,
                    tuple > 1 ? "arrays" : f->type == TW_TYPE_ENTITY ? "entity paths" : "values", info->name,
                    f->name, type_name(n));
    int items = cJSON_GetArraySize(n);
    if (items > (int)count)
        return fail(L, TW_ERR_LIMIT, n, "too many elements for %s.%s: %d given, it holds at most %u", info->name,
                    f->name, items, count);
    uint32_t i = 0;
    for (const cJSON *c = n->child; c; c = c->next, i++) {
        tw_status st = tuple > 1 ? load_tuple(L, info, f, e, data, i, c) : load_scalar(L, info, f, e, data, i, c);
        if (st) return st;
    }
    *elements = (uint32_t)items;
    return TW_OK;
}

static tw_status load_component(loader *L, tw_entity e, const tw_ecs_component_info *info, const cJSON *obj)
{
    unsigned char *data = L->scratch;
    memcpy(data, info->defaults, info->size);
    const cJSON *given[TW_ECS_MAX_FIELDS] = { 0 };
    uint32_t elements[TW_ECS_MAX_FIELDS] = { 0 };
    const char *names[TW_ECS_MAX_FIELDS];
    uint32_t name_count = 0;
    for (uint32_t i = 0; i < info->field_count && i < TW_ECS_MAX_FIELDS; i++)
        if (!(info->fields[i].flags & TW_FIELD_DERIVED)) names[name_count++] = info->fields[i].name;

    for (const cJSON *m = obj->child; m; m = m->next) {
        const char *key = m->string ? m->string : "";
        uint32_t idx = 0;
        const tw_field *f = tw_ecs_field_lookup(info, key, &idx);
        if (!f || idx >= TW_ECS_MAX_FIELDS) {
            char hint[96], list[384];
            suggest(hint, sizeof hint, key, names, name_count);
            join(list, sizeof list, names, name_count);
            return fail_key(L, TW_ERR_NOT_FOUND, m, "unknown field \"%s\" in %s%s; its fields are: %s", key,
                            info->name, hint, list);
        }
        if (given[idx])
            return fail_key(L, TW_ERR_INVALID, m, "duplicate key \"%s\" (first given on line %d)", key,
                            line_of(L, given[idx], true));
        if (f->flags & TW_FIELD_DERIVED)
            return fail_key(L, TW_ERR_INVALID, m,
                            "%s.%s is derived: the simulation computes it, so a scene cannot set it", info->name,
                            f->name);
        given[idx] = m;
        tw_status st = load_field(L, info, f, e, data, m, &elements[idx]);
        if (st) return st;
    }

    /* An array's length field follows from the array; given as well, it must agree. */
    for (uint32_t i = 0; i < info->field_count && i < TW_ECS_MAX_FIELDS; i++) {
        const tw_field *f = &info->fields[i];
        if (!f->len_field) continue;
        uint32_t li = 0;
        const tw_field *lf = tw_ecs_field_lookup(info, f->len_field, &li);
        if (!lf || lf->type != TW_TYPE_U32 || li >= TW_ECS_MAX_FIELDS) continue;
        uint32_t len;
        memcpy(&len, data + lf->offset, sizeof len);
        if (given[i]) {
            if (given[li] && len != elements[i])
                return fail(L, TW_ERR_INVALID, given[li],
                            "%s.%s is %u but %s has %u element%s: leave %s out, the array's length sets it",
                            info->name, lf->name, len, f->name, elements[i], elements[i] == 1 ? "" : "s",
                            lf->name);
            len = elements[i];
            memcpy(data + lf->offset, &len, sizeof len);
        } else if (given[li] && len > field_count(f)) {
            return fail(L, TW_ERR_LIMIT, given[li], "%s.%s is %u, but %s holds at most %u elements", info->name,
                        lf->name, len, f->name, field_count(f));
        }
    }
    void *dst = tw_ecs_get(L->w, e, info->id);
    if (!dst) return fail_nomem(L, obj);
    memcpy(dst, data, info->size);
    return TW_OK;
}

/* ---- entities ------------------------------------------------------------ */

static tw_status add_created(loader *L, tw_entity e, const cJSON *node)
{
    size_t cap = L->created_cap;
    if (tw_grow(&L->alloc, (void **)&L->created, &cap, L->created_count + 1, sizeof *L->created)) {
        tw_ecs_entity_destroy(L->w, e);
        return fail_nomem(L, node);
    }
    L->created_cap = cap;
    L->created[L->created_count++] = e;
    return TW_OK;
}

static tw_status load_entity(loader *L, const cJSON *obj, tw_entity parent, const cJSON *siblings)
{
    if (!cJSON_IsObject(obj))
        return fail(L, TW_ERR_INVALID, obj, "expected an entity (an object with a \"name\"), got %s", type_name(obj));
    tw_status st = check_keys(L, obj, entity_keys, COUNT_OF(entity_keys), "an entity");
    if (st) return st;

    const cJSON *jname = cJSON_GetObjectItemCaseSensitive(obj, "name");
    if (!jname) return fail(L, TW_ERR_INVALID, obj, "an entity needs a \"name\" (1 to 63 bytes, no '/')");
    const char *name;
    if ((st = get_string(L, jname, TW_ECS_NAME_MAX - 1, "an entity name", &name))) return st;
    if (name[0] == '\0') return fail(L, TW_ERR_INVALID, jname, "an entity name cannot be empty");
    if (strchr(name, '/'))
        return fail(L, TW_ERR_INVALID, jname, "entity name \"%s\" contains '/', which separates path parts", name);

    tw_kind kind = TW_KIND_NONE;
    const cJSON *jkind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    if (jkind) {
        const char *k;
        if ((st = get_string(L, jkind, 63, "an entity kind", &k))) return st;
        if (!tw_kind_from_name(k, &kind)) {
            const char *kinds[TW_KIND_COUNT];
            for (int i = 0; i < TW_KIND_COUNT; i++) kinds[i] = tw_kind_name((tw_kind)i);
            char hint[96], list[256];
            suggest(hint, sizeof hint, k, kinds, TW_KIND_COUNT);
            join(list, sizeof list, kinds, TW_KIND_COUNT);
            return fail(L, TW_ERR_INVALID, jkind, "unknown kind \"%s\"%s; expected one of: %s", k, hint, list);
        }
    }

    const char *external_id = NULL;
    const cJSON *jext = cJSON_GetObjectItemCaseSensitive(obj, "external_id");
    if (jext && (st = get_string(L, jext, TW_ECS_PATH_MAX - 1, "an external id", &external_id))) return st;

    tw_component comps[TW_ECS_MAX_COMPONENTS];
    const cJSON *comp_nodes[TW_ECS_MAX_COMPONENTS];
    uint32_t comp_count = 0;
    const cJSON *jcomps = cJSON_GetObjectItemCaseSensitive(obj, "components");
    if (jcomps) {
        if (!cJSON_IsObject(jcomps))
            return fail(L, TW_ERR_INVALID, jcomps,
                        "expected an object of components (name: {field: value}) for \"components\", got %s",
                        type_name(jcomps));
        for (const cJSON *c = jcomps->child; c; c = c->next) {
            const char *cname = c->string ? c->string : "";
            tw_component id = tw_ecs_component_lookup(L->w, cname);
            if (id.id == 0) {
                char hint[96];
                suggest(hint, sizeof hint, cname, L->component_names, L->component_count);
                return fail_key(L, TW_ERR_NOT_FOUND, c, "unknown component \"%s\"%s", cname, hint);
            }
            for (uint32_t i = 0; i < comp_count; i++)
                if (comps[i].id == id.id)
                    return fail_key(L, TW_ERR_INVALID, c, "duplicate component \"%s\" (first given on line %d)",
                                    cname, line_of(L, comp_nodes[i], true));
            if (!cJSON_IsObject(c))
                return fail(L, TW_ERR_INVALID, c, "expected an object of fields for component %s, got %s", cname,
                            type_name(c));
            if (comp_count == TW_ECS_MAX_COMPONENTS)
                return fail(L, TW_ERR_LIMIT, c, "too many components on one entity");
            comp_nodes[comp_count] = c;
            comps[comp_count++] = id;
        }
    }

    const cJSON *jchildren = cJSON_GetObjectItemCaseSensitive(obj, "children");
    if (jchildren && !cJSON_IsArray(jchildren))
        return fail(L, TW_ERR_INVALID, jchildren, "expected an array of entities for \"children\", got %s",
                    type_name(jchildren));

    tw_entity e = comp_count ? tw_ecs_entity_create_with(L->w, comps, comp_count) : tw_ecs_entity_create(L->w);
    if (tw_entity_is_null(e)) return fail_nomem(L, obj);
    if ((st = add_created(L, e, obj))) return st;

    if (!tw_entity_is_null(parent)) {
        st = tw_ecs_entity_set_parent(L->w, e, parent);
        if (st == TW_ERR_NOMEM) return fail_nomem(L, obj);
        if (st) return fail(L, st, obj, "cannot attach this entity to its parent (%s)", tw_status_str(st));
    }
    st = tw_ecs_entity_set_name(L->w, e, name);
    if (st == TW_ERR_NOMEM) return fail_nomem(L, jname);
    if (st) {
        /* The world refuses a name a sibling has; searching the file for that
         * sibling only on failure keeps big sibling lists linear. */
        for (const cJSON *s = siblings ? siblings->child : NULL; s && s != obj; s = s->next) {
            const cJSON *other = cJSON_IsObject(s) ? cJSON_GetObjectItemCaseSensitive(s, "name") : NULL;
            if (cJSON_IsString(other) && strcmp(other->valuestring, name) == 0)
                return fail(L, TW_ERR_INVALID, jname,
                            "duplicate name \"%s\": a sibling on line %d has it already (names are unique among "
                            "siblings)",
                            name, line_of(L, other, false));
        }
        if (tw_entity_is_null(parent) && !tw_entity_is_null(tw_ecs_lookup_path(L->w, name)))
            return fail(L, st, jname, "name \"%s\" is taken: the world already has a root entity of that name",
                        name);
        return fail(L, st, jname, "cannot name the entity \"%s\" (%s)", name, tw_status_str(st));
    }
    tw_ecs_entity_set_kind(L->w, e, kind);
    if (external_id && external_id[0]) {
        tw_entity other = tw_ecs_lookup_external_id(L->w, external_id);
        if (!tw_entity_is_null(other)) {
            char path[TW_ECS_PATH_MAX];
            if (tw_ecs_entity_path(L->w, other, path, sizeof path) < 0) snprintf(path, sizeof path, "?");
            return fail(L, TW_ERR_INVALID, jext, "external id \"%s\" is already used by \"%s\" (they are unique)",
                        external_id, path);
        }
        st = tw_ecs_entity_set_external_id(L->w, e, external_id);
        if (st == TW_ERR_NOMEM) return fail_nomem(L, jext);
        if (st) return fail(L, st, jext, "cannot set external id \"%s\" (%s)", external_id, tw_status_str(st));
    }

    for (uint32_t i = 0; i < comp_count; i++) {
        const tw_ecs_component_info *info = tw_ecs_component_get_info(L->w, comps[i]);
        if ((st = load_component(L, e, info, comp_nodes[i]))) return st;
    }

    if (jchildren)
        for (const cJSON *c = jchildren->child; c; c = c->next)
            if ((st = load_entity(L, c, e, jchildren))) return st;
    return TW_OK;
}

static tw_status resolve_refs(loader *L)
{
    for (size_t i = 0; i < L->ref_count; i++) {
        const pending_ref *r = &L->refs[i];
        const char *path = r->node->valuestring;
        tw_entity target = tw_ecs_lookup_path(L->w, path);
        if (tw_entity_is_null(target)) {
            if (path[0] == '/')
                return fail(L, TW_ERR_NOT_FOUND, r->node,
                            "dangling reference: no entity at path \"%s\" (paths start at a root name, with no "
                            "leading '/')",
                            path);
            return fail(L, TW_ERR_NOT_FOUND, r->node, "dangling reference: no entity at path \"%s\"", path);
        }
        unsigned char *data = tw_ecs_get(L->w, r->entity, r->component);
        if (!data) return fail_nomem(L, r->node);
        memcpy(data + r->offset, &target, sizeof target);
    }
    return TW_OK;
}

/* ---- simulation and KPIs -------------------------------------------------- */

static tw_status load_simulation(loader *L, const cJSON *sim)
{
    tw_scene_settings *s = &L->scene->settings;
    if (!cJSON_IsObject(sim))
        return fail(L, TW_ERR_INVALID, sim, "expected an object for \"simulation\", got %s", type_name(sim));
    tw_status st = check_keys(L, sim, simulation_keys, COUNT_OF(simulation_keys), "\"simulation\"");
    if (st) return st;
    const cJSON *n;
    if ((n = cJSON_GetObjectItemCaseSensitive(sim, "dt"))) {
        if ((st = get_number(L, n, "dt", &s->dt))) return st;
        if (!(s->dt > 0 && s->dt <= 10))
            return fail(L, TW_ERR_INVALID, n, "dt must be more than 0 and at most 10 seconds, got %g", s->dt);
    }
    if ((n = cJSON_GetObjectItemCaseSensitive(sim, "duration"))) {
        if ((st = get_number(L, n, "duration", &s->duration))) return st;
        if (s->duration < 0)
            return fail(L, TW_ERR_INVALID, n, "duration must be 0 or more seconds, got %g", s->duration);
    }
    if ((n = cJSON_GetObjectItemCaseSensitive(sim, "seed")) && (st = get_u64(L, n, "seed", UINT64_MAX, &s->seed)))
        return st;
    if ((n = cJSON_GetObjectItemCaseSensitive(sim, "start"))) {
        if (cJSON_IsString(n)) {
            if (tw_time_parse_iso8601(n->valuestring, &s->start_time) != 0)
                return fail(L, TW_ERR_INVALID, n,
                            "start \"%s\" is not an ISO 8601 time such as \"2024-06-03T08:00:00Z\"", n->valuestring);
        } else if (cJSON_IsNumber(n)) {
            if ((st = get_number(L, n, "start", &s->start_time))) return st;
        } else {
            return fail(L, TW_ERR_INVALID, n,
                        "expected an ISO 8601 time (a string) or Unix seconds (a number) for start, got %s",
                        type_name(n));
        }
        if (!(s->start_time >= START_MIN && s->start_time <= START_MAX))
            return fail(L, TW_ERR_INVALID, n, "start must lie in the years 1 to 9999");
    }
    if ((n = cJSON_GetObjectItemCaseSensitive(sim, "kpi_interval"))) {
        if ((st = get_number(L, n, "kpi_interval", &s->kpi_interval))) return st;
        if (!(s->kpi_interval > 0))
            return fail(L, TW_ERR_INVALID, n, "kpi_interval must be more than 0 seconds, got %g", s->kpi_interval);
    }
    if ((n = cJSON_GetObjectItemCaseSensitive(sim, "max_catchup_steps"))) {
        uint64_t v;
        if ((st = get_u64(L, n, "max_catchup_steps", UINT32_MAX, &v))) return st;
        if (v == 0) return fail(L, TW_ERR_INVALID, n, "max_catchup_steps must be at least 1");
        s->max_catchup_steps = (uint32_t)v;
    }
    if ((n = cJSON_GetObjectItemCaseSensitive(sim, "keyframe_interval"))) {
        if ((st = get_number(L, n, "keyframe_interval", &s->keyframe_interval))) return st;
        if (!(s->keyframe_interval >= s->dt && s->keyframe_interval <= 86400.0))
            return fail(L, TW_ERR_INVALID, n,
                        "keyframe_interval must be at least one tick (dt = %g s) and at most 86400 seconds, got %g",
                        s->dt, s->keyframe_interval);
    }
    return TW_OK;
}

static tw_status load_kpi(loader *L, const cJSON *obj)
{
    if (!cJSON_IsObject(obj))
        return fail(L, TW_ERR_INVALID, obj, "expected a KPI (an object with \"name\" and \"field\"), got %s",
                    type_name(obj));
    tw_status st = check_keys(L, obj, kpi_keys, COUNT_OF(kpi_keys), "a KPI");
    if (st) return st;
    tw_scene_kpi k;
    memset(&k, 0, sizeof k);
    const char *str;

    const cJSON *jname = cJSON_GetObjectItemCaseSensitive(obj, "name");
    if (!jname) return fail(L, TW_ERR_INVALID, obj, "a KPI needs a \"name\" (letters, digits, '_', '.', '-')");
    if ((st = get_string(L, jname, sizeof k.name - 1, "a KPI name", &str))) return st;
    if (!str[0] || strspn(str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(str))
        return fail(L, TW_ERR_INVALID, jname,
                    "KPI name \"%s\" must be 1 or more letters, digits, '_', '.' or '-' (it names a CSV column)",
                    str);
    for (uint32_t i = 0; i < L->scene->kpi_count; i++)
        if (strcmp(L->scene->kpis[i].name, str) == 0)
            return fail(L, TW_ERR_INVALID, jname, "duplicate KPI name \"%s\"", str);
    strcpy(k.name, str);

    const cJSON *jfield = cJSON_GetObjectItemCaseSensitive(obj, "field");
    if (!jfield) return fail(L, TW_ERR_INVALID, obj, "a KPI needs a \"field\" such as \"Thermal.temperature\"");
    if ((st = get_string(L, jfield, sizeof k.field - 1, "a KPI field", &str))) return st;
    tw_ecs_field_ref ref;
    tw_diag fd;
    tw_diag_clear(&fd);
    if ((st = tw_ecs_field_resolve(L->w, str, &ref, &fd)))
        return fail(L, st, jfield, "%s", fd.message[0] ? fd.message : "unknown field");
    if (ref.field->type == TW_TYPE_STR || ref.field->type == TW_TYPE_ENTITY)
        return fail(L, TW_ERR_INVALID, jfield, "KPI field %s is not a number (it is %s)", str,
                    tw_type_name(ref.field->type));
    strcpy(k.field, str);
    if (ref.field->unit) snprintf(k.unit, sizeof k.unit, "%s", ref.field->unit);

    const cJSON *jentity = cJSON_GetObjectItemCaseSensitive(obj, "entity");
    tw_entity target = TW_ENTITY_NULL;
    if (jentity) {
        if ((st = get_string(L, jentity, sizeof k.entity - 1, "a KPI entity", &str))) return st;
        if (str[0]) {
            target = tw_ecs_lookup_path(L->w, str);
            if (tw_entity_is_null(target))
                return fail(L, TW_ERR_NOT_FOUND, jentity, "dangling reference: no entity at path \"%s\"", str);
        }
        strcpy(k.entity, str);
    }

    k.aggregate = TW_SCENE_AGG_VALUE;
    const cJSON *jagg = cJSON_GetObjectItemCaseSensitive(obj, "aggregate");
    if (jagg) {
        if ((st = get_string(L, jagg, 63, "a KPI aggregate", &str))) return st;
        size_t i = 0;
        while (i < COUNT_OF(aggregate_names) && strcmp(str, aggregate_names[i]) != 0) i++;
        if (i == COUNT_OF(aggregate_names)) {
            char hint[96];
            suggest(hint, sizeof hint, str, aggregate_names, COUNT_OF(aggregate_names));
            return fail(L, TW_ERR_INVALID, jagg, "unknown aggregate \"%s\"%s; expected one of: value, sum, mean, min, max",
                        str, hint);
        }
        k.aggregate = (tw_scene_aggregate)i;
    }
    if (k.aggregate == TW_SCENE_AGG_VALUE) {
        if (tw_entity_is_null(target))
            return fail(L, TW_ERR_INVALID, jagg ? jagg : obj,
                        "aggregate \"value\" reads one entity: give \"entity\", or aggregate the whole world with sum, "
                        "mean, min or max");
        if (!tw_ecs_has(L->w, target, ref.component))
            return fail(L, TW_ERR_INVALID, jentity, "entity \"%s\" has no %s component, so it has no %s", k.entity,
                        tw_ecs_component_get_info(L->w, ref.component)->name, k.field);
    }

    size_t cap = L->scene->kpi_cap;
    if (tw_grow(&L->alloc, (void **)&L->scene->kpis, &cap, (size_t)L->scene->kpi_count + 1, sizeof k))
        return fail_nomem(L, obj);
    L->scene->kpi_cap = (uint32_t)cap;
    L->scene->kpis[L->scene->kpi_count++] = k;
    return TW_OK;
}

/* ---- bindings ---------------------------------------------------------------- */

/* End (one past the last byte) of the JSON value starting at text[i], which
 * the checks above have already proven to be standard JSON. */
static size_t value_end(const char *text, size_t length, size_t i)
{
    int depth = 0;
    while (i < length) {
        char c = text[i];
        if (c == '"') {
            for (i++; i < length && text[i] != '"'; i++)
                if (text[i] == '\\') i++;
            i++;
            if (depth == 0) return i;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth <= 0) return i + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
            return i;
        }
        i++;
    }
    return length;
}

/* The scene keeps its telemetry bindings as the text it was given: the
 * binder (engine/bind) owns their meaning and checks them against the world
 * when the app builds one, and keeping the bytes makes load -> save exact
 * without this module knowing the bindings format. */
static tw_status load_bindings(loader *L, const cJSON *node)
{
    if (!cJSON_IsObject(node) && !cJSON_IsArray(node) && !cJSON_IsString(node))
        return fail(L, TW_ERR_INVALID, node,
                    "expected the telemetry bindings for \"bindings\": an object (as in a twin-bindings/1 file), a "
                    "list of bindings, or the name of a bindings file; got %s",
                    type_name(node));
    if (cJSON_IsString(node) && node->valuestring[0] == '\0')
        return fail(L, TW_ERR_INVALID, node, "\"bindings\" names a bindings file, and the name is empty");
    size_t start;
    if (!value_offset(L, node, &start)) return fail_nomem(L, node);
    size_t end = value_end(L->text, L->length, start);
    size_t n = end - start;
    char *copy = tw_alloc(&L->alloc, n + 1);
    if (!copy) return fail_nomem(L, node);
    memcpy(copy, L->text + start, n);
    copy[n] = '\0';
    L->scene->bindings = copy;
    L->scene->bindings_length = n;
    return TW_OK;
}

/* ---- the document ---------------------------------------------------------- */

static tw_status load_document(loader *L)
{
    const cJSON *root = L->root;
    tw_status st;
    if (!cJSON_IsObject(root))
        return fail(L, TW_ERR_INVALID, root, "expected a JSON object at the top of a twin scene, got %s",
                    type_name(root));
    /* The format first: a file that is not a scene should say so, not
     * complain about its first unknown key. */
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!format) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
        if (cJSON_IsString(type) && strcmp(type->valuestring, "CityJSON") == 0)
            return fail(L, TW_ERR_INVALID, root,
                        "this is a CityJSON file, not a twin scene (no \"format\": \"" TW_SCENE_FORMAT
                        "\"); convert it with `twin import`");
        const cJSON *asset = cJSON_GetObjectItemCaseSensitive(root, "asset");
        if (cJSON_IsObject(asset) && cJSON_GetObjectItemCaseSensitive(asset, "version"))
            return fail(L, TW_ERR_INVALID, root,
                        "this looks like a glTF file, not a twin scene (no \"format\": \"" TW_SCENE_FORMAT
                        "\"); convert it with `twin import`");
        return fail(L, TW_ERR_INVALID, root,
                    "not a twin scene: the top-level object has no \"format\" key (a scene starts with "
                    "\"format\": \"" TW_SCENE_FORMAT "\")");
    }
    if (!cJSON_IsString(format))
        return fail(L, TW_ERR_INVALID, format, "expected the string \"" TW_SCENE_FORMAT "\" for \"format\", got %s",
                    type_name(format));
    if (strcmp(format->valuestring, TW_SCENE_FORMAT) != 0)
        return fail(L, TW_ERR_UNSUPPORTED, format,
                    "unsupported format \"%s\": this version of twin reads \"" TW_SCENE_FORMAT "\"",
                    format->valuestring);
    if ((st = check_keys(L, root, top_keys, COUNT_OF(top_keys), "the scene"))) return st;

    const cJSON *n;
    const char *str;
    if ((n = cJSON_GetObjectItemCaseSensitive(root, "name"))) {
        if ((st = get_string(L, n, sizeof L->scene->name - 1, "the scene name", &str))) return st;
        strcpy(L->scene->name, str);
    }
    if ((n = cJSON_GetObjectItemCaseSensitive(root, "description"))) {
        if ((st = get_string(L, n, sizeof L->scene->description - 1, "the description", &str))) return st;
        strcpy(L->scene->description, str);
    }
    if ((n = cJSON_GetObjectItemCaseSensitive(root, "simulation")) && (st = load_simulation(L, n))) return st;

    const cJSON *kpis = cJSON_GetObjectItemCaseSensitive(root, "kpis");
    if (kpis && !cJSON_IsArray(kpis))
        return fail(L, TW_ERR_INVALID, kpis, "expected an array of KPIs for \"kpis\", got %s", type_name(kpis));
    const cJSON *entities = cJSON_GetObjectItemCaseSensitive(root, "entities");
    if (entities) {
        if (!cJSON_IsArray(entities))
            return fail(L, TW_ERR_INVALID, entities, "expected an array of entities for \"entities\", got %s",
                        type_name(entities));
        for (const cJSON *c = entities->child; c; c = c->next)
            if ((st = load_entity(L, c, TW_ENTITY_NULL, entities))) return st;
    }
    if ((st = resolve_refs(L))) return st;
    if (kpis)
        for (const cJSON *c = kpis->child; c; c = c->next)
            if ((st = load_kpi(L, c))) return st;
    if ((n = cJSON_GetObjectItemCaseSensitive(root, "bindings")) && (st = load_bindings(L, n))) return st;
    return TW_OK;
}

tw_status tw_scene_load_text(tw_ecs_world *w, const char *text, size_t length, const char *filename,
                             const tw_scene_load_desc *desc, tw_scene *out, tw_diag *diag)
{
    TW_CHECK(w != NULL, "tw_scene_load_text needs a world: create one with tw_ecs_world_new and register its "
                        "components first.");
    TW_CHECK(out != NULL, "tw_scene_load_text needs a tw_scene to fill: pass its address as out.");
    TW_CHECK(text != NULL || length == 0, "tw_scene_load_text got a NULL text with a non-zero length.");
    TW_CHECK(!tw_ecs_is_deferred(w), "tw_scene_load_text cannot run while the world defers structural changes: "
                                     "load the scene outside tw_ecs_defer_begin/tw_ecs_defer_end.");
    tw_diag local_diag;
    if (!diag) diag = &local_diag;
    tw_diag_clear(diag);
    snprintf(diag->file, sizeof diag->file, "%s", filename ? filename : "<text>");

    loader L;
    memset(&L, 0, sizeof L);
    L.w = w;
    L.alloc = desc && desc->allocator && desc->allocator->fn ? *desc->allocator : *tw_ecs_world_allocator(w);
    L.text = text ? text : "";
    L.length = length;
    L.diag = diag;
    L.scene = out;
    memset(out, 0, sizeof *out);
    out->alloc = L.alloc;
    out->settings = tw_scene_settings_default();

    uint32_t max_depth = desc && desc->max_depth ? desc->max_depth : DEFAULT_MAX_DEPTH;
    twj_scan scan;
    twj_error jerr;
    tw_status st = twj_text_check(L.text, length, max_depth, &scan, &jerr);
    if (st) return fail_text(&L, st, &jerr);
    if (length == 0) {
        twj_describe_syntax_error(L.text, 0, 0, &scan, &jerr);
        return fail_text(&L, TW_ERR_PARSE, &jerr);
    }
    const char *end = L.text;
    cJSON *root = cJSON_ParseWithLengthOpts(L.text, length, &end, 0);
    if (!root) {
        size_t off = end >= L.text && end <= L.text + length ? (size_t)(end - L.text) : length;
        twj_describe_syntax_error(L.text, length, off, &scan, &jerr);
        return fail_text(&L, TW_ERR_PARSE, &jerr);
    }
    L.root = root;
    st = twj_check_tree(L.text, length, root, &jerr);
    if (st) {
        fail_text(&L, st, &jerr);
    } else {
        for (uint32_t i = 1; i <= tw_ecs_component_count(w) && L.component_count < TW_ECS_MAX_COMPONENTS; i++) {
            const tw_ecs_component_info *info = tw_ecs_component_get_info(w, (tw_component){ i });
            if (!info) continue;
            L.component_names[L.component_count++] = info->name;
            if (info->size > L.scratch_size) L.scratch_size = info->size;
        }
        L.scratch = tw_alloc(&L.alloc, L.scratch_size ? L.scratch_size : 1);
        st = L.scratch ? load_document(&L) : fail_nomem(&L, NULL);
    }

    if (st) {
        /* Children go with their parents; destroying a dead handle is a no-op. */
        for (size_t i = L.created_count; i-- > 0;) tw_ecs_entity_destroy(w, L.created[i]);
        tw_scene_fini(out);
    }
    tw_free(&L.alloc, L.scratch, L.scratch_size ? L.scratch_size : 1);
    tw_free(&L.alloc, L.created, L.created_cap * sizeof *L.created);
    tw_free(&L.alloc, L.refs, L.ref_cap * sizeof *L.refs);
    if (L.map_state == 1) twj_map_fini(&L.map);
    cJSON_Delete(root);
    return st;
}

tw_status tw_scene_load_file(tw_ecs_world *w, const char *path, const tw_scene_load_desc *desc, tw_scene *out,
                             tw_diag *diag)
{
    TW_CHECK(w != NULL, "tw_scene_load_file needs a world: create one with tw_ecs_world_new and register its "
                        "components first.");
    TW_CHECK(path != NULL, "tw_scene_load_file needs a path.");
    TW_CHECK(out != NULL, "tw_scene_load_file needs a tw_scene to fill: pass its address as out.");
    tw_diag local_diag;
    if (!diag) diag = &local_diag;
    tw_diag_clear(diag);
    snprintf(diag->file, sizeof diag->file, "%s", path);
    memset(out, 0, sizeof *out);
    tw_allocator alloc = desc && desc->allocator && desc->allocator->fn ? *desc->allocator : *tw_ecs_world_allocator(w);
    out->alloc = alloc;
    out->settings = tw_scene_settings_default();

    FILE *f = fopen(path, "rb");
    if (!f) {
        tw_diag_set(diag, "cannot open the scene file: %s", strerror(errno));
        return TW_ERR_IO;
    }
    /* Read in chunks rather than trusting a size from fseek: path may be a pipe. */
    char *buf = NULL;
    size_t len = 0, cap = 0;
    tw_status st = TW_OK;
    for (;;) {
        if (len + 65536 + 1 > cap && tw_grow(&alloc, (void **)&buf, &cap, len + 65536 + 1, 1)) {
            tw_diag_set(diag, "out of memory reading the scene file");
            st = TW_ERR_NOMEM;
            break;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                tw_diag_set(diag, "cannot read the scene file: %s", strerror(errno));
                st = TW_ERR_IO;
            }
            break;
        }
    }
    fclose(f);
    if (!st) {
        buf[len] = '\0';
        st = tw_scene_load_text(w, buf, len, path, desc, out, diag);
    }
    tw_free(&alloc, buf, cap);
    return st;
}
