/* Command entry points. Each takes argv with argv[0] = the command name and
 * returns the process exit status. */
#ifndef STRAIN_CLI_CLI_H
#define STRAIN_CLI_CLI_H

#include "core/version.h"

/* Exit codes; k6's where k6 has one (docs/error-codes.md). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,          /* a failure that is not the plan's or the user's */
	CLI_EXIT_USAGE = 2,          /* bad command line (unknown flag, bad value) */
	CLI_EXIT_THRESHOLDS = 99,    /* thresholds failed */
	CLI_EXIT_BAD_CONFIG = 104,   /* invalid plan or configuration */
	CLI_EXIT_INTERRUPTED = 105,  /* stopped by SIGINT/SIGTERM */
	CLI_EXIT_SETUP = 107,        /* could not start (target unresolvable, output unwritable) */
};

int cli_run_main(int argc, char **argv);
int cli_target_main(int argc, char **argv);
int cli_demo_main(int argc, char **argv);
int cli_validate_main(int argc, char **argv);
int cli_version_main(int argc, char **argv);
int cli_help_main(int argc, char **argv);

#endif
