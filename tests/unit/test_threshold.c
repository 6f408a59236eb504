/* Thresholds in k6's syntax (metrics/threshold): what parses into what,
 * what is refused and with which message, how each aggregation evaluates
 * against recorded samples (tag filters and `!tag` included), and the
 * abortOnFail / delayAbortEval forms a plan may write them in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "engine/run.h"
#include "metrics/registry.h"
#include "metrics/shard.h"
#include "metrics/threshold.h"
#include "plan/plan.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_parse_good(void **state)
{
	static const struct {
		const char *metric, *expr;
		uint32_t id;
		th_agg agg;
		double pct;
		th_op op;
		double value;
		uint32_t nfilter;
	} cases[] = {
		{"http_req_duration", "p(95)<200", MET_HTTP_REQ_DURATION, TH_PCT, 95, TH_LT, 200, 0},
		{"http_req_duration", "p(99.9)<=1500", MET_HTTP_REQ_DURATION, TH_PCT, 99.9, TH_LE, 1500, 0},
		{"http_req_duration", "p(0)>0", MET_HTTP_REQ_DURATION, TH_PCT, 0, TH_GT, 0, 0},
		{"http_req_duration", "p(100)<1e4", MET_HTTP_REQ_DURATION, TH_PCT, 100, TH_LT, 10000, 0},
		{"http_req_duration", "  p(90) < 300  ", MET_HTTP_REQ_DURATION, TH_PCT, 90, TH_LT, 300, 0},
		{"http_req_waiting", "avg<200", MET_HTTP_REQ_WAITING, TH_AVG, 0, TH_LT, 200, 0},
		{"iteration_duration", "med>=1.5", MET_ITERATION_DURATION, TH_MED, 0, TH_GE, 1.5, 0},
		{"group_duration", "min>0", MET_GROUP_DURATION, TH_MIN, 0, TH_GT, 0, 0},
		{"http_req_blocked", "max!=7", MET_HTTP_REQ_BLOCKED, TH_MAX, 0, TH_NE, 7, 0},
		{"http_req_failed", "rate<0.01", MET_HTTP_REQ_FAILED, TH_RATE, 0, TH_LT, 0.01, 0},
		{"checks", "rate>0.99", MET_CHECKS, TH_RATE, 0, TH_GT, 0.99, 0},
		{"http_reqs", "count>100", MET_HTTP_REQS, TH_COUNT, 0, TH_GT, 100, 0},
		{"http_reqs", "rate>=50", MET_HTTP_REQS, TH_RATE, 0, TH_GE, 50, 0},
		{"iterations", "count==20", MET_ITERATIONS, TH_COUNT, 0, TH_EQ, 20, 0},
		{"data_received", "count>1048576", MET_DATA_RECEIVED, TH_COUNT, 0, TH_GT, 1048576, 0},
		{"dropped_iterations", "count<=0", MET_DROPPED_ITERATIONS, TH_COUNT, 0, TH_LE, 0, 0},
		{"vus", "value<=50", MET_VUS, TH_VALUE, 0, TH_LE, 50, 0},
		{"vus_max", "max<100", MET_VUS_MAX, TH_MAX, 0, TH_LT, 100, 0},
		{"vus", "min>=1", MET_VUS, TH_MIN, 0, TH_GE, 1, 0},
		{"http_req_duration", "avg<-1", MET_HTTP_REQ_DURATION, TH_AVG, 0, TH_LT, -1, 0},
		{"http_req_duration{module:profile}", "p(95)<2000", MET_HTTP_REQ_DURATION, TH_PCT, 95, TH_LT, 2000, 1},
		{"http_req_duration{module:profile,name:profile view}", "max<20000", MET_HTTP_REQ_DURATION, TH_MAX, 0,
		 TH_LT, 20000, 2},
		{" http_req_duration { module : a , status : 200 }", "avg<1", MET_HTTP_REQ_DURATION, TH_AVG, 0, TH_LT, 1,
		 2},
		{"http_req_duration{!group:::setup}", "p(95)<1", MET_HTTP_REQ_DURATION, TH_PCT, 95, TH_LT, 1, 1},
		{"checks{check:login: status is 200}", "rate>0.9", MET_CHECKS, TH_RATE, 0, TH_GT, 0.9, 1},
		{"http_reqs{status:}", "count>0", MET_HTTP_REQS, TH_COUNT, 0, TH_GT, 0, 1},
	};
	met_registry *reg = met_registry_create();
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		met_threshold t;
		char err[256] = "";
		int in_expr = -1;

		if (met_threshold_parse(&t, cases[i].metric, cases[i].expr, reg, err, sizeof(err), &in_expr) != 0)
			fail_msg("'%s': '%s' rejected: %s", cases[i].metric, cases[i].expr, err);
		assert_int_equal(t.metric, cases[i].id);
		assert_int_equal(t.agg, cases[i].agg);
		assert_int_equal(t.op, cases[i].op);
		assert_true(t.value == cases[i].value);
		if (cases[i].agg == TH_PCT)
			assert_true(t.pct == cases[i].pct);
		assert_int_equal(t.nfilter, cases[i].nfilter);
		assert_string_equal(t.source, cases[i].metric);
		assert_string_equal(t.expr, cases[i].expr);
		assert_false(t.abort_on_fail);
		met_threshold_free(&t);
	}
	met_registry_destroy(reg);
}

static void test_parse_filters(void **state)
{
	met_registry *reg = met_registry_create();
	met_threshold t;
	char err[256];
	int in_expr;

	(void)state;
	/* Blanks around names and values go; the first ':' splits. */
	assert_int_equal(met_threshold_parse(&t, "http_req_duration{ module : a b ,group:::setup::x}", "avg<1", reg,
					     err, sizeof(err), &in_expr),
			 0);
	assert_int_equal(t.nfilter, 2);
	assert_string_equal(t.filter[0].key, "module");
	assert_string_equal(t.filter[0].value, "a b");
	assert_string_equal(t.filter[1].key, "group");
	assert_string_equal(t.filter[1].value, "::setup::x");
	met_threshold_free(&t);
	assert_int_equal(met_threshold_parse(&t, "http_req_duration{!group:::setup}", "avg<1", reg, err, sizeof(err),
					     &in_expr),
			 0);
	assert_string_equal(t.filter[0].key, "!group");
	assert_string_equal(t.filter[0].value, "::setup");
	met_threshold_free(&t);
	/* A custom metric is found like a built-in. */
	assert_true(met_metric_add(reg, "my_trend", MET_TREND, MET_TIME) >= 0);
	assert_int_equal(met_threshold_parse(&t, "my_trend{k:v}", "p(50)<3", reg, err, sizeof(err), &in_expr), 0);
	assert_int_equal(t.metric, met_metric_find(reg, "my_trend"));
	met_threshold_free(&t);
	met_registry_destroy(reg);
}

static void test_parse_bad(void **state)
{
	static const struct {
		const char *metric, *expr;
		int in_expr;      /* the message is about the expression (1) or the metric (0) */
		const char *says; /* a part of the message */
	} cases[] = {
		{"http_req_durations", "p(95)<200", 0, "unknown metric 'http_req_durations'"},
		{"", "avg<1", 0, "unknown metric"},
		{"{module:a}", "avg<1", 0, "unknown metric"},
		{"http_req_duration{module}", "avg<1", 0, "expected key:value"},
		{"http_req_duration{module:a,group}", "avg<1", 0, "expected key:value"},
		{"http_req_duration{:a}", "avg<1", 0, "empty tag name"},
		{"http_req_duration{ :a}", "avg<1", 0, "empty tag name"},
		{"http_req_duration{module:a", "avg<1", 0, "expected METRIC{tag:value,...}"},
		{"http_req_duration{module:a}x", "avg<1", 0, "expected METRIC{tag:value,...}"},
		{"http_req_duration", "", 1, "expected p(N), avg"},
		{"http_req_duration", "p95<200", 1, "expected p(N), avg"},
		{"http_req_duration", "P(95)<200", 1, "expected p(N), avg"},
		{"http_req_duration", "mean<200", 1, "expected p(N), avg"},
		{"http_req_duration", "p(95<200", 1, "expected p(N) with N from 0 to 100"},
		{"http_req_duration", "p()<200", 1, "expected p(N) with N from 0 to 100"},
		{"http_req_duration", "p(abc)<200", 1, "expected p(N) with N from 0 to 100"},
		{"http_req_duration", "p(101)<200", 1, "expected p(N) with N from 0 to 100"},
		{"http_req_duration", "p(-1)<200", 1, "expected p(N) with N from 0 to 100"},
		{"http_req_duration", "avg", 1, "expected a comparison"},
		{"http_req_duration", "avg=200", 1, "expected a comparison"},
		{"http_req_duration", "avg=>200", 1, "expected a comparison"},
		{"http_req_duration", "average<200", 1, "expected p(N), avg"},
		{"http_req_duration", "avgx<200", 1, "expected a comparison"},
		{"http_req_duration", "maximum<200", 1, "expected a comparison"},
		{"http_req_duration", "avg<", 1, "expected a number"},
		{"http_req_duration", "avg< ", 1, "expected a number"},
		{"http_req_duration", "avg<abc", 1, "expected a number"},
		{"http_req_duration", "avg<200ms", 1, "expected a number"},
		{"http_req_duration", "avg<200 300", 1, "expected a number"},
		{"http_req_duration", "avg<<200", 1, "expected a number"},
		{"http_req_duration", "avg<inf", 1, "expected a number"},
		{"http_req_duration", "avg<nan", 1, "expected a number"},
		{"http_req_duration", "avg<1e999", 1, "expected a number"},
		/* The aggregation must suit the metric's type. */
		{"http_req_duration", "rate<0.1", 1, "http_req_duration is a trend; use p(N), avg, min, max or med"},
		{"http_req_duration", "count>1", 1, "is a trend"},
		{"http_req_duration", "value>1", 1, "is a trend"},
		{"http_req_failed", "p(95)<1", 1, "http_req_failed is a rate; use rate"},
		{"http_req_failed", "count<1", 1, "is a rate"},
		{"checks", "avg>0.5", 1, "is a rate"},
		{"http_reqs", "p(95)<1", 1, "http_reqs is a counter; use count or rate"},
		{"http_reqs", "avg<1", 1, "is a counter"},
		{"http_reqs", "value<1", 1, "is a counter"},
		{"vus", "count>1", 1, "vus is a gauge; use value, min or max"},
		{"vus", "rate>1", 1, "is a gauge"},
		{"vus", "p(50)>1", 1, "is a gauge"},
		{"vus", "avg>1", 1, "is a gauge"},
	};
	met_registry *reg = met_registry_create();
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		met_threshold t;
		char err[256] = "";
		int in_expr = -1;

		if (met_threshold_parse(&t, cases[i].metric, cases[i].expr, reg, err, sizeof(err), &in_expr) == 0)
			fail_msg("'%s': '%s' accepted", cases[i].metric, cases[i].expr);
		if (!strstr(err, cases[i].says))
			fail_msg("'%s': '%s': message '%s' does not say '%s'", cases[i].metric, cases[i].expr, err,
				 cases[i].says);
		if (in_expr != cases[i].in_expr)
			fail_msg("'%s': '%s': error placed in the %s", cases[i].metric, cases[i].expr,
				 in_expr ? "expression" : "metric");
		/* After a failure, free releases whatever was built (LeakSanitizer). */
		met_threshold_free(&t);
	}
	met_registry_destroy(reg);
}

/* ---- evaluation ---- */

typedef struct fixture {
	met_registry *reg;
	met_shard total;
} fixture;

static uint32_t series(met_registry *reg, uint32_t metric, const char *k1, const char *v1, const char *k2,
		       const char *v2)
{
	met_tag tags[2] = {{k1, v1}, {k2, v2}};
	size_t n = k2 ? 2 : k1 ? 1 : 0;

	return met_series_intern(reg, metric, met_tagset_intern(reg, tags, n));
}

/* http_req_duration: module a 1..50 ms (group ::setup for the first 10),
 * module b 51..100 ms, an untagged 1000 ms; http_req_failed: 3 of 100;
 * http_reqs: 100; vus: 3, 7, 5 (last 5). */
static int setup_fixture(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	uint32_t a = 0, a_setup, b, bare, failed_a, failed_b, reqs, vus;
	int i;

	f->reg = met_registry_create();
	met_shard_init(&f->total);
	a_setup = series(f->reg, MET_HTTP_REQ_DURATION, "module", "a", "group", "::setup");
	a = series(f->reg, MET_HTTP_REQ_DURATION, "module", "a", NULL, NULL);
	b = series(f->reg, MET_HTTP_REQ_DURATION, "module", "b", NULL, NULL);
	bare = series(f->reg, MET_HTTP_REQ_DURATION, NULL, NULL, NULL, NULL);
	failed_a = series(f->reg, MET_HTTP_REQ_FAILED, "module", "a", NULL, NULL);
	failed_b = series(f->reg, MET_HTTP_REQ_FAILED, "module", "b", NULL, NULL);
	reqs = series(f->reg, MET_HTTP_REQS, "module", "a", NULL, NULL);
	vus = series(f->reg, MET_VUS, NULL, NULL, NULL, NULL);
	for (i = 1; i <= 50; i++)
		met_shard_trend(&f->total, f->reg, i <= 10 ? a_setup : a, (uint64_t)i * NS_PER_MS);
	for (i = 51; i <= 100; i++)
		met_shard_trend(&f->total, f->reg, b, (uint64_t)i * NS_PER_MS);
	met_shard_trend(&f->total, f->reg, bare, 1000 * NS_PER_MS);
	for (i = 0; i < 100; i++) {
		met_shard_rate(&f->total, f->reg, i < 50 ? failed_a : failed_b, i == 7 || i == 60 || i == 61);
		met_shard_add(&f->total, f->reg, reqs, 1);
	}
	met_shard_gauge(&f->total, f->reg, vus, 3);
	met_shard_gauge(&f->total, f->reg, vus, 7);
	met_shard_gauge(&f->total, f->reg, vus, 5);
	*state = f;
	return 0;
}

static int teardown_fixture(void **state)
{
	fixture *f = *state;

	met_shard_free(&f->total);
	met_registry_destroy(f->reg);
	free(f);
	return 0;
}

static void test_eval(void **state)
{
	static const struct {
		const char *metric, *expr;
		int holds;
		double observed, tolerance; /* tolerance: relative, for histogram percentiles */
	} cases[] = {
		/* 101 samples: 1..100 ms and one of 1000 ms. */
		{"http_req_duration", "max<=1000", 1, 1000, 0},
		{"http_req_duration", "max<1000", 0, 1000, 0},
		{"http_req_duration", "min>=1", 1, 1, 0},
		{"http_req_duration", "min>1", 0, 1, 0},
		{"http_req_duration", "avg<60", 1, (5050.0 + 1000) / 101, 1e-9},
		{"http_req_duration", "avg<59", 0, (5050.0 + 1000) / 101, 1e-9},
		{"http_req_duration", "med<52", 1, 51, 0.01},
		{"http_req_duration", "med<50", 0, 51, 0.01},
		{"http_req_duration", "p(90)<92", 1, 91, 0.01},
		{"http_req_duration", "p(90)<90", 0, 91, 0.01},
		/* Filters: module a is 1..50 ms. */
		{"http_req_duration{module:a}", "max<=50", 1, 50, 0},
		{"http_req_duration{module:a}", "max<50", 0, 50, 0},
		{"http_req_duration{module:b}", "min>=51", 1, 51, 0},
		{"http_req_duration{module:b}", "min>51", 0, 51, 0},
		{"http_req_duration{module:a,group:::setup}", "max<=10", 1, 10, 0},
		{"http_req_duration{module:a,group:::setup}", "max<10", 0, 10, 0},
		/* !group:::setup: module a past setup, module b and the untagged. */
		{"http_req_duration{!group:::setup}", "min>=11", 1, 11, 0},
		{"http_req_duration{!group:::setup}", "min>11", 0, 11, 0},
		{"http_req_duration{!group:::setup}", "max>=1000", 1, 1000, 0},
		{"http_req_duration{!module:a}", "min>=51", 1, 51, 0},
		{"http_req_duration{!module:a,!module:b}", "min>=1000", 1, 1000, 0},
		{"http_req_duration{module:a,!group:::setup}", "min>=11", 1, 11, 0},
		{"http_req_duration{module:a,!group:::setup}", "max<=50", 1, 50, 0},
		/* Rates: 3 failures in 100; module b had 2 of 50. */
		{"http_req_failed", "rate<0.05", 1, 0.03, 1e-12},
		{"http_req_failed", "rate<0.01", 0, 0.03, 1e-12},
		{"http_req_failed{module:b}", "rate==0.04", 1, 0.04, 0},
		{"http_req_failed{module:a}", "rate<=0.02", 1, 0.02, 0},
		/* Counters: 100 over 10 s. */
		{"http_reqs", "count==100", 1, 100, 0},
		{"http_reqs", "count>100", 0, 100, 0},
		{"http_reqs", "rate>=10", 1, 10, 0},
		{"http_reqs", "rate>10", 0, 10, 0},
		/* Gauges: 3, 7, 5. */
		{"vus", "value==5", 1, 5, 0},
		{"vus", "value!=5", 0, 5, 0},
		{"vus", "max<=7", 1, 7, 0},
		{"vus", "max<7", 0, 7, 0},
		{"vus", "min>=3", 1, 3, 0},
		{"vus", "min>3", 0, 3, 0},
	};
	fixture *f = *state;
	size_t i;

	for (i = 0; i < N_ELEMS(cases); i++) {
		met_threshold t;
		char err[256] = "";
		int in_expr, holds;
		double want = cases[i].observed, got;
		met_threshold_result res;

		if (met_threshold_parse(&t, cases[i].metric, cases[i].expr, f->reg, err, sizeof(err), &in_expr) != 0)
			fail_msg("'%s': '%s' rejected: %s", cases[i].metric, cases[i].expr, err);
		holds = met_threshold_eval(&t, &f->total, f->reg, 10.0, &res);
		got = res.observed;
		if (holds != cases[i].holds || res.failed != !cases[i].holds)
			fail_msg("'%s': '%s' %s (observed %g)", cases[i].metric, cases[i].expr,
				 holds ? "held" : "failed", got);
		assert_false(res.no_data);
		if (cases[i].tolerance == 0 ? got != want : (got - want) / want > cases[i].tolerance ||
								    (want - got) / want > cases[i].tolerance)
			fail_msg("'%s': '%s' observed %.12g, want %.12g", cases[i].metric, cases[i].expr, got, want);
		met_threshold_free(&t);
	}
}

static void test_eval_no_data_holds(void **state)
{
	static const struct {
		const char *metric, *expr;
	} cases[] = {
		{"http_req_duration{module:zzz}", "p(95)<0"},
		{"http_req_duration{module:a,group:::nope}", "max<0"},
		{"iteration_duration", "avg<0"}, /* nothing recorded at all */
		{"checks", "rate>1"},
		{"iterations", "count>1"},
		{"vus_max", "value>1000"},
	};
	fixture *f = *state;
	size_t i;

	for (i = 0; i < N_ELEMS(cases); i++) {
		met_threshold t;
		met_threshold_result res;
		char err[256];
		int in_expr;

		assert_int_equal(
			met_threshold_parse(&t, cases[i].metric, cases[i].expr, f->reg, err, sizeof(err), &in_expr), 0);
		if (!met_threshold_eval(&t, &f->total, f->reg, 10.0, &res))
			fail_msg("'%s': '%s' failed with no samples", cases[i].metric, cases[i].expr);
		assert_true(res.no_data);
		assert_false(res.failed);
		met_threshold_free(&t);
	}
}

static void test_eval_counter_rate_without_duration(void **state)
{
	fixture *f = *state;
	met_threshold t;
	char err[256];
	int in_expr;

	/* A run of no measurable length divides by one second, not zero. */
	assert_int_equal(met_threshold_parse(&t, "http_reqs", "rate==100", f->reg, err, sizeof(err), &in_expr), 0);
	met_threshold_result res;

	assert_true(met_threshold_eval(&t, &f->total, f->reg, 0, &res));
	assert_true(res.observed == 100);
	met_threshold_free(&t);
}

static void test_op_strings(void **state)
{
	(void)state;
	assert_string_equal(met_threshold_op_str(TH_LT), "<");
	assert_string_equal(met_threshold_op_str(TH_LE), "<=");
	assert_string_equal(met_threshold_op_str(TH_GT), ">");
	assert_string_equal(met_threshold_op_str(TH_GE), ">=");
	assert_string_equal(met_threshold_op_str(TH_EQ), "==");
	assert_string_equal(met_threshold_op_str(TH_NE), "!=");
}

/* ---- the plan forms: string, list, {threshold, abortOnFail, delayAbortEval} ---- */

static const char plan_head[] = "target: http://127.0.0.1:9\n"
				"modules:\n"
				"  m:\n"
				"    executor: {type: shared-iterations, vus: 1, iterations: 1}\n"
				"    flow:\n"
				"      - get: /\n"
				"thresholds:\n";

/* Writes plan_head + body to a temp file and loads it. Returns plan_load's
 * status; the caller frees cfg and errs. */
static int load_plan(const char *body, char *path, size_t pathsz, run_config *cfg, plan_errors *errs)
{
	plan_opts po = {0};
	FILE *fp;
	int fd;

	snprintf(path, pathsz, "/tmp/strain-test-threshold-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(plan_head, fp);
	fputs(body, fp);
	fclose(fp);
	run_config_init(cfg);
	memset(errs, 0, sizeof(*errs));
	return plan_load(path, &po, cfg, errs);
}

static void test_plan_forms(void **state)
{
	char path[64];
	run_config cfg;
	plan_errors errs;
	int rc;

	(void)state;
	rc = load_plan("  http_req_failed: \"rate<0.01\"\n"
		       "  http_req_duration: [\"p(95)<500\", \"p(99)<1500\"]\n"
		       "  checks:\n"
		       "    - {threshold: \"rate>0.99\", abortOnFail: true, delayAbortEval: 10s}\n"
		       "    - {threshold: \"rate>0.5\", abortOnFail: false}\n"
		       "    - {threshold: \"rate>0.1\"}\n"
		       "    - threshold: \"rate>0.2\"\n"
		       "      abortOnFail: yes\n"
		       "      delayAbortEval: 1m30s\n"
		       "  \"http_reqs{module:m}\": [\"count>=1\"]\n"
		       "  \"http_req_duration{!group:::setup}\": [{threshold: \"max<9000\", abortOnFail: true}]\n",
		       path, sizeof(path), &cfg, &errs);
	if (rc != 0) {
		plan_errors_print(&errs, stderr);
		fail_msg("plan rejected");
	}
	assert_int_equal(cfg.nthresholds, 9);
	assert_int_equal(cfg.thresholds[0].metric, MET_HTTP_REQ_FAILED);
	assert_false(cfg.thresholds[0].abort_on_fail);
	assert_int_equal(cfg.thresholds[1].agg, TH_PCT);
	assert_true(cfg.thresholds[2].pct == 99);
	assert_true(cfg.thresholds[3].abort_on_fail);
	assert_int_equal(cfg.thresholds[3].delay_ns, 10 * NS_PER_SEC);
	assert_false(cfg.thresholds[4].abort_on_fail);
	assert_false(cfg.thresholds[5].abort_on_fail);
	assert_int_equal(cfg.thresholds[5].delay_ns, 0);
	assert_true(cfg.thresholds[6].abort_on_fail);
	assert_int_equal(cfg.thresholds[6].delay_ns, 90 * NS_PER_SEC);
	assert_int_equal(cfg.thresholds[7].nfilter, 1);
	assert_true(cfg.thresholds[8].abort_on_fail);
	assert_string_equal(cfg.thresholds[8].filter[0].key, "!group");
	run_config_free(&cfg);
	plan_errors_free(&errs);
	unlink(path);
}

static void test_plan_bad_forms(void **state)
{
	static const struct {
		const char *body;
		const char *says; /* ":LINE:COL: ..." — lines count from the top of the file */
	} cases[] = {
		{"  checks: [{threshold: \"rate>0.9\", abortOnFail: maybe}]\n",
		 ":8:49: abortOnFail: expected true or false"},
		{"  checks: [{threshold: \"rate>0.9\", delayAbortEval: soon}]\n", ":8:52: delayAbortEval"},
		{"  checks: [{abortOnFail: true}]\n", ":8:12: threshold: 'threshold' (the expression) is required"},
		{"  checks: [{threshold: \"rate>0.9\", abortOnFial: true}]\n",
		 ":8:36: unknown key 'abortOnFial' in a threshold; did you mean 'abortOnFail'?"},
		{"  checks: []\n", ":8:11: thresholds checks: the list is empty"},
		{"  checks: [\"avg>1\"]\n", ":8:12: threshold: 'avg>1': checks is a rate; use rate"},
		{"  nope: [\"avg>1\"]\n", ":8:3: threshold: unknown metric 'nope'"},
		{"  \"http_req_duration{module}\": [\"avg<1\"]\n", ":8:3: threshold: tag filter"},
		{"  - http_req_duration\n", ":8:3: thresholds: expected a mapping"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		char path[64];
		run_config cfg;
		plan_errors errs;
		uint32_t k;
		int found = 0;

		if (load_plan(cases[i].body, path, sizeof(path), &cfg, &errs) == 0)
			fail_msg("accepted thresholds:\n%s", cases[i].body);
		for (k = 0; k < errs.n; k++)
			if (strncmp(errs.msgs[k], path, strlen(path)) == 0 && strstr(errs.msgs[k], cases[i].says))
				found = 1;
		if (!found) {
			plan_errors_print(&errs, stderr);
			fail_msg("no error '%s' for thresholds:\n%s", cases[i].says, cases[i].body);
		}
		run_config_free(&cfg);
		plan_errors_free(&errs);
		unlink(path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_filters),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test_setup_teardown(test_eval, setup_fixture, teardown_fixture),
		cmocka_unit_test_setup_teardown(test_eval_no_data_holds, setup_fixture, teardown_fixture),
		cmocka_unit_test_setup_teardown(test_eval_counter_rate_without_duration, setup_fixture,
						teardown_fixture),
		cmocka_unit_test(test_op_strings),
		cmocka_unit_test(test_plan_forms),
		cmocka_unit_test(test_plan_bad_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
