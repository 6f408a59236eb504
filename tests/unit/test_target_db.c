/* The target's database model (processor sharing, pools, FIFO queueing,
 * cache) and its LRU, driven with explicit times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/clock.h"
#include "target/db.h"
#include "target/lru.h"

#define MS NS_PER_MS
#define MAXQ 256

/* Records completions in order. */
typedef struct log {
	db_query *q[MAXQ];
	uint64_t at[MAXQ];
	int n;
} log_t;

static void on_done(void *ctx, db_query *q)
{
	log_t *l = ctx;

	l->q[l->n] = q;
	l->at[l->n] = q->done_ns;
	l->n++;
}

static db_config config(uint32_t slots, uint32_t pool, uint64_t service)
{
	db_config c;
	int i;

	memset(&c, 0, sizeof(c));
	c.slots = slots;
	for (i = 0; i < DB_MODULES; i++) {
		c.pool[i] = pool;
		c.service_ns[i] = service;
	}
	return c;
}

/* Runs the model's timer until idle, as the database thread does. */
static void drain(db_model *m, log_t *l)
{
	uint64_t next;

	while ((next = db_model_next(m)) != UINT64_MAX)
		db_model_advance(m, next, on_done, l);
}

static void test_single_query(void **state)
{
	db_config c = config(4, 2, 10 * MS);
	db_model *m = db_model_create(&c, 1000);
	db_query q = {.module = DB_JOBS};
	log_t l = {0};

	(void)state;
	db_model_submit(m, &q, 1000, on_done, &l);
	assert_int_equal(db_model_next(m), 1000 + 10 * MS);
	db_model_advance(m, 1000 + 10 * MS - 1, on_done, &l);
	assert_int_equal(l.n, 0);
	db_model_advance(m, 1000 + 10 * MS, on_done, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(q.start_ns, 1000);
	assert_int_equal(q.done_ns, 1000 + 10 * MS);
	assert_int_equal(db_model_next(m), UINT64_MAX);
	db_model_destroy(m);
}

static void test_pool_fifo(void **state)
{
	db_config c = config(100, 2, 10 * MS);
	db_model *m = db_model_create(&c, 0);
	db_query q[5];
	log_t l = {0};
	int i;

	(void)state;
	memset(q, 0, sizeof(q));
	for (i = 0; i < 5; i++) {
		q[i].module = DB_PROFILE;
		db_model_submit(m, &q[i], 0, on_done, &l);
	}
	assert_int_equal(db_model_busy(m, DB_PROFILE), 2);
	assert_int_equal(db_model_waiting(m, DB_PROFILE), 3);
	drain(m, &l);
	assert_int_equal(l.n, 5);
	/* Waves of two, in arrival order: queueing = service * depth / pool. */
	assert_ptr_equal(l.q[2], &q[2]);
	assert_ptr_equal(l.q[4], &q[4]);
	assert_int_equal(l.at[0], 10 * MS);
	assert_int_equal(l.at[1], 10 * MS);
	assert_int_equal(l.at[2], 20 * MS);
	assert_int_equal(l.at[3], 20 * MS);
	assert_int_equal(l.at[4], 30 * MS);
	assert_int_equal(q[4].start_ns, 20 * MS);
	/* Other modules have their own pools. */
	assert_int_equal(db_model_busy(m, DB_JOBS), 0);
	db_model_destroy(m);
}

static void test_processor_sharing(void **state)
{
	db_config c = config(2, 10, 10 * MS);
	db_model *m = db_model_create(&c, 0);
	db_query q[4];
	log_t l = {0};
	int i;

	(void)state;
	memset(q, 0, sizeof(q));
	/* Four queries on two slots: each runs at half speed. */
	for (i = 0; i < 4; i++)
		db_model_submit(m, &q[i], 0, on_done, &l);
	assert_int_equal(db_model_active(m), 4);
	drain(m, &l);
	assert_int_equal(l.n, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(l.at[i], 20 * MS);
	db_model_destroy(m);
}

static void test_processor_sharing_staggered(void **state)
{
	db_config c = config(1, 10, 10 * MS);
	db_model *m = db_model_create(&c, 0);
	db_query a = {0}, b = {0};
	log_t l = {0};

	(void)state;
	/* A alone for 5 ms (half done), then A and B share one slot: A needs
	 * 10 more ms, finishing at 15; B is half done then and alone: 20. */
	db_model_submit(m, &a, 0, on_done, &l);
	db_model_submit(m, &b, 5 * MS, on_done, &l);
	drain(m, &l);
	assert_int_equal(l.n, 2);
	assert_ptr_equal(l.q[0], &a);
	assert_true(l.at[0] >= 15 * MS && l.at[0] <= 15 * MS + 2);
	assert_true(l.at[1] >= 20 * MS && l.at[1] <= 20 * MS + 2);
	db_model_destroy(m);
}

static void test_work_conserving(void **state)
{
	db_config c = config(4, 100, 10 * MS);
	db_model *m = db_model_create(&c, 0);
	static db_query q[100];
	log_t l = {0};
	int i;

	(void)state;
	memset(q, 0, sizeof(q));
	for (i = 0; i < 100; i++) {
		q[i].module = DB_NOTIFICATIONS;
		db_model_submit(m, &q[i], 0, on_done, &l);
	}
	drain(m, &l);
	assert_int_equal(l.n, 100);
	/* 100 x 10 ms of work on 4 slots: everything ends at 250 ms. */
	assert_true(l.at[99] >= 250 * MS && l.at[99] <= 250 * MS + 100);
	db_model_destroy(m);
}

static void test_cost_and_jitter(void **state)
{
	db_config c = config(1000, 1000, 10 * MS);
	db_model *m;
	static db_query q[200];
	log_t l = {0};
	uint64_t lo = UINT64_MAX, hi = 0;
	int i;

	(void)state;
	c.jitter_pct = 10;
	c.seed = 42;
	m = db_model_create(&c, 0);
	memset(q, 0, sizeof(q));
	for (i = 0; i < 200; i++) {
		q[i].cost = 2;
		db_model_submit(m, &q[i], 0, on_done, &l);
	}
	for (i = 0; i < 200; i++) {
		lo = q[i].service_ns < lo ? q[i].service_ns : lo;
		hi = q[i].service_ns > hi ? q[i].service_ns : hi;
	}
	assert_true(lo >= 18 * MS && hi <= 22 * MS);
	assert_true(hi - lo > 2 * MS); /* it does spread */
	drain(m, &l);
	assert_int_equal(l.n, 200);
	db_model_destroy(m);
}

static void test_cache_hit_skips_pool(void **state)
{
	db_config c = config(10, 1, 10 * MS);
	db_model *m;
	db_query a = {.cache_key = 7}, b = {.cache_key = 8}, hit = {.cache_key = 7}, w = {0};
	log_t l = {0};

	(void)state;
	c.cache[DB_JOBS] = 10;
	m = db_model_create(&c, 0);
	db_model_submit(m, &a, 0, on_done, &l);
	drain(m, &l);
	assert_int_equal(a.cache_hit, 0);
	/* The pool's only connection is busy; a cached key does not wait. */
	db_model_submit(m, &b, 20 * MS, on_done, &l);
	db_model_submit(m, &hit, 21 * MS, on_done, &l);
	assert_int_equal(l.n, 2);
	assert_ptr_equal(l.q[1], &hit);
	assert_int_equal(hit.cache_hit, 1);
	assert_int_equal(hit.done_ns, 21 * MS);
	/* A write drops the key. */
	w.invalidate_key = 7;
	w.cache_key = 0;
	db_model_submit(m, &w, 22 * MS, on_done, &l);
	hit.cache_key = 7;
	db_model_submit(m, &hit, 23 * MS, on_done, &l);
	assert_int_equal(hit.cache_hit, 0);
	drain(m, &l);
	assert_int_equal(l.n, 5);
	/* Modules without a cache never hit. */
	db_model_destroy(m);
}

/* Six queries on a pool of 2 that may grow to 6; no jitter, a database
 * with room for all, so every time is exact. */
static db_model *resize_setup(db_query *q, int n, uint32_t pool, uint32_t max, log_t *l)
{
	db_config c = config(100, pool, 10 * MS);
	db_model *m;
	int i;

	c.pool_max[DB_PROFILE] = max;
	m = db_model_create(&c, 0);
	memset(q, 0, sizeof(*q) * (size_t)n);
	for (i = 0; i < n; i++) {
		q[i].module = DB_PROFILE;
		db_model_submit(m, &q[i], 0, on_done, l);
	}
	return m;
}

static void test_resize_grow_starts_waiters(void **state)
{
	db_query q[6];
	log_t l = {0};
	db_model *m = resize_setup(q, 6, 2, 6, &l);

	(void)state;
	assert_int_equal(db_model_waiting(m, DB_PROFILE), 4);
	/* Growing to 4 at 4 ms starts the two oldest waiters then, in order. */
	assert_int_equal(db_model_resize(m, DB_PROFILE, 4, 4 * MS, on_done, &l), 0);
	assert_int_equal(db_model_size(m, DB_PROFILE), 4);
	assert_int_equal(db_model_busy(m, DB_PROFILE), 4);
	assert_int_equal(db_model_waiting(m, DB_PROFILE), 2);
	assert_int_equal(q[2].start_ns, 4 * MS);
	assert_int_equal(q[3].start_ns, 4 * MS);
	drain(m, &l);
	assert_int_equal(l.n, 6);
	/* The first two free their connections at 10 ms: the last two start. */
	assert_int_equal(q[4].start_ns, 10 * MS);
	assert_int_equal(q[5].start_ns, 10 * MS);
	/* q[2] and q[3] end together, at 14 ms (in either order). */
	assert_true(l.q[2] == &q[2] || l.q[3] == &q[2]);
	assert_int_equal(q[2].done_ns, 14 * MS);
	assert_int_equal(l.at[0], 10 * MS);
	assert_int_equal(l.at[1], 10 * MS);
	assert_int_equal(l.at[2], 14 * MS);
	assert_int_equal(l.at[3], 14 * MS);
	assert_int_equal(l.at[4], 20 * MS);
	assert_int_equal(l.at[5], 20 * MS);
	/* Out of range: nothing changes. */
	assert_int_equal(db_model_resize(m, DB_PROFILE, 7, 30 * MS, on_done, &l), -1);
	assert_int_equal(db_model_resize(m, DB_PROFILE, 0, 30 * MS, on_done, &l), -1);
	assert_int_equal(db_model_size(m, DB_PROFILE), 4);
	/* Without pool_max a pool cannot grow past its size. */
	assert_int_equal(db_model_resize(m, DB_JOBS, 3, 30 * MS, on_done, &l), -1);
	db_model_destroy(m);
}

static void test_resize_shrink_waits_for_frees(void **state)
{
	db_query q[7];
	log_t l = {0};
	db_model *m = resize_setup(q, 7, 4, 4, &l);

	(void)state;
	/* Shrinking to 2 at 5 ms cancels nothing: four keep running. */
	assert_int_equal(db_model_resize(m, DB_PROFILE, 2, 5 * MS, on_done, &l), 0);
	assert_int_equal(db_model_busy(m, DB_PROFILE), 4);
	assert_int_equal(db_model_waiting(m, DB_PROFILE), 3);
	assert_int_equal(l.n, 0);
	/* At 10 ms the four finish; two connections are retired, so only two
	 * waiters start; the third waits for them. */
	db_model_advance(m, 10 * MS, on_done, &l);
	assert_int_equal(l.n, 4);
	assert_int_equal(db_model_busy(m, DB_PROFILE), 2);
	assert_int_equal(db_model_waiting(m, DB_PROFILE), 1);
	assert_int_equal(q[4].start_ns, 10 * MS);
	assert_int_equal(q[5].start_ns, 10 * MS);
	drain(m, &l);
	assert_int_equal(l.n, 7);
	assert_int_equal(q[6].start_ns, 20 * MS);
	assert_int_equal(l.at[6], 30 * MS);
	/* A new query on the shrunk pool waits as usual. */
	db_model_submit(m, &q[0], 40 * MS, on_done, &l);
	db_model_submit(m, &q[1], 40 * MS, on_done, &l);
	db_model_submit(m, &q[2], 40 * MS, on_done, &l);
	assert_int_equal(db_model_waiting(m, DB_PROFILE), 1);
	drain(m, &l);
	assert_int_equal(q[2].start_ns, 50 * MS);
	db_model_destroy(m);
}

/* The heap is sized for every pool's max: growing all of them under load
 * (on one slot, so all stay active) must fit (ASan checks the bounds). */
static void test_resize_all_to_max(void **state)
{
	enum { PER = 50 };
	db_config c = config(1, 1, 1 * MS);
	static db_query q[DB_MODULES * PER];
	log_t l = {0};
	db_model *m;
	int i;

	(void)state;
	for (i = 0; i < DB_MODULES; i++)
		c.pool_max[i] = PER;
	m = db_model_create(&c, 0);
	memset(q, 0, sizeof(q));
	for (i = 0; i < DB_MODULES * PER; i++) {
		q[i].module = (uint16_t)(i % DB_MODULES);
		db_model_submit(m, &q[i], 0, on_done, &l);
	}
	for (i = 0; i < DB_MODULES; i++)
		assert_int_equal(db_model_resize(m, i, PER, 0, on_done, &l), 0);
	assert_int_equal(db_model_active(m), DB_MODULES * PER);
	/* 200 queries of 1 ms sharing one slot, all started at 0: all end at 200 ms. */
	drain(m, &l);
	assert_int_equal(l.n, DB_MODULES * PER);
	assert_true(l.at[DB_MODULES * PER - 1] >= 200 * MS && l.at[DB_MODULES * PER - 1] <= 200 * MS + 200);
	db_model_destroy(m);
}

static void test_lru(void **state)
{
	lru *c = lru_create(3);
	int i;

	(void)state;
	lru_put(c, 1);
	lru_put(c, 2);
	lru_put(c, 3);
	assert_int_equal(lru_size(c), 3);
	assert_true(lru_get(c, 1)); /* 1 is now the most recent; 2 the least */
	lru_put(c, 4);
	assert_int_equal(lru_size(c), 3);
	assert_false(lru_get(c, 2));
	assert_true(lru_get(c, 1));
	assert_true(lru_get(c, 3));
	assert_true(lru_get(c, 4));
	lru_remove(c, 3);
	lru_remove(c, 3);
	assert_int_equal(lru_size(c), 2);
	lru_put(c, 5);
	lru_put(c, 6); /* evicts 1 (least recent of 1, 4, 5) */
	assert_false(lru_get(c, 1));
	assert_true(lru_get(c, 6));
	lru_destroy(c);
	/* Churn through many keys with colliding buckets. */
	c = lru_create(100);
	for (i = 0; i < 100000; i++)
		lru_put(c, (uint64_t)i * 1024);
	assert_int_equal(lru_size(c), 100);
	for (i = 0; i < 100000 - 100; i += 997)
		assert_false(lru_get(c, (uint64_t)i * 1024));
	for (i = 100000 - 100; i < 100000; i++)
		assert_true(lru_get(c, (uint64_t)i * 1024));
	lru_destroy(c);
	lru_destroy(NULL);
}

static void test_module_names(void **state)
{
	(void)state;
	assert_int_equal(db_module_find("profile", 7), DB_PROFILE);
	assert_int_equal(db_module_find("jobs=3", 4), DB_JOBS);
	assert_int_equal(db_module_find("job", 3), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_query),
		cmocka_unit_test(test_pool_fifo),
		cmocka_unit_test(test_processor_sharing),
		cmocka_unit_test(test_processor_sharing_staggered),
		cmocka_unit_test(test_work_conserving),
		cmocka_unit_test(test_cost_and_jitter),
		cmocka_unit_test(test_cache_hit_skips_pool),
		cmocka_unit_test(test_resize_grow_starts_waiters),
		cmocka_unit_test(test_resize_shrink_waits_for_frees),
		cmocka_unit_test(test_resize_all_to_max),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_module_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
