/* Quick mode: the command line's load flags (like wrk's or hey's) compiled
 * into the same program a plan compiles to — one scenario, "default",
 * whose flow is the program's one request, in one phase. */
#ifndef STRAIN_PLAN_QUICK_H
#define STRAIN_PLAN_QUICK_H

#include <stdint.h>

#include "program/exec.h"
#include "program/program.h"

typedef struct quick_flags {
	uint32_t vus;           /* --vus (1) */
	uint64_t duration_ns;   /* --duration, 0 if not given */
	uint64_t iterations;    /* --iterations: total across VUs */
	double rate;            /* --rate: iterations per second (0: closed model) */
	uint32_t max_vus;       /* --max-vus (0: --vus) */
	const exec_stage *stages; /* --stage: VU or rate targets */
	uint32_t nstages;
	int queue;              /* --queue */
} quick_flags;

/* Adds the scenario and its phase to p, whose reqs[0] is the request. The
 * executor follows the flags as k6's do: --rate makes it
 * constant-arrival-rate (with --stage, ramping-arrival-rate from --rate);
 * --stage alone ramping-vus from --vus; --iterations shared-iterations;
 * otherwise constant-vus. Also fills what the summary reports as asked. */
void plan_quick(run_config *p, const quick_flags *q);

#endif
