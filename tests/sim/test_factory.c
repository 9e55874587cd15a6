/* Factory: machines make parts onto conveyors, belts carry them to the end
 * where they are delivered, a stopped belt holds its parts (and its machine
 * waits), a failed machine makes nothing, and it all replays identically. */
#include "sim_internal.h"
#include "test.h"

typedef struct fa_fixture {
    tw_ecs_world *w;
    tw_sim_components c;
    tw_entity hall, belt, machine;
    tw_sim *s;
    tw_ecs_query parts;
} fa_fixture;

static void fa_init(fa_fixture *f, float cycle, float speed)
{
    memset(f, 0, sizeof *f);
    f->w = tw_ecs_world_new(NULL);
    tw_sim_register_components(f->w, &f->c);
    f->hall = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_name(f->w, f->hall, "hall");
    tw_ecs_entity_set_kind(f->w, f->hall, TW_KIND_STOREY);
    tw_ecs_set(f->w, f->hall, f->c.storey, &(Storey){ 2.0f, 6.0f });
    f->belt = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_name(f->w, f->belt, "belt");
    tw_ecs_entity_set_kind(f->w, f->belt, TW_KIND_EQUIPMENT);
    tw_ecs_entity_set_parent(f->w, f->belt, f->hall);
    Shape sh = { .kind = TW_SHAPE_POLYLINE, .height = 1, .thickness = 0.5f, .point_count = 3,
                 .points = { { 0, 0 }, { 5, 0 }, { 5, 3 } } };
    tw_ecs_set(f->w, f->belt, f->c.shape, &sh);
    tw_ecs_set(f->w, f->belt, f->c.conveyor, &(Conveyor){ .speed = speed, .running = 1 });
    f->machine = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_name(f->w, f->machine, "press");
    tw_ecs_entity_set_kind(f->w, f->machine, TW_KIND_EQUIPMENT);
    tw_ecs_entity_set_parent(f->w, f->machine, f->hall);
    tw_ecs_set(f->w, f->machine, f->c.machine, &(Machine){ .cycle_time = cycle, .output = f->belt });
    tw_ecs_set(f->w, f->machine, f->c.equipment,
               &(Equipment){ .rated_power = 1000, .utilisation = 1, .running = 1 });
    tw_ecs_query_init(f->w, &f->parts, &(tw_ecs_query_desc){ .with = { f->c.part, f->c.body } });
}

static int fa_start(fa_fixture *f)
{
    tw_diag d;
    tw_diag_clear(&d);
    tw_status st = tw_sim_new(f->w, &(tw_sim_desc){ .dt = 0.1, .seed = 3 }, &f->s, &d);
    if (st) fprintf(stderr, "tw_sim_new: %s\n", d.message);
    return st == TW_OK;
}

static void fa_fini(fa_fixture *f)
{
    tw_ecs_query_fini(&f->parts);
    tw_sim_free(f->s);
    tw_ecs_world_free(f->w);
}

static void fa_run(fa_fixture *f, double seconds)
{
    for (uint64_t i = 0, n = (uint64_t)(seconds / 0.1 + 0.5); i < n; i++) tw_sim_step(f->s);
}

static Machine *fa_machine(fa_fixture *f) { return tw_ecs_get(f->w, f->machine, f->c.machine); }
static Conveyor *fa_conveyor(fa_fixture *f) { return tw_ecs_get(f->w, f->belt, f->c.conveyor); }

/* Sum of the parts' positions, and how many there are. */
static uint32_t fa_parts(fa_fixture *f, float *sum, float *min_gap)
{
    uint32_t n = 0;
    float acc = 0, gap = INFINITY;
    const Body *all[256];
    tw_ecs_iter it = tw_ecs_query_iter(f->w, &f->parts);
    while (tw_ecs_iter_next(&it)) {
        const Body *b = it.columns[1];
        for (uint32_t i = 0; i < it.count; i++) {
            acc += b[i].position[0] + b[i].position[1];
            if (n < 256) all[n] = &b[i];
            n++;
        }
    }
    for (uint32_t i = 0; i < n && i < 256; i++)
        for (uint32_t j = i + 1; j < n && j < 256; j++) {
            float d = hypotf(all[i]->position[0] - all[j]->position[0], all[i]->position[1] - all[j]->position[1]);
            if (d < gap) gap = d;
        }
    if (sum) *sum = acc;
    if (min_gap) *min_gap = gap;
    return n;
}

TEST(factory_parts_ride_the_belt_and_are_delivered)
{
    fa_fixture f;
    fa_init(&f, 2.0f, 1.0f);
    REQUIRE(fa_start(&f));
    fa_run(&f, 1.0);
    CHECK_NEAR(fa_machine(&f)->progress, 0.5, 0.06);
    fa_run(&f, 1.5);
    CHECK_EQ_INT(fa_machine(&f)->parts_made, 1);
    /* the new part sits at the belt's start, a small circle with a Transform at the storey's height */
    float sum;
    REQUIRE(fa_parts(&f, &sum, NULL) == 1);
    tw_ecs_iter it = tw_ecs_query_iter(f.w, &f.parts);
    REQUIRE(tw_ecs_iter_next(&it));
    const Part *part = it.columns[0];
    const Body *body = it.columns[1];
    CHECK(tw_entity_eq(part->conveyor, f.belt));
    CHECK_NEAR(part->made_at, 2.0, 0.15);
    CHECK_NEAR(body->radius, 0.15, 1e-6);
    CHECK(body->position[0] < 0.6f && fabsf(body->position[1]) < 0.05f);
    const Transform *t = tw_ecs_get(f.w, it.entities[0], f.c.transform);
    REQUIRE(t != NULL);
    CHECK_NEAR(t->position[2], 2.0, 1e-6);
    fa_run(&f, 60.0);
    /* 8 m at 1 m/s: every part made more than ~8 s ago has been delivered */
    const Machine *m = fa_machine(&f);
    CHECK(m->parts_made >= 29 && m->parts_made <= 32);
    uint32_t on_belt = fa_parts(&f, NULL, NULL);
    CHECK_EQ_INT(fa_conveyor(&f)->parts_delivered + on_belt, m->parts_made);
    CHECK(on_belt >= 3 && on_belt <= 6);
    /* and they went around the corner: every part is on the belt's line */
    it = tw_ecs_query_iter(f.w, &f.parts);
    while (tw_ecs_iter_next(&it)) {
        const Body *b = it.columns[1];
        for (uint32_t i = 0; i < it.count; i++) {
            int on_first = fabsf(b[i].position[1]) < 0.1f && b[i].position[0] < 5.1f;
            int on_second = fabsf(b[i].position[0] - 5) < 0.1f && b[i].position[1] < 3.0f;
            CHECK(on_first || on_second);
        }
    }
    fa_fini(&f);
}

TEST(factory_stopped_belt_holds_its_parts_and_the_machine_waits)
{
    fa_fixture f;
    fa_init(&f, 1.0f, 0.5f);
    REQUIRE(fa_start(&f));
    fa_run(&f, 12.0);
    uint32_t delivered = fa_conveyor(&f)->parts_delivered;
    fa_conveyor(&f)->running = 0;
    fa_run(&f, 1.0);
    float before, after, gap;
    uint32_t n = fa_parts(&f, &before, NULL);
    CHECK(n >= 5);
    fa_run(&f, 30.0);
    uint32_t made = fa_machine(&f)->parts_made;
    fa_run(&f, 20.0);
    CHECK_EQ_INT(fa_conveyor(&f)->parts_delivered, delivered);
    /* the parts stay put; the machine made at most the one that still fitted, then waits */
    uint32_t n2 = fa_parts(&f, &after, &gap);
    CHECK_EQ_INT(fa_machine(&f)->parts_made, made);
    CHECK(n2 <= n + 1);
    CHECK_NEAR(fa_machine(&f)->progress, 1.0, 1e-6);
    CHECK(gap > 0.25f); /* no pile-up: they do not overlap */
    (void)before;
    /* running again: deliveries resume */
    fa_conveyor(&f)->running = 1;
    fa_run(&f, 30.0);
    CHECK(fa_conveyor(&f)->parts_delivered > delivered + 5);
    CHECK(fa_machine(&f)->parts_made > made + 5);
    (void)after;
    fa_fini(&f);
}

TEST(factory_failed_machine_makes_nothing)
{
    fa_fixture f;
    fa_init(&f, 1.0f, 1.0f);
    ((Equipment *)tw_ecs_get(f.w, f.machine, f.c.equipment))->failed = 1;
    REQUIRE(fa_start(&f));
    fa_run(&f, 10.0);
    CHECK_EQ_INT(fa_machine(&f)->parts_made, 0);
    CHECK_NEAR(fa_machine(&f)->progress, 0, 0);
    ((Equipment *)tw_ecs_get(f.w, f.machine, f.c.equipment))->failed = 0;
    fa_run(&f, 10.0);
    CHECK(fa_machine(&f)->parts_made >= 9);
    fa_fini(&f);
}

TEST(factory_machine_feeding_a_non_conveyor_is_an_error)
{
    fa_fixture f;
    fa_init(&f, 1.0f, 1.0f);
    fa_machine(&f)->output = f.hall;
    tw_diag d;
    tw_diag_clear(&d);
    CHECK(tw_sim_new(f.w, &(tw_sim_desc){ 0 }, &f.s, &d) != TW_OK);
    CHECK_CONTAINS(d.message, "hall/press");
    fa_fini(&f);
}

TEST(factory_runs_identically_with_a_physics_rebuild)
{
    fa_fixture a, b;
    fa_init(&a, 0.7f, 0.8f);
    fa_init(&b, 0.7f, 0.8f);
    REQUIRE(fa_start(&a) && fa_start(&b));
    for (int i = 0; i < 600; i++) {
        if (i == 250) {
            tw_sim_physics_rebuild(a.s);
            tw_sim_physics_rebuild(b.s);
        }
        if (i == 300) fa_conveyor(&a)->running = fa_conveyor(&b)->running = 0;
        if (i == 400) fa_conveyor(&a)->running = fa_conveyor(&b)->running = 1;
        tw_sim_step(a.s);
        tw_sim_step(b.s);
    }
    float sa, sb;
    CHECK_EQ_INT(fa_parts(&a, &sa, NULL), fa_parts(&b, &sb, NULL));
    CHECK(memcmp(&sa, &sb, sizeof sa) == 0);
    CHECK_EQ_INT(fa_conveyor(&a)->parts_delivered, fa_conveyor(&b)->parts_delivered);
    CHECK(fa_conveyor(&a)->parts_delivered > 10);
    fa_fini(&a);
    fa_fini(&b);
}
