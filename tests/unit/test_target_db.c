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
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_module_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
