#include "metrics/hist.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

met_hist *met_hist_create(void)
{
	return xcalloc(1, sizeof(met_hist));
}

void met_hist_destroy(met_hist *h)
{
	free(h);
}

void met_hist_reset(met_hist *h)
{
	if (h->count)
		memset(&h->counts[h->lo], 0, sizeof(h->counts[0]) * (h->hi - h->lo + 1));
	h->count = h->sum = h->min = h->max = 0;
	h->lo = h->hi = 0;
}

void met_hist_merge(met_hist *dst, const met_hist *src)
{
	uint32_t i;

	if (!src->count)
		return;
	for (i = src->lo; i <= src->hi; i++)
		dst->counts[i] += src->counts[i];
	if (!dst->count) {
		dst->min = src->min;
		dst->max = src->max;
		dst->lo = src->lo;
		dst->hi = src->hi;
	} else {
		if (src->min < dst->min)
			dst->min = src->min;
		if (src->max > dst->max)
			dst->max = src->max;
		if (src->lo < dst->lo)
			dst->lo = src->lo;
		if (src->hi > dst->hi)
			dst->hi = src->hi;
	}
	dst->count += src->count;
	dst->sum += src->sum;
}

uint64_t met_hist_bucket_low(uint32_t i)
{
	uint32_t shift;

	if (i < (1u << HIST_SUB_BITS))
		return i;
	shift = i / HIST_HALF - 1;
	return (uint64_t)(i - HIST_HALF * shift) << shift;
}

uint64_t met_hist_bucket_width(uint32_t i)
{
	if (i < (1u << HIST_SUB_BITS))
		return 1;
	return UINT64_C(1) << (i / HIST_HALF - 1);
}

static double bucket_value(const met_hist *h, uint32_t i)
{
	double v = (double)met_hist_bucket_low(i) + (double)(met_hist_bucket_width(i) - 1) / 2.0;

	if (v < (double)h->min)
		v = (double)h->min;
	if (v > (double)h->max)
		v = (double)h->max;
	return v;
}

/* Value of the sample at 0-based rank r. */
static double value_at_rank(const met_hist *h, uint64_t r)
{
	uint64_t seen = 0;
	uint32_t i;

	if (r == 0)
		return (double)h->min;
	if (r >= h->count - 1)
		return (double)h->max;
	for (i = h->lo; i <= h->hi; i++) {
		seen += h->counts[i];
		if (seen > r)
			return bucket_value(h, i);
	}
	return (double)h->max;
}

double met_hist_percentile(const met_hist *h, double p)
{
	double rank, frac, a, b;
	uint64_t lo;

	if (!h->count)
		return 0;
	if (p <= 0)
		return (double)h->min;
	if (p >= 100)
		return (double)h->max;
	rank = p / 100.0 * (double)(h->count - 1);
	lo = (uint64_t)rank;
	frac = rank - (double)lo;
	a = value_at_rank(h, lo);
	if (frac == 0)
		return a;
	b = value_at_rank(h, lo + 1);
	return a + (b - a) * frac;
}

double met_hist_mean(const met_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0;
}
