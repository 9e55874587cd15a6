/* `twin run`: headless batch simulation. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "twin/app.h"

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: twin run SCENE --out DIR [--duration S] [--seed N] [--record LOG [--record-sync]] [--quiet]\n"
            "\n"
            "Simulates SCENE headless from its start time and writes into DIR:\n"
            "  kpis.csv      time_s, then one column per KPI, every kpi_interval seconds\n"
            "  events.csv    alarm transitions: time, time_s, entity, rule, value, state\n"
            "  summary.json  sim_time_s, ticks, wall_time_s, real_time_factor, state_hash, entities, KPI stats\n"
            "\n"
            "  --duration S  simulated seconds (default: the scene's simulation.duration)\n"
            "  --seed N      override the scene's seed (same scene + seed = same state_hash)\n"
            "  --record LOG  write a replay log (inputs, events, a keyframe every keyframe_interval);\n"
            "                `twin replay SCENE LOG` plays it back, `twin log info LOG` inspects it\n"
            "  --record-sync fdatasync the log at every flush (survives power loss; slower)\n"
            "  --quiet       no progress bar (it is drawn only on a terminal anyway)\n");
}

int cli_run(int argc, char **argv, volatile sig_atomic_t *cancel)
{
    tw_app_run_desc d = { .duration = -1.0, .cancel = cancel };
    int quiet = 0;
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
        } else if (!strcmp(a, "--record") && has_value) {
            d.record_path = argv[++i];
        } else if (!strcmp(a, "--record-sync")) {
            d.record_sync = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
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
    d.progress = !quiet && isatty(STDERR_FILENO);
    tw_app_run_result r;
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st = tw_app_run(&d, &r, &diag);
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
    printf("output: %s (kpis.csv, events.csv, summary.json)\n", d.out_dir);
    if (d.record_path) printf("log: %s (%llu bytes)\n", d.record_path, (unsigned long long)r.log_bytes);
    return r.interrupted ? TW_EXIT_INTERRUPTED : TW_EXIT_OK;
}
