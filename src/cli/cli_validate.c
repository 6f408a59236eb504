/* strain validate PLAN...: checks plans without sending anything. Every
 * file given is checked (like a compiler given several sources), and the
 * status is 104 if any of them is invalid. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/alloc.h"
#include "plan/plan.h"

#define MAX_ENV 128

typedef struct validate_flags {
	const char *envs[MAX_ENV], *strategy, **plans;
	uint32_t nenv, nplans;
	opts_seen seen;
} validate_flags;

static cli_outcome plan_arg(void *base, const char *arg)
{
	validate_flags *f = base;

	f->plans[f->nplans++] = arg;
	return CLI_DONE;
}

enum { V_ENV, V_STRATEGY, V_HELP, V_COUNT };

#define F(field) offsetof(validate_flags, field)

static const opts_group validate_groups[] = {{"Flags", NULL}};

static const opt validate_opts[V_COUNT] = {
	[V_ENV] = {"--env", "-e", "KEY=VALUE", OPT_KEYVAL, OPT_REPEAT, 0, MAX_ENV, F(envs), F(nenv), NULL, NULL, 0,
		   "sets {{env.KEY}}, overriding the environment (repeatable)"},
	[V_STRATEGY] = {"--strategy", NULL, "S", OPT_STRING, 0, 0, 0, F(strategy), 0, NULL, NULL, 0,
			"check for this strategy only: sequential, hybrid, parallel or all (default: every strategy the plan defines)"},
	[V_HELP] = {"--help", "-h", NULL, OPT_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0, "this help"},
};

#undef F

static const opts_cmd validate_cmd = {
	"validate",
	validate_opts,
	V_COUNT,
	validate_groups,
	1,
	"Usage: strain validate PLAN.yaml... [-e KEY=VALUE]... [--strategy S]\n\n"
	"Checks each plan whole and prints every problem as FILE:LINE:COL: message.\n"
	"Exit status 0 when all are valid, 104 when any is not.\n",
	NULL,
	NULL,
	plan_arg,
};

int cli_validate_main(int argc, char **argv)
{
	validate_flags f;
	uint32_t i;
	cli_outcome o;
	plan_opts po;

	memset(&f, 0, sizeof(f));
	f.plans = xcalloc((size_t)argc + 1, sizeof(*f.plans));
	o = opts_parse(&validate_cmd, argc, argv, &f, &f.seen);
	if (o != CLI_DONE)
		goto out;
	if (!f.nplans) {
		fprintf(stderr, "strain validate: give a plan file\n");
		o = CLI_USAGE;
		goto out;
	}
	po = (plan_opts){f.strategy, 1, NULL, 0, f.envs, f.nenv, NULL, 0};
	for (i = 0; i < f.nplans; i++) {
		run_config cfg;
		plan_errors errs;

		run_config_init(&cfg);
		if (plan_load(f.plans[i], &po, &cfg, &errs) < 0) {
			plan_errors_print(&errs, stderr);
			plan_errors_free(&errs);
			o = CLI_BAD_VALUE;
		} else {
			printf("%s: ok (%u modules, %u requests, %u checks, %u thresholds)\n", f.plans[i], cfg.nscenarios,
			       cfg.nreqs, cfg.nchecks, cfg.nthresholds);
		}
		run_config_free(&cfg);
	}
out:
	free(f.plans);
	return cli_exit_code(o);
}
