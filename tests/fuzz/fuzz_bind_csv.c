/* libFuzzer target for the CSV reader. The first two bytes choose options
 * (layout, header, delimiter, decimal comma, time format, record limit); the
 * rest is the file. Besides memory errors and undefined behaviour it checks
 * the reader's promises:
 *   - every sample has a known kind, and a malformed one a reader's reason;
 *   - the samples do not depend on how the input was cut into chunks: one
 *     byte at a time gives exactly what one big read gives. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin/bind_source.h"

enum { MAX_SAMPLES = 4096 };

typedef struct run {
    tw_bind_sample s[MAX_SAMPLES];
    uint32_t n;
    tw_status open, last;
} run;

static tw_log quiet = { TW_LOG_OFF + 1, NULL, NULL };

static void read_all(tw_bind_source_desc *d, run *r)
{
    tw_bind_source *src;
    tw_diag diag;
    r->n = 0;
    r->last = TW_OK;
    r->open = tw_bind_source_open(d, &src, &diag);
    if (r->open != TW_OK) return;
    for (;;) {
        tw_bind_sample batch[5];
        uint32_t k;
        r->last = tw_bind_source_read(src, batch, 5, &k);
        for (uint32_t i = 0; i < k; i++)
            if (r->n < MAX_SAMPLES) r->s[r->n++] = batch[i];
        if (r->last != TW_OK || k == 0) break;
    }
    tw_bind_source_free(src);
}

static bool same_double(double a, double b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

static void check(const run *a, const run *b)
{
    if (a->open != b->open || a->last != b->last || a->n != b->n) {
        fprintf(stderr, "fuzz_bind_csv: chunking changed the result (%u vs %u samples)\n", a->n, b->n);
        abort();
    }
    for (uint32_t i = 0; i < a->n; i++) {
        const tw_bind_sample *x = &a->s[i], *y = &b->s[i];
        if (x->kind > TW_BIND_SAMPLE_IGNORED || (x->kind == TW_BIND_SAMPLE_MALFORMED && x->reason > TW_BIND_REJECT_QUALITY)) {
            fprintf(stderr, "fuzz_bind_csv: sample %u has kind %u reason %u\n", i, x->kind, x->reason);
            abort();
        }
        if (x->kind != y->kind || x->reason != y->reason || x->sensor != y->sensor || x->line != y->line ||
            x->quality != y->quality || x->unit != y->unit || !same_double(x->time, y->time) ||
            !same_double(x->value, y->value)) {
            fprintf(stderr, "fuzz_bind_csv: sample %u differs between chunk sizes (line %u vs %u)\n", i, x->line, y->line);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint8_t o1 = data[0], o2 = data[1];
    static run a, b;
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    if (!t) abort();
    tw_bind_source_desc d;
    memset(&d, 0, sizeof d);
    d.data = data + 2;
    d.size = size - 2;
    d.format = TW_BIND_FORMAT_CSV;
    d.sensors = t;
    d.log = &quiet;
    d.csv.layout = (tw_bind_csv_layout)(o1 % 3);
    d.csv.header = (tw_bind_csv_header)((o1 >> 2) % 3);
    static const char delims[4] = { 0, ',', ';', '\t' };
    d.csv.delimiter = delims[(o1 >> 4) % 4];
    d.csv.decimal_comma = (o1 >> 6) & 1;
    if (d.csv.decimal_comma && d.csv.delimiter == ',') d.csv.delimiter = ';';
    d.csv.no_comments = o1 >> 7;
    d.time_format = (tw_bind_time_format)(o2 % 6);
    if ((o2 >> 3) & 1) d.csv.key_column = "key";
    if ((o2 >> 4) & 1) d.sensor_prefix = "p/";
    d.max_record = (o2 >> 5) ? 16u << (o2 >> 5) : 0;
    d.chunk_size = 1;
    read_all(&d, &a);
    d.chunk_size = size + 16;
    read_all(&d, &b);
    check(&a, &b);
    tw_bind_sensors_free(t);
    return 0;
}
