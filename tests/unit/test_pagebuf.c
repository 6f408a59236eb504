/* Page-backed buffers (core/pagebuf): growth keeps the contents, and a
 * settle gives back, as the kernel sees it (mincore), the pages a bigger
 * round touched as soon as a round no longer needs them, without giving
 * back what the steady rounds need; steady rounds keep theirs resident. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/pagebuf.h"

/* How many of the pages of [off, off + len) in b are resident. */
static size_t resident(const pagebuf *b, size_t off, size_t len)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), n = len / ps, i, k = 0;
	unsigned char *v = malloc(n + 1);

	assert_int_equal(off % ps, 0);
	assert_int_equal(mincore((char *)b->p + off, len, v), 0);
	for (i = 0; i < n; i++)
		k += v[i] & 1;
	free(v);
	return k;
}

static void test_reserve_grows_keeping_contents(void **state)
{
	pagebuf b;
	size_t i;

	(void)state;
	pagebuf_init(&b);
	pagebuf_reserve(&b, 1);
	assert_non_null(b.p);
	assert_int_equal(b.cap, PAGEBUF_MIN);
	memset(b.p, 0x5a, b.cap);
	pagebuf_reserve(&b, 3 * PAGEBUF_MIN);
	assert_int_equal(b.cap, 4 * PAGEBUF_MIN);
	for (i = 0; i < PAGEBUF_MIN; i++)
		assert_int_equal(((unsigned char *)b.p)[i], 0x5a);
	pagebuf_reserve(&b, 10); /* never shrinks */
	assert_int_equal(b.cap, 4 * PAGEBUF_MIN);
	pagebuf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.cap, 0);
}

static void test_settle_gives_back_a_spike(void **state)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), steady = 1 << 20, spike = 4 << 20, keep, i;
	pagebuf b;

	(void)state;
	pagebuf_init(&b);
	pagebuf_reserve(&b, spike);
	/* Steady rounds: every page they use stays resident. */
	for (i = 0; i < 3; i++) {
		memset(b.p, 1, steady);
		pagebuf_settle(&b, steady);
		assert_int_equal(resident(&b, 0, steady), steady / ps);
	}
	/* One bigger round (a late interval) touches four times as much, and
	 * keeps it while it is the round just ended... */
	memset(b.p, 2, spike);
	pagebuf_settle(&b, spike);
	assert_int_equal(resident(&b, 0, spike), spike / ps);
	/* ...and the next steady round gives it back: the steady need and its
	 * margin stay, with their contents; the rest is not resident. */
	memset(b.p, 3, steady);
	pagebuf_settle(&b, steady);
	keep = (steady + steady / 64 + ps - 1) / ps * ps;
	assert_int_equal(resident(&b, 0, keep), keep / ps);
	assert_int_equal(resident(&b, keep, spike - keep), 0);
	assert_int_equal(((unsigned char *)b.p)[steady - 1], 3);
	/* The pages given back read as zeros and can be used again. */
	assert_int_equal(((unsigned char *)b.p)[spike - 1], 0);
	memset(b.p, 4, spike);
	assert_int_equal(resident(&b, 0, spike), spike / ps);
	pagebuf_free(&b);
}

/* A late interval is followed by a short one (ticks keep their grid): the
 * short round gives back the late one's excess but keeps what the steady
 * rounds need, so RSS does not dip either. */
static void test_short_round_keeps_the_steady_need(void **state)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), steady = 1 << 20, keep, i;
	pagebuf b;

	(void)state;
	pagebuf_init(&b);
	pagebuf_reserve(&b, 2 * steady);
	for (i = 0; i < 3; i++) {
		memset(b.p, 1, steady);
		pagebuf_settle(&b, steady);
	}
	memset(b.p, 2, steady + steady / 2);
	pagebuf_settle(&b, steady + steady / 2);
	memset(b.p, 3, steady / 2);
	pagebuf_settle(&b, steady / 2);
	keep = (steady + steady / 64 + ps - 1) / ps * ps;
	assert_int_equal(resident(&b, 0, keep), keep / ps);
	assert_int_equal(resident(&b, keep, 2 * steady - keep), 0);
	/* Past the short round, steady rounds keep their pages. */
	memset(b.p, 4, steady);
	pagebuf_settle(&b, steady);
	assert_int_equal(resident(&b, 0, steady), steady / ps);
	pagebuf_free(&b);
}

/* A lull of a few rounds keeps the steady need resident (it will be needed
 * again); a lasting drop of load gives it back, a little each round. */
static void test_lull_keeps_and_drop_gives_back(void **state)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), steady = 1 << 20, low = steady / 4, i;
	size_t near = steady - steady / 32;
	pagebuf b;

	(void)state;
	pagebuf_init(&b);
	pagebuf_reserve(&b, steady);
	for (i = 0; i < 5; i++) {
		memset(b.p, 1, steady);
		pagebuf_settle(&b, steady);
	}
	for (i = 0; i < 6; i++) {
		memset(b.p, 2, low);
		pagebuf_settle(&b, low);
	}
	assert_int_equal(resident(&b, 0, near / ps * ps), near / ps);
	/* Ten minutes of the lower load: down to its need. */
	for (i = 0; i < 600; i++) {
		memset(b.p, 3, low);
		pagebuf_settle(&b, low);
	}
	assert_true(resident(&b, 0, steady) <= (low + low / 64) / ps + 1 + PAGEBUF_SLACK / ps);
	assert_true(resident(&b, 0, steady) >= low / ps);
	pagebuf_free(&b);
}

static void test_small_excess_is_kept(void **state)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), steady = 1 << 20;
	size_t bigger = steady + steady / 64 + PAGEBUF_SLACK / 2;
	pagebuf b;

	(void)state;
	pagebuf_init(&b);
	pagebuf_reserve(&b, 2 * steady);
	/* A round a little bigger than the margin, but by less than
	 * PAGEBUF_SLACK past it: not worth a system call and the faults that
	 * refill it, so it stays. */
	memset(b.p, 1, bigger);
	pagebuf_settle(&b, bigger);
	pagebuf_settle(&b, steady);
	pagebuf_settle(&b, steady);
	assert_int_equal(resident(&b, 0, bigger / ps * ps), bigger / ps);
	pagebuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_grows_keeping_contents),
		cmocka_unit_test(test_settle_gives_back_a_spike),
		cmocka_unit_test(test_short_round_keeps_the_steady_need),
		cmocka_unit_test(test_lull_keeps_and_drop_gives_back),
		cmocka_unit_test(test_small_excess_is_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
