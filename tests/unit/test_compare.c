/* strain compare's pieces that the integration test cannot pin down: the
 * Mann-Whitney test against values worked out by hand (and scipy's
 * asymptotic method with continuity correction), and the --fail-on
 * grammar with its messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "report/compare.h"

static void test_mann_whitney(void **state)
{
	static const double a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
	static const double c[] = {1, 1, 2, 2, 3}, d[] = {2, 3, 3, 4, 4, 5};
	static const double same[] = {7, 7, 7, 7, 7};

	(void)state;
	/* No overlap: U = 0, z = (12.5 - 0.5) / sqrt(25 * 11 / 12). */
	assert_true(fabs(compare_mann_whitney(a, 5, b, 5) - 0.0121857804) < 1e-9);
	/* Symmetric in its arguments. */
	assert_true(fabs(compare_mann_whitney(b, 5, a, 5) - 0.0121857804) < 1e-9);
	/* Ties: ranks averaged, the variance corrected. */
	assert_true(fabs(compare_mann_whitney(c, 5, d, 6) - 0.0316334230) < 1e-9);
	/* Every value tied: nothing to tell apart. */
	assert_true(compare_mann_whitney(same, 5, same, 5) == 1.0);
	assert_true(compare_mann_whitney(a, 5, a, 5) == 1.0);
	assert_true(compare_mann_whitney(a, 0, b, 5) == 1.0);
}

static void test_fail_on(void **state)
{
	static const struct {
		const char *spec, *err;
	} bad[] = {
		{"p95", "'p95': give STAT:CHANGE, e.g. p95:+10%"},
		{"p95:+10", "p95: '+10' needs the unit % (of the baseline) or ms"},
		{"p90:+10%", "'p90': unknown statistic (p50, p95, p99, errors or rps)"},
		{"errors:+1%", "errors: '+1%' needs the unit pp (percentage points of the error rate)"},
		{"rps:-5ms", "rps: '-5ms' needs the unit % (of the baseline's throughput)"},
		{"p95:+10%,p95:+5%", "'p95' is given twice"},
		{"p95:fast", "p95: 'fast' is not a change such as +10% or +50ms"},
		{"p95:+10%,", "'': give STAT:CHANGE, e.g. p95:+10%"},
		{"p99:+1e999%", "p99: '+1e999%' is out of range"},
	};
	cmp_limits l;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(compare_limits_parse(CMP_DEFAULT_FAIL_ON, &l, err, sizeof(err)), 0);
	assert_true(l.by_stat[CMP_P95].set && l.by_stat[CMP_P95].value == 10 && l.by_stat[CMP_P95].unit == CMP_PCT);
	assert_true(l.by_stat[CMP_ERRORS].value == 0.5 && l.by_stat[CMP_ERRORS].unit == CMP_PP);
	assert_true(l.by_stat[CMP_RPS].value == -5);
	assert_false(l.by_stat[CMP_P50].set);
	/* No sign: the worse direction (slower; less throughput). */
	assert_int_equal(compare_limits_parse("p50:50ms,rps:20%", &l, err, sizeof(err)), 0);
	assert_true(l.by_stat[CMP_P50].value == 50 && l.by_stat[CMP_P50].unit == CMP_MS);
	assert_true(l.by_stat[CMP_RPS].value == -20);
	assert_int_equal(compare_limits_parse("none", &l, err, sizeof(err)), 0);
	for (i = 0; i < CMP_NSTATS; i++)
		assert_false(l.by_stat[i].set);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (compare_limits_parse(bad[i].spec, &l, err, sizeof(err)) == 0)
			fail_msg("'%s' accepted", bad[i].spec);
		assert_string_equal(err, bad[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mann_whitney),
		cmocka_unit_test(test_fail_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
