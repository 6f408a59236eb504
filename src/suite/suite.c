#include "suite/suite.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "engine/http_debug.h"
#include "engine/run.h"
#include "io/net.h"
#include "metrics/collector.h"
#include "metrics/threshold.h"
#include "output/console.h"
#include "output/output.h"
#include "report/html.h"
#include "report/summary.h"
#include "report/timeline.h"
#include "report/web.h"

typedef struct run_state {
	engine *eng;
	_Atomic int aborted;         /* a threshold with abortOnFail failed */
	sigset_t sigs;
	int interrupted;
	console_live *live;
	const run_config *cfg;
	const suite_opts *opts;
	output **outs;
	met_threshold_result *watch; /* the abort watch's own results */
	timeline *tl;                /* the run over time, for the summary */
	web_server *web;             /* --web, or NULL */
} run_state;

/* For the live line: points the outputs have dropped so far. */
static uint64_t outputs_dropped(void *p)
{
	run_state *st = p;
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < st->opts->nouts; i++)
		if (st->outs[i])
			n += output_dropped(st->outs[i]);
	return n;
}

/* Collector output: thresholds with abortOnFail, checked every second on
 * the run's totals once their delay has passed. */
static void threshold_watch(void *self, const met_snapshot *snap)
{
	run_state *st = self;
	const run_config *cfg = st->cfg;
	uint32_t i;

	if (snap->final || atomic_load(&st->aborted))
		return;
	for (i = 0; i < cfg->nthresholds; i++) {
		const met_threshold *t = &cfg->thresholds[i];

		if (!t->abort_on_fail || snap->elapsed_ns < t->delay_ns)
			continue;
		if (!met_threshold_eval(t, snap->total, snap->reg, (double)snap->elapsed_ns / 1e9, &st->watch[i])) {
			fprintf(stderr, "\nstrain: threshold %s %s failed (observed %.4g): aborting the run\n", t->source,
				t->expr, st->watch[i].observed);
			atomic_store(&st->aborted, 1);
			return;
		}
	}
}

/* Takes one pending SIGINT/SIGTERM, waiting at most wait_ns. Returns 1 if
 * one came (and acts on it), 0 otherwise. An abort by threshold stops the
 * workers like a first signal. */
static int take_signal(run_state *st, uint64_t wait_ns)
{
	struct timespec ts = {(time_t)(wait_ns / NS_PER_SEC), (long)(wait_ns % NS_PER_SEC)};
	int sig = sigtimedwait(&st->sigs, NULL, &ts);

	if (atomic_load(&st->aborted) == 1) {
		atomic_store(&st->aborted, 2);
		engine_stop(st->eng, ENGINE_STOP_GRACEFUL);
	}
	if (sig != SIGINT && sig != SIGTERM)
		return 0;
	st->interrupted++;
	engine_stop(st->eng, st->interrupted == 1 ? ENGINE_STOP_GRACEFUL : ENGINE_STOP_HARD);
	if (st->interrupted == 1) {
		console_live_set_note(st->live, "stopping: finishing in-flight requests (signal again to stop now)");
		if (!st->opts->quiet)
			fprintf(stderr, "\nstrain: stopping; in-flight iterations get their graceful stop (signal again to stop now)\n");
	}
	return 1;
}

/* The engine's wait while a phase runs. */
static void phase_wait(void *p, uint64_t wait_ns)
{
	take_signal(p, wait_ns);
}

/* Dropped iterations mean the open model did not hold: the load offered
 * was less than planned. That must not pass unnoticed, quiet or not. */
static void warn_dropped(FILE *f, const met_registry *reg, const met_shard *total)
{
	double dropped = 0;
	uint32_t i;

	for (i = 0; i < total->ntouched; i++) {
		uint32_t id = total->touched[i];

		if (met_series_metric(reg, id) == MET_DROPPED_ITERATIONS)
			dropped += total->cells[id].u.sum;
	}
	if (dropped > 0)
		fprintf(f, "  WARNING: %.0f iterations were dropped: no VU was free when they were due (raise maxVUs / "
			   "--max-vus, or use queue mode); the target saw less load than planned\n\n", dropped);
}

/* One output's final flush, on a thread of its own so that the outputs
 * flush at the same time and the main thread stays free for signals. */
typedef struct out_flush {
	output *o;
	output_stats os;
	int rc;
	uint64_t ns, t_end;
	_Atomic int done;
	int threaded;
	pthread_t thread;
} out_flush;

static void *flush_main(void *p)
{
	out_flush *f = p;
	uint64_t t = clock_mono_ns();

	f->rc = output_close(f->o, &f->os);
	f->t_end = clock_mono_ns();
	f->ns = f->t_end - t;
	atomic_store(&f->done, 1);
	return NULL;
}

/* After a cut, how long an output may take to notice before the run stops
 * waiting for it (a write(2) blocked on a pipe nobody reads). */
#define FLUSH_ABANDON_AFTER_CUT (2 * NS_PER_SEC)

/* Closes every output: their final flushes run together, each within its
 * own limit (at most OUTPUT_FLUSH_MAX). A signal meanwhile cuts them short
 * (and makes the exit status 105); an output still blocked well past its
 * limit is abandoned — left to the process exit, not freed — so the
 * summary is always written. Fills out[i]'s counts and flush figures.
 * Returns -1 if an output failed (a file that could not be written). */
static int outputs_flush(run_state *st, output **outs, uint32_t n, output_result *out)
{
	out_flush *fl = xcalloc(n + 1, sizeof(*fl));
	uint64_t t = clock_mono_ns(), give_up = t + OUTPUT_FLUSH_MAX + 5 * NS_PER_SEC;
	uint32_t i, left = n;
	int rc = 0, keep = 0;

	for (i = 0; i < n; i++) {
		fl[i].o = outs[i];
		out[i].dropped = output_dropped(outs[i]); /* before the flush */
		fl[i].threaded = pthread_create(&fl[i].thread, NULL, flush_main, &fl[i]) == 0;
		if (!fl[i].threaded)
			flush_main(&fl[i]); /* no thread: flush here, unwatched */
	}
	for (;;) {
		/* Outputs that flush at once (most) cost one look, not a wait. */
		struct timespec ts = {0, 10 * NS_PER_MS};
		uint64_t now;
		int sig;

		for (left = 0, i = 0; i < n; i++)
			left += !atomic_load(&fl[i].done);
		if (!left || clock_mono_ns() >= give_up)
			break;
		sig = sigtimedwait(&st->sigs, NULL, &ts);
		now = clock_mono_ns();
		if (sig == SIGINT || sig == SIGTERM) {
			st->interrupted++;
			if (!st->opts->quiet)
				fprintf(stderr, "\nstrain: signal: cutting the outputs' final flush short\n");
			for (i = 0; i < n; i++)
				output_cut(outs[i]);
			if (now + FLUSH_ABANDON_AFTER_CUT < give_up)
				give_up = now + FLUSH_ABANDON_AFTER_CUT;
		}
	}
	for (i = 0; i < n; i++) {
		uint64_t before = out[i].dropped;

		if (!atomic_load(&fl[i].done)) {
			/* Still blocked: its thread keeps outs[i] and fl, which are
			 * deliberately not freed. */
			fprintf(stderr, "strain: output %u: its final flush is still blocked; not waiting any longer\n", i + 1);
			out[i].flush_abandoned = 1;
			out[i].flush_ns = clock_mono_ns() - t;
			out[i].last_error = xstrdup("final flush abandoned");
			outs[i] = NULL;
			keep = 1;
			continue;
		}
		if (fl[i].threaded)
			pthread_join(fl[i].thread, NULL);
		if (fl[i].rc < 0)
			rc = -1;
		out[i].written = fl[i].os.points_written;
		out[i].dropped = fl[i].os.points_dropped;
		out[i].flush_dropped = out[i].dropped > before ? out[i].dropped - before : 0;
		out[i].errors = fl[i].os.write_errors;
		out[i].last_error = xstrdup(fl[i].os.last_error);
		out[i].flush_ns = fl[i].ns;
		out[i].flush_cut = atomic_load(&outs[i]->cutoff) <= fl[i].t_end;
		output_destroy(outs[i]);
		outs[i] = NULL;
	}
	if (!keep)
		free(fl);
	return rc;
}

/* Creates the outputs; whether one wants raw samples is the engine's to
 * know. Returns -1 (with a message printed) when a spec is refused. */
static int outputs_open(run_state *st, met_registry *reg, int *keep_samples)
{
	const suite_opts *o = st->opts;
	output_env oenv;
	char err[512], host[256] = "", shown[512];
	uint32_t i;

	gethostname(host, sizeof(host) - 1);
	oenv.reg = reg;
	oenv.start_wall_ns = clock_wall_ns();
	oenv.instance = st->cfg->instance ? st->cfg->instance : host;
	oenv.abort = &st->aborted;
	oenv.collector_token = o->collector_token;
	oenv.cacert = st->cfg->tls_cacert;
	for (i = 0; i < o->nouts; i++) {
		st->outs[i] = output_create(o->outs[i], &oenv, err, sizeof(err));
		if (!st->outs[i]) {
			fprintf(stderr, "strain: --out %s: %s\n", output_spec_redact(o->outs[i], shown, sizeof(shown)), err);
			return -1;
		}
		*keep_samples |= st->outs[i]->wants_samples;
	}
	return 0;
}

/* The collector's outputs: every streaming output, the abort watch, the
 * live line. */
static void collector_outputs(run_state *st, met_collector *coll)
{
	const run_config *cfg = st->cfg;
	uint32_t i;

	{
		/* First: every later output may read the interval it just took. */
		met_output o = timeline_output(st->tl);

		met_collector_add_output(coll, &o);
	}
	for (i = 0; i < st->opts->nouts; i++) {
		met_output o = output_met(st->outs[i]);

		met_collector_add_output(coll, &o);
	}
	if (cfg->nthresholds) {
		met_output o = {threshold_watch, st};

		met_collector_add_output(coll, &o);
	}
	st->live = console_live_create(stderr, st->opts->quiet, cfg->nphases == 1 ? cfg->planned_duration_ns : 0);
	if (st->live) {
		met_output o = {console_live_snapshot, st->live};

		console_live_set_drops(st->live, outputs_dropped, st);
		met_collector_add_output(coll, &o);
	}
}

/* The phases in order, with their pauses; a signal or an abort ends them. */
static suite_outcome phases_run(run_state *st, met_collector *coll, uint64_t t0, run_phase_result *res)
{
	const run_config *cfg = st->cfg;
	uint32_t i, k;

	for (i = 0; i < cfg->nphases && !st->interrupted && !atomic_load(&st->aborted); i++) {
		const run_phase *ph = &cfg->phases[i];
		uint64_t until = clock_mono_ns() + ph->pause_ns, now;

		if (ph->pause_ns && !st->opts->quiet)
			fprintf(stderr, "strain: pausing %.1fs before the next phase\n", (double)ph->pause_ns / 1e9);
		for (now = clock_mono_ns(); !st->interrupted && !atomic_load(&st->aborted) && now < until;
		     now = clock_mono_ns())
			take_signal(st, until - now < 50 * NS_PER_MS ? until - now : 50 * NS_PER_MS);
		if (st->interrupted || atomic_load(&st->aborted))
			break;
		if (ph->strategy != STRATEGY_NONE && !st->opts->quiet) {
			fprintf(stderr, "strain: %s:", run_strategy_name(ph->strategy));
			for (k = 0; k < ph->nscenarios; k++)
				fprintf(stderr, " %s", cfg->scenarios[ph->scenarios[k]].name);
			fputc('\n', stderr);
		}
		res[i].ran = 1;
		web_phase(st->web, i, clock_mono_ns() - t0, 0);
		if (engine_phase_run(st->eng, coll, ph, &res[i], phase_wait, st) < 0)
			return SUITE_SETUP;
		/* A phase anchored at --start-at may begin a hair before the run's
		 * clock (both are derived from the wall clock). */
		res[i].t_start = res[i].t_start > t0 ? res[i].t_start - t0 : 0;
		res[i].t_end = res[i].t_end > t0 ? res[i].t_end - t0 : 0;
		web_phase(st->web, i, res[i].t_start, res[i].t_end);
	}
	return SUITE_OK;
}

/* The end of the run: thresholds judged on the load window, the summary
 * printed and exported, the report written. */
static suite_outcome report(run_state *st, met_registry *reg, met_collector *coll, run_result *info)
{
	const run_config *cfg = st->cfg;
	met_threshold_result *res = xcalloc(cfg->nthresholds + 1, sizeof(*res));
	suite_outcome rc = SUITE_OK;
	char *text = NULL;
	char err[512];
	uint32_t i;

	for (i = 0; i < cfg->nthresholds; i++)
		if (!met_threshold_eval(&cfg->thresholds[i], met_collector_total(coll), reg,
					(double)info->elapsed_ns / 1e9, &res[i]))
			rc = SUITE_THRESHOLDS;
	info->th_results = res;
	info->reg = reg;
	info->total = met_collector_total(coll);
	if (!st->opts->quiet && !st->opts->no_summary)
		summary_print(stdout, info);
	warn_dropped(st->opts->quiet || st->opts->no_summary ? stderr : stdout, reg, met_collector_total(coll));
	fflush(stdout);
	/* One document for the export, the dashboard and the report: the same
	 * bytes everywhere, built once (a long run's time series is megabytes). */
	if (st->opts->summary_export || st->web || st->opts->report_html)
		text = summary_json(info);
	if (st->opts->summary_export && summary_export(st->opts->summary_export, text, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain: %s\n", err);
		rc = SUITE_ERROR;
	}
	if (st->web)
		web_final(st->web, text);
	if (st->opts->report_html && report_html_write(st->opts->report_html, text, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain: --report %s\n", err);
		rc = SUITE_ERROR;
	}
	free(text);
	free(res);
	info->th_results = NULL;
	return rc;
}

/* --web: binds now, before any traffic, so a busy port stops the run
 * before it starts. Returns -1 (printed) when it cannot. */
static int web_open(run_state *st)
{
	char err[512];

	if (!st->opts->web)
		return 0;
	st->web = web_create(st->opts->web, err, sizeof(err));
	if (!st->web) {
		fprintf(stderr, "strain: --web %s: %s\n", st->opts->web, err);
		return -1;
	}
	fprintf(stderr, "strain: live dashboard at %s\n", web_url(st->web));
	return 0;
}

/* Serves the run live from now on, woken by the collector after every
 * other output (the timeline among them) has taken the snapshot in. */
static void web_begin(run_state *st, met_collector *coll, uint64_t start_wall_ns)
{
	web_run run = {st->opts->description, st->opts->plan, st->cfg->target, st->opts->strategy, st->cfg, st->tl,
		       start_wall_ns};
	met_output o;
	char err[256];

	if (!st->web)
		return;
	if (web_start(st->web, &run, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain: --web: %s; running without the dashboard\n", err);
		web_destroy(st->web);
		st->web = NULL;
		return;
	}
	o = web_output(st->web);
	met_collector_add_output(coll, &o);
}

/* --web-linger: the dashboard stays up this long after the run; a signal
 * ends the wait at once and leaves the run's exit status as it is. */
static void web_linger(run_state *st)
{
	uint64_t until, now;

	if (!st->web || !st->opts->web_linger_ns)
		return;
	if (!st->opts->quiet)
		fprintf(stderr, "strain: the dashboard stays up for %.0fs at %s (Ctrl-C ends it)\n",
			(double)st->opts->web_linger_ns / 1e9, web_url(st->web));
	until = clock_mono_ns() + st->opts->web_linger_ns;
	for (now = clock_mono_ns(); now < until; now = clock_mono_ns()) {
		uint64_t wait = until - now;
		struct timespec ts = {(time_t)(wait / NS_PER_SEC), (long)(wait % NS_PER_SEC)};
		int sig = sigtimedwait(&st->sigs, NULL, &ts);

		if (sig == SIGINT || sig == SIGTERM)
			break;
	}
}

static void warn_nofile(const run_config *cfg)
{
	long nofile = net_raise_nofile();
	uint32_t i;

	for (i = 0; i < cfg->nscenarios; i++)
		if (nofile > 0 && (uint64_t)nofile < (uint64_t)cfg->scenarios[i].vus + 64)
			fprintf(stderr, "strain: warning: open-file limit %ld is below %u VUs + margin; raise it with ulimit -n\n",
				nofile, cfg->scenarios[i].vus);
}

/* --start-at: waits (signals still taken) until the wall-clock start, so
 * that processes started at slightly different moments begin together. A
 * process that comes late says by how much and runs in step: its schedule
 * is the one that began at the start time (engine_start_late). -1 when a
 * signal ended the wait. */
static int start_at_wait(run_state *st)
{
	uint64_t at = st->opts->start_at_wall_ns, now = clock_wall_ns();

	if (!at)
		return 0;
	if (now >= at) {
		fprintf(stderr, "strain: --start-at passed %.3fs ago: joining the schedule in step\n",
			(double)(now - at) / 1e9);
		engine_start_at(st->eng, at, 1);
		return 0;
	}
	if (!st->opts->quiet)
		fprintf(stderr, "strain: waiting %.3fs for --start-at\n", (double)(at - now) / 1e9);
	while (!st->interrupted && now < at) {
		uint64_t left = at - now;

		take_signal(st, left < 50 * NS_PER_MS ? left : 50 * NS_PER_MS);
		now = clock_wall_ns();
	}
	engine_start_at(st->eng, at, 0);
	return st->interrupted ? -1 : 0;
}

suite_outcome suite_run(const run_config *cfg, const suite_opts *o)
{
	run_state st;
	met_registry *reg = met_registry_create();
	met_collector *coll = NULL;
	met_source idle;
	uint32_t i;
	uint64_t t_start_wall, t0;
	suite_outcome rc = SUITE_OK, end;
	output_result *outstats = NULL;
	run_phase_result *phase_res = NULL;
	run_result info;
	char err[512], shown[512];
	int keep_samples = 0;

	memset(&st, 0, sizeof(st));
	/* Secrets first: the run's tags are interned with them hidden. */
	met_registry_set_redact(reg, cfg->secrets);
	http_debug_set_redact(cfg->secrets);
	met_registry_set_run_tags(reg, cfg->run_tags, cfg->nrun_tags);
	st.cfg = cfg;
	st.opts = o;
	st.watch = xcalloc(cfg->nthresholds + 1, sizeof(*st.watch));
	st.tl = timeline_create();
	sigemptyset(&st.sigs);
	sigaddset(&st.sigs, SIGINT);
	sigaddset(&st.sigs, SIGTERM);
	warn_nofile(cfg);
	st.outs = xcalloc(o->nouts + 1, sizeof(*st.outs));
	if (web_open(&st) < 0 || outputs_open(&st, reg, &keep_samples) < 0) {
		rc = SUITE_BAD_CONFIG;
		goto out;
	}
	st.eng = engine_create(cfg, reg, keep_samples, err, sizeof(err));
	if (!st.eng) {
		fprintf(stderr, "strain: %s\n", err);
		rc = SUITE_BAD_CONFIG;
		goto out;
	}

	/* Workers inherit this mask; only this thread takes the signals. */
	pthread_sigmask(SIG_BLOCK, &st.sigs, NULL);
	if (start_at_wait(&st) < 0) {
		rc = SUITE_INTERRUPTED;
		goto out;
	}
	t0 = clock_mono_ns();
	t_start_wall = clock_wall_ns();
	if (o->start_at_wall_ns && t_start_wall > o->start_at_wall_ns) {
		/* The run's clock, like its first phase's, starts at --start-at. */
		t0 -= t_start_wall - o->start_at_wall_ns;
		t_start_wall = o->start_at_wall_ns;
	}
	idle = engine_idle_source(st.eng);
	coll = met_collector_create(reg, &idle, NS_PER_SEC, t0);
	met_collector_set_start_wall(coll, t_start_wall);
	if (keep_samples)
		met_collector_keep_samples(coll);
	collector_outputs(&st, coll);
	web_begin(&st, coll, t_start_wall);
	met_collector_start(coll);
	phase_res = xcalloc(cfg->nphases + 1, sizeof(*phase_res));
	rc = phases_run(&st, coll, t0, phase_res);
	/* The load is over: the run's window, its duration and every rate end
	 * here. What the outputs still have to deliver comes after, bounded,
	 * and is reported on its own. */
	memset(&info, 0, sizeof(info));
	info.elapsed_ns = clock_mono_ns() - t0;
	info.end_wall_ns = clock_wall_ns();
	met_collector_stop(coll);
	met_collector_finish(coll, NULL, 0);
	outstats = xcalloc(o->nouts + 1, sizeof(*outstats));
	if (outputs_flush(&st, st.outs, o->nouts, outstats) < 0 && rc == SUITE_OK)
		rc = SUITE_ERROR;
	for (i = 0; i < o->nouts; i++)
		outstats[i].spec = xstrdup(output_spec_redact(o->outs[i], shown, sizeof(shown)));
	info.description = o->description;
	info.plan = o->plan;
	info.strategy = o->strategy;
	info.timeline = st.tl;
	info.start_wall_ns = t_start_wall;
	info.interrupted = st.interrupted > 0;
	info.vus = engine_vus_max(st.eng);
	info.threads = cfg->threads;
	info.duration_ns = cfg->planned_duration_ns;
	info.iterations = cfg->planned_iterations;
	info.timeout_ns = cfg->timeout_ns;
	info.no_reuse = cfg->no_reuse;
	info.series_overflow = met_series_overflowed(reg);
	info.outputs = outstats;
	info.noutputs = o->nouts;
	info.cfg = cfg;
	info.phases = phase_res;
	info.trend_stats = o->trend_stats;
	end = report(&st, reg, coll, &info);
	if (rc == SUITE_OK)
		rc = end;
	if (st.interrupted)
		rc = SUITE_INTERRUPTED;
	else if (atomic_load(&st.aborted) && rc != SUITE_SETUP)
		rc = SUITE_THRESHOLDS;
	web_linger(&st);
out:
	pthread_sigmask(SIG_UNBLOCK, &st.sigs, NULL);
	for (i = 0; i < o->nouts; i++) {
		if (st.outs[i]) {
			output_stats os;

			output_close(st.outs[i], &os);
			output_destroy(st.outs[i]);
		}
	}
	for (i = 0; outstats && i < o->nouts; i++) {
		free((char *)outstats[i].spec);
		free((char *)outstats[i].last_error);
	}
	free(st.outs);
	free(outstats);
	free(phase_res);
	free(st.watch);
	met_collector_destroy(coll);
	web_destroy(st.web); /* after the collector, which wakes it, before the timeline it reads */
	timeline_destroy(st.tl);
	engine_destroy(st.eng);
	console_live_destroy(st.live);
	met_registry_destroy(reg);
	return rc;
}
