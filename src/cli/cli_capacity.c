/* strain capacity PLAN.yaml: per module, the highest arrival rate its
 * objectives hold at (suite/capacity.h; docs/capacity.md). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "metrics/registry.h"
#include "metrics/threshold.h"
#include "plan/plan.h"
#include "suite/capacity.h"

#define MAX_ENV 128
#define MAX_MODULES 64
#define MAX_SLOS 32

typedef struct capacity_flags {
	const char *plan, *summary_export, *report;
	const char *envs[MAX_ENV], *modules[MAX_MODULES], *slos[MAX_SLOS];
	uint32_t nenv, nmodules, nslos;
	int under_load, alone, quiet;
	uint64_t step_ns, warmup_ns, max_steps;
	double start_rate, max_rate, precision;
	opts_seen seen;
} capacity_flags;

static cli_outcome plan_arg(void *base, const char *arg)
{
	capacity_flags *f = base;

	if (f->plan) {
		fprintf(stderr, "strain capacity: one plan at a time ('%s' and '%s')\n", f->plan, arg);
		return CLI_USAGE;
	}
	f->plan = arg;
	return CLI_DONE;
}

enum {
	C_MODULE, C_SLO, C_ALONE, C_UNDER_LOAD, C_STEP, C_WARMUP, C_START_RATE, C_MAX_RATE, C_PRECISION, C_MAX_STEPS,
	C_ENV, C_SUMMARY_EXPORT, C_REPORT, C_QUIET, C_HELP, C_COUNT
};

#define F(field) offsetof(capacity_flags, field)

static const opts_group capacity_groups[] = {{"Search", NULL}, {"Plan and results", NULL}};

static const opt capacity_opts_table[C_COUNT] = {
	[C_MODULE] = {"--module", "-m", "NAME", OPT_STRING, OPT_REPEAT, 0, MAX_MODULES, F(modules), F(nmodules), NULL,
		      NULL, 0, "search this module (repeatable; default: every module)"},
	[C_SLO] = {"--slo", NULL, "[METRIC:]EXPR", OPT_STRING, OPT_REPEAT, 0, MAX_SLOS, F(slos), F(nslos), NULL, NULL, 0,
		   "an objective in threshold syntax, e.g. 'p(95)<500' (http_req_duration) or "
		   "'http_req_failed:rate<0.01' (repeatable; default: the module's thresholds)"},
	[C_ALONE] = {"--alone", NULL, NULL, OPT_SWITCH, 0, 0, 0, F(alone), 0, NULL, NULL, 0,
		     "each module runs alone (the default)"},
	[C_UNDER_LOAD] = {"--under-load", NULL, NULL, OPT_SWITCH, 0, 0, 0, F(under_load), 0, NULL, NULL, 0,
			  "the other modules run at their plan load while one is searched"},
	[C_STEP] = {"--step", NULL, "D", OPT_DURATION, OPT_POSITIVE, 0, 0, F(step_ns), 0, NULL, NULL, 0,
		    "length of one step, warm-up included (default 10s)"},
	[C_WARMUP] = {"--warmup", NULL, "D", OPT_DURATION, 0, 0, 0, F(warmup_ns), 0, NULL, NULL, 0,
		      "the first part of each step, left out of its judgement (default 3s)"},
	[C_START_RATE] = {"--start-rate", NULL, "R", OPT_NUMBER, OPT_POSITIVE, 0, 10000000, F(start_rate), 0, NULL,
			  "iterations per second", 0, "the first step's rate, iterations/s (default 10)"},
	[C_MAX_RATE] = {"--max-rate", NULL, "R", OPT_NUMBER, OPT_POSITIVE, 0, 10000000, F(max_rate), 0, NULL,
			"iterations per second", 0, "never ask for more than this, iterations/s (default 100000)"},
	[C_PRECISION] = {"--precision", NULL, "PCT", OPT_NUMBER, OPT_POSITIVE, 0, 100, F(precision), 0, NULL,
			 "a percentage", 0, "stop when the last good and first bad rates are this close, % (default 5)"},
	[C_MAX_STEPS] = {"--max-steps", NULL, "N", OPT_U64, 0, 1, 64, F(max_steps), 0, NULL, NULL, 0,
			 "at most this many steps per module (default 20)"},
	[C_ENV] = {"--env", "-e", "KEY=VALUE", OPT_KEYVAL, OPT_REPEAT, 0, MAX_ENV, F(envs), F(nenv), NULL, NULL, 1,
		   "sets {{env.KEY}}, overriding the environment (repeatable)"},
	[C_SUMMARY_EXPORT] = {"--summary-export", NULL, "FILE", OPT_STRING, 0, 0, 0, F(summary_export), 0, NULL, NULL,
			      1, "write the results as JSON (docs/summary-export.md, \"capacity\")"},
	[C_REPORT] = {"--report", NULL, "FILE", OPT_STRING, 0, 0, 0, F(report), 0, NULL, NULL, 1,
		      "write the HTML report of the results (latency against throughput per module)"},
	[C_QUIET] = {"--quiet", "-q", NULL, OPT_SWITCH, 0, 0, 0, F(quiet), 0, NULL, NULL, 1, "no line per step"},
	[C_HELP] = {"--help", "-h", NULL, OPT_HELP, 0, 0, 0, 0, 0, NULL, NULL, 1, "this help"},
};

#undef F

static const opts_cmd capacity_cmd = {
	"capacity",
	capacity_opts_table,
	C_COUNT,
	capacity_groups,
	2,
	"Usage: strain capacity PLAN.yaml [--module NAME]... [--slo EXPR]...\n"
	"                      [--alone | --under-load] [flags]\n\n"
	"Finds, per module, the highest arrival rate (iterations per second) whose steady\n"
	"window meets its objectives: a stepped ramp doubling the rate, then bisection.\n"
	"See docs/capacity.md.\n",
	"Exit status: 0 ok (also when the generator was the limit: the table says so),\n"
	"1 error, 2 usage, 104 bad plan or flag, 105 interrupted.\n",
	NULL,
	plan_arg,
};

/* "[METRIC:]EXPR": the metric part ends at the first ':' outside braces
 * ("http_req_duration{module:x}:p(95)<300"); none means http_req_duration. */
static int slo_parse(met_threshold *t, const char *spec, const met_registry *reg, char *err, size_t errsz)
{
	const char *p, *colon = NULL;
	char metric[256];
	int depth = 0, in_expr;

	for (p = spec; *p && !colon; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}')
			depth--;
		else if (*p == ':' && depth == 0)
			colon = p;
	}
	if (!colon)
		return met_threshold_parse(t, "http_req_duration", spec, reg, err, errsz, &in_expr);
	if ((size_t)(colon - spec) >= sizeof(metric)) {
		memset(t, 0, sizeof(*t));
		snprintf(err, errsz, "metric name too long");
		return -1;
	}
	memcpy(metric, spec, (size_t)(colon - spec));
	metric[colon - spec] = '\0';
	return met_threshold_parse(t, metric, colon + 1, reg, err, errsz, &in_expr);
}

int cli_capacity_main(int argc, char **argv)
{
	capacity_flags *f = xcalloc(1, sizeof(*f));
	met_threshold slos[MAX_SLOS];
	met_registry *reg = met_registry_create();
	capacity_opts co;
	run_config cfg;
	plan_opts po;
	plan_errors errs;
	cli_outcome o;
	uint32_t i, nslos = 0;
	char err[256];
	int rc;

	run_config_init(&cfg);
	f->step_ns = 10 * NS_PER_SEC;
	f->warmup_ns = 3 * NS_PER_SEC;
	f->start_rate = 10;
	f->max_rate = 100000;
	f->precision = 5;
	f->max_steps = 20;
	o = opts_parse(&capacity_cmd, argc, argv, f, &f->seen);
	if (o != CLI_DONE) {
		rc = cli_exit_code(o);
		goto out;
	}
	if (!f->plan) {
		fprintf(stderr, "strain capacity: give a plan file (see 'strain help capacity')\n");
		rc = cli_exit_code(CLI_USAGE);
		goto out;
	}
	if (f->alone && f->under_load) {
		fprintf(stderr, "strain capacity: --alone and --under-load: give one or the other\n");
		rc = cli_exit_code(CLI_USAGE);
		goto out;
	}
	if (f->warmup_ns >= f->step_ns) {
		fprintf(stderr, "strain capacity: --warmup must be shorter than --step\n");
		rc = cli_exit_code(CLI_BAD_VALUE);
		goto out;
	}
	if (f->start_rate > f->max_rate) {
		fprintf(stderr, "strain capacity: --start-rate is above --max-rate\n");
		rc = cli_exit_code(CLI_BAD_VALUE);
		goto out;
	}
	for (i = 0; i < f->nslos; i++) {
		if (slo_parse(&slos[nslos], f->slos[i], reg, err, sizeof(err)) < 0) {
			met_threshold_free(&slos[nslos]);
			fprintf(stderr, "strain capacity: --slo '%s': %s\n", f->slos[i], err);
			rc = cli_exit_code(CLI_BAD_VALUE);
			goto out;
		}
		nslos++;
	}
	/* Every module is loaded: the search runs them one by one (or the
	 * others beside one), whatever the plan's strategies say. */
	po = (plan_opts){"parallel", 0, NULL, 0, f->envs, f->nenv, NULL, 0};
	if (plan_load(f->plan, &po, &cfg, &errs) < 0) {
		plan_errors_print(&errs, stderr);
		plan_errors_free(&errs);
		rc = cli_exit_code(CLI_BAD_VALUE);
		goto out;
	}
	co = (capacity_opts){f->modules, f->nmodules, slos, nslos, f->under_load, f->step_ns, f->warmup_ns,
			     f->start_rate, f->max_rate, f->precision / 100, (uint32_t)f->max_steps, f->quiet,
			     f->plan, f->summary_export, f->report};
	switch (capacity_run(&cfg, &co)) {
	case CAPACITY_OK:
	case CAPACITY_UNTRUSTED:
		rc = cli_exit_code(CLI_DONE);
		break;
	case CAPACITY_BAD_CONFIG:
		rc = cli_exit_code(CLI_BAD_VALUE);
		break;
	case CAPACITY_INTERRUPTED:
		rc = cli_exit_code(CLI_INTERRUPTED);
		break;
	default:
		rc = cli_exit_code(CLI_FAILED);
		break;
	}
out:
	for (i = 0; i < nslos; i++)
		met_threshold_free(&slos[i]);
	run_config_free(&cfg);
	met_registry_destroy(reg);
	free(f);
	return rc;
}
