/* `twin run`: headless batch simulation. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "twin/app.h"

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: twin run SCENE --out DIR [--duration S] [--seed N] [--telemetry FILE ... | --mqtt URL]\n"
            "                [--bindings FILE ...] [--record LOG [--record-sync]] [--quiet]\n"
            "\n"
            "Simulates SCENE headless from its start time and writes into DIR:\n"
            "  kpis.csv      time_s, then one column per KPI, every kpi_interval seconds\n"
            "  events.csv    alarm transitions: time, time_s, entity, rule, value, state\n"
            "  summary.json  sim_time_s, ticks, wall_time_s, real_time_factor, state_hash, entities, KPI stats,\n"
            "                and with telemetry its counters (received, applied, rejected, late, ...)\n"
            "\n"
            "  --duration S  simulated seconds (default: the scene's simulation.duration; with telemetry,\n"
            "                as long as the data lasts)\n"
            "  --telemetry FILE  drive the scene with recorded telemetry (CSV, JSON Lines, SenML; \"-\" is\n"
            "                standard input); repeat for more files. The run starts at the data's first\n"
            "                sample and applies samples at tick boundaries by their measured time\n"
            "  --mqtt URL    live telemetry from a broker: mqtt[s]://[user:pw@]host:port/topic-filter[?qos=1]\n"
            "                (docs/telemetry.md). The run starts now and follows the wall clock; it lasts\n"
            "                --duration seconds, or until Ctrl-C\n"
            "  --bindings FILE   which sensor drives which field (twin-bindings/1); repeat for more. Default:\n"
            "                the scene's \"bindings\", else <telemetry name>.bindings.json or\n"
            "                <scene name>.bindings.json next to the first telemetry file (docs/telemetry.md)\n"
            "  --seed N      override the scene's seed (same scene + seed = same state_hash)\n"
            "  --record LOG  write a replay log (inputs, events, a keyframe every keyframe_interval);\n"
            "                `twin replay SCENE LOG` plays it back, `twin log info LOG` inspects it\n"
            "  --record-sync fdatasync the log at every flush (survives power loss; slower)\n"
            "  --quiet       no progress bar (it is drawn only on a terminal anyway)\n"
            "  --frames-every S [--width W --height H --camera C]  PNG frames of the run (offscreen\n"
            "                Vulkan) every S simulated seconds into DIR/frames/frame-<seconds>.png\n"
            "                [--colorby C.f [--colormap viridis|turbo] [--range MIN,MAX]]  coloured by a field,\n"
            "                with a labelled colour bar\n");
}

static int run_main(int argc, char **argv, tw_app_run_desc d, const char **telemetry, const char **bindings);

int cli_run(int argc, char **argv, volatile sig_atomic_t *cancel)
{
    tw_app_run_desc d = { .duration = -1.0, .cancel = cancel };
    /* At most argc of each: the lists point into argv. */
    const char **telemetry = calloc((size_t)argc + 1, sizeof *telemetry);
    const char **bindings = calloc((size_t)argc + 1, sizeof *bindings);
    if (!telemetry || !bindings) {
        free(telemetry);
        free(bindings);
        fprintf(stderr, "twin run: out of memory\n");
        return TW_EXIT_FAILURE;
    }
    d.telemetry = telemetry;
    d.bindings = bindings;
    int rc = run_main(argc, argv, d, telemetry, bindings);
    free(telemetry);
    free(bindings);
    return rc;
}

static int run_main(int argc, char **argv, tw_app_run_desc d, const char **telemetry, const char **bindings)
{
    int quiet = 0;
    cli_frames frames = { 0 }; /* --frames-every (cli_render.c) */
    int fo;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            run_usage(stdout);
            return TW_EXIT_OK;
        } else if (!strcmp(a, "--out") && has_value) {
            d.out_dir = argv[++i];
        } else if (!strcmp(a, "--duration") && has_value) {
            if (cli_parse_double(argv[++i], &d.duration)) {
                fprintf(stderr, "twin run: --duration needs a number of seconds >= 0, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--seed") && has_value) {
            unsigned long long v;
            if (cli_parse_u64(argv[++i], &v)) {
                fprintf(stderr, "twin run: --seed needs a non-negative integer, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
            d.has_seed = 1;
            d.seed = v;
        } else if (!strcmp(a, "--telemetry") && has_value) {
            telemetry[d.telemetry_count++] = argv[++i];
        } else if (!strcmp(a, "--mqtt") && has_value) {
            if (d.mqtt_url) {
                fprintf(stderr, "twin run: one --mqtt URL (one broker; a URL may hold several topic filters)\n");
                return TW_EXIT_USAGE;
            }
            d.mqtt_url = argv[++i];
        } else if (!strcmp(a, "--bindings") && has_value) {
            bindings[d.bindings_count++] = argv[++i];
        } else if (!strcmp(a, "--record") && has_value) {
            d.record_path = argv[++i];
        } else if (!strcmp(a, "--record-sync")) {
            d.record_sync = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if ((fo = cli_frames_option(&frames, argc, argv, &i)) != 0) {
            if (fo < 0) return TW_EXIT_USAGE;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "twin run: unknown or incomplete option \"%s\"\n", a);
            run_usage(stderr);
            return TW_EXIT_USAGE;
        } else if (!d.scene_path) {
            d.scene_path = a;
        } else {
            fprintf(stderr, "twin run: one scene only (got \"%s\" and \"%s\")\n", d.scene_path, a);
            return TW_EXIT_USAGE;
        }
    }
    if (!d.scene_path || !d.out_dir) {
        fprintf(stderr, "twin run: %s\n", !d.scene_path ? "missing SCENE" : "missing --out DIR");
        run_usage(stderr);
        return TW_EXIT_USAGE;
    }
    if (d.bindings_count && !d.telemetry_count && !d.mqtt_url) {
        fprintf(stderr, "twin run: --bindings says how telemetry drives the scene: give --telemetry FILE or --mqtt URL too\n");
        return TW_EXIT_USAGE;
    }
    if (d.mqtt_url && d.telemetry_count) {
        fprintf(stderr, "twin run: --mqtt (live) and --telemetry (recorded) do not mix in one run\n");
        return TW_EXIT_USAGE;
    }
    int stdin_count = 0;
    for (uint32_t i = 0; i < d.telemetry_count; i++) stdin_count += !strcmp(telemetry[i], "-");
    if (stdin_count > 1) {
        fprintf(stderr, "twin run: standard input (\"-\") can be read once only\n");
        return TW_EXIT_USAGE;
    }
    d.progress = !quiet && isatty(STDERR_FILENO);
    tw_app_run_result r;
    tw_diag diag;
    tw_diag_clear(&diag);
    if ((fo = cli_frames_start(&frames, &d))) return fo;
    tw_status st = tw_app_run(&d, &r, &diag);
    if ((fo = cli_frames_finish(&frames, st, &diag))) return fo;
    if (st) {
        cli_print_diag(&diag);
        if (st == TW_ERR_IO || st == TW_ERR_NOMEM) return TW_EXIT_FAILURE;
        return r.ticks ? TW_EXIT_FAILURE : TW_EXIT_BAD_INPUT;
    }
    char hash[17];
    tw_app_format_hash(r.state_hash, hash);
    printf("%s %.0f s simulated in %.2f s (x%.0f real time), %llu ticks, state_hash %s, %u alarm events\n",
           r.interrupted ? "interrupted:" : "done:", r.sim_time, r.wall_time, r.real_time_factor,
           (unsigned long long)r.ticks, hash, r.alarm_events);
    if (r.has_telemetry) {
        const tw_bind_counters *c = &r.telemetry;
        printf("telemetry: %llu samples received, %llu applied, %llu rejected, %llu late, %llu duplicate, "
               "%llu of unknown sensors, %llu stale fields (details in summary.json)\n",
               (unsigned long long)c->received, (unsigned long long)c->applied, (unsigned long long)c->rejected,
               (unsigned long long)c->late, (unsigned long long)c->duplicate, (unsigned long long)c->unknown_sensor,
               (unsigned long long)c->stale_fields);
    }
    printf("output: %s (kpis.csv, events.csv, summary.json)\n", d.out_dir);
    if (d.record_path) printf("log: %s (%llu bytes)\n", d.record_path, (unsigned long long)r.log_bytes);
    return r.interrupted ? TW_EXIT_INTERRUPTED : TW_EXIT_OK;
}
