/* Latency spikes: windows of a run's time series where a module's interval
 * p95 rose well above its own typical level under that strategy — at least
 * SPIKE_RATIO times the median of its interval p95s, and at least
 * SPIKE_FLOOR_MS — with when, how long, how high, which other modules were
 * running and the failures in the window. Found from the summary's
 * "timeseries" object, so a summary read back (or merged) gives the same. */
#ifndef STRAIN_REPORT_SPIKES_H
#define STRAIN_REPORT_SPIKES_H

#include <jansson.h>
#include <stdio.h>

#define SPIKE_RATIO 3.0
#define SPIKE_FLOOR_MS 50.0
/* Fewer slots with requests than this give no typical level to judge by. */
#define SPIKE_MIN_SLOTS 5

/* The summary's "spikes" array (docs/summary-export.md). Caller decrefs. */
json_t *spikes_find(const json_t *timeseries);
/* The summary text's lines for them; nothing when there are none. */
void spikes_print(FILE *f, const json_t *spikes);

#endif
