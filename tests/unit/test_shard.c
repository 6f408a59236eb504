/* Metric shards (metrics/shard): recording the same samples into one shard,
 * or spread over worker shards merged as the collector does (worker ->
 * interval -> total, clearing workers between intervals), gives the same
 * counters, rates, trends and gauges, the same touched series and the same
 * raw samples; clear keeps storage but forgets values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/clock.h"
#include "metrics/query.h"
#include "metrics/registry.h"
#include "metrics/shard.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const uint32_t metrics[] = {MET_HTTP_REQS,   MET_DATA_SENT,         MET_HTTP_REQ_FAILED, MET_CHECKS,
				   MET_HTTP_REQ_DURATION, MET_ITERATION_DURATION, MET_VUS};
enum { TAGSETS = 6, WORKERS = 4, INTERVALS = 5, SAMPLES = 120000 };

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

typedef struct world {
	met_registry *reg;
	uint32_t series[N_ELEMS(metrics) * TAGSETS];
	uint32_t nseries;
} world;

static void world_init(world *w)
{
	uint32_t m, t;

	memset(w, 0, sizeof(*w));
	w->reg = met_registry_create();
	for (t = 0; t < TAGSETS; t++) {
		static const char *const mods[] = {"a", "b", "c"};
		met_tag tags[2] = {{"module", mods[t % 3]}, {"status", t < 3 ? "200" : "500"}};
		uint32_t ts = met_tagset_intern(w->reg, tags, t == 0 ? 0 : 2);

		for (m = 0; m < N_ELEMS(metrics); m++)
			w->series[w->nseries++] = met_series_intern(w->reg, metrics[m], ts);
	}
}

static met_type type_of(const world *w, uint32_t series)
{
	return met_metric(w->reg, met_series_metric(w->reg, series))->type;
}

/* Records one sample of series s; the value is a whole number so counter
 * sums are exact in any order. */
static void record(met_shard *sh, const world *w, uint32_t s, uint64_t x, uint64_t when)
{
	met_shard_stamp(sh, when, (uint32_t)(x % 7) + 1, x % 13);
	switch (type_of(w, s)) {
	case MET_COUNTER:
		met_shard_add(sh, w->reg, s, (double)(x % 100000));
		break;
	case MET_RATE:
		met_shard_rate(sh, w->reg, s, x % 10 == 0);
		break;
	case MET_TREND:
		met_shard_trend(sh, w->reg, s, x % (60 * NS_PER_SEC)); /* up to a minute */
		break;
	case MET_GAUGE:
		met_shard_gauge(sh, w->reg, s, (double)(x % 1000));
		break;
	}
}

static const met_cell *cell_or_null(const met_shard *sh, uint32_t s)
{
	return s < sh->cap && sh->cells[s].n ? &sh->cells[s] : NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_sample(const void *a, const void *b)
{
	const met_sample *x = a, *y = b;

	if (x->wall_ns != y->wall_ns)
		return x->wall_ns < y->wall_ns ? -1 : 1;
	return memcmp(x, y, sizeof(*x));
}

/* Every series' cell, the touched set and the sample log agree. */
static void assert_shards_equal(const world *w, const met_shard *want, const met_shard *got)
{
	uint32_t i, *a, *b;

	for (i = 0; i < w->nseries; i++) {
		uint32_t s = w->series[i];
		const met_cell *x = cell_or_null(want, s), *y = cell_or_null(got, s);

		if (!x || !y) {
			if (x != y)
				fail_msg("series %u: recorded in only one shard", s);
			continue;
		}
		if (x->n != y->n)
			fail_msg("series %u: %llu samples vs %llu", s, (unsigned long long)x->n, (unsigned long long)y->n);
		switch (type_of(w, s)) {
		case MET_COUNTER:
			assert_true(x->u.sum == y->u.sum);
			break;
		case MET_RATE:
			assert_int_equal(x->u.rate.nonzero, y->u.rate.nonzero);
			break;
		case MET_TREND:
			assert_int_equal(x->hist->count, y->hist->count);
			assert_int_equal(x->hist->sum, y->hist->sum);
			assert_int_equal(x->hist->min, y->hist->min);
			assert_int_equal(x->hist->max, y->hist->max);
			assert_memory_equal(x->hist->counts, y->hist->counts, sizeof(x->hist->counts));
			break;
		case MET_GAUGE:
			assert_true(x->u.gauge.value == y->u.gauge.value);
			assert_true(x->u.gauge.min == y->u.gauge.min);
			assert_true(x->u.gauge.max == y->u.gauge.max);
			break;
		}
	}
	/* The same series touched, each once (order may differ). */
	assert_int_equal(want->ntouched, got->ntouched);
	a = malloc((want->ntouched + 1) * sizeof(*a));
	b = malloc((got->ntouched + 1) * sizeof(*b));
	memcpy(a, want->touched, want->ntouched * sizeof(*a));
	memcpy(b, got->touched, got->ntouched * sizeof(*b));
	qsort(a, want->ntouched, sizeof(*a), cmp_u32);
	qsort(b, got->ntouched, sizeof(*b), cmp_u32);
	assert_memory_equal(a, b, want->ntouched * sizeof(*a));
	for (i = 1; i < want->ntouched; i++)
		assert_true(a[i - 1] != a[i]);
	free(a);
	free(b);
	/* The same raw samples (merging appends, so compare sorted by time). */
	assert_int_equal(want->nsamples, got->nsamples);
	if (want->nsamples) {
		met_sample *x = malloc(want->nsamples * sizeof(*x)), *y = malloc(got->nsamples * sizeof(*y));

		memcpy(x, want->samples, want->nsamples * sizeof(*x));
		memcpy(y, got->samples, got->nsamples * sizeof(*y));
		qsort(x, want->nsamples, sizeof(*x), cmp_sample);
		qsort(y, got->nsamples, sizeof(*y), cmp_sample);
		assert_memory_equal(x, y, want->nsamples * sizeof(*x));
		free(x);
		free(y);
	}
}

/* The collector's path: per interval, each worker records its share, the
 * workers' shards merge into the interval, the interval into the total,
 * then everything but the total is cleared. Gauges are sampled by the
 * collector itself (one writer), so they go to the interval in time order. */
static void run_merged_vs_single(int keep_samples)
{
	world w;
	met_shard all, total, interval, workers[WORKERS];
	uint64_t i;
	uint32_t k;

	world_init(&w);
	met_shard_init(&all);
	met_shard_init(&total);
	met_shard_init(&interval);
	all.keep_samples = total.keep_samples = interval.keep_samples = keep_samples;
	for (k = 0; k < WORKERS; k++) {
		met_shard_init(&workers[k]);
		workers[k].keep_samples = keep_samples;
	}
	for (i = 0; i < SAMPLES; i++) {
		uint64_t x = next_rand();
		/* Skew: some series are busy, some rare, a few never recorded. */
		uint32_t s = w.series[(x >> 40) % (x & 1 ? w.nseries : w.nseries / 3)];

		record(&all, &w, s, x, i);
		if (type_of(&w, s) == MET_GAUGE)
			record(&interval, &w, s, x, i);
		else
			record(&workers[(x >> 20) % WORKERS], &w, s, x, i);
		if ((i + 1) % (SAMPLES / INTERVALS) == 0) {
			for (k = 0; k < WORKERS; k++) {
				met_shard_merge(&interval, w.reg, &workers[k]);
				met_shard_clear(&workers[k]);
			}
			met_shard_merge(&total, w.reg, &interval);
			met_shard_clear(&interval);
		}
	}
	assert_shards_equal(&w, &all, &total);
	/* A thresholds-style query agrees too, filtered or not. */
	{
		met_tag f[] = {{"module", "b"}};
		met_agg qa, qt;

		met_agg_init(&qa);
		met_agg_init(&qt);
		assert_int_equal(met_query(&all, w.reg, MET_HTTP_REQ_DURATION, f, 1, &qa),
				 met_query(&total, w.reg, MET_HTTP_REQ_DURATION, f, 1, &qt));
		assert_int_equal(qa.n, qt.n);
		assert_true(qa.n > 0);
		assert_memory_equal(qa.hist->counts, qt.hist->counts, sizeof(qa.hist->counts));
		met_agg_free(&qa);
		met_agg_free(&qt);
	}
	for (k = 0; k < WORKERS; k++)
		met_shard_free(&workers[k]);
	met_shard_free(&interval);
	met_shard_free(&total);
	met_shard_free(&all);
	met_registry_destroy(w.reg);
}

static void test_merged_equals_single(void **state)
{
	(void)state;
	run_merged_vs_single(0);
}

static void test_merged_equals_single_with_samples(void **state)
{
	(void)state;
	run_merged_vs_single(1);
}

static void test_each_type_merges(void **state)
{
	met_registry *reg = met_registry_create();
	uint32_t reqs = met_series_intern(reg, MET_HTTP_REQS, 0), failed = met_series_intern(reg, MET_HTTP_REQ_FAILED, 0),
		 dur = met_series_intern(reg, MET_HTTP_REQ_DURATION, 0), vus = met_series_intern(reg, MET_VUS, 0);
	met_shard a, b;

	(void)state;
	met_shard_init(&a);
	met_shard_init(&b);
	met_shard_add(&a, reg, reqs, 3);
	met_shard_add(&a, reg, reqs, 4);
	met_shard_add(&b, reg, reqs, 10);
	met_shard_rate(&a, reg, failed, 1);
	met_shard_rate(&a, reg, failed, 0);
	met_shard_rate(&b, reg, failed, 7); /* any non-zero is one pass */
	met_shard_rate(&b, reg, failed, 0);
	met_shard_trend(&a, reg, dur, 5 * NS_PER_MS);
	met_shard_trend(&b, reg, dur, 1 * NS_PER_MS);
	met_shard_trend(&b, reg, dur, 9 * NS_PER_MS);
	met_shard_gauge(&a, reg, vus, 10);
	met_shard_gauge(&a, reg, vus, 2);
	met_shard_gauge(&b, reg, vus, 5);
	met_shard_merge(&a, reg, &b);
	/* Counter: sums and counts add. */
	assert_int_equal(a.cells[reqs].n, 3);
	assert_true(a.cells[reqs].u.sum == 17);
	/* Rate: passes and totals add. */
	assert_int_equal(a.cells[failed].n, 4);
	assert_int_equal(a.cells[failed].u.rate.nonzero, 2);
	/* Trend: histograms add, min and max exact. */
	assert_int_equal(a.cells[dur].n, 3);
	assert_int_equal(a.cells[dur].hist->count, 3);
	assert_int_equal(a.cells[dur].hist->min, 1 * NS_PER_MS);
	assert_int_equal(a.cells[dur].hist->max, 9 * NS_PER_MS);
	assert_int_equal(a.cells[dur].hist->sum, 15 * NS_PER_MS);
	/* Gauge: the later (merged-in) value wins, min and max widen. */
	assert_int_equal(a.cells[vus].n, 3);
	assert_true(a.cells[vus].u.gauge.value == 5);
	assert_true(a.cells[vus].u.gauge.min == 2);
	assert_true(a.cells[vus].u.gauge.max == 10);
	/* b is untouched by being merged from. */
	assert_int_equal(b.cells[reqs].n, 1);
	assert_true(b.cells[vus].u.gauge.value == 5);
	met_shard_free(&a);
	met_shard_free(&b);
	met_registry_destroy(reg);
}

static void test_merge_into_empty_and_from_empty(void **state)
{
	met_registry *reg = met_registry_create();
	uint32_t s[64], i;
	met_shard src, dst, empty;

	(void)state;
	/* Series ids past the destination's capacity make it grow. */
	for (i = 0; i < 64; i++) {
		char v[8];
		met_tag t = {"n", v};

		snprintf(v, sizeof(v), "%u", i);
		s[i] = met_series_intern(reg, i % 2 ? MET_HTTP_REQ_WAITING : MET_ITERATIONS, met_tagset_intern(reg, &t, 1));
	}
	met_shard_init(&src);
	met_shard_init(&dst);
	met_shard_init(&empty);
	for (i = 0; i < 64; i += 3) {
		if (i % 2)
			met_shard_trend(&src, reg, s[i], i * NS_PER_US);
		else
			met_shard_add(&src, reg, s[i], i);
	}
	met_shard_merge(&dst, reg, &empty);
	assert_int_equal(dst.ntouched, 0);
	met_shard_merge(&dst, reg, &src);
	met_shard_merge(&dst, reg, &empty);
	assert_int_equal(dst.ntouched, src.ntouched);
	for (i = 0; i < 64; i++) {
		const met_cell *c = cell_or_null(&dst, s[i]);

		if (i % 3) {
			assert_null(c);
			continue;
		}
		assert_non_null(c);
		assert_int_equal(c->n, 1);
		if (i % 2)
			assert_int_equal(c->hist->max, i * NS_PER_US);
		else
			assert_true(c->u.sum == i);
	}
	met_shard_free(&src);
	met_shard_free(&dst);
	met_shard_free(&empty);
	met_registry_destroy(reg);
}

static void test_clear_keeps_storage_forgets_values(void **state)
{
	met_registry *reg = met_registry_create();
	uint32_t dur = met_series_intern(reg, MET_HTTP_REQ_DURATION, 0), reqs = met_series_intern(reg, MET_HTTP_REQS, 0);
	met_shard a, fresh;
	met_hist *h;
	met_cell *cells;

	(void)state;
	met_shard_init(&a);
	met_shard_init(&fresh);
	a.keep_samples = 1;
	met_shard_trend(&a, reg, dur, 3 * NS_PER_MS);
	met_shard_add(&a, reg, reqs, 1);
	h = a.cells[dur].hist;
	cells = a.cells;
	met_shard_clear(&a);
	assert_int_equal(a.ntouched, 0);
	assert_int_equal(a.nsamples, 0);
	assert_int_equal(a.cells[dur].n, 0);
	assert_int_equal(a.cells[reqs].n, 0);
	assert_true(a.cells[reqs].u.sum == 0);
	/* The histogram stays (recording never allocates once warm), emptied. */
	assert_ptr_equal(a.cells[dur].hist, h);
	assert_ptr_equal(a.cells, cells);
	assert_int_equal(h->count, 0);
	/* Recording after a clear is the same as recording into a new shard. */
	met_shard_trend(&a, reg, dur, 7 * NS_PER_MS);
	met_shard_trend(&fresh, reg, dur, 7 * NS_PER_MS);
	assert_int_equal(a.cells[dur].hist->min, 7 * NS_PER_MS);
	assert_memory_equal(a.cells[dur].hist->counts, fresh.cells[dur].hist->counts, sizeof(h->counts));
	assert_int_equal(a.ntouched, 1);
	assert_int_equal(a.nsamples, 1);
	assert_true(a.samples[0].value == (double)(7 * NS_PER_MS));
	met_shard_free(&a);
	met_shard_free(&fresh);
	met_shard_free(&fresh); /* free leaves an empty shard: safe again */
	met_registry_destroy(reg);
}

static void test_samples_carry_stamp(void **state)
{
	met_registry *reg = met_registry_create();
	uint32_t reqs = met_series_intern(reg, MET_HTTP_REQS, 0), i;
	met_shard a, b;

	(void)state;
	met_shard_init(&a);
	met_shard_init(&b);
	b.keep_samples = 1;
	/* A shard without keep_samples logs nothing. */
	met_shard_add(&a, reg, reqs, 1);
	assert_int_equal(a.nsamples, 0);
	/* Past the first 4096, the log grows and keeps every one in order. */
	for (i = 0; i < 10000; i++) {
		met_shard_stamp(&b, 1000 + i, i % 50 + 1, i / 50);
		met_shard_add(&b, reg, reqs, i);
	}
	assert_int_equal(b.nsamples, 10000);
	for (i = 0; i < 10000; i += 777) {
		assert_int_equal(b.samples[i].wall_ns, 1000 + i);
		assert_int_equal(b.samples[i].vu, i % 50 + 1);
		assert_int_equal(b.samples[i].iter, i / 50);
		assert_int_equal(b.samples[i].series, reqs);
		assert_true(b.samples[i].value == i);
	}
	/* Merging into a shard without a log keeps values, not samples. */
	met_shard_merge(&a, reg, &b);
	assert_int_equal(a.nsamples, 0);
	assert_int_equal(a.cells[reqs].n, 10001);
	met_shard_free(&a);
	met_shard_free(&b);
	met_registry_destroy(reg);
}

/* The raw log stops at its maximum: values still count, further samples of
 * the interval are counted lost (arrival records are not points), an
 * arrival record is kept only with room for its sample, a merge keeps what
 * fits and counts the rest, and clear makes room again. */
static void test_sample_log_is_bounded(void **state)
{
	met_registry *reg = met_registry_create();
	uint32_t reqs = met_series_intern(reg, MET_HTTP_REQS, 0), i;
	met_shard w, iv;

	(void)state;
	met_shard_init(&w);
	met_shard_init(&iv);
	w.keep_samples = w.keep_arrivals = 1;
	w.samples_max = 100;
	iv.keep_samples = 1;
	iv.samples_max = 150;
	for (i = 0; i < 99; i++)
		met_shard_add(&w, reg, reqs, 1);
	/* One slot left: an arrival record needs two, so neither it nor its
	 * sample is kept, and nothing after it this interval. */
	met_shard_arrival(&w, 5, 7);
	met_shard_add(&w, reg, reqs, 1);
	met_shard_add(&w, reg, reqs, 1);
	assert_int_equal(w.nsamples, 99);
	assert_int_equal(w.samples_lost, 2);
	assert_int_equal(w.cells[reqs].n, 101);
	assert_true(w.samples_cap <= 100);
	/* Into the interval: all 99 fit (150). */
	met_shard_merge(&iv, reg, &w);
	assert_int_equal(iv.nsamples, 99);
	assert_int_equal(iv.samples_lost, 2);
	/* After clear the worker logs again: an arrival pair at the cut. */
	met_shard_clear(&w);
	assert_int_equal(w.samples_lost, 0);
	for (i = 0; i < 25; i++) {
		met_shard_arrival(&w, 10 + i, i);
		met_shard_add(&w, reg, reqs, 1);
	}
	assert_int_equal(w.nsamples, 50);
	/* 51 slots left in the interval: 25 pairs fit (50), the cut falls
	 * between pairs, nothing more is lost... */
	met_shard_merge(&iv, reg, &w);
	assert_int_equal(iv.nsamples, 149);
	assert_int_equal(iv.samples_lost, 2);
	/* ...and a second merge finds one slot, which no pair fits: 25 lost
	 * samples, their records not counted. */
	met_shard_merge(&iv, reg, &w);
	assert_int_equal(iv.nsamples, 149);
	assert_int_equal(iv.samples_lost, 27);
	assert_true(met_sample_is_arrival(&iv.samples[147]));
	assert_false(met_sample_is_arrival(&iv.samples[148]));
	assert_int_equal(iv.cells[reqs].n, 151);
	met_shard_clear(&iv);
	assert_int_equal(iv.samples_lost, 0);
	met_shard_free(&w);
	met_shard_free(&iv);
	met_registry_destroy(reg);
}

/* Resident pages of the log's mapping from byte off on (mincore). */
static size_t log_resident_from(const met_shard *s, size_t off)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), n, i, k = 0;
	unsigned char *v;

	off = (off + ps - 1) / ps * ps;
	n = (s->log.cap - off) / ps;
	v = malloc(n + 1);
	assert_int_equal(mincore((char *)s->log.p + off, n * ps, v), 0);
	for (i = 0; i < n; i++)
		k += v[i] & 1;
	free(v);
	return k;
}

/* One interval far bigger than the others (a collector that ran late)
 * grows the log, but its pages are given back at the next clear, and the
 * short interval after a late one keeps what the steady ones need: the log
 * holds what the steady intervals need, not the busiest one's. */
static void test_sample_log_gives_back_a_spike(void **state)
{
	met_registry *reg = met_registry_create();
	uint32_t reqs = met_series_intern(reg, MET_HTTP_REQS, 0), i;
	enum { STEADY = 20000, SPIKE = 200000 };
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), steady_bytes = STEADY * sizeof(met_sample);
	size_t keep = steady_bytes + steady_bytes / 64 + ps;
	met_shard w;
	int k;

	(void)state;
	met_shard_init(&w);
	w.keep_samples = 1;
	for (k = 0; k < 3; k++) {
		for (i = 0; i < STEADY; i++)
			met_shard_add(&w, reg, reqs, 1);
		met_shard_clear(&w);
	}
	for (i = 0; i < SPIKE; i++)
		met_shard_add(&w, reg, reqs, 1);
	assert_true(w.samples_cap >= SPIKE);
	met_shard_clear(&w);
	/* The short interval after the late one: the spike goes back, the
	 * steady need stays resident. */
	for (i = 0; i < STEADY / 2; i++)
		met_shard_add(&w, reg, reqs, 1);
	met_shard_clear(&w);
	assert_int_equal(log_resident_from(&w, keep), 0);
	assert_true(log_resident_from(&w, 0) >= steady_bytes / ps);
	/* Recording goes on in the same log, at any size up to its cap. */
	assert_true(w.samples_cap >= SPIKE);
	for (i = 0; i < SPIKE; i++)
		met_shard_add(&w, reg, reqs, (double)i);
	assert_int_equal(w.nsamples, SPIKE);
	assert_true(w.samples[SPIKE - 1].value == SPIKE - 1);
	met_shard_free(&w);
	met_registry_destroy(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merged_equals_single),
		cmocka_unit_test(test_merged_equals_single_with_samples),
		cmocka_unit_test(test_each_type_merges),
		cmocka_unit_test(test_merge_into_empty_and_from_empty),
		cmocka_unit_test(test_clear_keeps_storage_forgets_values),
		cmocka_unit_test(test_samples_carry_stamp),
		cmocka_unit_test(test_sample_log_is_bounded),
		cmocka_unit_test(test_sample_log_gives_back_a_spike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
