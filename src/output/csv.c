#include "output/csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "output/lineproto.h"
#include "output/sample_file.h"
#include "output/series_text.h"

/* k6's tag columns, in k6's order (between metric_value and extra_tags). */
static const char *const columns[] = {
	"check", "error", "error_code", "expected_response", "group", "method", "name", "proto",
	"scenario", "service", "status", "subproto", "tls_version", "url",
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

typedef struct csv_enc {
	const met_registry *reg;
	series_texts texts; /* by series id: "metric_name," NUL ",check,...,extra_tags," NUL */
} csv_enc;

/* A field, quoted as Go's encoding/csv (and RFC 4180) would. */
static int field_append(buf *b, const char *s)
{
	const char *p;

	if (!strpbrk(s, ",\"\r\n") && s[0] != ' ' && s[0] != '\t')
		return buf_appends(b, s);
	if (buf_append(b, "\"", 1) < 0)
		return -1;
	for (p = s; *p; p++)
		if (buf_append(b, p, 1) < 0 || (*p == '"' && buf_append(b, "\"", 1) < 0))
			return -1;
	return buf_append(b, "\"", 1);
}

static int is_column(const char *key)
{
	size_t i;

	for (i = 0; i < NCOLUMNS; i++)
		if (strcmp(columns[i], key) == 0)
			return 1;
	return 0;
}

static char *series_text(csv_enc *e, uint32_t id)
{
	const met_tagset *ts = met_tagset_get(e->reg, met_series_tagset(e->reg, id));
	buf t, extra;
	size_t i;
	uint32_t k;

	buf_init(&t, 256, 1 << 20);
	buf_init(&extra, 64, 1 << 20);
	field_append(&t, met_metric(e->reg, met_series_metric(e->reg, id))->name);
	buf_append(&t, ",", 2);
	for (i = 0; i < NCOLUMNS; i++) {
		const char *v = met_tagset_value(ts, columns[i]);

		buf_append(&t, ",", 1);
		if (v)
			field_append(&t, v);
	}
	for (k = 0; k < ts->n; k++) {
		if (is_column(ts->tags[k].key))
			continue;
		buf_printf(&extra, "%s%s=%s", extra.len ? "&" : "", ts->tags[k].key, ts->tags[k].value);
	}
	buf_append(&t, ",", 1);
	if (extra.len) {
		buf_append(&extra, "", 1);
		field_append(&t, extra.data);
	}
	buf_append(&t, ",", 2);
	buf_free(&extra);
	return t.data;
}

static int enc_begin(void *self, buf *b)
{
	size_t i;

	buf_appends(b, "metric_name,timestamp,metric_value");
	for (i = 0; i < NCOLUMNS; i++)
		buf_printf(b, ",%s", columns[i]);
	return buf_appends(b, ",extra_tags,metadata\n");
}

/* "%f", without printf for the usual whole numbers and nanosecond times. */
static size_t value_format(char *out, const met_def *def, double v)
{
	size_t n;

	if (def->contains == MET_TIME && v >= 0 && v < 1.8e19)
		return lp_ms_format(out, (uint64_t)v, 1);
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		n = lp_num_format(out, v);
		memcpy(out + n, ".000000", 8);
		return n + 7;
	}
	return (size_t)snprintf(out, LP_NUM_MAX, "%f", isfinite(v) && fabs(v) < 1e18 ? v : 0);
}

static char *make_text(void *ctx, uint32_t id)
{
	return series_text(ctx, id);
}

static int enc_sample(void *self, buf *b, const met_sample *s)
{
	csv_enc *e = self;
	size_t start = b->len, n;
	const char *name, *cols;
	char num[LP_NUM_MAX], sec[LP_NUM_MAX];

	if (met_sample_is_arrival(s)) /* the JSON output's, when both are on */
		return 0;
	name = series_texts_get(&e->texts, s->series, make_text, e);
	cols = name + strlen(name) + 1;
	n = value_format(num, met_metric(e->reg, met_series_metric(e->reg, s->series)), s->value);
	if (buf_appends(b, name) < 0 || buf_append(b, sec, lp_u64_format(sec, s->wall_ns / NS_PER_SEC)) < 0 ||
	    buf_append(b, ",", 1) < 0 || buf_append(b, num, n) < 0 || buf_appends(b, cols) < 0)
		goto full;
	if (s->vu && buf_printf(b, "vu=%u&iter=%llu", s->vu, (unsigned long long)s->iter) < 0)
		goto full;
	if (buf_append(b, "\n", 1) < 0)
		goto full;
	return 0;
full:
	b->len = start;
	return -1;
}

static void enc_destroy(void *self)
{
	csv_enc *e = self;

	series_texts_free(&e->texts);
	free(e);
}

static int csv_open(output *o, const char *arg, const output_env *env, char *err, size_t errsz)
{
	csv_enc *e = xcalloc(1, sizeof(*e));
	sample_file_enc enc = {enc_begin, enc_sample, enc_destroy, e};

	e->reg = env->reg;
	return sample_file_open(o, arg, &enc, err, errsz);
}

const output_ops csv_output_ops = {"csv", csv_open, sample_file_snapshot, sample_file_close, sample_file_stats};
