/* strain merge A.json B.json ... [-o TOTAL.json] [--report TOTAL.html]
 * [--allow-partial]: the summaries of one test's segments merged into one
 * (report/merge.c, docs/distributed.md). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/alloc.h"
#include "report/html.h"
#include "report/merge.h"
#include "report/summary_read.h"

#define MAX_PARTS 1024

typedef struct merge_flags {
	const char *files[MAX_PARTS];
	uint32_t nfiles;
	const char *output, *summary_export, *report;
	int allow_partial, quiet;
	opts_seen seen;
} merge_flags;

static cli_outcome file_arg(void *base, const char *arg)
{
	merge_flags *f = base;

	if (f->nfiles == MAX_PARTS) {
		fprintf(stderr, "strain merge: at most %d summaries\n", MAX_PARTS);
		return CLI_USAGE;
	}
	f->files[f->nfiles++] = arg;
	return CLI_DONE;
}

enum { M_OUTPUT, M_SUMMARY_EXPORT, M_REPORT, M_ALLOW_PARTIAL, M_QUIET, M_HELP, M_COUNT };

#define F(field) offsetof(merge_flags, field)

static const opts_group merge_groups[] = {{"Flags", NULL}};

static const opt merge_opts_table[M_COUNT] = {
    [M_OUTPUT] = {"--output", "-o", "FILE", OPT_STRING, 0, 0, 0, F(output), 0, NULL, NULL, 0,
		  "where to write the merged summary (strain-summary/2 JSON; default: stdout)"},
    [M_SUMMARY_EXPORT] = {"--summary-export", NULL, "FILE", OPT_STRING, 0, 0, 0, F(summary_export), 0, NULL, NULL, 0,
			  "the same as --output, under strain run's name"},
    [M_REPORT] = {"--report", NULL, "FILE", OPT_STRING, 0, 0, 0, F(report), 0, NULL, NULL, 0,
		  "also write the merged run's HTML report (docs/report.md)"},
    [M_ALLOW_PARTIAL] = {"--allow-partial", NULL, NULL, OPT_SWITCH, 0, 0, 0, F(allow_partial), 0, NULL, NULL, 0,
			 "merge even when segments are missing; the result is marked partial"},
    [M_QUIET] = {"--quiet", "-q", NULL, OPT_SWITCH, 0, 0, 0, F(quiet), 0, NULL, NULL, 0,
		 "no line on stderr about what was merged"},
    [M_HELP] = {"--help", "-h", NULL, OPT_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0, "this help"},
};

#undef F

static const opts_cmd merge_cmd = {
    "merge",
    merge_opts_table,
    M_COUNT,
    merge_groups,
    1,
    "Usage: strain merge A.json B.json ... [-o TOTAL.json] [--report TOTAL.html]\n\n"
    "Merges the --summary-export files of one test run as execution segments\n"
    "(strain run --segments N --segment-index I, or --execution-segment) into the\n"
    "summary of the whole run: counts added, histograms added (exact percentiles),\n"
    "time series on one wall clock, thresholds, spikes and the module x strategy\n"
    "comparison with its verdict judged again (the verdict is printed on stdout,\n"
    "or on stderr when the merged summary goes to stdout). See docs/distributed.md.\n",
    "Exit status: 0 merged, 2 usage, 4 a summary that cannot be read or that does\n"
    "not belong (another test or sequence, different phases, overlapping or\n"
    "missing segments, a strain-summary/1 file, a strain capacity result), 99 a\n"
    "threshold fails on the merged data, 107 an output could not be written.\n",
    NULL,
    file_arg,
};

static int write_text(const char *path, const char *text, char *err, size_t errsz)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (!f) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fputs(text, f) < 0 || fputc('\n', f) < 0)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
	return rc;
}

int cli_merge_main(int argc, char **argv)
{
	merge_flags *f = xcalloc(1, sizeof(*f));
	sum_doc **docs = NULL;
	json_t *merged = NULL, *th;
	char *text = NULL, err[1024];
	merge_opts mo = {0};
	merge_status st;
	cli_outcome o;
	uint32_t i, n = 0, failed = 0;
	size_t k;
	const char *out;

	o = opts_parse(&merge_cmd, argc, argv, f, &f->seen);
	if (o != CLI_DONE)
		goto done;
	if (f->output && f->summary_export) {
		fprintf(stderr, "strain merge: -o and --summary-export name the same file: give one\n");
		o = CLI_USAGE;
		goto done;
	}
	if (f->nfiles < 1) {
		fprintf(stderr,
			"strain merge: give the summaries to merge (strain run ... --summary-export PART.json)\n");
		o = CLI_USAGE;
		goto done;
	}
	o = CLI_BAD_INPUT;
	docs = xcalloc(f->nfiles, sizeof(*docs));
	for (n = 0; n < f->nfiles; n++) {
		docs[n] = summary_read(f->files[n], err, sizeof(err));
		if (!docs[n]) {
			fprintf(stderr, "strain merge: %s\n", err);
			goto done;
		}
	}
	mo.allow_partial = f->allow_partial;
	merged = merge_summaries(docs, f->files, n, &mo, &st, err, sizeof(err));
	if (!merged) {
		fprintf(stderr, "strain merge: %s\n", err);
		goto done;
	}
	text = json_dumps(merged, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	out = f->output ? f->output : f->summary_export;
	o = CLI_CANNOT_START;
	if (out && write_text(out, text, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain merge: %s: %s\n", f->output ? "-o" : "--summary-export", err);
		goto done;
	}
	if (!out && !f->report)
		printf("%s\n", text);
	if (f->report && report_html_write(f->report, text, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain merge: --report: %s\n", err);
		goto done;
	}
	/* The words strain run prints for the unsplit run: on stdout unless
	 * the merged document is there already. */
	if (out || f->report)
		merge_verdict_print(stdout, merged);
	else if (!f->quiet)
		merge_verdict_print(stderr, merged);
	json_array_foreach(json_object_get(merged, "thresholds"), k, th) failed +=
	    !json_is_true(json_object_get(th, "ok"));
	if (!f->quiet)
		fprintf(stderr, "strain merge: %u summaries%s, %lld requests; thresholds: %u failed\n", n,
			json_is_true(json_object_get(json_object_get(merged, "execution"), "partial")) ? " (partial)"
												       : "",
			(long long)json_integer_value(
			    json_object_get(json_object_get(json_object_get(merged, "metrics"), "http_reqs"), "count")),
			failed);
	o = failed ? CLI_THRESHOLDS : CLI_DONE;
done:
	for (i = 0; i < n; i++)
		summary_doc_free(docs[i]);
	free(docs);
	json_decref(merged);
	free(text);
	free(f);
	return cli_exit_code(o);
}
