/* strain merge: the summaries of one test split into execution segments
 * (one per process, docs/distributed.md) merged into the one summary the
 * unsplit run would have written: counts and sums added, histograms added
 * bucket by bucket (so percentiles are exact), time series aligned by wall
 * time, and thresholds, spikes and the module x strategy comparison with
 * its verdict judged again on the merged data. */
#ifndef STRAIN_REPORT_MERGE_H
#define STRAIN_REPORT_MERGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "report/summary_read.h"

typedef struct merge_opts {
	int allow_partial; /* missing segments are not an error: the result is marked partial */
} merge_opts;

/* Why a merge was refused, for the exit status and the message. */
typedef enum {
	MERGE_OK = 0,
	MERGE_NOT_SPLIT, /* a summary has no execution block (strain-summary/1, or an older strain) */
	MERGE_DIFFERENT, /* not the same test: plan, sequence, version */
	MERGE_OVERLAP,   /* two summaries share part of a segment */
	MERGE_MISSING,   /* the segments leave part of 0..1 uncovered */
	MERGE_CAPACITY,  /* a strain capacity summary: each search is its own process's */
} merge_status;

/* Merges docs[0..n-1] (names: their file names, for messages). Returns the
 * merged strain-summary/2 document (caller frees with json_decref), or NULL
 * with *status and a message in err. The documents are only read. */
json_t *merge_summaries(sum_doc *const *docs, const char *const *names, uint32_t n, const merge_opts *o,
			merge_status *status, char *err, size_t errsz);

/* The time series of docs[0..n-1] (only their interval_ms and series are
 * read) on one wall clock, the summary's "timeseries" object: slot k
 * covers [origin + k W, origin + (k+1) W), origin the earliest of
 * starts_ns (each document's run start, as its summary's "start" says it:
 * whole milliseconds), W the widest interval; a part's slot goes where its
 * middle falls. strain merge and strain collect both build theirs here.
 * NULL when no document has a time series. Caller decrefs. */
json_t *merge_timeseries(sum_doc *const *docs, const uint64_t *starts_ns, uint32_t n);

/* Prints the comparison and verdict of a merged summary (what strain run
 * prints for the unsplit run), nothing when it has none. */
void merge_verdict_print(FILE *f, const json_t *merged);

#endif
