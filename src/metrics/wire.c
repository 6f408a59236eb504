#include "metrics/wire.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "metrics/hist_codec.h"

static const char *const type_names[] = {"counter", "gauge", "rate", "trend"};
static const char *const contains_names[] = {"default", "time", "data"};

/* Integers travel as JSON integers up to 2^53 (what every JSON reader
 * keeps exactly); the nanosecond clocks fit for centuries. */
static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

char *met_wire_encode(const met_wire_meta *m, const met_registry *reg, const met_shard *iv)
{
	json_t *root = json_object(), *series = json_array();
	uint32_t i, k;
	char *text;

	json_object_set_new(root, "version", json_string(MET_WIRE_VERSION));
	json_object_set_new(root, "id", json_string(m->id));
	json_object_set_new(root, "instance", json_string(m->instance));
	json_object_set_new(root, "seq", u64(m->seq));
	json_object_set_new(root, "wall_ns", u64(m->wall_ns));
	json_object_set_new(root, "elapsed_ns", u64(m->elapsed_ns));
	json_object_set_new(root, "interval_ns", u64(m->interval_ns));
	json_object_set_new(root, "start_wall_ns", u64(m->start_wall_ns));
	json_object_set_new(root, "interval_start_ns", u64(m->interval_start_ns));
	json_object_set_new(root, "final", json_boolean(m->final));
	for (i = 0; i < iv->ntouched; i++) {
		uint32_t id = iv->touched[i];
		const met_cell *c = &iv->cells[id];
		const met_def *d = met_metric(reg, met_series_metric(reg, id));
		const met_tagset *ts = met_tagset_get(reg, met_series_tagset(reg, id));
		json_t *s, *tags;

		if (!c->n)
			continue;
		s = json_object();
		tags = json_object();
		for (k = 0; k < ts->n; k++)
			json_object_set_new(tags, ts->tags[k].key, json_string(ts->tags[k].value));
		json_object_set_new(s, "metric", json_string(d->name));
		json_object_set_new(s, "type", json_string(type_names[d->type]));
		json_object_set_new(s, "contains", json_string(contains_names[d->contains]));
		json_object_set_new(s, "tags", tags);
		json_object_set_new(s, "n", u64(c->n));
		switch (d->type) {
		case MET_COUNTER:
			json_object_set_new(s, "sum", json_real(c->u.sum));
			break;
		case MET_RATE:
			json_object_set_new(s, "nonzero", u64(c->u.rate.nonzero));
			break;
		case MET_GAUGE:
			json_object_set_new(s, "value", json_real(c->u.gauge.value));
			json_object_set_new(s, "min", json_real(c->u.gauge.min));
			json_object_set_new(s, "max", json_real(c->u.gauge.max));
			break;
		case MET_TREND: {
			char *h = met_hist_encode(c->hist);

			json_object_set_new(s, "hist", json_string(h));
			free(h);
			break;
		}
		}
		json_array_append_new(series, s);
	}
	json_object_set_new(root, "series", series);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return text;
}

static int name_index(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static int get_u64(json_t *o, const char *key, uint64_t *v)
{
	json_t *x = json_object_get(o, key);

	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(x);
	return 0;
}

static int get_real(json_t *o, const char *key, double *v)
{
	json_t *x = json_object_get(o, key);

	if (!json_is_number(x))
		return -1;
	*v = json_number_value(x);
	return 0;
}

/* One element of "series" into out. */
static int series_decode(json_t *s, size_t idx, met_registry *reg, met_shard *out, char *err, size_t errsz)
{
	const char *name = json_string_value(json_object_get(s, "metric"));
	int type = name_index(json_string_value(json_object_get(s, "type")), type_names, 4);
	int contains = name_index(json_string_value(json_object_get(s, "contains")), contains_names, 3);
	json_t *tags = json_object_get(s, "tags"), *v;
	met_tag tv[MET_MAX_TAGS];
	const char *key;
	size_t nt = 0;
	uint32_t series;
	uint64_t n;
	met_cell *c;
	int m;

	if (!name || type < 0 || contains < 0 || !json_is_object(tags) || get_u64(s, "n", &n) < 0 || !n) {
		snprintf(err, errsz, "series %zu: expected metric, type, contains, tags and n > 0", idx);
		return -1;
	}
	m = met_metric_find(reg, name);
	if (m >= 0 && met_metric(reg, (uint32_t)m)->type != (met_type)type) {
		snprintf(err, errsz, "series %zu: metric %s is a %s here, not a %s", idx, name,
			 type_names[met_metric(reg, (uint32_t)m)->type], type_names[type]);
		return -1;
	}
	if (m < 0)
		m = met_metric_add(reg, name, (met_type)type, (met_contains)contains);
	if (m < 0) {
		snprintf(err, errsz, "series %zu: metric %s cannot be added (too many metrics)", idx, name);
		return -1;
	}
	json_object_foreach(tags, key, v) {
		/* The collector's registry keeps MET_MAX_TAGS of a set: past that
		 * it would drop some and merge series that differ, so refuse. */
		if (nt == MET_MAX_TAGS || !json_is_string(v)) {
			snprintf(err, errsz, "series %zu: more than %d tags, or a tag value that is not a string", idx,
				 MET_MAX_TAGS);
			return -1;
		}
		tv[nt].key = key;
		tv[nt].value = json_string_value(v);
		nt++;
	}
	series = met_series_intern(reg, (uint32_t)m, met_tagset_intern(reg, tv, nt));
	c = met_shard_cell(out, reg, series);
	if (c->n) {
		snprintf(err, errsz, "series %zu: the same series twice", idx);
		return -1;
	}
	switch ((met_type)type) {
	case MET_COUNTER:
		if (get_real(s, "sum", &c->u.sum) < 0)
			goto bad;
		break;
	case MET_RATE:
		if (get_u64(s, "nonzero", &c->u.rate.nonzero) < 0 || c->u.rate.nonzero > n)
			goto bad;
		break;
	case MET_GAUGE:
		if (get_real(s, "value", &c->u.gauge.value) < 0 || get_real(s, "min", &c->u.gauge.min) < 0 ||
		    get_real(s, "max", &c->u.gauge.max) < 0)
			goto bad;
		break;
	case MET_TREND: {
		const char *h = json_string_value(json_object_get(s, "hist"));
		char herr[128];

		if (!h || met_hist_decode(c->hist, h, strlen(h), herr, sizeof(herr)) < 0) {
			snprintf(err, errsz, "series %zu: hist: %s", idx, h ? herr : "missing");
			return -1;
		}
		if (c->hist->count != n) {
			snprintf(err, errsz, "series %zu: n is %llu, its histogram holds %llu", idx, (unsigned long long)n,
				 (unsigned long long)c->hist->count);
			return -1;
		}
		break;
	}
	}
	c->n = n;
	return 0;
bad:
	/* The cell was touched with n 0: left as it is it would count as empty,
	 * but the whole push is refused anyway. */
	snprintf(err, errsz, "series %zu: a %s needs its values", idx, type_names[type]);
	return -1;
}

static void copy_str(char *dst, size_t dstsz, json_t *v)
{
	const char *s = json_string_value(v);

	snprintf(dst, dstsz, "%s", s ? s : "");
}

int met_wire_decode(const char *text, size_t len, met_registry *reg, met_shard *out, met_wire_meta *m, char *err,
		    size_t errsz)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *series, *s;
	const char *version;
	size_t i;
	int rc = -1;

	met_shard_clear(out);
	memset(m, 0, sizeof(*m));
	if (!json_is_object(root)) {
		snprintf(err, errsz, "not a JSON object%s%s", root ? "" : ": ", root ? "" : je.text);
		goto out;
	}
	version = json_string_value(json_object_get(root, "version"));
	if (version && strcmp(version, "strain-collect/1") == 0) {
		/* /1 pushes carry no interval start: their time series cannot be
		 * put on the wall clock, so they are refused, not merged wrong. */
		snprintf(err, errsz,
			 "version 'strain-collect/1' (an older strain): this collector reads " MET_WIRE_VERSION
			 ", which carries each interval's wall-clock start; run the same strain version on the "
			 "instances and the collector");
		goto out;
	}
	if (!version || strcmp(version, MET_WIRE_VERSION) != 0) {
		snprintf(err, errsz, "version %s%s%s, expected " MET_WIRE_VERSION, version ? "'" : "",
			 version ? version : "missing", version ? "'" : "");
		goto out;
	}
	copy_str(m->id, sizeof(m->id), json_object_get(root, "id"));
	copy_str(m->instance, sizeof(m->instance), json_object_get(root, "instance"));
	series = json_object_get(root, "series");
	if (!m->id[0] || get_u64(root, "seq", &m->seq) < 0 || get_u64(root, "wall_ns", &m->wall_ns) < 0 ||
	    get_u64(root, "elapsed_ns", &m->elapsed_ns) < 0 || get_u64(root, "interval_ns", &m->interval_ns) < 0 ||
	    get_u64(root, "start_wall_ns", &m->start_wall_ns) < 0 ||
	    get_u64(root, "interval_start_ns", &m->interval_start_ns) < 0 ||
	    !json_is_boolean(json_object_get(root, "final")) || !json_is_array(series)) {
		snprintf(err, errsz, "expected id, seq, wall_ns, elapsed_ns, interval_ns, start_wall_ns, "
				     "interval_start_ns, final and series");
		goto out;
	}
	if (m->interval_ns > m->elapsed_ns || m->interval_start_ns != m->start_wall_ns + (m->elapsed_ns - m->interval_ns)) {
		snprintf(err, errsz, "interval_start_ns must be start_wall_ns + elapsed_ns - interval_ns");
		goto out;
	}
	m->final = json_is_true(json_object_get(root, "final"));
	json_array_foreach(series, i, s) {
		if (!json_is_object(s)) {
			snprintf(err, errsz, "series %zu: not an object", i);
			goto out;
		}
		if (series_decode(s, i, reg, out, err, errsz) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		met_shard_clear(out);
	json_decref(root);
	return rc;
}
