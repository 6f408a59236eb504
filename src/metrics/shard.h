/* A metric shard: the values of every series one thread recorded since the
 * shard was last cleared. Workers record into their own shard with no locks
 * and no allocation once a series has been seen; the collector merges shards
 * into interval snapshots and run totals. The same type serves for both. */
#ifndef STRAIN_METRICS_SHARD_H
#define STRAIN_METRICS_SHARD_H

#include <stdint.h>

#include "metrics/hist.h"
#include "metrics/registry.h"

typedef struct met_cell {
	uint64_t n;        /* samples recorded; 0 = untouched */
	union {
		double sum;                             /* counter */
		struct { uint64_t nonzero; } rate;      /* rate: n total, nonzero passes */
		struct { double value, min, max; } gauge;
	} u;
	met_hist *hist;    /* trend; kept across clears so recording never allocates */
} met_cell;

typedef struct met_shard {
	met_cell *cells;     /* by series id */
	uint32_t cap;
	uint32_t *touched;   /* series ids with n > 0, in first-touch order */
	uint32_t ntouched;
	uint32_t touched_cap;
} met_shard;

void met_shard_init(met_shard *s);
/* Frees all storage (histograms included). */
void met_shard_free(met_shard *s);
/* Zeroes every touched cell, keeping storage for reuse. */
void met_shard_clear(met_shard *s);

/* Slow path: makes room for series id and marks it touched. */
met_cell *met_shard_touch_slow(met_shard *s, const met_registry *r, uint32_t series);

static inline met_cell *met_shard_cell(met_shard *s, const met_registry *r, uint32_t series)
{
	met_cell *c;

	if (series < s->cap) {
		c = &s->cells[series];
		if (c->n)
			return c;
	}
	return met_shard_touch_slow(s, r, series);
}

static inline void met_shard_add(met_shard *s, const met_registry *r, uint32_t series, double v)
{
	met_cell *c = met_shard_cell(s, r, series);

	c->n++;
	c->u.sum += v;
}

static inline void met_shard_rate(met_shard *s, const met_registry *r, uint32_t series, int nonzero)
{
	met_cell *c = met_shard_cell(s, r, series);

	c->n++;
	c->u.rate.nonzero += nonzero != 0;
}

static inline void met_shard_trend(met_shard *s, const met_registry *r, uint32_t series, uint64_t ns)
{
	met_cell *c = met_shard_cell(s, r, series);

	c->n++;
	met_hist_record(c->hist, ns);
}

void met_shard_gauge(met_shard *s, const met_registry *r, uint32_t series, double v);

/* Adds src's touched cells into dst. For gauges, the later value wins and
 * min/max widen. */
void met_shard_merge(met_shard *dst, const met_registry *r, const met_shard *src);

#endif
