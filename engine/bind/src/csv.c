/* CSV reader: long form (time, sensor, value[, quality][, unit]) and wide
 * form (a time column and one column per sensor).
 *
 * Records are found in the chunked input without copying: a newline ends a
 * record unless it is inside a quoted field (RFC 4180, with "" for a quote),
 * and a record cut by the end of a chunk is completed by the next fill. The
 * fast path is two memchr calls per line (newline, then a quote before it);
 * only lines with quotes are walked byte by byte. Quoted fields are unquoted
 * in place in the input buffer.
 *
 * The first record decides the delimiter (when not given) and whether there
 * is a header. A header with one name fewer than the fields of the first data
 * row means the rows start with a row name (R's write.csv), which is skipped.
 * Every problem costs one malformed sample and one message with the line:
 * a wide row that cannot be read is one, each unreadable cell another. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bind_internal.h"

enum { CSV_LONG = 1, CSV_WIDE = 2 };
enum { CSV_MAX_FIELDS = 65536 };

typedef enum rec_status { REC_OK, REC_EOF, REC_WAIT, REC_ERROR, REC_TOOLONG, REC_NOMEM } rec_status;

typedef struct csv_reader {
    tw_bind_source *src;
    bind_input in;
    tw_bind_time_format time_format;
    bool decimal_comma, comments;
    tw_bind_csv_layout want_layout;
    tw_bind_csv_header want_header;
    char delim;
    char *strings;            /* owned copies of the option strings, NUL-separated */
    size_t strings_size;
    const char *prefix;
    size_t prefix_len;
    const char *time_name, *sensor_name, *value_name, *quality_name, *unit_name, *key_name, *ignore;

    /* layout, once configured */
    bool configured;
    int layout;
    bool has_header;
    uint32_t row_offset;
    int time_col, sensor_col, value_col, quality_col, unit_col, key_col;
    uint32_t expected;        /* wide: fields per row */
    uint32_t *col_sensor;     /* wide, no key column: sensor id per field (0: not a sensor) */
    uint8_t *col_is_sensor;   /* wide: 1 for sensor columns */
    char *col_names;          /* wide with a key column: names, NUL-separated */
    uint32_t *col_name_off;
    size_t col_names_size;
    uint32_t col_cap;

    /* record scanning */
    size_t scan;
    bool scan_inq, scan_field_start;
    uint32_t scan_newlines;
    uint64_t line;            /* line of the next record */
    bool discarding;
    bool unterminated;        /* the last record ended inside quotes */

    /* the current record's fields */
    const char **fptr;
    size_t *flen;
    size_t fcap;
    uint32_t fcount;
    bool pending;             /* fields hold a data record not processed yet */
    bool toolong_pending;     /* a too-long record found while configuring, not yet emitted */
    uint64_t rec_line;

    /* a wide row being emitted */
    bool row_active;
    uint32_t row_cell;
    double row_time;
} csv_reader;

/* ---- helpers ------------------------------------------------------------------ */

static void quote_text(char *out, size_t size, const char *s, size_t n)
{
    size_t k = n < 40 ? n : 40;
    size_t o = 0;
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

static bool copy_strings(csv_reader *r, const char *const *in, const char **out, int count)
{
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        out[i] = NULL;
        total += in[i] ? strlen(in[i]) + 1 : 0;
    }
    if (total == 0) return true;
    char *buf = tw_alloc(&r->src->alloc, total);
    if (!buf) return false;
    r->strings = buf;
    r->strings_size = total;
    size_t o = 0;
    for (int i = 0; i < count; i++) {
        if (!in[i]) continue;
        size_t l = strlen(in[i]) + 1;
        memcpy(buf + o, in[i], l);
        out[i] = buf + o;
        o += l;
    }
    return true;
}

static tw_status grow_fields(csv_reader *r, size_t need)
{
    if (need <= r->fcap) return TW_OK;
    size_t ncap = r->fcap ? r->fcap : 16;
    while (ncap < need) ncap *= 2;
    const char **np = tw_realloc(&r->src->alloc, r->fptr, r->fcap * sizeof *np, ncap * sizeof *np);
    if (!np) return TW_ERR_NOMEM;
    r->fptr = np;
    size_t *nl = tw_realloc(&r->src->alloc, r->flen, r->fcap * sizeof *nl, ncap * sizeof *nl);
    if (!nl) return TW_ERR_NOMEM; /* fptr grew; fcap stays, so the next call reallocates both again */
    r->flen = nl;
    r->fcap = ncap;
    return TW_OK;
}

/* ---- finding records ---------------------------------------------------------- */

static void scan_reset(csv_reader *r)
{
    r->scan = 0;
    r->scan_inq = false;
    r->scan_field_start = true;
    r->scan_newlines = 0;
}

/* Index of the newline that ends the record starting at base, or -1 when
 * it is not in base[0..avail) yet (the scan state is kept to resume). */
static long find_record_end(csv_reader *r, const char *base, size_t avail, bool eof)
{
    size_t i = r->scan;
    if (!r->scan_inq) {
        const char *nl = memchr(base + i, '\n', avail - i);
        size_t end = nl ? (size_t)(nl - base) : avail;
        if (!memchr(base + i, '"', end - i)) {
            if (nl) return (long)end;
            if (avail > i) r->scan_field_start = base[avail - 1] == r->delim;
            r->scan = avail;
            return -1;
        }
    }
    const char d = r->delim;
    bool inq = r->scan_inq, fs = r->scan_field_start;
    for (; i < avail; i++) {
        char c = base[i];
        if (inq) {
            if (c == '"') {
                if (i + 1 >= avail && !eof) break; /* "" or the closing quote: decided by the next byte */
                if (i + 1 < avail && base[i + 1] == '"')
                    i++;
                else
                    inq = false;
            } else if (c == '\n') {
                r->scan_newlines++;
            }
            continue;
        }
        if (c == '\n') {
            r->scan_inq = false;
            return (long)i;
        }
        if (c == d) {
            fs = true;
            continue;
        }
        if (c == '"' && fs) inq = true;
        fs = false;
    }
    r->scan = i;
    r->scan_inq = inq;
    r->scan_field_start = fs;
    return -1;
}

static uint32_t count_newlines(const char *s, size_t n)
{
    uint32_t k = 0;
    const char *p = s, *e = s + n;
    while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        k++;
        p++;
    }
    return k;
}

/* The next record (blank lines skipped by the caller), with its first line. */
static rec_status next_record(csv_reader *r, char **rec, size_t *len, uint64_t *line)
{
    bind_input *in = &r->in;
    for (;;) {
        char *base = in->buf ? in->buf + in->start : NULL; /* NULL + 0 is undefined */
        size_t avail = in->end - in->start;
        if (r->discarding) {
            const char *nl = avail ? memchr(base, '\n', avail) : NULL;
            if (nl) {
                in->start += (size_t)(nl - base) + 1;
                r->line++;
                r->discarding = false;
                scan_reset(r);
                continue;
            }
            in->start = in->end;
            if (in->eof) {
                r->discarding = false;
                return REC_EOF;
            }
        } else if (avail) {
            long e = find_record_end(r, base, avail, in->eof);
            if (e >= 0 || in->eof) {
                size_t n = e >= 0 ? (size_t)e : avail;
                *rec = base;
                *len = n;
                *line = r->line;
                r->unterminated = e < 0 && r->scan_inq;
                r->line += 1 + r->scan_newlines;
                in->start += e >= 0 ? n + 1 : n;
                scan_reset(r);
                return REC_OK;
            }
        } else if (in->eof) {
            return REC_EOF;
        }
        bind_fill f = bind_input_fill(in);
        switch (f) {
        case BIND_FILL_MORE:
        case BIND_FILL_EOF: continue;
        case BIND_FILL_WAIT: return REC_WAIT;
        case BIND_FILL_ERROR: return REC_ERROR;
        case BIND_FILL_FULL:
            *line = r->line;
            r->line += count_newlines(in->buf + in->start, in->end - in->start);
            in->start = in->end;
            r->discarding = true;
            scan_reset(r);
            return REC_TOOLONG;
        }
    }
}

/* Splits rec into fields, unquoting in place. */
static tw_status split_fields(csv_reader *r, char *rec, size_t len)
{
    r->fcount = 0;
    const char d = r->delim;
    size_t i = 0;
    for (;;) {
        if (r->fcount >= r->fcap && grow_fields(r, (size_t)r->fcount + 1) != TW_OK) return TW_ERR_NOMEM;
        size_t start = i;
        if (i < len && rec[i] == '"') {
            size_t o = i;
            i++;
            for (;;) {
                if (i >= len) break; /* not closed: r->unterminated says so */
                if (rec[i] == '"') {
                    if (i + 1 < len && rec[i + 1] == '"') {
                        rec[o++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                rec[o++] = rec[i++];
            }
            /* Text between the closing quote and the delimiter is kept (lenient). */
            while (i < len && rec[i] != d) rec[o++] = rec[i++];
            r->fptr[r->fcount] = rec + start;
            r->flen[r->fcount] = o - start;
        } else {
            const char *p = i < len ? memchr(rec + i, d, len - i) : NULL;
            size_t e = p ? (size_t)(p - rec) : len;
            r->fptr[r->fcount] = rec + i;
            r->flen[r->fcount] = e - i;
            i = e;
        }
        r->fcount++;
        if (i < len && rec[i] == d) {
            i++;
            if (r->fcount >= CSV_MAX_FIELDS) return TW_ERR_LIMIT;
            continue;
        }
        return TW_OK;
    }
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

/* Reads records until a non-blank, non-comment one and splits it. */
static rec_status next_fields(csv_reader *r)
{
    for (;;) {
        char *rec;
        size_t len;
        uint64_t line;
        rec_status st = next_record(r, &rec, &len, &line);
        if (st != REC_OK) {
            if (st == REC_TOOLONG) {
                r->rec_line = line;
                tw_bind_source_report(r->src, line, "a record longer than %zu bytes; skipped to the next line",
                                      r->in.max_record);
            }
            return st;
        }
        r->src->stats.lines = r->line - 1;
        if (len && rec[len - 1] == '\r' && !r->unterminated) len--;
        if (is_blank(rec, len)) continue;
        if (r->comments && rec[0] == '#') continue;
        r->rec_line = line;
        if (!r->delim) {
            /* The most frequent candidate outside quotes in the first record. */
            static const char cands[4] = { ',', ';', '\t', '|' };
            size_t counts[4] = { 0 };
            bool q = false;
            for (size_t i = 0; i < len; i++) {
                if (rec[i] == '"') q = !q;
                if (q) continue;
                for (int k = 0; k < 4; k++)
                    if (rec[i] == cands[k]) counts[k]++;
            }
            int best = r->decimal_comma ? 1 : 0;
            for (int k = 0; k < 4; k++) {
                if (r->decimal_comma && k == 0) continue;
                if (counts[k] > counts[best]) best = k;
            }
            r->delim = cands[best];
        }
        tw_status s = split_fields(r, rec, len);
        if (s == TW_ERR_NOMEM) return REC_NOMEM;
        if (s == TW_ERR_LIMIT) {
            tw_bind_source_report(r->src, line, "more than %d fields in one record", CSV_MAX_FIELDS);
            return REC_TOOLONG;
        }
        r->src->stats.records++;
        return REC_OK;
    }
}

/* ---- configuration from the header ---------------------------------------------------- */

static const char *const time_names[] = { "time", "timestamp", "date", "datetime", "ts", "date_time", NULL };
static const char *const sensor_names[] = { "sensor", "sensor_id", "sensorid", "id", "name", "topic", "tag", NULL };
static const char *const value_names[] = { "value", "val", "v", "reading", NULL };
static const char *const quality_names[] = { "quality", "q", "status", NULL };
static const char *const unit_names[] = { "unit", "units", "u", NULL };

/* Header index of the configured name, else of the first usual name; -1 if none. */
static int find_column(const char *const *hp, const size_t *hl, uint32_t n, const char *configured,
                       const char *const *usual)
{
    if (configured) {
        for (uint32_t i = 0; i < n; i++) {
            size_t l = hl[i];
            const char *s = bind_trim(hp[i], &l);
            if (bind_word_eq(s, l, configured)) return (int)i;
        }
        return -1;
    }
    for (const char *const *u = usual; u && *u; u++) {
        for (uint32_t i = 0; i < n; i++) {
            size_t l = hl[i];
            const char *s = bind_trim(hp[i], &l);
            if (bind_word_eq(s, l, *u)) return (int)i;
        }
    }
    return -1;
}

static bool ieq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) return false;
    for (size_t i = 0; i < an; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

/* Is s one of the comma-separated names in list (case-insensitive)? */
static bool in_list(const char *list, const char *s, size_t n)
{
    if (!list || n == 0) return false;
    const char *p = list;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        const char *t = bind_trim(p, &l);
        if (ieq(t, l, s, n)) return true;
        if (!c) return false;
        p = c + 1;
    }
}

static void header_list(char *out, size_t size, const char *const *hp, const size_t *hl, uint32_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < n && o + 8 < size; i++) {
        size_t l = hl[i];
        const char *s = bind_trim(hp[i], &l);
        int w = snprintf(out + o, size - o, "%s%.*s", i ? ", " : "", (int)(l > 32 ? 32 : l), s);
        if (w < 0) break;
        o += (size_t)w;
        if (o >= size) {
            o = size - 1;
            break;
        }
    }
}

static tw_status fail_config(csv_reader *r, tw_diag *diag, uint64_t line, const char *fmt, const char *detail)
{
    char msg[TW_DIAG_MSG_MAX];
    snprintf(msg, sizeof msg, fmt, detail);
    if (diag) {
        diag->line = (int)(line > 0x7fffffff ? 0x7fffffff : line);
        tw_diag_set(diag, "%s", msg);
    }
    tw_bind_source_report(r->src, line, "%s", msg);
    return TW_ERR_INVALID;
}

/* Reads the first record (and the first data record after a header) and
 * maps the columns. */
static tw_status configure(csv_reader *r, tw_diag *diag)
{
    rec_status st = next_fields(r);
    if (st == REC_WAIT) return TW_OK; /* live: try again on the next read */
    if (st == REC_NOMEM) return TW_ERR_NOMEM;
    if (st == REC_ERROR) return r->in.nomem ? TW_ERR_NOMEM : TW_ERR_IO;
    if (st == REC_EOF) {
        r->configured = true;
        r->layout = CSV_LONG;
        return TW_OK;
    }
    if (st == REC_TOOLONG) {
        if (diag) diag->line = (int)(r->rec_line > 0x7fffffff ? 0x7fffffff : r->rec_line);
        tw_diag_set(diag, "the first record is too long to be a CSV header");
        return TW_ERR_INVALID;
    }
    uint64_t first_line = r->rec_line;

    bool header;
    if (r->want_header == TW_BIND_HEADER_YES) {
        header = true;
    } else if (r->want_header == TW_BIND_HEADER_NO) {
        header = false;
    } else {
        double t;
        header = !bind_parse_time(r->fptr[0], r->flen[0], r->time_format, r->decimal_comma, &t);
    }
    r->has_header = header;
    if (header) r->src->stats.records--; /* a header is not a record of data */
    if (!header) {
        if (r->want_layout == TW_BIND_CSV_WIDE)
            return fail_config(r, diag, first_line, "%s",
                               "a wide CSV needs a header that names its sensor columns (the first line is data)");
        r->layout = CSV_LONG;
        r->time_col = 0;
        r->sensor_col = 1;
        r->value_col = 2;
        r->quality_col = -1;
        r->unit_col = -1;
        r->pending = true;
        r->configured = true;
        return TW_OK;
    }

    /* Keep the header names: the next record overwrites the buffer. */
    uint32_t hn = r->fcount;
    size_t names_size = 0;
    for (uint32_t i = 0; i < hn; i++) names_size += r->flen[i] + 1;
    char *names = tw_alloc(&r->src->alloc, names_size);
    const char **hp = tw_alloc(&r->src->alloc, hn * sizeof *hp);
    size_t *hl = tw_alloc(&r->src->alloc, hn * sizeof *hl);
    tw_status result = TW_OK;
    if (!names || !hp || !hl) {
        result = TW_ERR_NOMEM;
        goto done;
    }
    size_t o = 0;
    for (uint32_t i = 0; i < hn; i++) {
        memcpy(names + o, r->fptr[i], r->flen[i]);
        names[o + r->flen[i]] = '\0';
        hp[i] = names + o;
        hl[i] = r->flen[i];
        o += r->flen[i] + 1;
    }

    /* The first data record tells whether rows start with a row name. */
    st = next_fields(r);
    if (st == REC_ERROR || st == REC_NOMEM) {
        result = st == REC_NOMEM || r->in.nomem ? TW_ERR_NOMEM : TW_ERR_IO;
        goto done;
    }
    if (st == REC_OK) {
        r->pending = true;
        if (r->fcount == hn + 1) r->row_offset = 1;
    } else if (st == REC_TOOLONG) {
        /* Already reported; its malformed sample comes out with the first read. */
        r->toolong_pending = true;
    }
    char list[256];
    header_list(list, sizeof list, hp, hl, hn);

    int sc = find_column(hp, hl, hn, r->sensor_name, sensor_names);
    int vc = find_column(hp, hl, hn, r->value_name, value_names);
    int layout = r->want_layout == TW_BIND_CSV_LONG   ? CSV_LONG
                 : r->want_layout == TW_BIND_CSV_WIDE ? CSV_WIDE
                 : (sc >= 0 && vc >= 0)              ? CSV_LONG
                                                     : CSV_WIDE;
    r->layout = layout;
    int tc = find_column(hp, hl, hn, r->time_name, time_names);
    if (tc < 0 && r->time_name) {
        result = fail_config(r, diag, first_line, "no time column named as configured; the header has: %s", list);
        goto done;
    }
    if (layout == CSV_LONG) {
        if (tc < 0) {
            result = fail_config(r, diag, first_line,
                                 "no time column (time, timestamp, date, ...); the header has: %s", list);
            goto done;
        }
        if (sc < 0) {
            result = fail_config(r, diag, first_line,
                                 "no sensor column (sensor, id, name, topic, ...); the header has: %s", list);
            goto done;
        }
        if (vc < 0) {
            result = fail_config(r, diag, first_line, "no value column (value, val, v, ...); the header has: %s",
                                 list);
            goto done;
        }
        int qc = find_column(hp, hl, hn, r->quality_name, quality_names);
        int uc = find_column(hp, hl, hn, r->unit_name, unit_names);
        if ((r->quality_name && qc < 0) || (r->unit_name && uc < 0)) {
            result = fail_config(r, diag, first_line,
                                 "the configured quality or unit column is not in the header: %s", list);
            goto done;
        }
        int off = (int)r->row_offset;
        r->time_col = tc + off;
        r->sensor_col = sc + off;
        r->value_col = vc + off;
        r->quality_col = qc >= 0 ? qc + off : -1;
        r->unit_col = uc >= 0 ? uc + off : -1;
        r->configured = true;
        goto done;
    }

    /* Wide. */
    if (tc < 0) tc = 0;
    int kc = -1;
    if (r->key_name) {
        kc = find_column(hp, hl, hn, r->key_name, NULL);
        if (kc < 0) {
            result = fail_config(r, diag, first_line, "no key column named as configured; the header has: %s", list);
            goto done;
        }
    }
    uint32_t nf = hn + r->row_offset;
    r->expected = nf;
    r->col_cap = nf;
    r->col_sensor = tw_calloc(&r->src->alloc, nf, sizeof *r->col_sensor);
    r->col_is_sensor = tw_calloc(&r->src->alloc, nf, 1);
    if (!r->col_sensor || !r->col_is_sensor) {
        result = TW_ERR_NOMEM;
        goto done;
    }
    if (kc >= 0) {
        r->col_name_off = tw_calloc(&r->src->alloc, nf, sizeof *r->col_name_off);
        r->col_names = tw_alloc(&r->src->alloc, names_size);
        if (!r->col_name_off || !r->col_names) {
            result = TW_ERR_NOMEM;
            goto done;
        }
        r->col_names_size = names_size;
        memcpy(r->col_names, names, names_size);
    }
    uint32_t sensors = 0;
    for (uint32_t i = 0; i < hn; i++) {
        if ((int)i == tc || (int)i == kc) continue;
        size_t l = hl[i];
        const char *s = bind_trim(hp[i], &l);
        if (in_list(r->ignore, s, l)) continue;
        char gen[32];
        if (l == 0) {
            l = (size_t)snprintf(gen, sizeof gen, "column%u", i + 1);
            s = gen;
        }
        uint32_t f = i + r->row_offset;
        r->col_is_sensor[f] = 1;
        sensors++;
        if (kc >= 0) {
            /* Sensor ids are "<key>/<name>", interned per row; keep the trimmed name. */
            size_t off = (size_t)(hp[i] - names);
            if (s != gen) {
                off += (size_t)(s - hp[i]);
                r->col_names[off + l] = '\0';
            } else {
                /* A generated name does not fit the copy: skip the column. */
                r->col_is_sensor[f] = 0;
                sensors--;
                continue;
            }
            r->col_name_off[f] = (uint32_t)off;
            continue;
        }
        uint32_t id;
        tw_status is = bind_intern_sensor(r->src->sensors, r->prefix, r->prefix_len, NULL, 0, s, l, &id);
        if (is == TW_ERR_NOMEM) {
            result = TW_ERR_NOMEM;
            goto done;
        }
        if (is != TW_OK) {
            r->col_is_sensor[f] = 0;
            sensors--;
            tw_bind_source_report(r->src, first_line, "column %u's name is too long to be a sensor id; ignored", i + 1);
            continue;
        }
        r->col_sensor[f] = id;
    }
    if (sensors == 0) {
        result = fail_config(r, diag, first_line, "a wide CSV needs sensor columns besides the time; the header has: %s",
                             list);
        goto done;
    }
    r->time_col = tc + (int)r->row_offset;
    r->key_col = kc >= 0 ? kc + (int)r->row_offset : -1;
    r->configured = true;
done:
    tw_free(&r->src->alloc, names, names_size);
    tw_free(&r->src->alloc, hp, hn * sizeof *hp);
    tw_free(&r->src->alloc, hl, hn * sizeof *hl);
    return result;
}

/* ---- rows to samples ------------------------------------------------------------------- */

static void malformed(csv_reader *r, tw_bind_sample *out, tw_bind_reject why, uint32_t sensor, double time)
{
    bind_sample_malformed(out, why, sensor, time, r->rec_line);
}

/* One long-form record into one sample. */
static tw_status long_row(csv_reader *r, tw_bind_sample *out)
{
    char q[64];
    uint32_t n = r->fcount;
    int need = r->value_col;
    if (r->time_col > need) need = r->time_col;
    if (r->sensor_col > need) need = r->sensor_col;
    bool bad = r->has_header ? (int)n <= need : (n < 3 || n > 5);
    if (bad) {
        malformed(r, out, TW_BIND_REJECT_LINE, 0, NAN);
        if (r->has_header)
            tw_bind_source_report(r->src, r->rec_line, "expected at least %d fields, found %u", need + 1, n);
        else
            tw_bind_source_report(r->src, r->rec_line,
                                  "expected 3 to 5 fields (time, sensor, value[, quality[, unit]]), found %u", n);
        return TW_OK;
    }
    int qcol = r->quality_col < (int)n ? r->quality_col : -1;
    int ucol = r->unit_col < (int)n ? r->unit_col : -1;
    if (!r->has_header) {
        qcol = n >= 4 ? 3 : -1;
        ucol = n >= 5 ? 4 : -1;
    }
    uint32_t sensor = 0;
    size_t sl = r->flen[r->sensor_col];
    const char *s = bind_trim(r->fptr[r->sensor_col], &sl);
    tw_status is = bind_intern_sensor(r->src->sensors, r->prefix, r->prefix_len, NULL, 0, s, sl, &sensor);
    if (is == TW_ERR_NOMEM) return is;
    if (is != TW_OK) {
        malformed(r, out, TW_BIND_REJECT_SENSOR, 0, NAN);
        tw_bind_source_report(r->src, r->rec_line, sl ? "the sensor id is longer than %d bytes"
                                                      : "the sensor id is empty (max %d bytes)",
                              TW_BIND_SENSOR_NAME_MAX);
        return TW_OK;
    }
    double t;
    if (!bind_parse_time(r->fptr[r->time_col], r->flen[r->time_col], r->time_format, r->decimal_comma, &t)) {
        malformed(r, out, TW_BIND_REJECT_TIME, sensor, NAN);
        quote_text(q, sizeof q, r->fptr[r->time_col], r->flen[r->time_col]);
        tw_bind_source_report(r->src, r->rec_line, "cannot read the time \"%s\"", q);
        return TW_OK;
    }
    double v;
    size_t vl = r->flen[r->value_col];
    const char *vs = bind_trim(r->fptr[r->value_col], &vl);
    if (!bind_parse_number(vs, vl, r->decimal_comma, &v)) {
        malformed(r, out, TW_BIND_REJECT_VALUE, sensor, t);
        quote_text(q, sizeof q, vs, vl);
        tw_bind_source_report(r->src, r->rec_line, vl ? "cannot read the value \"%s\"" : "the value is empty%s", q);
        return TW_OK;
    }
    uint8_t quality = TW_BIND_SAMPLE_GOOD;
    if (qcol >= 0 && !bind_parse_quality(r->fptr[qcol], r->flen[qcol], &quality)) {
        malformed(r, out, TW_BIND_REJECT_QUALITY, sensor, t);
        quote_text(q, sizeof q, r->fptr[qcol], r->flen[qcol]);
        tw_bind_source_report(r->src, r->rec_line, "unknown quality \"%s\" (good, uncertain, bad or 0, 1, 2)", q);
        return TW_OK;
    }
    uint8_t unit = TW_BIND_UNIT_NONE;
    if (ucol >= 0) {
        size_t ul = r->flen[ucol];
        const char *us = bind_trim(r->fptr[ucol], &ul);
        unit = tw_bind_unit_lookup(us, ul);
    }
    bind_sample_value(out, t, sensor, v, quality, unit, r->rec_line);
    return TW_OK;
}

/* Starts a wide row: checks the field count and reads the time. Returns
 * false (with one malformed sample in *out) when the row cannot be used. */
static bool wide_row_start(csv_reader *r, tw_bind_sample *out)
{
    char q[64];
    if (r->fcount != r->expected) {
        malformed(r, out, TW_BIND_REJECT_LINE, 0, NAN);
        tw_bind_source_report(r->src, r->rec_line, "expected %u fields as in the header, found %u", r->expected,
                              r->fcount);
        return false;
    }
    double t;
    if (!bind_parse_time(r->fptr[r->time_col], r->flen[r->time_col], r->time_format, r->decimal_comma, &t)) {
        malformed(r, out, TW_BIND_REJECT_TIME, 0, NAN);
        quote_text(q, sizeof q, r->fptr[r->time_col], r->flen[r->time_col]);
        tw_bind_source_report(r->src, r->rec_line, "cannot read the time \"%s\"", q);
        return false;
    }
    r->row_time = t;
    r->row_cell = 0;
    r->row_active = true;
    return true;
}

/* Emits the cells of the active row into out; returns how many. */
static tw_status wide_row_cells(csv_reader *r, tw_bind_sample *out, uint32_t max, uint32_t *n)
{
    char q[64];
    uint32_t k = 0;
    const char *key = NULL;
    size_t kl = 0;
    if (r->key_col >= 0) {
        kl = r->flen[r->key_col];
        key = bind_trim(r->fptr[r->key_col], &kl);
    }
    while (r->row_cell < r->fcount && k < max) {
        uint32_t c = r->row_cell++;
        if (!r->col_is_sensor[c]) continue;
        size_t vl = r->flen[c];
        const char *vs = bind_trim(r->fptr[c], &vl);
        if (vl == 0) {
            r->src->stats.empty_cells++;
            continue;
        }
        uint32_t sensor = r->col_sensor[c];
        if (key) {
            const char *name = r->col_names + r->col_name_off[c];
            tw_status is = bind_intern_sensor(r->src->sensors, r->prefix, r->prefix_len, key, kl, name, strlen(name),
                                              &sensor);
            if (is == TW_ERR_NOMEM) {
                *n = k;
                return is;
            }
            if (is != TW_OK) {
                malformed(r, &out[k++], TW_BIND_REJECT_SENSOR, 0, r->row_time);
                tw_bind_source_report(r->src, r->rec_line, "the key and column name make a sensor id that is empty or longer than %d bytes",
                                      TW_BIND_SENSOR_NAME_MAX);
                continue;
            }
        }
        double v;
        if (!bind_parse_number(vs, vl, r->decimal_comma, &v)) {
            malformed(r, &out[k++], TW_BIND_REJECT_VALUE, sensor, r->row_time);
            quote_text(q, sizeof q, vs, vl);
            tw_bind_source_report(r->src, r->rec_line, "cannot read the value \"%s\" in column %u", q,
                                  c + 1 - r->row_offset);
            continue;
        }
        bind_sample_value(&out[k++], r->row_time, sensor, v, TW_BIND_SAMPLE_GOOD, TW_BIND_UNIT_NONE, r->rec_line);
    }
    if (r->row_cell >= r->fcount) r->row_active = false;
    *n = k;
    return TW_OK;
}

static tw_status csv_read(tw_bind_source *s, void *impl, tw_bind_sample *out, uint32_t max, uint32_t *count)
{
    csv_reader *r = impl;
    uint32_t n = 0;
    tw_status result = TW_OK;
    if (!r->configured) {
        tw_status st = configure(r, NULL);
        if (st != TW_OK) {
            *count = 0;
            return st == TW_ERR_INVALID ? TW_ERR_INVALID : st;
        }
        if (!r->configured) {
            s->state = TW_BIND_SOURCE_WAITING;
            *count = 0;
            return TW_OK;
        }
    }
    if (s->state == TW_BIND_SOURCE_WAITING) s->state = TW_BIND_SOURCE_READY;
    if (r->toolong_pending && max > 0) {
        r->toolong_pending = false;
        malformed(r, &out[n++], TW_BIND_REJECT_LINE, 0, NAN);
    }
    while (n < max) {
        if (r->row_active) {
            uint32_t k;
            result = wide_row_cells(r, out + n, max - n, &k);
            n += k;
            if (result != TW_OK) break;
            continue;
        }
        if (!r->pending) {
            rec_status st = next_fields(r);
            if (st == REC_EOF) {
                s->state = TW_BIND_SOURCE_END;
                break;
            }
            if (st == REC_WAIT) {
                s->state = TW_BIND_SOURCE_WAITING;
                *count = n;
                return TW_OK;
            }
            if (st == REC_NOMEM || (st == REC_ERROR && r->in.nomem)) {
                result = TW_ERR_NOMEM;
                break;
            }
            if (st == REC_ERROR) {
                result = TW_ERR_IO;
                tw_bind_source_report(s, 0, "read error: %s", strerror(r->in.err));
                break;
            }
            if (st == REC_TOOLONG) {
                malformed(r, &out[n++], TW_BIND_REJECT_LINE, 0, NAN);
                continue;
            }
        }
        r->pending = false;
        if (r->unterminated) {
            malformed(r, &out[n++], TW_BIND_REJECT_LINE, 0, NAN);
            tw_bind_source_report(s, r->rec_line, "a quoted field is not closed before the end of the input");
            continue;
        }
        if (r->layout == CSV_LONG) {
            result = long_row(r, &out[n]);
            if (result != TW_OK) break;
            n++;
        } else if (!wide_row_start(r, &out[n])) {
            n++;
        }
    }
    if (s->state == TW_BIND_SOURCE_WAITING && n) s->state = TW_BIND_SOURCE_READY;
    s->stats.bytes = r->in.bytes;
    *count = n;
    return result;
}

static void csv_destroy(tw_bind_source *s, void *impl)
{
    csv_reader *r = impl;
    if (!r) return;
    const tw_allocator *a = &r->in.alloc;
    (void)s;
    bind_input_fini(&r->in);
    if (r->strings_size) tw_free(a, r->strings, r->strings_size);
    tw_free(a, r->fptr, r->fcap * sizeof *r->fptr);
    tw_free(a, r->flen, r->fcap * sizeof *r->flen);
    tw_free(a, r->col_sensor, r->col_cap * sizeof *r->col_sensor);
    tw_free(a, r->col_is_sensor, r->col_cap);
    tw_free(a, r->col_name_off, r->col_cap * sizeof *r->col_name_off);
    tw_free(a, r->col_names, r->col_names_size);
    tw_allocator alloc = *a;
    tw_free(&alloc, r, sizeof *r);
}

static const tw_bind_source_vtable csv_vtable = { "csv", csv_read, csv_destroy };

tw_status bind_csv_open(tw_bind_source *src, bind_input *in, const tw_bind_source_desc *desc, tw_diag *diag)
{
    csv_reader *r = tw_calloc(&src->alloc, 1, sizeof *r);
    if (!r) {
        bind_input_fini(in);
        tw_diag_set(diag, "out of memory opening %s", src->name);
        return TW_ERR_NOMEM;
    }
    r->src = src;
    r->in = *in;
    const tw_bind_csv_options *o = &desc->csv;
    const char *in_strings[8] = { desc->sensor_prefix, o->time_column,  o->sensor_column, o->value_column,
                                  o->quality_column,   o->unit_column,  o->key_column,    o->ignore_columns };
    const char *out_strings[8];
    if (!copy_strings(r, in_strings, out_strings, 8)) {
        bind_input_fini(&r->in);
        tw_free(&src->alloc, r, sizeof *r);
        tw_diag_set(diag, "out of memory opening %s", src->name);
        return TW_ERR_NOMEM;
    }
    r->prefix = out_strings[0];
    r->prefix_len = r->prefix ? strlen(r->prefix) : 0;
    r->time_name = out_strings[1];
    r->sensor_name = out_strings[2];
    r->value_name = out_strings[3];
    r->quality_name = out_strings[4];
    r->unit_name = out_strings[5];
    r->key_name = out_strings[6];
    r->ignore = out_strings[7];
    r->time_format = desc->time_format;
    r->decimal_comma = o->decimal_comma;
    r->comments = !o->no_comments;
    r->want_layout = o->layout;
    r->want_header = o->header;
    r->delim = o->delimiter;
    if (r->decimal_comma && r->delim == ',') {
        csv_destroy(src, r);
        tw_diag_set(diag, "a CSV with a decimal comma cannot also use ',' as its delimiter: use ';' or a tab");
        return TW_ERR_INVALID;
    }
    r->line = 1;
    r->time_col = r->sensor_col = r->value_col = r->quality_col = r->unit_col = r->key_col = -1;
    scan_reset(r);
    src->vt = &csv_vtable;
    src->impl = r;
    if (!desc->live) {
        tw_status st = configure(r, diag);
        if (st != TW_OK) {
            if (st == TW_ERR_NOMEM) tw_diag_set(diag, "out of memory reading the header of %s", src->name);
            if (st == TW_ERR_IO) tw_diag_set(diag, "cannot read %s: %s", src->name, strerror(r->in.err));
            return st; /* the caller frees src, which destroys r */
        }
    }
    return TW_OK;
}
