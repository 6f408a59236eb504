#include "engine/run.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/errcode.h"
#include "engine/worker.h"
#include "io/tls.h"
#include "metrics/collector.h"
#include "output/console.h"
#include "output/output.h"
#include "program/request.h"
#include "report/summary.h"

static void *memdup(const void *p, size_t n)
{
	void *q = xmalloc(n ? n : 1);

	memcpy(q, p, n);
	return q;
}

/* k6's maxDuration default for iteration-bound executors. */
#define DEFAULT_MAX_DURATION (10 * 60 * NS_PER_SEC)

void run_config_init(run_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vus = 1;
	cfg->timeout_ns = 60 * NS_PER_SEC;
	cfg->connect_timeout_ns = 30 * NS_PER_SEC;
	cfg->graceful_stop_ns = 30 * NS_PER_SEC;
	cfg->expected_lo = 200;
	cfg->expected_hi = 399;
	cfg->scenario = "default";
}

void run_config_free(run_config *cfg)
{
	uint32_t i, j;

	for (i = 0; i < cfg->nreqs; i++)
		run_request_free(&cfg->reqs[i]);
	free(cfg->reqs);
	for (i = 0; i < cfg->nscenarios; i++) {
		run_scenario *sc = &cfg->scenarios[i];

		free(sc->name);
		for (j = 0; j < sc->ntags; j++) {
			free((char *)sc->tags[j].key);
			free((char *)sc->tags[j].value);
		}
		free(sc->tags);
		flow_program_free(&sc->setup);
		flow_program_free(&sc->flow);
		for (j = 0; j < sc->nvars; j++)
			free(sc->var_names[j]);
		free(sc->var_names);
		free(sc->stages);
	}
	free(cfg->scenarios);
	free(cfg->stages);
	for (i = 0; i < 3; i++)
		free(cfg->tls_files[i]);
	for (i = 0; i < cfg->nphases; i++) {
		free(cfg->phases[i].strategy);
		free(cfg->phases[i].scenarios);
	}
	free(cfg->phases);
	for (i = 0; i < cfg->ndata; i++) {
		run_data *d = &cfg->data[i];

		for (j = 0; j < d->ncols; j++)
			free(d->names[j]);
		for (j = 0; j < d->ncols * d->nrows; j++)
			free(d->cells[j]);
		free(d->names);
		free(d->cells);
		free(d->alias);
		free(d->file);
	}
	free(cfg->data);
	for (i = 0; i < cfg->ngroups; i++)
		free(cfg->groups[i]);
	free(cfg->groups);
	for (i = 0; i < cfg->nchoices; i++) {
		free(cfg->choices[i].cum);
		free(cfg->choices[i].target);
	}
	free(cfg->choices);
	free(cfg->checks);
	for (i = 0; i < cfg->nplan_outs; i++)
		free(cfg->plan_outs[i]);
	free(cfg->plan_outs);
	for (i = 0; i < cfg->nthresholds; i++)
		met_threshold_free(&cfg->thresholds[i]);
	free(cfg->thresholds);
	free(cfg->description);
	memset(cfg, 0, sizeof(*cfg));
}

void run_config_quick(run_config *cfg)
{
	run_scenario *sc;
	flow_op op = {0};

	cfg->scenarios = xcalloc(1, sizeof(*cfg->scenarios));
	cfg->nscenarios = 1;
	sc = &cfg->scenarios[0];
	sc->name = xstrdup(cfg->scenario);
	sc->vus = cfg->vus;
	sc->graceful_stop_ns = cfg->graceful_stop_ns;
	sc->graceful_ramp_down_ns = cfg->graceful_stop_ns;
	sc->time_unit_ns = NS_PER_SEC;
	if (cfg->rate > 0) {
		/* Open model: --vus preallocated, up to --max-vus. */
		sc->prealloc_vus = cfg->vus;
		sc->vus = cfg->max_vus > cfg->vus ? cfg->max_vus : cfg->vus;
		sc->start_rate = cfg->rate;
		sc->queue = cfg->queue;
		if (cfg->nstages) {
			sc->exec = EXEC_RAMPING_ARRIVAL_RATE;
			sc->nstages = cfg->nstages;
			sc->stages = memdup(cfg->stages, cfg->nstages * sizeof(*cfg->stages));
		} else {
			sc->exec = EXEC_CONSTANT_ARRIVAL_RATE;
			sc->nstages = 1;
			sc->stages = xcalloc(1, sizeof(*sc->stages));
			sc->stages[0].duration_ns = cfg->duration_ns;
			sc->stages[0].target = cfg->rate;
		}
		sc->duration_ns = exec_stages_duration(sc->stages, sc->nstages);
	} else if (cfg->nstages) {
		/* k6: --vus is the ramp's starting point. */
		sc->exec = EXEC_RAMPING_VUS;
		sc->start_vus = cfg->vus;
		sc->nstages = cfg->nstages;
		sc->stages = memdup(cfg->stages, cfg->nstages * sizeof(*cfg->stages));
		sc->duration_ns = exec_stages_duration(sc->stages, sc->nstages);
		sc->vus = exec_vus_max(sc->stages, sc->nstages, sc->start_vus);
	} else if (cfg->iterations) {
		sc->exec = EXEC_SHARED_ITERATIONS;
		sc->iterations = cfg->iterations;
		sc->duration_ns = cfg->duration_ns ? cfg->duration_ns : DEFAULT_MAX_DURATION;
	} else {
		sc->exec = EXEC_CONSTANT_VUS;
		sc->duration_ns = cfg->duration_ns;
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
}

/* When a name has several addresses (localhost: ::1 and 127.0.0.1), use the
 * first that accepts a connection, as a dialer with fallback would. */
static int pick_address(const net_addr *addrs, int n)
{
	int i;

	for (i = 0; i < n && n > 1; i++) {
		int fd = net_socket(&addrs[i]), rc;
		struct pollfd p;

		if (fd < 0)
			continue;
		rc = net_connect(fd, &addrs[i]);
		if (rc == 1) {
			p.fd = fd;
			p.events = POLLOUT;
			rc = poll(&p, 1, 500) == 1 && net_socket_error(fd) == 0 ? 0 : -1;
		}
		close(fd);
		if (rc == 0)
			return i;
	}
	return 0;
}

static int same_endpoint(const run_request *a, const run_request *b)
{
	return a->tls == b->tls && strcmp(a->url.host, b->url.host) == 0 && strcmp(a->url.port, b->url.port) == 0;
}

static void resolve_all(run_config *cfg)
{
	uint32_t i, j, k;

	cfg->nendpoints = 0;
	for (i = 0; i < cfg->nreqs; i++) {
		run_request *r = &cfg->reqs[i];
		net_addr addrs[RUN_MAX_ADDRS];
		int n;

		for (j = 0; j < i; j++)
			if (strcmp(cfg->reqs[j].url.host, r->url.host) == 0 &&
			    strcmp(cfg->reqs[j].url.port, r->url.port) == 0)
				break;
		/* A connection (and a TLS session) serves one endpoint only. */
		for (k = 0; k < i && !same_endpoint(&cfg->reqs[k], r); k++)
			;
		r->endpoint = k < i ? cfg->reqs[k].endpoint : cfg->nendpoints++;
		if (j < i) {
			r->addr = cfg->reqs[j].addr;
			r->resolve_error = cfg->reqs[j].resolve_error;
			continue;
		}
		n = net_resolve(r->url.host, r->url.port, addrs, RUN_MAX_ADDRS);
		if (n <= 0) {
			r->resolve_error = n == EAI_NONAME || n == EAI_NODATA ? ERR_DNS_NO_HOST : ERR_DNS;
			fprintf(stderr, "strain: warning: cannot resolve %s: %s; every request to it will fail with %d\n",
				r->url.host, gai_strerror(n), r->resolve_error);
			continue;
		}
		r->addr = addrs[pick_address(addrs, n)];
	}
}

typedef struct run_state {
	run_ctx ctx;
	_Atomic int aborted;         /* a threshold with abortOnFail failed */
	uint64_t t_run0;
	worker **workers;
	uint32_t nworkers;
	uint32_t s_vus, s_vus_max;
	uint32_t vus_max;
	uint32_t vus_max_now;        /* last vus_max gauge (collector thread) */
	sigset_t sigs;
	int interrupted;
	console_live *live;
	const run_config *cfg;
	output **outs;
} run_state;

/* For the live line: points the outputs have dropped so far. */
static uint64_t outputs_dropped(void *p)
{
	run_state *st = p;
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < st->cfg->nouts; i++)
		if (st->outs[i])
			n += output_dropped(st->outs[i]);
	return n;
}

static met_shard *swap_cb(void *p, uint32_t i)
{
	run_state *st = p;

	return worker_swap(st->workers[i]);
}

static void gauges_cb(void *p, met_shard *interval)
{
	run_state *st = p;
	uint32_t i, vus = 0, vus_max = 0;

	/* The most VUs active at any point of the interval, so a short burst
	 * or the last interval of a run still shows them. vus_max follows the
	 * VUs initialised, which arrival rates raise up to maxVUs. */
	for (i = 0; i < st->nworkers; i++) {
		uint32_t cur, peak, alloc;

		worker_vus_gauges(st->workers[i], &cur, &peak, &alloc);
		vus += peak > cur ? peak : cur;
		vus_max += alloc;
	}
	st->vus_max_now = vus_max;
	met_shard_gauge(interval, st->ctx.reg, st->s_vus, vus);
	met_shard_gauge(interval, st->ctx.reg, st->s_vus_max, vus_max);
}

/* Between phases (and while a phase's workers are being created or
 * destroyed) the workers must not be touched: the gauges repeat the last
 * vus_max and show no VUs. */
static void gauges_idle_cb(void *p, met_shard *interval)
{
	run_state *st = p;

	met_shard_gauge(interval, st->ctx.reg, st->s_vus, 0);
	met_shard_gauge(interval, st->ctx.reg, st->s_vus_max, st->vus_max_now);
}

static uint32_t default_threads(uint32_t vus)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return (uint32_t)n < vus ? (uint32_t)n : (vus ? vus : 1);
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
		met_threshold t = cfg->thresholds[i];

		if (!t.abort_on_fail || snap->elapsed_ns < t.delay_ns)
			continue;
		if (!met_threshold_eval(&t, snap->total, snap->reg, (double)snap->elapsed_ns / 1e9)) {
			fprintf(stderr, "\nstrain: threshold %s %s failed (observed %.4g): aborting the run\n", t.source, t.expr,
				t.observed);
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
	uint32_t i;

	if (atomic_load(&st->aborted) == 1) {
		atomic_store(&st->aborted, 2);
		for (i = 0; i < st->nworkers; i++)
			worker_request_stop(st->workers[i], STOP_GRACEFUL);
	}
	if (sig != SIGINT && sig != SIGTERM)
		return 0;
	st->interrupted++;
	for (i = 0; i < st->nworkers; i++)
		worker_request_stop(st->workers[i], st->interrupted == 1 ? STOP_GRACEFUL : STOP_HARD);
	if (st->interrupted == 1) {
		console_live_set_note(st->live, "stopping: finishing in-flight requests (signal again to stop now)");
		if (!st->cfg->quiet)
			fprintf(stderr, "\nstrain: stopping; in-flight iterations get their graceful stop (signal again to stop now)\n");
	}
	return 1;
}

static uint32_t share_of(uint64_t total, uint32_t slot, uint32_t nslots)
{
	return (uint32_t)(total / nslots + (slot < total % nslots));
}

/* Runs one phase: its scenarios' VUs spread over fresh workers. */
static int run_phase_exec(run_state *st, met_collector *coll, const run_phase *ph, run_phase_result *res)
{
	const run_config *cfg = st->cfg;
	uint32_t total = 0, k, i, next_id = 1;
	worker_share *shares;
	met_source src = {0, swap_cb, gauges_cb, st};
	met_source none = {0, NULL, gauges_idle_cb, st};
	int rc = 0;

	for (k = 0; k < ph->nscenarios; k++)
		total += cfg->scenarios[ph->scenarios[k]].vus;
	st->nworkers = cfg->threads ? cfg->threads : default_threads(total);
	if (st->nworkers > total && total)
		st->nworkers = total;
	if (!st->nworkers)
		st->nworkers = 1;
	if (total > st->vus_max)
		st->vus_max = total;
	st->workers = xcalloc(st->nworkers, sizeof(*st->workers));
	shares = xcalloc((size_t)ph->nscenarios * st->nworkers + 1, sizeof(*shares));
	/* Each scenario's VUs and shared iterations are split evenly over the
	 * workers; VU ids run 1..N across the phase's scenarios (k6 numbers them per run).
	 * An arrival-rate schedule is split over at most maxVUs workers, so
	 * every worker that owns part of it has a VU to run it. */
	for (k = 0; k < ph->nscenarios; k++) {
		const run_scenario *sc = &cfg->scenarios[ph->scenarios[k]];
		uint32_t id = next_id, nslots = st->nworkers;

		if (exec_is_arrival(sc->exec) && sc->vus < nslots)
			nslots = sc->vus ? sc->vus : 1;
		for (i = 0; i < st->nworkers; i++) {
			worker_share *sh = &shares[(size_t)i * ph->nscenarios + k];

			sh->first_id = id;
			sh->slot = i;
			sh->nslots = nslots;
			if (i < nslots) {
				sh->nvus = share_of(sc->vus, i, nslots);
				sh->prealloc = share_of(sc->prealloc_vus, i, nslots);
				sh->iters = sc->iterations / nslots + (i < sc->iterations % nslots);
			}
			id += sh->nvus;
		}
		next_id = id;
	}
	atomic_store(&st->ctx.finished, 0);
	st->ctx.phase = ph;
	st->ctx.nworkers = st->nworkers;
	st->ctx.t0 = clock_mono_ns();
	st->ctx.wall0 = clock_wall_ns();
	res->t_start = st->ctx.t0;
	for (i = 0; i < st->nworkers; i++) {
		size_t at = (size_t)i * ph->nscenarios;

		st->workers[i] = worker_create(&st->ctx, i, shares + at);
		if (!st->workers[i]) {
			fprintf(stderr, "strain: cannot create worker %u: %s\n", i, strerror(errno));
			st->nworkers = i;
			rc = CLI_EXIT_SETUP;
			goto out;
		}
	}
	for (i = 0; i < st->nworkers; i++)
		if (worker_start(st->workers[i]) < 0) {
			fprintf(stderr, "strain: cannot start worker thread %u\n", i);
			abort();
		}
	src.n = st->nworkers;
	met_collector_set_source(coll, &src);
	if (st->interrupted)
		for (i = 0; i < st->nworkers; i++)
			worker_request_stop(st->workers[i], st->interrupted == 1 ? STOP_GRACEFUL : STOP_HARD);
	while (atomic_load(&st->ctx.finished) < st->nworkers)
		take_signal(st, 50 * NS_PER_MS);
	res->t_end = clock_mono_ns();
	met_collector_sample_gauges(coll);
	met_collector_set_source(coll, &none);
	for (i = 0; i < st->nworkers; i++) {
		met_shard *rest[2];

		worker_request_exit(st->workers[i]);
		worker_join(st->workers[i]);
		worker_shards(st->workers[i], rest);
		met_collector_absorb(coll, rest, 2);
	}
out:
	for (i = 0; i < st->nworkers; i++)
		worker_destroy(st->workers[i]);
	free(st->workers);
	st->workers = NULL;
	st->nworkers = 0;
	free(shares);
	return rc;
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

int run_execute(run_config *cfg)
{
	run_state st;
	met_registry *reg = met_registry_create();
	met_collector *coll = NULL;
	uint32_t i;
	uint64_t t_start_wall, t0;
	int rc = CLI_EXIT_OK;
	long nofile;
	output **outs = NULL;
	summary_output *outstats = NULL;
	run_phase_result *phase_res = NULL;
	output_env oenv;
	summary_info info;
	char err[512], host[256] = "", shown[512];
	met_source none;

	memset(&st, 0, sizeof(st));
	st.cfg = cfg;
	sigemptyset(&st.sigs);
	sigaddset(&st.sigs, SIGINT);
	sigaddset(&st.sigs, SIGTERM);
	nofile = net_raise_nofile();
	for (i = 0; i < cfg->nscenarios; i++)
		if (nofile > 0 && (uint64_t)nofile < (uint64_t)cfg->scenarios[i].vus + 64)
			fprintf(stderr, "strain: warning: open-file limit %ld is below %u VUs + margin; raise it with ulimit -n\n",
				nofile, cfg->scenarios[i].vus);
	for (i = 0; i < cfg->nreqs && !cfg->reqs[i].tls; i++)
		;
	if (i < cfg->nreqs) {
		tls_client_opts to = {cfg->tls_insecure, cfg->tls_cacert, cfg->no_tls_resumption, cfg->tls_cert,
				      cfg->tls_key};

		st.ctx.tls = tls_client_create(&to, err, sizeof(err));
		if (!st.ctx.tls) {
			fprintf(stderr, "strain: %s\n", err);
			rc = CLI_EXIT_BAD_CONFIG;
			goto out;
		}
		/* OpenSSL writes with write(2), which a closed peer answers with SIGPIPE. */
		signal(SIGPIPE, SIG_IGN);
	}
	resolve_all(cfg);
	st.ctx.cfg = cfg;
	st.ctx.reg = reg;
	st.s_vus = met_series_intern(reg, MET_VUS, 0);
	st.s_vus_max = met_series_intern(reg, MET_VUS_MAX, 0);

	/* Outputs first: whether they want raw samples decides how workers record. */
	outs = xcalloc(cfg->nouts + 1, sizeof(*outs));
	gethostname(host, sizeof(host) - 1);
	oenv.reg = reg;
	oenv.start_wall_ns = clock_wall_ns();
	oenv.instance = host;
	for (i = 0; i < cfg->nouts; i++) {
		outs[i] = output_create(cfg->outs[i], &oenv, err, sizeof(err));
		if (!outs[i]) {
			fprintf(stderr, "strain: --out %s: %s\n", output_spec_redact(cfg->outs[i], shown, sizeof(shown)), err);
			rc = CLI_EXIT_BAD_CONFIG;
			goto out;
		}
		st.ctx.keep_samples |= outs[i]->wants_samples;
	}

	/* Workers inherit this mask; only the main thread takes the signals. */
	pthread_sigmask(SIG_BLOCK, &st.sigs, NULL);
	t0 = clock_mono_ns();
	t_start_wall = clock_wall_ns();
	none = (met_source){0, NULL, gauges_idle_cb, &st};
	coll = met_collector_create(reg, &none, NS_PER_SEC, t0);
	if (st.ctx.keep_samples)
		met_collector_keep_samples(coll);
	for (i = 0; i < cfg->nouts; i++) {
		met_output o = output_met(outs[i]);

		met_collector_add_output(coll, &o);
	}
	if (cfg->nthresholds) {
		met_output o = {threshold_watch, &st};

		met_collector_add_output(coll, &o);
	}
	st.live = console_live_create(stderr, cfg->quiet, cfg->nphases == 1 ? cfg->duration_ns : 0);
	if (st.live) {
		met_output o = {console_live_snapshot, st.live};

		st.outs = outs;
		console_live_set_drops(st.live, outputs_dropped, &st);
		met_collector_add_output(coll, &o);
	}
	met_collector_start(coll);
	phase_res = xcalloc(cfg->nphases + 1, sizeof(*phase_res));
	for (i = 0; i < cfg->nphases && !st.interrupted && !atomic_load(&st.aborted) && rc == CLI_EXIT_OK; i++) {
		const run_phase *ph = &cfg->phases[i];
		uint64_t until = clock_mono_ns() + ph->pause_ns;

		if (ph->pause_ns && !cfg->quiet)
			fprintf(stderr, "strain: pausing %.1fs before the next phase\n", (double)ph->pause_ns / 1e9);
		while (!st.interrupted && !atomic_load(&st.aborted) && clock_mono_ns() < until)
			take_signal(&st, until - clock_mono_ns() < 50 * NS_PER_MS ? until - clock_mono_ns() : 50 * NS_PER_MS);
		if (st.interrupted || atomic_load(&st.aborted))
			break;
		if (ph->strategy && !cfg->quiet) {
			fprintf(stderr, "strain: %s:", ph->strategy);
			for (uint32_t k = 0; k < ph->nscenarios; k++)
				fprintf(stderr, " %s", cfg->scenarios[ph->scenarios[k]].name);
			fputc('\n', stderr);
		}
		phase_res[i].ran = 1;
		rc = run_phase_exec(&st, coll, ph, &phase_res[i]);
		phase_res[i].t_start -= t0;
		phase_res[i].t_end -= t0;
	}
	met_collector_stop(coll);
	met_collector_finish(coll, NULL, 0);
	outstats = xcalloc(cfg->nouts + 1, sizeof(*outstats));
	for (i = 0; i < cfg->nouts; i++) {
		output_stats os;

		if (output_close(outs[i], &os) < 0)
			rc = CLI_EXIT_ERROR;
		output_destroy(outs[i]);
		outs[i] = NULL;
		outstats[i].spec = xstrdup(output_spec_redact(cfg->outs[i], shown, sizeof(shown)));
		outstats[i].written = os.points_written;
		outstats[i].dropped = os.points_dropped;
		outstats[i].errors = os.write_errors;
		outstats[i].last_error = xstrdup(os.last_error);
	}

	{
		int failed = 0;

		for (i = 0; i < cfg->nthresholds; i++)
			failed |= !met_threshold_eval(&cfg->thresholds[i], met_collector_total(coll), reg,
						      (double)(clock_mono_ns() - t0) / 1e9);
		if (failed && rc == CLI_EXIT_OK)
			rc = CLI_EXIT_THRESHOLDS;
	}
	memset(&info, 0, sizeof(info));
	info.description = cfg->description;
	info.start_wall_ns = t_start_wall;
	info.end_wall_ns = clock_wall_ns();
	info.elapsed_ns = clock_mono_ns() - t0;
	info.interrupted = st.interrupted > 0;
	info.vus = st.vus_max;
	info.threads = cfg->threads;
	info.duration_ns = cfg->duration_ns;
	info.iterations = cfg->iterations;
	info.timeout_ns = cfg->timeout_ns;
	info.no_reuse = cfg->no_reuse;
	info.series_overflow = met_series_overflowed(reg);
	info.outputs = outstats;
	info.noutputs = cfg->nouts;
	info.cfg = cfg;
	info.phases = phase_res;
	if (!cfg->quiet)
		summary_print(stdout, reg, met_collector_total(coll), &info);
	warn_dropped(cfg->quiet ? stderr : stdout, reg, met_collector_total(coll));
	fflush(stdout);
	if (cfg->summary_export &&
	    summary_export(cfg->summary_export, reg, met_collector_total(coll), &info, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain: %s\n", err);
		rc = CLI_EXIT_ERROR;
	}
	if (st.interrupted)
		rc = CLI_EXIT_INTERRUPTED;
	else if (atomic_load(&st.aborted))
		rc = CLI_EXIT_THRESHOLDS;
out:
	pthread_sigmask(SIG_UNBLOCK, &st.sigs, NULL);
	for (i = 0; outs && i < cfg->nouts; i++) {
		if (outs[i]) {
			output_stats os;

			output_close(outs[i], &os);
			output_destroy(outs[i]);
		}
	}
	for (i = 0; outstats && i < cfg->nouts; i++) {
		free((char *)outstats[i].spec);
		free((char *)outstats[i].last_error);
	}
	free(outs);
	free(outstats);
	free(phase_res);
	met_collector_destroy(coll);
	tls_client_destroy(st.ctx.tls);
	console_live_destroy(st.live);
	met_registry_destroy(reg);
	return rc;
}
