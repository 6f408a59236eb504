#include "report/history.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "metrics/hist_codec.h"
#include "metrics/query.h"
#include "program/program.h"
#include "report/spikes.h"
#include "report/timeline.h"

/* Request names kept per run; the series cap folds the rest already. */
#define MAX_NAMES 4096

/* One key's histogram while collecting: a module x strategy group or a
 * request name. */
typedef struct keyed {
	char *a, *b;        /* module and strategy, or the name and its module */
	met_hist *hist;
	uint64_t reqs, failed, fails_n;
} keyed;

typedef struct keyset {
	keyed *k;
	uint32_t n;
} keyset;

static keyed *key_get(keyset *s, const char *a, const char *b, int match_b)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->k[i].a, a) && (!match_b || !strcmp(s->k[i].b, b)))
			return &s->k[i];
	if (s->n == MAX_NAMES)
		return NULL;
	s->k = xrealloc(s->k, (s->n + 1) * sizeof(*s->k));
	s->k[s->n] = (keyed){xstrdup(a), xstrdup(b), met_hist_create(), 0, 0, 0};
	return &s->k[s->n++];
}

static void keyset_free(keyset *s)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		free(s->k[i].a);
		free(s->k[i].b);
		met_hist_destroy(s->k[i].hist);
	}
	free(s->k);
	s->k = NULL;
	s->n = 0;
}

static int keyed_cmp(const void *x, const void *y)
{
	const keyed *a = x, *b = y;
	int c = strcmp(a->a, b->a);

	return c ? c : strcmp(a->b, b->b);
}

/* qsort wants a non-null base even for no elements. */
static void keyset_sort(keyset *s)
{
	if (s->n)
		qsort(s->k, s->n, sizeof(*s->k), keyed_cmp);
}

/* The module of a tag set; "" in quick mode. */
static const char *module_of(const met_tagset *ts)
{
	const char *m = met_tagset_value(ts, "module");

	return m ? m : "";
}

static json_t *ms(double ns)
{
	return json_real(ns / 1e6);
}

static json_t *phases_json(const run_result *info)
{
	json_t *arr = json_array();
	uint32_t i, k;

	for (i = 0; info->cfg && info->phases && i < info->cfg->nphases; i++) {
		const run_phase *ph = &info->cfg->phases[i];
		const run_phase_result *res = &info->phases[i];
		json_t *o, *mods;

		if (!res->ran)
			continue;
		o = json_object();
		mods = json_array();
		for (k = 0; k < ph->nscenarios; k++)
			json_array_append_new(mods, json_string(info->cfg->scenarios[ph->scenarios[k]].name));
		json_object_set_new(o, "strategy", json_string(ph->strategy == STRATEGY_NONE ? "none" : run_strategy_name(ph->strategy)));
		json_object_set_new(o, "modules", mods);
		json_object_set_new(o, "start_ms", ms((double)res->t_start));
		json_object_set_new(o, "end_ms", ms((double)res->t_end));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* Per request name: count, failures, and http_req_duration. */
static json_t *requests_json(const run_result *info)
{
	const met_registry *r = info->reg;
	const met_shard *total = info->total;
	double secs = info->elapsed_ns ? (double)info->elapsed_ns / 1e9 : 1;
	keyset names = {0};
	json_t *arr = json_array();
	uint32_t i;

	for (i = 0; i < total->ntouched; i++) {
		uint32_t id = total->touched[i], m = met_series_metric(r, id);
		const met_tagset *ts;
		const met_cell *c = &total->cells[id];
		const char *name;
		keyed *k;

		if (m != MET_HTTP_REQS && m != MET_HTTP_REQ_FAILED && m != MET_HTTP_REQ_DURATION)
			continue;
		ts = met_tagset_get(r, met_series_tagset(r, id));
		name = met_tagset_value(ts, "name");
		if (!name || !c->n)
			continue;
		k = key_get(&names, name, module_of(ts), 0);
		if (!k)
			continue;
		if (m == MET_HTTP_REQS)
			k->reqs += (uint64_t)c->u.sum;
		else if (m == MET_HTTP_REQ_FAILED) {
			k->failed += c->u.rate.nonzero;
			k->fails_n += c->n;
		} else if (c->hist)
			met_hist_merge(k->hist, c->hist);
	}
	/* By module, then name. */
	for (i = 0; i < names.n; i++) {
		char *t = names.k[i].a;

		names.k[i].a = names.k[i].b;
		names.k[i].b = t;
	}
	keyset_sort(&names);
	for (i = 0; i < names.n; i++) {
		const keyed *k = &names.k[i];
		json_t *o = json_object();
		const met_hist *h = k->hist;

		json_object_set_new(o, "name", json_string(k->b));
		json_object_set_new(o, "module", json_string(k->a));
		json_object_set_new(o, "count", json_integer((json_int_t)k->reqs));
		json_object_set_new(o, "rate", json_real((double)k->reqs / secs));
		json_object_set_new(o, "failures", json_integer((json_int_t)k->failed));
		json_object_set_new(o, "error_rate", json_real(k->fails_n ? (double)k->failed / (double)k->fails_n : 0));
		json_object_set_new(o, "avg", ms(met_hist_mean(h)));
		json_object_set_new(o, "p50", ms(met_hist_percentile(h, 50)));
		json_object_set_new(o, "p90", ms(met_hist_percentile(h, 90)));
		json_object_set_new(o, "p95", ms(met_hist_percentile(h, 95)));
		json_object_set_new(o, "p99", ms(met_hist_percentile(h, 99)));
		json_object_set_new(o, "max", ms((double)h->max));
		json_array_append_new(arr, o);
	}
	keyset_free(&names);
	return arr;
}

static json_t *encoded(const met_hist *h)
{
	char *text = met_hist_encode(h);
	json_t *s = json_string(text);

	free(text);
	return s;
}

/* Every trend's histograms: total, per module x strategy, per name. */
static json_t *histograms_json(const run_result *info)
{
	const met_registry *r = info->reg;
	const met_shard *total = info->total;
	json_t *all = json_object();
	uint32_t m, i;

	for (m = 0; m < met_metric_count(r); m++) {
		const met_def *d = met_metric(r, m);
		int http = !strncmp(d->name, "http_req_", 9);
		keyset groups = {0}, names = {0};
		met_hist *sum;
		json_t *o, *ga, *na;

		if (d->type != MET_TREND)
			continue;
		sum = met_hist_create();
		for (i = 0; i < total->ntouched; i++) {
			uint32_t id = total->touched[i];
			const met_cell *c = &total->cells[id];
			const met_tagset *ts;
			const char *mod, *st, *name;
			keyed *k;

			if (met_series_metric(r, id) != m || !c->n || !c->hist)
				continue;
			met_hist_merge(sum, c->hist);
			ts = met_tagset_get(r, met_series_tagset(r, id));
			mod = met_tagset_value(ts, "module");
			st = met_tagset_value(ts, "strategy");
			if (mod && st) {
				k = key_get(&groups, mod, st, 1);
				if (k)
					met_hist_merge(k->hist, c->hist);
			}
			name = met_tagset_value(ts, "name");
			if (http && name) {
				k = key_get(&names, name, "", 0);
				if (k)
					met_hist_merge(k->hist, c->hist);
			}
		}
		if (!sum->count) {
			met_hist_destroy(sum);
			keyset_free(&groups);
			keyset_free(&names);
			continue;
		}
		keyset_sort(&groups);
		keyset_sort(&names);
		o = json_object();
		ga = json_array();
		na = json_array();
		json_object_set_new(o, "total", encoded(sum));
		for (i = 0; i < groups.n; i++) {
			json_t *g = json_object();

			json_object_set_new(g, "module", json_string(groups.k[i].a));
			json_object_set_new(g, "strategy", json_string(groups.k[i].b));
			json_object_set_new(g, "hist", encoded(groups.k[i].hist));
			json_array_append_new(ga, g);
		}
		for (i = 0; i < names.n; i++) {
			json_t *g = json_object();

			json_object_set_new(g, "name", json_string(names.k[i].a));
			json_object_set_new(g, "hist", encoded(names.k[i].hist));
			json_array_append_new(na, g);
		}
		json_object_set_new(o, "groups", ga);
		json_object_set_new(o, "names", na);
		json_object_set_new(all, d->name, o);
		met_hist_destroy(sum);
		keyset_free(&groups);
		keyset_free(&names);
	}
	return all;
}

void history_json(json_t *root, const run_result *info)
{
	json_object_set_new(root, "plan", info->plan ? json_string(info->plan) : json_null());
	json_object_set_new(root, "target",
			    info->cfg && info->cfg->target ? json_string(info->cfg->target) : json_null());
	json_object_set_new(root, "strategy", json_string(info->strategy ? info->strategy : "none"));
	json_object_set_new(root, "phases", phases_json(info));
	json_object_set_new(root, "requests", requests_json(info));
	if (info->timeseries || info->timeline) {
		json_t *ts = info->timeseries ? json_deep_copy(info->timeseries) : timeline_json(info->timeline, 1);

		json_object_set_new(root, "spikes", spikes_find(ts));
		json_object_set_new(root, "timeseries", ts);
	}
	json_object_set_new(root, "histograms", histograms_json(info));
}
