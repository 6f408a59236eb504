#include "suite/collect.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "metrics/collector.h"
#include "metrics/threshold.h"
#include "metrics/wire.h"
#include "report/html.h"
#include "report/merge.h"
#include "report/result.h"
#include "report/summary.h"
#include "report/timeline.h"
#include "report/web.h"

/* A push holds one interval of one instance: its series and histograms.
 * A run at the series cap with every trend busy is a few tens of MB. */
#define PUSH_BODY_MAX (64u * 1024 * 1024)
/* Instances pushing at the same moment, each on a short connection. */
#define PUSH_CLIENTS 512

typedef struct inst {
	char id[128], instance[96];
	uint64_t last_seen;  /* monotonic, of its last push */
	uint64_t seq_next;   /* the seq its next push should carry */
	uint64_t pushes, gaps, elapsed_ns;
	int done, lost;
	int fresh;           /* pushed since the last tick */
	met_shard gauges;    /* its last push's gauges (vus, vus_max) */
	/* Its own time series, slotted by its own clock as its summary's is
	 * (each push is one of its collector's snapshots), and where that
	 * clock starts on the wall: the summary's are these merged the way
	 * strain merge merges the instances' summaries. */
	timeline *tl;
	uint64_t start_wall_ns;
} inst;

typedef struct collect {
	const collect_opts *o;
	pthread_mutex_t mu;  /* everything below, between pushes and ticks */
	met_registry *reg;
	met_shard scratch;   /* one push, decoded */
	met_shard pending;   /* the interval so far */
	met_shard total;
	inst *insts;         /* at most o->expect */
	uint32_t ninst;
	uint64_t t0;         /* monotonic, the first push: the run's start here */
	uint64_t start_wall_ns;
	uint64_t last_change; /* monotonic: an instance came, finished or was lost */
	uint64_t refused;    /* pushes answered 4xx */
	int aborted;
	char abort_reason[512];
} collect;

/* ---- pushes (the server's thread) ---- */

/* Constant time in the token's length: a wrong guess does not tell how
 * much of it was right. */
static int token_ok(const char *want, const char *auth)
{
	size_t n = strlen(want), i, m;
	unsigned char diff = 0;

	if (!auth || strncmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	m = strlen(auth);
	for (i = 0; i < n; i++)
		diff |= (unsigned char)want[i] ^ (unsigned char)(i < m ? auth[i] : 0);
	return diff == 0 && m == n;
}

static int answer(char *reply, size_t replysz, int status, const char *key, const char *value)
{
	json_t *j = json_object();
	char *t;

	json_object_set_new(j, key, json_string(value));
	t = json_dumps(j, JSON_COMPACT);
	snprintf(reply, replysz, "%s", t ? t : "{}");
	free(t);
	json_decref(j);
	return status;
}

/* dst += src for one cell of series id (not a gauge). */
static void cell_add(met_shard *dst, const met_registry *reg, uint32_t id, const met_cell *sc)
{
	met_cell *dc = met_shard_cell(dst, reg, id);

	switch (met_metric(reg, met_series_metric(reg, id))->type) {
	case MET_COUNTER:
		dc->u.sum += sc->u.sum;
		break;
	case MET_RATE:
		dc->u.rate.nonzero += sc->u.rate.nonzero;
		break;
	case MET_TREND:
		met_hist_merge(dc->hist, sc->hist);
		break;
	case MET_GAUGE:
		dc->u.gauge = sc->u.gauge;
		break;
	}
	dc->n += sc->n;
}

static inst *inst_find(collect *c, const char *id)
{
	uint32_t i;

	for (i = 0; i < c->ninst; i++)
		if (strcmp(c->insts[i].id, id) == 0)
			return &c->insts[i];
	return NULL;
}

static int on_push(void *ctx, const char *auth, const char *body, size_t len, char *reply, size_t replysz)
{
	collect *c = ctx;
	met_wire_meta m;
	char err[300];
	inst *in;
	uint32_t i;
	int status = 200;

	if (c->o->token && !token_ok(c->o->token, auth)) {
		pthread_mutex_lock(&c->mu);
		c->refused++;
		pthread_mutex_unlock(&c->mu);
		return answer(reply, replysz, 401, "error", "a missing or wrong bearer token");
	}
	pthread_mutex_lock(&c->mu);
	if (met_wire_decode(body, len, c->reg, &c->scratch, &m, err, sizeof(err)) < 0) {
		c->refused++;
		status = answer(reply, replysz, 400, "error", err);
		goto out;
	}
	in = inst_find(c, m.id);
	if (!in) {
		if (c->ninst == c->o->expect) {
			c->refused++;
			snprintf(err, sizeof(err), "more instances than --expect %u ('%s' is one too many)", c->o->expect, m.id);
			status = answer(reply, replysz, 409, "error", err);
			goto out;
		}
		in = &c->insts[c->ninst++];
		in->tl = timeline_create();
		in->start_wall_ns = m.start_wall_ns;
		snprintf(in->id, sizeof(in->id), "%s", m.id);
		snprintf(in->instance, sizeof(in->instance), "%s", m.instance);
		if (!c->t0)
			c->t0 = clock_mono_ns();
		/* The merged run starts with its earliest instance, as strain
		 * merge's does, whichever pushed first. */
		if (!c->start_wall_ns || m.start_wall_ns < c->start_wall_ns)
			c->start_wall_ns = m.start_wall_ns;
		c->last_change = clock_mono_ns();
		fprintf(stderr, "strain collect: instance %s joined (%u of %u)\n", in->id, c->ninst, c->o->expect);
	}
	if (in->done) {
		status = answer(reply, replysz, 409, "error", "this instance already sent its final push");
		goto out;
	}
	if (in->lost) {
		in->lost = 0;
		fprintf(stderr, "strain collect: instance %s is back\n", in->id);
	}
	if (m.seq > in->seq_next)
		in->gaps += m.seq - in->seq_next;
	if (m.seq >= in->seq_next)
		in->seq_next = m.seq + 1;
	in->pushes++;
	in->fresh = 1;
	in->last_seen = clock_mono_ns();
	if (m.elapsed_ns > in->elapsed_ns)
		in->elapsed_ns = m.elapsed_ns;
	{
		/* Into the instance's own time series, in the slot of its interval
		 * on its clock — however late the push came. */
		met_snapshot snap = {c->reg, m.wall_ns, m.elapsed_ns, m.interval_ns, m.start_wall_ns,
				     &c->scratch, NULL, m.final};
		met_output to = timeline_output(in->tl);

		to.snapshot(to.self, &snap);
	}
	/* Counters, rates and trends add into the interval; an instance's
	 * gauges are its current state, summed over the instances at each
	 * tick (three instances of 10 VUs are 30 VUs). */
	met_shard_clear(&in->gauges);
	for (i = 0; i < c->scratch.ntouched; i++) {
		uint32_t id = c->scratch.touched[i];
		const met_cell *sc = &c->scratch.cells[id];

		if (!sc->n)
			continue;
		cell_add(met_metric(c->reg, met_series_metric(c->reg, id))->type == MET_GAUGE ? &in->gauges : &c->pending,
			 c->reg, id, sc);
	}
	if (m.final) {
		in->done = 1;
		c->last_change = clock_mono_ns();
		fprintf(stderr, "strain collect: instance %s finished\n", in->id);
	}
	if (c->aborted) {
		json_t *j = json_pack("{s:s, s:s}", "action", "abort", "reason", c->abort_reason);
		char *t = json_dumps(j, JSON_COMPACT);

		snprintf(reply, replysz, "%s", t ? t : "{\"action\":\"abort\"}");
		free(t);
		json_decref(j);
		status = 200;
	} else {
		status = answer(reply, replysz, 200, "action", "continue");
	}
out:
	pthread_mutex_unlock(&c->mu);
	return status;
}

/* ---- ticks (the main thread) ---- */

/* The interval's gauges: every live instance's current values, summed. */
static void gauges_sum(collect *c)
{
	uint32_t i, k;

	for (i = 0; i < c->ninst; i++) {
		inst *in = &c->insts[i];

		/* A finished instance's last gauges count in the interval its
		 * final push came in, not after. */
		if ((in->done || in->lost) && !in->fresh)
			continue;
		in->fresh = 0;
		for (k = 0; k < in->gauges.ntouched; k++) {
			uint32_t id = in->gauges.touched[k];
			const met_cell *sc = &in->gauges.cells[id];
			met_cell *dc = met_shard_cell(&c->pending, c->reg, id);

			dc->u.gauge.value += sc->u.gauge.value;
			dc->u.gauge.min += sc->u.gauge.min;
			dc->u.gauge.max += sc->u.gauge.max;
			dc->n += sc->n;
		}
	}
}

static uint64_t run_elapsed(const collect *c, uint64_t now)
{
	uint64_t e = c->t0 ? now - c->t0 : 0;
	uint32_t i;

	/* The instances' own clocks, when they ran longer than we have seen
	 * (the first push comes a second after the start). */
	for (i = 0; i < c->ninst; i++)
		if (c->insts[i].elapsed_ns > e)
			e = c->insts[i].elapsed_ns;
	return e;
}

/* abortOnFail thresholds on the merged totals; the first to fail stops
 * every instance through their next push's answer. */
static void thresholds_watch(collect *c, uint64_t elapsed, met_threshold_result *watch)
{
	const run_config *cfg = c->o->cfg;
	uint32_t i;

	for (i = 0; !c->aborted && i < cfg->nthresholds; i++) {
		const met_threshold *t = &cfg->thresholds[i];

		if (!t->abort_on_fail || elapsed < t->delay_ns)
			continue;
		if (!met_threshold_eval(t, &c->total, c->reg, (double)elapsed / 1e9, &watch[i])) {
			snprintf(c->abort_reason, sizeof(c->abort_reason),
				 "threshold %s %s failed on the merged data (observed %.4g)", t->source, t->expr,
				 watch[i].observed);
			fprintf(stderr, "strain collect: %s: telling every instance to stop\n", c->abort_reason);
			c->aborted = 1;
		}
	}
}

static void emit(collect *c, const met_output *outs, uint32_t nouts, uint64_t now, uint64_t last, int final)
{
	met_snapshot snap;
	uint32_t i;

	gauges_sum(c);
	met_shard_merge(&c->total, c->reg, &c->pending);
	snap.reg = c->reg;
	snap.wall_ns = clock_wall_ns();
	snap.elapsed_ns = run_elapsed(c, now);
	snap.interval_ns = now - last;
	snap.start_wall_ns = c->start_wall_ns;
	snap.interval = &c->pending;
	snap.total = &c->total;
	snap.final = final;
	for (i = 0; i < nouts; i++)
		outs[i].snapshot(outs[i].self, &snap);
	met_shard_clear(&c->pending);
}

/* Instances silent for --timeout-lost are lost. Returns 1 when the run is
 * over: every expected instance done or lost, or — with some never seen —
 * every one that came is over and nothing has changed for --timeout-lost. */
static int check_end(collect *c, uint64_t now)
{
	uint32_t i, over = 0;

	for (i = 0; i < c->ninst; i++) {
		inst *in = &c->insts[i];

		if (!in->done && !in->lost && now - in->last_seen >= c->o->timeout_lost_ns) {
			in->lost = 1;
			c->last_change = now;
			fprintf(stderr, "strain collect: instance %s lost: no push for %.0fs; the result will be partial\n",
				in->id, (double)(now - in->last_seen) / 1e9);
		}
		over += in->done || in->lost;
	}
	if (!c->ninst)
		return 0;
	if (over == c->o->expect)
		return 1;
	return over == c->ninst && now - c->last_change >= c->o->timeout_lost_ns;
}

/* ---- the end ---- */

/* The instances' time series on one wall clock, as strain merge puts their
 * summaries' (merge_timeseries): the same slots, counts and histograms.
 * Each starts where its summary's "start" says, in whole milliseconds.
 * NULL when none came. */
static json_t *timeseries_merged(collect *c)
{
	sum_doc **docs = xcalloc(c->ninst + 1, sizeof(*docs));
	uint64_t *starts = xcalloc(c->ninst + 1, sizeof(*starts));
	json_t *out = NULL;
	uint32_t i, n = 0;
	char err[256];

	for (i = 0; i < c->ninst; i++) {
		json_t *ts = timeline_json(c->insts[i].tl, 1);

		docs[n] = summary_timeseries_parse(ts, err, sizeof(err));
		json_decref(ts);
		if (!docs[n]) {
			fprintf(stderr, "strain collect: instance %s: its time series: %s\n", c->insts[i].id, err);
			continue;
		}
		starts[n++] = c->insts[i].start_wall_ns / NS_PER_MS * NS_PER_MS;
	}
	if (n)
		out = merge_timeseries(docs, starts, n);
	for (i = 0; i < n; i++)
		summary_doc_free(docs[i]);
	free(docs);
	free(starts);
	return out;
}

static suite_outcome report(collect *c, timeline *tl, web_server *dash, uint64_t elapsed, int interrupted,
			    int *partial)
{
	const collect_opts *o = c->o;
	const run_config *cfg = o->cfg;
	met_threshold_result *res = xcalloc(cfg->nthresholds + 1, sizeof(*res));
	collect_instance *ci = xcalloc(c->ninst + 1, sizeof(*ci));
	collect_result cr;
	run_result info;
	suite_outcome rc = SUITE_OK;
	char desc[600], err[512], *text = NULL;
	uint32_t i;

	memset(&cr, 0, sizeof(cr));
	for (i = 0; i < c->ninst; i++) {
		ci[i].id = c->insts[i].id;
		ci[i].instance = c->insts[i].instance;
		ci[i].pushes = c->insts[i].pushes;
		ci[i].gaps = c->insts[i].gaps;
		ci[i].done = c->insts[i].done;
		ci[i].lost = !c->insts[i].done;
		if (ci[i].lost || ci[i].gaps)
			cr.partial = 1;
	}
	cr.expected = o->expect;
	cr.instances = ci;
	cr.ninstances = c->ninst;
	cr.missing = o->expect - c->ninst;
	cr.partial |= cr.missing > 0;
	cr.abort_reason = c->aborted ? c->abort_reason : NULL;
	*partial = cr.partial;
	for (i = 0; i < cfg->nthresholds; i++)
		if (!met_threshold_eval(&cfg->thresholds[i], &c->total, c->reg, (double)elapsed / 1e9, &res[i]))
			rc = SUITE_THRESHOLDS;
	if (c->aborted)
		rc = SUITE_THRESHOLDS;
	snprintf(desc, sizeof(desc), "strain collect: %u instance%s%s%s", o->expect, o->expect == 1 ? "" : "s",
		 o->plan ? " of " : "", o->plan ? o->plan : "");
	memset(&info, 0, sizeof(info));
	info.reg = c->reg;
	info.total = &c->total;
	info.description = desc;
	info.plan = o->plan;
	info.start_wall_ns = c->start_wall_ns;
	info.end_wall_ns = clock_wall_ns();
	info.elapsed_ns = elapsed;
	info.interrupted = interrupted;
	info.timeout_ns = cfg->timeout_ns;
	info.series_overflow = met_series_overflowed(c->reg);
	info.cfg = cfg;
	info.th_results = res;
	info.collect = &cr;
	info.timeline = tl;
	info.timeseries = timeseries_merged(c);
	if (!o->quiet)
		summary_print(stdout, &info);
	fflush(stdout);
	if (cr.partial)
		fprintf(stderr, "strain collect: the result is partial (see \"collect\" in the summary)\n");
	text = summary_json(&info);
	if (o->summary_export && summary_export(o->summary_export, text, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain collect: %s\n", err);
		rc = SUITE_ERROR;
	}
	if (o->report_html && report_html_write(o->report_html, text, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain collect: --report %s\n", err);
		rc = SUITE_ERROR;
	}
	web_final(dash, text);
	json_decref(info.timeseries);
	free(ci);
	free(res);
	free(text);
	return rc;
}

suite_outcome collect_run(const collect_opts *o, int *partial)
{
	collect c;
	web_server *srv = NULL, *dash = NULL;
	timeline *tl = timeline_create();
	met_output outs[2];
	uint32_t nouts = 0, i;
	met_threshold_result *watch = xcalloc(o->cfg->nthresholds + 1, sizeof(*watch));
	sigset_t sigs;
	suite_outcome rc = SUITE_OK;
	char err[512];
	uint64_t last, next;
	int interrupted = 0;

	*partial = 0;
	memset(&c, 0, sizeof(c));
	c.o = o;
	pthread_mutex_init(&c.mu, NULL);
	c.reg = met_registry_create();
	c.insts = xcalloc(o->expect + 1, sizeof(*c.insts));
	met_shard_init(&c.scratch);
	met_shard_init(&c.pending);
	met_shard_init(&c.total);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	srv = web_create(o->listen, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "strain collect: --listen %s: %s\n", o->listen, err);
		rc = SUITE_SETUP;
		goto out;
	}
	if (o->web) {
		dash = web_create(o->web, err, sizeof(err));
		if (!dash) {
			fprintf(stderr, "strain collect: --web %s: %s\n", o->web, err);
			rc = SUITE_SETUP;
			goto out;
		}
	}
	/* The dashboard shares the certificate: a collector worth HTTPS is on
	 * a network, and so is its dashboard when --web names one. */
	if (o->tls && (web_set_tls(srv, o->tls) < 0 || (dash && web_set_tls(dash, o->tls) < 0))) {
		fprintf(stderr, "strain collect: --tls-cert: cannot serve HTTPS\n");
		rc = SUITE_SETUP;
		goto out;
	}
	if (web_set_post(srv, COLLECT_PUSH_PATH, PUSH_BODY_MAX, PUSH_CLIENTS, on_push, &c) < 0 ||
	    web_start(srv, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain collect: --listen %s: cannot serve\n", o->listen);
		rc = SUITE_SETUP;
		goto out;
	}
	outs[nouts++] = timeline_output(tl);
	if (dash) {
		web_run run = {"strain collect", o->plan, o->cfg->target, NULL, o->cfg, tl, clock_wall_ns()};

		if (web_start(dash, &run, err, sizeof(err)) < 0) {
			fprintf(stderr, "strain collect: --web: %s\n", err);
			rc = SUITE_SETUP;
			goto out;
		}
		outs[nouts++] = web_output(dash);
		fprintf(stderr, "strain collect: live dashboard at %s\n", web_url(dash));
	}
	fprintf(stderr, "strain collect: waiting for %u instance%s: strain run --collector %.*s\n", o->expect,
		o->expect == 1 ? "" : "s", (int)strlen(web_url(srv)) - 1, web_url(srv));

	/* Ticks once a second from the first push on, like a run's collector. */
	last = next = 0;
	for (;;) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		uint64_t now;
		int sig = sigtimedwait(&sigs, NULL, &ts), over;

		if (sig == SIGINT || sig == SIGTERM) {
			interrupted = 1;
			fprintf(stderr, "strain collect: signal: writing what has come so far\n");
			break;
		}
		pthread_mutex_lock(&c.mu);
		/* Read under the lock: a push just taken in is never "later". */
		now = clock_mono_ns();
		if (c.t0 && !next) {
			last = c.t0;
			next = c.t0 + NS_PER_SEC;
		}
		if (next && now >= next) {
			emit(&c, outs, nouts, now, last, 0);
			thresholds_watch(&c, run_elapsed(&c, now), watch);
			last = now;
			while (next <= now)
				next += NS_PER_SEC;
		}
		over = check_end(&c, now);
		pthread_mutex_unlock(&c.mu);
		if (over)
			break;
	}
	/* No push is taken in after this: the figures stay as reported. */
	web_destroy(srv);
	srv = NULL;
	{
		uint64_t now = clock_mono_ns(), elapsed = run_elapsed(&c, now);

		emit(&c, outs, nouts, now, last ? last : now, 1);
		rc = report(&c, tl, dash, elapsed, interrupted, partial);
	}
	if (interrupted)
		rc = SUITE_INTERRUPTED;
out:
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	web_destroy(srv);
	web_destroy(dash);
	timeline_destroy(tl);
	for (i = 0; i < o->expect; i++) {
		met_shard_free(&c.insts[i].gauges);
		timeline_destroy(c.insts[i].tl);
	}
	free(c.insts);
	free(watch);
	met_shard_free(&c.scratch);
	met_shard_free(&c.pending);
	met_shard_free(&c.total);
	met_registry_destroy(c.reg);
	pthread_mutex_destroy(&c.mu);
	return rc;
}
