/* twin-scenario/1 files: what-if change lists (twin/scenario.h, docs/whatif.md).
 *
 * Lives beside the scene loader because it is JSON read with cJSON, which
 * stays inside this module. Each change is an object with exactly one verb
 * key ("set", "destroy", "clone", "override", "silence") naming its target,
 * plus that verb's arguments; unknown keys are errors with a did-you-mean. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_pos.h"
#include "twin/scenario.h"
#include "twin/strmap.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const op_names[] = { "", "set", "destroy", "clone", "override", "silence" };

const char *tw_scenario_op_name(tw_scenario_op op)
{
    return (unsigned)op < COUNT_OF(op_names) && op ? op_names[op] : "unknown";
}

typedef struct sc_loader {
    const char *text;
    size_t length;
    tw_diag *diag;
} sc_loader;

static tw_status fail(sc_loader *L, const char *path, const char *fmt, const char *a, const char *b)
{
    snprintf(L->diag->path, sizeof L->diag->path, "%s", path);
    tw_diag_set(L->diag, fmt, a ? a : "", b ? b : "");
    return TW_ERR_INVALID;
}

static tw_status check_keys(sc_loader *L, const cJSON *obj, const char *const *keys, size_t n, const char *path)
{
    for (const cJSON *k = obj->child; k; k = k->next) {
        size_t i = 0;
        while (i < n && strcmp(k->string, keys[i]) != 0) i++;
        if (i < n) continue;
        const char *near = tw_closest_word(k->string, keys, n);
        snprintf(L->diag->path, sizeof L->diag->path, "%s", path);
        if (near) tw_diag_set(L->diag, "unknown key \"%s\" (did you mean \"%s\"?)", k->string, near);
        else tw_diag_set(L->diag, "unknown key \"%s\"", k->string);
        return TW_ERR_INVALID;
    }
    return TW_OK;
}

static tw_status get_str(sc_loader *L, const cJSON *n, char *out, size_t size, const char *path, const char *what)
{
    if (!cJSON_IsString(n) || !n->valuestring[0])
        return fail(L, path, "expected %s (a non-empty string)%s", what, NULL);
    if (strlen(n->valuestring) >= size) return fail(L, path, "%s is too long%s", what, NULL);
    snprintf(out, size, "%s", n->valuestring);
    return TW_OK;
}

static tw_status get_value(sc_loader *L, const cJSON *n, double *out, const char *path)
{
    if (cJSON_IsBool(n)) *out = cJSON_IsTrue(n) ? 1.0 : 0.0;
    else if (cJSON_IsNumber(n) && isfinite(n->valuedouble)) *out = n->valuedouble;
    else return fail(L, path, "expected a number or true/false for \"value\"%s%s", NULL, NULL);
    return TW_OK;
}

static tw_status load_change(sc_loader *L, const cJSON *c, tw_scenario_change *ch, const char *path)
{
    static const char *const keys[] = { "set", "destroy", "clone", "override", "silence", "field", "value", "at",
                                        "count", "both" };
    if (!cJSON_IsObject(c)) return fail(L, path, "expected a change (an object such as {\"set\": PATH, \"field\": ..., \"value\": ...})%s%s", NULL, NULL);
    tw_status st = check_keys(L, c, keys, COUNT_OF(keys), path);
    if (st) return st;
    memset(ch, 0, sizeof *ch);
    ch->at = -1;
    ch->count = 1;
    int verbs = 0;
    for (int op = TW_SCENARIO_SET; op <= TW_SCENARIO_SILENCE; op++)
        if (cJSON_GetObjectItemCaseSensitive(c, op_names[op])) {
            verbs++;
            ch->op = (tw_scenario_op)op;
        }
    if (verbs != 1)
        return fail(L, path, "a change needs exactly one of \"set\", \"destroy\", \"clone\", \"override\", \"silence\"%s%s",
                    NULL, NULL);
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(c, op_names[ch->op]);
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(c, "field");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(c, "value");
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(c, "count");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(c, "at");
    const cJSON *both = cJSON_GetObjectItemCaseSensitive(c, "both");
    int wants_field = ch->op == TW_SCENARIO_SET, wants_value = ch->op == TW_SCENARIO_SET || ch->op == TW_SCENARIO_OVERRIDE;
    if (!wants_field && field) return fail(L, path, "\"field\" belongs to \"set\" only%s%s", NULL, NULL);
    if (!wants_value && value) return fail(L, path, "\"value\" belongs to \"set\" and \"override\" only%s%s", NULL, NULL);
    if (count && ch->op != TW_SCENARIO_CLONE) return fail(L, path, "\"count\" belongs to \"clone\" only%s%s", NULL, NULL);
    if (ch->op == TW_SCENARIO_OVERRIDE || ch->op == TW_SCENARIO_SILENCE) {
        if ((st = get_str(L, target, ch->sensor, sizeof ch->sensor, path, "a sensor id"))) return st;
    } else if ((st = get_str(L, target, ch->entity, sizeof ch->entity, path, "an entity path"))) {
        return st;
    }
    if (wants_field) {
        if (!field) return fail(L, path, "\"set\" needs \"field\" (\"Component.field\")%s%s", NULL, NULL);
        if ((st = get_str(L, field, ch->field, sizeof ch->field, path, "a field (\"Component.field\")"))) return st;
    }
    if (wants_value) {
        if (!value) return fail(L, path, "\"%s\" needs \"value\"%s", op_names[ch->op], NULL);
        if ((st = get_value(L, value, &ch->value, path))) return st;
    }
    if (count) {
        if (!cJSON_IsNumber(count) || count->valuedouble < 1 || count->valuedouble > 10000 ||
            count->valuedouble != floor(count->valuedouble))
            return fail(L, path, "\"count\" must be a whole number from 1 to 10000%s%s", NULL, NULL);
        ch->count = (uint32_t)count->valuedouble;
    }
    if (at) {
        if (!cJSON_IsNumber(at) || !(at->valuedouble >= 0) || !isfinite(at->valuedouble))
            return fail(L, path, "\"at\" must be seconds of simulated time, 0 or more%s%s", NULL, NULL);
        ch->at = at->valuedouble;
    }
    if (both) {
        if (!cJSON_IsBool(both)) return fail(L, path, "\"both\" must be true or false%s%s", NULL, NULL);
        ch->both = (uint8_t)cJSON_IsTrue(both);
    }
    return TW_OK;
}

static tw_status load_root(sc_loader *L, const cJSON *root, tw_scenario *out)
{
    static const char *const keys[] = { "format", "name", "description", "changes" };
    if (!cJSON_IsObject(root)) return fail(L, "$", "expected a scenario (a JSON object)%s%s", NULL, NULL);
    tw_status st = check_keys(L, root, keys, COUNT_OF(keys), "$");
    if (st) return st;
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(format) || strcmp(format->valuestring, TW_SCENARIO_FORMAT) != 0)
        return fail(L, "$.format", "expected \"format\": \"%s\"%s", TW_SCENARIO_FORMAT, NULL);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (name && (st = get_str(L, name, out->name, sizeof out->name, "$.name", "a name"))) return st;
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (desc) {
        if (!cJSON_IsString(desc)) return fail(L, "$.description", "expected a string%s%s", NULL, NULL);
        snprintf(out->description, sizeof out->description, "%s", desc->valuestring);
    }
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(root, "changes");
    if (!cJSON_IsArray(changes) || !cJSON_GetArraySize(changes))
        return fail(L, "$.changes", "expected \"changes\": a non-empty array of changes%s%s", NULL, NULL);
    int n = cJSON_GetArraySize(changes);
    out->changes = tw_calloc(&out->alloc, (size_t)n, sizeof *out->changes);
    if (!out->changes) {
        tw_diag_set(L->diag, "out of memory");
        return TW_ERR_NOMEM;
    }
    out->change_count = (uint32_t)n;
    int i = 0;
    for (const cJSON *c = changes->child; c; c = c->next, i++) {
        char path[64];
        snprintf(path, sizeof path, "$.changes[%d]", i);
        if ((st = load_change(L, c, &out->changes[i], path))) return st;
    }
    return TW_OK;
}

void tw_scenario_fini(tw_scenario *s)
{
    if (!s) return;
    tw_free(&s->alloc, s->changes, (size_t)s->change_count * sizeof *s->changes);
    s->changes = NULL;
    s->change_count = 0;
}

tw_status tw_scenario_load_text(const char *text, size_t length, const char *filename, const tw_allocator *allocator,
                                tw_scenario *out, tw_diag *diag)
{
    TW_CHECK(text != NULL && out != NULL, "tw_scenario_load_text needs the text and a scenario to fill.");
    tw_diag local;
    if (!diag) diag = &local;
    tw_diag_clear(diag);
    if (filename) snprintf(diag->file, sizeof diag->file, "%s", filename);
    memset(out, 0, sizeof *out);
    out->alloc = tw_allocator_or_default(allocator);
    sc_loader L = { text, length, diag };
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, length, &end, 0);
    if (!root) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        twj_line_col(text, length, off, &diag->line, &diag->column);
        tw_diag_set(diag, "the scenario is not valid JSON here");
        return TW_ERR_PARSE;
    }
    tw_status st = load_root(&L, root, out);
    cJSON_Delete(root);
    if (st) tw_scenario_fini(out);
    return st;
}

tw_status tw_scenario_load_file(const char *path, const tw_allocator *allocator, tw_scenario *out, tw_diag *diag)
{
    TW_CHECK(path != NULL && out != NULL, "tw_scenario_load_file needs a path and a scenario to fill.");
    tw_diag local;
    if (!diag) diag = &local;
    tw_diag_clear(diag);
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(diag->file, sizeof diag->file, "%s", path);
        tw_diag_set(diag, "cannot open the scenario file: %s", strerror(errno));
        return TW_ERR_IO;
    }
    tw_allocator a = tw_allocator_or_default(allocator);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (tw_grow(&a, (void **)&buf, &cap, len + 4096 + 1, 1)) {
            fclose(f);
            tw_free(&a, buf, cap);
            snprintf(diag->file, sizeof diag->file, "%s", path);
            tw_diag_set(diag, "out of memory reading the scenario file");
            return TW_ERR_NOMEM;
        }
        size_t k = fread(buf + len, 1, cap - len - 1, f);
        len += k;
        if (k == 0) break;
    }
    fclose(f);
    buf[len] = '\0';
    tw_status st = tw_scenario_load_text(buf, len, path, allocator, out, diag);
    tw_free(&a, buf, cap);
    return st;
}
