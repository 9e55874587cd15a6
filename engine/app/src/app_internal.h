/* Private to engine/app: output writers shared by the runner and checker. */
#ifndef TWIN_APP_INTERNAL_H
#define TWIN_APP_INTERNAL_H

#include <stdio.h>

#include "twin/app.h"

/* Opens path for writing; on failure fills diag with the path and the OS reason. */
FILE *tw_app_open_output(const char *dir, const char *name, tw_diag *diag);
/* Writes v as a JSON/CSV number ("%.10g"); NaN and infinities as an empty CSV cell or JSON null. */
void tw_app_write_number(FILE *f, double v, int json);
/* Writes s as a JSON string with escapes. */
void tw_app_write_json_string(FILE *f, const char *s);

/* chart.c: a PNG line chart of a KPI in two worlds (values[i * stride], NaN gaps). */
int tw_app_charts_available(void);
tw_status tw_app_chart_png(const char *path, const char *title, const char *unit, const double *t, const double *base,
                           const double *scen, size_t n, size_t stride, double fork_t, tw_diag *diag);

#endif
