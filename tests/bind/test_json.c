/* JSON Lines and SenML readers: keys, times, values, base fields, relative
 * times, ignored records, bad records with their lines, chunk boundaries. */
#define _POSIX_C_SOURCE 200809L
#include "bind_test.h"

static const char *name_of(tw_bind_sensors *t, const tw_bind_sample *s) { return tw_bind_sensors_name(t, s->sensor); }

TEST(jsonl_records)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "{\"time\": \"2024-03-04T08:00:00Z\", \"sensor\": \"a\", \"value\": 21.5}\n"
                       "{\"time\": 1709539201, \"sensor\": \"b\", \"value\": \"22.5\", \"quality\": \"uncertain\"}\n"
                       "{\"time\": 1709539202000, \"sensor\": \"c\", \"value\": true, \"unit\": \"kW\", \"extra\": {\"x\": [1]}}\n"
                       "\n"
                       "{\"sensor\": \"d\\u00e9\", \"value\": -1e2, \"time\": \"1709539203.5\"}";
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_AUTO, t);
    d.name = "x.jsonl";
    tw_bind_source *src;
    tw_bind_sample s[8];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 8, &n, &src) == TW_OK);
    CHECK_EQ_INT(tw_bind_source_format(src), TW_BIND_FORMAT_JSONL);
    REQUIRE(n == 4);
    CHECK(s[0].time == 1709539200.0 && s[0].value == 21.5);
    CHECK_STR(name_of(t, &s[0]), "a");
    CHECK(s[1].value == 22.5 && s[1].quality == TW_BIND_SAMPLE_UNCERTAIN && s[1].time == 1709539201.0);
    CHECK(s[2].value == 1.0 && s[2].time == 1709539202.0 && s[2].unit == tw_bind_unit_lookup("kW", 2));
    CHECK_STR(name_of(t, &s[3]), "d\xc3\xa9");
    CHECK(s[3].value == -100.0 && s[3].time == 1709539203.5);
    CHECK_EQ_INT(s[3].line, 5);
    tw_bind_source_free(src);
    tw_bind_sensors_free(t);
}

TEST(jsonl_custom_keys)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "{\"ts\": 1709539200, \"id\": \"m1\", \"reading\": 3}\n";
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_JSONL, t);
    d.json.time_key = "ts";
    d.json.sensor_key = "id";
    d.json.value_key = "reading";
    d.sensor_prefix = "plant/";
    tw_bind_sample s[2];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 2, &n, NULL) == TW_OK);
    REQUIRE(n == 1);
    CHECK_STR(name_of(t, &s[0]), "plant/m1");
    CHECK(s[0].value == 3);
    tw_bind_sensors_free(t);
}

TEST(jsonl_bad_records_counted)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "{\"time\": 1709539200, \"sensor\": \"a\", \"value\": 1}\n" /* 1 ok */
                       "garbage here\n"                                            /* 2 line */
                       "{\"time\": 1709539201, \"sensor\": \"a\", \"value\": 2\n"  /* 3 not closed */
                       "{\"sensor\": \"a\", \"value\": 3}\n"                       /* 4 no time */
                       "{\"time\": 1709539203, \"sensor\": \"a\", \"value\": null}\n" /* 5 value */
                       "{\"time\": 1709539204, \"value\": 5}\n"                    /* 6 no sensor */
                       "{\"time\": 1709539205, \"sensor\": \"a\", \"value\": 6, \"quality\": \"so-so\"}\n" /* 7 */
                       "{\"time\": 1709539206, \"sensor\": \"a\", \"value\": 7,}\n" /* 8 syntax */
                       "{\"time\": 1709539207, \"sensor\": \"a\", \"value\": \"NaN\"}\n" /* 9 NaN value */
                       "{\"time\": 1709539208, \"sensor\": \"a\", \"value\": 9}\n"; /* 10 ok */
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_JSONL, t);
    d.name = "feed.jsonl";
    tw_bind_source *src;
    tw_bind_sample s[16];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 16, &n, &src) == TW_OK);
    REQUIRE(n == 10);
    const uint8_t kinds[10] = { 0, 1, 1, 1, 1, 1, 1, 1, 0, 0 };
    const uint8_t reasons[10] = { 0,
                                  TW_BIND_REJECT_LINE,
                                  TW_BIND_REJECT_LINE,
                                  TW_BIND_REJECT_TIME,
                                  TW_BIND_REJECT_VALUE,
                                  TW_BIND_REJECT_SENSOR,
                                  TW_BIND_REJECT_QUALITY,
                                  TW_BIND_REJECT_LINE,
                                  0,
                                  0 };
    for (int i = 0; i < 10; i++) {
        CHECK_EQ_INT(s[i].kind, kinds[i]);
        if (kinds[i]) CHECK_EQ_INT(s[i].reason, reasons[i]);
        CHECK_EQ_INT(s[i].line, i + 1);
    }
    CHECK(isnan(s[8].value));
    CHECK(s[9].value == 9);
    CHECK_EQ_U64(tw_bind_source_get_stats(src)->malformed, 7);
    CHECK_CONTAINS(tw_bind_source_error(src, 0), "feed.jsonl:2: expected a JSON object");
    CHECK_CONTAINS(tw_bind_source_error(src, 1), "feed.jsonl:3:");
    CHECK_CONTAINS(tw_bind_source_error(src, 6), "feed.jsonl:8: column 48");
    tw_bind_source_free(src);
    tw_bind_sensors_free(t);
}

TEST(senml_base_fields)
{
    /* RFC 8428 section 5.1.2-like: base name, base time, base unit, base value. */
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "[{\"bn\": \"urn:dev:ow:10e2073a01080063:\", \"bt\": 1.320067464e+09, \"bu\": \"%RH\", \"v\": 20},\n"
                       " {\"u\": \"lon\", \"v\": 24.30621},\n"
                       " {\"n\": \"temp\", \"u\": \"Cel\", \"t\": 10, \"v\": 23.1},\n"
                       " {\"n\": \"label\", \"vs\": \"kitchen\"},\n"
                       " {\"n\": \"open\", \"vb\": true},\n"
                       " {\"n\": \"blob\", \"vd\": \"aGk\"},\n"
                       " {\"n\": \"energy\", \"s\": 12},\n"
                       " {\"bv\": 100, \"n\": \"meter\", \"v\": 5, \"t\": -5}]\n";
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_AUTO, t);
    d.name = "pack.senml";
    tw_bind_source *src;
    tw_bind_sample s[16];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 16, &n, &src) == TW_OK);
    CHECK_EQ_INT(tw_bind_source_format(src), TW_BIND_FORMAT_SENML);
    REQUIRE(n == 8);
    CHECK_STR(name_of(t, &s[0]), "urn:dev:ow:10e2073a01080063:");
    CHECK(s[0].time == 1320067464.0 && s[0].value == 20 && s[0].unit == tw_bind_unit_lookup("%", 1));
    CHECK_STR(name_of(t, &s[1]), "urn:dev:ow:10e2073a01080063:");
    CHECK_EQ_INT(s[1].unit, TW_BIND_UNIT_UNKNOWN); /* "lon": not a unit twin converts */
    CHECK_STR(name_of(t, &s[2]), "urn:dev:ow:10e2073a01080063:temp");
    CHECK(s[2].time == 1320067474.0 && s[2].value == 23.1 && s[2].unit == tw_bind_unit_lookup("degC", 4));
    for (int i = 3; i <= 6; i++) CHECK_EQ_INT(s[i].kind, TW_BIND_SAMPLE_IGNORED);
    CHECK_STR(name_of(t, &s[7]), "urn:dev:ow:10e2073a01080063:meter");
    CHECK(s[7].value == 105 && s[7].time == 1320067459.0);
    CHECK_EQ_U64(tw_bind_source_get_stats(src)->ignored, 4);
    CHECK_EQ_U64(tw_bind_source_get_stats(src)->malformed, 0);
    tw_bind_source_free(src);
    tw_bind_sensors_free(t);
}

TEST(senml_relative_times_and_packs)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    /* One pack per line; base fields end with their pack. Times below 2^28
     * are relative to "now", which a file takes from senml_now. */
    const char *text = "[{\"bn\": \"a/\", \"n\": \"x\", \"v\": 1, \"t\": -60}, {\"n\": \"y\", \"v\": 2}]\n"
                       "[{\"n\": \"z\", \"v\": 3, \"bt\": 1700000000}]\n"
                       "{\"n\": \"lone\", \"v\": 4, \"t\": 5}\n";
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_SENML, t);
    d.json.senml_now = 1800000000.0;
    tw_bind_sample s[8];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    REQUIRE(n == 4);
    CHECK_STR(name_of(t, &s[0]), "a/x");
    CHECK(s[0].time == 1800000000.0 - 60);
    CHECK_STR(name_of(t, &s[1]), "a/y");
    CHECK(s[1].time == 1800000000.0);
    CHECK_STR(name_of(t, &s[2]), "z"); /* the base name did not survive its pack */
    CHECK(s[2].time == 1700000000.0);  /* absolute: not moved */
    CHECK_STR(name_of(t, &s[3]), "lone");
    CHECK(s[3].time == 1800000005.0);
    /* Without senml_now relative times stay as they are. */
    d.json.senml_now = 0;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    CHECK(s[0].time == -60 && s[3].time == 5);
    tw_bind_sensors_free(t);
}

TEST(senml_bad_records_counted)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "[{\"n\": \"a\", \"v\": 1, \"t\": 1700000000},\n"
                       " {\"n\": \"a\", \"v\": \"1\", \"t\": 1700000001},\n" /* 2: v must be a number */
                       " {\"n\": \"a\", \"v\": 1, \"t\": 1700000002, \"bver\": 11},\n" /* 3: version */
                       " {\"n\": \"a\", \"v\": 1, \"t\": 1700000003, \"x_\": 1},\n" /* 4: must-understand */
                       " {\"v\": 1, \"t\": 1700000004},\n"                        /* 5: no name */
                       " {\"n\": \"a\", \"t\": 1700000005},\n"                    /* 6: no value */
                       " 17,\n"                                                   /* 7: not a record */
                       " {\"n\": \"a\", \"v\": 7, \"t\": 1700000007, \"ut\": 5, \"other\": [1]}]\n" /* 8: ok */
                       "[{\"n\": \"b\", \"v\": 8, \"t\": 1700000008}\n";          /* 9: pack never closed */
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_SENML, t);
    d.name = "p.json";
    tw_bind_source *src;
    tw_bind_sample s[16];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 16, &n, &src) == TW_OK);
    REQUIRE(n == 10);
    const uint8_t kinds[10] = { 0, 1, 1, 1, 1, 1, 1, 0, 0, 1 };
    const uint8_t reasons[10] = { 0, TW_BIND_REJECT_VALUE, TW_BIND_REJECT_LINE, TW_BIND_REJECT_LINE,
                                  TW_BIND_REJECT_SENSOR, TW_BIND_REJECT_VALUE, TW_BIND_REJECT_LINE, 0, 0,
                                  TW_BIND_REJECT_LINE };
    for (int i = 0; i < 10; i++) {
        CHECK_EQ_INT(s[i].kind, kinds[i]);
        if (kinds[i]) CHECK_EQ_INT(s[i].reason, reasons[i]);
    }
    CHECK(s[7].value == 7 && s[8].value == 8);
    CHECK_EQ_INT(s[6].line, 7);
    CHECK_CONTAINS(tw_bind_source_error(src, 0), "p.json:2:");
    CHECK_CONTAINS(tw_bind_source_error(src, 5), "p.json:7: a SenML pack holds record objects");
    CHECK_CONTAINS(tw_bind_source_error(src, 6), "not closed at the end");
    tw_bind_source_free(src);
    tw_bind_sensors_free(t);
}

TEST(json_too_long_last_record_ends)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    char text[256];
    size_t o = (size_t)snprintf(text, sizeof text, "{\"time\": 1, \"sensor\": \"a\", \"value\": 1}\n{\"time\": 2, \"x\": \"");
    memset(text + o, 'y', 120);
    text[o + 120] = '\0';
    for (int senml = 0; senml < 2; senml++) {
        tw_bind_source_desc d = mem_desc(text, senml ? TW_BIND_FORMAT_SENML : TW_BIND_FORMAT_JSONL, t);
        d.max_record = 40;
        d.chunk_size = 3;
        tw_bind_sample s[8];
        uint32_t n;
        REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
        CHECK(n == (senml ? 1u : 2u)); /* as SenML the first object names nothing */
        CHECK(s[n - 1].kind == TW_BIND_SAMPLE_MALFORMED);
    }
    tw_bind_sensors_free(t);
}

TEST(senml_pretty_printed_across_chunks)
{
    char text[4096];
    size_t o = (size_t)snprintf(text, sizeof text, "[\n  {\n    \"bn\": \"dev/\",\n    \"bt\": 1700000000\n  },\n");
    for (int i = 0; i < 30; i++)
        o += (size_t)snprintf(text + o, sizeof text - o,
                              "  {\n    \"n\": \"s%d\",\n    \"t\": %d,\n    \"v\": %d.25,\n    \"u\": \"W\"\n  }%s\n", i % 4,
                              i, i, i < 29 ? "," : "");
    o += (size_t)snprintf(text + o, sizeof text - o, "]\n");
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_SENML, t);
    tw_bind_sample ref[64], got[64];
    uint32_t nref, n;
    REQUIRE(read_all_desc(&d, ref, 64, &nref, NULL) == TW_OK);
    REQUIRE(nref == 30);
    CHECK_STR(tw_bind_sensors_name(t, ref[5].sensor), "dev/s1");
    CHECK(ref[5].time == 1700000005.0 && ref[5].value == 5.25);
    CHECK_EQ_INT(ref[0].line, 6);
    for (size_t chunk = 1; chunk <= 40; chunk++) {
        d.chunk_size = chunk;
        REQUIRE(read_all_desc(&d, got, 64, &n, NULL) == TW_OK);
        bool same = n == nref;
        for (uint32_t i = 0; i < n && same; i++)
            same = got[i].sensor == ref[i].sensor && got[i].time == ref[i].time && got[i].value == ref[i].value &&
                   got[i].line == ref[i].line && got[i].unit == ref[i].unit;
        if (!same) {
            CHECK(same);
            fprintf(stderr, "  chunk %zu differs\n", chunk);
            break;
        }
    }
    tw_bind_sensors_free(t);
}

TEST(jsonl_chunk_boundaries_with_escapes)
{
    char text[8192];
    size_t o = 0;
    for (int i = 0; i < 60; i++)
        o += (size_t)snprintf(text + o, sizeof text - o,
                              "{\"sensor\": \"q\\\"%d\\\\}{\", \"time\": %d, \"value\": %d, \"note\": \"]}[{\"}\r\n", i % 5,
                              1700000000 + i, i);
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_JSONL, t);
    tw_bind_sample ref[64], got[64];
    uint32_t nref, n;
    REQUIRE(read_all_desc(&d, ref, 64, &nref, NULL) == TW_OK);
    REQUIRE(nref == 60);
    CHECK_EQ_INT(ref[3].kind, TW_BIND_SAMPLE_VALUE);
    CHECK_STR(tw_bind_sensors_name(t, ref[3].sensor), "q\"3\\}{");
    for (size_t chunk = 1; chunk <= 50; chunk++) {
        d.chunk_size = chunk;
        REQUIRE(read_all_desc(&d, got, 64, &n, NULL) == TW_OK);
        bool same = n == nref;
        for (uint32_t i = 0; i < n && same; i++)
            same = got[i].sensor == ref[i].sensor && got[i].time == ref[i].time && got[i].value == ref[i].value &&
                   got[i].line == ref[i].line;
        if (!same) {
            CHECK(same);
            fprintf(stderr, "  chunk %zu differs\n", chunk);
            break;
        }
    }
    tw_bind_sensors_free(t);
}
