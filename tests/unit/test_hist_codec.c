/* The histogram's text form: lossless round trips, and a decoder that
 * refuses malformed or inconsistent text without crashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/hist.h"
#include "metrics/hist_codec.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void assert_same(const met_hist *a, const met_hist *b)
{
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->sum, b->sum);
	assert_int_equal(a->min, b->min);
	assert_int_equal(a->max, b->max);
	if (a->count) {
		assert_int_equal(a->lo, b->lo);
		assert_int_equal(a->hi, b->hi);
	}
	assert_memory_equal(a->counts, b->counts, sizeof(a->counts));
	assert_true(met_hist_percentile(a, 95) == met_hist_percentile(b, 95));
	assert_true(met_hist_percentile(a, 99.9) == met_hist_percentile(b, 99.9));
}

static void round_trip(const met_hist *h)
{
	met_hist *back = met_hist_create();
	char *text = met_hist_encode(h), err[128] = "";

	assert_int_equal(met_hist_decode(back, text, strlen(text), err, sizeof(err)), 0);
	assert_same(h, back);
	free(text);
	met_hist_destroy(back);
}

static void test_round_trips(void **state)
{
	met_hist *h = met_hist_create();
	int k, i;

	(void)state;
	round_trip(h); /* empty */
	met_hist_record(h, 0);
	round_trip(h);
	met_hist_record(h, HIST_MAX_VALUE + 12345); /* above the layout: exact max */
	round_trip(h);
	for (k = 0; k < 20; k++) {
		met_hist_reset(h);
		for (i = 0; i < 1 + (int)(next_rand() % 50000); i++)
			met_hist_record(h, (next_rand() % 4 == 0) ? next_rand() % 200 : next_rand() >> (20 + k));
		round_trip(h);
	}
	met_hist_destroy(h);
}

/* Sparse: a histogram of a typical run encodes in far less than its
 * 19 KiB of buckets. */
static void test_compact(void **state)
{
	met_hist *h = met_hist_create();
	char *text;
	int i;

	(void)state;
	for (i = 0; i < 100000; i++)
		met_hist_record(h, 1000000 + next_rand() % 4000000); /* 1-5 ms */
	text = met_hist_encode(h);
	assert_true(strlen(text) < 1200);
	free(text);
	met_hist_destroy(h);
}

static void refused(const char *text, const char *why)
{
	met_hist *h = met_hist_create();
	char err[128] = "";

	assert_int_equal(met_hist_decode(h, text, strlen(text), err, sizeof(err)), -1);
	assert_non_null(strstr(err, why));
	assert_int_equal(h->count, 0);
	met_hist_destroy(h);
}

static void test_refuses_malformed(void **state)
{
	met_hist *h = met_hist_create();
	char *good, *bad;
	size_t n;

	(void)state;
	refused("", "not base64");
	refused("abc", "not base64");
	refused("ab=c", "not base64");
	refused("a$cd", "not base64");
	refused("AgcrAAAAAAA=", "unknown format"); /* format 2 */
	refused("AQgrAAAAAAA=", "bucket layout");  /* 8 sub-bucket bits */
	refused("AQcr", "truncated header");
	met_hist_record(h, 1000);
	met_hist_record(h, 2000);
	good = met_hist_encode(h);
	/* Cutting the text short (re-padded) leaves it truncated. */
	n = strlen(good);
	bad = strdup(good);
	bad[n - 4] = '\0';
	refused(bad, "histogram");
	free(bad);
	free(good);
	met_hist_destroy(h);
}

/* Hand-built bytes: counts that do not add up, min outside the first
 * bucket, a sum no set of samples could have. */
static void test_refuses_inconsistent(void **state)
{
	(void)state;
	/* format 1/7/43, count 2, min 5, max 5, sum 10, 1 bucket: idx 5, count 1 */
	refused("AQcrAgUFCgEFAQ==", "add up");
	/* count 1, min 5, max 5, sum 5, 1 bucket at idx 6 */
	refused("AQcrAQUFBQEGAQ==", "first or last bucket");
	/* count 1, min 5, max 5, sum 7 */
	refused("AQcrAQUFBwEFAQ==", "sum outside");
	/* empty with a min */
	refused("AQcrAAUAAAA=", "empty but");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_refuses_malformed),
		cmocka_unit_test(test_refuses_inconsistent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
