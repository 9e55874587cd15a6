/* `twin bench` plumbing: the JSON line writer and small statistics. */
#include "bench/bench.h"

#include <math.h>
#include <stdlib.h>

void bench_emit(FILE *out, const bench_line *l)
{
    double ratio = l->baseline > 0 ? l->value / l->baseline : NAN;
    fprintf(out, "{\"bench\":\"%s\",\"value\":%.6g,\"unit\":\"%s\",\"baseline\":%.6g", l->bench, l->value, l->unit,
            l->baseline);
    if (isfinite(ratio))
        fprintf(out, ",\"ratio\":%.4f", ratio);
    else
        fprintf(out, ",\"ratio\":null");
    if (l->baseline_name) fprintf(out, ",\"baseline_is\":\"%s\"", l->baseline_name);
    if (l->target) fprintf(out, ",\"target\":\"%s\"", l->target);
    if (l->met >= 0) fprintf(out, ",\"met\":%s", l->met ? "true" : "false");
    if (l->extra_json && l->extra_json[0]) fprintf(out, ",%s", l->extra_json);
    fprintf(out, "}\n");
    fflush(out);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
