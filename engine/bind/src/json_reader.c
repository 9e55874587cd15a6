/* JSON Lines and SenML (RFC 8428) readers.
 *
 * Both read a stream of JSON values in chunks: top-level objects (one per
 * line in JSON Lines) and arrays of objects (SenML packs, pretty-printed or
 * one per line). A splitter finds each object's extent by counting brackets
 * outside strings, across chunk boundaries; the object is then scanned in
 * place (jsonscan.c). Garbage between objects is reported and skipped to the
 * end of its line.
 *
 * JSON Lines records are {"time": ..., "sensor": ..., "value": ...,
 * "quality": ..., "unit": ...} with configurable keys. SenML records resolve
 * base fields (bn, bt, bu, bv, bver) that carry over to the following records
 * of the same pack; a record with a string, boolean or data value (vs, vb,
 * vd) or only a sum (s) is counted as ignored. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bind_internal.h"
#include "twin/clock.h"

typedef enum obj_status { OBJ_OK, OBJ_EOF, OBJ_WAIT, OBJ_ERROR, OBJ_BAD } obj_status;

typedef struct json_reader {
    tw_bind_source *src;
    bind_input in;
    bool senml, live;
    tw_bind_time_format time_format;
    char *strings;
    size_t strings_size;
    const char *prefix;
    size_t prefix_len;
    const char *k_time, *k_sensor, *k_value, *k_quality, *k_unit;
    double senml_now;

    /* splitter */
    uint64_t line;           /* line at in.start */
    bool in_object;
    size_t scan;
    int depth;
    bool in_str, esc;
    uint32_t obj_newlines;
    int array_depth;         /* 1 inside a top-level array (a pack) */
    bool discarding;
    bool eof_reported;
    uint64_t obj_line;

    /* SenML base fields of the current pack */
    bind_senml_base base;

    char scratch[2 * TW_BIND_SENSOR_NAME_MAX];
    bj_member members[BJ_MAX_MEMBERS];
} json_reader;

static void senml_reset_base(json_reader *r)
{
    bind_senml_base_reset(&r->base);
}

static void quote_text(char *out, size_t size, const char *s, size_t n)
{
    size_t k = n < 40 ? n : 40, o = 0;
    for (size_t i = 0; i < k && o + 2 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (k < n && o + 4 < size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* ---- splitting the stream into objects ------------------------------------------ */

/* After garbage, the rest of its line is skipped. */
static void start_discard(json_reader *r) { r->discarding = true; }

static obj_status next_object(json_reader *r, char **obj, size_t *len)
{
    bind_input *in = &r->in;
    for (;;) {
        char *base = in->buf ? in->buf + in->start : NULL; /* NULL + 0 is undefined */
        size_t avail = in->end - in->start;
        if (r->discarding) {
            const char *nl = avail ? memchr(base, '\n', avail) : NULL;
            size_t upto = nl ? (size_t)(nl - base) + 1 : avail;
            /* A pack that closes on the skipped line is over. */
            if (r->array_depth && memchr(base, ']', upto)) r->array_depth = 0;
            in->start += upto;
            if (nl) {
                r->line++;
                r->discarding = false;
                continue;
            }
        } else if (!r->in_object) {
            size_t i = 0;
            bool bad = false;
            while (i < avail) {
                char c = base[i];
                if (c == '\n') {
                    r->line++;
                    i++;
                    continue;
                }
                if (c == ' ' || c == '\t' || c == '\r' || (c == ',' && r->array_depth)) {
                    i++;
                    continue;
                }
                if (c == '[' && !r->array_depth) {
                    r->array_depth = 1;
                    senml_reset_base(r);
                    i++;
                    continue;
                }
                if (c == ']' && r->array_depth) {
                    r->array_depth = 0;
                    i++;
                    continue;
                }
                if (c == '{') {
                    r->in_object = true;
                    r->scan = 0;
                    r->depth = 0;
                    r->in_str = r->esc = false;
                    r->obj_newlines = 0;
                    r->obj_line = r->line;
                    break;
                }
                bad = true;
                break;
            }
            in->start += i;
            if (bad) {
                char q[64];
                quote_text(q, sizeof q, in->buf + in->start, in->end - in->start);
                tw_bind_source_report(r->src, r->line,
                                      r->array_depth ? "a SenML pack holds record objects, found \"%s\""
                                                     : "expected a JSON object, found \"%s\"",
                                      q);
                r->obj_line = r->line;
                start_discard(r);
                return OBJ_BAD;
            }
            if (r->in_object) continue;
        } else {
            /* Inside an object: find its closing brace. */
            size_t i = r->scan;
            int depth = r->depth;
            bool in_str = r->in_str, esc = r->esc;
            for (; i < avail; i++) {
                char c = base[i];
                if (c == '\n') {
                    r->obj_newlines++;
                    if (!r->senml && !in_str) {
                        /* JSON Lines: an object ends on its own line. */
                        in->start += i + 1;
                        r->line += r->obj_newlines;
                        r->in_object = false;
                        tw_bind_source_report(r->src, r->obj_line, "a JSON object that is not closed on its line");
                        return OBJ_BAD;
                    }
                    continue;
                }
                if (in_str) {
                    if (esc)
                        esc = false;
                    else if (c == '\\')
                        esc = true;
                    else if (c == '"')
                        in_str = false;
                    continue;
                }
                if (c == '"') {
                    in_str = true;
                } else if (c == '{' || c == '[') {
                    depth++;
                } else if (c == '}' || c == ']') {
                    if (--depth == 0) {
                        *obj = base;
                        *len = i + 1;
                        in->start += i + 1;
                        r->line += r->obj_newlines;
                        r->in_object = false;
                        return OBJ_OK;
                    }
                }
            }
            r->scan = i;
            r->depth = depth;
            r->in_str = in_str;
            r->esc = esc;
        }
        if (in->eof) {
            if (r->in_object) {
                r->in_object = false;
                in->start = in->end;
                tw_bind_source_report(r->src, r->obj_line, "a JSON object that is not closed at the end of the input");
                return OBJ_BAD;
            }
            if (r->array_depth && !r->eof_reported) {
                r->eof_reported = true;
                r->obj_line = r->line;
                tw_bind_source_report(r->src, r->line, "a SenML pack ('[') is not closed at the end of the input");
                return OBJ_BAD;
            }
            return OBJ_EOF;
        }
        bind_fill f = bind_input_fill(in);
        switch (f) {
        case BIND_FILL_MORE:
        case BIND_FILL_EOF: continue;
        case BIND_FILL_WAIT: return OBJ_WAIT;
        case BIND_FILL_ERROR: return OBJ_ERROR;
        case BIND_FILL_FULL: {
            tw_bind_source_report(r->src, r->obj_line, "a JSON object longer than %zu bytes; skipped to the next line",
                                  in->max_record);
            /* Drop what is buffered and resynchronise at the next line. */
            const char *b = in->buf + in->start;
            size_t n = in->end - in->start;
            for (size_t k = 0; k < n; k++)
                if (b[k] == '\n') r->line++;
            in->start = in->end;
            r->in_object = false;
            r->array_depth = 0;
            start_discard(r);
            return OBJ_BAD;
        }
        }
    }
}

/* ---- records to samples ---------------------------------------------------------------- */

static void column_of(const char *obj, size_t off, uint64_t obj_line, uint64_t *line, size_t *col)
{
    uint64_t l = obj_line;
    size_t last = 0;
    bool seen = false;
    for (size_t i = 0; i < off; i++) {
        if (obj[i] == '\n') {
            l++;
            last = i + 1;
            seen = true;
        }
    }
    *line = l;
    *col = off - (seen ? last : 0) + 1;
}

static bool scan_record(json_reader *r, const char *obj, size_t len, uint32_t *count, tw_bind_sample *out)
{
    size_t off;
    const char *msg;
    if (bj_object_scan(obj, len, r->members, BJ_MAX_MEMBERS, count, &off, &msg)) return true;
    uint64_t line;
    size_t col;
    column_of(obj, off, r->obj_line, &line, &col);
    bind_sample_malformed(out, TW_BIND_REJECT_LINE, 0, NAN, line);
    tw_bind_source_report(r->src, line, "column %zu: %s", col, msg);
    return false;
}

static tw_status intern_name(json_reader *r, const char *a, size_t al, const char *b, size_t bl, uint32_t *id,
                             bool *ok)
{
    *ok = false;
    if (al + bl == 0 || r->prefix_len + al + bl > TW_BIND_SENSOR_NAME_MAX) return TW_OK;
    char buf[TW_BIND_SENSOR_NAME_MAX];
    memcpy(buf, a, al);
    memcpy(buf + al, b, bl);
    tw_status st = bind_intern_sensor(r->src->sensors, r->prefix, r->prefix_len, NULL, 0, buf, al + bl, id);
    if (st == TW_ERR_NOMEM) return st;
    *ok = st == TW_OK;
    return TW_OK;
}

static tw_status jsonl_record(json_reader *r, const char *obj, size_t len, tw_bind_sample *out)
{
    uint32_t n;
    if (!scan_record(r, obj, len, &n, out)) return TW_OK;
    const bj_member *m = r->members;
    uint64_t line = r->obj_line;
    char q[64];
    /* sensor */
    const bj_member *ms = bj_find(m, n, r->k_sensor);
    uint32_t sensor = 0;
    if (!ms || (ms->type != BJ_STRING && ms->type != BJ_NUMBER)) {
        bind_sample_malformed(out, TW_BIND_REJECT_SENSOR, 0, NAN, line);
        tw_bind_source_report(r->src, line, ms ? "\"%s\" must be a string" : "no \"%s\" member", r->k_sensor);
        return TW_OK;
    }
    const char *s;
    size_t sl;
    bool ok = bj_string(ms, r->scratch, sizeof r->scratch, &s, &sl);
    if (ok) {
        tw_status st = intern_name(r, s, sl, "", 0, &sensor, &ok);
        if (st != TW_OK) return st;
    }
    if (!ok) {
        bind_sample_malformed(out, TW_BIND_REJECT_SENSOR, 0, NAN, line);
        tw_bind_source_report(r->src, line, "the sensor id is empty, badly escaped or longer than %d bytes",
                              TW_BIND_SENSOR_NAME_MAX);
        return TW_OK;
    }
    /* time */
    const bj_member *mt = bj_find(m, n, r->k_time);
    double t = NAN;
    bool tok = false;
    if (mt && mt->type == BJ_NUMBER) {
        double v;
        if (bj_number(mt, &v)) {
            t = r->time_format == TW_BIND_TIME_ISO8601 ? NAN : bind_epoch_scaled(v, r->time_format);
            tok = isfinite(t);
        }
    } else if (mt && mt->type == BJ_STRING) {
        const char *ts;
        size_t tl;
        tok = bj_string(mt, r->scratch, sizeof r->scratch, &ts, &tl) &&
              bind_parse_time(ts, tl, r->time_format, false, &t);
    }
    if (!tok) {
        bind_sample_malformed(out, TW_BIND_REJECT_TIME, sensor, NAN, line);
        if (mt) {
            quote_text(q, sizeof q, mt->val, mt->val_len);
            tw_bind_source_report(r->src, line, "cannot read the time \"%s\"", q);
        } else {
            tw_bind_source_report(r->src, line, "no \"%s\" member", r->k_time);
        }
        return TW_OK;
    }
    /* value */
    const bj_member *mv = bj_find(m, n, r->k_value);
    double v = 0;
    bool vok = false;
    if (mv) vok = bj_value(mv, r->scratch, sizeof r->scratch, &v);
    if (!vok) {
        bind_sample_malformed(out, TW_BIND_REJECT_VALUE, sensor, t, line);
        if (mv) {
            quote_text(q, sizeof q, mv->val, mv->val_len);
            tw_bind_source_report(r->src, line, "cannot read the value %s", q);
        } else {
            tw_bind_source_report(r->src, line, "no \"%s\" member", r->k_value);
        }
        return TW_OK;
    }
    uint8_t quality = TW_BIND_SAMPLE_GOOD;
    const bj_member *mq = bj_find(m, n, r->k_quality);
    if (mq && mq->type != BJ_NULL) {
        const char *qs = mq->val;
        size_t ql = mq->val_len;
        bool qok = (mq->type == BJ_STRING || mq->type == BJ_NUMBER) &&
                   (mq->type != BJ_STRING || bj_string(mq, r->scratch, sizeof r->scratch, &qs, &ql)) &&
                   bind_parse_quality(qs, ql, &quality);
        if (!qok) {
            bind_sample_malformed(out, TW_BIND_REJECT_QUALITY, sensor, t, line);
            quote_text(q, sizeof q, mq->val, mq->val_len);
            tw_bind_source_report(r->src, line, "unknown quality %s (good, uncertain, bad or 0, 1, 2)", q);
            return TW_OK;
        }
    }
    uint8_t unit = TW_BIND_UNIT_NONE;
    const bj_member *mu = bj_find(m, n, r->k_unit);
    if (mu && mu->type == BJ_STRING) {
        const char *us;
        size_t ul;
        unit = bj_string(mu, r->scratch, sizeof r->scratch, &us, &ul) ? tw_bind_unit_lookup(us, ul)
                                                                       : TW_BIND_UNIT_UNKNOWN;
    }
    bind_sample_value(out, t, sensor, v, quality, unit, line);
    return TW_OK;
}

/* One SenML record; *emitted is 0 for a record of base fields only. */
static tw_status senml_record(json_reader *r, const char *obj, size_t len, tw_bind_sample *out, uint32_t *emitted)
{
    uint32_t n;
    *emitted = 1;
    if (!scan_record(r, obj, len, &n, out)) return TW_OK;
    uint64_t line = r->obj_line;
    bind_senml_record rec;
    bind_senml_record_read(r->members, n, &r->base, r->scratch, sizeof r->scratch, &rec);
    if (rec.problem) {
        bind_sample_malformed(out, rec.why, 0, NAN, line);
        tw_bind_source_report(r->src, line, "%s", rec.problem);
        return TW_OK;
    }
    if (rec.base_only) {
        *emitted = 0;
        return TW_OK;
    }
    uint32_t sensor = 0;
    bool ok;
    tw_status st = intern_name(r, r->base.bn, r->base.bn_len, rec.name, rec.name_len, &sensor, &ok);
    if (st != TW_OK) return st;
    if (!ok) {
        bind_sample_malformed(out, TW_BIND_REJECT_SENSOR, 0, NAN, line);
        if (r->base.bn_len + rec.name_len)
            tw_bind_source_report(r->src, line, "the name (bn + n) is longer than %d bytes", TW_BIND_SENSOR_NAME_MAX);
        else
            tw_bind_source_report(r->src, line, "a record without a name (n or bn)");
        return TW_OK;
    }
    /* time: bt + t; below 2^28 it is relative to now */
    double time = rec.time;
    if (fabs(time) < 268435456.0) {
        if (r->senml_now != 0.0)
            time += r->senml_now;
        else if (r->live)
            time += tw_clock_unix_s();
    }
    if (!isfinite(time)) {
        bind_sample_malformed(out, TW_BIND_REJECT_TIME, sensor, NAN, line);
        tw_bind_source_report(r->src, line, "the time (bt + t) is not finite");
        return TW_OK;
    }
    switch (rec.kind) {
    case BIND_SENML_OTHER:
        bind_sample_value(out, time, sensor, NAN, TW_BIND_SAMPLE_GOOD, rec.unit, line);
        out->kind = TW_BIND_SAMPLE_IGNORED;
        return TW_OK;
    case BIND_SENML_MISSING:
        bind_sample_malformed(out, TW_BIND_REJECT_VALUE, sensor, time, line);
        tw_bind_source_report(r->src, line, "a record with a name but no value (v, vs, vb, vd or s)");
        return TW_OK;
    case BIND_SENML_UNREADABLE:
        bind_sample_malformed(out, TW_BIND_REJECT_VALUE, sensor, time, line);
        tw_bind_source_report(r->src, line, "cannot read the value");
        return TW_OK;
    case BIND_SENML_NUMBER: break;
    }
    bind_sample_value(out, time, sensor, rec.value, TW_BIND_SAMPLE_GOOD, rec.unit, line);
    return TW_OK;
}

static tw_status json_read(tw_bind_source *s, void *impl, tw_bind_sample *out, uint32_t max, uint32_t *count)
{
    json_reader *r = impl;
    uint32_t n = 0;
    tw_status result = TW_OK;
    if (s->state == TW_BIND_SOURCE_WAITING) s->state = TW_BIND_SOURCE_READY;
    while (n < max) {
        char *obj;
        size_t len;
        obj_status st = next_object(r, &obj, &len);
        if (st == OBJ_EOF) {
            s->state = TW_BIND_SOURCE_END;
            break;
        }
        if (st == OBJ_WAIT) {
            s->state = n ? TW_BIND_SOURCE_READY : TW_BIND_SOURCE_WAITING;
            break;
        }
        if (st == OBJ_ERROR) {
            result = r->in.nomem ? TW_ERR_NOMEM : TW_ERR_IO;
            if (!r->in.nomem) tw_bind_source_report(s, 0, "read error: %s", strerror(r->in.err));
            break;
        }
        s->stats.records++;
        if (st == OBJ_BAD) {
            bind_sample_malformed(&out[n++], TW_BIND_REJECT_LINE, 0, NAN, r->obj_line);
            continue;
        }
        if (r->senml) {
            if (r->array_depth == 0) senml_reset_base(r); /* a lone record is a pack of one */
            uint32_t k;
            result = senml_record(r, obj, len, &out[n], &k);
            if (result != TW_OK) break;
            n += k;
        } else {
            result = jsonl_record(r, obj, len, &out[n]);
            if (result != TW_OK) break;
            n++;
        }
    }
    s->stats.lines = r->line;
    s->stats.bytes = r->in.bytes;
    *count = n;
    return result;
}

static void json_destroy(tw_bind_source *s, void *impl)
{
    json_reader *r = impl;
    (void)s;
    if (!r) return;
    tw_allocator a = r->in.alloc;
    bind_input_fini(&r->in);
    tw_free(&a, r->strings, r->strings_size);
    tw_free(&a, r, sizeof *r);
}

static const tw_bind_source_vtable jsonl_vtable = { "jsonl", json_read, json_destroy };
static const tw_bind_source_vtable senml_vtable = { "senml", json_read, json_destroy };

tw_status bind_json_open(tw_bind_source *src, bind_input *in, const tw_bind_source_desc *desc, bool senml,
                         tw_diag *diag)
{
    json_reader *r = tw_calloc(&src->alloc, 1, sizeof *r);
    if (!r) {
        bind_input_fini(in);
        tw_diag_set(diag, "out of memory opening %s", src->name);
        return TW_ERR_NOMEM;
    }
    r->src = src;
    r->in = *in;
    r->senml = senml;
    r->live = desc->live;
    r->time_format = desc->time_format;
    r->senml_now = desc->json.senml_now;
    const tw_bind_json_options *o = &desc->json;
    const char *in_s[6] = { desc->sensor_prefix, o->time_key ? o->time_key : "time",
                            o->sensor_key ? o->sensor_key : "sensor", o->value_key ? o->value_key : "value",
                            o->quality_key ? o->quality_key : "quality", o->unit_key ? o->unit_key : "unit" };
    size_t total = 0;
    for (int i = 0; i < 6; i++) total += in_s[i] ? strlen(in_s[i]) + 1 : 0;
    r->strings = tw_alloc(&src->alloc, total);
    if (!r->strings) {
        json_destroy(src, r);
        tw_diag_set(diag, "out of memory opening %s", src->name);
        return TW_ERR_NOMEM;
    }
    r->strings_size = total;
    const char *out_s[6] = { NULL };
    size_t off = 0;
    for (int i = 0; i < 6; i++) {
        if (!in_s[i]) continue;
        size_t l = strlen(in_s[i]) + 1;
        memcpy(r->strings + off, in_s[i], l);
        out_s[i] = r->strings + off;
        off += l;
    }
    r->prefix = out_s[0];
    r->prefix_len = r->prefix ? strlen(r->prefix) : 0;
    r->k_time = out_s[1];
    r->k_sensor = out_s[2];
    r->k_value = out_s[3];
    r->k_quality = out_s[4];
    r->k_unit = out_s[5];
    r->line = 1;
    senml_reset_base(r);
    src->vt = senml ? &senml_vtable : &jsonl_vtable;
    src->impl = r;
    return TW_OK;
}
