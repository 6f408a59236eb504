/* strain report SUMMARY.json [-o FILE.html] [--baseline BASE.json]: the
 * self-contained HTML report of a run (docs/report.md) from its summary
 * export, with another run's drawn as "before". */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/alloc.h"
#include "report/html.h"
#include "report/summary_read.h"

#define MAX_SUMMARY ((size_t)SUMMARY_MAX_BYTES)

typedef struct report_flags {
	const char *summary, *output, *baseline;
	opts_seen seen;
} report_flags;

static cli_outcome summary_arg(void *base, const char *arg)
{
	report_flags *f = base;

	if (f->summary) {
		fprintf(stderr, "strain report: one summary at a time ('%s' and '%s'; a baseline goes with --baseline)\n",
			f->summary, arg);
		return CLI_USAGE;
	}
	f->summary = arg;
	return CLI_DONE;
}

enum { P_OUTPUT, P_BASELINE, P_HELP, P_COUNT };

#define F(field) offsetof(report_flags, field)

static const opts_group report_groups[] = {{"Flags", NULL}};

static const opt report_opts[P_COUNT] = {
	[P_OUTPUT] = {"--output", "-o", "FILE", OPT_STRING, 0, 0, 0, F(output), 0, NULL, NULL, 0,
		      "where to write the page (default: SUMMARY with .html for .json)"},
	[P_BASELINE] = {"--baseline", NULL, "FILE", OPT_STRING, 0, 0, 0, F(baseline), 0, NULL, NULL, 0,
			"another run's summary, drawn as before (deltas in the tables, dashed lines in the charts)"},
	[P_HELP] = {"--help", "-h", NULL, OPT_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0, "this help"},
};

#undef F

static const opts_cmd report_cmd = {
	"report",
	report_opts,
	P_COUNT,
	report_groups,
	1,
	"Usage: strain report SUMMARY.json [-o FILE.html] [--baseline BASE.json]\n\n"
	"Writes the HTML report of a run from its --summary-export file: one page with\n"
	"everything inline (script, style, data), that opens offline in any browser.\n"
	"See docs/report.md.\n",
	"Exit status: 0 written, 2 usage, 4 a summary that cannot be read or is not a\n"
	"strain summary (as strain compare), 107 the page could not be written.\n",
	NULL,
	summary_arg,
};

/* Reads path whole (at most MAX_SUMMARY). NULL with the reason in err. */
static char *slurp(const char *path, size_t *len, char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n = 0, got;

	if (!f) {
		snprintf(err, errsz, "cannot read it: %s", strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 1 >= cap) {
			if (cap >= MAX_SUMMARY) {
				snprintf(err, errsz, "larger than %zu MiB: not a summary", MAX_SUMMARY >> 20);
				goto fail;
			}
			cap = cap ? cap * 2 : 65536;
			data = xrealloc(data, cap);
		}
		got = fread(data + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errsz, "cannot read it: %s", strerror(errno));
		goto fail;
	}
	fclose(f);
	data[n] = '\0';
	*len = n;
	return data;
fail:
	fclose(f);
	free(data);
	return NULL;
}

/* The text of a summary file, checked by the summary reader (every field,
 * as strain compare reads it). NULL after printing why, naming the file. */
static char *summary_load(const char *what, const char *path)
{
	char err[512];
	size_t len = 0;
	char *text = slurp(path, &len, err, sizeof(err));
	sum_doc *d;

	if (!text) {
		fprintf(stderr, "strain report: %s%s: %s\n", what, path, err);
		return NULL;
	}
	d = summary_parse(text, len, err, sizeof(err));
	if (!d) {
		fprintf(stderr, "strain report: %s%s: %s\n", what, path, err);
		free(text);
		return NULL;
	}
	summary_doc_free(d);
	return text;
}

/* SUMMARY with .html for a final .json (or added). Caller frees. */
static char *default_output(const char *summary)
{
	size_t n = strlen(summary);
	char *out = xmalloc(n + 6);

	if (n > 5 && strcmp(summary + n - 5, ".json") == 0)
		n -= 5;
	memcpy(out, summary, n);
	memcpy(out + n, ".html", 6);
	return out;
}

int cli_report_main(int argc, char **argv)
{
	report_flags f;
	cli_outcome o;
	char *summary = NULL, *baseline = NULL, *output = NULL;
	char err[512];

	memset(&f, 0, sizeof(f));
	o = opts_parse(&report_cmd, argc, argv, &f, &f.seen);
	if (o != CLI_DONE)
		goto out;
	if (!f.summary) {
		fprintf(stderr, "strain report: give a summary file (strain run ... --summary-export FILE.json)\n");
		o = CLI_USAGE;
		goto out;
	}
	o = CLI_BAD_INPUT;
	summary = summary_load("", f.summary);
	if (!summary)
		goto out;
	if (f.baseline) {
		baseline = summary_load("--baseline ", f.baseline);
		if (!baseline)
			goto out;
	}
	output = f.output ? xstrdup(f.output) : default_output(f.summary);
	if (report_html_write(output, summary, baseline, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain report: %s%s\n", f.output ? "-o " : "", err);
		o = CLI_CANNOT_START;
		goto out;
	}
	printf("strain report: wrote %s\n", output);
	o = CLI_DONE;
out:
	free(summary);
	free(baseline);
	free(output);
	return cli_exit_code(o);
}
