#include "metrics/query.h"

#include <string.h>

void met_agg_init(met_agg *a)
{
	memset(a, 0, sizeof(*a));
	a->hist = met_hist_create();
}

void met_agg_free(met_agg *a)
{
	met_hist_destroy(a->hist);
	a->hist = NULL;
}

static int matches(const met_tagset *ts, const met_tag *filter, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int negate = filter[i].key[0] == '!';
		const char *v = met_tagset_value(ts, filter[i].key + negate);
		int equal = v && strcmp(v, filter[i].value) == 0;

		if (equal == negate)
			return 0;
	}
	return 1;
}

size_t met_query(const met_shard *s, const met_registry *r, uint32_t metric, const met_tag *filter,
		 size_t nfilter, met_agg *out)
{
	size_t combined = 0;
	uint32_t i;

	out->type = met_metric(r, metric)->type;
	for (i = 0; i < s->ntouched; i++) {
		uint32_t id = s->touched[i];
		const met_cell *c = &s->cells[id];

		if (met_series_metric(r, id) != metric || !c->n)
			continue;
		if (nfilter && !matches(met_tagset_get(r, met_series_tagset(r, id)), filter, nfilter))
			continue;
		/* A gauge's run-wide figure is its run-wide series: the series
		 * per scenario (vus of one module while it runs) are parts of it
		 * at other times, and adding their last values would not make it. */
		if (out->type == MET_GAUGE && !nfilter &&
		    met_tagset_value(met_tagset_get(r, met_series_tagset(r, id)), "scenario"))
			continue;
		switch (out->type) {
		case MET_COUNTER:
			out->sum += c->u.sum;
			break;
		case MET_RATE:
			out->nonzero += c->u.rate.nonzero;
			break;
		case MET_GAUGE:
			/* Gauges of different series add up (vus per worker);
			 * min/max of the sum are not known, so widen. */
			out->value += c->u.gauge.value;
			if (!combined || c->u.gauge.min < out->min)
				out->min = c->u.gauge.min;
			if (!combined || c->u.gauge.max > out->max)
				out->max = c->u.gauge.max;
			break;
		case MET_TREND:
			met_hist_merge(out->hist, c->hist);
			break;
		}
		out->n += c->n;
		combined++;
	}
	return combined;
}
