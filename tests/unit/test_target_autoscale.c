/* The autoscaling rule (target/autoscale.h) on explicit times: when it
 * grows, by how much, after which delay and cool-down, and when it shrinks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "target/autoscale.h"

#define MS NS_PER_MS
#define SEC NS_PER_SEC

/* A load pattern: at sample k (taken at k * 100 ms) is the pool queueing? */
typedef int (*load_fn)(uint64_t k);

static int always(uint64_t k)
{
	(void)k;
	return 1;
}

static int never(uint64_t k)
{
	(void)k;
	return 0;
}

static int four_of_five(uint64_t k)
{
	return k % 5 != 0;
}

static int three_of_four(uint64_t k)
{
	return k % 4 != 0;
}

/* Samples from k0 to k1 (inclusive) under `load`: queueing means every
 * connection busy and 5 waiting; otherwise nothing busy. Records the
 * changes. Returns the next sample index. */
static uint64_t feed(as_state *a, uint64_t k0, uint64_t k1, load_fn load, as_change *log, int *n)
{
	uint64_t k;

	for (k = k0; k <= k1; k++) {
		int q = load(k);
		as_change c;

		if (as_sample(a, k * AS_PERIOD_NS, q ? a->size : 0, q ? 5 : 0, &c))
			log[(*n)++] = c;
	}
	return k;
}

static void test_grows_after_delay_and_cooldown(void **state)
{
	as_state a;
	as_change log[16];
	int n = 0;

	(void)state;
	as_init(&a, (as_range){2, 8}, 0);
	assert_int_equal(a.size, 2);
	feed(&a, 1, 300, always, log, &n);
	/* 20 samples of queueing (2.0 s) decide; 2 s later it takes effect. */
	assert_int_equal(n, 3);
	assert_int_equal(log[0].decided_ns, 2 * SEC);
	assert_int_equal(log[0].at_ns, 4 * SEC);
	assert_int_equal(log[0].from, 2);
	assert_int_equal(log[0].to, 3); /* ceil(2 * 1.5) */
	assert_int_equal(log[0].up, 1);
	/* Then 5 s of cool-down before the next decision. */
	assert_int_equal(log[1].decided_ns, 9 * SEC);
	assert_int_equal(log[1].at_ns, 11 * SEC);
	assert_int_equal(log[1].to, 5); /* ceil(3 * 1.5) */
	assert_int_equal(log[2].at_ns, 18 * SEC);
	assert_int_equal(log[2].to, 8); /* min(MAX, ceil(7.5)) */
	assert_int_equal(a.size, 8);
}

static void test_threshold_is_80_percent(void **state)
{
	as_state a;
	as_change log[16];
	int n = 0;

	(void)state;
	as_init(&a, (as_range){4, 100}, 0);
	/* Queueing 75 % of the time: never enough (and never idle for 10 s). */
	feed(&a, 1, 600, three_of_four, log, &n);
	assert_int_equal(n, 0);
	/* 80 %: 16 of every 20 samples. The window is the last 20 samples, so
	 * the decision comes within 20 samples of the new pattern. */
	feed(&a, 601, 650, four_of_five, log, &n);
	assert_int_equal(n, 1);
	assert_true(log[0].decided_ns <= 621 * AS_PERIOD_NS);
	assert_int_equal(log[0].at_ns, log[0].decided_ns + AS_DELAY_NS);
	assert_int_equal(log[0].to, 6);
}

static void test_shrinks_when_idle(void **state)
{
	as_state a;
	as_change log[16];
	uint64_t k;
	int n = 0;

	(void)state;
	as_init(&a, (as_range){2, 8}, 0);
	k = feed(&a, 1, 110, always, log, &n); /* grown to 3 at 4 s, 5 at 11 s */
	assert_int_equal(n, 2);
	assert_int_equal(a.size, 5);
	/* Idle from 11.1 s: every sample of the 10 s since the change. */
	feed(&a, k, 400, never, log, &n);
	assert_int_equal(n, 4);
	assert_int_equal(log[2].at_ns, 21 * SEC);
	assert_int_equal(log[2].decided_ns, 21 * SEC); /* at once */
	assert_int_equal(log[2].from, 5);
	assert_int_equal(log[2].to, 3); /* floor(5 * 0.75) */
	assert_int_equal(log[2].up, 0);
	assert_int_equal(log[3].at_ns, 31 * SEC);
	assert_int_equal(log[3].to, 2); /* max(MIN, floor(2.25)) */
	assert_int_equal(a.size, 2);
}

static void test_half_busy_is_not_idle(void **state)
{
	as_state a;
	as_change c;
	uint64_t k = 1;
	int n = 0;
	as_change log[16];

	(void)state;
	as_init(&a, (as_range){1, 100}, 0);
	k = feed(&a, k, 110, always, log, &n); /* 1 -> 2 at 4 s, 2 -> 3 at 11 s */
	assert_int_equal(n, 2);
	assert_int_equal(a.size, 3);
	/* One sample in ten with 2 of 3 busy (not fewer than half) resets the
	 * idle run: no shrink for as long as that goes on. */
	for (; k <= 1000; k++)
		assert_int_equal(as_sample(&a, k * AS_PERIOD_NS, k % 10 ? 0 : 2, 0, &c), 0);
	/* One busy connection of 3 is fewer than half: idle. */
	for (; k < 1100; k++)
		assert_int_equal(as_sample(&a, k * AS_PERIOD_NS, 1, 0, &c), 0);
	assert_int_equal(as_sample(&a, k * AS_PERIOD_NS, 1, 0, &c), 1);
	assert_int_equal(c.to, 2);
}

static void test_sizes_by_step(void **state)
{
	static const uint32_t up[] = {1, 2, 3, 5, 8, 12, 18, 27, 41, 62, 93, 100};
	static const uint32_t down[] = {100, 75, 56, 42, 31, 23, 17, 12, 9, 6, 4, 3, 2, 1};
	as_state a;
	as_change log[32];
	uint64_t k = 1;
	int n = 0, i;

	(void)state;
	as_init(&a, (as_range){1, 100}, 0);
	k = feed(&a, k, 1000, always, log, &n);
	assert_int_equal(n, 11);
	for (i = 0; i < n; i++) {
		assert_int_equal(log[i].from, up[i]);
		assert_int_equal(log[i].to, up[i + 1]);
	}
	n = 0;
	feed(&a, k, k + 2000, never, log, &n);
	assert_int_equal(n, 13);
	for (i = 0; i < n; i++) {
		assert_int_equal(log[i].from, down[i]);
		assert_int_equal(log[i].to, down[i + 1]);
	}
}

static void test_fixed_range_never_changes(void **state)
{
	as_state a;
	as_change log[4];
	uint64_t k;
	int n = 0;

	(void)state;
	as_init(&a, (as_range){5, 5}, 0);
	k = feed(&a, 1, 500, always, log, &n);
	feed(&a, k, 1000, never, log, &n);
	assert_int_equal(n, 0);
	assert_int_equal(a.size, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_after_delay_and_cooldown),
		cmocka_unit_test(test_threshold_is_80_percent),
		cmocka_unit_test(test_shrinks_when_idle),
		cmocka_unit_test(test_half_busy_is_not_idle),
		cmocka_unit_test(test_sizes_by_step),
		cmocka_unit_test(test_fixed_range_never_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
