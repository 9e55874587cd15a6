/* `twin check` and `twin fmt`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "twin/app.h"
#include "twin/scene.h"
#include "twin/sim_components.h"

static void check_usage(FILE *f)
{
    fprintf(f, "usage: twin check SCENE [--bindings FILE ...] [--sensors]\n"
               "\n"
               "Validates SCENE (syntax, types, names, references, what the simulation needs) and its\n"
               "telemetry bindings (the scene's \"bindings\" and each --bindings FILE: unknown entities or\n"
               "fields, unit mismatches, bad parameters), then prints entities by kind, components, the\n"
               "bindings and warnings.\n"
               "  --sensors  print only the bound sensor ids (and topic patterns), one a line\n"
               "Exit 0 when valid, 3 when not (the error names file:line:column and the JSON path).\n");
}

int cli_check(int argc, char **argv)
{
    tw_app_check_desc d = { 0 };
    const char **bindings = calloc((size_t)argc + 1, sizeof *bindings);
    if (!bindings) return TW_EXIT_FAILURE;
    d.bindings = bindings;
    int rc = -1;
    for (int i = 1; i < argc && rc < 0; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            check_usage(stdout);
            rc = TW_EXIT_OK;
        } else if (!strcmp(argv[i], "--bindings") && i + 1 < argc) {
            bindings[d.bindings_count++] = argv[++i];
        } else if (!strcmp(argv[i], "--sensors")) {
            d.list_sensors = 1;
        } else if (argv[i][0] == '-' || d.scene_path) {
            fprintf(stderr, "twin check: unknown or incomplete option, or a second scene: \"%s\"\n", argv[i]);
            check_usage(stderr);
            rc = TW_EXIT_USAGE;
        } else {
            d.scene_path = argv[i];
        }
    }
    if (rc < 0 && !d.scene_path) {
        check_usage(stderr);
        rc = TW_EXIT_USAGE;
    }
    if (rc < 0) {
        tw_diag diag;
        tw_diag_clear(&diag);
        tw_status st = tw_app_check_scene(&d, stdout, &diag);
        if (st) cli_print_diag(&diag);
        rc = !st ? TW_EXIT_OK : st == TW_ERR_NOMEM ? TW_EXIT_FAILURE : TW_EXIT_BAD_INPUT;
    }
    free(bindings);
    return rc;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    if (buf) *len = n;
    return buf;
}

int cli_fmt(int argc, char **argv)
{
    const char *path = NULL, *out = NULL;
    int in_place = 0, check = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: twin fmt SCENE [--out FILE | --in-place | --check]\n\n"
                   "Loads SCENE and writes it in canonical form (to stdout, FILE or SCENE itself).\n"
                   "--check exits 1 when SCENE is not already canonical.\n");
            return TW_EXIT_OK;
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--in-place")) {
            in_place = 1;
        } else if (!strcmp(argv[i], "--check")) {
            check = 1;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            fprintf(stderr, "usage: twin fmt SCENE [--out FILE | --in-place | --check]\n");
            return TW_EXIT_USAGE;
        }
    }
    if (!path || (in_place && out)) {
        fprintf(stderr, "usage: twin fmt SCENE [--out FILE | --in-place | --check]\n");
        return TW_EXIT_USAGE;
    }
    tw_ecs_world *w = tw_ecs_world_new(NULL);
    if (!w) return TW_EXIT_FAILURE;
    tw_sim_components ids;
    tw_scene scene;
    tw_diag diag;
    tw_diag_clear(&diag);
    int rc = TW_EXIT_OK;
    tw_status st = tw_sim_register_components(w, &ids);
    if (!st) st = tw_scene_load_file(w, path, NULL, &scene, &diag);
    if (st) {
        cli_print_diag(&diag);
        tw_ecs_world_free(w);
        return TW_EXIT_BAD_INPUT;
    }
    char *text = NULL;
    size_t len = 0;
    st = tw_scene_save_text(w, &scene, &text, &len, &diag);
    if (st) {
        cli_print_diag(&diag);
        rc = TW_EXIT_FAILURE;
    } else if (check) {
        size_t old_len = 0;
        char *old = read_file(path, &old_len);
        if (!old || old_len != len || memcmp(old, text, len) != 0) {
            fprintf(stderr, "%s: not in canonical form (run: twin fmt %s --in-place)\n", path, path);
            rc = TW_EXIT_FAILURE;
        }
        free(old);
    } else if (in_place || out) {
        st = tw_scene_save_file(w, &scene, in_place ? path : out, &diag);
        if (st) {
            cli_print_diag(&diag);
            rc = TW_EXIT_FAILURE;
        }
    } else {
        fwrite(text, 1, len, stdout);
    }
    if (text) tw_free(tw_ecs_world_allocator(w), text, len + 1);
    tw_scene_fini(&scene);
    tw_ecs_world_free(w);
    return rc;
}
