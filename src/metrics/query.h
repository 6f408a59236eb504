/* Reading merged metrics: one metric's series combined (optionally only
 * those whose tags match a filter), as the summary, live line and (later)
 * thresholds need them. Percentiles come from merged histograms. */
#ifndef STRAIN_METRICS_QUERY_H
#define STRAIN_METRICS_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/hist.h"
#include "metrics/registry.h"
#include "metrics/shard.h"

typedef struct met_agg {
	met_type type;
	uint64_t n;        /* samples */
	double sum;        /* counter */
	uint64_t nonzero;  /* rate */
	double value, min, max; /* gauge */
	met_hist *hist;    /* trend; owned by the agg */
} met_agg;

void met_agg_init(met_agg *a);
void met_agg_free(met_agg *a);

/* Combines every series of `metric` in s whose tag set contains all of
 * filter's key=value pairs; a key written "!key" asks instead that the tag
 * be absent or differ. Returns the number of series combined.
 *
 * Gauges: without a filter, only the run-wide series count (those without
 * a scenario tag: vus, vus_max of the whole run), not the per-scenario ones
 * a strategy's phase adds beside them. With a filter, the matching series'
 * last values add up and min/max are the widest of any one series (exact
 * for one module under one strategy, vus{module:x,strategy:parallel}). */
size_t met_query(const met_shard *s, const met_registry *r, uint32_t metric, const met_tag *filter,
		 size_t nfilter, met_agg *out);

#endif
