/* Saving a world as a twin-scene/1 file in canonical form.
 *
 * The text is written by hand rather than through cJSON_Print, because the
 * canonical form fixes things cJSON does not let us choose: two-space indent,
 * key order, which keys appear, and floats printed with the fewest digits
 * that read back to the same value. Canonical form is what makes
 * load -> save byte-for-byte stable (docs/scene-format.md, "Canonical form"). */
#define _POSIX_C_SOURCE 200809L
#include "twin/scene.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "twin/clock.h"

#define START_MIN (-62135596800.0)
#define START_MAX 253402300799.0

typedef struct saver {
    const tw_ecs_world *w;
    tw_allocator alloc;
    char *buf;
    size_t len, cap;
    bool oom;
    tw_diag *diag;
    char path[1024]; /* JSON path of what is being written, for diagnostics */
} saver;

/* ---- the text writer ------------------------------------------------------ */

static void put(saver *S, const char *s, size_t n)
{
    if (S->oom) return;
    if (S->len + n + 1 > S->cap && tw_grow(&S->alloc, (void **)&S->buf, &S->cap, S->len + n + 1, 1)) {
        S->oom = true;
        return;
    }
    memcpy(S->buf + S->len, s, n);
    S->len += n;
    S->buf[S->len] = '\0';
}

static void puts_(saver *S, const char *s) { put(S, s, strlen(s)); }

static void indent(saver *S, int level)
{
    static const char spaces[] = "                                ";
    for (int n = level * 2; n > 0; n -= 32) put(S, spaces, n < 32 ? (size_t)n : 32);
}

static void put_string(saver *S, const char *s, size_t max)
{
    put(S, "\"", 1);
    size_t start = 0, i = 0;
    for (; i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put(S, s + start, i - start);
        char esc[8];
        switch (c) {
        case '"': memcpy(esc, "\\\"", 3); break;
        case '\\': memcpy(esc, "\\\\", 3); break;
        case '\n': memcpy(esc, "\\n", 3); break;
        case '\r': memcpy(esc, "\\r", 3); break;
        case '\t': memcpy(esc, "\\t", 3); break;
        case '\b': memcpy(esc, "\\b", 3); break;
        case '\f': memcpy(esc, "\\f", 3); break;
        default: snprintf(esc, sizeof esc, "\\u%04x", c); break;
        }
        puts_(S, esc);
        start = i + 1;
    }
    put(S, s + start, i - start);
    put(S, "\"", 1);
}

/* Starts a member: ",\n" between members, the indent, the key. */
static void key(saver *S, int level, bool *first, const char *k)
{
    puts_(S, *first ? "\n" : ",\n");
    *first = false;
    indent(S, level);
    put_string(S, k, (size_t)-1);
    puts_(S, ": ");
}

/* Closes an object or array opened with "{" or "[" at level - 1. */
static void close_block(saver *S, int level, bool first, char c)
{
    if (!first) {
        puts_(S, "\n");
        indent(S, level - 1);
    }
    put(S, &c, 1);
}

/* The shortest %.*g that reads back (through strtod, then float for F32) to
 * v, widened where %g would switch to an exponent for a whole number
 * (1500 rather than 1.5e+03), which is how people write such values. */
void tw_scene_format_number(char *out, size_t size, double v, bool single)
{
    int p = 1;
    for (; p <= 17; p++) {
        snprintf(out, size, "%.*g", p, v);
        double r = strtod(out, NULL);
        if (single ? (float)r == (float)v : r == v) break;
    }
    const char *e = strchr(out, 'e');
    if (e) {
        int exponent = atoi(e + 1);
        if (exponent >= p && exponent < 17) snprintf(out, size, "%.*g", exponent + 1, v);
    }
}

static size_t path_push(saver *S, const char *fmt, ...)
{
    size_t mark = strlen(S->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(S->path + mark, sizeof S->path - mark, fmt, ap);
    va_end(ap);
    return mark;
}

static void path_pop(saver *S, size_t mark) { S->path[mark] = '\0'; }

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static tw_status fail(saver *S, tw_status st, const char *fmt, ...)
{
    if (S->diag) {
        size_t n = strlen(S->path), size = sizeof S->diag->path;
        if (n < size) {
            memcpy(S->diag->path, S->path, n + 1);
        } else {
            memcpy(S->diag->path, "$...", 4); /* keep the end, which says more */
            memcpy(S->diag->path + 4, S->path + n - (size - 5), size - 4);
        }
        va_list ap;
        va_start(ap, fmt);
        tw_diag_setv(S->diag, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* ---- fields ------------------------------------------------------------- */

static uint32_t field_count(const tw_field *f) { return f->count ? f->count : 1; }
static uint32_t field_tuple(const tw_field *f) { return f->tuple ? f->tuple : 1; }

static tw_entity read_entity(const saver *S, const unsigned char *p)
{
    tw_entity e;
    memcpy(&e, p, sizeof e);
    /* A stale handle is no entity: it saves (and compares) as null. */
    return tw_ecs_entity_alive(S->w, e) ? e : TW_ENTITY_NULL;
}

static bool scalar_equal(const saver *S, const tw_field *f, const unsigned char *a, const unsigned char *b,
                         uint32_t scalar)
{
    size_t size = tw_type_size(f->type);
    const unsigned char *pa = a + f->offset + scalar * size, *pb = b + f->offset + scalar * size;
    if (f->type == TW_TYPE_ENTITY) return read_entity(S, pa).id == read_entity(S, pb).id;
    if (f->type == TW_TYPE_BOOL) return (*pa != 0) == (*pb != 0);
    return memcmp(pa, pb, size) == 0; /* floats bit for bit: -0 is written as -0 */
}

static bool range_equal(const saver *S, const tw_field *f, const unsigned char *a, const unsigned char *b,
                        uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++)
        if (!scalar_equal(S, f, a, b, i)) return false;
    return true;
}

static tw_status write_scalar(saver *S, const tw_ecs_component_info *info, const tw_field *f,
                              const unsigned char *data, uint32_t scalar)
{
    const unsigned char *p = data + f->offset + scalar * tw_type_size(f->type);
    char num[64];
    switch (f->type) {
    case TW_TYPE_F32: {
        float v;
        memcpy(&v, p, sizeof v);
        if (!isfinite(v))
            return fail(S, TW_ERR_INVALID, "%s.%s is %g, which JSON cannot hold", info->name, f->name, (double)v);
        tw_scene_format_number(num, sizeof num, v, true);
        break;
    }
    case TW_TYPE_F64: {
        double v;
        memcpy(&v, p, sizeof v);
        if (!isfinite(v)) return fail(S, TW_ERR_INVALID, "%s.%s is %g, which JSON cannot hold", info->name, f->name, v);
        tw_scene_format_number(num, sizeof num, v, false);
        break;
    }
    case TW_TYPE_I32: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        snprintf(num, sizeof num, "%d", (int)v);
        break;
    }
    case TW_TYPE_U32: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        snprintf(num, sizeof num, "%u", (unsigned)v);
        break;
    }
    case TW_TYPE_U64: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        snprintf(num, sizeof num, "%llu", (unsigned long long)v);
        break;
    }
    case TW_TYPE_BOOL: snprintf(num, sizeof num, "%s", *p ? "true" : "false"); break;
    case TW_TYPE_ENUM: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        if (v < 0 || (uint32_t)v >= f->enum_count)
            return fail(S, TW_ERR_INVALID, "%s.%s holds %d, which is not one of its named values", info->name,
                        f->name, (int)v);
        put_string(S, f->enum_names[v], (size_t)-1);
        return TW_OK;
    }
    case TW_TYPE_ENTITY: {
        tw_entity e = read_entity(S, p);
        if (tw_entity_is_null(e)) {
            puts_(S, "null");
            return TW_OK;
        }
        char path[TW_ECS_PATH_MAX];
        if (tw_ecs_entity_path(S->w, e, path, sizeof path) < 0)
            return fail(S, TW_ERR_LIMIT, "%s.%s refers to an entity whose path is longer than %d bytes", info->name,
                        f->name, TW_ECS_PATH_MAX - 1);
        put_string(S, path, (size_t)-1);
        return TW_OK;
    }
    case TW_TYPE_STR: put_string(S, (const char *)p, field_count(f)); return TW_OK;
    default: return fail(S, TW_ERR_UNSUPPORTED, "%s.%s has a type the scene writer does not know", info->name, f->name);
    }
    puts_(S, num);
    return TW_OK;
}

static tw_status write_tuple(saver *S, const tw_ecs_component_info *info, const tw_field *f,
                             const unsigned char *data, uint32_t element)
{
    uint32_t tuple = field_tuple(f);
    puts_(S, "[");
    for (uint32_t t = 0; t < tuple; t++) {
        if (t) puts_(S, ", ");
        tw_status st = write_scalar(S, info, f, data, element * tuple + t);
        if (st) return st;
    }
    puts_(S, "]");
    return TW_OK;
}

/* Is field index i the length field of a saved array of this component? */
static bool is_implied_length(const tw_ecs_component_info *info, uint32_t i)
{
    for (uint32_t j = 0; j < info->field_count; j++) {
        const tw_field *a = &info->fields[j];
        if (a->len_field && !(a->flags & TW_FIELD_DERIVED) && strcmp(a->len_field, info->fields[i].name) == 0)
            return true;
    }
    return false;
}

static uint32_t read_length(const tw_ecs_component_info *info, const tw_field *array, const unsigned char *data)
{
    uint32_t li = 0;
    const tw_field *lf = tw_ecs_field_lookup(info, array->len_field, &li);
    uint32_t n = 0;
    if (lf && lf->type == TW_TYPE_U32) memcpy(&n, data + lf->offset, sizeof n);
    return n < field_count(array) ? n : field_count(array);
}

static tw_status write_component(saver *S, const tw_ecs_component_info *info, const unsigned char *data, int level)
{
    const unsigned char *def = info->defaults;
    bool first = true;
    puts_(S, "{");
    for (uint32_t i = 0; i < info->field_count; i++) {
        const tw_field *f = &info->fields[i];
        if (f->flags & TW_FIELD_DERIVED || is_implied_length(info, i)) continue;
        uint32_t count = field_count(f), tuple = field_tuple(f);
        size_t mark = path_push(S, ".%s", f->name);
        tw_status st = TW_OK;
        if (f->type == TW_TYPE_STR) {
            const char *a = (const char *)data + f->offset, *b = (const char *)def + f->offset;
            if (strncmp(a, b, count) != 0) {
                key(S, level, &first, f->name);
                st = write_scalar(S, info, f, data, 0);
            }
        } else if (count == 1) {
            if (!range_equal(S, f, data, def, 0, tuple)) {
                key(S, level, &first, f->name);
                st = tuple == 1 ? write_scalar(S, info, f, data, 0) : write_tuple(S, info, f, data, 0);
            }
        } else {
            /* Arrays: the used length, or up to the last element that is not the default. */
            uint32_t n;
            bool differs;
            if (f->len_field) {
                n = read_length(info, f, data);
                differs = n != read_length(info, f, def) || !range_equal(S, f, data, def, 0, n * tuple);
            } else {
                n = count;
                while (n > 0 && range_equal(S, f, data, def, (n - 1) * tuple, n * tuple)) n--;
                differs = n > 0;
            }
            if (differs) {
                key(S, level, &first, f->name);
                puts_(S, "[");
                for (uint32_t e = 0; e < n && !st; e++) {
                    puts_(S, e ? ",\n" : "\n");
                    indent(S, level + 1);
                    size_t emark = path_push(S, "[%u]", e);
                    st = tuple == 1 ? write_scalar(S, info, f, data, e) : write_tuple(S, info, f, data, e);
                    if (!st) path_pop(S, emark);
                }
                if (n > 0) {
                    puts_(S, "\n");
                    indent(S, level);
                }
                puts_(S, "]");
            }
        }
        if (st) return st;
        path_pop(S, mark);
    }
    close_block(S, level, first, '}');
    return TW_OK;
}

/* ---- entities ------------------------------------------------------------ */

static tw_status write_entity(saver *S, tw_entity e, int level)
{
    const tw_ecs_world *w = S->w;
    const char *name = tw_ecs_entity_name(w, e);
    if (!name || !name[0])
        return fail(S, TW_ERR_INVALID,
                    "entity %u has no name, and a scene names every entity: name it (tw_ecs_entity_set_name) or "
                    "destroy it before saving",
                    tw_entity_index(e));
    bool first = true;
    puts_(S, "{");
    key(S, level, &first, "name");
    put_string(S, name, (size_t)-1);
    tw_kind kind = tw_ecs_entity_kind(w, e);
    if (kind != TW_KIND_NONE) {
        key(S, level, &first, "kind");
        put_string(S, tw_kind_name(kind), (size_t)-1);
    }
    const char *ext = tw_ecs_entity_external_id(w, e);
    if (ext && ext[0]) {
        key(S, level, &first, "external_id");
        put_string(S, ext, (size_t)-1);
    }

    tw_component comps[TW_ECS_MAX_COMPONENTS];
    uint32_t n = tw_ecs_entity_components(w, e, comps, TW_ECS_MAX_COMPONENTS);
    if (n > TW_ECS_MAX_COMPONENTS) n = TW_ECS_MAX_COMPONENTS;
    if (n > 0) {
        key(S, level, &first, "components");
        puts_(S, "{");
        bool cfirst = true;
        for (uint32_t i = 0; i < n; i++) {
            const tw_ecs_component_info *info = tw_ecs_component_get_info(w, comps[i]);
            const unsigned char *data = tw_ecs_get(w, e, comps[i]);
            if (!info || !data) continue;
            size_t mark = path_push(S, ".components.%s", info->name);
            key(S, level + 1, &cfirst, info->name);
            tw_status st = write_component(S, info, data, level + 2);
            if (st) return st;
            path_pop(S, mark);
        }
        close_block(S, level + 1, cfirst, '}');
    }

    tw_entity child = tw_ecs_entity_first_child(w, e);
    if (!tw_entity_is_null(child)) {
        key(S, level, &first, "children");
        puts_(S, "[");
        uint32_t i = 0;
        for (; !tw_entity_is_null(child); child = tw_ecs_entity_next_sibling(w, child), i++) {
            puts_(S, i ? ",\n" : "\n");
            indent(S, level + 1);
            size_t mark = path_push(S, ".children[%u]", i);
            tw_status st = write_entity(S, child, level + 2);
            if (st) return st;
            path_pop(S, mark);
        }
        close_block(S, level + 1, false, ']');
    }
    close_block(S, level, first, '}');
    return TW_OK;
}

/* ---- the document ---------------------------------------------------------- */

static tw_status write_number(saver *S, int level, bool *first, const char *k, double v, const char *what)
{
    if (!isfinite(v)) return fail(S, TW_ERR_INVALID, "the simulation's %s is %g, which JSON cannot hold", what, v);
    char num[64];
    tw_scene_format_number(num, sizeof num, v, false);
    key(S, level, first, k);
    puts_(S, num);
    return TW_OK;
}

static tw_status write_document(saver *S, const tw_scene *s)
{
    tw_scene_settings defaults = tw_scene_settings_default();
    const tw_scene_settings *set = s ? &s->settings : &defaults;
    bool first = true;
    tw_status st;
    puts_(S, "{");
    key(S, 1, &first, "format");
    put_string(S, TW_SCENE_FORMAT, (size_t)-1);
    if (s && s->name[0]) {
        key(S, 1, &first, "name");
        put_string(S, s->name, sizeof s->name);
    }
    if (s && s->description[0]) {
        key(S, 1, &first, "description");
        put_string(S, s->description, sizeof s->description);
    }

    snprintf(S->path, sizeof S->path, "$.simulation");
    key(S, 1, &first, "simulation");
    puts_(S, "{");
    bool sfirst = true;
    if ((st = write_number(S, 2, &sfirst, "dt", set->dt, "dt"))) return st;
    if ((st = write_number(S, 2, &sfirst, "duration", set->duration, "duration"))) return st;
    char buf[64];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)set->seed);
    key(S, 2, &sfirst, "seed");
    puts_(S, buf);
    if (!(set->start_time >= START_MIN && set->start_time <= START_MAX))
        return fail(S, TW_ERR_INVALID, "the simulation's start time %g lies outside the years 1 to 9999",
                    set->start_time);
    tw_time_format_iso8601(set->start_time, buf, (int)sizeof buf);
    key(S, 2, &sfirst, "start");
    put_string(S, buf, (size_t)-1);
    if ((st = write_number(S, 2, &sfirst, "kpi_interval", set->kpi_interval, "kpi_interval"))) return st;
    snprintf(buf, sizeof buf, "%u", (unsigned)set->max_catchup_steps);
    key(S, 2, &sfirst, "max_catchup_steps");
    puts_(S, buf);
    /* Added after the first scenes shipped: written only when set, so files
     * that predate it stay canonical. */
    if (set->keyframe_interval != 60.0 &&
        (st = write_number(S, 2, &sfirst, "keyframe_interval", set->keyframe_interval, "keyframe_interval")))
        return st;
    close_block(S, 2, sfirst, '}');

    if (s && s->kpi_count > 0) {
        key(S, 1, &first, "kpis");
        puts_(S, "[");
        for (uint32_t i = 0; i < s->kpi_count; i++) {
            const tw_scene_kpi *k = &s->kpis[i];
            puts_(S, i ? ",\n" : "\n");
            indent(S, 2);
            puts_(S, "{");
            bool kfirst = true;
            key(S, 3, &kfirst, "name");
            put_string(S, k->name, sizeof k->name);
            key(S, 3, &kfirst, "field");
            put_string(S, k->field, sizeof k->field);
            if (k->entity[0]) {
                key(S, 3, &kfirst, "entity");
                put_string(S, k->entity, sizeof k->entity);
            }
            key(S, 3, &kfirst, "aggregate");
            put_string(S, tw_scene_aggregate_name(k->aggregate), (size_t)-1);
            close_block(S, 3, kfirst, '}');
        }
        close_block(S, 2, false, ']');
    }

    /* Telemetry bindings are kept as the text they were loaded from (the
     * binder, not this module, knows their format): written back as they
     * are, so a scene written in canonical form round-trips byte for byte. */
    if (s && s->bindings) {
        key(S, 1, &first, "bindings");
        put(S, s->bindings, s->bindings_length);
    }

    key(S, 1, &first, "entities");
    puts_(S, "[");
    uint32_t i = 0;
    for (tw_entity e = tw_ecs_root_first(S->w); !tw_entity_is_null(e); e = tw_ecs_entity_next_sibling(S->w, e), i++) {
        puts_(S, i ? ",\n" : "\n");
        indent(S, 2);
        snprintf(S->path, sizeof S->path, "$.entities[%u]", i);
        if ((st = write_entity(S, e, 3))) return st;
    }
    close_block(S, 2, i == 0, ']');
    close_block(S, 1, false, '}');
    puts_(S, "\n");
    return TW_OK;
}

tw_status tw_scene_save_text(const tw_ecs_world *w, const tw_scene *s, char **out_text, size_t *out_length,
                             tw_diag *diag)
{
    TW_CHECK(w != NULL, "tw_scene_save_text needs the world to save.");
    TW_CHECK(out_text != NULL, "tw_scene_save_text needs somewhere to put the text: pass a char ** as out_text.");
    *out_text = NULL;
    if (out_length) *out_length = 0;
    if (diag) tw_diag_clear(diag);
    saver S;
    memset(&S, 0, sizeof S);
    S.w = w;
    S.alloc = *tw_ecs_world_allocator(w);
    S.diag = diag;
    tw_status st = write_document(&S, s);
    if (!st && S.oom) st = TW_ERR_NOMEM;
    if (!st && S.cap != S.len + 1) {
        /* Callers free with length + 1: make that the true size. */
        char *exact = tw_realloc(&S.alloc, S.buf, S.cap, S.len + 1);
        if (exact) {
            S.buf = exact;
            S.cap = S.len + 1;
        } else {
            st = TW_ERR_NOMEM;
        }
    }
    if (st) {
        if (st == TW_ERR_NOMEM && diag) tw_diag_set(diag, "out of memory while writing the scene");
        tw_free(&S.alloc, S.buf, S.cap);
        return st;
    }
    *out_text = S.buf;
    if (out_length) *out_length = S.len;
    return TW_OK;
}

tw_status tw_scene_save_file(const tw_ecs_world *w, const tw_scene *s, const char *path, tw_diag *diag)
{
    TW_CHECK(path != NULL, "tw_scene_save_file needs a path to write.");
    char *text = NULL;
    size_t length = 0;
    tw_status st = tw_scene_save_text(w, s, &text, &length, diag);
    if (diag) snprintf(diag->file, sizeof diag->file, "%s", path);
    if (st) return st;
    const tw_allocator *alloc = tw_ecs_world_allocator(w);

    /* A temporary file beside path, renamed over it once complete, so a
     * failed save never leaves a half-written scene behind. */
    char tmp[4096];
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        int n = snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%d", path, (long)getpid(), attempt);
        if (n < 0 || (size_t)n >= sizeof tmp) {
            errno = ENAMETOOLONG;
            break;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        tw_diag_set(diag, "cannot create a temporary file beside the scene: %s", strerror(errno));
        tw_free(alloc, text, length + 1);
        return TW_ERR_IO;
    }
    size_t done = 0;
    while (done < length) {
        ssize_t n = write(fd, text + done, length - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    int err = done < length ? (errno ? errno : EIO) : 0;
    if (!err && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    if (!err && rename(tmp, path) != 0) err = errno;
    tw_free(alloc, text, length + 1);
    if (err) {
        unlink(tmp);
        tw_diag_set(diag, "cannot write the scene: %s", strerror(err ? err : EIO));
        return TW_ERR_IO;
    }
    return TW_OK;
}
