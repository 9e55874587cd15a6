/* The `twin` command: dispatches to the subcommands. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "cli.h"
#include "twin/app.h"

/* The one piece of process state: set by SIGINT/SIGTERM so a long run stops
 * cleanly and still writes its summary. */
static volatile sig_atomic_t cancel_requested;

static void on_signal(int sig)
{
    (void)sig;
    cancel_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: twin <command> [options]\n"
            "\n"
            "commands:\n"
            "  run SCENE --out DIR [--duration S] [--seed N] [--telemetry FILE [--bindings FILE]] [--record LOG]\n"
            "                           simulate headless, driven by telemetry if given; writes kpis.csv,\n"
            "                           events.csv, summary.json\n"
            "  replay SCENE LOG --out DIR [--from T] [--to T] [--speed X]\n"
            "                           play a recorded log back headless (seek with --from)\n"
            "  whatif SCENE LOG --scenario FILE --from T [--to T] --out DIR\n"
            "                           fork a recorded run, apply a scenario, compare with the baseline\n"
            "  log info|dump|convert|repair LOG\n"
            "                           inspect, convert and repair replay logs\n"
            "  render SCENE --out FILE.png [--at T] [--camera C] [--colorby C.f] ...\n"
            "                           one headless frame (Vulkan, offscreen) to PNG\n"
            "  view SCENE [--speed X] [--at T] [--frames N --script FILE --screenshot FILE]\n"
            "                           the desktop viewer: a window, live simulation, inspector\n"
            "  check SCENE [--bindings FILE] [--sensors]\n"
            "                           validate a scene and its telemetry bindings, print a summary\n"
            "  fmt SCENE [--out FILE | --in-place | --check]\n"
            "                           rewrite a scene in canonical form\n"
            "  bench ecs|sim|bind|replay|render|all [--quick]\n"
            "                           benchmarks, one JSON object a line\n"
            "  version                  print the version\n"
            "\n"
            "`twin <command> --help` explains each. Exit codes: 0 ok, 1 run failed, 2 bad command line,\n"
            "3 invalid input (scene), 130 interrupted. Docs: docs/cli.md.\n");
}

void cli_print_diag(const struct tw_diag *d)
{
    char msg[2048];
    tw_diag_format(d, msg, sizeof msg);
    fprintf(stderr, "twin: error: %s\n", msg);
}

int cli_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e12) return -1;
    *out = v;
    return 0;
}

int cli_parse_u64(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (*s == '-') return -1;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

/* The benchmark suites, in the order `twin bench all` runs them. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    int in_all; /* render needs a Vulkan device: asked for by name only */
} bench_suites[] = {
    { "ecs", bench_ecs, 1 }, { "sim", bench_sim, 1 }, { "bind", bench_bind, 1 },
    { "replay", bench_replay, 1 }, { "render", bench_render, 0 },
};

static int run_bench(int argc, char **argv)
{
    const size_t n = sizeof bench_suites / sizeof bench_suites[0];
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: twin bench SUITE|all [--quick]\nsuites:");
        for (size_t i = 0; i < n; i++) fprintf(f, " %s", bench_suites[i].name);
        fprintf(f, "\nEach prints JSON lines (bench, value, unit, baseline, ratio, target, met); see docs/benchmarks.md.\n");
        return argc < 2 ? TW_EXIT_USAGE : TW_EXIT_OK;
    }
    int all = !strcmp(argv[1], "all"), rc = 0, found = 0;
    for (size_t i = 0; i < n; i++) {
        if (all ? !bench_suites[i].in_all : strcmp(argv[1], bench_suites[i].name) != 0) continue;
        found = 1;
        int r = bench_suites[i].run(argc - 1, argv + 1);
        if (!rc) rc = r;
    }
    if (!found) {
        fprintf(stderr, "twin: unknown benchmark suite \"%s\" (twin bench --help lists them)\n", argv[1]);
        return TW_EXIT_USAGE;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TW_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return TW_EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("twin 0.1.0\n");
        return TW_EXIT_OK;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (!strcmp(cmd, "run")) return cli_run(argc - 1, argv + 1, &cancel_requested);
    if (!strcmp(cmd, "check")) return cli_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "fmt")) return cli_fmt(argc - 1, argv + 1);
    if (!strcmp(cmd, "replay")) return cli_replay(argc - 1, argv + 1, &cancel_requested);
    if (!strcmp(cmd, "log")) return cli_log(argc - 1, argv + 1);
    if (!strcmp(cmd, "whatif")) return cli_whatif(argc - 1, argv + 1, &cancel_requested);
    if (!strcmp(cmd, "render")) return cli_render(argc - 1, argv + 1, &cancel_requested);
    if (!strcmp(cmd, "view")) return cli_view(argc - 1, argv + 1, &cancel_requested);
    if (!strcmp(cmd, "bench")) return run_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "import")) {
        fprintf(stderr, "twin: \"%s\" is not built yet in this version (see docs/cli.md for what exists)\n", cmd);
        return TW_EXIT_USAGE;
    }
    fprintf(stderr, "twin: unknown command \"%s\"\n\n", cmd);
    usage(stderr);
    return TW_EXIT_USAGE;
}
