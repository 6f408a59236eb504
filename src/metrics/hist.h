/* Log-linear latency histogram (HdrHistogram's layout): values in
 * nanoseconds, exact below 128 ns, then 64 linear sub-buckets per power of
 * two, so any value from 1 µs to 2^43 ns (about 2.4 h) is reported within
 * 1/128 (0.78%) of its true value. Fixed memory (about 19 KiB), O(1) record,
 * and merges that are exact: merging shards gives the same histogram as
 * recording every sample into one. */
#ifndef STRAIN_METRICS_HIST_H
#define STRAIN_METRICS_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_HALF (1u << (HIST_SUB_BITS - 1))    /* 64 */
#define HIST_MAX_BITS 43                          /* values < 2^43 ns */
#define HIST_BUCKETS (HIST_HALF * (HIST_MAX_BITS - HIST_SUB_BITS + 1) + HIST_HALF) /* 2432 */
#define HIST_MAX_VALUE ((UINT64_C(1) << HIST_MAX_BITS) - 1)

typedef struct met_hist {
	uint64_t count;
	uint64_t sum;      /* exact sum of recorded values, ns */
	uint64_t min;      /* exact */
	uint64_t max;      /* exact */
	uint32_t lo, hi;   /* touched bucket range, for cheap merge and reset */
	uint64_t counts[HIST_BUCKETS];
} met_hist;

/* Allocates an empty histogram; free with met_hist_destroy (accepts NULL). */
met_hist *met_hist_create(void);
void met_hist_destroy(met_hist *h);
void met_hist_reset(met_hist *h);

/* Bucket index of a value (values above HIST_MAX_VALUE share the last). */
static inline uint32_t met_hist_index(uint64_t v)
{
	uint32_t shift;

	if (v < (1u << HIST_SUB_BITS))
		return (uint32_t)v;
	if (v > HIST_MAX_VALUE)
		v = HIST_MAX_VALUE;
	shift = (uint32_t)(63 - __builtin_clzll(v)) - (HIST_SUB_BITS - 1);
	return HIST_HALF * shift + (uint32_t)(v >> shift);
}

/* Records one value in ns. O(1), no allocation. */
static inline void met_hist_record(met_hist *h, uint64_t v)
{
	uint32_t i = met_hist_index(v);

	h->counts[i]++;
	if (h->count == 0) {
		h->min = h->max = v;
		h->lo = h->hi = i;
	} else {
		if (v < h->min)
			h->min = v;
		if (v > h->max)
			h->max = v;
		if (i < h->lo)
			h->lo = i;
		if (i > h->hi)
			h->hi = i;
	}
	h->count++;
	h->sum += v;
}

/* Adds every sample of src into dst. */
void met_hist_merge(met_hist *dst, const met_hist *src);

/* Lowest value and width of bucket i. */
uint64_t met_hist_bucket_low(uint32_t i);
uint64_t met_hist_bucket_width(uint32_t i);

/* The p-th percentile (0..100) in ns, interpolated between the two nearest
 * ranks as k6 does; bucket values are their midpoints clamped to [min, max].
 * 0 for an empty histogram. */
double met_hist_percentile(const met_hist *h, double p);
double met_hist_mean(const met_hist *h);

#endif
