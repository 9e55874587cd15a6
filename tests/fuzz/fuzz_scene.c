/* libFuzzer target for the scene loader: any bytes into a fresh world with
 * the simulation's components registered. Besides memory errors (ASan) and
 * undefined behaviour (UBSan) it checks the module's promises:
 *   - a failed load leaves no entity behind and says where (line, column);
 *   - a loaded scene saves, the save loads, and saving again gives the same
 *     bytes (the canonical form is a fixed point). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin/scene.h"
#include "twin/sim_components.h"

static tw_ecs_world *fresh_world(void)
{
    tw_ecs_world *w = tw_ecs_world_new(NULL);
    tw_sim_components ids;
    if (!w || tw_sim_register_components(w, &ids) != TW_OK) {
        fprintf(stderr, "fuzz_scene: cannot set up a world\n");
        abort();
    }
    return w;
}

static void fail(const char *what, const tw_diag *d)
{
    char buf[1024];
    tw_diag_format(d, buf, sizeof buf);
    fprintf(stderr, "fuzz_scene: %s\n  %s\n", what, buf);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tw_ecs_world *w = fresh_world();
    tw_scene s;
    tw_diag d;
    tw_status st = tw_scene_load_text(w, (const char *)data, size, "fuzz", NULL, &s, &d);
    if (st != TW_OK) {
        if (tw_ecs_entity_count(w) != 0) fail("a failed load left entities in the world", &d);
        if (d.line < 1 || d.column < 1 || !d.message[0]) fail("a failed load did not say where", &d);
        tw_ecs_world_free(w);
        return 0;
    }
    const tw_allocator *alloc = tw_ecs_world_allocator(w);
    char *first = NULL;
    size_t first_len = 0;
    if (tw_scene_save_text(w, &s, &first, &first_len, &d) != TW_OK) fail("a loaded scene does not save", &d);

    tw_ecs_world *w2 = fresh_world();
    tw_scene s2;
    if (tw_scene_load_text(w2, first, first_len, "saved", NULL, &s2, &d) != TW_OK)
        fail("a saved scene does not load", &d);
    char *second = NULL;
    size_t second_len = 0;
    if (tw_scene_save_text(w2, &s2, &second, &second_len, &d) != TW_OK) fail("a reloaded scene does not save", &d);
    if (first_len != second_len || memcmp(first, second, first_len) != 0) {
        fprintf(stderr, "fuzz_scene: save -> load -> save changed the text\n--- first\n%s\n--- second\n%s\n", first,
                second);
        abort();
    }
    tw_free(tw_ecs_world_allocator(w2), second, second_len + 1);
    tw_scene_fini(&s2);
    tw_ecs_world_free(w2);
    tw_free(alloc, first, first_len + 1);
    tw_scene_fini(&s);
    tw_ecs_world_free(w);
    return 0;
}
