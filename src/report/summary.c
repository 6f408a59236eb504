#include "report/summary.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/errcode.h"
#include "core/format.h"
#include "metrics/query.h"
#include "metrics/trend_stats.h"
#include "program/program.h"
#include "report/failure.h"
#include "report/history.h"
#include "report/spikes.h"
#include "report/timeline.h"
#include "report/verdict.h"

#define NAME_WIDTH 32
#define MAX_ERROR_CODES 64
#define ERR_LABEL_PAD 56 /* columns the errors-by-code labels are padded to, at most */

static int name_cmp(const void *a, const void *b, void *r)
{
	return strcmp(met_metric(r, *(const uint32_t *)a)->name, met_metric(r, *(const uint32_t *)b)->name);
}

/* Metrics that have samples, sorted by name as k6 prints them. */
static uint32_t present_metrics(const met_registry *r, const met_shard *total, uint32_t *out)
{
	uint32_t n = 0, m, i;

	for (m = 0; m < met_metric_count(r); m++)
		for (i = 0; i < total->ntouched; i++)
			if (met_series_metric(r, total->touched[i]) == m && total->cells[total->touched[i]].n) {
				out[n++] = m;
				break;
			}
	qsort_r(out, n, sizeof(*out), name_cmp, (void *)r);
	return n;
}

static void dotted(FILE *f, const char *indent, const char *name)
{
	int len = (int)strlen(name) + (int)strlen(indent);

	fprintf(f, "     %s%s", indent, name);
	for (; len < NAME_WIDTH; len++)
		fputc('.', f);
	fputs(": ", f);
}

/* Pads to a column width counting characters, not bytes ("µs"). */
static void padded(FILE *f, const char *s, int width)
{
	int chars = 0;
	const char *p;

	for (p = s; *p; p++)
		chars += ((unsigned char)*p & 0xC0) != 0x80;
	fputs(s, f);
	for (; chars < width; chars++)
		fputc(' ', f);
}

/* The trend's columns: --summary-trend-stats, or the default. */
static const trend_stats *stats_of(const run_result *info)
{
	static trend_stats def;
	static int parsed;
	char err[8];

	if (info && info->trend_stats)
		return info->trend_stats;
	if (!parsed) {
		trend_stats_parse(TREND_STATS_DEFAULT, &def, err, sizeof(err));
		parsed = 1;
	}
	return &def;
}

static void print_trend(FILE *f, const met_hist *h, int is_time, const trend_stats *ts)
{
	char b[32];
	uint32_t i;

	for (i = 0; i < ts->n; i++) {
		const trend_stat *st = &ts->s[i];
		double v = trend_stat_value(st, h);

		if (st->kind == TS_COUNT)
			snprintf(b, sizeof(b), "%.0f", v);
		else if (is_time)
			fmt_ns(v, b, sizeof(b));
		else
			snprintf(b, sizeof(b), "%.4g", v);
		fprintf(f, "%s%s=", i ? " " : "", st->label);
		if (i + 1 < ts->n)
			padded(f, b, 10);
		else
			fputs(b, f);
	}
	fputc('\n', f);
}

static void print_metric(FILE *f, const met_registry *r, const met_shard *total, uint32_t m, double secs,
			 const trend_stats *ts)
{
	const met_def *d = met_metric(r, m);
	met_agg a;
	char b[32];

	met_agg_init(&a);
	met_query(total, r, m, NULL, 0, &a);
	dotted(f, "", d->name);
	switch (d->type) {
	case MET_COUNTER:
		if (d->contains == MET_DATA)
			fprintf(f, "%-10s %s/s\n", fmt_bytes(a.sum, b, sizeof(b)),
				fmt_bytes(a.sum / secs, b + 16, sizeof(b) - 16));
		else
			fprintf(f, "%-10.0f %.2f/s\n", a.sum, a.sum / secs);
		break;
	case MET_RATE:
		fprintf(f, "%.2f%%  %llu out of %llu\n", a.n ? 100.0 * (double)a.nonzero / (double)a.n : 0.0,
			(unsigned long long)a.nonzero, (unsigned long long)a.n);
		break;
	case MET_GAUGE:
		fprintf(f, "%-10.0f min=%-8.0f max=%.0f\n", a.value, a.min, a.max);
		break;
	case MET_TREND:
		print_trend(f, a.hist, d->contains == MET_TIME, ts);
		if (m == MET_HTTP_REQ_DURATION) {
			met_tag ok = {"expected_response", "true"};
			met_agg e;

			met_agg_init(&e);
			if (met_query(total, r, m, &ok, 1, &e) && e.hist->count != a.hist->count) {
				dotted(f, "  ", "{ expected_response:true }");
				print_trend(f, e.hist, 1, ts);
			}
			met_agg_free(&e);
		}
		break;
	}
	met_agg_free(&a);
}

typedef struct check_count {
	const char *name;
	uint64_t passes, fails;
} check_count;

/* Passes and fails per check name (all modules and strategies together). */
static size_t check_counts(const met_registry *r, const met_shard *total, check_count **out)
{
	size_t n = 0, cap = 0, j;
	uint32_t i;

	*out = NULL;
	for (i = 0; i < total->ntouched; i++) {
		uint32_t id = total->touched[i];
		const met_cell *c = &total->cells[id];
		const char *name;

		if (met_series_metric(r, id) != MET_CHECKS)
			continue;
		name = met_tagset_value(met_tagset_get(r, met_series_tagset(r, id)), "check");
		if (!name)
			continue;
		for (j = 0; j < n && strcmp((*out)[j].name, name); j++)
			;
		if (j == n) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				*out = xrealloc(*out, cap * sizeof(**out));
			}
			(*out)[n].name = name;
			(*out)[n].passes = (*out)[n].fails = 0;
			n++;
		}
		(*out)[j].passes += c->u.rate.nonzero;
		(*out)[j].fails += c->n - c->u.rate.nonzero;
	}
	return n;
}

typedef struct err_count {
	int code;
	uint64_t n;
} err_count;

/* Failed requests per error code, from the error_code tag of http_reqs.
 * A 4xx/5xx status inside the run's expected statuses carries its code as
 * a tag (as in k6) but is no failure (expected_response true): not listed. */
static size_t error_counts(const met_registry *r, const met_shard *total, err_count *out, uint64_t *reqs)
{
	size_t n = 0, j;
	uint32_t i;

	*reqs = 0;
	for (i = 0; i < total->ntouched; i++) {
		uint32_t id = total->touched[i];
		int c;

		if (met_series_metric(r, id) != MET_HTTP_REQS)
			continue;
		*reqs += (uint64_t)total->cells[id].u.sum;
		if (!failure_code(met_tagset_get(r, met_series_tagset(r, id)), &c))
			continue;
		for (j = 0; j < n && out[j].code != c; j++)
			;
		if (j == n) {
			if (n == MAX_ERROR_CODES)
				continue;
			out[n].code = c;
			out[n++].n = 0;
		}
		out[j].n += (uint64_t)total->cells[id].u.sum;
	}
	return n;
}

/* A row's words: the code's description, or for a status-only failure
 * (negative key) why it is one. */
static const char *error_text(int code)
{
	return code < 0 ? "outside the expected statuses" : err_describe(code);
}

static int err_cmp(const void *a, const void *b)
{
	const err_count *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : x->code - y->code;
}

/* One output's final flush, under its line: it came after the load, so
 * it is reported on its own and never counted in the run's duration. */
static void output_flush_print(FILE *f, const output_result *o)
{
	char t[32];

	fprintf(f, "       final flush %s", fmt_ns((double)o->flush_ns, t, sizeof(t)));
	if (o->flush_dropped)
		fprintf(f, ", %llu points dropped in it", (unsigned long long)o->flush_dropped);
	if (o->flush_abandoned)
		fprintf(f, " (abandoned: the output was still blocked)");
	else if (o->flush_cut)
		fprintf(f, " (cut short: time limit or signal)");
	fputc('\n', f);
}

static void output_flush_json(json_t *o, const output_result *so)
{
	json_object_set_new(o, "flush_ms", json_real((double)so->flush_ns / 1e6));
	json_object_set_new(o, "flush_points_dropped", json_integer((json_int_t)so->flush_dropped));
	json_object_set_new(o, "flush_cut", json_boolean(so->flush_cut || so->flush_abandoned));
}

/* strain collect: how many instances the figures below hold. */
static void collect_print(FILE *f, const collect_result *c)
{
	uint32_t i, done = 0;

	for (i = 0; i < c->ninstances; i++)
		if (c->instances[i].done)
			done++;
	fprintf(f, "  merged from %u instance%s of %u expected (%u finished)%s\n", c->ninstances,
		c->ninstances == 1 ? "" : "s", c->expected, done, c->partial ? ": PARTIAL result" : "");
	for (i = 0; i < c->ninstances; i++) {
		const collect_instance *in = &c->instances[i];

		if (in->lost || in->gaps)
			fprintf(f, "  WARNING: instance %s %s%s%llu push%s missing\n", in->id, in->lost ? "was lost" : "",
				in->lost ? ", " : "", (unsigned long long)in->gaps, in->gaps == 1 ? "" : "es");
	}
	if (c->missing)
		fprintf(f, "  WARNING: %u expected instance%s never pushed\n", c->missing, c->missing == 1 ? "" : "s");
	if (c->abort_reason)
		fprintf(f, "  aborted every instance: %s\n", c->abort_reason);
	fputc('\n', f);
}

/* The summary's "collect" section (docs/distributed.md). */
static json_t *collect_json(const collect_result *c)
{
	json_t *o = json_object(), *arr = json_array();
	uint32_t i;

	for (i = 0; i < c->ninstances; i++) {
		const collect_instance *in = &c->instances[i];
		json_t *e = json_object();

		json_object_set_new(e, "id", json_string(in->id));
		json_object_set_new(e, "instance", json_string(in->instance));
		json_object_set_new(e, "pushes", json_integer((json_int_t)in->pushes));
		json_object_set_new(e, "missing_pushes", json_integer((json_int_t)in->gaps));
		json_object_set_new(e, "done", json_boolean(in->done));
		json_object_set_new(e, "lost", json_boolean(in->lost));
		json_array_append_new(arr, e);
	}
	json_object_set_new(o, "expected", json_integer(c->expected));
	json_object_set_new(o, "instances", arr);
	json_object_set_new(o, "never_seen", json_integer(c->missing));
	json_object_set_new(o, "abort_reason", c->abort_reason ? json_string(c->abort_reason) : json_null());
	return o;
}

void summary_print(FILE *f, const run_result *info)
{
	const met_registry *r = info->reg;
	const met_shard *total = info->total;
	uint32_t *ms = xcalloc(met_metric_count(r), sizeof(*ms));
	uint32_t n = present_metrics(r, total, ms), i;
	double secs = info->elapsed_ns ? (double)info->elapsed_ns / 1e9 : 1;
	err_count errs[MAX_ERROR_CODES];
	uint64_t reqs;
	size_t ne = error_counts(r, total, errs, &reqs);
	char el[32];

	fprintf(f, "\n  %s\n", info->description ? info->description : "strain run");
	fprintf(f, "  %s after %s", info->interrupted ? "interrupted" : "finished",
		fmt_ns((double)info->elapsed_ns, el, sizeof(el)));
	if (info->cfg && info->cfg->testid)
		fprintf(f, " (testid %s)", info->cfg->testid);
	fputs("\n\n", f);
	if (info->collect)
		collect_print(f, info->collect);
	if (info->cfg && info->cfg->tls_insecure)
		fprintf(f, "  WARNING: TLS certificates were not verified (--insecure-skip-tls-verify)\n\n");
	for (i = 0; i < n; i++) {
		print_metric(f, r, total, ms[i], secs, stats_of(info));
		if (ms[i] == MET_CHECKS) {
			check_count *cc;
			size_t nc = check_counts(r, total, &cc), k;

			for (k = 0; k < nc; k++)
				fprintf(f, "       %s %s  (%llu passed, %llu failed)\n", cc[k].fails ? "FAIL" : "ok  ", cc[k].name,
					(unsigned long long)cc[k].passes, (unsigned long long)cc[k].fails);
			free(cc);
		}
	}
	if (ne) {
		qsort(errs, ne, sizeof(errs[0]), err_cmp);
		int width = 44;

		fprintf(f, "\n     errors by code:\n");
		for (i = 0; i < ne; i++) {
			int len = snprintf(NULL, 0, "%d %s", errs[i].code, error_text(errs[i].code));

			if (len > width)
				width = len;
		}
		/* A description that names its fix (1211, 1215) is long: it
		 * overflows its row rather than pushing every count far right. */
		if (width > ERR_LABEL_PAD)
			width = ERR_LABEL_PAD;
		for (i = 0; i < ne; i++) {
			char label[256];

			if (errs[i].code < 0)
				snprintf(label, sizeof(label), "status %d %s", -errs[i].code, error_text(errs[i].code));
			else
				snprintf(label, sizeof(label), "%d %s", errs[i].code, error_text(errs[i].code));
			fprintf(f, "       %-*s %10llu  (%.2f%% of requests)\n", width, label,
				(unsigned long long)errs[i].n, reqs ? 100.0 * (double)errs[i].n / (double)reqs : 0);
		}
	}
	if (info->cfg && info->cfg->nthresholds) {
		fprintf(f, "\n     thresholds:\n");
		for (i = 0; i < info->cfg->nthresholds; i++) {
			const met_threshold *t = &info->cfg->thresholds[i];
			const met_threshold_result *res = &info->th_results[i];
			char label[600];

			snprintf(label, sizeof(label), "%s %s", t->source, t->expr);
			fprintf(f, "       %s %-56s %s\n", res->failed ? "FAIL" : "ok  ", label,
				res->no_data ? "(no samples)" : "");
			if (!res->no_data)
				fprintf(f, "            observed %.4g%s\n", res->observed, t->abort_on_fail ? ", aborts the run" : "");
		}
	}
	verdict_print(f, info);
	if (info->timeseries || info->timeline) {
		json_t *ts = info->timeseries ? json_incref(info->timeseries) : timeline_json(info->timeline, 0);
		json_t *sp = spikes_find(ts);

		spikes_print(f, sp);
		json_decref(sp);
		json_decref(ts);
	}
	for (i = 0; i < info->noutputs; i++) {
		const output_result *o = &info->outputs[i];

		fprintf(f, "\n     output %s: %llu points written", o->spec, (unsigned long long)o->written);
		if (o->dropped)
			fprintf(f, ", %llu DROPPED", (unsigned long long)o->dropped);
		if (o->errors)
			fprintf(f, ", %llu failed writes (last: %s)", (unsigned long long)o->errors, o->last_error);
		fputc('\n', f);
		output_flush_print(f, o);
	}
	if (info->series_overflow)
		fprintf(f, "\n     warning: %llu tag combinations beyond the series limit were folded into untagged series\n",
			(unsigned long long)info->series_overflow);
	fputc('\n', f);
	free(ms);
}

static json_t *ms_real(double ns)
{
	return json_real(ns / 1e6);
}

static json_t *metric_json(const met_registry *r, const met_shard *total, uint32_t m, double secs,
			   const trend_stats *ts)
{
	const met_def *d = met_metric(r, m);
	json_t *o = json_object();
	met_agg a;

	met_agg_init(&a);
	met_query(total, r, m, NULL, 0, &a);
	json_object_set_new(o, "type",
			    json_string(d->type == MET_COUNTER ? "counter"
					: d->type == MET_RATE  ? "rate"
					: d->type == MET_GAUGE ? "gauge"
							       : "trend"));
	json_object_set_new(o, "contains",
			    json_string(d->contains == MET_TIME ? "time" : d->contains == MET_DATA ? "data" : "default"));
	switch (d->type) {
	case MET_COUNTER:
		/* Whole counts stay integers, as k6 writes them. */
		if (a.sum == (double)(json_int_t)a.sum && a.sum < 9007199254740992.0)
			json_object_set_new(o, "count", json_integer((json_int_t)a.sum));
		else
			json_object_set_new(o, "count", json_real(a.sum));
		json_object_set_new(o, "rate", json_real(a.sum / secs));
		break;
	case MET_RATE:
		json_object_set_new(o, "rate", json_real(a.n ? (double)a.nonzero / (double)a.n : 0));
		json_object_set_new(o, "value", json_real(a.n ? (double)a.nonzero / (double)a.n : 0));
		json_object_set_new(o, "passes", json_integer((json_int_t)a.nonzero));
		json_object_set_new(o, "fails", json_integer((json_int_t)(a.n - a.nonzero)));
		break;
	case MET_GAUGE:
		json_object_set_new(o, "value", json_real(a.value));
		json_object_set_new(o, "min", json_real(a.min));
		json_object_set_new(o, "max", json_real(a.max));
		break;
	case MET_TREND: {
		int t = d->contains == MET_TIME;
		double scale = t ? 1e6 : 1; /* time trends in milliseconds, like k6 */
		uint32_t i;

		/* count always: readers of the file need it; the rest as asked. */
		json_object_set_new(o, "count", json_integer((json_int_t)a.hist->count));
		for (i = 0; i < ts->n; i++)
			if (ts->s[i].kind != TS_COUNT)
				json_object_set_new(o, ts->s[i].label, json_real(trend_stat_value(&ts->s[i], a.hist) / scale));
		break;
	}
	}
	met_agg_free(&a);
	return o;
}

/* The run id and the run's tags (its testid among them). */
static void run_tags_json(json_t *root, const run_config *cfg)
{
	json_t *tags = json_object();
	uint32_t i;

	for (i = 0; i < cfg->nrun_tags; i++)
		json_object_set_new(tags, cfg->run_tags[i].key, json_string(cfg->run_tags[i].value));
	json_object_set_new(root, "testid", cfg->testid ? json_string(cfg->testid) : json_null());
	json_object_set_new(root, "tags", tags);
}

static uint64_t fnv_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv_add(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* What strain merge checks the parts of one split run by: the same test
 * (what ran, its modules' executors, its thresholds) hashes the same in
 * every process, whatever its segment. A plan counts by its file name
 * only, so machines that keep it in different directories agree. */
static void plan_id(const run_result *info, char *out, size_t outsz)
{
	const run_config *cfg = info->cfg;
	uint64_t h = 0xcbf29ce484222325ull;
	const char *base = info->plan ? strrchr(info->plan, '/') : NULL;
	uint32_t i;

	if (!info->plan)
		h = fnv_str(h, info->description); /* quick mode: the URL, method, rate ... */
	h = fnv_str(h, base ? base + 1 : info->plan);
	h = fnv_str(h, info->strategy);
	for (i = 0; i < cfg->nscenarios; i++) {
		const run_scenario *sc = &cfg->scenarios[i];
		uint64_t v[4] = {(uint64_t)sc->exec, sc->vus, sc->iterations, sc->duration_ns};

		h = fnv_str(h, sc->name);
		h = fnv_add(h, v, sizeof(v));
	}
	for (i = 0; i < cfg->nthresholds; i++) {
		h = fnv_str(h, cfg->thresholds[i].source);
		h = fnv_str(h, cfg->thresholds[i].expr);
	}
	snprintf(out, outsz, "%016llx", (unsigned long long)h);
}

/* "execution": this process's part of a split run (docs/distributed.md). */
static void execution_json(json_t *root, const run_result *info)
{
	json_t *o = json_object();
	char seg[64], seq[4096], id[24];

	seg_format(&info->cfg->segment, seg, sizeof(seg), seq, sizeof(seq));
	plan_id(info, id, sizeof(id));
	json_object_set_new(o, "segment", json_string(seg));
	json_object_set_new(o, "sequence", json_string(seq));
	json_object_set_new(o, "instance", json_string(info->cfg->instance ? info->cfg->instance : ""));
	json_object_set_new(o, "plan_id", json_string(id));
	json_object_set_new(root, "execution", o);
}

char *summary_json(const run_result *info)
{
	const met_registry *r = info->reg;
	const met_shard *total = info->total;
	uint32_t *ms = xcalloc(met_metric_count(r), sizeof(*ms));
	uint32_t n = present_metrics(r, total, ms), i;
	double secs = info->elapsed_ns ? (double)info->elapsed_ns / 1e9 : 1;
	json_t *root = json_object(), *metrics = json_object(), *cfg = json_object(), *errors = json_object();
	err_count errs[MAX_ERROR_CODES];
	uint64_t reqs;
	size_t ne = error_counts(r, total, errs, &reqs);
	char t[40];
	char *text;

	for (i = 0; i < n; i++)
		json_object_set_new(metrics, met_metric(r, ms[i])->name, metric_json(r, total, ms[i], secs, stats_of(info)));
	for (i = 0; i < ne; i++) {
		char code[24];
		json_t *e = json_object();

		failure_key(errs[i].code, code, sizeof(code));
		json_object_set_new(e, "count", json_integer((json_int_t)errs[i].n));
		json_object_set_new(e, "description", json_string(error_text(errs[i].code)));
		json_object_set_new(errors, code, e);
	}
	json_object_set_new(cfg, "vus", json_integer(info->vus));
	json_object_set_new(cfg, "threads", json_integer(info->threads));
	json_object_set_new(cfg, "duration_ms", ms_real((double)info->duration_ns));
	json_object_set_new(cfg, "iterations", json_integer((json_int_t)info->iterations));
	json_object_set_new(cfg, "timeout_ms", ms_real((double)info->timeout_ns));
	json_object_set_new(cfg, "no_connection_reuse", json_boolean(info->no_reuse));
	json_object_set_new(root, "version", json_string("strain-summary/2"));
	json_object_set_new(root, "description", json_string(info->description ? info->description : ""));
	if (info->cfg) {
		run_tags_json(root, info->cfg);
		execution_json(root, info);
	}
	json_object_set_new(root, "start", json_string(fmt_rfc3339(info->start_wall_ns, t, sizeof(t))));
	json_object_set_new(root, "end", json_string(fmt_rfc3339(info->end_wall_ns, t, sizeof(t))));
	json_object_set_new(root, "duration_ms", ms_real((double)info->elapsed_ns));
	json_object_set_new(root, "interrupted", json_boolean(info->interrupted));
	json_object_set_new(root, "config", cfg);
	json_object_set_new(root, "metrics", metrics);
	json_object_set_new(root, "errors", errors);
	{
		check_count *cc;
		size_t nc = check_counts(r, total, &cc), k;

		if (nc) {
			json_t *checks = json_object();

			for (k = 0; k < nc; k++) {
				json_t *o = json_object();

				json_object_set_new(o, "passes", json_integer((json_int_t)cc[k].passes));
				json_object_set_new(o, "fails", json_integer((json_int_t)cc[k].fails));
				json_object_set_new(checks, cc[k].name, o);
			}
			json_object_set_new(root, "checks", checks);
		}
		free(cc);
	}
	if (info->cfg && info->cfg->nthresholds) {
		json_t *ths = json_array();

		for (i = 0; i < info->cfg->nthresholds; i++) {
			const met_threshold *th = &info->cfg->thresholds[i];
			const met_threshold_result *res = &info->th_results[i];
			json_t *o = json_object();

			json_object_set_new(o, "metric", json_string(th->source));
			json_object_set_new(o, "expression", json_string(th->expr));
			json_object_set_new(o, "ok", json_boolean(!res->failed));
			json_object_set_new(o, "observed", res->no_data ? json_null() : json_real(res->observed));
			json_object_set_new(o, "abort_on_fail", json_boolean(th->abort_on_fail));
			json_array_append_new(ths, o);
		}
		json_object_set_new(root, "thresholds", ths);
	}
	{
		json_t *cmp = verdict_json(info);

		if (cmp)
			json_object_set_new(root, "comparison", cmp);
	}
	{
		json_t *outs = json_array();

		for (i = 0; i < info->noutputs; i++) {
			const output_result *so = &info->outputs[i];
			json_t *o = json_object();

			json_object_set_new(o, "spec", json_string(so->spec));
			json_object_set_new(o, "points_written", json_integer((json_int_t)so->written));
			json_object_set_new(o, "points_dropped", json_integer((json_int_t)so->dropped));
			json_object_set_new(o, "write_errors", json_integer((json_int_t)so->errors));
			if (so->last_error && *so->last_error)
				json_object_set_new(o, "last_error", json_string(so->last_error));
			output_flush_json(o, so);
			json_array_append_new(outs, o);
		}
		json_object_set_new(root, "outputs", outs);
	}
	history_json(root, info);
	if (info->collect) {
		json_object_set_new(root, "collect", collect_json(info->collect));
		json_object_set_new(root, "partial", json_boolean(info->collect->partial));
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	json_decref(root);
	free(ms);
	return text;
}

int summary_export(const char *path, const char *text, char *err, size_t errsz)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (!f || fputs(text, f) == EOF || fputc('\n', f) == EOF) {
		snprintf(err, errsz, "--summary-export %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (f && fclose(f) != 0 && !rc) {
		snprintf(err, errsz, "--summary-export %s: %s", path, strerror(errno));
		rc = -1;
	}
	return rc;
}
