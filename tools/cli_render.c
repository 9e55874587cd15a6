/* `twin render`: one headless frame of a scene, at a simulated time, to PNG. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "twin/app.h"
#include "twin/view.h"

static void render_usage(FILE *f)
{
    fprintf(f,
            "usage: twin render SCENE --out FILE.png [--at T] [--camera PRESET|ex,ey,ez,tx,ty,tz]\n"
            "                   [--width W] [--height H] [--colorby Component.field [--colormap viridis|turbo]\n"
            "                   [--range MIN,MAX]] [--isolate STOREY] [--section H] [--select PATH]\n"
            "                   [--edges auto|on|off]\n"
            "\n"
            "Loads SCENE, simulates it headless up to T seconds (default 0: the scene as written), and draws\n"
            "one frame offscreen (Vulkan; lavapipe where there is no GPU) into a PNG.\n"
            "\n"
            "  --out FILE        the PNG to write\n"
            "  --at T            simulated seconds from the scene's start (36000 = 10:00 on a midnight start)\n"
            "  --camera C        home (3/4 from the south-west, the default), top, front, side, or\n"
            "                    ex,ey,ez,tx,ty,tz: eye and target point in metres\n"
            "  --width W, --height H   pixels (default 1280 x 720)\n"
            "  --colorby C.f     colour by a numeric field (Thermal.temperature, Air.co2, ...), with a legend;\n"
            "                    entities without it are drawn grey\n"
            "  --colormap M      viridis (default) or turbo\n"
            "  --range MIN,MAX   a fixed colour range (default: the range of the values shown)\n"
            "  --isolate PATH    show one storey (hq/office/floor-2); those below are faded, those above hidden\n"
            "  --section H       cut everything above H metres (a plan section)\n"
            "  --select PATH     outline an entity (and everything below it)\n"
            "  --edges MODE      element outlines: auto (default: none on elements under 12 px),\n"
            "                    on (every element), off\n"
            "  --no-edges        the same as --edges off\n"
            "\n"
            "Exit codes: 0 written, 1 no Vulkan device or the frame failed, 2 bad command line, 3 invalid scene.\n");
}

/* "W" as a pixel count in 16..16384. */
int cli_parse_pixels(const char *s, uint32_t *out)
{
    unsigned long long v;
    if (cli_parse_u64(s, &v) || v < 16 || v > 16384) return -1;
    *out = (uint32_t)v;
    return 0;
}

int cli_parse_range(const char *s, float *lo, float *hi)
{
    char *end;
    double a = strtod(s, &end);
    if (end == s || *end != ',') return -1;
    const char *p = end + 1;
    double b = strtod(p, &end);
    if (end == p || *end || !isfinite(a) || !isfinite(b) || !(b > a)) return -1;
    *lo = (float)a;
    *hi = (float)b;
    return 0;
}

int cli_parse_colormap(const char *s, int *out)
{
    if (!strcmp(s, "viridis")) *out = TW_RENDER_COLORMAP_VIRIDIS;
    else if (!strcmp(s, "turbo")) *out = TW_RENDER_COLORMAP_TURBO;
    else return -1;
    return 0;
}

/* As tw_view_camera_parse takes it, so that a bad spec fails before anything is loaded. */
int cli_camera_spec_ok(const char *spec)
{
    static const char *const presets[] = { "home", "top", "front", "side" };
    for (int k = 0; k < 4; k++)
        if (!strcmp(spec, presets[k])) return 1;
    const char *p = spec;
    for (int k = 0; k < 6; k++) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !isfinite(x)) return 0;
        p = end;
        if (k < 5 && *p++ != ',') return 0;
    }
    return *p == '\0';
}

static tw_entity lookup(const tw_app_session *s, const char *path, const char *opt, int *bad)
{
    tw_entity e = tw_ecs_lookup_path(s->world, path);
    if (tw_entity_is_null(e)) {
        fprintf(stderr, "twin render: %s: no entity \"%s\" in the scene (paths look like hq/office/floor-1)\n", opt,
                path);
        *bad = 1;
    }
    return e;
}

int cli_render(int argc, char **argv, volatile sig_atomic_t *cancel)
{
    const char *scene = NULL, *out = NULL, *camera = "home", *colorby = NULL, *isolate = NULL, *select = NULL;
    double at = 0.0, section = NAN;
    uint32_t width = 1280, height = 720;
    int colormap = TW_RENDER_COLORMAP_VIRIDIS, no_edges = 0, edges_on = 0;
    float range_min = 0.0f, range_max = 0.0f;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            render_usage(stdout);
            return TW_EXIT_OK;
        } else if (!strcmp(a, "--out") && has_value) {
            out = argv[++i];
        } else if (!strcmp(a, "--at") && has_value) {
            if (cli_parse_double(argv[++i], &at)) {
                fprintf(stderr, "twin render: --at needs a number of seconds >= 0, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--camera") && has_value) {
            camera = argv[++i];
            if (!cli_camera_spec_ok(camera)) {
                fprintf(stderr, "twin render: --camera is home, top, front, side or ex,ey,ez,tx,ty,tz, got \"%s\"\n",
                        camera);
                return TW_EXIT_USAGE;
            }
        } else if ((!strcmp(a, "--width") || !strcmp(a, "--height")) && has_value) {
            if (cli_parse_pixels(argv[++i], a[2] == 'w' ? &width : &height)) {
                fprintf(stderr, "twin render: %s needs a number of pixels in 16..16384, got \"%s\"\n", a, argv[i]);
                return TW_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--colorby") && has_value) {
            colorby = argv[++i];
        } else if (!strcmp(a, "--colormap") && has_value) {
            if (cli_parse_colormap(argv[++i], &colormap)) {
                fprintf(stderr, "twin render: --colormap is viridis or turbo, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--range") && has_value) {
            if (cli_parse_range(argv[++i], &range_min, &range_max)) {
                fprintf(stderr, "twin render: --range needs MIN,MAX with MIN < MAX, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--isolate") && has_value) {
            isolate = argv[++i];
        } else if (!strcmp(a, "--select") && has_value) {
            select = argv[++i];
        } else if (!strcmp(a, "--section") && has_value) {
            char *end;
            section = strtod(argv[++i], &end);
            if (end == argv[i] || *end || !isfinite(section)) {
                fprintf(stderr, "twin render: --section needs a height in metres, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--no-edges")) {
            no_edges = 1;
        } else if (!strcmp(a, "--edges") && has_value) {
            const char *m = argv[++i];
            if (strcmp(m, "auto") && strcmp(m, "on") && strcmp(m, "off")) {
                fprintf(stderr, "twin render: --edges is auto, on or off, got \"%s\"\n", m);
                return TW_EXIT_USAGE;
            }
            no_edges = !strcmp(m, "off");
            edges_on = !strcmp(m, "on");
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "twin render: unknown or incomplete option \"%s\"\n", a);
            render_usage(stderr);
            return TW_EXIT_USAGE;
        } else if (!scene) {
            scene = a;
        } else {
            fprintf(stderr, "twin render: one scene only (got \"%s\" and \"%s\")\n", scene, a);
            return TW_EXIT_USAGE;
        }
    }
    if (!scene || !out) {
        fprintf(stderr, "twin render: %s\n", !scene ? "missing SCENE" : "missing --out FILE.png");
        render_usage(stderr);
        return TW_EXIT_USAGE;
    }

    tw_diag diag;
    tw_diag_clear(&diag);
    tw_app_session s;
    tw_app_open_desc od = { .scene_path = scene };
    tw_status st = tw_app_session_open(&od, &s, &diag);
    if (st) {
        cli_print_diag(&diag);
        return st == TW_ERR_NOMEM ? TW_EXIT_FAILURE : TW_EXIT_BAD_INPUT;
    }
    int rc = TW_EXIT_OK, bad = 0;
    tw_render *r = NULL;
    tw_view *view = NULL;
    tw_view_style style = { .colorby = colorby, .colormap = colormap, .range_min = range_min,
                            .range_max = range_max, .no_edges = no_edges,
                            .edges_always = edges_on };
    if (isolate) style.isolate = lookup(&s, isolate, "--isolate", &bad);
    if (select) style.selected = lookup(&s, select, "--select", &bad);
    if (!isnan(section)) {
        style.section = 1;
        style.section_height = (float)section;
    }
    if (bad) {
        rc = TW_EXIT_USAGE;
        goto done;
    }
    if (isolate && !tw_ecs_has(s.world, style.isolate, tw_sim_component_ids(s.sim)->storey)) {
        fprintf(stderr, "twin render: --isolate: \"%s\" is not a storey\n", isolate);
        rc = TW_EXIT_USAGE;
        goto done;
    }

    /* The renderer first: without Vulkan there is no point simulating. */
    st = tw_render_new(&(tw_render_desc){ 0 }, &r);
    if (st == TW_ERR_UNSUPPORTED) {
        fprintf(stderr, "twin render: no Vulkan device on this machine: rendering needs one (on a machine without a "
                        "GPU, install mesa-vulkan-drivers for the CPU renderer lavapipe)\n");
        rc = TW_EXIT_FAILURE;
        goto done;
    }
    if (st) {
        fprintf(stderr, "twin render: the renderer could not start (%s); TWIN_GPU may name no usable device\n",
                tw_status_str(st));
        rc = TW_EXIT_FAILURE;
        goto done;
    }
    if ((st = tw_view_new(r, s.world, s.sim, &view, &diag))) {
        cli_print_diag(&diag);
        rc = TW_EXIT_FAILURE;
        goto done;
    }
    tw_view_set_scene_path(view, scene); /* relative mesh files live beside the scene */
    if (colorby && (st = tw_view_colorby_check(view, colorby, &diag))) {
        fprintf(stderr, "twin render: --colorby: %s\n", diag.message);
        rc = TW_EXIT_USAGE;
        goto done;
    }
    float aspect = (float)width / (float)height;
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    if (tw_view_camera_parse(view, camera, aspect, &dl.camera)) {
        fprintf(stderr, "twin render: --camera is home, top, front, side or ex,ey,ez,tx,ty,tz, got \"%s\"\n", camera);
        rc = TW_EXIT_USAGE;
        goto done;
    }

    uint64_t ticks = (uint64_t)llround(at / tw_sim_dt(s.sim));
    for (uint64_t k = 0; k < ticks; k++) {
        if (cancel && *cancel) {
            fprintf(stderr, "twin render: interrupted at %g s of simulated time\n", tw_sim_time(s.sim));
            rc = TW_EXIT_INTERRUPTED;
            goto done;
        }
        if ((st = tw_sim_step(s.sim))) {
            fprintf(stderr, "twin render: simulation step %llu failed: %s\n", (unsigned long long)k,
                    tw_status_str(st));
            rc = TW_EXIT_FAILURE;
            goto done;
        }
        tw_sim_events_clear(s.sim);
    }

    tw_render_target target;
    if ((st = tw_render_target_create(r, &(tw_render_target_desc){ .width = width, .height = height, .label = "render" },
                                      &target))) {
        fprintf(stderr, "twin render: a %ux%u target could not be made: %s\n", width, height, tw_status_str(st));
        rc = TW_EXIT_FAILURE;
        goto done;
    }
    tw_render_frame_stats fs;
    st = tw_view_build(view, &style, 1.0, tw_sim_time(s.sim), &dl);
    if (!st) st = tw_render_frame(r, target, &dl, &fs);
    if (st) {
        fprintf(stderr, "twin render: drawing the frame failed: %s\n", tw_status_str(st));
        rc = TW_EXIT_FAILURE;
        goto done;
    }
    /* With --colorby the bar is labelled in the picture (field, unit, range). */
    tw_ecs_field_ref ref;
    const char *unit = colorby && tw_ecs_field_resolve(s.world, colorby, &ref, NULL) == TW_OK && ref.field->unit
                           ? ref.field->unit
                           : "";
    tw_view_legend lg = { .field = colorby, .unit = unit, .min = fs.value_min, .max = fs.value_max };
    memcpy(lg.rect, fs.legend_rect, sizeof lg.rect);
    if ((st = tw_view_frame_save_png(r, target, colorby ? &lg : NULL, NULL, out, &diag))) {
        fprintf(stderr, "twin render: %s\n", diag.message);
        rc = TW_EXIT_FAILURE;
        goto done;
    }
    tw_view_stats vs;
    tw_view_get_stats(view, &vs);
    printf("wrote %s (%ux%u, %g s simulated, %u elements)\n", out, width, height, tw_sim_time(s.sim), vs.instances);
    if (colorby) {
        /* Also as text, for scripts (and builds without cairo, whose bar has no words). */
        const char *shown = tw_view_unit_display(unit);
        printf("colour: %s from %g to %g%s%s (%s, bottom to top of the bar%s)\n", colorby, fs.value_min, fs.value_max,
               shown[0] ? " " : "", shown, colormap == TW_RENDER_COLORMAP_TURBO ? "turbo" : "viridis",
               tw_view_legend_available() ? ", labelled" : "; no labels in this build");
    }

done:
    tw_view_free(view);
    tw_render_free(r);
    tw_app_session_close(&s);
    return rc;
}

/* ---- twin run --frames-every ------------------------------------------------------ */

int cli_frames_option(cli_frames *fr, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (*i + 1 >= argc) return 0;
    const char *val = argv[*i + 1];
    if (!strcmp(a, "--frames-every")) {
        if (cli_parse_double(val, &fr->every) || !(fr->every > 0)) {
            fprintf(stderr, "twin run: --frames-every needs a number of simulated seconds > 0, got \"%s\"\n", val);
            return -1;
        }
    } else if (!strcmp(a, "--width") || !strcmp(a, "--height")) {
        uint32_t px;
        if (cli_parse_pixels(val, &px)) {
            fprintf(stderr, "twin run: %s needs a number of pixels in 16..16384, got \"%s\"\n", a, val);
            return -1;
        }
        if (a[2] == 'w') fr->width = px;
        else fr->height = px;
    } else if (!strcmp(a, "--camera")) {
        if (!cli_camera_spec_ok(val)) {
            fprintf(stderr, "twin run: --camera is home, top, front, side or ex,ey,ez,tx,ty,tz, got \"%s\"\n", val);
            return -1;
        }
        fr->camera = val;
    } else if (!strcmp(a, "--colorby")) {
        fr->colorby = val;
    } else if (!strcmp(a, "--colormap")) {
        if (cli_parse_colormap(val, &fr->colormap)) {
            fprintf(stderr, "twin run: --colormap is viridis or turbo, got \"%s\"\n", val);
            return -1;
        }
    } else if (!strcmp(a, "--range")) {
        if (cli_parse_range(val, &fr->range_min, &fr->range_max)) {
            fprintf(stderr, "twin run: --range needs MIN,MAX with MIN < MAX, got \"%s\"\n", val);
            return -1;
        }
    } else {
        return 0;
    }
    (*i)++;
    return 1;
}

static tw_status frames_hook(void *user, tw_app_session *s, tw_diag *diag)
{
    cli_frames *fr = user;
    tw_status st = TW_OK;
    if (!fr->attached) {
        /* The view at once, so a bad --colorby stops the run before it starts. */
        st = tw_view_frames_attach(fr->f, s->world, s->sim, diag);
        if (st == TW_ERR_NOT_FOUND || st == TW_ERR_INVALID) fr->usage = 1;
        fr->attached = !st;
    }
    if (!st) st = tw_view_frames_tick(fr->f, s->world, s->sim, diag);
    if (st) fr->failed = 1;
    return st;
}

int cli_frames_start(cli_frames *fr, tw_app_run_desc *d)
{
    if (!(fr->every > 0)) {
        if (fr->width || fr->height || fr->camera || fr->colorby || fr->colormap || fr->range_max > fr->range_min) {
            fprintf(stderr, "twin run: --width, --height, --camera, --colorby, --colormap and --range are for frames: "
                            "give --frames-every S too\n");
            return TW_EXIT_USAGE;
        }
        return 0;
    }
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/frames", d->out_dir);
    fr->out_dir = d->out_dir;
    tw_view_frames_desc fd = { .dir = dir, .every = fr->every, .width = fr->width, .height = fr->height,
                               .camera = fr->camera, .log = d->log, .scene_path = d->scene_path,
                               .style = { .colorby = fr->colorby, .colormap = fr->colormap,
                                          .range_min = fr->range_min, .range_max = fr->range_max } };
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st = tw_view_frames_new(&fd, &fr->f, &diag);
    if (st) {
        fprintf(stderr, "twin run: --frames-every: %s\n", diag.message);
        return st == TW_ERR_INVALID ? TW_EXIT_USAGE : TW_EXIT_FAILURE;
    }
    d->on_tick = frames_hook;
    d->on_tick_user = fr;
    return 0;
}

int cli_frames_finish(cli_frames *fr, int run_status, const tw_diag *diag)
{
    if (!fr->f) return 0;
    uint32_t n = tw_view_frames_written(fr->f);
    tw_view_frames_free(fr->f);
    fr->f = NULL;
    if (fr->failed && run_status) {
        if (fr->usage) {
            fprintf(stderr, "twin run: --colorby: %s\n", diag->message);
            return TW_EXIT_USAGE;
        }
        cli_print_diag(diag);
        return TW_EXIT_FAILURE;
    }
    printf("frames: %u PNG files in %s/frames\n", n, fr->out_dir);
    return 0;
}
