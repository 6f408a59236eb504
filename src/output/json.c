#include "output/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "output/lineproto.h"
#include "output/sample_file.h"
#include "output/series_text.h"

typedef struct json_enc {
	const met_registry *reg;
	series_texts texts; /* by series id: Point line head NUL ,"tags":{...} NUL */
	uint8_t defined[MET_MAX_METRICS];
	time_t sec;      /* the second date[] holds */
	char date[24];   /* "2026-01-02T03:04:05." */
	/* The arrival record just read, for the sample after it. */
	int have_arrival;
	uint64_t sched_ns, arrival;
} json_enc;

static const char *type_name(met_type t)
{
	static const char *const names[] = {"counter", "gauge", "rate", "trend"};

	return names[t];
}

static const char *contains_name(met_contains c)
{
	static const char *const names[] = {"default", "time", "data"};

	return names[c];
}

/* A JSON string, quotes included. Bytes >= 0x80 pass through: tag values
 * come from the plan and the URL, which are UTF-8. */
static int str_append(buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s, *p;

	if (buf_append(b, "\"", 1) < 0)
		return -1;
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		size_t n = 6;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			n = 2;
		}
		if (buf_append(b, run, (size_t)(p - run)) < 0 || buf_append(b, esc, n) < 0)
			return -1;
		run = p + 1;
	}
	if (buf_append(b, run, (size_t)(p - run)) < 0)
		return -1;
	return buf_append(b, "\"", 1);
}

static char *series_text(json_enc *e, uint32_t id)
{
	const met_tagset *ts = met_tagset_get(e->reg, met_series_tagset(e->reg, id));
	const char *name = met_metric(e->reg, met_series_metric(e->reg, id))->name;
	uint32_t i;
	buf t;

	buf_init(&t, 256, 1 << 20);
	buf_appends(&t, "{\"metric\":");
	str_append(&t, name);
	buf_appends(&t, ",\"type\":\"Point\",\"data\":{\"time\":\"");
	buf_append(&t, "", 1);
	buf_appends(&t, ",\"tags\":{");
	for (i = 0; i < ts->n; i++) {
		if (i)
			buf_append(&t, ",", 1);
		str_append(&t, ts->tags[i].key);
		buf_append(&t, ":", 1);
		str_append(&t, ts->tags[i].value);
	}
	if (buf_append(&t, "}", 2) < 0) { /* tags over 1 MiB: leave them out */
		t.len = 0;
		buf_appends(&t, "{\"metric\":");
		str_append(&t, name);
		buf_appends(&t, ",\"type\":\"Point\",\"data\":{\"time\":\"");
		buf_append(&t, "\0,\"tags\":{}", 12);
	}
	return t.data;
}

static int metric_line(json_enc *e, buf *b, uint32_t metric)
{
	const met_def *d = met_metric(e->reg, metric);

	if (buf_appends(b, "{\"type\":\"Metric\",\"data\":{\"name\":") < 0 || str_append(b, d->name) < 0 ||
	    buf_printf(b, ",\"type\":\"%s\",\"contains\":\"%s\",\"thresholds\":[],\"submetrics\":null},\"metric\":",
		       type_name(d->type), contains_name(d->contains)) < 0 ||
	    str_append(b, d->name) < 0 || buf_append(b, "}\n", 2) < 0)
		return -1;
	return 0;
}

static int time_append(json_enc *e, buf *b, uint64_t ns)
{
	time_t sec = (time_t)(ns / NS_PER_SEC);
	char frac[16];

	/* gmtime once per second, not once per sample. */
	if (sec != e->sec || !e->date[0]) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(e->date, sizeof(e->date), "%Y-%m-%dT%H:%M:%S.", &tm);
		e->sec = sec;
	}
	snprintf(frac, sizeof(frac), "%09llu", (unsigned long long)(ns % NS_PER_SEC));
	if (buf_appends(b, e->date) < 0 || buf_append(b, frac, 9) < 0)
		return -1;
	return buf_append(b, "Z\"", 2);
}

static char *make_text(void *ctx, uint32_t id)
{
	return series_text(ctx, id);
}

static int enc_sample(void *self, buf *b, const met_sample *s)
{
	json_enc *e = self;
	size_t start = b->len;
	uint32_t metric;
	const met_def *def;
	const char *head, *tags;
	char num[LP_NUM_MAX];
	size_t n;

	if (met_sample_is_arrival(s)) {
		e->have_arrival = 1;
		e->sched_ns = s->wall_ns;
		e->arrival = s->iter;
		return 0;
	}
	metric = met_series_metric(e->reg, s->series);
	def = met_metric(e->reg, metric);
	head = series_texts_get(&e->texts, s->series, make_text, e);
	tags = head + strlen(head) + 1;
	if (!e->defined[metric] && metric_line(e, b, metric) < 0)
		goto full;
	if (def->contains == MET_TIME && s->value >= 0)
		n = lp_ms_format(num, (uint64_t)s->value, 0);
	else
		n = lp_num_format(num, s->value);
	if (buf_appends(b, head) < 0 || time_append(e, b, s->wall_ns) < 0 || buf_appends(b, ",\"value\":") < 0 ||
	    buf_append(b, num, n) < 0 || buf_appends(b, tags) < 0)
		goto full;
	if (e->have_arrival && buf_printf(b, ",\"scheduled_ns\":%llu,\"arrival\":%llu", (unsigned long long)e->sched_ns,
					  (unsigned long long)e->arrival) < 0)
		goto full;
	if (s->vu && buf_printf(b, ",\"metadata\":{\"iter\":\"%llu\",\"vu\":\"%u\"}", (unsigned long long)s->iter,
				s->vu) < 0)
		goto full;
	if (buf_append(b, "}}\n", 3) < 0)
		goto full;
	e->defined[metric] = 1;
	e->have_arrival = 0;
	return 0;
full:
	/* An empty chunk that cannot hold it: the caller skips this sample,
	 * and its arrival record with it. */
	if (!start)
		e->have_arrival = 0;
	b->len = start;
	return -1;
}

static void enc_destroy(void *self)
{
	json_enc *e = self;

	series_texts_free(&e->texts);
	free(e);
}

static int json_open(output *o, const char *arg, const output_env *env, char *err, size_t errsz)
{
	json_enc *e = xcalloc(1, sizeof(*e));
	sample_file_enc enc = {NULL, enc_sample, enc_destroy, e};

	e->reg = env->reg;
	if (sample_file_open(o, arg, &enc, err, errsz) < 0)
		return -1;
	/* Arrival-rate iterations' scheduled instants and indices (docs/outputs.md). */
	o->wants_samples |= MET_KEEP_ARRIVALS;
	return 0;
}

const output_ops json_output_ops = {"json", json_open, sample_file_snapshot, sample_file_close, sample_file_stats};
