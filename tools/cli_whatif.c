/* `twin whatif`: fork a recorded run, change something, compare. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "twin/app.h"

static void whatif_usage(FILE *f)
{
    fprintf(f,
            "usage: twin whatif SCENE LOG --scenario FILE --from T [--to T] --out DIR [--quiet]\n"
            "\n"
            "Forks the run recorded in LOG (`twin run --record`) at T seconds into two worlds in one\n"
            "process: the baseline replays the log as recorded; the scenario replays it with the changes\n"
            "of FILE (twin-scenario/1, docs/whatif.md) applied at the fork (or at their \"at\" times).\n"
            "Telemetry recorded in LOG is replayed in both; \"override\" and \"silence\" changes act on it.\n"
            "Both run to --to (default: where the log ends). Writes into DIR:\n"
            "  compare.csv    kpi,baseline,scenario,delta,delta_pct  (final values)\n"
            "  compare.json   the same with mean/min/max, both state hashes and the changes\n"
            "  charts/        one PNG per KPI: both worlds over time (when built with cairo)\n"
            "  baseline/, scenario/   each world's kpis.csv, events.csv, summary.json\n"
            "\n"
            "Exit codes: 0 ok, 1 failed, 2 bad command line, 3 invalid scene, log or scenario.\n");
}

int cli_whatif(int argc, char **argv, volatile sig_atomic_t *cancel)
{
    tw_app_whatif_desc d = { .to = -1.0, .cancel = cancel };
    int quiet = 0, have_from = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            whatif_usage(stdout);
            return TW_EXIT_OK;
        } else if (!strcmp(a, "--out") && has_value) {
            d.out_dir = argv[++i];
        } else if (!strcmp(a, "--scenario") && has_value) {
            d.scenario_path = argv[++i];
        } else if ((!strcmp(a, "--from") || !strcmp(a, "--to")) && has_value) {
            double *v = !strcmp(a, "--from") ? &d.from : &d.to;
            have_from |= v == &d.from;
            if (cli_parse_double(argv[++i], v)) {
                fprintf(stderr, "twin whatif: %s needs a number of seconds >= 0, got \"%s\"\n", a, argv[i]);
                return TW_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "twin whatif: unknown or incomplete option \"%s\"\n", a);
            whatif_usage(stderr);
            return TW_EXIT_USAGE;
        } else if (!d.scene_path) {
            d.scene_path = a;
        } else if (!d.log_path) {
            d.log_path = a;
        } else {
            fprintf(stderr, "twin whatif: one scene and one log only (got \"%s\" too)\n", a);
            return TW_EXIT_USAGE;
        }
    }
    if (!d.scene_path || !d.log_path || !d.out_dir || !d.scenario_path || !have_from) {
        fprintf(stderr, "twin whatif: %s\n",
                !d.scene_path ? "missing SCENE" : !d.log_path ? "missing LOG" : !d.scenario_path ? "missing --scenario FILE"
                : !have_from ? "missing --from T" : "missing --out DIR");
        whatif_usage(stderr);
        return TW_EXIT_USAGE;
    }
    d.progress = !quiet && isatty(STDERR_FILENO);
    tw_app_whatif_result r;
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st = tw_app_whatif(&d, &r, &diag);
    if (st) {
        cli_print_diag(&diag);
        if (st == TW_ERR_IO || st == TW_ERR_NOMEM || st == TW_ERR_STATE) return TW_EXIT_FAILURE;
        return r.baseline.ticks ? TW_EXIT_FAILURE : TW_EXIT_BAD_INPUT;
    }
    char ha[17], hb[17];
    tw_app_format_hash(r.baseline.state_hash, ha);
    tw_app_format_hash(r.scenario.state_hash, hb);
    printf("%s %u changes applied (%u failed); baseline state_hash %s, scenario %s\n",
           r.baseline.interrupted ? "interrupted:" : "done:", r.changes_applied, r.changes_failed, ha, hb);
    printf("output: %s (compare.csv, compare.json, %u charts in charts/, baseline/, scenario/)\n", d.out_dir, r.charts);
    return r.baseline.interrupted ? TW_EXIT_INTERRUPTED : TW_EXIT_OK;
}
