/* The summary reader against documents built here: a valid v2 summary is
 * read and written back byte for byte; each malformed variant is refused
 * with a message naming the JSON path. With STRAIN_SUMMARY_FILE set (the
 * integration test does, after a real run), that file is read, written
 * back and compared byte for byte, and every percentile the summary gives
 * is recomputed from its histograms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "metrics/hist.h"
#include "metrics/hist_codec.h"
#include "report/summary_read.h"
#include "report/timeline.h"

#define FLAGS (JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10))

static met_hist *hist_of(uint64_t from_ms, uint64_t n)
{
	met_hist *h = met_hist_create();
	uint64_t i;

	for (i = 0; i < n; i++)
		met_hist_record(h, (from_ms + i) * NS_PER_MS);
	return h;
}

static json_t *enc(const met_hist *h)
{
	char *t = met_hist_encode(h);
	json_t *s = json_string(t);

	free(t);
	return s;
}

static json_t *pct(const met_hist *h, double p)
{
	return json_real(met_hist_percentile(h, p) / 1e6);
}

/* A small v2 summary: one series of three slots (the middle one empty),
 * the total and one group and one name for http_req_duration. */
static json_t *base_doc(void)
{
	met_hist *a = hist_of(10, 50), *b = hist_of(20, 40), *t = met_hist_create();
	json_t *root = json_object(), *m = json_object(), *s = json_object(), *ts = json_object();
	json_t *dur = json_object(), *hs = json_object(), *g = json_object(), *nm = json_object();
	static const char *const keys[] = {"p50", "p90", "p95", "p99", "max"};
	static const double ps[] = {50, 90, 95, 99, 100};
	size_t i;

	met_hist_merge(t, a);
	met_hist_merge(t, b);
	json_object_set_new(root, "version", json_string("strain-summary/2"));
	json_object_set_new(root, "duration_ms", json_real(3000.5));
	json_object_set_new(dur, "type", json_string("trend"));
	json_object_set_new(dur, "contains", json_string("time"));
	json_object_set_new(dur, "count", json_integer((json_int_t)t->count));
	json_object_set_new(dur, "min", json_real((double)t->min / 1e6));
	json_object_set_new(dur, "max", json_real((double)t->max / 1e6));
	json_object_set_new(dur, "med", pct(t, 50));
	json_object_set_new(dur, "p(95)", pct(t, 95));
	json_object_set_new(m, "http_req_duration", dur);
	json_object_set_new(root, "metrics", m);
	json_object_set_new(s, "module", json_string("profile"));
	json_object_set_new(s, "strategy", json_string("parallel"));
	json_object_set_new(s, "t_ms", json_pack("[i,i,i]", 0, 1000, 2000));
	json_object_set_new(s, "requests", json_pack("[i,i,i]", 50, 0, 41));
	json_object_set_new(s, "failures", json_pack("[i,i,i]", 0, 0, 1));
	json_object_set_new(s, "errors", json_pack("{s:[i,i,i]}", "1212", 0, 0, 1));
	json_object_set_new(s, "vus", json_pack("[f,f,f]", 5.0, 5.0, 5.0));
	json_object_set_new(s, "start_delay_max", json_pack("[f,f,f]", 0.0, 0.0, 1.5));
	json_object_set_new(s, "iterations", json_pack("[i,i,i]", 50, 0, 41));
	json_object_set_new(s, "dropped_iterations", json_pack("[i,i,i]", 0, 0, 0));
	for (i = 0; i < 5; i++)
		json_object_set_new(s, keys[i], json_pack("[o,n,o]", pct(a, ps[i]), pct(b, ps[i])));
	json_object_set_new(s, "hist", json_pack("[o,s,o]", enc(a), "", enc(b)));
	json_object_set_new(ts, "interval_ms", json_integer(1000));
	json_object_set_new(ts, "series", json_pack("[o]", s));
	json_object_set_new(root, "timeseries", ts);
	json_object_set_new(g, "module", json_string("profile"));
	json_object_set_new(g, "strategy", json_string("parallel"));
	json_object_set_new(g, "hist", enc(t));
	json_object_set_new(nm, "name", json_string("profile view"));
	json_object_set_new(nm, "hist", enc(t));
	json_object_set_new(hs, "http_req_duration",
			    json_pack("{s:o,s:[o],s:[o]}", "total", enc(t), "groups", g, "names", nm));
	json_object_set_new(root, "histograms", hs);
	json_object_set_new(root, "requests",
			    json_pack("[{s:s,s:s,s:i,s:i,s:f,s:f}]", "name", "profile view", "module", "profile", "count",
				      91, "failures", 1, "error_rate", 1.0 / 91, "p95", 30.0));
	met_hist_destroy(a);
	met_hist_destroy(b);
	met_hist_destroy(t);
	return root;
}

static void test_round_trip(void **state)
{
	json_t *root = base_doc();
	char *text = json_dumps(root, FLAGS), *back, err[256] = "";
	sum_doc *d = summary_parse(text, strlen(text), err, sizeof(err));

	(void)state;
	if (!d)
		fail_msg("refused: %s", err);
	assert_int_equal(d->version, 2);
	assert_int_equal(d->nseries, 1);
	assert_int_equal(d->series[0].n, 3);
	assert_null(d->series[0].hist[1]);
	assert_true(isnan(d->series[0].p95[1]));
	assert_int_equal(d->series[0].nerrors, 1);
	assert_int_equal(d->nhists, 3);
	assert_non_null(summary_doc_hist(d, "http_req_duration", NULL, NULL, NULL));
	assert_non_null(summary_doc_hist(d, "http_req_duration", "profile", "parallel", NULL));
	assert_non_null(summary_doc_hist(d, "http_req_duration", NULL, NULL, "profile view"));
	assert_null(summary_doc_hist(d, "http_req_duration", NULL, NULL, "other"));
	assert_int_equal(summary_doc_hist(d, "http_req_duration", NULL, NULL, NULL)->count, 90);
	back = summary_doc_json(d);
	assert_string_equal(back, text);
	free(back);
	summary_doc_free(d);
	free(text);
	json_decref(root);
}

static void test_version_1(void **state)
{
	static const char v1[] = "{\"version\": \"strain-summary/1\", \"duration_ms\": 1.5, \"metrics\": {}}";
	static const char v1_ts[] =
		"{\"version\": \"strain-summary/1\", \"duration_ms\": 1.5, \"metrics\": {}, \"timeseries\": {}}";
	char err[256] = "";
	sum_doc *d = summary_parse(v1, strlen(v1), err, sizeof(err));

	(void)state;
	assert_non_null(d);
	assert_int_equal(d->version, 1);
	assert_int_equal(d->nseries, 0);
	summary_doc_free(d);
	assert_null(summary_parse(v1_ts, strlen(v1_ts), err, sizeof(err)));
	assert_string_equal(err, "timeseries: not part of strain-summary/1");
}

/* One malformed variant: what is changed, and the message expected. */
typedef struct mutation {
	const char *path; /* a '/'-separated path to the value replaced ("" the root) */
	const char *value; /* JSON text of the new value; NULL deletes it */
	const char *expect;
} mutation;

static const mutation cases[] = {
	{"version", "\"strain-summary/3\"", "version: 'strain-summary/3' is not a version this strain reads"},
	{"version", NULL, "version: missing: not a strain summary"},
	{"version", "2", "version: not a string"},
	{"duration_ms", "\"x\"", "duration_ms: not a number"},
	{"duration_ms", "-1", "duration_ms: -1 out of range"},
	{"metrics", NULL, "metrics: missing"},
	{"metrics/http_req_duration/type", "\"histogram\"", "metrics.http_req_duration: type: not counter"},
	{"timeseries/interval_ms", "0", "timeseries.interval_ms: 0 out of range"},
	{"timeseries/interval_ms", "1000.0", "timeseries.interval_ms: not an integer"},
	{"timeseries/series/0/t_ms/1", "1500", "timeseries.series[0].t_ms[1]: 1500 is not the start of one of 1024 slots"},
	{"timeseries/series", "{}", "timeseries.series: not an array"},
	{"timeseries/series/0/p95/2", "\"fast\"", "timeseries.series[0].p95[2]: not a number"},
	{"timeseries/series/0/p95/2", "1234.5", "timeseries.series[0].p95[2]: 1234.5 where its histogram gives"},
	{"timeseries/series/0/p95/1", "3", "timeseries.series[0].p95[1]: a figure in a slot without a histogram"},
	{"timeseries/series/0/p50/0", "null", "timeseries.series[0].p50[0]: null in a slot with a histogram"},
	{"timeseries/series/0/requests", "[50, 0]", "timeseries.series[0].requests: 2 entries where t_ms has 3"},
	{"timeseries/series/0/requests/0", "-4", "timeseries.series[0].requests[0]: negative"},
	{"timeseries/series/0/requests/0", "4.5", "timeseries.series[0].requests[0]: not an integer"},
	{"timeseries/series/0/requests/0", "10", "timeseries.series[0].hist[0]: 50 samples in a slot of 10 requests"},
	{"timeseries/series/0/failures/2", "42", "timeseries.series[0].failures[2]: more failures than requests"},
	{"timeseries/series/0/t_ms/1", "0", "timeseries.series[0].t_ms[1]: not after the slot before"},
	{"timeseries/series/0/t_ms", NULL, "timeseries.series[0].t_ms: missing"},
	{"timeseries/series/0/hist/0", "\"!!!!\"", "timeseries.series[0].hist[0]: histogram is not base64"},
	{"timeseries/series/0/hist/0", "7", "timeseries.series[0].hist[0]: not a string"},
	{"timeseries/series/0/module", "null", "timeseries.series[0].module: not a string"},
	{"timeseries/series/0/errors/x12", "[0, 0, 0]", "timeseries.series[0].errors.x12: not an error code"},
	{"timeseries/series/0/errors/1212/2", "2", "timeseries.series[0].errors.1212[2]: more than the slot's failures"},
	{"histograms/http_req_duration/total", "\"\"", "histograms.http_req_duration.total: empty histogram"},
	{"histograms/http_req_duration/groups/0/strategy", NULL,
	 "histograms.http_req_duration.groups[0].strategy: not a string"},
	{"histograms/http_req_duration/names/0/name", "1", "histograms.http_req_duration.names[0].name: not a string"},
	{"metrics/http_req_duration/count", "7", "histograms.http_req_duration.total: 90 samples where metrics.http_req_duration.count is 7"},
	{"histograms/iterations", "{\"total\": \"AQcr\"}", "histograms.iterations.total: histogram: truncated header"},
	{"requests/0/failures", "92", "requests[0]: more failures than requests"},
	{"requests/0/error_rate", "1.5", "requests[0].error_rate: 1.5 out of range [0, 1]"},
	{"phases", "[{\"strategy\": \"parallel\", \"modules\": [3], \"start_ms\": 0, \"end_ms\": 1}]",
	 "phases[0].modules[0]: not a string"},
	{"phases", "[{\"strategy\": \"parallel\", \"modules\": [], \"start_ms\": 5, \"end_ms\": 1}]",
	 "phases[0]: end_ms before start_ms"},
	{"comparison", "{\"strategies\": {\"parallel\": {\"jobs\": {\"requests\": 1, \"rps\": 1, \"p50\": 1, "
		       "\"p95\": 1, \"p99\": \"slow\", \"error_rate\": 0}}}}",
	 "comparison.strategies.parallel.jobs.p99: not a number"},
	{"thresholds", "[{\"metric\": \"x\", \"expression\": \"p(95)<1\", \"ok\": 1}]", "thresholds[0].ok: not true or false"},
	{"timeseries/series/0/start_delay_max", "[0, 1]", "timeseries.series[0].start_delay_max: 2 entries where t_ms has 3"},
	{"timeseries/series/0/start_delay_max/1", "-0.5", "timeseries.series[0].start_delay_max[1]: -0.5 out of range"},
	{"spikes", "[{\"module\": \"profile\", \"strategy\": \"parallel\", \"start_ms\": 1000, \"length_ms\": 1000, "
		   "\"concurrent\": [\"jobs\", 7]}]",
	 "spikes[0].concurrent[1]: not a string"},
	{"spikes", "[{\"module\": \"profile\", \"strategy\": \"parallel\", \"start_ms\": 1000}]",
	 "spikes[0].length_ms: missing"},
	{"", "[]", "(document): not a JSON object"},
};

/* The value at a '/' path, and its parent, for a mutation. */
static void apply(json_t *root, const mutation *m, json_t **out)
{
	char buf[256], *save = NULL, *tok, *next;
	json_t *cur = root, *val = m->value ? json_loads(m->value, JSON_DECODE_ANY, NULL) : NULL;

	if (!*m->path) {
		*out = val;
		return;
	}
	snprintf(buf, sizeof(buf), "%s", m->path);
	tok = strtok_r(buf, "/", &save);
	for (;;) {
		next = strtok_r(NULL, "/", &save);
		if (!next)
			break;
		cur = json_is_array(cur) ? json_array_get(cur, (size_t)strtoul(tok, NULL, 10)) : json_object_get(cur, tok);
		assert_non_null(cur);
		tok = next;
	}
	if (json_is_array(cur)) {
		assert_non_null(val);
		json_array_set_new(cur, (size_t)strtoul(tok, NULL, 10), val);
	} else if (val) {
		json_object_set_new(cur, tok, val);
	} else {
		json_object_del(cur, tok);
	}
	*out = root;
}

static void test_malformed(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *root = base_doc(), *doc;
		char *text, err[512] = "";
		sum_doc *d;

		apply(root, &cases[i], &doc);
		text = json_dumps(doc, FLAGS | JSON_ENCODE_ANY);
		d = summary_parse(text, strlen(text), err, sizeof(err));
		if (d)
			fail_msg("case %zu (%s) was accepted", i, cases[i].path);
		if (strncmp(err, cases[i].expect, strlen(cases[i].expect)) != 0)
			fail_msg("case %zu: '%s', expected '%s...'", i, err, cases[i].expect);
		free(text);
		if (doc != root)
			json_decref(doc);
		json_decref(root);
	}
}

static void test_not_json(void **state)
{
	char err[256] = "";

	(void)state;
	assert_null(summary_parse("{\"version\": ", 12, err, sizeof(err)));
	assert_non_null(strstr(err, "not JSON: line 1"));
	assert_null(summary_parse("{\"version\": \"strain-summary/2\", \"version\": \"x\"}", 46, err, sizeof(err)));
	assert_non_null(strstr(err, "duplicate"));
	assert_null(summary_read("/nonexistent/s.json", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/s.json: No such file or directory");
	assert_null(summary_read("/", err, sizeof(err)));
	assert_string_equal(err, "/: Is a directory");
}

/* Past the limits: more slots than a timeline keeps, more series than the
 * reader takes. */
static void test_limits(void **state)
{
	json_t *root = base_doc(), *s = json_array_get(json_object_get(json_object_get(root, "timeseries"), "series"), 0);
	json_t *t = json_array(), *many = json_array();
	char *text, err[256] = "";
	int i;

	(void)state;
	for (i = 0; i <= TIMELINE_MAX_SLOTS; i++)
		json_array_append_new(t, json_integer(i * 1000));
	json_object_set(s, "t_ms", t);
	text = json_dumps(root, FLAGS);
	assert_null(summary_parse(text, strlen(text), err, sizeof(err)));
	assert_string_equal(err, "timeseries.series[0].t_ms: more than 1024 slots");
	free(text);
	for (i = 0; i < 5000; i++)
		json_array_append_new(many, json_object());
	json_object_set_new(json_object_get(root, "timeseries"), "series", many);
	text = json_dumps(root, FLAGS);
	assert_null(summary_parse(text, strlen(text), err, sizeof(err)));
	assert_string_equal(err, "timeseries.series: more than 4096 series");
	free(text);
	json_decref(t);
	json_decref(root);
}

/* --- a real run's summary (STRAIN_SUMMARY_FILE) --- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int checked;

/* A figure of the summary against its histogram: the same ten digits. */
static void same_figure(const json_t *v, double ns, const char *what)
{
	char a[64], b[64];

	if (!v || json_is_null(v))
		return;
	snprintf(a, sizeof(a), "%.10g", json_number_value(v));
	snprintf(b, sizeof(b), "%.10g", ns / 1e6);
	if (strcmp(a, b) != 0)
		fail_msg("%s: the summary says %s, its histogram %s", what, a, b);
	checked++;
}

static void trend_figures(const json_t *o, const met_hist *h, const char *what, const char *const *keys)
{
	static const double ps[] = {50, 90, 95, 99, 100};
	char w[512];
	size_t i;

	for (i = 0; i < 5; i++) {
		if (!keys[i])
			continue;
		snprintf(w, sizeof(w), "%s %s", what, keys[i]);
		same_figure(json_object_get(o, keys[i]), met_hist_percentile(h, ps[i]), w);
	}
}

static void test_real_file(void **state)
{
	static const char *const metric_keys[] = {"med", "p(90)", "p(95)", "p(99)", "max"};
	static const char *const cell_keys[] = {"p50", NULL, "p95", "p99", "max"};
	static const char *const req_keys[] = {"p50", "p90", "p95", "p99", "max"};
	const char *path = getenv("STRAIN_SUMMARY_FILE");
	char err[512] = "", *text, *back, w[512];
	const char *key, *s, *mod;
	json_t *v, *mods, *cell;
	sum_doc *d;
	size_t len, i;
	uint32_t k, j;

	(void)state;
	if (!path)
		skip();
	text = slurp(path, &len);
	d = summary_parse(text, len, err, sizeof(err));
	if (!d)
		fail_msg("%s refused: %s", path, err);
	back = summary_doc_json(d);
	/* summary_export adds a newline after the text. */
	if (len && text[len - 1] == '\n')
		text[--len] = '\0';
	if (strcmp(back, text) != 0) {
		for (i = 0; back[i] && back[i] == text[i]; i++)
			;
		fail_msg("written back differs at byte %zu: ...%.80s... vs ...%.80s...", i, text + (i > 40 ? i - 40 : 0),
			 back + (i > 40 ? i - 40 : 0));
	}
	assert_int_equal(d->version, 2);
	/* Every trend's figures from its total. */
	json_object_foreach(json_object_get(d->root, "metrics"), key, v) {
		const met_hist *h = summary_doc_hist(d, key, NULL, NULL, NULL);

		if (strcmp(json_string_value(json_object_get(v, "type")), "trend") != 0)
			continue;
		if (!h)
			fail_msg("no histogram for the trend %s", key);
		if (strcmp(json_string_value(json_object_get(v, "contains")), "time") == 0)
			trend_figures(v, h, key, metric_keys);
	}
	/* The module x strategy table from the groups. */
	json_object_foreach(json_object_get(json_object_get(d->root, "comparison"), "strategies"), s, mods) {
		json_object_foreach(mods, mod, cell) {
			const met_hist *h = summary_doc_hist(d, "http_req_duration", mod, s, NULL);

			if (!h)
				fail_msg("no histogram for %s x %s", mod, s);
			snprintf(w, sizeof(w), "comparison %s %s", s, mod);
			trend_figures(cell, h, w, cell_keys);
		}
	}
	/* The requests from the names. */
	json_array_foreach(json_object_get(d->root, "requests"), i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const met_hist *h = summary_doc_hist(d, "http_req_duration", NULL, NULL, name);

		if (!h) {
			assert_true(json_is_null(json_object_get(v, "p95")) || !json_object_get(v, "p95"));
			continue;
		}
		snprintf(w, sizeof(w), "requests %s", name);
		trend_figures(v, h, w, req_keys);
	}
	/* Every slot from its histogram. */
	for (j = 0; j < d->nseries; j++) {
		const sum_series *se = &d->series[j];
		const double *figs[] = {se->p50, se->p90, se->p95, se->p99, se->max};
		static const double ps[] = {50, 90, 95, 99, 100};

		for (k = 0; k < se->n; k++) {
			if (!se->hist[k])
				continue;
			for (i = 0; i < 5; i++) {
				json_t *x = json_real(figs[i][k]);

				snprintf(w, sizeof(w), "series %s/%s slot %u p%g", se->module, se->strategy, k, ps[i]);
				same_figure(x, met_hist_percentile(se->hist[k], ps[i]), w);
				json_decref(x);
			}
		}
	}
	printf("# %s: written back identical (%zu bytes); %d figures recomputed from %u histograms\n", path, len, checked,
	       d->nhists);
	free(back);
	free(text);
	summary_doc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_version_1), cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_not_json),   cmocka_unit_test(test_limits),    cmocka_unit_test(test_real_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
