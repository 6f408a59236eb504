/* The event loop's timer heap (engine/ev), driven through the public API:
 * timers fire in deadline order and never early, stop and re-arm work
 * from outside and inside callbacks, equal deadlines all fire once, the
 * heap grows past its hint. Deadlines in the past fire on the next pass, so
 * most cases need no waiting; the few real ones wait a few milliseconds.
 * A guard timer fails a test instead of letting it hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "io/ev.h"

typedef struct rec {
	ev_timer t;
	uint32_t id;
	uint32_t fired;
	uint64_t fired_at;  /* ev_now at the callback */
} rec;

/* What one test run observed, shared by the callbacks (one loop, one thread). */
static struct {
	uint32_t *order;    /* ids in firing order */
	uint32_t n, expect; /* fired so far; stop the loop at this many */
	rec *recs;
	uint32_t nrecs;
	uint32_t rearm_left;
	uint64_t rearm_step;
	int guard_fired;
} S;

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void on_fire(ev_loop *loop, ev_timer *t)
{
	rec *r = container_of(t, rec, t);

	assert_false(ev_timer_armed(t)); /* disarmed before its callback runs */
	r->fired++;
	r->fired_at = ev_now(loop);
	S.order[S.n++] = r->id;
	if (S.n == S.expect)
		ev_loop_stop(loop);
}

static void on_guard(ev_loop *loop, ev_timer *t)
{
	(void)t;
	S.guard_fired = 1;
	ev_loop_stop(loop);
}

/* Runs the loop with a guard that stops it after 10 s, then checks the
 * guard did not have to. */
static void run_bounded(ev_loop *loop)
{
	ev_timer guard;

	ev_timer_init(&guard, on_guard);
	ev_timer_start(loop, &guard, ev_now_update(loop) + 10 * NS_PER_SEC);
	S.guard_fired = 0;
	assert_int_equal(ev_loop_run(loop), 0);
	ev_timer_stop(loop, &guard);
	assert_false(S.guard_fired);
}

static void setup_recs(uint32_t n)
{
	uint32_t i;

	free(S.recs);
	free(S.order);
	memset(&S, 0, sizeof(S));
	S.recs = calloc(n, sizeof(*S.recs));
	S.order = calloc(n * 4 + 16, sizeof(*S.order)); /* room for re-arms */
	assert_non_null(S.recs);
	assert_non_null(S.order);
	S.nrecs = n;
	for (i = 0; i < n; i++) {
		ev_timer_init(&S.recs[i].t, on_fire);
		S.recs[i].id = i;
	}
}

static int teardown_recs(void **state)
{
	(void)state;
	free(S.recs);
	free(S.order);
	memset(&S, 0, sizeof(S));
	return 0;
}

/* Fired ids are in nondecreasing deadline order. */
static void assert_deadline_order(void)
{
	uint32_t i;

	for (i = 1; i < S.n; i++)
		if (S.recs[S.order[i - 1]].t.deadline > S.recs[S.order[i]].t.deadline)
			fail_msg("timer %u (deadline %llu) fired before %u (deadline %llu)", S.order[i - 1],
				 (unsigned long long)S.recs[S.order[i - 1]].t.deadline, S.order[i],
				 (unsigned long long)S.recs[S.order[i]].t.deadline);
}

static void test_past_deadlines_fire_in_order(void **state)
{
	enum { N = 1000 };
	ev_loop *loop = ev_loop_create(4);
	uint64_t base = ev_now(loop) - 10 * NS_PER_SEC;
	uint32_t i;

	(void)state;
	assert_non_null(loop);
	setup_recs(N);
	/* Deadlines 0..N-1 ns after base, armed in a shuffled order. */
	for (i = 0; i < N; i++) {
		uint32_t j = (uint32_t)(next_rand() % N);
		uint32_t tmp = S.recs[i].id;

		S.recs[i].id = S.recs[j].id;
		S.recs[j].id = tmp;
	}
	for (i = 0; i < N; i++) {
		ev_timer_start(loop, &S.recs[i].t, base + S.recs[i].id);
		assert_true(ev_timer_armed(&S.recs[i].t));
		S.recs[i].id = i;
	}
	S.expect = N;
	run_bounded(loop);
	assert_int_equal(S.n, N);
	assert_deadline_order();
	for (i = 0; i < N; i++)
		assert_int_equal(S.recs[i].fired, 1);
	ev_loop_destroy(loop);
}

static void test_real_deadlines_not_early(void **state)
{
	static const uint64_t after_us[] = {3000, 1000, 5000, 2000, 4000};
	enum { N = sizeof(after_us) / sizeof(after_us[0]) };
	ev_loop *loop = ev_loop_create(16);
	uint64_t now = ev_now_update(loop);
	uint32_t i;

	(void)state;
	setup_recs(N);
	for (i = 0; i < N; i++)
		ev_timer_start(loop, &S.recs[i].t, now + after_us[i] * NS_PER_US);
	S.expect = N;
	run_bounded(loop);
	assert_int_equal(S.n, N);
	assert_deadline_order();
	for (i = 0; i < N; i++) {
		assert_int_equal(S.recs[i].fired, 1);
		/* The loop's clock at the callback has reached the deadline. */
		assert_true(S.recs[i].fired_at >= S.recs[i].t.deadline);
	}
	ev_loop_destroy(loop);
}

static void test_equal_deadlines_each_fire_once(void **state)
{
	enum { N = 257 };
	ev_loop *loop = ev_loop_create(16);
	uint64_t d = ev_now(loop) - NS_PER_SEC;
	uint32_t i;

	(void)state;
	setup_recs(N);
	for (i = 0; i < N; i++)
		ev_timer_start(loop, &S.recs[i].t, d);
	S.expect = N;
	run_bounded(loop);
	assert_int_equal(S.n, N);
	for (i = 0; i < N; i++)
		assert_int_equal(S.recs[i].fired, 1);
	ev_loop_destroy(loop);
}

/* Cancelling from inside a callback: the first timer to fire stops every
 * other odd one. */
static void on_fire_cancel_odds(ev_loop *loop, ev_timer *t)
{
	uint32_t i;

	for (i = 1; i < S.nrecs; i += 2)
		ev_timer_stop(loop, &S.recs[i].t);
	t->cb = on_fire;
	on_fire(loop, t);
}

static void test_cancel(void **state)
{
	enum { N = 200 };
	ev_loop *loop = ev_loop_create(16);
	uint64_t base = ev_now(loop) - NS_PER_SEC;
	uint32_t i;

	(void)state;
	setup_recs(N);
	for (i = 0; i < N; i++)
		ev_timer_start(loop, &S.recs[i].t, base + (next_rand() % 1000) + 10);
	/* From outside: every third goes, and stopping twice or stopping a
	 * timer never armed is harmless. */
	for (i = 0; i < N; i += 3) {
		ev_timer_stop(loop, &S.recs[i].t);
		ev_timer_stop(loop, &S.recs[i].t);
		assert_false(ev_timer_armed(&S.recs[i].t));
	}
	{
		ev_timer never;

		ev_timer_init(&never, on_fire);
		ev_timer_stop(loop, &never);
	}
	/* Timer 0 was stopped above; re-arm it earliest, to cancel the odds. */
	S.recs[0].t.cb = on_fire_cancel_odds;
	ev_timer_start(loop, &S.recs[0].t, base);
	for (i = 0; i < N; i++)
		if (i == 0 || (i % 3 != 0 && i % 2 == 0))
			S.expect++;
	run_bounded(loop);
	assert_int_equal(S.n, S.expect);
	assert_int_equal(S.order[0], 0);
	assert_deadline_order();
	for (i = 0; i < N; i++) {
		int want = i == 0 || (i % 3 != 0 && i % 2 == 0);

		if ((int)S.recs[i].fired != want)
			fail_msg("timer %u fired %u times, want %d", i, S.recs[i].fired, want);
		assert_false(ev_timer_armed(&S.recs[i].t));
	}
	ev_loop_destroy(loop);
}

static void test_rearm_moves_deadline(void **state)
{
	enum { N = 64 };
	ev_loop *loop = ev_loop_create(16);
	uint64_t base = ev_now(loop) - NS_PER_SEC;
	uint32_t i;

	(void)state;
	setup_recs(N);
	for (i = 0; i < N; i++)
		ev_timer_start(loop, &S.recs[i].t, base + 1000 + i * 10);
	/* Re-arming an armed timer moves it (earlier or later), never adds a
	 * second entry. */
	ev_timer_start(loop, &S.recs[N - 1].t, base);           /* last -> first */
	ev_timer_start(loop, &S.recs[0].t, base + 1000000);     /* first -> last */
	ev_timer_start(loop, &S.recs[N / 2].t, base + 1000 + 5); /* a little earlier */
	ev_timer_start(loop, &S.recs[N / 2].t, base + 1000 + 5); /* same again */
	S.expect = N;
	run_bounded(loop);
	assert_int_equal(S.n, N);
	assert_int_equal(S.order[0], N - 1);
	assert_int_equal(S.order[1], N / 2); /* base+1005, before timer 1's base+1010 */
	assert_int_equal(S.order[N - 1], 0);
	assert_deadline_order();
	for (i = 0; i < N; i++)
		assert_int_equal(S.recs[i].fired, 1);
	ev_loop_destroy(loop);
}

/* A periodic timer: re-arms itself from its own callback. */
static void on_periodic(ev_loop *loop, ev_timer *t)
{
	rec *r = container_of(t, rec, t);

	assert_true(ev_now(loop) >= t->deadline);
	r->fired++;
	S.order[S.n++] = r->id;
	if (S.rearm_left) {
		S.rearm_left--;
		ev_timer_start(loop, t, ev_now(loop) + S.rearm_step);
		assert_true(ev_timer_armed(t));
	} else {
		ev_loop_stop(loop);
	}
}

static void test_rearm_from_callback(void **state)
{
	ev_loop *loop = ev_loop_create(16);

	(void)state;
	setup_recs(1);
	S.recs[0].t.cb = on_periodic;
	S.rearm_left = 4;
	S.rearm_step = 500 * NS_PER_US;
	ev_timer_start(loop, &S.recs[0].t, ev_now_update(loop) + S.rearm_step);
	run_bounded(loop);
	assert_int_equal(S.recs[0].fired, 5);
	assert_false(ev_timer_armed(&S.recs[0].t));
	ev_loop_destroy(loop);
}

static void test_stop_keeps_the_rest_armed(void **state)
{
	enum { N = 10 };
	ev_loop *loop = ev_loop_create(16);
	uint64_t base = ev_now(loop) - NS_PER_SEC;
	uint32_t i;

	(void)state;
	setup_recs(N);
	for (i = 0; i < N; i++)
		ev_timer_start(loop, &S.recs[i].t, base + i);
	/* ev_loop_stop in the 3rd callback: the run returns, the other 7 stay
	 * armed and fire on the next run. */
	S.expect = 3;
	run_bounded(loop);
	assert_int_equal(S.n, 3);
	for (i = 3; i < N; i++)
		assert_true(ev_timer_armed(&S.recs[i].t));
	S.expect = N;
	run_bounded(loop);
	assert_int_equal(S.n, N);
	assert_deadline_order();
	ev_loop_destroy(loop);
}

/* Many timers, random deadlines, random stops and re-arms: the heap must
 * come out sorted with exactly the survivors. */
static void test_many_timers_random_ops(void **state)
{
	enum { N = 100000 };
	ev_loop *loop = ev_loop_create(16); /* grows far past its hint */
	uint64_t base = ev_now(loop) - 100 * NS_PER_SEC;
	uint32_t i, survivors = 0;

	(void)state;
	setup_recs(N);
	for (i = 0; i < N; i++)
		ev_timer_start(loop, &S.recs[i].t, base + next_rand() % 50000000);
	for (i = 0; i < N; i++) {
		uint32_t j = (uint32_t)(next_rand() % N);

		switch (next_rand() % 4) {
		case 0:
			ev_timer_stop(loop, &S.recs[j].t);
			break;
		case 1:
			ev_timer_start(loop, &S.recs[j].t, base + next_rand() % 50000000);
			break;
		default:
			break;
		}
	}
	for (i = 0; i < N; i++)
		survivors += ev_timer_armed(&S.recs[i].t) != 0;
	assert_true(survivors > N / 2 && survivors < N);
	S.expect = survivors;
	run_bounded(loop);
	assert_int_equal(S.n, survivors);
	assert_deadline_order();
	for (i = 0; i < N; i++)
		assert_true(S.recs[i].fired <= 1);
	ev_loop_destroy(loop);
}

/* An fd becoming readable wakes the loop; removal stops the callbacks. */
typedef struct pipe_watch {
	ev_io io;
	uint32_t calls;
	unsigned last;
} pipe_watch;

static void on_readable(ev_loop *loop, ev_io *io, unsigned events)
{
	pipe_watch *w = container_of(io, pipe_watch, io);
	char c;

	w->calls++;
	w->last = events;
	assert_int_equal(read(io->fd, &c, 1), 1);
	ev_loop_stop(loop);
}

static void test_io_wakes_before_timer(void **state)
{
	ev_loop *loop = ev_loop_create(16);
	pipe_watch w = {0};
	int fds[2];

	(void)state;
	setup_recs(1);
	assert_int_equal(pipe(fds), 0);
	ev_io_init(&w.io, fds[0], on_readable);
	assert_int_equal(ev_io_set(loop, &w.io, EV_READ), 0);
	assert_int_equal(w.io.events, EV_READ);
	assert_int_equal(ev_io_set(loop, &w.io, EV_READ), 0); /* unchanged: no-op */
	assert_int_equal(write(fds[1], "x", 1), 1);
	run_bounded(loop);
	assert_int_equal(w.calls, 1);
	assert_true(w.last & EV_READ);
	assert_int_equal(ev_io_set(loop, &w.io, 0), 0);
	assert_int_equal(w.io.events, 0);
	/* Removed: a pending byte no longer calls back; a past timer ends the run. */
	assert_int_equal(write(fds[1], "y", 1), 1);
	ev_timer_start(loop, &S.recs[0].t, ev_now(loop) - 1);
	S.expect = 1;
	run_bounded(loop);
	assert_int_equal(w.calls, 1);
	assert_int_equal(S.n, 1);
	close(fds[0]);
	close(fds[1]);
	ev_loop_destroy(loop);
	ev_loop_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_past_deadlines_fire_in_order, teardown_recs),
		cmocka_unit_test_teardown(test_real_deadlines_not_early, teardown_recs),
		cmocka_unit_test_teardown(test_equal_deadlines_each_fire_once, teardown_recs),
		cmocka_unit_test_teardown(test_cancel, teardown_recs),
		cmocka_unit_test_teardown(test_rearm_moves_deadline, teardown_recs),
		cmocka_unit_test_teardown(test_rearm_from_callback, teardown_recs),
		cmocka_unit_test_teardown(test_stop_keeps_the_rest_armed, teardown_recs),
		cmocka_unit_test_teardown(test_many_timers_random_ops, teardown_recs),
		cmocka_unit_test_teardown(test_io_wakes_before_timer, teardown_recs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
