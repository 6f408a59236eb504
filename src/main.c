/* strain: command dispatch. Each command lives in src/cli/. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"run", cli_run_main, "generate load: a plan file, or a quick test with --url"},
	{"target", cli_target_main, "serve the built-in demo API with fault endpoints"},
	{"validate", cli_validate_main, "check a plan file; errors as FILE:LINE:COL"},
	{"capacity", cli_capacity_main, "per module, the highest arrival rate its objectives hold at"},
	{"compare", cli_compare_main, "compare two summaries; exit 3 on a regression (a CI gate)"},
	{"report", cli_report_main, "the HTML report of a run, from its summary export"},
	{"collect", cli_collect_main, "merge the live metrics of N instances (run --collector URL)"},
	{"merge", cli_merge_main, "merge the summaries of a run split into execution segments"},
	{"demo", cli_demo_main, "the whole story against the built-in target"},
	{"version", cli_version_main, "print the version"},
	{"help", cli_help_main, "help for a command"},
};

int cli_help_main(int argc, char **argv)
{
	size_t i;

	if (argc > 1) {
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (strcmp(argv[1], commands[i].name) == 0 && commands[i].fn != cli_help_main) {
				char *args[] = {argv[1], "--help", NULL};

				return commands[i].fn(2, args);
			}
		fprintf(stderr, "strain help: unknown command '%s'\n", argv[1]);
		return cli_exit_code(CLI_USAGE);
	}
	printf("strain — load testing for HTTP APIs\n\nUsage: strain COMMAND [ARGS]\n\nCommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-8s %s\n", commands[i].name, commands[i].summary);
	printf("\nRun 'strain help COMMAND' for a command's flags.\n");
	return 0;
}

int cli_version_main(int argc, char **argv)
{
	printf("strain %s\n", STRAIN_VERSION);
	return 0;
}

/* Started with stdin, stdout or stderr closed (`strain run ... >&- 2>&-`),
 * the next file or socket opened would take that number, and the summary
 * or a message would be written into an output file or onto a connection
 * to the target. /dev/null holds the place instead. */
static void std_fds_hold(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* open() returns the lowest free number: this one. */
		if (open("/dev/null", fd ? O_WRONLY : O_RDONLY) < 0)
			return;
	}
}

int main(int argc, char **argv)
{
	size_t i;

	/* A closed stdout or stderr (`strain run ... | head -1`) must not kill
	 * the run before the summary export and the output files are written:
	 * writes there then fail with EPIPE, which is ignored, and the exit
	 * status stays the run's. Sockets get EPIPE instead of the signal too. */
	signal(SIGPIPE, SIG_IGN);
	std_fds_hold();
	if (argc < 2)
		return cli_help_main(1, argv);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_help_main(1, argv);
	if (strcmp(argv[1], "--version") == 0)
		return cli_version_main(1, argv);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "strain: unknown command '%s' (see 'strain help')\n", argv[1]);
	return cli_exit_code(CLI_USAGE);
}
