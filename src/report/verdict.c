#include "report/verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/errcode.h"
#include "core/format.h"
#include "metrics/hist_codec.h"
#include "metrics/query.h"
#include "program/program.h"
#include "report/failure.h"

/* A cell's most frequent failure in words; a status-only failure has no
 * code to describe. */
static const char *top_error_text(int code)
{
	return code < 0 ? "outside the expected statuses" : code ? err_describe(code) : "";
}

#define PH_N VERDICT_PH_N
#define PH_CONNECTING VERDICT_PH_CONNECTING
#define PH_BLOCKED VERDICT_PH_BLOCKED
#define PH_WAITING VERDICT_PH_WAITING
#define PH_RECEIVING VERDICT_PH_RECEIVING
#define NSTRAT VERDICT_NSTRAT

static const uint32_t phase_metric[PH_N] = {MET_HTTP_REQ_BLOCKED, MET_HTTP_REQ_CONNECTING, MET_HTTP_REQ_SENDING,
					    MET_HTTP_REQ_WAITING, MET_HTTP_REQ_RECEIVING};
const char *const verdict_phase_names[PH_N] = {"blocked", "connecting", "sending", "waiting", "receiving"};
#define phase_name verdict_phase_names

/* By strat_index: run_strategy_name(STRATEGY_SEQUENTIAL + i). */
const char *const verdict_strategy_names[NSTRAT] = {"sequential", "hybrid", "parallel"};
#define strat_names verdict_strategy_names

typedef verdict_cell cell;
typedef verdict_table table;

static cell *at(const table *t, uint32_t m, int s)
{
	return &t->cells[m * NSTRAT + (uint32_t)s];
}

void verdict_table_init(verdict_table *t, uint32_t nmods)
{
	memset(t, 0, sizeof(*t));
	t->nmods = nmods;
	t->mods = xcalloc(nmods + 1, sizeof(char *));
	t->cells = xcalloc((size_t)nmods * NSTRAT + 1, sizeof(cell));
}

void verdict_table_free(verdict_table *t)
{
	uint32_t i;

	for (i = 0; t->cells && i < t->nmods * NSTRAT; i++) {
		met_hist_destroy(t->cells[i].hist);
		free(t->cells[i].errs);
	}
	free(t->mods);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void verdict_cell_add_error(verdict_cell *c, int code, uint64_t n)
{
	uint32_t i;

	for (i = 0; i < c->nerrs; i++)
		if (c->errs[i].code == code) {
			c->errs[i].n += n;
			return;
		}
	c->errs = xrealloc(c->errs, (c->nerrs + 1) * sizeof(*c->errs));
	c->errs[c->nerrs++] = (verdict_err){code, n};
}

/* The table's column of a phase's strategy, or -1 (quick mode). */
static int strat_index(run_strategy s)
{
	return s == STRATEGY_NONE ? -1 : (int)s - STRATEGY_SEQUENTIAL;
}

static int build(table *t, const met_registry *r, const met_shard *total, const run_result *info)
{
	const run_config *cfg = info->cfg;
	uint32_t m, p, k, i;
	int strategies = 0;

	memset(t, 0, sizeof(*t));
	if (!cfg || !info->phases)
		return 0;
	for (p = 0; p < cfg->nphases; p++)
		if (cfg->phases[p].strategy != STRATEGY_NONE)
			strategies = 1;
	if (!strategies)
		return 0;
	verdict_table_init(t, cfg->nscenarios);
	for (m = 0; m < t->nmods; m++)
		t->mods[m] = cfg->scenarios[m].name;
	for (p = 0; p < cfg->nphases; p++) {
		int s = strat_index(cfg->phases[p].strategy);

		if (s < 0 || !info->phases[p].ran)
			continue;
		for (k = 0; k < cfg->phases[p].nscenarios; k++) {
			cell *c = at(t, cfg->phases[p].scenarios[k], s);

			c->ran = 1;
			c->secs += (double)(info->phases[p].t_end - info->phases[p].t_start) / 1e9;
			t->strat_ran[s] = 1;
		}
	}
	for (m = 0; m < t->nmods; m++)
		for (int s = 0; s < NSTRAT; s++) {
			cell *c = at(t, m, s);
			/* The module's own traffic: its setup (logins) runs once per
			 * VU and would blur the comparison. */
			met_tag f[3] = {{"module", t->mods[m]}, {"strategy", strat_names[s]}, {"!group", "::setup"}};
			met_agg a;
			uint64_t best = 0;

			if (!c->ran)
				continue;
			met_agg_init(&a);
			met_query(total, r, MET_HTTP_REQ_DURATION, f, 3, &a);
			c->p50 = met_hist_percentile(a.hist, 50) / 1e6;
			c->p95 = met_hist_percentile(a.hist, 95) / 1e6;
			c->p99 = met_hist_percentile(a.hist, 99) / 1e6;
			c->max = (double)a.hist->max / 1e6;
			c->avg = met_hist_mean(a.hist) / 1e6;
			c->reqs = (double)a.hist->count;
			c->rps = c->secs > 0 ? c->reqs / c->secs : 0;
			/* Kept for the summary, so that strain merge can add the
			 * parts' cells exactly. */
			c->hist = met_hist_create();
			met_hist_merge(c->hist, a.hist);
			met_agg_free(&a);
			memset(&a, 0, sizeof(a));
			met_query(total, r, MET_HTTP_REQ_FAILED, f, 3, &a);
			c->failures = a.nonzero;
			c->failure_samples = a.n;
			c->err_rate = a.n ? (double)a.nonzero / (double)a.n : 0;
			for (i = 0; i < PH_N; i++) {
				met_agg_init(&a);
				met_query(total, r, phase_metric[i], f, 3, &a);
				c->phase[i] = met_hist_mean(a.hist) / 1e6;
				met_agg_free(&a);
			}
			/* The most frequent error code among this cell's requests. */
			for (i = 0; i < total->ntouched; i++) {
				uint32_t id = total->touched[i];
				const met_tagset *ts;
				const char *mod, *st, *grp;
				int code;

				if (met_series_metric(r, id) != MET_HTTP_REQS)
					continue;
				ts = met_tagset_get(r, met_series_tagset(r, id));
				if (!failure_code(ts, &code))
					continue;
				mod = met_tagset_value(ts, "module");
				st = met_tagset_value(ts, "strategy");
				grp = met_tagset_value(ts, "group");
				if (grp && !strcmp(grp, "::setup"))
					continue;
				if (!mod || !st || strcmp(mod, t->mods[m]) || strcmp(st, strat_names[s]))
					continue;
				verdict_cell_add_error(c, code, (uint64_t)total->cells[id].u.sum);
				/* The largest series, not the largest code: the words a
				 * run has always printed. */
				if ((uint64_t)total->cells[id].u.sum > best) {
					best = (uint64_t)total->cells[id].u.sum;
					c->top_error = code;
				}
			}
			/* A threshold on this module, judged on this strategy's
			 * samples alone: the run-wide result cannot say which
			 * strategy broke it. */
			for (i = 0; i < cfg->nthresholds; i++) {
				const met_threshold *spec = &cfg->thresholds[i];
				met_threshold th;
				met_tag filt[MET_MAX_TAGS];
				const char *on = NULL;
				uint32_t j;

				for (j = 0; j < spec->nfilter; j++)
					if (!strcmp(spec->filter[j].key, "module"))
						on = spec->filter[j].value;
				/* About this module, and not already about a strategy. */
				if (!on || strcmp(on, t->mods[m]) ||
				    !met_threshold_scope(spec, "strategy", strat_names[s], filt, MET_MAX_TAGS, &th))
					continue;
				if (!met_threshold_eval(&th, total, r, c->secs, NULL))
					c->failed_threshold = cfg->thresholds[i].expr;
			}
		}
	return 1;
}

/* One module's finding against its sequential baseline. Returns 0 when
 * there is nothing to say. */
static int finding(const table *t, uint32_t m, int s, char *out, size_t outsz, const char **dominant, double *ratio)
{
	const cell *b = &t->cells[m * NSTRAT], *c = &t->cells[m * NSTRAT + (uint32_t)s];
	double d[PH_N], grow = 0, best = 0, r;
	int i, top = -1;
	char bs[32], cs[32];
	size_t n;

	if (!b->ran || !c->ran || b->p95 <= 0)
		return 0;
	r = c->p95 / b->p95;
	*ratio = r;
	for (i = 0; i < PH_N; i++) {
		d[i] = c->phase[i] - b->phase[i];
		if (d[i] > 0)
			grow += d[i];
		if (d[i] > best) {
			best = d[i];
			top = i;
		}
	}
	fmt_ns(b->p95 * 1e6, bs, sizeof(bs));
	fmt_ns(c->p95 * 1e6, cs, sizeof(cs));
	*dominant = top >= 0 ? phase_name[top] : "none";
	/* Held: the p95 grew less than half again, or by under 50 ms — noise
	 * for a user either way — and errors did not rise. */
	if ((r < 1.5 || c->p95 - b->p95 < 50) && c->err_rate - b->err_rate < 0.01 && !c->failed_threshold) {
		snprintf(out, outsz, "%s held in %s: p95 %s alone, %s (x%.1f)", t->mods[m], strat_names[s], bs, cs, r);
		return 2;
	}
	n = (size_t)snprintf(out, outsz, "%s: p95 %s alone -> %s in %s (x%.1f)", t->mods[m], bs, cs, strat_names[s], r);
	if (n < outsz && top >= 0 && grow > 0) {
		double share = 100.0 * best / grow;

		if (top == PH_WAITING)
			n += (size_t)snprintf(out + n, outsz - n,
					      "; %.0f%% of the growth is waiting for the first byte while connecting %s: "
					      "the server is queueing requests (pool, lock or CPU), not refusing connections",
					      share, d[PH_CONNECTING] < 1 ? "is unchanged" : "grew less");
		else if (top == PH_CONNECTING || top == PH_BLOCKED)
			n += (size_t)snprintf(out + n, outsz - n,
					      "; %.0f%% of the growth is in opening connections (%s): the server accepts "
					      "slowly (listen backlog, connection limits, a busy accept loop)",
					      share, phase_name[top]);
		else if (top == PH_RECEIVING)
			n += (size_t)snprintf(out + n, outsz - n,
					      "; %.0f%% of the growth is in receiving the body: responses stream slowly "
					      "(server-side generation or bandwidth)", share);
		else
			n += (size_t)snprintf(out + n, outsz - n,
					      "; %.0f%% of the growth is in sending the request: the server reads slowly",
					      share);
	}
	if (n < outsz && c->err_rate - b->err_rate >= 0.01)
		n += (size_t)snprintf(out + n, outsz - n, "; errors rose from %.1f%% to %.1f%%%s%s%s", 100 * b->err_rate,
				      100 * c->err_rate, c->top_error ? " (mostly " : "",
				      top_error_text(c->top_error), c->top_error ? ")" : "");
	if (n < outsz && c->failed_threshold)
		snprintf(out + n, outsz - n, "; threshold %s FAILED", c->failed_threshold);
	return 1;
}

void verdict_table_print(FILE *f, const verdict_table *tab)
{
	const table *t = tab;
	uint32_t m;
	int s, worst_m = -1, worst_s = -1;
	double worst = 0;

	fprintf(f, "\n     comparison (module x strategy):\n");
	fprintf(f, "       %-16s %-11s %9s %10s %10s %10s %10s %7s\n", "module", "strategy", "req/s", "p50", "p95", "p99",
		"max", "errors");
	for (m = 0; m < t->nmods; m++)
		for (s = 0; s < NSTRAT; s++) {
			cell *c = at(t, m, s);
			char a[32], b[32], d[32], e[32];

			if (!c->ran)
				continue;
			fprintf(f, "       %-16s %-11s %9.1f %10s %10s %10s %10s %6.2f%%%s\n", t->mods[m], strat_names[s],
				c->rps, fmt_ns(c->p50 * 1e6, a, sizeof(a)), fmt_ns(c->p95 * 1e6, b, sizeof(b)),
				fmt_ns(c->p99 * 1e6, d, sizeof(d)), fmt_ns(c->max * 1e6, e, sizeof(e)), 100 * c->err_rate,
				c->failed_threshold ? "  threshold failed" : "");
		}
	if (!t->strat_ran[0] || (!t->strat_ran[1] && !t->strat_ran[2])) {
		fprintf(f, "\n     (run --strategy all, or sequential and another, for a verdict against the sequential baseline)\n");
		return;
	}
	fprintf(f, "\n     verdict:\n");
	for (m = 0; m < t->nmods; m++)
		for (s = 1; s < NSTRAT; s++) {
			char line[1024];
			const char *dom;
			double ratio = 0;

			int kind = finding(t, m, s, line, sizeof(line), &dom, &ratio);

			if (!kind)
				continue;
			fprintf(f, "       %s\n", line);
			if (kind == 1 && ratio > worst) {
				worst = ratio;
				worst_m = (int)m;
				worst_s = s;
			}
		}
	if (worst_m >= 0)
		fprintf(f, "\n     => %s breaks first: its p95 grows x%.1f in %s.\n", t->mods[worst_m], worst,
			strat_names[worst_s]);
	else
		fprintf(f, "\n     => every module held against its sequential baseline.\n");
}

void verdict_print(FILE *f, const run_result *info)
{
	table t;

	if (!build(&t, info->reg, info->total, info))
		return;
	verdict_table_print(f, &t);
	verdict_table_free(&t);
}

json_t *verdict_table_json(const verdict_table *tab)
{
	const table *t = tab;
	json_t *root, *strats, *verdict;
	uint32_t m;
	int s;

	root = json_object();
	strats = json_object();
	verdict = json_array();
	for (s = 0; s < NSTRAT; s++) {
		json_t *mods;

		if (!t->strat_ran[s])
			continue;
		mods = json_object();
		for (m = 0; m < t->nmods; m++) {
			cell *c = at(t, m, s);
			json_t *o, *ph;
			int i;

			if (!c->ran)
				continue;
			o = json_object();
			json_object_set_new(o, "requests", json_integer((json_int_t)c->reqs));
			json_object_set_new(o, "rps", json_real(c->rps));
			json_object_set_new(o, "seconds", json_real(c->secs));
			json_object_set_new(o, "p50", json_real(c->p50));
			json_object_set_new(o, "p95", json_real(c->p95));
			json_object_set_new(o, "p99", json_real(c->p99));
			json_object_set_new(o, "max", json_real(c->max));
			json_object_set_new(o, "avg", json_real(c->avg));
			json_object_set_new(o, "error_rate", json_real(c->err_rate));
			ph = json_object();
			for (i = 0; i < PH_N; i++)
				json_object_set_new(ph, phase_name[i], json_real(c->phase[i]));
			json_object_set_new(o, "phases_avg_ms", ph);
			if (c->failed_threshold)
				json_object_set_new(o, "failed_threshold", json_string(c->failed_threshold));
			/* What strain merge adds up: the exact counts and the
			 * histogram behind the figures above. */
			json_object_set_new(o, "failures", json_integer((json_int_t)c->failures));
			json_object_set_new(o, "failure_samples", json_integer((json_int_t)c->failure_samples));
			{
				json_t *errs = json_object();
				uint32_t e;

				for (e = 0; e < c->nerrs; e++) {
					char key[32];

					failure_key(c->errs[e].code, key, sizeof(key));
					json_object_set_new(errs, key, json_integer((json_int_t)c->errs[e].n));
				}
				json_object_set_new(o, "errors", errs);
			}
			if (c->hist) {
				char *text = met_hist_encode(c->hist);

				json_object_set_new(o, "hist", json_string(text));
				free(text);
			}
			json_object_set_new(mods, t->mods[m], o);
		}
		json_object_set_new(strats, strat_names[s], mods);
	}
	for (m = 0; m < t->nmods; m++)
		for (s = 1; s < NSTRAT; s++) {
			char line[1024];
			const char *dom;
			double ratio = 0;
			json_t *v;

			int kind = finding(t, m, s, line, sizeof(line), &dom, &ratio);

			if (!kind)
				continue;
			v = json_object();
			json_object_set_new(v, "module", json_string(t->mods[m]));
			json_object_set_new(v, "strategy", json_string(strat_names[s]));
			json_object_set_new(v, "p95_ratio", json_real(ratio));
			json_object_set_new(v, "dominant_phase", json_string(dom));
			json_object_set_new(v, "held", json_boolean(kind == 2));
			json_object_set_new(v, "text", json_string(line));
			json_array_append_new(verdict, v);
		}
	json_object_set_new(root, "strategies", strats);
	json_object_set_new(root, "verdict", verdict);
	return root;
}

json_t *verdict_json(const run_result *info)
{
	table t;
	json_t *root;

	if (!build(&t, info->reg, info->total, info))
		return NULL;
	root = verdict_table_json(&t);
	verdict_table_free(&t);
	return root;
}
