#include "metrics/threshold.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "metrics/query.h"

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_filter(met_threshold *t, char *inner, char *err, size_t errsz)
{
	char *save = NULL, *part;
	uint32_t cap = 0;

	for (part = strtok_r(inner, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(part, ':'), *k, *v;

		if (!colon) {
			snprintf(err, errsz, "tag filter '%s': expected key:value", trim(part));
			return -1;
		}
		*colon = '\0';
		k = trim(part);
		v = trim(colon + 1);
		if (!*k) {
			snprintf(err, errsz, "tag filter: empty tag name");
			return -1;
		}
		if (t->nfilter == cap) {
			cap = cap ? cap * 2 : 4;
			t->filter = xrealloc(t->filter, cap * sizeof(*t->filter));
		}
		t->filter[t->nfilter].key = xstrdup(k);
		t->filter[t->nfilter].value = xstrdup(v);
		t->nfilter++;
	}
	return 0;
}

int met_threshold_parse(met_threshold *t, const char *metric_spec, const char *expr, const met_registry *reg,
			char *err, size_t errsz, int *err_in_expr)
{
	char spec[512], ex[256], *brace, *name, *p, *num, *end;
	const met_def *d;
	int m;

	memset(t, 0, sizeof(*t));
	*err_in_expr = 0;
	t->source = xstrdup(metric_spec);
	t->expr = xstrdup(expr);
	snprintf(spec, sizeof(spec), "%s", metric_spec);
	brace = strchr(spec, '{');
	if (brace) {
		char *close = strrchr(brace, '}');

		if (!close || close[1]) {
			snprintf(err, errsz, "'%s': expected METRIC{tag:value,...}", metric_spec);
			return -1;
		}
		*close = '\0';
		*brace = '\0';
		if (parse_filter(t, brace + 1, err, errsz) < 0)
			return -1;
	}
	name = trim(spec);
	m = met_metric_find(reg, name);
	if (m < 0) {
		snprintf(err, errsz, "unknown metric '%s'", name);
		return -1;
	}
	t->metric = (uint32_t)m;
	d = met_metric(reg, t->metric);

	*err_in_expr = 1;
	snprintf(ex, sizeof(ex), "%s", expr);
	p = trim(ex);
	if (strncmp(p, "p(", 2) == 0) {
		t->agg = TH_PCT;
		t->pct = strtod(p + 2, &end);
		if (end == p + 2 || *end != ')' || t->pct < 0 || t->pct > 100) {
			snprintf(err, errsz, "'%s': expected p(N) with N from 0 to 100", expr);
			return -1;
		}
		p = end + 1;
	} else {
		static const struct {
			const char *name;
			th_agg agg;
		} aggs[] = {{"avg", TH_AVG}, {"min", TH_MIN}, {"max", TH_MAX}, {"med", TH_MED},
			    {"rate", TH_RATE}, {"count", TH_COUNT}, {"value", TH_VALUE}};
		size_t i;

		for (i = 0; i < sizeof(aggs) / sizeof(aggs[0]); i++)
			if (strncmp(p, aggs[i].name, strlen(aggs[i].name)) == 0)
				break;
		if (i == sizeof(aggs) / sizeof(aggs[0])) {
			snprintf(err, errsz, "'%s': expected p(N), avg, min, max, med, rate, count or value, then a comparison",
				 expr);
			return -1;
		}
		t->agg = aggs[i].agg;
		p += strlen(aggs[i].name);
	}
	/* Which aggregations make sense for which metric type. */
	if ((d->type == MET_TREND && (t->agg == TH_RATE || t->agg == TH_COUNT || t->agg == TH_VALUE)) ||
	    (d->type == MET_RATE && t->agg != TH_RATE) ||
	    (d->type == MET_COUNTER && t->agg != TH_COUNT && t->agg != TH_RATE) ||
	    (d->type == MET_GAUGE && t->agg != TH_VALUE && t->agg != TH_MIN && t->agg != TH_MAX)) {
		snprintf(err, errsz, "'%s': %s is a %s; use %s", expr, d->name,
			 d->type == MET_TREND ? "trend" : d->type == MET_RATE ? "rate" : d->type == MET_COUNTER ? "counter" : "gauge",
			 d->type == MET_TREND ? "p(N), avg, min, max or med"
			 : d->type == MET_RATE ? "rate"
			 : d->type == MET_COUNTER ? "count or rate"
						  : "value, min or max");
		return -1;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (p[0] == '<' && p[1] == '=')
		t->op = TH_LE, p += 2;
	else if (p[0] == '>' && p[1] == '=')
		t->op = TH_GE, p += 2;
	else if (p[0] == '=' && p[1] == '=')
		t->op = TH_EQ, p += 2;
	else if (p[0] == '!' && p[1] == '=')
		t->op = TH_NE, p += 2;
	else if (p[0] == '<')
		t->op = TH_LT, p += 1;
	else if (p[0] == '>')
		t->op = TH_GT, p += 1;
	else {
		snprintf(err, errsz, "'%s': expected a comparison (<, <=, >, >=, ==, !=) after the aggregation", expr);
		return -1;
	}
	num = trim(p);
	t->value = strtod(num, &end);
	if (end == num || *end || !isfinite(t->value)) {
		snprintf(err, errsz, "'%s': expected a number after the comparison", expr);
		return -1;
	}
	return 0;
}

const char *met_threshold_op_str(th_op op)
{
	static const char *s[] = {"<", "<=", ">", ">=", "==", "!="};

	return s[op];
}

int met_threshold_eval(const met_threshold *t, const met_shard *total, const met_registry *reg, double secs,
		       met_threshold_result *res)
{
	const met_def *d = met_metric(reg, t->metric);
	double scale = d->type == MET_TREND && d->contains == MET_TIME ? 1e6 : 1, v = 0;
	met_agg a;
	int ok, no_data;

	met_agg_init(&a);
	met_query(total, reg, t->metric, t->filter, t->nfilter, &a);
	no_data = a.n == 0;
	switch (t->agg) {
	case TH_AVG:
		v = met_hist_mean(a.hist) / scale;
		break;
	case TH_MIN:
		v = d->type == MET_GAUGE ? a.min : (double)a.hist->min / scale;
		break;
	case TH_MAX:
		v = d->type == MET_GAUGE ? a.max : (double)a.hist->max / scale;
		break;
	case TH_MED:
		v = met_hist_percentile(a.hist, 50) / scale;
		break;
	case TH_PCT:
		v = met_hist_percentile(a.hist, t->pct) / scale;
		break;
	case TH_RATE:
		v = d->type == MET_RATE ? (a.n ? (double)a.nonzero / (double)a.n : 0) : a.sum / (secs > 0 ? secs : 1);
		break;
	case TH_COUNT:
		v = a.sum;
		break;
	case TH_VALUE:
		v = a.value;
		break;
	}
	met_agg_free(&a);
	switch (t->op) {
	case TH_LT:
		ok = v < t->value;
		break;
	case TH_LE:
		ok = v <= t->value;
		break;
	case TH_GT:
		ok = v > t->value;
		break;
	case TH_GE:
		ok = v >= t->value;
		break;
	case TH_EQ:
		ok = v == t->value;
		break;
	default:
		ok = v != t->value;
		break;
	}
	if (no_data)
		ok = 1;
	if (res) {
		res->failed = !ok;
		res->no_data = no_data;
		res->observed = v;
	}
	return ok;
}

void met_threshold_free(met_threshold *t)
{
	uint32_t i;

	for (i = 0; i < t->nfilter; i++) {
		free((char *)t->filter[i].key);
		free((char *)t->filter[i].value);
	}
	free(t->filter);
	free(t->source);
	free(t->expr);
	memset(t, 0, sizeof(*t));
}

int met_threshold_scope(const met_threshold *t, const char *key, const char *value, met_tag *buf, size_t cap,
			met_threshold *out)
{
	uint32_t j, n = 0;
	int has = 0;

	*out = *t;
	for (j = 0; j < t->nfilter && n + 1 < cap; j++) {
		has |= !strcmp(t->filter[j].key, key);
		buf[n++] = t->filter[j];
	}
	if (!has)
		buf[n++] = (met_tag){key, value};
	out->filter = buf;
	out->nfilter = n;
	return !has;
}
