/* MQTT payloads to samples, and mqtt:// URLs.
 *
 * A message is decoded whole (the network thread already holds all of it),
 * in place and without allocating: a bare number, a JSON object scanned
 * with the JSON Lines scanner (jsonscan.c), or a SenML pack whose records are
 * cut out by bracket counting and scanned one by one. The rules are the
 * file readers' (json_reader.c), with two differences that come from MQTT:
 * the topic stands in for a missing sensor id or SenML name, and the arrival
 * time for a missing measured time ("now" of SenML's relative times). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_internal.h"

const char *tw_bind_payload_name(tw_bind_payload p)
{
    switch (p) {
    case TW_BIND_PAYLOAD_NUMBER: return "number";
    case TW_BIND_PAYLOAD_JSON: return "json";
    case TW_BIND_PAYLOAD_SENML: return "senml";
    default: return "auto";
    }
}

void bind_mqtt_decoder_init(bind_mqtt_decoder *d, tw_bind_sensors *sensors)
{
    memset(d, 0, sizeof *d);
    d->sensors = sensors;
    d->k_time = "time";
    d->k_sensor = "sensor";
    d->k_value = "value";
    d->k_quality = "quality";
    d->k_unit = "unit";
}

/* ---- one message ----------------------------------------------------------------- */

typedef struct message {
    bind_mqtt_decoder *d;
    const char *topic;
    size_t topic_len;
    double arrival;
    uint64_t number;
    bind_mqtt_emit emit;
    void *user;
    /* SenML base fields of the pack */
    bind_senml_base base;
} message;

static void quote_text(char *out, size_t size, const char *s, size_t n)
{
    size_t k = n < 60 ? n : 60, o = 0;
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

/* Reports one problem with the message, naming its topic. Formats only what
 * the source will keep or log: a flood of bad messages costs a count each. */
static void report(message *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void report(message *m, const char *fmt, ...)
{
    tw_bind_source *src = m->d->src;
    if (!src) return;
    if (src->errors_kept >= TW_BIND_SOURCE_ERRORS_KEPT && src->stats.errors >= TW_BIND_SOURCE_ERRORS_KEPT) {
        tw_bind_source_report(src, 0, "%s", "");
        return;
    }
    char what[TW_BIND_ERROR_MAX], topic[80];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    quote_text(topic, sizeof topic, m->topic, m->topic_len);
    tw_bind_source_report(src, 0, "topic \"%s\": %s", topic, what);
}

static tw_status put_value(message *m, double t, uint32_t sensor, double v, uint8_t quality, uint8_t unit)
{
    tw_bind_sample s;
    bind_sample_value(&s, t, sensor, v, quality, unit, m->number);
    s.arrival = m->arrival;
    return m->emit(m->user, &s);
}

static tw_status put_ignored(message *m, double t, uint32_t sensor)
{
    tw_bind_sample s;
    bind_sample_value(&s, t, sensor, NAN, TW_BIND_SAMPLE_GOOD, TW_BIND_UNIT_NONE, m->number);
    s.kind = TW_BIND_SAMPLE_IGNORED;
    s.arrival = m->arrival;
    return m->emit(m->user, &s);
}

static tw_status put_malformed(message *m, tw_bind_reject why, uint32_t sensor, double t)
{
    tw_bind_sample s;
    bind_sample_malformed(&s, why, sensor, t, m->number);
    s.arrival = m->arrival;
    m->d->errors++;
    return m->emit(m->user, &s);
}

/* Interns prefix + a + b; *ok false when the id would be empty or too long. */
static tw_status intern2(message *m, const char *a, size_t al, const char *b, size_t bl, uint32_t *id, bool *ok)
{
    bind_mqtt_decoder *d = m->d;
    *ok = false;
    if (al + bl == 0 || d->prefix_len + al + bl > TW_BIND_SENSOR_NAME_MAX) return TW_OK;
    memcpy(d->name, a, al);
    if (bl) memcpy(d->name + al, b, bl);
    tw_status st = bind_intern_sensor(d->sensors, d->prefix, d->prefix_len, NULL, 0, d->name, al + bl, id);
    if (st == TW_ERR_NOMEM) return st;
    *ok = st == TW_OK;
    return TW_OK;
}

/* The topic as a sensor id; a malformed sample when it cannot be one. */
static tw_status topic_sensor(message *m, uint32_t *id, bool *ok)
{
    tw_status st = intern2(m, m->topic, m->topic_len, "", 0, id, ok);
    if (st != TW_OK || *ok) return st;
    report(m, "the topic is empty or longer than %d bytes, so it cannot be a sensor id", TW_BIND_SENSOR_NAME_MAX);
    return put_malformed(m, TW_BIND_REJECT_SENSOR, 0, NAN);
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* ---- a bare number ----------------------------------------------------------------- */

static tw_status decode_number(message *m, const char *p, size_t n)
{
    uint32_t id;
    bool ok;
    tw_status st = topic_sensor(m, &id, &ok);
    if (st != TW_OK || !ok) return st;
    const char *t = bind_trim(p, &n);
    double v;
    if (bind_word_eq(t, n, "true")) {
        v = 1.0;
    } else if (bind_word_eq(t, n, "false")) {
        v = 0.0;
    } else if (!bind_parse_number(t, n, false, &v)) {
        char q[72];
        quote_text(q, sizeof q, t, n);
        report(m, "cannot read the payload \"%s\" as a number", q);
        return put_malformed(m, TW_BIND_REJECT_VALUE, id, m->arrival);
    }
    return put_value(m, m->arrival, id, v, TW_BIND_SAMPLE_GOOD, TW_BIND_UNIT_NONE);
}

/* ---- JSON ------------------------------------------------------------------------------ */

/* Scans one object; on a syntax error reports it and emits a malformed sample. */
static tw_status scan(message *m, const char *obj, size_t len, uint32_t *count, bool *ok)
{
    size_t off;
    const char *why;
    *ok = bj_object_scan(obj, len, m->d->members, BJ_MAX_MEMBERS, count, &off, &why);
    if (*ok) return TW_OK;
    report(m, "column %zu: %s", off + 1, why);
    return put_malformed(m, TW_BIND_REJECT_LINE, 0, NAN);
}

/* {"time": ..., "sensor": ..., "value": ..., "quality": ..., "unit": ...}, as JSON Lines. */
static tw_status json_record(message *m, uint32_t n)
{
    bind_mqtt_decoder *d = m->d;
    const bj_member *mb = d->members;
    char q[72];
    uint32_t sensor = 0;
    bool ok;
    tw_status st;
    const bj_member *ms = bj_find(mb, n, d->k_sensor);
    if (!ms) {
        st = topic_sensor(m, &sensor, &ok);
        if (st != TW_OK || !ok) return st;
    } else {
        const char *s;
        size_t sl;
        ok = (ms->type == BJ_STRING || ms->type == BJ_NUMBER) && bj_string(ms, d->scratch, sizeof d->scratch, &s, &sl);
        if (ok) {
            st = intern2(m, s, sl, "", 0, &sensor, &ok);
            if (st != TW_OK) return st;
        }
        if (!ok) {
            report(m, "\"%s\" must be a non-empty string of at most %d bytes", d->k_sensor, TW_BIND_SENSOR_NAME_MAX);
            return put_malformed(m, TW_BIND_REJECT_SENSOR, 0, NAN);
        }
    }
    double t = m->arrival;
    const bj_member *mt = bj_find(mb, n, d->k_time);
    if (mt) {
        bool tok = false;
        if (mt->type == BJ_NUMBER) {
            double v;
            if (bj_number(mt, &v) && d->time_format != TW_BIND_TIME_ISO8601) {
                t = bind_epoch_scaled(v, d->time_format);
                tok = isfinite(t);
            }
        } else if (mt->type == BJ_STRING) {
            const char *ts;
            size_t tl;
            tok = bj_string(mt, d->scratch, sizeof d->scratch, &ts, &tl) &&
                  bind_parse_time(ts, tl, d->time_format, false, &t) && isfinite(t);
        }
        if (!tok) {
            quote_text(q, sizeof q, mt->val, mt->val_len);
            report(m, "cannot read the time \"%s\"", q);
            return put_malformed(m, TW_BIND_REJECT_TIME, sensor, NAN);
        }
    }
    const bj_member *mv = bj_find(mb, n, d->k_value);
    double v = 0.0;
    bool vok = false;
    if (mv) vok = bj_value(mv, d->scratch, sizeof d->scratch, &v);
    if (!vok) {
        if (mv) {
            quote_text(q, sizeof q, mv->val, mv->val_len);
            report(m, "cannot read the value %s", q);
        } else {
            report(m, "no \"%s\" member", d->k_value);
        }
        return put_malformed(m, TW_BIND_REJECT_VALUE, sensor, t);
    }
    uint8_t quality = TW_BIND_SAMPLE_GOOD;
    const bj_member *mq = bj_find(mb, n, d->k_quality);
    if (mq && mq->type != BJ_NULL) {
        const char *qs = mq->val;
        size_t ql = mq->val_len;
        bool qok = (mq->type == BJ_STRING || mq->type == BJ_NUMBER) &&
                   (mq->type != BJ_STRING || bj_string(mq, d->scratch, sizeof d->scratch, &qs, &ql)) &&
                   bind_parse_quality(qs, ql, &quality);
        if (!qok) {
            quote_text(q, sizeof q, mq->val, mq->val_len);
            report(m, "unknown quality %s (good, uncertain, bad or 0, 1, 2)", q);
            return put_malformed(m, TW_BIND_REJECT_QUALITY, sensor, t);
        }
    }
    uint8_t unit = TW_BIND_UNIT_NONE;
    const bj_member *mu = bj_find(mb, n, d->k_unit);
    if (mu && mu->type == BJ_STRING) {
        const char *us;
        size_t ul;
        unit = bj_string(mu, d->scratch, sizeof d->scratch, &us, &ul) ? tw_bind_unit_lookup(us, ul)
                                                                      : TW_BIND_UNIT_UNKNOWN;
    }
    return put_value(m, t, sensor, v, quality, unit);
}

/* ---- SenML ------------------------------------------------------------------------------- */

static void senml_reset(message *m)
{
    bind_senml_base_reset(&m->base);
}

/* One SenML record (already scanned), with the pack's base fields. */
static tw_status senml_record(message *m, uint32_t n)
{
    bind_mqtt_decoder *d = m->d;
    bind_senml_record rec;
    bind_senml_record_read(d->members, n, &m->base, d->scratch, sizeof d->scratch, &rec);
    if (rec.problem) {
        report(m, "%s", rec.problem);
        return put_malformed(m, rec.why, 0, NAN);
    }
    if (rec.base_only) return TW_OK;
    uint32_t sensor = 0;
    bool ok;
    tw_status st;
    if (m->base.bn_len + rec.name_len == 0) {
        st = topic_sensor(m, &sensor, &ok); /* no name at all: the topic names the sensor */
        if (st != TW_OK || !ok) return st;
    } else {
        st = intern2(m, m->base.bn, m->base.bn_len, rec.name, rec.name_len, &sensor, &ok);
        if (st != TW_OK) return st;
        if (!ok) {
            report(m, "the name (bn + n) is longer than %d bytes", TW_BIND_SENSOR_NAME_MAX);
            return put_malformed(m, TW_BIND_REJECT_SENSOR, 0, NAN);
        }
    }
    /* bt + t; below 2^28 s it is relative to now, which live means the arrival. */
    double time = rec.time;
    if (fabs(time) < 268435456.0) time += m->arrival;
    if (!isfinite(time)) {
        report(m, "the time (bt + t) is not finite");
        return put_malformed(m, TW_BIND_REJECT_TIME, sensor, NAN);
    }
    switch (rec.kind) {
    case BIND_SENML_OTHER: return put_ignored(m, time, sensor);
    case BIND_SENML_MISSING:
        report(m, "a SenML record with a name but no value (v, vs, vb, vd or s)");
        return put_malformed(m, TW_BIND_REJECT_VALUE, sensor, time);
    case BIND_SENML_UNREADABLE:
        report(m, "cannot read the SenML value");
        return put_malformed(m, TW_BIND_REJECT_VALUE, sensor, time);
    case BIND_SENML_NUMBER: break;
    }
    return put_value(m, time, sensor, rec.value, TW_BIND_SAMPLE_GOOD, rec.unit);
}

/* Index just past the object that starts at p[i] == '{', or 0 when it is not closed. */
static size_t object_end(const char *p, size_t n, size_t i)
{
    int depth = 0;
    bool in_str = false, esc = false;
    for (; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) return i + 1;
        }
    }
    return 0;
}

static tw_status decode_senml_pack(message *m, const char *p, size_t n, size_t i)
{
    senml_reset(m);
    i++; /* '[' */
    for (;;) {
        while (i < n && (is_ws(p[i]) || p[i] == ',')) i++;
        if (i >= n) {
            report(m, "the SenML pack ('[') is not closed");
            return put_malformed(m, TW_BIND_REJECT_LINE, 0, NAN);
        }
        if (p[i] == ']') {
            i++;
            while (i < n && is_ws(p[i])) i++;
            if (i == n) return TW_OK;
            char q[72];
            quote_text(q, sizeof q, p + i, n - i);
            report(m, "text after the end of the SenML pack: \"%s\"", q);
            return put_malformed(m, TW_BIND_REJECT_LINE, 0, NAN);
        }
        if (p[i] != '{') {
            char q[72];
            quote_text(q, sizeof q, p + i, n - i);
            report(m, "a SenML pack holds record objects, found \"%s\"", q);
            return put_malformed(m, TW_BIND_REJECT_LINE, 0, NAN);
        }
        size_t end = object_end(p, n, i);
        if (!end) {
            report(m, "a SenML record that is not closed");
            return put_malformed(m, TW_BIND_REJECT_LINE, 0, NAN);
        }
        uint32_t count;
        bool ok;
        tw_status st = scan(m, p + i, end - i, &count, &ok);
        if (st == TW_OK && ok) st = senml_record(m, count);
        if (st != TW_OK) return st;
        i = end;
    }
}

/* A lone object: JSON, or a SenML record (a pack of one). */
static tw_status decode_object(message *m, const char *p, size_t n, tw_bind_payload kind)
{
    uint32_t count;
    bool ok;
    tw_status st = scan(m, p, n, &count, &ok);
    if (st != TW_OK || !ok) return st;
    if (kind == TW_BIND_PAYLOAD_AUTO) {
        /* SenML when it has SenML's keys and not the JSON value key. */
        kind = TW_BIND_PAYLOAD_JSON;
        if (!bj_find(m->d->members, count, m->d->k_value)) {
            static const char *const senml_keys[] = { "v", "vs", "vb", "vd", "s", "bn", "n", "bt", "bv" };
            for (size_t k = 0; k < sizeof senml_keys / sizeof senml_keys[0]; k++)
                if (bj_find(m->d->members, count, senml_keys[k])) {
                    kind = TW_BIND_PAYLOAD_SENML;
                    break;
                }
        }
    }
    if (kind == TW_BIND_PAYLOAD_SENML) {
        senml_reset(m);
        return senml_record(m, count);
    }
    return json_record(m, count);
}

tw_status bind_mqtt_decode(bind_mqtt_decoder *d, const char *topic, size_t topic_len, const void *payload,
                           size_t payload_len, double arrival, uint64_t number, bind_mqtt_emit emit, void *user)
{
    message m;
    m.d = d;
    m.topic = topic;
    m.topic_len = topic_len;
    m.arrival = arrival;
    m.number = number;
    m.emit = emit;
    m.user = user;
    senml_reset(&m);
    const char *p = payload_len ? payload : "";
    size_t n = payload_len, i = 0;
    while (i < n && is_ws(p[i])) i++;
    if (i == n) {
        /* Empty: how a retained message is cleared. Nothing to apply. */
        uint32_t id;
        bool ok;
        tw_status st = intern2(&m, topic, topic_len, "", 0, &id, &ok);
        if (st != TW_OK) return st;
        return put_ignored(&m, arrival, ok ? id : 0);
    }
    tw_bind_payload kind = d->payload;
    if (kind == TW_BIND_PAYLOAD_AUTO) {
        if (p[i] == '[') kind = TW_BIND_PAYLOAD_SENML;
        else if (p[i] != '{') kind = TW_BIND_PAYLOAD_NUMBER;
    }
    switch (kind) {
    case TW_BIND_PAYLOAD_NUMBER: return decode_number(&m, p, n);
    case TW_BIND_PAYLOAD_SENML:
        if (p[i] == '[') return decode_senml_pack(&m, p, n, i);
        if (p[i] == '{') return decode_object(&m, p + i, n - i, TW_BIND_PAYLOAD_SENML);
        report(&m, "a SenML payload must be a pack ('[') or a record ('{')");
        return put_malformed(&m, TW_BIND_REJECT_LINE, 0, NAN);
    case TW_BIND_PAYLOAD_JSON:
        if (p[i] != '{') {
            report(&m, "a JSON payload must be an object ('{')");
            return put_malformed(&m, TW_BIND_REJECT_LINE, 0, NAN);
        }
        return decode_object(&m, p + i, n - i, TW_BIND_PAYLOAD_JSON);
    default: return decode_object(&m, p + i, n - i, TW_BIND_PAYLOAD_AUTO);
    }
}

/* ---- URLs ------------------------------------------------------------------------------------ */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out; false when it does not fit or an escape is bad. */
static bool pct_decode(const char *s, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) return false;
            int h = hex_digit(s[i + 1]), l = hex_digit(s[i + 2]);
            if (h < 0 || l < 0) return false;
            c = (char)(h * 16 + l);
            if (c == '\0') return false;
            i += 2;
        }
        if (o + 1 >= size) return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

static bool parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) *out = 1;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) *out = 0;
    else return false;
    return true;
}

static bool query_item(bind_mqtt_url *u, const char *k, size_t kl, const char *v, size_t vl, char *msg, size_t msg_size)
{
    char key[32], val[BIND_MQTT_TOPIC_MAX];
    if (kl >= sizeof key || !pct_decode(k, kl, key, sizeof key)) {
        snprintf(msg, msg_size, "a query key that is too long or badly escaped");
        return false;
    }
    if (!pct_decode(v, vl, val, sizeof val)) {
        snprintf(msg, msg_size, "the value of \"%s\" is too long or badly escaped", key);
        return false;
    }
    char *end;
#define TEXT(name, field)                                                                                  \
    if (!strcmp(key, name)) {                                                                              \
        if (strlen(val) >= sizeof u->field) {                                                              \
            snprintf(msg, msg_size, "the value of \"%s\" is longer than %zu bytes", key, sizeof u->field - 1); \
            return false;                                                                                  \
        }                                                                                                  \
        memcpy(u->field, val, strlen(val) + 1);                                                            \
        return true;                                                                                       \
    }
    TEXT("client_id", client_id)
    TEXT("ca", ca_file)
    TEXT("capath", ca_path)
    TEXT("cert", cert_file)
    TEXT("key", key_file)
#undef TEXT
    if (!strcmp(key, "topic")) {
        if (u->topic_count >= BIND_MQTT_URL_TOPICS) {
            snprintf(msg, msg_size, "more than %d topic filters in the URL", BIND_MQTT_URL_TOPICS);
            return false;
        }
        if (!val[0]) {
            snprintf(msg, msg_size, "an empty topic filter");
            return false;
        }
        memcpy(u->topics[u->topic_count++], val, strlen(val) + 1);
        return true;
    }
    if (!strcmp(key, "qos")) {
        if (strcmp(val, "0") && strcmp(val, "1")) {
            snprintf(msg, msg_size, "qos must be 0 or 1, not \"%s\"", val);
            return false;
        }
        u->qos = val[0] - '0';
        return true;
    }
    if (!strcmp(key, "clean") || !strcmp(key, "insecure")) {
        int b;
        if (!parse_bool(val, &b)) {
            snprintf(msg, msg_size, "%s must be true or false, not \"%s\"", key, val);
            return false;
        }
        if (key[0] == 'c')
            u->clean = b;
        else
            u->insecure = b;
        return true;
    }
    if (!strcmp(key, "keepalive")) {
        double s = strtod(val, &end);
        if (end == val || *end || !(s >= 5.0 && s <= 65535.0)) {
            snprintf(msg, msg_size, "keepalive must be a number of seconds from 5 to 65535, not \"%s\"", val);
            return false;
        }
        u->keepalive = s;
        return true;
    }
    if (!strcmp(key, "payload")) {
        static const char *const names[] = { "auto", "number", "json", "senml" };
        for (int i = 0; i < 4; i++)
            if (!strcmp(val, names[i])) {
                u->payload = i;
                return true;
            }
        snprintf(msg, msg_size, "payload must be auto, number, json or senml, not \"%s\"", val);
        return false;
    }
    snprintf(msg, msg_size,
             "unknown query key \"%s\" (topic, qos, client_id, clean, keepalive, payload, ca, capath, cert, key, "
             "insecure)",
             key);
    return false;
}

bool bind_mqtt_url_parse(const char *url, bind_mqtt_url *u, char *msg, size_t msg_size)
{
    memset(u, 0, sizeof *u);
    u->qos = u->clean = u->insecure = u->payload = -1;
    u->keepalive = -1.0;
    const char *p = url;
    if (!strncmp(p, "mqtt://", 7) || !strncmp(p, "tcp://", 6)) {
        p += p[0] == 'm' ? 7 : 6;
    } else if (!strncmp(p, "mqtts://", 8) || !strncmp(p, "ssl://", 6)) {
        p += p[0] == 'm' ? 8 : 6;
        u->tls = true;
    } else {
        snprintf(msg, msg_size, "an MQTT URL starts with mqtt:// or mqtts://");
        return false;
    }
    /* authority: up to '/', '?' or the end */
    size_t alen = strcspn(p, "/?");
    const char *auth = p, *host = p;
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@') at = auth + i; /* the last '@': a password may hold one, escaped or not */
    if (at) {
        size_t ulen = (size_t)(at - auth);
        const char *colon = memchr(auth, ':', ulen);
        size_t name_len = colon ? (size_t)(colon - auth) : ulen;
        if (!pct_decode(auth, name_len, u->user, sizeof u->user)) {
            snprintf(msg, msg_size, "the user name is too long or badly escaped");
            return false;
        }
        u->has_user = true;
        if (colon) {
            if (!pct_decode(colon + 1, ulen - name_len - 1, u->password, sizeof u->password)) {
                snprintf(msg, msg_size, "the password is too long or badly escaped");
                return false;
            }
            u->has_password = true;
        }
        host = at + 1;
    }
    size_t hlen = (size_t)(auth + alen - host);
    const char *port = NULL;
    size_t name_len = hlen;
    if (hlen && host[0] == '[') {
        const char *close = memchr(host, ']', hlen);
        if (!close) {
            snprintf(msg, msg_size, "an IPv6 address in the URL needs a closing ']'");
            return false;
        }
        if ((size_t)(close - host) - 1 >= sizeof u->host) {
            snprintf(msg, msg_size, "the host name is too long");
            return false;
        }
        memcpy(u->host, host + 1, (size_t)(close - host) - 1);
        u->host[close - host - 1] = '\0';
        if (close + 1 < host + hlen) {
            if (close[1] != ':') {
                snprintf(msg, msg_size, "expected ':' and a port after the IPv6 address");
                return false;
            }
            port = close + 2;
        }
    } else {
        const char *colon = memchr(host, ':', hlen);
        if (colon) {
            name_len = (size_t)(colon - host);
            port = colon + 1;
        }
        if (name_len >= sizeof u->host) {
            snprintf(msg, msg_size, "the host name is too long");
            return false;
        }
        memcpy(u->host, host, name_len);
        u->host[name_len] = '\0';
    }
    if (!u->host[0]) {
        snprintf(msg, msg_size, "the URL names no host (mqtt://host:port/topic)");
        return false;
    }
    u->port = u->tls ? 8883 : 1883;
    if (port) {
        size_t pl = (size_t)(auth + alen - port);
        int v = 0;
        if (pl == 0 || pl > 5) v = -1;
        for (size_t i = 0; i < pl && v >= 0; i++)
            v = port[i] >= '0' && port[i] <= '9' ? v * 10 + (port[i] - '0') : -1;
        if (v < 1 || v > 65535) {
            snprintf(msg, msg_size, "the port must be a number from 1 to 65535");
            return false;
        }
        u->port = v;
    }
    p = auth + alen;
    if (*p == '/') {
        p++;
        size_t tl = strcspn(p, "?");
        if (tl) {
            if (!pct_decode(p, tl, u->topics[0], sizeof u->topics[0])) {
                snprintf(msg, msg_size, "the topic filter is too long or badly escaped");
                return false;
            }
            u->topic_count = 1;
        }
        p += tl;
    }
    if (*p == '?') {
        p++;
        while (*p) {
            size_t il = strcspn(p, "&");
            const char *eq = memchr(p, '=', il);
            if (il) {
                if (!eq) {
                    snprintf(msg, msg_size, "a query item without '=' (key=value)");
                    return false;
                }
                if (!query_item(u, p, (size_t)(eq - p), eq + 1, il - (size_t)(eq - p) - 1, msg, msg_size))
                    return false;
            }
            p += il;
            if (*p == '&') p++;
        }
    }
    return true;
}
