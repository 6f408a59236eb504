/* strain validate PLAN: checks a plan without sending anything. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "plan/plan.h"

#define MAX_ENV 128

int cli_validate_main(int argc, char **argv)
{
	args a;
	const char *plan = NULL, *envs[MAX_ENV], *strategy = NULL;
	uint32_t nenv = 0;
	int kind, rc;
	run_config cfg;
	plan_errors errs;
	plan_opts po;

	args_init(&a, "validate", argc, argv);
	while ((kind = args_next(&a))) {
		if (kind == 2) {
			plan = a.value;
		} else if (args_is(&a, "--help", "-h")) {
			printf("Usage: strain validate PLAN.yaml [-e KEY=VALUE]... [--strategy S]\n\n"
			       "Checks the whole plan and prints every problem as FILE:LINE:COL: message.\n"
			       "Exit status 0 when valid, 104 when not.\n");
			return 0;
		} else if (args_is(&a, "--env", "-e")) {
			const char *kv = args_value(&a);

			if (!kv || !strchr(kv, '=') || nenv == MAX_ENV) {
				args_error(&a, "expected KEY=VALUE");
				return CLI_EXIT_BAD_CONFIG;
			}
			envs[nenv++] = kv;
		} else if (args_is(&a, "--strategy", NULL)) {
			if (!(strategy = args_value(&a)))
				return CLI_EXIT_BAD_CONFIG;
		} else {
			fprintf(stderr, "strain validate: unknown flag %s\n", a.flag);
			return CLI_EXIT_USAGE;
		}
	}
	if (!plan) {
		fprintf(stderr, "strain validate: give a plan file\n");
		return CLI_EXIT_USAGE;
	}
	po = (plan_opts){strategy, 1, NULL, 0, envs, nenv};
	run_config_init(&cfg);
	if (plan_load(plan, &po, &cfg, &errs) < 0) {
		plan_errors_print(&errs, stderr);
		plan_errors_free(&errs);
		rc = CLI_EXIT_BAD_CONFIG;
	} else {
		printf("%s: ok (%u modules, %u requests, %u checks, %u thresholds)\n", plan, cfg.nscenarios, cfg.nreqs,
		       cfg.nchecks, cfg.nthresholds);
		rc = 0;
	}
	run_config_free(&cfg);
	return rc;
}
