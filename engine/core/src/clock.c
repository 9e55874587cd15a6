/* Wall clock and ISO 8601 time text. */
#define _POSIX_C_SOURCE 200809L
#include "twin/clock.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

double tw_clock_monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t tw_clock_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double tw_clock_unix_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long yy = (long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int tw_time_parse_iso8601(const char *text, double *unix_s)
{
    const char *p = text;
    int Y, M, D, h = 0, mi = 0, s = 0;
    double frac = 0.0;
    while (*p == ' ') p++;
    if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' || digits(&p, 2, &D))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31) return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) return -1;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &s)) return -1;
            if (*p == '.' || *p == ',') {
                p++;
                double scale = 0.1;
                if (*p < '0' || *p > '9') return -1;
                while (*p >= '0' && *p <= '9') {
                    frac += (*p - '0') * scale;
                    scale *= 0.1;
                    p++;
                }
            }
        }
        if (h > 24 || mi > 59 || s > 60) return -1;
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (digits(&p, 2, &oh)) return -1;
        if (*p == ':') p++;
        if (*p >= '0' && *p <= '9' && digits(&p, 2, &om)) return -1;
        offset = sign * (oh * 3600L + om * 60L);
    }
    while (*p == ' ' || *p == '\r' || *p == '\n') p++;
    if (*p) return -1;
    long days = days_from_civil(Y, (unsigned)M, (unsigned)D);
    *unix_s = (double)days * 86400.0 + h * 3600.0 + mi * 60.0 + s + frac - (double)offset;
    return 0;
}

void tw_time_format_iso8601(double unix_s, char *out, int out_size)
{
    double whole = floor(unix_s);
    double frac = unix_s - whole;
    long long t = (long long)whole;
    long days = (long)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
    long rem = (long)(t - (long long)days * 86400);
    long y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int ms = (int)llround(frac * 1000.0);
    if (ms >= 1000) ms = 999;
    if (ms > 0)
        snprintf(out, (size_t)out_size, "%04ld-%02u-%02uT%02ld:%02ld:%02ld.%03dZ", y, m, d, rem / 3600,
                 (rem / 60) % 60, rem % 60, ms);
    else
        snprintf(out, (size_t)out_size, "%04ld-%02u-%02uT%02ld:%02ld:%02ldZ", y, m, d, rem / 3600,
                 (rem / 60) % 60, rem % 60);
}
