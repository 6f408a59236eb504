/* Executors (k6's six types and their options), stages, arrival rates and
 * their maximum, and the plan's scale. */
#include "plan/loader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

static const char *const exec_keys[] = {"type", "vus", "duration", "iterations", "gracefulStop", "maxDuration",
					 "startTime", "startVUs", "stages", "gracefulRampDown", "rate", "timeUnit",
					 "preAllocatedVUs", "maxVUs", "startRate", "queue", NULL};
static const char *const exec_types[] = {"constant-vus", "shared-iterations", "per-vu-iterations", "ramping-vus",
					  "constant-arrival-rate", "ramping-arrival-rate", NULL};
/* The options each executor takes besides type, startTime and gracefulStop
 * (by exec_type), as in k6. */
static const char *const exec_opts[][8] = {
	[EXEC_CONSTANT_VUS] = {"vus", "duration", NULL},
	[EXEC_SHARED_ITERATIONS] = {"vus", "iterations", "maxDuration", NULL},
	[EXEC_PER_VU_ITERATIONS] = {"vus", "iterations", "maxDuration", NULL},
	[EXEC_RAMPING_VUS] = {"startVUs", "stages", "gracefulRampDown", NULL},
	[EXEC_CONSTANT_ARRIVAL_RATE] = {"rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs", "queue", NULL},
	[EXEC_RAMPING_ARRIVAL_RATE] = {"startRate", "timeUnit", "stages", "preAllocatedVUs", "maxVUs", "queue", NULL},
};

/* Iterations per time unit an arrival-rate executor may ask for. */
#define MAX_RATE 10000000.0
#define MAX_STAGES 1024

/* A rate: a number >= 0 (fractions allowed: 0.5 per 1s is one every 2 s). */
static int get_rate(loader *L, const ynode *n, const char *what, double *out)
{
	const char *s = scalar_text(L, n);
	char *end;
	double d = 0;

	if (template_failed(n, s))
		return -1;
	/* Plain decimals only: strtod would also take hex and "inf". */
	if (s && *s && strspn(s, "0123456789.eE+-") == strlen(s) && *s != '-' && *s != '+') {
		errno = 0;
		d = strtod(s, &end);
		if (!*end && !errno && d >= 0 && d <= MAX_RATE) {
			*out = d;
			return 0;
		}
	}
	err_at(L, n, "%s: expected a number of iterations per timeUnit from 0 to %.0f, found %s%s%s (the maximum "
	       "rate is %.0f per second; docs/executors.md)", what, MAX_RATE, s ? "'" : "", s ? s : ynode_kind(n),
	       s ? "'" : "", EXEC_MAX_RATE_PER_SEC);
	return -1;
}

/* stages: [{duration: 30s, target: 100}, ...]; VU targets are whole
 * numbers, rate targets any number >= 0. */
static int get_stages(loader *L, run_scenario *sc, const ynode *n, int rates)
{
	static const char *const stage_keys[] = {"duration", "target", NULL};
	size_t i, len;
	int bad = 0;

	if (!ynode_is_seq(n) || !yseq_len(n)) {
		err_at(L, n, "stages: expected a list such as [{duration: 30s, target: %s}]", rates ? "100" : "10");
		return -1;
	}
	len = yseq_len(n);
	if (len > MAX_STAGES) {
		err_at(L, n, "stages: at most %d", MAX_STAGES);
		return -1;
	}
	sc->stages = xcalloc(len, sizeof(*sc->stages));
	sc->nstages = (uint32_t)len;
	for (i = 0; i < len; i++) {
		ynode *st = yseq_item(&L->doc, n, i), *d, *t;
		uint64_t v;

		if (!ynode_is_map(st)) {
			err_at(L, st, "stages: each stage is a mapping {duration: 30s, target: N}");
			bad = 1;
			continue;
		}
		if (check_keys(L, st, stage_keys, "a stage") < 0)
			bad = 1;
		d = ymap_get(&L->doc, st, "duration");
		t = ymap_get(&L->doc, st, "target");
		if (!d || !t) {
			err_at(L, st, "stage: needs a duration and a target");
			bad = 1;
			continue;
		}
		if (get_duration(L, d, "duration", &sc->stages[i].duration_ns) < 0)
			bad = 1;
		if (rates) {
			if (get_rate(L, t, "target", &sc->stages[i].target) < 0)
				bad = 1;
		} else if (get_u64(L, t, "target", 0, 1000000, &v) < 0) {
			bad = 1;
		} else {
			sc->stages[i].target = (double)v;
		}
	}
	return bad ? -1 : 0;
}

static int get_vus(loader *L, const ynode *ex, const char *key, uint64_t min, uint32_t *out)
{
	ynode *v = ymap_get(&L->doc, ex, key);
	uint64_t n;

	if (!v)
		return 0;
	if (get_u64(L, v, key, min, 1000000, &n) < 0)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

/* Iterations per second at the schedule's peak, after timeUnit. */
static double rate_per_sec(const run_scenario *sc, double f)
{
	return exec_rate_peak(sc->stages, sc->nstages, sc->start_rate) * f * (double)NS_PER_SEC /
	       (double)sc->time_unit_ns;
}

/* An arrival rate past EXEC_MAX_RATE_PER_SEC is refused where it is
 * written: at the rate, startRate or stage target that goes past it. */
static int check_rate_max(loader *L, const run_scenario *sc, const ynode *ex)
{
	double per_unit = (double)NS_PER_SEC / (double)sc->time_unit_ns, peak = rate_per_sec(sc, 1);
	const ynode *at = ex, *unit = ymap_get(&L->doc, ex, "timeUnit"), *st = ymap_get(&L->doc, ex, "stages");
	const char *unit_s = unit && ynode_str(unit) ? ynode_str(unit) : "1s";
	uint32_t i;

	if (peak <= EXEC_MAX_RATE_PER_SEC)
		return 0;
	if (sc->exec == EXEC_CONSTANT_ARRIVAL_RATE) {
		at = ymap_get(&L->doc, ex, "rate");
	} else if (sc->start_rate * per_unit > EXEC_MAX_RATE_PER_SEC) {
		at = ymap_get(&L->doc, ex, "startRate");
	} else if (st) {
		for (i = 0; i < sc->nstages && i < yseq_len(st); i++)
			if (sc->stages[i].target * per_unit > EXEC_MAX_RATE_PER_SEC) {
				const ynode *item = yseq_item(&L->doc, st, i), *t = ymap_get(&L->doc, item, "target");

				at = t ? t : item;
				break;
			}
	}
	err_at(L, at ? at : ex,
	       "the rate reaches %.4g iterations per second (per timeUnit %s), past the maximum of %.0f per second "
	       "(docs/executors.md)",
	       peak, unit_s, EXEC_MAX_RATE_PER_SEC);
	return -1;
}

/* The executor's type (constant-vus when not given). Returns 0, or -1 with
 * the error said. */
static int exec_type_of(loader *L, run_scenario *sc, const ynode *ex, const char **type)
{
	ynode *t = ymap_get(&L->doc, ex, "type");
	size_t i;

	*type = t ? get_str(L, t, "type") : "constant-vus";
	if (!*type)
		return -1;
	for (i = 0; exec_types[i]; i++)
		if (!strcmp(*type, exec_types[i]))
			break;
	if (!exec_types[i]) {
		const char *near = nearest(*type, exec_types);
		char list[512];

		list_allowed(exec_types, list, sizeof(list));
		err_at(L, t, "executor type '%s' is not known%s%s%s (%s)", *type, near ? "; did you mean '" : "",
		       near ? near : "", near ? "'?" : "", list);
		return -1;
	}
	sc->exec = (exec_type)i;
	return 0;
}

/* Options of another executor are mistakes, not silently ignored. Returns
 * 0 or -1. */
static int exec_foreign_opts(loader *L, const run_scenario *sc, const ynode *ex, const char *type)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < ymap_len(ex); i++) {
		ynode *k = ymap_key(&L->doc, ex, i);
		const char *ks = ynode_str(k), *const *o;
		char list[256];

		if (!ks || !strcmp(ks, "type") || !strcmp(ks, "startTime") || !strcmp(ks, "gracefulStop"))
			continue;
		for (o = exec_opts[sc->exec]; *o && strcmp(*o, ks); o++)
			;
		if (*o)
			continue;
		for (o = exec_keys; *o && strcmp(*o, ks); o++)
			;
		if (!*o)
			continue; /* unknown altogether: check_keys said so */
		list_allowed(exec_opts[sc->exec], list, sizeof(list));
		err_at(L, k, "%s: not an option of %s (it takes %s, startTime, gracefulStop)", ks, type, list);
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* The options of each executor type: each sets *bad on an error, and some
 * checks (iterations against vus, maxVUs, the rate's maximum) run only
 * while nothing before them failed. */
static void exec_constant_vus(loader *L, run_scenario *sc, const ynode *ex, const char *module, int *bad)
{
	ynode *v;

	if (get_vus(L, ex, "vus", 1, &sc->vus) < 0)
		*bad = 1;
	v = ymap_get(&L->doc, ex, "duration");
	if (!v) {
		err_at(L, ex, "module %s: constant-vus needs a duration", module);
		*bad = 1;
	} else if (get_duration(L, v, "duration", &sc->duration_ns) < 0) {
		*bad = 1;
	} else if (!sc->duration_ns) {
		err_at(L, v, "duration: must be longer than 0s");
		*bad = 1;
	}
}

static void exec_iterations(loader *L, run_scenario *sc, const ynode *ex, const char *module, const char *type,
			    int *bad)
{
	ynode *v;

	if (get_vus(L, ex, "vus", 1, &sc->vus) < 0)
		*bad = 1;
	v = ymap_get(&L->doc, ex, "iterations");
	if (!v) {
		err_at(L, ex, "module %s: %s needs iterations", module, type);
		*bad = 1;
	} else if (get_u64(L, v, "iterations", 1, UINT64_C(1) << 40, &sc->iterations) < 0) {
		*bad = 1;
	}
	sc->duration_ns = 10 * 60 * NS_PER_SEC;
	v = ymap_get(&L->doc, ex, "maxDuration");
	if (v && get_duration(L, v, "maxDuration", &sc->duration_ns) < 0)
		*bad = 1;
	if (sc->exec == EXEC_SHARED_ITERATIONS && !*bad && sc->iterations < sc->vus) {
		err_at(L, ymap_get(&L->doc, ex, "iterations"),
		       "iterations (%llu) can't be less than vus (%u) for shared-iterations",
		       (unsigned long long)sc->iterations, sc->vus);
		*bad = 1;
	}
}

static void exec_ramping_vus(loader *L, run_scenario *sc, const ynode *ex, const char *module, int *bad)
{
	ynode *v;

	/* k6: startVUs defaults to 1, gracefulRampDown to 30s. */
	sc->start_vus = 1;
	if (get_vus(L, ex, "startVUs", 0, &sc->start_vus) < 0)
		*bad = 1;
	v = ymap_get(&L->doc, ex, "gracefulRampDown");
	if (v && get_duration(L, v, "gracefulRampDown", &sc->graceful_ramp_down_ns) < 0)
		*bad = 1;
	v = ymap_get(&L->doc, ex, "stages");
	if (!v) {
		err_at(L, ex, "module %s: ramping-vus needs stages, e.g. [{duration: 30s, target: 10}]", module);
		*bad = 1;
	} else if (get_stages(L, sc, v, 0) < 0) {
		*bad = 1;
	} else {
		sc->duration_ns = exec_stages_duration(sc->stages, sc->nstages);
		sc->vus = exec_vus_max(sc->stages, sc->nstages, sc->start_vus);
		if (!sc->duration_ns) {
			err_at(L, v, "stages: they last 0s in all");
			*bad = 1;
		} else if (!sc->vus) {
			err_at(L, v, "stages: every target is 0, so no VU would ever run");
			*bad = 1;
		}
	}
}

/* constant-arrival-rate's rate and duration: one stage at that rate. */
static void exec_constant_rate(loader *L, run_scenario *sc, const ynode *ex, const char *module, int *bad)
{
	ynode *v;
	uint64_t d = 0;

	v = ymap_get(&L->doc, ex, "rate");
	if (!v) {
		err_at(L, ex, "module %s: constant-arrival-rate needs a rate (iterations per timeUnit)", module);
		*bad = 1;
	} else if (get_rate(L, v, "rate", &sc->start_rate) < 0) {
		*bad = 1;
	} else if (!(sc->start_rate > 0)) {
		err_at(L, v, "rate: must be above 0");
		*bad = 1;
	}
	v = ymap_get(&L->doc, ex, "duration");
	if (!v) {
		err_at(L, ex, "module %s: constant-arrival-rate needs a duration", module);
		*bad = 1;
	} else if (get_duration(L, v, "duration", &d) < 0) {
		*bad = 1;
	} else if (!d) {
		err_at(L, v, "duration: must be longer than 0s");
		*bad = 1;
	}
	sc->stages = xcalloc(1, sizeof(*sc->stages));
	sc->nstages = 1;
	sc->stages[0].duration_ns = d;
	sc->stages[0].target = sc->start_rate;
}

/* ramping-arrival-rate's startRate and stages. */
static void exec_ramping_rate(loader *L, run_scenario *sc, const ynode *ex, const char *module, int *bad)
{
	ynode *v;

	v = ymap_get(&L->doc, ex, "startRate");
	if (v && get_rate(L, v, "startRate", &sc->start_rate) < 0)
		*bad = 1;
	v = ymap_get(&L->doc, ex, "stages");
	if (!v) {
		err_at(L, ex, "module %s: ramping-arrival-rate needs stages, e.g. [{duration: 30s, target: 100}]",
		       module);
		*bad = 1;
	} else if (get_stages(L, sc, v, 1) < 0) {
		*bad = 1;
	} else if (!exec_stages_duration(sc->stages, sc->nstages)) {
		err_at(L, v, "stages: they last 0s in all");
		*bad = 1;
	}
}

/* What both arrival-rate executors take: timeUnit, preAllocatedVUs,
 * maxVUs, queue; then each one's rate. */
static void exec_arrival_rate(loader *L, run_scenario *sc, const ynode *ex, const char *module, const char *type,
			      int *bad)
{
	ynode *v;

	v = ymap_get(&L->doc, ex, "timeUnit");
	if (v && (get_duration(L, v, "timeUnit", &sc->time_unit_ns) < 0 || !sc->time_unit_ns)) {
		if (!sc->time_unit_ns)
			err_at(L, v, "timeUnit: must be longer than 0s");
		*bad = 1;
	}
	v = ymap_get(&L->doc, ex, "preAllocatedVUs");
	if (!v) {
		err_at(L, ex, "module %s: %s needs preAllocatedVUs (VUs ready before the first iteration)", module,
		       type);
		*bad = 1;
	} else if (get_vus(L, ex, "preAllocatedVUs", 0, &sc->prealloc_vus) < 0) {
		*bad = 1;
	}
	/* k6: maxVUs defaults to preAllocatedVUs. */
	sc->vus = sc->prealloc_vus;
	v = ymap_get(&L->doc, ex, "maxVUs");
	if (v) {
		if (get_vus(L, ex, "maxVUs", 1, &sc->vus) < 0) {
			*bad = 1;
		} else if (sc->vus < sc->prealloc_vus) {
			err_at(L, v, "maxVUs (%u) can't be less than preAllocatedVUs (%u)", sc->vus, sc->prealloc_vus);
			*bad = 1;
		}
	}
	if (!*bad && !sc->vus) {
		err_at(L, ex, "module %s: with preAllocatedVUs 0, give maxVUs (at least 1)", module);
		*bad = 1;
	}
	v = ymap_get(&L->doc, ex, "queue");
	if (v && get_bool(L, v, "queue", &sc->queue) < 0)
		*bad = 1;
	if (sc->exec == EXEC_CONSTANT_ARRIVAL_RATE)
		exec_constant_rate(L, sc, ex, module, bad);
	else
		exec_ramping_rate(L, sc, ex, module, bad);
	sc->duration_ns = exec_stages_duration(sc->stages, sc->nstages);
	if (!*bad && check_rate_max(L, sc, ex) < 0)
		*bad = 1;
}

int compile_executor(loader *L, run_scenario *sc, const ynode *ex, const char *module)
{
	ynode *v;
	const char *type;
	int bad = 0;

	if (!ynode_is_map(ex)) {
		err_at(L, ex, "module %s: executor: expected a mapping such as {type: constant-vus, vus: 10, duration: 30s}", module);
		return -1;
	}
	if (check_keys(L, ex, exec_keys, "an executor") < 0)
		bad = 1;
	if (exec_type_of(L, sc, ex, &type) < 0)
		return -1;
	if (exec_foreign_opts(L, sc, ex, type) < 0)
		bad = 1;
	sc->vus = 1;
	sc->graceful_stop_ns = 30 * NS_PER_SEC;
	sc->graceful_ramp_down_ns = 30 * NS_PER_SEC;
	sc->time_unit_ns = NS_PER_SEC;
	v = ymap_get(&L->doc, ex, "gracefulStop");
	if (v && get_duration(L, v, "gracefulStop", &sc->graceful_stop_ns) < 0)
		bad = 1;
	v = ymap_get(&L->doc, ex, "startTime");
	if (v && get_duration(L, v, "startTime", &sc->start_time_ns) < 0)
		bad = 1;
	switch (sc->exec) {
	case EXEC_CONSTANT_VUS:
		exec_constant_vus(L, sc, ex, module, &bad);
		break;
	case EXEC_SHARED_ITERATIONS:
	case EXEC_PER_VU_ITERATIONS:
		exec_iterations(L, sc, ex, module, type, &bad);
		break;
	case EXEC_RAMPING_VUS:
		exec_ramping_vus(L, sc, ex, module, &bad);
		break;
	case EXEC_CONSTANT_ARRIVAL_RATE:
	case EXEC_RAMPING_ARRIVAL_RATE:
		exec_arrival_rate(L, sc, ex, module, type, &bad);
		break;
	}
	return bad ? -1 : 0;
}

/* A VU count times scale, rounded: a count that was above 0 stays at
 * least 1, so a scaled ramp keeps its shape instead of flattening to no
 * VUs at all. */
static uint32_t scale_count(uint32_t n, double f)
{
	double v = (double)n * f + 0.5;

	return n && v < 1 ? 1 : (uint32_t)v;
}

/* scale: every module's load times f (VUs, shared iterations, ramps and
 * rates), the shape kept. */
void plan_scale(loader *L, const ynode *v)
{
	run_config *cfg = L->cfg;
	const char *sv = scalar_text(L, v);
	char *end;
	double f = sv ? strtod(sv, &end) : 0;
	size_t i;

	if (!sv || end == sv || *end || !(f > 0) || f > 1000) {
		err_at(L, v, "scale: expected a number above 0 (1 = as written; 0.1 = a tenth of the VUs and iterations)");
		return;
	}
	for (i = 0; i < cfg->nscenarios; i++) {
		run_scenario *sc = &cfg->scenarios[i];
		double vus = (double)sc->vus * f, it = (double)sc->iterations * f;
		double rate_before = exec_is_arrival(sc->exec) ? rate_per_sec(sc, 1) : 0;

		sc->vus = vus < 1 ? 1 : (uint32_t)(vus + 0.5);
		/* Scale is the total load: shared iterations scale, but a
		 * per-VU count stays as written, since the VUs already
		 * scaled (scaling both would give scale^2 the requests). */
		if (sc->iterations && sc->exec != EXEC_PER_VU_ITERATIONS)
			sc->iterations = it < sc->vus ? sc->vus : (uint64_t)(it + 0.5);
		/* Ramps and rates scale too: the same shape, smaller. */
		sc->start_vus = scale_count(sc->start_vus, f);
		sc->prealloc_vus = scale_count(sc->prealloc_vus, f);
		if (sc->prealloc_vus > sc->vus)
			sc->prealloc_vus = sc->vus;
		if (exec_is_arrival(sc->exec))
			sc->start_rate *= f;
		for (uint32_t j = 0; j < sc->nstages; j++)
			sc->stages[j].target = exec_is_arrival(sc->exec)
						       ? sc->stages[j].target * f
						       : (double)scale_count((uint32_t)sc->stages[j].target, f);
		if (sc->exec == EXEC_RAMPING_VUS) {
			uint32_t m = exec_vus_max(sc->stages, sc->nstages, sc->start_vus);

			sc->vus = m ? m : 1;
		}
		/* A rate within the maximum as written but not once scaled:
		 * the scale is what to change. (One already past it was
		 * reported at the rate.) */
		if (exec_is_arrival(sc->exec) && rate_before <= EXEC_MAX_RATE_PER_SEC &&
		    rate_per_sec(sc, 1) > EXEC_MAX_RATE_PER_SEC)
			err_at(L, v,
			       "scale: %g takes module %s to %.4g iterations per second, past the maximum of "
			       "%.0f per second (docs/executors.md)",
			       f, sc->name, rate_per_sec(sc, 1), EXEC_MAX_RATE_PER_SEC);
	}
}
