/* What the CSV and JSON reader fuzz targets (fuzz_bind_csv.c,
 * fuzz_bind_json.c) share: reading a whole source into a run of samples, and
 * checking that two runs over the same bytes, cut into different chunks,
 * agree and hold only known kinds and reasons. Included by exactly those two
 * files, so everything here is static. */
#ifndef TWIN_FUZZ_BIND_COMMON_H
#define TWIN_FUZZ_BIND_COMMON_H

#include <math.h>
#include <stdbool.h>
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

static void check(const char *who, const run *a, const run *b)
{
    if (a->open != b->open || a->last != b->last || a->n != b->n) {
        fprintf(stderr, "%s: chunking changed the result (%u vs %u samples)\n", who, a->n, b->n);
        abort();
    }
    for (uint32_t i = 0; i < a->n; i++) {
        const tw_bind_sample *x = &a->s[i], *y = &b->s[i];
        if (x->kind > TW_BIND_SAMPLE_IGNORED || (x->kind == TW_BIND_SAMPLE_MALFORMED && x->reason > TW_BIND_REJECT_QUALITY)) {
            fprintf(stderr, "%s: sample %u has kind %u reason %u\n", who, i, x->kind, x->reason);
            abort();
        }
        if (x->kind != y->kind || x->reason != y->reason || x->sensor != y->sensor || x->line != y->line ||
            x->quality != y->quality || x->unit != y->unit || !same_double(x->time, y->time) ||
            !same_double(x->value, y->value)) {
            fprintf(stderr, "%s: sample %u differs between chunk sizes (line %u vs %u)\n", who, i, x->line,
                    y->line);
            abort();
        }
    }
}

#endif
