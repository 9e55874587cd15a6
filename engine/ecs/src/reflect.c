/* Reflection: component registration (the desc is copied into one
 * world-owned block), field lookup, "Component.field[i]" references, and
 * numeric access to a field through double. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs_internal.h"

size_t tw_type_size(tw_type t)
{
    switch (t) {
    case TW_TYPE_F32: return 4;
    case TW_TYPE_F64: return 8;
    case TW_TYPE_I32: return 4;
    case TW_TYPE_U32: return 4;
    case TW_TYPE_U64: return 8;
    case TW_TYPE_BOOL: return 1;
    case TW_TYPE_ENUM: return 4;
    case TW_TYPE_ENTITY: return sizeof(tw_entity);
    case TW_TYPE_STR: return 1;
    }
    return 0;
}

const char *tw_type_name(tw_type t)
{
    switch (t) {
    case TW_TYPE_F32: return "f32";
    case TW_TYPE_F64: return "f64";
    case TW_TYPE_I32: return "i32";
    case TW_TYPE_U32: return "u32";
    case TW_TYPE_U64: return "u64";
    case TW_TYPE_BOOL: return "bool";
    case TW_TYPE_ENUM: return "enum";
    case TW_TYPE_ENTITY: return "entity";
    case TW_TYPE_STR: return "str";
    }
    return "unknown";
}

uint32_t tw_field_scalars(const tw_field *f)
{
    if (f->type == TW_TYPE_STR) return 1;
    uint32_t count = f->count ? f->count : 1, tuple = f->tuple ? f->tuple : 1;
    return count * tuple;
}

/* Bytes the field occupies in its struct. */
static uint64_t field_bytes(const tw_field *f)
{
    if (f->type == TW_TYPE_STR) return f->count ? f->count : 1;
    uint64_t count = f->count ? f->count : 1, tuple = f->tuple ? f->tuple : 1;
    return count * tuple * tw_type_size(f->type);
}

/* ---- registration ------------------------------------------------------------ */

/* Two passes over the same code: with base NULL it only measures. */
typedef struct blob {
    unsigned char *base;
    size_t off;
} blob;

static void *blob_take(blob *b, size_t n, size_t align)
{
    b->off = (b->off + align - 1) & ~(align - 1);
    void *p = b->base ? b->base + b->off : NULL;
    b->off += n;
    return p;
}

static const char *blob_str(blob *b, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *p = blob_take(b, n, 1);
    if (p) memcpy(p, s, n);
    return p;
}

static void blob_fill(blob *b, const tw_ecs_component_desc *d, tw_ecs_component_info *info)
{
    void *defaults = blob_take(b, d->size, 16);
    tw_field *fields = blob_take(b, (size_t)d->field_count * sizeof *fields, 16);
    if (b->base) {
        if (d->defaults) memcpy(defaults, d->defaults, d->size);
        else memset(defaults, 0, d->size);
        info->defaults = defaults;
        info->fields = fields;
    }
    for (uint32_t i = 0; i < d->field_count; i++) {
        const tw_field *src = &d->fields[i];
        const char **names = NULL;
        if (src->type == TW_TYPE_ENUM) names = blob_take(b, src->enum_count * sizeof *names, sizeof *names);
        tw_field f = *src;
        f.name = blob_str(b, src->name);
        f.unit = blob_str(b, src->unit);
        f.len_field = blob_str(b, src->len_field);
        f.doc = blob_str(b, src->doc);
        if (src->type == TW_TYPE_ENUM) {
            for (uint32_t k = 0; k < src->enum_count; k++) {
                const char *n = blob_str(b, src->enum_names[k]);
                if (names) names[k] = n;
            }
            f.enum_names = (const char *const *)names;
        } else {
            f.enum_names = NULL; /* only enums keep value names */
            f.enum_count = 0;
        }
        if (b->base) fields[i] = f;
    }
    const char *name = blob_str(b, d->name);
    const char *doc = blob_str(b, d->doc);
    if (b->base) {
        info->name = name;
        info->doc = doc;
    }
}

static tw_status reject(tw_ecs_world *w, const tw_ecs_component_desc *d, tw_status st, const char *why, const char *what)
{
    TW_LOG(&w->log, TW_LOG_WARN, "ecs", "component %s was not registered: %s%s", d->name ? d->name : "(unnamed)", why,
           what ? what : "");
    return st;
}

static tw_status validate(tw_ecs_world *w, const tw_ecs_component_desc *d)
{
    if (!d->name || !d->name[0]) return reject(w, d, TW_ERR_INVALID, "it has no name", NULL);
    if (tw_ecs_component_lookup(w, d->name).id) return reject(w, d, TW_ERR_INVALID, "the name is taken", NULL);
    if (w->comp_count >= TW_ECS_MAX_COMPONENTS)
        return reject(w, d, TW_ERR_LIMIT, "the world already has the most components it can hold", NULL);
    if (d->size == 0) return reject(w, d, TW_ERR_INVALID, "its size is 0", NULL);
    uint32_t align = d->align ? d->align : 8;
    if (align & (align - 1) || align > ECS_COLUMN_ALIGN)
        return reject(w, d, TW_ERR_INVALID, "its alignment is not a power of two up to 64", NULL);
    if (d->field_count > TW_ECS_MAX_FIELDS) return reject(w, d, TW_ERR_LIMIT, "it has too many fields", NULL);
    if (d->field_count && !d->fields) return reject(w, d, TW_ERR_INVALID, "field_count is set but fields is NULL", NULL);
    for (uint32_t i = 0; i < d->field_count; i++) {
        const tw_field *f = &d->fields[i];
        if (!f->name || !f->name[0]) return reject(w, d, TW_ERR_INVALID, "a field has no name", NULL);
        if (f->type < TW_TYPE_F32 || f->type > TW_TYPE_STR)
            return reject(w, d, TW_ERR_INVALID, "unknown type of field ", f->name);
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(d->fields[k].name, f->name) == 0)
                return reject(w, d, TW_ERR_INVALID, "duplicate field ", f->name);
        if ((uint64_t)f->offset + field_bytes(f) > d->size)
            return reject(w, d, TW_ERR_INVALID, "a field reaches past the end of the struct: ", f->name);
        if (f->type == TW_TYPE_ENUM) {
            if (!f->enum_names || !f->enum_count)
                return reject(w, d, TW_ERR_INVALID, "an enum field has no value names: ", f->name);
            for (uint32_t k = 0; k < f->enum_count; k++)
                if (!f->enum_names[k]) return reject(w, d, TW_ERR_INVALID, "an enum value name is NULL in ", f->name);
        }
        if (f->len_field) {
            const tw_field *len = NULL;
            for (uint32_t k = 0; k < d->field_count; k++)
                if (d->fields[k].name && strcmp(d->fields[k].name, f->len_field) == 0) len = &d->fields[k];
            if (!len || len->type != TW_TYPE_U32 || len == f)
                return reject(w, d, TW_ERR_INVALID, "len_field does not name a u32 field of the component: ", f->name);
        }
    }
    return TW_OK;
}

tw_status tw_ecs_component_register(tw_ecs_world *w, const tw_ecs_component_desc *desc, tw_component *out)
{
    TW_CHECK(w != NULL && desc != NULL,
             "tw_ecs_component_register needs a world and a desc: neither may be NULL.");
    tw_status st = validate(w, desc);
    if (st) return st;
    blob b = { NULL, 0 };
    tw_ecs_component_info info;
    memset(&info, 0, sizeof info);
    blob_fill(&b, desc, &info);
    size_t size = b.off;
    void *mem = tw_alloc(&w->alloc, size);
    if (!mem) return TW_ERR_NOMEM;
    b.base = mem;
    b.off = 0;
    blob_fill(&b, desc, &info);
    uint32_t id = ++w->comp_count;
    info.id.id = id;
    info.size = desc->size;
    info.align = desc->align ? desc->align : 8;
    info.field_count = desc->field_count;
    ecs_component *c = &w->comps[id];
    c->info = info;
    c->blob = mem;
    c->blob_size = size;
    if (out) out->id = id;
    return TW_OK;
}

void ecs_components_fini(tw_ecs_world *w)
{
    for (uint32_t i = 1; i <= w->comp_count; i++) tw_free(&w->alloc, w->comps[i].blob, w->comps[i].blob_size);
    w->comp_count = 0;
}

tw_component tw_ecs_component_lookup(const tw_ecs_world *w, const char *name)
{
    tw_component c = { 0 };
    if (!name) return c;
    for (uint32_t i = 1; i <= w->comp_count; i++) {
        if (strcmp(w->comps[i].info.name, name) == 0) {
            c.id = i;
            break;
        }
    }
    return c;
}

const tw_ecs_component_info *tw_ecs_component_get_info(const tw_ecs_world *w, tw_component c)
{
    if (c.id == 0 || c.id > w->comp_count) return NULL;
    return &w->comps[c.id].info;
}

uint32_t tw_ecs_component_count(const tw_ecs_world *w) { return w->comp_count; }

const tw_field *tw_ecs_field_lookup(const tw_ecs_component_info *info, const char *name, uint32_t *index)
{
    if (!info || !name) return NULL;
    for (uint32_t i = 0; i < info->field_count; i++) {
        if (strcmp(info->fields[i].name, name) == 0) {
            if (index) *index = i;
            return &info->fields[i];
        }
    }
    return NULL;
}

/* ---- references ---------------------------------------------------------------- */

tw_status tw_ecs_field_resolve(const tw_ecs_world *w, const char *ref, tw_ecs_field_ref *out, tw_diag *diag)
{
    TW_CHECK(w != NULL && ref != NULL && out != NULL,
             "tw_ecs_field_resolve needs a world, a reference and an out struct: none may be NULL.");
    memset(out, 0, sizeof *out);
    const char *dot = strchr(ref, '.');
    if (!dot || dot == ref || !dot[1]) {
        tw_diag_set(diag, "\"%s\" is not a field reference: write Component.field, e.g. \"Thermal.temperature\"",
                    ref);
        return TW_ERR_PARSE;
    }
    char comp[TW_ECS_NAME_MAX], field[TW_ECS_NAME_MAX];
    size_t cn = (size_t)(dot - ref);
    const char *fstart = dot + 1;
    const char *bracket = strchr(fstart, '[');
    size_t fn = bracket ? (size_t)(bracket - fstart) : strlen(fstart);
    if (cn >= sizeof comp || fn >= sizeof field || fn == 0) {
        tw_diag_set(diag, "\"%s\" is not a field reference: names are 1 to 63 characters", ref);
        return TW_ERR_PARSE;
    }
    memcpy(comp, ref, cn);
    comp[cn] = '\0';
    memcpy(field, fstart, fn);
    field[fn] = '\0';
    long index = -1;
    if (bracket) {
        char *end = NULL;
        if (bracket[1] < '0' || bracket[1] > '9') goto bad_index;
        index = strtol(bracket + 1, &end, 10);
        if (!end || *end != ']' || end[1] != '\0' || index < 0) goto bad_index;
    }

    tw_component c = tw_ecs_component_lookup(w, comp);
    if (!c.id) {
        const char *names[TW_ECS_MAX_COMPONENTS];
        for (uint32_t i = 1; i <= w->comp_count; i++) names[i - 1] = w->comps[i].info.name;
        const char *near = tw_closest_word(comp, names, w->comp_count);
        if (near) tw_diag_set(diag, "unknown component \"%s\"; did you mean \"%s\"?", comp, near);
        else tw_diag_set(diag, "unknown component \"%s\"", comp);
        return TW_ERR_NOT_FOUND;
    }
    const tw_ecs_component_info *info = &w->comps[c.id].info;
    uint32_t fi;
    const tw_field *f = tw_ecs_field_lookup(info, field, &fi);
    if (!f) {
        const char *names[TW_ECS_MAX_FIELDS];
        for (uint32_t i = 0; i < info->field_count; i++) names[i] = info->fields[i].name;
        const char *near = tw_closest_word(field, names, info->field_count);
        if (near) tw_diag_set(diag, "unknown field \"%s\" in %s; did you mean \"%s\"?", field, info->name, near);
        else tw_diag_set(diag, "unknown field \"%s\" in %s", field, info->name);
        return TW_ERR_NOT_FOUND;
    }
    if (index >= 0 && (uint64_t)index >= tw_field_scalars(f)) {
        tw_diag_set(diag, "index %ld is out of range for %s.%s, which has %u scalars", index, info->name, f->name,
                    (unsigned)tw_field_scalars(f));
        return TW_ERR_INVALID;
    }
    out->component = c;
    out->field = f;
    out->field_index = fi;
    out->element = index >= 0 ? (uint32_t)index : 0;
    return TW_OK;

bad_index:
    tw_diag_set(diag, "\"%s\" has a bad index: write Component.field[N] with N a whole number", ref);
    return TW_ERR_PARSE;
}

/* ---- numeric access ---------------------------------------------------------------- */

bool tw_field_read_f64(const void *component_data, const tw_field *f, uint32_t element, double *out)
{
    if (!component_data || !f || element >= tw_field_scalars(f)) return false;
    const unsigned char *p = (const unsigned char *)component_data + f->offset + (size_t)element * tw_type_size(f->type);
    switch (f->type) {
    case TW_TYPE_F32: { float v; memcpy(&v, p, sizeof v); *out = v; return true; }
    case TW_TYPE_F64: { double v; memcpy(&v, p, sizeof v); *out = v; return true; }
    case TW_TYPE_I32:
    case TW_TYPE_ENUM: { int32_t v; memcpy(&v, p, sizeof v); *out = v; return true; }
    case TW_TYPE_U32: { uint32_t v; memcpy(&v, p, sizeof v); *out = v; return true; }
    case TW_TYPE_U64: { uint64_t v; memcpy(&v, p, sizeof v); *out = (double)v; return true; }
    case TW_TYPE_BOOL: *out = *p ? 1.0 : 0.0; return true;
    case TW_TYPE_ENTITY:
    case TW_TYPE_STR: return false;
    }
    return false;
}

bool tw_field_write_f64(void *component_data, const tw_field *f, uint32_t element, double value)
{
    if (!component_data || !f || element >= tw_field_scalars(f)) return false;
    unsigned char *p = (unsigned char *)component_data + f->offset + (size_t)element * tw_type_size(f->type);
    switch (f->type) {
    case TW_TYPE_F32: { float v = (float)value; memcpy(p, &v, sizeof v); return true; }
    case TW_TYPE_F64: memcpy(p, &value, sizeof value); return true;
    case TW_TYPE_I32: {
        double r = nearbyint(value);
        if (!(r >= -2147483648.0 && r <= 2147483647.0)) return false;
        int32_t v = (int32_t)r;
        memcpy(p, &v, sizeof v);
        return true;
    }
    case TW_TYPE_U32: {
        double r = nearbyint(value);
        if (!(r >= 0.0 && r <= 4294967295.0)) return false;
        uint32_t v = (uint32_t)r;
        memcpy(p, &v, sizeof v);
        return true;
    }
    case TW_TYPE_U64: {
        double r = nearbyint(value);
        if (!(r >= 0.0 && r < 18446744073709551616.0)) return false;
        uint64_t v = (uint64_t)r;
        memcpy(p, &v, sizeof v);
        return true;
    }
    case TW_TYPE_BOOL:
        if (value != value) return false;
        *p = value != 0.0 ? 1 : 0;
        return true;
    case TW_TYPE_ENUM: {
        /* An enum takes only one of its named values. */
        if (!(value >= 0.0 && value < (double)f->enum_count) || value != floor(value)) return false;
        int32_t v = (int32_t)value;
        memcpy(p, &v, sizeof v);
        return true;
    }
    case TW_TYPE_ENTITY:
    case TW_TYPE_STR: return false;
    }
    return false;
}
