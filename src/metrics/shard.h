/* A metric shard: the values of every series one thread recorded since the
 * shard was last cleared. Workers record into their own shard with no locks
 * and no allocation once a series has been seen; the collector merges shards
 * into interval snapshots and run totals. The same type serves for both. */
#ifndef STRAIN_METRICS_SHARD_H
#define STRAIN_METRICS_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "core/pagebuf.h"
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

/* One raw sample, kept only when an output needs every sample (k6's JSON,
 * CSV and InfluxDB schemas write one point per sample). */
typedef struct met_sample {
	uint64_t wall_ns;  /* when the sample was taken (wall clock) */
	uint64_t iter;     /* the VU's iteration, 0 if none */
	uint32_t vu;       /* 1-based VU id, 0 if none */
	uint32_t series;
	double value;      /* ns for time trends, as recorded */
} met_sample;

/* What an output asks the engine to keep (output.wants_samples, the
 * engine's keep flags): the raw samples, and with them the arrival records
 * of arrival-rate iterations (the JSON output's scheduled_ns/arrival). */
#define MET_KEEP_SAMPLES 1
#define MET_KEEP_ARRIVALS 2

/* An arrival record in the raw sample log, not a sample: it describes the
 * sample logged right after it (an arrival-rate iteration's
 * iteration_start_delay, iterations, iteration_duration or
 * dropped_iterations). wall_ns holds the iteration's scheduled instant, in
 * ns from the start of its phase's clock (the --start-at instant when one
 * was given), iter its index in the whole (unsplit) arrival schedule.
 * Logged only when keep_arrivals is set, so a run without the JSON output
 * carries none; per-sample outputs that do not write them skip them
 * (met_sample_is_arrival). */
#define MET_SAMPLE_ARRIVAL UINT32_MAX

static inline int met_sample_is_arrival(const met_sample *s)
{
	return s->series == MET_SAMPLE_ARRIVAL;
}

/* How many of samples[0..n-1] are arrival records (for counting points). */
size_t met_samples_arrivals(const met_sample *samples, size_t n);

typedef struct met_shard {
	met_cell *cells;     /* by series id */
	uint32_t cap;
	uint32_t *touched;   /* series ids with n > 0, in first-touch order */
	uint32_t ntouched;
	uint32_t touched_cap;
	/* Raw sample log (keep_samples): grows to the busiest interval's size,
	 * then is reused, so steady-state recording does not allocate. Its
	 * pages (log) past what the last two intervals used are given back at
	 * each clear, so one late, bigger interval does not raise RSS for the
	 * rest of the run. It never holds more than samples_max (0:
	 * MET_SAMPLES_MAX): past it an interval's further samples are counted
	 * in samples_lost, which the sample outputs report as dropped points,
	 * and not kept. */
	int keep_samples;
	int keep_arrivals;   /* log arrival records too (implies keep_samples) */
	met_sample *samples; /* log.p */
	size_t nsamples, samples_cap, samples_max;
	pagebuf log;
	uint64_t samples_lost; /* this interval's samples not kept (arrival records not counted) */
	int samples_full;      /* the log refused to grow: nothing more this interval */
	met_sample ctx;      /* wall_ns / vu / iter stamped on the next samples */
} met_shard;

void met_shard_init(met_shard *s);
/* Frees all storage (histograms included). */
void met_shard_free(met_shard *s);
/* Zeroes every touched cell, keeping storage for reuse; the sample log
 * keeps the pages the last two intervals needed (pagebuf_settle). */
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

/* At most this many raw samples per shard and interval (32 bytes each:
 * 256 MiB), far past what a worker records in one interval. */
#define MET_SAMPLES_MAX ((size_t)1 << 23)

/* Slow path: room for need more samples in the log. 0, or -1 when that
 * would pass its maximum (the log is then full until the next clear). */
int met_shard_log_slow(met_shard *s, size_t need);

/* Sets when, and for which VU and iteration, the next samples are taken. */
static inline void met_shard_stamp(met_shard *s, uint64_t wall_ns, uint32_t vu_id, uint64_t iter)
{
	s->ctx.wall_ns = wall_ns;
	s->ctx.vu = vu_id;
	s->ctx.iter = iter;
}

static inline void met_shard_log(met_shard *s, uint32_t series, double v)
{
	met_sample *m;

	if (!s->keep_samples)
		return;
	if ((s->nsamples == s->samples_cap || s->samples_full) && met_shard_log_slow(s, 1) < 0) {
		s->samples_lost++;
		return;
	}
	m = &s->samples[s->nsamples++];
	*m = s->ctx;
	m->series = series;
	m->value = v;
}

/* Logs an arrival record for the next sample (see MET_SAMPLE_ARRIVAL):
 * the scheduled instant sched_ns and the arrival index. Nothing unless
 * keep_arrivals. */
static inline void met_shard_arrival(met_shard *s, uint64_t sched_ns, uint64_t index)
{
	met_sample *m;

	if (!s->keep_arrivals)
		return;
	/* Room for the record and its sample, or neither is kept. */
	if (s->samples_cap - s->nsamples < 2 && met_shard_log_slow(s, 2) < 0)
		return;
	m = &s->samples[s->nsamples++];
	m->wall_ns = sched_ns;
	m->iter = index;
	m->vu = 0;
	m->series = MET_SAMPLE_ARRIVAL;
	m->value = 0;
}

static inline void met_shard_add(met_shard *s, const met_registry *r, uint32_t series, double v)
{
	met_cell *c = met_shard_cell(s, r, series);

	c->n++;
	c->u.sum += v;
	met_shard_log(s, series, v);
}

static inline void met_shard_rate(met_shard *s, const met_registry *r, uint32_t series, int nonzero)
{
	met_cell *c = met_shard_cell(s, r, series);

	c->n++;
	c->u.rate.nonzero += nonzero != 0;
	met_shard_log(s, series, nonzero != 0);
}

static inline void met_shard_trend(met_shard *s, const met_registry *r, uint32_t series, uint64_t ns)
{
	met_cell *c = met_shard_cell(s, r, series);

	c->n++;
	met_hist_record(c->hist, ns);
	met_shard_log(s, series, (double)ns);
}

void met_shard_gauge(met_shard *s, const met_registry *r, uint32_t series, double v);

/* Adds src's touched cells into dst. For gauges, the later value wins and
 * min/max widen. When dst keeps samples, src's samples are appended. */
void met_shard_merge(met_shard *dst, const met_registry *r, const met_shard *src);

#endif
