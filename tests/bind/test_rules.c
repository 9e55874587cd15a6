/* The twin-bindings/1 file: what it sets, and errors that say where. */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "bind_test.h"

static tw_bind *binder(fixture *f, double scene_start)
{
    tw_bind_desc d;
    memset(&d, 0, sizeof d);
    d.scene_start = scene_start;
    tw_bind *b = NULL;
    tw_diag diag;
    if (!fx_init(f, NULL) || tw_bind_new(f->w, &d, &b, &diag) != TW_OK) return NULL;
    return b;
}

static const char *good_file =
    "{\n"
    "  \"format\": \"twin-bindings/1\",\n"
    "  \"description\": \"test site\",\n"
    "  \"anchor\": \"2024-03-04T08:00:00Z\",\n"
    "  \"reorder_window\": 30,\n"
    "  \"reader\": {\n"
    "    \"format\": \"csv\",\n"
    "    \"sensor_prefix\": \"s/\",\n"
    "    \"csv\": {\"layout\": \"wide\", \"delimiter\": \";\", \"decimal_comma\": true, \"time_column\": \"when\",\n"
    "            \"ignore_columns\": [\"note\"]}\n"
    "  },\n"
    "  \"defaults\": {\"stale_after\": 600, \"range\": [-40, 80]},\n"
    "  \"bindings\": [\n"
    "    {\"sensor\": \"s/t1\", \"entity\": \"site/room-1\", \"field\": \"Room.temperature\", \"unit\": \"degF\"},\n"
    "    {\"sensor\": \"s/t2\", \"entity\": \"site/room-2\", \"field\": \"Room.temperature\",\n"
    "     \"mode\": \"assimilate\", \"gain\": 0.5, \"smoothing\": {\"tau\": 30}, \"range\": [0, null],\n"
    "     \"out_of_range\": \"clamp\", \"deadband\": 0.1},\n"
    "    {\"topic\": \"s/{room}/co2\", \"entity\": \"site/{room}\", \"field\": \"Room.co2\", \"unit\": \"ppm\",\n"
    "     \"smoothing\": 0.5, \"mode\": \"observe\", \"range\": [0, 5000]}\n"
    "  ]\n"
    "}\n";

TEST(rules_file_loads_everything)
{
    fixture f;
    tw_bind *b = binder(&f, 0);
    REQUIRE(b);
    tw_diag d;
    tw_status st = tw_bind_load_text(b, good_file, strlen(good_file), "site.bindings.json", &d);
    if (st != TW_OK) fprintf(stderr, "  %s:%d:%d: %s\n", d.file, d.line, d.column, d.message);
    REQUIRE(st == TW_OK);
    CHECK_EQ_INT(tw_bind_rule_count(b), 3);
    const tw_bind_rule *r0 = tw_bind_rule_get(b, 0), *r1 = tw_bind_rule_get(b, 1), *r2 = tw_bind_rule_get(b, 2);
    CHECK_STR(r0->sensor, "s/t1");
    CHECK_STR(r0->unit, "degF");
    CHECK(r0->stale_after == 600 && r0->has_range && r0->range_min == -40 && r0->range_max == 80); /* defaults */
    CHECK(r1->mode == TW_BIND_ASSIMILATE && r1->gain == 0.5 && r1->smoothing_tau == 30 && r1->deadband == 0.1);
    CHECK(r1->range_min == 0 && isinf(r1->range_max) && r1->out_of_range == TW_BIND_RANGE_CLAMP);
    CHECK_STR(r2->topic, "s/{room}/co2");
    CHECK(r2->smoothing_alpha == 0.5 && r2->mode == TW_BIND_OBSERVE);
    CHECK(tw_bind_rule_get(b, 3) == NULL);
    /* The reader settings come with tw_bind_reader_defaults. */
    tw_bind_source_desc rd = tw_bind_reader_defaults(b);
    CHECK_EQ_INT(rd.format, TW_BIND_FORMAT_CSV);
    CHECK_STR(rd.sensor_prefix, "s/");
    CHECK_EQ_INT(rd.csv.layout, TW_BIND_CSV_WIDE);
    CHECK(rd.csv.delimiter == ';' && rd.csv.decimal_comma);
    CHECK_STR(rd.csv.time_column, "when");
    CHECK_STR(rd.csv.ignore_columns, "note");
    /* ... and drive a source: the anchor and window of the file apply. */
    const char *csv = "when;t1;t2;room-3/co2;note\n2024-03-04T08:00:00Z;68;21,5;800,5;x\n";
    rd.data = csv;
    rd.size = strlen(csv);
    tw_bind_source *src;
    REQUIRE(tw_bind_source_open(&rd, &src, &d) == TW_OK);
    REQUIRE(tw_bind_add_source(b, src) == TW_OK);
    REQUIRE(tw_bind_apply_until(b, f.w, 0) == TW_OK);
    CHECK(tw_bind_anchor_time(b) == 1709539200.0);
    CHECK_NEAR(fx_room(&f, f.room1)->temperature, 20.0, 1e-4);     /* 68 degF */
    CHECK_NEAR(fx_room(&f, f.room2)->temperature, 20.75, 1e-4);    /* assimilated halfway from 20 */
    CHECK_NEAR(fx_room(&f, f.room3)->co2, 420.0, 1e-4);            /* observed only */
    CHECK_EQ_U64(tw_bind_get_counters(b)->applied, 3);
    CHECK_EQ_INT(tw_bind_binding_count(b), 3);
    tw_bind_free(b);
    fx_fini(&f);
}

typedef struct bad_case {
    const char *text;
    int line, column;
    const char *message;
    const char *path;
} bad_case;

TEST(rules_file_errors_say_where)
{
    const bad_case cases[] = {
        { "{\"format\": \"twin-bindings/1\",\n \"bindings\": [\n  {\"sensor\": \"a\", \"entiy\": \"site/room-1\"}]}", 3, 19,
          "did you mean \"entity\"", "$.bindings[0].entiy" },
        { "{\"format\": \"twin-bindings/1\", \"bindings\": [\n {\"sensor\": \"a\",\n  \"entity\": \"site/room-7\",\n"
          "  \"field\": \"Room.temperature\"}]}",
          3, 13, "no entity \"site/room-7\"", "$.bindings[0].entity" },
        { "{\"format\": \"twin-bindings/1\", \"bindings\": [\n {\"sensor\": \"a\", \"entity\": \"site/room-1\",\n"
          "  \"field\": \"Room.temp\"}]}",
          3, 12, "Room", "$.bindings[0].field" },
        { "{\"format\": \"twin-bindings/1\", \"bindings\": [\n {\"sensor\": \"a\", \"entity\": \"site/room-1\",\n"
          "  \"field\": \"Room.temperature\", \"unit\": \"kWh\"}]}",
          3, 40, "unit mismatch", "$.bindings[0].unit" },
        { "{\"format\": \"twin-bindings/1\", \"bindings\": [\n {\"sensor\": \"a\", \"entity\": \"site/room-1\",\n"
          "  \"field\": \"Room.temperature\", \"mode\": \"sett\"}]}",
          3, 40, "did you mean \"set\"", "$.bindings[0].mode" },
        { "{\"format\": \"twin-bindings/1\", \"bindings\": [\n {\"sensor\": \"a\", \"entity\": \"site/room-1\",\n"
          "  \"field\": \"Room.temperature\", \"range\": [5]}]}",
          3, 41, "range is [min, max]", "$.bindings[0].range" },
        { "{\"format\": \"twin-bindings/1\", \"bindings\": [\n {\"entity\": \"site/room-1\", \"field\": \"Room.co2\"}]}", 2,
          2, "exactly one", "$.bindings[0]" },
        { "{\"format\": \"twin-bindings/2\"}", 1, 12, "unsupported format", "$.format" },
        { "{\"bindings\": []}", 1, 1, "starts with \"format\"", "$" },
        { "{\"format\": \"twin-bindings/1\",\n \"reader\": {\"csv\": {\"delimiter\": \";;\"}}}", 2, 34, "one character",
          "$.reader.csv.delimiter" },
        { "{\"format\": \"twin-bindings/1\",\n \"reorder_window\": -1}", 2, 20, "between", "$.reorder_window" },
        { "{\"format\": \"twin-bindings/1\",\n \"bindings\": [\n  {\"sensor\": \"a\",, }]}", 3, 18, "not valid JSON: an object key must be a string", NULL },
        { "{\"format\": \"twin-bindings/1\"} trailing", 1, 31, "after the end", NULL },
        { "", 1, 1, "empty", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture f;
        tw_bind *b = binder(&f, 0);
        REQUIRE(b);
        /* A good rule first: a failing file must leave it alone. */
        tw_bind_rule keep = rule_set("k", "site/room-1", "Room.temperature");
        tw_diag d;
        REQUIRE(tw_bind_add_rule(b, &keep, &d) == TW_OK);
        tw_status st = tw_bind_load_text(b, cases[i].text, strlen(cases[i].text), "b.json", &d);
        CHECK(st != TW_OK);
        bool ok = d.line == cases[i].line && d.column == cases[i].column && strstr(d.message, cases[i].message) &&
                  strcmp(d.file, "b.json") == 0 && (!cases[i].path || strcmp(d.path, cases[i].path) == 0);
        if (!ok) {
            CHECK(ok);
            fprintf(stderr, "  case %zu: %s:%d:%d: %s: %s\n", i, d.file, d.line, d.column, d.path, d.message);
        }
        CHECK_EQ_INT(tw_bind_rule_count(b), 1);
        CHECK_EQ_INT(tw_bind_binding_count(b), 1);
        tw_bind_free(b);
        fx_fini(&f);
    }
}

TEST(rules_file_partial_failure_keeps_nothing)
{
    fixture f;
    tw_bind *b = binder(&f, 0);
    REQUIRE(b);
    const char *text = "{\"format\": \"twin-bindings/1\", \"reorder_window\": 99, \"bindings\": [\n"
                       " {\"sensor\": \"a\", \"entity\": \"site/room-1\", \"field\": \"Room.temperature\"},\n"
                       " {\"topic\": \"x/{r}\", \"entity\": \"site/{r}\", \"field\": \"Room.co2\"},\n"
                       " {\"sensor\": \"b\", \"entity\": \"site/nowhere\", \"field\": \"Room.temperature\"}]}";
    tw_diag d;
    CHECK_EQ_INT(tw_bind_load_text(b, text, strlen(text), "p.json", &d), TW_ERR_NOT_FOUND);
    CHECK_EQ_INT(d.line, 4);
    CHECK_EQ_INT(tw_bind_rule_count(b), 0);
    CHECK_EQ_INT(tw_bind_binding_count(b), 0);
    /* Sensors interned on the way stay, but route nowhere. */
    tw_bind_sample s = sample(tw_bind_get_sensors(b), "a", 1, 1);
    tw_bind_push(b, &s, 1);
    CHECK_EQ_U64(tw_bind_get_counters(b)->unknown_sensor, 1);
    tw_bind_free(b);
    fx_fini(&f);
}

TEST(rules_in_scene_file_and_from_disk)
{
    fixture f;
    tw_bind *b = binder(&f, 1700000000);
    REQUIRE(b);
    const char *scene = "{\"format\": \"twin-scene/1\", \"name\": \"x\", \"entities\": [],\n"
                        " \"bindings\": {\"anchor\": \"scene\", \"bindings\": [\n"
                        "  {\"sensor\": \"a\", \"entity\": \"site/room-1\", \"field\": \"Room.temperature\"}]}}";
    char path[64];
    REQUIRE(write_temp(scene, strlen(scene), path, sizeof path));
    tw_diag d;
    tw_status st = tw_bind_load_file(b, path, &d);
    if (st != TW_OK) fprintf(stderr, "  %s:%d:%d: %s\n", d.file, d.line, d.column, d.message);
    CHECK_EQ_INT(st, TW_OK);
    CHECK_EQ_INT(tw_bind_rule_count(b), 1);
    double anchor;
    tw_bind_prime(b, &anchor);
    CHECK(anchor == 1700000000.0); /* "scene": the scene's start */
    unlink(path);
    /* A plain list of bindings in a scene works too; a missing file says so. */
    const char *scene2 = "{\"format\": \"twin-scene/1\", \"bindings\": [\n"
                         "  {\"sensor\": \"b\", \"entity\": \"site/room-2\", \"field\": \"Room.co2\"}]}";
    CHECK_EQ_INT(tw_bind_load_text(b, scene2, strlen(scene2), "s.json", &d), TW_OK);
    CHECK_EQ_INT(tw_bind_rule_count(b), 2);
    CHECK_EQ_INT(tw_bind_load_file(b, "/nonexistent/b.json", &d), TW_ERR_IO);
    CHECK_CONTAINS(d.message, "/nonexistent/b.json");
    tw_bind_free(b);
    fx_fini(&f);
}
