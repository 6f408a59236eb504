#include "suite/capacity.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/format.h"
#include "engine/run.h"
#include "metrics/collector.h"
#include "metrics/query.h"
#include "metrics/shard.h"
#include "report/html.h"

/* Iteration starts later than this (p95) mean the generator fell behind:
 * what it measured is not the target's. So does a generator using nearly
 * all of its CPU. */
#define GEN_LAG_NS (10 * NS_PER_MS)
#define GEN_CPU_MAX 0.95
/* A step that held must have started this share of the iterations asked. */
#define GEN_RATE_MIN 0.95
/* The knee: the first step whose p95 is this many times the lowest step's
 * (and at least KNEE_MIN_MS above it). */
#define KNEE_RATIO 2.0
#define KNEE_MIN_MS 1.0
#define MAX_OBJECTIVES 32
#define MAX_STEPS 64

enum { PH_BLOCKED, PH_CONNECTING, PH_TLS, PH_SENDING, PH_WAITING, PH_RECEIVING, PH_N };
static const uint32_t phase_metric[PH_N] = {MET_HTTP_REQ_BLOCKED, MET_HTTP_REQ_CONNECTING, MET_HTTP_REQ_TLS_HANDSHAKING,
					    MET_HTTP_REQ_SENDING, MET_HTTP_REQ_WAITING, MET_HTTP_REQ_RECEIVING};
static const char *const phase_name[PH_N] = {"blocked", "connecting", "tls", "sending", "waiting", "receiving"};

typedef struct cap_step {
	double rate;            /* iterations/s asked */
	double iter_rate;       /* iterations/s started in the window */
	double rps;             /* requests/s in the window */
	double p50, p95, p99, max, err_rate; /* ms; fraction */
	double phase[PH_N];     /* means, ms */
	double start_delay_p95; /* ms */
	uint64_t dropped;
	double cpu;             /* the generator's CPU, fraction of all cores */
	int ok;
	int failed;             /* index of the first failed objective, -1 */
	double observed;        /* its value */
	int untrusted;
	char why[160];          /* untrusted: why */
} cap_step;

typedef struct cap_module {
	const char *name;
	cap_step steps[MAX_STEPS];
	uint32_t nsteps;
	double good, bad;       /* last good, first bad (0: none) */
	const char *limited_by; /* "target", "generator", "max-rate", "interrupted" */
	int bad_step;           /* index of the first failing step at `bad`, -1 */
	double knee;            /* 0: none */
	const char *grew;       /* the phase whose mean grew most, or NULL */
} cap_module;

/* The steady window of one step: every interval after the warm-up. */
typedef struct window {
	met_registry *reg;
	met_shard sh;
	uint64_t warmup_ns, ns;
	const char *module;
	double reqs;        /* the module's responses in the window's regular intervals */
} window;

static void window_take(void *self, const met_snapshot *snap)
{
	window *w = self;
	uint64_t start = snap->elapsed_ns > snap->interval_ns ? snap->elapsed_ns - snap->interval_ns : 0;

	if (start + snap->interval_ns / 2 < w->warmup_ns)
		return;
	met_shard_merge(&w->sh, w->reg, snap->interval);
	w->ns += snap->interval_ns;
	/* Throughput counts responses within the schedule: the final
	 * snapshot holds the tail of iterations still finishing after it
	 * (their latency counts, their number is not a rate). */
	if (!snap->final) {
		met_tag f = {"module", w->module};
		met_agg a;

		met_agg_init(&a);
		met_query(snap->interval, w->reg, MET_HTTP_REQS, &f, 1, &a);
		w->reqs += a.sum;
		met_agg_free(&a);
	}
}

typedef struct step_wait {
	engine *eng;
	sigset_t *sigs;
	uint64_t end;
	int stopped, *interrupted;
} step_wait;

static void step_wait_fn(void *p, uint64_t wait_ns)
{
	step_wait *s = p;
	struct timespec ts = {(time_t)(wait_ns / NS_PER_SEC), (long)(wait_ns % NS_PER_SEC)};
	int sig = sigtimedwait(s->sigs, NULL, &ts);

	if (sig == SIGINT || sig == SIGTERM) {
		(*s->interrupted)++;
		engine_stop(s->eng, *s->interrupted == 1 ? ENGINE_STOP_GRACEFUL : ENGINE_STOP_HARD);
	}
	/* The other modules' executors may be longer than a step. */
	if (!s->stopped && clock_mono_ns() >= s->end) {
		s->stopped = 1;
		engine_stop(s->eng, ENGINE_STOP_GRACEFUL);
	}
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

typedef struct search {
	run_config *cfg;
	const capacity_opts *o;
	sigset_t sigs;
	int interrupted;
	met_threshold defaults[3];
	uint32_t ndefaults;
	run_scenario *saved;    /* the plan's scenarios as loaded */
} search;

/* The objectives of a module: --slo, else the plan's thresholds that are
 * about it (a module:NAME filter) or about no module, else the defaults.
 * Each judged on the module's samples alone. */
static uint32_t objectives(search *s, const char *mod, const met_threshold **out)
{
	uint32_t n = 0, i, j;

	if (s->o->nslos) {
		for (i = 0; i < s->o->nslos && n < MAX_OBJECTIVES; i++)
			out[n++] = &s->o->slos[i];
		return n;
	}
	for (i = 0; i < s->cfg->nthresholds && n < MAX_OBJECTIVES; i++) {
		const met_threshold *t = &s->cfg->thresholds[i];
		int other = 0;

		for (j = 0; j < t->nfilter; j++)
			if (!strcmp(t->filter[j].key, "module") && strcmp(t->filter[j].value, mod))
				other = 1;
		if (!other)
			out[n++] = t;
	}
	if (!n)
		for (i = 0; i < s->ndefaults; i++)
			out[n++] = &s->defaults[i];
	return n;
}

static void agg_metric(const met_shard *sh, const met_registry *reg, uint32_t m, const char *mod, met_agg *a)
{
	met_tag f = {"module", mod};

	met_agg_init(a);
	met_query(sh, reg, m, &f, 1, a);
}

/* Sets module idx up for a step at rate (iterations/s), from its plan
 * settings; the others keep theirs. */
static void scenario_at_rate(search *s, uint32_t idx, double rate, exec_stage *stage)
{
	run_scenario *sc = &s->cfg->scenarios[idx];
	double vus = ceil(rate * 10);

	*sc = s->saved[idx];
	sc->exec = EXEC_CONSTANT_ARRIVAL_RATE;
	stage->duration_ns = s->o->step_ns;
	stage->target = rate;
	sc->stages = stage;
	sc->nstages = 1;
	sc->start_rate = rate;
	sc->time_unit_ns = NS_PER_SEC;
	sc->duration_ns = s->o->step_ns;
	sc->start_time_ns = 0;
	sc->queue = 0;
	/* Ten seconds of iterations in flight before any is dropped: a
	 * target past its limit shows as latency first. */
	sc->vus = (uint32_t)fmin(fmax(vus, 20), 50000);
	sc->prealloc_vus = (uint32_t)fmin(fmax(ceil(rate / 10), 10), sc->vus);
	if (sc->graceful_stop_ns > 5 * NS_PER_SEC)
		sc->graceful_stop_ns = 5 * NS_PER_SEC;
}

static int step_run(search *s, uint32_t idx, double rate, cap_step *st)
{
	const capacity_opts *o = s->o;
	const char *mod = s->cfg->scenarios[idx].name;
	const met_threshold *obj[MAX_OBJECTIVES];
	uint32_t sc_list[256], nsc = 0, i, nobj;
	exec_stage stage;
	run_phase ph;
	run_phase_result res = {0};
	met_registry *reg = met_registry_create();
	engine *eng;
	met_collector *coll;
	met_source idle;
	window w;
	met_output wo = {window_take, &w};
	step_wait sw;
	char err[512];
	double cpu0, secs;
	uint64_t t0;
	met_agg a;

	memset(st, 0, sizeof(*st));
	st->rate = rate;
	st->failed = -1;
	scenario_at_rate(s, idx, rate, &stage);
	sc_list[nsc++] = idx;
	for (i = 0; o->under_load && i < s->cfg->nscenarios && nsc < 256; i++)
		if (i != idx)
			sc_list[nsc++] = i;
	ph = (run_phase){o->under_load ? STRATEGY_PARALLEL : STRATEGY_SEQUENTIAL, sc_list, nsc, 0};
	met_registry_set_redact(reg, s->cfg->secrets);
	eng = engine_create(s->cfg, reg, 0, err, sizeof(err));
	if (!eng) {
		fprintf(stderr, "strain capacity: %s\n", err);
		met_registry_destroy(reg);
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.reg = reg;
	w.warmup_ns = o->warmup_ns;
	w.module = mod;
	met_shard_init(&w.sh);
	t0 = clock_mono_ns();
	idle = engine_idle_source(eng);
	coll = met_collector_create(reg, &idle, NS_PER_SEC, t0);
	met_collector_add_output(coll, &wo);
	met_collector_start(coll);
	sw = (step_wait){eng, &s->sigs, t0 + o->step_ns + NS_PER_SEC / 2, 0, &s->interrupted};
	cpu0 = cpu_seconds();
	if (engine_phase_run(eng, coll, &ph, &res, step_wait_fn, &sw) < 0) {
		met_collector_stop(coll);
		met_collector_destroy(coll);
		engine_destroy(eng);
		met_shard_free(&w.sh);
		met_registry_destroy(reg);
		return -1;
	}
	met_collector_stop(coll);
	met_collector_finish(coll, NULL, 0);
	{
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		double wall = (double)(clock_mono_ns() - t0) / 1e9;

		st->cpu = (cpu_seconds() - cpu0) / (wall * (double)(ncpu > 0 ? ncpu : 1));
	}
	/* Rates over the schedule's window: the tail after the last arrival
	 * (in-flight iterations finishing) adds responses, not time. */
	secs = (double)(o->step_ns - o->warmup_ns) / 1e9;
	if (w.ns && (double)w.ns / 1e9 < secs)
		secs = (double)w.ns / 1e9;
	agg_metric(&w.sh, reg, MET_HTTP_REQ_DURATION, mod, &a);
	st->p50 = met_hist_percentile(a.hist, 50) / 1e6;
	st->p95 = met_hist_percentile(a.hist, 95) / 1e6;
	st->p99 = met_hist_percentile(a.hist, 99) / 1e6;
	st->max = (double)a.hist->max / 1e6;
	met_agg_free(&a);
	st->rps = w.reqs / secs;
	agg_metric(&w.sh, reg, MET_HTTP_REQ_FAILED, mod, &a);
	st->err_rate = a.n ? (double)a.nonzero / (double)a.n : 0;
	met_agg_free(&a);
	agg_metric(&w.sh, reg, MET_DROPPED_ITERATIONS, mod, &a);
	st->dropped = (uint64_t)a.sum;
	met_agg_free(&a);
	/* Every started iteration records its start delay as it starts (the
	 * iterations counter counts them as they end: a saturated target
	 * caps that, not the generator). */
	agg_metric(&w.sh, reg, MET_ITERATION_START_DELAY, mod, &a);
	st->start_delay_p95 = met_hist_percentile(a.hist, 95) / 1e6;
	st->iter_rate = (double)a.hist->count / secs;
	met_agg_free(&a);
	for (i = 0; i < PH_N; i++) {
		agg_metric(&w.sh, reg, phase_metric[i], mod, &a);
		st->phase[i] = met_hist_mean(a.hist) / 1e6;
		met_agg_free(&a);
	}
	nobj = objectives(s, mod, obj);
	st->ok = 1;
	for (i = 0; i < nobj; i++) {
		met_threshold th;
		met_tag filt[MET_MAX_TAGS];
		met_threshold_result r;

		met_threshold_scope(obj[i], "module", mod, filt, MET_MAX_TAGS, &th);
		if (!met_threshold_eval(&th, &w.sh, reg, secs, &r) && st->ok) {
			st->ok = 0;
			st->failed = (int)i;
			st->observed = r.observed;
		}
	}
	/* A generator that falls behind offers less than it was asked: a step
	 * that held then proves nothing about the rate asked, while a step
	 * that failed failed at no more than it (durations are timed from
	 * the send). A generator out of CPU reads late, which inflates every
	 * duration: nothing it measured then counts. */
	if (st->cpu > GEN_CPU_MAX)
		snprintf(st->why, sizeof(st->why), "strain used %.0f%% of the CPU", st->cpu * 100);
	else if (st->ok && st->start_delay_p95 * 1e6 > (double)GEN_LAG_NS)
		snprintf(st->why, sizeof(st->why), "iterations started late (iteration_start_delay p95 %.1f ms)",
			 st->start_delay_p95);
	else if (st->ok && st->iter_rate < GEN_RATE_MIN * rate)
		snprintf(st->why, sizeof(st->why), "only %.4g of the %.4g iterations/s asked started", st->iter_rate,
			 rate);
	st->untrusted = st->why[0] != 0;
	met_collector_destroy(coll);
	engine_destroy(eng);
	met_shard_free(&w.sh);
	met_registry_destroy(reg);
	return 0;
}

/* A rate as people write it: 64000, 212.5, 0.75. */
static const char *rate_str(double r, char *out, size_t outsz)
{
	snprintf(out, outsz, r >= 100 ? "%.0f" : "%.3g", r);
	return out;
}

static void step_print(const search *s, const char *mod, const cap_step *st)
{
	const met_threshold *obj[MAX_OBJECTIVES];
	char r1[32], r2[32];

	if (s->o->quiet)
		return;
	fprintf(stderr, "strain capacity: %s at %s/s: %s req/s, p95 %.4g ms, errors %.2f%%", mod,
		rate_str(st->rate, r1, sizeof(r1)), rate_str(st->rps, r2, sizeof(r2)), st->p95, st->err_rate * 100);
	if (st->untrusted)
		fprintf(stderr, ": not trusted, %s\n", st->why);
	else if (st->ok)
		fprintf(stderr, ": holds\n");
	else {
		objectives((search *)s, mod, obj);
		fprintf(stderr, ": fails %s %s (observed %.4g)\n", obj[st->failed]->source, obj[st->failed]->expr,
			st->observed);
	}
}

static void analyse(cap_module *m)
{
	const cap_step *low = NULL, *high = NULL;
	double grow = 0;
	uint32_t i, k;

	for (i = 0; i < m->nsteps; i++) {
		const cap_step *st = &m->steps[i];

		if (st->untrusted)
			continue;
		if (!low || st->rate < low->rate)
			low = st;
		if (!high || st->rate > high->rate)
			high = st;
	}
	m->knee = 0;
	for (i = 0; low && i < m->nsteps; i++) {
		const cap_step *st = &m->steps[i];

		if (st->untrusted || st->rate <= low->rate)
			continue;
		if (st->p95 >= KNEE_RATIO * low->p95 && st->p95 - low->p95 >= KNEE_MIN_MS &&
		    (m->knee == 0 || st->rate < m->knee))
			m->knee = st->rate;
	}
	m->grew = NULL;
	for (k = 0; low && high && high != low && k < PH_N; k++)
		if (high->phase[k] - low->phase[k] > grow) {
			grow = high->phase[k] - low->phase[k];
			m->grew = phase_name[k];
		}
}

static void search_module(search *s, uint32_t idx, cap_module *m)
{
	const capacity_opts *o = s->o;
	double rate = o->start_rate;

	m->name = s->cfg->scenarios[idx].name;
	m->limited_by = "target";
	m->bad_step = -1;
	while (m->nsteps < o->max_steps && m->nsteps < MAX_STEPS && !s->interrupted) {
		cap_step *st = &m->steps[m->nsteps];
		double r;

		if (m->bad == 0) {
			r = rate;
		} else {
			if (m->good > 0 && (m->bad - m->good) / m->good <= o->precision)
				break;
			if (m->good == 0 && m->bad <= o->start_rate / 16)
				break;
			r = m->good > 0 ? (m->good + m->bad) / 2 : m->bad / 2;
		}
		if (step_run(s, idx, r, st) < 0) {
			m->limited_by = "error";
			break;
		}
		m->nsteps++;
		step_print(s, m->name, st);
		/* A moment of a busy machine is not a limit: an untrusted step
		 * is run once more, and only a second one ends the search. */
		if (st->untrusted && !s->interrupted && m->nsteps < MAX_STEPS && m->nsteps < o->max_steps) {
			st = &m->steps[m->nsteps];
			if (step_run(s, idx, r, st) < 0) {
				m->limited_by = "error";
				break;
			}
			m->nsteps++;
			step_print(s, m->name, st);
		}
		if (s->interrupted) {
			m->limited_by = "interrupted";
			break;
		}
		if (st->untrusted) {
			m->limited_by = "generator";
			break;
		}
		if (st->ok) {
			m->good = r;
			if (m->bad == 0) {
				if (r >= o->max_rate) {
					m->limited_by = "max-rate";
					break;
				}
				rate = fmin(r * 2, o->max_rate);
			}
		} else if (m->bad == 0 || r < m->bad) {
			m->bad = r;
			m->bad_step = (int)m->nsteps - 1;
		}
	}
	analyse(m);
}

static json_t *module_json(const search *s, const cap_module *m)
{
	const met_threshold *obj[MAX_OBJECTIVES];
	json_t *o = json_object(), *steps = json_array();
	uint32_t i, k;

	objectives((search *)s, m->name, obj);
	json_object_set_new(o, "module", json_string(m->name));
	json_object_set_new(o, "sustainable_rate", json_real(m->good));
	json_object_set_new(o, "first_failing_rate", m->bad > 0 ? json_real(m->bad) : json_null());
	if (m->bad_step >= 0) {
		const cap_step *b = &m->steps[m->bad_step];
		json_t *f = json_object();

		json_object_set_new(f, "metric", json_string(obj[b->failed]->source));
		json_object_set_new(f, "expression", json_string(obj[b->failed]->expr));
		json_object_set_new(f, "observed", json_real(b->observed));
		json_object_set_new(o, "failed_objective", f);
	}
	json_object_set_new(o, "limited_by", json_string(m->limited_by));
	json_object_set_new(o, "knee_rate", m->knee > 0 ? json_real(m->knee) : json_null());
	json_object_set_new(o, "grew", m->grew ? json_string(m->grew) : json_null());
	for (i = 0; i < m->nsteps; i++) {
		const cap_step *st = &m->steps[i];
		json_t *j = json_object(), *ph = json_object();

		json_object_set_new(j, "rate", json_real(st->rate));
		json_object_set_new(j, "iterations_per_s", json_real(st->iter_rate));
		json_object_set_new(j, "rps", json_real(st->rps));
		json_object_set_new(j, "p50", json_real(st->p50));
		json_object_set_new(j, "p95", json_real(st->p95));
		json_object_set_new(j, "p99", json_real(st->p99));
		json_object_set_new(j, "max", json_real(st->max));
		json_object_set_new(j, "error_rate", json_real(st->err_rate));
		json_object_set_new(j, "dropped_iterations", json_integer((json_int_t)st->dropped));
		json_object_set_new(j, "start_delay_p95", json_real(st->start_delay_p95));
		json_object_set_new(j, "cpu", json_real(st->cpu));
		json_object_set_new(j, "ok", json_boolean(st->ok && !st->untrusted));
		if (st->untrusted)
			json_object_set_new(j, "untrusted", json_string(st->why));
		for (k = 0; k < PH_N; k++)
			json_object_set_new(ph, phase_name[k], json_real(st->phase[k]));
		json_object_set_new(j, "phases_avg_ms", ph);
		json_array_append_new(steps, j);
	}
	json_object_set_new(o, "steps", steps);
	return o;
}

static void table_print(const search *s, const cap_module *mods, uint32_t n)
{
	const met_threshold *obj[MAX_OBJECTIVES];
	uint32_t i;

	printf("\n  capacity (%s; steps of %.0fs, the first %.0fs left out):\n\n", s->o->under_load ? "each module under "
		"the others' plan load" : "each module alone", (double)s->o->step_ns / 1e9,
	       (double)s->o->warmup_ns / 1e9);
	printf("     %-16s %14s %14s %12s  %s\n", "module", "sustains", "fails at", "knee", "why");
	for (i = 0; i < n; i++) {
		const cap_module *m = &mods[i];
		char sus[40], bad[40] = "-", knee[40] = "-", r[32];

		objectives((search *)s, m->name, obj);
		snprintf(sus, sizeof(sus), "%s/s", rate_str(m->good, r, sizeof(r)));
		if (m->bad > 0)
			snprintf(bad, sizeof(bad), "%s/s", rate_str(m->bad, r, sizeof(r)));
		if (m->knee > 0)
			snprintf(knee, sizeof(knee), "%s/s", rate_str(m->knee, r, sizeof(r)));
		printf("     %-16s %14s %14s %12s  ", m->name, sus, bad, knee);
		if (!strcmp(m->limited_by, "generator"))
			printf("the generator, not the target, was the limit: %s\n", m->steps[m->nsteps - 1].why);
		else if (m->bad_step >= 0)
			printf("%s %s (observed %.4g)%s%s%s\n", obj[m->steps[m->bad_step].failed]->source,
			       obj[m->steps[m->bad_step].failed]->expr, m->steps[m->bad_step].observed,
			       m->grew ? "; " : "", m->grew ? m->grew : "", m->grew ? " grew most" : "");
		else if (!strcmp(m->limited_by, "max-rate"))
			printf("held up to --max-rate\n");
		else
			printf("%s\n", m->limited_by);
	}
	fputc('\n', stdout);
}

/* The results as a summary document (docs/summary-export.md: the
 * "capacity" part), which strain report draws. */
static int export(const search *s, const cap_module *mods, uint32_t n, uint64_t wall0, uint64_t mono0)
{
	json_t *root = json_object(), *arr = json_array(), *c = json_object();
	char t[40], err[512], line[600], *text;
	uint32_t i;
	int rc = 0;
	FILE *f;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, module_json(s, &mods[i]));
	json_object_set_new(c, "mode", json_string(s->o->under_load ? "under-load" : "alone"));
	json_object_set_new(c, "step_ms", json_real((double)s->o->step_ns / 1e6));
	json_object_set_new(c, "warmup_ms", json_real((double)s->o->warmup_ns / 1e6));
	json_object_set_new(c, "precision", json_real(s->o->precision));
	json_object_set_new(c, "modules", arr);
	snprintf(line, sizeof(line), "capacity search of %s (%s)", s->o->plan ? s->o->plan : "a plan",
		 s->o->under_load ? "each module under the others' load" : "each module alone");
	json_object_set_new(root, "version", json_string("strain-summary/2"));
	json_object_set_new(root, "description", json_string(line));
	json_object_set_new(root, "plan", s->o->plan ? json_string(s->o->plan) : json_null());
	json_object_set_new(root, "target", s->cfg->target ? json_string(s->cfg->target) : json_null());
	json_object_set_new(root, "start", json_string(fmt_rfc3339(wall0, t, sizeof(t))));
	json_object_set_new(root, "end", json_string(fmt_rfc3339(clock_wall_ns(), t, sizeof(t))));
	json_object_set_new(root, "duration_ms", json_real((double)(clock_mono_ns() - mono0) / 1e6));
	json_object_set_new(root, "interrupted", json_boolean(s->interrupted));
	json_object_set_new(root, "metrics", json_object());
	json_object_set_new(root, "capacity", c);
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	json_decref(root);
	if (s->o->summary_export) {
		f = fopen(s->o->summary_export, "w");
		if (!f || fputs(text, f) == EOF || fputc('\n', f) == EOF) {
			fprintf(stderr, "strain capacity: --summary-export %s: %s\n", s->o->summary_export, strerror(errno));
			rc = -1;
		}
		if (f && fclose(f) != 0 && !rc) {
			fprintf(stderr, "strain capacity: --summary-export %s: %s\n", s->o->summary_export, strerror(errno));
			rc = -1;
		}
	}
	if (s->o->report && report_html_write(s->o->report, text, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain capacity: --report: %s\n", err);
		rc = -1;
	} else if (s->o->report && !s->o->quiet) {
		fprintf(stderr, "strain capacity: report written to %s\n", s->o->report);
	}
	free(text);
	return rc;
}

capacity_outcome capacity_run(run_config *cfg, const capacity_opts *o)
{
	static const char *const defaults[][2] = {
		{"http_req_duration", "p(95)<1000"}, {"http_req_failed", "rate<0.01"}, {"checks", "rate>0.99"}};
	search s;
	cap_module *mods;
	uint32_t i, j, n = 0;
	capacity_outcome rc = CAPACITY_OK;
	char err[256];
	met_registry *reg = met_registry_create();
	uint64_t wall0 = clock_wall_ns(), mono0 = clock_mono_ns();

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.o = o;
	for (i = 0; i < 3; i++) {
		int in_expr;

		if (met_threshold_parse(&s.defaults[s.ndefaults], defaults[i][0], defaults[i][1], reg, err, sizeof(err),
					&in_expr) == 0)
			s.ndefaults++;
	}
	for (i = 0; i < o->nmodules; i++) {
		for (j = 0; j < cfg->nscenarios && strcmp(cfg->scenarios[j].name, o->modules[i]); j++)
			;
		if (j == cfg->nscenarios) {
			fprintf(stderr, "strain capacity: --module %s: the plan has no such module\n", o->modules[i]);
			rc = CAPACITY_BAD_CONFIG;
			goto out_free;
		}
	}
	s.saved = xcalloc(cfg->nscenarios, sizeof(*s.saved));
	memcpy(s.saved, cfg->scenarios, cfg->nscenarios * sizeof(*s.saved));
	mods = xcalloc(cfg->nscenarios + 1, sizeof(*mods));
	sigemptyset(&s.sigs);
	sigaddset(&s.sigs, SIGINT);
	sigaddset(&s.sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &s.sigs, NULL);
	for (i = 0; i < cfg->nscenarios && !s.interrupted; i++) {
		int wanted = !o->nmodules;

		for (j = 0; j < o->nmodules; j++)
			wanted |= !strcmp(o->modules[j], cfg->scenarios[i].name);
		if (!wanted)
			continue;
		search_module(&s, i, &mods[n]);
		/* Back to the plan's settings before the next module. */
		cfg->scenarios[i] = s.saved[i];
		if (!strcmp(mods[n].limited_by, "generator") && rc == CAPACITY_OK)
			rc = CAPACITY_UNTRUSTED;
		if (!strcmp(mods[n].limited_by, "error"))
			rc = CAPACITY_ERROR;
		n++;
	}
	pthread_sigmask(SIG_UNBLOCK, &s.sigs, NULL);
	table_print(&s, mods, n);
	if ((o->summary_export || o->report) && export(&s, mods, n, wall0, mono0) < 0 && rc == CAPACITY_OK)
		rc = CAPACITY_ERROR;
	if (s.interrupted)
		rc = CAPACITY_INTERRUPTED;
	memcpy(cfg->scenarios, s.saved, cfg->nscenarios * sizeof(*s.saved));
	free(mods);
	free(s.saved);
out_free:
	for (i = 0; i < s.ndefaults; i++)
		met_threshold_free(&s.defaults[i]);
	met_registry_destroy(reg);
	return rc;
}
