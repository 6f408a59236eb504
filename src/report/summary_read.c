#include "report/summary_read.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "metrics/hist_codec.h"
#include "report/timeline.h"

/* Limits against a file made to exhaust memory. A decoded histogram takes
 * about 19 KiB whatever its text, so their number is what must be bounded:
 * 16384 is a 12-hour run of a dozen modules at full resolution, about
 * 300 MiB decoded. */
#define MAX_NAME 8192        /* a module, strategy, request name or code */
#define MAX_SERIES 4096
#define MAX_ERROR_CODES 256  /* per series */
#define MAX_METRICS 64       /* in "histograms" */
#define MAX_HISTS 16384      /* decoded, in the whole document */
#define PATH_MAX_LEN 256

typedef struct rd {
	char *err;
	size_t errsz;
	uint32_t nhist;   /* decoded so far */
} rd;

static int bad(rd *r, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(rd *r, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, r->errsz, "%s: ", path);

	if (n >= 0 && (size_t)n < r->errsz) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->errsz - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Appends s to a path, cut at PATH_MAX_LEN - 1 (a long key shortens the
 * message, nothing else). */
static void path_cat(char *out, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (n > PATH_MAX_LEN - 1 - *len)
		n = PATH_MAX_LEN - 1 - *len;
	memmove(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
}

/* "parent.key", or "key" at the top; out may be parent. */
static void join(char *out, const char *parent, const char *key)
{
	size_t len = 0;

	if (out != parent)
		path_cat(out, &len, parent);
	else
		len = strlen(out);
	if (len)
		path_cat(out, &len, ".");
	path_cat(out, &len, key);
}

static void index_path(char *out, const char *parent, size_t i)
{
	char num[24];
	size_t len = 0;

	snprintf(num, sizeof(num), "[%zu]", i);
	path_cat(out, &len, parent);
	path_cat(out, &len, num);
}

static int is_finite_num(const json_t *v)
{
	return json_is_number(v) && isfinite(json_number_value(v));
}

static int check_num(rd *r, const json_t *v, const char *path, double lo, double hi, double *out)
{
	double x;

	if (!is_finite_num(v))
		return bad(r, path, "not a number");
	x = json_number_value(v);
	if (x < lo || x > hi)
		return bad(r, path, "%.10g out of range [%.10g, %.10g]", x, lo, hi);
	if (out)
		*out = x;
	return 0;
}

/* A count: an integer from 0 (jansson refuses integers past int64). */
static int check_u64(rd *r, const json_t *v, const char *path, uint64_t *out)
{
	if (!json_is_integer(v))
		return bad(r, path, "not an integer");
	if (json_integer_value(v) < 0)
		return bad(r, path, "negative");
	if (out)
		*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int check_str(rd *r, const json_t *v, const char *path, const char **out)
{
	if (!json_is_string(v))
		return bad(r, path, "not a string");
	if (json_string_length(v) > MAX_NAME)
		return bad(r, path, "longer than %d bytes", MAX_NAME);
	if (out)
		*out = json_string_value(v);
	return 0;
}

/* The plain objects are checked against tables: each known key's kind,
 * whether it must be there, and a range for numbers. Keys not listed are
 * left alone (the format may add keys). */
typedef enum kind { K_STR, K_STR_NULL, K_NUM, K_NUM_NULL, K_U64, K_BOOL, K_OBJ, K_ARR } kind;

typedef struct field {
	const char *key;
	kind k;
	int required;
	double lo, hi;
} field;

#define BIG 1e300

static int check_fields(rd *r, const json_t *o, const char *path, const field *fs, size_t n)
{
	char p[PATH_MAX_LEN];
	size_t i;

	if (!json_is_object(o))
		return bad(r, path, "not an object");
	for (i = 0; i < n; i++) {
		const json_t *v = json_object_get(o, fs[i].key);

		join(p, path, fs[i].key);
		if (!v) {
			if (fs[i].required)
				return bad(r, p, "missing");
			continue;
		}
		switch (fs[i].k) {
		case K_STR_NULL:
			if (json_is_null(v))
				break;
			/* fall through */
		case K_STR:
			if (check_str(r, v, p, NULL) < 0)
				return -1;
			break;
		case K_NUM_NULL:
			if (json_is_null(v))
				break;
			/* fall through */
		case K_NUM:
			if (check_num(r, v, p, fs[i].lo, fs[i].hi, NULL) < 0)
				return -1;
			break;
		case K_U64:
			if (check_u64(r, v, p, NULL) < 0)
				return -1;
			break;
		case K_BOOL:
			if (!json_is_boolean(v))
				return bad(r, p, "not true or false");
			break;
		case K_OBJ:
			if (!json_is_object(v))
				return bad(r, p, "not an object");
			break;
		case K_ARR:
			if (!json_is_array(v))
				return bad(r, p, "not an array");
			break;
		}
	}
	return 0;
}

#define NF(t) (sizeof(t) / sizeof((t)[0]))

static const field top_fields[] = {
	{"version", K_STR, 1, 0, 0},         {"description", K_STR, 0, 0, 0},
	{"start", K_STR, 0, 0, 0},           {"end", K_STR, 0, 0, 0},
	{"duration_ms", K_NUM, 1, 0, BIG},   {"interrupted", K_BOOL, 0, 0, 0},
	{"config", K_OBJ, 0, 0, 0},          {"metrics", K_OBJ, 1, 0, 0},
	{"errors", K_OBJ, 0, 0, 0},          {"checks", K_OBJ, 0, 0, 0},
	{"thresholds", K_ARR, 0, 0, 0},      {"comparison", K_OBJ, 0, 0, 0},
	{"outputs", K_ARR, 0, 0, 0},         {"plan", K_STR_NULL, 0, 0, 0},
	{"target", K_STR_NULL, 0, 0, 0},     {"strategy", K_STR, 0, 0, 0},
	{"phases", K_ARR, 0, 0, 0},          {"requests", K_ARR, 0, 0, 0},
	{"timeseries", K_OBJ, 0, 0, 0},      {"histograms", K_OBJ, 0, 0, 0},
	{"spikes", K_ARR, 0, 0, 0},          {"capacity", K_OBJ, 0, 0, 0},
	{"execution", K_OBJ, 0, 0, 0},
};
static const field execution_fields[] = {
	{"segment", K_STR, 1, 0, 0},  {"sequence", K_STR, 1, 0, 0}, {"instance", K_STR, 0, 0, 0},
	{"plan_id", K_STR, 0, 0, 0},  {"partial", K_BOOL, 0, 0, 0}, {"instances", K_ARR, 0, 0, 0},
};

/* Sections that strain-summary/2 brought; a /1 file has none. */
static const char *const v2_only[] = {"plan",	    "target",	  "strategy",  "phases",
				      "requests", "timeseries", "histograms", "spikes", "capacity", "execution"};

static const field config_fields[] = {
	{"vus", K_NUM, 0, 0, BIG},        {"threads", K_NUM, 0, 0, BIG},
	{"duration_ms", K_NUM, 0, 0, BIG}, {"iterations", K_NUM, 0, 0, BIG},
	{"timeout_ms", K_NUM, 0, 0, BIG},  {"no_connection_reuse", K_BOOL, 0, 0, 0},
};

static const field error_fields[] = {{"count", K_U64, 1, 0, 0}, {"description", K_STR, 0, 0, 0}};
static const field check_fields_t[] = {{"passes", K_U64, 1, 0, 0}, {"fails", K_U64, 1, 0, 0}};
static const field threshold_fields[] = {
	{"metric", K_STR, 1, 0, 0},         {"expression", K_STR, 1, 0, 0}, {"ok", K_BOOL, 1, 0, 0},
	{"observed", K_NUM_NULL, 0, -BIG, BIG}, {"abort_on_fail", K_BOOL, 0, 0, 0},
};
static const field output_fields[] = {
	{"spec", K_STR, 1, 0, 0},          {"points_written", K_U64, 0, 0, 0}, {"points_dropped", K_U64, 0, 0, 0},
	{"write_errors", K_U64, 0, 0, 0},  {"last_error", K_STR, 0, 0, 0},     {"flush_ms", K_NUM, 0, 0, BIG},
	{"flush_points_dropped", K_U64, 0, 0, 0}, {"flush_cut", K_BOOL, 0, 0, 0},
};
static const field cell_fields[] = {
	{"requests", K_U64, 1, 0, 0},  {"rps", K_NUM, 1, 0, BIG},       {"seconds", K_NUM, 0, 0, BIG},
	{"p50", K_NUM, 1, 0, BIG},     {"p95", K_NUM, 1, 0, BIG},       {"p99", K_NUM, 1, 0, BIG},
	{"max", K_NUM, 0, 0, BIG},     {"avg", K_NUM, 0, 0, BIG},       {"error_rate", K_NUM, 1, 0, 1},
	{"phases_avg_ms", K_OBJ, 0, 0, 0}, {"failed_threshold", K_STR, 0, 0, 0},
	{"failures", K_U64, 0, 0, 0},  {"failure_samples", K_U64, 0, 0, 0}, {"errors", K_OBJ, 0, 0, 0},
};
static const field verdict_fields[] = {
	{"module", K_STR, 1, 0, 0},   {"strategy", K_STR, 1, 0, 0}, {"p95_ratio", K_NUM, 0, 0, BIG},
	{"dominant_phase", K_STR, 0, 0, 0}, {"held", K_BOOL, 0, 0, 0}, {"text", K_STR, 0, 0, 0},
};
static const field phase_fields[] = {
	{"strategy", K_STR, 1, 0, 0}, {"modules", K_ARR, 1, 0, 0},
	{"start_ms", K_NUM, 1, 0, BIG}, {"end_ms", K_NUM, 1, 0, BIG},
};
static const field request_fields[] = {
	{"name", K_STR, 1, 0, 0},         {"module", K_STR, 1, 0, 0},    {"count", K_U64, 1, 0, 0},
	{"rate", K_NUM, 0, 0, BIG},       {"failures", K_U64, 1, 0, 0},  {"error_rate", K_NUM, 0, 0, 1},
	{"avg", K_NUM_NULL, 0, 0, BIG},   {"p50", K_NUM_NULL, 0, 0, BIG}, {"p90", K_NUM_NULL, 0, 0, BIG},
	{"p95", K_NUM_NULL, 0, 0, BIG},   {"p99", K_NUM_NULL, 0, 0, BIG}, {"max", K_NUM_NULL, 0, 0, BIG},
};
static const field spike_fields[] = {
	{"module", K_STR, 1, 0, 0},           {"strategy", K_STR, 1, 0, 0},
	{"start_ms", K_NUM, 1, 0, BIG},       {"length_ms", K_NUM, 1, 0, BIG},
	{"began_ms", K_NUM, 0, 0, BIG},       {"peak_p95_ms", K_NUM, 0, 0, BIG},
	{"max_ms", K_NUM, 0, 0, BIG},         {"baseline_p95_ms", K_NUM, 0, 0, BIG},
	{"ratio", K_NUM, 0, 0, BIG},          {"concurrent", K_ARR, 0, 0, 0},
	{"errors", K_OBJ, 0, 0, 0},           {"start_delay_max_ms", K_NUM, 0, 0, BIG},
	{"generator_late", K_BOOL, 0, 0, 0},
};
static const field metric_fields[] = {{"type", K_STR, 1, 0, 0}, {"contains", K_STR, 0, 0, 0}};

static int one_of(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

/* Every member of an object checked against one table. */
static int check_each(rd *r, const json_t *o, const char *path, const field *fs, size_t n)
{
	char p[PATH_MAX_LEN];
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		join(p, path, key);
		if (check_fields(r, v, p, fs, n) < 0)
			return -1;
	}
	return 0;
}

static int check_elems(rd *r, const json_t *a, const char *path, const field *fs, size_t n)
{
	char p[PATH_MAX_LEN];
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		index_path(p, path, i);
		if (check_fields(r, v, p, fs, n) < 0)
			return -1;
	}
	return 0;
}

static int check_metrics(rd *r, const json_t *ms)
{
	static const char *const types[] = {"counter", "rate", "gauge", "trend"};
	static const char *const contains[] = {"default", "time", "data"};
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	const char *name, *k;
	json_t *m, *v;

	json_object_foreach((json_t *)ms, name, m) {
		join(p, "metrics", name);
		if (check_fields(r, m, p, metric_fields, NF(metric_fields)) < 0)
			return -1;
		if (!one_of(json_string_value(json_object_get(m, "type")), types, NF(types)))
			return bad(r, p, "type: not counter, rate, gauge or trend");
		v = json_object_get(m, "contains");
		if (v && !one_of(json_string_value(v), contains, NF(contains)))
			return bad(r, p, "contains: not default, time or data");
		json_object_foreach(m, k, v) {
			if (strcmp(k, "type") == 0 || strcmp(k, "contains") == 0)
				continue;
			join(q, p, k);
			if (check_num(r, v, q, -BIG, BIG, NULL) < 0)
				return -1;
		}
	}
	return 0;
}

/* A comparison cell's exact parts (what strain merge adds up): the
 * failures by code, and the duration histogram, which may be empty. */
static int check_cell_extra(rd *r, const json_t *cell, const char *path)
{
	char p[PATH_MAX_LEN], z[PATH_MAX_LEN], why[160];
	const json_t *errs = json_object_get(cell, "errors"), *h = json_object_get(cell, "hist");
	const char *code;
	json_t *x;

	join(p, path, "errors");
	json_object_foreach((json_t *)errs, code, x) {
		join(z, p, code);
		if (!json_is_integer(x) || json_integer_value(x) < 0)
			return bad(r, z, "not a count");
	}
	if (!h)
		return 0;
	join(p, path, "hist");
	if (!json_is_string(h))
		return bad(r, p, "not a string");
	{
		met_hist *t = met_hist_create();
		int rc = met_hist_decode(t, json_string_value(h), json_string_length(h), why, sizeof(why));

		met_hist_destroy(t);
		if (rc < 0)
			return bad(r, p, "%s", why);
	}
	return 0;
}

static int check_comparison(rd *r, const json_t *c)
{
	static const field fs[] = {{"strategies", K_OBJ, 1, 0, 0}, {"verdict", K_ARR, 0, 0, 0}};
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	const char *s, *k;
	json_t *mods, *v;

	if (check_fields(r, c, "comparison", fs, NF(fs)) < 0)
		return -1;
	json_object_foreach(json_object_get(c, "strategies"), s, mods) {
		join(p, "comparison.strategies", s);
		if (!json_is_object(mods))
			return bad(r, p, "not an object");
		if (check_each(r, mods, p, cell_fields, NF(cell_fields)) < 0)
			return -1;
		json_object_foreach(mods, k, v) {
			json_t *ph = json_object_get(v, "phases_avg_ms"), *x;
			const char *pk;

			join(q, p, k);
			if (check_cell_extra(r, v, q) < 0)
				return -1;
			if (!ph)
				continue;
			join(q, q, "phases_avg_ms");
			json_object_foreach(ph, pk, x) {
				char z[PATH_MAX_LEN];

				join(z, q, pk);
				if (check_num(r, x, z, 0, BIG, NULL) < 0)
					return -1;
			}
		}
	}
	v = json_object_get(c, "verdict");
	return v ? check_elems(r, v, "comparison.verdict", verdict_fields, NF(verdict_fields)) : 0;
}

static int check_phases(rd *r, const json_t *a)
{
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	size_t i, j;
	json_t *ph, *m;

	if (check_elems(r, a, "phases", phase_fields, NF(phase_fields)) < 0)
		return -1;
	json_array_foreach(a, i, ph) {
		index_path(p, "phases", i);
		if (json_number_value(json_object_get(ph, "end_ms")) < json_number_value(json_object_get(ph, "start_ms")))
			return bad(r, p, "end_ms before start_ms");
		join(q, p, "modules");
		json_array_foreach(json_object_get(ph, "modules"), j, m) {
			char z[PATH_MAX_LEN];

			index_path(z, q, j);
			if (check_str(r, m, z, NULL) < 0)
				return -1;
		}
	}
	return 0;
}

static int check_requests(rd *r, const json_t *a)
{
	char p[PATH_MAX_LEN];
	size_t i;
	json_t *q;

	if (check_elems(r, a, "requests", request_fields, NF(request_fields)) < 0)
		return -1;
	json_array_foreach(a, i, q) {
		index_path(p, "requests", i);
		if (json_integer_value(json_object_get(q, "failures")) > json_integer_value(json_object_get(q, "count")))
			return bad(r, p, "more failures than requests");
	}
	return 0;
}

static const field capacity_fields[] = {
	{"mode", K_STR, 1, 0, 0},             {"step_ms", K_NUM, 1, 0, BIG},
	{"warmup_ms", K_NUM, 1, 0, BIG},      {"precision", K_NUM, 0, 0, 1},
	{"modules", K_ARR, 1, 0, 0},
};

static const field capacity_module_fields[] = {
	{"module", K_STR, 1, 0, 0},           {"sustainable_rate", K_NUM, 1, 0, BIG},
	{"first_failing_rate", K_NUM_NULL, 0, 0, BIG}, {"failed_objective", K_OBJ, 0, 0, 0},
	{"limited_by", K_STR, 1, 0, 0},       {"knee_rate", K_NUM_NULL, 0, 0, BIG},
	{"grew", K_STR_NULL, 0, 0, 0},        {"steps", K_ARR, 1, 0, 0},
};

static const field capacity_step_fields[] = {
	{"rate", K_NUM, 1, 0, BIG},           {"iterations_per_s", K_NUM, 0, 0, BIG},
	{"rps", K_NUM, 1, 0, BIG},            {"p50", K_NUM, 1, 0, BIG},
	{"p95", K_NUM, 1, 0, BIG},            {"p99", K_NUM, 1, 0, BIG},
	{"max", K_NUM, 0, 0, BIG},            {"error_rate", K_NUM, 1, 0, 1},
	{"dropped_iterations", K_U64, 0, 0, 0}, {"start_delay_p95", K_NUM, 0, 0, BIG},
	{"cpu", K_NUM, 0, 0, BIG},            {"ok", K_BOOL, 1, 0, 0},
	{"untrusted", K_STR, 0, 0, 0},        {"phases_avg_ms", K_OBJ, 0, 0, 0},
};

/* strain capacity's results: every module's figures and steps typed. */
static int check_capacity(rd *r, const json_t *c)
{
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	size_t i;
	json_t *m;

	if (check_fields(r, c, "capacity", capacity_fields, NF(capacity_fields)) < 0)
		return -1;
	if (check_elems(r, json_object_get(c, "modules"), "capacity.modules", capacity_module_fields,
			NF(capacity_module_fields)) < 0)
		return -1;
	json_array_foreach(json_object_get(c, "modules"), i, m) {
		index_path(p, "capacity.modules", i);
		join(q, p, "steps");
		if (json_array_size(json_object_get(m, "steps")) > 64)
			return bad(r, q, "more than 64 steps");
		if (check_elems(r, json_object_get(m, "steps"), q, capacity_step_fields, NF(capacity_step_fields)) < 0)
			return -1;
	}
	return 0;
}

static int check_spikes(rd *r, const json_t *a)
{
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN], z[PATH_MAX_LEN];
	const char *code;
	size_t i, j;
	json_t *w, *v;

	if (check_elems(r, a, "spikes", spike_fields, NF(spike_fields)) < 0)
		return -1;
	json_array_foreach(a, i, w) {
		index_path(p, "spikes", i);
		join(q, p, "concurrent");
		json_array_foreach(json_object_get(w, "concurrent"), j, v) {
			index_path(z, q, j);
			if (check_str(r, v, z, NULL) < 0)
				return -1;
		}
		join(q, p, "errors");
		json_object_foreach(json_object_get(w, "errors"), code, v) {
			join(z, q, code);
			if (check_u64(r, v, z, NULL) < 0)
				return -1;
		}
	}
	return 0;
}

/* A histogram's text decoded; "" is no histogram (*out NULL) when empty_ok. */
static int hist_parse(rd *r, const json_t *v, const char *path, int empty_ok, met_hist **out)
{
	char why[160];
	met_hist *h;

	*out = NULL;
	if (!json_is_string(v))
		return bad(r, path, "not a string");
	if (json_string_length(v) == 0) {
		if (empty_ok)
			return 0;
		return bad(r, path, "empty histogram");
	}
	if (r->nhist >= MAX_HISTS)
		return bad(r, path, "more than %d histograms in the file", MAX_HISTS);
	h = met_hist_create();
	if (met_hist_decode(h, json_string_value(v), json_string_length(v), why, sizeof(why)) < 0) {
		met_hist_destroy(h);
		return bad(r, path, "%s", why);
	}
	if (!h->count) {
		met_hist_destroy(h);
		return bad(r, path, "a histogram without samples");
	}
	r->nhist++;
	*out = h;
	return 0;
}

/* Is a figure the one its histogram gives? Figures are written with ten
 * significant digits, so they agree within that, not exactly. */
static int near(double figure, double ns)
{
	double ms = ns / 1e6;

	return fabs(figure - ms) <= 1e-9 * fmax(fabs(ms), 1e-6) + 1e-12;
}

static const char *const slot_pct[] = {"p50", "p90", "p95", "p99", "max"};
static const double slot_pct_p[] = {50, 90, 95, 99, 100};

/* An array member of a series: present, an array, n long. */
static int series_array(rd *r, const json_t *o, const char *path, const char *key, uint32_t n, json_t **out)
{
	char p[PATH_MAX_LEN];

	join(p, path, key);
	*out = json_object_get(o, key);
	if (!*out)
		return bad(r, p, "missing");
	if (!json_is_array(*out))
		return bad(r, p, "not an array");
	if (json_array_size(*out) != n)
		return bad(r, p, "%zu entries where t_ms has %u", json_array_size(*out), n);
	return 0;
}

static int u64_array(rd *r, const json_t *o, const char *path, const char *key, uint32_t n, uint64_t **out)
{
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	json_t *a;
	uint32_t k;

	if (series_array(r, o, path, key, n, &a) < 0)
		return -1;
	join(p, path, key);
	*out = xcalloc(n ? n : 1, sizeof(**out));
	for (k = 0; k < n; k++) {
		index_path(q, p, k);
		if (check_u64(r, json_array_get(a, k), q, &(*out)[k]) < 0)
			return -1;
	}
	return 0;
}

static int error_code_ok(const char *s)
{
	size_t i = 0, n;

	if (strncmp(s, "status:", 7) == 0)
		s += 7;
	n = strlen(s);
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n >= 1 && n <= 6;
}

static int series_parse(rd *r, const json_t *o, const char *path, uint64_t interval, sum_series *s)
{
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	double **pct[5] = {&s->p50, &s->p90, &s->p95, &s->p99, &s->max};
	const char *str, *code;
	json_t *a, *hs, *errs, *v;
	uint32_t n, k, i;

	if (!json_is_object(o))
		return bad(r, path, "not an object");
	join(p, path, "module");
	if (check_str(r, json_object_get(o, "module"), p, &str) < 0)
		return -1;
	s->module = xstrdup(str);
	join(p, path, "strategy");
	if (check_str(r, json_object_get(o, "strategy"), p, &str) < 0)
		return -1;
	s->strategy = xstrdup(str);
	a = json_object_get(o, "t_ms");
	join(p, path, "t_ms");
	if (!json_is_array(a))
		return bad(r, p, a ? "not an array" : "missing");
	if (json_array_size(a) > TIMELINE_MAX_SLOTS)
		return bad(r, p, "more than %d slots", TIMELINE_MAX_SLOTS);
	n = (uint32_t)json_array_size(a);
	s->n = n;
	s->t_ms = xcalloc(n ? n : 1, sizeof(double));
	for (k = 0; k < n; k++) {
		uint64_t t;

		index_path(q, p, k);
		if (check_u64(r, json_array_get(a, k), q, &t) < 0)
			return -1;
		/* Slot k starts at k x interval_ms, and a timeline never has
		 * more than TIMELINE_MAX_SLOTS of them. */
		if (t % interval || t / interval >= TIMELINE_MAX_SLOTS)
			return bad(r, q, "%llu is not the start of one of %d slots of %llu ms", (unsigned long long)t,
				   TIMELINE_MAX_SLOTS, (unsigned long long)interval);
		s->t_ms[k] = (double)t;
		if (k && s->t_ms[k] <= s->t_ms[k - 1])
			return bad(r, q, "not after the slot before");
	}
	if (u64_array(r, o, path, "requests", n, &s->requests) < 0 ||
	    u64_array(r, o, path, "failures", n, &s->failures) < 0 ||
	    u64_array(r, o, path, "iterations", n, &s->iterations) < 0 ||
	    u64_array(r, o, path, "dropped_iterations", n, &s->dropped) < 0)
		return -1;
	for (k = 0; k < n; k++)
		if (s->failures[k] > s->requests[k]) {
			join(p, path, "failures");
			index_path(q, p, k);
			return bad(r, q, "more failures than requests");
		}
	if (series_array(r, o, path, "vus", n, &a) < 0)
		return -1;
	s->vus = xcalloc(n ? n : 1, sizeof(double));
	join(p, path, "vus");
	for (k = 0; k < n; k++) {
		index_path(q, p, k);
		if (check_num(r, json_array_get(a, k), q, 0, BIG, &s->vus[k]) < 0)
			return -1;
	}
	/* Added to v2 after its first files: absent is no figure, not an error. */
	if (json_object_get(o, "start_delay_max")) {
		if (series_array(r, o, path, "start_delay_max", n, &a) < 0)
			return -1;
		s->start_delay_max = xcalloc(n ? n : 1, sizeof(double));
		join(p, path, "start_delay_max");
		for (k = 0; k < n; k++) {
			index_path(q, p, k);
			if (check_num(r, json_array_get(a, k), q, 0, BIG, &s->start_delay_max[k]) < 0)
				return -1;
		}
	}
	if (series_array(r, o, path, "hist", n, &hs) < 0)
		return -1;
	s->hist = xcalloc(n ? n : 1, sizeof(*s->hist));
	join(p, path, "hist");
	for (k = 0; k < n; k++) {
		index_path(q, p, k);
		if (hist_parse(r, json_array_get(hs, k), q, 1, &s->hist[k]) < 0)
			return -1;
		if (s->hist[k] && s->hist[k]->count > s->requests[k])
			return bad(r, q, "%llu samples in a slot of %llu requests", (unsigned long long)s->hist[k]->count,
				   (unsigned long long)s->requests[k]);
	}
	for (i = 0; i < 5; i++) {
		if (series_array(r, o, path, slot_pct[i], n, &a) < 0)
			return -1;
		*pct[i] = xcalloc(n ? n : 1, sizeof(double));
		join(p, path, slot_pct[i]);
		for (k = 0; k < n; k++) {
			const met_hist *h = s->hist[k];

			v = json_array_get(a, k);
			index_path(q, p, k);
			if (json_is_null(v)) {
				if (h)
					return bad(r, q, "null in a slot with a histogram");
				(*pct[i])[k] = NAN;
				continue;
			}
			if (check_num(r, v, q, 0, BIG, &(*pct[i])[k]) < 0)
				return -1;
			if (!h)
				return bad(r, q, "a figure in a slot without a histogram");
			if (!near((*pct[i])[k], met_hist_percentile(h, slot_pct_p[i])))
				return bad(r, q, "%.10g where its histogram gives %.10g", (*pct[i])[k],
					   met_hist_percentile(h, slot_pct_p[i]) / 1e6);
		}
	}
	errs = json_object_get(o, "errors");
	join(p, path, "errors");
	if (!errs)
		return 0;
	if (!json_is_object(errs))
		return bad(r, p, "not an object");
	if (json_object_size(errs) > MAX_ERROR_CODES)
		return bad(r, p, "more than %d error codes", MAX_ERROR_CODES);
	s->errors = xcalloc(json_object_size(errs) ? json_object_size(errs) : 1, sizeof(*s->errors));
	json_object_foreach(errs, code, v) {
		sum_errors *e = &s->errors[s->nerrors];

		join(q, p, code);
		if (!error_code_ok(code))
			return bad(r, q, "not an error code");
		e->code = xstrdup(code);
		s->nerrors++;
		if (u64_array(r, errs, p, code, n, &e->n) < 0)
			return -1;
		for (k = 0; k < n; k++)
			if (e->n[k] > s->failures[k]) {
				char z[PATH_MAX_LEN];

				index_path(z, q, k);
				return bad(r, z, "more than the slot's failures");
			}
	}
	return 0;
}

static int same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int timeseries_parse(rd *r, const json_t *ts, sum_doc *d)
{
	char p[PATH_MAX_LEN];
	json_t *series, *s;
	size_t i, j;

	uint64_t interval;

	if (check_u64(r, json_object_get(ts, "interval_ms"), "timeseries.interval_ms", &interval) < 0)
		return -1;
	/* 1 s doubled at most 40 times is 35 years. */
	if (interval < 1 || interval > (UINT64_C(1000) << 40))
		return bad(r, "timeseries.interval_ms", "%llu out of range", (unsigned long long)interval);
	d->interval_ms = (double)interval;
	series = json_object_get(ts, "series");
	if (!json_is_array(series))
		return bad(r, "timeseries.series", series ? "not an array" : "missing");
	if (json_array_size(series) > MAX_SERIES)
		return bad(r, "timeseries.series", "more than %d series", MAX_SERIES);
	d->series = xcalloc(json_array_size(series) + 1, sizeof(*d->series));
	json_array_foreach(series, i, s) {
		index_path(p, "timeseries.series", i);
		d->nseries++;
		if (series_parse(r, s, p, interval, &d->series[i]) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (same(d->series[j].module, d->series[i].module) &&
			    same(d->series[j].strategy, d->series[i].strategy))
				return bad(r, p, "module '%s' strategy '%s' already in series[%zu]", d->series[i].module,
					   d->series[i].strategy, j);
	}
	return 0;
}

static sum_hist *hist_slot(sum_doc *d)
{
	return &d->hists[d->nhists++];
}

static int figure_check(rd *r, const json_t *m, const char *path, const char *key, double ns)
{
	const json_t *v = json_object_get(m, key);
	char p[PATH_MAX_LEN];

	if (!v)
		return 0;
	join(p, path, key);
	if (!near(json_number_value(v), ns))
		return bad(r, p, "%.10g where histograms gives %.10g", json_number_value(v), ns / 1e6);
	return 0;
}

/* The total against the metric it backs: count exact, min/max/percentiles
 * within the figures' precision (time trends are in ms, others as is). */
static int total_check(rd *r, const json_t *metrics, const char *metric, const char *hpath, const met_hist *h)
{
	const json_t *m = json_object_get(metrics, metric), *c;
	double scale;
	char p[PATH_MAX_LEN];

	if (!m)
		return bad(r, hpath, "no such metric in metrics");
	join(p, "metrics", metric);
	if (strcmp(json_string_value(json_object_get(m, "type")), "trend") != 0)
		return bad(r, hpath, "%s is not a trend", p);
	c = json_object_get(m, "count");
	if (c && json_number_value(c) != (double)h->count)
		return bad(r, hpath, "%llu samples where %s.count is %.10g", (unsigned long long)h->count, p,
			   json_number_value(c));
	c = json_object_get(m, "contains");
	/* near() takes nanoseconds: other trends are compared as if recorded ×1e6. */
	scale = c && strcmp(json_string_value(c), "time") == 0 ? 1 : 1e6;
	if (figure_check(r, m, p, "min", (double)h->min * scale) < 0 || figure_check(r, m, p, "max", (double)h->max * scale) < 0 ||
	    figure_check(r, m, p, "med", met_hist_percentile(h, 50) * scale) < 0 ||
	    figure_check(r, m, p, "p(95)", met_hist_percentile(h, 95) * scale) < 0)
		return -1;
	return 0;
}

static int histograms_parse(rd *r, const json_t *hs, const json_t *metrics, sum_doc *d)
{
	static const field fs[] = {{"total", K_STR, 1, 0, 0}, {"groups", K_ARR, 0, 0, 0}, {"names", K_ARR, 0, 0, 0}};
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN], z[PATH_MAX_LEN];
	const char *metric, *str;
	json_t *m, *e;
	size_t cap = 0, i, j;

	if (json_object_size(hs) > MAX_METRICS)
		return bad(r, "histograms", "more than %d metrics", MAX_METRICS);
	json_object_foreach((json_t *)hs, metric, m) {
		join(p, "histograms", metric);
		if (check_fields(r, m, p, fs, NF(fs)) < 0)
			return -1;
		cap += 1 + json_array_size(json_object_get(m, "groups")) + json_array_size(json_object_get(m, "names"));
	}
	if (cap > MAX_HISTS)
		return bad(r, "histograms", "more than %d histograms", MAX_HISTS);
	d->hists = xcalloc(cap + 1, sizeof(*d->hists));
	json_object_foreach((json_t *)hs, metric, m) {
		sum_hist *t = hist_slot(d);
		uint32_t first = d->nhists - 1;

		join(p, "histograms", metric);
		t->metric = xstrdup(metric);
		join(q, p, "total");
		if (hist_parse(r, json_object_get(m, "total"), q, 0, &t->hist) < 0 ||
		    total_check(r, metrics, metric, q, t->hist) < 0)
			return -1;
		join(q, p, "groups");
		json_array_foreach(json_object_get(m, "groups"), i, e) {
			sum_hist *g = hist_slot(d);

			g->metric = xstrdup(metric);
			index_path(z, q, i);
			if (!json_is_object(e))
				return bad(r, z, "not an object");
			join(p, z, "module");
			if (check_str(r, json_object_get(e, "module"), p, &str) < 0)
				return -1;
			g->module = xstrdup(str);
			join(p, z, "strategy");
			if (check_str(r, json_object_get(e, "strategy"), p, &str) < 0)
				return -1;
			g->strategy = xstrdup(str);
			join(p, z, "hist");
			if (hist_parse(r, json_object_get(e, "hist"), p, 0, &g->hist) < 0)
				return -1;
			for (j = first + 1; j < d->nhists - 1; j++)
				if (d->hists[j].module && same(d->hists[j].module, g->module) &&
				    same(d->hists[j].strategy, g->strategy))
					return bad(r, z, "module '%s' strategy '%s' given twice", g->module, g->strategy);
		}
		join(p, "histograms", metric);
		join(q, p, "names");
		json_array_foreach(json_object_get(m, "names"), i, e) {
			sum_hist *g = hist_slot(d);

			g->metric = xstrdup(metric);
			index_path(z, q, i);
			if (!json_is_object(e))
				return bad(r, z, "not an object");
			join(p, z, "name");
			if (check_str(r, json_object_get(e, "name"), p, &str) < 0)
				return -1;
			g->name = xstrdup(str);
			join(p, z, "hist");
			if (hist_parse(r, json_object_get(e, "hist"), p, 0, &g->hist) < 0)
				return -1;
			for (j = first + 1; j < d->nhists - 1; j++)
				if (d->hists[j].name && same(d->hists[j].name, g->name))
					return bad(r, z, "name '%s' given twice", g->name);
		}
	}
	return 0;
}

static int doc_parse(rd *r, sum_doc *d)
{
	const json_t *root = d->root, *v;
	const char *version;
	size_t i;

	if (!json_is_object(root))
		return bad(r, "(document)", "not a JSON object");
	v = json_object_get(root, "version");
	if (!v)
		return bad(r, "version", "missing: not a strain summary (strain run --summary-export)");
	if (!json_is_string(v))
		return bad(r, "version", "not a string");
	version = json_string_value(v);
	if (strcmp(version, "strain-summary/1") == 0)
		d->version = 1;
	else if (strcmp(version, "strain-summary/2") == 0)
		d->version = 2;
	else
		return bad(r, "version", "'%.64s' is not a version this strain reads (strain-summary/1 or /2)", version);
	if (check_fields(r, root, "", top_fields, NF(top_fields)) < 0)
		return -1;
	if (d->version == 1)
		for (i = 0; i < NF(v2_only); i++)
			if (json_object_get(root, v2_only[i]))
				return bad(r, v2_only[i], "not part of strain-summary/1");
	v = json_object_get(root, "execution");
	if (v && check_fields(r, v, "execution", execution_fields, NF(execution_fields)) < 0)
		return -1;
	v = json_object_get(root, "config");
	if (v && check_fields(r, v, "config", config_fields, NF(config_fields)) < 0)
		return -1;
	if (check_metrics(r, json_object_get(root, "metrics")) < 0)
		return -1;
	v = json_object_get(root, "errors");
	if (v && check_each(r, v, "errors", error_fields, NF(error_fields)) < 0)
		return -1;
	v = json_object_get(root, "checks");
	if (v && check_each(r, v, "checks", check_fields_t, NF(check_fields_t)) < 0)
		return -1;
	v = json_object_get(root, "thresholds");
	if (v && check_elems(r, v, "thresholds", threshold_fields, NF(threshold_fields)) < 0)
		return -1;
	v = json_object_get(root, "outputs");
	if (v && check_elems(r, v, "outputs", output_fields, NF(output_fields)) < 0)
		return -1;
	v = json_object_get(root, "comparison");
	if (v && check_comparison(r, v) < 0)
		return -1;
	v = json_object_get(root, "phases");
	if (v && check_phases(r, v) < 0)
		return -1;
	v = json_object_get(root, "requests");
	if (v && check_requests(r, v) < 0)
		return -1;
	v = json_object_get(root, "spikes");
	if (v && check_spikes(r, v) < 0)
		return -1;
	v = json_object_get(root, "capacity");
	if (v && check_capacity(r, v) < 0)
		return -1;
	v = json_object_get(root, "timeseries");
	if (v && timeseries_parse(r, v, d) < 0)
		return -1;
	v = json_object_get(root, "histograms");
	if (v && histograms_parse(r, v, json_object_get(root, "metrics"), d) < 0)
		return -1;
	return 0;
}

sum_doc *summary_parse(const char *text, size_t len, char *err, size_t errsz)
{
	rd r = {err, errsz, 0};
	json_error_t jerr;
	sum_doc *d = NULL;

	if (len > SUMMARY_MAX_BYTES) {
		snprintf(err, errsz, "larger than %d MiB", SUMMARY_MAX_BYTES >> 20);
		goto out;
	}
	d = xcalloc(1, sizeof(*d));
	/* Duplicate keys would make "the" value of a field a matter of which
	 * one a reader keeps. */
	d->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!d->root) {
		snprintf(err, errsz, "not JSON: line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		goto fail;
	}
	if (doc_parse(&r, d) < 0)
		goto fail;
	goto out;
fail:
	summary_doc_free(d);
	d = NULL;
out:
	return d;
}

sum_doc *summary_read(const char *path, char *err, size_t errsz)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = NULL, why[512];
	sum_doc *d = NULL;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* Read in steps rather than by its size: a pipe (<(...)) has none. */
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap > SUMMARY_MAX_BYTES) {
				snprintf(err, errsz, "%s: larger than %d MiB", path, SUMMARY_MAX_BYTES >> 20);
				goto out;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	d = summary_parse(buf, len, why, sizeof(why));
	if (!d)
		snprintf(err, errsz, "%s: %s", path, why);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return d;
}

static void series_free(sum_series *s)
{
	uint32_t k;

	free(s->module);
	free(s->strategy);
	free(s->t_ms);
	free(s->requests);
	free(s->failures);
	free(s->iterations);
	free(s->dropped);
	free(s->vus);
	free(s->start_delay_max);
	free(s->p50);
	free(s->p90);
	free(s->p95);
	free(s->p99);
	free(s->max);
	if (s->hist)
		for (k = 0; k < s->n; k++)
			met_hist_destroy(s->hist[k]);
	free(s->hist);
	for (k = 0; k < s->nerrors; k++) {
		free(s->errors[k].code);
		free(s->errors[k].n);
	}
	free(s->errors);
}

void summary_doc_free(sum_doc *d)
{
	uint32_t i;

	if (!d)
		return;
	json_decref(d->root);
	for (i = 0; i < d->nseries; i++)
		series_free(&d->series[i]);
	free(d->series);
	for (i = 0; i < d->nhists; i++) {
		free(d->hists[i].metric);
		free(d->hists[i].module);
		free(d->hists[i].strategy);
		free(d->hists[i].name);
		met_hist_destroy(d->hists[i].hist);
	}
	free(d->hists);
	free(d);
}

const met_hist *summary_doc_hist(const sum_doc *d, const char *metric, const char *module, const char *strategy,
				 const char *name)
{
	uint32_t i;

	for (i = 0; i < d->nhists; i++) {
		const sum_hist *h = &d->hists[i];

		if (strcmp(h->metric, metric) == 0 && same(h->module, module) && same(h->strategy, strategy) &&
		    same(h->name, name))
			return h->hist;
	}
	return NULL;
}

/* Re-encoding. The numbers go back with the kinds the writer gives them
 * (timeline.c), so the text comes out the same. */
static json_t *hist_text(const met_hist *h)
{
	char *t;
	json_t *s;

	if (!h)
		return json_string("");
	t = met_hist_encode(h);
	s = json_string(t);
	free(t);
	return s;
}

static json_t *u64s(const uint64_t *v, uint32_t n)
{
	json_t *a = json_array();
	uint32_t k;

	for (k = 0; k < n; k++)
		json_array_append_new(a, json_integer((json_int_t)v[k]));
	return a;
}

static json_t *reals(const double *v, uint32_t n)
{
	json_t *a = json_array();
	uint32_t k;

	for (k = 0; k < n; k++)
		json_array_append_new(a, isnan(v[k]) ? json_null() : json_real(v[k]));
	return a;
}

/* orig is the series as read: an "errors" it did not have is not added. */
static json_t *series_json(const sum_series *s, const json_t *orig)
{
	json_t *o = json_object(), *errs = json_object(), *hs = json_array();
	uint32_t k;

	json_object_set_new(o, "module", json_string(s->module));
	json_object_set_new(o, "strategy", json_string(s->strategy));
	json_object_set_new(o, "t_ms", json_array());
	for (k = 0; k < s->n; k++)
		json_array_append_new(json_object_get(o, "t_ms"), json_integer((json_int_t)s->t_ms[k]));
	json_object_set_new(o, "requests", u64s(s->requests, s->n));
	json_object_set_new(o, "failures", u64s(s->failures, s->n));
	json_object_set_new(o, "iterations", u64s(s->iterations, s->n));
	json_object_set_new(o, "dropped_iterations", u64s(s->dropped, s->n));
	json_object_set_new(o, "vus", reals(s->vus, s->n));
	if (s->start_delay_max)
		json_object_set_new(o, "start_delay_max", reals(s->start_delay_max, s->n));
	json_object_set_new(o, "p50", reals(s->p50, s->n));
	json_object_set_new(o, "p90", reals(s->p90, s->n));
	json_object_set_new(o, "p95", reals(s->p95, s->n));
	json_object_set_new(o, "p99", reals(s->p99, s->n));
	json_object_set_new(o, "max", reals(s->max, s->n));
	for (k = 0; k < s->n; k++)
		json_array_append_new(hs, hist_text(s->hist[k]));
	json_object_set_new(o, "hist", hs);
	for (k = 0; k < s->nerrors; k++)
		json_object_set_new(errs, s->errors[k].code, u64s(s->errors[k].n, s->n));
	if (json_object_get(orig, "errors"))
		json_object_set_new(o, "errors", errs);
	else
		json_decref(errs);
	return o;
}

/* orig is "histograms" as read: a "groups" or "names" it did not have is
 * not added. */
static json_t *histograms_json(const sum_doc *d, const json_t *orig)
{
	json_t *root = json_object();
	const char *key;
	json_t *m;
	uint32_t i;

	json_object_foreach((json_t *)orig, key, m) {
		json_t *o = json_object();

		if (json_object_get(m, "groups"))
			json_object_set_new(o, "groups", json_array());
		if (json_object_get(m, "names"))
			json_object_set_new(o, "names", json_array());
		json_object_set_new(root, key, o);
	}

	for (i = 0; i < d->nhists; i++) {
		const sum_hist *h = &d->hists[i];
		json_t *e;

		m = json_object_get(root, h->metric);
		if (h->module) {
			e = json_object();
			json_object_set_new(e, "module", json_string(h->module));
			json_object_set_new(e, "strategy", json_string(h->strategy));
			json_object_set_new(e, "hist", hist_text(h->hist));
			json_array_append_new(json_object_get(m, "groups"), e);
		} else if (h->name) {
			e = json_object();
			json_object_set_new(e, "name", json_string(h->name));
			json_object_set_new(e, "hist", hist_text(h->hist));
			json_array_append_new(json_object_get(m, "names"), e);
		} else {
			json_object_set_new(m, "total", hist_text(h->hist));
		}
	}
	return root;
}

char *summary_doc_json(const sum_doc *d)
{
	json_t *root = json_deep_copy(d->root);
	char *text;

	if (json_object_get(d->root, "timeseries")) {
		json_t *ts = json_object(), *series = json_array();
		uint32_t i;

		json_object_set_new(ts, "interval_ms", json_integer((json_int_t)d->interval_ms));
		for (i = 0; i < d->nseries; i++)
			json_array_append_new(series, series_json(&d->series[i],
								  json_array_get(json_object_get(json_object_get(d->root, "timeseries"), "series"), i)));
		json_object_set_new(ts, "series", series);
		json_object_set_new(root, "timeseries", ts);
	}
	if (json_object_get(d->root, "histograms"))
		json_object_set_new(root, "histograms", histograms_json(d, json_object_get(d->root, "histograms")));
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	json_decref(root);
	return text;
}

sum_doc *summary_timeseries_parse(const json_t *ts, char *err, size_t errsz)
{
	rd r = {err, errsz, 0};
	sum_doc *d = xcalloc(1, sizeof(*d));

	d->version = 2;
	if (timeseries_parse(&r, ts, d) < 0) {
		summary_doc_free(d);
		return NULL;
	}
	return d;
}
