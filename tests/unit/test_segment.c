/* Execution segments: for many random sequences and counts, the segments'
 * shares add up to the whole and their striped indices are 0..n-1 exactly
 * once; plus k6's own examples and the parser's refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "program/segment.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Builds every segment of the sequence text `seq` with n parts. */
static void build_all(const char *seq, const char *const *segs, uint32_t n, seg_tuple *out)
{
	char err[256];
	uint32_t i;

	for (i = 0; i < n; i++) {
		int rc = seg_tuple_build(&out[i], segs[i], seq, err, sizeof(err));

		if (rc < 0)
			fail_msg("%s in %s: %s", segs[i], seq, err);
	}
}

/* The property: shares add up, indices are a partition of 0..total-1. */
static void check_partition(seg_tuple *t, uint32_t n, uint64_t total)
{
	unsigned char *seen = calloc(total + 1, 1);
	uint64_t sum = 0, j, k;
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint64_t share = seg_scale(&t[i], total);

		sum += share;
		for (j = 0; j < share; j++) {
			k = seg_index(&t[i], j);
			assert_true(k < total);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
			/* seg_scale counts exactly the owned indices below n. */
			assert_int_equal(seg_scale(&t[i], k), j);
			assert_int_equal(seg_scale(&t[i], k + 1), j + 1);
		}
		/* Monotone, and never more than one off length * n (rounded). */
		if (total)
			assert_true(seg_scale(&t[i], total - 1) <= share);
	}
	assert_int_equal(sum, total);
	for (k = 0; k < total; k++)
		assert_int_equal(seen[k], 1);
	free(seen);
}

static void test_random_sequences(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 300; round++) {
		uint32_t n = 1 + (uint32_t)(rnd() % 7), i, den = 1 + (uint32_t)(rnd() % 24), cuts[9], nc = 0;
		char seq[256], segs[8][64], a[32], b[32];
		const char *sp[8];
		seg_tuple t[8];
		size_t at = 0;
		uint64_t v;

		/* n distinct interior points k/den, sorted. */
		if (n > den)
			n = den;
		cuts[nc++] = 0;
		while (nc < n) {
			uint32_t c = 1 + (uint32_t)(rnd() % (den > 1 ? den - 1 : 1)), x, dup = 0;

			if (den == 1)
				break;
			for (x = 0; x < nc; x++)
				dup |= cuts[x] == c;
			if (!dup)
				cuts[nc++] = c;
		}
		n = nc;
		cuts[nc] = den;
		for (i = 1; i < nc; i++) {
			uint32_t x = cuts[i], j = i;

			while (j > 1 && cuts[j - 1] > x) {
				cuts[j] = cuts[j - 1];
				j--;
			}
			cuts[j] = x;
		}
		for (i = 0; i <= n; i++)
			at += (size_t)snprintf(seq + at, sizeof(seq) - at, "%s%u/%u", i ? "," : "", cuts[i], den);
		for (i = 0; i < n; i++) {
			snprintf(a, sizeof(a), "%u/%u", cuts[i], den);
			snprintf(b, sizeof(b), "%u/%u", cuts[i + 1], den);
			snprintf(segs[i], sizeof(segs[i]), "%s:%s", a, b);
			sp[i] = segs[i];
		}
		build_all(seq, sp, n, t);
		for (v = 0; v < 60; v++)
			check_partition(t, n, v);
		check_partition(t, n, 1000 + rnd() % 5000);
		for (i = 0; i < n; i++)
			seg_tuple_free(&t[i]);
	}
}

static void test_equal_shares(void **state)
{
	seg_tuple t[16];
	char err[256];
	uint32_t n, i;

	(void)state;
	for (n = 1; n <= 16; n++) {
		for (i = 0; i < n; i++)
			assert_int_equal(seg_tuple_equal(&t[i], i, n, err, sizeof(err)), 0);
		check_partition(t, n, 0);
		check_partition(t, n, 7);
		check_partition(t, n, 1001);
		/* Equal shares of n*m are m each. */
		for (i = 0; i < n; i++)
			assert_int_equal(seg_scale(&t[i], 5 * n), 5);
		for (i = 0; i < n; i++)
			seg_tuple_free(&t[i]);
	}
	assert_int_equal(seg_tuple_equal(&t[0], 4, 4, err, sizeof(err)), -1);
	assert_int_equal(seg_tuple_equal(&t[0], 0, 0, err, sizeof(err)), -1);
}

/* k6's documentation example: 0,1/4,1/2,1 and 10 VUs -> 3, 2, 5 (the
 * largest segment first in the striping). */
static void test_k6_example(void **state)
{
	const char *segs[] = {"0:1/4", "1/4:1/2", "1/2:1"};
	seg_tuple t[3];

	(void)state;
	build_all("0,1/4,1/2,1", segs, 3, t);
	assert_int_equal(seg_scale(&t[0], 10), 3);
	assert_int_equal(seg_scale(&t[1], 10), 2);
	assert_int_equal(seg_scale(&t[2], 10), 5);
	assert_int_equal(seg_scale(&t[2], 1), 1);
	assert_int_equal(seg_scale(&t[0], 1), 0);
	/* Periods of 4: the half owns 0 and 2, the quarters 1 and 3. */
	assert_int_equal(seg_index(&t[2], 0), 0);
	assert_int_equal(seg_index(&t[2], 1), 2);
	assert_int_equal(seg_index(&t[0], 0), 1);
	assert_int_equal(seg_index(&t[1], 0), 3);
	assert_int_equal(seg_index(&t[2], 2), 4);
	check_partition(t, 3, 999);
	seg_tuple_free(&t[0]);
	seg_tuple_free(&t[1]);
	seg_tuple_free(&t[2]);
}

static void test_parse(void **state)
{
	seg_tuple t;
	char err[256], a[64], b[128];

	(void)state;
	/* Without a sequence: the segment and the pieces around it. */
	assert_int_equal(seg_tuple_build(&t, "25%:0.5", NULL, err, sizeof(err)), 0);
	seg_format(&t, a, sizeof(a), b, sizeof(b));
	assert_string_equal(a, "1/4:1/2");
	assert_string_equal(b, "0,1/4,1/2,1");
	seg_tuple_free(&t);
	assert_int_equal(seg_tuple_build(&t, "1/2", NULL, err, sizeof(err)), 0);
	seg_format(&t, a, sizeof(a), b, sizeof(b));
	assert_string_equal(a, "0:1/2");
	seg_tuple_free(&t);
	assert_int_equal(seg_tuple_build(&t, "0:1", NULL, err, sizeof(err)), 0);
	assert_true(t.full);
	assert_int_equal(seg_scale(&t, 17), 17);
	seg_tuple_free(&t);
	assert_int_equal(seg_tuple_build(&t, "1/2:1/4", NULL, err, sizeof(err)), -1);
	assert_int_equal(seg_tuple_build(&t, "0:3/2", NULL, err, sizeof(err)), -1);
	assert_int_equal(seg_tuple_build(&t, "a:b", NULL, err, sizeof(err)), -1);
	assert_int_equal(seg_tuple_build(&t, "1/3:2/3", "0,1/4,1/2,3/4,1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not one of"));
	assert_int_equal(seg_tuple_build(&t, "0:1/2", "0,1/2,1/4,1", err, sizeof(err)), -1);
	assert_int_equal(seg_tuple_build(&t, "0:1/999983", "0,1/999983,1/999979,1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "pattern"));
	/* A sequence not reaching 0 or 1 is filled, as k6 fills it. */
	assert_int_equal(seg_tuple_build(&t, "1/4:1/2", "1/4,1/2", err, sizeof(err)), 0);
	seg_format(&t, a, sizeof(a), b, sizeof(b));
	assert_string_equal(b, "0,1/4,1/2,1");
	seg_tuple_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_sequences),
	    cmocka_unit_test(test_equal_shares),
	    cmocka_unit_test(test_k6_example),
	    cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
