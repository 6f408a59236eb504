#include "report/spikes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/format.h"

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double num(const json_t *arr, size_t i)
{
	const json_t *v = json_array_get(arr, i);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The median of a series' interval p95, over the slots with requests. */
static int baseline(const json_t *p95, double *out)
{
	size_t n = json_array_size(p95), k = 0, i;
	double *v = xcalloc(n + 1, sizeof(*v));

	for (i = 0; i < n; i++)
		if (!isnan(num(p95, i)))
			v[k++] = num(p95, i);
	if (k < SPIKE_MIN_SLOTS) {
		free(v);
		return -1;
	}
	qsort(v, k, sizeof(*v), dbl_cmp);
	*out = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
	free(v);
	return 0;
}

/* Other modules with requests in [t0, t1). */
static json_t *concurrent(const json_t *all, const json_t *self, double t0, double t1)
{
	json_t *names = json_array();
	size_t s, i, k;

	for (s = 0; s < json_array_size(all); s++) {
		const json_t *o = json_array_get(all, s);
		const json_t *t = json_object_get(o, "t_ms"), *r = json_object_get(o, "requests");
		const char *mod = json_string_value(json_object_get(o, "module"));
		int found = 0;

		if (o == self || !mod || !*mod || !strcmp(mod, json_string_value(json_object_get(self, "module"))))
			continue;
		for (i = 0; i < json_array_size(t) && !found; i++)
			found = num(t, i) >= t0 && num(t, i) < t1 && num(r, i) > 0;
		for (k = 0; found && k < json_array_size(names); k++)
			found = strcmp(json_string_value(json_array_get(names, k)), mod) != 0;
		if (found)
			json_array_append_new(names, json_string(mod));
	}
	return names;
}

/* One window of slots [a, b] of series o. */
static json_t *window(const json_t *all, const json_t *o, size_t a, size_t b, double base, double width)
{
	const json_t *t = json_object_get(o, "t_ms"), *p95 = json_object_get(o, "p95"), *mx = json_object_get(o, "max");
	const json_t *errs = json_object_get(o, "errors");
	json_t *w = json_object(), *codes = json_object();
	const json_t *late = json_object_get(o, "start_delay_max");
	double peak = 0, top = 0, lag = 0, t0 = num(t, a), t1 = num(t, b) + width;
	const char *code;
	json_t *col;
	size_t i;

	for (i = a; i <= b; i++) {
		if (num(p95, i) > peak)
			peak = num(p95, i);
		if (num(mx, i) > top)
			top = num(mx, i);
		if (num(late, i) > lag)
			lag = num(late, i);
	}
	json_object_foreach((json_t *)errs, code, col) {
		json_int_t n = 0;

		for (i = a; i <= b; i++)
			n += json_integer_value(json_array_get(col, i));
		if (n)
			json_object_set_new(codes, code, json_integer(n));
	}
	json_object_set_new(w, "module", json_copy(json_object_get(o, "module")));
	json_object_set_new(w, "strategy", json_copy(json_object_get(o, "strategy")));
	json_object_set_new(w, "start_ms", json_real(t0));
	/* Samples are taken when a response ends: the slowest response of
	 * the first slot, ending by the slot's end, began no later than this,
	 * and at most one interval earlier — when the trouble began. */
	json_object_set_new(w, "began_ms", json_real(fmax(0, num(t, a) + width - num(mx, a))));
	json_object_set_new(w, "length_ms", json_real(t1 - t0));
	json_object_set_new(w, "peak_p95_ms", json_real(peak));
	json_object_set_new(w, "max_ms", json_real(top));
	json_object_set_new(w, "baseline_p95_ms", json_real(base));
	json_object_set_new(w, "ratio", json_real(base > 0 ? peak / base : 0));
	/* Iterations that started late mean strain itself fell behind (CPU,
	 * no VU free): the latency it measured then is not the target's. */
	json_object_set_new(w, "start_delay_max_ms", json_real(lag));
	json_object_set_new(w, "generator_late", json_boolean(lag >= peak / 2));
	json_object_set_new(w, "concurrent", concurrent(json_object_get(all, "series"), o, t0, t1));
	json_object_set_new(w, "errors", codes);
	return w;
}

json_t *spikes_find(const json_t *timeseries)
{
	const json_t *series = json_object_get(timeseries, "series");
	double width = json_number_value(json_object_get(timeseries, "interval_ms"));
	json_t *out = json_array();
	size_t s;

	for (s = 0; s < json_array_size(series); s++) {
		const json_t *o = json_array_get(series, s);
		const json_t *t = json_object_get(o, "t_ms"), *p95 = json_object_get(o, "p95");
		size_t n = json_array_size(p95), i, start = 0;
		double base, limit;
		int open = 0;

		if (baseline(p95, &base) < 0)
			continue;
		limit = fmax(SPIKE_RATIO * base, SPIKE_FLOOR_MS);
		for (i = 0; i <= n; i++) {
			/* A slot spikes when its p95 passes the limit; a window
			 * ends at a calm slot or a gap in the slots. */
			int hot = i < n && num(p95, i) >= limit;

			if (open && (!hot || num(t, i) - num(t, i - 1) > width)) {
				json_array_append_new(out, window(timeseries, o, start, i - 1, base, width));
				open = 0;
			}
			if (hot && !open) {
				start = i;
				open = 1;
			}
		}
	}
	return out;
}

void spikes_print(FILE *f, const json_t *spikes)
{
	size_t i;

	if (!json_array_size(spikes))
		return;
	fprintf(f, "\n     latency spikes (interval p95 >= %gx the module's median and >= %g ms):\n", SPIKE_RATIO,
		SPIKE_FLOOR_MS);
	for (i = 0; i < json_array_size(spikes); i++) {
		const json_t *w = json_array_get(spikes, i);
		const char *mod = json_string_value(json_object_get(w, "module"));
		const char *st = json_string_value(json_object_get(w, "strategy"));
		const json_t *with = json_object_get(w, "concurrent"), *errs = json_object_get(w, "errors");
		char at[32], len[32], peak[32], base[32], began[32];
		const char *code;
		json_t *n;
		size_t k;

		fmt_ns(json_number_value(json_object_get(w, "start_ms")) * 1e6, at, sizeof(at));
		fmt_ns(json_number_value(json_object_get(w, "length_ms")) * 1e6, len, sizeof(len));
		fmt_ns(json_number_value(json_object_get(w, "peak_p95_ms")) * 1e6, peak, sizeof(peak));
		fmt_ns(json_number_value(json_object_get(w, "baseline_p95_ms")) * 1e6, base, sizeof(base));
		fmt_ns(json_number_value(json_object_get(w, "began_ms")) * 1e6, began, sizeof(began));
		fprintf(f, "       %s%s%s%s: p95 %s at +%s for %s (x%.1f its median %s; slow requests from about +%s)",
			*mod ? mod : "the run", *st ? " (" : "", st, *st ? ")" : "", peak, at, len,
			json_number_value(json_object_get(w, "ratio")), base, began);
		for (k = 0; k < json_array_size(with); k++)
			fprintf(f, "%s%s", k ? ", " : "; with ", json_string_value(json_array_get(with, k)));
		k = 0;
		json_object_foreach((json_t *)errs, code, n)
			fprintf(f, "%s%s x%lld", k++ ? ", " : "; errors ", code, (long long)json_integer_value(n));
		if (json_is_true(json_object_get(w, "generator_late")))
			fprintf(f, "; strain itself was late starting iterations then (up to %.4g ms): not the target's",
				json_number_value(json_object_get(w, "start_delay_max_ms")));
		fputc('\n', f);
	}
}
