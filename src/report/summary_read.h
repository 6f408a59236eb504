/* The summary reader: a --summary-export file (docs/summary-export.md) read
 * back, for strain report, strain compare and merges. The file comes from
 * elsewhere: every field is checked, and a malformed one is an error that
 * names its JSON path, never a crash. */
#ifndef STRAIN_REPORT_SUMMARY_READ_H
#define STRAIN_REPORT_SUMMARY_READ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/hist.h"

/* One time series: a module x strategy over the run's slots. Arrays have
 * n entries; percentiles are NAN in a slot without requests. */
typedef struct sum_errors {
	char *code;        /* "1212", "status:500" */
	uint64_t *n;       /* per slot */
} sum_errors;

typedef struct sum_series {
	char *module, *strategy;   /* "" where the samples had no such tag */
	uint32_t n;
	double *t_ms;
	uint64_t *requests, *failures, *iterations, *dropped;
	double *vus;
	double *start_delay_max;   /* ms; NULL when the file has none (written before it) */
	double *p50, *p90, *p95, *p99, *max;
	met_hist **hist;           /* per slot; NULL in a slot without requests */
	sum_errors *errors;
	uint32_t nerrors;
} sum_series;

/* One histogram of "histograms": metric, and either the total (module,
 * strategy and name NULL), a module x strategy group, or a request name. */
typedef struct sum_hist {
	char *metric;
	char *module, *strategy;   /* a group */
	char *name;                /* a request name */
	met_hist *hist;
} sum_hist;

typedef struct sum_doc {
	json_t *root;              /* the whole document as read (owned) */
	int version;               /* 1 or 2 */
	double interval_ms;        /* 0 when there is no time series */
	sum_series *series;
	uint32_t nseries;
	sum_hist *hists;
	uint32_t nhists;
} sum_doc;

/* The largest file read: a 12-hour run's summary is a few megabytes. The
 * reader also refuses more than 4096 series, TIMELINE_MAX_SLOTS slots in a
 * series and 16384 decoded histograms (about 19 KiB each) in a file. */
#define SUMMARY_MAX_BYTES (64 << 20)

/* Parses a summary from memory. Returns the document, or NULL with the
 * reason in err ("timeseries.series[2].p95[7]: not a number"). */
sum_doc *summary_parse(const char *text, size_t len, char *err, size_t errsz);
/* Reads a file; err starts with the path. */
sum_doc *summary_read(const char *path, char *err, size_t errsz);
void summary_doc_free(sum_doc *d);
/* A document of only a time series (a summary's "timeseries" object, as
 * timeline_json writes it), checked as summary_parse checks one: for
 * merge_timeseries. NULL with the reason in err. */
sum_doc *summary_timeseries_parse(const json_t *ts, char *err, size_t errsz);

/* A histogram of the document, or NULL. module/strategy/name NULL select
 * the total; module and strategy a group; name a request name. */
const met_hist *summary_doc_hist(const sum_doc *d, const char *metric, const char *module,
				 const char *strategy, const char *name);

/* The document written back: the same text summary_json wrote, with the
 * time series and histograms re-encoded from what was decoded (caller
 * frees). */
char *summary_doc_json(const sum_doc *d);

#endif
