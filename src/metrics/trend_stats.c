#include "metrics/trend_stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "p(N)" of n bytes at s: 0 with *p set, or -1. */
static int parse_pct(const char *s, size_t n, double *p)
{
	char num[16], *end;
	size_t len;

	if (n < 4 || strncmp(s, "p(", 2) != 0 || s[n - 1] != ')')
		return -1;
	len = n - 3;
	if (!len || len >= sizeof(num) || s[2] == '-' || s[2] == '+' || s[2] == ' ')
		return -1;
	memcpy(num, s + 2, len);
	num[len] = '\0';
	errno = 0;
	*p = strtod(num, &end);
	if (*end || errno || !(*p >= 0) || *p > 100)
		return -1;
	return 0;
}

int trend_stats_parse(const char *text, trend_stats *out, char *err, size_t errsz)
{
	static const struct {
		const char *name;
		trend_stat_kind kind;
	} names[] = {{"avg", TS_AVG}, {"min", TS_MIN}, {"med", TS_MED}, {"max", TS_MAX}, {"count", TS_COUNT}};
	const char *p = text;
	uint32_t i;

	memset(out, 0, sizeof(*out));
	for (;;) {
		size_t n = strcspn(p, ","), k;
		trend_stat st = {TS_AVG, 0, ""};
		int known = 0;

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strlen(names[k].name) == n && strncmp(p, names[k].name, n) == 0) {
				st.kind = names[k].kind;
				known = 1;
			}
		if (!known && parse_pct(p, n, &st.p) == 0) {
			st.kind = TS_PCT;
			known = 1;
		}
		if (!known) {
			if (!n)
				snprintf(err, errsz, "'%s': an empty stat (a list of avg, min, med, max, count, p(N), "
						     "separated by commas)", text);
			else
				snprintf(err, errsz, "'%.*s' is not a trend stat (avg, min, med, max, count, p(N) with N "
						     "from 0 to 100)", (int)n, p);
			return -1;
		}
		snprintf(st.label, sizeof(st.label), "%.*s", (int)n, p);
		for (i = 0; i < out->n; i++)
			if (strcmp(out->s[i].label, st.label) == 0) {
				snprintf(err, errsz, "'%s' is given twice", st.label);
				return -1;
			}
		if (out->n == TREND_STATS_MAX) {
			snprintf(err, errsz, "at most %d stats", TREND_STATS_MAX);
			return -1;
		}
		out->s[out->n++] = st;
		if (!p[n])
			break;
		p += n + 1;
	}
	return 0;
}

double trend_stat_value(const trend_stat *st, const met_hist *h)
{
	switch (st->kind) {
	case TS_AVG:
		return met_hist_mean(h);
	case TS_MIN:
		return (double)h->min;
	case TS_MED:
		return met_hist_percentile(h, 50);
	case TS_MAX:
		return (double)h->max;
	case TS_COUNT:
		return (double)h->count;
	case TS_PCT:
		break;
	}
	return met_hist_percentile(h, st->p);
}
