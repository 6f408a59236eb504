/* strain compare BASE.json NEW.json: two summaries side by side, and an
 * exit status a CI job can gate on (docs/compare.md): 0 no regression,
 * 3 a regression, 4 a file that cannot be read as a summary. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "report/compare.h"
#include "report/summary_read.h"

typedef struct compare_flags {
	cmp_limits limits;
	int limits_given;
	cmp_format format;
	const char *files[2];
	uint32_t nfiles;
	opts_seen seen;
} compare_flags;

static int fail_on_parse(void *base, const char *value, char *err, size_t errsz)
{
	compare_flags *f = base;

	f->limits_given = 1;
	return compare_limits_parse(value, &f->limits, err, errsz);
}

static int format_parse(void *base, const char *value, char *err, size_t errsz)
{
	compare_flags *f = base;

	if (strcmp(value, "text") == 0)
		f->format = CMP_TEXT;
	else if (strcmp(value, "markdown") == 0 || strcmp(value, "md") == 0)
		f->format = CMP_MARKDOWN;
	else if (strcmp(value, "json") == 0)
		f->format = CMP_JSON;
	else
		return -1;
	return 0;
}

static cli_outcome file_arg(void *base, const char *arg)
{
	compare_flags *f = base;

	if (f->nfiles == 2) {
		fprintf(stderr, "strain compare: '%s': give two summaries, BASE.json and NEW.json\n", arg);
		return CLI_USAGE;
	}
	f->files[f->nfiles++] = arg;
	return CLI_DONE;
}

enum { C_FAIL_ON, C_FORMAT, C_HELP, C_COUNT };

static const opts_group compare_groups[] = {{"Flags", NULL}};

static const opt compare_opts[C_COUNT] = {
	[C_FAIL_ON] = {"--fail-on", NULL, "LIMITS", OPT_CUSTOM, 0, 0, 0, 0, 0, fail_on_parse, NULL, 0,
		       "limits that fail the comparison, e.g. 'p95:+10%,p99:+20%,errors:+0.5pp,rps:-5%' "
		       "(statistics p50 p95 p99 errors rps; units % ms pp), or 'none' (default: " CMP_DEFAULT_FAIL_ON ")"},
	[C_FORMAT] = {"--format", NULL, "F", OPT_CUSTOM, 0, 0, 0, 0, 0, format_parse, "text, markdown or json", 0,
		      "text (default), markdown (a table for a pull request) or json"},
	[C_HELP] = {"--help", "-h", NULL, OPT_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0, "this help"},
};

static const opts_cmd compare_cmd = {
	"compare",
	compare_opts,
	C_COUNT,
	compare_groups,
	1,
	"Usage: strain compare BASE.json NEW.json [--fail-on LIMITS] [--format F]\n\n"
	"Compares two --summary-export files per module x strategy and per request name: the\n"
	"change in p50, p95, p99, error rate and throughput, and whether it is beyond\n"
	"run-to-run noise (Mann-Whitney U on the per-interval values, two-sided, alpha 0.05).\n"
	"A limit fails when it is crossed and the change is significant, or crossed with\n"
	"fewer than 5 intervals to test (docs/compare.md).\n",
	"Exit status: 0 no limit failed, 3 a limit failed (a regression), 4 a file could not\n"
	"be read as a summary, 2 usage, 104 a bad --fail-on or --format.\n",
	NULL,
	file_arg,
};

int cli_compare_main(int argc, char **argv)
{
	compare_flags f;
	sum_doc *docs[2] = {NULL, NULL};
	cmp_result *r = NULL;
	char err[1024];
	cli_outcome o;
	uint32_t i;

	memset(&f, 0, sizeof(f));
	o = opts_parse(&compare_cmd, argc, argv, &f, &f.seen);
	if (o != CLI_DONE)
		goto out;
	if (f.nfiles != 2) {
		fprintf(stderr, "strain compare: give two summaries, BASE.json and NEW.json (see strain help compare)\n");
		o = CLI_USAGE;
		goto out;
	}
	if (!f.limits_given && compare_limits_parse(CMP_DEFAULT_FAIL_ON, &f.limits, err, sizeof(err)) < 0)
		abort(); /* the default is ours */
	for (i = 0; i < 2; i++) {
		docs[i] = summary_read(f.files[i], err, sizeof(err));
		if (!docs[i]) {
			fprintf(stderr, "strain compare: %s\n", err);
			o = CLI_BAD_INPUT;
			goto out;
		}
	}
	r = compare_run(docs[0], docs[1], &f.limits);
	compare_write(stdout, r, f.format, f.files[0], f.files[1]);
	fflush(stdout);
	if (compare_failed(r))
		o = CLI_REGRESSION;
out:
	compare_result_free(r);
	summary_doc_free(docs[0]);
	summary_doc_free(docs[1]);
	return cli_exit_code(o);
}
