/* Tests of engine/app: KPI sampling over the hierarchy, output helpers. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "twin/app.h"
#include "twin/sim_components.h"

typedef struct fixture {
    tw_ecs_world *w;
    tw_sim_components c;
    tw_entity site, floor1, floor2, r1, r2, r3;
} fixture;

static tw_entity named(fixture *f, const char *name, tw_kind kind, tw_entity parent)
{
    tw_entity e = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_name(f->w, e, name);
    tw_ecs_entity_set_kind(f->w, e, kind);
    if (!tw_entity_is_null(parent)) tw_ecs_entity_set_parent(f->w, e, parent);
    return e;
}

static void room(fixture *f, tw_entity e, float temp)
{
    Thermal *t = tw_ecs_add(f->w, e, f->c.thermal);
    t->temperature = temp;
}

static int fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->w = tw_ecs_world_new(NULL);
    if (!f->w || tw_sim_register_components(f->w, &f->c)) return -1;
    f->site = named(f, "hq", TW_KIND_SITE, TW_ENTITY_NULL);
    f->floor1 = named(f, "floor-1", TW_KIND_STOREY, f->site);
    f->floor2 = named(f, "floor-2", TW_KIND_STOREY, f->site);
    f->r1 = named(f, "r1", TW_KIND_SPACE, f->floor1);
    f->r2 = named(f, "r2", TW_KIND_SPACE, f->floor1);
    f->r3 = named(f, "r3", TW_KIND_SPACE, f->floor2);
    room(f, f->r1, 20.0f);
    room(f, f->r2, 22.0f);
    room(f, f->r3, 27.0f);
    return 0;
}

static tw_scene_kpi kpi(const char *name, const char *field, const char *entity, tw_scene_aggregate agg)
{
    tw_scene_kpi k;
    memset(&k, 0, sizeof k);
    snprintf(k.name, sizeof k.name, "%s", name);
    snprintf(k.field, sizeof k.field, "%s", field);
    snprintf(k.entity, sizeof k.entity, "%s", entity);
    k.aggregate = agg;
    return k;
}

TEST(kpi_aggregates_over_subtrees)
{
    fixture f;
    REQUIRE(fixture_init(&f) == 0);
    tw_scene_kpi defs[] = {
        kpi("r1", "Thermal.temperature", "hq/floor-1/r1", TW_SCENE_AGG_VALUE),
        kpi("floor1_mean", "Thermal.temperature", "hq/floor-1", TW_SCENE_AGG_MEAN),
        kpi("all_max", "Thermal.temperature", "", TW_SCENE_AGG_MAX),
        kpi("all_min", "Thermal.temperature", "hq", TW_SCENE_AGG_MIN),
        kpi("all_sum", "Thermal.temperature", "", TW_SCENE_AGG_SUM),
        kpi("no_meter", "Meter.energy", "", TW_SCENE_AGG_SUM),
    };
    tw_kpi_sampler *k = NULL;
    tw_diag d;
    tw_diag_clear(&d);
    REQUIRE(tw_kpi_sampler_new(f.w, defs, 6, &k, &d) == TW_OK);
    double v[6];
    tw_kpi_sampler_sample(k, v);
    CHECK_NEAR(v[0], 20.0, 1e-9);
    CHECK_NEAR(v[1], 21.0, 1e-9);
    CHECK_NEAR(v[2], 27.0, 1e-9);
    CHECK_NEAR(v[3], 20.0, 1e-9);
    CHECK_NEAR(v[4], 69.0, 1e-9);
    CHECK(isnan(v[5]));

    /* A room added later is picked up (the member lists follow structure changes). */
    tw_entity r4 = named(&f, "r4", TW_KIND_SPACE, f.floor1);
    room(&f, r4, 30.0f);
    tw_kpi_sampler_sample(k, v);
    CHECK_NEAR(v[1], 24.0, 1e-9);
    CHECK_NEAR(v[2], 30.0, 1e-9);
    tw_kpi_sampler_free(k);
    tw_ecs_world_free(f.w);
}

TEST(kpi_errors_name_the_kpi)
{
    fixture f;
    REQUIRE(fixture_init(&f) == 0);
    tw_kpi_sampler *k = NULL;
    tw_diag d;

    tw_scene_kpi bad_field = kpi("t", "Thermal.temprature", "hq/floor-1/r1", TW_SCENE_AGG_VALUE);
    tw_diag_clear(&d);
    CHECK(tw_kpi_sampler_new(f.w, &bad_field, 1, &k, &d) != TW_OK);
    CHECK_CONTAINS(d.message, "KPI \"t\"");
    CHECK_CONTAINS(d.message, "temperature");
    CHECK(k == NULL);

    tw_scene_kpi bad_path = kpi("p", "Thermal.temperature", "hq/floor-9", TW_SCENE_AGG_MEAN);
    tw_diag_clear(&d);
    CHECK(tw_kpi_sampler_new(f.w, &bad_path, 1, &k, &d) == TW_ERR_NOT_FOUND);
    CHECK_CONTAINS(d.message, "hq/floor-9");

    tw_scene_kpi value_without_entity = kpi("v", "Thermal.temperature", "", TW_SCENE_AGG_VALUE);
    tw_diag_clear(&d);
    CHECK(tw_kpi_sampler_new(f.w, &value_without_entity, 1, &k, &d) == TW_ERR_INVALID);
    tw_ecs_world_free(f.w);
}

TEST(app_make_dirs_creates_parents)
{
    char base[256];
    snprintf(base, sizeof base, "/tmp/twin-test-app-%d", (int)getpid());
    char deep[512];
    snprintf(deep, sizeof deep, "%s/a/b/c", base);
    tw_diag d;
    tw_diag_clear(&d);
    CHECK(tw_app_make_dirs(deep, &d) == TW_OK);
    struct stat st;
    CHECK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(tw_app_make_dirs(deep, &d) == TW_OK); /* exists already: fine */
    /* A file in the way is an error with its name. */
    char file[600];
    snprintf(file, sizeof file, "%s/file", base);
    FILE *fp = fopen(file, "w");
    REQUIRE(fp != NULL);
    fclose(fp);
    tw_diag_clear(&d);
    CHECK(tw_app_make_dirs(file, &d) == TW_ERR_IO);
    CHECK_CONTAINS(d.message, "file");
    remove(file);
    rmdir(deep);
    snprintf(deep, sizeof deep, "%s/a/b", base);
    rmdir(deep);
    snprintf(deep, sizeof deep, "%s/a", base);
    rmdir(deep);
    rmdir(base);
}

TEST(app_hash_format_is_16_hex_digits)
{
    char h[17];
    tw_app_format_hash(0x1234ull, h);
    CHECK_STR(h, "0000000000001234");
}

int main(int argc, char **argv) { return test_main(argc, argv); }
