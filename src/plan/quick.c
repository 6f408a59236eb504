#include "plan/quick.h"

#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"

/* k6's maxDuration default for iteration-bound executors. */
#define DEFAULT_MAX_DURATION (10 * 60 * NS_PER_SEC)

static void *memdup(const void *p, size_t n)
{
	void *c = xmalloc(n ? n : 1);

	memcpy(c, p, n);
	return c;
}

void plan_quick(run_config *cfg, const quick_flags *q)
{
	run_scenario *sc;
	flow_op op = {0};

	cfg->scenarios = xcalloc(1, sizeof(*cfg->scenarios));
	cfg->nscenarios = 1;
	sc = &cfg->scenarios[0];
	sc->name = xstrdup("default");
	sc->vus = q->vus;
	sc->graceful_stop_ns = cfg->graceful_stop_ns;
	sc->graceful_ramp_down_ns = cfg->graceful_stop_ns;
	sc->time_unit_ns = NS_PER_SEC;
	if (q->rate > 0) {
		/* Open model: --vus preallocated, up to --max-vus. */
		sc->prealloc_vus = q->vus;
		sc->vus = q->max_vus > q->vus ? q->max_vus : q->vus;
		sc->start_rate = q->rate;
		sc->queue = q->queue;
		if (q->nstages) {
			sc->exec = EXEC_RAMPING_ARRIVAL_RATE;
			sc->nstages = q->nstages;
			sc->stages = memdup(q->stages, q->nstages * sizeof(*q->stages));
		} else {
			sc->exec = EXEC_CONSTANT_ARRIVAL_RATE;
			sc->nstages = 1;
			sc->stages = xcalloc(1, sizeof(*sc->stages));
			sc->stages[0].duration_ns = q->duration_ns;
			sc->stages[0].target = q->rate;
		}
		sc->duration_ns = exec_stages_duration(sc->stages, sc->nstages);
	} else if (q->nstages) {
		/* k6: --vus is the ramp's starting point. */
		sc->exec = EXEC_RAMPING_VUS;
		sc->start_vus = q->vus;
		sc->nstages = q->nstages;
		sc->stages = memdup(q->stages, q->nstages * sizeof(*q->stages));
		sc->duration_ns = exec_stages_duration(sc->stages, sc->nstages);
		sc->vus = exec_vus_max(sc->stages, sc->nstages, sc->start_vus);
	} else if (q->iterations) {
		sc->exec = EXEC_SHARED_ITERATIONS;
		sc->iterations = q->iterations;
		sc->duration_ns = q->duration_ns ? q->duration_ns : DEFAULT_MAX_DURATION;
	} else {
		sc->exec = EXEC_CONSTANT_VUS;
		sc->duration_ns = q->duration_ns;
	}
	op.kind = OP_REQUEST;
	flow_program_add(&sc->flow, op);
	op.kind = OP_END;
	flow_program_add(&sc->flow, op);
	op.kind = OP_END;
	flow_program_add(&sc->setup, op);
	cfg->phases = xcalloc(1, sizeof(*cfg->phases));
	cfg->nphases = 1;
	cfg->phases[0].scenarios = xcalloc(1, sizeof(uint32_t));
	cfg->phases[0].nscenarios = 1;
	cfg->vus = sc->vus;
	cfg->planned_duration_ns = q->duration_ns;
	cfg->planned_iterations = q->iterations;
}

