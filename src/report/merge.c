/* strain merge (docs/distributed.md): the parts checked to belong together,
 * then every section of the summary merged the way its figures allow:
 * counts and sums added; trends re-derived from the added histograms;
 * gauges added (each process held its own VUs); time series put on one wall
 * clock; thresholds and spikes judged again. What cannot be judged again
 * from summaries is said so in the document, never guessed. */
#include "report/merge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/format.h"
#include "core/parse.h"
#include "metrics/hist_codec.h"
#include "metrics/registry.h"
#include "metrics/threshold.h"
#include "metrics/trend_stats.h"
#include "program/segment.h"
#include "report/spikes.h"
#include "report/verdict.h"

/* The merged time series' slots at most: parts far apart on the wall
 * clock (a reader bounds each part's own slots) end in the last. */
#define MERGE_MAX_SLOTS (64u * 1024)

/* One part: its segment and where it sits on the wall clock. */
typedef struct part {
	seg_rat from, to;
	uint64_t start_ns, end_ns; /* its load window */
	uint32_t doc;
} part;

/* One merged histogram: (metric, group or name or total). */
typedef struct mhist {
	const char *metric, *module, *strategy, *name; /* borrowed from the documents */
	met_hist *h;
} mhist;

typedef struct merger {
	sum_doc *const *docs;
	const char *const *names;
	uint32_t n;
	part *parts;
	uint64_t start_ns, end_ns;
	double secs;
	mhist *hists;
	uint32_t nhists, caphists;
	int partial;
} merger;

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static const char *str_at(const json_t *o, const char *path1, const char *path2)
{
	const json_t *v = json_object_get(o, path1);

	if (path2)
		v = json_object_get(v, path2);
	return json_string_value(v);
}

static int rat_cmp(seg_rat a, seg_rat b)
{
	unsigned __int128 l = (unsigned __int128)a.num * b.den, r = (unsigned __int128)b.num * a.den;

	return l < r ? -1 : l > r;
}

static int part_cmp(const void *pa, const void *pb)
{
	const part *a = pa, *b = pb;
	int c = rat_cmp(a->from, b->from);

	return c ? c : rat_cmp(a->to, b->to);
}

static int seg_split(const char *s, seg_rat *from, seg_rat *to)
{
	const char *colon = strchr(s, ':');
	char err[128];

	if (!colon || seg_rat_parse(s, (size_t)(colon - s), from, err, sizeof(err)) < 0 ||
	    seg_rat_parse(colon + 1, strlen(colon + 1), to, err, sizeof(err)) < 0)
		return -1;
	return 0;
}

/* The phases of two parts, one by one: the same strategy and modules.
 * Returns 1 (with the message) when they differ. */
static int phases_differ(const json_t *a, const json_t *b, char *err, size_t errsz, const char *na, const char *nb)
{
	const json_t *pa = json_object_get(a, "phases"), *pb = json_object_get(b, "phases");
	size_t i, k, n = json_array_size(pa) > json_array_size(pb) ? json_array_size(pa) : json_array_size(pb);

	for (i = 0; i < n; i++) {
		const json_t *x = json_array_get(pa, i), *y = json_array_get(pb, i);
		const json_t *mx = json_object_get(x, "modules"), *my = json_object_get(y, "modules");
		int differ = !x || !y || !same(str_at(x, "strategy", NULL), str_at(y, "strategy", NULL)) ||
			     json_array_size(mx) != json_array_size(my);

		for (k = 0; !differ && k < json_array_size(mx); k++)
			differ = !same(json_string_value(json_array_get(mx, k)), json_string_value(json_array_get(my, k)));
		if (!differ)
			continue;
		if (!x || !y)
			snprintf(err, errsz,
				 "%s and %s ran different phases (%zu and %zu phases: was one interrupted?): "
				 "the comparison needs the same phases in every part",
				 na, nb, json_array_size(pa), json_array_size(pb));
		else
			snprintf(err, errsz,
				 "%s and %s ran different phases (phase %zu: %s of %zu modules vs %s of %zu): the "
				 "comparison needs the same strategies and modules in every part",
				 na, nb, i + 1, str_at(x, "strategy", NULL), json_array_size(mx),
				 str_at(y, "strategy", NULL), json_array_size(my));
		return 1;
	}
	return 0;
}

/* The parts belong together: one test (plan_id, strategy, version), one
 * sequence, disjoint segments that cover 0..1 (all of it unless partial
 * results are allowed). */
static merge_status check_parts(merger *m, const merge_opts *o, char *err, size_t errsz)
{
	const json_t *r0 = m->docs[0]->root;
	const char *id0 = str_at(r0, "execution", "plan_id"), *seq0 = str_at(r0, "execution", "sequence");
	seg_rat at = {0, 1};
	uint32_t i;

	for (i = 0; i < m->n; i++) {
		const json_t *r = m->docs[i]->root;
		const char *seg = str_at(r, "execution", "segment"), *st = str_at(r, "start", NULL);
		part *p = &m->parts[i];

		if (json_object_get(r, "capacity")) {
			snprintf(err, errsz,
				 "%s: a strain capacity result: each search steps its own rate on its own process, "
				 "so the parts' searches do not add up to one; merge the summaries of strain run",
				 m->names[i]);
			return MERGE_CAPACITY;
		}
		if (m->docs[i]->version != 2 || !json_object_get(r, "execution")) {
			snprintf(err, errsz,
				 "%s: %s has no execution segment to merge by (written by strain run of this "
				 "version with --summary-export)",
				 m->names[i], m->docs[i]->version == 1 ? "a strain-summary/1 file" : "the summary");
			return MERGE_NOT_SPLIT;
		}
		if (json_object_get(json_object_get(r, "execution"), "instances")) {
			snprintf(err, errsz, "%s: already a merged summary", m->names[i]);
			return MERGE_DIFFERENT;
		}
		if (!same(str_at(r, "execution", "plan_id"), id0) ||
		    !same(str_at(r, "strategy", NULL), str_at(r0, "strategy", NULL))) {
			snprintf(err, errsz,
				 "%s and %s are not parts of the same test (different plan, flags or strategy: "
				 "plan_id %s vs %s)",
				 m->names[0], m->names[i], id0 ? id0 : "none",
				 str_at(r, "execution", "plan_id") ? str_at(r, "execution", "plan_id") : "none");
			return MERGE_DIFFERENT;
		}
		if (!same(str_at(r, "execution", "sequence"), seq0)) {
			snprintf(err, errsz,
				 "%s and %s were split by different sequences (%s and %s): give every process the "
				 "same --execution-segment-sequence",
				 m->names[0], m->names[i], seq0, str_at(r, "execution", "sequence"));
			return MERGE_DIFFERENT;
		}
		if (phases_differ(r0, r, err, errsz, m->names[0], m->names[i]))
			return MERGE_DIFFERENT;
		if (!seg || seg_split(seg, &p->from, &p->to) < 0) {
			snprintf(err, errsz, "%s: execution.segment: not a segment", m->names[i]);
			return MERGE_NOT_SPLIT;
		}
		if (!st || parse_rfc3339_ns(st, &p->start_ns) < 0) {
			snprintf(err, errsz, "%s: start: not an RFC 3339 time", m->names[i]);
			return MERGE_NOT_SPLIT;
		}
		p->end_ns =
		    p->start_ns + (uint64_t)(json_number_value(json_object_get(r, "duration_ms")) * (double)NS_PER_MS);
		p->doc = i;
		if (!i || p->start_ns < m->start_ns)
			m->start_ns = p->start_ns;
		if (!i || p->end_ns > m->end_ns)
			m->end_ns = p->end_ns;
	}
	qsort(m->parts, m->n, sizeof(*m->parts), part_cmp);
	for (i = 0; i < m->n; i++) {
		const part *p = &m->parts[i];
		int c = rat_cmp(p->from, at);

		if (c < 0) {
			snprintf(err, errsz, "%s and %s overlap: segments %s and %s", m->names[m->parts[i - 1].doc],
				 m->names[p->doc], str_at(m->docs[m->parts[i - 1].doc]->root, "execution", "segment"),
				 str_at(m->docs[p->doc]->root, "execution", "segment"));
			return MERGE_OVERLAP;
		}
		if (c > 0) {
			if (!o->allow_partial) {
				snprintf(err, errsz,
					 "segment %llu/%llu:%llu/%llu is missing (no summary covers it; "
					 "--allow-partial merges what there is)",
					 (unsigned long long)at.num, (unsigned long long)at.den,
					 (unsigned long long)p->from.num, (unsigned long long)p->from.den);
				return MERGE_MISSING;
			}
			m->partial = 1;
		}
		at = p->to;
	}
	if (at.num != at.den) {
		if (!o->allow_partial) {
			snprintf(err, errsz,
				 "segment %llu/%llu:1 is missing (no summary covers it; --allow-partial merges "
				 "what there is)",
				 (unsigned long long)at.num, (unsigned long long)at.den);
			return MERGE_MISSING;
		}
		m->partial = 1;
	}
	return MERGE_OK;
}

/* ---- histograms ---- */

static mhist *hist_slot(merger *m, const char *metric, const char *module, const char *strategy, const char *name)
{
	uint32_t i;

	for (i = 0; i < m->nhists; i++) {
		mhist *x = &m->hists[i];

		if (strcmp(x->metric, metric) == 0 && same(x->module, module) && same(x->strategy, strategy) &&
		    same(x->name, name))
			return x;
	}
	if (m->nhists == m->caphists) {
		m->caphists = m->caphists ? m->caphists * 2 : 64;
		m->hists = xrealloc(m->hists, m->caphists * sizeof(*m->hists));
	}
	m->hists[m->nhists] = (mhist){metric, module, strategy, name, met_hist_create()};
	return &m->hists[m->nhists++];
}

static const met_hist *hist_find(const merger *m, const char *metric, const char *module, const char *strategy,
				 const char *name)
{
	uint32_t i;

	for (i = 0; i < m->nhists; i++) {
		const mhist *x = &m->hists[i];

		if (strcmp(x->metric, metric) == 0 && same(x->module, module) && same(x->strategy, strategy) &&
		    same(x->name, name))
			return x->h;
	}
	return NULL;
}

static void hists_merge(merger *m)
{
	uint32_t d, i;

	for (d = 0; d < m->n; d++)
		for (i = 0; i < m->docs[d]->nhists; i++) {
			const sum_hist *s = &m->docs[d]->hists[i];

			met_hist_merge(hist_slot(m, s->metric, s->module, s->strategy, s->name)->h, s->hist);
		}
}

static json_t *hist_text(const met_hist *h)
{
	char *t = met_hist_encode(h);
	json_t *j = json_string(t);

	free(t);
	return j;
}

static json_t *hists_json(const merger *m)
{
	json_t *all = json_object();
	uint32_t i;

	for (i = 0; i < m->nhists; i++) {
		const mhist *x = &m->hists[i];
		json_t *o = json_object_get(all, x->metric), *g;

		if (!o) {
			o = json_object();
			json_object_set_new(o, "groups", json_array());
			json_object_set_new(o, "names", json_array());
			json_object_set_new(all, x->metric, o);
		}
		if (!x->module && !x->name) {
			json_object_set_new(o, "total", hist_text(x->h));
			continue;
		}
		g = json_object();
		if (x->name) {
			json_object_set_new(g, "name", json_string(x->name));
		} else {
			json_object_set_new(g, "module", json_string(x->module));
			json_object_set_new(g, "strategy", json_string(x->strategy ? x->strategy : ""));
		}
		json_object_set_new(g, "hist", hist_text(x->h));
		json_array_append_new(json_object_get(o, x->name ? "names" : "groups"), g);
	}
	return all;
}

/* ---- metrics ---- */

static double num(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static json_t *count_json(double v)
{
	return v == (double)(json_int_t)v && v < 9007199254740992.0 ? json_integer((json_int_t)v) : json_real(v);
}

/* A trend's figures from its merged histogram, under the labels the parts
 * wrote (their --summary-trend-stats). */
static void trend_fill(json_t *o, const met_hist *h, int time)
{
	const char *key;
	json_t *v;
	char list[512] = "", err[128];
	size_t at = 0;
	trend_stats ts;
	uint32_t i;

	json_object_foreach(o, key, v)
	{
		if (!strcmp(key, "type") || !strcmp(key, "contains") || !strcmp(key, "count"))
			continue;
		at +=
		    (size_t)snprintf(list + at, at < sizeof(list) ? sizeof(list) - at : 0, "%s%s", at ? "," : "", key);
	}
	json_object_set_new(o, "count", json_integer((json_int_t)h->count));
	if (!at || at >= sizeof(list) || trend_stats_parse(list, &ts, err, sizeof(err)) < 0)
		return;
	for (i = 0; i < ts.n; i++)
		if (ts.s[i].kind != TS_COUNT)
			json_object_set_new(o, ts.s[i].label,
					    json_real(trend_stat_value(&ts.s[i], h) / (time ? 1e6 : 1)));
}

static json_t *metrics_merge(merger *m)
{
	json_t *out = json_object();
	uint32_t d;

	for (d = 0; d < m->n; d++) {
		const char *name;
		json_t *v;

		json_object_foreach(json_object_get(m->docs[d]->root, "metrics"), name, v)
		{
			json_t *acc = json_object_get(out, name);
			const char *type = json_string_value(json_object_get(v, "type"));

			if (!acc) {
				json_object_set_new(out, name, json_deep_copy(v));
				continue;
			}
			if (same(type, "counter")) {
				json_object_set_new(acc, "count", count_json(num(acc, "count") + num(v, "count")));
			} else if (same(type, "rate")) {
				json_object_set_new(acc, "passes", count_json(num(acc, "passes") + num(v, "passes")));
				json_object_set_new(acc, "fails", count_json(num(acc, "fails") + num(v, "fails")));
			} else if (same(type, "gauge")) {
				/* Each process held its own VUs: the run's are their sum. */
				json_object_set_new(acc, "value", json_real(num(acc, "value") + num(v, "value")));
				json_object_set_new(acc, "min", json_real(num(acc, "min") + num(v, "min")));
				json_object_set_new(acc, "max", json_real(num(acc, "max") + num(v, "max")));
			}
		}
	}
	{
		const char *name;
		json_t *v;

		json_object_foreach(out, name, v)
		{
			const char *type = json_string_value(json_object_get(v, "type"));

			if (same(type, "counter")) {
				json_object_set_new(v, "rate", json_real(num(v, "count") / m->secs));
			} else if (same(type, "rate")) {
				double p = num(v, "passes"), f = num(v, "fails"), r = p + f > 0 ? p / (p + f) : 0;

				json_object_set_new(v, "rate", json_real(r));
				json_object_set_new(v, "value", json_real(r));
			} else if (same(type, "trend")) {
				const met_hist *h = hist_find(m, name, NULL, NULL, NULL);

				if (h)
					trend_fill(v, h,
						   same(json_string_value(json_object_get(v, "contains")), "time"));
			}
		}
	}
	return out;
}

/* errors and checks: counts added by key. */
static json_t *keyed_sum(const merger *m, const char *section, const char *const *fields, uint32_t nf)
{
	json_t *out = json_object();
	uint32_t d, k;

	for (d = 0; d < m->n; d++) {
		const char *key;
		json_t *v;

		json_object_foreach(json_object_get(m->docs[d]->root, section), key, v)
		{
			json_t *acc = json_object_get(out, key);

			if (!acc) {
				json_object_set_new(out, key, json_deep_copy(v));
				continue;
			}
			for (k = 0; k < nf; k++)
				json_object_set_new(acc, fields[k],
						    count_json(num(acc, fields[k]) + num(v, fields[k])));
		}
	}
	return out;
}

/* requests: per module and name, counts added, latency from the merged
 * per-name histogram of http_req_duration. */
static json_t *requests_merge(const merger *m)
{
	json_t *out = json_array();
	uint32_t d;
	size_t i, j;

	for (d = 0; d < m->n; d++) {
		json_t *v;

		json_array_foreach(json_object_get(m->docs[d]->root, "requests"), i, v)
		{
			json_t *acc = NULL, *w;

			json_array_foreach(out, j, w) if (same(str_at(w, "name", NULL), str_at(v, "name", NULL)) &&
							  same(str_at(w, "module", NULL), str_at(v, "module", NULL)))
			    acc = w;
			if (!acc) {
				json_array_append_new(out, json_deep_copy(v));
				continue;
			}
			json_object_set_new(acc, "count", count_json(num(acc, "count") + num(v, "count")));
			json_object_set_new(acc, "failures", count_json(num(acc, "failures") + num(v, "failures")));
		}
	}
	{
		json_t *w;

		json_array_foreach(out, j, w)
		{
			double c = num(w, "count");
			const met_hist *h = hist_find(m, "http_req_duration", NULL, NULL, str_at(w, "name", NULL));
			static const struct {
				const char *k;
				double p;
			} pc[] = {{"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99}};
			uint32_t q;

			json_object_set_new(w, "rate", json_real(c / m->secs));
			json_object_set_new(w, "error_rate", json_real(c > 0 ? num(w, "failures") / c : 0));
			if (!h || !h->count)
				continue;
			/* A name shared by two modules has one histogram: its figures
			 * are the name's over both, as the parts' own were. */
			json_object_set_new(w, "avg", json_real(met_hist_mean(h) / 1e6));
			json_object_set_new(w, "max", json_real((double)h->max / 1e6));
			for (q = 0; q < 4; q++)
				json_object_set_new(w, pc[q].k, json_real(met_hist_percentile(h, pc[q].p) / 1e6));
		}
	}
	return out;
}

/* ---- time series ---- */

/* A series of the merged time line, one per module x strategy. */
typedef struct mseries {
	const char *module, *strategy;
	uint64_t *requests, *failures, *iterations, *dropped;
	double *vus, *sdmax;
	met_hist **hist;
	json_t *errors; /* code -> array of counts */
} mseries;

static json_t *series_json(const mseries *s, uint32_t nslots, double width_ms)
{
	json_t *o = json_object(), *cols[12];
	static const double pv[4] = {50, 90, 95, 99};
	static const char *const pn[4] = {"p50", "p90", "p95", "p99"};
	uint32_t k, c;

	for (c = 0; c < 12; c++)
		cols[c] = json_array();
	for (k = 0; k < nslots; k++) {
		const met_hist *h = s->hist[k];
		int have = h && h->count;

		json_array_append_new(cols[0], json_real((double)k * width_ms));
		json_array_append_new(cols[1], json_integer((json_int_t)s->requests[k]));
		json_array_append_new(cols[2], json_integer((json_int_t)s->failures[k]));
		json_array_append_new(cols[3], json_real(s->vus[k]));
		json_array_append_new(cols[4], json_integer((json_int_t)s->iterations[k]));
		json_array_append_new(cols[5], json_integer((json_int_t)s->dropped[k]));
		for (c = 0; c < 4; c++)
			json_array_append_new(cols[6 + c],
					      have ? json_real(met_hist_percentile(h, pv[c]) / 1e6) : json_null());
		json_array_append_new(cols[10], have ? json_real((double)h->max / 1e6) : json_null());
		json_array_append_new(cols[11], have ? hist_text(h) : json_string(""));
	}
	json_object_set_new(o, "module", json_string(s->module));
	json_object_set_new(o, "strategy", json_string(s->strategy));
	json_object_set_new(o, "t_ms", cols[0]);
	json_object_set_new(o, "requests", cols[1]);
	json_object_set_new(o, "failures", cols[2]);
	json_object_set_new(o, "vus", cols[3]);
	json_object_set_new(o, "iterations", cols[4]);
	json_object_set_new(o, "dropped_iterations", cols[5]);
	for (c = 0; c < 4; c++)
		json_object_set_new(o, pn[c], cols[6 + c]);
	json_object_set_new(o, "max", cols[10]);
	json_object_set_new(o, "hist", cols[11]);
	{
		json_t *sd = json_array();

		for (k = 0; k < nslots; k++)
			json_array_append_new(sd, json_real(s->sdmax[k]));
		json_object_set_new(o, "start_delay_max", sd);
	}
	json_object_set_new(o, "errors", json_incref(s->errors));
	return o;
}

/* Every part's slots onto one wall clock: slot k of the merged series
 * covers [start + k W, start + (k+1) W), W the widest interval among the
 * parts (intervals double as runs grow, so the narrower ones nest in it);
 * a part's slot goes where its middle falls. */
/* The merged slot of slot k of series s of a part that started st_ns
 * (origin: the earliest part's start). */
static uint32_t slot_where(uint64_t st_ns, uint64_t origin_ns, const sum_doc *doc, const sum_series *s, uint32_t k,
			   double width)
{
	double mid_ms = (double)(st_ns - origin_ns) / 1e6 + s->t_ms[k] + doc->interval_ms / 2;
	double at = mid_ms <= 0 ? 0 : floor(mid_ms / width);

	return at >= (double)UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)at;
}

json_t *merge_timeseries(sum_doc *const *docs, const uint64_t *starts_ns, uint32_t n)
{
	double width = 0;
	uint32_t d, i, k, nslots = 0, allocated, nser = 0;
	uint64_t origin = UINT64_MAX;
	mseries *ser = NULL;
	json_t *out, *arr;

	for (d = 0; d < n; d++) {
		if (docs[d]->interval_ms > width)
			width = docs[d]->interval_ms;
		if (starts_ns[d] < origin)
			origin = starts_ns[d];
	}
	if (width <= 0)
		return NULL;
	/* As many slots as the parts' data reach (a reader bounds each part's). */
	for (d = 0; d < n; d++)
		for (i = 0; i < docs[d]->nseries; i++)
			for (k = 0; k < docs[d]->series[i].n; k++) {
				uint32_t at = slot_where(starts_ns[d], origin, docs[d], &docs[d]->series[i], k, width);

				if (at + 1 > nslots)
					nslots = at + 1;
			}
	if (!nslots)
		nslots = 1;
	if (nslots > MERGE_MAX_SLOTS)
		nslots = MERGE_MAX_SLOTS;
	allocated = nslots;
	for (d = 0; d < n; d++) {
		const sum_doc *doc = docs[d];
		uint64_t st = starts_ns[d];

		for (i = 0; i < doc->nseries; i++) {
			const sum_series *s = &doc->series[i];
			mseries *t = NULL;
			uint32_t e, j;
			double *vus = xcalloc(nslots, sizeof(double));

			for (j = 0; j < nser; j++)
				if (same(ser[j].module, s->module) && same(ser[j].strategy, s->strategy))
					t = &ser[j];
			if (!t) {
				ser = xrealloc(ser, (nser + 1) * sizeof(*ser));
				t = &ser[nser++];
				t->module = s->module;
				t->strategy = s->strategy;
				t->requests = xcalloc(nslots, sizeof(uint64_t));
				t->failures = xcalloc(nslots, sizeof(uint64_t));
				t->iterations = xcalloc(nslots, sizeof(uint64_t));
				t->dropped = xcalloc(nslots, sizeof(uint64_t));
				t->vus = xcalloc(nslots, sizeof(double));
				t->sdmax = xcalloc(nslots, sizeof(double));
				t->hist = xcalloc(nslots, sizeof(met_hist *));
				t->errors = json_object();
			}
			for (k = 0; k < s->n; k++) {
				uint32_t at = slot_where(st, origin, doc, s, k, width);

				if (at >= nslots)
					at = nslots - 1;
				t->requests[at] += s->requests[k];
				t->failures[at] += s->failures[k];
				t->iterations[at] += s->iterations[k];
				t->dropped[at] += s->dropped[k];
				/* VUs: slots of a narrower part folded into one keep
				 * their largest; then the parts' are added. */
				if (s->vus[k] > vus[at])
					vus[at] = s->vus[k];
				if (s->start_delay_max && s->start_delay_max[k] > t->sdmax[at])
					t->sdmax[at] = s->start_delay_max[k];
				if (s->hist[k]) {
					if (!t->hist[at])
						t->hist[at] = met_hist_create();
					met_hist_merge(t->hist[at], s->hist[k]);
				}
				for (e = 0; e < s->nerrors; e++) {
					json_t *col = json_object_get(t->errors, s->errors[e].code);
					uint32_t z;

					if (!col) {
						col = json_array();
						for (z = 0; z < nslots; z++)
							json_array_append_new(col, json_integer(0));
						json_object_set_new(t->errors, s->errors[e].code, col);
					}
					json_array_set_new(col, at,
							   json_integer(json_integer_value(json_array_get(col, at)) +
									(json_int_t)s->errors[e].n[k]));
				}
			}
			for (k = 0; k < nslots; k++)
				t->vus[k] += vus[k];
			free(vus);
		}
	}
	/* Trailing slots nobody reached are dropped. */
	for (k = nslots; k > 1; k--) {
		int used = 0;

		for (i = 0; i < nser; i++)
			used |= ser[i].requests[k - 1] || ser[i].iterations[k - 1] || ser[i].hist[k - 1] ||
				ser[i].vus[k - 1] > 0;
		if (used)
			break;
	}
	nslots = k;
	out = json_object();
	arr = json_array();
	json_object_set_new(out, "interval_ms", json_integer((json_int_t)width));
	for (i = 0; i < nser; i++) {
		const char *code;
		json_t *col;

		json_object_foreach(ser[i].errors, code, col)
		{
			while (json_array_size(col) > nslots)
				json_array_remove(col, json_array_size(col) - 1);
		}
		json_array_append_new(arr, series_json(&ser[i], nslots, width));
		for (k = 0; k < allocated; k++)
			met_hist_destroy(ser[i].hist[k]);
		free(ser[i].requests);
		free(ser[i].failures);
		free(ser[i].iterations);
		free(ser[i].dropped);
		free(ser[i].vus);
		free(ser[i].sdmax);
		free(ser[i].hist);
		json_decref(ser[i].errors);
	}
	free(ser);
	json_object_set_new(out, "series", arr);
	return out;
}

static json_t *timeseries_merge(const merger *m)
{
	uint64_t *starts = xcalloc(m->n + 1, sizeof(*starts));
	uint32_t i;
	json_t *ts;

	for (i = 0; i < m->n; i++)
		starts[m->parts[i].doc] = m->parts[i].start_ns;
	ts = merge_timeseries(m->docs, starts, m->n);
	free(starts);
	return ts;
}

/* ---- thresholds ---- */

/* The metric part "name{k:v,...}": the name, and the tags' values for
 * module, strategy and name (NULL when absent); -1 when it filters on a
 * tag the merged histograms do not keep. */
static int th_scope(const char *src, char *metric, size_t msz, char *mod, char *strat, char *name, size_t vsz)
{
	const char *b = strchr(src, '{'), *p;

	mod[0] = strat[0] = name[0] = 0;
	snprintf(metric, msz, "%.*s", (int)(b ? (size_t)(b - src) : strlen(src)), src);
	if (!b)
		return 0;
	for (p = b + 1; *p && *p != '}';) {
		const char *colon = strchr(p, ':'), *end = strpbrk(p, ",}");
		char key[64], *dst;

		if (!colon || !end || colon > end)
			return -1;
		snprintf(key, sizeof(key), "%.*s", (int)(colon - p), p);
		dst = !strcmp(key, "module")     ? mod
		      : !strcmp(key, "strategy") ? strat
		      : !strcmp(key, "name")     ? name
						 : NULL;
		if (!dst)
			return -1;
		snprintf(dst, vsz, "%.*s", (int)(end - colon - 1), colon + 1);
		p = *end == ',' ? end + 1 : end;
	}
	if ((name[0] && (mod[0] || strat[0])) || (strat[0] && !mod[0]))
		return -1;
	return 1;
}

static int th_holds(th_op op, double a, double b)
{
	switch (op) {
	case TH_LT:
		return a < b;
	case TH_LE:
		return a <= b;
	case TH_GT:
		return a > b;
	case TH_GE:
		return a >= b;
	case TH_EQ:
		return a == b;
	case TH_NE:
		return a != b;
	}
	return 0;
}

/* One threshold judged on the merged data when its figure can be had from
 * it: a trend's from a merged histogram (the total, a module x strategy
 * group, or a request name), a counter's, rate's or gauge's without a tag
 * filter from the merged metrics. Returns 1 when judged (*failed,
 * *observed or *no_data set), 0 when not. */
static int th_judge(const merger *m, const met_registry *reg, json_t *metrics, const char *src, const char *expr,
		    int *failed, double *observed, int *no_data)
{
	char metric[128], mod[256], strat[64], name[512], err[256];
	met_threshold t;
	int scoped = th_scope(src, metric, sizeof(metric), mod, strat, name, sizeof(strat)), e, rc = 0;
	const json_t *entry = json_object_get(metrics, metric);
	const char *type = json_string_value(json_object_get(entry, "type"));
	double v = NAN;

	memset(&t, 0, sizeof(t));
	if (scoped < 0 || met_threshold_parse(&t, metric, expr, reg, err, sizeof(err), &e) < 0)
		return 0;
	*no_data = 0;
	if (same(type, "trend") && t.agg != TH_COUNT && t.agg != TH_RATE) {
		const met_hist *h =
		    hist_find(m, metric, mod[0] ? mod : NULL, mod[0] ? strat : NULL, name[0] ? name : NULL);
		double scale = same(json_string_value(json_object_get(entry, "contains")), "time") ? 1e6 : 1;

		if (!h || !h->count) {
			*no_data = 1;
		} else {
			switch (t.agg) {
			case TH_AVG:
				v = met_hist_mean(h);
				break;
			case TH_MIN:
				v = (double)h->min;
				break;
			case TH_MAX:
				v = (double)h->max;
				break;
			case TH_MED:
				v = met_hist_percentile(h, 50);
				break;
			default:
				v = met_hist_percentile(h, t.pct);
				break;
			}
			v /= scale;
		}
		rc = 1;
	} else if (!scoped && entry) {
		if (same(type, "counter"))
			v = t.agg == TH_RATE ? num(entry, "rate") : num(entry, "count");
		else if (same(type, "rate"))
			v = num(entry, "passes") + num(entry, "fails") > 0 ? num(entry, "rate") : NAN;
		else if (same(type, "gauge"))
			v = num(entry, "value");
		*no_data = isnan(v);
		rc = 1;
	} else if (!scoped && !entry) {
		*no_data = 1;
		rc = 1;
	}
	if (rc) {
		*observed = v;
		*failed = !*no_data && !th_holds(t.op, v, t.value);
	}
	met_threshold_free(&t);
	return rc;
}

/* The thresholds, the parts' list (the same test has the same ones), each
 * judged again; one that cannot be is failed when any part failed it and
 * says "rejudged": false. */
static json_t *thresholds_merge(const merger *m, json_t *metrics, int *any_failed)
{
	const json_t *ths = json_object_get(m->docs[0]->root, "thresholds");
	met_registry *reg = met_registry_create();
	json_t *out = json_array(), *v;
	size_t i;

	*any_failed = 0;
	json_array_foreach(ths, i, v)
	{
		const char *src = str_at(v, "metric", NULL), *expr = str_at(v, "expression", NULL);
		json_t *o = json_deep_copy(v);
		double observed = NAN;
		int failed = 0, no_data = 0;
		uint32_t d;

		if (th_judge(m, reg, metrics, src, expr, &failed, &observed, &no_data)) {
			json_object_set_new(o, "observed", no_data ? json_null() : json_real(observed));
			json_object_set_new(o, "rejudged", json_true());
		} else {
			for (d = 0; d < m->n; d++)
				failed |= !json_is_true(json_object_get(
				    json_array_get(json_object_get(m->docs[d]->root, "thresholds"), i), "ok"));
			json_object_set_new(o, "observed", json_null());
			json_object_set_new(o, "rejudged", json_false());
		}
		json_object_set_new(o, "ok", json_boolean(!failed));
		*any_failed |= failed;
		json_array_append_new(out, o);
	}
	met_registry_destroy(reg);
	return out;
}

/* ---- the module x strategy comparison ---- */

/* One phase of one part on the wall clock. */
typedef struct span {
	uint64_t from, to;
} span;

static int span_cmp(const void *pa, const void *pb)
{
	const span *a = pa, *b = pb;

	return a->from < b->from ? -1 : a->from > b->from;
}

/* Phase p's window on the merged run: the union of the parts' windows
 * (they overlap when the parts started together, but need not). Sets
 * [*from, *to) to its hull and returns its length in seconds. */
static double phase_window(const merger *m, size_t p, uint64_t *from, uint64_t *to)
{
	span *w = xcalloc(m->n + 1, sizeof(*w));
	uint64_t lo = 0, hi = 0, len = 0;
	uint32_t i;

	for (i = 0; i < m->n; i++) {
		const json_t *ph = json_array_get(json_object_get(m->docs[m->parts[i].doc]->root, "phases"), p);
		uint64_t st = m->parts[i].start_ns;

		w[i].from = st + (uint64_t)(num(ph, "start_ms") * (double)NS_PER_MS);
		w[i].to = st + (uint64_t)(num(ph, "end_ms") * (double)NS_PER_MS);
	}
	qsort(w, m->n, sizeof(*w), span_cmp);
	*from = w[0].from;
	*to = w[0].to;
	for (i = 0; i < m->n; i++) {
		if (!i || w[i].from > hi) {
			len += hi - lo;
			lo = w[i].from;
			hi = w[i].to;
		} else if (w[i].to > hi) {
			hi = w[i].to;
		}
		if (w[i].to > *to)
			*to = w[i].to;
	}
	len += hi - lo;
	free(w);
	return (double)len / 1e9;
}

static int strat_column(const char *name)
{
	int s;

	for (s = 0; s < VERDICT_NSTRAT; s++)
		if (same(verdict_strategy_names[s], name))
			return s;
	return -1;
}

/* The modules in the order the phases first name them (a run's own order:
 * its sequential phases go one module at a time). */
static void table_modules(verdict_table *t, const json_t *phases)
{
	const char **names = NULL;
	uint32_t n = 0, k;
	size_t i, j;
	json_t *ph, *mod;

	json_array_foreach(phases, i, ph)
	{
		if (strat_column(str_at(ph, "strategy", NULL)) < 0)
			continue;
		json_array_foreach(json_object_get(ph, "modules"), j, mod)
		{
			const char *name = json_string_value(mod);

			for (k = 0; k < n && !same(names[k], name); k++)
				;
			if (k < n || !name)
				continue;
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = name;
		}
	}
	verdict_table_init(t, n);
	for (k = 0; k < n; k++)
		t->mods[k] = names[k];
	free(names);
}

static int table_module(const verdict_table *t, const char *name)
{
	uint32_t k;

	for (k = 0; k < t->nmods; k++)
		if (same(t->mods[k], name))
			return (int)k;
	return -1;
}

/* A failure key of the summary ("1212", "status:500") as a failure code. */
static int failure_of_key(const char *key)
{
	return !strncmp(key, "status:", 7) ? -(int)strtol(key + 7, NULL, 10) : (int)strtol(key, NULL, 10);
}

/* A cell's failures by code: the most frequent is the one the words name. */
static void cell_top_error(verdict_cell *c)
{
	uint64_t best = 0;
	uint32_t e;

	c->top_error = 0;
	for (e = 0; e < c->nerrs; e++)
		if (c->errs[e].n > best) {
			best = c->errs[e].n;
			c->top_error = c->errs[e].code;
		}
}

/* One part's cell added to the merged one: counts and failures by code
 * added, the duration histogram merged (the part's group histogram when
 * the cell has none), the phase means weighted by their requests. */
static void cell_add(verdict_cell *acc, const json_t *c, const sum_doc *doc, const char *mod, const char *strat)
{
	const json_t *h = json_object_get(c, "hist"), *ph = json_object_get(c, "phases_avg_ms");
	double reqs = num(c, "requests");
	const char *key;
	json_t *v;
	int i;

	if (!acc->hist)
		acc->hist = met_hist_create();
	if (h) {
		met_hist *t = met_hist_create();
		char why[160];

		if (met_hist_decode(t, json_string_value(h), json_string_length(h), why, sizeof(why)) == 0)
			met_hist_merge(acc->hist, t);
		met_hist_destroy(t);
	} else if (summary_doc_hist(doc, "http_req_duration", mod, strat, NULL)) {
		met_hist_merge(acc->hist, summary_doc_hist(doc, "http_req_duration", mod, strat, NULL));
	}
	acc->failures += (uint64_t)num(c, "failures");
	acc->failure_samples += (uint64_t)num(c, "failure_samples");
	for (i = 0; i < VERDICT_PH_N; i++)
		acc->phase[i] += num(ph, verdict_phase_names[i]) * reqs; /* a sum until cells_finish */
	json_object_foreach((json_t *)json_object_get(c, "errors"), key, v)
		verdict_cell_add_error(acc, failure_of_key(key), (uint64_t)json_integer_value(v));
}

/* A threshold on module M (and no strategy) judged on the merged samples
 * of M under one strategy, as a run judges it for its comparison; one
 * that cannot be judged from summaries fails when any part's cell failed
 * it. Returns the expression of the last that fails, or NULL. */
static const char *cell_threshold(const merger *m, const met_registry *reg, json_t *metrics, const char *mod,
				  const char *strat)
{
	const json_t *ths = json_object_get(m->docs[0]->root, "thresholds"), *th;
	const char *failed = NULL;
	size_t i;

	json_array_foreach(ths, i, th)
	{
		const char *src = str_at(th, "metric", NULL), *expr = str_at(th, "expression", NULL);
		char metric[128], tmod[256], tstrat[64], tname[512], scoped[1024];
		int sc = th_scope(src, metric, sizeof(metric), tmod, tstrat, tname, sizeof(tstrat));
		int fails = 0, no_data = 0;
		double observed = NAN;
		uint32_t d;

		if (!strchr(src, '{') || !strstr(src, "module:"))
			continue;
		if (sc == 1 && (strcmp(tmod, mod) || tstrat[0]))
			continue;
		snprintf(scoped, sizeof(scoped), "%s{module:%s,strategy:%s}", metric, mod, strat);
		if (sc == 1 && th_judge(m, reg, metrics, scoped, expr, &fails, &observed, &no_data)) {
			if (fails)
				failed = expr;
			continue;
		}
		/* Not judged here: a part's cell says whether it failed there. */
		for (d = 0; d < m->n; d++) {
			const json_t *c = json_object_get(
			    json_object_get(json_object_get(json_object_get(m->docs[d]->root, "comparison"), "strategies"),
					    strat),
			    mod);

			if (same(str_at(c, "failed_threshold", NULL), expr))
				fails = 1;
		}
		if (fails)
			failed = expr;
	}
	return failed;
}

/* The phases on the merged run's clock: each from the earliest part's
 * start of it to the latest part's end. */
static json_t *phases_merge(const merger *m)
{
	json_t *out = json_array(), *ph;
	size_t p;

	json_array_foreach(json_object_get(m->docs[0]->root, "phases"), p, ph)
	{
		uint64_t from, to;
		json_t *o = json_deep_copy(ph);

		phase_window(m, p, &from, &to);
		json_object_set_new(o, "start_ms", json_real((double)(from - m->start_ns) / 1e6));
		json_object_set_new(o, "end_ms", json_real((double)(to - m->start_ns) / 1e6));
		json_array_append_new(out, o);
	}
	return out;
}

/* The comparison rebuilt: every part's cells added, the figures taken from
 * the merged histograms and counts, rates over each phase's merged window
 * (the union of the parts' windows of it on the wall clock). */
static json_t *comparison_merge(const merger *m, json_t *metrics)
{
	const json_t *phases = json_object_get(m->docs[0]->root, "phases"), *ph;
	met_registry *reg = met_registry_create();
	verdict_table t;
	json_t *out;
	uint32_t d, k;
	size_t p, j;

	table_modules(&t, phases);
	json_array_foreach(phases, p, ph)
	{
		int s = strat_column(str_at(ph, "strategy", NULL));
		uint64_t from, to;
		double secs = phase_window(m, p, &from, &to);
		json_t *mod;

		if (s < 0)
			continue;
		json_array_foreach(json_object_get(ph, "modules"), j, mod)
		{
			int mi = table_module(&t, json_string_value(mod));
			verdict_cell *c;

			if (mi < 0)
				continue;
			c = verdict_cell_at(&t, (uint32_t)mi, s);
			c->ran = 1;
			c->secs += secs;
			t.strat_ran[s] = 1;
		}
	}
	for (k = 0; k < t.nmods; k++)
		for (int s = 0; s < VERDICT_NSTRAT; s++) {
			verdict_cell *c = verdict_cell_at(&t, k, s);
			int i;

			if (!c->ran)
				continue;
			for (d = 0; d < m->n; d++) {
				const json_t *cj = json_object_get(
				    json_object_get(json_object_get(json_object_get(m->docs[d]->root, "comparison"),
								    "strategies"),
						    verdict_strategy_names[s]),
				    t.mods[k]);

				if (cj)
					cell_add(c, cj, m->docs[d], t.mods[k], verdict_strategy_names[s]);
			}
			c->reqs = (double)c->hist->count;
			c->rps = c->secs > 0 ? c->reqs / c->secs : 0;
			c->p50 = met_hist_percentile(c->hist, 50) / 1e6;
			c->p95 = met_hist_percentile(c->hist, 95) / 1e6;
			c->p99 = met_hist_percentile(c->hist, 99) / 1e6;
			c->max = (double)c->hist->max / 1e6;
			c->avg = met_hist_mean(c->hist) / 1e6;
			c->err_rate = c->failure_samples ? (double)c->failures / (double)c->failure_samples : 0;
			for (i = 0; i < VERDICT_PH_N; i++)
				c->phase[i] = c->reqs > 0 ? c->phase[i] / c->reqs : 0;
			cell_top_error(c);
			c->failed_threshold = cell_threshold(m, reg, metrics, t.mods[k], verdict_strategy_names[s]);
		}
	out = verdict_table_json(&t);
	verdict_table_free(&t);
	met_registry_destroy(reg);
	return out;
}

/* The merged summary's comparison read back into a table: every figure is
 * there, so the words come out as the merge wrote them. */
void merge_verdict_print(FILE *f, const json_t *merged)
{
	const json_t *strats = json_object_get(json_object_get(merged, "comparison"), "strategies");
	verdict_table t;
	uint32_t k;

	if (!strats)
		return;
	table_modules(&t, json_object_get(merged, "phases"));
	for (k = 0; k < t.nmods; k++)
		for (int s = 0; s < VERDICT_NSTRAT; s++) {
			const json_t *c = json_object_get(json_object_get(strats, verdict_strategy_names[s]), t.mods[k]);
			verdict_cell *v = verdict_cell_at(&t, k, s);
			const char *key;
			json_t *x;
			int i;

			if (!c)
				continue;
			v->ran = 1;
			t.strat_ran[s] = 1;
			v->secs = num(c, "seconds");
			v->reqs = num(c, "requests");
			v->rps = num(c, "rps");
			v->p50 = num(c, "p50");
			v->p95 = num(c, "p95");
			v->p99 = num(c, "p99");
			v->max = num(c, "max");
			v->avg = num(c, "avg");
			v->err_rate = num(c, "error_rate");
			for (i = 0; i < VERDICT_PH_N; i++)
				v->phase[i] = num(json_object_get(c, "phases_avg_ms"), verdict_phase_names[i]);
			json_object_foreach((json_t *)json_object_get(c, "errors"), key, x)
				verdict_cell_add_error(v, failure_of_key(key), (uint64_t)json_integer_value(x));
			cell_top_error(v);
			v->failed_threshold = str_at(c, "failed_threshold", NULL);
		}
	verdict_table_print(f, &t);
	verdict_table_free(&t);
}

/* ---- the document ---- */

static json_t *execution_merged(const merger *m)
{
	json_t *o = json_object(), *list = json_array();
	uint32_t i;

	for (i = 0; i < m->n; i++) {
		const json_t *r = m->docs[m->parts[i].doc]->root;
		json_t *e = json_object();

		json_object_set_new(e, "file", json_string(m->names[m->parts[i].doc]));
		json_object_set_new(e, "segment", json_string(str_at(r, "execution", "segment")));
		json_object_set_new(
		    e, "instance",
		    json_string(str_at(r, "execution", "instance") ? str_at(r, "execution", "instance") : ""));
		json_array_append_new(list, e);
	}
	json_object_set_new(o, "segment", json_string(m->partial ? "partial" : "0:1"));
	json_object_set_new(o, "sequence", json_string(str_at(m->docs[0]->root, "execution", "sequence")));
	json_object_set_new(o, "plan_id",
			    json_string(str_at(m->docs[0]->root, "execution", "plan_id")
					    ? str_at(m->docs[0]->root, "execution", "plan_id")
					    : ""));
	json_object_set_new(o, "partial", json_boolean(m->partial));
	json_object_set_new(o, "instances", list);
	return o;
}

json_t *merge_summaries(sum_doc *const *docs, const char *const *names, uint32_t n, const merge_opts *o,
			merge_status *status, char *err, size_t errsz)
{
	static const char *const err_fields[] = {"count"};
	static const char *const check_fields[] = {"passes", "fails"};
	merger m;
	json_t *root = NULL, *metrics, *ts, *v, *outs, *tags;
	char t[40];
	uint32_t i;
	int th_failed = 0, interrupted = 0;
	size_t j;

	memset(&m, 0, sizeof(m));
	m.docs = docs;
	m.names = names;
	m.n = n;
	m.parts = xcalloc(n + 1, sizeof(*m.parts));
	*status = check_parts(&m, o, err, errsz);
	if (*status != MERGE_OK)
		goto out;
	m.secs = (double)(m.end_ns - m.start_ns) / 1e9;
	if (m.secs <= 0)
		m.secs = 1;
	hists_merge(&m);
	root = json_deep_copy(docs[0]->root);
	metrics = metrics_merge(&m);
	json_object_set_new(root, "metrics", metrics);
	json_object_set_new(root, "histograms", hists_json(&m));
	json_object_set_new(root, "errors", keyed_sum(&m, "errors", err_fields, 1));
	if (json_object_get(root, "checks"))
		json_object_set_new(root, "checks", keyed_sum(&m, "checks", check_fields, 2));
	if (json_object_get(root, "requests"))
		json_object_set_new(root, "requests", requests_merge(&m));
	ts = timeseries_merge(&m);
	if (ts) {
		json_object_set_new(root, "spikes", spikes_find(ts));
		json_object_set_new(root, "timeseries", ts);
	}
	if (json_object_get(root, "thresholds"))
		json_object_set_new(root, "thresholds", thresholds_merge(&m, metrics, &th_failed));
	if (json_object_get(root, "comparison"))
		json_object_set_new(root, "comparison", comparison_merge(&m, metrics));
	if (json_object_get(root, "phases"))
		json_object_set_new(root, "phases", phases_merge(&m));
	outs = json_array();
	for (i = 0; i < n; i++) {
		json_array_foreach(json_object_get(docs[i]->root, "outputs"), j, v) json_array_append(outs, v);
		interrupted |= json_is_true(json_object_get(docs[i]->root, "interrupted"));
	}
	json_object_set_new(root, "outputs", outs);
	json_object_set_new(root, "interrupted", json_boolean(interrupted));
	json_object_set_new(root, "start", json_string(fmt_rfc3339(m.start_ns, t, sizeof(t))));
	json_object_set_new(root, "end", json_string(fmt_rfc3339(m.end_ns, t, sizeof(t))));
	json_object_set_new(root, "duration_ms", json_real((double)(m.end_ns - m.start_ns) / 1e6));
	json_object_set_new(root, "execution", execution_merged(&m));
	(void)th_failed;
	tags = json_object_get(root, "tags");
	if (tags)
		json_object_del(tags, "instance");
	{
		json_t *cfg = json_object_get(root, "config");
		double vus = 0;

		for (i = 0; i < n; i++)
			vus += num(json_object_get(docs[i]->root, "config"), "vus");
		if (cfg)
			json_object_set_new(cfg, "vus", json_integer((json_int_t)vus));
	}
out:
	for (i = 0; i < m.nhists; i++)
		met_hist_destroy(m.hists[i].h);
	free(m.hists);
	free(m.parts);
	return root;
}
