/* Capacity search: for each module, the highest arrival rate (iterations
 * per second, an open model) whose steady window meets the module's
 * objectives. A stepped ramp doubles the rate until an objective fails or
 * the generator itself cannot keep up, then bisection narrows the gap
 * between the last good and the first bad rate to the asked precision.
 * Each step is a run of its own (fresh engine, registry and collector);
 * its first seconds (the warm-up) are left out of what is judged.
 * docs/capacity.md describes the search, the objectives and the knee. */
#ifndef STRAIN_SUITE_CAPACITY_H
#define STRAIN_SUITE_CAPACITY_H

#include <stdint.h>

#include "metrics/threshold.h"
#include "program/program.h"

typedef struct capacity_opts {
	const char *const *modules; /* which modules to search; none: all */
	uint32_t nmodules;
	const met_threshold *slos;  /* objectives from the command line; none: the plan's thresholds */
	uint32_t nslos;
	int under_load;             /* the other modules at their plan load meanwhile */
	uint64_t step_ns;           /* length of one step, warm-up included */
	uint64_t warmup_ns;         /* left out of each step's judgement */
	double start_rate;          /* first step, iterations/s */
	double max_rate;            /* never ask for more */
	double precision;           /* stop bisecting when (bad - good) / good is below this */
	uint32_t max_steps;         /* per module */
	int quiet;
	const char *plan;           /* the plan file, for the results */
	const char *summary_export; /* JSON, or NULL */
	const char *report;         /* the HTML report, or NULL */
} capacity_opts;

typedef enum {
	CAPACITY_OK,            /* every module's limit was found */
	CAPACITY_UNTRUSTED,     /* some module's search ended at the generator's limit */
	CAPACITY_INTERRUPTED,
	CAPACITY_BAD_CONFIG,    /* a module named is not in the plan */
	CAPACITY_ERROR,         /* an engine could not start, the export failed */
} capacity_outcome;

capacity_outcome capacity_run(run_config *cfg, const capacity_opts *o);

#endif
