/* Metrics pipeline and summary JSON: samples recorded into two shards,
 * merged like the collector does, exported, and read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "metrics/query.h"
#include "metrics/registry.h"
#include "metrics/shard.h"
#include "report/summary.h"

static json_t *metric(json_t *root, const char *name)
{
	json_t *m = json_object_get(json_object_get(root, "metrics"), name);

	if (!m)
		fail_msg("metric %s missing", name);
	return m;
}

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		fail_msg("key %s missing", key);
	return json_number_value(v);
}

static void test_summary_json(void **state)
{
	met_registry *r = met_registry_create();
	met_shard w1, w2, total;
	met_tag ok_tags[] = {{"status", "200"}, {"expected_response", "true"}, {"name", "a"}};
	met_tag bad_tags[] = {{"status", "0"}, {"expected_response", "false"}, {"error_code", "1212"}, {"name", "a"}};
	met_tag nf_tags[] = {{"status", "404"}, {"expected_response", "false"}, {"error_code", "1404"}, {"name", "a"}};
	uint32_t ok = met_tagset_intern(r, ok_tags, 3), bad = met_tagset_intern(r, bad_tags, 4);
	uint32_t nf = met_tagset_intern(r, nf_tags, 4);
	uint32_t s_reqs_ok = met_series_intern(r, MET_HTTP_REQS, ok), s_reqs_bad = met_series_intern(r, MET_HTTP_REQS, bad);
	uint32_t s_reqs_nf = met_series_intern(r, MET_HTTP_REQS, nf);
	uint32_t s_dur_ok = met_series_intern(r, MET_HTTP_REQ_DURATION, ok);
	uint32_t s_dur_bad = met_series_intern(r, MET_HTTP_REQ_DURATION, bad);
	uint32_t s_fail_ok = met_series_intern(r, MET_HTTP_REQ_FAILED, ok), s_fail_bad = met_series_intern(r, MET_HTTP_REQ_FAILED, bad);
	uint32_t s_rx = met_series_intern(r, MET_DATA_RECEIVED, 0), s_vus = met_series_intern(r, MET_VUS, 0);
	run_result info = {0};
	json_error_t jerr;
	json_t *root, *d, *errs;
	char *text;
	int i;

	(void)state;
	met_shard_init(&w1);
	met_shard_init(&w2);
	met_shard_init(&total);
	/* 900 ok requests of 1..900 ms split over two workers, 100 refused, 50 not found. */
	for (i = 1; i <= 900; i++) {
		met_shard *s = i % 2 ? &w1 : &w2;

		met_shard_add(s, r, s_reqs_ok, 1);
		met_shard_trend(s, r, s_dur_ok, (uint64_t)i * NS_PER_MS);
		met_shard_rate(s, r, s_fail_ok, 0);
		met_shard_add(s, r, s_rx, 100);
	}
	for (i = 0; i < 100; i++) {
		met_shard_add(&w2, r, s_reqs_bad, 1);
		met_shard_trend(&w2, r, s_dur_bad, 0);
		met_shard_rate(&w2, r, s_fail_bad, 1);
	}
	for (i = 0; i < 50; i++)
		met_shard_add(&w1, r, s_reqs_nf, 1);
	met_shard_gauge(&w1, r, s_vus, 10);
	met_shard_gauge(&w2, r, s_vus, 4);
	met_shard_merge(&total, r, &w1);
	met_shard_merge(&total, r, &w2);
	info.description = "unit";
	info.elapsed_ns = 10 * NS_PER_SEC;
	info.start_wall_ns = UINT64_C(1700000000) * NS_PER_SEC;
	info.end_wall_ns = info.start_wall_ns + info.elapsed_ns;
	info.vus = 10;
	info.reg = r;
	info.total = &total;
	text = summary_json(&info);
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);

	d = metric(root, "http_reqs");
	assert_true(num(d, "count") == 1050);
	assert_true(fabs(num(d, "rate") - 105) < 1e-9);
	d = metric(root, "http_req_failed");
	assert_int_equal((int)num(d, "passes"), 100);
	assert_int_equal((int)num(d, "fails"), 900);
	assert_true(fabs(num(d, "rate") - 0.1) < 1e-9);
	d = metric(root, "http_req_duration");
	/* 900 values 1..900 ms and 100 zeros: p(95) is rank 949.05 -> 850.05 ms. */
	assert_int_equal((int)num(d, "count"), 1000);
	assert_true(fabs(num(d, "p(95)") - 850.05) / 850.05 < 0.01);
	assert_true(fabs(num(d, "max") - 900) < 1e-9);
	assert_true(num(d, "min") == 0);
	assert_true(fabs(num(d, "avg") - 405.45) < 1e-6);
	assert_true(fabs(num(d, "med") - 400.5) / 400.5 < 0.01);
	d = metric(root, "data_received");
	assert_true(num(d, "count") == 90000);
	d = metric(root, "vus");
	assert_true(num(d, "max") == 10 && num(d, "min") == 4);
	errs = json_object_get(root, "errors");
	assert_int_equal((int)num(json_object_get(errs, "1212"), "count"), 100);
	assert_int_equal((int)num(json_object_get(errs, "1404"), "count"), 50);
	assert_string_equal(json_string_value(json_object_get(root, "start")), "2023-11-14T22:13:20.000Z");
	assert_null(json_object_get(json_object_get(root, "metrics"), "iterations"));

	/* A filtered query sees only matching series. */
	{
		met_tag f = {"expected_response", "true"};
		met_agg a;

		met_agg_init(&a);
		assert_int_equal(met_query(&total, r, MET_HTTP_REQ_DURATION, &f, 1, &a), 1);
		assert_int_equal(a.hist->count, 900);
		met_agg_free(&a);
	}
	json_decref(root);
	free(text);
	met_shard_free(&w1);
	met_shard_free(&w2);
	met_shard_free(&total);
	met_registry_destroy(r);
}

static void test_tagsets_interned(void **state)
{
	met_registry *r = met_registry_create();
	met_tag a[] = {{"b", "2"}, {"a", "1"}, {"empty", ""}};
	met_tag b[] = {{"a", "1"}, {"b", "2"}};
	met_tag c[] = {{"a", "1"}, {"b", "3"}};
	uint32_t x = met_tagset_intern(r, a, 3), y = met_tagset_intern(r, b, 2), z = met_tagset_intern(r, c, 2);

	(void)state;
	assert_int_equal(x, y); /* order-insensitive, empty values dropped */
	assert_int_not_equal(x, z);
	assert_int_equal(met_tagset_get(r, x)->n, 2);
	assert_string_equal(met_tagset_value(met_tagset_get(r, z), "b"), "3");
	assert_int_equal(met_series_intern(r, MET_HTTP_REQS, x), met_series_intern(r, MET_HTTP_REQS, y));
	assert_int_not_equal(met_series_intern(r, MET_HTTP_REQS, x), met_series_intern(r, MET_HTTP_REQS, z));
	assert_int_equal(met_metric_find(r, "http_req_waiting"), MET_HTTP_REQ_WAITING);
	assert_int_equal(met_metric_add(r, "http_reqs", MET_TREND, MET_DEFAULT), -1);
	met_registry_destroy(r);
}

static void test_shard_clear_reuses(void **state)
{
	met_registry *r = met_registry_create();
	uint32_t s = met_series_intern(r, MET_HTTP_REQ_WAITING, 0);
	met_shard sh;
	met_hist *h;

	(void)state;
	met_shard_init(&sh);
	met_shard_trend(&sh, r, s, 5);
	h = sh.cells[s].hist;
	met_shard_clear(&sh);
	assert_int_equal(sh.ntouched, 0);
	assert_int_equal(sh.cells[s].n, 0);
	met_shard_trend(&sh, r, s, 7);
	assert_ptr_equal(sh.cells[s].hist, h); /* no new allocation after a clear */
	assert_int_equal(h->count, 1);
	assert_int_equal(h->min, 7);
	met_shard_free(&sh);
	met_registry_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_json),
		cmocka_unit_test(test_tagsets_interned),
		cmocka_unit_test(test_shard_clear_reuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
