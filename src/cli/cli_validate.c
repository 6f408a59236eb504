/* strain validate PLAN...: checks plans without sending anything. Every
 * file given is checked (like a compiler given several sources), and the
 * status is 104 if any of them is invalid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/alloc.h"
#include "plan/plan.h"

#define MAX_ENV 128

int cli_validate_main(int argc, char **argv)
{
	args a;
	const char *envs[MAX_ENV], *strategy = NULL, **plans;
	uint32_t nenv = 0, nplans = 0, i;
	int kind, rc = 0;
	plan_opts po;

	plans = xcalloc((size_t)argc + 1, sizeof(*plans));

	args_init(&a, "validate", argc, argv);
	while ((kind = args_next(&a))) {
		if (kind == 2) {
			plans[nplans++] = a.value;
		} else if (args_is(&a, "--help", "-h")) {
			printf("Usage: strain validate PLAN.yaml... [-e KEY=VALUE]... [--strategy S]\n\n"
			       "Checks each plan whole and prints every problem as FILE:LINE:COL: message.\n"
			       "Exit status 0 when all are valid, 104 when any is not.\n");
			goto out;
		} else if (args_is(&a, "--env", "-e")) {
			const char *kv = args_value(&a);

			if (!kv) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			if (!strchr(kv, '=') || kv[0] == '=') {
				args_error(&a, "'%s': expected KEY=VALUE", kv);
				rc = CLI_EXIT_BAD_CONFIG;
				goto out;
			}
			if (nenv == MAX_ENV) {
				args_error(&a, "at most %d", MAX_ENV);
				rc = CLI_EXIT_BAD_CONFIG;
				goto out;
			}
			envs[nenv++] = kv;
		} else if (args_is(&a, "--strategy", NULL)) {
			if (!(strategy = args_value(&a))) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
		} else {
			fprintf(stderr, "strain validate: unknown flag %s\n", a.flag);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (!nplans) {
		fprintf(stderr, "strain validate: give a plan file\n");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	po = (plan_opts){strategy, 1, NULL, 0, envs, nenv};
	for (i = 0; i < nplans; i++) {
		run_config cfg;
		plan_errors errs;

		run_config_init(&cfg);
		if (plan_load(plans[i], &po, &cfg, &errs) < 0) {
			plan_errors_print(&errs, stderr);
			plan_errors_free(&errs);
			rc = CLI_EXIT_BAD_CONFIG;
		} else {
			printf("%s: ok (%u modules, %u requests, %u checks, %u thresholds)\n", plans[i], cfg.nscenarios,
			       cfg.nreqs, cfg.nchecks, cfg.nthresholds);
		}
		run_config_free(&cfg);
	}
out:
	free(plans);
	return rc;
}
