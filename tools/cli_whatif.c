/* `twin whatif`: fork a recorded run, change something, compare. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "twin/app.h"
#include "twin/view.h"

enum { WHATIF_FRAMES_MAX = 256 };

/* --frames-at and the options that shape the frames. The renderer is only
 * started when --frames-at is given: a what-if without frames runs on a
 * machine with no Vulkan at all. */
typedef struct whatif_frames {
    double at[WHATIF_FRAMES_MAX];
    uint32_t count;
    uint32_t width, height;
    const char *camera, *colorby, *isolate;
    int colormap;              /* tw_render_colormap; 0: viridis */
    float range_min, range_max; /* equal: one automatic range over both worlds */
    tw_view_frames *f;
    int attached[2];           /* each world's view made (and its options checked) at the fork */
    int usage;                 /* the hook failed on an option (--colorby, --isolate): exit 2 */
    /* The baseline's frame is drawn with the scenario's, one colour scale for both. */
    tw_app_session *base;
    char base_path[1200];
} whatif_frames;

/* Writes each world's frame when the what-if asks for one; at the fork,
 * makes both views at once so a bad --colorby or --isolate fails before the
 * run rather than at the first frame. */
static tw_status whatif_frame_hook(void *user, const tw_app_whatif_tick *t, tw_diag *diag)
{
    whatif_frames *fr = user;
    tw_status st = TW_OK;
    if (!fr->attached[t->side]) {
        st = tw_view_frames_attach(fr->f, t->session->world, t->session->sim, diag);
        if (st == TW_ERR_NOT_FOUND || st == TW_ERR_INVALID) fr->usage = 1;
        if (st) return st;
        fr->attached[t->side] = 1;
    }
    if (!t->frame_path) return TW_OK;
    if (t->side == TW_APP_WHATIF_BASELINE) {
        /* Both hooks of a tick run before either world steps on: the
         * baseline is still at this time when the scenario's hook comes. */
        fr->base = t->session;
        snprintf(fr->base_path, sizeof fr->base_path, "%s", t->frame_path);
        return TW_OK;
    }
    if (!fr->base) {
        tw_diag_set(diag, "the scenario's frame came without the baseline's");
        return TW_ERR_STATE;
    }
    tw_ecs_world *w[2] = { fr->base->world, t->session->world };
    const tw_sim *sim[2] = { fr->base->sim, t->session->sim };
    const char *path[2] = { fr->base_path, t->frame_path };
    float range[2];
    fr->base = NULL;
    st = tw_view_frames_write_pair(fr->f, w, sim, path, range, diag);
    if (!st && fr->colorby)
        printf("frames at %g s: %s from %g to %g (both worlds, bottom to top of the bar)\n", tw_sim_time(sim[1]),
               fr->colorby, range[0], range[1]);
    return st;
}

/* "T[,T...]" appended to fr->at; -1 with a message when bad. */
static int parse_times(whatif_frames *fr, const char *list)
{
    const char *p = list;
    for (;;) {
        char item[64];
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof item) goto bad;
        memcpy(item, p, n);
        item[n] = '\0';
        if (fr->count == WHATIF_FRAMES_MAX) {
            fprintf(stderr, "twin whatif: --frames-at takes at most %d times\n", WHATIF_FRAMES_MAX);
            return -1;
        }
        if (cli_parse_double(item, &fr->at[fr->count])) goto bad;
        fr->count++;
        if (!p[n]) return 0;
        p += n + 1;
    }
bad:
    fprintf(stderr, "twin whatif: --frames-at needs seconds of simulated time >= 0, separated by commas, got \"%s\"\n",
            list);
    return -1;
}

static void whatif_usage(FILE *f)
{
    fprintf(f,
            "usage: twin whatif SCENE LOG --scenario FILE --from T [--to T] --out DIR [--quiet]\n"
            "                   [--frames-at T[,T...] [--camera PRESET|ex,ey,ez,tx,ty,tz] [--width W --height H]\n"
            "                   [--colorby Component.field [--colormap viridis|turbo] [--range MIN,MAX]]\n"
            "                   [--isolate STOREY]]\n"
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
            "  frames/        with --frames-at: baseline-<T>.png, scenario-<T>.png and compare-<T>.png\n"
            "                 (the two side by side, captioned) at each time T\n"
            "\n"
            "  --frames-at T[,T...]  render both worlds offscreen (Vulkan; lavapipe without a GPU) at these\n"
            "                 simulated times, each between --from and --to\n"
            "  --camera C     home (default), top, front, side, or ex,ey,ez,tx,ty,tz (as twin render)\n"
            "  --width W, --height H   pixels of each world's frame (default 1280 x 720)\n"
            "  --colorby C.f  colour by a numeric field (Thermal.temperature, Air.co2, ...), one colour\n"
            "                 scale for both worlds (printed), or --range MIN,MAX; --colormap viridis|turbo\n"
            "  --isolate PATH show one storey (hq/office/floor-2)\n"
            "\n"
            "Exit codes: 0 ok, 1 failed, 2 bad command line, 3 invalid scene, log or scenario.\n");
}

int cli_whatif(int argc, char **argv, volatile sig_atomic_t *cancel)
{
    tw_app_whatif_desc d = { .to = -1.0, .cancel = cancel };
    int quiet = 0, have_from = 0, frame_opts = 0;
    whatif_frames fr;
    memset(&fr, 0, sizeof fr);
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
        } else if (!strcmp(a, "--frames-at") && has_value) {
            if (parse_times(&fr, argv[++i])) return TW_EXIT_USAGE;
        } else if ((!strcmp(a, "--width") || !strcmp(a, "--height")) && has_value) {
            if (cli_parse_pixels(argv[++i], a[2] == 'w' ? &fr.width : &fr.height)) {
                fprintf(stderr, "twin whatif: %s needs a number of pixels in 16..16384, got \"%s\"\n", a, argv[i]);
                return TW_EXIT_USAGE;
            }
            frame_opts = 1;
        } else if (!strcmp(a, "--camera") && has_value) {
            fr.camera = argv[++i];
            if (!cli_camera_spec_ok(fr.camera)) {
                fprintf(stderr, "twin whatif: --camera is home, top, front, side or ex,ey,ez,tx,ty,tz, got \"%s\"\n",
                        fr.camera);
                return TW_EXIT_USAGE;
            }
            frame_opts = 1;
        } else if (!strcmp(a, "--colorby") && has_value) {
            fr.colorby = argv[++i];
            frame_opts = 1;
        } else if (!strcmp(a, "--colormap") && has_value) {
            if (cli_parse_colormap(argv[++i], &fr.colormap)) {
                fprintf(stderr, "twin whatif: --colormap is viridis or turbo, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
            frame_opts = 1;
        } else if (!strcmp(a, "--range") && has_value) {
            if (cli_parse_range(argv[++i], &fr.range_min, &fr.range_max)) {
                fprintf(stderr, "twin whatif: --range needs MIN,MAX with MIN < MAX, got \"%s\"\n", argv[i]);
                return TW_EXIT_USAGE;
            }
            frame_opts = 1;
        } else if (!strcmp(a, "--isolate") && has_value) {
            fr.isolate = argv[++i];
            frame_opts = 1;
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
    if (frame_opts && !fr.count) {
        fprintf(stderr, "twin whatif: --camera, --width, --height, --colorby, --colormap, --range and --isolate are "
                        "for frames: give --frames-at T too\n");
        return TW_EXIT_USAGE;
    }
    /* Times outside the run are refused before anything starts; without
     * --to the log's end is known only once it is open (tw_app_whatif). */
    for (uint32_t k = 0; k < fr.count; k++)
        if (fr.at[k] < d.from || (d.to >= 0 && fr.at[k] > d.to)) {
            fprintf(stderr, "twin whatif: --frames-at %g s lies outside the run, from --from %g s to %s%g s\n", fr.at[k],
                    d.from, d.to >= 0 ? "--to " : "the log's end", d.to >= 0 ? d.to : NAN);
            return TW_EXIT_USAGE;
        }
    d.progress = !quiet && isatty(STDERR_FILENO);
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st;
    if (fr.count) {
        char dir[1100];
        snprintf(dir, sizeof dir, "%s/frames", d.out_dir);
        tw_view_frames_desc fd = { .dir = dir, .every = 0, .width = fr.width, .height = fr.height,
                                   .camera = fr.camera, .style = { .colorby = fr.colorby, .colormap = fr.colormap,
                                              .range_min = fr.range_min, .range_max = fr.range_max },
                                   .scene_path = d.scene_path, .isolate_path = fr.isolate };
        if ((st = tw_view_frames_new(&fd, &fr.f, &diag))) {
            fprintf(stderr, "twin whatif: --frames-at: %s\n", diag.message);
            return TW_EXIT_FAILURE;
        }
        d.frames_at = fr.at;
        d.frames_at_count = fr.count;
        d.on_tick = whatif_frame_hook;
        d.on_tick_user = &fr;
    }
    tw_app_whatif_result r;
    st = tw_app_whatif(&d, &r, &diag);
    tw_view_frames_free(fr.f);
    if (st) {
        if (fr.usage) {
            fprintf(stderr, "twin whatif: --colorby or --isolate: %s\n", diag.message);
            return TW_EXIT_USAGE;
        }
        cli_print_diag(&diag);
        if (r.bad_request) return TW_EXIT_USAGE;
        if (st == TW_ERR_IO || st == TW_ERR_NOMEM || st == TW_ERR_STATE) return TW_EXIT_FAILURE;
        return r.baseline.ticks ? TW_EXIT_FAILURE : TW_EXIT_BAD_INPUT;
    }
    char ha[17], hb[17];
    tw_app_format_hash(r.baseline.state_hash, ha);
    tw_app_format_hash(r.scenario.state_hash, hb);
    printf("%s %u changes applied (%u failed); baseline state_hash %s, scenario %s\n",
           r.baseline.interrupted ? "interrupted:" : "done:", r.changes_applied, r.changes_failed, ha, hb);
    printf("output: %s (compare.csv, compare.json, %u charts in charts/, baseline/, scenario/)\n", d.out_dir, r.charts);
    if (fr.count)
        printf("frames: both worlds at %u time%s, %u side by side, in %s/frames\n", r.frames, r.frames == 1 ? "" : "s",
               r.compares, d.out_dir);
    return r.baseline.interrupted ? TW_EXIT_INTERRUPTED : TW_EXIT_OK;
}
