/* Numbers, times, quality words, units, topic patterns and the JSON object
 * scanner: the pieces every reader and rule stands on. */
#define _POSIX_C_SOURCE 200809L
#include "bind_test.h"

TEST(parse_number_matches_strtod)
{
    /* The fast path must round exactly like strtod: compare bit for bit over
     * many decimals of every length. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        char buf[64];
        int digits = 1 + (int)(x % 17);
        int point = (int)((x >> 8) % (uint64_t)(digits + 1));
        int o = 0;
        if ((x >> 20) & 1) buf[o++] = '-';
        uint64_t y = x >> 24;
        for (int k = 0; k < digits; k++) {
            if (k == point && k > 0) buf[o++] = '.';
            buf[o++] = (char)('0' + (y % 10));
            y /= 10;
            if (!y) y = x | 1;
        }
        if ((x >> 40) % 4 == 0) o += snprintf(buf + o, sizeof buf - (size_t)o, "e%d", (int)((x >> 44) % 40) - 20);
        buf[o] = '\0';
        double a = 0, b = strtod(buf, NULL);
        REQUIRE(bind_parse_number(buf, (size_t)o, false, &a));
        if (memcmp(&a, &b, sizeof a) != 0) {
            CHECK(memcmp(&a, &b, sizeof a) == 0);
            fprintf(stderr, "  %s: %.17g vs strtod %.17g\n", buf, a, b);
            return;
        }
    }
}

TEST(parse_number_forms)
{
    double v;
    CHECK(bind_parse_number(" 21.5 ", 6, false, &v) && v == 21.5);
    CHECK(bind_parse_number("-0.001", 6, false, &v) && v == -0.001);
    CHECK(bind_parse_number("1e3", 3, false, &v) && v == 1000.0);
    CHECK(bind_parse_number("+7", 2, false, &v) && v == 7.0);
    CHECK(bind_parse_number(".5", 2, false, &v) && v == 0.5);
    CHECK(bind_parse_number("123456789012345678901234567890", 30, false, &v) && v == 1.2345678901234568e29);
    CHECK(bind_parse_number("0.000000000000000000000000001", 29, false, &v) && v == 1e-27);
    CHECK(bind_parse_number("21,5", 4, true, &v) && v == 21.5);
    CHECK(!bind_parse_number("21,5", 4, false, &v));
    CHECK(!bind_parse_number("21.5", 4, true, &v)); /* with a decimal comma a '.' is not a number */
    CHECK(!bind_parse_number("", 0, false, &v));
    CHECK(!bind_parse_number("abc", 3, false, &v));
    CHECK(!bind_parse_number("1.2.3", 5, false, &v));
    CHECK(!bind_parse_number("1e", 2, false, &v));
    CHECK(!bind_parse_number("--1", 3, false, &v));
    CHECK(!bind_parse_number("0x10", 4, false, &v));
    CHECK(bind_parse_number("NaN", 3, false, &v) && isnan(v));
    CHECK(bind_parse_number("NA", 2, false, &v) && isnan(v));
    CHECK(bind_parse_number("inf", 3, false, &v) && isinf(v) && v > 0);
    CHECK(bind_parse_number("-Infinity", 9, false, &v) && isinf(v) && v < 0);
}

TEST(parse_iso8601)
{
    double t;
    CHECK(bind_parse_iso8601("2015-02-04 17:51:00", 19, &t) && t == 1423072260.0);
    CHECK(bind_parse_iso8601("2024-03-04T08:00:00Z", 20, &t) && t == 1709539200.0);
    CHECK(bind_parse_iso8601("2024-03-04T09:00:00+01:00", 25, &t) && t == 1709539200.0);
    CHECK(bind_parse_iso8601("2024-03-04T07:30:00-0030", 24, &t) && t == 1709539200.0);
    CHECK(bind_parse_iso8601("2024-03-04T08:00:00.25Z", 23, &t) && t == 1709539200.25);
    CHECK(bind_parse_iso8601("2024-03-04T08:00Z", 17, &t) && t == 1709539200.0);
    CHECK(bind_parse_iso8601("2024-03-04", 10, &t) && t == 1709510400.0);
    CHECK(bind_parse_iso8601("2024-02-29", 10, &t));      /* leap day */
    CHECK(!bind_parse_iso8601("2023-02-29", 10, &t));     /* not a leap year */
    CHECK(!bind_parse_iso8601("2015-13-01", 10, &t));
    CHECK(!bind_parse_iso8601("2015-02-04T25:00", 16, &t));
    CHECK(!bind_parse_iso8601("2015-02-04X", 11, &t));
    CHECK(!bind_parse_iso8601("20150204", 8, &t));
}

TEST(parse_time_epoch_units_by_magnitude)
{
    double t;
    CHECK(bind_parse_time("1700000000", 10, TW_BIND_TIME_AUTO, false, &t) && t == 1700000000.0);
    CHECK(bind_parse_time("1700000000500", 13, TW_BIND_TIME_AUTO, false, &t) && t == 1700000000.5);
    CHECK(bind_parse_time("1700000000500000", 16, TW_BIND_TIME_AUTO, false, &t) && fabs(t - 1700000000.5) < 1e-6);
    CHECK(bind_parse_time("1700000000500000000", 19, TW_BIND_TIME_AUTO, false, &t) && fabs(t - 1700000000.5) < 1e-6);
    CHECK(bind_parse_time("1700000000.25", 13, TW_BIND_TIME_AUTO, false, &t) && t == 1700000000.25);
    CHECK(bind_parse_time("1500", 4, TW_BIND_TIME_EPOCH_MS, false, &t) && t == 1.5);
    CHECK(bind_parse_time("12", 2, TW_BIND_TIME_AUTO, false, &t) && t == 12.0); /* small: seconds */
    CHECK(bind_parse_time("2024-03-04T08:00:00Z", 20, TW_BIND_TIME_AUTO, false, &t) && t == 1709539200.0);
    CHECK(!bind_parse_time("2024-03-04T08:00:00Z", 20, TW_BIND_TIME_EPOCH_S, false, &t));
    CHECK(!bind_parse_time("1700000000", 10, TW_BIND_TIME_ISO8601, false, &t));
    CHECK(!bind_parse_time("yesterday", 9, TW_BIND_TIME_AUTO, false, &t));
    CHECK(!bind_parse_time("nan", 3, TW_BIND_TIME_AUTO, false, &t));
}

TEST(parse_quality_words)
{
    uint8_t q;
    CHECK(bind_parse_quality("", 0, &q) && q == TW_BIND_SAMPLE_GOOD);
    CHECK(bind_parse_quality("GOOD", 4, &q) && q == TW_BIND_SAMPLE_GOOD);
    CHECK(bind_parse_quality("0", 1, &q) && q == TW_BIND_SAMPLE_GOOD);
    CHECK(bind_parse_quality("uncertain", 9, &q) && q == TW_BIND_SAMPLE_UNCERTAIN);
    CHECK(bind_parse_quality("1", 1, &q) && q == TW_BIND_SAMPLE_UNCERTAIN);
    CHECK(bind_parse_quality("bad", 3, &q) && q == TW_BIND_SAMPLE_BAD);
    CHECK(bind_parse_quality("7", 1, &q) && q == TW_BIND_SAMPLE_BAD);
    CHECK(!bind_parse_quality("maybe", 5, &q));
    CHECK(!bind_parse_quality("1.5", 3, &q));
}

TEST(units_convert)
{
    double v;
    CHECK(tw_bind_unit_convert(212, "degF", "degC", &v));
    CHECK_NEAR(v, 100.0, 1e-9);
    CHECK(tw_bind_unit_convert(32, "degF", "K", &v));
    CHECK_NEAR(v, 273.15, 1e-9);
    CHECK(tw_bind_unit_convert(300, "K", "degC", &v));
    CHECK_NEAR(v, 26.85, 1e-9);
    CHECK(tw_bind_unit_convert(21, "Cel", "degF", &v));
    CHECK_NEAR(v, 69.8, 1e-9);
    CHECK(tw_bind_unit_convert(1.5, "kW", "W", &v) && v == 1500.0);
    CHECK(tw_bind_unit_convert(2500, "Wh", "kWh", &v) && v == 2.5);
    CHECK(tw_bind_unit_convert(1, "kWh", "J", &v) && v == 3.6e6);
    CHECK(tw_bind_unit_convert(3.6e6, "J", "kWh", &v));
    CHECK_NEAR(v, 1.0, 1e-15);
    CHECK(tw_bind_unit_convert(0.1, "%", "ppm", &v));
    CHECK_NEAR(v, 1000.0, 1e-9);
    CHECK(tw_bind_unit_convert(55, "%RH", "1", &v));
    CHECK_NEAR(v, 0.55, 1e-12);
    CHECK(!tw_bind_unit_convert(1, "degC", "W", &v));
    CHECK(!tw_bind_unit_convert(1, "kWh", "kW", &v));
    CHECK(!tw_bind_unit_convert(1, "furlong", "m", &v));
    CHECK_EQ_INT(tw_bind_unit_lookup("bogus", 5), TW_BIND_UNIT_UNKNOWN);
    CHECK_EQ_INT(tw_bind_unit_lookup("", 0), TW_BIND_UNIT_NONE);
    CHECK_STR(tw_bind_unit_name(tw_bind_unit_lookup("Cel", 3)), "degC");
}

TEST(pattern_captures)
{
    const char *cap[BIND_MAX_CAPTURES];
    size_t len[BIND_MAX_CAPTURES];
    uint32_t n = 0;
    const char *p = "site/+/room/{room}/temp";
    const char *t = "site/b1/room/r-101/temp";
    REQUIRE(bind_pattern_match(p, t, strlen(t), cap, len, &n));
    CHECK_EQ_INT(n, 1);
    CHECK(len[0] == 5 && memcmp(cap[0], "r-101", 5) == 0);
    char out[64];
    CHECK(bind_pattern_expand(p, "hq/floor-1/{room}", cap, len, n, out, sizeof out));
    CHECK_STR(out, "hq/floor-1/r-101");
    CHECK(!bind_pattern_match(p, "site/b1/room/r-101/hum", 22, cap, len, &n));
    CHECK(!bind_pattern_match(p, "site/b1/room/r-101", 18, cap, len, &n));
    CHECK(!bind_pattern_match(p, "site/b1/room/r-101/temp/x", 25, cap, len, &n));
    CHECK(!bind_pattern_match(p, "site/room/r-101/temp", 20, cap, len, &n));
    /* '#' takes the rest, including nothing. */
    CHECK(bind_pattern_match("a/#", "a/b/c", 5, cap, len, &n));
    CHECK(bind_pattern_match("a/#", "a", 1, cap, len, &n));
    CHECK(!bind_pattern_match("a/#", "b/c", 3, cap, len, &n));
    /* Two captures, in order. */
    REQUIRE(bind_pattern_match("{b}/{r}/t", "x/y/t", 5, cap, len, &n));
    CHECK_EQ_INT(n, 2);
    CHECK(bind_pattern_expand("{b}/{r}/t", "{r}-{b}", cap, len, n, out, sizeof out));
    CHECK_STR(out, "y-x");
    CHECK(!bind_pattern_expand("{b}/{r}/t", "{q}", cap, len, n, out, sizeof out));
    CHECK(!bind_pattern_expand("{b}/{r}/t", "{r}{r}{r}", cap, len, n, out, 3));

    char msg[128];
    CHECK(bind_pattern_check("site/+/room/{room}/#", msg, sizeof msg));
    CHECK(!bind_pattern_check("a/#/b", msg, sizeof msg));
    CHECK(!bind_pattern_check("a/b+/c", msg, sizeof msg));
    CHECK(!bind_pattern_check("a/{bad-name}", msg, sizeof msg));
    CHECK(!bind_pattern_check("", msg, sizeof msg));
}

TEST(jsonscan_members_and_errors)
{
    bj_member m[BJ_MAX_MEMBERS];
    uint32_t n;
    size_t off;
    const char *msg;
    const char *obj = "{\"a\": 1.5, \"b\": \"x\\\"y\", \"c\": [1, {\"d\": null}], \"e\": true, \"f\": {}}";
    REQUIRE(bj_object_scan(obj, strlen(obj), m, BJ_MAX_MEMBERS, &n, &off, &msg));
    CHECK_EQ_INT(n, 5);
    const bj_member *b = bj_find(m, n, "b");
    REQUIRE(b != NULL);
    CHECK(b->type == BJ_STRING && b->val_escaped);
    char buf[16];
    const char *s;
    size_t sl;
    CHECK(bj_string(b, buf, sizeof buf, &s, &sl) && sl == 3 && memcmp(s, "x\"y", 3) == 0);
    CHECK(bj_find(m, n, "c")->type == BJ_ARRAY);
    CHECK(bj_find(m, n, "e")->type == BJ_TRUE);
    CHECK(bj_find(m, n, "zz") == NULL);
    /* \u escapes, including a surrogate pair, decode to UTF-8. */
    char u[16];
    CHECK_EQ_INT(bj_unescape("\\u00e9\\ud83d\\ude00", 18, u, sizeof u), 6);
    CHECK(memcmp(u, "\xc3\xa9\xf0\x9f\x98\x80", 6) == 0);
    CHECK_EQ_U64(bj_unescape("\\ud83d", 6, u, sizeof u), SIZE_MAX);
    /* Errors and where they are. */
    const char *bad[] = { "{\"a\" 1}", "{\"a\": 01}", "{\"a\": [1,]}", "{\"a\": 1,}", "{\"a\": tru}", "{a: 1}",
                          "{\"a\": 1} x", "[1]", "{\"a\": \"\x01\"}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool ok = bj_object_scan(bad[i], strlen(bad[i]), m, BJ_MAX_MEMBERS, &n, &off, &msg);
        if (ok) fprintf(stderr, "  accepted: %s\n", bad[i]);
        CHECK(!ok);
    }
    CHECK(!bj_object_scan("{\"a\" 1}", 7, m, BJ_MAX_MEMBERS, &n, &off, &msg));
    CHECK_EQ_INT(off, 5);
}
