/* The comparison at the end of a multi-module run: module x strategy
 * figures, and per module how hybrid and parallel compare with its own
 * sequential baseline, which latency phase carries the growth, and what
 * that points to. Every word is computed from the merged measurements.
 *
 * The words are written from a plain table of figures (verdict_table), so
 * that a run fills it from its registry and strain merge from the parts'
 * summaries, and both print the same way. */
#ifndef STRAIN_REPORT_VERDICT_H
#define STRAIN_REPORT_VERDICT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "metrics/hist.h"
#include "report/result.h"

enum { VERDICT_PH_BLOCKED, VERDICT_PH_CONNECTING, VERDICT_PH_SENDING, VERDICT_PH_WAITING, VERDICT_PH_RECEIVING,
       VERDICT_PH_N };

/* Columns, by index: sequential, hybrid, parallel. */
#define VERDICT_NSTRAT 3
extern const char *const verdict_strategy_names[VERDICT_NSTRAT];
extern const char *const verdict_phase_names[VERDICT_PH_N];

/* Failed requests of a cell by failure code (report/failure.h: an error
 * code, or -status for a status-only failure). */
typedef struct verdict_err {
	int code;
	uint64_t n;
} verdict_err;

/* One module under one strategy, the module's own traffic (its setup
 * requests left out). */
typedef struct verdict_cell {
	int ran;
	double secs;                   /* time the module ran under the strategy */
	double reqs, rps;
	double p50, p95, p99, max, avg; /* ms */
	uint64_t failures;             /* http_req_failed samples that failed */
	uint64_t failure_samples;      /* http_req_failed samples (abandoned requests too) */
	double err_rate;               /* failures / failure_samples */
	double phase[VERDICT_PH_N];    /* mean ms */
	int top_error;                 /* most frequent failure code, 0 if none */
	const char *failed_threshold;  /* a failed threshold naming this module; borrowed */
	met_hist *hist;                /* http_req_duration; owned, may be NULL */
	verdict_err *errs;             /* owned */
	uint32_t nerrs;
} verdict_cell;

typedef struct verdict_table {
	uint32_t nmods;
	const char **mods;             /* borrowed names; the array is owned */
	verdict_cell *cells;           /* [mod * VERDICT_NSTRAT + strat], owned */
	int strat_ran[VERDICT_NSTRAT];
} verdict_table;

/* An empty table of nmods modules (names set by the caller). */
void verdict_table_init(verdict_table *t, uint32_t nmods);
/* Frees what the table owns; the names are the caller's. */
void verdict_table_free(verdict_table *t);
static inline verdict_cell *verdict_cell_at(verdict_table *t, uint32_t m, int s)
{
	return &t->cells[m * VERDICT_NSTRAT + (uint32_t)s];
}
/* Adds n failures of code to the cell's errs (top_error is the filler's:
 * a run takes its largest series, a merge its largest code). */
void verdict_cell_add_error(verdict_cell *c, int code, uint64_t n);

/* Prints a table's comparison and verdict. */
void verdict_table_print(FILE *f, const verdict_table *t);
/* The same as JSON ({"strategies": {...}, "verdict": [...]}); caller owns
 * the reference. */
json_t *verdict_table_json(const verdict_table *t);

/* Prints the comparison and the verdict (nothing for single-strategy,
 * single-module runs). */
void verdict_print(FILE *f, const run_result *res);
/* The same as JSON, or NULL when there is nothing to compare. Caller owns
 * the reference. */
json_t *verdict_json(const run_result *res);

#endif
