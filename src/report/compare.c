#include "report/compare.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "report/timeline.h"

static const char *const stat_name[CMP_NSTATS] = {"p50", "p95", "p99", "errors", "rps"};
static const char *const unit_name[] = {"%", "ms", "pp"};

/* ---- --fail-on ---- */

static int limit_item(const char *item, size_t len, cmp_limits *out, char *err, size_t errsz)
{
	char buf[64], *colon, *num, *end;
	cmp_stat st;
	cmp_limit *l;
	double v;
	int sign = 0;

	if (len == 0 || len >= sizeof(buf)) {
		snprintf(err, errsz, "'%.*s': give STAT:CHANGE, e.g. p95:+10%%", (int)(len < 40 ? len : 40), item);
		return -1;
	}
	memcpy(buf, item, len);
	buf[len] = '\0';
	colon = strchr(buf, ':');
	if (!colon) {
		snprintf(err, errsz, "'%s': give STAT:CHANGE, e.g. p95:+10%%", buf);
		return -1;
	}
	*colon = '\0';
	for (st = 0; st < CMP_NSTATS; st++)
		if (strcmp(buf, stat_name[st]) == 0)
			break;
	if (st == CMP_NSTATS) {
		snprintf(err, errsz, "'%s': unknown statistic (p50, p95, p99, errors or rps)", buf);
		return -1;
	}
	l = &out->by_stat[st];
	if (l->set) {
		snprintf(err, errsz, "'%s' is given twice", buf);
		return -1;
	}
	num = colon + 1;
	if (*num == '+' || *num == '-')
		sign = *num++ == '+' ? 1 : -1;
	if (*num < '0' || *num > '9') {
		snprintf(err, errsz, "%s: '%s' is not a change such as %s", buf, colon + 1,
			 st == CMP_ERRORS ? "+0.5pp" : st == CMP_RPS ? "-5%" : "+10% or +50ms");
		return -1;
	}
	v = strtod(num, &end);
	if (!isfinite(v) || v > 1e9) {
		snprintf(err, errsz, "%s: '%s' is out of range", buf, colon + 1);
		return -1;
	}
	if (strcmp(end, "%") == 0 && st != CMP_ERRORS) {
		l->unit = CMP_PCT;
	} else if (strcmp(end, "ms") == 0 && st <= CMP_P99) {
		l->unit = CMP_MS;
	} else if (strcmp(end, "pp") == 0 && st == CMP_ERRORS) {
		l->unit = CMP_PP;
	} else {
		snprintf(err, errsz, "%s: '%s' needs the unit %s", buf, colon + 1,
			 st == CMP_ERRORS ? "pp (percentage points of the error rate)"
			 : st == CMP_RPS  ? "% (of the baseline's throughput)"
					  : "% (of the baseline) or ms");
		return -1;
	}
	/* Without a sign, the direction that is worse: slower, more errors,
	 * less throughput. */
	if (!sign)
		sign = st == CMP_RPS ? -1 : 1;
	l->set = 1;
	l->value = sign * v;
	return 0;
}

int compare_limits_parse(const char *spec, cmp_limits *out, char *err, size_t errsz)
{
	const char *p = spec, *comma;

	memset(out, 0, sizeof(*out));
	if (strcmp(spec, "none") == 0)
		return 0;
	for (;;) {
		comma = strchr(p, ',');
		if (limit_item(p, comma ? (size_t)(comma - p) : strlen(p), out, err, errsz) < 0)
			return -1;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

/* ---- the test ---- */

typedef struct ranked {
	double v;
	int from_a;
} ranked;

static int ranked_cmp(const void *x, const void *y)
{
	double a = ((const ranked *)x)->v, b = ((const ranked *)y)->v;

	return a < b ? -1 : a > b;
}

double compare_mann_whitney(const double *a, size_t na, const double *b, size_t nb)
{
	size_t n = na + nb, i, j;
	ranked *all = xmalloc((n ? n : 1) * sizeof(*all));
	double ra = 0, ties = 0, u, mu, var, z;

	for (i = 0; i < na; i++)
		all[i] = (ranked){a[i], 1};
	for (i = 0; i < nb; i++)
		all[na + i] = (ranked){b[i], 0};
	qsort(all, n, sizeof(*all), ranked_cmp);
	/* Tied values share the mean of their ranks (1-based). */
	for (i = 0; i < n; i = j) {
		double rank, t;
		size_t k;

		for (j = i + 1; j < n && all[j].v == all[i].v; j++)
			;
		rank = ((double)i + 1 + (double)j) / 2.0;
		t = (double)(j - i);
		ties += t * t * t - t;
		for (k = i; k < j; k++)
			if (all[k].from_a)
				ra += rank;
	}
	free(all);
	if (!na || !nb || n < 2)
		return 1;
	u = ra - (double)na * ((double)na + 1) / 2.0;
	mu = (double)na * (double)nb / 2.0;
	var = (double)na * (double)nb / 12.0 * (((double)n + 1) - ties / ((double)n * ((double)n - 1)));
	if (var <= 0)
		return 1;
	/* Continuity correction: U moves in steps of a half at least. */
	z = (fabs(u - mu) - 0.5) / sqrt(var);
	if (z < 0)
		z = 0;
	return erfc(z / sqrt(2.0));
}

/* ---- the rows ---- */

typedef enum test_kind { TEST_NONE, TEST_FEW, TEST_DONE } test_kind;

typedef struct cmp_cell {
	int have;              /* both sides have the figure */
	double base, cur;      /* ms, fraction (errors) or per second */
	double rel;            /* relative change, % (NAN when the base is 0) */
	double abs;            /* cur - base (pp for errors) */
	test_kind test;
	double p;
	uint32_t nb, nn;       /* intervals tested */
	int crossed, significant, fails;
} cmp_cell;

typedef enum row_kind { ROW_GROUP, ROW_TOTAL, ROW_NAME } row_kind;

typedef struct cmp_row {
	row_kind kind;
	const char *module, *strategy, *name; /* point into the documents */
	const json_t *b, *n;                  /* the figures' objects; NULL on a side without the row */
	const sum_series *sb, *sn;            /* their series, when there are */
	int judged;                           /* its limits decide the exit status */
	cmp_cell c[CMP_NSTATS];
} cmp_row;

struct cmp_result {
	cmp_row *rows;
	size_t n, cap;
	cmp_limits limits;
	int failed;
	uint32_t nfails;
	double interval_b, interval_n;
};

static cmp_row *row_add(cmp_result *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->rows = xrealloc(r->rows, r->cap * sizeof(*r->rows));
	}
	memset(&r->rows[r->n], 0, sizeof(r->rows[0]));
	return &r->rows[r->n++];
}

static const sum_series *series_find(const sum_doc *d, const char *module, const char *strategy)
{
	uint32_t i;

	for (i = 0; i < d->nseries; i++)
		if (strcmp(d->series[i].module, module) == 0 && strcmp(d->series[i].strategy, strategy) == 0)
			return &d->series[i];
	return NULL;
}

/* A figure of a row's object; NAN when absent or null. */
static double fig(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void row_figures(const cmp_row *row, const sum_doc *doc, const json_t *o, double out[CMP_NSTATS])
{
	if (row->kind == ROW_TOTAL) {
		const json_t *m = json_object_get(o, "metrics");
		const json_t *d = json_object_get(m, "http_req_duration");
		const met_hist *h = summary_doc_hist(doc, "http_req_duration", NULL, NULL, NULL);

		/* The exact histogram when the summary has one: the metrics'
		 * columns are whichever --summary-trend-stats asked for. */
		if (h && h->count) {
			out[CMP_P50] = met_hist_percentile(h, 50) / 1e6;
			out[CMP_P95] = met_hist_percentile(h, 95) / 1e6;
			out[CMP_P99] = met_hist_percentile(h, 99) / 1e6;
		} else {
			out[CMP_P50] = fig(d, "med");
			out[CMP_P95] = fig(d, "p(95)");
			out[CMP_P99] = fig(d, "p(99)");
		}
		out[CMP_ERRORS] = fig(json_object_get(m, "http_req_failed"), "rate");
		out[CMP_RPS] = fig(json_object_get(m, "http_reqs"), "rate");
		return;
	}
	out[CMP_P50] = fig(o, "p50");
	out[CMP_P95] = fig(o, "p95");
	out[CMP_P99] = fig(o, "p99");
	out[CMP_ERRORS] = fig(o, "error_rate");
	out[CMP_RPS] = fig(o, row->kind == ROW_NAME ? "rate" : "rps");
}

/* The per-interval values of a statistic, the first and last interval of
 * the series left out: a phase starts and ends inside them, so they hold
 * part of an interval (and the ramp). Intervals without a sample between
 * them (a stall) count as 0 requests for throughput; for latency and
 * errors they have no value. */
static uint32_t interval_values(const sum_series *s, double interval_ms, cmp_stat st, double *out)
{
	uint32_t n = 0, k;

	if (!s || s->n < 3)
		return 0;
	if (st == CMP_RPS) {
		double t;

		k = 1;
		for (t = s->t_ms[0] + interval_ms; t < s->t_ms[s->n - 1]; t += interval_ms) {
			double reqs = 0;

			while (k < s->n - 1 && s->t_ms[k] < t)
				k++;
			if (s->t_ms[k] == t)
				reqs = (double)s->requests[k];
			out[n++] = reqs * 1000.0 / interval_ms;
		}
		return n;
	}
	for (k = 1; k + 1 < s->n; k++) {
		const double *p = st == CMP_P50 ? s->p50 : st == CMP_P95 ? s->p95 : s->p99;

		if (st == CMP_ERRORS) {
			if (s->requests[k])
				out[n++] = (double)s->failures[k] / (double)s->requests[k];
		} else if (!isnan(p[k])) {
			out[n++] = p[k];
		}
	}
	return n;
}

static void cell_test(cmp_cell *c, const cmp_row *row, cmp_stat st, double ib, double in)
{
	double a[TIMELINE_MAX_SLOTS], b[TIMELINE_MAX_SLOTS];

	c->test = TEST_NONE;
	if (!row->sb || !row->sn)
		return;
	c->nb = interval_values(row->sb, ib, st, a);
	c->nn = interval_values(row->sn, in, st, b);
	if (c->nb < CMP_MIN_INTERVALS || c->nn < CMP_MIN_INTERVALS) {
		c->test = TEST_FEW;
		return;
	}
	c->test = TEST_DONE;
	c->p = compare_mann_whitney(a, c->nb, b, c->nn);
	c->significant = c->p < CMP_ALPHA;
}

static int limit_crossed(const cmp_limit *l, const cmp_cell *c)
{
	double change;

	if (!l->set || !c->have)
		return 0;
	switch (l->unit) {
	case CMP_PCT:
		if (isnan(c->rel))
			return 0;
		change = c->rel;
		break;
	case CMP_PP:
		change = c->abs * 100.0;
		break;
	default:
		change = c->abs;
		break;
	}
	return l->value >= 0 ? change > l->value : change < l->value;
}

static void row_compute(cmp_result *r, cmp_row *row, const sum_doc *base, const sum_doc *new_doc)
{
	double fb[CMP_NSTATS], fn[CMP_NSTATS];
	cmp_stat st;

	if (!row->b || !row->n)
		return;
	row_figures(row, base, row->b, fb);
	row_figures(row, new_doc, row->n, fn);
	for (st = 0; st < CMP_NSTATS; st++) {
		cmp_cell *c = &row->c[st];

		if (isnan(fb[st]) || isnan(fn[st]))
			continue;
		c->have = 1;
		c->base = fb[st];
		c->cur = fn[st];
		c->abs = c->cur - c->base;
		c->rel = c->base != 0 ? 100.0 * c->abs / c->base : NAN;
		cell_test(c, row, st, r->interval_b, r->interval_n);
		c->crossed = limit_crossed(&r->limits.by_stat[st], c);
		/* A crossed limit fails when the change is beyond noise, or when
		 * there is no series long enough to tell (docs/compare.md). */
		c->fails = row->judged && c->crossed && (c->test != TEST_DONE || c->significant);
		if (c->fails) {
			r->failed = 1;
			r->nfails++;
		}
	}
}

/* The module x strategy rows: comparison.strategies of both files. */
static void group_rows(cmp_result *r, const sum_doc *b, const sum_doc *n, const json_t *cb, const json_t *cn)
{
	size_t first = r->n, i;
	const char *s, *m;
	json_t *mods, *cell;
	cmp_row *row;

	json_object_foreach((json_t *)cb, s, mods)
		json_object_foreach(mods, m, cell) {
			row = row_add(r);
			row->kind = ROW_GROUP;
			row->module = m;
			row->strategy = s;
			row->b = cell;
			row->n = json_object_get(json_object_get(cn, s), m);
		}
	json_object_foreach((json_t *)cn, s, mods)
		json_object_foreach(mods, m, cell) {
			if (json_object_get(json_object_get(cb, s), m))
				continue;
			row = row_add(r);
			row->kind = ROW_GROUP;
			row->module = m;
			row->strategy = s;
			row->n = cell;
		}
	for (i = first; i < r->n; i++) {
		row = &r->rows[i];
		row->judged = 1;
		row->sb = series_find(b, row->module, row->strategy);
		row->sn = series_find(n, row->module, row->strategy);
	}
}

static const json_t *request_find(const json_t *reqs, const char *module, const char *name)
{
	size_t i;
	json_t *q;

	json_array_foreach(reqs, i, q)
		if (strcmp(json_string_value(json_object_get(q, "module")), module) == 0 &&
		    strcmp(json_string_value(json_object_get(q, "name")), name) == 0)
			return q;
	return NULL;
}

static void name_rows(cmp_result *r, const json_t *rb, const json_t *rn)
{
	size_t i;
	json_t *q;
	cmp_row *row;

	json_array_foreach(rb, i, q) {
		row = row_add(r);
		row->kind = ROW_NAME;
		row->module = json_string_value(json_object_get(q, "module"));
		row->name = json_string_value(json_object_get(q, "name"));
		row->b = q;
		row->n = request_find(rn, row->module, row->name);
	}
	json_array_foreach(rn, i, q) {
		const char *m = json_string_value(json_object_get(q, "module")), *nm = json_string_value(json_object_get(q, "name"));

		if (request_find(rb, m, nm))
			continue;
		row = row_add(r);
		row->kind = ROW_NAME;
		row->module = m;
		row->name = nm;
		row->n = q;
	}
}

cmp_result *compare_run(const sum_doc *base, const sum_doc *new_doc, const cmp_limits *limits)
{
	cmp_result *r = xcalloc(1, sizeof(*r));
	const json_t *cb = json_object_get(json_object_get(base->root, "comparison"), "strategies");
	const json_t *cn = json_object_get(json_object_get(new_doc->root, "comparison"), "strategies");
	cmp_row *row;
	size_t i;

	r->limits = *limits;
	r->interval_b = base->interval_ms;
	r->interval_n = new_doc->interval_ms;
	/* The whole run first: it decides only when neither file has a module
	 * x strategy table (a quick test), where its series is every sample. */
	row = row_add(r);
	row->kind = ROW_TOTAL;
	row->b = base->root;
	row->n = new_doc->root;
	row->judged = !json_object_size(cb) && !json_object_size(cn);
	if (row->judged) {
		row->sb = series_find(base, "", "");
		row->sn = series_find(new_doc, "", "");
	}
	group_rows(r, base, new_doc, cb, cn);
	name_rows(r, json_object_get(base->root, "requests"), json_object_get(new_doc->root, "requests"));
	for (i = 0; i < r->n; i++)
		row_compute(r, &r->rows[i], base, new_doc);
	return r;
}

void compare_result_free(cmp_result *r)
{
	if (!r)
		return;
	free(r->rows);
	free(r);
}

int compare_failed(const cmp_result *r)
{
	return r->failed;
}

/* ---- writing ---- */

static void row_label(const cmp_row *row, char *out, size_t outsz)
{
	switch (row->kind) {
	case ROW_TOTAL:
		snprintf(out, outsz, "all requests");
		break;
	case ROW_GROUP:
		snprintf(out, outsz, "%s x %s", *row->module ? row->module : "(none)", row->strategy);
		break;
	case ROW_NAME:
		if (*row->module)
			snprintf(out, outsz, "%s (%s)", row->name, row->module);
		else
			snprintf(out, outsz, "%s", row->name);
		break;
	}
}

static void value_text(cmp_stat st, double v, char *out, size_t outsz)
{
	if (st == CMP_ERRORS)
		snprintf(out, outsz, "%.2f%%", 100.0 * v);
	else if (st == CMP_RPS)
		snprintf(out, outsz, "%.1f/s", v);
	else
		snprintf(out, outsz, "%.4gms", v);
}

static void change_text(cmp_stat st, const cmp_cell *c, char *out, size_t outsz)
{
	if (st == CMP_ERRORS)
		snprintf(out, outsz, "%+.2fpp", 100.0 * c->abs);
	else if (isnan(c->rel))
		snprintf(out, outsz, "n/a");
	else
		snprintf(out, outsz, "%+.1f%%", c->rel);
}

static void test_text(const cmp_row *row, const cmp_cell *c, char *out, size_t outsz)
{
	if (c->test == TEST_DONE)
		snprintf(out, outsz, "%s (p=%.2g, %u vs %u intervals)", c->significant ? "significant" : "noise", c->p,
			 c->nb, c->nn);
	else if (c->test == TEST_FEW)
		snprintf(out, outsz, "not enough intervals (%u vs %u)", c->nb, c->nn);
	else
		snprintf(out, outsz, "%s",
			 row->kind == ROW_NAME	 ? "no test (no intervals per name)"
			 : row->kind == ROW_TOTAL ? "no test (judged per module x strategy)"
						  : "no test (no series)");
}

static void limits_text(const cmp_limits *l, char *out, size_t outsz)
{
	size_t len = 0;
	cmp_stat st;

	out[0] = '\0';
	for (st = 0; st < CMP_NSTATS && len < outsz; st++) {
		if (!l->by_stat[st].set)
			continue;
		len += (size_t)snprintf(out + len, outsz - len, "%s%s:%+g%s", len ? "," : "", stat_name[st],
					l->by_stat[st].value, unit_name[l->by_stat[st].unit]);
	}
	if (!out[0])
		snprintf(out, outsz, "none");
}

static const char *verdict_word(const cmp_row *row, const cmp_cell *c)
{
	if (c->fails)
		return "FAIL";
	if (c->crossed)
		return row->judged ? "crossed, within noise" : "crossed (not judged)";
	return "";
}

static void write_text(FILE *f, const cmp_result *r, const char *bn, const char *nn)
{
	char lim[256], label[512], vb[32], vn[32], ch[32], t[96];
	size_t i;
	cmp_stat st;

	limits_text(&r->limits, lim, sizeof(lim));
	fprintf(f, "\n  strain compare: %s -> %s\n  limits: %s (alpha %.2g)\n\n", bn, nn, lim, CMP_ALPHA);
	for (i = 0; i < r->n; i++) {
		const cmp_row *row = &r->rows[i];

		if (i == 1 && row->kind == ROW_GROUP)
			fprintf(f, "  module x strategy\n");
		if (row->kind == ROW_NAME && (i == 0 || r->rows[i - 1].kind != ROW_NAME))
			fprintf(f, "  request names\n");
		row_label(row, label, sizeof(label));
		if (!row->b || !row->n) {
			fprintf(f, "    %s: only in %s\n", label, row->b ? "the baseline" : "the new run");
			continue;
		}
		fprintf(f, "    %s\n", label);
		for (st = 0; st < CMP_NSTATS; st++) {
			const cmp_cell *c = &row->c[st];

			if (!c->have)
				continue;
			value_text(st, c->base, vb, sizeof(vb));
			value_text(st, c->cur, vn, sizeof(vn));
			change_text(st, c, ch, sizeof(ch));
			test_text(row, c, t, sizeof(t));
			fprintf(f, "      %-7s %12s -> %-12s %9s  %-42s %s\n", stat_name[st], vb, vn, ch, t,
				verdict_word(row, c));
		}
	}
	if (r->failed)
		fprintf(f, "\n  REGRESSION: %u figure%s crossed a limit beyond noise\n\n", r->nfails, r->nfails == 1 ? "" : "s");
	else
		fprintf(f, "\n  no regression\n\n");
}

/* Markdown escapes for a table cell: a '|' would end it. */
static void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '\\' || *s == '*' || *s == '_' || *s == '`' || *s == '<')
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

static void md_cell(FILE *f, const cmp_row *row, cmp_stat st)
{
	const cmp_cell *c = &row->c[st];
	char vb[32], vn[32], ch[32];

	if (!c->have) {
		fputs(" – |", f);
		return;
	}
	value_text(st, c->base, vb, sizeof(vb));
	value_text(st, c->cur, vn, sizeof(vn));
	change_text(st, c, ch, sizeof(ch));
	/* A change beyond noise in bold; a failed limit marked. */
	fprintf(f, " %s → %s %s%s%s%s |", vb, vn, c->significant ? "**" : "", ch, c->significant ? "**" : "",
		c->fails ? " ❌" : c->crossed ? " ⚠️" : "");
}

static void md_table(FILE *f, const cmp_result *r, row_kind kind, const char *title)
{
	char label[512];
	size_t i;
	int any = 0;
	cmp_stat st;

	for (i = 0; i < r->n; i++) {
		const cmp_row *row = &r->rows[i];

		if (row->kind != kind && !(kind == ROW_GROUP && row->kind == ROW_TOTAL))
			continue;
		if (!any) {
			fprintf(f, "| %s | p50 | p95 | p99 | errors | req/s |\n|---|---|---|---|---|---|\n", title);
			any = 1;
		}
		row_label(row, label, sizeof(label));
		fputs("| ", f);
		md_text(f, label);
		fputs(" |", f);
		if (!row->b || !row->n) {
			fprintf(f, " only in %s | | | | |\n", row->b ? "the baseline" : "the new run");
			continue;
		}
		for (st = 0; st < CMP_NSTATS; st++)
			md_cell(f, row, st);
		fputc('\n', f);
	}
	if (any)
		fputc('\n', f);
}

static void write_markdown(FILE *f, const cmp_result *r, const char *bn, const char *nn)
{
	char lim[256];

	limits_text(&r->limits, lim, sizeof(lim));
	if (r->failed)
		fprintf(f, "### strain compare: ❌ regression (%u figure%s)\n\n", r->nfails, r->nfails == 1 ? "" : "s");
	else
		fprintf(f, "### strain compare: ✅ no regression\n\n");
	fputs("Baseline `", f);
	md_text(f, bn);
	fputs("`, new run `", f);
	md_text(f, nn);
	fprintf(f, "`; limits `%s`.\n\n", lim);
	md_table(f, r, ROW_GROUP, "module × strategy");
	md_table(f, r, ROW_NAME, "request name");
	fprintf(f, "**Bold**: beyond run-to-run noise (Mann–Whitney U on the per-interval values, two-sided, "
		   "α = %.2g). ❌ crosses a limit and fails; ⚠️ crosses a limit within noise, or on a row that does "
		   "not decide (request names).\n",
		CMP_ALPHA);
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static void write_json(FILE *f, const cmp_result *r, const char *bn, const char *nn)
{
	static const char *const kinds[] = {"group", "total", "name"};
	static const char *const tests[] = {"none", "not enough intervals", "mann-whitney"};
	json_t *root = json_object(), *rows = json_array(), *lims = json_object();
	size_t i;
	cmp_stat st;
	char *text;

	for (st = 0; st < CMP_NSTATS; st++)
		if (r->limits.by_stat[st].set)
			json_object_set_new(lims, stat_name[st],
					    json_pack("{s:f,s:s}", "value", r->limits.by_stat[st].value, "unit",
						      unit_name[r->limits.by_stat[st].unit]));
	for (i = 0; i < r->n; i++) {
		const cmp_row *row = &r->rows[i];
		json_t *o = json_object(), *stats = json_object();

		json_object_set_new(o, "kind", json_string(kinds[row->kind]));
		if (row->module)
			json_object_set_new(o, "module", json_string(row->module));
		if (row->strategy)
			json_object_set_new(o, "strategy", json_string(row->strategy));
		if (row->name)
			json_object_set_new(o, "name", json_string(row->name));
		json_object_set_new(o, "in_base", json_boolean(row->b != NULL));
		json_object_set_new(o, "in_new", json_boolean(row->n != NULL));
		json_object_set_new(o, "judged", json_boolean(row->judged));
		for (st = 0; st < CMP_NSTATS; st++) {
			const cmp_cell *c = &row->c[st];
			json_t *s;

			if (!c->have)
				continue;
			s = json_object();
			json_object_set_new(s, "base", json_real(c->base));
			json_object_set_new(s, "new", json_real(c->cur));
			json_object_set_new(s, "change_pct", num_or_null(c->rel));
			json_object_set_new(s, "change", json_real(st == CMP_ERRORS ? 100.0 * c->abs : c->abs));
			json_object_set_new(s, "test", json_string(tests[c->test]));
			if (c->test != TEST_NONE) {
				json_object_set_new(s, "base_intervals", json_integer(c->nb));
				json_object_set_new(s, "new_intervals", json_integer(c->nn));
			}
			json_object_set_new(s, "p_value", c->test == TEST_DONE ? json_real(c->p) : json_null());
			json_object_set_new(s, "significant",
					    c->test == TEST_DONE ? json_boolean(c->significant) : json_null());
			json_object_set_new(s, "crossed", json_boolean(c->crossed));
			json_object_set_new(s, "fails", json_boolean(c->fails));
			json_object_set_new(stats, stat_name[st], s);
		}
		json_object_set_new(o, "stats", stats);
		json_array_append_new(rows, o);
	}
	json_object_set_new(root, "version", json_string("strain-compare/1"));
	json_object_set_new(root, "base", json_string(bn));
	json_object_set_new(root, "new", json_string(nn));
	json_object_set_new(root, "alpha", json_real(CMP_ALPHA));
	json_object_set_new(root, "min_intervals", json_integer(CMP_MIN_INTERVALS));
	json_object_set_new(root, "fail_on", lims);
	json_object_set_new(root, "regression", json_boolean(r->failed));
	json_object_set_new(root, "fails", json_integer(r->nfails));
	json_object_set_new(root, "rows", rows);
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	fprintf(f, "%s\n", text);
	free(text);
	json_decref(root);
}

void compare_write(FILE *f, const cmp_result *r, cmp_format fmt, const char *base_name, const char *new_name)
{
	switch (fmt) {
	case CMP_TEXT:
		write_text(f, r, base_name, new_name);
		break;
	case CMP_MARKDOWN:
		write_markdown(f, r, base_name, new_name);
		break;
	case CMP_JSON:
		write_json(f, r, base_name, new_name);
		break;
	}
}
