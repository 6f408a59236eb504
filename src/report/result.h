/* The result of a run: what the summary, the verdict and the exports read.
 * The suite fills it at the end of a run; a reader never writes it. Every
 * pointer is the filler's. */
#ifndef STRAIN_REPORT_RESULT_H
#define STRAIN_REPORT_RESULT_H

#include <stdint.h>

#include "engine/run.h"
#include "metrics/registry.h"
#include "metrics/shard.h"
#include "metrics/threshold.h"
#include "metrics/trend_stats.h"
#include "program/program.h"

/* One streaming output: what it delivered. */
typedef struct output_result {
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
} output_result;

/* strain collect: one instance that pushed (docs/distributed.md). */
typedef struct collect_instance {
	const char *id;          /* unique per process: "instance/pid" */
	const char *instance;    /* its instance name */
	uint64_t pushes;         /* snapshots received */
	uint64_t gaps;           /* snapshots it numbered but that never came */
	int done;                /* its final push came */
	int lost;                /* no push for --timeout-lost, and no final one */
} collect_instance;

/* strain collect: how complete the merged result is. */
typedef struct collect_result {
	uint32_t expected;                  /* --expect */
	const collect_instance *instances;  /* in order of their first push */
	uint32_t ninstances;
	uint32_t missing;                   /* expected, never pushed */
	int partial;                        /* an instance lost or missing, or pushes lost */
	const char *abort_reason;           /* the threshold that stopped every instance, or NULL */
} collect_result;

typedef struct run_result {
	const met_registry *reg;  /* the metrics, tag sets and series of the run */
	const met_shard *total;   /* every sample of the load window, merged */
	const char *description;  /* one line: what ran */
	const char *plan;         /* the plan file, NULL in quick mode */
	const char *strategy;     /* the strategy asked for ("all"), NULL: none */
	struct timeline *timeline; /* the run over time; NULL if none was kept */
	struct json_t *timeseries; /* when set, the run over time as it is (strain collect's, merged on the
				   * wall clock), instead of timeline's; borrowed */
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
	const output_result *outputs;
	uint32_t noutputs;
	const struct run_config *cfg;      /* scenarios and phases, for the comparison */
	const run_phase_result *phases;    /* by cfg->phases index */
	const met_threshold_result *th_results; /* by cfg->thresholds index */
	const trend_stats *trend_stats;    /* the trend columns (--summary-trend-stats); NULL: the default */
	const collect_result *collect;     /* strain collect's merge of instances, or NULL */
} run_result;

#endif
