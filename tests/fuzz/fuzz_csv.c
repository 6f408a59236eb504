/* libFuzzer driver for CSV data files (RFC 4180, src/plan/data.c): each
 * input is written to data.csv beside a fixed plan that names it, and the
 * plan is loaded (the reader is the loader's own; data files come from
 * wherever users export them: Excel, databases, scripts). Besides crashes
 * and sanitizer reports (LeakSanitizer included), it aborts when an
 * invariant breaks: a refused file is reported with FILE:LINE:COL; an
 * accepted one has a header of named columns and at least one full row;
 * and the table read, written back with every field quoted, reads back
 * the same (so quoting, doubled quotes and line breaks in fields survive).
 * Build and run: make fuzz (FUZZ_SECONDS=60). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "engine/run.h"
#include "plan/plan.h"
#include "fuzz_files.h"

static char plan_path[300], csv_path[300];
static const char *const files[] = {"plan.yaml", "data.csv", NULL};

static void setup(void)
{
	static const char plan[] = "target: http://127.0.0.1:9\n"
				   "data:\n"
				   "  d: {file: data.csv, mode: sequential}\n"
				   "modules:\n"
				   "  m:\n"
				   "    executor: {type: shared-iterations, vus: 1, iterations: 1}\n"
				   "    flow:\n"
				   "      - get: /x\n";

	make_dir("csv", files);
	snprintf(plan_path, sizeof(plan_path), "%s/plan.yaml", load_dir);
	snprintf(csv_path, sizeof(csv_path), "%s/data.csv", dir);
	write_file(plan_path, plan, sizeof(plan) - 1);
}

static void put_field(buf *b, const char *s)
{
	CHECK(buf_append(b, "\"", 1) == 0);
	for (; *s; s++) {
		if (*s == '"')
			CHECK(buf_append(b, "\"\"", 2) == 0);
		else
			CHECK(buf_append(b, s, 1) == 0);
	}
	CHECK(buf_append(b, "\"", 1) == 0);
}

/* The table as CSV with every field quoted. */
static void write_back(const run_data *d, buf *b)
{
	uint32_t r, c;

	for (c = 0; c < d->ncols; c++) {
		if (c)
			CHECK(buf_append(b, ",", 1) == 0);
		put_field(b, d->names[c]);
	}
	CHECK(buf_append(b, "\r\n", 2) == 0);
	for (r = 0; r < d->nrows; r++) {
		for (c = 0; c < d->ncols; c++) {
			if (c)
				CHECK(buf_append(b, ",", 1) == 0);
			put_field(b, d->cells[(size_t)r * d->ncols + c]);
		}
		CHECK(buf_append(b, "\n", 1) == 0);
	}
}

static int load(run_config *cfg, plan_errors *errs)
{
	static const plan_opts po = {NULL, 0, NULL, 0, NULL, 0};

	memset(errs, 0, sizeof(*errs));
	run_config_init(cfg);
	return plan_load(plan_path, &po, cfg, errs);
}

static int same(const run_data *a, const run_data *b)
{
	uint32_t i;

	if (a->ncols != b->ncols || a->nrows != b->nrows)
		return 0;
	for (i = 0; i < a->ncols; i++)
		if (strcmp(a->names[i], b->names[i]))
			return 0;
	for (i = 0; i < a->ncols * a->nrows; i++)
		if (strcmp(a->cells[i], b->cells[i]))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	plan_errors errs, errs2;
	run_config cfg, cfg2;
	uint32_t i;
	buf b;

	if (!plan_path[0])
		setup();
	write_file(csv_path, data, size);
	if (load(&cfg, &errs) < 0) {
		CHECK(errs.n > 0);
		for (i = 0; i < errs.n; i++)
			CHECK(errs.msgs[i] && strstr(errs.msgs[i], "plan.yaml:3:") && strstr(errs.msgs[i], "data"));
		goto out;
	}
	CHECK(errs.n == 0 && cfg.ndata == 1);
	CHECK(cfg.data[0].ncols > 0 && cfg.data[0].nrows > 0 && cfg.data[0].cells);
	for (i = 0; i < cfg.data[0].ncols; i++)
		CHECK(cfg.data[0].names[i][0]);
	buf_init(&b, 256, (size_t)1 << 30);
	write_back(&cfg.data[0], &b);
	write_file(csv_path, b.data, b.len);
	buf_free(&b);
	CHECK(load(&cfg2, &errs2) == 0);
	CHECK(same(&cfg.data[0], &cfg2.data[0]));
	plan_errors_free(&errs2);
	run_config_free(&cfg2);
out:
	plan_errors_free(&errs);
	run_config_free(&cfg);
	return 0;
}
