/* tools/bench/bench.h: `twin bench` output, one JSON object a line.
 *
 * Every line has bench, value, unit, baseline and ratio (value / baseline,
 * the baseline measured in the same run on the same machine), plus the target
 * the issue sets and whether it was met. */
#ifndef TWIN_BENCH_H
#define TWIN_BENCH_H

#include <stdio.h>

typedef struct bench_line {
    const char *bench;      /* "ecs.update_1m" */
    double value;
    const char *unit;       /* "ns/entity", "ms/tick", ... */
    double baseline;        /* same unit as value */
    const char *baseline_name; /* what the baseline is ("plain C arrays") */
    const char *target;     /* human text of the target ("ratio <= 1.2") */
    int met;                /* 1 met, 0 missed, -1 no target */
    const char *extra_json; /* extra members without braces ("\"n\":1000"), or NULL */
} bench_line;

void bench_emit(FILE *out, const bench_line *line);
/* Median of n values (sorts in place). */
double bench_median(double *values, int n);

/* Each returns a process exit code. argv[0] is the suite name. */
int bench_ecs(int argc, char **argv);
int bench_sim(int argc, char **argv);
int bench_replay(int argc, char **argv);
int bench_bind(int argc, char **argv);
int bench_render(int argc, char **argv);

#endif
