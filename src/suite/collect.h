/* strain collect: the live merge of many instances (docs/distributed.md).
 * Instances started with --collector push one snapshot per interval
 * (strain-collect/1, metrics/wire.h); the collect server merges them
 * exactly into one registry (counters and rates add, histograms add,
 * gauges such as vus add across instances), ticks once a second on its own
 * clock like a run's collector — feeding the timeline, the live dashboard
 * and the plan's abortOnFail thresholds on the merged totals — and answers
 * every push with "continue" or "abort". When every expected instance is
 * done or lost it writes the summary and the report, as a run does. */
#ifndef STRAIN_SUITE_COLLECT_H
#define STRAIN_SUITE_COLLECT_H

#include <stdint.h>

#include "core/clock.h"
#include "program/program.h"
#include "suite/suite.h"

#define COLLECT_DEFAULT_LOST (10 * NS_PER_SEC)
#define COLLECT_PUSH_PATH "/v1/push"

struct ssl_ctx_st;

/* The command line's; read during collect_run only. */
typedef struct collect_opts {
	const char *plan;            /* the plan file (thresholds), or NULL */
	const run_config *cfg;       /* its program (an empty one without a plan) */
	const char *listen;          /* where instances push */
	uint32_t expect;             /* how many instances make the whole run */
	const char *web;             /* the live dashboard's address, or NULL */
	const char *summary_export;  /* or NULL */
	const char *report_html;     /* or NULL */
	const char *token;           /* the bearer token every push must carry, or NULL */
	uint64_t timeout_lost_ns;    /* an instance silent this long is lost */
	int quiet;                   /* no summary on stdout */
	struct ssl_ctx_st *tls;      /* --tls-cert/--tls-key: serve HTTPS (the caller's), or NULL */
} collect_opts;

/* Serves until the run is over (or a signal). SUITE_OK, SUITE_THRESHOLDS
 * (a threshold failed on the merged data), SUITE_INTERRUPTED, SUITE_SETUP
 * (cannot listen), SUITE_ERROR (the export or report could not be
 * written). *partial is set when an instance was lost or never came, or
 * pushes went missing. */
suite_outcome collect_run(const collect_opts *o, int *partial);

#endif
