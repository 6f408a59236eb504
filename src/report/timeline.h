/* The run over time: a collector output that keeps, per module x strategy,
 * one slot per interval (requests, failures by error code, VUs,
 * iterations, dropped iterations, and the interval's merged latency
 * histogram). Slots start at one second; past TIMELINE_MAX_SLOTS the
 * interval doubles and neighbours merge exactly, so memory and the
 * summary stay bounded however long the run. It runs on the collector
 * thread, never on the hot path; readers on other threads (the live
 * dashboard) take its lock through timeline_json. */
#ifndef STRAIN_REPORT_TIMELINE_H
#define STRAIN_REPORT_TIMELINE_H

#include <jansson.h>

#include "metrics/collector.h"

#define TIMELINE_MAX_SLOTS 1024

typedef struct timeline timeline;

timeline *timeline_create(void);
void timeline_destroy(timeline *t); /* accepts NULL */
/* The collector output that feeds it. */
met_output timeline_output(timeline *t);
/* The summary's "timeseries" object so far (docs/summary-export.md); with
 * hist 0 the per-slot histograms are left out (the live page does not need
 * them). Thread-safe. Caller decrefs. */
json_t *timeline_json(timeline *t, int hist);
/* Bumped each time a snapshot has been taken in: a reader can tell there
 * is something new. Thread-safe. */
unsigned long timeline_version(timeline *t);

#endif
