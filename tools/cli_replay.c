/* `twin replay`: play a recorded log against its scene, headless. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "twin/app.h"

static void replay_usage(FILE *f)
{
    fprintf(f,
            "usage: twin replay SCENE LOG --out DIR [--from T] [--to T] [--speed X] [--no-verify] [--quiet]\n"
            "\n"
            "Replays LOG (written by `twin run --record`) against SCENE, the scene it was recorded from,\n"
            "and writes the same files as `twin run` into DIR (kpis.csv, events.csv, summary.json).\n"
            "A replay of a whole run gives the recorded run's KPIs and state_hash exactly. Telemetry\n"
            "recorded with the run is applied again through the bindings the log keeps.\n"
            "\n"
            "  --from T     start at T seconds of simulated time: restores the latest keyframe at or\n"
            "               before T and plays the recorded inputs up to T (default 0)\n"
            "  --to T       stop at T seconds (default: where the log ends)\n"
            "  --speed X    pace the replay to X times real time (default: as fast as possible)\n"
            "  --no-verify  do not compare the state with the keyframes passed on the way\n"
            "  --quiet      no progress bar\n"
            "\n"
            "Exit codes: 0 ok, 1 the replay failed (or diverged from the recording), 2 bad command line,\n"
            "3 the scene or log is invalid, or the log belongs to another scene, 130 interrupted.\n");
}

int cli_replay(int argc, char **argv, volatile sig_atomic_t *cancel)
{
    tw_app_replay_desc d = { .to = -1.0, .verify = 1, .cancel = cancel };
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        double *num = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            replay_usage(stdout);
            return TW_EXIT_OK;
        } else if (!strcmp(a, "--out") && has_value) {
            d.out_dir = argv[++i];
        } else if (!strcmp(a, "--from") && has_value) {
            num = &d.from;
        } else if (!strcmp(a, "--to") && has_value) {
            num = &d.to;
        } else if (!strcmp(a, "--speed") && has_value) {
            num = &d.speed;
        } else if (!strcmp(a, "--no-verify")) {
            d.verify = 0;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "twin replay: unknown or incomplete option \"%s\"\n", a);
            replay_usage(stderr);
            return TW_EXIT_USAGE;
        } else if (!d.scene_path) {
            d.scene_path = a;
        } else if (!d.log_path) {
            d.log_path = a;
        } else {
            fprintf(stderr, "twin replay: one scene and one log only (got \"%s\" too)\n", a);
            return TW_EXIT_USAGE;
        }
        if (num && cli_parse_double(argv[++i], num)) {
            fprintf(stderr, "twin replay: %s needs a number >= 0, got \"%s\"\n", a, argv[i]);
            return TW_EXIT_USAGE;
        }
        if (num == &d.speed && !(d.speed > 0)) {
            fprintf(stderr, "twin replay: --speed needs a factor above 0, got \"%s\"\n", argv[i]);
            return TW_EXIT_USAGE;
        }
    }
    if (!d.scene_path || !d.log_path || !d.out_dir) {
        fprintf(stderr, "twin replay: %s\n", !d.scene_path ? "missing SCENE" : !d.log_path ? "missing LOG" : "missing --out DIR");
        replay_usage(stderr);
        return TW_EXIT_USAGE;
    }
    d.progress = !quiet && isatty(STDERR_FILENO);
    tw_app_run_result r;
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st = tw_app_replay(&d, &r, &diag);
    if (st) {
        cli_print_diag(&diag);
        if (st == TW_ERR_IO || st == TW_ERR_NOMEM || st == TW_ERR_STATE) return TW_EXIT_FAILURE;
        return r.ticks ? TW_EXIT_FAILURE : TW_EXIT_BAD_INPUT;
    }
    char hash[17];
    tw_app_format_hash(r.state_hash, hash);
    printf("%s replayed to %.0f s in %.2f s (x%.0f real time), state_hash %s, %u alarm events\n",
           r.interrupted ? "interrupted:" : "done:", r.sim_time, r.wall_time, r.real_time_factor, hash, r.alarm_events);
    if (r.has_telemetry)
        printf("telemetry: %llu recorded samples replayed, %llu applied (details in summary.json)\n",
               (unsigned long long)r.telemetry.received, (unsigned long long)r.telemetry.applied);
    printf("output: %s (kpis.csv, events.csv, summary.json)\n", d.out_dir);
    return r.interrupted ? TW_EXIT_INTERRUPTED : TW_EXIT_OK;
}
