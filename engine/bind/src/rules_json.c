/* The twin-bindings/1 file (docs/telemetry.md): rules, reader options and
 * queue settings, parsed with cJSON.
 *
 * cJSON keeps no text positions, but it keeps members and items in text
 * order, so when something is wrong the loader walks the text in lockstep
 * with the tree until it reaches the node at fault and reports its line and
 * column, with the JSON path. Nothing of a file that fails is kept. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind_internal.h"
#include "twin/strmap.h"

typedef struct loader {
    tw_bind *b;
    const char *text;
    size_t len;
    const char *file;
    tw_diag *diag;
    const cJSON *root;
    bind_reader_settings rs;
    bind_file_settings fs;
    bool has_reader;
} loader;

/* ---- positions ---------------------------------------------------------------- */

typedef struct pos_walk {
    const char *s;
    size_t n, i;
    const cJSON *target;
    bool found;
    size_t val, key;
} pos_walk;

static void pw_ws(pos_walk *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r' || p->s[p->i] == '\n'))
        p->i++;
}

static void pw_string(pos_walk *p)
{
    if (p->i < p->n && p->s[p->i] == '"') p->i++;
    while (p->i < p->n && p->s[p->i] != '"') {
        if (p->s[p->i] == '\\') p->i++;
        p->i++;
    }
    if (p->i < p->n) p->i++;
}

/* Walks the value of node at the current position; false once the target is found. */
static bool pw_value(pos_walk *p, const cJSON *node, size_t key_off, int depth)
{
    pw_ws(p);
    if (node == p->target) {
        p->found = true;
        p->val = p->i;
        p->key = key_off;
        return false;
    }
    if (depth > 200 || p->i >= p->n) return true;
    char c = p->s[p->i];
    if (c == '{' || c == '[') {
        bool obj = c == '{';
        p->i++;
        for (const cJSON *ch = node->child; ch; ch = ch->next) {
            pw_ws(p);
            size_t k = (size_t)-1;
            if (obj) {
                k = p->i;
                pw_string(p);
                pw_ws(p);
                if (p->i < p->n && p->s[p->i] == ':') p->i++;
            }
            if (!pw_value(p, ch, k, depth + 1)) return false;
            pw_ws(p);
            if (p->i < p->n && p->s[p->i] == ',') p->i++;
        }
        pw_ws(p);
        if (p->i < p->n) p->i++; /* the closer */
        return true;
    }
    if (c == '"') {
        pw_string(p);
        return true;
    }
    while (p->i < p->n && !strchr(",]} \t\r\n", p->s[p->i])) p->i++;
    return true;
}

static void line_col(const char *s, size_t n, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off && i < n; i++) {
        if (s[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)s[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Fills the diag for node (its key when at_key) and returns st. */
static tw_status fail(loader *L, const cJSON *node, bool at_key, const char *path, tw_status st, const char *fmt, ...)
{
    tw_diag *d = L->diag;
    if (!d) return st;
    char msg[TW_DIAG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tw_diag_set(d, "%s", msg);
    snprintf(d->file, sizeof d->file, "%s", L->file);
    snprintf(d->path, sizeof d->path, "%s", path ? path : "$");
    if (node && L->root) {
        pos_walk p = { L->text, L->len, 0, node, false, 0, 0 };
        pw_value(&p, L->root, (size_t)-1, 0);
        if (p.found) {
            size_t off = at_key && p.key != (size_t)-1 ? p.key : p.val;
            line_col(L->text, L->len, off, &d->line, &d->column);
        }
    }
    return st;
}

/* ---- small readers --------------------------------------------------------------- */

static void path_key(char *out, size_t size, const char *base, const char *key)
{
    /* Paths are short; a pathological key is cut rather than overflowing. */
    int n = snprintf(out, size, "%.200s", base);
    if (n > 0 && (size_t)n < size) snprintf(out + n, size - (size_t)n, ".%.48s", key);
}

static tw_status check_keys(loader *L, const cJSON *obj, const char *path, const char *what,
                            const char *const *keys, size_t nkeys)
{
    if (!cJSON_IsObject(obj)) return fail(L, obj, false, path, TW_ERR_INVALID, "%s must be a JSON object", what);
    for (const cJSON *m = obj->child; m; m = m->next) {
        bool ok = false;
        for (size_t i = 0; i < nkeys && !ok; i++) ok = strcmp(m->string, keys[i]) == 0;
        if (ok) continue;
        const char *near = tw_closest_word(m->string, keys, nkeys);
        char sub[TW_DIAG_PATH_MAX];
        path_key(sub, sizeof sub, path, m->string);
        if (near)
            return fail(L, m, true, sub, TW_ERR_INVALID, "unknown key \"%s\" in %s (did you mean \"%s\"?)", m->string,
                        what, near);
        return fail(L, m, true, sub, TW_ERR_INVALID, "unknown key \"%s\" in %s", m->string, what);
    }
    return TW_OK;
}

static tw_status get_string(loader *L, const cJSON *obj, const char *key, const char *path, const char **out)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!m) return TW_OK;
    char sub[TW_DIAG_PATH_MAX];
    path_key(sub, sizeof sub, path, key);
    if (!cJSON_IsString(m)) return fail(L, m, false, sub, TW_ERR_INVALID, "\"%s\" must be a string", key);
    *out = m->valuestring;
    return TW_OK;
}

static tw_status get_number(loader *L, const cJSON *obj, const char *key, const char *path, double lo, double hi,
                            double *out, bool *present)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (present) *present = m != NULL;
    if (!m) return TW_OK;
    char sub[TW_DIAG_PATH_MAX];
    path_key(sub, sizeof sub, path, key);
    if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble))
        return fail(L, m, false, sub, TW_ERR_INVALID, "\"%s\" must be a number", key);
    if (m->valuedouble < lo || m->valuedouble > hi)
        return fail(L, m, false, sub, TW_ERR_INVALID, "\"%s\" must be between %g and %g, not %g", key, lo, hi,
                    m->valuedouble);
    *out = m->valuedouble;
    return TW_OK;
}

static tw_status get_bool(loader *L, const cJSON *obj, const char *key, const char *path, bool *out)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!m) return TW_OK;
    char sub[TW_DIAG_PATH_MAX];
    path_key(sub, sizeof sub, path, key);
    if (!cJSON_IsBool(m)) return fail(L, m, false, sub, TW_ERR_INVALID, "\"%s\" must be true or false", key);
    *out = cJSON_IsTrue(m);
    return TW_OK;
}

/* A string that must be one of names; its index goes to *out. */
static tw_status get_enum(loader *L, const cJSON *obj, const char *key, const char *path, const char *const *names,
                          size_t count, int *out)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!m) return TW_OK;
    char sub[TW_DIAG_PATH_MAX];
    path_key(sub, sizeof sub, path, key);
    char list[256] = "";
    size_t o = 0;
    for (size_t i = 0; i < count && o < sizeof list; i++) {
        int w = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", names[i]);
        if (w > 0) o += (size_t)w;
    }
    if (!cJSON_IsString(m))
        return fail(L, m, false, sub, TW_ERR_INVALID, "\"%s\" must be one of: %s", key, list);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(m->valuestring, names[i]) == 0) {
            *out = (int)i;
            return TW_OK;
        }
    }
    const char *near = tw_closest_word(m->valuestring, names, count);
    if (near)
        return fail(L, m, false, sub, TW_ERR_INVALID, "unknown %s \"%s\" (did you mean \"%s\"?); expected one of: %s",
                    key, m->valuestring, near, list);
    return fail(L, m, false, sub, TW_ERR_INVALID, "unknown %s \"%s\"; expected one of: %s", key, m->valuestring, list);
}

/* A time: an ISO 8601 string or a number of Unix seconds. */
static tw_status get_time(loader *L, const cJSON *m, const char *path, double *out)
{
    if (cJSON_IsNumber(m) && isfinite(m->valuedouble)) {
        *out = m->valuedouble;
        return TW_OK;
    }
    if (cJSON_IsString(m) && bind_parse_iso8601(m->valuestring, strlen(m->valuestring), out)) return TW_OK;
    return fail(L, m, false, path, TW_ERR_INVALID,
                "expected an ISO 8601 time (\"2024-03-04T08:00:00Z\") or Unix seconds");
}

static const char *keep_string(loader *L, const char *s)
{
    if (!s) return NULL;
    if (L->rs.string_count >= sizeof L->rs.strings / sizeof L->rs.strings[0]) return NULL;
    char *c = tw_strdup(bind_allocator(L->b), s);
    if (c) L->rs.strings[L->rs.string_count++] = c;
    return c;
}

static void drop_strings(loader *L)
{
    for (uint32_t i = 0; i < L->rs.string_count; i++) {
        char *s = L->rs.strings[i];
        tw_free(bind_allocator(L->b), s, strlen(s) + 1);
    }
    L->rs.string_count = 0;
}

/* ---- reader ------------------------------------------------------------------------- */

static tw_status load_reader(loader *L, const cJSON *r)
{
    static const char *const keys[] = { "format", "time_format", "sensor_prefix", "chunk_size", "csv", "json" };
    static const char *const csv_keys[] = { "layout",       "header",         "delimiter",   "decimal_comma",
                                            "comments",     "time_column",    "sensor_column", "value_column",
                                            "quality_column", "unit_column",  "key_column",  "ignore_columns" };
    static const char *const json_keys[] = { "time_key", "sensor_key", "value_key", "quality_key", "unit_key",
                                             "senml_now" };
    static const char *const formats[] = { "auto", "csv", "jsonl", "senml" };
    static const char *const times[] = { "auto", "iso8601", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns" };
    static const char *const layouts[] = { "auto", "long", "wide" };
    static const char *const headers[] = { "auto", "yes", "no" };
    tw_status st;
    const char *p = "$.reader";
    if ((st = check_keys(L, r, p, "reader", keys, sizeof keys / sizeof keys[0]))) return st;
    tw_bind_source_desc *d = &L->rs.desc;
    int v = 0;
    if ((st = get_enum(L, r, "format", p, formats, 4, &v))) return st;
    d->format = (tw_bind_format)v;
    v = 0;
    if ((st = get_enum(L, r, "time_format", p, times, 6, &v))) return st;
    d->time_format = (tw_bind_time_format)v;
    const char *s = NULL;
    if ((st = get_string(L, r, "sensor_prefix", p, &s))) return st;
    if (s && !(d->sensor_prefix = keep_string(L, s))) return TW_ERR_NOMEM;
    double num = 0;
    if ((st = get_number(L, r, "chunk_size", p, 1, 1 << 30, &num, NULL))) return st;
    d->chunk_size = (size_t)num;

    const cJSON *csv = cJSON_GetObjectItemCaseSensitive(r, "csv");
    if (csv) {
        const char *cp = "$.reader.csv";
        if ((st = check_keys(L, csv, cp, "reader.csv", csv_keys, sizeof csv_keys / sizeof csv_keys[0]))) return st;
        tw_bind_csv_options *o = &d->csv;
        v = 0;
        if ((st = get_enum(L, csv, "layout", cp, layouts, 3, &v))) return st;
        o->layout = (tw_bind_csv_layout)v;
        v = 0;
        if ((st = get_enum(L, csv, "header", cp, headers, 3, &v))) return st;
        o->header = (tw_bind_csv_header)v;
        const char *delim = NULL;
        if ((st = get_string(L, csv, "delimiter", cp, &delim))) return st;
        if (delim) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(csv, "delimiter");
            if (strcmp(delim, "\\t") == 0 || strcmp(delim, "tab") == 0) delim = "\t";
            if (strlen(delim) != 1 || delim[0] == '"' || delim[0] == '\n' || delim[0] == '\r')
                return fail(L, m, false, "$.reader.csv.delimiter", TW_ERR_INVALID,
                            "the delimiter is one character (\",\", \";\", \"\\t\", \"|\"), not a quote or newline");
            o->delimiter = delim[0];
        }
        if ((st = get_bool(L, csv, "decimal_comma", cp, &o->decimal_comma))) return st;
        bool comments = true;
        if ((st = get_bool(L, csv, "comments", cp, &comments))) return st;
        o->no_comments = !comments;
        if (o->decimal_comma && o->delimiter == ',')
            return fail(L, csv, false, cp, TW_ERR_INVALID,
                        "a decimal comma needs another delimiter (\";\" or \"\\t\")");
        const char **targets[] = { &o->time_column, &o->sensor_column, &o->value_column,
                                   &o->quality_column, &o->unit_column, &o->key_column };
        const char *names[] = { "time_column", "sensor_column", "value_column", "quality_column", "unit_column",
                                "key_column" };
        for (int i = 0; i < 6; i++) {
            s = NULL;
            if ((st = get_string(L, csv, names[i], cp, &s))) return st;
            if (s && !(*targets[i] = keep_string(L, s))) return TW_ERR_NOMEM;
        }
        const cJSON *ig = cJSON_GetObjectItemCaseSensitive(csv, "ignore_columns");
        if (ig) {
            char list[1024] = "";
            size_t o2 = 0;
            if (cJSON_IsString(ig)) {
                snprintf(list, sizeof list, "%s", ig->valuestring);
            } else if (cJSON_IsArray(ig)) {
                for (const cJSON *e = ig->child; e; e = e->next) {
                    if (!cJSON_IsString(e))
                        return fail(L, e, false, "$.reader.csv.ignore_columns", TW_ERR_INVALID,
                                    "ignore_columns lists column names (strings)");
                    int w = snprintf(list + o2, sizeof list - o2, "%s%s", o2 ? "," : "", e->valuestring);
                    if (w < 0 || (size_t)w >= sizeof list - o2)
                        return fail(L, ig, false, "$.reader.csv.ignore_columns", TW_ERR_LIMIT,
                                    "ignore_columns is longer than %zu characters in all", sizeof list - 1);
                    o2 += (size_t)w;
                }
            } else {
                return fail(L, ig, false, "$.reader.csv.ignore_columns", TW_ERR_INVALID,
                            "ignore_columns is a list of column names");
            }
            if (!(o->ignore_columns = keep_string(L, list))) return TW_ERR_NOMEM;
        }
    }
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(r, "json");
    if (js) {
        const char *jp = "$.reader.json";
        if ((st = check_keys(L, js, jp, "reader.json", json_keys, sizeof json_keys / sizeof json_keys[0]))) return st;
        tw_bind_json_options *o = &d->json;
        const char **targets[] = { &o->time_key, &o->sensor_key, &o->value_key, &o->quality_key, &o->unit_key };
        for (int i = 0; i < 5; i++) {
            s = NULL;
            if ((st = get_string(L, js, json_keys[i], jp, &s))) return st;
            if (s && !(*targets[i] = keep_string(L, s))) return TW_ERR_NOMEM;
        }
        const cJSON *now = cJSON_GetObjectItemCaseSensitive(js, "senml_now");
        if (now && (st = get_time(L, now, "$.reader.json.senml_now", &o->senml_now))) return st;
    }
    L->has_reader = true;
    return TW_OK;
}

/* ---- bindings -------------------------------------------------------------------------- */

static const char *const param_keys[] = { "unit", "scale", "offset", "range", "out_of_range", "deadband",
                                          "smoothing", "mode", "gain", "stale_after" };
static const char *const binding_keys[] = { "sensor", "topic", "entity", "field",        "unit",
                                            "scale",  "offset", "range", "out_of_range", "deadband",
                                            "smoothing", "mode", "gain",  "stale_after",  "description" };

/* Reads the rule parameters present in obj over *r. */
static tw_status load_params(loader *L, const cJSON *obj, const char *path, tw_bind_rule *r)
{
    static const char *const modes[] = { "set", "assimilate", "observe" };
    static const char *const actions[] = { "reject", "clamp" };
    tw_status st;
    if ((st = get_string(L, obj, "unit", path, &r->unit))) return st;
    bool present;
    double v;
    if ((st = get_number(L, obj, "scale", path, -1e300, 1e300, &v, &present))) return st;
    if (present) {
        if (v == 0) {
            char sub[TW_DIAG_PATH_MAX];
            path_key(sub, sizeof sub, path, "scale");
            return fail(L, cJSON_GetObjectItemCaseSensitive(obj, "scale"), false, sub, TW_ERR_INVALID,
                        "a scale of 0 would erase every value");
        }
        r->scale = v;
    }
    if ((st = get_number(L, obj, "offset", path, -1e300, 1e300, &r->offset, NULL))) return st;
    const cJSON *range = cJSON_GetObjectItemCaseSensitive(obj, "range");
    if (range) {
        char sub[TW_DIAG_PATH_MAX];
        path_key(sub, sizeof sub, path, "range");
        const cJSON *lo = cJSON_GetArrayItem(range, 0), *hi = cJSON_GetArrayItem(range, 1);
        if (!cJSON_IsArray(range) || cJSON_GetArraySize(range) != 2 || !(cJSON_IsNumber(lo) || cJSON_IsNull(lo)) ||
            !(cJSON_IsNumber(hi) || cJSON_IsNull(hi)))
            return fail(L, range, false, sub, TW_ERR_INVALID,
                        "range is [min, max] in the field's unit (null for an open side)");
        r->has_range = true;
        r->range_min = cJSON_IsNull(lo) ? -INFINITY : lo->valuedouble;
        r->range_max = cJSON_IsNull(hi) ? INFINITY : hi->valuedouble;
        if (r->range_min > r->range_max)
            return fail(L, range, false, sub, TW_ERR_INVALID, "the range [%g, %g] is empty", r->range_min,
                        r->range_max);
    }
    int e = (int)r->out_of_range;
    if ((st = get_enum(L, obj, "out_of_range", path, actions, 2, &e))) return st;
    r->out_of_range = (tw_bind_range_action)e;
    if ((st = get_number(L, obj, "deadband", path, 0, 1e300, &r->deadband, NULL))) return st;
    const cJSON *sm = cJSON_GetObjectItemCaseSensitive(obj, "smoothing");
    if (sm) {
        char sub[TW_DIAG_PATH_MAX];
        path_key(sub, sizeof sub, path, "smoothing");
        r->smoothing_alpha = 0;
        r->smoothing_tau = 0;
        if (cJSON_IsNumber(sm)) {
            if (!(sm->valuedouble > 0 && sm->valuedouble <= 1))
                return fail(L, sm, false, sub, TW_ERR_INVALID, "a smoothing weight (alpha) is in (0, 1]");
            r->smoothing_alpha = sm->valuedouble;
        } else if (cJSON_IsObject(sm)) {
            static const char *const sk[] = { "alpha", "tau" };
            if ((st = check_keys(L, sm, sub, "smoothing", sk, 2))) return st;
            bool ha, ht;
            if ((st = get_number(L, sm, "alpha", sub, 1e-12, 1, &r->smoothing_alpha, &ha))) return st;
            if ((st = get_number(L, sm, "tau", sub, 1e-9, 1e12, &r->smoothing_tau, &ht))) return st;
            if (ha == ht)
                return fail(L, sm, false, sub, TW_ERR_INVALID,
                            "smoothing is {\"alpha\": weight} or {\"tau\": seconds}, one of the two");
        } else if (!cJSON_IsNull(sm)) {
            return fail(L, sm, false, sub, TW_ERR_INVALID,
                        "smoothing is a weight in (0, 1], {\"alpha\": weight} or {\"tau\": seconds}");
        }
    }
    e = (int)r->mode;
    if ((st = get_enum(L, obj, "mode", path, modes, 3, &e))) return st;
    r->mode = (tw_bind_mode)e;
    if ((st = get_number(L, obj, "gain", path, 1e-12, 1, &r->gain, NULL))) return st;
    if ((st = get_number(L, obj, "stale_after", path, 0, 1e12, &r->stale_after, NULL))) return st;
    return TW_OK;
}

static tw_status load_binding(loader *L, const cJSON *obj, uint32_t index, const tw_bind_rule *defaults)
{
    char path[TW_DIAG_PATH_MAX];
    snprintf(path, sizeof path, "$.bindings[%u]", index);
    tw_status st;
    if ((st = check_keys(L, obj, path, "a binding", binding_keys, sizeof binding_keys / sizeof binding_keys[0])))
        return st;
    tw_bind_rule r = *defaults;
    if ((st = get_string(L, obj, "sensor", path, &r.sensor))) return st;
    if ((st = get_string(L, obj, "topic", path, &r.topic))) return st;
    if ((st = get_string(L, obj, "entity", path, &r.entity))) return st;
    if ((st = get_string(L, obj, "field", path, &r.field))) return st;
    const cJSON *jsensor = cJSON_GetObjectItemCaseSensitive(obj, "sensor");
    const cJSON *jtopic = cJSON_GetObjectItemCaseSensitive(obj, "topic");
    const cJSON *jentity = cJSON_GetObjectItemCaseSensitive(obj, "entity");
    const cJSON *jfield = cJSON_GetObjectItemCaseSensitive(obj, "field");
    if ((jsensor != NULL) == (jtopic != NULL))
        return fail(L, obj, false, path, TW_ERR_INVALID,
                    "a binding names a \"sensor\" id or a \"topic\" pattern (exactly one of the two)");
    if (!jentity) return fail(L, obj, false, path, TW_ERR_INVALID, "a binding needs an \"entity\" path");
    if (!jfield)
        return fail(L, obj, false, path, TW_ERR_INVALID, "a binding needs a \"field\", such as \"Thermal.temperature\"");
    if ((st = load_params(L, obj, path, &r))) return st;
    char sub[TW_DIAG_PATH_MAX];
    /* Field and entity first, so the error points at the member at fault. */
    tw_ecs_field_ref ref;
    tw_diag fd;
    tw_diag_clear(&fd);
    if (tw_ecs_field_resolve(bind_world(L->b), r.field, &ref, &fd) != TW_OK) {
        path_key(sub, sizeof sub, path, "field");
        return fail(L, jfield, false, sub, TW_ERR_NOT_FOUND, "%s", fd.message);
    }
    tw_diag ad;
    tw_diag_clear(&ad);
    st = tw_bind_add_rule(L->b, &r, &ad);
    if (st == TW_OK) return TW_OK;
    const cJSON *at = obj;
    const char *key = NULL;
    if (strstr(ad.message, "entity")) {
        at = jentity;
        key = "entity";
    } else if (strstr(ad.message, "unit")) {
        at = cJSON_GetObjectItemCaseSensitive(obj, "unit");
        key = "unit";
    } else if (strstr(ad.message, "pattern") && jtopic) {
        at = jtopic;
        key = "topic";
    }
    if (!at) at = obj; /* the unit came from "defaults" */
    if (key && at != obj)
        path_key(sub, sizeof sub, path, key);
    else
        snprintf(sub, sizeof sub, "%s", path);
    return fail(L, at, false, sub, st, "%s", ad.message);
}

static tw_status load_body(loader *L, const cJSON *root, bool scene_member)
{
    static const char *const keys[] = { "format", "description", "anchor", "reorder_window", "reader", "defaults",
                                        "bindings" };
    tw_status st;
    if ((st = check_keys(L, root, "$", scene_member ? "bindings" : "a bindings file", keys,
                         sizeof keys / sizeof keys[0])))
        return st;
    if (!scene_member) {
        const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
        if (!fmt) return fail(L, root, false, "$", TW_ERR_INVALID, "a bindings file starts with \"format\": \"%s\"",
                              TW_BIND_FORMAT_NAME);
        if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, TW_BIND_FORMAT_NAME) != 0)
            return fail(L, fmt, false, "$.format", TW_ERR_UNSUPPORTED, "unsupported format; this is twin's \"%s\"",
                        TW_BIND_FORMAT_NAME);
    }
    const char *desc = NULL;
    if ((st = get_string(L, root, "description", "$", &desc))) return st;
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(root, "anchor");
    if (an) {
        L->fs.has_anchor = true;
        if (cJSON_IsString(an) && strcmp(an->valuestring, "first_sample") == 0) {
            L->fs.anchor = TW_BIND_ANCHOR_FIRST_SAMPLE;
        } else if (cJSON_IsString(an) && strcmp(an->valuestring, "scene") == 0) {
            L->fs.anchor = TW_BIND_ANCHOR_FIXED;
            L->fs.anchor_scene = true;
        } else {
            L->fs.anchor = TW_BIND_ANCHOR_FIXED;
            if (get_time(L, an, "$.anchor", &L->fs.anchor_time) != TW_OK)
                return fail(L, an, false, "$.anchor", TW_ERR_INVALID,
                            "anchor is \"first_sample\", \"scene\", an ISO 8601 time or Unix seconds");
        }
    }
    if ((st = get_number(L, root, "reorder_window", "$", 0, 1e9, &L->fs.reorder_window, &L->fs.has_window)))
        return st;
    const cJSON *reader = cJSON_GetObjectItemCaseSensitive(root, "reader");
    if (reader && (st = load_reader(L, reader))) return st;
    tw_bind_rule defaults;
    memset(&defaults, 0, sizeof defaults);
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(root, "defaults");
    if (def) {
        if ((st = check_keys(L, def, "$.defaults", "defaults", param_keys, sizeof param_keys / sizeof param_keys[0])))
            return st;
        if ((st = load_params(L, def, "$.defaults", &defaults))) return st;
    }
    const cJSON *bl = cJSON_GetObjectItemCaseSensitive(root, "bindings");
    if (!bl) return TW_OK;
    if (!cJSON_IsArray(bl)) return fail(L, bl, false, "$.bindings", TW_ERR_INVALID, "bindings is a list of objects");
    uint32_t i = 0;
    for (const cJSON *e = bl->child; e; e = e->next, i++) {
        if ((st = load_binding(L, e, i, &defaults))) return st;
    }
    return TW_OK;
}

tw_status tw_bind_load_text(tw_bind *b, const char *text, size_t length, const char *filename, tw_diag *diag)
{
    TW_CHECK(b != NULL && (text != NULL || length == 0), "tw_bind_load_text needs a binder and the text.");
    tw_diag_clear(diag);
    loader L;
    memset(&L, 0, sizeof L);
    L.b = b;
    L.text = text;
    L.len = length;
    L.file = filename ? filename : "bindings";
    L.diag = diag;
    if (diag) snprintf(diag->file, sizeof diag->file, "%s", L.file);
    if (length == 0) {
        if (diag) diag->line = diag->column = 1;
        tw_diag_set(diag, "the file is empty: a bindings file is a JSON object");
        return TW_ERR_PARSE;
    }
    /* The strict scanner first: it says exactly where and what is wrong,
     * which cJSON does not. */
    bj_member top[BJ_MAX_MEMBERS];
    uint32_t top_count;
    size_t err_off;
    const char *err_msg;
    if (!bj_object_scan(text, length, top, BJ_MAX_MEMBERS, &top_count, &err_off, &err_msg)) {
        if (diag) line_col(text, length, err_off, &diag->line, &diag->column);
        tw_diag_set(diag, "not valid JSON: %s", err_msg);
        return TW_ERR_PARSE;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, length, &end, false);
    if (!root) {
        size_t off = end && end >= text && end <= text + length ? (size_t)(end - text) : 0;
        if (diag) line_col(text, length, off, &diag->line, &diag->column);
        tw_diag_set(diag, "not valid JSON here");
        return cJSON_GetErrorPtr() == NULL && end == NULL ? TW_ERR_NOMEM : TW_ERR_PARSE;
    }
    L.root = root;
    uint32_t rules_before = tw_bind_rule_count(b);
    tw_status st;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (cJSON_IsString(fmt) && strcmp(fmt->valuestring, "twin-scene/1") == 0) {
        const cJSON *sb = cJSON_GetObjectItemCaseSensitive(root, "bindings");
        if (!sb) {
            st = TW_OK; /* a scene without bindings binds nothing */
        } else if (cJSON_IsArray(sb)) {
            /* A plain list of bindings; errors point into the scene file. */
            tw_bind_rule defaults;
            memset(&defaults, 0, sizeof defaults);
            st = TW_OK;
            uint32_t i = 0;
            for (const cJSON *e = sb->child; e && st == TW_OK; e = e->next, i++) st = load_binding(&L, e, i, &defaults);
        } else {
            st = load_body(&L, sb, true);
        }
    } else {
        st = load_body(&L, root, false);
    }
    if (st == TW_ERR_NOMEM && diag && !diag->message[0]) tw_diag_set(diag, "out of memory reading the bindings");
    if (st != TW_OK) {
        bind_truncate_rules(b, rules_before);
        drop_strings(&L);
    } else {
        if (L.has_reader) bind_set_reader_settings(b, &L.rs);
        else drop_strings(&L);
        bind_apply_file_settings(b, &L.fs);
    }
    cJSON_Delete(root);
    return st;
}

tw_status tw_bind_load_file(tw_bind *b, const char *path, tw_diag *diag)
{
    TW_CHECK(b != NULL && path != NULL, "tw_bind_load_file needs a binder and a path.");
    tw_diag_clear(diag);
    if (diag) snprintf(diag->file, sizeof diag->file, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        tw_diag_set(diag, "cannot open bindings file %s", path);
        return TW_ERR_IO;
    }
    const tw_allocator *a = bind_allocator(b);
    size_t cap = 0, len = 0;
    char *buf = NULL;
    tw_status st = TW_OK;
    for (;;) {
        if (len + 65536 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 65536 * 2;
            if (ncap > (size_t)256 << 20) {
                tw_diag_set(diag, "bindings file %s is larger than 256 MiB", path);
                st = TW_ERR_LIMIT;
                break;
            }
            char *nb = tw_realloc(a, buf, cap, ncap);
            if (!nb) {
                tw_diag_set(diag, "out of memory reading %s", path);
                st = TW_ERR_NOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    if (st == TW_OK && ferror(f)) {
        tw_diag_set(diag, "cannot read %s", path);
        st = TW_ERR_IO;
    }
    fclose(f);
    if (st == TW_OK) {
        buf[len] = '\0';
        st = tw_bind_load_text(b, buf, len, path, diag);
    }
    tw_free(a, buf, cap);
    return st;
}
