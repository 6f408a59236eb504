/* The maximum arrival rate and the arithmetic the worker's bulk drop
 * relies on: at the highest allowed rate, the number of iterations owed by
 * t (from the integral) matches the per-iteration start times, so dropping
 * "everything due by now" in one step skips none and doubles none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
/* The schedule's arithmetic is moving from engine/ to program/ (the layer
 * folders); this test builds on either side of that move. */
#if __has_include("program/exec.h")
#include "program/exec.h"
#else
#include "engine/exec.h"
#endif

#define S(sec) ((uint64_t)((sec) * (double)NS_PER_SEC))

static void test_rate_peak(void **state)
{
	exec_stage st[] = {{S(1), 100}, {S(0), 7000}, {S(2), 50}};

	assert_true(exec_rate_peak(st, 3, 10) == 7000);
	assert_true(exec_rate_peak(st, 3, 9000) == 9000);
	assert_true(exec_rate_peak(st, 0, 3) == 3);
	assert_true(exec_rate_peak(st, 0, -1) == 0);
}

/* Iterations k < owed(t + 1) are exactly those with start time <= t. */
static void check_owed_matches_times(const exec_stage *st, uint32_t n, double start, uint64_t unit)
{
	uint64_t probes[] = {0, 1, 99, 100, 101, 12345, S(0.5), S(0.999999), S(1.5), S(2) - 1};
	size_t i;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		uint64_t t = probes[i], owed = exec_arrivals_between(st, n, start, unit, 0, t + 1);

		if (owed)
			assert_true(exec_arrival_time(st, n, start, unit, owed - 1) <= t);
		{
			/* The one after the next is later than t: at a rounding
			 * boundary (a ramp from 0 starts its first at once, where
			 * the integral is still ~0) one straggler may be due, which
			 * the worker takes one by one. */
			uint64_t after = exec_arrival_time(st, n, start, unit, owed + 1);

			assert_true(after == UINT64_MAX || after > t);
		}
	}
}

static void test_max_rate_counts_match_times(void **state)
{
	exec_stage constant[] = {{S(2), EXEC_MAX_RATE_PER_SEC}};
	exec_stage ramp[] = {{S(1), EXEC_MAX_RATE_PER_SEC}, {S(1), EXEC_MAX_RATE_PER_SEC / 2}};
	exec_stage per_ms[] = {{S(2), EXEC_MAX_RATE_PER_SEC / 1000}};

	check_owed_matches_times(constant, 1, EXEC_MAX_RATE_PER_SEC, NS_PER_SEC);
	check_owed_matches_times(ramp, 2, 0, NS_PER_SEC);
	check_owed_matches_times(per_ms, 1, EXEC_MAX_RATE_PER_SEC / 1000, NS_PER_MS);
	/* Two seconds at the maximum owe twenty million iterations. */
	assert_int_equal(exec_arrivals_between(constant, 1, EXEC_MAX_RATE_PER_SEC, NS_PER_SEC, 0, S(2) + 1),
			 20000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_peak),
		cmocka_unit_test(test_max_rate_counts_match_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
