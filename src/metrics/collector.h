/* The collector: a thread that, once per interval, takes every worker's
 * retired shard, merges them into an interval snapshot and the run total,
 * and hands both to the outputs. Outputs never see the hot path. */
#ifndef STRAIN_METRICS_COLLECTOR_H
#define STRAIN_METRICS_COLLECTOR_H

#include <stdint.h>

#include "metrics/registry.h"
#include "metrics/shard.h"

typedef struct met_snapshot {
	const met_registry *reg;
	uint64_t wall_ns;      /* wall clock at the end of the interval */
	uint64_t elapsed_ns;   /* since the run started */
	uint64_t interval_ns;  /* length of this interval */
	uint64_t start_wall_ns; /* the run's start on the wall clock (the summary's "start"), 0 unknown */
	const met_shard *interval;
	const met_shard *total;
	int final;             /* the last snapshot of the run */
} met_snapshot;

/* Where samples come from: n shards to swap out each tick, and gauges to
 * sample (vus, vus_max) into the interval. */
typedef struct met_source {
	uint32_t n;
	met_shard *(*swap)(void *ctx, uint32_t i);
	void (*gauges)(void *ctx, met_shard *interval);
	void *ctx;
} met_source;

/* An output consumes snapshots on the collector thread. */
typedef struct met_output {
	void (*snapshot)(void *self, const met_snapshot *snap);
	void *self;
} met_output;

typedef struct met_collector met_collector;

/* t0 is the run's monotonic start. Destroy with met_collector_destroy. */
met_collector *met_collector_create(met_registry *reg, const met_source *src, uint64_t interval_ns, uint64_t t0);
void met_collector_destroy(met_collector *c);
/* Keep the raw sample log in interval snapshots (for per-sample outputs). */
void met_collector_keep_samples(met_collector *c);
/* The wall clock at t0, for snapshots' start_wall_ns (before start). */
void met_collector_set_start_wall(met_collector *c, uint64_t wall_ns);
/* Outputs are called in the order added. At most 16. */
void met_collector_add_output(met_collector *c, const met_output *o);
int met_collector_start(met_collector *c);
/* Replaces the source (between phases of a run). Waits for a tick in
 * progress, so after it returns the old source is never touched again. */
void met_collector_set_source(met_collector *c, const met_source *src);
/* Samples the current source's gauges into the interval now, so that a
 * phase shorter than one interval still leaves its VU counts. */
void met_collector_sample_gauges(met_collector *c);
/* Merges shards that no source will hand over any more (workers that have
 * exited) into the current interval. */
void met_collector_absorb(met_collector *c, met_shard *const *shards, uint32_t n);
/* Stops ticking and joins the thread; no more swaps happen after it. */
void met_collector_stop(met_collector *c);
/* After the workers have exited: merges their remaining shards and emits
 * the final snapshot. */
void met_collector_finish(met_collector *c, met_shard *const *rest, uint32_t n);
const met_shard *met_collector_total(const met_collector *c);

#endif
