/* The two InfluxDB schemas, as line protocol.
 *
 * k6 (one point per sample, what k6's InfluxDB output writes, so k6's
 * Grafana dashboards work unchanged): the measurement is the metric name;
 * tags are the sample's tags except url (a string field, as k6 writes it),
 * plus instance; fields are value (float; milliseconds for time metrics),
 * url, and vu and iter as integers when the sample came from a VU.
 *
 * aggregated (one point per series and interval, so the cost follows the
 * number of tag combinations, not the request rate): the measurement is the
 * metric name; tags are all the series' tags (url included: it is part of
 * what makes the series distinct) plus instance; fields by metric type:
 *   trend   count (int), sum, min, max, mean, p50, p90, p95, p99
 *           (milliseconds for time metrics, else the recorded unit)
 *   counter count (int, samples), sum
 *   rate    count (int), passes (int, non-zero samples), rate (passes/count)
 *   gauge   value (last), min, max
 * stamped with the interval's end. */
#ifndef STRAIN_OUTPUT_INFLUX_SCHEMA_H
#define STRAIN_OUTPUT_INFLUX_SCHEMA_H

#include <stdint.h>

#include "core/buf.h"
#include "metrics/registry.h"
#include "metrics/shard.h"
#include "output/series_text.h"

/* Appends the aggregated points of one interval shard to b. Returns the
 * number of points, or -1 when b's maximum was reached (b is then cut back
 * to its length on entry). */
int64_t influx_agg_append(buf *b, const met_registry *reg, const met_shard *interval, uint64_t wall_ns,
			  const char *instance);

/* k6-schema encoder: keeps each series' measurement-and-tags text once it
 * has been built, so a point costs a few appends. One per thread. */
typedef struct influx_k6_enc {
	const met_registry *reg;
	const char *instance;
	series_texts texts; /* by series id: "measurement,tags value=" NUL ",url=\"...\"" NUL */
} influx_k6_enc;

void influx_k6_init(influx_k6_enc *e, const met_registry *reg, const char *instance);
void influx_k6_free(influx_k6_enc *e);
/* Appends one sample's point. Returns 0, or -1 when b's maximum was
 * reached (b is then cut back to its length on entry). */
int influx_k6_append(influx_k6_enc *e, buf *b, const met_sample *s);

#endif
