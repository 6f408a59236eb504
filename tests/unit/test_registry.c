/* The metric registry (metrics/registry): built-in and custom metrics, tag
 * sets interned order-insensitively with owned strings, series ids dense
 * and stable, the same ids from concurrent interning, and the series cap:
 * past it, new tag combinations fold into the metric's untagged series and
 * are counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/registry.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_builtins(void **state)
{
	static const struct {
		const char *name;
		int id;
		met_type type;
		met_contains contains;
	} cases[] = {
		{"http_reqs", MET_HTTP_REQS, MET_COUNTER, MET_DEFAULT},
		{"http_req_duration", MET_HTTP_REQ_DURATION, MET_TREND, MET_TIME},
		{"http_req_failed", MET_HTTP_REQ_FAILED, MET_RATE, MET_DEFAULT},
		{"checks", MET_CHECKS, MET_RATE, MET_DEFAULT},
		{"vus", MET_VUS, MET_GAUGE, MET_DEFAULT},
		{"vus_max", MET_VUS_MAX, MET_GAUGE, MET_DEFAULT},
		{"data_sent", MET_DATA_SENT, MET_COUNTER, MET_DATA},
		{"iteration_duration", MET_ITERATION_DURATION, MET_TREND, MET_TIME},
		{"dropped_iterations", MET_DROPPED_ITERATIONS, MET_COUNTER, MET_DEFAULT},
		{"iteration_start_delay", MET_ITERATION_START_DELAY, MET_TREND, MET_TIME},
	};
	met_registry *r = met_registry_create();
	uint32_t i;

	(void)state;
	assert_int_equal(met_metric_count(r), MET_BUILTIN_COUNT);
	for (i = 0; i < N_ELEMS(cases); i++) {
		const met_def *d = met_metric(r, (uint32_t)cases[i].id);

		assert_int_equal(met_metric_find(r, cases[i].name), cases[i].id);
		assert_string_equal(d->name, cases[i].name);
		assert_int_equal(d->type, cases[i].type);
		assert_int_equal(d->contains, cases[i].contains);
	}
	/* Every built-in has a distinct name that finds it. */
	for (i = 0; i < MET_BUILTIN_COUNT; i++)
		assert_int_equal(met_metric_find(r, met_metric(r, i)->name), (int)i);
	assert_int_equal(met_metric_find(r, "nope"), -1);
	assert_int_equal(met_metric_find(r, "http_req"), -1);
	/* No series until someone interns one. */
	assert_int_equal(met_series_count(r), 0);
	assert_int_equal(met_series_overflowed(r), 0);
	met_registry_destroy(r);
	met_registry_destroy(NULL);
}

static void test_custom_metrics(void **state)
{
	met_registry *r = met_registry_create();
	char name[32];
	int a, b, i, last = -1;

	(void)state;
	a = met_metric_add(r, "login_time", MET_TREND, MET_TIME);
	assert_int_equal(a, MET_BUILTIN_COUNT);
	/* Same name and type: the same metric. */
	assert_int_equal(met_metric_add(r, "login_time", MET_TREND, MET_TIME), a);
	/* Same name, another type: a clash, for custom and built-in names. */
	assert_int_equal(met_metric_add(r, "login_time", MET_COUNTER, MET_DEFAULT), -1);
	assert_int_equal(met_metric_add(r, "http_reqs", MET_TREND, MET_TIME), -1);
	assert_int_equal(met_metric_add(r, "http_reqs", MET_COUNTER, MET_DEFAULT), MET_HTTP_REQS);
	b = met_metric_add(r, "orders", MET_COUNTER, MET_DEFAULT);
	assert_int_equal(b, a + 1);
	assert_int_equal(met_metric_find(r, "orders"), b);
	assert_string_equal(met_metric(r, (uint32_t)b)->name, "orders");
	/* Room for MET_MAX_METRICS in all, then -1. */
	for (i = 0; i < MET_MAX_METRICS; i++) {
		int id;

		snprintf(name, sizeof(name), "m%d", i);
		id = met_metric_add(r, name, MET_GAUGE, MET_DEFAULT);
		if (id < 0)
			break;
		assert_int_equal(id, b + 1 + i);
		last = id;
	}
	assert_int_equal(last, MET_MAX_METRICS - 1);
	assert_int_equal(met_metric_count(r), MET_MAX_METRICS);
	assert_int_equal(met_metric_add(r, "one_too_many", MET_GAUGE, MET_DEFAULT), -1);
	/* Existing ones are still found when full. */
	assert_int_equal(met_metric_add(r, "orders", MET_COUNTER, MET_DEFAULT), b);
	met_registry_destroy(r);
}

static void test_tagset_interning(void **state)
{
	met_registry *r = met_registry_create();
	met_tag ab[] = {{"method", "GET"}, {"status", "200"}};
	met_tag ba[] = {{"status", "200"}, {"method", "GET"}};
	met_tag with_empty[] = {{"status", "200"}, {"error", ""}, {"method", "GET"}, {"x", NULL}};
	met_tag other[] = {{"method", "GET"}, {"status", "404"}};
	met_tag swapped[] = {{"method", "200"}, {"status", "GET"}};
	met_tag only_empty[] = {{"error", ""}};
	uint32_t id_ab, id_other, id_swapped;
	const met_tagset *ts;

	(void)state;
	/* The empty set is 0, however it is written. */
	assert_int_equal(met_tagset_intern(r, NULL, 0), 0);
	assert_int_equal(met_tagset_intern(r, only_empty, 1), 0);
	assert_int_equal(met_tagset_get(r, 0)->n, 0);
	id_ab = met_tagset_intern(r, ab, 2);
	assert_int_equal(id_ab, 1);
	/* Order does not matter; empty values are dropped, as k6 does. */
	assert_int_equal(met_tagset_intern(r, ba, 2), id_ab);
	assert_int_equal(met_tagset_intern(r, with_empty, 4), id_ab);
	id_other = met_tagset_intern(r, other, 2);
	id_swapped = met_tagset_intern(r, swapped, 2);
	assert_int_equal(id_other, 2);
	assert_int_equal(id_swapped, 3);
	/* Stored sorted by key, with get and value agreeing. */
	ts = met_tagset_get(r, id_ab);
	assert_int_equal(ts->id, id_ab);
	assert_int_equal(ts->n, 2);
	assert_string_equal(ts->tags[0].key, "method");
	assert_string_equal(ts->tags[1].key, "status");
	assert_string_equal(met_tagset_value(ts, "status"), "200");
	assert_string_equal(met_tagset_value(ts, "method"), "GET");
	assert_null(met_tagset_value(ts, "error"));
	assert_null(met_tagset_value(met_tagset_get(r, 0), "method"));
	assert_string_equal(met_tagset_value(met_tagset_get(r, id_swapped), "method"), "200");
	met_registry_destroy(r);
}

static void test_tagset_owns_its_strings(void **state)
{
	met_registry *r = met_registry_create();
	char key[16], value[16];
	met_tag t = {key, value};
	uint32_t id;
	const met_tagset *ts;

	(void)state;
	snprintf(key, sizeof(key), "name");
	snprintf(value, sizeof(value), "login");
	id = met_tagset_intern(r, &t, 1);
	/* The caller's buffers are reused for the next request: the registry
	 * must have copied them. */
	snprintf(key, sizeof(key), "XXXX");
	snprintf(value, sizeof(value), "YYYYY");
	ts = met_tagset_get(r, id);
	assert_string_equal(ts->tags[0].key, "name");
	assert_string_equal(ts->tags[0].value, "login");
	snprintf(key, sizeof(key), "name");
	snprintf(value, sizeof(value), "login");
	assert_int_equal(met_tagset_intern(r, &t, 1), id);
	met_registry_destroy(r);
}

static void test_tagset_limits(void **state)
{
	met_registry *r = met_registry_create();
	met_tag many[MET_MAX_TAGS + 6];
	char keys[MET_MAX_TAGS + 6][8];
	const met_tagset *ts;
	uint32_t i, id;

	(void)state;
	for (i = 0; i < N_ELEMS(many); i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%02u", i);
		many[i].key = keys[i];
		many[i].value = "v";
	}
	/* Beyond MET_MAX_TAGS the rest are not kept (and nothing overflows). */
	id = met_tagset_intern(r, many, N_ELEMS(many));
	ts = met_tagset_get(r, id);
	assert_int_equal(ts->n, MET_MAX_TAGS);
	assert_string_equal(ts->tags[MET_MAX_TAGS - 1].key, keys[MET_MAX_TAGS - 1]);
	assert_null(met_tagset_value(ts, keys[MET_MAX_TAGS]));
	met_registry_destroy(r);
}

static void test_series_dense_and_stable(void **state)
{
	enum { TAGSETS = 50 };
	met_registry *r = met_registry_create();
	static const uint32_t metrics[] = {MET_HTTP_REQS, MET_HTTP_REQ_DURATION, MET_CHECKS, MET_VUS};
	uint32_t ids[N_ELEMS(metrics)][TAGSETS], next = 0, i, m;

	(void)state;
	for (i = 0; i < TAGSETS; i++) {
		char v[16];
		met_tag t = {"name", v};
		uint32_t ts;

		snprintf(v, sizeof(v), "req%u", i);
		ts = met_tagset_intern(r, &t, i ? 1 : 0);
		for (m = 0; m < N_ELEMS(metrics); m++) {
			ids[m][i] = met_series_intern(r, metrics[m], ts);
			/* Dense: each new (metric, tag set) takes the next id. */
			assert_int_equal(ids[m][i], next);
			next++;
			assert_int_equal(met_series_count(r), next);
			assert_int_equal(met_series_metric(r, ids[m][i]), metrics[m]);
			assert_int_equal(met_series_tagset(r, ids[m][i]), ts);
		}
	}
	/* Stable: asking again, in another order, gives the same ids and adds
	 * none. */
	for (i = TAGSETS; i-- > 0;) {
		char v[16];
		met_tag t = {"name", v};

		snprintf(v, sizeof(v), "req%u", i);
		for (m = N_ELEMS(metrics); m-- > 0;)
			assert_int_equal(met_series_intern(r, metrics[m], met_tagset_intern(r, &t, i ? 1 : 0)),
					 ids[m][i]);
	}
	assert_int_equal(met_series_count(r), next);
	assert_int_equal(met_series_overflowed(r), 0);
	met_registry_destroy(r);
}

/* Four threads intern the same tag sets and series in different orders:
 * every thread sees the same ids, and no id is handed out twice. */
enum { RACE_SETS = 2000, RACE_THREADS = 4 };

typedef struct race {
	met_registry *r;
	uint32_t start;
	uint32_t ts[RACE_SETS], series[RACE_SETS];
} race;

static void *race_run(void *arg)
{
	race *x = arg;
	uint32_t k;

	for (k = 0; k < RACE_SETS; k++) {
		uint32_t i = (x->start + k * 7) % RACE_SETS;
		char v[16];
		met_tag t[2] = {{"i", v}, {"parity", i % 2 ? "odd" : "even"}};

		snprintf(v, sizeof(v), "%u", i);
		x->ts[i] = met_tagset_intern(x->r, t, 2);
		x->series[i] = met_series_intern(x->r, MET_HTTP_REQ_DURATION, x->ts[i]);
	}
	return NULL;
}

static void test_concurrent_interning(void **state)
{
	static race races[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	met_registry *r = met_registry_create();
	unsigned char *seen;
	uint32_t i, k;

	(void)state;
	for (k = 0; k < RACE_THREADS; k++) {
		races[k].r = r;
		races[k].start = k * (RACE_SETS / RACE_THREADS);
		assert_int_equal(pthread_create(&th[k], NULL, race_run, &races[k]), 0);
	}
	for (k = 0; k < RACE_THREADS; k++)
		pthread_join(th[k], NULL);
	assert_int_equal(met_series_count(r), RACE_SETS);
	seen = calloc(RACE_SETS, 1);
	for (i = 0; i < RACE_SETS; i++) {
		for (k = 1; k < RACE_THREADS; k++) {
			assert_int_equal(races[k].ts[i], races[0].ts[i]);
			assert_int_equal(races[k].series[i], races[0].series[i]);
		}
		assert_true(races[0].series[i] < RACE_SETS);
		assert_false(seen[races[0].series[i]]);
		seen[races[0].series[i]] = 1;
		assert_int_equal(met_series_tagset(r, races[0].series[i]), races[0].ts[i]);
	}
	free(seen);
	met_registry_destroy(r);
}

/* Past the cap, a new tag combination gets the metric's untagged series
 * instead of its own, and is counted; series interned before keep their
 * ids, and every metric can still get its untagged series. */
static void test_series_cap_folds(void **state)
{
	enum { N = MET_MAX_SERIES + 2000 };
	met_registry *r = met_registry_create();
	uint32_t *ids = malloc(N * sizeof(*ids));
	uint32_t i, untagged = UINT32_MAX, folded = 0, own = 0, m;
	char v[16];
	met_tag t = {"id", v};

	(void)state;
	assert_non_null(ids);
	for (i = 0; i < N; i++) {
		snprintf(v, sizeof(v), "%u", i);
		ids[i] = met_series_intern(r, MET_HTTP_REQS, met_tagset_intern(r, &t, 1));
		assert_true(ids[i] < MET_MAX_SERIES);
		if (met_series_tagset(r, ids[i]) == 0) {
			/* Folded: the same untagged series every time. */
			if (untagged == UINT32_MAX)
				untagged = ids[i];
			assert_int_equal(ids[i], untagged);
			assert_int_equal(met_series_metric(r, ids[i]), MET_HTTP_REQS);
			folded++;
		} else {
			/* Not folded: its own series, with its own tags. */
			assert_int_equal(folded, 0); /* folding only starts at the cap */
			assert_string_equal(met_tagset_value(met_tagset_get(r, met_series_tagset(r, ids[i])), "id"), v);
			own++;
		}
	}
	assert_true(folded > 0);
	assert_true(own > MET_MAX_SERIES / 2);
	assert_int_equal(own + folded, N);
	assert_true(met_series_count(r) <= MET_MAX_SERIES);
	assert_int_equal(met_series_overflowed(r), folded);
	/* Asking again for a combination that has its own series still gets it. */
	snprintf(v, sizeof(v), "%u", 0);
	assert_int_equal(met_series_intern(r, MET_HTTP_REQS, met_tagset_intern(r, &t, 1)), ids[0]);
	snprintf(v, sizeof(v), "%u", own - 1);
	assert_int_equal(met_series_intern(r, MET_HTTP_REQS, met_tagset_intern(r, &t, 1)), ids[own - 1]);
	/* The untagged series of every other metric is still available, each
	 * its own. */
	for (m = 0; m < met_metric_count(r); m++) {
		uint32_t s = met_series_intern(r, m, 0);

		assert_true(s < MET_MAX_SERIES);
		assert_int_equal(met_series_metric(r, s), m);
		assert_int_equal(met_series_tagset(r, s), 0);
	}
	assert_true(met_series_count(r) <= MET_MAX_SERIES);
	free(ids);
	met_registry_destroy(r);
}

/* The run's tags join every tag set; a set's own tag of the same key wins;
 * set 0 is the run's tags alone. */
static void test_run_tags(void **state)
{
	met_registry *r = met_registry_create();
	met_tag run[] = {{"testid", "t1"}, {"env", "ci"}, {"empty", ""}, {"env", "dup"}};
	met_tag own[] = {{"env", "mine"}, {"status", "200"}};
	const met_tagset *ts;
	uint32_t id, id2;

	(void)state;
	met_registry_set_run_tags(r, run, 4);
	ts = met_tagset_get(r, 0);
	assert_int_equal(ts->n, 2);
	assert_string_equal(met_tagset_value(ts, "testid"), "t1");
	assert_string_equal(met_tagset_value(ts, "env"), "ci");
	assert_int_equal(met_tagset_intern(r, NULL, 0), 0);
	id = met_tagset_intern(r, own, 2);
	assert_true(id != 0);
	ts = met_tagset_get(r, id);
	assert_int_equal(ts->n, 3);
	assert_string_equal(met_tagset_value(ts, "env"), "mine");
	assert_string_equal(met_tagset_value(ts, "testid"), "t1");
	assert_string_equal(met_tagset_value(ts, "status"), "200");
	id2 = met_tagset_intern(r, own + 1, 1);
	assert_true(id2 != id);
	assert_string_equal(met_tagset_value(met_tagset_get(r, id2), "env"), "ci");
	/* Same tags written out with the run's: the same set. */
	{
		met_tag full[] = {{"status", "200"}, {"testid", "t1"}, {"env", "ci"}};

		assert_int_equal(met_tagset_intern(r, full, 3), id2);
	}
	met_registry_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtins),
		cmocka_unit_test(test_custom_metrics),
		cmocka_unit_test(test_tagset_interning),
		cmocka_unit_test(test_tagset_owns_its_strings),
		cmocka_unit_test(test_tagset_limits),
		cmocka_unit_test(test_series_dense_and_stable),
		cmocka_unit_test(test_concurrent_interning),
		cmocka_unit_test(test_series_cap_folds),
		cmocka_unit_test(test_run_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
