#include "metrics/shard.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void met_shard_init(met_shard *s)
{
	memset(s, 0, sizeof(*s));
}

void met_shard_free(met_shard *s)
{
	uint32_t i;

	for (i = 0; i < s->cap; i++)
		met_hist_destroy(s->cells[i].hist);
	free(s->touched);
	free(s->cells);
	pagebuf_free(&s->log);
	memset(s, 0, sizeof(*s));
}

int met_shard_log_slow(met_shard *s, size_t need)
{
	size_t max = s->samples_max ? s->samples_max : MET_SAMPLES_MAX, cap = s->samples_cap;

	if (s->samples_full || need > max || s->nsamples > max - need) {
		/* Full: later samples of this interval are refused too, so an
		 * arrival record never loses the sample it describes. */
		s->samples_full = 1;
		return -1;
	}
	if (cap - s->nsamples >= need)
		return 0;
	while (cap - s->nsamples < need)
		cap = cap ? cap * 2 : 4096;
	if (cap > max)
		cap = max;
	pagebuf_reserve(&s->log, cap * sizeof(*s->samples));
	s->samples = s->log.p;
	/* The mapping is whole pages: what is past cap stays unused, so the
	 * maximum holds exactly. */
	s->samples_cap = cap;
	return 0;
}

size_t met_samples_arrivals(const met_sample *samples, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += met_sample_is_arrival(&samples[i]) ? 1u : 0u;
	return k;
}

void met_shard_clear(met_shard *s)
{
	uint32_t i;

	for (i = 0; i < s->ntouched; i++) {
		met_cell *c = &s->cells[s->touched[i]];

		c->n = 0;
		memset(&c->u, 0, sizeof(c->u));
		if (c->hist)
			met_hist_reset(c->hist);
	}
	s->ntouched = 0;
	if (s->log.p)
		pagebuf_settle(&s->log, s->nsamples * sizeof(*s->samples));
	s->nsamples = 0;
	s->samples_lost = 0;
	s->samples_full = 0;
}

met_cell *met_shard_touch_slow(met_shard *s, const met_registry *r, uint32_t series)
{
	met_cell *c;

	if (series >= s->cap) {
		uint32_t cap = s->cap ? s->cap : 64;

		while (cap <= series)
			cap *= 2;
		s->cells = xrealloc(s->cells, cap * sizeof(*s->cells));
		memset(s->cells + s->cap, 0, (cap - s->cap) * sizeof(*s->cells));
		s->cap = cap;
	}
	c = &s->cells[series];
	if (c->n)
		return c;
	if (s->ntouched == s->touched_cap) {
		s->touched_cap = s->touched_cap ? s->touched_cap * 2 : 64;
		s->touched = xrealloc(s->touched, s->touched_cap * sizeof(*s->touched));
	}
	s->touched[s->ntouched++] = series;
	if (!c->hist && met_metric(r, met_series_metric(r, series))->type == MET_TREND)
		c->hist = met_hist_create();
	return c;
}

void met_shard_gauge(met_shard *s, const met_registry *r, uint32_t series, double v)
{
	met_cell *c = met_shard_cell(s, r, series);

	met_shard_log(s, series, v);
	if (!c->n || v < c->u.gauge.min)
		c->u.gauge.min = v;
	if (!c->n || v > c->u.gauge.max)
		c->u.gauge.max = v;
	c->u.gauge.value = v;
	c->n++;
}

void met_shard_merge(met_shard *dst, const met_registry *r, const met_shard *src)
{
	uint32_t i;

	for (i = 0; i < src->ntouched; i++) {
		uint32_t id = src->touched[i];
		const met_cell *sc = &src->cells[id];
		met_cell *dc;

		if (!sc->n)
			continue;
		dc = met_shard_cell(dst, r, id);
		switch (met_metric(r, met_series_metric(r, id))->type) {
		case MET_COUNTER:
			dc->u.sum += sc->u.sum;
			break;
		case MET_RATE:
			dc->u.rate.nonzero += sc->u.rate.nonzero;
			break;
		case MET_GAUGE:
			if (!dc->n || sc->u.gauge.min < dc->u.gauge.min)
				dc->u.gauge.min = sc->u.gauge.min;
			if (!dc->n || sc->u.gauge.max > dc->u.gauge.max)
				dc->u.gauge.max = sc->u.gauge.max;
			dc->u.gauge.value = sc->u.gauge.value;
			break;
		case MET_TREND:
			met_hist_merge(dc->hist, sc->hist);
			break;
		}
		dc->n += sc->n;
	}
	if (dst->keep_samples) {
		size_t n = src->nsamples;

		dst->samples_lost += src->samples_lost;
		/* What does not fit under dst's maximum is lost, cut before an
		 * arrival record whose sample would not come along. */
		while (n && met_shard_log_slow(dst, n) < 0) {
			dst->samples_full = 0;
			n = (dst->samples_max ? dst->samples_max : MET_SAMPLES_MAX) - dst->nsamples;
			if (n > src->nsamples)
				n = src->nsamples;
			if (n && met_sample_is_arrival(&src->samples[n - 1]))
				n--;
		}
		if (n < src->nsamples) {
			dst->samples_lost += src->nsamples - n - met_samples_arrivals(src->samples + n, src->nsamples - n);
			dst->samples_full = 1;
		}
		if (n)
			memcpy(dst->samples + dst->nsamples, src->samples, n * sizeof(*src->samples));
		dst->nsamples += n;
	}
}
