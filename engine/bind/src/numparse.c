/* Number, time and quality parsing for the readers.
 *
 * Readers parse millions of fields a second, so the common decimal case does
 * not go through strtod (which also depends on the C locale): up to 19
 * significant digits and a power of ten up to 22 are exact in doubles, and
 * one multiplication or division then rounds correctly (Clinger's fast
 * path). Anything else falls back to strtod on a copy with a '.' decimal
 * point. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bind_internal.h"

static const double pow10_exact[23] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

static inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
static inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

const char *bind_trim(const char *s, size_t *n)
{
    size_t len = *n;
    while (len && is_space(*s)) {
        s++;
        len--;
    }
    while (len && is_space(s[len - 1])) len--;
    *n = len;
    return s;
}

bool bind_word_eq(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n; i++) {
        if (!word[i] || lower(s[i]) != lower(word[i])) return false;
    }
    return word[i] == '\0';
}

static bool special_number(const char *s, size_t n, double *out)
{
    double sign = 1.0;
    if (n && (*s == '-' || *s == '+')) {
        if (*s == '-') sign = -1.0;
        s++;
        n--;
    }
    if (bind_word_eq(s, n, "nan") || bind_word_eq(s, n, "na") || bind_word_eq(s, n, "n/a")) {
        *out = NAN;
        return true;
    }
    if (bind_word_eq(s, n, "inf") || bind_word_eq(s, n, "infinity")) {
        *out = sign * INFINITY;
        return true;
    }
    return false;
}

bool bind_parse_number(const char *s, size_t n, bool decimal_comma, double *out)
{
    s = bind_trim(s, &n);
    if (n == 0) return false;
    const char point = decimal_comma ? ',' : '.';
    size_t i = 0;
    bool neg = false;
    if (s[i] == '-' || s[i] == '+') {
        neg = s[i] == '-';
        i++;
    }
    uint64_t mant = 0;
    int digits = 0;       /* significant digits kept in mant */
    int drop = 0;         /* integer digits that did not fit (scale up) */
    int frac = 0;         /* fraction digits kept (scale down) */
    bool any = false, overflow = false;
    while (i < n && is_digit(s[i])) {
        any = true;
        if (digits < 19) {
            if (mant || s[i] != '0') {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                digits += mant != 0;
            }
        } else {
            overflow = true;
            drop++;
        }
        i++;
    }
    if (i < n && s[i] == point) {
        i++;
        while (i < n && is_digit(s[i])) {
            any = true;
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                if (mant) digits++;
                frac++;
            } else if (s[i] != '0') {
                overflow = true;
            }
            i++;
        }
    }
    if (!any) return special_number(s, n, out);
    long exp10 = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '-' || s[i] == '+')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i >= n || !is_digit(s[i])) return false;
        while (i < n && is_digit(s[i])) {
            if (exp10 < 100000) exp10 = exp10 * 10 + (s[i] - '0');
            i++;
        }
        if (eneg) exp10 = -exp10;
    }
    if (i != n) return false;
    long e = exp10 + drop - frac;
    if (!overflow && mant < (1ull << 53) && e >= -22 && e <= 22) {
        double v = (double)mant;
        v = e >= 0 ? v * pow10_exact[e] : v / pow10_exact[-e];
        *out = neg ? -v : v;
        return true;
    }
    if (mant == 0 && !overflow) {
        *out = neg ? -0.0 : 0.0;
        return true;
    }
    /* The slow path: strtod on a copy, '.' as the decimal point. */
    char buf[128];
    if (n >= sizeof buf) return false;
    for (size_t k = 0; k < n; k++) buf[k] = s[k] == point ? '.' : s[k];
    buf[n] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + n) return false;
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static bool digits_at(const char *s, size_t n, size_t *i, int count, int *out)
{
    int v = 0;
    for (int k = 0; k < count; k++) {
        if (*i >= n || !is_digit(s[*i])) return false;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

bool bind_parse_iso8601(const char *s, size_t n, double *out)
{
    s = bind_trim(s, &n);
    size_t i = 0;
    int Y, M, D, h = 0, mi = 0, sec = 0;
    double frac = 0.0;
    if (!digits_at(s, n, &i, 4, &Y) || i >= n || s[i++] != '-' || !digits_at(s, n, &i, 2, &M) || i >= n ||
        s[i++] != '-' || !digits_at(s, n, &i, 2, &D))
        return false;
    if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M)) return false;
    if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (!digits_at(s, n, &i, 2, &h) || i >= n || s[i++] != ':' || !digits_at(s, n, &i, 2, &mi)) return false;
        if (i < n && s[i] == ':') {
            i++;
            if (!digits_at(s, n, &i, 2, &sec)) return false;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                i++;
                if (i >= n || !is_digit(s[i])) return false;
                uint64_t fm = 0;
                int fd = 0;
                while (i < n && is_digit(s[i])) {
                    if (fd < 15) {
                        fm = fm * 10 + (uint64_t)(s[i] - '0');
                        fd++;
                    }
                    i++;
                }
                frac = (double)fm / pow10_exact[fd];
            }
        }
        if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec || frac > 0))) return false;
    }
    long offset = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
        i++;
        if (!digits_at(s, n, &i, 2, &oh)) return false;
        if (i < n && s[i] == ':') i++;
        if (i < n && is_digit(s[i]) && !digits_at(s, n, &i, 2, &om)) return false;
        if (oh > 23 || om > 59) return false;
        offset = sign * (oh * 3600L + om * 60L);
    }
    if (i != n) return false;
    long days = days_from_civil(Y, (unsigned)M, (unsigned)D);
    *out = (double)days * 86400.0 + h * 3600.0 + mi * 60.0 + sec + frac - (double)offset;
    return true;
}

double bind_epoch_auto(double v)
{
    double a = fabs(v);
    if (a < 1e11) return v;
    if (a < 1e14) return v / 1e3;
    if (a < 1e17) return v / 1e6;
    return v / 1e9;
}

double bind_epoch_scaled(double v, tw_bind_time_format fmt)
{
    switch (fmt) {
    case TW_BIND_TIME_EPOCH_S: return v;
    case TW_BIND_TIME_EPOCH_MS: return v / 1e3;
    case TW_BIND_TIME_EPOCH_US: return v / 1e6;
    case TW_BIND_TIME_EPOCH_NS: return v / 1e9;
    default: return bind_epoch_auto(v);
    }
}

static bool looks_like_date(const char *s, size_t n)
{
    return n >= 10 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) && s[4] == '-';
}

bool bind_parse_time(const char *s, size_t n, tw_bind_time_format fmt, bool decimal_comma, double *out)
{
    s = bind_trim(s, &n);
    if (n == 0) return false;
    if (fmt == TW_BIND_TIME_ISO8601 || (fmt == TW_BIND_TIME_AUTO && looks_like_date(s, n)))
        return bind_parse_iso8601(s, n, out);
    double v;
    if (!bind_parse_number(s, n, decimal_comma, &v) || !isfinite(v)) return false;
    *out = bind_epoch_scaled(v, fmt);
    return true;
}

bool bind_parse_quality(const char *s, size_t n, uint8_t *q)
{
    s = bind_trim(s, &n);
    if (n == 0 || bind_word_eq(s, n, "good") || bind_word_eq(s, n, "ok") || bind_word_eq(s, n, "valid") ||
        bind_word_eq(s, n, "g")) {
        *q = TW_BIND_SAMPLE_GOOD;
        return true;
    }
    if (bind_word_eq(s, n, "uncertain") || bind_word_eq(s, n, "suspect") || bind_word_eq(s, n, "u")) {
        *q = TW_BIND_SAMPLE_UNCERTAIN;
        return true;
    }
    if (bind_word_eq(s, n, "bad") || bind_word_eq(s, n, "invalid") || bind_word_eq(s, n, "b")) {
        *q = TW_BIND_SAMPLE_BAD;
        return true;
    }
    double v;
    if (bind_parse_number(s, n, false, &v) && isfinite(v) && v >= 0 && v == floor(v)) {
        *q = v == 0 ? TW_BIND_SAMPLE_GOOD : v == 1 ? TW_BIND_SAMPLE_UNCERTAIN : TW_BIND_SAMPLE_BAD;
        return true;
    }
    return false;
}
