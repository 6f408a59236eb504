/* Plan files: YAML describing a target, modules (each an executor and a
 * flow of steps), data files, thresholds and strategies. plan_load checks
 * the whole plan before any traffic and compiles it into a run_config; every
 * error names file:line:col. The grammar is documented in
 * docs/plan-format.md and docs/plan.schema.json. */
#ifndef STRAIN_PLAN_PLAN_H
#define STRAIN_PLAN_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "program/program.h"

#define PLAN_MAX_ERRORS 50

typedef struct plan_errors {
	char *msgs[PLAN_MAX_ERRORS];
	uint32_t n;
	uint32_t dropped;  /* errors beyond PLAN_MAX_ERRORS */
} plan_errors;

typedef struct plan_opts {
	const char *strategy;        /* sequential, hybrid, parallel, all; NULL: parallel */
	int validate_all;            /* with strategy NULL: check every strategy the plan defines */
	const char *const *modules;  /* --module filter; NULL/0: all */
	uint32_t nmodules;
	const char *const *env;      /* -e NAME=VALUE, overriding the environment */
	uint32_t nenv;
	const char *const *secrets;  /* --secret NAME: variables whose values are secret */
	uint32_t nsecrets;
} plan_opts;

/* Loads, checks and compiles path into cfg (initialised by the caller with
 * run_config_init). Returns 0, or -1 with every problem found in errs. */
int plan_load(const char *path, const plan_opts *opts, run_config *cfg, plan_errors *errs);
void plan_errors_print(const plan_errors *errs, FILE *f);
void plan_errors_free(plan_errors *errs);

#endif
