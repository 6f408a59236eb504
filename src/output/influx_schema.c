#include "output/influx_schema.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "metrics/hist.h"
#include "output/lineproto.h"

/* Appends the series' tags with instance in its sorted place: InfluxDB
 * sorts tags by key itself, and does less work when they come sorted. */
static int tags_append(buf *b, const met_tagset *ts, const char *instance, const char *skip)
{
	uint32_t i;
	int placed = !instance || !*instance;

	for (i = 0; i < ts->n; i++) {
		const met_tag *t = &ts->tags[i];

		if (!placed && strcmp(t->key, "instance") >= 0) {
			placed = 1;
			/* The sample's own instance tag (the run's, --instance) wins
			 * over the output's host name: one key, written once. */
			if (strcmp(t->key, "instance") != 0 && lp_tag_append(b, "instance", instance) < 0)
				return -1;
		}
		if (skip && strcmp(t->key, skip) == 0)
			continue;
		if (lp_tag_append(b, t->key, t->value) < 0)
			return -1;
	}
	if (!placed && lp_tag_append(b, "instance", instance) < 0)
		return -1;
	return 0;
}

static int ms_field(buf *b, const char *key, uint64_t ns, int first)
{
	char num[LP_NUM_MAX];

	if (buf_append(b, first ? " " : ",", 1) < 0 || buf_appends(b, key) < 0 || buf_append(b, "=", 1) < 0)
		return -1;
	return buf_append(b, num, lp_ms_format(num, ns, 0));
}

static int trend_fields(buf *b, const met_hist *h, int time)
{
	static const struct { const char *key; double p; } pct[] = {
		{"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99},
	};
	double div = time ? 1e6 : 1; /* ns to ms; dividing rounds once, as the JSON output does */
	size_t i;

	if (lp_field_int_append(b, "count", (int64_t)h->count, 1) < 0)
		return -1;
	if (time) {
		if (ms_field(b, "sum", h->sum, 0) < 0 || ms_field(b, "min", h->min, 0) < 0 ||
		    ms_field(b, "max", h->max, 0) < 0)
			return -1;
	} else if (lp_field_float_append(b, "sum", (double)h->sum, 0) < 0 ||
		   lp_field_float_append(b, "min", (double)h->min, 0) < 0 ||
		   lp_field_float_append(b, "max", (double)h->max, 0) < 0) {
		return -1;
	}
	if (lp_field_float_append(b, "mean", met_hist_mean(h) / div, 0) < 0)
		return -1;
	for (i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		if (lp_field_float_append(b, pct[i].key, met_hist_percentile(h, pct[i].p) / div, 0) < 0)
			return -1;
	return 0;
}

static int cell_fields(buf *b, const met_def *def, const met_cell *c)
{
	switch (def->type) {
	case MET_TREND:
		return trend_fields(b, c->hist, def->contains == MET_TIME);
	case MET_COUNTER:
		if (lp_field_int_append(b, "count", (int64_t)c->n, 1) < 0)
			return -1;
		return lp_field_float_append(b, "sum", c->u.sum, 0);
	case MET_RATE:
		if (lp_field_int_append(b, "count", (int64_t)c->n, 1) < 0 ||
		    lp_field_int_append(b, "passes", (int64_t)c->u.rate.nonzero, 0) < 0)
			return -1;
		return lp_field_float_append(b, "rate", (double)c->u.rate.nonzero / (double)c->n, 0);
	case MET_GAUGE:
		if (lp_field_float_append(b, "value", c->u.gauge.value, 1) < 0 ||
		    lp_field_float_append(b, "min", c->u.gauge.min, 0) < 0)
			return -1;
		return lp_field_float_append(b, "max", c->u.gauge.max, 0);
	}
	return -1;
}

int64_t influx_agg_append(buf *b, const met_registry *reg, const met_shard *interval, uint64_t wall_ns,
			  const char *instance)
{
	size_t start = b->len;
	int64_t n = 0;
	uint32_t i;

	for (i = 0; i < interval->ntouched; i++) {
		uint32_t id = interval->touched[i];
		const met_cell *c = &interval->cells[id];
		const met_def *def = met_metric(reg, met_series_metric(reg, id));

		if (!c->n || (def->type == MET_TREND && (!c->hist || !c->hist->count)))
			continue;
		if (lp_measurement_append(b, def->name) < 0 ||
		    tags_append(b, met_tagset_get(reg, met_series_tagset(reg, id)), instance, NULL) < 0 ||
		    cell_fields(b, def, c) < 0 || lp_time_append(b, wall_ns) < 0) {
			b->len = start;
			return -1;
		}
		n++;
	}
	return n;
}

void influx_k6_init(influx_k6_enc *e, const met_registry *reg, const char *instance)
{
	memset(e, 0, sizeof(*e));
	e->reg = reg;
	e->instance = instance;
}

void influx_k6_free(influx_k6_enc *e)
{
	series_texts_free(&e->texts);
	memset(e, 0, sizeof(*e));
}

/* Builds "measurement,tags value=" NUL ",url=\"...\"" NUL for a series. */
static char *series_text(const influx_k6_enc *e, uint32_t id)
{
	const met_tagset *ts = met_tagset_get(e->reg, met_series_tagset(e->reg, id));
	const char *url = met_tagset_value(ts, "url");
	buf t;

	buf_init(&t, 256, 1 << 20);
	if (lp_measurement_append(&t, met_metric(e->reg, met_series_metric(e->reg, id))->name) < 0 ||
	    tags_append(&t, ts, e->instance, "url") < 0 || buf_append(&t, " value=\0", 8) < 0 ||
	    (url && *url && lp_field_string_append(&t, "url", url, 0) < 0) || buf_append(&t, "", 1) < 0) {
		/* A tag set over 1 MiB: keep just the measurement, never fail. */
		t.len = 0;
		buf_appends(&t, met_metric(e->reg, met_series_metric(e->reg, id))->name);
		buf_append(&t, " value=\0", 9);
	}
	return t.data;
}

static char *make_text(void *ctx, uint32_t id)
{
	return series_text(ctx, id);
}

int influx_k6_append(influx_k6_enc *e, buf *b, const met_sample *s)
{
	size_t start = b->len;
	const met_def *def;
	const char *head, *url;
	char num[LP_NUM_MAX];
	size_t n;

	if (met_sample_is_arrival(s)) /* the JSON output's, when both are on */
		return 0;
	head = series_texts_get(&e->texts, s->series, make_text, e);
	url = head + strlen(head) + 1;
	def = met_metric(e->reg, met_series_metric(e->reg, s->series));
	if (def->contains == MET_TIME && s->value >= 0)
		n = lp_ms_format(num, (uint64_t)s->value, 0);
	else
		n = lp_num_format(num, s->value);
	if (buf_appends(b, head) < 0 || buf_append(b, num, n) < 0 || buf_appends(b, url) < 0)
		goto full;
	if (s->vu && (lp_field_int_append(b, "vu", s->vu, 0) < 0 ||
		      lp_field_int_append(b, "iter", (int64_t)s->iter, 0) < 0))
		goto full;
	if (lp_time_append(b, s->wall_ns) < 0)
		goto full;
	return 0;
full:
	b->len = start;
	return -1;
}
