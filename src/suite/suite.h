/* The suite: one run from start to end, in the order its parts need —
 * outputs (whether they want raw samples decides how workers record), the
 * collector, the live line and the abort watch; then the program's phases
 * with the pauses between them, signals taken on this thread only; then the
 * load window closed, the outputs' bounded final flush, thresholds judged
 * on the window, and the summary printed and exported, always. */
#ifndef STRAIN_SUITE_SUITE_H
#define STRAIN_SUITE_SUITE_H

#include <stdint.h>

#include "metrics/trend_stats.h"
#include "program/program.h"

/* What the run reports and where; the caller's (pointers may point into
 * argv), read during suite_run only. */
typedef struct suite_opts {
	int quiet;                  /* no live line, no summary on stdout */
	const char *summary_export; /* path or NULL */
	const char *const *outs;    /* output specs ("json=FILE"), nouts of them */
	uint32_t nouts;
	const char *description;    /* one line for the summary header */
	const char *plan;           /* the plan file, or NULL in quick mode */
	const char *strategy;       /* the strategy asked for, or NULL: none */
	int no_summary;             /* --no-summary: no end-of-test text (the export is still written) */
	const trend_stats *trend_stats; /* --summary-trend-stats, or NULL for the default */
	const char *report_html;    /* --report: the HTML report's path, or NULL */
	const char *web;            /* --web: the live dashboard's address, or NULL */
	uint64_t web_linger_ns;     /* --web-linger: how long it stays up after the run */
	const char *collector_token; /* --collector-token (outs holds "collector=URL"), or NULL */
	uint64_t start_at_wall_ns;  /* --start-at: Unix ns the schedule starts at, or 0: at once */
} suite_opts;

/* How a run ended; the command maps these to exit codes. */
typedef enum {
	SUITE_OK,
	SUITE_THRESHOLDS,   /* a threshold failed (or aborted the run) */
	SUITE_INTERRUPTED,  /* a signal stopped it */
	SUITE_BAD_CONFIG,   /* an output spec or a TLS file was refused before any load */
	SUITE_SETUP,        /* workers could not be started */
	SUITE_ERROR,        /* the summary export or an output file failed */
} suite_outcome;

/* Runs program p as described above. */
suite_outcome suite_run(const run_config *p, const suite_opts *o);

#endif
