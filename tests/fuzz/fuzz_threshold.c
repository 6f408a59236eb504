/* libFuzzer driver for thresholds (k6's syntax, as a plan's thresholds:
 * section and `strain capacity --slo` hand them over): the input up to its
 * first newline is the metric with its tag filter
 * ("http_req_duration{module:a}"), the rest the expression ("p(95)<200");
 * no newline: the whole input is an expression on http_req_duration. A
 * threshold that parses is evaluated on a shard holding samples of every
 * metric type under a few tag sets, and again scoped to a module, as the
 * verdict per strategy does. Besides crashes and sanitizer reports
 * (LeakSanitizer included: a refused threshold must free what it parsed),
 * it aborts when an invariant breaks: a refusal says why, a threshold
 * without samples holds, and an evaluation is a verdict (0 or 1).
 * Build and run: make fuzz (FUZZ_SECONDS=60). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "metrics/registry.h"
#include "metrics/shard.h"
#include "metrics/threshold.h"

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond))                                                                                           \
			abort();                                                                                       \
	} while (0)

static met_registry *reg;
static met_shard full, empty;

/* Samples for every type: built-ins (counter, rate, time trend, gauge)
 * and custom metrics of each type, under two modules and a request name. */
static void setup(void)
{
	static const met_tag a[] = {{"module", "a"}, {"name", "home"}, {"status", "200"}};
	static const met_tag b[] = {{"module", "b"}, {"name", "cart"}, {"status", "500"}};
	uint32_t ts[3], i;
	int custom[4];

	reg = met_registry_create();
	custom[0] = met_metric_add(reg, "orders", MET_COUNTER, MET_DEFAULT);
	custom[1] = met_metric_add(reg, "queue_depth", MET_GAUGE, MET_DEFAULT);
	custom[2] = met_metric_add(reg, "cache_hits", MET_RATE, MET_DEFAULT);
	custom[3] = met_metric_add(reg, "payload_bytes", MET_TREND, MET_DATA);
	CHECK(custom[0] >= 0 && custom[1] >= 0 && custom[2] >= 0 && custom[3] >= 0);
	ts[0] = met_tagset_intern(reg, a, 3);
	ts[1] = met_tagset_intern(reg, b, 3);
	ts[2] = met_tagset_intern(reg, NULL, 0);
	met_shard_init(&full);
	met_shard_init(&empty);
	for (i = 0; i < 3; i++) {
		uint64_t k;

		for (k = 1; k <= 50; k++) {
			met_shard_add(&full, reg, met_series_intern(reg, MET_HTTP_REQS, ts[i]), 1);
			met_shard_rate(&full, reg, met_series_intern(reg, MET_HTTP_REQ_FAILED, ts[i]), (int)(k % 7 == 0));
			met_shard_trend(&full, reg, met_series_intern(reg, MET_HTTP_REQ_DURATION, ts[i]),
					k * 1000000 * (i + 1));
			met_shard_add(&full, reg, met_series_intern(reg, (uint32_t)custom[0], ts[i]), (double)k);
			met_shard_rate(&full, reg, met_series_intern(reg, (uint32_t)custom[2], ts[i]), (int)(k & 1));
			met_shard_trend(&full, reg, met_series_intern(reg, (uint32_t)custom[3], ts[i]), k * 100);
		}
		met_shard_gauge(&full, reg, met_series_intern(reg, MET_VUS, ts[i]), 10.0 * (i + 1));
		met_shard_gauge(&full, reg, met_series_intern(reg, (uint32_t)custom[1], ts[i]), 3.5);
	}
}

static void judge(const met_threshold *t)
{
	met_threshold_result res;
	met_threshold scoped;
	met_tag buf[64];
	int ok;

	ok = met_threshold_eval(t, &empty, reg, 10, &res);
	CHECK(ok == 1 && res.no_data && !res.failed);
	ok = met_threshold_eval(t, &full, reg, 10, &res);
	CHECK((ok == 0 || ok == 1) && res.failed == !ok);
	ok = met_threshold_eval(t, &full, reg, 0, NULL);
	CHECK(ok == 0 || ok == 1);
	met_threshold_scope(t, "module", "a", buf, sizeof(buf) / sizeof(buf[0]), &scoped);
	CHECK(scoped.nfilter <= t->nfilter + 1 && scoped.nfilter < sizeof(buf) / sizeof(buf[0]) + 1);
	ok = met_threshold_eval(&scoped, &full, reg, 10, &res);
	CHECK((ok == 0 || ok == 1) && res.failed == !ok);
	CHECK(met_threshold_op_str(t->op)[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *nl, err[512];
	const char *metric = "http_req_duration", *expr;
	met_threshold t;
	int in_expr = -1;

	if (!reg)
		setup();
	/* The plan loader hands over NUL-terminated scalars. */
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	expr = text;
	nl = strchr(text, '\n');
	if (nl) {
		*nl = '\0';
		metric = text;
		expr = nl + 1;
	}
	err[0] = '\0';
	if (met_threshold_parse(&t, metric, expr, reg, err, sizeof(err), &in_expr) < 0) {
		CHECK(err[0] && (in_expr == 0 || in_expr == 1));
	} else {
		CHECK(t.metric < met_metric_count(reg) && t.source && t.expr);
		judge(&t);
	}
	met_threshold_free(&t);
	free(text);
	return 0;
}
