/* tools/cli.h: the `twin` subcommands. Each takes its own argv (argv[0] is
 * the subcommand name) and returns the process exit code (twin/app.h). */
#ifndef TWIN_CLI_H
#define TWIN_CLI_H

#include <signal.h>
#include <stdint.h>

int cli_run(int argc, char **argv, volatile sig_atomic_t *cancel);
int cli_check(int argc, char **argv);
int cli_fmt(int argc, char **argv);
int cli_replay(int argc, char **argv, volatile sig_atomic_t *cancel);
int cli_log(int argc, char **argv);
int cli_whatif(int argc, char **argv, volatile sig_atomic_t *cancel);
int cli_render(int argc, char **argv, volatile sig_atomic_t *cancel);
int cli_view(int argc, char **argv, volatile sig_atomic_t *cancel);

/* `twin run --frames-every S [--width W] [--height H] [--camera C]
 * [--colorby C.f [--colormap M] [--range MIN,MAX]]`: PNG frames during a run
 * through the offscreen renderer (cli_render.c). */
typedef struct cli_frames {
    double every;              /* s of simulated time; 0: no frames */
    unsigned width, height;
    const char *camera;
    const char *out_dir;
    struct tw_view_frames *f;
    int failed;                /* the frame hook stopped the run */
    const char *colorby;       /* NULL: no colour by data */
    int colormap;              /* tw_render_colormap; 0: viridis */
    float range_min, range_max; /* equal: automatic */
    int attached;              /* the view made (and --colorby checked) at the first tick */
    int usage;                 /* --colorby named no numeric field: exit 2 */
} cli_frames;
/* Takes a frames option at argv[*i] (advancing *i): 1 taken, 0 not one, -1 bad (message printed). */
int cli_frames_option(cli_frames *fr, int argc, char **argv, int *i);
/* With --frames-every: starts the renderer and hooks it into d. Returns an exit code (0: go on). */
struct tw_app_run_desc;
struct tw_diag;
int cli_frames_start(cli_frames *fr, struct tw_app_run_desc *d);
/* After the run: frees the renderer; when the frames stopped the run, prints why and returns 1. */
int cli_frames_finish(cli_frames *fr, int run_status, const struct tw_diag *diag);
/* The frame options twin render, run --frames-every and whatif --frames-at share (cli_render.c);
 * each returns 0 on success (cli_camera_spec_ok: 1 when good), the caller says what was wrong. */
int cli_parse_pixels(const char *s, uint32_t *out);          /* --width/--height: 16..16384 */
int cli_parse_range(const char *s, float *lo, float *hi);    /* --range MIN,MAX, finite, MIN < MAX */
int cli_parse_colormap(const char *s, int *out);             /* --colormap viridis|turbo: tw_render_colormap */
int cli_camera_spec_ok(const char *spec);                    /* --camera PRESET or ex,ey,ez,tx,ty,tz */

/* Prints "twin: <diag>" for a failed load or run to stderr. */
struct tw_diag;
void cli_print_diag(const struct tw_diag *d);
/* Parses a non-negative number; returns 0 on success. */
int cli_parse_double(const char *s, double *out);
int cli_parse_u64(const char *s, unsigned long long *out);

#endif
