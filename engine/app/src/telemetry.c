/* Telemetry in runs, replays and what-ifs: the binder, its rules, and the
 * log sections that let a replay apply recorded samples exactly as the
 * recording run did.
 *
 * A run applies samples at each tick boundary through tw_bind_apply_until
 * and records what it took (tw_bind_applied) as INPUT records. A replay has
 * no telemetry files: it makes a binder from the rules kept in the log's
 * first keyframe ("BNDR"), pushes the recorded samples of a tick into it and
 * applies them before the step, so conversions, ranges, smoothing, deadbands
 * and assimilation run through the same code with the same state. Each
 * keyframe carries the binder's state ("BIND", twin/bind_state.h), restored
 * with the world on a seek. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app_internal.h"
#include "twin/bind_state.h"
#include "twin/strmap.h"

enum { RULES_FILE_MAX = 64 << 20 };

void app_tel_init(app_telemetry *t, const tw_allocator *alloc, const tw_log *log)
{
    memset(t, 0, sizeof *t);
    t->alloc = alloc;
    t->log = log;
    t->live_anchor = NAN;
}

static void drop_texts(app_telemetry *t)
{
    for (uint32_t i = 0; i < t->text_count; i++) {
        app_text *x = &t->texts[i];
        tw_free(t->alloc, x->name, strlen(x->name) + 1);
        tw_free(t->alloc, x->text, x->length + 1);
    }
    tw_free(t->alloc, t->texts, t->text_cap * sizeof *t->texts);
    t->texts = NULL;
    t->text_count = t->text_cap = 0;
}

void app_tel_fini(app_telemetry *t)
{
    tw_bind_free(t->b);
    drop_texts(t);
    tw_free(t->alloc, t->log_ids, t->log_ids_cap * sizeof *t->log_ids);
    tw_free(t->alloc, t->bind_ids, t->bind_ids_cap * sizeof *t->bind_ids);
    tw_free(t->alloc, t->state, t->state_cap);
    tw_free(t->alloc, t->rules, t->rules_cap);
    tw_free(t->alloc, t->filters, t->filter_cap * sizeof *t->filters);
    memset(t, 0, sizeof *t);
}

/* ---- rules ------------------------------------------------------------------------------ */

/* Takes name and text (both allocated with t->alloc) into the list. */
static tw_status add_text(app_telemetry *t, char *name, char *text, size_t length)
{
    size_t cap = t->text_cap;
    if (tw_grow(t->alloc, (void **)&t->texts, &cap, (size_t)t->text_count + 1, sizeof *t->texts)) {
        tw_free(t->alloc, name, strlen(name) + 1);
        tw_free(t->alloc, text, length + 1);
        return TW_ERR_NOMEM;
    }
    t->text_cap = (uint32_t)cap;
    t->texts[t->text_count++] = (app_text){ name, text, length };
    return TW_OK;
}

/* Reads a whole file; a missing or unreadable input is TW_ERR_NOT_FOUND (bad input, exit 3). */
static tw_status read_text(const tw_allocator *alloc, const char *path, const char *what, char **out, size_t *len,
                           tw_diag *diag)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        tw_diag_set(diag, "cannot open %s %s: %s", what, path, strerror(errno));
        if (diag) snprintf(diag->file, sizeof diag->file, "%s", path);
        return TW_ERR_NOT_FOUND;
    }
    size_t cap = 0, n = 0;
    char *buf = NULL;
    tw_status st = TW_OK;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            size_t want = n + 65536 + 1;
            if (want > RULES_FILE_MAX || tw_grow(alloc, (void **)&buf, &cap, want, 1)) {
                tw_diag_set(diag, "%s %s is too big to read (over 64 MiB, or out of memory)", what, path);
                st = want > RULES_FILE_MAX ? TW_ERR_LIMIT : TW_ERR_NOMEM;
                break;
            }
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    if (!st && ferror(f)) {
        tw_diag_set(diag, "cannot read %s %s", what, path);
        st = TW_ERR_NOT_FOUND;
    }
    fclose(f);
    if (st) {
        tw_free(alloc, buf, cap);
        return st;
    }
    /* Exactly length + 1 bytes, so that it is freed with its length. */
    char *exact = tw_realloc(alloc, buf, cap, n + 1);
    if (!exact) {
        tw_free(alloc, buf, cap);
        tw_diag_set(diag, "out of memory reading %s", path);
        return TW_ERR_NOMEM;
    }
    exact[n] = '\0';
    *out = exact;
    *len = n;
    return TW_OK;
}

/* Loads a bindings file into the binder and keeps its text for the log. */
static tw_status load_rules_file(app_telemetry *t, const char *path, tw_diag *diag)
{
    char *text;
    size_t len;
    tw_status st = read_text(t->alloc, path, "bindings file", &text, &len, diag);
    if (st) return st;
    if ((st = tw_bind_load_text(t->b, text, len, path, diag))) {
        tw_free(t->alloc, text, len + 1);
        return st;
    }
    char *name = tw_strdup(t->alloc, path);
    if (!name) {
        tw_free(t->alloc, text, len + 1);
        return TW_ERR_NOMEM;
    }
    return add_text(t, name, text, len);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* dir of path (with its trailing '/'; "" for a bare name) into out. */
static void dir_of(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) + 1 : 0;
    if (n >= size) n = 0;
    memcpy(out, path, n);
    out[n] = '\0';
}

/* The file name of path without its extension(s): "office.twin.json" -> "office". */
static void stem_of(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, size, "%s", base);
    char *dot = strchr(out + (out[0] == '.'), '.');
    if (dot) *dot = '\0';
}

/* A JSON string literal (the scene's "bindings": "file.json") decoded into out. */
static int json_string_text(const char *lit, size_t n, char *out, size_t size)
{
    if (n < 2 || lit[0] != '"' || lit[n - 1] != '"') return 0;
    size_t o = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        char c = lit[i];
        if (c == '\\') {
            c = lit[++i];
            switch (c) {
            case '"': case '\\': case '/': break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            default: return 0; /* \u and control escapes have no place in a file name */
            }
        }
        if (o + 1 >= size) return 0;
        out[o++] = c;
    }
    out[o] = '\0';
    return 1;
}

static tw_status load_scene_rules(app_telemetry *t, const tw_scene *scene, const char *scene_path, tw_diag *diag)
{
    if (scene->bindings[0] == '"') {
        /* A file named by the scene, relative to the scene's folder. */
        char name[1024], path[2048], dir[1024];
        if (!json_string_text(scene->bindings, scene->bindings_length, name, sizeof name)) {
            if (diag) {
                snprintf(diag->file, sizeof diag->file, "%s", scene_path);
                snprintf(diag->path, sizeof diag->path, "$.bindings");
            }
            tw_diag_set(diag, "\"bindings\" names a bindings file with escapes or a name too long to use as a path");
            return TW_ERR_INVALID;
        }
        dir_of(scene_path, dir, sizeof dir);
        snprintf(path, sizeof path, "%s%s", name[0] == '/' ? "" : dir, name);
        return load_rules_file(t, path, diag);
    }
    /* Bindings inside the scene: loaded from the scene file itself, so that
     * errors point at their line there; the log keeps them as a scene that
     * holds nothing else, which the binder reads the same way. */
    tw_status st = tw_bind_load_file(t->b, scene_path, diag);
    if (st) return st == TW_ERR_IO ? TW_ERR_NOT_FOUND : st;
    static const char head[] = "{\"format\": \"twin-scene/1\", \"bindings\": ";
    size_t len = sizeof head - 1 + scene->bindings_length + 2;
    char *text = tw_alloc(t->alloc, len + 1);
    char *name = tw_strdup(t->alloc, scene_path);
    if (!text || !name) {
        tw_free(t->alloc, text, len + 1);
        if (name) tw_free(t->alloc, name, strlen(name) + 1);
        return TW_ERR_NOMEM;
    }
    memcpy(text, head, sizeof head - 1);
    memcpy(text + sizeof head - 1, scene->bindings, scene->bindings_length);
    memcpy(text + sizeof head - 1 + scene->bindings_length, "}\n", 3);
    return add_text(t, name, text, len);
}

static tw_status new_binder(app_telemetry *t, tw_ecs_world *w, const tw_bind_desc *bd, tw_diag *diag)
{
    tw_bind_free(t->b);
    t->b = NULL;
    t->world = NULL;
    tw_status st = tw_bind_new(w, bd, &t->b, diag);
    if (!st) t->world = w;
    return st;
}

tw_status app_tel_load_rules(app_telemetry *t, tw_ecs_world *w, const tw_scene *scene, const char *scene_path,
                             const char *const *bindings, uint32_t binding_count, const char *const *files,
                             uint32_t file_count, int keep_applied, int required, tw_diag *diag)
{
    tw_bind_desc bd = { .anchor = isnan(t->live_anchor) ? TW_BIND_ANCHOR_FIRST_SAMPLE : TW_BIND_ANCHOR_FIXED,
                        .anchor_time = t->live_anchor,
                        .scene_start = scene->settings.start_time,
                        .log = t->log,
                        .keep_applied = keep_applied != 0 };
    tw_status st = new_binder(t, w, &bd, diag);
    if (st) return st;
    if (scene->bindings && (st = load_scene_rules(t, scene, scene_path, diag))) return st;
    for (uint32_t i = 0; i < binding_count; i++)
        if ((st = load_rules_file(t, bindings[i], diag))) return st;

    /* Neither the scene nor the command line says: bindings that travel with
     * the data, next to the first telemetry file. */
    char tried[2][2048];
    int tried_count = 0;
    if (t->text_count == 0 && file_count > 0 && strcmp(files[0], "-") != 0) {
        char dir[1024], stem[256], scene_stem[256];
        dir_of(files[0], dir, sizeof dir);
        stem_of(files[0], stem, sizeof stem);
        stem_of(scene_path, scene_stem, sizeof scene_stem);
        snprintf(tried[0], sizeof tried[0], "%s%s.bindings.json", dir, stem);
        snprintf(tried[1], sizeof tried[1], "%s%s.bindings.json", dir, scene_stem);
        tried_count = strcmp(stem, scene_stem) ? 2 : 1;
        for (int i = 0; i < tried_count; i++) {
            if (!file_exists(tried[i])) continue;
            TW_LOG(t->log, TW_LOG_INFO, "telemetry", "bindings: %s (found next to %s)", tried[i], files[0]);
            if ((st = load_rules_file(t, tried[i], diag))) return st;
            break;
        }
    }
    if (required && tw_bind_rule_count(t->b) == 0) {
        if (diag) diag->file[0] = '\0';
        if (t->text_count)
            tw_diag_set(diag, "the bindings (%s) hold no binding, so no sample could drive the scene", t->texts[0].name);
        else if (tried_count > 1)
            tw_diag_set(diag,
                        "no bindings for the telemetry: the scene has no \"bindings\", no --bindings FILE was "
                        "given, and neither %s nor %s exists",
                        tried[0], tried[1]);
        else if (tried_count)
            tw_diag_set(diag,
                        "no bindings for the telemetry: the scene has no \"bindings\", no --bindings FILE was "
                        "given, and %s does not exist",
                        tried[0]);
        else
            tw_diag_set(diag, "no bindings for the telemetry: give --bindings FILE or add \"bindings\" to the scene");
        return TW_ERR_INVALID;
    }
    return TW_OK;
}

tw_status app_tel_open_sources(app_telemetry *t, const char *const *files, uint32_t file_count, double *anchor,
                               tw_diag *diag)
{
    for (uint32_t i = 0; i < file_count; i++) {
        tw_status st = tw_bind_open(t->b, files[i], diag);
        if (st) {
            if (diag && !diag->file[0]) snprintf(diag->file, sizeof diag->file, "%s", files[i]);
            return st == TW_ERR_IO ? TW_ERR_NOT_FOUND : st;
        }
    }
    tw_status st = tw_bind_prime(t->b, anchor);
    if (st) TW_LOG(t->log, TW_LOG_WARN, "telemetry", "a telemetry source failed while reading its first samples: %s",
                   tw_status_str(st));
    return TW_OK;
}

/* ---- recording ---------------------------------------------------------------------------- */

tw_status app_tel_sections(app_telemetry *t, int with_rules, tw_replay_section *out, uint32_t *count)
{
    *count = 0;
    if (!t->b) return TW_OK;
    if (with_rules) {
        /* u32 count, then per source: u16 name length, name, u32 text length, text. */
        size_t need = 4;
        for (uint32_t i = 0; i < t->text_count; i++) need += 2 + strlen(t->texts[i].name) + 4 + t->texts[i].length;
        if (need > t->rules_cap && tw_grow(t->alloc, &t->rules, &t->rules_cap, need, 1)) return TW_ERR_NOMEM;
        unsigned char *p = t->rules;
        size_t o = 0;
        uint32_t n = t->text_count;
        for (int k = 0; k < 4; k++) p[o++] = (unsigned char)(n >> (8 * k));
        for (uint32_t i = 0; i < n; i++) {
            size_t nl = strlen(t->texts[i].name);
            if (nl > 65535) nl = 65535;
            p[o++] = (unsigned char)nl;
            p[o++] = (unsigned char)(nl >> 8);
            memcpy(p + o, t->texts[i].name, nl);
            o += nl;
            uint32_t tl = (uint32_t)t->texts[i].length;
            for (int k = 0; k < 4; k++) p[o++] = (unsigned char)(tl >> (8 * k));
            memcpy(p + o, t->texts[i].text, tl);
            o += tl;
        }
        t->rules_size = o;
        out[(*count)++] = (tw_replay_section){ APP_SECTION_RULES, t->rules, t->rules_size };
    }
    tw_status st = tw_bind_state_save(t->b, t->alloc, &t->state, &t->state_cap, &t->state_size);
    if (st) return st;
    out[(*count)++] = (tw_replay_section){ APP_SECTION_BIND, t->state, t->state_size };
    return TW_OK;
}

tw_status app_tel_record_applied(app_telemetry *t, tw_replay_recorder *rec, uint64_t tick)
{
    uint32_t n;
    const tw_bind_sample *s = tw_bind_applied(t->b, &n);
    tw_bind_sensors *sensors = tw_bind_get_sensors(t->b);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = s[i].sensor;
        if (id == TW_BIND_SENSOR_OTHER) continue; /* never bound, so never applied */
        if (id >= t->log_ids_cap) {
            size_t old = t->log_ids_cap;
            if (tw_grow(t->alloc, (void **)&t->log_ids, &t->log_ids_cap, (size_t)id + 1, sizeof *t->log_ids))
                return TW_ERR_NOMEM;
            memset(t->log_ids + old, 0, (t->log_ids_cap - old) * sizeof *t->log_ids);
        }
        tw_status st;
        if (!t->log_ids[id] && (st = tw_replay_recorder_sensor(rec, tw_bind_sensors_name(sensors, id), &t->log_ids[id])))
            return st;
        tw_replay_sample rs = { .time = s[i].time,
                                .value = s[i].value,
                                .sensor_id = t->log_ids[id],
                                .quality = s[i].quality,
                                .unit = s[i].unit };
        if ((st = tw_replay_recorder_input(rec, tick, &rs))) return st;
    }
    return TW_OK;
}

/* ---- replay -------------------------------------------------------------------------------- */

static uint32_t rd_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static tw_status parse_rules_section(app_telemetry *t, const tw_replay_section *sec, tw_diag *diag)
{
    const unsigned char *p = sec->data, *end = p + sec->size;
    if (sec->size < 4) goto bad;
    uint32_t n = rd_u32(p);
    p += 4;
    for (uint32_t i = 0; i < n; i++) {
        if (end - p < 2) goto bad;
        size_t nl = (size_t)p[0] | (size_t)p[1] << 8;
        p += 2;
        if ((size_t)(end - p) < nl + 4) goto bad;
        const unsigned char *name = p;
        p += nl;
        size_t tl = rd_u32(p);
        p += 4;
        if ((size_t)(end - p) < tl) goto bad;
        char *nm = tw_alloc(t->alloc, nl + 1);
        char *tx = tw_alloc(t->alloc, tl + 1);
        if (!nm || !tx) {
            tw_free(t->alloc, nm, nl + 1);
            tw_free(t->alloc, tx, tl + 1);
            return TW_ERR_NOMEM;
        }
        memcpy(nm, name, nl);
        nm[nl] = '\0';
        memcpy(tx, p, tl);
        tx[tl] = '\0';
        p += tl;
        tw_status st = add_text(t, nm, tx, tl);
        if (st) return st;
    }
    if (p == end) return TW_OK;
bad:
    drop_texts(t);
    tw_diag_set(diag, "the log's telemetry bindings (keyframe section BNDR) are malformed");
    return TW_ERR_INVALID;
}

tw_status app_tel_from_log(app_telemetry *t, const tw_replay_log *log, tw_diag *diag)
{
    t->rlog = log;
    t->start_time = tw_replay_log_header(log)->start_time;
    if (tw_replay_log_keyframe_count(log) == 0) return TW_OK;
    uint64_t tick, offset;
    tw_replay_log_keyframe_at(log, 0, &tick, &offset);
    /* The reader's cursor is the player's too; it rewinds before use. */
    tw_replay_log *rl = (tw_replay_log *)log;
    tw_replay_log_rewind(rl, offset);
    tw_replay_record rec;
    tw_replay_keyframe kf;
    tw_status st = tw_replay_log_next(rl, &rec, diag);
    if (st || rec.type != TW_REPLAY_REC_KEYFRAME || tw_replay_keyframe_decode(&rec, &kf)) {
        if (diag && !diag->message[0]) tw_diag_set(diag, "the log's first keyframe cannot be read");
        return st ? st : TW_ERR_INVALID;
    }
    const tw_replay_section *sec = tw_replay_keyframe_section(&kf, APP_SECTION_RULES);
    if (!sec) return TW_OK; /* recorded without telemetry */
    return parse_rules_section(t, sec, diag);
}

/* A binder for w with the log's rules, anchored at the log's start. */
static tw_status replay_binder(app_telemetry *t, tw_ecs_world *w, tw_diag *diag)
{
    tw_bind_desc bd = { .anchor = TW_BIND_ANCHOR_FIXED, .anchor_time = t->start_time, .log = t->log };
    tw_status st = new_binder(t, w, &bd, diag);
    if (st) return st;
    /* Fixed before the rules load, so that an "anchor" in them cannot move it. */
    tw_bind_prime(t->b, NULL);
    for (uint32_t i = 0; i < t->text_count && !st; i++)
        st = tw_bind_load_text(t->b, t->texts[i].text, t->texts[i].length, t->texts[i].name, diag);
    if (st) {
        tw_bind_free(t->b);
        t->b = NULL;
        t->world = NULL;
        return st;
    }
    if (t->bind_ids) memset(t->bind_ids, 0, t->bind_ids_cap * sizeof *t->bind_ids);
    return TW_OK;
}

static tw_status on_section(void *user, tw_ecs_world *w, tw_sim *sim, const tw_replay_section *sec)
{
    (void)sim;
    app_telemetry *t = user;
    if (sec->tag != APP_SECTION_BIND || t->text_count == 0) return TW_OK;
    tw_diag d;
    tw_diag_clear(&d);
    tw_status st = replay_binder(t, w, &d);
    if (!st) st = tw_bind_state_load(t->b, sec->data, sec->size, &d);
    if (st) TW_LOG(t->log, TW_LOG_ERROR, "replay", "restoring the telemetry binder: %s", d.message);
    return st;
}

/* The binder is made per world: a restore without a "BIND" section (which
 * the recorder never writes) would leave it on the old one. */
static tw_status ensure_binder(app_telemetry *t, tw_ecs_world *w)
{
    if (t->text_count == 0) return TW_OK;
    if (t->b && t->world == w) return TW_OK;
    tw_diag d;
    tw_diag_clear(&d);
    TW_LOG(t->log, TW_LOG_WARN, "replay", "a keyframe without the telemetry binder's state: starting it afresh");
    tw_status st = replay_binder(t, w, &d);
    if (st) TW_LOG(t->log, TW_LOG_ERROR, "replay", "the log's bindings do not load: %s", d.message);
    return st;
}

static void on_input(void *user, tw_ecs_world *w, tw_sim *sim, const tw_replay_sample *s)
{
    (void)sim;
    app_telemetry *t = user;
    if (t->failed || ensure_binder(t, w) || !t->b) {
        if (!t->failed) t->failed = TW_ERR_INVALID;
        return;
    }
    double value = s->value;
    for (uint32_t i = 0; i < t->filter_count; i++) {
        if (t->filters[i].log_sensor != s->sensor_id) continue;
        if (t->filters[i].change->op == TW_SCENARIO_SILENCE) {
            t->silenced++;
            return;
        }
        value = t->filters[i].change->value;
        t->overridden++;
    }
    uint32_t lid = s->sensor_id;
    if (lid >= t->bind_ids_cap) {
        size_t old = t->bind_ids_cap;
        if (tw_grow(t->alloc, (void **)&t->bind_ids, &t->bind_ids_cap, (size_t)lid + 1, sizeof *t->bind_ids)) {
            t->failed = TW_ERR_NOMEM;
            return;
        }
        memset(t->bind_ids + old, 0, (t->bind_ids_cap - old) * sizeof *t->bind_ids);
    }
    if (!t->bind_ids[lid] &&
        tw_bind_sensors_intern(tw_bind_get_sensors(t->b), s->sensor, strlen(s->sensor), &t->bind_ids[lid])) {
        t->failed = TW_ERR_NOMEM;
        return;
    }
    tw_bind_sample bs;
    memset(&bs, 0, sizeof bs);
    bs.time = s->time;
    bs.value = value;
    bs.sensor = t->bind_ids[lid];
    bs.kind = TW_BIND_SAMPLE_VALUE;
    bs.quality = s->quality;
    bs.unit = s->unit;
    if (tw_bind_push(t->b, &bs, 1)) t->failed = TW_ERR_NOMEM;
}

static tw_status on_tick(void *user, tw_ecs_world *w, tw_sim *sim)
{
    app_telemetry *t = user;
    if (t->failed) return t->failed;
    if (t->text_count == 0) return TW_OK;
    tw_status st = ensure_binder(t, w);
    if (st) return st;
    return tw_bind_apply_until(t->b, w, tw_sim_time(sim));
}

void app_tel_player_hooks(app_telemetry *t, tw_replay_player_desc *pd)
{
    /* A log without bindings (recorded without telemetry, or samples written
     * by another tool) plays as before: its samples are counted as skipped. */
    if (t->text_count == 0) return;
    pd->user = t;
    pd->on_input = on_input;
    pd->on_section = on_section;
    pd->on_tick = on_tick;
}

tw_status app_tel_filter_add(app_telemetry *t, const tw_scenario_change *ch, tw_diag *diag)
{
    uint32_t n = t->rlog ? tw_replay_log_sensor_count(t->rlog) : 0, id = 0;
    for (uint32_t i = 1; i <= n && !id; i++) {
        const char *name = tw_replay_log_sensor_name(t->rlog, i);
        if (name && strcmp(name, ch->sensor) == 0) id = i;
    }
    if (!id) {
        /* "Did you mean": the closest sensor id the log has. */
        const char *best = NULL;
        if (n) {
            const char **names = tw_calloc(t->alloc, n, sizeof *names);
            if (names) {
                for (uint32_t i = 0; i < n; i++) {
                    names[i] = tw_replay_log_sensor_name(t->rlog, i + 1);
                    if (!names[i]) names[i] = "";
                }
                best = tw_closest_word(ch->sensor, names, n);
                tw_free(t->alloc, names, n * sizeof *names);
            }
        }
        if (best)
            tw_diag_set(diag, "the log has no samples of sensor \"%s\" (did you mean \"%s\"?)", ch->sensor, best);
        else
            tw_diag_set(diag, "the log has no samples of sensor \"%s\"%s", ch->sensor,
                        n ? "" : " (it was recorded without telemetry)");
        return TW_ERR_NOT_FOUND;
    }
    size_t cap = t->filter_cap;
    if (tw_grow(t->alloc, (void **)&t->filters, &cap, (size_t)t->filter_count + 1, sizeof *t->filters))
        return TW_ERR_NOMEM;
    t->filter_cap = (uint32_t)cap;
    /* A later change of the same sensor replaces an earlier one. */
    uint32_t i = 0;
    while (i < t->filter_count && t->filters[i].log_sensor != id) i++;
    t->filters[i] = (app_filter){ ch, id };
    if (i == t->filter_count) t->filter_count++;
    return TW_OK;
}

/* ---- summary.json ------------------------------------------------------------------------- */

void app_tel_write_summary(const app_telemetry *t, FILE *f)
{
    if (!t || !t->b) return;
    fputs("  \"bindings_files\": [", f);
    for (uint32_t i = 0; i < t->text_count; i++) {
        if (i) fputs(", ", f);
        tw_app_write_json_string(f, t->texts[i].name);
    }
    fputs("],\n", f);
    if (t->rlog) {
        /* A replay counts what it replays: the recorded samples as applied. */
        fprintf(f, "  \"telemetry_replayed\": {\"silenced\": %llu, \"overridden\": %llu},\n",
                (unsigned long long)t->silenced, (unsigned long long)t->overridden);
    }
    fputs("  \"telemetry\": ", f);
    tw_bind_write_json(t->b, f, 2);
    fputs(",\n", f);
}
