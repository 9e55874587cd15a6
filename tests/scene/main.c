/* Tests of the scene module: canonical round trips, semantic round trips,
 * every kind of diagnostic (position, JSON path and message), the nesting
 * limit, out-of-memory paths, and files that are JSON but not scenes. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "twin/scene.h"
#include "twin/sim_components.h"

/* ---- a test-only component with every field type ---------------------------- */

typedef struct Probe {
    int32_t level;
    uint64_t counter;
    double precise;
    float tiny, huge, negative_zero;
    float gains[4];      /* an array without a length field */
    int32_t mode;
    char label[16];
    tw_entity pairs[3][2];
    uint32_t pair_count;
    uint8_t flags[3];
    float output;        /* derived */
} Probe;

static const char *const probe_modes[] = { "fast", "slow", "off" };
static const tw_field probe_fields[] = {
    { "level", TW_TYPE_I32, offsetof(Probe, level), 1, 1, NULL, NULL, 0, NULL, 0, "a signed integer" },
    { "counter", TW_TYPE_U64, offsetof(Probe, counter), 1, 1, NULL, NULL, 0, NULL, 0, "a 64-bit counter" },
    { "precise", TW_TYPE_F64, offsetof(Probe, precise), 1, 1, "m", NULL, 0, NULL, 0, "a double" },
    { "tiny", TW_TYPE_F32, offsetof(Probe, tiny), 1, 1, NULL, NULL, 0, NULL, 0, "small" },
    { "huge", TW_TYPE_F32, offsetof(Probe, huge), 1, 1, NULL, NULL, 0, NULL, 0, "large" },
    { "negative_zero", TW_TYPE_F32, offsetof(Probe, negative_zero), 1, 1, NULL, NULL, 0, NULL, 0, "signed zero" },
    { "gains", TW_TYPE_F32, offsetof(Probe, gains), 4, 1, NULL, NULL, 0, NULL, 0, "fixed array" },
    { "mode", TW_TYPE_ENUM, offsetof(Probe, mode), 1, 1, NULL, probe_modes, 3, NULL, 0, "an enum" },
    { "label", TW_TYPE_STR, offsetof(Probe, label), 16, 1, NULL, NULL, 0, NULL, 0, "a string" },
    { "pairs", TW_TYPE_ENTITY, offsetof(Probe, pairs), 3, 2, NULL, NULL, 0, "pair_count", 0, "entity pairs" },
    { "pair_count", TW_TYPE_U32, offsetof(Probe, pair_count), 1, 1, NULL, NULL, 0, NULL, 0, "used pairs" },
    { "flags", TW_TYPE_BOOL, offsetof(Probe, flags), 1, 3, NULL, NULL, 0, NULL, 0, "three booleans" },
    { "output", TW_TYPE_F32, offsetof(Probe, output), 1, 1, NULL, NULL, 0, NULL, TW_FIELD_DERIVED, "computed" },
};
static const Probe probe_default = { .level = -1, .precise = 0.1, .gains = { 1, 1, 1, 1 }, .label = "probe" };

static tw_status register_all(tw_ecs_world *w, tw_sim_components *ids, tw_component *probe)
{
    tw_status st = tw_sim_register_components(w, ids);
    if (st) return st;
    tw_ecs_component_desc d = { "Probe", sizeof(Probe), _Alignof(Probe), probe_fields,
                                sizeof probe_fields / sizeof probe_fields[0], &probe_default, "test probe" };
    return tw_ecs_component_register(w, &d, probe);
}

/* A world with every component registered; NULL when out of memory. */
static tw_ecs_world *world_new_with(const tw_allocator *alloc)
{
    tw_ecs_world_desc desc = { 0 };
    desc.allocator = alloc;
    tw_ecs_world *w = tw_ecs_world_new(&desc);
    if (!w) return NULL;
    tw_sim_components ids;
    tw_component probe;
    if (register_all(w, &ids, &probe)) {
        tw_ecs_world_free(w);
        return NULL;
    }
    return w;
}

static tw_ecs_world *world_new(void) { return world_new_with(NULL); }

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

static const char *fixture(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", TWIN_SCENE_DATA, name);
    return path;
}

static void print_diag(const tw_diag *d)
{
    char buf[1024];
    tw_diag_format(d, buf, sizeof buf);
    fprintf(stderr, "  diag: %s\n", buf);
}

/* Saves w/s and returns malloc'd text (NULL on failure). */
static char *save(tw_ecs_world *w, const tw_scene *s)
{
    char *text = NULL;
    size_t len = 0;
    tw_diag d;
    tw_status st = tw_scene_save_text(w, s, &text, &len, &d);
    if (st) {
        print_diag(&d);
        return NULL;
    }
    char *copy = malloc(len + 1);
    memcpy(copy, text, len + 1);
    tw_free(tw_ecs_world_allocator(w), text, len + 1);
    CHECK_EQ_INT(strlen(copy), len);
    return copy;
}

/* Loads text into a fresh world and saves it again. */
static char *load_and_save(const char *text, size_t len, const char *name)
{
    tw_ecs_world *w = world_new();
    tw_scene s;
    tw_diag d;
    tw_status st = tw_scene_load_text(w, text, len, name, NULL, &s, &d);
    if (st) {
        print_diag(&d);
        tw_ecs_world_free(w);
        return NULL;
    }
    char *out = save(w, &s);
    tw_scene_fini(&s);
    tw_ecs_world_free(w);
    return out;
}

static void show_first_difference(const char *a, const char *b)
{
    size_t i = 0, line = 1;
    while (a[i] && a[i] == b[i]) line += a[i++] == '\n';
    fprintf(stderr, "  first difference on line %zu:\n  expected: %.60s\n  got:      %.60s\n", line, a + i, b + i);
}

static void check_canonical(const char *name)
{
    size_t len;
    char *text = read_text(fixture(name), &len);
    REQUIRE(text != NULL);
    char *out = load_and_save(text, len, name);
    CHECK(out != NULL);
    if (out && strcmp(out, text) != 0) {
        TEST_FAIL_AT(__FILE__, __LINE__, "%s does not save back byte for byte", name);
        show_first_difference(text, out);
    }
    free(out);
    free(text);
}

/* ---- round trips ----------------------------------------------------------- */

TEST(scene_roundtrip_office_canonical) { check_canonical("office.twin.json"); }
TEST(scene_roundtrip_minimal_canonical) { check_canonical("minimal.twin.json"); }
TEST(scene_roundtrip_types_canonical) { check_canonical("types.twin.json"); }

TEST(scene_roundtrip_noncanonical_is_stable)
{
    size_t len;
    char *text = read_text(fixture("messy.twin.json"), &len);
    REQUIRE(text != NULL);
    char *first = load_and_save(text, len, "messy.twin.json");
    REQUIRE(first != NULL);
    CHECK(strcmp(first, text) != 0);
    char *second = load_and_save(first, strlen(first), "first save");
    REQUIRE(second != NULL);
    if (strcmp(first, second) != 0) {
        TEST_FAIL_AT(__FILE__, __LINE__, "save -> load -> save changed the text");
        show_first_difference(first, second);
    }
    /* What the canonical form chose to write and to leave out. */
    CHECK(strstr(first, "\"base_load\": 1500") != NULL);
    CHECK(strstr(first, "\"grid_factor\"") == NULL);  /* equal to the default */
    CHECK(strstr(first, "\"point_count\"") == NULL);  /* implied by points */
    CHECK(strstr(first, "\"route_length\"") == NULL); /* implied by route */
    CHECK(strstr(first, "\"wall\": \"site/f1/w1\"") != NULL);
    CHECK(strstr(first, "\"external_id\"") == NULL);
    CHECK(strstr(first, "\"children\": []") == NULL);
    CHECK(strstr(first, "\"start\": \"2024-06-03T08:00:00Z\"") != NULL);
    CHECK(strstr(first, "\"yaw\": -0") != NULL);       /* -0 differs from the default 0 */
    CHECK(strstr(first, "\"Transform\": {\n") != NULL);
    CHECK(strstr(first, "      \"name\": \"t\",\n      \"field\": \"Thermal.temperature\",\n      \"aggregate\": "
                        "\"mean\"\n") != NULL);
    free(second);
    free(first);
    free(text);
}

TEST(scene_load_values)
{
    tw_ecs_world *w = world_new();
    tw_scene s;
    tw_diag d;
    tw_status st = tw_scene_load_file(w, fixture("messy.twin.json"), NULL, &s, &d);
    if (st) print_diag(&d);
    REQUIRE(st == TW_OK);
    CHECK_STR(s.name, "messy");
    CHECK_NEAR(s.settings.dt, 0.25, 0);
    CHECK_NEAR(s.settings.duration, 86400, 0);
    CHECK_EQ_U64(s.settings.seed, 7);
    CHECK_NEAR(s.settings.start_time, 1717401600.0, 0);
    CHECK_EQ_INT(s.settings.max_catchup_steps, 4);
    REQUIRE(s.kpi_count == 2);
    CHECK_STR(s.kpis[0].unit, "degC");
    CHECK_EQ_INT(s.kpis[0].aggregate, TW_SCENE_AGG_MEAN);
    CHECK_STR(s.kpis[1].entity, "site/f1/r1");
    CHECK_STR(s.kpis[1].unit, "ppm");

    tw_component thermal = tw_ecs_component_lookup(w, "Thermal"), shape = tw_ecs_component_lookup(w, "Shape");
    tw_component door = tw_ecs_component_lookup(w, "Door"), agent = tw_ecs_component_lookup(w, "Agent");
    tw_entity r1 = tw_ecs_lookup_path(w, "site/f1/r1"), w1 = tw_ecs_lookup_path(w, "site/f1/w1");
    tw_entity d1 = tw_ecs_lookup_path(w, "site/f1/d1"), agv = tw_ecs_lookup_path(w, "site/f1/agv");
    REQUIRE(!tw_entity_is_null(r1) && !tw_entity_is_null(w1) && !tw_entity_is_null(d1) && !tw_entity_is_null(agv));
    CHECK_EQ_INT(tw_ecs_entity_kind(w, r1), TW_KIND_SPACE);
    const Thermal *th = tw_ecs_get(w, r1, thermal);
    REQUIRE(th != NULL);
    CHECK_NEAR(th->temperature, 21.5, 0);
    CHECK_NEAR(th->comfort_low, 20, 0);
    CHECK_NEAR(th->ua, 60, 0); /* default */
    const Shape *sh = tw_ecs_get(w, w1, shape);
    REQUIRE(sh != NULL);
    CHECK_EQ_INT(sh->kind, TW_SHAPE_POLYLINE);
    CHECK_EQ_INT(sh->point_count, 3);
    CHECK_NEAR(sh->points[2][1], 8, 0);
    const Door *dr = tw_ecs_get(w, d1, door);
    REQUIRE(dr != NULL);
    CHECK(tw_entity_eq(dr->wall, w1)); /* a forward reference, with a leading '/' */
    const Agent *ag = tw_ecs_get(w, agv, agent);
    REQUIRE(ag != NULL);
    CHECK_EQ_INT(ag->type, TW_AGENT_AGV);
    CHECK_EQ_INT(ag->route_length, 2);
    CHECK(tw_entity_eq(ag->route[0], r1));
    CHECK(tw_entity_eq(ag->route[1], w1));
    tw_scene_fini(&s);
    tw_ecs_world_free(w);
}

TEST(scene_load_types)
{
    tw_ecs_world *w = world_new();
    tw_scene s;
    tw_diag d;
    REQUIRE(tw_scene_load_file(w, fixture("types.twin.json"), NULL, &s, &d) == TW_OK);
    CHECK_EQ_U64(s.settings.seed, UINT64_MAX);
    CHECK_NEAR(s.settings.start_time, 946684799.5, 0);
    tw_entity z = tw_ecs_lookup_path(w, "zoë"), child = tw_ecs_lookup_path(w, "zoë/child");
    const Probe *p = tw_ecs_get(w, z, tw_ecs_component_lookup(w, "Probe"));
    REQUIRE(p != NULL);
    CHECK_EQ_INT(p->level, INT32_MIN);
    CHECK_EQ_U64(p->counter, UINT64_MAX);
    CHECK(p->precise == 0.1 + 0.2);
    CHECK(p->gains[0] == 1 && p->gains[1] == 0.5f && p->gains[2] == 1 && p->gains[3] == 1);
    CHECK_EQ_INT(p->mode, 1);
    CHECK_STR(p->label, "tab\tq\"é\\");
    CHECK_EQ_INT(p->pair_count, 2);
    CHECK(tw_entity_eq(p->pairs[0][0], child) && tw_entity_is_null(p->pairs[0][1]));
    CHECK(tw_entity_eq(p->pairs[1][1], z));
    CHECK(p->flags[0] == 1 && p->flags[1] == 0 && p->flags[2] == 1);
    CHECK(signbit(p->negative_zero));
    const Probe *c = tw_ecs_get(w, child, tw_ecs_component_lookup(w, "Probe"));
    REQUIRE(c != NULL);
    CHECK(memcmp(c, &probe_default, sizeof *c) == 0);
    tw_scene_fini(&s);
    tw_ecs_world_free(w);
}

TEST(scene_save_built_world)
{
    /* A world built in code (not loaded) saves, and loads back to the same text. */
    tw_ecs_world *w = world_new();
    tw_sim_components c;
    c.thermal = tw_ecs_component_lookup(w, "Thermal");
    c.door = tw_ecs_component_lookup(w, "Door");
    tw_entity site = tw_ecs_entity_create(w), room = tw_ecs_entity_create_with(w, &c.thermal, 1);
    tw_entity gone = tw_ecs_entity_create(w), door = tw_ecs_entity_create_with(w, &c.door, 1);
    REQUIRE(tw_ecs_entity_set_name(w, site, "site") == TW_OK);
    REQUIRE(tw_ecs_entity_set_name(w, room, "room") == TW_OK);
    REQUIRE(tw_ecs_entity_set_name(w, door, "door") == TW_OK);
    REQUIRE(tw_ecs_entity_set_parent(w, room, site) == TW_OK);
    REQUIRE(tw_ecs_entity_set_parent(w, door, room) == TW_OK);
    Thermal *th = tw_ecs_get(w, room, c.thermal);
    th->temperature = 19.25f;
    th->heat_flow = 123.0f; /* derived: never saved */
    Door *dr = tw_ecs_get(w, door, c.door);
    dr->wall = gone; /* a stale handle saves as no entity */
    tw_ecs_entity_destroy(w, gone);
    tw_scene s = { 0 };
    s.settings = tw_scene_settings_default();
    char *out = save(w, &s);
    REQUIRE(out != NULL);
    CHECK(strstr(out, "\"temperature\": 19.25") != NULL);
    CHECK(strstr(out, "heat_flow") == NULL);
    CHECK(strstr(out, "\"wall\"") == NULL);
    CHECK(strstr(out, "\"kpis\"") == NULL);
    CHECK(out[strlen(out) - 1] == '\n');
    CHECK(strstr(out, " \n") == NULL); /* no trailing spaces */
    char *again = load_and_save(out, strlen(out), "saved");
    CHECK(again && strcmp(out, again) == 0);
    free(again);
    free(out);

    /* Saving a world with an unnamed entity fails with a reason. */
    tw_entity anon = tw_ecs_entity_create(w);
    tw_ecs_entity_set_parent(w, anon, site);
    char *text = NULL;
    size_t len = 0;
    tw_diag d;
    CHECK_EQ_INT(tw_scene_save_text(w, &s, &text, &len, &d), TW_ERR_INVALID);
    CHECK(text == NULL);
    CHECK_CONTAINS(d.message, "has no name");
    CHECK_STR(d.path, "$.entities[0].children[1]");
    /* A float JSON cannot hold fails too. */
    tw_ecs_entity_destroy(w, anon);
    th = tw_ecs_get(w, room, c.thermal);
    th->temperature = NAN;
    CHECK_EQ_INT(tw_scene_save_text(w, &s, &text, &len, &d), TW_ERR_INVALID);
    CHECK_CONTAINS(d.message, "Thermal.temperature");
    CHECK_STR(d.path, "$.entities[0].children[0].components.Thermal.temperature");
    tw_ecs_world_free(w);
}

TEST(scene_save_file_atomic)
{
    char dir[] = "/tmp/twin-scene-test-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char path[256], bad[256];
    snprintf(path, sizeof path, "%s/out.twin.json", dir);
    snprintf(bad, sizeof bad, "%s/missing/out.twin.json", dir);
    tw_ecs_world *w = world_new();
    tw_scene s;
    tw_diag d;
    REQUIRE(tw_scene_load_file(w, fixture("office.twin.json"), NULL, &s, &d) == TW_OK);
    CHECK_EQ_INT(tw_scene_save_file(w, &s, path, &d), TW_OK);
    size_t len;
    char *written = read_text(path, &len), *original = read_text(fixture("office.twin.json"), NULL);
    CHECK(written && original && strcmp(written, original) == 0);
    free(written);
    free(original);
    CHECK_EQ_INT(tw_scene_save_file(w, &s, bad, &d), TW_ERR_IO);
    CHECK_CONTAINS(d.message, "temporary file");
    /* Nothing but the scene is left in the directory. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    CHECK(system(cmd) == 0);
    unlink(path);
    rmdir(dir);
    tw_scene_fini(&s);
    tw_ecs_world_free(w);
}

/* ---- diagnostics ------------------------------------------------------------ */

static void expect_error_desc(int at, const char *text, const tw_scene_load_desc *desc, tw_status status, int line,
                              int column, const char *path, const char *message)
{
    int before = test_failed_checks;
    tw_ecs_world *w = world_new();
    /* An entity that was there before must survive a failed load. */
    tw_entity keep = tw_ecs_entity_create(w);
    tw_ecs_entity_set_name(w, keep, "keep");
    tw_scene s;
    tw_diag d;
    tw_status st = tw_scene_load_text(w, text, strlen(text), "case.twin.json", desc, &s, &d);
    CHECK_EQ_INT(st, status);
    CHECK_STR(d.file, "case.twin.json");
    CHECK_EQ_INT(d.line, line);
    CHECK_EQ_INT(d.column, column);
    CHECK_STR(d.path, path);
    CHECK_CONTAINS(d.message, message);
    CHECK_EQ_INT(tw_ecs_entity_count(w), 1);
    CHECK(tw_ecs_entity_alive(w, keep));
    CHECK(s.kpis == NULL && s.kpi_count == 0);
    if (test_failed_checks != before) {
        fprintf(stderr, "  (the case at line %d)\n", at);
        print_diag(&d);
    }
    tw_ecs_world_free(w);
}

#define EXPECT_ERROR(text, status, line, column, path, message) \
    expect_error_desc(__LINE__, text, NULL, status, line, column, path, message)

#define HEAD "{\n  \"format\": \"twin-scene/1\",\n"

TEST(scene_error_syntax)
{
    EXPECT_ERROR(HEAD "  \"name\": \"x\"\n  \"entities\": []\n}\n", TW_ERR_PARSE, 4, 3, "$.name",
                 "is a ',' or ':' missing before it?");
    EXPECT_ERROR(HEAD "  \"entities\": [\n    { \"name\": \"a\", }\n  ]\n}\n", TW_ERR_PARSE, 4, 20, "$.entities[0]",
                 "unexpected '}' after a comma: JSON allows no trailing comma");
    EXPECT_ERROR(HEAD "  \"entities\": [1, 2,]\n}\n", TW_ERR_PARSE, 3, 21, "$.entities[2]",
                 "JSON allows no trailing comma");
    EXPECT_ERROR(HEAD "  'name': \"x\"\n}\n", TW_ERR_PARSE, 3, 3, "$", "JSON strings use double quotes");
    EXPECT_ERROR(HEAD "  \"name\": x\n}\n", TW_ERR_PARSE, 3, 11, "$.name", "unexpected 'x': expected a JSON value");
    EXPECT_ERROR(HEAD "  // a comment\n}\n", TW_ERR_PARSE, 3, 3, "$", "comments are not allowed in JSON");
    EXPECT_ERROR(HEAD "  \"simulation\": { \"seed\": +1 }\n}\n", TW_ERR_PARSE, 3, 27, "$.simulation.seed",
                 "unexpected '+'");
    /* cJSON takes these; JSON does not, and neither does twin. */
    EXPECT_ERROR(HEAD "  \"simulation\": { \"seed\": 01 }\n}\n", TW_ERR_PARSE, 3, 27, "$.simulation.seed",
                 "malformed number '01'");
    EXPECT_ERROR(HEAD "  \"simulation\": { \"dt\": 1. }\n}\n", TW_ERR_PARSE, 3, 25, "$.simulation.dt",
                 "malformed number '1.'");
    EXPECT_ERROR(HEAD "  \"name\": \"a\tb\"\n}\n", TW_ERR_PARSE, 3, 13, "$.name", "raw control character 0x09");
    EXPECT_ERROR(HEAD "  \"entities\": []\n}\n{}\n", TW_ERR_PARSE, 5, 1, "$",
                 "unexpected text after the end of the JSON document");
    EXPECT_ERROR("", TW_ERR_PARSE, 1, 1, "$", "the file is empty");
    EXPECT_ERROR("  \n", TW_ERR_PARSE, 2, 1, "$", "the file is empty");
    /* strlen stops at the NUL, so this is a truncated string (the NUL case is below). */
    EXPECT_ERROR("{\"format\": \"twin-scene/1\", \"name\": \"a\0b\"}", TW_ERR_PARSE, 1, 38, "$.name",
                 "unexpected end of file inside the string that starts at line 1, column 36");
}

TEST(scene_error_nul_byte)
{
    const char text[] = "{\"format\": \"twin-scene/1\",\n \"name\": \"a\0b\"}";
    tw_ecs_world *w = world_new();
    tw_scene s;
    tw_diag d;
    CHECK_EQ_INT(tw_scene_load_text(w, text, sizeof text - 1, "nul", NULL, &s, &d), TW_ERR_PARSE);
    CHECK_EQ_INT(d.line, 2);
    CHECK_EQ_INT(d.column, 12);
    CHECK_CONTAINS(d.message, "NUL byte");
    tw_ecs_world_free(w);
}

TEST(scene_error_truncated)
{
    EXPECT_ERROR(HEAD "  \"entities\": [\n    { \"name\": \"ro", TW_ERR_PARSE, 4, 18, "$.entities[0].name",
                 "unexpected end of file inside the string that starts at line 4, column 15");
    EXPECT_ERROR(HEAD "  \"entities\": [\n    { \"name\": \"room\"", TW_ERR_PARSE, 4, 21, "$.entities[0].name",
                 "unexpected end of file: the object opened at line 4, column 5 is not closed, nor are the ones "
                 "around it");
    EXPECT_ERROR(HEAD "  \"entities\": [\n", TW_ERR_PARSE, 4, 1, "$.entities[0]",
                 "the array opened at line 3, column 15 is not closed");

    /* The office fixture cut at every byte: always a clean error at the end of the text. */
    size_t len;
    char *text = read_text(fixture("office.twin.json"), &len);
    REQUIRE(text != NULL);
    for (size_t cut = 1; cut < len - 2; cut++) {
        tw_ecs_world *w = world_new();
        tw_scene s;
        tw_diag d;
        tw_status st = tw_scene_load_text(w, text, cut, "cut.twin.json", NULL, &s, &d);
        CHECK_EQ_INT(st, TW_ERR_PARSE);
        int line = 1, col = 1;
        for (size_t i = 0; i < cut; i++) {
            if (text[i] == '\n') line++, col = 1;
            else if (((unsigned char)text[i] & 0xC0) != 0x80) col++;
        }
        CHECK_CONTAINS(d.message, "unexpected end of file");
        CHECK_EQ_INT(d.line, line);
        CHECK_EQ_INT(d.column, col);
        CHECK_EQ_INT(tw_ecs_entity_count(w), 0);
        tw_ecs_world_free(w);
    }
    free(text);
}

TEST(scene_error_wrong_type)
{
    EXPECT_ERROR(HEAD "  \"entities\": [\n    { \"name\": \"r\", \"components\": { \"Thermal\": { \"temperature\": "
                      "\"warm\" } } }\n  ]\n}\n",
                 TW_ERR_INVALID, 4, 64, "$.entities[0].components.Thermal.temperature",
                 "expected a number for Thermal.temperature, got a string");
    EXPECT_ERROR(HEAD "  \"entities\": {}\n}\n", TW_ERR_INVALID, 3, 15, "$.entities",
                 "expected an array of entities for \"entities\", got an object");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"w\", \"components\": { \"Wall\": { \"exterior\": 1 } } } ]\n}\n",
                 TW_ERR_INVALID, 3, 70, "$.entities[0].components.Wall.exterior",
                 "expected true or false for Wall.exterior, got a number");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"t\", \"components\": { \"Transform\": { \"position\": [1, 2] } } } "
                      "]\n}\n",
                 TW_ERR_INVALID, 3, 75, "$.entities[0].components.Transform.position",
                 "expected an array of 3 numbers for Transform.position, got an array of 2");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"s\", \"components\": { \"Shape\": { \"points\": [[0, 0], [1]] } } } "
                      "]\n}\n",
                 TW_ERR_INVALID, 3, 78, "$.entities[0].components.Shape.points[1]",
                 "expected an array of 2 numbers for Shape.points, got an array of 1");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"s\", \"components\": { \"Shape\": { \"kind\": \"boxx\" } } } ]\n}\n",
                 TW_ERR_INVALID, 3, 67, "$.entities[0].components.Shape.kind",
                 "unknown value \"boxx\" for Shape.kind (did you mean \"box\"?); expected one of: box, extrusion, "
                 "polyline, mesh");
    EXPECT_ERROR(HEAD "  \"entities\": [ 7 ]\n}\n", TW_ERR_INVALID, 3, 17, "$.entities[0]",
                 "expected an entity (an object with a \"name\"), got a number");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"kind\": \"site\" } ]\n}\n", TW_ERR_INVALID, 3, 17, "$.entities[0]",
                 "an entity needs a \"name\"");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"a/b\" } ]\n}\n", TW_ERR_INVALID, 3, 27, "$.entities[0].name",
                 "contains '/'");
    EXPECT_ERROR(HEAD "  \"simulation\": { \"dt\": 0 }\n}\n", TW_ERR_INVALID, 3, 25, "$.simulation.dt",
                 "dt must be more than 0 and at most 10 seconds, got 0");
    EXPECT_ERROR(HEAD "  \"simulation\": { \"start\": \"yesterday\" }\n}\n", TW_ERR_INVALID, 3, 28,
                 "$.simulation.start", "is not an ISO 8601 time");
    EXPECT_ERROR(HEAD "  \"simulation\": { \"step\": 1 }\n}\n", TW_ERR_INVALID, 3, 19, "$.simulation.step",
                 "unknown key \"step\" in \"simulation\" (did you mean \"seed\"?)");
}

TEST(scene_error_unknown_names)
{
    EXPECT_ERROR(HEAD "  \"entities\": [\n    { \"name\": \"r\", \"components\": { \"Thermall\": {} } }\n  ]\n}\n",
                 TW_ERR_NOT_FOUND, 4, 36, "$.entities[0].components.Thermall",
                 "unknown component \"Thermall\" (did you mean \"Thermal\"?)");
    EXPECT_ERROR(HEAD "  \"entities\": [\n    { \"name\": \"r\", \"components\": { \"Thermal\": {\n        "
                      "\"tempreature\": 20 } } }\n  ]\n}\n",
                 TW_ERR_NOT_FOUND, 5, 9, "$.entities[0].components.Thermal.tempreature",
                 "unknown field \"tempreature\" in Thermal (did you mean \"temperature\"?)");
    EXPECT_ERROR(HEAD "  \"entities\": [\n    { \"name\": \"f\", \"kind\": \"stroey\" }\n  ]\n}\n", TW_ERR_INVALID, 4,
                 28, "$.entities[0].kind", "unknown kind \"stroey\" (did you mean \"storey\"?); expected one of: none, site");
    EXPECT_ERROR(HEAD "  \"entites\": []\n}\n", TW_ERR_INVALID, 3, 3, "$.entites",
                 "unknown key \"entites\" in the scene (did you mean \"entities\"?); expected one of: format, name");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"a\", \"chidren\": [] } ]\n}\n", TW_ERR_INVALID, 3, 32,
                 "$.entities[0].chidren", "unknown key \"chidren\" in an entity (did you mean \"children\"?)");
    EXPECT_ERROR(HEAD "  \"name\": \"a\",\n  \"name\": \"b\"\n}\n", TW_ERR_INVALID, 4, 3, "$.name",
                 "duplicate key \"name\" (first given on line 3)");
}

TEST(scene_error_dangling_reference)
{
    EXPECT_ERROR(HEAD "  \"entities\": [\n"
                      "    { \"name\": \"hq\", \"children\": [\n"
                      "      { \"name\": \"wall-1\", \"components\": { \"Wall\": {} } },\n"
                      "      { \"name\": \"door-1\", \"components\": { \"Door\": { \"wall\": \"hq/wall-3\" } } }\n"
                      "    ] }\n  ]\n}\n",
                 TW_ERR_NOT_FOUND, 6, 61, "$.entities[0].children[1].components.Door.wall",
                 "dangling reference: no entity at path \"hq/wall-3\"");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"d\", \"components\": { \"Door\": { \"wall\": \"\" } } } ]\n}\n",
                 TW_ERR_INVALID, 3, 66, "$.entities[0].components.Door.wall", "use null for no entity");
}

TEST(scene_error_duplicate_sibling)
{
    EXPECT_ERROR(HEAD "  \"entities\": [\n    { \"name\": \"hq\", \"children\": [\n      { \"name\": \"a\" },\n"
                      "      { \"name\": \"a\" }\n    ] }\n  ]\n}\n",
                 TW_ERR_INVALID, 6, 17, "$.entities[0].children[1].name",
                 "duplicate name \"a\": a sibling on line 5 has it already");
    /* A root may not take the name of a root already in the world ("keep"). */
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"keep\" } ]\n}\n", TW_ERR_INVALID, 3, 27, "$.entities[0].name",
                 "the world already has a root entity of that name");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"a\", \"external_id\": \"x\" }, { \"name\": \"b\", \"external_id\": "
                      "\"x\" } ]\n}\n",
                 TW_ERR_INVALID, 3, 84, "$.entities[1].external_id", "external id \"x\" is already used by \"a\"");
}

TEST(scene_error_derived_field)
{
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"r\", \"components\": { \"Thermal\": { \"heat_flow\": 5 } } } ]\n}\n",
                 TW_ERR_INVALID, 3, 61, "$.entities[0].components.Thermal.heat_flow",
                 "Thermal.heat_flow is derived: the simulation computes it");
}

TEST(scene_error_string_too_long)
{
    char text[1024];
    char mesh[101];
    memset(mesh, 'm', 100);
    mesh[100] = '\0';
    snprintf(text, sizeof text,
             HEAD "  \"entities\": [ { \"name\": \"s\", \"components\": { \"Shape\": { \"mesh\": \"%s\" } } } ]\n}\n",
             mesh);
    EXPECT_ERROR(text, TW_ERR_INVALID, 3, 67, "$.entities[0].components.Shape.mesh",
                 "string too long for Shape.mesh: 100 bytes, at most 95 fit");
    memset(mesh, 'n', 64);
    mesh[64] = '\0';
    snprintf(text, sizeof text, HEAD "  \"entities\": [ { \"name\": \"%s\" } ]\n}\n", mesh);
    EXPECT_ERROR(text, TW_ERR_INVALID, 3, 27, "$.entities[0].name", "an entity name is too long: 64 bytes, at most 63");
}

TEST(scene_error_integer_range)
{
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"r\", \"components\": { \"Space\": { \"capacity\": 4294967296 } } } "
                      "]\n}\n",
                 TW_ERR_INVALID, 3, 71, "$.entities[0].components.Space.capacity",
                 "integer 4294967296 is out of range for Space.capacity (0 to 4294967295)");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"r\", \"components\": { \"Space\": { \"capacity\": -1 } } } ]\n}\n",
                 TW_ERR_INVALID, 3, 71, "$.entities[0].components.Space.capacity", "integer -1 is out of range");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"r\", \"components\": { \"Space\": { \"capacity\": 2.5 } } } ]\n}\n",
                 TW_ERR_INVALID, 3, 71, "$.entities[0].components.Space.capacity",
                 "expected an integer for Space.capacity, got 2.5");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"p\", \"components\": { \"Probe\": { \"level\": -2147483649 } } } "
                      "]\n}\n",
                 TW_ERR_INVALID, 3, 68, "$.entities[0].components.Probe.level",
                 "integer -2147483649 is out of range for Probe.level (-2147483648 to 2147483647)");
    EXPECT_ERROR(HEAD "  \"simulation\": { \"seed\": 18446744073709551616 }\n}\n", TW_ERR_INVALID, 3, 27,
                 "$.simulation.seed", "integer 18446744073709551616 is out of range for seed");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"p\", \"components\": { \"Probe\": { \"huge\": 1e39 } } } ]\n}\n",
                 TW_ERR_INVALID, 3, 67, "$.entities[0].components.Probe.huge",
                 "out of range for Probe.huge (a 32-bit float)");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"s\", \"components\": { \"Shape\": { \"point_count\": 3, "
                      "\"points\": [[0, 0]] } } } ]\n}\n",
                 TW_ERR_INVALID, 3, 74, "$.entities[0].components.Shape.point_count",
                 "Shape.point_count is 3 but points has 1 element");
    EXPECT_ERROR(HEAD "  \"entities\": [ { \"name\": \"s\", \"components\": { \"Shape\": { \"point_count\": 33 } } } ]\n}\n",
                 TW_ERR_LIMIT, 3, 74, "$.entities[0].components.Shape.point_count",
                 "Shape.point_count is 33, but points holds at most 32 elements");
}

TEST(scene_error_format)
{
    EXPECT_ERROR("{\n  \"format\": \"twin-scene/2\"\n}\n", TW_ERR_UNSUPPORTED, 2, 13, "$.format",
                 "unsupported format \"twin-scene/2\": this version of twin reads \"twin-scene/1\"");
    EXPECT_ERROR("{\n  \"name\": \"x\"\n}\n", TW_ERR_INVALID, 1, 1, "$", "the top-level object has no \"format\" key");
    EXPECT_ERROR("[]\n", TW_ERR_INVALID, 1, 1, "$", "expected a JSON object at the top of a twin scene, got an array");
    EXPECT_ERROR("{\n  \"format\": 1\n}\n", TW_ERR_INVALID, 2, 13, "$.format", "got a number");
}

TEST(scene_error_kpis)
{
    const char *ents = "  \"entities\": [ { \"name\": \"r\", \"components\": { \"Thermal\": {} } }, { \"name\": \"q\" } ],\n";
    char text[1024];
    snprintf(text, sizeof text, HEAD "%s  \"kpis\": [ { \"name\": \"t\", \"field\": \"Thermal.temprature\" } ]\n}\n",
             ents);
    EXPECT_ERROR(text, TW_ERR_NOT_FOUND, 4, 37, "$.kpis[0].field", "did you mean \"temperature\"?");
    snprintf(text, sizeof text, HEAD "%s  \"kpis\": [ { \"name\": \"t\", \"field\": \"Thermal.temperature\" } ]\n}\n",
             ents);
    EXPECT_ERROR(text, TW_ERR_INVALID, 4, 13, "$.kpis[0]", "aggregate \"value\" reads one entity");
    snprintf(text, sizeof text,
             HEAD "%s  \"kpis\": [ { \"name\": \"t\", \"field\": \"Thermal.temperature\", \"entity\": \"q\" } ]\n}\n",
             ents);
    EXPECT_ERROR(text, TW_ERR_INVALID, 4, 70, "$.kpis[0].entity", "entity \"q\" has no Thermal component");
    snprintf(text, sizeof text,
             HEAD "%s  \"kpis\": [ { \"name\": \"t\", \"field\": \"Thermal.temperature\", \"aggregate\": \"avg\" } ]\n}\n",
             ents);
    EXPECT_ERROR(text, TW_ERR_INVALID, 4, 73, "$.kpis[0].aggregate", "unknown aggregate \"avg\"");
    snprintf(text, sizeof text, HEAD "%s  \"kpis\": [ { \"name\": \"a b\", \"field\": \"Thermal.temperature\" } ]\n}\n",
             ents);
    EXPECT_ERROR(text, TW_ERR_INVALID, 4, 23, "$.kpis[0].name", "KPI name \"a b\" must be");
    snprintf(text, sizeof text,
             HEAD "%s  \"kpis\": [ { \"name\": \"t\", \"field\": \"Air.co2\", \"aggregate\": \"sum\" },\n"
                  "            { \"name\": \"t\", \"field\": \"Air.co2\", \"aggregate\": \"sum\" } ]\n}\n",
             ents);
    EXPECT_ERROR(text, TW_ERR_INVALID, 5, 23, "$.kpis[1].name", "duplicate KPI name \"t\"");
}

TEST(scene_nesting_limit)
{
    char text[4096];
    int n = snprintf(text, sizeof text, HEAD "  \"description\": ");
    for (int i = 0; i < 100; i++) text[n++] = '[';
    for (int i = 0; i < 100; i++) text[n++] = ']';
    snprintf(text + n, sizeof text - (size_t)n, "\n}\n");
    /* The default limit is 64 levels; the root object is the first. */
    EXPECT_ERROR(text, TW_ERR_LIMIT, 3, 81, "$.description[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
                                            "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
                                            "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
                 "nesting is deeper than the limit of 64 levels");
    tw_scene_load_desc desc = { .max_depth = 4 };
    expect_error_desc(__LINE__,
                      HEAD "  \"entities\": [ { \"name\": \"a\", \"children\": [ { \"name\": \"b\" } ] } ]\n}\n", &desc,
                      TW_ERR_LIMIT, 3, 46, "$.entities[0].children[0]", "limit of 4 levels");
    /* Within a raised limit the same text loads (it fails later, for a description that is not a string). */
    desc.max_depth = 200;
    expect_error_desc(__LINE__, text, &desc, TW_ERR_INVALID, 3, 18, "$.description",
                      "expected a string for the description, got an array");
}

TEST(scene_error_positions_count_characters)
{
    /* Columns count characters, not bytes: "é" is one column. */
    EXPECT_ERROR(HEAD "  \"name\": \"é\", \"nam\": 1\n}\n", TW_ERR_INVALID, 3, 16, "$.nam", "did you mean \"name\"?");
}

TEST(scene_byte_order_mark)
{
    /* A UTF-8 byte-order mark is skipped, and not counted as a column. */
    const char *text = "\xEF\xBB\xBF{\"format\": \"twin-scene/1\", \"entities\": []}\n";
    tw_ecs_world *w = world_new();
    tw_scene s;
    tw_diag d;
    CHECK_EQ_INT(tw_scene_load_text(w, text, strlen(text), "bom", NULL, &s, &d), TW_OK);
    tw_scene_fini(&s);
    tw_ecs_world_free(w);
    EXPECT_ERROR("\xEF\xBB\xBF{\"format\": 2}", TW_ERR_INVALID, 1, 12, "$.format", "got a number");
}

/* ---- files that are JSON but not scenes ---------------------------------------- */

TEST(scene_rejects_other_json)
{
    const char *files[] = { "cityjson/3dbag_b2.city.json", "cityjson/3dbag_b2.city.jsonl", "cityjson/delft.json",
                            "cityjson/cityobject_all_types.city.json" };
    int tried = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char buf[1024];
        const char *path = test_data_path(files[i], buf, sizeof buf);
        if (!path) continue;
        tried++;
        tw_ecs_world *w = world_new();
        tw_scene s;
        tw_diag d;
        tw_status st = tw_scene_load_file(w, path, NULL, &s, &d);
        CHECK(st != TW_OK);
        CHECK(d.line >= 1 && d.column >= 1);
        CHECK_STR(d.file, path);
        if (strstr(files[i], ".jsonl")) {
            /* One JSON object per line: valid lines, but more than one document. */
            CHECK_CONTAINS(d.message, "unexpected text after the end of the JSON document");
            CHECK_EQ_INT(d.line, 2);
        } else {
            CHECK_CONTAINS(d.message, "this is a CityJSON file, not a twin scene");
            CHECK_EQ_INT(d.line, 1);
            CHECK_STR(d.path, "$");
        }
        CHECK_EQ_INT(tw_ecs_entity_count(w), 0);
        tw_ecs_world_free(w);
    }
    if (tried == 0) TEST_SKIP("no CityJSON files under $TWIN_DATA_DIR or ../shared/data");

    tw_ecs_world *w = world_new();
    tw_scene s;
    tw_diag d;
    CHECK_EQ_INT(tw_scene_load_file(w, "/nonexistent/scene.twin.json", NULL, &s, &d), TW_ERR_IO);
    CHECK_CONTAINS(d.message, "cannot open the scene file");
    tw_ecs_world_free(w);
}

/* ---- out of memory ---------------------------------------------------------------- */

static void oom_run(const char *text, size_t len, bool expect_success_eventually)
{
    uint64_t fail_at = 1;
    bool succeeded = false;
    int failures_seen = 0;
    for (; fail_at < 100000 && !succeeded; fail_at++) {
        tw_failing_alloc fa = { 0 };
        fa.fail_at = fail_at;
        tw_allocator a = tw_failing_alloc_allocator(&fa);
        tw_ecs_world *w = world_new_with(&a);
        if (!w) {
            CHECK_EQ_INT(fa.live_bytes, 0);
            continue;
        }
        tw_scene s;
        tw_diag d;
        tw_status st = tw_scene_load_text(w, text, len, "oom", NULL, &s, &d);
        if (st == TW_OK) {
            char *out = NULL;
            size_t out_len = 0;
            tw_status sst = tw_scene_save_text(w, &s, &out, &out_len, &d);
            if (sst == TW_OK)
                tw_free(&a, out, out_len + 1);
            else
                CHECK_EQ_INT(sst, TW_ERR_NOMEM);
            succeeded = fa.failures == 0;
            tw_scene_fini(&s);
        } else {
            failures_seen++;
            if (st != TW_ERR_NOMEM) {
                TEST_FAIL_AT(__FILE__, __LINE__, "fail_at %llu: status %s, not out of memory",
                             (unsigned long long)fail_at, tw_status_str(st));
                print_diag(&d);
            }
            CHECK_EQ_INT(tw_ecs_entity_count(w), 0);
            CHECK(s.kpis == NULL);
        }
        tw_ecs_world_free(w);
        if (fa.live_bytes != 0)
            TEST_FAIL_AT(__FILE__, __LINE__, "fail_at %llu: %lld bytes leaked", (unsigned long long)fail_at,
                         (long long)fa.live_bytes);
    }
    CHECK(succeeded == expect_success_eventually);
    CHECK(failures_seen > 0);
}

TEST(scene_oom_every_allocation)
{
    size_t len;
    char *text = read_text(fixture("office.twin.json"), &len);
    REQUIRE(text != NULL);
    oom_run(text, len, true);
    free(text);
    text = read_text(fixture("types.twin.json"), &len);
    REQUIRE(text != NULL);
    oom_run(text, len, true);
    free(text);
}

TEST(scene_load_with_own_allocator)
{
    /* desc->allocator serves the scene's arrays and the parse scratch. */
    tw_failing_alloc fa = { 0 };
    tw_allocator a = tw_failing_alloc_allocator(&fa);
    tw_scene_load_desc desc = { .allocator = &a };
    tw_ecs_world *w = world_new();
    tw_scene s;
    tw_diag d;
    REQUIRE(tw_scene_load_file(w, fixture("office.twin.json"), &desc, &s, &d) == TW_OK);
    CHECK(fa.allocations > 0);
    CHECK(fa.live_bytes > 0); /* the KPI array */
    CHECK_EQ_INT(s.kpi_count, 3);
    tw_scene_fini(&s);
    CHECK_EQ_INT(fa.live_bytes, 0);
    tw_ecs_world_free(w);
}

int scene_docs_print(const char *what); /* docs.c */

int main(int argc, char **argv)
{
    if (argc > 1 && strncmp(argv[1], "--print-", 8) == 0) return scene_docs_print(argv[1]) == 0 ? 0 : 2;
    return test_main(argc, argv);
}
