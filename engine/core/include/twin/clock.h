/* twin/clock.h: wall-clock time for runners, benchmarks and live telemetry.
 *
 * Simulation code never calls these: simulated time comes only from the
 * fixed stepper. */
#ifndef TWIN_CLOCK_H
#define TWIN_CLOCK_H

#include <stdint.h>

double tw_clock_monotonic_s(void); /* seconds since an arbitrary origin */
uint64_t tw_clock_monotonic_ns(void);
double tw_clock_unix_s(void);      /* seconds since 1970-01-01T00:00:00Z */

/* Parses ISO 8601 ("2024-03-04T08:00:00Z", "2024-03-04 08:00:00.5", with an
 * optional +hh:mm offset; no zone means UTC) into Unix seconds. Returns 0 on
 * success, -1 if the text is not such a time. */
int tw_time_parse_iso8601(const char *text, double *unix_s);
/* Formats Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" (with .sss when fractional). */
void tw_time_format_iso8601(double unix_s, char *out, int out_size);

#endif
