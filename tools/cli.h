/* tools/cli.h: the `twin` subcommands. Each takes its own argv (argv[0] is
 * the subcommand name) and returns the process exit code (twin/app.h). */
#ifndef TWIN_CLI_H
#define TWIN_CLI_H

#include <signal.h>

int cli_run(int argc, char **argv, volatile sig_atomic_t *cancel);
int cli_check(int argc, char **argv);
int cli_fmt(int argc, char **argv);
int cli_replay(int argc, char **argv, volatile sig_atomic_t *cancel);
int cli_log(int argc, char **argv);
int cli_whatif(int argc, char **argv, volatile sig_atomic_t *cancel);

/* Prints "twin: <diag>" for a failed load or run to stderr. */
struct tw_diag;
void cli_print_diag(const struct tw_diag *d);
/* Parses a non-negative number; returns 0 on success. */
int cli_parse_double(const char *s, double *out);
int cli_parse_u64(const char *s, unsigned long long *out);

#endif
