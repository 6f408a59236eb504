/* strain compare: two summaries (a baseline and a new run) set side by
 * side per module x strategy and per request name: the change in p50,
 * p95, p99, error rate and throughput, whether each change is beyond
 * run-to-run noise (a Mann-Whitney U test on the per-interval series,
 * docs/compare.md), and whether it crosses a --fail-on limit. */
#ifndef STRAIN_REPORT_COMPARE_H
#define STRAIN_REPORT_COMPARE_H

#include <stddef.h>
#include <stdio.h>

#include "report/summary_read.h"

typedef enum cmp_stat { CMP_P50, CMP_P95, CMP_P99, CMP_ERRORS, CMP_RPS, CMP_NSTATS } cmp_stat;

/* How a limit measures a change: relative (%), absolute milliseconds
 * (latencies), or percentage points (the error rate). */
typedef enum cmp_unit { CMP_PCT, CMP_MS, CMP_PP } cmp_unit;

typedef struct cmp_limit {
	int set;
	double value;   /* signed: +10 fails on a rise past 10, -5 on a fall past 5 */
	cmp_unit unit;
} cmp_limit;

typedef struct cmp_limits {
	cmp_limit by_stat[CMP_NSTATS];
} cmp_limits;

/* The limits when --fail-on is not given. */
#define CMP_DEFAULT_FAIL_ON "p95:+10%,p99:+20%,errors:+0.5pp,rps:-5%"
/* Significance level of the two-sided test. */
#define CMP_ALPHA 0.05
/* Fewer usable intervals than this on either side: no test. */
#define CMP_MIN_INTERVALS 5

/* Parses a --fail-on value ("p95:+10%,errors:+0.5pp", or "none").
 * Returns 0, or -1 with the reason in err (naming the item). */
int compare_limits_parse(const char *spec, cmp_limits *out, char *err, size_t errsz);

typedef enum cmp_format { CMP_TEXT, CMP_MARKDOWN, CMP_JSON } cmp_format;

typedef struct cmp_result cmp_result;

/* Compares new against base (both owned by the caller, kept while the
 * result lives). Never fails on valid documents. */
cmp_result *compare_run(const sum_doc *base, const sum_doc *new_doc, const cmp_limits *limits);
void compare_result_free(cmp_result *r); /* accepts NULL */
/* Did any row fail a limit (docs/compare.md: crossed and significant, or
 * crossed with too few intervals to test)? */
int compare_failed(const cmp_result *r);
/* Writes the comparison; base_name/new_name label the two files. */
void compare_write(FILE *f, const cmp_result *r, cmp_format fmt, const char *base_name, const char *new_name);

/* The test itself, exposed for the unit tests: the two-sided p-value of
 * the Mann-Whitney U test of a against b (normal approximation with tie
 * and continuity corrections); 1 when every value is tied. */
double compare_mann_whitney(const double *a, size_t na, const double *b, size_t nb);

#endif
