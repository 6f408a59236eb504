/* strain-collect/2: a snapshot encoded by one registry decodes into
 * another (a collector's) with the same cells, and a decoder that refuses
 * what is not a push without merging any of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/registry.h"
#include "metrics/shard.h"
#include "metrics/wire.h"

static uint32_t series(met_registry *r, uint32_t metric, const char *name)
{
	met_tag t[2] = {{"name", name}, {"status", "200"}};

	return met_series_intern(r, metric, met_tagset_intern(r, t, 2));
}

static const met_cell *cell_of(met_registry *r, const met_shard *s, uint32_t metric, const char *name)
{
	met_tag t[2] = {{"name", name}, {"status", "200"}};
	uint32_t id = met_series_intern(r, metric, met_tagset_intern(r, t, 2));

	return id < s->cap ? &s->cells[id] : NULL;
}

static void test_round_trip(void **state)
{
	met_registry *a = met_registry_create(), *b = met_registry_create();
	met_shard s, d;
	met_wire_meta m = {.id = "gen-0/42", .instance = "gen-0", .seq = 7, .wall_ns = 1, .elapsed_ns = 8000000000,
			   .interval_ns = 1000000000, .start_wall_ns = 1764597600000000000,
			   .interval_start_ns = 1764597607000000000, .final = 1}, got;
	int custom = met_metric_add(a, "orders", MET_COUNTER, MET_DEFAULT);
	char err[256], *text;
	const met_cell *c;
	uint64_t v;

	(void)state;
	met_shard_init(&s);
	met_shard_init(&d);
	met_shard_add(&s, a, series(a, MET_HTTP_REQS, "x"), 1);
	met_shard_add(&s, a, series(a, MET_HTTP_REQS, "x"), 1);
	met_shard_add(&s, a, series(a, (uint32_t)custom, "x"), 2.5);
	met_shard_rate(&s, a, series(a, MET_HTTP_REQ_FAILED, "x"), 1);
	met_shard_rate(&s, a, series(a, MET_HTTP_REQ_FAILED, "x"), 0);
	met_shard_gauge(&s, a, series(a, MET_VUS, "x"), 5);
	met_shard_gauge(&s, a, series(a, MET_VUS, "x"), 3);
	for (v = 1; v < 100000; v += 7)
		met_shard_trend(&s, a, series(a, MET_HTTP_REQ_DURATION, "x"), v * 1000);
	text = met_wire_encode(&m, a, &s);
	assert_non_null(text);
	assert_int_equal(met_wire_decode(text, strlen(text), b, &d, &got, err, sizeof(err)), 0);
	assert_string_equal(got.id, "gen-0/42");
	assert_string_equal(got.instance, "gen-0");
	assert_int_equal(got.seq, 7);
	assert_int_equal(got.elapsed_ns, 8000000000);
	assert_int_equal(got.start_wall_ns, 1764597600000000000);
	assert_int_equal(got.interval_start_ns, 1764597607000000000);
	assert_true(got.final);
	assert_int_equal(d.ntouched, s.ntouched);
	c = cell_of(b, &d, MET_HTTP_REQS, "x");
	assert_int_equal(c->n, 2);
	assert_true(c->u.sum == 2);
	assert_true(met_metric_find(b, "orders") >= 0);
	c = cell_of(b, &d, (uint32_t)met_metric_find(b, "orders"), "x");
	assert_true(c->u.sum == 2.5);
	c = cell_of(b, &d, MET_HTTP_REQ_FAILED, "x");
	assert_int_equal(c->n, 2);
	assert_int_equal(c->u.rate.nonzero, 1);
	c = cell_of(b, &d, MET_VUS, "x");
	assert_true(c->u.gauge.value == 3 && c->u.gauge.min == 3 && c->u.gauge.max == 5);
	{
		const met_cell *o = &s.cells[series(a, MET_HTTP_REQ_DURATION, "x")];

		c = cell_of(b, &d, MET_HTTP_REQ_DURATION, "x");
		assert_int_equal(c->n, o->n);
		assert_int_equal(c->hist->count, o->hist->count);
		assert_int_equal(c->hist->sum, o->hist->sum);
		assert_memory_equal(c->hist->counts, o->hist->counts, sizeof(o->hist->counts));
	}
	free(text);
	met_shard_free(&s);
	met_shard_free(&d);
	met_registry_destroy(a);
	met_registry_destroy(b);
}

static void refused(const char *text, const char *want)
{
	met_registry *r = met_registry_create();
	met_shard d;
	met_wire_meta m;
	char err[256] = "";

	met_shard_init(&d);
	assert_int_equal(met_wire_decode(text, strlen(text), r, &d, &m, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("'%s': error '%s' lacks '%s'", text, err, want);
	assert_int_equal(d.ntouched, 0); /* nothing of it merged */
	met_shard_free(&d);
	met_registry_destroy(r);
}

#define HEAD "{\"version\":\"strain-collect/2\",\"id\":\"a/1\",\"seq\":0,\"wall_ns\":1,\"elapsed_ns\":1,\"interval_ns\":1,\"start_wall_ns\":5,\"interval_start_ns\":5,\"final\":false,"

static void test_refuses(void **state)
{
	(void)state;
	refused("not json", "not a JSON object");
	refused("{\"version\":\"strain-collect/3\"}", "expected strain-collect/2");
	/* The old version: refused with what to do, never merged on the wrong clock. */
	refused("{\"version\":\"strain-collect/1\"}", "run the same strain version");
	refused("{\"version\":\"strain-collect/2\"}", "expected id");
	refused("{\"version\":\"strain-collect/2\",\"id\":\"a/1\",\"seq\":0,\"wall_ns\":1,\"elapsed_ns\":3,"
		"\"interval_ns\":1,\"start_wall_ns\":5,\"interval_start_ns\":5,\"final\":false,\"series\":[]}",
		"interval_start_ns must be");
	refused(HEAD "\"series\":[{\"metric\":\"http_reqs\",\"type\":\"trend\",\"contains\":\"default\",\"tags\":{},\"n\":1}]}",
		"is a counter here");
	refused(HEAD "\"series\":[{\"metric\":\"http_reqs\",\"type\":\"counter\",\"contains\":\"default\",\"tags\":{},\"n\":1}]}",
		"needs its values");
	refused(HEAD "\"series\":[{\"metric\":\"http_reqs\",\"type\":\"counter\",\"contains\":\"default\",\"tags\":{},"
		     "\"n\":1,\"sum\":1},{\"metric\":\"http_req_duration\",\"type\":\"trend\",\"contains\":\"time\","
		     "\"tags\":{},\"n\":1,\"hist\":\"@@@\"}]}",
		"hist:");
	refused(HEAD "\"series\":[{\"metric\":\"http_req_failed\",\"type\":\"rate\",\"contains\":\"default\",\"tags\":{},"
		     "\"n\":1,\"nonzero\":2}]}",
		"needs its values");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
