/* Histogram: relative error bound across 1 µs .. 1 h, exact merge,
 * percentile edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/hist.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Log-uniform between lo and hi. */
static uint64_t log_uniform(double lo, double hi)
{
	double u = (double)(next_rand() >> 11) / 9007199254740992.0;

	return (uint64_t)exp(log(lo) + u * (log(hi) - log(lo)));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The interpolated percentile of sorted samples, as met_hist_percentile defines it. */
static double exact_percentile(const uint64_t *v, size_t n, double p)
{
	double rank = p / 100.0 * (double)(n - 1);
	size_t lo = (size_t)rank;
	double frac = rank - (double)lo;

	if (lo + 1 >= n)
		return (double)v[n - 1];
	return (double)v[lo] + ((double)v[lo + 1] - (double)v[lo]) * frac;
}

static void test_every_bucket_bounds_its_values(void **state)
{
	uint64_t v;
	uint32_t prev = 0;

	(void)state;
	/* Walk values geometrically across the whole range: each lands in a
	 * bucket whose bounds contain it and whose width is <= 1/64 of it. */
	for (v = 1; v < HIST_MAX_VALUE; v += v / 97 + 1) {
		uint32_t i = met_hist_index(v);
		uint64_t low = met_hist_bucket_low(i), w = met_hist_bucket_width(i);

		assert_true(i < HIST_BUCKETS);
		assert_true(i >= prev);
		assert_true(low <= v && v < low + w);
		if (v >= 128)
			assert_true((double)(w - 1) / 2.0 <= (double)v / 128.0);
		prev = i;
	}
	assert_int_equal(met_hist_index(HIST_MAX_VALUE), HIST_BUCKETS - 1);
	assert_int_equal(met_hist_index(UINT64_MAX), HIST_BUCKETS - 1);
}

static void test_relative_error_bound(void **state)
{
	enum { N = 200000 };
	static const double ps[] = {0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99};
	uint64_t *v = malloc(N * sizeof(*v));
	met_hist *h = met_hist_create();
	size_t i, k;

	(void)state;
	for (i = 0; i < N; i++) {
		v[i] = log_uniform(1e3, 3.6e12); /* 1 µs .. 1 h */
		met_hist_record(h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	for (k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		double want = exact_percentile(v, N, ps[k]), got = met_hist_percentile(h, ps[k]);

		assert_true(fabs(got - want) / want <= 0.01);
	}
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->max, v[N - 1]);
	assert_int_equal(h->count, N);
	free(v);
	met_hist_destroy(h);
}

static void test_merge_is_exact(void **state)
{
	met_hist *all = met_hist_create(), *parts[3], *merged = met_hist_create();
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		parts[i] = met_hist_create();
	for (i = 0; i < 100000; i++) {
		uint64_t x = log_uniform(50, 1e11);

		met_hist_record(all, x);
		met_hist_record(parts[i % 3], x);
	}
	for (i = 0; i < 3; i++)
		met_hist_merge(merged, parts[i]);
	assert_int_equal(merged->count, all->count);
	assert_int_equal(merged->sum, all->sum);
	assert_int_equal(merged->min, all->min);
	assert_int_equal(merged->max, all->max);
	assert_memory_equal(merged->counts, all->counts, sizeof(all->counts));
	assert_true(met_hist_percentile(merged, 99) == met_hist_percentile(all, 99));
	/* Merging an empty histogram changes nothing. */
	met_hist_reset(parts[0]);
	met_hist_merge(merged, parts[0]);
	assert_int_equal(merged->count, all->count);
	for (i = 0; i < 3; i++)
		met_hist_destroy(parts[i]);
	met_hist_destroy(all);
	met_hist_destroy(merged);
}

static void test_percentile_edges(void **state)
{
	met_hist *h = met_hist_create();

	(void)state;
	assert_true(met_hist_percentile(h, 50) == 0);
	assert_true(met_hist_mean(h) == 0);
	met_hist_record(h, 123456789);
	/* One sample: every percentile is that sample, exactly. */
	assert_true(met_hist_percentile(h, 0) == 123456789.0);
	assert_true(met_hist_percentile(h, 50) == 123456789.0);
	assert_true(met_hist_percentile(h, 100) == 123456789.0);
	met_hist_record(h, 100);
	/* Two samples: the median interpolates halfway; extremes are exact. */
	assert_true(met_hist_percentile(h, 0) == 100.0);
	assert_true(met_hist_percentile(h, 100) == 123456789.0);
	assert_true(fabs(met_hist_percentile(h, 50) - (100 + 123456789) / 2.0) / 61728444.5 < 0.01);
	met_hist_reset(h);
	assert_int_equal(h->count, 0);
	met_hist_record(h, 0);
	assert_true(met_hist_percentile(h, 99) == 0);
	/* Values past the top are clamped into the last bucket but max stays exact. */
	met_hist_record(h, UINT64_C(1) << 50);
	assert_int_equal(h->max, UINT64_C(1) << 50);
	assert_int_equal(h->counts[HIST_BUCKETS - 1], 1);
	met_hist_destroy(h);
}

static void test_small_values_exact(void **state)
{
	met_hist *h = met_hist_create();
	uint64_t v;

	(void)state;
	for (v = 0; v < 128; v++)
		met_hist_record(h, v);
	assert_true(met_hist_percentile(h, 50) == 63.5);
	assert_int_equal(h->sum, 127 * 128 / 2);
	met_hist_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_bucket_bounds_its_values),
		cmocka_unit_test(test_relative_error_bound),
		cmocka_unit_test(test_merge_is_exact),
		cmocka_unit_test(test_percentile_edges),
		cmocka_unit_test(test_small_values_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
