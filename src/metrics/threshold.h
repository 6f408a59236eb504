/* Thresholds in k6's syntax: a metric with an optional tag filter
 * ("http_req_duration{module:profile,name:profile view}") and an expression
 * ("p(95)<2000", "avg<200", "rate<0.01", "count>100", "med", "min", "max",
 * "value" for gauges). Time trends compare in milliseconds, as in k6. */
#ifndef STRAIN_METRICS_THRESHOLD_H
#define STRAIN_METRICS_THRESHOLD_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/registry.h"
#include "metrics/shard.h"

typedef enum { TH_AVG, TH_MIN, TH_MAX, TH_MED, TH_PCT, TH_RATE, TH_COUNT, TH_VALUE } th_agg;
typedef enum { TH_LT, TH_LE, TH_GT, TH_GE, TH_EQ, TH_NE } th_op;

typedef struct met_threshold {
	char *source;       /* the metric part as written */
	char *expr;         /* the expression as written */
	uint32_t metric;
	met_tag *filter;    /* owned strings */
	uint32_t nfilter;
	th_agg agg;
	double pct;
	th_op op;
	double value;
	int abort_on_fail;
	uint64_t delay_ns;  /* abort only after the run has lasted this long */
} met_threshold;

/* What an evaluation found; kept by whoever evaluates, never in the
 * threshold (which belongs to the immutable program). */
typedef struct met_threshold_result {
	int failed;
	int no_data;        /* no samples: the threshold holds */
	double observed;
} met_threshold_result;

/* Parses one threshold. Returns 0, or -1 with a message in err and the
 * offending part's offset in *err_in_expr (1: in expr, 0: in the metric). */
int met_threshold_parse(met_threshold *t, const char *metric_spec, const char *expr, const met_registry *reg,
			char *err, size_t errsz, int *err_in_expr);
/* Evaluates against merged totals over secs seconds (for counters' rate);
 * returns 1 if it holds (no samples: holds) and fills *res if not NULL. */
int met_threshold_eval(const met_threshold *t, const met_shard *total, const met_registry *reg, double secs,
		       met_threshold_result *res);
void met_threshold_free(met_threshold *t);
/* *out becomes t judged on part of the samples: its filter plus key=value,
 * held in buf (cap entries; the caller's, alive while *out is used). A
 * filter that already names key is kept as it is: the threshold chose its
 * own. Returns 1 when key was added, 0 when t already had it. */
int met_threshold_scope(const met_threshold *t, const char *key, const char *value, met_tag *buf, size_t cap,
			met_threshold *out);
const char *met_threshold_op_str(th_op op);

#endif
