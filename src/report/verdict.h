/* The comparison at the end of a multi-module run: module x strategy
 * figures, and per module how hybrid and parallel compare with its own
 * sequential baseline, which latency phase carries the growth, and what
 * that points to. Every word is computed from the merged measurements. */
#ifndef STRAIN_REPORT_VERDICT_H
#define STRAIN_REPORT_VERDICT_H

#include <jansson.h>
#include <stdio.h>

#include "report/result.h"

/* Prints the comparison and the verdict (nothing for single-strategy,
 * single-module runs). */
void verdict_print(FILE *f, const run_result *res);
/* The same as JSON ({"strategies": {...}, "verdict": [...]}), or NULL when
 * there is nothing to compare. Caller owns the reference. */
json_t *verdict_json(const run_result *res);

#endif
