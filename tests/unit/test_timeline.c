/* The timeline (report/timeline): per module x strategy slots whose counts,
 * failures by code and latency histograms equal those of every sample in
 * the slot, also after the interval has doubled (coarsening merges
 * exactly), and a length that stays bounded for a 12-hour run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "metrics/hist_codec.h"
#include "metrics/registry.h"
#include "metrics/shard.h"
#include "report/timeline.h"

static uint64_t rng = 0x853C49E6748FEA9BULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

enum { GROUPS = 2, TICKS = 3000, WIDTH = 4 /* 3000 ticks pass 1024 and 2048 slots */, SLOTS = TICKS / WIDTH };

typedef struct expect {
	uint64_t requests, failures, code1212, iterations;
	met_hist *hist;
} expect;

static void feed(timeline *tl, met_registry *reg, met_shard *iv, uint64_t tick)
{
	met_snapshot snap = {.reg = reg, .elapsed_ns = (tick + 1) * NS_PER_SEC, .interval_ns = NS_PER_SEC, .interval = iv, .total = iv};
	met_output o = timeline_output(tl);

	o.snapshot(o.self, &snap);
	met_shard_clear(iv);
}

static void test_exact_after_coarsening(void **state)
{
	static const char *const mods[GROUPS] = {"jobs", "profile"};
	met_registry *reg = met_registry_create();
	timeline *tl = timeline_create();
	met_shard iv;
	expect *ex = calloc(GROUPS * SLOTS, sizeof(*ex));
	uint32_t ok[GROUPS], bad[GROUPS], failed[GROUPS], dur[GROUPS], iters[GROUPS];
	json_t *j, *series;
	uint64_t t;
	size_t k;
	int g;

	(void)state;
	met_shard_init(&iv);
	for (g = 0; g < GROUPS; g++) {
		met_tag tags[4] = {{"module", mods[g]}, {"strategy", "parallel"}, {"error_code", "1212"},
				   {"expected_response", "false"}};
		uint32_t plain = met_tagset_intern(reg, tags, 2), fail = met_tagset_intern(reg, tags, 4);

		ok[g] = met_series_intern(reg, MET_HTTP_REQS, plain);
		bad[g] = met_series_intern(reg, MET_HTTP_REQS, fail);
		failed[g] = met_series_intern(reg, MET_HTTP_REQ_FAILED, plain);
		dur[g] = met_series_intern(reg, MET_HTTP_REQ_DURATION, plain);
		iters[g] = met_series_intern(reg, MET_ITERATIONS, plain);
	}
	for (k = 0; k < GROUPS * SLOTS; k++)
		ex[k].hist = met_hist_create();
	for (t = 0; t < TICKS; t++) {
		for (g = 0; g < GROUPS; g++) {
			expect *e = &ex[g * SLOTS + t / WIDTH];
			uint64_t n = next_rand() % 40, i;

			/* profile is idle every third second: slots may be sparse */
			if (g == 1 && t % 3 == 0)
				continue;
			for (i = 0; i < n; i++) {
				uint64_t ns = 100000 + next_rand() % (g ? 50000000 : 2000000);
				int fails = next_rand() % 10 == 0;

				met_shard_add(&iv, reg, fails ? bad[g] : ok[g], 1);
				met_shard_rate(&iv, reg, failed[g], fails);
				met_shard_trend(&iv, reg, dur[g], ns);
				met_hist_record(e->hist, ns);
				e->requests++;
				e->failures += (uint64_t)fails;
				e->code1212 += (uint64_t)fails;
			}
			met_shard_add(&iv, reg, iters[g], 1);
			e->iterations++;
		}
		feed(tl, reg, &iv, t);
	}
	j = timeline_json(tl, 1);
	assert_int_equal(json_integer_value(json_object_get(j, "interval_ms")), WIDTH * 1000);
	series = json_object_get(j, "series");
	assert_int_equal(json_array_size(series), GROUPS);
	for (k = 0; k < json_array_size(series); k++) {
		json_t *s = json_array_get(series, k);
		const char *mod = json_string_value(json_object_get(s, "module"));
		json_t *tm = json_object_get(s, "t_ms");
		size_t i;

		g = !strcmp(mod, "profile");
		assert_string_equal(json_string_value(json_object_get(s, "strategy")), "parallel");
		assert_int_equal(json_array_size(tm), SLOTS);
		for (i = 0; i < SLOTS; i++) {
			expect *e = &ex[g * SLOTS + i];
			const char *text = json_string_value(json_array_get(json_object_get(s, "hist"), i));
			met_hist *back = met_hist_create();
			char err[128];

			assert_int_equal(json_integer_value(json_array_get(tm, i)), (json_int_t)(i * WIDTH * 1000));
			assert_int_equal(json_integer_value(json_array_get(json_object_get(s, "requests"), i)), e->requests);
			assert_int_equal(json_integer_value(json_array_get(json_object_get(s, "failures"), i)), e->failures);
			assert_int_equal(json_integer_value(json_array_get(json_object_get(s, "iterations"), i)),
					 e->iterations);
			assert_int_equal(
				json_integer_value(json_array_get(json_object_get(json_object_get(s, "errors"), "1212"), i)),
				e->code1212);
			assert_true(json_real_value(json_array_get(json_object_get(s, "p95"), i)) ==
				    met_hist_percentile(e->hist, 95) / 1e6);
			assert_true(json_real_value(json_array_get(json_object_get(s, "max"), i)) ==
				    (double)e->hist->max / 1e6);
			assert_int_equal(met_hist_decode(back, text, strlen(text), err, sizeof(err)), 0);
			assert_int_equal(back->count, e->hist->count);
			assert_int_equal(back->sum, e->hist->sum);
			assert_memory_equal(back->counts, e->hist->counts, sizeof(back->counts));
			met_hist_destroy(back);
		}
	}
	json_decref(j);
	for (k = 0; k < GROUPS * SLOTS; k++)
		met_hist_destroy(ex[k].hist);
	free(ex);
	met_shard_free(&iv);
	timeline_destroy(tl);
	met_registry_destroy(reg);
}

/* 12 hours of one-second ticks: 675 slots of 64 s, never more than the cap. */
static void test_bounded_for_hours(void **state)
{
	met_registry *reg = met_registry_create();
	timeline *tl = timeline_create();
	met_tag tags[2] = {{"module", "m"}, {"strategy", "sequential"}};
	uint32_t ts = met_tagset_intern(reg, tags, 2);
	uint32_t reqs = met_series_intern(reg, MET_HTTP_REQS, ts), d = met_series_intern(reg, MET_HTTP_REQ_DURATION, ts);
	met_shard iv;
	json_t *j, *s;
	uint64_t t, total = 0;
	size_t i;

	(void)state;
	met_shard_init(&iv);
	for (t = 0; t < 12 * 3600; t++) {
		met_shard_add(&iv, reg, reqs, 3);
		met_shard_trend(&iv, reg, d, 1000000 + t);
		feed(tl, reg, &iv, t);
	}
	j = timeline_json(tl, 1);
	assert_int_equal(json_integer_value(json_object_get(j, "interval_ms")), 64000);
	s = json_array_get(json_object_get(j, "series"), 0);
	assert_int_equal(json_array_size(json_object_get(s, "t_ms")), 675);
	for (i = 0; i < 675; i++)
		total += (uint64_t)json_integer_value(json_array_get(json_object_get(s, "requests"), i));
	assert_int_equal(total, 3 * 12 * 3600);
	json_decref(j);
	met_shard_free(&iv);
	timeline_destroy(tl);
	met_registry_destroy(reg);
}

/* The summary of a 12-hour run stays well under 20 MB: 13 series (four
 * modules under three strategies, and the run-wide one) all busy the whole
 * time, each slot's histogram spread over two decades of latency. */
static void test_twelve_hours_of_every_series_is_small(void **state)
{
	static const char *const mods[] = {"jobs", "ecommerce", "notifications", "profile"};
	static const char *const strats[] = {"sequential", "hybrid", "parallel"};
	met_registry *reg = met_registry_create();
	timeline *tl = timeline_create();
	uint32_t reqs[13], dur[13];
	met_shard iv;
	json_t *j;
	char *text;
	uint64_t t;
	int g, k;

	(void)state;
	met_shard_init(&iv);
	for (g = 0; g < 13; g++) {
		met_tag tags[2] = {{"module", g < 12 ? mods[g % 4] : ""}, {"strategy", g < 12 ? strats[g / 4] : ""}};
		uint32_t ts = met_tagset_intern(reg, tags, g < 12 ? 2 : 0);

		reqs[g] = met_series_intern(reg, MET_HTTP_REQS, ts);
		dur[g] = met_series_intern(reg, MET_HTTP_REQ_DURATION, ts);
	}
	for (t = 0; t < 12 * 3600; t++) {
		for (g = 0; g < 13; g++) {
			met_shard_add(&iv, reg, reqs[g], 50);
			for (k = 0; k < 50; k++)
				met_shard_trend(&iv, reg, dur[g], 1000000 + next_rand() % 100000000);
		}
		feed(tl, reg, &iv, t);
	}
	j = timeline_json(tl, 1);
	text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	assert_int_equal(json_array_size(json_object_get(j, "series")), 13);
	print_message("12 h, 13 series: %zu bytes\n", strlen(text));
	assert_true(strlen(text) < 20u * 1024 * 1024);
	free(text);
	json_decref(j);
	met_shard_free(&iv);
	timeline_destroy(tl);
	met_registry_destroy(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_after_coarsening),
		cmocka_unit_test(test_bounded_for_hours),
		cmocka_unit_test(test_twelve_hours_of_every_series_is_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
