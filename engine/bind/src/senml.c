/* One SenML record (RFC 8428), shared by the JSON reader (json_reader.c) and
 * the MQTT decoder (mqtt_decode.c).
 *
 * Both read the same members, reject the same type errors with the same
 * sentences and carry the base fields (bn, bt, bu, bv) over to the records
 * that follow. What differs stays with the callers: how a sensor is named when
 * the record has no name (the MQTT topic), what "relative to now" means for a
 * time, and the wording of the value errors. */
#include <stdio.h>
#include <string.h>

#include "bind_internal.h"

void bind_senml_base_reset(bind_senml_base *b)
{
    b->bn_len = 0;
    b->bt = 0.0;
    b->bv = 0.0;
    b->bu = TW_BIND_UNIT_NONE;
}

/* A rejected record: its sentence and reason; the caller emits it with sensor 0 and no time. */
static void reject(bind_senml_record *rec, const char *problem, tw_bind_reject why)
{
    rec->problem = problem;
    rec->why = why;
}

void bind_senml_record_read(const bj_member *members, uint32_t n, bind_senml_base *base, char *scratch, size_t cap,
                            bind_senml_record *rec)
{
    rec->problem = NULL;
    rec->why = TW_BIND_REJECT_LINE;
    rec->base_only = false;
    rec->name_len = 0;
    const bj_member *bn = NULL, *bt = NULL, *bu = NULL, *bv = NULL, *bver = NULL;
    const bj_member *nm = NULL, *u = NULL, *v = NULL, *t = NULL, *vs = NULL, *vb = NULL, *vd = NULL, *sum = NULL;
    const char *problem = NULL;
    tw_bind_reject why = TW_BIND_REJECT_LINE;
    for (uint32_t i = 0; i < n; i++) {
        const bj_member *m = &members[i];
        const char *k = m->key;
        size_t kl = m->key_len;
        char kb[16];
        if (m->key_escaped) {
            size_t l = bj_unescape(m->key, m->key_len, kb, sizeof kb);
            if (l == SIZE_MAX) continue; /* too long to be a SenML key */
            k = kb;
            kl = l;
        }
#define KEY(name) (kl == sizeof(name) - 1 && memcmp(k, name, kl) == 0)
        if (KEY("bn")) bn = m;
        else if (KEY("bt")) bt = m;
        else if (KEY("bu")) bu = m;
        else if (KEY("bv")) bv = m;
        else if (KEY("bver")) bver = m;
        else if (KEY("n")) nm = m;
        else if (KEY("u")) u = m;
        else if (KEY("v")) v = m;
        else if (KEY("t")) t = m;
        else if (KEY("vs")) vs = m;
        else if (KEY("vb")) vb = m;
        else if (KEY("vd")) vd = m;
        else if (KEY("s")) sum = m;
        else if (kl && k[kl - 1] == '_') problem = "a must-understand field (ending in '_') that twin does not support";
#undef KEY
    }
    if (!problem) {
        if ((bn && bn->type != BJ_STRING) || (nm && nm->type != BJ_STRING) || (bu && bu->type != BJ_STRING) ||
            (u && u->type != BJ_STRING))
            problem = "bn, n, bu and u must be strings";
        else if ((bt && bt->type != BJ_NUMBER) || (t && t->type != BJ_NUMBER))
            problem = "bt and t must be numbers", why = TW_BIND_REJECT_TIME;
        else if ((bv && bv->type != BJ_NUMBER) || (v && v->type != BJ_NUMBER) || (sum && sum->type != BJ_NUMBER))
            problem = "bv, v and s must be numbers", why = TW_BIND_REJECT_VALUE;
        else if (vb && vb->type != BJ_TRUE && vb->type != BJ_FALSE)
            problem = "vb must be true or false", why = TW_BIND_REJECT_VALUE;
        else if ((vs && vs->type != BJ_STRING) || (vd && vd->type != BJ_STRING))
            problem = "vs and vd must be strings", why = TW_BIND_REJECT_VALUE;
    }
    double num;
    if (!problem && bver && (!bj_number(bver, &num) || num > 10))
        problem = "an unsupported SenML version (bver above 10)";
    if (problem) {
        reject(rec, problem, why);
        return;
    }
    /* Base fields first: they apply to this record and the ones after it. */
    if (bn) {
        const char *s;
        size_t l;
        if (!bj_string(bn, scratch, cap, &s, &l) || l > sizeof base->bn) {
            base->bn_len = 0;
            snprintf(rec->text, sizeof rec->text, "the base name is badly escaped or longer than %d bytes",
                     TW_BIND_SENSOR_NAME_MAX);
            reject(rec, rec->text, TW_BIND_REJECT_SENSOR);
            return;
        }
        memcpy(base->bn, s, l);
        base->bn_len = l;
    }
    if (bt && bj_number(bt, &num)) base->bt = num;
    if (bv && bj_number(bv, &num)) base->bv = num;
    if (bu) {
        const char *s;
        size_t l;
        base->bu = bj_string(bu, scratch, cap, &s, &l) ? tw_bind_unit_lookup(s, l) : TW_BIND_UNIT_UNKNOWN;
    }
    bool has_value = v || vs || vb || vd || sum;
    if (!has_value && !nm && !t) {
        /* Base fields only: they set up the records that follow. */
        rec->base_only = true;
        return;
    }
    if (nm) {
        const char *s;
        size_t l;
        if (!bj_string(nm, scratch, cap, &s, &l) || l > sizeof rec->name) {
            snprintf(rec->text, sizeof rec->text, "the name is badly escaped or longer than %d bytes",
                     TW_BIND_SENSOR_NAME_MAX);
            reject(rec, rec->text, TW_BIND_REJECT_SENSOR);
            return;
        }
        memcpy(rec->name, s, l);
        rec->name_len = l;
    }
    /* bt + t; whether it is relative to now is the caller's business. */
    rec->time = base->bt;
    if (t && bj_number(t, &num)) rec->time += num;
    rec->unit = base->bu;
    if (u) {
        const char *s;
        size_t l;
        rec->unit = bj_string(u, scratch, cap, &s, &l) ? tw_bind_unit_lookup(s, l) : TW_BIND_UNIT_UNKNOWN;
    }
    rec->value = 0.0;
    if (!v && (vs || vb || vd || sum))
        rec->kind = BIND_SENML_OTHER;
    else if (!v)
        rec->kind = BIND_SENML_MISSING;
    else if (!bj_number(v, &num))
        rec->kind = BIND_SENML_UNREADABLE;
    else {
        rec->kind = BIND_SENML_NUMBER;
        rec->value = base->bv + num;
    }
}
