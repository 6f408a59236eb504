/* The end-of-run summary: k6-like text on stdout, and the same figures as
 * JSON for --summary-export (schema in docs/summary-export.md). */
#ifndef STRAIN_REPORT_SUMMARY_H
#define STRAIN_REPORT_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/run.h"
#include "metrics/registry.h"
#include "metrics/shard.h"
#include "metrics/threshold.h"

typedef struct summary_output {
	const char *spec;        /* as given to --out */
	uint64_t written;
	uint64_t dropped;
	uint64_t errors;
	const char *last_error;  /* "" if none */
	/* The final flush, after the load ended: never part of the run's
	 * duration or rates. */
	uint64_t flush_ns;       /* how long it took */
	uint64_t flush_dropped;  /* points given up during it (part of dropped) */
	int flush_cut;           /* ended early: its time limit, or a signal */
	int flush_abandoned;     /* still blocked when the run gave up waiting */
} summary_output;

struct run_config;


typedef struct summary_info {
	const char *description;  /* one line: what ran */
	uint64_t start_wall_ns;
	uint64_t end_wall_ns;
	uint64_t elapsed_ns;      /* monotonic length of the run */
	int interrupted;          /* stopped by a signal */
	uint32_t vus;
	uint32_t threads;
	uint64_t duration_ns;     /* planned, 0 if none */
	uint64_t iterations;      /* planned, 0 if none */
	uint64_t timeout_ns;
	int no_reuse;
	uint64_t series_overflow; /* samples folded into untagged series */
	const summary_output *outputs;
	uint32_t noutputs;
	const struct run_config *cfg;      /* scenarios and phases, for the comparison */
	const run_phase_result *phases;    /* by cfg->phases index */
	const met_threshold_result *th_results; /* by cfg->thresholds index */
} summary_info;

void summary_print(FILE *f, const met_registry *r, const met_shard *total, const summary_info *info);

/* Writes the JSON summary to path. Returns 0, or -1 with a message in err. */
int summary_export(const char *path, const met_registry *r, const met_shard *total, const summary_info *info,
		   char *err, size_t errsz);

/* Builds the JSON text (caller frees with free()). For tests and export. */
char *summary_json(const met_registry *r, const met_shard *total, const summary_info *info);

#endif
