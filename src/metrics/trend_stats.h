/* k6's summaryTrendStats: which figures of a trend the end-of-test summary
 * shows and exports — "avg,min,med,max,p(90),p(95),p(99.9),count" — parsed
 * once from --summary-trend-stats and read by the summary. */
#ifndef STRAIN_METRICS_TREND_STATS_H
#define STRAIN_METRICS_TREND_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/hist.h"

#define TREND_STATS_MAX 16

typedef enum { TS_AVG, TS_MIN, TS_MED, TS_MAX, TS_COUNT, TS_PCT } trend_stat_kind;

typedef struct trend_stat {
	trend_stat_kind kind;
	double p;          /* TS_PCT: the percentile, 0 to 100 */
	char label[24];    /* as written: "p(99.9)"; the JSON key and the text's column */
} trend_stat;

typedef struct trend_stats {
	trend_stat s[TREND_STATS_MAX];
	uint32_t n;
} trend_stats;

/* strain's default: k6's (avg, min, med, max, p(90), p(95)) and p(99). */
#define TREND_STATS_DEFAULT "avg,min,med,max,p(90),p(95),p(99)"

/* Parses a comma-separated list of avg, min, med, max, count and p(N)
 * (N from 0 to 100, decimals allowed), each at most once. Returns 0, or -1
 * with what is wrong in err ("'p(101)' is not a trend stat ..."). */
int trend_stats_parse(const char *text, trend_stats *out, char *err, size_t errsz);

/* The figure st names, from h: recorded units (ns for time trends), the
 * count as a number. */
double trend_stat_value(const trend_stat *st, const met_hist *h);

#endif
