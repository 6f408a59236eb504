/* Executor stage arithmetic: ramping VUs, arrival times and counts for
 * constant and ramping rates, zero-length stages, ramps to 0, fractional
 * rates and time units other than 1 s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "core/clock.h"
#include "program/exec.h"

#define S(sec) ((uint64_t)((sec) * (double)NS_PER_SEC))

static void test_vus_linear_ramp(void **state)
{
	exec_stage st[] = {{S(10), 10}, {S(5), 10}, {S(10), 0}};

	assert_int_equal(exec_stages_duration(st, 3), S(25));
	assert_int_equal(exec_vus_at(st, 3, 0, 0), 0);
	assert_int_equal(exec_vus_at(st, 3, 0, S(0.999)), 0);
	assert_int_equal(exec_vus_at(st, 3, 0, S(1)), 1);
	assert_int_equal(exec_vus_at(st, 3, 0, S(5.5)), 5);
	assert_int_equal(exec_vus_at(st, 3, 0, S(10)), 10);
	assert_int_equal(exec_vus_at(st, 3, 0, S(14)), 10);
	/* Ramp down rounds toward the stage's start: 9 from 1 s in. */
	assert_int_equal(exec_vus_at(st, 3, 0, S(15.5)), 10);
	assert_int_equal(exec_vus_at(st, 3, 0, S(16)), 9);
	assert_int_equal(exec_vus_at(st, 3, 0, S(24.999)), 1);
	assert_int_equal(exec_vus_at(st, 3, 0, S(25)), 0);
	assert_int_equal(exec_vus_at(st, 3, 0, S(1000)), 0);
	assert_int_equal(exec_vus_max(st, 3, 0), 10);
	assert_int_equal(exec_vus_max(st, 3, 12), 12);
}

static void test_vus_next_change(void **state)
{
	exec_stage st[] = {{S(10), 10}, {S(5), 10}, {S(10), 0}};
	uint64_t t = 0;
	uint32_t changes = 0, last = exec_vus_at(st, 3, 0, 0);

	assert_int_equal(exec_vus_next_change(st, 3, 0, 0), S(1));
	assert_int_equal(exec_vus_next_change(st, 3, 0, S(1)), S(2));
	assert_int_equal(exec_vus_next_change(st, 3, 0, S(9.5)), S(10));
	/* A flat stage: the next possible change is its end. */
	assert_int_equal(exec_vus_next_change(st, 3, 0, S(11)), S(15));
	assert_int_equal(exec_vus_next_change(st, 3, 0, S(15)), S(16));
	assert_int_equal(exec_vus_next_change(st, 3, 0, S(25)), UINT64_MAX);
	/* Walking the change points visits every whole VU and nothing else. */
	while ((t = exec_vus_next_change(st, 3, 0, t)) != UINT64_MAX) {
		uint32_t v = exec_vus_at(st, 3, 0, t);

		assert_true(v == last + 1 || v + 1 == last || v == last);
		changes += v != last;
		last = v;
	}
	assert_int_equal(changes, 20);
	assert_int_equal(last, 0);
}

static void test_vus_zero_length_stage(void **state)
{
	/* Jump to 20 at once, hold, then jump to 5 and ramp to 0. */
	exec_stage st[] = {{0, 20}, {S(2), 20}, {0, 5}, {S(5), 0}};

	assert_int_equal(exec_vus_at(st, 4, 3, 0), 20);
	assert_int_equal(exec_vus_at(st, 4, 3, S(1.9)), 20);
	assert_int_equal(exec_vus_at(st, 4, 3, S(2)), 5);
	assert_int_equal(exec_vus_at(st, 4, 3, S(3)), 4);
	assert_int_equal(exec_vus_at(st, 4, 3, S(7)), 0);
	assert_int_equal(exec_vus_next_change(st, 4, 3, S(1)), S(2));
	assert_int_equal(exec_vus_max(st, 4, 3), 20);
	/* No stages: the start value forever, never a change. */
	assert_int_equal(exec_vus_at(st, 0, 3, S(5)), 3);
	assert_int_equal(exec_vus_next_change(st, 0, 3, 0), UINT64_MAX);
}

static void test_constant_rate_even_spacing(void **state)
{
	exec_stage st[] = {{S(5), 200}};
	uint64_t k;

	/* 200/s: one every 5 ms from t = 0, exactly 1000 in 5 s. */
	for (k = 0; k < 1000; k++)
		assert_int_equal(exec_arrival_time(st, 1, 200, NS_PER_SEC, k), k * 5 * NS_PER_MS);
	assert_int_equal(exec_arrival_time(st, 1, 200, NS_PER_SEC, 1000), UINT64_MAX);
	assert_int_equal(exec_arrivals_between(st, 1, 200, NS_PER_SEC, 0, S(5)), 1000);
	assert_int_equal(exec_arrivals_between(st, 1, 200, NS_PER_SEC, 0, S(1)), 200);
	assert_int_equal(exec_arrivals_between(st, 1, 200, NS_PER_SEC, S(1), S(2)), 200);
	/* [0, 1 ns) holds the one at t = 0. */
	assert_int_equal(exec_arrivals_between(st, 1, 200, NS_PER_SEC, 0, 1), 1);
	assert_int_equal(exec_arrivals_between(st, 1, 200, NS_PER_SEC, 1, S(0.005)), 0);
	assert_float_equal(exec_arrivals_by(st, 1, 200, NS_PER_SEC, S(2.5)), 500, 1e-6);
}

static void test_fractional_rate_and_time_unit(void **state)
{
	/* 0.5 per second: at 0, 2 s, 4 s, ... */
	exec_stage half[] = {{S(10), 0.5}};
	/* 30 per minute = 0.5/s, the same schedule in another unit. */
	exec_stage perm[] = {{S(10), 30}};
	/* 3 per 100 ms = 30/s. */
	exec_stage fast[] = {{S(1), 3}};
	uint64_t k;

	for (k = 0; k < 5; k++) {
		assert_int_equal(exec_arrival_time(half, 1, 0.5, NS_PER_SEC, k), k * 2 * NS_PER_SEC);
		assert_int_equal(exec_arrival_time(perm, 1, 30, 60 * NS_PER_SEC, k), k * 2 * NS_PER_SEC);
	}
	assert_int_equal(exec_arrival_time(half, 1, 0.5, NS_PER_SEC, 5), UINT64_MAX);
	assert_int_equal(exec_arrivals_between(perm, 1, 30, 60 * NS_PER_SEC, 0, S(10)), 5);
	assert_int_equal(exec_arrivals_between(fast, 1, 3, 100 * NS_PER_MS, 0, S(1)), 30);
	/* 1/30 s apart, to the nanosecond. */
	assert_int_equal(exec_arrival_time(fast, 1, 3, 100 * NS_PER_MS, 1), 33333333);
	assert_int_equal(exec_arrival_time(fast, 1, 3, 100 * NS_PER_MS, 3), S(0.1));
	/* 2.5/s for 1 s owes 2.5: iterations at 0 and 0.4 s, and 0.8 s. */
	{
		exec_stage f[] = {{S(1), 2.5}};

		assert_int_equal(exec_arrivals_between(f, 1, 2.5, NS_PER_SEC, 0, S(1)), 3);
		assert_int_equal(exec_arrival_time(f, 1, 2.5, NS_PER_SEC, 2), S(0.8));
		assert_int_equal(exec_arrival_time(f, 1, 2.5, NS_PER_SEC, 3), UINT64_MAX);
	}
}

static void test_ramping_rate(void **state)
{
	/* 0 -> 100/s over 10 s: N(t) = 5 t^2, 500 in all. */
	exec_stage st[] = {{S(10), 100}};
	uint64_t k, prev = 0;

	assert_float_equal(exec_arrivals_by(st, 1, 0, NS_PER_SEC, S(10)), 500, 1e-6);
	assert_float_equal(exec_arrivals_by(st, 1, 0, NS_PER_SEC, S(4)), 80, 1e-6);
	assert_int_equal(exec_arrivals_between(st, 1, 0, NS_PER_SEC, 0, S(10)), 500);
	/* The ramp starts at once; iteration k at sqrt(k / 5) s. */
	assert_int_equal(exec_arrival_time(st, 1, 0, NS_PER_SEC, 0), 0);
	assert_int_equal(exec_arrival_time(st, 1, 0, NS_PER_SEC, 80), S(4));
	for (k = 1; k < 500; k++) {
		uint64_t t = exec_arrival_time(st, 1, 0, NS_PER_SEC, k);

		assert_true(t > prev);
		assert_true(llabs((long long)t - (long long)(sqrt((double)k / 5) * 1e9)) <= 1);
		prev = t;
	}
	assert_int_equal(exec_arrival_time(st, 1, 0, NS_PER_SEC, 500), UINT64_MAX);
}

static void test_ramp_to_zero_and_holds(void **state)
{
	/* Hold 0 for 2 s, jump to 50/s, hold 2 s, ramp to 0 over 4 s, hold 0. */
	exec_stage st[] = {{S(2), 0}, {0, 50}, {S(2), 50}, {S(4), 0}, {S(3), 0}};
	uint64_t k, t;

	/* Nothing during the first hold: the first iteration at 2 s. */
	assert_int_equal(exec_arrival_time(st, 5, 0, NS_PER_SEC, 0), S(2));
	assert_int_equal(exec_arrivals_between(st, 5, 0, NS_PER_SEC, 0, S(2)), 0);
	assert_int_equal(exec_arrivals_between(st, 5, 0, NS_PER_SEC, S(2), S(4)), 100);
	/* The ramp down owes a triangle: 50 * 4 / 2 = 100. */
	assert_int_equal(exec_arrivals_between(st, 5, 0, NS_PER_SEC, S(4), S(8)), 100);
	assert_int_equal(exec_arrivals_between(st, 5, 0, NS_PER_SEC, S(8), S(11)), 0);
	for (k = 0; k < 200; k++) {
		t = exec_arrival_time(st, 5, 0, NS_PER_SEC, k);
		assert_true(t >= S(2) && t < S(8));
	}
	assert_int_equal(exec_arrival_time(st, 5, 0, NS_PER_SEC, 200), UINT64_MAX);
	/* In the ramp down iterations thin out: the gaps only grow. */
	{
		uint64_t g0 = exec_arrival_time(st, 5, 0, NS_PER_SEC, 101) - exec_arrival_time(st, 5, 0, NS_PER_SEC, 100);
		uint64_t g1 = exec_arrival_time(st, 5, 0, NS_PER_SEC, 199) - exec_arrival_time(st, 5, 0, NS_PER_SEC, 198);

		assert_true(g1 > g0 * 5);
	}
	/* All zero: no iteration at all. */
	{
		exec_stage z[] = {{S(5), 0}};

		assert_int_equal(exec_arrival_time(z, 1, 0, NS_PER_SEC, 0), UINT64_MAX);
		assert_int_equal(exec_arrivals_between(z, 1, 0, NS_PER_SEC, 0, S(5)), 0);
	}
}

static void test_counts_match_times(void **state)
{
	/* For every prefix, the times and the integral agree on the count. */
	exec_stage st[] = {{S(1), 7.3}, {S(0.5), 7.3}, {0, 40}, {S(1.5), 3}, {S(2), 0.25}};
	uint64_t k = 0, t;

	for (t = 0; t <= S(5); t += 37 * NS_PER_MS) {
		while (exec_arrival_time(st, 5, 1, 250 * NS_PER_MS, k) < t)
			k++;
		assert_int_equal(exec_arrivals_between(st, 5, 1, 250 * NS_PER_MS, 0, t), k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vus_linear_ramp),
		cmocka_unit_test(test_vus_next_change),
		cmocka_unit_test(test_vus_zero_length_stage),
		cmocka_unit_test(test_constant_rate_even_spacing),
		cmocka_unit_test(test_fractional_rate_and_time_unit),
		cmocka_unit_test(test_ramping_rate),
		cmocka_unit_test(test_ramp_to_zero_and_holds),
		cmocka_unit_test(test_counts_match_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
