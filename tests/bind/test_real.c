/* Real sensor logs nobody here wrote (../shared/data/sensors, SOURCES.md):
 * the UCI occupancy logs (a header one name short of the fields, quoted and
 * unquoted dates across files) and the multi-hop sensor network CSV (four
 * motes, labelled anomalies). The counters must equal what the files hold,
 * counted here independently with a plain loop over the bytes. */
#define _POSIX_C_SOURCE 200809L
#include "bind_test.h"

/* Independent count: data rows (non-empty lines after the header) and, for
 * column col (0-based, split on ','), how many values are above hi or below lo. */
typedef struct file_count {
    uint64_t rows;
    uint64_t fields_per_row; /* of the first data row */
    uint64_t out_of_range;
    char first_time[32];
} file_count;

static bool count_file(const char *path, int col, double lo, double hi, file_count *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    memset(out, 0, sizeof *out);
    char line[4096];
    bool header = true;
    while (fgets(line, sizeof line, f)) {
        if (header) {
            header = false;
            continue;
        }
        if (line[0] == '\n' || line[0] == '\r' || line[0] == '\0') continue;
        out->rows++;
        int k = 0;
        char *p = line, *field[16];
        field[k++] = p;
        for (; *p && k < 16; p++)
            if (*p == ',') {
                *p = '\0';
                field[k++] = p + 1;
            }
        if (out->rows == 1) {
            out->fields_per_row = (uint64_t)k;
            const char *t = field[1];
            size_t o = 0;
            for (; *t && o + 1 < sizeof out->first_time; t++)
                if (*t != '"') out->first_time[o++] = *t;
            out->first_time[o] = '\0';
        }
        if (col >= 0 && col < k) {
            double v = atof(field[col]);
            if (v < lo || v > hi) out->out_of_range++;
        }
    }
    fclose(f);
    return true;
}

static const char *const uci_files[] = { "sensors/uci_occupancy/datatraining.txt", "sensors/uci_occupancy/datatest.txt",
                                         "sensors/uci_occupancy/datatest2.txt" };

TEST(real_uci_occupancy_reads_every_value)
{
    int found = 0;
    for (int i = 0; i < 3; i++) {
        char path[1024];
        if (!test_data_path(uci_files[i], path, sizeof path)) continue;
        found++;
        file_count fc;
        REQUIRE(count_file(path, -1, 0, 0, &fc));
        CHECK_EQ_U64(fc.fields_per_row, 8); /* a row id + 7 named columns */
        tw_bind_sensors *t = tw_bind_sensors_new(NULL);
        tw_bind_source_desc d;
        memset(&d, 0, sizeof d);
        d.path = path;
        d.sensors = t;
        d.sensor_prefix = "uci/";
        tw_bind_source *src;
        tw_diag diag;
        REQUIRE(tw_bind_source_open(&d, &src, &diag) == TW_OK);
        CHECK_EQ_INT(tw_bind_source_format(src), TW_BIND_FORMAT_CSV); /* .txt */
        static tw_bind_sample s[256];
        uint64_t total = 0, values = 0;
        double first = NAN, last = NAN;
        for (;;) {
            uint32_t n;
            REQUIRE(tw_bind_source_read(src, s, 256, &n) == TW_OK);
            if (n == 0) break;
            for (uint32_t k = 0; k < n; k++) {
                values += s[k].kind == TW_BIND_SAMPLE_VALUE && isfinite(s[k].value);
                if (total == 0) first = s[k].time;
                last = s[k].time;
                total++;
            }
        }
        /* Six sensor columns per row (the row id and the date are not sensors). */
        CHECK_EQ_U64(total, fc.rows * 6);
        CHECK_EQ_U64(values, fc.rows * 6);
        CHECK_EQ_U64(tw_bind_source_get_stats(src)->malformed, 0);
        CHECK_EQ_U64(tw_bind_source_get_stats(src)->records, fc.rows);
        double want_first;
        CHECK(bind_parse_iso8601(fc.first_time, strlen(fc.first_time), &want_first));
        CHECK(first == want_first);
        CHECK(last > first);
        CHECK(tw_bind_sensors_find(t, "uci/Temperature", 15) != 0);
        CHECK(tw_bind_sensors_find(t, "uci/Occupancy", 13) != 0);
        CHECK(tw_bind_sensors_find(t, "uci/date", 8) == 0);
        CHECK_EQ_INT(tw_bind_sensors_count(t), 6);
        tw_bind_source_free(src);
        tw_bind_sensors_free(t);
    }
    if (!found) TEST_SKIP("the UCI occupancy logs are not in ../shared/data (set TWIN_DATA_DIR)");
}

TEST(real_uci_occupancy_bound_to_a_room)
{
    char path[1024];
    if (!test_data_path(uci_files[0], path, sizeof path))
        TEST_SKIP("the UCI occupancy logs are not in ../shared/data (set TWIN_DATA_DIR)");
    file_count fc;
    REQUIRE(count_file(path, -1, 0, 0, &fc));
    fixture f;
    REQUIRE(fx_init(&f, NULL));
    tw_bind *b;
    tw_diag d;
    tw_bind_desc bd = { .log = &quiet_log };
    REQUIRE(tw_bind_new(f.w, &bd, &b, &d) == TW_OK);
    const char *rules = "{\"format\": \"twin-bindings/1\", \"reorder_window\": 5,\n"
                        " \"reader\": {\"sensor_prefix\": \"uci/\"},\n"
                        " \"defaults\": {\"stale_after\": 600},\n"
                        " \"bindings\": [\n"
                        "  {\"sensor\": \"uci/Temperature\", \"entity\": \"site/room-1\", \"field\": \"Room.temperature\","
                        " \"unit\": \"degC\", \"range\": [-10, 50]},\n"
                        "  {\"sensor\": \"uci/CO2\", \"entity\": \"site/room-1\", \"field\": \"Room.co2\", \"unit\": \"ppm\"},\n"
                        "  {\"sensor\": \"uci/Humidity\", \"entity\": \"site/room-1\", \"field\": \"Room.humidity\","
                        " \"unit\": \"%RH\"},\n"
                        "  {\"sensor\": \"uci/Light\", \"entity\": \"site/room-1\", \"field\": \"Room.light\", \"unit\": \"lx\"},\n"
                        "  {\"sensor\": \"uci/Occupancy\", \"entity\": \"site/room-1\", \"field\": \"Room.occupancy\","
                        " \"mode\": \"observe\"}]}";
    tw_status st = tw_bind_load_text(b, rules, strlen(rules), "uci.bindings.json", &d);
    if (st != TW_OK) fprintf(stderr, "  %d:%d %s\n", d.line, d.column, d.message);
    REQUIRE(st == TW_OK);
    REQUIRE(tw_bind_open(b, path, &d) == TW_OK);
    double t = 0;
    uint64_t steps = 0;
    while (!tw_bind_finished(b)) {
        REQUIRE(tw_bind_apply_until(b, f.w, t) == TW_OK);
        t += 10.0;
        steps++;
        REQUIRE(steps < 1000000);
    }
    const tw_bind_counters *c = tw_bind_get_counters(b);
    CHECK_EQ_U64(c->received, fc.rows * 6);
    CHECK_EQ_U64(c->applied, fc.rows * 5);        /* temperature, CO2, humidity, light, occupancy (observed) */
    CHECK_EQ_U64(c->unknown_sensor, fc.rows * 1); /* HumidityRatio has no binding */
    CHECK_EQ_U64(c->late + c->duplicate + c->rejected, 0);
    CHECK_IDENTITY(c);
    tw_bind_sensor_count top[4];
    CHECK_EQ_INT(tw_bind_unknown_sensors(b, top, 4), 1);
    CHECK_STR(top[0].sensor, "uci/HumidityRatio");
    CHECK_EQ_U64(top[0].count, fc.rows);
    /* Occupancy is observed beside a field that stays 0: its mean residual is
     * the occupied fraction, which the file's last column gives directly. */
    file_count occ;
    REQUIRE(count_file(path, 7, -0.5, 0.5, &occ)); /* rows whose Occupancy is not 0 */
    tw_bind_binding_info info;
    REQUIRE(tw_bind_binding_get(b, 4, &info));
    CHECK_STR(info.sensor, "uci/Occupancy");
    CHECK_EQ_U64(info.residual_count, fc.rows);
    CHECK_NEAR(info.residual_mean * (double)fc.rows, (double)occ.out_of_range, 1e-6);
    Room *room = fx_room(&f, f.room1);
    CHECK_NEAR(room->temperature, 21.1, 1e-4); /* the last row of datatraining.txt */
    CHECK_NEAR(room->co2, 821.0, 1e-3);
    CHECK_EQ_U64(c->stale_fields, 0);
    tw_bind_free(b);
    fx_fini(&f);
}

TEST(real_multihop_motes_and_range_rule)
{
    char path[1024];
    if (!test_data_path("sensors/suthaharan_multihop/data.csv", path, sizeof path))
        TEST_SKIP("the multi-hop sensor network CSV is not in ../shared/data (set TWIN_DATA_DIR)");
    file_count fc;
    /* Column 4 is temperature: count what a [15, 35] degC range rejects. */
    REQUIRE(count_file(path, 4, 15, 35, &fc));
    CHECK_EQ_U64(fc.fields_per_row, 6);
    /* Four motes as entities lab/mote-1..4. */
    fixture f;
    REQUIRE(fx_init(&f, NULL));
    tw_entity lab = fx_entity(&f, "lab", TW_ENTITY_NULL, false);
    for (int m = 1; m <= 4; m++) {
        char name[16];
        snprintf(name, sizeof name, "mote-%d", m);
        fx_entity(&f, name, lab, true);
    }
    tw_bind *b;
    tw_diag d;
    tw_bind_desc bd = { .log = &quiet_log };
    REQUIRE(tw_bind_new(f.w, &bd, &b, &d) == TW_OK);
    const char *rules =
        "{\"format\": \"twin-bindings/1\",\n"
        /* The file is sorted by mote, then by reading: time runs 1..4690 four
         * times over, so the window has to span the whole log. */
        " \"reorder_window\": 5000,\n"
        " \"reader\": {\"csv\": {\"time_column\": \"reading\", \"key_column\": \"mote_id\","
        " \"ignore_columns\": [\"indoor\", \"label\"]}},\n"
        " \"bindings\": [\n"
        "  {\"topic\": \"{mote}/temperature\", \"entity\": \"lab/mote-{mote}\", \"field\": \"Room.temperature\","
        " \"range\": [15, 35]},\n"
        "  {\"topic\": \"{mote}/humidity\", \"entity\": \"lab/mote-{mote}\", \"field\": \"Room.humidity\"}]}";
    tw_status st = tw_bind_load_text(b, rules, strlen(rules), "motes.json", &d);
    if (st != TW_OK) fprintf(stderr, "  %d:%d %s\n", d.line, d.column, d.message);
    REQUIRE(st == TW_OK);
    REQUIRE(tw_bind_open(b, path, &d) == TW_OK);
    for (double t = 0; !tw_bind_finished(b); t += 1.0) REQUIRE(tw_bind_apply_until(b, f.w, t) == TW_OK);
    const tw_bind_counters *c = tw_bind_get_counters(b);
    CHECK_EQ_U64(c->received, fc.rows * 2);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_RANGE], fc.out_of_range);
    CHECK_EQ_U64(c->rejected, fc.out_of_range);
    CHECK_EQ_U64(c->applied, fc.rows * 2 - fc.out_of_range);
    CHECK_EQ_U64(c->unknown_sensor + c->late + c->duplicate, 0);
    CHECK_IDENTITY(c);
    CHECK_EQ_INT(tw_bind_binding_count(b), 8); /* two fields on each of four motes */
    /* The last reading of mote 4 (4690,4,1,47.77,27.21,0). */
    tw_entity m4 = tw_ecs_lookup_path(f.w, "lab/mote-4");
    CHECK_NEAR(fx_room(&f, m4)->temperature, 27.21, 1e-4);
    CHECK_NEAR(fx_room(&f, m4)->humidity, 47.77, 1e-4);
    tw_bind_free(b);
    fx_fini(&f);
}
