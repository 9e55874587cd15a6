/* The CSV reader: long and wide forms, headers, quoting, delimiters, decimal
 * commas, times, chunk boundaries, bad lines, files, descriptors and stdin. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <unistd.h>

#include "bind_test.h"

static const char *name_of(tw_bind_sensors *t, const tw_bind_sample *s) { return tw_bind_sensors_name(t, s->sensor); }

TEST(csv_long_with_header)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "time,sensor,value,quality\n"
                       "2024-03-04T08:00:00Z,room-1/temp,21.5,good\n"
                       "2024-03-04T08:00:10Z,room-2/temp,-3,uncertain\n"
                       "1709539220,room-1/temp,22,\n";
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, t);
    tw_bind_sample s[8];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    REQUIRE(n == 3);
    CHECK_STR(name_of(t, &s[0]), "room-1/temp");
    CHECK_EQ_INT(s[0].kind, TW_BIND_SAMPLE_VALUE);
    CHECK(s[0].time == 1709539200.0 && s[0].value == 21.5 && s[0].quality == TW_BIND_SAMPLE_GOOD);
    CHECK_EQ_INT(s[0].line, 2);
    CHECK_STR(name_of(t, &s[1]), "room-2/temp");
    CHECK(s[1].value == -3 && s[1].quality == TW_BIND_SAMPLE_UNCERTAIN);
    CHECK(s[2].time == 1709539220.0 && s[2].sensor == s[0].sensor);
    CHECK(s[0].seq == 1 && s[1].seq == 2 && s[2].seq == 3);
    CHECK_EQ_INT(tw_bind_sensors_count(t), 2);
    tw_bind_sensors_free(t);
}

TEST(csv_long_without_header_and_column_order)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    /* No header: time, sensor, value[, quality[, unit]] by position. */
    const char *text = "2024-03-04T08:00:00Z,a,1\n2024-03-04T08:00:01Z,b,2,bad\n2024-03-04T08:00:02Z,c,3,good,degF\n";
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, t);
    tw_bind_sample s[8];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    REQUIRE(n == 3);
    CHECK(s[0].value == 1 && s[1].quality == TW_BIND_SAMPLE_BAD && s[2].unit == tw_bind_unit_lookup("degF", 4));
    /* A header in another order, with other names, found case-insensitively. */
    const char *text2 = "Sensor_ID;Value;Timestamp\nx;4,5;2024-03-04T08:00:00Z\n";
    d = mem_desc(text2, TW_BIND_FORMAT_CSV, t);
    d.csv.decimal_comma = true;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    REQUIRE(n == 1);
    CHECK_STR(name_of(t, &s[0]), "x");
    CHECK(s[0].value == 4.5 && s[0].time == 1709539200.0);
    tw_bind_sensors_free(t);
}

TEST(csv_wide_form)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "timestamp,temp,co2,power\n"
                       "2024-03-04T08:00:00Z,21.0,500,1000\n"
                       "2024-03-04T08:01:00Z,21.5,,1100\n" /* an empty cell is no sample */
                       "2024-03-04T08:02:00Z,22.0,510,x\n";  /* an unreadable cell is a malformed one */
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_AUTO, t);
    d.sensor_prefix = "site/";
    tw_bind_source *src;
    tw_bind_sample s[16];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 16, &n, &src) == TW_OK);
    CHECK_EQ_INT(tw_bind_source_format(src), TW_BIND_FORMAT_CSV); /* from the content */
    REQUIRE(n == 8);
    CHECK_STR(name_of(t, &s[0]), "site/temp");
    CHECK_STR(name_of(t, &s[1]), "site/co2");
    CHECK_STR(name_of(t, &s[2]), "site/power");
    CHECK(s[3].value == 21.5 && s[4].value == 1100 && s[4].time == 1709539260.0);
    CHECK_EQ_INT(s[7].kind, TW_BIND_SAMPLE_MALFORMED);
    CHECK_EQ_INT(s[7].reason, TW_BIND_REJECT_VALUE);
    CHECK_STR(name_of(t, &s[7]), "site/power");
    const tw_bind_source_stats *st = tw_bind_source_get_stats(src);
    CHECK_EQ_U64(st->empty_cells, 1);
    CHECK_EQ_U64(st->malformed, 1);
    CHECK_EQ_U64(st->records, 3);
    CHECK_CONTAINS(tw_bind_source_error(src, 0), "mem:4:");
    tw_bind_source_free(src);
    tw_bind_sensors_free(t);
}

TEST(csv_wide_with_key_column_and_ignored_columns)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "reading,mote_id,indoor,humidity,temperature,label\n1,1,0,43.82,30.21,0\n1,2,1,40.1,29.5,1\n";
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, t);
    d.csv.time_column = "reading";
    d.csv.key_column = "mote_id";
    d.csv.ignore_columns = "indoor, label";
    tw_bind_sample s[8];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    REQUIRE(n == 4);
    CHECK_STR(name_of(t, &s[0]), "1/humidity");
    CHECK_STR(name_of(t, &s[1]), "1/temperature");
    CHECK_STR(name_of(t, &s[3]), "2/temperature");
    CHECK(s[3].value == 29.5 && s[3].time == 1.0);
    tw_bind_sensors_free(t);
}

TEST(csv_row_names_header_one_short)
{
    /* R's write.csv: the header names every column but the row names. */
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "\"date\",\"Temperature\",\"CO2\"\n\"1\",\"2015-02-04 17:51:00\",23.18,721.25\n"
                       "\"2\",2015-02-04 17:51:59,23.15,714\n";
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, t);
    tw_bind_sample s[8];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    REQUIRE(n == 4);
    CHECK_STR(name_of(t, &s[0]), "Temperature");
    CHECK(s[0].value == 23.18 && s[0].time == 1423072260.0);
    CHECK_STR(name_of(t, &s[3]), "CO2");
    CHECK(s[3].value == 714 && s[3].time == 1423072319.0);
    tw_bind_sensors_free(t);
}

TEST(csv_quoted_fields_rfc4180)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "time,sensor,value\n"
                       "2024-03-04T08:00:00Z,\"a,b\",1\n"                 /* the delimiter inside quotes */
                       "2024-03-04T08:00:01Z,\"say \"\"hi\"\"\",2\n"      /* escaped quotes */
                       "2024-03-04T08:00:02Z,\"two\nlines\",3\n"          /* a newline inside quotes */
                       "\"2024-03-04T08:00:03Z\",plain,\"4\"\r\n"          /* CRLF and quoted numbers */
                       "2024-03-04T08:00:04Z,x,5\n"
                       "2024-03-04T08:00:05Z,\"q \"\"z\"\"\n,w\",6\n";       /* "" then a newline, still quoted */
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, t);
    tw_bind_sample s[8];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    REQUIRE(n == 6);
    CHECK_STR(name_of(t, &s[0]), "a,b");
    CHECK_STR(name_of(t, &s[1]), "say \"hi\"");
    CHECK_STR(name_of(t, &s[2]), "two\nlines");
    CHECK_STR(name_of(t, &s[3]), "plain");
    CHECK(s[3].value == 4);
    /* Line numbers count the newline inside the quoted field. */
    CHECK_EQ_INT(s[2].line, 4);
    CHECK_EQ_INT(s[3].line, 6);
    CHECK_EQ_INT(s[4].line, 7);
    CHECK_STR(name_of(t, &s[5]), "q \"z\"\n,w");
    CHECK(s[5].value == 6 && s[5].line == 8);
    tw_bind_sensors_free(t);
}

TEST(csv_delimiters_and_decimal_comma)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    tw_bind_sample s[8];
    uint32_t n;
    /* Semicolons found in the first line; decimal commas in values and times. */
    const char *semi = "time;sensor;value\n2024-03-04T08:00:00,5Z;t;21,25\n";
    tw_bind_source_desc d = mem_desc(semi, TW_BIND_FORMAT_CSV, t);
    d.csv.decimal_comma = true;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    REQUIRE(n == 1);
    CHECK(s[0].value == 21.25 && s[0].time == 1709539200.5);
    /* Tabs and pipes. */
    const char *tab = "time\tsensor\tvalue\n1709539200\tt\t1.5\n";
    d = mem_desc(tab, TW_BIND_FORMAT_CSV, t);
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    CHECK(n == 1 && s[0].value == 1.5);
    const char *pipe = "time|sensor|value\n1709539200|t|2.5\n";
    d = mem_desc(pipe, TW_BIND_FORMAT_CSV, t);
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    CHECK(n == 1 && s[0].value == 2.5);
    /* A given delimiter wins over detection. */
    const char *given = "time;sensor;value,x,y\n1709539200;t;3\n";
    d = mem_desc(given, TW_BIND_FORMAT_CSV, t);
    d.csv.delimiter = ';';
    d.csv.value_column = "value,x,y";
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    CHECK(n == 1 && s[0].value == 3);
    /* A decimal comma with ',' as the delimiter is refused at open. */
    d = mem_desc(semi, TW_BIND_FORMAT_CSV, t);
    d.csv.decimal_comma = true;
    d.csv.delimiter = ',';
    tw_bind_source *src;
    tw_diag diag;
    CHECK_EQ_INT(tw_bind_source_open(&d, &src, &diag), TW_ERR_INVALID);
    CHECK_CONTAINS(diag.message, "decimal comma");
    tw_bind_sensors_free(t);
}

TEST(csv_time_formats)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "time,sensor,value\n"
                       "1709539200,a,1\n"            /* epoch seconds */
                       "1709539200500,a,2\n"         /* epoch milliseconds, by magnitude */
                       "2024-03-04T09:00:01+01:00,a,3\n" /* ISO with an offset */
                       "2024-03-04 08:00:02,a,4\n";   /* ISO with a space, no zone: UTC */
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, t);
    tw_bind_sample s[8];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    REQUIRE(n == 4);
    CHECK(s[0].time == 1709539200.0);
    CHECK(s[1].time == 1709539200.5);
    CHECK(s[2].time == 1709539201.0);
    CHECK(s[3].time == 1709539202.0);
    /* Configured milliseconds: small numbers too. */
    const char *ms = "time,sensor,value\n1500,a,1\n";
    d = mem_desc(ms, TW_BIND_FORMAT_CSV, t);
    d.time_format = TW_BIND_TIME_EPOCH_MS;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    CHECK(n == 1 && s[0].time == 1.5);
    tw_bind_sensors_free(t);
}

/* A text with every record shape the splitter has to put back together. */
static char *boundary_text(size_t *len)
{
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    size_t o = (size_t)snprintf(buf, cap, "\xEF\xBB\xBFtime,sensor,value,quality\r\n# a comment\r\n\r\n");
    for (int i = 0; i < 120; i++) {
        const char *forms[] = { "%d,s%d,%d.5,good\r\n", "%d,\"q,%d\",%d,\"good\"\n", "%d,\"x\"\"%d\"\"\",%d,\n",
                                "%d,\"multi\nline%d\",%d,0\n", "%d,plain%d,%d,uncertain\n" };
        o += (size_t)snprintf(buf + o, cap - o, forms[i % 5], 1709539200 + i, i % 7, i);
    }
    o += (size_t)snprintf(buf + o, cap - o, "1709539999,last,\"9\""); /* no final newline */
    *len = o;
    return buf;
}

TEST(csv_chunk_boundaries)
{
    size_t len;
    char *text = boundary_text(&len);
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    static tw_bind_sample ref[256], got[256];
    uint32_t nref, n;
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, t);
    d.size = len;
    REQUIRE(read_all_desc(&d, ref, 256, &nref, NULL) == TW_OK);
    CHECK_EQ_INT(nref, 121);
    for (uint32_t i = 0; i < nref; i++) CHECK_EQ_INT(ref[i].kind, TW_BIND_SAMPLE_VALUE);
    CHECK_STR(tw_bind_sensors_name(t, ref[120].sensor), "last");
    CHECK(ref[120].value == 9);
    /* Every chunk size from one byte up gives the same samples. */
    for (size_t chunk = 1; chunk <= 70; chunk++) {
        d.chunk_size = chunk;
        REQUIRE(read_all_desc(&d, got, 256, &n, NULL) == TW_OK);
        if (n != nref) {
            CHECK_EQ_INT(n, nref);
            fprintf(stderr, "  chunk %zu\n", chunk);
            break;
        }
        bool same = true;
        for (uint32_t i = 0; i < n && same; i++)
            same = got[i].sensor == ref[i].sensor && got[i].time == ref[i].time && got[i].value == ref[i].value &&
                   got[i].quality == ref[i].quality && got[i].line == ref[i].line;
        if (!same) {
            CHECK(same);
            fprintf(stderr, "  chunk %zu differs\n", chunk);
            break;
        }
    }
    tw_bind_sensors_free(t);
    free(text);
}

TEST(csv_bad_lines_are_counted_not_fatal)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    const char *text = "time,sensor,value,quality\n"
                       "2024-03-04T08:00:00Z,a,1,good\n"  /* 2 ok */
                       "this is not csv\n"                /* 3 field count */
                       "yesterday,a,2,good\n"             /* 4 time */
                       "2024-03-04T08:00:02Z,a,,good\n"   /* 5 empty value */
                       "2024-03-04T08:00:03Z,a,abc,good\n" /* 6 unreadable value */
                       "2024-03-04T08:00:04Z,,5,good\n"   /* 7 empty sensor */
                       "2024-03-04T08:00:05Z,a,6,maybe\n" /* 8 unknown quality */
                       "2024-03-04T08:00:06Z,a,NaN,good\n" /* 9 NaN is a value (the binder rejects it) */
                       "\"2024-03-04T08:00:07Z,a,7\n";     /* 10 a quote never closed */
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, t);
    d.name = "log.csv";
    tw_bind_source *src;
    tw_bind_sample s[16];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 16, &n, &src) == TW_OK);
    REQUIRE(n == 9);
    const uint8_t kinds[9] = { 0, 1, 1, 1, 1, 1, 1, 0, 1 };
    const uint8_t reasons[9] = { 0, TW_BIND_REJECT_LINE, TW_BIND_REJECT_TIME, TW_BIND_REJECT_VALUE,
                                 TW_BIND_REJECT_VALUE, TW_BIND_REJECT_SENSOR, TW_BIND_REJECT_QUALITY, 0,
                                 TW_BIND_REJECT_LINE };
    for (int i = 0; i < 9; i++) {
        CHECK_EQ_INT(s[i].kind, kinds[i]);
        if (kinds[i]) CHECK_EQ_INT(s[i].reason, reasons[i]);
        CHECK_EQ_INT(s[i].line, i + 2);
    }
    CHECK(isnan(s[7].value));
    const tw_bind_source_stats *st = tw_bind_source_get_stats(src);
    CHECK_EQ_U64(st->malformed, 7);
    CHECK_EQ_U64(st->errors, 7);
    CHECK_EQ_INT(tw_bind_source_error_count(src), 7);
    CHECK_CONTAINS(tw_bind_source_error(src, 0), "log.csv:3:");
    CHECK_CONTAINS(tw_bind_source_error(src, 1), "log.csv:4: cannot read the time \"yesterday\"");
    CHECK_CONTAINS(tw_bind_source_error(src, 3), "log.csv:6: cannot read the value \"abc\"");
    CHECK_CONTAINS(tw_bind_source_error(src, 6), "log.csv:10:");
    CHECK_EQ_INT(tw_bind_source_get_state(src), TW_BIND_SOURCE_END);
    tw_bind_source_free(src);
    tw_bind_sensors_free(t);
}

TEST(csv_too_long_record_skipped)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    char text[2048];
    size_t o = (size_t)snprintf(text, sizeof text, "time,sensor,value\n1709539200,a,1\n1709539201,");
    memset(text + o, 'x', 400);
    o += 400;
    o += (size_t)snprintf(text + o, sizeof text - o, ",2\n1709539202,a,3\n");
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, t);
    d.chunk_size = 16;
    d.max_record = 100;
    tw_bind_source *src;
    tw_bind_sample s[8];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 8, &n, &src) == TW_OK);
    REQUIRE(n == 3);
    CHECK(s[0].kind == TW_BIND_SAMPLE_VALUE && s[0].value == 1);
    CHECK(s[1].kind == TW_BIND_SAMPLE_MALFORMED && s[1].reason == TW_BIND_REJECT_LINE);
    CHECK(s[2].kind == TW_BIND_SAMPLE_VALUE && s[2].value == 3 && s[2].line == 4);
    CHECK_CONTAINS(tw_bind_source_error(src, 0), "mem:3: a record longer than 100 bytes");
    tw_bind_source_free(src);
    tw_bind_sensors_free(t);
}

TEST(csv_too_long_last_record_ends)
{
    /* A record too long to keep, with no newline before the end of the input:
     * the reader skips it and ends (it once kept waiting for a newline). */
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    char text[256];
    size_t o = (size_t)snprintf(text, sizeof text, "time,sensor,value\n1709539200,a,1\n1709539201,a,");
    memset(text + o, '7', 120);
    text[o + 120] = '\0';
    for (size_t chunk = 1; chunk <= 64; chunk *= 4) {
        tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, t);
        d.max_record = 32;
        d.chunk_size = chunk;
        tw_bind_sample s[8];
        uint32_t n;
        REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
        REQUIRE(n == 2);
        CHECK(s[0].value == 1 && s[1].kind == TW_BIND_SAMPLE_MALFORMED);
    }
    tw_bind_sensors_free(t);
}

TEST(csv_configuration_errors_at_open)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    tw_bind_source *src;
    tw_diag diag;
    /* Long form forced, but no sensor column. */
    tw_bind_source_desc d = mem_desc("time,temp\n1,2\n", TW_BIND_FORMAT_CSV, t);
    d.csv.layout = TW_BIND_CSV_LONG;
    CHECK_EQ_INT(tw_bind_source_open(&d, &src, &diag), TW_ERR_INVALID);
    CHECK_CONTAINS(diag.message, "no sensor column");
    CHECK_CONTAINS(diag.message, "time, temp");
    CHECK_EQ_INT(diag.line, 1);
    /* Wide form without a header. */
    d = mem_desc("1709539200,1,2\n", TW_BIND_FORMAT_CSV, t);
    d.csv.layout = TW_BIND_CSV_WIDE;
    CHECK_EQ_INT(tw_bind_source_open(&d, &src, &diag), TW_ERR_INVALID);
    CHECK_CONTAINS(diag.message, "header");
    /* A configured column that is not there. */
    d = mem_desc("ts,a\n1,2\n", TW_BIND_FORMAT_CSV, t);
    d.csv.time_column = "when";
    CHECK_EQ_INT(tw_bind_source_open(&d, &src, &diag), TW_ERR_INVALID);
    CHECK_CONTAINS(diag.message, "no time column");
    /* A missing file. */
    memset(&d, 0, sizeof d);
    d.path = "/nonexistent/telemetry.csv";
    d.sensors = t;
    CHECK_EQ_INT(tw_bind_source_open(&d, &src, &diag), TW_ERR_IO);
    CHECK_CONTAINS(diag.message, "/nonexistent/telemetry.csv");
    /* An empty input is simply over. */
    d = mem_desc("", TW_BIND_FORMAT_CSV, t);
    tw_bind_sample s[2];
    uint32_t n;
    CHECK_EQ_INT(read_all_desc(&d, s, 2, &n, NULL), TW_OK);
    CHECK_EQ_INT(n, 0);
    tw_bind_sensors_free(t);
}

TEST(csv_file_path_and_descriptor)
{
    const char *text = "time,sensor,value\n1709539200,a,1\n1709539201,b,2\n";
    char path[64];
    REQUIRE(write_temp(text, strlen(text), path, sizeof path));
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    tw_bind_source_desc d;
    memset(&d, 0, sizeof d);
    d.path = path;
    d.format = TW_BIND_FORMAT_CSV;
    d.sensors = t;
    d.chunk_size = 5;
    tw_bind_source *src;
    tw_bind_sample s[4];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 4, &n, &src) == TW_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_STR(tw_bind_source_name(src), path);
    CHECK_EQ_U64(tw_bind_source_get_stats(src)->bytes, strlen(text));
    tw_bind_source_free(src);
    /* The same through a descriptor (a pipe, as standard input would be). */
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    REQUIRE(write(fds[1], text, strlen(text)) == (ssize_t)strlen(text));
    close(fds[1]);
    memset(&d, 0, sizeof d);
    d.use_fd = true;
    d.fd = fds[0];
    d.format = TW_BIND_FORMAT_CSV;
    d.sensors = t;
    REQUIRE(read_all_desc(&d, s, 4, &n, NULL) == TW_OK);
    CHECK(n == 2 && s[1].value == 2);
    close(fds[0]);
    unlink(path);
    tw_bind_sensors_free(t);
}

TEST(csv_stdin_stream_and_live_waiting)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    /* "-" reads standard input: put the pipe there for a moment. */
    int saved = dup(STDIN_FILENO);
    REQUIRE(saved >= 0);
    REQUIRE(dup2(fds[0], STDIN_FILENO) == STDIN_FILENO);
    tw_bind_source_desc d;
    memset(&d, 0, sizeof d);
    d.path = "-";
    d.format = TW_BIND_FORMAT_CSV;
    d.live = true;
    d.sensors = t;
    tw_bind_source *src;
    tw_diag diag;
    tw_status st = tw_bind_source_open(&d, &src, &diag);
    close(fds[0]); /* fd 0 holds the pipe until the end */
    REQUIRE(st == TW_OK);
    CHECK_STR(tw_bind_source_name(src), "stdin");
    tw_bind_sample s[4];
    uint32_t n = 9;
    /* Nothing written yet: a live source waits instead of blocking. */
    CHECK_EQ_INT(tw_bind_source_read(src, s, 4, &n), TW_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(tw_bind_source_get_state(src), TW_BIND_SOURCE_WAITING);
    const char *part1 = "time,sensor,value\n1709539200,a,1\n1709539201,a,";
    REQUIRE(write(fds[1], part1, strlen(part1)) == (ssize_t)strlen(part1));
    CHECK_EQ_INT(tw_bind_source_read(src, s, 4, &n), TW_OK);
    CHECK_EQ_INT(n, 1);
    CHECK(s[0].value == 1 && s[0].arrival > 1.6e9); /* live samples carry their arrival time */
    const char *part2 = "2\n";
    REQUIRE(write(fds[1], part2, 2) == 2);
    close(fds[1]);
    CHECK_EQ_INT(tw_bind_source_read(src, s, 4, &n), TW_OK);
    CHECK(n == 1 && s[0].value == 2);
    CHECK_EQ_INT(tw_bind_source_read(src, s, 4, &n), TW_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(tw_bind_source_get_state(src), TW_BIND_SOURCE_END);
    tw_bind_source_free(src);
    dup2(saved, STDIN_FILENO);
    close(saved);
    tw_bind_sensors_free(t);
}

TEST(csv_sensor_table_overflow_is_other)
{
    tw_bind_sensors_desc sd = { NULL, 2, NULL, NULL };
    tw_bind_sensors *t = tw_bind_sensors_new(&sd);
    tw_bind_source_desc d = mem_desc("time,sensor,value\n1,a,1\n2,b,2\n3,c,3\n4,a,4\n", TW_BIND_FORMAT_CSV, t);
    tw_bind_sample s[8];
    uint32_t n;
    REQUIRE(read_all_desc(&d, s, 8, &n, NULL) == TW_OK);
    REQUIRE(n == 4);
    CHECK(s[0].sensor == 1 && s[1].sensor == 2 && s[3].sensor == 1);
    CHECK_EQ_U64(s[2].sensor, TW_BIND_SENSOR_OTHER);
    CHECK_STR(tw_bind_sensors_name(t, TW_BIND_SENSOR_OTHER), "(other)");
    tw_bind_sensors_free(t);
}
