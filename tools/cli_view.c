/* `twin view`: the desktop viewer (engine/app/src/viewer.c). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "twin/app.h"
#include "twin/viewer.h"

static void view_usage(FILE *f)
{
    fprintf(f,
            "usage: twin view SCENE [--width W] [--height H] [--speed X] [--at T] [--paused] [--seed N]\n"
            "                 [--colorby Component.field] [--edges auto|on|off] [--select PATH]\n"
            "                 [--frames N] [--frame-dt S] [--script FILE] [--screenshot FILE] [--record-script FILE]\n"
            "                 [--telemetry FILE ... | --mqtt URL] [--bindings FILE ...] [--record LOG]\n"
            "                 [--vsync | --no-vsync] [--stats] [--verbose]\n"
            "       twin view SCENE --replay LOG [--at T] [--speed X] [--paused] [other options as above]\n"
            "\n"
            "Opens SCENE in a window and simulates it live: the simulation advances by whole ticks at\n"
            "X simulated seconds per wall second, whatever the frame rate. With --replay it shows a\n"
            "recorded run instead, with a timeline to scrub. F1 (or ?) in the window lists the keys;\n"
            "docs/viewer.md explains them.\n"
            "\n"
            "  --width W, --height H  window size in pixels (default 1280 x 800)\n"
            "  --speed X         simulated seconds per second (default 1; + and - change it: 0.1 .. 1000)\n"
            "  --at T            simulate headless up to T seconds before the window opens\n"
            "  --paused          start paused (Space runs, N steps one tick)\n"
            "  --seed N          override the scene's seed\n"
            "  --colorby C.f     start coloured by a numeric field (Thermal.temperature, Air.co2, ...)\n"
            "  --edges MODE      element outlines: auto (default: none on elements under 12 px on screen),\n"
            "                    on (every element) or off; the O key cycles them\n"
            "  --select PATH     start with an entity selected and shown in the inspector\n"
            "  --frames N        render N frames, then exit (scripted runs, tests)\n"
            "  --frame-dt S      advance as if each frame took S seconds (reproducible scripted runs)\n"
            "  --script FILE     replay input events, one a line with a frame number (docs/viewer.md)\n"
            "  --screenshot FILE save the last frame, HUD included, as PNG\n"
            "  --record-script FILE  write this session's input as a script\n"
            "  --telemetry FILE  drive the scene with recorded telemetry (CSV, JSON Lines, SenML), as\n"
            "                    `twin run` does: the view starts at the data's first sample; repeatable\n"
            "  --mqtt URL        live telemetry from a broker (docs/telemetry.md); the speed stays x1\n"
            "  --bindings FILE   which sensor drives which field (twin-bindings/1); repeatable. Default: the\n"
            "                    scene's \"bindings\", else the default file next to the first telemetry file\n"
            "  --record LOG      record the session into a .twlog, as `twin run --record` (not with --replay)\n"
            "  --replay LOG      show the run recorded in LOG (twin run/view --record) against SCENE: the\n"
            "                    timeline scrubs, [ ] jump between alarm events; --at T starts at T seconds\n"
            "  --vsync, --no-vsync   wait for the display or not (default: on; off with --frames)\n"
            "  --stats           print a line of counters at exit (frames, fps, validation messages)\n"
            "  --verbose         log what the renderer and the window do\n"
            "\n"
            "Clicks print \"picked PATH (KIND)\" on standard output.\n"
            "Exit codes: 0 ok, 1 no display or no Vulkan device, a log that cannot be read or written (or\n"
            "the viewer failed), 2 bad command line, 3 invalid scene or script, or a log of another scene,\n"
            "130 interrupted (a recording is closed first).\n");
}

static int parse_pixels(const char *s, uint32_t *out)
{
    unsigned long long v;
    if (cli_parse_u64(s, &v) || v < 64 || v > 16384) return -1;
    *out = (uint32_t)v;
    return 0;
}

static int view_main(int argc, char **argv, tw_viewer_desc d, const char **telemetry, const char **bindings);

int cli_view(int argc, char **argv, volatile sig_atomic_t *cancel)
{
    tw_viewer_desc d = { .cancel = cancel };
    const char **telemetry = calloc((size_t)argc + 1, sizeof *telemetry);
    const char **bindings = calloc((size_t)argc + 1, sizeof *bindings);
    if (!telemetry || !bindings) {
        free(telemetry);
        free(bindings);
        fprintf(stderr, "twin view: out of memory\n");
        return TW_EXIT_FAILURE;
    }
    d.telemetry = telemetry;
    d.bindings = bindings;
    int rc = view_main(argc, argv, d, telemetry, bindings);
    free(telemetry);
    free(bindings);
    return rc;
}

static int view_main(int argc, char **argv, tw_viewer_desc d, const char **telemetry, const char **bindings)
{
    tw_log log = { 0 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            view_usage(stdout);
            return TW_EXIT_OK;
        } else if ((!strcmp(a, "--width") || !strcmp(a, "--height")) && has_value) {
            uint32_t *dst = a[2] == 'w' ? &d.width : &d.height;
            if (parse_pixels(argv[++i], dst)) {
                fprintf(stderr, "twin view: %s needs 64..16384 pixels, got \"%s\"\n", a, argv[i]);
                return TW_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--speed") && has_value) {
            if (cli_parse_double(argv[++i], &d.speed) || !(d.speed > 0.0) || d.speed > 1e6) {
                fprintf(stderr, "twin view: --speed needs a positive factor, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--at") && has_value) {
            if (cli_parse_double(argv[++i], &d.at)) {
                fprintf(stderr, "twin view: --at needs a number of seconds >= 0, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--frame-dt") && has_value) {
            if (cli_parse_double(argv[++i], &d.frame_dt) || d.frame_dt > 10.0) {
                fprintf(stderr, "twin view: --frame-dt needs seconds in 0..10, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--frames") && has_value) {
            unsigned long long v;
            if (cli_parse_u64(argv[++i], &v) || v == 0) {
                fprintf(stderr, "twin view: --frames needs a positive count, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
            d.frames = v;
        } else if (!strcmp(a, "--seed") && has_value) {
            unsigned long long v;
            if (cli_parse_u64(argv[++i], &v)) {
                fprintf(stderr, "twin view: --seed needs a non-negative integer, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
            d.has_seed = 1;
            d.seed = v;
        } else if (!strcmp(a, "--paused")) {
            d.paused = 1;
        } else if (!strcmp(a, "--colorby") && has_value) {
            d.colorby = argv[++i];
        } else if (!strcmp(a, "--edges") && has_value) {
            const char *m = argv[++i];
            if (strcmp(m, "auto") && strcmp(m, "on") && strcmp(m, "off")) {
                fprintf(stderr, "twin view: --edges is auto, on or off, got \"%s\"\n", m);
                return TW_EXIT_USAGE;
            }
            d.edges = !strcmp(m, "on") ? 1 : !strcmp(m, "off") ? -1 : 0;
        } else if (!strcmp(a, "--select") && has_value) {
            d.select = argv[++i];
        } else if (!strcmp(a, "--script") && has_value) {
            d.script_path = argv[++i];
        } else if (!strcmp(a, "--screenshot") && has_value) {
            d.screenshot_path = argv[++i];
        } else if (!strcmp(a, "--record-script") && has_value) {
            d.record_path = argv[++i];
        } else if (!strcmp(a, "--font") && has_value) {
            d.font_path = argv[++i];
        } else if (!strcmp(a, "--telemetry") && has_value) {
            telemetry[d.telemetry_count++] = argv[++i];
        } else if (!strcmp(a, "--bindings") && has_value) {
            bindings[d.bindings_count++] = argv[++i];
        } else if (!strcmp(a, "--mqtt") && has_value) {
            if (d.mqtt_url) {
                fprintf(stderr, "twin view: one --mqtt URL (one broker; a URL may hold several topic filters)\n");
                return TW_EXIT_USAGE;
            }
            d.mqtt_url = argv[++i];
        } else if (!strcmp(a, "--replay") && has_value) {
            d.replay_path = argv[++i];
        } else if (!strcmp(a, "--record") && has_value) {
            d.record_log = argv[++i];
        } else if (!strcmp(a, "--vsync")) {
            d.vsync = 1;
        } else if (!strcmp(a, "--no-vsync")) {
            d.vsync = -1;
        } else if (!strcmp(a, "--stats")) {
            d.stats = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            tw_log_set_level(&log, TW_LOG_DEBUG);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "twin view: unknown or incomplete option \"%s\"\n", a);
            view_usage(stderr);
            return TW_EXIT_USAGE;
        } else if (!d.scene_path) {
            d.scene_path = a;
        } else {
            fprintf(stderr, "twin view: one scene only (got \"%s\" and \"%s\")\n", d.scene_path, a);
            return TW_EXIT_USAGE;
        }
    }
    if (!d.scene_path) {
        fprintf(stderr, "twin view: missing SCENE\n");
        view_usage(stderr);
        return TW_EXIT_USAGE;
    }
    if (d.bindings_count && !d.telemetry_count && !d.mqtt_url) {
        fprintf(stderr, "twin view: --bindings says how telemetry drives the scene: give --telemetry FILE or --mqtt URL too\n");
        return TW_EXIT_USAGE;
    }
    if (d.mqtt_url && d.telemetry_count) {
        fprintf(stderr, "twin view: --telemetry and --mqtt exclude each other (recorded or live data, not both)\n");
        return TW_EXIT_USAGE;
    }
    if (d.replay_path) {
        /* A replay shows what the log holds: nothing may feed or reseed it. */
        const char *clash = d.record_log ? "--record" : d.telemetry_count ? "--telemetry" : d.mqtt_url ? "--mqtt"
                          : d.has_seed ? "--seed" : NULL;
        if (clash) {
            fprintf(stderr, "twin view: --replay shows a recorded run as it was; %s does not go with it\n", clash);
            return TW_EXIT_USAGE;
        }
    }
    d.log = &log;
    tw_viewer_result r;
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st = tw_viewer_run(&d, &r, &diag);
    if (d.cancel && *d.cancel) return TW_EXIT_INTERRUPTED;
    if (st == TW_OK) return TW_EXIT_OK;
    if (st == TW_ERR_UNSUPPORTED) {
        /* No display or no Vulkan: a fact about the machine, said plainly. */
        fprintf(stderr, "twin view: %s\n", diag.message);
        return TW_EXIT_FAILURE;
    }
    cli_print_diag(&diag);
    if (st == TW_ERR_PARSE || st == TW_ERR_INVALID || st == TW_ERR_NOT_FOUND) return TW_EXIT_BAD_INPUT;
    return TW_EXIT_FAILURE;
}
