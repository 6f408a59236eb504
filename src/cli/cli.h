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
	CLI_EXIT_REGRESSION = 3,     /* strain compare: a --fail-on limit failed */
	CLI_EXIT_BAD_INPUT = 4,      /* strain compare: a file is not a readable summary */
	CLI_EXIT_THRESHOLDS = 99,    /* thresholds failed */
	CLI_EXIT_BAD_CONFIG = 104,   /* invalid plan or configuration */
	CLI_EXIT_INTERRUPTED = 105,  /* stopped by SIGINT/SIGTERM */
	CLI_EXIT_SETUP = 107,        /* could not start (target unresolvable, output unwritable) */
};

/* How a command ended, as the command sees it. cli_exit_code is the one
 * place that turns an outcome into a process exit status; lower layers
 * return outcomes of their own (suite_outcome), never exit codes. */
typedef enum cli_outcome {
	CLI_DONE = 0,     /* finished */
	CLI_HELP,         /* help was asked for and printed */
	CLI_USAGE,        /* unknown flag, missing value, repeated flag, stray argument */
	CLI_BAD_VALUE,    /* a value, file or combination that is not a valid configuration */
	CLI_CANNOT_START, /* the command could not start (a port, a file to write) */
	CLI_FAILED,       /* a failure that is not the user's */
	CLI_THRESHOLDS,   /* a run's threshold failed (or aborted it) */
	CLI_INTERRUPTED,  /* a run was stopped by a signal */
	CLI_REGRESSION,   /* a comparison found a regression */
	CLI_BAD_INPUT,    /* an input file (a summary) could not be read */
} cli_outcome;

static inline int cli_exit_code(cli_outcome o)
{
	switch (o) {
	case CLI_DONE:
	case CLI_HELP:
		return CLI_EXIT_OK;
	case CLI_USAGE:
		return CLI_EXIT_USAGE;
	case CLI_BAD_VALUE:
		return CLI_EXIT_BAD_CONFIG;
	case CLI_CANNOT_START:
		return CLI_EXIT_SETUP;
	case CLI_THRESHOLDS:
		return CLI_EXIT_THRESHOLDS;
	case CLI_INTERRUPTED:
		return CLI_EXIT_INTERRUPTED;
	case CLI_REGRESSION:
		return CLI_EXIT_REGRESSION;
	case CLI_BAD_INPUT:
		return CLI_EXIT_BAD_INPUT;
	case CLI_FAILED:
		break;
	}
	return CLI_EXIT_ERROR;
}

int cli_run_main(int argc, char **argv);
int cli_target_main(int argc, char **argv);
int cli_demo_main(int argc, char **argv);
int cli_validate_main(int argc, char **argv);
int cli_compare_main(int argc, char **argv);
int cli_capacity_main(int argc, char **argv);
int cli_report_main(int argc, char **argv);
int cli_collect_main(int argc, char **argv);
int cli_merge_main(int argc, char **argv);
int cli_version_main(int argc, char **argv);
int cli_help_main(int argc, char **argv);

#endif
